//! Attacks on the compute-receipt flow, refused at the pool over RPC. Against a real dev node
//! (200 ms slots), each bad claim goes to `/rpc/submitReceipt` (a bad refund to `/rpc/sendTx`)
//! and must be answered with a 4xx and the error code of its case, pay nothing (every
//! submitter's balance and nonce unchanged) and never appear (`getTx` still 404 blocks later;
//! the replayed settling transaction still at its first block), while the escrow it aimed at
//! stays as it was. Then two valid claims of one escrow race in one
//! block: exactly one lands, the other never appears and pays nothing.
//!
//! The claims here are signed locally with the dev keys (//coordinator is the registered
//! coordinator of the dev spec), so a test can make the signatures a real coordinator would
//! refuse to make.

use crate::common::*;
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::{AccountId, Balance, ComputeReceipt, Extrinsic, Hash, Pair, ReceiptClaim};
use aitbc_rpc::http_client::HttpClient;
use aitbc_runtime::{receipts, Call};
use serde_json::Value;

const PRICE: Balance = 5_000;
const LIFETIME: u64 = 10_000;

/// The dev accounts the test plays.
struct Keys {
    /// The client of the escrows.
    bob: Pair,
    /// The honest miner.
    charlie: Pair,
    /// Another client, and the second racing miner.
    dave: Pair,
    /// The attacker.
    eve: Pair,
    /// The escrows' coordinator (registered in the dev spec).
    coordinator: Pair,
    /// A second registered coordinator.
    other_coordinator: Pair,
    /// A coordinator that is unregistered after an escrow names it.
    removed_coordinator: Pair,
}

impl Keys {
    fn new() -> Self {
        Keys {
            bob: dev_pair("bob"),
            charlie: dev_pair("charlie"),
            dave: dev_pair("dave"),
            eve: dev_pair("eve"),
            coordinator: dev_pair("coordinator"),
            other_coordinator: dev_pair("coordinator2"),
            removed_coordinator: dev_pair("coordinator3"),
        }
    }
}

fn receipt(
    client: &Pair,
    job_id: u64,
    miner: &Pair,
    coordinator: &Pair,
    units: u64,
    price: Balance,
) -> ComputeReceipt {
    ComputeReceipt {
        job_id,
        client: client.public(),
        miner: miner.public(),
        coordinator: coordinator.public(),
        compute_units: units,
        price,
        output_hash: Hash::of(&job_id.to_le_bytes()),
    }
}

/// `receipt` signed by `miner` and attested by `attester`, both over `signed_for`'s genesis.
fn signed(
    receipt: ComputeReceipt,
    miner: &Pair,
    attester: &Pair,
    signed_for: &Hash,
) -> ReceiptClaim {
    ReceiptClaim {
        miner_sig: receipt.sign_as_miner(miner, signed_for),
        attestation: receipt.attest(attester, signed_for),
        receipt,
    }
}

async fn next_nonce(rpc: &mut HttpClient, who: &AccountId) -> u64 {
    balance(rpc, who).await.2
}

/// Signs `call` from `from` with its next nonce, sends it, waits until finalized and checks
/// that it succeeded. Returns the transaction.
async fn run(rpc: &mut HttpClient, genesis: Hash, from: &Pair, call: Call) -> Extrinsic<Call> {
    let nonce = next_nonce(rpc, &from.public()).await;
    let xt = sign(from, call, nonce, genesis);
    let route = match &xt.call {
        Call::Receipts(receipts::Call::Claim { .. }) => "/rpc/submitReceipt",
        _ => "/rpc/sendTx",
    };
    let h = rpc.post_ok(route, &tx_body(&xt)).await.unwrap();
    let tx = wait_tx(rpc, h["txHash"].as_str().unwrap(), "finalized").await;
    assert_eq!(tx["success"], true, "{tx}");
    xt
}

