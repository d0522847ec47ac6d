//! `mhsip inequalities`: a measure by ethnic group, age band, sex and learning disability or
//! autism, with rates, 95% confidence intervals and rate ratios, small numbers suppressed.

use crate::config::{DataArgs, RangeArgs};
use anyhow::{Result, bail};
use clap::Args;
use domain::disclosure::Policy;
use domain::inequality::{Row, table};
use domain::measures::{Stratifier, find};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct InequalitiesArgs {
    /// The measure (one that counts patients' events, e.g. ri_rate, ri_prone_rate, pct_inpatients_restricted).
    #[arg(long, default_value = "ri_rate")]
    pub measure: String,
    /// ethnic_group, age_band, sex, ld_autism, or all.
    #[arg(long, default_value = "all")]
    pub by: String,
    #[command(flatten)]
    pub range: RangeArgs,
    /// Apply disclosure control, as for figures shared across organisations.
    #[arg(long)]
    pub disclose: bool,
    /// CSV instead of a table for people.
    #[arg(long)]
    pub csv: bool,
    #[command(flatten)]
    pub data: DataArgs,
}

pub async fn run(args: &InequalitiesArgs) -> Result<ExitCode> {
    let Some(measure) = find(&args.measure) else {
        bail!(
            "unknown measure '{}'; see `mhsip measures --list`",
            args.measure
        )
    };
    if !measure.stratifiable() {
        bail!(
            "{} cannot be broken down by patient characteristics; try ri_rate, ri_prone_rate, people_restricted, pct_inpatients_restricted, self_harm_rate or awol_rate",
            measure.id
        );
    }
    let by: Vec<Stratifier> = if args.by == "all" {
        Stratifier::ALL.to_vec()
    } else {
        vec![Stratifier::parse(&args.by).ok_or_else(|| {
            anyhow::anyhow!(
                "--by {}: expected ethnic_group, age_band, sex, ld_autism or all",
                args.by
            )
        })?]
    };
    let store = args.data.open().await?;
    let (from, to, scope) = args.range.resolve(&store).await?;
    let policy = args.disclose.then(Policy::default);
    if args.csv {
        println!(
            "characteristic,group,numerator,denominator,value,lower_95,upper_95,ratio,ratio_lower_95,ratio_upper_95,reference,suppressed"
        );
    } else {
        println!(
            "{} ({}), {} to {}{}",
            measure.title,
            measure.breakdown_scale().1,
            domain::dates::iso(from),
            domain::dates::iso(to),
            if args.disclose {
                ", disclosure control applied"
            } else {
                ""
            }
        );
    }
    for s in by {
        let strata = store
            .stratified(&measure, scope.clone(), from, to, s)
            .await?;
        let rows = table(
            &measure,
            s,
            &strata
                .iter()
                .map(|r| (r.group.clone(), r.numerator, r.denominator))
                .collect::<Vec<_>>(),
            policy.as_ref(),
        );
        if args.csv {
            for r in &rows {
                let e = |x: Option<f64>| x.map(|v| format!("{v:.4}")).unwrap_or_default();
                println!(
                    "{},{},{},{},{},{},{},{},{},{},{},{}",
                    s.as_str(),
                    r.group,
                    r.numerator,
                    r.denominator,
                    e(r.estimate.map(|x| x.value)),
                    e(r.estimate.map(|x| x.lower)),
                    e(r.estimate.map(|x| x.upper)),
                    e(r.ratio.map(|x| x.value)),
                    e(r.ratio.map(|x| x.lower)),
                    e(r.ratio.map(|x| x.upper)),
                    r.reference,
                    r.suppressed
                );
            }
        } else {
            print_table(s, &rows);
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn print_table(by: Stratifier, rows: &[Row]) {
    println!("\n{}", by.label());
    println!(
        "  {:<28} {:>8} {:>10} {:>22} {:>26}",
        "group", "events", "exposure", "value (95% CI)", "ratio to reference (95% CI)"
    );
    for r in rows {
        let value = match r.estimate {
            Some(e) => format!("{:.2} ({:.2} to {:.2})", e.value, e.lower, e.upper),
            None if r.suppressed => "* suppressed".into(),
            None => "-".into(),
        };
        let ratio = match (r.reference, r.ratio) {
            (true, _) => "reference".into(),
            (false, Some(x)) => format!(
                "{:.2} ({:.2} to {:.2}){}",
                x.value,
                x.lower,
                x.upper,
                if x.lower > 1.0 || x.upper < 1.0 {
                    " *"
                } else {
                    ""
                }
            ),
            (false, None) => "-".into(),
        };
        println!(
            "  {:<28} {:>8} {:>10} {:>22} {:>26}",
            r.group,
            r.numerator.to_string(),
            r.denominator.to_string(),
            value,
            ratio
        );
    }
}
