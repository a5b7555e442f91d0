//! The registry's state: its keys, their SCALE values, and reads through a block's pending
//! writes.
//!
//! | key | value |
//! |---|---|
//! | `names/number` | the number of the last block (`u64`) |
//! | `names/authorities` | the authority set (`Vec<AccountId>`), fixed at genesis |
//! | `names/slot_ms` | the slot duration in milliseconds (`u64`), fixed at genesis |
//! | `names/nonce/` ++ account | the account's next nonce (`u64`) |
//! | `names/name/` ++ name bytes | [`NameRecord`] |

use aitbc_primitives::commitment::StateChanges;
use aitbc_primitives::{AccountId, BlockNumber, Nonce, StateView};
use codec::{Decode, Encode};

/// The longest name, in bytes.
pub const MAX_NAME_LEN: usize = 32;
/// The longest value a name points to, in bytes.
pub const MAX_VALUE_LEN: usize = 256;

const NUMBER: &[u8] = b"names/number";
const AUTHORITIES: &[u8] = b"names/authorities";
const SLOT_MS: &[u8] = b"names/slot_ms";
const NONCE_PREFIX: &[u8] = b"names/nonce/";
const NAME_PREFIX: &[u8] = b"names/name/";

/// A claimed name: its owner and the value it points to.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, serde::Serialize)]
pub struct NameRecord {
    pub owner: AccountId,
    pub value: Vec<u8>,
}

/// Whether `name` is a valid name: 1 to [`MAX_NAME_LEN`] bytes of `a-z`, `0-9`, `-`.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

fn nonce_key(who: &AccountId) -> Vec<u8> {
    [NONCE_PREFIX, who.as_bytes()].concat()
}

fn name_key(name: &[u8]) -> Vec<u8> {
    [NAME_PREFIX, name].concat()
}

fn decode<T: Decode>(bytes: Option<Vec<u8>>) -> Option<T> {
    bytes.and_then(|b| T::decode(&mut &b[..]).ok())
}

/// Reads a parent state with a block's pending writes on top.
pub(crate) struct Reader<'a> {
    state: &'a dyn StateView,
    pending: &'a StateChanges,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(state: &'a dyn StateView, pending: &'a StateChanges) -> Self {
        Reader { state, pending }
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.pending.get(key) {
            Some(v) => v.clone(),
            None => self.state.get(key),
        }
    }

    pub(crate) fn nonce(&self, who: &AccountId) -> Nonce {
        decode(self.get(&nonce_key(who))).unwrap_or(0)
    }

    pub(crate) fn name(&self, name: &[u8]) -> Option<NameRecord> {
        decode(self.get(&name_key(name)))
    }

    pub(crate) fn block_number(&self) -> BlockNumber {
        decode(self.get(NUMBER)).unwrap_or(0)
    }
}

pub(crate) fn write_nonce(changes: &mut StateChanges, who: &AccountId, nonce: Nonce) {
    changes.insert(nonce_key(who), Some(nonce.encode()));
}

pub(crate) fn write_name(changes: &mut StateChanges, name: &[u8], record: Option<&NameRecord>) {
    changes.insert(name_key(name), record.map(Encode::encode));
}

pub(crate) fn write_block_number(changes: &mut StateChanges, number: BlockNumber) {
    changes.insert(NUMBER.to_vec(), Some(number.encode()));
}

pub(crate) fn write_genesis(changes: &mut StateChanges, authorities: &[AccountId], slot_ms: u64) {
    changes.insert(AUTHORITIES.to_vec(), Some(authorities.to_vec().encode()));
    changes.insert(SLOT_MS.to_vec(), Some(slot_ms.encode()));
    write_block_number(changes, 0);
}

pub(crate) fn read_authorities(state: &dyn StateView) -> Vec<AccountId> {
    decode(state.get(AUTHORITIES)).unwrap_or_default()
}

pub(crate) fn read_slot_duration_ms(state: &dyn StateView) -> u64 {
    decode(state.get(SLOT_MS)).unwrap_or(1_000)
}

/// The registry's whole-state invariants: the authority set is not empty, and every name entry
/// has a valid name and a record that decodes with a value within bounds.
pub(crate) fn check_all(entries: &mut dyn Iterator<Item = (&[u8], &[u8])>) -> Result<(), String> {
    let mut authorities = false;
    for (k, v) in entries {
        if k == AUTHORITIES {
            let set = Vec::<AccountId>::decode(&mut &v[..])
                .map_err(|_| "the authority set does not decode".to_string())?;
            authorities = !set.is_empty();
        } else if let Some(name) = k.strip_prefix(NAME_PREFIX) {
            if !valid_name(name) {
                return Err(format!("invalid name 0x{}", hex_of(name)));
            }
            let record = NameRecord::decode(&mut &v[..])
                .map_err(|_| format!("the record of {} does not decode", hex_of(name)))?;
            if record.value.len() > MAX_VALUE_LEN {
                return Err(format!("the value of {} is too long", hex_of(name)));
            }
        }
    }
    if !authorities {
        return Err("the authority set is empty".into());
    }
    Ok(())
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
