//! The waiting list as a queue, with the formulas of the NHS-R community's NHSRwaitinglist.
//!
//! Units are the caller's: demand and capacity per week go with waits in weeks. Every formula
//! checks its inputs (finite, and positive where it divides) and its result (finite), and
//! names the input that is wrong.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::error::PathwayError;

/// The default factor: a mean wait of a quarter of the target keeps most patients within it.
pub const DEFAULT_FACTOR: f64 = 4.0;
/// The default coefficient of variation of arrivals and of removals.
pub const DEFAULT_CV: f64 = 1.0;
/// The default time to reach a target queue size, in weeks.
pub const DEFAULT_TIME_TO_TARGET: f64 = 26.0;
/// The longest span of days the list functions accept (100 years).
pub const MAX_SPAN_DAYS: i64 = 36_525;

fn finite(name: &str, x: f64) -> Result<f64, PathwayError> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(PathwayError::new(name, "a finite number", x))
    }
}

fn non_negative(name: &str, x: f64) -> Result<f64, PathwayError> {
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err(PathwayError::new(name, "a finite number, 0 or more", x))
    }
}

fn positive(name: &str, x: f64) -> Result<f64, PathwayError> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(PathwayError::new(name, "a finite number above 0", x))
    }
}

/// Queue load = demand / capacity; above 1 the list grows.
pub fn queue_load(demand: f64, capacity: f64) -> Result<f64, PathwayError> {
    let d = non_negative("demand", demand)?;
    let c = positive("capacity", capacity)?;
    finite("queue_load", d / c)
}

/// The mean wait that keeps most patients within the target: target wait / factor.
pub fn target_mean_wait(target_wait: f64, factor: f64) -> Result<f64, PathwayError> {
    let t = positive("target_wait", target_wait)?;
    let f = positive("factor", factor)?;
    finite("target_mean_wait", t / f)
}

/// Little's law: target queue size = demand x target wait / factor.
pub fn target_queue_size(demand: f64, target_wait: f64, factor: f64) -> Result<f64, PathwayError> {
    let d = non_negative("demand", demand)?;
    let w = target_mean_wait(target_wait, factor)?;
    finite("target_queue_size", d * w)
}

/// Kingman's approximation: the capacity that holds the target mean wait =
/// demand + ((cv_demand^2 + cv_capacity^2) / 2) x (factor / target wait).
pub fn target_capacity(
    demand: f64,
    target_wait: f64,
    factor: f64,
    cv_demand: f64,
    cv_capacity: f64,
) -> Result<f64, PathwayError> {
    let d = non_negative("demand", demand)?;
    let w = target_mean_wait(target_wait, factor)?;
    let a = non_negative("cv_demand", cv_demand)?;
    let s = non_negative("cv_capacity", cv_capacity)?;
    finite("target_capacity", d + ((a * a + s * s) / 2.0) / w)
}

/// The capacity that brings the queue to a target size in a time:
/// demand + (queue size - target queue size) / time to target.
pub fn relief_capacity(
    demand: f64,
    queue_size: f64,
    target_queue_size: f64,
    time_to_target: f64,
) -> Result<f64, PathwayError> {
    let d = non_negative("demand", demand)?;
    let q = non_negative("queue_size", queue_size)?;
    let t = non_negative("target_queue_size", target_queue_size)?;
    let time = positive("time_to_target", time_to_target)?;
    finite("relief_capacity", d + (q - t) / time)
}

/// Waiting list pressure = (mean wait x 2) / target wait; above 1 the list is under pressure.
pub fn waiting_list_pressure(mean_wait: f64, target_wait: f64) -> Result<f64, PathwayError> {
    let m = non_negative("mean_wait", mean_wait)?;
    let t = positive("target_wait", target_wait)?;
    finite("waiting_list_pressure", m * 2.0 / t)
}

/// One patient on the list: the day added and the day removed (if removed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ListEntry {
    pub referral: Date,
    pub removal: Option<Date>,
}

fn check_list(list: &[ListEntry], from: Date, to: Date) -> Result<i64, PathwayError> {
    if to < from {
        return Err(PathwayError::new(
            "to",
            format!("on or after from ({from})"),
            to,
        ));
    }
    let span = (to - from).whole_days();
    if span > MAX_SPAN_DAYS {
        return Err(PathwayError::new(
            "to",
            format!("within {MAX_SPAN_DAYS} days of from ({from})"),
            to,
        ));
    }
    for (i, e) in list.iter().enumerate() {
        if let Some(r) = e.removal
            && r < e.referral
        {
            return Err(PathwayError::new(
                format!("list[{i}].removal"),
                format!("on or after the referral ({})", e.referral),
                r,
            ));
        }
    }
    Ok(span)
}

