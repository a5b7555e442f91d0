//! Wires a node together for a state machine: client -> RPC, network and sync, authoring,
//! finality and informant ([`start_chain`]). [`start`] runs the AITBC chain from its chain spec:
//! the one place the service is tied to the AITBC runtime (its runtime, genesis and RPC
//! extension); any other state machine comes in as a [`Chain`].

use crate::workers::warp::{self, SyncMode};
use crate::workers::{
    author, informant, pruner, reporter, revalidate, signed_slots::SignedSlots, sync, voting,
};
use aitbc_chain_spec::ChainSpec;
use aitbc_client::metrics::Metrics;
use aitbc_client::{Client, GenesisBlock};
use aitbc_consensus::clock::SharedClock;
use aitbc_network::memory::MemoryNetwork;
use aitbc_network::{
    self as network, NetworkConfig, NetworkEvent, NetworkHandle, SharedNetwork, Topic,
};
use aitbc_primitives::{Pair, StateMachine};
use aitbc_rpc::{RpcConfig, RpcExtension, RpcHandle};
use aitbc_runtime::Runtime;
use aitbc_runtime_rpc::AitbcRpc;
use aitbc_storage::Pruning;
use aitbc_txpool::{PoolLimits, TxPool};
use anyhow::{anyhow, Context};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;

/// The chain database's file name inside the chain directory.
pub const CHAIN_DB_FILE: &str = "chain.redb";
/// The slashing-protection record's file name inside the chain directory.
pub const AUTHORING_FILE: &str = "authoring.redb";

/// `BASE/chains/<chain id>`.
pub fn chain_dir(base: &Path, chain_id: &str) -> PathBuf {
    base.join("chains").join(chain_id)
}

/// The AITBC chain, as a node is told to run it: its spec and the node's sudo key (which signs
/// the admin actions).
#[derive(Debug, Clone)]
pub struct AitbcChain {
    pub spec: ChainSpec,
    pub sudo: Option<Pair>,
}

/// Any chain, ready to run: its id and name, state machine, genesis block and RPC extension.
pub struct Chain<S: StateMachine> {
    pub id: String,
    pub name: String,
    pub runtime: Arc<S>,
    pub genesis: GenesisBlock,
    pub rpc: Arc<dyn RpcExtension<S>>,
}

/// How a node reaches its peers.
#[derive(Debug, Clone, Default)]
pub enum Networking {
    /// No peers (a lone node).
    #[default]
    Off,
    /// libp2p with these settings; the genesis hash and base directory are filled in at start.
    Libp2p(NetworkConfig),
    /// A member of an in-memory network (tests and simulation): the workers run on it through
    /// the same seam; the RPC shows no peers.
    Memory(Arc<MemoryNetwork>),
}

impl Networking {
    /// The libp2p settings, if the node runs libp2p.
    pub fn libp2p_mut(&mut self) -> Option<&mut NetworkConfig> {
        match self {
            Networking::Libp2p(config) => Some(config),
            Networking::Off | Networking::Memory(_) => None,
        }
    }
}

/// Everything a node needs to start, validated. `C` is the chain: [`AitbcChain`] for
/// [`start`], a [`Chain`] for [`start_chain`].
#[derive(Debug, Clone)]
pub struct NodeConfig<C = AitbcChain> {
    pub chain: C,
    pub base_path: PathBuf,
    pub authority: Option<Pair>,
    pub rpc: RpcConfig,
    pub pool: PoolLimits,
    pub name: String,
    /// How the node reaches its peers.
    pub network: Networking,
    /// The time authoring, voting and import read.
    pub clock: SharedClock,
    /// How much state history to keep (`--state-pruning`).
    pub pruning: Pruning,
    /// How many finalized blocks' bodies to keep (`--blocks-pruning`).
    pub blocks_pruning: Pruning,
    /// How to catch up with peers (`--sync`).
    pub sync: SyncMode,
}

