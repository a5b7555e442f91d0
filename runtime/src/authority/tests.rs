use super::AuthoritySet;
use crate::testing::{acc, dev, TestChain, ENDOWMENT};
use crate::Call;
use aitbc_primitives::{DigestItem, InvalidTransaction, StateMachine};

#[test]
fn new_set_is_signalled_in_the_digest_and_active_next_block() {
    let mut chain = TestChain::dev(false);
    let set = AuthoritySet::try_from_vec(vec![acc("bob"), acc("charlie")]).unwrap();
    let xt = chain.sign(
        &dev("alice"),
        Call::sudo(Call::set_authorities(set.clone())),
    );
    let built = chain.build_block(&[xt]);
    let out = built.results[0].as_ref().unwrap();
    assert!(out.success, "{out:?}");
    assert_eq!(
        built.block.header.digest.to_vec(),
        vec![DigestItem::AuthoritiesChange(set.clone())]
    );
    assert_eq!(built.block.header.authorities_change(), Some(&set[..]));
    assert_eq!(chain.runtime.authorities(&chain.state), set.to_vec());
    // The block that made the change was still authored by the old set (alice): she paid the
    // fee and got the author's 20% back.
    let fee1 = out.fee;
    assert_eq!(chain.balance(&acc("alice")), ENDOWMENT - fee1 + fee1 / 5);
    // Next block, slot 2: the new set's author is set[2 % 2] = bob.
    let bob_before = chain.balance(&acc("bob"));
    let out = chain
        .submit(&dev("dave"), Call::transfer(acc("eve"), 5))
        .unwrap();
    assert_eq!(chain.head.slot, 2);
    assert_eq!(
        chain.runtime.author_schedule(&chain.state).author(2),
        Some(&acc("bob"))
    );
    assert_eq!(chain.balance(&acc("bob")), bob_before + out.fee / 5);
    assert_eq!(chain.balance(&acc("charlie")), ENDOWMENT);
    assert_eq!(chain.balance(&acc("alice")), ENDOWMENT - fee1 + fee1 / 5);
    // No change, no digest.
    assert!(chain.build_block(&[]).block.header.digest.is_empty());
}

#[test]
fn bad_sets_fail_and_direct_calls_are_invalid() {
    let mut chain = TestChain::dev(false);
    let dup = AuthoritySet::try_from_vec(vec![acc("bob"), acc("bob")]).unwrap();
    let out = chain
        .submit(&dev("alice"), Call::sudo(Call::set_authorities(dup)))
        .unwrap();
    assert_eq!(out.error.as_deref(), Some("duplicate_authority"));
    let out = chain
        .submit(
            &dev("alice"),
            Call::sudo(Call::set_authorities(AuthoritySet::new())),
        )
        .unwrap();
    assert_eq!(out.error.as_deref(), Some("empty_authority_set"));
    let set = AuthoritySet::try_from_vec(vec![acc("bob")]).unwrap();
    assert_eq!(
        chain.submit(&dev("bob"), Call::set_authorities(set)),
        Err(InvalidTransaction::BadOrigin)
    );
    assert_eq!(chain.runtime.authorities(&chain.state), vec![acc("alice")]);
}

#[test]
fn a_forced_change_is_signalled_as_forced() {
    let mut chain = TestChain::dev(false);
    let set = AuthoritySet::try_from_vec(vec![acc("bob")]).unwrap();
    let xt = chain.sign(
        &dev("alice"),
        Call::sudo(Call::force_set_authorities(set.clone())),
    );
    let built = chain.build_block(&[xt]);
    assert!(built.results[0].as_ref().unwrap().success);
    let header = &built.block.header;
    assert_eq!(
        header.digest.to_vec(),
        vec![DigestItem::ForcedAuthoritiesChange(set.clone())]
    );
    assert_eq!(header.forced_authorities_change(), Some(&set[..]));
    assert_eq!(header.authorities_change(), None);
    assert_eq!(chain.runtime.authorities(&chain.state), set.to_vec());
    // A signed (non-root) caller cannot force a change.
    let xt = chain.sign(&dev("bob"), Call::force_set_authorities(set));
    assert_eq!(
        chain.validate(&xt).unwrap_err(),
        InvalidTransaction::BadOrigin
    );
}
