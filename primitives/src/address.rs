//! `ait1…` addresses: bech32m (BIP-350) with human-readable part `ait` over the 32-byte public key.

use crate::crypto::AccountId;
use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Bech32m, Hrp};

/// The human-readable part of every AITBC address.
pub const HRP: &str = "ait";

/// An address in text form; an alias kept for readability at API edges.
pub type Address = String;

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("address checksum is wrong (mistyped address?)")]
    BadChecksum,
    #[error("address is not bech32m: {0}")]
    Malformed(String),
    #[error("address prefix is {0:?}, expected \"ait\"")]
    WrongPrefix(String),
    #[error("address holds {0} bytes, expected a 32-byte public key")]
    WrongLength(usize),
}

/// `ait1…` text of an account.
pub fn encode(account: &AccountId) -> String {
    let hrp = Hrp::parse_unchecked(HRP);
    bech32::encode::<Bech32m>(hrp, &account.0).expect("a 32-byte payload always fits bech32m; qed")
}

/// Parses an `ait1…` address, checking the bech32m checksum, the prefix and the length.
pub fn decode(text: &str) -> Result<AccountId, AddressError> {
    use bech32::primitives::decode::{CheckedHrpstringError, ChecksumError};
    let checked = CheckedHrpstring::new::<Bech32m>(text.trim()).map_err(|e| match e {
        CheckedHrpstringError::Checksum(ChecksumError::InvalidResidue) => AddressError::BadChecksum,
        other => AddressError::Malformed(other.to_string()),
    })?;
    if !checked.hrp().as_str().eq_ignore_ascii_case(HRP) {
        return Err(AddressError::WrongPrefix(checked.hrp().to_string()));
    }
    let bytes: Vec<u8> = checked.byte_iter().collect();
    let key: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| AddressError::WrongLength(bytes.len()))?;
    Ok(AccountId(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::dev_pair;

    #[test]
    fn round_trip_and_errors() {
        let alice = dev_pair("alice").public();
        let text = encode(&alice);
        assert!(text.starts_with("ait1"));
        assert_eq!(decode(&text), Ok(alice));
        assert_eq!(decode(&text.to_uppercase()), Ok(alice));

        // Flip one data character: the checksum catches it.
        let mut chars: Vec<char> = text.chars().collect();
        let i = 10;
        chars[i] = if chars[i] == 'q' { 'p' } else { 'q' };
        let typo: String = chars.into_iter().collect();
        assert_eq!(decode(&typo), Err(AddressError::BadChecksum));

        let other = bech32::encode::<Bech32m>(Hrp::parse("btc").unwrap(), &alice.0).unwrap();
        assert_eq!(decode(&other), Err(AddressError::WrongPrefix("btc".into())));
        let short = bech32::encode::<Bech32m>(Hrp::parse("ait").unwrap(), &[1u8; 20]).unwrap();
        assert_eq!(decode(&short), Err(AddressError::WrongLength(20)));
        assert!(matches!(decode("hello"), Err(AddressError::Malformed(_))));
        // bech32 (not bech32m) checksum is refused.
        let v0 = bech32::encode::<bech32::Bech32>(Hrp::parse("ait").unwrap(), &alice.0).unwrap();
        assert_eq!(decode(&v0), Err(AddressError::BadChecksum));
    }
}
