//! Websocket subscriptions at `GET /rpc/ws`.
//!
//! # Protocol
//! The client sends JSON text messages; each may carry an `"id"` (any JSON value), echoed in the
//! reply:
//!
//! - `{"subscribe":"newHeads"}` or `{"subscribe":"finalizedHeads"}` -> `{"subscribed":"newHeads",
//!   "subscription":N}`, then `{"subscription":N,"subscribe":"newHeads","result":HEAD}` for every
//!   new best (finalized) block, in chain order. `HEAD` is `{height, hash, parent_hash, slot,
//!   timestamp_ms, state_root, extrinsics_root, tx_count, transactions}`.
//! - `{"subscribe":"tx","hash":"0x…"}` -> `{"subscribed":"tx","subscription":N,"hash":"0x…"}`, then
//!   `{"subscription":N,"subscribe":"tx","result":TX}` with `TX` the `getTx` answer, once per
//!   status: `pending` -> `included` -> `finalized`, or `dropped`. If the transaction is already
//!   known, its current status comes first; later statuses follow one by one (an included
//!   transaction is announced `included` before `finalized`). The subscription ends by itself
//!   after `finalized` or `dropped`. A hash the node does not know yet is watched until it shows
//!   up (so a client may subscribe before it sends).
//! - `{"unsubscribe":N}` -> `{"unsubscribed":N}`; no notification of `N` follows.
//! - Errors: `{"error":{"code","message"}}` (e.g. `invalid_request`, `invalid_hash`,
//!   `unknown_subscription`, `too_many_subscriptions`); the connection stays open.
//!
//! # Limits
//! - At most `--rpc-ws-max-connections` open connections: the upgrade is refused with HTTP 503
//!   `too_many_ws_connections` (JSON error body).
//! - At most `--rpc-ws-max-subscriptions` subscriptions per connection (`too_many_subscriptions`).
//! - Client messages of at most [`MAX_MESSAGE`] bytes (larger ones close the connection).
//! - Slow consumers: every outbound message goes through a bounded per-connection queue of
//!   `--rpc-ws-queue` messages; nothing is ever buffered without bound. A notification that
//!   finds the queue full, or a connection that fell behind the node's chain events, closes the
//!   connection with code 1008 and a reason (`slow consumer: …`). Replies to the client's own
//!   commands wait for room instead (the client's further commands are not read meanwhile, so
//!   it is slowed down), up to [`REPLY_WAIT`]; then the connection is closed the same way. The
//!   close frame itself gets [`CLOSE_GRACE`] to go out before the socket is dropped.
//! - On node shutdown every connection is closed with code 1001.

use crate::context::RpcContext;
use crate::error::ApiError;
use crate::methods;
use crate::response::{error_response, LimitedRequest, Resp};
use aitbc_client::ChainEvent;
use aitbc_primitives::{Hash, StateMachine};
use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{
    HeaderMap, HeaderValue, CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use hyper::Response;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch, OwnedSemaphorePermit};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Largest client message (and frame).
pub const MAX_MESSAGE: usize = 16 * 1024;
/// How long a close frame may take to go out before the socket is dropped.
pub const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// How often watched transactions are looked up (for `pending` and `dropped`, which no chain
/// event announces).
const TX_POLL: Duration = Duration::from_millis(500);
/// How long a reply to a client command may wait for room in the outbound queue.
pub const REPLY_WAIT: Duration = Duration::from_secs(5);

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

