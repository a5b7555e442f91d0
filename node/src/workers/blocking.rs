//! Blocking work (building, importing and finalizing blocks, pruning) from the async workers.
//!
//! On a multi-threaded runtime (the node's) the work runs on tokio's blocking pool, so a slow
//! import does not stall the workers' timers. On a current-thread runtime (the simulator's: one
//! thread and virtual time) it runs inline, in the task that asked for it: a pool thread would
//! make the order of events depend on the operating system's scheduler, and the simulation
//! would no longer replay from its seed.

use tokio::runtime::{Handle, RuntimeFlavor};

/// Runs `work` as described in the module docs; `None` if the pool's task panicked or was
/// cancelled.
pub async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    match Handle::current().runtime_flavor() {
        RuntimeFlavor::CurrentThread => Some(work()),
        _ => tokio::task::spawn_blocking(work).await.ok(),
    }
}
