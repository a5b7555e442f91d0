//! # aitbc-light
//!
//! A light client: it trusts the genesis authorities of a chain (or a [`Checkpoint`] the user
//! trusts) and nothing a node says. It keeps no chain and no state.
//!
//! - **Finality** ([`LightClient::sync`]): it asks the node for the finality proof from its
//!   checkpoint (`GET /rpc/getFinalityProof/{height}`) and verifies it
//!   (`primitives::warp`): each authority-set change and the latest justified block, every
//!   justification against the set in office. The verified head is the only block it trusts.
//! - **State** ([`LightClient::balance`], [`LightClient::receipt`], [`LightClient::job`]): the
//!   runtime's own query runs on a [`ProvenView`]: each key it reads is fetched with a proof
//!   against the verified head's state root (`POST /rpc/getReadProof` at that height) and
//!   checked, then the query runs again, until it reads nothing unproven.
//! - **Transactions** ([`LightClient::tx`]): the transaction's inclusion proof against its
//!   block's extrinsics root, and the headers linking that block to the verified head.
//!
//! Every way a node can lie is refused with its own [`LightError`]: a forged value or proof, a
//! proof against another root, an answer about a block that is not finalized, a justification
//! short of a supermajority or of the wrong set, a transaction not in the block, a block off the
//! finalized chain.

pub mod cli;
mod proven;

pub use aitbc_primitives::warp::Checkpoint;
pub use proven::ProvenView;

use aitbc_http_client::{HttpClient, HttpError};
use aitbc_primitives::commitment::{verify_read_proof, ProofFailure, ReadProof};
use aitbc_primitives::warp::{FinalityProof, WarpError};
use aitbc_primitives::{
    decode_exact, AccountId, AccountInfo, BlockNumber, Hash, Header, JobId, JobInfo, ReceiptInfo,
    StateMachine, TxProof,
};
use aitbc_runtime::{ComputeApi, Runtime};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Rounds of proof fetching one query may take (each proves the keys the last one missed).
const MAX_QUERY_ROUNDS: usize = 8;
/// Pages of finality proof one sync follows at most (64 set changes a page).
const MAX_PROOF_PAGES: usize = 100_000;

/// Why the light client refused an answer (or could not get one).
#[derive(Debug, thiserror::Error)]
pub enum LightError {
    #[error("the node: {0}")]
    Rpc(#[from] HttpError),
    #[error("the node's answer is malformed: {0}")]
    BadAnswer(String),
    #[error("refused finality proof: {0}")]
    Finality(#[from] WarpError),
    #[error("the node is on another chain (genesis {found}; the trusted genesis is {expected})")]
    OtherChain { expected: Hash, found: Hash },
    #[error("the node's finality proof is incomplete and makes no progress")]
    NoProgress,
    #[error(
        "the node answered for block #{number}, which is not finalized (verified head #{head})"
    )]
    NotFinalized {
        number: BlockNumber,
        head: BlockNumber,
    },
    #[error(
        "the node's proof is against block #{number} state root {found}, not the verified \
         finalized block #{head} with state root {expected}"
    )]
    OtherRoot {
        number: BlockNumber,
        found: Hash,
        head: BlockNumber,
        expected: Hash,
    },
    #[error("forged state: the value of key 0x{key} does not match its proof")]
    ForgedValue { key: String },
    #[error("forged proof: the proof of key 0x{key} does not lead to the finalized state root")]
    ForgedProof { key: String },
    #[error("the node did not prove key 0x{key}")]
    MissingKey { key: String },
    #[error("forged transaction proof: the transaction is not in the block the node named")]
    ForgedTx,
    #[error("block #{number} is not on the finalized chain the light client verified")]
    OffFinalizedChain { number: BlockNumber },
    #[error("the query kept reading unproven keys after {MAX_QUERY_ROUNDS} rounds of proofs")]
    Unsettled,
}

