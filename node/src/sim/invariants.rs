//! The invariants a simulation checks on every honest node after every step:
//!
//! 1. Safety: no two finalized blocks at one height, on any two honest nodes, at any time of the
//!    run (a node's finalized chain is read from its canonical index up to its finalized block).
//! 2. Finality never goes back on a node, across its crashes too: a finalized block is durable.
//! 3. The node's state is its best block's: the state root recomputed from the stored entries is
//!    the one in the best header. The header commits to the root and every node checks it at
//!    import, so one block has one state root everywhere.
//! 4. The state machine's own invariants (`try_state`; AITBC's: the total issuance is the sum of
//!    the balances and escrows).
//!
//! Liveness is the driver's (after the faults stop), and at the end `check-db` runs over every
//! node's database.

use aitbc_client::Client;
use aitbc_primitives::commitment::{MemoryState, StateChanges};
use aitbc_primitives::{BlockNumber, Hash, StateMachine};
use aitbc_runtime::Runtime;
use std::collections::BTreeMap;

/// What the checker remembers of one node.
#[derive(Debug, Default, Clone)]
struct Seen {
    /// The highest finalized height the node reached (kept across its crashes).
    finalized: BlockNumber,
    /// The best block whose state was last checked.
    checked_best: Option<Hash>,
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct Checker {
    /// Every finalized height any honest node reached, and its block.
    finalized: BTreeMap<BlockNumber, (Hash, usize)>,
    nodes: BTreeMap<usize, Seen>,
}

impl Checker {
    /// Checks node `i` (running on `client`); `Err` describes the violation.
    pub fn check(&mut self, i: usize, name: &str, client: &Client<Runtime>) -> Result<(), String> {
        let seen = self.nodes.entry(i).or_default();
        let fin = client.finalized();
        if fin.number < seen.finalized {
            return Err(format!(
                "{name}'s finalized block went back from #{} to #{}",
                seen.finalized, fin.number
            ));
        }
        let from = seen.finalized + 1;
        seen.finalized = fin.number;
        for number in from..=fin.number {
            let hash = client
                .hash_at(number)
                .map_err(|e| format!("{name} cannot read its block #{number}: {e}"))?
                .ok_or_else(|| format!("{name} finalized #{} but has no #{number}", fin.number))?;
            match self.finalized.get(&number) {
                Some((other, by)) if *other != hash => {
                    return Err(format!(
                    "conflicting finality at #{number}: {name} finalized {hash}, node {by} {other}"
                ))
                }
                Some(_) => {}
                None => {
                    self.finalized.insert(number, (hash, i));
                }
            }
        }
        let best = client.best_header();
        let best_hash = best.hash();
        let seen = self.nodes.entry(i).or_default();
        if seen.checked_best == Some(best_hash) {
            return Ok(());
        }
        seen.checked_best = Some(best_hash);
        let entries = client
            .state_entries()
            .map_err(|e| format!("{name} cannot read its state: {e}"))?;
        let changes: StateChanges = entries
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        let root = MemoryState::new()
            .apply(&changes)
            .map_err(|e| format!("{name}'s state does not commit: {e}"))?;
        if root != best.state_root {
            return Err(format!(
                "{name}'s state root {root} is not its best block #{}'s {}",
                best.number, best.state_root
            ));
        }
        client
            .runtime()
            .try_state(&mut entries.iter().map(|(k, v)| (k.as_slice(), v.as_slice())))
            .map_err(|e| format!("{name} at #{}: {e}", best.number))
    }

    /// The highest height finalized on any honest node.
    pub fn highest_finalized(&self) -> BlockNumber {
        self.finalized.keys().next_back().copied().unwrap_or(0)
    }
}
