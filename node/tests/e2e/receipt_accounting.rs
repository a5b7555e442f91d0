//! Compute-receipt accounting to the base unit, end to end: a real dev node and the real mock
//! coordinator over HTTP. A client escrows a job, the coordinator attests the miner's receipt
//! (priced below the escrow), the miner claims it; then every balance involved (client, miner,
//! coordinator, treasury, block author) and the total issuance are checked exactly against the
//! fees reported by `getTx` (cross-checked with the runtime's fee rule) and the mint rule. Then
//! `/admin/paramSet` changes the mint parameters and the next claim follows the new values.
//!
//! The RPC does not expose the total issuance, so it is read in-process from the node's state.

use crate::common::*;
use aitbc_coordinator::{self as coordinator, Coordinator};
use aitbc_node::service::NodeHandle;
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::{AccountId, Balance, ComputeReceipt, Hash, Pair, ReceiptClaim, Signature};
use aitbc_rpc::http_client::HttpClient;
use aitbc_runtime::arith::ppm_of;
use aitbc_runtime::executive::compute_fee;
use aitbc_runtime::{balances, params, Call, Params};
use codec::Encode;
use serde_json::{json, Value};

/// Who is who.
struct Parties {
    client: Pair,
    miner: Pair,
    coordinator: AccountId,
    treasury: AccountId,
    author: AccountId,
}

impl Parties {
    fn dev() -> Self {
        Parties {
            client: dev_pair("bob"),
            miner: dev_pair("charlie"),
            coordinator: dev_pair("coordinator").public(),
            treasury: dev_pair("treasury").public(),
            author: dev_pair("alice").public(),
        }
    }
}

/// The balances of every party and the total issuance at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Books {
    client: Balance,
    miner: Balance,
    coordinator: Balance,
    treasury: Balance,
    author: Balance,
    issuance: Balance,
}

impl Books {
    fn sum_of_accounts(&self) -> Balance {
        self.client + self.miner + self.coordinator + self.treasury + self.author
    }
}

struct World {
    node: NodeHandle,
    rpc: HttpClient,
    admin: HttpClient,
    coordinator: HttpClient,
    genesis: Hash,
    who: Parties,
}

impl World {
    async fn books(&mut self) -> Books {
        let state = self.node.client.state().unwrap();
        let issuance = balances::storage::TOTAL_ISSUANCE.read(&state).unwrap();
        let rpc = &mut self.rpc;
        Books {
            client: balance(rpc, &self.who.client.public()).await.0,
            miner: balance(rpc, &self.who.miner.public()).await.0,
            coordinator: balance(rpc, &self.who.coordinator).await.0,
            treasury: balance(rpc, &self.who.treasury).await.0,
            author: balance(rpc, &self.who.author).await.0,
            issuance,
        }
    }

    /// The parameters in force at the head, read from the node's state.
    fn params(&self) -> Params {
        params::read(&self.node.client.state().unwrap())
    }

    /// Signs `call` from `from` with its next nonce, submits it on `route`, waits until it is
    /// finalized and checks that it succeeded. Returns the `getTx` answer.
    async fn run(&mut self, route: &str, from: &Pair, call: Call) -> Value {
        let (_, _, nonce) = balance(&mut self.rpc, &from.public()).await;
        let xt = sign(from, call, nonce, self.genesis);
        let h = self.rpc.post_ok(route, &tx_body(&xt)).await.unwrap();
        let tx = wait_tx(&mut self.rpc, h["txHash"].as_str().unwrap(), "finalized").await;
        assert_eq!(tx["success"], true, "{tx}");
        // The fee getTx reports is the runtime's fee rule applied to the encoded transaction.
        let expected = compute_fee(&self.params(), &xt.call, xt.encoded_size() as u64, xt.tip);
        assert_eq!(amount(&tx["fee"]), expected, "{tx}");
        tx
    }

    /// Asks the mock coordinator (over HTTP) to attest `receipt`.
    async fn attest(&mut self, receipt: &ComputeReceipt) -> Signature {
        let v = self
            .coordinator
            .post_ok("/attest/receipt", &serde_json::to_value(receipt).unwrap())
            .await
            .unwrap();
        assert_eq!(
            (
                v["exists"].clone(),
                v["paid"].clone(),
                v["not_double_spent"].clone()
            ),
            (json!(true), json!(true), json!(true)),
            "{v}"
        );
        assert_eq!(v["receipt_id"], receipt.id().to_string());
        Signature::from_hex(v["attestation"].as_str().unwrap()).unwrap()
    }

