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

/// FREED figures of a service, trust or region in one period (issue 14), counted from its
/// referrals by `pathway`'s rules (`crate::freed`; docs/freed.md, "Monthly and weekly figures").
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Freed {
    /// Per clock (engagement, assessment, treatment, children's): decided in the period.
    pub clocks_decided: [f64; 4],
    /// Per clock: met, of those decided.
    pub clocks_met: [f64; 4],
    /// Referrals whose first attended treatment was in the period.
    pub treated: f64,
    /// Their median days from referral to treatment (`None`: nobody treated).
    pub median_days_to_treatment: Option<f64>,
    /// Of the treated, those with a DUED (onset known).
    pub with_dued: f64,
    pub median_dued: Option<f64>,
    /// Of the treated, those whose onset is known to the day.
    pub precise_onset: f64,
    /// DUED distribution (under 3 months, 3-6, 6-12, 12-24, 24-36, 36 months or more).
    pub dued_bins: [f64; 6],
    /// Eligible referrals received in the period, followed up long enough to count in uptake.
    pub eligible_followed_up: f64,
    /// Of those, started treatment within the follow-up window.
    pub started: f64,
    /// Referrals waiting at the end of the period.
    pub waiting: f64,
}

/// Ligature register figures of a ward, site, trust or region at one period's end (issue 13),
/// from its wards' registers as their signed-off audits left them (`crate::ligature`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Ligature {
    /// Open points with a high or extreme residual risk.
    pub open_high: f64,
    /// Their median age in days (`None`: no such point).
    pub median_high_age: Option<f64>,
    /// Audits signed off in the period, and those within the trust's interval of the last.
    pub audits: f64,
    pub audits_on_time: f64,
    /// Actions open at the period's end, and those past their due date.
    pub actions_open: f64,
    pub actions_overdue: f64,
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
    /// FREED figures, for a service, trust or region with referrals over the period's span.
    pub freed: Option<Freed>,
    /// Ligature register figures, for an organisation with a ward audited by the period's end.
    pub ligature: Option<Ligature>,
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

/// One ward stay of a patient, as day numbers are turned into dates: the organisation it
/// counts for (at the level asked), a patient key, the first and (if it ended) last day.
#[derive(Clone, Debug, PartialEq)]
pub struct StaySpan {
    pub org: String,
    pub patient: String,
    pub start: Date,
    pub end: Option<Date>,
}

/// Distinct patients with a stay overlapping each period, per organisation: each stay is walked
/// through the periods it touches (a few for most stays), instead of joining every stay to
/// every period in SQL, which grows as stays times weeks.
pub fn inpatients(
    stays: &[StaySpan],
    kind: domain::dates::PeriodKind,
    periods: &[Date],
) -> HashMap<(String, Date), f64> {
    let mut count = InpatientCount::new(kind, periods);
    for s in stays {
        count.add(&s.org, &s.patient, s.start, s.end);
    }
    count.finish()
}

/// [`inpatients`] fed one stay at a time (the store streams them: at a national size the
/// region's stays are over a million rows, never held at once). Each stay keeps 16 bytes: its
/// organisation and patient as small numbers and the first and last period it touches. At the
/// end a patient's overlapping stays are merged per organisation, so that they count once in
/// each period, and the counts are read from a difference array: memory grows with stays, not
/// with stays times periods.
pub struct InpatientCount {
    kind: domain::dates::PeriodKind,
    periods: Vec<Date>,
    last_day: Option<Date>,
    patients: HashMap<String, u32>,
    orgs: HashMap<String, u32>,
    /// (organisation, patient, first period index, last period index).
    spans: Vec<(u32, u32, u32, u32)>,
}

impl InpatientCount {
    /// `periods` are consecutive period starts of `kind`, in order.
    pub fn new(kind: domain::dates::PeriodKind, periods: &[Date]) -> Self {
        let last_day = periods
            .last()
            .map(|&p| kind.next_start(p).previous_day().unwrap_or(p));
        InpatientCount {
            kind,
            periods: periods.to_vec(),
            last_day,
            patients: HashMap::new(),
            orgs: HashMap::new(),
            spans: Vec::new(),
        }
    }

