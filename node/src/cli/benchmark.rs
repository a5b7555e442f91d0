//! `aitbc-node benchmark runtime`: measures what each call costs a node to import, in its worst
//! case, and writes the runtime's weights file (`runtime/src/weights.rs`, see
//! `aitbc_runtime::weight`).
//!
//! Method (Substrate's frame-benchmarking idea, on the node's real import path): a chain is
//! prepared whose genesis funds `--accounts` filler accounts besides the senders. Two clients,
//! each on its own redb file, start from it: an author and an importer. For each call kind and
//! each of `--steps` block sizes `n` (evenly spaced up to `--max-txs`), `--repeat` times, the
//! author builds and seals a block of `n` such calls and the importer imports it through
//! [`Client::import_block`]: signature check, execution, state root, durable commit. Only that
//! import is timed. Per block size the median of the repeats is kept; over the block sizes a
//! least-squares line `time = base + n * per_call` is fitted. `per_call` is the call's weight and
//! the largest `base` is the block's fixed cost.
//!
//! Worst cases: a transfer to an account that does not exist yet; a claim with its miner
//! signature and attestation beside the transaction's signature; an escrow open; the refund of an
//! expired escrow; `sudo(params.set)`. Setup blocks (the escrows a claim or refund needs) are
//! imported untimed. The chain's slot is an hour, so the weight limit being measured never binds.
//!
//! Not part of an import, so not measured: deleting the tree nodes a block made stale, which
//! the node's pruner does after finality, many blocks at a time, off the import path
//! ([`crate::pruner`]). It runs untimed after each block here, so every import meets a pruned
//! tree as in a running node.

use crate::cli::args::BenchmarkRuntimeArgs;
use crate::service::open_client;
use aitbc_chain_spec::{ChainSpec, Endowment};
use aitbc_client::Client;
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{AccountId, ComputeReceipt, Extrinsic, Hash, Pair, ReceiptClaim};
use aitbc_runtime::{Call, Param, Runtime};
use aitbc_txpool::PoolLimits;
use anyhow::{anyhow, bail, Context};
use codec::Encode;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// The calls measured, in the order of the weights file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Transfer,
    OpenJob,
    Claim,
    Refund,
    ParamSet,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Transfer,
        Kind::OpenJob,
        Kind::Claim,
        Kind::Refund,
        Kind::ParamSet,
    ];

    fn constant(self) -> &'static str {
        match self {
            Kind::Transfer => "TRANSFER",
            Kind::OpenJob => "OPEN_JOB",
            Kind::Claim => "CLAIM",
            Kind::Refund => "REFUND",
            Kind::ParamSet => "PARAM_SET",
        }
    }

    fn doc(self) -> &'static str {
        match self {
            Kind::Transfer => "`balances.transfer` to an account that does not exist yet",
            Kind::OpenJob => "`receipts.open_job`",
            Kind::Claim => "`receipts.claim` (transaction, miner and coordinator signatures)",
            Kind::Refund => "`receipts.refund` of an expired escrow",
            Kind::ParamSet => "`sudo(params.set)`",
        }
    }
}

/// One fitted line: `time = base + n * per_call`, in nanoseconds.
#[derive(Debug, Clone, Copy)]
struct Fit {
    base: f64,
    per_call: f64,
}

