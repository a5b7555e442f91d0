//! Scenarios over the simulated network ([`super::sim`]) and unit tests of the voter.
//! Simulated time only: the whole set runs in a few seconds.

use super::sim::{config, genesis_header, Net, TestChain, GENESIS_HASH, GOSSIP_MS};
use super::*;
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::{AccountId, Pair, SignedVote, VoteKind};
use codec::Encode;
use rand::Rng;

fn head(net: &Net, hash: &aitbc_primitives::Hash) -> VoteTarget {
    net.target(hash)
}

#[test]
fn all_honest_finalize_the_head_within_a_few_rounds() {
    let mut net = Net::new(4, 1);
    let everyone = net.everyone();
    let tip = net.extend(net.genesis.hash(), 5, &everyone);
    let tip = head(&net, &tip);
    assert!(net.run_until(5_000, |n| n.all_finalized(&everyone, &tip)));
    for i in &everyone {
        assert!(
            net.nodes[*i].voter.round() <= 3,
            "took {} rounds",
            net.nodes[*i].voter.round()
        );
    }
    // And it keeps going as the chain grows.
    let tip2 = net.extend(tip.hash, 3, &everyone);
    let tip2 = head(&net, &tip2);
    assert!(net.run_until(5_000, |n| n.all_finalized(&everyone, &tip2)));
}

#[test]
fn split_vote_finalizes_one_fork_once_chains_converge() {
    let mut net = Net::new(4, 2);
    let everyone = net.everyone();
    let common = net.extend(net.genesis.hash(), 1, &everyone);
    // Two forks of two blocks; nodes 0,1 see fork A first, nodes 2,3 fork B: best chains differ.
    let a = net.extend(common, 2, &[0, 1]);
    let b = net.extend(common, 2, &[2, 3]);
    net.share_all_blocks();
    assert_eq!(net.nodes[0].chain.best, a);
    assert_eq!(net.nodes[2].chain.best, b);
    net.run_for(3_000);
    let common_t = head(&net, &common);
    for i in &everyone {
        // The split cannot finalize either fork, only their common ancestor.
        assert!(net.finalized_number(*i) <= common_t.number);
    }
    assert!(
        net.all_finalized(&everyone, &common_t),
        "the common ancestor is final"
    );
    // The block producer extends fork A: every best chain converges on it.
    let a2 = net.add_block(a, &everyone);
    let a2 = head(&net, &a2);
    assert!(net.run_until(5_000, |n| n.all_finalized(&everyone, &a2)));
    let b_t = head(&net, &b);
    for i in &everyone {
        assert!(!net.nodes[*i]
            .finalized
            .iter()
            .any(|f| net.all.descends(f, &b_t)));
    }
}

#[test]
fn one_offline_still_finalizes_two_offline_stall_then_resume() {
    let mut net = Net::new(4, 3);
    let everyone = net.everyone();
    net.set_online(3, false);
    let tip = net.extend(net.genesis.hash(), 3, &everyone);
    let tip = head(&net, &tip);
    assert!(net.run_until(5_000, |n| n.all_finalized(&[0, 1, 2], &tip)));

    // Let node 3 fall far behind in rounds before the second one goes.
    for _ in 0..4 {
        let t = net.all.best;
        let next = net.add_block(t, &everyone);
        let next = head(&net, &next);
        assert!(net.run_until(5_000, |n| n.all_finalized(&[0, 1, 2], &next)));
    }
    let stalled_at = net.finalized_number(0);
    net.set_online(2, false);
    let tip = net.extend(net.all.best, 3, &everyone);
    let tip = head(&net, &tip);
    net.run_for(3_000);
    for i in 0..2 {
        assert_eq!(
            net.finalized_number(i),
            stalled_at,
            "2 of 4 must not finalize"
        );
    }
    // Node 2 restarts from its record; node 3 wakes up with its old state, rounds behind.
    net.restart(2);
    net.set_online(3, true);
    assert!(net.run_until(10_000, |n| n.all_finalized(&everyone, &tip)));
    assert!(
        net.catch_ups > 0,
        "node 3 caught up through a peer's round state"
    );
}

