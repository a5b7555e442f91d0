//! The history a node keeps behind its finalized block: recent states (for proofs and state
//! sync), the justifications of set changes (for finality proofs), and how it is pruned.
//!
//! - The state of block `n` is the flat state (the best block's) with the changes of the blocks
//!   above `n` undone: their prior values (`prior` table) hold each changed key's previous
//!   value. Its tree is
//!   version `n`, whose nodes stay stored until the blocks that replaced them are pruned.
//!   [`ChainDb::state_at`] reads it for any `n` from the block the history is pruned through up
//!   to the best block.
//! - [`Pruning`]: `Keep(n)` deletes the stale tree nodes and prior values of finalized blocks more
//!   than `n` below the finalized one; `Archive` deletes nothing. The choice is the node's, not
//!   the database's: a restart with another one applies from then on (what was pruned is gone).
//!   A state a peer is downloading is leased past the window ([`lease`]).
//! - Justifications: every one the node finalized with is kept, indexed by number
//!   (`justified`), and every voter-set change is indexed (`set_changes`).
//! - Block pruning (`--blocks-pruning`, [`ChainDb::prune_bodies`]): the bodies, transaction
//!   index entries and justifications of finalized blocks older than the window are deleted;
//!   headers, the canonical index, the justifications of set changes (the fragments of finality
//!   proofs) and the latest justification stay.

use super::*;

/// What a finalization writes.
#[derive(Debug, Clone, Copy)]
pub struct Finalization<'a> {
    /// The new finalized block.
    pub to: BlockRef,
    /// Its SCALE `Justification`, if it was finalized by votes.
    pub justification: Option<&'a [u8]>,
    /// The best-chain blocks up to `to` that are newly final.
    pub newly_final: &'a [Hash],
    /// Stored blocks that do not descend from `to`: deleted.
    pub discarded: &'a [Hash],
    /// The voter set after `to`, if the newly final blocks changed it.
    pub voter_set: Option<&'a VoterSet>,
    /// The newly final blocks that changed the voter set's members (new set ids), in order.
    pub set_changes: &'a [BlockRef],
}

/// How much state history a node keeps (`--state-pruning`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pruning {
    /// The states of the finalized block and this many blocks below it.
    Keep(u64),
    /// Every state since genesis (or since the state a warp sync restored).
    Archive,
}

impl Pruning {
    /// The default: about a minute of blocks, enough for a warp sync of a large state to finish
    /// on one target, without keeping many full blocks' prior values (about 1 MB each).
    pub const DEFAULT: Pruning = Pruning::Keep(64);
}

impl std::str::FromStr for Pruning {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "archive" => Ok(Pruning::Archive),
            n => n
                .parse()
                .map(Pruning::Keep)
                .map_err(|_| format!("expected `archive` or a number of blocks, got `{n}`")),
        }
    }
}

/// Blocks whose history a prune write removes at most.
const MAX_BLOCKS_PER_PRUNE: usize = 512;
const META_BLOCKS_PRUNED: &str = "blocks_pruned";

impl ChainDb {
    /// Sets the state window [`ChainDb::state_at`] serves (the node's `--state-pruning`).
    pub fn set_state_window(&self, pruning: Pruning) {
        *self.window.write().unwrap_or_else(|p| p.into_inner()) = pruning;
    }

    /// The block the history is pruned through: states from it up are readable.
    pub fn pruned_through(&self) -> Result<BlockNumber, StorageError> {
        Ok(self
            .meta(META_PRUNED)?
            .and_then(|b| u64::decode(&mut &b[..]).ok())
            .unwrap_or(0))
    }

