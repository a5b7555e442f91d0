//! The route table: [`ROUTES`] (the core routes, for any state machine) followed by the chain
//! extension's routes ([`crate::context::RpcExtension`]). A [`Router`] holds both; the outermost
//! layer matches each request once and tags it with its route, which metrics and logs name and
//! the handler (`handler.rs`) dispatches on.

use crate::error::ApiError;

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

    pub fn of(method: &hyper::Method) -> Option<Verb> {
        match *method {
            hyper::Method::GET => Some(Verb::Get),
            hyper::Method::POST => Some(Verb::Post),
            _ => None,
        }
    }
}

/// What a route does: a core handler, or one of the chain extension's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    Head,
    Block,
    BlockEvents,
    Tx,
    Balance,
    Health,
    Metrics,
    Peers,
    Equivocations,
    Websocket,
    JsonRpc,
    SendTx,
    EstimateFee,
    FinalityProof,
    ReadProof,
    TxProof,
    PeersAdd,
    /// The block explorer's pages and assets (`aitbc-explorer`).
    Explorer,
    /// Answered by the chain's [`crate::context::RpcExtension`] (a POST route gets its JSON
    /// body).
    Chain,
}

/// One route: method, path template (OpenAPI syntax, `{param}` matches one non-empty segment),
/// the name used in metrics and logs, and whether it is an admin route.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: Verb,
    pub path: &'static str,
    pub name: &'static str,
    pub admin: bool,
    pub handler: Handler,
}

pub const fn route(method: Verb, path: &'static str, name: &'static str, h: Handler) -> RouteSpec {
    RouteSpec {
        method,
        path,
        name,
        admin: false,
        handler: h,
    }
}

pub const fn admin_route(path: &'static str, name: &'static str, h: Handler) -> RouteSpec {
    RouteSpec {
        method: Verb::Post,
        path,
        name,
        admin: true,
        handler: h,
    }
}

use Verb::{Get, Post};

/// The core routes: the same for every state machine.
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
        "/rpc/getFinalityProof/{fromHeight}",
        "getFinalityProof",
        Handler::FinalityProof,
    ),
    route(
        Post,
        "/rpc/getReadProof",
        "getReadProof",
        Handler::ReadProof,
    ),
    route(
        Get,
        "/rpc/getTxProof/{txHash}",
        "getTxProof",
        Handler::TxProof,
    ),
    route(Get, "/health", "health", Handler::Health),
    route(Get, "/metrics", "metrics", Handler::Metrics),
    route(Get, "/rpc/metrics", "metrics", Handler::Metrics),
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
        "/rpc/estimateFee",
        "estimateFee",
        Handler::EstimateFee,
    ),
    admin_route("/admin/peers/add", "peersAdd", Handler::PeersAdd),
    // The explorer's templates, `aitbc_explorer::ROUTES`.
    route(Get, "/", "explorer", Handler::Explorer),
    route(Get, "/explorer", "explorer", Handler::Explorer),
    route(Get, "/explorer/{page}", "explorer", Handler::Explorer),
    route(Get, "/explorer/{page}/{id}", "explorer", Handler::Explorer),
    route(
        Get,
        "/explorer/{page}/{client}/{id}",
        "explorer",
        Handler::Explorer,
    ),
];

/// The routes a server answers: the core table, then the chain's.
#[derive(Debug, Clone)]
pub struct Router {
    routes: Vec<&'static RouteSpec>,
}

impl Router {
    /// The core routes followed by `chain`'s.
    pub fn new(chain: &'static [RouteSpec]) -> Self {
        Router {
            routes: ROUTES.iter().chain(chain).collect(),
        }
    }

    /// Every route, in matching order.
    pub fn routes(&self) -> impl Iterator<Item = &'static RouteSpec> + '_ {
        self.routes.iter().copied()
    }

    /// Routes a method and path; `Err` is 404 `unknown_route` or 405 `method_not_allowed`.
    pub fn resolve(
        &self,
        method: &hyper::Method,
        path: &str,
    ) -> Result<&'static RouteSpec, ApiError> {
        let path = normalize(path);
        let verb = Verb::of(method);
        let mut path_known = false;
        for r in self.routes() {
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
}

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
pub fn params<'a>(pattern: &str, path: &'a str) -> [&'a str; 2] {
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

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::Method;

    static CHAIN: &[RouteSpec] = &[
        route(Get, "/rpc/getJob/{client}/{id}", "getJob", Handler::Chain),
        route(Get, "/rpc/getHead", "shadowed", Handler::Chain),
    ];

    #[test]
    fn table_routes_and_params() {
        let router = Router::new(CHAIN);
        let resolve = |m: &Method, p: &str| router.resolve(m, p);
        let r = resolve(&Method::GET, "/rpc/getJob/ait1xyz/7").unwrap();
        assert_eq!(r.name, "getJob");
        assert_eq!(params(r.path, "/rpc/getJob/ait1xyz/7/"), ["ait1xyz", "7"]);
        // A chain route never shadows a core one.
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
        assert_eq!(resolve(&Method::GET, "/").unwrap().name, "explorer");
        assert_eq!(
            resolve(&Method::GET, "/explorer/job/ait1xyz/7")
                .unwrap()
                .name,
            "explorer"
        );
        assert_eq!(
            resolve(&Method::GET, "/explorer/a/b/c/d")
                .unwrap_err()
                .status,
            404
        );
        assert!(resolve(&Method::POST, "/admin/peers/add").unwrap().admin);
        assert_eq!(
            Router::new(&[])
                .resolve(&Method::GET, "/rpc/getJob/a/1")
                .unwrap_err()
                .status,
            404
        );
    }

    #[test]
    fn the_explorer_routes_are_the_explorers() {
        let ours: Vec<&str> = ROUTES
            .iter()
            .filter(|r| r.handler == Handler::Explorer)
            .map(|r| r.path)
            .collect();
        assert_eq!(ours, aitbc_explorer::ROUTES);
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
