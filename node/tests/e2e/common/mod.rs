//! Shared helpers for the node's end-to-end tests: in-process nodes on ephemeral ports, dev keys,
//! signing, and waiting on conditions with deadlines.
#![allow(dead_code, clippy::unwrap_used)]

use aitbc_chain_spec::ChainSpec;
use aitbc_consensus::SystemClock;
use aitbc_node::service::{self, AitbcChain, Networking, NodeConfig, NodeHandle};
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{AccountId, Extrinsic, Hash, Pair, StateMachine};
use aitbc_rpc::http_client::HttpClient;
use aitbc_rpc::RpcConfig;
use aitbc_runtime::Call;
use aitbc_txpool::PoolLimits;
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
        chain: AitbcChain {
            spec,
            sudo: Some(dev_pair("alice")),
        },
        base_path: base.to_path_buf(),
        authority: authority.then(|| dev_pair("alice")),
        rpc: RpcConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            max_body: 64 * 1024,
            timeout: Duration::from_secs(10),
            max_concurrent: 256,
            admin_token: Some(TOKEN.into()),
            chain_name: "dev".into(),
            ..RpcConfig::default()
        },
        pool: PoolLimits::default(),
        name: "test".into(),
        network: Networking::Off,
        clock: SystemClock::shared(),
        pruning: aitbc_storage::Pruning::DEFAULT,
        blocks_pruning: aitbc_storage::Pruning::Archive,
        sync: aitbc_node::workers::warp::SyncMode::Full,
    }
}

pub async fn start(config: NodeConfig) -> NodeHandle {
    service::start(config).await.expect("node starts")
}

pub fn http<S: StateMachine>(node: &NodeHandle<S>) -> HttpClient {
    HttpClient::new(&format!("http://{}", node.rpc_addr)).unwrap()
}

/// A free TCP port on loopback (bound and released: a process started next can take it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
    let params = TxParams {
        nonce,
        ..TxParams::default()
    };
    Extrinsic::sign(from, Call::transfer(*to, amount), params, genesis)
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

/// Sends one HTTP/1.1 request on a fresh connection from the local address `from` (any address
/// in 127/8 works on Linux, so tests can play several clients). Returns status, headers and the
/// body as JSON (`Value::String` if it is not JSON).
pub async fn http_from(
    node: std::net::SocketAddr,
    from: std::net::IpAddr,
    method: hyper::Method,
    path: &str,
    body: Option<Vec<u8>>,
) -> (u16, hyper::HeaderMap, Value) {
    http_with(node, from, method, path, None, body).await
}

/// [`http_from`] with an `Authorization: Bearer` token when `token` is given.
pub async fn http_with(
    node: std::net::SocketAddr,
    from: std::net::IpAddr,
    method: hyper::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
) -> (u16, hyper::HeaderMap, Value) {
    use http_body_util::{BodyExt, Full};
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(std::net::SocketAddr::new(from, 0)).unwrap();
    let stream = socket.connect(node).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, node.to_string());
    if body.is_some() {
        req = req.header(hyper::header::CONTENT_TYPE, "application/json");
    }
    if let Some(t) = token {
        req = req.header(hyper::header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = req
        .body(Full::new(hyper::body::Bytes::from(
            body.unwrap_or_default(),
        )))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, headers, value)
}

/// `http_from` 127.0.0.1.
pub async fn http_raw<S: StateMachine>(
    node: &NodeHandle<S>,
    method: hyper::Method,
    path: &str,
    body: Option<Vec<u8>>,
) -> (u16, Value) {
    let (status, _, v) = http_from(node.rpc_addr, [127, 0, 0, 1].into(), method, path, body).await;
    (status, v)
}

