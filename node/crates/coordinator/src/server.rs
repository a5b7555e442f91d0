//! The mock coordinator's HTTP server.

use super::{AttestError, Coordinator, Escrow};
use aitbc_primitives::{ComputeReceipt, JobInfo};
use aitbc_rpc::error::ApiError;
use aitbc_rpc::http_client::{HttpClient, HttpError};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

const MAX_BODY: usize = 16 * 1024;

/// A running mock coordinator.
#[derive(Debug)]
pub struct CoordinatorHandle {
    pub local_addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

/// Binds `addr` and serves until `shutdown` turns true.
pub async fn serve(
    coordinator: Coordinator,
    addr: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<CoordinatorHandle> {
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    let state = Arc::new(Mutex::new(coordinator));
    let task = tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                r = listener.accept() => match r {
                    Ok((s, _)) => s,
                    Err(_) => {
                        // E.g. out of file descriptors: back off instead of spinning.
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = shutdown.changed() => return,
            };
            let state = state.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, std::convert::Infallible>(handle(&state, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(CoordinatorHandle { local_addr, task })
}

fn respond(status: u16, body: &Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

fn error(e: ApiError) -> Response<Full<Bytes>> {
    respond(e.status, &e.body())
}

async fn handle(state: &Arc<Mutex<Coordinator>>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/health") => {
            let c = state.lock();
            respond(
                200,
                &json!({ "status": "ok", "coordinator": c.account(), "genesis_hash": c.genesis_hash(),
                         "attested": c.attested(), "persistent": c.db_path().is_some() }),
            )
        }
        (&Method::POST, "/attest/receipt") => {
            let bytes = match Limited::new(req.into_body(), MAX_BODY).collect().await {
                Ok(b) => b.to_bytes(),
                Err(_) => {
                    return error(ApiError::new(
                        413,
                        "body_too_large",
                        format!("body exceeds {MAX_BODY} bytes"),
                    ))
                }
            };
            let receipt: ComputeReceipt = match serde_json::from_slice(&bytes) {
                Ok(r) => r,
                Err(e) => return error(ApiError::bad_request("invalid_receipt", e.to_string())),
            };
            let chain = state.lock().chain_rpc().map(str::to_string);
            let escrow = match chain {
                None => None,
                Some(url) => match read_escrow(&url, &receipt).await {
                    Ok(e) => Some(e),
                    Err(e) => {
                        return error(ApiError::new(
                            503,
                            "chain_unavailable",
                            format!("cannot read the escrow from the node at {url}: {e}"),
                        ))
                    }
                },
            };
            // A new attestation is committed durably (an fsync) before it is answered: off the
            // async workers.
            let state = state.clone();
            let attested =
                tokio::task::spawn_blocking(move || state.lock().attest(receipt, escrow.as_ref()))
                    .await
                    .unwrap_or_else(|e| {
                        Err(AttestError::Storage(format!("attest task failed: {e}")))
                    });
            match attested {
                Ok(v) => respond(200, &v),
                Err(e @ AttestError::WrongCoordinator { .. }) => {
                    error(ApiError::bad_request("wrong_coordinator", e.to_string()))
                }
                Err(e @ AttestError::NotEscrowCoordinator { .. }) => {
                    error(ApiError::new(409, "not_escrow_coordinator", e.to_string()))
                }
                Err(e @ AttestError::PriceExceedsEscrow { .. }) => {
                    error(ApiError::new(409, "price_exceeds_escrow", e.to_string()))
                }
                Err(e @ AttestError::TooManyUnits { .. }) => {
                    error(ApiError::bad_request("too_many_units", e.to_string()))
                }
                Err(e @ AttestError::Full) => {
                    error(ApiError::new(503, "coordinator_full", e.to_string()))
                }
                Err(e @ AttestError::Storage(_)) => {
                    tracing::error!(target: "coordinator", error = %e, "attestation not stored");
                    error(ApiError::internal(e))
                }
            }
        }
        (_, path) => error(ApiError::new(
            404,
            "unknown_route",
            format!("no route {path}"),
        )),
    }
}

/// Why the escrow could not be read from the node (answered 503 `chain_unavailable`).
#[derive(Debug, thiserror::Error)]
enum ChainReadError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("getJob answered {status}: {body}")]
    Job {
        status: u16,
        body: serde_json::Value,
    },
    #[error("the job does not decode: {0}")]
    BadJob(#[from] serde_json::Error),
    #[error("getParams has no max_units_per_receipt")]
    NoUnitCap,
}

/// Reads the receipt's escrow and the chain's unit cap from the node at `url`, at its best
/// block (`GET /rpc/getJob/{client}/{job}`: 404 means no escrow; `GET /rpc/getParams`).
async fn read_escrow(url: &str, receipt: &ComputeReceipt) -> Result<Escrow, ChainReadError> {
    let mut rpc = HttpClient::new(url)?;
    let (status, job) = rpc
        .get(&format!(
            "/rpc/getJob/{}/{}",
            receipt.client, receipt.job_id
        ))
        .await?;
    let job = match status {
        200 => Some(serde_json::from_value::<JobInfo>(job)?),
        404 => None,
        _ => return Err(ChainReadError::Job { status, body: job }),
    };
    let params = rpc.get_ok("/rpc/getParams").await?;
    let max_units_per_receipt = params["params"]["max_units_per_receipt"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .ok_or(ChainReadError::NoUnitCap)?;
    Ok(Escrow {
        job,
        max_units_per_receipt,
    })
}