/// Queue size at the end of each day from `from` to `to` inclusive: patients added on or
/// before the day and not removed on or before it.
pub fn daily_queue_sizes(
    list: &[ListEntry],
    from: Date,
    to: Date,
) -> Result<Vec<(Date, usize)>, PathwayError> {
    let span = check_list(list, from, to)?;
    let n = (span + 1) as usize;
    // change[k]: patients joining minus leaving at the end of day from + k; base: on the list
    // at the end of the day before `from`.
    let mut change = vec![0i64; n];
    let mut base = 0i64;
    let index = |d: Date| (d - from).whole_days();
    for e in list {
        let a = index(e.referral);
        let b = e.removal.map(index);
        if a >= n as i64 || b.is_some_and(|b| b < 0) {
            continue;
        }
        if a < 0 {
            base += 1;
        } else {
            change[a as usize] += 1;
        }
        if let Some(b) = b
            && b < n as i64
        {
            change[b as usize] -= 1;
        }
    }
    let mut size = base;
    let mut out = Vec::with_capacity(n);
    let mut day = from;
    for c in change {
        size += c;
        out.push((day, size.max(0) as usize));
        day = day.next_day().unwrap_or(day);
    }
    Ok(out)
}

/// Queue size at the end of each ISO week (Monday to Sunday) touching `from`..=`to`, keyed by
/// the week's Monday; the last week's size is taken on `to`, the first week's days before
/// `from` are not looked at.
pub fn weekly_queue_sizes(
    list: &[ListEntry],
    from: Date,
    to: Date,
) -> Result<Vec<(Date, usize)>, PathwayError> {
    let daily = daily_queue_sizes(list, from, to)?;
    let mut out: Vec<(Date, usize)> = Vec::new();
    for (day, size) in daily {
        let monday = day - time::Duration::days(i64::from(day.weekday().number_days_from_monday()));
        match out.last_mut() {
            Some(last) if last.0 == monday => last.1 = size,
            _ => out.push((monday, size)),
        }
    }
    Ok(out)
}

/// A rate per week estimated from the gaps between events (NHSRwaitinglist's method).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// Events (referrals or removals) in the period.
    pub count: usize,
    /// 7 / the mean gap in days.
    pub weekly: f64,
    /// Sample standard deviation of the gaps / their mean; `None` with fewer than two gaps.
    pub cv: Option<f64>,
}

fn rate_from_gaps(count: usize, gaps: &[f64]) -> Result<Rate, PathwayError> {
    let n = gaps.len() as f64;
    let mean = gaps.iter().sum::<f64>() / n;
    if mean.is_nan() || mean <= 0.0 {
        return Err(PathwayError::new(
            "to",
            "a period with time between its events (from before to)",
            "no time between them",
        ));
    }
    let cv = (gaps.len() >= 2).then(|| {
        let var = gaps.iter().map(|g| (g - mean) * (g - mean)).sum::<f64>() / (n - 1.0);
        var.sqrt() / mean
    });
    Ok(Rate {
        count,
        weekly: 7.0 / mean,
        cv,
    })
}

/// Demand (as NHSRwaitinglist's `wl_referral_stats`): the gaps in days between the period's
/// start, each referral dated in `from..=to` in date order, and the period's end.
pub fn demand(list: &[ListEntry], from: Date, to: Date) -> Result<Rate, PathwayError> {
    check_list(list, from, to)?;
    let mut days: Vec<Date> = list
        .iter()
        .map(|e| e.referral)
        .filter(|&d| from <= d && d <= to)
        .collect();
    days.sort_unstable();
    let count = days.len();
    let mut points = Vec::with_capacity(count + 2);
    points.push(from);
    points.extend(days);
    points.push(to);
    let gaps: Vec<f64> = points
        .windows(2)
        .map(|w| (w[1] - w[0]).whole_days() as f64)
        .collect();
    rate_from_gaps(count, &gaps)
}

