//! Block building and authoring.
//!
//! A block is built on the block whose state the database holds (the best block) from ready pool
//! transactions, stopping at the state machine's limits or when the work left after the last
//! transaction (state root, seal, durable commit) would no longer fit before the deadline: that
//! work grows with the number of transactions, so the builder keeps a running estimate of its
//! cost per transaction, learned from the blocks it authored ([`FinishCost`]). Authoring then records
//! the slot durably (slashing protection), seals the header and imports the block through the
//! same path as any other block, passing its execution so it is not executed twice.

use super::{Client, ImportError, Xt};
use aitbc_primitives::{
    Block, BlockContext, ExecutedBlock, InvalidTransaction, Justification, Pair, SignedBlock,
    SigningContext, StateMachine, VoteTarget,
};
use aitbc_storage::BlockRef;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Blocks with fewer transactions do not teach the estimate (their fixed costs dominate).
const LEARN_FROM_TXS: usize = 100;

/// How often (in transactions) the builder checks the clock.
const CHECK_EVERY: usize = 32;

/// The running estimate of the time, per transaction, that a built block still needs after its
/// last transaction is applied: state root, sealing and the durable commit.
#[derive(Debug, Default)]
pub struct FinishCost {
    nanos_per_tx: AtomicU64,
    /// The state-root time of the last block built.
    last_root_nanos: AtomicU64,
}

impl FinishCost {
    /// The time `txs` transactions are expected to add after the apply phase.
    fn estimate(&self, txs: usize) -> Duration {
        Duration::from_nanos(
            self.nanos_per_tx
                .load(Ordering::Relaxed)
                .saturating_mul(txs as u64),
        )
    }

    fn note_root(&self, took: Duration) {
        let nanos = took.as_nanos().min(u64::MAX as u128) as u64;
        self.last_root_nanos.store(nanos, Ordering::Relaxed);
    }

    /// Learns from a block of `txs` transactions whose seal and commit took `took` after its
    /// state root (noted by the build).
    fn learn(&self, txs: usize, took: Duration) {
        if txs < LEARN_FROM_TXS {
            return;
        }
        let total = took.as_nanos() + u128::from(self.last_root_nanos.load(Ordering::Relaxed));
        let sample = (total / txs as u128).min(u64::MAX as u128) as u64;
        let old = self.nanos_per_tx.load(Ordering::Relaxed);
        let new = if old == 0 {
            sample
        } else {
            (old * 3 + sample) / 4
        };
        self.nanos_per_tx.store(new, Ordering::Relaxed);
    }
}

/// A built, unsealed block and its execution.
pub type BuiltBlock<S> = (Block<Xt<S>>, ExecutedBlock<<S as StateMachine>::Event>);

impl<S: StateMachine> Client<S> {
    /// Builds a block for `slot` on the best block from ready pool transactions, stopping at the
    /// block limits or when finishing the block would run past `deadline` (see the module docs).
    /// Returns the unsealed block and its execution.
    pub fn build_block(&self, slot: u64, deadline: Instant) -> Result<BuiltBlock<S>, ImportError> {
        let state = self.state()?;
        // The parent is the block whose state this snapshot holds, even if the best block moves.
        let parent = self
            .header(&state.at().hash)?
            .ok_or(ImportError::UnknownBlock(state.at().hash))?;
        let context = BlockContext {
            parent_hash: parent.hash(),
            number: parent.number + 1,
            slot,
        };
        let mut pending = self.runtime.initialize_block(&state, context);
        let mut extrinsics = Vec::new();
        let mut ready = self.pool.ready();
        while let Some(tx) = ready.next() {
            if extrinsics.len() % CHECK_EVERY == 0
                && Instant::now() + self.finish_cost.estimate(extrinsics.len() + CHECK_EVERY)
                    >= deadline
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
    /// Returns the imported block and the sealed block (for announcing it).
    #[allow(clippy::type_complexity)]
    pub fn author_block(
        &self,
        slot: u64,
        deadline: Instant,
        author: &Pair,
        record_slot: impl FnOnce(u64) -> Result<(), String>,
    ) -> Result<Option<(BlockRef, SignedBlock<Xt<S>>)>, ImportError> {
        let started = Instant::now();
        let (block, executed) = self.build_block(slot, deadline)?;
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
        let signed = SignedBlock {
            block,
            seal,
            justification,
        };
        let at = self.import_block(&signed, Some(executed))?;
        self.metrics.block_authored(built);
        self.finish_cost
            .learn(signed.block.extrinsics.len(), finishing.elapsed());
        Ok(Some((at, signed)))
    }
}