fn has_token(headers: &HeaderMap, name: hyper::header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Answers the upgrade request (101, or 400/503 with a JSON error) and starts the session.
pub(super) fn upgrade<S: StateMachine>(ctx: &Arc<RpcContext<S>>, req: LimitedRequest) -> Resp {
    let headers = req.headers();
    let key = headers.get(SEC_WEBSOCKET_KEY);
    if !has_token(headers, CONNECTION, "upgrade")
        || !has_token(headers, UPGRADE, "websocket")
        || key.is_none()
    {
        return error_response(&ApiError::bad_request(
            "websocket_upgrade_required",
            "GET /rpc/ws takes a websocket upgrade (Connection: Upgrade, Upgrade: websocket, \
             Sec-WebSocket-Key)",
        ));
    }
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        let mut resp = error_response(&ApiError::bad_request(
            "unsupported_websocket_version",
            "only websocket version 13 is supported",
        ));
        resp.headers_mut()
            .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        return resp;
    }
    let accept = key.map(|k| derive_accept_key(k.as_bytes()));
    let Ok(permit) = ctx.ws_permits.clone().try_acquire_owned() else {
        return error_response(&ApiError::new(
            503,
            "too_many_ws_connections",
            format!(
                "the node serves at most {} websocket connections; try again later",
                ctx.config.ws_max_connections
            ),
        ));
    };
    let ctx = ctx.clone();
    tokio::spawn(async move {
        match hyper::upgrade::on(req).await {
            Ok(upgraded) => {
                let config = WebSocketConfig::default()
                    .read_buffer_size(4 * 1024)
                    .write_buffer_size(0)
                    .max_message_size(Some(MAX_MESSAGE))
                    .max_frame_size(Some(MAX_MESSAGE));
                let socket = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await;
                session(ctx, socket, permit).await;
            }
            Err(e) => tracing::debug!(target: "rpc", error = %e, "websocket upgrade failed"),
        }
    });
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = hyper::StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    h.insert(UPGRADE, HeaderValue::from_static("websocket"));
    if let Some(v) = accept.and_then(|a| HeaderValue::from_str(&a).ok()) {
        h.insert(SEC_WEBSOCKET_ACCEPT, v);
    }
    resp
}

/// Counts the connection in `aitbc_rpc_ws_connections` while alive.
struct Connected<'a, S: StateMachine>(&'a RpcContext<S>);

impl<S: StateMachine> Drop for Connected<'_, S> {
    fn drop(&mut self) {
        self.0.client.metrics().ws_connected(-1);
    }
}

async fn session<S: StateMachine>(
    ctx: Arc<RpcContext<S>>,
    socket: Socket,
    _permit: OwnedSemaphorePermit,
) {
    ctx.client.metrics().ws_connected(1);
    let _connected = Connected(&ctx);
    let (sink, stream) = socket.split();
    let (out, queue) = mpsc::channel(ctx.config.ws_queue.max(1));
    let (kill, killed) = oneshot::channel();
    let driver = Driver {
        ctx: &ctx,
        out,
        subs: BTreeMap::new(),
        watched: HashMap::new(),
        next_id: 1,
    };
    let ((end, _kill), ()) =
        tokio::join!(driver.run(stream, kill), write_loop(sink, queue, killed));
    tracing::debug!(target: "rpc", ?end, "websocket closed");
}

/// Longest a single frame may take to be written before the connection is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends queued messages until the queue closes (then closes the socket), or until `killed`
/// (then sends that close frame, given [`CLOSE_GRACE`], and drops the socket). The driver keeps
/// the kill switch alive until this returns, so `killed` only resolves when it is used.
async fn write_loop(
    mut sink: futures_util::stream::SplitSink<Socket, Message>,
    mut queue: mpsc::Receiver<Message>,
    mut killed: oneshot::Receiver<CloseFrame>,
) {
    loop {
        let msg = tokio::select! {
            biased;
            frame = &mut killed => return close_now(&mut sink, frame.ok()).await,
            m = queue.recv() => m,
        };
        let Some(msg) = msg else {
            let _ = tokio::time::timeout(CLOSE_GRACE, sink.close()).await;
            return;
        };
        let is_close = matches!(msg, Message::Close(_));
        tokio::select! {
            biased;
            frame = &mut killed => return close_now(&mut sink, frame.ok()).await,
            // A peer that stops reading cannot hold the connection (and its slot) forever.
            r = tokio::time::timeout(SEND_TIMEOUT, sink.send(msg)) => if !matches!(r, Ok(Ok(()))) { return },
        }
        if is_close {
            return;
        }
    }
}

async fn close_now(
    sink: &mut futures_util::stream::SplitSink<Socket, Message>,
    frame: Option<CloseFrame>,
) {
    let _ = tokio::time::timeout(CLOSE_GRACE, sink.send(Message::Close(frame))).await;
}

/// Why a session ended.
#[derive(Debug)]
enum End {
    /// The client closed, or the socket failed.
    Closed,
    /// The node is shutting down.
    Shutdown,
    /// The client does not read fast enough.
    SlowConsumer(String),
}

/// A transaction's stage as announced to a subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Pending,
    Included,
    Finalized,
    Dropped,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Pending => "pending",
            Stage::Included => "included",
            Stage::Finalized => "finalized",
            Stage::Dropped => "dropped",
        }
    }

    fn parse(s: &str) -> Option<Stage> {
        Some(match s {
            "pending" => Stage::Pending,
            "included" => Stage::Included,
            "finalized" => Stage::Finalized,
            "dropped" => Stage::Dropped,
            _ => return None,
        })
    }

    fn is_final(self) -> bool {
        matches!(self, Stage::Finalized | Stage::Dropped)
    }
}

