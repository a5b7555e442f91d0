//! The sync import path: a fresh node importing a chain of full blocks of signed transfers.
//! - `sync::import_blocks/transfers=N`: `Client::import_blocks` of `BLOCKS` full blocks of N
//!   transfers each (N: what the runtime's limits let into a block, at most 20,000) into a fresh
//!   client (its own redb file): header and seal checks, the transactions'
//!   signatures batch-verified on a second thread while the previous block executes, execution
//!   with the state-root check and one durable commit per block. Throughput is in transfers; the
//!   blocks/s and transfers/s of the run are printed at the end.
//!
//! Setup (not timed): one client on a `dev`-like spec (single authority //alice, 1000 ms slots)
//! whose genesis endows N sender accounts authors `BLOCKS` blocks on past slots; in each block
//! every sender pays its neighbour (one transaction per sender per block, as `aitbc-load` sends).
//! Each timed iteration opens a fresh client on a fresh database first, untimed.

use aitbc_benches::fixture;
use aitbc_chain_spec::ChainSpec;
use aitbc_client::{Client, SignedBlockOf};
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::Extrinsic;
use aitbc_runtime::{Call, Runtime};
use aitbc_txpool::PoolLimits;
use codec::Encode;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::cell::RefCell;
use std::time::{Duration, Instant};

/// Blocks per import.
const BLOCKS: usize = 4;

struct Chain {
    /// Transfers per block.
    n: usize,
    spec: ChainSpec,
    blocks: Vec<SignedBlockOf<Runtime>>,
}

fn open(spec: &ChainSpec, dir: &std::path::Path, n: usize) -> Client<Runtime> {
    aitbc_node::service::open_client(
        spec,
        &dir.join("chain.redb"),
        PoolLimits {
            max_txs: 2 * n,
            max_bytes: 64 * 1024 * 1024,
            ..PoolLimits::default()
        },
    )
    .expect("open client")
}

/// Authors the chain (see the module docs).
fn prepare() -> Chain {
    let mut senders = fixture::senders(fixture::FULL_BLOCK);
    let n = {
        let (rt, state, genesis) = fixture::genesis_state(&senders);
        let xts = fixture::neighbour_transfers(&senders, 0, genesis);
        fixture::full_block_len(&rt, &state, &xts)
    };
    senders.truncate(n);
    let spec = fixture::dev_spec("bench_sync", &senders);
    let genesis = spec.genesis().expect("genesis").hash;
    let dir = tempfile::tempdir().expect("tempdir");
    let client = open(&spec, dir.path(), n);
    let alice = dev_pair("alice");
    let slot_ms = spec.genesis.slot_duration_ms;
    let now_slot = aitbc_consensus::Clock::now_ms(&aitbc_consensus::SystemClock) / slot_ms;
    // Far enough in the past that the run stays on past slots.
    let first_slot = now_slot - BLOCKS as u64 - 1_000;
    let mut blocks = Vec::with_capacity(BLOCKS);
    for b in 0..BLOCKS {
        let xts: Vec<Extrinsic<Call>> = std::thread::scope(|scope| {
            let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
            let chunk = n.div_ceil(threads);
            let handles: Vec<_> = (0..n)
                .step_by(chunk)
                .map(|start| {
                    let senders = &senders;
                    scope.spawn(move || {
                        (start..(start + chunk).min(n))
                            .map(|i| {
                                let params = TxParams {
                                    nonce: b as u64,
                                    ..TxParams::default()
                                };
                                let to = senders[(i + 1) % n].public();
                                Extrinsic::sign(&senders[i], Call::transfer(to, 1), params, genesis)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("signing thread"))
                .collect()
        });
        for xt in xts {
            let len = xt.encoded_size();
            client.submit_decoded(xt, len).expect("submit");
        }
        let (_, signed) = client
            .author_block(
                first_slot + b as u64,
                Instant::now() + Duration::from_secs(600),
                &alice,
                |_| Ok(()),
            )
            .expect("author")
            .expect("authored");
        assert_eq!(
            signed.block.extrinsics.len(),
            n,
            "block {b} is not full: raise the block limits or lower n"
        );
        blocks.push(signed);
    }
    let bytes: usize = blocks.iter().map(|b| b.encoded_size()).sum();
    eprintln!(
        "sync bench: {BLOCKS} blocks of {n} transfers ({:.1} MiB encoded)",
        bytes as f64 / (1024.0 * 1024.0)
    );
    Chain { n, spec, blocks }
}

fn import_blocks(c: &mut Criterion) {
    let chain = prepare();
    let n = chain.n;
    let runs: RefCell<Vec<Duration>> = RefCell::default();
    let mut group = c.benchmark_group("sync::import_blocks");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(40));
    group.throughput(Throughput::Elements((n * BLOCKS) as u64));
    group.bench_function(format!("transfers={n}"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir().expect("tempdir");
                let client = open(&chain.spec, dir.path(), n);
                let started = Instant::now();
                let results = client.import_blocks(&chain.blocks);
                let took = started.elapsed();
                for r in results {
                    r.expect("import");
                }
                assert_eq!(client.best().number, BLOCKS as u64);
                total += took;
                runs.borrow_mut().push(took);
            }
            total
        })
    });
    group.finish();
    let mut runs = runs.into_inner();
    runs.sort();
    if let Some(median) = runs.get(runs.len() / 2) {
        let secs = median.as_secs_f64();
        eprintln!(
            "sync::import_blocks/transfers={n}: median of {} imports of {BLOCKS} blocks: {:.0} ms, \
             {:.1} blocks/s, {:.0} transfers/s",
            runs.len(),
            secs * 1000.0,
            BLOCKS as f64 / secs,
            (n * BLOCKS) as f64 / secs
        );
    }
}

criterion_group!(benches, import_blocks);
criterion_main!(benches);
