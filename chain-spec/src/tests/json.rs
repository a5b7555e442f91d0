use super::{dev_value, load_value};
use crate::presets::dev_address;
use crate::{ChainSpec, ChainSpecError};
use aitbc_runtime::Params;
use serde_json::json;
use std::io::Write;

#[test]
fn round_trip_json_spec_json() {
    for spec in [ChainSpec::dev(), ChainSpec::local()] {
        let text = spec.to_json(false).unwrap();
        let back = ChainSpec::from_json_str(&text).unwrap();
        assert_eq!(back, spec);
        assert_eq!(back.to_json(false).unwrap(), text);
    }
}

#[test]
fn json_shape_follows_the_contract() {
    let v = dev_value();
    let top: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(top.len(), 6, "{top:?}");
    for key in [
        "name",
        "id",
        "chain_type",
        "boot_nodes",
        "properties",
        "genesis",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["chain_type"], "Development");
    assert_eq!(
        v["properties"],
        json!({"token_symbol": "AIT", "token_decimals": 18})
    );
    let g = &v["genesis"];
    assert_eq!(g["slot_duration_ms"], 1000);
    assert_eq!(
        g["balances"][0],
        json!([dev_address("alice"), "1000000000000000000"])
    );
    assert_eq!(g["authorities"], json!([dev_address("alice")]));
    assert_eq!(g["coordinators"], json!([dev_address("coordinator")]));
    assert_eq!(g["sudo"], dev_address("alice"));
    assert_eq!(g["treasury"], dev_address("treasury"));
    assert_eq!(g["faucet"], true);
    assert_eq!(g["params"]["mint_per_unit"], "1000");
    assert_eq!(g["params"]["coordinator_ratio_ppm"], 50_000);
    assert!(ChainSpec::local()
        .to_json(false)
        .unwrap()
        .contains("\"chain_type\": \"Local\""));
}

#[test]
fn amounts_accept_numbers_and_params_may_be_partial() {
    let mut v = dev_value();
    v["genesis"]["balances"][0][1] = json!(1_000_000_000_000_000_000u64);
    v["genesis"]["slot_duration_ms"] = json!("1000");
    v["genesis"]["params"] = json!({"base_fee": 7, "fee_per_byte": "2"});
    let spec = load_value(&v).unwrap();
    let expected = Params {
        base_fee: 7,
        fee_per_byte: 2,
        ..Params::default()
    };
    assert_eq!(spec.genesis.params, expected);
    assert_eq!(
        spec.genesis,
        ChainSpec {
            genesis: spec.genesis.clone(),
            ..ChainSpec::dev()
        }
        .genesis
    );
    assert_eq!(spec.genesis.balances, ChainSpec::dev().genesis.balances);
    assert_eq!(spec.genesis.slot_duration_ms, 1000);

    // Whole optional sections left out.
    let g = v["genesis"].as_object_mut().unwrap();
    for key in ["params", "coordinators", "sudo", "faucet"] {
        g.remove(key);
    }
    v.as_object_mut().unwrap().remove("boot_nodes");
    v.as_object_mut().unwrap().remove("properties");
    let spec = load_value(&v).unwrap();
    assert_eq!(spec.genesis.params, Params::default());
    assert!(spec.genesis.coordinators.is_empty());
    assert_eq!(spec.genesis.sudo, None);
    assert!(!spec.genesis.faucet);
    assert_eq!(spec.genesis_config().unwrap().sudo, None);
    assert_eq!(spec.properties, crate::Properties::default());
}

#[track_caller]
fn assert_shape_error(v: &serde_json::Value, needle: &str) {
    match load_value(v) {
        Err(ChainSpecError::Json { kind, message, .. }) => {
            assert_eq!(kind, "invalid chain spec");
            assert!(
                message.contains(needle),
                "{message:?} does not mention {needle:?}"
            );
        }
        other => panic!("expected a JSON shape error, got {other:?}"),
    }
}

#[test]
fn unknown_fields_are_refused_at_every_level() {
    let mut v = dev_value();
    v["extra"] = json!(1);
    assert_shape_error(&v, "extra");

    let mut v = dev_value();
    v["genesis"]["sloot_duration_ms"] = json!(1);
    assert_shape_error(&v, "sloot_duration_ms");

    let mut v = dev_value();
    v["genesis"]["params"]["mint_per_unitt"] = json!("1");
    assert_shape_error(&v, "mint_per_unitt");

    let mut v = dev_value();
    v["properties"]["colour"] = json!("red");
    assert_shape_error(&v, "colour");

    let mut v = dev_value();
    v["chain_type"] = json!("Mainnet");
    assert_shape_error(&v, "Mainnet");

    let mut v = dev_value();
    v["genesis"]["balances"][0][1] = json!("-5");
    assert_shape_error(&v, "-5");

    let mut v = dev_value();
    v["genesis"].as_object_mut().unwrap().remove("treasury");
    assert_shape_error(&v, "treasury");
}

