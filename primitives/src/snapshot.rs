//! State snapshots in proof-checked chunks (warp sync, `export-state` / `import-state`).
//!
//! Protocol:
//! - The state of block `n` (tree version `n`) is served in key-hash order (the order of the
//!   tree's leaves) as [`StateChunk`]s: the `(key, value)` pairs whose key hashes follow the
//!   requested start, and jmt's range proof for the chunk's last key (the right siblings on its
//!   path). [`read_chunk`] makes one from any [`ChunkSource`].
//! - A receiver that trusts only the state root (from a finalized header) restores the tree with
//!   [`ChunkRestore`], jmt's `JellyfishMerkleRestore`: each chunk is checked, with everything
//!   received before it, against the root before anything of it is kept; a chunk that fails
//!   leaves the restore unusable (rebuild it from what was persisted and ask someone else).
//! - Memory stays bounded: each accepted chunk yields the tree nodes it completed (a
//!   [`ChunkWrite`]) for the caller to persist with the chunk's entries, and only the path of the
//!   last key stays in memory. Persisting [`ChunkWrite::rightmost_leaf`] too makes the restore
//!   resumable: [`ChunkRestore::new`] rebuilds the partial path from the stored nodes, and
//!   [`ChunkRestore::next_start`] is the key hash after the last stored leaf, so a restart asks
//!   again only for the keys after it (the last key of the last chunk, whose leaf was not stored
//!   yet).
//! - The end: a chunk says whether more keys follow (`more`); the receiver does not trust it:
//!   [`ChunkRestore::finish`] builds the root and refuses it unless it is the expected root (a
//!   server that claimed the end early is caught there).

use crate::commitment::{CommitmentError, NodeSource};
use crate::hashing::{Blake2b256, Hash};
use codec::{Decode, Encode};
use jmt::restore::{JellyfishMerkleRestore, StateSnapshotReceiver};
use jmt::storage::{LeafNode, Node, NodeBatch, NodeKey, TreeReader, TreeWriter};

/// A leaf of the state tree (its key hash and value hash), as a restore persists it.
pub use jmt::storage::LeafNode as Leaf;
use jmt::{JellyfishMerkleIterator, JellyfishMerkleTree, KeyHash, OwnedValue, Version};
use std::sync::{Arc, Mutex};

/// A state key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A run of a state's entries in key-hash order and the range proof of its last key.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct StateChunk {
    pub entries: Vec<Entry>,
    /// Borsh bytes of jmt's `SparseMerkleRangeProof` for the last entry (empty with no entries).
    pub proof: Vec<u8>,
    /// Whether the server holds keys after this chunk.
    pub more: bool,
}

impl StateChunk {
    /// Where the chunk after this one starts: the key hash after its last entry (`None` when
    /// it is empty).
    pub fn next_start(&self) -> Option<[u8; 32]> {
        self.entries
            .last()
            .map(|(k, _)| after(crate::commitment::key_hash(k)))
    }

    /// The key hashes of its entries, in order (hashed on all cores).
    pub fn key_hashes(&self) -> Vec<[u8; 32]> {
        crate::parallel::try_map(&self.entries, 4096, |_, (k, _)| {
            Ok::<_, std::convert::Infallible>(crate::commitment::key_hash(k))
        })
        .unwrap_or_else(|never| match never {})
    }
}

/// Entries with their key hashes, in key-hash order.
pub type Entries<'a> = Box<dyn Iterator<Item = Result<([u8; 32], Entry), CommitmentError>> + 'a>;

/// A state that can be served in chunks: its tree nodes, and its entries in key-hash order.
pub trait ChunkSource: NodeSource {
    /// The entries of version `version` (the served one) from key hash `start` on (inclusive).
    /// [`leaf_entries`] reads them for any source; a store that keeps its entries in key-hash
    /// order reads them in one pass, and is tested against it.
    fn entries_from(
        &self,
        version: Version,
        start: [u8; 32],
    ) -> Result<Entries<'_>, CommitmentError>;
}

