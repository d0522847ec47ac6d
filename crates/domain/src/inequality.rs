//! A measure broken down by a patient characteristic, as the inequalities view shows it: each
//! group's rate (or percentage) with its 95% confidence interval, and its ratio to a reference
//! group with a 95% interval, small numbers suppressed when the figures leave the organisation.

use crate::disclosure::{Policy, Shown};
use crate::measures::{Measure, Stratifier};
use crate::stats::{self, Estimate};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    pub group: String,
    pub numerator: Shown<u64>,
    pub denominator: Shown<u64>,
    /// Rate per the measure's multiplier, or percentage; `None` when suppressed or undefined.
    pub estimate: Option<Estimate>,
    /// Against the reference group; `None` for the reference itself, or when undefined.
    pub ratio: Option<Estimate>,
    pub reference: bool,
    pub suppressed: bool,
}

/// Groups that say nothing about a characteristic are never the reference.
fn uninformative(g: &str) -> bool {
    matches!(g, "Not known" | "Not stated" | "Other or not known")
}

/// Build the table from (group, numerator, denominator) rows.
pub fn table(
    measure: &Measure,
    by: Stratifier,
    strata: &[(String, f64, f64)],
    policy: Option<&Policy>,
) -> Vec<Row> {
    let proportion = measure.is_proportion();
    let reference = by
        .fixed_reference()
        .filter(|r| strata.iter().any(|(g, _, d)| g == r && *d > 0.0))
        .map(str::to_string)
        .or_else(|| {
            strata
                .iter()
                .filter(|(g, _, _)| !uninformative(g))
                .max_by(|a, b| a.2.total_cmp(&b.2))
                .map(|(g, _, _)| g.clone())
        });
    let reference_row = strata
        .iter()
        .find(|(g, _, _)| Some(g) == reference.as_ref());
    strata
        .iter()
        .map(|(group, num, den)| {
            let (n, d) = (num.round() as u64, den.round() as u64);
            let allowed = policy.is_none_or(|p| measure.disclosure_allows(p, n, *den));
            let estimate = if !allowed {
                None
            } else if proportion {
                stats::proportion(n, d, 100.0)
            } else {
                stats::rate(n, *den, measure.multiplier)
            };
            let is_reference = Some(group) == reference.as_ref();
            let ratio = match reference_row {
                Some((_, rn, rd)) if allowed && !is_reference => {
                    if proportion {
                        stats::risk_ratio(n, d, rn.round() as u64, rd.round() as u64)
                    } else {
                        stats::rate_ratio(n, *den, rn.round() as u64, *rd)
                    }
                }
                _ => None,
            };
            let shown = |x: u64| policy.map_or(Shown::Value(x), |p| p.count(x));
            Row {
                group: group.clone(),
                numerator: shown(n),
                denominator: if proportion {
                    shown(d)
                } else {
                    Shown::Value(d)
                },
                estimate,
                ratio,
                reference: is_reference,
                suppressed: !allowed,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measures::find;

    fn strata() -> Vec<(String, f64, f64)> {
        vec![
            ("White".into(), 20.0, 10_000.0),
            ("Black or Black British".into(), 30.0, 3_000.0),
            ("Asian or Asian British".into(), 3.0, 1_500.0),
            ("Not known".into(), 1.0, 50.0),
        ]
    }

    #[test]
    fn rates_ratios_and_the_reference_group() {
        let m = find("ri_rate").unwrap();
        let t = table(&m, Stratifier::EthnicGroup, &strata(), None);
        let white = &t[0];
        assert!(white.reference && white.ratio.is_none());
        assert!((white.estimate.unwrap().value - 2.0).abs() < 1e-12);
        let black = &t[1];
        assert!((black.ratio.unwrap().value - 5.0).abs() < 1e-12);
        assert!(black.ratio.unwrap().lower > 1.0, "a real difference");
    }

    #[test]
    fn small_numbers_are_suppressed_across_organisations() {
        let m = find("ri_rate").unwrap();
        let t = table(
            &m,
            Stratifier::EthnicGroup,
            &strata(),
            Some(&Policy::default()),
        );
        let asian = &t[2];
        assert!(asian.suppressed && asian.estimate.is_none() && asian.ratio.is_none());
        assert_eq!(asian.numerator, Shown::Suppressed);
        assert_eq!(
            t[3].numerator,
            Shown::Suppressed,
            "under 100 bed days and under 5 events"
        );
        assert_eq!(t[1].numerator, Shown::Value(30));
    }

    #[test]
    fn the_largest_informative_group_is_the_reference_when_none_is_fixed() {
        let m = find("ri_rate").unwrap();
        let t = table(
            &m,
            Stratifier::AgeBand,
            &[
                ("25 to 34".into(), 5.0, 900.0),
                ("Not known".into(), 1.0, 5000.0),
                ("65 and over".into(), 9.0, 800.0),
            ],
            None,
        );
        assert!(t[0].reference);
    }
}
