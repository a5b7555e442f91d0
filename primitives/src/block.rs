//! Headers, blocks, seals and finality justifications.
//!
//! - Block hash = blake2b-256 of the SCALE-encoded [`Header`].
//! - The seal is the slot author's signature over the block hash in the `aitbc-block` context; it
//!   is outside the header, so the hash does not depend on it.
//! - `extrinsics_root` is the binary Merkle root ([`crate::merkle::extrinsics_root`]) of the
//!   extrinsic hashes.
//! - `timestamp_ms = slot * slot_duration_ms`: block time comes from the slot, never a clock.
//! - The `digest` carries consensus messages (authority-set changes) in a bounded list, so new
//!   kinds of item never change the header format.
//! - Finality (GRANDPA): authorities sign [`SignedVote`]s (prevotes and precommits) in rounds; a
//!   [`Justification`] is one round's precommits by a [`supermajority`] for a block or its
//!   descendants, with the headers linking them. The voting protocol itself is in the node
//!   (`consensus::finality`); the wire types and the stateless justification check are here.

use crate::codec_util::BoundedVec;
use crate::crypto::{first_invalid, AccountId, Pair, Signature, SignatureCheck, SigningContext};
use crate::hashing::Hash;
use crate::merkle::extrinsics_root;
use crate::schedule::AuthorSchedule;
use crate::types::{BlockNumber, Slot};
use codec::{Decode, Encode};
use std::collections::{BTreeMap, BTreeSet};

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
    /// Root forces the authority set to this list without waiting for finality (more than 1/3
    /// of the voters are gone): nodes enact it once the block is buried under enough blocks on
    /// the best chain.
    ForcedAuthoritiesChange(BoundedVec<AccountId, MAX_AUTHORITIES>),
    /// An epoch boundary elected this weighted set: the authors from the next block on follow
    /// its [`AuthorSchedule`]. When its members differ from the current set's
    /// ([`EpochChange::new_members`]) it is also the voter set once this block is finalized (a
    /// set change for finality); otherwise only the weights change and finality goes on
    /// undisturbed.
    EpochChange(EpochChange),
}

/// The set an epoch boundary elected, with each member's slots per cycle.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct EpochChange {
    /// The epoch that starts after this block.
    pub epoch: u64,
    pub authorities: BoundedVec<AccountId, MAX_AUTHORITIES>,
    /// Slots per cycle, one per authority ([`AuthorSchedule::new`]).
    pub weights: BoundedVec<u32, MAX_AUTHORITIES>,
    /// [`AuthorSchedule::hash`] of the resulting schedule.
    pub schedule_hash: Hash,
    /// Whether the members differ from the current set's (in any order): then this is a
    /// voter-set change.
    pub new_members: bool,
}

impl EpochChange {
    /// The schedule this change starts.
    pub fn schedule(&self) -> AuthorSchedule {
        AuthorSchedule::new(self.authorities.to_vec(), self.weights.to_vec())
    }
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

/// What the genesis digest item that names the chain starts with.
pub const CHAIN_ID_PREFIX: &[u8] = b"chain-id:";

impl Header {
    /// The block hash.
    pub fn hash(&self) -> Hash {
        Hash::of_encoded(self)
    }

    /// The genesis header of chain `chain_id` with genesis state root `state_root`: number 0,
    /// slot 0, zero parent, no extrinsics, and one digest item `Other(b"chain-id:" ++ id)`.
    /// The chain id is in the genesis hash, so two networks launched from one genesis state
    /// under different ids accept none of each other's transactions, votes or peers. `None`
    /// when the id does not fit a digest item.
    pub fn genesis(state_root: Hash, chain_id: &str) -> Option<Header> {
        let id_item =
            BoundedVec::try_from_vec([CHAIN_ID_PREFIX, chain_id.as_bytes()].concat()).ok()?;
        let mut digest = Digest::new();
        digest.try_push(DigestItem::Other(id_item)).ok()?;
        Some(Header {
            parent_hash: Hash::ZERO,
            number: 0,
            slot: 0,
            state_root,
            extrinsics_root: extrinsics_root(&[]),
            digest,
        })
    }

