//! # aitbc-primitives
//!
//! The vocabulary every other AITBC crate speaks: plain types ([`AccountId`], [`Balance`],
//! [`Hash`], …), the wire formats (SCALE-encoded [`Header`], [`Block`], [`Extrinsic`],
//! [`ComputeReceipt`]), sr25519 keys and domain-separated signatures, the chain's hash functions,
//! `ait1…` addresses, the Merkle state commitment, and the [`StateMachine`] trait that the node
//! drives.
//!
//! Invariants kept here:
//! - every signature is made in its own signing context ([`crypto::SigningContext`]), so a
//!   signature for one purpose is useless for another;
//! - every wire type decodes from hostile bytes without panicking, rejects trailing bytes
//!   ([`decode_exact`]) and bounds its vectors;
//! - nothing here does I/O, reads a clock or uses randomness (except explicit key generation).

pub mod address;
#[cfg(any(test, feature = "testing"))]
pub mod batch_forgery;
pub mod block;
pub mod bulk;
pub mod codec_util;
pub mod commitment;
pub mod crypto;
pub mod extrinsic;
pub mod hashing;
pub mod merkle;
pub mod offence;
pub mod parallel;
pub mod proof;
pub mod receipt;
pub mod schedule;
pub mod snapshot;
pub mod state_machine;
pub mod types;
pub mod warp;

pub use address::{Address, AddressError};
pub use block::{
    supermajority, Block, Digest, DigestItem, EpochChange, Header, Justification,
    JustificationError, SignedBlock, SignedVote, VoteKind, VoteTarget, MAX_AUTHORITIES,
    MAX_DIGEST_ITEMS, MAX_JUSTIFICATION_ANCESTRY,
};
pub use codec_util::{decode_exact, is_truncated, BoundedVec, DecodeError};
pub use commitment::{CommitmentUpdate, StateChanges};
pub use crypto::{AccountId, Pair, SecretUriError, Signature, SigningContext};
pub use extrinsic::{EnvelopeCheck, Extrinsic, SigningPayload, TX_VERSION};
pub use hashing::{blake2_256, twox_128, Hash};
pub use merkle::{extrinsic_proof, extrinsics_root, ExtrinsicProof, TxProof};
pub use offence::{BlockEquivocation, OffenceKind, OffenceProof, ProofError, VoteEquivocation};
pub use receipt::{ComputeReceipt, JobInfo, JobStatus, ReceiptClaim, ReceiptInfo};
pub use schedule::AuthorSchedule;
pub use state_machine::*;
pub use types::*;
