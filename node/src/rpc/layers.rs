//! The RPC's own `tower` layers, where tower has none: observation (metrics, logs, route tagging),
//! a per-IP rate limit, the body-size limit, the admin guard, and the mapping of layer errors
//! (timeout, load shedding) to JSON error responses. Order and limits: see [`super`].
//!
//! Layers that refuse a request answer without touching the inner service (they are always ready
//! and take the inner service only for requests they let through), so refused requests never
//! hold a concurrency permit.

use super::admin;
use super::error::ApiError;
use super::routes::{self, RouteSpec};
use super::server::RpcConfig;
use crate::client::Client;
use crate::util::Mutex;
use aitbc_primitives::StateMachine;
use http_body_util::{Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Request, Response};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tower::{BoxError, Layer, Service, ServiceExt};

/// Every response of the server.
pub(super) type Resp = Response<Full<Bytes>>;
/// A request after the body limit.
pub(super) type LimitedRequest = Request<Limited<Incoming>>;
type BoxFuture<E> = Pin<Box<dyn Future<Output = Result<Resp, E>> + Send>>;

/// A JSON response.
pub(super) fn json_response(status: u16, body: &serde_json::Value) -> Resp {
    bytes_response(status, "application/json", Bytes::from(body.to_string()))
}

/// A response with a body of some content type.
pub(super) fn bytes_response(status: u16, content_type: &'static str, body: Bytes) -> Resp {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// The JSON error response of an [`ApiError`].
pub(super) fn error_response(e: &ApiError) -> Resp {
    json_response(e.status, &e.body())
}

/// An error response after which the connection is closed (its request body was not read).
fn closing_error_response(e: &ApiError) -> Resp {
    let mut resp = error_response(e);
    resp.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// What the outermost layer learnt about a request, for the layers and handler inside.
#[derive(Debug, Clone, Copy)]
pub(super) struct RequestInfo {
    pub peer: SocketAddr,
    /// `None`: no route (the handler answers 404 or 405).
    pub route: Option<&'static RouteSpec>,
}

fn info<B>(req: &Request<B>) -> Option<RequestInfo> {
    req.extensions().get::<RequestInfo>().copied()
}

/// Takes the inner service for one call, leaving a clone behind (the tower idiom for services
/// whose readiness is checked inside the call).
fn take<T: Clone>(inner: &mut T) -> T {
    let clone = inner.clone();
    std::mem::replace(inner, clone)
}

// ---------------------------------------------------------------------------------------------
// Observe: route tagging, metrics, logs.

/// Resolves the route, tags the request with [`RequestInfo`], and records metrics and a log line
/// for the response (whichever layer produced it).
pub(super) struct ObserveLayer<S: StateMachine> {
    client: Arc<Client<S>>,
    peer: SocketAddr,
    access_log: bool,
}

impl<S: StateMachine> Clone for ObserveLayer<S> {
    fn clone(&self) -> Self {
        ObserveLayer {
            client: self.client.clone(),
            peer: self.peer,
            access_log: self.access_log,
        }
    }
}

impl<S: StateMachine> ObserveLayer<S> {
    pub fn new(client: Arc<Client<S>>, peer: SocketAddr, access_log: bool) -> Self {
        ObserveLayer {
            client,
            peer,
            access_log,
        }
    }
}

impl<S: StateMachine, I> Layer<I> for ObserveLayer<S> {
    type Service = Observe<S, I>;
    fn layer(&self, inner: I) -> Self::Service {
        Observe {
            layer: self.clone(),
            inner,
        }
    }
}

pub(super) struct Observe<S: StateMachine, I> {
    layer: ObserveLayer<S>,
    inner: I,
}

impl<S: StateMachine, I: Clone> Clone for Observe<S, I> {
    fn clone(&self) -> Self {
        Observe {
            layer: self.layer.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<S, I> Service<Request<Incoming>> for Observe<S, I>
where
    S: StateMachine,
    I: Service<Request<Incoming>, Response = Resp, Error = Infallible>,
    I::Future: Send + 'static,
{
    type Response = Resp;
    type Error = Infallible;
    type Future = BoxFuture<Infallible>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Incoming>) -> Self::Future {
        let started = Instant::now();
        let route = routes::resolve(req.method(), req.uri().path()).ok();
        let peer = self.layer.peer;
        req.extensions_mut().insert(RequestInfo { peer, route });
        let name = route.map_or("unknown", |r| r.name);
        let access = self
            .layer
            .access_log
            .then(|| (req.method().clone(), req.uri().path().to_string()));
        let client = self.layer.client.clone();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let resp = fut.await?;
            let status = resp.status().as_u16();
            let took = started.elapsed();
            client.metrics().rpc_request(name, status, took);
            match access {
                Some((method, path)) => tracing::info!(
                    target: "rpc::access",
                    %peer, %method, path, status, micros = took.as_micros() as u64, "request"
                ),
                None => tracing::trace!(target: "rpc", %peer, route = name, status, "request"),
            }
            Ok(resp)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Rate limit.

/// Client addresses tracked at most; beyond, idle (full) buckets are forgotten first.
const MAX_TRACKED: usize = 65_536;

/// Token buckets per client IP: `rate` tokens a second, at most `rate` stored (a one-second
/// burst). IPv6 clients are keyed by their /64, so one host cannot rotate past the limit.
#[derive(Debug)]
pub(super) struct RateLimiter {
    rate: f64,
    loopback: bool,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// `rate` requests per second; `loopback`: limit loopback clients too.
    pub fn new(rate: u32, loopback: bool) -> Self {
        RateLimiter {
            rate: f64::from(rate.max(1)),
            loopback,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn key(ip: IpAddr) -> IpAddr {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
            v4 => v4,
        }
    }

    /// Takes a token for `ip` at `now`; `Err` is how long until the next one.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        if !self.loopback && ip.to_canonical().is_loopback() {
            return Ok(());
        }
        let key = Self::key(ip);
        let mut buckets = self.buckets.lock();
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&key) {
            let rate = self.rate;
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < rate);
            if buckets.len() >= MAX_TRACKED {
                // Every tracked client is busy: start over rather than grow without bound.
                buckets.clear();
            }
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.rate,
            at: now,
        });
        let refill = now.saturating_duration_since(bucket.at).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refill).min(self.rate);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }

    fn limit(&self) -> u32 {
        self.rate as u32
    }
}

/// 429 for clients over their rate; a pass-through when the limiter is off.
#[derive(Clone)]
pub(super) struct RateLimitLayer(Option<Arc<RateLimiter>>);

impl RateLimitLayer {
    pub fn new(limiter: Option<Arc<RateLimiter>>) -> Self {
        RateLimitLayer(limiter)
    }
}

impl<I> Layer<I> for RateLimitLayer {
    type Service = RateLimit<I>;
    fn layer(&self, inner: I) -> Self::Service {
        RateLimit {
            limiter: self.0.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub(super) struct RateLimit<I> {
    limiter: Option<Arc<RateLimiter>>,
    inner: I,
}

impl<B, I> Service<Request<B>> for RateLimit<I>
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
        if let (Some(limiter), Some(info)) = (&self.limiter, info(&req)) {
            if let Err(wait) = limiter.check(info.peer.ip(), Instant::now()) {
                let mut resp = error_response(&ApiError::new(
                    429,
                    "rate_limited",
                    format!(
                        "more than {} requests per second from {}",
                        limiter.limit(),
                        info.peer.ip()
                    ),
                ));
                let secs = wait.as_secs().max(1);
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    resp.headers_mut().insert(RETRY_AFTER, v);
                }
                return Box::pin(std::future::ready(Ok(resp)));
            }
        }
        Box::pin(take(&mut self.inner).oneshot(req))
    }
}

// ---------------------------------------------------------------------------------------------
// Connections per IP.

/// Open TCP connections per client IP (IPv6 per /64, as the rate limiter), checked at accept:
/// a connection beyond `max` is closed before anything is read from it, so one host cannot
/// hold all of the server's sockets and file descriptors. Loopback clients count too (local
/// tools keep far fewer connections open). `max == 0` turns it off.
#[derive(Debug)]
pub(super) struct ConnectionLimiter {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One accepted connection's place; dropping it frees the place.
#[derive(Debug)]
pub(super) struct ConnectionGuard {
    limiter: Arc<ConnectionLimiter>,
    key: IpAddr,
}

impl ConnectionLimiter {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(ConnectionLimiter {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A place for a new connection from `ip`, or `None` when `ip` holds `max` already.
    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Option<Option<ConnectionGuard>> {
        if self.max == 0 {
            return Some(None);
        }
        let key = RateLimiter::key(ip);
        let mut open = self.open.lock();
        let n = open.entry(key).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Some(ConnectionGuard {
            limiter: self.clone(),
            key,
        }))
    }

    /// Open connections from `ip` (tests).
    #[cfg(test)]
    fn open(&self, ip: IpAddr) -> usize {
        self.open
            .lock()
            .get(&RateLimiter::key(ip))
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let mut open = self.limiter.open.lock();
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                // Only IPs with open connections are tracked: the map is bounded by the sockets.
                open.remove(&self.key);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Body limit.

/// 413 at once for a declared `Content-Length` above the cap; otherwise the body is wrapped in
/// [`Limited`], which fails once more than the cap arrives (the handler answers 413).
#[derive(Clone, Copy)]
pub(super) struct BodyLimitLayer(usize);

impl BodyLimitLayer {
    pub fn new(max: usize) -> Self {
        BodyLimitLayer(max)
    }
}

impl<I> Layer<I> for BodyLimitLayer {
    type Service = BodyLimit<I>;
    fn layer(&self, inner: I) -> Self::Service {
        BodyLimit { max: self.0, inner }
    }
}

#[derive(Clone)]
pub(super) struct BodyLimit<I> {
    max: usize,
    inner: I,
}

/// The 413 error for a cap of `max` bytes.
pub(super) fn too_large(max: usize) -> ApiError {
    ApiError::new(
        413,
        "body_too_large",
        format!("request body exceeds {max} bytes"),
    )
}

impl<I> Service<Request<Incoming>> for BodyLimit<I>
where
    I: Service<LimitedRequest, Response = Resp, Error = Infallible> + Clone + Send + 'static,
    I::Future: Send + 'static,
{
    type Response = Resp;
    type Error = Infallible;
    type Future = BoxFuture<Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Incoming>) -> Self::Future {
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max as u64) {
            let resp = closing_error_response(&too_large(self.max));
            return Box::pin(std::future::ready(Ok(resp)));
        }
        let max = self.max;
        Box::pin(take(&mut self.inner).oneshot(req.map(|b| Limited::new(b, max))))
    }
}

// ---------------------------------------------------------------------------------------------
// Admin guard.

/// Who may use the admin routes.
#[derive(Debug)]
pub(super) struct AdminPolicy {
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
        admin::authorize(authorization, self.token.as_deref())
    }
}

/// Admin routes are served on a loopback bind, elsewhere only with the explicit opt-in.
pub(super) fn admin_allowed(bound: SocketAddr, external: bool) -> bool {
    external || bound.ip().to_canonical().is_loopback()
}

#[derive(Clone)]
pub(super) struct AdminGuardLayer(Arc<AdminPolicy>);

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
pub(super) struct AdminGuard<I> {
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
        let is_admin = info(&req).and_then(|i| i.route).is_some_and(|r| r.admin);
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

// ---------------------------------------------------------------------------------------------
// Layer errors to JSON.

/// Turns the errors of tower's layers into JSON answers: a timeout is 408 `timeout` (and the
/// connection is closed), load shedding 503 `overloaded`, anything else 500.
#[derive(Clone, Copy)]
pub(super) struct JsonErrorLayer;

impl<I> Layer<I> for JsonErrorLayer {
    type Service = JsonError<I>;
    fn layer(&self, inner: I) -> Self::Service {
        JsonError(inner)
    }
}

#[derive(Clone)]
pub(super) struct JsonError<I>(I);

/// The JSON answer for a layer error.
pub(super) fn layer_error_response(e: &BoxError) -> Resp {
    if e.is::<tower::timeout::error::Elapsed>() {
        closing_error_response(&ApiError::new(408, "timeout", "request timed out"))
    } else if e.is::<tower::load_shed::error::Overloaded>() {
        error_response(&ApiError::new(
            503,
            "overloaded",
            "too many concurrent requests",
        ))
    } else {
        tracing::error!(target: "rpc", error = %e, "request failed");
        error_response(&ApiError::internal(e))
    }
}

impl<B, I> Service<Request<B>> for JsonError<I>
where
    I: Service<Request<B>, Response = Resp, Error = BoxError>,
    I::Future: Send + 'static,
{
    type Response = Resp;
    type Error = Infallible;
    type Future = BoxFuture<Infallible>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Timeout and load shedding are always ready; an error here would be a bug, answered
        // per request below.
        match self.0.poll_ready(cx) {
            Poll::Ready(_) => Poll::Ready(Ok(())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let fut = self.0.call(req);
        Box::pin(async move { Ok(fut.await.unwrap_or_else(|e| layer_error_response(&e))) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_refills_and_exempts_loopback() {
        let limiter = RateLimiter::new(2, false);
        let t0 = Instant::now();
        let far = IpAddr::from([10, 1, 2, 3]);
        assert!(limiter.check(far, t0).is_ok());
        assert!(limiter.check(far, t0).is_ok());
        let wait = limiter.check(far, t0).unwrap_err();
        assert!(wait <= Duration::from_millis(500), "{wait:?}");
        // Half a second later one token is back.
        assert!(limiter.check(far, t0 + Duration::from_millis(500)).is_ok());
        assert!(limiter.check(far, t0 + Duration::from_millis(500)).is_err());
        // Another client has its own bucket; loopback is exempt.
        assert!(limiter.check(IpAddr::from([10, 9, 9, 9]), t0).is_ok());
        for _ in 0..10 {
            assert!(limiter.check(IpAddr::from([127, 0, 0, 2]), t0).is_ok());
        }
        let strict = RateLimiter::new(1, true);
        assert!(strict.check(IpAddr::from([127, 0, 0, 1]), t0).is_ok());
        assert!(strict.check(IpAddr::from([127, 0, 0, 1]), t0).is_err());
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let limiter = RateLimiter::new(1, false);
        let t0 = Instant::now();
        let a = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, 1));
        let b = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 9, 9, 9, 9));
        assert!(limiter.check(a, t0).is_ok());
        assert!(limiter.check(b, t0).is_err());
    }

    #[test]
    fn connections_are_capped_per_ip_and_freed_on_close() {
        let limiter = ConnectionLimiter::new(2);
        let a = IpAddr::from([192, 0, 2, 1]);
        let b = IpAddr::from([192, 0, 2, 2]);
        let first = limiter.try_acquire(a).expect("a place");
        let second = limiter.try_acquire(a).expect("a place");
        assert!(limiter.try_acquire(a).is_none(), "a third from one IP");
        assert!(
            limiter.try_acquire(b).is_some(),
            "another IP is not affected"
        );
        drop(first);
        assert_eq!(limiter.open(a), 1);
        let third = limiter.try_acquire(a).expect("freed by the close");
        drop((second, third));
        assert_eq!(limiter.open(a), 0);
        assert!(limiter.open.lock().is_empty(), "closed IPs are forgotten");
        // One IPv6 host rotating through its /64 shares one count.
        let v6 = |last| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, last));
        let _g = (limiter.try_acquire(v6(1)), limiter.try_acquire(v6(2)));
        assert!(limiter.try_acquire(v6(3)).is_none());
        // 0 = off.
        let off = ConnectionLimiter::new(0);
        assert!((0..1000).all(|_| matches!(off.try_acquire(a), Some(None))));
    }

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
}
