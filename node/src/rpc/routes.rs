//! REST routing: path and method to [`super::methods`].

use super::admin;
use super::error::ApiError;
use super::methods;
use super::server::RpcContext;
use aitbc_primitives::StateMachine;
use serde_json::Value;

/// What a request asks for, after routing.
pub(super) enum Route<'a> {
    Get(GetRoute<'a>),
    /// A POST route taking a JSON body.
    Post(PostRoute),
    Metrics,
}

pub(super) enum GetRoute<'a> {
    Head,
    Block(&'a str),
    Tx(&'a str),
    Balance(&'a str),
    Receipt(&'a str),
    Job(&'a str, &'a str),
    Health,
}

#[derive(Clone, Copy)]
pub(super) enum PostRoute {
    SendTx,
    SubmitReceipt,
    EstimateFee,
    MintFaucet,
    ParamSet,
}

impl PostRoute {
    pub(super) fn is_admin(self) -> bool {
        matches!(self, PostRoute::MintFaucet | PostRoute::ParamSet)
    }
}

/// The route's name for metrics and logs.
pub(super) fn name(route: &Route<'_>) -> &'static str {
    match route {
        Route::Get(GetRoute::Head) => "getHead",
        Route::Get(GetRoute::Block(_)) => "getBlock",
        Route::Get(GetRoute::Tx(_)) => "getTx",
        Route::Get(GetRoute::Balance(_)) => "getBalance",
        Route::Get(GetRoute::Receipt(_)) => "getReceipt",
        Route::Get(GetRoute::Job(..)) => "getJob",
        Route::Get(GetRoute::Health) => "health",
        Route::Post(PostRoute::SendTx) => "sendTx",
        Route::Post(PostRoute::SubmitReceipt) => "submitReceipt",
        Route::Post(PostRoute::EstimateFee) => "estimateFee",
        Route::Post(PostRoute::MintFaucet) => "mintFaucet",
        Route::Post(PostRoute::ParamSet) => "paramSet",
        Route::Metrics => "metrics",
    }
}

/// Routes a method and path; `Err` is 404 or 405.
pub(super) fn route<'a>(method: &hyper::Method, path: &'a str) -> Result<Route<'a>, ApiError> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let get = match segments.as_slice() {
        ["rpc", "getHead"] => Some(Route::Get(GetRoute::Head)),
        ["rpc", "getBlock", id] => Some(Route::Get(GetRoute::Block(id))),
        ["rpc", "getTx", h] => Some(Route::Get(GetRoute::Tx(h))),
        ["rpc", "getBalance", a] => Some(Route::Get(GetRoute::Balance(a))),
        ["rpc", "getReceipt", id] => Some(Route::Get(GetRoute::Receipt(id))),
        ["rpc", "getJob", a, j] => Some(Route::Get(GetRoute::Job(a, j))),
        ["health"] => Some(Route::Get(GetRoute::Health)),
        ["metrics"] | ["rpc", "metrics"] => Some(Route::Metrics),
        _ => None,
    };
    let post = match segments.as_slice() {
        ["rpc", "sendTx"] => Some(PostRoute::SendTx),
        ["rpc", "submitReceipt"] => Some(PostRoute::SubmitReceipt),
        ["rpc", "estimateFee"] => Some(PostRoute::EstimateFee),
        ["admin", "mintFaucet"] => Some(PostRoute::MintFaucet),
        ["admin", "paramSet"] => Some(PostRoute::ParamSet),
        _ => None,
    };
    match (method, get, post) {
        (&hyper::Method::GET, Some(r), _) => Ok(r),
        (&hyper::Method::POST, _, Some(p)) => Ok(Route::Post(p)),
        (_, None, None) => Err(ApiError::new(
            404,
            "unknown_route",
            format!("no route {path}"),
        )),
        _ => Err(ApiError::new(
            405,
            "method_not_allowed",
            format!("{method} is not allowed on {path}"),
        )),
    }
}

pub(super) fn get<S: StateMachine>(
    ctx: &RpcContext<S>,
    r: &GetRoute<'_>,
) -> Result<Value, ApiError> {
    let c = &*ctx.client;
    match r {
        GetRoute::Head => methods::get_head(c),
        GetRoute::Block(id) => methods::get_block(c, id),
        GetRoute::Tx(h) => methods::get_tx(c, h),
        GetRoute::Balance(a) => methods::get_balance(c, a),
        GetRoute::Receipt(id) => methods::get_receipt(c, id),
        GetRoute::Job(a, j) => methods::get_job(c, a, j),
        GetRoute::Health => methods::health(c, &ctx.config.chain_name),
    }
}

pub(super) fn post<S: StateMachine>(
    ctx: &RpcContext<S>,
    r: PostRoute,
    body: &Value,
) -> Result<Value, ApiError> {
    let c = &*ctx.client;
    match r {
        PostRoute::SendTx => methods::send_tx(c, body, false),
        PostRoute::SubmitReceipt => methods::send_tx(c, body, true),
        PostRoute::EstimateFee => methods::estimate_fee(c, body),
        PostRoute::MintFaucet => admin::mint_faucet(c, ctx.sudo.as_ref(), body),
        PostRoute::ParamSet => admin::param_set(c, ctx.sudo.as_ref(), body),
    }
}
