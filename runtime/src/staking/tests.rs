use super::*;
use crate::testing::{acc, dev, dev_genesis, make_claim, staking_genesis, TestChain, ENDOWMENT};
use crate::Call;
use aitbc_primitives::{
    BlockEquivocation, DigestItem, Header, InvalidTransaction, SignedVote, SigningContext,
    StateMachine, VoteEquivocation, VoteKind, VoteTarget,
};

const BOND: Balance = 1_000;

/// Four authorities (alice..dave) bonded `BOND`, epochs of 5 blocks, bonding for 2 epochs.
fn chain() -> TestChain {
    chain_with_epochs(5)
}

fn chain_with_epochs(epoch_length: u64) -> TestChain {
    TestChain::new(staking_genesis(epoch_length))
}

fn staking(call: super::Call) -> Call {
    Call::staking(call)
}

fn code(r: Result<aitbc_primitives::TxOutcome<crate::Event>, InvalidTransaction>) -> &'static str {
    match r {
        Err(e) => e.code(),
        Ok(o) => panic!("expected a refusal, got {o:?}"),
    }
}

fn ok(r: Result<aitbc_primitives::TxOutcome<crate::Event>, InvalidTransaction>) {
    let out = r.expect("valid");
    assert!(out.success, "{out:?}");
}

fn info(c: &TestChain) -> EpochInfo {
    storage::EPOCH.read(&c.state).unwrap()
}

/// Advances to the end of the current epoch (the block that elects the next set).
fn end_epoch(c: &mut TestChain) -> Header {
    let i = info(c);
    let last = i.start + c.genesis.params.epoch_length - 1;
    c.advance_to(last - 1);
    c.build_block(&[]).block.header
}

#[test]
fn genesis_bonds_the_authorities_and_keeps_issuance() {
    let c = chain();
    assert_eq!(ledger_of(&c, "alice").bonded, BOND);
    let i = info(&c);
    assert_eq!((i.index, i.start, i.validators.len()), (0, 1, 4));
    assert_eq!(c.check_issuance(), Ok(()));
    assert_eq!(read_validators(&c.state).candidates.len(), 4);
}

fn ledger_of(c: &TestChain, who: &str) -> Ledger {
    storage::LEDGER
        .read(&c.state, &acc(who))
        .unwrap_or_default()
}

#[test]
fn bond_unbond_and_withdraw_after_the_bonding_duration() {
    let mut c = chain_with_epochs(20);
    let ferdie = dev("ferdie");
    assert_eq!(
        code(c.submit(&ferdie, staking(super::Call::Bond { amount: ENDOWMENT }))),
        "bond_exceeds_free"
    );
    assert_eq!(
        code(c.submit(&ferdie, staking(super::Call::Bond { amount: 0 }))),
        "zero_amount"
    );
    ok(c.submit(&ferdie, staking(super::Call::Bond { amount: 5_000 })));
    assert_eq!(ledger_of(&c, "ferdie").bonded, 5_000);
    assert_eq!(
        code(c.submit(&ferdie, staking(super::Call::Unbond { amount: 5_001 }))),
        "unbond_exceeds_bond"
    );
    ok(c.submit(&ferdie, staking(super::Call::Unbond { amount: 1_000 })));
    ok(c.submit(&ferdie, staking(super::Call::Unbond { amount: 500 })));
    // Same epoch: one chunk, released at epoch 0 + 2.
    assert_eq!(
        ledger_of(&c, "ferdie").unlocking,
        vec![Unlocking {
            amount: 1_500,
            epoch: 2
        }]
    );
    assert_eq!(
        code(c.submit(&ferdie, staking(super::Call::WithdrawUnbonded))),
        "nothing_to_withdraw"
    );
    end_epoch(&mut c);
    assert_eq!(
        code(c.submit(&ferdie, staking(super::Call::WithdrawUnbonded))),
        "nothing_to_withdraw"
    );
    end_epoch(&mut c);
    assert_eq!(info(&c).index, 2);
    let before = c.balance(&acc("ferdie"));
    let out = c
        .submit(&ferdie, staking(super::Call::WithdrawUnbonded))
        .unwrap();
    assert_eq!(c.balance(&acc("ferdie")), before - out.fee + 1_500);
    assert!(ledger_of(&c, "ferdie").unlocking.is_empty());
    assert_eq!(c.check_issuance(), Ok(()));
}

