//! The state commitment: a block's state root (jmt over blake2b-256) on a large state.
//! - `state_root::update/keys=K,updates=U`: applies U changed keys to a state of K keys and
//!   computes the new root (the per-block cost the node pays; a full block of 20,000 neighbour
//!   transfers changes ~20,000 account keys plus a few totals).
//! - `state_root::prove_verify/keys=K`: makes an inclusion proof and checks it.

use aitbc_primitives::commitment::{verify_proof, MemoryState, StateChanges};
use aitbc_primitives::StateView;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

fn key(i: u64) -> Vec<u8> {
    aitbc_primitives::blake2_256(&i.to_le_bytes()).to_vec()
}

fn state(keys: u64) -> MemoryState {
    let mut s = MemoryState::new();
    for chunk in (0..keys).collect::<Vec<_>>().chunks(50_000) {
        let changes: StateChanges = chunk
            .iter()
            .map(|i| (key(*i), Some(vec![1u8; 48])))
            .collect();
        s.apply(&changes).expect("in-memory commit");
    }
    s
}

fn bench(c: &mut Criterion) {
    const KEYS: u64 = 200_000;
    const UPDATES: u64 = 10_000;
    let base = state(KEYS);
    let mut g = c.benchmark_group("state_root::update");
    g.sample_size(10);
    g.throughput(Throughput::Elements(UPDATES));
    g.bench_function(format!("keys={KEYS},updates={UPDATES}"), |b| {
        b.iter_batched(
            || {
                (0..UPDATES)
                    .map(|i| (key(i * 7 % KEYS), Some(vec![2u8; 48])))
                    .collect::<StateChanges>()
            },
            |changes| base.commit(&changes).expect("commit"),
            BatchSize::LargeInput,
        )
    });
    g.finish();
    let root = base.root();
    let k = key(42);
    let mut g = c.benchmark_group("state_root::prove_verify");
    g.bench_function(format!("keys={KEYS}"), |b| {
        b.iter(|| {
            let (v, proof) = base.prove(&k).expect("prove");
            assert!(verify_proof(&root, &k, v.as_deref(), &proof));
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
