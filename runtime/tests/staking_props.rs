//! Property test of the staking module over random sequences of staking calls, receipt claims
//! and revocations, equivocation reports and empty blocks, on a chain of four genesis
//! validators (alice..dave) with 4-block epochs and a bonding duration of 2 epochs. After every
//! block it checks:
//!
//! - (a) the extended issuance invariant (`total issuance == free balances + open escrows +
//!   bonded + unlocking`, [`TestChain::check_issuance`]);
//! - (b) no double slash: each offence key (offender, slot) is slashed at most once, each
//!   offender at most once per slashing span (the epoch of the report), both from the
//!   `Slashed` events and from the `read_offences` records; a slash takes exactly `slash_ppm`
//!   of the offender's ledger once; a report of an offence already punished, or of a second
//!   offence in a punished span, is refused with `offence_already_reported`,
//!   `offender_already_slashed` or `offender_not_in_set` (the exact one the check order gives);
//! - (c) unlocking funds are released only after the bonding duration: an unbond's chunk is
//!   due at `unbond epoch + bonding_duration`; every chunk in a ledger is covered by unbonds the
//!   test applied (same release epoch, at least the amount: slashes only shrink chunks); a
//!   withdrawal raises the free balance by exactly what left the ledger, which is at most the
//!   sum of the applied chunks released by the current epoch, and leaves every later chunk
//!   untouched; a refused withdrawal had nothing released.
//!
//! Reports are made whoever authors the block carrying them (the offender's own block stays
//! valid: disabling counts from the next block) and however many validators were disabled
//! already (at most a third of the set is, so every epoch keeps authors).
//!
//! Invalid transactions are expected (ops are random); only the properties are asserted. A
//! final check makes sure the run exercised slashes, refused repeats, unbonds, withdrawals,
//! claims and revocations.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use aitbc_primitives::{
    AccountId, Balance, BlockEquivocation, Digest, Hash, Header, InvalidTransaction, OffenceKind,
    OffenceProof, SigningContext, StateMachine, TxOutcome,
};
use aitbc_runtime::arith::ppm_of;
use aitbc_runtime::staking::{self, read_offences, read_staking, read_validators, Unlocking};
use aitbc_runtime::testing::{acc, dev, make_claim, staking_genesis, TestChain, ENDOWMENT};
use aitbc_runtime::{authority, balances, Call, Event};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Accounts that bond, validate, back and report (`miner` claims receipts too).
const ACTORS: [&str; 6] = ["alice", "bob", "charlie", "dave", "ferdie", "miner"];
/// Job clients and reporters (always able to pay fees).
const CLIENTS: [&str; 5] = ["alice", "bob", "charlie", "dave", "ferdie"];
const MIN_BOND: Balance = 1_000;
const EPOCH_LENGTH: u64 = 4;
const BONDING_DURATION: u64 = 2;

type Outcome = Result<TxOutcome<Event>, InvalidTransaction>;
type OffenceKey = (AccountId, u64);