    /// Deletes the stale tree nodes and prior values of finalized blocks below the window of
    /// `pruning` and below the states leased to downloading peers ([`lease`]), oldest first, in one durable write; returns how many tree nodes it deleted.
    /// Does nothing while fewer than `min_keys` nodes and fewer than
    /// [`MAX_BLOCKS_PER_PRUNE`] blocks are waiting, so that each write deletes many; stops
    /// after the block that reaches `max_keys`, so that one write stays short.
    pub fn prune(
        &self,
        pruning: Pruning,
        min_keys: usize,
        max_keys: usize,
    ) -> Result<usize, StorageError> {
        if pruning == Pruning::Archive {
            return Ok(0);
        }
        // Up to the window's floor, which stays readable; not into a state a peer is
        // downloading (`lease`).
        let through = self.window_floor(pruning, self.finalized()?.number);
        let pruned = self.pruned_through()?;
        if through <= pruned {
            return Ok(0);
        }
        let (mut last, mut keys, mut prior) = (pruned, Vec::new(), Vec::new());
        {
            let txn = self.db.begin_read()?;
            let stale = txn.open_table(STALE)?;
            let canonical = txn.open_table(CANONICAL)?;
            for number in pruned + 1..=through {
                if let Some(list) = stale.get(number)? {
                    keys.extend(decode_stale(number, list.value())?);
                }
                if let Some(hash) = canonical.get(number)? {
                    prior.push(*hash.value());
                }
                last = number;
                if keys.len() >= max_keys || prior.len() >= MAX_BLOCKS_PER_PRUNE {
                    break;
                }
            }
        }
        if keys.len() < min_keys && prior.len() < MAX_BLOCKS_PER_PRUNE && last == through {
            // Wait for more, unless the window is far behind (then catch up now).
            if through - pruned < MAX_BLOCKS_PER_PRUNE as u64 {
                return Ok(0);
            }
        }
        // In key order: neighbours share pages, so each page is rewritten once.
        keys.sort_unstable();
        self.durable_write("prune", |txn| {
            let mut tree = txn.open_table(TREE)?;
            for key in &keys {
                tree.remove(key.as_slice())?;
            }
            let mut stale = txn.open_table(STALE)?;
            for number in pruned + 1..=last {
                stale.remove(number)?;
            }
            let mut prior_table = txn.open_table(PRIOR)?;
            for hash in &prior {
                prior_table.remove(hash)?;
            }
            txn.open_table(META)?
                .insert(META_PRUNED, last.encode().as_slice())?;
            Ok(())
        })?;
        Ok(keys.len())
    }

    /// A read-only view of the state of best-chain block `number` (see the module docs), if it
    /// is in the state window.
    pub fn state_at(&self, number: BlockNumber) -> Result<DbStateView, StorageError> {
        self.refuse_pending()?;
        let txn = self.db.begin_read()?;
        let (best, pruned) = {
            let meta = txn.open_table(META)?;
            let get = |key: &str| -> Result<Vec<u8>, StorageError> {
                meta.get(key)?
                    .map(|v| v.value().to_vec())
                    .ok_or_else(|| StorageError::Corrupt(format!("missing {key}")))
            };
            let best = BlockRef::decode(&mut &get(META_BEST)?[..])
                .map_err(|_| StorageError::Corrupt("best".into()))?;
            let pruned = get(META_PRUNED)
                .ok()
                .and_then(|b| u64::decode(&mut &b[..]).ok())
                .unwrap_or(0);
            let finalized = BlockRef::decode(&mut &get(META_FINALIZED)?[..])
                .map_err(|_| StorageError::Corrupt("finalized".into()))?;
            // Outside the window is not served, even before the pruner deletes it.
            let pruning = *self.window.read().unwrap_or_else(|p| p.into_inner());
            let window = self.window_floor(pruning, finalized.number);
            (best, pruned.max(window))
        };
        if number == best.number {
            return DbStateView::new(txn, best, None);
        }
        if number > best.number || number < pruned {
            return Err(StorageError::StateUnavailable {
                number,
                pruned,
                best: best.number,
            });
        }
        let mut overrides = state_view::Overrides::new();
        let hash = {
            let canonical = txn.open_table(CANONICAL)?;
            let prior = txn.open_table(PRIOR)?;
            // From the best block down: the lowest block's previous value wins (the value at
            // `number`).
            for n in (number + 1..=best.number).rev() {
                let hash = canonical
                    .get(n)?
                    .ok_or_else(|| StorageError::Corrupt(format!("no block #{n}")))?;
                let bytes = prior
                    .get(hash.value())?
                    .ok_or(StorageError::StateUnavailable {
                        number,
                        pruned,
                        best: best.number,
                    })?;
                let values = Prior::decode(&mut bytes.value())
                    .map_err(|_| StorageError::Corrupt(format!("prior values of #{n}")))?;
                overrides.extend(
                    values
                        .into_iter()
                        .map(|(k, v)| (commitment::key_hash(&k), (k, v))),
                );
            }
            Hash(
                *canonical
                    .get(number)?
                    .ok_or_else(|| StorageError::Corrupt(format!("no block #{number}")))?
                    .value(),
            )
        };
        let overlay = state_view::Overlay {
            values: overrides,
            nodes: None,
        };
        DbStateView::new(
            txn,
            BlockRef { number, hash },
            Some(std::sync::Arc::new(overlay)),
        )
    }

