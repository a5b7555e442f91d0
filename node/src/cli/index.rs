//! `index`: runs the PostgreSQL indexer (`aitbc-indexer`) until `--until` is reached, SIGTERM
//! or Ctrl-C, or an error it cannot retry (printed as one line by `main`).

use super::args::IndexArgs;
use aitbc_indexer::metrics::{self, IndexerMetrics};
use aitbc_indexer::Config;
use std::future::Future;
use std::sync::Arc;

pub async fn run(
    args: IndexArgs,
    stop: impl Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let mut config = Config::new(&args.rpc, &args.postgres);
    config.from = args.from;
    config.until = args.until;
    config.fetchers = args.fetchers as usize;
    config.batch_blocks = args.batch_blocks as usize;
    let metrics = Arc::new(IndexerMetrics::default());
    if let Some(addr) = args.metrics_addr {
        let bound = metrics::serve(addr, metrics.clone())
            .await
            .map_err(|e| anyhow::anyhow!("cannot serve metrics on {addr}: {e}"))?;
        tracing::info!(target: "indexer", "metrics on http://{bound}/metrics");
    }
    tokio::select! {
        r = aitbc_indexer::run(&config, &metrics) => Ok(r?),
        r = stop => {
            // The batch being written is rolled back with the connection: the cursor stays at
            // the last whole batch.
            tracing::info!(target: "indexer", "stopping");
            r
        }
    }
}
