//! Warp sync over libp2p: a new node joins a four-authority network that keeps producing,
//! across several authority-set changes, by verifying the finality proof and downloading the
//! finalized state in proof-checked chunks; a peer serving forged chunks is banned and the state
//! comes from the others.

use crate::common::net::*;
use crate::common::*;
use aitbc_network::{NetworkConfig, SyncProvider};
use aitbc_node::workers::sync::ClientProvider;
use aitbc_node::workers::warp::SyncMode;
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::snapshot::StateChunk;
use aitbc_primitives::{decode_exact, AccountId, StateMachine};
use codec::Encode;
use std::sync::Arc;

/// A peer that answers like the node it wraps but forges every state chunk it serves, and claims
/// to be ahead (so a warping node asks it first).
struct ForgingProvider(ClientProvider<aitbc_runtime::Runtime>);

impl SyncProvider for ForgingProvider {
    fn status(&self) -> aitbc_network::Status {
        let mut status = self.0.status();
        status.finalized.0 += 1_000;
        status.best.0 += 1_000;
        status
    }
    fn blocks_by_range(&self, from: u64, count: u32, max: usize) -> Vec<Vec<u8>> {
        self.0.blocks_by_range(from, count, max)
    }
    fn blocks_by_hash(&self, hashes: &[aitbc_primitives::Hash], max: usize) -> Vec<Vec<u8>> {
        self.0.blocks_by_hash(hashes, max)
    }
    fn votes(&self, round: u64, max: usize) -> Vec<Vec<u8>> {
        self.0.votes(round, max)
    }
    fn finality_proof(&self, from: u64) -> Result<Vec<u8>, String> {
        self.0.finality_proof(from)
    }
    fn state_chunk(&self, number: u64, start: [u8; 32], max: usize) -> Result<Vec<u8>, String> {
        let mut chunk: StateChunk = decode_exact(&self.0.state_chunk(number, start, max)?).unwrap();
        if let Some((_, value)) = chunk.entries.last_mut() {
            value.push(1);
        }
        Ok(chunk.encode())
    }
}

