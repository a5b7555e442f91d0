//! The PostgreSQL side: migrations, the claim on the database (chain check, advisory lock,
//! cursor), and the write of a batch of blocks in one transaction with the cursor.

use crate::model::{BlockRows, JobChange};
use crate::pg_types::{parse_amount, Numeric};
use crate::source::{AccountRow, Chain};
use crate::IndexError;
use serde_json::Value;
use std::collections::BTreeMap;
use std::pin::Pin;
use std::time::{Duration, SystemTime};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, NoTls, Transaction};

/// The migrations, in order: `(version, name, SQL)`. Never edit one that shipped; add the next.
pub const MIGRATIONS: &[(i32, &str, &str)] =
    &[(1, "init", include_str!("../migrations/0001_init.sql"))];

/// The advisory lock key an indexer holds on its database ("AITBCIDX").
const LOCK_KEY: i64 = 0x4149_5442_4349_4458;

/// Where the indexer stands: the last height written and its block hash (`None` before the
/// first block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub height: Option<u64>,
    pub hash: Option<String>,
}

/// What one PostgreSQL transaction writes: consecutive blocks, the balance and nonce of every
/// account they touched (read after the last of them), and the validators when the batcher
/// read them (`follow::batches` says when).
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub blocks: Vec<BlockRows>,
    pub accounts: Vec<AccountRow>,
    pub validators: Option<Value>,
}

impl Batch {
    pub fn transactions(&self) -> usize {
        self.blocks.iter().map(|b| b.txs.len()).sum()
    }
}

/// A connection to the indexer's database.
pub struct Db {
    client: Client,
    chain: Chain,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({})", self.chain.name)
    }
}

