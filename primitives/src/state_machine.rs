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
use crate::types::{serde_balance, Balance, BlockNumber, JobId, Nonce, Slot};
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

/// A tag in the pool's dependency graph (e.g. `(signer, nonce)`).
pub type Tag = Vec<u8>;

/// How the pool should treat a valid transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidTransaction {
    /// Higher goes first (tip per byte).
    pub priority: u64,
    /// Tags that must be provided by earlier transactions (or the chain) before this one is ready.
    pub requires: Vec<Tag>,
    /// Tags this transaction provides once included.
    pub provides: Vec<Tag>,
    /// For how many more blocks this transaction stays valid.
    pub longevity: u64,
    /// The signer's nonce on chain when validated: the transaction is *future* while its nonce
    /// is above it.
    pub chain_nonce: Nonce,
}

/// Why a transaction may not enter a block. Each variant has a stable snake_case code
/// ([`InvalidTransaction::code`]) used by the RPC.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
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
    #[error("receipt claim refused: {0}")]
    Claim(ClaimError),
    #[error("transaction does not fit in the rest of the block")]
    ExhaustsResources,
}

/// Why a receipt claim is invalid (all checked before dispatch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum ClaimError {
    #[error("no escrow for this (client, job_id)")]
    UnknownJob,
    #[error("the escrow is already settled")]
    AlreadySettled,
    #[error("the escrow has expired")]
    JobExpired,
    #[error("the coordinator is not registered")]
    UnknownCoordinator,
    #[error("the attesting coordinator is not the escrow's coordinator")]
    WrongCoordinator,
    #[error("the miner is the client")]
    MinerIsClient,
    #[error("the miner's signature is invalid")]
    BadMinerSignature,
    #[error("the coordinator's attestation is invalid")]
    BadAttestation,
    #[error("compute units exceed max_units_per_receipt")]
    TooManyUnits,
    #[error("the receipt price exceeds the escrowed price")]
    PriceAboveEscrow,
    #[error("the coordinator's mint cap for this epoch would be exceeded")]
    MintCapExceeded,
    #[error("the mint would overflow the total issuance")]
    IssuanceOverflow,
    #[error("the escrow has not expired yet: it can be refunded from its expiry block on")]
    NotExpired,
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
            InvalidTransaction::Claim(c) => matches!(
                c,
                ClaimError::AlreadySettled
                    | ClaimError::JobExpired
                    | ClaimError::MinerIsClient
                    | ClaimError::BadMinerSignature
                    | ClaimError::BadAttestation
                    | ClaimError::WrongCoordinator
                    | ClaimError::PriceAboveEscrow
            ),
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
            InvalidTransaction::Claim(c) => c.code(),
        }
    }
}

impl ClaimError {
    pub fn code(&self) -> &'static str {
        match self {
            ClaimError::UnknownJob => "unknown_job",
            ClaimError::AlreadySettled => "job_already_settled",
            ClaimError::JobExpired => "job_expired",
            ClaimError::UnknownCoordinator => "unknown_coordinator",
            ClaimError::WrongCoordinator => "wrong_coordinator",
            ClaimError::MinerIsClient => "miner_is_client",
            ClaimError::BadMinerSignature => "bad_miner_signature",
            ClaimError::BadAttestation => "bad_attestation",
            ClaimError::TooManyUnits => "too_many_units",
            ClaimError::PriceAboveEscrow => "price_above_escrow",
            ClaimError::MintCapExceeded => "mint_cap_exceeded",
            ClaimError::IssuanceOverflow => "issuance_overflow",
            ClaimError::NotExpired => "not_expired",
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
/// nodes to persist, and each extrinsic's outcome.
#[derive(Debug, Clone)]
pub struct ExecutedBlock<E> {
    pub header: Header,
    pub changes: StateChanges,
    pub commitment: CommitmentUpdate,
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
    #[error("block number {got} does not follow the parent's {parent}")]
    BadNumber {
        parent: BlockNumber,
        got: BlockNumber,
    },
    #[error("header digest does not match the one the runtime produced")]
    DigestMismatch,
    #[error("block exceeds its limits: {0}")]
    TooBig(String),
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
}

/// Limits a block must respect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockLimits {
    pub max_block_txs: u32,
    pub max_block_bytes: u64,
    pub max_tx_bytes: u64,
}

/// A state-changing action an operator requests through the admin RPC; the state machine turns it
/// into a root call for the node's sudo key to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminAction {
    MintFaucet {
        dest: AccountId,
        amount: Balance,
    },
    ParamSet {
        key: String,
        value: String,
    },
    /// Registers a coordinator whose attestations may settle escrows.
    AddCoordinator {
        who: AccountId,
    },
    /// Unregisters a coordinator: its attestations are refused from the next block on.
    RemoveCoordinator {
        who: AccountId,
    },
}

/// Why an admin action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    #[error("this chain has no faucet")]
    FaucetDisabled,
    #[error("unknown parameter {0:?}")]
    UnknownParam(String),
    #[error("invalid value for {key}: {reason}")]
    BadParamValue { key: String, reason: String },
    #[error("the chain has no sudo key")]
    NoSudo,
    #[error("{0} is already a coordinator")]
    CoordinatorExists(AccountId),
    #[error("{0} is not a coordinator")]
    NotACoordinator(AccountId),
}

/// The chain logic the node drives. Implemented by `aitbc-runtime`.
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

    /// Re-executes an imported block and checks its extrinsics root, digest and state root.
    fn execute_block(
        &self,
        state: &dyn StateView,
        block: &Block<Extrinsic<Self::Call>>,
        signatures_checked: bool,
    ) -> Result<ExecutedBlock<Self::Event>, BlockError>;

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
    fn slot_duration_ms(&self, state: &dyn StateView) -> u64;
    fn block_limits(&self, state: &dyn StateView) -> BlockLimits;
    fn sudo_key(&self, state: &dyn StateView) -> Option<AccountId>;
    fn job(&self, state: &dyn StateView, client: &AccountId, job_id: JobId) -> Option<JobInfo>;
    fn receipt(&self, state: &dyn StateView, receipt_id: &Hash) -> Option<ReceiptInfo>;
    /// All parameters by name, values as decimal strings.
    fn params(&self, state: &dyn StateView) -> Vec<(String, String)>;
    /// The id of the receipt a call claims, if it is a receipt claim (for `submitReceipt` and
    /// for finding a receipt's transaction).
    fn claimed_receipt(&self, call: &Self::Call) -> Option<Hash>;
    /// The root call (wrapped for the sudo key) that performs an admin action.
    fn admin_call(
        &self,
        state: &dyn StateView,
        action: AdminAction,
    ) -> Result<Self::Call, AdminError>;
}
