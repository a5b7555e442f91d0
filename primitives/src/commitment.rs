//! The state commitment: a Jellyfish Merkle tree (the `jmt` crate) over blake2b-256.
//!
//! The state is a flat key-value map. Its root commits to every (key, value) pair: the tree's
//! leaves are keyed by `blake2b-256(key)` and hold `blake2b-256(value)`. Inclusion and exclusion
//! proofs ([`StateProof`]) are checked against a header's state root with [`verify_proof`].
//!
//! Versions: the genesis state is tree version 0 and the state after block `n` is version `n`,
//! each computed from the one before ([`compute_update`]). A version's nodes are produced as a
//! [`CommitmentUpdate`] that the caller persists (the node writes it in the same redb transaction
//! as the block) or applies in memory ([`MemoryState`]). Chosen over trie-db because it ships proofs
//! and a node-batch API that maps onto one write transaction per block; see `benches/` for figures.

use crate::hashing::{Blake2b256, Hash};
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, Version};
use std::collections::BTreeMap;

/// A set of writes: `Some(value)` sets a key, `None` removes it.
pub type StateChanges = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// The tree's node type and key, re-exported for storage backends.
pub use jmt::storage::{Node as TreeNode, NodeKey as TreeNodeKey};

/// A commitment failure: a missing or corrupt tree node (a storage fault, never bad input).
#[derive(Debug, Clone, thiserror::Error)]
#[error("state commitment: {0}")]
pub struct CommitmentError(pub String);

/// Where the tree's nodes are read from.
pub trait NodeSource {
    /// The node at `key`, if stored.
    fn node(&self, key: &NodeKey) -> Result<Option<Node>, CommitmentError>;
    /// The current value of a state key by the hash of the key (for proofs).
    fn value_by_key_hash(&self, key_hash: &[u8; 32]) -> Result<Option<Vec<u8>>, CommitmentError>;
}

/// The tree nodes written by one version, and the root they produce.
#[derive(Debug, Clone)]
pub struct CommitmentUpdate {
    pub version: Version,
    pub root: Hash,
    /// New nodes to store.
    pub nodes: Vec<(NodeKey, Node)>,
    /// Nodes that this version made unreachable from the newest root (prunable).
    pub stale: Vec<NodeKey>,
}

pub(crate) struct Reader<'a, S: ?Sized>(pub(crate) &'a S);

impl<S: NodeSource + ?Sized> TreeReader for Reader<'_, S> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        self.0.node(node_key).map_err(|e| anyhow::anyhow!(e.0))
    }
    fn get_value_option(
        &self,
        _max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        self.0
            .value_by_key_hash(&key_hash.0)
            .map_err(|e| anyhow::anyhow!(e.0))
    }
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only used when restoring a tree from chunks, which we never do.
        Ok(None)
    }
}

/// The leaf key of a state key.
pub fn key_hash(key: &[u8]) -> [u8; 32] {
    crate::hashing::blake2_256(key)
}

/// Computes version `version` of the tree from version `version - 1` (or from the empty tree for
/// version 0) plus `changes`.
///
/// A change set that only writes (the hot path: every transfer and claim) goes through jmt's batch
/// insert, which visits and hashes each touched node once. jmt's one-key-at-a-time `put_value_set`
/// rehashes the whole path (up to 15 blake2b per internal node) for every key, so a block of 10,000
/// writes hashed the root 10,000 times. The batch insert takes no deletions, so a change set that
/// removes a key (rare: authority and coordinator set changes) takes the per-key path. Both give
/// the same nodes, stale nodes and root (`batch_and_per_key_paths_agree`).
pub fn compute_update<S: NodeSource + ?Sized>(
    source: &S,
    changes: &StateChanges,
    version: Version,
) -> Result<CommitmentUpdate, CommitmentError> {
    let reader = Reader(source);
    let tree = JellyfishMerkleTree::<_, Blake2b256>::new(&reader);
    let writes: Option<Vec<(KeyHash, OwnedValue)>> = changes
        .iter()
        .map(|(k, v)| v.as_ref().map(|v| (KeyHash(key_hash(k)), v.clone())))
        .collect();
    let (root, batch) = match writes {
        Some(writes) if !writes.is_empty() => tree
            .batch_put_value_sets(vec![writes], None, version)
            .map(|(roots, batch)| (roots[0], batch)),
        _ => tree.put_value_set(
            changes
                .iter()
                .map(|(k, v)| (KeyHash(key_hash(k)), v.clone())),
            version,
        ),
    }
    .map_err(|e| CommitmentError(e.to_string()))?;
    Ok(update_of(version, root, batch))
}

