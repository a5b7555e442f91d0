//! sr25519 keys and signatures (schnorrkel), with one signing context per purpose.
//!
//! ## Secret URIs
//! A secret URI names a key pair: an optional 32-byte seed followed by hard derivation junctions.
//! - `0x<64 hex>`: the 32-byte mini secret key itself (`key generate` prints one);
//! - `//name` (one or more, e.g. `//alice`, `//alice//stash`): hard-derived from the base seed;
//!   without an explicit seed the base is the public *dev seed* `blake2b-256("aitbc dev seed")`,
//!   so `//alice` is the same key on every machine. Dev keys must never hold real value.
//!
//! Each junction `//j` derives `seed' = seed.hard_derive_mini_secret_key(cc, j)` with
//! schnorrkel's hard derivation, where the chain code `cc` is `blake2b-256("aitbc junction" || j)`.
//! The key pair is the mini secret expanded in Ed25519 mode (as Substrate does).

use crate::hashing::blake2_256;
use codec::{Decode, Encode};
use schnorrkel::derive::ChainCode;
use schnorrkel::{ExpansionMode, Keypair, MiniSecretKey, PublicKey};
use std::collections::BTreeMap;
use std::fmt;

/// The purpose a signature is made for; each has its own schnorrkel signing context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningContext {
    /// A transaction (extrinsic) signature.
    Transaction,
    /// An authority's seal on a block header.
    Block,
    /// A finality vote.
    Vote,
    /// A miner's signature over a compute receipt.
    ReceiptMiner,
    /// A coordinator's attestation of a compute receipt.
    ReceiptAttest,
}

impl SigningContext {
    pub fn label(self) -> &'static [u8] {
        match self {
            SigningContext::Transaction => b"aitbc-tx",
            SigningContext::Block => b"aitbc-block",
            SigningContext::Vote => b"aitbc-vote",
            SigningContext::ReceiptMiner => b"aitbc-receipt-miner",
            SigningContext::ReceiptAttest => b"aitbc-receipt-attest",
        }
    }
}

/// An account or authority: a 32-byte sr25519 public key. Text form: an `ait1…` address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub struct AccountId(pub [u8; 32]);

impl AccountId {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether this is the all-zero key: the encoding of the group identity, for which a fixed
    /// signature verifies against every message. Nobody holds its secret, and no signature by it
    /// is ever accepted (so AIT sent to it is burnt, not up for grabs).
    pub fn is_identity(&self) -> bool {
        self.0 == [0u8; 32]
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::address::encode(self))
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = crate::address::encode(self);
        write!(f, "{}…{}", &a[..8], &a[a.len() - 4..])
    }
}

impl std::str::FromStr for AccountId {
    type Err = crate::address::AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::address::decode(s)
    }
}

impl serde::Serialize for AccountId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for AccountId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        crate::address::decode(&s).map_err(serde::de::Error::custom)
    }
}

/// A 64-byte sr25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct Signature(pub [u8; 64]);

impl Signature {
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }

    /// Parses `0x` + 128 hex digits.
    pub fn from_hex(s: &str) -> Option<Signature> {
        let digits = s.strip_prefix("0x").unwrap_or(s);
        let mut out = [0u8; 64];
        hex::decode_to_slice(digits, &mut out).ok()?;
        Some(Signature(out))
    }

    /// Verifies this signature by `signer` over `message` in `context`.
    pub fn verify(&self, context: SigningContext, message: &[u8], signer: &AccountId) -> bool {
        if signer.is_identity() {
            return false;
        }
        let Some(public) = public_key(signer) else {
            return false;
        };
        let Ok(sig) = schnorrkel::Signature::from_bytes(&self.0) else {
            return false;
        };
        public
            .verify(
                schnorrkel::signing_context(context.label()).bytes(message),
                &sig,
            )
            .is_ok()
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature(0x{}…)", hex::encode(&self.0[..6]))
    }
}

/// Decompressed public keys of recent signers: decompressing a key costs about 4.4 µs, an
/// eighth of a signature check, and busy accounts sign again and again. At most
/// [`KEY_CACHE_SIZE`] keys; a full cache starts over.
static KEY_CACHE: std::sync::OnceLock<std::sync::Mutex<BTreeMap<[u8; 32], PublicKey>>> =
    std::sync::OnceLock::new();

