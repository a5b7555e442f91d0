//! Tests of the chain-spec crate, split by theme.

mod golden;
mod json;
mod presets;
mod raw;
mod validation;

use crate::ChainSpec;
use serde_json::Value;

/// The dev spec as a JSON value, for tests that edit one field.
fn dev_value() -> Value {
    serde_json::from_str(&ChainSpec::dev().to_json(false).unwrap()).unwrap()
}

/// Parses an edited spec.
fn load_value(v: &Value) -> Result<ChainSpec, crate::ChainSpecError> {
    ChainSpec::from_json_str(&serde_json::to_string_pretty(v).unwrap())
}