/// A verified transaction: the finalized block that includes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludedTx {
    pub block_number: BlockNumber,
    pub block_hash: Hash,
    pub index: u32,
}

/// A light client talking to one node (see the crate docs).
pub struct LightClient {
    rpc: HttpClient,
    runtime: Runtime,
    checkpoint: Checkpoint,
}

fn bad(what: impl std::fmt::Display) -> LightError {
    LightError::BadAnswer(what.to_string())
}

fn hex_field(v: &Value, field: &str) -> Result<Vec<u8>, LightError> {
    let s = v
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("no {field}")))?;
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).map_err(|_| bad(format!("{field} is not hex")))
}

fn decode_field<T: codec::Decode>(v: &Value, field: &str) -> Result<T, LightError> {
    decode_exact(&hex_field(v, field)?).map_err(|e| bad(format!("{field}: {e}")))
}

fn hash_field(v: &Value, field: &str) -> Result<Hash, LightError> {
    let bytes: [u8; 32] = hex_field(v, field)?
        .try_into()
        .map_err(|_| bad(format!("{field} is not a hash")))?;
    Ok(Hash(bytes))
}

impl LightClient {
    /// A light client of the node at `rpc` (`http://host:port`) starting from `checkpoint`.
    pub fn new(rpc: &str, checkpoint: Checkpoint) -> Result<LightClient, LightError> {
        Ok(LightClient {
            rpc: HttpClient::new(rpc)?,
            runtime: Runtime::new(checkpoint.genesis_hash),
            checkpoint,
        })
    }

    /// What the client trusts now: the set in office and the verified finalized head.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// Follows the node's finality proofs to its latest justified block (see the crate docs).
    pub async fn sync(&mut self) -> Result<&Checkpoint, LightError> {
        // Not a trust decision (the proofs are checked against the trusted genesis anyway), but
        // a node of another chain gets a clear refusal instead of "bad signature".
        let genesis = self.rpc.get_ok("/rpc/getBlock/0").await?;
        let found = hash_field(&genesis, "hash")?;
        if found != self.checkpoint.genesis_hash {
            return Err(LightError::OtherChain {
                expected: self.checkpoint.genesis_hash,
                found,
            });
        }
        for _ in 0..MAX_PROOF_PAGES {
            let from = self.checkpoint.header.number;
            let answer = self
                .rpc
                .get_ok(&format!("/rpc/getFinalityProof/{from}"))
                .await?;
            let proof: FinalityProof = decode_field(&answer, "proof")?;
            let next = self.checkpoint.verify(&proof)?;
            let progressed = next.header.number > from;
            self.checkpoint = next;
            if proof.complete {
                return Ok(&self.checkpoint);
            }
            if !progressed {
                return Err(LightError::NoProgress);
            }
        }
        Err(LightError::NoProgress)
    }

    /// Runs `query` on state proven against the verified head (see the crate docs).
    pub async fn query<T>(&mut self, query: impl Fn(&ProvenView) -> T) -> Result<T, LightError> {
        let mut view = ProvenView::default();
        for _ in 0..MAX_QUERY_ROUNDS {
            let out = query(&view);
            let missing = view.take_missing();
            if missing.is_empty() {
                return Ok(out);
            }
            self.prove(&mut view, missing).await?;
        }
        Err(LightError::Unsettled)
    }

