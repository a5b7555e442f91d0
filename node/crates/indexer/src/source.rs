//! The node, read over its RPC: the chain it serves, its finalized head, and blocks with the
//! balances of the accounts they touched, fetched on several connections and delivered in
//! height order.

use crate::model::BlockRows;
use crate::pg_types::{parse_amount, Numeric};
use crate::IndexError;
use aitbc_http_client::{HttpClient, HttpError};
use serde_json::{json, Value};
use std::future::Future;
use std::time::Duration;
use tokio::sync::mpsc;

/// The longest wait for one answer of the node (a block of 10,000 transactions takes well
/// under a second); a node that hangs is then retried like one that is down.
const RPC_TIMEOUT: Duration = Duration::from_secs(60);

/// `request`'s answer, or a transient error when the node does not answer within
/// [`RPC_TIMEOUT`].
async fn within<T>(
    what: &str,
    request: impl Future<Output = Result<T, HttpError>>,
) -> Result<T, IndexError> {
    match tokio::time::timeout(RPC_TIMEOUT, request).await {
        Ok(answer) => Ok(answer?),
        Err(_) => Err(IndexError::Rpc(format!(
            "{what}: no answer within {} s",
            RPC_TIMEOUT.as_secs()
        ))),
    }
}

/// The node's JSON-RPC batch limit (`aitbc_rpc::jsonrpc::MAX_BATCH`).
const BALANCES_PER_REQUEST: usize = 1000;

impl From<HttpError> for IndexError {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::NotHttp(_) | HttpError::BadUrl(_) => IndexError::Refused(e.to_string()),
            e => IndexError::Rpc(e.to_string()),
        }
    }
}

/// The chain a node serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub name: String,
    pub genesis_hash: String,
}

/// An account's balance and nonce as the node answered.
pub type AccountRow = (String, Numeric, i64);

/// The node at `http://host:port`.
#[derive(Debug, Clone)]
pub struct Source {
    base: String,
}

impl Source {
    pub fn new(base: &str) -> Result<Source, IndexError> {
        HttpClient::new(base)?;
        Ok(Source {
            base: base.to_string(),
        })
    }

    fn client(&self) -> Result<HttpClient, IndexError> {
        Ok(HttpClient::new(&self.base)?)
    }

    pub async fn chain(&self) -> Result<Chain, IndexError> {
        let health = within("/health", self.client()?.get_ok("/health")).await?;
        let field = |k: &str| {
            health[k]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| IndexError::Malformed(format!("/health has no {k}")))
        };
        Ok(Chain {
            name: field("chain")?,
            genesis_hash: field("genesis_hash")?,
        })
    }

    /// The node's finalized height.
    pub async fn finalized(&self) -> Result<u64, IndexError> {
        let head = within("getHead", self.client()?.get_ok("/rpc/getHead")).await?;
        head["finalized_height"]
            .as_u64()
            .ok_or_else(|| IndexError::Malformed("getHead has no finalized_height".to_string()))
    }

    /// `getValidators`: the current set (active) and the candidates.
    pub async fn validators(&self) -> Result<Value, IndexError> {
        within("getValidators", self.client()?.get_ok("/rpc/getValidators")).await
    }

    /// Fetches blocks `from..=to` on `connections` connections; the receiver yields them in
    /// height order, and an error ends the stream. Fetching stops when the receiver is dropped.
    pub fn fetch_range(
        &self,
        from: u64,
        to: u64,
        connections: usize,
    ) -> Result<mpsc::Receiver<Result<BlockRows, IndexError>>, IndexError> {
        let k = connections.max(1) as u64;
        let (out_tx, out_rx) = mpsc::channel(k as usize);
        let mut lanes = Vec::new();
        for lane in 0..k {
            let (tx, rx) = mpsc::channel(1);
            lanes.push(rx);
            let mut client = self.client()?;
            tokio::spawn(async move {
                let mut height = from + lane;
                while height <= to {
                    let fetched = fetch_block(&mut client, height).await;
                    let failed = fetched.is_err();
                    if tx.send(fetched).await.is_err() || failed {
                        return;
                    }
                    height += k;
                }
            });
        }
        // Lane `(h - from) % k` holds height `h`: take from the lanes in turn.
        tokio::spawn(async move {
            for i in 0..=(to - from) {
                let Some(next) = lanes[(i % k) as usize].recv().await else {
                    return;
                };
                let failed = next.is_err();
                if out_tx.send(next).await.is_err() || failed {
                    return;
                }
            }
        });
        Ok(out_rx)
    }

    /// The balance and nonce of each of `addresses`, in JSON-RPC batches of `getBalance`.
    pub async fn balances(&self, addresses: &[&String]) -> Result<Vec<AccountRow>, IndexError> {
        let mut client = self.client()?;
        let mut accounts = Vec::with_capacity(addresses.len());
        for chunk in addresses.chunks(BALANCES_PER_REQUEST) {
            let calls: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(id, a)| json!({ "jsonrpc": "2.0", "id": id, "method": "getBalance", "params": [a] }))
                .collect();
            let calls = Value::Array(calls);
            let answers = within("getBalance", client.post_ok("/rpc", &calls)).await?;
            let answers = answers.as_array().ok_or_else(|| {
                IndexError::Malformed("a JSON-RPC batch answered with a non-array".to_string())
            })?;
            let mut by_id: Vec<Option<&Value>> = vec![None; chunk.len()];
            for a in answers {
                if let Some(slot) = a["id"].as_u64().and_then(|i| by_id.get_mut(i as usize)) {
                    *slot = Some(a);
                }
            }
            for (address, answer) in chunk.iter().zip(by_id) {
                let result = answer.map(|a| &a["result"]).ok_or_else(|| {
                    IndexError::Malformed(format!("no getBalance answer for {address}"))
                })?;
                let balance = parse_amount(&result["balance"]);
                let nonce = result["nonce"].as_u64().and_then(|n| i64::try_from(n).ok());
                match (balance, nonce) {
                    (Some(b), Some(n)) => accounts.push(((*address).clone(), b, n)),
                    _ => {
                        return Err(IndexError::Malformed(format!(
                            "getBalance of {address} answered {}",
                            answer.map_or(Value::Null, Value::clone)
                        )))
                    }
                }
            }
        }
        Ok(accounts)
    }
}

/// One block.
async fn fetch_block(client: &mut HttpClient, height: u64) -> Result<BlockRows, IndexError> {
    let block = within(
        "getBlock",
        client.get_ok_bytes(&format!("/rpc/getBlock/{height}")),
    )
    .await?;
    let events = within(
        "getBlockEvents",
        client.get_ok_bytes(&format!("/rpc/getBlockEvents/{height}")),
    )
    .await?;
    BlockRows::parse(&block, &events)
}
