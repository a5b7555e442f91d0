//! Wires the node together: chain spec -> runtime -> client -> RPC, network and sync, authoring,
//! finality and informant. This is the one place the node is tied to the AITBC runtime.

use crate::cli::args::RunArgs;
use crate::client::{Client, GenesisBlock};
use crate::consensus::{author, slashing::SignedSlots, voting};
use crate::metrics::Metrics;
use crate::network::{self, NetworkConfig, NetworkHandle, Topic};
use crate::pool::{PoolLimits, TxPool};
use crate::rpc::{self, RpcConfig, RpcHandle};
use crate::sync;
use aitbc_chain_spec::ChainSpec;
use aitbc_primitives::Pair;
use aitbc_runtime::Runtime;
use anyhow::{anyhow, Context};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The chain database's file name inside the chain directory.
pub const CHAIN_DB_FILE: &str = "chain.redb";
/// The slashing-protection record's file name inside the chain directory.
pub const AUTHORING_FILE: &str = "authoring.redb";

/// `BASE/chains/<chain id>`.
pub fn chain_dir(base: &Path, chain_id: &str) -> PathBuf {
    base.join("chains").join(chain_id)
}

/// Everything a node needs to start, validated.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub spec: ChainSpec,
    pub base_path: PathBuf,
    pub authority: Option<Pair>,
    pub sudo: Option<Pair>,
    pub rpc: RpcConfig,
    pub pool: PoolLimits,
    pub name: String,
    /// Peer-to-peer settings; `None` runs the node without a network. The genesis hash and base
    /// directory are filled in at start.
    pub network: Option<NetworkConfig>,
}

/// The network settings from the CLI flags and the chain spec's boot nodes.
fn network_from_args(args: &RunArgs, spec: &ChainSpec) -> anyhow::Result<Option<NetworkConfig>> {
    if args.no_p2p {
        return Ok(None);
    }
    let parse = |what: &str, s: &str| -> anyhow::Result<network::Multiaddr> {
        s.trim()
            .parse()
            .map_err(|e| anyhow!("invalid {what} multiaddr {s:?}: {e}"))
    };
    let mut config = NetworkConfig::new(PathBuf::new(), aitbc_primitives::Hash::ZERO);
    config.listen = args
        .p2p_addr
        .split(',')
        .map(|a| parse("--p2p-addr", a))
        .collect::<anyhow::Result<_>>()?;
    config.bootnodes = spec
        .boot_nodes
        .iter()
        .chain(&args.bootnodes)
        .map(|a| parse("boot node", a))
        .collect::<anyhow::Result<_>>()?;
    config.node_key = args.node_key.clone();
    config.max_peers = args.max_peers.max(1);
    config.max_per_ip = args.max_peers_per_ip.max(1);
    Ok(Some(config))
}

/// Opens (or creates) the chain database at `db_path` for `spec`'s chain, with the AITBC runtime
/// and a pool with `limits`.
pub fn open_client(
    spec: &ChainSpec,
    db_path: &Path,
    limits: PoolLimits,
) -> anyhow::Result<Client<Runtime>> {
    let genesis = spec.genesis()?;
    Ok(Client::open(
        Arc::new(Runtime::new(genesis.hash)),
        &GenesisBlock {
            header: genesis.header,
            state: genesis.state,
        },
        db_path,
        TxPool::new(limits),
        Arc::new(Metrics::default()),
    )?)
}

