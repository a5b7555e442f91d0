//! Signed transactions (extrinsics).
//!
//! `Extrinsic { signer, nonce, tip, valid_until, call, signature }`, SCALE-encoded. The signature
//! (context `aitbc-tx`) covers [`SigningPayload`] = SCALE(call, nonce, tip, valid_until,
//! genesis_hash, tx_version): it cannot be replayed on another chain or under another transaction
//! format. `valid_until` (a block number) makes a transaction mortal: in any block after it, the
//! transaction is invalid. The transaction hash is blake2b-256 of the encoded extrinsic.

use crate::crypto::{first_invalid, AccountId, Pair, Signature, SignatureCheck, SigningContext};
use crate::hashing::Hash;
use crate::state_machine::InvalidTransaction;
use crate::types::{Balance, BlockNumber, Nonce};
use codec::{Decode, Encode};

/// The transaction format version signed into every transaction.
pub const TX_VERSION: u32 = 1;

/// A signed transaction calling `C`.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Extrinsic<C> {
    pub signer: AccountId,
    #[codec(compact)]
    pub nonce: Nonce,
    #[codec(compact)]
    pub tip: Balance,
    pub valid_until: Option<BlockNumber>,
    pub call: C,
    pub signature: Signature,
}

/// What [`Extrinsic::check_envelope`] checks a transaction against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeCheck {
    /// The chain the signature must be for.
    pub genesis_hash: Hash,
    /// The largest encoded transaction.
    pub max_len: u64,
    /// The block the transaction would be in.
    pub number: BlockNumber,
    /// The signer's next nonce on chain.
    pub chain_nonce: Nonce,
    /// The signature was verified already (at admission, or in a block's batch).
    pub signatures_checked: bool,
    /// A nonce above the chain's is allowed (the pool's view: it waits for the gap to close).
    pub future_ok: bool,
}

/// The bytes a transaction signature covers.
#[derive(Debug, Clone, PartialEq, Eq, Encode)]
pub struct SigningPayload<'a, C> {
    pub call: &'a C,
    #[codec(compact)]
    pub nonce: Nonce,
    #[codec(compact)]
    pub tip: Balance,
    pub valid_until: Option<BlockNumber>,
    pub genesis_hash: Hash,
    pub tx_version: u32,
}

/// What the sender chooses besides the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TxParams {
    pub nonce: Nonce,
    pub tip: Balance,
    pub valid_until: Option<BlockNumber>,
}

impl<C: Encode> Extrinsic<C> {
    /// Signs `call` with `pair` for the chain with `genesis_hash`.
    pub fn sign(pair: &Pair, call: C, params: TxParams, genesis_hash: Hash) -> Self {
        let payload = signing_payload(&call, &params, genesis_hash, TX_VERSION);
        let signature = pair.sign(SigningContext::Transaction, &payload);
        Extrinsic {
            signer: pair.public(),
            nonce: params.nonce,
            tip: params.tip,
            valid_until: params.valid_until,
            call,
            signature,
        }
    }

    /// The encoded signing payload of this transaction for a chain.
    pub fn signing_payload(&self, genesis_hash: Hash, tx_version: u32) -> Vec<u8> {
        signing_payload(&self.call, &self.params(), genesis_hash, tx_version)
    }

    /// Whether the signature is valid for the chain with `genesis_hash` under `tx_version`.
    pub fn signature_is_valid(&self, genesis_hash: Hash, tx_version: u32) -> bool {
        self.signature.verify(
            SigningContext::Transaction,
            &self.signing_payload(genesis_hash, tx_version),
            &self.signer,
        )
    }

    /// The checks every transaction passes whatever its call, in this order: its encoded
    /// length `len` within the limit, its signature (unless `signatures_checked`), not expired
    /// at block `at.number`, and its nonce: below the signer's `chain_nonce` is stale, above it
    /// future (allowed only where `at.future_ok`: in the pool, not in a block).
    pub fn check_envelope(&self, len: u64, at: &EnvelopeCheck) -> Result<(), InvalidTransaction> {
        if len > at.max_len {
            return Err(InvalidTransaction::TooLarge {
                size: len,
                limit: at.max_len,
            });
        }
        if !at.signatures_checked && !self.signature_is_valid(at.genesis_hash, TX_VERSION) {
            return Err(InvalidTransaction::BadSignature);
        }
        if let Some(valid_until) = self.valid_until {
            if at.number > valid_until {
                return Err(InvalidTransaction::Expired { valid_until });
            }
        }
        if self.nonce < at.chain_nonce {
            return Err(InvalidTransaction::StaleNonce {
                expected: at.chain_nonce,
                got: self.nonce,
            });
        }
        if self.nonce > at.chain_nonce && !at.future_ok {
            return Err(InvalidTransaction::FutureNonce {
                expected: at.chain_nonce,
                got: self.nonce,
            });
        }
        Ok(())
    }

    /// The encoded length in bytes (what size limits count).
    pub fn encoded_len(&self) -> u64 {
        u64::try_from(self.encoded_size()).unwrap_or(u64::MAX)
    }

    /// The index of the first transaction of `xts` whose own signature is invalid for the chain
    /// of `genesis_hash` (one batch check: [`first_invalid`]); `None` when all are valid.
    pub fn first_bad_signature(xts: &[Extrinsic<C>], genesis_hash: Hash) -> Option<usize> {
        let payloads: Vec<Vec<u8>> = xts
            .iter()
            .map(|xt| xt.signing_payload(genesis_hash, TX_VERSION))
            .collect();
        let checks: Vec<SignatureCheck<'_>> = xts
            .iter()
            .zip(&payloads)
            .map(|(xt, payload)| SignatureCheck {
                context: SigningContext::Transaction,
                message: payload,
                signer: xt.signer,
                signature: xt.signature,
            })
            .collect();
        first_invalid(&checks)
    }

    pub fn params(&self) -> TxParams {
        TxParams {
            nonce: self.nonce,
            tip: self.tip,
            valid_until: self.valid_until,
        }
    }

    /// The transaction hash: blake2b-256 of the encoding.
    pub fn hash(&self) -> Hash {
        Hash::of_encoded(self)
    }
}

/// Encodes the signing payload of a call with its parameters.
pub fn signing_payload<C: Encode>(
    call: &C,
    params: &TxParams,
    genesis_hash: Hash,
    tx_version: u32,
) -> Vec<u8> {
    SigningPayload {
        call,
        nonce: params.nonce,
        tip: params.tip,
        valid_until: params.valid_until,
        genesis_hash,
        tx_version,
    }
    .encode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::dev_pair;

    #[test]
    fn signature_binds_chain_and_version() {
        let g = Hash::of(b"genesis");
        let xt = Extrinsic::sign(
            &dev_pair("alice"),
            7u32,
            TxParams {
                nonce: 3,
                ..Default::default()
            },
            g,
        );
        assert!(xt.signature_is_valid(g, TX_VERSION));
        assert!(!xt.signature_is_valid(Hash::of(b"other"), TX_VERSION));
        assert!(!xt.signature_is_valid(g, TX_VERSION + 1));
        let mut tampered = xt.clone();
        tampered.nonce = 4;
        assert!(!tampered.signature_is_valid(g, TX_VERSION));
    }
}
