//! The binary as a user runs it: key and spec commands, `tx transfer` against a node, exit codes,
//! SIGTERM, purge-chain.

use crate::common::*;
use aitbc_chain_spec::ChainSpec;
use aitbc_primitives::crypto::dev_pair;
use serde_json::Value;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aitbc-node"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run aitbc-node")
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn one_line_error(out: &Output) -> String {
    assert!(!out.status.success(), "expected failure");
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(err.lines().count(), 1, "one-line error, got: {err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

#[test]
fn keys_specs_and_errors() {
    let out = run(&["key", "inspect", "//alice", "--json"]);
    assert!(out.status.success());
    assert_eq!(
        stdout_json(&out)["address"],
        dev_pair("alice").public().to_string()
    );
    let out = run(&["key", "generate", "--json"]);
    let key = stdout_json(&out);
    let seed = key["secret_seed"].as_str().unwrap();
    let again = stdout_json(&run(&["key", "inspect", seed, "--json"]));
    assert_eq!(again["address"], key["address"]);
    let err = one_line_error(&run(&["key", "inspect", "alice"]));
    assert!(err.contains("secret URI"), "{err}");

    let raw = stdout_json(&run(&["build-spec", "--chain", "dev", "--raw"]));
    let dev = ChainSpec::dev().genesis().unwrap();
    assert_eq!(raw["genesis_raw"]["genesis_hash"], dev.hash.to_string());
    let plain = stdout_json(&run(&["build-spec", "--chain", "local"]));
    assert_eq!(plain["genesis"]["authorities"].as_array().unwrap().len(), 4);
    assert!(plain.get("genesis_raw").is_none());
    let err = one_line_error(&run(&["build-spec", "--chain", "/no/such/spec.json"]));
    assert!(err.contains("/no/such/spec.json"), "{err}");

    assert!(run(&["--version"]).status.success());
    assert!(run(&["tx", "transfer", "--help"]).status.success());
    let err = one_line_error(&run(&["--base-path", "/tmp/x"]));
    assert!(err.contains("--dev"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tx_transfer_waits_and_fails_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(true), dir.path(), true)).await;
    let url = format!("http://{}", node.rpc_addr);
    let bob = dev_pair("bob").public().to_string();
    let cli = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || bin().args(&args).output().unwrap())
    };
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = ["tx", "transfer", "--rpc", &url, "--to", &bob]
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };

    let out = cli(args(&[
        "--from",
        "//eve",
        "--amount",
        "77",
        "--wait",
        "finalized",
    ]))
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tx = stdout_json(&out);
    assert_eq!(tx["status"], "finalized");
    assert_eq!(tx["success"], true);
    assert!(tx["block_height"].as_u64().unwrap() >= 1);

    // --print-json writes a body the node accepts.
    let out = cli(args(&["--from", "//eve", "--amount", "5", "--print-json"]))
        .await
        .unwrap();
    let body = stdout_json(&out);
    assert_eq!(body["type"], "TRANSFER");
    let mut rpc = http(&node);
    let sent = rpc.post_ok("/rpc/sendTx", &body).await.unwrap();
    wait_tx(&mut rpc, sent["txHash"].as_str().unwrap(), "finalized").await;

    // Refused (unfunded sender) and bad input exit non-zero with one line.
    let out = cli(args(&["--from", "//nobody", "--amount", "1"]))
        .await
        .unwrap();
    assert!(one_line_error(&out).contains("insufficient_fee_balance"));
    let out = cli(vec![
        "tx".into(),
        "transfer".into(),
        "--rpc".into(),
        url.clone(),
        "--from".into(),
        "//eve".into(),
        "--to".into(),
        "ait1bad".into(),
        "--amount".into(),
        "1".into(),
    ])
    .await
    .unwrap();
    assert!(one_line_error(&out).contains("--to"));
    // A wait that cannot be met times out with an error.
    let out = cli(args(&[
        "--from",
        "//eve",
        "--amount",
        "1",
        "--nonce",
        "99",
        "--wait",
        "included",
        "--timeout",
        "1",
    ]))
    .await
    .unwrap();
    assert!(one_line_error(&out).contains("timed out"));
    node.stop().await;
}

