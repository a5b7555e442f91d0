//! The wire form of a state proof ([`StateProof`](crate::commitment::StateProof)): compact, and
//! checked without jmt.
//!
//! jmt's `SparseMerkleProof` carries every sibling on the key's path as a whole node (an
//! internal node's two child hashes, or a leaf's key and value hashes: 65 bytes), so that a
//! proof can also drive an update; a reader only needs each sibling's hash. The compact form:
//!
//! ```text
//! leaf:    0 | 1 ++ key hash (32) ++ value hash (32)   the leaf the path ends at, if any
//! depth:   u16, little-endian, <= 256                  how many siblings
//! empty:   ceil(depth / 8) bytes                       bit i (LSB first): sibling i is empty
//! hashes:  32 bytes per non-empty sibling              bottom first
//! ```
//!
//! Nothing may follow, and the unused bits of `empty` are zero: each proof has one encoding.
//! For a key of a 1M-account state that is ~700 bytes instead of ~1,340.
//!
//! [`check`] is jmt's `SparseMerkleProof::verify` on that form: the leaf against the claimed
//! value (or, for an absence, a leaf elsewhere in the subtree the key would fall in), then the
//! path hashed up to the root (jmt's domain-separated blake2b-256). Both verdicts agree on every
//! genuine and forged proof in the tests below.

use crate::commitment::{empty_root, key_hash, ProofFailure};
use crate::hashing::{Blake2b256, Hash};
use blake2::Digest;
use jmt::proof::{INTERNAL_DOMAIN_SEPARATOR, LEAF_DOMAIN_SEPARATOR};

/// A proof decoded from its compact form.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Compact {
    leaf: Option<([u8; 32], [u8; 32])>,
    /// Bottom first; `None` is an empty subtree.
    siblings: Vec<Option<[u8; 32]>>,
}

fn leaf_hash(key_hash: &[u8; 32], value_hash: &[u8; 32]) -> [u8; 32] {
    Blake2b256::new()
        .chain_update(LEAF_DOMAIN_SEPARATOR)
        .chain_update(key_hash)
        .chain_update(value_hash)
        .finalize()
        .into()
}

fn internal_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    Blake2b256::new()
        .chain_update(INTERNAL_DOMAIN_SEPARATOR)
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// Bit `i` (most significant first) of a key hash.
fn bit(key_hash: &[u8; 32], i: usize) -> bool {
    key_hash[i / 8] & (0x80 >> (i % 8)) != 0
}

fn common_prefix_bits(a: &[u8; 32], b: &[u8; 32]) -> usize {
    (0..256).take_while(|&i| bit(a, i) == bit(b, i)).count()
}

impl Compact {
    fn encode(&self) -> Vec<u8> {
        let depth = self.siblings.len();
        let mut out = Vec::with_capacity(65 + 2 + depth.div_ceil(8) + 32 * depth);
        match &self.leaf {
            None => out.push(0),
            Some((k, v)) => {
                out.push(1);
                out.extend_from_slice(k);
                out.extend_from_slice(v);
            }
        }
        out.extend_from_slice(&(depth as u16).to_le_bytes());
        let mut empty = vec![0u8; depth.div_ceil(8)];
        for (i, s) in self.siblings.iter().enumerate() {
            if s.is_none() {
                empty[i / 8] |= 1 << (i % 8);
            }
        }
        out.extend_from_slice(&empty);
        for hash in self.siblings.iter().flatten() {
            out.extend_from_slice(hash);
        }
        out
    }