impl<C> NodeConfig<C> {
    /// The same settings for another chain.
    pub fn with_chain<D>(self, chain: D) -> NodeConfig<D> {
        NodeConfig {
            chain,
            base_path: self.base_path,
            authority: self.authority,
            rpc: self.rpc,
            pool: self.pool,
            name: self.name,
            network: self.network,
            clock: self.clock,
            pruning: self.pruning,
            blocks_pruning: self.blocks_pruning,
            sync: self.sync,
        }
    }
}

/// The AITBC chain of `spec`, its admin actions signed by `sudo`. Builds the genesis state
/// (once per start: with 1M accounts it costs seconds and gigabytes).
pub fn aitbc_chain(spec: &ChainSpec, sudo: Option<Pair>) -> anyhow::Result<Chain<Runtime>> {
    let genesis = spec.genesis()?;
    Ok(Chain {
        id: spec.id.clone(),
        name: spec.name.clone(),
        runtime: Arc::new(Runtime::new(genesis.hash)),
        genesis: GenesisBlock {
            header: genesis.header,
            state: genesis.state,
            state_policy: aitbc_storage::GenesisState::IfNew,
        },
        rpc: Arc::new(AitbcRpc::new(sudo)),
    })
}

/// Opens (or creates) the chain database at `db_path` for `spec`'s chain, with the AITBC runtime
/// and a pool with `limits` (the CLI's offline commands and tests).
pub fn open_client(
    spec: &ChainSpec,
    db_path: &Path,
    limits: PoolLimits,
) -> anyhow::Result<Client<Runtime>> {
    open_client_with(spec, db_path, limits, aitbc_storage::GenesisState::IfNew)
}

/// [`open_client`] with what a new (or restoring) database does about the genesis state.
pub fn open_client_with(
    spec: &ChainSpec,
    db_path: &Path,
    limits: PoolLimits,
    state_policy: aitbc_storage::GenesisState,
) -> anyhow::Result<Client<Runtime>> {
    let mut chain = aitbc_chain(spec, None)?;
    chain.genesis.state_policy = state_policy;
    Ok(Client::open(
        chain.runtime,
        &chain.genesis,
        db_path,
        TxPool::new(limits),
        Arc::new(Metrics::default()),
    )?)
}

