use crate::testing::{acc, dev, TestChain, ENDOWMENT};
use crate::{Call, Event, Param};
use aitbc_primitives::StateMachine;

fn fee_of(chain: &TestChain, xt: &aitbc_primitives::Extrinsic<Call>) -> u128 {
    chain.runtime.fee(&chain.state, xt)
}

#[test]
fn transfer_moves_funds_and_pays_fee_to_author_and_treasury() {
    let mut chain = TestChain::dev(false);
    let bob = dev("bob");
    let xt = chain.sign(&bob, Call::transfer(acc("charlie"), 1_000));
    let fee = fee_of(&chain, &xt);
    let len = codec::Encode::encoded_size(&xt) as u128;
    // base_fee + fee_per_byte * len + the transfer's weight at weight_fee_per_ms = 1000.
    let weight_fee = u128::from(crate::weights::TRANSFER) * 1_000 / 1_000_000;
    assert_eq!(fee, 10 + len + weight_fee);
    let out = chain.apply_one(xt).unwrap();
    assert!(out.success, "{out:?}");
    assert_eq!(out.fee, fee);
    assert_eq!(chain.balance(&acc("bob")), ENDOWMENT - 1_000 - fee);
    assert_eq!(chain.balance(&acc("charlie")), ENDOWMENT + 1_000);
    // Alice authors every block (single authority): 20% of the fee; the rest to the treasury.
    let to_author = fee * 200_000 / 1_000_000;
    assert_eq!(chain.balance(&acc("alice")), ENDOWMENT + to_author);
    assert_eq!(chain.balance(&acc("treasury")), fee - to_author);
    assert_eq!(
        out.events,
        vec![
            Event::Balances(super::Event::FeePaid {
                who: acc("bob"),
                fee,
                to_author,
                to_treasury: fee - to_author
            }),
            Event::Balances(super::Event::Transfer {
                from: acc("bob"),
                to: acc("charlie"),
                amount: 1_000
            }),
        ]
    );
    chain.check_issuance().unwrap();
}

#[test]
fn existential_deposit_applies_to_new_accounts_only() {
    let mut chain = TestChain::dev(true);
    let alice = dev("alice");
    let ed_call = Call::sudo(Call::set_param(Param::ExistentialDeposit(500)));
    assert!(chain.submit(&alice, ed_call).unwrap().success);
    let newcomer = acc("newcomer");
    let out = chain
        .submit(&dev("bob"), Call::transfer(newcomer, 499))
        .unwrap();
    assert_eq!(out.error.as_deref(), Some("below_existential_deposit"));
    assert!(
        chain
            .submit(&dev("bob"), Call::transfer(newcomer, 500))
            .unwrap()
            .success
    );
    // Existing account: any amount, and it is never reaped even at zero.
    assert!(
        chain
            .submit(&dev("bob"), Call::transfer(newcomer, 1))
            .unwrap()
            .success
    );
    let xt = chain.sign(&dev("charlie"), Call::transfer(acc("bob"), 1));
    assert!(chain.apply_one(xt).unwrap().success);
    chain.check_issuance().unwrap();
}

#[test]
fn insufficient_balance_fails_but_pays_fee() {
    let mut chain = TestChain::dev(false);
    let before = chain.balance(&acc("bob"));
    let out = chain
        .submit(&dev("bob"), Call::transfer(acc("charlie"), ENDOWMENT))
        .unwrap();
    assert!(!out.success);
    assert_eq!(out.error.as_deref(), Some("insufficient_balance"));
    assert_eq!(out.events.len(), 1, "only the fee event");
    assert_eq!(chain.balance(&acc("bob")), before - out.fee);
    assert_eq!(chain.balance(&acc("charlie")), ENDOWMENT);
    chain.check_issuance().unwrap();
}

#[test]
fn faucet_mint_grows_issuance() {
    let mut chain = TestChain::dev(true);
    let ti = chain.total_issuance();
    let out = chain
        .submit(&dev("alice"), Call::sudo(Call::mint(acc("eve"), 777)))
        .unwrap();
    assert!(out.success, "{out:?}");
    assert_eq!(chain.balance(&acc("eve")), 777);
    assert_eq!(chain.total_issuance(), ti + 777);
    assert!(out.events.contains(&Event::Balances(super::Event::Minted {
        to: acc("eve"),
        amount: 777
    })));
    chain.check_issuance().unwrap();
}

#[test]
fn transfer_to_self_changes_only_the_fee() {
    let mut chain = TestChain::dev(false);
    let out = chain
        .submit(&dev("bob"), Call::transfer(acc("bob"), 10))
        .unwrap();
    assert!(out.success);
    assert_eq!(chain.balance(&acc("bob")), ENDOWMENT - out.fee);
}
