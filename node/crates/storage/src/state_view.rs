//! A snapshot of a state read from redb: the best block's for block execution, pool validation
//! and queries; a recent block's ([`ChainDb::state_at`](super::ChainDb::state_at)) for proofs
//! and state sync.

use super::{encode_node_key, BlockRef, StorageError, PREIMAGES, STATE, TREE};
use aitbc_primitives::commitment::{
    compute_update, CommitmentError, CommitmentUpdate, NodeSource, StateChanges, StateProof,
    TreeNode, TreeNodeKey,
};
use aitbc_primitives::snapshot::{ChunkSource, Entry, StateChunk};
use aitbc_primitives::StateView;
use redb::{ReadOnlyTable, ReadTransaction};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// The state at block `at`, as of one redb read transaction.
///
/// `StateView::get` cannot fail, so a disk error during a read is remembered and reported by
/// [`DbStateView::check`]; callers check it before trusting the outcome of an execution.
pub struct DbStateView {
    at: BlockRef,
    state: ReadOnlyTable<&'static [u8], &'static [u8]>,
    tree: ReadOnlyTable<&'static [u8], &'static [u8]>,
    preimages: ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
    /// For a block below the best: the values of the keys changed since (`None`: absent then).
    overrides: Option<BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
    error: RefCell<Option<String>>,
}

impl DbStateView {
    pub(super) fn new(
        txn: ReadTransaction,
        at: BlockRef,
        overrides: Option<BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
    ) -> Result<Self, StorageError> {
        Ok(DbStateView {
            at,
            state: txn.open_table(STATE)?,
            tree: txn.open_table(TREE)?,
            preimages: txn.open_table(PREIMAGES)?,
            overrides,
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

    fn record<T>(&self, r: Result<T, redb::StorageError>) -> Option<T> {
        r.map_err(|e| *self.error.borrow_mut() = Some(e.to_string()))
            .ok()
    }

    /// Proves the value or absence of `key` against this state's root.
    pub fn prove(&self, key: &[u8]) -> Result<(Option<Vec<u8>>, StateProof), CommitmentError> {
        aitbc_primitives::commitment::prove(self, key, self.at.number)
    }

    /// The entries from key hash `start` on, as many as fit in `max_bytes`, with their proof.
    pub fn chunk(&self, start: [u8; 32], max_bytes: usize) -> Result<StateChunk, CommitmentError> {
        aitbc_primitives::snapshot::read_chunk(self, self.at.number, start, max_bytes)
    }

    fn key_of(&self, key_hash: &[u8; 32]) -> Result<Option<Vec<u8>>, CommitmentError> {
        Ok(self
            .preimages
            .get(key_hash)
            .map_err(|e| CommitmentError(e.to_string()))?
            .map(|k| k.value().to_vec()))
    }
}

impl StateView for DbStateView {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        if let Some(value) = self.overrides.as_ref().and_then(|o| o.get(key)) {
            return value.clone();
        }
        self.record(self.state.get(key))
            .flatten()
            .map(|v| v.value().to_vec())
    }

    fn commit(&self, changes: &StateChanges) -> Result<CommitmentUpdate, CommitmentError> {
        compute_update(self, changes, self.at.number + 1)
    }
}

impl NodeSource for DbStateView {
    fn node(&self, key: &TreeNodeKey) -> Result<Option<TreeNode>, CommitmentError> {
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
        Ok(self.entry(key_hash)?.map(|(_, v)| v))
    }
}

impl ChunkSource for DbStateView {
    fn entry(&self, key_hash: &[u8; 32]) -> Result<Option<Entry>, CommitmentError> {
        let Some(key) = self.key_of(key_hash)? else {
            return Ok(None);
        };
        let value = self.get(&key);
        self.check().map_err(|e| CommitmentError(e.to_string()))?;
        Ok(value.map(|v| (key, v)))
    }
}
