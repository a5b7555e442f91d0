//! Block import, fork choice, reorganisation and finalization.
//!
//! [`Client::import_block`] is the one entry for every block (authored here, gossiped, synced):
//! 1. Known blocks are refused as `AlreadyKnown`; blocks at or below the finalized height, or
//!    whose parent is not the finalized block or in the fork tree, are refused (`UnknownParent`
//!    tells the caller to fetch the parent).
//! 2. The header must follow its parent (number, slot after the parent's, not too far ahead of
//!    the clock) and carry the seal of the slot's author in the author schedule of the parent's
//!    state (`AuthorSchedule`: the set with its weights). That schedule is read from executed
//!    state only: the best state, or the schedule signalled by the nearest *executed* ancestor
//!    that signals one (`EpochChange`, or a root set at equal weights; its digests were checked
//!    against its execution), else the voter set's. When an unexecuted ancestor signals a change, that branch
//!    is executed first (a reorg onto it and back to the best chain): a true change is then
//!    believed; a false one fails execution, its chain is bad, and the block is refused without
//!    blame (`UnverifiedAuthorities`). So one authority cannot seal a fork that claims the set
//!    is itself, and a node can still follow a chain whose set changed on a fork it did not
//!    follow.
//! 3. A second block by one author in one slot is an equivocation (also when it comes after
//!    the first was finalized: it is refused, the pair recorded): both headers are kept as the
//!    proof, and both blocks are forks like any other for fork choice (which arrived first must
//!    not matter). Of the blocks [`Client::import_block`] takes (gossiped, authored), at most one
//!    such extra block is stored per (author, slot); any further one is refused
//!    (`ExcessEquivocation`, the sender is charged and the block not forwarded). Blocks of a
//!    requested range ([`Client::import_blocks`], sync) are exempt: an equivocating author can
//!    leave different honest nodes holding different pairs of its blocks, and the chain they
//!    build on may use a third, which a node must be able to fetch (found by the simulator). A
//!    range answers our own request, at most one block per height.
//! 4. A block on the best block is executed (or its authored execution is taken) and committed
//!    with its undo log; a block on a fork is stored unexecuted. Then fork choice
//!    ([`super::tree`]) runs; when another chain is better, the best chain is reverted to the
//!    common ancestor and the other branch executed block by block. A branch block that fails
//!    execution is marked bad and fork choice runs again. Transactions of retracted blocks go
//!    back to the pool.
//!
//! [`Client::finalize`] makes a block of the fork tree final: the best chain moves onto it if it
//! was on a fork, the undo logs up to it and every conflicting fork are dropped, in one durable
//! write.
//!
//! Single voter: when the *finality voter set* (not the block's authority set) has one member,
//! each block imported onto the best chain is final at once, with the set change it signals
//! applied in the same write (the fast path when its parent is the finalized block; otherwise
//! through [`Client::finalize`]). So 1 -> n enacts the new set at the change block, and n -> 1
//! finalizes nothing without the old set's votes until the change block itself is final.
//!
//! Authority-set changes: a finalized block signalling `AuthoritiesChange` or `EpochChange`
//! replaces the voter set (next set id; several finalized together are enacted in order) in the
//! same write, on every path that finalizes. A block signalling
//! `ForcedAuthoritiesChange` (root, when more than 1/3 of the voters are gone and nothing can be
//! finalized) is enacted without votes once it is [`FORCED_CHANGE_DEPTH`] blocks deep on the best
//! chain: this node finalizes it (without a justification) and the new set votes from there.
//! Root is trusted for this, as in Substrate.

use super::{Client, SignedBlockOf, Xt};
use aitbc_consensus::slots::{self, HeaderError};
use aitbc_primitives::{
    AccountId, AuthorSchedule, BlockEquivocation, BlockError, ExecutedBlock, Hash, Header,
    InvalidTransaction, OffenceProof, Signature, StateMachine, VoteTarget,
};
use aitbc_storage::{
    BlockRef, BlockWrite, Finalization, StorageError, StoredBlock, TxRecord, VoterSet,
};
use codec::Encode;
use std::sync::Arc;
use std::time::Instant;

