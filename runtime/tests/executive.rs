//! Block building vs import, tampered blocks, pool answers and batch signature checks.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{BlockError, Extrinsic, Hash, InvalidTransaction, Signature, StateMachine};
use aitbc_runtime::receipts::ClaimError;
use aitbc_runtime::testing::{acc, dev, make_claim, Built, TestChain};
use aitbc_runtime::Call;

/// A chain after setup blocks, and a busy block built on it: transfers, a faucet mint via
/// sudo, open_job, two claims, a refund and a failed call.
fn busy_block() -> (TestChain, TestChain, Built) {
    let mut chain = TestChain::dev(true);
    let g = chain.genesis_hash();
    // Setup: jobs 1 and 2 by bob (2 expires quickly), job 3 by charlie.
    let setup = vec![
        chain.sign_with(
            &dev("bob"),
            Call::open_job(1, acc("coordinator"), 1_000, 50),
            TxParams {
                nonce: 0,
                ..Default::default()
            },
        ),
        chain.sign_with(
            &dev("bob"),
            Call::open_job(2, acc("coordinator"), 2_000, 1),
            TxParams {
                nonce: 1,
                ..Default::default()
            },
        ),
        chain.sign(
            &dev("charlie"),
            Call::open_job(3, acc("coordinator"), 500, 50),
        ),
    ];
    let built = chain.build_block(&setup);
    assert!(
        built
            .results
            .iter()
            .all(|r| r.as_ref().map(|o| o.success).unwrap_or(false)),
        "{:?}",
        built.results
    );
    chain.build_block(&[]);
    let parent = chain.clone();

    let claim1 = make_claim(
        &g,
        &acc("bob"),
        1,
        &dev("miner"),
        &dev("coordinator"),
        10,
        900,
    );
    let claim3 = make_claim(
        &g,
        &acc("charlie"),
        3,
        &dev("miner2"),
        &dev("coordinator"),
        3,
        500,
    );
    let xts = vec![
        chain.sign(&dev("alice"), Call::transfer(acc("eve"), 10_000)),
        chain
            .sign(&dev("alice"), Call::sudo(Call::mint(acc("ferdie"), 55)))
            .with_nonce(&chain, 1),
        chain.sign(
            &dev("dave"),
            Call::open_job(7, acc("coordinator"), 3_000, 20),
        ),
        chain
            .sign(&dev("dave"), Call::claim(claim1))
            .with_nonce(&chain, 1),
        chain.sign(&dev("ferdie"), Call::claim(claim3)),
        chain.sign(&dev("bob"), Call::refund(2)),
        chain.sign(&dev("charlie"), Call::transfer(acc("dave"), u128::MAX / 4)), // fails: pays fee
    ];
    let built = chain.build_block(&xts);
    for (i, r) in built.results.iter().enumerate() {
        let out = r
            .as_ref()
            .unwrap_or_else(|e| panic!("tx {i} invalid: {e:?}"));
        assert_eq!(out.success, i != 6, "tx {i}: {out:?}");
    }
    chain.check_issuance().unwrap();
    (parent, chain, built)
}

trait WithNonce {
    fn with_nonce(self, chain: &TestChain, nonce: u64) -> Self;
}

impl WithNonce for Extrinsic<Call> {
    fn with_nonce(self, chain: &TestChain, nonce: u64) -> Self {
        let pair = ["alice", "bob", "charlie", "dave", "ferdie"]
            .iter()
            .map(|n| dev(n))
            .find(|p| p.public() == self.signer)
            .unwrap();
        chain.sign_with(
            &pair,
            self.call,
            TxParams {
                nonce,
                ..Default::default()
            },
        )
    }
}

