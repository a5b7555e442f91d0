//! Ordering ready transactions for a block: a max-heap of each sender's next ready transaction,
//! keyed by (priority, earliest arrival).

use super::PoolTx;
use aitbc_primitives::{Hash, Nonce};
use std::collections::{BTreeMap, BinaryHeap, HashMap};

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    priority: u64,
    /// Earlier arrivals first among equal priorities.
    seq: std::cmp::Reverse<u64>,
    sender: usize,
}

/// Ready transactions in block order. A snapshot: it does not hold the pool lock.
pub struct ReadyIter<C> {
    heap: BinaryHeap<Key>,
    queues: Vec<std::collections::VecDeque<PoolTx<C>>>,
}

impl<C> ReadyIter<C> {
    pub(super) fn new<'a>(
        txs: &HashMap<Hash, PoolTx<C>>,
        senders: impl Iterator<Item = (Nonce, &'a BTreeMap<Nonce, Hash>)>,
    ) -> Self {
        let mut queues = Vec::new();
        let mut heap = BinaryHeap::new();
        for (chain_nonce, by_nonce) in senders {
            let mut q = std::collections::VecDeque::new();
            let mut n = chain_nonce;
            while let Some(tx) = by_nonce.get(&n).and_then(|h| txs.get(h)) {
                q.push_back(tx.clone());
                n += 1;
            }
            if let Some(first) = q.front() {
                heap.push(Key {
                    priority: first.priority,
                    seq: std::cmp::Reverse(first.seq),
                    sender: queues.len(),
                });
                queues.push(q);
            }
        }
        ReadyIter { heap, queues }
    }

    /// Skips the rest of the current sender's queue (after one of its transactions failed to
    /// apply, its later nonces cannot apply either).
    pub fn skip_sender_of(&mut self, tx: &PoolTx<C>) {
        for q in &mut self.queues {
            if q.front().is_some_and(|f| f.xt.signer == tx.xt.signer) {
                q.clear();
            }
        }
    }
}

impl<C> Iterator for ReadyIter<C> {
    type Item = PoolTx<C>;

    fn next(&mut self) -> Option<PoolTx<C>> {
        loop {
            let key = self.heap.pop()?;
            let q = &mut self.queues[key.sender];
            let Some(tx) = q.pop_front() else { continue };
            if let Some(next) = q.front() {
                self.heap.push(Key {
                    priority: next.priority,
                    seq: std::cmp::Reverse(next.seq),
                    sender: key.sender,
                });
            }
            return Some(tx);
        }
    }
}
