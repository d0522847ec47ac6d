//! The facts of the levels above a trust (ICBs, the region) added up from their trusts' facts,
//! so that after one trust's upload the region's figures are its trusts' held figures with the
//! one trust's new ones, not a read of every row in the deployment (issue 10, item 3).
//!
//! Counts and sums add up. Three things do not, and each trust keeps what is needed to
//! combine them exactly: distinct inpatients (a patient can be in two trusts in one period:
//! each trust keeps its patients' merged runs of periods, `facts::Run`), distinct patients
//! restricted (each trust keeps who was restricted in each period) and the median minutes of
//! physical restraint (each trust keeps how many restraints lasted each number of minutes). A
//! level's facts composed this way are the facts the store would read for it directly.

use crate::facts::{self, Facts, PatientKey, PeriodFacts, Run, Span};
use domain::dates::PeriodKind;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use time::Date;

/// What the store reads beside a trust-level `Facts` for the levels above to be composed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Extras {
    /// Each trust's patients' merged runs of periods (when distinct inpatients were asked for).
    pub stays: HashMap<String, Vec<Run>>,
    /// Each trust's (period index, patient) restricted, distinct (when interventions were read).
    pub restricted: HashMap<String, Vec<(u32, PatientKey)>>,
    /// Each trust's (period index, minutes, physical restraints of that length) (when the
    /// median restraint minutes were asked for).
    pub restraint_minutes: HashMap<String, Vec<(u32, i64, u32)>>,
}

/// One trust's facts and extras.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrustPart {
    pub cells: Vec<(Date, PeriodFacts)>,
    pub self_harm_days: Vec<Date>,
    pub stays: Vec<Run>,
    pub restricted: Vec<(u32, PatientKey)>,
    pub restraint_minutes: Vec<(u32, i64, u32)>,
}

/// Every trust's part for one kind of period over one run of periods.
#[derive(Clone, Debug, PartialEq)]
pub struct TrustParts {
    pub kind: PeriodKind,
    pub periods: Vec<Date>,
    pub trusts: BTreeMap<String, Arc<TrustPart>>,
}

impl TrustParts {
    /// The parts of trust-level `facts` (one cell per trust and period) and their extras.
    pub fn new(kind: PeriodKind, facts: &Facts, mut extras: Extras) -> TrustParts {
        let mut trusts: BTreeMap<String, TrustPart> = facts
            .orgs
            .iter()
            .map(|o| (o.clone(), TrustPart::default()))
            .collect();
        for ((org, date), cell) in &facts.cells {
            trusts
                .entry(org.clone())
                .or_default()
                .cells
                .push((*date, *cell));
        }
        for (org, days) in &facts.self_harm_days {
            trusts.entry(org.clone()).or_default().self_harm_days = days.clone();
        }
        for (org, part) in trusts.iter_mut() {
            part.cells.sort_by_key(|c| c.0);
            part.stays = extras.stays.remove(org).unwrap_or_default();
            part.restricted = extras.restricted.remove(org).unwrap_or_default();
            part.restraint_minutes = extras.restraint_minutes.remove(org).unwrap_or_default();
        }
        TrustParts {
            kind,
            periods: facts.periods.clone(),
            trusts: trusts.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(),
        }
    }

    /// Roughly how many bytes the parts hold (for whoever sizes a deployment's memory).
    pub fn bytes(&self) -> usize {
        use std::mem::size_of;
        self.trusts
            .values()
            .map(|p| {
                p.cells.len() * size_of::<(Date, PeriodFacts)>()
                    + p.self_harm_days.len() * size_of::<Date>()
                    + p.stays.len() * size_of::<Run>()
                    + p.restricted.len() * size_of::<(u32, PatientKey)>()
                    + p.restraint_minutes.len() * size_of::<(u32, i64, u32)>()
            })
            .sum()
    }

