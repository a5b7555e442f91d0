//! Crash safety of the chain database through the real client: power cuts at every sync (with
//! and without torn unsynced writes), durability of each block and finalization before the
//! client reports it, and a full disk. The disk is [`TestDisk`]; every reopened image is checked
//! with `check-db`'s checks.

use crate::cli::check_db;
use aitbc_chain_spec::ChainSpec;
use aitbc_client::metrics::Metrics;
use aitbc_client::{Client, GenesisBlock, ImportError};
use aitbc_consensus::slots::slot_at;
use aitbc_consensus::{Clock, SystemClock};
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{Extrinsic, Pair, StateMachine};
use aitbc_runtime::{Call, Runtime};
use aitbc_storage::test_disk::TestDisk;
use aitbc_storage::ChainDb;
use aitbc_storage::{BlockRef, StorageError};
use aitbc_txpool::{PoolLimits, TxPool};
use codec::Encode;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SLOT_MS: u64 = 20;

/// The `local` chain (four authorities: blocks are final only when `finalize` says so) or the
/// `dev` chain (one authority: final at import), with short slots.
fn spec(local: bool) -> ChainSpec {
    let mut spec = if local {
        ChainSpec::local()
    } else {
        ChainSpec::dev()
    };
    spec.genesis.slot_duration_ms = SLOT_MS;
    spec
}

fn open_client(spec: &ChainSpec, disk: &TestDisk) -> Result<Client<Runtime>, StorageError> {
    let genesis = spec.genesis().expect("genesis");
    Client::open_with(
        Arc::new(Runtime::new(genesis.hash)),
        &GenesisBlock {
            header: genesis.header,
            state: genesis.state,
            state_policy: aitbc_storage::GenesisState::IfNew,
        },
        |g| ChainDb::open_with_backend(disk.backend(), g),
        TxPool::new(PoolLimits::default()),
        Arc::new(Metrics::default()),
    )
}

/// Opens a copy of `image` as a database and runs `check-db`'s checks on it.
fn check_image(spec: &ChainSpec, image: Vec<u8>) -> check_db::Summary {
    let db = ChainDb::open_existing_with_backend(TestDisk::from_image(image).backend())
        .expect("the image opens");
    check_db::check(&db, spec).unwrap_or_else(|e| panic!("check failed: {e:#}"))
}

/// The best and finalized blocks of an image.
fn heads(image: Vec<u8>) -> (BlockRef, BlockRef) {
    let db = ChainDb::open_existing_with_backend(TestDisk::from_image(image).backend())
        .expect("the image opens");
    (db.best().expect("best"), db.finalized().expect("finalized"))
}

/// Whether the image's canonical chain has `at`.
fn has_block(image: Vec<u8>, at: BlockRef) -> bool {
    let db = ChainDb::open_existing_with_backend(TestDisk::from_image(image).backend())
        .expect("the image opens");
    db.hash_at(at.number).expect("read") == Some(at.hash)
}

/// Drives a client like the authoring worker: transfers in the pool, blocks on the clock.
struct Driver {
    client: Client<Runtime>,
    nonces: [u64; 2],
}

impl Driver {
    fn new(spec: ChainSpec, disk: &TestDisk) -> Self {
        let client = open_client(&spec, disk).expect("open");
        let nonces = ["eve", "ferdie"].map(|who| {
            let state = client.state().expect("state");
            client
                .runtime()
                .account(&state, &dev_pair(who).public())
                .nonce
        });
        Driver { client, nonces }
    }

    /// Submits a few transfers from //eve and //ferdie.
    fn submit(&mut self, count: usize) {
        let genesis = self.client.genesis_hash();
        for i in 0..count {
            let who = i % 2;
            let from = dev_pair(["eve", "ferdie"][who]);
            let xt = Extrinsic::sign(
                &from,
                Call::transfer(dev_pair("dave").public(), 1 + i as u128),
                TxParams {
                    nonce: self.nonces[who],
                    ..TxParams::default()
                },
                genesis,
            );
            let len = xt.encoded_size();
            self.client.submit_decoded(xt, len).expect("pooled");
            self.nonces[who] += 1;
        }
    }

    /// Authors the next block in the first usable slot (with the slot's author's key).
    fn author(&self) -> Result<BlockRef, ImportError> {
        let parent = self.client.best_header();
        let schedule = {
            let state = self.client.state()?;
            self.client.runtime().author_schedule(&state)
        };
        let slot = loop {
            let now = slot_at(SystemClock.now_ms(), SLOT_MS);
            let slot = now.max(parent.slot + 1);
            if slot <= now + 1 {
                break slot;
            }
            std::thread::sleep(Duration::from_millis(SLOT_MS / 2));
        };
        let author = schedule.author(slot).expect("an author");
        let pair: Pair = ["alice", "bob", "charlie", "dave"]
            .iter()
            .map(|n| dev_pair(n))
            .find(|p| &p.public() == author)
            .expect("a dev authority");
        let deadline = Instant::now() + Duration::from_secs(2);
        let (at, _) = self
            .client
            .author_block(slot, deadline, &pair, |_| Ok(()))?
            .expect("not refused by the slot record");
        Ok(at)
    }
}

/// What the client reported, and how many syncs the disk had completed when it did.
#[derive(Debug, Clone, Copy)]
struct Reported {
    block: BlockRef,
    finalized: bool,
    after_syncs: u64,
}

