//! Each way a spec can be refused. JSON-level checks are this crate's; the genesis rules are the
//! runtime's (`GenesisConfig::build`), reached through `ChainSpecError::Genesis`.

use super::{dev_value, load_value};
use crate::presets::dev_address;
use crate::ChainSpecError;
use aitbc_primitives::AddressError;
use aitbc_runtime::{GenesisError, ParamsError};
use serde_json::{json, Value};

#[track_caller]
fn genesis_error(v: &Value) -> GenesisError {
    match load_value(v) {
        Err(ChainSpecError::Genesis(e)) => e,
        other => panic!("expected a genesis error, got {other:?}"),
    }
}

#[track_caller]
fn bad_address(v: &Value) -> (String, AddressError) {
    match load_value(v) {
        Err(ChainSpecError::BadAddress { field, source, .. }) => (field, source),
        other => panic!("expected BadAddress, got {other:?}"),
    }
}

#[test]
fn bad_addresses_name_their_field() {
    let alice = dev_address("alice");
    let typo = format!(
        "{}{}",
        &alice[..alice.len() - 1],
        if alice.ends_with('q') { 'p' } else { 'q' }
    );

    let mut v = dev_value();
    v["genesis"]["balances"][2][0] = json!(typo);
    assert_eq!(
        bad_address(&v),
        ("genesis.balances[2][0]".into(), AddressError::BadChecksum)
    );

    let mut v = dev_value();
    v["genesis"]["authorities"][0] = json!("hello");
    let (field, err) = bad_address(&v);
    assert_eq!(field, "genesis.authorities[0]");
    assert!(matches!(err, AddressError::Malformed(_)));

    let mut v = dev_value();
    v["genesis"]["coordinators"][0] = json!(typo);
    assert_eq!(bad_address(&v).0, "genesis.coordinators[0]");
    for key in ["sudo", "treasury"] {
        let mut v = dev_value();
        v["genesis"][key] = json!(typo);
        let (field, _) = bad_address(&v);
        assert_eq!(field, format!("genesis.{key}"));
    }

    let mut v = dev_value();
    v["genesis"]["treasury"] = json!(typo);
    let text = load_value(&v).unwrap_err().to_string();
    assert!(
        text.contains("genesis.treasury") && text.contains("checksum"),
        "{text}"
    );
}

#[test]
fn invalid_ids_are_refused() {
    for id in ["", "has space", "../up", "é"] {
        let mut v = dev_value();
        v["id"] = json!(id);
        assert!(
            matches!(load_value(&v), Err(ChainSpecError::InvalidId(got)) if got == id),
            "{id:?}"
        );
    }
}

#[test]
fn zero_slot_duration() {
    let mut v = dev_value();
    v["genesis"]["slot_duration_ms"] = json!(0);
    assert_eq!(genesis_error(&v), GenesisError::ZeroSlotDuration);
}

#[test]
fn empty_authority_set() {
    let mut v = dev_value();
    v["genesis"]["authorities"] = json!([]);
    assert_eq!(genesis_error(&v), GenesisError::NoAuthorities);
}

#[test]
fn duplicate_account_in_balances() {
    let mut v = dev_value();
    let first = v["genesis"]["balances"][0].clone();
    v["genesis"]["balances"].as_array_mut().unwrap().push(first);
    let alice = aitbc_primitives::crypto::dev_pair("alice").public();
    assert_eq!(genesis_error(&v), GenesisError::DuplicateAccount(alice));
    assert!(load_value(&v)
        .unwrap_err()
        .to_string()
        .contains(&dev_address("alice")));
}

#[test]
fn duplicate_authority_and_coordinator() {
    let mut v = dev_value();
    v["genesis"]["authorities"] = json!([
        dev_address("alice"),
        dev_address("bob"),
        dev_address("alice")
    ]);
    let alice = aitbc_primitives::crypto::dev_pair("alice").public();
    assert_eq!(genesis_error(&v), GenesisError::DuplicateAuthority(alice));

    let mut v = dev_value();
    v["genesis"]["coordinators"] = json!([dev_address("coordinator"), dev_address("coordinator")]);
    let coordinator = aitbc_primitives::crypto::dev_pair("coordinator").public();
    assert_eq!(
        genesis_error(&v),
        GenesisError::DuplicateCoordinator(coordinator)
    );
}

#[test]
fn too_many_authorities() {
    let mut v = dev_value();
    let n = aitbc_primitives::block::MAX_AUTHORITIES + 1;
    v["genesis"]["authorities"] = (0..n)
        .map(|i| json!(dev_address(&format!("a{i}"))))
        .collect();
    assert_eq!(genesis_error(&v), GenesisError::TooManyAuthorities(n));
}

#[test]
fn ratios_over_100_percent() {
    for key in [
        "coordinator_ratio_ppm",
        "treasury_ratio_ppm",
        "fee_to_author_ppm",
    ] {
        let mut v = dev_value();
        v["genesis"]["params"] = json!({"coordinator_ratio_ppm": 0});
        v["genesis"]["params"][key] = json!(1_000_001);
        assert_eq!(
            genesis_error(&v),
            GenesisError::Params(ParamsError::RatioAbove100Percent(key)),
            "{key}"
        );
    }
    // Exactly 100% is allowed; the two mint shares together may not exceed it.
    let mut v = dev_value();
    v["genesis"]["params"] = json!({"coordinator_ratio_ppm": 1_000_000, "treasury_ratio_ppm": 0});
    load_value(&v).unwrap();
    v["genesis"]["params"] =
        json!({"coordinator_ratio_ppm": 600_000, "treasury_ratio_ppm": 400_001});
    assert_eq!(
        genesis_error(&v),
        GenesisError::Params(ParamsError::RatioSumAbove100Percent)
    );
    assert!(load_value(&v).unwrap_err().to_string().contains("100%"));
}

#[test]
fn endowment_below_existential_deposit() {
    let mut v = dev_value();
    v["genesis"]["params"] = json!({"existential_deposit": "1000"});
    v["genesis"]["balances"][1][1] = json!("999");
    assert_eq!(
        genesis_error(&v),
        GenesisError::BelowExistentialDeposit {
            account: aitbc_primitives::crypto::dev_pair("bob").public(),
            amount: 999,
            existential_deposit: 1000,
        }
    );
    v["genesis"]["balances"][1][1] = json!("1000");
    load_value(&v).unwrap();
}

#[test]
fn issuance_overflow() {
    let mut v = dev_value();
    v["genesis"]["balances"][0][1] = json!(u128::MAX.to_string());
    assert_eq!(genesis_error(&v), GenesisError::IssuanceOverflow);
}

#[test]
fn out_of_range_params() {
    let mut v = dev_value();
    v["genesis"]["params"] = json!({"existential_deposit": 0});
    assert!(matches!(
        genesis_error(&v),
        GenesisError::Params(ParamsError::OutOfRange {
            name: "existential_deposit",
            ..
        })
    ));
}