/// The entries of version `version` from `start` on, by walking the tree's leaves and looking
/// each up with `entry` (checked to hash to its leaf).
pub fn leaf_entries<'a, S: NodeSource + ?Sized>(
    source: &'a S,
    version: Version,
    start: [u8; 32],
    entry: impl Fn(&[u8; 32]) -> Result<Option<Entry>, CommitmentError> + 'a,
) -> Result<Entries<'a>, CommitmentError> {
    let leaves = JellyfishMerkleIterator::new(Arc::new(LeafWalk(source)), version, KeyHash(start))
        .map_err(err)?;
    Ok(Box::new(leaves.map(move |leaf| {
        let (key_hash, _) = leaf.map_err(err)?;
        let (key, value) = entry(&key_hash.0)?.ok_or_else(|| {
            CommitmentError(format!("no entry for leaf {}", hex::encode(key_hash.0)))
        })?;
        if crate::commitment::key_hash(&key) != key_hash.0 {
            return Err(CommitmentError("a leaf's key does not hash to it".into()));
        }
        Ok((key_hash.0, (key, value)))
    })))
}

/// Walks leaves and proves ranges: only the key hashes matter, so values read as empty.
struct LeafWalk<'a, S: ?Sized>(&'a S);

impl<S: NodeSource + ?Sized> TreeReader for LeafWalk<'_, S> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        self.0.node(node_key).map_err(|e| anyhow::anyhow!(e.0))
    }
    fn get_value_option(&self, _: Version, _: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        Ok(Some(Vec::new()))
    }
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        Ok(None)
    }
}

fn err(e: impl std::fmt::Display) -> CommitmentError {
    CommitmentError(e.to_string())
}

/// The entries of version `version` from key hash `start` on (inclusive), as many as fit in
/// `max_bytes` (at least one), with the range proof of the last.
pub fn read_chunk<S: ChunkSource + ?Sized>(
    source: &S,
    version: Version,
    start: [u8; 32],
    max_bytes: usize,
) -> Result<StateChunk, CommitmentError> {
    let (mut entries, mut bytes, mut last, mut more) = (Vec::new(), 0usize, None, false);
    for item in source.entries_from(version, start)? {
        let (key_hash, (key, value)) = item?;
        if !entries.is_empty() && bytes >= max_bytes {
            more = true;
            break;
        }
        bytes += key.len() + value.len() + 8;
        entries.push((key, value));
        last = Some(KeyHash(key_hash));
    }
    let proof = match last {
        None => Vec::new(),
        Some(last) => {
            let walk = LeafWalk(source);
            let tree = JellyfishMerkleTree::<_, Blake2b256>::new(&walk);
            let proof = tree.get_range_proof(last, version).map_err(err)?;
            borsh::to_vec(&proof).map_err(err)?
        }
    };
    Ok(StateChunk {
        entries,
        proof,
        more,
    })
}

/// What a restore reads back from the receiver's storage to resume: the tree nodes written so
/// far and the rightmost leaf among them.
pub trait RestoreSource: Send + Sync {
    fn node(&self, key: &NodeKey) -> Result<Option<Node>, CommitmentError>;
    fn rightmost_leaf(&self) -> Result<Option<(NodeKey, LeafNode)>, CommitmentError>;
}

/// Tree nodes a restore step completed, to be persisted with the step's entries.
#[derive(Debug, Default)]
pub struct ChunkWrite {
    pub nodes: Vec<(NodeKey, Node)>,
    /// The rightmost leaf among `nodes`, if any (persist it for [`RestoreSource::rightmost_leaf`]).
    pub rightmost_leaf: Option<(NodeKey, LeafNode)>,
}

/// Why a chunk (or the end of a restore) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("the chunk is empty")]
    Empty,
    #[error("the chunk starts before the requested key")]
    BeforeStart,
    #[error("the chunk's proof does not decode")]
    BadProofEncoding,
    #[error("the chunk does not match the state root: {0}")]
    Mismatch(String),
    #[error("the restored state has root {found}, not the expected {expected}")]
    WrongRoot { expected: Hash, found: Hash },
    #[error("the receiver's storage: {0}")]
    Storage(String),
}

/// Collects what jmt's restore writes, and reads back what was persisted.
struct Store {
    source: Arc<dyn RestoreSource>,
    written: Mutex<Vec<(NodeKey, Node)>>,
}

