//! Runtime storage: a key-value [`Storage`] trait with nested transactional layers, typed items
//! over SCALE, and the [`Overlay`] the executive runs modules on.
//!
//! ## Key scheme
//! Every module item lives under a fixed 32-byte prefix `twox128(module) ++ twox128(item)`
//! (e.g. `twox128("Balances") ++ twox128("Account")`):
//! - a single value ([`StorageValue`]) is stored at exactly that prefix;
//! - a map entry ([`StorageMap`]) is stored at
//!   `twox128(module) ++ twox128(item) ++ blake2_256(SCALE(key)) ++ SCALE(key)`.
//!
//! twox128 is fast and fine for the fixed names chosen by us. Map keys are chosen by users
//! (accounts, job ids, receipt ids), so they are hashed with blake2b-256: nobody can grind keys
//! that cluster in the state tree. The encoded key is appended in clear so a full-state scan can
//! recover it (tests and tools iterate a map by its prefix, the runtime never does).
//!
//! ## Layers
//! [`Overlay`] reads through: its open transaction layers (newest first) -> the block's pending
//! changes ([`aitbc_primitives::PendingBlock::changes`]) -> the parent state
//! ([`StateView`]). Writes go to the newest open layer, or straight into the pending changes when
//! no layer is open. [`Storage::commit_transaction`] folds the newest layer into the one below;
//! [`Storage::rollback_transaction`] drops it. A failed call's writes are rolled back this way
//! while the fee charged below them stays.

use aitbc_primitives::commitment::StateChanges;
use aitbc_primitives::{blake2_256, decode_exact, twox_128, StateView};
use codec::{Decode, Encode};
use std::marker::PhantomData;

/// Storage as the runtime modules see it.
///
/// Contract: reads see every write made before them in the same overlay (in any layer); a
/// committed layer's writes become part of the layer below; a rolled-back layer's writes vanish.
/// Commit or rollback with no open layer is a no-op that returns `false`.
pub trait Storage {
    /// The raw value at `key`.
    fn get_raw(&self, key: &[u8]) -> Option<Vec<u8>>;
    /// Sets `key` to `value`.
    fn put_raw(&mut self, key: Vec<u8>, value: Vec<u8>);
    /// Removes `key`.
    fn remove_raw(&mut self, key: Vec<u8>);
    /// Opens a new (nested) transactional layer.
    fn start_transaction(&mut self);
    /// Folds the newest layer into the one below. `false` if no layer was open.
    fn commit_transaction(&mut self) -> bool;
    /// Drops the newest layer and its writes. `false` if no layer was open.
    fn rollback_transaction(&mut self) -> bool;
    /// How many layers are open.
    fn transaction_depth(&self) -> usize;

    /// The decoded value at `key`. A value that does not decode (never written by this runtime)
    /// reads as absent.
    fn get<T: Decode>(&self, key: &[u8]) -> Option<T>
    where
        Self: Sized,
    {
        self.get_raw(key)
            .and_then(|bytes| decode_exact(&bytes).ok())
    }

    /// Stores the encoding of `value` at `key`.
    fn put<T: Encode>(&mut self, key: Vec<u8>, value: &T)
    where
        Self: Sized,
    {
        self.put_raw(key, value.encode())
    }

    /// Removes `key`.
    fn remove(&mut self, key: Vec<u8>)
    where
        Self: Sized,
    {
        self.remove_raw(key)
    }
}

/// Runs `f` in a new transactional layer: committed if it returns `Ok`, rolled back on `Err`.
pub fn with_transaction<S: Storage, T, E>(
    storage: &mut S,
    f: impl FnOnce(&mut S) -> Result<T, E>,
) -> Result<T, E> {
    storage.start_transaction();
    let result = f(storage);
    if result.is_ok() {
        storage.commit_transaction();
    } else {
        storage.rollback_transaction();
    }
    result
}

/// The storage of one block under construction: nested layers over the pending changes over the
/// parent state (see the module docs). Layers still open when the overlay is dropped are
/// discarded: only committed writes ever reach the pending changes.
pub struct Overlay<'a> {
    backend: &'a dyn StateView,
    pending: &'a mut StateChanges,
    layers: Vec<StateChanges>,
}