/// What to announce next, given what was announced (`sent`) and what is now `observed`. The
/// first announcement is the current stage; after that stages go one at a time (`included`
/// is never skipped), `dropped` ends it from anywhere, and nothing goes backwards.
fn next_stage(sent: Option<Stage>, observed: Stage) -> Option<Stage> {
    match sent {
        Some(s) if s.is_final() => None,
        _ if observed == Stage::Dropped => Some(Stage::Dropped),
        None => Some(observed),
        Some(s) if observed > s => Some(match s {
            Stage::Pending => Stage::Included,
            _ => Stage::Finalized,
        }),
        Some(_) => None,
    }
}

#[derive(Debug)]
enum Sub {
    Heads { finalized: bool },
    Tx { hash: Hash, sent: Option<Stage> },
}

impl Sub {
    fn kind(&self) -> &'static str {
        match self {
            Sub::Heads { finalized: false } => "newHeads",
            Sub::Heads { finalized: true } => "finalizedHeads",
            Sub::Tx { .. } => "tx",
        }
    }
}

/// One connection's subscriptions; produces every outbound message.
struct Driver<'a, S: StateMachine> {
    ctx: &'a RpcContext<S>,
    out: mpsc::Sender<Message>,
    subs: BTreeMap<u64, Sub>,
    /// Subscription ids by watched transaction hash.
    watched: HashMap<Hash, Vec<u64>>,
    next_id: u64,
}