#[test]
fn syntax_errors_give_line_and_column() {
    let text = "{\n  \"name\": \"x\",\n  \"id\": oops\n}";
    match ChainSpec::from_json_str(text) {
        Err(
            e @ ChainSpecError::Json {
                kind: "invalid JSON",
                line: 3,
                column,
                ..
            },
        ) => {
            assert!(column > 0);
            assert!(e.to_string().contains("line 3"), "{e}");
        }
        other => panic!("expected a JSON syntax error, got {other:?}"),
    }
}

#[test]
fn missing_file_is_reported() {
    let err = ChainSpec::load("/nonexistent/spec.json").unwrap_err();
    assert!(matches!(err, ChainSpecError::NotFound { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("/nonexistent/spec.json") && text.contains("dev"),
        "{text}"
    );
}

#[test]
fn custom_spec_with_fast_slots_loads_from_a_file() {
    let mut spec = ChainSpec::dev();
    spec.name = "Fast test chain".into();
    spec.id = "fast_test".into();
    spec.genesis.slot_duration_ms = 100;
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(spec.to_json(false).unwrap().as_bytes())
        .unwrap();
    let path = file.path().to_str().unwrap();

    let loaded = ChainSpec::load(path).unwrap();
    assert_eq!(loaded, spec);
    let genesis = loaded.genesis().unwrap();
    assert_eq!(loaded.genesis_config().unwrap().slot_duration_ms, 100);
    assert_ne!(genesis.hash, ChainSpec::dev().genesis().unwrap().hash);

    // A JSON error in a file names the file.
    let mut bad = tempfile::NamedTempFile::new().unwrap();
    bad.write_all(b"{ \"name\": ").unwrap();
    let err = ChainSpec::load(bad.path().to_str().unwrap()).unwrap_err();
    assert!(
        matches!(&err, ChainSpecError::Json { origin, .. } if origin == &bad.path().display().to_string()),
        "{err:?}"
    );
}

#[test]
fn the_genesis_built_at_load_is_handed_out_once_and_never_stale() {
    let mut spec = ChainSpec::dev();
    spec.id = "handed_out".into();
    let loaded = ChainSpec::from_json_str(&spec.to_json(false).unwrap()).unwrap();
    let expected = spec.genesis().unwrap();
    let (fingerprint, kept) = loaded
        .loaded
        .take()
        .expect("loading keeps the genesis it built");
    assert_eq!(kept.hash, expected.hash);
    loaded.loaded.keep(fingerprint, kept);
    // The kept genesis, then a fresh build: the same block both times.
    assert_eq!(loaded.genesis().unwrap().hash, expected.hash);
    assert!(loaded.loaded.take().is_none(), "handed out once");
    assert_eq!(loaded.genesis().unwrap().hash, expected.hash);

    // A genesis section changed after loading is built anew, not answered from the kept one.
    let mut changed = ChainSpec::from_json_str(&spec.to_json(false).unwrap()).unwrap();
    changed.genesis.slot_duration_ms = 250;
    let genesis = changed.genesis().unwrap();
    assert_eq!(changed.genesis_config().unwrap().slot_duration_ms, 250);
    assert_ne!(genesis.hash, expected.hash);
    // So is one whose id changed.
    let mut renamed = ChainSpec::from_json_str(&spec.to_json(false).unwrap()).unwrap();
    renamed.id = "renamed".into();
    assert_ne!(renamed.genesis().unwrap().hash, expected.hash);
}

/// Two networks launched from one genesis configuration under different ids have different
/// genesis hashes, so neither accepts the other's transactions, receipts, votes or peers (every
/// signature covers the genesis hash; peers compare it at the handshake).
#[test]
fn the_genesis_hash_covers_the_chain_id() {
    let dev = ChainSpec::dev();
    let mut twin = ChainSpec::dev();
    twin.id = "dev_twin".into();
    let (a, b) = (dev.genesis().unwrap(), twin.genesis().unwrap());
    assert_eq!(
        a.header.state_root, b.header.state_root,
        "the same genesis state"
    );
    assert_ne!(a.hash, b.hash);
    let pair = aitbc_primitives::crypto::dev_pair("alice");
    let msg = [b"payload".as_slice(), a.hash.as_bytes()].concat();
    let sig = pair.sign(aitbc_primitives::SigningContext::Transaction, &msg);
    let other = [b"payload".as_slice(), b.hash.as_bytes()].concat();
    assert!(!sig.verify(
        aitbc_primitives::SigningContext::Transaction,
        &other,
        &pair.public()
    ));
    // Ids too long to bind are refused.
    twin.id = "x".repeat(crate::spec::MAX_ID_LEN + 1);
    assert!(matches!(twin.genesis(), Err(ChainSpecError::InvalidId(_))));
}
