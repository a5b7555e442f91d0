//! The executive on full blocks of signed transfers, each to a new account (the worst case).
//! - `executive::build/transfers=N`: initialize, apply N pre-verified transfers, finalize (state
//!   root included): the author's cost.
//! - `executive::import/transfers=N`: batch-verify the N signatures and re-execute the block: the
//!   importer's cost.

use aitbc_primitives::commitment::MemoryState;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{Block, BlockContext, Extrinsic, Hash, Pair, StateMachine};
use aitbc_runtime::{balances, Call, GenesisConfig, Params, Runtime};
use criterion::{criterion_group, criterion_main, Criterion};

const N: usize = 2_000;

fn setup() -> (Runtime, MemoryState, Vec<Extrinsic<Call>>) {
    let senders: Vec<Pair> = (0..N)
        .map(|i| Pair::from_uri(&format!("//bench//{i}")).expect("uri"))
        .collect();
    let alice = Pair::from_uri("//alice").expect("uri").public();
    let config = GenesisConfig {
        slot_duration_ms: 1000,
        balances: senders
            .iter()
            .map(|p| (p.public(), 1_000_000_000))
            .collect(),
        authorities: vec![alice],
        coordinators: vec![],
        sudo: Some(alice),
        treasury: Pair::from_uri("//treasury").expect("uri").public(),
        faucet: false,
        params: Params::default(),
    };
    let mut state = MemoryState::new();
    state
        .apply(&config.build().expect("genesis"))
        .expect("commit");
    let genesis = Hash::of(b"bench genesis");
    let xts = senders
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let dest = Pair::from_uri(&format!("//new//{i}"))
                .expect("uri")
                .public();
            Extrinsic::sign(
                p,
                Call::Balances(balances::Call::Transfer {
                    dest,
                    amount: 1_000,
                }),
                TxParams::default(),
                genesis,
            )
        })
        .collect();
    (Runtime::new(genesis), state, xts)
}

fn build(rt: &Runtime, state: &MemoryState, xts: &[Extrinsic<Call>]) -> Block<Extrinsic<Call>> {
    let ctx = BlockContext {
        parent_hash: Hash::ZERO,
        number: 1,
        slot: 1,
    };
    let mut pending = rt.initialize_block(state, ctx);
    for xt in xts {
        rt.apply_extrinsic(state, &mut pending, xt, true)
            .expect("valid transfer");
    }
    let executed = rt.finalize_block(state, pending).expect("finalize");
    Block {
        header: executed.header,
        extrinsics: xts.to_vec(),
    }
}

fn bench(c: &mut Criterion) {
    let (rt, state, xts) = setup();
    let mut g = c.benchmark_group("executive");
    g.sample_size(10);
    g.bench_function(format!("build/transfers={N}"), |b| {
        b.iter(|| build(&rt, &state, &xts))
    });
    let block = build(&rt, &state, &xts);
    g.bench_function(format!("import/transfers={N}"), |b| {
        b.iter(|| {
            rt.check_signatures(&block.extrinsics)
                .expect("valid signatures");
            rt.execute_block(&state, &block, true).expect("valid block")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
