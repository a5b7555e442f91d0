//! `aitbc-load`: the end-to-end throughput benchmark.
//!
//! `--mode transfers` (default; Parity's sTPS method):
//! 1. Funds N fresh accounts (`//bench//<i>`) with transfers from the dev accounts.
//! 2. Each account sends one pre-signed transfer at a time: its next one is submitted as soon
//!    as the block holding its last one is read (best or finalized), so no sender has two
//!    transactions in one block, and the pool always holds the other senders' transfers for
//!    the next block (no account waits for a whole round to be included). Each pays its
//!    neighbour, or with `--recipients N` a uniformly random one of the first N accounts that
//!    `scripts/big_spec.py` endows (a flood that touches a large state all over).
//! 3. Reports sustained finalized sTPS over the measured window (finalized transactions divided
//!    by the slot time between the window's first and last block), submit->finalized latency
//!    percentiles, the node's RSS and how many submissions were refused. The last line is one
//!    JSON object.
//!
//! The latency and the rate count finalized blocks only.
//!
//! Several `--rpc` URLs (comma-separated or repeated; a network's nodes) spread the submissions:
//! connection i goes to URL i mod n, and each sender always uses the same connection, so its
//! nonces arrive in order at one node. Funding, heads and blocks are read from the first URL.
//!
//! `--mode claims`: the compute-receipt path.
//! 1. Funds N accounts (`//bench//claims//<i>`) the same way; each opens K job escrows with
//!    //coordinator (the dev spec's registered coordinator), all finalized before the flood.
//! 2. Pre-signs one claim per escrow: account i is the miner of account i+1's jobs; it signs the
//!    receipt as miner and the transaction, and the attestation is made locally with the
//!    //coordinator dev key by `ComputeReceipt::attest`, the function the mock coordinator uses.
//! 3. Floods `/rpc/submitReceipt` over `--connections` keep-alive connections (each sender on one
//!    connection, so its nonces arrive in order), keeping at most `--max-in-flight` claims
//!    submitted but not yet finalized, and reports finalized claims/s over the window the same
//!    way (plus a check that a sample of the claims succeeded).
//!
//! `--mode reads`: RPC read throughput. Opens `--connections` keep-alive HTTP/1.1 connections
//! and on each sends `GET /rpc/getBalance/{address}` back to back (one request in flight per
//! connection) over random funded addresses (`//bench//<i>`, i < `--accounts`, funded first if
//! they are not; or the claims accounts when those are the funded ones) for `--duration`
//! seconds after a one-second warm-up. Reports requests/s, latency p50/p99 and the node's CPU.
//! The client is a minimal HTTP/1.1 writer/reader (no JSON parsing of the answers; the status
//! line must be 200) so it takes as little of the shared cores as it can.
//!
//! In every mode the JSON line also carries `blocks_per_s` (finalized blocks per second of slot
//! time in the window) and `cpu_pct` (the nodes' user+system CPU over the measured wall time, %
//! of one core, from /proc/PID/stat).

use aitbc_benches::fixture::transfer;
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{ComputeReceipt, ReceiptClaim};
use aitbc_primitives::{Extrinsic, Hash, Pair};
use aitbc_rpc::http_client::HttpClient;
use aitbc_runtime::Call;
use anyhow::{anyhow, Context};
use clap::{Parser, ValueEnum};
use codec::Encode;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Debug, Parser)]
#[command(
    about = "End-to-end throughput benchmark (transfers or compute-receipt claims) against a running node"
)]
struct Args {
    /// What to send: signed transfers, or compute-receipt claims of pre-opened escrows.
    #[arg(long, value_enum, default_value_t = Mode::Transfers)]
    mode: Mode,
    /// Node RPC URLs (comma-separated or repeated): submissions are spread over them; the
    /// first one is followed for blocks and used for funding.
    #[arg(long, value_delimiter = ',', num_args = 1.., default_value = "http://127.0.0.1:9080")]
    rpc: Vec<String>,
    /// Sending accounts (transfers, default 20,000: one transaction each per block, about two
    /// full blocks' worth; claims, default 8,000: miners, each also the client of its
    /// neighbour's escrows; reads: the funded accounts to read).
    #[arg(long)]
    accounts: Option<usize>,
    /// Seconds to measure.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Concurrent HTTP connections used to submit (at least one per --rpc URL); reads mode:
    /// keep-alive connections hammering getBalance (default 64 there).
    #[arg(long)]
    connections: Option<usize>,
    /// PIDs of the nodes (comma-separated or repeated), to report the largest RSS.
    #[arg(long, value_delimiter = ',')]
    node_pid: Vec<u32>,
    /// Claims mode: escrows each account opens (default: enough for 6000 claims/s over the
    /// duration).
    #[arg(long)]
    escrows_per_account: Option<usize>,
    /// Claims mode: most claims (or escrow openings) submitted and not yet finalized.
    #[arg(long, default_value_t = 12_000)]
    max_in_flight: usize,
    /// Transfers mode: each transfer goes to a uniformly random one of the first N accounts
    /// `scripts/big_spec.py` endows (blake2b-256 of i as u64 little-endian), so the flood
    /// touches a large state all over; without it each sender pays its neighbour.
    #[arg(long)]
    recipients: Option<u64>,
    /// Seed of the --recipients draw (the same seed gives the same recipients).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

impl Args {
    /// `--connections` after `main` resolved its default.
    fn connections(&self) -> usize {
        self.connections.unwrap_or(8).max(1)
    }

