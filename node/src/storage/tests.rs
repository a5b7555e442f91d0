use super::*;
use aitbc_primitives::commitment::MemoryState;
use aitbc_primitives::StateView;

fn genesis(seed: &[u8]) -> (StateChanges, CommitmentUpdate, Hash) {
    let changes: StateChanges = [(b"k".to_vec(), Some(seed.to_vec()))].into_iter().collect();
    let commitment = MemoryState::new().commit(&changes).unwrap();
    (changes, commitment, Hash::of(seed))
}

#[test]
fn genesis_written_once_and_other_chains_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.redb");
    let (changes, commitment, hash) = genesis(b"a");
    let g = GenesisWrite {
        hash,
        encoded_header: b"header",
        encoded_block: b"block",
        changes: &changes,
        commitment: &commitment,
    };
    {
        let db = ChainDb::open(&path, &g).unwrap();
        assert_eq!(db.best().unwrap(), BlockRef { number: 0, hash });
        assert_eq!(db.state_view().unwrap().get(b"k"), Some(b"a".to_vec()));
    }
    let db = ChainDb::open(&path, &g).unwrap();
    assert_eq!(db.finalized().unwrap().hash, hash);
    drop(db);
    let (c2, m2, other) = genesis(b"b");
    let g2 = GenesisWrite {
        hash: other,
        encoded_header: b"header",
        encoded_block: b"block",
        changes: &c2,
        commitment: &m2,
    };
    let err = ChainDb::open(&path, &g2).unwrap_err();
    assert!(matches!(err, StorageError::WrongGenesis { .. }), "{err}");
    assert!(err.to_string().contains("another chain"));
}

#[test]
fn block_commit_updates_state_root_and_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let (changes, commitment, hash) = genesis(b"a");
    let db = ChainDb::open(
        &dir.path().join("c.redb"),
        &GenesisWrite {
            hash,
            encoded_header: b"gh",
            encoded_block: b"g",
            changes: &changes,
            commitment: &commitment,
        },
    )
    .unwrap();
    // Mirror the writes in memory: the roots must agree.
    let mut mirror = MemoryState::new();
    mirror.apply(&changes).unwrap();
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
