use super::*;
use aitbc_primitives::bulk::SortedState;
use aitbc_primitives::commitment::MemoryState;
use aitbc_primitives::StateView;
use redb::ReadableTableMetadata;

fn genesis(seed: &[u8]) -> (SortedState, Hash) {
    let changes: StateChanges = [(b"k".to_vec(), Some(seed.to_vec()))].into_iter().collect();
    (SortedState::from_changes(changes), Hash::of(seed))
}

#[test]
fn genesis_written_once_and_other_chains_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.redb");
    let (state, hash) = genesis(b"a");
    let g = GenesisWrite {
        hash,
        encoded_header: b"header",
        encoded_block: b"block",
        state: &state,
        state_policy: Default::default(),
    };
    {
        let db = ChainDb::open(&path, &g).unwrap();
        assert_eq!(db.best().unwrap(), BlockRef { number: 0, hash });
        assert_eq!(db.state_view().unwrap().get(b"k"), Some(b"a".to_vec()));
    }
    let db = ChainDb::open(&path, &g).unwrap();
    assert_eq!(db.finalized().unwrap().hash, hash);
    drop(db);
    let (s2, other) = genesis(b"b");
    let g2 = GenesisWrite {
        hash: other,
        encoded_header: b"header",
        encoded_block: b"block",
        state: &s2,
        state_policy: Default::default(),
    };
    let err = ChainDb::open(&path, &g2).unwrap_err();
    assert!(matches!(err, StorageError::WrongGenesis { .. }), "{err}");
    assert!(err.to_string().contains("another chain"));
}

#[test]
fn block_commit_updates_state_root_and_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let (state, hash) = genesis(b"a");
    let db = ChainDb::open(
        &dir.path().join("c.redb"),
        &GenesisWrite {
            hash,
            encoded_header: b"gh",
            encoded_block: b"g",
            state: &state,
            state_policy: Default::default(),
        },
    )
    .unwrap();
    // Mirror the writes in memory: the roots must agree.
    let mut mirror = state.to_memory_state();
    let block1: StateChanges = [(b"k".to_vec(), None), (b"x".to_vec(), Some(b"1".to_vec()))]
        .into_iter()
        .collect();
    let view = db.state_view().unwrap();
    let update = view.commit(&block1).unwrap();
    drop(view);
    let at = BlockRef {
        number: 1,
        hash: Hash::of(b"b1"),
    };
    let record = TxRecord {
        block: at,
        index: 0,
        offset: 0,
        len: 0,
        outcome: vec![1],
    };
    db.commit_block(&BlockWrite {
        block: StoredBlock {
            at,
            encoded_header: b"h1",
            encoded_block: b"b1",
            author: Some(aitbc_primitives::crypto::dev_pair("alice").public()),
        },
        txs: vec![(Hash::of(b"tx"), record.clone())],
        changes: &block1,
        commitment: &update,
        finalized: true,
        voter_set: None,
        justification: None,
        set_change: false,
    })
    .unwrap();
    assert_eq!(update.root, mirror.apply(&block1).unwrap());
    assert_eq!(db.best().unwrap(), at);
    assert_eq!(db.hash_at(1).unwrap(), Some(at.hash));
    assert_eq!(
        db.author(&at.hash).unwrap(),
        Some(aitbc_primitives::crypto::dev_pair("alice").public())
    );
    assert_eq!(db.author(&hash).unwrap(), None, "genesis has no author");
    assert_eq!(db.tx(&Hash::of(b"tx")).unwrap(), Some(record));
    let view = db.state_view().unwrap();
    assert_eq!(view.get(b"k"), None);
    let (value, proof) = view.prove(b"x").unwrap();
    assert_eq!(value, Some(b"1".to_vec()));
    assert!(aitbc_primitives::commitment::verify_proof(
        &update.root,
        b"x",
        Some(b"1"),
        &proof
    ));
    let (absent, proof) = view.prove(b"k").unwrap();
    assert!(absent.is_none());
    assert!(aitbc_primitives::commitment::verify_proof(
        &update.root,
        b"k",
        None,
        &proof
    ));
}

fn tree_len(db: &ChainDb) -> u64 {
    db.db
        .begin_read()
        .unwrap()
        .open_table(TREE)
        .unwrap()
        .len()
        .unwrap()
}

