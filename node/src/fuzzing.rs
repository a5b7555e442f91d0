//! Fuzz targets: one function per `cargo fuzz` target of `node/fuzz` (each target there is a
//! one-line call into here), so the stable test suite can replay the committed corpora
//! (`node/fuzz/corpus/<target>/`) through exactly the code the fuzzer ran.
//!
//! Every function takes arbitrary bytes and must return normally whatever they are: a panic is a
//! bug in the code under test (fix it there, with a regression test beside the fix, and keep the
//! input in the corpus). The targets feed the bytes to the node's own entry points for outside
//! input:
//!
//! - [`extrinsic_decode`]: `decode_exact` of an extrinsic (RPC `sendTx`, gossip), the SCALE and
//!   JSON round trips, the pool's validity check (signatures, nonce, fee) against the dev genesis;
//! - [`block_decode`]: a `SignedBlock` and a `Header` as import and sync decode them, with the
//!   stateless checks (roots, seal, header rules, justification);
//! - [`block_import`]: the bytes as a peer's block (decode + `Client::import_block`) on a dev chain
//!   opened once per process, then the same block moved onto the best block and sealed by the dev
//!   authority (`import_blocks`, the sync path), so the fuzzer reaches header checks and execution
//!   instead of stopping at the seal;
//! - [`network_message`]: every network decoder (sync requests and responses, gossiped blocks,
//!   transaction batches, votes, justifications, status); a request is also served from the
//!   client and the answer checked against it, and a transaction batch goes through the gossip
//!   admission path;
//! - [`rpc_request`]: the `POST /rpc` JSON-RPC handler and every REST route with a JSON body, on
//!   the same client (with the dev sudo key, so admin bodies reach the runtime).
//!
//! The client of `block_import`, `network_message` and `rpc_request` lives for the whole process
//! (opening one per input would dominate the run), so inputs that are valid change the chain or
//! the pool for later ones; that is fine for finding panics, and replays need no fixed order.

use crate::workers::sync::{ClientProvider, TxBatch};
use aitbc_chain_spec::{ChainSpec, Genesis};
use aitbc_client::{Client, SignedBlockOf, Xt};
use aitbc_consensus::slots;
use aitbc_network::{self as network, SyncProvider, SyncRequest, SyncResponse};
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::{
    decode_exact, extrinsics_root, AccountId, Hash, Header, Justification, Pair, SignedVote,
    SigningContext, StateMachine,
};
use aitbc_rpc::methods;
use aitbc_runtime::{ComputeApi, Runtime};
use aitbc_txpool::PoolLimits;
use codec::{Decode, Encode};
use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// A fuzz target: takes any bytes, never panics.
pub type Target = fn(&[u8]);

/// The fuzz targets, by name (the directory names under `node/fuzz/corpus/`).
pub const TARGETS: [(&str, Target); 5] = [
    ("extrinsic_decode", extrinsic_decode),
    ("block_decode", block_decode),
    ("block_import", block_import),
    ("network_message", network_message),
    ("rpc_request", rpc_request),
];

type Block = SignedBlockOf<Runtime>;

/// The dev chain's genesis and a runtime for it (no database).
struct Dev {
    genesis: Genesis,
    runtime: Runtime,
    authority: Pair,
}

fn dev() -> &'static Dev {
    static DEV: OnceLock<Dev> = OnceLock::new();
    DEV.get_or_init(|| {
        let genesis = ChainSpec::dev()
            .genesis()
            .expect("the dev preset builds; qed");
        Dev {
            runtime: Runtime::new(genesis.hash),
            genesis,
            authority: dev_pair("alice"),
        }
    })
}

impl Dev {
    fn authorities(&self) -> Vec<AccountId> {
        self.runtime.authorities(&self.genesis.state)
    }
}

/// A dev-chain client on a fresh database, opened once per process.
struct Node {
    client: Arc<Client<Runtime>>,
    rpc: aitbc_rpc::Detached<Runtime>,
    provider: ClientProvider<Runtime>,
}

