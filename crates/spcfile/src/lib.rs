//! SPC files, for analysts: read a `series,period,value[,denominator]` file (`input`) and a
//! file of settings per series (`series_settings`), analyse every series with the `spc` engine
//! over a few threads ([`analyse`]), and write the results as CSV, JSON (`output`, [`write`])
//! or SVG charts ([`write_svgs`]). Every problem in the input is a [`FileError`]
//! (`FILE:LINE:COLUMN: reason`); nothing is written until everything has been checked and
//! computed. Depends on the engine and the text reader only, not on the import pipeline.

pub mod input;
pub mod output;
pub mod period;
pub mod series_settings;

pub use input::{DataFile, Errors, PreparedSeries};
pub use textfile::FileError;

use period::Period;
use series_settings::{RebaseAt, SeriesOverride};
use spc::{AssuranceComparison, ChartKind, Convention, Direction, Settings};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// How to analyse and write every series (what `mhsip spc`'s options say).
#[derive(Clone, Debug)]
pub struct Options {
    pub chart: ChartKind,
    /// For every series, unless its settings say otherwise.
    pub direction: Direction,
    pub target: Option<f64>,
    /// Periods (as text, as given) where every series starts a new segment.
    pub rebase: Vec<String>,
    pub baseline: Option<usize>,
    pub convention: Convention,
    /// `None` leaves the convention's default (on for `ptd` XmR charts, off otherwise).
    pub screen_mr: Option<bool>,
    pub run_length: u8,
    /// Multiplier of charted ratios (value/denominator).
    pub per: Option<f64>,
    pub assurance: Option<AssuranceComparison>,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// One row per series instead of one per point.
    pub summary: bool,
    pub format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

/// A failure of the machine, never of the input: a worker that panicked (a bug), or a file or
/// stream that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(
        "internal error: a worker thread panicked while {doing} {which} ({message}); nothing was written. This is a bug in mhsip, not in the input: please report it with the command and the file"
    )]
    Worker {
        doing: &'static str,
        which: String,
        message: String,
    },
    #[error("{}: {what}: {err}", path.display())]
    File {
        path: PathBuf,
        what: &'static str,
        err: std::io::Error,
    },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Everything needed to write results.
pub struct Analysed {
    pub series: Vec<PreparedSeries>,
    pub settings: Vec<Settings>,
    pub analyses: Vec<spc::Analysis>,
}

/// What an analysis found: warnings to show whatever happens, and the results or the problems
/// in the input.
pub struct Outcome {
    pub warnings: Vec<String>,
    pub result: Result<Analysed, Errors>,
}