fn key(i: u32) -> Vec<u8> {
    format!("key-{i}").into_bytes()
}

/// Commits block `n` (hash of its number) with `changes` on `db`'s best state; returns its ref
/// and root.
fn commit_changes(
    db: &ChainDb,
    n: u64,
    changes: &StateChanges,
    finalized: bool,
) -> (BlockRef, Hash) {
    let update = db.state_view().unwrap().commit(changes).unwrap();
    let at = BlockRef {
        number: n,
        hash: Hash::of(&n.to_le_bytes()),
    };
    db.commit_block(&BlockWrite {
        block: StoredBlock {
            at,
            encoded_header: b"h",
            encoded_block: b"b",
            author: None,
        },
        txs: Vec::new(),
        changes,
        commitment: &update,
        finalized,
        voter_set: None,
        justification: None,
        set_change: false,
    })
    .unwrap();
    (at, update.root)
}

#[test]
fn stale_nodes_stay_until_final_then_prune_leaves_exactly_the_live_tree() {
    let dir = tempfile::tempdir().unwrap();
    let genesis_changes: StateChanges = (0..300).map(|i| (key(i), Some(vec![0u8; 8]))).collect();
    let sorted = SortedState::from_changes(genesis_changes.clone());
    let mut mirror = MemoryState::new();
    mirror.apply(&genesis_changes).unwrap();
    let db = ChainDb::open(
        &dir.path().join("c.redb"),
        &GenesisWrite {
            hash: Hash::of(b"g"),
            encoded_header: b"gh",
            encoded_block: b"g",
            state: &sorted,
            state_policy: Default::default(),
        },
    )
    .unwrap();
    assert_eq!(tree_len(&db), mirror.node_count() as u64);

    // Blocks 1..=3, not final, each rewriting 60 keys (and block 3 deleting one).
    let mut roots = vec![mirror.root()];
    let mut refs = Vec::new();
    for n in 1..=3u64 {
        let mut changes: StateChanges = (0..60)
            .map(|i| (key(i * 5 + n as u32), Some(vec![n as u8; 8])))
            .collect();
        if n == 3 {
            changes.insert(key(299), None);
        }
        let (at, root) = commit_changes(&db, n, &changes, false);
        assert_eq!(root, mirror.apply(&changes).unwrap());
        roots.push(root);
        refs.push(at);
    }
    // Nothing is final: nothing may be pruned, and every replaced node is still stored.
    assert_eq!(db.prune(Pruning::Keep(0), 0, usize::MAX).unwrap(), 0);
    assert!(tree_len(&db) > mirror.node_count() as u64);

    // Reverting block 3 needs the nodes it made stale: the state proves block 2's root again.
    db.revert(&refs[2..], refs[1]).unwrap();
    let view = db.state_view().unwrap();
    for i in [0, 16, 299] {
        let (value, proof) = view.prove(&key(i)).unwrap();
        assert!(
            aitbc_primitives::commitment::verify_proof(
                &roots[2],
                &key(i),
                value.as_deref(),
                &proof
            ),
            "key {i} against block 2's root"
        );
    }
    drop(view);
    let mut mirror = MemoryState::new();
    mirror.apply(&genesis_changes).unwrap();
    for n in 1..=2u64 {
        let changes: StateChanges = (0..60)
            .map(|i| (key(i * 5 + n as u32), Some(vec![n as u8; 8])))
            .collect();
        mirror.apply(&changes).unwrap();
    }
    assert_eq!(mirror.root(), roots[2]);

    // Blocks 1 and 2 become final. The floor holds a small backlog back; the cap stops after
    // the first block's list; then the rest goes and exactly the live tree is left.
    db.finalize(&Finalization {
        to: refs[1],
        justification: None,
        newly_final: &[refs[0].hash, refs[1].hash],
        discarded: &[],
        voter_set: None,
        set_changes: &[],
    })
    .unwrap();
    assert_eq!(
        db.prune(Pruning::Keep(0), 1_000_000, usize::MAX).unwrap(),
        0
    );
    let first = db.prune(Pruning::Keep(0), 0, 1).unwrap();
    assert!(first > 0);
    let second = db.prune(Pruning::Keep(0), 0, usize::MAX).unwrap();
    assert!(second > 0);
    assert_eq!(db.prune(Pruning::Keep(0), 0, usize::MAX).unwrap(), 0);
    assert_eq!(tree_len(&db), mirror.node_count() as u64);
    let view = db.state_view().unwrap();
    for i in 0..300 {
        let (value, proof) = view.prove(&key(i)).unwrap();
        assert!(aitbc_primitives::commitment::verify_proof(
            &roots[2],
            &key(i),
            value.as_deref(),
            &proof
        ));
    }
}