/// The staking commands as a user runs them against a dev node: bond, validate, back, unbond,
/// chill with `--wait`, a refusal as a one-line error, and `--print-json` bodies the node takes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tx_staking_commands() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(true), dir.path(), true)).await;
    let url = format!("http://{}", node.rpc_addr);
    let cli = |args: &[&str]| {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.extend(["--rpc".to_string(), url.clone()]);
        tokio::task::spawn_blocking(move || bin().args(&v).output().unwrap())
    };
    let ok = |out: Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tx = stdout_json(&out);
        assert_eq!(tx["success"], true, "{tx}");
    };
    let wait = ["--wait", "finalized"];
    let bond = spec(true).genesis.params.min_validator_bond.to_string();
    ok(cli(&[
        &["tx", "bond", "--from", "//ferdie", "--amount", &bond][..],
        &wait,
    ]
    .concat())
    .await
    .unwrap());
    ok(
        cli(&[&["tx", "validate", "--from", "//ferdie"][..], &wait].concat())
            .await
            .unwrap(),
    );
    let ferdie = dev_pair("ferdie").public().to_string();
    ok(cli(&[
        &["tx", "back", "--from", "//eve", "--validator", &ferdie][..],
        &wait,
    ]
    .concat())
    .await
    .unwrap());
    ok(cli(&[
        &["tx", "unbond", "--from", "//ferdie", "--amount", "5"][..],
        &wait,
    ]
    .concat())
    .await
    .unwrap());
    let mut rpc = http(&node);
    let s = rpc
        .get_ok(&format!("/rpc/getStaking/{ferdie}"))
        .await
        .unwrap();
    assert_eq!(s["validating"], true);
    assert_eq!(s["unlocking"][0]["amount"], "5");
    let eve = dev_pair("eve").public().to_string();
    let backs = rpc.get_ok(&format!("/rpc/getStaking/{eve}")).await.unwrap();
    assert_eq!(backs["backs"], ferdie);
    // Refused before a block: one line, the reason's code.
    let out = cli(&["tx", "withdraw", "--from", "//ferdie"])
        .await
        .unwrap();
    assert!(one_line_error(&out).contains("nothing_to_withdraw"));
    let out = cli(&[
        "tx",
        "revoke",
        "--coordinator",
        "//coordinator",
        "--receipt",
        "0x00",
    ])
    .await
    .unwrap();
    assert!(one_line_error(&out).contains("--receipt"));
    // --print-json writes a body the node accepts.
    let out = cli(&["tx", "chill", "--from", "//ferdie", "--print-json"])
        .await
        .unwrap();
    let body = stdout_json(&out);
    assert_eq!(body["type"], "CHILL");
    let sent = rpc.post_ok("/rpc/sendTx", &body).await.unwrap();
    wait_tx(&mut rpc, sent["txHash"].as_str().unwrap(), "finalized").await;
    let s = rpc
        .get_ok(&format!("/rpc/getStaking/{ferdie}"))
        .await
        .unwrap();
    assert_eq!(s["validating"], false);
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_cleanly_and_purge_keeps_the_authoring_record() {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("spec.json");
    let chain = spec(true);
    std::fs::write(&spec_path, chain.to_json(false).unwrap()).unwrap();
    let base = dir.path().join("base");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = bin()
        .args([
            "--chain",
            spec_path.to_str().unwrap(),
            "--base-path",
            base.to_str().unwrap(),
            "--alice",
        ])
        .args(["--rpc-addr", &format!("127.0.0.1:{port}"), "--log", "warn"])
        .args(["--p2p-addr", "/ip4/127.0.0.1/tcp/0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    wait_until(30, "a block", || {
        let url = url.clone();
        async move {
            let mut c = aitbc_rpc::http_client::HttpClient::new(&url).ok()?;
            let h = c.get_ok("/rpc/getHead").await.ok()?;
            (h["height"].as_u64()? >= 2).then_some(())
        }
    })
    .await;
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "node did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "clean exit after SIGTERM: {status}");

    let chain_dir = aitbc_node::service::chain_dir(&base, &chain.id);
    let db = chain_dir.join(aitbc_node::service::CHAIN_DB_FILE);
    let record = chain_dir.join(aitbc_node::service::AUTHORING_FILE);
    assert!(db.exists() && record.exists());
    let out = run(&[
        "purge-chain",
        "--base-path",
        base.to_str().unwrap(),
        "--chain",
        spec_path.to_str().unwrap(),
        "-y",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!db.exists(), "chain database removed");
    assert!(record.exists(), "authoring record kept");
}
