//! Connections per IP: at most N open TCP connections from one client IP (IPv6 per /64);
//! one more is closed at accept, unread.

use super::rate_limit::RateLimiter;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// Open TCP connections per client IP (IPv6 per /64, as the rate limiter), checked at accept:
/// a connection beyond `max` is closed before anything is read from it, so one host cannot
/// hold all of the server's sockets and file descriptors. Loopback clients count too (local
/// tools keep far fewer connections open). `max == 0` turns it off.
#[derive(Debug)]
pub(crate) struct ConnectionLimiter {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One accepted connection's place; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct ConnectionGuard {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

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
}