/// A database with 300 keys at genesis and `blocks` final blocks, each rewriting 60 keys and
/// adding one; returns it with every block's ref, root and state in memory.
fn chain_of(
    dir: &std::path::Path,
    blocks: u64,
) -> (ChainDb, Vec<BlockRef>, Vec<Hash>, Vec<MemoryState>) {
    let genesis_changes: StateChanges = (0..300).map(|i| (key(i), Some(vec![0u8; 8]))).collect();
    let sorted = SortedState::from_changes(genesis_changes.clone());
    let mut mirror = MemoryState::new();
    mirror.apply(&genesis_changes).unwrap();
    let g = Hash::of(b"g");
    let db = ChainDb::open(
        &dir.join("c.redb"),
        &GenesisWrite {
            hash: g,
            encoded_header: b"gh",
            encoded_block: b"g",
            state: &sorted,
            state_policy: Default::default(),
        },
    )
    .unwrap();
    let (mut refs, mut roots, mut states) = (
        vec![BlockRef { number: 0, hash: g }],
        vec![mirror.root()],
        vec![mirror.clone()],
    );
    for n in 1..=blocks {
        let mut changes: StateChanges = (0..60)
            .map(|i| (key(i * 5 + n as u32 % 5), Some(vec![n as u8; 8])))
            .collect();
        changes.insert(key(1000 + n as u32), Some(vec![1; 4]));
        let (at, root) = commit_changes(&db, n, &changes, true);
        assert_eq!(root, mirror.apply(&changes).unwrap());
        refs.push(at);
        roots.push(root);
        states.push(mirror.clone());
    }
    (db, refs, roots, states)
}

#[test]
fn recent_states_are_readable_and_provable_until_pruned_out_of_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let (db, refs, roots, states) = chain_of(dir.path(), 12);
    for n in [0u64, 3, 11, 12] {
        let view = db.state_at(n).unwrap();
        assert_eq!(view.at(), refs[n as usize]);
        for i in [0, 5, 7, 299, 1003, 1012] {
            let (value, proof) = view.prove(&key(i)).unwrap();
            assert_eq!(
                value.as_ref(),
                states[n as usize].values().get(&key(i)),
                "#{n} key {i}"
            );
            assert!(
                aitbc_primitives::commitment::verify_proof(
                    &roots[n as usize],
                    &key(i),
                    value.as_deref(),
                    &proof
                ),
                "#{n} key {i}"
            );
        }
    }
    assert!(matches!(
        db.state_at(13),
        Err(StorageError::StateUnavailable { .. })
    ));
    // Keep 4: states from #8 on stay; the live tree is untouched.
    assert!(db.prune(Pruning::Keep(4), 0, usize::MAX).unwrap() > 0);
    assert_eq!(db.pruned_through().unwrap(), 8);
    assert!(matches!(
        db.state_at(7),
        Err(StorageError::StateUnavailable {
            number: 7,
            pruned: 8,
            best: 12
        })
    ));
    let view = db.state_at(8).unwrap();
    let (value, proof) = view.prove(&key(5)).unwrap();
    assert!(aitbc_primitives::commitment::verify_proof(
        &roots[8],
        &key(5),
        value.as_deref(),
        &proof
    ));
    // Archive prunes nothing.
    assert_eq!(db.prune(Pruning::Archive, 0, usize::MAX).unwrap(), 0);
    assert_eq!(db.pruned_through().unwrap(), 8);
}

