//! The finality gadget: GRANDPA (Stewart & Kokoris-Kogia, "GRANDPA: a Byzantine finality
//! gadget") as a pure, deterministic state machine. No I/O, clock or task: the driver feeds
//! [`Voter`] votes, ticks, chain changes, justifications and catch-up answers, and performs the
//! [`Action`]s it returns, in order.
//!
//! # Protocol
//!
//! `n` authorities, of which at most `f = (n - 1) / 3` are faulty; a *supermajority* is
//! `t = n - f` votes ([`aitbc_primitives::supermajority`]). A vote for a block counts for all its
//! ancestors. For a set `S` of votes, `g(S)` (the GHOST) is the highest block that `t` voters of
//! `S` vote for. A voter's second, different vote of a kind in a round is an *equivocation*: kept
//! as proof, never a second count. As in the paper, an equivocator counts for every block in a
//! prevote GHOST (so every honest view reaches the GHOST others reached once it has seen the
//! equivocation — without this, one equivocator can stall a round forever); for finality it
//! counts only for the blocks its signed precommits are for, so a justification is always
//! distinct voters' real precommits (`ghost::Count`). Each round `r` has prevotes `V_r` and
//! precommits `C_r`:
//!
//! - The *estimate* `E_r` is the highest block at or below `g(V_r)` that could still get `t`
//!   precommits in round `r` (`ghost::possible` over-approximates: unseen voters, unknown
//!   targets, known equivocators, and up to `f` minus the equivocators of the voters seen voting
//!   elsewhere may all still turn up for it).
//! - Round `r` is *completable* when `t` voters have precommitted and either `E_r` is below
//!   `g(V_r)` or no child of `g(V_r)` can still get `t` precommits. Once completable, it stays so
//!   and `E_r` only moves down as more votes arrive ("impossible" is final).
//! - Voter `v` starts round `r` when round `r - 1` is completable (for round 1: `E_0` is the last
//!   finalized block). It **prevotes** for the best block containing `E_{r-1}` (via
//!   [`Chain::best_containing`]) once `T` (`gossip_duration_ms`) has passed since the round
//!   started or round `r` is completable; when that block is no higher than its finalized block
//!   (nothing new to finalize) it waits [`IDLE_PREVOTE_T`] `T` instead, unless a new block comes
//!   first: waiting to vote is always safe, and an idle chain no longer spins rounds that cost
//!   every voter signatures and checks. It **precommits** for `g(V_r)` once `g(V_r) >= E_{r-1}`
//!   and `2T` has passed, or all voters prevoted, or round `r` is completable.
//! - Any block with `t` precommits in any round (`g(C_r)`) is final: [`Action::Finalized`] with a
//!   [`aitbc_primitives::Justification`] of those precommits and the linking headers.
//!
//! There is no primary proposal (optional in the paper); the best chain containing the
//! estimate serves.
//!
//! # Safety: no two conflicting blocks are finalized while at most `f` voters are faulty
//!
//! Notation: `A >= B` means `A` is `B` or a descendant of it.
//!
//! *Lemma 1 (intersection).* Two sets of `t` distinct voters share at least `2t - n >= f + 1`,
//! so at least one honest voter. An honest voter casts at most one vote per (round, kind) — this
//! is what the persisted record guarantees across crashes. Hence two blocks with `t` prevotes
//! (or `t` precommits) in one round, in anyone's view, are on one chain: the shared honest voter
//! voted for a descendant of both (an honest voter never equivocates, so no view counts it "for
//! all"). So the GHOSTs of all honest views of a round lie on one chain, and two blocks finalized
//! in the same round do not conflict. (Relies on: each voter counted once per block.)
//!
//! *Lemma 2 (what is finalized stays possible).* If some view holds `t` precommits for `B` in
//! round `r`, then `B` is possible in every honest view of round `r`, forever. Of those `t`
//! precommitters, a view has either not seen one (counted as remaining), or seen its vote for
//! `B`-or-descendant (for), or seen it equivocate (counted for everything), or seen only another
//! vote — then it is faulty and undetected, and up to `f` minus the detected equivocators of
//! those are counted as swayable. So the count stays `>= t`. (Relies on: the over-approximation
//! in `ghost::possible`; an unknown target counts as possible too.)
//!
//! *Lemma 3 (the estimate covers what was finalized).* If `B` is finalized in round `r`, then
//! `E_{r,v} >= B` in every honest view `v` of round `r` that is completable. Honest precommits
//! are for honest prevote GHOSTs, which lie on one chain with `g(V_{r,v})` (Lemma 1), and `B` is
//! at or below an honest precommit; so `B` and `g(V_{r,v})` are on one chain. If `B` were above
//! `g(V_{r,v})`, the child of `g(V_{r,v})` towards `B` would be possible (Lemma 2: support for
//! `B` is support for its ancestors), so `E_{r,v} = g(V_{r,v})` with a possible child: not
//! completable. So `B <= g(V_{r,v})`, `B` is possible, and `E_{r,v}`, the highest possible block
//! at or below `g(V_{r,v})`, is `>= B`. (Relies on: the completability rule.)
//!
//! *Lemma 4 (later rounds build on it).* If `B` is finalized in round `r`, every honest vote of
//! every round `r' > r` is for `B` or a descendant. An honest voter votes in round `r'` only with
//! `E_{r'-1}` taken from a completable view of round `r' - 1` (or persisted from one): its
//! prevote is on the best chain containing `E_{r'-1}` (or its finalized block, if higher) and its
//! precommit is `g(V_{r'}) >= E_{r'-1}`. So it suffices that `E_{r'-1} >= B`. For `r' - 1 = r`
//! that is Lemma 3. For `r' - 1 > r`, by induction every honest vote of round `r' - 1` is
//! `>= B`: then `B` is possible in any view (the `n - f = t` honest voters are unseen, unknown or
//! for it), and a completable view has `g(V_{r'-1}) >= B` (its `t` prevoters include an honest
//! one, so it is on `B`'s chain, and if it were below `B` the child towards `B` would be
//! possible); so `E_{r'-1} >= B`. (Relies on: the prevote and precommit rules, and voting only
//! from a completable view.)
//!
//! *Theorem.* Let `B` be finalized in round `r` and `B'` in round `r' >= r`. If `r' = r`, Lemma 1.
//! If `r' > r`, the `t` precommits for `B'` or descendants include an honest one, which by
//! Lemma 4 is also `>= B`: so `B` and `B'` are on one chain. ∎
//!
//! Round 1 votes on the last finalized block, which is at or above the set's base: nothing of
//! this set was finalized before round 1. (A set change must start the new set at the finalized
//! block that enacts it, with the old set voting no further: the driver's job.)
//!
//! **Why the persisted vote record is required.** Lemma 1 needs each honest voter to vote once
//! per (round, kind), and Lemma 4 needs its votes to build on `E_{r-1}`. A voter that crashed
//! after broadcasting a prevote and forgot it could, on restart, prevote again for another block:
//! to everyone else that is an equivocation by a voter counted as honest, and with `f` real
//! faults there would then be `f + 1`, breaking Lemma 1. So [`Action::Persist`] comes before
//! every [`Action::Broadcast`], the driver completes the write durably before sending, and
//! [`Voter::new`] with the record resumes in that round with the same votes (re-broadcasting
//! them) and with the persisted `E_{r-1}` (falling back to the last finalized block there could
//! vote below a block finalized in `r - 1` that this voter never saw, breaking Lemma 4). A voter
//! that also sees a vote signed by its own key that it has no record of adopts it as its own.
//!
//! **Why catch-up and jumps are safe.** The proof of Lemma 4 uses only that `v` holds a
//! completable view of round `r' - 1` when it votes in round `r'` — not that it took part in, or
//! even saw, earlier rounds. So a voter may enter any round `r'` as soon as some held round
//! `r' - 1` is completable in its view: buffered future rounds ([`FUTURE_ROUNDS`]) and catch-up
//! answers ([`Voter::on_catch_up`], asked for when `f + 1` voters — at least one honest — are
//! seen in later rounds while we are far behind or stuck) are just ways to obtain such a view.
//! A justification proves its block final but not its round's estimate, so after
//! [`Voter::on_justification`] jumps to the round after it, the voter does not vote until some
//! round is completable in its own view.
//!
//! # Liveness: a split vote cannot deadlock (partial synchrony)
//!
//! After the network stabilises (messages arrive within `T`) and the best chains of honest
//! voters converge (the block producer extends one fork), every honest voter sees all honest
//! votes of a round within `T` of their sending; lost messages are repaired by the periodic
//! re-broadcast of own votes and, for a voter stuck in a round while `f + 1` others moved on,
//! by a catch-up from a peer's copy of that round ([`STUCK_AFTER_T`]). A round never waits on a
//! faulty voter: `t = n - f` honest votes suffice for every GHOST and for completability
//! (unseen faulty voters are counted as possible, but at most `f` of them, fewer than `t`).
//! Prevotes after `T` and precommits after `2T` (or as soon as everyone prevoted) are timed, not
//! conditioned on agreement, so a split vote (say 2 vs 2 on two forks) simply yields `g(V_r)` =
//! their common ancestor: everyone precommits it, the round completes with `E_r` at that
//! ancestor, and the next round votes again on the best chain containing it. Once the best
//! chains agree, all honest prevotes are for one chain, its head gets `t` prevotes and
//! precommits, and it is finalized. Honest estimates `E_{r-1}` converge because every voter
//! keeps counting the previous round's votes after moving on.
//!
//! # Driver contract
//!
//! - Call [`Voter::on_timer`] every ~50 ms, [`Voter::on_block`] on every block import,
//!   [`Voter::on_vote`] for each gossiped vote (penalise the peer when
//!   [`VoteError::peer_misbehaved`]). Gossip must relay every valid vote of the current and
//!   previous rounds, others' included (gossipsub does): liveness needs every honest voter to
//!   see both halves of an equivocation.
//! - Perform actions in order; complete each [`Action::Persist`] durably (fsync) before any later
//!   action; re-broadcast [`Voter::own_votes`] every few seconds (also right after start).
//! - Serve [`Voter::round_state`] to peers catching up (we hold our current and previous
//!   rounds); on [`Action::CatchUpNeeded`] ask peers for round `round - 1`.
//! - [`Chain`]: a block once known stays known while it descends from the last finalized block.

