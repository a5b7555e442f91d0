//! `aitbc-sim`: runs the seeded whole-network simulator (`aitbc_node::sim`) over many seeds and
//! prints what it simulated, the faults it injected and any invariant broken, with the command
//! that replays it. Exits non-zero on a violation.

use aitbc_node::sim::batch::run_seeds;
use aitbc_node::sim::faults::Faults;
use aitbc_node::sim::{run, SimConfig};
use clap::Parser;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "aitbc-sim",
    about = "Seeded whole-network simulation of aitbc-node"
)]
struct Args {
    /// How many seeds to run (from --first-seed).
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    first_seed: u64,
    /// Run only this seed, and print its trace hash (replays a failure).
    #[arg(long, conflicts_with_all = ["seeds", "first_seed"])]
    seed: Option<u64>,
    /// Authorities (at least 4 for a Byzantine one).
    #[arg(long, default_value_t = 4)]
    nodes: usize,
    /// Slots per run, the fault-free end included.
    #[arg(long, default_value_t = 80)]
    slots: u64,
    /// Faults to inject: all, none, or a comma-separated list of delay, reorder, drop, dup,
    /// partition, crash, skew, byzantine, authorities.
    #[arg(long, default_value = "all")]
    faults: Faults,
    /// Blocks per staking epoch (each boundary re-elects the set and its schedule).
    #[arg(long, default_value_t = 20)]
    epoch_length: u64,
    /// Threads running seeds side by side (each run is single-threaded).
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Run each seed twice and fail if the two trace hashes differ.
    #[arg(long)]
    check_determinism: bool,
    /// Log filter for the nodes (e.g. `finality=debug`); off by default.
    #[arg(long)]
    log: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(filter) = &args.log {
        let _ = tracing_subscriber::fmt()
            // `sim`: the span naming each node.
            .with_env_filter(tracing_subscriber::EnvFilter::new(format!(
                "sim=info,{filter}"
            )))
            .try_init();
    }
    let template = SimConfig {
        seed: args.seed.unwrap_or(args.first_seed),
        nodes: args.nodes,
        slots: args.slots,
        faults: args.faults.clone(),
        epoch_length: args.epoch_length,
    };
    if args.seed.is_some() {
        return match run(&template) {
            Ok(report) => {
                println!(
                    "seed {}: {} slots, finalized #{}, faults {:?}, trace {}",
                    template.seed, report.slots, report.finalized, report.injected, report.trace
                );
                match report.violation {
                    None => ExitCode::SUCCESS,
                    Some(v) => {
                        println!("violation: {v}");
                        ExitCode::FAILURE
                    }
                }
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let summary = run_seeds(&template, args.first_seed, args.seeds, args.jobs);
    println!("{summary}");
    let mut failed = !summary.failures.is_empty();
    if args.check_determinism {
        let again = run_seeds(&template, args.first_seed, args.seeds, args.jobs);
        let differ: Vec<u64> = summary
            .traces
            .iter()
            .zip(&again.traces)
            .filter(|(a, b)| a != b)
            .map(|(a, _)| a.0)
            .collect();
        if differ.is_empty() && summary.traces.len() == again.traces.len() {
            println!(
                "determinism: {} seeds, each gave the same trace hash twice",
                summary.seeds
            );
        } else {
            println!("determinism: trace hashes differ for seeds {differ:?}");
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
