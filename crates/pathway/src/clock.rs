//! The waiting-time clocks: FREED engagement (48 hours), assessment (2 weeks) and treatment
//! (4 weeks), and for under-19s the children's access and waiting time standard (treatment
//! within 1 week urgent, 4 weeks routine).
//!
//! Rules (docs/freed.md states them for people):
//! - Every clock starts when the referral is received (self-referrals included) and counts
//!   calendar time in whole minutes: nights, weekends and bank holidays count.
//! - Only an attended contact stops a clock; a contact that was not attended or was cancelled
//!   (by either side) neither stops, pauses nor resets it. The engagement clock stops at the
//!   first attended engagement call, assessment or treatment; the assessment clock at the
//!   first attended assessment or treatment; both treatment clocks at the first attended
//!   treatment.
//! - A clock is met when it stops on or before its deadline (inclusive), breached after.
//! - Pauses: `PatientChoice` and `MedicallyUnfit` pauses stop the FREED assessment and
//!   treatment clocks; nothing pauses the 48-hour engagement clock or the children's clock.
//!   Pause time counts only until the clock breaches: a breach is never undone by a later
//!   pause.
//! - Closing the referral ends a clock that has not stopped: breached if its deadline had
//!   passed, otherwise `Ended` (neither met nor breached, left out of the counts). A reopened
//!   referral keeps its clocks, and the time it was closed counts as waiting.
//! - "As of" a time, only what had happened by then counts: later contacts, discharges and
//!   pause time are ignored, and an open pause lasts until the "as of" time.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, PrimitiveDateTime, Time};

use crate::eligibility::{self, Status as Eligibility};
use crate::referral::{ContactKind, PauseReason, Priority, Referral};

pub const MINUTES_PER_DAY: i64 = 24 * 60;

/// The children's standard: 95% start treatment within the target.
pub const CHILDREN_STANDARD_TARGET: f64 = 0.95;

/// The children's standard applies to referrals of people under this age.
pub const CHILDREN_AGE_LIMIT: u8 = 19;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// FREED: an engagement call within 48 hours of referral.
    Engagement,
    /// FREED: assessment within 2 weeks.
    Assessment,
    /// FREED: treatment starts within 4 weeks.
    Treatment,
    /// Children's standard (under 19): treatment within 1 week (urgent) or 4 weeks (routine).
    ChildrenTreatment,
}

impl Clock {
    pub const ALL: [Clock; 4] = [
        Clock::Engagement,
        Clock::Assessment,
        Clock::Treatment,
        Clock::ChildrenTreatment,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Clock::Engagement => "freed_engagement_48h",
            Clock::Assessment => "freed_assessment_2w",
            Clock::Treatment => "freed_treatment_4w",
            Clock::ChildrenTreatment => "children_treatment",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Clock::Engagement => "FREED engagement call within 48 hours",
            Clock::Assessment => "FREED assessment within 2 weeks",
            Clock::Treatment => "FREED treatment within 4 weeks",
            Clock::ChildrenTreatment => {
                "Children's standard: treatment within 1 week (urgent) or 4 weeks (routine)"
            }
        }
    }

    /// The clock's length in minutes for a referral of this priority.
    pub fn target_minutes(self, priority: Priority) -> i64 {
        match (self, priority) {
            (Clock::Engagement, _) => 48 * 60,
            (Clock::Assessment, _) => 14 * MINUTES_PER_DAY,
            (Clock::Treatment, _) => 28 * MINUTES_PER_DAY,
            (Clock::ChildrenTreatment, Priority::Urgent) => 7 * MINUTES_PER_DAY,
            (Clock::ChildrenTreatment, Priority::Routine) => 28 * MINUTES_PER_DAY,
        }
    }

    /// Whether an attended contact of this kind stops the clock.
    pub fn stopped_by(self, kind: ContactKind) -> bool {
        let needed = match self {
            Clock::Engagement => ContactKind::EngagementCall,
            Clock::Assessment => ContactKind::Assessment,
            Clock::Treatment | Clock::ChildrenTreatment => ContactKind::FirstTreatment,
        };
        kind.stage() >= needed.stage()
    }

    /// Whether a pause for this reason stops the clock.
    pub fn paused_by(self, reason: PauseReason) -> bool {
        match self {
            Clock::Engagement | Clock::ChildrenTreatment => false,
            Clock::Assessment | Clock::Treatment => match reason {
                PauseReason::PatientChoice | PauseReason::MedicallyUnfit => true,
            },
        }
    }
}

