//! Anhøj's runs analysis (as in qicharts2): unusually long runs, or too few crossings of the
//! centre line, signal a non-random process whatever the chart.

use crate::result::{Anhoj, Point};
use crate::rules::side_of_centre;

/// Runs analysis of one segment. Points on the centre line and missing points are skipped:
/// they neither break nor extend a run.
pub fn analyse(points: &[Point]) -> Anhoj {
    let mut useful = 0usize;
    let mut longest = 0usize;
    let mut crossings = 0usize;
    let mut run = 0usize;
    let mut last = 0i8;
    for p in points {
        let s = side_of_centre(p.value, p.centre);
        if s == 0 {
            continue;
        }
        useful += 1;
        if s == last {
            run += 1;
        } else {
            if last != 0 {
                crossings += 1;
            }
            run = 1;
            last = s;
        }
        longest = longest.max(run);
    }
    if useful == 0 {
        return Anhoj::default();
    }
    let longest_run_max = (useful as f64).log2().round() as usize + 3;
    let crossings_min = binomial_half_quantile(useful - 1, 0.05);
    Anhoj {
        useful_points: useful,
        longest_run: longest,
        crossings,
        longest_run_max,
        crossings_min,
        runs_signal: longest > longest_run_max || crossings < crossings_min,
    }
}

/// The `p` quantile of Binomial(`trials`, 0.5): the smallest x with P(X <= x) >= p, as R's
/// `qbinom(p, trials, 0.5)`. Summed in log space so that long daily series do not underflow.
pub fn binomial_half_quantile(trials: usize, p: f64) -> usize {
    let n = trials as f64;
    let log_half_n = n * std::f64::consts::LN_2;
    // R nudges p up by 64 machine epsilons so that exact ties land on the lower quantile.
    let target = p * (1.0 + 64.0 * f64::EPSILON);
    let mut log_choose = 0.0f64; // ln C(n, 0)
    let mut cumulative = 0.0f64;
    for k in 0..=trials {
        if k > 0 {
            log_choose += ((n - k as f64 + 1.0) / k as f64).ln();
        }
        cumulative += (log_choose - log_half_n).exp();
        if cumulative >= target {
            return k;
        }
    }
    trials
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_match_spc_md() {
        // n = 24: longest run > 8 or crossings < 8; n = 36: > 8 or < 13.
        assert_eq!(binomial_half_quantile(23, 0.05), 8);
        assert_eq!(binomial_half_quantile(35, 0.05), 13);
        assert_eq!((24f64).log2().round() as usize + 3, 8);
        assert_eq!((36f64).log2().round() as usize + 3, 8);
    }

    #[test]
    fn long_series_do_not_underflow() {
        let q = binomial_half_quantile(5000, 0.05);
        assert!((2440..2450).contains(&q), "{q}");
    }

    #[test]
    fn alternating_points_cross_every_time() {
        let pts: Vec<Point> = (0..10)
            .map(|i| Point {
                value: Some(if i % 2 == 0 { 1.0 } else { -1.0 }),
                centre: Some(0.0),
                ..Point::default()
            })
            .collect();
        let a = analyse(&pts);
        assert_eq!((a.useful_points, a.longest_run, a.crossings), (10, 1, 9));
        assert!(!a.runs_signal);
    }
}
