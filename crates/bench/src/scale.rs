//! `mhsip bench scale` (issue 10, item 3): build a region of a given size with the demo's
//! generator through the import path, start the application on it, and time what a national
//! deployment needs: how soon the server answers and has its overview, the overview, first
//! and later views of ward charts, trust and site pages, the inequalities page, the region's
//! weekly chart, an upload until its figures are served, and the process's peak memory.
//! Figures are printed, not asserted: the targets are the issue's, and the machine varies.

use crate::web::{Latency, Running, start};
use crate::{Context, Error, Result, fail};
use std::path::Path;
use std::time::{Duration, Instant};

/// What `bench scale` measured.
pub struct ScaleFigures {
    pub trusts: usize,
    pub wards: usize,
    /// Measured on a region an earlier run built (`--reuse`): `build` is then only the open.
    pub reused: bool,
    pub years: u32,
    /// Rows of every file the demo imported, and the time to generate and import them.
    pub rows: u64,
    pub build: Duration,
    /// From opening the application until it answers, and until its overview is computed.
    pub answers: Duration,
    pub overview_ready: Duration,
    pub overview: Latency,
    /// Ward chart pages: each one's first view, then all of them again.
    pub chart_first: Latency,
    pub chart: Latency,
    pub trust_first: Latency,
    pub trust: Latency,
    pub site_first: Latency,
    pub site: Latency,
    pub inequalities_first: Duration,
    pub inequalities: Latency,
    /// The region's weekly % of inpatients restricted (a weekly measure over every stay).
    pub weekly_region_first: Duration,
    /// The demo's Datix-style export of the first trust: its import, then until the server
    /// serves figures that include it.
    pub upload_rows: u64,
    pub upload_import: Duration,
    /// From the commit until pages serve the uploading trust's new figures (its wards, sites
    /// and its row of the overview), and until every series (the region's too) is recomputed.
    pub upload_trust_served: Duration,
    pub upload_served: Duration,
    /// Peak resident memory (VmHWM) while generating and importing, and from then on (the
    /// server and the benchmark's client; the generated files freed).
    pub build_peak_memory_mb: Option<f64>,
    /// Resident memory when the peak reading starts again (what the freed generator left
    /// mapped: a floor under the server's reading).
    pub resident_after_build_mb: Option<f64>,
    pub peak_memory_mb: Option<f64>,
}

/// Where `bench scale` keeps the region: SQLite in `dir` unless `database` names another
/// (PostgreSQL), and whether a region built there before is measured again as it is.
pub struct Target<'a> {
    pub dir: &'a Path,
    pub database: Option<&'a str>,
    /// Measure what an earlier run built (no build): the server then starts in a fresh
    /// process, as it does in production, and its memory is its own.
    pub reuse: bool,
}

impl Target<'_> {
    fn url(&self) -> String {
        match self.database {
            Some(url) => url.to_string(),
            None => format!("sqlite://{}", self.dir.join("mhsip.db").display()),
        }
    }
}

