//! The running simulation: the nodes, the network, the fault schedule, the workload, the
//! invariant checks and the trace (see the module docs of [`super`]).

use super::byzantine::{self, Liar};
use super::clock::SimClock;
use super::faults::{Fault, Faults, Injected};
use super::invariants::Checker;
use super::node::{SimChain, SimNode};
use super::{
    workload, Report, SimConfig, LIVENESS_SLOTS, MAX_SKEW_MS, SLOT_MS, STEPS_PER_SLOT, STEP_MS,
    WARMUP_SLOTS,
};
use crate::cli::check_db;
use aitbc_chain_spec::{presets, ChainSpec, Endowment};
use aitbc_client::GenesisBlock;
use aitbc_network::memory::{Conditions, MemoryNetwork};
use aitbc_network::{Misbehaviour, SyncProvider, Topic};
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::{blake2_256, AccountId, Hash, Pair, VoteTarget};
use aitbc_runtime::Runtime;
use codec::Encode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The dev key of authority `i`.
fn authority(i: usize) -> Pair {
    dev_pair(&format!("sim-authority-{i}"))
}

/// The spec of the simulated chain: `n` authorities, the users endowed, the sim's sudo key,
/// epochs of `epoch_length` blocks.
fn spec(n: usize, epoch_length: u64) -> ChainSpec {
    let mut spec = presets::local();
    spec.id = "sim".into();
    spec.name = "Simulation".into();
    let g = &mut spec.genesis;
    g.slot_duration_ms = SLOT_MS;
    g.authorities = (0..n).map(|i| authority(i).public().to_string()).collect();
    g.balances = (0..workload::USERS)
        .map(|i| Endowment(workload::user(i).public().to_string(), workload::ENDOWMENT))
        .collect();
    g.sudo = Some(workload::root().public().to_string());
    g.params.epoch_length = epoch_length;
    spec
}

/// What a step does besides the workload and the checks.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Nothing (the warm-up; scripted runs).
    Quiet,
    /// Draws this step's faults.
    Faults,
    /// The faults have stopped (`first`: this step stops them); the Byzantine key still votes
    /// badly.
    Calm { first: bool },
}

/// The running simulation.
pub(super) struct World {
    config: SimConfig,
    rng: StdRng,
    net: Arc<MemoryNetwork>,
    spec: ChainSpec,
    chain: SimChain,
    nodes: Vec<SimNode>,
    /// Key index of each node (keys: authorities `0..n`, and `n` the standby).
    key_of: Vec<usize>,
    /// The Byzantine key's index, if any.
    byzantine: Option<usize>,
    /// The authority set the last change asked for (key indices).
    set: Vec<usize>,
    /// Steps at which crashed nodes restart.
    restarts: BTreeMap<usize, u64>,
    heal_at: Option<u64>,
    weather_until: u64,
    last_set_change: u64,
    checker: Checker,
    trace: Hash,
    /// Each node's (best, finalized) at the last trace record.
    traced: Vec<Option<(Hash, Hash)>>,
    injected: Injected,
    transactions: u64,
    step: u64,
    /// Slots from the end of the faults until every honest node finalized the target.
    recovered_after: Option<u64>,
}

