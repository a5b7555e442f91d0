//! Virtual time: a node's [`Clock`] in the simulator. The simulator's runtime runs tokio's timer
//! paused (time jumps to the next timer whenever every task waits), so the workers' sleeps and
//! intervals are virtual; this clock reads the same time, from a fixed origin, plus the node's
//! skew.

use aitbc_consensus::Clock;
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::time::Instant;

/// The wall-clock time (ms since the unix epoch) at which every simulation starts.
pub const ORIGIN_MS: u64 = 1_800_000_000_000;

/// A node's clock: the virtual time since the simulation started, from [`ORIGIN_MS`], plus a
/// skew the fault schedule sets.
#[derive(Debug)]
pub struct SimClock {
    start: Instant,
    skew_ms: AtomicI64,
}

impl SimClock {
    /// A clock reading [`ORIGIN_MS`] at `start` (the simulation's start, in tokio time).
    pub fn new(start: Instant) -> Self {
        SimClock {
            start,
            skew_ms: AtomicI64::new(0),
        }
    }

    /// Runs this clock `skew_ms` ahead (behind, if negative) of the virtual time.
    pub fn set_skew(&self, skew_ms: i64) {
        self.skew_ms.store(skew_ms, Ordering::Relaxed);
    }

    pub fn skew(&self) -> i64 {
        self.skew_ms.load(Ordering::Relaxed)
    }
}

impl Clock for SimClock {
    fn now_ms(&self) -> u64 {
        let elapsed = Instant::now().duration_since(self.start).as_millis() as u64;
        (ORIGIN_MS + elapsed).saturating_add_signed(self.skew())
    }
}
