//! The network beyond inpatient mental health (issue 12, item 4): the series of the measures
//! in `domain::measures::beyond_inpatient_catalogue`, from the counts the store groups.
//!
//! - Acute trusts' patients' self-harm: incidents per period, in all settings or one. An
//!   organisation's series runs from its first period with an incident to the last period
//!   with any acute incident held (the programme's latest data); periods between with none
//!   are zero, never gaps.
//! - Staff self-harm and suicide: each trust's monthly aggregate counts. An organisation's
//!   month is the sum over its trusts that reported that month; a month none of them
//!   reported is a gap. The rate per 1,000 staff counts only the trusts that gave their
//!   headcount for the month, over the sum of those headcounts. Months only: a weekly series
//!   of monthly counts would invent figures.
//!
//! Every figure is a count or a rate of counts, so disclosure control (`domain::disclosure`)
//! applies to them as to every other measure.

use domain::codes::AcuteSetting;
use domain::measures::{Denominator, Measure, Numerator};
use measures::series::{MeasurePoint, MeasureSeries};
use std::collections::BTreeMap;
use time::Date;

/// Acute self-harm incidents of one organisation, period (its first day) and setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcuteCount {
    pub org: String,
    pub period: Date,
    pub setting: AcuteSetting,
    pub incidents: u64,
}

/// One trust's staff counts for a month, against the organisation it counts for (itself, or
/// its ICB or region).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffMonth {
    pub org: String,
    pub trust: String,
    pub month: Date,
    pub self_harm: u64,
    pub suicides: u64,
    pub headcount: Option<u64>,
}

/// The acute measures among `wanted`, one series per organisation and measure, periods of
/// `kind` up to the period holding `last` (the latest acute incident held).
pub fn acute_series(
    wanted: &[Measure],
    counts: &[AcuteCount],
    kind: domain::dates::PeriodKind,
    last: Date,
) -> Vec<MeasureSeries> {
    let acute: Vec<&Measure> = wanted
        .iter()
        .filter(|m| matches!(m.numerator, Numerator::AcuteSelfHarm(_)))
        .collect();
    if acute.is_empty() {
        return Vec::new();
    }
    // org -> period -> incidents by setting.
    let mut by_org: BTreeMap<&str, BTreeMap<Date, [u64; 3]>> = BTreeMap::new();
    for c in counts {
        let i = setting_index(c.setting);
        by_org
            .entry(c.org.as_str())
            .or_default()
            .entry(kind.start_of(c.period))
            .or_default()[i] += c.incidents;
    }
    let mut out = Vec::new();
    for (org, periods) in &by_org {
        let Some(first) = periods.keys().next().copied() else {
            continue;
        };
        let starts = kind.starts_between(first, last.max(first));
        for m in &acute {
            let Numerator::AcuteSelfHarm(setting) = m.numerator else {
                continue;
            };
            let points = starts
                .iter()
                .map(|p| {
                    let n = periods.get(p).map_or(0, |by| match setting {
                        None => by.iter().sum(),
                        Some(s) => by[setting_index(s)],
                    }) as f64;
                    MeasurePoint {
                        period: *p,
                        numerator: n,
                        denominator: None,
                        value: Some(n),
                    }
                })
                .collect();
            out.push(MeasureSeries {
                measure: m.id,
                org: (*org).to_string(),
                points,
            });
        }
    }
    out
}

fn setting_index(s: AcuteSetting) -> usize {
    match s {
        AcuteSetting::EmergencyDepartment => 0,
        AcuteSetting::AcuteWard => 1,
        AcuteSetting::Other => 2,
    }
}

