//! A deterministic simulated network of voters over an in-memory block tree, for the tests:
//! simulated time in 50 ms ticks, per-message delays and drops from a seeded RNG, gossip that
//! relays each new vote once, partitions, crashes and restarts from the persisted record, and a
//! byzantine voter that equivocates.
//!
//! The harness plays the driver: it performs each voter's actions in order, checks the
//! durable-write contract (a broadcast vote is in the record persisted just before it), verifies
//! every justification, and checks safety on every finalization.

use super::{Action, Chain, PersistedRound, Voter, VoterConfig};
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::{
    AccountId, BlockNumber, Digest, Hash, Header, Justification, Pair, SignedVote, VoteKind,
    VoteTarget,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};

pub const TICK_MS: u64 = 50;
pub const GOSSIP_MS: u64 = 100;
const REBROADCAST_MS: u64 = 1000;
pub const GENESIS_HASH: Hash = Hash([7; 32]);

/// One node's view of the block tree. The best block is the longest chain's head; on a tie the
/// current best stays (so import order decides, as on a real network).
#[derive(Debug, Clone)]
pub struct TestChain {
    headers: BTreeMap<Hash, Header>,
    pub best: Hash,
}

impl TestChain {
    pub fn new(genesis: &Header) -> TestChain {
        let hash = genesis.hash();
        TestChain {
            headers: BTreeMap::from([(hash, genesis.clone())]),
            best: hash,
        }
    }

    pub fn knows(&self, hash: &Hash) -> bool {
        self.headers.contains_key(hash)
    }

    /// Imports a header whose parent is known; returns whether it was new.
    pub fn import(&mut self, header: Header) -> bool {
        let hash = header.hash();
        if self.knows(&hash) || !self.knows(&header.parent_hash) {
            return false;
        }
        let number = header.number;
        self.headers.insert(hash, header);
        if number > self.headers[&self.best].number {
            self.best = hash;
        }
        true
    }

    pub fn target(&self, hash: &Hash) -> VoteTarget {
        VoteTarget {
            hash: *hash,
            number: self.headers[hash].number,
        }
    }

    pub fn best_target(&self) -> VoteTarget {
        self.target(&self.best)
    }

    /// `a` is `b` or descends from it.
    pub fn descends(&self, a: &VoteTarget, b: &VoteTarget) -> bool {
        a.number >= b.number && self.ancestor_at(&a.hash, b.number) == Some(b.hash)
    }

    pub fn comparable(&self, a: &VoteTarget, b: &VoteTarget) -> bool {
        self.descends(a, b) || self.descends(b, a)
    }

    /// All headers, parents first.
    pub fn headers_by_number(&self) -> Vec<Header> {
        let mut all: Vec<Header> = self.headers.values().cloned().collect();
        all.sort_by_key(|h| h.number);
        all
    }
}

impl Chain for TestChain {
    fn ancestor_at(&self, block: &Hash, number: BlockNumber) -> Option<Hash> {
        let mut hash = *block;
        let mut header = self.headers.get(&hash)?;
        if number > header.number {
            return None;
        }
        while header.number > number {
            hash = header.parent_hash;
            header = self.headers.get(&hash)?;
        }
        Some(hash)
    }

    fn number(&self, block: &Hash) -> Option<BlockNumber> {
        self.headers.get(block).map(|h| h.number)
    }

    fn best_containing(&self, base: &VoteTarget) -> Option<VoteTarget> {
        if self.number(&base.hash) != Some(base.number) {
            return None;
        }
        let best = self.best_target();
        if self.descends(&best, base) {
            return Some(best);
        }
        self.headers
            .keys()
            .map(|h| self.target(h))
            .filter(|t| self.descends(t, base))
            .max_by(|a, b| a.number.cmp(&b.number).then(b.hash.cmp(&a.hash)))
    }

    fn header(&self, hash: &Hash) -> Option<Header> {
        self.headers.get(hash).cloned()
    }
}

#[derive(Debug, Clone)]
enum Msg {
    Vote(SignedVote),
    Justification(Justification),
}

#[derive(Debug)]
pub struct Node {
    pub voter: Voter,
    pub chain: TestChain,
    pub key: Pair,
    /// The durable record (survives crashes).
    pub disk: Option<PersistedRound>,
    pub finalized: Vec<VoteTarget>,
    pub justifications: Vec<Justification>,
    pub online: bool,
    /// Byzantine: driven by the adversary, not by its voter.
    pub byzantine: bool,
    /// Partition group: messages only flow within a group.
    pub group: u8,
    /// Every vote this key broadcast, across restarts: (round, kind) -> target.
    pub sent: BTreeMap<(u64, VoteKind), VoteTarget>,
    /// Votes gossip delivered to this node (gossip dedupes by content, and relays once).
    seen: BTreeSet<Hash>,
}