/// `target` without a password, for messages.
fn redacted(target: &str) -> String {
    match (target.find("://"), target.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &target[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &target[..scheme + 3], &target[at + 1..])
        }
        _ => target
            .split_whitespace()
            .filter(|kv| !kv.starts_with("password="))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

impl Db {
    /// Connects, applies the migrations and takes the indexer's advisory lock.
    pub async fn connect(target: &str, chain: &Chain) -> Result<Db, IndexError> {
        let unreachable = |e: tokio_postgres::Error| IndexError::PostgresUnreachable {
            target: redacted(target),
            message: e.to_string(),
        };
        let mut config: tokio_postgres::Config = target
            .parse()
            .map_err(|e| IndexError::Refused(format!("--postgres {:?}: {e}", redacted(target))))?;
        config.connect_timeout(Duration::from_secs(5));
        config.application_name("aitbc-indexer");
        // A connection that went silent (a half-open socket) is noticed within about a minute,
        // and so is this session's lock freed for the reconnection.
        config.keepalives_idle(Duration::from_secs(30));
        config.tcp_user_timeout(Duration::from_secs(60));
        let (client, connection) = config.connect(NoTls).await.map_err(unreachable)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(target: "indexer", error = %e, "PostgreSQL connection ended");
            }
        });
        // A batch and its cursor commit together, so a commit lost in a crash of PostgreSQL
        // itself (not of the indexer) loses both, and the restart writes that batch again: no
        // gap, no duplicate. So commits need not wait for the WAL flush.
        client.batch_execute("SET synchronous_commit = off").await?;
        let locked: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
            .await?
            .get(0);
        if !locked {
            return Err(IndexError::Locked);
        }
        let mut db = Db {
            client,
            chain: chain.clone(),
        };
        db.migrate().await?;
        Ok(db)
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Waits until everything committed is durable (batches commit asynchronously): a
    /// synchronous commit flushes the WAL up to it.
    pub async fn flush(&self) -> Result<(), IndexError> {
        self.client
            .batch_execute(
                "SET synchronous_commit = on; UPDATE indexer_state SET height = height;
                 SET synchronous_commit = off",
            )
            .await?;
        Ok(())
    }

    /// Applies the migrations not applied yet, each in its own transaction; refuses a schema
    /// newer than this indexer knows.
    async fn migrate(&mut self) -> Result<(), IndexError> {
        self.client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())",
            )
            .await?;
        let applied: Option<i32> = self
            .client
            .query_one("SELECT max(version) FROM schema_migrations", &[])
            .await?
            .get(0);
        let applied = applied.unwrap_or(0);
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        if applied > known {
            return Err(IndexError::Refused(format!(
                "the database's schema is version {applied}; this indexer knows up to {known}"
            )));
        }
        for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > applied) {
            let tx = self.client.transaction().await?;
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[version, name],
            )
            .await?;
            tx.commit().await?;
            tracing::info!(target: "indexer", version, name, "migration applied");
        }
        Ok(())
    }

    /// Binds the database to the chain (first run) or checks it is the chain's, and returns
    /// the cursor. `from`: start there: on an empty database, or ahead of the cursor (leaving
    /// the heights between unindexed, as asked).
    pub async fn claim(&mut self, from: Option<u64>) -> Result<Cursor, IndexError> {
        let row = self
            .client
            .query_opt("SELECT genesis_hash, chain, height FROM indexer_state", &[])
            .await?;
        let start = match from.map(i64::try_from) {
            None => None,
            Some(Ok(f)) => Some(f - 1),
            Some(Err(_)) => return Err(IndexError::Refused("--from is beyond any height".into())),
        };
        let Some(row) = row else {
            self.client
                .execute(
                    "INSERT INTO indexer_state (genesis_hash, chain, height) VALUES ($1, $2, $3)",
                    &[
                        &self.chain.genesis_hash,
                        &self.chain.name,
                        &start.unwrap_or(-1),
                    ],
                )
                .await?;
            return self.cursor().await;
        };
        let (genesis, name, height): (String, String, i64) = (row.get(0), row.get(1), row.get(2));
        if genesis != self.chain.genesis_hash {
            return Err(IndexError::WrongChain {
                indexed: name,
                indexed_genesis: genesis,
                serving: self.chain.name.clone(),
                serving_genesis: self.chain.genesis_hash.clone(),
            });
        }
        if let Some(start) = start {
            if start < height {
                return Err(IndexError::Refused(format!(
                    "--from {}: this database is indexed up to {height} already",
                    start + 1
                )));
            }
            self.client
                .execute("UPDATE indexer_state SET height = $1", &[&start])
                .await?;
        }
        self.cursor().await
    }

    async fn cursor(&self) -> Result<Cursor, IndexError> {
        let height: i64 = self
            .client
            .query_one("SELECT height FROM indexer_state", &[])
            .await?
            .get(0);
        let hash = self
            .client
            .query_opt("SELECT hash FROM blocks WHERE height = $1", &[&height])
            .await?
            .map(|r| r.get(0));
        Ok(Cursor {
            height: u64::try_from(height).ok(),
            hash,
        })
    }

    /// Writes `batch` (consecutive blocks after `cursor`) and moves the cursor to its last
    /// block, in one transaction.
    pub async fn write(&mut self, cursor: &Cursor, batch: &Batch) -> Result<Cursor, IndexError> {
        let Some(last) = batch.blocks.last() else {
            return Ok(cursor.clone());
        };
        check_chain(cursor, &batch.blocks)?;
        let tx = self.client.transaction().await?;
        copy_blocks(&tx, &batch.blocks).await?;
        upsert_accounts(&tx, &batch.accounts, last.height).await?;
        upsert_jobs(&tx, &batch.blocks).await?;
        if let Some(v) = &batch.validators {
            replace_validators(&tx, v, last.height).await?;
        }
        tx.execute("UPDATE indexer_state SET height = $1", &[&last.height])
            .await?;
        tx.commit().await?;
        Ok(Cursor {
            height: u64::try_from(last.height).ok(),
            hash: Some(last.hash.clone()),
        })
    }
}

/// The batch continues the indexed chain: consecutive heights, each block's parent the one
/// before it (the first block's, the cursor's block when that was written).
fn check_chain(cursor: &Cursor, blocks: &[BlockRows]) -> Result<(), IndexError> {
    let mut height = cursor.height.map(|h| h as i64).unwrap_or(-1);
    let mut hash = cursor.hash.clone();
    for b in blocks {
        if b.height != height + 1 {
            return Err(IndexError::Malformed(format!(
                "expected block {} next, got {}",
                height + 1,
                b.height
            )));
        }
        if hash.as_ref().is_some_and(|h| *h != b.parent_hash) {
            return Err(IndexError::Malformed(format!(
                "block {}'s parent {} is not the indexed block {height}",
                b.height, b.parent_hash
            )));
        }
        height = b.height;
        hash = Some(b.hash.clone());
    }
    Ok(())
}

