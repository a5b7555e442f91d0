//! Bad input: each case asserts its own specific error, and that invalid transactions change
//! nothing (the harness also asserts the pending block is untouched).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{
    Extrinsic, Hash, InvalidTransaction, ReceiptClaim, Signature, StateMachine, TX_VERSION,
};
use aitbc_runtime::receipts::ClaimError;
use aitbc_runtime::testing::{acc, dev, make_claim, TestChain};
use aitbc_runtime::{AdminApi, ComputeApi};
use aitbc_runtime::{Call, Param};

fn claim_err(
    e: ClaimError,
) -> Result<aitbc_primitives::TxOutcome<aitbc_runtime::Event>, InvalidTransaction> {
    Err(InvalidTransaction::from(e))
}

/// A chain where bob has escrowed job 1 (price 1000, lifetime 10, opened in block 1).
fn with_job() -> TestChain {
    let mut chain = TestChain::dev(false);
    let out = chain
        .submit(
            &dev("bob"),
            Call::open_job(1, acc("coordinator"), 1_000, 10),
        )
        .unwrap();
    assert!(out.success);
    chain
}

fn claim(chain: &TestChain, units: u64, price: u128) -> ReceiptClaim {
    make_claim(
        &chain.genesis_hash(),
        &acc("bob"),
        1,
        &dev("miner"),
        &dev("coordinator"),
        units,
        price,
    )
}

/// Submits an invalid transaction and checks that the state did not change at all.
fn submit_invalid(chain: &mut TestChain, xt: Extrinsic<Call>) -> InvalidTransaction {
    let pool = chain.validate(&xt);
    let mut probe = chain.clone();
    let before = probe.state.values().clone();
    let r = probe.apply_one(xt);
    let err = r.expect_err("expected an invalid transaction");
    // Only the block bookkeeping (number, parent, slot, author and its count) changed.
    let bookkeeping = [
        ("System", "Number"),
        ("System", "ParentHash"),
        ("System", "Slot"),
        ("Authority", "Author"),
        ("Staking", "Epoch"),
    ]
    .map(|(m, i)| aitbc_runtime::storage::item_prefix(m, i));
    let sys = |s: &std::collections::BTreeMap<Vec<u8>, Vec<u8>>| {
        s.iter()
            .filter(|(k, _)| !bookkeeping.iter().any(|p| k.starts_with(p)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(sys(&before), sys(probe.state.values()));
    // The pool agrees (except for nonce-from-the-future and block limits, block-only rules).
    if !matches!(err, InvalidTransaction::FutureNonce { .. }) {
        assert_eq!(pool.as_ref().err(), Some(&err), "pool and block disagree");
    }
    *chain = probe;
    err
}

#[test]
fn wrong_signature() {
    let mut chain = TestChain::dev(false);
    let mut xt = chain.sign(&dev("bob"), Call::transfer(acc("eve"), 5));
    xt.signer = acc("charlie");
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::BadSignature
    );
}

/// The signature covers the genesis hash and the transaction version (the signing payload is
/// SCALE(call, nonce, tip, valid_until, genesis_hash, tx_version)), so a transaction signed for
/// another chain or format does not verify here: `BadSignature`, not a separate error, because
/// the runtime cannot tell what the signer meant, only that the signature is not over our
/// payload.
#[test]
fn signed_for_another_chain_or_tx_version() {
    let mut chain = TestChain::dev(false);
    let bob = dev("bob");
    let call = Call::transfer(acc("eve"), 5);
    let other_chain = Extrinsic::sign(
        &bob,
        call.clone(),
        TxParams::default(),
        Hash::of(b"other genesis"),
    );
    assert_eq!(
        submit_invalid(&mut chain, other_chain),
        InvalidTransaction::BadSignature
    );
    let payload = aitbc_primitives::extrinsic::signing_payload(
        &call,
        &TxParams::default(),
        chain.genesis_hash(),
        TX_VERSION + 1,
    );
    let mut other_version = chain.sign(&bob, call);
    other_version.signature = bob.sign(aitbc_primitives::SigningContext::Transaction, &payload);
    assert_eq!(
        submit_invalid(&mut chain, other_version),
        InvalidTransaction::BadSignature
    );
}

#[test]
fn expired_valid_until() {
    let mut chain = TestChain::dev(false);
    chain.advance_to(3);
    let xt = chain.sign_with(
        &dev("bob"),
        Call::transfer(acc("eve"), 5),
        TxParams {
            valid_until: Some(3),
            ..Default::default()
        },
    );
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::Expired { valid_until: 3 }
    );
    // valid_until = the next block is still fine.
    let next = chain.number() + 1;
    let xt = chain.sign_with(
        &dev("bob"),
        Call::transfer(acc("eve"), 5),
        TxParams {
            valid_until: Some(next),
            ..Default::default()
        },
    );
    assert!(chain.apply_one(xt).unwrap().success);
}

#[test]
fn stale_and_future_nonce() {
    let mut chain = TestChain::dev(false);
    assert!(
        chain
            .submit(&dev("bob"), Call::transfer(acc("eve"), 5))
            .unwrap()
            .success
    );
    let stale = chain.sign_with(
        &dev("bob"),
        Call::transfer(acc("eve"), 5),
        TxParams {
            nonce: 0,
            ..Default::default()
        },
    );
    assert_eq!(
        submit_invalid(&mut chain, stale),
        InvalidTransaction::StaleNonce {
            expected: 1,
            got: 0
        }
    );
    let future = chain.sign_with(
        &dev("bob"),
        Call::transfer(acc("eve"), 5),
        TxParams {
            nonce: 5,
            ..Default::default()
        },
    );
    assert!(
        chain.validate(&future).is_ok(),
        "the pool keeps future transactions"
    );
    assert_eq!(
        submit_invalid(&mut chain, future),
        InvalidTransaction::FutureNonce {
            expected: 1,
            got: 5
        }
    );
}

#[test]
fn unpayable_fee() {
    let mut chain = TestChain::dev(false);
    let xt = chain.sign(&dev("pauper"), Call::transfer(acc("eve"), 0));
    let fee = chain.runtime.fee(&chain.state, &xt);
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::CannotPayFee { fee }
    );
    // A tip beyond the balance, too.
    let xt = chain.sign_with(
        &dev("bob"),
        Call::transfer(acc("eve"), 1),
        TxParams {
            tip: u128::MAX,
            ..Default::default()
        },
    );
    assert!(matches!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::CannotPayFee { .. }
    ));
}

