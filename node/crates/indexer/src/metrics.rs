//! The indexer's Prometheus metrics, served at `GET /metrics` on `--metrics-addr`:
//! `aitbc_indexer_height` (last height written), `aitbc_indexer_target_height` (the node's
//! finalized height), `aitbc_indexer_blocks_total` and `aitbc_indexer_transactions_total`.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct IndexerMetrics {
    height: AtomicU64,
    target: AtomicU64,
    blocks: AtomicU64,
    txs: AtomicU64,
}

impl IndexerMetrics {
    pub fn set_target(&self, height: u64) {
        self.target.store(height, Relaxed);
    }

    pub fn written(&self, height: u64, blocks: usize, txs: usize) {
        self.height.store(height, Relaxed);
        self.blocks.fetch_add(blocks as u64, Relaxed);
        self.txs.fetch_add(txs as u64, Relaxed);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, kind, help, v) in [
            (
                "aitbc_indexer_height",
                "gauge",
                "Last block height written",
                &self.height,
            ),
            (
                "aitbc_indexer_target_height",
                "gauge",
                "The node's finalized height",
                &self.target,
            ),
            (
                "aitbc_indexer_blocks_total",
                "counter",
                "Blocks written",
                &self.blocks,
            ),
            (
                "aitbc_indexer_transactions_total",
                "counter",
                "Transactions written",
                &self.txs,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                v.load(Relaxed)
            );
        }
        out
    }
}

/// Serves `metrics` at `addr` until the process ends; returns the bound address.
pub async fn serve(addr: SocketAddr, metrics: Arc<IndexerMetrics>) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                // Out of descriptors, say: wait rather than spin.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            };
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<_>| {
                    let metrics = metrics.clone();
                    async move {
                        let (status, body) = match req.uri().path() {
                            "/metrics" => (200, metrics.render()),
                            _ => (404, "not found: the indexer serves /metrics\n".to_string()),
                        };
                        let mut resp = Response::new(Full::new(Bytes::from(body)));
                        *resp.status_mut() = hyper::StatusCode::from_u16(status)
                            .unwrap_or(hyper::StatusCode::NOT_FOUND);
                        resp.headers_mut().insert(
                            hyper::header::CONTENT_TYPE,
                            hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
                        );
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(bound)
}
