//! A snapshot of a state read from redb: the best block's for block execution, pool validation
//! and queries; a recent block's ([`ChainDb::state_at`](super::ChainDb::state_at)) for proofs
//! and state sync.

use super::{encode_node_key, state_entry, BlockRef, StorageError, STATE, TREE};
use aitbc_primitives::commitment::{
    compute_update, key_hash, CommitmentError, CommitmentUpdate, NodeSource, StateChanges,
    StateProof, TreeNode, TreeNodeKey,
};
use aitbc_primitives::snapshot::{ChunkSource, Entries, Entry, StateChunk};
use aitbc_primitives::StateView;
use redb::{ReadOnlyTable, ReadTransaction};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The state at block `at`, as of one redb read transaction.
///
/// `StateView::get` cannot fail, so a disk error during a read is remembered and reported by
/// [`DbStateView::check`]; callers check it before trusting the outcome of an execution.
pub struct DbStateView {
    at: BlockRef,
    state: ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
    tree: ReadOnlyTable<&'static [u8], &'static [u8]>,
    /// For a block other than the stored best: what differs there ([`Overlay`]).
    overlay: Option<Arc<Overlay>>,
    error: RefCell<Option<String>>,
}

/// Key hash -> (key, value at the view's block).
pub(crate) type Overrides = BTreeMap<[u8; 32], (Vec<u8>, Option<Vec<u8>>)>;

/// The state of a block other than the stored best, over the stored best state: the keys whose
/// values differ there (by key hash, `None`: absent there), and the tree nodes it has that are
/// not stored. A block below the best has no such nodes (its tree's nodes stay stored through
/// the state window); a block above it whose commit is still running ([`PendingState`]) has
/// its own.
#[derive(Debug)]
pub(crate) struct Overlay {
    pub values: Overrides,
    pub nodes: Option<NewNodes>,
}

/// A block's new tree nodes, shared with its execution (not copied), indexed by key.
#[derive(Debug)]
pub(crate) struct NewNodes {
    update: Arc<CommitmentUpdate>,
    index: HashMap<TreeNodeKey, usize>,
}

impl NewNodes {
    fn get(&self, key: &TreeNodeKey) -> Option<&TreeNode> {
        self.index.get(key).map(|&i| &self.update.nodes[i].1)
    }
}

/// An executed block whose durable commit has not finished: a view of its state reads the
/// stored state of its parent with the block's changes and new tree nodes over it
/// ([`super::ChainDb::state_view_on`]). The author builds its next block on it while the
/// commit runs.
#[derive(Debug)]
pub struct PendingState {
    at: BlockRef,
    parent: aitbc_primitives::Hash,
    overlay: Arc<Overlay>,
}

impl PendingState {
    pub fn new(
        at: BlockRef,
        parent: aitbc_primitives::Hash,
        changes: &StateChanges,
        update: Arc<CommitmentUpdate>,
    ) -> PendingState {
        let values = changes
            .iter()
            .map(|(k, v)| (key_hash(k), (k.clone(), v.clone())))
            .collect();
        let index = update
            .nodes
            .iter()
            .enumerate()
            .map(|(i, (key, _))| (key.clone(), i))
            .collect();
        PendingState {
            at,
            parent,
            overlay: Arc::new(Overlay {
                values,
                nodes: Some(NewNodes { update, index }),
            }),
        }
    }

    pub fn at(&self) -> BlockRef {
        self.at
    }

    pub(crate) fn parent(&self) -> aitbc_primitives::Hash {
        self.parent
    }

    pub(crate) fn overlay(&self) -> Arc<Overlay> {
        self.overlay.clone()
    }
}

impl DbStateView {
    pub(super) fn new(
        txn: ReadTransaction,
        at: BlockRef,
        overlay: Option<Arc<Overlay>>,
    ) -> Result<Self, StorageError> {
        Ok(DbStateView {
            at,
            state: txn.open_table(STATE)?,
            tree: txn.open_table(TREE)?,
            overlay,
            error: RefCell::new(None),
        })
    }

    /// The block whose state this is.
    pub fn at(&self) -> BlockRef {
        self.at
    }

    /// Fails if any read through this view hit a storage error.
    pub fn check(&self) -> Result<(), StorageError> {
        match self.error.borrow().as_ref() {
            Some(e) => Err(StorageError::Corrupt(e.clone())),
            None => Ok(()),
        }
    }

    /// Proves the value or absence of `key` against this state's root.
    pub fn prove(&self, key: &[u8]) -> Result<(Option<Vec<u8>>, StateProof), CommitmentError> {
        aitbc_primitives::commitment::prove(self, key, self.at.number)
    }

    /// The entries from key hash `start` on, as many as fit in `max_bytes`, with their proof.
    pub fn chunk(&self, start: [u8; 32], max_bytes: usize) -> Result<StateChunk, CommitmentError> {
        aitbc_primitives::snapshot::read_chunk(self, self.at.number, start, max_bytes)
    }

