//! Chain storage in one redb file.
//!
//! Tables:
//! - `blocks`: block hash -> SCALE `SignedBlock` (header, body, seal; the justification is kept
//!   apart) for every block this node accepted, on the best chain or on a fork;
//! - `headers`: block hash -> SCALE `Header` (ancestry walks without decoding bodies);
//! - `authors`: block hash -> the authority that sealed it (checked at import);
//! - `justifications`: block hash -> SCALE `Justification` of a block finalized by votes (or
//!   signed by a single authority with its block);
//! - `justified`: block number -> hash, the finalized blocks with a justification (the latest is
//!   the head of finality proofs);
//! - `set_changes`: block number -> hash, every finalized block that changed the voter set
//!   (their justifications are kept forever: they are the fragments of finality proofs);
//! - `unfinalized`: block hash -> number, every stored block above the finalized one (the fork
//!   tree rebuilt at start);
//! - `undo`: block hash -> SCALE [`UndoLog`] (tree nodes added, transactions indexed) of an
//!   executed block that is not final yet;
//! - `prior`: block hash -> SCALE [`Prior`], the previous value of every key an executed block
//!   changed, while the block is not final or in the state-pruning window: what a revert
//!   restores and what the state of a recent block is read from ([`ChainDb::state_at`]);
//! - `canonical`: block number -> block hash, for the best chain;
//! - `txs`: transaction hash -> SCALE [`TxRecord`] (block, index, outcome), best chain only;
//! - `state`: the flat key-value state at the best block, keyed by the key's hash (the tree's
//!   leaf key, blake2b-256) -> [`state_entry`] (the key and the value): so it is in the tree's
//!   order, and a genesis or a restored state (both come in key-hash order) is written as an
//!   append, not as inserts all over the table; serving the state in chunks reads keys and
//!   values in that order;
//! - `tree`: state-commitment (Jellyfish Merkle tree) nodes, borsh `NodeKey` -> borsh `Node`;
//! - `stale`: block number -> SCALE list of the tree keys that best-chain block made unreachable
//!   and that are not pruned yet;
//! - `meta`: genesis hash, best and finalized block, schema version, the finality voter set
//!   (changed in the same write that finalizes the block signalling the change), the block the
//!   history is pruned through, and a state restore in progress (`restore.rs`).
//!
//! Invariants:
//! - One durable redb write transaction per executed block ([`ChainDb::commit_block`]) writes the
//!   block, its index entries, its state changes, its tree nodes, its prior values, its undo log
//!   and the new head together, so a crash leaves either the whole block or none of it.
//! - The flat state and the tree hold exactly the best chain's state. A block that is not final
//!   keeps its prior values (each changed key's previous value) and an undo log (the tree nodes
//!   it added, its transactions), so a reorganisation ([`ChainDb::revert`]) rolls the best chain
//!   back to a common ancestor in one durable write before the other branch is executed on top.
//!   Tree nodes are versioned by block number; the reverted block's nodes are deleted before a
//!   sibling writes nodes of the same version.
//! - Tree nodes a block makes unreachable are not deleted by its commit: the commit records their
//!   keys under the block's number in `stale`, so a revert only deletes the nodes the block added
//!   (the old ones are still there) and drops the record. The stale nodes and the prior values of
//!   a final block are what the states before it are read from; once the block is older than the
//!   state-pruning window ([`Pruning`]), [`ChainDb::prune`] deletes them, many blocks' worth in
//!   one write, in key order, off the import path. Deleting them in each block's commit was a
//!   fifth of a full block's import time (14,600 random deletes for 2,000 transfers), and the
//!   undo log had to keep a copy of every deleted node.
//! - Finalization ([`ChainDb::finalize`]) drops the undo logs up to the finalized block and every
//!   stored block that does not descend from it; a finalized block is never reverted.
//! - The database records the genesis hash on creation and refuses to open for another chain.
//!
//! Crash safety:
//! - Power loss: every write transaction is committed with `Durability::Immediate` (redb syncs
//!   before `commit` returns, one sync per commit), and the client updates its in-memory head,
//!   emits chain events (which the finality voter and the RPC follow) and returns to the author
//!   (which then announces the block) only after the commit returned. A block or finalization
//!   the node reported is therefore on disk; a cut before a sync, even with any subset of the
//!   unsynced pages written, reopens at the last complete commit (the node's `crash_tests`, on
//!   `test_disk`: a cut before every sync, clean and torn, through the real client, each image
//!   checked with `check-db`).
//! - Disk faults (a full or failing disk): redb fails the write and from then on refuses every
//!   operation on that handle (`PreviousIo`) until the file is reopened, and whether the failed
//!   commit reached the disk is known only after reopening. So the first failed durable write
//!   latches [`ChainDb::write_failure`]: later writes are refused with
//!   [`StorageError::WriteFailed`], the error is logged once at error level, and the node stops
//!   cleanly (exit code 1, with the reason and "free disk space … then start it again"). A
//!   failed write of the authoring record (`authoring.redb`) does the same. The node does not
//!   reopen the file in place: its in-memory head, fork tree and pool would have to be rebuilt
//!   from whatever the failed commit left, which a restart does anyway. A restart once the disk
//!   has space again opens at the last complete commit and goes on (the node's `crash_tests`).
//! - `aitbc-node check-db` checks a stopped node's database offline (the node's `cli::check_db`).

