//! `mhsip completeness`: wards with missing months or with far fewer events than their bed days
//! and their own history make likely, so under-reporting is seen before wards are compared.

use crate::config::{DataArgs, RangeArgs};
use anyhow::Result;
use clap::Args;
use domain::dates::PeriodKind;
use std::collections::BTreeMap;
use std::process::ExitCode;
use store::completeness::Status;

#[derive(Args, Debug)]
pub struct CompletenessArgs {
    #[command(flatten)]
    pub range: RangeArgs,
    /// List every ward-month as CSV, not only the problems.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub data: DataArgs,
}

pub async fn run(args: &CompletenessArgs) -> Result<ExitCode> {
    let store = args.data.open().await?;
    let (from, to, scope) = args.range.resolve(&store).await?;
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