#[test]
fn a_state_leased_to_a_downloading_peer_outlives_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _, roots, _) = chain_of(dir.path(), 12);
    db.set_state_window(Pruning::Keep(4));
    // A peer began downloading #5 when it was in the window (finalized #9): leased.
    db.hold_state(5);
    assert!(
        db.state_at(5).is_ok(),
        "served past the window while leased"
    );
    assert!(matches!(
        db.state_at(4),
        Err(StorageError::StateUnavailable { number: 4, .. })
    ));
    assert!(db.prune(Pruning::Keep(4), 0, usize::MAX).unwrap() > 0);
    assert_eq!(
        db.pruned_through().unwrap(),
        5,
        "pruned up to the lease only"
    );
    let view = db.state_at(5).unwrap();
    let (value, proof) = view.prove(&key(5)).unwrap();
    assert!(aitbc_primitives::commitment::verify_proof(
        &roots[5],
        &key(5),
        value.as_deref(),
        &proof
    ));
}

#[test]
fn a_skipped_genesis_state_is_not_served_until_restored_or_ensured() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.redb");
    let (state, hash) = genesis(b"a");
    let open = |state_policy| {
        ChainDb::open(
            &path,
            &GenesisWrite {
                hash,
                encoded_header: b"header",
                encoded_block: b"block",
                state: &state,
                state_policy,
            },
        )
        .unwrap()
    };
    // Warp: no genesis state, and none served (not an empty one).
    let db = open(GenesisState::Skip);
    assert!(db.state_pending().unwrap());
    assert!(matches!(db.state_view(), Err(StorageError::StateRestoring)));
    assert!(matches!(db.state_at(0), Err(StorageError::StateRestoring)));
    drop(db);
    // Auto keeps it so (it can only finish the warp).
    let db = open(GenesisState::IfNew);
    assert!(db.state_pending().unwrap());
    drop(db);
    // Full: the genesis state is written then.
    let db = open(GenesisState::Ensure);
    assert!(!db.state_pending().unwrap());
    assert_eq!(db.state_view().unwrap().get(b"k"), Some(b"a".to_vec()));
    let (_, proof) = db.state_view().unwrap().prove(b"k").unwrap();
    assert!(aitbc_primitives::commitment::verify_proof(
        &state.root(),
        b"k",
        Some(b"a"),
        &proof
    ));
}

#[test]
fn a_restore_in_progress_is_discarded_for_a_full_sync() {
    let dir = tempfile::tempdir().unwrap();
    let (source, refs, roots, _) = chain_of(dir.path(), 3);
    let into_dir = tempfile::tempdir().unwrap();
    let path = into_dir.path().join("c.redb");
    let sorted =
        SortedState::from_changes((0..300).map(|i| (key(i), Some(vec![0u8; 8]))).collect());
    let open = |state_policy| {
        ChainDb::open(
            &path,
            &GenesisWrite {
                hash: Hash::of(b"g"),
                encoded_header: b"gh",
                encoded_block: b"g",
                state: &sorted,
                state_policy,
            },
        )
        .unwrap()
    };
    let db = open(GenesisState::Skip);
    let mut restore = db.begin_restore(refs[3], roots[3], b"ctx").unwrap();
    let chunk = source.state_at(3).unwrap().chunk([0; 32], 600).unwrap();
    assert!(chunk.more);
    restore.add_chunk(&db, chunk).unwrap();
    assert!(matches!(db.state_view(), Err(StorageError::StateRestoring)));
    drop(restore);
    drop(db);
    let db = open(GenesisState::IfNew);
    assert!(db.restore_progress().unwrap().is_some(), "auto resumes it");
    drop(db);
    let db = open(GenesisState::Ensure);
    assert!(db.restore_progress().unwrap().is_none());
    let view = db.state_view().unwrap();
    assert_eq!(view.at().number, 0);
    assert_eq!(view.get(&key(7)), Some(vec![0u8; 8]));
    assert_eq!(
        db.state_entries().unwrap().len(),
        300,
        "the genesis state, nothing restored"
    );
}

