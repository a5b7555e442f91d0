//! `mock-coordinator`: runs the mock coordinator service until SIGTERM or Ctrl-C, remembering
//! its attestations in a redb file (`--db`, or under `--base-path`) or in memory ([`memory`]).

use super::args::CoordinatorArgs;
use aitbc_chain_spec::{ChainSpec, ChainType};
use aitbc_coordinator::{self as coordinator, Coordinator};
use aitbc_primitives::{Hash, Pair};
use aitbc_rpc::http_client::HttpClient;
use anyhow::{anyhow, Context};
use std::path::PathBuf;
use tokio::sync::watch;

/// The genesis hash to attest for: read once from `--rpc`, or built from `--chain`.
async fn genesis_hash(args: &CoordinatorArgs) -> anyhow::Result<Hash> {
    if let Some(rpc) = &args.rpc {
        let health = HttpClient::new(rpc)?
            .get_ok("/health")
            .await
            .context("reading the node's genesis hash")?;
        return health["genesis_hash"]
            .as_str()
            .and_then(|s| Hash::from_hex(s).ok())
            .ok_or_else(|| anyhow!("the node's /health has no genesis_hash"));
    }
    Ok(ChainSpec::load(args.chain.as_deref().unwrap_or("dev"))?
        .genesis()?
        .hash)
}

/// Refuses a dev `--key` (e.g. the default `//coordinator`) unless the chain is a `Development`
/// or `Local` one: the `--chain` spec's type, or with `--rpc` a node on the dev or local preset
/// (the node does not publish its chain type; pass `--chain SPEC` for a custom local spec).
pub fn check_key(args: &CoordinatorArgs, key: &Pair, genesis: &Hash) -> anyhow::Result<()> {
    if args.rpc.is_some() {
        let preset = [ChainSpec::dev(), ChainSpec::local()]
            .into_iter()
            .find(|s| s.genesis().is_ok_and(|g| g.hash == *genesis));
        let (id, chain_type) = match &preset {
            Some(spec) => (spec.id.clone(), spec.chain_type),
            None => (format!("genesis {genesis}"), ChainType::Live),
        };
        return crate::dev_keys::refuse_on("coordinator", &args.key, key, &id, chain_type);
    }
    let spec = ChainSpec::load(args.chain.as_deref().unwrap_or("dev"))?;
    crate::dev_keys::refuse_dev_key("coordinator", &args.key, key, &spec)
}

/// Where the coordinator keeps its attestations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Memory {
    /// In memory: forgotten on exit.
    Temporary,
    /// In this redb file.
    Db(PathBuf),
}

/// `--db`, else `BASE_PATH/coordinator/<genesis prefix>.redb` unless `--tmp`, else memory only.
pub fn memory(args: &CoordinatorArgs, genesis: &Hash) -> anyhow::Result<Memory> {
    match (&args.db, &args.base_path, args.tmp) {
        (Some(_), _, true) => Err(anyhow!("--db and --tmp exclude each other")),
        (Some(db), _, false) => Ok(Memory::Db(db.clone())),
        (None, Some(base), false) => Ok(Memory::Db(
            base.join("coordinator")
                .join(coordinator::db_file_name(genesis)),
        )),
        (None, _, _) => Ok(Memory::Temporary),
    }
}

pub async fn run(
    args: CoordinatorArgs,
    shutdown_signal: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let key = Pair::from_uri(&args.key).map_err(|e| anyhow!("invalid --key: {e}"))?;
    let genesis = genesis_hash(&args).await?;
    check_key(&args, &key, &genesis)?;
    let state = match memory(&args, &genesis)? {
        Memory::Db(path) => {
            let c = Coordinator::open(key.clone(), genesis, &path)?;
            tracing::info!(
                target: "coordinator",
                path = %path.display(),
                attested = c.attested(),
                "attested receipts are kept in {}", path.display()
            );
            c
        }
        Memory::Temporary => {
            tracing::warn!(
                target: "coordinator",
                "attested receipts are kept in memory only and forgotten on exit; pass --db or \
                 --base-path to keep them"
            );
            Coordinator::new(key.clone(), genesis)
        }
    };
    let state = match &args.rpc {
        Some(rpc) => state.with_chain(rpc),
        None => state,
    };
    let (stop, rx) = watch::channel(false);
    let handle = coordinator::serve(state, args.addr, rx)
        .await
        .with_context(|| format!("cannot bind {}", args.addr))?;
    tracing::info!(
        target: "coordinator",
        coordinator = %key.public(),
        genesis = %genesis,
        "mock coordinator listening on http://{}", handle.local_addr
    );
    shutdown_signal.await?;
    let _ = stop.send(true);
    let _ = handle.task.await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::{Cli, Command};
    use clap::Parser;

    fn args(flags: &[&str]) -> CoordinatorArgs {
        let argv = ["aitbc-node", "mock-coordinator"].iter().chain(flags);
        match Cli::try_parse_from(argv).unwrap().command {
            Some(Command::MockCoordinator(a)) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn where_attestations_are_kept() {
        let g = Hash::of(b"genesis");
        let file = coordinator::db_file_name(&g);
        assert_eq!(file.len(), 16 + ".redb".len());
        assert_eq!(
            memory(&args(&["--db", "/x/c.redb"]), &g).unwrap(),
            Memory::Db("/x/c.redb".into())
        );
        assert_eq!(
            memory(&args(&["--base-path", "/data"]), &g).unwrap(),
            Memory::Db(PathBuf::from("/data/coordinator").join(&file))
        );
        assert_eq!(
            memory(&args(&["--base-path", "/data", "--tmp"]), &g).unwrap(),
            Memory::Temporary
        );
        assert!(memory(&args(&["--db", "/x/c.redb", "--tmp"]), &g).is_err());
    }
}
