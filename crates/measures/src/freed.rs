//! FREED's facts (issue 14): the referrals of each service, trust or region turned into
//! `facts::Freed` per month or week by `pathway`'s own counting rules (docs/freed.md, "Monthly
//! and weekly figures"), so that the FREED measures are assembled, charted and summarised by
//! the same `series`, `chart` and `summary` as every other measure.
//!
//! Pure: handed referrals already read and decoded, and the "as of" time.

use crate::facts::{Facts, Freed};
use domain::dates::PeriodKind;
use pathway::Referral;
use pathway::aggregate::{self, Period};
use pathway::clock::Clock;
use std::collections::HashMap;
use time::{Date, PrimitiveDateTime};

/// The clocks in the order of `facts::Freed`'s arrays (engagement, assessment, treatment,
/// children's), as `series::freed_clock_index` reads them.
pub const CLOCKS: [Clock; 4] = [
    Clock::Engagement,
    Clock::Assessment,
    Clock::Treatment,
    Clock::ChildrenTreatment,
];

/// The key a service's series is held under in [`Facts`] and the assembled series: services
/// have no ODS code, and `service/` cannot begin an organisation's code or a service's.
pub fn service_key(code: &str) -> String {
    format!("service/{code}")
}

/// The FREED figures of one group of referrals in each period (sorted, duplicates dropped),
/// as of `as_of`. A period gets figures when it ends after the group's first referral and
/// starts on or before `as_of`; before the first referral, or after "as of", it is a gap.
pub fn figures(
    referrals: &[Referral],
    periods: &[Period],
    as_of: PrimitiveDateTime,
) -> Vec<(Period, Option<Freed>)> {
    let mut periods = periods.to_vec();
    periods.sort_unstable();
    periods.dedup();
    let first = referrals.iter().map(|r| r.received.date()).min();
    let clocks: Vec<Vec<aggregate::ClockCounts>> = CLOCKS
        .iter()
        .map(|&c| aggregate::clock_series(referrals, c, &periods, as_of))
        .collect();
    let rtt = aggregate::referral_to_treatment(referrals, &periods, as_of);
    let dued = aggregate::dued_summary(referrals, &periods, as_of);
    let uptake = aggregate::uptake(referrals, &periods, as_of, aggregate::UPTAKE_FOLLOW_UP_DAYS);
    let waiting = aggregate::waiting_sizes(referrals, &periods, as_of);
    periods
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let has_data = first.is_some_and(|f| p.end > f) && waiting[i].1.is_some();
            if !has_data {
                return (p, None);
            }
            let mut f = Freed::default();
            for (k, c) in clocks.iter().enumerate() {
                f.clocks_decided[k] = c[i].due as f64;
                f.clocks_met[k] = c[i].met as f64;
            }
            f.treated = dued[i].treated as f64;
            f.median_days_to_treatment = rtt[i].median;
            f.with_dued = dued[i].with_dued as f64;
            f.median_dued = dued[i].median_days;
            f.precise_onset = dued[i].precise_onset as f64;
            for (b, n) in dued[i].bins.iter().enumerate() {
                f.dued_bins[b] = *n as f64;
            }
            f.eligible_followed_up = uptake[i].followed_up as f64;
            f.started = uptake[i].started as f64;
            f.waiting = waiting[i].1.unwrap_or(0) as f64;
            (p, Some(f))
        })
        .collect()
}

/// Facts for some groups of referrals (a service's, a trust's, a region's: named by the key
/// the series will carry) over every `kind` period from the one holding `from` to the one
/// holding `to`, as of `as_of`. Groups keep the order given.
pub fn facts(
    groups: &[(String, Vec<Referral>)],
    kind: PeriodKind,
    from: Date,
    to: Date,
    as_of: PrimitiveDateTime,
) -> Facts {
    let periods = Period::between(kind, from, to);
    let mut out = Facts {
        orgs: groups.iter().map(|(k, _)| k.clone()).collect(),
        periods: periods.iter().map(|p| p.start).collect(),
        cells: HashMap::new(),
        ..Facts::default()
    };
    for (key, referrals) in groups {
        for (p, f) in figures(referrals, &periods, as_of) {
            if let Some(f) = f {
                out.cell(key, p.start).freed = Some(f);
            }
        }
    }
    out
}