    /// The finalized blocks that changed the voter set, above `after`, in order (at most
    /// `limit`).
    pub fn set_changes_after(
        &self,
        after: BlockNumber,
        limit: usize,
    ) -> Result<Vec<BlockRef>, StorageError> {
        let txn = self.db.begin_read()?;
        let mut out = Vec::new();
        for entry in txn.open_table(SET_CHANGES)?.range(after + 1..)? {
            let (number, hash) = entry?;
            out.push(BlockRef {
                number: number.value(),
                hash: Hash(*hash.value()),
            });
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// The highest finalized block at or below `at_most` with a stored justification.
    pub fn latest_justified(&self, at_most: BlockNumber) -> Result<Option<BlockRef>, StorageError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(JUSTIFIED)?;
        let last = table.range(..=at_most)?.next_back().transpose()?;
        Ok(last.map(|(number, hash)| BlockRef {
            number: number.value(),
            hash: Hash(*hash.value()),
        }))
    }

    /// The block whose body was pruned last (0: none).
    pub fn blocks_pruned_through(&self) -> Result<BlockNumber, StorageError> {
        Ok(self
            .meta(META_BLOCKS_PRUNED)?
            .and_then(|b| u64::decode(&mut &b[..]).ok())
            .unwrap_or(0))
    }

    /// Deletes the bodies of `blocks` (each with its transactions' hashes), their transaction
    /// index entries and their justifications unless they changed the voter set or are the
    /// latest, and records `through` as pruned, in one durable write (see the module docs).
    pub fn prune_bodies(
        &self,
        blocks: &[(BlockRef, Vec<Hash>)],
        through: BlockNumber,
    ) -> Result<(), StorageError> {
        let latest = self.latest_justified(BlockNumber::MAX)?;
        self.durable_write("block pruning", |txn| {
            let mut bodies = txn.open_table(BLOCKS)?;
            let mut txs = txn.open_table(TXS)?;
            let mut justifications = txn.open_table(JUSTIFICATIONS)?;
            let mut justified = txn.open_table(JUSTIFIED)?;
            let changes = txn.open_table(SET_CHANGES)?;
            for (at, tx_hashes) in blocks {
                bodies.remove(&at.hash.0)?;
                for h in tx_hashes {
                    txs.remove(&h.0)?;
                }
                if changes.get(at.number)?.is_none() && Some(*at) != latest {
                    justifications.remove(&at.hash.0)?;
                    justified.remove(at.number)?;
                }
            }
            txn.open_table(META)?
                .insert(META_BLOCKS_PRUNED, through.encode().as_slice())?;
            Ok(())
        })
    }

    /// Replaces the recorded voter set (after a restore: the weights its state gives).
    pub fn set_voter_set(&self, set: &VoterSet) -> Result<(), StorageError> {
        self.durable_write("voter set", |txn| {
            txn.open_table(META)?
                .insert(META_VOTER_SET, set.encode().as_slice())?;
            Ok(())
        })
    }
}
