//! Vote-graph math over a [`Chain`]: the GHOST of a set of votes, whether a block can still get
//! a supermajority of precommits, the round estimate and completability (GRANDPA paper, §3).
//!
//! No vote graph is stored: with at most `n` counted votes per kind, every question is answered by
//! asking the chain for ancestors at a height, and a binary search over heights (the predicates
//! are monotone along a chain: support for a block is support for all its ancestors).
//!
//! A vote whose target the chain does not know (or whose number disagrees with the chain) is
//! *unknown*: it supports nothing in a GHOST, and may support anything when asking what is still
//! possible. So an unknown vote can delay progress, never make a wrong "impossible" call.

use super::Chain;
use aitbc_primitives::{supermajority, BlockNumber, VoteTarget};
use std::collections::{BTreeMap, BTreeSet};

/// `f`: the most faulty voters among `n` that the protocol tolerates (`n >= 3f + 1`).
pub(crate) fn max_faulty(n: usize) -> usize {
    n.saturating_sub(1) / 3
}

/// How a vote stands towards a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Support {
    /// The vote is for the block or a descendant.
    For,
    /// The vote is for a block that is neither the block nor a descendant.
    Against,
    /// The chain does not know the vote's target.
    Unknown,
}

/// Whether `vote` is for `block` or a descendant of it, as far as `chain` knows.
pub(crate) fn support<C: Chain>(chain: &C, vote: &VoteTarget, block: &VoteTarget) -> Support {
    if chain.number(&vote.hash) != Some(vote.number) {
        return Support::Unknown;
    }
    if vote.number < block.number {
        return Support::Against;
    }
    match chain.ancestor_at(&vote.hash, block.number) {
        Some(h) if h == block.hash => Support::For,
        Some(_) => Support::Against,
        None => Support::Unknown,
    }
}

/// Whether `a` is `b` or a descendant of it.
pub(crate) fn descends<C: Chain>(chain: &C, a: &VoteTarget, b: &VoteTarget) -> bool {
    support(chain, a, b) == Support::For
}

/// One voter's standing in one kind of vote of a round.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ballot {
    /// The voter's first vote.
    pub first: VoteTarget,
    /// Its second, different vote, if it equivocated (further votes are dropped).
    pub second: Option<VoteTarget>,
}

impl Ballot {
    pub fn equivocator(&self) -> bool {
        self.second.is_some()
    }

    fn targets(&self) -> impl Iterator<Item = &VoteTarget> {
        std::iter::once(&self.first).chain(&self.second)
    }
}

/// How a GHOST counts an equivocator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Count {
    /// For every block (the paper's rule for prevotes): an equivocator may have shown anything
    /// to others, and counting it everywhere lets every honest view reach the GHOST the others
    /// reached once it has seen the equivocation. Safe because any two supermajorities share an
    /// honest voter, and honest voters never equivocate.
    EquivocatorsForAll,
    /// For the blocks its signed votes are for (for precommits and finality): so a finalized
    /// block always has a justification of distinct voters' real precommits.
    SignedVotes,
}

/// The highest block with at least `threshold` voters for it (the GHOST of the votes), or
/// `None`. A voter is for a block when one of its known targets is the block or a descendant
/// (or, with [`Count::EquivocatorsForAll`], when it equivocated). Any two blocks with that much
/// support share an honest voter, so they form one chain, and support at a height is monotone:
/// binary search over heights. `hint` is a height likely to have support (the last finalized
/// block's), to shorten the search.
pub(crate) fn ghost<C: Chain>(
    chain: &C,
    ballots: &[Ballot],
    threshold: usize,
    hint: BlockNumber,
    count: Count,
) -> Option<VoteTarget> {
    let bonus = match count {
        Count::EquivocatorsForAll => ballots.iter().filter(|b| b.equivocator()).count(),
        Count::SignedVotes => 0,
    };
    let known = |b: &'_ Ballot| -> Vec<VoteTarget> {
        b.targets()
            .filter(|t| chain.number(&t.hash) == Some(t.number))
            .copied()
            .collect()
    };
    let known: Vec<(bool, Vec<VoteTarget>)> = ballots
        .iter()
        .map(|b| (b.equivocator(), known(b)))
        .filter(|(_, targets)| !targets.is_empty())
        .collect();
    let counted = |eq: bool| count == Count::SignedVotes || !eq;
    let voters = known.iter().filter(|(eq, _)| counted(*eq)).count();
    if threshold == 0 || voters + bonus < threshold {
        return None;
    }
    let at = |height: BlockNumber| -> Option<VoteTarget> {
        // Candidates are ancestors of known targets; each voter counts once per block.
        let mut counts: BTreeMap<_, usize> = BTreeMap::new();
        for (eq, targets) in &known {
            let here: BTreeSet<_> = targets
                .iter()
                .filter(|t| t.number >= height)
                .filter_map(|t| chain.ancestor_at(&t.hash, height))
                .collect();
            for h in here {
                *counts.entry(h).or_default() += usize::from(counted(*eq));
            }
        }
        counts
            .into_iter()
            .map(|(hash, c)| (c + bonus, hash))
            .filter(|(c, _)| *c >= threshold)
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
            .map(|(_, hash)| VoteTarget {
                hash,
                number: height,
            })
    };
    let top = known.iter().flat_map(|(_, t)| t).map(|t| t.number).max()?;
    let mut lo = if hint <= top && at(hint).is_some() {
        hint
    } else {
        at(0)?;
        0
    };
    let mut hi = top;
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if at(mid).is_some() {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    at(lo)
}

