//! What a node proves to those who do not trust it: finality (warp fragments), state values
//! (read proofs against a block's state root), transaction inclusion, and state chunks for
//! state sync. Light clients, warp-syncing nodes and `export-state` use these.

use super::{Client, SignedBlockOf};
use aitbc_primitives::snapshot::StateChunk;
use aitbc_primitives::warp::{FinalityProof, WarpFragment, MAX_WARP_FRAGMENTS};
use aitbc_primitives::{
    decode_exact, extrinsic_proof, BlockNumber, BoundedVec, Hash, Justification, StateMachine,
    TxProof,
};
use aitbc_storage::{BlockRef, DbStateView, StorageError};
use codec::Encode;

impl<S: StateMachine> Client<S> {
    /// The state of best-chain block `number`, while the history keeps it.
    pub fn state_at(&self, number: BlockNumber) -> Result<DbStateView, StorageError> {
        self.db.state_at(number)
    }

    /// The fragment of a finalized block: its header and its stored justification.
    fn fragment(&self, at: BlockRef) -> Result<WarpFragment, StorageError> {
        let header = self
            .header(&at.hash)?
            .ok_or_else(|| StorageError::Corrupt(format!("no header of #{}", at.number)))?;
        let justification = self
            .db
            .justification(&at.hash)?
            .map(|j| {
                decode_exact::<Justification>(&j)
                    .map_err(|e| StorageError::Corrupt(format!("justification {}: {e}", at.hash)))
            })
            .transpose()?;
        Ok(WarpFragment {
            header,
            justification,
        })
    }

    /// The finality proof from block `from` (see `primitives::warp`): each voter-set change
    /// above it, then the latest justified block; `complete` unless the changes alone filled
    /// the proof.
    pub fn finality_proof(&self, from: BlockNumber) -> Result<FinalityProof, StorageError> {
        let changes = self.db.set_changes_after(from, MAX_WARP_FRAGMENTS)?;
        let complete = changes.len() < MAX_WARP_FRAGMENTS;
        let mut fragments = changes
            .iter()
            .map(|at| self.fragment(*at))
            .collect::<Result<Vec<_>, _>>()?;
        let last = changes.last().map_or(from, |c| c.number);
        if complete {
            if let Some(head) = self.db.latest_justified()? {
                if head.number > last {
                    fragments.push(self.fragment(head)?);
                }
            }
        }
        Ok(FinalityProof {
            fragments: BoundedVec::try_from_vec(fragments)
                .map_err(|_| StorageError::Corrupt("too many fragments".into()))?,
            complete,
        })
    }

    /// The highest finalized block with a stored justification (the head of finality proofs).
    pub fn latest_justified(&self) -> Result<Option<BlockRef>, StorageError> {
        self.db.latest_justified()
    }

    /// The inclusion proof of a transaction on the best chain, if it is there.
    pub fn tx_proof(&self, hash: &Hash) -> Result<Option<TxProof>, StorageError> {
        let Some((record, _)) = self.tx_outcome(hash)? else {
            return Ok(None);
        };
        let Some((block, _)) = self.block(&record.block.hash)? else {
            return Ok(None);
        };
        let block: SignedBlockOf<S> = block;
        let hashes: Vec<Hash> = block.block.extrinsics.iter().map(|x| x.hash()).collect();
        let index = record.index as usize;
        let (Some(proof), Some(xt)) = (
            extrinsic_proof(&hashes, index),
            block.block.extrinsics.get(index),
        ) else {
            return Err(StorageError::Corrupt(format!(
                "tx {hash}: index out of its block"
            )));
        };
        Ok(Some(TxProof {
            header: block.block.header,
            extrinsic: xt.encode(),
            proof,
        }))
    }

    /// The entries of block `number`'s state from key hash `start` on, as many as fit in
    /// `max_bytes`, with their range proof.
    pub fn state_chunk(
        &self,
        number: BlockNumber,
        start: [u8; 32],
        max_bytes: usize,
    ) -> Result<StateChunk, StorageError> {
        let view = self.db.state_at(number)?;
        view.chunk(start, max_bytes)
            .map_err(|e| StorageError::Corrupt(e.to_string()))
    }
}