impl World {
    pub(super) fn new(config: &SimConfig) -> anyhow::Result<World> {
        let n = config.nodes;
        let spec = spec(n, config.epoch_length);
        let genesis = spec.genesis()?;
        let chain = SimChain {
            runtime: Arc::new(Runtime::new(genesis.hash)),
            genesis: GenesisBlock {
                header: genesis.header,
                state: genesis.state,
                state_policy: aitbc_storage::GenesisState::IfNew,
            },
        };
        let start = tokio::time::Instant::now();
        let mut key_of: Vec<usize> = (0..n).collect();
        let byzantine = (config.faults.has(Fault::Byzantine) && n >= 4).then_some(n - 1);
        if let Some(b) = byzantine {
            key_of.push(b);
        }
        if config.faults.has(Fault::Authorities) {
            key_of.push(n);
        }
        let nodes = key_of
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let name = match (i < n, Some(*k) == byzantine) {
                    (false, true) => format!("n{k}-twin"),
                    (false, false) => format!("n{k}-standby"),
                    (true, _) => format!("n{k}"),
                };
                SimNode::new(name, Some(authority(*k)), Arc::new(SimClock::new(start)))
            })
            .collect::<Vec<_>>();
        let count = nodes.len();
        let mut world = World {
            config: config.clone(),
            rng: StdRng::seed_from_u64(config.seed),
            net: MemoryNetwork::seeded(config.seed ^ 0x006e_6574_776f_726b),
            spec,
            chain,
            nodes,
            key_of,
            byzantine,
            set: (0..n).collect(),
            restarts: BTreeMap::new(),
            heal_at: None,
            weather_until: 0,
            last_set_change: 0,
            checker: Checker::default(),
            trace: Hash::ZERO,
            traced: vec![None; count],
            injected: Injected::new(),
            transactions: 0,
            step: 0,
            recovered_after: None,
        };
        for i in 0..count {
            world.start(i)?;
        }
        Ok(world)
    }

    fn is_byzantine(&self, i: usize) -> bool {
        Some(self.key_of[i]) == self.byzantine
    }

    fn honest(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|i| !self.is_byzantine(*i))
    }

    /// Starts (or restarts) node `i`; a Byzantine node answers sync requests as a [`Liar`].
    fn start(&mut self, i: usize) -> anyhow::Result<()> {
        let byzantine = self.is_byzantine(i);
        let key = authority(self.key_of[i]);
        let others: Vec<AccountId> = (0..self.config.nodes)
            .filter(|k| *k != self.key_of[i])
            .map(|k| authority(k).public())
            .collect();
        let genesis = self.chain.genesis.header.hash();
        let seed = self.config.seed ^ (i as u64) << 32 ^ self.step;
        let wrap = move |parts: &crate::service::Parts<Runtime>| -> Arc<dyn SyncProvider> {
            if byzantine {
                Arc::new(Liar::new(
                    parts.provider.clone(),
                    key.clone(),
                    others.clone(),
                    genesis,
                    parts.voter.clone(),
                    seed,
                ))
            } else {
                parts.provider.clone()
            }
        };
        self.nodes[i].start(&self.chain, &self.net, &wrap)
    }

    fn inject(&mut self, fault: Fault) {
        *self.injected.entry(fault).or_default() += 1;
        self.record(&(b"fault", self.step, fault as u8));
    }

    fn record(&mut self, item: &impl Encode) {
        self.trace = Hash(blake2_256(&(self.trace, item).encode()));
    }

    fn chance(&mut self, one_in: u32) -> bool {
        self.rng.gen_range(0..one_in) == 0
    }

    fn slot(&self) -> u64 {
        self.step / STEPS_PER_SLOT
    }

    fn quiet_from(&self) -> u64 {
        self.config.slots - LIVENESS_SLOTS
    }

    /// Steps until the end or the first violation.
    pub(super) async fn run(&mut self) -> Result<(), String> {
        let end = self.config.slots * STEPS_PER_SLOT;
        let quiet = self.quiet_from() * STEPS_PER_SLOT;
        let mut liveness_target = None;
        while self.step < end {
            let next = self.step + 1;
            let phase = if next >= quiet {
                Phase::Calm {
                    first: next == quiet,
                }
            } else if next / STEPS_PER_SLOT >= WARMUP_SLOTS {
                Phase::Faults
            } else {
                Phase::Quiet
            };
            self.step(phase).await?;
            if next == quiet {
                liveness_target = Some(self.highest_honest_best());
            }
            if let Some(target) = liveness_target {
                if self.recovered_after.is_none() && self.lagging(target).is_none() {
                    self.recovered_after = Some(self.slot() - self.quiet_from());
                }
            }
        }
        let target = liveness_target.unwrap_or(0);
        match self.lagging(target) {
            Some((name, fin)) => Err(format!(
                "liveness: {name} finalized #{fin}, not #{target}, within {LIVENESS_SLOTS} slots \
                 after the faults stopped"
            )),
            None => Ok(()),
        }
    }

    /// One step: [`STEP_MS`] of virtual time, then what the phase does, a transfer now and
    /// then, the invariant checks and the trace.
    async fn step(&mut self, phase: Phase) -> Result<(), String> {
        tokio::time::sleep(Duration::from_millis(STEP_MS)).await;
        self.step += 1;
        match phase {
            Phase::Quiet => {}
            Phase::Faults => self.draw_faults().map_err(|e| e.to_string())?,
            Phase::Calm { first } => {
                if first {
                    self.calm().map_err(|e| e.to_string())?;
                }
                self.byzantine_votes();
            }
        }
        self.workload();
        self.check()
    }

    /// The first honest node (name, finalized height) that has not finalized `target` yet.
    fn lagging(&self, target: u64) -> Option<(String, u64)> {
        self.honest().find_map(|i| {
            let node = &self.nodes[i];
            let fin = node.client().map_or(0, |c| c.finalized().number);
            (fin < target).then(|| (node.name.clone(), fin))
        })
    }

    /// Draws this step's faults.
    fn draw_faults(&mut self) -> anyhow::Result<()> {
        let faults = self.config.faults.clone();
        let n = self.nodes.len();
        if self.step >= self.weather_until {
            self.weather_until = self.step + 8 * STEPS_PER_SLOT;
            self.weather(&faults);
        }
        if let Some(at) = self.heal_at {
            if self.step >= at {
                self.net.heal();
                self.heal_at = None;
            }
        } else if faults.has(Fault::Partition) && self.chance(40) {
            let members = self.net.members();
            let side: Vec<_> = members
                .iter()
                .filter(|_| self.rng.gen_bool(0.5))
                .copied()
                .collect();
            if !side.is_empty() && side.len() < members.len() {
                self.net.split(&side);
                self.heal_at = Some(self.step + self.rng.gen_range(2..12) * STEPS_PER_SLOT);
                self.inject(Fault::Partition);
            }
        }
        let due: Vec<usize> = self
            .restarts
            .iter()
            .filter(|(_, at)| **at <= self.step)
            .map(|(i, _)| *i)
            .collect();
        for i in due {
            self.restarts.remove(&i);
            self.start(i)?;
        }
        if faults.has(Fault::Crash) && self.chance(30) {
            let i = self.rng.gen_range(0..n);
            if self.nodes[i].is_up() {
                self.nodes[i].crash(&self.net);
                let back = self.step + self.rng.gen_range(1..10) * STEPS_PER_SLOT;
                self.restarts.insert(i, back);
                self.inject(Fault::Crash);
            }
        }
        if faults.has(Fault::Skew) && self.chance(40) {
            let i = self.rng.gen_range(0..n);
            let skew = self.rng.gen_range(-MAX_SKEW_MS..=MAX_SKEW_MS);
            self.nodes[i].clock.set_skew(skew);
            self.inject(Fault::Skew);
        }
        if let Some(b) = self.byzantine {
            if self.chance(40) {
                let topics: &[Topic] = if self.rng.gen_bool(0.5) {
                    &[Topic::Blocks]
                } else {
                    &[]
                };
                for i in (0..n).filter(|i| self.key_of[*i] == b) {
                    if let Some(peer) = self.nodes[i].peer() {
                        self.net.mute(peer, topics);
                    }
                }
                self.inject(Fault::Byzantine);
            }
            self.byzantine_votes();
        }
        if faults.has(Fault::Authorities)
            && self.slot() >= self.last_set_change + 15
            && self.chance(20)
        {
            self.change_authorities();
        }
        Ok(())
    }

    /// Draws the network's conditions for the next stretch of slots.
    fn weather(&mut self, faults: &Faults) {
        let mut conditions = Conditions::default();
        if faults.has(Fault::Drop) && self.chance(2) {
            conditions.loss_ppm = self.rng.gen_range(10_000..300_000);
            self.inject(Fault::Drop);
        }
        if faults.has(Fault::Dup) && self.chance(2) {
            conditions.duplicate_ppm = self.rng.gen_range(10_000..300_000);
            self.inject(Fault::Dup);
        }
        let mut low = 0;
        let mut high = 0;
        if faults.has(Fault::Delay) && self.chance(2) {
            low = self.rng.gen_range(1..SLOT_MS / 4);
            high = low;
            self.inject(Fault::Delay);
        }
        if faults.has(Fault::Reorder) && self.chance(2) {
            high = low + self.rng.gen_range(1..SLOT_MS);
            self.inject(Fault::Reorder);
        }
        conditions.delay_ms = low..=high;
        self.net.set_conditions(conditions);
    }

    /// The Byzantine key's bad votes, now and then.
    fn byzantine_votes(&mut self) {
        let Some(b) = self.byzantine else { return };
        if !self.chance(8) {
            return;
        }
        let Some(i) =
            (0..self.nodes.len()).find(|i| self.key_of[*i] == b && self.nodes[*i].is_up())
        else {
            return;
        };
        let node = &self.nodes[i];
        let (Some(client), Some(net), Some(voter)) = (node.client(), node.network(), node.voter())
        else {
            return;
        };
        let best = client.best_header();
        let target = |h: &aitbc_primitives::Header| VoteTarget {
            hash: h.hash(),
            number: h.number,
        };
        let other = client
            .header(&best.parent_hash)
            .ok()
            .flatten()
            .map_or(target(&best), |p| target(&p));
        let unknown = Hash(blake2_256(&(b"nowhere", self.step).encode()));
        byzantine::bad_votes(
            net,
            &authority(b),
            voter,
            &client.genesis_hash(),
            &best,
            other,
            unknown,
        );
        self.inject(Fault::Byzantine);
    }

    /// Root swaps one authority of the set for the key outside it.
    fn change_authorities(&mut self) {
        let n = self.config.nodes;
        let out = (0..=n).find(|k| !self.set.contains(k)).unwrap_or(n);
        let replaced = self.rng.gen_range(0..self.set.len());
        let mut next = self.set.clone();
        next[replaced] = out;
        let honest: Vec<usize> = self.honest().filter(|i| self.nodes[*i].is_up()).collect();
        if honest.is_empty() {
            return;
        }
        let via = honest[self.rng.gen_range(0..honest.len())];
        let Some(client) = self.nodes[via].client() else {
            return;
        };
        let keys: Vec<AccountId> = next.iter().map(|k| authority(*k).public()).collect();
        if workload::set_authorities(client, &keys) {
            self.set = next;
            self.last_set_change = self.slot();
            self.inject(Fault::Authorities);
        }
    }

    /// The faults stop (see the module docs).
    fn calm(&mut self) -> anyhow::Result<()> {
        self.net.heal();
        self.heal_at = None;
        self.net.set_conditions(Conditions::default());
        for i in std::mem::take(&mut self.restarts).into_keys() {
            self.start(i)?;
        }
        for node in &self.nodes {
            node.clock.set_skew(0);
            if let Some(peer) = node.peer() {
                self.net.mute(peer, &[]);
            }
        }
        Ok(())
    }

    fn highest_honest_best(&self) -> u64 {
        self.honest()
            .filter_map(|i| self.nodes[i].client().map(|c| c.best().number))
            .max()
            .unwrap_or(0)
    }

    /// A transfer to a random running node, every other step.
    fn workload(&mut self) {
        if !self.chance(2) {
            return;
        }
        let i = self.rng.gen_range(0..self.nodes.len());
        if let Some(client) = self.nodes[i].client().cloned() {
            if workload::transfer(&mut self.rng, &client) {
                self.transactions += 1;
            }
        }
    }

    /// Checks the invariants on every honest running node and records the step in the trace.
    fn check(&mut self) -> Result<(), String> {
        for i in 0..self.nodes.len() {
            let Some(client) = self.nodes[i].client().cloned() else {
                continue;
            };
            if !self.is_byzantine(i) {
                self.checker
                    .check(i, &self.nodes[i].name, &client)
                    .map_err(|e| format!("slot {}: {e}", self.slot()))?;
            }
            let now = (client.best().hash, client.finalized().hash);
            if self.traced[i] != Some(now) {
                self.traced[i] = Some(now);
                self.record(&(self.step, i as u32, now));
            }
        }
        Ok(())
    }

    /// Stops the nodes, runs `check-db` on every database and builds the report.
    pub(super) async fn finish(mut self, mut violation: Option<String>) -> anyhow::Result<Report> {
        for node in &mut self.nodes {
            node.stop().await;
        }
        if violation.is_none() {
            for node in &self.nodes {
                if let Err(e) = check_db::check(&node.chain_db()?, &self.spec) {
                    violation = Some(format!("check-db on {}: {e:#}", node.name));
                    break;
                }
            }
        }
        let byzantine_peers: Vec<_> = (0..self.nodes.len())
            .filter(|i| self.is_byzantine(*i))
            .filter_map(|i| self.nodes[i].peer())
            .collect();
        let reports = self.net.reports();
        let byzantine_reports = reports
            .iter()
            .filter(|(_, peer, _)| byzantine_peers.contains(peer))
            .count() as u64;
        if violation.is_none() {
            violation = reports
                .iter()
                .find(|(by, peer, what)| {
                    !byzantine_peers.contains(peer)
                        && !byzantine_peers.contains(by)
                        && blames_honesty(*what)
                })
                .map(|(by, peer, what)| {
                    format!("an honest node ({by}) charged an honest one ({peer}) with {what:?}")
                });
        }
        Ok(Report {
            config: self.config.clone(),
            slots: self.step / STEPS_PER_SLOT,
            injected: self.injected,
            network: self.net.stats(),
            byzantine_reports,
            transactions: self.transactions,
            finalized: self.checker.highest_finalized(),
            recovered_after: self.recovered_after,
            trace: self.trace,
            violation,
        })
    }
}