/// Whether some honest node could ever see a supermajority of these precommits for `block`
/// (`n` voters). Counted as possibly for it: votes for it, unknown votes, voters not yet seen,
/// known equivocators, and up to `f - equivocators` of the voters seen voting against it (they
/// may be faulty and show other nodes a second vote). Over-approximates, never under: so
/// "impossible" is final, whatever else arrives.
pub(crate) fn possible<C: Chain>(
    chain: &C,
    ballots: &[Ballot],
    n: usize,
    block: &VoteTarget,
) -> bool {
    let (mut for_, mut against, mut unknown, mut equivocators) = (0usize, 0usize, 0usize, 0usize);
    for b in ballots {
        if b.equivocator() {
            equivocators += 1;
            continue;
        }
        match support(chain, &b.first, block) {
            Support::For => for_ += 1,
            Support::Against => against += 1,
            Support::Unknown => unknown += 1,
        }
    }
    possible_count(n, ballots.len(), for_, against, unknown, equivocators)
}

fn possible_count(
    n: usize,
    voted: usize,
    for_: usize,
    against: usize,
    unknown: usize,
    equivocators: usize,
) -> bool {
    let remaining = n.saturating_sub(voted);
    let swayable = against.min(max_faulty(n).saturating_sub(equivocators));
    for_ + unknown + remaining + equivocators + swayable >= supermajority(n)
}

/// The round estimate: the highest block at or below the prevote GHOST `g` that could still get
/// a supermajority of precommits. The genesis block is always possible (every known vote is for
/// it), and "possible" is monotone down a chain: binary search over `g`'s ancestors.
pub(crate) fn estimate<C: Chain>(
    chain: &C,
    precommits: &[Ballot],
    n: usize,
    g: &VoteTarget,
    hint: BlockNumber,
) -> Option<VoteTarget> {
    let at = |height: BlockNumber| {
        chain.ancestor_at(&g.hash, height).map(|hash| VoteTarget {
            hash,
            number: height,
        })
    };
    let ok = |height: BlockNumber| at(height).is_some_and(|b| possible(chain, precommits, n, &b));
    let mut lo = if hint <= g.number && ok(hint) {
        hint
    } else {
        0
    };
    let mut hi = g.number;
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if ok(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    at(lo)
}

/// The estimate and whether the round is completable (paper §3.2): `g` exists, a supermajority
/// has precommitted, and either the estimate is below `g` or no child of `g` can still get a
/// supermajority of precommits. Until a supermajority has precommitted, any block could still
/// get one, so the estimate is `g` and the round is not completable.
pub(crate) fn completable<C: Chain>(
    chain: &C,
    g: &VoteTarget,
    precommits: &[Ballot],
    n: usize,
    hint: BlockNumber,
) -> (Option<VoteTarget>, bool) {
    if precommits.len() < supermajority(n) {
        return (Some(*g), false);
    }
    let Some(e) = estimate(chain, precommits, n, g, hint) else {
        return (None, false);
    };
    if e != *g {
        return (Some(e), true);
    }
    // A child no (non-equivocating) precommit is for: every known such vote is against it.
    let known_against = precommits
        .iter()
        .filter(|b| !b.equivocator() && chain.number(&b.first.hash) == Some(b.first.number))
        .count();
    let equivocators = precommits.iter().filter(|b| b.equivocator()).count();
    let unknown = precommits.len() - known_against - equivocators;
    if possible_count(n, precommits.len(), 0, known_against, unknown, equivocators) {
        return (Some(e), false);
    }
    // The children of `g` that some counted precommit is for (a child only equivocators are for
    // is covered by the check above).
    let children: BTreeSet<_> = precommits
        .iter()
        .filter(|b| !b.equivocator())
        .filter(|b| b.first.number > g.number && descends(chain, &b.first, g))
        .filter_map(|b| chain.ancestor_at(&b.first.hash, g.number + 1))
        .collect();
    let open = children.into_iter().any(|hash| {
        let child = VoteTarget {
            hash,
            number: g.number + 1,
        };
        possible(chain, precommits, n, &child)
    });
    (Some(e), !open)
}