#[test]
fn a_state_restored_in_chunks_with_restarts_equals_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let (source, refs, roots, states) = chain_of(dir.path(), 6);
    let target = refs[4];
    let into_dir = tempfile::tempdir().unwrap();
    let (fresh, _, _, _) = chain_of(into_dir.path(), 0);
    let mut restore = fresh.begin_restore(target, roots[4], b"ctx").unwrap();
    // Each chunk is checked while the one before it is not yet written (as warp sync does).
    let mut unwritten: Option<CheckedChunk> = None;
    let (mut chunks, mut done) = (0, false);
    while !done {
        let chunk = source
            .state_at(4)
            .unwrap()
            .chunk(restore.next_start(), 600)
            .unwrap();
        done = !chunk.more;
        chunks += 1;
        if chunks % 2 == 0 {
            // A forged copy first: refused; after the write under way, the restore goes on
            // from what is persisted.
            if let Some(c) = unwritten.take() {
                fresh.persist_chunk(&c).unwrap();
            }
            let mut forged = chunk.clone();
            forged.entries[0].1.push(9);
            let stored = fresh.state_entries().unwrap();
            assert!(restore.check(forged).is_err());
            restore.reset().unwrap();
            assert_eq!(
                fresh.state_entries().unwrap(),
                stored,
                "nothing of it written"
            );
        }
        // Ask again from where it stands (a refusal dropped what was not persisted).
        let chunk = source
            .state_at(4)
            .unwrap()
            .chunk(restore.next_start(), 600)
            .unwrap();
        let checked = restore.check(chunk).unwrap();
        if let Some(c) = unwritten.replace(checked) {
            fresh.persist_chunk(&c).unwrap();
        }
        if chunks % 3 == 0 && !done {
            // A restart: the restore resumes from the database, without the unwritten chunk.
            drop(restore);
            unwritten = None;
            assert_eq!(
                fresh.restore_progress().unwrap().map(|p| p.target),
                Some(target)
            );
            restore = fresh.begin_restore(target, roots[4], b"ctx").unwrap();
        }
    }
    if let Some(c) = unwritten.take() {
        fresh.persist_chunk(&c).unwrap();
    }
    assert!(chunks > 5, "{chunks} chunks");
    let set = VoterSet {
        id: 3,
        authorities: vec![],
        weights: vec![],
    };
    restore
        .finish(
            &fresh,
            &StoredBlock {
                at: target,
                encoded_header: b"h4",
                encoded_block: b"b4",
                author: None,
            },
            &[ProvenBlock {
                at: target,
                encoded_header: b"h4",
                justification: Some(b"j4"),
                set_change: false,
            }],
            &set,
        )
        .unwrap();
    assert_eq!(fresh.restore_progress().unwrap(), None);
    assert_eq!(
        (fresh.best().unwrap(), fresh.finalized().unwrap()),
        (target, target)
    );
    assert_eq!(fresh.voter_set().unwrap(), Some(set));
    assert_eq!(fresh.latest_justified(u64::MAX).unwrap(), Some(target));
    let restored: std::collections::BTreeMap<_, _> =
        fresh.state_entries().unwrap().into_iter().collect();
    assert_eq!(&restored, states[4].values());
    // The restored tree proves every key, and the next block commits on it like on the source.
    let view = fresh.state_view().unwrap();
    for i in [0, 1, 299, 1004, 1005] {
        let (value, proof) = view.prove(&key(i)).unwrap();
        assert!(aitbc_primitives::commitment::verify_proof(
            &roots[4],
            &key(i),
            value.as_deref(),
            &proof
        ));
    }
    let next: StateChanges = [
        (key(7), Some(b"x".to_vec())),
        (key(2000), Some(b"y".to_vec())),
    ]
    .into_iter()
    .collect();
    let mut mirror = states[4].clone();
    assert_eq!(
        view.commit(&next).unwrap().root,
        mirror.apply(&next).unwrap()
    );
    // A restore is refused once the database is past its genesis.
    assert!(source.begin_restore(target, roots[4], b"ctx").is_err());
}

