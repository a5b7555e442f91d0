//! Consensus safety on real databases (issue 13): what decides validity or finality gives every
//! honest node the same verdict, whatever path a block or transaction takes.
//!
//! - A pair of transfers whose signatures were shifted to fool transcript-derived batch weights
//!   is refused by pool admission, block import and sync import alike.
//! - Finality at import follows the finality voter set, not the block's authority set: 1 -> 4
//!   enacts the new voter set at the change block (one authority alone cannot finalize after it,
//!   three of four can; a sibling fork by the new authorities imports), 4 -> 1 finalizes nothing
//!   without the old set's votes; each across a restart.
//! - A fork is checked against executed state only: an authority cannot seal a fork that claims
//!   the set is itself.
//! - At most one extra block per (author, slot) is stored.
//! - Votes go only to executed blocks: not to an unexecuted side block, not to an invalid
//!   longer fork.

use crate::common::transfer;
use aitbc_chain_spec::ChainSpec;
use aitbc_client::{Client, ImportError, SignedBlockOf};
use aitbc_primitives::batch_forgery::shifted_pair;
use aitbc_primitives::crypto::{dev_pair, SignatureCheck};
use aitbc_primitives::{
    extrinsics_root, BoundedVec, DigestItem, Hash, InvalidTransaction, Justification, SignedVote,
    SigningContext, StateMachine, VoteKind, VoteTarget, TX_VERSION,
};
use aitbc_runtime::Runtime;
use aitbc_storage::BlockRef;
use aitbc_txpool::PoolLimits;
use codec::Encode;
use std::path::Path;
use std::time::{Duration, Instant};

const SLOT_MS: u64 = 100;

fn spec_with(authorities: &[&str]) -> ChainSpec {
    let mut spec = ChainSpec::local();
    spec.genesis.authorities = authorities
        .iter()
        .map(|a| dev_pair(a).public().to_string())
        .collect();
    spec.genesis.slot_duration_ms = SLOT_MS;
    spec
}

fn open(spec: &ChainSpec, dir: &Path) -> Client<Runtime> {
    aitbc_node::service::open_client(spec, &dir.join("chain.redb"), PoolLimits::default()).unwrap()
}

/// A slot in the past (so that blocks are never ahead of the clock).
fn base_slot() -> u64 {
    aitbc_consensus::Clock::now_ms(&aitbc_consensus::SystemClock) / SLOT_MS - 10_000
}

/// The first slot after `after` that `who` authors in `set`.
fn slot_of(set: &[&str], who: &str, after: u64) -> u64 {
    let index = set.iter().position(|a| *a == who).unwrap() as u64;
    let n = set.len() as u64;
    let mut s = after + 1;
    while s % n != index {
        s += 1;
    }
    s
}

/// `who` authors a block on `c`'s best block in its first slot (in `set`) after the best.
fn author(c: &Client<Runtime>, set: &[&str], who: &str) -> SignedBlockOf<Runtime> {
    let slot = slot_of(set, who, c.best_header().slot.max(base_slot()));
    crate::forks::author(c, who, slot)
}

fn at(block: &SignedBlockOf<Runtime>) -> BlockRef {
    BlockRef {
        number: block.block.header.number,
        hash: block.hash(),
    }
}

/// Root (//alice) sets the authorities, with its next nonce; submitted to `c`'s pool.
fn set_authorities(c: &Client<Runtime>, set: &[&str]) {
    let alice = dev_pair("alice").public();
    let nonce = c.runtime().account(&c.state().unwrap(), &alice).nonce;
    crate::common::set_authorities(c, set, nonce);
}

/// A justification of `target` by `voters` (set `set_id`), precommitting the target itself.
fn justification(
    c: &Client<Runtime>,
    target: BlockRef,
    set_id: u64,
    voters: &[&str],
) -> Justification {
    let target = VoteTarget {
        hash: target.hash,
        number: target.number,
    };
    let precommits = voters
        .iter()
        .map(|v| {
            SignedVote::sign(
                &dev_pair(v),
                VoteKind::Precommit,
                target,
                1,
                set_id,
                &c.genesis_hash(),
            )
        })
        .collect();
    Justification {
        round: 1,
        set_id,
        target,
        precommits: BoundedVec::try_from_vec(precommits).unwrap(),
        ancestry: BoundedVec::new(),
    }
}

/// Checks `j` as a node does before finalizing with it.
fn verify(c: &Client<Runtime>, j: &Justification) -> bool {
    let set = c.voter_set();
    j.verify(&set.authorities, set.id, &c.genesis_hash())
        .is_ok()
}

