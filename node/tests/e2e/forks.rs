//! Fork choice, reorganisation and finalization on real databases: two clients of a
//! two-authority chain author competing branches; importing the other branch moves the best
//! chain (state reverted and re-applied, orphaned transactions back in the pool); finalizing
//! prunes the losing fork; restart keeps all of it; bad and equivocating blocks are refused.

use crate::common::transfer;
use aitbc_chain_spec::ChainSpec;
use aitbc_client::{Client, ImportError, SignedBlockOf};
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::{SignedBlock, SigningContext, StateMachine};
use aitbc_runtime::Runtime;
use aitbc_storage::BlockRef;
use aitbc_txpool::PoolLimits;
use codec::Encode;
use std::path::Path;
use std::time::{Duration, Instant};

fn two_authorities() -> ChainSpec {
    let mut spec = ChainSpec::local();
    spec.genesis.authorities.truncate(2); // alice, bob
    spec.genesis.slot_duration_ms = 100;
    spec
}

fn open(spec: &ChainSpec, dir: &Path) -> Client<Runtime> {
    aitbc_node::service::open_client(spec, &dir.join("chain.redb"), PoolLimits::default()).unwrap()
}

/// A past slot authored by `who` (alice even, bob odd), after `after`.
fn slot_of(who: &str, after: u64) -> u64 {
    let want = if who == "alice" { 0 } else { 1 };
    let mut s = after + 1;
    while s % 2 != want {
        s += 1;
    }
    s
}

fn base_slot() -> u64 {
    aitbc_consensus::Clock::now_ms(&aitbc_consensus::SystemClock) / 100 - 10_000
}

pub(crate) fn author(c: &Client<Runtime>, who: &str, slot: u64) -> SignedBlockOf<Runtime> {
    let (at, block) = c
        .author_block(
            slot,
            Instant::now() + Duration::from_secs(1),
            &dev_pair(who),
            |_| Ok(()),
        )
        .unwrap()
        .unwrap();
    assert_eq!(c.best(), at);
    block
}

/// Signs a transfer of 1,000 from `from` to ferdie and submits it to each of `clients`.
fn submit_to(clients: &[&Client<Runtime>], from: &str, nonce: u64) -> aitbc_primitives::Hash {
    let xt = transfer(
        &dev_pair(from),
        &dev_pair("ferdie").public(),
        1_000,
        nonce,
        clients[0].genesis_hash(),
    );
    let len = xt.encoded_size();
    for c in clients {
        c.submit_decoded(xt.clone(), len).unwrap();
    }
    xt.hash()
}

fn submit(c: &Client<Runtime>, from: &str, nonce: u64) -> aitbc_primitives::Hash {
    submit_to(&[c], from, nonce)
}

fn root(c: &Client<Runtime>) -> aitbc_primitives::Hash {
    c.best_header().state_root
}

fn balance(c: &Client<Runtime>, who: &str) -> u128 {
    let state = c.state().unwrap();
    c.runtime().account(&state, &dev_pair(who).public()).balance
}

/// Two clients of one two-authority chain (each with its own database) that share block 1, by
/// alice: (spec, dir of A, dir of B, A, B, block 1).
pub(crate) fn two_clients_sharing_block_1() -> (
    ChainSpec,
    tempfile::TempDir,
    tempfile::TempDir,
    Client<Runtime>,
    Client<Runtime>,
    SignedBlockOf<Runtime>,
) {
    let spec = two_authorities();
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = open(&spec, da.path());
    let b = open(&spec, db.path());
    let b1 = author(&a, "alice", slot_of("alice", base_slot()));
    b.import_block(&b1, None).unwrap();
    (spec, da, db, a, b, b1)
}