/// Starts a forging peer of `node`'s chain (serving `node`'s data) that dials `boot`.
async fn forging_peer(
    node: &TestNode,
    boot: &TestNode,
) -> (aitbc_network::NetworkHandle, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NetworkConfig::new(dir.path(), node.client().genesis_hash());
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    config.bootnodes = vec![boot.p2p_addr()];
    let provider = ForgingProvider(ClientProvider::new(node.node().client.clone()));
    let (net, events, _task) = aitbc_network::start(config, Arc::new(provider))
        .await
        .unwrap();
    ignore_gossip(&net, events);
    (net, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_node_warps_across_set_changes_while_the_network_produces_and_bans_a_forger() {
    let spec = local_spec();
    let mut nodes = start_network(&spec, &["alice", "bob", "charlie", "dave"], 1).await;
    // Four set changes, each final before the next; transfers in between grow the state.
    let sets: [&[&str]; 4] = [
        &["alice", "bob", "charlie"],
        &["alice", "bob", "charlie", "dave"],
        &["alice", "bob", "charlie"],
        &["alice", "bob", "charlie", "dave"],
    ];
    let genesis = nodes[0].client().genesis_hash();
    let mut nonce = 0;
    for (i, set) in sets.iter().enumerate() {
        set_authorities(nodes[0].client(), set, nonce);
        nonce += 1;
        for k in 0..20u64 {
            let to = aitbc_primitives::Pair::from_seed(
                [i as u8 + 1, k as u8].repeat(16).try_into().unwrap(),
            )
            .public();
            let xt = transfer(
                &dev_pair("alice"),
                &to,
                1_000_000 + k as u128,
                nonce,
                genesis,
            );
            nonce += 1;
            let len = xt.encoded_size();
            nodes[0].client().submit_decoded(xt, len).unwrap();
        }
        let id = i as u64 + 1;
        wait_nodes(&nodes, 60, &format!("set {id} final"), |n| {
            n.iter().all(|n| n.client().voter_set().id >= id)
        })
        .await;
    }
    let proven = nodes[0].finalized().number;
    let server = &nodes[4];
    let (forger, _forger_dir) = forging_peer(server, &nodes[0]).await;

    // The new node boots from an honest authority and the forger.
    let dir = tempfile::tempdir().unwrap();
    let mut config = net_config(&spec, dir.path(), None, vec![nodes[0].p2p_addr()]);
    if let aitbc_node::service::Networking::Libp2p(net) = &mut config.network {
        let forger_addr = format!(
            "{}/p2p/{}",
            forger.listen_addrs()[0],
            forger.local_peer_id()
        );
        net.bootnodes.push(forger_addr.parse().unwrap());
    }
    config.sync = SyncMode::Warp;
    let mut warped = TestNode {
        name: "warped".into(),
        dir,
        config,
        handle: None,
    };
    warped.start().await;
    wait_nodes(
        std::slice::from_ref(&warped),
        60,
        "the warped node past the proven head",
        |n| n[0].finalized().number > proven + 2,
    )
    .await;
    let client = warped.client();
    // It never executed the chain: the blocks before its warp target are not there.
    assert_eq!(client.hash_at(1).unwrap(), None, "block 1 was imported");
    assert_eq!(client.voter_set().id, 4);
    // Its state agrees with the network's at a block both finalized, and it follows the head.
    let at = client.finalized();
    wait_nodes(&nodes, 30, "the network at the warped node's block", |n| {
        n[0].finalized().number >= at.number
    })
    .await;
    assert_eq!(nodes[0].client().hash_at(at.number).unwrap(), Some(at.hash));
    let root = |c: &aitbc_client::Client<aitbc_runtime::Runtime>| {
        c.header(&at.hash).unwrap().unwrap().state_root
    };
    assert_eq!(root(client), root(nodes[0].client()));
    let bal = |c: &aitbc_client::Client<aitbc_runtime::Runtime>| {
        c.runtime()
            .account(&c.state().unwrap(), &dev_pair("bob").public())
    };
    assert_eq!(bal(client), bal(nodes[0].client()));
    // The forger was banned for its chunk.
    let forger_id = forger.local_peer_id();
    let net = warped.node().network.clone().unwrap();
    assert!(
        !net.peers().iter().any(|p| p.peer_id == forger_id),
        "the forger is still a peer"
    );
    // And it serves finality proofs itself.
    assert_eq!(
        client.finality_proof(0).unwrap().fragments.len(),
        nodes[0].client().finality_proof(0).unwrap().fragments.len()
    );
    warped.stop().await;
    forger.shutdown();
    for n in &mut nodes {
        n.stop().await;
    }
}

/// Prints the warped node's log when the test fails (or `WARP_LOG` is set).
struct DumpOnPanic(std::path::PathBuf);

impl Drop for DumpOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("WARP_LOG").is_some() {
            let log = std::fs::read_to_string(&self.0).unwrap_or_default();
            eprintln!("--- the warped node's log ---\n{log}");
        }
    }
}