#[derive(Debug)]
pub struct Net {
    pub nodes: Vec<Node>,
    /// Every block made, for global checks.
    pub all: TestChain,
    pub genesis: Header,
    pub now: u64,
    queue: BTreeMap<(u64, u64), (usize, Msg)>,
    seq: u64,
    pub rng: StdRng,
    pub drop_rate: f64,
    pub min_delay: u64,
    pub max_delay: u64,
    pub gossip_justifications: bool,
    /// The highest finalized block across honest nodes; every finalization must be on its chain.
    pub highest_final: VoteTarget,
    pub equivocations: Vec<(SignedVote, SignedVote)>,
    pub catch_ups: usize,
    blocks_made: u64,
    authorities: Vec<AccountId>,
}

pub fn genesis_header() -> Header {
    Header::genesis(Hash::of(b"sim genesis state"), "sim").expect("a short chain id")
}

impl Net {
    pub fn new(n: usize, seed: u64) -> Net {
        let genesis = genesis_header();
        let keys: Vec<Pair> = (0..n).map(|i| dev_pair(&format!("sim{i}"))).collect();
        let authorities: Vec<AccountId> = keys.iter().map(Pair::public).collect();
        let chain = TestChain::new(&genesis);
        let base = chain.target(&genesis.hash());
        let nodes = keys
            .into_iter()
            .map(|key| Node {
                voter: Voter::new(config(&authorities, &key), base, None).unwrap(),
                chain: chain.clone(),
                key,
                disk: None,
                finalized: Vec::new(),
                justifications: Vec::new(),
                online: true,
                byzantine: false,
                group: 0,
                sent: BTreeMap::new(),
                seen: BTreeSet::new(),
            })
            .collect();
        Net {
            nodes,
            all: chain,
            genesis,
            now: 0,
            queue: BTreeMap::new(),
            seq: 0,
            rng: StdRng::seed_from_u64(seed),
            drop_rate: 0.0,
            min_delay: 10,
            max_delay: 40,
            gossip_justifications: false,
            highest_final: base,
            equivocations: Vec::new(),
            catch_ups: 0,
            blocks_made: 0,
            authorities,
        }
    }

    pub fn authorities(&self) -> &[AccountId] {
        &self.authorities
    }

    /// Makes a child of `parent` and gives it to the nodes in `to`.
    pub fn add_block(&mut self, parent: Hash, to: &[usize]) -> Hash {
        self.blocks_made += 1;
        let tag = self.blocks_made;
        let header = Header {
            parent_hash: parent,
            number: self
                .all
                .number(&parent)
                .expect("parent made by the sim; qed")
                + 1,
            slot: tag,
            state_root: Hash::of(&tag.to_le_bytes()),
            extrinsics_root: Hash::ZERO,
            digest: Digest::new(),
        };
        let hash = header.hash();
        self.all.import(header.clone());
        for &i in to {
            self.import(i, header.clone());
        }
        hash
    }

    /// A chain of `count` blocks on `parent`, given to `to`; returns the head.
    pub fn extend(&mut self, mut parent: Hash, count: usize, to: &[usize]) -> Hash {
        for _ in 0..count {
            parent = self.add_block(parent, to);
        }
        parent
    }

    pub fn everyone(&self) -> Vec<usize> {
        (0..self.nodes.len()).collect()
    }

    pub fn import(&mut self, i: usize, header: Header) {
        if self.nodes[i].chain.import(header) && self.nodes[i].online && !self.nodes[i].byzantine {
            let node = &mut self.nodes[i];
            let actions = node.voter.on_block(&node.chain);
            self.perform(i, actions);
        }
    }

    /// Gives every block to every node (block sync).
    pub fn share_all_blocks(&mut self) {
        for h in self.all.headers_by_number() {
            for i in 0..self.nodes.len() {
                self.import(i, h.clone());
            }
        }
    }

    pub fn finalized_number(&self, i: usize) -> BlockNumber {
        self.nodes[i].voter.last_finalized().number
    }

