//! The ligature register's facts (issue 13): for each organisation and period, its wards'
//! registers as their signed-off audits stood at the period's end (`ligature::Register::replay`
//! of the audits dated by then), counted by the register's own rules. The rules are in
//! docs/ligature.md ("Measures"):
//! - open high and extreme points, and their median age, at the period's end (or at `as_of`
//!   for the current period), pooled over the organisation's wards;
//! - audits signed off in the period, and those within the trust's interval of the ward's
//!   previous audit (a ward's first audit counts as on time);
//! - actions open at the period's end, and those past their due date
//!   (`ligature::rules::ward_figures`).
//!
//! An organisation has figures from the period of its wards' first audit on: before any ward
//! was audited nothing is known (a gap, never a zero).

use crate::facts::{Facts, Ligature};
use domain::dates::PeriodKind;
use ligature::{Action, Audit, Register, Settings};
use std::collections::HashMap;
use time::Date;

/// One ward's register as held: every audit (drafts are left out), its actions, its trust's
/// settings.
pub struct WardRegister<'a> {
    pub ward: &'a str,
    pub audits: &'a [Audit],
    pub actions: &'a [Action],
    pub settings: Settings,
}

/// The facts of `groups` (an organisation and its wards' registers) for each `kind` period from
/// `from` to `to` (both included), each read at its last day or at `as_of` if sooner.
pub fn facts(
    groups: &[(String, Vec<WardRegister<'_>>)],
    kind: PeriodKind,
    from: Date,
    to: Date,
    as_of: Date,
) -> Facts {
    let mut periods = Vec::new();
    let mut p = kind.start_of(from);
    while p <= to {
        periods.push(p);
        p = kind.next_start(p);
    }
    let mut out = Facts {
        orgs: groups.iter().map(|(k, _)| k.clone()).collect(),
        periods: periods.clone(),
        cells: HashMap::new(),
        ..Facts::default()
    };
    for (org, wards) in groups {
        for &start in &periods {
            let end = kind.next_start(start);
            let day = (end - time::Duration::days(1)).min(as_of);
            if day < start {
                continue;
            }
            if let Some(f) = figures(wards, start, end, day) {
                out.cell(org, start).ligature = Some(f);
            }
        }
    }
    out
}

/// The figures of some wards over the period `start..end`, read on `day`; `None` when none of
/// them had been audited by then.
fn figures(wards: &[WardRegister<'_>], start: Date, end: Date, day: Date) -> Option<Ligature> {
    let mut f = Ligature::default();
    let mut ages = Vec::new();
    let mut known = false;
    for w in wards {
        let signed: Vec<Audit> = w
            .audits
            .iter()
            .filter(|a| a.signed_off.is_some() && a.date <= day)
            .cloned()
            .collect();
        if signed.is_empty() {
            continue;
        }
        // A register that does not replay (it never should: audits are checked whole before
        // they are kept) gives no figures rather than wrong ones.
        let Ok(reg) = Register::replay(w.ward, &signed) else {
            continue;
        };
        known = true;
        let b = w.settings.banding;
        for p in reg.open_points().filter(|p| p.band(b).is_high()) {
            f.open_high += 1.0;
            ages.push(p.age_days(day));
        }
        let dates: Vec<Date> = reg.audits.iter().map(|a| a.date).collect();
        for (i, d) in dates.iter().enumerate() {
            if *d >= start && *d < end {
                f.audits += 1.0;
                if i == 0 || (*d - dates[i - 1]).whole_days() <= w.settings.audit_interval_days {
                    f.audits_on_time += 1.0;
                }
            }
        }
        let wf = ligature::rules::ward_figures(&reg, w.actions, w.settings, day);
        f.actions_open += wf.actions_open as f64;
        f.actions_overdue += wf.actions_overdue as f64;
    }
    f.median_high_age = ligature::rules::median(ages);
    known.then_some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ligature::{
        ActionStatus, Area, ControlKind, Finding, HeightBand, PointState, PointType, Risk, SignOff,
        Tier,
    };
    use time::macros::date;

    fn state(l: i64, c: i64) -> PointState {
        PointState {
            area: "BED-01".into(),
            location: "by the window".into(),
            description: "curtain rail".into(),
            kind: PointType::Rail,
            height: HeightBand::High,
            inherent: Risk::new(5, 5).unwrap(),
            residual: Risk::new(l, c).unwrap(),
            controls: vec![ControlKind::StaffVigilance],
            review_due: date!(2030 - 01 - 01),
        }
    }

    fn audit(id: i64, d: Date, findings: Vec<(&str, Finding)>) -> Audit {
        Audit {
            id,
            ward: "R9A-ASH".into(),
            date: d,
            assessor: "A. Assessor".into(),
            areas: if id == 1 {
                vec![Area::new("BED-01", "Bedroom 1", Tier::Three).unwrap()]
            } else {
                Vec::new()
            },
            findings: findings
                .into_iter()
                .map(|(k, f)| (k.to_string(), f))
                .collect(),
            signed_off: Some(SignOff {
                by: "A. Assessor".into(),
                on: d,
            }),
        }
    }

    #[test]
    fn figures_at_each_months_end_from_the_register_as_it_stood() {
        // January: two points, one high (4x3 = 12) and one low (1x2); March (on time within
        // 90 days): the high point still present, a second high point (5x4 = 20, extreme) found;
        // the low one removed. July: late (more than 90 days after March).
        let audits = vec![
            audit(
                1,
                date!(2024 - 01 - 10),
                vec![
                    ("P1", Finding::New(state(4, 3))),
                    ("P2", Finding::New(state(1, 2))),
                ],
            ),
            audit(
                2,
                date!(2024 - 03 - 20),
                vec![
                    ("P1", Finding::Present),
                    ("P2", Finding::Removed),
                    ("P3", Finding::New(state(5, 4))),
                ],
            ),
            audit(
                3,
                date!(2024 - 07 - 01),
                vec![("P1", Finding::Present), ("P3", Finding::Present)],
            ),
        ];
        let actions = vec![Action {
            point: "P1".into(),
            description: "Replace the rail".into(),
            owner: "Estates".into(),
            raised: date!(2024 - 01 - 10),
            due: date!(2024 - 02 - 15),
            status: ActionStatus::parse("open").unwrap(),
            closed: None,
            reference: Some("WO-1".into()),
        }];
        let settings = Settings::new(30, 90).unwrap();
        let wards = vec![WardRegister {
            ward: "R9A-ASH",
            audits: &audits,
            actions: &actions,
            settings,
        }];
        let groups = vec![("R9A-ASH".to_string(), wards)];
        let f = facts(
            &groups,
            PeriodKind::Month,
            date!(2023 - 12 - 01),
            date!(2024 - 07 - 31),
            date!(2024 - 07 - 15),
        );
        let at = |m: Date| {
            f.cells
                .get(&("R9A-ASH".to_string(), m))
                .and_then(|c| c.ligature)
        };
        assert_eq!(
            at(date!(2023 - 12 - 01)),
            None,
            "before the first audit: a gap"
        );
        let jan = at(date!(2024 - 01 - 01)).unwrap();
        assert_eq!((jan.open_high, jan.median_high_age), (1.0, Some(21.0)));
        assert_eq!((jan.audits, jan.audits_on_time), (1.0, 1.0));
        assert_eq!((jan.actions_open, jan.actions_overdue), (1.0, 0.0));
        let feb = at(date!(2024 - 02 - 01)).unwrap();
        assert_eq!(feb.audits, 0.0, "no audit in February");
        assert_eq!(
            feb.actions_overdue, 1.0,
            "due 15 February, still open on the 29th"
        );
        let mar = at(date!(2024 - 03 - 01)).unwrap();
        assert_eq!(mar.open_high, 2.0);
        // P1 first seen 10 January (81 days on 31 March), P3 on 20 March (11 days).
        assert_eq!(mar.median_high_age, Some(46.0));
        assert_eq!((mar.audits, mar.audits_on_time), (1.0, 1.0));
        // July is read on 15 July (as of), its audit 103 days after March's: late.
        let jul = at(date!(2024 - 07 - 01)).unwrap();
        assert_eq!((jul.audits, jul.audits_on_time), (1.0, 0.0));
        assert_eq!(jul.median_high_age, Some(((187 + 117) as f64) / 2.0));
        // The chart series: the open points, the percentage of audits on time.
        let cat = domain::measures::ligature_catalogue();
        let series = crate::series::assemble(&cat, &f);
        let open = series
            .iter()
            .find(|s| s.measure == "ligature_open_high")
            .unwrap();
        let values: Vec<Option<f64>> = open.points.iter().map(|p| p.value).collect();
        assert_eq!(
            values[..5],
            [None, Some(1.0), Some(1.0), Some(2.0), Some(2.0)]
        );
        let on_time = series
            .iter()
            .find(|s| s.measure == "ligature_audits_on_time")
            .unwrap();
        assert_eq!(on_time.points[1].value, Some(100.0));
        assert_eq!(on_time.points[2].value, None, "no audit in February: a gap");
        assert_eq!(on_time.points[7].value, Some(0.0));
        let age = series
            .iter()
            .find(|s| s.measure == "ligature_median_high_age")
            .unwrap();
        assert_eq!(age.points[3].denominator, Some(2.0), "the median's events");
    }
}
