//! The seeded whole-network simulator: N full AITBC nodes in one process, on one thread, in
//! virtual time, with faults drawn from one seed; invariants checked after every step; any
//! failure replayed exactly from its seed.
//!
//! # What runs
//! Each node is the real thing from its database up: the client (import, fork choice,
//! finality), the pool, and the authoring, voting, sync and pruning workers the service runs
//! ([`crate::service::Parts`]), over the in-memory network ([`aitbc_network::memory`]) through
//! the same `Network` seam libp2p implements, with both databases on redb over the power-cut
//! test disk ([`node`]). The chain is AITBC's runtime with `--nodes` authorities, 1 s slots and
//! a few users sending transfers ([`workload`]).
//!
//! # Determinism
//! - One thread: a current-thread tokio runtime. Blocking work (imports, block building,
//!   finalization) runs inline there (`workers::blocking`), and the workers' `select!`s are
//!   `biased`, so the order of events depends on nothing but the seed. (A sync batch import
//!   checks signatures on a scoped helper thread; it joins the results in block order, so the
//!   order of events does not depend on it.)
//! - Virtual time: the runtime's timer is paused; whenever every task waits, time jumps to the
//!   next timer. The nodes' clocks ([`clock::SimClock`]) read that time plus their skew.
//! - One seed: the fault schedule and the workload draw from a generator seeded with it; the
//!   network's peer ids and delivery draws from one seeded with it too (and the liar's from the
//!   seed, its node and the step it started at).
//! - Signatures are deterministic (`Pair::sign`): transactions are in blocks, so a random nonce
//!   would change every extrinsics root and block hash. What stays random does not steer a run:
//!   batch-verification weights change no verdict, and the builder's time budget is real time,
//!   far above what a small block needs.
//!
//! The trace hash covers every node's best and finalized block after every step and every fault
//! injected: one seed gives one trace hash, on every run and every machine.
//!
//! # A run
//! [`STEP_MS`] steps of virtual time. From slot [`WARMUP_SLOTS`] until [`LIVENESS_SLOTS`] before
//! the end, faults of the enabled kinds ([`faults::Fault`]) are drawn at each step. Then they
//! stop: partitions heal, crashed nodes restart, the network is perfect again, clocks are
//! right, the Byzantine key stops withholding (its lies and bad votes go on). Liveness: within
//! [`LIVENESS_SLOTS`] slots every honest node must have finalized the highest block any honest
//! node had when the faults stopped. At the end every node's database passes `check-db`.

pub mod batch;
pub mod byzantine;
pub mod clock;
pub mod faults;
pub mod invariants;
pub mod node;
#[cfg(test)]
mod scenarios;
#[cfg(test)]
mod tests;
pub mod workload;
mod world;

use aitbc_network::memory::Stats;
use aitbc_primitives::Hash;
use faults::{Faults, Injected};
use world::World;

/// Virtual time between two steps (fault draws, workload, invariant checks, trace).
pub const STEP_MS: u64 = 250;
/// The simulated chain's slot duration.
pub const SLOT_MS: u64 = 1000;
/// Slots without faults at the start of a run.
pub const WARMUP_SLOTS: u64 = 3;
/// The liveness bound: after the faults stop, every honest node finalizes the highest honest
/// best block of that moment within this many slots.
pub const LIVENESS_SLOTS: u64 = 30;
/// How far a skewed clock may be off: less than the two slots ahead that import accepts.
pub const MAX_SKEW_MS: i64 = 1_500;

/// Steps in a slot.
pub const STEPS_PER_SLOT: u64 = SLOT_MS / STEP_MS;

/// One simulation run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    pub seed: u64,
    /// Authorities (each a node; the Byzantine key runs on two).
    pub nodes: usize,
    /// Slots in the run, the fault-free end included.
    pub slots: u64,
    pub faults: Faults,
    /// Blocks per staking epoch: every boundary elects the set again (an authority-set change
    /// for finality) with a new author schedule.
    pub epoch_length: u64,
}

impl SimConfig {
    /// The command that replays this run.
    pub fn replay_command(&self) -> String {
        format!(
            "scripts/sim.sh --seed {} --nodes {} --slots {} --faults {} --epoch-length {}",
            self.seed, self.nodes, self.slots, self.faults, self.epoch_length
        )
    }
}

/// What a run did and found.
#[derive(Debug, Clone)]
pub struct Report {
    pub config: SimConfig,
    pub slots: u64,
    pub injected: Injected,
    pub network: Stats,
    /// Reports honest nodes made against the Byzantine key's nodes.
    pub byzantine_reports: u64,
    pub transactions: u64,
    /// The highest block finalized on any honest node.
    pub finalized: u64,
    /// Slots from the end of the faults until every honest node had finalized the highest
    /// honest best block of that moment (at most [`LIVENESS_SLOTS`], or a violation).
    pub recovered_after: Option<u64>,
    pub trace: Hash,
    /// The first invariant broken, if any.
    pub violation: Option<String>,
}

/// Runs one simulation on a fresh single-threaded runtime with paused time.
pub fn run(config: &SimConfig) -> anyhow::Result<Report> {
    anyhow::ensure!(config.nodes >= 1, "a simulation needs at least one node");
    anyhow::ensure!(
        config.slots > WARMUP_SLOTS + LIVENESS_SLOTS,
        "a run needs more than {} slots",
        WARMUP_SLOTS + LIVENESS_SLOTS
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()?;
    runtime.block_on(async {
        let mut world = World::new(config)?;
        let violation = world.run().await.err();
        world.finish(violation).await
    })
}