fn node() -> &'static Node {
    static NODE: OnceLock<Node> = OnceLock::new();
    NODE.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("aitbc-fuzz-")
            .tempdir()
            .expect("a temporary directory");
        let client = crate::service::open_client(
            &ChainSpec::dev(),
            &dir.path().join("chain.redb"),
            PoolLimits::default(),
        )
        .expect("a fresh dev chain opens");
        // The database file stays open (and usable) after its directory is removed, so nothing is
        // left behind when the process ends without running destructors (as statics do).
        drop(dir);
        let client = Arc::new(client);
        Node {
            rpc: aitbc_rpc::Detached::new(
                client.clone(),
                Arc::new(aitbc_runtime_rpc::AitbcRpc::new(Some(dev_pair("alice")))),
            )
            .expect("an admission thread and a runtime start"),
            provider: ClientProvider::new(client.clone()),
            client,
        }
    })
}

/// Decodes `bytes` as a `T` the way hostile input is decoded (bounded, whole input) and checks
/// that the value encodes back to exactly `bytes`: SCALE has one encoding per value, and hashes
/// (transaction and block ids) are taken over encodings.
fn round_trip<T: Decode + Encode + Debug>(bytes: &[u8]) -> Option<T> {
    let value: T = decode_exact(bytes).ok()?;
    assert!(
        value.encode() == bytes,
        "{} decoded from {} bytes re-encodes differently: {value:?}",
        std::any::type_name::<T>(),
        bytes.len()
    );
    Some(value)
}

/// An extrinsic as the RPC and gossip decode it; its SCALE and JSON round trips; the pool's
/// validity check (signatures, nonce, fee) against the dev genesis state.
pub fn extrinsic_decode(data: &[u8]) {
    let Some(xt) = round_trip::<Xt<Runtime>>(data) else {
        return;
    };
    let dev = dev();
    // The JSON form (`tx --print-json`, `sendTx` with an object) is the same transaction.
    let json = methods::json_tx::<Runtime>(&xt);
    match methods::parse_tx_body::<Runtime>(&json) {
        Ok((back, len)) => {
            assert_eq!(back, xt, "the JSON form {json} is another transaction");
            assert_eq!(len, data.len());
        }
        Err(e) => panic!("the JSON form {json} of a decodable transaction is refused: {e:?}"),
    }
    let _ = dev.runtime.check_signatures(std::slice::from_ref(&xt));
    let _ = dev
        .runtime
        .validate_transaction(&dev.genesis.state, &xt, false);
    let _ = dev.runtime.fee(&dev.genesis.state, &xt);
    let _ = dev.runtime.claimed_receipt(&xt.call);
}

/// A block (and a header) as import and sync decode them, with the checks that need no state:
/// extrinsics root, seal, the header rules against the genesis header, the justification.
pub fn block_decode(data: &[u8]) {
    let dev = dev();
    let authorities = dev.authorities();
    let schedule = dev.runtime.author_schedule(&dev.genesis.state);
    let now = slots::slot_at(
        aitbc_consensus::Clock::now_ms(&aitbc_consensus::SystemClock),
        1000,
    );
    if let Some(header) = round_trip::<Header>(data) {
        let _ = header.hash();
        let _ = header.authorities_change();
        let _ = header.forced_authorities_change();
        let _ = slots::check_header(&header, &dev.genesis.header, &schedule, now);
    }
    let Some(block) = round_trip::<Block>(data) else {
        return;
    };
    let header = &block.block.header;
    let leaves: Vec<Hash> = block.block.extrinsics.iter().map(|x| x.hash()).collect();
    let _ = extrinsics_root(&leaves) == header.extrinsics_root;
    let _ = block.seal_is_valid(&dev.authority.public());
    let _ = slots::check_header(header, &dev.genesis.header, &schedule, now);
    let _ = dev.runtime.check_signatures(&block.block.extrinsics);
    if let Some(j) = &block.justification {
        let _ = j.verify(&authorities, 0, &dev.genesis.hash);
    }
}