    /// These parts with the `changed` trusts' taken from `fresh` (read again after their
    /// upload): `None` when the two do not cover the same periods.
    pub fn spliced(&self, fresh: &TrustParts, changed: &HashSet<String>) -> Option<TrustParts> {
        if self.kind != fresh.kind || self.periods != fresh.periods {
            return None;
        }
        let mut trusts = self.trusts.clone();
        trusts.retain(|t, _| !changed.contains(t));
        for (t, part) in &fresh.trusts {
            if changed.contains(t) {
                trusts.insert(t.clone(), part.clone());
            }
        }
        Some(TrustParts {
            kind: self.kind,
            periods: self.periods.clone(),
            trusts,
        })
    }

    /// The facts of the organisations `orgs` above the trusts, each trust counted for its
    /// `parent_of` (trusts without one are left out).
    pub fn compose(&self, parent_of: &HashMap<String, String>, orgs: Vec<String>) -> Facts {
        let mut out = Facts {
            orgs,
            periods: self.periods.clone(),
            cells: HashMap::new(),
            self_harm_days: BTreeMap::new(),
        };
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut spans: Vec<Span> = Vec::new();
        let mut restricted: HashMap<u32, Vec<(u32, PatientKey)>> = HashMap::new();
        let mut minutes: HashMap<u32, Vec<(u32, i64, u32)>> = HashMap::new();
        for (trust, part) in &self.trusts {
            let Some(parent) = parent_of.get(trust) else {
                continue;
            };
            for (date, cell) in &part.cells {
                add(out.cell(parent, *date), cell);
            }
            if !part.self_harm_days.is_empty() {
                out.self_harm_days
                    .entry(parent.clone())
                    .or_default()
                    .extend(&part.self_harm_days);
            }
            let id = facts::intern(&mut ids, parent);
            spans.extend(part.stays.iter().map(|r| Span {
                org: id,
                patient: r.patient,
                first: r.first,
                last: r.last,
            }));
            restricted.entry(id).or_default().extend(&part.restricted);
            minutes
                .entry(id)
                .or_default()
                .extend(&part.restraint_minutes);
        }
        for days in out.self_harm_days.values_mut() {
            days.sort_unstable();
        }
        let names = facts::names_by_index(ids);
        let periods = &self.periods;
        for ((org, date), n) in facts::count_runs(&facts::merged(spans), &names, periods) {
            out.cell(&org, date).inpatients = Some(n);
        }
        for (id, mut people) in restricted {
            people.sort_unstable();
            people.dedup();
            for (p, n) in runs_of(people.iter().map(|x| x.0)) {
                let cell = out.cell(&names[id as usize], periods[p as usize]);
                if let Some(ri) = cell.interventions.as_mut() {
                    ri.people = n as f64;
                }
            }
        }
        for (id, mut lengths) in minutes {
            lengths.sort_unstable();
            for (p, median) in medians_by_period(&lengths) {
                out.cell(&names[id as usize], periods[p as usize])
                    .restraint_minutes = Some(median);
            }
        }
        out
    }
}

/// `a.f += b.f` for each field named.
macro_rules! add_fields {
    ($a:expr, $b:expr; $($f:ident),+ $(,)?) => {{ $( $a.$f += $b.$f; )+ }};
}

