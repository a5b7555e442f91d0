//! The finality worker: drives the GRANDPA voter ([`super::finality`]) with the clock, the chain
//! and the network, and applies what it decides.
//!
//! - Inputs: a tick every [`TICK`], every new best block, gossiped votes (answered to gossipsub:
//!   `Accept`, `Ignore`, or `Reject` for a forged or foreign vote), justifications that came with
//!   synced blocks (verified against the authority set, then the block is finalized).
//! - Durability: the voter's record ([`Action::Persist`]) is written to the authoring record
//!   (`authoring.redb`) with an immediate-durability commit *before* the vote it records is sent.
//!   If that write fails the worker stops voting (it keeps observing): a vote sent but not
//!   recorded could be contradicted after a crash.
//! - Gossip: a vote travels as [`VoteMessage`] (the vote and a resend counter). Our own votes of
//!   the current and previous round are sent again every [`REBROADCAST`], each time with a new
//!   counter so gossip does not drop it as a duplicate: a peer that restarted or reconnected
//!   learns the rounds it missed, so a stalled round resumes once enough voters are back.
//! - Catch-up: when the voter sees that others are rounds ahead, the worker asks a peer for the
//!   votes of the round before theirs (`SyncRequest::Votes`) and hands them to the voter.
//! - Unknown vote targets: a vote for a block this node does not have counts, but cannot be
//!   placed on a chain until the block is here, so the worker fetches it from the vote's sender
//!   (`SyncRequest::BlocksByHash`, with its unknown ancestors up to [`MAX_FETCHED_ANCESTRY`]) and
//!   imports it. Without that, voters that prevoted for sibling blocks that gossip lost stayed
//!   in one round for good, each unable to see a prevote supermajority (found by the
//!   simulator).
//! - Finality: a finalized block is committed with its justification through
//!   [`Client::finalize`]; a justification this node cannot apply (block unknown yet) is retried
//!   on the next block.
//!
//! Authority sets: the voter votes for the client's voter set ([`Client::voter_set`]): the
//! genesis authorities (set 0), replaced by the set a block signals (`AuthoritiesChange` digest)
//! once that block is finalized (or a forced change is enacted at import), with the next set id,
//! recorded in the same durable write. After each finalization and each new best block the
//! worker starts a fresh voter when the set id moved. Justifications of
//! an older set are ignored, of a newer one checked as far as it can be without the set
//! (signatures, duplicates, ancestry; a failure charges the sender) and kept until the change is
//! final here.

use super::blocking;
use super::reporter::Reporter;
use super::signed_slots::SignedSlots;
use crate::workers::sync::FinalityInput;
use aitbc_client::Client;
use aitbc_consensus::finality::{Action, Chain, Note, PersistedRound, Voter, VoterConfig};
use aitbc_network::{Misbehaviour, SharedNetwork, SyncRequest, SyncResponse, Topic, Validation};
use aitbc_primitives::{
    decode_exact, BlockNumber, BoundedVec, Hash, Header, Justification, OffenceProof, Pair,
    SignedVote, StateMachine, VoteEquivocation, VoteTarget,
};
use aitbc_storage::{BlockRef, VoterSet};
use codec::{Decode, Encode};
use parking_lot::Mutex;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tracing::Instrument;

/// How often the voter's clock ticks.
pub const TICK: Duration = Duration::from_millis(50);

/// The voter's `T` for a chain of `slot_ms` slots: a quarter slot (at least a tick). A round
/// lasts at least `T` (prevotes wait for it), so a block waits up to about `T` plus a round for
/// finality. Votes between this machine's nodes arrive in milliseconds; with `T` a whole slot
/// (as before), finality trailed the head by 1-2 s under load. Safety does not depend on `T`,
/// only how soon a round ends when votes are slow.
fn gossip_duration_ms(slot_ms: u64) -> u64 {
    (slot_ms / 4).max(TICK.as_millis() as u64)
}

/// How often our own recent votes are sent again.
pub const REBROADCAST: Duration = Duration::from_secs(2);

/// How many unknown ancestors of a vote's target are fetched at most.
pub const MAX_FETCHED_ANCESTRY: usize = 32;
/// How many vote targets are fetched at once at most.
const MAX_FETCHING: usize = 16;

