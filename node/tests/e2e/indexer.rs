//! The PostgreSQL indexer against a real node and a real PostgreSQL server (`.ci/run` installs
//! and starts Debian's; `AITBC_TEST_POSTGRES` names another, default the local socket). Each
//! test makes its own database and drops it at the end.
//!
//! - everything it wrote agrees with the RPC, count for count and sum for sum, and it follows
//!   new finalized blocks, also after PostgreSQL ended its session;
//! - kill -9 of the `aitbc-node index` process while it catches up, again and again, then a
//!   restart: no gap, no duplicate;
//! - a database of another chain, and a PostgreSQL it cannot reach, are one-line errors.

use crate::common::*;
use aitbc_indexer::metrics::IndexerMetrics;
use aitbc_primitives::crypto::dev_pair;
use aitbc_runtime::Call;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio_postgres::NoTls;

/// The server the tests use: `AITBC_TEST_POSTGRES` (a libpq string), else the local socket.
fn admin_target() -> String {
    std::env::var("AITBC_TEST_POSTGRES")
        .unwrap_or_else(|_| "host=/var/run/postgresql dbname=postgres".to_string())
}

/// A database made for one test; dropped by [`TestDb::drop_db`].
struct TestDb {
    name: String,
    target: String,
}

impl TestDb {
    async fn new() -> TestDb {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("aitbc_test_{}_{nanos}", std::process::id());
        let admin = connect(&admin_target()).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let target = admin_target()
            .split_whitespace()
            .filter(|kv| !kv.starts_with("dbname="))
            .chain([format!("dbname={name}").as_str()])
            .collect::<Vec<_>>()
            .join(" ");
        TestDb { name, target }
    }

    async fn client(&self) -> tokio_postgres::Client {
        connect(&self.target).await
    }

    async fn drop_db(self) {
        let admin = connect(&admin_target()).await;
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await
            .unwrap();
    }
}