    /// The new authority set this header signals (a plain change, or an epoch's election with
    /// new members), if any: a voter-set change.
    pub fn authorities_change(&self) -> Option<&[AccountId]> {
        self.digest.iter().find_map(|d| match d {
            DigestItem::AuthoritiesChange(set) => Some(&set[..]),
            DigestItem::EpochChange(change) if change.new_members => Some(&change.authorities[..]),
            DigestItem::EpochChange(_)
            | DigestItem::Other(_)
            | DigestItem::ForcedAuthoritiesChange(_) => None,
        })
    }

    /// The authority set root forces with this header, if any.
    pub fn forced_authorities_change(&self) -> Option<&[AccountId]> {
        self.digest.iter().find_map(|d| match d {
            DigestItem::ForcedAuthoritiesChange(set) => Some(&set[..]),
            DigestItem::Other(_)
            | DigestItem::AuthoritiesChange(_)
            | DigestItem::EpochChange(_) => None,
        })
    }

    /// The epoch election this header signals, if any.
    pub fn epoch_change(&self) -> Option<&EpochChange> {
        self.digest.iter().find_map(|d| match d {
            DigestItem::EpochChange(change) => Some(change),
            _ => None,
        })
    }

    /// The author schedule that follows this header, if it changes it: an epoch's weighted set,
    /// or equal weights for a set root chose (plain or forced).
    pub fn schedule_change(&self) -> Option<AuthorSchedule> {
        if let Some(change) = self.epoch_change() {
            return Some(change.schedule());
        }
        self.authorities_change()
            .or_else(|| self.forced_authorities_change())
            .map(|set| AuthorSchedule::equal(set.to_vec()))
    }
}

/// A header and its extrinsics. `X` is the state machine's extrinsic type.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Block<X> {
    pub header: Header,
    pub extrinsics: Vec<X>,
}

/// At most this many headers in a justification's ancestry (the paths from its precommits'
/// targets down to the finalized block).
pub const MAX_JUSTIFICATION_ANCESTRY: usize = 256;

/// The number of votes that is a supermajority of `n` authorities: `n - (n - 1) / 3`, i.e. more
/// than 2/3 of them when `n = 3f + 1` (1 -> 1, 3 -> 3, 4 -> 3, 7 -> 5). Any two supermajorities
/// share more than `f = (n - 1) / 3` voters, so at least one honest one.
pub fn supermajority(n: usize) -> usize {
    n - n.saturating_sub(1) / 3
}

/// The two votes of a finality round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Encode, Decode)]
pub enum VoteKind {
    Prevote,
    Precommit,
}

/// The block a vote is for. A vote for a block is a vote for all its ancestors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Encode, Decode)]
pub struct VoteTarget {
    pub hash: Hash,
    pub number: BlockNumber,
}

/// An authority's signed finality vote (GRANDPA prevote or precommit).
///
/// The signature (context `aitbc-vote`) covers SCALE `(kind, target, round, set_id, genesis_hash)`
/// ([`SignedVote::payload`]): a vote is never valid on another chain, authority set, round or as
/// the other kind.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct SignedVote {
    pub round: u64,
    pub set_id: u64,
    pub kind: VoteKind,
    pub target: VoteTarget,
    pub voter: AccountId,
    pub signature: Signature,
}

impl SignedVote {
    /// The bytes a vote signs.
    pub fn payload(
        kind: VoteKind,
        target: &VoteTarget,
        round: u64,
        set_id: u64,
        genesis: &Hash,
    ) -> Vec<u8> {
        (kind, target, round, set_id, genesis).encode()
    }