/// Capacity (after NHSRwaitinglist's `wl_removal_stats`): the gaps in days between the period's
/// start, each removal dated in `from..=to` in date order, and the period's end; a gap starts
/// no earlier than the last day before its removal on which the list was empty at the end of
/// the day, so time with nobody to treat does not count against capacity.
pub fn capacity(list: &[ListEntry], from: Date, to: Date) -> Result<Rate, PathwayError> {
    let sizes = daily_queue_sizes(list, from, to)?;
    let mut days: Vec<Date> = list
        .iter()
        .filter_map(|e| e.removal)
        .filter(|&d| from <= d && d <= to)
        .collect();
    days.sort_unstable();
    let count = days.len();
    let mut points = Vec::with_capacity(count + 1);
    points.extend(days);
    points.push(to);
    // last_empty[k]: the latest day index <= k on which the list was empty at the end.
    let mut last_empty = Vec::with_capacity(sizes.len());
    let mut latest: Option<i64> = None;
    for (k, (_, size)) in sizes.iter().enumerate() {
        if *size == 0 {
            latest = Some(k as i64);
        }
        last_empty.push(latest);
    }
    let index = |d: Date| (d - from).whole_days();
    let mut previous = 0i64;
    let mut gaps = Vec::with_capacity(points.len());
    for d in points {
        let k = index(d);
        let empty = if k >= 1 {
            last_empty.get((k - 1) as usize).copied().flatten()
        } else {
            None
        };
        let begin = empty.map_or(previous, |e| e.max(previous));
        gaps.push((k - begin) as f64);
        previous = k;
    }
    rate_from_gaps(count, &gaps)
}

/// A summary of a waiting list over a period, as NHSRwaitinglist's `wl_stats`, in weeks.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaitingListStats {
    pub demand: Rate,
    pub capacity: Rate,
    pub load: f64,
    /// Load of 1 or more: the list does not shrink.
    pub load_too_big: bool,
    /// On the list at the end of `to`.
    pub queue_size: usize,
    pub target_queue_size: f64,
    /// Queue size above twice the target: relief capacity is needed.
    pub queue_too_big: bool,
    /// Mean wait, in weeks, of those on the list at the end of `to`; `None` if nobody waits.
    pub mean_wait_weeks: Option<f64>,
    /// Kingman's capacity with the measured coefficients of variation (1 where fewer than two
    /// gaps give none); only when the queue is not too big.
    pub target_capacity: Option<f64>,
    /// Capacity to reach the target queue size in 26 weeks; only when the queue is too big.
    pub relief_capacity: Option<f64>,
    pub pressure: Option<f64>,
}

