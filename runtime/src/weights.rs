//! Measured call weights (see [`crate::weight`]). Placeholder figures until the first run of
//! `cargo run --release -p aitbc-node -- benchmark runtime --output runtime/src/weights.rs`,
//! which rewrites this file.

use crate::weight::Weight;

/// Fixed import cost of a block (its intercept).
pub const BLOCK_BASE: Weight = 5_000_000;
/// `balances.transfer` to a new account.
pub const TRANSFER: Weight = 60_000;
/// `receipts.open_job`.
pub const OPEN_JOB: Weight = 60_000;
/// `receipts.claim` (three signatures).
pub const CLAIM: Weight = 150_000;
/// `receipts.refund` of an expired escrow.
pub const REFUND: Weight = 60_000;
/// `sudo(params.set)`.
pub const PARAM_SET: Weight = 60_000;