    /// `--accounts`, or the mode's default.
    fn accounts(&self) -> usize {
        let default = match self.mode {
            Mode::Transfers => 20_000,
            Mode::Claims | Mode::Reads => 8_000,
        };
        self.accounts.unwrap_or(default)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Transfers,
    Claims,
    /// `GET /rpc/getBalance` throughput over keep-alive connections.
    Reads,
}

/// Claims per second the default number of escrows is sized for.
const CLAIMS_RATE_CEILING: u64 = 6_000;
/// What each escrow locks, and what its claim is priced at and mints for.
const ESCROW_PRICE: u128 = 1_000;
const CLAIM_PRICE: u128 = 800;
const CLAIM_UNITS: u64 = 5;
/// Escrow lifetime in blocks: far beyond any run.
const ESCROW_LIFETIME: u64 = 100_000;

const FUNDERS: [&str; 6] = ["alice", "bob", "charlie", "dave", "eve", "ferdie"];
const FUND_AMOUNT: u128 = 1_000_000_000_000;

fn body(xt: &Extrinsic<Call>) -> Value {
    json!({ "tx": format!("0x{}", hex::encode(xt.encode())) })
}

/// Submits each group over its own keep-alive connection (group i to `rpcs[i % n]`), in order;
/// returns (hash, submit time) of the accepted transactions.
async fn submit_all(
    rpcs: Vec<String>,
    groups: Vec<Vec<(Hash, Value)>>,
) -> anyhow::Result<Vec<(Hash, Instant)>> {
    let mut tasks = Vec::new();
    for (i, part) in groups.into_iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        let mut http = HttpClient::new(&rpcs[i % rpcs.len()])?;
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
            Ok::<_, aitbc_rpc::http_client::HttpError>(out)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

async fn head(http: &mut HttpClient) -> anyhow::Result<Value> {
    Ok(http.get_ok("/rpc/getHead").await?)
}

/// The largest RSS of `pids`, MiB.
fn rss_mib(pids: &[u32]) -> f64 {
    pids.iter().map(|p| rss_one(*p)).fold(0.0, f64::max)
}

/// CPU seconds (user + system) `pids` used so far, together.
fn cpu_secs(pids: &[u32]) -> f64 {
    // /proc/PID/stat: fields 14 and 15 (utime, stime) in clock ticks, counted after the
    // parenthesised command name. USER_HZ is 100 on Linux.
    pids.iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).ok())
        .filter_map(|stat| {
            let rest = stat.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?)
        })
        .sum::<f64>()
        / 100.0
}

fn rss_one(pid: u32) -> f64 {
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
    let mut args = Args::parse();
    if args.rpc.is_empty() {
        return Err(anyhow!("--rpc: give at least one URL"));
    }
    let default_connections = if args.mode == Mode::Reads { 64 } else { 8 };
    args.connections = Some(
        args.connections
            .unwrap_or(default_connections)
            .max(args.rpc.len()),
    );
    let mut http = HttpClient::new(&args.rpc[0])?;
    let health = http
        .get_ok("/health")
        .await
        .context("is the node running?")?;
    let genesis = Hash::from_hex(health["genesis_hash"].as_str().unwrap_or_default())
        .map_err(|e| anyhow!("genesis hash: {e}"))?;
    match args.mode {
        Mode::Transfers => transfers(&args, http, genesis).await,
        Mode::Claims => claims(&args, http, genesis).await,
        Mode::Reads => reads::run(&args, http, genesis).await,
    }
}

/// Funds `accounts` with `FUND_AMOUNT` each from the dev accounts and waits until finalized.
async fn fund(
    http: &mut HttpClient,
    rpc: &[String],
    genesis: Hash,
    accounts: &[Pair],
) -> anyhow::Result<()> {
    // Each funder sends its share in nonce order, a pool-sized batch per block.
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
        last_hashes = submit_all(rpc[..1].to_vec(), groups).await?;
        // Wait for this batch before the next (per-sender pool limit).
        if let Some((h, _)) = last_hashes.last() {
            wait_status(http, h, "finalized", Duration::from_secs(60)).await?;
        }
    }
    for (h, _) in &last_hashes {
        wait_status(http, h, "finalized", Duration::from_secs(60)).await?;
    }
    Ok(())
}

/// The transaction hashes of a `getBlock` answer.
fn block_txs(b: &Value) -> impl Iterator<Item = Hash> + '_ {
    b["transactions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|tx| tx.as_str().and_then(|s| Hash::from_hex(s).ok()))
}

/// The slot length, from a produced block (genesis has slot 0).
async fn slot_ms(http: &mut HttpClient) -> anyhow::Result<u64> {
    let h = head(http).await?;
    let slot = h["slot"]
        .as_u64()
        .filter(|s| *s > 0)
        .ok_or_else(|| anyhow!("no block produced yet"))?;
    Ok((h["timestamp_ms"].as_u64().unwrap_or(0) / slot).max(1))
}

/// The transfer flood's submitters: one keep-alive connection per lane (lane i to
/// `--rpc[i mod n]`), sender s always on lane s mod lanes, so its nonces arrive in order at one
/// node. Records when each accepted transaction was submitted.
struct Lanes {
    queues: Vec<tokio::sync::mpsc::UnboundedSender<(Hash, Value)>>,
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
    submitted: Arc<Mutex<HashMap<Hash, Instant>>>,
    refused: Arc<AtomicUsize>,
}

