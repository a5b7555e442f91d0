use super::load_value;
use crate::{ChainSpec, ChainSpecError, RawGenesis};
use serde_json::{json, Value};

fn raw_dev() -> Value {
    serde_json::from_str(&ChainSpec::dev().to_json(true).unwrap()).unwrap()
}

#[track_caller]
fn assert_mismatch(v: &Value, needle: &str) {
    match load_value(v) {
        Err(ChainSpecError::RawGenesisMismatch(what)) => {
            assert!(what.contains(needle), "{what:?} lacks {needle:?}")
        }
        other => panic!("expected RawGenesisMismatch, got {other:?}"),
    }
}

#[test]
fn raw_spec_loads_and_matches() {
    let spec = ChainSpec::dev();
    let genesis = spec.genesis().unwrap();
    let text = spec.to_json(true).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["genesis_raw"]["genesis_hash"], genesis.hash.to_string());
    assert_eq!(
        v["genesis_raw"]["state_root"],
        genesis.header.state_root.to_string()
    );
    let state = v["genesis_raw"]["state"].as_object().unwrap();
    assert_eq!(state.len(), genesis.state.entries().len());
    for aitbc_primitives::bulk::SortedEntry {
        key: k, value: val, ..
    } in genesis.state.entries()
    {
        assert_eq!(
            state[&format!("0x{}", hex::encode(k))],
            format!("0x{}", hex::encode(val))
        );
    }

    let loaded = ChainSpec::from_json_str(&text).unwrap();
    assert_eq!(loaded.genesis_raw, Some(RawGenesis::of(&genesis)));
    assert_eq!(
        ChainSpec {
            genesis_raw: None,
            ..loaded.clone()
        },
        spec
    );
    // Round trips: raw -> raw and raw -> plain.
    assert_eq!(loaded.to_json(true).unwrap(), text);
    assert_eq!(loaded.to_json(false).unwrap(), spec.to_json(false).unwrap());
}

#[test]
fn tampered_raw_specs_are_refused() {
    let v = raw_dev();
    let (first_key, first_value) = {
        let state = v["genesis_raw"]["state"].as_object().unwrap();
        let (k, val) = state.iter().next().unwrap();
        (k.clone(), val.as_str().unwrap().to_string())
    };

    // A changed value.
    let mut t = v.clone();
    let flipped = format!(
        "{}{}",
        &first_value[..first_value.len() - 1],
        if first_value.ends_with('0') { '1' } else { '0' }
    );
    t["genesis_raw"]["state"][&first_key] = json!(flipped);
    assert_mismatch(&t, "differs");

    // An extra key.
    let mut t = v.clone();
    t["genesis_raw"]["state"]["0x00"] = json!("0x01");
    assert_mismatch(&t, "not in the genesis state");

    // A removed key.
    let mut t = v.clone();
    t["genesis_raw"]["state"]
        .as_object_mut()
        .unwrap()
        .remove(&first_key);
    assert_mismatch(&t, "missing");

    // A forged root or hash.
    let mut t = v.clone();
    t["genesis_raw"]["state_root"] = json!(format!("0x{}", "11".repeat(32)));
    assert_mismatch(&t, "state_root");
    let mut t = v.clone();
    t["genesis_raw"]["genesis_hash"] = json!(format!("0x{}", "22".repeat(32)));
    assert_mismatch(&t, "genesis_hash");

    // The human-readable part changed under an old raw section.
    let mut t = v.clone();
    t["genesis"]["slot_duration_ms"] = json!(2000);
    assert!(matches!(
        load_value(&t),
        Err(ChainSpecError::RawGenesisMismatch(_))
    ));

    // Malformed hex.
    let mut t = v.clone();
    t["genesis_raw"]["state"]["zz"] = json!("0x01");
    assert!(matches!(
        load_value(&t),
        Err(ChainSpecError::InvalidRawGenesis(_))
    ));
    // The same key twice, in two spellings.
    let mut t = v.clone();
    t["genesis_raw"]["state"][first_key.to_uppercase().replacen("0X", "0x", 1)] =
        json!(first_value);
    assert!(matches!(
        load_value(&t),
        Err(ChainSpecError::InvalidRawGenesis(_))
    ));
    // Unknown fields in the raw section.
    let mut t = v;
    t["genesis_raw"]["extra"] = json!(1);
    assert!(matches!(load_value(&t), Err(ChainSpecError::Json { .. })));
}