#[test]
fn import_on_a_fresh_state_gives_the_same_root() {
    let (parent, built_chain, built) = busy_block();
    assert_eq!(built.block.extrinsics.len(), 7);
    let mut importer = parent.clone();
    let executed = importer.import(&built.block).expect("import");
    assert_eq!(executed.header, built.block.header);
    assert_eq!(importer.state.root(), built_chain.state.root());
    assert_eq!(executed.outcomes, built.executed.outcomes);

    // And from genesis on a brand-new chain, block by block.
    let mut fresh = TestChain::dev(true);
    let mut source = TestChain::dev(true);
    let g = source.genesis_hash();
    let b1 = source
        .build_block(&[source.sign(&dev("bob"), Call::open_job(1, acc("coordinator"), 10, 5))]);
    let claim = make_claim(
        &g,
        &acc("bob"),
        1,
        &dev("miner"),
        &dev("coordinator"),
        1,
        10,
    );
    let b2 = source.build_block(&[source.sign(&dev("alice"), Call::claim(claim))]);
    fresh.import(&b1.block).unwrap();
    fresh.import(&b2.block).unwrap();
    assert_eq!(fresh.state.root(), source.state.root());
    assert_eq!(fresh.head, source.head);
}

#[test]
fn tampered_blocks_are_rejected_with_the_specific_error() {
    let (parent, _, built) = busy_block();
    let rt = parent.runtime;

    let mut b = built.block.clone();
    b.header.state_root = Hash::of(b"forged");
    assert!(matches!(
        rt.execute_block(&parent.state, &b, false),
        Err(BlockError::StateRootMismatch { .. })
    ));

    let mut b = built.block.clone();
    b.header.extrinsics_root = Hash::of(b"forged");
    assert!(matches!(
        rt.execute_block(&parent.state, &b, false),
        Err(BlockError::ExtrinsicsRootMismatch { .. })
    ));

    // Dropping an extrinsic changes the extrinsics root.
    let mut b = built.block.clone();
    b.extrinsics.remove(0);
    assert!(rt.execute_block(&parent.state, &b, false).is_err());

    let mut b = built.block.clone();
    b.header.number += 1;
    // The node refuses a wrong number against the parent header; re-execution alone refuses
    // it too, as the number is part of the state.
    assert!(matches!(
        rt.execute_block(&parent.state, &b, false),
        Err(BlockError::StateRootMismatch { .. })
    ));

    let mut b = built.block.clone();
    b.header.digest =
        aitbc_primitives::Digest::try_from_vec(vec![aitbc_primitives::DigestItem::Other(
            Default::default(),
        )])
        .unwrap();
    assert!(matches!(
        rt.execute_block(&parent.state, &b, false),
        Err(BlockError::DigestMismatch)
    ));

    // A bad signature anywhere: the batch check finds which one.
    let mut b = built.block.clone();
    b.extrinsics[3].signature = Signature([7; 64]);
    assert!(matches!(
        rt.execute_block(&parent.state, &b, false),
        Err(BlockError::InvalidExtrinsic {
            index: 3,
            error: InvalidTransaction::BadSignature
        })
    ));

    // An extrinsic that is invalid in this position (a replayed nonce).
    let mut b = built.block.clone();
    let dup = b.extrinsics[0].clone();
    b.extrinsics.push(dup);
    assert!(matches!(
        rt.execute_block(&parent.state, &b, false),
        Err(BlockError::InvalidExtrinsic {
            index: 7,
            error: InvalidTransaction::StaleNonce { .. }
        })
    ));
}