mod history;
pub mod lease;
mod restore;
mod state_view;
#[cfg(any(test, feature = "testing"))]
pub mod test_disk;

pub use history::{Finalization, Pruning};
pub use restore::{CheckedChunk, ProvenBlock, RestoreError, RestoreProgress, StateRestore};
pub use state_view::{DbStateView, PendingState};

use aitbc_primitives::commitment;
use aitbc_primitives::{
    AccountId, AuthorSchedule, BlockNumber, CommitmentUpdate, Hash, Header, StateChanges,
};
use codec::{Decode, Encode};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;

pub(crate) const BLOCKS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("blocks");
const HEADERS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("headers");
const JUSTIFICATIONS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("justifications");
const JUSTIFIED: TableDefinition<u64, &[u8; 32]> = TableDefinition::new("justified");
const SET_CHANGES: TableDefinition<u64, &[u8; 32]> = TableDefinition::new("set_changes");
const UNFINALIZED: TableDefinition<&[u8; 32], u64> = TableDefinition::new("unfinalized");
const UNDO: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("undo");
const PRIOR: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("prior");
pub(crate) const AUTHORS: TableDefinition<&[u8; 32], &[u8; 32]> = TableDefinition::new("authors");
pub(crate) const CANONICAL: TableDefinition<u64, &[u8; 32]> = TableDefinition::new("canonical");
pub(crate) const TXS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("txs");
pub(crate) const STATE: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("state");
pub(crate) const TREE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("tree");
const STALE: TableDefinition<u64, &[u8]> = TableDefinition::new("stale");
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

const SCHEMA_VERSION: u32 = 6;
const META_SCHEMA: &str = "schema_version";
const META_GENESIS: &str = "genesis_hash";
const META_BEST: &str = "best";
const META_FINALIZED: &str = "finalized";
const META_VOTER_SET: &str = "voter_set";
const META_PRUNED: &str = "pruned";

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Db(#[from] redb::Error),
    #[error(
        "this database belongs to another chain (genesis {found}, the chain spec's is {expected}); \
         use another --base-path or run purge-chain"
    )]
    WrongGenesis { expected: Hash, found: Hash },
    #[error(
        "database schema version {found} is not supported (expected {expected}); run purge-chain"
    )]
    WrongSchema { expected: u32, found: u32 },
    #[error("corrupt database entry: {0}")]
    Corrupt(String),
    #[error("the chain database failed an earlier write ({0}); restart the node")]
    WriteFailed(String),
    #[error("no chain database at {0}")]
    Missing(String),
    #[error("the state is being restored (warp sync): it is served once the sync is done")]
    StateRestoring,
    #[error("the state of block #{number} is not kept (pruned through #{pruned}, best #{best})")]
    StateUnavailable {
        number: BlockNumber,
        pruned: BlockNumber,
        best: BlockNumber,
    },
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StorageError {
            fn from(e: $t) -> Self { StorageError::Db(e.into()) }
        }
    )*};
}
from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

/// A block's position: its number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct BlockRef {
    pub number: BlockNumber,
    pub hash: Hash,
}

/// The authorities that vote on finality, and the set's id (0 for the genesis set, one more at
/// each finalized change).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct VoterSet {
    pub id: u64,
    pub authorities: Vec<AccountId>,
    /// The authors' slots per cycle after the set's block (empty: equal weights): what block
    /// import falls back on when no change is signalled above the finalized block.
    pub weights: Vec<u32>,
}

impl VoterSet {
    /// The author schedule after this set's block.
    pub fn schedule(&self) -> AuthorSchedule {
        AuthorSchedule::new(self.authorities.clone(), self.weights.clone())
    }
}

/// Where an included transaction is, and what it did (the outcome is the state machine's
/// `TxOutcome`, SCALE-encoded by the caller).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct TxRecord {
    pub block: BlockRef,
    pub index: u32,
    /// Where the extrinsic's bytes are inside the stored `SignedBlock`.
    pub offset: u32,
    pub len: u32,
    pub outcome: Vec<u8>,
}

impl TxRecord {
    /// The records of a block's extrinsics, in order, with their hashes: each one's span in the
    /// encoded `SignedBlock` (the header, then the compact length of the extrinsic list, then
    /// the extrinsics), so a lookup decodes only its own, and its SCALE-encoded outcome.
    pub fn for_block<X: Encode, O: Encode>(
        at: BlockRef,
        header: &Header,
        extrinsics: &[X],
        outcomes: &[O],
    ) -> Vec<(Hash, TxRecord)> {
        let mut offset =
            header.encoded_size() + codec::Compact(extrinsics.len() as u32).encoded_size();
        let mut txs = Vec::with_capacity(extrinsics.len());
        for (i, (xt, outcome)) in extrinsics.iter().zip(outcomes).enumerate() {
            let bytes = xt.encode();
            txs.push((
                Hash::of(&bytes),
                TxRecord {
                    block: at,
                    index: i as u32,
                    offset: offset as u32,
                    len: bytes.len() as u32,
                    outcome: outcome.encode(),
                },
            ));
            offset += bytes.len();
        }
        txs
    }
}

