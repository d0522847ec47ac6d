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
    let (Some(&first), Some(&last_start)) = (periods.first(), periods.last()) else {
        return HashMap::new();
    };
    let last_day = kind
        .next_start(last_start)
        .previous_day()
        .unwrap_or(last_start);
    // Patients and organisations as small numbers: the sets hold millions of entries at a
    // national size.
    let mut patient_ids: HashMap<&str, u32> = HashMap::new();
    let mut org_ids: HashMap<&str, u32> = HashMap::new();
    let mut seen: std::collections::HashSet<(u32, Date, u32)> = std::collections::HashSet::new();
    let mut counts: HashMap<(u32, Date), f64> = HashMap::new();
    for s in stays {
        let end = s.end.map_or(last_day, |e| e.min(last_day));
        if end < first || s.start > last_day {
            continue;
        }
        let next = patient_ids.len() as u32;
        let patient = *patient_ids.entry(s.patient.as_str()).or_insert(next);
        let next = org_ids.len() as u32;
        let org = *org_ids.entry(s.org.as_str()).or_insert(next);
        let mut p = kind.start_of(s.start.max(first));
        while p <= end {
            if seen.insert((org, p, patient)) {
                *counts.entry((org, p)).or_default() += 1.0;
            }
            p = kind.next_start(p);
        }
    }
    let names: HashMap<u32, &str> = org_ids.into_iter().map(|(k, v)| (v, k)).collect();
    counts
        .into_iter()
        .map(|((o, p), n)| ((names[&o].to_string(), p), n))
        .collect()
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
