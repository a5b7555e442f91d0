//! Genesis configuration: the initial state of a chain, built from a chain spec.
//!
//! [`GenesisConfig::build`] validates the configuration and returns the genesis writes; the
//! genesis state root is `MemoryState::new().apply(&changes)` (version 0 of the state tree), or
//! [`GenesisConfig::build_state`] in one step. The genesis state holds: balances and their total
//! issuance, the authority set (each authority bonded `min_validator_bond`, created with the
//! genesis issuance, and a validator candidate in epoch 0: [`crate::staking::genesis`]), the
//! registered coordinators, the sudo key (if any), the treasury account (it need not be
//! endowed), the faucet flag, the parameters, the slot duration, and block number 0 with a zero
//! parent hash and slot 0.

use crate::authority::AuthoritySet;
use crate::params::{Params, ParamsError};
use crate::storage::Overlay;
use crate::{authority, balances, params, receipts, staking, sudo, system};
use aitbc_primitives::bulk::SortedState;
use aitbc_primitives::commitment::MemoryState;
use aitbc_primitives::commitment::StateChanges;
use aitbc_primitives::{AccountId, Balance, Hash};
use codec::Encode;
use std::collections::BTreeSet;

/// Everything the genesis state is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenesisConfig {
    pub slot_duration_ms: u64,
    pub balances: Vec<(AccountId, Balance)>,
    pub authorities: Vec<AccountId>,
    pub coordinators: Vec<AccountId>,
    pub sudo: Option<AccountId>,
    pub treasury: AccountId,
    pub faucet: bool,
    pub params: Params,
}

/// Why a genesis configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    #[error("slot duration must be greater than zero")]
    ZeroSlotDuration,
    #[error("the authority set is empty")]
    NoAuthorities,
    #[error("authority {0} is listed twice")]
    DuplicateAuthority(AccountId),
    #[error("{0} authorities exceed the limit of {max}", max = aitbc_primitives::block::MAX_AUTHORITIES)]
    TooManyAuthorities(usize),
    #[error("account {0} is endowed twice")]
    DuplicateAccount(AccountId),
    #[error("account {account} is endowed with {amount}, below the existential deposit {existential_deposit}")]
    BelowExistentialDeposit {
        account: AccountId,
        amount: Balance,
        existential_deposit: Balance,
    },
    #[error("the endowments overflow the total issuance")]
    IssuanceOverflow,
    #[error("coordinator {0} is listed twice")]
    DuplicateCoordinator(AccountId),
    /// Parameters out of bounds; ratios over 100% are
    /// [`ParamsError::RatioAbove100Percent`] / [`ParamsError::RatioSumAbove100Percent`].
    #[error("invalid parameters: {0}")]
    Params(#[from] ParamsError),
    #[error("state commitment: {0}")]
    Commitment(String),
}

impl GenesisConfig {
    /// Checks the configuration (see [`GenesisError`]).
    pub fn validate(&self) -> Result<(), GenesisError> {
        if self.slot_duration_ms == 0 {
            return Err(GenesisError::ZeroSlotDuration);
        }
        self.params.validate()?;
        if self.authorities.is_empty() {
            return Err(GenesisError::NoAuthorities);
        }
        if self.authorities.len() > aitbc_primitives::block::MAX_AUTHORITIES {
            return Err(GenesisError::TooManyAuthorities(self.authorities.len()));
        }
        let mut seen = BTreeSet::new();
        if let Some(dup) = self.authorities.iter().find(|a| !seen.insert(**a)) {
            return Err(GenesisError::DuplicateAuthority(*dup));
        }
        let mut seen = BTreeSet::new();
        if let Some(dup) = self.coordinators.iter().find(|a| !seen.insert(**a)) {
            return Err(GenesisError::DuplicateCoordinator(*dup));
        }
        // Sorted, not a set: a 1M-account genesis checks in a tenth of the time.
        let mut accounts: Vec<&AccountId> = self.balances.iter().map(|(a, _)| a).collect();
        accounts.sort_unstable();
        if let Some(dup) = accounts.windows(2).find(|w| w[0] == w[1]) {
            return Err(GenesisError::DuplicateAccount(*dup[0]));
        }
        drop(accounts);
        for (account, amount) in &self.balances {
            if *amount < self.params.existential_deposit {
                return Err(GenesisError::BelowExistentialDeposit {
                    account: *account,
                    amount: *amount,
                    existential_deposit: self.params.existential_deposit,
                });
            }
        }
        self.issuance()?;
        Ok(())
    }

