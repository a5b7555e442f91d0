//! What every request handler shares ([`RpcContext`]: the client, admission, the settings, the
//! network, the route table) and the seam through which a chain adds its own routes and
//! JSON-RPC methods ([`RpcExtension`]), as a Substrate node adds the RPC of the runtime APIs
//! its runtime implements. The core routes serve any [`StateMachine`]; an extension adds the
//! rest. AITBC's (`getJob`, `getReceipt`, `submitReceipt`, `getParams`, the admin actions, the
//! OpenAPI document) live in `aitbc-runtime-rpc`, bound on the AITBC runtime's API traits.
//!
//! An extension's routes are matched after the core table (a path in both is the core's), are
//! labelled in metrics by their names, and pass through the same layers: an `admin` route is
//! behind the admin guard like a core one.

use crate::config::RpcConfig;
use crate::error::{ApiError, RpcError};
use crate::methods::TxReceiver;
use crate::routes::{RouteSpec, Router};
use aitbc_client::{Admission, Client};
use aitbc_network::NetworkHandle;
use aitbc_primitives::StateMachine;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::{watch, Semaphore};

/// See the module docs.
pub struct RpcContext<S: StateMachine> {
    pub client: Arc<Client<S>>,
    /// Batched admission of submitted transactions (its workers stop with the server).
    pub admission: Admission<S>,
    pub config: RpcConfig,
    /// The peer-to-peer service, when the node runs one.
    pub network: Option<NetworkHandle>,
    /// The core routes and the extension's, matched once per request.
    pub router: Router,
    /// The chain's own routes and methods.
    pub extension: Arc<dyn RpcExtension<S>>,
    /// One permit per open websocket connection.
    pub ws_permits: Arc<Semaphore>,
    /// Turns true on node shutdown (websocket sessions watch it).
    pub shutdown: watch::Receiver<bool>,
}

impl<S: StateMachine> RpcContext<S> {
    /// A context for `client` serving `extension`'s routes beside the core ones.
    pub fn new(
        client: Arc<Client<S>>,
        admission: Admission<S>,
        config: RpcConfig,
        network: Option<NetworkHandle>,
        extension: Arc<dyn RpcExtension<S>>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        RpcContext {
            router: Router::new(extension.routes()),
            ws_permits: Arc::new(Semaphore::new(
                config.ws_max_connections.min(Semaphore::MAX_PERMITS),
            )),
            client,
            admission,
            config,
            network,
            extension,
            shutdown,
        }
    }
}

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
