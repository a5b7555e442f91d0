//! `aitbc-node check-db`: passes on a database a node wrote (transfers, an open escrow, a
//! settled claim) with a one-line summary; refuses a database in use; fails with a one-line
//! error on a tampered state entry, a missing txs-index entry or another chain's spec.

use crate::common::*;
use aitbc_node::service::{chain_dir, CHAIN_DB_FILE};
use aitbc_primitives::crypto::dev_pair;
use aitbc_runtime::Call;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;
use std::process::{Command, Output};

const STATE: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("state");
const TXS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("txs");
const TREE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("tree");

fn check_db(spec: &Path, db: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aitbc-node"))
        .args(["check-db", "--chain", spec.to_str().unwrap()])
        .args(["--db", db.to_str().unwrap()])
        .output()
        .expect("run check-db")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim().to_string()
}

/// Expects a failure whose stderr is one line containing `what`.
fn assert_fails(out: &Output, what: &str) {
    let err = text(&out.stderr);
    assert!(
        !out.status.success(),
        "check-db passed: {}",
        text(&out.stdout)
    );
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    assert!(err.contains(what), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_db_passes_a_written_chain_and_catches_damage() {
    let dir = tempfile::tempdir().unwrap();
    let chain = spec(true);
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, chain.to_json(false).unwrap()).unwrap();
    let base = dir.path().join("base");
    let db = chain_dir(&base, &chain.id).join(CHAIN_DB_FILE);

    let node = start(config(chain.clone(), &base, true)).await;
    let mut rpc = http(&node);
    let genesis = node.client.genesis_hash();
    // Transfers from two senders, a settled claim, and an escrow left open.
    let mut last = String::new();
    for nonce in 0..5 {
        for who in ["eve", "ferdie"] {
            let xt = transfer(
                &dev_pair(who),
                &dev_pair("dave").public(),
                7,
                nonce,
                genesis,
            );
            let h = rpc.post_ok("/rpc/sendTx", &tx_body(&xt)).await.unwrap();
            last = h["txHash"].as_str().unwrap().to_string();
        }
    }
    wait_tx(&mut rpc, &last, "finalized").await;
    open_and_claim(&mut rpc, 1, genesis).await;
    let (_, _, nonce) = balance(&mut rpc, &dev_pair("bob").public()).await;
    let open = sign(
        &dev_pair("bob"),
        Call::open_job(2, dev_pair("coordinator").public(), 900, 10_000),
        nonce,
        genesis,
    );
    let h = rpc.post_ok("/rpc/sendTx", &tx_body(&open)).await.unwrap();
    wait_tx(&mut rpc, h["txHash"].as_str().unwrap(), "finalized").await;

    // In use: refused, nothing checked.
    assert_fails(&check_db(&spec_path, &db), "in use: stop the node first");
    node.stop().await;

    let out = check_db(&spec_path, &db);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert_eq!(summary.lines().count(), 1, "{summary}");
    assert!(summary.starts_with("ok: "), "{summary}");
    let txs: u64 = summary
        .split(", ")
        .find_map(|p| p.strip_suffix(" txs indexed")?.parse().ok())
        .unwrap();
    assert!(txs >= 13, "{summary}");

    // Another chain's spec.
    let local = dir.path().join("local.json");
    std::fs::write(
        &local,
        aitbc_chain_spec::ChainSpec::local().to_json(false).unwrap(),
    )
    .unwrap();
    assert_fails(&check_db(&local, &db), "another chain's");

    // A state value changed behind the chain's back.
    let tampered = dir.path().join("state.redb");
    std::fs::copy(&db, &tampered).unwrap();
    {
        let d = redb::Database::open(&tampered).unwrap();
        // An entry is the key's length (4 bytes), the key and the value: the value changes.
        let (hash, mut entry) = {
            let r = d.begin_read().unwrap();
            let t = r.open_table(STATE).unwrap();
            let (k, v) = t.last().unwrap().unwrap();
            (*k.value(), v.value().to_vec())
        };
        let key_len = u32::from_le_bytes(entry[..4].try_into().unwrap()) as usize;
        entry.truncate(4 + key_len);
        entry.extend_from_slice(b"\x01\x02");
        let w = d.begin_write().unwrap();
        w.open_table(STATE)
            .unwrap()
            .insert(&hash, entry.as_slice())
            .unwrap();
        w.commit().unwrap();
    }
    assert_fails(&check_db(&spec_path, &tampered), "stored state differs");

    // A transaction missing from the index.
    let tampered = dir.path().join("txs.redb");
    std::fs::copy(&db, &tampered).unwrap();
    {
        let d = redb::Database::open(&tampered).unwrap();
        let w = d.begin_write().unwrap();
        {
            let mut t = w.open_table(TXS).unwrap();
            let key = *t.first().unwrap().unwrap().0.value();
            t.remove(&key).unwrap();
        }
        w.commit().unwrap();
    }
    assert_fails(
        &check_db(&spec_path, &tampered),
        "missing from the txs index",
    );

    // A state-tree node deleted (a pruner that deletes a live node), or an unrecorded one left.
    for (name, what) in [
        ("tree-missing.redb", "the stored tree lacks 1 of"),
        (
            "tree-extra.redb",
            "neither in the best state's tree nor recorded as stale",
        ),
    ] {
        let tampered = dir.path().join(name);
        std::fs::copy(&db, &tampered).unwrap();
        // A live node: one not recorded as stale.
        let (key, node) = {
            let db = aitbc_storage::ChainDb::open_existing(&tampered).unwrap();
            let stale = db.stale_keys().unwrap();
            db.tree_entries()
                .unwrap()
                .into_iter()
                .rev()
                .find(|(k, _)| !stale.contains(k))
                .unwrap()
        };
        let d = redb::Database::open(&tampered).unwrap();
        let w = d.begin_write().unwrap();
        {
            let mut t = w.open_table(TREE).unwrap();
            if name == "tree-missing.redb" {
                t.remove(key.as_slice()).unwrap();
            } else {
                let mut other = key.clone();
                other[0] ^= 0x80; // the same node under a version no block wrote
                t.insert(other.as_slice(), node.as_slice()).unwrap();
            }
        }
        w.commit().unwrap();
        drop(d);
        assert_fails(&check_db(&spec_path, &tampered), what);
    }

    // A warp sync's database before its restore: no state to check, said so.
    let pending = dir.path().join("pending.redb");
    drop(
        aitbc_node::service::open_client_with(
            &chain,
            &pending,
            Default::default(),
            aitbc_storage::GenesisState::Skip,
        )
        .unwrap(),
    );
    assert_fails(&check_db(&spec_path, &pending), "has no state yet");

    // No database at all.
    assert_fails(
        &check_db(&spec_path, &dir.path().join("none.redb")),
        "no chain database",
    );
}
