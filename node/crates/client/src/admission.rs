//! Batched admission of transactions submitted through the RPC.
//!
//! Checking a transaction's signatures is most of what admitting it costs, and sr25519 verifies
//! a batch at about half the cost per signature of one by one. Submissions therefore go through
//! a queue served by a small pool of worker threads (one per core): a worker takes whatever is
//! queued (up to [`MAX_BATCH`]), verifies all of its signatures in one batch and validates each
//! transaction without checking them again ([`Client::submit_batch`]). Nothing waits for a batch
//! to fill: under light load a batch is one transaction, under a flood batches grow by
//! themselves while the workers are busy. Signatures are checked once, here; the author never
//! checks them again. Workers run side by side, so a sender's transactions submitted at the
//! same moment may be admitted out of nonce order: the later ones wait in the pool's future
//! queue (up to its per-sender limit) until the earlier ones arrive.
//!
//! A full queue answers `busy` at once ([`PoolError::Busy`]) rather than making the caller wait.
//! The workers stop when the [`Admission`] is dropped. They hold the client weakly, so a node
//! that stops closes its database even while a worker still waits.

use super::{Client, SubmitError};
use aitbc_primitives::{Extrinsic, Hash, StateMachine};
use aitbc_txpool::PoolError;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::oneshot;

/// Most transactions verified in one batch.
pub const MAX_BATCH: usize = 1024;

/// Most submissions waiting for a worker.
const QUEUE: usize = 16 * 1024;

type Reply = oneshot::Sender<Result<Hash, SubmitError>>;

struct Job<S: StateMachine> {
    xt: Extrinsic<S::Call>,
    len: usize,
    reply: Reply,
}

/// The admission queue and its workers.
pub struct Admission<S: StateMachine> {
    queue: SyncSender<Job<S>>,
}

impl<S: StateMachine> std::fmt::Debug for Admission<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Admission")
    }
}

