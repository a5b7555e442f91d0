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
//! - limits on the number of transactions, their total bytes and the number per sender; future
//!   transactions are further capped per sender and in total (they pay nothing until ready), and
//!   expire after [`FUTURE_LIFETIME_BLOCKS`];
//! - when the pool is full a new transaction may evict others, future ones first, then the
//!   lowest priority, always the last of another sender's queue (so no gap opens); the victims
//!   are chosen before anything changes, and only if together they make room and each pays less;
//!   otherwise the new transaction is refused and the pool is untouched;
//! - after each block, included transactions leave ([`TxPool::after_block`]); the rest are
//!   revalidated against a later state (without signatures, without holding the pool lock, and
//!   off the import path: [`TxPool::snapshot`], then [`TxPool::apply_revalidation`]), and invalid
//!   ones are dropped; those whose error cannot heal (bad signature, stale nonce, …) are banned
//!   for a while. A verdict may come from a state a block older than the pool's: a stale nonce
//!   or a bad signature stays bad on the chain's later blocks, and a transaction a later block
//!   made invalid is found by the next revalidation or by block building, which drops it;
//! - a sender's chain nonce in the pool only grows, whatever order validations finish in;
//! - evicted and invalidated transactions are remembered as `dropped`, banned hashes for the ban
//!   window, both in bounded memory.

mod queue;
mod recent;

pub use queue::ReadyIter;

use aitbc_primitives::{
    AccountId, BlockNumber, Extrinsic, Hash, InvalidTransaction, Nonce, ValidTransaction,
};
use parking_lot::Mutex;
use recent::Recent;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Pool limits (CLI flags).
#[derive(Debug, Clone, Copy)]
pub struct PoolLimits {
    pub max_txs: usize,
    pub max_bytes: usize,
    pub max_per_sender: usize,
    /// Future transactions per sender.
    pub max_future_per_sender: usize,
    /// Future transactions in all.
    pub max_future: usize,
    pub ban_time: Duration,
}

/// Blocks a future transaction may wait for its gap to close before it is dropped.
pub const FUTURE_LIFETIME_BLOCKS: u64 = 64;

impl Default for PoolLimits {
    fn default() -> Self {
        PoolLimits {
            max_txs: 65_536,
            max_bytes: 32 * 1024 * 1024,
            max_per_sender: 256,
            max_future_per_sender: 64,
            max_future: 8_192,
            ban_time: Duration::from_secs(30),
        }
    }
}

/// Why the pool refused a transaction.
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
    #[error("too many future transactions (nonce gaps) from this sender or in the pool")]
    FutureLimit,
    #[error("transaction pool is full")]
    PoolFull,
    #[error("the node is admitting too many transactions at once; try again")]
    Busy,
}

impl PoolError {
    /// Stable snake_case code for RPC errors.
    pub fn code(&self) -> &'static str {
        match self {
            PoolError::Invalid(e) => e.code(),
            PoolError::AlreadyImported => "already_imported",
            PoolError::TemporarilyBanned => "temporarily_banned",
            PoolError::ReplacementUnderpriced => "replacement_underpriced",
            PoolError::SenderLimit(_) => "sender_limit",
            PoolError::FutureLimit => "future_limit",
            PoolError::PoolFull => "pool_full",
            PoolError::Busy => "pool_busy",
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
    /// The best block when it entered the pool.
    since: BlockNumber,
}

impl<C> Clone for PoolTx<C> {
    fn clone(&self) -> Self {
        PoolTx {
            hash: self.hash,
            xt: self.xt.clone(),
            len: self.len,
            priority: self.priority,
            seq: self.seq,
            since: self.since,
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
const BANNED_MEMORY: usize = 100_000;

struct Inner<C> {
    txs: HashMap<Hash, PoolTx<C>>,
    senders: HashMap<AccountId, Sender>,
    bytes: usize,
    /// Ready transactions over all senders.
    ready: usize,
    seq: u64,
    banned: Recent<Instant>,
    dropped: Recent<Dropped>,
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
                banned: Recent::new(BANNED_MEMORY),
                dropped: Recent::new(DROPPED_MEMORY),
            }),
            limits,
        }
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

