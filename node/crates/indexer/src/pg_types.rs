//! Our values in PostgreSQL's binary wire forms, for `COPY … (FORMAT binary)` and parameters:
//!
//! - [`Numeric`]: AIT amounts (u128) as `numeric` (tokio-postgres has no numeric type of its
//!   own, and a u128 fits no integer column). The form: digit count (i16), weight of the first
//!   digit (i16), sign (u16, 0 = positive), display scale (u16, 0 for integers), then the
//!   base-10000 digits from the most significant, trailing zero digits left out (as PostgreSQL
//!   itself sends them).
//! - [`Json`]: JSON text as the node wrote it, as `jsonb` (version byte 1, then the text): no
//!   parse and re-serialization on the way.

use bytes::{BufMut, BytesMut};
use std::error::Error;
use tokio_postgres::types::{accepts, to_sql_checked, IsNull, ToSql, Type};

/// A non-negative integer up to u128, sent as `numeric`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numeric(pub u128);

impl Numeric {
    /// Base-10000 digits, most significant first, and the first digit's weight.
    fn digits(self) -> (Vec<i16>, i16) {
        let mut v = self.0;
        let mut digits = Vec::new();
        while v > 0 {
            digits.push((v % 10_000) as i16);
            v /= 10_000;
        }
        let weight = digits.len() as i16 - 1;
        digits.reverse();
        while digits.last() == Some(&0) {
            digits.pop();
        }
        (digits, weight.max(0))
    }
}

impl ToSql for Numeric {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        let (digits, weight) = self.digits();
        out.put_i16(digits.len() as i16);
        out.put_i16(weight);
        out.put_u16(0);
        out.put_u16(0);
        for d in digits {
            out.put_i16(d);
        }
        Ok(IsNull::No)
    }

    accepts!(NUMERIC);
    to_sql_checked!();
}

/// JSON text, sent as `jsonb`.
#[derive(Debug, Clone)]
pub struct Json(pub Box<serde_json::value::RawValue>);

impl ToSql for Json {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        if *ty == Type::JSONB {
            out.put_u8(1);
        }
        out.put_slice(self.0.get().as_bytes());
        Ok(IsNull::No)
    }

    accepts!(JSON, JSONB);
    to_sql_checked!();
}

/// An amount as the RPC writes it (a decimal string, or a JSON number).
pub fn parse_amount(v: &serde_json::Value) -> Option<Numeric> {
    match v {
        serde_json::Value::String(s) => s.parse().ok().map(Numeric),
        serde_json::Value::Number(n) => n.as_u64().map(|n| Numeric(n.into())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_base_10000_without_trailing_zeros() {
        assert_eq!(Numeric(0).digits(), (vec![], 0));
        assert_eq!(Numeric(7).digits(), (vec![7], 0));
        assert_eq!(Numeric(10_000).digits(), (vec![1], 1));
        assert_eq!(Numeric(123_456_789).digits(), (vec![1, 2345, 6789], 2));
        let (d, w) = Numeric(u128::MAX).digits();
        assert_eq!(w, 9);
        assert_eq!(d.first(), Some(&340));
    }

    #[test]
    fn amounts_parse_from_strings_and_numbers() {
        assert_eq!(
            parse_amount(&serde_json::json!(
                "340282366920938463463374607431768211455"
            )),
            Some(Numeric(u128::MAX))
        );
        assert_eq!(parse_amount(&serde_json::json!(5)), Some(Numeric(5)));
        assert_eq!(parse_amount(&serde_json::json!("-1")), None);
        assert_eq!(parse_amount(&serde_json::json!(null)), None);
    }
}
