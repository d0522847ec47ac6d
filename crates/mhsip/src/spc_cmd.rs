//! `mhsip spc`: SPC charts from a CSV file, for analysts. Reads everything, checks
//! everything, computes everything, and only then writes: bad input prints nothing to stdout.
//! The reading, the analysis and the writing are the `spcfile` crate's; this module parses
//! the options, reads the files and prints.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use spc::{AssuranceComparison, ChartKind, Convention, Direction};
use spcfile::Errors;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Input: CSV with a header series,period,value[,denominator]. Period is an ISO date \
(2024-03-01) or an integer; rows may come in any order; a blank value is a missing period. \
Errors are printed as FILE:LINE:COLUMN: message, and nothing is written to stdout.\n\n\
Examples:\n  mhsip spc data.csv --direction decrease --summary\n  \
mhsip spc rates.csv --chart u --per 1000 --direction decrease --svg charts/\n  \
mhsip spc data.csv --convention ptd --direction increase   # as NHSRplotthedots 0.2.2"
)]
pub struct SpcArgs {
    /// CSV file to read; `-` or nothing reads standard input.
    pub file: Option<PathBuf>,
    /// Kind of chart.
    #[arg(long, default_value = "xmr", value_parser = parse_from_str::<ChartKind>, value_name = "xmr|run|i|c|u|uprime|p|pprime|g|t")]
    pub chart: ChartKind,
    /// Which way is better for every series (overridden per series by --series-settings).
    #[arg(long, default_value = "neutral", value_parser = parse_from_str::<Direction>, value_name = "increase|decrease|neutral")]
    pub direction: Direction,
    /// Target for the assurance icon.
    #[arg(long, allow_negative_numbers = true)]
    pub target: Option<f64>,
    /// Start a new segment (own centre and limits) at each of these periods.
    #[arg(long, value_delimiter = ',', value_name = "DATE[,DATE...]")]
    pub rebase: Vec<String>,
    /// Compute centre and limits from the first N points of each segment.
    #[arg(long, value_name = "N")]
    pub baseline: Option<usize>,
    /// mdc: Making Data Count (default); ptd: NHSRplotthedots 0.2.2, point for point.
    #[arg(long, default_value = "mdc", value_parser = parse_from_str::<Convention>, value_name = "mdc|ptd")]
    pub convention: Convention,
    /// Screen moving ranges (drop those >= 3.267 x mean once). Default: on for --convention ptd
    /// XmR charts, off otherwise. A plain switch: it never takes a value.
    #[arg(long, overrides_with = "no_screen_mr")]
    pub screen_mr: bool,
    /// Do not screen moving ranges (turns off the ptd default). The last of --screen-mr and
    /// --no-screen-mr wins.
    #[arg(long, overrides_with = "screen_mr")]
    pub no_screen_mr: bool,
    /// Points needed for a shift or a trend.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u8).range(6..=7))]
    pub run_length: u8,
    /// Multiply charted ratios (value/denominator), e.g. 1000 for "per 1,000 bed days".
    #[arg(long, value_name = "N")]
    pub per: Option<f64>,
    /// One row per series instead of one per point.
    #[arg(long)]
    pub summary: bool,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Also draw each series as an SVG chart into this folder.
    #[arg(long, value_name = "DIR")]
    pub svg: Option<PathBuf>,
    /// CSV series,direction,target,rebase,baseline with settings per series.
    #[arg(long, value_name = "FILE")]
    pub series_settings: Option<PathBuf>,
    /// How the target is compared with the limits (default: inclusive for mdc, strict for ptd).
    #[arg(long, value_enum)]
    pub assurance: Option<Comparison>,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

fn parse_from_str<T: std::str::FromStr<Err = String>>(s: &str) -> Result<T, String> {
    s.parse()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Comparison {
    Inclusive,
    Strict,
}

/// The library's options from the command line's.
pub fn options(args: &SpcArgs) -> spcfile::Options {
    spcfile::Options {
        chart: args.chart,
        direction: args.direction,
        target: args.target,
        rebase: args.rebase.clone(),
        baseline: args.baseline,
        convention: args.convention,
        screen_mr: screen_mr(args),
        run_length: args.run_length,
        per: args.per,
        assurance: args.assurance.map(|c| match c {
            Comparison::Inclusive => AssuranceComparison::Inclusive,
            Comparison::Strict => AssuranceComparison::Strict,
        }),
        threads: args.threads,
        summary: args.summary,
        format: match args.format {
            Format::Csv => spcfile::Format::Csv,
            Format::Json => spcfile::Format::Json,
        },
    }
}

/// `Some` when the command line chose; `None` leaves the convention's default (on for `ptd`
/// XmR charts, off otherwise). Clap keeps only the last of the two switches.
fn screen_mr(args: &SpcArgs) -> Option<bool> {
    if args.screen_mr {
        Some(true)
    } else if args.no_screen_mr {
        Some(false)
    } else {
        None
    }
}

/// Run the command, writing results to `stdout` and problems to `stderr`.
pub fn run(args: &SpcArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Result<ExitCode> {
    let (label, bytes) = read_input(args.file.as_deref())?;
    match analyse_input(args, &label, &bytes, stderr)? {
        Ok(out) => {
            let opts = options(args);
            if let Some(dir) = &args.svg {
                spcfile::write_svgs(dir, &out)?;
            }
            spcfile::write(&opts, &out, stdout)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            report(&errors, stderr)?;
            Ok(ExitCode::from(1))
        }
    }
}

pub fn report(errors: &Errors, stderr: &mut dyn Write) -> Result<()> {
    for e in &errors.list {
        writeln!(stderr, "{e}")?;
    }
    if errors.more > 0 {
        writeln!(stderr, "... and {} more problems not shown", errors.more)?;
    }
    Ok(())
}

fn read_input(file: Option<&Path>) -> Result<(String, Vec<u8>)> {
    match file {
        None => read_stdin(),
        Some(p) if p == Path::new("-") => read_stdin(),
        Some(p) => {
            let bytes = std::fs::read(p)
                .with_context(|| format!("{}: cannot read the file", p.display()))?;
            Ok((p.display().to_string(), bytes))
        }
    }
}

fn read_stdin() -> Result<(String, Vec<u8>)> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .context("<stdin>: cannot read standard input")?;
    Ok(("<stdin>".into(), bytes))
}

/// Parse the data, then read and parse the settings file (in that order, so that a bad data
/// file is reported before an unreadable settings file), then check and compute, printing
/// warnings as they come. The outer `Result` is for failures of the machine; the inner one
/// for problems in the input, which are reported to the user.
pub fn analyse_input(
    args: &SpcArgs,
    label: &str,
    bytes: &[u8],
    stderr: &mut dyn Write,
) -> Result<std::result::Result<spcfile::Analysed, Errors>> {
    let data = match spcfile::input::parse(label, bytes) {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    let overrides = match &args.series_settings {
        Some(path) => {
            let b = std::fs::read(path)
                .with_context(|| format!("{}: cannot read the settings file", path.display()))?;
            match spcfile::series_settings::parse(&path.display().to_string(), &b) {
                Ok(o) => o,
                Err(e) => return Ok(Err(e)),
            }
        }
        None => HashMap::new(),
    };
    let outcome = spcfile::analyse(&options(args), label, data, &overrides)?;
    for w in &outcome.warnings {
        writeln!(stderr, "warning: {w}")?;
    }
    Ok(outcome.result)
}
