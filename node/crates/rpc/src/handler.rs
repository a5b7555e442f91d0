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
    bytes_response, error_response, json_response, page_response, too_large, LimitedRequest, Resp,
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
    match route.handler {
        // Answered from memory: on the async worker.
        Handler::Head
        | Handler::Tx
        | Handler::Balance
        | Handler::Health
        | Handler::Peers
        | Handler::Equivocations => answer(query(ctx, route, req.uri().path())),
        // Blocks, outcomes and proofs can be large or read the database, and a chain route may
        // read it: built off the async workers.
        Handler::Block | Handler::FinalityProof | Handler::TxProof => {
            answer(query_off_thread(ctx, route, req.uri().path()).await)
        }
        // As large as its block: serialized straight to bytes, off the async workers.
        Handler::BlockEvents => {
            let [id, _] = params(route.path, req.uri().path());
            let (ctx, id) = (ctx.clone(), id.to_string());
            let json = blocking(move || {
                let events = methods::get_block_events(&ctx.client, &id)?;
                serde_json::to_vec(&events).map_err(ApiError::internal)
            });
            match json.await {
                Ok(bytes) => bytes_response(200, "application/json", Bytes::from(bytes)),
                Err(e) => error_response(&e),
            }
        }
        Handler::Chain if route.method == Verb::Get => {
            answer(query_off_thread(ctx, route, req.uri().path()).await)
        }
        Handler::Explorer => {
            let (ctx, path) = (ctx.clone(), req.uri().path().to_string());
            let q = req.uri().query().map(str::to_string);
            let page =
                blocking(move || Ok(aitbc_explorer::serve(&path, q.as_deref(), &InProcess(&ctx))))
                    .await;
            match page {
                Ok(page) => page_response(page),
                Err(e) => error_response(&e),
            }
        }
        Handler::Metrics => bytes_response(
            200,
            "text/plain; version=0.0.4",
            Bytes::from(ctx.client.metrics().render()),
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
        Handler::Chain => call_chain(ctx, route, body).await,
        other => Err(ApiError::internal(format!(
            "{other:?} is not a JSON body route"
        ))),
    }
}

/// Answers a GET route that returns JSON for `path`, on the calling thread (it may read the
/// database): the handlers above, and the explorer's in-process lookups.
fn query<S: StateMachine>(
    ctx: &Arc<RpcContext<S>>,
    route: &'static RouteSpec,
    path: &str,
) -> Result<Value, ApiError> {
    let c = &*ctx.client;
    let [a, _] = params(route.path, path);
    match route.handler {
        Handler::Head => methods::get_head(c),
        Handler::Block => methods::get_block(c, a),
        Handler::BlockEvents => {
            serde_json::to_value(methods::get_block_events(c, a)?).map_err(ApiError::internal)
        }
        Handler::Tx => methods::get_tx(c, a),
        Handler::Balance => methods::get_balance(c, a),
        Handler::FinalityProof => proofs::get_finality_proof(c, a),
        Handler::TxProof => proofs::get_tx_proof(c, a),
        Handler::Health => methods::health(c, &ctx.config.chain_name, ctx.network.as_ref()),
        Handler::Peers => p2p::peers(ctx.network.as_ref()),
        Handler::Equivocations => p2p::equivocations(c),
        Handler::Chain if route.method == Verb::Get => {
            let args = Args {
                params: params(route.path, path),
                body: None,
            };
            match ctx.extension.call(ctx, route, args)? {
                Answer::Value(v) => Ok(v),
                Answer::Queued(_) => Err(ApiError::internal(format!(
                    "GET {} queued a transaction",
                    route.path
                ))),
            }
        }
        _ => Err(ApiError::new(
            404,
            "unknown_route",
            format!("{} is not a JSON query", route.path),
        )),
    }
}

/// [`query`] on the blocking pool.
async fn query_off_thread<S: StateMachine>(
    ctx: &Arc<RpcContext<S>>,
    route: &'static RouteSpec,
    path: &str,
) -> Result<Value, ApiError> {
    let (ctx, path) = (ctx.clone(), path.to_string());
    blocking(move || query(&ctx, route, &path)).await
}

/// The explorer's view of the RPC: a GET route answered in-process, through the route table.
struct InProcess<'a, S: StateMachine>(&'a Arc<RpcContext<S>>);

impl<S: StateMachine> aitbc_explorer::Rpc for InProcess<'_, S> {
    fn get(&self, path: &str) -> Result<Value, aitbc_explorer::Failure> {
        self.0
            .router
            .resolve(&hyper::Method::GET, path)
            .and_then(|route| query(self.0, route, path))
            .map_err(|e| aitbc_explorer::Failure {
                status: e.status,
                message: e.message,
            })
    }
}

/// Runs a chain route's POST handler on the blocking pool (it may read the database) with its
/// JSON `body`; a queued transaction's answer is awaited once admission decided.
async fn call_chain<S: StateMachine>(
    ctx: &Arc<RpcContext<S>>,
    route: &'static RouteSpec,
    body: Value,
) -> Result<Value, ApiError> {
    let ctx = ctx.clone();
    let answered = blocking(move || {
        let args = Args {
            params: [""; 2],
            body: Some(&body),
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
