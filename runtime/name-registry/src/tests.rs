#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use super::*;
use aitbc_primitives::commitment::MemoryState;
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{Block, Pair};

struct Chain {
    registry: NameRegistry,
    state: MemoryState,
    head: Header,
}

fn chain() -> Chain {
    let genesis = Genesis {
        chain_id: "names-test".into(),
        authorities: vec![dev_pair("alice").public()],
        slot_duration_ms: 1_000,
        names: vec![("root".into(), dev_pair("alice").public())],
    };
    let (state, head) = genesis.build().unwrap();
    Chain {
        registry: NameRegistry::new(head.hash()),
        state: state.to_memory_state(),
        head,
    }
}

impl Chain {
    fn sign(&self, who: &Pair, nonce: u64, call: Call) -> Extrinsic<Call> {
        let params = TxParams {
            nonce,
            ..TxParams::default()
        };
        Extrinsic::sign(who, call, params, self.registry.genesis_hash())
    }

    /// Builds a block of `xts`, re-executes it as an importer would, and applies it.
    fn block(&mut self, xts: &[Extrinsic<Call>]) -> Vec<Result<(), InvalidTransaction>> {
        let context = BlockContext {
            parent_hash: self.head.hash(),
            number: self.head.number + 1,
            slot: self.head.slot + 1,
        };
        let mut pending = self.registry.initialize_block(&self.state, context);
        let mut results = Vec::new();
        let mut included = Vec::new();
        for xt in xts {
            let r = self
                .registry
                .apply_extrinsic(&self.state, &mut pending, xt, false);
            if r.is_ok() {
                included.push(xt.clone());
            }
            results.push(r.map(|o| assert!(o.success)));
        }
        let built = self.registry.finalize_block(&self.state, pending).unwrap();
        let block = Block {
            header: built.header.clone(),
            extrinsics: included,
        };
        let executed = self
            .registry
            .execute_block(&self.state, &block, false)
            .unwrap();
        assert_eq!(executed.header, built.header);
        self.state.apply_update(
            &executed.changes,
            std::sync::Arc::unwrap_or_clone(executed.commitment),
        );
        self.head = executed.header;
        self.registry
            .try_state(
                &mut self
                    .state
                    .values()
                    .iter()
                    .map(|(k, v)| (k.as_slice(), v.as_slice())),
            )
            .unwrap();
        results
    }
}

fn claim(name: &str) -> Call {
    Call::Claim { name: name.into() }
}

fn code(r: &Result<(), InvalidTransaction>) -> &'static str {
    r.as_ref().map_or_else(|e| e.code(), |_| "ok")
}

#[test]
fn names_are_claimed_once_owned_transferred_and_released() {
    let mut c = chain();
    let (alice, bob) = (dev_pair("alice"), dev_pair("bob"));
    let r = c.block(&[
        c.sign(&bob, 0, claim("bob")),
        c.sign(&alice, 0, claim("bob")),
        c.sign(&bob, 1, claim("root")),
    ]);
    assert_eq!(
        r.iter().map(code).collect::<Vec<_>>(),
        ["ok", "name_taken", "name_taken"]
    );
    assert_eq!(
        c.registry.name(&c.state, "bob").unwrap().owner,
        bob.public()
    );

    let to_self = Call::Transfer {
        name: "bob".into(),
        to: bob.public(),
    };
    let too_long = Call::SetValue {
        name: "bob".into(),
        value: "x".repeat(MAX_VALUE_LEN + 1),
    };
    let r = c.block(&[c.sign(&bob, 1, to_self), c.sign(&bob, 1, too_long)]);
    assert_eq!(
        r.iter().map(code).collect::<Vec<_>>(),
        ["self_transfer", "value_too_long"]
    );

    let set = Call::SetValue {
        name: "bob".into(),
        value: "https://bob.example".into(),
    };
    let give = Call::Transfer {
        name: "bob".into(),
        to: alice.public(),
    };
    let r = c.block(&[
        c.sign(&alice, 0, set.clone()),
        c.sign(&bob, 1, set),
        c.sign(&bob, 2, give),
    ]);
    assert_eq!(
        r.iter().map(code).collect::<Vec<_>>(),
        ["not_owner", "ok", "ok"]
    );
    let record = c.registry.name(&c.state, "bob").unwrap();
    assert_eq!(record.owner, alice.public());
    assert_eq!(record.value, b"https://bob.example");

    let r = c.block(&[c.sign(&alice, 0, Call::Release { name: "bob".into() })]);
    assert_eq!(code(&r[0]), "ok");
    assert!(c.registry.name(&c.state, "bob").is_none());
    assert_eq!(c.registry.account(&c.state, &alice.public()).nonce, 1);
    assert_eq!(c.registry.account(&c.state, &bob.public()).nonce, 3);
}

