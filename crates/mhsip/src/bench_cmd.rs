//! `mhsip bench`: reproducible speed figures. The `bench` crate generates the data and measures;
//! this module parses the options and prints the figures.

use anyhow::{Result, bail};
use bench::{Timing, ms};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

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
    /// FREED (issue 14): import N generated referrals of one service and their contacts into a
    /// fresh SQLite database (or --database), then time the service page (its waiting list)
    /// and its FREED measures page one request at a time.
    Freed {
        #[arg(long, default_value_t = 100_000)]
        referrals: usize,
        /// Requests timed for the service page (p50, p95).
        #[arg(long, default_value_t = 100)]
        requests: usize,
        /// Database URL (default: a new SQLite file in a temporary folder).
        #[arg(long)]
        database: Option<String>,
    },
    /// Build a region of the given size (default: national, 50 trusts of 40 wards, five years)
    /// into a new SQLite database through the import path, start the application on it and
    /// time what a national deployment needs (issue 10): start, overview, charts, trust, site
    /// and inequalities pages, the region's weekly chart, an upload until its figures are
    /// served, peak memory.
    Scale {
        #[arg(long, default_value_t = 50)]
        trusts: usize,
        #[arg(long, default_value_t = 40)]
        wards_per_trust: usize,
        #[arg(long, default_value_t = 5)]
        years: u32,
        #[arg(long, default_value_t = 20_231_101)]
        seed: u64,
        /// Pages of each kind timed.
        #[arg(long, default_value_t = 20)]
        samples: usize,
        /// An empty folder for the database (default: a temporary folder, removed afterwards).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Build into this database instead (postgres://USER:PASS@HOST:PORT/DB, empty; the
        /// pseudonymisation key and generated files stay in --data).
        #[arg(long)]
        database: Option<String>,
        /// Measure the region an earlier run built in --data (or --database) again, without
        /// building: the server starts in a fresh process, so its memory is its own.
        #[arg(long, requires = "data")]
        reuse: bool,
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

pub fn run(args: &BenchArgs) -> Result<()> {
    match &args.what {
        BenchWhat::SpcData {
            series,
            points,
            seed,
        } => {
            std::io::stdout()
                .lock()
                .write_all(&bench::generate_spc_input(*series, *points, *seed))?;
            Ok(())
        }
        BenchWhat::Spc {
            series,
            points,
            runs,
            data,
        } => spc(*series, *points, *runs, data.clone()),
        BenchWhat::Import {
            rows,
            runs,
            database,
        } => crate::runtime()?.block_on(import(*rows, *runs, database.clone())),
        BenchWhat::Web {
            requests,
            connections,
            seconds,
            data,
        } => crate::runtime()?.block_on(web(data, *requests, *connections, *seconds)),
        BenchWhat::Measures { runs, data } => crate::runtime()?.block_on(measures(*runs, data)),
        BenchWhat::Freed {
            referrals,
            requests,
            database,
        } => crate::runtime()?.block_on(freed(*referrals, *requests, database.clone())),
        BenchWhat::Scale {
            trusts,
            wards_per_trust,
            years,
            seed,
            samples,
            data,
            database,
            reuse,
        } => {
            let size = demo::Size {
                trusts: *trusts,
                wards_per_trust: *wards_per_trust,
                years: *years,
            };
            crate::runtime()?.block_on(scale(
                size,
                *seed,
                *samples,
                data.clone(),
                database.as_deref(),
                *reuse,
            ))
        }
    }
}

async fn scale(
    size: demo::Size,
    seed: u64,
    samples: usize,
    data: Option<PathBuf>,
    database: Option<&str>,
    reuse: bool,
) -> Result<()> {
    let (dir, temporary) = match data {
        Some(d) => (d, false),
        None => (
            std::env::temp_dir().join(format!("mhsip-bench-scale-{}", std::process::id())),
            true,
        ),
    };
    let started = std::time::Instant::now();
    // The server's warnings (and, with MHSIP_LOG=web=debug, what each series costs).
    crate::serve_cmd::init_logging();
    let target = bench::scale::Target {
        dir: &dir,
        database,
        reuse,
    };
    let result = bench::scale::run(size, seed, &target, samples, &mut |step| {
        eprintln!("[{:>6.1} s] {step}", started.elapsed().as_secs_f64());
    })
    .await;
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let f = result?;
    let lat = |l: &bench::web::Latency| {
        format!(
            "p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({} requests)",
            ms(l.p50),
            ms(l.p95),
            ms(l.max),
            l.requests
        )
    };
    println!(
        "mhsip bench scale: {} trusts, {} wards, {} years, {}, this machine",
        f.trusts,
        f.wards,
        f.years,
        if database.is_some_and(|d| d.starts_with("postgres")) {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    if f.reused {
        println!(
            "  the region an earlier run built ({} rows uploaded), measured again in a new process",
            f.rows
        );
    } else {
        println!(
            "  built through the import path: {} rows in {:.1} s ({:.0} rows/s)",
            f.rows,
            f.build.as_secs_f64(),
            f.rows as f64 / f.build.as_secs_f64().max(1e-9)
        );
    }
    println!(
        "  server answers {:.2} s after it opens (target < 5 s); region overview computed after {:.1} s",
        f.answers.as_secs_f64(),
        f.overview_ready.as_secs_f64()
    );
    println!(
        "  region overview: {} (target p95 < 100 ms)",
        lat(&f.overview)
    );
    println!(
        "  ward chart, first view: {} (target < 1 s)",
        lat(&f.chart_first)
    );
    println!(
        "  ward chart, after its first view: {} (target p95 < 50 ms)",
        lat(&f.chart)
    );
    println!(
        "  trust page, first view: {} (target < 1 s)",
        lat(&f.trust_first)
    );
    println!(
        "  trust page, after: {} (target p95 < 50 ms)",
        lat(&f.trust)
    );
    println!(
        "  site page, first view: {} (target < 1 s)",
        lat(&f.site_first)
    );
    println!("  site page, after: {} (target p95 < 50 ms)", lat(&f.site));
    println!(
        "  inequalities page: first view {:.0} ms, then {} (target p95 < 300 ms)",
        ms(f.inequalities_first),
        lat(&f.inequalities)
    );
    println!(
        "  region's weekly % of inpatients restricted, first view: {:.0} ms",
        ms(f.weekly_region_first)
    );
    println!(
        "  an upload of {} rows: imported in {:.1} s; its trust's figures served {:.1} s after the commit (target < 5 s); the region's and ICBs' {:.1} s after it (served as they were meanwhile)",
        f.upload_rows,
        f.upload_import.as_secs_f64(),
        f.upload_trust_served.as_secs_f64(),
        f.upload_served.as_secs_f64()
    );
    match (f.build_peak_memory_mb, f.peak_memory_mb) {
        (None, Some(serve)) => println!(
            "  peak memory: {serve:.0} MB, the server with the benchmark's client in a fresh process (target for the server < 1 GB)"
        ),
        (Some(build), Some(serve)) => println!(
            "  peak memory: {build:.0} MB while generating and importing; {serve:.0} MB from then on, the server with the benchmark's client, of which {:.0} MB was still resident from the build (target for the server < 1 GB)",
            f.resident_after_build_mb.unwrap_or(0.0)
        ),
        _ => println!("  peak memory: not available on this system"),
    }
    Ok(())
}

async fn freed(referrals: usize, requests: usize, database: Option<String>) -> Result<()> {
    let f = bench::freed::run(referrals, requests, database).await?;
    let p = |v: &[std::time::Duration], q: f64| ms(bench::freed::percentile(v, q));
    println!(
        "mhsip bench freed: {} referrals imported in {:.2} s, their {} contacts in {:.2} s: {:.2} s in all (target: under 2 s on a release build)",
        f.referrals,
        f.import_referrals.as_secs_f64(),
        f.contacts,
        f.import_contacts.as_secs_f64(),
        (f.import_referrals + f.import_contacts).as_secs_f64()
    );
    println!(
        "service page ({} waiting), {} requests: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (target: p95 under 30 ms)",
        f.waiting,
        f.service_page.len(),
        p(&f.service_page, 0.5),
        p(&f.service_page, 0.95),
        p(&f.service_page, 1.0)
    );
    println!(
        "FREED measures page, {} requests: p50 {:.1} ms, max {:.1} ms",
        f.measures_page.len(),
        p(&f.measures_page, 0.5),
        p(&f.measures_page, 1.0)
    );
    Ok(())
}

fn spc(series: usize, points: usize, runs: usize, data: Option<PathBuf>) -> Result<()> {
    let (path, temporary) = match data {
        Some(p) => (p, false),
        None => (
            std::env::temp_dir().join(format!(
                "mhsip-bench-spc-{series}x{points}-{}.csv",
                std::process::id()
            )),
            true,
        ),
    };
    let exe = std::env::current_exe()
        .map_err(|e| anyhow::anyhow!("cannot find the mhsip executable: {e}"))?;
    let total_points = series * points;
    let f = bench::spc(series, points, runs, &path, &exe);
    if temporary {
        let _ = std::fs::remove_file(&path);
    }
    let f = f?;
    println!(
        "mhsip bench spc: {series} series x {points} points = {total_points} points ({:.1} MB CSV at {})",
        f.csv_bytes as f64 / 1e6,
        path.display()
    );
    println!(
        "machine: {} logical cores available",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let Timing { best, median, .. } = f.engine;
    println!(
        "engine (1 core, XmR, MDC):   best {:>8.2} ms  median {:>8.2} ms  = {:.2} M points/s (best), {:.2} M points/s (median)",
        ms(best),
        ms(median),
        total_points as f64 / best.as_secs_f64() / 1e6,
        total_points as f64 / median.as_secs_f64() / 1e6
    );
    println!(
        "in-process parse+compute+CSV: best {:>8.2} ms  median {:>8.2} ms (one thread)",
        ms(f.in_process.best),
        ms(f.in_process.median)
    );
    println!(
        "whole process `mhsip spc FILE > /dev/null`: best {:>8.2} ms  median {:>8.2} ms  max {:>8.2} ms",
        ms(f.whole_process.best),
        ms(f.whole_process.median),
        ms(f.whole_process.max)
    );
    Ok(())
}

async fn import(rows: usize, runs: usize, database: Option<String>) -> Result<()> {
    let f = bench::import(rows, runs, database, &mut |event| match event {
        bench::ImportEvent::Generated { rows, bytes, took } => println!(
            "mhsip bench import: generated {} rows ({:.0} MB) in {:.2} s",
            rows,
            bytes as f64 / 1e6,
            took.as_secs_f64()
        ),
        bench::ImportEvent::Upload {
            run,
            round,
            checked,
            took,
            summary: s,
        } => {
            let secs = took.as_secs_f64();
            let checked = checked.as_secs_f64();
            println!(
                "    reading, validating and pseudonymising: {checked:.2} s; writing and committing: {:.2} s",
                secs - checked
            );
            println!(
                "  run {}, {round}: {} rows ({} new, {} updated) in {:.2} s = {:.0} rows/s",
                run + 1,
                s.rows,
                s.inserted,
                s.updated,
                secs,
                s.rows as f64 / secs
            );
        }
    })
    .await?;
    println!(
        "summary over {} runs: first upload best {:.2} s, median {:.2} s ({:.0} rows/s); re-upload best {:.2} s, median {:.2} s",
        f.runs,
        f.first.best.as_secs_f64(),
        f.first.median.as_secs_f64(),
        f.rows as f64 / f.first.median.as_secs_f64(),
        f.again.best.as_secs_f64(),
        f.again.median.as_secs_f64()
    );
    Ok(())
}

async fn measures(runs: usize, data: &crate::config::DataArgs) -> Result<()> {
    let store = data.open().await?;
    let f = bench::measures(&store, runs).await?;
    store.close().await;
    let Some(f) = f else {
        bail!(
            "no data in {}: run `mhsip demo` first (or pass --data)",
            data.url()
        );
    };
    println!(
        "mhsip bench measures: {} measures x {} wards = {} series, {} points ({} months): best {:.0} ms, median {:.0} ms (SQL + assembly + SPC)",
        f.measures,
        f.series / f.measures.max(1),
        f.series,
        f.points,
        f.months,
        ms(f.timing.best),
        ms(f.timing.median)
    );
    Ok(())
}

async fn web(
    data: &crate::config::DataArgs,
    requests: usize,
    connections: usize,
    seconds: u64,
) -> Result<()> {
    if data.database_url.is_some() {
        bail!("bench web copies the demo's SQLite file; it does not run on a database URL");
    }
    let f = bench::web::run(&data.data_dir, requests.max(1), connections.max(1), seconds).await?;
    println!(
        "mhsip bench web: demo region, {} wards; server start to overview computed {:.0} ms; first pass over {} ward chart pages {:.0} ms",
        f.wards,
        ms(f.first_overview),
        f.chart_pages,
        ms(f.first_pass)
    );
    println!(
        "  region overview (every trust and measure, SPC), {} requests one at a time: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (target p95 < 100 ms)",
        f.overview.requests,
        ms(f.overview.p50),
        ms(f.overview.p95),
        ms(f.overview.max)
    );
    println!(
        "  ward chart page, {} requests one at a time: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (target p95 < 30 ms)",
        f.charts.requests,
        ms(f.charts.p50),
        ms(f.charts.p95),
        ms(f.charts.max)
    );
    for (what, l, target) in [
        (
            "quality improvement programme view (/qi: every project, its suggested score and its levels by month)",
            &f.qi_view,
            "target p95 < 50 ms",
        ),
        (
            "a QI project's page (/qi/1)",
            &f.qi_project,
            "target p95 < 50 ms",
        ),
        (
            "the QI projects API (/api/qi/projects)",
            &f.qi_api,
            "target p95 < 50 ms",
        ),
    ] {
        println!(
            "  {what}, {} requests one at a time: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({target})",
            l.requests,
            ms(l.p50),
            ms(l.p95),
            ms(l.max)
        );
    }
    println!(
        "  trust board report as PDF, {} trusts in turn, {} requests: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms (target < 1 s)",
        f.trusts,
        f.board_pdf.requests,
        ms(f.board_pdf.p50),
        ms(f.board_pdf.p95),
        ms(f.board_pdf.max)
    );
    let l = &f.load;
    println!(
        "  ward chart pages under load, {} connections for {} s: {} requests, {:.0} requests/s, {} errors, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, {:.0} MB/s (target >= 500 requests/s, no errors)",
        l.connections,
        l.seconds,
        l.requests,
        l.per_second,
        l.errors,
        ms(l.p50),
        ms(l.p95),
        ms(l.p99),
        l.megabytes_per_second
    );
    match &f.during_upload {
        Ok(u) => {
            let l = &u.load;
            println!(
                "  ward chart pages under load while an upload of {} rows is imported ({:.0} ms) and the figures recomputed ({:.0} ms after the commit), {} connections for {} s: {} requests, {:.0} requests/s, {} errors, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target p99 < 100 ms)",
                u.rows,
                ms(u.import),
                ms(u.recomputed),
                l.connections,
                l.seconds,
                l.requests,
                l.per_second,
                l.errors,
                ms(l.p50),
                ms(l.p95),
                ms(l.p99),
                ms(l.max)
            );
        }
        Err(export) => println!(
            "  (no {} in the data folder: the load during an upload is not measured)",
            export.display()
        ),
    }
    if f.errors() > 0 {
        bail!("{} requests failed under load", f.errors());
    }
    Ok(())
}
