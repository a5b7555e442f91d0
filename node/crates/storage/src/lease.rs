//! Leases on the states peers are downloading: a warp sync reads one finalized state in many
//! chunks, and must not lose it to the pruner half-way because the chain moved on (on a slow
//! machine or a big state, the download outlasts the state window; without a lease the peer
//! would start over on a newer target, and again, forever).
//!
//! - Serving a chunk of block `n`'s state holds `n` ([`ChainDb::hold_state`]); every chunk renews
//!   the lease. While it holds, `n` and the states above it stay readable and unpruned.
//! - A lease lapses [`LEASE_IDLE`] after its last chunk, and [`LEASE_MAX`] after it was taken
//!   whatever the traffic: a peer cannot hold pruning back for longer than that.
//! - At most [`MAX_LEASES`] blocks are held; a new lease evicts the least recently renewed.
//! - A lease never brings a state back: only a state still readable is served, hence held.
//! - Leases live in memory: after a restart the downloading peer finds its target pruned (once
//!   the window passes it) and chooses a newer one.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::*;

/// A lease lapses this long after its last chunk.
pub const LEASE_IDLE: Duration = Duration::from_secs(60);
/// A lease lapses this long after it was taken, however often it is renewed.
pub const LEASE_MAX: Duration = Duration::from_secs(30 * 60);
/// Blocks held at once.
pub const MAX_LEASES: usize = 8;

#[derive(Debug, Clone, Copy)]
struct Lease {
    taken: Instant,
    renewed: Instant,
}

impl Lease {
    fn live(&self, now: Instant) -> bool {
        now.duration_since(self.renewed) < LEASE_IDLE && now.duration_since(self.taken) < LEASE_MAX
    }
}

/// The leases a node grants (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Leases(BTreeMap<BlockNumber, Lease>);

impl Leases {
    /// Takes or renews the lease on `number`.
    pub(crate) fn hold(&mut self, number: BlockNumber, now: Instant) {
        self.0.retain(|_, lease| lease.live(now));
        if let Some(lease) = self.0.get_mut(&number) {
            lease.renewed = now;
            return;
        }
        if self.0.len() >= MAX_LEASES {
            let stalest = self
                .0
                .iter()
                .min_by_key(|(_, lease)| lease.renewed)
                .map(|(n, _)| *n);
            if let Some(n) = stalest {
                self.0.remove(&n);
            }
        }
        self.0.insert(
            number,
            Lease {
                taken: now,
                renewed: now,
            },
        );
    }

    /// The lowest block a live lease holds.
    pub(crate) fn floor(&mut self, now: Instant) -> Option<BlockNumber> {
        self.0.retain(|_, lease| lease.live(now));
        self.0.keys().next().copied()
    }
}

impl ChainDb {
    /// Holds the state of `number` for a peer downloading it (see the module docs): called by
    /// whoever serves a chunk of it.
    pub fn hold_state(&self, number: BlockNumber) {
        self.leases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .hold(number, Instant::now());
    }

    /// The lowest state the window of `pruning` keeps, below a finalized block `finalized`, with
    /// the leases.
    pub(crate) fn window_floor(&self, pruning: Pruning, finalized: BlockNumber) -> BlockNumber {
        let Pruning::Keep(keep) = pruning else {
            return 0;
        };
        let window = finalized.saturating_sub(keep);
        let leased = self
            .leases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .floor(Instant::now());
        leased.map_or(window, |n| window.min(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_holds_while_renewed_and_lapses_when_idle_or_old() {
        let t0 = Instant::now();
        let mut leases = Leases::default();
        leases.hold(10, t0);
        assert_eq!(leases.floor(t0 + LEASE_IDLE / 2), Some(10));
        // Renewed just before it would lapse, it holds on.
        leases.hold(10, t0 + LEASE_IDLE / 2);
        assert_eq!(leases.floor(t0 + LEASE_IDLE), Some(10));
        // Idle too long: gone.
        assert_eq!(leases.floor(t0 + LEASE_IDLE / 2 + LEASE_IDLE), None);

        // Renewed all the time, it still lapses LEASE_MAX after it was taken.
        let mut at = t0;
        leases.hold(20, at);
        while at + LEASE_IDLE / 2 < t0 + LEASE_MAX {
            at += LEASE_IDLE / 2;
            leases.hold(20, at);
            assert_eq!(leases.floor(at), Some(20));
        }
        assert!(
            t0 + LEASE_MAX - at < LEASE_IDLE,
            "renewed within LEASE_IDLE"
        );
        assert_eq!(leases.floor(t0 + LEASE_MAX), None);
    }

    #[test]
    fn the_least_recently_renewed_lease_is_evicted_past_the_cap() {
        let t0 = Instant::now();
        let mut leases = Leases::default();
        for n in 0..MAX_LEASES as u64 {
            leases.hold(100 + n, t0 + Duration::from_secs(n));
        }
        // Block 100 renewed last: 101 is now the stalest.
        let later = t0 + Duration::from_secs(MAX_LEASES as u64);
        leases.hold(100, later);
        leases.hold(500, later);
        assert_eq!(leases.0.len(), MAX_LEASES);
        assert!(leases.0.contains_key(&100) && !leases.0.contains_key(&101));
        assert_eq!(leases.floor(later), Some(100));
    }
}
