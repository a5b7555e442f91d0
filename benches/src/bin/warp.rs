//! `aitbc-warp-bench`: warp sync and the light client on a large chain, as processes on
//! loopback (issue 17's figures).
//!
//! 1. A fixture: a chain spec with `--accounts` endowed accounts (single authority, slots of 1 s,
//!    no elections), and `--blocks` blocks authored offline into its database, the sole authority
//!    alternating between //alice and //bob by a root call every `blocks / (set_changes + 1)`
//!    blocks (each change final at once, with the outgoing authority's justification). Kept in
//!    `--dir` and reused when present.
//! 2. `--servers` full nodes on copies of that database, connected on loopback.
//! 3. A fresh node with `--sync warp` booting from them: the time until it has finalized the
//!    fixture's head, its peak RSS (`/usr/bin/time`), and from its log the state phase
//!    (entries, seconds, state and proof bytes).
//! 4. A fresh node with `--sync full` against the same servers (unless `--skip-full`): the time
//!    until the same head; the speed-up is full / warp.
//! 5. The light client (`aitbc-light --checkpoint <genesis>`): wall time and peak RSS from
//!    genesis to the verified head; a balance proof's size; proof verifications per second.
//!
//! Prints a table and, last, one JSON line. Release binaries of `aitbc-node` and `aitbc-light`
//! are taken from beside this one.

use aitbc_chain_spec::{ChainSpec, Endowment};
use aitbc_primitives::commitment::{verify_read_proof, ReadProof};
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::{decode_exact, AccountId, BoundedVec, Extrinsic};
use aitbc_rpc::http_client::HttpClient;
use aitbc_runtime::Call;
use anyhow::{anyhow, bail, Context};
use clap::Parser;
use codec::Encode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(
    name = "aitbc-warp-bench",
    about = "Warp sync and light client figures"
)]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    accounts: u64,
    #[arg(long, default_value_t = 100_000)]
    blocks: u64,
    #[arg(long, default_value_t = 25)]
    set_changes: u64,
    #[arg(long, default_value_t = 3)]
    servers: usize,
    /// Where the fixture and the nodes' directories go (the fixture is reused).
    #[arg(long, default_value = "target/warp-bench")]
    dir: PathBuf,
    /// Do not measure a full sync (it takes minutes on a large fixture).
    #[arg(long)]
    skip_full: bool,
}

const CHAIN_ID: &str = "warp_bench";

fn bin(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let path = me.with_file_name(name);
    if !path.exists() {
        bail!(
            "{} is missing: cargo build --release -p aitbc-node -p aitbc-light",
            path.display()
        );
    }
    Ok(path)
}

fn spec(accounts: u64) -> ChainSpec {
    let mut spec = ChainSpec::dev();
    spec.id = CHAIN_ID.into();
    spec.name = "Warp bench".into();
    spec.genesis.params.epoch_length = 1_000_000_000;
    for i in 0..accounts {
        let id = AccountId(aitbc_primitives::blake2_256(&i.to_le_bytes()));
        spec.genesis
            .balances
            .push(Endowment(id.to_string(), 1_000_000_000));
    }
    spec
}

