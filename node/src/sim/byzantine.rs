//! The Byzantine authority: one authority key run by two nodes ("twins", the classic
//! misconfigured failover) whose honest code equivocates by itself: both author at the key's
//! slots and both vote, from different views. On top of that the simulator makes it:
//!
//! - prevote for a block nobody has, precommit for an invalid block, and precommit for two
//!   blocks in one round ([`bad_votes`]);
//! - withhold its blocks for a while (its block gossip is muted);
//! - lie in its sync answers ([`Liar`]): claim a best block far ahead, answer with nothing,
//!   with bytes that do not decode, with a block whose state root it changed (re-sealed when
//!   it is the author, so only execution can tell), or with a block carrying a justification it
//!   forged (its own precommit, and copies naming the other authorities with its signature).
//!
//! Honest nodes must stay safe and live through all of it; the reports they make against the
//! twins are counted.

use crate::workers::voting::{SharedVoter, VoteMessage};
use aitbc_client::SignedBlockOf;
use aitbc_network::{SharedNetwork, Status, SyncProvider, Topic};
use aitbc_primitives::{
    decode_exact, AccountId, BoundedVec, Hash, Header, Justification, Pair, SignedVote,
    SigningContext, VoteKind, VoteTarget,
};
use aitbc_runtime::Runtime;
use codec::Encode;
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;

/// How far ahead the liar claims its best block is.
const CLAIMED_AHEAD: u64 = 1_000;

/// A sync provider that lies in about half its answers (see the module docs).
pub struct Liar {
    honest: Arc<dyn SyncProvider>,
    key: Pair,
    others: Vec<AccountId>,
    genesis: Hash,
    voter: Option<SharedVoter>,
    rng: Mutex<StdRng>,
}

impl Liar {
    pub fn new(
        honest: Arc<dyn SyncProvider>,
        key: Pair,
        others: Vec<AccountId>,
        genesis: Hash,
        voter: Option<SharedVoter>,
        seed: u64,
    ) -> Self {
        Liar {
            honest,
            key,
            others,
            genesis,
            voter,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    fn draw(&self, below: u32) -> u32 {
        self.rng.lock().gen_range(0..below)
    }

    /// Spoils one of `blocks` in a way drawn at random, or leaves them (half the time).
    fn spoil(&self, mut blocks: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        if blocks.is_empty() {
            return blocks;
        }
        let i = self.draw(blocks.len() as u32) as usize;
        match self.draw(8) {
            0 => Vec::new(),
            1 => {
                blocks[i] = b"not a block".to_vec();
                blocks
            }
            2 => {
                if let Some(bad) = self.tamper(&blocks[i]) {
                    blocks[i] = bad;
                }
                blocks
            }
            3 => {
                if let Some(forged) = self.with_forged_justification(&blocks[i]) {
                    blocks[i] = forged;
                }
                blocks
            }
            _ => blocks,
        }
    }

    /// The block with another state root ([`tampered`]), re-sealed if the liar is its author.
    fn tamper(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let mut block: SignedBlockOf<Runtime> = decode_exact(bytes).ok()?;
        let mine = block.seal_is_valid(&self.key.public());
        block.block.header = tampered(&block.block.header);
        if mine {
            let hash = block.block.header.hash();
            block.seal = self.key.sign(SigningContext::Block, hash.as_bytes());
        }
        Some(block.encode())
    }

    /// The block with a justification the liar forged for it.
    fn with_forged_justification(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let mut block: SignedBlockOf<Runtime> = decode_exact(bytes).ok()?;
        let header = &block.block.header;
        let target = VoteTarget {
            hash: header.hash(),
            number: header.number,
        };
        let (round, set_id) = self.round();
        let own = SignedVote::sign(
            &self.key,
            VoteKind::Precommit,
            target,
            round,
            set_id,
            &self.genesis,
        );
        let mut precommits = vec![own.clone()];
        for other in &self.others {
            let mut copy = own.clone();
            copy.voter = *other;
            precommits.push(copy);
        }
        block.justification = Some(Justification {
            round,
            set_id,
            target,
            precommits: BoundedVec::try_from_vec(precommits).ok()?,
            ancestry: BoundedVec::new(),
        });
        Some(block.encode())
    }

    /// The liar's current round and set id.
    fn round(&self) -> (u64, u64) {
        self.voter.as_ref().map_or((1, 0), |v| {
            let v = v.lock();
            (v.round(), v.set_id())
        })
    }
}

impl SyncProvider for Liar {
    fn status(&self) -> Status {
        let mut status = self.honest.status();
        if self.draw(4) == 0 {
            status.best.0 += CLAIMED_AHEAD;
            status.best.1 = Hash::of(&status.best.0.encode());
        }
        status
    }

    fn blocks_by_range(&self, from: u64, count: u32, max_bytes: usize) -> Vec<Vec<u8>> {
        self.spoil(self.honest.blocks_by_range(from, count, max_bytes))
    }

    fn blocks_by_hash(&self, hashes: &[Hash], max_bytes: usize) -> Vec<Vec<u8>> {
        self.spoil(self.honest.blocks_by_hash(hashes, max_bytes))
    }

    fn votes(&self, round: u64, max_bytes: usize) -> Vec<Vec<u8>> {
        let mut votes = self.honest.votes(round, max_bytes);
        if self.draw(4) == 0 {
            votes.push(b"not a vote".to_vec());
        }
        votes
    }
}

/// `header` with another state root: the invalid twin of a block, which the liar serves and
/// the Byzantine key votes for.
pub fn tampered(header: &Header) -> Header {
    let mut bad = header.clone();
    bad.state_root = Hash::of(&header.hash().encode());
    bad
}

/// Publishes, as the Byzantine key, a prevote for a block nobody has, a precommit for the
/// invalid twin of `best` ([`tampered`]) and two conflicting precommits (for `best` and for
/// `other`), all in the voter's current round. Returns how many votes it sent.
pub fn bad_votes(
    net: &SharedNetwork,
    key: &Pair,
    voter: &SharedVoter,
    genesis: &Hash,
    best: &Header,
    other: VoteTarget,
    unknown: Hash,
) -> u64 {
    let (round, set_id) = {
        let v = voter.lock();
        (v.round(), v.set_id())
    };
    let nowhere = VoteTarget {
        hash: unknown,
        number: best.number + 1,
    };
    let invalid = VoteTarget {
        hash: tampered(best).hash(),
        number: best.number,
    };
    let best = VoteTarget {
        hash: best.hash(),
        number: best.number,
    };
    let votes = [
        (VoteKind::Prevote, nowhere),
        (VoteKind::Precommit, invalid),
        (VoteKind::Precommit, best),
        (VoteKind::Precommit, other),
    ];
    for (i, (kind, target)) in votes.iter().enumerate() {
        let vote = SignedVote::sign(key, *kind, *target, round, set_id, genesis);
        let message = VoteMessage {
            vote,
            resend: u32::MAX - i as u32,
        };
        let _ = net.publish(Topic::Votes, message.encode());
    }
    votes.len() as u64
}