#[test]
fn at_most_32_unlocking_chunks() {
    let mut c = chain();
    let ferdie = dev("ferdie");
    ok(c.submit(&ferdie, staking(super::Call::Bond { amount: 100 })));
    for _ in 0..MAX_UNLOCKING_CHUNKS {
        ok(c.submit(&ferdie, staking(super::Call::Unbond { amount: 1 })));
        end_epoch(&mut c);
    }
    assert_eq!(
        code(c.submit(&ferdie, staking(super::Call::Unbond { amount: 1 }))),
        "too_many_unlocking_chunks"
    );
    ok(c.submit(&ferdie, staking(super::Call::WithdrawUnbonded)));
    ok(c.submit(&ferdie, staking(super::Call::Unbond { amount: 1 })));
}

#[test]
fn a_new_validator_is_elected_at_the_boundary_and_authors() {
    let mut c = chain_with_epochs(20);
    let ferdie = dev("ferdie");
    assert_eq!(
        code(c.submit(&ferdie, staking(super::Call::Validate))),
        "bond_below_minimum"
    );
    ok(c.submit(&ferdie, staking(super::Call::Bond { amount: BOND })));
    ok(c.submit(&ferdie, staking(super::Call::Validate)));
    assert_eq!(
        code(c.submit(&ferdie, staking(super::Call::Validate))),
        "already_validating"
    );
    let boundary = end_epoch(&mut c);
    let Some(DigestItem::EpochChange(change)) = boundary.digest.first() else {
        panic!("no epoch change in {boundary:?}");
    };
    assert_eq!(change.epoch, 1);
    assert!(change.authorities.contains(&acc("ferdie")));
    assert_eq!(boundary.authorities_change().map(<[_]>::len), Some(5));
    let schedule = c.runtime.author_schedule(&c.state);
    assert_eq!(schedule.hash(), change.schedule_hash);
    assert_eq!(schedule.hash(), info(&c).schedule_hash);
    assert_eq!(schedule.cycle().len(), 60);
    // Ferdie authors its slots of the new schedule (12 of 60, never more than 10 apart),
    // counted for it.
    let mut authored = 0;
    for _ in 0..12 {
        c.build_block(&[]);
        let v = read_validators(&c.state);
        authored = authored.max(
            v.validators
                .iter()
                .find(|v| v.address == acc("ferdie"))
                .unwrap()
                .authored_this_epoch,
        );
    }
    assert!(authored >= 1);
    // Chill: out at the next boundary.
    ok(c.submit(&ferdie, staking(super::Call::Chill)));
    assert_eq!(
        code(c.submit(&ferdie, staking(super::Call::Chill))),
        "not_validating"
    );
    end_epoch(&mut c);
    assert!(!c.runtime.authorities(&c.state).contains(&acc("ferdie")));
    assert_eq!(c.check_issuance(), Ok(()));
}

/// Opens a job for `client` and claims it by `miner` with `units`.
fn claim(c: &mut TestChain, job: u64, units: u64) -> Hash {
    ok(c.submit(
        &dev("bob"),
        Call::open_job(job, acc("coordinator"), 10, 100),
    ));
    let claim = make_claim(
        &c.genesis_hash(),
        &acc("bob"),
        job,
        &dev("miner"),
        &dev("coordinator"),
        units,
        10,
    );
    let id = claim.receipt.id();
    ok(c.submit(&dev("charlie"), Call::claim(claim)));
    id
}

#[test]
fn work_backing_raises_weight_from_the_next_epoch() {
    let mut c = chain();
    assert_eq!(
        code(c.submit(
            &dev("miner"),
            staking(super::Call::Back {
                validator: acc("ferdie")
            })
        )),
        "not_a_validator"
    );
    ok(c.submit(
        &dev("miner"),
        staking(super::Call::Back {
            validator: acc("charlie"),
        }),
    ));
    // This epoch's claims credit nobody: the backing counts from epoch 1.
    claim(&mut c, 1, 500);
    assert_eq!(storage::WORK.read(&c.state, &acc("charlie")), None);
    end_epoch(&mut c);
    claim(&mut c, 2, 500);
    end_epoch(&mut c);
    let v = read_validators(&c.state);
    let weight = |who: &str| {
        v.validators
            .iter()
            .find(|x| x.address == acc(who))
            .unwrap()
            .weight_ppm
    };
    assert!(weight("charlie") > weight("alice"), "{v:?}");
    assert!(weight("charlie") <= c.genesis.params.weight_cap_ppm);
    assert_eq!(c.check_issuance(), Ok(()));
}