fn partition_heals(n: usize, minority: &[usize], seed: u64) {
    let mut net = Net::new(n, seed);
    let everyone = net.everyone();
    let majority: Vec<usize> = everyone
        .iter()
        .copied()
        .filter(|i| !minority.contains(i))
        .collect();
    let tip = net.extend(net.genesis.hash(), 2, &everyone);
    let tip = head(&net, &tip);
    assert!(net.run_until(5_000, |n| n.all_finalized(&everyone, &tip)));
    let before = net.finalized_number(0);

    for &i in minority {
        net.nodes[i].group = 1;
    }
    // Each side builds its own fork, unseen by the other.
    let fork_min = net.extend(tip.hash, 3, minority);
    let fork_maj = net.extend(tip.hash, 2, &majority);
    net.run_for(4_000);
    for &i in &everyone {
        assert_eq!(
            net.finalized_number(i),
            before,
            "no side has a supermajority"
        );
    }

    // Heal: everyone gets every block; the producer extends the majority's fork past the other.
    for node in &mut net.nodes {
        node.group = 0;
    }
    net.share_all_blocks();
    let end = net.extend(fork_maj, 2, &everyone);
    let end = head(&net, &end);
    assert!(net.run_until(10_000, |n| n.all_finalized(&everyone, &end)));
    let fork_min = head(&net, &fork_min);
    for i in &everyone {
        assert!(!net.nodes[*i]
            .finalized
            .iter()
            .any(|f| net.all.descends(f, &fork_min)));
    }
}

#[test]
fn partition_2_2_never_finalizes_then_converges() {
    partition_heals(4, &[0, 1], 4);
}

#[test]
fn partition_2_3_never_finalizes_then_converges() {
    partition_heals(5, &[0, 1], 5);
}

#[test]
fn restart_rebroadcasts_the_same_votes_and_never_votes_differently() {
    let mut net = Net::new(4, 6);
    let everyone = net.everyone();
    let tip = net.extend(net.genesis.hash(), 2, &everyone);
    let tip = head(&net, &tip);
    assert!(net.run_until(5_000, |n| n.all_finalized(&everyone, &tip)));
    net.extend(tip.hash, 2, &everyone);

    // Crash node 0 right after it prevoted and before it precommitted.
    let crashed = net.run_until(5_000, |n| {
        n.nodes[0]
            .disk
            .as_ref()
            .is_some_and(|d| d.round >= 2 && d.prevote.is_some() && d.precommit.is_none())
    });
    assert!(crashed);
    net.set_online(0, false);
    let record = net.nodes[0].disk.clone().unwrap();
    let prevote = record.prevote.clone().unwrap();

    // Meanwhile the best chain moves: a fresh prevote would differ.
    let tip = net.extend(net.all.best, 2, &everyone);
    net.run_for(500);

    let restored = Voter::new(
        config(net.authorities(), &net.nodes[0].key),
        net.nodes[0].voter.last_finalized(),
        Some(record.clone()),
    )
    .unwrap();
    assert_eq!(restored.round(), record.round);
    assert!(
        restored.own_votes().contains(&prevote),
        "the same vote, signature and all"
    );
    net.restart(0);
    let tip = head(&net, &tip);
    // `Net::perform` asserts on every broadcast that no key votes twice per (round, kind).
    assert!(net.run_until(10_000, |n| n.all_finalized(&everyone, &tip)));
    assert_eq!(
        net.nodes[0].sent.get(&(prevote.round, VoteKind::Prevote)),
        Some(&prevote.target)
    );
}

