//! The innermost service: answers a request the outermost layer routed, by its handler: the
//! core methods ([`crate::methods`], shared with JSON-RPC), JSON-RPC ([`crate::jsonrpc`]), the
//! websocket upgrade ([`crate::ws`]) or the chain's extension.

use crate::context::{Answer, Args, RpcContext};
use crate::error::ApiError;
use crate::jsonrpc;
use crate::layers::RequestInfo;
use crate::methods;
use crate::p2p;
use crate::proofs;
use crate::response::{
    bytes_response, error_response, json_response, too_large, LimitedRequest, Resp,
};
use crate::routes::{params, Handler, RouteSpec, Verb};
use crate::ws;
use aitbc_primitives::StateMachine;
use http_body_util::BodyExt;
use hyper::body::Bytes;
use serde_json::Value;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The innermost service: answers a routed request.
pub(crate) struct RpcService<S: StateMachine> {
    ctx: Arc<RpcContext<S>>,
}

impl<S: StateMachine> Clone for RpcService<S> {
    fn clone(&self) -> Self {
        RpcService {
            ctx: self.ctx.clone(),
        }
    }
}

impl<S: StateMachine> RpcService<S> {
    pub fn new(ctx: Arc<RpcContext<S>>) -> Self {
        RpcService { ctx }
    }
}

impl<S: StateMachine> tower::Service<LimitedRequest> for RpcService<S> {
    type Response = Resp;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Resp, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: LimitedRequest) -> Self::Future {
        let ctx = self.ctx.clone();
        Box::pin(async move { Ok(handle(&ctx, req).await) })
    }
}

fn answer(r: Result<Value, ApiError>) -> Resp {
    match r {
        Ok(v) => json_response(200, &v),
        Err(e) => error_response(&e),
    }
}

async fn handle<S: StateMachine>(ctx: &Arc<RpcContext<S>>, req: LimitedRequest) -> Resp {
    // The outermost layer matched the route, once.
    let route = match req
        .extensions()
        .get::<RequestInfo>()
        .map(|i| i.route.clone())
    {
        Some(Ok(r)) => r,
        Some(Err(e)) => return error_response(&e),
        None => return error_response(&ApiError::internal("request reached the router unrouted")),
    };
    let c = &*ctx.client;
    let [a, _] = params(route.path, req.uri().path());
    match route.handler {
        Handler::Head => answer(methods::get_head(c)),
        // A block's JSON can be large: built off the async workers.
        Handler::Block => {
            let (ctx, id) = (ctx.clone(), a.to_string());
            answer(blocking(move || methods::get_block(&ctx.client, &id)).await)
        }
        // Every outcome of a block: as large as the block, built off the async workers.
        Handler::BlockEvents => {
            let (ctx, id) = (ctx.clone(), a.to_string());
            answer(blocking(move || methods::get_block_events(&ctx.client, &id)).await)
        }
        Handler::Tx => answer(methods::get_tx(c, a)),
        Handler::Balance => answer(methods::get_balance(c, a)),
        // Proofs read the database and hash: built off the async workers.
        Handler::FinalityProof => {
            let (ctx, from) = (ctx.clone(), a.to_string());
            answer(blocking(move || proofs::get_finality_proof(&ctx.client, &from)).await)
        }
        Handler::TxProof => {
            let (ctx, hash) = (ctx.clone(), a.to_string());
            answer(blocking(move || proofs::get_tx_proof(&ctx.client, &hash)).await)
        }
        Handler::Health => answer(methods::health(
            c,
            &ctx.config.chain_name,
            ctx.network.as_ref(),
        )),
        Handler::Peers => answer(p2p::peers(ctx.network.as_ref())),
        Handler::Equivocations => answer(p2p::equivocations(c)),
        Handler::Metrics => bytes_response(
            200,
            "text/plain; version=0.0.4",
            Bytes::from(c.metrics().render()),
        ),
        Handler::Websocket => ws::upgrade(ctx, req),
        Handler::JsonRpc => {
            let bytes = match read_body(req, ctx.config.max_body).await {
                Ok(b) => b,
                Err(e) => return error_response(&e),
            };
            // A batch may hold many calls: run it off the async workers.
            let ctx = ctx.clone();
            match blocking(move || Ok(jsonrpc::handle(&ctx, &bytes))).await {
                Ok(Some(v)) => json_response(200, &v),
                Ok(None) => {
                    let mut resp = bytes_response(200, "application/json", Bytes::new());
                    *resp.status_mut() = hyper::StatusCode::NO_CONTENT;
                    resp
                }
                Err(e) => error_response(&e),
            }
        }
        Handler::Chain if route.method == Verb::Get => {
            let path = req.uri().path().to_string();
            answer(call_chain(ctx, route, path, None).await)
        }
        Handler::SendTx
        | Handler::EstimateFee
        | Handler::ReadProof
        | Handler::PeersAdd
        | Handler::Chain => {
            let bytes = match read_body(req, ctx.config.max_body).await {
                Ok(b) => b,
                Err(e) => return error_response(&e),
            };
            answer(json_body_route(ctx, route, &bytes).await)
        }
    }
}

/// Answers a route that takes a JSON body once its body is read: `bytes` must be JSON (else
/// 400 `invalid_json`), then the route's method runs.
pub(crate) async fn json_body_route<S: StateMachine>(
    ctx: &Arc<RpcContext<S>>,
    route: &'static RouteSpec,
    bytes: &[u8],
) -> Result<Value, ApiError> {
    let body = parse_json(bytes)?;
    let c = &*ctx.client;
    match route.handler {
        Handler::SendTx => methods::tx_answer(methods::queue_tx(&ctx.admission, &body)?.await),
        Handler::EstimateFee => methods::estimate_fee(c, &body),
        Handler::ReadProof => {
            let ctx = ctx.clone();
            blocking(move || proofs::get_read_proof(&ctx.client, &body)).await
        }
        Handler::PeersAdd => p2p::add_peer(ctx.network.as_ref(), &body).await,
        Handler::Chain => call_chain(ctx, route, String::new(), Some(body)).await,
        other => Err(ApiError::internal(format!(
            "{other:?} is not a JSON body route"
        ))),
    }
}

/// Runs a chain route's handler on the blocking pool (it may read the database) with the
/// `{params}` of `path` and the JSON `body` of a POST route; a queued transaction's answer is
/// awaited once admission decided.
async fn call_chain<S: StateMachine>(
    ctx: &Arc<RpcContext<S>>,
    route: &'static RouteSpec,
    path: String,
    body: Option<Value>,
) -> Result<Value, ApiError> {
    let ctx = ctx.clone();
    let answered = blocking(move || {
        let args = Args {
            params: params(route.path, &path),
            body: body.as_ref(),
        };
        ctx.extension.call(&ctx, route, args)
    });
    match answered.await? {
        Answer::Value(v) => Ok(v),
        Answer::Queued(rx) => methods::tx_answer(rx.await),
    }
}

/// Runs `f` on the blocking pool, so heavy work does not stall the async workers (which also
/// drive slot timers and other connections).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(ApiError::internal(format!("request task failed: {e}"))))
}

/// Reads a body of at most `max` bytes (the body limit layer wrapped it): more is 413.
async fn read_body(req: LimitedRequest, max: usize) -> Result<Bytes, ApiError> {
    req.into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                too_large(max)
            } else {
                ApiError::bad_request("body_read_error", e.to_string())
            }
        })
}

/// A request body as JSON: 400 `invalid_json` when it is not.
fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("malformed JSON: {e}")))
}