#[test]
fn a_revocation_claws_back_the_mint_and_enough_ban_the_miner() {
    let mut c = chain();
    ok(c.submit(
        &dev("miner"),
        staking(super::Call::Back {
            validator: acc("charlie"),
        }),
    ));
    end_epoch(&mut c);
    let id = claim(&mut c, 1, 100);
    let work = |c: &TestChain| {
        storage::WORK
            .read(&c.state, &acc("charlie"))
            .unwrap_or_default()
            .this_epoch
    };
    assert_eq!(work(&c), 100);
    assert_eq!(
        code(c.submit(&dev("bob"), Call::revoke(id))),
        "not_receipt_coordinator"
    );
    assert_eq!(
        code(c.submit(&dev("coordinator"), Call::revoke(Hash([9; 32])))),
        "unknown_receipt"
    );
    ok(
        c.submit(&dev("treasury"), Call::transfer(acc("coordinator"), 1))
            .or_else(|_| {
                // The coordinator needs a balance for fees: endow it from bob.
                c.submit(&dev("bob"), Call::transfer(acc("coordinator"), 1_000_000))
            }),
    );
    let issuance = c.total_issuance();
    let miner_before = c.balance(&acc("miner"));
    let minted = 100 * c.genesis.params.mint_per_unit;
    let out = c.submit(&dev("coordinator"), Call::revoke(id)).unwrap();
    assert!(out.success, "{out:?}");
    assert_eq!(c.balance(&acc("miner")), miner_before - minted);
    assert_eq!(c.total_issuance(), issuance - minted);
    assert_eq!(work(&c), 0);
    assert_eq!(
        code(c.submit(&dev("coordinator"), Call::revoke(id))),
        "already_revoked"
    );
    // Past the window.
    let late = claim(&mut c, 2, 100);
    c.advance_to(c.number() + 11);
    assert_eq!(
        code(c.submit(&dev("coordinator"), Call::revoke(late))),
        "challenge_window_passed"
    );
    // A second revocation within the window bans the miner (max_revocations = 2).
    let id = claim(&mut c, 3, 100);
    ok(c.submit(&dev("coordinator"), Call::revoke(id)));
    ok(c.submit(&dev("bob"), Call::open_job(4, acc("coordinator"), 10, 100)));
    let banned = make_claim(
        &c.genesis_hash(),
        &acc("bob"),
        4,
        &dev("miner"),
        &dev("coordinator"),
        1,
        10,
    );
    assert_eq!(
        code(c.submit(&dev("charlie"), Call::claim(banned))),
        "miner_banned"
    );
    assert_eq!(c.check_issuance(), Ok(()));
}

fn sealed(c: &TestChain, by: &str, slot: u64, root: u8) -> (Header, aitbc_primitives::Signature) {
    let h = Header {
        parent_hash: c.head.hash(),
        number: c.head.number + 1,
        slot,
        state_root: Hash([root; 32]),
        extrinsics_root: Hash::ZERO,
        digest: aitbc_primitives::Digest::new(),
    };
    let seal = dev(by).sign(SigningContext::Block, h.hash().as_bytes());
    (h, seal)
}

fn block_proof(c: &TestChain, offender: &str, by: &str, slot: u64) -> OffenceProof {
    let (first, first_seal) = sealed(c, by, slot, 1);
    let (second, second_seal) = sealed(c, by, slot, 2);
    OffenceProof::Block(BlockEquivocation {
        offender: acc(offender),
        first,
        first_seal,
        second,
        second_seal,
    })
}

fn report(proof: OffenceProof) -> Call {
    staking(super::Call::Report { proof })
}