impl Lanes {
    fn start(args: &Args) -> anyhow::Result<Lanes> {
        let submitted: Arc<Mutex<HashMap<Hash, Instant>>> = Arc::default();
        let refused = Arc::new(AtomicUsize::new(0));
        let (mut queues, mut tasks) = (Vec::new(), Vec::new());
        for i in 0..args.connections() {
            let (queue, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Hash, Value)>();
            let mut http = HttpClient::new(&args.rpc[i % args.rpc.len()])?;
            let (submitted, refused) = (submitted.clone(), refused.clone());
            tasks.push(tokio::spawn(async move {
                while let Some((hash, body)) = rx.recv().await {
                    lock(&submitted).insert(hash, Instant::now());
                    let (status, v) = http.post("/rpc/sendTx", &body).await?;
                    if status != 200 {
                        lock(&submitted).remove(&hash);
                        if refused.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("refused: {status} {v}");
                        }
                    }
                }
                Ok(())
            }));
            queues.push(queue);
        }
        Ok(Lanes {
            queues,
            tasks,
            submitted,
            refused,
        })
    }

    fn send(&self, sender: usize, hash: Hash, body: Value) {
        // A lane that ended failed: `stop` reports its error.
        let _ = self.queues[sender % self.queues.len()].send((hash, body));
    }

    /// When `hash` was submitted, if it is ours and not yet reported.
    fn finalized(&self, hash: &Hash) -> Option<Instant> {
        lock(&self.submitted).remove(hash)
    }

    /// Stops submitting; returns how many transactions the node refused, or the error that
    /// ended a lane (a lost connection).
    async fn stop(self) -> anyhow::Result<usize> {
        for t in &self.tasks {
            t.abort();
        }
        for t in self.tasks {
            if let Ok(Err(e)) = t.await {
                return Err(e.context("submitting transfers"));
            }
        }
        Ok(self.refused.load(Ordering::Relaxed))
    }
}

/// Each account's next nonce (a chain benchmarked before has used some).
async fn next_nonces(http: &mut HttpClient, accounts: &[Pair]) -> anyhow::Result<Vec<u64>> {
    let mut nonces = Vec::with_capacity(accounts.len());
    for a in accounts {
        let v = http
            .get_ok(&format!("/rpc/getBalance/{}", a.public()))
            .await?;
        nonces.push(v["next_nonce"].as_u64().unwrap_or(0));
    }
    Ok(nonces)
}

