//! Block building and authoring.
//!
//! A block is built on the block whose state the database holds (the best block) from ready pool
//! transactions, stopping at the state machine's limits or at a deadline. Authoring then records
//! the slot durably (slashing protection), seals the header and imports the block through the
//! same path as any other block, passing its execution so it is not executed twice.

use super::{Client, ImportError, Xt};
use crate::storage::BlockRef;
use aitbc_primitives::{
    Block, BlockContext, ExecutedBlock, InvalidTransaction, Pair, SignedBlock, SigningContext,
    StateMachine,
};
use std::time::Instant;

/// A built, unsealed block and its execution.
pub type BuiltBlock<S> = (Block<Xt<S>>, ExecutedBlock<<S as StateMachine>::Event>);

impl<S: StateMachine> Client<S> {
    /// Builds a block for `slot` on the best block from ready pool transactions, stopping at the
    /// block limits or at `deadline`. Returns the unsealed block and its execution.
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
    /// Returns the imported block and the sealed block (for announcing it).
    #[allow(clippy::type_complexity)]
    pub fn author_block(
        &self,
        slot: u64,
        deadline: Instant,
        author: &Pair,
        record_slot: impl FnOnce(u64) -> Result<(), String>,
    ) -> Result<Option<(BlockRef, SignedBlock<Xt<S>>)>, ImportError> {
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
        let at = self.import_block(&signed, Some(executed))?;
        Ok(Some((at, signed)))
    }
}