/// How deep on the best chain a forced authority-set change must be before it is enacted.
pub const FORCED_CHANGE_DEPTH: u64 = 4;

/// How many equivocation proofs are kept in memory.
const MAX_EQUIVOCATIONS: usize = 64;

/// Why a block was not imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("block {0} is already known")]
    AlreadyKnown(Hash),
    #[error("unknown parent {parent} (best is {best})")]
    UnknownParent { parent: Hash, best: Hash },
    #[error("block #{number} is not above the finalized block #{finalized}")]
    BelowFinalized { number: u64, finalized: u64 },
    #[error("unknown block {0}")]
    UnknownBlock(Hash),
    #[error("block {0} conflicts with the finalized chain")]
    ConflictsWithFinality(Hash),
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error("bad seal")]
    BadSeal,
    #[error("the authorities after {0} depend on an unexecuted authority-set change")]
    UnverifiedAuthorities(Hash),
    #[error("{author} sealed a third block for slot {slot}")]
    ExcessEquivocation { author: AccountId, slot: u64 },
    #[error("invalid block: {0}")]
    Execution(#[from] BlockError),
    #[error("extrinsic {0} has a bad signature: {1}")]
    Signature(usize, InvalidTransaction),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ImportError {
    /// Whether the block itself is wrong (its sender misbehaved), as opposed to this node not
    /// being ready for it or failing locally.
    ///
    /// A slot ahead of our clock is not: clocks drift, and an honest author whose clock runs a
    /// little fast must not be banned for it (the block is held or dropped, see the node's sync worker).
    pub fn is_bad_block(&self) -> bool {
        match self {
            ImportError::Header(HeaderError::SlotInFuture { .. }) => false,
            ImportError::Header(_)
            | ImportError::BadSeal
            | ImportError::Execution(_)
            | ImportError::Signature(..) => true,
            _ => false,
        }
    }
}

/// Two headers sealed by one author for one slot, with both seals.
#[derive(Debug, Clone)]
pub struct Equivocation {
    pub author: AccountId,
    pub slot: u64,
    pub first: Header,
    pub first_seal: Signature,
    pub second: Header,
    pub second_seal: Signature,
}

impl Equivocation {
    /// The proof anyone can check (and the state machine may punish).
    pub fn proof(&self) -> OffenceProof {
        OffenceProof::Block(BlockEquivocation {
            offender: self.author,
            first: self.first.clone(),
            first_seal: self.first_seal,
            second: self.second.clone(),
            second_seal: self.second_seal,
        })
    }
}

impl<S: StateMachine> Client<S> {
    /// Imports a block (see the module docs). `executed` is the block's execution when this node
    /// built it on the best block. Returns the block's position.
    pub fn import_block(
        &self,
        block: &SignedBlockOf<S>,
        executed: Option<ExecutedBlock<S::Event>>,
    ) -> Result<BlockRef, ImportError> {
        let checked = executed.is_some();
        self.import_inner(block, executed, checked, true)
    }

    /// Imports blocks in order (a sync batch). The transaction signatures of the next blocks are
    /// verified on another thread while one block executes.
    pub fn import_blocks(&self, blocks: &[SignedBlockOf<S>]) -> Vec<Result<BlockRef, ImportError>> {
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel(8);
            let runtime = &self.runtime;
            scope.spawn(move || {
                for b in blocks {
                    if tx
                        .send(runtime.check_signatures(&b.block.extrinsics))
                        .is_err()
                    {
                        break;
                    }
                }
            });
            blocks
                .iter()
                .map(|b| match rx.recv() {
                    Ok(Ok(())) => self.import_inner(b, None, true, false),
                    Ok(Err((i, e))) => Err(ImportError::Signature(i, e)),
                    Err(_) => self.import_inner(b, None, false, false),
                })
                .collect()
        })
    }

    fn import_inner(
        &self,
        block: &SignedBlockOf<S>,
        executed: Option<ExecutedBlock<S::Event>>,
        signatures_checked: bool,
        cap_equivocations: bool,
    ) -> Result<BlockRef, ImportError> {
        let _guard = self.import_lock.lock();
        let hash = block.hash();
        let header = &block.block.header;
        let at = BlockRef {
            number: header.number,
            hash,
        };
        let finalized = self.finalized();
        if self.tree_read().contains(&hash)
            || (header.number <= finalized.number && self.db.hash_at(header.number)? == Some(hash))
        {
            return Err(ImportError::AlreadyKnown(hash));
        }
        if header.number <= finalized.number {
            self.note_finalized_twin(block)?;
            return Err(ImportError::BelowFinalized {
                number: header.number,
                finalized: finalized.number,
            });
        }
        if !self.tree_read().contains(&header.parent_hash) {
            return Err(ImportError::UnknownParent {
                parent: header.parent_hash,
                best: self.best().hash,
            });
        }
        let parent = self
            .header(&header.parent_hash)?
            .ok_or(ImportError::UnknownBlock(header.parent_hash))?;
        let mut state = self.state()?;
        // The authors of a block follow the schedule in its parent's state: exact when the
        // parent is the block whose state we hold, else derived from the fork's digests, once
        // executed.
        let schedule = if state.at().hash == header.parent_hash {
            self.runtime.author_schedule(&state)
        } else {
            match self.schedule_after(&header.parent_hash) {
                Err(ImportError::UnverifiedAuthorities(unexecuted)) => {
                    drop(state);
                    self.execute_branch(unexecuted)?;
                    state = self.state()?;
                    self.schedule_after(&header.parent_hash)?
                }
                other => other?,
            }
        };
        let now = slots::slot_at(self.clock.now_ms(), self.runtime.slot_duration_ms(&state));
        state.check()?;
        drop(state);
        let author = *slots::check_header(header, &parent, &schedule, now)?;
        if !block.seal_is_valid(&author) {
            return Err(ImportError::BadSeal);
        }

        let equivocating = self.tree_read().same_slot(&author, header.slot, &hash);
        if cap_equivocations && equivocating.len() > 1 {
            return Err(ImportError::ExcessEquivocation {
                author,
                slot: header.slot,
            });
        }
        if let Some(first) = equivocating.first() {
            self.note_equivocation(author, first, block)?;
        }
        let best = self.best();
        if header.parent_hash == best.hash && equivocating.is_empty() {
            let single_voter = self.voter_set().authorities.len() == 1;
            // The fast path: final in the block's own write, with the set change it signals.
            let final_at_import = single_voter && header.parent_hash == finalized.hash;
            let changed = final_at_import
                .then(|| next_voter_set(&self.voter_set(), header))
                .flatten();
            let justification = if final_at_import {
                self.sole_justification(block)
            } else {
                None
            };
            let finality = final_at_import.then_some(AtImport {
                voter_set: changed.as_ref(),
                justification: justification.as_deref(),
            });
            let tx_hashes =
                self.execute_and_commit(block, at, author, executed, signatures_checked, finality)?;
            {
                let mut tree = self.tree_write();
                tree.insert(hash, header, author);
                tree.mark_executed(hash);
            }
            if let Some(set) = changed {
                self.enact_voter_set(set, at);
            }
            self.on_new_best(header, at, tx_hashes.clone(), final_at_import);
            self.maintain_pool(&tx_hashes, header.number, Vec::new());
            if single_voter && !final_at_import {
                self.finalize_locked(at, None)?;
            }
            self.enact_forced_change()?;
            return Ok(at);
        }
        // A fork block: stored unexecuted; fork choice decides whether to move onto it.
        let stored = strip_justification(block);
        self.db.store_side_block(&StoredBlock {
            at,
            encoded_header: &header.encode(),
            encoded_block: &stored,
            author: Some(author),
        })?;
        // The second block of an equivocation is a fork like any other: which of the two
        // arrived first must not decide fork choice (nodes that saw them in opposite orders
        // would split, and one could never follow the chain finality settles on).
        self.tree_write().insert(hash, header, author);
        let target = self.tree_read().best();
        if target != best {
            self.reorg(target)?;
            self.enact_forced_change()?;
        }
        Ok(at)
    }

    /// The author schedule in the state after block `hash` (in the fork tree or the finalized
    /// block): the last one signalled on its unfinalized ancestry (an epoch's election, or a
    /// set root chose), else the one after the finalized block (the voter set's, which follows
    /// every finalized change). Only executed blocks' digests are believed: a change signalled
    /// by an unexecuted block is `UnverifiedAuthorities` (see the module docs).
    fn schedule_after(&self, hash: &Hash) -> Result<AuthorSchedule, ImportError> {
        let finalized = self.finalized();
        let mut cur = *hash;
        while cur != finalized.hash {
            let header = self.header(&cur)?.ok_or(ImportError::UnknownBlock(cur))?;
            if let Some(schedule) = header.schedule_change() {
                if !self.tree_read().is_executed(&cur) {
                    return Err(ImportError::UnverifiedAuthorities(cur));
                }
                return Ok(schedule);
            }
            if header.number <= finalized.number {
                break;
            }
            cur = header.parent_hash;
        }
        Ok(self.voter_set().schedule())
    }

    /// Finalizes the highest block with a forced authority-set change that is at least
    /// [`FORCED_CHANGE_DEPTH`] blocks deep on the best chain (see the module docs).
    fn enact_forced_change(&self) -> Result<(), ImportError> {
        let best = self.best();
        let fin = self.finalized();
        let Some(upto) = best.number.checked_sub(FORCED_CHANGE_DEPTH) else {
            return Ok(());
        };
        let mut n = upto;
        while n > fin.number {
            let Some(hash) = self.tree_read().ancestor_at(&best.hash, n) else {
                break;
            };
            let header = self.header(&hash)?.ok_or(ImportError::UnknownBlock(hash))?;
            if header.forced_authorities_change().is_some() {
                tracing::warn!(target: "finality", number = n, %hash,
                    "enacting a forced authority-set change: finalizing its block without votes");
                return self.finalize_locked(BlockRef { number: n, hash }, None);
            }
            n -= 1;
        }
        Ok(())
    }

    /// Makes `target` final, with its justification if it was finalized by votes (see the module
    /// docs). Finalizing the finalized block or an ancestor of it is a no-op.
    pub fn finalize(
        &self,
        target: BlockRef,
        justification: Option<Vec<u8>>,
    ) -> Result<(), ImportError> {
        let _guard = self.import_lock.lock();
        self.finalize_locked(target, justification)
    }

    /// [`Client::finalize`] with the import lock held.
    fn finalize_locked(
        &self,
        target: BlockRef,
        justification: Option<Vec<u8>>,
    ) -> Result<(), ImportError> {
        let finalized = self.finalized();
        if target.number <= finalized.number {
            return match self.db.hash_at(target.number)? {
                Some(h) if h == target.hash => Ok(()),
                _ => Err(ImportError::ConflictsWithFinality(target.hash)),
            };
        }
        if !self.tree_read().contains(&target.hash) {
            return Err(ImportError::UnknownBlock(target.hash));
        }
        // Move the best chain onto the target first (while the undo logs still exist).
        let best = self.best();
        if self.tree_read().ancestor_at(&best.hash, target.number) != Some(target.hash) {
            let head = self
                .tree_read()
                .best_from(&target)
                .ok_or(ImportError::ConflictsWithFinality(target.hash))?;
            self.reorg(head)?;
            if self
                .tree_read()
                .ancestor_at(&self.best().hash, target.number)
                != Some(target.hash)
            {
                return Err(ImportError::ConflictsWithFinality(target.hash));
            }
        }
        // The tree changes only once the write is done (a failed write leaves it as it was).
        let mut tree = self.tree_read().clone();
        let (chain, discarded) = tree.finalize(target);
        // A change of the authority set takes effect for finality at the finalized block that
        // signals it. Several finalized at once are enacted in order, each with the next set
        // id: a node that finalized them one by one counted the same ids (consensus-critical:
        // set ids are in every vote's signature).
        let mut changed: Option<VoterSet> = None;
        let mut set_changes = Vec::new();
        for hash in &chain {
            if let Some(header) = self.header(hash)? {
                let current = changed.clone().unwrap_or_else(|| self.voter_set());
                if let Some(next) = next_voter_set(&current, &header) {
                    if next.id != current.id {
                        set_changes.push(BlockRef {
                            number: header.number,
                            hash: *hash,
                        });
                    }
                    changed = Some(next);
                }
            }
        }
        self.db.finalize(&Finalization {
            to: target,
            justification: justification.as_deref(),
            newly_final: &chain,
            discarded: &discarded,
            voter_set: changed.as_ref(),
            set_changes: &set_changes,
        })?;
        *self.tree_write() = tree;
        if let Some(set) = changed {
            self.enact_voter_set(set, target);
        }
        *self.finalized.write().unwrap_or_else(|p| p.into_inner()) = target;
        self.metrics
            .set_heights(self.best_header().number, target.number);
        let mut pending = self.unfinalized.lock();
        for hash in &chain {
            if let Some((header, tx_hashes)) = pending.remove(hash) {
                let _ = self.events.send(super::ChainEvent::Finalized {
                    header,
                    hash: *hash,
                    tx_hashes,
                });
            }
        }
        for hash in &discarded {
            pending.remove(hash);
        }
        Ok(())
    }

    /// Makes `set` the voter set in memory (its durable write is done), finalized at `at`.
    fn enact_voter_set(&self, set: VoterSet, at: BlockRef) {
        if set.id == self.voter_set().id {
            tracing::debug!(target: "finality", set_id = set.id, at = at.number,
                "author weights change final (same voters)");
        } else {
            tracing::info!(target: "finality", set_id = set.id,
                authorities = set.authorities.len(), at = at.number, "authority set change final");
        }
        self.set_voter_set(set);
    }

    /// Replaces the voter set in memory (and its size in the metrics).
    pub(crate) fn set_voter_set(&self, set: VoterSet) {
        self.metrics.set_validators(set.authorities.len());
        *self.voter_set.write().unwrap_or_else(|p| p.into_inner()) = set;
    }

    /// The encoded justification a block of a single-authority chain carries, if it is the
    /// authority's precommit for this very block in the current set; anything else is dropped
    /// (the block is final at import either way: its seal is the same authority's signature).
    fn sole_justification(&self, block: &SignedBlockOf<S>) -> Option<Vec<u8>> {
        let j = block.justification.as_ref()?;
        let set = self.voter_set();
        let target = VoteTarget {
            hash: block.hash(),
            number: block.block.header.number,
        };
        let valid = j.target == target
            && j.verify(&set.authorities, set.id, &self.genesis_hash())
                .is_ok();
        if !valid {
            tracing::debug!(target: "finality", number = target.number, "dropping a block's invalid justification");
        }
        valid.then(|| j.encode())
    }

    /// Executes (unless already executed) and commits a block on the best block. `finality`:
    /// `Some` when the block is final at import.
    fn execute_and_commit(
        &self,
        block: &SignedBlockOf<S>,
        at: BlockRef,
        author: AccountId,
        executed: Option<ExecutedBlock<S::Event>>,
        signatures_checked: bool,
        finality: Option<AtImport<'_>>,
    ) -> Result<Arc<Vec<Hash>>, ImportError> {
        let finalized = finality.is_some();
        let started = Instant::now();
        let header = &block.block.header;
        let executed = match executed {
            Some(e) => e,
            None => {
                let state = self.state()?;
                let e = self.execute(&state, &block.block, signatures_checked)?;
                state.check()?;
                e
            }
        };
        let txs = TxRecord::for_block(at, header, &block.block.extrinsics, &executed.outcomes);
        let tx_hashes: Vec<Hash> = txs.iter().map(|(hash, _)| *hash).collect();
        let stored = strip_justification(block);
        self.db.commit_block(&BlockWrite {
            block: StoredBlock {
                at,
                encoded_header: &header.encode(),
                encoded_block: &stored,
                author: Some(author),
            },
            txs,
            changes: &executed.changes,
            commitment: &executed.commitment,
            finalized,
            voter_set: finality.and_then(|f| f.voter_set),
            justification: finality.and_then(|f| f.justification),
            // A weights-only election keeps the set id: not a change finality proofs cross.
            set_change: finality
                .and_then(|f| f.voter_set)
                .is_some_and(|set| set.id != self.voter_set().id),
        })?;
        *self.best.write().unwrap_or_else(|p| p.into_inner()) = header.clone();
        if finalized {
            *self.finalized.write().unwrap_or_else(|p| p.into_inner()) = at;
        }
        self.metrics.block_imported(
            started.elapsed(),
            header.number,
            self.finalized().number,
            tx_hashes.len(),
        );
        if !S::COUNTERS.is_empty() {
            let mut counts = vec![0; S::COUNTERS.len()];
            let mut events = executed.outcomes.iter().flat_map(|o| o.events.iter());
            self.runtime.count_events(&mut events, &mut counts);
            self.metrics.add_chain_counts(&counts);
        }
        Ok(Arc::new(tx_hashes))
    }

    /// Executes a block on `state`. Unless its signatures were checked already, they are
    /// batch-verified on a second thread while the block executes: execution does not depend on
    /// them, so the import costs the longer of the two instead of their sum. A bad signature
    /// is reported before whatever the execution found. Small batches are checked inline, where
    /// a thread would cost more than it saves.
    ///
    /// Transactions this node's pool holds are not checked again: their signatures were checked
    /// when they were admitted, and the hash they are pooled under covers the signature. On a
    /// network most of a block arrived by gossip first, so an importer verifies little twice.
    fn execute(
        &self,
        state: &aitbc_storage::DbStateView,
        block: &aitbc_primitives::Block<Xt<S>>,
        signatures_checked: bool,
    ) -> Result<ExecutedBlock<S::Event>, ImportError> {
        /// Below this many unchecked extrinsics the signatures are checked on the importing
        /// thread.
        const OVERLAP_MIN_EXTRINSICS: usize = 32;
        if signatures_checked {
            return Ok(self.runtime.execute_block(state, block, true)?);
        }
        let hashes: Vec<Hash> = block.extrinsics.iter().map(|xt| xt.hash()).collect();
        let (unchecked, indices): (Vec<Xt<S>>, Vec<usize>) = self
            .pool
            .pooled(&hashes)
            .into_iter()
            .enumerate()
            .filter(|(_, pooled)| !pooled)
            .map(|(i, _)| (block.extrinsics[i].clone(), i))
            .unzip();
        let check = |runtime: &S| {
            runtime
                .check_signatures(&unchecked)
                .map_err(|(i, e)| ImportError::Signature(indices[i], e))
        };
        if unchecked.len() < OVERLAP_MIN_EXTRINSICS {
            check(&self.runtime)?;
            return Ok(self.runtime.execute_block(state, block, true)?);
        }
        let runtime = &self.runtime;
        std::thread::scope(|scope| {
            let signatures = scope.spawn(|| check(runtime));
            let executed = runtime.execute_block(state, block, true);
            match signatures.join() {
                Ok(checked) => checked?,
                Err(panic) => std::panic::resume_unwind(panic),
            }
            Ok(executed?)
        })
    }

    /// Announces a new best block (and, on a single-authority chain, its finality).
    fn on_new_best(&self, header: &Header, at: BlockRef, tx_hashes: Arc<Vec<Hash>>, final_: bool) {
        let _ = self.events.send(super::ChainEvent::NewBest {
            header: header.clone(),
            hash: at.hash,
            tx_hashes: tx_hashes.clone(),
        });
        if final_ {
            self.tree_write().finalize(at);
            let _ = self.events.send(super::ChainEvent::Finalized {
                header: header.clone(),
                hash: at.hash,
                tx_hashes,
            });
        } else {
            self.unfinalized
                .lock()
                .insert(at.hash, (header.clone(), tx_hashes));
        }
    }

    /// Moves the best chain to `target` (see the module docs).
    fn reorg(&self, mut target: BlockRef) -> Result<(), ImportError> {
        let mut retracted = Vec::new();
        let mut included = Vec::new();
        loop {
            let best = self.best();
            let route = self
                .tree_read()
                .route(&best, &target)
                .ok_or(ImportError::UnknownBlock(target.hash))?;
            if !route.retract.is_empty() {
                for b in &route.retract {
                    if let Some((block, _)) = self.block(&b.hash)? {
                        retracted.extend(block.block.extrinsics);
                    }
                    self.unfinalized.lock().remove(&b.hash);
                }
                self.db.revert(&route.retract, route.ancestor)?;
                self.metrics.reorg();
                let ancestor = self
                    .header(&route.ancestor.hash)?
                    .ok_or(ImportError::UnknownBlock(route.ancestor.hash))?;
                *self.best.write().unwrap_or_else(|p| p.into_inner()) = ancestor;
                tracing::info!(target: "import", from = %best.hash.short(), to = %target.hash.short(),
                    ancestor = route.ancestor.number, retracted = route.retract.len(), "reorganising");
            }
            let mut failed = false;
            for b in &route.enact {
                let (block, _) = self
                    .block(&b.hash)?
                    .ok_or(ImportError::UnknownBlock(b.hash))?;
                let author = self
                    .block_author(&b.hash)?
                    .ok_or(ImportError::UnknownBlock(b.hash))?;
                match self.execute_and_commit(&block, *b, author, None, false, None) {
                    Ok(tx_hashes) => {
                        self.tree_write().mark_executed(b.hash);
                        included.extend(tx_hashes.iter().copied());
                        self.on_new_best(&block.block.header, *b, tx_hashes, false);
                    }
                    Err(e) if e.is_bad_block() => {
                        tracing::warn!(target: "import", hash = %b.hash, error = %e, "fork block failed execution");
                        self.tree_write().mark_bad(b.hash);
                        failed = true;
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            if !failed {
                break;
            }
            let best = self.best();
            target = self.tree_read().best();
            if target == best {
                break;
            }
        }
        let best = self.best_header();
        self.maintain_pool(&included, best.number, retracted);
        Ok(())
    }

    /// Executes the side branch up to `hash`, an unexecuted block whose authority-set change a
    /// block being imported depends on, then moves the best chain back to fork choice's head.
    /// Afterwards the change is executed (its digest checked) or its chain is known bad. Without
    /// this, a node that saw a set change only on a shorter fork (a partition's other side)
    /// could never import the longer chain built on it, and finality would stall with the
    /// nodes split between the two (found by the simulator).
    pub(crate) fn execute_branch(&self, hash: Hash) -> Result<(), ImportError> {
        let Some(number) = self.tree_read().number(&hash) else {
            return Ok(());
        };
        let target = BlockRef { number, hash };
        if self.tree_read().best_from(&target).is_none() {
            return Ok(()); // on a bad chain: nothing to check
        }
        tracing::debug!(target: "import", number, hash = %hash.short(),
            "executing a fork's authority-set change to check the blocks built on it");
        self.reorg(target)?;
        let best = self.tree_read().best();
        if best != self.best() {
            self.reorg(best)?;
        }
        Ok(())
    }

    /// A block at a finalized height that is not the finalized one is refused, but if its
    /// author sealed the finalized block of that slot too, the pair is still an equivocation
    /// proof and is recorded (finality can outrun the second block's gossip).
    fn note_finalized_twin(&self, block: &SignedBlockOf<S>) -> Result<(), ImportError> {
        let header = &block.block.header;
        let Some(canonical) = self.db.hash_at(header.number)? else {
            return Ok(());
        };
        let (Some(first), Some(author)) = (self.header(&canonical)?, self.db.author(&canonical)?)
        else {
            return Ok(());
        };
        if first.slot == header.slot && block.seal_is_valid(&author) {
            self.note_equivocation(author, &canonical, block)?;
        }
        Ok(())
    }

    fn note_equivocation(
        &self,
        author: AccountId,
        first: &Hash,
        second_block: &SignedBlockOf<S>,
    ) -> Result<(), ImportError> {
        let (first, _) = self
            .block(first)?
            .ok_or(ImportError::UnknownBlock(*first))?;
        let first_seal = first.seal;
        let first = first.block.header;
        let second = &second_block.block.header;
        tracing::warn!(target: "aura", %author, slot = second.slot, first = %first.hash(),
            second = %second.hash(), "equivocation: two blocks by one author in one slot");
        self.metrics.equivocation();
        let mut list = self.equivocations.lock();
        if list.len() >= MAX_EQUIVOCATIONS {
            list.pop_front();
        }
        list.push_back(super::Equivocation {
            author,
            slot: second.slot,
            first,
            first_seal,
            second: second.clone(),
            second_seal: second_block.seal,
        });
        Ok(())
    }

    /// Drops the included transactions, puts the transactions of retracted blocks back, and
    /// marks the rest due for revalidation ([`Client::revalidate_pool`], which the node runs
    /// off the import path: on a large state it reads every pooled sender's account, a third
    /// of a full block's import on a 1M-account state).
    pub(super) fn maintain_pool(&self, included: &[Hash], best: u64, retracted: Vec<Xt<S>>) {
        for xt in retracted {
            let len = xt.encoded_size();
            if !included.contains(&xt.hash()) {
                let _ = self.submit_from_peer(xt, len);
            }
        }
        self.pool.after_block(included, best);
        self.metrics.set_pool(self.pool.status());
        self.revalidation_due.notify_one();
    }

    /// Waits until the pool is due for revalidation: a block was imported since the last wait
    /// (several blocks meanwhile make one wake-up).
    pub async fn revalidation_due(&self) {
        self.revalidation_due.notified().await
    }

    /// Revalidates every pooled transaction against the best state, without holding the pool
    /// lock, and drops the invalid ones. A storage error discards the results (nothing is
    /// dropped because of a failed read).
    pub fn revalidate_pool(&self) {
        let pending = self.pool.snapshot();
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
        self.metrics.set_pool(self.pool.status());
    }

    pub(crate) fn tree_read(&self) -> std::sync::RwLockReadGuard<'_, super::tree::ForkTree> {
        self.tree.read().unwrap_or_else(|p| p.into_inner())
    }

    fn tree_write(&self) -> std::sync::RwLockWriteGuard<'_, super::tree::ForkTree> {
        self.tree.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// The block as stored: justifications live in their own table.
/// What a block final at import writes with it: the voter set it enacts, its justification.
#[derive(Clone, Copy)]
struct AtImport<'a> {
    voter_set: Option<&'a VoterSet>,
    justification: Option<&'a [u8]>,
}

fn strip_justification<X: Encode>(block: &aitbc_primitives::SignedBlock<X>) -> Vec<u8> {
    if block.justification.is_none() {
        return block.encode();
    }
    (&block.block, &block.seal, None::<()>).encode()
}

/// The voter set that follows finalizing `header` after `current`: the next set id with the set
/// it signals (plain, forced, or an epoch's election with new members); the same set with the
/// new weights for an election that kept the members; `None` if it signals nothing.
fn next_voter_set(current: &VoterSet, header: &Header) -> Option<VoterSet> {
    let weights = || {
        header
            .epoch_change()
            .map(|c| c.weights.to_vec())
            .unwrap_or_default()
    };
    if let Some(set) = header
        .authorities_change()
        .or_else(|| header.forced_authorities_change())
    {
        return Some(VoterSet {
            id: current.id + 1,
            authorities: set.to_vec(),
            weights: weights(),
        });
    }
    let change = header.epoch_change()?;
    Some(VoterSet {
        id: current.id,
        authorities: change.authorities.to_vec(),
        weights: weights(),
    })
}