/// The waiting list summary for `from..=to` against a target wait in weeks.
pub fn waiting_list_stats(
    list: &[ListEntry],
    from: Date,
    to: Date,
    target_wait_weeks: f64,
    factor: f64,
) -> Result<WaitingListStats, PathwayError> {
    let demand = demand(list, from, to)?;
    let capacity = capacity(list, from, to)?;
    let load = queue_load(demand.weekly, capacity.weekly)?;
    let queue_size = list
        .iter()
        .filter(|e| e.referral <= to && e.removal.is_none_or(|r| r > to))
        .count();
    let target = target_queue_size(demand.weekly, target_wait_weeks, factor)?;
    let queue_too_big = queue_size as f64 > 2.0 * target;
    let waits: Vec<f64> = list
        .iter()
        .filter(|e| e.referral <= to && e.removal.is_none_or(|r| r > to))
        .map(|e| (to - e.referral).whole_days() as f64 / 7.0)
        .collect();
    let mean_wait_weeks =
        (!waits.is_empty()).then(|| waits.iter().sum::<f64>() / waits.len() as f64);
    let target_capacity = if queue_too_big {
        None
    } else {
        Some(target_capacity(
            demand.weekly,
            target_wait_weeks,
            factor,
            demand.cv.unwrap_or(DEFAULT_CV),
            capacity.cv.unwrap_or(DEFAULT_CV),
        )?)
    };
    let relief_capacity = if queue_too_big {
        Some(relief_capacity(
            demand.weekly,
            queue_size as f64,
            target,
            DEFAULT_TIME_TO_TARGET,
        )?)
    } else {
        None
    };
    let pressure = match mean_wait_weeks {
        Some(m) => Some(waiting_list_pressure(m, target_wait_weeks)?),
        None => None,
    };
    Ok(WaitingListStats {
        demand,
        capacity,
        load,
        load_too_big: load >= 1.0,
        queue_size,
        target_queue_size: target,
        queue_too_big,
        mean_wait_weeks,
        target_capacity,
        relief_capacity,
        pressure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn littles_law_390() {
        // NHSRwaitinglist: 30 referrals a week, a 52-week target, factor 4: 390.
        assert_eq!(
            target_queue_size(30.0, 52.0, DEFAULT_FACTOR).unwrap(),
            390.0
        );
        assert_eq!(target_mean_wait(52.0, DEFAULT_FACTOR).unwrap(), 13.0);
        // A stricter factor of 6: 30 x 52 / 6 = 260.
        assert_eq!(target_queue_size(30.0, 52.0, 6.0).unwrap(), 260.0);
    }

    #[test]
    fn relief_capacity_example() {
        // NHSRwaitinglist: 30 + (1200 - 390) / 26 = 61.15 a week.
        let r = relief_capacity(30.0, 1200.0, 390.0, 26.0).unwrap();
        assert!(close(r, 30.0 + 810.0 / 26.0));
        assert_eq!((r * 100.0).round() / 100.0, 61.15);
    }

    #[test]
    fn kingman_load_and_pressure() {
        // 30 + ((1 + 1) / 2) x (4 / 52) = 30.0769...
        let c = target_capacity(30.0, 52.0, 4.0, DEFAULT_CV, DEFAULT_CV).unwrap();
        assert!(close(c, 30.0 + 4.0 / 52.0));
        // No variability: exactly the demand.
        assert_eq!(target_capacity(30.0, 52.0, 4.0, 0.0, 0.0).unwrap(), 30.0);
        // cv 2 and 0: ((4 + 0) / 2) x (4 / 52).
        assert!(close(
            target_capacity(30.0, 52.0, 4.0, 2.0, 0.0).unwrap(),
            30.0 + 8.0 / 52.0
        ));
        assert_eq!(queue_load(30.0, 25.0).unwrap(), 1.2);
        assert_eq!(waiting_list_pressure(13.0, 52.0).unwrap(), 0.5);
        assert_eq!(waiting_list_pressure(39.0, 52.0).unwrap(), 1.5);
    }

    #[test]
    fn bad_inputs_name_the_field() {
        assert_eq!(queue_load(30.0, 0.0).unwrap_err().field, "capacity");
        assert_eq!(
            target_queue_size(30.0, 0.0, 4.0).unwrap_err().field,
            "target_wait"
        );
        assert_eq!(
            target_queue_size(f64::NAN, 52.0, 4.0).unwrap_err().field,
            "demand"
        );
        assert_eq!(
            target_capacity(30.0, 52.0, -4.0, 1.0, 1.0)
                .unwrap_err()
                .field,
            "factor"
        );
        assert_eq!(
            relief_capacity(30.0, 1200.0, 390.0, 0.0).unwrap_err().field,
            "time_to_target"
        );
        assert_eq!(
            target_queue_size(f64::MAX, f64::MAX, 1e-300)
                .unwrap_err()
                .field,
            "target_mean_wait"
        );
    }

    fn example() -> Vec<ListEntry> {
        // NHSRwaitinglist's own example list.
        vec![
            ListEntry {
                referral: date!(2024 - 01 - 01),
                removal: Some(date!(2024 - 01 - 08)),
            },
            ListEntry {
                referral: date!(2024 - 01 - 04),
                removal: None,
            },
            ListEntry {
                referral: date!(2024 - 01 - 10),
                removal: None,
            },
            ListEntry {
                referral: date!(2024 - 01 - 16),
                removal: None,
            },
        ]
    }

    #[test]
    fn queue_sizes_of_the_example() {
        let daily =
            daily_queue_sizes(&example(), date!(2024 - 01 - 01), date!(2024 - 01 - 16)).unwrap();
        let sizes: Vec<usize> = daily.iter().map(|d| d.1).collect();
        assert_eq!(sizes, vec![1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 2, 2, 2, 2, 3]);
        // 1 Jan 2024 is a Monday: weeks of 1, 8 and 15 January, ending Sunday 7th, 14th, and
        // the 16th.
        let weekly =
            weekly_queue_sizes(&example(), date!(2024 - 01 - 01), date!(2024 - 01 - 16)).unwrap();
        assert_eq!(
            weekly,
            vec![
                (date!(2024 - 01 - 01), 2),
                (date!(2024 - 01 - 08), 2),
                (date!(2024 - 01 - 15), 3)
            ]
        );
        // Someone on the list before the window counts from its first day.
        let mut list = example();
        list.push(ListEntry {
            referral: date!(2023 - 12 - 01),
            removal: Some(date!(2024 - 01 - 02)),
        });
        let daily = daily_queue_sizes(&list, date!(2024 - 01 - 01), date!(2024 - 01 - 03)).unwrap();
        assert_eq!(daily.iter().map(|d| d.1).collect::<Vec<_>>(), vec![2, 1, 1]);
    }

    #[test]
    fn demand_and_capacity_of_the_example() {
        let (from, to) = (date!(2024 - 01 - 01), date!(2024 - 01 - 16));
        // Arrival points 1, 1, 4, 10, 16, 16 January: gaps 0, 3, 6, 6, 0; mean 3 days, sample
        // sd 3: 7/3 a week, cv 1.
        let d = demand(&example(), from, to).unwrap();
        assert_eq!(d.count, 4);
        assert!(close(d.weekly, 7.0 / 3.0));
        assert!(close(d.cv.unwrap(), 1.0));
        // Removal points 1 (start), 8, 16 (end) January; never empty: gaps 7, 8, mean 7.5.
        let c = capacity(&example(), from, to).unwrap();
        assert_eq!(c.count, 1);
        assert!(close(c.weekly, 7.0 / 7.5));
        assert!(close(c.cv.unwrap(), (0.5f64).sqrt() / 7.5));
    }

    #[test]
    fn capacity_does_not_count_time_with_an_empty_list() {
        // One patient, 1 to 3 January; the next arrives on the 20th and leaves on the 22nd.
        let list = vec![
            ListEntry {
                referral: date!(2024 - 01 - 01),
                removal: Some(date!(2024 - 01 - 03)),
            },
            ListEntry {
                referral: date!(2024 - 01 - 20),
                removal: Some(date!(2024 - 01 - 22)),
            },
        ];
        let c = capacity(&list, date!(2024 - 01 - 01), date!(2024 - 01 - 29)).unwrap();
        // Gaps: 1 -> 3 is 2; the 22nd's gap starts on the 19th (last empty day): 3; the end
        // (29th) after the 28th, empty: 1. Mean 2 days: 3.5 a week.
        assert_eq!(c.count, 2);
        assert!(close(c.weekly, 3.5));
    }

    #[test]
    fn stats_of_a_list() {
        // 30 referrals a week for 10 weeks into a list seeing 25 a week.
        let from = date!(2024 - 01 - 01);
        let mut list = Vec::new();
        for k in 0..300i64 {
            let referral = from + time::Duration::days(k * 7 / 30);
            let removal = (k < 250).then(|| from + time::Duration::days(k * 7 / 25 + 1));
            list.push(ListEntry { referral, removal });
        }
        let to = from + time::Duration::days(70);
        let s = waiting_list_stats(&list, from, to, 4.0, DEFAULT_FACTOR).unwrap();
        assert_eq!(s.demand.count, 300);
        // 301 gaps over 70 days: 7 x 301 / 70 = 30.1 a week.
        assert!(close(s.demand.weekly, 30.1));
        assert!(s.load > 1.0 && s.load_too_big);
        assert_eq!(s.queue_size, 50);
        assert!(close(s.target_queue_size, 30.1));
        assert!(!s.queue_too_big);
        assert!(s.target_capacity.is_some() && s.relief_capacity.is_none());
        assert!(s.pressure.is_some());
    }

    #[test]
    fn list_errors() {
        let bad = vec![ListEntry {
            referral: date!(2024 - 01 - 05),
            removal: Some(date!(2024 - 01 - 04)),
        }];
        assert_eq!(
            daily_queue_sizes(&bad, date!(2024 - 01 - 01), date!(2024 - 01 - 10))
                .unwrap_err()
                .field,
            "list[0].removal"
        );
        assert_eq!(
            demand(&[], date!(2024 - 01 - 02), date!(2024 - 01 - 01))
                .unwrap_err()
                .field,
            "to"
        );
        assert!(demand(&[], date!(2024 - 01 - 01), date!(2024 - 01 - 01)).is_err());
        assert!(daily_queue_sizes(&[], date!(1900 - 01 - 01), date!(2024 - 01 - 01)).is_err());
    }
}