impl std::fmt::Debug for Overlay<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overlay")
            .field("pending", &self.pending.len())
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl<'a> Overlay<'a> {
    /// An overlay writing into `pending` on top of `backend`.
    pub fn new(backend: &'a dyn StateView, pending: &'a mut StateChanges) -> Self {
        Overlay {
            backend,
            pending,
            layers: Vec::new(),
        }
    }

    fn top(&mut self) -> &mut StateChanges {
        match self.layers.last_mut() {
            Some(layer) => layer,
            None => self.pending,
        }
    }
}

impl Storage for Overlay<'_> {
    fn get_raw(&self, key: &[u8]) -> Option<Vec<u8>> {
        for layer in self.layers.iter().rev() {
            if let Some(v) = layer.get(key) {
                return v.clone();
            }
        }
        match self.pending.get(key) {
            Some(v) => v.clone(),
            None => self.backend.get(key),
        }
    }

    fn put_raw(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.top().insert(key, Some(value));
    }

    fn remove_raw(&mut self, key: Vec<u8>) {
        self.top().insert(key, None);
    }

    fn start_transaction(&mut self) {
        self.layers.push(StateChanges::new());
    }

    fn commit_transaction(&mut self) -> bool {
        let Some(layer) = self.layers.pop() else {
            return false;
        };
        self.top().extend(layer);
        true
    }

    fn rollback_transaction(&mut self) -> bool {
        self.layers.pop().is_some()
    }

    fn transaction_depth(&self) -> usize {
        self.layers.len()
    }
}

/// The 32-byte prefix of a module item: `twox128(module) ++ twox128(item)`.
pub fn item_prefix(module: &str, item: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(32);
    key.extend_from_slice(&twox_128(module.as_bytes()));
    key.extend_from_slice(&twox_128(item.as_bytes()));
    key
}

/// The key of a map entry: `item_prefix ++ blake2_256(SCALE(key)) ++ SCALE(key)`.
pub fn map_key<K: Encode>(module: &str, item: &str, key: &K) -> Vec<u8> {
    let encoded = key.encode();
    let mut out = item_prefix(module, item);
    out.reserve(32 + encoded.len());
    out.extend_from_slice(&blake2_256(&encoded));
    out.extend_from_slice(&encoded);
    out
}

/// A single typed value of a module.
#[derive(Debug)]
pub struct StorageValue<T> {
    module: &'static str,
    item: &'static str,
    _value: PhantomData<fn() -> T>,
}

impl<T: Encode + Decode> StorageValue<T> {
    pub const fn new(module: &'static str, item: &'static str) -> Self {
        StorageValue {
            module,
            item,
            _value: PhantomData,
        }
    }

    pub fn key(&self) -> Vec<u8> {
        item_prefix(self.module, self.item)
    }

    pub fn get<S: Storage>(&self, s: &S) -> Option<T> {
        s.get(&self.key())
    }

    pub fn put<S: Storage>(&self, s: &mut S, value: &T) {
        s.put(self.key(), value)
    }

    pub fn kill<S: Storage>(&self, s: &mut S) {
        s.remove(self.key())
    }

    /// Reads straight from a state (for queries).
    pub fn read(&self, state: &dyn StateView) -> Option<T> {
        state.get(&self.key()).and_then(|b| decode_exact(&b).ok())
    }
}

/// A typed map of a module.
#[derive(Debug)]
pub struct StorageMap<K, V> {
    module: &'static str,
    item: &'static str,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K: Encode + Decode, V: Encode + Decode> StorageMap<K, V> {
    pub const fn new(module: &'static str, item: &'static str) -> Self {
        StorageMap {
            module,
            item,
            _types: PhantomData,
        }
    }

    /// The prefix all entries share.
    pub fn prefix(&self) -> Vec<u8> {
        item_prefix(self.module, self.item)
    }

    pub fn key(&self, key: &K) -> Vec<u8> {
        map_key(self.module, self.item, key)
    }

    pub fn get<S: Storage>(&self, s: &S, key: &K) -> Option<V> {
        s.get(&self.key(key))
    }

    pub fn contains<S: Storage>(&self, s: &S, key: &K) -> bool {
        s.get_raw(&self.key(key)).is_some()
    }

    pub fn insert<S: Storage>(&self, s: &mut S, key: &K, value: &V) {
        s.put(self.key(key), value)
    }

