//! The fork tree: every block above the last finalized one that this node stored, on the best
//! chain or beside it, with parent links, for fork choice and reorganisation routes.
//!
//! Fork choice: the best chain is the longest chain that contains the last finalized block and
//! no block known to be bad (failed execution); among equally long chains, the one whose head
//! has the lowest hash. The two blocks of an equivocation are ordinary forks (the import keeps
//! the pair as proof). The rule depends only on the
//! blocks known, not on the order they arrived in: two nodes that know the same blocks choose the
//! same head, so after a partition heals the two sides converge on one chain (and its finality
//! votes) without waiting for a new block to break the tie.
//! The tree is bounded by finality: [`ForkTree::finalize`] drops every block at or below the new
//! finalized block and every fork that does not descend from it.
//!
//! Executed blocks: a block is *executed* once it was imported as valid on the best chain (its
//! state root, digests and signatures checked); fork blocks are stored unexecuted until a reorg
//! executes them. Only executed blocks are trusted for what their headers claim beyond the seal
//! (authority-set digests) and only they are voted for ([`ForkTree::best_executed_from`]). An
//! executed block's ancestors are executed.

use aitbc_primitives::{AccountId, BlockNumber, Hash, Header, Slot};
use aitbc_storage::BlockRef;
use std::collections::{BTreeSet, HashMap, HashSet};

#[derive(Debug, Clone)]
struct Node {
    number: BlockNumber,
    parent: Hash,
    slot: Slot,
    author: AccountId,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct ForkTree {
    finalized: BlockRef,
    nodes: HashMap<Hash, Node>,
    leaves: BTreeSet<Hash>,
    bad: HashSet<Hash>,
    executed: HashSet<Hash>,
}

/// How to move the best chain from one block to another: undo `retract` (highest first), then
/// apply `enact` (lowest first) on `ancestor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub retract: Vec<BlockRef>,
    pub ancestor: BlockRef,
    pub enact: Vec<BlockRef>,
}

impl ForkTree {
    pub fn new(finalized: BlockRef) -> Self {
        ForkTree {
            finalized,
            nodes: HashMap::new(),
            leaves: BTreeSet::new(),
            bad: HashSet::new(),
            executed: HashSet::new(),
        }
    }

    pub fn finalized(&self) -> BlockRef {
        self.finalized
    }

    /// Adds a block whose parent is the finalized block or in the tree.
    pub fn insert(&mut self, hash: Hash, header: &Header, author: AccountId) {
        self.leaves.remove(&header.parent_hash);
        let has_child = self.nodes.values().any(|n| n.parent == hash);
        self.nodes.insert(
            hash,
            Node {
                number: header.number,
                parent: header.parent_hash,
                slot: header.slot,
                author,
            },
        );
        if !has_child {
            self.leaves.insert(hash);
        }
    }

    /// Records that `hash` was executed and found valid (see the module docs).
    pub fn mark_executed(&mut self, hash: Hash) {
        if self.nodes.contains_key(&hash) {
            self.executed.insert(hash);
        }
    }

    /// Whether `hash` is the finalized block or an executed block of the tree.
    pub fn is_executed(&self, hash: &Hash) -> bool {
        *hash == self.finalized.hash || self.executed.contains(hash)
    }

    /// Whether a block can be built on: the finalized block or a block in the tree.
    pub fn contains(&self, hash: &Hash) -> bool {
        *hash == self.finalized.hash || self.nodes.contains_key(hash)
    }

