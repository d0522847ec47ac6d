//! What `store` hands over: grouped counts and sums per organisation and period, by name, with
//! real dates. Each source is `None` for an organisation and period with no row of it at all,
//! which the series keep apart from a zero (a gap in the data is never a zero).

use std::collections::{BTreeMap, HashMap};
use time::Date;

/// Occupied bed days from the midnight census (and those on leave).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BedDays {
    pub occupied: f64,
    pub on_leave: f64,
}

/// Restrictive interventions that started in the period.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Interventions {
    pub all: f64,
    pub physical: f64,
    pub prone: f64,
    pub chemical: f64,
    pub rapid_tranquillisation: f64,
    pub mechanical: f64,
    pub seclusion: f64,
    pub segregation: f64,
    /// Distinct patients with at least one.
    pub people: f64,
    /// Distinct incidents.
    pub incidents: f64,
    /// Distinct incidents with a post-incident review held with the patient.
    pub incidents_reviewed_with_patient: f64,
}

/// Self-harm and sexual safety incidents in the period.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Incidents {
    pub self_harm: f64,
    pub self_harm_moderate_or_worse: f64,
    pub self_harm_on_leave: f64,
    pub sexual_safety: f64,
    pub sexual_assault: f64,
    pub sexual_harassment_verbal: f64,
    pub sexual_harassment_non_verbal: f64,
    pub sexual_online: f64,
}

/// Leave periods that ended (the patient came back) in the period.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Leave {
    pub ended: f64,
    pub returned_on_time: f64,
}

/// Answers to "Do you feel sexually safe on this ward?".
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Survey {
    pub answers: f64,
    pub felt_safe: f64,
}

/// The middle length of the physical restraints that started in the period.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Median {
    pub minutes: f64,
    pub restraints: f64,
}

/// Everything known about one organisation in one period.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PeriodFacts {
    pub bed_days: Option<BedDays>,
    pub interventions: Option<Interventions>,
    pub incidents: Option<Incidents>,
    pub awol_episodes: Option<f64>,
    pub leave: Option<Leave>,
    pub survey: Option<Survey>,
    /// Distinct patients with a stay overlapping the period.
    pub inpatients: Option<f64>,
    pub restraint_minutes: Option<Median>,
}

/// The facts for a set of organisations over a run of periods.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    /// Every organisation at the level asked for that has wards in scope, in order.
    pub orgs: Vec<String>,
    /// The first day of every period, in order.
    pub periods: Vec<Date>,
    pub cells: HashMap<(String, Date), PeriodFacts>,
    /// The day of every self-harm incident, by organisation, in order.
    pub self_harm_days: BTreeMap<String, Vec<Date>>,
}

impl Facts {
    /// The facts of one organisation and period (all `None` when there are none).
    pub fn get(&self, org: &str, period: Date) -> PeriodFacts {
        self.cells
            .get(&(org.to_string(), period))
            .copied()
            .unwrap_or_default()
    }

    /// The cell to fill in for an organisation and period.
    pub fn cell(&mut self, org: &str, period: Date) -> &mut PeriodFacts {
        self.cells.entry((org.to_string(), period)).or_default()
    }
}
