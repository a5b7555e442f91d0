//! Genesis: validation errors and the state it builds.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use aitbc_primitives::commitment::MemoryState;
use aitbc_primitives::StateMachine;
use aitbc_runtime::testing::{acc, dev_genesis, TestChain, ENDOWMENT};
use aitbc_runtime::AdminApi;
use aitbc_runtime::{GenesisError, Params, ParamsError, Runtime};

#[test]
fn builds_the_configured_state() {
    let config = dev_genesis(true);
    let changes = config.build().unwrap();
    let mut state = MemoryState::new();
    let root = state.apply(&changes).unwrap();
    assert_eq!(config.build_state().unwrap().root(), root);
    // The sorted build (what nodes write) is the same state, entry for entry.
    let sorted = config.clone().into_sorted().unwrap();
    assert_eq!(sorted.root(), root);
    assert_eq!(
        sorted,
        aitbc_primitives::bulk::SortedState::from_changes(changes.clone())
    );
    let rt = Runtime::new(aitbc_primitives::Hash::ZERO);
    assert_eq!(rt.account(&state, &acc("bob")).balance, ENDOWMENT);
    assert_eq!(rt.authorities(&state), vec![acc("alice")]);
    assert_eq!(rt.sudo_key(&state), Some(acc("alice")));
    assert_eq!(rt.slot_duration_ms(&state), 1000);
    assert_eq!(rt.params(&state), Params::default().to_pairs());
    let chain = TestChain::new(config);
    // The endowments plus alice's genesis bond.
    let bond = Params::default().min_validator_bond;
    assert_eq!(chain.total_issuance(), 5 * ENDOWMENT + bond);
    assert_eq!(
        aitbc_runtime::staking::read_staking(&chain.state, &acc("alice")).bonded,
        bond
    );
    chain.check_issuance().unwrap();
    // Deterministic: the same config gives the same root; a different one does not.
    assert_eq!(dev_genesis(true).build_state().unwrap().root(), root);
    assert_ne!(dev_genesis(false).build_state().unwrap().root(), root);
}

#[test]
fn refuses_bad_configs() {
    let ok = dev_genesis(false);
    let mut c = ok.clone();
    c.slot_duration_ms = 0;
    assert_eq!(c.build(), Err(GenesisError::ZeroSlotDuration));
    let mut c = ok.clone();
    c.authorities.clear();
    assert_eq!(c.build(), Err(GenesisError::NoAuthorities));
    let mut c = ok.clone();
    c.authorities = vec![acc("alice"), acc("bob"), acc("alice")];
    assert_eq!(
        c.build(),
        Err(GenesisError::DuplicateAuthority(acc("alice")))
    );
    let mut c = ok.clone();
    c.balances.push((acc("bob"), 5));
    assert_eq!(c.build(), Err(GenesisError::DuplicateAccount(acc("bob"))));
    let mut c = ok.clone();
    c.params.existential_deposit = 10;
    c.balances.push((acc("eve"), 9));
    assert!(matches!(
        c.build(),
        Err(GenesisError::BelowExistentialDeposit { amount: 9, .. })
    ));
    let mut c = ok.clone();
    c.params.coordinator_ratio_ppm = 1_000_001;
    assert_eq!(
        c.build(),
        Err(GenesisError::Params(ParamsError::RatioAbove100Percent(
            "coordinator_ratio_ppm"
        )))
    );
    let mut c = ok.clone();
    c.params.coordinator_ratio_ppm = 600_000;
    c.params.treasury_ratio_ppm = 400_001;
    assert_eq!(
        c.build(),
        Err(GenesisError::Params(ParamsError::RatioSumAbove100Percent))
    );
    let mut c = ok.clone();
    c.params.fee_to_author_ppm = 1_000_001;
    assert_eq!(
        c.build(),
        Err(GenesisError::Params(ParamsError::RatioAbove100Percent(
            "fee_to_author_ppm"
        )))
    );
    let mut c = ok.clone();
    c.balances = vec![(acc("a"), u128::MAX), (acc("b"), 1)];
    assert_eq!(c.build(), Err(GenesisError::IssuanceOverflow));
    let mut c = ok.clone();
    c.coordinators.push(acc("coordinator"));
    assert_eq!(
        c.build(),
        Err(GenesisError::DuplicateCoordinator(acc("coordinator")))
    );
    // The treasury need not be endowed, and no sudo key is fine.
    let mut c = ok;
    c.sudo = None;
    assert!(c.build().is_ok());
}