/// The clocks that apply to a referral: the three FREED clocks unless the referral is known
/// not to be eligible (eligible and not-known both run them, so no breach is hidden while data
/// are missing), and the children's clock when the age at referral is under 19 or not known.
pub fn applicable_clocks(r: &Referral) -> Vec<Clock> {
    let mut out = Vec::with_capacity(4);
    if eligibility::eligibility(r).status != Eligibility::NotEligible {
        out.extend([Clock::Engagement, Clock::Assessment, Clock::Treatment]);
    }
    if r.age_at_referral.is_none_or(|a| a < CHILDREN_AGE_LIMIT) {
        out.push(Clock::ChildrenTreatment);
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum ClockStatus {
    /// The "as of" time is before the referral was received.
    NotStarted,
    /// Open, not stopped, within its target.
    Running,
    /// Open, not stopped, past its deadline: an ongoing breach.
    Breaching,
    /// Stopped by an attended contact on or before the deadline.
    Met { stopped_at: PrimitiveDateTime },
    /// Stopped after the deadline, or (`stopped_at: None`) closed after the deadline without
    /// the contact.
    Breached {
        stopped_at: Option<PrimitiveDateTime>,
    },
    /// Closed before the deadline without the contact: neither met nor breached.
    Ended { closed_at: PrimitiveDateTime },
}

/// One clock of one referral as of a time. Invariant: `elapsed_minutes + minutes_left() ==
/// target_minutes`, and the status is met or running exactly when `elapsed_minutes <=
/// target_minutes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClockState {
    pub clock: Clock,
    pub target_minutes: i64,
    /// Clock time counted from the referral to the stop, the closure or the "as of" time,
    /// without paused time.
    pub elapsed_minutes: i64,
    /// Paused time counted (only pauses this clock honours, before it breached).
    pub paused_minutes: i64,
    /// When the clock breaches (or breached); provisional while a pause is open.
    pub deadline: PrimitiveDateTime,
    pub status: ClockStatus,
}

impl ClockState {
    /// Time left before the deadline; negative is the breach so far.
    pub fn minutes_left(&self) -> i64 {
        self.target_minutes - self.elapsed_minutes
    }

    /// By how much the clock breached (0 unless breached or breaching).
    pub fn breach_minutes(&self) -> i64 {
        if self.is_breached() {
            self.elapsed_minutes - self.target_minutes
        } else {
            0
        }
    }

    pub fn days_left(&self) -> f64 {
        self.minutes_left() as f64 / MINUTES_PER_DAY as f64
    }

    pub fn is_met(&self) -> bool {
        matches!(self.status, ClockStatus::Met { .. })
    }

    /// Breached, or breaching while still running.
    pub fn is_breached(&self) -> bool {
        matches!(
            self.status,
            ClockStatus::Breached { .. } | ClockStatus::Breaching
        )
    }

    /// Still running as of the time asked (within target or breaching).
    pub fn is_running(&self) -> bool {
        matches!(self.status, ClockStatus::Running | ClockStatus::Breaching)
    }

    /// When the clock was decided: the stop for a met clock, the deadline for a breached one;
    /// `None` while it runs within its target, before it starts, or if it ended undecided.
    pub fn decided_at(&self) -> Option<PrimitiveDateTime> {
        match self.status {
            ClockStatus::Met { stopped_at } => Some(stopped_at),
            ClockStatus::Breached { .. } | ClockStatus::Breaching => Some(self.deadline),
            ClockStatus::NotStarted | ClockStatus::Running | ClockStatus::Ended { .. } => None,
        }
    }
}

const EPOCH: PrimitiveDateTime = PrimitiveDateTime::new(
    match Date::from_ordinal_date(1970, 1) {
        Ok(d) => d,
        Err(_) => panic!("1970-01-01 is a date"),
    },
    Time::MIDNIGHT,
);

/// Whole minutes since 1970-01-01 00:00 (rounded down; seconds are dropped).
pub(crate) fn minute(t: PrimitiveDateTime) -> i64 {
    (t - EPOCH).whole_seconds().div_euclid(60)
}

/// The time `m` minutes after 1970-01-01 00:00, saturating at the calendar's ends.
pub(crate) fn at_minute(m: i64) -> PrimitiveDateTime {
    let max = minute(PrimitiveDateTime::MAX);
    let min = minute(PrimitiveDateTime::MIN);
    if m >= max {
        return PrimitiveDateTime::MAX;
    }
    if m <= min {
        return PrimitiveDateTime::MIN;
    }
    EPOCH
        .checked_add(Duration::minutes(m))
        .unwrap_or(PrimitiveDateTime::MAX)
}

enum End {
    Stop(PrimitiveDateTime),
    Closed(PrimitiveDateTime),
    AsOf,
}

/// The state of one clock of a referral as of a time. Total: any referral, valid or not,
/// gives a state (an invalid contact before the referral counts as a stop at 0 minutes).
pub fn clock_state(r: &Referral, clock: Clock, as_of: PrimitiveDateTime) -> ClockState {
    let target = clock.target_minutes(r.priority);
    let start = minute(r.received);
    let now = minute(as_of);
    if now < start {
        return ClockState {
            clock,
            target_minutes: target,
            elapsed_minutes: 0,
            paused_minutes: 0,
            deadline: at_minute(start.saturating_add(target)),
            status: ClockStatus::NotStarted,
        };
    }
    let stop = r
        .contacts
        .iter()
        .filter(|c| {
            c.attendance == crate::referral::Attendance::Attended
                && clock.stopped_by(c.kind)
                && c.at <= as_of
        })
        .map(|c| c.at)
        .min();
    let closed = r.closed_at(as_of);
    let end = match (stop, closed) {
        (Some(s), Some(c)) if c < s => End::Closed(c),
        (Some(s), _) => End::Stop(s),
        (None, Some(c)) => End::Closed(c),
        (None, None) => End::AsOf,
    };
    let end_minute = match end {
        End::Stop(t) | End::Closed(t) => minute(t),
        End::AsOf => now,
    }
    .max(start);

    // The pauses this clock honours, clipped to [start, end], merged.
    let mut pauses: Vec<(i64, i64)> = r
        .pauses
        .iter()
        .filter(|p| clock.paused_by(p.reason))
        .filter_map(|p| {
            let a = minute(p.start).max(start);
            let b = p.end.map_or(end_minute, minute).min(end_minute);
            (a < b).then_some((a, b))
        })
        .collect();
    pauses.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(pauses.len());
    for (a, b) in pauses {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    // Walk forward: a pause counts only if it starts before the clock runs out.
    let mut t = start;
    let mut remaining = target;
    let mut paused = 0i64;
    for (a, b) in merged {
        if a - t >= remaining {
            break;
        }
        remaining -= a - t;
        paused += b - a;
        t = b;
    }
    let deadline = at_minute(t.saturating_add(remaining));
    let elapsed = end_minute - start - paused;
    let within = elapsed <= target;
    let status = match end {
        End::Stop(s) if within => ClockStatus::Met { stopped_at: s },
        End::Stop(s) => ClockStatus::Breached {
            stopped_at: Some(s),
        },
        End::Closed(_) if !within => ClockStatus::Breached { stopped_at: None },
        End::Closed(c) => ClockStatus::Ended { closed_at: c },
        End::AsOf if within => ClockStatus::Running,
        End::AsOf => ClockStatus::Breaching,
    };
    ClockState {
        clock,
        target_minutes: target,
        elapsed_minutes: elapsed,
        paused_minutes: paused,
        deadline,
        status,
    }
}

/// The states of every clock that applies to the referral, in `Clock` order.
pub fn clock_states(r: &Referral, as_of: PrimitiveDateTime) -> Vec<ClockState> {
    applicable_clocks(r)
        .into_iter()
        .map(|c| clock_state(r, c, as_of))
        .collect()
}

/// An open referral with at least one clock running, for a service's waiting list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Waiting<'a> {
    pub referral: &'a Referral,
    /// The running clock with the least time left (the most urgent).
    pub most_urgent: ClockState,
    /// Every applicable clock.
    pub clocks: Vec<ClockState>,
    /// Wall-clock minutes since the referral was received.
    pub waited_minutes: i64,
}

impl Waiting<'_> {
    pub fn is_breaching(&self) -> bool {
        self.most_urgent.is_breached()
    }
}

