//! Who authors which slot: a weighted authority set and its proposer cycle.
//!
//! ## Protocol
//! An [`AuthorSchedule`] is a list of authorities with a positive integer weight each (the
//! runtime's elected validators with their slots per cycle, or equal weights for a set root
//! chose). Its *cycle* is the sequence of `P = sum of weights` authors produced by CometBFT's
//! proposer-priority algorithm, ported exactly in integers ([`proposer_cycle`]):
//!
//! 1. every priority starts at 0;
//! 2. each step first rescales the priorities so that `max - min <= 2 P` (dividing each by
//!    `ceil(diff / 2P)`), then subtracts their average (floor division) from each;
//! 3. then adds every authority's weight to its priority, picks the highest priority (ties: the
//!    lower index, i.e. the earlier authority; CometBFT breaks ties by the lower address, and the
//!    runtime lists elected validators by address), and subtracts `P` from the pick.
//!
//! The author of slot `s` is `cycle[s % P]`. Starting from zero the priorities return to zero
//! after `P` steps, so the cycle is exactly CometBFT's infinite sequence cut into periods, and its
//! bound holds over any window of `P` consecutive slots: each authority authors within `n - 1` of
//! its weight (in fact exactly its weight: the window is a rotation of the cycle). Equal weights
//! give round robin in list order (`authorities[s % n]`), the rule before weights existed.
//!
//! The schedule is a pure function of `(authorities, weights)`: every node derives the same
//! cycle from the same header digest or state. [`AuthorSchedule::hash`] commits to the cycle
//! (`blake2_256(SCALE(authorities, cycle))`) and goes in the epoch-change digest.

use crate::crypto::AccountId;
use crate::hashing::{blake2_256, Hash};
use crate::types::Slot;
use codec::Encode;

/// CometBFT's `PriorityWindowSizeFactor`: priorities are kept within `2 P` of each other.
const PRIORITY_WINDOW_FACTOR: i128 = 2;

/// The first `P = sum(weights)` proposers of CometBFT's proposer-priority algorithm from zero
/// priorities, as indices into `weights` (see the module docs). Zero weights never propose; an
/// empty or all-zero list gives an empty cycle.
pub fn proposer_cycle(weights: &[u64]) -> Vec<usize> {
    let total: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if total == 0 {
        return Vec::new();
    }
    let n = i128::try_from(weights.len()).unwrap_or(i128::MAX);
    let mut priorities = vec![0i128; weights.len()];
    let steps = usize::try_from(total).unwrap_or(0);
    let mut cycle = Vec::with_capacity(steps);
    for _ in 0..steps {
        rescale(&mut priorities, PRIORITY_WINDOW_FACTOR * total);
        let avg = priorities.iter().sum::<i128>().div_euclid(n);
        for p in priorities.iter_mut() {
            *p -= avg;
        }
        for (p, w) in priorities.iter_mut().zip(weights) {
            *p += i128::from(*w);
        }
        let mut pick = 0;
        for (i, p) in priorities.iter().enumerate() {
            if *p > priorities[pick] {
                pick = i;
            }
        }
        priorities[pick] -= total;
        cycle.push(pick);
    }
    cycle
}

/// CometBFT's `RescalePriorities`: divides every priority by `ceil(diff / window)` when the
/// spread `diff = max - min` exceeds `window`.
fn rescale(priorities: &mut [i128], window: i128) {
    let (Some(max), Some(min)) = (priorities.iter().max(), priorities.iter().min()) else {
        return;
    };
    let diff = max - min;
    if diff > window {
        let ratio = (diff + window - 1) / window;
        for p in priorities.iter_mut() {
            *p /= ratio;
        }
    }
}

/// A weighted authority set and its proposer cycle (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorSchedule {
    authorities: Vec<AccountId>,
    weights: Vec<u32>,
    cycle: Vec<u16>,
}