    /// The key and value under `key_hash` in this state.
    fn lookup(&self, key_hash: &[u8; 32]) -> Result<Option<Entry>, CommitmentError> {
        if let Some((key, value)) = self.overlay.as_ref().and_then(|o| o.values.get(key_hash)) {
            return Ok(value.as_ref().map(|v| (key.clone(), v.clone())));
        }
        let Some(bytes) = self
            .state
            .get(key_hash)
            .map_err(|e| CommitmentError(e.to_string()))?
        else {
            return Ok(None);
        };
        let (key, value) = decode_row(key_hash, bytes.value())?;
        Ok(Some((key.to_vec(), value.to_vec())))
    }
}

impl StateView for DbStateView {
    /// The hot path of execution and validation: the stored entry is decoded in place and only
    /// the value copied.
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let hash = key_hash(key);
        if let Some((_, value)) = self.overlay.as_ref().and_then(|o| o.values.get(&hash)) {
            return value.clone();
        }
        let bytes = match self.state.get(&hash) {
            Ok(bytes) => bytes?,
            Err(e) => {
                *self.error.borrow_mut() = Some(e.to_string());
                return None;
            }
        };
        match decode_row(&hash, bytes.value()) {
            // Another key under the same hash would be a blake2b-256 collision.
            Ok((k, value)) if k == key => Some(value.to_vec()),
            Ok(_) => None,
            Err(e) => {
                *self.error.borrow_mut() = Some(e.0);
                None
            }
        }
    }

    fn commit(&self, changes: &StateChanges) -> Result<CommitmentUpdate, CommitmentError> {
        compute_update(self, changes, self.at.number + 1)
    }
}

impl NodeSource for DbStateView {
    fn node(&self, key: &TreeNodeKey) -> Result<Option<TreeNode>, CommitmentError> {
        if let Some(node) = self
            .overlay
            .as_ref()
            .and_then(|o| o.nodes.as_ref()?.get(key))
        {
            return Ok(Some(node.clone()));
        }
        let k = encode_node_key(key).map_err(|e| CommitmentError(e.to_string()))?;
        let Some(bytes) = self
            .tree
            .get(k.as_slice())
            .map_err(|e| CommitmentError(e.to_string()))?
        else {
            return Ok(None);
        };
        borsh::from_slice(bytes.value())
            .map(Some)
            .map_err(|e| CommitmentError(e.to_string()))
    }

    fn value_by_key_hash(&self, key_hash: &[u8; 32]) -> Result<Option<Vec<u8>>, CommitmentError> {
        Ok(self.lookup(key_hash)?.map(|(_, v)| v))
    }
}

impl ChunkSource for DbStateView {
    /// One pass over the state table (kept in key-hash order), merged with the overlay of a
    /// view of another block than the stored best: no tree node is read.
    fn entries_from(&self, _: u64, start: [u8; 32]) -> Result<Entries<'_>, CommitmentError> {
        let stored = self
            .state
            .range::<&[u8; 32]>(&start..)
            .map_err(|e| CommitmentError(e.to_string()))?
            .map(|row| {
                let (hash, bytes) = row.map_err(|e| CommitmentError(e.to_string()))?;
                let hash = *hash.value();
                let (key, value) = decode_row(&hash, bytes.value())?;
                Ok((hash, (key.to_vec(), value.to_vec())))
            });
        let Some(overlay) = &self.overlay else {
            return Ok(Box::new(stored));
        };
        Ok(Box::new(with_overrides(
            stored,
            overlay.values.range(start..),
        )))
    }
}

/// The key and value of the state table's row under `key_hash`.
fn decode_row<'b>(
    key_hash: &[u8; 32],
    row: &'b [u8],
) -> Result<(&'b [u8], &'b [u8]), CommitmentError> {
    state_entry::decode(row).ok_or_else(|| {
        CommitmentError(format!(
            "malformed state entry {}",
            aitbc_primitives::Hash(*key_hash)
        ))
    })
}

/// `stored` (the best block's entries) as of an older block: each key in `overrides` takes
/// its value then, or is absent then. Both come in key-hash order; so does the result.
fn with_overrides<'a>(
    stored: impl Iterator<Item = Result<([u8; 32], Entry), CommitmentError>> + 'a,
    overrides: impl Iterator<Item = (&'a [u8; 32], &'a (Vec<u8>, Option<Vec<u8>>))> + 'a,
) -> impl Iterator<Item = Result<([u8; 32], Entry), CommitmentError>> + 'a {
    let mut stored = stored.peekable();
    let mut overrides = overrides.peekable();
    std::iter::from_fn(move || loop {
        let next_stored = match stored.peek() {
            Some(Ok((h, _))) => Some(*h),
            Some(Err(_)) => return stored.next(),
            None => None,
        };
        let next_override = overrides.peek().map(|(h, _)| **h);
        match (next_stored, next_override) {
            (None, None) => return None,
            (Some(s), Some(o)) if s < o => return stored.next(),
            (Some(_), None) => return stored.next(),
            (s, Some(o)) => {
                if s == Some(o) {
                    stored.next(); // replaced (or removed) by the override
                }
                let (_, (key, value)) = overrides.next()?;
                if let Some(value) = value {
                    return Some(Ok((o, (key.clone(), value.clone()))));
                }
            }
        }
    })
}
