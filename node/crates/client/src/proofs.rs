//! What a node proves to those who do not trust it: finality (warp fragments), state values
//! (read proofs against a block's state root), transaction inclusion, and state chunks for
//! state sync. Light clients, warp-syncing nodes and `export-state` use these.

use super::{Client, SignedBlockOf};
use crate::tree::ForkTree;
use aitbc_primitives::snapshot::StateChunk;
use aitbc_primitives::warp::{FinalityProof, WarpFragment, MAX_WARP_FRAGMENTS};
use aitbc_primitives::{
    decode_exact, extrinsic_proof, BlockNumber, BoundedVec, Hash, Justification, StateMachine,
    TxProof,
};
use aitbc_storage::{
    BlockRef, CheckedChunk, DbStateView, ProvenBlock, RestoreError, RestoreProgress, StateRestore,
    StorageError, StoredBlock, VoterSet,
};
use codec::Encode;

impl<S: StateMachine> Client<S> {
    /// Serves the states of the last `pruning` finalized blocks (the node's `--state-pruning`).
    pub fn set_state_window(&self, pruning: aitbc_storage::Pruning) {
        self.db.set_state_window(pruning);
    }

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
        let (fragments, complete) = self.fragments(from, BlockNumber::MAX, MAX_WARP_FRAGMENTS)?;
        Ok(FinalityProof {
            fragments: BoundedVec::try_from_vec(fragments)
                .map_err(|_| StorageError::Corrupt("too many fragments".into()))?,
            complete,
        })
    }

    /// Every fragment from genesis to the highest justified block at or below `to`, which is
    /// the last one (`export-state`); empty if no block that high is justified.
    pub fn finality_proof_to(&self, to: BlockNumber) -> Result<Vec<WarpFragment>, StorageError> {
        Ok(self.fragments(0, to, usize::MAX)?.0)
    }

    /// The set changes in `(from, to]` (at most `limit`), then the highest justified block at or
    /// below `to` if the limit was not reached (and it is above the last change); and whether
    /// the limit was not reached.
    fn fragments(
        &self,
        from: BlockNumber,
        to: BlockNumber,
        limit: usize,
    ) -> Result<(Vec<WarpFragment>, bool), StorageError> {
        let mut changes = self.db.set_changes_after(from, limit)?;
        changes.retain(|c| c.number <= to);
        let complete = changes.len() < limit;
        let mut fragments = changes
            .iter()
            .map(|at| self.fragment(*at))
            .collect::<Result<Vec<_>, _>>()?;
        let last = changes.last().map_or(from, |c| c.number);
        if complete {
            if let Some(head) = self.db.latest_justified(to)? {
                if head.number > last {
                    fragments.push(self.fragment(head)?);
                }
            }
        }
        Ok((fragments, complete))
    }

    /// The highest finalized block with a stored justification (the head of finality proofs).
    pub fn latest_justified(&self) -> Result<Option<BlockRef>, StorageError> {
        self.db.latest_justified(BlockNumber::MAX)
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
        // The peer will ask for the rest: keep the state until it has it.
        self.db.hold_state(number);
        view.chunk(start, max_bytes)
            .map_err(|e| StorageError::Corrupt(e.to_string()))
    }
}

/// Restoring a finalized block's state instead of executing the chain up to it (warp sync,
/// `import-state`): the restore itself is the storage's ([`aitbc_storage::StateRestore`]).
impl<S: StateMachine> Client<S> {
    /// The restore the database is in the middle of, if any.
    pub fn restore_progress(&self) -> Result<Option<RestoreProgress>, StorageError> {
        self.db.restore_progress()
    }

    /// Whether the database has no state to execute on until a restore finishes (its genesis
    /// state was skipped for warp sync, or a restore is in progress).
    pub fn state_pending(&self) -> Result<bool, StorageError> {
        self.db.state_pending()
    }

    /// Starts (or resumes) restoring the state of `target` (its state root `root`), with what
    /// finishing it needs after a restart (`context`, kept in the database).
    pub fn begin_restore(
        &self,
        target: BlockRef,
        root: Hash,
        context: &[u8],
    ) -> Result<StateRestore, StorageError> {
        self.db.begin_restore(target, root, context)
    }

    /// Checks a chunk and persists it (see [`StateRestore::add_chunk`]).
    pub fn add_chunk(
        &self,
        restore: &mut StateRestore,
        chunk: StateChunk,
    ) -> Result<(), RestoreError> {
        restore.add_chunk(&self.db, chunk)
    }

    /// Persists a chunk that passed [`StateRestore::check`], in the order checked.
    pub fn persist_chunk(&self, chunk: &CheckedChunk) -> Result<(), StorageError> {
        self.db.persist_chunk(chunk)
    }

    /// Completes a restore with the target block and the finality proof that made it trusted
    /// (its last fragment is the target; `set_id` and `authorities` are the voter set after
    /// it), and moves the client onto the target: best and finalized, no fork tree above it.
    pub fn finish_restore(
        &self,
        restore: StateRestore,
        target: &SignedBlockOf<S>,
        proof: &[WarpFragment],
        set_id: u64,
        authorities: Vec<aitbc_primitives::AccountId>,
    ) -> Result<(), RestoreError> {
        let _guard = self.import_lock.lock();
        let header = &target.block.header;
        let at = BlockRef {
            number: header.number,
            hash: header.hash(),
        };
        let encoded_header = header.encode();
        let encoded_block = (&target.block, &target.seal, None::<()>).encode();
        let headers: Vec<Vec<u8>> = proof.iter().map(|f| f.header.encode()).collect();
        let justifications: Vec<Option<Vec<u8>>> = proof
            .iter()
            .map(|f| f.justification.as_ref().map(|j| j.encode()))
            .collect();
        let proven: Vec<ProvenBlock<'_>> = proof
            .iter()
            .zip(headers.iter().zip(&justifications))
            .map(|(f, (header, justification))| {
                let h = &f.header;
                ProvenBlock {
                    at: BlockRef {
                        number: h.number,
                        hash: h.hash(),
                    },
                    encoded_header: header,
                    justification: justification.as_deref(),
                    set_change: h.authorities_change().is_some()
                        || h.forced_authorities_change().is_some(),
                }
            })
            .collect();
        // The author weights after the target come from its state, which is the restored one.
        let voter_set = {
            let mut probe = VoterSet {
                id: set_id,
                authorities,
                weights: Vec::new(),
            };
            restore.finish(
                &self.db,
                &StoredBlock {
                    at,
                    encoded_header: &encoded_header,
                    encoded_block: &encoded_block,
                    author: None,
                },
                &proven,
                &probe,
            )?;
            let state = self.db.state_view()?;
            let schedule = self.runtime.author_schedule(&state);
            state.check()?;
            if schedule.authorities() == probe.authorities.as_slice() {
                probe.weights = schedule.weights().to_vec();
                self.db.set_voter_set(&probe)?;
            }
            probe
        };
        *self.best.write().unwrap_or_else(|p| p.into_inner()) = header.clone();
        *self.finalized.write().unwrap_or_else(|p| p.into_inner()) = at;
        *self.tree.write().unwrap_or_else(|p| p.into_inner()) = ForkTree::new(at);
        self.set_voter_set(voter_set);
        self.metrics.set_heights(at.number, at.number);
        Ok(())
    }
}