impl TreeReader for Store {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        self.source.node(node_key).map_err(|e| anyhow::anyhow!(e.0))
    }
    fn get_value_option(&self, _: Version, _: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        anyhow::bail!("a restore reads no values")
    }
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        self.source
            .rightmost_leaf()
            .map_err(|e| anyhow::anyhow!(e.0))
    }
}

impl TreeWriter for Store {
    fn write_node_batch(&self, batch: &NodeBatch) -> anyhow::Result<()> {
        let mut written = self
            .written
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        written.extend(batch.nodes().iter().map(|(k, n)| (k.clone(), n.clone())));
        Ok(())
    }
}

/// A resumable, proof-checked restore of one state version (see the module docs).
pub struct ChunkRestore {
    inner: JellyfishMerkleRestore<Blake2b256>,
    store: Arc<Store>,
    version: Version,
    root: Hash,
    next_start: [u8; 32],
}

impl ChunkRestore {
    /// Starts (or resumes, from what `source` holds) the restore of version `version` with
    /// root `root`.
    pub fn new(
        source: Arc<dyn RestoreSource>,
        version: Version,
        root: Hash,
    ) -> Result<ChunkRestore, ChunkError> {
        let next_start = match source
            .rightmost_leaf()
            .map_err(|e| ChunkError::Storage(e.0))?
        {
            Some((_, leaf)) => after(leaf.key_hash().0),
            None => [0; 32],
        };
        let store = Arc::new(Store {
            source,
            written: Mutex::new(Vec::new()),
        });
        let inner = JellyfishMerkleRestore::new(store.clone(), version, jmt::RootHash(root.0))
            .map_err(|e| ChunkError::Storage(e.to_string()))?;
        Ok(ChunkRestore {
            inner,
            store,
            version,
            root,
            next_start,
        })
    }

    /// The key hash the next chunk must start at or after.
    pub fn next_start(&self) -> [u8; 32] {
        self.next_start
    }

    /// Checks `chunk` (asked from [`ChunkRestore::next_start`]) against the root with
    /// everything before it and returns the nodes it completed. After an error this restore is
    /// unusable: make a new one from what was persisted.
    pub fn add_chunk(&mut self, chunk: &StateChunk) -> Result<ChunkWrite, ChunkError> {
        self.add_hashed_chunk(chunk, &chunk.key_hashes())
    }

    /// [`ChunkRestore::add_chunk`] given the chunk's [`StateChunk::key_hashes`] (which the
    /// caller also stores).
    pub fn add_hashed_chunk(
        &mut self,
        chunk: &StateChunk,
        key_hashes: &[[u8; 32]],
    ) -> Result<ChunkWrite, ChunkError> {
        let first = key_hashes.first().ok_or(ChunkError::Empty)?;
        if key_hashes.len() != chunk.entries.len() {
            return Err(ChunkError::Mismatch("not the chunk's key hashes".into()));
        }
        if *first < self.next_start {
            return Err(ChunkError::BeforeStart);
        }
        let proof =
            borsh::from_slice::<jmt::proof::SparseMerkleRangeProof<Blake2b256>>(&chunk.proof)
                .map_err(|_| ChunkError::BadProofEncoding)?;
        let pairs: Vec<(KeyHash, OwnedValue)> = key_hashes
            .iter()
            .zip(&chunk.entries)
            .map(|(h, (_, v))| (KeyHash(*h), v.clone()))
            .collect();
        let last = pairs.last().map(|(k, _)| k.0).unwrap_or_default();
        // jmt checks its own invariants with assertions; hostile input must not reach one, but
        // if it does, it is a refused chunk, not a crashed node.
        let inner = &mut self.inner;
        let added = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            inner.add_chunk(pairs, proof)
        }))
        .map_err(|_| ChunkError::Mismatch("the chunk broke the restore".into()))?;
        added.map_err(|e| ChunkError::Mismatch(e.to_string()))?;
        self.next_start = after(last);
        Ok(self.take_written())
    }

    /// Completes the tree once every chunk is in: the last nodes (the root among them), refused
    /// unless the root is the expected one.
    pub fn finish(self) -> Result<ChunkWrite, ChunkError> {
        let ChunkRestore {
            inner,
            store,
            version,
            root,
            ..
        } = self;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.finish()))
            .map_err(|_| ChunkError::Mismatch("the restore could not complete".into()))?
            .map_err(|e| ChunkError::Mismatch(e.to_string()))?;
        let write = Self::drain(&store);
        let found = write
            .nodes
            .iter()
            .find(|(k, _)| k.version() == version && k.nibble_path().num_nibbles() == 0)
            .map(|(_, n)| Hash(node_hash(n)))
            .unwrap_or(crate::commitment::empty_root());
        if found != root {
            return Err(ChunkError::WrongRoot {
                expected: root,
                found,
            });
        }
        Ok(write)
    }

    fn take_written(&self) -> ChunkWrite {
        Self::drain(&self.store)
    }

    fn drain(store: &Store) -> ChunkWrite {
        let nodes = match store.written.lock() {
            Ok(mut w) => std::mem::take(&mut *w),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        };
        let rightmost_leaf = nodes
            .iter()
            .filter_map(|(k, n)| match n {
                Node::Leaf(leaf) => Some((k.clone(), leaf.clone())),
                _ => None,
            })
            .max_by_key(|(_, leaf)| leaf.key_hash());
        ChunkWrite {
            nodes,
            rightmost_leaf,
        }
    }
}

