//! The argument definitions.

use aitbc_rpc as rpc;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "aitbc-node",
    version,
    about = "The AITBC chain node",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a node (the default when no subcommand is given).
    Run(Box<RunArgs>),
    /// Print a chain spec as JSON.
    BuildSpec(BuildSpecArgs),
    /// Generate or inspect keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Sign and submit transactions.
    #[command(subcommand)]
    Tx(TxCommand),
    /// Delete the chain database (keeps the authoring record and keys).
    PurgeChain(PurgeArgs),
    /// Run the mock coordinator that attests compute receipts.
    MockCoordinator(CoordinatorArgs),
    /// Check a stopped node's chain database offline: re-execute the best chain from genesis
    /// against every state root, the txs index, the stored state and total issuance.
    CheckDb(CheckDbArgs),
    /// Measure the node and write what it learns.
    #[command(subcommand)]
    Benchmark(BenchmarkCommand),
    /// Write a stopped node's canonical blocks to a file.
    ExportBlocks(ExportBlocksArgs),
    /// Import blocks from a file, verified as sync verifies them.
    ImportBlocks(ImportArgs),
    /// Write a finalized state with its finality proof to a file.
    ExportState(ExportStateArgs),
    /// Restore a state from a file into an empty database, verified against its finality proof.
    ImportState(ImportArgs),
    /// Follow a node's finalized blocks and write them into PostgreSQL (blocks, transactions,
    /// events, accounts, jobs, receipts, validators, offences), exactly once.
    Index(IndexArgs),
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// The node to follow.
    #[arg(long, env = "AITBC_INDEX_RPC", default_value = "http://127.0.0.1:9080")]
    pub rpc: String,
    /// The database: a URL (`postgres://user:password@host/db`) or a libpq string
    /// (`host=/var/run/postgresql dbname=aitbc`).
    #[arg(long, env = "AITBC_INDEX_POSTGRES")]
    pub postgres: String,
    /// Start at this height (an empty database, or ahead of what is indexed) instead of after
    /// the last indexed block.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
    pub from: Option<u64>,
    /// Exit once this height is indexed (default: follow the chain until stopped).
    #[arg(long)]
    pub until: Option<u64>,
    /// Serve the indexer's Prometheus metrics at http://ADDR/metrics.
    #[arg(long, env = "AITBC_INDEX_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Blocks fetched from the node at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub fetchers: u64,
    /// Most blocks written in one PostgreSQL transaction while catching up.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch_blocks: u64,
    /// Log filter.
    #[arg(long, env = "AITBC_LOG", default_value = "info")]
    pub log: String,
}