    /// The receipt the miner delivers for the client's job.
    fn receipt(&self, job_id: u64, units: u64, price: Balance) -> ComputeReceipt {
        ComputeReceipt {
            job_id,
            client: self.who.client.public(),
            miner: self.who.miner.public(),
            coordinator: self.who.coordinator,
            compute_units: units,
            price,
            output_hash: Hash::of(&job_id.to_le_bytes()),
        }
    }

    async fn param_set(&mut self, key: &str, value: u128) {
        let h = self
            .admin
            .post_ok(
                "/admin/paramSet",
                &json!({ "key": key, "value": value.to_string() }),
            )
            .await
            .unwrap();
        let tx = wait_tx(&mut self.rpc, h["txHash"].as_str().unwrap(), "finalized").await;
        assert_eq!(tx["success"], true, "{key}={value}: {tx}");
    }
}

fn amount(v: &Value) -> Balance {
    v.as_str()
        .unwrap_or_else(|| panic!("not an amount: {v}"))
        .parse()
        .unwrap()
}

/// The one event at `pointer` (e.g. `/Balances/FeePaid`) of a `getTx` answer.
fn event<'a>(tx: &'a Value, pointer: &str) -> &'a Value {
    let found: Vec<&Value> = tx["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.pointer(pointer))
        .collect();
    assert_eq!(found.len(), 1, "one {pointer} event in {tx}");
    found[0]
}

/// How a transaction's fee was split.
#[derive(Debug, Clone, Copy)]
struct FeeSplit {
    fee: Balance,
    to_author: Balance,
    to_treasury: Balance,
}

/// The fee split of a `getTx` answer, checked against the fee rule of the parameters in force.
fn fee_split(tx: &Value, p: &Params) -> FeeSplit {
    let e = event(tx, "/Balances/FeePaid");
    let split = FeeSplit {
        fee: amount(&e["fee"]),
        to_author: amount(&e["to_author"]),
        to_treasury: amount(&e["to_treasury"]),
    };
    assert_eq!(split.fee, amount(&tx["fee"]));
    assert_eq!(split.to_author, ppm_of(split.fee, p.fee_to_author_ppm));
    assert_eq!(split.to_author + split.to_treasury, split.fee);
    assert!(split.fee > 0 && split.to_author > 0 && split.to_treasury > 0);
    split
}

/// What one settled claim should create, from the parameters the test set.
#[derive(Debug, Clone, Copy)]
struct MintRule {
    mint_per_unit: Balance,
    coordinator_ppm: u32,
    treasury_ppm: u32,
}

