//! `mock-coordinator`: runs the mock coordinator service until SIGTERM or Ctrl-C.

use super::args::CoordinatorArgs;
use super::http::HttpClient;
use crate::coordinator::{self, Coordinator};
use aitbc_chain_spec::ChainSpec;
use aitbc_primitives::{Hash, Pair};
use anyhow::{anyhow, Context};
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

pub async fn run(
    args: CoordinatorArgs,
    shutdown_signal: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let key = Pair::from_uri(&args.key).map_err(|e| anyhow!("invalid --key: {e}"))?;
    let genesis = genesis_hash(&args).await?;
    let (stop, rx) = watch::channel(false);
    let handle = coordinator::serve(Coordinator::new(key.clone(), genesis), args.addr, rx)
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