/// A stored block's identity: where it is, its header and its author.
#[derive(Debug, Clone, Copy)]
pub struct StoredBlock<'a> {
    pub at: BlockRef,
    /// SCALE `Header`.
    pub encoded_header: &'a [u8],
    /// SCALE `SignedBlock` (without justification).
    pub encoded_block: &'a [u8],
    /// The authority whose seal was verified (none for genesis).
    pub author: Option<AccountId>,
}

/// Everything one executed block writes.
#[derive(Debug)]
pub struct BlockWrite<'a> {
    pub block: StoredBlock<'a>,
    pub txs: Vec<(Hash, TxRecord)>,
    pub changes: &'a StateChanges,
    pub commitment: &'a CommitmentUpdate,
    /// Final at once (a single-voter chain).
    pub finalized: bool,
    /// With `finalized`: the voter set the block enacts (it signals a set change).
    pub voter_set: Option<&'a VoterSet>,
    /// With `finalized`: the block's SCALE `Justification` (its single authority's precommit).
    pub justification: Option<&'a [u8]>,
    /// With `voter_set`: whether it is a new set (a new id), not only new author weights.
    pub set_change: bool,
}

/// What undoes one executed block besides its [`Prior`] values: the tree nodes it added (the
/// nodes it made stale are still stored) and the transactions it indexed.
#[derive(Debug, Default, Encode, Decode)]
struct UndoLog {
    tree_added: Vec<Vec<u8>>,
    txs: Vec<Hash>,
}

/// The previous value of every key one executed block changed (`None`: absent before).
type Prior = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// The stored form of a state entry (the `state` table is keyed by the key's hash): the key's
/// length (4 bytes, little-endian), the key, the value.
pub(crate) mod state_entry {
    pub fn encode(key: &[u8], value: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + key.len() + value.len());
        encode_into(&mut out, key, value);
        out
    }

    /// [`encode`] into `out`, replacing what it held (a buffer reused for many rows).
    pub fn encode_into(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
        out.clear();
        out.extend_from_slice(&(key.len() as u32).to_le_bytes());
        out.extend_from_slice(key);
        out.extend_from_slice(value);
    }

    /// The key and the value; `None` if the bytes are not an entry.
    pub fn decode(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
        let (len, rest) = bytes.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        (rest.len() >= len).then(|| rest.split_at(len))
    }
}

/// Tree nodes written into the `tree` table (borsh key -> borsh node) through two reused
/// buffers: no allocation per row (a genesis or a restored state writes millions).
#[derive(Default)]
struct NodeRows {
    key: Vec<u8>,
    node: Vec<u8>,
}

impl NodeRows {
    fn insert(
        &mut self,
        tree: &mut redb::Table<'_, &'static [u8], &'static [u8]>,
        key: &commitment::TreeNodeKey,
        node: &commitment::TreeNode,
    ) -> Result<(), StorageError> {
        let corrupt = |e: std::io::Error| StorageError::Corrupt(e.to_string());
        self.key.clear();
        self.node.clear();
        borsh::to_writer(&mut self.key, key).map_err(corrupt)?;
        borsh::to_writer(&mut self.node, node).map_err(corrupt)?;
        tree.insert(self.key.as_slice(), self.node.as_slice())?;
        Ok(())
    }
}

/// redb's page cache: resident memory against reads served from the OS page cache. Measured
/// (benches/RESULTS.md, session 4): 256 MiB -> claims 5.1k/s, dev flood peak ~560-690 MiB;
/// 128 MiB -> 4.6k/s, a 1M-account flood peaks at 404 MiB; 96 MiB -> 4.3k/s, 347 MiB;
/// 64 MiB -> 4.0k/s, 284 MiB. Transfers: 10.6k sTPS at 64 MiB, 10.8k at 96 and at 128.
/// Session 13, a 1M-account state flooded with transfers to random accounts (the author's
/// import running beside its next build, both on this cache): 96 MiB -> 4.0k sTPS, peak 501
/// MiB; 64 MiB -> 4.0k, 411 MiB; 48 MiB -> 3.6k, 382 MiB (the 400 MiB bound).
const CACHE_BYTES: usize = 48 * 1024 * 1024;

