//! Consensus: authority-round block production.
//!
//! - [`slots`]: the pure rules (who authors a slot, which headers are acceptable), unit-tested
//!   without sockets or sleeps.
//! - [`slashing`]: the durable record of the slots an authority signed; it never signs a slot
//!   twice, even after a crash.
//! - [`author`]: the async worker that wakes every slot and, when it is this node's turn,
//!   builds, seals and imports a block.
//! - [`finality`]: the GRANDPA finality gadget as a pure state machine (votes, rounds,
//!   justifications) and its safety argument; the node drives it.
//!
//! Finality: this stage finalizes each block at once when the authority set has a single member
//! (the dev chain); the multi-authority gadget is [`finality`].

pub mod author;
pub mod finality;
pub mod slashing;
pub mod slots;
pub mod voting;