/// Check the options against the data (`label` names the data file in messages), apply the
/// settings per series, and analyse every series. The outer `Result` is for failures of the
/// machine; problems in the input are in the [`Outcome`].
pub fn analyse(
    opts: &Options,
    label: &str,
    data: DataFile,
    overrides: &HashMap<String, SeriesOverride>,
) -> Result<Outcome, Failure> {
    let mut warnings = Vec::new();
    let mut errors = Errors::default();
    let fail = |warnings, errors| {
        Ok(Outcome {
            warnings,
            result: Err(errors),
        })
    };
    if opts.chart.needs_denominator() && !data.has_denominator {
        let (line, column, message) = match data.blank_denominator {
            Some((line, column)) => (
                line,
                column,
                format!(
                    "the denominator column is blank on every row; a {} chart needs the exposure (e.g. occupied bed days) for every point with a value",
                    opts.chart
                ),
            ),
            None => (
                1,
                1,
                format!(
                    "a {} chart needs a denominator column; expected a header series,period,value,denominator",
                    opts.chart
                ),
            ),
        };
        errors.push(FileError::new(label, line, column, message));
        return fail(warnings, errors);
    }
    let ratio = data.has_denominator && opts.chart.charts_ratio_when_given();
    if opts.per.is_some() && !ratio {
        let why = if data.blank_denominator.is_some() {
            " (the denominator column is blank on every row, so it counts as absent)"
        } else {
            ""
        };
        warnings.push(format!(
            "--per only scales value/denominator; this {} chart of plain values ignores it{why}",
            opts.chart
        ));
    }
    let global_rebase: Vec<RebaseAt> = match parse_global_rebase(&opts.rebase) {
        Ok(r) => r,
        Err(m) => {
            errors.push(FileError::new("--rebase", 1, 1, m));
            return fail(warnings, errors);
        }
    };
    let names: HashSet<&str> = data.series.iter().map(|s| s.name.as_str()).collect();
    let mut unknown: Vec<(&String, usize)> = overrides
        .iter()
        .filter(|(k, _)| !names.contains(k.as_str()))
        .map(|(k, o)| (k, o.line))
        .collect();
    unknown.sort_by_key(|(_, l)| *l);
    for (name, line) in unknown {
        warnings.push(format!(
            "series settings line {line}: no series '{name}' in {label}"
        ));
    }

    let mut settings = Vec::with_capacity(data.series.len());
    for s in &data.series {
        match settings_for(opts, s, overrides.get(&s.name), &global_rebase) {
            Ok(set) => settings.push(set),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return fail(warnings, errors);
    }
    let analyses = compute(&data.series, &settings, opts.threads)?;
    let mut ok = Vec::with_capacity(analyses.len());
    for (s, a) in data.series.iter().zip(analyses) {
        match a {
            Ok(a) => ok.push(a),
            Err(e) => errors.push(locate(label, s, &e)),
        }
    }
    if !errors.is_empty() {
        errors.list.sort_by_key(|e| (e.line, e.column));
        return fail(warnings, errors);
    }
    Ok(Outcome {
        warnings,
        result: Ok(Analysed {
            series: data.series,
            settings,
            analyses: ok,
        }),
    })
}

fn parse_global_rebase(items: &[String]) -> Result<Vec<RebaseAt>, String> {
    items
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            Period::parse(s)
                .map(|p| RebaseAt {
                    period: p,
                    at: ("--rebase".into(), 1, 1),
                })
                .map_err(|m| format!("rebase: {m}"))
        })
        .collect()
}

fn settings_for(
    opts: &Options,
    s: &PreparedSeries,
    o: Option<&SeriesOverride>,
    global_rebase: &[RebaseAt],
) -> Result<Settings, FileError> {
    let rebase = o.and_then(|o| o.rebase.as_deref()).unwrap_or(global_rebase);
    let mut starts = Vec::with_capacity(rebase.len());
    for r in rebase {
        if let Some(first) = s.periods.first()
            && !r.period.same_kind(*first)
        {
            let (file, line, column) = r.at.clone();
            return Err(FileError::new(
                file,
                line,
                column,
                format!(
                    "rebase {} is {} but series '{}' has periods that are {}; expected a rebase period of the same kind",
                    r.period,
                    r.period.kind_name(),
                    s.name,
                    first.kind_name()
                ),
            ));
        }
        // The rebase period is the first point of the new segment (or the first after it).
        starts.push(s.periods.partition_point(|p| *p < r.period));
    }
    Ok(Settings {
        chart: opts.chart,
        direction: o.and_then(|o| o.direction).unwrap_or(opts.direction),
        convention: opts.convention,
        screen_mr: opts.screen_mr,
        run_length: opts.run_length as usize,
        target: o.and_then(|o| o.target).or(opts.target),
        segment_starts: starts,
        baseline: o.and_then(|o| o.baseline).or(opts.baseline),
        multiplier: opts.per.unwrap_or(1.0),
        assurance_comparison: opts.assurance,
        min_points_for_limits: 13,
    })
}

/// Name the line and column of the point an engine error is about.
fn locate(label: &str, s: &PreparedSeries, e: &spc::SpcError) -> FileError {
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
    FileError::new(
        label,
        line,
        column,
        format!("series '{}': {e}{hint}", s.name),
    )
}

