//! JSON-RPC 2.0 at `POST /rpc`: the methods of the REST API, with positional parameters.
//!
//! | method | params |
//! | --- | --- |
//! | `getHead` | `[]` |
//! | `getBlock` | `[heightOrHash]` (a number, a decimal string or a `0x` hash) |
//! | `getBlockEvents` | `[heightOrHash]` (as for `getBlock`) |
//! | `getTx` | `[txHash]` |
//! | `getBalance` | `[address]` |
//! | `sendTx` | `[tx]`: `"0x<SCALE extrinsic>"` or the JSON transaction object |
//! | `estimateFee` | `[tx]` |
//!
//! and the methods of the chain's extension ([`crate::context::RpcExtension`]; AITBC adds `submitReceipt`,
//! `getReceipt` and `getJob`). Results are the REST answers. A single call or a batch (an array, at most [`MAX_BATCH`]
//! calls, answered in order); a call without `id` is a notification: it runs, and gets no entry
//! in the answer. When nothing is left to answer (a notification, or a batch of them) the HTTP
//! answer is 204 with an empty body; otherwise 200 with the JSON-RPC response(s). HTTP-level
//! refusals (413, 429, 503, 408) stay HTTP errors.
//!
//! Errors: -32700 parse error, -32600 invalid request (also an empty or too-large batch),
//! -32601 method not found, -32602 invalid params (wrong number or type of params), and for the
//! methods' own errors the code of [`crate::error::jsonrpc_code`] (400 -> -32000, 404 -> -32004,
//! 409 -> -32009, 429 -> -32029, 503 -> -32053, 500 -> -32603, …). `error.data` is always the
//! snake_case reason (`"parse_error"`, `"invalid_params"`, `"stale_nonce"`, `"not_found"`, …),
//! the same code as the REST error body.

use crate::context::{Answer, RpcContext};
use crate::error::{ApiError, RpcError, PARSE_ERROR};
use crate::methods;
use crate::proofs;
use aitbc_primitives::StateMachine;
use serde_json::{json, Map, Value};

/// Most calls in one batch.
pub const MAX_BATCH: usize = 1000;

/// The core methods, for metrics labels (an unknown method is labelled `unknown`).
pub const METHODS: [&str; 10] = [
    "getHead",
    "getBlock",
    "getBlockEvents",
    "getTx",
    "getBalance",
    "sendTx",
    "estimateFee",
    "getFinalityProof",
    "getReadProof",
    "getTxProof",
];

fn error_response(id: Value, e: &RpcError) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": e.code, "message": e.message, "data": e.reason },
    })
}

/// Answers a `POST /rpc` body: `None` when there is nothing to answer (notifications only).
pub(crate) fn handle<S: StateMachine>(ctx: &RpcContext<S>, body: &[u8]) -> Option<Value> {
    let request: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            let e = RpcError::new(PARSE_ERROR, "parse_error", format!("invalid JSON: {e}"));
            return Some(error_response(Value::Null, &e));
        }
    };
    match request {
        Value::Array(calls) => {
            if calls.is_empty() {
                let e = RpcError::invalid_request("empty batch");
                return Some(error_response(Value::Null, &e));
            }
            if calls.len() > MAX_BATCH {
                let e = RpcError::invalid_request(format!(
                    "a batch holds at most {MAX_BATCH} calls, got {}",
                    calls.len()
                ));
                return Some(error_response(Value::Null, &e));
            }
            let answers: Vec<Value> = calls.iter().filter_map(|c| call(ctx, c)).collect();
            (!answers.is_empty()).then_some(Value::Array(answers))
        }
        single => call(ctx, &single),
    }
}

/// Runs one call; `None` for a notification.
fn call<S: StateMachine>(ctx: &RpcContext<S>, request: &Value) -> Option<Value> {
    let Value::Object(obj) = request else {
        let e = RpcError::invalid_request("a call must be a JSON object");
        return Some(error_response(Value::Null, &e));
    };
    // `None`: a notification.
    let id = match obj.get("id") {
        None => None,
        Some(id @ (Value::String(_) | Value::Number(_) | Value::Null)) => Some(id.clone()),
        Some(_) => {
            let e = RpcError::invalid_request("id must be a string, a number or null");
            return Some(error_response(Value::Null, &e));
        }
    };
    let answer_id = || id.clone().unwrap_or(Value::Null);
    let (method, params) = match parse_call(obj) {
        Ok(c) => c,
        Err(e) => {
            ctx.client.metrics().jsonrpc_call("invalid", false);
            return Some(error_response(answer_id(), &e));
        }
    };
    let label = METHODS
        .iter()
        .chain(ctx.extension.jsonrpc_methods())
        .find(|m| **m == method)
        .copied()
        .unwrap_or("unknown");
    let result = dispatch(ctx, method, params);
    ctx.client.metrics().jsonrpc_call(label, result.is_ok());
    let id = id?;
    Some(match result {
        Ok(v) => json!({ "jsonrpc": "2.0", "id": id, "result": v }),
        Err(e) => error_response(id, &e),
    })
}

/// The method name and positional params of a well-formed call.
fn parse_call(obj: &Map<String, Value>) -> Result<(&str, &[Value]), RpcError> {
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(RpcError::invalid_request("\"jsonrpc\" must be \"2.0\""));
    }
    let method = obj
        .get("method")
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::invalid_request("\"method\" must be a string"))?;
    let params: &[Value] = match obj.get("params") {
        None => &[],
        Some(Value::Array(a)) => a,
        Some(Value::Object(_)) => {
            return Err(RpcError::invalid_params(
                "params are positional: pass an array",
            ))
        }
        Some(_) => {
            return Err(RpcError::invalid_request(
                "\"params\" must be an array or an object",
            ))
        }
    };
    Ok((method, params))
}