    /// One stay of `patient` counted for `org`, from `start` to `end` (open if `None`).
    pub fn add(&mut self, org: &str, patient: &str, start: Date, end: Option<Date>) {
        let (Some(&first), Some(last_day)) = (self.periods.first(), self.last_day) else {
            return;
        };
        let end = end.map_or(last_day, |e| e.min(last_day));
        let from = self.kind.start_of(start.max(first));
        if end < first || start > last_day || from > end {
            return;
        }
        let index = |d: Date| {
            let p = self.kind.start_of(d);
            self.periods.partition_point(|&x| x < p) as u32
        };
        let (p0, p1) = (index(from), index(end));
        let patient = intern(&mut self.patients, patient);
        let org = intern(&mut self.orgs, org);
        self.spans.push((org, patient, p0, p1));
    }

    pub fn finish(mut self) -> HashMap<(String, Date), f64> {
        let n = self.periods.len();
        self.spans.sort_unstable();
        // Per organisation, +1 where a patient's (merged) run of periods starts and -1 after it.
        let mut diff: HashMap<u32, Vec<i64>> = HashMap::new();
        let mut flush = |org: u32, p0: u32, p1: u32| {
            let d = diff.entry(org).or_insert_with(|| vec![0; n + 1]);
            d[p0 as usize] += 1;
            d[p1 as usize + 1] -= 1;
        };
        let mut current: Option<(u32, u32, u32, u32)> = None;
        for &(org, patient, p0, p1) in &self.spans {
            current = match current {
                Some((o, p, a, b)) if o == org && p == patient && p0 <= b => {
                    Some((o, p, a, b.max(p1)))
                }
                Some((o, _, a, b)) => {
                    flush(o, a, b);
                    Some((org, patient, p0, p1))
                }
                None => Some((org, patient, p0, p1)),
            };
        }
        if let Some((o, _, a, b)) = current {
            flush(o, a, b);
        }
        let names: HashMap<u32, String> = self.orgs.into_iter().map(|(k, v)| (v, k)).collect();
        let mut out = HashMap::new();
        for (org, d) in diff {
            let mut running = 0i64;
            for (i, start) in self.periods.iter().enumerate() {
                running += d[i];
                if running > 0 {
                    out.insert((names[&org].clone(), *start), running as f64);
                }
            }
        }
        out
    }
}

/// The small number standing for `name` (the next one if it is new).
fn intern(ids: &mut HashMap<String, u32>, name: &str) -> u32 {
    if let Some(&id) = ids.get(name) {
        return id;
    }
    let id = ids.len() as u32;
    ids.insert(name.to_string(), id);
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::dates::PeriodKind;
    use time::macros::date;

    #[test]
    fn a_patient_counts_once_in_every_period_a_stay_touches() {
        let span = |patient: &str, start, end| StaySpan {
            org: "R8A".into(),
            patient: patient.into(),
            start,
            end,
        };
        let stays = vec![
            span("a", date!(2024 - 01 - 20), Some(date!(2024 - 02 - 10))),
            // Two stays of one patient in January: once.
            span("b", date!(2024 - 01 - 02), Some(date!(2024 - 01 - 05))),
            span("b", date!(2024 - 01 - 25), None),
            // Before the periods and ended: not counted.
            span("c", date!(2023 - 06 - 01), Some(date!(2023 - 12 - 31))),
        ];
        let months = [
            date!(2024 - 01 - 01),
            date!(2024 - 02 - 01),
            date!(2024 - 03 - 01),
        ];
        let n = inpatients(&stays, PeriodKind::Month, &months);
        let at = |d| n.get(&("R8A".to_string(), d)).copied().unwrap_or(0.0);
        assert_eq!(at(date!(2024 - 01 - 01)), 2.0);
        assert_eq!(at(date!(2024 - 02 - 01)), 2.0);
        assert_eq!(at(date!(2024 - 03 - 01)), 1.0, "b's open stay runs on");
    }
}