#[derive(Debug, Clone)]
enum Op {
    Bond {
        who: usize,
        amount: Balance,
    },
    /// Unbonds `percent` of the current bond (over 100: more than the bond).
    Unbond {
        who: usize,
        percent: u32,
    },
    Withdraw {
        who: usize,
    },
    Validate {
        who: usize,
    },
    Chill {
        who: usize,
    },
    Back {
        who: usize,
        validator: usize,
    },
    /// `client` opens a job, the miner's receipt for it is claimed.
    Claim {
        client: usize,
        units: u64,
    },
    /// The coordinator revokes a receipt claimed earlier.
    Revoke {
        receipt: usize,
    },
    /// A block equivocation at `slot` by a current validator, reported by a client; with
    /// `again`, another one by it at `slot + 1 + again` reported in the next block.
    Slash {
        offender: usize,
        slot: u64,
        reporter: usize,
        again: Option<u64>,
    },
    /// A proof punished earlier, reported again.
    Resubmit {
        proof: usize,
        reporter: usize,
    },
    Empty {
        blocks: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0..ACTORS.len();
    let amount = prop_oneof![
        6 => 1u128..3_000,
        1 => Just(0u128),
        1 => Just(2 * ENDOWMENT),
    ];
    prop_oneof![
        4 => (who.clone(), amount).prop_map(|(who, amount)| Op::Bond { who, amount }),
        4 => (who.clone(), 0u32..=110).prop_map(|(who, percent)| Op::Unbond { who, percent }),
        3 => who.clone().prop_map(|who| Op::Withdraw { who }),
        2 => who.clone().prop_map(|who| Op::Validate { who }),
        1 => who.clone().prop_map(|who| Op::Chill { who }),
        1 => (who.clone(), who.clone()).prop_map(|(who, validator)| Op::Back { who, validator }),
        2 => (0..CLIENTS.len(), 1u64..2_000).prop_map(|(client, units)| Op::Claim { client, units }),
        2 => (0usize..64).prop_map(|receipt| Op::Revoke { receipt }),
        3 => (0usize..16, 0u64..24, 0..CLIENTS.len(), proptest::option::of(0u64..4)).prop_map(
            |(offender, slot, reporter, again)| Op::Slash {
                offender,
                slot,
                reporter,
                again
            }
        ),
        2 => (0usize..64, 0..CLIENTS.len())
            .prop_map(|(proof, reporter)| Op::Resubmit { proof, reporter }),
        4 => (1u8..=4).prop_map(|blocks| Op::Empty { blocks }),
    ]
}

/// What the whole run exercised (for the final non-vacuity check).
#[derive(Debug, Default)]
struct Stats {
    blocks: usize,
    slashes: usize,
    /// Reports of an offence already punished, refused.
    refused_repeats: usize,
    /// Reports of a second offence in a punished span, refused.
    refused_same_span: usize,
    /// Reports of an offender out of the current and previous sets, refused.
    refused_not_in_set: usize,
    unbonds: usize,
    withdrawals: usize,
    withdrawn: Balance,
    refused_withdrawals: usize,
    claims: usize,
    revocations: usize,
    elections: usize,
    /// Slots of an offender let pass before reporting it (see `Op::Slash`).
    own_author_reports: usize,
}

/// The chain under test and what the test remembers of it.
struct World {
    chain: TestChain,
    next_job: u64,
    receipts: Vec<Hash>,
    /// Proofs that were punished.
    proofs: Vec<OffenceProof>,
    /// Unlocking chunks the test applied and has not seen withdrawn: (amount, release epoch).
    chunks: BTreeMap<AccountId, Vec<(Balance, u64)>>,
    /// Slashes per offence key, and per (offender, span epoch), from the events.
    slashed_keys: BTreeMap<OffenceKey, usize>,
    spans: BTreeMap<(AccountId, u64), usize>,
    /// The epoch each block was executed in.
    epoch_of_block: BTreeMap<u64, u64>,
}

fn genesis_chain() -> TestChain {
    let mut g = staking_genesis(EPOCH_LENGTH);
    g.params.ban_epochs = 3;
    assert_eq!(g.params.min_validator_bond, MIN_BOND);
    assert_eq!(g.params.bonding_duration, BONDING_DURATION);
    TestChain::new(g)
}

fn ledger_total(chain: &TestChain, who: &AccountId) -> Balance {
    let s = read_staking(&chain.state, who);
    s.unlocking
        .iter()
        .fold(s.bonded, |a, c| a.saturating_add(c.amount))
}

fn code(r: &Outcome) -> Option<&'static str> {
    r.as_ref().err().map(InvalidTransaction::code)
}

fn succeeded(r: &Outcome) -> bool {
    r.as_ref().is_ok_and(|o| o.success)
}

/// Two headers of `slot` sealed by `by`, on top of the chain's head.
fn block_proof(chain: &TestChain, by: &str, slot: u64) -> OffenceProof {
    let header = |root: u8| Header {
        parent_hash: chain.head.hash(),
        number: chain.head.number + 1,
        slot,
        state_root: Hash([root; 32]),
        extrinsics_root: Hash::ZERO,
        digest: Digest::new(),
    };
    let (first, second) = (header(1), header(2));
    let pair = dev(by);
    OffenceProof::Block(BlockEquivocation {
        offender: acc(by),
        first_seal: pair.sign(SigningContext::Block, first.hash().as_bytes()),
        second_seal: pair.sign(SigningContext::Block, second.hash().as_bytes()),
        first,
        second,
    })
}

