//! Reproducible speed figures, as `mhsip bench` reports them. Each benchmark generates or
//! copies its data, times it, and returns its figures; the binary parses the options and
//! prints. `spc` generates a file of N series x M monthly points (deterministic, seeded) and
//! times the engine alone on one core, the reading, computing and writing in process, and
//! `mhsip spc` as a whole process; `import` times the import of generated restrictive
//! interventions; `measures` every measure for every ward of a database; `web` (module `web`)
//! the web application on a copy of the demo database; `freed` (module `freed`) FREED imports and
//! the FREED service page.

pub mod freed;
pub mod scale;
pub mod web;

use demo::SplitMix;
use spcfile::period::{Period, days_from_civil};
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Why a benchmark could not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Ingest(#[from] ingest::IngestError),
    #[error(transparent)]
    Spc(#[from] spc::SpcError),
    #[error(transparent)]
    SpcFile(#[from] spcfile::Failure),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Join(#[from] tokio::task::JoinError),
    #[error("{0}")]
    Msg(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn fail<T>(m: impl Into<String>) -> Result<T> {
    Err(Error::Msg(m.into()))
}

/// `what: cause` for a failure that needs saying what was being done.
trait Context<T> {
    fn context(self, what: &str) -> Result<T>;
}

impl<T, E: std::fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: &str) -> Result<T> {
        self.map_err(|e| Error::Msg(format!("{what}: {e}")))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: &str) -> Result<T> {
        self.ok_or_else(|| Error::Msg(what.to_string()))
    }
}

/// Monthly series like ward rates: a level, noise, and for a third of them a step change.
pub fn generate_spc_input(series: usize, points: usize, seed: u64) -> Vec<u8> {
    let mut rng = SplitMix(seed);
    let mut out = Vec::with_capacity(series * points * 32);
    out.extend_from_slice(b"series,period,value\n");
    // Monthly periods from January 2021.
    let periods: Vec<String> = (0..points)
        .map(|i| {
            let (y, m) = (2021 + (i / 12) as i32, (i % 12) as u32 + 1);
            Period::Date(days_from_civil(y, m, 1)).to_string()
        })
        .collect();
    for s in 0..series {
        let level = 5.0 + rng.unit() * 40.0;
        let sd = level * (0.05 + rng.unit() * 0.2);
        let step_at = if rng.unit() < 0.33 {
            Some((rng.unit() * points as f64) as usize)
        } else {
            None
        };
        let step = (rng.unit() - 0.5) * 4.0 * sd;
        for (i, p) in periods.iter().enumerate() {
            let shift = if step_at.is_some_and(|k| i >= k) {
                step
            } else {
                0.0
            };
            let v = (level + shift + sd * rng.normal()).max(0.0);
            let _ = writeln!(out, "S{s:05},{p},{v:.2}");
        }
    }
    out
}

/// The best and the median of a set of timings.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub best: Duration,
    pub median: Duration,
    pub max: Duration,
}

impl Timing {
    pub fn of(times: &mut [Duration]) -> Timing {
        times.sort();
        Timing {
            best: times.first().copied().unwrap_or_default(),
            median: times.get(times.len() / 2).copied().unwrap_or_default(),
            max: times.last().copied().unwrap_or_default(),
        }
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What `bench spc` measured.
pub struct SpcFigures {
    pub series: usize,
    pub points: usize,
    pub csv_bytes: usize,
    /// The engine alone on one thread, XmR, MDC: parsed input in memory.
    pub engine: Timing,
    /// Parse, check, compute and format in process, one thread.
    pub in_process: Timing,
    /// `mhsip spc FILE > /dev/null` as a whole process.
    pub whole_process: Timing,
}

/// The options `mhsip spc` has when given none, on one thread.
fn default_spc_options() -> spcfile::Options {
    spcfile::Options {
        chart: spc::ChartKind::Xmr,
        direction: spc::Direction::Neutral,
        target: None,
        rebase: Vec::new(),
        baseline: None,
        convention: spc::Convention::Mdc,
        screen_mr: None,
        run_length: 7,
        per: None,
        assurance: None,
        threads: 1,
        summary: false,
        format: spcfile::Format::Csv,
    }
}

/// Write the generated SPC input to `path`, then time the engine, the in-process pipeline and
/// `exe spc FILE` (the `mhsip` executable) `runs` times each.
pub fn spc(
    series: usize,
    points: usize,
    runs: usize,
    path: &Path,
    exe: &Path,
) -> Result<SpcFigures> {
    let runs = runs.max(1);
    let bytes = generate_spc_input(series, points, 42);
    std::fs::write(path, &bytes).context(&format!(
        "{}: cannot write the benchmark data",
        path.display()
    ))?;

    // 1. The engine alone, one thread: parsed input in memory, analyse every series.
    let parsed = spcfile::input::parse("bench", &bytes).map_err(|e| {
        Error::Msg(format!(
            "generated data did not parse: {:?}",
            e.list.first()
        ))
    })?;
    let settings = spc::Settings::default();
    let mut engine_times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let mut specials = 0usize;
        for s in &parsed.series {
            let a = spc::analyse(&spc::Series::values(&s.values), &settings)?;
            specials += a
                .points
                .iter()
                .filter(|p| p.point_type.is_some_and(|t| t.is_special_cause()))
                .count();
        }
        engine_times.push(t.elapsed());
        std::hint::black_box(specials);
    }

    // 2. In-process end to end (parse, check, compute, format) without process start-up.
    let opts = default_spc_options();
    let mut inproc = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let mut sink = std::io::sink();
        let data = spcfile::input::parse("bench", &bytes)
            .map_err(|_| Error::Msg("generated data failed the checks".into()))?;
        let out = spcfile::analyse(&opts, "bench", data, &Default::default())?
            .result
            .map_err(|_| Error::Msg("generated data failed the checks".into()))?;
        let mut buf = Vec::new();
        for (s, a) in out.series.iter().zip(&out.analyses) {
            spcfile::output::points_csv(&mut buf, s, a);
        }
        sink.write_all(&buf)?;
        inproc.push(t.elapsed());
    }

    // 3. The whole process, as an analyst runs it.
    let mut whole = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let status = Command::new(exe)
            .arg("spc")
            .arg(path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .status()
            .context("cannot start mhsip spc")?;
        whole.push(t.elapsed());
        if !status.success() {
            return fail("mhsip spc failed on the benchmark data");
        }
    }
    Ok(SpcFigures {
        series,
        points,
        csv_bytes: bytes.len(),
        engine: Timing::of(&mut engine_times),
        in_process: Timing::of(&mut inproc),
        whole_process: Timing::of(&mut whole),
    })
}

/// A restrictive-intervention export of `rows` rows for 60 wards and 50,000 patients over five
/// years, in date order as risk systems export them, as the canonical CSV (deterministic).
pub fn generate_ri_rows(rows: usize) -> (String, String, String) {
    let mut rng = SplitMix(7);
    let mut orgs = String::from(
        "OrgCode,OrgName,OrgLevel,ParentOrgCode\nY98,Bench Region,region,\nQ98,Bench ICB,icb,Y98\n",
    );
    let mut wards =
        String::from("WardCode,WardName,SiteCode,WardType,WardSexMix,Beds,BedsFromDate\n");
    for t in 0..6 {
        let _ = writeln!(
            orgs,
            "R8{t},Bench Trust {t},trust,Q98\nR8{t}01,Bench Site {t},site,R8{t}"
        );
        for w in 0..10 {
            let _ = writeln!(
                wards,
                "B{t}W{w},Ward {w},R8{t}01,adult_acute,mixed,20,2020-01-01"
            );
        }
    }
    let nhs: Vec<String> = (0..50_000u32)
        .filter_map(|i| domain::NhsNumber::from_nine(999_100_000 + i))
        .map(|n| n.digits().iter().map(|d| *d as char).collect())
        .collect();
    let mut out = String::with_capacity(rows * 140);
    out.push_str("RestrictiveIntIncID,RestrictiveIntTypeID,NHSNumber,WardCode,StartDateRestrictiveIntInc,StartTimeRestrictiveIntInc,EndDateRestrictiveIntInc,EndTimeRestrictiveIntInc,RestrictiveIntReason,PostIncidentReviewPatient,PostIncidentReviewStaff,RestrictiveIntType,StartDateRestrictiveIntType,StartTimeRestrictiveIntType,EndDateRestrictiveIntType,EndTimeRestrictiveIntType,PatientInjury,StaffInjury,OtherPersonInjury\n");
    let types = ["01", "07", "09", "10", "11", "14", "16", "05", "04"];
    let start = days_from_civil(2021, 1, 1);
    // Like a real export: incidents in date order, one or two interventions each.
    let days = 1800u64;
    let mut i = 0;
    let mut incident = 0;
    while i < rows {
        incident += 1;
        let n = 1 + (rng.next_u64() % 2) as usize;
        let day = Period::Date(start + ((i as u64 * days) / rows as u64) as i32).to_string();
        let patient = &nhs[(rng.next_u64() % nhs.len() as u64) as usize];
        let ward = format!("B{}W{}", rng.next_u64() % 6, rng.next_u64() % 10);
        let h = rng.next_u64() % 20;
        for k in 0..n.min(rows - i) {
            let ty = types[(rng.next_u64() % types.len() as u64) as usize];
            let _ = writeln!(
                out,
                "RI{incident:08},{},{patient},{ward},{day},{h:02}:00,{day},{h:02}:50,10,Y,Y,{ty},{day},{h:02}:{:02},{day},{h:02}:{:02},N,N,N",
                k + 1,
                k * 20,
                k * 20 + 15
            );
            i += 1;
        }
    }
    (orgs, wards, out)
}

/// What happened during `bench import`, as it happens.
pub enum ImportEvent<'a> {
    /// The file was generated (run 1 only).
    Generated {
        rows: usize,
        bytes: usize,
        took: Duration,
    },
    /// One timed upload of one run.
    Upload {
        run: usize,
        round: &'a str,
        /// Reading, validating and pseudonymising; the rest is writing and committing.
        checked: Duration,
        took: Duration,
        summary: &'a store::UploadSummary,
    },
}

