use super::*;
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::extrinsic::TxParams;

type Pool = TxPool<u32>;

fn xt(who: &str, nonce: u64, tip: u128) -> (Arc<Extrinsic<u32>>, Hash) {
    xt_call(who, nonce, tip, 1)
}

/// `who`'s transaction `call` at `nonce` with `tip`.
fn xt_call(who: &str, nonce: u64, tip: u128, call: u32) -> (Arc<Extrinsic<u32>>, Hash) {
    let x = Extrinsic::sign(
        &dev_pair(who),
        call,
        TxParams {
            nonce,
            tip,
            valid_until: None,
        },
        Hash::ZERO,
    );
    let h = x.hash();
    (Arc::new(x), h)
}

fn valid(priority: u64, chain_nonce: u64) -> ValidTransaction {
    ValidTransaction {
        priority,
        chain_nonce,
    }
}

fn limits(max_txs: usize) -> PoolLimits {
    PoolLimits {
        max_txs,
        max_bytes: 1 << 20,
        max_per_sender: 3,
        max_future_per_sender: 2,
        max_future: 100,
        ban_time: Duration::from_secs(60),
    }
}

/// Submits `who`'s transaction `nonce` (chain nonce 0) with a priority; returns its hash.
fn add(pool: &Pool, who: &str, nonce: u64, priority: u64) -> Result<Hash, PoolError> {
    let (x, h) = xt(who, nonce, 0);
    pool.submit(x, h, 10, &valid(priority, 0), 0).map(|_| h)
}

fn revalidate_all(
    pool: &Pool,
    included: &[Hash],
    best: u64,
    f: impl Fn(&Extrinsic<u32>) -> Result<ValidTransaction, InvalidTransaction>,
) {
    pool.after_block(included, best);
    let pending = pool.snapshot();
    pool.apply_revalidation(pending.into_iter().map(|(h, x)| (h, f(&x))).collect());
}

#[test]
fn ready_and_future_by_nonce() {
    let pool = TxPool::new(limits(100));
    add(&pool, "alice", 2, 1).unwrap();
    let h0 = add(&pool, "alice", 0, 1).unwrap();
    assert_eq!(
        pool.status(),
        PoolStatus {
            ready: 1,
            future: 1,
            bytes: 20
        }
    );
    add(&pool, "alice", 1, 1).unwrap();
    assert_eq!(pool.status().ready, 3);
    let order: Vec<u64> = pool.ready().map(|t| t.xt.nonce).collect();
    assert_eq!(order, vec![0, 1, 2]);
    assert_eq!(pool.ready().next().unwrap().hash, h0);
    assert_eq!(pool.next_nonce(&dev_pair("alice").public(), 0), 3);
}

#[test]
fn priority_orders_senders_and_replacement_needs_higher_tip() {
    let pool = TxPool::new(limits(100));
    let (b, hb) = xt("bob", 0, 0);
    pool.submit(b.clone(), hb, 100, &valid(1, 0), 0).unwrap();
    let hc = add(&pool, "charlie", 0, 5).unwrap();
    assert_eq!(pool.ready().next().unwrap().hash, hc);
    assert_eq!(
        pool.submit(b, hb, 100, &valid(1, 0), 0),
        Err(PoolError::AlreadyImported)
    );
    // Signatures are deterministic: a re-signed copy is the same transaction; another call at
    // the same nonce and tip is a replacement that pays no more.
    let (same, hsame) = xt("bob", 0, 0);
    assert_eq!(hsame, hb);
    let (other, hother) = xt_call("bob", 0, 0, 2);
    assert_eq!(
        pool.submit(other, hother, 100, &valid(1, 0), 0),
        Err(PoolError::ReplacementUnderpriced)
    );
    assert_eq!(
        pool.submit(same, hsame, 100, &valid(1, 0), 0),
        Err(PoolError::AlreadyImported)
    );
    let (b_tip, hb_tip) = xt("bob", 0, 10);
    pool.submit(b_tip, hb_tip, 100, &valid(9, 0), 0).unwrap();
    assert!(!pool.contains(&hb) && pool.dropped(&hb).is_some());
    assert_eq!(
        pool.status(),
        PoolStatus {
            ready: 2,
            future: 0,
            bytes: 110
        }
    );
}

#[test]
fn full_pool_evicts_future_first_then_lowest_priority_or_refuses_untouched() {
    let pool = TxPool::new(limits(3));
    let ha = add(&pool, "alice", 0, 5).unwrap();
    let hb = add(&pool, "bob", 0, 1).unwrap();
    let hf = add(&pool, "charlie", 1, 9).unwrap(); // future: nonce 0 missing
                                                   // Full. A future newcomer paying too little evicts nothing: refused, nothing changed.
    assert_eq!(add(&pool, "dave", 1, 0), Err(PoolError::PoolFull));
    assert_eq!(
        pool.status(),
        PoolStatus {
            ready: 2,
            future: 1,
            bytes: 30
        }
    );
    // A ready newcomer evicts the future transaction first, though it pays more than bob's.
    add(&pool, "dave", 0, 2).unwrap();
    assert!(pool.dropped(&hf).is_some() && pool.contains(&hb));
    // Then the lowest priority.
    add(&pool, "eve", 0, 3).unwrap();
    assert!(pool.dropped(&hb).is_some() && pool.contains(&ha));
    // A sender never evicts its own predecessor (that would open a gap).
    let pool = TxPool::new(limits(2));
    let h0 = add(&pool, "ferdie", 0, 1).unwrap();
    add(&pool, "alice", 0, 9).unwrap();
    assert_eq!(add(&pool, "ferdie", 1, 5), Err(PoolError::PoolFull));
    assert!(pool.contains(&h0));
}