    /// Signs a vote with `pair`.
    pub fn sign(
        pair: &Pair,
        kind: VoteKind,
        target: VoteTarget,
        round: u64,
        set_id: u64,
        genesis: &Hash,
    ) -> SignedVote {
        let payload = Self::payload(kind, &target, round, set_id, genesis);
        SignedVote {
            round,
            set_id,
            kind,
            target,
            voter: pair.public(),
            signature: pair.sign(SigningContext::Vote, &payload),
        }
    }

    /// Whether the signature is the voter's over this vote on the chain of `genesis`.
    pub fn verify(&self, genesis: &Hash) -> bool {
        let payload = Self::payload(self.kind, &self.target, self.round, self.set_id, genesis);
        self.signature
            .verify(SigningContext::Vote, &payload, &self.voter)
    }

    /// Verifies every vote's signature on the chain of `genesis` in one batch (the one check
    /// behind justifications and catch-up answers); `Err` names the first voter whose signature
    /// is bad.
    pub fn verify_all(votes: &[SignedVote], genesis: &Hash) -> Result<(), AccountId> {
        let payloads: Vec<Vec<u8>> = votes
            .iter()
            .map(|v| Self::payload(v.kind, &v.target, v.round, v.set_id, genesis))
            .collect();
        let checks: Vec<SignatureCheck<'_>> = votes
            .iter()
            .zip(&payloads)
            .map(|(v, payload)| SignatureCheck {
                context: SigningContext::Vote,
                message: payload,
                signer: v.voter,
                signature: v.signature,
            })
            .collect();
        match first_invalid(&checks) {
            None => Ok(()),
            Some(i) => Err(votes[i].voter),
        }
    }

    /// Whether `other` is the same vote (same voter, round, set, kind and target). Signatures are
    /// not compared: a vote's meaning is what it says (and a signature of another signing
    /// implementation, e.g. a randomized one, would differ).
    pub fn same_vote(&self, other: &SignedVote) -> bool {
        (self.voter, self.round, self.set_id, self.kind, self.target)
            == (
                other.voter,
                other.round,
                other.set_id,
                other.kind,
                other.target,
            )
    }
}

/// Proof that a block is final (a GRANDPA commit): precommits of one round by a supermajority of
/// the authority set for `target` or its descendants, and the headers linking each precommit's
/// target down to `target`.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Justification {
    pub round: u64,
    pub set_id: u64,
    pub target: VoteTarget,
    pub precommits: BoundedVec<SignedVote, MAX_AUTHORITIES>,
    pub ancestry: BoundedVec<Header, MAX_JUSTIFICATION_ANCESTRY>,
}

/// Why a justification was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JustificationError {
    #[error("justification is for authority set {found}, expected {expected}")]
    WrongSet { expected: u64, found: u64 },
    #[error("the authority set is empty")]
    NoAuthorities,
    #[error("vote by {voter:?} is not a precommit of the justification's round and set")]
    MismatchedVote { voter: AccountId },
    #[error("{voter:?} is not in the authority set")]
    UnknownVoter { voter: AccountId },
    #[error("{voter:?} has more than one precommit")]
    DuplicateVoter { voter: AccountId },
    #[error("{got} precommits, a supermajority is {needed}")]
    TooFewVotes { got: usize, needed: usize },
    #[error("the precommit of {voter:?} is not for the target or a descendant of it")]
    NotDescendant { voter: AccountId },
    #[error("the ancestry lacks a header on the path of {voter:?}'s precommit")]
    MissingAncestry { voter: AccountId },
    #[error("ancestry header {hash} is repeated or does not have the number its child implies")]
    BadAncestry { hash: Hash },
    #[error("{count} ancestry headers are on no precommit's path")]
    UnusedAncestry { count: usize },
    #[error("bad signature on the precommit of {voter:?}")]
    BadSignature { voter: AccountId },
}

