use crate::api::ComputeApi;
use crate::receipts::ClaimError;
use crate::testing::{acc, dev, make_claim, TestChain, ENDOWMENT};
use crate::{Call, Event, Param};
use aitbc_primitives::{InvalidTransaction, JobStatus};

fn open(chain: &mut TestChain, client: &str, job_id: u64, price: u128, lifetime: u64) -> u128 {
    let out = chain
        .submit(
            &dev(client),
            Call::open_job(job_id, acc("coordinator"), price, lifetime),
        )
        .unwrap();
    assert!(out.success, "{out:?}");
    out.fee
}

#[test]
fn open_claim_settles_and_mints() {
    let mut chain = TestChain::dev(false);
    let fee = open(&mut chain, "bob", 1, 5_000, 10);
    assert_eq!(chain.balance(&acc("bob")), ENDOWMENT - 5_000 - fee);
    let job = chain.runtime.job(&chain.state, &acc("bob"), 1).unwrap();
    assert_eq!(
        (job.status, job.price, job.expires_at),
        (JobStatus::Open, 5_000, 11)
    );
    chain.check_issuance().unwrap();

    let ti = chain.total_issuance();
    let claim = make_claim(
        &chain.genesis_hash(),
        &acc("bob"),
        1,
        &dev("miner"),
        &dev("coordinator"),
        7,
        3_000,
    );
    let id = claim.receipt.id();
    // Anyone may submit it (here: dave).
    let out = chain.submit(&dev("dave"), Call::claim(claim)).unwrap();
    assert!(out.success, "{out:?}");
    let mint = 7 * 1000;
    let to_coord = mint * 50_000 / 1_000_000;
    assert_eq!(chain.balance(&acc("miner")), 3_000 + mint);
    assert_eq!(chain.balance(&acc("bob")), ENDOWMENT - 3_000 - fee);
    assert_eq!(chain.balance(&acc("coordinator")), to_coord);
    assert_eq!(chain.total_issuance(), ti + mint + to_coord);
    assert_eq!(
        chain
            .runtime
            .job(&chain.state, &acc("bob"), 1)
            .unwrap()
            .status,
        JobStatus::Claimed
    );
    let info = chain.runtime.receipt(&chain.state, &id).unwrap();
    assert_eq!(
        (
            info.miner,
            info.minted,
            info.block_height,
            info.compute_units
        ),
        (acc("miner"), mint, 2, 7)
    );
    // The event reports the units and every amount the claim moved.
    let expected = Event::Receipts(super::Event::ReceiptClaimed {
        receipt_id: id,
        client: acc("bob"),
        job_id: 1,
        miner: acc("miner"),
        coordinator: acc("coordinator"),
        compute_units: 7,
        paid: 3_000,
        returned: 2_000,
        minted: mint,
        to_coordinator: to_coord,
        to_treasury: 0,
    });
    assert!(out.events.contains(&expected), "{:?}", out.events);
    chain.check_issuance().unwrap();
}

#[test]
fn treasury_share_rounds_down() {
    let mut chain = TestChain::dev(false);
    let set = Call::sudo(Call::set_param(Param::TreasuryRatioPpm(333_333)));
    assert!(chain.submit(&dev("alice"), set).unwrap().success);
    let treasury_before = chain.balance(&acc("treasury"));
    open(&mut chain, "bob", 1, 0, 10);
    let t1 = chain.balance(&acc("treasury"));
    let claim = make_claim(
        &chain.genesis_hash(),
        &acc("bob"),
        1,
        &dev("miner"),
        &dev("coordinator"),
        1,
        0,
    );
    let out = chain.submit(&dev("bob"), Call::claim(claim)).unwrap();
    assert!(out.success);
    let fee_share = out.fee - out.fee / 5;
    // 1000 * 333333 / 1e6 = 333.333 -> 333
    assert_eq!(chain.balance(&acc("treasury")), t1 + fee_share + 333);
    assert!(t1 > treasury_before);
    chain.check_issuance().unwrap();
}

#[test]
fn refund_after_expiry_only() {
    let mut chain = TestChain::dev(false);
    let fee = open(&mut chain, "bob", 9, 1_000, 3); // opened in block 1, expires at 4
    let before = chain.balance(&acc("bob"));
    // Too early: refused before dispatch, so it pays nothing.
    assert_eq!(
        chain.submit(&dev("bob"), Call::refund(9)).unwrap_err(),
        InvalidTransaction::from(ClaimError::NotExpired)
    );
    assert_eq!(chain.balance(&acc("bob")), before);
    chain.advance_to(3);
    let out = chain.submit(&dev("bob"), Call::refund(9)).unwrap(); // block 4 = expires_at
    assert!(out.success, "{out:?}");
    assert_eq!(
        chain
            .runtime
            .job(&chain.state, &acc("bob"), 9)
            .unwrap()
            .status,
        JobStatus::Refunded
    );
    assert_eq!(
        chain.submit(&dev("bob"), Call::refund(9)).unwrap_err(),
        InvalidTransaction::from(ClaimError::AlreadySettled)
    );
    // Another client finds no such job.
    assert_eq!(
        chain.submit(&dev("charlie"), Call::refund(9)).unwrap_err(),
        InvalidTransaction::from(ClaimError::UnknownJob)
    );
    assert_eq!(chain.balance(&acc("bob")), before - out.fee + 1_000);
    assert!(chain.balance(&acc("bob")) >= ENDOWMENT - fee - out.fee - 100);
    chain.check_issuance().unwrap();
}