/// The staff measures among `wanted`, one series per organisation and measure, monthly from
/// the organisation's first reported month to its last.
pub fn staff_series(wanted: &[Measure], months: &[StaffMonth]) -> Vec<MeasureSeries> {
    let staff: Vec<&Measure> = wanted.iter().filter(|m| m.is_staff()).collect();
    if staff.is_empty() {
        return Vec::new();
    }
    #[derive(Default)]
    struct Month {
        self_harm: u64,
        suicides: u64,
        /// Self-harm and headcount of the trusts that gave a headcount.
        rated_self_harm: u64,
        headcount: u64,
    }
    let mut by_org: BTreeMap<&str, BTreeMap<Date, Month>> = BTreeMap::new();
    for s in months {
        let month = domain::dates::PeriodKind::Month.start_of(s.month);
        let m = by_org
            .entry(s.org.as_str())
            .or_default()
            .entry(month)
            .or_default();
        m.self_harm += s.self_harm;
        m.suicides += s.suicides;
        if let Some(h) = s.headcount {
            m.rated_self_harm += s.self_harm;
            m.headcount += h;
        }
    }
    let mut out = Vec::new();
    for (org, reported) in &by_org {
        let (Some(first), Some(last)) = (
            reported.keys().next().copied(),
            reported.keys().next_back().copied(),
        ) else {
            continue;
        };
        let starts = domain::dates::PeriodKind::Month.starts_between(first, last);
        for m in &staff {
            let points = starts
                .iter()
                .map(|p| match reported.get(p) {
                    None => MeasurePoint {
                        period: *p,
                        numerator: 0.0,
                        denominator: None,
                        value: None,
                    },
                    Some(x) => staff_point(
                        m,
                        *p,
                        x.self_harm,
                        x.suicides,
                        x.rated_self_harm,
                        x.headcount,
                    ),
                })
                .collect();
            out.push(MeasureSeries {
                measure: m.id,
                org: (*org).to_string(),
                points,
            });
        }
    }
    out
}

fn staff_point(
    m: &Measure,
    period: Date,
    self_harm: u64,
    suicides: u64,
    rated_self_harm: u64,
    headcount: u64,
) -> MeasurePoint {
    match (m.numerator, m.denominator) {
        (Numerator::StaffSelfHarm, Denominator::StaffHeadcount) => MeasurePoint {
            period,
            numerator: rated_self_harm as f64,
            denominator: (headcount > 0).then_some(headcount as f64),
            value: (headcount > 0)
                .then(|| rated_self_harm as f64 / headcount as f64 * m.multiplier),
        },
        (Numerator::StaffSuicides, _) => MeasurePoint {
            period,
            numerator: suicides as f64,
            denominator: None,
            value: Some(suicides as f64),
        },
        _ => MeasurePoint {
            period,
            numerator: self_harm as f64,
            denominator: None,
            value: Some(self_harm as f64),
        },
    }
}

/// One acute incident with its patient's characteristics (from the patients upload).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// The year the incident happened.
    pub year: i32,
    pub birth_year: Option<i32>,
    /// The patients upload's code: `1` male, `2` female, anything else not known.
    pub sex: Option<String>,
    pub ethnic_group: Option<String>,
}

/// One group of a breakdown of acute self-harm incidents.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GroupRow {
    pub group: String,
    /// Incidents in the group, as they may be shown.
    pub incidents: domain::disclosure::Shown<u64>,
    /// The group's share of the incidents shown, as a percentage; `None` when suppressed.
    pub percent: Option<f64>,
}

/// The group of one incident by a characteristic.
pub fn group_of(p: &Person, by: domain::measures::Stratifier) -> String {
    use domain::measures::Stratifier as S;
    match by {
        S::AgeBand => p.birth_year.map_or("Not known".to_string(), |b| {
            domain::codes::age_band(p.year - b).to_string()
        }),
        S::Sex => match p.sex.as_deref() {
            Some("1") => "Male",
            Some("2") => "Female",
            _ => "Other or not known",
        }
        .to_string(),
        S::EthnicGroup => p
            .ethnic_group
            .clone()
            .unwrap_or_else(|| "Not known".to_string()),
        S::LdAutism => "Not known".to_string(),
    }
}

