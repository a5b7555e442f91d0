//! `aitbc-node run` (and the default command): the CLI flags resolved into a
//! [`NodeConfig`]: the chain spec, keys (dev keys refused off dev chains), the admin token,
//! RPC, pool and network settings.

use crate::cli::args::RunArgs;
use crate::dev_keys;
use crate::service::{AitbcChain, Networking, NodeConfig};
use crate::workers::warp::SyncMode;
use aitbc_chain_spec::ChainSpec;
use aitbc_consensus::SystemClock;
use aitbc_network::{self as network, NetworkConfig};
use aitbc_primitives::Pair;
use aitbc_rpc::RpcConfig;
use aitbc_txpool::PoolLimits;
use anyhow::{anyhow, Context};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The network settings from the CLI flags and the chain spec's boot nodes.
fn network_from_args(args: &RunArgs, spec: &ChainSpec) -> anyhow::Result<Networking> {
    if args.no_p2p {
        return Ok(Networking::Off);
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
    Ok(Networking::Libp2p(config))
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
    dev_keys::check_spec(&spec)?;
    let authority = match args.key_uri()? {
        Some(uri) => {
            let pair = Pair::from_uri(&uri).map_err(|e| anyhow!("invalid authority key: {e}"))?;
            dev_keys::refuse_dev_key("authority", &uri, &pair, &spec)?;
            Some(pair)
        }
        None => None,
    };
    let sudo = match &args.sudo_key {
        Some(uri) => {
            let pair = Pair::from_uri(uri).map_err(|e| anyhow!("invalid --sudo-key: {e}"))?;
            dev_keys::refuse_dev_key("sudo", uri, &pair, &spec)?;
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
            chain: AitbcChain { spec, sudo },
            base_path,
            authority,
            rpc,
            pool,
            name,
            network,
            clock: SystemClock::shared(),
            pruning: args.state_pruning,
            blocks_pruning: args.blocks_pruning,
            sync: match args.sync {
                None => SyncMode::Auto,
                Some(super::args::SyncArg::Full) => SyncMode::Full,
                Some(super::args::SyncArg::Warp) => SyncMode::Warp,
            },
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