/// `--mode transfers`: see the module docs.
async fn transfers(args: &Args, mut http: HttpClient, genesis: Hash) -> anyhow::Result<()> {
    eprintln!("signing {} accounts…", args.accounts());
    let accounts: Vec<Pair> = (0..args.accounts())
        .map(|i| Pair::from_uri(&format!("//bench//{i}")).expect("valid uri"))
        .collect();
    fund(&mut http, &args.rpc, genesis, &accounts).await?;
    let nonces = next_nonces(&mut http, &accounts).await?;
    let slot_ms = slot_ms(&mut http).await?;
    let rounds = (args.duration * 1000 / slot_ms + 4) as usize;
    let mut presigned = Rounds::sign(args, accounts.clone(), nonces, genesis, rounds);
    eprintln!("flooding for {} s…", args.duration);
    let lanes = Lanes::start(args)?;
    let mut out_round = vec![0usize; accounts.len()];
    let release = |sender: usize, round: usize, presigned: &mut Rounds| {
        if let Some((hash, body)) = presigned.take(sender, round) {
            lanes.send(sender, hash, body);
        }
    };
    let h = head(&mut http).await?;
    let started = Instant::now();
    for s in 0..accounts.len() {
        release(s, 0, &mut presigned);
    }
    let mut latencies: Vec<f64> = Vec::new();
    let mut seen_best = h["height"].as_u64().unwrap_or(0);
    let mut seen_fin = h["finalized_height"].as_u64().unwrap_or(0);
    let mut first_block: Option<u64> = None;
    let mut last_block = seen_fin;
    let mut included_in_window = 0usize;
    let mut window_slots: (u64, u64) = (0, 0);
    let mut rss_peak: f64 = 0.0;
    let cpu_start = cpu_secs(&args.node_pid);
    // A sender's next transfer goes out when its last one is in a block: the first time that
    // block is read, as best or as finalized (a block replaced by a reorg is not re-read: its
    // transactions are in the new chain soon, and the next ones wait in the pool meanwhile).
    let mut included = |hash: &Hash, presigned: &mut Rounds| {
        if let Some((s, r)) = presigned.included(hash) {
            if out_round[s] == r {
                out_round[s] = r + 1;
                release(s, r + 1, presigned);
            }
        }
    };
    while started.elapsed() < Duration::from_secs(args.duration) {
        let h = head(&mut http).await?;
        let best = h["height"].as_u64().unwrap_or(0);
        let fin = h["finalized_height"].as_u64().unwrap_or(0);
        if best > seen_best && best > fin {
            for n in seen_best.max(fin) + 1..=best {
                let b = http.get_ok(&format!("/rpc/getBlock/{n}")).await?;
                for hash in block_txs(&b) {
                    included(&hash, &mut presigned);
                }
            }
        }
        seen_best = seen_best.max(best);
        // New finalized blocks: latency and the measured window.
        while seen_fin < fin {
            seen_fin += 1;
            let b = http.get_ok(&format!("/rpc/getBlock/{seen_fin}")).await?;
            let now = Instant::now();
            let mut n = 0;
            for hash in block_txs(&b) {
                included(&hash, &mut presigned);
                if let Some(t) = lanes.finalized(&hash) {
                    latencies.push(now.duration_since(t).as_secs_f64() * 1000.0);
                    n += 1;
                }
            }
            if n > 0 {
                let slot = b["slot"].as_u64().unwrap_or(0);
                if first_block.is_none() {
                    first_block = Some(seen_fin);
                    window_slots.0 = slot;
                } else {
                    included_in_window += n;
                }
                window_slots.1 = slot;
                last_block = seen_fin;
            }
        }
        rss_peak = rss_peak.max(rss_mib(&args.node_pid));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = lanes.stop().await?;
    Report {
        mode: Mode::Transfers,
        accounts: args.accounts(),
        first_block: first_block.unwrap_or(0),
        last_block,
        included: included_in_window,
        secs: window_slots.1.saturating_sub(window_slots.0) as f64 * slot_ms as f64 / 1000.0,
        latencies,
        rss_peak,
        extra: json!({ "nodes": args.rpc.len(), "refused": refused, "recipients": args.recipients,
                       "node_cpu_s": cpu_used(&args.node_pid, cpu_start),
                       "flood_s": round2(started.elapsed().as_secs_f64()) }),
    }
    .print();
    Ok(())
}

/// The flood's transfers in rounds (round r: each sender's r-th transfer, in sender order),
/// signed ahead by a thread. A flood of up to [`PRESIGN_ROUNDS`] rounds is signed whole before
/// it starts (no signing shares the cores with the node during the measurement); a longer one
/// (a soak) keeps [`LOOKAHEAD_ROUNDS`] signed ahead, and a round's memory is freed once every
/// sender has passed it.
struct Rounds {
    incoming: std::sync::mpsc::Receiver<Vec<(Hash, Value)>>,
    /// Round `first + i` is `held[i]` (`None` once its transfer went out).
    held: std::collections::VecDeque<Vec<Option<(Hash, Value)>>>,
    first: usize,
    /// Which sender and round each transfer not yet seen in a block is.
    origin: HashMap<Hash, (usize, usize)>,
    /// How many senders' transfers of each held round were not yet seen in a block.
    left: std::collections::VecDeque<usize>,
    /// The newest round a transfer was taken from.
    newest: usize,
}

/// Floods of at most this many rounds are signed whole before they start.
const PRESIGN_ROUNDS: usize = 128;
/// Rounds kept signed ahead in a longer flood.
const LOOKAHEAD_ROUNDS: usize = 32;

impl Rounds {
    fn sign(
        args: &Args,
        accounts: Vec<Pair>,
        nonces: Vec<u64>,
        genesis: Hash,
        rounds: usize,
    ) -> Rounds {
        let ahead = if rounds <= PRESIGN_ROUNDS {
            rounds
        } else {
            LOOKAHEAD_ROUNDS
        };
        let (tx, incoming) = std::sync::mpsc::sync_channel(ahead);
        let (recipients, seed) = (args.recipients, args.seed);
        std::thread::spawn(move || {
            let mut draw = SplitMix64(seed);
            for r in 0..rounds {
                let round = accounts
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        let to = match recipients {
                            Some(n) => big_spec_account(draw.below(n)),
                            None => accounts[(i + 1) % accounts.len()].public(),
                        };
                        let xt = transfer(a, to, 1, nonces[i] + r as u64, genesis);
                        (xt.hash(), body(&xt))
                    })
                    .collect();
                if tx.send(round).is_err() {
                    return; // the flood ended
                }
            }
        });
        let mut this = Rounds {
            incoming,
            held: Default::default(),
            first: 0,
            origin: HashMap::new(),
            left: Default::default(),
            newest: 0,
        };
        eprintln!("pre-signing {ahead} of {rounds} rounds…");
        for _ in 0..ahead {
            this.receive();
        }
        this
    }

    /// Takes the next signed round from the signer (waiting for it); false once it is done.
    fn receive(&mut self) -> bool {
        let Ok(round) = self.incoming.recv() else {
            return false;
        };
        let r = self.first + self.held.len();
        self.origin
            .extend(round.iter().enumerate().map(|(s, (h, _))| (*h, (s, r))));
        self.left.push_back(round.len());
        self.held.push_back(round.into_iter().map(Some).collect());
        true
    }

    /// Sender `sender`'s transfer of round `round` (none past the flood's rounds).
    fn take(&mut self, sender: usize, round: usize) -> Option<(Hash, Value)> {
        while round >= self.first + self.held.len() {
            if !self.receive() {
                return None;
            }
        }
        self.newest = self.newest.max(round);
        self.held[round.checked_sub(self.first)?][sender].take()
    }

    /// Which sender and round `hash` is, the first time one of ours is seen in a block. A
    /// round is dropped once every sender's transfer of it was seen, or when it is far behind
    /// the newest (a sender whose transfer was refused never moves on).
    fn included(&mut self, hash: &Hash) -> Option<(usize, usize)> {
        let (s, r) = self.origin.remove(hash)?;
        if let Some(left) = r.checked_sub(self.first).and_then(|i| self.left.get_mut(i)) {
            *left -= 1;
        }
        while self.held.len() > 1
            && (self.left.front() == Some(&0) || self.first + 2 * LOOKAHEAD_ROUNDS < self.newest)
        {
            self.left.pop_front();
            for (h, _) in self.held.pop_front().into_iter().flatten().flatten() {
                self.origin.remove(&h);
            }
            self.first += 1;
        }
        Some((s, r))
    }
}

