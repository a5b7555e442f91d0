//! Slashing protection: the durable record of the last slot each local authority key signed,
//! and of its finality votes.
//!
//! Kept in its own redb file (`authoring.redb` in the chain's directory), apart from the chain
//! database, so `purge-chain` keeps it. [`SignedSlots::claim`] commits the slot durably *before*
//! the caller signs, and refuses any slot at or below the recorded one: after a crash between the
//! record and the broadcast the slot is lost, never signed twice. [`SignedSlots::save_votes`]
//! durably replaces the finality voter's record (its round and own votes) before a vote is sent;
//! [`SignedSlots::load_votes`] gives it back after a restart, so no round is voted twice.

use aitbc_primitives::{blake2_256, AccountId, Hash, Slot};
use redb::{Database, ReadableDatabase, TableDefinition};
use std::path::Path;

const LAST_SIGNED: TableDefinition<&[u8; 32], u64> = TableDefinition::new("last_signed_slot");
const VOTES: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("finality_votes");

/// The record of signed slots, for one chain.
///
/// Entries are keyed by `blake2b-256(genesis hash ++ authority)`: a slot number means something
/// only with its chain's slot duration, so another chain (even one reusing the chain id and base
/// path after `purge-chain`) starts a fresh record.
pub struct SignedSlots {
    db: Database,
    genesis: Hash,
}

impl std::fmt::Debug for SignedSlots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignedSlots")
    }
}

/// A slashing-protection failure.
#[derive(Debug, thiserror::Error)]
pub enum SlashingError {
    #[error("slot {slot} is not after the last signed slot {last}: refusing to sign it again")]
    AlreadySigned { slot: Slot, last: Slot },
    #[error("authoring record: {0}")]
    Db(#[from] redb::Error),
}

fn db_err(e: impl Into<redb::Error>) -> SlashingError {
    SlashingError::Db(e.into())
}

impl SignedSlots {
    pub fn open(path: &Path, genesis: Hash) -> Result<Self, SlashingError> {
        Ok(SignedSlots {
            db: Database::create(path).map_err(db_err)?,
            genesis,
        })
    }

    /// The record on a storage backend of redb's (the simulator's disk images).
    pub fn open_with_backend(
        backend: impl redb::StorageBackend,
        genesis: Hash,
    ) -> Result<Self, SlashingError> {
        Ok(SignedSlots {
            db: Database::builder()
                .create_with_backend(backend)
                .map_err(db_err)?,
            genesis,
        })
    }

    fn key(&self, who: &AccountId) -> [u8; 32] {
        blake2_256(&[self.genesis.0, who.0].concat())
    }

    /// The last slot `who` signed, if any.
    pub fn last_signed(&self, who: &AccountId) -> Result<Option<Slot>, SlashingError> {
        self.read(LAST_SIGNED, who, |v| v)
    }

    /// Reads `who`'s entry of `table` (none if the table does not exist yet).
    fn read<V: redb::Value + 'static, T>(
        &self,
        table: TableDefinition<&[u8; 32], V>,
        who: &AccountId,
        map: impl FnOnce(V::SelfType<'_>) -> T,
    ) -> Result<Option<T>, SlashingError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = match txn.open_table(table) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(db_err(e)),
        };
        Ok(table
            .get(&self.key(who))
            .map_err(db_err)?
            .map(|v| map(v.value())))
    }

    /// Durably writes `who`'s entry of `table`.
    fn write<V: redb::Value + 'static>(
        &self,
        table: TableDefinition<&[u8; 32], V>,
        who: &AccountId,
        value: V::SelfType<'_>,
    ) -> Result<(), SlashingError> {
        let mut txn = self.db.begin_write().map_err(db_err)?;
        txn.set_durability(redb::Durability::Immediate)
            .map_err(db_err)?;
        txn.open_table(table)
            .map_err(db_err)?
            .insert(&self.key(who), value)
            .map_err(db_err)?;
        txn.commit().map_err(db_err)?;
        Ok(())
    }

    /// Durably records that `who` signs `slot`; refuses a slot at or below the last one.
    pub fn claim(&self, who: &AccountId, slot: Slot) -> Result<(), SlashingError> {
        if let Some(last) = self.last_signed(who)? {
            if slot <= last {
                return Err(SlashingError::AlreadySigned { slot, last });
            }
        }
        self.write(LAST_SIGNED, who, slot)
    }

    /// Durably replaces `who`'s finality-vote record (opaque bytes: the voter's SCALE record).
    pub fn save_votes(&self, who: &AccountId, record: &[u8]) -> Result<(), SlashingError> {
        self.write(VOTES, who, record)
    }

    /// `who`'s last finality-vote record.
    pub fn load_votes(&self, who: &AccountId) -> Result<Option<Vec<u8>>, SlashingError> {
        self.read(VOTES, who, |v| v.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aitbc_primitives::crypto::dev_pair;

    #[test]
    fn never_signs_a_slot_twice_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("authoring.redb");
        let alice = dev_pair("alice").public();
        let g = Hash::of(b"chain a");
        {
            let s = SignedSlots::open(&path, g).unwrap();
            assert_eq!(s.last_signed(&alice).unwrap(), None);
            s.claim(&alice, 10).unwrap();
        }
        let s = SignedSlots::open(&path, g).unwrap();
        assert_eq!(s.last_signed(&alice).unwrap(), Some(10));
        assert!(matches!(
            s.claim(&alice, 10),
            Err(SlashingError::AlreadySigned { slot: 10, last: 10 })
        ));
        assert!(matches!(
            s.claim(&alice, 9),
            Err(SlashingError::AlreadySigned { .. })
        ));
        s.claim(&alice, 11).unwrap();
        drop(s);
        // Another chain in the same file has its own record.
        let other = SignedSlots::open(&path, Hash::of(b"chain b")).unwrap();
        assert_eq!(other.last_signed(&alice).unwrap(), None);
        other.claim(&alice, 5).unwrap();
    }

    #[test]
    fn vote_record_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("authoring.redb");
        let alice = dev_pair("alice").public();
        let g = Hash::of(b"chain a");
        {
            let s = SignedSlots::open(&path, g).unwrap();
            assert_eq!(s.load_votes(&alice).unwrap(), None);
            s.save_votes(&alice, b"round 1").unwrap();
            s.save_votes(&alice, b"round 2").unwrap();
        }
        let s = SignedSlots::open(&path, g).unwrap();
        assert_eq!(s.load_votes(&alice).unwrap(), Some(b"round 2".to_vec()));
    }
}
