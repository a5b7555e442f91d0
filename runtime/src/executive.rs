//! The executive: the [`Runtime`] that implements [`StateMachine`].
//!
//! ## Lifecycle
//! Building: [`StateMachine::initialize_block`] -> [`StateMachine::apply_extrinsic`]* ->
//! [`StateMachine::finalize_block`]. Importing: the trait's [`StateMachine::execute_block`] runs
//! the same steps and then checks the header's extrinsics root, digest and state root against
//! its own.
//!
//! ## Checks before dispatch (a failure makes the transaction *invalid*: it pays nothing)
//! In this order, by the pool (`validate_transaction`, as if in the next block, number =
//! stored number + 1) and by `apply_extrinsic` (the current block); 1-4 are every chain's
//! envelope checks ([`aitbc_primitives::Extrinsic::check_envelope`]):
//! 1. encoded size `<= max_tx_bytes` (`TooLarge`);
//! 2. the signature over `xt.signing_payload(genesis_hash, TX_VERSION)` (`BadSignature`),
//!    skipped when the caller already verified it. The payload includes the genesis hash and the
//!    transaction version, so a transaction signed for another chain or another transaction
//!    format fails here, as `BadSignature`: the signature does not verify over *our* payload;
//! 3. `valid_until`: invalid once the block number exceeds it (`Expired`);
//! 4. the nonce: below the chain's is `StaleNonce`; above it is fine for the pool (a *future*
//!    transaction, waiting for its predecessors) and `FutureNonce` for a block;
//! 5. origin rules ([`crate::dispatch::check_origin`], `BadOrigin`);
//! 6. the fee, `base_fee + fee_per_byte * encoded_len + weight_fee + tip` (the weight fee is
//!    `call_weight * weight_fee_per_ms / 10^6`, [`crate::weight`]; the sudo key's `sudo.*` calls pay
//!    only their tip), payable from the current balance
//!    (`CannotPayFee`);
//! 7. for a receipt claim, every claim rule ([`crate::receipts::check_claim`], a
//!    [`ClaimError`] carried as `InvalidTransaction::Custom`); for a
//!    refund, that the escrow exists, is open and has expired ([`crate::receipts::check_refund`]);
//!    for a revocation, [`crate::receipts::check_revoke`]; for a staking call (offence reports
//!    included, with their signatures), [`crate::staking::check`] (a
//!    [`crate::staking::StakingError`]; in the pool only once the call's nonce is the chain's:
//!    a `validate` behind a pending `bond` waits for it);
//! 8. in a block only: the block limits `max_block_txs`, `max_block_bytes` and the weight limit
//!    derived from the slot duration ([`crate::weight::max_block_weight`]) (`ExhaustsResources`).
//!
//! ## Applying
//! In an outer layer the fee is withdrawn and split (author / treasury) and the nonce
//! incremented; the call is dispatched in a nested layer that is rolled back if it fails (the
//! fee and nonce stay: a *failed* call). After the checks pass nothing on this path panics: every
//! step is checked arithmetic and returns an error instead.
//!
//! ## Block start and end
//! `initialize_block` records the number, slot and author ([`crate::authority::on_initialize`])
//! and counts the block for its author. `finalize_block` refuses a block whose author was
//! disabled for an offence this epoch, runs the epoch boundary ([`crate::staking::on_finalize`]:
//! `DigestItem::EpochChange`) and root's pending set change (`AuthoritiesChange`, which wins
//! over an election in the same block).
//!
//! ## Pool answer
//! `priority = tip * 1024 / encoded_len` (saturating) and the signer's nonce on chain: the pool
//! orders each sender's transactions by nonce.

use crate::api::{AdminAction, AdminApi, AdminError, ComputeApi, StakingApi};
use crate::dispatch::{check_origin, claims_in, dispatch, Origin};
use crate::params::{Param, Params};
use crate::receipts::ClaimError;
use crate::storage::{with_transaction, Overlay, Storage};
use crate::{authority, balances, params, receipts, staking, sudo, system, weight, Call, Event};
use aitbc_primitives::commitment::StateChanges;
use aitbc_primitives::crypto::{verify_batch, SignatureCheck};
use aitbc_primitives::{
    extrinsics_root, AccountId, AccountInfo, Balance, BlockContext, BlockError, BlockLimits,
    BlockNumber, Digest, DigestItem, EnvelopeCheck, ExecutedBlock, Extrinsic, Hash, Header,
    InvalidTransaction, JobId, JobInfo, Nonce, OffenceProof, PendingBlock, ReceiptInfo,
    SigningContext, StateMachine, StateView, TxOutcome, ValidTransaction, TX_VERSION,
};