/// Resolves CLI flags into a [`NodeConfig`]. Returns the temporary directory to keep alive when
/// the base path is temporary.
pub fn config_from_args(args: &RunArgs) -> anyhow::Result<(NodeConfig, Option<tempfile::TempDir>)> {
    let chain = match (&args.chain, args.dev) {
        (Some(c), _) => c.clone(),
        (None, true) => "dev".to_string(),
        (None, false) => {
            return Err(anyhow!(
                "choose a chain: --dev, or --chain dev|local|PATH.json"
            ))
        }
    };
    let spec = ChainSpec::load(&chain)?;
    let (base_path, tmp) = match (&args.base_path, args.tmp || args.dev) {
        (Some(p), _) => (p.clone(), None),
        (None, true) => {
            let dir = tempfile::Builder::new().prefix("aitbc-node-").tempdir()?;
            (dir.path().to_path_buf(), Some(dir))
        }
        (None, false) => {
            return Err(anyhow!(
                "--base-path is required (or --tmp for a throwaway node)"
            ))
        }
    };
    // Dev keys are public: refused (and dev accounts in the genesis roles) off dev/local chains.
    crate::dev_keys::check_spec(&spec)?;
    let authority = match args.key_uri()? {
        Some(uri) => {
            let pair = Pair::from_uri(&uri).map_err(|e| anyhow!("invalid authority key: {e}"))?;
            crate::dev_keys::refuse_dev_key("authority", &uri, &pair, &spec)?;
            Some(pair)
        }
        None => None,
    };
    let sudo = match &args.sudo_key {
        Some(uri) => {
            let pair = Pair::from_uri(uri).map_err(|e| anyhow!("invalid --sudo-key: {e}"))?;
            crate::dev_keys::refuse_dev_key("sudo", uri, &pair, &spec)?;
            Some(pair)
        }
        None => authority.clone(),
    };
    let admin_token = match (&args.admin_token, &args.admin_token_file) {
        (Some(t), _) => Some(checked_admin_token(t, "--admin-token")?),
        (None, Some(path)) => Some(checked_admin_token(
            &std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --admin-token-file {}", path.display()))?,
            &format!("--admin-token-file {}", path.display()),
        )?),
        (None, None) if args.dev => Some(write_random_token(&base_path)?),
        (None, None) => None,
    };
    let rpc = RpcConfig {
        addr: args.rpc_addr,
        max_body: args.rpc_max_body,
        timeout: Duration::from_secs(args.rpc_timeout.max(1)),
        max_concurrent: args.rpc_max_concurrent.max(1),
        admin_token,
        chain_name: spec.id.clone(),
        rate_limit: args.rpc_rate_limit,
        rate_limit_loopback: args.rpc_rate_limit_loopback,
        admin_external: args.rpc_admin_external,
        ws_max_connections: args.rpc_ws_max_connections,
        ws_max_subscriptions: args.rpc_ws_max_subscriptions,
        ws_queue: args.rpc_ws_queue.max(1),
        access_log: args.rpc_access_log,
        max_connections_per_ip: args.rpc_max_connections_per_ip,
    };
    let pool = PoolLimits {
        max_txs: args.pool_max_txs,
        max_bytes: args.pool_max_bytes,
        max_per_sender: args.pool_max_per_sender,
        // Future transactions pay nothing until their gap closes: an eighth of the pool at most.
        max_future: (args.pool_max_txs / 8).max(1),
        ..PoolLimits::default()
    };
    let name = args.name.clone().unwrap_or_else(|| "aitbc-node".into());
    let network = network_from_args(args, &spec)?;
    Ok((
        NodeConfig {
            spec,
            base_path,
            authority,
            sudo,
            rpc,
            pool,
            name,
            network,
        },
        tmp,
    ))
}

/// Admin tokens shorter than this are allowed but warned about.
const MIN_ADMIN_TOKEN_LEN: usize = 16;

/// The admin token from `source`, trimmed. An empty (or whitespace) token would let anyone use
/// the admin routes (every request's empty bearer would match), so it is refused.
fn checked_admin_token(token: &str, source: &str) -> anyhow::Result<String> {
    let token = token.trim();
    if token.is_empty() {
        anyhow::bail!(
            "{source} is empty: an empty admin token would open the admin routes to anyone"
        );
    }
    if token.chars().count() < MIN_ADMIN_TOKEN_LEN {
        tracing::warn!(target: "rpc", "the admin token from {source} is shorter than {MIN_ADMIN_TOKEN_LEN} characters: easy to guess");
    }
    Ok(token.to_string())
}

fn write_random_token(base: &Path) -> anyhow::Result<String> {
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    std::fs::create_dir_all(base)?;
    let path = base.join("admin-token");
    // Created 0600 from the start: the token is never readable by others, not even briefly.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    std::io::Write::write_all(&mut file, token.as_bytes())?;
    tracing::info!(target: "rpc", path = %path.display(), "admin token written");
    Ok(token)
}

