//! Dev keys are public: `//alice` and every other secret URI without an explicit seed is derived
//! from the published dev seed (`primitives/src/crypto.rs`), so anyone can sign with it. They are
//! fine on `Development` and `Local` chains and refused everywhere else, as the node's authority,
//! sudo and coordinator keys and as the genesis roles of a `Live` chain spec.

use aitbc_chain_spec::{ChainSpec, ChainType};
use aitbc_primitives::crypto::dev_pair;
use aitbc_primitives::{blake2_256, AccountId, Pair};
use anyhow::anyhow;

/// The dev names in the presets, docs and tools (`//name`); their raw seeds are refused too.
pub const WELL_KNOWN: &[&str] = &[
    "alice",
    "bob",
    "charlie",
    "dave",
    "eve",
    "ferdie",
    "coordinator",
    "treasury",
];

/// The dev account `account` is, as `//name`, if it is one of [`WELL_KNOWN`].
pub fn well_known_name(account: &AccountId) -> Option<String> {
    WELL_KNOWN
        .iter()
        .find(|n| dev_pair(n).public() == *account)
        .map(|n| format!("//{n}"))
}

/// Whether the key of secret URI `uri` (parsed as `pair`) is a public dev key: derived from the
/// dev seed (`//…` with no seed, or the dev seed given explicitly), or the raw seed of a
/// well-known dev account. Returns how to name it in an error.
pub fn dev_key(uri: &str, pair: &Pair) -> Option<String> {
    let uri = uri.trim();
    if uri.starts_with("//") {
        return Some(uri.to_string());
    }
    let dev_seed = format!("0x{}", hex::encode(blake2_256(b"aitbc dev seed")));
    if uri
        .get(..dev_seed.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(&dev_seed))
    {
        return Some(format!("{uri} (the public dev seed)"));
    }
    well_known_name(&pair.public()).map(|n| format!("the seed of {n}"))
}

/// Whether a chain of this type may use dev keys.
pub fn allows_dev_keys(chain_type: ChainType) -> bool {
    matches!(chain_type, ChainType::Development | ChainType::Local)
}

/// Refuses `uri` as the `role` key (e.g. "authority") on `spec`'s chain when it is a dev key and
/// the chain is neither `Development` nor `Local`.
pub fn refuse_dev_key(role: &str, uri: &str, pair: &Pair, spec: &ChainSpec) -> anyhow::Result<()> {
    refuse_on(role, uri, pair, &spec.id, spec.chain_type)
}

/// [`refuse_dev_key`] with the chain's id and type given.
pub fn refuse_on(
    role: &str,
    uri: &str,
    pair: &Pair,
    chain_id: &str,
    chain_type: ChainType,
) -> anyhow::Result<()> {
    match dev_key(uri, pair) {
        Some(name) if !allows_dev_keys(chain_type) => Err(anyhow!(
            "refusing the dev key {name} as the {role} key on chain {chain_id:?} (chain_type \
             {chain_type:?}): dev keys come from a public seed and anyone can sign with them; \
             use a key of your own (aitbc-node key generate)"
        )),
        _ => Ok(()),
    }
}

/// Refuses a `Live` (or any non-dev) spec whose genesis makes a well-known dev account the sudo
/// key, an authority, a coordinator or the treasury.
pub fn check_spec(spec: &ChainSpec) -> anyhow::Result<()> {
    if allows_dev_keys(spec.chain_type) {
        return Ok(());
    }
    let g = &spec.genesis;
    let roles = g
        .authorities
        .iter()
        .map(|a| ("an authority", a))
        .chain(g.coordinators.iter().map(|a| ("a coordinator", a)))
        .chain(g.sudo.iter().map(|a| ("the sudo key", a)))
        .chain(std::iter::once(("the treasury", &g.treasury)));
    for (role, address) in roles {
        let Ok(account) = address.parse::<AccountId>() else {
            continue; // the spec's own checks report a bad address
        };
        if let Some(name) = well_known_name(&account) {
            return Err(anyhow!(
                "chain spec {:?} (chain_type {:?}) makes the dev account {name} {role}: dev keys \
                 come from a public seed and anyone can sign with them",
                spec.id,
                spec.chain_type
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(uri: &str) -> Pair {
        Pair::from_uri(uri).expect("valid")
    }

    #[test]
    fn dev_keys_are_recognised_in_every_form() {
        for uri in ["//alice", " //bob ", "//coordinator", "//anything//stash"] {
            assert!(dev_key(uri, &pair(uri)).is_some(), "{uri}");
        }
        // The raw seed of a well-known account, and the dev seed itself with a junction.
        let alice_seed = format!("0x{}", hex::encode(dev_pair("alice").seed()));
        assert_eq!(
            dev_key(&alice_seed, &pair(&alice_seed)).as_deref(),
            Some("the seed of //alice")
        );
        let dev_seed = format!("0x{}//x", hex::encode(blake2_256(b"aitbc dev seed")));
        assert!(dev_key(&dev_seed, &pair(&dev_seed)).is_some());
        // A key of one's own is not.
        let own = format!("0x{}", hex::encode(Pair::generate().seed()));
        assert_eq!(dev_key(&own, &pair(&own)), None);
    }

    #[test]
    fn dev_keys_only_on_dev_and_local_chains() {
        let alice = pair("//alice");
        let mut spec = ChainSpec::dev();
        assert!(refuse_dev_key("authority", "//alice", &alice, &spec).is_ok());
        spec.chain_type = ChainType::Local;
        assert!(refuse_dev_key("authority", "//alice", &alice, &spec).is_ok());
        spec.chain_type = ChainType::Live;
        let e = refuse_dev_key("sudo", "//alice", &alice, &spec).unwrap_err();
        assert!(
            e.to_string().contains("dev key //alice as the sudo key"),
            "{e}"
        );
        let own = format!("0x{}", hex::encode(Pair::generate().seed()));
        assert!(refuse_dev_key("sudo", &own, &pair(&own), &spec).is_ok());
    }

    #[test]
    fn a_live_spec_naming_dev_accounts_is_refused() {
        let mut spec = ChainSpec::dev();
        assert!(check_spec(&spec).is_ok());
        spec.chain_type = ChainType::Live;
        let e = check_spec(&spec).unwrap_err().to_string();
        assert!(e.contains("//alice an authority"), "{e}");
        let own = |_| Pair::generate().public().to_string();
        spec.genesis.authorities = (0..2).map(own).collect();
        spec.genesis.sudo = Some(own(0));
        spec.genesis.coordinators = vec![own(0)];
        spec.genesis.treasury = own(0);
        assert!(check_spec(&spec).is_ok());
        spec.genesis.treasury = dev_pair("treasury").public().to_string();
        assert!(check_spec(&spec)
            .unwrap_err()
            .to_string()
            .contains("//treasury the treasury"));
    }
}