/// Build the region of `size` (seed `seed`) into a new database (or, with `reuse`, take the
/// one an earlier run built) and measure it; `samples` pages of each kind are timed.
pub async fn run(
    size: demo::Size,
    seed: u64,
    target: &Target<'_>,
    samples: usize,
    on_progress: &mut (dyn FnMut(&str) + Send),
) -> Result<ScaleFigures> {
    size.check().map_err(|e| Error::Msg(e.to_string()))?;
    let dir = target.dir;
    std::fs::create_dir_all(dir)?;
    let t = Instant::now();
    let (store, rows, datix_export, build_peak_mb) = if target.reuse {
        let store = store::Store::open(&target.url()).await?;
        if store.data_range().await?.is_none() {
            return fail(
                "--reuse: the database holds no region yet; run bench scale without --reuse first",
            );
        }
        on_progress("measuring the region built before (--reuse)");
        let rows = store
            .uploads(None, i64::MAX)
            .await?
            .iter()
            .map(|u| u.rows_total.max(0) as u64)
            .sum();
        (store, rows, built_datix_export(dir)?, None)
    } else {
        if target.database.is_none() && dir.join("mhsip.db").exists() {
            return fail(format!(
                "{} already holds a database; bench scale builds its own (pass an empty folder, or --reuse to measure it again)",
                dir.display()
            ));
        }
        let store = store::Store::open(&target.url()).await?;
        if target.database.is_some() && store.data_range().await?.is_some() {
            return fail(
                "the database already holds data; bench scale builds its own (pass an empty database, or --reuse to measure it again)",
            );
        }
        on_progress("generating the region");
        let region = demo::generate_region(size, seed).map_err(|e| Error::Msg(e.to_string()))?;
        let (mut keys, _) = ingest::pseudonym::Pseudonymiser::open(dir, &store).await?;
        let mut rows = 0u64;
        let loaded = demo::load(
            &store,
            &mut keys,
            &region,
            &dir.join("demo-files"),
            &mut |step| {
                if let demo::Step::Imported { name, summary } = step {
                    rows += summary.rows;
                    on_progress(&format!("imported {name}: {} rows", summary.rows));
                }
            },
        )
        .await
        .map_err(load_error)?;
        drop(keys);
        // The generated files are no longer needed: free them, and start the peak-memory
        // reading again, so that what is reported is the server's (with the benchmark's small
        // client).
        drop(region);
        let peak = peak_memory_mb();
        (store, rows, loaded.datix_export, peak)
    };
    let build = t.elapsed();
    reset_peak_memory();
    let resident_after_build_mb = resident_memory_mb();
    let trusts: Vec<String> = codes(&store, "trust").await?;
    let sites: Vec<String> = codes(&store, "site").await?;
    let wards: Vec<String> = store.wards().await?.into_iter().map(|w| w.code).collect();
    let region_code = codes(&store, "region").await?.into_iter().next();
    on_progress("starting the application");
    let Running {
        state,
        addr,
        cookie,
        server,
        started: answers,
        warmed: overview_ready,
    } = start(store, dir).await?;
    let n = samples.max(1);
    let time = |paths: Vec<String>| {
        let cookie = cookie.clone();
        async move { crate::web::sequential(addr, &cookie, &paths, paths.len()).await }
    };
    on_progress("timing pages");
    let overview = Latency::of(&time(vec!["/".to_string(); n]).await?);
    // Ward charts spread over the region, so that the first views fall on trusts not yet read.
    let pick = |all: &[String], k: usize| -> Vec<String> {
        let step = (all.len() / k.max(1)).max(1);
        all.iter().step_by(step).take(k).cloned().collect()
    };
    let chart_paths: Vec<String> = pick(&wards, n)
        .iter()
        .map(|w| format!("/chart/{w}/ri_rate"))
        .collect();
    let chart_first = Latency::of(&time(chart_paths.clone()).await?);
    let chart = Latency::of(&time(chart_paths).await?);
    let trust_paths: Vec<String> = pick(&trusts, n)
        .iter()
        .map(|t| format!("/org/{t}"))
        .collect();
    let trust_first = Latency::of(&time(trust_paths.clone()).await?);
    let trust = Latency::of(&time(trust_paths).await?);
    let site_paths: Vec<String> = pick(&sites, n)
        .iter()
        .map(|s| format!("/org/{s}"))
        .collect();
    let site_first = Latency::of(&time(site_paths.clone()).await?);
    let site = Latency::of(&time(site_paths).await?);
    let first_trust = trusts.first().context("the region has no trust")?.clone();
    let inequalities_path = format!("/inequalities?measure=ri_rate&org={first_trust}");
    let t = Instant::now();
    time(vec![inequalities_path.clone()]).await?;
    let inequalities_first = t.elapsed();
    let inequalities = Latency::of(&time(vec![inequalities_path; n.min(20)]).await?);
    let weekly = format!(
        "/chart/{}/pct_inpatients_restricted?period=week",
        region_code.context("the region has no region organisation")?
    );
    let t = Instant::now();
    time(vec![weekly]).await?;
    let weekly_region_first = t.elapsed();

    on_progress("uploading the first trust's Datix-style export");
    let (upload_rows, upload_import, upload_trust_served, upload_served) = match &datix_export {
        Some((path, mapping)) => {
            // The export is of one trust's wards, named in its file name (datix-export-R9A.csv).
            let trust = path
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.strip_prefix("datix-export-"))
                .context("the Datix-style export's trust")?
                .to_string();
            upload(&state, path, mapping, &trust).await?
        }
        None => (0, Duration::ZERO, Duration::ZERO, Duration::ZERO),
    };
    server.abort();
    Ok(ScaleFigures {
        trusts: trusts.len(),
        wards: wards.len(),
        reused: target.reuse,
        years: size.years,
        rows,
        build,
        answers,
        overview_ready,
        overview,
        chart_first,
        chart,
        trust_first,
        trust,
        site_first,
        site,
        inequalities_first,
        inequalities,
        weekly_region_first,
        upload_rows,
        upload_import,
        upload_trust_served,
        upload_served,
        build_peak_memory_mb: build_peak_mb,
        resident_after_build_mb,
        peak_memory_mb: peak_memory_mb(),
    })
}

