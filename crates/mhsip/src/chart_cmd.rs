//! `mhsip chart`: one measure for one organisation as a Making Data Count SVG chart, straight
//! from the database, with dated annotations and rebasing at a change (journey 3 of the design).

use crate::config::{DataArgs, RangeArgs};
use anyhow::{Context, Result, bail};
use clap::Args;
use domain::OrgLevel;
use domain::dates::{PeriodKind, iso, parse_date};
use domain::measures::find;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(
    after_help = "Example:\n  mhsip chart --measure ri_prone_rate --org R9A-ASH --annotate \"2024-03-01=Safety huddles started\" --rebase 2024-03-01 --out ash.svg"
)]
pub struct ChartArgs {
    /// The measure (see `mhsip measures --list`).
    #[arg(long)]
    pub measure: String,
    /// The organisation: a ward code or an ODS code of a site, trust, ICB or region.
    #[arg(long)]
    pub org: String,
    /// month or week.
    #[arg(long, default_value = "month", value_parser = |s: &str| PeriodKind::parse(s).ok_or("expected month or week"))]
    pub period: PeriodKind,
    /// A dated note on the chart, DATE=TEXT (repeatable), e.g. "2024-03-01=Safety huddles".
    #[arg(long, value_name = "DATE=TEXT")]
    pub annotate: Vec<String>,
    /// Start a new segment (own centre and limits) at these dates.
    #[arg(long, value_delimiter = ',', value_name = "DATE[,DATE...]")]
    pub rebase: Vec<String>,
    /// Compute the limits from the periods before this date only and extend them, to judge the
    /// periods after a change against how things were before it.
    #[arg(long, value_name = "DATE")]
    pub freeze: Option<String>,
    /// Override the measure's target.
    #[arg(long)]
    pub target: Option<f64>,
    /// Where to write the SVG.
    #[arg(long, default_value = "chart.svg")]
    pub out: PathBuf,
    /// Also write the chart's data table: `.csv` or `.xlsx` (by the file's extension).
    #[arg(long, value_name = "FILE")]
    pub table: Option<PathBuf>,
    #[command(flatten)]
    pub range: RangeArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

pub async fn run(args: &ChartArgs) -> Result<ExitCode> {
    let Some(measure) = find(&args.measure) else {
        bail!(
            "unknown measure '{}'; see `mhsip measures --list`",
            args.measure
        )
    };
    let store = args.data.open().await?;
    let (from, to, _) = args.range.resolve(&store).await?;
    let code = args.org.trim().to_ascii_uppercase();
    let level = level_of(&store, &code).await?;
    let q = store::measures::Query {
        level,
        period: args.period,
        from,
        to,
        scope: Some((level, code.clone())),
    };
    let series = store
        .compute_measures(&q, std::slice::from_ref(&measure))
        .await?;
    let Some(s) = series.into_iter().find(|s| s.org == code) else {
        bail!("no data for {code}")
    };
    let mut rebase_at = Vec::new();
    for r in &args.rebase {
        rebase_at.push(parse_date(r).map_err(|e| anyhow::anyhow!("--rebase: {e}"))?);
    }
    let mut extra_notes = Vec::new();
    for a in &args.annotate {
        let (d, text) = a
            .split_once('=')
            .with_context(|| format!("--annotate {a}: expected DATE=TEXT"))?;
        let d = parse_date(d).map_err(|e| anyhow::anyhow!("--annotate: {e}"))?;
        extra_notes.push((d, text.trim().to_string()));
    }
    // Saved annotations (`mhsip annotate`) appear on every chart of their organisation, and
    // rebase it when they say so: the same drawing as the web's chart page.
    let saved = store.annotations(&code, Some(measure.id)).await?;
    let title = format!("{}: {}", code, measure.title);
    let chart = measures::chart::build(&measures::chart::Request {
        measure: &measure,
        series: &s,
        period: args.period,
        title: title.clone(),
        annotations: &saved,
        apply_rebase: true,
        rebase_at: &rebase_at,
        extra_notes: &extra_notes,
        freeze_before: match &args.freeze {
            Some(d) => Some(parse_date(d).map_err(|e| anyhow::anyhow!("--freeze: {e}"))?),
            None => None,
        },
        target: args.target,
        disclosure: None,
    })?;
    std::fs::write(&args.out, &chart.svg)
        .with_context(|| format!("{}: cannot write the chart", args.out.display()))?;
    if let Some(path) = &args.table {
        let xlsx = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
        let bytes = if xlsx {
            measures::chart::xlsx(&chart)?
        } else {
            measures::chart::csv(&chart).into_bytes()
        };
        std::fs::write(path, bytes)
            .with_context(|| format!("{}: cannot write the table", path.display()))?;
        println!("Data table written to {}.", path.display());
    }
    let analysis = &chart.analysis;
    let sum = &analysis.summary;
    println!(
        "{}: {} points, {} segment{}; variation {}, assurance {}. Chart written to {}.",
        title,
        sum.points,
        sum.segments,
        if sum.segments == 1 { "" } else { "s" },
        sum.variation.map(|v| v.as_str()).unwrap_or("none"),
        sum.assurance.as_str(),
        args.out.display()
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Whether a code names a ward or an organisation, and at which level.
async fn level_of(store: &store::Store, code: &str) -> Result<OrgLevel> {
    if store.wards().await?.iter().any(|w| w.code == code) {
        return Ok(OrgLevel::Ward);
    }
    match store
        .organisations()
        .await?
        .into_iter()
        .find(|o| o.code == code)
    {
        Some(o) => OrgLevel::parse(&o.level)
            .with_context(|| format!("{code} has an unknown level {}", o.level)),
        None => bail!("no ward or organisation called {code}"),
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Example:\n  mhsip annotate --org R9A-ASH --date 2024-03-01 --text \"Safety huddles started\" --rebase"
)]
pub struct AnnotateArgs {
    /// The ward or organisation the change was made in.
    #[arg(long)]
    pub org: String,
    /// The day the change started.
    #[arg(long, required_unless_present = "list")]
    pub date: Option<String>,
    /// What was changed, in a few words.
    #[arg(long, required_unless_present = "list")]
    pub text: Option<String>,
    /// Only on this measure's charts (default: every chart of the organisation).
    #[arg(long)]
    pub measure: Option<String>,
    /// Start a new segment at this date (only for a change made on purpose, such as a PDSA test).
    #[arg(long)]
    pub rebase: bool,
    /// List the organisation's annotations instead of adding one.
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub data: DataArgs,
}

pub async fn annotate(args: &AnnotateArgs) -> Result<ExitCode> {
    let store = args.data.open().await?;
    let code = args.org.trim().to_ascii_uppercase();
    level_of(&store, &code).await?;
    if let Some(m) = &args.measure
        && find(m).is_none()
    {
        bail!("unknown measure '{m}'; see `mhsip measures --list`");
    }
    if args.list {
        for a in store.annotations(&code, args.measure.as_deref()).await? {
            println!(
                "{}\t{}\t{}\t{}{}",
                a.id,
                iso(a.date),
                a.measure.as_deref().unwrap_or("all measures"),
                a.text,
                if a.rebase { " (rebase)" } else { "" }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(date), Some(text)) = (&args.date, &args.text) else {
        bail!("--date and --text are needed to add an annotation");
    };
    let date = parse_date(date).map_err(|e| anyhow::anyhow!("--date: {e}"))?;
    let author = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    let id = store
        .add_annotation(
            &code,
            args.measure.as_deref(),
            date,
            text,
            args.rebase,
            &author,
        )
        .await?;
    store
        .audit(
            &author,
            "annotate",
            &code,
            Some(&format!("annotation {id}: {} {}", iso(date), text.trim())),
        )
        .await?;
    println!(
        "Annotation {id} added to {code} on {}{}.",
        iso(date),
        if args.rebase {
            ", rebasing its charts there"
        } else {
            ""
        }
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
