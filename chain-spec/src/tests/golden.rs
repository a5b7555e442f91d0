//! Pins the `dev` genesis hash.
//!
//! A change of this constant is a consensus-visible format change: the genesis state layout, a
//! storage key or value encoding, the state commitment, the header encoding or hash, the `dev`
//! preset, its id (bound into the genesis digest) or a parameter default changed, and every existing dev database, signed transaction and
//! receipt is invalidated. Update it only on purpose, and say so in the commit.

use crate::ChainSpec;

const DEV_GENESIS_HASH: &str = "0xa206ebe1e037934bc8c746bf5a42daa1ecea968bf7d6795a9a1b29a49797ec9a";

#[test]
fn dev_genesis_hash_is_pinned() {
    let genesis = ChainSpec::dev().genesis().unwrap();
    assert_eq!(
        genesis.hash.to_string(),
        DEV_GENESIS_HASH,
        "dev genesis hash changed (see the module docs)"
    );
}
