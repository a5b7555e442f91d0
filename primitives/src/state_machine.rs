//! The [`StateMachine`] trait: everything the node asks of the chain's logic.
//!
//! The node owns storage, networking and time; the state machine owns meaning. The node hands it a
//! read-only [`StateView`] of a block's parent state and gets back writes ([`StateChanges`]) and the
//! new state root, which the node then persists. The contract:
//! - **Deterministic**: the same parent state and block give the same outputs on every machine.
//! - **Pure**: no I/O, clock or randomness; block time comes from the header's slot.
//! - **Invalid vs failed**: [`StateMachine::validate_transaction`] and
//!   [`StateMachine::apply_extrinsic`] return [`InvalidTransaction`] for anything checkable before
//!   dispatch; such a transaction never enters a block and pays nothing. A call that fails during
//!   dispatch is still included: [`TxOutcome::success`] is false, it paid its fee, and its other
//!   writes were rolled back.
//! - **Signatures once**: a caller that has already verified a transaction's signatures (the pool
//!   at admission, block import in one batch) passes `signatures_checked = true`.

use crate::block::{Block, Header};
use crate::commitment::{CommitmentError, CommitmentUpdate, StateChanges};
use crate::crypto::AccountId;
use crate::extrinsic::Extrinsic;
use crate::hashing::Hash;
use crate::offence::OffenceProof;
use crate::schedule::AuthorSchedule;
use crate::types::{serde_balance, Balance, BlockNumber, Nonce, Slot};
use codec::{Decode, Encode};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::fmt::Debug;

/// Read access to one state, and the commitment to that state plus some changes.
pub trait StateView {
    /// The value at `key`, if any.
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
    /// The commitment to this state with `changes` applied: the new root and the tree nodes that
    /// produce it.
    fn commit(&self, changes: &StateChanges) -> Result<CommitmentUpdate, CommitmentError>;
}

/// How the pool should treat a valid transaction.
///
/// The pool keeps one nonce sequence per signer (an account chain), so a transaction's place is
/// fully given by `(signer, nonce)` and the signer's `chain_nonce`: it is *ready* at the
/// chain's nonce and *future* above it. There are no dependency tags (`provides`/`requires`, as
/// in a UTXO pool): they would cost two allocations per validation and tell the pool nothing
/// the nonce does not. Expiry is re-checked by revalidation after each block (an expired
/// transaction is [`InvalidTransaction::Expired`]), so there is no longevity either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidTransaction {
    /// Higher goes first (tip per byte).
    pub priority: u64,
    /// The signer's nonce on chain when validated: the transaction is *future* while its nonce
    /// is above it.
    pub chain_nonce: Nonce,
}

/// Why a transaction may not enter a block. Each variant has a stable snake_case code
/// ([`InvalidTransaction::code`]) used by the RPC.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTransaction {
    #[error("bad signature (wrong key, or signed for another chain or transaction version)")]
    BadSignature,
    #[error("nonce {got} is stale: the account's next nonce is {expected}")]
    StaleNonce { expected: Nonce, got: Nonce },
    #[error("nonce {got} is in the future: the account's next nonce is {expected}")]
    FutureNonce { expected: Nonce, got: Nonce },
    #[error("the account cannot pay the fee of {fee}")]
    CannotPayFee { fee: Balance },
    #[error("transaction expired at block {valid_until}")]
    Expired { valid_until: BlockNumber },
    #[error("transaction of {size} bytes exceeds the limit of {limit}")]
    TooLarge { size: u64, limit: u64 },
    #[error("this call cannot be submitted by a signed account (root only)")]
    BadOrigin,
    #[error("transaction does not fit in the rest of the block")]
    ExhaustsResources,
    /// A reason of the state machine's own (AITBC: a refused receipt claim).
    #[error("{0}")]
    Custom(CustomInvalid),
}

/// A state machine's own reason why a transaction is invalid, carried through the node as its
/// code, message and permanence (the node needs nothing more: the RPC shows the code and
/// message, the pool bans a permanent one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomInvalid {
    /// Stable snake_case code for RPC errors.
    pub code: &'static str,
    /// What a user reads.
    pub message: String,
    /// Whether the transaction can never become valid.
    pub permanent: bool,
}

impl std::fmt::Display for CustomInvalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl InvalidTransaction {
    /// Whether the transaction can never become valid (so a pool may ban its hash). Errors of
    /// balance, nonce order, block room or registration can heal; these cannot.
    pub fn is_permanent(&self) -> bool {
        match self {
            InvalidTransaction::BadSignature
            | InvalidTransaction::StaleNonce { .. }
            | InvalidTransaction::Expired { .. }
            | InvalidTransaction::TooLarge { .. } => true,
            InvalidTransaction::Custom(c) => c.permanent,
            // The sudo key can change, so a root call may become valid.
            InvalidTransaction::BadOrigin
            | InvalidTransaction::FutureNonce { .. }
            | InvalidTransaction::CannotPayFee { .. }
            | InvalidTransaction::ExhaustsResources => false,
        }
    }

