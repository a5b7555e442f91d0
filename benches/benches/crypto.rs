//! sr25519 signature checks, as the node makes them.
//! - `crypto::verify_batch/signatures=N`: `aitbc_primitives::crypto::verify_batch` (what
//!   `Runtime::check_signatures` calls on a block's transactions at import) of N signed
//!   transfers' payloads by N distinct signers (public keys decompressed in the batch, as at
//!   import).
//! - `crypto::verify/single`: `Signature::verify` of one transfer payload (what pool admission
//!   does for each transaction).

use aitbc_benches::fixture;
use aitbc_primitives::crypto::{verify_batch, SignatureCheck};
use aitbc_primitives::{Hash, SigningContext, TX_VERSION};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

const SIZES: [usize; 4] = [1, 256, 1024, 4096];

fn bench(c: &mut Criterion) {
    let max = SIZES[SIZES.len() - 1];
    let senders = fixture::senders(max);
    let genesis = Hash::of(b"bench genesis");
    let xts = fixture::neighbour_transfers(&senders, 0, genesis);
    let payloads: Vec<Vec<u8>> = xts
        .iter()
        .map(|xt| xt.signing_payload(genesis, TX_VERSION))
        .collect();
    let checks: Vec<SignatureCheck<'_>> = xts
        .iter()
        .zip(&payloads)
        .map(|(xt, message)| SignatureCheck {
            context: SigningContext::Transaction,
            message,
            signer: xt.signer,
            signature: xt.signature,
        })
        .collect();

    let mut g = c.benchmark_group("crypto::verify_batch");
    for n in SIZES {
        g.throughput(Throughput::Elements(n as u64));
        if n >= 1024 {
            g.sample_size(20);
        }
        g.bench_function(format!("signatures={n}"), |b| {
            b.iter(|| assert!(verify_batch(black_box(&checks[..n]))))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("crypto::verify");
    g.throughput(Throughput::Elements(1));
    g.bench_function("single", |b| {
        b.iter(|| {
            assert!(xts[0].signature.verify(
                SigningContext::Transaction,
                black_box(&payloads[0]),
                &xts[0].signer
            ))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
