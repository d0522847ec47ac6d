//! Properties over arbitrary referrals: nothing panics, clock states are consistent, the
//! waiting-list order is total and independent of input order.

use std::cmp::Ordering;

use domain::dates::PeriodKind;
use pathway::aggregate::{self, Period};
use pathway::clock::{self, Clock, ClockStatus, compare_waiting};
use pathway::eligibility::{Status, eligibility};
use pathway::queue::{self, ListEntry};
use pathway::*;
use proptest::prelude::*;
use time::{Date, Duration, Month, PrimitiveDateTime, Time};

fn base() -> PrimitiveDateTime {
    PrimitiveDateTime::new(
        Date::from_calendar_date(2024, Month::January, 1).unwrap(),
        Time::MIDNIGHT,
    )
}

/// Mostly 2022-2026 in whole minutes; sometimes anywhere the calendar holds.
fn datetime() -> impl Strategy<Value = PrimitiveDateTime> {
    prop_oneof![
        8 => (-1_051_200i64..1_051_200).prop_map(|m| base() + Duration::minutes(m)),
        1 => (Date::MIN.to_julian_day()..=Date::MAX.to_julian_day(), 0u32..86_400).prop_map(
            |(j, s)| {
                let d = Date::from_julian_day(j).unwrap();
                PrimitiveDateTime::new(d, Time::MIDNIGHT)
                    + Duration::seconds(i64::from(s)).min(Duration::seconds(86_399))
            }
        ),
        1 => Just(PrimitiveDateTime::MAX),
        1 => Just(PrimitiveDateTime::MIN),
    ]
}

/// A time near `t` (days before to weeks after), or any time.
fn near(t: PrimitiveDateTime) -> impl Strategy<Value = PrimitiveDateTime> {
    prop_oneof![
        6 => (-5_000i64..100_000).prop_map(move |m| t.checked_add(Duration::minutes(m)).unwrap_or(t)),
        1 => datetime(),
    ]
}

fn onset() -> impl Strategy<Value = Onset> {
    prop_oneof![
        (-3000i64..100).prop_map(|d| Onset::Day(base().date() + Duration::days(d))),
        (any::<i32>(), 1u8..=12).prop_map(|(year, m)| Onset::Month {
            year: if year % 3 == 0 {
                year
            } else {
                2015 + year.rem_euclid(12)
            },
            month: Month::try_from(m).unwrap(),
        }),
        any::<i32>().prop_map(|y| Onset::Year(if y % 3 == 0 {
            y
        } else {
            2015 + y.rem_euclid(12)
        })),
        Just(Onset::Unknown),
    ]
}

fn contact(t: PrimitiveDateTime) -> impl Strategy<Value = Contact> {
    (
        prop_oneof![
            Just(ContactKind::EngagementCall),
            Just(ContactKind::Assessment),
            Just(ContactKind::FirstTreatment)
        ],
        near(t),
        prop_oneof![
            3 => Just(Attendance::Attended),
            1 => Just(Attendance::DidNotAttend),
            1 => Just(Attendance::CancelledByPatient),
            1 => Just(Attendance::CancelledByProvider)
        ],
    )
        .prop_map(|(kind, at, attendance)| Contact {
            kind,
            at,
            attendance,
        })
}

fn pause(t: PrimitiveDateTime) -> impl Strategy<Value = Pause> {
    (
        near(t),
        proptest::option::of(-100i64..30_000),
        prop_oneof![
            Just(PauseReason::PatientChoice),
            Just(PauseReason::MedicallyUnfit)
        ],
    )
        .prop_map(|(start, len, reason)| Pause {
            start,
            end: len.map(|m| start.checked_add(Duration::minutes(m)).unwrap_or(start)),
            reason,
        })
}

fn discharge(t: PrimitiveDateTime) -> impl Strategy<Value = Discharge> {
    (near(t), proptest::option::of(-100i64..30_000)).prop_map(|(at, reopen)| Discharge {
        at,
        reason: DischargeReason::Other,
        reopened: reopen.map(|m| at.checked_add(Duration::minutes(m)).unwrap_or(at)),
    })
}