#[test]
fn a_vote_persisted_but_not_sent_is_sent_after_restart() {
    // A single voter's actions, with a crash between the Persist and the Broadcast.
    let (chain, ids, keys) = line_chain(4, 3);
    let mut v = Voter::new(
        config(&ids, &keys[0]),
        chain.target(&genesis_header().hash()),
        None,
    )
    .unwrap();
    v.on_timer(0, &chain);
    let actions = v.on_timer(GOSSIP_MS, &chain);
    let Some(Action::Persist(rec)) = actions.first() else {
        panic!("expected a Persist first, got {actions:?}");
    };
    let Some(Action::Broadcast(vote)) = actions.get(1) else {
        panic!("expected a Broadcast after the Persist");
    };
    assert_eq!(rec.prevote.as_ref(), Some(vote));
    // Crash: the broadcast never happened. Restart from the record, with a longer best chain.
    let mut chain2 = chain.clone();
    let tip = chain2.best;
    let next = child(&chain2, tip, 99);
    chain2.import(next);
    let mut v2 = Voter::new(
        config(&ids, &keys[0]),
        chain.target(&genesis_header().hash()),
        Some(rec.clone()),
    )
    .unwrap();
    assert_eq!(v2.own_votes(), vec![vote.clone()]);
    let mut later = v2.on_timer(10_000, &chain2);
    later.extend(v2.on_block(&chain2));
    assert!(
        !later
            .iter()
            .any(|a| matches!(a, Action::Broadcast(b) if b.kind == VoteKind::Prevote)),
        "no second prevote in round 1"
    );
}

/// A line of `len` blocks over the sim genesis, and `n` authorities.
fn line_chain(n: usize, len: u64) -> (TestChain, Vec<AccountId>, Vec<Pair>) {
    let mut chain = TestChain::new(&genesis_header());
    let mut parent = chain.best;
    for i in 0..len {
        let h = child(&chain, parent, i);
        parent = h.hash();
        chain.import(h);
    }
    let keys: Vec<Pair> = (0..n).map(|i| dev_pair(&format!("sim{i}"))).collect();
    let ids = keys.iter().map(Pair::public).collect();
    (chain, ids, keys)
}

fn child(chain: &TestChain, parent: aitbc_primitives::Hash, tag: u64) -> aitbc_primitives::Header {
    aitbc_primitives::Header {
        parent_hash: parent,
        number: chain.number(&parent).unwrap() + 1,
        slot: 1000 + tag,
        state_root: aitbc_primitives::Hash::of(&(tag, parent).encode()),
        extrinsics_root: aitbc_primitives::Hash::ZERO,
        digest: aitbc_primitives::Digest::new(),
    }
}

fn vote(p: &Pair, kind: VoteKind, t: VoteTarget, round: u64) -> SignedVote {
    SignedVote::sign(p, kind, t, round, 0, &GENESIS_HASH)
}

