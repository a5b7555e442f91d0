//! `aitbc-load`: the end-to-end throughput benchmark (Parity's sTPS method).
//!
//! 1. Funds N fresh accounts (`//bench/<i>`) with transfers from the dev accounts.
//! 2. In rounds, each account sends one pre-signed transfer per block: round r+1 is submitted as
//!    soon as round r is included, so no sender has two transactions in one block.
//! 3. Reports sustained finalized sTPS over the measured window (included transactions divided by
//!    the slot time between the window's first and last block), submit->finalized latency
//!    percentiles, and the node's RSS. The last line is one JSON object.

use aitbc_node::cli::http::HttpClient;
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{AccountId, Extrinsic, Hash, Pair};
use aitbc_runtime::Call;
use anyhow::{anyhow, Context};
use clap::Parser;
use codec::Encode;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(about = "End-to-end sTPS benchmark against a running node")]
struct Args {
    /// Node RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:9080")]
    rpc: String,
    /// Sending accounts (one transaction each per block).
    #[arg(long, default_value_t = 8000)]
    accounts: usize,
    /// Seconds to measure.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Concurrent HTTP connections used to submit.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// PID of the node, to report its RSS.
    #[arg(long)]
    node_pid: Option<u32>,
}

const FUNDERS: [&str; 6] = ["alice", "bob", "charlie", "dave", "eve", "ferdie"];
const FUND_AMOUNT: u128 = 1_000_000_000_000;

fn body(xt: &Extrinsic<Call>) -> Value {
    json!({ "tx": format!("0x{}", hex::encode(xt.encode())) })
}

fn transfer(
    from: &Pair,
    to: AccountId,
    amount: u128,
    nonce: u64,
    genesis: Hash,
) -> Extrinsic<Call> {
    let params = TxParams {
        nonce,
        ..TxParams::default()
    };
    Extrinsic::sign(from, Call::transfer(to, amount), params, genesis)
}