#[derive(Debug, Args)]
pub struct ExportBlocksArgs {
    /// The base path of the (stopped) node.
    #[arg(long, env = "AITBC_BASE_PATH")]
    pub base_path: PathBuf,
    /// `dev`, `local` or a path to a JSON spec.
    #[arg(long, default_value = "dev")]
    pub chain: String,
    /// The first block (default 1).
    #[arg(long, default_value_t = 1)]
    pub from: u64,
    /// The last block (default: the best).
    #[arg(long)]
    pub to: Option<u64>,
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExportStateArgs {
    /// The base path of the (stopped) node.
    #[arg(long, env = "AITBC_BASE_PATH")]
    pub base_path: PathBuf,
    /// `dev`, `local` or a path to a JSON spec.
    #[arg(long, default_value = "dev")]
    pub chain: String,
    /// Export the highest justified block at or below this height (default: the latest); its
    /// state must still be kept (`--state-pruning`).
    #[arg(long)]
    pub at: Option<u64>,
    /// State bytes per chunk (each chunk carries its own proof; an interrupted import resumes
    /// at a chunk boundary or within one).
    #[arg(long, default_value_t = 1024 * 1024)]
    pub chunk_bytes: usize,
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The base path of the (stopped) node to import into.
    #[arg(long, env = "AITBC_BASE_PATH")]
    pub base_path: PathBuf,
    /// `dev`, `local` or a path to a JSON spec.
    #[arg(long, default_value = "dev")]
    pub chain: String,
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum BenchmarkCommand {
    /// Measure each call's import cost in its worst case and write the runtime's weights file
    /// (build with --release).
    Runtime(BenchmarkRuntimeArgs),
}

#[derive(Debug, Args)]
pub struct BenchmarkRuntimeArgs {
    /// Block sizes measured per call, evenly spaced up to --max-txs.
    #[arg(long, default_value_t = 4)]
    pub steps: usize,
    /// Blocks measured per block size (the median counts).
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// The largest block measured, in calls.
    #[arg(long, default_value_t = 2000)]
    pub max_txs: usize,
    /// Funded accounts in the state besides the senders.
    #[arg(long, default_value_t = 100_000)]
    pub accounts: usize,
    /// Write the weights file here (e.g. runtime/src/weights.rs) instead of printing it.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Single-authority dev chain: chain `dev`, authority and sudo //alice, temporary base path
    /// unless --base-path is given.
    #[arg(long, env = "AITBC_DEV")]
    pub dev: bool,
    /// Chain spec: `dev`, `local` or a path to a JSON spec.
    #[arg(long, env = "AITBC_CHAIN")]
    pub chain: Option<String>,
    /// Where the chain database and node files live.
    #[arg(long, env = "AITBC_BASE_PATH")]
    pub base_path: Option<PathBuf>,
    /// Use a fresh temporary base path, deleted on exit.
    #[arg(long, env = "AITBC_TMP")]
    pub tmp: bool,
    /// RPC listen address.
    #[arg(long, env = "AITBC_RPC_ADDR", default_value = "127.0.0.1:9080")]
    pub rpc_addr: SocketAddr,
    /// P2P listen multiaddrs, comma-separated (`/ip4/IP/tcp/PORT`, `/ip4/IP/tcp/PORT/ws`).
    #[arg(
        long,
        env = "AITBC_P2P_ADDR",
        default_value = "/ip4/127.0.0.1/tcp/7070"
    )]
    pub p2p_addr: String,
    /// Boot node multiaddrs.
    #[arg(long, env = "AITBC_BOOTNODES", value_delimiter = ',', num_args = 0..)]
    pub bootnodes: Vec<String>,
    /// libp2p identity key as hex (default: generated once and kept in the base path).
    #[arg(long, env = "AITBC_NODE_KEY")]
    pub node_key: Option<String>,
    /// Run without peer-to-peer networking.
    #[arg(long, env = "AITBC_NO_P2P")]
    pub no_p2p: bool,
    /// Connected peers at most.
    #[arg(long, env = "AITBC_MAX_PEERS", default_value_t = 50)]
    pub max_peers: usize,
    /// Incoming connections from one IP address at most.
    #[arg(long, env = "AITBC_MAX_PEERS_PER_IP", default_value_t = 8)]
    pub max_peers_per_ip: usize,
    /// Authority key as a secret URI (`//alice`, `0x<seed>`); makes this node author blocks.
    #[arg(long, env = "AITBC_KEY")]
    pub key: Option<String>,
    /// Read the authority key's secret URI from a file (keep it 0600; secrets stay out of `ps`).
    #[arg(long, env = "AITBC_KEY_FILE", conflicts_with = "key")]
    pub key_file: Option<PathBuf>,
    /// Shortcut for --key //alice.
    #[arg(long)]
    pub alice: bool,
    /// Shortcut for --key //bob.
    #[arg(long)]
    pub bob: bool,
    /// Shortcut for --key //charlie.
    #[arg(long)]
    pub charlie: bool,
    /// Shortcut for --key //dave.
    #[arg(long)]
    pub dave: bool,
    /// Shortcut for --key //eve.
    #[arg(long)]
    pub eve: bool,
    /// Shortcut for --key //ferdie.
    #[arg(long)]
    pub ferdie: bool,
    /// The chain's sudo key as a secret URI, used to sign admin actions (default: the authority
    /// key when it is the chain's sudo key).
    #[arg(long, env = "AITBC_SUDO_KEY")]
    pub sudo_key: Option<String>,
    /// Bearer token for /admin routes.
    #[arg(long, env = "AITBC_ADMIN_TOKEN")]
    pub admin_token: Option<String>,
    /// Read the admin token from a file.
    #[arg(long, env = "AITBC_ADMIN_TOKEN_FILE", conflicts_with = "admin_token")]
    pub admin_token_file: Option<PathBuf>,
    /// Requests per second per client IP (0 = off; loopback exempt unless
    /// --rpc-rate-limit-loopback).
    #[arg(long, env = "AITBC_RPC_RATE_LIMIT", default_value_t = 0)]
    pub rpc_rate_limit: u32,
    /// Apply --rpc-rate-limit to loopback clients too.
    #[arg(long, env = "AITBC_RPC_RATE_LIMIT_LOOPBACK")]
    pub rpc_rate_limit_loopback: bool,
    /// Largest accepted request body in bytes (413 beyond, before the body is read).
    #[arg(long, env = "AITBC_RPC_MAX_BODY", default_value_t = rpc::defaults::MAX_BODY)]
    pub rpc_max_body: usize,
    /// Request timeout in seconds, reading the body included (408 beyond).
    #[arg(long, env = "AITBC_RPC_TIMEOUT", default_value_t = rpc::defaults::TIMEOUT_SECS)]
    pub rpc_timeout: u64,
    /// Requests handled at once; more get 503.
    #[arg(long, env = "AITBC_RPC_MAX_CONCURRENT", default_value_t = rpc::defaults::MAX_CONCURRENT)]
    pub rpc_max_concurrent: usize,
    /// Serve /admin routes although --rpc-addr is not a loopback address (they answer 403
    /// admin_not_allowed otherwise).
    #[arg(long, env = "AITBC_RPC_ADMIN_EXTERNAL")]
    pub rpc_admin_external: bool,
    /// Open websocket connections at most (GET /rpc/ws); more get 503.
    #[arg(
        long,
        env = "AITBC_RPC_WS_MAX_CONNECTIONS",
        default_value_t = rpc::defaults::WS_MAX_CONNECTIONS
    )]
    pub rpc_ws_max_connections: usize,
    /// Subscriptions per websocket connection at most.
    #[arg(
        long,
        env = "AITBC_RPC_WS_MAX_SUBSCRIPTIONS",
        default_value_t = rpc::defaults::WS_MAX_SUBSCRIPTIONS
    )]
    pub rpc_ws_max_subscriptions: usize,
    /// Outbound messages queued per websocket connection; a client that lets it fill up is
    /// disconnected (slow consumer).
    #[arg(long, env = "AITBC_RPC_WS_QUEUE", default_value_t = rpc::defaults::WS_QUEUE)]
    pub rpc_ws_queue: usize,
    /// Log one line per RPC request (target `rpc::access`, level info).
    #[arg(long, env = "AITBC_RPC_ACCESS_LOG")]
    pub rpc_access_log: bool,
    /// State history to keep: `archive` (every state) or N, the states of the last N
    /// finalized blocks (what proofs at a past height and peers' state sync can be served
    /// from). Can be changed on an existing database; what was pruned stays gone.
    #[arg(long, env = "AITBC_STATE_PRUNING", default_value = "64", value_parser = parse_pruning)]
    pub state_pruning: aitbc_storage::Pruning,
    /// Block bodies to keep: `archive` (all; peers can sync in full from this node) or N, the
    /// last N finalized blocks' (older bodies and their transaction index go; headers and the
    /// justifications of authority-set changes stay).
    #[arg(long, env = "AITBC_BLOCKS_PRUNING", default_value = "archive", value_parser = parse_pruning)]
    pub blocks_pruning: aitbc_storage::Pruning,
    /// How to catch up with peers: `warp` (verify the finality proof, download the finalized
    /// state in proof-checked chunks, then import the blocks after it) or `full` (import every
    /// block). Default: warp when the database is empty and a peer is far ahead, else full.
    #[arg(long, env = "AITBC_SYNC", value_enum)]
    pub sync: Option<SyncArg>,
    /// Open RPC connections from one client IP at most (IPv6: per /64; loopback included);
    /// more are closed at accept. 0 = off.
    #[arg(
        long,
        env = "AITBC_RPC_MAX_CONNECTIONS_PER_IP",
        default_value_t = rpc::defaults::MAX_CONNECTIONS_PER_IP
    )]
    pub rpc_max_connections_per_ip: usize,
    /// Most transactions in the pool.
    #[arg(long, env = "AITBC_POOL_MAX_TXS", value_parser = positive, default_value_t = 65_536)]
    pub pool_max_txs: usize,
    /// Most encoded bytes in the pool.
    #[arg(long, env = "AITBC_POOL_MAX_BYTES", value_parser = positive, default_value_t = 32 * 1024 * 1024)]
    pub pool_max_bytes: usize,
    /// Most pending transactions per sender.
    #[arg(long, env = "AITBC_POOL_MAX_PER_SENDER", value_parser = positive, default_value_t = 256)]
    pub pool_max_per_sender: usize,
    /// Node name shown in logs.
    #[arg(long, env = "AITBC_NAME")]
    pub name: Option<String>,
    /// Log filter (tracing-subscriber EnvFilter syntax), e.g. `info,aura=debug`.
    #[arg(long, env = "AITBC_LOG", default_value = "info")]
    pub log: String,
}