fn referral() -> impl Strategy<Value = Referral> {
    (
        datetime(),
        "[A-C]{0,2}",
        "[XY]{0,1}",
        proptest::option::of(any::<u8>()),
        prop_oneof![
            Just(FirstEpisode::Yes),
            Just(FirstEpisode::No),
            Just(FirstEpisode::NotKnown)
        ],
        onset(),
        prop_oneof![Just(Priority::Urgent), Just(Priority::Routine)],
    )
        .prop_flat_map(|(received, id, service, age, first, onset, priority)| {
            (
                Just((received, id, service, age, first, onset, priority)),
                proptest::collection::vec(contact(received), 0..6),
                proptest::collection::vec(pause(received), 0..3),
                proptest::collection::vec(discharge(received), 0..3),
            )
        })
        .prop_map(
            |(
                (received, id, service, age, first, onset, priority),
                contacts,
                pauses,
                mut discharges,
            )| {
                discharges.sort_by_key(|d| d.at);
                Referral {
                    id,
                    service,
                    received,
                    source: ReferralSource::SelfReferral,
                    age_at_referral: age,
                    first_episode: first,
                    onset,
                    diagnosis: DiagnosisGroup::NotYetKnown,
                    priority,
                    contacts,
                    pauses,
                    discharges,
                }
            },
        )
}

/// Times where saturation at the calendar's ends cannot reach the deadline.
fn ordinary(t: PrimitiveDateTime) -> bool {
    (-9000..9000).contains(&t.year())
}

