//! The crate graph of ARCHITECTURE.md, checked against the manifests: each node crate depends
//! (in any section, dev-dependencies included) on exactly the workspace crates its row allows,
//! so no arrow runs back up and only the AITBC RPC crate and the binary know the AITBC runtime.

use std::collections::BTreeSet;
use std::path::Path;

/// `(crate directory under node/crates, the workspace crates it may depend on)`.
const ALLOWED: &[(&str, &[&str])] = &[
    ("consensus", &["aitbc-primitives"]),
    ("storage", &["aitbc-primitives"]),
    ("txpool", &["aitbc-primitives"]),
    ("network", &["aitbc-primitives"]),
    ("http-client", &[]),
    // Pages from JSON: no chain, storage or server of its own.
    ("explorer", &[]),
    // The indexer reads a node only over its RPC.
    ("indexer", &["aitbc-http-client"]),
    // The light client trusts no node: it knows the chain (spec, runtime reads) and HTTP, not
    // the node's storage, network or RPC server.
    (
        "light",
        &[
            "aitbc-primitives",
            "aitbc-runtime",
            "aitbc-chain-spec",
            "aitbc-http-client",
        ],
    ),
    (
        "client",
        &[
            "aitbc-primitives",
            "aitbc-consensus",
            "aitbc-storage",
            "aitbc-txpool",
            // Tests only: a state machine that is not AITBC's.
            "aitbc-name-registry",
        ],
    ),
    (
        "rpc",
        &[
            "aitbc-primitives",
            "aitbc-client",
            "aitbc-storage",
            "aitbc-txpool",
            "aitbc-network",
            "aitbc-http-client",
            "aitbc-explorer",
        ],
    ),
    (
        "runtime-rpc",
        &[
            "aitbc-primitives",
            "aitbc-runtime",
            "aitbc-client",
            "aitbc-rpc",
        ],
    ),
    ("coordinator", &["aitbc-primitives", "aitbc-rpc"]),
];

/// The `aitbc-*` crates a manifest names, in any dependency section.
fn workspace_deps(manifest: &str) -> BTreeSet<String> {
    let mut deps = BTreeSet::new();
    let mut in_deps = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line.ends_with("dependencies]");
            continue;
        }
        let name = line.split(['.', ' ', '=']).next().unwrap_or("");
        if in_deps && name.starts_with("aitbc-") {
            deps.insert(name.to_string());
        }
    }
    deps
}

#[test]
fn node_crates_depend_only_downwards() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir(&crates).expect("node/crates") {
        let dir = entry.expect("an entry").path();
        let name = dir.file_name().and_then(|n| n.to_str()).expect("a name");
        found.insert(name.to_string());
        let allowed: BTreeSet<String> = ALLOWED
            .iter()
            .find(|(c, _)| *c == name)
            .unwrap_or_else(|| panic!("node/crates/{name} is not in the crate graph"))
            .1
            .iter()
            .map(|d| d.to_string())
            .collect();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("a manifest");
        let deps = workspace_deps(&manifest);
        let extra: Vec<_> = deps.difference(&allowed).collect();
        assert!(extra.is_empty(), "node/crates/{name} depends on {extra:?}");
    }
    let listed: BTreeSet<String> = ALLOWED.iter().map(|(c, _)| c.to_string()).collect();
    assert_eq!(
        found, listed,
        "the crate graph lists crates that do not exist"
    );
}

#[test]
fn manifests_are_read_by_section() {
    let manifest = "[package]\nname = \"aitbc-x\"\n[dependencies]\naitbc-primitives.workspace = true\ncodec.workspace = true\n[dev-dependencies]\naitbc-runtime = { path = \"..\" }\n[lints]\n";
    let deps: Vec<String> = workspace_deps(manifest).into_iter().collect();
    assert_eq!(deps, ["aitbc-primitives", "aitbc-runtime"]);
}