mod ghost;
mod justification;
mod round;
mod voter;

#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;

pub use round::RoundSummary;
pub use voter::{
    Action, ConfigError, Note, PersistedRound, VoteError, Voter, VoterConfig, FUTURE_ROUNDS,
    IDLE_PREVOTE_T, MAX_CATCH_UP_VOTES, STUCK_AFTER_T,
};

use aitbc_primitives::{BlockNumber, Hash, Header, VoteTarget};

/// The block tree as the finality gadget sees it; the node implements it over its database.
pub trait Chain {
    /// The hash of `block`'s ancestor (or `block` itself) at height `number`; `None` if `block`
    /// is unknown or `number` is above its number.
    fn ancestor_at(&self, block: &Hash, number: BlockNumber) -> Option<Hash>;
    /// The number of a known block.
    fn number(&self, block: &Hash) -> Option<BlockNumber>;
    /// The best block that is `base` or descends from it (the head of the best chain containing
    /// `base`); `None` if `base` is unknown. A chain with authority-set changes answers at most
    /// the first change block above `base`, so the old set finalizes each change on its own
    /// (the node's client does).
    fn best_containing(&self, base: &VoteTarget) -> Option<VoteTarget>;
    /// A known block's header (for a justification's ancestry).
    fn header(&self, hash: &Hash) -> Option<Header>;
}