fn key(proof: &OffenceProof) -> OffenceKey {
    let (kind, offender, set_id, slot) = proof.key();
    assert_eq!((kind, set_id), (OffenceKind::BlockEquivocation, 0));
    (offender, slot)
}

impl World {
    fn new() -> World {
        let mut w = World {
            chain: genesis_chain(),
            next_job: 0,
            receipts: Vec::new(),
            proofs: Vec::new(),
            chunks: BTreeMap::new(),
            slashed_keys: BTreeMap::new(),
            spans: BTreeMap::new(),
            epoch_of_block: BTreeMap::new(),
        };
        w.check_state(0);
        // The coordinator pays the fees of its revocations.
        let r = w.block(
            Some(("bob", Call::transfer(acc("coordinator"), 1_000_000))),
            &mut Stats::default(),
        );
        assert!(succeeded(&r), "{r:?}");
        w
    }

    fn epoch(&self) -> u64 {
        read_validators(&self.chain.state).epoch
    }

    /// Builds one block (with `tx` signed by its account, or empty) and checks every property
    /// on it. Returns the transaction's result (`Ok` of a default outcome for an empty block).
    fn block(&mut self, tx: Option<(&str, Call)>, stats: &mut Stats) -> Outcome {
        let epoch = self.epoch();
        let number = self.chain.number() + 1;
        self.epoch_of_block.insert(number, epoch);
        let accounts: Vec<AccountId> = ACTORS.iter().map(|n| acc(n)).collect();
        let before: Vec<(Balance, Balance, Vec<Unlocking>)> = accounts
            .iter()
            .map(|a| {
                (
                    self.chain.balance(a),
                    ledger_total(&self.chain, a),
                    read_staking(&self.chain.state, a).unlocking,
                )
            })
            .collect();
        let result = match tx {
            Some((who, call)) => self.chain.submit(&dev(who), call),
            None => {
                self.chain.build_block(&[]);
                Ok(TxOutcome {
                    success: true,
                    error: None,
                    fee: 0,
                    events: Vec::new(),
                })
            }
        };
        stats.blocks += 1;
        if self.epoch() != epoch {
            stats.elections += 1;
        }
        assert_eq!(self.chain.number(), number);
        let author = authority::storage::AUTHOR.read(&self.chain.state);
        let index = |who: &AccountId| accounts.iter().position(|a| a == who);

        // (a) The extended issuance invariant.
        assert_eq!(self.chain.check_issuance(), Ok(()), "block {number}");

        let events = result
            .as_ref()
            .map(|o| o.events.clone())
            .unwrap_or_default();
        let mut to_author = 0;
        let mut payer = None;
        for e in &events {
            match e {
                Event::Balances(balances::Event::FeePaid {
                    who,
                    fee,
                    to_author: a,
                    ..
                }) => {
                    payer = Some((*who, *fee));
                    to_author = *a;
                }
                // (b) One slash per offence key and per span; exactly `slash_ppm` of the ledger.
                Event::Staking(staking::Event::Slashed {
                    offender,
                    kind,
                    slot_or_round,
                    amount,
                    ..
                }) => {
                    assert_eq!(*kind, OffenceKind::BlockEquivocation);
                    stats.slashes += 1;
                    let k = self
                        .slashed_keys
                        .entry((*offender, *slot_or_round))
                        .or_default();
                    *k += 1;
                    assert_eq!(*k, 1, "offence {offender:?}/{slot_or_round} slashed twice");
                    let span = self.spans.entry((*offender, epoch)).or_default();
                    *span += 1;
                    assert_eq!(*span, 1, "{offender:?} slashed twice in epoch {epoch}");
                    let i = index(offender).unwrap();
                    let total_before = before[i].1;
                    assert_eq!(
                        *amount,
                        ppm_of(total_before, self.chain.genesis.params.slash_ppm),
                        "block {number}"
                    );
                    assert_eq!(
                        ledger_total(&self.chain, offender),
                        total_before - amount,
                        "block {number}: the ledger lost other than the slash"
                    );
                }
                // (c) A chunk is due `bonding_duration` epochs after its unbond.
                Event::Staking(staking::Event::Unbonded {
                    who,
                    amount,
                    withdrawable_at_epoch,
                }) => {
                    stats.unbonds += 1;
                    assert_eq!(*withdrawable_at_epoch, epoch + BONDING_DURATION);
                    let last = read_staking(&self.chain.state, who).unlocking;
                    assert_eq!(
                        last.last().map(|c| c.epoch),
                        Some(epoch + BONDING_DURATION),
                        "block {number}: {last:?}"
                    );
                    self.chunks
                        .entry(*who)
                        .or_default()
                        .push((*amount, epoch + BONDING_DURATION));
                }
                // (c) A withdrawal frees only chunks released by now.
                Event::Staking(staking::Event::Withdrawn { who, amount }) => {
                    stats.withdrawals += 1;
                    stats.withdrawn += amount;
                    let i = index(who).unwrap();
                    let model = self.chunks.entry(*who).or_default();
                    let released: Balance = model
                        .iter()
                        .filter(|(_, due)| *due <= epoch)
                        .map(|(a, _)| a)
                        .sum();
                    assert!(
                        *amount <= released,
                        "block {number}: {who:?} withdrew {amount}, only {released} released \
                         by epoch {epoch} ({model:?})"
                    );
                    model.retain(|(_, due)| *due > epoch);
                    assert_eq!(ledger_total(&self.chain, who), before[i].1 - amount);
                    let kept: Vec<Unlocking> = before[i]
                        .2
                        .iter()
                        .copied()
                        .filter(|c| c.epoch > epoch)
                        .collect();
                    assert_eq!(
                        read_staking(&self.chain.state, who).unlocking,
                        kept,
                        "block {number}: a chunk not yet due was touched"
                    );
                    // The free balance grows by exactly the withdrawn amount (less the fee,
                    // plus the author's share of it if `who` authored the block).
                    let (payer, fee) = payer.unwrap();
                    assert_eq!(payer, *who);
                    let share = if author == Some(*who) { to_author } else { 0 };
                    assert_eq!(
                        self.chain.balance(who) + fee,
                        before[i].0 + amount + share,
                        "block {number}: the free balance of {who:?}"
                    );
                }
                _ => {}
            }
        }
        self.check_state(number);
        result
    }