/// Account `i` of `scripts/big_spec.py`: blake2b-256 of `i` as u64 little-endian.
fn big_spec_account(i: u64) -> aitbc_primitives::AccountId {
    aitbc_primitives::AccountId(aitbc_primitives::blake2_256(&i.to_le_bytes()))
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small seeded generator for the recipient draw.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift: each value's odds are off by under n / 2^64).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
}

/// CPU seconds `pids` used since `start` (JSON null without PIDs).
fn cpu_used(pids: &[u32], start: f64) -> Value {
    if pids.is_empty() {
        return Value::Null;
    }
    json!(round2(cpu_secs(pids) - start))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// What a measured run found.
struct Report {
    mode: Mode,
    accounts: usize,
    first_block: u64,
    last_block: u64,
    /// Our transactions finalized in the window (after its first block).
    included: usize,
    /// Slot time from the window's first to its last block.
    secs: f64,
    /// Submit -> finalized, ms.
    latencies: Vec<f64>,
    rss_peak: f64,
    /// More fields for the JSON line.
    extra: Value,
}

impl Report {
    /// Prints the table, then the JSON line.
    fn print(mut self) {
        self.latencies.sort_by(|a, b| a.total_cmp(b));
        let l = &self.latencies;
        let pct = |p: f64| {
            l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0.0)
        };
        let rate = if self.secs > 0.0 {
            self.included as f64 / self.secs
        } else {
            0.0
        };
        let (what, rate_name) = match self.mode {
            Mode::Claims => ("claims", "sustained claims/s"),
            Mode::Transfers | Mode::Reads => ("txs", "sustained sTPS"),
        };
        let blocks_per_s = if self.secs > 0.0 {
            self.last_block.saturating_sub(self.first_block) as f64 / self.secs
        } else {
            0.0
        };
        let cpu_pct = match (
            self.extra["node_cpu_s"].as_f64(),
            self.extra["flood_s"].as_f64(),
        ) {
            (Some(cpu), Some(secs)) if secs > 0.0 => Some(100.0 * cpu / secs),
            _ => None,
        };
        println!("| metric | value |\n|---|---|");
        println!("| accounts | {} |", self.accounts);
        println!("| blocks | #{} .. #{} |", self.first_block, self.last_block);
        println!("| finalized {what} in window | {} |", self.included);
        println!("| {rate_name} | {rate:.0} |");
        println!(
            "| submit->finalized p50 / p99 | {:.0} ms / {:.0} ms |",
            pct(0.5),
            pct(0.99)
        );
        println!("| finalized blocks/s (slot time) | {blocks_per_s:.2} |");
        println!("| node RSS (peak) | {:.0} MiB |", self.rss_peak);
        if let (Some(cpu), Some(secs)) = (
            self.extra["node_cpu_s"].as_f64(),
            self.extra["flood_s"].as_f64(),
        ) {
            println!(
                "| nodes' CPU during the flood | {cpu:.1} s in {secs:.1} s ({:.0}% of one core) |",
                100.0 * cpu / secs.max(0.001)
            );
        }
        let mut out = json!({ "stps": rate.round(), "p50_ms": pct(0.5).round(), "p99_ms": pct(0.99).round(),
            "rss_mib": self.rss_peak.round(), "first_block": self.first_block, "last_block": self.last_block,
            "txs": self.included, "accounts": self.accounts,
            "blocks_per_s": round2(blocks_per_s), "cpu_pct": cpu_pct.map(|c| c.round()),
            "finalized_total": self.latencies.len() });
        if self.mode == Mode::Claims {
            out["mode"] = json!("claims");
            out["claims_per_s"] = json!(rate.round());
        }
        if let (Some(o), Some(extra)) = (out.as_object_mut(), self.extra.as_object()) {
            o.extend(extra.clone());
        }
        println!("{out}");
    }
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

/// One pre-signed transaction: its hash and the request body.
type Signed = (Hash, Value);

/// `--mode claims`: see the module docs.
async fn claims(args: &Args, mut http: HttpClient, genesis: Hash) -> anyhow::Result<()> {
    let n = args.accounts().max(2);
    let accounts: Vec<Pair> = (0..n)
        .map(|i| Pair::from_uri(&format!("//bench//claims//{i}")).expect("valid uri"))
        .collect();
    fund(&mut http, &args.rpc, genesis, &accounts).await?;
    let slot_ms = slot_ms(&mut http).await?;
    let k = args.escrows_per_account.unwrap_or_else(|| {
        let claims = CLAIMS_RATE_CEILING * (args.duration + 2 * slot_ms.div_ceil(1000));
        (claims as usize).div_ceil(n).max(1)
    });
    // Job ids are the opening transaction's nonce + 1: unique per client even on a chain that
    // ran this before (nonces only grow).
    let nonces = next_nonces(&mut http, &accounts).await?;
    eprintln!("signing {} escrows and their claims…", n * k);
    let (opens, claims) = sign_claims(&accounts, &nonces, k, genesis);

    eprintln!("opening {} escrows…", n * k);
    let t = Instant::now();
    let opened = pump(args, "/rpc/sendTx", opens, None).await?;
    eprintln!(
        "opened {} escrows in {:.1} s ({} refused)",
        opened.finalized,
        t.elapsed().as_secs_f64(),
        opened.refused
    );
    if opened.refused > 0 || opened.lost > 0 {
        return Err(anyhow!(
            "{} escrow openings refused, {} lost",
            opened.refused,
            opened.lost
        ));
    }

    eprintln!("flooding claims for {} s…", args.duration);
    let (cpu_start, started) = (cpu_secs(&args.node_pid), Instant::now());
    let flood = pump(args, "/rpc/submitReceipt", claims, Some(args.duration)).await?;
    if flood.ran_out {
        eprintln!(
            "warning: every pre-signed claim was used before the end; raise --escrows-per-account"
        );
    }
    // A claim that entered a block but failed would still count: check a sample succeeded.
    let mut failed = 0usize;
    for h in flood.sample.iter().take(50) {
        let v = http.get_ok(&format!("/rpc/getTx/{h}")).await?;
        if v["success"] != true {
            failed += 1;
            if failed <= 3 {
                eprintln!("claim {h} failed: {}", v["error"]);
            }
        }
    }
    Report {
        mode: Mode::Claims,
        accounts: n,
        first_block: flood.first_block,
        last_block: flood.last_block,
        included: flood.included,
        secs: flood.window_slots as f64 * slot_ms as f64 / 1000.0,
        latencies: flood.latencies,
        rss_peak: flood.rss_peak,
        extra: json!({ "refused": flood.refused, "sample_failed": failed,
                       "escrows_opened": opened.finalized, "slot_ms": slot_ms,
                       "nodes": args.rpc.len(),
                       "node_cpu_s": cpu_used(&args.node_pid, cpu_start),
                       "flood_s": round2(started.elapsed().as_secs_f64()) }),
    }
    .print();
    if failed > 0 {
        return Err(anyhow!("{failed} sampled claims failed"));
    }
    Ok(())
}

/// Signs, per account, `k` escrow openings and `k` claims (in nonce order), on all cores.
/// Account i opens jobs `nonces[i] + 1 ..= nonces[i] + k` and mines account i+1's jobs.
fn sign_claims(
    accounts: &[Pair],
    nonces: &[u64],
    k: usize,
    genesis: Hash,
) -> (Vec<Vec<Signed>>, Vec<Vec<Signed>>) {
    let n = accounts.len();
    let coordinator = dev_pair("coordinator");
    let sign_one = |i: usize| {
        let me = &accounts[i];
        let (client, client_nonce) = (&accounts[(i + 1) % n], nonces[(i + 1) % n]);
        let mut opens = Vec::with_capacity(k);
        let mut claims = Vec::with_capacity(k);
        for r in 0..k as u64 {
            let call = Call::open_job(
                nonces[i] + r + 1,
                coordinator.public(),
                ESCROW_PRICE,
                ESCROW_LIFETIME,
            );
            let xt = signed(me, call, nonces[i] + r, genesis);
            opens.push((xt.hash(), body(&xt)));
            let receipt = ComputeReceipt {
                job_id: client_nonce + r + 1,
                client: client.public(),
                miner: me.public(),
                coordinator: coordinator.public(),
                compute_units: CLAIM_UNITS,
                price: CLAIM_PRICE,
                output_hash: Hash::of(&(i as u64, r).encode()),
            };
            let claim = ReceiptClaim {
                miner_sig: receipt.sign_as_miner(me, &genesis),
                // The same bytes the mock coordinator signs (`Coordinator::attest`).
                attestation: receipt.attest(&coordinator, &genesis),
                receipt,
            };
            let xt = signed(me, Call::claim(claim), nonces[i] + k as u64 + r, genesis);
            claims.push((xt.hash(), body(&xt)));
        }
        (opens, claims)
    };
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
    let chunk = n.div_ceil(threads);
    let parts: Vec<Vec<(Vec<Signed>, Vec<Signed>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                let sign_one = &sign_one;
                scope.spawn(move || (start..(start + chunk).min(n)).map(sign_one).collect())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("signing thread"))
            .collect()
    });
    parts.into_iter().flatten().unzip()
}

