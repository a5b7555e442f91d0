//! A whole state built in one pass, from its entries in key-hash order: the genesis.
//!
//! [`compute_update`](crate::commitment::compute_update) grows a tree from the one before it,
//! keeping every node it touches in memory; for the genesis of a large chain (1M endowments)
//! that held ~1.6 GiB and took ~20 s. The genesis tree has no "before": with the leaves sorted
//! by key hash, [`build_tree`] lays out the tree directly, hashes each node once and hands it to
//! a sink (the database) children first, holding nothing but the slice of leaves.
//!
//! The layout is jmt's: below a node at nibble path `p`, the leaves whose key hashes extend `p`
//! are grouped by their next nibble; a group of one leaf is that leaf, stored at the shortest
//! path that tells it apart; a group of more is an internal node (with a single child if they
//! share the next nibble too). The nodes are jmt's own types, hashed by jmt, so the root and
//! every node equal what `compute_update` writes for the same entries (tested below).
//!
//! [`SortedState`] is a genesis state in this form: its entries sorted by key hash with their
//! root, readable as a [`StateView`](crate::StateView).

use crate::commitment::{
    key_hash, CommitmentError, CommitmentUpdate, MemoryState, StateChanges, TreeNode, TreeNodeKey,
};
use crate::hashing::{Blake2b256, Hash};
use jmt::storage::{LeafNode, Node, NodeKey};
use jmt::{KeyHash, ValueHash, Version};

/// Fewer leaves than this are hashed on one thread.
const PARALLEL_LEAVES: usize = 4096;

/// What the tree needs of an entry.
pub trait AsLeaf {
    fn key_hash(&self) -> &[u8; 32];
    fn value_hash(&self) -> &[u8; 32];
}

/// Builds version `version` of the tree holding exactly `leaves` (strictly increasing key
/// hashes), passing each node to `sink` once, children before their parent; returns the root.
pub fn build_tree<T: AsLeaf, E>(
    version: Version,
    leaves: &[T],
    sink: &mut dyn FnMut(TreeNodeKey, TreeNode) -> Result<(), E>,
) -> Result<Hash, E> {
    if leaves.is_empty() {
        sink(node_key(version, &[0; 32], 0), Node::Null)?;
        return Ok(crate::commitment::empty_root());
    }
    Ok(Hash(subtree(version, leaves, 0, sink)?.hash))
}

/// The root of the tree holding exactly `leaves` (as [`build_tree`], without the nodes), the
/// root's subtrees built on all cores ([`crate::parallel`]) when there are many leaves.
pub fn tree_root<T: AsLeaf + Sync>(version: Version, leaves: &[T]) -> Hash {
    let no_sink = |_, _| Ok::<(), std::convert::Infallible>(());
    if leaves.len() < PARALLEL_LEAVES {
        return build_tree(version, leaves, &mut no_sink.clone())
            .unwrap_or_else(|never| match never {});
    }
    let groups: Vec<(u8, &[T])> = groups(leaves, 0).collect();
    let subtrees = crate::parallel::try_map(&groups, 1, |_, (_, group)| {
        subtree(version, group, 1, &mut no_sink.clone())
    })
    .unwrap_or_else(|never| match never {});
    let mut children: [Option<ChildRef>; 16] = Default::default();
    for ((n, _), child) in groups.iter().zip(subtrees) {
        children[usize::from(*n)] = Some(child);
    }
    Hash(internal(version, children, leaves.len()).1.hash)
}

/// A child as its parent keeps it: hash and, for an internal node, its leaf count.
struct ChildRef {
    hash: [u8; 32],
    internal_leaves: Option<usize>,
}

/// `leaves` (sharing their first `depth` nibbles) grouped by nibble `depth`, in order.
fn groups<T: AsLeaf>(leaves: &[T], depth: usize) -> impl Iterator<Item = (u8, &[T])> {
    let mut rest = leaves;
    std::iter::from_fn(move || {
        let n = nibble(rest.first()?.key_hash(), depth);
        let len = rest.partition_point(|l| nibble(l.key_hash(), depth) == n);
        let (group, tail) = rest.split_at(len);
        rest = tail;
        Some((n, group))
    })
}

