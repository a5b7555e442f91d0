//! One block as rows: parsed from the node's `getBlock` and `getBlockEvents` answers. A field
//! missing or of the wrong form is an error naming the block and the field: the indexer never
//! writes a guess.

use crate::numeric::{parse_amount, Numeric};
use crate::IndexError;
use serde_json::Value;
use std::collections::BTreeSet;

/// A block and everything the indexer writes for it.
#[derive(Debug, Clone, PartialEq)]
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

#[derive(Debug, Clone, PartialEq)]
pub struct TxRow {
    pub hash: String,
    pub index: i32,
    pub signer: String,
    pub nonce: i64,
    pub call_type: String,
    pub call: Value,
    pub fee: Numeric,
    pub success: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub tx_index: i32,
    pub event_index: i32,
    pub tx_hash: String,
    pub module: String,
    pub name: String,
    pub data: Value,
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

/// Field access that names the block and the field on failure.
struct At<'a> {
    height: u64,
    v: &'a Value,
}

impl<'a> At<'a> {
    fn bad(&self, field: &str) -> IndexError {
        IndexError::Malformed(format!(
            "block {}: field {field:?} is missing or malformed",
            self.height
        ))
    }
    fn get(&self, field: &str) -> Result<&'a Value, IndexError> {
        self.v.get(field).ok_or_else(|| self.bad(field))
    }
    fn str(&self, field: &str) -> Result<String, IndexError> {
        self.get(field)?
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| self.bad(field))
    }
    fn u64(&self, field: &str) -> Result<u64, IndexError> {
        self.get(field)?.as_u64().ok_or_else(|| self.bad(field))
    }
    fn i64(&self, field: &str) -> Result<i64, IndexError> {
        i64::try_from(self.u64(field)?).map_err(|_| self.bad(field))
    }
    fn amount(&self, field: &str) -> Result<Numeric, IndexError> {
        parse_amount(self.get(field)?).ok_or_else(|| self.bad(field))
    }
}

/// Collects every `ait1…` string in `v`.
fn addresses(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) if s.starts_with("ait1") => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|i| addresses(i, out)),
        Value::Object(map) => map.values().for_each(|i| addresses(i, out)),
        _ => {}
    }
}

impl BlockRows {
    /// The rows of one block from its `getBlock` and `getBlockEvents` answers.
    pub fn parse(block: &Value, events: &Value) -> Result<BlockRows, IndexError> {
        let height = block
            .get("height")
            .and_then(Value::as_u64)
            .ok_or_else(|| IndexError::Malformed("a block without a height".to_string()))?;
        let b = At { height, v: block };
        let author = match b.get("author")? {
            Value::Null => None,
            v => Some(v.as_str().ok_or_else(|| b.bad("author"))?.to_string()),
        };
        let mut rows = BlockRows {
            height: b.i64("height")?,
            hash: b.str("hash")?,
            parent_hash: b.str("parent_hash")?,
            author: author.clone(),
            slot: b.i64("slot")?,
            timestamp_ms: b.i64("timestamp_ms")?,
            state_root: b.str("state_root")?,
            txs: Vec::new(),
            events: Vec::new(),
            receipts: Vec::new(),
            offences: Vec::new(),
            jobs: Vec::new(),
            touched: author.into_iter().collect(),
            validators_changed: false,
        };
        let e = At { height, v: events };
        if e.str("hash")? != rows.hash {
            return Err(IndexError::Malformed(format!(
                "block {height}: getBlock and getBlockEvents answered different blocks"
            )));
        }
        let txs = e.get("events")?.as_array().ok_or_else(|| e.bad("events"))?;
        let expected = b
            .get("tx_count")?
            .as_u64()
            .ok_or_else(|| b.bad("tx_count"))?;
        if txs.len() as u64 != expected {
            return Err(IndexError::Malformed(format!(
                "block {height}: {} outcomes for {expected} transactions",
                txs.len()
            )));
        }
        for tx in txs {
            rows.add_tx(height, tx)?;
        }
        Ok(rows)
    }

    fn add_tx(&mut self, height: u64, tx: &Value) -> Result<(), IndexError> {
        let t = At { height, v: tx };
        let call = t.get("call")?.clone();
        let row = TxRow {
            hash: t.str("tx_hash")?,
            index: i32::try_from(t.u64("index")?).map_err(|_| t.bad("index"))?,
            signer: t.str("signer")?,
            nonce: t.i64("nonce")?,
            call_type: call
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| t.bad("call.type"))?
                .to_string(),
            call,
            fee: t.amount("fee")?,
            success: t
                .get("success")?
                .as_bool()
                .ok_or_else(|| t.bad("success"))?,
            error: t.get("error")?.as_str().map(str::to_string),
        };
        self.touched.insert(row.signer.clone());
        let events = t.get("events")?.as_array().ok_or_else(|| t.bad("events"))?;
        for (i, event) in events.iter().enumerate() {
            // `{"Module": {"Name": {…}}}`.
            let (module, inner) = event
                .as_object()
                .and_then(|m| m.iter().next())
                .ok_or_else(|| t.bad("events[].module"))?;
            let (name, data) = inner
                .as_object()
                .and_then(|m| m.iter().next())
                .ok_or_else(|| t.bad("events[].name"))?;
            let event_index = i as i32;
            addresses(data, &mut self.touched);
            self.add_event_effects(height, &row.hash, event_index, module, name, data)?;
            self.events.push(EventRow {
                tx_index: row.index,
                event_index,
                tx_hash: row.hash.clone(),
                module: module.clone(),
                name: name.clone(),
                data: data.clone(),
            });
        }
        self.txs.push(row);
        Ok(())
    }

    /// The job, receipt, offence and validator effects of one event.
    fn add_event_effects(
        &mut self,
        height: u64,
        tx_hash: &str,
        event_index: i32,
        module: &str,
        name: &str,
        data: &Value,
    ) -> Result<(), IndexError> {
        let d = At { height, v: data };
        match (module, name) {
            ("Receipts", "JobOpened") => self.jobs.push(JobChange::Opened {
                client: d.str("client")?,
                job_id: d.u64("job_id")?,
                coordinator: d.str("coordinator")?,
                price: d.amount("price")?,
                expires_at: d.i64("expires_at")?,
            }),
            ("Receipts", "ReceiptClaimed") => {
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
            ("Receipts", "Refunded") => self.jobs.push(JobChange::Refunded {
                client: d.str("client")?,
                job_id: d.u64("job_id")?,
            }),
            ("Staking", "Slashed") => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        let rows = BlockRows::parse(&block(1), &events).unwrap();
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
        let err = BlockRows::parse(&block(1), &events)
            .unwrap_err()
            .to_string();
        assert!(err.contains("block 5") && err.contains("fee"), "{err}");
        // A count that does not match the block's.
        let events = json!({ "height": 5, "hash": "0xb5", "events": [] });
        assert!(BlockRows::parse(&block(1), &events).is_err());
        // Another block's events.
        let events = json!({ "height": 5, "hash": "0xother", "events": [] });
        assert!(BlockRows::parse(&block(0), &events).is_err());
    }
}