/// Re-seals `block` by `who` after its header changed.
fn reseal(block: &mut SignedBlockOf<Runtime>, who: &str) {
    block.seal = dev_pair(who).sign(SigningContext::Block, block.hash().as_bytes());
}

#[test]
fn a_shifted_signature_pair_is_refused_by_pool_import_and_sync() {
    let set = ["alice", "bob"];
    let spec = spec_with(&set);
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (open(&spec, da.path()), open(&spec, db.path()));
    let genesis = a.genesis_hash();
    let ferdie = dev_pair("ferdie").public();
    let valid = [
        transfer(&dev_pair("charlie"), &ferdie, 1_000, 0, genesis),
        transfer(&dev_pair("dave"), &ferdie, 2_000, 0, genesis),
    ];
    let payloads: Vec<Vec<u8>> = valid
        .iter()
        .map(|xt| xt.signing_payload(genesis, TX_VERSION))
        .collect();
    let checks: Vec<SignatureCheck<'_>> = valid
        .iter()
        .zip(&payloads)
        .map(|(xt, p)| SignatureCheck {
            context: SigningContext::Transaction,
            message: p,
            signer: xt.signer,
            signature: xt.signature,
        })
        .collect();
    let (s1, s2) = shifted_pair(&checks[0], &checks[1]);
    let mut forged = valid.clone();
    forged[0].signature = s1;
    forged[1].signature = s2;
    assert!(!forged[0].signature_is_valid(genesis, TX_VERSION));
    assert!(!forged[1].signature_is_valid(genesis, TX_VERSION));

    // Pool admission: one batch of both, as a gossiped batch or concurrent submissions are.
    let batch = forged
        .iter()
        .map(|xt| (xt.clone(), xt.encoded_size()))
        .collect();
    for result in a.submit_batch(batch, false) {
        let err = result.unwrap_err().to_string();
        assert!(err.contains("signature"), "{err}");
    }
    assert_eq!(a.pool().status().ready, 0);

    // Import: B includes the genuine pair; the same block carrying the shifted pair (roots and
    // seal redone, so only the signatures are wrong) is refused by A, through gossip import
    // (`import_block`) and sync import (`import_blocks`, which checks whole blocks in a batch).
    for xt in &valid {
        b.submit_decoded(xt.clone(), xt.encoded_size()).unwrap();
    }
    let good = author(&b, &set, "bob");
    assert_eq!(good.block.extrinsics.len(), 2);
    let mut bad = good.clone();
    for (xt, f) in bad.block.extrinsics.iter_mut().zip(&forged) {
        xt.signature = f.signature;
    }
    let hashes: Vec<Hash> = bad.block.extrinsics.iter().map(|x| x.hash()).collect();
    bad.block.header.extrinsics_root = extrinsics_root(&hashes);
    reseal(&mut bad, "bob");
    let refused = |e: &ImportError| {
        matches!(
            e,
            ImportError::Signature(_, InvalidTransaction::BadSignature)
        )
    };
    let err = a.import_block(&bad, None).unwrap_err();
    assert!(refused(&err), "gossip import: {err}");
    let err = a
        .import_blocks(std::slice::from_ref(&bad))
        .pop()
        .unwrap()
        .unwrap_err();
    assert!(refused(&err), "sync import: {err}");
    assert_eq!(a.best().number, 0);
    // The genuine block imports on both paths' node.
    a.import_blocks(std::slice::from_ref(&good))
        .pop()
        .unwrap()
        .unwrap();
    assert_eq!(a.best(), at(&good));
}

