//! Pool revalidation: after blocks are imported, every pooled transaction is checked again
//! against the best state and the invalid ones dropped ([`Client::revalidate_pool`]).
//!
//! It runs here, not in the import: on a large state it reads every pooled sender's account
//! (20,000 reads, ~0.3 s on a 1M-account state), and the next block's author must have imported
//! the last one before its slot starts. Blocks imported during a run make one more run, not one
//! each. Until a transaction is revalidated, block building still applies it in full and drops
//! it if it fails, so a late verdict never lets an invalid transaction into a block.

use super::blocking;
use aitbc_client::Client;
use aitbc_primitives::StateMachine;
use std::sync::Arc;
use tokio::sync::watch;

pub async fn run<S: StateMachine>(client: Arc<Client<S>>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            _ = client.revalidation_due() => {}
        }
        let c = client.clone();
        if blocking::run(move || c.revalidate_pool()).await.is_none() {
            return;
        }
    }
}
