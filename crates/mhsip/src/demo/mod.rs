//! `mhsip demo`: build the demo region into the local database (once), through the same
//! import path as real files.

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
        eprintln!("  {:<28} {:>9} rows", name, s.rows);
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