    pub fn honest(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| !self.nodes[i].byzantine)
            .collect()
    }

    /// Stops a node: no ticks, messages to it are lost. Its memory is kept (a pause) unless it is
    /// later restarted.
    pub fn set_online(&mut self, i: usize, online: bool) {
        self.nodes[i].online = online;
    }

    /// Restarts a node from its durable record and last finalized block, then re-broadcasts its
    /// own votes as the driver does at start.
    pub fn restart(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        let finalized = node.finalized.last().copied().unwrap_or(VoteTarget {
            hash: self.genesis.hash(),
            number: 0,
        });
        node.voter = Voter::new(
            config(&self.authorities, &node.key),
            finalized,
            node.disk.clone(),
        )
        .unwrap();
        node.online = true;
        node.seen.clear();
        let votes = node.voter.own_votes();
        for v in votes {
            self.send(i, Msg::Vote(v));
        }
    }

    fn send(&mut self, from: usize, msg: Msg) {
        for to in 0..self.nodes.len() {
            if to != from {
                self.send_to(from, to, msg.clone());
            }
        }
    }

    fn send_to(&mut self, from: usize, to: usize, msg: Msg) {
        if self.nodes[from].group != self.nodes[to].group {
            return;
        }
        if self.drop_rate > 0.0 && self.rng.gen_bool(self.drop_rate) {
            return;
        }
        let delay = self.rng.gen_range(self.min_delay..=self.max_delay);
        self.seq += 1;
        self.queue.insert((self.now + delay, self.seq), (to, msg));
    }

    /// Performs a voter's actions in order, as the node driver would.
    pub fn perform(&mut self, i: usize, actions: Vec<Action>) {
        let mut persisted: Option<PersistedRound> = None;
        for action in actions {
            match action {
                Action::Persist(rec) => {
                    self.nodes[i].disk = Some(rec.clone());
                    persisted = Some(rec);
                }
                Action::Broadcast(vote) => {
                    // The durable-write contract: the vote is in the record persisted before it.
                    let rec = persisted
                        .as_ref()
                        .expect("a Persist precedes every Broadcast");
                    let recorded = [&rec.prevote, &rec.precommit]
                        .into_iter()
                        .flatten()
                        .any(|v| v == &vote);
                    assert!(
                        recorded && rec.round == vote.round,
                        "broadcast of an unrecorded vote"
                    );
                    let previous = self.nodes[i]
                        .sent
                        .insert((vote.round, vote.kind), vote.target);
                    assert!(
                        previous.is_none_or(|t| t == vote.target),
                        "node {i} cast two different {:?}s in round {}",
                        vote.kind,
                        vote.round
                    );
                    self.send(i, Msg::Vote(vote));
                }
                Action::Finalized(j) => self.on_finalized(i, j),
                Action::Equivocation(a, b) => {
                    assert_eq!((a.voter, a.round, a.kind), (b.voter, b.round, b.kind));
                    assert_ne!(a.target, b.target);
                    self.equivocations.push((a, b));
                }
                Action::CatchUpNeeded { round } => self.serve_catch_up(i, round),
            }
        }
    }

    fn on_finalized(&mut self, i: usize, j: Justification) {
        assert_eq!(
            j.verify(&self.authorities, 0, &GENESIS_HASH),
            Ok(()),
            "node {i} made a bad justification"
        );
        let node = &self.nodes[i];
        if let Some(prev) = node.finalized.last() {
            assert!(
                node.chain.descends(&j.target, prev),
                "node {i} finalized a block not descending from its previous one"
            );
        }
        let (h, t) = (self.highest_final, j.target);
        assert!(
            self.all.comparable(&h, &t),
            "conflicting finality: {t:?} by node {i} vs {h:?}"
        );
        if t.number > h.number {
            self.highest_final = t;
        }
        self.nodes[i].finalized.push(t);
        self.nodes[i].justifications.push(j.clone());
        if self.gossip_justifications {
            self.send(i, Msg::Justification(j));
        }
    }

    /// The driver's answer to `CatchUpNeeded`: ask a reachable peer for its previous round.
    fn serve_catch_up(&mut self, i: usize, round: u64) {
        let peer = (0..self.nodes.len()).find(|&p| {
            let n = &self.nodes[p];
            p != i
                && n.online
                && !n.byzantine
                && n.group == self.nodes[i].group
                && n.voter.round() >= round
        });
        let Some(p) = peer else {
            return;
        };
        let r = self.nodes[p].voter.round() - 1;
        let votes = self.nodes[p].voter.round_state(r);
        self.catch_ups += 1;
        let node = &mut self.nodes[i];
        let actions = node
            .voter
            .on_catch_up(r, votes, &node.chain)
            .expect("an honest peer's round state is valid");
        self.perform(i, actions);
    }

    fn deliver(&mut self, to: usize, msg: Msg) {
        let node = &mut self.nodes[to];
        if !node.online || node.byzantine {
            return;
        }
        let actions = match msg {
            Msg::Vote(v) => {
                // Gossip: drop what this node already has, relay what is new.
                if !node.seen.insert(Hash::of_encoded(&v)) {
                    return;
                }
                let actions = node
                    .voter
                    .on_vote(v.clone(), &node.chain)
                    .expect("sim votes are valid");
                self.send(to, Msg::Vote(v));
                actions
            }
            Msg::Justification(j) => {
                if j.verify(&self.authorities, 0, &GENESIS_HASH).is_err()
                    || !node.chain.knows(&j.target.hash)
                {
                    return;
                }
                node.voter.on_justification(&j, &node.chain)
            }
        };
        self.perform(to, actions);
    }

    /// One tick: deliver due messages, tick every online honest voter, re-broadcast own votes
    /// every second.
    pub fn tick(&mut self) {
        self.now += TICK_MS;
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > self.now {
                break;
            }
            let (to, msg) = entry.remove();
            self.deliver(to, msg);
        }
        for i in 0..self.nodes.len() {
            let node = &mut self.nodes[i];
            if !node.online || node.byzantine {
                continue;
            }
            let actions = node.voter.on_timer(self.now, &node.chain);
            self.perform(i, actions);
            if self.now.is_multiple_of(REBROADCAST_MS) {
                for v in self.nodes[i].voter.own_votes() {
                    self.send(i, Msg::Vote(v));
                }
            }
        }
    }

    pub fn run_for(&mut self, ms: u64) {
        let end = self.now + ms;
        while self.now < end {
            self.tick();
        }
    }

    /// Runs until `done` holds or `ms` of simulated time pass; returns whether it held.
    pub fn run_until(&mut self, ms: u64, done: impl Fn(&Net) -> bool) -> bool {
        let end = self.now + ms;
        while self.now < end {
            if done(self) {
                return true;
            }
            self.tick();
        }
        done(self)
    }

    /// Whether every listed node has finalized `head` (or a descendant).
    pub fn all_finalized(&self, nodes: &[usize], head: &VoteTarget) -> bool {
        nodes.iter().all(|&i| {
            let f = self.nodes[i].voter.last_finalized();
            self.all.descends(&f, head)
        })
    }

    pub fn target(&self, hash: &Hash) -> VoteTarget {
        self.all.target(hash)
    }

    /// The adversary: node `b` signs two different votes of a random kind for the round most
    /// honest voters are in (or one around it) and shows each half of the network one of them;
    /// sometimes for a block nobody has.
    pub fn byzantine_act(&mut self, b: usize) {
        let honest = self.honest();
        let round = honest
            .iter()
            .map(|&i| self.nodes[i].voter.round())
            .max()
            .unwrap_or(1);
        let round = (round + self.rng.gen_range(0..3)).saturating_sub(1).max(1);
        let kind = if self.rng.gen_bool(0.5) {
            VoteKind::Prevote
        } else {
            VoteKind::Precommit
        };
        let blocks = self.all.headers_by_number();
        let pick = |rng: &mut StdRng| -> VoteTarget {
            if rng.gen_bool(0.1) {
                return VoteTarget {
                    hash: Hash(rng.gen()),
                    number: rng.gen_range(0..50),
                };
            }
            let from = blocks.len().saturating_sub(12);
            let h = &blocks[rng.gen_range(from..blocks.len())];
            VoteTarget {
                hash: h.hash(),
                number: h.number,
            }
        };
        let (a, c) = (pick(&mut self.rng), pick(&mut self.rng));
        let key = self.nodes[b].key.clone();
        for to in 0..self.nodes.len() {
            if to == b {
                continue;
            }
            let t = if to % 2 == 0 { a } else { c };
            let vote = SignedVote::sign(&key, kind, t, round, 0, &GENESIS_HASH);
            self.send_to(b, to, Msg::Vote(vote));
        }
    }
}

impl Net {
    /// Each node's state, for a failing test's message.
    pub fn dump(&self) -> String {
        let mut out = format!("now {} best {:?}\n", self.now, self.all.best_target());
        for (i, n) in self.nodes.iter().enumerate() {
            let v = &n.voter;
            out += &format!(
                "node {i}{} round {} finalized {:?} best {:?}\n  prev {:?}\n  cur {:?}\n",
                if n.byzantine { " (byzantine)" } else { "" },
                v.round(),
                v.last_finalized(),
                n.chain.best_target(),
                v.summary(v.round() - 1),
                v.summary(v.round()),
            );
            for vote in v.round_state(v.round() - 1) {
                out += &format!(
                    "    r{} {:?} by {:?}: {:?}\n",
                    vote.round, vote.kind, vote.voter, vote.target
                );
            }
        }
        out
    }
}

pub fn config(authorities: &[AccountId], key: &Pair) -> VoterConfig {
    VoterConfig {
        authorities: authorities.to_vec(),
        set_id: 0,
        key: Some(key.clone()),
        genesis_hash: GENESIS_HASH,
        gossip_duration_ms: GOSSIP_MS,
    }
}