impl<S: StateMachine> Driver<'_, S> {
    async fn run(
        mut self,
        mut stream: futures_util::stream::SplitStream<Socket>,
        mut kill: oneshot::Sender<CloseFrame>,
    ) -> (End, Option<oneshot::Sender<CloseFrame>>) {
        let mut events = self.ctx.client.subscribe();
        let mut shutdown = self.ctx.shutdown.clone();
        let mut tick = tokio::time::interval(TX_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let end = loop {
            if *shutdown.borrow() {
                break End::Shutdown;
            }
            let step = tokio::select! {
                m = stream.next() => match m {
                    Some(Ok(Message::Text(text))) => {
                        let replies = self.command(text.as_str());
                        self.reply(replies, &mut shutdown).await
                    }
                    Some(Ok(Message::Binary(_))) => {
                        let e = ApiError::bad_request("invalid_request", "send JSON text messages");
                        self.reply(vec![e.body()], &mut shutdown).await
                    }
                    Some(Ok(Message::Close(_))) | None => Err(End::Closed),
                    Some(Err(e)) => {
                        tracing::debug!(target: "rpc", error = %e, "websocket read failed");
                        Err(End::Closed)
                    }
                    Some(Ok(_)) => Ok(()), // ping, pong: answered by the protocol layer
                },
                ev = events.recv() => match ev {
                    Ok(ev) => self.on_event(&ev),
                    Err(broadcast::error::RecvError::Lagged(n)) => Err(End::SlowConsumer(
                        format!("slow consumer: fell {n} chain events behind"),
                    )),
                    Err(broadcast::error::RecvError::Closed) => Err(End::Shutdown),
                },
                _ = tick.tick(), if !self.watched.is_empty() => self.poll_txs(),
                _ = shutdown.changed() => Err(End::Shutdown),
                // The writer gave up on the socket (a frame unsent for SEND_TIMEOUT): so does
                // the session, whatever the reading side is waiting for.
                _ = kill.closed() => Err(End::Closed),
            };
            if let Err(end) = step {
                break end;
            }
        };
        // Dropping `self.out` (on return) lets the writer finish the queue and close.
        let kill = match &end {
            End::Closed => Some(kill),
            End::Shutdown => {
                let frame = close_frame(CloseCode::Away, "node shutting down");
                match self.out.try_send(Message::Close(Some(frame.clone()))) {
                    Ok(()) => Some(kill),
                    Err(_) => {
                        let _ = kill.send(frame);
                        None
                    }
                }
            }
            End::SlowConsumer(reason) => {
                tracing::debug!(target: "rpc", reason, "closing websocket");
                let _ = kill.send(close_frame(CloseCode::Policy, reason));
                None
            }
        };
        (end, kill)
    }

    /// Queues a notification the node pushes; a full queue ends the session (slow consumer).
    fn notify(&self, v: &Value) -> Result<(), End> {
        match self.out.try_send(Message::text(v.to_string())) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => Err(End::SlowConsumer(format!(
                "slow consumer: {} messages queued",
                self.ctx.config.ws_queue
            ))),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(End::Closed),
        }
    }

    /// Queues replies to a client command, waiting (at most [`REPLY_WAIT`]) for room: a client
    /// that sends faster than it reads is slowed down, not cut off, unless it stops reading.
    async fn reply(
        &self,
        replies: Vec<Value>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), End> {
        for v in replies {
            let room = tokio::select! {
                r = tokio::time::timeout(REPLY_WAIT, self.out.reserve()) => r,
                _ = shutdown.changed() => return Err(End::Shutdown),
            };
            match room {
                Ok(Ok(permit)) => permit.send(Message::text(v.to_string())),
                Ok(Err(_)) => return Err(End::Closed),
                Err(_) => {
                    return Err(End::SlowConsumer(format!(
                        "slow consumer: replies unread for {} s",
                        REPLY_WAIT.as_secs()
                    )))
                }
            }
        }
        Ok(())
    }

    /// The replies to a client command (an acknowledgement or an error, and for a transaction
    /// subscription its current status).
    fn command(&mut self, text: &str) -> Vec<Value> {
        let Ok(Value::Object(cmd)) = serde_json::from_str::<Value>(text) else {
            return vec![ApiError::bad_request("invalid_json", "expected a JSON object").body()];
        };
        let id = cmd.get("id").cloned();
        let with_id = |mut v: Value| {
            if let Some(id) = &id {
                v["id"] = id.clone();
            }
            v
        };
        match self.subscribe(&cmd) {
            Ok((ack, first)) => std::iter::once(with_id(ack)).chain(first).collect(),
            Err(e) => vec![with_id(e.body())],
        }
    }

    /// Runs a command: the acknowledgement, and maybe a first notification.
    fn subscribe(
        &mut self,
        cmd: &serde_json::Map<String, Value>,
    ) -> Result<(Value, Option<Value>), ApiError> {
        if let Some(target) = cmd.get("unsubscribe") {
            let n = target
                .as_u64()
                .or_else(|| target.as_str().and_then(|s| s.parse().ok()));
            return match n.and_then(|n| self.remove(n).map(|_| n)) {
                Some(n) => Ok((json!({ "unsubscribed": n }), None)),
                None => Err(ApiError::new(
                    404,
                    "unknown_subscription",
                    format!("no subscription {target} on this connection"),
                )),
            };
        }
        let sub = match cmd.get("subscribe").and_then(Value::as_str) {
            Some("newHeads") => Sub::Heads { finalized: false },
            Some("finalizedHeads") => Sub::Heads { finalized: true },
            Some("tx") => {
                let hash = cmd.get("hash").and_then(Value::as_str).unwrap_or("");
                let hash = Hash::from_hex(hash).map_err(|e| {
                    ApiError::bad_request("invalid_hash", format!("invalid tx hash {hash:?}: {e}"))
                })?;
                Sub::Tx { hash, sent: None }
            }
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_request",
                    "expected {\"subscribe\":\"newHeads\"|\"finalizedHeads\"}, \
                     {\"subscribe\":\"tx\",\"hash\":\"0x…\"} or {\"unsubscribe\":N}",
                ))
            }
        };
        let max = self.ctx.config.ws_max_subscriptions;
        if self.subs.len() >= max {
            return Err(ApiError::new(
                429,
                "too_many_subscriptions",
                format!("at most {max} subscriptions per connection"),
            ));
        }
        let n = self.next_id;
        self.next_id += 1;
        let mut ack = json!({ "subscribed": sub.kind(), "subscription": n });
        let tx = match &sub {
            Sub::Tx { hash, .. } => Some(*hash),
            Sub::Heads { .. } => None,
        };
        self.subs.insert(n, sub);
        let mut first = None;
        if let Some(hash) = tx {
            ack["hash"] = json!(hash);
            self.watched.entry(hash).or_default().push(n);
            first = self.check_tx(n, hash, None);
        }
        Ok((ack, first))
    }

    fn remove(&mut self, n: u64) -> Option<Sub> {
        let sub = self.subs.remove(&n)?;
        if let Sub::Tx { hash, .. } = &sub {
            if let Some(ids) = self.watched.get_mut(hash) {
                ids.retain(|i| *i != n);
                if ids.is_empty() {
                    self.watched.remove(hash);
                }
            }
        }
        Some(sub)
    }

    fn on_event(&mut self, ev: &ChainEvent) -> Result<(), End> {
        let (header, hash, txs, finalized) = match ev {
            ChainEvent::NewBest {
                header,
                hash,
                tx_hashes,
            } => (header, *hash, tx_hashes, false),
            ChainEvent::Finalized {
                header,
                hash,
                tx_hashes,
            } => (header, *hash, tx_hashes, true),
        };
        let heads: Vec<u64> = self
            .subs
            .iter()
            .filter(|(_, s)| matches!(s, Sub::Heads { finalized: f } if *f == finalized))
            .map(|(n, _)| *n)
            .collect();
        if !heads.is_empty() {
            match methods::head_json(&self.ctx.client, header, hash, txs) {
                Ok(head) => {
                    let kind = if finalized {
                        "finalizedHeads"
                    } else {
                        "newHeads"
                    };
                    for n in heads {
                        self.notify(
                            &json!({ "subscription": n, "subscribe": kind, "result": head }),
                        )?;
                    }
                }
                Err(e) => tracing::warn!(target: "rpc", error = %e.message, "cannot render a head"),
            }
        }
        if !self.watched.is_empty() {
            let observed = if finalized {
                Stage::Finalized
            } else {
                Stage::Included
            };
            let hits: Vec<(u64, Hash)> = txs
                .iter()
                .filter_map(|h| self.watched.get(h).map(|ids| (ids.clone(), *h)))
                .flat_map(|(ids, h)| ids.into_iter().map(move |n| (n, h)))
                .collect();
            for (n, h) in hits {
                if let Some(v) = self.check_tx(n, h, Some(observed)) {
                    self.notify(&v)?;
                }
            }
        }
        Ok(())
    }

    fn poll_txs(&mut self) -> Result<(), End> {
        let all: Vec<(u64, Hash)> = self
            .subs
            .iter()
            .filter_map(|(n, s)| match s {
                Sub::Tx { hash, .. } => Some((*n, *hash)),
                Sub::Heads { .. } => None,
            })
            .collect();
        for (n, h) in all {
            if let Some(v) = self.check_tx(n, h, None) {
                self.notify(&v)?;
            }
        }
        Ok(())
    }

    /// Subscription `n`'s next notification, if it has one to announce (the subscription ends
    /// after a final status). `observed`: the stage a chain event just showed; `None`: look it up.
    fn check_tx(&mut self, n: u64, hash: Hash, observed: Option<Stage>) -> Option<Value> {
        let Some(Sub::Tx { sent, .. }) = self.subs.get(&n) else {
            return None;
        };
        let sent = *sent;
        let mut tx = match methods::tx_json(&self.ctx.client, &hash) {
            Ok(tx) => tx?,
            Err(e) => {
                tracing::warn!(target: "rpc", error = %e.message, "cannot look up a watched tx");
                return None;
            }
        };
        let now = observed.or_else(|| tx["status"].as_str().and_then(Stage::parse))?;
        let next = next_stage(sent, now)?;
        tx["status"] = json!(next.name());
        if let Some(Sub::Tx { sent, .. }) = self.subs.get_mut(&n) {
            *sent = Some(next);
        }
        if next.is_final() {
            self.remove(n);
        }
        Some(json!({ "subscription": n, "subscribe": "tx", "result": tx }))
    }
}