#[test]
fn reorg_to_a_longer_fork_then_finalize_and_restart() {
    let (spec, da, _db, a, b, b1) = two_clients_sharing_block_1();
    let s1 = b1.block.header.slot;

    // Fork: A gets 2a (alice, with charlie's transfer); B gets 2b and 3b (bob, dave's transfer).
    let tx_a = submit(&a, "charlie", 0);
    let b2a = author(&a, "alice", slot_of("alice", s1));
    assert_eq!(b2a.block.extrinsics.len(), 1);
    let tx_b = submit(&b, "dave", 0);
    let b2b = author(&b, "bob", slot_of("bob", s1));
    let b3b = author(&b, "bob", slot_of("bob", b2b.block.header.slot + 1));
    let ferdie_on_b = balance(&b, "ferdie");

    // Equal length: the lower hash, whichever arrived first.
    a.import_block(&b2b, None).unwrap();
    assert_eq!(a.best().hash, b2a.hash().min(b2b.hash()));
    // Longer: A reorganises onto B's branch; the state is B's exactly.
    a.import_block(&b3b, None).unwrap();
    assert_eq!(a.best().hash, b3b.hash());
    assert_eq!(root(&a), root(&b));
    assert_eq!(balance(&a, "ferdie"), ferdie_on_b);
    assert_eq!(a.hash_at(2).unwrap(), Some(b2b.hash()));
    // The orphaned transaction is back in the pool; the other one is included.
    assert!(a.pool().get(&tx_a).is_some(), "orphaned tx re-pooled");
    assert!(a.tx_status(&tx_b).unwrap().is_some());
    assert!(matches!(
        a.tx_status(&tx_a).unwrap(),
        Some(aitbc_client::TxStatus::Pending(_))
    ));
    // The re-pooled transaction goes into A's next block on the new branch.
    let b4 = author(&a, "alice", slot_of("alice", b3b.block.header.slot));
    assert_eq!(b4.block.extrinsics[0].hash(), tx_a);

    // Re-importing a known block is refused as known.
    assert!(matches!(
        a.import_block(&b2a, None),
        Err(ImportError::AlreadyKnown(_))
    ));

    // Finalize 2b: the 2a fork is pruned; finalizing 2a now conflicts.
    let at2b = BlockRef {
        number: 2,
        hash: b2b.hash(),
    };
    a.finalize(at2b, None).unwrap();
    assert_eq!(a.finalized(), at2b);
    assert!(a.block(&b2a.hash()).unwrap().is_none(), "fork pruned");
    assert!(matches!(
        a.finalize(
            BlockRef {
                number: 2,
                hash: b2a.hash()
            },
            None
        ),
        Err(ImportError::ConflictsWithFinality(_))
    ));
    assert!(matches!(
        a.import_block(&b2a, None),
        Err(ImportError::BelowFinalized { .. })
    ));
    let best = a.best();
    let best_root = root(&a);
    drop(a);

    // Restart: the same best, finalized block and state; unfinalized blocks can still reorg.
    let a = open(&spec, da.path());
    assert_eq!(a.best(), best);
    assert_eq!(a.finalized(), at2b);
    assert_eq!(root(&a), best_root);
    // B extends 3b with two more blocks (without 4): A moves there, reverting 4 after restart.
    let b4b = author(&b, "bob", slot_of("bob", b4.block.header.slot));
    let b5b = author(&b, "bob", slot_of("bob", b4b.block.header.slot));
    a.import_block(&b4b, None).unwrap();
    a.import_block(&b5b, None).unwrap();
    assert_eq!(a.best().hash, b5b.hash());
    assert_eq!(root(&a), root(&b));
}

#[test]
fn bad_fork_blocks_are_refused_or_never_chosen() {
    let (_spec, _da, _db, a, b, b1) = two_clients_sharing_block_1();

    // Wrong author for the slot / bad seal.
    let b2 = author(&b, "bob", slot_of("bob", b1.block.header.slot));
    let mut forged = b2.clone();
    forged.seal = dev_pair("alice").sign(SigningContext::Block, b2.hash().as_bytes());
    assert!(matches!(
        a.import_block(&forged, None),
        Err(ImportError::BadSeal)
    ));
    // A block with a wrong state root, correctly sealed by bob: imported on the best block it
    // fails execution.
    let mut bad = b2.clone();
    bad.block.header.state_root = aitbc_primitives::Hash::of(b"wrong");
    bad.seal = dev_pair("bob").sign(SigningContext::Block, bad.hash().as_bytes());
    let err = a.import_block(&bad, None).unwrap_err();
    assert!(err.is_bad_block(), "{err}");
    assert_eq!(a.best().hash, b1.hash());

    // Equivocation: bob seals a second block for the same slot, with a wrong state root. Both
    // headers are kept as proof; the second is a fork like any other, and failing execution it
    // is never chosen.
    a.import_block(&b2, None).unwrap();
    let mut twin: SignedBlock<_> = b2.clone();
    twin.block.header.state_root = aitbc_primitives::Hash::of(b"twin");
    twin.seal = dev_pair("bob").sign(SigningContext::Block, twin.hash().as_bytes());
    a.import_block(&twin, None).unwrap();
    let eq = a.equivocations();
    assert_eq!(eq.len(), 1);
    assert_eq!(eq[0].author, dev_pair("bob").public());
    assert_eq!(eq[0].first.hash(), b2.hash());
    assert_eq!(eq[0].second.hash(), twin.hash());
    assert_eq!(a.best().hash, b2.hash());
}