/// The AITBC runtime for one chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runtime {
    genesis_hash: Hash,
}

/// Where a transaction is being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// For the pool: a future nonce is allowed.
    Pool,
    /// For a block: the nonce must be the chain's.
    Block,
}

/// What the pre-dispatch checks found out.
#[derive(Debug, Clone, Copy)]
struct Checked {
    fee: Balance,
    chain_nonce: Nonce,
}

/// The fee of a transaction of `len` encoded bytes:
/// `base_fee + fee_per_byte * len + call_weight * weight_fee_per_ms / 10^6 + tip`.
///
/// `sudo.*` calls, which only the sudo key may make (checked before the fee), pay just their
/// tip: whatever root sets the fees to, root can still send the transaction that sets them back.
pub fn compute_fee(params: &Params, call: &Call, len: u64, tip: Balance) -> Balance {
    if matches!(call, Call::Sudo(_)) {
        return tip;
    }
    params
        .base_fee
        .saturating_add(params.fee_per_byte.saturating_mul(Balance::from(len)))
        .saturating_add(
            params
                .weight_fee_per_ms
                .saturating_mul(Balance::from(weight::call_weight(call)))
                / 1_000_000,
        )
        .saturating_add(tip)
}

impl Runtime {
    pub fn new(genesis_hash: Hash) -> Self {
        Runtime { genesis_hash }
    }

    /// The checks of the module docs (1–7) against the state of block `number`.
    fn pre_dispatch<S: Storage>(
        &self,
        s: &S,
        xt: &Extrinsic<Call>,
        len: u64,
        number: BlockNumber,
        signatures_checked: bool,
        mode: Mode,
    ) -> Result<Checked, InvalidTransaction> {
        let p = params::current(s);
        let chain_nonce = system::nonce(s, &xt.signer);
        xt.check_envelope(
            len,
            &EnvelopeCheck {
                genesis_hash: self.genesis_hash,
                max_len: p.max_tx_bytes,
                number,
                chain_nonce,
                signatures_checked,
                future_ok: mode == Mode::Pool,
            },
        )?;
        check_origin(&xt.call, &Origin::Signed(xt.signer), sudo::key(s).as_ref())?;
        let fee = compute_fee(&p, &xt.call, len, xt.tip);
        if !balances::can_pay(s, &xt.signer, fee) {
            return Err(InvalidTransaction::CannotPayFee { fee });
        }
        for claim in claims_in(&xt.call) {
            receipts::check_claim(s, claim, number, &self.genesis_hash, signatures_checked)
                .map_err(InvalidTransaction::from)?;
        }
        match &xt.call {
            Call::Receipts(receipts::Call::Refund { job_id }) => {
                receipts::check_refund(s, &xt.signer, *job_id, number)
                    .map_err(InvalidTransaction::from)?;
            }
            Call::Receipts(receipts::Call::Revoke { receipt_id }) => {
                receipts::check_revoke(s, &xt.signer, receipt_id, number)
                    .map_err(InvalidTransaction::from)?;
            }
            // A staking call waiting behind the signer's earlier transactions (a `validate`
            // after a `bond` still in the pool) is checked when its turn comes, not against a
            // state those transactions have not changed yet.
            Call::Staking(_) if mode == Mode::Pool && xt.nonce > chain_nonce => {}
            Call::Staking(call) => {
                staking::check(s, &xt.signer, call, fee, &self.genesis_hash)
                    .map_err(InvalidTransaction::from)?;
            }
            _ => {}
        }
        Ok(Checked { fee, chain_nonce })
    }