impl Justification {
    /// Checks that this proves `self.target` final for the authority set `authorities`
    /// (`set_id`) of the chain of `genesis`: precommits of this round and set only, by distinct
    /// members, each for the target or a descendant linked to it by `ancestry` (every header of
    /// which is used), at least a supermajority of them, every signature valid. Cheap checks
    /// first; signatures last, in one batch.
    pub fn verify(
        &self,
        authorities: &[AccountId],
        set_id: u64,
        genesis: &Hash,
    ) -> Result<(), JustificationError> {
        if self.set_id != set_id {
            return Err(JustificationError::WrongSet {
                expected: set_id,
                found: self.set_id,
            });
        }
        let members: BTreeSet<&AccountId> = authorities.iter().collect();
        if members.is_empty() {
            return Err(JustificationError::NoAuthorities);
        }
        let mut voters = BTreeSet::new();
        for p in self.precommits.iter() {
            let voter = p.voter;
            if p.kind != VoteKind::Precommit || p.round != self.round || p.set_id != self.set_id {
                return Err(JustificationError::MismatchedVote { voter });
            }
            if !members.contains(&voter) {
                return Err(JustificationError::UnknownVoter { voter });
            }
            if !voters.insert(voter) {
                return Err(JustificationError::DuplicateVoter { voter });
            }
        }
        let needed = supermajority(members.len());
        if voters.len() < needed {
            return Err(JustificationError::TooFewVotes {
                got: voters.len(),
                needed,
            });
        }
        self.check_ancestry()?;
        SignedVote::verify_all(&self.precommits, genesis)
            .map_err(|voter| JustificationError::BadSignature { voter })?;
        Ok(())
    }

    /// A justification of `target` by precommits of `voters` for it (round `round` of set
    /// `set_id`), without ancestry: what a single-authority set makes for each of its blocks.
    pub fn for_target(
        voters: &[&Pair],
        target: VoteTarget,
        round: u64,
        set_id: u64,
        genesis: &Hash,
    ) -> Justification {
        let precommits = voters
            .iter()
            .take(MAX_AUTHORITIES)
            .map(|p| SignedVote::sign(p, VoteKind::Precommit, target, round, set_id, genesis))
            .collect();
        Justification {
            round,
            set_id,
            target,
            precommits: BoundedVec::try_from_vec(precommits).unwrap_or_else(|_| BoundedVec::new()),
            ancestry: BoundedVec::new(),
        }
    }

