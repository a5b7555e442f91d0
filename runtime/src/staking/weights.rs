//! The compute-backed weighting: from each elected validator's bond and work score to its share
//! of the slots. Pure integer functions, so every node computes the same schedule.
//!
//! ## Formula (all shares in parts per million)
//! 1. `stake_i = min(bond_i / Σ bond, cap)` and `work_i = min(score_i / Σ score, cap)` (with no
//!    work anywhere, `work_i = stake_i`): a share is clipped before it counts, as Yuma consensus
//!    clips any one party's influence.
//! 2. `raw_i = floor + ((10^6 - mix) * stake_i + mix * work_i) / 10^6`: every elected validator
//!    gets the floor, so one without work (or with a small bond) still authors and can earn the
//!    work that would raise it.
//! 3. `weight = water_fill(raw, cap)`: normalized to 10^6, then any weight above `cap` is set to
//!    `cap` and the excess shared by the others in proportion, until none is above. With fewer
//!    than `10^6 / cap` validators the cap cannot hold and the weights are equal.
//! 4. `slots_i`: the weights as slots of a cycle of `12 n` ([`SLOTS_PER_VALIDATOR`]), by largest
//!    remainder, at least 1 each, and no more than `floor(cap * 12 n)` when that is feasible.
//!
//! Why: the clip and the water-fill bound what money alone (a large bond) or money paid in a
//! circle (a validator paying its own miners for receipts its coordinator attests) can buy: at
//! most `cap` of the slots, one third by default, so no single party can stall or steer the
//! chain by authorship. The floor keeps newcomers authoring. The mix sets how much verified
//! compute counts against stake (`work_stake_mix_ppm`, one half by default).

use aitbc_primitives::{AccountId, Balance};

/// Slots per cycle per elected validator: the cycle of `n` validators is `12 n` slots, so a
/// weight is resolved to 1/12 of an equal share.
pub const SLOTS_PER_VALIDATOR: u64 = 12;

const PPM: u128 = 1_000_000;

/// What the weighting reads of one validator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub who: AccountId,
    pub bond: Balance,
    pub work: u128,
}

/// The weighting parameters (from `Params`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightParams {
    pub floor_ppm: u32,
    pub mix_ppm: u32,
    pub cap_ppm: u32,
}

/// Each share of `values` in ppm, clipped at `cap`; `None` when they sum to zero.
fn clipped_shares(values: &[u128], cap: u128) -> Option<Vec<u128>> {
    let total: u128 = values.iter().fold(0u128, |a, v| a.saturating_add(*v));
    if total == 0 {
        return None;
    }
    Some(
        values
            .iter()
            .map(|v| (v.saturating_mul(PPM) / total).min(cap))
            .collect(),
    )
}

/// The weight of each validator in ppm, in the order given (see the module docs).
pub fn weights(standings: &[Standing], p: WeightParams) -> Vec<u32> {
    let n = standings.len();
    if n == 0 {
        return Vec::new();
    }
    let cap = u128::from(p.cap_ppm);
    let bonds: Vec<u128> = standings.iter().map(|s| s.bond).collect();
    let work: Vec<u128> = standings.iter().map(|s| s.work).collect();
    let equal = vec![PPM / n as u128; n];
    let stake = clipped_shares(&bonds, cap).unwrap_or_else(|| equal.clone());
    let work = clipped_shares(&work, cap).unwrap_or_else(|| stake.clone());
    let mix = u128::from(p.mix_ppm.min(1_000_000));
    let raw: Vec<u128> = stake
        .iter()
        .zip(&work)
        .map(|(s, w)| u128::from(p.floor_ppm) + ((PPM - mix) * s + mix * w) / PPM)
        .collect();
    water_fill(&raw, cap)
        .into_iter()
        .map(|w| u32::try_from(w).unwrap_or(u32::MAX))
        .collect()
}

/// Normalizes `raw` to 10^6 with no entry above `cap` (see the module docs).
fn water_fill(raw: &[u128], cap: u128) -> Vec<u128> {
    let n = raw.len() as u128;
    if n * cap < PPM {
        return vec![PPM / n; raw.len()];
    }
    let mut capped = vec![false; raw.len()];
    loop {
        let fixed = capped.iter().filter(|c| **c).count() as u128;
        let remaining = PPM - fixed * cap;
        let free: u128 = raw
            .iter()
            .zip(&capped)
            .filter(|(_, c)| !**c)
            .map(|(r, _)| *r)
            .sum();
        let open = n - fixed;
        let out: Vec<u128> = raw
            .iter()
            .zip(&capped)
            .map(|(r, c)| match (*c, free) {
                (true, _) => cap,
                (false, 0) => remaining / open.max(1),
                (false, _) => r * remaining / free,
            })
            .collect();
        let mut changed = false;
        for (w, c) in out.iter().zip(capped.iter_mut()) {
            if !*c && *w > cap {
                *c = true;
                changed = true;
            }
        }
        if !changed {
            return out;
        }
    }
}