    /// Checks the whole state after block `number`.
    fn check_state(&self, number: u64) {
        let epoch = self.epoch();
        // (b) At most one offence record per key and per (offender, epoch).
        let mut per_key: BTreeMap<OffenceKey, usize> = BTreeMap::new();
        let mut per_span: BTreeMap<(AccountId, u64), usize> = BTreeMap::new();
        let records = read_offences(&self.chain.state);
        for r in &records {
            let span = self.epoch_of_block[&r.block_height];
            for count in [
                per_key.entry((r.offender, r.slot_or_round)).or_default(),
                per_span.entry((r.offender, span)).or_default(),
            ] {
                *count += 1;
                assert_eq!(*count, 1, "block {number}: records {records:?}");
            }
        }
        assert_eq!(records.len(), self.slashed_keys.len(), "block {number}");
        // (c) Every chunk is covered by applied unbonds due in its epoch, and none is due later
        // than an unbond now would be.
        for who in ACTORS.map(acc) {
            let chunks = read_staking(&self.chain.state, &who).unlocking;
            let model = self.chunks.get(&who).cloned().unwrap_or_default();
            for (k, c) in chunks.iter().enumerate() {
                assert!(c.epoch <= epoch + BONDING_DURATION, "block {number}: {c:?}");
                if k > 0 {
                    assert!(chunks[k - 1].epoch < c.epoch, "block {number}: {chunks:?}");
                }
                let applied: Balance = model
                    .iter()
                    .filter(|(_, due)| *due == c.epoch)
                    .map(|(a, _)| a)
                    .sum();
                assert!(
                    c.amount <= applied,
                    "block {number}: chunk {c:?} of {who:?} not covered by {model:?}"
                );
            }
        }
    }