#[test]
fn check_signatures_covers_claims() {
    let (_, chain, built) = busy_block();
    let rt = chain.runtime;
    assert_eq!(rt.check_signatures(&built.block.extrinsics), Ok(()));
    let mut xts = built.block.extrinsics.clone();
    if let Call::Receipts(aitbc_runtime::receipts::Call::Claim { claim }) = &mut xts[4].call {
        claim.attestation = claim.miner_sig;
    } else {
        panic!("tx 4 is a claim");
    }
    // The outer signature now fails too (the call changed), and comes first.
    assert_eq!(
        rt.check_signatures(&xts),
        Err((4, InvalidTransaction::BadSignature))
    );
    let mut xts = built.block.extrinsics.clone();
    let Call::Receipts(aitbc_runtime::receipts::Call::Claim { claim }) = &xts[3].call else {
        panic!()
    };
    let mut claim = claim.clone();
    claim.miner_sig = claim.attestation;
    xts[3] = chain.sign_with(
        &dev("dave"),
        Call::claim(claim),
        TxParams {
            nonce: 1,
            ..Default::default()
        },
    );
    assert_eq!(
        rt.check_signatures(&xts),
        Err((3, InvalidTransaction::from(ClaimError::BadMinerSignature)))
    );
}

#[test]
fn pool_answer() {
    let chain = TestChain::dev(false);
    let bob = dev("bob");
    let xt = chain.sign_with(
        &bob,
        Call::transfer(acc("eve"), 5),
        TxParams {
            nonce: 0,
            tip: 1_000,
            valid_until: Some(10),
        },
    );
    let v = chain.validate(&xt).unwrap();
    let len = codec::Encode::encoded_size(&xt) as u64;
    assert_eq!(v.priority, 1_000 * 1024 / len);
    assert_eq!(v.chain_nonce, 0);
    let future = chain.sign_with(
        &bob,
        Call::transfer(acc("eve"), 5),
        TxParams {
            nonce: 3,
            ..Default::default()
        },
    );
    let v = chain.validate(&future).unwrap();
    assert_eq!(v.chain_nonce, 0);
    assert_eq!(v.priority, 0);
    // Validation writes nothing.
    assert_eq!(chain.nonce(&acc("bob")), 0);
    assert_eq!(
        chain.runtime.fee(&chain.state, &xt),
        10 + len as u128 + u128::from(aitbc_runtime::weights::TRANSFER) / 1_000 + 1_000
    );
}

#[test]
fn block_limits_exhaust_resources() {
    let mut chain = TestChain::dev(false);
    let set = Call::sudo(Call::set_param(aitbc_runtime::Param::MaxBlockTxs(2)));
    assert!(chain.submit(&dev("alice"), set).unwrap().success);
    let xts: Vec<_> = ["bob", "charlie", "dave"]
        .iter()
        .map(|n| chain.sign(&dev(n), Call::transfer(acc("eve"), 5)))
        .collect();
    let built = chain.build_block(&xts);
    assert!(built.results[0].is_ok() && built.results[1].is_ok());
    assert_eq!(built.results[2], Err(InvalidTransaction::ExhaustsResources));
    assert_eq!(chain.runtime.block_limits(&chain.state).max_block_txs, 2);
}

#[test]
fn block_weight_limit_follows_the_slot_duration() {
    use aitbc_runtime::{weight, weights};
    // A slot just long enough for a few transfers (half a slot is the block's weight budget).
    let slot_ms = 3 * weights::TRANSFER * 4 / 3 / 1_000_000 + 1;
    let fits = (weight::max_block_weight(slot_ms) / weights::TRANSFER) as usize;
    assert!((3..200).contains(&fits), "{fits} transfers fit");
    let mut genesis = aitbc_runtime::testing::dev_genesis(false);
    genesis.slot_duration_ms = slot_ms;
    let mut chain = TestChain::new(genesis);
    let xts: Vec<_> = (0..=fits as u64)
        .map(|nonce| {
            let params = TxParams {
                nonce,
                ..Default::default()
            };
            chain.sign_with(&dev("bob"), Call::transfer(acc("eve"), 5), params)
        })
        .collect();
    let built = chain.build_block(&xts);
    assert!(built.results[..fits].iter().all(Result::is_ok));
    assert_eq!(
        built.results[fits],
        Err(InvalidTransaction::ExhaustsResources)
    );
    // At 1000 ms slots a block holds thousands of transfers.
    assert!(weight::max_block_weight(1000) / weights::TRANSFER > 1000);
}
