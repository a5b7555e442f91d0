//! Compute receipts: the proof that a miner delivered a job, which mints AIT.
//!
//! `receipt_id` = blake2b-256 of the receipt's SCALE bytes. The miner signs
//! [`ComputeReceipt::signed_message`] in the `aitbc-receipt-miner` context and the escrow's
//! coordinator signs the same bytes in the `aitbc-receipt-attest` context. The message is the
//! receipt bytes followed by the genesis hash, so no receipt is valid on another chain.

use crate::crypto::{AccountId, Pair, Signature, SigningContext};
use crate::hashing::Hash;
use crate::types::{serde_balance, Balance, BlockNumber, JobId};
use codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// What a miner delivered for a client's job, as attested by a coordinator.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct ComputeReceipt {
    #[serde(with = "crate::types::serde_u64_lenient")]
    pub job_id: JobId,
    pub client: AccountId,
    pub miner: AccountId,
    pub coordinator: AccountId,
    #[serde(with = "crate::types::serde_u64_lenient")]
    pub compute_units: u64,
    #[serde(with = "serde_balance")]
    pub price: Balance,
    pub output_hash: Hash,
}

impl ComputeReceipt {
    /// The receipt id: blake2b-256 of the encoded receipt.
    pub fn id(&self) -> Hash {
        Hash::of_encoded(self)
    }

    /// The bytes the miner's signature and the coordinator's attestation cover.
    pub fn signed_message(&self, genesis_hash: &Hash) -> Vec<u8> {
        let mut m = self.encode();
        m.extend_from_slice(genesis_hash.as_bytes());
        m
    }

    /// The miner's signature.
    pub fn sign_as_miner(&self, miner: &Pair, genesis_hash: &Hash) -> Signature {
        miner.sign(
            SigningContext::ReceiptMiner,
            &self.signed_message(genesis_hash),
        )
    }

    /// The coordinator's attestation.
    pub fn attest(&self, coordinator: &Pair, genesis_hash: &Hash) -> Signature {
        coordinator.sign(
            SigningContext::ReceiptAttest,
            &self.signed_message(genesis_hash),
        )
    }
}

/// A receipt with both signatures: the argument of `receipts.claim`.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct ReceiptClaim {
    pub receipt: ComputeReceipt,
    pub miner_sig: Signature,
    pub attestation: Signature,
}

impl ReceiptClaim {
    /// Checks the miner's signature and the coordinator's attestation for this chain.
    pub fn signatures_valid(&self, genesis_hash: &Hash) -> (bool, bool) {
        let msg = self.receipt.signed_message(genesis_hash);
        (
            self.miner_sig
                .verify(SigningContext::ReceiptMiner, &msg, &self.receipt.miner),
            self.attestation.verify(
                SigningContext::ReceiptAttest,
                &msg,
                &self.receipt.coordinator,
            ),
        )
    }
}

/// State of a job escrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Open,
    Claimed,
    Refunded,
}

/// A job escrow as the RPC shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobInfo {
    pub job_id: JobId,
    pub client: AccountId,
    pub coordinator: AccountId,
    #[serde(with = "serde_balance")]
    pub price: Balance,
    pub expires_at: BlockNumber,
    pub status: JobStatus,
}

/// A settled receipt as the RPC shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptInfo {
    pub receipt_id: Hash,
    pub job_id: JobId,
    pub client: AccountId,
    pub miner: AccountId,
    pub coordinator: AccountId,
    pub compute_units: u64,
    #[serde(with = "serde_balance")]
    pub minted: Balance,
    pub block_height: BlockNumber,
    /// Whether its coordinator revoked it (its mint was clawed back).
    #[serde(default)]
    pub revoked: bool,
}
