//! # aitbc-runtime
//!
//! The deterministic AITBC state machine. (Being built: see ARCHITECTURE.md.)

pub mod genesis;
pub mod params;

pub use genesis::{GenesisConfig, GenesisError};
pub use params::{Param, Params};