/// The chain database.
pub struct ChainDb {
    db: std::sync::Arc<Database>,
    /// The first failed durable write (see the module docs): once set, every write is refused.
    failed: tokio::sync::watch::Sender<Option<String>>,
    /// The states served ([`ChainDb::state_at`]): the node's `--state-pruning` (history kept
    /// beyond it until the pruner's next write is not served either).
    window: std::sync::RwLock<Pruning>,
    /// The states peers are downloading, kept past the window ([`lease`]).
    leases: std::sync::Mutex<lease::Leases>,
    /// The database has no state to read: a skipped genesis state or a restore in progress
    /// (`restore.rs`; kept in `meta`, mirrored here for the hot read path).
    pending: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for ChainDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainDb")
    }
}

impl ChainDb {
    /// Opens (or creates) the database at `path` for the chain whose genesis is given. On
    /// creation the genesis block and state are written; on reopen the genesis hash must match.
    pub fn open(path: &Path, genesis: &GenesisWrite<'_>) -> Result<ChainDb, StorageError> {
        Self::init(Self::builder().create(path)?, genesis)
    }

    /// [`ChainDb::open`] on another storage backend than a file (tests: a disk that loses
    /// unsynced writes or fails them).
    pub fn open_with_backend(
        backend: impl redb::StorageBackend,
        genesis: &GenesisWrite<'_>,
    ) -> Result<ChainDb, StorageError> {
        Self::init(Self::builder().create_with_backend(backend)?, genesis)
    }

    /// Opens an existing database without creating or initialising anything (`check-db`). redb
    /// may still repair the file if the node did not shut down cleanly. Refused while a node has
    /// it open.
    pub fn open_existing(path: &Path) -> Result<ChainDb, StorageError> {
        if !path.exists() {
            return Err(StorageError::Missing(path.display().to_string()));
        }
        Self::existing(Self::builder().open(path)?)
    }

    /// [`ChainDb::open_existing`] on another storage backend.
    pub fn open_existing_with_backend(
        backend: impl redb::StorageBackend,
    ) -> Result<ChainDb, StorageError> {
        Self::existing(Self::builder().create_with_backend(backend)?)
    }

    fn existing(db: Database) -> Result<ChainDb, StorageError> {
        let this = Self::from_db(db);
        if this.meta_hash(META_GENESIS)?.is_none() {
            return Err(StorageError::Corrupt("no genesis hash recorded".into()));
        }
        this.check_schema()?;
        this.load_pending()?;
        Ok(this)
    }

    fn builder() -> redb::Builder {
        let mut builder = Database::builder();
        builder.set_cache_size(CACHE_BYTES);
        builder
    }

    fn from_db(db: Database) -> ChainDb {
        ChainDb {
            db: std::sync::Arc::new(db),
            failed: tokio::sync::watch::channel(None).0,
            window: std::sync::RwLock::new(Pruning::DEFAULT),
            leases: Default::default(),
            pending: Default::default(),
        }
    }

    fn init(db: Database, genesis: &GenesisWrite<'_>) -> Result<ChainDb, StorageError> {
        let this = Self::from_db(db);
        match this.meta_hash(META_GENESIS)? {
            Some(found) if found != genesis.hash => {
                return Err(StorageError::WrongGenesis {
                    expected: genesis.hash,
                    found,
                })
            }
            Some(_) => {
                this.check_schema()?;
                if genesis.state_policy == GenesisState::Ensure && this.state_pending()? {
                    this.discard_restore(genesis)?;
                }
            }
            None => this.write_genesis(genesis)?,
        }
        this.load_pending()?;
        Ok(this)
    }

    fn check_schema(&self) -> Result<(), StorageError> {
        let schema = self
            .meta(META_SCHEMA)?
            .and_then(|b| u32::decode(&mut &b[..]).ok());
        if schema != Some(SCHEMA_VERSION) {
            return Err(StorageError::WrongSchema {
                expected: SCHEMA_VERSION,
                found: schema.unwrap_or(0),
            });
        }
        Ok(())
    }

    /// The genesis hash recorded at creation.
    pub fn genesis_hash(&self) -> Result<Hash, StorageError> {
        self.meta_hash(META_GENESIS)?
            .ok_or_else(|| StorageError::Corrupt("no genesis hash recorded".into()))
    }

    /// Why the database refuses writes: the first durable write that failed (none while
    /// healthy). The receiver sees the change when it happens (the node stops on it).
    pub fn write_failure(&self) -> tokio::sync::watch::Receiver<Option<String>> {
        self.failed.subscribe()
    }

    /// Records a failed durable write of something kept beside the chain database (the
    /// authoring record): the node stops the same way.
    pub fn note_write_failure(&self, what: String) {
        self.failed.send_if_modified(|f| {
            if f.is_some() {
                return false;
            }
            tracing::error!(target: "db", error = %what, "a durable write failed; the node stops");
            *f = Some(what);
            true
        });
    }

