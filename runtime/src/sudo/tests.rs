use crate::api::AdminApi;
use crate::testing::{acc, dev, TestChain};
use crate::{Call, Event};
use aitbc_primitives::InvalidTransaction;

#[test]
fn sudo_dispatches_as_root() {
    let mut chain = TestChain::dev(false);
    let out = chain
        .submit(
            &dev("alice"),
            Call::sudo(Call::add_coordinator(acc("coord2"))),
        )
        .unwrap();
    assert!(out.success, "{out:?}");
    assert_eq!(
        out.events.last(),
        Some(&Event::Sudo(super::Event::Sudid { success: true }))
    );
    assert_eq!(
        chain.runtime.params(&chain.state).len(),
        crate::params::PARAM_NAMES.len()
    );
}

#[test]
fn only_the_key_may_sudo() {
    let mut chain = TestChain::dev(false);
    let r = chain.submit(
        &dev("bob"),
        Call::sudo(Call::add_coordinator(acc("coord2"))),
    );
    assert_eq!(r, Err(InvalidTransaction::BadOrigin));
    let r = chain.submit(&dev("bob"), Call::set_sudo_key(acc("bob")));
    assert_eq!(r, Err(InvalidTransaction::BadOrigin));
    // Root may not act for an account.
    let r = chain.submit(&dev("alice"), Call::sudo(Call::transfer(acc("bob"), 1)));
    assert_eq!(r, Err(InvalidTransaction::BadOrigin));
}

#[test]
fn set_key_hands_over_root() {
    let mut chain = TestChain::dev(false);
    let out = chain
        .submit(&dev("alice"), Call::set_sudo_key(acc("bob")))
        .unwrap();
    assert!(out.success);
    assert_eq!(chain.runtime.sudo_key(&chain.state), Some(acc("bob")));
    let r = chain.submit(&dev("alice"), Call::sudo(Call::add_coordinator(acc("x"))));
    assert_eq!(r, Err(InvalidTransaction::BadOrigin));
    assert!(
        chain
            .submit(&dev("bob"), Call::sudo(Call::add_coordinator(acc("x"))))
            .unwrap()
            .success
    );
}

#[test]
fn inner_failure_fails_the_transaction_with_the_inner_code() {
    let mut chain = TestChain::dev(false);
    let out = chain
        .submit(
            &dev("alice"),
            Call::sudo(Call::remove_coordinator(acc("nobody"))),
        )
        .unwrap();
    assert!(!out.success);
    assert_eq!(out.error.as_deref(), Some("unknown_coordinator"));
}

#[test]
fn nesting_is_bounded() {
    let mut chain = TestChain::dev(false);
    let mut call = Call::add_coordinator(acc("x"));
    for _ in 0..=crate::dispatch::MAX_CALL_DEPTH + 1 {
        call = Call::sudo(call);
    }
    assert_eq!(
        chain.submit(&dev("alice"), call),
        Err(InvalidTransaction::BadOrigin)
    );
    let ok = Call::sudo(Call::sudo(Call::add_coordinator(acc("x"))));
    assert!(chain.submit(&dev("alice"), ok).unwrap().success);
}
