//! `mhsip demo`: build the demo region into the local database (once), through the same
//! import path as real files. The region is generated and loaded by the `demo` crate; this
//! module parses the options and prints.

use crate::config::DataArgs;
use crate::import_cmd::{open_keys, progress_bar, update_bar};
use anyhow::Result;
use clap::Args;
use std::time::Instant;
use store::Store;

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Seed of the generated region (the same seed gives the same data).
    #[arg(long, default_value_t = 20_231_101)]
    pub seed: u64,
    /// Trusts in the region (the first six are the demo's named trusts, R9A-R9F).
    #[arg(long, default_value_t = 6, value_name = "N")]
    pub trusts: usize,
    /// Wards in each trust.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub wards_per_trust: usize,
    /// Years of data, ending October 2026.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub years: u32,
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
    let size = demo::Size {
        trusts: args.trusts,
        wards_per_trust: args.wards_per_trust,
        years: args.years,
    };
    size.check()?;
    let store = args.data.open().await?;
    if store.count("wards").await? > 0 {
        eprintln!(
            "The database already holds {} wards; using it (pass --rebuild to start again).",
            store.count("wards").await?
        );
        return Ok(store);
    }
    let started = Instant::now();
    eprintln!(
        "Generating the demo region (seed {}, {} trusts of {} wards, {})...",
        args.seed,
        size.trusts,
        size.wards_per_trust,
        years(size.years)
    );
    let demo = demo::generate_region(size, args.seed)?;
    let folder = args.data.data_dir.join("demo-files");
    let mut keys = open_keys(&args.data, &store).await?;
    let mut bar = progress_bar();
    let loaded = demo::load(&store, &mut keys, &demo, &folder, &mut |step| match step {
        demo::Step::Progress(p, d, t) => update_bar(&bar, p, d, t),
        demo::Step::Imported { name, summary } => {
            bar.finish_and_clear();
            eprintln!("  {:<28} {:>9} rows", name, summary.rows);
            bar = progress_bar();
        }
    })
    .await;
    bar.finish_and_clear();
    let loaded = match loaded {
        Err(demo::LoadError::NotImported { name, errors }) => {
            for l in errors.iter().take(20) {
                eprintln!("{l}");
            }
            anyhow::bail!("the generated demo file {name} did not import; this is a bug");
        }
        other => other?,
    };
    if let Some((path, mapping)) = &loaded.datix_export {
        eprintln!(
            "  A Datix-style export to try the upload page with: {} (mapping '{mapping}')",
            path.display(),
        );
    }
    eprintln!(
        "Demo region ready: {} trusts, {} wards, {}, in {:.1} s. Planted for you to find:",
        demo.trusts,
        demo.wards,
        years(size.years),
        started.elapsed().as_secs_f64()
    );
    for p in demo.planted.iter().chain(&demo.programme.planted) {
        eprintln!(
            "  - {} from {}: {}",
            p.ward_or_trust,
            domain::dates::iso(p.from),
            p.description
        );
    }
    Ok(store)
}

/// "one year", "five years", "12 years".
fn years(n: u32) -> String {
    match n {
        1 => "one year".into(),
        5 => "five years".into(),
        n => format!("{n} years"),
    }
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
    // The same summary as the overview, the API and `mhsip measures --summary`: saved
    // annotations rebase where they say so.
    let notes = store.all_annotations().await?;
    println!("\nRegion overview (trust level, monthly, Making Data Count rules):\n");
    println!(
        "{:<6} {:<36} {:>7} {:>10}  {:<17} assurance",
        "trust", "measure", "month", "latest", "variation"
    );
    for s in &series {
        let m = measures
            .iter()
            .find(|m| m.id == s.measure)
            .expect("chosen measure");
        let org_notes = notes
            .get(&s.org)
            .map(|n| measures::summary::notes_for(n, m.id))
            .unwrap_or_default();
        let sum = measures::summary::summarise(m, s, PeriodKind::Month, &org_notes, None)?;
        println!(
            "{:<6} {:<36} {:>7} {:>10}  {:<17} {}",
            s.org,
            m.id,
            sum.latest_date
                .map(|d| domain::dates::iso(d)[..7].to_string())
                .unwrap_or_default(),
            sum.latest_value
                .map(|v| format!("{v:.3}"))
                .unwrap_or_else(|| "-".into()),
            sum.variation.map(|v| v.as_str()).unwrap_or("-"),
            sum.assurance.as_str()
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
