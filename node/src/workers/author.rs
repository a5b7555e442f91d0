//! The authoring worker: wakes at every slot boundary and, when the local key is the slot's
//! author, builds a block from the pool within the first part of the slot, records the slot
//! (slashing protection), seals and imports it, then hands it to `announce` (the network).
//! A single authority's import runs beside its next slot's build (the client's pipelining:
//! the next block is built on the state of the one being stored); with several authorities the
//! import ends within the build share, so the next author can import the block in time.
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
use aitbc_client::{Authored, Client, Import, ImportError, SignedBlockOf};
use aitbc_consensus::slots::slot_at;
use aitbc_primitives::{Pair, StateMachine};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Share of the slot by which a single authority's block must be built and its state root
/// computed; its import (the durable commit) then runs beside the next slot's build (see the
/// client's `build` module: pipelining), and the rest of the slot is for the RPC and the
/// websocket followers. The builder stops adding transactions early enough for the root to fit
/// (see `Client::build_block`).
const BUILD_SHARE: (u64, u64) = (3, 4);

/// [`BUILD_SHARE`] when there are several authorities, for building and importing the block:
/// the next slot's author must have imported the block before its slot starts, or it builds
/// beside it and one of the two is orphaned (seen under load as 0.2-0.8 blocks/s). Importing
/// costs about what building did (the importer checks signatures beside execution), so
/// building and the author's own import get 2/5 of the slot, the others' imports about as
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
    // The import of the last authored block, while it runs beside the next build.
    let mut importing: Option<tokio::task::JoinHandle<()>> = None;
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
            _ = shutdown.changed() => break,
        }
        if *shutdown.borrow() {
            break;
        }
        let slot = next_slot;
        // A late wake-up (suspended process, busy machine) must not sign a slot already past.
        let slot_start = slot * slot_ms;
        if slot_at(clock.now_ms(), slot_ms) != slot {
            tracing::debug!(target: "aura", slot, "woke up after the slot ended; skipping it");
            continue;
        }
        // The schedule and the parent are the last authored block's, even while its import
        // (in flight) still runs.
        let Ok(state) = client.build_state() else {
            continue;
        };
        let schedule = client.runtime().author_schedule(&state);
        drop(state);
        if schedule.author(slot) != Some(&me) {
            continue;
        }
        let authorities = schedule.authorities();
        let parent = client.build_parent();
        if parent.slot >= slot {
            continue;
        }
        let lag = parent.number.saturating_sub(client.finalized().number);
        if lag > MAX_UNFINALIZED && !(slot / authorities.len() as u64).is_multiple_of(LAGGING_EVERY)
        {
            tracing::debug!(target: "aura", slot, lag, "finality lags; skipping the slot");
            continue;
        }
        // The build budget counts from the slot's start, not from when this task woke.
        let into_slot = Duration::from_millis(clock.now_ms().saturating_sub(slot_start));
        let pipelined = authorities.len() == 1;
        let share = if pipelined {
            BUILD_SHARE
        } else {
            BUILD_SHARE_SHARED
        };
        let budget = Duration::from_millis(slot_ms * share.0 / share.1);
        let deadline = Instant::now() + budget.saturating_sub(into_slot);
        let import = if pipelined {
            Import::Within(budget)
        } else {
            Import::ByDeadline
        };
        let (c, k, s) = (client.clone(), key.clone(), slots.clone());
        let sealed = blocking::run(move || {
            c.seal_block(slot, deadline, import, &k, |slot| {
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
        let authored = match sealed {
            Some(Ok(Some(authored))) => authored,
            Some(Ok(None)) => continue,
            Some(Err(e)) => {
                report_failure(slot, &e);
                continue;
            }
            None => {
                tracing::error!(target: "aura", slot, "authoring task failed");
                continue;
            }
        };
        // One import at a time, in order: the previous block's commit ends before this one's.
        if let Some(previous) = importing.take() {
            let _ = previous.await;
        }
        let stored = store(client.clone(), authored, slot, announce.clone());
        if pipelined {
            importing = Some(tokio::spawn(stored));
        } else {
            stored.await;
        }
    }
    // A stopping node finishes storing (and announcing) the block it sealed.
    if let Some(previous) = importing {
        let _ = previous.await;
    }
}

/// Imports an authored block and announces it once it is stored.
async fn store<S: StateMachine>(
    client: Arc<Client<S>>,
    authored: Authored<S>,
    slot: u64,
    announce: Announce<S>,
) {
    let block = authored.block.clone();
    match blocking::run(move || client.import_authored(authored)).await {
        Some(Ok(at)) => {
            tracing::debug!(target: "aura", number = at.number, hash = %at.hash.short(), slot, txs = block.block.extrinsics.len(), "authored block");
            announce(&block);
        }
        Some(Err(e)) => report_failure(slot, &e),
        None => tracing::error!(target: "aura", slot, "authoring task failed"),
    }
}

fn report_failure(slot: u64, e: &ImportError) {
    match e {
        ImportError::Storage(_) => {
            tracing::error!(target: "aura", slot, error = %e, "cannot store the authored block")
        }
        _ => tracing::warn!(target: "aura", slot, error = %e, "failed to author block"),
    }
}