/// A running node.
#[derive(Debug)]
pub struct NodeHandle {
    pub client: Arc<Client<Runtime>>,
    pub rpc_addr: SocketAddr,
    pub network: Option<NetworkHandle>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl NodeHandle {
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

/// Starts a node: opens (or creates) its database, then runs the RPC server, the authoring
/// worker (if it has an authority key) and the informant.
pub async fn start(config: NodeConfig) -> anyhow::Result<NodeHandle> {
    let dir = chain_dir(&config.base_path, &config.spec.id);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let client = Arc::new(open_client(
        &config.spec,
        &dir.join(CHAIN_DB_FILE),
        config.pool,
    )?);
    // Not `spec.genesis()` again: building a genesis state costs time and memory (1M accounts:
    // minutes and gigabytes), and the client already did.
    let genesis_hash = client.genesis_hash();
    let best = client.best_header();
    tracing::info!(
        target: "aitbc",
        chain = %config.spec.name,
        genesis = %genesis_hash,
        best = best.number,
        path = %dir.display(),
        "node {} started", config.name
    );
    let (shutdown, rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let (finality_tx, finality_rx) = tokio::sync::mpsc::channel(1024);
    let slots = Arc::new(SignedSlots::open(&dir.join(AUTHORING_FILE), genesis_hash)?);
    // Finality by votes runs when the set has more than one authority (otherwise each block is
    // final at import); an authority votes, any other node observes.
    let multi_authority = client.voter_set().authorities.len() > 1;
    let voter = multi_authority
        .then(|| voting::voter(&client, config.authority.clone(), Some(&slots)))
        .transpose()?;
    let network = match config.network.clone() {
        Some(mut net_config) => {
            net_config.genesis_hash = genesis_hash;
            net_config.base_dir = dir.clone();
            let votes_of = voter.clone();
            let provider = Arc::new(sync::ClientProvider {
                client: client.clone(),
                votes: Arc::new(move |round| {
                    votes_of
                        .as_ref()
                        .map(|v| voting::round_votes(v, round))
                        .unwrap_or_default()
                }),
            });
            let (net, events, net_task) = network::start(net_config, provider)
                .await
                .context("cannot start the network")?;
            tracing::info!(target: "p2p", peer_id = %net.local_peer_id(),
                addrs = ?net.listen_addrs(), "listening for peers");
            let batcher = Arc::new(sync::TxBatcher::default());
            let collect = batcher.clone();
            client.set_tx_announcer(Box::new(move |bytes| collect.push(bytes)));
            tasks.push(tokio::spawn(sync::publish_transactions(
                batcher,
                net.clone(),
                rx.clone(),
            )));
            tasks.push(net_task);
            tasks.push(tokio::spawn(sync::run(
                client.clone(),
                net.clone(),
                events,
                finality_tx,
                rx.clone(),
            )));
            Some(net)
        }
        None => None,
    };
    let RpcHandle {
        local_addr,
        task: rpc_task,
    } = rpc::serve(
        client.clone(),
        config.rpc.clone(),
        config.sudo.clone(),
        network.clone(),
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
    if let Some(voter) = voter {
        tasks.push(tokio::spawn(voting::run(
            client.clone(),
            voter,
            config.authority.clone(),
            config.authority.is_some().then(|| slots.clone()),
            network.clone(),
            finality_rx,
            rx.clone(),
        )));
    }
    if let Some(key) = config.authority.clone() {
        let publisher = network.clone();
        let announce: author::Announce<Runtime> = Arc::new(move |block| {
            if let Some(net) = &publisher {
                let _ = net.publish(Topic::Blocks, codec::Encode::encode(block));
            }
        });
        tasks.push(tokio::spawn(author::run(
            client.clone(),
            key,
            slots,
            announce,
            rx.clone(),
        )));
    }
    tasks.push(tokio::spawn(crate::pruner::run(client.clone(), rx.clone())));
    tasks.push(tokio::spawn(crate::informant::run(client.clone(), rx)));
    Ok(NodeHandle {
        client,
        rpc_addr: local_addr,
        network,
        shutdown,
        tasks,
    })
}