    /// Adds a transaction validated against the state of block `at`.
    pub fn submit(
        &self,
        xt: Arc<Extrinsic<C>>,
        hash: Hash,
        len: usize,
        valid: &ValidTransaction,
        at: BlockNumber,
    ) -> Result<(), PoolError> {
        let limits = &self.limits;
        let mut inner = self.inner.lock();
        if inner.txs.contains_key(&hash) {
            return Err(PoolError::AlreadyImported);
        }
        inner.check_ban(&hash, limits.ban_time)?;
        let (signer, nonce) = (xt.signer, xt.nonce);
        let (chain_nonce, ready, queued, existing) = match inner.senders.get(&signer) {
            Some(s) => (
                s.chain_nonce.max(valid.chain_nonce),
                s.ready,
                s.by_nonce.len(),
                s.by_nonce.get(&nonce).copied(),
            ),
            None => (valid.chain_nonce, 0, 0, None),
        };
        if nonce < chain_nonce {
            return Err(InvalidTransaction::StaleNonce {
                expected: chain_nonce,
                got: nonce,
            }
            .into());
        }
        let replaced = match existing.and_then(|h| inner.txs.get(&h)) {
            Some(old) if xt.tip <= old.xt.tip => return Err(PoolError::ReplacementUnderpriced),
            Some(old) => Some((old.hash, old.len)),
            None if queued >= limits.max_per_sender => {
                return Err(PoolError::SenderLimit(limits.max_per_sender))
            }
            None => None,
        };
        // A new transaction is future unless it extends (or replaces within) the ready run.
        let is_future = nonce > chain_nonce + ready as u64;
        if is_future && replaced.is_none() {
            let sender_future = queued - ready;
            let pool_future = inner.txs.len() - inner.ready;
            if sender_future >= limits.max_future_per_sender || pool_future >= limits.max_future {
                return Err(PoolError::FutureLimit);
            }
        }
        let freed = replaced.map_or((0, 0), |(_, l)| (1, l));
        let victims = inner.victims(&signer, (valid.priority, is_future), freed, len, limits)?;
        if let Some((old, _)) = replaced {
            inner.remove(&old, Some("replaced by a higher tip"));
        }
        for v in victims {
            inner.remove(&v, Some("evicted by a higher-priority transaction"));
        }
        inner.seq += 1;
        let seq = inner.seq;
        inner.update_sender(&signer, |s| {
            s.chain_nonce = s.chain_nonce.max(valid.chain_nonce);
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
                since: at,
            },
        );
        Ok(())
    }

    /// Whether a transaction is pooled.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.inner.lock().txs.contains_key(hash)
    }

