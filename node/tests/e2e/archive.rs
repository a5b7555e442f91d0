//! `export-blocks` / `import-blocks` and `export-state` / `import-state` through the binary, as
//! an operator runs them: round trips give the same blocks and roots, an interrupted state
//! import resumes, and files of another chain or kind are refused with one line.

use crate::common::*;
use aitbc_node::service::{self, chain_dir, CHAIN_DB_FILE};
use aitbc_primitives::crypto::dev_pair;
use std::path::Path;
use std::process::{Command, Output};

fn node_cmd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aitbc-node"))
        .args(args)
        .output()
        .expect("run aitbc-node")
}

fn ok(out: Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "failed: {stderr}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn refused(out: Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert!(!out.status.success(), "succeeded");
    assert!(stderr.contains(what), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// The (best hash, state root, finalized number) of the database under `base`.
fn head_of(
    spec: &aitbc_chain_spec::ChainSpec,
    base: &Path,
) -> (aitbc_primitives::Hash, aitbc_primitives::Hash, u64) {
    let db = chain_dir(base, &spec.id).join(CHAIN_DB_FILE);
    let client = service::open_client(spec, &db, Default::default()).unwrap();
    let best = client.best_header();
    (best.hash(), best.state_root, client.finalized().number)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_and_state_round_trip_through_files() {
    let spec = spec(false);
    let dir = tempfile::tempdir().unwrap();
    let spec_file = dir.path().join("spec.json");
    std::fs::write(&spec_file, spec.to_json(false).unwrap()).unwrap();
    let chain = spec_file.to_str().unwrap();
    // `aitbc-node CMD --chain <spec> --base-path BASE REST…`
    let run = |cmd: &str, base: &str, rest: &[&str]| {
        let mut args = vec![cmd, "--chain", chain, "--base-path", base];
        args.extend_from_slice(rest);
        node_cmd(&args)
    };
    let a = dir.path().join("a");
    // A dev chain with transfers to new accounts over several blocks.
    let node = start(config(spec.clone(), &a, true)).await;
    let mut rpc = http(&node);
    let genesis = node.client.genesis_hash();
    for i in 0..30u64 {
        let to = aitbc_primitives::Pair::from_seed([7, i as u8 + 1].repeat(16).try_into().unwrap())
            .public();
        let xt = transfer(&dev_pair("alice"), &to, 1_000 + i as u128, i, genesis);
        rpc.post_ok("/rpc/sendTx", &tx_body(&xt)).await.unwrap();
        if i % 10 == 9 {
            wait_tx(&mut rpc, &xt.hash().to_string(), "finalized").await;
        }
    }
    node.stop().await;
    let (a_best, a_root, a_fin) = head_of(&spec, &a);
    let a = a.to_str().unwrap();

    // Blocks: into an empty database, then again (nothing new), all verified on the way in.
    let blocks = dir.path().join("blocks.bin");
    let out = ok(run("export-blocks", a, &[blocks.to_str().unwrap()]));
    assert!(out.starts_with("exported blocks #1.."), "{out}");
    let b = dir.path().join("b");
    let b_path = b.to_str().unwrap();
    let out = ok(run("import-blocks", b_path, &[blocks.to_str().unwrap()]));
    assert!(out.starts_with("imported "), "{out}");
    assert_eq!(head_of(&spec, &b), (a_best, a_root, a_fin));
    let out = ok(run("import-blocks", b_path, &[blocks.to_str().unwrap()]));
    assert!(out.starts_with("imported 0 blocks"), "{out}");
    let out = ok(run("check-db", b_path, &[]));
    assert!(out.starts_with("ok:"), "{out}");

    // State: an interrupted import (a truncated file) resumes with the whole file.
    let state = dir.path().join("state.bin");
    let out = ok(run(
        "export-state",
        a,
        &["--chunk-bytes", "400", state.to_str().unwrap()],
    ));
    assert!(
        out.contains("exported the state of finalized block"),
        "{out}"
    );
    let chunks: usize = out
        .split(" entries in ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(chunks > 5, "{out}");
    let bytes = std::fs::read(&state).unwrap();
    let cut = dir.path().join("cut.bin");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let c = dir.path().join("c");
    let c_path = c.to_str().unwrap();
    refused(
        run("import-state", c_path, &[cut.to_str().unwrap()]),
        "truncated",
    );
    let out = ok(run("import-state", c_path, &[state.to_str().unwrap()]));
    assert!(
        out.starts_with("imported the state of finalized block"),
        "{out}"
    );
    let (c_best, c_root, c_fin) = head_of(&spec, &c);
    assert_eq!(c_fin, a_fin);
    let a_client = service::open_client(
        &spec,
        &chain_dir(Path::new(a), &spec.id).join(CHAIN_DB_FILE),
        Default::default(),
    )
    .unwrap();
    let at = a_client.hash_at(c_fin).unwrap().unwrap();
    assert_eq!(c_best, at);
    assert_eq!(c_root, a_client.header(&at).unwrap().unwrap().state_root);
    drop(a_client);
    // The offline check knows a restored database; the node starts on the restored block and
    // goes on authoring; the check passes again.
    let out = ok(run("check-db", c_path, &[]));
    assert!(out.starts_with("ok:"), "{out}");
    let node = start(config(spec.clone(), &c, true)).await;
    let mut rpc = http(&node);
    wait_height(&mut rpc, c_fin + 3).await;
    node.stop().await;
    let out = ok(run("check-db", c_path, &[]));
    assert!(out.starts_with("ok:"), "{out}");

    // Refusals: a state file where blocks are expected, another chain's file, a full database.
    refused(
        run("import-blocks", b_path, &[state.to_str().unwrap()]),
        "holds State",
    );
    refused(
        node_cmd(&[
            "import-blocks",
            "--chain",
            "dev",
            "--base-path",
            b_path,
            blocks.to_str().unwrap(),
        ]),
        "another chain",
    );
    refused(
        run("import-state", b_path, &[state.to_str().unwrap()]),
        "empty database",
    );
    refused(
        run(
            "export-blocks",
            dir.path().join("none").to_str().unwrap(),
            &[blocks.to_str().unwrap()],
        ),
        "no chain database",
    );
}