/// A running node.
#[derive(Debug)]
pub struct NodeHandle<S: StateMachine = Runtime> {
    pub client: Arc<Client<S>>,
    pub rpc_addr: SocketAddr,
    pub network: Option<NetworkHandle>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl<S: StateMachine> NodeHandle<S> {
    /// Stops every task and waits for them.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        if let Some(net) = &self.network {
            net.shutdown();
        }
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Starts an AITBC node from its chain spec (see [`start_chain`]).
pub async fn start(config: NodeConfig) -> anyhow::Result<NodeHandle> {
    let chain = aitbc_chain(&config.chain.spec, config.chain.sudo.clone())?;
    start_chain(config.with_chain(chain)).await
}

/// Starts a node of any chain: opens (or creates) its database, then runs the RPC server, the
/// network and sync (if configured), the finality voter (when the voter set has more than one
/// member), the authoring worker (if it has an authority key), the pruner and the informant.
pub async fn start_chain<S: StateMachine>(
    config: NodeConfig<Chain<S>>,
) -> anyhow::Result<NodeHandle<S>> {
    let Chain {
        id,
        name: chain_name,
        runtime,
        mut genesis,
        rpc,
    } = config.chain;
    genesis.state_policy = config.sync.genesis_state();
    let dir = chain_dir(&config.base_path, &id);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let metrics = Metrics::default();
    metrics.set_build_info(&id, env!("CARGO_PKG_VERSION"));
    let client = Client::open(
        runtime,
        &genesis,
        &dir.join(CHAIN_DB_FILE),
        TxPool::new(config.pool),
        Arc::new(metrics),
    )?;
    drop(genesis);
    client.set_state_window(config.pruning);
    let client = Arc::new(client.with_clock(config.clock.clone()));
    let genesis_hash = client.genesis_hash();
    let best = client.best_header();
    tracing::info!(
        target: "aitbc",
        chain = %chain_name,
        genesis = %genesis_hash,
        best = best.number,
        path = %dir.display(),
        "node {} started", config.name
    );
    let slots = SignedSlots::open(&dir.join(AUTHORING_FILE), genesis_hash)?;
    let provider = Arc::new(sync::ClientProvider::new(client.clone()));
    let (shutdown, rx) = watch::channel(false);
    let mut tasks = Vec::new();
    // `network`: the libp2p handle (for the RPC's peer views); `seam`: what the workers use.
    let (network, seam) = match config.network.clone() {
        Networking::Off => (None, None),
        Networking::Libp2p(mut net_config) => {
            net_config.genesis_hash = genesis_hash;
            net_config.base_dir = dir.clone();
            let (net, events, net_task) = network::start(net_config, provider.clone())
                .await
                .context("cannot start the network")?;
            tracing::info!(target: "p2p", peer_id = %net.local_peer_id(),
                addrs = ?net.listen_addrs(), "listening for peers");
            tasks.push(net_task);
            let seam: SharedNetwork = Arc::new(net.clone());
            (Some(net), Some((seam, events)))
        }
        Networking::Memory(memory) => {
            let (peer, events) = memory.join(provider.clone());
            let seam: SharedNetwork = Arc::new(peer);
            (None, Some((seam, events)))
        }
    };
    let RpcHandle {
        local_addr,
        task: rpc_task,
    } = aitbc_rpc::serve(
        client.clone(),
        config.rpc.clone(),
        network.clone(),
        rpc,
        rx.clone(),
    )
    .await
    .map_err(|e| {
        if let Some(net) = &network {
            net.shutdown();
        }
        anyhow!(e).context(format!("cannot bind the RPC server to {}", config.rpc.addr))
    })?;
    tracing::info!(target: "rpc", addr = %local_addr, "RPC listening on http://{local_addr}");
    tasks.push(rpc_task);
    // Warp sync first (when asked for and possible), then the parts on the state it restored.
    let (authority, mode) = (config.authority.clone(), config.sync);
    let (pruning, blocks_pruning) = (config.pruning, config.blocks_pruning);
    let handle_client = client.clone();
    let start = async move {
        let mut seam = seam;
        if let Some((net, events)) = seam.as_mut() {
            warp::run(client.clone(), net.clone(), events, mode, rx.clone()).await?;
        }
        let mut parts = Parts::with_provider(client, slots, authority, provider)?;
        parts.pruning = pruning;
        parts.blocks_pruning = blocks_pruning;
        anyhow::Ok(parts.spawn_workers(seam, rx))
    };
    tasks.push(tokio::spawn(
        async move {
            match start.await {
                Ok(workers) => {
                    for w in workers {
                        let _ = w.await;
                    }
                }
                Err(e) => tracing::error!(target: "aitbc", error = %format!("{e:#}"), "the node cannot start its workers"),
            }
        }
        .in_current_span(),
    ));
    Ok(NodeHandle {
        client: handle_client,
        rpc_addr: local_addr,
        network,
        shutdown,
        tasks,
    })
}

/// A node's parts between its database and its workers: the client, the authoring record, the
/// finality voter (when votes decide finality) and the provider that answers peers' sync
/// requests. [`start_chain`] builds them from files; the simulator from its disk images.
pub struct Parts<S: StateMachine> {
    pub client: Arc<Client<S>>,
    pub slots: Arc<SignedSlots>,
    pub authority: Option<Pair>,
    pub voter: Option<voting::SharedVoter>,
    pub reporter: Option<Arc<reporter::Reporter<S>>>,
    pub provider: Arc<sync::ClientProvider<S>>,
    /// How much state history the pruner keeps ([`Pruning::DEFAULT`] unless set).
    pub pruning: Pruning,
    /// How many finalized blocks' bodies it keeps (archive unless set).
    pub blocks_pruning: Pruning,
}

impl<S: StateMachine> Parts<S> {
    /// The parts of a node on `client` with the record `slots`, voting and authoring with
    /// `authority`. Finality by votes runs when the voter set has more than one authority
    /// (otherwise each block is final at import); an authority votes, any other node observes.
    pub fn new(
        client: Arc<Client<S>>,
        slots: SignedSlots,
        authority: Option<Pair>,
    ) -> anyhow::Result<Parts<S>> {
        let provider = Arc::new(sync::ClientProvider::new(client.clone()));
        Self::with_provider(client, slots, authority, provider)
    }