    pub fn number(&self, hash: &Hash) -> Option<BlockNumber> {
        if *hash == self.finalized.hash {
            return Some(self.finalized.number);
        }
        self.nodes.get(hash).map(|n| n.number)
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The ancestor of `hash` at `number` while it is in the tree or is the finalized block;
    /// `None` below the finalized block (the caller reads the canonical index there).
    pub fn ancestor_at(&self, hash: &Hash, number: BlockNumber) -> Option<Hash> {
        let mut cur = *hash;
        loop {
            if cur == self.finalized.hash {
                return (number == self.finalized.number).then_some(cur);
            }
            let node = self.nodes.get(&cur)?;
            if node.number == number {
                return Some(cur);
            }
            if node.number < number {
                return None;
            }
            cur = node.parent;
        }
    }

    /// The stored blocks by `author` for `slot` other than `except` (more than none is an
    /// equivocation), in hash order.
    pub fn same_slot(&self, author: &AccountId, slot: Slot, except: &Hash) -> Vec<Hash> {
        let mut found: Vec<Hash> = self
            .nodes
            .iter()
            .filter(|(h, n)| n.slot == slot && n.author == *author && *h != except)
            .map(|(h, _)| *h)
            .collect();
        found.sort_unstable();
        found
    }

    /// Never choose a chain containing `hash` again.
    pub fn mark_bad(&mut self, hash: Hash) {
        self.bad.insert(hash);
    }

    fn chain_is_good(&self, mut hash: Hash) -> bool {
        while let Some(node) = self.nodes.get(&hash) {
            if self.bad.contains(&hash) {
                return false;
            }
            hash = node.parent;
        }
        hash == self.finalized.hash
    }

    /// The head of the best chain (see the module docs).
    pub fn best(&self) -> BlockRef {
        self.best_from(&self.finalized).unwrap_or(self.finalized)
    }

    /// The head of the best chain containing `base` (see the module docs). `None` if `base` is
    /// neither the finalized block nor a good block in the tree.
    pub fn best_from(&self, base: &BlockRef) -> Option<BlockRef> {
        self.best_from_where(base, false)
    }

    /// The head of the best chain of executed blocks containing `base` (what a voter may vote
    /// for); `None` if `base` is not an executed good block (or the finalized block).
    pub fn best_executed_from(&self, base: &BlockRef) -> Option<BlockRef> {
        if !self.is_executed(&base.hash) {
            return None;
        }
        self.best_from_where(base, true)
    }

    fn best_from_where(&self, base: &BlockRef, executed_only: bool) -> Option<BlockRef> {
        if base.hash != self.finalized.hash && !self.chain_is_good(base.hash) {
            return None;
        }
        let mut best = *base;
        for leaf in &self.leaves {
            // A leaf may be bad (or unexecuted) while its good prefix is still a candidate:
            // walk down to it.
            let mut at = BlockRef {
                number: self.number(leaf)?,
                hash: *leaf,
            };
            while at.number > base.number
                && (!self.chain_is_good(at.hash) || (executed_only && !self.is_executed(&at.hash)))
            {
                at = self.parent(&at)?;
            }
            if at.number <= base.number
                || self.ancestor_at(&at.hash, base.number) != Some(base.hash)
            {
                continue;
            }
            if at.number > best.number || (at.number == best.number && at.hash < best.hash) {
                best = at;
            }
        }
        Some(best)
    }

    /// The route from `from` to `to` (both in the tree or the finalized block).
    pub fn route(&self, from: &BlockRef, to: &BlockRef) -> Option<Route> {
        let (mut a, mut b) = (*from, *to);
        let mut retract = Vec::new();
        let mut enact = Vec::new();
        while a.hash != b.hash {
            if a.number >= b.number && a.number > 0 {
                retract.push(a);
                a = self.parent(&a)?;
            } else {
                enact.push(b);
                b = self.parent(&b)?;
            }
        }
        enact.reverse();
        Some(Route {
            retract,
            ancestor: a,
            enact,
        })
    }

    fn parent(&self, at: &BlockRef) -> Option<BlockRef> {
        let node = self.nodes.get(&at.hash)?;
        Some(BlockRef {
            number: node.number.checked_sub(1)?,
            hash: node.parent,
        })
    }

    /// Makes `to` (in the tree) the finalized block. Returns the blocks that became final (the
    /// chain up to `to`, lowest first) and the blocks dropped because they do not descend from it
    /// (in hash order).
    pub fn finalize(&mut self, to: BlockRef) -> (Vec<Hash>, Vec<Hash>) {
        let mut chain = Vec::new();
        let mut cur = to.hash;
        while let Some(node) = self.nodes.get(&cur) {
            chain.push(cur);
            cur = node.parent;
        }
        chain.reverse();
        let keep: HashSet<Hash> = self
            .nodes
            .keys()
            .filter(|h| **h != to.hash && self.ancestor_at(h, to.number) == Some(to.hash))
            .copied()
            .collect();
        let mut discarded: Vec<Hash> = self
            .nodes
            .keys()
            .filter(|h| !keep.contains(h) && !chain.contains(h))
            .copied()
            .collect();
        // In hash order, not the map's: the database deletes them in this order, and a seeded
        // simulation replays only if every node writes alike.
        discarded.sort_unstable();
        self.nodes.retain(|h, _| keep.contains(h));
        self.leaves.retain(|h| keep.contains(h));
        self.bad.retain(|h| keep.contains(h));
        self.executed.retain(|h| keep.contains(h));
        self.finalized = to;
        (chain, discarded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aitbc_primitives::crypto::dev_pair;
    use aitbc_primitives::Digest;

    fn header(parent: Hash, number: u64, slot: u64) -> Header {
        Header {
            parent_hash: parent,
            number,
            slot,
            state_root: Hash::ZERO,
            extrinsics_root: Hash::ZERO,
            digest: Digest::new(),
        }
    }

    /// Adds a chain of `len` blocks on `parent` at `number + 1..`, slots offset by `slot0`.
    fn chain(t: &mut ForkTree, parent: BlockRef, len: u64, slot0: u64) -> Vec<BlockRef> {
        let mut out = Vec::new();
        let mut p = parent;
        for i in 1..=len {
            let h = header(p.hash, p.number + 1, slot0 + p.number + i);
            let at = BlockRef {
                number: h.number,
                hash: h.hash(),
            };
            t.insert(at.hash, &h, dev_pair("alice").public());
            out.push(at);
            p = at;
        }
        out
    }

    fn genesis() -> BlockRef {
        BlockRef {
            number: 0,
            hash: Hash::of(b"g"),
        }
    }

    #[test]
    fn longest_chain_wins_and_ties_go_to_the_lowest_hash() {
        let mut t = ForkTree::new(genesis());
        let a = chain(&mut t, genesis(), 3, 0);
        let b = chain(&mut t, a[0], 2, 100);
        let tie = if a[2].hash < b[1].hash { a[2] } else { b[1] };
        assert_eq!(
            t.best(),
            tie,
            "equal length: the lowest hash, whatever came first"
        );
        // The same blocks arriving in another order (b's fork before a's blocks 2 and 3).
        let mut u = ForkTree::new(genesis());
        assert_eq!(chain(&mut u, genesis(), 1, 0), a[..1]);
        assert_eq!(chain(&mut u, a[0], 2, 100), b);
        assert_eq!(chain(&mut u, a[0], 2, 1), a[1..]);
        assert_eq!(u.best(), tie, "the other order of arrival chooses the same");
        let b3 = chain(&mut t, b[1], 1, 200);
        assert_eq!(t.best(), b3[0]);
        let route = t.route(&a[2], &b3[0]).unwrap();
        assert_eq!(route.retract, vec![a[2], a[1]]);
        assert_eq!(route.ancestor, a[0]);
        assert_eq!(route.enact, vec![b[0], b[1], b3[0]]);
    }

    #[test]
    fn bad_blocks_are_never_chosen() {
        let mut t = ForkTree::new(genesis());
        let a = chain(&mut t, genesis(), 2, 0);
        let b = chain(&mut t, genesis(), 4, 100);
        t.mark_bad(b[2].hash);
        // The fork's good prefix (2 blocks) ties with the other chain: the lower hash.
        let tie = if a[1].hash < b[1].hash { a[1] } else { b[1] };
        assert_eq!(t.best(), tie);
        t.mark_bad(a[1].hash);
        assert_eq!(t.best(), b[1], "the longest good prefix");
    }

    #[test]
    fn finalize_prunes_conflicting_forks() {
        let mut t = ForkTree::new(genesis());
        let a = chain(&mut t, genesis(), 3, 0);
        let b = chain(&mut t, genesis(), 2, 100);
        let c = chain(&mut t, a[1], 2, 200);
        let (final_chain, mut discarded) = t.finalize(a[1]);
        assert_eq!(final_chain, vec![a[0].hash, a[1].hash]);
        discarded.sort();
        let mut expect = vec![b[0].hash, b[1].hash];
        expect.sort();
        assert_eq!(discarded, expect);
        assert_eq!(t.len(), 3, "a[2], c[0], c[1]");
        assert!(t.contains(&a[1].hash));
        assert_eq!(t.ancestor_at(&c[1].hash, 2), Some(a[1].hash));
        assert_eq!(t.ancestor_at(&c[1].hash, 1), None, "below finality");
        assert_eq!(t.best(), c[1]);
    }

    #[test]
    fn equivocations_are_found_by_author_and_slot() {
        let mut t = ForkTree::new(genesis());
        let h1 = header(genesis().hash, 1, 7);
        let mut h2 = h1.clone();
        h2.state_root = Hash::of(b"other");
        t.insert(h1.hash(), &h1, dev_pair("alice").public());
        assert_eq!(
            t.same_slot(&dev_pair("alice").public(), 7, &h2.hash()),
            vec![h1.hash()]
        );
        assert!(t
            .same_slot(&dev_pair("bob").public(), 7, &h2.hash())
            .is_empty());
    }

    #[test]
    fn votes_go_only_to_executed_blocks() {
        let mut t = ForkTree::new(genesis());
        let a = chain(&mut t, genesis(), 2, 0);
        let b = chain(&mut t, genesis(), 4, 100);
        for x in &a {
            t.mark_executed(x.hash);
        }
        t.mark_executed(b[0].hash);
        // Fork choice sees the longer unexecuted fork; a voter only the executed chain.
        assert_eq!(t.best(), b[3]);
        assert_eq!(t.best_executed_from(&genesis()), Some(a[1]));
        assert_eq!(t.best_executed_from(&b[0]), Some(b[0]));
        assert_eq!(t.best_executed_from(&b[1]), None, "an unexecuted base");
        t.mark_executed(b[1].hash);
        let tie = if a[1].hash < b[1].hash { a[1] } else { b[1] };
        assert_eq!(
            t.best_executed_from(&genesis()),
            Some(tie),
            "equal length: lowest hash"
        );
    }
}