    fn decode(mut bytes: &[u8]) -> Option<Compact> {
        let mut take = |n: usize| -> Option<&[u8]> {
            let (head, rest) = bytes.split_at_checked(n)?;
            bytes = rest;
            Some(head)
        };
        let leaf = match take(1)?[0] {
            0 => None,
            1 => {
                let both = take(64)?;
                Some((both[..32].try_into().ok()?, both[32..].try_into().ok()?))
            }
            _ => return None,
        };
        let depth = usize::from(u16::from_le_bytes(take(2)?.try_into().ok()?));
        if depth > 256 {
            return None;
        }
        let empty = take(depth.div_ceil(8))?.to_vec();
        let placeholder = empty_root().0;
        let mut siblings = Vec::with_capacity(depth);
        for i in 0..depth {
            siblings.push(if empty[i / 8] & (1 << (i % 8)) != 0 {
                None
            } else {
                let hash: [u8; 32] = take(32)?.try_into().ok()?;
                if hash == placeholder {
                    return None; // an empty sibling is marked, not spelled out
                }
                Some(hash)
            });
        }
        // One encoding per proof: no stray bits, nothing after the hashes.
        let stray = (depth..empty.len() * 8).any(|i| empty[i / 8] & (1 << (i % 8)) != 0);
        (!stray && bytes.is_empty()).then_some(Compact { leaf, siblings })
    }
}

/// The compact form of jmt's proof (its borsh bytes: the leaf option, then the siblings as
/// nodes: 0 empty, 1 internal (two child hashes), 2 leaf (key and value hashes)).
pub(crate) fn compact(jmt_borsh: &[u8]) -> Option<Vec<u8>> {
    let mut bytes = jmt_borsh;
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, rest) = bytes.split_at_checked(n)?;
        bytes = rest;
        Some(head)
    };
    let pair = |b: &[u8]| -> Option<([u8; 32], [u8; 32])> {
        Some((b[..32].try_into().ok()?, b[32..64].try_into().ok()?))
    };
    let leaf = match take(1)?[0] {
        0 => None,
        1 => Some(pair(take(64)?)?),
        _ => return None,
    };
    let count = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
    let mut siblings = Vec::with_capacity(count.min(256));
    for _ in 0..count {
        siblings.push(match take(1)?[0] {
            0 => None,
            1 => {
                let (l, r) = pair(take(64)?)?;
                Some(internal_hash(&l, &r))
            }
            2 => {
                let (k, v) = pair(take(64)?)?;
                Some(leaf_hash(&k, &v))
            }
            _ => return None,
        });
    }
    if !bytes.is_empty() {
        return None;
    }
    Some(Compact { leaf, siblings }.encode())
}

