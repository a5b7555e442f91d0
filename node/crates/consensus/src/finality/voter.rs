//! The voter: GRANDPA's per-node logic as a pure state machine. Inputs are votes, timer ticks,
//! chain changes, justifications and catch-up answers; outputs are [`Action`]s for the driver.
//! See the module docs of [`super`] for the protocol and the safety argument.

use super::ghost::{descends, max_faulty};
use super::justification;
use super::round::{Added, RoundSummary, RoundVotes};
use super::Chain;
use aitbc_primitives::{
    supermajority, AccountId, BoundedVec, Hash, Justification, Pair, SignedVote, VoteKind,
    VoteTarget, MAX_AUTHORITIES,
};
use codec::{Decode, Encode};
use std::collections::{BTreeMap, BTreeSet};

/// Votes are buffered for at most this many rounds ahead of the current one; votes further
/// ahead only count towards [`Action::CatchUpNeeded`].
pub const FUTURE_ROUNDS: u64 = 4;
/// At most this many votes in one catch-up answer (two kinds, an equivocation each).
pub const MAX_CATCH_UP_VOTES: usize = 4 * MAX_AUTHORITIES;
/// A round that has not completed after this many `T` while `f + 1` voters are ahead asks for
/// a catch-up.
pub const STUCK_AFTER_T: u64 = 5;
/// A bound on the work of one input: each step either casts a vote or enters a later round.
const MAX_STEPS: usize = 16;
/// With nothing above the last finalized block to prevote for, a voter waits up to this many
/// `T` for a block before prevoting anyway (see the module docs of [`super`]).
pub const IDLE_PREVOTE_T: u64 = 4;

/// What a voter needs to know about its authority set.
#[derive(Debug, Clone)]
pub struct VoterConfig {
    /// The authority set (distinct, at most [`MAX_AUTHORITIES`]).
    pub authorities: Vec<AccountId>,
    /// The set's id; votes of another set are refused.
    pub set_id: u64,
    /// The local authority key. Without one, or when it is not in the set, the voter only
    /// observes: it counts votes and finalizes, and never votes.
    pub key: Option<Pair>,
    /// The chain's genesis hash, in every vote's signed payload.
    pub genesis_hash: Hash,
    /// `T`, the time a message takes to reach everyone (e.g. the slot duration): a voter
    /// prevotes `T` after a round starts and precommits after `2T` unless the round is already
    /// decided.
    pub gossip_duration_ms: u64,
}

/// The voter's durable record: its own votes of its current round (and the round before), and
/// the previous round's estimate it votes on. Written by the driver on [`Action::Persist`] and
/// passed back to [`Voter::new`] after a restart, so the voter resumes in that round and never
/// casts a different vote for a (round, kind) it already voted in.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct PersistedRound {
    pub set_id: u64,
    pub round: u64,
    /// `E_{round-1}`, the base of this round's votes, when known.
    pub prev_estimate: Option<VoteTarget>,
    pub prevote: Option<SignedVote>,
    pub precommit: Option<SignedVote>,
    /// Our votes of `round - 1`, re-broadcast after a restart.
    pub previous: BoundedVec<SignedVote, 2>,
}

/// What the driver must do, in list order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Durably write this record (replacing the previous one) **before** performing any later
    /// action of the list: a `Broadcast` always follows the `Persist` that records its vote. If
    /// the write fails the driver must not broadcast (and should stop voting): a vote sent but
    /// not recorded could, after a crash, be followed by a different vote in the same round.
    Persist(PersistedRound),
    /// Send our vote to the network (and keep re-sending [`Voter::own_votes`] periodically).
    Broadcast(SignedVote),
    /// A block became final: store the justification with it and mark it (and its ancestors)
    /// finalized.
    Finalized(Justification),
    /// A voter cast two different votes of one kind in one round: proof of misbehaviour.
    Equivocation(SignedVote, SignedVote),
    /// At least `f + 1` voters are in `round` or later while we are behind (beyond the rounds
    /// we buffer, or stuck in our round): ask a peer for its votes of `round - 1`
    /// ([`Voter::round_state`]; a voter holds its current and previous rounds) and pass them to
    /// [`Voter::on_catch_up`]`(round - 1, ..)`. Repeated while it lasts; answering is optional.
    CatchUpNeeded { round: u64 },
}

