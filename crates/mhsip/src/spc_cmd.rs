//! `mhsip spc`: SPC charts from a CSV file, for analysts. Reads everything, checks
//! everything, computes everything, and only then writes: bad input prints nothing to stdout.

pub mod input;
pub mod output;
pub mod period;
pub mod series_settings;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use input::{Errors, InputError, PreparedSeries};
use period::Period;
use series_settings::{RebaseAt, SeriesOverride};
use spc::{AssuranceComparison, ChartKind, Convention, Direction, Settings};
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

/// Run the command, writing results to `stdout` and problems to `stderr`.
pub fn run(args: &SpcArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Result<ExitCode> {
    let (label, bytes) = read_input(args.file.as_deref())?;
    match analyse_input(args, &label, &bytes, stderr)? {
        Ok(out) => {
            if let Some(dir) = &args.svg {
                write_svgs(dir, &out)?;
            }
            write_output(args, &out, stdout)?;
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

/// Everything needed to write results.
pub struct Analysed {
    pub series: Vec<PreparedSeries>,
    pub settings: Vec<Settings>,
    pub analyses: Vec<spc::Analysis>,
}

/// Parse, check and compute. The outer `Result` is for failures of the machine; the inner one
/// for problems in the input, which are reported to the user.
pub fn analyse_input(
    args: &SpcArgs,
    label: &str,
    bytes: &[u8],
    stderr: &mut dyn Write,
) -> Result<std::result::Result<Analysed, Errors>> {
    let data = match input::parse(label, bytes) {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    let overrides = match &args.series_settings {
        Some(path) => {
            let b = std::fs::read(path)
                .with_context(|| format!("{}: cannot read the settings file", path.display()))?;
            match series_settings::parse(&path.display().to_string(), &b) {
                Ok(o) => o,
                Err(e) => return Ok(Err(e)),
            }
        }
        None => HashMap::new(),
    };
    let mut errors = Errors::default();
    if args.chart.needs_denominator() && !data.has_denominator {
        let (line, column, message) = match data.blank_denominator {
            Some((line, column)) => (
                line,
                column,
                format!(
                    "the denominator column is blank on every row; a {} chart needs the exposure (e.g. occupied bed days) for every point with a value",
                    args.chart
                ),
            ),
            None => (
                1,
                1,
                format!(
                    "a {} chart needs a denominator column; expected a header series,period,value,denominator",
                    args.chart
                ),
            ),
        };
        errors.push(InputError {
            file: label.into(),
            line,
            column,
            message,
        });
        return Ok(Err(errors));
    }
    let ratio = data.has_denominator && args.chart.charts_ratio_when_given();
    if args.per.is_some() && !ratio {
        let why = if data.blank_denominator.is_some() {
            " (the denominator column is blank on every row, so it counts as absent)"
        } else {
            ""
        };
        writeln!(
            stderr,
            "warning: --per only scales value/denominator; this {} chart of plain values ignores it{why}",
            args.chart
        )?;
    }
    let global_rebase: Vec<RebaseAt> = match parse_global_rebase(&args.rebase) {
        Ok(r) => r,
        Err(m) => {
            errors.push(InputError {
                file: "--rebase".into(),
                line: 1,
                column: 1,
                message: m,
            });
            return Ok(Err(errors));
        }
    };
    let names: std::collections::HashSet<&str> =
        data.series.iter().map(|s| s.name.as_str()).collect();
    let mut unknown: Vec<(&String, usize)> = overrides
        .iter()
        .filter(|(k, _)| !names.contains(k.as_str()))
        .map(|(k, o)| (k, o.line))
        .collect();
    unknown.sort_by_key(|(_, l)| *l);
    for (name, line) in unknown {
        writeln!(
            stderr,
            "warning: series settings line {line}: no series '{name}' in {label}"
        )?;
    }

    let mut settings = Vec::with_capacity(data.series.len());
    for s in &data.series {
        let o = overrides.get(&s.name);
        match settings_for(args, s, o, &global_rebase) {
            Ok(set) => settings.push(set),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let analyses = compute(&data.series, &settings, args.threads)?;
    let mut ok = Vec::with_capacity(analyses.len());
    for (s, a) in data.series.iter().zip(analyses) {
        match a {
            Ok(a) => ok.push(a),
            Err(e) => errors.push(locate(label, s, &e)),
        }
    }
    if !errors.is_empty() {
        errors.list.sort_by_key(|e| (e.line, e.column));
        return Ok(Err(errors));
    }
    Ok(Ok(Analysed {
        series: data.series,
        settings,
        analyses: ok,
    }))
}

fn parse_global_rebase(items: &[String]) -> std::result::Result<Vec<RebaseAt>, String> {
    items
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            Period::parse(s)
                .map(|p| RebaseAt {
                    period: p,
                    source: "--rebase".into(),
                })
                .map_err(|m| format!("rebase: {m}"))
        })
        .collect()
}

fn settings_for(
    args: &SpcArgs,
    s: &PreparedSeries,
    o: Option<&SeriesOverride>,
    global_rebase: &[RebaseAt],
) -> std::result::Result<Settings, InputError> {
    let rebase = o.and_then(|o| o.rebase.as_deref()).unwrap_or(global_rebase);
    let mut starts = Vec::with_capacity(rebase.len());
    for r in rebase {
        if let Some(first) = s.periods.first()
            && !r.period.same_kind(*first)
        {
            let (file, line, column) = split_source(&r.source);
            return Err(InputError {
                file,
                line,
                column,
                message: format!(
                    "rebase {} is {} but series '{}' has periods that are {}; expected a rebase period of the same kind",
                    r.period,
                    r.period.kind_name(),
                    s.name,
                    first.kind_name()
                ),
            });
        }
        // The rebase period is the first point of the new segment (or the first after it).
        starts.push(s.periods.partition_point(|p| *p < r.period));
    }
    Ok(Settings {
        chart: args.chart,
        direction: o.and_then(|o| o.direction).unwrap_or(args.direction),
        convention: args.convention,
        screen_mr: screen_mr(args),
        run_length: args.run_length as usize,
        target: o.and_then(|o| o.target).or(args.target),
        segment_starts: starts,
        baseline: o.and_then(|o| o.baseline).or(args.baseline),
        multiplier: args.per.unwrap_or(1.0),
        assurance_comparison: args.assurance.map(|c| match c {
            Comparison::Inclusive => AssuranceComparison::Inclusive,
            Comparison::Strict => AssuranceComparison::Strict,
        }),
        min_points_for_limits: 13,
    })
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

/// "file:line:col" as written by the settings reader, or an option name.
fn split_source(source: &str) -> (String, usize, usize) {
    let mut parts = source.rsplitn(3, ':');
    let col = parts.next().and_then(|c| c.parse().ok());
    let line = parts.next().and_then(|l| l.parse().ok());
    match (parts.next(), line, col) {
        (Some(f), Some(l), Some(c)) => (f.to_string(), l, c),
        _ => (source.to_string(), 1, 1),
    }
}

/// Name the line and column of the point an engine error is about.
fn locate(label: &str, s: &PreparedSeries, e: &spc::SpcError) -> InputError {
    let row = e
        .index()
        .and_then(|i| s.origin.get(i))
        .and_then(|r| r.as_ref());
    let (line, column) = match row {
        Some(r) if e.is_about_denominator() && r.den_col > 0 => (r.line, r.den_col as usize),
        Some(r) => (r.line, r.value_col as usize),
        None => (s.origin.iter().flatten().next().map_or(1, |r| r.line), 1),
    };
    // On a chart that only uses a denominator when there is one, say how to do without.
    let hint = match e {
        spc::SpcError::MissingDenominator { chart, .. } if !chart.needs_denominator() => {
            "; or leave the denominator column blank on every row of the file to chart the values themselves"
        }
        _ => "",
    };
    InputError {
        file: label.into(),
        line,
        column,
        message: format!("series '{}': {e}{hint}", s.name),
    }
}

/// Analyse every series, spread over threads in contiguous chunks (results keep their order).
/// A worker that panics (a bug, never bad input) fails the whole command: no chunk of the
/// output may go missing silently.
fn compute(
    series: &[PreparedSeries],
    settings: &[Settings],
    threads: usize,
) -> Result<Vec<Result<spc::Analysis, spc::SpcError>>> {
    let fail_on = test_panic_hook("analyse");
    let fail_on = fail_on.as_deref();
    let run_one = |(s, set): (&PreparedSeries, &Settings)| {
        if fail_on == Some(s.name.as_str()) {
            panic!("test hook: panic while analysing series '{}'", s.name);
        }
        let input = spc::Series {
            values: &s.values,
            denominators: s.denominators.as_deref(),
        };
        spc::analyse(&input, set)
    };
    let run_chunk = |ss: &[PreparedSeries], sets: &[Settings]| {
        ss.iter().zip(sets).map(run_one).collect::<Vec<_>>()
    };
    let threads = workers(threads, series.len());
    let chunk = series.len().div_ceil(threads.max(1)).max(1);
    let chunks: Vec<(&[PreparedSeries], &[Settings])> =
        series.chunks(chunk).zip(settings.chunks(chunk)).collect();
    let names = |(ss, _): &(&[PreparedSeries], &[Settings])| chunk_names(ss);
    let parts = if threads <= 1 {
        chunks
            .iter()
            .map(|c| catch_worker(|| run_chunk(c.0, c.1)).map_err(|m| (names(c), m)))
            .collect::<std::result::Result<Vec<_>, _>>()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .iter()
                .map(|&(ss, sets)| scope.spawn(move || run_chunk(ss, sets)))
                .collect();
            handles
                .into_iter()
                .zip(&chunks)
                .map(|(h, c)| h.join().map_err(|p| (names(c), panic_message(&*p))))
                .collect::<std::result::Result<Vec<_>, _>>()
        })
    };
    match parts {
        Ok(parts) => Ok(parts.into_iter().flatten().collect()),
        Err((which, message)) => Err(worker_failed("analysing", &which, &message)),
    }
}

/// Run one chunk of work on this thread, turning a panic into its message.
fn catch_worker<T>(work: impl FnOnce() -> T) -> std::result::Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|p| panic_message(&*p))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

/// "series 'A' to 'K'" for the chunk a failed worker had.
fn chunk_names(series: &[PreparedSeries]) -> String {
    match (series.first(), series.last()) {
        (Some(a), Some(b)) if a.name != b.name => format!("series '{}' to '{}'", a.name, b.name),
        (Some(a), _) => format!("series '{}'", a.name),
        _ => "no series".into(),
    }
}

fn worker_failed(doing: &str, which: &str, message: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "internal error: a worker thread panicked while {doing} {which} ({message}); nothing was written. This is a bug in mhsip, not in the input: please report it with the command and the file"
    )
}

/// Tests make a worker panic on purpose: `MHSIP_SPC_TEST_PANIC=analyse:NAME` (or `write:NAME`)
/// panics while analysing (or formatting) series NAME. Debug builds only; release builds
/// have no such hook.
fn test_panic_hook(stage: &str) -> Option<String> {
    if !cfg!(debug_assertions) {
        return None;
    }
    let v = std::env::var("MHSIP_SPC_TEST_PANIC").ok()?;
    let (s, name) = v.split_once(':')?;
    (s == stage).then(|| name.to_string())
}

fn workers(requested: usize, items: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = if requested == 0 { cores } else { requested };
    // Threads only pay for themselves on large inputs.
    if items < 2_000 { 1 } else { n.min(items) }
}

fn write_output(args: &SpcArgs, out: &Analysed, stdout: &mut dyn Write) -> Result<()> {
    let n = out.series.len();
    let threads = workers(args.threads, n);
    let chunk = n.div_ceil(threads.max(1)).max(1);
    let fail_on = test_panic_hook("write");
    let fail_on = fail_on.as_deref();
    let format_chunk = |range: std::ops::Range<usize>| -> Vec<u8> {
        let points: usize = range.clone().map(|i| out.series[i].periods.len()).sum();
        let mut buf = Vec::with_capacity(if args.summary {
            range.len() * 120
        } else {
            points * 180
        });
        for i in range {
            let (s, a) = (&out.series[i], &out.analyses[i]);
            if fail_on == Some(s.name.as_str()) {
                panic!("test hook: panic while writing series '{}'", s.name);
            }
            match (args.format, args.summary) {
                (Format::Csv, false) => output::points_csv(&mut buf, s, a),
                (Format::Csv, true) => output::summary_csv(&mut buf, s, a),
                (Format::Json, summary_only) => {
                    if i > 0 {
                        buf.extend_from_slice(b",\n");
                    }
                    output::series_json(&mut buf, s, a, &out.settings[i], summary_only);
                }
            }
        }
        buf
    };
    let ranges: Vec<std::ops::Range<usize>> = (0..n)
        .step_by(chunk)
        .map(|s| s..(s + chunk).min(n))
        .collect();
    let names = |r: &std::ops::Range<usize>| chunk_names(&out.series[r.clone()]);
    let parts: std::result::Result<Vec<Vec<u8>>, _> = if threads > 1 {
        std::thread::scope(|scope| {
            let hs: Vec<_> = ranges
                .iter()
                .cloned()
                .map(|r| scope.spawn(move || format_chunk(r)))
                .collect();
            hs.into_iter()
                .zip(&ranges)
                .map(|(h, r)| h.join().map_err(|p| (names(r), panic_message(&*p))))
                .collect()
        })
    } else {
        ranges
            .iter()
            .map(|r| catch_worker(|| format_chunk(r.clone())).map_err(|m| (names(r), m)))
            .collect()
    };
    // Every part is ready before the first byte goes to stdout.
    let parts = parts.map_err(|(which, message)| worker_failed("writing", &which, &message))?;
    match args.format {
        Format::Csv => stdout.write_all(
            if args.summary {
                output::SUMMARY_HEADER
            } else {
                output::POINT_HEADER
            }
            .as_bytes(),
        )?,
        Format::Json => stdout.write_all(b"[\n")?,
    }
    for p in parts {
        stdout.write_all(&p)?;
    }
    if args.format == Format::Json {
        stdout.write_all(b"\n]\n")?;
    }
    stdout.flush()?;
    Ok(())
}

fn write_svgs(dir: &Path, out: &Analysed) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
    let mut used: HashMap<String, usize> = HashMap::new();
    for ((s, a), set) in out.series.iter().zip(&out.analyses).zip(&out.settings) {
        let labels: Vec<String> = s
            .periods
            .iter()
            .map(|p| period::axis_label(*p, s.cadence))
            .collect();
        let svg = spc::svg::render(
            a,
            set,
            &spc::svg::Labels {
                title: &s.name,
                x_labels: &labels,
                y_label: "",
                annotations: &[],
            },
        );
        let mut stem = file_stem(&s.name);
        let n = used.entry(stem.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            stem = format!("{stem}-{n}");
        }
        let path = dir.join(format!("{stem}.svg"));
        std::fs::write(&path, svg)
            .with_context(|| format!("{}: cannot write the chart", path.display()))?;
    }
    Ok(())
}

/// A safe file name for a series: letters, digits, '-', '_' and '.', nothing else.
pub fn file_stem(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() { "series".into() } else { s }
}
