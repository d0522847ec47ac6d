//! `mhsip completeness`: wards with missing months or with far fewer events than their bed days
//! and their own history make likely, so under-reporting is seen before wards are compared.

use crate::config::DataArgs;
use anyhow::{Result, bail};
use clap::Args;
use domain::OrgLevel;
use domain::dates::{PeriodKind, date_from_day, parse_date};
use std::collections::BTreeMap;
use std::process::ExitCode;
use store::completeness::Status;

#[derive(Args, Debug)]
pub struct CompletenessArgs {
    /// First day (default: the first day with bed days).
    #[arg(long)]
    pub from: Option<String>,
    /// Last day (default: the last day with bed days).
    #[arg(long)]
    pub to: Option<String>,
    /// Only wards under this organisation, e.g. trust:R9A.
    #[arg(long, value_name = "LEVEL:CODE")]
    pub scope: Option<String>,
    /// List every ward-month as CSV, not only the problems.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub data: DataArgs,
}

pub async fn run(args: &CompletenessArgs) -> Result<ExitCode> {
    let store = args.data.open().await?;
    let Some((first, last)) = store.data_range().await? else {
        bail!("the database has no bed days yet: upload them (or run `mhsip demo`) first");
    };
    let from = match &args.from {
        Some(s) => parse_date(s).map_err(anyhow::Error::msg)?,
        None => date_from_day(first as i32),
    };
    let to = match &args.to {
        Some(s) => parse_date(s).map_err(anyhow::Error::msg)?,
        None => date_from_day(last as i32),
    };
    let scope = match &args.scope {
        Some(s) => {
            let (l, c) = s.split_once(':').ok_or_else(|| {
                anyhow::anyhow!("--scope {s}: expected LEVEL:CODE, e.g. trust:R9A")
            })?;
            Some((
                OrgLevel::parse(l)
                    .ok_or_else(|| anyhow::anyhow!("--scope {s}: unknown level '{l}'"))?,
                c.trim().to_ascii_uppercase(),
            ))
        }
        None => None,
    };
    let rows = store.completeness(from, to, scope).await?;
    if args.all {
        println!("ward,month,bed_days,events,expected,lower_limit,status");
        for r in &rows {
            println!(
                "{},{},{},{},{:.1},{},{}",
                r.ward,
                domain::dates::iso(r.month),
                r.bed_days.map(|b| b.to_string()).unwrap_or_default(),
                r.events,
                r.expected,
                r.lower_limit.map(|l| format!("{l:.1}")).unwrap_or_default(),
                serde_json::to_value(r.status)?.as_str().unwrap_or("")
            );
        }
        store.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    // Problems grouped by ward, with their months, easiest to act on first.
    let mut by_ward: BTreeMap<&str, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for r in &rows {
        let label = PeriodKind::Month.label(r.month);
        match r.status {
            Status::MissingBedDays => by_ward.entry(&r.ward).or_default().0.push(label),
            Status::LikelyUnderReported => by_ward.entry(&r.ward).or_default().1.push(format!(
                "{label} ({} reported, about {:.0} usual, below {:.0} is unusual)",
                r.events,
                r.expected,
                r.lower_limit.unwrap_or(0.0)
            )),
            Status::Complete => {}
        }
    }
    let months = PeriodKind::Month.starts_between(from, to).len();
    println!(
        "Data completeness, {} to {} ({months} months, {} ward-months):",
        PeriodKind::Month.label(from),
        PeriodKind::Month.label(to),
        rows.len()
    );
    if by_ward.is_empty() {
        println!(
            "  every ward has bed days for every month, and no month has far fewer events than expected."
        );
    }
    for (ward, (missing, low)) in &by_ward {
        if !missing.is_empty() {
            println!("  {ward}: no bed days for {}", missing.join(", "));
        }
        if !low.is_empty() {
            println!(
                "  {ward}: far fewer events than usual in {}",
                low.join("; ")
            );
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
