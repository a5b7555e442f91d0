//! The `aitbc-node` binary: parses the CLI and dispatches.

use aitbc_node::cli::args::{BenchmarkCommand, KeyCommand};
use aitbc_node::cli::{self, Cli, Command};
use aitbc_node::service;
use clap::Parser;
use std::process::ExitCode;

/// jemalloc (see node/Cargo.toml for why).
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours for a terminal only: a log file or a pipe gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_target(true)
        .try_init();
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => run_node(cli.run),
        Some(Command::Run(args)) => run_node(*args),
        Some(Command::BuildSpec(args)) => {
            println!("{}", cli::spec::build_spec(&args)?);
            Ok(())
        }
        Some(Command::Key(KeyCommand::Generate { json })) => {
            println!("{}", cli::keys::generate(json));
            Ok(())
        }
        Some(Command::Key(KeyCommand::Inspect { uri, json })) => {
            println!("{}", cli::keys::inspect(&uri, json)?);
            Ok(())
        }
        Some(Command::Tx(cmd)) => tokio_runtime()?.block_on(cli::tx::run(cmd)),
        Some(Command::PurgeChain(args)) => cli::spec::purge_chain(&args),
        Some(Command::CheckDb(args)) => {
            println!("{}", cli::check_db::run(&args)?);
            Ok(())
        }
        Some(Command::Benchmark(BenchmarkCommand::Runtime(args))) => cli::benchmark::run(&args),
        Some(Command::ExportBlocks(args)) => print(cli::archive::export_blocks(&args)),
        Some(Command::ImportBlocks(args)) => print(cli::archive::import_blocks(&args)),
        Some(Command::ExportState(args)) => print(cli::archive::export_state(&args)),
        Some(Command::ImportState(args)) => print(cli::archive::import_state(&args)),
        Some(Command::Index(args)) => {
            init_logging(&args.log);
            tokio_runtime()?.block_on(cli::index::run(args, wait_for_signal()))
        }
        Some(Command::MockCoordinator(args)) => {
            init_logging("info");
            tokio_runtime()?.block_on(cli::coordinator::run(args, wait_for_signal()))
        }
    }
}

fn print(answer: anyhow::Result<String>) -> anyhow::Result<()> {
    println!("{}", answer?);
    Ok(())
}

fn tokio_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn run_node(args: cli::args::RunArgs) -> anyhow::Result<()> {
    init_logging(&args.log);
    let (config, _tmp) = cli::run::config_from_args(&args)?;
    tokio_runtime()?.block_on(async move {
        let node = service::start(config).await?;
        // A failed durable write stops the node (storage module docs): redb refuses every
        // later operation until the file is reopened, which a restart does.
        let mut failure = node.client.storage_failure();
        tokio::select! {
            r = wait_for_signal() => r?,
            _ = failure.wait_for(Option::is_some) => {}
        }
        let failed = failure.borrow().clone();
        tracing::info!(target: "aitbc", "shutting down");
        node.stop().await;
        match failed {
            None => Ok(()),
            Some(e) => Err(anyhow::anyhow!(
                "the node stopped because a durable write failed ({e}); free disk space or fix \
                 the disk, then start it again: the database reopens at its last complete write"
            )),
        }
    })
}

async fn wait_for_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}
