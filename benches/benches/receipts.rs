//! The compute-receipt claim path: the pool's check of one claim and full blocks of claims.
//! - `receipts::validate_claim/signatures=3`: `validate_transaction` of one claim with its three
//!   signatures (transaction, miner, attestation): the pool's admission cost per claim.
//! - `receipts::validate_claim/signatures=0`: the same without the signatures (the pool's
//!   revalidation after each block).
//! - `receipts::build_block/claims=N`: initialize, apply N pre-verified claims (each settles an
//!   escrow, pays the miner, returns the rest to the client, mints to miner and coordinator and
//!   records the receipt), finalize with the state root: the author's cost.
//! - `receipts::import_block/claims=N`: batch-verify the 3N signatures and re-execute the block:
//!   the importer's cost.
//!
//! State: N funded accounts, each the client of one open escrow (opened in block 1) and the
//! miner of its neighbour's; //coordinator registered and attesting every receipt.

use aitbc_primitives::commitment::MemoryState;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{
    Block, BlockContext, ComputeReceipt, Extrinsic, Hash, Pair, ReceiptClaim, StateMachine,
};
use aitbc_runtime::{Call, GenesisConfig, Params, Runtime};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const N: usize = 1_000;
const JOB: u64 = 1;

struct Setup {
    rt: Runtime,
    /// The state after block 1 (every escrow open).
    state: MemoryState,
    claims: Vec<Extrinsic<Call>>,
}

fn pair(uri: &str) -> Pair {
    Pair::from_uri(uri).expect("valid uri")
}

fn sign(who: &Pair, call: Call, nonce: u64, genesis: Hash) -> Extrinsic<Call> {
    let params = TxParams {
        nonce,
        ..TxParams::default()
    };
    Extrinsic::sign(who, call, params, genesis)
}

/// Executes `xts` as block `number` on `state` (signatures pre-verified) and returns the block.
fn build(
    rt: &Runtime,
    state: &MemoryState,
    number: u64,
    xts: &[Extrinsic<Call>],
) -> (
    Block<Extrinsic<Call>>,
    aitbc_primitives::ExecutedBlock<aitbc_runtime::Event>,
) {
    let ctx = BlockContext {
        parent_hash: Hash::ZERO,
        number,
        slot: number,
    };
    let mut pending = rt.initialize_block(state, ctx);
    for xt in xts {
        let outcome = rt
            .apply_extrinsic(state, &mut pending, xt, true)
            .expect("valid transaction");
        assert!(outcome.success, "{outcome:?}");
    }
    let executed = rt.finalize_block(state, pending).expect("finalize");
    let block = Block {
        header: executed.header.clone(),
        extrinsics: xts.to_vec(),
    };
    (block, executed)
}

fn setup() -> Setup {
    let accounts: Vec<Pair> = (0..N).map(|i| pair(&format!("//claims//{i}"))).collect();
    let alice = pair("//alice").public();
    let coordinator = pair("//coordinator");
    let config = GenesisConfig {
        slot_duration_ms: 1000,
        balances: accounts
            .iter()
            .map(|p| (p.public(), 1_000_000_000))
            .collect(),
        authorities: vec![alice],
        coordinators: vec![coordinator.public()],
        sudo: Some(alice),
        treasury: pair("//treasury").public(),
        faucet: false,
        params: Params::default(),
    };
    let mut state = MemoryState::new();
    state
        .apply(&config.build().expect("genesis"))
        .expect("commit");
    let genesis = Hash::of(b"bench genesis");
    let rt = Runtime::new(genesis);

    // Block 1: every account opens an escrow.
    let opens: Vec<_> = accounts
        .iter()
        .map(|p| {
            sign(
                p,
                Call::open_job(JOB, coordinator.public(), 1_000, 1_000),
                0,
                genesis,
            )
        })
        .collect();
    let (_, executed) = build(&rt, &state, 1, &opens);
    state.apply_update(
        &executed.changes,
        std::sync::Arc::unwrap_or_clone(executed.commitment),
    );

    // Account i mines account i+1's job and claims it.
    let claims = accounts
        .iter()
        .enumerate()
        .map(|(i, miner)| {
            let client = &accounts[(i + 1) % N];
            let receipt = ComputeReceipt {
                job_id: JOB,
                client: client.public(),
                miner: miner.public(),
                coordinator: coordinator.public(),
                compute_units: 5,
                price: 800,
                output_hash: Hash::of(&(i as u64).to_le_bytes()),
            };
            let claim = ReceiptClaim {
                miner_sig: receipt.sign_as_miner(miner, &genesis),
                attestation: receipt.attest(&coordinator, &genesis),
                receipt,
            };
            sign(miner, Call::claim(claim), 1, genesis)
        })
        .collect();
    Setup { rt, state, claims }
}

fn bench(c: &mut Criterion) {
    let Setup { rt, state, claims } = setup();
    let mut g = c.benchmark_group("receipts::validate_claim");
    g.bench_function("signatures=3", |b| {
        b.iter(|| {
            rt.validate_transaction(&state, &claims[0], false)
                .expect("valid claim")
        })
    });
    g.bench_function("signatures=0", |b| {
        b.iter(|| {
            rt.validate_transaction(&state, &claims[0], true)
                .expect("valid claim")
        })
    });
    g.finish();
    let mut g = c.benchmark_group("receipts::build_block");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function(format!("claims={N}"), |b| {
        b.iter(|| build(&rt, &state, 2, &claims))
    });
    g.finish();
    let (block, _) = build(&rt, &state, 2, &claims);
    let mut g = c.benchmark_group("receipts::import_block");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function(format!("claims={N}"), |b| {
        b.iter(|| aitbc_benches::fixture::import_block(&rt, &state, &block))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