/// The node at depth `depth` over `leaves` (which share their first `depth` nibbles).
fn subtree<T: AsLeaf, E>(
    version: Version,
    leaves: &[T],
    depth: usize,
    sink: &mut dyn FnMut(TreeNodeKey, TreeNode) -> Result<(), E>,
) -> Result<ChildRef, E> {
    let key = node_key(version, leaves[0].key_hash(), depth);
    if let [only] = leaves {
        let leaf = LeafNode::new(KeyHash(*only.key_hash()), ValueHash(*only.value_hash()));
        let hash = leaf.hash::<Blake2b256>();
        sink(key, leaf.into())?;
        return Ok(ChildRef {
            hash,
            internal_leaves: None,
        });
    }
    let mut children: [Option<ChildRef>; 16] = Default::default();
    for (n, group) in groups(leaves, depth) {
        children[usize::from(n)] = Some(subtree(version, group, depth + 1, sink)?);
    }
    let (node, child) = internal(version, children, leaves.len());
    sink(key, node)?;
    Ok(child)
}

/// The internal node over `children` and how its parent keeps it.
fn internal(
    version: Version,
    children: [Option<ChildRef>; 16],
    leaf_count: usize,
) -> (Node, ChildRef) {
    let node = internal_node(version, &children, leaf_count);
    let Node::Internal(internal) = &node else {
        unreachable!("internal_node decodes an internal node")
    };
    let hash = internal.hash::<Blake2b256>();
    (
        node,
        ChildRef {
            hash,
            internal_leaves: Some(leaf_count),
        },
    )
}

/// jmt's internal node over `children`. jmt builds them only inside the crate; their borsh
/// form (the one the database stores) is public: `Node::Internal` (variant 1) of the 16
/// optional children (hash, version, `NodeType::Leaf` (0) or `Internal { leaf_count }` (1)),
/// the number of children and the leaf count, integers little-endian, `usize` as `u64`.
fn internal_node(version: Version, children: &[Option<ChildRef>; 16], leaf_count: usize) -> Node {
    let mut bytes = Vec::with_capacity(1 + 16 * 50 + 16);
    bytes.push(1);
    for child in children {
        match child {
            None => bytes.push(0),
            Some(c) => {
                bytes.push(1);
                bytes.extend_from_slice(&c.hash);
                bytes.extend_from_slice(&version.to_le_bytes());
                match c.internal_leaves {
                    None => bytes.push(0),
                    Some(n) => {
                        bytes.push(1);
                        bytes.extend_from_slice(&(n as u64).to_le_bytes());
                    }
                }
            }
        }
    }
    let count = children.iter().flatten().count() as u64;
    bytes.extend_from_slice(&count.to_le_bytes());
    bytes.extend_from_slice(&(leaf_count as u64).to_le_bytes());
    borsh::from_slice(&bytes).expect("the borsh form of an internal node")
}

/// Nibble `i` of a key hash.
fn nibble(key_hash: &[u8; 32], i: usize) -> u8 {
    let byte = key_hash[i / 2];
    if i.is_multiple_of(2) {
        byte >> 4
    } else {
        byte & 0x0f
    }
}

/// The key of the node at the first `depth` nibbles of `key_hash`. jmt builds nibble paths
/// only inside the crate; its borsh form (the one the database stores) is public.
fn node_key(version: Version, key_hash: &[u8; 32], depth: usize) -> TreeNodeKey {
    let mut path = key_hash[..depth.div_ceil(2)].to_vec();
    if depth % 2 == 1 {
        if let Some(last) = path.last_mut() {
            *last &= 0xf0;
        }
    }
    let mut bytes = Vec::with_capacity(8 + 8 + 4 + path.len());
    bytes.extend_from_slice(&version.to_le_bytes());
    bytes.extend_from_slice(&(depth as u64).to_le_bytes());
    bytes.extend_from_slice(&(path.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&path);
    borsh::from_slice::<NodeKey>(&bytes).expect("a well-formed nibble path of at most 64 nibbles")
}

/// One entry of a [`SortedState`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortedEntry {
    pub key_hash: [u8; 32],
    pub value_hash: [u8; 32],
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

impl AsLeaf for SortedEntry {
    fn key_hash(&self) -> &[u8; 32] {
        &self.key_hash
    }
    fn value_hash(&self) -> &[u8; 32] {
        &self.value_hash
    }
}

/// A state as its entries in key-hash order, with its root (version 0): the genesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortedState {
    entries: Vec<SortedEntry>,
    root: Hash,
}