fn close_frame(code: CloseCode, reason: &str) -> CloseFrame {
    CloseFrame {
        code,
        reason: reason.to_string().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Stage::*;

    #[test]
    fn stages_go_forward_one_at_a_time() {
        assert_eq!(next_stage(None, Pending), Some(Pending));
        assert_eq!(next_stage(None, Finalized), Some(Finalized));
        assert_eq!(next_stage(Some(Pending), Pending), None);
        assert_eq!(next_stage(Some(Pending), Finalized), Some(Included));
        assert_eq!(next_stage(Some(Included), Finalized), Some(Finalized));
        assert_eq!(next_stage(Some(Included), Included), None);
        assert_eq!(next_stage(Some(Included), Pending), None);
        assert_eq!(next_stage(Some(Pending), Dropped), Some(Dropped));
        assert_eq!(next_stage(None, Dropped), Some(Dropped));
        assert_eq!(next_stage(Some(Finalized), Dropped), None);
        assert_eq!(next_stage(Some(Dropped), Pending), None);
    }

    #[test]
    fn upgrade_header_tokens() {
        let mut h = HeaderMap::new();
        h.insert(CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
        assert!(has_token(&h, CONNECTION, "upgrade"));
        assert!(!has_token(&h, UPGRADE, "websocket"));
    }
}