    /// Charges the fee, bumps the nonce and dispatches. The caller opened no layer; this opens
    /// the outer one and always closes it.
    fn apply_checked(
        &self,
        s: &mut Overlay<'_>,
        xt: &Extrinsic<Call>,
        fee: Balance,
    ) -> Result<TxOutcome<Event>, InvalidTransaction> {
        s.start_transaction();
        let author = authority::current_author(s);
        let fee_event = match balances::charge_fee(s, &xt.signer, fee, author.as_ref()) {
            Ok(e) => e,
            Err(_) => {
                s.rollback_transaction();
                return Err(InvalidTransaction::CannotPayFee { fee });
            }
        };
        system::inc_nonce(s, &xt.signer);
        let mut call_events = Vec::new();
        let result = with_transaction(s, |s| {
            dispatch(
                s,
                &mut call_events,
                &xt.call,
                Origin::Signed(xt.signer),
                &self.genesis_hash,
            )
        });
        s.commit_transaction();
        let mut events = vec![fee_event];
        let (success, error) = match result {
            Ok(()) => {
                events.extend(call_events);
                (true, None)
            }
            Err(e) => (false, Some(e.code().to_string())),
        };
        Ok(TxOutcome {
            success,
            error,
            fee,
            events,
        })
    }

    /// The messages a transaction's signatures cover: its signing payload, then one receipt
    /// message per claim it carries (the miner's signature and the attestation both cover it).
    fn signed_messages(&self, xt: &Extrinsic<Call>) -> Vec<Vec<u8>> {
        let mut messages = vec![xt.signing_payload(self.genesis_hash, TX_VERSION)];
        for claim in claims_in(&xt.call) {
            messages.push(claim.receipt.signed_message(&self.genesis_hash));
        }
        messages
    }
}

