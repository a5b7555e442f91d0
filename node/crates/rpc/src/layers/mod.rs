//! The RPC's own `tower` layers, where tower has none, one per file: [`observe`] (route
//! matching, metrics, logs), [`rate_limit`] (per-IP token buckets), [`connection_limit`] (open
//! connections per IP, at accept), [`body_limit`], [`admin_guard`], and [`json_error`] (the
//! errors of tower's own layers as JSON). Order and limits: see the crate docs.
//!
//! Layers that refuse a request answer without touching the inner service (they are always ready
//! and take the inner service only for requests they let through), so refused requests never
//! hold a concurrency permit.

pub(crate) mod admin_guard;
pub(crate) mod body_limit;
pub(crate) mod connection_limit;
pub(crate) mod json_error;
pub(crate) mod observe;
pub(crate) mod rate_limit;

pub(crate) use admin_guard::{AdminGuardLayer, AdminPolicy};
pub(crate) use body_limit::BodyLimitLayer;
pub(crate) use connection_limit::ConnectionLimiter;
pub(crate) use json_error::JsonErrorLayer;
pub(crate) use observe::ObserveLayer;
pub(crate) use rate_limit::{RateLimitLayer, RateLimiter};

use crate::error::ApiError;
use crate::response::Resp;
use crate::routes::RouteSpec;
use hyper::Request;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

type BoxFuture<E> = Pin<Box<dyn Future<Output = Result<Resp, E>> + Send>>;

/// What the outermost layer learnt about a request, for the layers and handler inside.
#[derive(Debug, Clone)]
pub(crate) struct RequestInfo {
    pub peer: SocketAddr,
    /// The route, matched once here; `Err`: 404 or 405, which the handler answers (after the
    /// layers between had their say, e.g. a rate-limited client gets 429 either way).
    pub route: Result<&'static RouteSpec, ApiError>,
}

fn info<B>(req: &Request<B>) -> Option<RequestInfo> {
    req.extensions().get::<RequestInfo>().cloned()
}

/// Takes the inner service for one call, leaving a clone behind (the tower idiom for services
/// whose readiness is checked inside the call).
fn take<T: Clone>(inner: &mut T) -> T {
    let clone = inner.clone();
    std::mem::replace(inner, clone)
}
