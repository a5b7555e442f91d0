//! Finality proofs: how a node or a light client that trusts only the genesis authorities (or a
//! [`Checkpoint`]) learns the latest finalized block without executing or even downloading the
//! blocks in between.
//!
//! Protocol (Substrate's warp proof, in our types):
//! - An authority set hands over to the next only by finalizing the block that signals the
//!   change (`AuthoritiesChange`, or an `EpochChange` with new members): the voters never
//!   finalize past an unfinalized change, so that block has a justification of its own, signed by
//!   the outgoing set. Nodes keep those justifications forever.
//! - A [`FinalityProof`] is, in height order, one [`WarpFragment`] (header and justification) per
//!   set change after the verifier's checkpoint, then the latest finalized block's. Each
//!   justification is checked against the set the verifier holds at that point (set id, members,
//!   a supermajority, signatures, ancestry); a change block moves the verifier to the next set
//!   (id + 1). A skipped change shows up as a justification of an unexpected set id.
//! - A fragment that is neither a change nor the last is refused (it would only bloat the proof).
//!   A proof holds at most [`MAX_WARP_FRAGMENTS`] fragments; `complete = false` says more follow
//!   (ask again from the last one).
//! - An empty proof is no progress, not an error: an honest node that finalized nothing newer
//!   sends one.
//! - A forced change (root replaced a stalled set without finality) has no justification. A proof
//!   across one is refused with [`WarpError::ForcedChange`]: the verifier needs a checkpoint taken
//!   after it.
//!
//! GRANDPA's safety makes every block a supermajority finalized lie on one chain, so the
//! fragments need no ancestry proof between them.

use crate::block::{Header, Justification, JustificationError};
use crate::codec_util::BoundedVec;
use crate::crypto::AccountId;
use crate::hashing::Hash;
use crate::types::BlockNumber;
use codec::{Decode, Encode};

/// Fragments in one [`FinalityProof`] at most.
pub const MAX_WARP_FRAGMENTS: usize = 64;

/// A finalized block and the proof that it is final. `justification` is `None` only for a forced
/// set change, which no verifier accepts (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct WarpFragment {
    pub header: Header,
    pub justification: Option<Justification>,
}

/// Set changes and the latest finalized block, from some height on (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct FinalityProof {
    pub fragments: BoundedVec<WarpFragment, MAX_WARP_FRAGMENTS>,
    /// Whether the last fragment is the server's latest finalized block.
    pub complete: bool,
}

/// What a verifier trusts: the chain, the authority set in office and the last block it knows
/// to be final.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Checkpoint {
    pub genesis_hash: Hash,
    pub set_id: u64,
    pub authorities: Vec<AccountId>,
    pub header: Header,
}

/// Why a finality proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarpError {
    #[error("fragment #{number} is not above the last verified block #{after}")]
    NotAfter {
        number: BlockNumber,
        after: BlockNumber,
    },
    #[error("the justification of block #{number} is for another block")]
    TargetMismatch { number: BlockNumber },
    #[error("block #{number}: {source}")]
    Justification {
        number: BlockNumber,
        source: JustificationError,
    },
    #[error("block #{number} carries no justification and forces no set change")]
    MissingJustification { number: BlockNumber },
    #[error("fragment #{number} changes no authority set and is not the last one")]
    NoSetChange { number: BlockNumber },
    #[error(
        "block #{number} forced an authority-set change without finality; a finality proof \
         cannot cross it: start from a trusted checkpoint taken after it (--checkpoint)"
    )]
    ForcedChange { number: BlockNumber },
}

impl Checkpoint {
    /// The checkpoint every node can derive: the genesis block and the genesis authorities
    /// (set 0).
    pub fn genesis(genesis: Header, authorities: Vec<AccountId>) -> Checkpoint {
        Checkpoint {
            genesis_hash: genesis.hash(),
            set_id: 0,
            authorities,
            header: genesis,
        }
    }