/// 1 -> 4: the change block is final at import and enacts the new voter set in the same write;
/// after it one authority alone cannot finalize, three of four can, and a sibling fork by the
/// new authorities imports. 4 -> 1: the block after the change is not final at import; only
/// once the old set finalizes the change block does the new single voter finalize at import.
/// Each with a restart in between.
#[test]
fn single_voter_shortcut_follows_the_voter_set_both_ways() {
    let one = ["alice"];
    let four = ["alice", "bob", "charlie", "dave"];
    let spec = spec_with(&one);
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = open(&spec, da.path());
    let b = open(&spec, db.path());

    let b1 = author(&a, &one, "alice");
    assert_eq!(a.finalized(), at(&b1), "a single voter finalizes at import");
    set_authorities(&a, &four);
    let change = author(&a, &one, "alice");
    assert_eq!(
        change.block.header.authorities_change().map(<[_]>::len),
        Some(4)
    );
    assert_eq!(
        a.finalized(),
        at(&change),
        "the old single voter finalizes the change"
    );
    assert_eq!(a.voter_set().id, 1);
    assert_eq!(a.voter_set().authorities.len(), 4);
    b.import_block(&b1, None).unwrap();
    b.import_block(&change, None).unwrap();
    assert_eq!(b.finalized(), at(&change));
    assert_eq!(b.voter_set().id, 1);

    // Restart: the new voter set is durable.
    drop(a);
    let a = open(&spec, da.path());
    assert_eq!(a.voter_set().id, 1);
    assert_eq!(a.voter_set().authorities.len(), 4);

    // After the change: bob's block is not final at import; charlie's sibling (on B) imports as
    // a fork on A (its author checked against the new set, not refused as BadSeal).
    let by_bob = author(&a, &four, "bob");
    assert_eq!(
        a.finalized(),
        at(&change),
        "one block by one authority is not final"
    );
    let by_charlie = author(&b, &four, "charlie");
    assert_eq!(by_charlie.block.header.parent_hash, change.hash());
    a.import_block(&by_charlie, None).unwrap();
    b.import_block(&by_bob, None).unwrap();
    let next = author(&a, &four, "dave");
    assert_eq!(a.finalized(), at(&change));
    // One voter's justification does not finalize; three of four do.
    let lone = justification(&a, at(&next), 1, &["alice"]);
    assert!(!verify(&a, &lone), "one of four cannot finalize");
    let three = justification(&a, at(&next), 1, &["alice", "bob", "charlie"]);
    assert!(verify(&a, &three));
    a.finalize(at(&next), Some(three.encode())).unwrap();
    assert_eq!(a.finalized(), at(&next));
    // The sibling that `next` does not build on (fork choice took the lower hash) is pruned.
    let pruned = if next.block.header.parent_hash == by_bob.hash() {
        &by_charlie
    } else {
        &by_bob
    };
    assert!(
        a.block(&pruned.hash()).unwrap().is_none(),
        "the fork is pruned"
    );

    // 4 -> 1.
    set_authorities(&a, &one);
    let down = author(&a, &four, "alice");
    assert_eq!(
        down.block.header.authorities_change().map(<[_]>::len),
        Some(1)
    );
    let after = author(&a, &one, "alice");
    assert_eq!(
        a.finalized(),
        at(&next),
        "nothing is final without the old set's votes"
    );
    drop(a);
    let a = open(&spec, da.path());
    assert_eq!(a.finalized(), at(&next));
    assert_eq!(a.voter_set().id, 1);
    let more = author(&a, &one, "alice");
    assert_eq!(a.finalized(), at(&next), "still not final after a restart");
    // The old set finalizes the change block: from there the single voter finalizes at import.
    let j = justification(&a, at(&down), 1, &["bob", "charlie", "dave"]);
    assert!(verify(&a, &j));
    a.finalize(at(&down), Some(j.encode())).unwrap();
    assert_eq!(a.voter_set().id, 2);
    assert_eq!(a.voter_set().authorities, vec![dev_pair("alice").public()]);
    assert_eq!(a.finalized(), at(&down));
    let last = author(&a, &one, "alice");
    assert_eq!(
        a.finalized(),
        at(&last),
        "the single voter finalizes at import again"
    );
    assert!(last.block.header.number > more.block.header.number);
    assert!(more.block.header.number > after.block.header.number);
    drop(a);
    let a = open(&spec, da.path());
    assert_eq!((a.voter_set().id, a.finalized()), (2, at(&last)));
}

