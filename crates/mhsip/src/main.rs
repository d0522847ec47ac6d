//! `mhsip`: the one binary of the mental health safety improvement platform.

mod bench;
mod csvscan;
mod spc_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "mhsip", version, about = "MHSIP: mental health safety improvement platform", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// SPC charts (Making Data Count) from a CSV file of series,period,value[,denominator].
    Spc(spc_cmd::SpcArgs),
    /// Reproducible benchmarks.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Spc(args) => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            spc_cmd::run(args, &mut out, &mut std::io::stderr())
        }
        Command::Bench(args) => bench::run(args).map(|_| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
