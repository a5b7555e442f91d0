use super::*;
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::extrinsic::TxParams;

fn xt(who: &str, nonce: u64, tip: u128) -> (Arc<Extrinsic<u32>>, Hash) {
    let x = Extrinsic::sign(
        &dev_pair(who),
        1u32,
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
        requires: vec![],
        provides: vec![],
        longevity: u64::MAX,
        chain_nonce,
    }
}

fn limits(max_txs: usize) -> PoolLimits {
    PoolLimits {
        max_txs,
        max_bytes: 1 << 20,
        max_per_sender: 3,
        ban_time: Duration::from_secs(60),
    }
}

#[test]
fn ready_and_future_by_nonce() {
    let pool = TxPool::new(limits(100));
    let (a0, h0) = xt("alice", 0, 0);
    let (a2, _) = xt("alice", 2, 0);
    pool.submit(a2, xt("alice", 2, 0).1, 100, &valid(1, 0))
        .unwrap();
    pool.submit(a0, h0, 100, &valid(1, 0)).unwrap();
    assert_eq!(
        pool.status(),
        PoolStatus {
            ready: 1,
            future: 1,
            bytes: 200
        }
    );
    let (a1, h1) = xt("alice", 1, 0);
    pool.submit(a1, h1, 100, &valid(1, 0)).unwrap();
    assert_eq!(pool.status().ready, 3);
    let order: Vec<u64> = pool.ready().map(|t| t.xt.nonce).collect();
    assert_eq!(order, vec![0, 1, 2]);
    assert_eq!(pool.next_nonce(&dev_pair("alice").public(), 0), 3);
}

#[test]
fn priority_orders_senders_and_replacement_needs_higher_tip() {
    let pool = TxPool::new(limits(100));
    let (b, hb) = xt("bob", 0, 0);
    let (c, hc) = xt("charlie", 0, 0);
    pool.submit(b.clone(), hb, 100, &valid(1, 0)).unwrap();
    pool.submit(c, hc, 100, &valid(5, 0)).unwrap();
    let first = pool.ready().next().unwrap();
    assert_eq!(first.hash, hc);
    assert_eq!(
        pool.submit(b, hb, 100, &valid(1, 0)),
        Err(PoolError::AlreadyImported)
    );
    // sr25519 signatures are randomized: a re-signed copy is a different transaction.
    let (same, hsame) = xt("bob", 0, 0);
    assert_eq!(
        pool.submit(same, hsame, 100, &valid(1, 0)),
        Err(PoolError::ReplacementUnderpriced)
    );
    let (b_tip, hb_tip) = xt("bob", 0, 10);
    pool.submit(b_tip, hb_tip, 100, &valid(9, 0)).unwrap();
    assert!(!pool.contains(&hb));
    assert!(pool.dropped(&hb).is_some());
    let (b_low, hb_low) = xt("bob", 0, 5);
    assert_eq!(
        pool.submit(b_low, hb_low, 100, &valid(9, 0)),
        Err(PoolError::ReplacementUnderpriced)
    );
}

#[test]
fn limits_evict_or_refuse() {
    let pool = TxPool::new(limits(2));
    let (a, ha) = xt("alice", 0, 0);
    let (b, hb) = xt("bob", 0, 0);
    pool.submit(a, ha, 10, &valid(1, 0)).unwrap();
    pool.submit(b, hb, 10, &valid(2, 0)).unwrap();
    let (c, hc) = xt("charlie", 0, 0);
    assert_eq!(
        pool.submit(c.clone(), hc, 10, &valid(1, 0)),
        Err(PoolError::PoolFull)
    );
    pool.submit(c, hc, 10, &valid(3, 0)).unwrap();
    assert!(
        pool.dropped(&ha).is_some(),
        "the lowest priority was evicted"
    );
    for n in 1..=2 {
        let (x, h) = xt("charlie", n, 0);
        let r = pool.submit(x, h, 10, &valid(9, 0));
        assert!(r.is_ok() || r == Err(PoolError::PoolFull));
    }
    let pool = TxPool::new(limits(100));
    for n in 0..3 {
        let (x, h) = xt("dave", n, 0);
        pool.submit(x, h, 10, &valid(1, 0)).unwrap();
    }
    let (x, h) = xt("dave", 3, 0);
    assert_eq!(
        pool.submit(x, h, 10, &valid(1, 0)),
        Err(PoolError::SenderLimit(3))
    );
}

#[test]
fn on_block_removes_included_and_bans_invalid() {
    let pool = TxPool::new(limits(100));
    let (a0, h0) = xt("alice", 0, 0);
    let (a1, h1) = xt("alice", 1, 0);
    let (b0, hb) = xt("bob", 0, 0);
    pool.submit(a0, h0, 10, &valid(1, 0)).unwrap();
    pool.submit(a1, h1, 10, &valid(1, 0)).unwrap();
    pool.submit(b0, hb, 10, &valid(1, 0)).unwrap();
    pool.on_block(&[h0], |x| {
        if x.signer == dev_pair("bob").public() {
            Err(InvalidTransaction::CannotPayFee { fee: 1 })
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
    assert!(pool.dropped(&hb).is_some());
    assert_eq!(pool.precheck(&hb), Err(PoolError::TemporarilyBanned));
}
