//! Prometheus metrics, rendered in the text exposition format at `/metrics`.
//!
//! Names follow Substrate where one exists (`substrate_block_height{status}`,
//! `substrate_ready_transactions_number`, `substrate_sub_libp2p_peers_count`); the rest are
//! `aitbc_*`. Durations are in seconds.

use aitbc_txpool::PoolStatus;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A cumulative histogram of durations.
#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, b) in LATENCY_BUCKETS.iter().enumerate() {
            if s <= *b {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += s;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in LATENCY_BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// The node's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    best: AtomicU64,
    finalized: AtomicU64,
    ready: AtomicU64,
    future: AtomicU64,
    pool_bytes: AtomicU64,
    blocks_imported: AtomicU64,
    txs_included: AtomicU64,
    ws_connections: AtomicU64,
    peers: AtomicU64,
    equivocations: AtomicU64,
    reorgs: AtomicU64,
    block_import: Mutex<Histogram>,
    rpc_requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    rpc_latency: Mutex<BTreeMap<&'static str, Histogram>>,
    jsonrpc_calls: Mutex<BTreeMap<(&'static str, bool), u64>>,
}

impl Metrics {
    pub fn set_heights(&self, best: u64, finalized: u64) {
        self.best.store(best, Relaxed);
        self.finalized.store(finalized, Relaxed);
    }

    pub fn block_imported(&self, took: Duration, best: u64, finalized: u64, txs: usize) {
        self.set_heights(best, finalized);
        self.blocks_imported.fetch_add(1, Relaxed);
        self.txs_included.fetch_add(txs as u64, Relaxed);
        self.block_import.lock().observe(took);
    }

    pub fn set_peers(&self, n: usize) {
        self.peers.store(n as u64, Relaxed);
    }

    pub fn peers(&self) -> u64 {
        self.peers.load(Relaxed)
    }

    pub fn equivocation(&self) {
        self.equivocations.fetch_add(1, Relaxed);
    }

    pub fn reorg(&self) {
        self.reorgs.fetch_add(1, Relaxed);
    }

    pub fn set_pool(&self, s: PoolStatus) {
        self.ready.store(s.ready as u64, Relaxed);
        self.future.store(s.future as u64, Relaxed);
        self.pool_bytes.store(s.bytes as u64, Relaxed);
    }

    pub fn ws_connected(&self, delta: i64) {
        if delta >= 0 {
            self.ws_connections.fetch_add(delta as u64, Relaxed);
        } else {
            self.ws_connections.fetch_sub(delta.unsigned_abs(), Relaxed);
        }
    }

    /// Records one RPC request by method (route name) and HTTP status.
    pub fn rpc_request(&self, method: &'static str, status: u16, took: Duration) {
        *self
            .rpc_requests
            .lock()
            .entry((method, status))
            .or_default() += 1;
        self.rpc_latency
            .lock()
            .entry(method)
            .or_default()
            .observe(took);
    }

    /// Records one JSON-RPC call by method and outcome.
    pub fn jsonrpc_call(&self, method: &'static str, ok: bool) {
        *self.jsonrpc_calls.lock().entry((method, ok)).or_default() += 1;
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let gauge = |out: &mut String, name: &str, help: &str, lines: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for (labels, v) in lines {
                let _ = writeln!(out, "{name}{labels} {v}");
            }
        };
        gauge(
            &mut out,
            "substrate_block_height",
            "Block height info of the chain",
            &[
                ("{status=\"best\"}", self.best.load(Relaxed)),
                ("{status=\"finalized\"}", self.finalized.load(Relaxed)),
            ],
        );
        gauge(
            &mut out,
            "substrate_ready_transactions_number",
            "Number of transactions in the ready queue",
            &[("", self.ready.load(Relaxed))],
        );
        gauge(
            &mut out,
            "aitbc_future_transactions_number",
            "Number of transactions waiting for an earlier nonce",
            &[("", self.future.load(Relaxed))],
        );
        gauge(
            &mut out,
            "aitbc_txpool_bytes",
            "Encoded bytes held by the transaction pool",
            &[("", self.pool_bytes.load(Relaxed))],
        );
        gauge(
            &mut out,
            "substrate_sub_libp2p_peers_count",
            "Number of connected peers",
            &[("", self.peers.load(Relaxed))],
        );
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        counter(
            &mut out,
            "aitbc_equivocations_total",
            "Blocks seen from an author that already sealed another block in the same slot",
            self.equivocations.load(Relaxed),
        );
        counter(
            &mut out,
            "aitbc_reorgs_total",
            "Reorganisations of the best chain",
            self.reorgs.load(Relaxed),
        );
        gauge(
            &mut out,
            "aitbc_rpc_ws_connections",
            "Open websocket connections",
            &[("", self.ws_connections.load(Relaxed))],
        );
        let _ = writeln!(out, "# HELP aitbc_blocks_imported_total Blocks imported\n# TYPE aitbc_blocks_imported_total counter");
        let _ = writeln!(
            out,
            "aitbc_blocks_imported_total {}",
            self.blocks_imported.load(Relaxed)
        );
        let _ = writeln!(out, "# HELP aitbc_transactions_included_total Transactions included in imported blocks\n# TYPE aitbc_transactions_included_total counter");
        let _ = writeln!(
            out,
            "aitbc_transactions_included_total {}",
            self.txs_included.load(Relaxed)
        );
        let _ = writeln!(out, "# HELP substrate_block_import_time_seconds Time to verify, execute and commit a block\n# TYPE substrate_block_import_time_seconds histogram");
        self.block_import
            .lock()
            .render(&mut out, "substrate_block_import_time_seconds", "");
        let _ = writeln!(out, "# HELP substrate_rpc_requests_total RPC requests by method and HTTP status\n# TYPE substrate_rpc_requests_total counter");
        for ((method, status), n) in self.rpc_requests.lock().iter() {
            let _ = writeln!(
                out,
                "substrate_rpc_requests_total{{method=\"{method}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(out, "# HELP aitbc_jsonrpc_calls_total JSON-RPC calls by method and outcome\n# TYPE aitbc_jsonrpc_calls_total counter");
        for ((method, ok), n) in self.jsonrpc_calls.lock().iter() {
            let outcome = if *ok { "ok" } else { "error" };
            let _ = writeln!(
                out,
                "aitbc_jsonrpc_calls_total{{method=\"{method}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        let _ = writeln!(out, "# HELP aitbc_rpc_request_duration_seconds RPC latency by method\n# TYPE aitbc_rpc_request_duration_seconds histogram");
        for (method, h) in self.rpc_latency.lock().iter() {
            h.render(
                &mut out,
                "aitbc_rpc_request_duration_seconds",
                &format!("method=\"{method}\""),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_substrate_names_and_counts() {
        let m = Metrics::default();
        m.set_heights(7, 5);
        m.rpc_request("getHead", 200, Duration::from_millis(2));
        m.rpc_request("getHead", 200, Duration::from_millis(3));
        m.jsonrpc_call("getTx", false);
        m.ws_connected(1);
        let text = m.render();
        assert!(text.contains("aitbc_jsonrpc_calls_total{method=\"getTx\",outcome=\"error\"} 1"));
        assert!(text.contains("aitbc_rpc_ws_connections 1"));
        assert!(text.contains("substrate_block_height{status=\"best\"} 7"));
        assert!(text.contains("substrate_block_height{status=\"finalized\"} 5"));
        assert!(text.contains("substrate_rpc_requests_total{method=\"getHead\",status=\"200\"} 2"));
        assert!(text.contains("aitbc_rpc_request_duration_seconds_count{method=\"getHead\"} 2"));
    }
}
