//! The AITBC runtime's API beyond the node's [`StateMachine`] seam: the queries and operator
//! actions that only this chain has. The node's generic parts never see them; the AITBC RPC
//! routes (`aitbc-runtime-rpc`) and the CLI are bound on these traits, so they are served only
//! for a state machine that implements them.
//!
//! - [`ComputeApi`]: job escrows and settled receipts (`getJob`, `getReceipt`,
//!   `submitReceipt`).
//! - [`StakingApi`]: the validator set, stakers and offences (`getValidators`, `getStaking`,
//!   `getOffences`).
//! - [`AdminApi`]: the sudo key, the on-chain parameters and the root calls behind the admin
//!   routes (`mintFaucet`, `paramSet`, `coordinatorAdd`, `coordinatorRemove`).

use aitbc_primitives::{
    AccountId, Balance, Hash, JobId, JobInfo, ReceiptInfo, StateMachine, StateView,
};

/// Compute jobs and receipts.
pub trait ComputeApi: StateMachine {
    /// The escrow of `client`'s job `job_id`.
    fn job(&self, state: &dyn StateView, client: &AccountId, job_id: JobId) -> Option<JobInfo>;
    /// A settled receipt.
    fn receipt(&self, state: &dyn StateView, receipt_id: &Hash) -> Option<ReceiptInfo>;
    /// The id of the receipt a call claims, if it is a receipt claim (for `submitReceipt` and
    /// for finding a receipt's transaction).
    fn claimed_receipt(&self, call: &Self::Call) -> Option<Hash>;
}

/// Validators, stakers and offences.
pub trait StakingApi: StateMachine {
    /// The current epoch, its elected set and the candidates.
    fn validators(&self, state: &dyn StateView) -> crate::staking::ValidatorsInfo;
    /// One account's bond, unlocking chunks, candidacy and backing.
    fn staking(&self, state: &dyn StateView, who: &AccountId) -> crate::staking::StakingInfo;
    /// The most recent punished offences, oldest first.
    fn offences(&self, state: &dyn StateView) -> Vec<crate::staking::OffenceRecord>;
}

/// Root access for the node's operator.
pub trait AdminApi: StateMachine {
    /// The account whose signature makes a root call.
    fn sudo_key(&self, state: &dyn StateView) -> Option<AccountId>;
    /// All parameters by name, values as decimal strings.
    fn params(&self, state: &dyn StateView) -> Vec<(String, String)>;
    /// The root call (wrapped for the sudo key) that performs an admin action.
    fn admin_call(
        &self,
        state: &dyn StateView,
        action: AdminAction,
    ) -> Result<Self::Call, AdminError>;
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
