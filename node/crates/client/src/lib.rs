//! The client: the chain database, the state machine and the transaction pool behind one API.
//!
//! - [`build`]: block building from the pool and authoring (build, record the slot, seal, import).
//! - [`import`]: the one import path for authored, gossiped and synced blocks: header rules
//!   against the parent (number, slot, author), the seal, equivocation detection, execution with
//!   root checks, fork choice and reorganisation, finalization.
//! - [`tree`]: the fork tree above the last finalized block and the fork-choice rule.
//!
//! Invariants: the database's flat state is the best block's state; every block in the fork tree
//! descends from the last finalized block; a finalized block is never reverted; a single-authority
//! chain finalizes each block at once, otherwise blocks are finalized by [`Client::finalize`]
//! (the finality gadget or a verified justification).

mod admission;
mod build;
#[cfg(test)]
mod clock_tests;
mod import;
pub mod metrics;
#[cfg(test)]
mod pipeline_tests;
mod process;
mod proofs;
#[cfg(test)]
mod test_chain;
pub mod tree;

pub use admission::Admission;
pub use build::{Authored, BuiltBlock, Import};
pub use import::{Equivocation, ImportError};

use crate::metrics::Metrics;
use aitbc_consensus::clock::{SharedClock, SystemClock};
use aitbc_primitives::{
    decode_exact, AccountId, Block, BlockNumber, DecodeError, Extrinsic, Hash, Header, SignedBlock,
    StateMachine, TxOutcome,
};
use aitbc_storage::{
    BlockRef, ChainDb, DbStateView, GenesisState, GenesisWrite, StorageError, TxRecord, VoterSet,
};
use aitbc_txpool::{PoolError, TxPool};
use codec::Encode;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, OnceLock, RwLock};
use tokio::sync::broadcast;
use tree::ForkTree;

/// The extrinsic type of a state machine.
pub type Xt<S> = Extrinsic<<S as StateMachine>::Call>;
/// The signed block type of a state machine.
pub type SignedBlockOf<S> = SignedBlock<Xt<S>>;

/// An included transaction's location and outcome.
pub type RecordedTx<S> = (TxRecord, TxOutcome<<S as StateMachine>::Event>);

/// A block's header and the hashes of its transactions.
type BlockTxs = (Header, Arc<Vec<Hash>>);

/// Publishes an encoded transaction to peers.
pub type TxAnnouncer = Box<dyn Fn(Vec<u8>) + Send + Sync>;

/// Something that happened to the chain.
#[derive(Debug, Clone)]
pub enum ChainEvent {
    /// A block became the best block.
    NewBest {
        header: Header,
        hash: Hash,
        tx_hashes: Arc<Vec<Hash>>,
    },
    /// A block was finalized.
    Finalized {
        header: Header,
        hash: Hash,
        tx_hashes: Arc<Vec<Hash>>,
    },
}

/// Why a transaction was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("cannot decode transaction: {0}")]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Pool(#[from] PoolError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Where a transaction is.
pub enum TxStatus<S: StateMachine> {
    Pending(Arc<Xt<S>>),
    Included(Box<IncludedTx<S>>),
    Dropped(String),
}

/// An included transaction with its outcome.
pub struct IncludedTx<S: StateMachine> {
    pub record: TxRecord,
    pub xt: Xt<S>,
    pub outcome: TxOutcome<S::Event>,
    pub finalized: bool,
}

/// The genesis the client starts from (built from a chain spec).
#[derive(Debug, Clone)]
pub struct GenesisBlock {
    pub header: Header,
    pub state: aitbc_primitives::bulk::SortedState,
    /// Whether a new database gets this state (see [`GenesisState`]).
    pub state_policy: GenesisState,
}

