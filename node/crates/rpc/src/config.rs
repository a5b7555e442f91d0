//! The RPC's settings ([`RpcConfig`], from the CLI flags) and their defaults.

use std::net::SocketAddr;
use std::time::Duration;

/// Defaults shared by the CLI flags and [`RpcConfig::default`].
pub mod defaults {
    /// `--rpc-max-body`: 1 MiB.
    pub const MAX_BODY: usize = 1024 * 1024;
    /// `--rpc-timeout` in seconds.
    pub const TIMEOUT_SECS: u64 = 30;
    /// `--rpc-max-concurrent`.
    pub const MAX_CONCURRENT: usize = 1024;
    /// `--rpc-ws-max-connections`.
    pub const WS_MAX_CONNECTIONS: usize = 100;
    /// `--rpc-ws-max-subscriptions` (per connection).
    pub const WS_MAX_SUBSCRIPTIONS: usize = 64;
    /// `--rpc-ws-queue`: outbound messages buffered per websocket connection.
    pub const WS_QUEUE: usize = 256;
    /// `--rpc-max-connections-per-ip`: open TCP connections from one client IP.
    pub const MAX_CONNECTIONS_PER_IP: usize = 256;
}

/// RPC settings (CLI flags; defaults in [`defaults`]).
#[derive(Debug, Clone)]
pub struct RpcConfig {
    pub addr: SocketAddr,
    /// Largest request body (413 beyond).
    pub max_body: usize,
    /// Whole-request timeout, body included (408).
    pub timeout: Duration,
    /// Requests in flight (503 beyond).
    pub max_concurrent: usize,
    pub admin_token: Option<String>,
    pub chain_name: String,
    /// Requests per second per client IP; 0 = off.
    pub rate_limit: u32,
    /// Apply `rate_limit` to loopback clients too.
    pub rate_limit_loopback: bool,
    /// Serve admin routes although the RPC binds a non-loopback address.
    pub admin_external: bool,
    /// Open websocket connections (503 beyond).
    pub ws_max_connections: usize,
    /// Subscriptions per websocket connection.
    pub ws_max_subscriptions: usize,
    /// Outbound messages buffered per websocket connection; a full queue closes it.
    pub ws_queue: usize,
    /// One info line per request on the `rpc::access` target.
    pub access_log: bool,
    /// Open TCP connections per client IP (closed at accept beyond it); 0 = off.
    pub max_connections_per_ip: usize,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 9080)),
            max_body: defaults::MAX_BODY,
            timeout: Duration::from_secs(defaults::TIMEOUT_SECS),
            max_concurrent: defaults::MAX_CONCURRENT,
            admin_token: None,
            chain_name: String::new(),
            rate_limit: 0,
            rate_limit_loopback: false,
            admin_external: false,
            ws_max_connections: defaults::WS_MAX_CONNECTIONS,
            ws_max_subscriptions: defaults::WS_MAX_SUBSCRIPTIONS,
            ws_queue: defaults::WS_QUEUE,
            access_log: false,
            max_connections_per_ip: defaults::MAX_CONNECTIONS_PER_IP,
        }
    }
}
