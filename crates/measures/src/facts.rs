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

/// A count per organisation and period.
pub type Counts = HashMap<(String, Date), f64>;

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
/// region's stays are over a million rows, never held at once). Each stay keeps 32 bytes: its
/// organisation as a small number, its patient's key and the first and last period it touches.
/// At the end a patient's overlapping stays are merged per organisation, so that they count once
/// in each period, and the counts are read from a difference array: memory grows with stays,
/// not with stays times periods.
pub struct InpatientCount {
    kind: domain::dates::PeriodKind,
    periods: Vec<Date>,
    last_day: Option<Date>,
    orgs: HashMap<String, u32>,
    spans: Vec<Span>,
}

/// A patient's run of consecutive periods at one organisation (`org` is an index into the
/// organisations being counted). Ordered by organisation, patient, then periods, so that a
/// sort puts each patient's runs at an organisation side by side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Span {
    pub(crate) org: u32,
    pub(crate) patient: PatientKey,
    pub(crate) first: u32,
    pub(crate) last: u32,
}

/// A patient's merged run of periods (indices into the periods counted) at one organisation:
/// what a trust keeps so that the levels above can count their distinct inpatients without
/// reading the stays again (`crate::compose`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Run {
    pub patient: PatientKey,
    pub first: u32,
    pub last: u32,
}

/// A patient as a number: the pseudonym's own 128 bits when it is one (32 lower-case hex
/// digits, which is how `ingest` writes every pseudonym), otherwise a 128-bit hash of the text.
/// Two patients are one key only if their pseudonyms are one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PatientKey(u64, u64);

impl PatientKey {
    pub fn of(pseudonym: &str) -> PatientKey {
        let b = pseudonym.as_bytes();
        if b.len() == 32 && b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
            // Checked above: both halves are hex digits.
            let half = |s: &str| u64::from_str_radix(s, 16).unwrap_or(0);
            return PatientKey(half(&pseudonym[..16]), half(&pseudonym[16..]));
        }
        use std::hash::{Hash, Hasher};
        let hash = |salt: u8| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            salt.hash(&mut h);
            pseudonym.hash(&mut h);
            h.finish()
        };
        PatientKey(hash(1), hash(2))
    }
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
        let org = intern(&mut self.orgs, org);
        self.spans.push(Span {
            org,
            patient: PatientKey::of(patient),
            first: p0,
            last: p1,
        });
    }

    pub fn finish(self) -> Counts {
        self.finish_with_runs().0
    }

    /// The counts, and each organisation's merged runs (what [`crate::compose`] adds up).
    pub fn finish_with_runs(self) -> (Counts, HashMap<String, Vec<Run>>) {
        let names = names_by_index(self.orgs);
        let runs = merged(self.spans);
        let counts = count_runs(&runs, &names, &self.periods);
        let mut by_org: HashMap<String, Vec<Run>> = HashMap::new();
        for s in runs {
            by_org
                .entry(names[s.org as usize].clone())
                .or_default()
                .push(Run {
                    patient: s.patient,
                    first: s.first,
                    last: s.last,
                });
        }
        (counts, by_org)
    }
}

/// The organisations' names in index order.
pub(crate) fn names_by_index(ids: HashMap<String, u32>) -> Vec<String> {
    let mut names = vec![String::new(); ids.len()];
    for (name, i) in ids {
        names[i as usize] = name;
    }
    names
}

/// `spans` sorted, with each patient's overlapping runs at one organisation merged into one.
/// In place: at a national size the region's spans are tens of megabytes, and a second copy
/// would double them.
pub(crate) fn merged(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_unstable();
    spans.dedup_by(|s, m| {
        let overlaps = m.org == s.org && m.patient == s.patient && s.first <= m.last;
        if overlaps {
            m.last = m.last.max(s.last);
        }
        overlaps
    });
    spans
}

/// Distinct patients per organisation and period from merged runs (+1 where a run starts, -1
/// after it ends, summed along the periods). Only periods with somebody are in the map.
pub(crate) fn count_runs(
    runs: &[Span],
    names: &[String],
    periods: &[Date],
) -> HashMap<(String, Date), f64> {
    let n = periods.len();
    let mut diff: HashMap<u32, Vec<i64>> = HashMap::new();
    for s in runs {
        let d = diff.entry(s.org).or_insert_with(|| vec![0; n + 1]);
        d[s.first as usize] += 1;
        d[s.last as usize + 1] -= 1;
    }
    let mut out = HashMap::new();
    for (org, d) in diff {
        let mut running = 0i64;
        for (i, start) in periods.iter().enumerate() {
            running += d[i];
            if running > 0 {
                out.insert((names[org as usize].clone(), *start), running as f64);
            }
        }
    }
    out
}

/// The small number standing for `name` (the next one if it is new).
pub(crate) fn intern(ids: &mut HashMap<String, u32>, name: &str) -> u32 {
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