/// See the module docs.
pub struct Client<S: StateMachine> {
    runtime: Arc<S>,
    db: ChainDb,
    genesis_hash: Hash,
    best: RwLock<Header>,
    finalized: RwLock<BlockRef>,
    tree: RwLock<ForkTree>,
    /// Header and transaction hashes of the best chain's unfinalized blocks (for the finality
    /// notifications).
    unfinalized: Mutex<HashMap<Hash, BlockTxs>>,
    equivocations: Mutex<VecDeque<Equivocation>>,
    /// The finality voter set as of the last finalized block.
    voter_set: RwLock<VoterSet>,
    /// What finishing a built block costs per transaction (root, seal).
    finish_cost: build::FinishCost,
    /// The authored block whose import is running ([`build`]'s pipelining).
    in_flight: Mutex<Option<Arc<build::InFlight<Xt<S>>>>>,
    /// Publishes a locally submitted transaction to peers (set when the network starts).
    announce_tx: OnceLock<TxAnnouncer>,
    import_lock: Mutex<()>,
    events: broadcast::Sender<ChainEvent>,
    pool: TxPool<S::Call>,
    /// Set by each import: the pool is due for revalidation ([`Client::revalidate_pool`]).
    revalidation_due: tokio::sync::Notify,
    metrics: Arc<Metrics>,
    /// The time import's future-slot check reads (and the workers that share this client).
    clock: SharedClock,
}

impl<S: StateMachine> std::fmt::Debug for Client<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Client(genesis {})", self.genesis_hash)
    }
}

fn read<T: Clone>(l: &RwLock<T>) -> T {
    l.read().unwrap_or_else(|p| p.into_inner()).clone()
}