/// Alice seals a side block claiming the set is `[alice]` (stored unexecuted: its digest is
/// unchecked), then a block on it in bob's slot. Importing the second executes the first, whose
/// claim execution refutes: the fork is bad, the second refused without blame, never stored,
/// the best chain untouched.
#[test]
fn a_fork_cannot_claim_its_own_authority_set() {
    let set = ["alice", "bob"];
    let (_spec, _da, _db, a, b, _b1) = crate::forks::two_clients_sharing_block_1();
    let b2 = author(&a, &set, "bob");
    let b3 = author(&a, &set, "alice");

    // The fork on block 1: alice's block (in a later slot) with a forged set change.
    let mut f2 = author(&b, &set, "alice");
    f2.block.header.slot = b3.block.header.slot + 2;
    f2.block
        .header
        .digest
        .try_push(DigestItem::AuthoritiesChange(
            BoundedVec::try_from_vec(vec![dev_pair("alice").public()]).unwrap(),
        ))
        .unwrap();
    reseal(&mut f2, "alice");
    a.import_block(&f2, None).unwrap();
    assert_eq!(a.best(), at(&b3), "a shorter fork is stored, not executed");
    // Alice in bob's slot on top, as if the set were [alice].
    let mut f3 = f2.clone();
    f3.block.header.parent_hash = f2.hash();
    f3.block.header.number = 3;
    f3.block.header.slot = slot_of(&set, "bob", f2.block.header.slot);
    f3.block.header.digest = BoundedVec::new();
    f3.block.extrinsics.clear();
    f3.block.header.extrinsics_root = extrinsics_root(&[]);
    reseal(&mut f3, "alice");
    let err = a.import_block(&f3, None).unwrap_err();
    assert!(
        matches!(err, ImportError::UnverifiedAuthorities(h) if h == f2.hash()),
        "{err}"
    );
    assert!(!err.is_bad_block(), "an honest forwarder is not blamed");
    assert!(a.block(&f3.hash()).unwrap().is_none());
    assert_eq!(a.best(), at(&b3));
    assert_eq!(b2.block.header.number, 2);
}

/// The same shape with a true change: root's change to `[charlie]` is in B's fork block 2 (by
/// alice), and charlie's block 3 is built on it. A holds a longer chain and stored the fork
/// block unexecuted; charlie's block makes A execute that branch, believe the change and import
/// it, where it was refused for good before (the simulator found finality stalled on it).
#[test]
fn a_true_set_change_on_a_fork_lets_the_chain_built_on_it_import() {
    let set = ["alice", "bob"];
    let (_spec, _da, _db, a, b, _b1) = crate::forks::two_clients_sharing_block_1();
    author(&a, &set, "bob");
    let b3 = author(&a, &set, "alice");
    set_authorities(&b, &["charlie"]);
    let f2 = crate::forks::author(&b, "alice", slot_of(&set, "alice", b3.block.header.slot));
    assert!(f2.block.header.authorities_change().is_some());
    let f3 = crate::forks::author(&b, "charlie", f2.block.header.slot + 1);
    a.import_block(&f2, None).unwrap();
    assert_eq!(a.best(), at(&b3), "a shorter fork is stored, not executed");
    a.import_block(&f3, None).unwrap();
    assert!(a.block(&f3.hash()).unwrap().is_some());
    let lowest = b3.hash().min(f3.hash());
    assert_eq!(a.best().hash, lowest, "fork choice between two chains of 3");
}

/// Votes stop at an authority-set change: with the change in block 2 and block 3 on it, the
/// old set's target is block 2 whether the round's base is block 1 or block 2 itself (an
/// estimate at an unfinalized change block), so the change is finalized on its own; once it is,
/// the new set votes on to the head. Each change is enacted alone, with the same set id on
/// every node (two changes finalized at once gave nodes different sets with one id; the
/// simulator found both bases).
#[test]
fn votes_stop_at_an_authority_set_change() {
    let set = ["alice", "bob"];
    let next = ["alice", "bob", "charlie"];
    let (_spec, _da, _db, a, _b, b1) = crate::forks::two_clients_sharing_block_1();
    set_authorities(&a, &next);
    let b2 = author(&a, &set, "bob");
    assert!(b2.block.header.authorities_change().is_some());
    let b3 = crate::forks::author(
        &a,
        "charlie",
        slot_of(&next, "charlie", b2.block.header.slot),
    );
    assert_eq!(a.best(), at(&b3));
    assert_eq!(a.best_containing(&b1.hash()), Some(at(&b2)));
    assert_eq!(a.best_containing(&b2.hash()), Some(at(&b2)));
    a.finalize(at(&b2), None).unwrap();
    assert_eq!(a.voter_set().authorities.len(), 3);
    assert_eq!(a.best_containing(&b2.hash()), Some(at(&b3)));
}

