//! The operator's side of AITBC over the RPC: `GET /rpc/getParams`, and the admin actions
//! (faucet mint, parameter set, coordinator add and remove), which become root extrinsics
//! signed by the node's sudo key and go through the pool into a block like any other
//! transaction. The admin guard (bearer token, loopback) is the generic RPC's; each action is
//! one row of [`ACTIONS`]: its route and how its body becomes an [`AdminAction`].

use aitbc_client::Client;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{serde_balance, AccountId, Balance, Extrinsic, Pair};
use aitbc_rpc::error::ApiError;
use aitbc_rpc::methods::parse_address;
use aitbc_rpc::routes::{admin_route, Handler, RouteSpec};
use aitbc_runtime::{AdminAction, AdminApi, AdminError};
use codec::Encode;
use serde::Deserialize;
use serde_json::{json, Value};

/// One admin action: its route and the parser of its JSON body.
#[derive(Debug)]
pub struct Action {
    pub route: RouteSpec,
    parse: fn(&Value) -> Result<AdminAction, ApiError>,
}

/// Every admin action.
pub const ACTIONS: [Action; 4] = [
    Action {
        // `{address, amount}`.
        route: admin_route("/admin/mintFaucet", "mintFaucet", Handler::Chain),
        parse: |v| {
            let b: MintBody = body(v)?;
            Ok(AdminAction::MintFaucet {
                dest: parse_address(&b.address)?,
                amount: b.amount,
            })
        },
    },
    Action {
        // `{key, value}`: the value a number or a decimal string.
        route: admin_route("/admin/paramSet", "paramSet", Handler::Chain),
        parse: |v| {
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
            Ok(AdminAction::ParamSet { key: b.key, value })
        },
    },
    Action {
        // `{address}`: 409 if it already is a coordinator.
        route: admin_route("/admin/coordinatorAdd", "coordinatorAdd", Handler::Chain),
        parse: |v| {
            let who = parse_address(&body::<AddressBody>(v)?.address)?;
            Ok(AdminAction::AddCoordinator { who })
        },
    },
    Action {
        // `{address}`: 404 if it is not a coordinator. Its attestations are refused from the
        // block that includes the removal on.
        route: admin_route(
            "/admin/coordinatorRemove",
            "coordinatorRemove",
            Handler::Chain,
        ),
        parse: |v| {
            let who = parse_address(&body::<AddressBody>(v)?.address)?;
            Ok(AdminAction::RemoveCoordinator { who })
        },
    },
];

/// The admin action of route `name`.
pub fn action(name: &str) -> Option<&'static Action> {
    static ALL: [Action; 4] = ACTIONS;
    ALL.iter().find(|a| a.route.name == name)
}

/// Runs `action` with its JSON body: the root call, signed by `sudo` and submitted.
pub fn run<S: AdminApi>(
    client: &Client<S>,
    sudo: Option<&Pair>,
    action: &Action,
    v: &Value,
) -> Result<Value, ApiError> {
    submit_root(client, sudo, (action.parse)(v)?)
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

/// Serializes the pick-a-nonce-and-submit step of admin actions.
static ADMIN_SUBMIT: parking_lot::Mutex<()> = parking_lot::Mutex::new(());

fn submit_root<S: AdminApi>(
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

/// `GET /rpc/getParams`: the on-chain parameters at the best block, each as a decimal string.
pub fn get_params<S: AdminApi>(client: &Client<S>) -> Result<Value, ApiError> {
    let state = client.state()?;
    let params: serde_json::Map<String, Value> = client
        .runtime()
        .params(&state)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    state.check()?;
    Ok(json!({ "params": params }))
}