/// Least squares over `(n, nanos)` points; `None` with fewer than two distinct `n`.
fn fit(points: &[(f64, f64)]) -> Option<Fit> {
    let len = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / len;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / len;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let per_call = sxy / sxx;
    Some(Fit {
        base: (mean_y - per_call * mean_x).max(0.0),
        per_call,
    })
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// The benchmark chain: an author and an importer on one genesis, and the senders' keys.
struct Bench {
    author: Client<Runtime>,
    importer: Client<Runtime>,
    genesis: Hash,
    alice: Pair,
    coordinator: Pair,
    senders: Vec<Pair>,
    nonces: Vec<u64>,
    alice_nonce: u64,
    next_slot: u64,
    /// A counter that makes fresh recipients and job ids.
    fresh: u64,
    _dir: tempfile::TempDir,
}

/// An hour: the weight limit never binds while measuring.
const SLOT_MS: u64 = 3_600_000;
/// Every sender's balance.
const ENDOWMENT: u128 = 1_000_000_000_000_000;
const PRICE: u128 = 1_000;

impl Bench {
    fn new(config: &BenchmarkRuntimeArgs) -> anyhow::Result<Bench> {
        let senders: Vec<Pair> = (0..config.max_txs)
            .map(|i| Pair::from_uri(&format!("//benchmark//{i}")))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow!("sender key: {e}"))?;
        let mut spec = ChainSpec::dev();
        spec.id = "benchmark".into();
        spec.genesis.slot_duration_ms = SLOT_MS;
        spec.genesis.params.max_block_txs =
            u32::try_from(config.max_txs).context("--max-txs")?.max(1);
        spec.genesis.params.max_block_bytes = aitbc_runtime::params::MAX_BLOCK_BYTES;
        spec.genesis.params.min_job_lifetime = 1;
        spec.genesis.balances.extend(
            senders
                .iter()
                .map(|p| Endowment(p.public().to_string(), ENDOWMENT)),
        );
        spec.genesis.balances.extend((0..config.accounts).map(|i| {
            let filler = AccountId(Hash::of(&(i as u64).encode()).0);
            Endowment(filler.to_string(), ENDOWMENT)
        }));
        let genesis = spec.genesis()?.hash;
        let dir = tempfile::tempdir()?;
        let limits = PoolLimits {
            max_txs: config.max_txs.saturating_mul(2).max(1024),
            max_bytes: 256 * 1024 * 1024,
            max_per_sender: config.max_txs.max(64),
            ..PoolLimits::default()
        };
        let author = open_client(&spec, &dir.path().join("author.redb"), limits)?;
        let importer = open_client(&spec, &dir.path().join("importer.redb"), limits)?;
        let now_slot = author.clock().now_ms() / SLOT_MS;
        Ok(Bench {
            author,
            importer,
            genesis,
            alice: dev_pair("alice"),
            coordinator: dev_pair("coordinator"),
            nonces: vec![0; senders.len()],
            senders,
            alice_nonce: 0,
            // Past slots, far enough back for every block of the run.
            next_slot: now_slot.saturating_sub(100_000),
            fresh: 0,
            _dir: dir,
        })
    }

    fn sign(&mut self, sender: usize, call: Call) -> Extrinsic<Call> {
        let nonce = self.nonces[sender];
        self.nonces[sender] += 1;
        let params = TxParams {
            nonce,
            ..TxParams::default()
        };
        Extrinsic::sign(&self.senders[sender], call, params, self.genesis)
    }

    fn sign_root(&mut self, call: Call) -> Extrinsic<Call> {
        let params = TxParams {
            nonce: self.alice_nonce,
            ..TxParams::default()
        };
        self.alice_nonce += 1;
        Extrinsic::sign(&self.alice, Call::sudo(call), params, self.genesis)
    }

    fn fresh(&mut self) -> u64 {
        self.fresh += 1;
        self.fresh
    }

    /// Authors a block of exactly `xts` and imports it into the importer; returns the import
    /// time.
    fn block(&mut self, xts: Vec<Extrinsic<Call>>) -> anyhow::Result<Duration> {
        let count = xts.len();
        for xt in xts {
            let len = xt.encoded_size();
            self.author
                .submit_decoded(xt, len)
                .map_err(|e| anyhow!("benchmark transaction refused: {e}"))?;
        }
        let slot = self.next_slot;
        self.next_slot += 1;
        let far = Instant::now() + Duration::from_secs(3600);
        let (_, signed) = self
            .author
            .author_block(slot, far, &self.alice, |_| Ok(()))?
            .ok_or_else(|| anyhow!("slot {slot} was not authored"))?;
        if signed.block.extrinsics.len() != count {
            bail!(
                "a benchmark block holds {} of its {count} transactions",
                signed.block.extrinsics.len()
            );
        }
        let started = Instant::now();
        self.importer.import_block(&signed, None)?;
        let took = started.elapsed();
        // As the node's pruner would (the chain is final at once), so that each import meets a
        // pruned tree, as in a running node.
        for client in [&self.author, &self.importer] {
            client.prune_history(aitbc_storage::Pruning::Keep(0), 0, usize::MAX)?;
        }
        Ok(took)
    }

    /// Escrows opened by senders `0..n`, each for a fresh job id; returns the job ids.
    fn open_jobs(&mut self, n: usize, lifetime: u64) -> Vec<Extrinsic<Call>> {
        let coordinator = self.coordinator.public();
        (0..n)
            .map(|i| {
                let job = self.fresh();
                self.sign(i, Call::open_job(job, coordinator, PRICE, lifetime))
            })
            .collect()
    }

    fn job_of(xt: &Extrinsic<Call>) -> u64 {
        match &xt.call {
            Call::Receipts(aitbc_runtime::receipts::Call::OpenJob { job_id, .. }) => *job_id,
            _ => 0,
        }
    }

    /// One timed block of `n` calls of `kind` (after its untimed setup blocks).
    fn measure(&mut self, kind: Kind, n: usize) -> anyhow::Result<Duration> {
        let xts = match kind {
            Kind::Transfer => (0..n)
                .map(|i| {
                    let to = AccountId(Hash::of(&self.fresh().encode()).0);
                    self.sign(i, Call::transfer(to, 1_000))
                })
                .collect(),
            Kind::OpenJob => self.open_jobs(n, 1_000),
            Kind::Claim => {
                let opens = self.open_jobs(n, 1_000);
                let jobs: Vec<u64> = opens.iter().map(Self::job_of).collect();
                self.block(opens)?;
                (0..n)
                    .map(|i| {
                        // Sender i+1 mines sender i's job (a miner is never the client).
                        let miner = (i + 1) % self.senders.len();
                        let receipt = ComputeReceipt {
                            job_id: jobs[i],
                            client: self.senders[i].public(),
                            miner: self.senders[miner].public(),
                            coordinator: self.coordinator.public(),
                            compute_units: 5,
                            price: PRICE / 2,
                            output_hash: Hash::of(&jobs[i].encode()),
                        };
                        let claim = ReceiptClaim {
                            miner_sig: receipt.sign_as_miner(&self.senders[miner], &self.genesis),
                            attestation: receipt.attest(&self.coordinator, &self.genesis),
                            receipt,
                        };
                        self.sign(miner, Call::claim(claim))
                    })
                    .collect()
            }
            Kind::Refund => {
                let opens = self.open_jobs(n, 1);
                let jobs: Vec<u64> = opens.iter().map(Self::job_of).collect();
                self.block(opens)?;
                // One more block so the escrows expire.
                self.block(Vec::new())?;
                (0..n)
                    .map(|i| self.sign(i, Call::refund(jobs[i])))
                    .collect()
            }
            Kind::ParamSet => (0..n)
                .map(|i| {
                    let value = 1_000 + (self.fresh() + i as u64) % 1_000;
                    self.sign_root(Call::set_param(Param::MintPerUnit(u128::from(value))))
                })
                .collect(),
        };
        self.block(xts)
    }
}