/// A voter configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the authority set is empty")]
    NoAuthorities,
    #[error("{0} authorities exceed the limit of {MAX_AUTHORITIES}")]
    TooManyAuthorities(usize),
    #[error("authority {0:?} is listed twice")]
    DuplicateAuthority(AccountId),
}

/// Why a vote (or a catch-up answer) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoteError {
    #[error("vote for authority set {found}, ours is {expected}")]
    WrongSet { expected: u64, found: u64 },
    #[error("{0:?} is not in the authority set")]
    UnknownVoter(AccountId),
    #[error("bad vote signature by {0:?}")]
    BadSignature(AccountId),
    #[error("catch-up vote of round {found}, expected round {expected}")]
    WrongRound { expected: u64, found: u64 },
    #[error("{0} votes in one catch-up answer exceed the limit of {MAX_CATCH_UP_VOTES}")]
    TooManyVotes(usize),
}

impl VoteError {
    /// Whether the peer that sent this misbehaved (the network may penalise it). A vote of
    /// another set may be honest around a set change.
    pub fn peer_misbehaved(&self) -> bool {
        !matches!(self, VoteError::WrongSet { .. })
    }
}

/// Our own votes in one round.
#[derive(Debug, Clone, Default)]
struct OwnVotes {
    prevote: Option<SignedVote>,
    precommit: Option<SignedVote>,
}

impl OwnVotes {
    fn slot(&mut self, kind: VoteKind) -> &mut Option<SignedVote> {
        match kind {
            VoteKind::Prevote => &mut self.prevote,
            VoteKind::Precommit => &mut self.precommit,
        }
    }

    fn list(&self) -> Vec<SignedVote> {
        self.prevote
            .iter()
            .chain(&self.precommit)
            .cloned()
            .collect()
    }
}

/// One authority set's GRANDPA voter (see the module docs of [`super`]).
#[derive(Debug)]
pub struct Voter {
    authorities: BTreeSet<AccountId>,
    set_id: u64,
    genesis: Hash,
    gossip_ms: u64,
    /// The local key, only when it is in the set.
    key: Option<Pair>,
    n: usize,
    last_finalized: VoteTarget,
    round: u64,
    /// When the current round started (the first tick seen in it).
    round_start: Option<u64>,
    /// The latest time passed to `on_timer`.
    now: Option<u64>,
    /// `E_{round-1}` when we hold no completable view of `round - 1`: the base block when the set
    /// starts, or the persisted estimate after a restart. `None` after jumping on a
    /// justification: then we do not vote until some round is completable in our own view.
    fallback_estimate: Option<VoteTarget>,
    /// The `E_{round-1}` our latest vote of this round was based on (persisted with it).
    round_base: Option<VoteTarget>,
    /// Votes of rounds `round - 1 ..= round + FUTURE_ROUNDS`.
    rounds: BTreeMap<u64, RoundVotes>,
    /// Our votes, by round (`round - 1` and later).
    own: BTreeMap<u64, OwnVotes>,
    /// The highest round each voter was seen in beyond the buffered rounds.
    ahead: BTreeMap<AccountId, u64>,
    /// The last catch-up asked for: (round, when).
    catch_up_asked: Option<(u64, u64)>,
    /// What happened that the driver may want to log ([`Voter::take_notes`]).
    notes: Vec<Note>,
}

