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

/// Reads a number given as a JSON number or a decimal string.
fn deserialize_lenient<'de, D, T>(d: D, what: &str) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr + From<u64>,
{
    use serde::{de, Deserialize};
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        S(String),
        N(u64),
    }
    match Raw::deserialize(d)? {
        Raw::N(n) => Ok(T::from(n)),
        Raw::S(s) => s.parse::<T>().map_err(|_| {
            de::Error::custom(format!("invalid {what} {s:?}: expected a decimal number"))
        }),
    }
}

/// Serde for [`Balance`]: written as a decimal string, read from a string or a number.
pub mod serde_balance {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        super::deserialize_lenient(d, "amount")
    }
}

/// Serde for `u64` that also accepts a decimal string (scripts often quote numbers).
pub mod serde_u64_lenient {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(*v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        super::deserialize_lenient(d, "number")
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct T {
        #[serde(with = "super::serde_balance")]
        amount: u128,
        #[serde(with = "super::serde_u64_lenient")]
        n: u64,
    }

    #[test]
    fn numbers_from_strings_or_numbers() {
        let t: T =
            serde_json::from_str(r#"{"amount":"340282366920938463463374607431768211455","n":"7"}"#)
                .unwrap();
        assert_eq!((t.amount, t.n), (u128::MAX, 7));
        let t: T = serde_json::from_str(r#"{"amount":5,"n":8}"#).unwrap();
        assert_eq!((t.amount, t.n), (5, 8));
        let err = serde_json::from_str::<T>(r#"{"amount":"-1","n":1}"#)
            .err()
            .unwrap();
        assert!(err.to_string().contains("invalid amount"));
    }
}
