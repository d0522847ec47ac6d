//! `mhsip demo`: build the demo region into the local database (once), through the same
//! import path as real files.

pub mod datix;
pub mod generate;

use crate::config::DataArgs;
use crate::import_cmd::{open_keys, progress_bar, update_bar};
use anyhow::{Result, bail};
use clap::Args;
use ingest::formats::Kind;
use std::time::Instant;
use store::Store;

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Seed of the generated region (the same seed gives the same data).
    #[arg(long, default_value_t = 20_231_101)]
    pub seed: u64,
    /// Rebuild the demo data even if the database already holds data (deletes the database).
    #[arg(long)]
    pub rebuild: bool,
    /// Do not print the region overview at the end.
    #[arg(long)]
    pub no_summary: bool,
    /// Build the demo (and its accounts) but do not start the web application.
    #[arg(long)]
    pub no_serve: bool,
    #[command(flatten)]
    pub server: crate::serve_cmd::ServerArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

/// Make sure the demo region is in the database; returns the open store.
pub async fn ensure_demo(args: &DemoArgs) -> Result<Store> {
    if args.rebuild && args.data.database_url.is_none() {
        for f in ["mhsip.db", "mhsip.db-wal", "mhsip.db-shm"] {
            let _ = std::fs::remove_file(args.data.data_dir.join(f));
        }
    }
    let store = args.data.open().await?;
    if store.count("wards").await? > 0 {
        eprintln!(
            "The database already holds {} wards; using it (pass --rebuild to start again).",
            store.count("wards").await?
        );
        return Ok(store);
    }
    let started = Instant::now();
    eprintln!("Generating the demo region (seed {})...", args.seed);
    let demo = generate::generate(args.seed);
    let folder = args.data.data_dir.join("demo-files");
    std::fs::create_dir_all(&folder)?;
    let mut keys = open_keys(&args.data, &store).await?;
    for (kind, name, content) in &demo.files {
        let path = folder.join(name);
        std::fs::write(&path, content)?;
        let kind = Kind::parse(kind).map_err(anyhow::Error::msg)?;
        let bar = progress_bar();
        let file_name = path.display().to_string();
        let req = ingest::Request {
            kind,
            file_name: &file_name,
            bytes: content.as_bytes(),
            mapping: None,
            uploaded_by: "demo",
            only_trust: None,
            dry_run: false,
        };
        let report = ingest::import(&store, &mut keys, &req, &mut |p, d, t| {
            update_bar(&bar, p, d, t)
        })
        .await?;
        bar.finish_and_clear();
        if !report.ok() {
            for l in report.error_lines().iter().take(20) {
                eprintln!("{l}");
            }
            bail!("the generated demo file {name} did not import; this is a bug");
        }
        let s = report.summary.unwrap_or_default();
        // Recorded as any other import is (`mhsip import`, the uploads page).
        store
            .audit(
                "demo",
                "upload",
                &format!("{} {name}", kind.as_str()),
                Some(&format!(
                    "upload {}: {} rows, {} new, {} updated",
                    s.upload_id, s.rows, s.inserted, s.updated
                )),
            )
            .await?;
        eprintln!("  {:<28} {:>9} rows", name, s.rows);
    }
    if let Some((_, _, content)) = demo
        .files
        .iter()
        .find(|(k, _, _)| *k == "restrictive_interventions")
    {
        let path = folder.join("datix-export-R9A.csv");
        std::fs::write(&path, datix::export(content, "R9A")?)?;
        store
            .save_mapping(
                datix::MAPPING_NAME,
                "restrictive_interventions",
                &datix::mapping_json(),
            )
            .await?;
        eprintln!(
            "  A Datix-style export to try the upload page with: {} (mapping '{}')",
            path.display(),
            datix::MAPPING_NAME
        );
    }
    eprintln!(
        "Demo region ready: {} trusts, {} wards, five years, in {:.1} s. Planted for you to find:",
        demo.trusts,
        demo.wards,
        started.elapsed().as_secs_f64()
    );
    for p in &demo.planted {
        eprintln!(
            "  - {} from {}: {}",
            p.ward_or_trust,
            domain::dates::iso(p.from),
            p.description
        );
    }
    Ok(store)
}