/// One call kind's results.
struct Measured {
    kind: Kind,
    /// `(n, median import time)` per block size.
    points: Vec<(usize, Duration)>,
    fit: Fit,
}

/// Runs the benchmark and writes (or prints) the weights file.
pub fn run(config: &BenchmarkRuntimeArgs) -> anyhow::Result<()> {
    if config.steps < 2 || config.repeat < 1 || config.max_txs < config.steps {
        bail!("need --steps >= 2, --repeat >= 1 and --max-txs >= --steps");
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build measures nothing useful; use --release");
    }
    eprintln!(
        "preparing: {} senders, {} filler accounts",
        config.max_txs, config.accounts
    );
    let mut bench = Bench::new(config)?;
    let sizes: Vec<usize> = (1..=config.steps)
        .map(|s| config.max_txs * s / config.steps)
        .collect();
    let mut results = Vec::new();
    println!(
        "{:<10} {:>8} {:>14} {:>12}",
        "call", "n", "import (ms)", "µs per call"
    );
    for kind in Kind::ALL {
        let mut points = Vec::new();
        for &n in &sizes {
            let times = (0..config.repeat)
                .map(|_| bench.measure(kind, n))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let t = median(times);
            println!(
                "{:<10} {n:>8} {:>14.1} {:>12.1}",
                kind.constant(),
                t.as_secs_f64() * 1e3,
                t.as_secs_f64() * 1e6 / n as f64
            );
            points.push((n, t));
        }
        let xy: Vec<(f64, f64)> = points
            .iter()
            .map(|&(n, t)| (n as f64, t.as_nanos() as f64))
            .collect();
        let fit = fit(&xy).ok_or_else(|| anyhow!("not enough distinct block sizes"))?;
        println!(
            "{:<10} fit: {:.1} µs per call + {:.1} ms per block",
            kind.constant(),
            fit.per_call / 1e3,
            fit.base / 1e6
        );
        results.push(Measured { kind, points, fit });
    }
    let file = weights_file(config, &results);
    match &config.output {
        Some(path) => {
            write_atomically(path, &file)?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{file}"),
    }
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The 1-minute load average (other work on the machine inflates the figures).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// The generated Rust source of `runtime/src/weights.rs`.
fn weights_file(config: &BenchmarkRuntimeArgs, results: &[Measured]) -> String {
    let base = results.iter().map(|m| m.fit.base).fold(0.0, f64::max);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "//! Measured call weights (see [`crate::weight`]): nanoseconds of import on one core.\n\
         //!\n\
         //! Generated by `aitbc-node benchmark runtime --steps {} --repeat {} --max-txs {} \
         --accounts {}`\n\
         //! on {} ({} threads, load average {} at the end). Do not edit by hand; regenerate with\n\
         //! `cargo run --release -p aitbc-node -- benchmark runtime --output runtime/src/weights.rs`.\n\
         //!\n\
         //! Median import time per block size:",
        config.steps,
        config.repeat,
        config.max_txs,
        config.accounts,
        cpu_model(),
        std::thread::available_parallelism().map_or(1, |p| p.get()),
        load_average(),
    );
    for m in results {
        let cells: Vec<String> = m
            .points
            .iter()
            .map(|(n, t)| format!("{n}: {:.1} ms", t.as_secs_f64() * 1e3))
            .collect();
        let _ = writeln!(out, "//! - {}: {}", m.kind.constant(), cells.join(", "));
    }
    let _ = writeln!(out, "\nuse crate::weight::Weight;\n");
    let _ = writeln!(
        out,
        "/// Fixed import cost of a block (the largest fitted intercept).\npub const BLOCK_BASE: Weight = {};",
        group(base.ceil() as u64)
    );
    for m in results {
        let _ = writeln!(
            out,
            "/// {}.\npub const {}: Weight = {};",
            m.kind.doc(),
            m.kind.constant(),
            group(m.fit.per_call.max(1.0).ceil() as u64)
        );
    }
    out
}

/// `1234567` as `1_234_567`.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

fn write_atomically(path: &Path, contents: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("rs.tmp");
    std::fs::write(&tmp, contents).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_a_line() {
        let points: Vec<(f64, f64)> = [100.0, 200.0, 400.0]
            .iter()
            .map(|&n| (n, 5_000.0 + 42.0 * n))
            .collect();
        let f = fit(&points).expect("fit");
        assert!((f.per_call - 42.0).abs() < 1e-9);
        assert!((f.base - 5_000.0).abs() < 1e-6);
        assert!(fit(&[(1.0, 1.0), (1.0, 2.0)]).is_none());
    }

    #[test]
    fn group_digits() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1_000), "1_000");
        assert_eq!(group(45_123_456), "45_123_456");
    }

    /// A tiny run through the real import path writes a weights file the runtime could use.
    #[test]
    fn a_small_run_writes_every_weight() {
        let dir = tempfile::tempdir().expect("tempdir");
        let output = dir.path().join("weights.rs");
        let config = BenchmarkRuntimeArgs {
            steps: 2,
            repeat: 1,
            max_txs: 8,
            accounts: 10,
            output: Some(output.clone()),
        };
        run(&config).expect("benchmark");
        let file = std::fs::read_to_string(&output).expect("written");
        for name in [
            "BLOCK_BASE",
            "TRANSFER",
            "OPEN_JOB",
            "CLAIM",
            "REFUND",
            "PARAM_SET",
        ] {
            assert!(
                file.contains(&format!("pub const {name}: Weight = ")),
                "{name} missing:\n{file}"
            );
        }
    }
}