#[test]
fn equivocation_is_detected_and_the_second_vote_not_counted() {
    // G - X1 - X2 and G - Y1.
    let mut chain = TestChain::new(&genesis_header());
    let g = chain.best;
    let x1 = child(&chain, g, 1);
    chain.import(x1.clone());
    let x2 = child(&chain, x1.hash(), 2);
    chain.import(x2.clone());
    let y1 = child(&chain, g, 3);
    chain.import(y1.clone());
    let (x1t, x2t, y1t) = (
        chain.target(&x1.hash()),
        chain.target(&x2.hash()),
        chain.target(&y1.hash()),
    );
    let keys: Vec<Pair> = (0..4).map(|i| dev_pair(&format!("sim{i}"))).collect();
    let ids: Vec<AccountId> = keys.iter().map(Pair::public).collect();
    let observer = VoterConfig {
        key: None,
        ..config(&ids, &keys[0])
    };
    let mut v = Voter::new(observer, chain.target(&g), None).unwrap();

    let first = vote(&keys[1], VoteKind::Prevote, x1t, 1);
    let second = vote(&keys[1], VoteKind::Prevote, x2t, 1);
    assert!(v.on_vote(first.clone(), &chain).unwrap().is_empty());
    let actions = v.on_vote(second.clone(), &chain).unwrap();
    assert_eq!(
        actions,
        vec![Action::Equivocation(first.clone(), second.clone())]
    );
    // A third vote is dropped silently; a re-signed copy of the first is a duplicate.
    let third = vote(&keys[1], VoteKind::Prevote, y1t, 1);
    assert!(v.on_vote(third, &chain).unwrap().is_empty());
    let again = vote(&keys[1], VoteKind::Prevote, x1t, 1);
    assert!(v.on_vote(again, &chain).unwrap().is_empty());
    let held = v.round_state(1);
    assert!(held.contains(&first) && held.contains(&second) && held.len() == 2);

    // One more prevote for X1 and one for Y1. Counted twice, the equivocator would give X1
    // three prevotes; counted once (for every block), X1 has two and only G has three.
    v.on_vote(vote(&keys[2], VoteKind::Prevote, x1t, 1), &chain)
        .unwrap();
    assert_eq!(v.summary(1).unwrap().prevote_ghost, None);
    v.on_vote(vote(&keys[3], VoteKind::Prevote, y1t, 1), &chain)
        .unwrap();
    let s = v.summary(1).unwrap();
    assert_eq!(s.prevote_ghost, Some(chain.target(&g)));
    assert_eq!(s.prevoters, 3);

    // Forged, foreign and other-set votes are refused.
    let mut forged = vote(&keys[2], VoteKind::Precommit, y1t, 1);
    forged.signature = first.signature;
    assert_eq!(
        v.on_vote(forged, &chain),
        Err(VoteError::BadSignature(ids[2]))
    );
    let outsider = dev_pair("outsider");
    assert_eq!(
        v.on_vote(vote(&outsider, VoteKind::Prevote, y1t, 1), &chain),
        Err(VoteError::UnknownVoter(outsider.public()))
    );
    let other_set = SignedVote::sign(&keys[2], VoteKind::Prevote, y1t, 1, 5, &GENESIS_HASH);
    let err = v.on_vote(other_set, &chain).unwrap_err();
    assert_eq!(
        err,
        VoteError::WrongSet {
            expected: 0,
            found: 5
        }
    );
    assert!(!err.peer_misbehaved());
}

#[test]
fn ghost_estimate_and_completability() {
    // G - 1 - 2 - 3 (line) and a fork 2' off block 1.
    let (mut chain, ids, keys) = line_chain(4, 3);
    let t = |c: &TestChain, n: u64| VoteTarget {
        hash: c.ancestor_at(&c.best, n).unwrap(),
        number: n,
    };
    let (b1, b2, b3) = (t(&chain, 1), t(&chain, 2), t(&chain, 3));
    let fork = child(&chain, b1.hash, 77);
    let f2 = VoteTarget {
        hash: fork.hash(),
        number: 2,
    };
    chain.import(fork);
    let observer = VoterConfig {
        key: None,
        ..config(&ids, &keys[0])
    };
    let mut v = Voter::new(observer, t(&chain, 0), None).unwrap();
    // Prevotes: 3, 3, 2, 2' -> GHOST is 2 (three votes at or above it).
    for (k, target) in keys.iter().zip([b3, b3, b2, f2]) {
        v.on_vote(vote(k, VoteKind::Prevote, target, 1), &chain)
            .unwrap();
    }
    let s = v.summary(1).unwrap().clone();
    assert_eq!(s.prevote_ghost, Some(b2));
    assert!(!s.completable, "no precommits yet");
    // Precommits 2, 2, 1: block 2 could still reach 3 (one voter left): estimate 2, a child of 2
    // (block 3) could still get 3 only with the last voter plus a swayed one -> not completable.
    for (k, target) in keys.iter().zip([b2, b2, b1]) {
        v.on_vote(vote(k, VoteKind::Precommit, target, 1), &chain)
            .unwrap();
    }
    let s = v.summary(1).unwrap().clone();
    assert_eq!(s.estimate, Some(b2));
    assert!(
        s.completable,
        "block 3 can get at most 0 + 1 remaining + 1 swayed < 3"
    );
    assert_eq!(s.precommit_ghost, Some(b1));
    assert_eq!(v.last_finalized(), b1);
    assert_eq!(v.round(), 2, "round 1 completable: on to round 2");
    // The unknown-target case: a precommit for a block we lack keeps the round open elsewhere.
    let unknown = VoteTarget {
        hash: aitbc_primitives::Hash([1; 32]),
        number: 3,
    };
    assert_eq!(
        ghost::support(&chain, &unknown, &b1),
        ghost::Support::Unknown
    );
}

