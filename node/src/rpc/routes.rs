//! REST routing from one table, [`ROUTES`]: the router matches against it, metrics are labelled
//! with its names, and the OpenAPI test compares it with `node/openapi.json` (so the document
//! cannot drift from the router). Handlers call [`super::methods`] (shared with JSON-RPC).

use super::admin;
use super::error::ApiError;
use super::jsonrpc;
use super::layers::{
    bytes_response, error_response, json_response, too_large, LimitedRequest, RequestInfo, Resp,
};
use super::methods;
use super::p2p;
use super::server::RpcContext;
use super::ws;
use aitbc_primitives::StateMachine;
use http_body_util::BodyExt;
use hyper::body::Bytes;
use serde_json::Value;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The OpenAPI 3 document of every route (served at `GET /rpc/openapi.json`).
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// An HTTP method the RPC serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
}

impl Verb {
    /// Lowercase, as OpenAPI writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
        }
    }

    fn of(method: &hyper::Method) -> Option<Verb> {
        match *method {
            hyper::Method::GET => Some(Verb::Get),
            hyper::Method::POST => Some(Verb::Post),
            _ => None,
        }
    }
}

/// What a route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Handler {
    Head,
    Block,
    Tx,
    Balance,
    Receipt,
    Job,
    Health,
    Metrics,
    OpenApi,
    Peers,
    Websocket,
    JsonRpc,
    SendTx,
    SubmitReceipt,
    EstimateFee,
    MintFaucet,
    ParamSet,
    CoordinatorAdd,
    CoordinatorRemove,
    BlockEvents,
    PeersAdd,
    Equivocations,
    Params,
}

/// One route: method, path template (OpenAPI syntax, `{param}` matches one non-empty segment),
/// the name used in metrics and logs, and whether it is an admin route.
#[derive(Debug)]
pub struct RouteSpec {
    pub method: Verb,
    pub path: &'static str,
    pub name: &'static str,
    pub admin: bool,
    pub(super) handler: Handler,
}

const fn route(method: Verb, path: &'static str, name: &'static str, h: Handler) -> RouteSpec {
    RouteSpec {
        method,
        path,
        name,
        admin: false,
        handler: h,
    }
}

const fn admin_route(path: &'static str, name: &'static str, h: Handler) -> RouteSpec {
    RouteSpec {
        method: Verb::Post,
        path,
        name,
        admin: true,
        handler: h,
    }
}

use Verb::{Get, Post};

/// Every route the server answers.
pub static ROUTES: &[RouteSpec] = &[
    route(Get, "/rpc/getHead", "getHead", Handler::Head),
    route(
        Get,
        "/rpc/getBlock/{heightOrHash}",
        "getBlock",
        Handler::Block,
    ),
    route(
        Get,
        "/rpc/getBlockEvents/{heightOrHash}",
        "getBlockEvents",
        Handler::BlockEvents,
    ),
    route(Get, "/rpc/getTx/{txHash}", "getTx", Handler::Tx),
    route(
        Get,
        "/rpc/getBalance/{address}",
        "getBalance",
        Handler::Balance,
    ),
    route(
        Get,
        "/rpc/getReceipt/{receiptId}",
        "getReceipt",
        Handler::Receipt,
    ),
    route(
        Get,
        "/rpc/getJob/{clientAddress}/{jobId}",
        "getJob",
        Handler::Job,
    ),
    route(Get, "/rpc/getParams", "getParams", Handler::Params),
    route(Get, "/health", "health", Handler::Health),
    route(Get, "/metrics", "metrics", Handler::Metrics),
    route(Get, "/rpc/metrics", "metrics", Handler::Metrics),
    route(Get, "/rpc/openapi.json", "openapi", Handler::OpenApi),
    route(Get, "/p2p/peers", "peers", Handler::Peers),
    route(
        Get,
        "/rpc/getEquivocations",
        "getEquivocations",
        Handler::Equivocations,
    ),
    route(Get, "/rpc/ws", "websocket", Handler::Websocket),
    route(Post, "/rpc", "jsonrpc", Handler::JsonRpc),
    route(Post, "/rpc/sendTx", "sendTx", Handler::SendTx),
    route(
        Post,
        "/rpc/submitReceipt",
        "submitReceipt",
        Handler::SubmitReceipt,
    ),
    route(
        Post,
        "/rpc/estimateFee",
        "estimateFee",
        Handler::EstimateFee,
    ),
    admin_route("/admin/mintFaucet", "mintFaucet", Handler::MintFaucet),
    admin_route("/admin/paramSet", "paramSet", Handler::ParamSet),
    admin_route(
        "/admin/coordinatorAdd",
        "coordinatorAdd",
        Handler::CoordinatorAdd,
    ),
    admin_route(
        "/admin/coordinatorRemove",
        "coordinatorRemove",
        Handler::CoordinatorRemove,
    ),
    admin_route("/admin/peers/add", "peersAdd", Handler::PeersAdd),
];