/// Something the voter noticed that changes nothing the driver must do, for its logs: the voter
/// itself does no I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The voter entered this round.
    EnteredRound(u64),
    /// A valid justification targets a block that conflicts with our finalized block; ignored.
    ConflictingJustification(VoteTarget),
    /// Round `round`'s precommits reached a supermajority for a block that conflicts with our
    /// finalized block: more than a third of the authorities are faulty. Not finalized.
    ConflictingSupermajority { round: u64, target: VoteTarget },
    /// A precommit supermajority, but no justification could be built (missing headers, or an
    /// ancestry longer than a justification may carry). Not finalized yet.
    NoJustification { round: u64, target: VoteTarget },
    /// The chain's `best_containing(base)` answered a block that does not descend from `base`
    /// (a bug of the chain view); the vote is not cast.
    BestOffBase { base: VoteTarget, best: VoteTarget },
}

impl Voter {
    /// A voter for `config`'s set that has finalized `last_finalized`. Without `restored` (or
    /// with one of another set) it starts in round 1 voting on `last_finalized` (the set's base
    /// or later); with one it resumes in the recorded round with the recorded votes.
    pub fn new(
        config: VoterConfig,
        last_finalized: VoteTarget,
        restored: Option<PersistedRound>,
    ) -> Result<Voter, ConfigError> {
        if config.authorities.is_empty() {
            return Err(ConfigError::NoAuthorities);
        }
        if config.authorities.len() > MAX_AUTHORITIES {
            return Err(ConfigError::TooManyAuthorities(config.authorities.len()));
        }
        let mut authorities = BTreeSet::new();
        for a in &config.authorities {
            if !authorities.insert(*a) {
                return Err(ConfigError::DuplicateAuthority(*a));
            }
        }
        let key = config.key.filter(|k| authorities.contains(&k.public()));
        let mut voter = Voter {
            n: authorities.len(),
            authorities,
            set_id: config.set_id,
            genesis: config.genesis_hash,
            gossip_ms: config.gossip_duration_ms,
            key,
            last_finalized,
            round: 1,
            round_start: None,
            now: None,
            fallback_estimate: Some(last_finalized),
            round_base: None,
            rounds: BTreeMap::new(),
            own: BTreeMap::new(),
            ahead: BTreeMap::new(),
            catch_up_asked: None,
            notes: Vec::new(),
        };
        if let Some(rec) = restored.filter(|r| r.set_id == config.set_id && r.round >= 1) {
            voter.round = rec.round;
            voter.fallback_estimate = rec.prev_estimate;
            voter.round_base = rec.prev_estimate;
            let me = voter.local_id();
            let ours = |v: &SignedVote, round: u64| {
                Some(v.voter) == me && v.round == round && v.set_id == rec.set_id
            };
            let current = rec.prevote.iter().chain(&rec.precommit);
            let previous = rec.previous.iter();
            for (vote, round) in current
                .map(|v| (v, rec.round))
                .chain(previous.map(|v| (v, rec.round - 1)))
            {
                if ours(vote, round) {
                    *voter.own.entry(round).or_default().slot(vote.kind) = Some(vote.clone());
                    voter.rounds.entry(round).or_default().add(vote.clone());
                }
            }
        }
        voter.rounds.entry(voter.round).or_default();
        Ok(voter)
    }

    /// The local authority id, when we vote.
    pub fn local_id(&self) -> Option<AccountId> {
        self.key.as_ref().map(Pair::public)
    }