    /// Runs `f` in one write transaction committed with immediate durability. A redb failure
    /// (I/O: a full or failing disk) latches: this and every later write is refused, since redb
    /// itself refuses everything after an I/O error until the file is reopened, and whether
    /// the failed commit reached the disk is known only after reopening (see the module docs).
    fn durable_write(
        &self,
        what: &str,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        if let Some(e) = self.failed.borrow().clone() {
            return Err(StorageError::WriteFailed(e));
        }
        let result = (|| {
            let mut txn = self.db.begin_write()?;
            txn.set_durability(redb::Durability::Immediate)?;
            f(&txn)?;
            txn.commit()?;
            Ok(())
        })();
        if let Err(e @ StorageError::Db(_)) = &result {
            self.note_write_failure(format!("{what}: {e}"));
        }
        result
    }

    fn write_genesis(&self, g: &GenesisWrite<'_>) -> Result<(), StorageError> {
        let at = BlockRef {
            number: 0,
            hash: g.hash,
        };
        self.durable_write("genesis", |txn| {
            // Every table exists from the start, so readers never meet a missing one.
            txn.open_table(JUSTIFICATIONS)?;
            txn.open_table(JUSTIFIED)?;
            txn.open_table(SET_CHANGES)?;
            txn.open_table(UNDO)?;
            txn.open_table(PRIOR)?;
            txn.open_table(UNFINALIZED)?;
            txn.open_table(AUTHORS)?;
            txn.open_table(TXS)?;
            txn.open_table(STALE)?;
            {
                let mut meta = txn.open_table(META)?;
                meta.insert(META_SCHEMA, SCHEMA_VERSION.encode().as_slice())?;
                meta.insert(META_GENESIS, g.hash.0.as_slice())?;
            }
            Self::store_block(
                txn,
                &StoredBlock {
                    at,
                    encoded_header: g.encoded_header,
                    encoded_block: g.encoded_block,
                    author: None,
                },
                false,
            )?;
            txn.open_table(CANONICAL)?.insert(0, &g.hash.0)?;
            txn.open_table(STATE)?;
            txn.open_table(TREE)?;
            match g.state_policy {
                GenesisState::Skip => restore::mark_state_absent(txn)?,
                GenesisState::IfNew | GenesisState::Ensure => Self::write_genesis_state(txn, g)?,
            }
            let mut meta = txn.open_table(META)?;
            meta.insert(META_BEST, at.encode().as_slice())?;
            meta.insert(META_FINALIZED, at.encode().as_slice())?;
            meta.insert(META_PRUNED, 0u64.encode().as_slice())?;
            Ok(())
        })
    }

    /// The genesis state's entries and tree (version 0), appended in key-hash order; the tree is
    /// built again as it is written (hashing is cheaper than holding its nodes).
    fn write_genesis_state(
        txn: &redb::WriteTransaction,
        g: &GenesisWrite<'_>,
    ) -> Result<(), StorageError> {
        let mut state = txn.open_table(STATE)?;
        let mut row = Vec::new();
        for e in g.state.entries() {
            state_entry::encode_into(&mut row, &e.key, &e.value);
            state.insert(&e.key_hash, row.as_slice())?;
        }
        let mut tree = txn.open_table(TREE)?;
        let mut rows = NodeRows::default();
        g.state
            .write_tree(&mut |key, node| rows.insert(&mut tree, &key, &node))?;
        Ok(())
    }

    /// Writes a block and everything it changed in one durable transaction, and makes it the best
    /// (and, if `finalized`, the finalized) block.
    pub fn commit_block(&self, write: &BlockWrite<'_>) -> Result<(), StorageError> {
        self.durable_write("block commit", |txn| Self::write_block(txn, write))
    }

    fn write_block(txn: &redb::WriteTransaction, w: &BlockWrite<'_>) -> Result<(), StorageError> {
        let at = w.block.at;
        Self::store_block(txn, &w.block, !w.finalized)?;
        let keep_undo = !w.finalized;
        let mut undo = UndoLog::default();
        let mut prior: Prior = Vec::with_capacity(w.changes.len());
        txn.open_table(CANONICAL)?.insert(at.number, &at.hash.0)?;
        {
            let mut txs = txn.open_table(TXS)?;
            for (hash, record) in &w.txs {
                txs.insert(&hash.0, record.encode().as_slice())?;
            }
            if keep_undo {
                undo.txs = w.txs.iter().map(|(h, _)| *h).collect();
            }
        }
        {
            let mut state = txn.open_table(STATE)?;
            for (k, v) in w.changes {
                let hash = commitment::key_hash(k);
                let old = match v {
                    Some(v) => state.insert(&hash, state_entry::encode(k, v).as_slice())?,
                    None => state.remove(&hash)?,
                };
                let old = match old {
                    Some(o) => Some(Self::stored_value(k, o.value())?.to_vec()),
                    None => None,
                };
                prior.push((k.clone(), old));
            }
        }
        {
            let mut tree = txn.open_table(TREE)?;
            for (key, node) in &w.commitment.nodes {
                let node = borsh::to_vec(node).map_err(|e| StorageError::Corrupt(e.to_string()))?;
                let key = encode_node_key(key)?;
                if tree.insert(key.as_slice(), node.as_slice())?.is_some() {
                    // Versions are block numbers and a reverted block's nodes are deleted, so a
                    // new node never meets a stored one.
                    return Err(StorageError::Corrupt(format!(
                        "tree node of block #{} already stored",
                        at.number
                    )));
                }
                if keep_undo {
                    undo.tree_added.push(key);
                }
            }
        }
        if !w.commitment.stale.is_empty() {
            let stale = w
                .commitment
                .stale
                .iter()
                .map(encode_node_key)
                .collect::<Result<Vec<_>, _>>()?;
            txn.open_table(STALE)?
                .insert(at.number, stale.encode().as_slice())?;
        }
        if keep_undo {
            txn.open_table(UNDO)?
                .insert(&at.hash.0, undo.encode().as_slice())?;
        }
        txn.open_table(PRIOR)?
            .insert(&at.hash.0, prior.encode().as_slice())?;
        txn.open_table(META)?
            .insert(META_BEST, at.encode().as_slice())?;
        if w.finalized {
            let at_change = [at];
            Self::write_finality(
                txn,
                &Finalization {
                    to: at,
                    justification: w.justification,
                    newly_final: &[],
                    discarded: &[],
                    voter_set: w.voter_set,
                    set_changes: if w.set_change { &at_change } else { &[] },
                },
            )?;
        }
        Ok(())
    }

