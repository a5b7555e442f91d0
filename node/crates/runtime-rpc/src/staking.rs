//! Validators, stakers and offences over the RPC: `getValidators`, `getStaking/{address}` and
//! `getOffences`, read from the best block's state.

use aitbc_client::Client;
use aitbc_rpc::error::ApiError;
use aitbc_rpc::methods::parse_address;
use aitbc_runtime::StakingApi;
use serde_json::Value;

/// `GET /rpc/getValidators`: the epoch, its elected set (bond, work score, weight, blocks
/// authored, disabled) and every candidate.
pub fn get_validators<S: StakingApi>(client: &Client<S>) -> Result<Value, ApiError> {
    let state = client.state()?;
    serde_json::to_value(client.runtime().validators(&state)).map_err(ApiError::internal)
}

/// `GET /rpc/getStaking/{address}`: one account's bond, unlocking chunks, candidacy and the
/// validator its work backs (zeros and `null` for an account that never bonded).
pub fn get_staking<S: StakingApi>(client: &Client<S>, address: &str) -> Result<Value, ApiError> {
    let who = parse_address(address)?;
    let state = client.state()?;
    serde_json::to_value(client.runtime().staking(&state, &who)).map_err(ApiError::internal)
}

/// `GET /rpc/getOffences`: the most recent punished offences, oldest first.
pub fn get_offences<S: StakingApi>(client: &Client<S>) -> Result<Value, ApiError> {
    let state = client.state()?;
    serde_json::to_value(client.runtime().offences(&state)).map_err(ApiError::internal)
}
