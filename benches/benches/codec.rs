//! SCALE wire formats.
//! - `codec::encode_extrinsic/call=transfer` and `codec::decode_extrinsic/call=transfer`: one
//!   signed transfer (what `sendTx` and transaction gossip carry), decoded exactly (no trailing
//!   bytes), as the RPC and gossip do.
//! - `codec::decode_block/transfers=N`: a sealed full block (`SignedBlock`, as gossip and sync
//!   carry it) of N signed transfers (N: what the runtime's limits let into a block).

use aitbc_benches::fixture::{self, FULL_BLOCK};
use aitbc_primitives::{decode_exact, Block, Extrinsic, Hash, Header, Signature, SignedBlock};
use aitbc_runtime::Call;
use codec::Encode;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let senders = fixture::senders(FULL_BLOCK);
    let (rt, state, genesis) = fixture::genesis_state(&senders);
    let mut xts = fixture::neighbour_transfers(&senders, 0, genesis);
    let n = fixture::full_block_len(&rt, &state, &xts);
    xts.truncate(n);
    let xt = xts[0].clone();
    let bytes = xt.encode();

    let mut g = c.benchmark_group("codec::encode_extrinsic");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("call=transfer", |b| b.iter(|| black_box(&xt).encode()));
    g.finish();

    let mut g = c.benchmark_group("codec::decode_extrinsic");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("call=transfer", |b| {
        b.iter(|| decode_exact::<Extrinsic<Call>>(black_box(&bytes)).expect("decodes"))
    });
    g.finish();

    let header = Header {
        parent_hash: Hash::of(b"parent"),
        number: 1,
        slot: 1,
        state_root: Hash::of(b"state"),
        extrinsics_root: Hash::of(b"extrinsics"),
        digest: aitbc_primitives::BoundedVec::new(),
    };
    let block = SignedBlock {
        block: Block {
            header,
            extrinsics: xts,
        },
        seal: Signature([7; 64]),
        justification: None,
    }
    .encode();
    eprintln!(
        "codec: a transfer is {} bytes, a block of {n} is {:.2} MiB",
        bytes.len(),
        block.len() as f64 / (1024.0 * 1024.0)
    );
    let mut g = c.benchmark_group("codec::decode_block");
    g.sample_size(20);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("transfers={n}"), |b| {
        b.iter(|| decode_exact::<SignedBlock<Extrinsic<Call>>>(black_box(&block)).expect("decodes"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