    /// The value in a stored state entry of `key`.
    fn stored_value<'v>(key: &[u8], entry: &'v [u8]) -> Result<&'v [u8], StorageError> {
        match state_entry::decode(entry) {
            Some((k, v)) if k == key => Ok(v),
            _ => Err(StorageError::Corrupt(format!(
                "state entry {}",
                Hash(commitment::key_hash(key))
            ))),
        }
    }

    /// Writes a block's bytes, header and author (and marks it unfinalized when asked).
    fn store_block(
        txn: &redb::WriteTransaction,
        b: &StoredBlock<'_>,
        unfinalized: bool,
    ) -> Result<(), StorageError> {
        txn.open_table(BLOCKS)?
            .insert(&b.at.hash.0, b.encoded_block)?;
        txn.open_table(HEADERS)?
            .insert(&b.at.hash.0, b.encoded_header)?;
        if let Some(author) = &b.author {
            txn.open_table(AUTHORS)?.insert(&b.at.hash.0, &author.0)?;
        }
        if unfinalized {
            txn.open_table(UNFINALIZED)?
                .insert(&b.at.hash.0, b.at.number)?;
        }
        Ok(())
    }

    /// Stores a block that is not executed (yet): a fork block beside the best chain.
    pub fn store_side_block(&self, block: &StoredBlock<'_>) -> Result<(), StorageError> {
        self.durable_write("fork block", |txn| Self::store_block(txn, block, true))
    }

    /// Rolls the best chain back to `ancestor` by undoing `blocks` (the best block first, down to
    /// the child of `ancestor`), in one durable write. Each block must still have its undo log
    /// and prior values (it is not final).
    pub fn revert(&self, blocks: &[BlockRef], ancestor: BlockRef) -> Result<(), StorageError> {
        self.durable_write("revert", |txn| {
            {
                let mut undo_table = txn.open_table(UNDO)?;
                let mut prior_table = txn.open_table(PRIOR)?;
                let mut state = txn.open_table(STATE)?;
                let mut tree = txn.open_table(TREE)?;
                let mut stale = txn.open_table(STALE)?;
                let mut txs = txn.open_table(TXS)?;
                let mut canonical = txn.open_table(CANONICAL)?;
                for at in blocks {
                    let bytes = undo_table.remove(&at.hash.0)?.ok_or_else(|| {
                        StorageError::Corrupt(format!("no undo log for block {}", at.hash))
                    })?;
                    let undo = UndoLog::decode(&mut bytes.value())
                        .map_err(|_| StorageError::Corrupt(format!("undo log {}", at.hash)))?;
                    drop(bytes);
                    let bytes = prior_table.remove(&at.hash.0)?.ok_or_else(|| {
                        StorageError::Corrupt(format!("no prior values for block {}", at.hash))
                    })?;
                    let prior = Prior::decode(&mut bytes.value())
                        .map_err(|_| StorageError::Corrupt(format!("prior values {}", at.hash)))?;
                    drop(bytes);
                    for (k, old) in &prior {
                        let hash = commitment::key_hash(k);
                        match old {
                            Some(v) => state.insert(&hash, state_entry::encode(k, v).as_slice())?,
                            None => state.remove(&hash)?,
                        };
                    }
                    for key in &undo.tree_added {
                        tree.remove(key.as_slice())?;
                    }
                    stale.remove(at.number)?;
                    for h in &undo.txs {
                        txs.remove(&h.0)?;
                    }
                    canonical.remove(at.number)?;
                }
            }
            txn.open_table(META)?
                .insert(META_BEST, ancestor.encode().as_slice())?;
            Ok(())
        })
    }

    /// Makes `f.to` the finalized block (see [`Finalization`]), in one durable write.
    pub fn finalize(&self, f: &Finalization<'_>) -> Result<(), StorageError> {
        self.durable_write("finalization", |txn| Self::write_finality(txn, f))
    }

    fn write_finality(
        txn: &redb::WriteTransaction,
        f: &Finalization<'_>,
    ) -> Result<(), StorageError> {
        {
            // A final block is never reverted: its undo log goes; its prior values stay for
            // the state window (the pruner deletes them).
            let mut undo = txn.open_table(UNDO)?;
            let mut prior = txn.open_table(PRIOR)?;
            let mut unfinalized = txn.open_table(UNFINALIZED)?;
            for h in f.newly_final {
                undo.remove(&h.0)?;
                unfinalized.remove(&h.0)?;
            }
            let mut blocks = txn.open_table(BLOCKS)?;
            let mut headers = txn.open_table(HEADERS)?;
            let mut authors = txn.open_table(AUTHORS)?;
            for h in f.discarded {
                undo.remove(&h.0)?;
                prior.remove(&h.0)?;
                unfinalized.remove(&h.0)?;
                blocks.remove(&h.0)?;
                headers.remove(&h.0)?;
                authors.remove(&h.0)?;
            }
        }
        if let Some(j) = f.justification {
            txn.open_table(JUSTIFICATIONS)?.insert(&f.to.hash.0, j)?;
            txn.open_table(JUSTIFIED)?
                .insert(f.to.number, &f.to.hash.0)?;
        }
        {
            let mut changes = txn.open_table(SET_CHANGES)?;
            for at in f.set_changes {
                changes.insert(at.number, &at.hash.0)?;
            }
        }
        let mut meta = txn.open_table(META)?;
        meta.insert(META_FINALIZED, f.to.encode().as_slice())?;
        if let Some(set) = f.voter_set {
            meta.insert(META_VOTER_SET, set.encode().as_slice())?;
        }
        Ok(())
    }

    /// Every stored block above the finalized one (the fork tree), as (hash, number).
    pub fn unfinalized(&self) -> Result<Vec<(Hash, BlockNumber)>, StorageError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(UNFINALIZED)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            out.push((Hash(*k.value()), v.value()));
        }
        Ok(out)
    }

    /// The SCALE `Header` of a stored block.
    pub fn header(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StorageError> {
        let txn = self.db.begin_read()?;
        Ok(txn
            .open_table(HEADERS)?
            .get(&hash.0)?
            .map(|v| v.value().to_vec()))
    }

    /// The SCALE `Justification` of a block finalized by votes.
    pub fn justification(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StorageError> {
        let txn = self.db.begin_read()?;
        Ok(txn
            .open_table(JUSTIFICATIONS)?
            .get(&hash.0)?
            .map(|v| v.value().to_vec()))
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let txn = self.db.begin_read()?;
        let table = match txn.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(table.get(key)?.map(|v| v.value().to_vec()))
    }

    fn meta_hash(&self, key: &str) -> Result<Option<Hash>, StorageError> {
        match self.meta(key)? {
            None => Ok(None),
            Some(b) => {
                let arr: [u8; 32] = b
                    .as_slice()
                    .try_into()
                    .map_err(|_| StorageError::Corrupt(key.into()))?;
                Ok(Some(Hash(arr)))
            }
        }
    }

    fn meta_ref(&self, key: &str) -> Result<BlockRef, StorageError> {
        let bytes = self
            .meta(key)?
            .ok_or_else(|| StorageError::Corrupt(format!("missing {key}")))?;
        BlockRef::decode(&mut &bytes[..]).map_err(|_| StorageError::Corrupt(key.into()))
    }

    /// The finality voter set recorded at the last finalized change (none before the first).
    pub fn voter_set(&self) -> Result<Option<VoterSet>, StorageError> {
        self.meta(META_VOTER_SET)?
            .map(|b| {
                VoterSet::decode(&mut &b[..]).map_err(|_| StorageError::Corrupt("voter set".into()))
            })
            .transpose()
    }

    /// The best block.
    pub fn best(&self) -> Result<BlockRef, StorageError> {
        self.meta_ref(META_BEST)
    }

    /// The last finalized block.
    pub fn finalized(&self) -> Result<BlockRef, StorageError> {
        self.meta_ref(META_FINALIZED)
    }

    /// The SCALE `SignedBlock` with this hash.
    pub fn block(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StorageError> {
        let txn = self.db.begin_read()?;
        Ok(txn
            .open_table(BLOCKS)?
            .get(&hash.0)?
            .map(|v| v.value().to_vec()))
    }

    /// The authority that sealed a block (none for genesis or an unknown block).
    pub fn author(&self, hash: &Hash) -> Result<Option<AccountId>, StorageError> {
        let txn = self.db.begin_read()?;
        let table = match txn.open_table(AUTHORS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(table.get(&hash.0)?.map(|v| AccountId(*v.value())))
    }

    /// The canonical block hash at `number`.
    pub fn hash_at(&self, number: BlockNumber) -> Result<Option<Hash>, StorageError> {
        let txn = self.db.begin_read()?;
        Ok(txn
            .open_table(CANONICAL)?
            .get(number)?
            .map(|v| Hash(*v.value())))
    }

    /// Where an included transaction is.
    pub fn tx(&self, hash: &Hash) -> Result<Option<TxRecord>, StorageError> {
        let txn = self.db.begin_read()?;
        let Some(bytes) = txn.open_table(TXS)?.get(&hash.0)? else {
            return Ok(None);
        };
        TxRecord::decode(&mut bytes.value())
            .map(Some)
            .map_err(|_| StorageError::Corrupt(format!("tx record {hash}")))
    }

    /// Every entry of the flat state (the best block's), in key-hash order (`check-db`).
    pub fn state_entries(&self) -> Result<StateEntries, StorageError> {
        let txn = self.db.begin_read()?;
        let mut out = Vec::new();
        for entry in txn.open_table(STATE)?.iter()? {
            let (hash, bytes) = entry?;
            let (k, v) = state_entry::decode(bytes.value())
                .filter(|(k, _)| commitment::key_hash(k) == *hash.value())
                .ok_or_else(|| {
                    StorageError::Corrupt(format!("state entry {}", Hash(*hash.value())))
                })?;
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    /// Every stored tree node (encoded key, encoded node), in key order (`check-db`).
    pub fn tree_entries(&self) -> Result<StateEntries, StorageError> {
        let txn = self.db.begin_read()?;
        let mut out = Vec::new();
        for entry in txn.open_table(TREE)?.iter()? {
            let (k, v) = entry?;
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }

    /// The keys of the stored tree nodes recorded as stale and not pruned yet (`check-db`).
    pub fn stale_keys(&self) -> Result<std::collections::BTreeSet<Vec<u8>>, StorageError> {
        let txn = self.db.begin_read()?;
        let mut out = std::collections::BTreeSet::new();
        for entry in txn.open_table(STALE)?.iter()? {
            let (number, list) = entry?;
            out.extend(decode_stale(number.value(), list.value())?);
        }
        Ok(out)
    }

    /// A read-only view of the best block's state (a consistent snapshot).
    pub fn state_view(&self) -> Result<DbStateView, StorageError> {
        self.refuse_pending()?;
        let txn = self.db.begin_read()?;
        let best = Self::read_best(&txn)?;
        DbStateView::new(txn, best, None)
    }

    /// A view of the state of `pending`, a block whose commit may still be running: its
    /// parent's stored state with the block's changes over it, or the stored state once the
    /// commit is done. If the stored best is neither the block nor its parent (the best chain
    /// moved meanwhile), the view is of the stored best.
    pub fn state_view_on(&self, pending: &PendingState) -> Result<DbStateView, StorageError> {
        self.refuse_pending()?;
        let txn = self.db.begin_read()?;
        let best = Self::read_best(&txn)?;
        if best.hash != pending.parent() {
            return DbStateView::new(txn, best, None);
        }
        DbStateView::new(txn, pending.at(), Some(pending.overlay()))
    }

    fn read_best(txn: &redb::ReadTransaction) -> Result<BlockRef, StorageError> {
        let meta = txn.open_table(META)?;
        let bytes = meta
            .get(META_BEST)?
            .ok_or_else(|| StorageError::Corrupt("missing best".into()))?;
        BlockRef::decode(&mut bytes.value()).map_err(|_| StorageError::Corrupt("best".into()))
    }
}

/// Key-value pairs of the flat state.
pub type StateEntries = Vec<(Vec<u8>, Vec<u8>)>;

/// The genesis block and state to write into a new database.
#[derive(Debug)]
pub struct GenesisWrite<'a> {
    pub hash: Hash,
    pub encoded_header: &'a [u8],
    pub encoded_block: &'a [u8],
    /// The genesis state (its tree, version 0, is built as it is written).
    pub state: &'a aitbc_primitives::bulk::SortedState,
    pub state_policy: GenesisState,
}

/// What opening a database does about the genesis state (the node's `--sync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GenesisState {
    /// A new database gets the genesis state; a restore in progress stays (`--sync auto`).
    #[default]
    IfNew,
    /// A new database gets none: a state restore brings one (`--sync warp`: writing a large
    /// genesis state only for the restore to delete it costs seconds).
    Skip,
    /// The database must hold a state to execute blocks on: a restore in progress or a skipped
    /// genesis state is discarded for the genesis state (`--sync full`).
    Ensure,
}

/// The stale-node list recorded by block `number`.
fn decode_stale(number: BlockNumber, bytes: &[u8]) -> Result<Vec<Vec<u8>>, StorageError> {
    Vec::<Vec<u8>>::decode(&mut &bytes[..])
        .map_err(|_| StorageError::Corrupt(format!("stale list of block #{number}")))
}

/// The stored form of a tree node's key.
pub fn encode_node_key(
    key: &aitbc_primitives::commitment::TreeNodeKey,
) -> Result<Vec<u8>, StorageError> {
    borsh::to_vec(key).map_err(|e| StorageError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests;