/// A vote on the gossip topic: the vote and a resend counter (so a re-sent vote is a new
/// message to gossip).
#[derive(Debug, Clone, Encode, Decode)]
pub struct VoteMessage {
    pub vote: SignedVote,
    pub resend: u32,
}

/// The chain as the voter sees it.
pub struct ClientChain<'a, S: StateMachine>(pub &'a Client<S>);

impl<S: StateMachine> Chain for ClientChain<'_, S> {
    fn ancestor_at(&self, block: &Hash, number: BlockNumber) -> Option<Hash> {
        self.0.ancestor_at(block, number)
    }

    fn number(&self, block: &Hash) -> Option<BlockNumber> {
        self.0.block_number(block)
    }

    fn best_containing(&self, base: &VoteTarget) -> Option<VoteTarget> {
        self.0.best_containing(&base.hash).map(|b| VoteTarget {
            hash: b.hash,
            number: b.number,
        })
    }

    fn header(&self, hash: &Hash) -> Option<Header> {
        self.0.header(hash).ok().flatten()
    }
}

/// What to do with a justification that checked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JustificationUse {
    /// Of an older set: its blocks are final here already.
    Stale,
    /// Of the current set: finalize with it.
    Now,
    /// Of a newer set: keep it until that set's change is final here.
    Later,
}

/// Checks a justification against the voter set `set` before anything is done with it. One of a
/// newer set cannot be checked for membership and supermajority yet, but everything else can:
/// each precommit's signature, no voter twice, the ancestry. A failure is the sender's fault and
/// nothing is kept.
fn check_justification(
    set: &VoterSet,
    j: &Justification,
    genesis: &Hash,
) -> Result<JustificationUse, aitbc_primitives::JustificationError> {
    if j.set_id < set.id {
        return Ok(JustificationUse::Stale);
    }
    if j.set_id > set.id {
        let signers: Vec<_> = j.precommits.iter().map(|p| p.voter).collect();
        j.verify(&signers, j.set_id, genesis)?;
        return Ok(JustificationUse::Later);
    }
    j.verify(&set.authorities, set.id, genesis)?;
    Ok(JustificationUse::Now)
}

/// The shared voter: the worker drives it; sync requests read its rounds.
pub type SharedVoter = Arc<Mutex<Voter>>;

/// Creates the voter for the node's authority set, resuming from the durable record.
pub fn voter<S: StateMachine>(
    client: &Client<S>,
    key: Option<Pair>,
    record: Option<&SignedSlots>,
) -> anyhow::Result<SharedVoter> {
    Ok(Arc::new(Mutex::new(new_voter(client, key, record)?)))
}

/// A voter for the client's current voter set, resuming from the durable record when it is of
/// that set.
fn new_voter<S: StateMachine>(
    client: &Client<S>,
    key: Option<Pair>,
    record: Option<&SignedSlots>,
) -> anyhow::Result<Voter> {
    let state = client.state()?;
    let slot_ms = client.runtime().slot_duration_ms(&state);
    drop(state);
    let set = client.voter_set();
    let restored = match (&key, record) {
        (Some(k), Some(r)) => r
            .load_votes(&k.public())?
            .and_then(|b| decode_exact::<PersistedRound>(&b).ok()),
        _ => None,
    };
    let fin = client.finalized();
    // A single authority's blocks are final at import, each with its precommit in a round
    // numbered like the block (`Client::author_block`): voting in rounds too could sign a
    // second precommit for one round.
    let key = if set.authorities.len() > 1 { key } else { None };
    Ok(Voter::new(
        VoterConfig {
            authorities: set.authorities,
            set_id: set.id,
            key,
            genesis_hash: client.genesis_hash(),
            gossip_duration_ms: gossip_duration_ms(slot_ms),
        },
        VoteTarget {
            hash: fin.hash,
            number: fin.number,
        },
        restored,
    )?)
}

/// Encoded votes of `round` (answers peers' `Votes` requests).
pub fn round_votes(voter: &SharedVoter, round: u64) -> Vec<Vec<u8>> {
    voter
        .lock()
        .round_state(round)
        .into_iter()
        .map(|v| v.encode())
        .collect()
}