#[test]
fn an_equivocation_is_slashed_once_and_the_offender_is_disabled_chilled_and_jailed() {
    let mut c = chain_with_epochs(20);
    let p = c.genesis.params.clone();
    let proof = block_proof(&c, "dave", "dave", 7);
    // Bad proofs first.
    assert_eq!(
        code(c.submit(&dev("ferdie"), report(block_proof(&c, "dave", "bob", 7)))),
        "bad_proof_signature"
    );
    assert_eq!(
        code(c.submit(&dev("bob"), report(block_proof(&c, "ferdie", "ferdie", 7)))),
        "offender_not_in_set"
    );
    let OffenceProof::Block(b) = &proof else {
        unreachable!()
    };
    let twice = OffenceProof::Block(BlockEquivocation {
        second: b.first.clone(),
        second_seal: b.first_seal,
        ..b.clone()
    });
    assert_eq!(
        code(c.submit(&dev("bob"), report(twice))),
        "not_an_equivocation"
    );
    let (other, other_seal) = sealed(&c, "dave", 8, 2);
    let two_slots = OffenceProof::Block(BlockEquivocation {
        second: other,
        second_seal: other_seal,
        ..b.clone()
    });
    assert_eq!(
        code(c.submit(&dev("bob"), report(two_slots))),
        "different_slots"
    );
    let treasury = c.balance(&acc("treasury"));
    let bob = c.balance(&acc("bob"));
    let out = c.submit(&dev("bob"), report(proof.clone())).unwrap();
    assert!(out.success, "{out:?}");
    let slashed = BOND * u128::from(p.slash_ppm) / 1_000_000;
    let to_reporter = slashed * u128::from(p.reporter_share_ppm) / 1_000_000;
    assert_eq!(ledger_of(&c, "dave").bonded, BOND - slashed);
    let bob_authored = c.head.slot % 4 == 1;
    let author_share = if bob_authored { out.fee / 5 } else { 0 };
    assert_eq!(
        c.balance(&acc("bob")),
        bob - out.fee + to_reporter + author_share
    );
    assert!(c.balance(&acc("treasury")) >= treasury + slashed - to_reporter);
    // The same offence again, or another one in this span: refused before a block.
    assert_eq!(
        code(c.submit(&dev("charlie"), report(proof))),
        "offence_already_reported"
    );
    assert_eq!(
        code(c.submit(&dev("charlie"), report(block_proof(&c, "dave", "dave", 11)))),
        "offender_already_slashed"
    );
    let offences = read_offences(&c.state);
    assert_eq!(offences.len(), 1);
    assert_eq!(offences[0].slashed, slashed);
    // Disabled: its slots are skipped (the test chain builds on the next slot), and a block it
    // authors is invalid.
    assert_eq!(read_disabled(&c.state), vec![acc("dave")]);
    assert!(!read_staking(&c.state, &acc("dave")).validating);
    assert_eq!(
        code(c.submit(&dev("dave"), staking(super::Call::Validate))),
        "validator_jailed"
    );
    end_epoch(&mut c);
    assert!(!c.runtime.authorities(&c.state).contains(&acc("dave")));
    assert!(read_disabled(&c.state).is_empty());
    assert_eq!(c.check_issuance(), Ok(()));
}

#[test]
fn a_block_by_a_disabled_author_is_refused() {
    let mut c = chain();
    c.submit(&dev("bob"), report(block_proof(&c, "dave", "dave", 3)))
        .unwrap();
    let schedule = c.runtime.author_schedule(&c.state);
    let slot = (c.head.slot + 1..)
        .find(|s| schedule.author(*s) == Some(&acc("dave")))
        .unwrap();
    let context = aitbc_primitives::BlockContext {
        parent_hash: c.head.hash(),
        number: c.head.number + 1,
        slot,
    };
    let pending = c.runtime.initialize_block(&c.state, context);
    let err = c.runtime.finalize_block(&c.state, pending).unwrap_err();
    assert!(err.to_string().contains("disabled"), "{err}");
}

#[test]
fn a_vote_equivocation_is_punished_like_a_block_equivocation() {
    let mut c = chain();
    let g = c.genesis_hash();
    let vote = |block: u8| {
        let target = VoteTarget {
            hash: Hash([block; 32]),
            number: 1,
        };
        SignedVote::sign(&dev("charlie"), VoteKind::Precommit, target, 4, 0, &g)
    };
    let proof = OffenceProof::Vote(VoteEquivocation {
        first: vote(1),
        second: vote(2),
    });
    ok(c.submit(&dev("alice"), report(proof.clone())));
    assert_eq!(
        read_offences(&c.state)[0].kind,
        OffenceKind::VoteEquivocation
    );
    assert_eq!(read_offences(&c.state)[0].slot_or_round, 4);
    assert_eq!(
        code(c.submit(&dev("bob"), report(proof))),
        "offence_already_reported"
    );
}

#[test]
fn without_eligible_candidates_the_set_carries_on() {
    let mut c = chain();
    for who in ["alice", "bob", "charlie", "dave"] {
        ok(c.submit(&dev(who), staking(super::Call::Chill)));
    }
    let boundary = end_epoch(&mut c);
    assert!(boundary.epoch_change().is_some());
    assert_eq!(c.runtime.authorities(&c.state).len(), 4);
}

#[test]
fn a_report_in_the_offenders_own_block_leaves_that_block_valid() {
    let mut c = chain_with_epochs(20);
    let schedule = c.runtime.author_schedule(&c.state);
    let next = *schedule.author(c.head.slot + 1).unwrap();
    let name = ["alice", "bob", "charlie", "dave"]
        .into_iter()
        .find(|n| acc(n) == next)
        .unwrap();
    let built = c.build_block(&[c.sign(&dev("ferdie"), report(block_proof(&c, name, name, 3)))]);
    assert!(built.results[0].as_ref().unwrap().success);
    assert_eq!(schedule.author(built.block.header.slot), Some(&next));
    assert_eq!(read_disabled(&c.state), vec![next]);
    // From the next block on its slots are skipped.
    let after = c.build_block(&[]);
    assert_ne!(schedule.author(after.block.header.slot), Some(&next));
}