/// Acute self-harm incidents by a characteristic of the patient: each group's count and share.
/// There is no population of acute patients by group to divide by, so these are counts and
/// shares of incidents, not rates. Under a disclosure policy, groups are suppressed by
/// `Policy::breakdown` (primary: 1-4 incidents; secondary: so that none can be had by
/// difference from the total), shown counts are rounded, and shares are of the shown counts.
/// Groups in the order of `order` (then any others by name).
pub fn acute_breakdown(
    people: &[Person],
    by: domain::measures::Stratifier,
    order: &[&str],
    policy: Option<&domain::disclosure::Policy>,
) -> Vec<GroupRow> {
    use domain::disclosure::Shown;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for p in people {
        *counts.entry(group_of(p, by)).or_default() += 1;
    }
    let mut groups: Vec<(String, u64)> = counts.into_iter().collect();
    groups.sort_by_key(|(g, _)| {
        (
            order.iter().position(|o| o == g).unwrap_or(order.len()),
            g.clone(),
        )
    });
    let n: Vec<u64> = groups.iter().map(|(_, c)| *c).collect();
    let shown: Vec<Shown<u64>> = match policy {
        None => n.iter().map(|c| Shown::Value(*c)).collect(),
        Some(p) => {
            let hidden = p.breakdown(&n, &vec![false; n.len()], None);
            n.iter()
                .zip(hidden)
                .map(|(c, h)| if h { Shown::Suppressed } else { p.count(*c) })
                .collect()
        }
    };
    let total: u64 = shown.iter().filter_map(|s| s.value()).sum();
    groups
        .into_iter()
        .zip(shown)
        .map(|((group, _), incidents)| GroupRow {
            group,
            incidents,
            percent: incidents
                .value()
                .filter(|_| total > 0)
                .map(|c| c as f64 / total as f64 * 100.0),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::dates::PeriodKind;
    use domain::measures::beyond_inpatient_catalogue;
    use time::macros::date;

    fn series<'a>(all: &'a [MeasureSeries], measure: &str, org: &str) -> &'a MeasureSeries {
        all.iter()
            .find(|s| s.measure == measure && s.org == org)
            .unwrap_or_else(|| panic!("{measure} {org}"))
    }

    fn values(s: &MeasureSeries) -> Vec<Option<f64>> {
        s.points.iter().map(|p| p.value).collect()
    }

    #[test]
    fn acute_incidents_by_setting_with_zeros_between_and_up_to_the_latest_month() {
        use AcuteSetting::*;
        let c = |org: &str, period, setting, incidents| AcuteCount {
            org: org.into(),
            period,
            setting,
            incidents,
        };
        // Counted by hand: RAC has 3 ED + 1 ward in January, nothing in February, 2 other in
        // March; RAD starts in February with 1 ED; the latest incident held is in April.
        let counts = [
            c("RAC", date!(2025 - 01 - 01), EmergencyDepartment, 3),
            c("RAC", date!(2025 - 01 - 01), AcuteWard, 1),
            c("RAC", date!(2025 - 03 - 01), Other, 2),
            c("RAD", date!(2025 - 02 - 01), EmergencyDepartment, 1),
        ];
        let all = acute_series(
            &beyond_inpatient_catalogue(),
            &counts,
            PeriodKind::Month,
            date!(2025 - 04 - 17),
        );
        let rac = series(&all, "acute_self_harm", "RAC");
        assert_eq!(rac.points[0].period, date!(2025 - 01 - 01));
        assert_eq!(
            values(rac),
            vec![Some(4.0), Some(0.0), Some(2.0), Some(0.0)]
        );
        assert_eq!(
            values(series(&all, "acute_self_harm_ed", "RAC")),
            vec![Some(3.0), Some(0.0), Some(0.0), Some(0.0)]
        );
        assert_eq!(
            values(series(&all, "acute_self_harm_ward", "RAC")),
            vec![Some(1.0), Some(0.0), Some(0.0), Some(0.0)]
        );
        assert_eq!(
            values(series(&all, "acute_self_harm_other", "RAC")),
            vec![Some(0.0), Some(0.0), Some(2.0), Some(0.0)]
        );
        assert_eq!(
            values(series(&all, "acute_self_harm", "RAD")),
            vec![Some(1.0), Some(0.0), Some(0.0)]
        );
        // No staff series from acute counts, and none at all when no acute measure is wanted.
        assert!(all.iter().all(|s| s.measure.starts_with("acute_")));
        let staff_only: Vec<Measure> = beyond_inpatient_catalogue()
            .into_iter()
            .filter(|m| m.is_staff())
            .collect();
        assert!(
            acute_series(
                &staff_only,
                &counts,
                PeriodKind::Month,
                date!(2025 - 04 - 17)
            )
            .is_empty()
        );
    }

    #[test]
    fn acute_weeks_are_iso_weeks() {
        let counts = [AcuteCount {
            org: "RAC".into(),
            // A Wednesday: counted in the week from Monday 6 January.
            period: date!(2025 - 01 - 08),
            setting: AcuteSetting::EmergencyDepartment,
            incidents: 2,
        }];
        let all = acute_series(
            &beyond_inpatient_catalogue(),
            &counts,
            PeriodKind::Week,
            date!(2025 - 01 - 14),
        );
        let s = series(&all, "acute_self_harm", "RAC");
        assert_eq!(s.points[0].period, date!(2025 - 01 - 06));
        assert_eq!(values(s), vec![Some(2.0), Some(0.0)]);
    }

    #[test]
    fn staff_months_summed_over_trusts_with_gaps_and_a_rate_over_the_headcounts_given() {
        let m = |trust: &str, month, self_harm, suicides, headcount| StaffMonth {
            org: "QAB".into(),
            trust: trust.into(),
            month,
            self_harm,
            suicides,
            headcount,
        };
        // Counted by hand for the ICB QAB: January R1 (3, 0, 2,000 staff) + R2 (2, 1, no
        // headcount); February not reported; March R1 (1, 0, 2,000) + R2 (4, 0, 3,000).
        let months = [
            m("R1", date!(2025 - 01 - 01), 3, 0, Some(2000)),
            m("R2", date!(2025 - 01 - 01), 2, 1, None),
            m("R1", date!(2025 - 03 - 01), 1, 0, Some(2000)),
            m("R2", date!(2025 - 03 - 01), 4, 0, Some(3000)),
        ];
        let all = staff_series(&beyond_inpatient_catalogue(), &months);
        assert_eq!(
            values(series(&all, "staff_self_harm", "QAB")),
            vec![Some(5.0), None, Some(5.0)]
        );
        assert_eq!(
            values(series(&all, "staff_suicides", "QAB")),
            vec![Some(1.0), None, Some(0.0)]
        );
        let rate = series(&all, "staff_self_harm_rate", "QAB");
        // January: only R1 gave a headcount: 3 / 2,000 x 1,000 = 1.5; March: 5 / 5,000 x 1,000.
        assert_eq!(values(rate), vec![Some(1.5), None, Some(1.0)]);
        assert_eq!(rate.points[0].numerator, 3.0);
        assert_eq!(rate.points[0].denominator, Some(2000.0));
        assert!(all.iter().all(|s| s.measure.starts_with("staff_")));
    }

    fn person(birth_year: Option<i32>, sex: &str) -> Person {
        Person {
            year: 2025,
            birth_year,
            sex: Some(sex.into()),
            ethnic_group: None,
        }
    }

    #[test]
    fn breakdown_by_age_band_and_sex_counted_by_hand_and_suppressed_outside() {
        use domain::disclosure::{Policy, Shown};
        use domain::measures::Stratifier;
        // 6 aged 18-24 (born 2004: 21), 2 aged 45-54 (born 1975: 50), 1 of unknown age.
        let mut people: Vec<Person> = (0..6).map(|_| person(Some(2004), "2")).collect();
        people.extend((0..2).map(|_| person(Some(1975), "1")));
        people.push(person(None, "X"));
        let order = domain::codes::AGE_BANDS;
        let rows = acute_breakdown(&people, Stratifier::AgeBand, &order, None);
        let got: Vec<(&str, Shown<u64>)> = rows
            .iter()
            .map(|r| (r.group.as_str(), r.incidents))
            .collect();
        assert_eq!(
            got,
            vec![
                ("18 to 24", Shown::Value(6)),
                ("45 to 54", Shown::Value(2)),
                ("Not known", Shown::Value(1))
            ]
        );
        assert!((rows[0].percent.unwrap() - 600.0 / 9.0).abs() < 1e-9);
        // Outside the trust: 2 and 1 are starred (together 3, under 5, so the 6 goes too:
        // otherwise the total less 6 would give them away).
        let p = Policy::default();
        let rows = acute_breakdown(&people, Stratifier::AgeBand, &order, Some(&p));
        assert!(
            rows.iter()
                .all(|r| r.incidents.is_suppressed() && r.percent.is_none())
        );
        let sex = acute_breakdown(&people, Stratifier::Sex, &["Male", "Female"], None);
        assert_eq!(
            sex.iter().map(|r| r.group.as_str()).collect::<Vec<_>>(),
            vec!["Male", "Female", "Other or not known"]
        );
    }

    #[test]
    fn a_month_without_any_headcount_has_no_rate() {
        let months = [StaffMonth {
            org: "R1".into(),
            trust: "R1".into(),
            month: date!(2025 - 05 - 01),
            self_harm: 2,
            suicides: 0,
            headcount: None,
        }];
        let all = staff_series(&beyond_inpatient_catalogue(), &months);
        assert_eq!(
            values(series(&all, "staff_self_harm_rate", "R1")),
            vec![None]
        );
        assert_eq!(
            values(series(&all, "staff_self_harm", "R1")),
            vec![Some(2.0)]
        );
    }
}