struct Worker<S: StateMachine> {
    client: Arc<Client<S>>,
    voter: SharedVoter,
    key: Option<Pair>,
    record: Option<Arc<SignedSlots>>,
    net: Option<SharedNetwork>,
    /// Where vote equivocations go (an authority node reports them).
    reporter: Option<Arc<Reporter<S>>>,
    /// False after a failed durable write: observe only.
    may_vote: bool,
    resend: u32,
    /// A justification whose block was not importable yet.
    pending: Option<Justification>,
    catch_up: mpsc::Sender<(u64, Vec<SignedVote>)>,
    /// Vote targets being fetched; each fetch reports back on `fetched`.
    fetching: BTreeSet<Hash>,
    fetched: mpsc::Sender<Hash>,
}

/// Logs what the voter noticed.
fn log_note(note: &Note) {
    match note {
        Note::EnteredRound(round) => tracing::debug!(target: "finality", round, "entering round"),
        Note::ConflictingJustification(t) => tracing::warn!(target: "finality",
            hash = %t.hash, number = t.number,
            "justification conflicts with our finalized block; ignored"),
        Note::ConflictingSupermajority { round, target } => tracing::error!(target: "finality",
            round, hash = %target.hash, number = target.number,
            "precommit supermajority conflicts with our finalized block: more than a third of \
             the authorities are faulty; not finalizing"),
        Note::NoJustification { round, target } => tracing::warn!(target: "finality",
            round, number = target.number,
            "cannot build a justification (missing headers or too long ancestry)"),
        Note::BestOffBase { base, best } => tracing::warn!(target: "finality",
            base = base.number, best = best.number,
            "best_containing returned a block off its base"),
    }
}

/// What an authority node votes with.
pub struct VotingKey<S: StateMachine> {
    pub key: Pair,
    /// The durable record of the rounds it signed.
    pub record: Arc<SignedSlots>,
    /// Where the vote equivocations it sees go.
    pub reporter: Arc<Reporter<S>>,
}

