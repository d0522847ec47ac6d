//! `mhsip completeness`: wards with missing months or with far fewer events than their bed days
//! and their own history make likely, and trusts whose months as a whole fell far short of their
//! own past, so under-reporting is seen before wards are compared.

use crate::config::{DataArgs, RangeArgs};
use anyhow::Result;
use clap::Args;
use domain::dates::PeriodKind;
use std::collections::BTreeMap;
use std::process::ExitCode;
use store::completeness::{Basis, Status, trust_periods};

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
        println!(
            "ward,trust,month,bed_days,events,expected,p_low,flag_at_most,status,basis,trust_events,trust_expected"
        );
        let name = |v: serde_json::Value| v.as_str().unwrap_or("").to_string();
        for r in &rows {
            println!(
                "{},{},{},{},{},{},{},{},{},{},{},{}",
                r.ward,
                r.trust,
                domain::dates::iso(r.month),
                r.bed_days.map(|b| b.to_string()).unwrap_or_default(),
                r.events,
                r.expected.map(|e| format!("{e:.1}")).unwrap_or_default(),
                r.p_low.map(|p| format!("{p:.3e}")).unwrap_or_default(),
                r.flag_at_most.map(|k| k.to_string()).unwrap_or_default(),
                name(serde_json::to_value(r.status)?),
                r.basis
                    .map(|b| serde_json::to_value(b).map(name))
                    .transpose()?
                    .unwrap_or_default(),
                r.trust_shortfall
                    .map(|t| t.events.to_string())
                    .unwrap_or_default(),
                r.trust_shortfall
                    .map(|t| format!("{:.1}", t.expected))
                    .unwrap_or_default(),
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
                "{label} ({} reported, about {:.0} usual; {} or fewer {})",
                r.events,
                r.expected.unwrap_or(0.0),
                r.flag_at_most.unwrap_or(0),
                if r.basis == Some(Basis::TrustShortfall) {
                    "fits the trust's shortfall"
                } else {
                    "is improbable"
                }
            )),
            Status::Complete => {}
        }
    }
    let periods = trust_periods(&rows);
    let months = PeriodKind::Month.starts_between(from, to).len();
    println!(
        "Data completeness, {} to {} ({months} months, {} ward-months):",
        PeriodKind::Month.label(from),
        PeriodKind::Month.label(to),
        rows.len()
    );
    if by_ward.is_empty() && periods.is_empty() {
        println!(
            "  every ward has bed days for every month, and no month has far fewer events than expected."
        );
    }
    for p in &periods {
        let span = p.span();
        println!(
            "  Trust {}: far fewer events than its own past in {span} ({} reported, about {:.0} usual, {:.0}%; {} ward-month{} flagged)",
            p.trust,
            p.events,
            p.expected,
            100.0 * p.events as f64 / p.expected.max(1.0),
            p.ward_months_flagged,
            if p.ward_months_flagged == 1 { "" } else { "s" }
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