fn check_state(
    r: &Referral,
    s: &ClockState,
    as_of: PrimitiveDateTime,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(s.elapsed_minutes + s.minutes_left(), s.target_minutes);
    prop_assert!(!(s.is_met() && s.is_breached()));
    prop_assert!(s.elapsed_minutes >= 0 && s.paused_minutes >= 0);
    prop_assert!(s.breach_minutes() >= 0);
    match s.status {
        ClockStatus::Met { .. } | ClockStatus::Running | ClockStatus::Ended { .. } => {
            prop_assert!(s.elapsed_minutes <= s.target_minutes)
        }
        ClockStatus::Breached { .. } | ClockStatus::Breaching => {
            prop_assert!(s.elapsed_minutes > s.target_minutes)
        }
        ClockStatus::NotStarted => prop_assert_eq!(s.elapsed_minutes, 0),
    }
    if ordinary(s.deadline) && ordinary(r.received) && ordinary(as_of) {
        match s.status {
            ClockStatus::Met { stopped_at } => {
                prop_assert!(stopped_at <= s.deadline + Duration::seconds(59))
            }
            ClockStatus::Breached {
                stopped_at: Some(t),
            } => prop_assert!(t > s.deadline || t < r.received),
            ClockStatus::Running => prop_assert!(as_of <= s.deadline + Duration::seconds(59)),
            ClockStatus::Breaching => prop_assert!(as_of > s.deadline),
            _ => {}
        }
    }
    if let Some(t) = s.decided_at() {
        prop_assert!(t <= as_of || !ordinary(t));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_referrals_never_panic_and_clocks_are_consistent(
        r in referral(),
        as_of in datetime(),
        later in 0i64..200_000,
    ) {
        let _ = r.problems();
        let _ = r.validate();
        let e = eligibility(&r);
        prop_assert_eq!(e.status == Status::Eligible, e.reasons.is_empty());
        prop_assert_eq!(
            e.status == Status::NotEligible,
            e.reasons.iter().any(|x| x.is_failure())
        );
        let mut conditions: Vec<_> = e.reasons.iter().map(|x| x.condition()).collect();
        conditions.dedup();
        prop_assert_eq!(conditions.len(), e.reasons.len());
        let _ = dued(&r, as_of);
        let then = as_of.checked_add(Duration::minutes(later)).unwrap_or(as_of);
        for c in Clock::ALL {
            let s = clock_state(&r, c, as_of);
            check_state(&r, &s, as_of)?;
            let t = clock_state(&r, c, then);
            check_state(&r, &t, then)?;
            // Met stays met and a breach stays a breach.
            if s.is_met() { prop_assert!(t.is_met()); }
            if s.is_breached() { prop_assert!(t.is_breached()); }
        }
    }

    #[test]
    fn the_waiting_list_order_is_total_and_independent_of_input_order(
        rs in proptest::collection::vec(referral(), 0..12),
        as_of in (-1_051_200i64..1_051_200).prop_map(|m| base() + Duration::minutes(m)),
    ) {
        let list = waiting_list(&rs, as_of);
        for w in &list {
            prop_assert!(w.referral.is_open_at(as_of));
            prop_assert!(w.most_urgent.is_running());
            for c in &w.clocks {
                if c.is_running() {
                    prop_assert!(w.most_urgent.minutes_left() <= c.minutes_left());
                }
            }
        }
        for a in &list {
            for b in &list {
                prop_assert_eq!(compare_waiting(a, b), compare_waiting(b, a).reverse());
            }
        }
        for pair in list.windows(2) {
            prop_assert_ne!(compare_waiting(&pair[0], &pair[1]), Ordering::Greater);
            prop_assert!(pair[0].is_breaching() || !pair[1].is_breaching());
        }
        let mut reversed = rs.clone();
        reversed.reverse();
        let other = waiting_list(&reversed, as_of);
        let key = |w: &Waiting<'_>| (w.referral.service.clone(), w.referral.id.clone(), w.referral.received, w.most_urgent.minutes_left(), w.waited_minutes);
        prop_assert_eq!(
            list.iter().map(key).collect::<Vec<_>>(),
            other.iter().map(key).collect::<Vec<_>>()
        );
    }

    #[test]
    fn aggregations_never_panic_and_add_up(
        rs in proptest::collection::vec(referral(), 0..12),
        as_of in datetime(),
        from in (-400i64..400).prop_map(|d| base().date() + Duration::days(d)),
        weekly in any::<bool>(),
        follow_up in any::<i64>(),
    ) {
        let kind = if weekly { PeriodKind::Week } else { PeriodKind::Month };
        let periods = Period::between(kind, from, from + Duration::days(90));
        for c in Clock::ALL {
            let s = aggregate::clock_series(&rs, c, &periods, as_of);
            prop_assert_eq!(s.len(), periods.len());
            let total: usize = s.iter().map(|x| x.due).sum();
            let applicable = rs.iter().filter(|r| clock::applicable_clocks(r).contains(&c)).count();
            prop_assert!(total <= applicable);
            for x in &s {
                prop_assert_eq!(x.met + x.breached, x.due);
            }
        }
        for m in aggregate::referral_to_treatment(&rs, &periods, as_of) {
            prop_assert_eq!(m.median.is_some(), m.n > 0);
        }
        for d in aggregate::dued_summary(&rs, &periods, as_of) {
            prop_assert!(d.precise_onset <= d.with_dued && d.with_dued <= d.treated);
            prop_assert_eq!(d.bins.iter().sum::<usize>(), d.with_dued);
        }
        for u in aggregate::uptake(&rs, &periods, as_of, follow_up) {
            prop_assert!(u.started <= u.followed_up && u.followed_up <= u.eligible);
        }
    }

    #[test]
    fn waiting_sizes_match_the_waiting_list_at_each_period_end(
        rs in proptest::collection::vec(referral(), 0..12),
        as_of in near(base()),
        from in (-60i64..60).prop_map(|d| base().date() + Duration::days(d)),
        weekly in any::<bool>(),
    ) {
        let kind = if weekly { PeriodKind::Week } else { PeriodKind::Month };
        let periods = Period::between(kind, from, from + Duration::days(120));
        let sizes = aggregate::waiting_sizes(&rs, &periods, as_of);
        prop_assert_eq!(sizes.len(), periods.len());
        for (p, n) in sizes {
            let start = PrimitiveDateTime::new(p.start, Time::MIDNIGHT);
            if start > as_of {
                prop_assert_eq!(n, None);
                continue;
            }
            let end = PrimitiveDateTime::new(p.end, Time::MIDNIGHT) - Duration::minutes(1);
            let t = end.min(as_of);
            prop_assert_eq!(n, Some(clock::waiting_list(&rs, t).len()), "period {:?}", p);
        }
    }

    #[test]
    fn queue_sizes_match_a_direct_count(
        entries in proptest::collection::vec((0i64..60, proptest::option::of(0i64..40)), 0..20),
        start in 0i64..50,
        len in 0i64..30,
    ) {
        let day0 = base().date();
        let list: Vec<ListEntry> = entries.iter().map(|&(a, b)| ListEntry {
            referral: day0 + Duration::days(a),
            removal: b.map(|b| day0 + Duration::days(a + b)),
        }).collect();
        let from = day0 + Duration::days(start);
        let to = from + Duration::days(len);
        let daily = queue::daily_queue_sizes(&list, from, to).unwrap();
        prop_assert_eq!(daily.len() as i64, len + 1);
        for (d, size) in &daily {
            let direct = list.iter().filter(|e| e.referral <= *d && e.removal.is_none_or(|r| r > *d)).count();
            prop_assert_eq!(*size, direct);
        }
        let weekly = queue::weekly_queue_sizes(&list, from, to).unwrap();
        prop_assert!(weekly.windows(2).all(|w| w[1].0 - w[0].0 == Duration::days(7)));
        if len > 0 {
            let d = queue::demand(&list, from, to).unwrap();
            prop_assert!(d.weekly.is_finite() && d.weekly > 0.0);
            let c = queue::capacity(&list, from, to).unwrap();
            prop_assert!(c.weekly.is_finite() && c.weekly > 0.0);
            let _ = queue::waiting_list_stats(&list, from, to, 4.0, queue::DEFAULT_FACTOR);
        }
    }

    #[test]
    fn formulas_never_panic_and_give_finite_numbers(
        a in any::<f64>(), b in any::<f64>(), c in any::<f64>(), d in any::<f64>(), e in any::<f64>(),
    ) {
        let results = [
            queue::queue_load(a, b),
            queue::target_mean_wait(a, b),
            queue::target_queue_size(a, b, c),
            queue::target_capacity(a, b, c, d, e),
            queue::relief_capacity(a, b, c, d),
            queue::waiting_list_pressure(a, b),
        ];
        for r in results {
            match r {
                Ok(x) => prop_assert!(x.is_finite()),
                Err(err) => prop_assert!(!err.field.is_empty()),
            }
        }
    }

    #[test]
    fn arbitrary_list_inputs_never_panic(
        entries in proptest::collection::vec((any::<i32>(), proptest::option::of(any::<i32>())), 0..8),
        from in any::<i32>(),
        to in any::<i32>(),
    ) {
        let day = |n: i32| {
            let j = Date::MIN.to_julian_day() + n.rem_euclid(Date::MAX.to_julian_day() - Date::MIN.to_julian_day());
            Date::from_julian_day(j).unwrap()
        };
        let list: Vec<ListEntry> = entries.iter().map(|&(a, b)| ListEntry { referral: day(a), removal: b.map(day) }).collect();
        let _ = queue::daily_queue_sizes(&list, day(from), day(to));
        let _ = queue::weekly_queue_sizes(&list, day(from), day(to));
        let _ = queue::demand(&list, day(from), day(to));
        let _ = queue::capacity(&list, day(from), day(to));
        let _ = queue::waiting_list_stats(&list, day(from), day(to), 4.0, 4.0);
    }
}
