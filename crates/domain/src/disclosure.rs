//! Disclosure control (DOMAIN.md section 7), applied at the output layer whenever a result
//! leaves the organisation it describes. Inside a user's own organisation figures are exact.
//!
//! This module is the one place that decides what a disclosure-controlled viewer may see of
//! each kind of figure ([`Figure`]); charts, tables, downloads, the API and breakdowns all ask
//! [`Policy::publish`] (and, for breakdowns, [`Policy::breakdown`]). The rules:
//!
//! - **Counts** of events or people: under 5 (0 included) are `*`; others are rounded to the
//!   nearest 5 (NHS Digital's MHSDS rule).
//! - **Rates** (events per bed days): suppressed when the events are under 5 or the bed days
//!   under 100; otherwise computed from the *rounded* count. An exact rate beside its
//!   denominator would give the exact count back, and exact counts of a trust and of all but
//!   one of its wards give the last ward's small count by difference. Computed from rounded
//!   counts, every count a viewer can work out is a multiple of 5, and so is every difference
//!   of them: none can be a count from 1 to 4.
//! - **Proportions**: suppressed when the numerator or the denominator is under 5; otherwise
//!   computed from the rounded numerator and the rounded denominator (for the same reason).
//! - **Statistics of individual events** (the median minutes of restraint): shown only when
//!   there are 5 or more events; fewer describe fewer than five people's events.
//! - **Event-level figures** (G and T charts: one point per incident, dated): never shown; a
//!   list of incident dates can be counted point by point.
//! - **Breakdowns** (a measure by ethnic group, age band...): every group's count follows the
//!   count rule and everything derived from a suppressed count (rate, interval, ratio) is
//!   suppressed with it. When the suppressed groups together hold 1 to 4 events, more groups
//!   are suppressed (the smallest first, the reference last) until they do not, so a suppressed
//!   value cannot be had as the total less the other groups (secondary suppression).

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Policy {
    pub min_count: u64,
    pub round_to: u64,
    pub min_bed_days: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_count: 5,
            round_to: 5,
            min_bed_days: 100.0,
        }
    }
}

/// A figure as it may be shown: the value, or `*` for suppressed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Shown<T> {
    Value(T),
    Suppressed,
}

impl<T: Copy> Shown<T> {
    pub fn value(self) -> Option<T> {
        match self {
            Shown::Value(v) => Some(v),
            Shown::Suppressed => None,
        }
    }

    pub fn is_suppressed(self) -> bool {
        matches!(self, Shown::Suppressed)
    }
}

impl<T: std::fmt::Display> std::fmt::Display for Shown<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shown::Value(v) => v.fmt(f),
            Shown::Suppressed => f.write_str("*"),
        }
    }
}

/// A figure about an organisation, with the counts it is built on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Figure {
    /// A count of events or people.
    Count(u64),
    /// Events per `per` units of exposure (occupied bed days).
    Rate {
        events: u64,
        exposure: f64,
        per: f64,
    },
    /// A numerator out of a denominator (both counts), times `per` (100 for a percentage).
    Proportion {
        numerator: u64,
        denominator: u64,
        per: f64,
    },
    /// A statistic (such as a median duration) of `events` individual events.
    Statistic { value: f64, events: u64 },
    /// One value per event (the days between incidents of a G chart).
    EventLevel,
}

/// What a disclosure-controlled viewer sees of a figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Published {
    /// The value to show and to chart.
    pub value: f64,
    /// The counts it was computed from, as they may be shown.
    pub numerator: u64,
    pub denominator: Option<f64>,
}

impl Policy {
    /// A count as it may be shown.
    pub fn count(&self, n: u64) -> Shown<u64> {
        if n < self.min_count {
            Shown::Suppressed
        } else {
            Shown::Value(self.round(n))
        }
    }

    fn round(&self, n: u64) -> u64 {
        let r = self.round_to.max(1);
        n.saturating_add(r / 2) / r * r
    }

    pub fn proportion_allowed(&self, numerator: u64, denominator: u64) -> bool {
        numerator >= self.min_count && denominator >= self.min_count
    }

    pub fn rate_allowed(&self, count: u64, bed_days: f64) -> bool {
        bed_days >= self.min_bed_days && count >= self.min_count
    }

    /// What may be shown of `figure`: `None` when it is suppressed.
    pub fn publish(&self, figure: Figure) -> Option<Published> {
        match figure {
            Figure::Count(n) => self.count(n).value().map(|c| Published {
                value: c as f64,
                numerator: c,
                denominator: None,
            }),
            Figure::Rate {
                events,
                exposure,
                per,
            } => {
                if !self.rate_allowed(events, exposure) || exposure <= 0.0 {
                    return None;
                }
                let n = self.round(events);
                Some(Published {
                    value: n as f64 / exposure * per,
                    numerator: n,
                    denominator: Some(exposure),
                })
            }
            Figure::Proportion {
                numerator,
                denominator,
                per,
            } => {
                if !self.proportion_allowed(numerator, denominator) {
                    return None;
                }
                let (n, d) = (self.round(numerator), self.round(denominator));
                Some(Published {
                    value: n as f64 / d as f64 * per,
                    numerator: n,
                    denominator: Some(d as f64),
                })
            }
            Figure::Statistic { value, events } => (events >= self.min_count && value.is_finite())
                .then_some(Published {
                    value,
                    numerator: self.round(events),
                    denominator: None,
                }),
            Figure::EventLevel => None,
        }
    }