impl AuthorSchedule {
    /// The schedule of `authorities` with `weights` (slots per cycle, one per authority). Empty
    /// weights, or a list of another length, mean equal weights: round robin.
    pub fn new(authorities: Vec<AccountId>, weights: Vec<u32>) -> AuthorSchedule {
        if weights.len() != authorities.len() || weights.is_empty() {
            return AuthorSchedule::equal(authorities);
        }
        let wide: Vec<u64> = weights.iter().map(|w| u64::from(*w)).collect();
        let cycle = proposer_cycle(&wide)
            .into_iter()
            .filter_map(|i| u16::try_from(i).ok())
            .collect();
        AuthorSchedule {
            authorities,
            weights,
            cycle,
        }
    }

    /// Round robin in list order: what equal weights give, without running the priorities.
    pub fn equal(authorities: Vec<AccountId>) -> AuthorSchedule {
        let cycle = (0..authorities.len())
            .filter_map(|i| u16::try_from(i).ok())
            .collect();
        AuthorSchedule {
            weights: vec![1; authorities.len()],
            authorities,
            cycle,
        }
    }

    /// The author of `slot` (`None` for an empty set).
    pub fn author(&self, slot: Slot) -> Option<&AccountId> {
        let len = u64::try_from(self.cycle.len()).ok().filter(|l| *l > 0)?;
        let at = usize::try_from(slot % len).ok()?;
        let index = usize::from(*self.cycle.get(at)?);
        self.authorities.get(index)
    }

    pub fn authorities(&self) -> &[AccountId] {
        &self.authorities
    }

    /// Slots per cycle of each authority, in list order.
    pub fn weights(&self) -> &[u32] {
        &self.weights
    }

    /// The cycle as indices into [`AuthorSchedule::authorities`]; slot `s` is at `s % len`.
    pub fn cycle(&self) -> &[u16] {
        &self.cycle
    }

    /// `blake2_256(SCALE(authorities, cycle))`.
    pub fn hash(&self) -> Hash {
        Hash(blake2_256(&(&self.authorities, &self.cycle).encode()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::dev_pair;

    fn set(n: usize) -> Vec<AccountId> {
        (0..n)
            .map(|i| dev_pair(&format!("v{i}")).public())
            .collect()
    }

    /// A small deterministic generator for the property tests (no dependency, no clock).
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn equal_weights_are_round_robin_and_match_the_priority_path() {
        for n in 1..=9 {
            let auth = set(n);
            let fast = AuthorSchedule::equal(auth.clone());
            let slow = AuthorSchedule::new(auth.clone(), vec![3; n]);
            for slot in 0..(3 * n as u64) * 2 {
                assert_eq!(fast.author(slot), Some(&auth[(slot % n as u64) as usize]));
            }
            // Weights 3 each: every authority three times per cycle of 3n, in list order.
            let ones = AuthorSchedule::new(auth.clone(), vec![1; n]);
            assert_eq!(ones.cycle(), fast.cycle());
            assert_eq!(ones.hash(), fast.hash());
            assert_eq!(slow.cycle().len(), 3 * n);
        }
        assert_eq!(AuthorSchedule::equal(Vec::new()).author(5), None);
    }

    #[test]
    fn a_cycle_holds_each_authority_exactly_its_weight() {
        let mut rng = 0x5eed_u64;
        for _ in 0..500 {
            let n = 1 + (next(&mut rng) % 12) as usize;
            let weights: Vec<u64> = (0..n).map(|_| 1 + next(&mut rng) % 40).collect();
            let cycle = proposer_cycle(&weights);
            let total: u64 = weights.iter().sum();
            assert_eq!(cycle.len() as u64, total);
            for (i, w) in weights.iter().enumerate() {
                let count = cycle.iter().filter(|c| **c == i).count() as u64;
                assert_eq!(count, *w, "weights {weights:?}");
            }
        }
    }

    #[test]
    fn zero_weights_never_author() {
        assert_eq!(proposer_cycle(&[0, 2, 0, 1]), vec![1, 3, 1]);
        assert!(proposer_cycle(&[0, 0]).is_empty());
        assert!(proposer_cycle(&[]).is_empty());
    }

    #[test]
    fn the_hash_commits_to_the_order() {
        let auth = set(3);
        let a = AuthorSchedule::new(auth.clone(), vec![5, 1, 1]);
        let b = AuthorSchedule::new(auth.clone(), vec![1, 1, 5]);
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.hash(), AuthorSchedule::new(auth, vec![5, 1, 1]).hash());
    }
}
