//! Multi-node test networks: in-process nodes of the `local` chain (four authorities) with short
//! slots, real libp2p on 127.0.0.1 with ephemeral ports, started, stopped and restarted on their
//! own base paths.

use super::*;
use aitbc_network::{Multiaddr, NetworkConfig};
use aitbc_storage::BlockRef;

/// Slot length of test networks.
pub const NET_SLOT_MS: u64 = 150;

/// The `local` spec (alice, bob, charlie, dave) with short slots.
pub fn local_spec() -> ChainSpec {
    let mut spec = ChainSpec::local();
    spec.genesis.slot_duration_ms = NET_SLOT_MS;
    spec
}

/// Authors `blocks` blocks as //alice on past slots of `slot_ms`, directly on the chain database
/// under base path `dir` (no node runs on it yet); block `i` carries `transfers(i)` transfers
/// from //bob to //alice.
pub fn author_offline(
    spec: &ChainSpec,
    dir: &Path,
    slot_ms: u64,
    blocks: u64,
    transfers: impl Fn(u64) -> u64,
) {
    use std::time::{Duration, Instant};
    let db_dir = aitbc_node::service::chain_dir(dir, &spec.id);
    std::fs::create_dir_all(&db_dir).unwrap();
    let client = aitbc_node::service::open_client(
        spec,
        &db_dir.join(aitbc_node::service::CHAIN_DB_FILE),
        Default::default(),
    )
    .unwrap();
    let genesis = client.genesis_hash();
    let first =
        aitbc_consensus::Clock::now_ms(&aitbc_consensus::SystemClock) / slot_ms - blocks - 100;
    let (alice, bob) = (dev_pair("alice"), dev_pair("bob"));
    let mut nonce = 0;
    for i in 0..blocks {
        for _ in 0..transfers(i) {
            let xt = transfer(&bob, &alice.public(), 1_000, nonce, genesis);
            nonce += 1;
            let len = codec::Encode::encoded_size(&xt);
            client.submit_decoded(xt, len).unwrap();
        }
        client
            .author_block(
                first + i,
                Instant::now() + Duration::from_secs(5),
                &alice,
                |_| Ok(()),
            )
            .unwrap()
            .unwrap();
    }
    assert_eq!(client.best().number, blocks);
}

/// One node of a test network: its settings (kept for restarts) and, while running, its handle.
pub struct TestNode {
    pub name: String,
    pub dir: tempfile::TempDir,
    pub config: NodeConfig,
    pub handle: Option<NodeHandle>,
}

impl TestNode {
    pub fn node(&self) -> &NodeHandle {
        self.handle.as_ref().expect("node is running")
    }

    pub fn client(&self) -> &aitbc_client::Client<aitbc_runtime::Runtime> {
        &self.node().client
    }

    pub fn best(&self) -> BlockRef {
        self.client().best()
    }

    pub fn finalized(&self) -> BlockRef {
        self.client().finalized()
    }

    /// The node's dialable address with its peer id.
    pub fn p2p_addr(&self) -> Multiaddr {
        let net = self.node().network.as_ref().expect("network on");
        format!("{}/p2p/{}", net.listen_addrs()[0], net.local_peer_id())
            .parse()
            .unwrap()
    }

    pub async fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.stop().await;
        }
    }

    pub async fn start(&mut self) {
        assert!(self.handle.is_none());
        self.handle = Some(start(self.config.clone()).await);
    }
}

/// Settings of a networked node: authority `key` (`None` for a full node), boot nodes.
pub fn net_config(
    spec: &ChainSpec,
    base: &Path,
    key: Option<&str>,
    bootnodes: Vec<Multiaddr>,
) -> NodeConfig {
    let mut c = config(spec.clone(), base, false);
    c.authority = key.map(dev_pair);
    c.chain.sudo = Some(dev_pair("alice"));
    let mut net = NetworkConfig::new(base, Hash::ZERO);
    net.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    net.bootnodes = bootnodes;
    net.max_per_ip = 64;
    net.ban_duration = Duration::from_secs(60);
    c.network = Networking::Libp2p(net);
    c
}

/// Starts the given authorities (dev key names) and `full` full nodes; every node boots from the
/// first one. Returns them in order (authorities first).
pub async fn start_network(spec: &ChainSpec, authorities: &[&str], full: usize) -> Vec<TestNode> {
    start_network_with(spec, authorities, full, |_| {}).await
}

/// [`start_network`], with every node's settings changed by `tweak` before it starts.
pub async fn start_network_with(
    spec: &ChainSpec,
    authorities: &[&str],
    full: usize,
    tweak: impl Fn(&mut NodeConfig),
) -> Vec<TestNode> {
    let mut nodes: Vec<TestNode> = Vec::new();
    let names: Vec<Option<&str>> = authorities
        .iter()
        .map(|a| Some(*a))
        .chain(std::iter::repeat_n(None, full))
        .collect();
    for (i, key) in names.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let boot = nodes
            .first()
            .map(|n| vec![n.p2p_addr()])
            .unwrap_or_default();
        let mut config = net_config(spec, dir.path(), key, boot);
        tweak(&mut config);
        let mut node = TestNode {
            name: key.map(str::to_string).unwrap_or(format!("full{i}")),
            dir,
            config,
            handle: None,
        };
        node.start().await;
        nodes.push(node);
    }
    nodes
}