async fn connect(target: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(target, NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {target:?} (see .ci/run): {e}"));
    tokio::spawn(conn);
    client
}

/// One value of a query, as text (numeric sums do not fit an i64).
async fn text(db: &tokio_postgres::Client, sql: &str) -> String {
    let row = db
        .query_one(&format!("SELECT ({sql})::text"), &[])
        .await
        .unwrap();
    row.get::<_, Option<String>>(0).unwrap_or_default()
}

async fn int(db: &tokio_postgres::Client, sql: &str) -> u64 {
    text(db, sql).await.parse().unwrap_or(0)
}

/// Events whose (block_height, tx_index, tx_hash) is not a written transaction (events carry
/// no enforced foreign key: the migration says why).
async fn orphaned_events(db: &tokio_postgres::Client) -> u64 {
    int(
        db,
        "SELECT count(*) FROM events e LEFT JOIN transactions t
         ON t.block_height = e.block_height AND t.tx_index = e.tx_index AND t.hash = e.tx_hash
         WHERE t.hash IS NULL",
    )
    .await
}

/// Indexes `rpc` into `target` up to `until`, in process.
async fn index_until(rpc: &str, target: &str, until: u64) -> Result<(), aitbc_indexer::IndexError> {
    let mut config = aitbc_indexer::Config::new(rpc, target);
    config.until = Some(until);
    aitbc_indexer::run(&config, &IndexerMetrics::default()).await
}

/// What the RPC says about blocks `0..=to`.
#[derive(Debug, Default)]
struct Totals {
    txs: u64,
    events: u64,
    claims: u64,
    fees: u128,
    minted: u128,
    paid: u128,
    compute_units: u64,
}

async fn rpc_totals(rpc: &mut aitbc_rpc::http_client::HttpClient, to: u64) -> Totals {
    let amount = |v: &Value| v.as_str().unwrap().parse::<u128>().unwrap();
    let mut t = Totals::default();
    for h in 0..=to {
        let b = rpc
            .get_ok(&format!("/rpc/getBlockEvents/{h}"))
            .await
            .unwrap();
        for tx in b["events"].as_array().unwrap() {
            t.txs += 1;
            t.fees += amount(&tx["fee"]);
            for e in tx["events"].as_array().unwrap() {
                t.events += 1;
                if let Some(c) = e.pointer("/Receipts/ReceiptClaimed") {
                    t.claims += 1;
                    t.minted += amount(&c["minted"]);
                    t.paid += amount(&c["paid"]);
                    t.compute_units += c["compute_units"].as_u64().unwrap();
                }
            }
        }
    }
    t
}

/// Waits until the node has finalized its best block and returns that height.
async fn settle(rpc: &mut aitbc_rpc::http_client::HttpClient) -> u64 {
    let url = rpc.base_url();
    wait_until(20, "finality to reach the best block", || {
        let url = url.clone();
        async move {
            let mut c = aitbc_rpc::http_client::HttpClient::new(&url).unwrap();
            let head = c.get_ok("/rpc/getHead").await.ok()?;
            let (best, fin) = (head["height"].as_u64()?, head["finalized_height"].as_u64()?);
            (fin == best).then_some(fin)
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_indexer_wrote_agrees_with_the_rpc_and_it_follows_new_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(false), dir.path(), true)).await;
    let mut rpc = http(&node);
    let url = rpc.base_url();
    let genesis = node.client.genesis_hash();
    let alice = dev_pair("alice");
    let to: Vec<_> = ["bob", "dave", "eve", "ferdie"]
        .iter()
        .map(|n| dev_pair(n).public())
        .collect();
    let mut last = String::new();
    for i in 0..24u64 {
        let xt = transfer(
            &alice,
            &to[i as usize % 4],
            1_000 + u128::from(i),
            i,
            genesis,
        );
        last = send(&mut rpc, &xt).await;
    }
    wait_tx(&mut rpc, &last, "finalized").await;
    open_and_claim(&mut rpc, 1, genesis).await;
    open_and_claim(&mut rpc, 2, genesis).await;
    // A job left open.
    let bob = dev_pair("bob");
    let (_, _, nonce) = balance(&mut rpc, &bob.public()).await;
    let open = sign(
        &bob,
        Call::open_job(3, dev_pair("coordinator").public(), 700, 10_000),
        nonce,
        genesis,
    );
    let h = rpc.post_ok("/rpc/sendTx", &tx_body(&open)).await.unwrap();
    wait_tx(&mut rpc, h["txHash"].as_str().unwrap(), "finalized").await;
    let fin = settle(&mut rpc).await;

    let pg = TestDb::new().await;
    index_until(&url, &pg.target, fin).await.unwrap();
    let db = pg.client().await;
    // Every block once, no gap.
    assert_eq!(int(&db, "SELECT count(*) FROM blocks").await, fin + 1);
    assert_eq!(
        int(&db, "SELECT max(height) - min(height) + 1 FROM blocks").await,
        fin + 1
    );
    assert_eq!(int(&db, "SELECT height FROM indexer_state").await, fin);
    let t = rpc_totals(&mut rpc, fin).await;
    assert_eq!(t.txs, 24 + 2 * 2 + 1);
    assert_eq!(int(&db, "SELECT count(*) FROM transactions").await, t.txs);
    assert_eq!(int(&db, "SELECT sum(tx_count) FROM blocks").await, t.txs);
    assert_eq!(int(&db, "SELECT count(*) FROM events").await, t.events);
    assert_eq!(orphaned_events(&db).await, 0);
    assert_eq!(int(&db, "SELECT count(*) FROM receipts").await, t.claims);
    assert_eq!(t.claims, 2);
    // Sums of u128 amounts, through numeric.
    let sum = |sql: &'static str| text(&db, sql);
    assert_eq!(
        sum("SELECT sum(fee) FROM transactions").await,
        t.fees.to_string()
    );
    assert_eq!(
        sum("SELECT sum(minted) FROM receipts").await,
        t.minted.to_string()
    );
    assert_eq!(
        sum("SELECT sum(paid) FROM receipts").await,
        t.paid.to_string()
    );
    assert_eq!(
        int(&db, "SELECT sum(compute_units) FROM receipts").await,
        t.compute_units
    );
    // Each transaction row is the RPC's.
    let tx: Value = rpc.get_ok(&format!("/rpc/getTx/{last}")).await.unwrap();
    let row = db
        .query_one(
            "SELECT block_height, tx_index, signer, nonce, fee::text, success FROM transactions WHERE hash = $1",
            &[&last],
        )
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, i64>(0) as u64,
        tx["block_height"].as_u64().unwrap()
    );
    assert_eq!(row.get::<_, i32>(1) as u64, tx["index"].as_u64().unwrap());
    assert_eq!(row.get::<_, String>(2), tx["signer"].as_str().unwrap());
    assert_eq!(row.get::<_, i64>(3), 23);
    assert_eq!(row.get::<_, String>(4), tx["fee"].as_str().unwrap());
    assert!(row.get::<_, bool>(5));
    // Jobs as getJob answers them.
    for (job, status) in [(1, "claimed"), (2, "claimed"), (3, "open")] {
        let got = text(
            &db,
            &format!(
                "SELECT status FROM jobs WHERE client = '{}' AND job_id = {job}",
                bob.public()
            ),
        )
        .await;
        assert_eq!(got, status, "job {job}");
        let j = rpc
            .get_ok(&format!("/rpc/getJob/{}/{job}", bob.public()))
            .await
            .unwrap();
        assert_eq!(j["status"].as_str().unwrap().to_lowercase(), status, "{j}");
    }
    // The chain is quiet: every account row is getBalance's answer.
    let rows = db
        .query("SELECT address, balance::text, nonce FROM accounts", &[])
        .await
        .unwrap();
    assert!(rows.len() >= 7, "{} accounts", rows.len());
    for r in rows {
        let address: String = r.get(0);
        let b = rpc
            .get_ok(&format!("/rpc/getBalance/{address}"))
            .await
            .unwrap();
        assert_eq!(
            r.get::<_, String>(1),
            b["balance"].as_str().unwrap(),
            "{address}"
        );
        assert_eq!(
            r.get::<_, i64>(2) as u64,
            b["nonce"].as_u64().unwrap(),
            "{address}"
        );
    }
    let v = rpc.get_ok("/rpc/getValidators").await.unwrap();
    assert_eq!(
        int(&db, "SELECT count(*) FROM validators WHERE active").await as usize,
        v["validators"].as_array().unwrap().len()
    );

    // Following: a new transfer reaches the database once finalized.
    let follow = {
        let (url, target) = (url.clone(), pg.target.clone());
        tokio::spawn(async move {
            let config = aitbc_indexer::Config::new(&url, &target);
            aitbc_indexer::run(&config, &IndexerMetrics::default()).await
        })
    };
    let xt = transfer(&alice, &to[0], 77, 24, genesis);
    reaches_postgres(&mut rpc, &db, &xt, 10).await;
    // A second indexer on the same database is refused while this one writes.
    let second = index_until(&url, &pg.target, 0).await.unwrap_err();
    assert!(
        matches!(second, aitbc_indexer::IndexError::Locked),
        "{second}"
    );
    // A lost connection: PostgreSQL ends the indexer's session; it reconnects from its cursor
    // and goes on.
    let ended = int(
        &db,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE application_name = 'aitbc-indexer' AND datname = current_database()",
    )
    .await;
    assert_eq!(ended, 1);
    let xt = transfer(&alice, &to[1], 78, 25, genesis);
    reaches_postgres(&mut rpc, &db, &xt, 20).await;
    assert!(
        !follow.is_finished(),
        "the indexer stopped: {:?}",
        follow.await
    );
    let fin = settle(&mut rpc).await;
    wait_until(10, "the indexer at the head again", || {
        let db = &db;
        async move { (int(db, "SELECT height FROM indexer_state").await >= fin).then_some(()) }
    })
    .await;
    assert_eq!(
        int(&db, "SELECT count(*) FROM blocks").await,
        int(&db, "SELECT max(height) + 1 FROM blocks").await
    );
    follow.abort();
    let _ = follow.await;
    drop(db);
    node.stop().await;
    pg.drop_db().await;
}

/// Submits `xt`; returns its hash.
async fn send(
    rpc: &mut aitbc_rpc::http_client::HttpClient,
    xt: &aitbc_primitives::Extrinsic<Call>,
) -> String {
    let answer = rpc.post_ok("/rpc/sendTx", &tx_body(xt)).await.unwrap();
    answer["txHash"].as_str().unwrap().to_string()
}

/// Submits `xt`, waits until it is finalized, then until the indexer wrote it (`secs`).
async fn reaches_postgres(
    rpc: &mut aitbc_rpc::http_client::HttpClient,
    db: &tokio_postgres::Client,
    xt: &aitbc_primitives::Extrinsic<Call>,
    secs: u64,
) {
    let hash = send(rpc, xt).await;
    wait_tx(rpc, &hash, "finalized").await;
    let sql = format!("SELECT count(*) FROM transactions WHERE hash = '{hash}'");
    wait_until(secs, &format!("transaction {hash} in PostgreSQL"), || {
        let sql = sql.clone();
        async move { (int(db, &sql).await == 1).then_some(()) }
    })
    .await;
}

/// The indexer's cursor, -1 before it made its tables.
async fn cursor(db: &tokio_postgres::Client) -> i64 {
    match db.query_opt("SELECT height FROM indexer_state", &[]).await {
        Ok(Some(r)) => r.get::<_, i64>(0),
        _ => -1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_catching_up_leaves_no_gap_and_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(false), dir.path(), true)).await;
    let mut rpc = http(&node);
    let url = rpc.base_url();
    let genesis = node.client.genesis_hash();
    // Transfers from four senders, spread over some 40 blocks (a slot is 200 ms), so that the
    // catch-up below writes many small batches.
    let senders: Vec<_> = ["alice", "bob", "charlie", "dave"]
        .iter()
        .map(|n| dev_pair(n))
        .collect();
    let dest = dev_pair("ferdie").public();
    let mut last = String::new();
    const ROUNDS: u64 = 40;
    const PER_ROUND: u64 = 20;
    for round in 0..ROUNDS {
        for nonce in round * PER_ROUND..(round + 1) * PER_ROUND {
            for s in &senders {
                let xt = transfer(s, &dest, 1, nonce, genesis);
                last = send(&mut rpc, &xt).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(SLOT_MS)).await;
    }
    wait_tx(&mut rpc, &last, "finalized").await;
    let fin = settle(&mut rpc).await;
    let Totals { txs, events, .. } = rpc_totals(&mut rpc, fin).await;
    assert_eq!(txs, 4 * ROUNDS * PER_ROUND);

    let pg = TestDb::new().await;
    let index = |until: u64| {
        Command::new(env!("CARGO_BIN_EXE_aitbc-node"))
            .args(["index", "--rpc", &url, "--postgres", &pg.target])
            .args([
                "--until",
                &until.to_string(),
                "--batch-blocks",
                "1",
                "--fetchers",
                "1",
            ])
            .args(["--log", "warn"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let db = pg.client().await;
    let mut kills = Vec::new();
    let mut seed = 0x9e37_79b9u64;
    for _ in 0..6 {
        let mut child = index(fin);
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let wait = 60 + (seed >> 33) % 300;
        tokio::time::sleep(Duration::from_millis(wait)).await;
        if child.try_wait().unwrap().is_some() {
            // It finished before the kill: the catch-up is done.
            break;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let at = cursor(&db).await;
        // Whatever the moment, the tables hold exactly the blocks up to the cursor.
        if at >= 0 {
            assert_eq!(int(&db, "SELECT count(*) FROM blocks").await as i64, at + 1);
            assert_eq!(int(&db, "SELECT max(height) FROM blocks").await as i64, at);
        }
        kills.push(at);
    }
    assert!(
        kills.iter().any(|&h| h >= 0 && (h as u64) < fin),
        "no kill landed mid catch-up: cursors {kills:?} of {fin}"
    );
    let status = index(fin).wait().unwrap();
    assert!(status.success(), "the last run fails: {status}");
    assert_eq!(int(&db, "SELECT count(*) FROM blocks").await, fin + 1);
    assert_eq!(
        int(&db, "SELECT max(height) - min(height) + 1 FROM blocks").await,
        fin + 1
    );
    assert_eq!(int(&db, "SELECT count(*) FROM transactions").await, txs);
    assert_eq!(
        int(&db, "SELECT count(DISTINCT hash) FROM transactions").await,
        txs
    );
    assert_eq!(int(&db, "SELECT count(*) FROM events").await, events);
    assert_eq!(
        int(
            &db,
            &format!(
                "SELECT nonce FROM accounts WHERE address = '{}'",
                senders[0].public()
            )
        )
        .await,
        ROUNDS * PER_ROUND
    );
    drop(db);
    node.stop().await;
    pg.drop_db().await;
}

/// Runs `aitbc-node index ARGS`, which must fail: its stderr, and the lines of it that are not
/// info logs.
fn index_refused(args: &[&str]) -> (String, Vec<String>) {
    let out = Command::new(env!("CARGO_BIN_EXE_aitbc-node"))
        .arg("index")
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines = stderr
        .lines()
        .filter(|l| !l.contains(" INFO "))
        .map(str::to_string)
        .collect();
    (stderr, lines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_chains_database_and_an_unreachable_postgres_are_one_line_errors() {
    let pg = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let a = start(config(spec(false), dir.path(), true)).await;
    let mut rpc = http(&a);
    wait_height(&mut rpc, 2).await;
    index_until(&rpc.base_url(), &pg.target, 1).await.unwrap();
    a.stop().await;

    // Another chain: the dev spec with other slots has another genesis.
    let dir_b = tempfile::tempdir().unwrap();
    let mut other = spec(false);
    other.genesis.slot_duration_ms = SLOT_MS + 100;
    let b = start(config(other, dir_b.path(), true)).await;
    let url_b = http(&b).base_url();
    let err = index_until(&url_b, &pg.target, 1).await.unwrap_err();
    assert!(
        matches!(err, aitbc_indexer::IndexError::WrongChain { .. }),
        "{err}"
    );
    let (stderr, _) = index_refused(&["--rpc", &url_b, "--postgres", &pg.target, "--until", "1"]);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.contains("this database indexes chain"), "{stderr}");
    // Nothing of chain b was written.
    let db = pg.client().await;
    assert_eq!(int(&db, "SELECT height FROM indexer_state").await, 1);

    // A PostgreSQL nobody listens on: one line, at once.
    let port = free_port();
    let started = std::time::Instant::now();
    let unreachable = format!("host=127.0.0.1 port={port} user=x password=hunter2 dbname=x");
    let (stderr, lines) = index_refused(&["--rpc", &url_b, "--postgres", &unreachable]);
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("cannot reach PostgreSQL"), "{stderr}");
    assert!(
        !stderr.contains("hunter2"),
        "the password is printed: {stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // A connection string that does not parse: its own one line, naming the flag.
    let (stderr, lines) =
        index_refused(&["--rpc", &url_b, "--postgres", "host=/tmp port=notaport"]);
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("--postgres"), "{stderr}");
    drop(db);
    b.stop().await;
    pg.drop_db().await;
}
