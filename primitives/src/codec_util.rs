//! Decoding hostile bytes: depth-limited, whole-input SCALE decoding.

use codec::{Decode, DecodeLimit};

/// Nesting depth allowed while decoding (a `sudo` call wraps another call, and so on).
pub const MAX_DECODE_DEPTH: u32 = 16;

/// Why bytes did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("invalid or truncated SCALE encoding: {0}")]
    Invalid(String),
    #[error("{0} trailing bytes after the encoded value")]
    TrailingBytes(usize),
}

/// Decodes exactly one `T` from `bytes`: a truncated or malformed input and trailing bytes are
/// errors, and nesting is bounded by [`MAX_DECODE_DEPTH`].
pub fn decode_exact<T: Decode>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut input = bytes;
    let value = T::decode_with_depth_limit(MAX_DECODE_DEPTH, &mut input)
        .map_err(|e| DecodeError::Invalid(e.to_string()))?;
    if !input.is_empty() {
        return Err(DecodeError::TrailingBytes(input.len()));
    }
    Ok(value)
}

/// Whether `bytes` fail to decode as a `T` only because they end too soon: a prefix of some
/// encoding (e.g. a message cut off by a closed connection), as opposed to malformed bytes. For
/// telling an interrupted peer from a misbehaving one after [`decode_exact`] failed.
pub fn is_truncated<T: Decode>(bytes: &[u8]) -> bool {
    /// An input that does not tell its length (so the decoder reads until it runs out) and
    /// records running out.
    struct Tracked<'a> {
        bytes: &'a [u8],
        ran_out: bool,
    }
    impl codec::Input for Tracked<'_> {
        fn remaining_len(&mut self) -> Result<Option<usize>, codec::Error> {
            Ok(None)
        }
        fn read(&mut self, into: &mut [u8]) -> Result<(), codec::Error> {
            if into.len() > self.bytes.len() {
                self.ran_out = true;
                return Err("not enough data".into());
            }
            let (head, rest) = self.bytes.split_at(into.len());
            into.copy_from_slice(head);
            self.bytes = rest;
            Ok(())
        }
    }
    let mut input = Tracked {
        bytes,
        ran_out: false,
    };
    let decoded = T::decode_with_depth_limit(MAX_DECODE_DEPTH, &mut input);
    decoded.is_err() && input.ran_out
}

#[cfg(test)]
mod tests {
    use super::*;
    use codec::Encode;

    #[test]
    fn truncated_inputs_are_told_from_malformed_ones() {
        type T = (u32, Vec<u8>, Vec<[u8; 32]>, Option<u64>);
        let bytes = (7u32, vec![1u8; 300], vec![[9u8; 32]; 5], Some(3u64)).encode();
        for cut in 0..bytes.len() {
            assert!(decode_exact::<T>(&bytes[..cut]).is_err());
            assert!(is_truncated::<T>(&bytes[..cut]), "a prefix of {cut} bytes");
        }
        assert!(!is_truncated::<T>(&bytes), "whole");
        // A bad Option tag, trailing bytes: malformed, not truncated.
        let mut bad = bytes.clone();
        let last = bad.len() - 9;
        bad[last] = 7;
        assert!(decode_exact::<T>(&bad).is_err());
        assert!(!is_truncated::<T>(&bad));
        let mut long = bytes;
        long.push(0);
        assert!(!is_truncated::<T>(&long));
    }

    #[test]
    fn rejects_trailing_and_truncated() {
        let mut bytes = (7u32, 9u64).encode();
        assert_eq!(decode_exact::<(u32, u64)>(&bytes), Ok((7, 9)));
        assert!(matches!(
            decode_exact::<(u32, u64)>(&bytes[..5]),
            Err(DecodeError::Invalid(_))
        ));
        bytes.push(0);
        assert_eq!(
            decode_exact::<(u32, u64)>(&bytes),
            Err(DecodeError::TrailingBytes(1))
        );
    }
}

/// A `Vec<T>` that decodes only when it holds at most `N` items, so a hostile length prefix cannot
/// make the decoder allocate or loop without bound. Encodes exactly like `Vec<T>`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(transparent)]
pub struct BoundedVec<T, const N: usize>(Vec<T>);

impl<'de, T: serde::Deserialize<'de>, const N: usize> serde::Deserialize<'de> for BoundedVec<T, N> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BoundedVec::try_from_vec(Vec::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A vector longer than its bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{len} items exceed the bound of {bound}")]
pub struct BoundExceeded {
    pub len: usize,
    pub bound: usize,
}

impl<T, const N: usize> BoundedVec<T, N> {
    pub fn new() -> Self {
        BoundedVec(Vec::new())
    }

    pub fn try_from_vec(v: Vec<T>) -> Result<Self, BoundExceeded> {
        if v.len() > N {
            return Err(BoundExceeded {
                len: v.len(),
                bound: N,
            });
        }
        Ok(BoundedVec(v))
    }

    /// Appends an item, failing when the vector is full.
    pub fn try_push(&mut self, item: T) -> Result<(), BoundExceeded> {
        if self.0.len() >= N {
            return Err(BoundExceeded {
                len: self.0.len() + 1,
                bound: N,
            });
        }
        self.0.push(item);
        Ok(())
    }

    pub fn into_inner(self) -> Vec<T> {
        self.0
    }
}

impl<T, const N: usize> std::ops::Deref for BoundedVec<T, N> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: codec::Encode, const N: usize> codec::Encode for BoundedVec<T, N> {
    fn size_hint(&self) -> usize {
        self.0.size_hint()
    }
    fn encode_to<W: codec::Output + ?Sized>(&self, dest: &mut W) {
        self.0.encode_to(dest)
    }
}

impl<T: Decode, const N: usize> Decode for BoundedVec<T, N> {
    fn decode<I: codec::Input>(input: &mut I) -> Result<Self, codec::Error> {
        let len = <codec::Compact<u32>>::decode(input)?.0 as usize;
        if len > N {
            return Err("vector longer than its bound".into());
        }
        let mut items = Vec::with_capacity(len);
        for _ in 0..len {
            items.push(T::decode(input)?);
        }
        Ok(BoundedVec(items))
    }
}

#[cfg(test)]
mod bounded_tests {
    use super::*;
    use codec::Encode;

    #[test]
    fn bounded_vec_refuses_long_input() {
        let ok = vec![1u8, 2, 3].encode();
        assert_eq!(decode_exact::<BoundedVec<u8, 3>>(&ok).unwrap().len(), 3);
        assert!(decode_exact::<BoundedVec<u8, 2>>(&ok).is_err());
        // A huge length prefix fails fast instead of allocating.
        let huge = codec::Compact(u32::MAX).encode();
        assert!(decode_exact::<BoundedVec<u64, 10>>(&huge).is_err());
        assert!(serde_json::from_str::<BoundedVec<u8, 2>>("[1,2,3]").is_err());
        assert_eq!(
            serde_json::from_str::<BoundedVec<u8, 2>>("[1,2]")
                .unwrap()
                .len(),
            2
        );
        let mut v = BoundedVec::<u8, 1>::new();
        v.try_push(1).unwrap();
        assert!(v.try_push(2).is_err());
    }
}
