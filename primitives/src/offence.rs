//! Proofs of the two offences an authority can commit, checkable by anyone.
//!
//! - **Block equivocation**: two different headers for one slot, both sealed by the offender
//!   (the seal is its `aitbc-block` signature over the header hash).
//! - **Vote equivocation**: two different finality votes by one voter for one set, round and
//!   step (prevote or precommit), both signed by it.
//!
//! [`OffenceProof::check`] verifies the proof on its own (shape and signatures); whether the
//! offender may be punished (a member of a recent set, not yet punished for it) is for the state
//! machine to decide. An offence is identified by [`OffenceProof::key`], the same for every proof
//! of it: `(kind, offender, set id (0 for blocks), slot or round)`. Two reports of one offence,
//! whichever two headers or votes they carry, have one key.

use crate::block::{Header, SignedVote};
use crate::crypto::{AccountId, Signature, SigningContext};
use crate::hashing::Hash;
use codec::{Decode, Encode};
use serde::Serialize;

/// Which offence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Encode, Decode, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OffenceKind {
    BlockEquivocation,
    VoteEquivocation,
}

/// Two headers for one slot sealed by one author.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct BlockEquivocation {
    pub offender: AccountId,
    pub first: Header,
    pub first_seal: Signature,
    pub second: Header,
    pub second_seal: Signature,
}

/// Two different votes by one voter for one set, round and step.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct VoteEquivocation {
    pub first: SignedVote,
    pub second: SignedVote,
}

/// A proof of an offence.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum OffenceProof {
    Block(BlockEquivocation),
    Vote(VoteEquivocation),
}

/// Why a proof proves nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the two headers or votes are the same: no equivocation")]
    Same,
    #[error("the two headers are for different slots")]
    DifferentSlots,
    #[error("the two votes are by different voters, or for different sets, rounds or steps")]
    DifferentRounds,
    #[error("a signature in the proof is not the offender's")]
    BadSignature,
}

impl OffenceProof {
    pub fn kind(&self) -> OffenceKind {
        match self {
            OffenceProof::Block(_) => OffenceKind::BlockEquivocation,
            OffenceProof::Vote(_) => OffenceKind::VoteEquivocation,
        }
    }

    pub fn offender(&self) -> AccountId {
        match self {
            OffenceProof::Block(b) => b.offender,
            OffenceProof::Vote(v) => v.first.voter,
        }
    }

    /// The slot of a block equivocation, the round of a vote equivocation.
    pub fn slot_or_round(&self) -> u64 {
        match self {
            OffenceProof::Block(b) => b.first.slot,
            OffenceProof::Vote(v) => v.first.round,
        }
    }

    /// The offence's identity (see the module docs).
    pub fn key(&self) -> (OffenceKind, AccountId, u64, u64) {
        let set_id = match self {
            OffenceProof::Block(_) => 0,
            OffenceProof::Vote(v) => v.first.set_id,
        };
        (self.kind(), self.offender(), set_id, self.slot_or_round())
    }

    /// Checks the proof's shape and every signature in it, for the chain of `genesis`.
    pub fn check(&self, genesis: &Hash) -> Result<(), ProofError> {
        match self {
            OffenceProof::Block(b) => {
                let (h1, h2) = (b.first.hash(), b.second.hash());
                if h1 == h2 {
                    return Err(ProofError::Same);
                }
                if b.first.slot != b.second.slot {
                    return Err(ProofError::DifferentSlots);
                }
                let sealed = |seal: &Signature, hash: &Hash| {
                    seal.verify(SigningContext::Block, hash.as_bytes(), &b.offender)
                };
                if !sealed(&b.first_seal, &h1) || !sealed(&b.second_seal, &h2) {
                    return Err(ProofError::BadSignature);
                }
            }
            OffenceProof::Vote(v) => {
                let (a, b) = (&v.first, &v.second);
                if (a.voter, a.set_id, a.round, a.kind) != (b.voter, b.set_id, b.round, b.kind) {
                    return Err(ProofError::DifferentRounds);
                }
                if a.target == b.target {
                    return Err(ProofError::Same);
                }
                if !a.verify(genesis) || !b.verify(genesis) {
                    return Err(ProofError::BadSignature);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::{Digest, VoteKind, VoteTarget};
    use crate::crypto::dev_pair;

    const GENESIS: Hash = Hash([7; 32]);

    fn header(slot: u64, root: u8) -> Header {
        Header {
            parent_hash: Hash::ZERO,
            number: 1,
            slot,
            state_root: Hash([root; 32]),
            extrinsics_root: Hash::ZERO,
            digest: Digest::new(),
        }
    }

    fn blocks(by: &str, a: Header, b: Header) -> OffenceProof {
        let pair = dev_pair(by);
        OffenceProof::Block(BlockEquivocation {
            offender: dev_pair("alice").public(),
            first_seal: pair.sign(SigningContext::Block, a.hash().as_bytes()),
            second_seal: pair.sign(SigningContext::Block, b.hash().as_bytes()),
            first: a,
            second: b,
        })
    }

    fn vote(by: &str, round: u64, block: u8) -> SignedVote {
        let target = VoteTarget {
            hash: Hash([block; 32]),
            number: 1,
        };
        SignedVote::sign(&dev_pair(by), VoteKind::Prevote, target, round, 0, &GENESIS)
    }

    #[test]
    fn a_block_equivocation_needs_two_headers_of_one_slot_sealed_by_the_offender() {
        let ok = blocks("alice", header(5, 1), header(5, 2));
        assert_eq!(ok.check(&GENESIS), Ok(()));
        assert_eq!(ok.key().3, 5);
        assert_eq!(
            blocks("alice", header(5, 1), header(5, 1)).check(&GENESIS),
            Err(ProofError::Same)
        );
        assert_eq!(
            blocks("alice", header(5, 1), header(6, 2)).check(&GENESIS),
            Err(ProofError::DifferentSlots)
        );
        assert_eq!(
            blocks("bob", header(5, 1), header(5, 2)).check(&GENESIS),
            Err(ProofError::BadSignature)
        );
    }

    #[test]
    fn a_vote_equivocation_needs_two_targets_of_one_round_signed_by_the_voter() {
        let proof = |a, b| {
            OffenceProof::Vote(VoteEquivocation {
                first: a,
                second: b,
            })
        };
        let ok = proof(vote("alice", 3, 1), vote("alice", 3, 2));
        assert_eq!(ok.check(&GENESIS), Ok(()));
        assert_eq!(ok.offender(), dev_pair("alice").public());
        assert_eq!(
            proof(vote("alice", 3, 1), vote("alice", 3, 1)).check(&GENESIS),
            Err(ProofError::Same)
        );
        assert_eq!(
            proof(vote("alice", 3, 1), vote("alice", 4, 2)).check(&GENESIS),
            Err(ProofError::DifferentRounds)
        );
        assert_eq!(
            proof(vote("alice", 3, 1), vote("bob", 3, 2)).check(&GENESIS),
            Err(ProofError::DifferentRounds)
        );
        let mut forged = vote("alice", 3, 2);
        forged.signature = vote("bob", 3, 2).signature;
        assert_eq!(
            proof(vote("alice", 3, 1), forged).check(&GENESIS),
            Err(ProofError::BadSignature)
        );
    }
}