    pub fn remove<S: Storage>(&self, s: &mut S, key: &K) {
        s.remove(self.key(key))
    }

    /// Reads straight from a state (for queries).
    pub fn read(&self, state: &dyn StateView, key: &K) -> Option<V> {
        state
            .get(&self.key(key))
            .and_then(|b| decode_exact(&b).ok())
    }

    /// Decodes one raw state entry of this map (key and value), or `None` if the entry is not
    /// in this map. For tools and tests that scan a whole state.
    pub fn decode_entry(&self, raw_key: &[u8], raw_value: &[u8]) -> Option<(K, V)> {
        let rest = raw_key.strip_prefix(self.prefix().as_slice())?;
        let encoded = rest.get(32..)?;
        Some((decode_exact(encoded).ok()?, decode_exact(raw_value).ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aitbc_primitives::commitment::MemoryState;

    const VALUE: StorageValue<u32> = StorageValue::new("Test", "Value");
    const MAP: StorageMap<u64, u32> = StorageMap::new("Test", "Map");

    fn backend() -> MemoryState {
        let mut s = MemoryState::new();
        let mut c = StateChanges::new();
        c.insert(VALUE.key(), Some(1u32.encode()));
        c.insert(MAP.key(&7), Some(70u32.encode()));
        s.apply(&c).unwrap();
        s
    }

    #[test]
    fn key_scheme() {
        assert_eq!(
            VALUE.key(),
            [twox_128(b"Test"), twox_128(b"Value")].concat()
        );
        let k = MAP.key(&7u64);
        assert_eq!(&k[..32], &item_prefix("Test", "Map")[..]);
        assert_eq!(&k[32..64], &blake2_256(&7u64.encode())[..]);
        assert_eq!(&k[64..], &7u64.encode()[..]);
        assert_eq!(MAP.decode_entry(&k, &5u32.encode()), Some((7, 5)));
        assert_eq!(MAP.decode_entry(&VALUE.key(), &5u32.encode()), None);
    }

    #[test]
    fn reads_through_layers_pending_and_backend() {
        let state = backend();
        let mut pending = StateChanges::new();
        let mut o = Overlay::new(&state, &mut pending);
        assert_eq!(VALUE.get(&o), Some(1));
        assert_eq!(MAP.get(&o, &7), Some(70));
        VALUE.put(&mut o, &2); // no layer: straight into pending
        o.start_transaction();
        VALUE.put(&mut o, &3);
        MAP.remove(&mut o, &7);
        assert_eq!(VALUE.get(&o), Some(3));
        assert_eq!(MAP.get(&o, &7), None);
        o.start_transaction();
        MAP.insert(&mut o, &8, &80);
        assert_eq!(o.transaction_depth(), 2);
        assert!(o.rollback_transaction());
        assert_eq!(MAP.get(&o, &8), None);
        assert_eq!(VALUE.get(&o), Some(3));
        assert!(o.rollback_transaction());
        assert_eq!(VALUE.get(&o), Some(2));
        assert_eq!(MAP.get(&o, &7), Some(70));
        assert!(!o.rollback_transaction());
        assert!(!o.commit_transaction());
        o.start_transaction();
        o.start_transaction();
        MAP.insert(&mut o, &9, &90);
        assert!(o.commit_transaction());
        assert!(o.commit_transaction());
        drop(o);
        assert_eq!(pending.len(), 2);
        assert_eq!(pending.get(&MAP.key(&9)), Some(&Some(90u32.encode())));
    }

    #[test]
    fn dropped_layers_never_reach_pending() {
        let state = backend();
        let mut pending = StateChanges::new();
        {
            let mut o = Overlay::new(&state, &mut pending);
            o.start_transaction();
            VALUE.put(&mut o, &9);
        }
        assert!(pending.is_empty());
        let mut o = Overlay::new(&state, &mut pending);
        let r: Result<(), ()> = with_transaction(&mut o, |s| {
            VALUE.put(s, &5);
            Err(())
        });
        assert!(r.is_err());
        assert_eq!(VALUE.get(&o), Some(1));
        let r: Result<(), ()> = with_transaction(&mut o, |s| {
            VALUE.put(s, &6);
            Ok(())
        });
        assert!(r.is_ok());
        assert_eq!(VALUE.get(&o), Some(6));
    }
}
