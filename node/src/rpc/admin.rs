//! Admin routes: state changes an operator asks for (faucet mint, parameter set, coordinator add
//! and remove) become root extrinsics signed by the node's sudo key, which go through the pool
//! into a block like any other transaction. Bearer-token auth with a constant-time compare.

use super::error::ApiError;
use super::methods::parse_address;
use crate::client::Client;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{
    serde_balance, AccountId, AdminAction, AdminError, Balance, Extrinsic, Pair, StateMachine,
};
use codec::Encode;
use serde::Deserialize;
use serde_json::{json, Value};

/// Constant-time equality of two byte strings (the length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks `Authorization: Bearer TOKEN`.
pub fn authorize(header: Option<&str>, token: Option<&str>) -> Result<(), ApiError> {
    let Some(token) = token else {
        // No token configured: no bearer token is valid (401 `admin_disabled`).
        return Err(ApiError::new(
            401,
            "admin_disabled",
            "admin routes are disabled on this node (start it with --admin-token)",
        ));
    };
    let given = header
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(g) if constant_time_eq(g.as_bytes(), token.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::new(401, "unauthorized", "wrong admin token")),
        None => Err(ApiError::new(
            401,
            "unauthorized",
            "missing Authorization: Bearer token",
        )),
    }
}

#[derive(Deserialize)]
struct MintBody {
    address: String,
    #[serde(with = "serde_balance")]
    amount: Balance,
}

#[derive(Deserialize)]
struct AddressBody {
    address: String,
}

#[derive(Deserialize)]
struct ParamBody {
    key: String,
    value: Value,
}

fn admin_error(e: AdminError) -> ApiError {
    match e {
        AdminError::FaucetDisabled => ApiError::new(403, "faucet_disabled", e.to_string()),
        AdminError::NoSudo => ApiError::new(403, "no_sudo", e.to_string()),
        AdminError::UnknownParam(_) => ApiError::bad_request("unknown_param", e.to_string()),
        AdminError::BadParamValue { .. } => {
            ApiError::bad_request("param_out_of_bounds", e.to_string())
        }
        AdminError::CoordinatorExists(_) => ApiError::new(409, "coordinator_exists", e.to_string()),
        AdminError::NotACoordinator(_) => ApiError::new(404, "unknown_coordinator", e.to_string()),
    }
}

fn body<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, ApiError> {
    serde_json::from_value(v.clone())
        .map_err(|e| ApiError::bad_request("invalid_request", e.to_string()))
}

/// `POST /admin/mintFaucet` `{address, amount}`.
pub fn mint_faucet<S: StateMachine>(
    client: &Client<S>,
    sudo: Option<&Pair>,
    v: &Value,
) -> Result<Value, ApiError> {
    let b: MintBody = body(v)?;
    let dest = parse_address(&b.address)?;
    submit_root(
        client,
        sudo,
        AdminAction::MintFaucet {
            dest,
            amount: b.amount,
        },
    )
}

/// `POST /admin/paramSet` `{key, value}`.
pub fn param_set<S: StateMachine>(
    client: &Client<S>,
    sudo: Option<&Pair>,
    v: &Value,
) -> Result<Value, ApiError> {
    let b: ParamBody = body(v)?;
    let value = match &b.value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => {
            return Err(ApiError::bad_request(
                "invalid_request",
                format!("value must be a number or string, got {other}"),
            ))
        }
    };
    submit_root(client, sudo, AdminAction::ParamSet { key: b.key, value })
}

/// `POST /admin/coordinatorAdd` `{address}`: registers a coordinator (409 if it already is one).
pub fn coordinator_add<S: StateMachine>(
    client: &Client<S>,
    sudo: Option<&Pair>,
    v: &Value,
) -> Result<Value, ApiError> {
    let b: AddressBody = body(v)?;
    let who = parse_address(&b.address)?;
    submit_root(client, sudo, AdminAction::AddCoordinator { who })
}

/// `POST /admin/coordinatorRemove` `{address}`: unregisters a coordinator (404 if it is not
/// one). Its attestations are refused from the block that includes the removal on.
pub fn coordinator_remove<S: StateMachine>(
    client: &Client<S>,
    sudo: Option<&Pair>,
    v: &Value,
) -> Result<Value, ApiError> {
    let b: AddressBody = body(v)?;
    let who = parse_address(&b.address)?;
    submit_root(client, sudo, AdminAction::RemoveCoordinator { who })
}

/// Serializes the pick-a-nonce-and-submit step of admin actions.
static ADMIN_SUBMIT: crate::util::Mutex<()> = crate::util::Mutex::new(());

fn submit_root<S: StateMachine>(
    client: &Client<S>,
    sudo: Option<&Pair>,
    action: AdminAction,
) -> Result<Value, ApiError> {
    let state = client.state()?;
    let call = client
        .runtime()
        .admin_call(&state, action)
        .map_err(admin_error)?;
    let chain_sudo: Option<AccountId> = client.runtime().sudo_key(&state);
    let pair = match (sudo, chain_sudo) {
        (Some(p), Some(k)) if p.public() == k => p,
        _ => {
            return Err(ApiError::new(
                403,
                "no_sudo_key",
                "this node does not hold the chain's sudo key (start it with --sudo-key)",
            ))
        }
    };
    // One admin submission at a time, so concurrent requests take consecutive nonces.
    let _one_at_a_time = ADMIN_SUBMIT.lock();
    let chain_nonce = client.runtime().account(&state, &pair.public()).nonce;
    drop(state);
    let nonce = client.pool().next_nonce(&pair.public(), chain_nonce);
    let xt = Extrinsic::sign(
        pair,
        call,
        TxParams {
            nonce,
            tip: 0,
            valid_until: None,
        },
        client.genesis_hash(),
    );
    let len = xt.encoded_size();
    let hash = client.submit_decoded(xt, len)?;
    Ok(json!({ "txHash": hash }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_checks() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert_eq!(authorize(Some("Bearer t0k"), Some("t0k")), Ok(()));
        assert_eq!(
            authorize(Some("Bearer nope"), Some("t0k"))
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(authorize(None, Some("t0k")).unwrap_err().status, 401);
        assert_eq!(authorize(Some("Bearer x"), None).unwrap_err().status, 401);
    }
}
