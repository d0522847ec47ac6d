//! The four special-cause rules (SPC.md section 2), run inside one segment.
//!
//! A missing value breaks every run, trend and two-of-three window: the rules only look at
//! unbroken stretches of points.

use crate::result::Point;
use crate::settings::Side;

/// The rule flags of one point before they are turned into a point type.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Flags {
    pub astronomical: Option<Side>,
    pub shift: Option<Side>,
    /// A point where a rising trend meets a falling one belongs to both.
    pub trend_high: bool,
    pub trend_low: bool,
    pub two_in_three: Option<Side>,
}

impl Flags {
    pub fn in_trend(&self) -> bool {
        self.trend_high || self.trend_low
    }
}

/// Which side of the centre line a value lies: +1 above, -1 below, 0 on it or unknown.
pub fn side_of_centre(value: Option<f64>, centre: Option<f64>) -> i8 {
    match (value, centre) {
        (Some(v), Some(c)) if v > c => 1,
        (Some(v), Some(c)) if v < c => -1,
        _ => 0,
    }
}

fn side_from_sign(sign: i8) -> Side {
    if sign > 0 { Side::High } else { Side::Low }
}

/// Run every rule over the points of one segment (their values and lines already set).
/// `ptd_two_in_three` counts only points between the 2-sigma line and the limit, as
/// NHSRplotthedots 0.2.2 does; otherwise points beyond the limit count too (MDC, 2023).
pub fn evaluate(points: &[Point], run_length: usize, ptd_two_in_three: bool) -> Vec<Flags> {
    let mut flags = vec![Flags::default(); points.len()];
    astronomical(points, &mut flags);
    shift(points, run_length, &mut flags);
    trend(points, run_length, &mut flags);
    two_in_three(points, ptd_two_in_three, &mut flags);
    flags
}

fn astronomical(points: &[Point], flags: &mut [Flags]) {
    for (p, f) in points.iter().zip(flags.iter_mut()) {
        if let Some(v) = p.value {
            if p.upper_limit.is_some_and(|u| v > u) {
                f.astronomical = Some(Side::High);
            } else if p.lower_limit.is_some_and(|l| v < l) {
                f.astronomical = Some(Side::Low);
            }
        }
    }
}

/// Runs of `run_length` or more points on one side of the centre; a point on the centre
/// line (or a missing one) ends the run. Every point of a long enough run is flagged.
fn shift(points: &[Point], run_length: usize, flags: &mut [Flags]) {
    let mut start = 0;
    let mut current = 0i8;
    for i in 0..=points.len() {
        let s = points
            .get(i)
            .map_or(0, |p| side_of_centre(p.value, p.centre));
        if s != current || s == 0 {
            if current != 0 && i - start >= run_length {
                for f in &mut flags[start..i] {
                    f.shift = Some(side_from_sign(current));
                }
            }
            start = i;
            current = s;
        }
    }
}

/// Runs of `run_length` or more points each strictly above (or below) the one before.
/// An equal value or a missing one ends the trend. The direction is the slope.
fn trend(points: &[Point], run_length: usize, flags: &mut [Flags]) {
    if points.len() < 2 {
        return;
    }
    // Walk the differences; `start` is the first point of the current monotone stretch.
    let mut start = 0;
    let mut current = 0i8;
    for i in 1..=points.len() {
        let d = if i < points.len() {
            match (points[i - 1].value, points[i].value) {
                (Some(a), Some(b)) if b > a => 1,
                (Some(a), Some(b)) if b < a => -1,
                _ => 0,
            }
        } else {
            0
        };
        if d != current || d == 0 {
            // The stretch of points start..i (inclusive of i-1) had `current` slope.
            if current != 0 && i - start >= run_length {
                for f in &mut flags[start..i] {
                    if current > 0 {
                        f.trend_high = true;
                    } else {
                        f.trend_low = true;
                    }
                }
            }
            start = i - 1;
            current = d;
        }
    }
}

/// Two (or three) of three consecutive points beyond the same 2-sigma line, all three on the
/// same side of the centre. Only the points beyond the 2-sigma line are flagged.
fn two_in_three(points: &[Point], ptd: bool, flags: &mut [Flags]) {
    let beyond = |p: &Point| -> i8 {
        let Some(v) = p.value else { return 0 };
        let outside = p.upper_limit.is_some_and(|u| v > u) || p.lower_limit.is_some_and(|l| v < l);
        if ptd && outside {
            return 0;
        }
        if p.upper_2sigma.is_some_and(|u| v > u) {
            1
        } else if p.lower_2sigma.is_some_and(|l| v < l) {
            -1
        } else {
            0
        }
    };
    for w in 0..points.len().saturating_sub(2) {
        let window = &points[w..w + 3];
        let sides: Vec<i8> = window
            .iter()
            .map(|p| side_of_centre(p.value, p.centre))
            .collect();
        let same_side = sides[0] != 0 && sides.iter().all(|s| *s == sides[0]);
        if !same_side {
            continue;
        }
        let hits = window.iter().filter(|p| beyond(p) == sides[0]).count();
        if hits >= 2 {
            for (k, p) in window.iter().enumerate() {
                if beyond(p) == sides[0] {
                    flags[w + k].two_in_three = Some(side_from_sign(sides[0]));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(values: &[Option<f64>], centre: f64) -> Vec<Point> {
        values
            .iter()
            .map(|v| Point {
                value: *v,
                centre: Some(centre),
                ..Point::default()
            })
            .collect()
    }

    #[test]
    fn seven_above_is_a_shift_six_is_not() {
        let mut v = vec![Some(-1.0); 3];
        v.extend(vec![Some(1.0); 7]);
        let f = evaluate(&pts(&v, 0.0), 7, false);
        assert!(f[3..].iter().all(|f| f.shift == Some(Side::High)));
        assert!(f[..3].iter().all(|f| f.shift.is_none()));
        let f = evaluate(&pts(&v[1..9], 0.0), 7, false);
        assert!(f.iter().all(|f| f.shift.is_none()));
    }

    #[test]
    fn a_point_on_the_centre_or_a_gap_breaks_a_shift() {
        let v = [1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0].map(Some);
        assert!(
            evaluate(&pts(&v, 0.0), 7, false)
                .iter()
                .all(|f| f.shift.is_none())
        );
        let mut v = vec![Some(1.0); 8];
        v[4] = None;
        assert!(
            evaluate(&pts(&v, 0.0), 7, false)
                .iter()
                .all(|f| f.shift.is_none())
        );
    }

    #[test]
    fn trend_of_seven_flags_all_seven_and_ties_break_it() {
        let v: Vec<Option<f64>> = (0..7).map(|i| Some(i as f64)).collect();
        let f = evaluate(&pts(&v, 100.0), 7, false);
        assert!(f.iter().all(|f| f.trend_high && !f.trend_low));
        let v = [0.0, 1.0, 2.0, 2.0, 3.0, 4.0, 5.0].map(Some);
        assert!(
            evaluate(&pts(&v, 100.0), 7, false)
                .iter()
                .all(|f| !f.in_trend())
        );
    }

    #[test]
    fn peak_between_two_trends_belongs_to_both() {
        let v = [
            0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0,
        ]
        .map(Some);
        let f = evaluate(&pts(&v, 100.0), 7, false);
        assert!(f[6].trend_high && f[6].trend_low);
        assert!(f[5].trend_high && !f[5].trend_low);
        assert!(f[7].trend_low && !f[7].trend_high);
    }
}
