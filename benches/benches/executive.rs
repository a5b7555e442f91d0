//! The executive on a full block of signed transfers (each sender pays its neighbour, as
//! `aitbc-load` sends), on an in-memory state of the block's senders.
//! - `executive::build_block/transfers=N`: initialize, apply N transfers whose signatures the
//!   pool already checked, finalize with the state root: the author's cost.
//! - `executive::import_block/transfers=N`: batch-verify the N signatures and re-execute the
//!   block with the state-root check: the importer's cost (no storage; see `storage` and
//!   `sync` for the durable write and the whole import path).
//!
//! N is a full block: as many of 20,000 transfers as the runtime's limits (count, bytes, weight)
//! let into one block (`fixture::full_block_len`), what the dev node fills.

use aitbc_benches::fixture::{self, FULL_BLOCK};
use aitbc_primitives::Hash;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let senders = fixture::senders(FULL_BLOCK);
    let (rt, state, genesis) = fixture::genesis_state(&senders);
    let mut xts = fixture::neighbour_transfers(&senders, 0, genesis);
    let n = fixture::full_block_len(&rt, &state, &xts);
    xts.truncate(n);
    eprintln!("executive: a full block holds {n} transfers");

    let mut g = c.benchmark_group("executive::build_block");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("transfers={n}"), |b| {
        b.iter(|| fixture::build_block(&rt, &state, Hash::ZERO, 1, &xts))
    });
    g.finish();

    let (block, _) = fixture::build_block(&rt, &state, Hash::ZERO, 1, &xts);
    let mut g = c.benchmark_group("executive::import_block");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("transfers={n}"), |b| {
        b.iter(|| fixture::import_block(&rt, &state, &block))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
