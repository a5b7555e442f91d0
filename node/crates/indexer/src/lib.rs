//! # aitbc-indexer
//!
//! `aitbc-node index --rpc URL --postgres URL`: follows a node's finalized blocks over its RPC
//! and writes them into PostgreSQL (tables `blocks`, `transactions`, `events`, `accounts`,
//! `jobs`, `receipts`, `validators`, `offences`; the schema is `migrations/`, applied in
//! order by [`db::migrate`]), for explorers and analysts to query.
//!
//! # Protocol
//! 1. **Claim the database.** Migrations are applied, then the database is bound to the
//!    node's chain: `indexer_state` keeps the genesis hash, and a database indexed from
//!    another chain is refused. A session advisory lock keeps a second indexer out.
//! 2. **Catch up.** Blocks from the cursor (`indexer_state.height`) + 1 to the node's
//!    finalized head are fetched by [`source`] (several connections, delivered in order), each
//!    as its `getBlock` and `getBlockEvents` answers; gathered into batches with the balances
//!    of the accounts they touched (one JSON-RPC batch of `getBalance` per 1000 accounts); and
//!    written with binary `COPY`, one batch while the next is fetched.
//! 3. **Follow.** At the head, a `finalizedHeads` websocket subscription (with a poll as a
//!    fallback) wakes the indexer for each newly finalized block.
//!
//! # Invariants
//! - **Exactly once.** A batch of blocks is written in one PostgreSQL transaction together with
//!   the cursor. A kill at any moment leaves the database at the end of a whole batch, and the
//!   restart resumes after it: no gap, no duplicate (primary keys would refuse one).
//! - **Nothing to revert.** Only finalized blocks are indexed, and each block's parent must
//!   be the last block written, so the tables only ever grow along one chain.
//! - **Lost connections are retried, from the cursor.** A failed write rolls back; the
//!   indexer reconnects with backoff and re-reads its cursor. Bad input (a database of another
//!   chain, a node answer it cannot parse) stops it with a one-line error instead.
//!
//! `accounts` holds each touched account's balance and nonce as the node answered when the
//! batch that last touched it was indexed (the node's best state at that moment, at or after
//! the batch's blocks), so once the chain is quiet it equals `getBalance` for every row. An
//! account credited without being named in an event or signing (the treasury's share of fees
//! and mints) is not refreshed by it.

pub mod db;
mod follow;
pub mod metrics;
pub mod model;
pub mod pg_types;
mod progress;
pub mod source;

use std::time::Duration;

/// Why the indexer stopped (or, for the transient kinds, why it is retrying).
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("cannot reach PostgreSQL at {target}: {message}")]
    PostgresUnreachable { target: String, message: String },
    #[error("RPC: {0}")]
    Rpc(String),
    #[error("the node answered something the indexer cannot read: {0}")]
    Malformed(String),
    #[error("this database indexes chain {indexed} (genesis {indexed_genesis}); the node serves {serving} (genesis {serving_genesis})")]
    WrongChain {
        indexed: String,
        indexed_genesis: String,
        serving: String,
        serving_genesis: String,
    },
    #[error("{0}")]
    Refused(String),
    /// Another session holds the indexer's lock on the database: another indexer, or this
    /// one's own session from before a lost connection, until PostgreSQL notices it is gone.
    #[error("another indexer is writing to this database")]
    Locked,
}

impl IndexError {
    /// Whether retrying after a pause can help: a lost connection, a server shutting down or
    /// short of resources, a serialization failure, or a node that is restarting; not bad
    /// input.
    pub fn is_transient(&self) -> bool {
        match self {
            IndexError::Postgres(e) => match e.code() {
                None => true,
                Some(code) => {
                    let code = code.code();
                    // 08: connection exception; 53: insufficient resources; 57: operator
                    // intervention (shutdown, crash, cannot connect now); 40001, 40P01:
                    // serialization failure, deadlock.
                    ["08", "53", "57"]
                        .iter()
                        .any(|class| code.starts_with(class))
                        || code == "40001"
                        || code == "40P01"
                }
            },
            IndexError::Rpc(_) | IndexError::PostgresUnreachable { .. } => true,
            _ => false,
        }
    }
}