#[test]
fn too_large() {
    let mut chain = TestChain::dev(false);
    let set = Call::sudo(Call::set_param(Param::MaxTxBytes(256)));
    assert!(chain.submit(&dev("alice"), set).unwrap().success);
    let xt = chain.sign(&dev("bob"), Call::claim(claim(&chain, 1, 1)));
    assert!(matches!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::TooLarge { limit: 256, .. }
    ));
}

#[test]
fn amount_overflow() {
    let mut chain = TestChain::dev(true);
    let out = chain
        .submit(
            &dev("alice"),
            Call::sudo(Call::mint(acc("bob"), u128::MAX - 10)),
        )
        .unwrap();
    assert!(!out.success);
    assert_eq!(out.error.as_deref(), Some("amount_overflow"));
    chain.check_issuance().unwrap();
}

#[test]
fn transfer_below_existential_deposit() {
    let mut chain = TestChain::dev(false);
    let set = Call::sudo(Call::set_param(Param::ExistentialDeposit(100)));
    assert!(chain.submit(&dev("alice"), set).unwrap().success);
    let out = chain
        .submit(&dev("bob"), Call::transfer(acc("newcomer"), 99))
        .unwrap();
    assert_eq!(out.error.as_deref(), Some("below_existential_deposit"));
    assert_eq!(chain.balance(&acc("newcomer")), 0);
}

#[test]
fn unknown_or_removed_coordinator() {
    let mut chain = with_job();
    let remove = Call::sudo(Call::remove_coordinator(acc("coordinator")));
    assert!(chain.submit(&dev("alice"), remove).unwrap().success);
    let xt = chain.sign(&dev("dave"), Call::claim(claim(&chain, 1, 1)));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::UnknownCoordinator)
    );
    // Opening a job with an unknown coordinator fails at dispatch.
    let out = chain
        .submit(&dev("bob"), Call::open_job(2, acc("stranger"), 1, 10))
        .unwrap();
    assert_eq!(out.error.as_deref(), Some("unknown_coordinator"));
}

#[test]
fn attestation_by_another_coordinator() {
    let mut chain = with_job();
    let add = Call::sudo(Call::add_coordinator(acc("coordinator2")));
    assert!(chain.submit(&dev("alice"), add).unwrap().success);
    let c = make_claim(
        &chain.genesis_hash(),
        &acc("bob"),
        1,
        &dev("miner"),
        &dev("coordinator2"),
        1,
        1,
    );
    let xt = chain.sign(&dev("dave"), Call::claim(c));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::WrongCoordinator)
    );
}