#[test]
fn thresholds_and_config() {
    for (n, t) in [(1, 1), (3, 3), (4, 3), (7, 5)] {
        assert_eq!(aitbc_primitives::supermajority(n), t);
    }
    let k = dev_pair("a");
    let base = VoteTarget {
        hash: genesis_header().hash(),
        number: 0,
    };
    let cfg = |auth: Vec<AccountId>| config(&auth, &k);
    assert_eq!(
        Voter::new(cfg(vec![]), base, None).unwrap_err(),
        ConfigError::NoAuthorities
    );
    assert_eq!(
        Voter::new(cfg(vec![k.public(), k.public()]), base, None).unwrap_err(),
        ConfigError::DuplicateAuthority(k.public())
    );
    // A key outside the set only observes.
    let v = Voter::new(cfg(vec![dev_pair("b").public()]), base, None).unwrap();
    assert_eq!(v.local_id(), None);
}

#[test]
fn single_authority_finalizes_alone() {
    let (chain, ids, keys) = line_chain(1, 3);
    let mut v = Voter::new(
        config(&ids, &keys[0]),
        VoteTarget {
            hash: genesis_header().hash(),
            number: 0,
        },
        None,
    )
    .unwrap();
    let mut finalized = None;
    for now in (0..1000).step_by(50) {
        for a in v.on_timer(now, &chain) {
            if let Action::Finalized(j) = a {
                j.verify(&ids, 0, &GENESIS_HASH).unwrap();
                finalized = Some(j.target.number);
            }
        }
    }
    assert_eq!(finalized, Some(3));
}

/// With nothing above its finalized block, a voter waits [`IDLE_PREVOTE_T`] `T` per round
/// instead of one (an idle chain does not spin rounds); a new block is voted on at once.
#[test]
fn an_idle_voter_waits_for_a_block_and_votes_on_one_at_once() {
    let (mut chain, ids, keys) = line_chain(1, 3);
    let genesis = VoteTarget {
        hash: genesis_header().hash(),
        number: 0,
    };
    let mut v = Voter::new(config(&ids, &keys[0]), genesis, None).unwrap();
    let mut now = 0;
    while v.last_finalized().number < 3 {
        v.on_timer(now, &chain);
        now += 10;
        assert!(now < 1_000, "never finalized the chain");
    }
    let (round, idle_from) = (v.round(), now);
    while now < idle_from + 4_000 {
        v.on_timer(now, &chain);
        now += 10;
    }
    let idle_rounds = v.round() - round;
    assert!(
        (4_000 / (IDLE_PREVOTE_T * GOSSIP_MS) - 2..=4_000 / (IDLE_PREVOTE_T * GOSSIP_MS) + 1)
            .contains(&idle_rounds),
        "{idle_rounds} rounds in 40 T"
    );
    let tip = chain.best;
    let h = child(&chain, tip, 99);
    let four = VoteTarget {
        hash: h.hash(),
        number: 4,
    };
    chain.import(h);
    v.on_block(&chain);
    let voted_from = now;
    while v.last_finalized() != four {
        v.on_timer(now, &chain);
        now += 10;
        assert!(
            now - voted_from <= 2 * GOSSIP_MS,
            "block 4 waited like an idle round"
        );
    }
}

