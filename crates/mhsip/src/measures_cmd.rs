//! `mhsip measures`: every measure for any level and period, as CSV, with or without the SPC
//! reading, and with disclosure control when the figures will leave the organisation.

use crate::config::{DataArgs, RangeArgs};
use anyhow::{Result, bail};
use clap::Args;
use domain::OrgLevel;
use domain::dates::{PeriodKind, iso};
use domain::disclosure::Policy;
use domain::measures::{Measure, catalogue};
use std::io::Write;
use std::process::ExitCode;
use store::measures::{MeasureSeries, Query};

#[derive(Args, Debug)]
pub struct MeasuresArgs {
    /// List the measure catalogue and stop.
    #[arg(long)]
    pub list: bool,
    /// Level each series describes: ward, site, trust, icb or region.
    #[arg(long, default_value = "ward", value_parser = |s: &str| OrgLevel::parse(s).ok_or("expected ward, site, trust, icb or region"))]
    pub level: OrgLevel,
    /// month or week.
    #[arg(long, default_value = "month", value_parser = |s: &str| PeriodKind::parse(s).ok_or("expected month or week"))]
    pub period: PeriodKind,
    #[command(flatten)]
    pub range: RangeArgs,
    /// Only these measures (repeat, or separate with commas).
    #[arg(long, value_delimiter = ',')]
    pub measure: Vec<String>,
    /// One row per series with its latest value and SPC icons.
    #[arg(long)]
    pub summary: bool,
    /// Apply disclosure control (counts under 5 suppressed, others rounded to 5; rates and
    /// proportions with small numbers suppressed), as for figures shared across organisations.
    #[arg(long)]
    pub disclose: bool,
    #[command(flatten)]
    pub data: DataArgs,
}

pub async fn run(args: &MeasuresArgs) -> Result<ExitCode> {
    let all = catalogue();
    if args.list {
        println!("id,version,objective,title,unit,direction,chart,target,national");
        for m in &all {
            println!(
                "{},{},{},\"{}\",\"{}\",{},{},{},{}",
                m.id,
                m.version,
                m.objective.as_str(),
                m.title,
                m.unit,
                m.direction,
                m.chart,
                m.target.map(|t| t.to_string()).unwrap_or_default(),
                m.national.unwrap_or("")
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let measures: Vec<Measure> = if args.measure.is_empty() {
        all
    } else {
        let mut chosen = Vec::new();
        for id in &args.measure {
            match all.iter().find(|m| m.id == id.trim()) {
                Some(m) => chosen.push(m.clone()),
                None => bail!("unknown measure '{id}'; see `mhsip measures --list`"),
            }
        }
        chosen
    };
    let store = args.data.open().await?;
    let (from, to, scope) = args.range.resolve(&store).await?;
    let q = Query {
        level: args.level,
        period: args.period,
        from,
        to,
        scope,
    };
    let series = store.compute_measures(&q, &measures).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let policy = args.disclose.then(Policy::default);
    if args.summary {
        // The same summary as the overview and the API: saved annotations rebase where they
        // say so, and disclosure control applies with --disclose.
        let notes = store.all_annotations().await?;
        writeln!(
            out,
            "measure,org,points,latest_period,latest_value,variation,assurance"
        )?;
        for s in &series {
            let m = measures
                .iter()
                .find(|m| m.id == s.measure)
                .expect("series of a chosen measure");
            let org_notes = notes
                .get(&s.org)
                .map(|n| measures::summary::notes_for(n, m.id))
                .unwrap_or_default();
            let sum = measures::summary::summarise(m, s, args.period, &org_notes, policy.as_ref())?;
            writeln!(
                out,
                "{},{},{},{},{},{},{}",
                s.measure,
                s.org,
                sum.points,
                sum.latest_date.map(iso).unwrap_or_default(),
                sum.latest_value
                    .map(|v| format!("{v:.3}"))
                    .unwrap_or_default(),
                sum.variation.map(|v| v.as_str()).unwrap_or(""),
                sum.assurance.as_str()
            )?;
        }
    } else {
        writeln!(out, "measure,org,period,numerator,denominator,value")?;
        for s in &series {
            let m = measures
                .iter()
                .find(|m| m.id == s.measure)
                .expect("series of a chosen measure");
            // Under disclosure control the cells follow the chart tables' rules (one
            // function for both), and event-level series are withheld as on the web.
            if policy.is_some() && m.is_event_level() {
                continue;
            }
            let values = shown_values(m, s, policy.as_ref());
            for (p, v) in s.points.iter().zip(values) {
                let (num, den) = match &policy {
                    Some(pol) => (
                        measures::chart::shown_numerator(m, p, v, Some(pol)),
                        measures::chart::shown_denominator(p, Some(pol)),
                    ),
                    None => (
                        format!("{}", p.numerator),
                        p.denominator.map(|d| format!("{d}")).unwrap_or_default(),
                    ),
                };
                writeln!(
                    out,
                    "{},{},{},{},{},{}",
                    s.measure,
                    s.org,
                    iso(p.period),
                    num,
                    den,
                    v.map(|v| format!("{v:.4}")).unwrap_or_default()
                )?;
            }
        }
    }
    out.flush()?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The values as they may be shown: with disclosure control, a rate or proportion built on
/// small numbers becomes a gap, and so does a small count.
pub fn shown_values(m: &Measure, s: &MeasureSeries, policy: Option<&Policy>) -> Vec<Option<f64>> {
    s.points
        .iter()
        .map(|p| match policy {
            Some(pol) => m.disclosed_value(pol, p.value, p.numerator, p.denominator),
            None => p.value,
        })
        .collect()
}