/// Builds the fixture database under `dir/fixture` (see the module docs).
fn fixture(args: &Args, spec: &ChainSpec) -> anyhow::Result<()> {
    let done = args.dir.join("fixture.done");
    if done.exists() {
        println!("fixture: reusing {}", args.dir.display());
        return Ok(());
    }
    let started = Instant::now();
    let db_dir = aitbc_node::service::chain_dir(&args.dir.join("fixture"), CHAIN_ID);
    std::fs::create_dir_all(&db_dir)?;
    let client = aitbc_node::service::open_client(
        spec,
        &db_dir.join(aitbc_node::service::CHAIN_DB_FILE),
        Default::default(),
    )?;
    println!(
        "fixture: genesis of {} accounts in {:.1} s",
        args.accounts,
        started.elapsed().as_secs_f64()
    );
    let genesis = client.genesis_hash();
    let slot_ms = 1000;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let first = now / slot_ms - args.blocks - 10;
    let keys = [dev_pair("alice"), dev_pair("bob")];
    let (mut current, mut sudo_nonce) = (0usize, 0u64);
    let every = (args.blocks / (args.set_changes + 1)).max(1);
    for i in 0..args.blocks {
        let number = i + 1;
        // Root hands the authority to the other key; the change is final with this block.
        let change = number % every == 0 && number / every <= args.set_changes;
        if change {
            let next = keys[1 - current].public();
            let set = BoundedVec::try_from_vec(vec![next]).map_err(|_| anyhow!("one key"))?;
            let params = aitbc_primitives::extrinsic::TxParams {
                nonce: sudo_nonce,
                ..Default::default()
            };
            let xt = Extrinsic::sign(
                &keys[0],
                Call::sudo(Call::set_authorities(set)),
                params,
                genesis,
            );
            sudo_nonce += 1;
            let len = xt.encoded_size();
            client.submit_decoded(xt, len).map_err(|e| anyhow!("{e}"))?;
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        client
            .author_block(first + i, deadline, &keys[current], |_| Ok(()))?
            .ok_or_else(|| anyhow!("block #{number} not authored"))?;
        if change {
            current = 1 - current;
        }
        if number % 10_000 == 0 {
            println!(
                "fixture: #{number} ({:.0} blocks/s)",
                number as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "fixture: {} blocks, voter set {}, in {:.1} s",
        client.best().number,
        client.voter_set().id,
        started.elapsed().as_secs_f64()
    );
    std::fs::write(done, b"")?;
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

struct Node {
    child: Child,
    rpc: String,
    log: PathBuf,
    rss_file: PathBuf,
}

impl Node {
    fn start(name: &str, dir: &Path, spec: &Path, extra: &[String]) -> anyhow::Result<Node> {
        let (rpc_port, p2p_port) = (free_port()?, free_port()?);
        let log = dir.join(format!("{name}.log"));
        let rss_file = dir.join(format!("{name}.rss"));
        let child = Command::new("/usr/bin/time")
            .arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&rss_file)
            .arg(bin("aitbc-node")?)
            .args(["--chain", &spec.display().to_string()])
            .args(["--base-path", &dir.join(name).display().to_string()])
            .args(["--rpc-addr", &format!("127.0.0.1:{rpc_port}")])
            .args(["--p2p-addr", &format!("/ip4/127.0.0.1/tcp/{p2p_port}")])
            .args(["--log", "info"])
            .args(extra)
            .stdout(std::fs::File::create(&log)?)
            .stderr(Stdio::null())
            .spawn()
            .context("start aitbc-node")?;
        Ok(Node {
            child,
            rpc: format!("http://127.0.0.1:{rpc_port}"),
            log,
            rss_file,
        })
    }

    async fn get(&self, path: &str) -> Option<Value> {
        HttpClient::new(&self.rpc).ok()?.get_ok(path).await.ok()
    }

    async fn finalized(&self) -> Option<u64> {
        self.get("/rpc/getHead").await?["finalized_height"].as_u64()
    }

    /// Stops the node (SIGINT) and returns its peak RSS in MiB.
    fn stop(mut self) -> anyhow::Result<f64> {
        let pid = self.child.id();
        // `time` forwards nothing: signal the node, its child.
        let _ = Command::new("pkill")
            .args(["-INT", "-P", &pid.to_string()])
            .status();
        self.child.wait()?;
        let kib: f64 = std::fs::read_to_string(&self.rss_file)?
            .lines()
            .last()
            .unwrap_or("0")
            .trim()
            .parse()
            .unwrap_or(0.0);
        Ok(kib / 1024.0)
    }
}

/// Waits until `node` has finalized `head`; returns the seconds since `since`.
async fn wait_final(
    node: &Node,
    head: u64,
    since: Instant,
    limit: Duration,
) -> anyhow::Result<f64> {
    loop {
        if node.finalized().await.unwrap_or(0) >= head {
            return Ok(since.elapsed().as_secs_f64());
        }
        if since.elapsed() > limit {
            bail!(
                "{} did not reach #{head} within {limit:?} (log: {})",
                node.rpc,
                node.log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A field `name=value` of the warp node's "state restored" log line.
fn log_field(log: &Path, name: &str) -> Option<f64> {
    let raw = std::fs::read_to_string(log).ok()?;
    // Without the terminal colours.
    let mut text = String::with_capacity(raw.len());
    let mut escape = false;
    for c in raw.chars() {
        match (escape, c) {
            (false, '\u{1b}') => escape = true,
            (true, 'm') => escape = false,
            (true, _) => {}
            (false, c) => text.push(c),
        }
    }
    let line = text.lines().find(|l| l.contains("warp: state restored"))?;
    let start = line.find(&format!("{name}="))? + name.len() + 1;
    line[start..].split_whitespace().next()?.parse().ok()
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    let status = Command::new("cp").arg("-r").arg(from).arg(to).status()?;
    if !status.success() {
        bail!("cp {} {} failed", from.display(), to.display());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.dir)?;
    let spec = spec(args.accounts);
    let spec_file = args.dir.join("spec.json");
    if !spec_file.exists() {
        std::fs::write(&spec_file, spec.to_json(false)?)?;
    }
    fixture(&args, &spec)?;
    let genesis = spec.genesis()?;
    let checkpoint = json!({
        "genesis_hash": genesis.hash,
        "set_id": 0,
        "authorities": [dev_pair("alice").public()],
        "header": format!("0x{}", hex::encode(genesis.header.encode())),
    });
    drop(genesis);
    let checkpoint_file = args.dir.join("genesis-checkpoint.json");
    std::fs::write(&checkpoint_file, checkpoint.to_string())?;

    // The servers.
    let run = args.dir.join("run");
    let _ = std::fs::remove_dir_all(&run);
    std::fs::create_dir_all(&run)?;
    let mut servers = Vec::new();
    let mut boot = Vec::new();
    for i in 0..args.servers {
        let name = format!("server{i}");
        copy_dir(&args.dir.join("fixture"), &run.join(&name))?;
        let extra: Vec<String> = boot
            .iter()
            .flat_map(|b: &String| ["--bootnodes".to_string(), b.clone()])
            .collect();
        let node = Node::start(&name, &run, &spec_file, &extra)?;
        let since = Instant::now();
        let health = loop {
            if let Some(h) = node.get("/health").await {
                break h;
            }
            if since.elapsed() > Duration::from_secs(120) {
                bail!("{name} did not start (log: {})", node.log.display());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let peer = health["peer_id"]
            .as_str()
            .ok_or_else(|| anyhow!("no peer id"))?
            .to_string();
        let addr = health["listen_addrs"][0]
            .as_str()
            .ok_or_else(|| anyhow!("no listen address"))?
            .to_string();
        boot.push(format!("{addr}/p2p/{peer}"));
        servers.push(node);
    }
    let head = servers[0]
        .finalized()
        .await
        .ok_or_else(|| anyhow!("no head"))?;
    println!(
        "servers: {} on loopback, finalized head #{head}",
        servers.len()
    );
    let boot_args: Vec<String> = boot
        .iter()
        .flat_map(|b| ["--bootnodes".to_string(), b.clone()])
        .collect();

    // Warp.
    let mut warp_args = boot_args.clone();
    warp_args.extend(["--sync".into(), "warp".into()]);
    let since = Instant::now();
    let warp = Node::start("warp", &run, &spec_file, &warp_args)?;
    let warp_secs = wait_final(&warp, head, since, Duration::from_secs(600)).await?;
    let log = warp.log.clone();
    let warp_rss = warp.stop()?;
    let entries = log_field(&log, "entries").unwrap_or(0.0);
    let state_secs = log_field(&log, "secs").unwrap_or(0.0);
    let state_bytes = log_field(&log, "state_bytes").unwrap_or(0.0);
    let proof_bytes = log_field(&log, "proof_bytes").unwrap_or(0.0);
    println!(
        "warp: #{head} in {warp_secs:.1} s, peak RSS {warp_rss:.0} MiB; state phase {entries:.0} entries in \
         {state_secs:.1} s ({:.0}/s), proofs {:.2} % of {:.1} MiB",
        entries / state_secs.max(1e-9),
        100.0 * proof_bytes / state_bytes.max(1.0),
        state_bytes / 1048576.0
    );

    // Full.
    let full_secs = if args.skip_full {
        None
    } else {
        let mut full_args = boot_args.clone();
        full_args.extend(["--sync".into(), "full".into()]);
        let since = Instant::now();
        let full = Node::start("full", &run, &spec_file, &full_args)?;
        let secs = wait_final(&full, head, since, Duration::from_secs(3600)).await?;
        full.stop()?;
        println!(
            "full: #{head} in {secs:.1} s ({:.1}x the warp)",
            secs / warp_secs
        );
        Some(secs)
    };

    // The light client, as a process.
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%e %M"])
        .arg(bin("aitbc-light")?)
        .args(["--checkpoint", &checkpoint_file.display().to_string()])
        .args(["--rpc", &servers[0].rpc, "--json", "head"])
        .output()?;
    if !out.status.success() {
        bail!("aitbc-light: {}", String::from_utf8_lossy(&out.stderr));
    }
    let timing = String::from_utf8_lossy(&out.stderr);
    let mut t = timing.lines().last().unwrap_or("").split_whitespace();
    let light_secs: f64 = t.next().unwrap_or("0").parse().unwrap_or(0.0);
    let light_rss = t.next().unwrap_or("0").parse::<f64>().unwrap_or(0.0) / 1024.0;
    let light_head: Value = serde_json::from_slice(&out.stdout)?;
    // A balance proof and its verification rate.
    let who = AccountId(aitbc_primitives::blake2_256(&7u64.to_le_bytes()));
    let answer = HttpClient::new(&servers[0].rpc)?
        .post_ok(
            "/rpc/getReadProof",
            &json!({"accounts": [who.to_string()], "at": head}),
        )
        .await?;
    let proof_hex = answer["proof"].as_str().unwrap_or("0x");
    let proof: ReadProof = decode_exact(&hex::decode(&proof_hex[2..])?)?;
    let proof_len = proof.encode().len();
    let root: aitbc_primitives::Hash = serde_json::from_value(answer["state_root"].clone())?;
    let entries_json = answer["entries"].as_array().cloned().unwrap_or_default();
    let kv: Vec<(Vec<u8>, Option<Vec<u8>>)> = entries_json
        .iter()
        .map(|e| {
            let h = |v: &Value| {
                hex::decode(v.as_str().unwrap_or("0x").trim_start_matches("0x")).unwrap_or_default()
            };
            (
                h(&e["key"]),
                (!e["value"].is_null()).then(|| h(&e["value"])),
            )
        })
        .collect();
    let refs: Vec<(&[u8], Option<&[u8]>)> = kv
        .iter()
        .map(|(k, v)| (k.as_slice(), v.as_deref()))
        .collect();
    let rounds = 20_000;
    let started = Instant::now();
    for _ in 0..rounds {
        verify_read_proof(&root, &refs, &proof).map_err(|e| anyhow!("proof refused: {e:?}"))?;
    }
    let verifications = (rounds * refs.len()) as f64 / started.elapsed().as_secs_f64();
    println!(
        "light: genesis -> #{} in {light_secs:.2} s, peak RSS {light_rss:.1} MiB; a balance proof ({} keys) {proof_len} bytes; \
         {verifications:.0} key proofs verified/s",
        light_head["number"], refs.len()
    );
    for s in servers {
        s.stop()?;
    }
    println!(
        "{}",
        json!({
            "accounts": args.accounts, "blocks": args.blocks, "set_changes": args.set_changes, "servers": args.servers,
            "warp_s": warp_secs, "warp_rss_mib": warp_rss, "state_entries": entries, "state_s": state_secs,
            "state_entries_per_s": entries / state_secs.max(1e-9), "proof_pct": 100.0 * proof_bytes / state_bytes.max(1.0),
            "full_s": full_secs, "speedup": full_secs.map(|f| f / warp_secs),
            "light_s": light_secs, "light_rss_mib": light_rss, "balance_proof_bytes": proof_len,
            "proof_verifications_per_s": verifications,
        })
    );
    Ok(())
}
