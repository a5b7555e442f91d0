//! Clients that misbehave: oversized bodies, too many requests, too many at once, and a client
//! that trickles its request. Each is refused with its status and JSON error, promptly, while
//! well-behaved clients are still served.

use crate::common::*;
use hyper::Method;
use serde_json::Value;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn code_of(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap();
    error_code(&v).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_413_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(false), dir.path(), false)).await; // --rpc-max-body 64 KiB

    // A huge declared length and only the start of the body: the answer comes at once.
    for path in ["/rpc/sendTx", "/rpc", "/admin/mintFaucet", "/rpc/getHead"] {
        let mut s = TcpStream::connect(node.rpc_addr).await.unwrap();
        let method = if path == "/rpc/getHead" {
            "GET"
        } else {
            "POST"
        };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: n\r\nContent-Type: application/json\r\n\
             Content-Length: 100000000\r\n\r\n{{\"tx\":\"0x"
        );
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(&[b'0'; 4096]).await.unwrap();
        let started = Instant::now();
        let (status, body) = read_response(&mut s, 5).await.expect("an answer");
        assert_eq!(
            (status, code_of(&body).as_str()),
            (413, "body_too_large"),
            "{path}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{path}: slow 413"
        );
        // The rest of the body is never read: the server closes the connection.
        wait_closed(&mut s, 5).await;
    }

    // Without a length (chunked), the body is cut off at the cap.
    let mut s = TcpStream::connect(node.rpc_addr).await.unwrap();
    s.write_all(b"POST /rpc/sendTx HTTP/1.1\r\nHost: n\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    let chunk = format!("2000\r\n{}\r\n", "0".repeat(0x2000));
    for _ in 0..4 {
        s.write_all(chunk.as_bytes()).await.unwrap();
    }
    // Half-way through the abusive body (32 of 64 KiB), an honest client is served.
    let (status, _) = http_raw(&node, Method::GET, "/rpc/getHead", None).await;
    assert_eq!(status, 200, "honest client while a body is streaming");
    for _ in 0..6 {
        s.write_all(chunk.as_bytes()).await.unwrap();
    }
    let (status, body) = read_response(&mut s, 5).await.expect("an answer");
    assert_eq!((status, code_of(&body).as_str()), (413, "body_too_large"));

    // The node is fine.
    let (status, _) = http_raw(&node, Method::GET, "/rpc/getHead", None).await;
    assert_eq!(status, 200);
    report_rss("oversized bodies", 1024.0);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_client_gets_429_while_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(spec(false), dir.path(), false);
    cfg.rpc.rate_limit = 5;
    cfg.rpc.rate_limit_loopback = true;
    let node = start(cfg).await;
    let noisy: IpAddr = [127, 0, 0, 2].into();
    let quiet: IpAddr = [127, 0, 0, 1].into();
    let mut refused = None;
    for i in 0..50 {
        let (status, headers, v) =
            http_from(node.rpc_addr, noisy, Method::GET, "/rpc/getHead", None).await;
        if status == 429 {
            refused = Some((i, headers, v));
            break;
        }
        assert_eq!(status, 200);
    }
    let (i, headers, v) = refused.expect("the noisy client was never limited");
    assert!(i >= 4, "limited after {i} requests with a burst of 5");
    assert_eq!(error_code(&v), "rate_limited");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    // Another client is still served, and so is the noisy one once its bucket refills.
    let (status, _, _) = http_from(node.rpc_addr, quiet, Method::GET, "/rpc/getHead", None).await;
    assert_eq!(status, 200);
    wait_until(5, "the bucket to refill", || async {
        let (status, _, _) =
            http_from(node.rpc_addr, noisy, Method::GET, "/rpc/getHead", None).await;
        (status == 200).then_some(())
    })
    .await;
    let metrics = metrics_text(&node).await;
    assert!(metrics.contains("substrate_rpc_requests_total{method=\"getHead\",status=\"429\"}"));
    report_rss("a rate-limited client", 1024.0);
    node.stop().await;

    // Without --rpc-rate-limit-loopback, local tools are never throttled.
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(spec(false), dir.path(), false);
    cfg.rpc.rate_limit = 1;
    let node = start(cfg).await;
    for _ in 0..20 {
        let (status, _, _) =
            http_from(node.rpc_addr, noisy, Method::GET, "/rpc/getHead", None).await;
        assert_eq!(status, 200);
    }
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_concurrency_limit_503() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(spec(false), dir.path(), false);
    cfg.rpc.max_concurrent = 2;
    let node = start(cfg).await;
    // Two requests in flight, each waiting for the rest of its body. A holder that raced
    // another request for a slot was shed (it got an answer at once): open it again until both
    // are in flight, i.e. silent for a while.
    let mut holders = Vec::new();
    while holders.len() < 2 {
        let mut s = TcpStream::connect(node.rpc_addr).await.unwrap();
        s.write_all(b"POST /rpc/sendTx HTTP/1.1\r\nHost: n\r\nContent-Length: 100\r\n\r\n{")
            .await
            .unwrap();
        let mut buf = [0u8; 64];
        let answered = tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await;
        if answered.is_err() {
            holders.push(s);
        }
    }
    let v = wait_until(10, "a 503", || async {
        let (status, v) = http_raw(&node, Method::GET, "/rpc/getHead", None).await;
        (status == 503).then_some(v)
    })
    .await;
    assert_eq!(error_code(&v), "overloaded");
    drop(holders);
    wait_until(10, "requests to be served again", || async {
        let (status, _) = http_raw(&node, Method::GET, "/rpc/getHead", None).await;
        (status == 200).then_some(())
    })
    .await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sending_a_byte_a_second_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(spec(false), dir.path(), false);
    cfg.rpc.timeout = Duration::from_secs(2);
    let node = start(cfg).await;

    // A body trickled a byte a second: 408 at the timeout, then the connection is closed.
    let s = TcpStream::connect(node.rpc_addr).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    wr.write_all(b"POST /rpc/sendTx HTTP/1.1\r\nHost: n\r\nContent-Length: 1000\r\n\r\n")
        .await
        .unwrap();
    let trickle = tokio::spawn(async move {
        for _ in 0..30 {
            if wr.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    // While the trickle goes on, an honest client is served.
    let (status, _) = http_raw(&node, Method::GET, "/rpc/getHead", None).await;
    assert_eq!(status, 200, "honest client during a trickled body");
    let started = Instant::now();
    let (status, body) = read_response(&mut rd, 8).await.expect("an answer");
    assert_eq!((status, code_of(&body).as_str()), (408, "timeout"));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(5),
        "{took:?}"
    );
    wait_closed(&mut rd, 5).await;
    trickle.abort();

    // Headers trickled a byte a second: the connection is closed at the header timeout.
    let s = TcpStream::connect(node.rpc_addr).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    wr.write_all(b"GET /rpc/getHead HTTP/1.1\r\n")
        .await
        .unwrap();
    let trickle = tokio::spawn(async move {
        for b in b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter() {
            if wr.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let started = Instant::now();
    let (status, _) = http_raw(&node, Method::GET, "/rpc/getHead", None).await;
    assert_eq!(status, 200, "honest client during trickled headers");
    wait_closed(&mut rd, 8).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    trickle.abort();

    // Others are served meanwhile and after.
    let (status, _) = http_raw(&node, Method::GET, "/rpc/getHead", None).await;
    assert_eq!(status, 200);
    report_rss("slow clients", 1024.0);
    node.stop().await;
}

/// Opens a TCP connection to `node` from the local address `from`.
async fn connect_from(node: std::net::SocketAddr, from: IpAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(std::net::SocketAddr::new(from, 0)).unwrap();
    socket.connect(node).await.unwrap()
}

/// Whether a GET on an open connection is answered 200.
async fn served_on(s: &mut TcpStream) -> bool {
    let req = b"GET /rpc/getHead HTTP/1.1\r\nHost: n\r\n\r\n";
    if s.write_all(req).await.is_err() {
        return false;
    }
    matches!(read_response(s, 5).await, Some((200, _)))
}

/// One IP holding its `--rpc-max-connections-per-ip` connections gets every further one closed at
/// accept, unread, however many it opens; another client (and the abuser's existing
/// connections) are served meanwhile; closing one frees a place. A JSON-RPC batch over the cap is
/// refused while an honest call on another connection is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_per_ip_cap_are_closed_while_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(spec(false), dir.path(), true);
    cfg.rpc.max_connections_per_ip = 8;
    cfg.rpc.timeout = Duration::from_secs(30);
    let node = start(cfg).await;
    let abuser: IpAddr = [127, 0, 0, 2].into();
    let honest: IpAddr = [127, 0, 0, 1].into();

    // Eight connections, each proven accepted by an answer.
    let mut held = Vec::new();
    for _ in 0..8 {
        let mut s = connect_from(node.rpc_addr, abuser).await;
        assert!(served_on(&mut s).await, "one of the first 8 was refused");
        held.push(s);
    }
    // Then a flood of 300 more: every one is closed without an answer.
    let mut extra = Vec::new();
    for _ in 0..300 {
        extra.push(connect_from(node.rpc_addr, abuser).await);
    }
    for s in &mut extra {
        let _ = s
            .write_all(b"GET /rpc/getHead HTTP/1.1\r\nHost: n\r\n\r\n")
            .await;
        assert_eq!(read_response(s, 5).await, None, "served past the cap");
    }
    drop(extra);
    // Meanwhile the honest client, and the abuser's own 8 connections, are served.
    let (status, _, _) = http_from(node.rpc_addr, honest, Method::GET, "/rpc/getHead", None).await;
    assert_eq!(status, 200, "honest client while the abuser is at its cap");
    for s in &mut held {
        assert!(
            served_on(s).await,
            "an accepted connection stopped being served"
        );
    }
    // A batch over the JSON-RPC cap is refused; a call beside it is answered.
    let big: Vec<Value> = (0..=aitbc_rpc::jsonrpc::MAX_BATCH)
        .map(|i| serde_json::json!({"jsonrpc": "2.0", "id": i, "method": "getHead"}))
        .collect();
    let big = serde_json::to_vec(&Value::Array(big)).unwrap();
    let one = serde_json::to_vec(&serde_json::json!(
        {"jsonrpc": "2.0", "id": 1, "method": "getHead"}
    ))
    .unwrap();
    let (refused, answered) = tokio::join!(
        http_from(node.rpc_addr, honest, Method::POST, "/rpc", Some(big)),
        http_from(node.rpc_addr, honest, Method::POST, "/rpc", Some(one)),
    );
    assert_eq!(refused.2["error"]["code"], -32600, "{:?}", refused.2);
    assert!(answered.2["result"]["height"].is_u64(), "{:?}", answered.2);

    // Closing one of the eight frees a place for the abuser.
    drop(held.pop());
    wait_until(10, "a freed place", || async {
        let mut s = connect_from(node.rpc_addr, abuser).await;
        served_on(&mut s).await.then_some(())
    })
    .await;
    report_rss("a connection flood from one IP", 1024.0);
    node.stop().await;
}

/// One account flooding the pool is capped at `--pool-max-per-sender` (429 `sender_limit`) and
/// cannot fill it: an honest sender paying the same fee is admitted and finalized meanwhile. When
/// many accounts do fill the pool, a newcomer paying more evicts the cheapest last transaction of
/// another sender (no gap opens), and one paying the same is refused with the pool untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_cannot_fill_the_pool() {
    use aitbc_primitives::crypto::dev_pair;
    use aitbc_primitives::extrinsic::TxParams;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(spec(false), dir.path(), true);
    cfg.pool.max_txs = 64;
    cfg.pool.max_per_sender = 16;
    let node = start(cfg).await;
    let genesis = node.client.genesis_hash();
    let (eve, bob) = (dev_pair("eve"), dev_pair("bob"));
    let to = dev_pair("ferdie").public();
    let url = format!("http://{}", node.rpc_addr);

    // Eve floods 200 transactions while bob sends one.
    let flood = {
        let url = url.clone();
        let eve = eve.clone();
        tokio::spawn(async move {
            let mut rpc = aitbc_rpc::http_client::HttpClient::new(&url).unwrap();
            let mut codes = std::collections::BTreeMap::<String, usize>::new();
            for nonce in 0..200 {
                let (status, v) = rpc
                    .post(
                        "/rpc/sendTx",
                        &tx_body(&transfer(&eve, &to, 1, nonce, genesis)),
                    )
                    .await
                    .unwrap();
                let code = if status == 200 { "ok" } else { error_code(&v) };
                *codes.entry(code.to_string()).or_default() += 1;
            }
            codes
        })
    };
    let mut rpc = http(&node);
    let h = rpc
        .post_ok("/rpc/sendTx", &tx_body(&transfer(&bob, &to, 7, 0, genesis)))
        .await
        .unwrap();
    let codes = flood.await.unwrap();
    // Refused only for her own limits (pending per sender, future per sender), never because
    // the pool was full.
    assert!(codes.get("ok").copied().unwrap_or(0) >= 16, "{codes:?}");
    assert!(
        codes.get("sender_limit").copied().unwrap_or(0) > 0,
        "{codes:?}"
    );
    assert!(
        codes
            .keys()
            .all(|c| ["ok", "sender_limit", "future_limit"].contains(&c.as_str())),
        "{codes:?}"
    );
    let tx = wait_tx(&mut rpc, h["txHash"].as_str().unwrap(), "finalized").await;
    assert_eq!(tx["success"], true);
    assert!(
        node.client.pool().status().ready <= 16,
        "eve holds at most her cap"
    );
    report_rss("a pool flood from one account", 1024.0);
    node.stop().await;

    // Many accounts fill a pool that nothing drains (no authority).
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(spec(false), dir.path(), false);
    cfg.pool.max_txs = 64;
    cfg.pool.max_per_sender = 16;
    let node = start(cfg).await;
    let mut rpc = http(&node);
    for who in ["alice", "charlie", "dave", "eve"] {
        for nonce in 0..16 {
            rpc.post_ok(
                "/rpc/sendTx",
                &tx_body(&transfer(&dev_pair(who), &to, 1, nonce, genesis)),
            )
            .await
            .unwrap();
        }
    }
    let same_fee = transfer(&bob, &to, 1, 0, genesis);
    let (status, v) = rpc.post("/rpc/sendTx", &tx_body(&same_fee)).await.unwrap();
    assert_eq!((status, error_code(&v)), (503, "pool_full"));
    assert_eq!(node.client.pool().status().ready, 64);
    let tipped = aitbc_primitives::Extrinsic::sign(
        &bob,
        aitbc_runtime::Call::transfer(to, 1),
        TxParams {
            nonce: 0,
            tip: 1_000_000,
            valid_until: None,
        },
        genesis,
    );
    rpc.post_ok("/rpc/sendTx", &tx_body(&tipped)).await.unwrap();
    let status = node.client.pool().status();
    assert_eq!(
        status.ready + status.future,
        64,
        "one evicted for one admitted"
    );
    // The victim was the last of some sender's queue: every sender's pooled nonces are gapless.
    for who in ["alice", "charlie", "dave", "eve"] {
        let (_, _, next) = balance(&mut rpc, &dev_pair(who).public()).await;
        assert!(next == 15 || next == 16, "{who}: next nonce {next}");
    }
    node.stop().await;
}