impl StateMachine for Runtime {
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
        let mut scratch = StateChanges::new();
        let s = Overlay::new(state, &mut scratch);
        let current = system::block_number(&s);
        let len = xt.encoded_len();
        let checked = self.pre_dispatch(
            &s,
            xt,
            len,
            current.saturating_add(1),
            signatures_checked,
            Mode::Pool,
        )?;
        let priority = xt.tip.saturating_mul(1024) / Balance::from(len.max(1));
        Ok(ValidTransaction {
            priority: u64::try_from(priority).unwrap_or(u64::MAX),
            chain_nonce: checked.chain_nonce,
        })
    }

    fn initialize_block(
        &self,
        state: &dyn StateView,
        context: BlockContext,
    ) -> PendingBlock<Event> {
        let mut changes = StateChanges::new();
        {
            let mut s = Overlay::new(state, &mut changes);
            system::initialize(&mut s, &context);
            if let Some(author) = authority::on_initialize(&mut s) {
                staking::note_author(&mut s, &author);
            }
        }
        PendingBlock {
            context,
            changes,
            extrinsic_hashes: Vec::new(),
            outcomes: Vec::new(),
            bytes: 0,
            weight: 0,
            weight_limit: weight::max_block_weight(system::read_slot_duration_ms(state)),
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
        let PendingBlock {
            context,
            changes,
            extrinsic_hashes,
            outcomes,
            bytes,
            weight,
            weight_limit,
        } = block;
        let mut s = Overlay::new(state, changes);
        let checked =
            self.pre_dispatch(&s, xt, len, context.number, signatures_checked, Mode::Block)?;
        let p = params::current(&s);
        let txs = u64::try_from(outcomes.len()).unwrap_or(u64::MAX);
        let new_weight = weight.saturating_add(weight::call_weight(&xt.call));
        if txs >= u64::from(p.max_block_txs)
            || bytes.saturating_add(len) > p.max_block_bytes
            || new_weight > *weight_limit
        {
            return Err(InvalidTransaction::ExhaustsResources);
        }
        let outcome = self.apply_checked(&mut s, xt, checked.fee)?;
        drop(s);
        extrinsic_hashes.push(xt.hash());
        outcomes.push(outcome.clone());
        *bytes = bytes.saturating_add(len);
        *weight = new_weight;
        Ok(outcome)
    }

    fn finalize_block(
        &self,
        state: &dyn StateView,
        block: PendingBlock<Event>,
    ) -> Result<ExecutedBlock<Event>, BlockError> {
        let PendingBlock {
            context,
            mut changes,
            extrinsic_hashes,
            outcomes,
            ..
        } = block;
        let item = {
            let mut s = Overlay::new(state, &mut changes);
            let author = authority::current_author(&s);
            if let Some(author) = author.and_then(|a| staking::disabled_at_start(state, a)) {
                return Err(BlockError::Refused(format!(
                    "author {author} is disabled for an offence until the epoch ends"
                )));
            }
            let epoch = staking::on_finalize(&mut s, context.number);
            match (authority::on_finalize(&mut s), epoch) {
                (Some((set, true)), _) => Some(DigestItem::ForcedAuthoritiesChange(set)),
                (Some((set, false)), _) => Some(DigestItem::AuthoritiesChange(set)),
                (None, Some(change)) => Some(DigestItem::EpochChange(change)),
                (None, None) => None,
            }
        };
        let mut digest = Digest::new();
        if let Some(item) = item {
            digest
                .try_push(item)
                .map_err(|e| BlockError::TooBig(e.to_string()))?;
        }
        let commitment = state.commit(&changes)?;
        let header = Header {
            parent_hash: context.parent_hash,
            number: context.number,
            slot: context.slot,
            state_root: commitment.root,
            extrinsics_root: extrinsics_root(&extrinsic_hashes),
            digest,
        };
        Ok(ExecutedBlock {
            header,
            changes,
            commitment: commitment.into(),
            outcomes,
        })
    }

    fn check_signatures(&self, xts: &[Extrinsic<Call>]) -> Result<(), (usize, InvalidTransaction)> {
        // One message per signature group: the tx payload, then one receipt message per claim
        // (the miner's signature and the attestation both cover it).
        let messages: Vec<Vec<Vec<u8>>> = xts.iter().map(|xt| self.signed_messages(xt)).collect();
        let mut checks = Vec::new();
        for (xt, msgs) in xts.iter().zip(&messages) {
            let mut msgs = msgs.iter();
            if let Some(payload) = msgs.next() {
                checks.push(SignatureCheck {
                    context: SigningContext::Transaction,
                    message: payload,
                    signer: xt.signer,
                    signature: xt.signature,
                });
            }
            for (claim, msg) in claims_in(&xt.call).into_iter().zip(msgs) {
                checks.push(SignatureCheck {
                    context: SigningContext::ReceiptMiner,
                    message: msg,
                    signer: claim.receipt.miner,
                    signature: claim.miner_sig,
                });
                checks.push(SignatureCheck {
                    context: SigningContext::ReceiptAttest,
                    message: msg,
                    signer: claim.receipt.coordinator,
                    signature: claim.attestation,
                });
            }
        }
        if verify_batch(&checks) {
            return Ok(());
        }
        for (index, (xt, msgs)) in xts.iter().zip(&messages).enumerate() {
            let mut msgs = msgs.iter();
            if let Some(payload) = msgs.next() {
                if !xt
                    .signature
                    .verify(SigningContext::Transaction, payload, &xt.signer)
                {
                    return Err((index, InvalidTransaction::BadSignature));
                }
            }
            for (claim, msg) in claims_in(&xt.call).into_iter().zip(msgs) {
                if !claim
                    .miner_sig
                    .verify(SigningContext::ReceiptMiner, msg, &claim.receipt.miner)
                {
                    return Err((index, ClaimError::BadMinerSignature.into()));
                }
                if !claim.attestation.verify(
                    SigningContext::ReceiptAttest,
                    msg,
                    &claim.receipt.coordinator,
                ) {
                    return Err((index, ClaimError::BadAttestation.into()));
                }
            }
        }
        // The batch failed but every signature verifies alone: cannot happen with a correct
        // batch verifier; refuse the first transaction rather than accept.
        Err((0, InvalidTransaction::BadSignature))
    }

    fn fee(&self, state: &dyn StateView, xt: &Extrinsic<Call>) -> Balance {
        compute_fee(&params::read(state), &xt.call, xt.encoded_len(), xt.tip)
    }

    fn account(&self, state: &dyn StateView, who: &AccountId) -> AccountInfo {
        AccountInfo {
            balance: balances::read_balance(state, who),
            nonce: system::read_nonce(state, who),
        }
    }

    fn authorities(&self, state: &dyn StateView) -> Vec<AccountId> {
        authority::read_authorities(state)
    }

    fn author_schedule(&self, state: &dyn StateView) -> aitbc_primitives::AuthorSchedule {
        authority::read_schedule(state)
    }

    fn report_offence(&self, proof: OffenceProof) -> Option<Call> {
        Some(Call::Staking(staking::Call::Report { proof }))
    }

    // Counted from each block as it is imported (a block executed again after a reorg counts
    // again): the rate of the chain's activity, not its totals (those are the indexer's).
    const COUNTERS: &'static [(&'static str, &'static str)] = &[
        (
            "aitbc_receipts_claimed_total",
            "Compute receipts claimed in imported blocks",
        ),
        (
            "aitbc_compute_units_total",
            "Compute units settled by claims in imported blocks",
        ),
        (
            "aitbc_minted_total",
            "AIT base units minted to miners in imported blocks",
        ),
        (
            "aitbc_escrow_paid_total",
            "AIT base units paid to miners from escrows in imported blocks",
        ),
        (
            "aitbc_offences_total",
            "Offences punished (slashes) in imported blocks",
        ),
        (
            "aitbc_slashed_total",
            "AIT base units slashed from offenders in imported blocks",
        ),
    ];

    fn count_events(&self, events: &mut dyn Iterator<Item = &Event>, counters: &mut [u128]) {
        for event in events {
            match event {
                Event::Receipts(receipts::Event::ReceiptClaimed {
                    compute_units,
                    paid,
                    minted,
                    ..
                }) => {
                    counters[0] += 1;
                    counters[1] += u128::from(*compute_units);
                    counters[2] += minted;
                    counters[3] += paid;
                }
                Event::Staking(staking::Event::Slashed { amount, .. }) => {
                    counters[4] += 1;
                    counters[5] += amount;
                }
                _ => {}
            }
        }
    }

    fn slot_duration_ms(&self, state: &dyn StateView) -> u64 {
        system::read_slot_duration_ms(state)
    }

    fn block_limits(&self, state: &dyn StateView) -> BlockLimits {
        let p = params::read(state);
        BlockLimits {
            max_block_txs: p.max_block_txs,
            max_block_bytes: p.max_block_bytes,
            max_tx_bytes: p.max_tx_bytes,
        }
    }

    fn try_state(&self, entries: &mut dyn Iterator<Item = (&[u8], &[u8])>) -> Result<(), String> {
        crate::invariants::check_issuance(entries)
    }
}