fn signed(from: &Pair, call: Call, nonce: u64, genesis: Hash) -> Extrinsic<Call> {
    let params = TxParams {
        nonce,
        ..TxParams::default()
    };
    Extrinsic::sign(from, call, params, genesis)
}

/// What [`pump`] measured.
#[derive(Default)]
struct Flood {
    /// Our transactions finalized (all blocks).
    finalized: usize,
    /// Ours finalized in the window's blocks after its first.
    included: usize,
    first_block: u64,
    last_block: u64,
    /// Slots from the window's first to its last block.
    window_slots: u64,
    latencies: Vec<f64>,
    rss_peak: f64,
    refused: usize,
    /// Accepted but never finalized before the end.
    lost: usize,
    /// Every transaction was submitted before the end.
    ran_out: bool,
    /// Some finalized transactions, to check their outcome.
    sample: Vec<Hash>,
}

/// Submits `txs` (per sender, in nonce order) to `route`: each sender on one of
/// `--connections` connections, round by round, with at most `--max-in-flight` submitted and
/// not yet finalized. Follows finalized blocks until `duration` seconds have passed (then stops
/// submitting), or without a duration until every transaction is finalized.
async fn pump(
    args: &Args,
    route: &'static str,
    txs: Vec<Vec<Signed>>,
    duration: Option<u64>,
) -> anyhow::Result<Flood> {
    let conns = args.connections().max(1);
    let mut lanes: Vec<Vec<Signed>> = vec![Vec::new(); conns];
    let rounds = txs.iter().map(Vec::len).max().unwrap_or(0);
    let mut per_sender: Vec<std::vec::IntoIter<Signed>> =
        txs.into_iter().map(Vec::into_iter).collect();
    for _ in 0..rounds {
        for (s, it) in per_sender.iter_mut().enumerate() {
            if let Some(tx) = it.next() {
                lanes[s % conns].push(tx);
            }
        }
    }
    let total: usize = lanes.iter().map(Vec::len).sum();
    let permits = Arc::new(Semaphore::new(args.max_in_flight.max(1)));
    let submitted: Arc<Mutex<HashMap<Hash, Instant>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for lane in lanes {
        let mut http = HttpClient::new(&args.rpc[tasks.len() % args.rpc.len()])?;
        let (permits, submitted, stop, refused, done) = (
            permits.clone(),
            submitted.clone(),
            stop.clone(),
            refused.clone(),
            done.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for (hash, b) in lane {
                let permit = permits.acquire().await?;
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                permit.forget();
                lock(&submitted).insert(hash, Instant::now());
                let (status, v) = http.post(route, &b).await?;
                if status != 200 {
                    lock(&submitted).remove(&hash);
                    permits.add_permits(1);
                    if refused.fetch_add(1, Ordering::Relaxed) < 3 {
                        eprintln!("refused: {status} {v}");
                    }
                }
            }
            done.fetch_add(1, Ordering::Relaxed);
            Ok::<_, anyhow::Error>(())
        }));
    }

    let mut http = HttpClient::new(&args.rpc[0])?;
    let mut out = Flood::default();
    let mut seen = head(&mut http).await?["finalized_height"]
        .as_u64()
        .unwrap_or(0);
    let mut first_slot = None;
    let mut last_slot = 0;
    let started = Instant::now();
    let mut last_progress = Instant::now();
    let n_tasks = tasks.len();
    loop {
        if duration.is_some_and(|d| started.elapsed() >= Duration::from_secs(d)) {
            break;
        }
        let all_sent = done.load(Ordering::Relaxed) == n_tasks;
        if all_sent && lock(&submitted).is_empty() {
            out.ran_out = duration.is_some();
            break;
        }
        if last_progress.elapsed() > Duration::from_secs(60) {
            eprintln!("no progress for 60 s; giving up");
            break;
        }
        let fin = head(&mut http).await?["finalized_height"]
            .as_u64()
            .unwrap_or(0);
        if seen == fin {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        while seen < fin {
            seen += 1;
            let b = http.get_ok(&format!("/rpc/getBlock/{seen}")).await?;
            let now = Instant::now();
            let mut ours = 0;
            {
                let mut map = lock(&submitted);
                for tx in b["transactions"].as_array().into_iter().flatten() {
                    let Some(hash) = tx.as_str().and_then(|s| Hash::from_hex(s).ok()) else {
                        continue;
                    };
                    if let Some(t) = map.remove(&hash) {
                        out.latencies
                            .push(now.duration_since(t).as_secs_f64() * 1000.0);
                        if out.sample.len() < 50 && ours % 97 == 0 {
                            out.sample.push(hash);
                        }
                        ours += 1;
                    }
                }
            }
            permits.add_permits(ours);
            if ours == 0 {
                continue;
            }
            last_progress = now;
            out.finalized += ours;
            let slot = b["slot"].as_u64().unwrap_or(0);
            if first_slot.is_none() {
                first_slot = Some(slot);
                out.first_block = seen;
            } else {
                out.included += ours;
            }
            last_slot = slot;
            out.last_block = seen;
        }
        out.rss_peak = out.rss_peak.max(rss_mib(&args.node_pid));
    }
    stop.store(true, Ordering::Relaxed);
    // Wake submitters waiting for a permit.
    permits.add_permits(total);
    for t in tasks {
        t.await??;
    }
    out.window_slots = last_slot.saturating_sub(first_slot.unwrap_or(last_slot));
    out.refused = refused.load(Ordering::Relaxed);
    out.lost = if duration.is_none() {
        lock(&submitted).len()
    } else {
        0
    };
    Ok(out)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

mod reads {
    //! `--mode reads`: see the module docs.

    use super::{cpu_secs, fund, round2, Args};
    use crate::HttpClient;
    use aitbc_primitives::{Hash, Pair};
    use anyhow::{anyhow, Context};
    use serde_json::json;
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    const WARM_UP: Duration = Duration::from_secs(1);

    /// The funded accounts to read: the transfer accounts if funded, else the claims accounts
    /// if funded, else the transfer accounts after funding them.
    async fn funded(
        args: &Args,
        http: &mut HttpClient,
        genesis: Hash,
    ) -> anyhow::Result<Vec<Pair>> {
        let n = args.accounts().max(1);
        for prefix in ["//bench//", "//bench//claims//"] {
            let last = Pair::from_uri(&format!("{prefix}{}", n - 1)).expect("valid uri");
            let v = http
                .get_ok(&format!("/rpc/getBalance/{}", last.public()))
                .await?;
            if v["balance"].as_str().is_some_and(|b| b != "0") {
                eprintln!("reading {n} funded accounts {prefix}<i>");
                return Ok(derive(prefix, n));
            }
        }
        let accounts = derive("//bench//", n);
        fund(http, &args.rpc, genesis, &accounts).await?;
        Ok(accounts)
    }

    fn derive(prefix: &str, n: usize) -> Vec<Pair> {
        let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
        let chunk = n.div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..n)
                .step_by(chunk)
                .map(|start| {
                    scope.spawn(move || {
                        (start..(start + chunk).min(n))
                            .map(|i| Pair::from_uri(&format!("{prefix}{i}")).expect("valid uri"))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("derive thread"))
                .collect()
        })
    }

    /// One keep-alive HTTP/1.1 connection sending GETs one at a time.
    struct Conn {
        stream: TcpStream,
        buf: Vec<u8>,
        host: String,
    }

    impl Conn {
        async fn open(authority: &str) -> anyhow::Result<Conn> {
            let stream = TcpStream::connect(authority)
                .await
                .with_context(|| format!("connect {authority}"))?;
            stream.set_nodelay(true)?;
            Ok(Conn {
                stream,
                buf: Vec::with_capacity(4096),
                host: authority.to_string(),
            })
        }

        /// GET `path`; returns the status. Reads exactly the answer (Content-Length framing).
        async fn get(&mut self, path: &str) -> anyhow::Result<u16> {
            let req = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.host);
            self.stream.write_all(req.as_bytes()).await?;
            self.buf.clear();
            let mut chunk = [0u8; 4096];
            let header_end = loop {
                let n = self.stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(anyhow!("connection closed by the node"));
                }
                self.buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                    break i + 4;
                }
            };
            let head = std::str::from_utf8(&self.buf[..header_end])?;
            let status: u16 = head
                .get(9..12)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| anyhow!("bad status line"))?;
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .ok_or_else(|| anyhow!("answer without Content-Length"))?;
            let mut have = self.buf.len() - header_end;
            while have < len {
                let n = self.stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(anyhow!("connection closed mid-answer"));
                }
                have += n;
            }
            Ok(status)
        }
    }

    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).position(|w| w == needle)
    }

    /// What one connection measured after the warm-up.
    #[derive(Default)]
    struct Tally {
        latencies_us: Vec<u32>,
        errors: usize,
    }

    pub(super) async fn run(
        args: &Args,
        mut http: HttpClient,
        genesis: Hash,
    ) -> anyhow::Result<()> {
        let accounts = funded(args, &mut http, genesis).await?;
        let paths: Arc<Vec<String>> = Arc::new(
            accounts
                .iter()
                .map(|a| format!("/rpc/getBalance/{}", a.public()))
                .collect(),
        );
        let conns = args.connections();
        let authorities: Vec<String> = args
            .rpc
            .iter()
            .map(|u| {
                u.trim_end_matches('/')
                    .trim_start_matches("http://")
                    .to_string()
            })
            .collect();
        eprintln!(
            "reads: {conns} keep-alive connections, getBalance over {} accounts for {} s…",
            paths.len(),
            args.duration
        );
        let start = Instant::now();
        let measure_from = start + WARM_UP;
        let end = measure_from + Duration::from_secs(args.duration.max(1));
        let mut tasks = Vec::new();
        for c in 0..conns {
            let mut conn = Conn::open(&authorities[c % authorities.len()]).await?;
            let paths = paths.clone();
            tasks.push(tokio::spawn(async move {
                let mut t = Tally::default();
                // xorshift64*: a random address per request without a shared RNG.
                let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ ((c as u64 + 1) << 17);
                loop {
                    x ^= x >> 12;
                    x ^= x << 25;
                    x ^= x >> 27;
                    let i = (x.wrapping_mul(0x2545_F491_4F6C_DD1D) % paths.len() as u64) as usize;
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    let status = conn.get(&paths[i]).await?;
                    if sent >= measure_from {
                        if status == 200 {
                            t.latencies_us.push(sent.elapsed().as_micros() as u32);
                        } else {
                            t.errors += 1;
                        }
                    }
                }
                Ok::<_, anyhow::Error>(t)
            }));
        }
        tokio::time::sleep_until(measure_from.into()).await;
        let cpu_start = cpu_secs(&args.node_pid);
        tokio::time::sleep_until(end.into()).await;
        let cpu = cpu_secs(&args.node_pid) - cpu_start;
        let mut lat: Vec<u32> = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let t = t.await??;
            lat.extend(t.latencies_us);
            errors += t.errors;
        }
        let secs = end.duration_since(measure_from).as_secs_f64();
        lat.sort_unstable();
        let pct = |p: f64| {
            lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
                .map_or(0.0, |us| *us as f64 / 1000.0)
        };
        let rps = lat.len() as f64 / secs;
        let cpu_pct = (!args.node_pid.is_empty()).then(|| (100.0 * cpu / secs).round());
        println!("| metric | value |\n|---|---|");
        println!("| connections (keep-alive) | {conns} |");
        println!(
            "| getBalance requests (200) in {secs:.1} s | {} ({errors} not 200) |",
            lat.len()
        );
        println!("| getBalance req/s | {rps:.0} |");
        println!(
            "| latency p50 / p99 | {:.2} ms / {:.2} ms |",
            pct(0.5),
            pct(0.99)
        );
        if let Some(c) = cpu_pct {
            println!("| node CPU | {c:.0}% of one core |");
        }
        println!(
            "{}",
            json!({ "mode": "reads", "get_balance_rps": rps.round(), "requests": lat.len(),
                    "errors": errors, "connections": conns, "p50_ms": round2(pct(0.5)),
                    "p99_ms": round2(pct(0.99)), "cpu_pct": cpu_pct, "secs": round2(secs) })
        );
        if errors > 0 {
            return Err(anyhow!("{errors} getBalance requests did not answer 200"));
        }
        Ok(())
    }
}