/// Most decompressed keys kept (about 200 bytes each).
pub const KEY_CACHE_SIZE: usize = 65_536;

/// `signer`'s decompressed public key, from the cache when it is there.
fn public_key(signer: &AccountId) -> Option<PublicKey> {
    let cache = KEY_CACHE.get_or_init(Default::default);
    let lock = || {
        cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    if let Some(key) = lock().get(&signer.0) {
        return Some(*key);
    }
    let key = PublicKey::from_bytes(&signer.0).ok()?;
    let mut cache = lock();
    if cache.len() >= KEY_CACHE_SIZE {
        cache.clear();
    }
    cache.insert(signer.0, key);
    Some(key)
}

/// One signature to check in a batch.
#[derive(Debug, Clone)]
pub struct SignatureCheck<'a> {
    pub context: SigningContext,
    pub message: &'a [u8],
    pub signer: AccountId,
    pub signature: Signature,
}

/// Verifies many signatures at once (about twice as fast per signature as one by one). Returns
/// `true` only if every signature is valid; on `false` the caller checks them one by one to find
/// the bad ones.
///
/// Consensus-critical: the verdict must be the same as checking each signature alone, whatever
/// the batch. The batch equation `sum z_i (s_i B - R_i - k_i A_i) = 0` is weighted by 128-bit
/// scalars `z_i` drawn from the OS RNG (`schnorrkel::verify_batch`). Weights derived from the
/// transcripts alone (`verify_batch_deterministic`) never see the `s` values, so anyone holding
/// two valid signatures could shift them (`s1 += z2 d`, `s2 -= z1 d`) into a pair that is each
/// invalid but passes in exactly that batch, and nodes batching differently (pool, import,
/// sync) would disagree on one block. With secret random weights such a pair passes with
/// probability 2^-128, so the verdict is a function of the signatures alone: deterministic in
/// everything but that negligible chance, which is what the runtime's determinism needs.
pub fn verify_batch(checks: &[SignatureCheck<'_>]) -> bool {
    if checks.is_empty() {
        return true;
    }
    let mut publics = Vec::with_capacity(checks.len());
    let mut sigs = Vec::with_capacity(checks.len());
    for c in checks {
        if c.signer.is_identity() {
            return false;
        }
        let (Some(p), Ok(s)) = (
            public_key(&c.signer),
            schnorrkel::Signature::from_bytes(&c.signature.0),
        ) else {
            return false;
        };
        publics.push(p);
        sigs.push(s);
    }
    let transcripts = checks
        .iter()
        .map(|c| schnorrkel::signing_context(c.context.label()).bytes(c.message));
    schnorrkel::verify_batch(transcripts, &sigs, &publics, false).is_ok()
}

/// The index of the first invalid signature of `checks`, `None` when all are valid: one batch
/// check, and one by one only when the batch fails. A batch that fails while every signature
/// passes alone cannot happen with a correct verifier; it names the first (refuse rather than
/// accept).
pub fn first_invalid(checks: &[SignatureCheck<'_>]) -> Option<usize> {
    if verify_batch(checks) {
        return None;
    }
    Some(
        checks
            .iter()
            .position(|c| !c.signature.verify(c.context, c.message, &c.signer))
            .unwrap_or(0),
    )
}

/// Why a secret URI was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretUriError {
    #[error("secret URI is empty")]
    Empty,
    #[error("secret seed must be 0x followed by 64 hex digits")]
    BadSeed,
    #[error("expected `//junction` after the seed, found {0:?}")]
    BadJunction(String),
}

/// An sr25519 key pair.
#[derive(Clone)]
pub struct Pair {
    keypair: Keypair,
    seed: [u8; 32],
}

impl fmt::Debug for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pair({})", self.public())
    }
}

const DEV_SEED_LABEL: &[u8] = b"aitbc dev seed";

impl Pair {
    /// The key pair of a 32-byte mini secret seed.
    pub fn from_seed(seed: [u8; 32]) -> Pair {
        let mini =
            MiniSecretKey::from_bytes(&seed).expect("any 32 bytes are a mini secret key; qed");
        Pair {
            keypair: mini.expand_to_keypair(ExpansionMode::Ed25519),
            seed,
        }
    }

