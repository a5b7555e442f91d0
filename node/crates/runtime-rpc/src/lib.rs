//! # aitbc-runtime-rpc
//!
//! The AITBC chain's routes and JSON-RPC methods, added to the generic RPC (`aitbc-rpc`) as an
//! [`RpcExtension`]. They are bound on the AITBC runtime's API traits ([`ComputeApi`],
//! [`AdminApi`], [`StakingApi`]), so they serve any state machine that implements them, and no other part of the
//! node needs to know them. This crate and the node binary are the only ones that depend on
//! `aitbc-runtime`.
//!
//! - [`compute`]: `GET /rpc/getReceipt/{receiptId}`, `GET /rpc/getJob/{clientAddress}/{jobId}`,
//!   `POST /rpc/submitReceipt` (and their JSON-RPC methods);
//! - [`staking`]: `GET /rpc/getValidators`, `GET /rpc/getStaking/{address}`,
//!   `GET /rpc/getOffences` (and their JSON-RPC methods);
//! - [`admin`]: `GET /rpc/getParams` and the admin actions (`/admin/mintFaucet`,
//!   `/admin/paramSet`, `/admin/coordinatorAdd`, `/admin/coordinatorRemove`), one table;
//! - `GET /rpc/openapi.json`: [`OPENAPI`], the document of every route the AITBC node serves
//!   (core and chain); a test keeps it in step with the router.

pub mod admin;
pub mod compute;
pub mod staking;

use aitbc_primitives::Pair;

use aitbc_rpc::error::{ApiError, RpcError};
use aitbc_rpc::jsonrpc;
use aitbc_rpc::routes::{route, Handler, RouteSpec, Verb};
use aitbc_rpc::{Answer, Args, RpcContext, RpcExtension};
use aitbc_runtime::{AdminApi, ComputeApi, StakingApi};
use serde_json::Value;
use std::sync::OnceLock;

/// The OpenAPI 3 document of every route of an AITBC node (served at `GET /rpc/openapi.json`).
pub const OPENAPI: &str = include_str!("../../../openapi.json");

/// The AITBC routes: queries, the receipt submission, then the admin actions.
pub static ROUTES: &[RouteSpec] = &[
    route(
        Verb::Get,
        "/rpc/getReceipt/{receiptId}",
        "getReceipt",
        Handler::Chain,
    ),
    route(
        Verb::Get,
        "/rpc/getJob/{clientAddress}/{jobId}",
        "getJob",
        Handler::Chain,
    ),
    route(Verb::Get, "/rpc/getParams", "getParams", Handler::Chain),
    route(
        Verb::Get,
        "/rpc/getValidators",
        "getValidators",
        Handler::Chain,
    ),
    route(
        Verb::Get,
        "/rpc/getStaking/{address}",
        "getStaking",
        Handler::Chain,
    ),
    route(Verb::Get, "/rpc/getOffences", "getOffences", Handler::Chain),
    route(Verb::Get, "/rpc/openapi.json", "openapi", Handler::Chain),
    route(
        Verb::Post,
        "/rpc/submitReceipt",
        "submitReceipt",
        Handler::Chain,
    ),
    admin::ACTIONS[0].route,
    admin::ACTIONS[1].route,
    admin::ACTIONS[2].route,
    admin::ACTIONS[3].route,
];

/// The JSON-RPC methods added.
const METHODS: &[&str] = &[
    "submitReceipt",
    "getReceipt",
    "getJob",
    "getValidators",
    "getStaking",
    "getOffences",
];

/// The AITBC extension of the RPC. `sudo`: the node's sudo key, which signs admin actions.
#[derive(Debug, Clone, Default)]
pub struct AitbcRpc {
    pub sudo: Option<Pair>,
}

impl AitbcRpc {
    pub fn new(sudo: Option<Pair>) -> Self {
        AitbcRpc { sudo }
    }
}

fn openapi() -> Result<Value, ApiError> {
    static DOC: OnceLock<Value> = OnceLock::new();
    if let Some(doc) = DOC.get() {
        return Ok(doc.clone());
    }
    let doc: Value = serde_json::from_str(OPENAPI).map_err(ApiError::internal)?;
    Ok(DOC.get_or_init(|| doc).clone())
}

/// A POST route's JSON body (the router reads it before calling).
fn body<'a>(args: &Args<'a>) -> Result<&'a Value, ApiError> {
    args.body
        .ok_or_else(|| ApiError::internal("a POST route was called without its body"))
}

impl<S: ComputeApi + AdminApi + StakingApi> RpcExtension<S> for AitbcRpc {
    fn routes(&self) -> &'static [RouteSpec] {
        ROUTES
    }

    fn call(
        &self,
        ctx: &RpcContext<S>,
        route: &RouteSpec,
        args: Args<'_>,
    ) -> Result<Answer, ApiError> {
        let c = &*ctx.client;
        let [a, b] = args.params;
        match route.name {
            "getReceipt" => compute::get_receipt(c, a).map(Answer::Value),
            "getJob" => compute::get_job(c, a, b).map(Answer::Value),
            "getParams" => admin::get_params(c).map(Answer::Value),
            "getValidators" => staking::get_validators(c).map(Answer::Value),
            "getStaking" => staking::get_staking(c, a).map(Answer::Value),
            "getOffences" => staking::get_offences(c).map(Answer::Value),
            "openapi" => openapi().map(Answer::Value),
            "submitReceipt" => compute::submit_receipt(ctx, body(&args)?).map(Answer::Queued),
            name => match admin::action(name) {
                Some(action) => {
                    admin::run(c, self.sudo.as_ref(), action, body(&args)?).map(Answer::Value)
                }
                None => Err(ApiError::internal(format!("{name} is not an AITBC route"))),
            },
        }
    }

    fn jsonrpc_methods(&self) -> &'static [&'static str] {
        METHODS
    }

    fn jsonrpc(
        &self,
        ctx: &RpcContext<S>,
        method: &str,
        params: &[Value],
    ) -> Result<Answer, RpcError> {
        let c = &*ctx.client;
        let answer = match method {
            "submitReceipt" => {
                let [tx] = jsonrpc::arity(method, params)?;
                compute::submit_receipt(ctx, &jsonrpc::tx_param(method, tx)?).map(Answer::Queued)
            }
            "getReceipt" => {
                let [id] = jsonrpc::arity(method, params)?;
                compute::get_receipt(c, jsonrpc::string(method, "receiptId", id)?)
                    .map(Answer::Value)
            }
            "getJob" => {
                let [a, j] = jsonrpc::arity(method, params)?;
                compute::get_job(
                    c,
                    jsonrpc::string(method, "clientAddress", a)?,
                    &jsonrpc::string_or_u64(method, "jobId", j)?,
                )
                .map(Answer::Value)
            }
            "getValidators" => {
                let [] = jsonrpc::arity(method, params)?;
                staking::get_validators(c).map(Answer::Value)
            }
            "getStaking" => {
                let [a] = jsonrpc::arity(method, params)?;
                staking::get_staking(c, jsonrpc::string(method, "address", a)?).map(Answer::Value)
            }
            "getOffences" => {
                let [] = jsonrpc::arity(method, params)?;
                staking::get_offences(c).map(Answer::Value)
            }
            _ => return Err(RpcError::method_not_found(method)),
        };
        answer.map_err(RpcError::from)
    }
}