/// Does `path` match the template `pattern`?
fn matches(pattern: &str, path: &str) -> bool {
    let (mut p, mut s) = (pattern.split('/'), path.split('/'));
    loop {
        match (p.next(), s.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a.starts_with('{') => {
                if b.is_empty() {
                    return false;
                }
            }
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// The values of `pattern`'s `{params}` in `path` (which matches it), in order.
fn params<'a>(pattern: &str, path: &'a str) -> [&'a str; 2] {
    let mut out = [""; 2];
    let found = pattern
        .split('/')
        .zip(normalize(path).split('/'))
        .filter(|(p, _)| p.starts_with('{'))
        .map(|(_, v)| v);
    for (slot, v) in out.iter_mut().zip(found) {
        *slot = v;
    }
    out
}

/// A path without its trailing slashes (`/` stays `/`).
fn normalize(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/"
    } else {
        trimmed
    }
}

/// Routes a method and path; `Err` is 404 `unknown_route` or 405 `method_not_allowed`.
pub fn resolve(method: &hyper::Method, path: &str) -> Result<&'static RouteSpec, ApiError> {
    let path = normalize(path);
    let verb = Verb::of(method);
    let mut path_known = false;
    for r in ROUTES {
        if matches(r.path, path) {
            if Some(r.method) == verb {
                return Ok(r);
            }
            path_known = true;
        }
    }
    Err(if path_known {
        ApiError::new(
            405,
            "method_not_allowed",
            format!("{method} is not allowed on {path}"),
        )
    } else {
        ApiError::new(404, "unknown_route", format!("no route {path}"))
    })
}

/// The innermost service: answers a routed request.
pub(super) struct RpcService<S: StateMachine> {
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
    let route = req.extensions().get::<RequestInfo>().and_then(|i| i.route);
    let route = match route {
        Some(r) => r,
        None => match resolve(req.method(), req.uri().path()) {
            Ok(r) => r,
            Err(e) => return error_response(&e),
        },
    };
    let c = &*ctx.client;
    let [a, b] = params(route.path, req.uri().path());
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
        Handler::Receipt => answer(methods::get_receipt(c, a)),
        Handler::Job => answer(methods::get_job(c, a, b)),
        Handler::Params => answer(methods::get_params(c)),
        Handler::Health => answer(methods::health(
            c,
            &ctx.config.chain_name,
            ctx.network.as_ref(),
        )),
        Handler::Peers => answer(p2p::peers(ctx.network.as_ref())),
        Handler::Equivocations => answer(p2p::equivocations(c)),
        Handler::PeersAdd => {
            let body = match read_json(req, ctx.config.max_body).await {
                Ok(v) => v,
                Err(e) => return error_response(&e),
            };
            answer(p2p::add_peer(ctx.network.as_ref(), &body).await)
        }
        Handler::Metrics => bytes_response(
            200,
            "text/plain; version=0.0.4",
            Bytes::from(c.metrics().render()),
        ),
        Handler::OpenApi => bytes_response(
            200,
            "application/json",
            Bytes::from_static(OPENAPI.as_bytes()),
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
        | Handler::SubmitReceipt
        | Handler::EstimateFee
        | Handler::MintFaucet
        | Handler::ParamSet
        | Handler::CoordinatorAdd
        | Handler::CoordinatorRemove => {
            let bytes = match read_body(req, ctx.config.max_body).await {
                Ok(b) => b,
                Err(e) => return error_response(&e),
            };
            answer(json_body_route(ctx, route.handler, &bytes).await)
        }
    }
}

/// Answers a route that takes a JSON body (submit, fee estimate, admin) once its body is read:
/// `bytes` must be JSON (else 400 `invalid_json`), then the route's method runs.
pub(super) async fn json_body_route<S: StateMachine>(
    ctx: &RpcContext<S>,
    handler: Handler,
    bytes: &[u8],
) -> Result<Value, ApiError> {
    let body = parse_json(bytes)?;
    let c = &*ctx.client;
    let sudo = ctx.sudo.as_ref();
    match handler {
        Handler::SendTx | Handler::SubmitReceipt => {
            let claims_only = handler == Handler::SubmitReceipt;
            let answer = methods::queue_tx(c, &ctx.admission, &body, claims_only)?;
            methods::tx_answer(answer.await)
        }
        Handler::EstimateFee => methods::estimate_fee(c, &body),
        Handler::MintFaucet => admin::mint_faucet(c, sudo, &body),
        Handler::ParamSet => admin::param_set(c, sudo, &body),
        Handler::CoordinatorAdd => admin::coordinator_add(c, sudo, &body),
        Handler::CoordinatorRemove => admin::coordinator_remove(c, sudo, &body),
        other => Err(ApiError::internal(format!(
            "{other:?} is not a JSON body route"
        ))),
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

/// Reads a JSON body of at most `max` bytes.
async fn read_json(req: LimitedRequest, max: usize) -> Result<Value, ApiError> {
    parse_json(&read_body(req, max).await?)
}

/// A request body as JSON: 400 `invalid_json` when it is not.
fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("malformed JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::Method;

    #[test]
    fn table_routes_and_params() {
        let r = resolve(&Method::GET, "/rpc/getJob/ait1xyz/7").unwrap();
        assert_eq!(r.name, "getJob");
        assert_eq!(params(r.path, "/rpc/getJob/ait1xyz/7/"), ["ait1xyz", "7"]);
        assert_eq!(
            resolve(&Method::GET, "/rpc/getHead/").unwrap().name,
            "getHead"
        );
        assert_eq!(resolve(&Method::POST, "/rpc").unwrap().name, "jsonrpc");
        assert_eq!(
            resolve(&Method::GET, "/rpc/getBlock/").unwrap_err().status,
            404
        );
        assert_eq!(
            resolve(&Method::GET, "/rpc/sendTx").unwrap_err().status,
            405
        );
        assert_eq!(resolve(&Method::DELETE, "/health").unwrap_err().status, 405);
        assert_eq!(resolve(&Method::GET, "/nope").unwrap_err().status, 404);
        assert_eq!(resolve(&Method::GET, "/").unwrap_err().status, 404);
        assert!(resolve(&Method::POST, "/admin/mintFaucet").unwrap().admin);
    }

    #[test]
    fn routes_are_unique() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(
                    (a.method, a.path) != (b.method, b.path),
                    "duplicate {}",
                    a.path
                );
            }
        }
    }
}