    /// The current round.
    /// The notes since the last call, oldest first.
    pub fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }

    pub fn round(&self) -> u64 {
        self.round
    }

    pub fn set_id(&self) -> u64 {
        self.set_id
    }

    /// The highest block this voter knows to be final.
    pub fn last_finalized(&self) -> VoteTarget {
        self.last_finalized
    }

    /// Every vote we hold for `round` (equivocations included), to serve peers that catch up.
    pub fn round_state(&self, round: u64) -> Vec<SignedVote> {
        self.rounds
            .get(&round)
            .map(RoundVotes::all_votes)
            .unwrap_or_default()
    }

    /// Our votes of the current and the previous round: the driver re-broadcasts them
    /// periodically (also right after a restart), so peers that missed them, or restarted, learn
    /// them.
    pub fn own_votes(&self) -> Vec<SignedVote> {
        let from = self.round.saturating_sub(1);
        self.own
            .range(from..=self.round)
            .flat_map(|(_, o)| o.list())
            .collect()
    }

    /// One line on where the voter stands (for the logs): its round, the votes held there and
    /// what they say.
    pub fn progress(&self) -> String {
        let votes = self.rounds.get(&self.round);
        let (prevotes, precommits) = votes.map_or((0, 0), RoundVotes::counts);
        let summary = votes
            .and_then(RoundVotes::cached_summary)
            .cloned()
            .unwrap_or_default();
        let number = |t: Option<VoteTarget>| t.map_or("-".to_string(), |t| t.number.to_string());
        format!(
            "round {} (set {}): {prevotes} prevotes, {precommits} precommits of {}, prevote ghost \
             #{}, precommit ghost #{}, estimate #{}, completable {}; finalized #{}",
            self.round,
            self.set_id,
            self.n,
            number(summary.prevote_ghost),
            number(summary.precommit_ghost),
            number(summary.estimate),
            summary.completable,
            self.last_finalized.number
        )
    }

    /// What a held round's votes say, as last computed.
    pub fn summary(&self, round: u64) -> Option<&RoundSummary> {
        self.rounds.get(&round)?.cached_summary()
    }

    /// A vote from the network. Checks set, membership and signature; ignores rounds older than
    /// the previous one; buffers up to [`FUTURE_ROUNDS`] ahead; detects equivocations (the
    /// second vote is kept as proof but not counted).
    pub fn on_vote<C: Chain>(
        &mut self,
        vote: SignedVote,
        chain: &C,
    ) -> Result<Vec<Action>, VoteError> {
        self.check_origin(&vote)?;
        let mut actions = Vec::new();
        if vote.round == 0 || vote.round.saturating_add(1) < self.round {
            return Ok(actions);
        }
        if vote.round > self.round.saturating_add(FUTURE_ROUNDS) {
            if !vote.verify(&self.genesis) {
                return Err(VoteError::BadSignature(vote.voter));
            }
            let seen = self.ahead.entry(vote.voter).or_default();
            *seen = (*seen).max(vote.round);
            self.check_behind(&mut actions);
            return Ok(actions);
        }
        if self
            .rounds
            .get(&vote.round)
            .is_some_and(|r| r.contains(&vote))
        {
            return Ok(actions);
        }
        if !vote.verify(&self.genesis) {
            return Err(VoteError::BadSignature(vote.voter));
        }
        self.add_vote(vote, &mut actions);
        self.step(chain, &mut actions);
        Ok(actions)
    }

    /// A clock tick (every ~50 ms, and on every new block). `now_ms` is any monotonic clock.
    pub fn on_timer<C: Chain>(&mut self, now_ms: u64, chain: &C) -> Vec<Action> {
        let now = self.now.map_or(now_ms, |t| t.max(now_ms));
        self.now = Some(now);
        self.round_start.get_or_insert(now);
        let mut actions = Vec::new();
        self.step(chain, &mut actions);
        actions
    }

    /// The chain changed: a block was imported (the best chain may have moved, and votes for
    /// blocks we lacked may now count).
    pub fn on_block<C: Chain>(&mut self, chain: &C) -> Vec<Action> {
        for r in self.rounds.values_mut() {
            r.invalidate();
        }
        let mut actions = Vec::new();
        self.step(chain, &mut actions);
        actions
    }

    /// A justification from sync or gossip, **already verified by the caller**
    /// ([`Justification::verify`]) and its block imported. Raises the last finalized block and,
    /// when its round is ahead of ours, moves to the round after it. We then do not vote until a
    /// round is completable in our own view: the justification proves its target final but not
    /// the round's estimate, which our next votes must build on.
    pub fn on_justification<C: Chain>(&mut self, j: &Justification, chain: &C) -> Vec<Action> {
        let mut actions = Vec::new();
        if j.set_id != self.set_id {
            return actions;
        }
        if j.target.number > self.last_finalized.number {
            if descends(chain, &j.target, &self.last_finalized) {
                self.last_finalized = j.target;
            } else {
                self.notes.push(Note::ConflictingJustification(j.target));
            }
        }
        if j.round > self.round {
            self.enter_round(j.round.saturating_add(1), None);
        }
        if j.round.saturating_add(1) >= self.round
            && j.round <= self.round.saturating_add(FUTURE_ROUNDS)
        {
            for p in j.precommits.iter() {
                let fits = p.kind == VoteKind::Precommit && p.round == j.round;
                if fits && self.check_origin(p).is_ok() {
                    self.add_vote(p.clone(), &mut actions);
                }
            }
        }
        self.step(chain, &mut actions);
        actions
    }

    /// A peer's votes of one `round` (its previous round), asked for after
    /// [`Action::CatchUpNeeded`] (or after a justification jump, for the round before ours).
    /// Every vote must be valid and of that round; rounds before our previous one are ignored.
    /// If the round is completable in our view, we move to the round after it (safe: see the
    /// module docs).
    pub fn on_catch_up<C: Chain>(
        &mut self,
        round: u64,
        votes: Vec<SignedVote>,
        chain: &C,
    ) -> Result<Vec<Action>, VoteError> {
        if votes.len() > MAX_CATCH_UP_VOTES {
            return Err(VoteError::TooManyVotes(votes.len()));
        }
        let mut actions = Vec::new();
        if round.saturating_add(1) < self.round {
            return Ok(actions);
        }
        for v in &votes {
            self.check_origin(v)?;
            if v.round != round {
                return Err(VoteError::WrongRound {
                    expected: round,
                    found: v.round,
                });
            }
        }
        SignedVote::verify_all(&votes, &self.genesis).map_err(VoteError::BadSignature)?;
        if round <= self.round.saturating_add(FUTURE_ROUNDS) {
            // A held round: count the votes; `step` enters the next round if it completes.
            for v in votes {
                self.add_vote(v, &mut actions);
            }
        } else {
            let mut tally = RoundVotes::default();
            for v in votes {
                if let Added::Equivocation(first) = tally.add(v.clone()) {
                    actions.push(Action::Equivocation(first, v));
                }
            }
            let n = self.n;
            if tally
                .summary(chain, n, self.last_finalized.number)
                .completable
            {
                self.enter_round(round.saturating_add(1), None);
                self.rounds.insert(round, tally);
            }
        }
        self.step(chain, &mut actions);
        Ok(actions)
    }

    /// Set and membership (cheap checks, before the signature).
    fn check_origin(&self, vote: &SignedVote) -> Result<(), VoteError> {
        if vote.set_id != self.set_id {
            return Err(VoteError::WrongSet {
                expected: self.set_id,
                found: vote.set_id,
            });
        }
        if !self.authorities.contains(&vote.voter) {
            return Err(VoteError::UnknownVoter(vote.voter));
        }
        Ok(())
    }

    /// Counts a checked vote of a held round.
    fn add_vote(&mut self, vote: SignedVote, actions: &mut Vec<Action>) {
        let (round, kind) = (vote.round, vote.kind);
        let mine = Some(vote.voter) == self.local_id();
        match self.rounds.entry(round).or_default().add(vote.clone()) {
            Added::Equivocation(first) => actions.push(Action::Equivocation(first, vote)),
            Added::New if mine => {
                // Our key voted and we have no record of it (a lost record, or the key in use
                // elsewhere): adopt the vote, so we never cast a different one.
                let slot = self.own.entry(round).or_default().slot(kind);
                if slot.is_none() {
                    *slot = Some(vote);
                    if round.saturating_add(1) >= self.round && round <= self.round {
                        actions.push(Action::Persist(self.record()));
                    }
                }
            }
            Added::New | Added::Duplicate | Added::Ignored => {}
        }
    }

    /// Runs the protocol until nothing changes: finalize, vote, enter later rounds.
    fn step<C: Chain>(&mut self, chain: &C, actions: &mut Vec<Action>) {
        for _ in 0..MAX_STEPS {
            let (n, hint) = (self.n, self.last_finalized.number);
            for r in self.rounds.values_mut() {
                r.summary(chain, n, hint);
            }
            self.finalize(chain, actions);
            let voted = self.vote(chain, actions);
            let advanced = self.advance();
            if !voted && !advanced {
                break;
            }
        }
        self.check_behind(actions);
    }

    /// Finalizes the precommit GHOST of any held round that is above our last finalized block.
    fn finalize<C: Chain>(&mut self, chain: &C, actions: &mut Vec<Action>) {
        let ghosts: Vec<(u64, VoteTarget)> = self
            .rounds
            .iter()
            .filter_map(|(r, v)| Some((*r, v.cached_summary()?.precommit_ghost?)))
            .collect();
        for (round, g) in ghosts {
            if g.number <= self.last_finalized.number {
                continue;
            }
            if !descends(chain, &g, &self.last_finalized) {
                self.notes
                    .push(Note::ConflictingSupermajority { round, target: g });
                continue;
            }
            let Some(votes) = self.rounds.get(&round) else {
                continue;
            };
            let precommits = votes.precommits_for(chain, &g);
            let t = supermajority(self.n);
            match justification::build(chain, round, self.set_id, g, precommits, t) {
                Some(j) => {
                    self.last_finalized = g;
                    actions.push(Action::Finalized(j));
                }
                None => self.notes.push(Note::NoJustification { round, target: g }),
            }
        }
    }

    /// `E_{round-1}`: from a completable view of the previous round if we hold one, else the
    /// fallback (set base or persisted estimate).
    fn prev_estimate(&self) -> Option<VoteTarget> {
        let prev = self
            .rounds
            .get(&self.round.saturating_sub(1))
            .and_then(RoundVotes::cached_summary);
        match prev {
            Some(s) if s.completable => s.estimate,
            _ => self.fallback_estimate,
        }
    }

    /// Casts our prevote or precommit of the current round when its time has come.
    fn vote<C: Chain>(&mut self, chain: &C, actions: &mut Vec<Action>) -> bool {
        if self.key.is_none() {
            return false;
        }
        let Some(prev) = self.prev_estimate() else {
            return false;
        };
        let elapsed = match (self.now, self.round_start) {
            (Some(now), Some(start)) => now.saturating_sub(start),
            _ => 0,
        };
        let summary = self
            .rounds
            .get(&self.round)
            .and_then(RoundVotes::cached_summary)
            .cloned()
            .unwrap_or_default();
        let own = self.own.get(&self.round).cloned().unwrap_or_default();
        if own.prevote.is_none() {
            if elapsed < self.gossip_ms && !summary.completable {
                return false;
            }
            // Vote on the best chain containing E_{r-1}, or our finalized block if it is higher.
            let base = if descends(chain, &self.last_finalized, &prev) {
                self.last_finalized
            } else {
                prev
            };
            let Some(target) = chain.best_containing(&base) else {
                return false;
            };
            if !descends(chain, &target, &base) {
                self.notes.push(Note::BestOffBase { base, best: target });
                return false;
            }
            // Nothing new to finalize: wait a while for a block (a new best block steps the
            // voter at once) rather than spin rounds that only re-finalize what is final, each
            // costing every voter two signatures and 2(n-1) checks. Others' prevotes for a
            // block still complete the round; after the wait it prevotes the base, as before.
            let idle = target.number <= self.last_finalized.number;
            if idle && !summary.completable && elapsed < IDLE_PREVOTE_T * self.gossip_ms {
                return false;
            }
            self.cast(VoteKind::Prevote, target, prev, actions);
            return true;
        }
        if own.precommit.is_some() {
            return false;
        }
        let Some(g) = summary.prevote_ghost else {
            return false;
        };
        if !descends(chain, &g, &prev) {
            return false;
        }
        let all_prevoted = summary.prevoters >= self.n;
        if elapsed < 2 * self.gossip_ms && !summary.completable && !all_prevoted {
            return false;
        }
        self.cast(VoteKind::Precommit, g, prev, actions);
        true
    }

    /// Signs, records and counts our vote: `Persist` first, then `Broadcast`.
    fn cast(
        &mut self,
        kind: VoteKind,
        target: VoteTarget,
        prev: VoteTarget,
        actions: &mut Vec<Action>,
    ) {
        let Some(key) = &self.key else {
            return;
        };
        let vote = SignedVote::sign(key, kind, target, self.round, self.set_id, &self.genesis);
        self.round_base = Some(prev);
        *self.own.entry(self.round).or_default().slot(kind) = Some(vote.clone());
        self.rounds.entry(self.round).or_default().add(vote.clone());
        actions.push(Action::Persist(self.record()));
        actions.push(Action::Broadcast(vote));
    }

    fn record(&self) -> PersistedRound {
        let current = self.own.get(&self.round).cloned().unwrap_or_default();
        let previous = self
            .own
            .get(&self.round.saturating_sub(1))
            .filter(|_| self.round > 1)
            .map(OwnVotes::list)
            .unwrap_or_default();
        PersistedRound {
            set_id: self.set_id,
            round: self.round,
            prev_estimate: self.round_base.or_else(|| self.prev_estimate()),
            prevote: current.prevote,
            precommit: current.precommit,
            previous: BoundedVec::try_from_vec(previous).unwrap_or_else(|_| BoundedVec::new()),
        }
    }

    /// Enters the round after the highest held round that is completable in our view.
    fn advance(&mut self) -> bool {
        let next = self
            .rounds
            .range(self.round..)
            .filter(|(_, v)| v.cached_summary().is_some_and(|s| s.completable))
            .map(|(r, _)| r.saturating_add(1))
            .next_back();
        match next {
            Some(next) => {
                self.enter_round(next, None);
                true
            }
            None => false,
        }
    }

    fn enter_round(&mut self, round: u64, fallback: Option<VoteTarget>) {
        self.notes.push(Note::EnteredRound(round));
        self.round = round;
        self.round_start = self.now;
        self.fallback_estimate = fallback;
        self.round_base = None;
        self.rounds.retain(|r, _| r.saturating_add(1) >= round);
        self.own.retain(|r, _| r.saturating_add(1) >= round);
        self.rounds.entry(round).or_default();
    }

    /// Asks for a catch-up when `f + 1` voters (at least one honest, so the round is real) are
    /// seen in later rounds and either they are beyond the buffered rounds, or our round has not
    /// completed for [`STUCK_AFTER_T`] `T` (a vote we need may have been lost: the peer's copy of
    /// our round fills the gap). Repeated every [`STUCK_AFTER_T`] `T` while it lasts.
    fn check_behind(&mut self, actions: &mut Vec<Action>) {
        let f = max_faulty(self.n);
        let mut later: BTreeMap<AccountId, u64> = self
            .ahead
            .iter()
            .filter(|(_, r)| **r > self.round)
            .map(|(a, r)| (*a, *r))
            .collect();
        for (r, votes) in self.rounds.range(self.round.saturating_add(1)..) {
            for voter in votes.voters() {
                let seen = later.entry(*voter).or_default();
                *seen = (*seen).max(*r);
            }
        }
        if later.len() <= f {
            return;
        }
        let mut rounds: Vec<u64> = later.into_values().collect();
        rounds.sort_unstable_by(|a, b| b.cmp(a));
        let round = rounds[f];
        let now = self.now.unwrap_or(0);
        let patience = STUCK_AFTER_T * self.gossip_ms;
        let stuck = self
            .round_start
            .is_some_and(|start| now.saturating_sub(start) >= patience);
        if round <= self.round.saturating_add(FUTURE_ROUNDS) && !stuck {
            return;
        }
        let ask = match self.catch_up_asked {
            Some((asked, at)) => round > asked || now.saturating_sub(at) >= patience,
            None => true,
        };
        if ask {
            self.catch_up_asked = Some((round, now));
            actions.push(Action::CatchUpNeeded { round });
        }
    }
}
