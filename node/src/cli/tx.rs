//! `tx …`: build a call, sign it with the sender's secret URI for the node's chain, submit it
//! (or print the JSON body), and optionally wait until it is included or finalized.

use super::args::{TxCommand, TxCommon, WaitFor};
use aitbc_primitives::extrinsic::TxParams;
use aitbc_primitives::{AccountId, ComputeReceipt, Extrinsic, Hash, Pair, ReceiptClaim, Signature};
use aitbc_rpc::http_client::HttpClient;
use aitbc_rpc::methods::json_tx;
use aitbc_runtime::{staking, Call, Runtime};
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
            let dest = address(&to, "--to")?;
            submit(&from, Call::transfer(dest, amount), &common, "/rpc/sendTx").await
        }
        TxCommand::OpenJob {
            client,
            job,
            price,
            coordinator,
            lifetime,
            common,
        } => {
            let coordinator = match coordinator {
                Some(a) => address(&a, "--coordinator")?,
                None => aitbc_primitives::crypto::dev_pair("coordinator").public(),
            };
            submit(
                &client,
                Call::open_job(job, coordinator, price, lifetime),
                &common,
                "/rpc/sendTx",
            )
            .await
        }
        TxCommand::Refund {
            client,
            job,
            common,
        } => submit(&client, Call::refund(job), &common, "/rpc/sendTx").await,
        TxCommand::Bond {
            from,
            amount,
            common,
        } => stake(&from, staking::Call::Bond { amount }, &common).await,
        TxCommand::Unbond {
            from,
            amount,
            common,
        } => stake(&from, staking::Call::Unbond { amount }, &common).await,
        TxCommand::Withdraw { from, common } => {
            stake(&from, staking::Call::WithdrawUnbonded, &common).await
        }
        TxCommand::Validate { from, common } => {
            stake(&from, staking::Call::Validate, &common).await
        }
        TxCommand::Chill { from, common } => stake(&from, staking::Call::Chill, &common).await,
        TxCommand::Back {
            from,
            validator,
            common,
        } => {
            let validator = address(&validator, "--validator")?;
            stake(&from, staking::Call::Back { validator }, &common).await
        }
        TxCommand::Revoke {
            coordinator,
            receipt,
            common,
        } => {
            let id = Hash::from_hex(&receipt).map_err(|e| anyhow!("invalid --receipt: {e}"))?;
            submit(&coordinator, Call::revoke(id), &common, "/rpc/sendTx").await
        }
        TxCommand::ClaimReceipt {
            miner,
            client,
            job,
            units,
            price,
            coordinator,
            output_hash,
            common,
        } => {
            let miner_pair = pair(&miner)?;
            let client = address(&client, "--client")?;
            let claim = attested_claim(
                &miner_pair,
                client,
                job,
                units,
                price,
                &coordinator,
                output_hash,
                &common.rpc,
            )
            .await?;
            submit(&miner, Call::claim(claim), &common, "/rpc/submitReceipt").await
        }
    }
}

/// Submits a staking call signed by `from`.
async fn stake(from: &str, call: staking::Call, common: &TxCommon) -> anyhow::Result<()> {
    submit(from, Call::staking(call), common, "/rpc/sendTx").await
}

fn address(text: &str, flag: &str) -> anyhow::Result<AccountId> {
    text.parse()
        .map_err(|e| anyhow!("invalid {flag} address: {e}"))
}

/// Builds the receipt of a job from its escrow on chain, has the coordinator attest it, and signs
/// it as the miner.
#[allow(clippy::too_many_arguments)]
async fn attested_claim(
    miner: &Pair,
    client: AccountId,
    job_id: u64,
    units: u64,
    price: Option<u128>,
    coordinator_url: &str,
    output_hash: Option<String>,
    rpc: &str,
) -> anyhow::Result<ReceiptClaim> {
    let mut node = HttpClient::new(rpc)?;
    let genesis = genesis_hash(&mut node).await?;
    let job = node
        .get_ok(&format!("/rpc/getJob/{client}/{job_id}"))
        .await?;
    let coordinator = job["coordinator"]
        .as_str()
        .ok_or_else(|| anyhow!("getJob has no coordinator"))?;
    let escrow: u128 = job["price"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| anyhow!("getJob has no price"))?;
    let output_hash = match output_hash {
        Some(h) => Hash::from_hex(&h).map_err(|e| anyhow!("invalid --output-hash: {e}"))?,
        None => Hash::of(&(b"aitbc job output", client, job_id, miner.public()).encode()),
    };
    let receipt = ComputeReceipt {
        job_id,
        client,
        miner: miner.public(),
        coordinator: address(coordinator, "escrow coordinator")?,
        compute_units: units,
        price: price.unwrap_or(escrow),
        output_hash,
    };
    let mut coord = HttpClient::new(coordinator_url)?;
    let answer = coord
        .post_ok("/attest/receipt", &serde_json::to_value(&receipt)?)
        .await
        .context("asking the coordinator to attest")?;
    let attestation = answer["attestation"]
        .as_str()
        .and_then(Signature::from_hex)
        .ok_or_else(|| anyhow!("the coordinator did not attest the receipt: {answer}"))?;
    Ok(ReceiptClaim {
        miner_sig: receipt.sign_as_miner(miner, &genesis),
        attestation,
        receipt,
    })
}

async fn genesis_hash(http: &mut HttpClient) -> anyhow::Result<Hash> {
    let health = http.get_ok("/health").await?;
    health
        .get("genesis_hash")
        .and_then(Value::as_str)
        .and_then(|s| Hash::from_hex(s).ok())
        .ok_or_else(|| anyhow!("the node's /health has no genesis_hash"))
}

fn pair(uri: &str) -> anyhow::Result<Pair> {
    Pair::from_uri(uri).map_err(|e| anyhow!("invalid secret URI: {e}"))
}

/// Signs `call` as `signer_uri` and submits it to `route` as `common` says; prints the outcome.
async fn submit(
    signer_uri: &str,
    call: Call,
    common: &TxCommon,
    route: &str,
) -> anyhow::Result<()> {
    let signer = pair(signer_uri)?;
    let mut http = HttpClient::new(&common.rpc)?;
    let genesis = genesis_hash(&mut http).await?;
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
    let sent = http.post_ok(route, &body).await?;
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
    let deadline = Instant::now()
        .checked_add(timeout)
        .ok_or_else(|| anyhow!("--timeout is too large"))?;
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