/// Checks that `key` has `value` (`None`: is absent) under `root` by the compact proof `proof`.
pub(crate) fn check(
    root: &Hash,
    key: &[u8],
    value: Option<&[u8]>,
    proof: &[u8],
) -> Result<(), ProofFailure> {
    let proof = Compact::decode(proof).ok_or(ProofFailure::Malformed)?;
    let key = key_hash(key);
    match (value, &proof.leaf) {
        (Some(value), Some((leaf_key, value_hash))) => {
            if *leaf_key != key || *value_hash != crate::hashing::blake2_256(value) {
                return Err(ProofFailure::ValueMismatch);
            }
        }
        (Some(_), None) => return Err(ProofFailure::ValueMismatch),
        (None, Some((leaf_key, _))) => {
            if *leaf_key == key {
                return Err(ProofFailure::ValueMismatch);
            }
            // The other leaf must sit where the key would: below every sibling.
            if common_prefix_bits(&key, leaf_key) < proof.siblings.len() {
                return Err(ProofFailure::RootMismatch);
            }
        }
        (None, None) => {}
    }
    let placeholder = empty_root().0;
    let mut hash = proof.leaf.map_or(placeholder, |(k, v)| leaf_hash(&k, &v));
    let depth = proof.siblings.len();
    for (i, sibling) in proof.siblings.iter().enumerate() {
        let sibling = sibling.unwrap_or(placeholder);
        hash = if bit(&key, depth - 1 - i) {
            internal_hash(&sibling, &hash)
        } else {
            internal_hash(&hash, &sibling)
        };
    }
    if hash != root.0 {
        return Err(ProofFailure::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commitment::{MemoryState, StateChanges};
    use jmt::KeyHash;

    /// jmt's own verdict on its proof (the slow path this module replaces).
    fn jmt_check(
        root: &Hash,
        key: &[u8],
        value: Option<&[u8]>,
        jmt_borsh: &[u8],
    ) -> Result<(), ()> {
        let proof =
            borsh::from_slice::<jmt::proof::SparseMerkleProof<Blake2b256>>(jmt_borsh).unwrap();
        proof
            .verify(jmt::RootHash(root.0), KeyHash(key_hash(key)), value)
            .map_err(|_| ())
    }

    fn jmt_proof(state: &MemoryState, key: &[u8]) -> Vec<u8> {
        let reader = crate::commitment::Reader(state);
        let tree = jmt::JellyfishMerkleTree::<_, Blake2b256>::new(&reader);
        let (_, proof) = tree
            .get_with_proof(KeyHash(key_hash(key)), state.next_version() - 1)
            .unwrap();
        borsh::to_vec(&proof).unwrap()
    }

    #[test]
    fn the_compact_check_agrees_with_jmt_on_genuine_and_forged_proofs() {
        let changes: StateChanges = (0..3_000u32)
            .map(|i| {
                (
                    i.to_le_bytes().to_vec(),
                    Some(vec![i as u8; 1 + i as usize % 9]),
                )
            })
            .collect();
        let mut state = MemoryState::new();
        let root = state.apply(&changes).unwrap();
        let other_root = Hash::of(b"another root");
        let mut checked = 0;
        for i in (0..3_000u32).step_by(37).chain(5_000..5_040) {
            let key = i.to_le_bytes();
            let value = changes.get(key.as_slice()).cloned().flatten();
            let jmt_bytes = jmt_proof(&state, &key);
            let bytes = compact(&jmt_bytes).unwrap();
            assert!(
                bytes.len() < jmt_bytes.len(),
                "{} >= {}",
                bytes.len(),
                jmt_bytes.len()
            );
            let claims: [(Hash, Option<Vec<u8>>); 4] = [
                (root, value.clone()),
                (other_root, value.clone()),
                (root, Some(b"forged".to_vec())),
                (root, if value.is_some() { None } else { Some(vec![1]) }),
            ];
            for (r, v) in &claims {
                let ours = check(r, &key, v.as_deref(), &bytes);
                let theirs = jmt_check(r, &key, v.as_deref(), &jmt_bytes);
                assert_eq!(
                    ours.is_ok(),
                    theirs.is_ok(),
                    "key {i}, value {v:?}: {ours:?}"
                );
                checked += 1;
            }
            assert_eq!(check(&root, &key, value.as_deref(), &bytes), Ok(()));
            // A tampered sibling or leaf: refused.
            let mut tampered = bytes.clone();
            let last = tampered.len() - 1;
            tampered[last] ^= 1;
            assert!(check(&root, &key, value.as_deref(), &tampered).is_err());
        }
        assert!(checked > 400);
    }

    #[test]
    fn malformed_or_padded_proofs_are_refused() {
        let mut state = MemoryState::new();
        let changes: StateChanges = (0..50u8).map(|i| (vec![i], Some(vec![i]))).collect();
        let root = state.apply(&changes).unwrap();
        let bytes = compact(&jmt_proof(&state, &[7])).unwrap();
        assert_eq!(check(&root, &[7], Some(&[7]), &bytes), Ok(()));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            check(&root, &[7], Some(&[7]), &longer),
            Err(ProofFailure::Malformed)
        );
        assert_eq!(
            check(&root, &[7], Some(&[7]), &bytes[..bytes.len() - 1]),
            Err(ProofFailure::Malformed)
        );
        assert_eq!(
            check(&root, &[7], Some(&[7]), &[]),
            Err(ProofFailure::Malformed)
        );
        // A depth over 256.
        let mut deep = vec![0u8];
        deep.extend_from_slice(&257u16.to_le_bytes());
        assert_eq!(
            check(&root, &[7], None, &deep),
            Err(ProofFailure::Malformed)
        );
    }
}