    /// A fresh random key pair (from the OS RNG).
    pub fn generate() -> Pair {
        Pair::from_seed(MiniSecretKey::generate().to_bytes())
    }

    /// Parses a secret URI (see the module docs).
    pub fn from_uri(uri: &str) -> Result<Pair, SecretUriError> {
        let uri = uri.trim();
        if uri.is_empty() {
            return Err(SecretUriError::Empty);
        }
        let (seed, mut rest) = match uri.find("//") {
            Some(0) => (blake2_256(DEV_SEED_LABEL), uri),
            Some(i) => (parse_seed(&uri[..i])?, &uri[i..]),
            None => (parse_seed(uri)?, ""),
        };
        let mut mini = MiniSecretKey::from_bytes(&seed).expect("32 bytes; qed");
        while !rest.is_empty() {
            let Some(after) = rest.strip_prefix("//") else {
                return Err(SecretUriError::BadJunction(rest.to_string()));
            };
            let end = after.find("//").unwrap_or(after.len());
            let junction = &after[..end];
            if junction.is_empty() || junction.contains('/') {
                return Err(SecretUriError::BadJunction(rest.to_string()));
            }
            let mut cc_input = b"aitbc junction".to_vec();
            cc_input.extend_from_slice(junction.as_bytes());
            let cc = ChainCode(blake2_256(&cc_input));
            mini = mini
                .hard_derive_mini_secret_key(Some(cc), junction.as_bytes(), ExpansionMode::Ed25519)
                .0;
            rest = &after[end..];
        }
        Ok(Pair::from_seed(mini.to_bytes()))
    }

    /// The public key, i.e. the account id.
    pub fn public(&self) -> AccountId {
        AccountId(self.keypair.public.to_bytes())
    }

    /// The 32-byte mini secret seed (`0x…` of it is a valid secret URI).
    pub fn seed(&self) -> [u8; 32] {
        self.seed
    }

    /// Signs `message` in `context`. Deterministic: the nonce comes from the key's secret nonce
    /// seed and the signed transcript only ([`NoRandomness`]), as in Ed25519, so one key signs
    /// one message alike every time: a block's extrinsics root, and so its hash, depends on
    /// what its transactions say, never on an RNG (a seeded simulation replays exactly).
    pub fn sign(&self, context: SigningContext, message: &[u8]) -> Signature {
        let transcript = schnorrkel::signing_context(context.label()).bytes(message);
        Signature(
            self.keypair
                .sign(schnorrkel::context::attach_rng(transcript, NoRandomness))
                .to_bytes(),
        )
    }
}

/// The "RNG" signing hands schnorrkel: zeros. schnorrkel hedges a nonce by mixing RNG output
/// into a witness already keyed by the secret nonce seed and the whole transcript; with zeros
/// it is that keyed witness alone, unique per key and message and unpredictable without the
/// secret (the Ed25519 construction). (Also what `verify_batch_deterministic` feeds its weight
/// generator, which `batch_forgery` reproduces.)
pub(crate) struct NoRandomness;

impl rand_core::RngCore for NoRandomness {
    fn next_u32(&mut self) -> u32 {
        0
    }

    fn next_u64(&mut self) -> u64 {
        0
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(0);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        dest.fill(0);
        Ok(())
    }
}

impl rand_core::CryptoRng for NoRandomness {}

fn parse_seed(s: &str) -> Result<[u8; 32], SecretUriError> {
    let digits = s.strip_prefix("0x").ok_or(SecretUriError::BadSeed)?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(digits, &mut out).map_err(|_| SecretUriError::BadSeed)?;
    Ok(out)
}

