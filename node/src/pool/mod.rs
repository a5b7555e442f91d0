//! The transaction pool.
//!
//! Transactions arrive already validated by the state machine (signatures checked once, here at
//! admission; block building trusts that result). Per sender they are ordered by nonce: the run
//! of consecutive nonces starting at the sender's chain nonce is *ready*, anything after a gap is
//! *future*. Block building takes ready transactions by priority (tip per byte), one sender's
//! transactions always in nonce order.
//!
//! Rules:
//! - a transaction with the same (signer, nonce) as a pooled one replaces it only with a higher
//!   tip;
//! - limits on the number of transactions, their total bytes and the number per sender; when the
//!   pool is full a new transaction evicts the lowest-priority last-of-its-sender transaction only
//!   if it pays more, else it is refused;
//! - after each block, included transactions leave, the rest are revalidated against the new
//!   state (without signatures), and invalid ones are dropped and banned for a while;
//! - evicted and invalidated transactions are remembered as `dropped` (bounded memory).

mod queue;

pub use queue::ReadyIter;

use crate::util::Mutex;
use aitbc_primitives::{AccountId, Extrinsic, Hash, InvalidTransaction, Nonce, ValidTransaction};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Pool limits (CLI flags).
#[derive(Debug, Clone, Copy)]
pub struct PoolLimits {
    pub max_txs: usize,
    pub max_bytes: usize,
    pub max_per_sender: usize,
    pub ban_time: Duration,
}

impl Default for PoolLimits {
    fn default() -> Self {
        PoolLimits {
            max_txs: 65_536,
            max_bytes: 32 * 1024 * 1024,
            max_per_sender: 256,
            ban_time: Duration::from_secs(30),
        }
    }
}

/// Why the pool refused a transaction. [`PoolError::is_bad_transaction`] tells whether the
/// sender of it misbehaved (a peer relaying it may be penalised).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error(transparent)]
    Invalid(#[from] InvalidTransaction),
    #[error("transaction is already in the pool")]
    AlreadyImported,
    #[error("transaction was recently found invalid and is temporarily banned")]
    TemporarilyBanned,
    #[error("a transaction with the same nonce is pooled; a replacement needs a higher tip")]
    ReplacementUnderpriced,
    #[error("too many pending transactions from this sender (limit {0})")]
    SenderLimit(usize),
    #[error("transaction pool is full")]
    PoolFull,
}

impl PoolError {
    pub fn is_bad_transaction(&self) -> bool {
        matches!(self, PoolError::Invalid(_) | PoolError::TemporarilyBanned)
    }

    /// Stable snake_case code for RPC errors.
    pub fn code(&self) -> &'static str {
        match self {
            PoolError::Invalid(e) => e.code(),
            PoolError::AlreadyImported => "already_imported",
            PoolError::TemporarilyBanned => "temporarily_banned",
            PoolError::ReplacementUnderpriced => "replacement_underpriced",
            PoolError::SenderLimit(_) => "sender_limit",
            PoolError::PoolFull => "pool_full",
        }
    }
}

/// A pooled transaction.
#[derive(Debug)]
pub struct PoolTx<C> {
    pub hash: Hash,
    pub xt: Arc<Extrinsic<C>>,
    pub len: usize,
    pub priority: u64,
    seq: u64,
}

impl<C> Clone for PoolTx<C> {
    fn clone(&self) -> Self {
        PoolTx {
            hash: self.hash,
            xt: self.xt.clone(),
            len: self.len,
            priority: self.priority,
            seq: self.seq,
        }
    }
}

#[derive(Debug, Default)]
struct Sender {
    chain_nonce: Nonce,
    by_nonce: std::collections::BTreeMap<Nonce, Hash>,
    /// Length of the run of consecutive nonces from `chain_nonce` (the ready ones).
    ready: usize,
}

impl Sender {
    fn ready_run(&self) -> usize {
        let mut n = self.chain_nonce;
        while self.by_nonce.contains_key(&n) {
            n += 1;
        }
        (n - self.chain_nonce) as usize
    }
}

/// Why a transaction left the pool without being included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub reason: String,
}

/// Pool counts for metrics and the informant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStatus {
    pub ready: usize,
    pub future: usize,
    pub bytes: usize,
}

const DROPPED_MEMORY: usize = 100_000;