/// Each block commit and each finalization is on the durable image when the client returns
/// (before the authoring worker announces the block, before the voter learns of it); a power cut
/// just before any sync, with or without torn unsynced writes, leaves a database that opens,
/// passes every check and holds everything reported before the cut; the reopened client authors
/// on.
#[test]
fn power_cuts_lose_nothing_reported() {
    let spec = spec(true);
    let disk = TestDisk::new();
    let mut d = Driver::new(spec.clone(), &disk);
    disk.capture_syncs(true);
    let mut reported: Vec<Reported> = Vec::new();
    for i in 0..12u64 {
        d.submit(6);
        let at = d.author().expect("authored");
        // The moment the client returns, before anything is announced: durable already.
        assert!(
            has_block(disk.power_cut(), at),
            "block #{} not durable when the client returned",
            at.number
        );
        reported.push(Reported {
            block: at,
            finalized: false,
            after_syncs: disk.syncs(),
        });
        if i % 3 == 2 {
            // Finalize what the voters would (a block a little behind the head).
            let target = reported[reported.len() - 2].block;
            d.client.finalize(target, None).expect("finalized");
            assert_eq!(heads(disk.power_cut()).1, target, "finality not durable");
            reported.push(Reported {
                block: target,
                finalized: true,
                after_syncs: disk.syncs(),
            });
            // And the pruner's write (cut before its sync too, below).
            let pruned = d
                .client
                .prune_history(aitbc_storage::Pruning::Keep(0), 0, usize::MAX)
                .expect("pruned");
            assert!(pruned > 0, "finalized blocks left no stale tree nodes");
        }
    }
    let captures = disk.take_captures();
    // One sync per commit: 12 blocks, 4 finalizations and 4 prunes.
    assert!(
        captures.len() >= 20,
        "only {} syncs captured",
        captures.len()
    );
    let mut torn_newer = 0;
    for c in &captures {
        let expected: Vec<&Reported> = reported
            .iter()
            .filter(|r| r.after_syncs <= c.after_syncs)
            .collect();
        for (kind, image) in [("clean", &c.clean), ("torn", &c.torn)] {
            let summary = check_image(&spec, image.clone());
            let (best, fin) = (summary.best, summary.finalized);
            for r in &expected {
                let what = if r.finalized { "finalization" } else { "block" };
                assert!(
                    best.number >= r.block.number
                        && has_block(image.clone(), r.block)
                        && (!r.finalized || fin.number >= r.block.number),
                    "{kind} cut after {} syncs lost the {what} of #{} (best #{}, finalized #{})",
                    c.after_syncs,
                    r.block.number,
                    best.number,
                    fin.number
                );
            }
            if kind == "torn" && best.number > check_image(&spec, c.clean.clone()).best.number {
                torn_newer += 1;
            }
        }
    }
    // The last cut: reopen and go on authoring on the reopened database.
    drop(d);
    let last = reported.last().expect("reported").block;
    let disk = TestDisk::from_image(disk.power_cut());
    let mut d = Driver::new(spec.clone(), &disk);
    assert!(d.client.best().number >= last.number);
    d.submit(4);
    let at = d.author().expect("authoring goes on after the cut");
    assert_eq!(at.number, d.client.best().number);
    drop(d);
    let summary = check_image(&spec, disk.power_cut());
    assert!(summary.txs >= 12 * 6, "{summary}");
    eprintln!(
        "{} cuts checked clean and torn ({torn_newer} torn cuts kept a newer commit); {summary}",
        captures.len()
    );
}

/// A full disk: the write fails with a clear error (no panic, no hang), every later write is
/// refused and the failure is reported (the node stops on it); the database as the process left
/// it and as a power cut leaves it opens, passes every check and holds every block reported
/// before the fault; once the disk has space again a reopened client authors on.
#[test]
fn full_disk_stops_writes_and_restart_recovers() {
    for local in [false, true] {
        let spec = spec(local);
        let disk = TestDisk::new();
        let mut d = Driver::new(spec.clone(), &disk);
        let mut last = d.client.best();
        for _ in 0..4 {
            d.submit(4);
            last = d.author().expect("authored");
        }
        let failure = d.client.storage_failure();
        assert!(failure.borrow().is_none());
        disk.fail_writes(true);
        d.submit(4);
        let err = d.author().expect_err("the commit fails");
        assert!(matches!(err, ImportError::Storage(_)), "{err}");
        assert!(err.to_string().contains("No space left"), "{err}");
        let reason = failure.borrow().clone().expect("the failure is reported");
        assert!(reason.contains("block commit"), "{reason}");
        assert_eq!(d.client.best(), last, "the failed block is not the best");
        // Space is back, but this database stays failed (redb latches I/O errors): refused
        // with a clear error until reopened.
        disk.fail_writes(false);
        let err = d.author().expect_err("refused until reopened");
        assert!(err.to_string().contains("restart the node"), "{err}");
        assert!(disk.failed_ops() > 0);
        drop(d);

        for (kind, image) in [
            ("process exit", disk.volatile()),
            ("power cut", disk.power_cut()),
        ] {
            let summary = check_image(&spec, image.clone());
            assert_eq!(summary.best, last, "{kind}: best block");
            if !local {
                assert_eq!(summary.finalized, last, "{kind}: finalized block");
            }
            let disk = TestDisk::from_image(image);
            let mut d = Driver::new(spec.clone(), &disk);
            d.submit(4);
            let at = d.author().expect("authoring resumes after the restart");
            assert_eq!(at.number, last.number + 1, "{kind}");
            drop(d);
            check_image(&spec, disk.power_cut());
        }
    }
}
