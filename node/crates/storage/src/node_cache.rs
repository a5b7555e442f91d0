//! The upper levels of the best state's tree, decoded, in memory.
//!
//! Every touched key's path starts at the root, so the nodes near it are read by every block
//! (a full block of transfers to random accounts touches all 4,096 nodes three nibbles down),
//! each read a B-tree lookup in the `tree` table and a borsh decode. This cache keeps the nodes
//! at most [`CACHED_DEPTH`] nibbles below the root, decoded.
//!
//! Invariant: a cached node equals the stored row of its key. Tree nodes are versioned by block
//! number and never rewritten, except that a revert deletes a block's nodes and a sibling block
//! then writes nodes under the same keys. So:
//! - after a block's durable commit, its new nodes go in and the nodes it made stale go out
//!   ([`NodeCache::committed`]); after a revert or a restore (warp sync) the cache is emptied
//!   ([`NodeCache::clear`]);
//! - each of those bumps a generation, under the same lock. A view of the best state notes the
//!   generation before it opens its snapshot and adds the nodes it had to read from disk only
//!   while the generation is unchanged: a snapshot older than a write is then never added after
//!   that write's update of the cache (which removes whatever such a snapshot could add in
//!   between and is no longer current). Views of older states read from the cache but do not
//!   add to it (their nodes are stale, and would stay);
//! - a clear also starts a new epoch, and a view reads the cache only during the epoch it was
//!   opened in: a snapshot from before a revert holds the reverted block's nodes, and must not
//!   meet its sibling's under the same keys (a tree mixing the two is missing nodes).
//!
//! So the cache holds the best state's upper nodes: 4,369 nodes down to three nibbles, about
//! 5 MB, whatever the state's size.

use aitbc_primitives::commitment::{CommitmentUpdate, TreeNode, TreeNodeKey};
use std::collections::HashMap;
use std::sync::Mutex;

/// Nodes with at most this many nibbles in their path are cached.
pub const CACHED_DEPTH: usize = 3;

#[derive(Debug, Default)]
pub struct NodeCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    stamp: Stamp,
    nodes: HashMap<TreeNodeKey, TreeNode>,
}

/// When a view was opened, as the cache counts: clears (epoch) and all writes (generation).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    epoch: u64,
    generation: u64,
}

fn cached(key: &TreeNodeKey) -> bool {
    key.nibble_path().num_nibbles() <= CACHED_DEPTH
}

impl NodeCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What a view notes before opening its snapshot.
    pub fn stamp(&self) -> Stamp {
        self.lock().stamp
    }

    /// The node under `key`, for a view opened at `opened`.
    pub fn get(&self, opened: Stamp, key: &TreeNodeKey) -> Option<TreeNode> {
        if !cached(key) {
            return None;
        }
        let inner = self.lock();
        if inner.stamp.epoch != opened.epoch {
            return None;
        }
        inner.nodes.get(key).cloned()
    }

    /// Adds a node a view of the best state opened at `opened` read from its snapshot.
    pub fn fill(&self, opened: Stamp, key: &TreeNodeKey, node: &TreeNode) {
        if !cached(key) {
            return;
        }
        let mut inner = self.lock();
        if inner.stamp == opened {
            inner.nodes.insert(key.clone(), node.clone());
        }
    }

    /// A block's commit is durable: its nodes are the best state's, the stale ones are not.
    pub fn committed(&self, update: &CommitmentUpdate) {
        let mut inner = self.lock();
        inner.stamp.generation += 1;
        for key in update.stale.iter().filter(|k| cached(k)) {
            inner.nodes.remove(key);
        }
        for (key, node) in update.nodes.iter().filter(|(k, _)| cached(k)) {
            inner.nodes.insert(key.clone(), node.clone());
        }
    }

    /// Stored nodes were deleted (a revert, a restore): nothing cached is trusted.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.stamp.epoch += 1;
        inner.stamp.generation += 1;
        inner.nodes.clear();
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().nodes.len()
    }
}
