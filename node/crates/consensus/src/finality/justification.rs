//! Building a [`Justification`] from a round's precommits: the precommits for the finalized
//! block or its descendants, and the headers on their paths down to it, within the wire bounds
//! (what [`Justification::verify`] accepts).

use super::Chain;
use aitbc_primitives::{
    BoundedVec, Hash, Header, Justification, SignedVote, VoteTarget, MAX_AUTHORITIES,
    MAX_JUSTIFICATION_ANCESTRY,
};
use std::collections::BTreeSet;

/// A justification for `target` in `round` from `precommits` (each for `target` or a descendant,
/// one per voter, lowest targets first), or `None` when fewer than `threshold` of them can be
/// linked to `target` within [`MAX_JUSTIFICATION_ANCESTRY`] headers the chain has.
pub(crate) fn build<C: Chain>(
    chain: &C,
    round: u64,
    set_id: u64,
    target: VoteTarget,
    precommits: Vec<SignedVote>,
    threshold: usize,
) -> Option<Justification> {
    let mut included: BTreeSet<Hash> = BTreeSet::new();
    let mut ancestry: Vec<Header> = Vec::new();
    let mut votes: Vec<SignedVote> = Vec::new();
    for vote in precommits.into_iter().take(MAX_AUTHORITIES) {
        let Some(path) = path_to(chain, &vote.target, &target, &included) else {
            continue;
        };
        if ancestry.len() + path.len() > MAX_JUSTIFICATION_ANCESTRY {
            continue;
        }
        for (hash, header) in path {
            included.insert(hash);
            ancestry.push(header);
        }
        votes.push(vote);
    }
    if votes.len() < threshold {
        return None;
    }
    Some(Justification {
        round,
        set_id,
        target,
        precommits: BoundedVec::try_from_vec(votes).ok()?,
        ancestry: BoundedVec::try_from_vec(ancestry).ok()?,
    })
}

/// The headers from `from` down to (not including) `to`, stopping early at a header already in
/// `included`; `None` if the chain lacks one or the path does not reach `to`.
fn path_to<C: Chain>(
    chain: &C,
    from: &VoteTarget,
    to: &VoteTarget,
    included: &BTreeSet<Hash>,
) -> Option<Vec<(Hash, Header)>> {
    let mut path = Vec::new();
    let (mut hash, mut number) = (from.hash, from.number);
    while number > to.number {
        if included.contains(&hash) {
            return Some(path);
        }
        if path.len() >= MAX_JUSTIFICATION_ANCESTRY {
            return None;
        }
        let header = chain.header(&hash)?;
        if header.number != number || header.hash() != hash {
            return None;
        }
        let parent = header.parent_hash;
        path.push((hash, header));
        hash = parent;
        number -= 1;
    }
    (number == to.number && hash == to.hash).then_some(path)
}