fn node_hash(node: &Node) -> [u8; 32] {
    match node {
        Node::Internal(n) => n.hash::<Blake2b256>(),
        Node::Leaf(n) => n.hash::<Blake2b256>(),
        Node::Null => crate::commitment::empty_root().0,
    }
}

/// The key hash right after `key` (saturating at the largest).
fn after(key: [u8; 32]) -> [u8; 32] {
    let mut out = key;
    for byte in out.iter_mut().rev() {
        if *byte == u8::MAX {
            *byte = 0;
        } else {
            *byte += 1;
            return out;
        }
    }
    [u8::MAX; 32]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commitment::{key_hash, MemoryState, StateChanges};
    use std::collections::BTreeMap;

    /// A memory state served in chunks (its keys by hash on the side).
    struct Served {
        state: MemoryState,
        keys: BTreeMap<[u8; 32], Vec<u8>>,
    }

    impl NodeSource for Served {
        fn node(&self, key: &NodeKey) -> Result<Option<Node>, CommitmentError> {
            self.state.node(key)
        }
        fn value_by_key_hash(&self, h: &[u8; 32]) -> Result<Option<Vec<u8>>, CommitmentError> {
            self.state.value_by_key_hash(h)
        }
    }

    impl ChunkSource for Served {
        fn entries_from(
            &self,
            version: Version,
            start: [u8; 32],
        ) -> Result<Entries<'_>, CommitmentError> {
            leaf_entries(self, version, start, |h| {
                Ok(self
                    .keys
                    .get(h)
                    .and_then(|k| self.state.values().get(k).map(|v| (k.clone(), v.clone()))))
            })
        }
    }

    fn served(n: u32) -> Served {
        let changes: StateChanges = (0..n)
            .map(|i| {
                (
                    format!("key-{i}").into_bytes(),
                    Some(vec![i as u8; 1 + (i % 50) as usize]),
                )
            })
            .collect();
        let mut state = MemoryState::new();
        state.apply(&changes).expect("applies");
        // A second version, so the served tree mixes node versions.
        let second: StateChanges = (0..n / 10)
            .map(|i| (format!("key-{}", i * 7).into_bytes(), Some(vec![0xee; 3])))
            .collect();
        state.apply(&second).expect("applies");
        let keys = changes.keys().map(|k| (key_hash(k), k.clone())).collect();
        Served { state, keys }
    }

    /// What a receiver persisted.
    #[derive(Default)]
    struct Persisted {
        nodes: Mutex<BTreeMap<NodeKey, Node>>,
        rightmost: Mutex<Option<(NodeKey, LeafNode)>>,
        entries: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
    }

    impl RestoreSource for Persisted {
        fn node(&self, key: &NodeKey) -> Result<Option<Node>, CommitmentError> {
            Ok(self.nodes.lock().expect("lock").get(key).cloned())
        }
        fn rightmost_leaf(&self) -> Result<Option<(NodeKey, LeafNode)>, CommitmentError> {
            Ok(self.rightmost.lock().expect("lock").clone())
        }
    }

    impl Persisted {
        fn keep(&self, write: ChunkWrite, entries: &[Entry]) {
            self.nodes.lock().expect("lock").extend(write.nodes);
            if write.rightmost_leaf.is_some() {
                *self.rightmost.lock().expect("lock") = write.rightmost_leaf;
            }
            self.entries
                .lock()
                .expect("lock")
                .extend(entries.iter().cloned());
        }
    }

    const VERSION: Version = 1;

    /// Restores `from` in chunks of `bytes`, restarting the restore after every `restart_every`
    /// chunks (0: never); returns the persisted result and how many entries were received.
    fn restore(from: &Served, bytes: usize, restart_every: usize) -> (Arc<Persisted>, usize) {
        let into = Arc::new(Persisted::default());
        let mut r = ChunkRestore::new(into.clone(), VERSION, from.state.root()).expect("starts");
        let (mut chunks, mut received) = (0, 0);
        loop {
            let chunk = read_chunk(from, VERSION, r.next_start(), bytes).expect("served");
            received += chunk.entries.len();
            if !chunk.entries.is_empty() {
                let write = r.add_chunk(&chunk).expect("valid chunk");
                into.keep(write, &chunk.entries);
            }
            if !chunk.more {
                into.keep(r.finish().expect("right root"), &[]);
                return (into, received);
            }
            chunks += 1;
            if restart_every > 0 && chunks % restart_every == 0 {
                r = ChunkRestore::new(into.clone(), VERSION, from.state.root()).expect("resumes");
            }
        }
    }

    #[test]
    fn a_state_restored_in_chunks_has_the_root_and_every_entry() {
        let from = served(3_000);
        for bytes in [1, 500, 20_000, 1 << 20] {
            let (into, received) = restore(&from, bytes, 0);
            assert_eq!(received, 3_000, "chunks of {bytes} bytes");
            assert_eq!(&*into.entries.lock().expect("lock"), from.state.values());
        }
    }

    #[test]
    fn a_restarted_restore_asks_again_only_for_the_last_key() {
        let from = served(3_000);
        let (into, received) = restore(&from, 2_000, 1);
        assert_eq!(&*into.entries.lock().expect("lock"), from.state.values());
        let chunks = 3_000 / 40;
        assert!(
            received <= 3_000 + chunks * 2,
            "received {received} entries"
        );
    }

    #[test]
    fn forged_chunks_are_refused() {
        let from = served(500);
        let root = from.state.root();
        let fresh =
            || ChunkRestore::new(Arc::new(Persisted::default()), VERSION, root).expect("starts");
        let good = read_chunk(&from, VERSION, [0; 32], 2_000).expect("served");
        assert!(good.more);
        fresh().add_chunk(&good).expect("the honest chunk");

        let mut tampered = good.clone();
        tampered.entries[3].1.push(1);
        assert!(matches!(
            fresh().add_chunk(&tampered),
            Err(ChunkError::Mismatch(_))
        ));
        let mut gap = good.clone();
        gap.entries.remove(2);
        assert!(matches!(
            fresh().add_chunk(&gap),
            Err(ChunkError::Mismatch(_))
        ));
        let mut bad_proof = good.clone();
        bad_proof.proof = vec![1, 2, 3];
        assert_eq!(
            fresh().add_chunk(&bad_proof).err(),
            Some(ChunkError::BadProofEncoding)
        );
        let mut other_proof = good.clone();
        other_proof.proof = read_chunk(&from, VERSION, [0x80; 32], 2_000)
            .expect("served")
            .proof;
        assert!(matches!(
            fresh().add_chunk(&other_proof),
            Err(ChunkError::Mismatch(_))
        ));
        let mut reordered = good.clone();
        reordered.entries.swap(0, 1);
        assert!(fresh().add_chunk(&reordered).is_err());
        let empty = StateChunk {
            entries: vec![],
            proof: vec![],
            more: true,
        };
        assert_eq!(fresh().add_chunk(&empty).err(), Some(ChunkError::Empty));

        // Claiming the end early is caught at the root.
        let mut r = fresh();
        r.add_chunk(&good).expect("valid");
        assert!(matches!(r.finish(), Err(ChunkError::WrongRoot { .. })));
        // A chunk that goes back before what was received.
        let mut r = fresh();
        r.add_chunk(&good).expect("valid");
        assert_eq!(r.add_chunk(&good).err(), Some(ChunkError::BeforeStart));
    }
}
