//! Builders shared by the tests: a project that meets each rule of the scale up to the one under
//! test, monthly dates, and series analysed by `spc`.
#![allow(dead_code)]

use qi::*;
use spc::{Analysis, Direction, Settings};
use time::{Date, macros::date};

pub const START: Date = date!(2022 - 01 - 01);
pub const TODAY: Date = date!(2025 - 06 - 15);
/// The first cycle starts at month 12 (January 2023): months 0..12 are the baseline.
pub const CYCLE_START: Date = date!(2023 - 01 - 01);

pub fn outcome() -> MeasureRef {
    MeasureRef::Catalogue("restraint_rate".into())
}
pub fn process() -> MeasureRef {
    MeasureRef::Project("huddles".into())
}
pub fn balancing() -> MeasureRef {
    MeasureRef::Catalogue("rapid_tranquillisation_rate".into())
}

/// `n` month starts from `from`.
pub fn months(from: Date, n: usize) -> Vec<Date> {
    (0..n)
        .map(|i| qi::dates::add_months(from, i as u32).unwrap())
        .collect()
}

pub fn month(i: u32) -> Date {
    qi::dates::add_months(START, i).unwrap()
}

pub fn analyse(values: &[f64], direction: Direction, rebase: &[usize]) -> Analysis {
    let v: Vec<Option<f64>> = values.iter().copied().map(Some).collect();
    spc::analyse(
        &spc::Series::values(&v),
        &Settings {
            direction,
            segment_starts: rebase.to_vec(),
            ..Settings::default()
        },
    )
    .unwrap()
}

/// Alternating values around a level with no signal of any kind.
pub fn flat(level: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| if i % 2 == 0 { level - 1.0 } else { level + 1.0 })
        .collect()
}

/// A wide alternating series (6, 20, ...) with one spike to 100 at `at`: the spike is the only
/// special cause (a point beyond the upper limit). `low` mirrors it (200 - x): one low spike.
pub fn spike(n: usize, at: usize, low: bool) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let x = if i == at {
                100.0
            } else if i % 2 == 0 {
                6.0
            } else {
                20.0
            };
            if low { 200.0 - x } else { x }
        })
        .collect()
}

/// Restraint (lower is better): 13 baseline months at 10 ± 1, then from month 13 at 6 ± 1
/// (8 months of a shift, special cause of improvement in segment 0), rebased at month
/// `rebase` (21 unless told), `n` months in all.
pub fn step(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let level = if i < 13 { 10.0 } else { 6.0 };
            if i % 2 == 0 { level - 1.0 } else { level + 1.0 }
        })
        .collect()
}

pub fn diagram() -> DriverDiagram {
    DriverDiagram {
        aim: "Reduce restraint on Ash Ward by 40% by March 2025".into(),
        primaries: vec![Primary {
            id: "p1".into(),
            text: "Calm, predictable shifts".into(),
        }],
        secondaries: vec![Secondary {
            id: "s1".into(),
            text: "Staff share the plan for the shift".into(),
            primaries: vec!["p1".into()],
        }],
        change_ideas: vec![ChangeIdea {
            id: "c1".into(),
            text: "A safety huddle at every handover".into(),
            secondaries: vec!["s1".into()],
        }],
    }
}

pub fn cycle(id: &str, start: Option<Date>, end: Option<Date>) -> Cycle {
    Cycle {
        id: id.into(),
        change_idea: "c1".into(),
        question: "Will a huddle at handover reduce restraint on nights?".into(),
        prediction: Prediction {
            measure: outcome(),
            direction: Expected::Decrease,
            text: "Fewer restraints on nights with a huddle".into(),
        },
        plan: Plan {
            who: "Night nurse in charge".into(),
            what: "Ten-minute huddle".into(),
            where_: "Ash Ward".into(),
            when: "Two weeks of nights".into(),
        },
        do_: Do {
            start,
            end,
            notes: String::new(),
        },
        study: String::new(),
        act: None,
        next: None,
    }
}

pub fn adopt(mut c: Cycle, on: Date) -> Cycle {
    c.act = Some(Act {
        decision: Decision::Adopt,
        date: on,
        notes: "Huddles at every handover".into(),
        rebase: false,
    });
    c
}

pub fn org() -> Organisation {
    Organisation {
        level: OrgLevel::Ward,
        code: "ASH".into(),
    }
}

/// Registered only (0.5).
pub fn registered() -> Project {
    Project::new("Safety huddles on Ash Ward", org())
}

/// Charter and a lead (1.0).
pub fn chartered() -> Project {
    let mut p = registered();
    p.charter = "Restraint on Ash Ward is twice the trust's rate.".into();
    p.team = vec![
        TeamMember {
            user: "ward.manager".into(),
            role: TeamRole::Lead,
        },
        TeamMember {
            user: "matron".into(),
            role: TeamRole::Sponsor,
        },
    ];
    p
}

/// Aim and measures (1.5).
pub fn planned() -> Project {
    let mut p = chartered();
    p.aim = Some(Aim {
        measure: outcome(),
        baseline: 10.0,
        target: 4.0,
        target_date: date!(2025 - 12 - 31),
    });
    p.measures = vec![
        FamilyMeasure {
            role: MeasureRole::Outcome,
            measure: outcome(),
            name: "Restraints per 1,000 occupied bed days".into(),
        },
        FamilyMeasure {
            role: MeasureRole::Process,
            measure: process(),
            name: "% of shifts with a safety huddle".into(),
        },
        FamilyMeasure {
            role: MeasureRole::Balancing,
            measure: balancing(),
            name: "Rapid tranquillisation per 1,000 occupied bed days".into(),
        },
    ];
    p.diagram = diagram();
    p
}

/// A cycle planned, starting at CYCLE_START, not yet ended.
pub fn with_planned_cycle() -> Project {
    let mut p = planned();
    p.cycles = vec![cycle("c1-1", Some(CYCLE_START), None)];
    p
}

/// A cycle done: January 2023.
pub fn with_done_cycle() -> Project {
    let mut p = planned();
    p.cycles = vec![cycle(
        "c1-1",
        Some(CYCLE_START),
        Some(date!(2023 - 01 - 31)),
    )];
    p
}

/// A series with its dates, owned, so tests can borrow a `MeasureSeries` from it.
pub struct Owned {
    pub measure: MeasureRef,
    pub direction: Direction,
    pub dates: Vec<Date>,
    pub analysis: Analysis,
}

impl Owned {
    pub fn new(
        measure: MeasureRef,
        direction: Direction,
        values: &[f64],
        rebase: &[usize],
    ) -> Owned {
        Owned {
            measure,
            direction,
            dates: months(START, values.len()),
            analysis: analyse(values, direction, rebase),
        }
    }

    pub fn starting(mut self, from: Date) -> Owned {
        self.dates = months(from, self.dates.len());
        self
    }

    pub fn series(&self) -> MeasureSeries<'_> {
        MeasureSeries {
            measure: &self.measure,
            direction: self.direction,
            dates: &self.dates,
            analysis: &self.analysis,
        }
    }
}

pub fn score(p: &Project, owned: &[&Owned]) -> Suggestion {
    let s: Vec<MeasureSeries<'_>> = owned.iter().map(|o| o.series()).collect();
    suggest(p, TODAY, &s, &[]).unwrap()
}

pub fn halves(s: &Suggestion) -> u8 {
    s.score.halves()
}