#[test]
fn open_job_failures() {
    let mut chain = TestChain::dev(false);
    let c = acc("coordinator");
    let out = chain
        .submit(&dev("bob"), Call::open_job(1, acc("nobody"), 1, 10))
        .unwrap();
    assert_eq!(out.error.as_deref(), Some("unknown_coordinator"));
    let out = chain
        .submit(&dev("bob"), Call::open_job(1, c, 1, 0))
        .unwrap();
    assert_eq!(out.error.as_deref(), Some("lifetime_out_of_bounds"));
    let out = chain
        .submit(&dev("bob"), Call::open_job(1, c, 1, 100_001))
        .unwrap();
    assert_eq!(out.error.as_deref(), Some("lifetime_out_of_bounds"));
    let out = chain
        .submit(&dev("bob"), Call::open_job(1, c, ENDOWMENT * 2, 10))
        .unwrap();
    assert_eq!(out.error.as_deref(), Some("insufficient_balance"));
    open(&mut chain, "bob", 1, 1, 10);
    let out = chain
        .submit(&dev("bob"), Call::open_job(1, c, 1, 10))
        .unwrap();
    assert_eq!(out.error.as_deref(), Some("job_exists"));
    // Another client may use the same id.
    open(&mut chain, "charlie", 1, 1, 10);
    chain.check_issuance().unwrap();
}

#[test]
fn mint_cap_resets_each_epoch() {
    let mut chain = TestChain::dev(false);
    let alice = dev("alice");
    for p in [
        Param::EpochLength(5),
        // Each unit issues 1000 to the miner + 50 (5%) to the coordinator.
        Param::CoordinatorMintCapPerEpoch(10_500),
    ] {
        assert!(
            chain
                .submit(&alice, Call::sudo(Call::set_param(p)))
                .unwrap()
                .success
        );
    }
    // Block 3: epoch 0.
    for id in 1..=3 {
        open(&mut chain, "bob", id, 0, 50);
    }
    let g = chain.genesis_hash();
    let claim = |id, units| {
        make_claim(
            &g,
            &acc("bob"),
            id,
            &dev("miner"),
            &dev("coordinator"),
            units,
            0,
        )
    };
    assert!(
        chain
            .submit(&dev("bob"), Call::claim(claim(1, 8)))
            .unwrap()
            .success
    ); // block 6: epoch 1
    let over = chain.submit(&dev("bob"), Call::claim(claim(2, 3)));
    assert_eq!(
        over,
        Err(InvalidTransaction::from(ClaimError::MintCapExceeded))
    );
    assert!(
        chain
            .submit(&dev("bob"), Call::claim(claim(2, 2)))
            .unwrap()
            .success
    ); // exactly the cap
    chain.advance_to(9); // next block is 10: epoch 2
    assert!(
        chain
            .submit(&dev("bob"), Call::claim(claim(3, 10)))
            .unwrap()
            .success
    );
    chain.check_issuance().unwrap();
}

#[test]
fn coordinators_are_root_managed() {
    let mut chain = TestChain::dev(false);
    assert_eq!(
        chain.submit(&dev("bob"), Call::add_coordinator(acc("bob"))),
        Err(InvalidTransaction::BadOrigin)
    );
    let alice = dev("alice");
    let out = chain
        .submit(
            &alice,
            Call::sudo(Call::add_coordinator(acc("coordinator"))),
        )
        .unwrap();
    assert_eq!(out.error.as_deref(), Some("coordinator_exists"));
    let out = chain
        .submit(
            &alice,
            Call::sudo(Call::remove_coordinator(acc("coordinator"))),
        )
        .unwrap();
    assert!(out.success);
    let out = chain
        .submit(&dev("bob"), Call::open_job(1, acc("coordinator"), 1, 10))
        .unwrap();
    assert_eq!(out.error.as_deref(), Some("unknown_coordinator"));
}

#[test]
fn admin_coordinator_actions() {
    use crate::api::{AdminAction, AdminApi, AdminError};
    let mut chain = TestChain::dev(false);
    let coordinator = acc("coordinator");
    let admin = |chain: &TestChain, action| chain.runtime.admin_call(&chain.state, action);
    assert_eq!(
        admin(&chain, AdminAction::AddCoordinator { who: coordinator }),
        Err(AdminError::CoordinatorExists(coordinator))
    );
    assert_eq!(
        admin(&chain, AdminAction::RemoveCoordinator { who: acc("bob") }),
        Err(AdminError::NotACoordinator(acc("bob")))
    );
    let remove = admin(&chain, AdminAction::RemoveCoordinator { who: coordinator }).unwrap();
    assert_eq!(remove, Call::sudo(Call::remove_coordinator(coordinator)));
    open(&mut chain, "bob", 1, 100, 10);
    assert!(chain.submit(&dev("alice"), remove).unwrap().success);
    // A claim attested by the removed coordinator is invalid before dispatch.
    let claim = make_claim(
        &chain.genesis_hash(),
        &acc("bob"),
        1,
        &dev("miner"),
        &dev("coordinator"),
        1,
        100,
    );
    assert_eq!(
        chain.submit(&dev("dave"), Call::claim(claim.clone())),
        Err(InvalidTransaction::from(ClaimError::UnknownCoordinator))
    );
    let add = admin(&chain, AdminAction::AddCoordinator { who: coordinator }).unwrap();
    assert_eq!(add, Call::sudo(Call::add_coordinator(coordinator)));
    assert!(chain.submit(&dev("alice"), add).unwrap().success);
    assert!(
        chain
            .submit(&dev("dave"), Call::claim(claim))
            .unwrap()
            .success
    );
}
