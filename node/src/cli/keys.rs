//! `key generate` and `key inspect`.

use aitbc_primitives::Pair;
use serde_json::json;

fn describe(pair: &Pair, uri: Option<&str>, as_json: bool) -> String {
    let public = pair.public();
    let seed = format!("0x{}", hex::encode(pair.seed()));
    if as_json {
        json!({ "secret_uri": uri.map_or(seed.clone(), str::to_string), "secret_seed": seed,
                "public_key": format!("0x{}", hex::encode(public.0)), "address": public.to_string() })
        .to_string()
    } else {
        format!(
            "Secret URI:  {}\nSecret seed: {seed}\nPublic key:  0x{}\nAddress:     {public}",
            uri.unwrap_or(&seed),
            hex::encode(public.0)
        )
    }
}

pub fn generate(as_json: bool) -> String {
    describe(&Pair::generate(), None, as_json)
}

pub fn inspect(uri: &str, as_json: bool) -> anyhow::Result<String> {
    let pair = Pair::from_uri(uri).map_err(|e| anyhow::anyhow!("invalid secret URI: {e}"))?;
    Ok(describe(&pair, Some(uri), as_json))
}