    /// [`Parts::new`] answering peers through `provider` (made before the network started;
    /// it answers finality rounds from the voter made here).
    pub fn with_provider(
        client: Arc<Client<S>>,
        slots: SignedSlots,
        authority: Option<Pair>,
        provider: Arc<sync::ClientProvider<S>>,
    ) -> anyhow::Result<Parts<S>> {
        let slots = Arc::new(slots);
        let multi_authority = client.voter_set().authorities.len() > 1;
        let voter = multi_authority
            .then(|| voting::voter(&client, authority.clone(), Some(&slots)))
            .transpose()?;
        provider.set_voter(voter.clone());
        let reporter = authority
            .clone()
            .map(|key| Arc::new(reporter::Reporter::new(client.clone(), key)));
        Ok(Parts {
            client,
            slots,
            authority,
            voter,
            reporter,
            provider,
            pruning: Pruning::DEFAULT,
            blocks_pruning: Pruning::Archive,
        })
    }

    /// Spawns the workers until `shutdown` turns true: gossip, sync and the transaction
    /// batches (on `network`: the seam and its events), the finality voter, the author and the
    /// offence reporter (with an authority key), the pruner and the informant. Their logs are in the current span (the
    /// simulator's names each node).
    pub fn spawn_workers(
        &self,
        network: Option<(SharedNetwork, mpsc::Receiver<NetworkEvent>)>,
        shutdown: watch::Receiver<bool>,
    ) -> Vec<JoinHandle<()>> {
        fn spawn(task: impl std::future::Future<Output = ()> + Send + 'static) -> JoinHandle<()> {
            tokio::spawn(task.in_current_span())
        }
        let client = &self.client;
        let mut tasks = Vec::new();
        let (finality_tx, finality_rx) = mpsc::channel(1024);
        let seam = network.as_ref().map(|(seam, _)| seam.clone());
        if let Some((seam, events)) = network {
            let batcher = Arc::new(sync::TxBatcher::default());
            let collect = batcher.clone();
            client.set_tx_announcer(Box::new(move |bytes| collect.push(bytes)));
            tasks.push(spawn(sync::publish_transactions(
                batcher,
                seam.clone(),
                shutdown.clone(),
            )));
            tasks.push(spawn(sync::run(
                client.clone(),
                seam,
                events,
                finality_tx,
                shutdown.clone(),
            )));
        }
        if let Some(reporter) = &self.reporter {
            tasks.push(spawn(reporter::run(reporter.clone(), shutdown.clone())));
        }
        if let Some(voter) = &self.voter {
            let authority =
                self.authority
                    .clone()
                    .zip(self.reporter.clone())
                    .map(|(key, reporter)| voting::VotingKey {
                        key,
                        record: self.slots.clone(),
                        reporter,
                    });
            tasks.push(spawn(voting::run(
                client.clone(),
                voter.clone(),
                authority,
                seam.clone(),
                finality_rx,
                shutdown.clone(),
            )));
        }
        if let Some(key) = self.authority.clone() {
            let announce: author::Announce<S> = Arc::new(move |block| {
                if let Some(net) = &seam {
                    let _ = net.publish(Topic::Blocks, codec::Encode::encode(block));
                }
            });
            tasks.push(spawn(author::run(
                client.clone(),
                key,
                self.slots.clone(),
                announce,
                shutdown.clone(),
            )));
        }
        tasks.push(spawn(revalidate::run(client.clone(), shutdown.clone())));
        tasks.push(spawn(pruner::run(
            client.clone(),
            self.pruning,
            self.blocks_pruning,
            shutdown.clone(),
        )));
        tasks.push(spawn(informant::run(client.clone(), shutdown)));
        tasks
    }
}
