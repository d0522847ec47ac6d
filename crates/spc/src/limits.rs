//! Centre lines and limits of one segment, for each kind of chart (SPC.md sections 1 and 6).
//!
//! Every function works on the rows of one segment. `base` is the number of leading rows whose
//! values define the centre and limits (all rows, or a fixed baseline); the lines are then
//! extended over every row of the segment.

use crate::result::Point;
use crate::settings::ChartKind;

/// Making Data Count's literal constant (not 3/1.128 = 2.6596).
pub const MDC_LIMIT: f64 = 2.66;
/// The upper limit of a moving range, used to screen out large ones.
pub const MR_SCREEN: f64 = 3.267;
/// d2 for subgroups of two, turning a mean moving range into a standard deviation.
pub const D2: f64 = 1.128;
/// The T chart's transform exponent (Nelson).
pub const T_EXPONENT: f64 = 3.6;

/// Lines for one row: centre, limits and 2-sigma lines, unclipped.
#[derive(Clone, Copy)]
struct Lines {
    centre: f64,
    sigma_limit: f64,
    sigma_2: f64,
}

/// Whether and how moving ranges are screened for outliers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Off,
    /// Drop moving ranges at or above 3.267 × their mean, once. A flat series (mean 0) has no
    /// outlying range, so it keeps its limits on the mean.
    On,
    /// As NHSRplotthedots: keep only ranges strictly below 3.267 × the mean, so a flat
    /// series keeps none and has no limits at all.
    Ptd,
}

/// Mean of the moving ranges between neighbouring rows that both have a value. A missing
/// row drops both moving ranges next to it. With screening, moving ranges at or above
/// 3.267 × the mean are dropped once and the mean recomputed; `None` when no moving range
/// is left (a single point, or a constant series under `Screen::Ptd`).
pub fn mean_moving_range(values: &[Option<f64>], screen: Screen) -> Option<f64> {
    let ranges = || {
        values.windows(2).filter_map(|w| match (w[0], w[1]) {
            (Some(a), Some(b)) => Some((b - a).abs()),
            _ => None,
        })
    };
    let (sum, count) = ranges().fold((0.0, 0usize), |(s, c), r| (s + r, c + 1));
    if count == 0 {
        return None;
    }
    let mean = sum / count as f64;
    if screen == Screen::Off || (screen == Screen::On && mean == 0.0) {
        return Some(mean);
    }
    let limit = MR_SCREEN * mean;
    let (sum, count) = ranges()
        .filter(|r| *r < limit)
        .fold((0.0, 0usize), |(s, c), r| (s + r, c + 1));
    (count > 0).then(|| sum / count as f64)
}

pub fn mean(values: &[Option<f64>]) -> Option<f64> {
    let (sum, count) = values
        .iter()
        .flatten()
        .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    (count > 0).then(|| sum / count as f64)
}

