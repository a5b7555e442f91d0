//! The mock coordinator: a real HTTP service that attests compute receipts with a real sr25519
//! key, standing in for the AITBC coordinator that matches jobs to miners.
//!
//! Protocol (CONTRACT.md):
//! - `POST /attest/receipt` with a receipt `{job_id, client, miner, coordinator, compute_units,
//!   price, output_hash}` answers `{exists, paid, not_double_spent, coordinator, receipt_id,
//!   attestation}`. The attestation is the coordinator's signature (context
//!   `aitbc-receipt-attest`) over the receipt bytes followed by the chain's genesis hash, exactly
//!   what `receipts.claim` verifies on chain.
//! - Deterministic bookkeeping: job ids `1..=1_000_000` exist and are paid; others get
//!   `exists: false` and no attestation. At most one receipt is attested per (client, job_id): the
//!   same receipt again gets the same attestation, a different one `not_double_spent: false` and
//!   no attestation.
//! - `GET /health`.

mod server;

pub use server::{serve, CoordinatorHandle};

use aitbc_primitives::{AccountId, ComputeReceipt, Hash, JobId, Pair, Signature};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Job ids the mock treats as existing and paid.
pub const KNOWN_JOBS: std::ops::RangeInclusive<JobId> = 1..=1_000_000;

/// Most receipts the mock remembers (its memory is bounded; a real coordinator has a database).
pub const MAX_ATTESTED: usize = 1_000_000;

/// Why an attestation request was refused outright (a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestError {
    #[error("the receipt names coordinator {named}, but this coordinator is {me}")]
    WrongCoordinator { named: AccountId, me: AccountId },
    #[error("the mock coordinator has attested its limit of {MAX_ATTESTED} receipts")]
    Full,
}

/// The attesting state: the key, the chain, and the receipts attested so far.
pub struct Coordinator {
    key: Pair,
    genesis_hash: Hash,
    attested: HashMap<(AccountId, JobId), (ComputeReceipt, Signature)>,
}

impl std::fmt::Debug for Coordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Coordinator({})", self.key.public())
    }
}

impl Coordinator {
    pub fn new(key: Pair, genesis_hash: Hash) -> Self {
        Coordinator {
            key,
            genesis_hash,
            attested: HashMap::new(),
        }
    }

    pub fn account(&self) -> AccountId {
        self.key.public()
    }

    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    /// Answers one attestation request (see the module docs).
    pub fn attest(&mut self, receipt: ComputeReceipt) -> Result<Value, AttestError> {
        let me = self.key.public();
        if receipt.coordinator != me {
            return Err(AttestError::WrongCoordinator {
                named: receipt.coordinator,
                me,
            });
        }
        let receipt_id = receipt.id();
        let exists = KNOWN_JOBS.contains(&receipt.job_id);
        let key = (receipt.client, receipt.job_id);
        let (not_double_spent, attestation) = match self.attested.get(&key) {
            _ if !exists => (true, None),
            Some((earlier, sig)) if *earlier == receipt => (true, Some(*sig)),
            Some(_) => (false, None),
            None if self.attested.len() >= MAX_ATTESTED => return Err(AttestError::Full),
            None => {
                let sig = receipt.attest(&self.key, &self.genesis_hash);
                self.attested.insert(key, (receipt, sig));
                (true, Some(sig))
            }
        };
        Ok(json!({
            "exists": exists,
            "paid": exists,
            "not_double_spent": not_double_spent,
            "coordinator": me,
            "receipt_id": receipt_id,
            "attestation": attestation.map(|s| s.to_hex()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aitbc_primitives::crypto::dev_pair;
    use aitbc_primitives::ReceiptClaim;

    fn receipt(job_id: JobId, units: u64) -> ComputeReceipt {
        ComputeReceipt {
            job_id,
            client: dev_pair("bob").public(),
            miner: dev_pair("miner").public(),
            coordinator: dev_pair("coordinator").public(),
            compute_units: units,
            price: 10,
            output_hash: Hash::of(b"out"),
        }
    }

    #[test]
    fn attests_once_per_job_and_verifies_on_chain_terms() {
        let g = Hash::of(b"genesis");
        let mut c = Coordinator::new(dev_pair("coordinator"), g);
        let r = receipt(7, 3);
        let a = c.attest(r.clone()).unwrap();
        assert_eq!(a["exists"], true);
        assert_eq!(a["receipt_id"], r.id().to_string());
        let sig = Signature::from_hex(a["attestation"].as_str().unwrap()).unwrap();
        let claim = ReceiptClaim {
            miner_sig: r.sign_as_miner(&dev_pair("miner"), &g),
            attestation: sig,
            receipt: r.clone(),
        };
        assert_eq!(claim.signatures_valid(&g), (true, true));
        assert_eq!(claim.signatures_valid(&Hash::of(b"other")), (false, false));

        // Same receipt: same attestation. A different one for the same job: refused.
        assert_eq!(c.attest(r).unwrap()["attestation"], a["attestation"]);
        let other = c.attest(receipt(7, 4)).unwrap();
        assert_eq!(other["not_double_spent"], false);
        assert!(other["attestation"].is_null());

        let unknown = c.attest(receipt(2_000_000, 1)).unwrap();
        assert_eq!(
            (unknown["exists"].clone(), unknown["attestation"].clone()),
            (json!(false), Value::Null)
        );
        let mut wrong = receipt(8, 1);
        wrong.coordinator = dev_pair("alice").public();
        assert!(matches!(
            c.attest(wrong),
            Err(AttestError::WrongCoordinator { .. })
        ));
    }
}