#[test]
fn sender_and_future_limits() {
    let pool = TxPool::new(limits(100));
    for n in 0..3 {
        add(&pool, "dave", n, 1).unwrap();
    }
    assert_eq!(add(&pool, "dave", 3, 1), Err(PoolError::SenderLimit(3)));
    // At most two future transactions per sender.
    add(&pool, "eve", 5, 1).unwrap();
    add(&pool, "eve", 7, 1).unwrap();
    assert_eq!(add(&pool, "eve", 9, 1), Err(PoolError::FutureLimit));
    // Filling the gap is always allowed (it is ready, not future).
    add(&pool, "eve", 0, 1).unwrap();
}

#[test]
fn chain_nonce_never_goes_back_and_stale_nonces_are_refused() {
    let pool = TxPool::new(limits(100));
    let (x, h) = xt("alice", 5, 0);
    pool.submit(x, h, 10, &valid(1, 5), 3).unwrap();
    assert_eq!(pool.status().ready, 1);
    // A validation against an older state finishing late does not make alice's ready tx future.
    let (x6, h6) = xt("alice", 6, 0);
    pool.submit(x6, h6, 10, &valid(1, 4), 2).unwrap();
    assert_eq!(
        pool.status(),
        PoolStatus {
            ready: 2,
            future: 0,
            bytes: 20
        }
    );
    let (x4, h4) = xt("alice", 4, 0);
    assert_eq!(
        pool.submit(x4, h4, 10, &valid(1, 4), 2),
        Err(PoolError::Invalid(InvalidTransaction::StaleNonce {
            expected: 5,
            got: 4
        }))
    );
}

#[test]
fn maintenance_removes_included_drops_invalid_and_bans_only_permanent_errors() {
    let pool = TxPool::new(limits(100));
    let h0 = add(&pool, "alice", 0, 1).unwrap();
    let h1 = add(&pool, "alice", 1, 1).unwrap();
    let hb = add(&pool, "bob", 0, 1).unwrap();
    let hc = add(&pool, "charlie", 0, 1).unwrap();
    revalidate_all(&pool, &[h0], 1, |x| {
        if x.signer == dev_pair("bob").public() {
            Err(InvalidTransaction::CannotPayFee { fee: 1 })
        } else if x.signer == dev_pair("charlie").public() {
            Err(InvalidTransaction::BadSignature)
        } else {
            Ok(valid(1, 1))
        }
    });
    assert!(
        !pool.contains(&h0) && pool.dropped(&h0).is_none(),
        "included, not dropped"
    );
    assert!(pool.contains(&h1));
    assert_eq!(pool.status().ready, 1);
    assert!(pool.dropped(&hb).is_some() && pool.dropped(&hc).is_some());
    assert_eq!(
        pool.precheck(&hb),
        Ok(()),
        "an unpayable fee can heal: not banned"
    );
    assert_eq!(pool.precheck(&hc), Err(PoolError::TemporarilyBanned));
}

#[test]
fn future_transactions_expire() {
    let pool = TxPool::new(limits(100));
    let hf = add(&pool, "alice", 3, 1).unwrap();
    let hr = add(&pool, "bob", 0, 1).unwrap();
    revalidate_all(&pool, &[], FUTURE_LIFETIME_BLOCKS, |_| Ok(valid(1, 0)));
    assert!(pool.contains(&hf));
    revalidate_all(&pool, &[], FUTURE_LIFETIME_BLOCKS + 1, |_| Ok(valid(1, 0)));
    assert!(!pool.contains(&hf) && pool.dropped(&hf).is_some());
    assert!(pool.contains(&hr), "ready transactions do not expire");
}

#[test]
fn included_transactions_keep_the_rest_ready_before_revalidation() {
    // Between a block and the revalidation of the pool, the sender's remaining transactions
    // stay ready and its next one is accepted as ready (they were all counted as future, so a
    // busy sender or pool hit the future limits).
    let pool = TxPool::new(limits(100));
    let h0 = add(&pool, "alice", 0, 1).unwrap();
    add(&pool, "alice", 1, 1).unwrap();
    add(&pool, "alice", 2, 1).unwrap();
    pool.after_block(&[h0], 1);
    assert_eq!(pool.snapshot().len(), 2);
    assert_eq!(pool.status().ready, 2);
    let (x, h) = xt("alice", 3, 0);
    pool.submit(x, h, 10, &valid(1, 1), 1).unwrap();
    assert_eq!(
        pool.status(),
        PoolStatus {
            ready: 3,
            future: 0,
            bytes: 30
        }
    );
    let order: Vec<u64> = pool.ready().map(|t| t.xt.nonce).collect();
    assert_eq!(order, vec![1, 2, 3]);
}