    /// The refusal a report of `proof` must meet now, in the order the runtime checks
    /// (membership in the current or previous set, the offence key, the offender's span); `None`
    /// for a new offence that must be punished.
    fn expected_refusal(&self, proof: &OffenceProof) -> Option<&'static str> {
        let offender = proof.offender();
        let info = staking::storage::EPOCH.read(&self.chain.state).unwrap();
        let member =
            info.validators.iter().any(|e| e.who == offender) || info.previous.contains(&offender);
        if !member {
            Some("offender_not_in_set")
        } else if self.slashed_keys.contains_key(&key(proof)) {
            Some("offence_already_reported")
        } else if self.spans.contains_key(&(offender, info.index)) {
            Some("offender_already_slashed")
        } else {
            None
        }
    }

    /// `reporter` reports a block equivocation by `who` at `slot`.
    fn report(&mut self, who: AccountId, slot: u64, reporter: &str, stats: &mut Stats) {
        if self.next_author() == Some(who) {
            stats.own_author_reports += 1;
        }
        let proof = block_proof(&self.chain, Self::name_of(&who), slot);
        let expected = self.expected_refusal(&proof);
        let epoch = self.epoch();
        let call = Call::staking(staking::Call::Report {
            proof: proof.clone(),
        });
        let r = self.block(Some((reporter, call)), stats);
        let k = key(&proof);
        match expected {
            Some(e) => {
                assert_eq!(code(&r), Some(e), "report of {k:?} in epoch {epoch}: {r:?}");
                match e {
                    "offence_already_reported" => stats.refused_repeats += 1,
                    "offender_already_slashed" => stats.refused_same_span += 1,
                    _ => stats.refused_not_in_set += 1,
                }
            }
            None => {
                assert!(succeeded(&r), "a new offence {k:?} was not punished: {r:?}");
                self.proofs.push(proof);
            }
        }
    }

    /// The author of the next block [`TestChain::build_block`] builds: the author of the next
    /// slot whose author is not disabled.
    fn next_author(&self) -> Option<AccountId> {
        let schedule = self.chain.runtime.author_schedule(&self.chain.state);
        let disabled = staking::read_disabled(&self.chain.state);
        (self.chain.head.slot + 1..)
            .map(|slot| schedule.author(slot).copied())
            .find(|a| a.is_none_or(|a| !disabled.contains(&a)))
            .flatten()
    }

    fn name_of(who: &AccountId) -> &'static str {
        ACTORS.iter().find(|n| acc(n) == *who).unwrap()
    }

    fn apply(&mut self, op: &Op, stats: &mut Stats) {
        let staking_call = |c: staking::Call| Call::staking(c);
        match op {
            Op::Bond { who, amount } => {
                let call = staking_call(staking::Call::Bond { amount: *amount });
                let _ = self.block(Some((ACTORS[*who], call)), stats);
            }
            Op::Unbond { who, percent } => {
                let bonded = read_staking(&self.chain.state, &acc(ACTORS[*who])).bonded;
                let amount = bonded * Balance::from(*percent) / 100;
                let call = staking_call(staking::Call::Unbond { amount });
                let _ = self.block(Some((ACTORS[*who], call)), stats);
            }
            Op::Withdraw { who } => {
                let epoch = self.epoch();
                let account = acc(ACTORS[*who]);
                let due = read_staking(&self.chain.state, &account)
                    .unlocking
                    .iter()
                    .any(|c| c.epoch <= epoch);
                let call = staking_call(staking::Call::WithdrawUnbonded);
                let r = self.block(Some((ACTORS[*who], call)), stats);
                if code(&r) == Some("nothing_to_withdraw") {
                    stats.refused_withdrawals += 1;
                    assert!(!due, "a due chunk of {account:?} was not withdrawable");
                }
            }
            Op::Validate { who } => {
                let call = staking_call(staking::Call::Validate);
                let _ = self.block(Some((ACTORS[*who], call)), stats);
            }
            Op::Chill { who } => {
                let call = staking_call(staking::Call::Chill);
                let _ = self.block(Some((ACTORS[*who], call)), stats);
            }
            Op::Back { who, validator } => {
                let call = staking_call(staking::Call::Back {
                    validator: acc(ACTORS[*validator]),
                });
                let _ = self.block(Some((ACTORS[*who], call)), stats);
            }
            Op::Claim { client, units } => {
                let client = CLIENTS[*client];
                let job = self.next_job;
                self.next_job += 1;
                let open = Call::open_job(job, acc("coordinator"), 10, 100);
                if !succeeded(&self.block(Some((client, open)), stats)) {
                    return;
                }
                let claim = make_claim(
                    &self.chain.genesis_hash(),
                    &acc(client),
                    job,
                    &dev("miner"),
                    &dev("coordinator"),
                    *units,
                    10,
                );
                let id = claim.receipt.id();
                if succeeded(&self.block(Some((client, Call::claim(claim))), stats)) {
                    stats.claims += 1;
                    self.receipts.push(id);
                }
            }
            Op::Revoke { receipt } => {
                let Some(id) = self
                    .receipts
                    .get(receipt % self.receipts.len().max(1))
                    .copied()
                else {
                    return;
                };
                if succeeded(&self.block(Some(("coordinator", Call::revoke(id))), stats)) {
                    stats.revocations += 1;
                }
            }
            Op::Slash {
                offender,
                slot,
                reporter,
                again,
            } => {
                let validators = read_validators(&self.chain.state).validators;
                let who = validators[offender % validators.len()].address;
                self.report(who, *slot, CLIENTS[*reporter], stats);
                if let Some(again) = again {
                    // Another offence by the same offender, usually in the same span.
                    self.report(who, slot + 1 + again, CLIENTS[*reporter], stats);
                }
            }
            Op::Resubmit { proof, reporter } => {
                let Some(proof) = self.proofs.get(proof % self.proofs.len().max(1)).cloned() else {
                    return;
                };
                let expected = self.expected_refusal(&proof);
                assert!(
                    matches!(
                        expected,
                        Some("offence_already_reported" | "offender_not_in_set")
                    ),
                    "{expected:?}"
                );
                let call = staking_call(staking::Call::Report { proof });
                let r = self.block(Some((CLIENTS[*reporter], call)), stats);
                assert_eq!(code(&r), expected, "{r:?}");
                if expected == Some("offender_not_in_set") {
                    stats.refused_not_in_set += 1;
                } else {
                    stats.refused_repeats += 1;
                }
            }
            Op::Empty { blocks } => {
                for _ in 0..*blocks {
                    self.block(None, stats).unwrap();
                }
            }
        }
    }
}

#[test]
fn staking_keeps_issuance_never_slashes_twice_and_unlocks_only_when_due() {
    let stats = RefCell::new(Stats::default());
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&prop::collection::vec(op(), 30..60), |ops| {
        let mut stats = stats.borrow_mut();
        let mut world = World::new();
        for op in &ops {
            world.apply(op, &mut stats);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let stats = stats.into_inner();
    eprintln!("staking_props: {stats:?}");
    // The run exercised every property (a vacuous pass would be no test).
    assert!(stats.slashes >= 10, "{stats:?}");
    assert!(stats.refused_repeats >= 10, "{stats:?}");
    assert!(stats.refused_same_span >= 5, "{stats:?}");
    assert!(stats.refused_not_in_set >= 5, "{stats:?}");
    assert!(stats.unbonds >= 10, "{stats:?}");
    assert!(stats.withdrawals >= 5 && stats.withdrawn > 0, "{stats:?}");
    assert!(stats.refused_withdrawals >= 5, "{stats:?}");
    assert!(stats.claims >= 10 && stats.revocations >= 5, "{stats:?}");
    assert!(stats.elections >= 100, "{stats:?}");
    assert!(stats.own_author_reports >= 3, "{stats:?}");
}
