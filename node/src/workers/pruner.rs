//! The pruner: deletes the history of finalized blocks older than the state-pruning window
//! (`--state-pruning`): the state-tree nodes they made unreachable and their undo logs; and the
//! bodies of those older than the block-pruning window (`--blocks-pruning`, default archive:
//! none), in writes of at most [`MAX_BLOCKS`].
//!
//! A block's commit does not delete the tree nodes it replaces; it records them (see the storage
//! module docs), so that a revert needs no copy of them, the import stays short, and the states
//! of recent blocks stay readable for proofs and state sync. This task deletes them once their
//! blocks are final and older than the window: after each finalization, as long as at least
//! [`MIN_KEYS`] wait, in writes of at most about [`MAX_KEYS`] keys (whole blocks' lists, in key
//! order). The floor makes each write delete many neighbouring keys (pages rewritten once for
//! several blocks); the cap bounds how long a prune holds the database's single writer, which an
//! import waits for. At most [`MIN_KEYS`] stale nodes stay stored when the chain goes quiet.

use super::blocking;
use aitbc_client::{ChainEvent, Client};
use aitbc_primitives::StateMachine;
use aitbc_storage::Pruning;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

/// Fewest stale nodes worth a prune write (a block of transfers leaves 3-7 per transfer).
pub const MIN_KEYS: usize = 16_384;
/// About the most stale nodes one prune write deletes.
pub const MAX_KEYS: usize = 65_536;

/// Block bodies one prune write deletes at most.
pub const MAX_BLOCKS: u64 = 256;

pub async fn run<S: StateMachine>(
    client: Arc<Client<S>>,
    state: Pruning,
    blocks: Pruning,
    mut shutdown: watch::Receiver<bool>,
) {
    if state == Pruning::Archive && blocks == Pruning::Archive {
        return;
    }
    let mut events = client.subscribe();
    loop {
        tokio::select! {
            biased;
            event = events.recv() => match event {
                Ok(ChainEvent::Finalized { .. }) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Ok(ChainEvent::NewBest { .. }) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = shutdown.changed() => return,
        }
        // Each until too little is left; awaited here, so a stopping node waits for the write.
        loop {
            let c = client.clone();
            match blocking::run(move || c.prune_history(state, MIN_KEYS, MAX_KEYS)).await {
                Some(Ok(0)) => break,
                Some(Ok(n)) => {
                    tracing::debug!(target: "db", pruned = n, "stale tree nodes deleted")
                }
                Some(Err(e)) => {
                    // A failed write latches the database and stops the node (storage docs).
                    tracing::warn!(target: "db", error = %e, "pruning stale tree nodes failed");
                    return;
                }
                None => return,
            }
        }
        loop {
            let c = client.clone();
            match blocking::run(move || c.prune_blocks(blocks, MAX_BLOCKS)).await {
                Some(Ok(0)) => break,
                Some(Ok(n)) => tracing::debug!(target: "db", pruned = n, "block bodies deleted"),
                Some(Err(e)) => {
                    tracing::warn!(target: "db", error = %e, "pruning block bodies failed");
                    return;
                }
                None => return,
            }
        }
    }
}
