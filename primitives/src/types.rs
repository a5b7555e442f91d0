//! Plain numeric types and serde helpers shared by every crate.

/// An amount of AIT in base units. JSON carries it as a decimal string (u128 does not fit a JSON
/// number); see [`serde_balance`].
pub type Balance = u128;
/// A transaction counter per account: the number of transactions it has had included.
pub type Nonce = u64;
/// Height of a block; genesis is 0.
pub type BlockNumber = u64;
/// `unix_ms / slot_duration_ms`.
pub type Slot = u64;
/// A client-chosen job identifier.
pub type JobId = u64;

/// Serde for [`Balance`]: written as a decimal string, read from a string or a number.
pub mod serde_balance {
    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            N(u64),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(n as u128),
            Raw::S(s) => s.parse::<u128>().map_err(|_| {
                de::Error::custom(format!("invalid amount {s:?}: expected a decimal u128"))
            }),
        }
    }
}

/// Serde for `u64` that also accepts a decimal string (scripts often quote numbers).
pub mod serde_u64_lenient {
    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(*v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            N(u64),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(n),
            Raw::S(s) => s.parse::<u64>().map_err(|_| {
                de::Error::custom(format!("invalid number {s:?}: expected a decimal u64"))
            }),
        }
    }
}
