//! Prometheus metrics, rendered in the text exposition format at `/metrics`.
//!
//! Names follow Substrate where one exists, so Substrate's Grafana dashboards read them
//! (`substrate_block_height{status}`, `substrate_block_verification_and_import_time`,
//! `substrate_proposer_block_constructed`, `substrate_finality_grandpa_round`,
//! `substrate_sub_libp2p_peers_count`, `substrate_ready_transactions_number`,
//! `substrate_sync_*`, `substrate_build_info`); the rest are `aitbc_*`, with the chain's own
//! counters from [`aitbc_primitives::StateMachine::COUNTERS`] (receipts, minting, offences),
//! and the standard `process_*` metrics ([`crate::process`]). Durations are in seconds.
//! `scripts/check_metrics.sh` runs `promtool check metrics` on a live node's answer; the
//! Grafana dashboard on these names is `scripts/grafana/aitbc-node.json`.

use aitbc_txpool::PoolStatus;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
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
    authored: AtomicU64,
    validators: AtomicU64,
    grandpa_round: AtomicU64,
    major_syncing: AtomicU64,
    sync_imported: AtomicU64,
    block_import: Mutex<Histogram>,
    block_constructed: Mutex<Histogram>,
    /// `(chain, version)` of `substrate_build_info`.
    build_info: OnceLock<(String, String)>,
    /// The chain's counters: their `(name, help)` and their values.
    chain_counters: OnceLock<&'static [(&'static str, &'static str)]>,
    chain_counts: Mutex<Vec<u128>>,
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

    /// This node built and sealed a block in `took`.
    pub fn block_authored(&self, took: Duration) {
        self.authored.fetch_add(1, Relaxed);
        self.block_constructed.lock().observe(took);
    }

    /// The size of the finality voter set.
    pub fn set_validators(&self, n: usize) {
        self.validators.store(n as u64, Relaxed);
    }

    /// The GRANDPA-style round this node votes in.
    pub fn set_grandpa_round(&self, round: u64) {
        self.grandpa_round.store(round, Relaxed);
    }

    /// Whether sync is far behind its peers (catching up in batches).
    pub fn set_major_syncing(&self, syncing: bool) {
        self.major_syncing.store(u64::from(syncing), Relaxed);
    }

    /// Blocks sync downloaded and imported.
    pub fn sync_imported(&self, blocks: usize) {
        self.sync_imported.fetch_add(blocks as u64, Relaxed);
    }

    /// The chain and version `substrate_build_info` names (the first call wins).
    pub fn set_build_info(&self, chain: &str, version: &str) {
        let _ = self
            .build_info
            .set((chain.to_string(), version.to_string()));
    }

    /// The chain's counters, `(name, help)` (the first call wins).
    pub fn set_chain_counters(&self, counters: &'static [(&'static str, &'static str)]) {
        if self.chain_counters.set(counters).is_ok() {
            *self.chain_counts.lock() = vec![0; counters.len()];
        }
    }

    /// Adds one block's counts (indexed as the chain's counters).
    pub fn add_chain_counts(&self, counts: &[u128]) {
        for (total, n) in self.chain_counts.lock().iter_mut().zip(counts) {
            *total += n;
        }
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
        let mut out = String::with_capacity(8192);
        let (best, finalized) = (self.best.load(Relaxed), self.finalized.load(Relaxed));
        if let Some((chain, version)) = self.build_info.get() {
            gauge(
                &mut out,
                "substrate_build_info",
                "A metric with a constant '1' value labeled by name, version and chain",
                &[(
                    &format!("{{name=\"aitbc-node\",version=\"{version}\",chain=\"{chain}\"}}"),
                    1,
                )],
            );
        }
        gauge(
            &mut out,
            "substrate_block_height",
            "Block height info of the chain",
            &[
                ("{status=\"best\"}", best),
                ("{status=\"finalized\"}", finalized),
            ],
        );
        let single = |out: &mut String, name: &str, help: &str, v: &AtomicU64| {
            gauge(out, name, help, &[("", v.load(Relaxed))]);
        };
        gauge(
            &mut out,
            "aitbc_finality_lag_blocks",
            "Best height minus finalized height",
            &[("", best.saturating_sub(finalized))],
        );
        single(
            &mut out,
            "substrate_finality_grandpa_round",
            "Highest GRANDPA-style round this node voted in",
            &self.grandpa_round,
        );
        single(
            &mut out,
            "aitbc_validators",
            "Authorities in the finality voter set",
            &self.validators,
        );
        single(
            &mut out,
            "substrate_ready_transactions_number",
            "Number of transactions in the ready queue",
            &self.ready,
        );
        single(
            &mut out,
            "aitbc_future_transactions_number",
            "Number of transactions waiting for an earlier nonce",
            &self.future,
        );
        single(
            &mut out,
            "aitbc_txpool_bytes",
            "Encoded bytes held by the transaction pool",
            &self.pool_bytes,
        );
        single(
            &mut out,
            "substrate_sub_libp2p_peers_count",
            "Number of connected peers",
            &self.peers,
        );
        single(
            &mut out,
            "substrate_sync_is_major_syncing",
            "Whether the node is catching up with its peers in batches (1) or not (0)",
            &self.major_syncing,
        );
        single(
            &mut out,
            "aitbc_rpc_ws_connections",
            "Open websocket connections",
            &self.ws_connections,
        );
        let count = |out: &mut String, name: &str, help: &str, v: &AtomicU64| {
            counter(out, name, help, &[("", u128::from(v.load(Relaxed)))]);
        };
        count(
            &mut out,
            "substrate_sync_blocks_imported_total",
            "Blocks downloaded and imported by sync",
            &self.sync_imported,
        );
        count(
            &mut out,
            "aitbc_blocks_imported_total",
            "Blocks imported",
            &self.blocks_imported,
        );
        count(
            &mut out,
            "aitbc_blocks_authored_total",
            "Blocks this node built and sealed",
            &self.authored,
        );
        count(
            &mut out,
            "aitbc_transactions_included_total",
            "Transactions included in imported blocks",
            &self.txs_included,
        );
        count(
            &mut out,
            "aitbc_equivocations_total",
            "Blocks seen from an author that already sealed another block in the same slot",
            &self.equivocations,
        );
        count(
            &mut out,
            "aitbc_reorgs_total",
            "Reorganisations of the best chain",
            &self.reorgs,
        );
        if let Some(names) = self.chain_counters.get() {
            let counts = self.chain_counts.lock();
            for ((name, help), n) in names.iter().zip(counts.iter()) {
                counter(&mut out, name, help, &[("", *n)]);
            }
        }
        histogram(
            &mut out,
            "substrate_block_verification_and_import_time",
            "Time to verify, execute and commit a block (seconds)",
            [("", &*self.block_import.lock())],
        );
        histogram(
            &mut out,
            "substrate_proposer_block_constructed",
            "Time to build and seal a block (seconds)",
            [("", &*self.block_constructed.lock())],
        );
        let requests = self.rpc_requests.lock();
        let lines: Vec<(String, u128)> = requests
            .iter()
            .map(|((method, status), n)| {
                (
                    format!("{{method=\"{method}\",status=\"{status}\"}}"),
                    u128::from(*n),
                )
            })
            .collect();
        drop(requests);
        counter(
            &mut out,
            "substrate_rpc_requests_total",
            "RPC requests by method and HTTP status",
            &lines,
        );
        let calls = self.jsonrpc_calls.lock();
        let lines: Vec<(String, u128)> = calls
            .iter()
            .map(|((method, ok), n)| {
                let outcome = if *ok { "ok" } else { "error" };
                (
                    format!("{{method=\"{method}\",outcome=\"{outcome}\"}}"),
                    u128::from(*n),
                )
            })
            .collect();
        drop(calls);
        counter(
            &mut out,
            "aitbc_jsonrpc_calls_total",
            "JSON-RPC calls by method and outcome",
            &lines,
        );
        let latency = self.rpc_latency.lock();
        let labels: Vec<String> = latency
            .keys()
            .map(|method| format!("method=\"{method}\""))
            .collect();
        histogram(
            &mut out,
            "aitbc_rpc_request_duration_seconds",
            "RPC latency by method",
            labels.iter().map(String::as_str).zip(latency.values()),
        );
        drop(latency);
        crate::process::render(&mut out);
        out
    }
}

