//! Hash functions.
//!
//! - [`blake2_256`] (blake2b with a 32-byte output) is the chain's cryptographic hash: block,
//!   header, extrinsic and receipt hashes, Merkle nodes, storage keys derived from attacker-chosen
//!   data.
//! - [`twox_128`] (two xxHash64 rounds) is only for fixed storage-key prefixes (module and item
//!   names), never for data an attacker chooses.

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest as _};
use codec::{Decode, Encode};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// blake2b-256, the hasher type (digest 0.10) also used by the state commitment.
pub type Blake2b256 = Blake2b<U32>;

/// blake2b-256 of `data`.
pub fn blake2_256(data: &[u8]) -> [u8; 32] {
    Blake2b256::digest(data).into()
}

/// 128-bit xxHash: xxh64 with seed 0 followed by xxh64 with seed 1, little endian.
pub fn twox_128(data: &[u8]) -> [u8; 16] {
    let a = twox_hash::XxHash64::oneshot(0, data).to_le_bytes();
    let b = twox_hash::XxHash64::oneshot(1, data).to_le_bytes();
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&a);
    out[8..].copy_from_slice(&b);
    out
}

/// A 32-byte blake2b-256 hash. JSON and `Display`: `0x`-prefixed lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Encode, Decode)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    pub const ZERO: Hash = Hash([0u8; 32]);

    /// Hash of arbitrary bytes.
    pub fn of(data: &[u8]) -> Hash {
        Hash(blake2_256(data))
    }

    /// Hash of a value's SCALE encoding.
    pub fn of_encoded<T: Encode>(value: &T) -> Hash {
        value.using_encoded(Hash::of)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses `0x` + 64 hex digits (the prefix is optional).
    pub fn from_hex(s: &str) -> Result<Hash, HashParseError> {
        let digits = s.strip_prefix("0x").unwrap_or(s);
        if digits.len() != 64 {
            return Err(HashParseError::Length(digits.len()));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(digits, &mut out).map_err(|_| HashParseError::NotHex)?;
        Ok(Hash(out))
    }

    /// Abbreviated form for logs: `0x1a2b…9f0e`.
    pub fn short(&self) -> String {
        let h = hex::encode(self.0);
        format!("0x{}…{}", &h[..4], &h[60..])
    }
}

/// Why a hash string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    #[error("expected 64 hex digits after 0x, got {0}")]
    Length(usize),
    #[error("hash is not valid hex")]
    NotHex,
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Hash {
    type Err = HashParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hash::from_hex(s)
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Hash::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blake2_256_known_vector() {
        // blake2b-256("abc"), RFC 7693 parameters with a 32-byte digest.
        assert_eq!(
            hex::encode(blake2_256(b"abc")),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"
        );
    }

    #[test]
    fn twox_128_differs_per_input_and_is_stable() {
        assert_eq!(twox_128(b"System"), twox_128(b"System"));
        assert_ne!(twox_128(b"System"), twox_128(b"Balances"));
    }

    #[test]
    fn hash_hex_round_trip_and_errors() {
        let h = Hash::of(b"x");
        assert_eq!(Hash::from_hex(&h.to_string()), Ok(h));
        assert_eq!(Hash::from_hex("0x12"), Err(HashParseError::Length(2)));
        assert_eq!(
            Hash::from_hex(&format!("0x{}", "zz".repeat(32))),
            Err(HashParseError::NotHex)
        );
    }
}
