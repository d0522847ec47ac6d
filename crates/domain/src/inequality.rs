//! A measure broken down by a patient characteristic, as the inequalities view shows it: each
//! group's rate (or percentage) with its 95% confidence interval, and its ratio to a reference
//! group with a 95% interval, small numbers suppressed when the figures leave the organisation.

use crate::disclosure::{Figure, Policy, Published, Shown};
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

/// Build the table from (group, numerator, denominator) rows. With a disclosure policy, the
/// suppression of each group is decided by `Policy::breakdown` (primary and secondary), and
/// every shown estimate and ratio is computed from the published (rounded) counts.
pub fn table(
    measure: &Measure,
    by: Stratifier,
    strata: &[(String, f64, f64)],
    policy: Option<&Policy>,
) -> Vec<Row> {
    let proportion = measure.is_proportion();
    let (per, _) = measure.breakdown_scale();
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
    let reference_index = strata
        .iter()
        .position(|(g, _, _)| Some(g) == reference.as_ref());
    let count = |x: f64| x.round().max(0.0) as u64;
    // The counts each figure is computed from: exact inside the organisation, published
    // (rounded) outside it; `None` for a suppressed group.
    let published: Vec<Option<(u64, f64)>> = match policy {
        None => strata
            .iter()
            .map(|(_, n, d)| Some((count(*n), *d)))
            .collect(),
        Some(p) => {
            let figure = |n: f64, d: f64| {
                if proportion {
                    Figure::Proportion {
                        numerator: count(n),
                        denominator: count(d),
                        per,
                    }
                } else {
                    Figure::Rate {
                        events: count(n),
                        exposure: d,
                        per,
                    }
                }
            };
            let shown: Vec<Option<Published>> = strata
                .iter()
                .map(|(_, n, d)| p.publish(figure(*n, *d)))
                .collect();
            let counts: Vec<u64> = strata.iter().map(|(_, n, _)| count(*n)).collect();
            let primary: Vec<bool> = shown.iter().map(Option::is_none).collect();
            let mut suppressed = p.breakdown(&counts, &primary, reference_index);
            if proportion {
                // A proportion's denominator counts people too: the same rule for it.
                let dens: Vec<u64> = strata.iter().map(|(_, _, d)| count(*d)).collect();
                let by_den = p.breakdown(&dens, &suppressed, reference_index);
                suppressed = by_den;
            }
            shown
                .into_iter()
                .zip(suppressed)
                .map(|(s, hidden)| {
                    s.filter(|_| !hidden)
                        .map(|s| (s.numerator, s.denominator.unwrap_or(0.0)))
                })
                .collect()
        }
    };
    let estimate = |(n, d): (u64, f64)| {
        if proportion {
            stats::proportion(n, count(d), per)
        } else {
            stats::rate(n, d, per)
        }
    };
    let reference_counts = reference_index.and_then(|i| published[i]);
    strata
        .iter()
        .zip(&published)
        .enumerate()
        .map(|(i, ((group, num, den), shown))| {
            let is_reference = Some(i) == reference_index;
            let ratio = match (shown, reference_counts) {
                (Some((n, d)), Some((rn, rd))) if !is_reference => {
                    if proportion {
                        stats::risk_ratio(*n, count(*d), rn, count(rd))
                    } else {
                        stats::rate_ratio(*n, *d, rn, rd)
                    }
                }
                _ => None,
            };
            let suppressed = policy.is_some() && shown.is_none();
            let numerator = match (policy, shown) {
                (None, _) => Shown::Value(count(*num)),
                (Some(_), Some((n, _))) => Shown::Value(*n),
                (Some(_), None) => Shown::Suppressed,
            };
            let denominator = match (policy, shown) {
                // A proportion's denominator counts people: starred with its group.
                (Some(_), None) if proportion => Shown::Suppressed,
                (Some(_), Some((_, d))) if proportion => Shown::Value(count(*d)),
                _ => Shown::Value(count(*den)),
            };
            Row {
                group: group.clone(),
                numerator,
                denominator,
                estimate: shown.and_then(estimate),
                ratio,
                reference: is_reference,
                suppressed,
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
        // Asian (3) and Not known (1) hold 4 between them: the total less the shown groups
        // would give it, so the next smallest group (not the reference) is suppressed too.
        assert!(t[1].suppressed && t[1].ratio.is_none());
        assert_eq!(t[1].numerator, Shown::Suppressed);
        assert_eq!(t[0].numerator, Shown::Value(20));
    }

    #[test]
    fn shown_figures_are_computed_from_rounded_counts() {
        let m = find("ri_rate").unwrap();
        let strata = vec![
            ("White".into(), 22.0, 10_000.0),
            ("Black or Black British".into(), 13.0, 2_000.0),
        ];
        let t = table(
            &m,
            Stratifier::EthnicGroup,
            &strata,
            Some(&Policy::default()),
        );
        assert_eq!(t[0].numerator, Shown::Value(20));
        assert!((t[0].estimate.unwrap().value - 2.0).abs() < 1e-12);
        assert!(
            (t[1].estimate.unwrap().value - 7.5).abs() < 1e-12,
            "15 / 2000"
        );
        assert!((t[1].ratio.unwrap().value - 3.75).abs() < 1e-12);
    }

    #[test]
    fn a_count_of_people_is_broken_down_per_1000_bed_days() {
        let m = find("people_restricted").unwrap();
        let t = table(
            &m,
            Stratifier::Sex,
            &[
                ("Male".into(), 12.0, 6_000.0),
                ("Female".into(), 6.0, 6_000.0),
            ],
            None,
        );
        assert!((t[0].estimate.unwrap().value - 2.0).abs() < 1e-12, "{t:?}");
        assert_eq!(m.breakdown_scale().1, "per 1,000 occupied bed days");
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