/// The bytes as a block from a peer: decoded and imported like a gossiped block; then the same
/// block on the best block, sealed by the authority, imported like a synced one.
pub fn block_import(data: &[u8]) {
    let Ok(block) = decode_exact::<Block>(data) else {
        return;
    };
    let node = node();
    let _ = node.client.import_block(&block, None);

    let mut block = block;
    let best = node.client.best_header();
    let header = &mut block.block.header;
    header.parent_hash = best.hash();
    header.number = best.number.saturating_add(1);
    let hash = header.hash();
    block.seal = dev().authority.sign(SigningContext::Block, hash.as_bytes());
    let _ = node.client.import_blocks(std::slice::from_ref(&block));
}

/// Every decoder of network input: sync requests (served from the client, the answer checked
/// against the request) and responses (their blocks and votes decoded as catch-up does),
/// gossiped blocks, transaction batches (through the gossip admission path), votes,
/// justifications and status messages.
/// A restore with nothing persisted (the fuzzer's chunks start from scratch).
struct EmptyRestore;

impl aitbc_primitives::snapshot::RestoreSource for EmptyRestore {
    fn node(
        &self,
        _: &aitbc_primitives::commitment::TreeNodeKey,
    ) -> Result<
        Option<aitbc_primitives::commitment::TreeNode>,
        aitbc_primitives::commitment::CommitmentError,
    > {
        Ok(None)
    }
    fn rightmost_leaf(
        &self,
    ) -> Result<
        Option<(
            aitbc_primitives::commitment::TreeNodeKey,
            aitbc_primitives::snapshot::Leaf,
        )>,
        aitbc_primitives::commitment::CommitmentError,
    > {
        Ok(None)
    }
}

pub fn network_message(data: &[u8]) {
    let dev = dev();
    if let Some(request) = round_trip::<SyncRequest>(data) {
        let budget = 4 * 1024 * 1024;
        let node = node();
        let response = network::serve(&node.provider, request.clone(), budget);
        if let Err(e) = network::answers(&request, &response) {
            panic!("served {response:?} to {request:?}, which it does not answer: {e}");
        }
        let encoded = response.encode();
        assert_eq!(SyncResponse::decode_bytes(&encoded).as_ref(), Ok(&response));
        let _ = node.provider.status();
    }
    if let Some(response) = round_trip::<SyncResponse>(data) {
        match response {
            SyncResponse::Blocks(blocks) => {
                for b in &blocks {
                    let _ = decode_exact::<Block>(b);
                }
            }
            SyncResponse::Votes(votes) => {
                for v in &votes {
                    if let Ok(vote) = decode_exact::<SignedVote>(v) {
                        let _ = vote.verify(&dev.genesis.hash);
                    }
                }
            }
            SyncResponse::Peers(records) => {
                for r in records.iter() {
                    let _ = network::PeerId::from_bytes(&r.peer_id);
                    for a in r.addrs.iter() {
                        let _ = network::Multiaddr::try_from(a.to_vec());
                    }
                }
            }
            // What a warp-syncing node checks: a finality proof from genesis, a chunk against
            // the genesis state root.
            SyncResponse::FinalityProof(bytes) => {
                if let Ok(proof) = decode_exact::<aitbc_primitives::warp::FinalityProof>(&bytes) {
                    let genesis = aitbc_primitives::warp::Checkpoint::genesis(
                        dev.genesis.header.clone(),
                        vec![dev_pair("alice").public()],
                    );
                    let _ = genesis.verify(&proof);
                }
            }
            SyncResponse::StateChunk(bytes) => {
                if let Ok(chunk) = decode_exact::<aitbc_primitives::snapshot::StateChunk>(&bytes) {
                    let source = Arc::new(EmptyRestore);
                    if let Ok(mut r) = aitbc_primitives::snapshot::ChunkRestore::new(
                        source,
                        0,
                        dev.genesis.header.state_root,
                    ) {
                        let _ = r.add_chunk(&chunk);
                    }
                }
            }
            SyncResponse::Status(_) | SyncResponse::Error(_) => {}
        }
    }
    let _ = round_trip::<Block>(data);
    if round_trip::<TxBatch>(data).is_some() {
        let _ = crate::workers::sync::on_gossip_txs(&node().client, data);
    }
    if let Some(msg) = round_trip::<crate::workers::voting::VoteMessage>(data) {
        let _ = msg.vote.verify(&dev.genesis.hash);
    }
    if let Some(vote) = round_trip::<SignedVote>(data) {
        let _ = vote.verify(&dev.genesis.hash);
    }
    if let Some(j) = round_trip::<Justification>(data) {
        let _ = j.verify(&dev.authorities(), 0, &dev.genesis.hash);
    }
    let _ = round_trip::<network::Status>(data);
}

