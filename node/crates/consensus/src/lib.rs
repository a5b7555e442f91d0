//! # aitbc-consensus
//!
//! The consensus rules, pure: no I/O, no sockets, no sleeps. The node's workers drive them.
//!
//! - [`slots`]: authority-round block production: who authors a slot, which headers are
//!   acceptable against their parent and the clock.
//! - [`finality`]: the GRANDPA-style finality gadget as a state machine (votes, rounds,
//!   justifications), its safety argument, and a seeded simulator that tests it.
//! - [`clock`]: the [`Clock`] seam. Authoring, voting and import's future-slot check read time
//!   only through it, so a test or a simulator can drive time.
//!
//! A chain whose finality voter set has a single member finalizes each block at import; with
//! more members blocks are finalized by [`finality`].

pub mod clock;
pub mod finality;
pub mod slots;

pub use clock::{Clock, ManualClock, SystemClock};
