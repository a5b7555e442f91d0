//! Property test: random call sequences (transfers, mints, jobs, claims, refunds, bad
//! transactions) over several blocks keep the runtime's invariants, and every block re-executes
//! to the same state root on a fresh copy of the parent state.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{
    AccountId, Block, BlockContext, Extrinsic, JobStatus, Signature, StateMachine,
};
use aitbc_runtime::receipts;
use aitbc_runtime::testing::{acc, dev, make_claim, TestChain};
use aitbc_runtime::{balances, Call, Event};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const USERS: [&str; 5] = ["alice", "bob", "charlie", "dave", "ferdie"];
const RECIPIENTS: [&str; 7] = ["alice", "bob", "charlie", "dave", "ferdie", "new0", "new1"];

#[derive(Debug, Clone)]
enum Action {
    Transfer {
        from: usize,
        to: usize,
        amount: u128,
    },
    Mint {
        to: usize,
        amount: u128,
    },
    OpenJob {
        client: usize,
        job_id: u64,
        price: u128,
        lifetime: u64,
    },
    Claim {
        client: usize,
        job_id: u64,
        units: u64,
        price: u128,
        miner: usize,
        forged: bool,
        by: usize,
    },
    Refund {
        client: usize,
        job_id: u64,
    },
    StaleNonce {
        from: usize,
    },
    BadSignature {
        from: usize,
    },
    Pauper,
}

fn amount() -> impl Strategy<Value = u128> {
    prop_oneof![4 => 0u128..5_000, 1 => Just(u128::MAX / 2), 1 => 0u128..2_000_000_000]
}

fn action() -> impl Strategy<Value = Action> {
    let user = 0..USERS.len();
    prop_oneof![
        3 => (user.clone(), 0..RECIPIENTS.len(), amount()).prop_map(|(from, to, amount)| Action::Transfer { from, to, amount }),
        1 => (0..RECIPIENTS.len(), amount()).prop_map(|(to, amount)| Action::Mint { to, amount }),
        3 => (1usize..3, 0u64..2, amount(), 0u64..4).prop_map(|(client, job_id, price, lifetime)| Action::OpenJob { client, job_id, price, lifetime }),
        4 => (1usize..3, 0u64..2, 0u64..2_000_000, 0u128..3_000, 0..RECIPIENTS.len(), proptest::bool::weighted(0.2), user.clone())
            .prop_map(|(client, job_id, units, price, miner, forged, by)| Action::Claim { client, job_id, units: units % 7 + if units > 1_500_000 { 1_000_000 } else { 0 }, price, miner, forged, by }),
        2 => (1usize..3, 0u64..2).prop_map(|(client, job_id)| Action::Refund { client, job_id }),
        1 => user.clone().prop_map(|from| Action::StaleNonce { from }),
        1 => user.prop_map(|from| Action::BadSignature { from }),
        1 => Just(Action::Pauper),
    ]
}

/// The signer and call of an action, plus whether to break the signature and the nonce offset.
fn to_tx(chain: &TestChain, a: &Action) -> (&'static str, Call, bool, i64) {
    let g = chain.genesis_hash();
    match *a {
        Action::Transfer { from, to, amount } => (
            USERS[from],
            Call::transfer(acc(RECIPIENTS[to]), amount),
            false,
            0,
        ),
        Action::Mint { to, amount } => (
            "alice",
            Call::sudo(Call::mint(acc(RECIPIENTS[to]), amount)),
            false,
            0,
        ),
        Action::OpenJob {
            client,
            job_id,
            price,
            lifetime,
        } => (
            USERS[client],
            Call::open_job(job_id, acc("coordinator"), price, lifetime),
            false,
            0,
        ),
        Action::Claim {
            client,
            job_id,
            units,
            price,
            miner,
            forged,
            by,
        } => {
            let mut c = make_claim(
                &g,
                &acc(USERS[client]),
                job_id,
                &dev(RECIPIENTS[miner]),
                &dev("coordinator"),
                units,
                price,
            );
            if forged {
                c.attestation = c.miner_sig;
            }
            (USERS[by], Call::claim(c), false, 0)
        }
        Action::Refund { client, job_id } => (USERS[client], Call::refund(job_id), false, 0),
        Action::StaleNonce { from } => (USERS[from], Call::transfer(acc("bob"), 1), false, -1),
        Action::BadSignature { from } => (USERS[from], Call::transfer(acc("bob"), 1), true, 0),
        Action::Pauper => ("pauper", Call::transfer(acc("bob"), 0), false, 0),
    }
}

fn minted_by(events: &[Event]) -> u128 {
    events
        .iter()
        .map(|e| match e {
            Event::Balances(balances::Event::Minted { amount, .. }) => *amount,
            Event::Receipts(receipts::Event::ReceiptClaimed {
                minted,
                to_coordinator,
                to_treasury,
                ..
            }) => minted + to_coordinator + to_treasury,
            _ => 0,
        })
        .sum()
}

fn settlements(events: &[Event]) -> Vec<(AccountId, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Receipts(receipts::Event::ReceiptClaimed { client, job_id, .. })
            | Event::Receipts(receipts::Event::Refunded { client, job_id, .. }) => {
                Some((*client, *job_id))
            }
            _ => None,
        })
        .collect()
}

