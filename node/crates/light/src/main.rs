//! `aitbc-light`: the light client's command line (see `aitbc_light::cli`).

use aitbc_light::cli::{run, Cli};
use clap::Parser;

fn main() {
    let cli = Cli::parse();
    let answer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(run(cli)));
    match answer {
        Ok(out) => println!("{out}"),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1)
        }
    }
}
