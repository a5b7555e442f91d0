//! The client: the chain database, the state machine and the transaction pool behind one API.
//!
//! Block authoring and block import share [`Client::import_block`]: it checks the header against
//! its parent (number, slot, author) and the author's seal, executes the block (unless this node
//! just built it, in which case the execution result is passed in), checks the roots, commits
//! everything in one durable write, then announces the block and maintains the pool.
//!
//! This stage keeps one linear chain: a block must build on the best block. A single-authority
//! chain finalizes each block at once.

use crate::consensus::slots::{self, HeaderError};
use crate::metrics::Metrics;
use crate::pool::{PoolError, TxPool};
use crate::storage::{
    BlockRef, BlockWrite, ChainDb, DbStateView, GenesisWrite, StorageError, TxRecord,
};
use crate::util::{unix_ms, Mutex};
use aitbc_primitives::{
    decode_exact, AccountId, Block, BlockContext, BlockError, DecodeError, ExecutedBlock,
    Extrinsic, Hash, Header, InvalidTransaction, Pair, SignedBlock, SigningContext, StateMachine,
    StateView, TxOutcome,
};
use codec::Encode;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Instant;
use tokio::sync::broadcast;

/// The extrinsic type of a state machine.
pub type Xt<S> = Extrinsic<<S as StateMachine>::Call>;
/// The signed block type of a state machine.
pub type SignedBlockOf<S> = SignedBlock<Xt<S>>;

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

/// Why a block was not imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("block {0} is already known")]
    AlreadyKnown(Hash),
    #[error("unknown parent {parent} (best is {best})")]
    UnknownParent { parent: Hash, best: Hash },
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error("bad seal")]
    BadSeal,
    #[error("invalid block: {0}")]
    Execution(#[from] BlockError),
    #[error("extrinsic {0} has a bad signature: {1}")]
    Signature(usize, InvalidTransaction),
    #[error(transparent)]
    Storage(#[from] StorageError),
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

/// A built, unsealed block and its execution.
pub type BuiltBlock<S> = (Block<Xt<S>>, ExecutedBlock<<S as StateMachine>::Event>);

/// The genesis the client starts from (built from a chain spec).
#[derive(Debug, Clone)]
pub struct GenesisBlock {
    pub header: Header,
    pub state: aitbc_primitives::commitment::MemoryState,
}

/// See the module docs.
pub struct Client<S: StateMachine> {
    runtime: Arc<S>,
    db: ChainDb,
    genesis_hash: Hash,
    best: RwLock<Header>,
    finalized: RwLock<BlockRef>,
    import_lock: Mutex<()>,
    events: broadcast::Sender<ChainEvent>,
    pool: TxPool<S::Call>,
    metrics: Arc<Metrics>,
}

impl<S: StateMachine> std::fmt::Debug for Client<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Client(genesis {})", self.genesis_hash)
    }
}

fn read<T: Clone>(l: &RwLock<T>) -> T {
    l.read().unwrap_or_else(|p| p.into_inner()).clone()
}

