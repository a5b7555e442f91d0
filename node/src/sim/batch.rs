//! Many seeds: runs them on a few threads (each run is single-threaded and alone on its
//! runtime, so threads change nothing in a run) and sums up what they did and found.

use super::faults::{Fault, Injected};
use super::{run, Report, SimConfig};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a batch of runs did.
#[derive(Debug, Default)]
pub struct Summary {
    pub seeds: u64,
    pub slots: u64,
    pub injected: Injected,
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub delayed: u64,
    pub byzantine_reports: u64,
    pub transactions: u64,
    pub finalized: u64,
    /// The most slots any run took to finalize again after its faults stopped.
    pub slowest_recovery: u64,
    /// Runs that broke an invariant (or could not run): the config and what broke.
    pub failures: Vec<(SimConfig, String)>,
    /// Each seed's trace hash, in seed order.
    pub traces: Vec<(u64, aitbc_primitives::Hash)>,
    pub wall: Duration,
}

impl Summary {
    fn add(&mut self, report: &Report) {
        self.seeds += 1;
        self.slots += report.slots;
        for (fault, n) in &report.injected {
            *self.injected.entry(*fault).or_default() += n;
        }
        self.delivered += report.network.delivered;
        self.lost += report.network.lost;
        self.duplicated += report.network.duplicated;
        self.delayed += report.network.delayed;
        self.byzantine_reports += report.byzantine_reports;
        self.transactions += report.transactions;
        self.finalized += report.finalized;
        if let Some(slots) = report.recovered_after {
            self.slowest_recovery = self.slowest_recovery.max(slots);
        }
        self.traces.push((report.config.seed, report.trace));
        if let Some(v) = &report.violation {
            self.failures.push((report.config.clone(), v.clone()));
        }
    }
}

/// Runs `seeds` seeds from `first` with the rest of `template`, on `jobs` threads.
pub fn run_seeds(template: &SimConfig, first: u64, seeds: u64, jobs: usize) -> Summary {
    let started = Instant::now();
    let next = AtomicU64::new(first);
    let end = first.saturating_add(seeds);
    let summary = Mutex::new(Summary::default());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= end {
                    return;
                }
                let config = SimConfig {
                    seed,
                    ..template.clone()
                };
                let outcome = run(&config);
                let mut summary = summary.lock().unwrap_or_else(|p| p.into_inner());
                match outcome {
                    Ok(report) => summary.add(&report),
                    Err(e) => summary.failures.push((config, format!("{e:#}"))),
                }
            });
        }
    });
    let mut summary = summary.into_inner().unwrap_or_else(|p| p.into_inner());
    summary.traces.sort();
    summary.failures.sort_by_key(|(c, _)| c.seed);
    summary.wall = started.elapsed();
    summary
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.wall.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "seeds run: {}  slots simulated: {}  in {:.1} s ({:.0} slots/s, {:.0} seeds/min)",
            self.seeds,
            self.slots,
            secs,
            self.slots as f64 / secs,
            self.seeds as f64 * 60.0 / secs
        )?;
        let kinds: Vec<String> = Fault::ALL
            .iter()
            .filter_map(|k| self.injected.get(k).map(|n| format!("{k} {n}")))
            .collect();
        writeln!(
            f,
            "faults injected: {}",
            if kinds.is_empty() {
                "none".into()
            } else {
                kinds.join(", ")
            }
        )?;
        writeln!(
            f,
            "network: {} deliveries, {} lost, {} duplicated, {} delayed; {} reports against the \
             Byzantine key",
            self.delivered, self.lost, self.duplicated, self.delayed, self.byzantine_reports
        )?;
        writeln!(
            f,
            "transactions submitted: {}  blocks finalized (sum over seeds): {}",
            self.transactions, self.finalized
        )?;
        writeln!(
            f,
            "liveness: after the faults stopped, every honest node finalized within {} slots \
             (bound {})",
            self.slowest_recovery,
            super::LIVENESS_SLOTS
        )?;
        if self.failures.is_empty() {
            write!(f, "violations: none")
        } else {
            writeln!(f, "violations: {}", self.failures.len())?;
            for (config, what) in &self.failures {
                writeln!(f, "  seed {}: {what}", config.seed)?;
                writeln!(f, "    replay: {}", config.replay_command())?;
            }
            Ok(())
        }
    }
}