#[test]
fn malformed_and_out_of_order_transactions_are_refused_with_their_reason() {
    let mut c = chain();
    let bob = dev_pair("bob");
    let tipped = Extrinsic::sign(
        &bob,
        claim("tip"),
        TxParams {
            tip: 1,
            ..TxParams::default()
        },
        c.registry.genesis_hash(),
    );
    let r = c.block(&[
        c.sign(&bob, 0, claim("Not A Name")),
        c.sign(&bob, 0, claim(&"x".repeat(MAX_NAME_LEN + 1))),
        tipped,
        c.sign(&bob, 5, claim("later")),
        c.sign(
            &bob,
            0,
            Call::Release {
                name: "nobody".into(),
            },
        ),
    ]);
    assert_eq!(
        r.iter().map(code).collect::<Vec<_>>(),
        [
            "bad_name",
            "bad_name",
            "tip_not_allowed",
            "future_nonce",
            "unknown_name"
        ]
    );
    let e = r[0].clone().unwrap_err();
    assert!(e.is_permanent());
    assert!(!RegistryError::NameTaken.is_permanent());
    // The pool holds a future nonce instead of refusing it.
    let v = c
        .registry
        .validate_transaction(&c.state, &c.sign(&bob, 5, claim("later")), false)
        .unwrap();
    assert_eq!(v.chain_nonce, 0);
    // A signature for another chain is refused.
    let mut other = c.sign(&bob, 0, claim("x"));
    other.signature = dev_pair("eve").sign(aitbc_primitives::SigningContext::Transaction, b"x");
    assert_eq!(
        c.registry
            .check_signatures(&[c.sign(&bob, 0, claim("y")), other]),
        Err((1, InvalidTransaction::BadSignature))
    );
}

#[test]
fn a_tampered_block_does_not_re_execute() {
    let mut c = chain();
    c.block(&[]);
    let bob = dev_pair("bob");
    let context = BlockContext {
        parent_hash: c.head.hash(),
        number: c.head.number + 1,
        slot: c.head.slot + 1,
    };
    let mut pending = c.registry.initialize_block(&c.state, context);
    let xt = c.sign(&bob, 0, claim("bob"));
    c.registry
        .apply_extrinsic(&c.state, &mut pending, &xt, false)
        .unwrap();
    let built = c.registry.finalize_block(&c.state, pending).unwrap();
    let mut block = Block {
        header: built.header,
        extrinsics: vec![xt],
    };
    block.header.state_root = Hash::of(b"other");
    assert!(matches!(
        c.registry.execute_block(&c.state, &block, false),
        Err(BlockError::StateRootMismatch { .. })
    ));
}

#[test]
fn calls_have_a_json_form() {
    let call: Call = serde_json::from_str(r#"{"call":"claim","name":"alice"}"#).unwrap();
    assert_eq!(call, claim("alice"));
    let json = serde_json::to_value(Call::Release { name: "a".into() }).unwrap();
    assert_eq!(json, serde_json::json!({"call": "release", "name": "a"}));
    assert!(serde_json::from_str::<Call>(r#"{"call":"mint","name":"a"}"#).is_err());
}

#[test]
fn genesis_is_checked_and_names_its_chain() {
    let base = Genesis {
        chain_id: "names-a".into(),
        authorities: vec![dev_pair("alice").public()],
        slot_duration_ms: 500,
        names: Vec::new(),
    };
    let other = Genesis {
        chain_id: "names-b".into(),
        ..base.clone()
    };
    assert_ne!(base.hash().unwrap(), other.hash().unwrap());
    let empty = Genesis {
        authorities: Vec::new(),
        ..base.clone()
    };
    assert_eq!(empty.build().unwrap_err(), GenesisError::NoAuthorities);
    let bad = Genesis {
        names: vec![("UPPER".into(), dev_pair("bob").public())],
        ..base
    };
    assert!(matches!(bad.build(), Err(GenesisError::BadName(_))));
}
