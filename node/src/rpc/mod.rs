//! The RPC server (hyper): REST routes of CONTRACT.md, Prometheus metrics, admin routes.
//!
//! Every request passes the same limits: a body-size cap (413 before the body is read past the
//! cap), a request timeout, and a concurrency cap (503 beyond it). Every answer is JSON; errors are
//! `{"error":{"code","message"}}` with a fitting status ([`error::ApiError`]).

pub mod admin;
pub mod error;
pub mod methods;
mod routes;
mod server;

pub use server::{serve, RpcConfig, RpcHandle};