/// Reads one HTTP/1.1 response from a raw socket (status and body), or `None` if the peer
/// closed first. Panics after `secs` seconds.
pub async fn read_response<R: tokio::io::AsyncRead + Unpin>(
    stream: &mut R,
    secs: u64,
) -> Option<(u16, String)> {
    use tokio::io::AsyncReadExt;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
                return Some((status, body));
            }
        }
        let n = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .expect("timed out reading a response");
        match n {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Waits until the peer closes `stream` (EOF or reset); panics after `secs` seconds.
pub async fn wait_closed<R: tokio::io::AsyncRead + Unpin>(stream: &mut R, secs: u64) {
    use tokio::io::AsyncReadExt;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .expect("the server did not close the connection")
        {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// A websocket client connection.
pub type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Opens `ws://NODE/rpc/ws`.
pub async fn ws_connect<S: StateMachine>(
    node: &NodeHandle<S>,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let stream = tokio::net::TcpStream::connect(node.rpc_addr).await.unwrap();
    let url = format!("ws://{}/rpc/ws", node.rpc_addr);
    tokio_tungstenite::client_async(url, stream)
        .await
        .map(|(ws, _)| ws)
}

/// Sends a JSON text message.
pub async fn ws_send(ws: &mut Ws, v: Value) {
    use futures_util::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::text(v.to_string()))
        .await
        .unwrap();
}

/// The next text message as JSON; panics after `secs` seconds or if the connection ends.
pub async fn ws_next(ws: &mut Ws, secs: u64) -> Value {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("timed out waiting for a websocket message")
            .expect("websocket closed")
            .expect("websocket error");
        match msg {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Message::Close(f) => panic!("websocket closed by the server: {f:?}"),
            _ => {}
        }
    }
}

/// The next notification of subscription `sub` (other messages are skipped).
pub async fn ws_next_of(ws: &mut Ws, sub: u64, secs: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .as_secs()
            .max(1);
        let v = ws_next(ws, left).await;
        if v["subscription"] == sub && v.get("result").is_some() {
            return v["result"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for subscription {sub}"
        );
    }
}

/// Subscribes and returns the subscription id.
pub async fn ws_subscribe(ws: &mut Ws, cmd: Value) -> u64 {
    ws_send(ws, cmd.clone()).await;
    let ack = ws_reply(ws).await;
    ack["subscription"]
        .as_u64()
        .unwrap_or_else(|| panic!("{cmd} was refused: {ack}"))
}

/// The next reply to a command (a message that is not a notification).
pub async fn ws_reply(ws: &mut Ws) -> Value {
    loop {
        let v = ws_next(ws, 10).await;
        if v.get("result").is_none() {
            return v;
        }
    }
}

/// This process's peak resident set (VmHWM in /proc/self/status) in MiB: with in-process nodes,
/// the node and the test's clients together. `None` where /proc is missing.
pub fn peak_rss_mib() -> Option<f64> {
    rss_field("VmHWM:")
}

/// The current resident set (VmRSS) in MiB.
pub fn rss_mib() -> Option<f64> {
    rss_field("VmRSS:")
}

fn rss_field(name: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(name))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// Prints the peak RSS after an abuse test (`what`) and checks it against a generous bound
/// (`max_mib`): the point is that memory stays bounded, not a tight figure.
pub fn report_rss(what: &str, max_mib: f64) {
    match (peak_rss_mib(), rss_mib()) {
        (Some(peak), Some(now)) => {
            eprintln!("peak RSS after {what}: {peak:.1} MiB (now {now:.1} MiB)");
            assert!(
                peak < max_mib,
                "{what}: peak RSS {peak:.1} MiB over {max_mib} MiB"
            );
        }
        _ => eprintln!("peak RSS after {what}: unavailable (no /proc)"),
    }
}

/// The node's `/metrics` text.
pub async fn metrics_text<S: StateMachine>(node: &NodeHandle<S>) -> String {
    let (_, v) = http_raw(node, hyper::Method::GET, "/metrics", None).await;
    v.as_str().unwrap().to_string()
}

/// Signs `call` from `from` with `nonce`.
pub fn sign(from: &Pair, call: Call, nonce: u64, genesis: Hash) -> Extrinsic<Call> {
    Extrinsic::sign(
        from,
        call,
        TxParams {
            nonce,
            tip: 0,
            valid_until: None,
        },
        genesis,
    )
}

/// `0x` + the SCALE encoding.
pub fn hex_tx(xt: &Extrinsic<Call>) -> String {
    format!("0x{}", hex::encode(xt.encode()))
}

/// The receipt claim of `miner` for `client`'s job, attested by //coordinator.
pub fn receipt_claim(
    client: &AccountId,
    job_id: u64,
    miner: &Pair,
    units: u64,
    price: u128,
    genesis: Hash,
) -> aitbc_primitives::ReceiptClaim {
    let coordinator = aitbc_primitives::crypto::dev_pair("coordinator");
    let receipt = aitbc_primitives::ComputeReceipt {
        job_id,
        client: *client,
        miner: miner.public(),
        coordinator: coordinator.public(),
        compute_units: units,
        price,
        output_hash: Hash::of(&job_id.to_le_bytes()),
    };
    aitbc_primitives::ReceiptClaim {
        miner_sig: receipt.sign_as_miner(miner, &genesis),
        attestation: receipt.attest(&coordinator, &genesis),
        receipt,
    }
}

/// Over REST: //bob opens job `job_id` (price 5000) with //coordinator, //charlie claims it
/// through `submitReceipt`; waits until finalized. Returns the receipt id and the
/// `submitReceipt` answer.
pub async fn open_and_claim(rpc: &mut HttpClient, job_id: u64, genesis: Hash) -> (Hash, Value) {
    let (bob, charlie) = (dev_pair("bob"), dev_pair("charlie"));
    let coordinator = dev_pair("coordinator").public();
    let (_, _, nonce) = balance(rpc, &bob.public()).await;
    let open = sign(
        &bob,
        Call::open_job(job_id, coordinator, 5_000, 10_000),
        nonce,
        genesis,
    );
    let h = rpc.post_ok("/rpc/sendTx", &tx_body(&open)).await.unwrap();
    let tx = wait_tx(rpc, h["txHash"].as_str().unwrap(), "finalized").await;
    assert_eq!(tx["success"], true, "{tx}");
    let claim = receipt_claim(&bob.public(), job_id, &charlie, 3, 4_000, genesis);
    let id = claim.receipt.id();
    let (_, _, nonce) = balance(rpc, &charlie.public()).await;
    let xt = sign(&charlie, Call::claim(claim), nonce, genesis);
    let h = rpc
        .post_ok("/rpc/submitReceipt", &tx_body(&xt))
        .await
        .unwrap();
    let tx = wait_tx(rpc, h["txHash"].as_str().unwrap(), "finalized").await;
    assert_eq!(tx["success"], true, "{tx}");
    (id, h)
}

pub mod net;

/// A name-registry chain of `genesis`, ready for `service::start_chain`: the core RPC routes
/// only (the registry has no API of its own).
pub fn registry_chain(
    genesis: &aitbc_name_registry::Genesis,
) -> aitbc_node::service::Chain<aitbc_name_registry::NameRegistry> {
    let (state, header) = genesis.build().unwrap();
    aitbc_node::service::Chain {
        id: genesis.chain_id.clone(),
        name: format!("Name registry {}", genesis.chain_id),
        runtime: std::sync::Arc::new(aitbc_name_registry::NameRegistry::new(header.hash())),
        genesis: aitbc_client::GenesisBlock {
            header,
            state,
            state_policy: aitbc_storage::GenesisState::IfNew,
        },
        rpc: std::sync::Arc::new(aitbc_rpc::NoExtension),
    }
}

/// Root (//alice, the dev and local chains' sudo key) sets the authorities with nonce `nonce`;
/// submitted to `c`'s pool.
pub fn set_authorities(c: &aitbc_client::Client<aitbc_runtime::Runtime>, set: &[&str], nonce: u64) {
    let list: Vec<AccountId> = set.iter().map(|a| dev_pair(a).public()).collect();
    let xt = Extrinsic::sign(
        &dev_pair("alice"),
        Call::sudo(Call::set_authorities(
            aitbc_primitives::BoundedVec::try_from_vec(list).unwrap(),
        )),
        TxParams {
            nonce,
            ..Default::default()
        },
        c.genesis_hash(),
    );
    let len = codec::Encode::encoded_size(&xt);
    c.submit_decoded(xt, len).unwrap();
}
