//! # aitbc-name-registry
//!
//! A second state machine for the node, deliberately unlike the AITBC runtime: a first-come
//! registry of names. It exists to prove that the node drives any [`StateMachine`] through its
//! seam: the node's own crates never name it, and the `pluggable` end-to-end test runs it on the
//! real node service (authoring, import, finality, gossip, sync over libp2p, the generic RPC).
//!
//! What differs from AITBC:
//! - **No balances, no fees.** Every transaction is free; an account is only its nonce (the
//!   account view's balance is always 0). Spam is bounded by the pool's limits alone, which is
//!   why this is a demonstration chain and not a product.
//! - **Its own calls** ([`Call`]): `claim`, `set_value`, `transfer`, `release`, and its own
//!   events; its own JSON form (`{"call": "claim", "name": "…"}`).
//! - **Its own invalid-transaction reasons** ([`RegistryError`]), carried to the RPC as
//!   [`InvalidTransaction::Custom`] codes (`name_taken`, `not_owner`, …).
//! - **Its own genesis** ([`Genesis`]): authorities, slot duration and pre-claimed names; no
//!   chain spec file.
//! - **A fixed authority set**: no set changes, so no digest items after genesis.
//!
//! Rules (all checked before dispatch, so an included transaction always succeeds):
//! - a name is 1 to [`MAX_NAME_LEN`] bytes of `a-z`, `0-9` and `-`; a value at most
//!   [`MAX_VALUE_LEN`] bytes;
//! - `claim` needs the name free; `set_value`, `transfer` and `release` need the signer to own
//!   it; `transfer` to the owner itself is refused;
//! - the signer's nonce must be the chain's (future nonces wait in the pool), and
//!   `valid_until`, when set, must not have passed.
//!
//! Deterministic and pure like any state machine here: state is read through [`StateView`] and
//! the block's pending writes; iteration is over `BTreeMap`s only.

mod call;
mod error;
mod genesis;
mod state;

pub use call::{Call, Event};
pub use error::RegistryError;
pub use genesis::{Genesis, GenesisError};
pub use state::{NameRecord, MAX_NAME_LEN, MAX_VALUE_LEN};

use aitbc_primitives::commitment::StateChanges;
use aitbc_primitives::{
    extrinsics_root, AccountId, AccountInfo, Balance, BlockContext, BlockError, BlockLimits,
    Digest, EnvelopeCheck, ExecutedBlock, Extrinsic, Hash, Header, InvalidTransaction,
    PendingBlock, StateMachine, StateView, TxOutcome, ValidTransaction,
};
use state::Reader;

/// At most this many transactions in a block.
pub const MAX_BLOCK_TXS: u32 = 2_000;
/// At most this many bytes of transactions in a block.
pub const MAX_BLOCK_BYTES: u64 = 1024 * 1024;
/// At most this many bytes in one transaction.
pub const MAX_TX_BYTES: u64 = 1024;

/// The name registry state machine for one chain (its genesis hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameRegistry {
    genesis_hash: Hash,
}

impl NameRegistry {
    pub fn new(genesis_hash: Hash) -> Self {
        NameRegistry { genesis_hash }
    }

    /// The checks of the module docs against `r` (the parent's state plus the block so far).
    /// `future_ok`: the pool's view, where a nonce above the chain's waits instead of failing.
    fn check(
        &self,
        r: &Reader<'_>,
        xt: &Extrinsic<Call>,
        number: u64,
        signatures_checked: bool,
        future_ok: bool,
    ) -> Result<u64, InvalidTransaction> {
        let chain_nonce = r.nonce(&xt.signer);
        xt.check_envelope(
            xt.encoded_len(),
            &EnvelopeCheck {
                genesis_hash: self.genesis_hash,
                max_len: MAX_TX_BYTES,
                number,
                chain_nonce,
                signatures_checked,
                future_ok,
            },
        )?;
        // Free transactions: a tip would be a payment from a balance that does not exist.
        if xt.tip != 0 {
            return Err(RegistryError::TipNotAllowed.into());
        }
        if xt.nonce > chain_nonce {
            // The pool's view: valid once the nonces before it are in (nothing else to check).
            return Ok(chain_nonce);
        }
        xt.call.check(r, &xt.signer)?;
        Ok(chain_nonce)
    }
}

impl StateMachine for NameRegistry {
    type Call = Call;
    type Event = Event;

    fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    fn validate_transaction(
        &self,
        state: &dyn StateView,
        xt: &Extrinsic<Call>,
        signatures_checked: bool,
    ) -> Result<ValidTransaction, InvalidTransaction> {
        let empty = StateChanges::new();
        let r = Reader::new(state, &empty);
        let next = r.block_number().saturating_add(1);
        let chain_nonce = self.check(&r, xt, next, signatures_checked, true)?;
        // No fees, no tips: first come, first served.
        Ok(ValidTransaction {
            priority: 0,
            chain_nonce,
        })
    }

    fn initialize_block(
        &self,
        _state: &dyn StateView,
        context: BlockContext,
    ) -> PendingBlock<Event> {
        let mut changes = StateChanges::new();
        state::write_block_number(&mut changes, context.number);
        PendingBlock {
            context,
            changes,
            extrinsic_hashes: Vec::new(),
            outcomes: Vec::new(),
            bytes: 0,
            weight: 0,
            weight_limit: u64::from(MAX_BLOCK_TXS),
        }
    }

    fn apply_extrinsic(
        &self,
        state: &dyn StateView,
        block: &mut PendingBlock<Event>,
        xt: &Extrinsic<Call>,
        signatures_checked: bool,
    ) -> Result<TxOutcome<Event>, InvalidTransaction> {
        let len = xt.encoded_len();
        {
            let r = Reader::new(state, &block.changes);
            self.check(&r, xt, block.context.number, signatures_checked, false)?;
        }
        if block.weight >= block.weight_limit || block.bytes.saturating_add(len) > MAX_BLOCK_BYTES {
            return Err(InvalidTransaction::ExhaustsResources);
        }
        let nonce = Reader::new(state, &block.changes).nonce(&xt.signer);
        state::write_nonce(&mut block.changes, &xt.signer, nonce.saturating_add(1));
        let event = xt.call.apply(state, &mut block.changes, &xt.signer);
        let outcome = TxOutcome {
            success: true,
            error: None,
            fee: 0,
            events: vec![event],
        };
        block.extrinsic_hashes.push(xt.hash());
        block.outcomes.push(outcome.clone());
        block.bytes = block.bytes.saturating_add(len);
        block.weight = block.weight.saturating_add(1);
        Ok(outcome)
    }

    fn finalize_block(
        &self,
        state: &dyn StateView,
        block: PendingBlock<Event>,
    ) -> Result<ExecutedBlock<Event>, BlockError> {
        let commitment = state.commit(&block.changes)?;
        let header = Header {
            parent_hash: block.context.parent_hash,
            number: block.context.number,
            slot: block.context.slot,
            state_root: commitment.root,
            extrinsics_root: extrinsics_root(&block.extrinsic_hashes),
            digest: Digest::new(),
        };
        Ok(ExecutedBlock {
            header,
            changes: block.changes,
            commitment: commitment.into(),
            outcomes: block.outcomes,
        })
    }

    fn check_signatures(&self, xts: &[Extrinsic<Call>]) -> Result<(), (usize, InvalidTransaction)> {
        match Extrinsic::first_bad_signature(xts, self.genesis_hash) {
            None => Ok(()),
            Some(i) => Err((i, InvalidTransaction::BadSignature)),
        }
    }

    fn fee(&self, _state: &dyn StateView, _xt: &Extrinsic<Call>) -> Balance {
        0
    }

    fn account(&self, state: &dyn StateView, who: &AccountId) -> AccountInfo {
        AccountInfo {
            balance: 0,
            nonce: Reader::new(state, &StateChanges::new()).nonce(who),
        }
    }

    fn authorities(&self, state: &dyn StateView) -> Vec<AccountId> {
        state::read_authorities(state)
    }

    fn slot_duration_ms(&self, state: &dyn StateView) -> u64 {
        state::read_slot_duration_ms(state)
    }

    fn block_limits(&self, _state: &dyn StateView) -> BlockLimits {
        BlockLimits {
            max_block_txs: MAX_BLOCK_TXS,
            max_block_bytes: MAX_BLOCK_BYTES,
            max_tx_bytes: MAX_TX_BYTES,
        }
    }

    fn try_state(&self, entries: &mut dyn Iterator<Item = (&[u8], &[u8])>) -> Result<(), String> {
        state::check_all(entries)
    }
}

impl NameRegistry {
    /// Who owns `name` and what it points to, in `state`.
    pub fn name(&self, state: &dyn StateView, name: &str) -> Option<NameRecord> {
        Reader::new(state, &StateChanges::new()).name(name.as_bytes())
    }
}

#[cfg(test)]
mod tests;