/// What `aitbc-node index` was asked to do.
#[derive(Debug, Clone)]
pub struct Config {
    /// The node, `http://host:port`.
    pub rpc: String,
    /// A libpq connection string or `postgres://` URL.
    pub postgres: String,
    /// Start at this height instead of after the cursor (an empty database, or ahead of it).
    pub from: Option<u64>,
    /// Stop once this height is indexed (default: follow for ever).
    pub until: Option<u64>,
    /// Blocks fetched at once.
    pub fetchers: usize,
    /// Most blocks and transactions in one written batch.
    pub batch_blocks: usize,
    pub batch_txs: usize,
    /// Pause before the first retry; doubles up to [`MAX_BACKOFF`].
    pub backoff: Duration,
}

impl Config {
    pub fn new(rpc: &str, postgres: &str) -> Config {
        Config {
            rpc: rpc.to_string(),
            postgres: postgres.to_string(),
            from: None,
            until: None,
            fetchers: 4,
            batch_blocks: 256,
            batch_txs: 50_000,
            backoff: Duration::from_millis(500),
        }
    }
}

/// The longest pause between retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Runs the indexer until `until` is reached (never, without it) or a non-transient error. The
/// first connections to the node and to PostgreSQL are not retried: an address that is wrong
/// from the start is an error at once. After a transient error the node's chain is checked
/// again (a node reset behind the same address is refused, not waited for), the database
/// reconnected if the connection is gone, and the cursor read again; the pause doubles until a
/// batch is written.
pub async fn run(config: &Config, metrics: &metrics::IndexerMetrics) -> Result<(), IndexError> {
    let source = source::Source::new(&config.rpc)?;
    let chain = source.chain().await?;
    let mut db = db::Db::connect(&config.postgres, &chain).await?;
    let mut cursor = db.claim(config.from).await?;
    tracing::info!(target: "indexer", chain = %chain.name, genesis = %chain.genesis_hash,
        height = ?cursor.height, "indexing");
    let wake = follow::Wake::spawn(&config.rpc);
    let mut backoff = config.backoff;
    loop {
        let before = cursor.height;
        let error = match follow::index(config, &source, &mut db, &mut cursor, &wake, metrics).await
        {
            Ok(()) => return db.flush().await,
            Err(e) if e.is_transient() => e,
            Err(e) => return Err(e),
        };
        if cursor.height != before {
            backoff = config.backoff;
        }
        tracing::warn!(target: "indexer", error = %error, retry_in = ?backoff, "retrying");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
        if let Err(e) = recover(config, &source, &chain, &mut db, &mut cursor).await {
            if !(e.is_transient() || matches!(e, IndexError::Locked)) {
                return Err(e);
            }
            tracing::debug!(target: "indexer", error = %e, "not recovered yet");
        }
    }
}

/// After a transient error: the node must still serve the indexed chain; the database is
/// reconnected if its connection is gone; the cursor is read again.
async fn recover(
    config: &Config,
    source: &source::Source,
    chain: &source::Chain,
    db: &mut db::Db,
    cursor: &mut db::Cursor,
) -> Result<(), IndexError> {
    let serving = source.chain().await?;
    if serving != *chain {
        return Err(IndexError::WrongChain {
            indexed: chain.name.clone(),
            indexed_genesis: chain.genesis_hash.clone(),
            serving: serving.name,
            serving_genesis: serving.genesis_hash,
        });
    }
    if db.is_closed() {
        *db = db::Db::connect(&config.postgres, chain).await?;
    }
    *cursor = db.claim(None).await?;
    Ok(())
}
