//! Restoring the state of a finalized block from proof-checked chunks (warp sync,
//! `import-state`), straight into the database.
//!
//! - [`ChainDb::begin_restore`] empties the state of a database that holds only its genesis and
//!   records the target (block and state root) in `meta`; the same call after a restart resumes
//!   the restore of that target.
//! - [`StateRestore::add_chunk`] checks a chunk against the root (`primitives::snapshot`) and,
//!   only if it passes, writes its entries (an append to the state table: both are in key-hash
//!   order), the tree nodes it completed and the rightmost stored leaf in one durable write. A
//!   crash at any point loses at most the chunks not yet written; memory holds the chunks in
//!   hand and one path of the tree whatever the state's size. The two halves are public
//!   ([`StateRestore::check`], [`ChainDb::persist_chunk`]) so that a caller can write one chunk
//!   while it checks the next (warp sync does).
//! - [`StateRestore::finish`] writes the last nodes (the root, checked) together with the target
//!   block, the finality proof's headers and justifications and the voter set, and makes the
//!   target the best and finalized block, in one durable write. History below it is absent: the
//!   database is pruned through the target.

use super::*;
use aitbc_primitives::commitment::{CommitmentError, TreeNode, TreeNodeKey};
use aitbc_primitives::snapshot::{ChunkError, ChunkRestore, ChunkWrite, RestoreSource, StateChunk};
use std::sync::Arc;

const META_RESTORE: &str = "restore";
const META_RESTORE_LEAF: &str = "restore_leaf";
/// Set when a new database skipped the genesis state ([`GenesisState::Skip`]).
const META_NO_STATE: &str = "no_state";

/// Records that the new database has no state yet.
pub(crate) fn mark_state_absent(txn: &redb::WriteTransaction) -> Result<(), StorageError> {
    txn.open_table(META)?.insert(META_NO_STATE, [].as_slice())?;
    Ok(())
}

/// Whether `meta` says the state is absent or half restored.
fn pending_in(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<bool, StorageError> {
    Ok(meta.get(META_NO_STATE)?.is_some() || meta.get(META_RESTORE)?.is_some())
}

/// The restore a database is in the middle of.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct RestoreProgress {
    pub target: BlockRef,
    pub root: Hash,
    /// What the restoring caller needs to finish after a restart (warp sync: the verified
    /// finality proof and the target block), opaque to the database.
    pub context: Vec<u8>,
}

/// Why a restore step failed: the chunk (the sender's fault) or this node's storage.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    Chunk(#[from] ChunkError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A chunk that passed the check, with what persisting it writes.
pub struct CheckedChunk {
    key_hashes: Vec<[u8; 32]>,
    entries: Vec<aitbc_primitives::snapshot::Entry>,
    write: ChunkWrite,
}

/// A finalized block a restore records with the state: its header and, for the blocks of a
/// finality proof, its justification.
#[derive(Debug, Clone, Copy)]
pub struct ProvenBlock<'a> {
    pub at: BlockRef,
    pub encoded_header: &'a [u8],
    pub justification: Option<&'a [u8]>,
    /// Whether it changed the voter set.
    pub set_change: bool,
}

/// What the restore reads back from the database to resume.
struct Persisted(Arc<Database>);

impl RestoreSource for Persisted {
    fn node(&self, key: &TreeNodeKey) -> Result<Option<TreeNode>, CommitmentError> {
        let e = |e: redb::Error| CommitmentError(e.to_string());
        let txn = self.0.begin_read().map_err(|x| e(x.into()))?;
        let tree = txn.open_table(TREE).map_err(|x| e(x.into()))?;
        let k = encode_node_key(key).map_err(|x| CommitmentError(x.to_string()))?;
        let Some(bytes) = tree.get(k.as_slice()).map_err(|x| e(x.into()))? else {
            return Ok(None);
        };
        borsh::from_slice(bytes.value())
            .map(Some)
            .map_err(|x| CommitmentError(x.to_string()))
    }

    fn rightmost_leaf(
        &self,
    ) -> Result<Option<(TreeNodeKey, aitbc_primitives::snapshot::Leaf)>, CommitmentError> {
        let e = |e: redb::Error| CommitmentError(e.to_string());
        let txn = self.0.begin_read().map_err(|x| e(x.into()))?;
        let meta = txn.open_table(META).map_err(|x| e(x.into()))?;
        let Some(bytes) = meta.get(META_RESTORE_LEAF).map_err(|x| e(x.into()))? else {
            return Ok(None);
        };
        borsh::from_slice(bytes.value())
            .map(Some)
            .map_err(|x| CommitmentError(x.to_string()))
    }
}

/// A restore in progress (see the module docs).
pub struct StateRestore {
    progress: RestoreProgress,
    inner: ChunkRestore,
    source: Arc<Persisted>,
}