impl<S: StateMachine> Client<S> {
    /// Opens the chain database at `db_path` (creating it from `genesis` on first start).
    pub fn open(
        runtime: Arc<S>,
        genesis: &GenesisBlock,
        db_path: &Path,
        pool: TxPool<S::Call>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, StorageError> {
        Self::open_with(
            runtime,
            genesis,
            |g| ChainDb::open(db_path, g),
            pool,
            metrics,
        )
    }

    /// [`Client::open`] with the database opened by `open_db` (tests: another storage backend).
    pub fn open_with(
        runtime: Arc<S>,
        genesis: &GenesisBlock,
        open_db: impl FnOnce(&GenesisWrite<'_>) -> Result<ChainDb, StorageError>,
        pool: TxPool<S::Call>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, StorageError> {
        metrics.set_chain_counters(S::COUNTERS);
        let genesis_hash = genesis.header.hash();
        let encoded_header = genesis.header.encode();
        let block = SignedBlock::<Xt<S>> {
            block: Block {
                header: genesis.header.clone(),
                extrinsics: Vec::new(),
            },
            seal: aitbc_primitives::Signature([0; 64]),
            justification: None,
        }
        .encode();
        let db = open_db(&GenesisWrite {
            hash: genesis_hash,
            encoded_header: &encoded_header,
            encoded_block: &block,
            state: &genesis.state,
            state_policy: genesis.state_policy,
        })?;
        let best_ref = db.best()?;
        let best = load_header(&db, &best_ref.hash)?;
        let finalized = db.finalized()?;
        // Rebuild the fork tree from the stored unfinalized blocks, parents first.
        let mut tree = ForkTree::new(finalized);
        let mut stored = db.unfinalized()?;
        stored.sort_by_key(|(_, n)| *n);
        for (hash, _) in stored {
            let header = load_header(&db, &hash)?;
            let author = db
                .author(&hash)?
                .ok_or_else(|| StorageError::Corrupt(format!("no author for block {hash}")))?;
            if tree.contains(&header.parent_hash) {
                tree.insert(hash, &header, author);
            }
        }
        // The flat state is the best block's: the best chain is executed; side blocks count as
        // unexecuted again (even those a reorg had executed before the restart).
        let mut cur = best_ref.hash;
        while cur != finalized.hash && tree.number(&cur).is_some() {
            tree.mark_executed(cur);
            cur = load_header(&db, &cur)?.parent_hash;
        }
        let voter_set = match db.voter_set()? {
            Some(set) => set,
            None => {
                let schedule = runtime.author_schedule(&genesis.state);
                VoterSet {
                    id: 0,
                    authorities: schedule.authorities().to_vec(),
                    weights: schedule.weights().to_vec(),
                }
            }
        };
        let (events, _) = broadcast::channel(1024);
        metrics.set_heights(best.number, finalized.number);
        metrics.set_validators(voter_set.authorities.len());
        Ok(Client {
            runtime,
            db,
            genesis_hash,
            best: RwLock::new(best),
            finalized: RwLock::new(finalized),
            tree: RwLock::new(tree),
            unfinalized: Mutex::new(HashMap::new()),
            equivocations: Mutex::new(VecDeque::new()),
            voter_set: RwLock::new(voter_set),
            announce_tx: OnceLock::new(),
            finish_cost: build::FinishCost::default(),
            in_flight: Mutex::new(None),
            import_lock: Mutex::new(()),
            events,
            pool,
            revalidation_due: tokio::sync::Notify::new(),
            metrics,
            clock: SystemClock::shared(),
        })
    }

    /// This client reading time from `clock` instead of the system's (a test or a simulator
    /// driving time).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The clock this node runs on.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn runtime(&self) -> &S {
        &self.runtime
    }

    pub fn pool(&self) -> &TxPool<S::Call> {
        &self.pool
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    pub fn best_header(&self) -> Header {
        read(&self.best)
    }

    pub fn best(&self) -> BlockRef {
        let h = read(&self.best);
        BlockRef {
            number: h.number,
            hash: h.hash(),
        }
    }

    pub fn finalized(&self) -> BlockRef {
        read(&self.finalized)
    }

    /// The header of a stored block.
    pub fn header(&self, hash: &Hash) -> Result<Option<Header>, StorageError> {
        match self.db.header(hash)? {
            None => Ok(None),
            Some(b) => decode_exact(&b)
                .map(Some)
                .map_err(|e| StorageError::Corrupt(format!("header {hash}: {e}"))),
        }
    }

    /// The number of a block this node has: from the fork tree (memory) for unfinalized blocks,
    /// else from its stored header.
    pub fn block_number(&self, hash: &Hash) -> Option<BlockNumber> {
        let fin = self.finalized();
        if *hash == fin.hash {
            return Some(fin.number);
        }
        if let Some(number) = self.tree_read().number(hash) {
            return Some(number);
        }
        self.header(hash).ok().flatten().map(|h| h.number)
    }

    /// The ancestor at `number` of a block this node has (the block itself at its own number);
    /// `None` if the block is unknown or below `number`.
    pub fn ancestor_at(&self, hash: &Hash, number: BlockNumber) -> Option<Hash> {
        let fin = self.finalized();
        if number > fin.number {
            return self
                .tree
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .ancestor_at(hash, number);
        }
        let on_chain = match self
            .tree
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .number(hash)
        {
            Some(_) => true, // every tree block descends from the finalized one
            None if *hash == fin.hash => true,
            None => {
                let n = self.header(hash).ok().flatten()?.number;
                n >= number && self.db.hash_at(n).ok().flatten() == Some(*hash)
            }
        };
        if !on_chain {
            return None;
        }
        if number == fin.number {
            return Some(fin.hash); // the finality voter's usual question, without a read
        }
        self.db.hash_at(number).ok().flatten()
    }

    /// The best executed block that descends from `base` (or `base`): what a voter may vote
    /// for. `None` if `base` is unknown, on a bad chain or conflicts with finality. The answer
    /// stops at the first authority-set change above the finalized block (see
    /// `up_to_set_change`), or at `base` itself should `base` be past one.
    ///
    /// A `base` on a fork this node stored but did not execute (the round's estimate, which a
    /// supermajority prevoted for, on a chain shorter than ours) has that fork executed first:
    /// a voter must be able to vote on it, or every voter in that position waits for good
    /// (found by the simulator).
    pub fn best_containing(&self, base: &Hash) -> Option<BlockRef> {
        let number = self.header(base).ok().flatten()?.number;
        let best = self.best();
        let base = BlockRef {
            number,
            hash: *base,
        };
        if self.ancestor_at(&best.hash, number) == Some(base.hash) {
            return Some(self.up_to_set_change(best, base));
        }
        let executed = || {
            self.tree_read()
                .best_executed_from(&base)
                .map(|head| self.up_to_set_change(head, base))
        };
        if let Some(found) = executed() {
            return Some(found);
        }
        let head = self.tree_read().best_from(&base)?;
        let _guard = self.import_lock.lock();
        if let Err(e) = self.execute_branch(head.hash) {
            tracing::warn!(target: "import", error = %e, "cannot execute a fork to vote on it");
        }
        executed()
    }

    /// `head`, or the lowest block above the finalized block on its chain that signals an
    /// authority-set change (but not below `base`, which `head` descends from): the old set
    /// votes up to a change block and no further, so each change is finalized on its own and
    /// enacted in order, with the same set id on every node. (Two changes finalized at once
    /// gave a node that finalized between them another set id than the others: the simulator
    /// found finality stalled on it, first with the change above the round's base, then with
    /// the base itself an unfinalized change block.)
    fn up_to_set_change(&self, head: BlockRef, base: BlockRef) -> BlockRef {
        let floor = self.finalized().number;
        let mut cap = head;
        let mut at = head.hash;
        while let Ok(Some(header)) = self.header(&at) {
            if header.number <= floor {
                break;
            }
            if header.authorities_change().is_some() {
                cap = BlockRef {
                    number: header.number,
                    hash: at,
                };
            }
            at = header.parent_hash;
        }
        if cap.number < base.number {
            return base;
        }
        cap
    }

    /// The encoded justification of a block finalized by votes.
    pub fn justification(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StorageError> {
        self.db.justification(hash)
    }

    /// The authorities voting on finality after the last finalized block, with the set's id.
    pub fn voter_set(&self) -> VoterSet {
        read(&self.voter_set)
    }

    /// Equivocations seen (two blocks by one author in one slot), most recent last.
    pub fn equivocations(&self) -> Vec<Equivocation> {
        self.equivocations.lock().iter().cloned().collect()
    }

    /// Deletes the history of finalized blocks below the window of `pruning`, if at least
    /// `min_keys` tree nodes wait (see [`ChainDb::prune`] and the node's pruner worker); returns
    /// how many tree nodes it deleted.
    pub fn prune_history(
        &self,
        pruning: aitbc_storage::Pruning,
        min_keys: usize,
        max_keys: usize,
    ) -> Result<usize, StorageError> {
        self.db.prune(pruning, min_keys, max_keys)
    }

    /// Deletes the bodies of finalized blocks below the window of `pruning` (at most
    /// `max_blocks` in one write; see `ChainDb::prune_bodies`); returns how many it deleted.
    pub fn prune_blocks(
        &self,
        pruning: aitbc_storage::Pruning,
        max_blocks: u64,
    ) -> Result<u64, StorageError> {
        let aitbc_storage::Pruning::Keep(keep) = pruning else {
            return Ok(0);
        };
        let through = self.finalized().number.saturating_sub(keep);
        let from = self.db.blocks_pruned_through()? + 1;
        if through < from {
            return Ok(0);
        }
        let through = through.min(from + max_blocks - 1);
        let mut blocks = Vec::new();
        for number in from..=through {
            let Some(hash) = self.db.hash_at(number)? else {
                continue; // below a warp sync's target: never held
            };
            let Some(bytes) = self.db.block(&hash)? else {
                continue;
            };
            let block: SignedBlockOf<S> = decode_exact(&bytes)
                .map_err(|e| StorageError::Corrupt(format!("block {hash}: {e}")))?;
            let txs = block.block.extrinsics.iter().map(|x| x.hash()).collect();
            blocks.push((BlockRef { number, hash }, txs));
        }
        self.db.prune_bodies(&blocks, through)?;
        Ok(blocks.len() as u64)
    }

    /// Chain events (new best, finalized).
    pub fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.events.subscribe()
    }

    /// Why the chain database refuses writes (none while healthy; see the storage module docs).
    /// The node stops when it changes.
    pub fn storage_failure(&self) -> tokio::sync::watch::Receiver<Option<String>> {
        self.db.write_failure()
    }

    /// Reports a failed durable write beside the chain database (the authoring record): the node
    /// stops as on a failed chain write.
    pub fn note_write_failure(&self, what: String) {
        self.db.note_write_failure(what)
    }

    /// A snapshot of the best state.
    pub fn state(&self) -> Result<DbStateView, StorageError> {
        self.db.state_view()
    }

    /// Every key and value of the best state, in key order (invariant checks: `check-db`, the
    /// simulator).
    pub fn state_entries(&self) -> Result<aitbc_storage::StateEntries, StorageError> {
        self.db.state_entries()
    }

    /// The authority that sealed a block (none for genesis).
    pub fn block_author(&self, hash: &Hash) -> Result<Option<AccountId>, StorageError> {
        self.db.author(hash)
    }

    /// The canonical block at `number`.
    pub fn hash_at(&self, number: u64) -> Result<Option<Hash>, StorageError> {
        self.db.hash_at(number)
    }

    /// A stored block and whether it is finalized.
    pub fn block(&self, hash: &Hash) -> Result<Option<(SignedBlockOf<S>, bool)>, StorageError> {
        let Some(bytes) = self.db.block(hash)? else {
            return Ok(None);
        };
        let mut block: SignedBlockOf<S> = decode_exact(&bytes)
            .map_err(|e| StorageError::Corrupt(format!("block {hash}: {e}")))?;
        let number = block.block.header.number;
        let finalized =
            number <= self.finalized().number && self.db.hash_at(number)? == Some(*hash);
        if let Some(j) = self.db.justification(hash)? {
            block.justification = Some(
                decode_exact(&j)
                    .map_err(|e| StorageError::Corrupt(format!("justification {hash}: {e}")))?,
            );
        }
        Ok(Some((block, finalized)))
    }

    /// Sets where locally submitted transactions are published (once).
    pub fn set_tx_announcer(&self, announce: TxAnnouncer) {
        let _ = self.announce_tx.set(announce);
    }

    /// Validates and pools a decoded transaction of encoded length `len` submitted to this node,
    /// and publishes it to peers.
    pub fn submit_decoded(&self, xt: Xt<S>, len: usize) -> Result<Hash, SubmitError> {
        let mut results = self.submit_batch(vec![(xt, len)], true);
        results.pop().unwrap_or(Err(PoolError::Busy.into()))
    }

    /// Validates and pools a transaction gossiped by a peer (gossip forwards it further).
    pub fn submit_from_peer(&self, xt: Xt<S>, len: usize) -> Result<Hash, SubmitError> {
        let mut results = self.submit_batch(vec![(xt, len)], false);
        results.pop().unwrap_or(Err(PoolError::Busy.into()))
    }

    /// Validates and pools decoded transactions (each with its encoded length), verifying their
    /// signatures as one batch, and publishes them to peers when `announce`. One result per
    /// transaction, in order.
    ///
    /// When the batch holds a bad signature, the transactions before it are known good and the
    /// rest are checked one by one (so a bad transaction costs its batch at most about twice).
    pub fn submit_batch(
        &self,
        txs: Vec<(Xt<S>, usize)>,
        announce: bool,
    ) -> Vec<Result<Hash, SubmitError>> {
        // The state the next block is built on: a transaction following one in a block still
        // being stored is ready at once.
        let state = match self.build_state() {
            Ok(s) => s,
            Err(e) => {
                let message = e.to_string();
                return txs
                    .iter()
                    .map(|_| Err(StorageError::Corrupt(message.clone()).into()))
                    .collect();
            }
        };
        let mut results: Vec<Option<Result<Hash, SubmitError>>> = Vec::with_capacity(txs.len());
        let mut xts = Vec::with_capacity(txs.len());
        let mut meta = Vec::with_capacity(txs.len());
        for (xt, len) in txs {
            let hash = xt.hash();
            match self.pool.precheck(&hash) {
                Ok(()) => {
                    results.push(None);
                    xts.push(xt);
                    meta.push((len, hash));
                }
                Err(e) => results.push(Some(Err(e.into()))),
            }
        }
        let verified = match self.runtime.check_signatures(&xts) {
            Ok(()) => xts.len(),
            Err((index, _)) => index,
        };
        let mut admitted = xts
            .into_iter()
            .zip(meta)
            .enumerate()
            .map(|(i, (xt, (len, hash)))| {
                self.admit(&state, xt, len, hash, i < verified, announce)
            });
        for slot in results.iter_mut().filter(|r| r.is_none()) {
            *slot = admitted.next();
        }
        if let Err(e) = state.check() {
            let message = e.to_string();
            return results
                .iter()
                .map(|_| Err(StorageError::Corrupt(message.clone()).into()))
                .collect();
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(PoolError::Busy.into())))
            .collect()
    }

    /// Validates one transaction against `state` and pools it.
    fn admit(
        &self,
        state: &DbStateView,
        xt: Xt<S>,
        len: usize,
        hash: Hash,
        signatures_checked: bool,
        announce: bool,
    ) -> Result<Hash, SubmitError> {
        match self
            .runtime
            .validate_transaction(state, &xt, signatures_checked)
        {
            Ok(valid) => {
                let xt = Arc::new(xt);
                self.pool
                    .submit(xt.clone(), hash, len, &valid, state.at().number)?;
                self.metrics.set_pool(self.pool.status());
                if let (true, Some(f)) = (announce, self.announce_tx.get()) {
                    f(xt.encode());
                }
                Ok(hash)
            }
            Err(e) => {
                if e.is_permanent() {
                    self.pool.ban(hash);
                }
                Err(PoolError::Invalid(e).into())
            }
        }
    }

    /// Where an included transaction is and what it did (without reading its block).
    pub fn tx_outcome(&self, hash: &Hash) -> Result<Option<RecordedTx<S>>, StorageError> {
        let Some(record) = self.db.tx(hash)? else {
            return Ok(None);
        };
        let outcome = decode_exact(&record.outcome)
            .map_err(|e| StorageError::Corrupt(format!("tx {hash} outcome: {e}")))?;
        Ok(Some((record, outcome)))
    }

    /// Where a transaction is: pooled (or in a block this node authored that is still being
    /// stored), included (with its outcome) or dropped.
    pub fn tx_status(&self, hash: &Hash) -> Result<Option<TxStatus<S>>, StorageError> {
        if let Some(included) = self.included_tx(hash)? {
            return Ok(Some(included));
        }
        // A transaction moves from the pool to the in-flight block (in both for a moment) and
        // from there to the database (in both for a moment): asked in that order, then the
        // database again, it is found wherever it went meanwhile.
        if let Some(xt) = self
            .pool
            .get(hash)
            .map(|tx| tx.xt)
            .or_else(|| self.in_flight_tx(hash))
        {
            return Ok(Some(TxStatus::Pending(xt)));
        }
        if let Some(included) = self.included_tx(hash)? {
            return Ok(Some(included));
        }
        Ok(self.pool.dropped(hash).map(|d| TxStatus::Dropped(d.reason)))
    }

    /// A transaction of the stored best chain, with its outcome.
    fn included_tx(&self, hash: &Hash) -> Result<Option<TxStatus<S>>, StorageError> {
        if let Some((record, outcome)) = self.tx_outcome(hash)? {
            // Decode only this extrinsic, from its span in the stored block.
            let corrupt = |what: &str| StorageError::Corrupt(format!("tx {hash}: {what}"));
            let bytes = self
                .db
                .block(&record.block.hash)?
                .ok_or_else(|| corrupt("missing block"))?;
            let (start, len) = (record.offset as usize, record.len as usize);
            let span = bytes
                .get(start..start + len)
                .ok_or_else(|| corrupt("span out of range"))?;
            let xt: Xt<S> = decode_exact(span).map_err(|e| corrupt(&e.to_string()))?;
            let finalized = record.block.number <= self.finalized().number;
            return Ok(Some(TxStatus::Included(Box::new(IncludedTx {
                record,
                xt,
                outcome,
                finalized,
            }))));
        }
        Ok(None)
    }
}

fn load_header(db: &ChainDb, hash: &Hash) -> Result<Header, StorageError> {
    let bytes = db
        .header(hash)?
        .ok_or_else(|| StorageError::Corrupt(format!("missing header of block {hash}")))?;
    decode_exact(&bytes).map_err(|e| StorageError::Corrupt(format!("header {hash}: {e}")))
}