#[test]
fn a_bad_signature_refuses_the_block_whether_checked_inline_or_beside_execution() {
    let (_spec, _da, _db, a, b, b1) = two_clients_sharing_block_1();
    // Blocks of 3 and of 40 transfers: below and above the size at which import verifies the
    // signatures on a second thread while the block executes. The last time the importer's
    // pool holds the block's transactions too (as after gossip): those are not checked again,
    // and the forged one, which it does not hold, still is.
    for (count, bad, gossiped) in [(3u64, 1usize, false), (40, 33, false), (40, 5, true)] {
        let senders = ["alice", "charlie", "dave", "eve"];
        for i in 0..count {
            let from = senders[(i % 4) as usize];
            let nonce = i / 4
                + a.runtime()
                    .account(&a.state().unwrap(), &dev_pair(from).public())
                    .nonce;
            if gossiped {
                submit_to(&[&b, &a], from, nonce);
            } else {
                submit(&b, from, nonce);
            }
        }
        let good = author(&b, "bob", slot_of("bob", a.best_header().slot));
        assert_eq!(good.block.extrinsics.len() as u64, count);
        let mut forged = good.clone();
        let xt = &mut forged.block.extrinsics[bad];
        xt.signature = dev_pair("ferdie").sign(SigningContext::Transaction, b"not this payload");
        forged.seal = dev_pair("bob").sign(SigningContext::Block, forged.hash().as_bytes());
        let err = a.import_block(&forged, None).unwrap_err();
        assert!(
            matches!(
                err,
                ImportError::Signature(i, aitbc_primitives::InvalidTransaction::BadSignature) if i == bad
            ),
            "{count} transfers: {err}"
        );
        assert!(err.is_bad_block());
        assert_ne!(a.best().hash, forged.hash());
        // The genuine block still imports.
        a.import_block(&good, None).unwrap();
        assert_eq!(a.best().hash, good.hash());
        assert_eq!(root(&a), root(&b));
    }
    assert!(a.best().number > b1.block.header.number);
}

/// Bob seals two valid blocks for one slot; A gets them in one order, B in the other. Both
/// choose the same head (fork choice does not care which came first), both keep the proof, and
/// each can finalize either block: finality may settle on the one a node saw second.
#[test]
fn equivocating_blocks_are_chosen_alike_whatever_came_first() {
    let (_spec, _da, _db, a, b, b1) = two_clients_sharing_block_1();
    let slot = slot_of("bob", b1.block.header.slot);
    let empty = author(&a, "bob", slot);
    submit(&b, "charlie", 0);
    let with_tx = author(&b, "bob", slot);
    assert_ne!(empty.hash(), with_tx.hash());
    a.import_block(&with_tx, None).unwrap();
    b.import_block(&empty, None).unwrap();
    let lowest = empty.hash().min(with_tx.hash());
    assert_eq!(a.best().hash, lowest);
    assert_eq!(b.best().hash, lowest);
    assert_eq!(a.equivocations().len(), 1);
    assert_eq!(b.equivocations().len(), 1);
    let other = if empty.hash() == lowest {
        &with_tx
    } else {
        &empty
    };
    let target = BlockRef {
        number: other.block.header.number,
        hash: other.hash(),
    };
    for c in [&a, &b] {
        c.finalize(target, None).unwrap();
        assert_eq!(c.finalized(), target);
        assert_eq!(c.best(), target);
    }
}

/// Bob's second block for a slot arrives after his first is final: it is refused as below the
/// finalized block, and the pair is still recorded as an equivocation.
#[test]
fn an_equivocation_behind_finality_is_still_recorded() {
    let (_spec, _da, _db, a, b, b1) = two_clients_sharing_block_1();
    let slot = slot_of("bob", b1.block.header.slot);
    let first = author(&a, "bob", slot);
    submit(&b, "charlie", 0);
    let second = author(&b, "bob", slot);
    let at = BlockRef {
        number: first.block.header.number,
        hash: first.hash(),
    };
    a.finalize(at, None).unwrap();
    let err = a.import_block(&second, None).unwrap_err();
    assert!(matches!(err, ImportError::BelowFinalized { .. }), "{err}");
    let eq = a.equivocations();
    assert_eq!(eq.len(), 1);
    assert_eq!(eq[0].first.hash(), first.hash());
    assert_eq!(eq[0].second.hash(), second.hash());
    // Another author's block at that height is no equivocation of bob's.
    let mut forged = second.clone();
    forged.seal = dev_pair("alice").sign(SigningContext::Block, forged.hash().as_bytes());
    assert!(a.import_block(&forged, None).is_err());
    assert_eq!(a.equivocations().len(), 1);
}
