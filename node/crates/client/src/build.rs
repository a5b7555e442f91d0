//! Block building and authoring.
//!
//! A block is built from ready pool transactions on the block the author built last, if its
//! import is still running ([`InFlight`]), else on the best block (the one whose state the
//! database holds). The builder stops at the state machine's limits or when the work left after
//! the last transaction (state root, seal) would no longer fit before the deadline: that work
//! grows with the number of transactions, so the builder keeps a running estimate of its cost
//! per transaction, learned from the blocks it authored ([`FinishCost`]). Authoring then
//! records the slot durably (slashing protection), seals the header ([`Client::seal_block`])
//! and imports the block through the same path as any other block, passing its execution so it
//! is not executed twice ([`Client::import_authored`]).
//!
//! Pipelining: the import (its durable commit is most of it) of an authored block may run
//! while the next one is built. From its seal until its import ends, the block is in flight:
//! its transactions have left the pool's ready set, and a build reads its state as the stored
//! state of its parent with the block's changes and tree nodes over it
//! ([`aitbc_storage::PendingState`]). At most one block is in flight when a build starts (the
//! author awaits the previous import before it starts the next one), and the block is announced
//! and reported only once its commit is durable, as every import.

use super::{Client, ImportError, Xt};
use aitbc_primitives::{
    Block, BlockContext, ExecutedBlock, InvalidTransaction, Justification, Pair, SignedBlock,
    SigningContext, StateMachine, VoteTarget,
};
use aitbc_storage::{BlockRef, DbStateView, PendingState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Blocks with fewer transactions do not teach the estimate (their fixed costs dominate).
const LEARN_FROM_TXS: usize = 100;

/// How often (in transactions) the builder checks the clock.
const CHECK_EVERY: usize = 32;

/// The running estimates of the time, per transaction, that a built block still needs after its
/// last transaction is applied: state root and sealing; and then its import (the durable commit
/// is most of it), which the build reserves room for unless the import overlaps the next build.
#[derive(Debug, Default)]
pub struct FinishCost {
    seal: PerTx,
    import: PerTx,
    /// The state-root time of the last block built.
    last_root_nanos: AtomicU64,
}

/// A running average of nanoseconds per transaction.
#[derive(Debug, Default)]
struct PerTx(AtomicU64);

impl PerTx {
    fn estimate(&self, txs: usize) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed).saturating_mul(txs as u64))
    }

    /// Learns from a block of `txs` transactions that took `nanos`.
    fn learn(&self, txs: usize, nanos: u128) {
        if txs < LEARN_FROM_TXS {
            return;
        }
        let sample = (nanos / txs as u128).min(u64::MAX as u128) as u64;
        let old = self.0.load(Ordering::Relaxed);
        let new = if old == 0 {
            sample
        } else {
            (old * 3 + sample) / 4
        };
        self.0.store(new, Ordering::Relaxed);
    }
}

impl FinishCost {
    /// Whether `txs` transactions, applied by now, still fit: sealed (and imported, as `import`
    /// says) in time.
    fn fits(&self, txs: usize, deadline: Instant, import: Import) -> bool {
        let sealed = Instant::now() + self.seal.estimate(txs);
        match import {
            Import::ByDeadline => sealed + self.import.estimate(txs) < deadline,
            Import::Within(most) => sealed < deadline && self.import.estimate(txs) <= most,
        }
    }

    fn note_root(&self, took: Duration) {
        let nanos = took.as_nanos().min(u64::MAX as u128) as u64;
        self.last_root_nanos.store(nanos, Ordering::Relaxed);
    }

    /// Learns from a block of `txs` transactions whose seal took `took` after its state root
    /// (noted by the build).
    fn learn_seal(&self, txs: usize, took: Duration) {
        let root = u128::from(self.last_root_nanos.load(Ordering::Relaxed));
        self.seal.learn(txs, took.as_nanos() + root);
    }

    fn learn_import(&self, txs: usize, took: Duration) {
        self.import.learn(txs, took.as_nanos());
    }
}

/// When an authored block's import must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Import {
    /// By the build's deadline.
    ByDeadline,
    /// Beside the next build, taking at most this long (the import of each block must keep up
    /// with the slots).
    Within(Duration),
}