/// The `entries` of each "state chunk received" line of a log.
fn chunks_received(log: &std::path::Path) -> Vec<usize> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains("warp: state chunk received"))
        .filter_map(|l| {
            let at = l.find("entries=")? + "entries=".len();
            l[at..]
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warp_sync_killed_at_random_points_resumes_and_completes() {
    // A producing dev authority whose state (30,000 extra accounts) takes many chunks: its
    // answers are capped at the smallest budget (64 KiB, about 410 entries).
    let dir = tempfile::tempdir().unwrap();
    let mut chain = spec(false);
    chain.genesis.params.epoch_length = 1_000_000;
    for i in 0..30_000u64 {
        let id = AccountId(aitbc_primitives::blake2_256(&i.to_le_bytes()));
        chain
            .genesis
            .balances
            .push(aitbc_chain_spec::Endowment(id.to_string(), 1_000_000));
    }
    let spec_file = dir.path().join("spec.json");
    std::fs::write(&spec_file, chain.to_json(false).unwrap()).unwrap();
    let mut config = net_config(&chain, &dir.path().join("server"), Some("alice"), vec![]);
    if let aitbc_node::service::Networking::Libp2p(net) = &mut config.network {
        net.max_response_bytes = 64 * 1024;
    }
    let mut server = TestNode {
        name: "server".into(),
        dir: tempfile::tempdir().unwrap(),
        config,
        handle: None,
    };
    server.start().await;
    wait_nodes(
        std::slice::from_ref(&server),
        30,
        "a few finalized blocks",
        |n| n[0].finalized().number >= 3,
    )
    .await;
    let boot = server.p2p_addr().to_string();

    // The warp node, as a process (its log in one file), killed with SIGKILL at random points
    // of its state download, then left to finish.
    let base = dir.path().join("warped");
    let rpc_port = free_port();
    let log = dir.path().join("warped.log");
    let _dump = DumpOnPanic(log.clone());
    let spawn = || {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_aitbc-node"))
            .args(["--chain", spec_file.to_str().unwrap()])
            .args(["--base-path", base.to_str().unwrap()])
            .args(["--rpc-addr", &format!("127.0.0.1:{rpc_port}")])
            .args(["--p2p-addr", "/ip4/127.0.0.1/tcp/0"])
            .args(["--bootnodes", &boot, "--sync", "warp"])
            .args(["--log", "warn,sync=debug"])
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap()
    };
    const KILLS: usize = 5;
    let url = format!("http://127.0.0.1:{rpc_port}");
    let who = AccountId(aitbc_primitives::blake2_256(&29_999u64.to_le_bytes()));
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for round in 0..KILLS {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let before = chunks_received(&log).len();
        let mut child = spawn();
        // Killed once it has written a chunk (it asks for the third after writing the
        // first), a few chunks later (chunks come every few ms: counted, not timed).
        let kill_at = before + 3 + (seed % 3) as usize;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while chunks_received(&log).len() < kill_at {
            assert!(std::time::Instant::now() < deadline, "no state chunks");
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        if round == 0 {
            // Mid-restore, the state is not served (neither the absent genesis state nor a
            // half-restored one).
            let mut rpc = aitbc_rpc::http_client::HttpClient::new(&url).unwrap();
            let (status, body) = rpc.get(&format!("/rpc/getBalance/{who}")).await.unwrap();
            assert_eq!(status, 503, "{body}");
            assert_eq!(body["error"]["code"], "syncing", "{body}");
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let mut child = spawn();
    let target = server.finalized().number;
    let head = wait_until(
        60,
        "the warped node at the server's finalized block",
        || {
            let url = url.clone();
            async move {
                let mut rpc = aitbc_rpc::http_client::HttpClient::new(&url).ok()?;
                let head = rpc.get_ok("/rpc/getHead").await.ok()?;
                let fin = head["finalized_height"].as_u64()?;
                (fin >= target).then_some(head)
            }
        },
    )
    .await;
    let mut rpc = aitbc_rpc::http_client::HttpClient::new(&url).unwrap();
    // It warped (block 1 was never imported) and agrees with the server.
    let (status, _) = rpc.get("/rpc/getBlock/1").await.unwrap();
    assert_eq!(status, 404, "block 1 is held: it did not warp");
    let fin = head["finalized_height"].as_u64().unwrap();
    let mine = rpc.get_ok(&format!("/rpc/getBlock/{fin}")).await.unwrap();
    let theirs =
        aitbc_rpc::http_client::HttpClient::new(&format!("http://{}", server.node().rpc_addr))
            .unwrap()
            .get_ok(&format!("/rpc/getBlock/{fin}"))
            .await
            .unwrap();
    assert_eq!(mine["hash"], theirs["hash"]);
    assert_eq!(mine["state_root"], theirs["state_root"]);
    // Each restart resumed where the last one stopped: it downloaded again at most the chunk
    // being written and the one fetched or checked after it when it was killed.
    let text = std::fs::read_to_string(&log).unwrap();
    let resumes = text.matches("warp: resuming the state download").count();
    assert_eq!(resumes, KILLS, "every restart resumed");
    assert_eq!(
        text.matches("warp: state restored").count(),
        1,
        "only the last run finished"
    );
    let received = chunks_received(&log);
    let largest = received.iter().copied().max().unwrap();
    let total = state_entries(&server, fin);
    let downloaded: usize = received.iter().sum();
    assert!(
        downloaded <= total + KILLS * 2 * largest,
        "{downloaded} entries downloaded for {total} (chunks of at most {largest})"
    );
    assert!(received.len() > 2 * KILLS, "{} chunks", received.len());
    let balance = rpc.get_ok(&format!("/rpc/getBalance/{who}")).await.unwrap();
    assert_eq!(balance["balance"], "1000000");
    child.kill().unwrap();
    child.wait().unwrap();
    server.stop().await;
}

/// The number of entries in the state of `server`'s block `number`.
fn state_entries(server: &TestNode, number: u64) -> usize {
    let client = &server.node().client;
    let (mut start, mut total) = ([0u8; 32], 0);
    loop {
        let chunk = client.state_chunk(number, start, 1 << 20).unwrap();
        total += chunk.entries.len();
        match chunk.next_start() {
            Some(next) if chunk.more => start = next,
            _ => return total,
        }
    }
}