#[test]
fn at_most_a_third_of_the_set_is_disabled() {
    let mut c = chain_with_epochs(20);
    ok(c.submit(&dev("ferdie"), report(block_proof(&c, "dave", "dave", 3))));
    ok(c.submit(
        &dev("ferdie"),
        report(block_proof(&c, "charlie", "charlie", 3)),
    ));
    // Both slashed, chilled and jailed; only one of four disabled: (4 - 1) / 3 = 1.
    assert_eq!(read_offences(&c.state).len(), 2);
    assert_eq!(read_disabled(&c.state), vec![acc("dave")]);
    assert!(!read_staking(&c.state, &acc("charlie")).validating);
    // A single validator is never disabled: its chain would have no author.
    let mut g = dev_genesis(false);
    g.params.min_validator_bond = BOND;
    let mut solo = TestChain::new(g);
    let proof = block_proof(&solo, "alice", "alice", 3);
    ok(solo.submit(&dev("bob"), report(proof)));
    assert!(read_disabled(&solo.state).is_empty());
    solo.build_block(&[]);
}

#[test]
fn an_election_that_keeps_the_members_changes_weights_not_voters() {
    let mut c = chain_with_epochs(5);
    let boundary = end_epoch(&mut c);
    let change = boundary.epoch_change().expect("an epoch change");
    assert!(!change.new_members);
    // Not a voter-set change: finality goes on with the same set.
    assert_eq!(boundary.authorities_change(), None);
    assert_eq!(
        boundary.schedule_change().map(|s| s.hash()),
        Some(change.schedule_hash)
    );
}

#[test]
fn the_pool_checks_a_staking_call_once_its_turn_comes() {
    let mut c = chain_with_epochs(20);
    let ferdie = dev("ferdie");
    let bond = c.sign(&ferdie, staking(super::Call::Bond { amount: BOND }));
    let validate = c.sign_with(
        &ferdie,
        staking(super::Call::Validate),
        aitbc_primitives::extrinsic::TxParams {
            nonce: 1,
            ..Default::default()
        },
    );
    // Behind the pending bond: accepted by the pool, as a future transaction.
    assert!(c.validate(&validate).is_ok());
    // Its turn, without the bond: refused, in the pool and in a block.
    let alone = c.sign(&ferdie, staking(super::Call::Validate));
    assert_eq!(c.validate(&alone).unwrap_err().code(), "bond_below_minimum");
    // Both in one block: valid in order.
    let built = c.build_block(&[bond, validate]);
    assert!(built
        .results
        .iter()
        .all(|r| r.as_ref().is_ok_and(|o| o.success)));
    assert!(read_staking(&c.state, &acc("ferdie")).validating);
}

#[test]
fn at_most_max_candidates_validate() {
    // The list filled up (the four genesis candidates and the rest written straight to state).
    let mut c = chain_with_epochs(1_000);
    let mut full: Vec<AccountId> = candidates_of(&c);
    full.extend((full.len()..MAX_CANDIDATES).map(|i| acc(&format!("v{i}"))));
    full.sort();
    let mut fill = aitbc_primitives::StateChanges::new();
    let list = aitbc_primitives::BoundedVec::<AccountId, MAX_CANDIDATES>::try_from_vec(full);
    fill.insert(
        storage::CANDIDATES.key(),
        Some(codec::Encode::encode(&list.unwrap())),
    );
    c.state.apply(&fill).unwrap();
    assert_eq!(candidates_of(&c).len(), MAX_CANDIDATES);
    ok(c.submit(&dev("ferdie"), staking(super::Call::Bond { amount: BOND })));
    assert_eq!(
        code(c.submit(&dev("ferdie"), staking(super::Call::Validate))),
        "too_many_candidates"
    );
    // A candidate leaving makes room.
    ok(c.submit(&dev("alice"), staking(super::Call::Chill)));
    ok(c.submit(&dev("ferdie"), staking(super::Call::Validate)));
}

fn candidates_of(c: &TestChain) -> Vec<AccountId> {
    storage::CANDIDATES
        .read(&c.state)
        .map(|l| l.to_vec())
        .unwrap_or_default()
}