#[test]
fn a_justification_from_sync_moves_a_node_forward_but_it_votes_only_from_a_completable_view() {
    let mut net = Net::new(4, 9);
    let everyone = net.everyone();
    let tip = net.extend(net.genesis.hash(), 4, &everyone);
    let tip = head(&net, &tip);
    assert!(net.run_until(5_000, |n| n.all_finalized(&everyone, &tip)));
    let more = net.extend(tip.hash, 2, &everyone);
    let more = head(&net, &more);
    assert!(net.run_until(5_000, |n| n.all_finalized(&everyone, &more)));
    let j = net.nodes[0].justifications.last().unwrap().clone();
    assert!(j.round >= 2);

    // A fresh voter (key of node 1, no record) far behind gets the justification.
    let chain = net.nodes[1].chain.clone();
    let genesis = chain.target(&net.genesis.hash());
    let mut v = Voter::new(config(net.authorities(), &net.nodes[1].key), genesis, None).unwrap();
    let actions = v.on_justification(&j, &chain);
    assert_eq!(v.last_finalized(), j.target);
    assert_eq!(v.round(), j.round + 1);
    // It holds only round j's precommits: no completable view, so it does not vote yet.
    let later = v.on_timer(1_000_000, &chain);
    assert!(
        !actions
            .iter()
            .chain(&later)
            .any(|a| matches!(a, Action::Broadcast(_))),
        "no vote without a completable view of the previous round"
    );
    // A peer's full round state of round j gives it one: now it votes in round j + 1.
    let state = net.nodes[0].voter.round_state(j.round);
    assert!(!state.is_empty());
    let mut acts = v.on_catch_up(j.round, state, &chain).unwrap();
    acts.extend(v.on_timer(2_000_000, &chain));
    assert!(acts
        .iter()
        .any(|a| matches!(a, Action::Broadcast(b) if b.round == j.round + 1)));
}

#[test]
fn catch_up_answers_are_checked() {
    let mut net = Net::new(4, 10);
    let everyone = net.everyone();
    let tip = net.extend(net.genesis.hash(), 3, &everyone);
    let tip = head(&net, &tip);
    assert!(net.run_until(5_000, |n| n.all_finalized(&everyone, &tip)));
    let r = net.nodes[0].voter.round() - 1;
    let mut votes = net.nodes[0].voter.round_state(r);
    let chain = net.nodes[0].chain.clone();
    let genesis = chain.target(&net.genesis.hash());
    let fresh = |net: &Net| {
        let observer = VoterConfig {
            key: None,
            ..config(net.authorities(), &net.nodes[0].key)
        };
        Voter::new(observer, genesis, None).unwrap()
    };
    let mut wrong_round = votes.clone();
    wrong_round[0] = vote(&net.nodes[0].key, VoteKind::Prevote, tip, r + 1);
    assert!(matches!(
        fresh(&net).on_catch_up(r, wrong_round, &chain),
        Err(VoteError::WrongRound { .. })
    ));
    let mut forged = votes.clone();
    forged[0].signature = forged[1].signature;
    assert!(matches!(
        fresh(&net).on_catch_up(r, forged, &chain),
        Err(VoteError::BadSignature(_))
    ));
    let mut v = fresh(&net);
    votes.reverse();
    v.on_catch_up(r, votes, &chain).unwrap();
    assert_eq!(v.round(), r + 1);
    assert!(v.last_finalized().number >= tip.number);
}

