//! `mhsip import` and `mhsip mapping`: uploads from the command line, with a progress bar,
//! a dry run that lists every failing row, and a summary.

use crate::config::DataArgs;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use ingest::formats::Kind;
use ingest::mapping::Mapping;
use ingest::pseudonym::{KeyStatus, Pseudonymiser};
use ingest::{Phase, Report, Request};
use std::path::PathBuf;
use std::process::ExitCode;
use store::Store;

#[derive(Args, Debug)]
#[command(
    after_help = "Kinds: organisations, wards, bed_days, patients, ward_stays, restrictive_interventions, incidents, leave, awol, survey;\n\
FREED: freed_services, freed_referrals, freed_contacts, freed_pauses, freed_discharges (services first).\n\
Formats are described in docs/formats.md. Upload organisations, then wards, then the rest.\n\n\
Examples:\n  mhsip import --kind wards wards.csv\n  mhsip import --kind restrictive_interventions --mapping rw4-datix export.xlsx --dry-run"
)]
pub struct ImportArgs {
    /// What the file holds.
    #[arg(long, value_parser = |s: &str| Kind::parse(s))]
    pub kind: Kind,
    /// The file: CSV (any common encoding and delimiter) or Excel.
    pub file: PathBuf,
    /// A saved column mapping (see `mhsip mapping`).
    #[arg(long)]
    pub mapping: Option<String>,
    /// Check everything and report what would be imported, without changing the database.
    #[arg(long)]
    pub dry_run: bool,
    /// Refuse rows for wards of other trusts.
    #[arg(long, value_name = "TRUST")]
    pub only_trust: Option<String>,
    /// Recorded as the uploader.
    #[arg(long, env = "USER", default_value = "cli")]
    pub user: String,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Args, Debug)]
pub struct MappingArgs {
    #[command(subcommand)]
    pub action: MappingAction,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Subcommand, Debug)]
pub enum MappingAction {
    /// Save (or replace) a mapping from a JSON file (see docs/formats.md).
    Save { file: PathBuf },
    /// List saved mappings.
    List,
    /// Print a saved mapping as JSON.
    Show { name: String },
}

/// Open the deployment's pseudonymisation key, saying so loudly when a new one is made.
pub async fn open_keys(data: &DataArgs, store: &Store) -> Result<Pseudonymiser> {
    let (keys, status) = Pseudonymiser::open(&data.data_dir, store).await?;
    if let KeyStatus::Created(path) = status {
        eprintln!(
            "A new pseudonymisation key was created at {}.\nBack it up with the database: without it, later uploads cannot be linked to the patients held.",
            path.display()
        );
    }
    Ok(keys)
}

pub async fn run_import(args: &ImportArgs) -> Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("{}: cannot read the file", args.file.display()))?;
    let store = args.data.open().await?;
    let mapping = match &args.mapping {
        Some(name) => {
            let row = store.mapping(name).await?.with_context(|| {
                format!("no saved mapping called '{name}'; see `mhsip mapping list`")
            })?;
            Some(Mapping::from_json(&row.definition).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
    let mut keys = open_keys(&args.data, &store).await?;
    let file_name = args.file.display().to_string();
    let bar = progress_bar();
    let req = Request {
        kind: args.kind,
        file_name: &file_name,
        bytes: &bytes,
        mapping: mapping.as_ref(),
        uploaded_by: &args.user,
        only_trust: args.only_trust.as_deref(),
        dry_run: args.dry_run,
    };
    let report = ingest::import(&store, &mut keys, &req, &mut |phase, done, total| {
        update_bar(&bar, phase, done, total)
    })
    .await?;
    bar.finish_and_clear();
    print_report(&report);
    if let Some(summary) = report.summary.as_ref().filter(|s| s.committed) {
        let detail = format!(
            "upload {}: {} rows, {} new, {} updated",
            summary.upload_id, summary.rows, summary.inserted, summary.updated
        );
        store
            .audit(
                &args.user,
                "upload",
                &format!("{} {}", args.kind.as_str(), file_name),
                Some(&detail),
            )
            .await?;
    }
    store.close().await;
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(1);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>9} [{bar:40}] {percent:>3}% {elapsed_precise} (about {eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

pub fn update_bar(bar: &ProgressBar, phase: Phase, done: u64, total: u64) {
    bar.set_length(total.max(1));
    bar.set_position(done);
    bar.set_message(match phase {
        Phase::Checking => "checking",
        Phase::Writing => "writing",
    });
}

/// Errors to stderr (`FILE:LINE:COLUMN: reason`), the summary to stdout.
pub fn print_report(r: &Report) {
    for w in &r.warnings {
        eprintln!("warning: {}: {w}", r.file_name);
    }
    if !r.ok() {
        for line in r.error_lines() {
            eprintln!("{line}");
        }
        if r.more_errors > 0 {
            eprintln!("... and {} more problems not listed", r.more_errors);
        }
        eprintln!(
            "{}: {} rows read; nothing was imported because of the problems above.",
            r.file_name, r.rows_read
        );
        return;
    }
    let Some(s) = &r.summary else { return };
    let trusts: Vec<String> = r
        .by_trust
        .iter()
        .map(|(t, n)| format!("{t}: {n}"))
        .collect();
    let outcome = if r.dry_run {
        "Dry run: nothing was changed.".to_string()
    } else {
        format!("Upload {} saved.", s.upload_id)
    };
    println!(
        "{}: {} ({}), {} rows: {} new, {} updated{}. {outcome}",
        r.file_name,
        r.kind,
        r.format,
        s.rows,
        s.inserted,
        s.updated,
        if trusts.is_empty() {
            String::new()
        } else {
            format!(" [{}]", trusts.join(", "))
        },
    );
}

pub async fn run_mapping(args: &MappingArgs) -> Result<ExitCode> {
    let store = args.data.open().await?;
    match &args.action {
        MappingAction::Save { file } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("{}: cannot read the mapping", file.display()))?;
            let m = Mapping::from_json(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let kind = m
                .check()
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            store
                .save_mapping(&m.name, kind.as_str(), &m.to_json())
                .await?;
            println!("Saved mapping '{}' for {} files.", m.name, kind.as_str());
        }
        MappingAction::List => {
            for m in store.mappings().await? {
                println!("{}\t{}\t{}", m.name, m.kind, m.updated_at);
            }
        }
        MappingAction::Show { name } => match store.mapping(name).await? {
            Some(m) => println!("{}", m.definition),
            None => bail!("no saved mapping called '{name}'"),
        },
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