/// One attack: a signed transaction, where it is sent, and the refusal it must get.
struct Attack {
    name: &'static str,
    xt: Extrinsic<Call>,
    /// The escrow it aims at, which must stay as it was.
    escrow: (AccountId, u64),
    code: &'static str,
}

/// An account's balance and on-chain nonce.
async fn account(rpc: &mut HttpClient, who: &AccountId) -> (Balance, u64) {
    let (b, n, _) = balance(rpc, who).await;
    (b, n)
}

async fn job(rpc: &mut HttpClient, (client, job_id): (AccountId, u64)) -> Value {
    rpc.get_ok(&format!("/rpc/getJob/{client}/{job_id}"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attacks_are_refused_at_the_pool() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(false), dir.path(), true)).await;
    let g = node.client.genesis_hash();
    let mut rpc = http(&node);
    let k = Keys::new();
    let alice = dev_pair("alice");

    // Setup: a second and a third coordinator; bob's escrows; job 2's coordinator is then
    // unregistered; job 3 is settled by a valid claim; job 4 expires.
    for c in [&k.other_coordinator, &k.removed_coordinator] {
        run(
            &mut rpc,
            g,
            &alice,
            Call::sudo(Call::add_coordinator(c.public())),
        )
        .await;
    }
    let coordinator = k.coordinator.public();
    for (job_id, coord, lifetime) in [
        (1, coordinator, LIFETIME),
        (2, k.removed_coordinator.public(), LIFETIME),
        (3, coordinator, LIFETIME),
        (4, coordinator, 1),
    ] {
        run(
            &mut rpc,
            g,
            &k.bob,
            Call::open_job(job_id, coord, PRICE, lifetime),
        )
        .await;
    }
    run(
        &mut rpc,
        g,
        &alice,
        Call::sudo(Call::remove_coordinator(k.removed_coordinator.public())),
    )
    .await;
    let settled = signed(
        receipt(&k.bob, 3, &k.charlie, &k.coordinator, 3, 1_000),
        &k.charlie,
        &k.coordinator,
        &g,
    );
    let settling = run(&mut rpc, g, &k.charlie, Call::claim(settled.clone())).await;
    let bob = k.bob.public();
    let expires_at = job(&mut rpc, (bob, 4)).await["expires_at"]
        .as_u64()
        .unwrap();
    wait_height(&mut rpc, expires_at).await;

    // The attacks, each signed with its submitter's next nonce.
    let mut nonces = std::collections::BTreeMap::new();
    for p in [&k.bob, &k.charlie, &k.eve] {
        nonces.insert(p.public(), next_nonce(&mut rpc, &p.public()).await);
    }
    let tx = |from: &Pair, call: Call| sign(from, call, nonces[&from.public()], g);
    let claim_tx = |from: &Pair, claim: ReceiptClaim| tx(from, Call::claim(claim));
    let honest =
        |job_id, units, price| receipt(&k.bob, job_id, &k.charlie, &k.coordinator, units, price);
    // A receipt attested as `attested`, then changed by `change` and signed by `miner`.
    let altered = |change: &dyn Fn(&mut ComputeReceipt), miner: &Pair| {
        let attested = honest(1, 3, 1_000);
        let attestation = attested.attest(&k.coordinator, &g);
        let mut r = attested;
        change(&mut r);
        ReceiptClaim {
            miner_sig: r.sign_as_miner(miner, &g),
            attestation,
            receipt: r,
        }
    };
    let job1 = (bob, 1);
    let attacks = vec![
        Attack {
            name: "forged miner signature",
            xt: claim_tx(&k.eve, {
                let mut c = signed(honest(1, 3, 1_000), &k.charlie, &k.coordinator, &g);
                c.miner_sig = c.receipt.sign_as_miner(&k.eve, &g);
                c
            }),
            escrow: job1,
            code: "bad_miner_signature",
        },
        Attack {
            name: "escrow's coordinator unregistered",
            xt: claim_tx(
                &k.charlie,
                signed(
                    receipt(&k.bob, 2, &k.charlie, &k.removed_coordinator, 3, 1_000),
                    &k.charlie,
                    &k.removed_coordinator,
                    &g,
                ),
            ),
            escrow: (bob, 2),
            code: "unknown_coordinator",
        },
        Attack {
            name: "attested by another registered coordinator",
            xt: claim_tx(
                &k.charlie,
                signed(
                    receipt(&k.bob, 1, &k.charlie, &k.other_coordinator, 3, 1_000),
                    &k.charlie,
                    &k.other_coordinator,
                    &g,
                ),
            ),
            escrow: job1,
            code: "wrong_coordinator",
        },
        Attack {
            name: "attestation by a key that is not the named coordinator",
            xt: claim_tx(
                &k.charlie,
                signed(honest(1, 3, 1_000), &k.charlie, &k.eve, &g),
            ),
            escrow: job1,
            code: "bad_attestation",
        },
        Attack {
            name: "units changed after attestation",
            xt: claim_tx(&k.charlie, altered(&|r| r.compute_units = 30, &k.charlie)),
            escrow: job1,
            code: "bad_attestation",
        },
        Attack {
            name: "price changed after attestation",
            xt: claim_tx(&k.charlie, altered(&|r| r.price = 4_000, &k.charlie)),
            escrow: job1,
            code: "bad_attestation",
        },
        Attack {
            name: "miner changed after attestation",
            xt: claim_tx(&k.eve, altered(&|r| r.miner = k.eve.public(), &k.eve)),
            escrow: job1,
            code: "bad_attestation",
        },
        Attack {
            name: "receipt signed for another genesis",
            xt: claim_tx(
                &k.charlie,
                signed(
                    honest(1, 3, 1_000),
                    &k.charlie,
                    &k.coordinator,
                    &Hash::of(b"another chain"),
                ),
            ),
            escrow: job1,
            code: "bad_miner_signature",
        },
        Attack {
            name: "claim transaction signed for another genesis",
            xt: sign(
                &k.charlie,
                Call::claim(signed(honest(1, 3, 1_000), &k.charlie, &k.coordinator, &g)),
                nonces[&k.charlie.public()],
                Hash::of(b"another chain"),
            ),
            escrow: job1,
            code: "bad_signature",
        },
        Attack {
            name: "settled receipt replayed in a new transaction",
            xt: claim_tx(&k.charlie, settled.clone()),
            escrow: (bob, 3),
            code: "job_already_settled",
        },
        Attack {
            name: "settling transaction replayed",
            xt: settling.clone(),
            escrow: (bob, 3),
            code: "stale_nonce",
        },
        Attack {
            name: "claim after expiry",
            xt: claim_tx(
                &k.charlie,
                signed(honest(4, 3, 1_000), &k.charlie, &k.coordinator, &g),
            ),
            escrow: (bob, 4),
            code: "job_expired",
        },
        Attack {
            name: "miner is the client",
            xt: claim_tx(
                &k.bob,
                signed(
                    receipt(&k.bob, 1, &k.bob, &k.coordinator, 3, 1_000),
                    &k.bob,
                    &k.coordinator,
                    &g,
                ),
            ),
            escrow: job1,
            code: "miner_is_client",
        },
        Attack {
            name: "units over max_units_per_receipt",
            xt: claim_tx(
                &k.charlie,
                signed(honest(1, 1_000_001, 1_000), &k.charlie, &k.coordinator, &g),
            ),
            escrow: job1,
            code: "too_many_units",
        },
        Attack {
            name: "price above the escrow",
            xt: claim_tx(
                &k.charlie,
                signed(honest(1, 3, PRICE + 1), &k.charlie, &k.coordinator, &g),
            ),
            escrow: job1,
            code: "price_above_escrow",
        },
        Attack {
            name: "another client's escrow (job ids are per client)",
            xt: claim_tx(
                &k.charlie,
                signed(
                    receipt(&k.eve, 1, &k.charlie, &k.coordinator, 3, 1_000),
                    &k.charlie,
                    &k.coordinator,
                    &g,
                ),
            ),
            escrow: job1,
            code: "unknown_job",
        },
    ];

    let watched = [&k.bob, &k.charlie, &k.dave, &k.eve];
    let mut before = Vec::new();
    for p in watched {
        before.push(account(&mut rpc, &p.public()).await);
    }
    let mut escrows = Vec::new();
    for a in &attacks {
        escrows.push(job(&mut rpc, a.escrow).await);
    }
    // Every attack's transaction is unknown, except the replayed settling transaction, which
    // must stay where it was.
    let mut known = Vec::new();
    for a in &attacks {
        let (status, v) = rpc
            .get(&format!("/rpc/getTx/{}", a.xt.hash()))
            .await
            .unwrap();
        assert_eq!(status == 200, a.xt == settling, "{}: {v}", a.name);
        known.push((status, v));
    }
    println!("| attack | status | code |\n|---|---|---|");
    let mut wrong = Vec::new();
    for a in &attacks {
        let (status, v) = rpc
            .post("/rpc/submitReceipt", &tx_body(&a.xt))
            .await
            .unwrap();
        let code = error_code(&v).to_string();
        println!("| {} | {status} | {code} |", a.name);
        if !(400..500).contains(&status) || code != a.code {
            wrong.push(format!(
                "{}: expected 4xx {}, got {status} {v}",
                a.name, a.code
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");

    // Blocks later: nothing was included, nobody paid, every escrow is as it was.
    let h = height(&mut rpc).await;
    wait_height(&mut rpc, h + 2).await;
    for (a, before) in attacks.iter().zip(&known) {
        let now = rpc
            .get(&format!("/rpc/getTx/{}", a.xt.hash()))
            .await
            .unwrap();
        assert_eq!(now, *before, "{}", a.name);
    }
    for (p, b) in watched.iter().zip(&before) {
        assert_eq!(account(&mut rpc, &p.public()).await, *b, "{}", p.public());
    }
    for (a, e) in attacks.iter().zip(&escrows) {
        assert_eq!(job(&mut rpc, a.escrow).await, *e, "{}", a.name);
    }
    node.stop().await;
}

/// A dev node on which //bob has escrowed job 1 for //coordinator: (its base path, the node,
/// the genesis hash, an RPC client, the keys).
async fn node_with_escrow() -> (
    tempfile::TempDir,
    aitbc_node::service::NodeHandle,
    Hash,
    HttpClient,
    Keys,
) {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(false), dir.path(), true)).await;
    let g = node.client.genesis_hash();
    let mut rpc = http(&node);
    let k = Keys::new();
    run(
        &mut rpc,
        g,
        &k.bob,
        Call::open_job(1, k.coordinator.public(), PRICE, LIFETIME),
    )
    .await;
    (dir, node, g, rpc, k)
}

/// Bad refunds are refused at the pool like the claim attacks (their rules are checked before
/// dispatch): nothing is included and no fee is paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_refunds_are_refused_at_the_pool() {
    let (_dir, node, g, mut rpc, k) = node_with_escrow().await;
    let bob = k.bob.public();
    let escrow = job(&mut rpc, (bob, 1)).await;
    // (name, refunder, expected code)
    let cases = [
        ("refund before expiry", &k.bob, "not_expired"),
        ("refund of another client's escrow", &k.eve, "unknown_job"),
    ];
    let mut failures = Vec::new();
    for (name, who, code) in cases {
        let before = account(&mut rpc, &who.public()).await;
        let xt = sign(who, Call::refund(1), before.1, g);
        let (status, v) = rpc.post("/rpc/sendTx", &tx_body(&xt)).await.unwrap();
        let h = height(&mut rpc).await;
        wait_height(&mut rpc, h + 2).await;
        let (tx_status, tx) = rpc.get(&format!("/rpc/getTx/{}", xt.hash())).await.unwrap();
        let after = account(&mut rpc, &who.public()).await;
        if !(400..500).contains(&status) || error_code(&v) != code {
            failures.push(format!("{name}: expected 4xx {code}, got {status} {v}"));
        }
        if tx_status != 404 {
            failures.push(format!("{name}: included: {tx}"));
        }
        if after != before {
            failures.push(format!("{name}: paid {}", before.0 - after.0));
        }
    }
    assert_eq!(job(&mut rpc, (bob, 1)).await, escrow);
    assert!(failures.is_empty(), "{failures:#?}");
    node.stop().await;
}

/// Two different valid claims of one escrow, submitted together: exactly one settles it, the
/// other never enters a block and its submitter pays nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_claims_of_one_escrow_in_one_block() {
    let (_dir, node, g, mut rpc, k) = node_with_escrow().await;
    let bob = k.bob.public();

    // Each miner claims with its own receipt (a faulty coordinator attested both).
    let miners = [(&k.charlie, 3u64, 4_000u128), (&k.dave, 4, 4_500)];
    let mut before = Vec::new();
    let mut xts = Vec::new();
    for (miner, units, price) in miners {
        let (b, nonce) = account(&mut rpc, &miner.public()).await;
        before.push(b);
        let claim = signed(
            receipt(&k.bob, 1, miner, &k.coordinator, units, price),
            miner,
            &k.coordinator,
            &g,
        );
        xts.push(sign(miner, Call::claim(claim), nonce, g));
    }
    let (mut c1, mut c2) = (http(&node), http(&node));
    let (b1, b2) = (tx_body(&xts[0]), tx_body(&xts[1]));
    let (r1, r2) = tokio::join!(
        c1.post("/rpc/submitReceipt", &b1),
        c2.post("/rpc/submitReceipt", &b2)
    );
    let answers = [r1.unwrap(), r2.unwrap()];
    println!("submitted together: {answers:?}");
    wait_until(30, "the escrow settled", || {
        let url = rpc.base_url();
        async move {
            let mut c = HttpClient::new(&url).unwrap();
            let j = c.get_ok(&format!("/rpc/getJob/{bob}/1")).await.ok()?;
            (j["status"] == "claimed").then_some(())
        }
    })
    .await;
    let h = height(&mut rpc).await;
    wait_height(&mut rpc, h + 2).await;

    let mut landed = Vec::new();
    for (i, xt) in xts.iter().enumerate() {
        let (status, tx) = rpc.get(&format!("/rpc/getTx/{}", xt.hash())).await.unwrap();
        println!("claim {i}: submit {:?}, getTx {status} {tx}", answers[i]);
        let included = status == 200 && (tx["status"] == "included" || tx["status"] == "finalized");
        if included {
            assert_eq!(tx["success"], true, "{tx}");
            landed.push((i, tx));
        } else {
            // Refused at submission (the other was already in a block) or dropped when the
            // block was built; either way never in a block.
            assert!(
                answers[i].0 == 200 || error_code(&answers[i].1) == "job_already_settled",
                "{:?}",
                answers[i]
            );
            assert!(status == 404 || tx["status"] == "dropped", "{tx}");
        }
    }
    assert_eq!(landed.len(), 1, "exactly one claim lands: {landed:?}");
    let (winner, tx) = &landed[0];
    let fee: Balance = tx["fee"].as_str().unwrap().parse().unwrap();
    for (i, (miner, units, price)) in miners.iter().enumerate() {
        let now = account(&mut rpc, &miner.public()).await.0;
        if i == *winner {
            assert_eq!(now, before[i] + price + Balance::from(*units) * 1_000 - fee);
        } else {
            assert_eq!(now, before[i], "the losing claim paid nothing");
        }
    }
    node.stop().await;
}
