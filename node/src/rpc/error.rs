//! RPC errors: an HTTP status, a stable snake_case code and a human message, rendered as
//! `{"error":{"code":…,"message":…}}`.

use crate::client::SubmitError;
use crate::pool::PoolError;
use crate::storage::StorageError;

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
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
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
                    PoolError::PoolFull => 503,
                    PoolError::SenderLimit(_) => 429,
                    PoolError::AlreadyImported | PoolError::ReplacementUnderpriced => 409,
                    PoolError::Invalid(_) | PoolError::TemporarilyBanned => 400,
                };
                ApiError::new(status, p.code(), p.to_string())
            }
            SubmitError::Storage(s) => s.into(),
        }
    }
}
