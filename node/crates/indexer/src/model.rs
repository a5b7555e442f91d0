//! One block as rows: parsed from the node's `getBlock` and `getBlockEvents` answers into
//! types of their own (a call and an event's data stay the JSON text the node wrote, stored as
//! `jsonb` as is). A field missing or of the wrong form is an error naming the block and the
//! field: the indexer never writes a guess.

use crate::pg_types::{parse_amount, Json, Numeric};
use crate::IndexError;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// A block and everything the indexer writes for it.
#[derive(Debug, Clone)]
pub struct BlockRows {
    pub height: i64,
    pub hash: String,
    pub parent_hash: String,
    pub author: Option<String>,
    pub slot: i64,
    pub timestamp_ms: i64,
    pub state_root: String,
    pub txs: Vec<TxRow>,
    pub events: Vec<EventRow>,
    pub receipts: Vec<ReceiptRow>,
    pub offences: Vec<OffenceRow>,
    /// Job changes, in block order.
    pub jobs: Vec<JobChange>,
    /// Every address a transaction signed or an event names, and the author.
    pub touched: BTreeSet<String>,
    /// Whether an event of the staking or authority module may have changed the validators.
    pub validators_changed: bool,
}

#[derive(Debug, Clone)]
pub struct TxRow {
    pub hash: String,
    pub index: i32,
    pub signer: String,
    pub nonce: i64,
    pub call_type: String,
    pub call: Json,
    pub fee: Numeric,
    pub success: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub tx_index: i32,
    pub event_index: i32,
    pub tx_hash: String,
    pub module: String,
    pub name: String,
    pub data: Json,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptRow {
    pub receipt_id: String,
    pub tx_hash: String,
    pub client: String,
    pub job_id: Numeric,
    pub miner: String,
    pub coordinator: String,
    pub compute_units: i64,
    pub paid: Numeric,
    pub returned: Numeric,
    pub minted: Numeric,
    pub to_coordinator: Numeric,
    pub to_treasury: Numeric,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OffenceRow {
    pub tx_hash: String,
    pub event_index: i32,
    pub offender: String,
    pub kind: String,
    pub slot_or_round: i64,
    pub amount: Numeric,
    pub reporter: String,
    pub to_reporter: Numeric,
}

/// What an event did to a job.
#[derive(Debug, Clone, PartialEq)]
pub enum JobChange {
    Opened {
        client: String,
        job_id: u64,
        coordinator: String,
        price: Numeric,
        expires_at: i64,
    },
    Claimed {
        client: String,
        job_id: u64,
        receipt_id: String,
    },
    Refunded {
        client: String,
        job_id: u64,
    },
}

/// `getBlock`'s fields the indexer keeps (the transaction hashes are skipped unread).
#[derive(Deserialize)]
struct BlockAnswer {
    height: u64,
    hash: String,
    parent_hash: String,
    author: Option<String>,
    slot: u64,
    timestamp_ms: u64,
    state_root: String,
    tx_count: u64,
}

#[derive(Deserialize)]
struct EventsAnswer {
    hash: String,
    events: Vec<TxAnswer>,
}

#[derive(Deserialize)]
struct TxAnswer {
    tx_hash: String,
    index: u32,
    signer: String,
    nonce: u64,
    call: Box<RawValue>,
    fee: String,
    success: bool,
    error: Option<String>,
    /// Each `{"Module": {"Name": data}}`.
    events: Vec<BTreeMap<String, BTreeMap<String, Box<RawValue>>>>,
}

/// A call's type, its payload skipped.
#[derive(Deserialize)]
struct CallType {
    #[serde(rename = "type")]
    kind: String,
}

/// The error for field `field` of block `height`.
fn bad(height: u64, field: &str) -> IndexError {
    IndexError::Malformed(format!(
        "block {height}: field {field:?} is missing or malformed"
    ))
}

fn to_i64(height: u64, field: &str, v: u64) -> Result<i64, IndexError> {
    i64::try_from(v).map_err(|_| bad(height, field))
}

/// Collects every JSON string in `json` that starts with `ait1` (an address: bech32 text needs
/// no escapes).
fn addresses(json: &str, out: &mut BTreeSet<String>) {
    let mut rest = json;
    while let Some(at) = rest.find("\"ait1") {
        let start = at + 1;
        let len = rest[start..].find('"').unwrap_or(rest.len() - start);
        out.insert(rest[start..start + len].to_string());
        rest = &rest[start + len..];
    }
}

impl BlockRows {
    /// The rows of one block from its `getBlock` and `getBlockEvents` answers (JSON bytes).
    pub fn parse(block: &[u8], events: &[u8]) -> Result<BlockRows, IndexError> {
        let b: BlockAnswer = serde_json::from_slice(block)
            .map_err(|e| IndexError::Malformed(format!("getBlock: {e}")))?;
        let height = b.height;
        let e: EventsAnswer = serde_json::from_slice(events)
            .map_err(|e| IndexError::Malformed(format!("block {height}: getBlockEvents: {e}")))?;
        if e.hash != b.hash {
            return Err(IndexError::Malformed(format!(
                "block {height}: getBlock and getBlockEvents answered different blocks"
            )));
        }
        if e.events.len() as u64 != b.tx_count {
            return Err(IndexError::Malformed(format!(
                "block {height}: {} outcomes for {} transactions",
                e.events.len(),
                b.tx_count
            )));
        }
        let mut rows = BlockRows {
            height: to_i64(height, "height", height)?,
            hash: b.hash,
            parent_hash: b.parent_hash,
            author: b.author.clone(),
            slot: to_i64(height, "slot", b.slot)?,
            timestamp_ms: to_i64(height, "timestamp_ms", b.timestamp_ms)?,
            state_root: b.state_root,
            txs: Vec::with_capacity(e.events.len()),
            events: Vec::new(),
            receipts: Vec::new(),
            offences: Vec::new(),
            jobs: Vec::new(),
            touched: b.author.into_iter().collect(),
            validators_changed: false,
        };
        for tx in e.events {
            rows.add_tx(height, tx)?;
        }
        Ok(rows)
    }

    fn add_tx(&mut self, height: u64, tx: TxAnswer) -> Result<(), IndexError> {
        let call_type = serde_json::from_str::<CallType>(tx.call.get())
            .map_err(|_| bad(height, "call.type"))?
            .kind;
        let row = TxRow {
            index: i32::try_from(tx.index).map_err(|_| bad(height, "index"))?,
            nonce: to_i64(height, "nonce", tx.nonce)?,
            fee: tx
                .fee
                .parse()
                .map(Numeric)
                .map_err(|_| bad(height, "fee"))?,
            hash: tx.tx_hash,
            signer: tx.signer,
            call_type,
            call: Json(tx.call),
            success: tx.success,
            error: tx.error,
        };
        self.touched.insert(row.signer.clone());
        for (i, event) in tx.events.into_iter().enumerate() {
            let (module, inner) = event
                .into_iter()
                .next()
                .ok_or_else(|| bad(height, "events[]"))?;
            let (name, data) = inner
                .into_iter()
                .next()
                .ok_or_else(|| bad(height, "events[]"))?;
            let event_index = i as i32;
            addresses(data.get(), &mut self.touched);
            self.add_event_effects(height, &row.hash, event_index, &module, &name, &data)?;
            self.events.push(EventRow {
                tx_index: row.index,
                event_index,
                tx_hash: row.hash.clone(),
                module,
                name,
                data: Json(data),
            });
        }
        self.txs.push(row);
        Ok(())
    }

    /// The job, receipt, offence and validator effects of one event (only these few kinds are
    /// parsed beyond their text).
    fn add_event_effects(
        &mut self,
        height: u64,
        tx_hash: &str,
        event_index: i32,
        module: &str,
        name: &str,
        data: &RawValue,
    ) -> Result<(), IndexError> {
        let parsed = || -> Result<Value, IndexError> {
            serde_json::from_str(data.get()).map_err(|_| bad(height, name))
        };
        match (module, name) {
            ("Receipts", "JobOpened") => {
                let v = parsed()?;
                let d = Fields { height, v: &v };
                self.jobs.push(JobChange::Opened {
                    client: d.str("client")?,
                    job_id: d.u64("job_id")?,
                    coordinator: d.str("coordinator")?,
                    price: d.amount("price")?,
                    expires_at: d.i64("expires_at")?,
                });
            }
            ("Receipts", "ReceiptClaimed") => {
                let v = parsed()?;
                let d = Fields { height, v: &v };
                let receipt = ReceiptRow {
                    receipt_id: d.str("receipt_id")?,
                    tx_hash: tx_hash.to_string(),
                    client: d.str("client")?,
                    job_id: Numeric(d.u64("job_id")?.into()),
                    miner: d.str("miner")?,
                    coordinator: d.str("coordinator")?,
                    compute_units: d.i64("compute_units")?,
                    paid: d.amount("paid")?,
                    returned: d.amount("returned")?,
                    minted: d.amount("minted")?,
                    to_coordinator: d.amount("to_coordinator")?,
                    to_treasury: d.amount("to_treasury")?,
                };
                self.jobs.push(JobChange::Claimed {
                    client: receipt.client.clone(),
                    job_id: d.u64("job_id")?,
                    receipt_id: receipt.receipt_id.clone(),
                });
                self.receipts.push(receipt);
            }
            ("Receipts", "Refunded") => {
                let v = parsed()?;
                let d = Fields { height, v: &v };
                self.jobs.push(JobChange::Refunded {
                    client: d.str("client")?,
                    job_id: d.u64("job_id")?,
                });
            }
            ("Staking", "Slashed") => {
                let v = parsed()?;
                let d = Fields { height, v: &v };
                let kind = d.get("kind")?;
                self.offences.push(OffenceRow {
                    tx_hash: tx_hash.to_string(),
                    event_index,
                    offender: d.str("offender")?,
                    kind: kind
                        .as_str()
                        .map_or_else(|| kind.to_string(), str::to_string),
                    slot_or_round: d.i64("slot_or_round")?,
                    amount: d.amount("amount")?,
                    reporter: d.str("reporter")?,
                    to_reporter: d.amount("to_reporter")?,
                });
                self.validators_changed = true;
            }
            ("Staking", _) | ("Authority", _) => self.validators_changed = true,
            _ => {}
        }
        Ok(())
    }
}

/// Field access into a parsed event's data, naming the block and the field on failure.
struct Fields<'a> {
    height: u64,
    v: &'a Value,
}

impl<'a> Fields<'a> {
    fn get(&self, field: &str) -> Result<&'a Value, IndexError> {
        self.v.get(field).ok_or_else(|| bad(self.height, field))
    }
    fn str(&self, field: &str) -> Result<String, IndexError> {
        self.get(field)?
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| bad(self.height, field))
    }
    fn u64(&self, field: &str) -> Result<u64, IndexError> {
        self.get(field)?
            .as_u64()
            .ok_or_else(|| bad(self.height, field))
    }
    fn i64(&self, field: &str) -> Result<i64, IndexError> {
        to_i64(self.height, field, self.u64(field)?)
    }
    fn amount(&self, field: &str) -> Result<Numeric, IndexError> {
        parse_amount(self.get(field)?).ok_or_else(|| bad(self.height, field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(block: &Value, events: &Value) -> Result<BlockRows, IndexError> {
        BlockRows::parse(block.to_string().as_bytes(), events.to_string().as_bytes())
    }

    fn block(tx_count: u64) -> Value {
        json!({ "height": 5, "hash": "0xb5", "parent_hash": "0xb4", "slot": 9,
                "timestamp_ms": 1000, "state_root": "0x5r", "extrinsics_root": "0x5e",
                "tx_count": tx_count, "transactions": [], "author": "ait1author",
                "finalized": true })
    }

    fn claim_tx() -> Value {
        json!({ "tx_hash": "0xt1", "index": 0, "signer": "ait1miner", "nonce": 3,
            "call": { "type": "claim", "payload": {} }, "fee": "12", "success": true, "error": null,
            "events": [
                { "Receipts": { "ReceiptClaimed": { "receipt_id": "0xr1", "client": "ait1client",
                  "job_id": 42, "miner": "ait1miner", "coordinator": "ait1coord",
                  "compute_units": 5, "paid": "1000", "returned": "0", "minted": "5000",
                  "to_coordinator": "0", "to_treasury": "0" } } },
                { "Balances": { "FeePaid": { "who": "ait1miner", "fee": "12",
                  "to_author": "12", "to_treasury": "0" } } }
            ] })
    }

    #[test]
    fn a_claim_becomes_a_transaction_events_a_receipt_and_a_job_change() {
        let events = json!({ "height": 5, "hash": "0xb5", "events": [claim_tx()] });
        let rows = parse(&block(1), &events).unwrap();
        assert_eq!(rows.txs.len(), 1);
        assert_eq!(rows.txs[0].call_type, "claim");
        assert_eq!(rows.txs[0].fee, Numeric(12));
        assert_eq!(rows.events.len(), 2);
        assert_eq!(
            (rows.events[1].module.as_str(), rows.events[1].name.as_str()),
            ("Balances", "FeePaid")
        );
        assert_eq!(rows.receipts[0].minted, Numeric(5000));
        assert_eq!(
            rows.jobs,
            vec![JobChange::Claimed {
                client: "ait1client".into(),
                job_id: 42,
                receipt_id: "0xr1".into()
            }]
        );
        let touched: Vec<&str> = rows.touched.iter().map(String::as_str).collect();
        assert_eq!(
            touched,
            ["ait1author", "ait1client", "ait1coord", "ait1miner"]
        );
        assert!(!rows.validators_changed);
    }

    #[test]
    fn a_malformed_answer_is_an_error_naming_the_block_and_field() {
        let mut tx = claim_tx();
        tx["fee"] = json!("lots");
        let events = json!({ "height": 5, "hash": "0xb5", "events": [tx] });
        let err = parse(&block(1), &events).unwrap_err().to_string();
        assert!(err.contains("block 5") && err.contains("fee"), "{err}");
        let mut tx = claim_tx();
        tx.as_object_mut().unwrap().remove("signer");
        let events = json!({ "height": 5, "hash": "0xb5", "events": [tx] });
        let err = parse(&block(1), &events).unwrap_err().to_string();
        assert!(err.contains("block 5") && err.contains("signer"), "{err}");
        // A count that does not match the block's.
        let events = json!({ "height": 5, "hash": "0xb5", "events": [] });
        assert!(parse(&block(1), &events).is_err());
        // Another block's events.
        let events = json!({ "height": 5, "hash": "0xother", "events": [] });
        assert!(parse(&block(0), &events).is_err());
    }
}