/// The waiting list order: breaching referrals first, then least time left (so the biggest
/// breach comes first), then longest waiting, then by service, reference and receipt time, and
/// the clock, so the order is total and never depends on the input order.
pub fn compare_waiting(a: &Waiting<'_>, b: &Waiting<'_>) -> Ordering {
    b.is_breaching()
        .cmp(&a.is_breaching())
        .then(
            a.most_urgent
                .minutes_left()
                .cmp(&b.most_urgent.minutes_left()),
        )
        .then(b.waited_minutes.cmp(&a.waited_minutes))
        .then_with(|| a.referral.service.cmp(&b.referral.service))
        .then_with(|| a.referral.id.cmp(&b.referral.id))
        .then(a.referral.received.cmp(&b.referral.received))
        .then(a.most_urgent.clock.cmp(&b.most_urgent.clock))
}

/// The referrals open at `as_of` with a clock still running, in waiting-list order.
pub fn waiting_list(referrals: &[Referral], as_of: PrimitiveDateTime) -> Vec<Waiting<'_>> {
    let mut out: Vec<Waiting<'_>> = referrals
        .iter()
        .filter(|r| r.is_open_at(as_of))
        .filter_map(|r| {
            let clocks = clock_states(r, as_of);
            let most_urgent = clocks
                .iter()
                .filter(|c| c.is_running())
                .min_by_key(|c| (c.minutes_left(), c.clock))
                .copied()?;
            Some(Waiting {
                referral: r,
                most_urgent,
                clocks,
                waited_minutes: minute(as_of) - minute(r.received),
            })
        })
        .collect();
    out.sort_by(compare_waiting);
    out
}

