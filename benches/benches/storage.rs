//! The chain database: `ChainDb::commit_block` of a full block into a real redb file.
//! - `storage::commit_block/transfers=N`: one durable write (fsync) of an executed full block of
//!   N neighbour transfers (N: what the runtime's limits let into a block, at most 20,000): block
//!   and header bytes, canonical index, N transaction records with their outcomes, the state changes (2N account keys and the totals) and the jmt nodes it
//!   created and made stale, head and finalized marks. Final at once, as on the dev node (no
//!   undo log).
//!
//! Setup (untimed): a genesis endowing the N senders; `BLOCKS` consecutive blocks executed on an
//! in-memory state (the same tree nodes as on disk). The timed loop commits them in order into a
//! database in a tempdir opened with that genesis, and starts on a fresh database when they are
//! used up. The database's size per committed transfer is printed at the end.

use aitbc_benches::fixture::{self, FULL_BLOCK};
use aitbc_primitives::bulk::SortedState;
use aitbc_primitives::{AccountId, ExecutedBlock, Extrinsic, Hash, Signature, SignedBlock};
use aitbc_runtime::{Call, Event};
use aitbc_storage::{BlockRef, BlockWrite, ChainDb, GenesisWrite, StoredBlock, TxRecord};
use codec::Encode;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use std::time::{Duration, Instant};

const BLOCKS: usize = 4;

struct Prepared {
    encoded_header: Vec<u8>,
    encoded_block: Vec<u8>,
    at: BlockRef,
    txs: Vec<(Hash, TxRecord)>,
    executed: ExecutedBlock<Event>,
}

struct Genesis {
    hash: Hash,
    encoded_header: Vec<u8>,
    encoded_block: Vec<u8>,
    state: SortedState,
}

fn prepare(
    at: BlockRef,
    block: aitbc_primitives::Block<Extrinsic<Call>>,
    executed: ExecutedBlock<Event>,
) -> Prepared {
    let signed = SignedBlock {
        block,
        seal: Signature([3; 64]),
        justification: None,
    };
    let header = &signed.block.header;
    // As `Client` records them.
    let txs = TxRecord::for_block(at, header, &signed.block.extrinsics, &executed.outcomes);
    Prepared {
        encoded_header: header.encode(),
        encoded_block: signed.encode(),
        at,
        txs,
        executed,
    }
}

fn setup() -> (Genesis, Vec<Prepared>, usize) {
    let senders = fixture::senders(FULL_BLOCK);
    let (rt, mut state, genesis_hash) = fixture::genesis_state(&senders);
    let n = fixture::full_block_len(
        &rt,
        &state,
        &fixture::neighbour_transfers(&senders, 0, genesis_hash),
    );
    let genesis_header = aitbc_primitives::Header {
        parent_hash: Hash::ZERO,
        number: 0,
        slot: 0,
        state_root: state.root(),
        extrinsics_root: aitbc_primitives::extrinsics_root(&[]),
        digest: aitbc_primitives::BoundedVec::new(),
    };
    let genesis_block = SignedBlock::<Extrinsic<Call>> {
        block: aitbc_primitives::Block {
            header: genesis_header.clone(),
            extrinsics: Vec::new(),
        },
        seal: Signature([0; 64]),
        justification: None,
    };
    let genesis = Genesis {
        hash: genesis_header.hash(),
        encoded_header: genesis_header.encode(),
        encoded_block: genesis_block.encode(),
        state: SortedState::from_changes(
            fixture::genesis_config(&senders).build().expect("genesis"),
        ),
    };
    let mut parent = genesis.hash;
    let mut blocks = Vec::new();
    for b in 0..BLOCKS {
        let mut xts = fixture::neighbour_transfers(&senders, b as u64, genesis_hash);
        xts.truncate(n);
        let (block, executed) = fixture::build_block(&rt, &state, parent, b as u64 + 1, &xts);
        state.apply_update(&executed.changes, (*executed.commitment).clone());
        let at = BlockRef {
            number: b as u64 + 1,
            hash: block.header.hash(),
        };
        parent = at.hash;
        blocks.push(prepare(at, block, executed));
    }
    (genesis, blocks, n)
}

fn open(g: &Genesis) -> (tempfile::TempDir, ChainDb) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = ChainDb::open(
        &dir.path().join("chain.redb"),
        &GenesisWrite {
            hash: g.hash,
            encoded_header: &g.encoded_header,
            encoded_block: &g.encoded_block,
            state: &g.state,
            state_policy: Default::default(),
        },
    )
    .expect("open db");
    (dir, db)
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum()
}

fn bench(c: &mut Criterion) {
    let (genesis, blocks, n) = setup();
    let (mut dir, mut db) = open(&genesis);
    let genesis_bytes = dir_bytes(dir.path());
    let mut next = 0usize;
    let mut growth: Vec<f64> = Vec::new();
    let mut g = c.benchmark_group("storage::commit_block");
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("transfers={n}"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                if next == blocks.len() {
                    growth
                        .push((dir_bytes(dir.path()) - genesis_bytes) as f64 / (BLOCKS * n) as f64);
                    (dir, db) = open(&genesis);
                    next = 0;
                }
                let p = &blocks[next];
                next += 1;
                let write = BlockWrite {
                    block: StoredBlock {
                        at: p.at,
                        encoded_header: &p.encoded_header,
                        encoded_block: &p.encoded_block,
                        author: Some(AccountId([9; 32])),
                    },
                    txs: p.txs.clone(),
                    changes: &p.executed.changes,
                    commitment: &p.executed.commitment,
                    finalized: true,
                    voter_set: None,
                    justification: None,
                    set_change: false,
                };
                let t = Instant::now();
                db.commit_block(&write).expect("commit");
                total += t.elapsed();
            }
            total
        })
    });
    g.finish();
    if let Some(b) = growth.last() {
        eprintln!(
            "storage::commit_block/transfers={n}: the redb file grew {b:.0} bytes per transfer over \
             {BLOCKS} blocks (after genesis: {genesis_bytes} bytes for {FULL_BLOCK} accounts)"
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