impl ChainDb {
    /// The restore this database is in the middle of, if any.
    pub fn restore_progress(&self) -> Result<Option<RestoreProgress>, StorageError> {
        self.meta(META_RESTORE)?
            .map(|b| {
                RestoreProgress::decode(&mut &b[..])
                    .map_err(|_| StorageError::Corrupt("restore progress".into()))
            })
            .transpose()
    }

    /// Whether the database waits for a restore: its genesis state was skipped, or a restore is
    /// in progress. Its state is not served meanwhile ([`StorageError::StateRestoring`]).
    pub fn state_pending(&self) -> Result<bool, StorageError> {
        let txn = self.db.begin_read()?;
        pending_in(&txn.open_table(META)?)
    }

    /// Loads the pending mark from the database (at open) into the flag every state read checks
    /// (a read of the best state is the hot path: no table lookups for it).
    pub(crate) fn load_pending(&self) -> Result<(), StorageError> {
        let pending = self.state_pending()?;
        self.pending
            .store(pending, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// Refuses to read a state that is absent or half restored.
    pub(crate) fn refuse_pending(&self) -> Result<(), StorageError> {
        if self.pending.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StorageError::StateRestoring);
        }
        Ok(())
    }

    /// Drops a restore in progress (or the absence of a state) for the genesis state of `g`.
    pub(crate) fn discard_restore(&self, g: &GenesisWrite<'_>) -> Result<(), StorageError> {
        if self.best()?.number != 0 {
            return Err(StorageError::Corrupt(
                "a restore in progress past the genesis".into(),
            ));
        }
        tracing::warn!(target: "db",
            "the state restore in progress (warp sync) is discarded: syncing in full from the genesis");
        self.durable_write("restore discarded", |txn| {
            txn.delete_table(STATE)?;
            txn.delete_table(TREE)?;
            txn.delete_table(STALE)?;
            txn.open_table(STALE)?;
            Self::write_genesis_state(txn, g)?;
            let mut meta = txn.open_table(META)?;
            meta.remove(META_RESTORE)?;
            meta.remove(META_RESTORE_LEAF)?;
            meta.remove(META_NO_STATE)?;
            Ok(())
        })?;
        self.load_pending()
    }

    /// Starts restoring the state of `target` (root `root`), or resumes it after a restart. A
    /// restore of another target is dropped. Refused for a database past its genesis.
    pub fn begin_restore(
        &self,
        target: BlockRef,
        root: Hash,
        context: &[u8],
    ) -> Result<StateRestore, StorageError> {
        let progress = RestoreProgress {
            target,
            root,
            context: context.to_vec(),
        };
        let current = self.restore_progress()?;
        if current.as_ref().map(|p| (p.target, p.root)) != Some((target, root)) {
            if self.best()?.number != 0 && current.is_none() {
                return Err(StorageError::Corrupt(
                    "a state can only be restored into a database that holds just its genesis \
                     (run purge-chain first)"
                        .into(),
                ));
            }
            // No reader may see the state emptied below it.
            self.pending
                .store(true, std::sync::atomic::Ordering::SeqCst);
            self.durable_write("restore start", |txn| {
                txn.delete_table(STATE)?;
                txn.open_table(STATE)?;
                txn.delete_table(TREE)?;
                txn.open_table(TREE)?;
                txn.delete_table(STALE)?;
                txn.open_table(STALE)?;
                let mut meta = txn.open_table(META)?;
                meta.remove(META_RESTORE_LEAF)?;
                meta.insert(META_RESTORE, progress.encode().as_slice())?;
                Ok(())
            })?;
        }
        let source = Arc::new(Persisted(self.db.clone()));
        let inner = ChunkRestore::new(source.clone(), target.number, root)
            .map_err(|e| StorageError::Corrupt(e.to_string()))?;
        Ok(StateRestore {
            progress: self.restore_progress()?.unwrap_or(progress),
            inner,
            source,
        })
    }

    /// Writes a chunk that passed [`StateRestore::check`], in one durable write: its entries,
    /// the tree nodes it completed and the point to resume from.
    pub fn persist_chunk(&self, chunk: &CheckedChunk) -> Result<(), StorageError> {
        self.durable_write("restore chunk", |txn| {
            ChainDb::write_entries(txn, &chunk.key_hashes, &chunk.entries)?;
            ChainDb::write_nodes(txn, &chunk.write)
        })
    }

    /// A chunk's entries: appends to the state table (both are in key-hash order).
    fn write_entries(
        txn: &redb::WriteTransaction,
        key_hashes: &[[u8; 32]],
        entries: &[aitbc_primitives::snapshot::Entry],
    ) -> Result<(), StorageError> {
        let mut state = txn.open_table(STATE)?;
        let mut row = Vec::new();
        for (hash, (k, v)) in key_hashes.iter().zip(entries) {
            state_entry::encode_into(&mut row, k, v);
            state.insert(hash, row.as_slice())?;
        }
        Ok(())
    }

