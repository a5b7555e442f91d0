//! Keys and admin access: dev keys refused off dev/local chains (through the binary), secret
//! files created 0600 whatever the umask, and every admin route behind the token and refused on a
//! non-loopback bind unless `--rpc-admin-external`.

use crate::common::*;
use aitbc_chain_spec::{ChainSpec, ChainType};
use aitbc_node::cli::Cli;
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::Pair;
use clap::Parser;
use hyper::Method;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aitbc-node"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run aitbc-node")
}

/// The one-line error of a failed run.
fn refused(out: &Output) -> String {
    assert!(!out.status.success(), "expected a refusal");
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(err.lines().count(), 1, "one-line error, got: {err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

fn seed_uri(pair: &Pair) -> String {
    format!("0x{}", hex::encode(pair.seed()))
}

/// A `Live` spec whose genesis roles are keys of its own; writes it to `dir/name.json`.
fn live_spec(dir: &Path, name: &str, authority: &Pair) -> (ChainSpec, String) {
    let mut spec = ChainSpec::dev();
    spec.id = name.into();
    spec.name = name.into();
    spec.chain_type = ChainType::Live;
    let own = || Pair::generate().public().to_string();
    spec.genesis.authorities = vec![authority.public().to_string()];
    spec.genesis.sudo = Some(own());
    spec.genesis.coordinators = vec![own()];
    spec.genesis.treasury = own();
    spec.genesis.faucet = false;
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, spec.to_json(false).unwrap()).unwrap();
    (spec, path.to_str().unwrap().to_string())
}

/// Dev keys (`//alice`, the name shortcuts, a dev key in a key file, the raw seed of a dev
/// account) are refused as authority, sudo and coordinator keys on a `Live` chain, with one clear
/// line; so is a `Live` spec that makes a dev account sudo or an authority. A key of one's own is
/// accepted there, and dev keys stay fine on dev and local chains.
#[test]
fn dev_keys_are_refused_on_a_live_chain() {
    let dir = tempfile::tempdir().unwrap();
    let own = Pair::generate();
    let (_, live) = live_spec(dir.path(), "livetest", &own);
    let base = dir.path().join("base");
    let base = base.to_str().unwrap();
    let node = |extra: &[&str]| {
        let mut args = vec!["--chain", live.as_str(), "--base-path", base, "--no-p2p"];
        args.extend_from_slice(extra);
        refused(&run(&args))
    };

    let err = node(&["--key", "//alice"]);
    assert!(
        err.contains("dev key //alice as the authority key"),
        "{err}"
    );
    assert!(err.contains("Live"), "{err}");
    let err = node(&["--bob"]);
    assert!(err.contains("dev key //bob as the authority key"), "{err}");
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, "//charlie\n").unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = node(&["--key-file", key_file.to_str().unwrap()]);
    assert!(err.contains("dev key //charlie"), "{err}");
    let alice_seed = seed_uri(&dev_pair("alice"));
    let err = node(&["--key", &alice_seed]);
    assert!(err.contains("the seed of //alice"), "{err}");
    let own_seed = seed_uri(&own);
    let err = node(&["--key", &own_seed, "--sudo-key", "//alice"]);
    assert!(err.contains("dev key //alice as the sudo key"), "{err}");
    // --dev on a live spec means //alice: refused too.
    let err = node(&["--dev"]);
    assert!(err.contains("dev key //alice"), "{err}");

    // The mock coordinator's default key is //coordinator.
    let err = refused(&run(&[
        "mock-coordinator",
        "--chain",
        live.as_str(),
        "--addr",
        "127.0.0.1:0",
    ]));
    assert!(
        err.contains("dev key //coordinator as the coordinator key"),
        "{err}"
    );

    // A live spec that makes a dev account an authority (or sudo) is refused whatever the key.
    let mut bad = ChainSpec::from_json_str(&std::fs::read_to_string(&live).unwrap()).unwrap();
    bad.genesis.sudo = Some(dev_pair("alice").public().to_string());
    let bad_path = dir.path().join("bad.json");
    std::fs::write(&bad_path, bad.to_json(false).unwrap()).unwrap();
    let err = refused(&run(&[
        "--chain",
        bad_path.to_str().unwrap(),
        "--base-path",
        base,
        "--no-p2p",
        "--key",
        own_seed.as_str(),
    ]));
    assert!(err.contains("dev account //alice the sudo key"), "{err}");

    // Accepted: one's own key on the live chain; dev keys on dev and local chains.
    let parse = |args: &[&str]| {
        let mut argv = vec!["aitbc-node"];
        argv.extend_from_slice(args);
        let cli = Cli::try_parse_from(argv).unwrap();
        aitbc_node::cli::run::config_from_args(&cli.run)
    };
    let (config, _) = parse(&[
        "--chain",
        live.as_str(),
        "--base-path",
        base,
        "--key",
        own_seed.as_str(),
    ])
    .unwrap();
    assert_eq!(config.authority.unwrap().public(), own.public());
    for chain in ["dev", "local"] {
        assert!(parse(&["--chain", chain, "--base-path", base, "--alice"]).is_ok());
    }
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The files a node writes secrets to (the admin token `--dev` generates, the libp2p node key)
/// are created 0600 even under `umask 000`; the token in the file opens the admin routes.
#[test]
fn secret_files_are_created_0600_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().to_str().unwrap().to_string();
    let script = format!(
        "umask 000; exec '{}' --dev --base-path '{base}' --rpc-addr 127.0.0.1:0 \
         --p2p-addr /ip4/127.0.0.1/tcp/0",
        env!("CARGO_BIN_EXE_aitbc-node")
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let token = dir.path().join("admin-token");
    let node_key = dir.path().join("chains/dev/network/node_key");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(token.exists() && node_key.exists()) {
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("the node did not write its admin token and node key");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // A file created under umask 000 without an explicit mode would be 0666.
    let probe = dir.path().join("probe");
    let status = Command::new("sh")
        .args(["-c", &format!("umask 000; : > '{}'", probe.display())])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(mode_of(&probe), 0o666, "the umask trick works");
    assert_eq!(mode_of(&token), 0o600, "admin-token");
    assert_eq!(mode_of(&node_key), 0o600, "node_key");
    assert_eq!(std::fs::read_to_string(&token).unwrap().len(), 48);
    let _ = child.kill();
    let _ = child.wait();
}

/// An empty or whitespace admin token (flag or file) would let any request in: the node refuses
/// to start, with one line. A key file that group or others can read is refused as ssh refuses
/// such a private key. A short token starts with a warning.
#[test]
fn empty_admin_tokens_and_readable_key_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    let base = base.to_str().unwrap();
    let dev = [
        "--dev",
        "--base-path",
        base,
        "--no-p2p",
        "--rpc-addr",
        "127.0.0.1:0",
    ];
    let node = |extra: &[&str]| refused(&run(&[&dev[..], extra].concat()));
    for token in ["", "   "] {
        let err = node(&["--admin-token", token]);
        assert!(err.contains("--admin-token is empty"), "{err}");
    }
    let token_file = dir.path().join("token");
    for content in ["", " \n\t\n"] {
        std::fs::write(&token_file, content).unwrap();
        let err = node(&["--admin-token-file", token_file.to_str().unwrap()]);
        assert!(
            err.contains("--admin-token-file") && err.contains("empty"),
            "{err}"
        );
    }

    let key_file = dir.path().join("key");
    std::fs::write(&key_file, "//alice\n").unwrap();
    for mode in [0o644, 0o640, 0o604] {
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = node(&["--key-file", key_file.to_str().unwrap()]);
        assert!(
            err.contains("readable by others") && err.contains("chmod 600"),
            "{err}"
        );
    }

    // A short token: the node starts and warns.
    let mut child = bin()
        .args(dev)
        .args(["--admin-token", "short"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    for pipe in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let warned = loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line.contains("shorter than 16 characters") => break true,
            Ok(_) => {}
            Err(_) => break false,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(warned, "no warning about the short admin token");
}

/// Every admin route answers 401 without the token or with a wrong one, and 401
/// `admin_disabled` when the node has none; on a non-loopback bind (0.0.0.0) they answer 403
/// `admin_not_allowed` even with the right token, unless `--rpc-admin-external`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_routes_need_the_token_and_a_loopback_bind() {
    let admin: Vec<&str> = aitbc_rpc::routes::Router::new(aitbc_runtime_rpc::ROUTES)
        .routes()
        .filter(|r| r.admin)
        .map(|r| r.path)
        .collect();
    assert!(admin.len() >= 5, "{admin:?}");
    let call = |addr: std::net::SocketAddr, path: &'static str, token: Option<&'static str>| async move {
        let localhost = [127, 0, 0, 1].into();
        let body = Some(b"{}".to_vec());
        let (status, _, v) = http_with(addr, localhost, Method::POST, path, token, body).await;
        (status, error_code(&v).to_string())
    };

    // Loopback bind with a token.
    let dir = tempfile::tempdir().unwrap();
    let node = start(config(spec(true), dir.path(), false)).await;
    for &path in &admin {
        assert_eq!(
            call(node.rpc_addr, path, None).await.0,
            401,
            "{path} without a token"
        );
        assert_eq!(
            call(node.rpc_addr, path, Some("wrong")).await.0,
            401,
            "{path} wrong token"
        );
        // The right token passes the guard (the handler then judges the empty body).
        let (status, code) = call(node.rpc_addr, path, Some(TOKEN)).await;
        assert!(status != 401 && status != 403, "{path}: {status} {code}");
    }
    node.stop().await;

    // No token configured: disabled.
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(spec(true), dir.path(), false);
    cfg.rpc.admin_token = None;
    let node = start(cfg).await;
    for &path in &admin {
        assert_eq!(
            call(node.rpc_addr, path, Some(TOKEN)).await,
            (401, "admin_disabled".to_string()),
            "{path}"
        );
    }
    node.stop().await;

    // Bound on every interface: refused even with the token...
    for external in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(spec(true), dir.path(), false);
        cfg.rpc.addr = "0.0.0.0:0".parse().unwrap();
        cfg.rpc.admin_external = external;
        let node = start(cfg).await;
        let local = std::net::SocketAddr::from(([127, 0, 0, 1], node.rpc_addr.port()));
        for &path in &admin {
            let (status, code) = call(local, path, Some(TOKEN)).await;
            if external {
                // ...unless the operator opted in: then the token decides.
                assert!(status != 401 && status != 403, "{path}: {status} {code}");
                assert_eq!(call(local, path, None).await.0, 401, "{path}");
            } else {
                assert_eq!(
                    (status, code.as_str()),
                    (403, "admin_not_allowed"),
                    "{path}"
                );
            }
        }
        // Public routes are served either way.
        let (status, _, _) = http_from(
            local,
            [127, 0, 0, 1].into(),
            Method::GET,
            "/rpc/getHead",
            None,
        )
        .await;
        assert_eq!(status, 200);
        node.stop().await;
    }
}
