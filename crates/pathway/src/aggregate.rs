//! Monthly and weekly figures over a set of referrals, for the measures to chart later.
//!
//! Period rules (docs/freed.md):
//! - A clock counts in the period in which it was decided: a met clock in the period of its
//!   stop, a breached clock in the period of its deadline (the moment it breached), whether it
//!   stopped late, is still breaching, or was closed after the deadline. Running clocks and
//!   clocks that ended undecided are not counted. `due = met + breached`.
//! - Median days referral to treatment and DUED count a referral in the period of its first
//!   attended treatment; days are whole calendar days between dates.
//! - Uptake counts eligible referrals in the period they were received, among those received
//!   at least the follow-up window (84 days by default) before the "as of" time; a referral
//!   started treatment if its first attended treatment came within the window.
//!
//! Everything is judged as of the given time: later events are not known.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, PrimitiveDateTime};

use domain::dates::PeriodKind;

use crate::clock::{self, Clock};
use crate::dued;
use crate::eligibility::{self, Status};
use crate::referral::{ContactKind, OnsetPrecision, Referral};

/// Days a referral has to start treatment before it counts in uptake (three times the 4-week
/// clock).
pub const UPTAKE_FOLLOW_UP_DAYS: i64 = 84;

/// Upper edges (exclusive, days) of the DUED distribution's bins: under 3 months, 3-6, 6-12,
/// 12-24, 24-36 months, and 36 months or more.
pub const DUED_BIN_EDGES: [i64; 5] = [91, 182, 365, 730, 1095];

/// The days `start..end` (end exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Period {
    pub start: Date,
    pub end: Date,
}

impl Period {
    /// The month or ISO week holding `day`.
    pub fn of(kind: PeriodKind, day: Date) -> Period {
        let start = kind.start_of(day);
        Period {
            start,
            end: kind.next_start(start),
        }
    }

    /// Every month or week from the one holding `from` to the one holding `to`.
    pub fn between(kind: PeriodKind, from: Date, to: Date) -> Vec<Period> {
        kind.starts_between(from, to)
            .into_iter()
            .map(|start| Period {
                start,
                end: kind.next_start(start),
            })
            .collect()
    }

    pub fn contains(&self, day: Date) -> bool {
        self.start <= day && day < self.end
    }
}

/// One clock's count in one period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClockCounts {
    pub period: Period,
    pub clock: Clock,
    pub due: usize,
    pub met: usize,
    pub breached: usize,
}

impl ClockCounts {
    /// Share met, `None` when nothing was due.
    pub fn share_met(&self) -> Option<f64> {
        (self.due > 0).then(|| self.met as f64 / self.due as f64)
    }
}

fn period_index(periods: &[Period], day: Date) -> Option<usize> {
    let i = periods.partition_point(|p| p.end <= day);
    periods.get(i).filter(|p| p.contains(day)).map(|_| i)
}

fn sorted(periods: &[Period]) -> Vec<Period> {
    let mut p = periods.to_vec();
    p.sort_unstable();
    p.dedup();
    p
}

/// Due, met and breached for one clock in each period (the periods sorted, duplicates
/// dropped), for the referrals the clock applies to, as of `as_of`.
pub fn clock_series(
    referrals: &[Referral],
    clock: Clock,
    periods: &[Period],
    as_of: PrimitiveDateTime,
) -> Vec<ClockCounts> {
    let periods = sorted(periods);
    let mut out: Vec<ClockCounts> = periods
        .iter()
        .map(|&period| ClockCounts {
            period,
            clock,
            due: 0,
            met: 0,
            breached: 0,
        })
        .collect();
    for r in referrals {
        if !clock::applicable_clocks(r).contains(&clock) {
            continue;
        }
        let s = clock::clock_state(r, clock, as_of);
        let Some(at) = s.decided_at() else { continue };
        if let Some(i) = period_index(&periods, at.date()) {
            out[i].due += 1;
            if s.is_met() {
                out[i].met += 1;
            } else {
                out[i].breached += 1;
            }
        }
    }
    out
}

/// Due, met and breached for one clock in one period.
pub fn clock_counts(
    referrals: &[Referral],
    clock: Clock,
    period: Period,
    as_of: PrimitiveDateTime,
) -> ClockCounts {
    clock_series(referrals, clock, &[period], as_of)
        .into_iter()
        .next()
        .unwrap_or(ClockCounts {
            period,
            clock,
            due: 0,
            met: 0,
            breached: 0,
        })
}

