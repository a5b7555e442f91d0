//! Protocol scenarios, scripted on the simulator: the faults are the test's, not the seed's.
//! They ran over libp2p in real time before (150 ms slots, deadlines on a busy machine); here
//! each is deterministic, runs in virtual time, and every step checks the invariants (no
//! conflicting finality, finality never back, state roots, issuance) on top of what the test
//! asserts. The transport itself keeps its libp2p tests.

use super::faults::Faults;
use super::world::World;
use super::SimConfig;

/// Four authorities (no twin, no standby) on a paused single-threaded runtime.
struct Script {
    runtime: tokio::runtime::Runtime,
    world: Option<World>,
}

impl Script {
    fn new(seed: u64) -> Script {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a runtime");
        let config = SimConfig {
            seed,
            nodes: 4,
            slots: 100,
            faults: Faults::none(),
            // No elections: the scripts count the set changes they make.
            epoch_length: 1_000_000,
        };
        let world = runtime.block_on(async { World::new(&config) });
        Script {
            runtime,
            world: Some(world.expect("a world")),
        }
    }

    fn world(&mut self) -> &mut World {
        self.world.as_mut().expect("not finished")
    }

    /// Runs `slots` slots; the invariants hold at every step.
    fn run(&mut self, slots: u64) {
        let Script { runtime, world } = self;
        let world = world.as_mut().expect("not finished");
        if let Err(e) = runtime.block_on(world.run_slots(slots)) {
            panic!("invariant broken: {e}");
        }
    }

    /// Restarts node `i` from its disks (inside the runtime: it spawns the node's workers).
    fn restart(&mut self, i: usize) {
        let _entered = self.runtime.enter();
        self.world
            .as_mut()
            .expect("not finished")
            .restart(i)
            .expect("a restart");
    }

    /// Asserts that every node of `nodes` has enacted set `id`.
    fn assert_set_id(&mut self, nodes: &[usize], id: u64) {
        for i in nodes {
            assert_eq!(
                self.world().set_id(*i),
                Some(id),
                "node {i} has not enacted set {id}"
            );
        }
    }

    fn finalized(&mut self, nodes: &[usize]) -> Vec<u64> {
        nodes.iter().map(|i| self.world().finalized(*i)).collect()
    }

    /// Stops every node, runs `check-db` on each database; no honest node charged another.
    fn finish(mut self) {
        let world = self.world.take().expect("not finished");
        let report = self.runtime.block_on(world.finish(None)).expect("a report");
        assert!(report.violation.is_none(), "{:?}", report.violation);
    }
}

/// One authority down: finality goes on, and after its restart it catches up and votes again.
/// Two of four down: finality stops (no 2/3 left); back: it resumes.
#[test]
fn authorities_down_and_back() {
    let mut s = Script::new(11);
    s.run(6);
    assert!(s.finalized(&[0, 1, 2, 3]).iter().all(|f| *f >= 3));
    s.world().crash(3);
    let before = s.world().finalized(0);
    s.run(6);
    assert!(s.finalized(&[0, 1, 2]).iter().all(|f| *f >= before + 4));
    s.restart(3);
    s.run(6);
    let fin = s.world().finalized(0);
    assert!(
        s.world().finalized(3) + 2 >= fin,
        "the restarted node catches up"
    );

    s.world().crash(2);
    s.world().crash(3);
    s.run(2);
    let stalled = s.world().finalized(0);
    s.run(12);
    assert!(
        s.finalized(&[0, 1]).iter().all(|f| *f <= stalled + 1),
        "no finality with two of four authorities"
    );
    s.restart(2);
    s.restart(3);
    s.run(10);
    assert!(s.finalized(&[0, 1, 2, 3]).iter().all(|f| *f >= stalled + 3));
    s.finish();
}

/// A 3|1 split: the three (a 2/3 majority) finalize, the one never does; after the heal it
/// converges on the majority's chain, and nothing finalized was reverted.
#[test]
fn a_minority_never_finalizes_and_converges_after_the_heal() {
    let mut s = Script::new(12);
    s.run(4);
    s.world().split(&[3]);
    s.run(2);
    let split_at = s.world().finalized(3);
    s.run(10);
    assert_eq!(s.world().finalized(3), split_at, "the minority finalized");
    let majority = s.finalized(&[0, 1, 2]);
    assert!(majority.iter().all(|f| *f >= split_at + 6), "{majority:?}");
    s.world().heal();
    let target = s.world().finalized(0) + 2;
    s.run(8);
    assert!(s.finalized(&[0, 1, 2, 3]).iter().all(|f| *f >= target));
    s.finish();
}

/// Root sets the authorities to the first two; once the change block is final everywhere the
/// new set votes alone: with the other two down (2 of the old 4, no supermajority) the two
/// still finalize. A restart keeps the set.
#[test]
fn an_authority_set_change_takes_effect_at_finality() {
    let mut s = Script::new(13);
    s.run(3);
    assert!(s.world().set_authorities(0, &[0, 1]));
    s.run(6);
    s.assert_set_id(&[0, 1, 2, 3], 1);
    s.world().crash(2);
    s.world().crash(3);
    let fin = s.world().finalized(0);
    s.run(6);
    assert!(s.finalized(&[0, 1]).iter().all(|f| *f >= fin + 4));
    s.world().crash(1);
    s.restart(1);
    assert_eq!(s.world().set_id(1), Some(1), "the set survives the restart");
    let fin = s.world().finalized(0);
    s.run(4);
    assert!(s.finalized(&[0, 1]).iter().all(|f| *f >= fin + 2));
    s.restart(2);
    s.restart(3);
    s.run(4);
    s.finish();
}

/// A node cut off while the authority set changes misses the old set's last rounds, and the new
/// set's votes mean nothing to its voter. After the heal the blocks it fetches bring the
/// justifications: it enacts the change and votes with the new set.
#[test]
fn a_node_cut_off_during_a_set_change_enacts_it_after_the_heal() {
    let mut s = Script::new(14);
    s.run(3);
    s.world().split(&[3]);
    assert!(s.world().set_authorities(0, &[0, 1, 2, 3]));
    s.run(8);
    s.assert_set_id(&[0, 1, 2], 1);
    assert_eq!(
        s.world().set_id(3),
        Some(0),
        "the cut-off node enacted the set"
    );
    s.world().heal();
    s.run(12);
    assert_eq!(s.world().set_id(3), Some(1), "still in the old set");
    let fin = s.finalized(&[0, 1, 2, 3]);
    assert!(fin[3] + 2 >= fin[0], "{fin:?}");
    s.finish();
}

/// A node that hears the blocks but none of the votes while the authority set changes: its best
/// block is never behind, so no range sync brings it a justification, and the old set's votes
/// it missed are never sent again. It fetches the justifications once the others' finality is
/// ahead of its own (as it sees their status: refreshed every 15 s), enacts the change and
/// goes on finalizing (before, it stayed in the old set for good).
#[test]
fn a_node_that_missed_a_set_changes_votes_fetches_the_justifications() {
    let mut s = Script::new(15);
    s.run(3);
    s.world().deafen(3, &[aitbc_network::Topic::Votes]);
    let deaf_at = s.world().finalized(3);
    assert!(s.world().set_authorities(0, &[0, 1, 2]));
    // Its view of the others' finality is refreshed every 15 s, as over libp2p.
    s.run(24);
    s.assert_set_id(&[0, 1, 2, 3], 1);
    let fin = s.world().finalized(3);
    assert!(fin >= deaf_at + 8, "finalized #{fin} since #{deaf_at}");
    s.finish();
}