    /// Stable snake_case code for RPC errors.
    pub fn code(&self) -> &'static str {
        match self {
            InvalidTransaction::BadSignature => "bad_signature",
            InvalidTransaction::StaleNonce { .. } => "stale_nonce",
            InvalidTransaction::FutureNonce { .. } => "future_nonce",
            InvalidTransaction::CannotPayFee { .. } => "insufficient_fee_balance",
            InvalidTransaction::Expired { .. } => "expired",
            InvalidTransaction::TooLarge { .. } => "tx_too_large",
            InvalidTransaction::BadOrigin => "bad_origin",
            InvalidTransaction::ExhaustsResources => "exhausts_resources",
            InvalidTransaction::Custom(c) => c.code,
        }
    }
}

/// The result of one included transaction.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct TxOutcome<E> {
    pub success: bool,
    /// The dispatch error's snake_case code when `success` is false.
    pub error: Option<String>,
    /// The fee charged (including the tip).
    pub fee: Balance,
    /// Events the transaction emitted (only the fee event when it failed).
    pub events: Vec<E>,
}

/// Where a block is being built or executed: known before any extrinsic is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockContext {
    pub parent_hash: Hash,
    pub number: BlockNumber,
    pub slot: Slot,
}

/// A block between `initialize_block` and `finalize_block`: the writes so far and the outcomes of
/// the extrinsics applied.
#[derive(Debug, Clone)]
pub struct PendingBlock<E> {
    pub context: BlockContext,
    pub changes: StateChanges,
    pub extrinsic_hashes: Vec<Hash>,
    pub outcomes: Vec<TxOutcome<E>>,
    /// Total encoded size of the extrinsics applied.
    pub bytes: u64,
    /// Total weight of the extrinsics applied (runtime-defined units).
    pub weight: u64,
    /// The most weight this block's extrinsics may have (fixed at initialization).
    pub weight_limit: u64,
}

/// A block executed to its end: the header with both roots, the state writes and the commitment
/// nodes to persist, and each extrinsic's outcome. The commitment is shared: an author reads its
/// nodes while the block is being stored (the node's pipelined import).
#[derive(Debug, Clone)]
pub struct ExecutedBlock<E> {
    pub header: Header,
    pub changes: StateChanges,
    pub commitment: std::sync::Arc<CommitmentUpdate>,
    pub outcomes: Vec<TxOutcome<E>>,
}

/// Why a block cannot be built on or imported.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BlockError {
    #[error("extrinsic {index} is invalid: {error}")]
    InvalidExtrinsic {
        index: usize,
        error: InvalidTransaction,
    },
    #[error("state root mismatch: header {expected}, computed {computed}")]
    StateRootMismatch { expected: Hash, computed: Hash },
    #[error("extrinsics root mismatch: header {expected}, computed {computed}")]
    ExtrinsicsRootMismatch { expected: Hash, computed: Hash },
    #[error("header digest does not match the one the runtime produced")]
    DigestMismatch,
    #[error("block exceeds its limits: {0}")]
    TooBig(String),
    /// The state machine's own rule refuses the block (AITBC: its author is disabled).
    #[error("block refused: {0}")]
    Refused(String),
    #[error(transparent)]
    Commitment(#[from] CommitmentError),
}

/// An account as the RPC shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccountInfo {
    #[serde(with = "serde_balance")]
    pub balance: Balance,
    pub nonce: Nonce,
}

/// Limits a block must respect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockLimits {
    pub max_block_txs: u32,
    pub max_block_bytes: u64,
    pub max_tx_bytes: u64,
}

