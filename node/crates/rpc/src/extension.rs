//! The seam through which a chain adds its own routes and JSON-RPC methods to the generic RPC
//! (as a Substrate node adds the RPC of the runtime APIs its runtime implements). The core
//! routes serve any [`StateMachine`]; an [`RpcExtension`] adds the rest. AITBC's (`getJob`,
//! `getReceipt`, `submitReceipt`, `getParams`, the admin actions, the OpenAPI document) live in
//! `aitbc-runtime-rpc`, bound on the AITBC runtime's API traits.
//!
//! An extension's routes are matched after the core table (a path in both is the core's), are
//! labelled in metrics by their names, and pass through the same layers: an `admin` route is
//! behind the admin guard like a core one.

use crate::context::RpcContext;
use crate::error::ApiError;
use crate::jsonrpc::RpcError;
use crate::methods::TxReceiver;
use crate::routes::RouteSpec;
use aitbc_primitives::StateMachine;
use serde_json::Value;

/// What a route's handler answers: a value now, or a transaction queued for admission whose
/// answer arrives later (the REST path awaits it; JSON-RPC, on the blocking pool, blocks on it).
#[derive(Debug)]
pub enum Answer {
    Value(Value),
    Queued(TxReceiver),
}

impl From<Value> for Answer {
    fn from(v: Value) -> Self {
        Answer::Value(v)
    }
}

/// A route's input: the path's `{params}` in order (unused ones empty), and the JSON body of a
/// POST route.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    pub params: [&'a str; 2],
    pub body: Option<&'a Value>,
}

/// Routes and JSON-RPC methods a chain adds. Handlers run on the blocking pool (they may read
/// the database).
pub trait RpcExtension<S: StateMachine>: Send + Sync + 'static {
    /// The routes served, each with [`crate::routes::Handler::Chain`].
    fn routes(&self) -> &'static [RouteSpec];
    /// Answers one of [`RpcExtension::routes`].
    fn call(
        &self,
        ctx: &RpcContext<S>,
        route: &RouteSpec,
        args: Args<'_>,
    ) -> Result<Answer, ApiError>;
    /// The JSON-RPC methods served (for metrics labels).
    fn jsonrpc_methods(&self) -> &'static [&'static str];
    /// Answers a JSON-RPC call of one of [`RpcExtension::jsonrpc_methods`] (positional
    /// parameters).
    fn jsonrpc(
        &self,
        ctx: &RpcContext<S>,
        method: &str,
        params: &[Value],
    ) -> Result<Answer, RpcError>;
}

/// No routes beyond the core: the RPC of a state machine with no API of its own.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoExtension;

impl<S: StateMachine> RpcExtension<S> for NoExtension {
    fn routes(&self) -> &'static [RouteSpec] {
        &[]
    }

    fn call(&self, _: &RpcContext<S>, route: &RouteSpec, _: Args<'_>) -> Result<Answer, ApiError> {
        Err(ApiError::internal(format!(
            "{} is not served here",
            route.name
        )))
    }

    fn jsonrpc_methods(&self) -> &'static [&'static str] {
        &[]
    }

    fn jsonrpc(&self, _: &RpcContext<S>, method: &str, _: &[Value]) -> Result<Answer, RpcError> {
        Err(RpcError::method_not_found(method))
    }
}
