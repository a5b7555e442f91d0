//! The workers run on any network behind the seam: authoring, block gossip and catch-up by sync
//! requests between two nodes of the name registry over the in-memory network, no sockets.

use super::{author, signed_slots::SignedSlots, sync};
use aitbc_client::metrics::Metrics;
use aitbc_client::{Client, GenesisBlock};
use aitbc_name_registry::{Call, Genesis, NameRegistry};
use aitbc_network::memory::MemoryNetwork;
use aitbc_network::{SharedNetwork, Topic};
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::Extrinsic;
use aitbc_txpool::{PoolLimits, TxPool};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

const SLOT_MS: u64 = 100;

fn client(db: &Path) -> Arc<Client<NameRegistry>> {
    let genesis = Genesis {
        chain_id: "seam-test".into(),
        authorities: vec![dev_pair("alice").public()],
        slot_duration_ms: SLOT_MS,
        names: Vec::new(),
    };
    let (state, header) = genesis.build().expect("genesis");
    let registry = Arc::new(NameRegistry::new(header.hash()));
    let client = Client::open(
        registry,
        &GenesisBlock {
            header,
            state,
            state_policy: aitbc_storage::GenesisState::IfNew,
        },
        db,
        TxPool::new(PoolLimits::default()),
        Arc::new(Metrics::default()),
    );
    Arc::new(client.expect("client"))
}

/// Joins `client` to `net` and runs its sync worker until `shutdown`.
fn join(
    net: &Arc<MemoryNetwork>,
    client: &Arc<Client<NameRegistry>>,
    shutdown: &watch::Receiver<bool>,
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
) -> SharedNetwork {
    let provider = Arc::new(sync::ClientProvider::new(client.clone()));
    let (peer, events) = net.join(provider);
    let seam: SharedNetwork = Arc::new(peer);
    // A single-authority chain finalizes at import: nothing reaches the finality worker.
    let (finality, _unused) = mpsc::channel(16);
    tasks.push(tokio::spawn(sync::run(
        client.clone(),
        seam.clone(),
        events,
        finality,
        shutdown.clone(),
    )));
    seam
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authoring_gossip_and_catch_up_run_over_the_in_memory_network() {
    let dir = tempfile::tempdir().expect("tempdir");
    let net = MemoryNetwork::new();
    let (stop, shutdown) = watch::channel(false);
    let mut tasks = Vec::new();

    // The author: its blocks go out through the seam.
    let a = client(&dir.path().join("a.redb"));
    let seam_a = join(&net, &a, &shutdown, &mut tasks);
    let slots = Arc::new(
        SignedSlots::open(&dir.path().join("a-slots.redb"), a.genesis_hash()).expect("slots"),
    );
    let publisher = seam_a.clone();
    let announce: author::Announce<NameRegistry> = Arc::new(move |block| {
        let _ = publisher.publish(Topic::Blocks, codec::Encode::encode(block));
    });
    tasks.push(tokio::spawn(author::run(
        a.clone(),
        dev_pair("alice"),
        slots,
        announce,
        shutdown.clone(),
    )));
    let bob = dev_pair("bob");
    let claim = Extrinsic::sign(
        &bob,
        Call::Claim { name: "bob".into() },
        TxParams::default(),
        a.genesis_hash(),
    );
    let len = codec::Encode::encoded_size(&claim);
    a.submit_decoded(claim, len).expect("admitted");
    wait_until("five blocks on the author", || a.best().number >= 5).await;

    // A node joining late catches up by requests, then follows the author's gossip.
    let b = client(&dir.path().join("b.redb"));
    join(&net, &b, &shutdown, &mut tasks);
    let target = a.best().number + 3;
    wait_until("the late node to reach the author", || {
        b.best().number >= target
    })
    .await;
    let at = b.best().number;
    assert_eq!(a.hash_at(at).expect("a"), b.hash_at(at).expect("b"));
    assert_eq!(
        b.finalized().number,
        at,
        "a single authority's blocks are final at import"
    );
    let state = b.state().expect("state");
    assert_eq!(
        b.runtime().name(&state, "bob").expect("claimed").owner,
        bob.public()
    );
    assert!(
        net.reports().is_empty(),
        "honest nodes reported {:?}",
        net.reports()
    );

    let _ = stop.send(true);
    for task in tasks {
        task.await.expect("worker ended cleanly");
    }
}
