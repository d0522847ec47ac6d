//! `mhsip`: the one binary of the mental health safety improvement platform.

mod bench_cmd;
mod chart_cmd;
mod completeness_cmd;
mod config;
mod demo_cmd;
mod import_cmd;
mod inequalities_cmd;
mod measures_cmd;
mod serve_cmd;
mod spc_cmd;
mod users_cmd;

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
    /// Build the demo region (by default six trusts, 60 wards, five years; --trusts,
    /// --wards-per-trust and --years size it) into the local database if it is not there,
    /// create demo accounts for every role, and start the web application.
    Demo(demo_cmd::DemoArgs),
    /// Start the web application.
    Serve(serve_cmd::ServeArgs),
    /// Check and import a file (CSV or Excel) of organisations, wards, bed days, patients,
    /// stays, restrictive interventions, incidents, leave, AWOL or survey answers.
    Import(import_cmd::ImportArgs),
    /// Save, list and show column mappings for trusts' own exports.
    Mapping(import_cmd::MappingArgs),
    /// Compute the programme's measures for any level and period.
    Measures(measures_cmd::MeasuresArgs),
    /// One measure for one ward or organisation as an SVG chart, with annotations and rebasing.
    Chart(chart_cmd::ChartArgs),
    /// Add (or list) a dated note of a change tested, shown on charts and optionally rebasing them.
    Annotate(chart_cmd::AnnotateArgs),
    /// A measure by ethnic group, age band, sex and learning disability/autism.
    Inequalities(inequalities_cmd::InequalitiesArgs),
    /// Wards with missing months or likely under-reporting.
    Completeness(completeness_cmd::CompletenessArgs),
    /// SPC charts (Making Data Count) from a CSV file of series,period,value[,denominator].
    Spc(spc_cmd::SpcArgs),
    /// Accounts (a role bound to an organisation) and the audit log.
    Users(users_cmd::UsersArgs),
    /// Reproducible benchmarks.
    Bench(bench_cmd::BenchArgs),
}

// Imports allocate many small values per row; mimalloc makes that about a fifth cheaper than
// the system allocator (measured with `mhsip bench import`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Spc(args) => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            spc_cmd::run(args, &mut out, &mut std::io::stderr())
        }
        Command::Bench(args) => bench_cmd::run(args).map(|_| ExitCode::SUCCESS),
        other => runtime().and_then(|rt| rt.block_on(run_async(other))),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

async fn run_async(command: &Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Demo(args) => {
            let store = demo_cmd::ensure_demo(args).await?;
            let logins = serve_cmd::demo_accounts(&store).await?;
            if !args.no_summary {
                demo_cmd::print_overview(&store, &args.data).await?;
            }
            if args.no_serve {
                store.close().await;
                return Ok(ExitCode::SUCCESS);
            }
            serve_cmd::serve(&args.server, &args.data, store, Some(&logins)).await
        }
        Command::Serve(args) => serve_cmd::run(args).await,
        Command::Import(args) => import_cmd::run_import(args).await,
        Command::Mapping(args) => import_cmd::run_mapping(args).await,
        Command::Measures(args) => measures_cmd::run(args).await,
        Command::Completeness(args) => completeness_cmd::run(args).await,
        Command::Inequalities(args) => inequalities_cmd::run(args).await,
        Command::Chart(args) => chart_cmd::run(args).await,
        Command::Annotate(args) => chart_cmd::annotate(args).await,
        Command::Users(args) => users_cmd::run(args).await,
        Command::Spc(_) | Command::Bench(_) => unreachable!("handled without a runtime"),
    }
}