/// A failed demo load with the problems it met (the first few), not only its summary.
fn load_error(e: demo::LoadError) -> Error {
    match &e {
        demo::LoadError::NotImported { errors, .. } => Error::Msg(format!(
            "{e}: {}",
            errors
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        )),
        _ => Error::Msg(e.to_string()),
    }
}

/// The Datix-style export an earlier run wrote (demo-files/datix-export-<trust>.csv), with the
/// demo's saved mapping for it.
fn built_datix_export(dir: &Path) -> Result<Option<(std::path::PathBuf, &'static str)>> {
    let folder = dir.join("demo-files");
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return Ok(None);
    };
    let mut found: Vec<std::path::PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("datix-export-") && n.ends_with(".csv"))
        })
        .collect();
    found.sort();
    Ok(found
        .into_iter()
        .next()
        .map(|p| (p, demo::datix::MAPPING_NAME)))
}

async fn codes(store: &store::Store, level: &str) -> Result<Vec<String>> {
    Ok(store
        .organisations()
        .await?
        .into_iter()
        .filter(|o| o.level == level)
        .map(|o| o.code)
        .collect())
}

/// Import the Datix-style export with its saved mapping, as an uploader of `trust` would, and
/// time until the server serves the trust's figures that include it, and every figure.
async fn upload(
    state: &web::AppState,
    path: &Path,
    mapping: &str,
    trust: &str,
) -> Result<(u64, Duration, Duration, Duration)> {
    let bytes = std::fs::read(path)?;
    let store = state.store();
    let row = store
        .mapping(mapping)
        .await?
        .context("the demo's saved Datix mapping")?;
    let mapping = ingest::mapping::Mapping::from_json(&row.definition).map_err(Error::Msg)?;
    let dir = path
        .parent()
        .and_then(Path::parent)
        .context("the data folder")?;
    let (mut keys, _) = ingest::pseudonym::Pseudonymiser::open(dir, store).await?;
    let t = Instant::now();
    let file_name = path.display().to_string();
    let report = ingest::import(
        store,
        &mut keys,
        &ingest::Request {
            kind: ingest::formats::Kind::RestrictiveInterventions,
            file_name: &file_name,
            bytes: &bytes,
            mapping: Some(&mapping),
            uploaded_by: "bench",
            only_trust: Some(trust),
            dry_run: false,
        },
        &mut |_, _, _| {},
    )
    .await?;
    if !report.ok() {
        let lines = report.error_lines();
        return fail(format!(
            "the benchmark upload failed ({} problems): {}",
            lines.len(),
            lines.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
        ));
    }
    let import = t.elapsed();
    let t = Instant::now();
    state
        .serving_newest()
        .await
        .map_err(|e| Error::Msg(e.to_string()))?;
    let trust_served = t.elapsed();
    state
        .settled()
        .await
        .map_err(|e| Error::Msg(e.to_string()))?;
    Ok((report.rows_read, import, trust_served, t.elapsed()))
}

/// Start this process's peak resident memory reading again from its current size (Linux:
/// writing 5 to clear_refs resets VmHWM). Elsewhere nothing happens and the peak stays whole.
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// VmHWM of this process, in MB (Linux).
fn peak_memory_mb() -> Option<f64> {
    status_mb("VmHWM:")
}

/// VmRSS of this process, in MB (Linux).
fn resident_memory_mb() -> Option<f64> {
    status_mb("VmRSS:")
}

/// A memory line of /proc/self/status, in MB.
fn status_mb(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}
