//! Offence reporting: an authority node that sees an equivocation submits its proof.
//!
//! Block equivocations are the pairs the client records on import ([`Client::equivocations`],
//! polled every [`POLL`]); vote equivocations come from the voting worker, which sees both votes.
//! Each proof is turned into the state machine's report call
//! ([`StateMachine::report_offence`]; a chain that punishes nothing has none), signed with the
//! node's authority key at its next nonce and submitted to the pool, which gossips it; the next
//! author includes it. Each offence (by [`OffenceProof::key`]) is submitted once per run; the
//! chain refuses a second report of it (`offence_already_reported`), so two nodes that both
//! report it cost one of them a refused transaction, not a second slash.

use aitbc_client::Client;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{AccountId, Extrinsic, OffenceKind, OffenceProof, Pair, StateMachine};
use codec::Encode;
use parking_lot::Mutex;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the client's recorded block equivocations are looked at.
const POLL: Duration = Duration::from_millis(500);

/// Offences remembered as submitted; past this the memory starts afresh (a proof submitted
/// again is refused by the chain as already reported: a wasted transaction, not a slash).
const MAX_REMEMBERED: usize = 10_000;

/// Submits offence proofs signed by this node's authority key.
pub struct Reporter<S: StateMachine> {
    client: Arc<Client<S>>,
    key: Pair,
    submitted: Mutex<BTreeSet<(OffenceKind, AccountId, u64, u64)>>,
}

impl<S: StateMachine> Reporter<S> {
    pub fn new(client: Arc<Client<S>>, key: Pair) -> Reporter<S> {
        Reporter {
            client,
            key,
            submitted: Mutex::new(BTreeSet::new()),
        }
    }

    /// Submits `proof` unless it was submitted before (see the module docs).
    pub fn report(&self, proof: OffenceProof) {
        {
            let mut submitted = self.submitted.lock();
            if submitted.len() >= MAX_REMEMBERED {
                submitted.clear();
            }
            if !submitted.insert(proof.key()) {
                return;
            }
        }
        let offender = proof.offender();
        let kind = proof.kind();
        let Some(call) = self.client.runtime().report_offence(proof) else {
            return;
        };
        let me = self.key.public();
        let Ok(state) = self.client.state() else {
            return;
        };
        let chain_nonce = self.client.runtime().account(&state, &me).nonce;
        drop(state);
        let params = TxParams {
            nonce: self.client.pool().next_nonce(&me, chain_nonce),
            ..TxParams::default()
        };
        let xt = Extrinsic::sign(&self.key, call, params, self.client.genesis_hash());
        let len = xt.encoded_size();
        match self.client.submit_decoded(xt, len) {
            Ok(hash) => tracing::warn!(target: "offence", %offender, ?kind, tx = %hash,
                "reported an offence"),
            Err(e) => tracing::info!(target: "offence", %offender, ?kind, error = %e,
                "offence report not submitted"),
        }
    }
}

/// Reports every block equivocation the client records, until shutdown.
pub async fn run<S: StateMachine>(reporter: Arc<Reporter<S>>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            biased;
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(POLL) => {}
        }
        for e in reporter.client.equivocations() {
            reporter.report(e.proof());
        }
    }
}