/// Two set changes finalized at once are enacted in order with consecutive set ids, the ids a
/// node that finalized them one by one counts (set ids are in every vote's signature).
#[test]
fn set_changes_finalized_together_count_like_one_by_one() {
    let set = ["alice", "bob"];
    let next = ["alice", "bob", "charlie"];
    let (_spec, _da, _db, a, b, _b1) = crate::forks::two_clients_sharing_block_1();
    set_authorities(&a, &next);
    let b2 = author(&a, &set, "bob");
    set_authorities(&a, &set);
    let b3 = crate::forks::author(
        &a,
        "charlie",
        slot_of(&next, "charlie", b2.block.header.slot),
    );
    assert!(b3.block.header.authorities_change().is_some());
    b.import_block(&b2, None).unwrap();
    b.import_block(&b3, None).unwrap();
    a.finalize(at(&b2), None).unwrap();
    a.finalize(at(&b3), None).unwrap();
    b.finalize(at(&b3), None).unwrap();
    assert_eq!(b.voter_set().id, 2);
    assert_eq!(a.voter_set(), b.voter_set());
}

/// An author sealing many blocks for one slot: the first is followed, one extra is kept as the
/// proof, every further gossiped one is refused and not stored; a synced one is stored.
#[test]
fn at_most_one_extra_block_per_author_and_slot_is_stored() {
    let set = ["alice", "bob"];
    let (_spec, _da, _db, a, b, _b1) = crate::forks::two_clients_sharing_block_1();
    let b2 = author(&b, &set, "bob");
    a.import_block(&b2, None).unwrap();
    let twin = |i: u8| {
        let mut t = b2.clone();
        t.block.header.state_root = Hash::of(&[i]);
        reseal(&mut t, "bob");
        t
    };
    a.import_block(&twin(1), None).unwrap();
    assert_eq!(a.equivocations().len(), 1);
    for i in 2..20 {
        let t = twin(i);
        let err = a.import_block(&t, None).unwrap_err();
        assert!(
            matches!(err, ImportError::ExcessEquivocation { slot, .. } if slot == b2.block.header.slot),
            "{err}"
        );
        assert!(a.block(&t.hash()).unwrap().is_none(), "not stored");
    }
    assert_eq!(a.equivocations().len(), 1);
    assert_eq!(a.best(), at(&b2));
    // A synced range (our own request: the chain a peer builds on) may hold a third.
    let third = twin(30);
    assert!(a.import_blocks(std::slice::from_ref(&third))[0].is_ok());
    assert!(a.block(&third.hash()).unwrap().is_some());
}

/// A voter's prevote target is the best *executed* block: an unexecuted side block of equal
/// length is not a target, and becomes one only once executed (when a round's base is on it,
/// `best_containing` executes it first, and the best chain stays where fork choice puts it); an
/// invalid longer side fork is never one.
#[test]
fn votes_go_only_to_executed_blocks() {
    let set = ["alice", "bob"];
    let (_spec, _da, _db, a, b, b1) = crate::forks::two_clients_sharing_block_1();
    let b2a = author(&a, &set, "bob");
    // B's fork: bob's block 2 in a later slot whose hash is above 2a's, so that A, preferring
    // the lowest hash among equally long chains, stores it without executing it.
    let mut slot = b2a.block.header.slot;
    let b2b = loop {
        slot = slot_of(&set, "bob", slot);
        let (block, _) = b
            .build_block(
                slot,
                Instant::now() + Duration::from_secs(1),
                aitbc_client::Import::ByDeadline,
            )
            .unwrap();
        let hash = block.header.hash();
        if hash > b2a.hash() {
            let seal = dev_pair("bob").sign(SigningContext::Block, hash.as_bytes());
            break aitbc_primitives::SignedBlock {
                block,
                seal,
                justification: None,
            };
        }
    };
    b.import_block(&b2b, None).unwrap();
    a.import_block(&b2b, None).unwrap();
    assert_eq!(a.best(), at(&b2a), "equal length, higher hash: A stays");
    assert_eq!(a.best_containing(&b1.hash()), Some(at(&b2a)));
    assert_eq!(
        a.best_containing(&b2b.hash()),
        Some(at(&b2b)),
        "a base on an unexecuted fork has the fork executed, then voted for"
    );
    assert_eq!(a.best(), at(&b2a), "and the best chain is where it was");

    // An invalid longer fork on 2b: 3b carries a wrong state root (sealed by its author).
    let mut b3b = author(&b, &set, "alice");
    b3b.block.header.state_root = Hash::of(b"wrong");
    reseal(&mut b3b, "alice");
    let _ = a.import_block(&b3b, None);
    let target = a.best_containing(&b1.hash()).unwrap();
    assert_ne!(target.hash, b3b.hash(), "never a vote for an invalid block");
    assert!(target.number <= 2);
    assert_ne!(a.best().hash, b3b.hash());
}
