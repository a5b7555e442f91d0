//! Four authorities as full node services (authoring, voting, sync, RPC) on the in-memory
//! network instead of libp2p: they finalize by votes, a 2|2 split stops neither side from
//! authoring but finalizes nothing that conflicts, and after the heal finality resumes on every
//! node with one finalized chain. (Loss, delays and the rest are the simulator's: `sim`.)

use crate::common::registry_chain;
use aitbc_consensus::SystemClock;
use aitbc_name_registry::{Genesis, NameRegistry};
use aitbc_network::memory::MemoryNetwork;
use aitbc_node::service::{self, Networking, NodeConfig, NodeHandle};
use aitbc_primitives::crypto::dev_pair;
use aitbc_rpc::RpcConfig;
use aitbc_txpool::PoolLimits;
use std::sync::Arc;
use std::time::{Duration, Instant};

const AUTHORITIES: [&str; 4] = ["alice", "bob", "charlie", "dave"];
const SLOT_MS: u64 = 150;

fn genesis() -> Genesis {
    Genesis {
        chain_id: "names-memory".into(),
        authorities: AUTHORITIES.iter().map(|a| dev_pair(a).public()).collect(),
        slot_duration_ms: SLOT_MS,
        names: Vec::new(),
    }
}

async fn start(
    base: &std::path::Path,
    key: &str,
    net: &Arc<MemoryNetwork>,
) -> NodeHandle<NameRegistry> {
    let config = NodeConfig {
        chain: registry_chain(&genesis()),
        base_path: base.to_path_buf(),
        authority: Some(dev_pair(key)),
        rpc: RpcConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            ..RpcConfig::default()
        },
        pool: PoolLimits::default(),
        name: key.into(),
        network: Networking::Memory(net.clone()),
        clock: SystemClock::shared(),
        pruning: aitbc_storage::Pruning::DEFAULT,
        blocks_pruning: aitbc_storage::Pruning::Archive,
        sync: aitbc_node::workers::warp::SyncMode::Full,
    };
    service::start_chain(config).await.expect("node starts")
}

/// Every node's finalized chain agrees with every other's at each height both have finalized.
fn one_finalized_chain(nodes: &[NodeHandle<NameRegistry>]) {
    let lowest = nodes
        .iter()
        .map(|n| n.client.finalized().number)
        .min()
        .unwrap();
    for h in 1..=lowest {
        let hashes: Vec<_> = nodes.iter().map(|n| n.client.hash_at(h).unwrap()).collect();
        assert!(
            hashes.windows(2).all(|w| w[0] == w[1]),
            "finalized #{h} differs: {hashes:?}"
        );
    }
}

async fn wait_all_finalized(nodes: &[NodeHandle<NameRegistry>], past: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while nodes.iter().any(|n| n.client.finalized().number <= past) {
        assert!(
            Instant::now() < deadline,
            "finality did not pass #{past} on every node"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The four authorities, started on `net`.
async fn start_all(
    net: &Arc<MemoryNetwork>,
    dirs: &[tempfile::TempDir],
) -> Vec<NodeHandle<NameRegistry>> {
    let mut nodes = Vec::new();
    for (key, dir) in AUTHORITIES.iter().zip(dirs) {
        nodes.push(start(dir.path(), key, net).await);
    }
    nodes
}

fn dirs() -> Vec<tempfile::TempDir> {
    AUTHORITIES
        .iter()
        .map(|_| tempfile::tempdir().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_services_finalize_split_and_heal_on_the_in_memory_network() {
    let net = MemoryNetwork::new();
    let dirs = dirs();
    let nodes = start_all(&net, &dirs).await;
    wait_all_finalized(&nodes, 3).await;
    one_finalized_chain(&nodes);

    // 2|2: no side holds more than 2/3 of the votes.
    let members = net.members();
    net.split(&members[..2]);
    tokio::time::sleep(Duration::from_millis(4 * SLOT_MS)).await;
    let stalled = nodes
        .iter()
        .map(|n| n.client.finalized().number)
        .max()
        .unwrap();
    let best_before = nodes.iter().map(|n| n.client.best().number).max().unwrap();
    tokio::time::sleep(Duration::from_millis(10 * SLOT_MS)).await;
    let during = nodes
        .iter()
        .map(|n| n.client.finalized().number)
        .max()
        .unwrap();
    assert_eq!(during, stalled, "a half of the authorities finalized alone");
    assert!(
        nodes.iter().map(|n| n.client.best().number).max().unwrap() > best_before,
        "the sides stopped authoring"
    );
    one_finalized_chain(&nodes);

    // Healed: every node finalizes past the split and all agree.
    net.heal();
    wait_all_finalized(&nodes, stalled + 2).await;
    one_finalized_chain(&nodes);
    assert!(
        net.reports().is_empty(),
        "honest nodes were reported: {:?}",
        net.reports()
    );

    for node in nodes {
        node.stop().await;
    }
}
