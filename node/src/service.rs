//! Wires the node together: chain spec -> runtime -> client -> RPC, authoring and informant.
//! This is the one place the node is tied to the AITBC runtime.

use crate::cli::args::RunArgs;
use crate::client::{Client, GenesisBlock};
use crate::consensus::{author, slashing::SignedSlots};
use crate::metrics::Metrics;
use crate::pool::{PoolLimits, TxPool};
use crate::rpc::{self, RpcConfig, RpcHandle};
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
    let authority = args
        .key_uri()?
        .map(|uri| Pair::from_uri(&uri).map_err(|e| anyhow!("invalid authority key: {e}")))
        .transpose()?;
    let sudo = match &args.sudo_key {
        Some(uri) => Some(Pair::from_uri(uri).map_err(|e| anyhow!("invalid --sudo-key: {e}"))?),
        None => authority.clone(),
    };
    let admin_token = match (&args.admin_token, &args.admin_token_file) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --admin-token-file {}", path.display()))?
                .trim()
                .to_string(),
        ),
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
    Ok((
        NodeConfig {
            spec,
            base_path,
            authority,
            sudo,
            rpc,
            pool,
            name,
        },
        tmp,
    ))
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
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl NodeHandle {
    /// Stops every task and waits for them.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Starts a node: opens (or creates) its database, then runs the RPC server, the authoring
/// worker (if it has an authority key) and the informant.
pub async fn start(config: NodeConfig) -> anyhow::Result<NodeHandle> {
    let genesis = config.spec.genesis()?;
    let runtime = Arc::new(Runtime::new(genesis.hash));
    let dir = chain_dir(&config.base_path, &config.spec.id);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let metrics = Arc::new(Metrics::default());
    let client = Arc::new(Client::open(
        runtime,
        &GenesisBlock {
            header: genesis.header.clone(),
            state: genesis.state.clone(),
        },
        &dir.join(CHAIN_DB_FILE),
        TxPool::new(config.pool),
        metrics,
    )?);
    let best = client.best_header();
    tracing::info!(
        target: "aitbc",
        chain = %config.spec.name,
        genesis = %genesis.hash,
        best = best.number,
        path = %dir.display(),
        "node {} started", config.name
    );
    let (shutdown, rx) = watch::channel(false);
    let RpcHandle {
        local_addr,
        task: rpc_task,
    } = rpc::serve(
        client.clone(),
        config.rpc.clone(),
        config.sudo.clone(),
        rx.clone(),
    )
    .await
    .with_context(|| format!("cannot bind the RPC server to {}", config.rpc.addr))?;
    tracing::info!(target: "rpc", addr = %local_addr, "RPC listening on http://{local_addr}");
    let mut tasks = vec![rpc_task];
    if let Some(key) = config.authority.clone() {
        let slots = Arc::new(SignedSlots::open(&dir.join(AUTHORING_FILE), genesis.hash)?);
        tasks.push(tokio::spawn(author::run(
            client.clone(),
            key,
            slots,
            rx.clone(),
        )));
    }
    tasks.push(tokio::spawn(crate::informant::run(client.clone(), rx)));
    Ok(NodeHandle {
        client,
        rpc_addr: local_addr,
        shutdown,
        tasks,
    })
}
