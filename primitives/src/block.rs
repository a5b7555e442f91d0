//! Headers, blocks, seals and finality justifications.
//!
//! - Block hash = blake2b-256 of the SCALE-encoded [`Header`].
//! - The seal is the slot author's signature over the block hash in the `aitbc-block` context; it
//!   is outside the header, so the hash does not depend on it.
//! - `extrinsics_root` is the binary Merkle root ([`extrinsics_root`]) of the extrinsic hashes.
//! - `timestamp_ms = slot * slot_duration_ms`: block time comes from the slot, never a clock.
//! - The `digest` carries consensus messages (authority-set changes) in a bounded list, so new
//!   kinds of item never change the header format.

use crate::codec_util::BoundedVec;
use crate::crypto::{AccountId, Signature, SigningContext};
use crate::hashing::Hash;
use crate::types::{BlockNumber, Slot};
use codec::{Decode, Encode};

/// At most this many items in a header digest.
pub const MAX_DIGEST_ITEMS: usize = 8;
/// At most this many authorities in a set (and votes in a justification).
pub const MAX_AUTHORITIES: usize = 128;
/// At most this many bytes in an opaque digest item.
pub const MAX_DIGEST_ITEM_BYTES: usize = 1024;

/// A consensus message carried in a header.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum DigestItem {
    /// The authority set changes to this list once this block is finalized.
    AuthoritiesChange(BoundedVec<AccountId, MAX_AUTHORITIES>),
    /// Reserved for future consensus items. Today's runtime produces none, and import requires the
    /// digest to equal the one the runtime produced, so a block carrying one is refused.
    Other(BoundedVec<u8, MAX_DIGEST_ITEM_BYTES>),
}

/// The bounded list of digest items.
pub type Digest = BoundedVec<DigestItem, MAX_DIGEST_ITEMS>;

/// A block header.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Header {
    pub parent_hash: Hash,
    #[codec(compact)]
    pub number: BlockNumber,
    #[codec(compact)]
    pub slot: Slot,
    pub state_root: Hash,
    pub extrinsics_root: Hash,
    pub digest: Digest,
}

impl Header {
    /// The block hash.
    pub fn hash(&self) -> Hash {
        Hash::of_encoded(self)
    }

    /// The genesis header of a genesis state: number 0, slot 0, zero parent, no extrinsics.
    pub fn genesis(state_root: Hash) -> Header {
        Header {
            parent_hash: Hash::ZERO,
            number: 0,
            slot: 0,
            state_root,
            extrinsics_root: extrinsics_root(&[]),
            digest: Digest::new(),
        }
    }

    /// The new authority set this header signals, if any.
    pub fn authorities_change(&self) -> Option<&[AccountId]> {
        self.digest.iter().find_map(|d| match d {
            DigestItem::AuthoritiesChange(set) => Some(&set[..]),
            DigestItem::Other(_) => None,
        })
    }
}

/// A header and its extrinsics. `X` is the state machine's extrinsic type.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Block<X> {
    pub header: Header,
    pub extrinsics: Vec<X>,
}

/// One authority's finality vote: a signature over [`Vote::message`].
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Vote {
    pub voter: AccountId,
    pub signature: Signature,
}

impl Vote {
    /// The bytes a finality vote signs: the block hash, its number, the voting round and the
    /// chain's genesis hash (no vote is valid on another chain).
    pub fn message(block: &Hash, number: BlockNumber, round: u64, genesis: &Hash) -> Vec<u8> {
        (block, number, round, genesis).encode()
    }
}

/// Proof that a block is final: votes from more than 2/3 of the authorities in one round.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Justification {
    pub round: u64,
    pub votes: BoundedVec<Vote, MAX_AUTHORITIES>,
}

/// A block as stored and sent over the wire: the block, its author's seal and, once known, its
/// finality justification.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct SignedBlock<X> {
    pub block: Block<X>,
    pub seal: Signature,
    pub justification: Option<Justification>,
}

impl<X> SignedBlock<X> {
    pub fn hash(&self) -> Hash {
        self.block.header.hash()
    }

    /// Whether `author` sealed this block.
    pub fn seal_is_valid(&self, author: &AccountId) -> bool {
        self.seal
            .verify(SigningContext::Block, self.hash().as_bytes(), author)
    }
}

/// Binary Merkle root of a list of leaf hashes (RFC 6962 shape: leaves are hashed with prefix 0,
/// inner nodes with prefix 1, the split is at the largest power of two below the length; the empty
/// list has root `blake2b-256("")`). Used for the extrinsics root.
pub fn extrinsics_root(leaves: &[Hash]) -> Hash {
    fn root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => Hash::of(&[]),
            1 => Hash::of(&[&[0u8][..], leaves[0].as_bytes()].concat()),
            n => {
                let split = n.next_power_of_two() / 2;
                let (l, r) = (root(&leaves[..split]), root(&leaves[split..]));
                Hash::of(&[&[1u8][..], l.as_bytes(), r.as_bytes()].concat())
            }
        }
    }
    root(leaves)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec_util::decode_exact;

    #[test]
    fn extrinsics_root_depends_on_order_and_content() {
        let a = Hash::of(b"a");
        let b = Hash::of(b"b");
        assert_ne!(extrinsics_root(&[a, b]), extrinsics_root(&[b, a]));
        assert_ne!(extrinsics_root(&[a]), extrinsics_root(&[a, a]));
        assert_ne!(extrinsics_root(&[]), extrinsics_root(&[a]));
        // A leaf can't pose as an inner node.
        let inner = extrinsics_root(&[a, b]);
        assert_ne!(extrinsics_root(&[inner]), inner);
    }

    #[test]
    fn digest_is_bounded_on_decode() {
        let too_many: Vec<DigestItem> = (0..MAX_DIGEST_ITEMS + 1)
            .map(|_| DigestItem::Other(BoundedVec::new()))
            .collect();
        assert!(decode_exact::<Digest>(&too_many.encode()).is_err());
    }
}
