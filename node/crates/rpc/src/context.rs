//! What every request handler shares: the client, admission, the settings, the network, the
//! route table and the chain's [`RpcExtension`].

use crate::extension::RpcExtension;
use crate::routes::Router;
use crate::server::RpcConfig;
use aitbc_client::{Admission, Client};
use aitbc_network::NetworkHandle;
use aitbc_primitives::StateMachine;
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
