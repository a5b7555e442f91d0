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
    for _ in 0..10 {
        s.write_all(chunk.as_bytes()).await.unwrap();
    }
    let (status, body) = read_response(&mut s, 5).await.expect("an answer");
    assert_eq!((status, code_of(&body).as_str()), (413, "body_too_large"));

    // The node is fine.
    let (status, _) = http_raw(&node, Method::GET, "/rpc/getHead", None).await;
    assert_eq!(status, 200);
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
    wait_closed(&mut rd, 8).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    trickle.abort();

    // Others are served meanwhile and after.
    let (status, _) = http_raw(&node, Method::GET, "/rpc/getHead", None).await;
    assert_eq!(status, 200);
    node.stop().await;
}
