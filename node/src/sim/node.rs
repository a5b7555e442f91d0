//! One simulated node: its two disks (the chain database and the authoring record, on the
//! power-cut test disk), its clock and key, and while it runs, the real client and workers
//! ([`Parts`]) on the in-memory network.
//!
//! A crash aborts every task of the node at whatever await it reached (blocking work runs
//! inline on the simulator's thread, so never inside a write), takes it off the network and cuts
//! the power: each disk keeps only what was synced. A restart opens both databases from those
//! images, as a node booting after a power cut, and rejoins under the same peer id.

use super::clock::SimClock;
use crate::service::Parts;
use crate::workers::signed_slots::SignedSlots;
use crate::workers::voting::SharedVoter;
use aitbc_client::metrics::Metrics;
use aitbc_client::{Client, GenesisBlock};
use aitbc_network::memory::MemoryNetwork;
use aitbc_network::{PeerId, SharedNetwork, SyncProvider};
use aitbc_primitives::Pair;
use aitbc_runtime::Runtime;
use aitbc_storage::test_disk::TestDisk;
use aitbc_storage::ChainDb;
use aitbc_txpool::{PoolLimits, TxPool};
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The chain every simulated node runs.
pub struct SimChain {
    pub runtime: Arc<Runtime>,
    pub genesis: GenesisBlock,
}

/// Gives the provider a node answers sync requests from (a Byzantine node's lies).
pub type ProviderWrap = dyn Fn(&Parts<Runtime>) -> Arc<dyn SyncProvider>;

/// See the module docs.
pub struct SimNode {
    pub name: String,
    pub key: Option<Pair>,
    pub clock: Arc<SimClock>,
    chain_disk: TestDisk,
    record_disk: TestDisk,
    peer: Option<PeerId>,
    running: Option<Running>,
}

struct Running {
    client: Arc<Client<Runtime>>,
    seam: SharedNetwork,
    voter: Option<SharedVoter>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl SimNode {
    pub fn new(name: String, key: Option<Pair>, clock: Arc<SimClock>) -> Self {
        SimNode {
            name,
            key,
            clock,
            chain_disk: TestDisk::new(),
            record_disk: TestDisk::new(),
            peer: None,
            running: None,
        }
    }

    /// Opens the node's databases and starts its workers on `net` (rejoining under its peer id
    /// after a crash).
    pub fn start(
        &mut self,
        chain: &SimChain,
        net: &Arc<MemoryNetwork>,
        wrap: &ProviderWrap,
    ) -> anyhow::Result<()> {
        let disk = self.chain_disk.clone();
        let client = Client::open_with(
            chain.runtime.clone(),
            &chain.genesis,
            |g| ChainDb::open_with_backend(disk.backend(), g),
            TxPool::new(PoolLimits::default()),
            Arc::new(Metrics::default()),
        )?;
        let client = Arc::new(client.with_clock(self.clock.clone()));
        let record =
            SignedSlots::open_with_backend(self.record_disk.backend(), client.genesis_hash())?;
        let parts = Parts::new(client.clone(), record, self.key.clone())?;
        let provider = wrap(&parts);
        let (handle, events) = match self.peer {
            None => net.join(provider),
            Some(peer) => net
                .rejoin(peer, provider)
                .ok_or_else(|| anyhow::anyhow!("{} is not a member", self.name))?,
        };
        self.peer = Some(handle.peer_id());
        let seam: SharedNetwork = Arc::new(handle);
        let (stop, shutdown) = watch::channel(false);
        let span = tracing::info_span!(target: "sim", "node", name = %self.name);
        let tasks = span.in_scope(|| parts.spawn_workers(Some((seam.clone(), events)), shutdown));
        self.running = Some(Running {
            client,
            seam,
            voter: parts.voter.clone(),
            stop,
            tasks,
        });
        Ok(())
    }

    /// Crashes the node and cuts the power (see the module docs). Nothing if it is down.
    pub fn crash(&mut self, net: &MemoryNetwork) {
        let Some(running) = self.running.take() else {
            return;
        };
        for task in &running.tasks {
            task.abort();
        }
        drop(running);
        if let Some(peer) = self.peer {
            net.leave(peer);
        }
        self.chain_disk = TestDisk::from_image(self.chain_disk.power_cut());
        self.record_disk = TestDisk::from_image(self.record_disk.power_cut());
    }

    /// Stops the node's workers and waits for them (the end of a run).
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(true);
            for task in running.tasks {
                let _ = task.await;
            }
        }
    }

    /// The running node's client.
    pub fn client(&self) -> Option<&Arc<Client<Runtime>>> {
        self.running.as_ref().map(|r| &r.client)
    }

    /// The running node's network handle (what a Byzantine node publishes through).
    pub fn network(&self) -> Option<&SharedNetwork> {
        self.running.as_ref().map(|r| &r.seam)
    }

    /// The running node's finality voter.
    pub fn voter(&self) -> Option<&SharedVoter> {
        self.running.as_ref().and_then(|r| r.voter.as_ref())
    }

    pub fn peer(&self) -> Option<PeerId> {
        self.peer
    }

    pub fn is_up(&self) -> bool {
        self.running.is_some()
    }

    /// The chain database as it is on the disk now (what `check-db` checks at the end).
    pub fn chain_db(&self) -> anyhow::Result<ChainDb> {
        Ok(ChainDb::open_existing_with_backend(
            TestDisk::from_image(self.chain_disk.volatile()).backend(),
        )?)
    }
}
