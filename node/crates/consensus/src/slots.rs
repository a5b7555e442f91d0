//! Slot rules of authority round, as pure functions.
//!
//! `slot = unix_ms / slot_duration_ms`; the author of slot `s` is the author schedule's
//! ([`AuthorSchedule::author`]: CometBFT's proposer priority over the set's weights, round robin
//! for equal weights) in the state after the parent, as the parent's chain signalled it. A header
//! is acceptable on top of its parent when its number is the parent's plus one, its slot is after
//! the parent's and not more than [`MAX_FUTURE_SLOTS`] ahead of the local clock, and it is sealed
//! by the slot's author.

use aitbc_primitives::{AccountId, AuthorSchedule, Header, Slot};

/// How far ahead of our clock a block's slot may be (clock drift allowance). A block further
/// ahead is not invalid, only early: import refuses it as `SlotInFuture`, which charges nobody,
/// and a gossiped one up to the node sync worker's `MAX_HELD_SLOTS` ahead is held and imported when its
/// slot is within this bound.
pub const MAX_FUTURE_SLOTS: u64 = 2;

/// The slot containing `unix_ms`.
pub fn slot_at(unix_ms: u64, slot_duration_ms: u64) -> Slot {
    unix_ms / slot_duration_ms.max(1)
}

/// Why a header does not fit on its parent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("block number {got} does not follow the parent's {parent}")]
    BadNumber { parent: u64, got: u64 },
    #[error("slot {got} is not after the parent's slot {parent}")]
    SlotNotIncreasing { parent: Slot, got: Slot },
    #[error("slot {got} is too far in the future (now {now})")]
    SlotInFuture { now: Slot, got: Slot },
    #[error("the authority set is empty")]
    NoAuthorities,
    #[error("the seal is not by the author of slot {slot}")]
    BadSeal { slot: Slot },
}

/// Checks a header against its parent and the clock; returns the expected author, whose seal the
/// caller then verifies.
pub fn check_header<'a>(
    header: &Header,
    parent: &Header,
    schedule: &'a AuthorSchedule,
    now: Slot,
) -> Result<&'a AccountId, HeaderError> {
    if header.number != parent.number + 1 {
        return Err(HeaderError::BadNumber {
            parent: parent.number,
            got: header.number,
        });
    }
    if header.slot <= parent.slot {
        return Err(HeaderError::SlotNotIncreasing {
            parent: parent.slot,
            got: header.slot,
        });
    }
    if header.slot > now + MAX_FUTURE_SLOTS {
        return Err(HeaderError::SlotInFuture {
            now,
            got: header.slot,
        });
    }
    schedule
        .author(header.slot)
        .ok_or(HeaderError::NoAuthorities)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aitbc_primitives::crypto::dev_pair;
    use aitbc_primitives::{Digest, Hash};

    fn header(number: u64, slot: u64) -> Header {
        Header {
            parent_hash: Hash::ZERO,
            number,
            slot,
            state_root: Hash::ZERO,
            extrinsics_root: Hash::ZERO,
            digest: Digest::new(),
        }
    }

    #[test]
    fn header_rules() {
        assert_eq!(slot_at(10_999, 1000), 10);
        let set = AuthorSchedule::equal(vec![dev_pair("alice").public()]);
        let parent = header(5, 100);
        assert_eq!(
            check_header(&header(6, 101), &parent, &set, 101),
            Ok(&set.authorities()[0])
        );
        assert_eq!(
            check_header(&header(7, 101), &parent, &set, 101),
            Err(HeaderError::BadNumber { parent: 5, got: 7 })
        );
        assert_eq!(
            check_header(&header(6, 100), &parent, &set, 101),
            Err(HeaderError::SlotNotIncreasing {
                parent: 100,
                got: 100
            })
        );
        assert_eq!(
            check_header(&header(6, 104), &parent, &set, 101),
            Err(HeaderError::SlotInFuture { now: 101, got: 104 })
        );
        assert_eq!(
            check_header(
                &header(6, 101),
                &parent,
                &AuthorSchedule::equal(Vec::new()),
                101
            ),
            Err(HeaderError::NoAuthorities)
        );
    }
}
