//! Shared helpers for the node's end-to-end tests: in-process nodes on ephemeral ports, dev keys,
//! signing, and waiting on conditions with deadlines.
#![allow(dead_code, clippy::unwrap_used)]

use aitbc_chain_spec::ChainSpec;
use aitbc_node::cli::http::HttpClient;
use aitbc_node::pool::PoolLimits;
use aitbc_node::rpc::RpcConfig;
use aitbc_node::service::{self, NodeConfig, NodeHandle};
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{AccountId, Extrinsic, Hash, Pair};
use aitbc_runtime::{balances, Call};
use codec::Encode;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

pub const TOKEN: &str = "test-admin-token";
pub const SLOT_MS: u64 = 200;

/// The dev spec with short slots (and a faucet switch).
pub fn spec(faucet: bool) -> ChainSpec {
    let mut spec = ChainSpec::dev();
    spec.genesis.slot_duration_ms = SLOT_MS;
    spec.genesis.faucet = faucet;
    spec
}

pub fn config(spec: ChainSpec, base: &Path, authority: bool) -> NodeConfig {
    NodeConfig {
        spec,
        base_path: base.to_path_buf(),
        authority: authority.then(|| dev_pair("alice")),
        sudo: Some(dev_pair("alice")),
        rpc: RpcConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            max_body: 64 * 1024,
            timeout: Duration::from_secs(10),
            max_concurrent: 256,
            admin_token: Some(TOKEN.into()),
            chain_name: "dev".into(),
        },
        pool: PoolLimits::default(),
        name: "test".into(),
    }
}

pub async fn start(config: NodeConfig) -> NodeHandle {
    service::start(config).await.expect("node starts")
}

pub fn http(node: &NodeHandle) -> HttpClient {
    HttpClient::new(&format!("http://{}", node.rpc_addr)).unwrap()
}

/// Polls `cond` every 50 ms until it returns `Some`, or panics after `secs` seconds.
pub async fn wait_until<T, F, Fut>(secs: u64, what: &str, mut cond: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = cond().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn height(rpc: &mut HttpClient) -> u64 {
    rpc.get_ok("/rpc/getHead").await.unwrap()["height"]
        .as_u64()
        .unwrap()
}

pub async fn wait_height(rpc: &mut HttpClient, h: u64) {
    let url = rpc.base_url();
    wait_until(30, &format!("height {h}"), || {
        let url = url.clone();
        async move {
            let mut c = HttpClient::new(&url).unwrap();
            (height(&mut c).await >= h).then_some(())
        }
    })
    .await;
}

pub async fn balance(rpc: &mut HttpClient, who: &AccountId) -> (u128, u64, u64) {
    let v = rpc.get_ok(&format!("/rpc/getBalance/{who}")).await.unwrap();
    (
        v["balance"].as_str().unwrap().parse().unwrap(),
        v["nonce"].as_u64().unwrap(),
        v["next_nonce"].as_u64().unwrap(),
    )
}

pub fn transfer(
    from: &Pair,
    to: &AccountId,
    amount: u128,
    nonce: u64,
    genesis: Hash,
) -> Extrinsic<Call> {
    Extrinsic::sign(
        from,
        Call::Balances(balances::Call::Transfer { dest: *to, amount }),
        TxParams {
            nonce,
            tip: 0,
            valid_until: None,
        },
        genesis,
    )
}

pub fn tx_body(xt: &Extrinsic<Call>) -> Value {
    json!({ "tx": format!("0x{}", hex::encode(xt.encode())) })
}

/// Waits until a transaction reaches `status` and returns its JSON.
pub async fn wait_tx(rpc: &mut HttpClient, hash: &str, status: &str) -> Value {
    let url = rpc.base_url();
    let (hash, status) = (hash.to_string(), status.to_string());
    wait_until(30, &format!("tx {hash} {status}"), || {
        let (url, hash, status) = (url.clone(), hash.clone(), status.clone());
        async move {
            let mut c = HttpClient::new(&url).unwrap();
            let (code, v) = c.get(&format!("/rpc/getTx/{hash}")).await.ok()?;
            (code == 200 && v["status"] == status.as_str()).then_some(v)
        }
    })
    .await
}

pub fn error_code(v: &Value) -> &str {
    v.pointer("/error/code")
        .and_then(Value::as_str)
        .unwrap_or("<none>")
}
