use super::*;
use crate::api::{AdminAction, AdminApi, AdminError};
use crate::testing::{dev, TestChain};
use crate::Call;
use aitbc_primitives::InvalidTransaction;

#[test]
fn defaults_are_valid_and_names_round_trip() {
    let p = Params::default();
    p.validate().unwrap();
    let pairs = p.to_pairs();
    assert_eq!(pairs.len(), PARAM_NAMES.len());
    for (param, (name, value)) in p.to_params().iter().zip(&pairs) {
        assert_eq!(&Param::parse(name, value).unwrap(), param);
    }
    // The names are the serde (snake_case) names of the fields.
    let json = serde_json::to_value(&p).unwrap();
    for name in PARAM_NAMES {
        assert!(json.get(name).is_some(), "{name}");
    }
    assert_eq!(pairs[0], ("mint_per_unit".to_string(), "1000".to_string()));
}

#[test]
fn parse_errors() {
    assert_eq!(
        Param::parse("nope", "1"),
        Err(ParamParseError::UnknownParam("nope".into()))
    );
    assert!(matches!(
        Param::parse("base_fee", "-1"),
        Err(ParamParseError::BadValue { .. })
    ));
    assert!(matches!(
        Param::parse("base_fee", "1.5"),
        Err(ParamParseError::BadValue { .. })
    ));
    assert!(matches!(
        Param::parse("max_block_txs", "5000000000"),
        Err(ParamParseError::BadValue { .. })
    ));
    assert_eq!(Param::parse("base_fee", " 42 "), Ok(Param::BaseFee(42)));
}

#[test]
fn bounds() {
    let p = Params::default();
    assert_eq!(
        p.with(&Param::CoordinatorRatioPpm(1_000_001)),
        Err(ParamsError::RatioAbove100Percent("coordinator_ratio_ppm"))
    );
    assert_eq!(
        p.with(&Param::FeeToAuthorPpm(1_000_001)),
        Err(ParamsError::RatioAbove100Percent("fee_to_author_ppm"))
    );
    assert_eq!(
        p.with(&Param::TreasuryRatioPpm(960_000)),
        Err(ParamsError::RatioSumAbove100Percent)
    );
    assert!(p.with(&Param::TreasuryRatioPpm(950_000)).is_ok());
    assert!(matches!(
        p.with(&Param::EpochLength(0)),
        Err(ParamsError::OutOfRange {
            name: "epoch_length",
            ..
        })
    ));
    assert!(matches!(
        p.with(&Param::BaseFee(MAX_FEE_COMPONENT + 1)),
        Err(ParamsError::OutOfRange { .. })
    ));
    assert_eq!(
        p.with(&Param::MinJobLifetime(200_000)),
        Err(ParamsError::LifetimeBoundsInverted)
    );
    assert_eq!(
        p.with(&Param::MaxTxBytes(5 * 1024 * 1024)),
        Err(ParamsError::TxLargerThanBlock)
    );
    assert!(matches!(
        p.with(&Param::MaxBlockTxs(0)),
        Err(ParamsError::OutOfRange { .. })
    ));
    assert!(matches!(
        p.with(&Param::ExistentialDeposit(0)),
        Err(ParamsError::OutOfRange { .. })
    ));
}

#[test]
fn set_through_sudo_and_out_of_bounds_fails() {
    let mut chain = TestChain::dev(false);
    let alice = dev("alice");
    let out = chain
        .submit(&alice, Call::sudo(Call::set_param(Param::BaseFee(25))))
        .unwrap();
    assert!(out.success, "{out:?}");
    assert_eq!(read(&chain.state).base_fee, 25);
    let out = chain
        .submit(&alice, Call::sudo(Call::set_param(Param::EpochLength(0))))
        .unwrap();
    assert_eq!(out.error.as_deref(), Some("param_out_of_bounds"));
    assert_eq!(read(&chain.state).epoch_length, 600);
    assert_eq!(
        chain.submit(&dev("bob"), Call::set_param(Param::BaseFee(1))),
        Err(InvalidTransaction::BadOrigin)
    );
}

#[test]
fn admin_param_set() {
    let chain = TestChain::dev(false);
    let rt = chain.runtime;
    let ok = rt.admin_call(
        &chain.state,
        AdminAction::ParamSet {
            key: "base_fee".into(),
            value: "7".into(),
        },
    );
    assert_eq!(ok, Ok(Call::sudo(Call::set_param(Param::BaseFee(7)))));
    let unknown = rt.admin_call(
        &chain.state,
        AdminAction::ParamSet {
            key: "x".into(),
            value: "7".into(),
        },
    );
    assert_eq!(unknown, Err(AdminError::UnknownParam("x".into())));
    let bad = rt.admin_call(
        &chain.state,
        AdminAction::ParamSet {
            key: "base_fee".into(),
            value: "x".into(),
        },
    );
    assert!(matches!(bad, Err(AdminError::BadParamValue { .. })));
    let oob = rt.admin_call(
        &chain.state,
        AdminAction::ParamSet {
            key: "epoch_length".into(),
            value: "0".into(),
        },
    );
    assert!(matches!(oob, Err(AdminError::BadParamValue { .. })));
}