/// A built, unsealed block and its execution.
pub type BuiltBlock<S> = (Block<Xt<S>>, ExecutedBlock<<S as StateMachine>::Event>);

/// A block this node authored and sealed whose import may still be running (see the module
/// docs), with its transactions (no longer pooled, not yet stored) for `getTx`.
#[derive(Debug)]
pub(crate) struct InFlight<X> {
    header: aitbc_primitives::Header,
    state: PendingState,
    txs: std::collections::HashMap<aitbc_primitives::Hash, Arc<X>>,
    /// Each signer's nonce after its transactions in the block.
    nonces: std::collections::HashMap<aitbc_primitives::AccountId, u64>,
}

/// A sealed block and its execution, in flight until [`Client::import_authored`] returns.
pub struct Authored<S: StateMachine> {
    pub block: SignedBlock<Xt<S>>,
    executed: ExecutedBlock<S::Event>,
    built: Duration,
}

impl<S: StateMachine> Client<S> {
    /// The state a block is built on: the in-flight block's if there is one, else the best
    /// block's.
    pub fn build_state(&self) -> Result<DbStateView, aitbc_storage::StorageError> {
        match self.in_flight.lock().clone() {
            Some(f) => self.db.state_view_on(&f.state),
            None => self.state(),
        }
    }

    /// A transaction of the in-flight block.
    pub(crate) fn in_flight_tx(&self, hash: &aitbc_primitives::Hash) -> Option<Arc<Xt<S>>> {
        self.in_flight.lock().as_ref()?.txs.get(hash).cloned()
    }

    /// The nonce `who` signs its next transaction with, given its nonce in the stored best
    /// state: past its transactions in the in-flight block and in the pool.
    pub fn next_nonce(&self, who: &aitbc_primitives::AccountId, stored: u64) -> u64 {
        let in_flight = self
            .in_flight
            .lock()
            .as_ref()
            .and_then(|f| f.nonces.get(who).copied());
        self.pool
            .next_nonce(who, in_flight.map_or(stored, |n| n.max(stored)))
    }

    /// The header of the block a build starts from: the in-flight block, else the best block.
    pub fn build_parent(&self) -> aitbc_primitives::Header {
        match &*self.in_flight.lock() {
            Some(f) => f.header.clone(),
            None => self.best_header(),
        }
    }