/// Adds what adds up across trusts (distinct inpatients, the people restricted and the median
/// are composed from the extras instead). Every trust numbers its own incidents, so distinct
/// incidents add up.
fn add(total: &mut PeriodFacts, more: &PeriodFacts) {
    fn sum<T: Copy + Default>(a: &mut Option<T>, b: &Option<T>, f: impl Fn(&mut T, &T)) {
        if let Some(b) = b {
            f(a.get_or_insert_with(T::default), b);
        }
    }
    sum(
        &mut total.bed_days,
        &more.bed_days,
        |a, b| add_fields!(a, b; occupied, on_leave),
    );
    sum(&mut total.interventions, &more.interventions, |a, b| {
        add_fields!(a, b; all, physical, prone, chemical, rapid_tranquillisation, mechanical,
            seclusion, segregation, incidents, incidents_reviewed_with_patient)
    });
    sum(&mut total.incidents, &more.incidents, |a, b| {
        add_fields!(a, b; self_harm, self_harm_moderate_or_worse, self_harm_on_leave,
            sexual_safety, sexual_assault, sexual_harassment_verbal,
            sexual_harassment_non_verbal, sexual_online)
    });
    sum(&mut total.awol_episodes, &more.awol_episodes, |a, b| {
        *a += b
    });
    sum(
        &mut total.leave,
        &more.leave,
        |a, b| add_fields!(a, b; ended, returned_on_time),
    );
    sum(
        &mut total.survey,
        &more.survey,
        |a, b| add_fields!(a, b; answers, felt_safe),
    );
}

/// Each distinct value of a sorted sequence with how many times it comes.
fn runs_of(sorted: impl Iterator<Item = u32>) -> Vec<(u32, usize)> {
    let mut out: Vec<(u32, usize)> = Vec::new();
    for v in sorted {
        match out.last_mut() {
            Some((last, n)) if *last == v => *n += 1,
            _ => out.push((v, 1)),
        }
    }
    out
}

/// The median length per period from `(period index, minutes, restraints)` sorted by period
/// and minutes (a period may list one length more than once: they add up).
pub fn medians_by_period(lengths: &[(u32, i64, u32)]) -> Vec<(u32, facts::Median)> {
    let mut out = Vec::new();
    let mut rest = lengths;
    while let Some(&(p, _, _)) = rest.first() {
        let n = rest.partition_point(|x| x.0 == p);
        let (this, next) = rest.split_at(n);
        if let Some(m) = median_of_counts(this.iter().map(|x| (x.1, x.2))) {
            out.push((p, m));
        }
        rest = next;
    }
    out
}