fn changed_keys(
    before: &aitbc_primitives::commitment::StateChanges,
    after: &aitbc_primitives::commitment::StateChanges,
) -> BTreeSet<Vec<u8>> {
    after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect()
}

fn run(blocks: Vec<Vec<Action>>) -> Result<(), TestCaseError> {
    let mut chain = TestChain::dev(true);
    let rt = chain.runtime;
    let mut settled: BTreeSet<(AccountId, u64)> = BTreeSet::new();
    let all: Vec<AccountId> = RECIPIENTS
        .iter()
        .chain(["pauper", "coordinator", "treasury"].iter())
        .map(|n| acc(n))
        .collect();
    for actions in blocks {
        let parent = chain.clone();
        let ti_before = chain.total_issuance();
        let nonces_before: Vec<u64> = all.iter().map(|a| chain.nonce(a)).collect();
        let ctx = BlockContext {
            parent_hash: chain.head.hash(),
            number: chain.head.number + 1,
            slot: chain.head.slot + 1,
        };
        let mut pending = rt.initialize_block(&chain.state, ctx);
        let mut sent: BTreeMap<&str, u64> = BTreeMap::new();
        let mut included = Vec::new();
        let mut minted = 0u128;
        for a in &actions {
            let (signer, call, break_sig, offset) = to_tx(&chain, a);
            let pair = dev(signer);
            let next = chain.nonce(&pair.public()) + sent.get(signer).copied().unwrap_or(0);
            let nonce = if offset < 0 {
                next.checked_sub(1).unwrap_or(next + 1)
            } else {
                next
            };
            let mut xt: Extrinsic<Call> = chain.sign_with(
                &pair,
                call,
                TxParams {
                    nonce,
                    ..Default::default()
                },
            );
            if break_sig {
                xt.signature = Signature([3; 64]);
            }
            let before = pending.changes.clone();
            let n_before = pending.outcomes.len();
            match rt.apply_extrinsic(&chain.state, &mut pending, &xt, false) {
                Ok(out) => {
                    *sent.entry(signer).or_default() += 1;
                    included.push(xt.clone());
                    if out.success {
                        minted += minted_by(&out.events);
                        for s in settlements(&out.events) {
                            prop_assert!(settled.insert(s), "escrow {s:?} settled twice");
                        }
                    } else {
                        // A failed call pays its fee and changes nothing else.
                        prop_assert_eq!(out.events.len(), 1);
                        let mut allowed: BTreeSet<Vec<u8>> = BTreeSet::new();
                        for who in [xt.signer, acc("alice"), acc("treasury")] {
                            allowed.insert(balances::storage::ACCOUNT.key(&who));
                        }
                        allowed.insert(aitbc_runtime::system::storage::NONCE.key(&xt.signer));
                        for k in changed_keys(&before, &pending.changes) {
                            prop_assert!(
                                allowed.contains(&k),
                                "failed call {:?} wrote an unrelated key",
                                out.error
                            );
                        }
                    }
                }
                Err(_) => {
                    // An invalid transaction changes nothing at all.
                    prop_assert_eq!(&before, &pending.changes);
                    prop_assert_eq!(n_before, pending.outcomes.len());
                    // Well-formed calls by funded signers with the right nonce are never invalid
                    // unless they are claims or refunds (checked before dispatch).
                    if matches!(
                        a,
                        Action::StaleNonce { .. } | Action::BadSignature { .. } | Action::Pauper
                    ) {
                        continue;
                    }
                    let funded = chain.balance(&xt.signer) > 1_000_000;
                    let checked_early = matches!(a, Action::Claim { .. } | Action::Refund { .. });
                    prop_assert!(checked_early || !funded, "unexpected invalid {:?}", a);
                }
            }
        }
        let executed = rt
            .finalize_block(&chain.state, pending)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        chain
            .state
            .apply_update(&executed.changes, (*executed.commitment).clone());
        chain.head = executed.header.clone();

        // Re-execution on the parent state gives the same root.
        let mut importer = parent;
        let block = Block {
            header: executed.header.clone(),
            extrinsics: included,
        };
        importer
            .import(&block)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(importer.state.root(), chain.state.root());

        // Total issuance == balances + open escrows, and it changed only by mints.
        chain.check_issuance().map_err(TestCaseError::fail)?;
        prop_assert_eq!(chain.total_issuance(), ti_before + minted);
        // Nonces only grow.
        for (a, before) in all.iter().zip(nonces_before) {
            prop_assert!(chain.nonce(a) >= before);
        }
        // A settled escrow never reopens.
        for ((client, job_id), job) in chain.jobs() {
            if settled.contains(&(client, job_id)) {
                prop_assert_ne!(job.status, JobStatus::Open);
            }
        }
        // Every key is under a module item prefix.
        prop_assert!(chain.state.values().keys().all(|k| k.len() >= 32));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_blocks_keep_invariants(blocks in proptest::collection::vec(proptest::collection::vec(action(), 0..10), 1..6)) {
        run(blocks)?;
    }
}