/// The figures of one group over one span of days (`from` to `to`, both included), as one
/// period: what a breakdown by patient characteristics compares.
pub fn over(referrals: &[Referral], from: Date, to: Date, as_of: PrimitiveDateTime) -> Freed {
    let period = Period {
        start: from,
        end: to.next_day().unwrap_or(to),
    };
    figures(referrals, &[period], as_of)
        .into_iter()
        .next()
        .and_then(|(_, f)| f)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::assemble;
    use pathway::{
        Attendance, Contact, ContactKind, DiagnosisGroup, FirstEpisode, Onset, Priority,
        ReferralSource,
    };
    use time::Duration;
    use time::macros::{date, datetime};

    fn referral(id: &str, received: PrimitiveDateTime, age: u8) -> Referral {
        Referral {
            id: id.into(),
            service: "SVC".into(),
            received,
            source: ReferralSource::Gp,
            age_at_referral: Some(age),
            first_episode: FirstEpisode::Yes,
            onset: Onset::Day(received.date() - Duration::days(100)),
            diagnosis: DiagnosisGroup::BulimiaNervosa,
            priority: Priority::Routine,
            contacts: Vec::new(),
            pauses: Vec::new(),
            discharges: Vec::new(),
        }
    }

    fn attended(r: &mut Referral, kind: ContactKind, at: PrimitiveDateTime) {
        r.contacts.push(Contact {
            kind,
            at,
            attendance: Attendance::Attended,
        });
    }

    #[test]
    fn clocks_medians_and_the_list_become_points_of_the_measures() {
        let as_of = datetime!(2024-06-30 12:00);
        // March: an 18-year-old assessed in 10 days and treated in 20 (every clock met, the
        // children's routine clock too); a 20-year-old assessed after 20 days (breached in
        // March, its deadline), treated in April after 40 days; a 30-year-old (not eligible).
        let mut a = referral("A", datetime!(2024-03-01 10:00), 18);
        attended(&mut a, ContactKind::Assessment, datetime!(2024-03-11 10:00));
        attended(
            &mut a,
            ContactKind::FirstTreatment,
            datetime!(2024-03-21 10:00),
        );
        let mut b = referral("B", datetime!(2024-03-05 10:00), 20);
        attended(&mut b, ContactKind::Assessment, datetime!(2024-03-25 10:00));
        attended(
            &mut b,
            ContactKind::FirstTreatment,
            datetime!(2024-04-14 10:00),
        );
        let c = referral("C", datetime!(2024-03-06 10:00), 30);
        let f = facts(
            &[(service_key("SVC"), vec![a, b, c])],
            PeriodKind::Month,
            date!(2024 - 02 - 01),
            date!(2024 - 04 - 30),
            as_of,
        );
        let cat = domain::measures::freed_catalogue();
        let series = assemble(&cat, &f);
        let get = |id: &str| {
            series
                .iter()
                .find(|s| s.measure == id)
                .unwrap()
                .points
                .clone()
        };
        // February is before the first referral: a gap, not a zero.
        assert!(get("freed_assessment_2w")[0].value.is_none());
        let assess = get("freed_assessment_2w");
        assert_eq!(
            (assess[1].numerator, assess[1].denominator),
            (1.0, Some(2.0))
        );
        assert_eq!(assess[1].value, Some(50.0));
        let children = get("freed_children_standard");
        assert_eq!(
            children[1].value,
            Some(100.0),
            "only the 18-year-old has it"
        );
        let rtt = get("freed_median_days_to_treatment");
        assert_eq!(rtt[1].value, Some(20.0));
        assert_eq!(rtt[2].value, Some(40.0));
        assert_eq!(
            rtt[2].denominator,
            Some(1.0),
            "the treated it is the middle of"
        );
        let dued = get("freed_median_dued");
        assert_eq!(
            dued[1].value,
            Some(120.0),
            "100 days to referral, 20 to treatment"
        );
        assert_eq!(get("freed_precise_onset")[1].value, Some(100.0));
        // Uptake: both eligible March referrals were followed up 84 days by 30 June; both
        // started within the window.
        let up = get("freed_uptake");
        assert_eq!((up[1].numerator, up[1].denominator), (2.0, Some(2.0)));
        // Waiting at the end of March: B (assessed, not treated); C has no clock.
        let wl = get("freed_waiting_list");
        assert_eq!(wl[1].value, Some(1.0));
        assert_eq!(wl[2].value, Some(0.0));
    }

    proptest::proptest! {
        /// Each clock, each treated patient and each eligible referral counts in one period
        /// only: the months add up to the whole span taken as one period, and every charted
        /// percentage is its numerator over its denominator.
        #[test]
        fn the_periods_add_up_to_the_span(
            rs in proptest::collection::vec(
                (0i64..200_000, 14u8..30, proptest::option::of(0i64..80_000), proptest::option::of(0i64..50_000), 0i64..2_000),
                0..25,
            ),
            weekly in proptest::bool::ANY,
        ) {
            let start = datetime!(2024-01-01 00:00);
            let referrals: Vec<Referral> = rs
                .iter()
                .enumerate()
                .map(|(i, &(at, age, assessed, treated, onset))| {
                    let received = start + Duration::minutes(at);
                    let mut r = referral(&format!("R{i}"), received, age);
                    r.onset = Onset::Day(received.date() - Duration::days(onset));
                    if let Some(a) = assessed {
                        attended(&mut r, ContactKind::Assessment, received + Duration::minutes(a));
                    }
                    if let Some(t) = treated {
                        attended(&mut r, ContactKind::FirstTreatment, received + Duration::minutes(a_or(assessed) + t));
                    }
                    r
                })
                .collect();
            let as_of = datetime!(2024-09-30 12:00);
            let (from, to) = (date!(2024 - 01 - 01), date!(2024 - 09 - 30));
            let kind = if weekly { PeriodKind::Week } else { PeriodKind::Month };
            let f = facts(&[("S".to_string(), referrals.clone())], kind, from, to, as_of);
            let whole = over(&referrals, from, to, as_of);
            let mut sum = Freed::default();
            for cell in f.cells.values() {
                let x = cell.freed.unwrap_or_default();
                for k in 0..4 {
                    sum.clocks_decided[k] += x.clocks_decided[k];
                    sum.clocks_met[k] += x.clocks_met[k];
                }
                sum.treated += x.treated;
                sum.precise_onset += x.precise_onset;
                sum.started += x.started;
                sum.eligible_followed_up += x.eligible_followed_up;
                for b in 0..6 {
                    sum.dued_bins[b] += x.dued_bins[b];
                }
            }
            // Weeks starting before 1 January hold days of December, where nothing happened.
            proptest::prop_assert_eq!(sum.clocks_decided, whole.clocks_decided);
            proptest::prop_assert_eq!(sum.clocks_met, whole.clocks_met);
            proptest::prop_assert_eq!(sum.treated, whole.treated);
            proptest::prop_assert_eq!(sum.dued_bins, whole.dued_bins);
            proptest::prop_assert_eq!(sum.started, whole.started);
            for s in assemble(&domain::measures::freed_catalogue(), &f) {
                let m = domain::measures::find(s.measure).unwrap();
                for p in &s.points {
                    if let (true, Some(d), Some(v)) = (m.is_proportion(), p.denominator, p.value) {
                        proptest::prop_assert!(d > 0.0 && (v - p.numerator / d * 100.0).abs() < 1e-9);
                        proptest::prop_assert!(p.numerator <= d);
                    }
                }
            }
        }
    }

    fn a_or(a: Option<i64>) -> i64 {
        a.unwrap_or(0)
    }

    #[test]
    fn a_span_as_one_period() {
        let mut a = referral("A", datetime!(2024-03-01 10:00), 20);
        attended(
            &mut a,
            ContactKind::EngagementCall,
            datetime!(2024-03-02 09:00),
        );
        let b = referral("B", datetime!(2024-04-01 10:00), 20);
        let f = over(
            &[a, b],
            date!(2024 - 03 - 01),
            date!(2024 - 04 - 30),
            datetime!(2024-06-01 00:00),
        );
        assert_eq!(f.clocks_decided[0], 2.0);
        assert_eq!(f.clocks_met[0], 1.0);
    }
}