    /// The genesis total issuance: every endowment plus every authority's bond.
    fn issuance(&self) -> Result<Balance, GenesisError> {
        let bonds = self
            .params
            .min_validator_bond
            .checked_mul(self.authorities.len() as u128);
        self.balances
            .iter()
            .map(|(_, amount)| Some(*amount))
            .chain([bonds])
            .try_fold(0 as Balance, |total, x| total.checked_add(x?))
            .ok_or(GenesisError::IssuanceOverflow)
    }

    /// Validates the configuration and returns the genesis state as writes.
    pub fn build(&self) -> Result<StateChanges, GenesisError> {
        self.validate()?;
        let empty = MemoryState::new();
        let mut changes = StateChanges::new();
        let mut s = Overlay::new(&empty, &mut changes);
        for (account, amount) in &self.balances {
            balances::storage::ACCOUNT.insert(&mut s, account, amount);
        }
        self.write_all_but_balances(&mut s)?;
        drop(s);
        Ok(changes)
    }

    /// The state of [`GenesisConfig::build`], sorted by key hash with its root (what a node
    /// writes). The endowments go straight into the list: through the overlay's map, a million
    /// of them took seconds and ~130 MB more. The configuration is consumed: its endowments are
    /// freed once listed, before the list is hashed, sorted and built into a tree.
    pub fn into_sorted(mut self) -> Result<SortedState, GenesisError> {
        self.validate()?;
        let empty = MemoryState::new();
        let mut rest = StateChanges::new();
        let mut s = Overlay::new(&empty, &mut rest);
        self.write_all_but_balances(&mut s)?;
        drop(s);
        let endowments = std::mem::take(&mut self.balances)
            .into_iter()
            .map(|(account, amount)| (balances::storage::ACCOUNT.key(&account), amount.encode()));
        Ok(SortedState::from_entries(endowments.chain(
            rest.into_iter().filter_map(|(k, v)| Some((k, v?))),
        )))
    }

    /// Everything but the endowments (which touch nothing else).
    fn write_all_but_balances(&self, s: &mut Overlay<'_>) -> Result<(), GenesisError> {
        staking::genesis(s, &self.authorities, self.params.min_validator_bond)
            .map_err(|_| GenesisError::TooManyAuthorities(self.authorities.len()))?;
        balances::storage::TOTAL_ISSUANCE.put(s, &self.issuance()?);
        balances::storage::TREASURY.put(s, &self.treasury);
        balances::storage::FAUCET.put(s, &self.faucet);
        let set = AuthoritySet::try_from_vec(self.authorities.clone())
            .map_err(|e| GenesisError::TooManyAuthorities(e.len))?;
        authority::storage::AUTHORITIES.put(s, &set);
        for c in &self.coordinators {
            receipts::storage::COORDINATORS.insert(s, c, &());
        }
        if let Some(key) = &self.sudo {
            sudo::storage::KEY.put(s, key);
        }
        params::storage::CURRENT.put(s, &self.params);
        system::storage::SLOT_DURATION_MS.put(s, &self.slot_duration_ms);
        system::storage::NUMBER.put(s, &0);
        system::storage::PARENT_HASH.put(s, &Hash::ZERO);
        system::storage::SLOT.put(s, &0);
        Ok(())
    }

    pub fn build_state(&self) -> Result<MemoryState, GenesisError> {
        let changes = self.build()?;
        let mut state = MemoryState::new();
        state
            .apply(&changes)
            .map_err(|e| GenesisError::Commitment(e.0))?;
        Ok(state)
    }
}