/// One service's waiting list: its referrals open at `as_of` with a clock running, in order.
pub fn service_waiting_list<'a>(
    referrals: &'a [Referral],
    service: &str,
    as_of: PrimitiveDateTime,
) -> Vec<Waiting<'a>> {
    let mut list = waiting_list(referrals, as_of);
    list.retain(|w| w.referral.service == service);
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::referral::{Attendance, Contact, Discharge, DischargeReason, Pause};
    use crate::testutil::referral;
    use time::macros::datetime;

    fn contact(kind: ContactKind, at: PrimitiveDateTime, attendance: Attendance) -> Contact {
        Contact {
            kind,
            at,
            attendance,
        }
    }

    #[test]
    fn referral_at_23_59_on_a_friday() {
        // Friday 1 March 2024, 23:59. 48 hours later: Sunday 3 March 23:59; weekends count.
        let mut r = referral(datetime!(2024-03-01 23:59));
        let s = clock_state(&r, Clock::Engagement, datetime!(2024-03-03 23:59));
        assert_eq!(s.status, ClockStatus::Running);
        assert_eq!(s.deadline, datetime!(2024-03-03 23:59));
        assert_eq!(s.minutes_left(), 0);
        let s = clock_state(&r, Clock::Engagement, datetime!(2024-03-04 00:00));
        assert_eq!(s.status, ClockStatus::Breaching);
        assert_eq!(s.breach_minutes(), 1);
        // The call on Monday at 09:00 is 9 hours 1 minute late.
        r.contacts.push(contact(
            ContactKind::EngagementCall,
            datetime!(2024-03-04 09:00),
            Attendance::Attended,
        ));
        let s = clock_state(&r, Clock::Engagement, datetime!(2024-03-10 12:00));
        assert_eq!(
            s.status,
            ClockStatus::Breached {
                stopped_at: Some(datetime!(2024-03-04 09:00))
            }
        );
        assert_eq!(s.breach_minutes(), 9 * 60 + 1);
        assert_eq!(s.elapsed_minutes, 2880 + 541);
        // Assessment: 14 days, due Friday 15 March 23:59.
        let s = clock_state(&r, Clock::Assessment, datetime!(2024-03-10 12:00));
        assert_eq!(s.deadline, datetime!(2024-03-15 23:59));
        assert_eq!(s.status, ClockStatus::Running);
        // 5 days 11 hours 59 minutes left.
        assert_eq!(s.minutes_left(), 5 * 1440 + 11 * 60 + 59);
    }

    #[test]
    fn exactly_on_the_deadline_is_met() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.contacts.push(contact(
            ContactKind::EngagementCall,
            datetime!(2024-03-03 10:00),
            Attendance::Attended,
        ));
        let s = clock_state(&r, Clock::Engagement, datetime!(2024-04-01 00:00));
        assert!(s.is_met());
        assert_eq!(s.minutes_left(), 0);
    }

    #[test]
    fn a_contact_not_attended_does_not_stop_the_clock() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.contacts.push(contact(
            ContactKind::Assessment,
            datetime!(2024-03-08 10:00),
            Attendance::DidNotAttend,
        ));
        r.contacts.push(contact(
            ContactKind::Assessment,
            datetime!(2024-03-12 10:00),
            Attendance::CancelledByPatient,
        ));
        let s = clock_state(&r, Clock::Assessment, datetime!(2024-03-14 10:00));
        assert_eq!(s.status, ClockStatus::Running);
        assert_eq!(s.elapsed_minutes, 13 * 1440);
        // Seen on day 16: breached by 2 days.
        r.contacts.push(contact(
            ContactKind::Assessment,
            datetime!(2024-03-17 10:00),
            Attendance::Attended,
        ));
        let s = clock_state(&r, Clock::Assessment, datetime!(2024-03-20 10:00));
        assert!(s.is_breached() && !s.is_met());
        assert_eq!(s.breach_minutes(), 2 * 1440);
    }

    #[test]
    fn later_stages_stop_earlier_clocks() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.contacts.push(contact(
            ContactKind::Assessment,
            datetime!(2024-03-02 10:00),
            Attendance::Attended,
        ));
        let as_of = datetime!(2024-03-05 10:00);
        assert!(clock_state(&r, Clock::Engagement, as_of).is_met());
        assert!(clock_state(&r, Clock::Assessment, as_of).is_met());
        assert!(clock_state(&r, Clock::Treatment, as_of).is_running());
    }

    #[test]
    fn a_pause_moves_the_assessment_deadline_not_the_engagement_or_childrens() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.age_at_referral = Some(17);
        r.pauses.push(Pause {
            start: datetime!(2024-03-05 10:00),
            end: Some(datetime!(2024-03-10 10:00)),
            reason: PauseReason::PatientChoice,
        });
        let as_of = datetime!(2024-03-12 10:00);
        let a = clock_state(&r, Clock::Assessment, as_of);
        assert_eq!(a.paused_minutes, 5 * 1440);
        assert_eq!(a.elapsed_minutes, 6 * 1440);
        assert_eq!(a.deadline, datetime!(2024-03-20 10:00));
        let c = clock_state(&r, Clock::ChildrenTreatment, as_of);
        assert_eq!(c.paused_minutes, 0);
        assert_eq!(c.deadline, datetime!(2024-03-29 10:00));
        let e = clock_state(&r, Clock::Engagement, as_of);
        assert_eq!(e.paused_minutes, 0);
        assert!(e.is_breached());
    }

    #[test]
    fn an_open_pause_lasts_until_as_of_and_a_late_pause_does_not_undo_a_breach() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.pauses.push(Pause {
            start: datetime!(2024-03-11 10:00),
            end: None,
            reason: PauseReason::MedicallyUnfit,
        });
        let s = clock_state(&r, Clock::Assessment, datetime!(2024-03-20 10:00));
        assert_eq!(s.status, ClockStatus::Running);
        assert_eq!(s.elapsed_minutes, 10 * 1440);
        assert_eq!(s.deadline, datetime!(2024-03-24 10:00));
        // A pause that starts after the assessment clock breached changes nothing.
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.pauses.push(Pause {
            start: datetime!(2024-03-16 10:00),
            end: Some(datetime!(2024-03-30 10:00)),
            reason: PauseReason::PatientChoice,
        });
        let s = clock_state(&r, Clock::Assessment, datetime!(2024-03-31 10:00));
        assert_eq!(s.deadline, datetime!(2024-03-15 10:00));
        assert_eq!(s.paused_minutes, 0);
        assert_eq!(s.status, ClockStatus::Breaching);
        assert_eq!(s.breach_minutes(), 16 * 1440);
    }

    #[test]
    fn overlapping_pauses_count_once_and_a_pause_at_the_deadline_is_too_late() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        for (start, end) in [
            (datetime!(2024-03-03 10:00), datetime!(2024-03-06 10:00)),
            (datetime!(2024-03-05 10:00), datetime!(2024-03-08 10:00)),
        ] {
            r.pauses.push(Pause {
                start,
                end: Some(end),
                reason: PauseReason::PatientChoice,
            });
        }
        // 3 to 8 March: 5 days, not 6.
        let s = clock_state(&r, Clock::Treatment, datetime!(2024-03-20 10:00));
        assert_eq!(s.paused_minutes, 5 * 1440);
        assert_eq!(s.deadline, datetime!(2024-04-03 10:00));
        // A pause starting at the very minute the assessment deadline falls does not count.
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.pauses.push(Pause {
            start: datetime!(2024-03-15 10:00),
            end: Some(datetime!(2024-03-20 10:00)),
            reason: PauseReason::MedicallyUnfit,
        });
        let s = clock_state(&r, Clock::Assessment, datetime!(2024-03-20 10:00));
        assert_eq!(s.deadline, datetime!(2024-03-15 10:00));
        assert_eq!(s.breach_minutes(), 5 * 1440);
        // One minute earlier, it does.
        r.pauses[0].start = datetime!(2024-03-15 09:59);
        let s = clock_state(&r, Clock::Assessment, datetime!(2024-03-20 10:00));
        assert_eq!(s.paused_minutes, 5 * 1440 + 1);
        assert_eq!(s.status, ClockStatus::Running);
        assert_eq!(s.minutes_left(), 1);
    }

    #[test]
    fn childrens_clock_by_priority() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.age_at_referral = Some(16);
        r.priority = Priority::Urgent;
        assert!(applicable_clocks(&r).contains(&Clock::ChildrenTreatment));
        r.contacts.push(contact(
            ContactKind::FirstTreatment,
            datetime!(2024-03-08 10:01),
            Attendance::Attended,
        ));
        let s = clock_state(&r, Clock::ChildrenTreatment, datetime!(2024-04-01 00:00));
        assert_eq!(s.breach_minutes(), 1);
        r.priority = Priority::Routine;
        let s = clock_state(&r, Clock::ChildrenTreatment, datetime!(2024-04-01 00:00));
        assert!(s.is_met());
        assert_eq!(s.minutes_left(), 21 * 1440 - 1);
        r.age_at_referral = Some(19);
        assert!(!applicable_clocks(&r).contains(&Clock::ChildrenTreatment));
    }

    #[test]
    fn turning_26_while_waiting_keeps_the_freed_clocks() {
        // Eligibility is judged on the age at referral: 25 then, 26 a week later, still FREED.
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.age_at_referral = Some(25);
        assert_eq!(
            applicable_clocks(&r),
            vec![Clock::Engagement, Clock::Assessment, Clock::Treatment]
        );
        let s = clock_state(&r, Clock::Treatment, datetime!(2024-04-01 10:00));
        assert_eq!(s.status, ClockStatus::Breaching);
        assert_eq!(s.breach_minutes(), 3 * 1440);
        r.age_at_referral = Some(26);
        assert!(applicable_clocks(&r).is_empty());
    }

    #[test]
    fn closed_before_the_deadline_ends_after_it_breaches() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.discharges.push(Discharge {
            at: datetime!(2024-03-10 10:00),
            reason: DischargeReason::PatientDeclined,
            reopened: None,
        });
        let as_of = datetime!(2024-04-01 00:00);
        assert_eq!(
            clock_state(&r, Clock::Assessment, as_of).status,
            ClockStatus::Ended {
                closed_at: datetime!(2024-03-10 10:00)
            }
        );
        assert_eq!(
            clock_state(&r, Clock::Engagement, as_of).status,
            ClockStatus::Breached { stopped_at: None }
        );
        assert!(waiting_list(std::slice::from_ref(&r), as_of).is_empty());
    }

    #[test]
    fn a_reopened_referral_keeps_its_clocks_and_the_closed_time_counts() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.discharges.push(Discharge {
            at: datetime!(2024-03-05 10:00),
            reason: DischargeReason::DidNotEngage,
            reopened: Some(datetime!(2024-03-12 10:00)),
        });
        // While closed the assessment clock has ended undecided...
        let s = clock_state(&r, Clock::Assessment, datetime!(2024-03-08 10:00));
        assert!(matches!(s.status, ClockStatus::Ended { .. }));
        // ...reopened, it runs again from the original receipt: day 13 of 14.
        let s = clock_state(&r, Clock::Assessment, datetime!(2024-03-14 10:00));
        assert_eq!(s.status, ClockStatus::Running);
        assert_eq!(s.elapsed_minutes, 13 * 1440);
        r.contacts.push(contact(
            ContactKind::Assessment,
            datetime!(2024-03-18 10:00),
            Attendance::Attended,
        ));
        let s = clock_state(&r, Clock::Assessment, datetime!(2024-03-20 10:00));
        assert_eq!(s.breach_minutes(), 3 * 1440);
    }

    #[test]
    fn not_started_before_receipt() {
        let r = referral(datetime!(2024-03-01 10:00));
        let s = clock_state(&r, Clock::Treatment, datetime!(2024-02-01 10:00));
        assert_eq!(s.status, ClockStatus::NotStarted);
        assert_eq!(s.minutes_left(), s.target_minutes);
    }

    #[test]
    fn waiting_list_order() {
        let as_of = datetime!(2024-03-20 10:00);
        let mut a = referral(datetime!(2024-03-18 10:00)); // engagement: 0 minutes left
        a.id = "A".into();
        let mut b = referral(datetime!(2024-03-01 10:00)); // assessment breaching by 5 days
        b.id = "B".into();
        b.contacts.push(contact(
            ContactKind::EngagementCall,
            datetime!(2024-03-02 10:00),
            Attendance::Attended,
        ));
        let mut c = referral(datetime!(2024-03-19 10:00)); // engagement: 1 day left
        c.id = "C".into();
        let mut d = referral(datetime!(2024-03-10 10:00)); // assessment: 4 days left
        d.id = "D".into();
        d.contacts.push(contact(
            ContactKind::EngagementCall,
            datetime!(2024-03-10 12:00),
            Attendance::Attended,
        ));
        let mut e = referral(datetime!(2024-03-10 10:00)); // same as D, listed by reference
        e.id = "E".into();
        e.contacts = d.contacts.clone();
        let mut treated = referral(datetime!(2024-03-01 10:00));
        treated.contacts.push(contact(
            ContactKind::FirstTreatment,
            datetime!(2024-03-02 10:00),
            Attendance::Attended,
        ));
        let all = vec![e, d, c, treated, a, b];
        let list = waiting_list(&all, as_of);
        let ids: Vec<&str> = list.iter().map(|w| w.referral.id.as_str()).collect();
        assert_eq!(ids, vec!["B", "A", "C", "D", "E"]);
        assert_eq!(service_waiting_list(&all, "SVC", as_of).len(), 5);
        assert!(service_waiting_list(&all, "OTHER", as_of).is_empty());
        assert_eq!(list[0].most_urgent.clock, Clock::Assessment);
        assert_eq!(list[0].most_urgent.breach_minutes(), 5 * 1440);
        assert_eq!(list[2].most_urgent.minutes_left(), 1440);
    }

    #[test]
    fn ties_on_time_left_go_to_the_longest_waiting() {
        let as_of = datetime!(2024-03-20 10:00);
        // Both have 1 day left on a running clock; the earlier referral waited longer.
        let mut young = referral(datetime!(2024-03-19 10:00)); // engagement, 1 day left
        young.id = "Y".into();
        let mut old = referral(datetime!(2024-03-07 10:00)); // assessment, 1 day left
        old.id = "Z".into();
        old.contacts.push(contact(
            ContactKind::EngagementCall,
            datetime!(2024-03-07 11:00),
            Attendance::Attended,
        ));
        let all = [young, old];
        let list = waiting_list(&all, as_of);
        let ids: Vec<&str> = list.iter().map(|w| w.referral.id.as_str()).collect();
        assert_eq!(ids, vec!["Z", "Y"]);
    }
}
