//! The indexing loop: catch up to the node's finalized head in batches, then wait for the next
//! finalized block: woken by a `finalizedHeads` websocket subscription, or by a poll every
//! [`POLL`] when the socket is down.

use crate::db::{Cursor, Db};
use crate::metrics::IndexerMetrics;
use crate::progress::Progress;
use crate::source::{Fetched, Source};
use crate::{Config, IndexError};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;

/// The longest wait for a new finalized block without a notification.
const POLL: Duration = Duration::from_secs(2);

/// Keeps a `finalizedHeads` subscription open to the node at `rpc` (reconnecting after a
/// pause when it drops) and wakes the returned [`Notify`] on each notification.
pub fn spawn(rpc: &str) -> Arc<Notify> {
    let wake = Arc::new(Notify::new());
    let authority = rpc
        .trim_end_matches('/')
        .trim_start_matches("http://")
        .to_string();
    let notify = wake.clone();
    tokio::spawn(async move {
        loop {
            if let Err(e) = subscribe(&authority, &notify).await {
                tracing::debug!(target: "indexer", error = %e, "finalizedHeads subscription lost");
            }
            tokio::time::sleep(POLL).await;
        }
    });
    wake
}

async fn subscribe(authority: &str, wake: &Notify) -> Result<(), Box<dyn std::error::Error>> {
    let stream = tokio::net::TcpStream::connect(authority).await?;
    let (mut ws, _) =
        tokio_tungstenite::client_async(format!("ws://{authority}/rpc/ws"), stream).await?;
    ws.send(Message::text(r#"{"subscribe":"finalizedHeads"}"#))
        .await?;
    while let Some(msg) = ws.next().await {
        if let Message::Text(_) = msg? {
            wake.notify_one();
        }
    }
    Ok(())
}

/// Indexes until `config.until` is written (for ever without it) or an error.
pub async fn index(
    config: &Config,
    source: &Source,
    db: &mut Db,
    cursor: &mut Cursor,
    wake: &Notify,
    metrics: &IndexerMetrics,
) -> Result<(), IndexError> {
    let mut run = Run {
        config,
        source,
        db,
        cursor,
        metrics,
        progress: Progress::new(),
        validators_written: false,
    };
    loop {
        let next = run.cursor.height.map_or(0, |h| h + 1);
        if config.until.is_some_and(|u| next > u) {
            return Ok(());
        }
        let finalized = source.finalized().await?;
        let target = config.until.map_or(finalized, |u| u.min(finalized));
        metrics.set_target(finalized);
        if next > target {
            run.progress.caught_up(run.cursor.height);
            let _ = tokio::time::timeout(POLL, wake.notified()).await;
            continue;
        }
        run.catch_up(next, target).await?;
    }
}

/// One run of the loop's state.
struct Run<'a> {
    config: &'a Config,
    source: &'a Source,
    db: &'a mut Db,
    cursor: &'a mut Cursor,
    metrics: &'a IndexerMetrics,
    progress: Progress,
    /// The validators table is refreshed with the first batch a run writes, then after
    /// batches that may have changed it.
    validators_written: bool,
}

impl Run<'_> {
    /// Indexes `from..=to` in batches.
    async fn catch_up(&mut self, from: u64, to: u64) -> Result<(), IndexError> {
        self.progress.target(from, to);
        let mut blocks = self.source.fetch_range(from, to, self.config.fetchers)?;
        let mut batch: Vec<Fetched> = Vec::new();
        let mut txs = 0;
        loop {
            // Take what has arrived, up to a batch; wait only when there is nothing to write.
            let next = if batch.is_empty() {
                blocks.recv().await
            } else {
                blocks.try_recv().ok()
            };
            match next {
                Some(fetched) => {
                    let fetched = fetched?;
                    txs += fetched.rows.txs.len();
                    batch.push(fetched);
                    if batch.len() < self.config.batch_blocks && txs < self.config.batch_txs {
                        continue;
                    }
                }
                // The fetchers are done: they delivered every block (or an error, returned
                // above).
                None if batch.is_empty() => {
                    return match self.cursor.height {
                        Some(h) if h >= to => Ok(()),
                        _ => Err(IndexError::Rpc("block fetching stopped early".to_string())),
                    };
                }
                // Nothing more has arrived yet: write what has.
                None => {}
            }
            self.write(&batch, txs).await?;
            batch.clear();
            txs = 0;
        }
    }

    async fn write(&mut self, batch: &[Fetched], txs: usize) -> Result<(), IndexError> {
        let refresh = !self.validators_written || batch.iter().any(|f| f.rows.validators_changed);
        let validators = match refresh {
            true => Some(self.source.validators().await?),
            false => None,
        };
        *self.cursor = self
            .db
            .write(self.cursor, batch, validators.as_ref())
            .await?;
        self.validators_written = true;
        let height = self.cursor.height.unwrap_or(0);
        self.metrics.written(height, batch.len(), txs);
        self.progress.written(height, txs);
        Ok(())
    }
}
