//! `build-spec` and `purge-chain`.

use super::args::{BuildSpecArgs, PurgeArgs};
use crate::service::chain_dir;
use aitbc_chain_spec::ChainSpec;
use std::io::{BufRead, Write};

pub fn build_spec(args: &BuildSpecArgs) -> anyhow::Result<String> {
    let spec = ChainSpec::load(&args.chain)?;
    Ok(spec.to_json(args.raw)?)
}

/// Deletes the chain database of `--chain` under `--base-path`, after confirmation unless `-y`.
/// The authoring record (slashing protection) and the admin token stay.
pub fn purge_chain(args: &PurgeArgs) -> anyhow::Result<()> {
    let spec = ChainSpec::load(&args.chain)?;
    let db = chain_dir(&args.base_path, &spec.id).join(crate::service::CHAIN_DB_FILE);
    if !db.exists() {
        println!("{} does not exist; nothing to purge", db.display());
        return Ok(());
    }
    if !args.yes {
        print!("Delete the chain database {}? [y/N]: ", db.display());
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("Aborted");
            return Ok(());
        }
    }
    std::fs::remove_file(&db)
        .map_err(|e| anyhow::anyhow!("cannot delete {}: {e}", db.display()))?;
    println!("{} removed", db.display());
    Ok(())
}