fn update_of(version: Version, root: jmt::RootHash, batch: TreeUpdateBatch) -> CommitmentUpdate {
    CommitmentUpdate {
        version,
        root: Hash(root.0),
        nodes: batch
            .node_batch
            .nodes()
            .iter()
            .map(|(k, n)| (k.clone(), n.clone()))
            .collect(),
        stale: batch
            .stale_node_index_batch
            .into_iter()
            .map(|s| s.node_key)
            .collect(),
    }
}

/// The root of the empty state (no keys).
pub fn empty_root() -> Hash {
    Hash(JellyfishMerkleTree::<Reader<'_, MemoryState>, Blake2b256>::EMPTY_ROOT.0)
}

/// An inclusion or exclusion proof of one key, in the compact form of [`crate::proof`] (the
/// leaf and the sibling hashes of the key's path).
#[derive(Debug, Clone, PartialEq, Eq, codec::Encode, codec::Decode)]
pub struct StateProof(pub Vec<u8>);

/// Proofs of several keys against one root, in the order of the keys (the RPC's `getReadProof`).
pub type ReadProof = Vec<StateProof>;

/// Why a state proof failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofFailure {
    #[error("the proof does not decode")]
    Malformed,
    /// The proof is of another value (or of presence where absence is claimed, or the reverse).
    #[error("the value does not match its proof")]
    ValueMismatch,
    /// The proof does not lead to the root.
    #[error("the proof does not lead to the state root")]
    RootMismatch,
}

/// Checks that `key` has `value` (`None`: is absent) under `root`, saying what is wrong if not.
pub fn check_proof(
    root: &Hash,
    key: &[u8],
    value: Option<&[u8]>,
    proof: &StateProof,
) -> Result<(), ProofFailure> {
    crate::proof::check(root, key, value, &proof.0)
}

/// Checks each `(key, value)` of `entries` against `root` with the proof at the same position;
/// `Err` names the first entry that does not verify (a missing proof is `Malformed`).
pub fn verify_read_proof(
    root: &Hash,
    entries: &[(&[u8], Option<&[u8]>)],
    proof: &ReadProof,
) -> Result<(), (usize, ProofFailure)> {
    for (i, (key, value)) in entries.iter().enumerate() {
        let p = proof.get(i).ok_or((i, ProofFailure::Malformed))?;
        check_proof(root, key, *value, p).map_err(|f| (i, f))?;
    }
    if proof.len() != entries.len() {
        return Err((entries.len(), ProofFailure::Malformed));
    }
    Ok(())
}

/// Proves the value (or absence) of `key` in the tree at `version`.
pub fn prove<S: NodeSource + ?Sized>(
    source: &S,
    key: &[u8],
    version: Version,
) -> Result<(Option<Vec<u8>>, StateProof), CommitmentError> {
    let reader = Reader(source);
    let tree = JellyfishMerkleTree::<_, Blake2b256>::new(&reader);
    let (value, proof) = tree
        .get_with_proof(KeyHash(key_hash(key)), version)
        .map_err(|e| CommitmentError(e.to_string()))?;
    let bytes = borsh::to_vec(&proof).map_err(|e| CommitmentError(e.to_string()))?;
    let bytes = crate::proof::compact(&bytes)
        .ok_or_else(|| CommitmentError("jmt's proof has an unknown form".into()))?;
    Ok((value, StateProof(bytes)))
}

/// Checks that `key` has `value` (`None`: is absent) in the state with root `root`.
pub fn verify_proof(root: &Hash, key: &[u8], value: Option<&[u8]>, proof: &StateProof) -> bool {
    check_proof(root, key, value, proof).is_ok()
}

/// A whole state held in memory with its tree: for genesis, tests and tools.
#[derive(Debug, Clone, Default)]
pub struct MemoryState {
    values: BTreeMap<Vec<u8>, Vec<u8>>,
    by_key_hash: BTreeMap<[u8; 32], Vec<u8>>,
    nodes: BTreeMap<NodeKey, Node>,
    /// The version of the current root; `None` before anything was committed.
    version: Option<Version>,
    root: Hash,
}