pub fn median(values: &[Option<f64>]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().flatten().copied().collect();
    if v.is_empty() {
        return None;
    }
    v.sort_unstable_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// Fill `centre`, limits and 2-sigma lines of the segment's points.
///
/// `y` are the values in the chart's computing scale (for U and P charts the unscaled
/// ratio), `n` the denominators (used by U, U′, P, P′ only).
pub fn fill_segment(
    kind: ChartKind,
    y: &[Option<f64>],
    n: &[Option<f64>],
    base: usize,
    screen: Screen,
    out: &mut [Point],
) {
    let base = base.min(y.len());
    let by = &y[..base];
    match kind {
        ChartKind::Xmr => {
            let centre = mean(by);
            let amr = mean_moving_range(by, screen);
            fill_constant(
                out,
                centre,
                amr.map(|a| (MDC_LIMIT * a, 2.0 * (MDC_LIMIT / 3.0) * a)),
            );
        }
        ChartKind::I => {
            let centre = mean(by);
            let sigma = mean_moving_range(by, screen).map(|a| a / D2);
            fill_constant(out, centre, sigma.map(|s| (3.0 * s, 2.0 * s)));
        }
        ChartKind::Run => fill_constant(out, median(by), None),
        ChartKind::C => {
            let centre = mean(by);
            let sigma = centre.map(|c| c.max(0.0).sqrt());
            fill_constant(out, centre, sigma.map(|s| (3.0 * s, 2.0 * s)));
            clip(out, Some(0.0), None);
        }
        ChartKind::G => {
            // Limits from the mean (geometric distribution); centre line drawn at the median.
            let gbar = mean(by);
            let sigma = gbar.map(|g| (g * (g + 1.0)).max(0.0).sqrt());
            let centre = median(by);
            for p in out.iter_mut() {
                p.centre = centre;
                if let (Some(g), Some(s)) = (gbar, sigma) {
                    p.upper_limit = Some(g + 3.0 * s);
                    p.lower_limit = Some(g - 3.0 * s);
                    p.upper_2sigma = Some(g + 2.0 * s);
                    p.lower_2sigma = Some(g - 2.0 * s);
                }
            }
            clip(out, Some(0.0), None);
        }
        ChartKind::T => {
            let transformed: Vec<Option<f64>> = by
                .iter()
                .map(|v| v.map(|x| x.powf(1.0 / T_EXPONENT)))
                .collect();
            let centre = mean(&transformed);
            let sigma = mean_moving_range(&transformed, screen).map(|a| a / D2);
            let back = |t: f64| t.max(0.0).powf(T_EXPONENT);
            for p in out.iter_mut() {
                p.centre = centre.map(back);
                if let (Some(c), Some(s)) = (centre, sigma) {
                    p.upper_limit = Some(back(c + 3.0 * s));
                    p.lower_limit = Some(back(c - 3.0 * s));
                    p.upper_2sigma = Some(back(c + 2.0 * s));
                    p.lower_2sigma = Some(back(c - 2.0 * s));
                }
            }
        }
        ChartKind::U | ChartKind::P | ChartKind::UPrime | ChartKind::PPrime => {
            fill_ratio(kind, y, n, base, screen, out)
        }
    }
}

fn fill_constant(out: &mut [Point], centre: Option<f64>, widths: Option<(f64, f64)>) {
    for p in out.iter_mut() {
        p.centre = centre;
        if let (Some(c), Some((w3, w2))) = (centre, widths) {
            set_lines(
                p,
                Lines {
                    centre: c,
                    sigma_limit: w3,
                    sigma_2: w2,
                },
            );
        }
    }
}

fn set_lines(p: &mut Point, l: Lines) {
    p.upper_limit = Some(l.centre + l.sigma_limit);
    p.lower_limit = Some(l.centre - l.sigma_limit);
    p.upper_2sigma = Some(l.centre + l.sigma_2);
    p.lower_2sigma = Some(l.centre - l.sigma_2);
}

fn clip(out: &mut [Point], floor: Option<f64>, ceiling: Option<f64>) {
    for p in out.iter_mut() {
        for line in [
            &mut p.lower_limit,
            &mut p.lower_2sigma,
            &mut p.upper_limit,
            &mut p.upper_2sigma,
        ] {
            if let Some(v) = line.as_mut() {
                if let Some(f) = floor {
                    *v = v.max(f);
                }
                if let Some(c) = ceiling {
                    *v = v.min(c);
                }
            }
        }
    }
}

/// U, P and their Laney versions: the centre is the pooled ratio of the baseline rows; the
/// sigma of each row depends on its own denominator.
fn fill_ratio(
    kind: ChartKind,
    y: &[Option<f64>],
    n: &[Option<f64>],
    base: usize,
    screen: Screen,
    out: &mut [Point],
) {
    let proportion = matches!(kind, ChartKind::P | ChartKind::PPrime);
    let (mut events, mut exposure) = (0.0, 0.0);
    for (v, d) in y[..base].iter().zip(&n[..base]) {
        if let (Some(v), Some(d)) = (v, d) {
            events += v * d;
            exposure += d;
        }
    }
    let centre = (exposure > 0.0).then(|| events / exposure);
    let sigma_of = |c: f64, d: f64| {
        if proportion {
            (c * (1.0 - c) / d).sqrt()
        } else {
            (c / d).sqrt()
        }
    };
    // Laney's correction: the spread of the standardised values between periods.
    let sigma_z = match (kind, centre) {
        (ChartKind::UPrime | ChartKind::PPrime, Some(c)) => {
            let degenerate = c <= 0.0 || (proportion && c >= 1.0);
            if degenerate {
                None
            } else {
                let z: Vec<Option<f64>> = y[..base]
                    .iter()
                    .zip(&n[..base])
                    .map(|(v, d)| match (v, d) {
                        (Some(v), Some(d)) => Some((v - c) / sigma_of(c, *d)),
                        _ => None,
                    })
                    .collect();
                mean_moving_range(&z, screen).map(|a| a / D2)
            }
        }
        (ChartKind::UPrime | ChartKind::PPrime, None) => None,
        _ => Some(1.0),
    };
    for (p, d) in out.iter_mut().zip(n) {
        p.centre = centre;
        if let (Some(c), Some(d), Some(sz)) = (centre, d, sigma_z) {
            let s = sigma_of(c, *d) * sz;
            if s.is_finite() {
                set_lines(
                    p,
                    Lines {
                        centre: c,
                        sigma_limit: 3.0 * s,
                        sigma_2: 2.0 * s,
                    },
                );
            }
        }
    }
    clip(out, Some(0.0), proportion.then_some(1.0));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_range_skips_gaps() {
        let v = [Some(1.0), Some(3.0), None, Some(10.0), Some(11.0)];
        assert_eq!(mean_moving_range(&v, Screen::Off), Some(1.5));
    }

    #[test]
    fn screening_a_constant_series_leaves_no_moving_range() {
        let v = [Some(1.0); 5];
        assert_eq!(mean_moving_range(&v, Screen::Off), Some(0.0));
        assert_eq!(mean_moving_range(&v, Screen::Ptd), None);
        assert_eq!(mean_moving_range(&v, Screen::On), Some(0.0));
    }

    #[test]
    fn median_of_even_count_is_the_middle_mean() {
        assert_eq!(
            median(&[Some(4.0), None, Some(1.0), Some(3.0), Some(2.0)]),
            Some(2.5)
        );
        assert_eq!(median(&[None]), None);
    }
}
