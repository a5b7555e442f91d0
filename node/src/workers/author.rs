//! The authoring worker: wakes at every slot boundary and, when the local key is the slot's
//! author, builds a block from the pool within the first part of the slot, records the slot
//! (slashing protection), seals and imports it, then hands it to `announce` (the network).
//!
//! A failed durable write (chain database or authoring record) is logged at error level and
//! latched by the chain database; the node then stops (see the storage module docs).
//!
//! Back-pressure: while the best block is more than [`MAX_UNFINALIZED`] blocks ahead of the last
//! finalized one, the authority authors only every [`LAGGING_EVERY`]-th of its slots, so
//! unfinalized state (fork tree, undo logs) stays bounded while finality is stalled, and the chain
//! still moves once finality returns.

use super::blocking;
use super::signed_slots::{SignedSlots, SlashingError};
use aitbc_client::{Client, ImportError, SignedBlockOf};
use aitbc_consensus::slots::slot_at;
use aitbc_primitives::{Pair, StateMachine};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Share of the slot by which the block must be built, its state root computed and committed;
/// the rest is for propagation and the importers. The builder stops adding transactions early
/// enough for the root and commit to fit (see `Client::build_block`).
const BUILD_SHARE: (u64, u64) = (3, 4);

/// [`BUILD_SHARE`] when there are several authorities: the next slot's author must have imported
/// the block before its slot starts, or it builds beside it and one of the two is orphaned (seen
/// under load as 0.2-0.8 blocks/s). Importing costs about what building did (the importer
/// checks signatures beside execution), so building gets 2/5 of the slot, importing about as
/// much, and the rest is for gossip.
const BUILD_SHARE_SHARED: (u64, u64) = (2, 5);

/// How far the best block may run ahead of finality before authors slow down.
pub const MAX_UNFINALIZED: u64 = 32;

/// While finality lags, author only every this many own slots.
const LAGGING_EVERY: u64 = 8;

/// Where an authored block goes after import (the network's block announcement).
pub type Announce<S> = Arc<dyn Fn(&SignedBlockOf<S>) + Send + Sync>;

/// Runs until `shutdown` turns true.
pub async fn run<S: StateMachine>(
    client: Arc<Client<S>>,
    key: Pair,
    slots: Arc<SignedSlots>,
    announce: Announce<S>,
    mut shutdown: watch::Receiver<bool>,
) {
    let me = key.public();
    let clock = client.clock().clone();
    tracing::info!(target: "aura", authority = %me, "authoring blocks");
    loop {
        let slot_ms = match client.state() {
            Ok(state) => client.runtime().slot_duration_ms(&state).max(1),
            Err(e) => {
                tracing::error!(target: "aura", error = %e, "cannot read state");
                1000
            }
        };
        let now = clock.now_ms();
        let next_slot = slot_at(now, slot_ms) + 1;
        let wait = Duration::from_millis(next_slot * slot_ms - now);
        tokio::select! {
            biased;
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        let slot = next_slot;
        // A late wake-up (suspended process, busy machine) must not sign a slot already past.
        let slot_start = slot * slot_ms;
        if slot_at(clock.now_ms(), slot_ms) != slot {
            tracing::debug!(target: "aura", slot, "woke up after the slot ended; skipping it");
            continue;
        }
        let Ok(state) = client.state() else { continue };
        let schedule = client.runtime().author_schedule(&state);
        drop(state);
        if schedule.author(slot) != Some(&me) {
            continue;
        }
        let authorities = schedule.authorities();
        let best = client.best_header();
        if best.slot >= slot {
            continue;
        }
        let lag = best.number.saturating_sub(client.finalized().number);
        if lag > MAX_UNFINALIZED && !(slot / authorities.len() as u64).is_multiple_of(LAGGING_EVERY)
        {
            tracing::debug!(target: "aura", slot, lag, "finality lags; skipping the slot");
            continue;
        }
        // The build budget counts from the slot's start, not from when this task woke.
        let into_slot = Duration::from_millis(clock.now_ms().saturating_sub(slot_start));
        let share = if authorities.len() > 1 {
            BUILD_SHARE_SHARED
        } else {
            BUILD_SHARE
        };
        let budget = Duration::from_millis(slot_ms * share.0 / share.1);
        let deadline = Instant::now() + budget.saturating_sub(into_slot);
        let (c, k, s) = (client.clone(), key.clone(), slots.clone());
        let result = blocking::run(move || {
            c.author_block(slot, deadline, &k, |slot| {
                s.claim(&k.public(), slot).map_err(|e| {
                    // A failed write of the record stops the node like a failed chain write.
                    if let SlashingError::Db(_) = e {
                        c.note_write_failure(e.to_string());
                    }
                    e.to_string()
                })
            })
        })
        .await;
        match result {
            Some(Ok(Some((at, block)))) => {
                tracing::debug!(target: "aura", number = at.number, hash = %at.hash.short(), slot, txs = block.block.extrinsics.len(), "authored block");
                announce(&block);
            }
            Some(Ok(None)) => {}
            Some(Err(e @ ImportError::Storage(_))) => {
                tracing::error!(target: "aura", slot, error = %e, "cannot store the authored block")
            }
            Some(Err(e)) => {
                tracing::warn!(target: "aura", slot, error = %e, "failed to author block")
            }
            None => tracing::error!(target: "aura", slot, "authoring task failed"),
        }
    }
}
