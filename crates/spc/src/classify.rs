//! From rule flags to what the reader sees: the rule columns, the point type, the icons.

use crate::result::{Assurance, Point, PointType};
use crate::rules::{Flags, side_of_centre};
use crate::settings::{AssuranceComparison, Direction, Side};

/// What a signal on `side` means for a measure with this direction.
pub fn judge(direction: Direction, side: Side) -> PointType {
    match (direction, side) {
        (Direction::Neutral, s) => PointType::Neutral(s),
        (Direction::Increase, Side::High) | (Direction::Decrease, Side::Low) => {
            PointType::Improvement(side)
        }
        _ => PointType::Concern(side),
    }
}

/// The side that counts as improvement (neutral measures: high).
fn better_side(direction: Direction) -> Side {
    match direction {
        Direction::Decrease => Side::Low,
        _ => Side::High,
    }
}

/// Making Data Count: every rule reports its own flag; when one point carries both an
/// improvement and a concern signal, improvement wins.
pub fn apply_mdc(point: &mut Point, flags: &Flags, direction: Direction) {
    point.astronomical = flags.astronomical;
    point.shift = flags.shift;
    point.two_in_three = flags.two_in_three;
    point.trend = match (flags.trend_high, flags.trend_low) {
        (true, true) => Some(better_side(direction)),
        (true, false) => Some(Side::High),
        (false, true) => Some(Side::Low),
        (false, false) => None,
    };
    // Precedence order only decides the side shown when several signals agree in kind.
    let mut signals = [None; 5];
    signals[0] = flags.astronomical;
    signals[1] = flags.trend_high.then_some(Side::High);
    signals[2] = flags.trend_low.then_some(Side::Low);
    signals[3] = flags.two_in_three;
    signals[4] = flags.shift;
    let judged = signals.iter().flatten().map(|s| judge(direction, *s));
    let mut best = PointType::CommonCause;
    for pt in judged {
        best = match (best, pt) {
            (PointType::CommonCause, p) => p,
            (PointType::Concern(_), p @ PointType::Improvement(_)) => p,
            (b, _) => b,
        };
    }
    point.point_type = Some(best);
}

/// NHSRplotthedots 0.2.2: one label per point, by precedence astronomical > trend >
/// two-of-three > shift; only the winning rule is reported, and its direction decides.
pub fn apply_ptd(points: &mut [Point], flags: &[Flags], direction: Direction) {
    for i in 0..points.len() {
        let f = flags[i];
        let above = side_of_centre(points[i].value, points[i].centre) > 0;
        let mean_side = if above { Side::High } else { Side::Low };
        let trend_side =
            (f.astronomical.is_none() && f.in_trend()).then(|| ptd_trend_side(points, flags, i));
        let p = &mut points[i];
        p.astronomical = None;
        p.shift = None;
        p.trend = None;
        p.two_in_three = None;
        let winner = if f.astronomical.is_some() {
            p.astronomical = Some(mean_side);
            Some(mean_side)
        } else if let Some(side) = trend_side {
            p.trend = Some(side);
            Some(side)
        } else if f.two_in_three.is_some() {
            p.two_in_three = Some(mean_side);
            Some(mean_side)
        } else if f.shift.is_some() {
            p.shift = Some(mean_side);
            Some(mean_side)
        } else {
            None
        };
        p.point_type = Some(winner.map_or(PointType::CommonCause, |s| judge(direction, s)));
    }
}

/// NHSRplotthedots' trend direction: the slope to the next point when that point is part of a
/// trend too, otherwise the slope from the previous point; anything but a rise reads as
/// "decreasing" (so an equal neighbour gives a falling label, as in the R code).
fn ptd_trend_side(points: &[Point], flags: &[Flags], i: usize) -> Side {
    let value = |k: usize| points.get(k).and_then(|p| p.value);
    let slope = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > a => 1,
        (Some(a), Some(b)) if b < a => -1,
        _ => 0,
    };
    let next_in_trend = flags.get(i + 1).is_some_and(Flags::in_trend);
    let s = if next_in_trend {
        slope(value(i), value(i + 1))
    } else if i > 0 {
        slope(value(i - 1), value(i))
    } else {
        0
    };
    if s == 1 { Side::High } else { Side::Low }
}

/// The assurance icon from the limits of the latest point.
pub fn assurance(
    direction: Direction,
    target: Option<f64>,
    lower: Option<f64>,
    upper: Option<f64>,
    comparison: AssuranceComparison,
) -> Assurance {
    let (Some(target), Some(lower), Some(upper)) = (target, lower, upper) else {
        return Assurance::None;
    };
    let beyond_upper = match comparison {
        AssuranceComparison::Inclusive => target >= upper,
        AssuranceComparison::Strict => target > upper,
    };
    let beyond_lower = match comparison {
        AssuranceComparison::Inclusive => target <= lower,
        AssuranceComparison::Strict => target < lower,
    };
    match direction {
        Direction::Neutral => Assurance::None,
        Direction::Increase if beyond_lower => Assurance::Pass,
        Direction::Increase if beyond_upper => Assurance::Fail,
        Direction::Decrease if beyond_upper => Assurance::Pass,
        Direction::Decrease if beyond_lower => Assurance::Fail,
        _ => Assurance::HitOrMiss,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_full_compliance_series_passes_a_95_percent_target() {
        let a = assurance(
            Direction::Increase,
            Some(0.95),
            Some(1.0),
            Some(1.0),
            AssuranceComparison::Inclusive,
        );
        assert_eq!(a, Assurance::Pass);
    }

    #[test]
    fn target_on_a_limit_depends_on_the_comparison() {
        let args = (Direction::Decrease, Some(10.0), Some(2.0), Some(10.0));
        assert_eq!(
            assurance(
                args.0,
                args.1,
                args.2,
                args.3,
                AssuranceComparison::Inclusive
            ),
            Assurance::Pass
        );
        assert_eq!(
            assurance(args.0, args.1, args.2, args.3, AssuranceComparison::Strict),
            Assurance::HitOrMiss
        );
    }

    #[test]
    fn improvement_wins_a_conflict() {
        let mut p = Point {
            value: Some(1.0),
            centre: Some(0.0),
            ..Point::default()
        };
        let f = Flags {
            shift: Some(Side::High),
            trend_low: true,
            ..Flags::default()
        };
        apply_mdc(&mut p, &f, Direction::Increase);
        assert_eq!(p.point_type, Some(PointType::Improvement(Side::High)));
        apply_mdc(&mut p, &f, Direction::Decrease);
        assert_eq!(p.point_type, Some(PointType::Improvement(Side::Low)));
    }
}
