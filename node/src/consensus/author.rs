//! The authoring worker: wakes at every slot boundary and, when the local key is the slot's
//! author, builds a block from the pool within the first part of the slot, records the slot
//! (slashing protection), seals and imports it.

use super::slashing::SignedSlots;
use super::slots::{slot_at, slot_author};
use crate::client::Client;
use crate::util::unix_ms;
use aitbc_primitives::{Pair, StateMachine};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Share of the slot spent applying transactions; the rest is for sealing, committing and
/// propagation.
const BUILD_SHARE: (u64, u64) = (1, 2);

/// Runs until `shutdown` turns true.
pub async fn run<S: StateMachine>(
    client: Arc<Client<S>>,
    key: Pair,
    slots: Arc<SignedSlots>,
    mut shutdown: watch::Receiver<bool>,
) {
    let me = key.public();
    tracing::info!(target: "aura", authority = %me, "authoring blocks");
    loop {
        let slot_ms = match client.state() {
            Ok(state) => client.runtime().slot_duration_ms(&state).max(1),
            Err(e) => {
                tracing::error!(target: "aura", error = %e, "cannot read state");
                1000
            }
        };
        let now = unix_ms();
        let next_slot = slot_at(now, slot_ms) + 1;
        let wait = Duration::from_millis(next_slot * slot_ms - now);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        let slot = next_slot;
        // A late wake-up (suspended process, busy machine) must not sign a slot already past.
        let slot_start = slot * slot_ms;
        if slot_at(unix_ms(), slot_ms) != slot {
            tracing::debug!(target: "aura", slot, "woke up after the slot ended; skipping it");
            continue;
        }
        let Ok(state) = client.state() else { continue };
        let authorities = client.runtime().authorities(&state);
        drop(state);
        if slot_author(slot, &authorities) != Some(&me) {
            continue;
        }
        if client.best_header().slot >= slot {
            continue;
        }
        // The build budget counts from the slot's start, not from when this task woke.
        let into_slot = Duration::from_millis(unix_ms().saturating_sub(slot_start));
        let budget = Duration::from_millis(slot_ms * BUILD_SHARE.0 / BUILD_SHARE.1);
        let deadline = Instant::now() + budget.saturating_sub(into_slot);
        let (c, k, s) = (client.clone(), key.clone(), slots.clone());
        let result = tokio::task::spawn_blocking(move || {
            c.author_block(slot, deadline, &k, |slot| {
                s.claim(&k.public(), slot).map_err(|e| e.to_string())
            })
        })
        .await;
        match result {
            Ok(Ok(Some(at))) => {
                tracing::debug!(target: "aura", number = at.number, hash = %at.hash.short(), slot, "authored block")
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                tracing::warn!(target: "aura", slot, error = %e, "failed to author block")
            }
            Err(e) => tracing::error!(target: "aura", slot, error = %e, "authoring task failed"),
        }
    }
}