struct Inner<C> {
    txs: HashMap<Hash, PoolTx<C>>,
    senders: HashMap<AccountId, Sender>,
    bytes: usize,
    /// Ready transactions over all senders.
    ready: usize,
    seq: u64,
    banned: HashMap<Hash, Instant>,
    dropped: HashMap<Hash, Dropped>,
    dropped_order: VecDeque<Hash>,
}

/// The transaction pool. Thread-safe; all methods take `&self`.
pub struct TxPool<C> {
    inner: Mutex<Inner<C>>,
    limits: PoolLimits,
}

impl<C> std::fmt::Debug for TxPool<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TxPool({:?})", self.status())
    }
}

impl<C> TxPool<C> {
    pub fn new(limits: PoolLimits) -> Self {
        TxPool {
            inner: Mutex::new(Inner {
                txs: HashMap::new(),
                senders: HashMap::new(),
                bytes: 0,
                ready: 0,
                seq: 0,
                banned: HashMap::new(),
                dropped: HashMap::new(),
                dropped_order: VecDeque::new(),
            }),
            limits,
        }
    }

    pub fn limits(&self) -> PoolLimits {
        self.limits
    }

    /// Checks the cheap refusals (known, banned) before the caller spends time validating.
    pub fn precheck(&self, hash: &Hash) -> Result<(), PoolError> {
        let mut inner = self.inner.lock();
        if inner.txs.contains_key(hash) {
            return Err(PoolError::AlreadyImported);
        }
        inner.check_ban(hash, self.limits.ban_time)
    }

    /// Bans a transaction found invalid (the caller validated it and it failed).
    pub fn ban(&self, hash: Hash) {
        self.inner.lock().banned.insert(hash, Instant::now());
    }

    /// Adds a validated transaction.
    pub fn submit(
        &self,
        xt: Arc<Extrinsic<C>>,
        hash: Hash,
        len: usize,
        valid: &ValidTransaction,
    ) -> Result<(), PoolError> {
        let mut inner = self.inner.lock();
        if inner.txs.contains_key(&hash) {
            return Err(PoolError::AlreadyImported);
        }
        inner.check_ban(&hash, self.limits.ban_time)?;
        let signer = xt.signer;
        let nonce = xt.nonce;
        // Replacement of the same (signer, nonce).
        let existing = inner
            .senders
            .get(&signer)
            .and_then(|s| s.by_nonce.get(&nonce))
            .copied();
        if let Some(old) = existing {
            let old_tip = inner.txs.get(&old).map(|t| t.xt.tip).unwrap_or(0);
            if xt.tip <= old_tip {
                return Err(PoolError::ReplacementUnderpriced);
            }
            inner.remove(&old, Some("replaced by a higher tip"));
        } else {
            let pending = inner.senders.get(&signer).map_or(0, |s| s.by_nonce.len());
            if pending >= self.limits.max_per_sender {
                return Err(PoolError::SenderLimit(self.limits.max_per_sender));
            }
        }
        while inner.txs.len() >= self.limits.max_txs || inner.bytes + len > self.limits.max_bytes {
            match inner.worst_evictable() {
                Some((victim, p)) if p < valid.priority && victim != hash => {
                    inner.remove(&victim, Some("evicted by a higher-priority transaction"));
                }
                _ => return Err(PoolError::PoolFull),
            }
        }
        inner.seq += 1;
        let seq = inner.seq;
        inner.update_sender(&signer, |s| {
            s.chain_nonce = valid.chain_nonce;
            s.by_nonce.insert(nonce, hash);
        });
        inner.bytes += len;
        inner.txs.insert(
            hash,
            PoolTx {
                hash,
                xt,
                len,
                priority: valid.priority,
                seq,
            },
        );
        Ok(())
    }

