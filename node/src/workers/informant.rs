//! The informant: a status line every few seconds, like Substrate's.

use aitbc_client::Client;
use aitbc_primitives::StateMachine;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const PERIOD: Duration = Duration::from_secs(5);

pub async fn run<S: StateMachine>(client: Arc<Client<S>>, mut shutdown: watch::Receiver<bool>) {
    let mut last = client.best_header().number;
    loop {
        tokio::select! {
            biased;
            _ = tokio::time::sleep(PERIOD) => {}
            _ = shutdown.changed() => return,
        }
        let best = client.best_header();
        let fin = client.finalized();
        let pool = client.pool().status();
        let rate = best.number.saturating_sub(last) as f64 / PERIOD.as_secs_f64();
        last = best.number;
        tracing::info!(
            target: "informant",
            "{} peers, best #{} ({}), finalized #{} ({}), {:.1} bps, txpool ready {} future {}",
            client.metrics().peers(),
            best.number,
            best.hash().short(),
            fin.number,
            fin.hash.short(),
            rate,
            pool.ready,
            pool.future
        );
    }
}
