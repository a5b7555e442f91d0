//! Admin guard: `/admin/*` needs `Authorization: Bearer TOKEN` (constant-time compare;
//! 401), is 401 `admin_disabled` when the node has no token, and 403 `admin_not_allowed` when the
//! RPC binds a non-loopback address unless the operator opted in.

use super::{info, take, BoxFuture};
use crate::config::RpcConfig;
use crate::error::ApiError;
use crate::response::{error_response, Resp};
use hyper::Request;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Layer, Service, ServiceExt};

/// Who may use the admin routes.
#[derive(Debug)]
pub(crate) struct AdminPolicy {
    token: Option<String>,
    /// The RPC binds loopback, or the operator passed `--rpc-admin-external`.
    allowed: bool,
}

impl AdminPolicy {
    /// The policy for a server bound to `bound`.
    pub fn new(config: &RpcConfig, bound: SocketAddr) -> Self {
        AdminPolicy {
            token: config.admin_token.clone(),
            allowed: admin_allowed(bound, config.admin_external),
        }
    }

    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// Checks an admin request's `Authorization` header.
    fn check(&self, authorization: Option<&str>) -> Result<(), ApiError> {
        if !self.allowed {
            return Err(ApiError::new(
                403,
                "admin_not_allowed",
                "admin routes are refused when the RPC listens on a non-loopback address \
                 (start the node with --rpc-admin-external to allow them)",
            ));
        }
        authorize(authorization, self.token.as_deref())
    }
}

/// Admin routes are served on a loopback bind, elsewhere only with the explicit opt-in.
pub(crate) fn admin_allowed(bound: SocketAddr, external: bool) -> bool {
    external || bound.ip().to_canonical().is_loopback()
}

#[derive(Clone)]
pub(crate) struct AdminGuardLayer(Arc<AdminPolicy>);

impl AdminGuardLayer {
    pub fn new(policy: Arc<AdminPolicy>) -> Self {
        AdminGuardLayer(policy)
    }
}

impl<I> Layer<I> for AdminGuardLayer {
    type Service = AdminGuard<I>;
    fn layer(&self, inner: I) -> Self::Service {
        AdminGuard {
            policy: self.0.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub(crate) struct AdminGuard<I> {
    policy: Arc<AdminPolicy>,
    inner: I,
}

impl<B, I> Service<Request<B>> for AdminGuard<I>
where
    B: Send + 'static,
    I: Service<Request<B>, Response = Resp, Error = Infallible> + Clone + Send + 'static,
    I::Future: Send + 'static,
{
    type Response = Resp;
    type Error = Infallible;
    type Future = BoxFuture<Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let is_admin = info(&req)
            .and_then(|i| i.route.ok())
            .is_some_and(|r| r.admin);
        if is_admin {
            let auth = req
                .headers()
                .get(hyper::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            if let Err(e) = self.policy.check(auth) {
                return Box::pin(std::future::ready(Ok(error_response(&e))));
            }
        }
        Box::pin(take(&mut self.inner).oneshot(req))
    }
}

/// Constant-time equality of two byte strings (the length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks `Authorization: Bearer TOKEN`.
pub fn authorize(header: Option<&str>, token: Option<&str>) -> Result<(), ApiError> {
    let Some(token) = token else {
        // No token configured: no bearer token is valid (401 `admin_disabled`).
        return Err(ApiError::new(
            401,
            "admin_disabled",
            "admin routes are disabled on this node (start it with --admin-token)",
        ));
    };
    let given = header
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(g) if constant_time_eq(g.as_bytes(), token.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::new(401, "unauthorized", "wrong admin token")),
        None => Err(ApiError::new(
            401,
            "unauthorized",
            "missing Authorization: Bearer token",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_only_on_loopback_unless_opted_in() {
        let lo: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 9080));
        let any: SocketAddr = SocketAddr::from(([0, 0, 0, 0], 9080));
        let public: SocketAddr = SocketAddr::from(([192, 0, 2, 7], 9080));
        assert!(admin_allowed(lo, false));
        assert!(!admin_allowed(any, false));
        assert!(!admin_allowed(public, false));
        assert!(admin_allowed(public, true));
        let config = RpcConfig {
            admin_token: Some("t".into()),
            ..RpcConfig::default()
        };
        let refused = AdminPolicy::new(&config, any).check(Some("Bearer t"));
        assert_eq!(
            refused.map_err(|e| (e.status, e.code)),
            Err((403, "admin_not_allowed".to_string()))
        );
        assert!(AdminPolicy::new(&config, lo)
            .check(Some("Bearer t"))
            .is_ok());
    }

    #[test]
    fn token_checks() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert_eq!(authorize(Some("Bearer t0k"), Some("t0k")), Ok(()));
        assert_eq!(
            authorize(Some("Bearer nope"), Some("t0k"))
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(authorize(None, Some("t0k")).unwrap_err().status, 401);
        assert_eq!(authorize(Some("Bearer x"), None).unwrap_err().status, 401);
    }
}