impl SortedState {
    /// The state of the writes in `changes` (removals are ignored: there is nothing to remove).
    pub fn from_changes(changes: StateChanges) -> SortedState {
        Self::from_entries(
            changes
                .into_iter()
                .filter_map(|(key, value)| Some((key, value?))),
        )
    }

    /// The state of `entries`, whose keys are distinct. Stored as they come (one allocation:
    /// the iterator's upper bound, when it has one).
    pub fn from_entries(entries: impl Iterator<Item = (Vec<u8>, Vec<u8>)>) -> SortedState {
        let (low, high) = entries.size_hint();
        let mut sorted = Vec::with_capacity(high.unwrap_or(low));
        sorted.extend(entries.map(|(key, value)| SortedEntry {
            key_hash: [0; 32],
            value_hash: [0; 32],
            key,
            value,
        }));
        let mut entries = sorted;
        crate::parallel::for_each_mut(&mut entries, PARALLEL_LEAVES, |e| {
            e.key_hash = key_hash(&e.key);
            e.value_hash = crate::hashing::blake2_256(&e.value);
        });
        entries.sort_unstable_by_key(|e| e.key_hash);
        debug_assert!(entries.windows(2).all(|w| w[0].key_hash != w[1].key_hash));
        let root = tree_root(0, &entries);
        SortedState { entries, root }
    }

    pub fn root(&self) -> Hash {
        self.root
    }

    /// The entries, in key-hash order.
    pub fn entries(&self) -> &[SortedEntry] {
        &self.entries
    }

    /// Builds the tree again, passing its nodes to `sink` (see [`build_tree`]).
    pub fn write_tree<E>(
        &self,
        sink: &mut dyn FnMut(TreeNodeKey, TreeNode) -> Result<(), E>,
    ) -> Result<Hash, E> {
        build_tree(0, &self.entries, sink)
    }

    /// The same state in memory with its whole tree, to execute blocks on (tools, tests).
    pub fn to_memory_state(&self) -> MemoryState {
        let mut nodes = Vec::new();
        self.write_tree::<std::convert::Infallible>(&mut |k, n| {
            nodes.push((k, n));
            Ok(())
        })
        .unwrap_or_else(|never| match never {});
        let changes: StateChanges = self
            .entries
            .iter()
            .map(|e| (e.key.clone(), Some(e.value.clone())))
            .collect();
        let mut state = MemoryState::new();
        state.apply_update(
            &changes,
            CommitmentUpdate {
                version: 0,
                root: self.root,
                nodes,
                stale: Vec::new(),
            },
        );
        state
    }
}