/// The weights as slots of a cycle of `SLOTS_PER_VALIDATOR * n` (see the module docs).
pub fn slots(weights_ppm: &[u32], cap_ppm: u32) -> Vec<u32> {
    let n = weights_ppm.len();
    if n == 0 {
        return Vec::new();
    }
    let total = SLOTS_PER_VALIDATOR * n as u64;
    let exact: Vec<u128> = weights_ppm
        .iter()
        .map(|w| u128::from(*w) * u128::from(total))
        .collect();
    let mut out: Vec<u64> = exact.iter().map(|e| (e / PPM) as u64).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|i| std::cmp::Reverse(exact[*i] % PPM));
    let mut short = total.saturating_sub(out.iter().sum());
    for i in order.iter().cycle().take(n * 2) {
        if short == 0 {
            break;
        }
        out[*i] += 1;
        short -= 1;
    }
    // At least one slot each, taken from the largest.
    for i in 0..n {
        if out[i] == 0 {
            if let Some(max) = (0..n).max_by_key(|j| (out[*j], std::cmp::Reverse(*j))) {
                if out[max] > 1 {
                    out[max] -= 1;
                    out[i] = 1;
                }
            }
        }
    }
    let max_slots = u64::from(cap_ppm) * total / 1_000_000;
    if max_slots * n as u64 >= total {
        for i in 0..n {
            while out[i] > max_slots {
                let Some(j) = (0..n)
                    .filter(|j| out[*j] < max_slots)
                    .min_by_key(|j| (out[*j], *j))
                else {
                    break;
                };
                out[i] -= 1;
                out[j] += 1;
            }
        }
    }
    out.into_iter()
        .map(|s| u32::try_from(s).unwrap_or(u32::MAX))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aitbc_primitives::crypto::dev_pair;

    const P: WeightParams = WeightParams {
        floor_ppm: 50_000,
        mix_ppm: 500_000,
        cap_ppm: 333_333,
    };

    fn standing(i: usize, bond: Balance, work: u128) -> Standing {
        Standing {
            who: dev_pair(&format!("v{i}")).public(),
            bond,
            work,
        }
    }

    #[test]
    fn equal_standing_gives_equal_weights_and_slots() {
        let s: Vec<_> = (0..4).map(|i| standing(i, 100, 0)).collect();
        assert_eq!(weights(&s, P), vec![250_000; 4]);
        assert_eq!(slots(&[250_000; 4], P.cap_ppm), vec![12; 4]);
    }

    #[test]
    fn a_large_bond_or_self_paid_work_stays_under_the_cap() {
        let mut s: Vec<_> = (0..5).map(|i| standing(i, 100, 10)).collect();
        s[0].bond = 1_000_000;
        s[0].work = 1_000_000;
        let w = weights(&s, P);
        assert!(w[0] <= P.cap_ppm, "{w:?}");
        assert!(w.iter().all(|x| *x > 0));
        let sl = slots(&w, P.cap_ppm);
        assert_eq!(sl.iter().sum::<u32>(), 60);
        assert!(sl[0] * 1_000_000 <= P.cap_ppm * 60, "{sl:?}");
        assert!(sl.iter().all(|x| *x >= 1));
    }

    #[test]
    fn work_moves_weight_between_equal_bonds() {
        let mut s: Vec<_> = (0..4).map(|i| standing(i, 100, 0)).collect();
        s[2].work = 300;
        s[3].work = 100;
        let w = weights(&s, P);
        assert!(w[2] > w[3] && w[3] > w[0] && w[0] == w[1], "{w:?}");
    }

    #[test]
    fn with_too_few_validators_for_the_cap_weights_are_equal() {
        let s = vec![standing(0, 1_000, 0), standing(1, 1, 0)];
        assert_eq!(weights(&s, P), vec![500_000, 500_000]);
        assert_eq!(slots(&[500_000, 500_000], P.cap_ppm), vec![12, 12]);
    }
}
