//! Consensus: authority-round block production.
//!
//! - [`slots`]: the pure rules (who authors a slot, which headers are acceptable), unit-tested
//!   without sockets or sleeps.
//! - [`slashing`]: the durable record of the slots an authority signed; it never signs a slot
//!   twice, even after a crash.
//! - [`author`]: the async worker that wakes every slot and, when it is this node's turn,
//!   builds, seals and imports a block.
//!
//! Finality: this stage finalizes each block at once when the authority set has a single member
//! (the dev chain). A multi-authority finality gadget is a later stage.

pub mod author;
pub mod slashing;
pub mod slots;