/// Scripted runs (`sim::scenarios`): the test, not the seed, decides the faults.
#[cfg(test)]
impl World {
    /// Runs `slots` slots of steps without drawn faults.
    pub(super) async fn run_slots(&mut self, slots: u64) -> Result<(), String> {
        for _ in 0..slots * STEPS_PER_SLOT {
            self.step(Phase::Quiet).await?;
        }
        Ok(())
    }

    pub(super) fn crash(&mut self, i: usize) {
        self.nodes[i].crash(&self.net);
    }

    pub(super) fn restart(&mut self, i: usize) -> anyhow::Result<()> {
        self.start(i)
    }

    /// Splits the nodes `side` from the others.
    pub(super) fn split(&self, side: &[usize]) {
        let peers: Vec<_> = side.iter().filter_map(|i| self.nodes[*i].peer()).collect();
        self.net.split(&peers);
    }

    pub(super) fn heal(&self) {
        self.net.heal();
    }

    /// Gossip on `topics` no longer reaches node `i` (an empty list lifts it).
    pub(super) fn deafen(&self, i: usize, topics: &[Topic]) {
        if let Some(peer) = self.nodes[i].peer() {
            self.net.deafen(peer, topics);
        }
    }

    /// Node `i`'s finalized height (0 while it is down).
    pub(super) fn finalized(&self, i: usize) -> u64 {
        self.nodes[i].client().map_or(0, |c| c.finalized().number)
    }

    /// Node `i`'s voter set id.
    pub(super) fn set_id(&self, i: usize) -> Option<u64> {
        self.nodes[i].client().map(|c| c.voter_set().id)
    }

    /// Root asks, through node `via`, for the authority set of keys `keys`.
    pub(super) fn set_authorities(&mut self, via: usize, keys: &[usize]) -> bool {
        let list: Vec<AccountId> = keys.iter().map(|k| authority(*k).public()).collect();
        let sent = self.nodes[via]
            .client()
            .is_some_and(|c| workload::set_authorities(c, &list));
        if sent {
            self.set = keys.to_vec();
        }
        sent
    }
}

/// Whether a charge says the peer broke the protocol (an honest node never earns one).
fn blames_honesty(what: Misbehaviour) -> bool {
    !matches!(what, Misbehaviour::FalseStatus)
}