    /// Which groups of a breakdown to suppress, given each group's count and whether its own
    /// figure is suppressed already (primary suppression, e.g. a rate over too few bed days).
    /// Adds secondary suppression: while the suppressed groups hold 1 to 4 events between them,
    /// the smallest group still shown is suppressed too (`reference`, the group others are
    /// compared with, only when no other group is left).
    pub fn breakdown(
        &self,
        counts: &[u64],
        primary: &[bool],
        reference: Option<usize>,
    ) -> Vec<bool> {
        let mut out: Vec<bool> = counts
            .iter()
            .zip(primary)
            .map(|(&n, &p)| p || n < self.min_count)
            .collect();
        loop {
            let hidden: Vec<u64> = counts
                .iter()
                .zip(&out)
                .filter(|(_, s)| **s)
                .map(|(n, _)| *n)
                .collect();
            let total: u64 = hidden.iter().sum();
            // Each starred group is known to hold at most min_count - 1: if they all hold
            // exactly that, their total gives every one of them away too.
            let small = self.min_count.saturating_sub(1);
            let all_at_most =
                hidden.iter().all(|&n| n <= small) && total == small * hidden.len() as u64;
            if total == 0 || (total >= self.min_count && !all_at_most) {
                return out;
            }
            let next = (0..counts.len())
                .filter(|&i| !out[i])
                .min_by_key(|&i| (Some(i) == reference, counts[i], i));
            match next {
                Some(i) => out[i] = true,
                None => return out,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_starred_and_others_rounded_to_five() {
        let p = Policy::default();
        assert_eq!(p.count(0), Shown::Suppressed);
        assert_eq!(p.count(4), Shown::Suppressed);
        assert_eq!(p.count(5), Shown::Value(5));
        assert_eq!(p.count(7), Shown::Value(5));
        assert_eq!(p.count(8), Shown::Value(10));
        assert_eq!(p.count(1234), Shown::Value(1235));
        assert_eq!(p.count(3).to_string(), "*");
        assert_eq!(p.count(u64::MAX), Shown::Value(u64::MAX / 5 * 5));
    }

    #[test]
    fn proportions_and_rates() {
        let p = Policy::default();
        assert!(!p.proportion_allowed(4, 100));
        assert!(!p.proportion_allowed(4, 4));
        assert!(p.proportion_allowed(5, 5));
        assert!(!p.rate_allowed(20, 99.0));
        assert!(p.rate_allowed(20, 100.0));
        assert!(!p.rate_allowed(3, 5000.0));
    }

    #[test]
    fn rates_and_proportions_are_computed_from_rounded_counts() {
        let p = Policy::default();
        let rate = p
            .publish(Figure::Rate {
                events: 12,
                exposure: 1000.0,
                per: 1000.0,
            })
            .unwrap();
        assert_eq!(rate.numerator, 10);
        assert!((rate.value - 10.0).abs() < 1e-12, "{rate:?}");
        let pct = p
            .publish(Figure::Proportion {
                numerator: 7,
                denominator: 18,
                per: 100.0,
            })
            .unwrap();
        assert!((pct.value - 25.0).abs() < 1e-12, "5 of 20: {pct:?}");
        assert!(
            p.publish(Figure::Rate {
                events: 4,
                exposure: 9000.0,
                per: 1000.0
            })
            .is_none()
        );
    }

    #[test]
    fn a_median_needs_five_events_and_event_level_figures_are_never_shown() {
        let p = Policy::default();
        let median = |events| {
            p.publish(Figure::Statistic {
                value: 12.5,
                events,
            })
        };
        assert!(median(4).is_none());
        assert_eq!(median(5).unwrap().value, 12.5);
        assert!(p.publish(Figure::EventLevel).is_none());
    }

    #[test]
    fn one_small_group_takes_the_next_smallest_with_it() {
        let p = Policy::default();
        // White 40 (reference), Black 12, Asian 2, Mixed 6: Asian alone would be total - rest.
        let s = p.breakdown(&[40, 12, 2, 6], &[false; 4], Some(0));
        assert_eq!(s, vec![false, false, true, true]);
        // Two small groups holding 5 or more between them are enough.
        let s = p.breakdown(&[40, 3, 3, 9], &[false; 4], Some(0));
        assert_eq!(s, vec![false, true, true, false]);
        // Nothing small, nothing hidden; a zero hides nothing but itself.
        assert_eq!(
            p.breakdown(&[40, 9], &[false; 2], Some(0)),
            vec![false, false]
        );
        assert_eq!(
            p.breakdown(&[40, 0], &[false; 2], Some(0)),
            vec![false, true]
        );
        // Two starred groups of 4 would each be read off their total of 8.
        let s = p.breakdown(&[40, 4, 4, 9], &[false; 4], Some(0));
        assert_eq!(s, vec![false, true, true, true]);
        // Two groups, one small: the reference goes too, there is no other.
        assert_eq!(
            p.breakdown(&[40, 2], &[false; 2], Some(0)),
            vec![true, true]
        );
    }
}
