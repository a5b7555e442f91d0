//! RPC errors: an HTTP status, a stable snake_case code and a human message, rendered as
//! `{"error":{"code":…,"message":…}}` over REST and websocket, and as a JSON-RPC error with the
//! code of [`jsonrpc_code`] and the snake_case code in `error.data` over JSON-RPC.

use aitbc_client::SubmitError;
use aitbc_storage::StorageError;
use aitbc_txpool::PoolError;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        ApiError::new(400, code, message)
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(404, "not_found", format!("{what} not found"))
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        ApiError::new(500, "internal_error", message.to_string())
    }

    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": { "code": self.code, "message": self.message } })
    }

    /// The JSON-RPC error code of this error (see [`jsonrpc_code`]).
    pub fn jsonrpc_code(&self) -> i64 {
        jsonrpc_code(self.status)
    }
}

/// JSON-RPC error code for an HTTP status: 4xx is `-32000 - (status - 400)` (400 -> -32000,
/// 401 -> -32001, 403 -> -32003, 404 -> -32004, 409 -> -32009, 413 -> -32013, 429 -> -32029),
/// 500 is the standard -32603 (internal error), other 5xx are `-32050 - (status - 500)`
/// (503 -> -32053); anything else -32099. All but -32603 lie in JSON-RPC's server-error range
/// (-32000 to -32099).
pub fn jsonrpc_code(status: u16) -> i64 {
    match status {
        400..=499 => -32000 - i64::from(status - 400),
        500 => -32603,
        501..=549 => -32050 - i64::from(status - 500),
        _ => -32099,
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::StateUnavailable { .. } => {
                return ApiError::new(404, "state_unavailable", e.to_string())
            }
            StorageError::StateRestoring => return ApiError::new(503, "syncing", e.to_string()),
            _ => {}
        }
        tracing::error!(target: "rpc", error = %e, "storage error");
        ApiError::internal(e)
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Decode(d) => ApiError::bad_request("invalid_encoding", d.to_string()),
            SubmitError::Pool(p) => {
                let status = match p {
                    PoolError::PoolFull | PoolError::Busy => 503,
                    PoolError::SenderLimit(_) | PoolError::FutureLimit => 429,
                    PoolError::AlreadyImported | PoolError::ReplacementUnderpriced => 409,
                    PoolError::Invalid(_) | PoolError::TemporarilyBanned => 400,
                };
                ApiError::new(status, p.code(), p.to_string())
            }
            SubmitError::Storage(s) => s.into(),
        }
    }
}

/// JSON-RPC 2.0's own error codes.
pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;

/// A JSON-RPC error: code, snake_case reason (`error.data`) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    pub code: i64,
    pub reason: String,
    pub message: String,
}

impl RpcError {
    pub fn new(code: i64, reason: &str, message: impl Into<String>) -> Self {
        RpcError {
            code,
            reason: reason.to_string(),
            message: message.into(),
        }
    }

    /// -32601 for a method no one serves.
    pub fn method_not_found(method: &str) -> Self {
        RpcError::new(
            METHOD_NOT_FOUND,
            "method_not_found",
            format!("no method {method:?}"),
        )
    }

    pub fn invalid_params(message: impl Into<String>) -> Self {
        RpcError::new(INVALID_PARAMS, "invalid_params", message)
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        RpcError::new(INVALID_REQUEST, "invalid_request", message)
    }
}

impl From<ApiError> for RpcError {
    fn from(e: ApiError) -> Self {
        RpcError {
            code: e.jsonrpc_code(),
            reason: e.code,
            message: e.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonrpc_codes() {
        let cases = [
            (400, -32000),
            (401, -32001),
            (403, -32003),
            (404, -32004),
            (409, -32009),
            (413, -32013),
            (429, -32029),
            (500, -32603),
            (503, -32053),
            (200, -32099),
        ];
        for (status, code) in cases {
            assert_eq!(jsonrpc_code(status), code, "{status}");
        }
    }
}
