//! `tx …`: build a call, sign it with the sender's secret URI for the node's chain, submit it
//! (or print the JSON body), and optionally wait until it is included or finalized.

use super::args::{TxCommand, TxCommon, WaitFor};
use super::http::HttpClient;
use crate::rpc::methods::json_tx;
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{AccountId, Extrinsic, Hash, Pair};
use aitbc_runtime::{balances, Call, Runtime};
use anyhow::{anyhow, bail, Context};
use codec::Encode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub async fn run(cmd: TxCommand) -> anyhow::Result<()> {
    match cmd {
        TxCommand::Transfer {
            from,
            to,
            amount,
            common,
        } => {
            let dest: AccountId = to
                .parse()
                .map_err(|e| anyhow!("invalid --to address: {e}"))?;
            let call = Call::Balances(balances::Call::Transfer { dest, amount });
            submit(&from, call, &common).await
        }
    }
}

fn pair(uri: &str) -> anyhow::Result<Pair> {
    Pair::from_uri(uri).map_err(|e| anyhow!("invalid secret URI: {e}"))
}

/// Signs `call` as `signer_uri` and submits it as `common` says; prints the outcome.
pub async fn submit(signer_uri: &str, call: Call, common: &TxCommon) -> anyhow::Result<()> {
    let signer = pair(signer_uri)?;
    let mut http = HttpClient::new(&common.rpc)?;
    let health = http.get_ok("/health").await?;
    let genesis: Hash = health
        .get("genesis_hash")
        .and_then(Value::as_str)
        .and_then(|s| Hash::from_hex(s).ok())
        .ok_or_else(|| anyhow!("the node's /health has no genesis_hash"))?;
    let nonce = match common.nonce {
        Some(n) => n,
        None => {
            let bal = http
                .get_ok(&format!("/rpc/getBalance/{}", signer.public()))
                .await?;
            bal.get("next_nonce")
                .and_then(Value::as_u64)
                .ok_or_else(|| anyhow!("getBalance has no next_nonce"))?
        }
    };
    let xt = Extrinsic::sign(
        &signer,
        call,
        TxParams {
            nonce,
            tip: common.tip,
            valid_until: None,
        },
        genesis,
    );
    if common.print_json {
        println!("{}", json_tx::<Runtime>(&xt));
        return Ok(());
    }
    let body = json!({ "tx": format!("0x{}", hex::encode(xt.encode())) });
    let sent = http.post_ok("/rpc/sendTx", &body).await?;
    let hash = sent
        .get("txHash")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(wait) = common.wait else {
        println!("{}", json!({ "txHash": hash, "status": "pending" }));
        return Ok(());
    };
    let tx = wait_for(&mut http, &hash, wait, Duration::from_secs(common.timeout)).await?;
    println!("{tx}");
    if tx.get("success") == Some(&Value::Bool(false)) {
        let err = tx.get("error").and_then(Value::as_str).unwrap_or("unknown");
        bail!("transaction {hash} was included but failed: {err}");
    }
    Ok(())
}

/// Polls `getTx` until the status reaches `wait`; a dropped transaction or the timeout is an
/// error.
pub async fn wait_for(
    http: &mut HttpClient,
    hash: &str,
    wait: WaitFor,
    timeout: Duration,
) -> anyhow::Result<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let (status, tx) = http
            .get(&format!("/rpc/getTx/{hash}"))
            .await
            .context("polling getTx")?;
        if status == 200 {
            match (tx.get("status").and_then(Value::as_str), wait) {
                (Some("finalized"), _) | (Some("included"), WaitFor::Included) => return Ok(tx),
                (Some("dropped"), _) => {
                    let why = tx.get("error").and_then(Value::as_str).unwrap_or("unknown");
                    bail!("transaction {hash} was dropped: {why}");
                }
                _ => {}
            }
        }
        if Instant::now() >= deadline {
            bail!(
                "timed out after {}s waiting for transaction {hash}",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