/// One round: escrow `escrow`, claim `units` at `price`, check every balance to the unit.
async fn escrow_and_claim(
    w: &mut World,
    job_id: u64,
    escrow: Balance,
    units: u64,
    price: Balance,
    rule: MintRule,
) {
    let p = w.params();
    assert_eq!(
        (
            p.mint_per_unit,
            p.coordinator_ratio_ppm,
            p.treasury_ratio_ppm
        ),
        (rule.mint_per_unit, rule.coordinator_ppm, rule.treasury_ppm),
        "the parameters in force"
    );
    let before = w.books().await;

    let client = w.who.client.clone();
    let open = w
        .run(
            "/rpc/sendTx",
            &client,
            Call::open_job(job_id, w.who.coordinator, escrow, 1_000),
        )
        .await;
    let open_fee = fee_split(&open, &p);
    let opened = event(&open, "/Receipts/JobOpened");
    assert_eq!(amount(&opened["price"]), escrow);

    let receipt = w.receipt(job_id, units, price);
    let attestation = w.attest(&receipt).await;
    let miner = w.who.miner.clone();
    let claim = ReceiptClaim {
        miner_sig: receipt.sign_as_miner(&miner, &w.genesis),
        attestation,
        receipt: receipt.clone(),
    };
    let claimed = w
        .run("/rpc/submitReceipt", &miner, Call::claim(claim))
        .await;
    let claim_fee = fee_split(&claimed, &p);

    // The mint rule: units * mint_per_unit to the miner, ppm shares (rounded down) on top.
    let mint = Balance::from(units) * rule.mint_per_unit;
    let to_coordinator = ppm_of(mint, rule.coordinator_ppm);
    let to_treasury = ppm_of(mint, rule.treasury_ppm);
    let e = event(&claimed, "/Receipts/ReceiptClaimed");
    assert_eq!(e["receipt_id"], receipt.id().to_string());
    assert_eq!(
        [
            amount(&e["paid"]),
            amount(&e["returned"]),
            amount(&e["minted"]),
            amount(&e["to_coordinator"]),
            amount(&e["to_treasury"]),
        ],
        [price, escrow - price, mint, to_coordinator, to_treasury],
        "{e}"
    );
    let r = w
        .rpc
        .get_ok(&format!("/rpc/getReceipt/{}", receipt.id()))
        .await
        .unwrap();
    assert_eq!(
        (amount(&r["minted"]), r["compute_units"].as_u64().unwrap()),
        (mint, units)
    );

    let after = w.books().await;
    let expected = Books {
        // Paid the escrow and the open fee, got the unspent rest of the escrow back.
        client: before.client - escrow - open_fee.fee + (escrow - price),
        // The receipt price and the base mint, minus the claim fee.
        miner: before.miner + price + mint - claim_fee.fee,
        coordinator: before.coordinator + to_coordinator,
        treasury: before.treasury + to_treasury + open_fee.to_treasury + claim_fee.to_treasury,
        author: before.author + open_fee.to_author + claim_fee.to_author,
        issuance: before.issuance + mint + to_coordinator + to_treasury,
    };
    println!(
        "job {job_id}: escrow {escrow}, price {price}, units {units}: fees {} + {}, mint {mint} \
         + {to_coordinator} + {to_treasury}",
        open_fee.fee, claim_fee.fee
    );
    assert_eq!(after, expected);
    // Nothing went anywhere else: what the parties gained together is exactly what was minted.
    assert_eq!(
        after.sum_of_accounts() - before.sum_of_accounts(),
        after.issuance - before.issuance
    );
    let job = w
        .rpc
        .get_ok(&format!("/rpc/getJob/{}/{job_id}", w.who.client.public()))
        .await
        .unwrap();
    assert_eq!(job["status"], "claimed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_accounting_to_the_unit_and_param_changes() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(false), dir.path(), true)).await;
    let genesis = node.client.genesis_hash();
    let (_stop, rx) = tokio::sync::watch::channel(false);
    let coord = coordinator::serve(
        Coordinator::new(dev_pair("coordinator"), genesis),
        "127.0.0.1:0".parse().unwrap(),
        rx,
    )
    .await
    .unwrap();
    let mut w = World {
        rpc: http(&node),
        admin: http(&node).with_bearer(TOKEN),
        coordinator: HttpClient::new(&format!("http://{}", coord.local_addr)).unwrap(),
        node,
        genesis,
        who: Parties::dev(),
    };

    // The dev spec's parameters (the design's defaults).
    let defaults = MintRule {
        mint_per_unit: 1_000,
        coordinator_ppm: 50_000,
        treasury_ppm: 0,
    };
    escrow_and_claim(&mut w, 1, 10_000, 11, 7_001, defaults).await;

    // Root changes the mint parameters; the next claim follows them.
    let changed = MintRule {
        mint_per_unit: 2_503,
        coordinator_ppm: 100_001,
        treasury_ppm: 30_007,
    };
    w.param_set("mint_per_unit", changed.mint_per_unit).await;
    w.param_set("coordinator_ratio_ppm", changed.coordinator_ppm.into())
        .await;
    w.param_set("treasury_ratio_ppm", changed.treasury_ppm.into())
        .await;
    w.param_set("max_units_per_receipt", 10).await;
    assert_eq!(w.params().max_units_per_receipt, 10);

    // 11 units passed before; now they are over the cap and refused at the pool.
    let client = w.who.client.clone();
    w.run(
        "/rpc/sendTx",
        &client,
        Call::open_job(99, w.who.coordinator, 10_000, 1_000),
    )
    .await;
    let miner = w.who.miner.clone();
    let over = receipt_claim(&client.public(), 99, &miner, 11, 7_001, genesis);
    let (_, _, nonce) = balance(&mut w.rpc, &miner.public()).await;
    let xt = sign(&miner, Call::claim(over), nonce, genesis);
    let (status, v) = w
        .rpc
        .post("/rpc/submitReceipt", &tx_body(&xt))
        .await
        .unwrap();
    assert_eq!((status, error_code(&v)), (400, "too_many_units"), "{v}");

    // Exactly the new cap, at the full escrow price (nothing returned); the mint, both shares
    // (rounded down: 25030 * 100001 / 10^6 = 2503.02503, 25030 * 30007 / 10^6 = 751.07521) and
    // the issuance follow the new values.
    escrow_and_claim(&mut w, 2, 9_000, 10, 9_000, changed).await;
    assert_eq!(ppm_of(25_030, 100_001), 2_503);
    assert_eq!(ppm_of(25_030, 30_007), 751);

    w.node.stop().await;
}