/// The chain logic the node drives: the block lifecycle, transaction validation, the authority
/// set, block limits, fees and accounts. Implemented by `aitbc-runtime` (whose chain-specific
/// queries, such as jobs and receipts, are extension traits in its `api` module) and by the
/// name registry that proves the seam.
pub trait StateMachine: Send + Sync + 'static {
    /// The call type of extrinsics. Its serde form is the JSON transaction form
    /// `{"type": …, "payload": {…}}`.
    type Call: Encode
        + Decode
        + Clone
        + Debug
        + PartialEq
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + 'static;
    /// Events emitted by calls.
    type Event: Encode + Decode + Clone + Debug + PartialEq + Serialize + Send + Sync + 'static;

    /// The genesis hash this instance signs and verifies for.
    fn genesis_hash(&self) -> Hash;

    /// Checks a transaction for the pool against the best block's state, as if it were included
    /// in the next block. Writes nothing.
    fn validate_transaction(
        &self,
        state: &dyn StateView,
        xt: &Extrinsic<Self::Call>,
        signatures_checked: bool,
    ) -> Result<ValidTransaction, InvalidTransaction>;

    /// Starts a block on top of `state` (its parent's state).
    fn initialize_block(
        &self,
        state: &dyn StateView,
        context: BlockContext,
    ) -> PendingBlock<Self::Event>;

    /// Applies one extrinsic to a pending block. `Err` means the extrinsic is invalid and the
    /// pending block is unchanged; `Ok` gives its outcome, successful or failed.
    fn apply_extrinsic(
        &self,
        state: &dyn StateView,
        block: &mut PendingBlock<Self::Event>,
        xt: &Extrinsic<Self::Call>,
        signatures_checked: bool,
    ) -> Result<TxOutcome<Self::Event>, InvalidTransaction>;

    /// Ends a block: end-of-block logic, the state root and the header.
    fn finalize_block(
        &self,
        state: &dyn StateView,
        block: PendingBlock<Self::Event>,
    ) -> Result<ExecutedBlock<Self::Event>, BlockError>;

    /// Re-executes an imported block on its parent's state and checks its extrinsics root,
    /// digest and state root against the header (the node has checked the header's number and
    /// slot against the parent's). The same steps as building: initialize, apply each
    /// extrinsic, finalize; so a built block always re-executes to itself.
    fn execute_block(
        &self,
        state: &dyn StateView,
        block: &Block<Extrinsic<Self::Call>>,
        signatures_checked: bool,
    ) -> Result<ExecutedBlock<Self::Event>, BlockError> {
        let header = &block.header;
        if !signatures_checked {
            self.check_signatures(&block.extrinsics)
                .map_err(|(index, error)| BlockError::InvalidExtrinsic { index, error })?;
        }
        let context = BlockContext {
            parent_hash: header.parent_hash,
            number: header.number,
            slot: header.slot,
        };
        let mut pending = self.initialize_block(state, context);
        for (index, xt) in block.extrinsics.iter().enumerate() {
            self.apply_extrinsic(state, &mut pending, xt, true)
                .map_err(|error| BlockError::InvalidExtrinsic { index, error })?;
        }
        let executed = self.finalize_block(state, pending)?;
        if executed.header.extrinsics_root != header.extrinsics_root {
            return Err(BlockError::ExtrinsicsRootMismatch {
                expected: header.extrinsics_root,
                computed: executed.header.extrinsics_root,
            });
        }
        if executed.header.digest != header.digest {
            return Err(BlockError::DigestMismatch);
        }
        if executed.header.state_root != header.state_root {
            return Err(BlockError::StateRootMismatch {
                expected: header.state_root,
                computed: executed.header.state_root,
            });
        }
        Ok(executed)
    }

    /// Verifies every signature a transaction carries (the transaction's and, for a receipt
    /// claim, the miner's and the coordinator's). Used to batch-verify blocks on import.
    fn check_signatures(
        &self,
        xts: &[Extrinsic<Self::Call>],
    ) -> Result<(), (usize, InvalidTransaction)>;

    /// The fee an extrinsic would pay (including its tip).
    fn fee(&self, state: &dyn StateView, xt: &Extrinsic<Self::Call>) -> Balance;

    fn account(&self, state: &dyn StateView, who: &AccountId) -> AccountInfo;
    fn authorities(&self, state: &dyn StateView) -> Vec<AccountId>;
    /// Who authors which slot after this state. Default: the authorities in turn (round robin).
    fn author_schedule(&self, state: &dyn StateView) -> AuthorSchedule {
        AuthorSchedule::equal(self.authorities(state))
    }
    /// The call that reports an offence, for a node that saw one to submit (signed by its
    /// authority key). Default: `None`, the chain does not punish offences.
    fn report_offence(&self, proof: OffenceProof) -> Option<Self::Call> {
        let _ = proof;
        None
    }
    /// The chain's own counters in the node's metrics: `(name, help)`, each exposed as a
    /// Prometheus counter. Default: none.
    const COUNTERS: &'static [(&'static str, &'static str)] = &[];
    /// Adds what one imported block's `events` count to `counters` (indexed as
    /// [`StateMachine::COUNTERS`]). Only metrics read it: never part of validity.
    fn count_events(&self, events: &mut dyn Iterator<Item = &Self::Event>, counters: &mut [u128]) {
        let _ = (events, counters);
    }
    fn slot_duration_ms(&self, state: &dyn StateView) -> u64;
    fn block_limits(&self, state: &dyn StateView) -> BlockLimits;
    /// Checks the invariants a whole state must keep (AITBC: total issuance equals the sum of
    /// balances and open escrows). `entries` yields every `(key, value)` of the state in key
    /// order. A pass over the whole state: for `check-db` and tests, never for import.
    fn try_state(&self, entries: &mut dyn Iterator<Item = (&[u8], &[u8])>) -> Result<(), String>;
}