impl MemoryState {
    pub fn new() -> Self {
        MemoryState {
            root: empty_root(),
            ..Default::default()
        }
    }

    /// The version the next [`MemoryState::apply`] produces.
    pub fn next_version(&self) -> Version {
        self.version.map_or(0, |v| v + 1)
    }

    pub fn root(&self) -> Hash {
        self.root
    }

    pub fn values(&self) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        &self.values
    }

    /// How many tree nodes the current version consists of.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The tree nodes of the current version.
    pub fn nodes(&self) -> impl Iterator<Item = (&NodeKey, &Node)> {
        self.nodes.iter()
    }

    /// Applies `changes` with the commitment `update` computed for them.
    pub fn apply_update(&mut self, changes: &StateChanges, update: CommitmentUpdate) {
        for (k, v) in changes {
            match v {
                Some(v) => {
                    self.by_key_hash.insert(key_hash(k), v.clone());
                    self.values.insert(k.clone(), v.clone());
                }
                None => {
                    self.by_key_hash.remove(&key_hash(k));
                    self.values.remove(k);
                }
            }
        }
        for key in &update.stale {
            self.nodes.remove(key);
        }
        self.nodes.extend(update.nodes);
        self.version = Some(update.version);
        self.root = update.root;
    }

    /// Applies `changes`, computing the new root.
    pub fn apply(&mut self, changes: &StateChanges) -> Result<Hash, CommitmentError> {
        let update = compute_update(self, changes, self.next_version())?;
        let root = update.root;
        self.apply_update(changes, update);
        Ok(root)
    }

    /// Proves `key` against the current root.
    pub fn prove(&self, key: &[u8]) -> Result<(Option<Vec<u8>>, StateProof), CommitmentError> {
        match self.version {
            Some(v) => prove(self, key, v),
            None => Err(CommitmentError(
                "empty state has no tree to prove against".into(),
            )),
        }
    }
}

impl NodeSource for MemoryState {
    fn node(&self, key: &NodeKey) -> Result<Option<Node>, CommitmentError> {
        Ok(self.nodes.get(key).cloned())
    }
    fn value_by_key_hash(&self, key_hash: &[u8; 32]) -> Result<Option<Vec<u8>>, CommitmentError> {
        Ok(self.by_key_hash.get(key_hash).cloned())
    }
}

