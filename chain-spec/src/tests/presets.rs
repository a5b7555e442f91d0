use crate::presets::{dev_address, DEV_ENDOWMENT, ENDOWED};
use crate::{ChainSpec, ChainType};
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::{extrinsics_root, Hash};

#[test]
fn dev_builds() {
    let spec = ChainSpec::load("dev").unwrap();
    assert_eq!(spec, ChainSpec::dev());
    assert_eq!(spec.id, "dev");
    assert_eq!(spec.chain_type, ChainType::Development);
    assert_eq!(spec.properties.token_symbol, "AIT");
    assert_eq!(spec.properties.token_decimals, 18);
    let g = spec.genesis().unwrap();
    let config = spec.genesis_config().unwrap();
    assert_eq!(config.slot_duration_ms, 1000);
    assert_eq!(config.authorities, vec![dev_pair("alice").public()]);
    assert_eq!(config.coordinators, vec![dev_pair("coordinator").public()]);
    assert_eq!(config.sudo, Some(dev_pair("alice").public()));
    assert_eq!(config.treasury, dev_pair("treasury").public());
    assert!(config.faucet);
    assert_eq!(config.balances.len(), ENDOWED.len());
    for (name, (who, amount)) in ENDOWED.iter().zip(&config.balances) {
        assert_eq!(*who, dev_pair(name).public());
        assert_eq!(*amount, DEV_ENDOWMENT);
    }
    assert_eq!(DEV_ENDOWMENT, 10u128.pow(18));

    assert_eq!(g.header.parent_hash, Hash::ZERO);
    assert_eq!(g.header.number, 0);
    assert_eq!(g.header.slot, 0);
    assert_eq!(g.header.state_root, g.state.root());
    assert_eq!(g.header.extrinsics_root, extrinsics_root(&[]));
    assert_eq!(
        g.header.digest.to_vec(),
        vec![aitbc_primitives::DigestItem::Other(
            aitbc_primitives::BoundedVec::try_from_vec(b"chain-id:dev".to_vec()).unwrap()
        )],
        "the genesis digest names the chain"
    );
    assert_eq!(g.hash, g.header.hash());
    assert_eq!(g.state.root(), g.header.state_root);
    assert_eq!(
        g.state.to_memory_state().next_version(),
        1,
        "genesis state is version 0"
    );
    assert!(!g.state.entries().is_empty());
}

#[test]
fn local_builds() {
    let spec = ChainSpec::load("local").unwrap();
    assert_eq!(spec.chain_type, ChainType::Local);
    let g = spec.genesis().unwrap();
    let config = spec.genesis_config().unwrap();
    let names = ["alice", "bob", "charlie", "dave"];
    assert_eq!(
        config.authorities,
        names.map(|n| dev_pair(n).public()).to_vec()
    );
    assert!(!config.faucet);
    assert_eq!(config.slot_duration_ms, 1000);
    assert_eq!(
        config.balances,
        ChainSpec::dev().genesis_config().unwrap().balances
    );
    assert_ne!(g.hash, ChainSpec::dev().genesis().unwrap().hash);
}

#[test]
fn genesis_is_deterministic_and_ignores_metadata() {
    let a = ChainSpec::dev().genesis().unwrap();
    let b = ChainSpec::dev().genesis().unwrap();
    assert_eq!(a.hash, b.hash);
    assert_eq!(a.state, b.state);

    let mut renamed = ChainSpec::dev();
    renamed.name = "Another name".into();
    renamed.boot_nodes = vec!["/ip4/127.0.0.1/tcp/7070".into()];
    renamed.properties.token_decimals = 12;
    assert_eq!(renamed.genesis().unwrap().hash, a.hash);
    // The id is not metadata: it is bound into the genesis hash.
    renamed.id = "other".into();
    assert_ne!(renamed.genesis().unwrap().hash, a.hash);

    let mut changed = ChainSpec::dev();
    changed.genesis.balances[0].1 += 1;
    assert_ne!(changed.genesis().unwrap().hash, a.hash);
}

#[test]
fn dev_addresses_are_ait1() {
    assert!(dev_address("alice").starts_with("ait1"));
    assert_ne!(dev_address("alice"), dev_address("treasury"));
}