    /// Every precommit's target is the target or links down to it through `ancestry`, and every
    /// ancestry header is used. Each walk step consumes a header and lowers the number, so the
    /// work is bounded by `precommits x ancestry`.
    fn check_ancestry(&self) -> Result<(), JustificationError> {
        let mut headers: BTreeMap<Hash, (&Header, bool)> = BTreeMap::new();
        for h in self.ancestry.iter() {
            let hash = h.hash();
            if headers.insert(hash, (h, false)).is_some() {
                return Err(JustificationError::BadAncestry { hash });
            }
        }
        // Blocks known to be the target or to descend from it, with their numbers.
        let mut reaches: BTreeMap<Hash, BlockNumber> = BTreeMap::new();
        reaches.insert(self.target.hash, self.target.number);
        for p in self.precommits.iter() {
            let voter = p.voter;
            let (mut hash, mut number) = (p.target.hash, p.target.number);
            let mut path = Vec::new();
            loop {
                if let Some(&known) = reaches.get(&hash) {
                    if known != number {
                        return Err(JustificationError::NotDescendant { voter });
                    }
                    break;
                }
                if number <= self.target.number {
                    return Err(JustificationError::NotDescendant { voter });
                }
                let Some((header, used)) = headers.get_mut(&hash) else {
                    return Err(JustificationError::MissingAncestry { voter });
                };
                if header.number != number {
                    return Err(JustificationError::BadAncestry { hash });
                }
                *used = true;
                path.push((hash, number));
                hash = header.parent_hash;
                number -= 1;
            }
            reaches.extend(path);
        }
        let unused = headers.values().filter(|(_, used)| !used).count();
        if unused > 0 {
            return Err(JustificationError::UnusedAncestry { count: unused });
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec_util::decode_exact;

    #[test]
    fn digest_is_bounded_on_decode() {
        let too_many: Vec<DigestItem> = (0..MAX_DIGEST_ITEMS + 1)
            .map(|_| DigestItem::Other(BoundedVec::new()))
            .collect();
        assert!(decode_exact::<Digest>(&too_many.encode()).is_err());
    }
    fn chain(len: u64) -> Vec<Header> {
        let mut headers =
            vec![Header::genesis(Hash::of(b"state"), "test").expect("a short chain id")];
        for i in 1..=len {
            let parent = headers[i as usize - 1].hash();
            headers.push(Header {
                parent_hash: parent,
                number: i,
                slot: i,
                state_root: Hash::of(&i.to_le_bytes()),
                extrinsics_root: extrinsics_root(&[]),
                digest: Digest::new(),
            });
        }
        headers
    }

    fn target(h: &Header) -> VoteTarget {
        VoteTarget {
            hash: h.hash(),
            number: h.number,
        }
    }

    const GENESIS: Hash = Hash([9; 32]);

    fn pairs(n: usize) -> Vec<Pair> {
        (0..n)
            .map(|i| crate::crypto::dev_pair(&format!("v{i}")))
            .collect()
    }

    fn precommit(p: &Pair, t: VoteTarget, round: u64, set_id: u64) -> SignedVote {
        SignedVote::sign(p, VoteKind::Precommit, t, round, set_id, &GENESIS)
    }

    /// Precommits of voters 0, 1, 2 of 4 on blocks 3, 5 and 4 of a line, for target block 3.
    fn valid() -> (Justification, Vec<AccountId>, Vec<Pair>, Vec<Header>) {
        let keys = pairs(4);
        let ids: Vec<AccountId> = keys.iter().map(Pair::public).collect();
        let line = chain(6);
        let precommits = vec![
            precommit(&keys[0], target(&line[3]), 7, 2),
            precommit(&keys[1], target(&line[5]), 7, 2),
            precommit(&keys[2], target(&line[4]), 7, 2),
        ];
        let j = Justification {
            round: 7,
            set_id: 2,
            target: target(&line[3]),
            precommits: BoundedVec::try_from_vec(precommits).unwrap(),
            ancestry: BoundedVec::try_from_vec(vec![line[5].clone(), line[4].clone()]).unwrap(),
        };
        (j, ids, keys, line)
    }

    #[test]
    fn supermajority_thresholds() {
        let cases = [
            (0, 0),
            (1, 1),
            (2, 2),
            (3, 3),
            (4, 3),
            (5, 4),
            (6, 5),
            (7, 5),
            (10, 7),
        ];
        for (n, t) in cases {
            assert_eq!(supermajority(n), t, "n = {n}");
        }
    }

    #[test]
    fn vote_signature_is_bound_to_chain_set_round_and_kind() {
        let p = crate::crypto::dev_pair("alice");
        let t = VoteTarget {
            hash: Hash::of(b"b"),
            number: 3,
        };
        let v = SignedVote::sign(&p, VoteKind::Prevote, t, 5, 1, &GENESIS);
        assert!(v.verify(&GENESIS));
        assert!(!v.verify(&Hash::ZERO));
        for changed in [
            SignedVote {
                round: 6,
                ..v.clone()
            },
            SignedVote {
                set_id: 2,
                ..v.clone()
            },
            SignedVote {
                kind: VoteKind::Precommit,
                ..v.clone()
            },
            SignedVote {
                target: VoteTarget { number: 4, ..t },
                ..v.clone()
            },
            SignedVote {
                voter: crate::crypto::dev_pair("bob").public(),
                ..v.clone()
            },
        ] {
            assert!(!changed.verify(&GENESIS));
        }
        let again = SignedVote::sign(&p, VoteKind::Prevote, t, 5, 1, &GENESIS);
        assert!(again.same_vote(&v));
    }

    #[test]
    fn golden_vote_encoding() {
        let v = SignedVote {
            round: 5,
            set_id: 1,
            kind: VoteKind::Precommit,
            target: VoteTarget {
                hash: Hash([0xab; 32]),
                number: 258,
            },
            voter: AccountId([0x11; 32]),
            signature: Signature([0x22; 64]),
        };
        let payload = SignedVote::payload(v.kind, &v.target, v.round, v.set_id, &GENESIS);
        assert_eq!(
            hex::encode(&payload),
            format!(
                "01{}0201000000000000{}{}{}",
                "ab".repeat(32),
                "0500000000000000",
                "0100000000000000",
                "09".repeat(32)
            )
        );
        let encoded = v.encode();
        assert_eq!(
            hex::encode(&encoded),
            format!(
                "0500000000000000010000000000000001{}0201000000000000{}{}",
                "ab".repeat(32),
                "11".repeat(32),
                "22".repeat(64)
            )
        );
        assert_eq!(decode_exact::<SignedVote>(&encoded).unwrap(), v);
        let j = Justification {
            round: 5,
            set_id: 1,
            target: v.target,
            precommits: BoundedVec::try_from_vec(vec![v]).unwrap(),
            ancestry: BoundedVec::new(),
        };
        assert_eq!(
            hex::encode(Hash::of_encoded(&j).as_bytes()),
            "8374fc97f9e7cc84dc131542ad844566c6f36c9d85bd4c31cfa2833ab2acb659"
        );
    }

    #[test]
    fn justification_accepts_a_supermajority_with_ancestry() {
        let (j, ids, _, _) = valid();
        assert_eq!(j.verify(&ids, 2, &GENESIS), Ok(()));
        let bytes = j.encode();
        assert_eq!(decode_exact::<Justification>(&bytes).unwrap(), j);
    }

    #[test]
    fn justification_rejections() {
        use JustificationError as E;
        let (j, ids, keys, line) = valid();
        let v1 = ids[1];
        let with_precommits = |ps: Vec<SignedVote>| Justification {
            precommits: BoundedVec::try_from_vec(ps).unwrap(),
            ..j.clone()
        };

        assert_eq!(
            j.verify(&ids, 3, &GENESIS),
            Err(E::WrongSet {
                expected: 3,
                found: 2
            })
        );
        // Another chain: every signature is wrong.
        assert!(matches!(
            j.verify(&ids, 2, &Hash::ZERO),
            Err(E::BadSignature { .. })
        ));
        assert_eq!(j.verify(&[], 2, &GENESIS), Err(E::NoAuthorities));

        // A forged signature.
        let mut forged = j.precommits.to_vec();
        forged[1].signature = forged[0].signature;
        assert_eq!(
            with_precommits(forged).verify(&ids, 2, &GENESIS),
            Err(E::BadSignature { voter: v1 })
        );

        // A non-member.
        let outsider = crate::crypto::dev_pair("outsider");
        let mut ps = j.precommits.to_vec();
        ps[2] = precommit(&outsider, target(&line[4]), 7, 2);
        assert_eq!(
            with_precommits(ps).verify(&ids, 2, &GENESIS),
            Err(E::UnknownVoter {
                voter: outsider.public()
            })
        );

        // A duplicate voter (two different precommits: an equivocation counts once).
        let mut ps = j.precommits.to_vec();
        ps[2] = precommit(&keys[1], target(&line[4]), 7, 2);
        assert_eq!(
            with_precommits(ps).verify(&ids, 2, &GENESIS),
            Err(E::DuplicateVoter { voter: v1 })
        );

        // Too few votes: 2 of 4 (the ancestry for block 5 would then be unused, so keep 0 and 2).
        let ps = vec![j.precommits[0].clone(), j.precommits[2].clone()];
        let few = Justification {
            ancestry: BoundedVec::try_from_vec(vec![line[4].clone()]).unwrap(),
            ..with_precommits(ps)
        };
        assert_eq!(
            few.verify(&ids, 2, &GENESIS),
            Err(E::TooFewVotes { got: 2, needed: 3 })
        );

        // A vote of another round, set or kind.
        for bad in [
            precommit(&keys[2], target(&line[4]), 8, 2),
            SignedVote::sign(
                &keys[2],
                VoteKind::Prevote,
                target(&line[4]),
                7,
                2,
                &GENESIS,
            ),
        ] {
            let mut ps = j.precommits.to_vec();
            ps[2] = bad;
            assert_eq!(
                with_precommits(ps).verify(&ids, 2, &GENESIS),
                Err(E::MismatchedVote { voter: ids[2] })
            );
        }

        // A precommit below the target, and one on a fork.
        let mut ps = j.precommits.to_vec();
        ps[0] = precommit(&keys[0], target(&line[2]), 7, 2);
        assert_eq!(
            with_precommits(ps).verify(&ids, 2, &GENESIS),
            Err(E::NotDescendant { voter: ids[0] })
        );
        let fork = Header {
            state_root: Hash::of(b"fork"),
            ..line[4].clone()
        };
        let mut ps = j.precommits.to_vec();
        ps[0] = precommit(&keys[0], target(&fork), 7, 2);
        let forked = Justification {
            ancestry: BoundedVec::try_from_vec(vec![line[5].clone(), line[4].clone(), fork])
                .unwrap(),
            ..with_precommits(ps)
        };
        // The fork's header links to block 3 (same parent as block 4): that is a descendant, so
        // this one is valid; a fork below the target is not.
        assert_eq!(forked.verify(&ids, 2, &GENESIS), Ok(()));
        let low_fork = Header {
            state_root: Hash::of(b"low fork"),
            ..line[3].clone()
        };
        let mut ps = j.precommits.to_vec();
        ps[0] = precommit(&keys[0], target(&low_fork), 7, 2);
        assert_eq!(
            with_precommits(ps).verify(&ids, 2, &GENESIS),
            Err(E::NotDescendant { voter: ids[0] })
        );

        // Bad ancestry: a missing link, an unused header, a repeated header, a wrong number.
        let missing = Justification {
            ancestry: BoundedVec::try_from_vec(vec![line[5].clone()]).unwrap(),
            ..j.clone()
        };
        assert_eq!(
            missing.verify(&ids, 2, &GENESIS),
            Err(E::MissingAncestry { voter: v1 })
        );
        let unused = Justification {
            ancestry: BoundedVec::try_from_vec(vec![
                line[5].clone(),
                line[4].clone(),
                line[6].clone(),
            ])
            .unwrap(),
            ..j.clone()
        };
        assert_eq!(
            unused.verify(&ids, 2, &GENESIS),
            Err(E::UnusedAncestry { count: 1 })
        );
        let repeated = Justification {
            ancestry: BoundedVec::try_from_vec(vec![
                line[5].clone(),
                line[4].clone(),
                line[4].clone(),
            ])
            .unwrap(),
            ..j.clone()
        };
        assert_eq!(
            repeated.verify(&ids, 2, &GENESIS),
            Err(E::BadAncestry {
                hash: line[4].hash()
            })
        );
        // Voter 1 claims block 4 is number 5: the walk finds the header's number differs.
        let mut ps = j.precommits.to_vec();
        ps[1] = precommit(
            &keys[1],
            VoteTarget {
                hash: line[4].hash(),
                number: 5,
            },
            7,
            2,
        );
        assert_eq!(
            with_precommits(ps).verify(&ids, 2, &GENESIS),
            Err(E::BadAncestry {
                hash: line[4].hash()
            })
        );
    }

    #[test]
    fn justification_vectors_are_bounded_on_decode() {
        let (j, ..) = valid();
        let mut bytes = (j.round, j.set_id, j.target).encode();
        bytes.extend(codec::Compact(MAX_AUTHORITIES as u32 + 1).encode());
        assert!(decode_exact::<Justification>(&bytes).is_err());
    }
}
