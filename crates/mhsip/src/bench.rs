//! `mhsip bench`: reproducible speed figures. `bench spc` generates a file of N series x M
//! monthly points (deterministic, seeded), then times the engine alone on one core and
//! `mhsip spc` as a whole process (spawned, output to /dev/null).

use crate::spc_cmd::{self, SpcArgs};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use spcfile::period::{Period, days_from_civil};
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(Subcommand, Debug)]
pub enum BenchWhat {
    /// Time the SPC engine and `mhsip spc` on generated data.
    Spc {
        #[arg(long, default_value_t = 10_000)]
        series: usize,
        #[arg(long, default_value_t = 36)]
        points: usize,
        /// Timed runs of each measurement (the best and the median are reported).
        #[arg(long, default_value_t = 10)]
        runs: usize,
        /// Keep the generated file here (default: a temporary file, removed afterwards).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Time importing N restrictive-intervention rows (validated, pseudonymised, stored) into a
    /// fresh SQLite database (or --database), then the same file again (all updates).
    Import {
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Repeat on a fresh database this many times (best and median are reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Database URL (default: a new SQLite file in a temporary folder).
        #[arg(long)]
        database: Option<String>,
    },
    /// Time computing every measure for every ward for every month of the demo region.
    Measures {
        #[arg(long, default_value_t = 5)]
        runs: usize,
        #[command(flatten)]
        data: crate::config::DataArgs,
    },
    /// Time the web application on a copy of the demo database: the region overview and ward
    /// chart pages one at a time (p50, p95), then ward chart pages under load (requests/s).
    Web {
        /// Requests timed one at a time for each page kind.
        #[arg(long, default_value_t = 1000)]
        requests: usize,
        /// Concurrent connections for the load test.
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// Seconds of load.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[command(flatten)]
        data: crate::config::DataArgs,
    },
    /// Write the generated SPC input (series,period,value) to stdout, e.g. for hyperfine.
    SpcData {
        #[arg(long, default_value_t = 10_000)]
        series: usize,
        #[arg(long, default_value_t = 36)]
        points: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

use demo::SplitMix;

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

pub fn run(args: &BenchArgs) -> Result<()> {
    match &args.what {
        BenchWhat::SpcData {
            series,
            points,
            seed,
        } => {
            std::io::stdout()
                .lock()
                .write_all(&generate_spc_input(*series, *points, *seed))?;
            Ok(())
        }
        BenchWhat::Spc {
            series,
            points,
            runs,
            data,
        } => bench_spc(*series, *points, (*runs).max(1), data.clone()),
        BenchWhat::Import {
            rows,
            runs,
            database,
        } => crate::runtime()?.block_on(bench_import(*rows, (*runs).max(1), database.clone())),
        BenchWhat::Web {
            requests,
            connections,
            seconds,
            data,
        } => crate::runtime()?.block_on(crate::bench_web::run(
            data,
            (*requests).max(1),
            (*connections).max(1),
            *seconds,
        )),
        BenchWhat::Measures { runs, data } => {
            crate::runtime()?.block_on(bench_measures((*runs).max(1), data))
        }
    }
}

fn bench_spc(series: usize, points: usize, runs: usize, data: Option<PathBuf>) -> Result<()> {
    let bytes = generate_spc_input(series, points, 42);
    let (path, temporary) = match data {
        Some(p) => (p, false),
        None => (
            std::env::temp_dir().join(format!(
                "mhsip-bench-spc-{}x{}-{}.csv",
                series,
                points,
                std::process::id()
            )),
            true,
        ),
    };
    std::fs::write(&path, &bytes)
        .with_context(|| format!("{}: cannot write the benchmark data", path.display()))?;
    let total_points = series * points;
    println!(
        "mhsip bench spc: {series} series x {points} points = {total_points} points ({:.1} MB CSV at {})",
        bytes.len() as f64 / 1e6,
        path.display()
    );
    println!(
        "machine: {} logical cores available",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    // 1. The engine alone, one thread: parsed input in memory, analyse every series.
    let args = default_args(path.clone());
    let parsed = spcfile::input::parse("bench", &bytes)
        .map_err(|e| anyhow::anyhow!("generated data did not parse: {:?}", e.list.first()))?;
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
    let (best, median) = best_median(&mut engine_times);
    println!(
        "engine (1 core, XmR, MDC):   best {:>8.2} ms  median {:>8.2} ms  = {:.2} M points/s (best), {:.2} M points/s (median)",
        ms(best),
        ms(median),
        total_points as f64 / best.as_secs_f64() / 1e6,
        total_points as f64 / median.as_secs_f64() / 1e6
    );

    // 2. In-process end to end (parse, check, compute, format) without process start-up.
    let mut inproc = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let mut sink = std::io::sink();
        let mut err = Vec::new();
        let r = spc_cmd::analyse_input(&args, "bench", &bytes, &mut err)?;
        let out = r.map_err(|_| anyhow::anyhow!("generated data failed the checks"))?;
        let mut buf = Vec::new();
        for (s, a) in out.series.iter().zip(&out.analyses) {
            spcfile::output::points_csv(&mut buf, s, a);
        }
        sink.write_all(&buf)?;
        inproc.push(t.elapsed());
    }
    let (best, median) = best_median(&mut inproc);
    println!(
        "in-process parse+compute+CSV: best {:>8.2} ms  median {:>8.2} ms (one thread)",
        ms(best),
        ms(median)
    );

    // 3. The whole process, as an analyst runs it.
    let exe = std::env::current_exe().context("cannot find the mhsip executable")?;
    let mut whole = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let status = Command::new(&exe)
            .arg("spc")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .status()
            .context("cannot start mhsip spc")?;
        whole.push(t.elapsed());
        if !status.success() {
            bail!("mhsip spc failed on the benchmark data");
        }
    }
    let (best, median) = best_median(&mut whole);
    println!(
        "whole process `mhsip spc FILE > /dev/null`: best {:>8.2} ms  median {:>8.2} ms  max {:>8.2} ms",
        ms(best),
        ms(median),
        ms(*whole.iter().max().unwrap_or(&Duration::ZERO))
    );
    if temporary {
        let _ = std::fs::remove_file(&path);
    }
    Ok(())
}

fn default_args(file: PathBuf) -> SpcArgs {
    use clap::Parser;
    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        a: SpcArgs,
    }
    let mut a = Wrap::parse_from(["spc"]).a;
    a.file = Some(file);
    a.threads = 1;
    a
}

fn best_median(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    (times[0], times[times.len() / 2])
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
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

async fn bench_import(rows: usize, runs: usize, database: Option<String>) -> Result<()> {
    let mut firsts = Vec::new();
    let mut seconds = Vec::new();
    for run in 0..runs {
        let (a, b) = bench_import_once(rows, run, database.clone()).await?;
        firsts.push(a);
        seconds.push(b);
    }
    let (b1, m1) = best_median(&mut firsts);
    let (b2, m2) = best_median(&mut seconds);
    println!(
        "summary over {runs} runs: first upload best {:.2} s, median {:.2} s ({:.0} rows/s); re-upload best {:.2} s, median {:.2} s",
        b1.as_secs_f64(),
        m1.as_secs_f64(),
        rows as f64 / m1.as_secs_f64(),
        b2.as_secs_f64(),
        m2.as_secs_f64()
    );
    Ok(())
}

/// Flush the operating system's dirty pages (`sync`), so one timed run does not pay for the
/// writes of the one before.
fn quiet_disk() {
    let _ = Command::new("sync").status();
}

async fn bench_import_once(
    rows: usize,
    run: usize,
    database: Option<String>,
) -> Result<(Duration, Duration)> {
    let dir = std::env::temp_dir().join(format!("mhsip-bench-import-{}-{run}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = database.unwrap_or_else(|| format!("sqlite://{}", dir.join("bench.db").display()));
    let store = store::Store::open(&url).await?;
    let (mut keys, _) = ingest::pseudonym::Pseudonymiser::open(&dir, &store).await?;
    let t = Instant::now();
    let (orgs, wards, ri) = generate_ri_rows(rows);
    if run == 0 {
        println!(
            "mhsip bench import: generated {} rows ({:.0} MB) in {:.2} s",
            rows,
            ri.len() as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
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
            bail!("bench setup failed: {:?}", r.error_lines().first());
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
                checked_at = Some(t.elapsed().as_secs_f64());
            }
        })
        .await?;
        let secs = t.elapsed().as_secs_f64();
        let checked = checked_at.unwrap_or(secs);
        println!(
            "    reading, validating and pseudonymising: {checked:.2} s; writing and committing: {:.2} s",
            secs - checked
        );
        if !r.ok() {
            bail!("bench import failed: {:?}", r.error_lines().first());
        }
        let s = r.summary.unwrap_or_default();
        println!(
            "  run {}, {round}: {} rows ({} new, {} updated) in {:.2} s = {:.0} rows/s",
            run + 1,
            s.rows,
            s.inserted,
            s.updated,
            secs,
            s.rows as f64 / secs
        );
        times.push(t.elapsed());
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((times[0], times[1]))
}

async fn bench_measures(runs: usize, data: &crate::config::DataArgs) -> Result<()> {
    let store = data.open().await?;
    let Some((first, last)) = store.data_range().await? else {
        bail!(
            "no data in {}: run `mhsip demo` first (or pass --data)",
            data.url()
        );
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
    for _ in 0..runs {
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
    let (best, median) = best_median(&mut times);
    println!(
        "mhsip bench measures: {} measures x {} wards = {n_series} series, {n_points} points ({} months): best {:.0} ms, median {:.0} ms (SQL + assembly + SPC)",
        measures.len(),
        n_series / measures.len().max(1),
        q.period.starts_between(q.from, q.to).len(),
        ms(best),
        ms(median)
    );
    store.close().await;
    Ok(())
}
