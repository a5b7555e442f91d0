//! The JSON transaction form of calls and the serde form of events.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use aitbc_primitives::{AccountId, ComputeReceipt, Hash, ReceiptClaim, Signature};
use aitbc_runtime::authority::AuthoritySet;
use aitbc_runtime::testing::acc;
use aitbc_runtime::{balances, Call, Event, Param};
use serde_json::json;

fn round_trip(call: Call) -> serde_json::Value {
    let v = serde_json::to_value(&call).unwrap();
    let back: Call = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(back, call, "{v}");
    v
}

/// A claim with fixed fields and signatures.
fn sample_claim() -> ReceiptClaim {
    ReceiptClaim {
        receipt: ComputeReceipt {
            job_id: 1,
            client: acc("bob"),
            miner: acc("miner"),
            coordinator: acc("coordinator"),
            compute_units: 5,
            price: 10,
            output_hash: Hash([9; 32]),
        },
        miner_sig: Signature([1; 64]),
        attestation: Signature([2; 64]),
    }
}

#[test]
fn every_call_round_trips() {
    let claim = sample_claim();
    let calls = vec![
        Call::transfer(acc("bob"), u128::MAX),
        Call::mint(acc("bob"), 5),
        Call::open_job(7, acc("coordinator"), 100, 10),
        Call::claim(claim),
        Call::refund(7),
        Call::add_coordinator(acc("c")),
        Call::remove_coordinator(acc("c")),
        Call::set_param(Param::MintPerUnit(123)),
        Call::set_authorities(AuthoritySet::try_from_vec(vec![acc("a"), acc("b")]).unwrap()),
        Call::sudo(Call::sudo(Call::mint(acc("x"), 1))),
        Call::set_sudo_key(acc("bob")),
    ];
    let types: Vec<String> = calls
        .into_iter()
        .map(|c| round_trip(c)["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "TRANSFER",
            "MINT",
            "OPEN_JOB",
            "RECEIPT_CLAIM",
            "REFUND",
            "ADD_COORDINATOR",
            "REMOVE_COORDINATOR",
            "PARAM_SET",
            "SET_AUTHORITIES",
            "SUDO",
            "SET_SUDO_KEY"
        ]
    );
}

#[test]
fn json_shapes() {
    let bob = acc("bob").to_string();
    assert!(bob.starts_with("ait1"));
    let v = round_trip(Call::transfer(acc("bob"), 1_000));
    assert_eq!(
        v,
        json!({"type": "TRANSFER", "payload": {"to": bob, "amount": "1000"}})
    );
    let v = round_trip(Call::sudo(Call::set_param(Param::BaseFee(5))));
    assert_eq!(
        v,
        json!({"type": "SUDO", "payload": {"call": {"type": "PARAM_SET", "payload": {"key": "base_fee", "value": "5"}}}})
    );
    // Numbers are accepted for amounts, values and ids.
    let c: Call =
        serde_json::from_value(json!({"type": "TRANSFER", "payload": {"to": bob, "amount": 12}}))
            .unwrap();
    assert_eq!(c, Call::transfer(acc("bob"), 12));
    let c: Call = serde_json::from_value(
        json!({"type": "PARAM_SET", "payload": {"key": "epoch_length", "value": 9}}),
    )
    .unwrap();
    assert_eq!(c, Call::set_param(Param::EpochLength(9)));
    let c: Call =
        serde_json::from_value(json!({"type": "REFUND", "payload": {"job_id": "4"}})).unwrap();
    assert_eq!(c, Call::refund(4));
    let v = round_trip(Call::claim(sample_claim()));
    assert_eq!(
        v["payload"]["miner_sig"],
        json!(format!("0x{}", "01".repeat(64)))
    );
}

#[test]
fn json_errors() {
    let bob = acc("bob").to_string();
    for bad in [
        json!({"type": "TRANSFER", "payload": {"to": "bob", "amount": "1"}}),
        json!({"type": "TRANSFER", "payload": {"to": bob, "amount": "-1"}}),
        json!({"type": "PARAM_SET", "payload": {"key": "nope", "value": "1"}}),
        json!({"type": "PARAM_SET", "payload": {"key": "base_fee", "value": "x"}}),
        json!({"type": "LAUNCH_ROCKET", "payload": {}}),
        json!({"type": "SET_AUTHORITIES", "payload": {"authorities": vec![bob.clone(); 129]}}),
    ] {
        assert!(
            serde_json::from_value::<Call>(bad.clone()).is_err(),
            "{bad}"
        );
    }
    let _ = AccountId([0; 32]);
}

#[test]
fn events_serialize_for_rpc() {
    let e = Event::Balances(balances::Event::Transfer {
        from: acc("a"),
        to: acc("b"),
        amount: 5,
    });
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["Balances"]["Transfer"]["amount"], json!("5"));
}