/// A binary `COPY table (columns) FROM STDIN`: write rows in the columns' order, then
/// `finish`.
async fn copy_in(
    tx: &Transaction<'_>,
    table: &str,
    columns: &[(&str, Type)],
) -> Result<Pin<Box<BinaryCopyInWriter>>, IndexError> {
    let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
    let types: Vec<Type> = columns.iter().map(|c| c.1.clone()).collect();
    let sink = tx
        .copy_in(&format!(
            "COPY {table} ({}) FROM STDIN (FORMAT binary)",
            names.join(", ")
        ))
        .await?;
    Ok(Box::pin(BinaryCopyInWriter::new(sink, &types)))
}

fn timestamp(ms: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

const BLOCK_COLUMNS: &[(&str, Type)] = &[
    ("height", Type::INT8),
    ("hash", Type::TEXT),
    ("parent_hash", Type::TEXT),
    ("author", Type::TEXT),
    ("slot", Type::INT8),
    ("timestamp", Type::TIMESTAMPTZ),
    ("state_root", Type::TEXT),
    ("tx_count", Type::INT4),
];

const TX_COLUMNS: &[(&str, Type)] = &[
    ("hash", Type::TEXT),
    ("block_height", Type::INT8),
    ("tx_index", Type::INT4),
    ("signer", Type::TEXT),
    ("nonce", Type::INT8),
    ("call_type", Type::TEXT),
    ("call", Type::JSONB),
    ("fee", Type::NUMERIC),
    ("success", Type::BOOL),
    ("error", Type::TEXT),
];

const EVENT_COLUMNS: &[(&str, Type)] = &[
    ("block_height", Type::INT8),
    ("tx_index", Type::INT4),
    ("event_index", Type::INT4),
    ("tx_hash", Type::TEXT),
    ("module", Type::TEXT),
    ("name", Type::TEXT),
    ("data", Type::JSONB),
];

const RECEIPT_COLUMNS: &[(&str, Type)] = &[
    ("receipt_id", Type::TEXT),
    ("block_height", Type::INT8),
    ("tx_hash", Type::TEXT),
    ("client", Type::TEXT),
    ("job_id", Type::NUMERIC),
    ("miner", Type::TEXT),
    ("coordinator", Type::TEXT),
    ("compute_units", Type::INT8),
    ("paid", Type::NUMERIC),
    ("returned", Type::NUMERIC),
    ("minted", Type::NUMERIC),
    ("to_coordinator", Type::NUMERIC),
    ("to_treasury", Type::NUMERIC),
];

const OFFENCE_COLUMNS: &[(&str, Type)] = &[
    ("block_height", Type::INT8),
    ("tx_hash", Type::TEXT),
    ("event_index", Type::INT4),
    ("offender", Type::TEXT),
    ("kind", Type::TEXT),
    ("slot_or_round", Type::INT8),
    ("amount", Type::NUMERIC),
    ("reporter", Type::TEXT),
    ("to_reporter", Type::NUMERIC),
];

/// The batch's blocks, transactions, events, receipts and offences, each table one `COPY`.
async fn copy_blocks(tx: &Transaction<'_>, blocks: &[BlockRows]) -> Result<(), IndexError> {
    let mut w = copy_in(tx, "blocks", BLOCK_COLUMNS).await?;
    for b in blocks {
        let tx_count = b.txs.len() as i32;
        w.as_mut()
            .write(&[
                &b.height,
                &b.hash,
                &b.parent_hash,
                &b.author,
                &b.slot,
                &timestamp(b.timestamp_ms),
                &b.state_root,
                &tx_count,
            ])
            .await?;
    }
    w.as_mut().finish().await?;
    let mut w = copy_in(tx, "transactions", TX_COLUMNS).await?;
    for b in blocks {
        for t in &b.txs {
            w.as_mut()
                .write(&[
                    &t.hash,
                    &b.height,
                    &t.index,
                    &t.signer,
                    &t.nonce,
                    &t.call_type,
                    &t.call,
                    &t.fee,
                    &t.success,
                    &t.error,
                ])
                .await?;
        }
    }
    w.as_mut().finish().await?;
    let mut w = copy_in(tx, "events", EVENT_COLUMNS).await?;
    for b in blocks {
        for e in &b.events {
            w.as_mut()
                .write(&[
                    &b.height,
                    &e.tx_index,
                    &e.event_index,
                    &e.tx_hash,
                    &e.module,
                    &e.name,
                    &e.data,
                ])
                .await?;
        }
    }
    w.as_mut().finish().await?;
    if blocks.iter().any(|b| !b.receipts.is_empty()) {
        let mut w = copy_in(tx, "receipts", RECEIPT_COLUMNS).await?;
        for b in blocks {
            for r in &b.receipts {
                w.as_mut()
                    .write(&[
                        &r.receipt_id,
                        &b.height,
                        &r.tx_hash,
                        &r.client,
                        &r.job_id,
                        &r.miner,
                        &r.coordinator,
                        &r.compute_units,
                        &r.paid,
                        &r.returned,
                        &r.minted,
                        &r.to_coordinator,
                        &r.to_treasury,
                    ])
                    .await?;
            }
        }
        w.as_mut().finish().await?;
    }
    if blocks.iter().any(|b| !b.offences.is_empty()) {
        let mut w = copy_in(tx, "offences", OFFENCE_COLUMNS).await?;
        for b in blocks {
            for o in &b.offences {
                w.as_mut()
                    .write(&[
                        &b.height,
                        &o.tx_hash,
                        &o.event_index,
                        &o.offender,
                        &o.kind,
                        &o.slot_or_round,
                        &o.amount,
                        &o.reporter,
                        &o.to_reporter,
                    ])
                    .await?;
            }
        }
        w.as_mut().finish().await?;
    }
    Ok(())
}

/// The batch's accounts, upserted with the batch's last height.
async fn upsert_accounts(
    tx: &Transaction<'_>,
    accounts: &[AccountRow],
    height: i64,
) -> Result<(), IndexError> {
    if accounts.is_empty() {
        return Ok(());
    }
    let addresses: Vec<&str> = accounts.iter().map(|a| a.0.as_str()).collect();
    let balances: Vec<Numeric> = accounts.iter().map(|a| a.1).collect();
    let nonces: Vec<i64> = accounts.iter().map(|a| a.2).collect();
    tx.execute(
        "INSERT INTO accounts (address, balance, nonce, last_height)
         SELECT address, balance, nonce, $4
         FROM unnest($1::text[], $2::numeric[], $3::int8[]) AS a (address, balance, nonce)
         ON CONFLICT (address) DO UPDATE SET balance = EXCLUDED.balance,
             nonce = EXCLUDED.nonce, last_height = EXCLUDED.last_height",
        &[&addresses, &balances, &nonces, &height],
    )
    .await?;
    Ok(())
}

/// A job's columns after a batch's changes; `None` leaves the stored value.
#[derive(Default)]
struct JobRow {
    coordinator: Option<String>,
    price: Option<Numeric>,
    expires_at: Option<i64>,
    status: &'static str,
    opened_height: Option<i64>,
    closed_height: Option<i64>,
    receipt_id: Option<String>,
}

/// The batch's job changes, applied in order per job, upserted.
async fn upsert_jobs(tx: &Transaction<'_>, blocks: &[BlockRows]) -> Result<(), IndexError> {
    let mut jobs: BTreeMap<(String, u64), JobRow> = BTreeMap::new();
    for b in blocks {
        let height = b.height;
        for change in &b.jobs {
            match change {
                JobChange::Opened {
                    client,
                    job_id,
                    coordinator,
                    price,
                    expires_at,
                } => {
                    jobs.insert(
                        (client.clone(), *job_id),
                        JobRow {
                            coordinator: Some(coordinator.clone()),
                            price: Some(*price),
                            expires_at: Some(*expires_at),
                            status: "open",
                            opened_height: Some(height),
                            ..JobRow::default()
                        },
                    );
                }
                JobChange::Claimed {
                    client,
                    job_id,
                    receipt_id,
                } => {
                    let job = jobs.entry((client.clone(), *job_id)).or_default();
                    job.status = "claimed";
                    job.closed_height = Some(height);
                    job.receipt_id = Some(receipt_id.clone());
                }
                JobChange::Refunded { client, job_id } => {
                    let job = jobs.entry((client.clone(), *job_id)).or_default();
                    job.status = "refunded";
                    job.closed_height = Some(height);
                }
            }
        }
    }
    if jobs.is_empty() {
        return Ok(());
    }
    let clients: Vec<&str> = jobs.keys().map(|k| k.0.as_str()).collect();
    let ids: Vec<Numeric> = jobs.keys().map(|k| Numeric(k.1.into())).collect();
    let coordinators: Vec<Option<&str>> = jobs.values().map(|j| j.coordinator.as_deref()).collect();
    let prices: Vec<Option<Numeric>> = jobs.values().map(|j| j.price).collect();
    let expires: Vec<Option<i64>> = jobs.values().map(|j| j.expires_at).collect();
    let statuses: Vec<&str> = jobs.values().map(|j| j.status).collect();
    let opened: Vec<Option<i64>> = jobs.values().map(|j| j.opened_height).collect();
    let closed: Vec<Option<i64>> = jobs.values().map(|j| j.closed_height).collect();
    let receipts: Vec<Option<&str>> = jobs.values().map(|j| j.receipt_id.as_deref()).collect();
    tx.execute(
        "INSERT INTO jobs (client, job_id, coordinator, price, expires_at, status,
                          opened_height, closed_height, receipt_id)
         SELECT * FROM unnest($1::text[], $2::numeric[], $3::text[], $4::numeric[], $5::int8[],
                              $6::text[], $7::int8[], $8::int8[], $9::text[])
         ON CONFLICT (client, job_id) DO UPDATE SET
             coordinator = COALESCE(EXCLUDED.coordinator, jobs.coordinator),
             price = COALESCE(EXCLUDED.price, jobs.price),
             expires_at = COALESCE(EXCLUDED.expires_at, jobs.expires_at),
             status = EXCLUDED.status,
             opened_height = COALESCE(EXCLUDED.opened_height, jobs.opened_height),
             closed_height = EXCLUDED.closed_height,
             receipt_id = EXCLUDED.receipt_id",
        &[
            &clients,
            &ids,
            &coordinators,
            &prices,
            &expires,
            &statuses,
            &opened,
            &closed,
            &receipts,
        ],
    )
    .await?;
    Ok(())
}

