//! The distinct-inpatients count (the denominator of "% of inpatients subject to restrictive
//! interventions") against the plainest reading of its definition: for each organisation and
//! period, the set of patients with a stay that overlaps the period.

use domain::dates::PeriodKind;
use measures::compose::{Extras, TrustParts};
use measures::facts::{Facts, InpatientCount, StaySpan, inpatients};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};
use time::{Date, Duration, macros::date};

fn periods(kind: PeriodKind, first: Date, n: usize) -> Vec<Date> {
    let mut out = vec![kind.start_of(first)];
    while out.len() < n {
        let next = kind.next_start(*out.last().unwrap());
        out.push(next);
    }
    out
}

/// Every day of every stay, checked against every period: slow and obviously right.
fn by_definition(
    stays: &[StaySpan],
    kind: PeriodKind,
    starts: &[Date],
) -> HashMap<(String, Date), f64> {
    let mut sets: HashMap<(String, Date), HashSet<String>> = HashMap::new();
    for p in starts {
        let last = kind.next_start(*p).previous_day().unwrap();
        for s in stays {
            let end = s.end.unwrap_or(Date::MAX);
            if s.start <= last && end >= *p && kind.start_of(s.start) <= end {
                sets.entry((s.org.clone(), *p))
                    .or_default()
                    .insert(s.patient.clone());
            }
        }
    }
    sets.into_iter().map(|(k, v)| (k, v.len() as f64)).collect()
}

fn stays() -> impl Strategy<Value = Vec<StaySpan>> {
    let stay = (
        0usize..3,
        0usize..6,
        -40i64..400,
        prop::option::of(0i64..120),
    )
        .prop_map(|(org, patient, start, length)| {
            let start = date!(2024 - 01 - 01) + Duration::days(start);
            StaySpan {
                org: format!("W{org}"),
                patient: format!("p{patient}"),
                start,
                end: length.map(|l| start + Duration::days(l)),
            }
        });
    prop::collection::vec(stay, 0..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn counts_are_the_distinct_patients_of_each_period(
        s in stays(),
        weekly in any::<bool>(),
        n in 1usize..16,
    ) {
        let kind = if weekly { PeriodKind::Week } else { PeriodKind::Month };
        let starts = periods(kind, date!(2024 - 01 - 01), n);
        prop_assert_eq!(inpatients(&s, kind, &starts), by_definition(&s, kind, &starts));
    }

    /// The ICBs' inpatients composed from their trusts' runs are the ICBs' own count, however
    /// the patients move between trusts.
    #[test]
    fn inpatients_composed_from_trusts_are_the_count_above_them(
        s in stays(),
        weekly in any::<bool>(),
        n in 1usize..16,
    ) {
        let kind = if weekly { PeriodKind::Week } else { PeriodKind::Month };
        let starts = periods(kind, date!(2024 - 01 - 01), n);
        let parent = HashMap::from([
            ("W0".to_string(), "I0".to_string()),
            ("W1".to_string(), "I0".to_string()),
            ("W2".to_string(), "I1".to_string()),
        ]);
        let above: Vec<StaySpan> = s
            .iter()
            .map(|x| StaySpan { org: parent[&x.org].clone(), ..x.clone() })
            .collect();
        let mut count = InpatientCount::new(kind, &starts);
        for x in &s {
            count.add(&x.org, &x.patient, x.start, x.end);
        }
        let (counts, stays) = count.finish_with_runs();
        let mut facts = Facts {
            orgs: vec!["W0".into(), "W1".into(), "W2".into()],
            periods: starts.clone(),
            ..Facts::default()
        };
        for ((org, d), n) in counts {
            facts.cell(&org, d).inpatients = Some(n);
        }
        let extras = Extras { stays, ..Extras::default() };
        let composed = TrustParts::new(kind, &facts, extras)
            .compose(&parent, vec!["I0".into(), "I1".into()]);
        let composed: HashMap<(String, Date), f64> = composed
            .cells
            .iter()
            .filter_map(|(k, c)| c.inpatients.map(|n| (k.clone(), n)))
            .collect();
        prop_assert_eq!(composed, inpatients(&above, kind, &starts));
    }
}

#[test]
fn a_patient_in_two_overlapping_stays_of_one_ward_counts_once_and_in_two_wards_once_each() {
    let months = periods(PeriodKind::Month, date!(2024 - 01 - 01), 3);
    let mut count = InpatientCount::new(PeriodKind::Month, &months);
    count.add("A", "p", date!(2024 - 01 - 05), Some(date!(2024 - 02 - 20)));
    count.add("A", "p", date!(2024 - 02 - 01), Some(date!(2024 - 02 - 03)));
    count.add("B", "p", date!(2024 - 02 - 10), None);
    let n = count.finish();
    let at = |org: &str, d| n.get(&(org.to_string(), d)).copied();
    assert_eq!(at("A", date!(2024 - 01 - 01)), Some(1.0));
    assert_eq!(at("A", date!(2024 - 02 - 01)), Some(1.0));
    assert_eq!(at("A", date!(2024 - 03 - 01)), None);
    assert_eq!(at("B", date!(2024 - 02 - 01)), Some(1.0));
    assert_eq!(
        at("B", date!(2024 - 03 - 01)),
        Some(1.0),
        "an open stay runs on"
    );
}