/// Exactly `N` params.
pub fn arity<'a, const N: usize>(
    method: &str,
    params: &'a [Value],
) -> Result<[&'a Value; N], RpcError> {
    let found: Vec<&Value> = params.iter().collect();
    found.try_into().map_err(|_: Vec<&Value>| {
        RpcError::invalid_params(format!(
            "{method} takes {N} param{}, got {}",
            if N == 1 { "" } else { "s" },
            params.len()
        ))
    })
}

pub fn string<'a>(method: &str, name: &str, v: &'a Value) -> Result<&'a str, RpcError> {
    v.as_str()
        .ok_or_else(|| RpcError::invalid_params(format!("{method}: {name} must be a string")))
}

/// A string, or a non-negative integer as its decimal string.
pub fn string_or_u64(method: &str, name: &str, v: &Value) -> Result<String, RpcError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        _ => Err(RpcError::invalid_params(format!(
            "{method}: {name} must be a string or a non-negative integer"
        ))),
    }
}

/// A transaction param as a `sendTx` body: a hex string becomes `{"tx": …}`, an object is the
/// JSON form (or `{"tx": …}` itself).
pub fn tx_param(method: &str, v: &Value) -> Result<Value, RpcError> {
    match v {
        Value::String(_) => Ok(json!({ "tx": v })),
        Value::Object(_) => Ok(v.clone()),
        _ => Err(RpcError::invalid_params(format!(
            "{method}: tx must be a 0x hex string or a JSON transaction object"
        ))),
    }
}

fn dispatch<S: StateMachine>(
    ctx: &RpcContext<S>,
    method: &str,
    params: &[Value],
) -> Result<Value, RpcError> {
    let c = &*ctx.client;
    let r = match method {
        "getHead" => {
            arity::<0>(method, params)?;
            methods::get_head(c)
        }
        "getBlock" => {
            let [id] = arity(method, params)?;
            methods::get_block(c, &string_or_u64(method, "heightOrHash", id)?)
        }
        "getBlockEvents" => {
            let [id] = arity(method, params)?;
            let events = methods::get_block_events(c, &string_or_u64(method, "heightOrHash", id)?)?;
            serde_json::to_value(events).map_err(ApiError::internal)
        }
        "getTx" => {
            let [h] = arity(method, params)?;
            methods::get_tx(c, string(method, "txHash", h)?)
        }
        "getBalance" => {
            let [a] = arity(method, params)?;
            methods::get_balance(c, string(method, "address", a)?)
        }
        "sendTx" => {
            let [tx] = arity(method, params)?;
            // This runs on the blocking pool (the router runs JSON-RPC off the async workers).
            let answer = methods::queue_tx(&ctx.admission, &tx_param(method, tx)?)?;
            methods::tx_answer(answer.blocking_recv())
        }
        "estimateFee" => {
            let [tx] = arity(method, params)?;
            methods::estimate_fee(c, &tx_param(method, tx)?)
        }
        "getFinalityProof" => {
            let [from] = arity(method, params)?;
            proofs::get_finality_proof(c, &string_or_u64(method, "fromHeight", from)?)
        }
        "getReadProof" => {
            let [request] = arity(method, params)?;
            proofs::get_read_proof(c, request)
        }
        "getTxProof" => {
            let [h] = arity(method, params)?;
            proofs::get_tx_proof(c, string(method, "txHash", h)?)
        }
        _ if ctx.extension.jsonrpc_methods().contains(&method) => {
            match ctx.extension.jsonrpc(ctx, method, params)? {
                Answer::Value(v) => Ok(v),
                Answer::Queued(answer) => methods::tx_answer(answer.blocking_recv()),
            }
        }
        _ => return Err(RpcError::method_not_found(method)),
    };
    r.map_err(RpcError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{INVALID_PARAMS, INVALID_REQUEST};

    #[test]
    fn call_shapes() {
        let obj = |v: Value| v.as_object().cloned().unwrap();
        let ok = obj(json!({"jsonrpc": "2.0", "method": "getTx", "params": ["0x1"]}));
        let (m, p) = parse_call(&ok).unwrap();
        assert_eq!((m, p.len()), ("getTx", 1));
        let no_params = obj(json!({"jsonrpc": "2.0", "method": "getHead"}));
        assert_eq!(parse_call(&no_params).unwrap().1.len(), 0);
        let named = obj(json!({"jsonrpc": "2.0", "method": "getTx", "params": {"h": 1}}));
        assert_eq!(parse_call(&named).unwrap_err().code, INVALID_PARAMS);
        let scalar = obj(json!({"jsonrpc": "2.0", "method": "getTx", "params": 3}));
        assert_eq!(parse_call(&scalar).unwrap_err().code, INVALID_REQUEST);
        let v1 = obj(json!({"jsonrpc": "1.0", "method": "getHead"}));
        assert_eq!(parse_call(&v1).unwrap_err().code, INVALID_REQUEST);
        let no_method = obj(json!({"jsonrpc": "2.0", "method": 5}));
        assert_eq!(parse_call(&no_method).unwrap_err().code, INVALID_REQUEST);
    }

    #[test]
    fn params() {
        let two = [json!(1), json!("x")];
        assert!(arity::<2>("m", &two).is_ok());
        assert_eq!(arity::<1>("m", &two).unwrap_err().code, INVALID_PARAMS);
        assert_eq!(string_or_u64("m", "n", &json!(7)).unwrap(), "7");
        assert!(string_or_u64("m", "n", &json!(-1)).is_err());
        assert_eq!(
            tx_param("m", &json!("0x00")).unwrap(),
            json!({"tx": "0x00"})
        );
        assert!(tx_param("m", &json!(5)).is_err());
    }
}