/// A `POST /rpc` body (JSON-RPC 2.0: one call, a batch or notifications) and the body of every
/// REST route that takes JSON (submit, fee estimate, admin), answered by the client.
pub fn rpc_request(data: &[u8]) {
    let node = node();
    let _ = node.rpc.jsonrpc(data);
    let _ = node.rpc.json_routes(data);
}

/// The directory of a target's committed corpus.
pub fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

/// Real, valid inputs for each target (a signed transfer, a dev block, real network messages,
/// real JSON-RPC requests): the seeds of the corpora, as (target, name, bytes).
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    use aitbc_primitives::extrinsic::TxParams;
    use aitbc_primitives::{ComputeReceipt, Extrinsic, ReceiptClaim, VoteKind, VoteTarget};
    use aitbc_runtime::{Call, Param};
    use serde_json::json;
    use std::time::{Duration, Instant};

    let dev = dev();
    let g = dev.genesis.hash;
    let alice = dev_pair("alice");
    let bob = dev_pair("bob").public();
    let coordinator = dev_pair("charlie");
    let miner = dev_pair("dave");
    let sign = |call: Call, nonce: u64| {
        Extrinsic::sign(
            &alice,
            call,
            TxParams {
                nonce,
                ..TxParams::default()
            },
            g,
        )
    };
    let receipt = ComputeReceipt {
        job_id: 7,
        client: alice.public(),
        miner: miner.public(),
        coordinator: coordinator.public(),
        compute_units: 10,
        price: 1_000,
        output_hash: Hash::of(b"output"),
    };
    let claim = ReceiptClaim {
        miner_sig: receipt.sign_as_miner(&miner, &g),
        attestation: receipt.attest(&coordinator, &g),
        receipt,
    };
    let mortal = Extrinsic::sign(
        &alice,
        Call::transfer(bob, 5),
        TxParams {
            nonce: 1,
            tip: 100,
            valid_until: Some(1_000),
        },
        g,
    );
    let xts: Vec<(&str, Xt<Runtime>)> = vec![
        ("transfer", sign(Call::transfer(bob, 1_000), 0)),
        ("transfer-mortal-tip", mortal),
        ("sudo-mint", sign(Call::sudo(Call::mint(bob, 10)), 0)),
        (
            "sudo-param",
            sign(Call::sudo(Call::set_param(Param::BaseFee(3))), 0),
        ),
        (
            "open-job",
            sign(Call::open_job(7, coordinator.public(), 1_000, 100), 0),
        ),
        ("claim", sign(Call::claim(claim), 0)),
        ("refund", sign(Call::refund(7), 0)),
        (
            "add-coordinator",
            sign(Call::sudo(Call::add_coordinator(bob)), 0),
        ),
    ];

    // Two blocks of a fresh dev chain: #1 with transfers, #2 empty.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let client = crate::service::open_client(
        &ChainSpec::dev(),
        &dir.path().join("chain.redb"),
        PoolLimits::default(),
    )
    .expect("a fresh dev chain opens");
    for nonce in 0..3 {
        let xt = sign(Call::transfer(bob, 1_000 + nonce as u128), nonce);
        let len = xt.encoded_size();
        client.submit_decoded(xt, len).expect("a valid transfer");
    }
    let slot = slots::slot_at(
        aitbc_consensus::Clock::now_ms(&aitbc_consensus::SystemClock),
        1000,
    );
    let author = |slot| {
        client
            .author_block(
                slot,
                Instant::now() + Duration::from_secs(1),
                &alice,
                |_| Ok(()),
            )
            .expect("authoring works")
            .expect("alice authors every slot")
            .1
    };
    let block1 = author(slot);
    let block2 = author(slot + 1);
    let target = VoteTarget {
        hash: block1.hash(),
        number: 1,
    };
    let vote = SignedVote::sign(&alice, VoteKind::Precommit, target, 1, 0, &g);
    let justification = Justification {
        round: 1,
        set_id: 0,
        target,
        precommits: aitbc_primitives::BoundedVec::try_from_vec(vec![vote.clone()])
            .expect("one vote; qed"),
        ancestry: aitbc_primitives::BoundedVec::new(),
    };
    let mut justified = block1.clone();
    justified.justification = Some(justification.clone());
    let status = ClientProvider::new(Arc::new(client)).status();

    let mut out: Vec<(&'static str, String, Vec<u8>)> = Vec::new();
    for (name, xt) in &xts {
        out.push(("extrinsic_decode", (*name).to_string(), xt.encode()));
    }
    let blocks = [
        ("block1", block1.encode()),
        ("block2", block2.encode()),
        ("block1-justified", justified.encode()),
    ];
    for (name, bytes) in &blocks {
        out.push(("block_decode", (*name).to_string(), bytes.clone()));
        out.push(("block_import", (*name).to_string(), bytes.clone()));
    }
    out.push((
        "block_decode",
        "header-genesis".into(),
        dev.genesis.header.encode(),
    ));
    out.push((
        "block_decode",
        "header1".into(),
        block1.block.header.encode(),
    ));

    let batch: TxBatch = aitbc_primitives::BoundedVec::try_from_vec(
        xts.iter().take(2).map(|(_, xt)| xt.encode()).collect(),
    )
    .expect("two transactions; qed");
    let hashes = aitbc_primitives::BoundedVec::try_from_vec(vec![dev.genesis.hash, block1.hash()])
        .expect("two hashes; qed");
    let messages: Vec<(&str, Vec<u8>)> = vec![
        ("request-status", SyncRequest::Status.encode()),
        (
            "request-range",
            SyncRequest::BlocksByRange { from: 0, count: 16 }.encode(),
        ),
        ("request-hash", SyncRequest::BlocksByHash(hashes).encode()),
        ("request-votes", SyncRequest::Votes { round: 1 }.encode()),
        ("response-status", SyncResponse::Status(status).encode()),
        (
            "response-blocks",
            SyncResponse::Blocks(vec![block1.encode(), block2.encode()]).encode(),
        ),
        (
            "response-votes",
            SyncResponse::Votes(vec![vote.encode()]).encode(),
        ),
        ("response-error", SyncResponse::error("busy").encode()),
        ("gossip-block", justified.encode()),
        ("gossip-txs", batch.encode()),
        (
            "gossip-vote",
            crate::workers::voting::VoteMessage {
                vote: vote.clone(),
                resend: 0,
            }
            .encode(),
        ),
        ("vote", vote.encode()),
        ("justification", justification.encode()),
        ("status", status.encode()),
    ];
    for (name, bytes) in messages {
        out.push(("network_message", name.to_string(), bytes));
    }

    let hex_tx = |xt: &Xt<Runtime>| format!("0x{}", hex::encode(xt.encode()));
    let transfer = &xts[0].1;
    let alice_addr = alice.public().to_string();
    let bob_addr = bob.to_string();
    let rpc = |method: &str, params: serde_json::Value| json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let requests = vec![
        ("getHead", rpc("getHead", json!([]))),
        ("getBlock-number", rpc("getBlock", json!([1]))),
        ("getBlock-hash", rpc("getBlock", json!([block1.hash()]))),
        ("getBlockEvents", rpc("getBlockEvents", json!(["1"]))),
        ("getTx", rpc("getTx", json!([transfer.hash()]))),
        ("getBalance", rpc("getBalance", json!([alice_addr]))),
        ("sendTx-hex", rpc("sendTx", json!([hex_tx(transfer)]))),
        (
            "sendTx-json",
            rpc("sendTx", json!([methods::json_tx::<Runtime>(transfer)])),
        ),
        (
            "submitReceipt",
            rpc("submitReceipt", json!([hex_tx(&xts[5].1)])),
        ),
        ("estimateFee", rpc("estimateFee", json!([hex_tx(transfer)]))),
        (
            "getReceipt",
            rpc("getReceipt", json!([Hash::of(b"receipt")])),
        ),
        ("getJob", rpc("getJob", json!([alice_addr, 7]))),
        (
            "batch",
            json!([rpc("getHead", json!([])), {"jsonrpc": "2.0", "method": "getBalance", "params": [bob_addr]}]),
        ),
        (
            "notification",
            json!({"jsonrpc": "2.0", "method": "getHead"}),
        ),
        ("body-tx-hex", json!({ "tx": hex_tx(&xts[1].1) })),
        ("body-tx-json", methods::json_tx::<Runtime>(&xts[4].1)),
        ("body-mint", json!({"address": bob_addr, "amount": "1000"})),
        ("body-param", json!({"key": "base_fee", "value": 2})),
        ("body-coordinator", json!({ "address": bob_addr })),
    ];
    for (name, body) in requests {
        out.push((
            "rpc_request",
            name.to_string(),
            body.to_string().into_bytes(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays every committed corpus file through its target (the corpora double as
    /// regression tests on stable Rust).
    #[test]
    fn corpora_replay_without_panics() {
        for (name, target) in TARGETS {
            let dir = corpus_dir(name);
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("corpus {} is missing: {e}", dir.display()))
                .map(|entry| entry.unwrap().path())
                .filter(|p| p.is_file())
                .collect();
            assert!(!files.is_empty(), "corpus {} is empty", dir.display());
            files.sort();
            for file in files {
                let bytes = std::fs::read(&file).unwrap();
                let run = std::panic::catch_unwind(|| target(&bytes));
                assert!(run.is_ok(), "{name} panics on {}", file.display());
            }
        }
    }

    /// The seeds are what they claim: every one is accepted by the decoder it seeds, and the dev
    /// blocks import on a fresh chain.
    #[test]
    fn seeds_are_valid_inputs() {
        let seeds = seeds();
        for (target, name, bytes) in &seeds {
            match *target {
                "extrinsic_decode" => {
                    let xt = decode_exact::<Xt<Runtime>>(bytes).unwrap();
                    assert!(xt.signature_is_valid(dev().genesis.hash, aitbc_primitives::TX_VERSION));
                }
                "block_decode" | "block_import" if name.starts_with("header") => {
                    decode_exact::<Header>(bytes).unwrap();
                }
                "block_decode" | "block_import" => {
                    decode_exact::<Block>(bytes).unwrap();
                }
                "rpc_request" => {
                    serde_json::from_slice::<serde_json::Value>(bytes).unwrap();
                }
                _ => {}
            }
            (TARGETS.iter().find(|(t, _)| t == target).unwrap().1)(bytes);
        }
        // The dev blocks go all the way through import: block #1 is on the fuzzing client's chain.
        assert!(node().client.best().number >= 1);
    }

    /// Writes the seeds into the corpus directories (`seed-<name>`); run by hand before
    /// `cargo fuzz cmin`: `cargo test -p aitbc-node --lib fuzzing::tests::write_seed_corpora
    /// -- --ignored`.
    #[test]
    #[ignore]
    fn write_seed_corpora() {
        for (target, name, bytes) in seeds() {
            let dir = corpus_dir(target);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
        }
    }
}
