//! # ligature: the ligature point register as rules (issue 13, pure part)
//!
//! A ward's register is the sum of its signed-off audits (`register`): areas with their CQC
//! tier, points with a lasting reference and each audit's record of them (still present,
//! changed, removed, new), so any point's history and its risk age per band can be read. The
//! 5x5 NHS risk matrix and its bands, controls, kinds of point and height bands are in `model`;
//! actions, overdue actions and reviews, the escalation rule and the ward's measures in
//! `rules`; photo checks (JPEG or PNG only, metadata stripped) in `photo`; who may see and edit
//! a register in `access` (asked of `domain::access::Grant`). Rules in docs/ligature.md.
//!
//! Pure: no I/O, no clock (every answer is as of a given day).

pub mod access;
pub mod error;
pub mod model;
pub mod photo;
pub mod register;
pub mod rules;

pub use error::{Problem, Problems};
pub use model::{Area, Band, Banding, ControlKind, HeightBand, PointState, PointType, Risk, Tier};
pub use register::{Audit, Change, Finding, HistoryEntry, Point, Register, SignOff};
pub use rules::{
    Action, ActionInput, ActionStatus, Controlled, Escalation, Settings, WardFigures, controlled_on,
};

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use time::{Date, Duration, macros::date};

    fn state(
        area: &str,
        l: i64,
        c: i64,
        rl: i64,
        rc: i64,
        controls: &[ControlKind],
        review: Date,
    ) -> PointState {
        PointState {
            area: area.into(),
            location: "by the window".into(),
            description: "curtain rail".into(),
            kind: PointType::Rail,
            height: HeightBand::High,
            inherent: Risk::new(l, c).unwrap(),
            residual: Risk::new(rl, rc).unwrap(),
            controls: controls.to_vec(),
            review_due: review,
        }
    }

    fn audit(id: i64, d: Date, areas: Vec<Area>, findings: Vec<(&str, Finding)>) -> Audit {
        Audit {
            id,
            ward: "R9A-ASH".into(),
            date: d,
            assessor: "A. Assessor".into(),
            areas,
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

    fn areas() -> Vec<Area> {
        vec![
            Area::new("BED-01", "Bedroom 1", Tier::Three).unwrap(),
            Area::new("LOUNGE", "Lounge", Tier::One).unwrap(),
        ]
    }

    const V: ControlKind = ControlKind::StaffVigilance;

    fn two_audits() -> Vec<Audit> {
        let d1 = date!(2024 - 01 - 10);
        let d2 = date!(2024 - 07 - 10);
        let r = date!(2025 - 01 - 10);
        vec![
            audit(
                1,
                d1,
                areas(),
                vec![
                    ("P-1", Finding::New(state("BED-01", 4, 5, 3, 5, &[V], r))),
                    (
                        "P-2",
                        Finding::New(state("BED-01", 3, 4, 2, 3, &[ControlKind::Observation], r)),
                    ),
                    ("P-3", Finding::New(state("LOUNGE", 2, 5, 2, 5, &[V], r))),
                ],
            ),
            audit(
                2,
                d2,
                vec![],
                vec![
                    ("P-1", Finding::Present),
                    ("P-2", Finding::Removed),
                    (
                        "P-3",
                        Finding::Changed(state(
                            "LOUNGE",
                            2,
                            5,
                            1,
                            3,
                            &[ControlKind::AntiLigature],
                            r,
                        )),
                    ),
                    (
                        "P-4",
                        Finding::New(state(
                            "BED-01",
                            3,
                            5,
                            3,
                            4,
                            &[ControlKind::RestrictedAccess],
                            r,
                        )),
                    ),
                ],
            ),
        ]
    }

    /// Carry-over: two audits, one removing and adding points; each point's history and age.
    #[test]
    fn carry_over_and_history() {
        let reg = Register::replay("R9A-ASH", &two_audits()).unwrap();
        let as_of = date!(2024 - 10 - 10);
        let b = Banding::default();
        let p1 = &reg.points["P-1"];
        assert_eq!(p1.history().len(), 2);
        assert_eq!(p1.age_days(as_of), 274);
        // 15: extreme throughout.
        assert_eq!(p1.band_days(b, as_of), [0, 0, 0, 274]);
        let p2 = &reg.points["P-2"];
        assert!(!p2.is_open());
        assert_eq!(p2.removed_on(), Some(date!(2024 - 07 - 10)));
        assert_eq!(p2.age_days(as_of), 182);
        assert_eq!(p2.band_days(b, as_of), [0, 182, 0, 0]);
        let p3 = &reg.points["P-3"];
        // 10 (high) for 182 days, then 3 (low).
        assert_eq!(p3.band_days(b, as_of), [92, 0, 182, 0]);
        assert_eq!(p3.days_in_band(b, as_of), 92);
        assert_eq!(reg.points["P-4"].first_seen(), date!(2024 - 07 - 10));
        assert_eq!(reg.open_points().count(), 3);
        assert_eq!(reg.audits[1].removed, 1);
        assert_eq!(reg.audits[1].new, 1);
    }

    /// Incidents at a place (issue 13, item 4): what the register called each point on a day.
    #[test]
    fn what_the_register_called_controlled_on_a_day() {
        let reg = Register::replay("R9A-ASH", &two_audits()).unwrap();
        let b = Banding::default();
        let on = |p: &str, d| controlled_on(&reg.points[p], b, d);
        // Before the first audit: not on the register.
        assert_eq!(on("P-1", date!(2024 - 01 - 09)), None);
        // Extreme with vigilance only: never controlled.
        assert_eq!(on("P-1", date!(2024 - 01 - 10)), None);
        assert_eq!(on("P-1", date!(2025 - 01 - 01)), None);
        // P-2: residual 6 (moderate) under observation, then removed on 2024-07-10.
        assert_eq!(on("P-2", date!(2024 - 03 - 01)), None);
        assert_eq!(on("P-2", date!(2024 - 07 - 10)), Some(Controlled::Removed));
        // P-3: high (10), then replaced with an anti-ligature fitting (residual 3).
        assert_eq!(on("P-3", date!(2024 - 07 - 09)), None);
        assert_eq!(on("P-3", date!(2024 - 08 - 01)), Some(Controlled::Replaced));
        // A low residual alone.
        let mut a = two_audits();
        a[1].findings.insert(
            "P-1".into(),
            Finding::Changed(state(
                "BED-01",
                4,
                5,
                1,
                3,
                &[ControlKind::RestrictedAccess],
                date!(2025 - 01 - 10),
            )),
        );
        let reg = Register::replay("R9A-ASH", &a).unwrap();
        assert_eq!(
            controlled_on(&reg.points["P-1"], b, date!(2024 - 09 - 01)),
            Some(Controlled::LowResidual)
        );
    }

    #[test]
    fn a_point_missed_is_refused_and_nothing_changes() {
        let mut audits = two_audits();
        audits[1].findings.remove("P-1");
        let mut reg = Register::replay("R9A-ASH", &audits[..1]).unwrap();
        let before = reg.clone();
        let e = reg.apply(&audits[1]).unwrap_err();
        assert_eq!(e.0.len(), 1);
        assert_eq!(e.0[0].field, "findings[P-1]");
        assert_eq!(reg, before);
        assert!(
            Register::replay("R9A-ASH", &audits).unwrap_err().0[0]
                .field
                .starts_with("audits[2].")
        );
    }

    #[test]
    fn a_point_in_an_area_of_another_ward_is_refused() {
        let mut audits = two_audits();
        audits[1].findings.insert(
            "P-9".into(),
            Finding::New(state(
                "RXT-OAK-BED-02",
                3,
                3,
                2,
                2,
                &[],
                date!(2025 - 01 - 01),
            )),
        );
        let reg = Register::replay("R9A-ASH", &audits[..1]).unwrap();
        let ps = reg.check(&audits[1]);
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].field, "findings[P-9].area");
        assert_eq!(ps[0].expected, "an area of ward R9A-ASH");
    }

    #[test]
    fn other_bad_findings_name_their_field() {
        let reg = Register::replay("R9A-ASH", &two_audits()).unwrap();
        let d = date!(2025 - 01 - 20);
        let mut a = audit(
            3,
            d,
            vec![],
            vec![
                ("P-1", Finding::New(state("BED-01", 2, 2, 1, 1, &[], d))),
                ("P-2", Finding::Present),
                ("P-7", Finding::Removed),
                (
                    "P-3",
                    Finding::Changed(state("LOUNGE", 2, 2, 3, 3, &[], d - Duration::days(1))),
                ),
            ],
        );
        a.signed_off = None;
        let fields: Vec<String> = reg.check(&a).into_iter().map(|p| p.field).collect();
        assert!(fields.contains(&"findings[P-1]".to_string()));
        assert!(fields.contains(&"findings[P-2]".to_string()));
        assert!(fields.contains(&"findings[P-7]".to_string()));
        assert!(fields.contains(&"findings[P-3].residual".to_string()));
        assert!(fields.contains(&"findings[P-3].review_due".to_string()));
        assert!(fields.contains(&"findings[P-4]".to_string()));
        let mut r2 = reg.clone();
        assert!(
            r2.apply(&a)
                .unwrap_err()
                .0
                .iter()
                .any(|p| p.field == "signed_off")
        );
        let mut early = audit(4, date!(2023 - 01 - 01), vec![], vec![]);
        early.findings = BTreeMap::new();
        assert!(reg.check(&early).iter().any(|p| p.field == "date"));
    }

    #[test]
    fn escalation_after_the_trusts_days() {
        let reg = Register::replay("R9A-ASH", &two_audits()).unwrap();
        let s = Settings::new(28, 365).unwrap();
        // P-1: tier 3, 15, vigilance only, since 2024-01-10. P-3 was tier 1: never.
        let e = rules::escalations(&reg, s, date!(2024 - 02 - 07));
        assert!(e.is_empty(), "28 days is not beyond 28: {e:?}");
        let e = rules::escalations(&reg, s, date!(2024 - 02 - 08));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].point, "P-1");
        assert_eq!(e[0].days, 29);
        assert_eq!(e[0].band, Band::Extreme);
        let s0 = Settings::new(0, 365).unwrap();
        assert!(rules::escalations(&reg, s0, date!(2024 - 01 - 10)).is_empty());
        assert_eq!(rules::escalations(&reg, s0, date!(2024 - 01 - 11)).len(), 1);
    }

    #[test]
    fn a_control_added_ends_the_escalation() {
        let mut audits = two_audits();
        let r = date!(2025 - 06 - 01);
        audits.push(audit(
            3,
            date!(2024 - 12 - 01),
            vec![],
            vec![
                (
                    "P-1",
                    Finding::Changed(state(
                        "BED-01",
                        4,
                        5,
                        3,
                        5,
                        &[ControlKind::Observation, V],
                        r,
                    )),
                ),
                ("P-3", Finding::Present),
                ("P-4", Finding::Present),
            ],
        ));
        let reg = Register::replay("R9A-ASH", &audits).unwrap();
        assert!(rules::escalations(&reg, Settings::default(), date!(2025 - 03 - 01)).is_empty());
    }

    #[test]
    fn actions_and_overdue() {
        let reg = Register::replay("R9A-ASH", &two_audits()).unwrap();
        let input = ActionInput {
            point: "p-1",
            description: "Replace the curtain rail with a collapsible one",
            owner: "Estates (J. Smith)",
            raised: Some(date!(2024 - 07 - 10)),
            due: Some(date!(2024 - 07 - 01)),
            status: "open",
            closed: None,
            reference: "WO-1234",
        };
        let e = Action::new(&input, &reg).unwrap_err();
        assert_eq!(e.0[0].field, "due");
        assert!(
            e.to_string()
                .contains("on or after the day it was raised (2024-07-10)")
        );
        let ok = Action::new(
            &ActionInput {
                due: Some(date!(2024 - 09 - 01)),
                ..input.clone()
            },
            &reg,
        )
        .unwrap();
        assert_eq!(ok.point, "P-1");
        assert!(ok.is_overdue(date!(2024 - 09 - 02)));
        assert!(!ok.is_overdue(date!(2024 - 09 - 01)));
        let bad = Action::new(
            &ActionInput {
                point: "P-99",
                status: "done",
                ..input.clone()
            },
            &reg,
        )
        .unwrap_err();
        let fields: Vec<&str> = bad.0.iter().map(|p| p.field.as_str()).collect();
        assert!(fields.contains(&"point") && fields.contains(&"closed"));
        let f = rules::ward_figures(&reg, &[ok], Settings::default(), date!(2024 - 10 - 10));
        assert_eq!(f.open, 3);
        assert_eq!(f.open_high, 2); // P-1 (15) and P-4 (12)
        assert_eq!(f.open_extreme, 1);
        assert_eq!(f.median_high_age_days, Some((274.0 + 92.0) / 2.0));
        assert_eq!((f.audits_on_time, f.audits), (2, 2));
        assert_eq!((f.actions_overdue, f.actions_open), (1, 1));
        assert_eq!(rules::overdue_reviews(&reg, date!(2025 - 02 - 01)).len(), 3);
    }

    // Property tests: random audit sequences.

    #[derive(Clone, Debug)]
    enum Step {
        Keep,
        Change(i64, i64, bool),
        Remove,
    }

    fn sequence() -> impl Strategy<Value = (Vec<(u16, Vec<Step>, u8)>, u16)> {
        let step = prop_oneof![
            Just(Step::Keep),
            (1i64..=5, 1i64..=5, any::<bool>()).prop_map(|(l, c, v)| Step::Change(l, c, v)),
            Just(Step::Remove),
        ];
        (
            proptest::collection::vec(
                (0u16..200, proptest::collection::vec(step, 0..8), 0u8..3),
                1..6,
            ),
            0u16..400,
        )
    }

    /// Build audits from steps: each audit walks every open point with the step for it (default
    /// keep) and adds `new` points.
    fn build(steps: &[(u16, Vec<Step>, u8)]) -> Vec<Audit> {
        let mut audits = Vec::new();
        let mut reg = Register::new("R9A-ASH");
        let mut d = date!(2022 - 01 - 01);
        let mut next = 0;
        for (i, (gap, st, new)) in steps.iter().enumerate() {
            d += Duration::days(i64::from(*gap));
            let review = d + Duration::days(180);
            let mut findings = BTreeMap::new();
            for (k, p) in reg.open_points().enumerate() {
                let f = match st.get(k).cloned().unwrap_or(Step::Keep) {
                    Step::Keep => Finding::Present,
                    Step::Remove => Finding::Removed,
                    Step::Change(l, c, v) => {
                        let controls = if v {
                            vec![V]
                        } else {
                            vec![ControlKind::Observation]
                        };
                        Finding::Changed(state(&p.state().area, 5, 5, l, c, &controls, review))
                    }
                };
                findings.insert(p.reference.clone(), f);
            }
            for _ in 0..*new {
                next += 1;
                findings.insert(
                    format!("P-{next}"),
                    Finding::New(state("BED-01", 5, 5, 4, 4, &[V], review)),
                );
            }
            let a = Audit {
                id: i as i64 + 1,
                ward: "R9A-ASH".into(),
                date: d,
                assessor: "x".into(),
                areas: if i == 0 { areas() } else { vec![] },
                findings,
                signed_off: Some(SignOff {
                    by: "x".into(),
                    on: d,
                }),
            };
            reg.apply(&a).unwrap();
            audits.push(a);
        }
        audits
    }

    proptest! {
        #[test]
        fn replaying_audits_gives_the_register((steps, extra) in sequence()) {
            let audits = build(&steps);
            let mut one_by_one = Register::new("R9A-ASH");
            for a in &audits {
                one_by_one.apply(a).unwrap();
            }
            let mut shuffled = audits.clone();
            shuffled.reverse();
            let replayed = Register::replay("R9A-ASH", &shuffled).unwrap();
            prop_assert_eq!(&replayed, &one_by_one);
            // Each point's latest state is its last audit's finding.
            let last = audits.last().unwrap();
            for p in replayed.open_points() {
                if let Some(Finding::Changed(s) | Finding::New(s)) = last.findings.get(&p.reference) {
                    prop_assert_eq!(p.state(), s);
                }
            }
            let as_of = last.date + Duration::days(i64::from(extra));
            let b = Banding::default();
            for p in replayed.points.values() {
                let days = p.band_days(b, as_of);
                prop_assert!(days.iter().all(|d| *d >= 0));
                prop_assert_eq!(days.iter().sum::<i64>(), p.age_days(as_of));
                prop_assert!(p.days_in_band(b, as_of) <= p.age_days(as_of));
                // Even asked about a day before it existed, no age is negative.
                prop_assert!(p.age_days(date!(2000 - 01 - 01)) >= 0);
                prop_assert!(p.band_days(b, date!(2000 - 01 - 01)).iter().all(|d| *d >= 0));
            }
            for e in rules::escalations(&replayed, Settings::default(), as_of) {
                prop_assert!(e.days > 28);
                prop_assert!(e.tier != Tier::One);
                prop_assert!(e.band.is_high());
            }
        }
    }
}
