//! A state made only of proven values: queries run on it exactly as the runtime runs them on a
//! full state, and every key they read that was not proven yet is noted, to be fetched with its
//! proof and the query run again (the reads of a query can depend on the values it read).

use aitbc_primitives::commitment::{CommitmentError, CommitmentUpdate, StateChanges};
use aitbc_primitives::StateView;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// Proven values (`None`: proven absent) and the keys a query missed.
#[derive(Default)]
pub struct ProvenView {
    pub values: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    missing: RefCell<BTreeSet<Vec<u8>>>,
}

impl ProvenView {
    /// The keys read since the last call that are not proven; clears the list.
    pub fn take_missing(&self) -> BTreeSet<Vec<u8>> {
        std::mem::take(&mut self.missing.borrow_mut())
    }
}

impl StateView for ProvenView {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.values.get(key) {
            Some(v) => v.clone(),
            None => {
                self.missing.borrow_mut().insert(key.to_vec());
                None
            }
        }
    }
    fn commit(&self, _: &StateChanges) -> Result<CommitmentUpdate, CommitmentError> {
        Err(CommitmentError(
            "a light client's state is read-only".into(),
        ))
    }
}