/// The chunk server's one-pass read (state table merged with a past block's overrides) gives
/// the entries of the tree's leaves, for every kept block and start.
#[test]
fn entries_read_in_one_pass_are_the_tree_leaves_entries() {
    use aitbc_primitives::snapshot::{leaf_entries, ChunkSource};
    let dir = tempfile::tempdir().unwrap();
    let (db, _, _, mut states) = chain_of(dir.path(), 4);
    // A block that removes keys (one from genesis, one added later) and adds one.
    let changes: StateChanges = [
        (key(3), None),
        (key(1002), None),
        (key(2000), Some(vec![7])),
    ]
    .into_iter()
    .collect();
    commit_changes(&db, 5, &changes, true);
    let mut fifth = states[4].clone();
    fifth.apply(&changes).unwrap();
    states.push(fifth);
    for (n, state) in states.iter().enumerate() {
        let view = db.state_at(n as u64).unwrap();
        let by_hash: std::collections::BTreeMap<[u8; 32], (Vec<u8>, Vec<u8>)> = state
            .values()
            .iter()
            .map(|(k, v)| (commitment::key_hash(k), (k.clone(), v.clone())))
            .collect();
        for start in [[0u8; 32], [0x80; 32], [0xff; 32]] {
            let fast: Vec<_> = view
                .entries_from(n as u64, start)
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let slow: Vec<_> =
                leaf_entries(&view, n as u64, start, |h| Ok(by_hash.get(h).cloned()))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
            assert_eq!(fast, slow, "block {n}");
            let expected: Vec<_> = by_hash
                .range(start..)
                .map(|(h, e)| (*h, e.clone()))
                .collect();
            assert_eq!(fast, expected, "block {n}");
        }
    }
}

/// A chunk write that fails (full disk) latches the failure: nothing more is written. After a
/// restart the restore resumes from the last chunk written and completes, also from the image
/// a power cut leaves.
#[test]
fn a_failed_chunk_write_stops_the_restore_and_a_restart_resumes_it() {
    use crate::test_disk::TestDisk;
    let dir = tempfile::tempdir().unwrap();
    let (source, refs, roots, states) = chain_of(dir.path(), 3);
    let (target, root) = (refs[3], roots[3]);
    let sorted =
        SortedState::from_changes((0..300).map(|i| (key(i), Some(vec![0u8; 8]))).collect());
    let genesis = GenesisWrite {
        hash: Hash::of(b"g"),
        encoded_header: b"gh",
        encoded_block: b"g",
        state: &sorted,
        state_policy: GenesisState::Skip,
    };
    let chunk_at = |start| source.state_at(3).unwrap().chunk(start, 600).unwrap();
    let disk = TestDisk::new();
    let db = ChainDb::open_with_backend(disk.backend(), &genesis).unwrap();
    let mut restore = db.begin_restore(target, root, b"ctx").unwrap();
    let first = restore.check(chunk_at(restore.next_start())).unwrap();
    db.persist_chunk(&first).unwrap();
    let written = db.state_entries().unwrap();
    // The disk fills up while the second chunk is written.
    let second = restore.check(chunk_at(restore.next_start())).unwrap();
    disk.fail_writes(true);
    assert!(matches!(
        db.persist_chunk(&second),
        Err(StorageError::Db(_))
    ));
    disk.fail_writes(false);
    assert!(matches!(
        db.persist_chunk(&second),
        Err(StorageError::WriteFailed(_))
    ));
    drop(restore);
    drop(db);
    for image in [disk.volatile(), disk.power_cut()] {
        let db =
            ChainDb::open_existing_with_backend(TestDisk::from_image(image).backend()).unwrap();
        assert_eq!(db.state_entries().unwrap(), written, "the first chunk only");
        let mut restore = db.begin_restore(target, root, b"ctx").unwrap();
        loop {
            let chunk = chunk_at(restore.next_start());
            let more = chunk.more;
            restore.add_chunk(&db, chunk).unwrap();
            if !more {
                break;
            }
        }
        restore
            .finish(
                &db,
                &StoredBlock {
                    at: target,
                    encoded_header: b"h3",
                    encoded_block: b"b3",
                    author: None,
                },
                &[ProvenBlock {
                    at: target,
                    encoded_header: b"h3",
                    justification: Some(b"j3"),
                    set_change: false,
                }],
                &VoterSet {
                    id: 1,
                    authorities: vec![],
                    weights: vec![],
                },
            )
            .unwrap();
        let restored: std::collections::BTreeMap<_, _> =
            db.state_entries().unwrap().into_iter().collect();
        assert_eq!(&restored, states[3].values());
    }
}
