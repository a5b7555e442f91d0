//! The batch-verification forgery of issue 13, for tests (feature `testing`).
//!
//! With transcript-derived ("deterministic") batch weights, schnorrkel's batch equation
//! `sum z_i (s_i B - R_i - k_i A_i) = 0` uses weights `z_i` that depend on the keys, the `R`
//! values and the messages, never on the `s` values. Given two valid signatures, shifting
//! `s1 += z2 d` and `s2 -= z1 d` leaves `sum z_i s_i` unchanged: the pair still passes that
//! exact batch while each signature alone is invalid. [`shifted_pair`] computes those weights
//! as `schnorrkel::verify_batch_deterministic` does and returns the shifted pair, so tests can
//! show that no path of the node accepts it.

use crate::crypto::{NoRandomness, Signature, SignatureCheck};
use curve25519_dalek::scalar::Scalar;
use schnorrkel::context::SigningTranscript;

/// The weights `verify_batch_deterministic` gives the batch `checks` (in order).
fn deterministic_weights(checks: &[SignatureCheck<'_>]) -> Vec<Scalar> {
    let mut zs_t = merlin::Transcript::new(b"V-RNG");
    for c in checks {
        zs_t.append_message(b"", &c.signer.0);
    }
    for c in checks {
        zs_t.append_message(b"", &c.signature.0[..32]);
    }
    for c in checks {
        let t = schnorrkel::signing_context(c.context.label()).bytes(c.message);
        let mut d = [0u8; 16];
        t.witness_bytes_rng(b"", &mut d, &[&[]], NoRandomness);
        zs_t.append_message(b"", &d);
    }
    let mut rng = zs_t.build_rng().finalize(&mut NoRandomness);
    checks
        .iter()
        .map(|_| {
            let mut r = [0u8; 16];
            rand_core::RngCore::fill_bytes(&mut rng, &mut r);
            Scalar::from(u128::from_le_bytes(r))
        })
        .collect()
}

fn s_of(sig: &Signature) -> Scalar {
    let mut s = [0u8; 32];
    s.copy_from_slice(&sig.0[32..]);
    s[31] &= 127;
    Option::from(Scalar::from_canonical_bytes(s)).unwrap_or(Scalar::ZERO)
}

fn with_s(sig: &Signature, s: Scalar) -> Signature {
    let mut out = sig.0;
    out[32..].copy_from_slice(s.as_bytes());
    out[63] |= 128;
    Signature(out)
}

/// Two signatures, each invalid, that pass a deterministic batch of exactly `[a, b]` (with the
/// returned signatures in place of `a`'s and `b`'s). `a` and `b` must hold valid signatures.
pub fn shifted_pair(a: &SignatureCheck<'_>, b: &SignatureCheck<'_>) -> (Signature, Signature) {
    // The weights do not depend on `s`, so they are the same for the shifted pair.
    let z = deterministic_weights(&[a.clone(), b.clone()]);
    let delta = Scalar::from(0x5eed_u64);
    let s1 = s_of(&a.signature) + z[1] * delta;
    let s2 = s_of(&b.signature) - z[0] * delta;
    (with_s(&a.signature, s1), with_s(&b.signature, s2))
}