/// The median of values given in order with their counts: the middle value, or the mean of
/// the middle two (as the store's SQL median takes ranks (n + 1) / 2 and (n + 2) / 2).
pub fn median_of_counts(sorted: impl Iterator<Item = (i64, u32)> + Clone) -> Option<facts::Median> {
    let total: u64 = sorted.clone().map(|(_, c)| u64::from(c)).sum();
    if total == 0 {
        return None;
    }
    let (r1, r2) = (total.div_ceil(2), total / 2 + 1);
    let mut seen = 0u64;
    let (mut low, mut high) = (None, None);
    for (v, c) in sorted {
        seen += u64::from(c);
        if low.is_none() && seen >= r1 {
            low = Some(v);
        }
        if seen >= r2 {
            high = Some(v);
            break;
        }
    }
    let (low, high) = (low?, high?);
    Some(facts::Median {
        minutes: (low as f64 + high as f64) / 2.0,
        restraints: total as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{BedDays, InpatientCount, Interventions};
    use time::macros::date;

    fn months() -> Vec<Date> {
        vec![date!(2024 - 01 - 01), date!(2024 - 02 - 01)]
    }

    /// Two trusts of one ICB, one patient in both in January: the ICB's bed days add up, its
    /// inpatients and people restricted count the patient once, its median is over both
    /// trusts' restraints.
    #[test]
    fn a_patient_in_two_trusts_counts_once_above_them() {
        let periods = months();
        let mut count = InpatientCount::new(PeriodKind::Month, &periods);
        count.add("A", "p", date!(2024 - 01 - 05), Some(date!(2024 - 01 - 09)));
        count.add("B", "p", date!(2024 - 01 - 20), Some(date!(2024 - 02 - 02)));
        count.add("B", "q", date!(2024 - 02 - 01), None);
        let (inpatients, stays) = count.finish_with_runs();
        let mut facts = Facts {
            orgs: vec!["A".into(), "B".into()],
            periods: periods.clone(),
            ..Facts::default()
        };
        for ((org, d), n) in inpatients {
            facts.cell(&org, d).inpatients = Some(n);
        }
        for org in ["A", "B"] {
            let cell = facts.cell(org, date!(2024 - 01 - 01));
            cell.bed_days = Some(BedDays {
                occupied: 10.0,
                on_leave: 1.0,
            });
            cell.interventions = Some(Interventions {
                all: 2.0,
                people: 1.0,
                ..Interventions::default()
            });
        }
        let p = PatientKey::of("p");
        let extras = Extras {
            stays,
            restricted: HashMap::from([
                ("A".to_string(), vec![(0, p)]),
                ("B".to_string(), vec![(0, p)]),
            ]),
            restraint_minutes: HashMap::from([
                ("A".to_string(), vec![(0, 5, 1)]),
                ("B".to_string(), vec![(0, 7, 1), (0, 30, 1)]),
            ]),
        };
        let parts = TrustParts::new(PeriodKind::Month, &facts, extras);
        let parent: HashMap<String, String> =
            HashMap::from([("A".into(), "ICB".into()), ("B".into(), "ICB".into())]);
        let icb = parts.compose(&parent, vec!["ICB".into()]);
        let jan = icb.get("ICB", date!(2024 - 01 - 01));
        assert_eq!(jan.bed_days.unwrap().occupied, 20.0);
        assert_eq!(jan.interventions.unwrap().all, 4.0);
        assert_eq!(
            jan.interventions.unwrap().people,
            1.0,
            "p restricted in both"
        );
        assert_eq!(jan.inpatients, Some(1.0), "p in both trusts");
        assert_eq!(jan.restraint_minutes.unwrap().minutes, 7.0);
        assert_eq!(jan.restraint_minutes.unwrap().restraints, 3.0);
        let feb = icb.get("ICB", date!(2024 - 02 - 01));
        assert_eq!(feb.inpatients, Some(2.0));
        assert_eq!(feb.bed_days, None, "a gap stays a gap");
    }

    #[test]
    fn medians_take_the_middle_or_the_mean_of_the_middle_two() {
        let m = |v: &[(i64, u32)]| median_of_counts(v.iter().copied()).map(|m| m.minutes);
        assert_eq!(m(&[]), None);
        assert_eq!(m(&[(4, 1)]), Some(4.0));
        assert_eq!(m(&[(4, 1), (9, 1)]), Some(6.5));
        assert_eq!(m(&[(1, 2), (3, 1)]), Some(1.0));
        assert_eq!(m(&[(1, 2), (3, 2)]), Some(2.0));
        assert_eq!(m(&[(-2, 1), (3, 3)]), Some(3.0));
    }

    #[test]
    fn a_splice_takes_the_changed_trusts_from_the_fresh_parts() {
        let periods = months();
        let cell = |occupied: f64| {
            let mut f = Facts {
                orgs: vec!["A".into(), "B".into()],
                periods: periods.clone(),
                ..Facts::default()
            };
            for org in ["A", "B"] {
                f.cell(org, periods[0]).bed_days = Some(BedDays {
                    occupied,
                    on_leave: 0.0,
                });
            }
            TrustParts::new(PeriodKind::Month, &f, Extras::default())
        };
        let (held, fresh) = (cell(1.0), cell(5.0));
        let spliced = held
            .spliced(&fresh, &HashSet::from(["B".to_string()]))
            .unwrap();
        let parent = HashMap::from([("A".into(), "R".into()), ("B".into(), "R".into())]);
        let region = spliced.compose(&parent, vec!["R".into()]);
        assert_eq!(region.get("R", periods[0]).bed_days.unwrap().occupied, 6.0);
        let other = TrustParts {
            periods: vec![periods[0]],
            ..fresh
        };
        assert_eq!(held.spliced(&other, &HashSet::new()), None);
    }
}