/// Waits until `cond` holds for the running nodes, polling every 50 ms, panicking with `what` and
/// every node's best/finalized after `secs`.
pub async fn wait_nodes(
    nodes: &[TestNode],
    secs: u64,
    what: &str,
    cond: impl Fn(&[&TestNode]) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let running: Vec<&TestNode> = nodes.iter().filter(|n| n.handle.is_some()).collect();
        if cond(&running) {
            return;
        }
        if Instant::now() >= deadline {
            let state: Vec<String> = running
                .iter()
                .map(|n| {
                    format!(
                        "{}: best {} finalized {}",
                        n.name,
                        n.best().number,
                        n.finalized().number
                    )
                })
                .collect();
            panic!("timed out waiting for {what}: {state:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until every running node finalizes two blocks past what the first has finalized now.
pub async fn wait_finality_goes_on(nodes: &[TestNode]) {
    let fin = nodes[0].finalized().number;
    wait_nodes(nodes, 30, "finality goes on", |n| all_finalized(n, fin + 2)).await;
}

/// Whether every running node has finalized at least `n`, and they agree on the block at `n`.
pub fn all_finalized(nodes: &[&TestNode], n: u64) -> bool {
    let mut hash = None;
    for node in nodes {
        if node.finalized().number < n {
            return false;
        }
        let h = node.client().hash_at(n).unwrap();
        if hash.is_some() && hash != h {
            return false;
        }
        hash = h;
    }
    true
}

/// Asserts that no two nodes disagree on any finalized block: for each pair, the canonical
/// chains agree up to the lower finalized height.
pub fn assert_finality_consistent(nodes: &[&TestNode]) {
    for a in nodes {
        for b in nodes {
            let upto = a.finalized().number.min(b.finalized().number);
            // Checking the highest common finalized block is enough: each chain links back.
            let (ha, hb) = (
                a.client().hash_at(upto).unwrap(),
                b.client().hash_at(upto).unwrap(),
            );
            assert_eq!(
                ha, hb,
                "{} and {} disagree on finalized block {upto}",
                a.name, b.name
            );
        }
    }
}

/// A bare libp2p peer of the chain, driven by the test: it publishes what it is told and
/// ignores what it receives.
pub struct Rogue {
    pub net: aitbc_network::NetworkHandle,
    pub dir: tempfile::TempDir,
}

/// Answers status with the genesis and the claimed best height, every range with nothing.
pub struct RogueProvider(pub aitbc_primitives::Hash, pub u64);

impl aitbc_network::SyncProvider for RogueProvider {
    fn status(&self) -> aitbc_network::Status {
        aitbc_network::Status {
            genesis: self.0,
            best: (self.1, self.0),
            finalized: (0, self.0),
        }
    }
    fn blocks_by_range(&self, _: u64, _: u32, _: usize) -> Vec<Vec<u8>> {
        Vec::new()
    }
    fn blocks_by_hash(&self, _: &[aitbc_primitives::Hash], _: usize) -> Vec<Vec<u8>> {
        Vec::new()
    }
    fn votes(&self, _: u64, _: usize) -> Vec<Vec<u8>> {
        Vec::new()
    }
}

pub async fn rogue(genesis: aitbc_primitives::Hash, boot: &TestNode) -> Rogue {
    rogue_with(genesis, boot, |_| {}).await
}

/// [`rogue`] with its network settings changed by `tweak` first.
pub async fn rogue_with(
    genesis: aitbc_primitives::Hash,
    boot: &TestNode,
    tweak: impl FnOnce(&mut NetworkConfig),
) -> Rogue {
    rogue_claiming(genesis, boot, 0, tweak).await
}

/// [`rogue_with`] whose status claims a best block at `claim` (it serves none).
pub async fn rogue_claiming(
    genesis: aitbc_primitives::Hash,
    boot: &TestNode,
    claim: u64,
    tweak: impl FnOnce(&mut NetworkConfig),
) -> Rogue {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NetworkConfig::new(dir.path(), genesis);
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    config.bootnodes = vec![boot.p2p_addr()];
    tweak(&mut config);
    let (net, events, _task) =
        aitbc_network::start(config, std::sync::Arc::new(RogueProvider(genesis, claim)))
            .await
            .unwrap();
    ignore_gossip(&net, events);
    let id = net.local_peer_id();
    let honest = boot.node().network.clone().unwrap();
    wait_until(20, "the rogue is connected", || {
        let connected = honest.peers().iter().any(|p| p.peer_id == id);
        async move { connected.then_some(()) }
    })
    .await;
    Rogue { net, dir }
}

impl Rogue {
    /// Its dialable address with its peer id.
    pub fn p2p_addr(&self) -> Multiaddr {
        format!(
            "{}/p2p/{}",
            self.net.listen_addrs()[0],
            self.net.local_peer_id()
        )
        .parse()
        .unwrap()
    }
}

/// The next slot (at most two ahead of the clock) that `index` authors in a set of four.
pub async fn next_slot_of(index: u64) -> u64 {
    loop {
        let now = aitbc_consensus::Clock::now_ms(&aitbc_consensus::SystemClock) / NET_SLOT_MS;
        if let Some(s) = (now..=now + 2).find(|s| s % 4 == index) {
            return s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(NET_SLOT_MS / 2)).await;
    }
}

/// [`next_slot_of`], returned once the clock has reached it.
pub async fn await_slot_of(index: u64) -> u64 {
    let slot = next_slot_of(index).await;
    while aitbc_consensus::Clock::now_ms(&aitbc_consensus::SystemClock) / NET_SLOT_MS < slot {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    slot
}

/// Answers every gossip message `net` receives with `Ignore` (a peer that only serves sync).
pub fn ignore_gossip(
    net: &aitbc_network::NetworkHandle,
    mut events: tokio::sync::mpsc::Receiver<aitbc_network::NetworkEvent>,
) {
    let n = net.clone();
    tokio::spawn(async move {
        while let Some(e) = events.recv().await {
            if let aitbc_network::NetworkEvent::Gossip {
                peer, message_id, ..
            } = e
            {
                n.validation(message_id, peer, aitbc_network::Validation::Ignore);
            }
        }
    });
}