/// Replaces the validators table with the node's `getValidators` answer: the active set and
/// the other candidates.
async fn replace_validators(
    tx: &Transaction<'_>,
    answer: &Value,
    height: i64,
) -> Result<(), IndexError> {
    let bad = |what: &str| IndexError::Malformed(format!("getValidators: {what}"));
    let epoch = answer["epoch"]
        .as_u64()
        .and_then(|e| i64::try_from(e).ok())
        .ok_or_else(|| bad("no epoch"))?;
    let active: Vec<&str> = answer["validators"]
        .as_array()
        .ok_or_else(|| bad("no validators"))?
        .iter()
        .filter_map(|v| v["address"].as_str())
        .collect();
    let mut rows: BTreeMap<&str, &Value> = BTreeMap::new();
    for list in ["candidates", "validators"] {
        for v in answer[list].as_array().into_iter().flatten() {
            let address = v["address"]
                .as_str()
                .ok_or_else(|| bad("an entry without an address"))?;
            rows.insert(address, v);
        }
    }
    tx.execute("DELETE FROM validators", &[]).await?;
    for (address, v) in rows {
        let amount = |k: &str| parse_amount(&v[k]).ok_or_else(|| bad(k));
        let int = |k: &str| {
            v[k].as_u64()
                .and_then(|n| i64::try_from(n).ok())
                .ok_or_else(|| bad(k))
        };
        tx.execute(
            "INSERT INTO validators (address, active, bonded, weight_ppm, authored_this_epoch,
                                     work_score, disabled, epoch, updated_height)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &address,
                &active.contains(&address),
                &amount("bonded")?,
                &int("weight_ppm")?,
                &int("authored_this_epoch")?,
                &amount("work_score")?,
                &v["disabled"].as_bool().unwrap_or(false),
                &epoch,
                &height,
            ],
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_left_out_of_messages() {
        assert_eq!(
            redacted("postgres://me:secret@db:5432/x"),
            "postgres://me@db:5432/x"
        );
        assert_eq!(
            redacted("host=/run/pg user=me password=secret dbname=x"),
            "host=/run/pg user=me dbname=x"
        );
    }
}