    /// Which of `hashes` are pooled (one lock for all).
    pub fn pooled(&self, hashes: &[Hash]) -> Vec<bool> {
        let inner = self.inner.lock();
        hashes.iter().map(|h| inner.txs.contains_key(h)).collect()
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

    /// Removes a transaction that turned out invalid while building a block (banned if the
    /// error cannot heal).
    pub fn remove_invalid(&self, hash: &Hash, error: &InvalidTransaction) {
        self.inner.lock().drop_invalid(hash, error, "invalid");
    }

    /// Maintenance after a block (`best` is its number): drops the included transactions and
    /// the future ones that waited too long. The rest are revalidated later ([`Self::snapshot`]).
    pub fn after_block(&self, included: &[Hash], best: BlockNumber) {
        let mut inner = self.inner.lock();
        for h in included {
            if let Some(tx) = inner.txs.get(h) {
                // Included at its nonce, so the chain nonce is past it: the sender's later
                // transactions stay ready until revalidation (else they would all count as
                // future meanwhile, and new ones be refused by the future limits).
                let (signer, next) = (tx.xt.signer, tx.xt.nonce.saturating_add(1));
                inner.update_sender(&signer, |s| s.chain_nonce = s.chain_nonce.max(next));
            }
            inner.remove(h, None);
        }
        let expired: Vec<Hash> = inner
            .senders
            .values()
            .flat_map(|s| s.by_nonce.values().skip(s.ready))
            .filter(|h| {
                inner
                    .txs
                    .get(*h)
                    .is_some_and(|t| best.saturating_sub(t.since) > FUTURE_LIFETIME_BLOCKS)
            })
            .copied()
            .collect();
        for h in expired {
            inner.remove(&h, Some("its nonce gap did not close in time"));
        }
    }

    /// Every pooled transaction, to revalidate without the pool lock held.
    pub fn snapshot(&self) -> Vec<(Hash, Arc<Extrinsic<C>>)> {
        let inner = self.inner.lock();
        inner.txs.values().map(|t| (t.hash, t.xt.clone())).collect()
    }

    /// Applies the revalidation of a [`Self::snapshot`]. Transactions that left the pool
    /// meanwhile are skipped.
    pub fn apply_revalidation(
        &self,
        results: Vec<(Hash, Result<ValidTransaction, InvalidTransaction>)>,
    ) {
        let mut inner = self.inner.lock();
        for (h, result) in results {
            let Some(tx) = inner.txs.get_mut(&h) else {
                continue;
            };
            match result {
                Ok(valid) => {
                    tx.priority = valid.priority;
                    let signer = tx.xt.signer;
                    inner.update_sender(&signer, |s| {
                        s.chain_nonce = s.chain_nonce.max(valid.chain_nonce)
                    });
                }
                Err(e) => inner.drop_invalid(&h, &e, "invalid after a new block"),
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

    /// Drops an invalid transaction, banning it when its error cannot heal.
    fn drop_invalid(&mut self, hash: &Hash, error: &InvalidTransaction, context: &str) {
        self.remove(hash, Some(&format!("{context}: {error}")));
        if error.is_permanent() {
            self.banned.insert(*hash, Instant::now());
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
            self.dropped.insert(
                *hash,
                Dropped {
                    reason: reason.to_string(),
                },
            );
        }
    }

    /// The transactions to evict so that one of `len` bytes fits, given that `freed`
    /// (count, bytes) leave anyway (a replaced transaction). Candidates are the last of each
    /// other sender's queue, future ones first, then by priority, latest arrival first; each must
    /// pay less than the newcomer, except that a ready newcomer always outranks a future one.
    /// `PoolFull` if they cannot make room; nothing changes here.
    fn victims(
        &self,
        signer: &AccountId,
        (priority, new_is_future): (u64, bool),
        freed: (usize, usize),
        len: usize,
        limits: &PoolLimits,
    ) -> Result<Vec<Hash>, PoolError> {
        let mut count = self.txs.len() - freed.0;
        let mut bytes = self.bytes - freed.1;
        let fits =
            |count: usize, bytes: usize| count < limits.max_txs && bytes + len <= limits.max_bytes;
        if fits(count, bytes) {
            return Ok(Vec::new());
        }
        let mut candidates: Vec<(bool, &PoolTx<C>)> = self
            .senders
            .iter()
            .filter(|(who, _)| *who != signer)
            .filter_map(|(_, s)| {
                let (nonce, h) = s.by_nonce.iter().next_back()?;
                let ready = *nonce < s.chain_nonce + s.ready as u64;
                self.txs.get(h).map(|t| (ready, t))
            })
            .filter(|(ready, t)| (!ready && !new_is_future) || t.priority < priority)
            .collect();
        candidates.sort_by_key(|(ready, t)| (*ready, t.priority, std::cmp::Reverse(t.seq)));
        let mut victims = Vec::new();
        for (_, t) in candidates {
            victims.push(t.hash);
            count -= 1;
            bytes -= t.len;
            if fits(count, bytes) {
                return Ok(victims);
            }
        }
        Err(PoolError::PoolFull)
    }
}

#[cfg(test)]
mod tests;
