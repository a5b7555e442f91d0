//! Golden vectors: the SCALE bytes and hashes of wire and storage formats, pinned so that any
//! format change is a visible, reviewed diff. If one of these fails, you changed a format: bump
//! the relevant version and update the vector deliberately.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use aitbc_primitives::block::MAX_AUTHORITIES;
use aitbc_primitives::codec_util::BoundedVec;
use aitbc_primitives::{
    decode_exact, AccountId, ComputeReceipt, Digest, DigestItem, Extrinsic, Hash, Header, Signature,
};
use aitbc_runtime::{balances, Call, Param};
use codec::Encode;

fn header() -> Header {
    let set: BoundedVec<AccountId, MAX_AUTHORITIES> =
        BoundedVec::try_from_vec(vec![AccountId([7; 32])]).unwrap();
    Header {
        parent_hash: Hash([1; 32]),
        number: 42,
        slot: 1_000_000,
        state_root: Hash([2; 32]),
        extrinsics_root: Hash([3; 32]),
        digest: Digest::try_from_vec(vec![DigestItem::AuthoritiesChange(set)]).unwrap(),
    }
}

/// A transfer with a fixed (not a real) signature, so the golden bytes do not depend on the
/// signing code.
fn transfer() -> Extrinsic<Call> {
    Extrinsic {
        signer: AccountId([0x11; 32]),
        nonce: 5,
        tip: 7,
        valid_until: Some(100),
        call: Call::transfer(AccountId([0x22; 32]), 1_000_000),
        signature: Signature([0xab; 64]),
    }
}

fn receipt() -> ComputeReceipt {
    ComputeReceipt {
        job_id: 9,
        client: AccountId([0x33; 32]),
        miner: AccountId([0x44; 32]),
        coordinator: AccountId([0x55; 32]),
        compute_units: 1_234,
        price: 5_000,
        output_hash: Hash([0x66; 32]),
    }
}

fn check(name: &str, bytes: &[u8], expected_hex: &str) {
    let got = hex::encode(bytes);
    if got != expected_hex {
        panic!("golden vector {name} changed:\n  got      {got}\n  expected {expected_hex}");
    }
}

#[test]
fn header_encoding_and_hash() {
    let h = header();
    check("header", &h.encode(), HEADER);
    check("header hash", h.hash().as_bytes(), HEADER_HASH);
    assert_eq!(decode_exact::<Header>(&h.encode()).unwrap(), h);
}

#[test]
fn signed_transfer_encoding_and_hash() {
    let xt = transfer();
    check("transfer extrinsic", &xt.encode(), TRANSFER_XT);
    check(
        "transfer extrinsic hash",
        xt.hash().as_bytes(),
        TRANSFER_XT_HASH,
    );
    assert_eq!(decode_exact::<Extrinsic<Call>>(&xt.encode()).unwrap(), xt);
    // What the signature would cover on a chain with genesis hash 0x0909…
    check(
        "transfer signing payload",
        &xt.signing_payload(Hash([9; 32]), 1),
        TRANSFER_PAYLOAD,
    );
}

#[test]
fn receipt_encoding_and_id() {
    let r = receipt();
    check("receipt", &r.encode(), RECEIPT);
    check("receipt id", r.id().as_bytes(), RECEIPT_ID);
}

#[test]
fn other_calls_encoding() {
    check(
        "sudo param set",
        &Call::sudo(Call::set_param(Param::BaseFee(25))).encode(),
        SUDO_PARAM_SET,
    );
    check("refund", &Call::refund(3).encode(), REFUND);
}

#[test]
fn storage_key_of_a_balance() {
    check(
        "balance key",
        &balances::storage::ACCOUNT.key(&AccountId([0x11; 32])),
        BALANCE_KEY,
    );
}

const HEADER: &str = "0101010101010101010101010101010101010101010101010101010101010101a802093d00020202020202020202020202020202020202020202020202020202020202020203030303030303030303030303030303030303030303030303030303030303030400040707070707070707070707070707070707070707070707070707070707070707";
const HEADER_HASH: &str = "46a87d235a93d11f44890a47c35da21298f3d977f12ed0e7de7ca8a191755191";
const TRANSFER_XT: &str = "1111111111111111111111111111111111111111111111111111111111111111141c0164000000000000000000222222222222222222222222222222222222222222222222222222222222222202093d00abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab";
const TRANSFER_XT_HASH: &str = "c760b964368f3e24997cccb0c156656b094db72cd1d090bcedae92ab592d9e21";
const TRANSFER_PAYLOAD: &str = "0000222222222222222222222222222222222222222222222222222222222222222202093d00141c016400000000000000090909090909090909090909090909090909090909090909090909090909090901000000";
const RECEIPT: &str = "0900000000000000333333333333333333333333333333333333333333333333333333333333333344444444444444444444444444444444444444444444444444444444444444445555555555555555555555555555555555555555555555555555555555555555d204000000000000881300000000000000000000000000006666666666666666666666666666666666666666666666666666666666666666";
const RECEIPT_ID: &str = "e1cc539cb176b1506989280f89924462a079f369ebba01dd5e1f3d2fbb706fbb";
const SUDO_PARAM_SET: &str = "030002000319000000000000000000000000000000";
const REFUND: &str = "01020300000000000000";
const BALANCE_KEY: &str = "c2261276cc9d1f8598ea4b6a74b15c2fb99d880ec681799c0cf30e8886371da9d4ffaeeac45aa41825e0bc3f875570af061acbf0b950ad752ff0f9463fe13ad51111111111111111111111111111111111111111111111111111111111111111";