impl crate::state_machine::StateView for SortedState {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let hash = key_hash(key);
        self.entries
            .binary_search_by(|e| e.key_hash.cmp(&hash))
            .ok()
            .map(|i| self.entries[i].value.clone())
    }

    /// Through a [`MemoryState`] built for the call: the genesis is read, rarely committed on.
    fn commit(&self, changes: &StateChanges) -> Result<CommitmentUpdate, CommitmentError> {
        self.to_memory_state().commit(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commitment::compute_update;
    use crate::StateView;
    use std::collections::BTreeMap;

    /// A leaf: the key's hash and the value's hash.
    type Leaf = ([u8; 32], [u8; 32]);

    impl AsLeaf for Leaf {
        fn key_hash(&self) -> &[u8; 32] {
            &self.0
        }
        fn value_hash(&self) -> &[u8; 32] {
            &self.1
        }
    }

    /// What jmt itself writes for `leaves` as version 0 of a new tree.
    fn jmt_tree(leaves: &[(KeyHash, Vec<u8>)]) -> (Hash, BTreeMap<NodeKey, Node>) {
        let state = MemoryState::new();
        let reader = crate::commitment::Reader(&state);
        let tree = jmt::JellyfishMerkleTree::<_, Blake2b256>::new(&reader);
        let (root, batch) = tree
            .put_value_set(leaves.iter().map(|(k, v)| (*k, Some(v.clone()))), 0)
            .unwrap();
        let nodes = batch.node_batch.nodes().clone().into_iter().collect();
        (Hash(root.0), nodes)
    }

    fn sorted(leaves: &[(KeyHash, Vec<u8>)]) -> Vec<Leaf> {
        let mut sorted: Vec<Leaf> = leaves
            .iter()
            .map(|(k, v)| (k.0, crate::hashing::blake2_256(v)))
            .collect();
        sorted.sort();
        sorted
    }

    fn built(leaves: &[(KeyHash, Vec<u8>)]) -> (Hash, BTreeMap<NodeKey, Node>) {
        let mut nodes = BTreeMap::new();
        let root = build_tree::<_, ()>(0, &sorted(leaves), &mut |k, n| {
            assert!(nodes.insert(k, n).is_none(), "a node passed twice");
            Ok(())
        })
        .unwrap();
        (root, nodes)
    }

    /// Key hashes that share long prefixes, so that internal nodes with one internal child
    /// and leaves deep in the tree occur.
    fn crowded(n: usize, seed: u64) -> Vec<(KeyHash, Vec<u8>)> {
        let mut x = seed;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut out = BTreeMap::new();
        while out.len() < n {
            let mut k = crate::hashing::blake2_256(&next().to_le_bytes());
            // Half of them start with the same 0-5 bytes.
            if next() % 2 == 0 {
                let shared = (next() % 6) as usize;
                k[..shared].fill(0xab);
                if next() % 3 == 0 && shared > 0 {
                    k[shared - 1] &= 0xa0 | (next() as u8 & 0x0f);
                }
            }
            out.insert(KeyHash(k), next().to_le_bytes().to_vec());
        }
        out.into_iter().collect()
    }

    #[test]
    fn the_built_tree_is_the_tree_jmt_writes() {
        for (n, seed) in [
            (0, 1),
            (1, 2),
            (2, 3),
            (3, 4),
            (17, 5),
            (300, 6),
            (2_000, 7),
        ] {
            let leaves = crowded(n, seed);
            let (root, nodes) = built(&leaves);
            let (jmt_root, jmt_nodes) = jmt_tree(&leaves);
            assert_eq!(root, jmt_root, "{n} leaves");
            assert_eq!(root, root_of(&leaves), "{n} leaves");
            assert_eq!(nodes, jmt_nodes, "{n} leaves");
        }
    }

    fn root_of(leaves: &[(KeyHash, Vec<u8>)]) -> Hash {
        tree_root(0, &sorted(leaves))
    }

    #[test]
    fn the_root_built_on_all_cores_is_the_root_built_on_one() {
        for (n, seed) in [(PARALLEL_LEAVES, 8), (20_000, 9)] {
            let leaves = crowded(n, seed);
            assert_eq!(root_of(&leaves), built(&leaves).0, "{n} leaves");
        }
    }

    #[test]
    fn a_sorted_state_equals_the_memory_state_of_its_entries() {
        let changes: StateChanges = (0..500u32)
            .map(|i| {
                (
                    format!("key/{i}").into_bytes(),
                    Some(vec![i as u8; 1 + i as usize % 40]),
                )
            })
            .collect();
        let sorted = SortedState::from_changes(changes.clone());
        let mut memory = MemoryState::new();
        memory.apply(&changes).unwrap();
        assert_eq!(sorted.root(), memory.root());
        assert_eq!(sorted.get(b"key/7"), memory.get(b"key/7"));
        assert_eq!(sorted.get(b"key/none"), None);
        let rebuilt = sorted.to_memory_state();
        assert_eq!(rebuilt.root(), memory.root());
        assert_eq!(rebuilt.node_count(), memory.node_count());
        // Committing on it continues the chain as on the memory state.
        let next: StateChanges = [(b"key/3".to_vec(), None), (b"new".to_vec(), Some(vec![1]))]
            .into_iter()
            .collect();
        assert_eq!(
            sorted.commit(&next).unwrap().root,
            compute_update(&memory, &next, 1).unwrap().root
        );
    }
}