/// What `bench import` measured over its runs.
pub struct ImportFigures {
    pub rows: usize,
    pub runs: usize,
    pub first: Timing,
    pub again: Timing,
}

/// Import `rows` generated restrictive-intervention rows into a fresh database (SQLite in a
/// temporary folder, or `database`), then the same file again (all updates), `runs` times.
pub async fn import(
    rows: usize,
    runs: usize,
    database: Option<String>,
    on_event: &mut (dyn FnMut(ImportEvent<'_>) + Send),
) -> Result<ImportFigures> {
    let runs = runs.max(1);
    let mut firsts = Vec::new();
    let mut seconds = Vec::new();
    for run in 0..runs {
        let (a, b) = import_once(rows, run, database.clone(), on_event).await?;
        firsts.push(a);
        seconds.push(b);
    }
    Ok(ImportFigures {
        rows,
        runs,
        first: Timing::of(&mut firsts),
        again: Timing::of(&mut seconds),
    })
}

/// Flush the operating system's dirty pages (`sync`), so one timed run does not pay for the
/// writes of the one before.
fn quiet_disk() {
    let _ = Command::new("sync").status();
}

async fn import_once(
    rows: usize,
    run: usize,
    database: Option<String>,
    on_event: &mut (dyn FnMut(ImportEvent<'_>) + Send),
) -> Result<(Duration, Duration)> {
    let dir = std::env::temp_dir().join(format!("mhsip-bench-import-{}-{run}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = database.unwrap_or_else(|| format!("sqlite://{}", dir.join("bench.db").display()));
    let store = store::Store::open(&url).await?;
    let (mut keys, _) = ingest::pseudonym::Pseudonymiser::open(&dir, &store).await?;
    let t = Instant::now();
    let (orgs, wards, ri) = generate_ri_rows(rows);
    if run == 0 {
        on_event(ImportEvent::Generated {
            rows,
            bytes: ri.len(),
            took: t.elapsed(),
        });
    }
    let mut times = Vec::new();
    for (kind, text) in [
        (ingest::formats::Kind::Organisations, &orgs),
        (ingest::formats::Kind::Wards, &wards),
    ] {
        let req = ingest::Request {
            kind,
            file_name: kind.as_str(),
            bytes: text.as_bytes(),
            mapping: None,
            uploaded_by: "bench",
            only_trust: None,
            dry_run: false,
        };
        let r = ingest::import(&store, &mut keys, &req, &mut |_, _, _| {}).await?;
        if !r.ok() {
            return fail(format!("bench setup failed: {:?}", r.error_lines().first()));
        }
    }
    for round in ["first upload (all new)", "same file again (all updates)"] {
        // Start each timed upload on a quiet disk, as a user's upload would: the previous
        // upload's background checkpoint finished and every dirty page written out (untimed).
        store.checkpoint().await?;
        quiet_disk();
        let req = ingest::Request {
            kind: ingest::formats::Kind::RestrictiveInterventions,
            file_name: "ri.csv",
            bytes: ri.as_bytes(),
            mapping: None,
            uploaded_by: "bench",
            only_trust: None,
            dry_run: false,
        };
        let t = Instant::now();
        let mut checked_at = None;
        let r = ingest::import(&store, &mut keys, &req, &mut |phase, _, _| {
            if phase == ingest::Phase::Writing && checked_at.is_none() {
                checked_at = Some(t.elapsed());
            }
        })
        .await?;
        let took = t.elapsed();
        if !r.ok() {
            return fail(format!(
                "bench import failed: {:?}",
                r.error_lines().first()
            ));
        }
        let s = r.summary.unwrap_or_default();
        on_event(ImportEvent::Upload {
            run,
            round,
            checked: checked_at.unwrap_or(took),
            took,
            summary: &s,
        });
        times.push(t.elapsed());
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((times[0], times[1]))
}

/// What `bench measures` measured.
pub struct MeasuresFigures {
    pub measures: usize,
    pub series: usize,
    pub points: usize,
    pub months: usize,
    pub timing: Timing,
}

/// Compute every measure for every ward and month of the data in `store`, and the SPC reading of
/// every series, `runs` times. `None` when the database holds no data.
pub async fn measures(store: &store::Store, runs: usize) -> Result<Option<MeasuresFigures>> {
    let Some((first, last)) = store.data_range().await? else {
        return Ok(None);
    };
    let measures = domain::measures::catalogue();
    let q = store::measures::Query {
        level: domain::OrgLevel::Ward,
        period: domain::dates::PeriodKind::Month,
        from: domain::dates::date_from_day(first as i32),
        to: domain::dates::date_from_day(last as i32),
        scope: None,
    };
    let mut times = Vec::new();
    let mut n_series = 0;
    let mut n_points = 0;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let series = store.compute_measures(&q, &measures).await?;
        // And the SPC reading of every series, as the overview needs.
        for s in &series {
            let m = measures
                .iter()
                .find(|m| m.id == s.measure)
                .expect("known measure");
            let values: Vec<Option<f64>> = s.points.iter().map(|p| p.value).collect();
            std::hint::black_box(spc::analyse(
                &spc::Series::values(&values),
                &m.spc_settings(),
            )?);
        }
        times.push(t.elapsed());
        n_series = series.len();
        n_points = series.iter().map(|s| s.points.len()).sum::<usize>();
    }
    Ok(Some(MeasuresFigures {
        measures: measures.len(),
        series: n_series,
        points: n_points,
        months: q.period.starts_between(q.from, q.to).len(),
        timing: Timing::of(&mut times),
    }))
}