    /// Builds a block for `slot` on [`Self::build_state`] from ready pool transactions, stopping
    /// at the block limits or when finishing the block would run past `deadline`, or its import
    /// past what `import` allows (see the module docs). Returns the unsealed block and its
    /// execution.
    pub fn build_block(
        &self,
        slot: u64,
        deadline: Instant,
        import: Import,
    ) -> Result<BuiltBlock<S>, ImportError> {
        let state = self.build_state()?;
        // The parent is the block whose state this snapshot holds, even if the best block moves.
        let parent = match &*self.in_flight.lock() {
            Some(f) if f.state.at() == state.at() => f.header.clone(),
            _ => self
                .header(&state.at().hash)?
                .ok_or(ImportError::UnknownBlock(state.at().hash))?,
        };
        let context = BlockContext {
            parent_hash: parent.hash(),
            number: parent.number + 1,
            slot,
        };
        let apply_started = Instant::now();
        let mut pending = self.runtime.initialize_block(&state, context);
        let mut extrinsics = Vec::new();
        let mut ready = self.pool.ready();
        while let Some(tx) = ready.next() {
            if extrinsics.len() % CHECK_EVERY == 0
                && !self
                    .finish_cost
                    .fits(extrinsics.len() + CHECK_EVERY, deadline, import)
            {
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
        let root_started = Instant::now();
        let executed = self.runtime.finalize_block(&state, pending)?;
        self.finish_cost.note_root(root_started.elapsed());
        state.check()?;
        tracing::debug!(target: "aura", number = parent.number + 1, txs = extrinsics.len(),
            apply_ms = (root_started - apply_started).as_millis() as u64,
            root_ms = root_started.elapsed().as_millis() as u64, "built block");
        Ok((
            Block {
                header: executed.header.clone(),
                extrinsics,
            },
            executed,
        ))
    }

    /// Builds and seals a block for `slot` as `author` (who must be the slot's author), sealed
    /// by `deadline` and imported as `import` says;
    /// `record_slot` durably records the slot before the seal is made (slashing protection).
    /// The block is then in flight (see the module docs) until [`Self::import_authored`] ends.
    pub fn seal_block(
        &self,
        slot: u64,
        deadline: Instant,
        import: Import,
        author: &Pair,
        record_slot: impl FnOnce(u64) -> Result<(), String>,
    ) -> Result<Option<Authored<S>>, ImportError> {
        let started = Instant::now();
        let (block, executed) = self.build_block(slot, deadline, import)?;
        let built = started.elapsed();
        let finishing = Instant::now();
        if let Err(e) = record_slot(slot) {
            tracing::warn!(target: "aura", slot, error = %e, "not signing");
            return Ok(None);
        }
        let hash = block.header.hash();
        let seal = author.sign(SigningContext::Block, hash.as_bytes());
        // A single authority finalizes its block at once: its precommit for it (round = block
        // number) is the justification light clients and finality proofs follow.
        let set = self.voter_set();
        let justification = (set.authorities == [author.public()]).then(|| {
            let target = VoteTarget {
                hash,
                number: block.header.number,
            };
            Justification::for_target(
                &[author],
                target,
                target.number,
                set.id,
                &self.genesis_hash(),
            )
        });
        let at = BlockRef {
            number: block.header.number,
            hash,
        };
        let txs: std::collections::HashMap<_, _> = block
            .extrinsics
            .iter()
            .map(|xt| (xt.hash(), Arc::new(xt.clone())))
            .collect();
        let included: Vec<_> = txs.keys().copied().collect();
        let mut nonces = std::collections::HashMap::new();
        for xt in &block.extrinsics {
            let next = nonces.entry(xt.signer).or_insert(0);
            *next = xt.nonce.saturating_add(1).max(*next);
        }
        let in_flight = InFlight {
            txs,
            nonces,
            header: block.header.clone(),
            state: PendingState::new(
                at,
                block.header.parent_hash,
                &executed.changes,
                executed.commitment.clone(),
            ),
        };
        // In flight before it leaves the pool: `getTx` always finds it in one or the other.
        *self.in_flight.lock() = Some(Arc::new(in_flight));
        self.pool.after_block(&included, at.number);
        self.finish_cost
            .learn_seal(block.extrinsics.len(), finishing.elapsed());
        Ok(Some(Authored {
            block: SignedBlock {
                block,
                seal,
                justification,
            },
            executed,
            built,
        }))
    }

    /// Imports a block [`Self::seal_block`] made; it is no longer in flight afterwards. If the
    /// import fails, its transactions go back to the pool.
    pub fn import_authored(&self, authored: Authored<S>) -> Result<BlockRef, ImportError> {
        let Authored {
            block,
            executed,
            built,
        } = authored;
        let started = Instant::now();
        let result = self.import_block(&block, Some(executed));
        let hash = block.block.header.hash();
        {
            let mut in_flight = self.in_flight.lock();
            if in_flight
                .as_ref()
                .is_some_and(|f| f.state.at().hash == hash)
            {
                *in_flight = None;
            }
        }
        match &result {
            Ok(at) => {
                let took = started.elapsed();
                tracing::debug!(target: "aura", number = at.number,
                    import_ms = took.as_millis() as u64, "stored authored block");
                self.finish_cost
                    .learn_import(block.block.extrinsics.len(), took);
                self.metrics.block_authored(built);
            }
            Err(_) => {
                let best = self.best_header().number;
                self.maintain_pool(&[], best, block.block.extrinsics);
            }
        }
        result
    }

    /// Builds, seals and imports a block for `slot` as `author` by `deadline`
    /// ([`Self::seal_block`], then [`Self::import_authored`]). Returns the imported block and
    /// the sealed block (for announcing it).
    #[allow(clippy::type_complexity)]
    pub fn author_block(
        &self,
        slot: u64,
        deadline: Instant,
        author: &Pair,
        record_slot: impl FnOnce(u64) -> Result<(), String>,
    ) -> Result<Option<(BlockRef, SignedBlock<Xt<S>>)>, ImportError> {
        let Some(authored) =
            self.seal_block(slot, deadline, Import::ByDeadline, author, record_slot)?
        else {
            return Ok(None);
        };
        let block = authored.block.clone();
        let at = self.import_authored(authored)?;
        Ok(Some((at, block)))
    }
}