    /// Whether a transaction is pooled.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.inner.lock().txs.contains_key(hash)
    }

    /// Why a transaction was dropped, if it was (and is still remembered).
    pub fn dropped(&self, hash: &Hash) -> Option<Dropped> {
        self.inner.lock().dropped.get(hash).cloned()
    }

    /// A pooled transaction.
    pub fn get(&self, hash: &Hash) -> Option<PoolTx<C>> {
        self.inner.lock().txs.get(hash).cloned()
    }

    /// The next nonce of `who` counting pooled ready transactions.
    pub fn next_nonce(&self, who: &AccountId, chain_nonce: Nonce) -> Nonce {
        let inner = self.inner.lock();
        let mut next = chain_nonce;
        if let Some(s) = inner.senders.get(who) {
            while s.by_nonce.contains_key(&next) {
                next += 1;
            }
        }
        next
    }

    /// Ready transactions in block order: by priority, each sender's in nonce order.
    pub fn ready(&self) -> ReadyIter<C> {
        let inner = self.inner.lock();
        ReadyIter::new(
            &inner.txs,
            inner.senders.values().map(|s| (s.chain_nonce, &s.by_nonce)),
        )
    }

    pub fn status(&self) -> PoolStatus {
        let inner = self.inner.lock();
        let ready = inner.ready;
        PoolStatus {
            ready,
            future: inner.txs.len() - ready,
            bytes: inner.bytes,
        }
    }

    /// Removes a transaction that turned out invalid while building a block, and bans it.
    pub fn remove_invalid(&self, hash: &Hash, error: &InvalidTransaction) {
        let mut inner = self.inner.lock();
        inner.remove(hash, Some(&format!("invalid: {error}")));
        inner.banned.insert(*hash, Instant::now());
    }

    /// Maintenance after a block: drops the included transactions, then revalidates the rest
    /// with `revalidate` (which returns the new validity against the new best state).
    pub fn on_block(
        &self,
        included: &[Hash],
        mut revalidate: impl FnMut(&Extrinsic<C>) -> Result<ValidTransaction, InvalidTransaction>,
    ) {
        let mut inner = self.inner.lock();
        for h in included {
            inner.remove(h, None);
        }
        let now = Instant::now();
        let ban = self.limits.ban_time;
        inner.banned.retain(|_, t| now.duration_since(*t) < ban);
        let hashes: Vec<Hash> = inner.txs.keys().copied().collect();
        for h in hashes {
            let Some(tx) = inner.txs.get(&h) else {
                continue;
            };
            let xt = tx.xt.clone();
            match revalidate(&xt) {
                Ok(valid) => {
                    if let Some(tx) = inner.txs.get_mut(&h) {
                        tx.priority = valid.priority;
                    }
                    inner.update_sender(&xt.signer, |s| s.chain_nonce = valid.chain_nonce);
                }
                Err(e) => {
                    inner.remove(&h, Some(&format!("invalid after a new block: {e}")));
                    inner.banned.insert(h, now);
                }
            }
        }
    }
}

impl<C> Inner<C> {
    /// Changes one sender's queue, keeping the ready counts right and dropping empty queues.
    fn update_sender(&mut self, who: &AccountId, change: impl FnOnce(&mut Sender)) {
        let sender = self.senders.entry(*who).or_default();
        let before = sender.ready;
        change(sender);
        sender.ready = sender.ready_run();
        self.ready = self.ready + sender.ready - before;
        if sender.by_nonce.is_empty() {
            self.senders.remove(who);
        }
    }

    fn check_ban(&mut self, hash: &Hash, ban_time: Duration) -> Result<(), PoolError> {
        match self.banned.get(hash) {
            Some(t) if t.elapsed() < ban_time => Err(PoolError::TemporarilyBanned),
            Some(_) => {
                self.banned.remove(hash);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Removes a transaction; `dropped` records why, if it left without being included.
    fn remove(&mut self, hash: &Hash, dropped: Option<&str>) {
        let Some(tx) = self.txs.remove(hash) else {
            return;
        };
        self.bytes -= tx.len;
        self.update_sender(&tx.xt.signer, |s| {
            s.by_nonce.remove(&tx.xt.nonce);
        });
        if let Some(reason) = dropped {
            if self.dropped_order.len() >= DROPPED_MEMORY {
                if let Some(old) = self.dropped_order.pop_front() {
                    self.dropped.remove(&old);
                }
            }
            self.dropped.insert(
                *hash,
                Dropped {
                    reason: reason.to_string(),
                },
            );
            self.dropped_order.push_back(*hash);
        }
    }

    /// The lowest-priority transaction that is last of its sender's queue (evicting it leaves no
    /// gap), with its priority.
    fn worst_evictable(&self) -> Option<(Hash, u64)> {
        self.senders
            .values()
            .filter_map(|s| s.by_nonce.values().next_back())
            .filter_map(|h| self.txs.get(h))
            .min_by_key(|t| (t.priority, std::cmp::Reverse(t.seq)))
            .map(|t| (t.hash, t.priority))
    }
}

#[cfg(test)]
mod tests;