/// The median of some whole numbers (the mean of the middle two for an even count).
pub fn median(values: &mut [i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2] as f64
    } else {
        (values[n / 2 - 1] as f64 + values[n / 2] as f64) / 2.0
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MedianDays {
    pub period: Period,
    pub n: usize,
    pub median: Option<f64>,
}

/// Median calendar days from referral to first attended treatment, over the referrals whose
/// first treatment falls in each period.
pub fn referral_to_treatment(
    referrals: &[Referral],
    periods: &[Period],
    as_of: PrimitiveDateTime,
) -> Vec<MedianDays> {
    let periods = sorted(periods);
    let mut days: Vec<Vec<i64>> = vec![Vec::new(); periods.len()];
    for r in referrals {
        let Some(t) = r.first_attended(ContactKind::FirstTreatment, as_of) else {
            continue;
        };
        if let Some(i) = period_index(&periods, t.date()) {
            days[i].push((t.date() - r.received.date()).whole_days());
        }
    }
    periods
        .iter()
        .zip(days.iter_mut())
        .map(|(&period, d)| MedianDays {
            period,
            n: d.len(),
            median: median(d),
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DuedSummary {
    pub period: Period,
    /// Referrals whose first attended treatment falls in the period.
    pub treated: usize,
    /// Of those, with a DUED (onset known).
    pub with_dued: usize,
    /// Of those, with the onset known to the day.
    pub precise_onset: usize,
    pub median_days: Option<f64>,
    /// `precise_onset / treated`.
    pub share_precise: Option<f64>,
    /// Counts in the bins of `DUED_BIN_EDGES`.
    pub bins: [usize; 6],
}

/// DUED per period of first treatment: its median, distribution and the share of treated
/// patients whose onset is known to the day.
pub fn dued_summary(
    referrals: &[Referral],
    periods: &[Period],
    as_of: PrimitiveDateTime,
) -> Vec<DuedSummary> {
    let periods = sorted(periods);
    let mut treated = vec![0usize; periods.len()];
    let mut precise = vec![0usize; periods.len()];
    let mut bins = vec![[0usize; 6]; periods.len()];
    let mut days: Vec<Vec<i64>> = vec![Vec::new(); periods.len()];
    for r in referrals {
        let Some(t) = r.first_attended(ContactKind::FirstTreatment, as_of) else {
            continue;
        };
        let Some(i) = period_index(&periods, t.date()) else {
            continue;
        };
        treated[i] += 1;
        if let Ok(d) = dued::dued(r, as_of) {
            days[i].push(d.days);
            if d.precision == OnsetPrecision::Day {
                precise[i] += 1;
            }
            let bin = DUED_BIN_EDGES.partition_point(|&e| e <= d.days);
            bins[i][bin] += 1;
        }
    }
    (0..periods.len())
        .map(|i| DuedSummary {
            period: periods[i],
            treated: treated[i],
            with_dued: days[i].len(),
            precise_onset: precise[i],
            median_days: median(&mut days[i]),
            share_precise: (treated[i] > 0).then(|| precise[i] as f64 / treated[i] as f64),
            bins: bins[i],
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Uptake {
    pub period: Period,
    /// Eligible referrals received in the period.
    pub eligible: usize,
    /// Of those, received at least the follow-up window before "as of".
    pub followed_up: usize,
    /// Of those, started treatment within the window.
    pub started: usize,
    /// `started / followed_up`.
    pub rate: Option<f64>,
}

/// Uptake per period of referral: the share of eligible referrals that started treatment
/// within `follow_up_days`, among those referred long enough ago to have had the chance.
/// Referrals whose eligibility is not known are not counted.
pub fn uptake(
    referrals: &[Referral],
    periods: &[Period],
    as_of: PrimitiveDateTime,
    follow_up_days: i64,
) -> Vec<Uptake> {
    let periods = sorted(periods);
    let window = Duration::days(follow_up_days.clamp(0, crate::queue::MAX_SPAN_DAYS));
    let mut out: Vec<Uptake> = periods
        .iter()
        .map(|&period| Uptake {
            period,
            eligible: 0,
            followed_up: 0,
            started: 0,
            rate: None,
        })
        .collect();
    for r in referrals {
        let Some(i) = period_index(&periods, r.received.date()) else {
            continue;
        };
        if eligibility::eligibility(r).status != Status::Eligible {
            continue;
        }
        out[i].eligible += 1;
        let Some(limit) = r.received.checked_add(window) else {
            continue;
        };
        if limit > as_of {
            continue;
        }
        out[i].followed_up += 1;
        if r.first_attended(ContactKind::FirstTreatment, limit)
            .is_some()
        {
            out[i].started += 1;
        }
    }
    for u in &mut out {
        u.rate = (u.followed_up > 0).then(|| u.started as f64 / u.followed_up as f64);
    }
    out
}

/// When a referral leaves the waiting list for good: its first attended treatment or its final
/// discharge, whichever is first (`None` while neither is known). A referral cannot be on a
/// waiting list at or after this time, whatever else happens.
pub fn off_list(r: &Referral) -> Option<PrimitiveDateTime> {
    let treated = r.first_attended(ContactKind::FirstTreatment, PrimitiveDateTime::MAX);
    let closed = r.closed_at(PrimitiveDateTime::MAX);
    match (treated, closed) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether a referral is on the waiting list at `t`: open, with a clock still running (the
/// rule of [`crate::clock::waiting_list`]).
pub fn on_list_at(r: &Referral, t: PrimitiveDateTime) -> bool {
    r.is_open_at(t) && clock::clock_states(r, t).iter().any(|c| c.is_running())
}

/// The size of the waiting list at the end of each period (the periods sorted, duplicates
/// dropped): the referrals on the list at the period's last minute, or at `as_of` for the
/// period holding it; `None` for a period that starts after `as_of` (not yet known). Each
/// referral is judged only at the ends that fall between its receipt and [`off_list`], so the
/// work grows with the waits, not with referrals times periods.
pub fn waiting_sizes(
    referrals: &[Referral],
    periods: &[Period],
    as_of: PrimitiveDateTime,
) -> Vec<(Period, Option<usize>)> {
    let periods = sorted(periods);
    let end_of = |p: &Period| {
        PrimitiveDateTime::new(p.end, time::Time::MIDNIGHT)
            .checked_sub(Duration::minutes(1))
            .map_or(as_of, |t| t.min(as_of))
    };
    let ends: Vec<PrimitiveDateTime> = periods.iter().map(end_of).collect();
    let mut counts = vec![0usize; periods.len()];
    for r in referrals {
        let leaves = off_list(r);
        let first = ends.partition_point(|&t| t < r.received);
        for i in first..periods.len() {
            let t = ends[i];
            if leaves.is_some_and(|l| l <= t)
                || PrimitiveDateTime::new(periods[i].start, time::Time::MIDNIGHT) > as_of
            {
                break;
            }
            if on_list_at(r, t) {
                counts[i] += 1;
            }
        }
    }
    periods
        .iter()
        .zip(counts)
        .map(|(p, n)| {
            let known = PrimitiveDateTime::new(p.start, time::Time::MIDNIGHT) <= as_of;
            (*p, known.then_some(n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::referral::{Attendance, Contact, Onset};
    use crate::testutil::referral;
    use time::Month;
    use time::macros::{date, datetime};

    fn with(r: &mut Referral, kind: ContactKind, at: PrimitiveDateTime) {
        r.contacts.push(Contact {
            kind,
            at,
            attendance: Attendance::Attended,
        });
    }

    #[test]
    fn periods() {
        let p = Period::of(PeriodKind::Month, date!(2024 - 02 - 10));
        assert_eq!(p.start, date!(2024 - 02 - 01));
        assert_eq!(p.end, date!(2024 - 03 - 01));
        assert!(p.contains(date!(2024 - 02 - 29)) && !p.contains(date!(2024 - 03 - 01)));
        let w = Period::between(
            PeriodKind::Week,
            date!(2024 - 03 - 06),
            date!(2024 - 03 - 20),
        );
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].start, date!(2024 - 03 - 04));
    }

    #[test]
    fn a_clock_counts_where_it_stopped_or_breached() {
        let as_of = datetime!(2024-05-01 00:00);
        let months = Period::between(
            PeriodKind::Month,
            date!(2024 - 03 - 01),
            date!(2024 - 04 - 30),
        );
        // Met: referred 25 March, assessed 5 April (11 days): met in April.
        let mut a = referral(datetime!(2024-03-25 10:00));
        with(&mut a, ContactKind::Assessment, datetime!(2024-04-05 10:00));
        // Breached: referred 10 March, deadline 24 March, assessed 2 April: breached in March.
        let mut b = referral(datetime!(2024-03-10 10:00));
        with(&mut b, ContactKind::Assessment, datetime!(2024-04-02 10:00));
        // Still waiting, deadline 12 April passed: breached in April.
        let c = referral(datetime!(2024-03-29 10:00));
        // Still waiting, deadline 5 May not yet passed: not counted.
        let d = referral(datetime!(2024-04-21 10:00));
        let all = [a, b, c, d];
        let s = clock_series(&all, Clock::Assessment, &months, as_of);
        assert_eq!((s[0].due, s[0].met, s[0].breached), (1, 0, 1));
        assert_eq!((s[1].due, s[1].met, s[1].breached), (2, 1, 1));
        assert_eq!(s[1].share_met(), Some(0.5));
        let one = clock_counts(&all, Clock::Assessment, months[1], as_of);
        assert_eq!(one, s[1]);
        // The children's clock applies to none of these 20-year-olds.
        let s = clock_series(&all, Clock::ChildrenTreatment, &months, as_of);
        assert!(s.iter().all(|c| c.due == 0));
    }

    #[test]
    fn medians_of_referral_to_treatment_and_dued() {
        let as_of = datetime!(2024-06-01 00:00);
        let april = [Period::of(PeriodKind::Month, date!(2024 - 04 - 01))];
        let mut rs = Vec::new();
        // Treated in April after 10, 20 and 40 days; onsets: a day, a month, unknown.
        for (received, treated, onset) in [
            (
                datetime!(2024-03-31 10:00),
                datetime!(2024-04-10 10:00),
                Onset::Day(date!(2024 - 01 - 01)),
            ),
            (
                datetime!(2024-03-21 10:00),
                datetime!(2024-04-10 10:00),
                Onset::Month {
                    year: 2023,
                    month: Month::April,
                },
            ),
            (
                datetime!(2024-03-01 10:00),
                datetime!(2024-04-10 10:00),
                Onset::Unknown,
            ),
        ] {
            let mut r = referral(received);
            r.onset = onset;
            with(&mut r, ContactKind::FirstTreatment, treated);
            rs.push(r);
        }
        let m = referral_to_treatment(&rs, &april, as_of);
        assert_eq!(m[0].n, 3);
        assert_eq!(m[0].median, Some(20.0));
        let d = dued_summary(&rs, &april, as_of);
        // DUED: 1 Jan -> 10 Apr = 100 days; 15 Apr 2023 -> 10 Apr 2024 = 361 days.
        assert_eq!(d[0].treated, 3);
        assert_eq!(d[0].with_dued, 2);
        assert_eq!(d[0].precise_onset, 1);
        assert_eq!(d[0].median_days, Some(230.5));
        assert_eq!(d[0].share_precise, Some(1.0 / 3.0));
        assert_eq!(d[0].bins, [0, 1, 1, 0, 0, 0]);
    }

    #[test]
    fn uptake_among_those_followed_up() {
        let march = [Period::of(PeriodKind::Month, date!(2024 - 03 - 01))];
        let as_of = datetime!(2024-05-30 12:00);
        // Received 1 March: window ends 24 May, followed up. Treated 20 March: started.
        let mut a = referral(datetime!(2024-03-01 10:00));
        with(
            &mut a,
            ContactKind::FirstTreatment,
            datetime!(2024-03-20 10:00),
        );
        // Received 2 March, treated 26 May: after its window (25 May): not started.
        let mut b = referral(datetime!(2024-03-02 10:00));
        with(
            &mut b,
            ContactKind::FirstTreatment,
            datetime!(2024-05-26 10:00),
        );
        // Received 10 March: window ends 2 June, after "as of": too recent.
        let c = referral(datetime!(2024-03-10 10:00));
        // Not eligible (aged 30): not counted.
        let mut e = referral(datetime!(2024-03-01 10:00));
        e.age_at_referral = Some(30);
        let u = uptake(&[a, b, c, e], &march, as_of, UPTAKE_FOLLOW_UP_DAYS);
        assert_eq!(u[0].eligible, 3);
        assert_eq!(u[0].followed_up, 2);
        assert_eq!(u[0].started, 1);
        assert_eq!(u[0].rate, Some(0.5));
    }

    #[test]
    fn waiting_sizes_at_the_ends_of_weeks() {
        let weeks = Period::between(
            PeriodKind::Week,
            date!(2024 - 03 - 04),
            date!(2024 - 03 - 24),
        );
        let as_of = datetime!(2024-03-20 12:00);
        // Received Tuesday 5 March, treated Monday 11 March: on the list at the end of week 1.
        let mut a = referral(datetime!(2024-03-05 10:00));
        with(
            &mut a,
            ContactKind::FirstTreatment,
            datetime!(2024-03-11 10:00),
        );
        // Received 6 March, never treated: waiting at every end up to "as of".
        let b = referral(datetime!(2024-03-06 10:00));
        // Aged 40 (not eligible, over 19): no clock runs, never on the list.
        let mut c = referral(datetime!(2024-03-06 10:00));
        c.age_at_referral = Some(40);
        // Received after the end of week 1 (Sunday 10 March 23:59 is the end).
        let d = referral(datetime!(2024-03-11 00:00));
        let w = waiting_sizes(&[a, b, c, d], &weeks, as_of);
        let sizes: Vec<Option<usize>> = w.iter().map(|x| x.1).collect();
        // Week 3 ends after "as of": counted at "as of" (b and d waiting).
        assert_eq!(sizes, vec![Some(2), Some(2), Some(2)]);
        let later = Period::between(
            PeriodKind::Week,
            date!(2024 - 03 - 25),
            date!(2024 - 03 - 25),
        );
        assert_eq!(
            waiting_sizes(&[referral(datetime!(2024-03-05 10:00))], &later, as_of)[0].1,
            None
        );
    }

    #[test]
    fn median_of_nothing_and_of_pairs() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3, 1]), Some(2.0));
        assert_eq!(median(&mut [5, 1, 3]), Some(3.0));
    }
}