impl crate::state_machine::StateView for MemoryState {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.values.get(key).cloned()
    }
    fn commit(&self, changes: &StateChanges) -> Result<CommitmentUpdate, CommitmentError> {
        compute_update(self, changes, self.next_version())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(pairs: &[(&[u8], Option<&[u8]>)]) -> StateChanges {
        pairs
            .iter()
            .map(|(k, v)| (k.to_vec(), v.map(|v| v.to_vec())))
            .collect()
    }

    #[test]
    fn roots_depend_on_content_not_history() {
        let mut a = MemoryState::new();
        a.apply(&changes(&[(b"k1", Some(b"v1")), (b"k2", Some(b"v2"))]))
            .unwrap();
        let mut b = MemoryState::new();
        b.apply(&changes(&[(b"k2", Some(b"v2"))])).unwrap();
        b.apply(&changes(&[(b"k1", Some(b"v1")), (b"k3", Some(b"x"))]))
            .unwrap();
        b.apply(&changes(&[(b"k3", None)])).unwrap();
        assert_eq!(a.root(), b.root());
        assert_ne!(a.root(), empty_root());
    }

    /// jmt's one-key-at-a-time path, for comparison with [`compute_update`]'s batch path.
    fn per_key_update(s: &MemoryState, changes: &StateChanges) -> CommitmentUpdate {
        let reader = Reader(s);
        let tree = JellyfishMerkleTree::<_, Blake2b256>::new(&reader);
        let values = changes
            .iter()
            .map(|(k, v)| (KeyHash(key_hash(k)), v.clone()));
        let (root, batch) = tree.put_value_set(values, s.next_version()).unwrap();
        update_of(s.next_version(), root, batch)
    }

    #[test]
    fn batch_and_per_key_paths_agree() {
        // Random rounds over small key spaces (so leaves split, collapse and move), with deleting
        // rounds between them; every writing round must give jmt's per-key nodes exactly.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for space in [2u64, 9, 40, 300, 3000] {
            let mut s = MemoryState::new();
            for round in 0..40 {
                let deleting = round % 5 == 4;
                let count = 1 + next(space.min(200));
                let changes: StateChanges = (0..count)
                    .map(|_| {
                        let k = next(space).to_le_bytes().to_vec();
                        let v = (!deleting || next(3) == 0).then(|| vec![next(4) as u8; 5]);
                        (k, v)
                    })
                    .collect();
                let batch = compute_update(&s, &changes, s.next_version()).unwrap();
                let per_key = per_key_update(&s, &changes);
                assert_eq!(batch.root, per_key.root, "space {space} round {round}");
                let sorted = |mut v: Vec<(NodeKey, Node)>| {
                    v.sort_by(|a, b| a.0.cmp(&b.0));
                    v
                };
                assert!(
                    sorted(batch.nodes.clone()) == sorted(per_key.nodes.clone()),
                    "nodes differ: space {space} round {round}"
                );
                let mut a = batch.stale.clone();
                let mut b = per_key.stale.clone();
                a.sort();
                b.sort();
                assert_eq!(a, b, "stale differ: space {space} round {round}");
                s.apply_update(&changes, batch);
            }
        }
    }

    #[test]
    fn inclusion_and_exclusion_proofs() {
        let mut s = MemoryState::new();
        s.apply(&changes(&[(b"alice", Some(b"100")), (b"bob", Some(b"5"))]))
            .unwrap();
        let root = s.root();
        let (v, proof) = s.prove(b"alice").unwrap();
        assert_eq!(v.as_deref(), Some(&b"100"[..]));
        assert!(verify_proof(&root, b"alice", Some(b"100"), &proof));
        assert!(!verify_proof(&root, b"alice", Some(b"101"), &proof));
        assert!(!verify_proof(&root, b"alice", None, &proof));
        let (none, absent) = s.prove(b"carol").unwrap();
        assert!(none.is_none());
        assert!(verify_proof(&root, b"carol", None, &absent));
        assert!(!verify_proof(&root, b"carol", Some(b"1"), &absent));
        assert!(!verify_proof(
            &root,
            b"alice",
            Some(b"100"),
            &StateProof(vec![1, 2, 3])
        ));
    }

    #[test]
    fn a_failed_proof_says_whether_the_value_or_the_proof_is_wrong() {
        let mut s = MemoryState::new();
        let many: StateChanges = (0..50u32)
            .map(|i| (i.to_le_bytes().to_vec(), Some(vec![i as u8])))
            .collect();
        s.apply(&many).unwrap();
        let root = s.root();
        let key = 7u32.to_le_bytes();
        let (value, proof) = s.prove(&key).unwrap();
        let value = value.expect("present");
        assert_eq!(check_proof(&root, &key, Some(&value), &proof), Ok(()));
        assert_eq!(
            check_proof(&root, &key, Some(b"forged"), &proof),
            Err(ProofFailure::ValueMismatch)
        );
        assert_eq!(
            check_proof(&root, &key, None, &proof),
            Err(ProofFailure::ValueMismatch)
        );
        assert_eq!(
            check_proof(&Hash::of(b"another root"), &key, Some(&value), &proof),
            Err(ProofFailure::RootMismatch)
        );
        let mut bytes = proof.0.clone();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            check_proof(&root, &key, Some(&value), &StateProof(bytes)),
            Err(ProofFailure::RootMismatch)
        );
        assert_eq!(
            check_proof(&root, &key, Some(&value), &StateProof(vec![9])),
            Err(ProofFailure::Malformed)
        );
        let entries: Vec<(&[u8], Option<&[u8]>)> = vec![(&key, Some(&value)), (&key, Some(b"x"))];
        let proofs = vec![proof.clone(), proof.clone()];
        assert_eq!(
            verify_read_proof(&root, &entries, &proofs),
            Err((1, ProofFailure::ValueMismatch))
        );
        assert_eq!(
            verify_read_proof(&root, &entries[..1], &proofs[..1].to_vec()),
            Ok(())
        );
        assert_eq!(
            verify_read_proof(&root, &entries[..1], &proofs),
            Err((1, ProofFailure::Malformed))
        );
    }
}
