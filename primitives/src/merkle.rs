//! The binary Merkle tree over a block's extrinsic hashes: its root (the header's
//! `extrinsics_root`) and inclusion proofs against it.
//!
//! Shape (RFC 6962): a leaf is hashed with prefix `0`, an inner node with prefix `1`, so a leaf
//! can never pose as an inner node; a list of `n > 1` leaves splits at the largest power of two
//! below `n`; the empty list has root `blake2b-256("")`. An [`ExtrinsicProof`] is the sibling
//! hashes on the path from the root down to one leaf; the leaf's index and the number of leaves
//! fix the path, so a proof is checked against exactly one position.

use crate::hashing::Hash;
use codec::{Decode, Encode};

/// The root of a list of leaf hashes.
pub fn extrinsics_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Hash::of(&[]),
        1 => leaf(&leaves[0]),
        n => {
            let split = split_of(n);
            inner(
                &extrinsics_root(&leaves[..split]),
                &extrinsics_root(&leaves[split..]),
            )
        }
    }
}

fn leaf(hash: &Hash) -> Hash {
    Hash::of(&[&[0u8][..], hash.as_bytes()].concat())
}

fn inner(left: &Hash, right: &Hash) -> Hash {
    Hash::of(&[&[1u8][..], left.as_bytes(), right.as_bytes()].concat())
}

/// Where a list of `n > 1` leaves splits: the largest power of two below `n`.
fn split_of(n: usize) -> usize {
    n.next_power_of_two() / 2
}

/// Proof that a leaf is at `index` among `count` leaves: the siblings from the root down.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct ExtrinsicProof {
    pub index: u32,
    pub count: u32,
    pub siblings: Vec<Hash>,
}

/// The directions from the root down to leaf `index` of `count`: for each level, the leaf's
/// range and whether it is in the left half. Empty for a single leaf; `None` if out of range.
fn path(index: usize, count: usize) -> Option<Vec<(usize, usize, usize, bool)>> {
    if index >= count {
        return None;
    }
    let (mut lo, mut hi) = (0, count);
    let mut out = Vec::new();
    while hi - lo > 1 {
        let split = lo + split_of(hi - lo);
        let left = index < split;
        out.push((lo, split, hi, left));
        if left {
            hi = split;
        } else {
            lo = split;
        }
    }
    Some(out)
}

/// The proof of leaf `index` (`None` if there is no such leaf).
pub fn extrinsic_proof(leaves: &[Hash], index: usize) -> Option<ExtrinsicProof> {
    let siblings = path(index, leaves.len())?
        .into_iter()
        .map(|(lo, split, hi, left)| {
            if left {
                extrinsics_root(&leaves[split..hi])
            } else {
                extrinsics_root(&leaves[lo..split])
            }
        })
        .collect();
    Some(ExtrinsicProof {
        index: index.try_into().ok()?,
        count: leaves.len().try_into().ok()?,
        siblings,
    })
}

impl ExtrinsicProof {
    /// Whether `hash` is the leaf at the proof's index under `root`.
    pub fn verify(&self, root: &Hash, hash: &Hash) -> bool {
        let Some(path) = path(self.index as usize, self.count as usize) else {
            return false;
        };
        if path.len() != self.siblings.len() {
            return false;
        }
        let computed = path.iter().zip(&self.siblings).rev().fold(
            leaf(hash),
            |node, ((_, _, _, left), sibling)| {
                if *left {
                    inner(&node, sibling)
                } else {
                    inner(sibling, &node)
                }
            },
        );
        computed == *root
    }
}

/// Proof that a transaction is in a block: the block's header, the transaction's bytes and its
/// inclusion proof against the header's extrinsics root.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct TxProof {
    pub header: crate::block::Header,
    pub extrinsic: Vec<u8>,
    pub proof: ExtrinsicProof,
}

impl TxProof {
    /// Whether the transaction with hash `tx_hash` is in the block of `header`.
    pub fn verify(&self, tx_hash: &Hash) -> bool {
        Hash::of(&self.extrinsic) == *tx_hash
            && self.proof.verify(&self.header.extrinsics_root, tx_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| Hash::of(&(i as u64).to_le_bytes()))
            .collect()
    }

    #[test]
    fn root_depends_on_order_and_content() {
        let a = Hash::of(b"a");
        let b = Hash::of(b"b");
        assert_ne!(extrinsics_root(&[a, b]), extrinsics_root(&[b, a]));
        assert_ne!(extrinsics_root(&[a]), extrinsics_root(&[a, a]));
        assert_ne!(extrinsics_root(&[]), extrinsics_root(&[a]));
        // A leaf can't pose as an inner node.
        let inner = extrinsics_root(&[a, b]);
        assert_ne!(extrinsics_root(&[inner]), inner);
    }

    #[test]
    fn every_leaf_of_every_size_proves_and_nothing_else_does() {
        for n in 1..=33 {
            let l = leaves(n);
            let root = extrinsics_root(&l);
            for i in 0..n {
                let proof = extrinsic_proof(&l, i).expect("in range");
                assert!(proof.verify(&root, &l[i]), "n={n} i={i}");
                // Another leaf, another position or another root: refused.
                assert!(!proof.verify(&root, &Hash::of(b"other")));
                assert!(!proof.verify(&Hash::of(b"root"), &l[i]));
                if n > 1 {
                    let other = (i + 1) % n;
                    assert!(!proof.verify(&root, &l[other]), "n={n} i={i}");
                    let moved = ExtrinsicProof {
                        index: other as u32,
                        ..proof.clone()
                    };
                    assert!(!moved.verify(&root, &l[i]), "n={n} i={i}");
                }
            }
            assert!(extrinsic_proof(&l, n).is_none());
        }
    }

    #[test]
    fn a_proof_is_logarithmic() {
        let l = leaves(10_000);
        let proof = extrinsic_proof(&l, 7_777).expect("in range");
        assert_eq!(proof.siblings.len(), 14);
        assert!(proof.encode().len() < 500);
    }
}
