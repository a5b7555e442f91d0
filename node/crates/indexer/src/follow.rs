//! The indexing loop: catch up to the node's finalized head in batches, then wait for the next
//! finalized block: woken by a `finalizedHeads` websocket subscription, or by a poll every
//! [`POLL`] when the socket is down.

use crate::db::{Batch, Cursor, Db};
use crate::metrics::IndexerMetrics;
use crate::model::BlockRows;
use crate::progress::Progress;
use crate::source::Source;
use crate::{Config, IndexError};
use futures_util::{SinkExt, StreamExt};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Message;

/// The longest wait for a new finalized block without a notification.
const POLL: Duration = Duration::from_secs(2);

/// A `finalizedHeads` subscription kept open to the node (reconnected after a pause when it
/// drops) that wakes the indexer on each notification; ended when dropped.
pub struct Wake {
    notify: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Wake {
    pub fn spawn(rpc: &str) -> Wake {
        let notify = Arc::new(Notify::new());
        let authority = rpc
            .trim_end_matches('/')
            .trim_start_matches("http://")
            .to_string();
        let woken = notify.clone();
        let task = tokio::spawn(async move {
            loop {
                if let Err(e) = subscribe(&authority, &woken).await {
                    tracing::debug!(target: "indexer", error = %e, "finalizedHeads subscription lost");
                }
                tokio::time::sleep(POLL).await;
            }
        });
        Wake { notify, task }
    }

    /// Waits for a notification, at most [`POLL`].
    async fn wait(&self) {
        let _ = tokio::time::timeout(POLL, self.notify.notified()).await;
    }
}

impl Drop for Wake {
    fn drop(&mut self) {
        self.task.abort();
    }
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
    wake: &Wake,
    metrics: &IndexerMetrics,
) -> Result<(), IndexError> {
    let mut run = Run {
        config,
        source,
        db,
        cursor,
        metrics,
        progress: Progress::new(),
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
            wake.wait().await;
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
}

impl Run<'_> {
    /// Indexes `from..=to`: blocks are fetched ([`Source::fetch_range`]), gathered into batches
    /// with their accounts' balances ([`batches`]) and written, each stage ahead of the next.
    async fn catch_up(&mut self, from: u64, to: u64) -> Result<(), IndexError> {
        self.progress.target(from, to);
        let blocks = self.source.fetch_range(from, to, self.config.fetchers)?;
        let mut batches = batches(self.config, self.source.clone(), blocks);
        while let Some(batch) = batches.recv().await {
            let batch = batch?;
            *self.cursor = self.db.write(self.cursor, &batch).await?;
            let (height, txs) = (self.cursor.height.unwrap_or(0), batch.transactions());
            self.metrics.written(height, batch.blocks.len(), txs);
            self.progress.written(height, txs);
        }
        match self.cursor.height {
            Some(h) if h >= to => Ok(()),
            _ => Err(IndexError::Rpc("block fetching stopped early".to_string())),
        }
    }
}

/// Gathers `blocks` into batches of at most `config.batch_blocks` blocks and
/// `config.batch_txs` transactions (fewer when no more have arrived: a batch never waits for
/// blocks while the writer could be writing), reads the balances of the accounts each batch
/// touched (once per account per batch) and the validators (with the first batch of each
/// catch-up, so for every block while following, and after a block that may have changed
/// them). The receiver ends after the last batch or an error.
fn batches(
    config: &Config,
    source: Source,
    mut blocks: mpsc::Receiver<Result<BlockRows, IndexError>>,
) -> mpsc::Receiver<Result<Batch, IndexError>> {
    let (max_blocks, max_txs) = (config.batch_blocks.max(1), config.batch_txs.max(1));
    let (out, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        let mut first = true;
        while let Some(block) = blocks.recv().await {
            let batch = async {
                let mut batch = Batch::default();
                let mut txs = 0;
                let mut next = Some(block);
                while let Some(block) = next {
                    let block = block?;
                    txs += block.txs.len();
                    batch.blocks.push(block);
                    if batch.blocks.len() >= max_blocks || txs >= max_txs {
                        break;
                    }
                    next = blocks.try_recv().ok();
                }
                let touched: BTreeSet<&String> =
                    batch.blocks.iter().flat_map(|b| b.touched.iter()).collect();
                let touched: Vec<&String> = touched.into_iter().collect();
                batch.accounts = source.balances(&touched).await?;
                if first || batch.blocks.iter().any(|b| b.validators_changed) {
                    batch.validators = Some(source.validators().await?);
                }
                Ok(batch)
            }
            .await;
            first = false;
            let failed = batch.is_err();
            if out.send(batch).await.is_err() || failed {
                return;
            }
        }
    });
    rx
}