#[test]
fn forged_attestation_and_miner_signature() {
    let mut chain = with_job();
    let mut c = claim(&chain, 1, 1);
    c.attestation = c.receipt.attest(&dev("mallory"), &chain.genesis_hash());
    let xt = chain.sign(&dev("dave"), Call::claim(c));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::BadAttestation)
    );
    let mut c = claim(&chain, 1, 1);
    c.miner_sig = Signature([1; 64]);
    let xt = chain.sign(&dev("dave"), Call::claim(c));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::BadMinerSignature)
    );
    // The miner signed a different price than the one claimed.
    let mut c = claim(&chain, 1, 1);
    c.receipt.price = 2;
    c.attestation = c.receipt.attest(&dev("coordinator"), &chain.genesis_hash());
    let xt = chain.sign(&dev("dave"), Call::claim(c));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::BadMinerSignature)
    );
}

#[test]
fn receipt_signed_for_another_chain() {
    let mut chain = with_job();
    let c = make_claim(
        &Hash::of(b"other chain"),
        &acc("bob"),
        1,
        &dev("miner"),
        &dev("coordinator"),
        1,
        1,
    );
    let xt = chain.sign(&dev("dave"), Call::claim(c));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::BadMinerSignature)
    );
}

#[test]
fn miner_is_client() {
    let mut chain = with_job();
    let c = make_claim(
        &chain.genesis_hash(),
        &acc("bob"),
        1,
        &dev("bob"),
        &dev("coordinator"),
        1,
        1,
    );
    let xt = chain.sign(&dev("bob"), Call::claim(c));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::MinerIsClient)
    );
}

#[test]
fn claim_at_or_after_expiry() {
    let mut chain = with_job(); // expires at 11
    chain.advance_to(10); // next block is 11
    let xt = chain.sign(&dev("dave"), Call::claim(claim(&chain, 1, 1)));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::JobExpired)
    );
}

#[test]
fn claim_just_before_expiry_is_valid() {
    let mut chain = with_job();
    chain.advance_to(9); // next block is 10 < 11
    let out = chain
        .submit(&dev("dave"), Call::claim(claim(&chain, 1, 1)))
        .unwrap();
    assert!(out.success);
}

#[test]
fn refund_before_expiry() {
    let mut chain = with_job();
    let xt = chain.sign(&dev("bob"), Call::refund(1));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::NotExpired)
    );
    // Another client's escrow: not found under its key.
    let xt = chain.sign(&dev("charlie"), Call::refund(1));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::UnknownJob)
    );
    assert_eq!(
        chain
            .runtime
            .job(&chain.state, &acc("bob"), 1)
            .unwrap()
            .status,
        aitbc_primitives::JobStatus::Open
    );
}

#[test]
fn double_claim() {
    let mut chain = with_job();
    let c = claim(&chain, 1, 1);
    assert!(
        chain
            .submit(&dev("dave"), Call::claim(c.clone()))
            .unwrap()
            .success
    );
    let xt = chain.sign(&dev("dave"), Call::claim(c));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::AlreadySettled)
    );
    // A different receipt for the same escrow, too.
    let xt = chain.sign(&dev("dave"), Call::claim(claim(&chain, 2, 1)));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::AlreadySettled)
    );
    // Two claims of one escrow in one block: the second is invalid in that block.
    let mut chain = with_job();
    let xts = [
        chain.sign(&dev("dave"), Call::claim(claim(&chain, 1, 1))),
        chain.sign(&dev("charlie"), Call::claim(claim(&chain, 3, 1))),
    ];
    let built = chain.build_block(&xts);
    assert!(built.results[0].as_ref().unwrap().success);
    assert_eq!(built.results[1], claim_err(ClaimError::AlreadySettled));
}

#[test]
fn unknown_job() {
    let mut chain = TestChain::dev(false);
    let xt = chain.sign(&dev("dave"), Call::claim(claim(&chain, 1, 1)));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::UnknownJob)
    );
}

#[test]
fn units_over_the_cap() {
    let mut chain = with_job();
    let xt = chain.sign(&dev("dave"), Call::claim(claim(&chain, 1_000_001, 1)));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::TooManyUnits)
    );
}

#[test]
fn price_above_escrow() {
    let mut chain = with_job();
    let xt = chain.sign(&dev("dave"), Call::claim(claim(&chain, 1, 1_001)));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::PriceAboveEscrow)
    );
}

#[test]
fn coordinator_over_epoch_cap() {
    let mut chain = with_job();
    let set = Call::sudo(Call::set_param(Param::CoordinatorMintCapPerEpoch(999)));
    assert!(chain.submit(&dev("alice"), set).unwrap().success);
    let xt = chain.sign(&dev("dave"), Call::claim(claim(&chain, 1, 1))); // mints 1000
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::MintCapExceeded)
    );
}

