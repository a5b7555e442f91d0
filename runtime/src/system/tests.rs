use crate::testing::{acc, dev, TestChain};
use crate::Call;
use aitbc_primitives::StateMachine;

#[test]
fn blocks_record_number_parent_and_slot() {
    let mut chain = TestChain::dev(false);
    let genesis = chain.head.hash();
    chain.build_block(&[]);
    let s = &chain.state;
    assert_eq!(super::storage::NUMBER.read(s), Some(1));
    assert_eq!(super::storage::PARENT_HASH.read(s), Some(genesis));
    assert_eq!(super::storage::SLOT.read(s), Some(1));
    assert_eq!(chain.runtime.slot_duration_ms(s), 1000);
}

#[test]
fn nonce_grows_on_success_and_on_failure() {
    let mut chain = TestChain::dev(false);
    let alice = dev("alice");
    assert_eq!(chain.nonce(&alice.public()), 0);
    assert!(
        chain
            .submit(&alice, Call::transfer(acc("bob"), 5))
            .unwrap()
            .success
    );
    assert_eq!(chain.nonce(&alice.public()), 1);
    // Fails at dispatch (balance too low) but is included: the nonce is used up.
    let out = chain
        .submit(&alice, Call::transfer(acc("bob"), u128::MAX / 2))
        .unwrap();
    assert!(!out.success);
    assert_eq!(chain.nonce(&alice.public()), 2);
}
