//! Websocket subscriptions at `GET /rpc/ws`: heads in order, a transaction's statuses, limits,
//! unsubscribe, and slow consumers.

use crate::common::*;
use aitbc_primitives::crypto::dev_pair;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heads_arrive_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(false), dir.path(), true)).await;
    let mut ws = ws_connect(&node).await.unwrap();
    let new = ws_subscribe(&mut ws, json!({"subscribe": "newHeads", "id": "a"})).await;
    let fin = ws_subscribe(&mut ws, json!({"subscribe": "finalizedHeads"})).await;
    assert_ne!(new, fin);
    let (mut heads, mut finalized) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(30);
    while heads.len() < 5 || finalized.len() < 5 {
        assert!(Instant::now() < deadline, "timed out waiting for heads");
        let v = ws_next(&mut ws, 10).await;
        if v["subscription"] == new {
            assert_eq!(v["subscribe"], "newHeads");
            heads.push(v["result"].clone());
        } else if v["subscription"] == fin {
            finalized.push(v["result"].clone());
        }
    }
    for list in [&heads, &finalized] {
        for pair in list.windows(2) {
            assert_eq!(
                pair[1]["height"].as_u64().unwrap(),
                pair[0]["height"].as_u64().unwrap() + 1,
                "{list:?}"
            );
            assert_eq!(pair[1]["parent_hash"], pair[0]["hash"]);
            assert!(pair[1]["slot"].as_u64() > pair[0]["slot"].as_u64());
        }
    }
    // The head JSON is the block's: same hash, parent and slot as getBlock.
    let mut rpc = http(&node);
    let h = &heads[0];
    let block = rpc
        .get_ok(&format!("/rpc/getBlock/{}", h["height"]))
        .await
        .unwrap();
    for field in [
        "hash",
        "parent_hash",
        "slot",
        "timestamp_ms",
        "state_root",
        "tx_count",
    ] {
        assert_eq!(h[field], block[field], "{field}");
    }
    let metrics = metrics_text(&node).await;
    assert!(metrics.contains("aitbc_rpc_ws_connections 1"), "{metrics}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tx_subscription_sees_each_status() {
    let dir = tempfile::tempdir().unwrap();
    // One-second slots leave time to subscribe between two blocks.
    let mut chain = spec(false);
    chain.genesis.slot_duration_ms = 1000;
    let node = start(config(chain, dir.path(), true)).await;
    let mut rpc = http(&node);
    let genesis = node.client.genesis_hash();
    let mut ws = ws_connect(&node).await.unwrap();
    let heads = ws_subscribe(&mut ws, json!({"subscribe": "newHeads"})).await;
    // Right after a block, send a transaction and watch it.
    ws_next_of(&mut ws, heads, 10).await;
    let xt = transfer(&dev_pair("eve"), &dev_pair("bob").public(), 10, 0, genesis);
    let hash = xt.hash().to_string();
    rpc.post_ok("/rpc/sendTx", &tx_body(&xt)).await.unwrap();
    ws_send(&mut ws, json!({"subscribe": "tx", "hash": hash, "id": 9})).await;
    let ack = ws_reply(&mut ws).await;
    assert_eq!(
        (ack["subscribed"].as_str(), ack["id"].as_u64()),
        (Some("tx"), Some(9))
    );
    assert_eq!(ack["hash"], hash);
    let sub = ack["subscription"].as_u64().unwrap();
    let mut statuses = Vec::new();
    while statuses.last().map(String::as_str) != Some("finalized") {
        let tx = ws_next_of(&mut ws, sub, 15).await;
        assert_eq!(tx["hash"], hash);
        statuses.push(tx["status"].as_str().unwrap().to_string());
        if tx["status"] != "pending" {
            assert!(tx["block_height"].as_u64().unwrap() >= 1, "{tx}");
        }
    }
    assert_eq!(statuses, ["pending", "included", "finalized"]);

    // The subscription ended with the final status; a finalized tx gets its status at once.
    ws_send(&mut ws, json!({"unsubscribe": sub})).await;
    assert_eq!(
        ws_reply(&mut ws).await["error"]["code"],
        "unknown_subscription"
    );
    let late = ws_subscribe(&mut ws, json!({"subscribe": "tx", "hash": hash})).await;
    assert_eq!(ws_next_of(&mut ws, late, 10).await["status"], "finalized");

    // Bad commands get an error message and the connection stays usable.
    ws_send(&mut ws, json!({"subscribe": "tx", "hash": "0x12"})).await;
    assert_eq!(ws_reply(&mut ws).await["error"]["code"], "invalid_hash");
    ws_send(&mut ws, json!({"subscribe": "everything"})).await;
    assert_eq!(ws_reply(&mut ws).await["error"]["code"], "invalid_request");
    ws.send(Message::text("not json")).await.unwrap();
    assert_eq!(ws_reply(&mut ws).await["error"]["code"], "invalid_json");
    ws_subscribe(&mut ws, json!({"subscribe": "finalizedHeads"})).await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_refuse_connections_and_subscriptions() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(spec(false), dir.path(), true);
    cfg.rpc.ws_max_connections = 2;
    cfg.rpc.ws_max_subscriptions = 2;
    let node = start(cfg).await;
    let mut a = ws_connect(&node).await.unwrap();
    let mut b = ws_connect(&node).await.unwrap();
    match ws_connect(&node).await {
        Err(WsError::Http(resp)) => {
            assert_eq!(resp.status(), 503);
            let body: serde_json::Value =
                serde_json::from_slice(resp.body().as_deref().unwrap()).unwrap();
            assert_eq!(error_code(&body), "too_many_ws_connections");
            assert!(body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("at most 2"));
        }
        other => panic!(
            "a third connection was not refused: {:?}",
            other.map(|_| ())
        ),
    }

    // With every websocket place taken, plain HTTP clients are still served.
    let (status, _) = http_raw(&node, hyper::Method::GET, "/rpc/getHead", None).await;
    assert_eq!(
        status, 200,
        "an HTTP client while the websocket places are full"
    );

    ws_subscribe(&mut a, json!({"subscribe": "newHeads"})).await;
    ws_subscribe(&mut a, json!({"subscribe": "finalizedHeads"})).await;
    ws_send(&mut a, json!({"subscribe": "newHeads", "id": 3})).await;
    let refused = ws_reply(&mut a).await;
    assert_eq!(error_code(&refused), "too_many_subscriptions");
    assert_eq!(refused["id"], 3);
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at most 2"));
    // The cap is per connection: the other one subscribes and is notified meanwhile.
    let heads = ws_subscribe(&mut b, json!({"subscribe": "newHeads"})).await;
    ws_next_of(&mut b, heads, 10).await;
    drop(b);

    // Closing a connection frees its place.
    a.close(None).await.unwrap();
    drop(a);
    let c = wait_until(10, "a free websocket slot", || async {
        ws_connect(&node).await.ok()
    })
    .await;
    drop(c);
    report_rss("websocket connection and subscription caps", 1024.0);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_stops_notifications() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(false), dir.path(), true)).await;
    let mut ws = ws_connect(&node).await.unwrap();
    let new = ws_subscribe(&mut ws, json!({"subscribe": "newHeads"})).await;
    let fin = ws_subscribe(&mut ws, json!({"subscribe": "finalizedHeads"})).await;
    ws_next_of(&mut ws, new, 10).await;
    ws_send(&mut ws, json!({"unsubscribe": new})).await;
    // Notifications already queued come first; after the reply, none for `new`.
    loop {
        let v = ws_next(&mut ws, 10).await;
        if v.get("unsubscribed").is_some() {
            assert_eq!(v["unsubscribed"], new);
            break;
        }
    }
    let mut finalized = 0;
    while finalized < 3 {
        let v = ws_next(&mut ws, 10).await;
        assert_ne!(v["subscription"], new, "notified after unsubscribing: {v}");
        if v["subscription"] == fin {
            finalized += 1;
        }
    }
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_is_disconnected() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(spec(false), dir.path(), false);
    cfg.rpc.ws_queue = 8;
    let node = start(cfg).await;
    // A small receive buffer and no reading: the server's writes back up quickly.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(node.rpc_addr).await.unwrap();
    let url = format!("ws://{}/rpc/ws", node.rpc_addr);
    let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    // Every command gets a reply; send many without reading any. The server first stops
    // reading (backpressure), then gives up on this client.
    let cmd = Message::text(json!({"unsubscribe": 999_999}).to_string());
    let started = Instant::now();
    let mut sent = 0u32;
    while sent < 500_000 {
        let step = async {
            ws.feed(cmd.clone()).await?;
            if sent.is_multiple_of(256) {
                ws.flush().await?;
            }
            Ok::<_, WsError>(())
        };
        match tokio::time::timeout(Duration::from_secs(15), step).await {
            Ok(Ok(())) => sent += 1,
            Ok(Err(_)) => break, // the server closed the connection
            Err(_) => panic!("the server neither read nor closed for 15 s"),
        }
    }
    assert!(
        sent < 500_000,
        "the server kept up with a client that never reads"
    );
    // An honest websocket client is answered while the slow one's queue is full (or after it
    // was cut off), and so is plain HTTP.
    let mut honest = ws_connect(&node).await.unwrap();
    ws_send(&mut honest, json!({"unsubscribe": 7})).await;
    let reply = ws_reply(&mut honest).await;
    assert!(
        reply.get("error").is_some() || reply.get("unsubscribed").is_some(),
        "{reply}"
    );
    let (status, _) = http_raw(&node, hyper::Method::GET, "/rpc/getHead", None).await;
    assert_eq!(status, 200);
    drop(honest);
    assert!(started.elapsed() < Duration::from_secs(15));
    // Reading now: the replies that made it, then the end of the connection (the close frame
    // says why when it got through).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut close = None;
    loop {
        match tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("still open")
        {
            Some(Ok(Message::Close(frame))) => close = frame,
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    if let Some(frame) = close {
        assert_eq!(frame.code, CloseCode::Policy);
        assert!(
            frame.reason.as_str().starts_with("slow consumer"),
            "{frame:?}"
        );
    }
    wait_until(10, "the connection to be counted closed", || async {
        metrics_text(&node)
            .await
            .contains("aitbc_rpc_ws_connections 0")
            .then_some(())
    })
    .await;
    report_rss("a websocket client that never reads", 1024.0);
    node.stop().await;
}
