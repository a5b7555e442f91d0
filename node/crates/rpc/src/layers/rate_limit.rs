//! Rate limit: a token bucket per client IP (IPv6 per /64); 429 `rate_limited` with
//! `Retry-After`. Loopback clients are exempt unless configured otherwise.

use super::{info, take, BoxFuture};
use crate::error::ApiError;
use crate::response::{error_response, Resp};
use hyper::header::{HeaderValue, RETRY_AFTER};
use hyper::Request;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tower::{Layer, Service, ServiceExt};

/// Client addresses tracked at most; beyond, idle (full) buckets are forgotten first.
const MAX_TRACKED: usize = 65_536;

/// Token buckets per client IP: `rate` tokens a second, at most `rate` stored (a one-second
/// burst). IPv6 clients are keyed by their /64, so one host cannot rotate past the limit.
#[derive(Debug)]
pub(crate) struct RateLimiter {
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

    pub(crate) fn key(ip: IpAddr) -> IpAddr {
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
pub(crate) struct RateLimitLayer(Option<Arc<RateLimiter>>);

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
pub(crate) struct RateLimit<I> {
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
}
