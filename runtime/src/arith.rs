//! Integer helpers for parts-per-million shares (no floats, no overflow).

use aitbc_primitives::Balance;

/// One million parts per million: 100%.
pub const PPM: u32 = 1_000_000;

/// `floor(amount * ppm / 1_000_000)` without overflow, for `ppm <= 1_000_000` (larger values are
/// clamped to 100%).
pub fn ppm_of(amount: Balance, ppm: u32) -> Balance {
    let ppm = Balance::from(ppm.min(PPM));
    let million = Balance::from(PPM);
    // amount = q * 1e6 + r, so amount * ppm / 1e6 = q * ppm + r * ppm / 1e6 (exactly, floored).
    let (q, r) = (amount / million, amount % million);
    q.saturating_mul(ppm)
        .saturating_add(r.saturating_mul(ppm) / million)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn edges() {
        assert_eq!(ppm_of(100, 200_000), 20);
        assert_eq!(ppm_of(99, 500_000), 49);
        assert_eq!(ppm_of(Balance::MAX, PPM), Balance::MAX);
        assert_eq!(ppm_of(Balance::MAX, 0), 0);
        assert_eq!(ppm_of(7, 2_000_000), 7);
    }

    proptest! {
        #[test]
        fn matches_wide_arithmetic(a in 0u128..(1u128 << 100), p in 0u32..=PPM) {
            prop_assert_eq!(ppm_of(a, p), a * Balance::from(p) / 1_000_000);
        }
    }
}