/// Runs the worker until `shutdown` turns true; without `authority` it only observes.
pub async fn run<S: StateMachine>(
    client: Arc<Client<S>>,
    voter: SharedVoter,
    authority: Option<VotingKey<S>>,
    net: Option<SharedNetwork>,
    mut inputs: mpsc::Receiver<FinalityInput>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut events = client.subscribe();
    let clock = client.clock().clone();
    let (catch_up, mut caught_up) = mpsc::channel(4);
    let (fetched, mut fetched_rx) = mpsc::channel(MAX_FETCHING);
    let (key, record, reporter) = match authority {
        Some(a) => (Some(a.key), Some(a.record), Some(a.reporter)),
        None => (None, None, None),
    };
    let mut w = Worker {
        client,
        voter,
        key,
        record,
        net,
        reporter,
        may_vote: true,
        resend: 0,
        pending: None,
        catch_up,
        fetching: BTreeSet::new(),
        fetched,
    };
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut rebroadcast = tokio::time::interval(REBROADCAST);
    loop {
        tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            _ = tick.tick() => {
                let now = clock.now_ms();
                let actions = w.with_voter(|v, c| v.on_timer(now, c));
                w.apply(actions).await;
            }
            _ = rebroadcast.tick() => w.rebroadcast(),
            event = events.recv() => {
                match event {
                    Ok(aitbc_client::ChainEvent::NewBest { .. }) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        // A forced authority-set change is enacted at import.
                        w.follow_set_change();
                        let actions = w.with_voter(|v, c| v.on_block(c));
                        w.apply(actions).await;
                        if let Some(j) = w.pending.take() {
                            w.on_justification(None, j).await;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
            Some(hash) = fetched_rx.recv() => {
                // The target (and what it needs) may be here now: place its votes.
                w.fetching.remove(&hash);
                let actions = w.with_voter(|v, c| v.on_block(c));
                w.apply(actions).await;
            }
            Some((round, votes)) = caught_up.recv() => {
                let result = w.with_voter(|v, c| v.on_catch_up(round, votes, c));
                match result {
                    Ok(actions) => w.apply(actions).await,
                    Err(e) => tracing::debug!(target: "finality", round, error = %e, "catch-up answer refused"),
                }
            }
            input = inputs.recv() => match input {
                None => return,
                Some(FinalityInput::Vote { peer, message_id, data }) => {
                    let verdict = w.on_vote_message(peer, &data).await;
                    if let Some(net) = &w.net {
                        net.validation(message_id, peer, verdict);
                    }
                }
                Some(FinalityInput::Justification { peer, justification }) => {
                    w.on_justification(peer, justification).await;
                }
            }
        }
    }
}

impl<S: StateMachine> Worker<S> {
    /// Runs `f` on the voter, then logs what it noted.
    fn with_voter<T>(&self, f: impl FnOnce(&mut Voter, &ClientChain<'_, S>) -> T) -> T {
        let chain = ClientChain(&self.client);
        let mut voter = self.voter.lock();
        let out = f(&mut voter, &chain);
        for note in voter.take_notes() {
            if let Note::EnteredRound(round) = note {
                self.client.metrics().set_grandpa_round(round);
            }
            log_note(&note);
        }
        out
    }

    async fn on_vote_message(&mut self, peer: aitbc_network::PeerId, data: &[u8]) -> Validation {
        let Ok(msg) = decode_exact::<VoteMessage>(data) else {
            return Validation::Reject(Misbehaviour::Undecodable);
        };
        let target = msg.vote.target;
        match self.with_voter(|v, c| v.on_vote(msg.vote, c)) {
            Ok(actions) => {
                self.apply(actions).await;
                self.fetch_if_unknown(peer, target);
                Validation::Accept
            }
            Err(e) if e.peer_misbehaved() => {
                tracing::debug!(target: "finality", error = %e, "bad vote");
                Validation::Reject(Misbehaviour::BadVote)
            }
            Err(_) => Validation::Ignore,
        }
    }

    async fn on_justification(&mut self, peer: Option<aitbc_network::PeerId>, j: Justification) {
        let set = self.client.voter_set();
        match check_justification(&set, &j, &self.client.genesis_hash()) {
            Ok(JustificationUse::Stale) => return,
            Ok(JustificationUse::Later) => {
                self.pending = Some(j);
                return;
            }
            Ok(JustificationUse::Now) => {}
            Err(e) => {
                tracing::warn!(target: "finality", error = %e, "invalid justification");
                if let (Some(net), Some(peer)) = (&self.net, peer) {
                    net.report(peer, Misbehaviour::BadVote);
                }
                return;
            }
        }
        if j.target.number <= self.client.finalized().number {
            return;
        }
        match self.finalize(&j).await {
            Ok(()) => {
                let actions = self.with_voter(|v, c| v.on_justification(&j, c));
                self.apply(actions).await;
            }
            Err(e) => {
                tracing::debug!(target: "finality", error = %e, "justification not applicable yet");
                self.pending = Some(j);
            }
        }
    }

    async fn finalize(&mut self, j: &Justification) -> Result<(), aitbc_client::ImportError> {
        let client = self.client.clone();
        let target = BlockRef {
            number: j.target.number,
            hash: j.target.hash,
        };
        let bytes = j.encode();
        blocking::run(move || client.finalize(target, Some(bytes)))
            .await
            .unwrap_or(Err(aitbc_client::ImportError::UnknownBlock(target.hash)))?;
        self.follow_set_change();
        Ok(())
    }

    /// Starts a fresh voter when a finalized block changed the voter set.
    fn follow_set_change(&mut self) {
        let set_id = self.client.voter_set().id;
        if set_id == self.voter.lock().set_id() {
            return;
        }
        match new_voter(&self.client, self.key.clone(), self.record.as_deref()) {
            Ok(v) => {
                tracing::info!(target: "finality", set_id, "voting with the new authority set");
                *self.voter.lock() = v;
            }
            Err(e) => {
                tracing::error!(target: "finality", error = %e, "cannot start the new set's voter")
            }
        }
    }

    async fn apply(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Persist(record) => {
                    if let Err(e) = self.persist(&record) {
                        tracing::error!(target: "finality", error = %e,
                            "cannot record a vote durably; this node stops voting");
                        self.may_vote = false;
                    }
                }
                Action::Broadcast(vote) => {
                    tracing::debug!(target: "finality", round = vote.round, kind = ?vote.kind,
                        number = vote.target.number, hash = %vote.target.hash.short(), "voting");
                    if self.may_vote {
                        self.publish(vote);
                    }
                }
                Action::Finalized(j) => {
                    let number = j.target.number;
                    match self.finalize(&j).await {
                        Ok(()) => {
                            tracing::debug!(target: "finality", number, hash = %j.target.hash.short(), round = j.round, "finalized")
                        }
                        Err(e) => {
                            tracing::warn!(target: "finality", number, error = %e, "cannot finalize");
                            self.pending = Some(j);
                        }
                    }
                }
                Action::Equivocation(a, b) => {
                    tracing::warn!(target: "finality", voter = %a.voter, round = a.round,
                        first = %a.target.hash, second = %b.target.hash, "vote equivocation");
                    self.client.metrics().equivocation();
                    if let Some(r) = &self.reporter {
                        r.report(OffenceProof::Vote(VoteEquivocation {
                            first: a,
                            second: b,
                        }));
                    }
                }
                Action::CatchUpNeeded { round } => self.ask_catch_up(round),
            }
        }
    }

    fn persist(&self, record: &PersistedRound) -> anyhow::Result<()> {
        let (Some(store), Some(me)) = (&self.record, self.voter.lock().local_id()) else {
            return Ok(());
        };
        store.save_votes(&me, &record.encode())?;
        Ok(())
    }

    fn publish(&mut self, vote: SignedVote) {
        let Some(net) = &self.net else { return };
        self.resend = self.resend.wrapping_add(1);
        let msg = VoteMessage {
            vote,
            resend: self.resend,
        };
        let _ = net.publish(Topic::Votes, msg.encode());
    }

    fn rebroadcast(&mut self) {
        if !self.may_vote {
            return;
        }
        let votes = {
            let voter = self.voter.lock();
            tracing::debug!(target: "finality", "{}", voter.progress());
            voter.own_votes()
        };
        for v in votes {
            self.publish(v);
        }
    }

    /// Fetches `target` from `peer` when this node does not have it and it is above our
    /// finalized block (see the module docs).
    fn fetch_if_unknown(&mut self, peer: aitbc_network::PeerId, target: VoteTarget) {
        let Some(net) = self.net.clone() else { return };
        if target.number <= self.client.finalized().number
            || self.fetching.len() >= MAX_FETCHING
            || self.fetching.contains(&target.hash)
            || !matches!(self.client.header(&target.hash), Ok(None))
        {
            return;
        }
        self.fetching.insert(target.hash);
        let (client, done) = (self.client.clone(), self.fetched.clone());
        tokio::spawn(
            async move {
                let blocks = fetch_ancestry(&client, &net, peer, target.hash).await;
                if !blocks.is_empty() {
                    let imported = blocks.len();
                    let c = client.clone();
                    let results = blocking::run(move || c.import_blocks(&blocks))
                        .await
                        .unwrap_or_default();
                    let failed = results.iter().find_map(|r| r.as_ref().err());
                    tracing::debug!(target: "finality", %peer, number = target.number,
                        hash = %target.hash.short(), imported, error = ?failed,
                        "fetched a vote's target");
                }
                let _ = done.send(target.hash).await;
            }
            .in_current_span(),
        );
    }

    /// Asks the best-connected peer for the votes of the round before `round`.
    fn ask_catch_up(&self, round: u64) {
        let Some(net) = self.net.clone() else { return };
        let Some(peer) = net.peers().into_iter().max_by_key(|p| p.best_height) else {
            return;
        };
        let wanted = round.saturating_sub(1);
        let tx = self.catch_up.clone();
        tokio::spawn(
            async move {
                match net
                    .request(peer.peer_id, SyncRequest::Votes { round: wanted })
                    .await
                {
                    Ok(SyncResponse::Votes(list)) => {
                        let votes: Result<Vec<SignedVote>, _> =
                            list.iter().map(|b| decode_exact::<SignedVote>(b)).collect();
                        match votes {
                            Ok(votes) => {
                                let _ = tx.send((wanted, votes)).await;
                            }
                            Err(_) => net.report(peer.peer_id, Misbehaviour::Undecodable),
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!(target: "finality", error = %e, "catch-up request failed")
                    }
                }
            }
            .in_current_span(),
        );
    }
}

/// Fetches `hash` and its ancestors this node lacks (at most [`MAX_FETCHED_ANCESTRY`], not
/// below the finalized block) from `peer`, one request each; returns them parents first. A
/// block that is not the one asked for ends the walk (and charges the peer).
async fn fetch_ancestry<S: StateMachine>(
    client: &Client<S>,
    net: &SharedNetwork,
    peer: aitbc_network::PeerId,
    mut hash: Hash,
) -> Vec<aitbc_client::SignedBlockOf<S>> {
    let finalized = client.finalized().number;
    let mut chain = Vec::new();
    while chain.len() < MAX_FETCHED_ANCESTRY && matches!(client.header(&hash), Ok(None)) {
        let Ok(wanted) = BoundedVec::try_from_vec(vec![hash]) else {
            break;
        };
        let block = match net.request(peer, SyncRequest::BlocksByHash(wanted)).await {
            Ok(SyncResponse::Blocks(list)) => match list.first() {
                Some(bytes) => decode_exact::<aitbc_client::SignedBlockOf<S>>(bytes).ok(),
                None => break, // the peer does not have it (or never did: a bogus vote)
            },
            _ => break,
        };
        let Some(block) = block.filter(|b| b.hash() == hash) else {
            net.report(peer, Misbehaviour::BadResponse);
            break;
        };
        hash = block.block.header.parent_hash;
        let number = block.block.header.number;
        chain.push(block);
        if number <= finalized + 1 {
            break;
        }
    }
    chain.reverse();
    chain
}

#[cfg(test)]
mod tests {
    use super::*;
    use aitbc_primitives::crypto::dev_pair;
    use aitbc_primitives::VoteKind;

    fn justification(set_id: u64, voters: &[&str], genesis: &Hash) -> Justification {
        let target = VoteTarget {
            hash: Hash::of(b"target"),
            number: 7,
        };
        let precommits = voters
            .iter()
            .map(|v| {
                SignedVote::sign(
                    &dev_pair(v),
                    VoteKind::Precommit,
                    target,
                    3,
                    set_id,
                    genesis,
                )
            })
            .collect();
        Justification {
            round: 3,
            set_id,
            target,
            precommits: BoundedVec::try_from_vec(precommits).unwrap(),
            ancestry: BoundedVec::new(),
        }
    }

    /// A justification of a newer set is checked as far as it can be before it is kept: a
    /// forged signature or a repeated voter is refused (and charged) at once, not stored as
    /// pending until the set change.
    #[test]
    fn newer_set_justifications_are_checked_before_they_are_kept() {
        let genesis = Hash::of(b"genesis");
        let set = VoterSet {
            id: 1,
            authorities: ["alice", "bob", "charlie", "dave"]
                .map(|a| dev_pair(a).public())
                .to_vec(),
            weights: Vec::new(),
        };
        let three = ["alice", "bob", "charlie"];
        assert_eq!(
            check_justification(&set, &justification(1, &three, &genesis), &genesis),
            Ok(JustificationUse::Now)
        );
        assert_eq!(
            check_justification(&set, &justification(0, &["alice"], &genesis), &genesis),
            Ok(JustificationUse::Stale)
        );
        assert!(
            check_justification(&set, &justification(1, &["alice"], &genesis), &genesis).is_err()
        );
        // A newer set's: kept when well-formed, whoever signed.
        let newer = justification(2, &["eve", "ferdie"], &genesis);
        assert_eq!(
            check_justification(&set, &newer, &genesis),
            Ok(JustificationUse::Later)
        );
        // Forged signature, repeated voter, another chain's votes: refused.
        let mut forged = newer.clone();
        let mut p = forged.precommits.to_vec();
        p[0].signature = p[1].signature;
        forged.precommits = BoundedVec::try_from_vec(p).unwrap();
        assert!(check_justification(&set, &forged, &genesis).is_err());
        let twice = justification(2, &["eve", "eve"], &genesis);
        assert!(check_justification(&set, &twice, &genesis).is_err());
        let foreign = justification(2, &["eve"], &Hash::of(b"other chain"));
        assert!(check_justification(&set, &foreign, &genesis).is_err());
    }
}
