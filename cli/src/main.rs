use clap::{Parser, Subcommand};

mod serve;

/// Liveship publisher CLI.
#[derive(Debug, Parser)]
#[command(name = "liveship", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a release repository over HTTP(S) for development (read-only).
    Serve(serve::ServeArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve(args) => serve::run(args)?,
    }
    Ok(())
}