/// One gauge: its help and type, then a line per `(labels, value)`.
pub(crate) fn gauge(out: &mut String, name: &str, help: &str, lines: &[(&str, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    for (labels, v) in lines {
        let _ = writeln!(out, "{name}{labels} {v}");
    }
}

/// One counter: its help and type, then a line per `(labels, value)`.
fn counter(out: &mut String, name: &str, help: &str, lines: &[(impl AsRef<str>, u128)]) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    for (labels, v) in lines {
        let _ = writeln!(out, "{name}{} {v}", labels.as_ref());
    }
}

/// One histogram: its help and type, then the series of each `(labels, histogram)`.
fn histogram<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    series: impl IntoIterator<Item = (&'a str, &'a Histogram)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    for (labels, h) in series {
        h.render(out, name, labels);
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
        assert!(text.contains("aitbc_finality_lag_blocks 2"));
    }

    #[test]
    fn chain_counters_and_build_info_render_once_set() {
        static COUNTERS: &[(&str, &str)] = &[("aitbc_a_total", "A"), ("aitbc_b_total", "B")];
        let m = Metrics::default();
        assert!(!m.render().contains("aitbc_a_total"));
        assert!(!m.render().contains("substrate_build_info"));
        m.set_chain_counters(COUNTERS);
        m.add_chain_counts(&[1, u128::from(u64::MAX) + 1]);
        m.add_chain_counts(&[2, 0]);
        m.set_build_info("dev", "0.1.0");
        m.block_authored(Duration::from_millis(40));
        let text = m.render();
        assert!(text.contains("# TYPE aitbc_a_total counter\naitbc_a_total 3\n"));
        assert!(text.contains("aitbc_b_total 18446744073709551616\n"));
        assert!(text.contains(
            "substrate_build_info{name=\"aitbc-node\",version=\"0.1.0\",chain=\"dev\"} 1"
        ));
        assert!(text.contains("substrate_proposer_block_constructed_count 1"));
        assert!(text.contains("aitbc_blocks_authored_total 1"));
    }
}