/// The region at a glance, as a board would read it: one row per trust and key measure, with
/// the latest month, its value, and the Making Data Count variation and assurance readings.
pub async fn print_overview(store: &Store, data: &DataArgs) -> Result<()> {
    use domain::dates::{PeriodKind, date_from_day};
    use domain::measures::find;
    let Some((first, last)) = store.data_range().await? else {
        return Ok(());
    };
    let ids = [
        "ri_rate",
        "ri_prone_rate",
        "pct_incidents_reviewed_with_patient",
        "self_harm_rate",
        "awol_rate",
        "pct_leave_on_time",
        "sexual_safety_rate",
    ];
    let measures: Vec<_> = ids.iter().filter_map(|id| find(id)).collect();
    let q = store::measures::Query {
        level: domain::OrgLevel::Trust,
        period: PeriodKind::Month,
        from: date_from_day(first as i32),
        to: date_from_day(last as i32),
        scope: None,
    };
    let series = store.compute_measures(&q, &measures).await?;
    println!("\nRegion overview (trust level, monthly, Making Data Count rules):\n");
    println!(
        "{:<6} {:<52} {:>10} {:>9}  {:<17} assurance",
        "trust", "measure", "month", "latest", "variation"
    );
    for s in &series {
        let m = measures
            .iter()
            .find(|m| m.id == s.measure)
            .expect("chosen measure");
        let values: Vec<Option<f64>> = s.points.iter().map(|p| p.value).collect();
        let a = spc::analyse(&spc::Series::values(&values), &m.spc_settings())?;
        let latest = s.points.iter().rev().find(|p| p.value.is_some());
        println!(
            "{:<6} {:<52} {:>10} {:>9.2}  {:<17} {}",
            s.org,
            m.title.chars().take(52).collect::<String>(),
            latest
                .map(|p| PeriodKind::Month.label(p.period))
                .unwrap_or_default(),
            latest.and_then(|p| p.value).unwrap_or(f64::NAN),
            a.summary.variation.map(|v| v.as_str()).unwrap_or("-"),
            a.summary.assurance.as_str()
        );
    }
    println!(
        "\nMore: `mhsip measures --list` (the catalogue), `mhsip measures --level ward --summary` (every ward),\n\
         `mhsip measures --level ward --measure ri_prone_rate` (the monthly figures), `mhsip spc FILE --svg DIR` (charts).\n\
         The database is {}.",
        crate::config::redact(&data.url())
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        demo: DemoArgs,
    }

    /// The demo's imports are in the audit log like any other import: one `upload` entry per
    /// generated file, by "demo", with its upload id and counts.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn demo_imports_are_audited() {
        let dir = std::env::temp_dir().join(format!("mhsip-demo-audit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cli = Cli::parse_from([
            "demo",
            "--no-serve",
            "--no-summary",
            "--database",
            &format!("sqlite://{}", dir.join("mhsip.db").display()),
            "--data",
            dir.to_str().unwrap(),
        ]);
        let store = ensure_demo(&cli.demo).await.unwrap();
        let uploads = store.count("uploads").await.unwrap();
        let log = store.audit_log(1000).await.unwrap();
        let audited: Vec<_> = log
            .iter()
            .filter(|a| a.action == "upload" && a.user_name == "demo")
            .collect();
        assert_eq!(audited.len() as i64, uploads, "{log:#?}");
        assert!(
            audited.iter().any(|a| a.target
                == "restrictive_interventions restrictive_interventions.csv"
                && a.detail
                    .as_deref()
                    .is_some_and(|d| d.contains(" new, 0 updated"))),
            "{audited:#?}"
        );
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