#[test]
fn mint_on_a_chain_without_faucet() {
    let mut chain = TestChain::dev(false);
    let ti = chain.total_issuance();
    let out = chain
        .submit(&dev("alice"), Call::sudo(Call::mint(acc("eve"), 5)))
        .unwrap();
    assert!(!out.success);
    assert_eq!(out.error.as_deref(), Some("faucet_disabled"));
    assert_eq!(chain.total_issuance(), ti);
    assert_eq!(
        chain.runtime.admin_call(
            &chain.state,
            aitbc_runtime::AdminAction::MintFaucet {
                dest: acc("eve"),
                amount: 5
            }
        ),
        Err(aitbc_runtime::AdminError::FaucetDisabled)
    );
}

#[test]
fn non_root_param_set() {
    let mut chain = TestChain::dev(false);
    let xt = chain.sign(&dev("bob"), Call::set_param(Param::BaseFee(0)));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::BadOrigin
    );
    let xt = chain.sign(&dev("bob"), Call::sudo(Call::set_param(Param::BaseFee(0))));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::BadOrigin
    );
    let xt = chain.sign(&dev("bob"), Call::sudo(Call::mint(acc("bob"), 1)));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::BadOrigin
    );
}

#[test]
fn param_value_out_of_bounds() {
    let mut chain = TestChain::dev(false);
    let before = chain.runtime.params(&chain.state);
    let out = chain
        .submit(
            &dev("alice"),
            Call::sudo(Call::set_param(Param::CoordinatorRatioPpm(2_000_000))),
        )
        .unwrap();
    assert!(!out.success);
    assert_eq!(out.error.as_deref(), Some("param_out_of_bounds"));
    assert_eq!(chain.runtime.params(&chain.state), before);
}

#[test]
fn failed_call_pays_fee_and_changes_nothing_else() {
    let mut chain = with_job();
    let before = chain.clone();
    let out = chain
        .submit(
            &dev("charlie"),
            Call::open_job(1, acc("coordinator"), 10, 0),
        )
        .unwrap();
    assert_eq!(out.error.as_deref(), Some("lifetime_out_of_bounds"));
    assert_eq!(
        chain.balance(&acc("charlie")),
        before.balance(&acc("charlie")) - out.fee
    );
    assert_eq!(chain.nonce(&acc("charlie")), 1);
    assert!(chain
        .runtime
        .job(&chain.state, &acc("charlie"), 1)
        .is_none());
    chain.check_issuance().unwrap();
}

#[test]
fn claim_that_would_overflow_the_total_issuance() {
    let mut chain = TestChain::dev(true);
    let opened = chain.submit(
        &dev("bob"),
        Call::open_job(1, acc("coordinator"), 1_000, 10),
    );
    assert!(opened.unwrap().success);
    // The faucet mints almost everything a u128 holds (fees of the next transactions included).
    let room = u128::MAX - chain.total_issuance() - 1_000;
    let minted = chain.submit(&dev("alice"), Call::sudo(Call::mint(acc("eve"), room)));
    assert!(minted.unwrap().success);
    // 1 unit mints 1000 + 5% to the coordinator: more than is left. Refused before dispatch.
    let xt = chain.sign(&dev("dave"), Call::claim(claim(&chain, 1, 1)));
    assert_eq!(
        submit_invalid(&mut chain, xt),
        InvalidTransaction::from(ClaimError::IssuanceOverflow)
    );
}

#[test]
fn fees_set_too_high_lock_out_users_but_not_root() {
    let mut chain = TestChain::dev(false);
    let huge = Call::sudo(Call::set_param(Param::BaseFee(10u128.pow(24))));
    assert!(chain.submit(&dev("alice"), huge).unwrap().success);
    let transfer = chain.sign(&dev("bob"), Call::transfer(acc("eve"), 1));
    assert!(matches!(
        submit_invalid(&mut chain, transfer),
        InvalidTransaction::CannotPayFee { .. }
    ));
    // Root's own calls pay only their tip, so root can always undo it.
    let alice_before = chain.balance(&acc("alice"));
    let fix = Call::sudo(Call::set_param(Param::BaseFee(10)));
    let out = chain.submit(&dev("alice"), fix).unwrap();
    assert!(out.success);
    assert_eq!(out.fee, 0);
    assert!(chain.balance(&acc("alice")) >= alice_before);
    assert!(
        chain
            .submit(&dev("bob"), Call::transfer(acc("eve"), 1))
            .unwrap()
            .success
    );
}
