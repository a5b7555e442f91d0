//! A snapshot of the best state, read from redb, for block execution, pool validation and queries.

use super::{encode_node_key, BlockRef, StorageError, STATE, TREE};
use aitbc_primitives::commitment::{
    compute_update, CommitmentError, CommitmentUpdate, NodeSource, StateChanges, TreeNode,
    TreeNodeKey,
};
use aitbc_primitives::StateView;
use redb::{ReadOnlyTable, ReadTransaction};
use std::cell::RefCell;

/// A key being proved and its value.
type Proving = (Vec<u8>, Option<Vec<u8>>);

/// The state at block `at`, as of one redb read transaction.
///
/// `StateView::get` cannot fail, so a disk error during a read is remembered and reported by
/// [`DbStateView::check`]; callers check it before trusting the outcome of an execution.
pub struct DbStateView {
    at: BlockRef,
    state: ReadOnlyTable<&'static [u8], &'static [u8]>,
    tree: ReadOnlyTable<&'static [u8], &'static [u8]>,
    error: RefCell<Option<String>>,
    /// The key whose value a proof is being made for (jmt asks for it by key hash).
    proving: RefCell<Option<Proving>>,
}

impl DbStateView {
    pub(super) fn new(txn: ReadTransaction, at: BlockRef) -> Result<Self, StorageError> {
        Ok(DbStateView {
            at,
            state: txn.open_table(STATE)?,
            tree: txn.open_table(TREE)?,
            error: RefCell::new(None),
            proving: RefCell::new(None),
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
    pub fn prove(
        &self,
        key: &[u8],
    ) -> Result<(Option<Vec<u8>>, aitbc_primitives::commitment::StateProof), CommitmentError> {
        *self.proving.borrow_mut() = Some((key.to_vec(), self.get(key)));
        let result = aitbc_primitives::commitment::prove(self, key, self.at.number);
        *self.proving.borrow_mut() = None;
        result
    }
}

impl StateView for DbStateView {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
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
        match self.proving.borrow().as_ref() {
            Some((key, value)) if aitbc_primitives::commitment::key_hash(key) == *key_hash => {
                Ok(value.clone())
            }
            _ => Err(CommitmentError(
                "value lookup by key hash outside a proof".into(),
            )),
        }
    }
}
