//! One round's votes: prevotes and precommits per voter, equivocations, and the derived summary
//! (prevote GHOST, precommit GHOST, estimate, completability), recomputed when votes or the chain
//! change.

use super::ghost::{self, Ballot, Count};
use super::Chain;
use aitbc_primitives::{supermajority, AccountId, BlockNumber, SignedVote, VoteKind, VoteTarget};
use std::collections::BTreeMap;

/// What one voter cast of one kind in a round.
#[derive(Debug, Clone)]
enum Entry {
    Single(SignedVote),
    /// Two different votes, both kept: the voter counts once (for every block in a prevote GHOST,
    /// for its signed targets in a precommit GHOST); any further vote is dropped.
    Equivocated(SignedVote, SignedVote),
}

/// The outcome of adding a vote to a round.
#[derive(Debug)]
pub(crate) enum Added {
    /// A new vote, now counted.
    New,
    /// This vote (or an identical one) is already held.
    Duplicate,
    /// The voter's second, different vote of this kind: kept as proof, never a second count.
    /// Carries the first vote.
    Equivocation(SignedVote),
    /// A further vote from a known equivocator: dropped.
    Ignored,
}

/// What a round's votes say, given the chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundSummary {
    /// The highest block with a supermajority of prevotes.
    pub prevote_ghost: Option<VoteTarget>,
    /// The highest block with a supermajority of precommits: final.
    pub precommit_ghost: Option<VoteTarget>,
    /// The highest block at or below the prevote GHOST that may still be finalized in this round.
    pub estimate: Option<VoteTarget>,
    /// No block above the estimate can be finalized in this round any more.
    pub completable: bool,
    /// How many voters prevoted.
    pub prevoters: usize,
}

/// The votes of one round.
#[derive(Debug, Default)]
pub(crate) struct RoundVotes {
    prevotes: BTreeMap<AccountId, Entry>,
    precommits: BTreeMap<AccountId, Entry>,
    /// `None` when votes or the chain changed since it was computed.
    summary: Option<RoundSummary>,
}

impl RoundVotes {
    fn votes(&self, kind: VoteKind) -> &BTreeMap<AccountId, Entry> {
        match kind {
            VoteKind::Prevote => &self.prevotes,
            VoteKind::Precommit => &self.precommits,
        }
    }

    /// Whether this exact vote (signature aside) is already held.
    pub fn contains(&self, vote: &SignedVote) -> bool {
        match self.votes(vote.kind).get(&vote.voter) {
            Some(Entry::Single(v)) => v.same_vote(vote),
            Some(Entry::Equivocated(a, b)) => a.same_vote(vote) || b.same_vote(vote),
            None => false,
        }
    }

    /// Adds a vote whose signature, set and membership the caller checked.
    pub fn add(&mut self, vote: SignedVote) -> Added {
        let votes = match vote.kind {
            VoteKind::Prevote => &mut self.prevotes,
            VoteKind::Precommit => &mut self.precommits,
        };
        let added = match votes.get(&vote.voter) {
            None => {
                votes.insert(vote.voter, Entry::Single(vote));
                Added::New
            }
            Some(Entry::Single(first)) if first.same_vote(&vote) => Added::Duplicate,
            Some(Entry::Single(first)) => {
                let first = first.clone();
                votes.insert(vote.voter, Entry::Equivocated(first.clone(), vote));
                Added::Equivocation(first)
            }
            Some(Entry::Equivocated(..)) => Added::Ignored,
        };
        if matches!(added, Added::New | Added::Equivocation(_)) {
            self.summary = None;
        }
        added
    }

    /// Every vote held, equivocations included (to serve peers).
    pub fn all_votes(&self) -> Vec<SignedVote> {
        let mut out = Vec::new();
        for entry in self.prevotes.values().chain(self.precommits.values()) {
            match entry {
                Entry::Single(v) => out.push(v.clone()),
                Entry::Equivocated(a, b) => {
                    out.push(a.clone());
                    out.push(b.clone());
                }
            }
        }
        out
    }

    /// The voters with a vote in this round.
    pub fn voters(&self) -> impl Iterator<Item = &AccountId> {
        self.prevotes.keys().chain(self.precommits.keys())
    }

    /// How many voters prevoted and precommitted.
    pub fn counts(&self) -> (usize, usize) {
        (self.prevotes.len(), self.precommits.len())
    }

    /// Forgets the summary: the chain changed.
    pub fn invalidate(&mut self) {
        self.summary = None;
    }

    pub fn cached_summary(&self) -> Option<&RoundSummary> {
        self.summary.as_ref()
    }

    fn ballots(&self, kind: VoteKind) -> Vec<Ballot> {
        self.votes(kind)
            .values()
            .map(|e| match e {
                Entry::Single(v) => Ballot {
                    first: v.target,
                    second: None,
                },
                Entry::Equivocated(a, b) => Ballot {
                    first: a.target,
                    second: Some(b.target),
                },
            })
            .collect()
    }

    /// The summary, recomputed if stale. `n` is the set size, `hint` the last finalized number.
    pub fn summary<C: Chain>(&mut self, chain: &C, n: usize, hint: BlockNumber) -> &RoundSummary {
        let fresh = match self.summary.take() {
            Some(s) => s,
            None => self.compute(chain, n, hint),
        };
        self.summary.insert(fresh)
    }

    fn compute<C: Chain>(&self, chain: &C, n: usize, hint: BlockNumber) -> RoundSummary {
        let t = supermajority(n);
        let prevotes = self.ballots(VoteKind::Prevote);
        let precommits = self.ballots(VoteKind::Precommit);
        let prevote_ghost = ghost::ghost(chain, &prevotes, t, hint, Count::EquivocatorsForAll);
        let precommit_ghost = ghost::ghost(chain, &precommits, t, hint, Count::SignedVotes);
        let (estimate, completable) = match &prevote_ghost {
            Some(g) => ghost::completable(chain, g, &precommits, n, hint),
            None => (None, false),
        };
        RoundSummary {
            prevote_ghost,
            precommit_ghost,
            estimate,
            completable,
            prevoters: prevotes.len(),
        }
    }

    /// One precommit per voter that is for `block` or a descendant (an equivocator's first such
    /// vote), ordered by target number: the votes of a justification for `block`.
    pub fn precommits_for<C: Chain>(&self, chain: &C, block: &VoteTarget) -> Vec<SignedVote> {
        let mut out: Vec<SignedVote> = self
            .precommits
            .values()
            .filter_map(|e| {
                let candidates: &[&SignedVote] = match e {
                    Entry::Single(v) => &[v],
                    Entry::Equivocated(a, b) => &[a, b],
                };
                candidates
                    .iter()
                    .find(|v| ghost::descends(chain, &v.target, block))
                    .map(|v| (*v).clone())
            })
            .collect();
        out.sort_by_key(|v| v.target.number);
        out
    }
}
