//! The transaction pool (`aitbc_txpool::TxPool`) at its limits.
//!
//! Setup: a pool with the node's default limits (65,536 transactions, 32 MiB) filled to the
//! transaction limit by `SENDERS` senders with `PER_SENDER` ready transfers each (nonces from 0,
//! priorities spread over 1..=100, as tips per byte would). Signatures play no part in the pool
//! (they are checked before `submit`), so the transfers carry placeholder signatures.
//! - `pool::insert/txs=65536,senders=S`: submit one more transfer, from a new sender with a
//!   higher priority than any pooled one: the pool is full, so it picks and evicts a victim.
//!   The pool is refilled (untimed) every `REFILL` inserts so it stays at its steady shape.
//! - `pool::select/txs=65536,senders=S,take=N`: iterate the ready transactions in block order
//!   (priority, then arrival; each sender's in nonce order) and take a full block's worth, as
//!   `Client::build_block` does.

use aitbc_benches::fixture::FULL_BLOCK;
use aitbc_primitives::{AccountId, Extrinsic, Hash, Signature, ValidTransaction};
use aitbc_runtime::Call;
use aitbc_txpool::{PoolLimits, TxPool};
use codec::Encode;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SENDERS: usize = 8_192;
const PER_SENDER: usize = 8;
const REFILL: u64 = 1_000;

fn account(i: u64) -> AccountId {
    AccountId(aitbc_primitives::blake2_256(&i.to_le_bytes()))
}

/// A transfer from account `from` with `nonce` and its encoded length.
fn xt(from: u64, nonce: u64) -> (Arc<Extrinsic<Call>>, Hash, usize) {
    let xt = Extrinsic {
        signer: account(from),
        nonce,
        tip: 0,
        valid_until: None,
        call: Call::transfer(account(from + 1), 1),
        signature: Signature([1; 64]),
    };
    let bytes = xt.encode();
    (Arc::new(xt), Hash::of(&bytes), bytes.len())
}

fn valid(priority: u64) -> ValidTransaction {
    ValidTransaction {
        priority,
        chain_nonce: 0,
    }
}

/// A pool with default limits, full.
fn full_pool() -> TxPool<Call> {
    let limits = PoolLimits::default();
    assert_eq!(limits.max_txs, SENDERS * PER_SENDER, "fill to the limit");
    let pool = TxPool::new(limits);
    for s in 0..SENDERS as u64 {
        for n in 0..PER_SENDER as u64 {
            let (x, h, len) = xt(s, n);
            pool.submit(x, h, len, &valid(1 + (s * 37 + n) % 100), 0)
                .expect("fits");
        }
    }
    assert_eq!(pool.status().ready, SENDERS * PER_SENDER);
    pool
}

fn bench(c: &mut Criterion) {
    let txs = SENDERS * PER_SENDER;
    let mut pool = full_pool();
    let mut inserted = 0u64;
    // New senders' ids, above the pooled ones.
    let mut next_sender = 1u64 << 32;
    let mut g = c.benchmark_group("pool::insert");
    g.bench_function(format!("txs={txs},senders={SENDERS}"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                if inserted == REFILL {
                    pool = full_pool();
                    inserted = 0;
                }
                let (x, h, len) = xt(next_sender, 0);
                let v = valid(1_000 + next_sender);
                next_sender += 1;
                let t = Instant::now();
                pool.submit(x, h, len, &v, 0).expect("evicts a victim");
                total += t.elapsed();
                inserted += 1;
            }
            total
        })
    });
    g.finish();

    let pool = full_pool();
    let mut g = c.benchmark_group("pool::select");
    g.sample_size(20);
    g.bench_function(
        format!("txs={txs},senders={SENDERS},take={FULL_BLOCK}"),
        |b| {
            b.iter(|| {
                let taken = pool.ready().take(FULL_BLOCK).map(|t| t.len).sum::<usize>();
                black_box(taken)
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