impl ComputeApi for Runtime {
    fn job(&self, state: &dyn StateView, client: &AccountId, job_id: JobId) -> Option<JobInfo> {
        receipts::read_job(state, client, job_id)
    }

    fn receipt(&self, state: &dyn StateView, receipt_id: &Hash) -> Option<ReceiptInfo> {
        receipts::read_receipt(state, receipt_id)
    }

    fn claimed_receipt(&self, call: &Call) -> Option<Hash> {
        claims_in(call).first().map(|c| c.receipt.id())
    }
}

impl StakingApi for Runtime {
    fn validators(&self, state: &dyn StateView) -> staking::ValidatorsInfo {
        staking::read_validators(state)
    }

    fn staking(&self, state: &dyn StateView, who: &AccountId) -> staking::StakingInfo {
        staking::read_staking(state, who)
    }

    fn offences(&self, state: &dyn StateView) -> Vec<staking::OffenceRecord> {
        staking::read_offences(state)
    }
}

impl AdminApi for Runtime {
    fn sudo_key(&self, state: &dyn StateView) -> Option<AccountId> {
        sudo::read_key(state)
    }

    fn params(&self, state: &dyn StateView) -> Vec<(String, String)> {
        params::read(state).to_pairs()
    }

    fn admin_call(&self, state: &dyn StateView, action: AdminAction) -> Result<Call, AdminError> {
        if sudo::read_key(state).is_none() {
            return Err(AdminError::NoSudo);
        }
        let inner = match action {
            AdminAction::MintFaucet { dest, amount } => {
                if !balances::read_faucet_enabled(state) {
                    return Err(AdminError::FaucetDisabled);
                }
                Call::mint(dest, amount)
            }
            AdminAction::ParamSet { key, value } => {
                let param = Param::parse(&key, &value).map_err(|e| match e {
                    crate::params::ParamParseError::UnknownParam(k) => AdminError::UnknownParam(k),
                    crate::params::ParamParseError::BadValue { key, reason } => {
                        AdminError::BadParamValue { key, reason }
                    }
                })?;
                params::read(state)
                    .with(&param)
                    .map_err(|e| AdminError::BadParamValue {
                        key: key.clone(),
                        reason: e.to_string(),
                    })?;
                Call::set_param(param)
            }
            // Checked here too, so the operator gets an answer instead of a failed call.
            AdminAction::AddCoordinator { who } => {
                if receipts::read_is_coordinator(state, &who) {
                    return Err(AdminError::CoordinatorExists(who));
                }
                Call::add_coordinator(who)
            }
            AdminAction::RemoveCoordinator { who } => {
                if !receipts::read_is_coordinator(state, &who) {
                    return Err(AdminError::NotACoordinator(who));
                }
                Call::remove_coordinator(who)
            }
        };
        Ok(Call::sudo(inner))
    }
}