    /// The tree nodes a restore step completed, and the rightmost leaf to resume from.
    fn write_nodes(txn: &redb::WriteTransaction, write: &ChunkWrite) -> Result<(), StorageError> {
        {
            let mut tree = txn.open_table(TREE)?;
            let mut rows = NodeRows::default();
            for (key, node) in &write.nodes {
                rows.insert(&mut tree, key, node)?;
            }
        }
        if let Some(leaf) = &write.rightmost_leaf {
            let leaf = borsh::to_vec(leaf).map_err(|e| StorageError::Corrupt(e.to_string()))?;
            txn.open_table(META)?
                .insert(META_RESTORE_LEAF, leaf.as_slice())?;
        }
        Ok(())
    }
}

impl StateRestore {
    /// The key hash the next chunk must start at.
    pub fn next_start(&self) -> [u8; 32] {
        self.inner.next_start()
    }

    /// Checks `chunk` and persists it (see the module docs). A refused chunk leaves the restore
    /// at the last persisted one, ready for a chunk from someone else.
    pub fn add_chunk(&mut self, db: &ChainDb, chunk: StateChunk) -> Result<(), RestoreError> {
        let checked = match self.check(chunk) {
            Ok(checked) => checked,
            Err(e) => {
                self.reset()?;
                return Err(e.into());
            }
        };
        if let Err(e) = db.persist_chunk(&checked) {
            self.reset()?;
            return Err(e.into());
        }
        Ok(())
    }

    /// The first half of [`StateRestore::add_chunk`]: checks `chunk` on top of the chunks
    /// checked before it, persisted or not. The caller persists the result
    /// ([`ChainDb::persist_chunk`]) in order; after a refused chunk (or a failed write) it
    /// waits for the writes under way and calls [`StateRestore::reset`].
    pub fn check(&mut self, chunk: StateChunk) -> Result<CheckedChunk, ChunkError> {
        let key_hashes = chunk.key_hashes();
        let write = self.inner.add_hashed_chunk(&chunk, &key_hashes)?;
        Ok(CheckedChunk {
            key_hashes,
            entries: chunk.entries,
            write,
        })
    }

    /// Starts again from what is persisted (after a refused chunk or a failed write).
    pub fn reset(&mut self) -> Result<(), StorageError> {
        self.inner = ChunkRestore::new(
            self.source.clone(),
            self.progress.target.number,
            self.progress.root,
        )
        .map_err(|e| StorageError::Corrupt(e.to_string()))?;
        Ok(())
    }

    /// Completes the restore (see the module docs): `target` is the target block (header and
    /// body as `StoredBlock`), `proven` the finality proof's blocks (the target among them, with
    /// its justification), `voter_set` the set after the target.
    pub fn finish(
        self,
        db: &ChainDb,
        target: &StoredBlock<'_>,
        proven: &[ProvenBlock<'_>],
        voter_set: &VoterSet,
    ) -> Result<(), RestoreError> {
        let StateRestore {
            progress, inner, ..
        } = self;
        if target.at != progress.target {
            return Err(StorageError::Corrupt("finishing another block's restore".into()).into());
        }
        let write = inner.finish()?;
        db.durable_write("restore finish", |txn| {
            ChainDb::write_nodes(txn, &write)?;
            ChainDb::store_block(txn, target, false)?;
            {
                let mut headers = txn.open_table(HEADERS)?;
                let mut justifications = txn.open_table(JUSTIFICATIONS)?;
                let mut justified = txn.open_table(JUSTIFIED)?;
                let mut changes = txn.open_table(SET_CHANGES)?;
                for b in proven {
                    headers.insert(&b.at.hash.0, b.encoded_header)?;
                    if let Some(j) = b.justification {
                        justifications.insert(&b.at.hash.0, j)?;
                        justified.insert(b.at.number, &b.at.hash.0)?;
                    }
                    if b.set_change {
                        changes.insert(b.at.number, &b.at.hash.0)?;
                    }
                }
            }
            txn.open_table(CANONICAL)?
                .insert(target.at.number, &target.at.hash.0)?;
            let mut meta = txn.open_table(META)?;
            meta.remove(META_RESTORE)?;
            meta.remove(META_RESTORE_LEAF)?;
            meta.remove(META_NO_STATE)?;
            meta.insert(META_BEST, target.at.encode().as_slice())?;
            meta.insert(META_FINALIZED, target.at.encode().as_slice())?;
            meta.insert(META_PRUNED, target.at.number.encode().as_slice())?;
            meta.insert(META_VOTER_SET, voter_set.encode().as_slice())?;
            Ok(())
        })?;
        db.pending.store(false, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}