#[derive(Debug, Args)]
pub struct BuildSpecArgs {
    /// `dev`, `local` or a path to a JSON spec.
    #[arg(long, default_value = "dev")]
    pub chain: String,
    /// Add the genesis state and genesis hash.
    #[arg(long)]
    pub raw: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a random key pair.
    Generate {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the public key and address of a secret URI.
    Inspect {
        /// `//alice`, `0x<seed>`, `0x<seed>//junction`…
        uri: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum WaitFor {
    Included,
    Finalized,
}

/// Flags every `tx` command shares.
#[derive(Debug, Clone, Args)]
pub struct TxCommon {
    /// Node RPC URL.
    #[arg(long, env = "AITBC_RPC_URL", default_value = "http://127.0.0.1:9080")]
    pub rpc: String,
    /// Wait until the transaction is included or finalized.
    #[arg(long, value_enum)]
    pub wait: Option<WaitFor>,
    /// Seconds to wait.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Print the signed JSON request body instead of submitting it.
    #[arg(long)]
    pub print_json: bool,
    /// Tip paid to get ahead in the pool.
    #[arg(long, default_value_t = 0)]
    pub tip: u128,
    /// Nonce to use (default: the account's next nonce from the node).
    #[arg(long)]
    pub nonce: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum TxCommand {
    /// Transfer AIT.
    Transfer {
        /// Sender's secret URI.
        #[arg(long)]
        from: String,
        /// Recipient's ait1 address.
        #[arg(long)]
        to: String,
        /// Amount in base units.
        #[arg(long)]
        amount: u128,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Open a job: the client escrows the job's price for a coordinator to settle.
    OpenJob {
        /// The client's secret URI.
        #[arg(long)]
        client: String,
        /// The client's own job id.
        #[arg(long)]
        job: u64,
        /// Price escrowed, in base units.
        #[arg(long)]
        price: u128,
        /// The coordinator's ait1 address (default: the dev //coordinator).
        #[arg(long)]
        coordinator: Option<String>,
        /// Blocks until the escrow expires and may be refunded.
        #[arg(long, default_value_t = 100)]
        lifetime: u64,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Claim a job's receipt: asks the coordinator to attest it, signs it as the miner, submits.
    ClaimReceipt {
        /// The miner's secret URI.
        #[arg(long)]
        miner: String,
        /// The client's ait1 address.
        #[arg(long)]
        client: String,
        /// The client's job id.
        #[arg(long)]
        job: u64,
        /// Compute units delivered.
        #[arg(long)]
        units: u64,
        /// Price charged (default: the whole escrow).
        #[arg(long)]
        price: Option<u128>,
        /// The coordinator's URL.
        #[arg(
            long,
            env = "AITBC_COORDINATOR_URL",
            default_value = "http://127.0.0.1:8090"
        )]
        coordinator: String,
        /// Hash of the job's output (default: derived from client, job and miner).
        #[arg(long)]
        output_hash: Option<String>,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Take back an expired job's escrow.
    Refund {
        /// The client's secret URI.
        #[arg(long)]
        client: String,
        /// The client's job id.
        #[arg(long)]
        job: u64,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Bond AIT from the free balance (a validator needs at least min_validator_bond).
    Bond {
        /// The staker's secret URI.
        #[arg(long)]
        from: String,
        /// Amount in base units.
        #[arg(long)]
        amount: u128,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Start unbonding: the amount is withdrawable after bonding_duration epochs.
    Unbond {
        /// The staker's secret URI.
        #[arg(long)]
        from: String,
        /// Amount in base units.
        #[arg(long)]
        amount: u128,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Withdraw every unbonded amount whose bonding duration has passed.
    Withdraw {
        /// The staker's secret URI.
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Become a validator candidate (the account key is the authority key); elected at the
    /// next epoch boundary.
    Validate {
        /// The validator's secret URI.
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Stop being a candidate (out of the set at the next epoch boundary).
    Chill {
        /// The validator's secret URI.
        #[arg(long)]
        from: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Name the validator a miner's work backs (from the next epoch on).
    Back {
        /// The miner's secret URI.
        #[arg(long)]
        from: String,
        /// The validator's ait1 address.
        #[arg(long)]
        validator: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Revoke a claimed receipt within its challenge window: its units leave the validator's
    /// work score and its mint is clawed back from the miner.
    Revoke {
        /// The receipt's coordinator's secret URI.
        #[arg(long)]
        coordinator: String,
        /// The receipt id (0x…).
        #[arg(long)]
        receipt: String,
        #[command(flatten)]
        common: TxCommon,
    },
}

#[derive(Debug, Args)]
pub struct CoordinatorArgs {
    /// Listen address.
    #[arg(long, env = "AITBC_COORDINATOR_ADDR", default_value = "127.0.0.1:8090")]
    pub addr: SocketAddr,
    /// The coordinator's secret URI (registered in the dev and local specs: //coordinator).
    #[arg(long, env = "AITBC_COORDINATOR_KEY", default_value = "//coordinator")]
    pub key: String,
    /// Chain whose genesis hash attestations cover: dev, local or a spec path.
    #[arg(long, conflicts_with = "rpc")]
    pub chain: Option<String>,
    /// Read the genesis hash once from this node instead.
    #[arg(long)]
    pub rpc: Option<String>,
    /// The redb file that keeps attested receipts across restarts (one chain per file).
    /// Default: BASE_PATH/coordinator/<genesis hash prefix>.redb with --base-path, otherwise
    /// memory only (forgotten on exit).
    #[arg(long, env = "AITBC_COORDINATOR_DB")]
    pub db: Option<PathBuf>,
    /// Directory for the default --db (the node's base path may be shared).
    #[arg(long, env = "AITBC_BASE_PATH")]
    pub base_path: Option<PathBuf>,
    /// Keep attestations in memory only, even with --base-path.
    #[arg(long, env = "AITBC_TMP")]
    pub tmp: bool,
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// The base path whose chain database to delete.
    #[arg(long, env = "AITBC_BASE_PATH")]
    pub base_path: PathBuf,
    /// `dev`, `local` or a path to a JSON spec.
    #[arg(long, default_value = "dev")]
    pub chain: String,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct CheckDbArgs {
    /// The base path whose chain database to check.
    #[arg(long, env = "AITBC_BASE_PATH", required_unless_present = "db")]
    pub base_path: Option<PathBuf>,
    /// `dev`, `local` or a path to a JSON spec.
    #[arg(long, default_value = "dev")]
    pub chain: String,
    /// The database file itself (instead of BASE_PATH/chains/<id>/chain.redb).
    #[arg(long)]
    pub db: Option<PathBuf>,
}

impl RunArgs {
    /// The authority key's secret URI from --key, --key-file or a name shortcut (--dev: //alice).
    pub fn key_uri(&self) -> anyhow::Result<Option<String>> {
        if let Some(k) = &self.key {
            return Ok(Some(k.clone()));
        }
        if let Some(path) = &self.key_file {
            return read_secret_file(path, "--key-file").map(Some);
        }
        let shortcuts = [
            (self.alice, "//alice"),
            (self.bob, "//bob"),
            (self.charlie, "//charlie"),
            (self.dave, "//dave"),
            (self.eve, "//eve"),
            (self.ferdie, "//ferdie"),
        ];
        if let Some((_, uri)) = shortcuts.iter().find(|(on, _)| *on) {
            return Ok(Some(uri.to_string()));
        }
        Ok(self.dev.then(|| "//alice".to_string()))
    }
}

/// A count that must be at least 1.
fn positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// Reads a secret key file, refusing one that group or others may read (as ssh refuses a
/// private key with such modes): the secret would already be exposed to other users.
fn read_secret_file(path: &std::path::Path, flag: &str) -> anyhow::Result<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)
            .map_err(|e| anyhow::anyhow!("cannot read {flag} {}: {e}", path.display()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            anyhow::bail!(
                "{flag} {} is readable by others (mode {mode:o}): run chmod 600 on it",
                path.display()
            );
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {flag} {}: {e}", path.display()))?;
    Ok(text.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every `AITBC_*` variable of every command is listed in `.env.example`.
    #[test]
    fn env_example_lists_every_variable() {
        let example = include_str!("../../../.env.example");
        let listed = |name: &str| {
            example.lines().any(|l| {
                l.trim_start_matches('#')
                    .trim_start()
                    .starts_with(&format!("{name}="))
            })
        };
        let mut stack = vec![Cli::command()];
        let mut seen = 0;
        while let Some(cmd) = stack.pop() {
            for arg in cmd.get_arguments() {
                if let Some(env) = arg.get_env().and_then(|e| e.to_str()) {
                    seen += 1;
                    assert!(listed(env), "{env} is missing from .env.example");
                }
            }
            stack.extend(cmd.get_subcommands().cloned());
        }
        assert!(seen > 20, "only {seen} variables found");
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SyncArg {
    Full,
    Warp,
}

fn parse_pruning(s: &str) -> Result<aitbc_storage::Pruning, String> {
    s.parse()
}