fn write<T>(l: &RwLock<T>, v: T) {
    *l.write().unwrap_or_else(|p| p.into_inner()) = v;
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
        let genesis_hash = genesis.header.hash();
        let changes: aitbc_primitives::StateChanges = genesis
            .state
            .values()
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        let commitment = aitbc_primitives::commitment::MemoryState::new()
            .commit(&changes)
            .map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let block = SignedBlock::<Xt<S>> {
            block: Block {
                header: genesis.header.clone(),
                extrinsics: Vec::new(),
            },
            seal: aitbc_primitives::Signature([0; 64]),
            justification: None,
        }
        .encode();
        let db = ChainDb::open(
            db_path,
            &GenesisWrite {
                hash: genesis_hash,
                encoded_block: &block,
                changes: &changes,
                commitment: &commitment,
            },
        )?;
        let best_ref = db.best()?;
        let best = load_header::<S>(&db, &best_ref.hash)?;
        let finalized = db.finalized()?;
        let (events, _) = broadcast::channel(1024);
        metrics.set_heights(best.number, finalized.number);
        Ok(Client {
            runtime,
            db,
            genesis_hash,
            best: RwLock::new(best),
            finalized: RwLock::new(finalized),
            import_lock: Mutex::new(()),
            events,
            pool,
            metrics,
        })
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

    pub fn finalized(&self) -> BlockRef {
        read(&self.finalized)
    }

    /// Chain events (new best, finalized).
    pub fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.events.subscribe()
    }

    /// A snapshot of the best state.
    pub fn state(&self) -> Result<DbStateView, StorageError> {
        self.db.state_view()
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
        let block: SignedBlockOf<S> = decode_exact(&bytes)
            .map_err(|e| StorageError::Corrupt(format!("block {hash}: {e}")))?;
        let finalized = block.block.header.number <= self.finalized().number;
        Ok(Some((block, finalized)))
    }

    /// Validates and pools a decoded transaction of encoded length `len`.
    pub fn submit_decoded(&self, xt: Xt<S>, len: usize) -> Result<Hash, SubmitError> {
        let hash = xt.hash();
        self.pool.precheck(&hash)?;
        let state = self.state()?;
        let valid = self.runtime.validate_transaction(&state, &xt, false);
        state.check()?;
        match valid {
            Ok(valid) => {
                self.pool
                    .submit(Arc::new(xt), hash, len, &valid, state.at().number)?;
                self.metrics.set_pool(self.pool.status());
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

    /// Where a transaction is: pooled, included (with its outcome) or dropped.
    pub fn tx_status(&self, hash: &Hash) -> Result<Option<TxStatus<S>>, StorageError> {
        if let Some(record) = self.db.tx(hash)? {
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
            let outcome =
                decode_exact(&record.outcome).map_err(|e| StorageError::Corrupt(e.to_string()))?;
            return Ok(Some(TxStatus::Included(Box::new(IncludedTx {
                record,
                xt,
                outcome,
                finalized,
            }))));
        }
        if let Some(tx) = self.pool.get(hash) {
            return Ok(Some(TxStatus::Pending(tx.xt)));
        }
        Ok(self.pool.dropped(hash).map(|d| TxStatus::Dropped(d.reason)))
    }

    /// Builds a block for `slot` on the best block from ready pool transactions, stopping at the
    /// block limits or at `deadline`. Returns the unsealed block and its execution.
    pub fn build_block(&self, slot: u64, deadline: Instant) -> Result<BuiltBlock<S>, ImportError> {
        let parent = self.best_header();
        let state = self.state()?;
        let context = BlockContext {
            parent_hash: parent.hash(),
            number: parent.number + 1,
            slot,
        };
        let mut pending = self.runtime.initialize_block(&state, context);
        let mut extrinsics = Vec::new();
        let mut ready = self.pool.ready();
        while let Some(tx) = ready.next() {
            if Instant::now() >= deadline {
                break;
            }
            match self
                .runtime
                .apply_extrinsic(&state, &mut pending, &tx.xt, true)
            {
                Ok(_) => extrinsics.push((*tx.xt).clone()),
                Err(InvalidTransaction::ExhaustsResources) => break,
                Err(InvalidTransaction::FutureNonce { .. }) => ready.skip_sender_of(&tx),
                Err(e) => {
                    tracing::debug!(target: "txpool", hash = %tx.hash, error = %e, "dropping invalid transaction");
                    self.pool.remove_invalid(&tx.hash, &e);
                    ready.skip_sender_of(&tx);
                }
            }
        }
        let executed = self.runtime.finalize_block(&state, pending)?;
        state.check()?;
        Ok((
            Block {
                header: executed.header.clone(),
                extrinsics,
            },
            executed,
        ))
    }

    /// Builds, seals and imports a block for `slot` as `author` (who must be the slot's author);
    /// `record_slot` durably records the slot before the seal is made (slashing protection).
    pub fn author_block(
        &self,
        slot: u64,
        deadline: Instant,
        author: &Pair,
        record_slot: impl FnOnce(u64) -> Result<(), String>,
    ) -> Result<Option<BlockRef>, ImportError> {
        let (block, executed) = self.build_block(slot, deadline)?;
        if let Err(e) = record_slot(slot) {
            tracing::warn!(target: "aura", slot, error = %e, "not signing");
            return Ok(None);
        }
        let seal = author.sign(SigningContext::Block, block.header.hash().as_bytes());
        let signed = SignedBlock {
            block,
            seal,
            justification: None,
        };
        self.import_block(signed, Some(executed)).map(Some)
    }

    /// Imports a block on top of the best block. `executed` is the block's execution when this
    /// node built it; otherwise the block is executed here.
    pub fn import_block(
        &self,
        block: SignedBlockOf<S>,
        executed: Option<ExecutedBlock<S::Event>>,
    ) -> Result<BlockRef, ImportError> {
        let started = Instant::now();
        let _guard = self.import_lock.lock();
        let hash = block.hash();
        let header = &block.block.header;
        let parent = self.best_header();
        let parent_hash = parent.hash();
        if header.parent_hash != parent_hash {
            if self.db.block(&hash)?.is_some() {
                return Err(ImportError::AlreadyKnown(hash));
            }
            return Err(ImportError::UnknownParent {
                parent: header.parent_hash,
                best: parent_hash,
            });
        }
        let state = self.state()?;
        let authorities = self.runtime.authorities(&state);
        let now = slots::slot_at(unix_ms(), self.runtime.slot_duration_ms(&state));
        let author = *slots::check_header(header, &parent, &authorities, now)?;
        if !block.seal_is_valid(&author) {
            return Err(ImportError::BadSeal);
        }
        let executed = match executed {
            Some(e) => e,
            None => {
                self.runtime
                    .check_signatures(&block.block.extrinsics)
                    .map_err(|(i, e)| ImportError::Signature(i, e))?;
                self.runtime.execute_block(&state, &block.block, true)?
            }
        };
        state.check()?;
        drop(state);

        let at = BlockRef {
            number: header.number,
            hash,
        };
        // Each extrinsic's hash and its span in the encoded block (header, then the compact
        // length of the extrinsic list, then the extrinsics), so a lookup decodes only its own.
        let extrinsics = &block.block.extrinsics;
        let mut offset =
            header.encoded_size() + codec::Compact(extrinsics.len() as u32).encoded_size();
        let mut tx_hashes = Vec::with_capacity(extrinsics.len());
        let mut txs = Vec::with_capacity(extrinsics.len());
        for (i, (xt, outcome)) in extrinsics.iter().zip(&executed.outcomes).enumerate() {
            let bytes = xt.encode();
            let hash = Hash::of(&bytes);
            tx_hashes.push(hash);
            let record = TxRecord {
                block: at,
                index: i as u32,
                offset: offset as u32,
                len: bytes.len() as u32,
                outcome: outcome.encode(),
            };
            txs.push((hash, record));
            offset += bytes.len();
        }
        let finalized = authorities.len() == 1;
        let encoded = block.encode();
        self.db.commit_block(&BlockWrite {
            at,
            encoded_block: &encoded,
            author: Some(author),
            txs,
            changes: &executed.changes,
            commitment: &executed.commitment,
            finalized,
        })?;
        write(&self.best, header.clone());
        if finalized {
            write(&self.finalized, at);
        }
        let tx_hashes = Arc::new(tx_hashes);
        self.maintain_pool(&tx_hashes, header.number);
        self.metrics.block_imported(
            started.elapsed(),
            header.number,
            self.finalized().number,
            tx_hashes.len(),
        );
        self.metrics.set_pool(self.pool.status());
        let _ = self.events.send(ChainEvent::NewBest {
            header: header.clone(),
            hash,
            tx_hashes: tx_hashes.clone(),
        });
        if finalized {
            let _ = self.events.send(ChainEvent::Finalized {
                header: header.clone(),
                hash,
                tx_hashes,
            });
        }
        Ok(at)
    }

    /// Drops the included transactions and revalidates the rest against the new best state,
    /// without holding the pool lock. A storage error discards the results (nothing is dropped
    /// because of a failed read).
    fn maintain_pool(&self, included: &[Hash], best: u64) {
        let pending = self.pool.after_block(included, best);
        let state = match self.state() {
            Ok(s) => s,
            Err(e) => {
                return tracing::error!(target: "txpool", error = %e, "cannot revalidate the pool")
            }
        };
        let results = pending
            .into_iter()
            .map(|(h, xt)| (h, self.runtime.validate_transaction(&state, &xt, true)))
            .collect();
        match state.check() {
            Ok(()) => self.pool.apply_revalidation(results),
            Err(e) => tracing::error!(target: "txpool", error = %e, "cannot revalidate the pool"),
        }
    }
}

fn load_header<S: StateMachine>(db: &ChainDb, hash: &Hash) -> Result<Header, StorageError> {
    let bytes = db
        .block(hash)?
        .ok_or_else(|| StorageError::Corrupt(format!("missing best block {hash}")))?;
    let block: SignedBlockOf<S> =
        decode_exact(&bytes).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    Ok(block.block.header)
}