impl<S: StateMachine> Admission<S> {
    /// Starts `workers` threads admitting into `client`'s pool.
    pub fn start(client: Arc<Client<S>>, workers: usize) -> std::io::Result<Admission<S>> {
        let (queue, rx) = mpsc::sync_channel(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers.max(1) {
            let (client, rx) = (Arc::downgrade(&client), rx.clone());
            std::thread::Builder::new()
                .name(format!("admission-{i}"))
                .spawn(move || work(&client, &rx))?;
        }
        Ok(Admission { queue })
    }

    /// Queues a decoded transaction of encoded length `len`; the answer arrives when its batch
    /// was validated.
    pub fn submit(
        &self,
        xt: Extrinsic<S::Call>,
        len: usize,
    ) -> Result<oneshot::Receiver<Result<Hash, SubmitError>>, SubmitError> {
        let (reply, answer) = oneshot::channel();
        match self.queue.try_send(Job { xt, len, reply }) {
            Ok(()) => Ok(answer),
            Err(TrySendError::Full(_)) => Err(PoolError::Busy.into()),
            Err(TrySendError::Disconnected(_)) => Err(PoolError::Busy.into()),
        }
    }
}

/// A worker: take what is queued, admit it as one batch, answer each submitter.
fn work<S: StateMachine>(client: &Weak<Client<S>>, rx: &Mutex<Receiver<Job<S>>>) {
    loop {
        let batch = {
            let Ok(rx) = rx.lock() else { return };
            let Ok(first) = rx.recv() else { return };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        let (txs, replies): (Vec<_>, Vec<_>) =
            batch.into_iter().map(|j| ((j.xt, j.len), j.reply)).unzip();
        // The node stopped: the submitters' receivers see their senders dropped.
        let Some(client) = client.upgrade() else {
            return;
        };
        let results = client.submit_batch(txs, true);
        for (reply, result) in replies.into_iter().zip(results) {
            // The submitter may have gone away (connection closed): nothing to tell.
            let _ = reply.send(result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_chain::client;
    use aitbc_name_registry::{Call, NameRegistry};
    use aitbc_primitives::crypto::dev_pair;
    use aitbc_primitives::extrinsic::TxParams;
    use aitbc_primitives::{InvalidTransaction, Signature};
    use aitbc_txpool::PoolLimits;
    use codec::Encode;

    /// `n` name claims from `sender`, nonces 0 to n - 1.
    fn claims_from(client: &Client<NameRegistry>, sender: &str, n: u64) -> Vec<Extrinsic<Call>> {
        let genesis = client.runtime().genesis_hash();
        let from = dev_pair(sender);
        (0..n)
            .map(|nonce| {
                let params = TxParams {
                    nonce,
                    ..TxParams::default()
                };
                let name = format!("{sender}-{nonce}");
                Extrinsic::sign(&from, Call::Claim { name }, params, genesis)
            })
            .collect()
    }

    fn claims(client: &Client<NameRegistry>, n: u64) -> Vec<Extrinsic<Call>> {
        claims_from(client, "bob", n)
    }

    #[test]
    fn a_bad_signature_in_a_batch_is_refused_and_the_rest_admitted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let client = Arc::new(client(&dir.path().join("chain.redb")));
        let mut xts = claims(&client, 6);
        xts[3].signature = Signature([7; 64]);
        let txs = xts
            .iter()
            .map(|xt| (xt.clone(), xt.encoded_size()))
            .collect();
        let results = client.submit_batch(txs, false);
        for (i, r) in results.iter().enumerate() {
            if i == 3 {
                assert!(
                    matches!(
                        r,
                        Err(SubmitError::Pool(PoolError::Invalid(
                            InvalidTransaction::BadSignature
                        )))
                    ),
                    "{r:?}"
                );
            } else {
                assert_eq!(r.as_ref().ok(), Some(&xts[i].hash()), "tx {i}");
            }
        }
        // The same transactions again: already pooled (the bad one: banned).
        let again = client.submit_batch(vec![(xts[0].clone(), xts[0].encoded_size())], false);
        assert!(matches!(
            again[0],
            Err(SubmitError::Pool(PoolError::AlreadyImported))
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_submissions_each_get_their_answer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let client = Arc::new(client(&dir.path().join("chain.redb")));
        let admission = Admission::start(client.clone(), 2).expect("start");
        // Two workers may admit a sender's later nonces before its earlier ones; each sender
        // stays within the pool's future limit per sender, so every order is admitted.
        let per_sender = 50;
        assert!(per_sender <= PoolLimits::default().max_future_per_sender as u64);
        let xts: Vec<_> = ["alice", "bob", "charlie", "dave"]
            .iter()
            .flat_map(|s| claims_from(&client, s, per_sender))
            .collect();
        assert_eq!(xts.len(), 200);
        let receivers: Vec<_> = xts
            .iter()
            .map(|xt| {
                admission
                    .submit(xt.clone(), xt.encoded_size())
                    .expect("queued")
            })
            .collect();
        for (xt, rx) in xts.iter().zip(receivers) {
            assert_eq!(rx.await.expect("answered").expect("admitted"), xt.hash());
        }
        assert_eq!(client.pool().status().ready, 200);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stopped_node_answers_busy_and_drops_pending_answers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let client = Arc::new(client(&dir.path().join("chain.redb")));
        let admission = Admission::start(client.clone(), 1).expect("start");
        let xts = claims(&client, 2);
        drop(client);
        // The worker finds the client gone: the submitter's answer channel closes unanswered.
        let pending = admission
            .submit(xts[0].clone(), xts[0].encoded_size())
            .expect("queued");
        assert!(pending.await.is_err());
        // With the worker gone, new submissions are refused at once.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match admission.submit(xts[1].clone(), xts[1].encoded_size()) {
                Err(SubmitError::Pool(PoolError::Busy)) => break,
                Ok(answer) => assert!(answer.await.is_err()),
                Err(e) => panic!("unexpected {e}"),
            }
            assert!(std::time::Instant::now() < deadline, "never refused");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}
