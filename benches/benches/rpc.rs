//! RPC request handling, through the node's whole HTTP stack.
//!
//! The router is a `tower` service over hyper's `Incoming` body, which only a live connection
//! makes, so the benches run the real server (`aitbc_rpc::serve`, default configuration)
//! in-process on a loopback port and send one request at a time over one keep-alive HTTP/1.1
//! connection (`aitbc_rpc::http_client::HttpClient`, the CLI's client). The figures are latency
//! per request (client and server on the same two cores); `aitbc-load --mode reads` measures
//! throughput with many connections.
//! - `rpc::handle/method=getBalance`: `GET /rpc/getBalance/{address}` of funded accounts in turn.
//! - `rpc::handle/method=submitTransaction`: `POST /rpc/sendTx` of a fresh signed transfer
//!   (hex SCALE): decode, signature check, validation against the best state, pool insert.
//! - `rpc::method/method=getBalance`: `rpc::methods::get_balance` called directly (no HTTP): what
//!   the handler itself costs.
//!
//! State: a dev chain whose genesis endows `SENDERS` accounts, at genesis (no blocks); the pool
//! is large enough for every transaction the bench sends.

use aitbc_benches::fixture;
use aitbc_client::Client;
use aitbc_primitives::Pair;
use aitbc_rpc::http_client::HttpClient;
use aitbc_rpc::{methods, RpcConfig};
use aitbc_runtime::Runtime;
use aitbc_txpool::PoolLimits;
use codec::Encode;
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SENDERS: usize = 2_000;

fn bench(c: &mut Criterion) {
    let senders = fixture::senders(SENDERS);
    let spec = fixture::dev_spec("bench_rpc", &senders);
    let genesis = spec.genesis().expect("genesis").hash;
    let dir = tempfile::tempdir().expect("tempdir");
    let client: Arc<Client<Runtime>> = Arc::new(
        aitbc_node::service::open_client(
            &spec,
            &dir.path().join("chain.redb"),
            PoolLimits {
                max_txs: 1 << 22,
                max_bytes: 1 << 30,
                max_per_sender: 1 << 20,
                ..PoolLimits::default()
            },
        )
        .expect("open client"),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    let config = RpcConfig {
        addr: "127.0.0.1:0".parse().expect("addr"),
        ..RpcConfig::default()
    };
    let server = rt
        .block_on(aitbc_rpc::serve(
            client.clone(),
            config,
            None,
            std::sync::Arc::new(aitbc_runtime_rpc::AitbcRpc::default()),
            shutdown,
        ))
        .expect("serve");
    let mut http = HttpClient::new(&format!("http://{}", server.local_addr)).expect("url");
    let paths: Vec<String> = senders
        .iter()
        .map(|p| format!("/rpc/getBalance/{}", p.public()))
        .collect();

    let mut g = c.benchmark_group("rpc::handle");
    let mut i = 0usize;
    g.bench_function("method=getBalance", |b| {
        b.iter(|| {
            i = (i + 1) % paths.len();
            let (status, _) = rt.block_on(http.get(&paths[i])).expect("request");
            assert_eq!(status, 200);
        })
    });

    let mut nonces = vec![0u64; SENDERS];
    let mut next = 0usize;
    let mut sign = |n: u64| -> Vec<Value> {
        let picks: Vec<(usize, u64)> = (0..n)
            .map(|_| {
                let s = next;
                next = (next + 1) % SENDERS;
                nonces[s] += 1;
                (s, nonces[s] - 1)
            })
            .collect();
        fixture::par_map(picks.len(), |k| {
            let (s, nonce) = picks[k];
            let to: &Pair = &senders[(s + 1) % SENDERS];
            let xt = fixture::transfer(&senders[s], to.public(), 1, nonce, genesis);
            json!({ "tx": format!("0x{}", hex::encode(xt.encode())) })
        })
    };
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("method=submitTransaction", |b| {
        b.iter_custom(|iters| {
            let bodies = sign(iters);
            let started = Instant::now();
            for body in &bodies {
                let (status, v) = rt
                    .block_on(http.post("/rpc/sendTx", body))
                    .expect("request");
                assert_eq!(status, 200, "{v}");
            }
            started.elapsed()
        })
    });
    g.finish();

    let addrs: Vec<String> = senders.iter().map(|p| p.public().to_string()).collect();
    let mut g = c.benchmark_group("rpc::method");
    g.bench_function("method=getBalance", |b| {
        b.iter(|| {
            i = (i + 1) % addrs.len();
            methods::get_balance(&client, &addrs[i]).expect("balance")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