    /// Verifies `proof` from this checkpoint and returns the checkpoint it leads to (this one
    /// for an empty proof).
    pub fn verify(&self, proof: &FinalityProof) -> Result<Checkpoint, WarpError> {
        let mut at = self.clone();
        let count = proof.fragments.len();
        for (i, fragment) in proof.fragments.iter().enumerate() {
            let header = &fragment.header;
            let number = header.number;
            if number <= at.header.number {
                return Err(WarpError::NotAfter {
                    number,
                    after: at.header.number,
                });
            }
            if header.forced_authorities_change().is_some() {
                return Err(WarpError::ForcedChange { number });
            }
            let Some(justification) = &fragment.justification else {
                return Err(WarpError::MissingJustification { number });
            };
            if justification.target.hash != header.hash() || justification.target.number != number {
                return Err(WarpError::TargetMismatch { number });
            }
            justification
                .verify(&at.authorities, at.set_id, &at.genesis_hash)
                .map_err(|source| WarpError::Justification { number, source })?;
            at.header = header.clone();
            match header.authorities_change() {
                Some(next) => {
                    at.set_id += 1;
                    at.authorities = next.to_vec();
                }
                None if i + 1 < count => return Err(WarpError::NoSetChange { number }),
                None => {}
            }
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::{Digest, DigestItem, VoteTarget};
    use crate::crypto::Pair;
    use crate::merkle::extrinsics_root;

    fn pairs(tag: u8, n: usize) -> Vec<Pair> {
        (0..n)
            .map(|i| Pair::from_seed([tag, i as u8 + 1].repeat(16).try_into().expect("32 bytes")))
            .collect()
    }

    fn ids(pairs: &[Pair]) -> Vec<AccountId> {
        pairs.iter().map(|p| p.public()).collect()
    }

    struct Chain {
        headers: Vec<Header>,
    }

    impl Chain {
        fn new() -> Chain {
            Chain {
                headers: vec![
                    Header::genesis(Hash::of(b"genesis state"), "test").expect("short id")
                ],
            }
        }
        /// Appends blocks up to `number`, the last one signalling `change` if given.
        fn grow(&mut self, number: BlockNumber, change: Option<&[Pair]>) -> Header {
            while self.headers.len() as u64 <= number {
                let parent = self.headers.last().expect("genesis");
                let n = parent.number + 1;
                let mut digest = Digest::new();
                if let (true, Some(set)) = (n == number, change) {
                    digest = BoundedVec::try_from_vec(vec![DigestItem::AuthoritiesChange(
                        BoundedVec::try_from_vec(ids(set)).expect("small"),
                    )])
                    .expect("one item");
                }
                self.headers.push(Header {
                    parent_hash: parent.hash(),
                    number: n,
                    slot: n,
                    state_root: Hash::of(&n.to_le_bytes()),
                    extrinsics_root: extrinsics_root(&[]),
                    digest,
                });
            }
            self.headers[number as usize].clone()
        }
        fn genesis_hash(&self) -> Hash {
            self.headers[0].hash()
        }
    }

    fn fragment(chain: &Chain, header: &Header, voters: &[Pair], set_id: u64) -> WarpFragment {
        let refs: Vec<&Pair> = voters.iter().collect();
        let target = VoteTarget {
            hash: header.hash(),
            number: header.number,
        };
        WarpFragment {
            header: header.clone(),
            justification: Some(Justification::for_target(
                &refs,
                target,
                7,
                set_id,
                &chain.genesis_hash(),
            )),
        }
    }

    fn proof(fragments: Vec<WarpFragment>) -> FinalityProof {
        FinalityProof {
            fragments: BoundedVec::try_from_vec(fragments).expect("few"),
            complete: true,
        }
    }

    /// Sets a (4), b (3), c (1) and a chain with changes at #10 and #20 and a head at #25.
    fn setup() -> (Chain, [Vec<Pair>; 3], FinalityProof) {
        let (a, b, c) = (pairs(1, 4), pairs(2, 3), pairs(3, 1));
        let mut chain = Chain::new();
        let h10 = chain.grow(10, Some(&b));
        let h20 = chain.grow(20, Some(&c));
        let h25 = chain.grow(25, None);
        let p = proof(vec![
            fragment(&chain, &h10, &a[..3], 0),
            fragment(&chain, &h20, &b, 1),
            fragment(&chain, &h25, &c, 2),
        ]);
        (chain, [a, b, c], p)
    }

    #[test]
    fn a_proof_across_set_changes_leads_to_the_head_and_the_last_set() {
        let (chain, [a, _, c], p) = setup();
        let start = Checkpoint::genesis(chain.headers[0].clone(), ids(&a));
        let end = start.verify(&p).expect("valid");
        assert_eq!(end.header.number, 25);
        assert_eq!((end.set_id, end.authorities.clone()), (2, ids(&c)));
        // Step by step gives the same end; an empty proof is no progress.
        let mid = start
            .verify(&proof(p.fragments[..1].to_vec()))
            .expect("valid prefix");
        assert_eq!(mid.set_id, 1);
        assert_eq!(
            mid.verify(&proof(p.fragments[1..].to_vec())).expect("rest"),
            end
        );
        assert_eq!(end.verify(&proof(vec![])).expect("empty"), end);
    }

    #[test]
    fn each_forgery_is_refused_with_its_own_error() {
        let (chain, [a, b, _], p) = setup();
        let start = Checkpoint::genesis(chain.headers[0].clone(), ids(&a));
        let refused = |p: &FinalityProof| start.verify(p).expect_err("refused");

        // Short of a supermajority: 2 of 4.
        let short = proof(vec![fragment(&chain, &p.fragments[0].header, &a[..2], 0)]);
        assert!(matches!(
            refused(&short),
            WarpError::Justification {
                source: JustificationError::TooFewVotes { got: 2, needed: 3 },
                ..
            }
        ));
        // A skipped change: set 1's justification where set 0's is due.
        let skipped = proof(p.fragments[1..].to_vec());
        assert!(matches!(
            refused(&skipped),
            WarpError::Justification {
                source: JustificationError::WrongSet {
                    expected: 0,
                    found: 1
                },
                ..
            }
        ));
        // The right set id signed by strangers.
        let strangers = proof(vec![fragment(&chain, &p.fragments[0].header, &b, 0)]);
        assert!(matches!(
            refused(&strangers),
            WarpError::Justification {
                source: JustificationError::UnknownVoter { .. },
                ..
            }
        ));
        // A header swapped under a valid justification.
        let mut swapped = p.fragments.to_vec();
        swapped[0].header.state_root = Hash::of(b"forged");
        assert_eq!(
            refused(&proof(swapped)),
            WarpError::TargetMismatch { number: 10 }
        );
        // A bad signature.
        let mut forged = p.fragments.to_vec();
        if let Some(j) = forged[0].justification.as_mut() {
            let mut votes = j.precommits.to_vec();
            votes[0].signature = votes[1].signature;
            j.precommits = BoundedVec::try_from_vec(votes).expect("same length");
        }
        assert!(matches!(
            refused(&proof(forged)),
            WarpError::Justification {
                source: JustificationError::BadSignature { .. },
                ..
            }
        ));
        // Out of order, padding without a change, no justification.
        assert!(matches!(
            refused(&proof(vec![p.fragments[0].clone(), p.fragments[0].clone()])),
            WarpError::NotAfter { .. }
        ));
        let h5 = chain.headers[5].clone();
        let padded = proof(vec![fragment(&chain, &h5, &a, 0), p.fragments[0].clone()]);
        assert_eq!(refused(&padded), WarpError::NoSetChange { number: 5 });
        let mut bare = p.fragments.to_vec();
        bare[0].justification = None;
        assert_eq!(
            refused(&proof(bare)),
            WarpError::MissingJustification { number: 10 }
        );
    }

    #[test]
    fn a_forced_change_needs_a_checkpoint_after_it() {
        let a = pairs(1, 1);
        let mut chain = Chain::new();
        let mut forced = chain.grow(3, None);
        forced.digest = BoundedVec::try_from_vec(vec![DigestItem::ForcedAuthoritiesChange(
            BoundedVec::try_from_vec(ids(&pairs(2, 1))).expect("small"),
        )])
        .expect("one item");
        let start = Checkpoint::genesis(chain.headers[0].clone(), ids(&a));
        let p = proof(vec![WarpFragment {
            header: forced,
            justification: None,
        }]);
        let err = start.verify(&p).expect_err("refused");
        assert_eq!(err, WarpError::ForcedChange { number: 3 });
        assert!(err.to_string().contains("--checkpoint"));
    }
}