/// Submits each group over its own keep-alive connection, in order; returns (hash, submit time)
/// of the accepted transactions.
async fn submit_all(
    rpc: String,
    groups: Vec<Vec<(Hash, Value)>>,
) -> anyhow::Result<Vec<(Hash, Instant)>> {
    let mut tasks = Vec::new();
    for part in groups.into_iter().filter(|g| !g.is_empty()) {
        let mut http = HttpClient::new(&rpc)?;
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(part.len());
            let mut refused = 0usize;
            for (hash, b) in part {
                match http.post("/rpc/sendTx", &b).await {
                    Ok((200, _)) => out.push((hash, Instant::now())),
                    Ok((_, v)) => {
                        refused += 1;
                        if refused <= 3 {
                            eprintln!("refused: {v}");
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

/// Splits `items` into `n` nearly equal groups.
fn split<T>(mut items: Vec<T>, n: usize) -> Vec<Vec<T>> {
    let size = items.len().div_ceil(n.max(1)).max(1);
    let mut groups = Vec::new();
    while !items.is_empty() {
        let rest = items.split_off(size.min(items.len()));
        groups.push(std::mem::replace(&mut items, rest));
    }
    groups
}

async fn head(http: &mut HttpClient) -> anyhow::Result<Value> {
    http.get_ok("/rpc/getHead").await
}

fn rss_mib(pid: Option<u32>) -> f64 {
    let Some(pid) = pid else { return 0.0 };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut http = HttpClient::new(&args.rpc)?;
    let health = http
        .get_ok("/health")
        .await
        .context("is the node running?")?;
    let genesis = Hash::from_hex(health["genesis_hash"].as_str().unwrap_or_default())
        .map_err(|e| anyhow!("genesis hash: {e}"))?;
    eprintln!("signing {} accounts…", args.accounts);
    let accounts: Vec<Pair> = (0..args.accounts)
        .map(|i| Pair::from_uri(&format!("//bench//{i}")).expect("valid uri"))
        .collect();

    // Fund: each funder sends its share in nonce order, a pool-sized batch per block.
    eprintln!(
        "funding {} accounts from {} dev accounts…",
        accounts.len(),
        FUNDERS.len()
    );
    let funders: Vec<Pair> = FUNDERS.iter().map(|n| dev_pair(n)).collect();
    let mut next: Vec<u64> = Vec::new();
    for f in &funders {
        let v = http
            .get_ok(&format!("/rpc/getBalance/{}", f.public()))
            .await?;
        next.push(v["next_nonce"].as_u64().unwrap_or(0));
    }
    let mut todo: Vec<usize> = (0..accounts.len()).collect();
    let mut last_hashes = Vec::new();
    while !todo.is_empty() {
        // One group (connection) per funder, so each funder's nonces arrive in order (the pool
        // caps transactions waiting behind a nonce gap).
        let mut groups = Vec::new();
        for (fi, f) in funders.iter().enumerate() {
            let mut group = Vec::new();
            for _ in 0..200 {
                let Some(i) = todo.pop() else { break };
                let xt = transfer(f, accounts[i].public(), FUND_AMOUNT, next[fi], genesis);
                next[fi] += 1;
                group.push((xt.hash(), body(&xt)));
            }
            groups.push(group);
        }
        last_hashes = submit_all(args.rpc.clone(), groups).await?;
        // Wait for this batch before the next (per-sender pool limit).
        if let Some((h, _)) = last_hashes.last() {
            wait_status(&mut http, h, "finalized", Duration::from_secs(60)).await?;
        }
    }
    for (h, _) in &last_hashes {
        wait_status(&mut http, h, "finalized", Duration::from_secs(60)).await?;
    }

    // Slot length from a produced block (genesis has slot 0).
    let slot_ms = {
        let h = head(&mut http).await?;
        let slot = h["slot"]
            .as_u64()
            .filter(|s| *s > 0)
            .ok_or_else(|| anyhow!("no block produced yet"))?;
        (h["timestamp_ms"].as_u64().unwrap_or(0) / slot).max(1)
    };
    eprintln!("pre-signing rounds…");
    let rounds = (args.duration * 1000 / slot_ms + 4) as usize;
    let mut presigned: Vec<Vec<(Hash, Value)>> = Vec::with_capacity(rounds);
    for r in 0..rounds {
        presigned.push(
            accounts
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let to = accounts[(i + 1) % accounts.len()].public();
                    let xt = transfer(a, to, 1, r as u64, genesis);
                    (xt.hash(), body(&xt))
                })
                .collect(),
        );
    }

    eprintln!("flooding for {} s…", args.duration);
    let start_head = head(&mut http).await?["height"].as_u64().unwrap_or(0);
    let started = Instant::now();
    let mut submitted: HashMap<Hash, Instant> = HashMap::new();
    let mut latencies: Vec<f64> = Vec::new();
    let mut seen_height = start_head;
    let mut first_block: Option<u64> = None;
    let mut last_block = start_head;
    let mut included_in_window = 0usize;
    let mut window_slots: (u64, u64) = (0, 0);
    let mut rss_peak: f64 = 0.0;
    let mut round = presigned.into_iter();
    let mut pending_round = 0usize;
    let mut in_flight = round
        .next()
        .map(|r| tokio::spawn(submit_all(args.rpc.clone(), split(r, args.connections))));
    while started.elapsed() < Duration::from_secs(args.duration) {
        if let Some(task) = in_flight.take() {
            for (h, t) in task.await?? {
                submitted.insert(h, t);
                pending_round += 1;
            }
        }
        // Follow new finalized blocks.
        let h = head(&mut http).await?;
        let fin = h["finalized_height"].as_u64().unwrap_or(0);
        while seen_height < fin {
            seen_height += 1;
            let b = http.get_ok(&format!("/rpc/getBlock/{seen_height}")).await?;
            let now = Instant::now();
            let mut n = 0;
            for tx in b["transactions"].as_array().into_iter().flatten() {
                let Some(hash) = tx.as_str().and_then(|s| Hash::from_hex(s).ok()) else {
                    continue;
                };
                if let Some(t) = submitted.remove(&hash) {
                    latencies.push(now.duration_since(t).as_secs_f64() * 1000.0);
                    n += 1;
                }
            }
            if n > 0 {
                let slot = b["slot"].as_u64().unwrap_or(0);
                if first_block.is_none() {
                    first_block = Some(seen_height);
                    window_slots.0 = slot;
                } else {
                    included_in_window += n;
                }
                window_slots.1 = slot;
                last_block = seen_height;
                pending_round = pending_round.saturating_sub(n);
            }
        }
        rss_peak = rss_peak.max(rss_mib(args.node_pid));
        if pending_round == 0 {
            in_flight = round
                .next()
                .map(|r| tokio::spawn(submit_all(args.rpc.clone(), split(r, args.connections))));
        } else {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    let secs = (window_slots.1.saturating_sub(window_slots.0)) as f64 * slot_ms as f64 / 1000.0;
    let stps = if secs > 0.0 {
        included_in_window as f64 / secs
    } else {
        0.0
    };
    println!("| metric | value |\n|---|---|");
    println!("| accounts | {} |", args.accounts);
    println!(
        "| blocks | #{} .. #{} |",
        first_block.unwrap_or(0),
        last_block
    );
    println!("| finalized txs in window | {included_in_window} |");
    println!("| sustained sTPS | {stps:.0} |");
    println!(
        "| submit->finalized p50 / p99 | {:.0} ms / {:.0} ms |",
        pct(0.5),
        pct(0.99)
    );
    println!("| node RSS (peak) | {rss_peak:.0} MiB |");
    println!(
        "{}",
        json!({ "stps": stps.round(), "p50_ms": pct(0.5).round(), "p99_ms": pct(0.99).round(), "rss_mib": rss_peak.round(),
                "first_block": first_block.unwrap_or(0), "last_block": last_block, "txs": included_in_window, "accounts": args.accounts })
    );
    Ok(())
}

async fn wait_status(
    http: &mut HttpClient,
    hash: &Hash,
    status: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let (code, v) = http.get(&format!("/rpc/getTx/{hash}")).await?;
        if code == 200 && v["status"] == status {
            return Ok(());
        }
        if code == 200 && v["status"] == "dropped" {
            return Err(anyhow!(
                "funding transaction {hash} dropped: {}",
                v["error"]
            ));
        }
        if Instant::now() > deadline {
            return Err(anyhow!("timed out waiting for {hash}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