/// The dev account of a name: `Pair::from_uri("//name")`. For tests, specs and tools.
pub fn dev_pair(name: &str) -> Pair {
    Pair::from_uri(&format!("//{name}")).expect("a plain name is a valid junction; qed")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signatures are deterministic per key, context and message, and still verify only for
    /// what was signed.
    #[test]
    fn one_key_signs_one_message_alike_every_time() {
        let alice = dev_pair("alice");
        let a = alice.sign(SigningContext::Transaction, b"pay bob 5");
        assert_eq!(a, alice.sign(SigningContext::Transaction, b"pay bob 5"));
        assert!(a.verify(SigningContext::Transaction, b"pay bob 5", &alice.public()));
        assert_ne!(a, alice.sign(SigningContext::Transaction, b"pay bob 6"));
        assert_ne!(a, alice.sign(SigningContext::Block, b"pay bob 5"));
        assert_ne!(
            a,
            dev_pair("bob").sign(SigningContext::Transaction, b"pay bob 5")
        );
        assert!(!a.verify(SigningContext::Transaction, b"pay bob 6", &alice.public()));
    }

    #[test]
    fn uri_forms() {
        let alice = Pair::from_uri("//alice").unwrap();
        assert_eq!(alice.public(), dev_pair("alice").public());
        assert_ne!(alice.public(), dev_pair("bob").public());
        let stash = Pair::from_uri("//alice//stash").unwrap();
        assert_ne!(stash.public(), alice.public());
        let seed = format!("0x{}", hex::encode(alice.seed()));
        assert_eq!(Pair::from_uri(&seed).unwrap().public(), alice.public());
        assert_ne!(
            Pair::from_uri(&format!("{seed}//x")).unwrap().public(),
            alice.public()
        );
        assert_eq!(Pair::from_uri("").unwrap_err(), SecretUriError::Empty);
        assert_eq!(
            Pair::from_uri("alice").unwrap_err(),
            SecretUriError::BadSeed
        );
        assert!(matches!(
            Pair::from_uri("//alice/x"),
            Err(SecretUriError::BadJunction(_))
        ));
        assert!(matches!(
            Pair::from_uri("////"),
            Err(SecretUriError::BadJunction(_))
        ));
    }

    #[test]
    fn contexts_separate_signatures() {
        let p = dev_pair("alice");
        let sig = p.sign(SigningContext::Transaction, b"m");
        assert!(sig.verify(SigningContext::Transaction, b"m", &p.public()));
        assert!(!sig.verify(SigningContext::Block, b"m", &p.public()));
        assert!(!sig.verify(SigningContext::Transaction, b"n", &p.public()));
        assert!(!sig.verify(SigningContext::Transaction, b"m", &dev_pair("bob").public()));
    }

    #[test]
    fn the_identity_key_never_verifies() {
        // R = identity, s = 0: valid for the identity key under plain Schnorr verification.
        let mut forged = [0u8; 64];
        forged[63] = 0x80;
        let zero = AccountId([0; 32]);
        assert!(!Signature(forged).verify(SigningContext::Transaction, b"anything", &zero));
        let check = SignatureCheck {
            context: SigningContext::Transaction,
            message: b"m",
            signer: zero,
            signature: Signature(forged),
        };
        assert!(!verify_batch(&[check]));
    }

    #[test]
    fn batch_verification() {
        let pairs: Vec<Pair> = (0..8).map(|i| dev_pair(&format!("u{i}"))).collect();
        let msgs: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 10]).collect();
        let mut checks: Vec<SignatureCheck<'_>> = pairs
            .iter()
            .zip(&msgs)
            .map(|(p, m)| SignatureCheck {
                context: SigningContext::Vote,
                message: m,
                signer: p.public(),
                signature: p.sign(SigningContext::Vote, m),
            })
            .collect();
        assert!(verify_batch(&checks));
        checks[3].message = &msgs[4];
        assert!(!verify_batch(&checks));
    }

    /// Valid vote signatures by `n` distinct keys over distinct messages.
    fn signed(n: usize) -> (Vec<Pair>, Vec<Vec<u8>>, Vec<Signature>) {
        let pairs: Vec<Pair> = (0..n).map(|i| dev_pair(&format!("u{i}"))).collect();
        let msgs: Vec<Vec<u8>> = (0..n).map(|i| vec![i as u8; 10]).collect();
        let sigs = pairs
            .iter()
            .zip(&msgs)
            .map(|(p, m)| p.sign(SigningContext::Vote, m))
            .collect();
        (pairs, msgs, sigs)
    }

    fn checks<'a>(
        pairs: &[Pair],
        msgs: &'a [Vec<u8>],
        sigs: &[Signature],
    ) -> Vec<SignatureCheck<'a>> {
        pairs
            .iter()
            .zip(msgs)
            .zip(sigs)
            .map(|((p, m), s)| SignatureCheck {
                context: SigningContext::Vote,
                message: m,
                signer: p.public(),
                signature: *s,
            })
            .collect()
    }

    fn one_by_one(checks: &[SignatureCheck<'_>]) -> bool {
        checks
            .iter()
            .all(|c| c.signature.verify(c.context, c.message, &c.signer))
    }

    #[test]
    fn a_shifted_pair_passes_deterministic_weights_but_not_verify_batch() {
        let (pairs, msgs, mut sigs) = signed(2);
        let valid = checks(&pairs, &msgs, &sigs);
        let (a, b) = crate::batch_forgery::shifted_pair(&valid[0], &valid[1]);
        sigs = vec![a, b];
        let forged = checks(&pairs, &msgs, &sigs);
        assert!(!forged[0].signature.verify(
            forged[0].context,
            forged[0].message,
            &forged[0].signer
        ));
        assert!(!forged[1].signature.verify(
            forged[1].context,
            forged[1].message,
            &forged[1].signer
        ));
        // The forgery is real: transcript-derived weights accept the pair.
        let publics: Vec<PublicKey> = pairs
            .iter()
            .map(|p| public_key(&p.public()).unwrap())
            .collect();
        let schnorr: Vec<schnorrkel::Signature> = sigs
            .iter()
            .map(|s| schnorrkel::Signature::from_bytes(&s.0).unwrap())
            .collect();
        let transcripts = msgs
            .iter()
            .map(|m| schnorrkel::signing_context(SigningContext::Vote.label()).bytes(m));
        assert!(
            schnorrkel::verify_batch_deterministic(transcripts, &schnorr, &publics, false).is_ok()
        );
        // Random weights refuse it, every time.
        for _ in 0..64 {
            assert!(!verify_batch(&forged));
        }
    }

    /// How a generated batch is tampered with.
    #[derive(Debug, Clone)]
    enum Tamper {
        None,
        /// Flip one bit of one signature (R or s half).
        FlipBit {
            index: usize,
            bit: usize,
        },
        /// Swap the signatures of two entries.
        Swap {
            a: usize,
            b: usize,
        },
        /// Shift the `s` values of two entries so deterministic weights would still pass.
        Shift {
            a: usize,
            b: usize,
        },
        /// One entry claims another signer.
        WrongSigner {
            index: usize,
            other: usize,
        },
    }

    fn tamper() -> impl proptest::strategy::Strategy<Value = Tamper> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Tamper::None),
            (0usize..64, 0usize..512).prop_map(|(index, bit)| Tamper::FlipBit { index, bit }),
            (0usize..64, 0usize..64).prop_map(|(a, b)| Tamper::Swap { a, b }),
            (0usize..64, 0usize..64).prop_map(|(a, b)| Tamper::Shift { a, b }),
            (0usize..64, 0usize..64)
                .prop_map(|(index, other)| Tamper::WrongSigner { index, other }),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Consensus-critical: a batch verdict equals the one-by-one verdict, whatever the
        /// batch and whatever was tampered with.
        #[test]
        fn batch_and_one_by_one_agree(n in 1usize..10, tampers in proptest::collection::vec(tamper(), 1..3)) {
            let (pairs, msgs, mut sigs) = signed(n);
            let mut signers: Vec<AccountId> = pairs.iter().map(Pair::public).collect();
            for t in tampers {
                match t {
                    Tamper::None => {}
                    Tamper::FlipBit { index, bit } => sigs[index % n].0[bit / 8] ^= 1 << (bit % 8),
                    Tamper::Swap { a, b } => sigs.swap(a % n, b % n),
                    Tamper::Shift { a, b } if a % n != b % n => {
                        let c = checks(&pairs, &msgs, &sigs);
                        let (x, y) = crate::batch_forgery::shifted_pair(&c[a % n], &c[b % n]);
                        sigs[a % n] = x;
                        sigs[b % n] = y;
                    }
                    Tamper::Shift { .. } => {}
                    Tamper::WrongSigner { index, other } => signers[index % n] = signers[other % n],
                }
            }
            let mut all = checks(&pairs, &msgs, &sigs);
            for (c, s) in all.iter_mut().zip(&signers) {
                c.signer = *s;
            }
            proptest::prop_assert_eq!(verify_batch(&all), one_by_one(&all));
            let first_bad = all
                .iter()
                .position(|c| !c.signature.verify(c.context, c.message, &c.signer));
            proptest::prop_assert_eq!(first_invalid(&all), first_bad);
        }
    }
}
