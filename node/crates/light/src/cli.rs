//! The `aitbc-light` command line: a command, its verified answer as one line of text (or JSON),
//! and a checkpoint file format. The binary prints what [`run`] returns, or its error on one line
//! with exit code 1.

use crate::{Checkpoint, LightClient};
use aitbc_chain_spec::ChainSpec;
use aitbc_primitives::{decode_exact, AccountId, Hash, Header, StateMachine};
use aitbc_runtime::Runtime;
use anyhow::{anyhow, Context};
use clap::{Parser, Subcommand};
use codec::Encode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

#[derive(Debug, Parser)]
#[command(
    name = "aitbc-light",
    version,
    about = "A light client: verifies what an AITBC node answers against finalized headers"
)]
pub struct Cli {
    /// The chain whose genesis authorities are trusted: `dev`, `local` or a JSON spec (ignored
    /// with --checkpoint).
    #[arg(long, default_value = "dev")]
    chain: String,
    /// The node to ask (trusted for nothing).
    #[arg(long, env = "AITBC_RPC_URL", default_value = "http://127.0.0.1:9080")]
    rpc: String,
    /// Start from this checkpoint (written by the `checkpoint` command) instead of genesis.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The verified finalized head and the authority set in office.
    Head,
    /// Print a checkpoint of the verified head (JSON) for --checkpoint.
    Checkpoint,
    /// An account's balance and nonce at the verified head.
    Balance { address: String },
    /// A settled receipt at the verified head.
    Receipt { id: String },
    /// Whether a transaction is in a finalized block.
    Tx { hash: String },
    /// A client's job escrow at the verified head.
    Job { client: String, job_id: u64 },
}

/// Runs the command line `args` (the program name first) and returns what to print.
pub async fn run_args<I, T>(args: I) -> anyhow::Result<String>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    run(Cli::try_parse_from(args)?).await
}

fn start(cli: &Cli) -> anyhow::Result<Checkpoint> {
    if let Some(path) = &cli.checkpoint {
        return read_checkpoint(path);
    }
    let spec = ChainSpec::load(&cli.chain)?;
    let genesis = spec.genesis()?;
    let authorities = Runtime::new(genesis.hash).authorities(&genesis.state);
    Ok(Checkpoint::genesis(genesis.header, authorities))
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<String> {
    let mut light = LightClient::new(&cli.rpc, start(&cli)?)?;
    light.sync().await?;
    let head = light.checkpoint().header.clone();
    let at = json!({ "number": head.number, "hash": head.hash() });
    let (json, text) = match &cli.command {
        Command::Head => {
            let c = light.checkpoint();
            (
                json!({ "number": head.number, "hash": head.hash(), "state_root": head.state_root,
                        "set_id": c.set_id, "authorities": c.authorities }),
                format!(
                    "finalized #{} {} (state root {}; authority set {} of {})",
                    head.number,
                    head.hash(),
                    head.state_root,
                    c.set_id,
                    c.authorities.len()
                ),
            )
        }
        Command::Checkpoint => return Ok(checkpoint_json(light.checkpoint()).to_string()),
        Command::Balance { address } => {
            let who: AccountId = address.parse().map_err(|e| anyhow!("{address}: {e}"))?;
            let info = light.balance(&who).await?;
            (
                json!({ "address": who, "balance": info.balance.to_string(), "nonce": info.nonce, "at": at }),
                format!(
                    "{who}: balance {}, nonce {} (finalized #{})",
                    info.balance, info.nonce, head.number
                ),
            )
        }
        Command::Receipt { id } => {
            let id = Hash::from_hex(id).map_err(|e| anyhow!("receipt id {id}: {e}"))?;
            let info = light.receipt(&id).await?;
            let text = match &info {
                Some(r) => format!(
                    "receipt {id} claimed at #{} by miner {}: {} units, {} minted{} (finalized #{})",
                    r.block_height,
                    r.miner,
                    r.compute_units,
                    r.minted,
                    if r.revoked { ", revoked" } else { "" },
                    head.number
                ),
                None => format!("receipt {id} is not claimed (finalized #{})", head.number),
            };
            (
                json!({ "receipt_id": id, "claimed": info.is_some(), "receipt": info, "at": at }),
                text,
            )
        }
        Command::Tx { hash } => {
            let hash = Hash::from_hex(hash).map_err(|e| anyhow!("transaction hash {hash}: {e}"))?;
            let included = light.tx(&hash).await?;
            (
                json!({ "hash": hash, "block_height": included.block_number,
                        "block_hash": included.block_hash, "index": included.index, "at": at }),
                format!(
                    "transaction {hash} is in finalized block #{} {} at index {}",
                    included.block_number, included.block_hash, included.index
                ),
            )
        }
        Command::Job { client, job_id } => {
            let who: AccountId = client.parse().map_err(|e| anyhow!("{client}: {e}"))?;
            let job = light.job(&who, *job_id).await?;
            let text = match &job {
                Some(j) => format!(
                    "job {job_id} of {who}: {:?}, price {}, expires at #{} (finalized #{})",
                    j.status, j.price, j.expires_at, head.number
                ),
                None => format!("{who} has no job {job_id} (finalized #{})", head.number),
            };
            (json!({ "job": job, "at": at }), text)
        }
    };
    Ok(if cli.json { json.to_string() } else { text })
}

fn checkpoint_json(c: &Checkpoint) -> Value {
    json!({
        "genesis_hash": c.genesis_hash,
        "set_id": c.set_id,
        "authorities": c.authorities,
        "header": format!("0x{}", hex::encode(c.header.encode())),
    })
}

fn read_checkpoint(path: &Path) -> anyhow::Result<Checkpoint> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read checkpoint {}", path.display()))?;
    let v: Value = serde_json::from_str(&text)
        .with_context(|| format!("checkpoint {} is not JSON", path.display()))?;
    let field = |name: &str| {
        v.get(name)
            .ok_or_else(|| anyhow!("checkpoint {} has no {name}", path.display()))
    };
    let genesis_hash: Hash = serde_json::from_value(field("genesis_hash")?.clone())
        .context("checkpoint genesis_hash")?;
    let set_id = field("set_id")?
        .as_u64()
        .ok_or_else(|| anyhow!("checkpoint set_id must be a number"))?;
    let authorities: Vec<AccountId> =
        serde_json::from_value(field("authorities")?.clone()).context("checkpoint authorities")?;
    let header_hex = field("header")?
        .as_str()
        .ok_or_else(|| anyhow!("checkpoint header must be 0x hex"))?;
    let bytes = hex::decode(header_hex.strip_prefix("0x").unwrap_or(header_hex))
        .context("checkpoint header is not hex")?;
    let header: Header =
        decode_exact(&bytes).map_err(|e| anyhow!("checkpoint header does not decode: {e}"))?;
    Ok(Checkpoint {
        genesis_hash,
        set_id,
        authorities,
        header,
    })
}