/// Chaos, then calm: `n` voters of which `byzantine` equivocate at random, random delays and
/// drops, blocks on random recent forks seen by random subsets, a crash and restart. Safety is
/// checked on every finalization (`Net::on_finalized`) and every broadcast (`Net::perform`);
/// after the network heals, honest voters must finalize the head.
fn chaos(n: usize, byzantine: &[usize], seed: u64, drop_rate: f64) {
    let mut net = Net::new(n, seed);
    for &b in byzantine {
        net.nodes[b].byzantine = true;
    }
    net.drop_rate = drop_rate;
    net.min_delay = 0;
    net.max_delay = 400;
    net.gossip_justifications = true;
    let honest = net.honest();
    let everyone = net.everyone();
    for step in 0..300 {
        if step % 4 == 0 {
            // Authors build on recent blocks, never on a fork that conflicts with finality.
            let fin = net.highest_final;
            let blocks: Vec<_> = net
                .all
                .headers_by_number()
                .into_iter()
                .filter(|h| net.all.descends(&net.all.target(&h.hash()), &fin))
                .collect();
            let from = blocks.len().saturating_sub(6);
            let parent = blocks[net.rng.gen_range(from..blocks.len())].hash();
            let to: Vec<usize> = everyone
                .iter()
                .copied()
                .filter(|_| net.rng.gen_bool(0.7))
                .collect();
            net.add_block(parent, &to);
        }
        if step % 20 == 0 {
            net.share_all_blocks();
        }
        for &b in byzantine {
            if net.rng.gen_bool(0.3) {
                net.byzantine_act(b);
            }
        }
        if step == 150 {
            net.set_online(honest[0], false);
        }
        if step == 170 {
            net.restart(honest[0]);
        }
        net.tick();
    }
    net.drop_rate = 0.0;
    net.max_delay = 50;
    net.share_all_blocks();
    // The author builds on the finalized chain; if votes still in flight finalize a side
    // branch first, it moves there.
    let mut ok = false;
    for _ in 0..5 {
        let base = net.all.best_containing(&net.highest_final).unwrap();
        let tip = net.extend(base.hash, 3, &everyone);
        let tip = head(&net, &tip);
        ok = net.run_until(10_000, |n| {
            n.all_finalized(&honest, &tip) || !n.all.descends(&tip, &n.highest_final)
        });
        ok &= net.all_finalized(&honest, &tip);
        if ok {
            break;
        }
    }
    assert!(
        ok,
        "seed {seed}: honest voters did not finalize after the network healed\n{}",
        net.dump()
    );
    assert!(
        !net.equivocations.is_empty(),
        "seed {seed}: no equivocation caught"
    );
    let byz: Vec<AccountId> = byzantine
        .iter()
        .map(|&b| net.nodes[b].key.public())
        .collect();
    for e in &net.equivocations {
        assert!(byz.contains(&e.0.voter), "only byzantine voters equivocate");
    }
}

#[test]
fn randomized_byzantine_simulation_never_finalizes_conflicting_blocks() {
    for seed in 0..5 {
        chaos(4, &[3], 100 + seed, 0.1);
    }
    chaos(7, &[1, 5], 200, 0.2);
}

#[test]
fn golden_persisted_round_encoding() {
    let v = |kind, round| SignedVote {
        round,
        set_id: 2,
        kind,
        target: VoteTarget {
            hash: aitbc_primitives::Hash([0xab; 32]),
            number: 9,
        },
        voter: AccountId([0x11; 32]),
        signature: aitbc_primitives::Signature([0x22; 64]),
    };
    let rec = PersistedRound {
        set_id: 2,
        round: 5,
        prev_estimate: Some(VoteTarget {
            hash: aitbc_primitives::Hash([0xcd; 32]),
            number: 8,
        }),
        prevote: Some(v(VoteKind::Prevote, 5)),
        precommit: None,
        previous: aitbc_primitives::BoundedVec::try_from_vec(vec![v(VoteKind::Precommit, 4)])
            .unwrap(),
    };
    let bytes = rec.encode();
    assert_eq!(
        hex::encode(aitbc_primitives::Hash::of(&bytes).as_bytes()),
        "eea90b22088fa4cf0fcae22ea17b8d2e0dd2d90dcb8b0321bb9f714f172d88e9"
    );
    assert_eq!(
        aitbc_primitives::decode_exact::<PersistedRound>(&bytes),
        Ok(rec)
    );
}

/// Round numbers come from peers: any u64, up to the last one, is handled without overflow
/// (a debug build would panic on `round + 1`).
#[test]
fn rounds_at_the_end_of_u64_do_not_overflow() {
    let (chain, ids, keys) = line_chain(4, 2);
    let genesis = chain.target(&genesis_header().hash());
    let mut v = Voter::new(config(&ids, &keys[0]), genesis, None).unwrap();
    for round in [u64::MAX, u64::MAX - 1, u64::MAX / 2] {
        for k in &keys[1..] {
            let _ = v.on_vote(vote(k, VoteKind::Prevote, genesis, round), &chain);
            let _ = v.on_vote(vote(k, VoteKind::Precommit, genesis, round), &chain);
        }
        let votes: Vec<SignedVote> = keys[1..]
            .iter()
            .map(|k| vote(k, VoteKind::Precommit, genesis, round))
            .collect();
        let _ = v.on_catch_up(round, votes, &chain);
        let _ = v.on_timer(u64::MAX, &chain);
    }
    assert!(v.round() >= 1);
}
