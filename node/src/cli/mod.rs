//! Command-line interface (clap). Every flag can also be set through an `AITBC_*` environment
//! variable; `.env.example` lists them with their defaults.

pub mod archive;
pub mod args;
pub mod benchmark;
pub mod check_db;
pub mod coordinator;
pub mod index;
pub mod keys;
pub mod run;
pub mod spec;
pub mod tx;

pub use args::{Cli, Command};
