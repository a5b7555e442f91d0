//! Import reads time from the client's injected [`aitbc_consensus::Clock`], not the system's:
//! a block from a slot ahead of the clock is early (`SlotInFuture`, not a bad block) until the
//! clock reaches it.

use crate::test_chain::{client, SLOT_MS};
use crate::ImportError;
use aitbc_consensus::slots::{HeaderError, MAX_FUTURE_SLOTS};
use aitbc_consensus::{Clock, ManualClock, SystemClock};
use aitbc_primitives::crypto::dev_pair;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn import_checks_future_slots_against_the_injected_clock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let author = client(&dir.path().join("author.redb"));
    let now = SystemClock.now_ms();
    let slot = now / SLOT_MS;
    let deadline = Instant::now() + Duration::from_millis(500);
    let (_, block) = author
        .author_block(slot, deadline, &dev_pair("alice"), |_| Ok(()))
        .expect("authored")
        .expect("signed");

    // The importer's clock reads ten slots before the block's.
    let clock = Arc::new(ManualClock::new(now - 10 * SLOT_MS));
    let importer = client(&dir.path().join("importer.redb")).with_clock(clock.clone());
    let early = importer.import_block(&block, None).expect_err("too early");
    assert!(
        matches!(early, ImportError::Header(HeaderError::SlotInFuture { .. })),
        "{early:?}"
    );
    assert!(!early.is_bad_block());
    assert_eq!(importer.best().number, 0);

    // Within the drift allowance of the block's slot, it imports.
    clock.set((slot - MAX_FUTURE_SLOTS) * SLOT_MS);
    let imported = importer.import_block(&block, None).expect("imports");
    assert_eq!(imported.number, 1);
    assert_eq!(importer.best_header(), block.block.header);
}