    /// Fetches `keys` with their proof at the verified head and adds them to `view`.
    async fn prove(
        &mut self,
        view: &mut ProvenView,
        keys: BTreeSet<Vec<u8>>,
    ) -> Result<(), LightError> {
        let head = &self.checkpoint.header;
        let request = json!({
            "keys": keys.iter().map(|k| format!("0x{}", hex::encode(k))).collect::<Vec<_>>(),
            "at": head.number,
        });
        let answer = self.rpc.post_ok("/rpc/getReadProof", &request).await?;
        let at = answer.get("at").ok_or_else(|| bad("no at"))?;
        let number = at
            .get("number")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("no at.number"))?;
        let root = hash_field(&answer, "state_root")?;
        if number > head.number {
            return Err(LightError::NotFinalized {
                number,
                head: head.number,
            });
        }
        if number != head.number
            || hash_field(at, "hash")? != head.hash()
            || root != head.state_root
        {
            return Err(LightError::OtherRoot {
                number,
                found: root,
                head: head.number,
                expected: head.state_root,
            });
        }
        let entries = answer
            .get("entries")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no entries"))?;
        let mut proven = Vec::with_capacity(entries.len());
        for e in entries {
            let key = hex_field(e, "key")?;
            let value = match e.get("value") {
                Some(Value::Null) | None => None,
                Some(_) => Some(hex_field(e, "value")?),
            };
            proven.push((key, value));
        }
        let proof: ReadProof = decode_field(&answer, "proof")?;
        let refs: Vec<(&[u8], Option<&[u8]>)> = proven
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_deref()))
            .collect();
        if let Err((i, failure)) = verify_read_proof(&head.state_root, &refs, &proof) {
            let key = proven
                .get(i)
                .map(|(k, _)| hex::encode(k))
                .unwrap_or_default();
            return Err(match failure {
                ProofFailure::ValueMismatch => LightError::ForgedValue { key },
                ProofFailure::RootMismatch | ProofFailure::Malformed => {
                    LightError::ForgedProof { key }
                }
            });
        }
        view.values.extend(proven);
        if let Some(key) = keys.iter().find(|k| !view.values.contains_key(*k)) {
            return Err(LightError::MissingKey {
                key: hex::encode(key),
            });
        }
        Ok(())
    }

    /// An account's balance and nonce at the verified head.
    pub async fn balance(&mut self, who: &AccountId) -> Result<AccountInfo, LightError> {
        let runtime = self.runtime;
        self.query(move |view| runtime.account(view, who)).await
    }

    /// A settled receipt at the verified head (`None`: not claimed).
    pub async fn receipt(&mut self, id: &Hash) -> Result<Option<ReceiptInfo>, LightError> {
        let runtime = self.runtime;
        self.query(move |view| runtime.receipt(view, id)).await
    }

    /// A client's job escrow at the verified head.
    pub async fn job(
        &mut self,
        client: &AccountId,
        job_id: JobId,
    ) -> Result<Option<JobInfo>, LightError> {
        let runtime = self.runtime;
        self.query(move |view| runtime.job(view, client, job_id))
            .await
    }

    /// Proves that transaction `hash` is in a finalized block (see the crate docs).
    pub async fn tx(&mut self, hash: &Hash) -> Result<IncludedTx, LightError> {
        let answer = self.rpc.get_ok(&format!("/rpc/getTxProof/{hash}")).await?;
        let proof: TxProof = decode_field(&answer, "proof")?;
        if !proof.verify(hash) {
            return Err(LightError::ForgedTx);
        }
        let head = &self.checkpoint.header;
        let number = proof.header.number;
        if number > head.number {
            return Err(LightError::NotFinalized {
                number,
                head: head.number,
            });
        }
        // The headers from the block's child up: each the parent of the next, up to the head.
        let ancestry: Vec<Header> = decode_field(&answer, "ancestry")?;
        let mut at = proof.header.hash();
        let mut reached = number == head.number && at == head.hash();
        for h in ancestry.iter().take_while(|h| h.number <= head.number) {
            if h.parent_hash != at {
                return Err(LightError::OffFinalizedChain { number });
            }
            at = h.hash();
            reached = h.number == head.number && at == head.hash();
        }
        if !reached {
            return Err(LightError::OffFinalizedChain { number });
        }
        Ok(IncludedTx {
            block_number: number,
            block_hash: proof.header.hash(),
            index: proof.proof.index,
        })
    }
}
