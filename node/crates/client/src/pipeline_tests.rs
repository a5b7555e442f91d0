//! The pipelined author (see `build.rs`): a block built on the in-flight block's state (its
//! parent's stored state with the block's changes and tree nodes over it) must be the block a
//! build on the stored state makes, and import everywhere like any other.

use crate::test_chain::{client, SLOT_MS};
use crate::Import;
use aitbc_consensus::{Clock, SystemClock};
use aitbc_name_registry::Call;
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{Extrinsic, Pair, StateView};
use std::time::{Duration, Instant};

fn claim(
    client: &crate::Client<aitbc_name_registry::NameRegistry>,
    who: &Pair,
    nonce: u64,
    name: &str,
) {
    let params = TxParams {
        nonce,
        ..TxParams::default()
    };
    let xt = Extrinsic::sign(
        who,
        Call::Claim { name: name.into() },
        params,
        client.genesis_hash(),
    );
    let len = codec::Encode::encoded_size(&xt);
    client.submit_decoded(xt, len).expect("pooled");
}

#[test]
fn a_block_built_on_an_in_flight_block_equals_one_built_on_the_stored_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pipelined = client(&dir.path().join("pipelined.redb"));
    let sequential = client(&dir.path().join("sequential.redb"));
    let importer = client(&dir.path().join("importer.redb"));
    let slot = SystemClock.now_ms() / SLOT_MS - 10;
    let later = Instant::now() + Duration::from_secs(10);
    let (alice, bob) = (dev_pair("alice"), dev_pair("bob"));
    for c in [&pipelined, &sequential] {
        claim(c, &bob, 0, "first");
        claim(c, &bob, 1, "second");
    }

    // Pipelined: block 1 is sealed and still in flight when block 2 is built on it.
    let seal = |slot| {
        pipelined
            .seal_block(
                slot,
                later,
                Import::Within(later - Instant::now()),
                &alice,
                |_| Ok(()),
            )
            .expect("sealed")
            .expect("signed")
    };
    let one = seal(slot);
    assert_eq!(one.block.block.extrinsics.len(), 2);
    assert_eq!(pipelined.best().number, 0, "block 1 is not stored yet");
    let first = one.block.block.extrinsics[0].hash();
    assert!(
        matches!(
            pipelined.tx_status(&first),
            Ok(Some(crate::TxStatus::Pending(_)))
        ),
        "a transaction of the in-flight block is pending, not unknown"
    );
    assert_eq!(
        pipelined.next_nonce(&bob.public(), 0),
        2,
        "past the in-flight block"
    );
    // Bob's next claim is admitted on block 1's state (in flight), where nonce 2 is his next:
    // ready at once, as it is after block 1 is stored.
    claim(&pipelined, &bob, 2, "third");
    assert_eq!(pipelined.build_parent(), one.block.block.header);
    let state = pipelined.build_state().expect("state");
    assert_eq!(state.at().number, 1);
    drop(state);
    let two = seal(slot + 1);
    assert_eq!(
        two.block.block.header.parent_hash,
        one.block.block.header.hash()
    );
    assert_eq!(
        two.block.block.extrinsics.len(),
        1,
        "bob's third claim, on block 1's state"
    );
    let (one_signed, two_signed) = (one.block.clone(), two.block.clone());
    pipelined.import_authored(one).expect("block 1 stored");
    assert!(matches!(
        pipelined.tx_status(&first),
        Ok(Some(crate::TxStatus::Included(_)))
    ));
    pipelined.import_authored(two).expect("block 2 stored");

    // Sequential: each block stored before the next is built.
    let mut blocks = Vec::new();
    for s in [slot, slot + 1] {
        let (_, b) = sequential
            .author_block(s, later, &alice, |_| Ok(()))
            .expect("authored")
            .expect("signed");
        blocks.push(b);
        if s == slot {
            claim(&sequential, &bob, 2, "third");
        }
    }
    assert_eq!(blocks, vec![one_signed.clone(), two_signed.clone()]);

    // An importer executes both from its stored state: the same roots, the same state.
    for b in [&one_signed, &two_signed] {
        importer.import_block(b, None).expect("imports");
    }
    assert_eq!(importer.best_header(), two_signed.block.header);
    assert_eq!(pipelined.best_header(), two_signed.block.header);
    let (p, i) = (
        pipelined.state().expect("state"),
        importer.state().expect("state"),
    );
    let registry = pipelined.runtime();
    for name in ["first", "second", "third"] {
        assert_eq!(registry.name(&p, name), registry.name(&i, name));
        assert!(registry.name(&p, name).is_some(), "{name} claimed");
    }
    assert_eq!(p.get(b"no such key"), None);
}