/// Analyse every series, spread over threads in contiguous chunks (results keep their order).
/// A worker that panics (a bug, never bad input) fails the whole command: no chunk of the
/// output may go missing silently.
fn compute(
    series: &[PreparedSeries],
    settings: &[Settings],
    threads: usize,
) -> Result<Vec<Result<spc::Analysis, spc::SpcError>>, Failure> {
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
            .collect::<Result<Vec<_>, _>>()
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
                .collect::<Result<Vec<_>, _>>()
        })
    };
    match parts {
        Ok(parts) => Ok(parts.into_iter().flatten().collect()),
        Err((which, message)) => Err(Failure::Worker {
            doing: "analysing",
            which,
            message,
        }),
    }
}

/// Run one chunk of work on this thread, turning a panic into its message.
fn catch_worker<T>(work: impl FnOnce() -> T) -> Result<T, String> {
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

/// Format every series (over threads, as `opts.threads` says), then write them all to `out`:
/// every part is ready before the first byte is written.
pub fn write(opts: &Options, results: &Analysed, out: &mut dyn Write) -> Result<(), Failure> {
    let n = results.series.len();
    let threads = workers(opts.threads, n);
    let chunk = n.div_ceil(threads.max(1)).max(1);
    let fail_on = test_panic_hook("write");
    let fail_on = fail_on.as_deref();
    let format_chunk = |range: std::ops::Range<usize>| -> Vec<u8> {
        let points: usize = range.clone().map(|i| results.series[i].periods.len()).sum();
        let mut buf = Vec::with_capacity(if opts.summary {
            range.len() * 120
        } else {
            points * 180
        });
        for i in range {
            let (s, a) = (&results.series[i], &results.analyses[i]);
            if fail_on == Some(s.name.as_str()) {
                panic!("test hook: panic while writing series '{}'", s.name);
            }
            match (opts.format, opts.summary) {
                (Format::Csv, false) => output::points_csv(&mut buf, s, a),
                (Format::Csv, true) => output::summary_csv(&mut buf, s, a),
                (Format::Json, summary_only) => {
                    if i > 0 {
                        buf.extend_from_slice(b",\n");
                    }
                    output::series_json(&mut buf, s, a, &results.settings[i], summary_only);
                }
            }
        }
        buf
    };
    let ranges: Vec<std::ops::Range<usize>> = (0..n)
        .step_by(chunk)
        .map(|s| s..(s + chunk).min(n))
        .collect();
    let names = |r: &std::ops::Range<usize>| chunk_names(&results.series[r.clone()]);
    let parts: Result<Vec<Vec<u8>>, _> = if threads > 1 {
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
    let parts = parts.map_err(|(which, message)| Failure::Worker {
        doing: "writing",
        which,
        message,
    })?;
    match opts.format {
        Format::Csv => out.write_all(
            if opts.summary {
                output::SUMMARY_HEADER
            } else {
                output::POINT_HEADER
            }
            .as_bytes(),
        )?,
        Format::Json => out.write_all(b"[\n")?,
    }
    for p in parts {
        out.write_all(&p)?;
    }
    if opts.format == Format::Json {
        out.write_all(b"\n]\n")?;
    }
    out.flush()?;
    Ok(())
}

/// Draw every series as an SVG chart into `dir` (created if needed), one file per series named
/// after it ([`file_stem`], numbered when two names give the same stem).
pub fn write_svgs(dir: &Path, results: &Analysed) -> Result<(), Failure> {
    std::fs::create_dir_all(dir).map_err(|err| Failure::File {
        path: dir.to_path_buf(),
        what: "cannot create the folder",
        err,
    })?;
    let mut used: HashMap<String, usize> = HashMap::new();
    for ((s, a), set) in results
        .series
        .iter()
        .zip(&results.analyses)
        .zip(&results.settings)
    {
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
        std::fs::write(&path, svg).map_err(|err| Failure::File {
            path: path.clone(),
            what: "cannot write the chart",
            err,
        })?;
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
