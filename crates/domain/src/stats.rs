//! Rates, proportions and their 95% confidence intervals, and rate ratios, by the methods of
//! Public Health England's technical guide: exact Poisson limits for counts (Byar's method
//! for large counts), Wilson's score
//! method for proportions, and the log method for ratios of two rates.

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Estimate {
    pub value: f64,
    pub lower: f64,
    pub upper: f64,
}

/// A rate of `count` events over `exposure` (e.g. occupied bed days) times `multiplier`.
/// `None` when there is no exposure.
pub fn rate(count: u64, exposure: f64, multiplier: f64) -> Option<Estimate> {
    if exposure.is_nan() || exposure <= 0.0 {
        return None;
    }
    let (lo, hi) = poisson_interval(count);
    let k = multiplier / exposure;
    Some(Estimate {
        value: count as f64 * k,
        lower: lo * k,
        upper: hi * k,
    })
}

/// The 95% interval of a Poisson count: exact (by the Poisson distribution itself) up to 500
/// events, Byar's approximation above, where the two agree to well under 0.1%.
pub fn poisson_interval(count: u64) -> (f64, f64) {
    if count > 500 {
        return byar(count);
    }
    let k = count;
    // Upper: the mean at which seeing k or fewer has probability 2.5%.
    let upper = solve_mean(|mu| poisson_cdf(k, mu) - 0.025);
    // Lower: the mean at which seeing k or more has probability 2.5%.
    let lower = if k == 0 {
        0.0
    } else {
        solve_mean(|mu| poisson_cdf(k - 1, mu) - 0.975)
    };
    (lower, upper)
}

fn byar(count: u64) -> (f64, f64) {
    let o = count as f64;
    let lower = o * (1.0 - 1.0 / (9.0 * o) - Z95 / (3.0 * o.sqrt())).powi(3);
    let o1 = o + 1.0;
    let upper = o1 * (1.0 - 1.0 / (9.0 * o1) + Z95 / (3.0 * o1.sqrt())).powi(3);
    (lower.max(0.0), upper)
}

/// P(X <= k) for X ~ Poisson(mu), summed in log space: how surprising a count this low is.
pub fn poisson_cdf(k: u64, mu: f64) -> f64 {
    if mu <= 0.0 {
        return 1.0;
    }
    let mut log_term = -mu; // ln P(X = 0)
    let mut sum = log_term.exp();
    for i in 1..=k {
        log_term += mu.ln() - (i as f64).ln();
        sum += log_term.exp();
    }
    sum.min(1.0)
}

/// Bisection for the mean where `f` crosses zero: `f` must be
/// negative for large means and positive at 0.
fn solve_mean(f: impl Fn(f64) -> f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1000.0f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// A proportion with Wilson's 95% score interval, times `multiplier` (100 for percent).
pub fn proportion(numerator: u64, denominator: u64, multiplier: f64) -> Option<Estimate> {
    if denominator == 0 || numerator > denominator {
        return None;
    }
    let n = denominator as f64;
    let p = numerator as f64 / n;
    let z2 = Z95 * Z95;
    let centre = (2.0 * n * p + z2) / (2.0 * (n + z2));
    let half = Z95 * (z2 + 4.0 * n * p * (1.0 - p)).sqrt() / (2.0 * (n + z2));
    Some(Estimate {
        value: p * multiplier,
        lower: (centre - half).max(0.0) * multiplier,
        upper: (centre + half).min(1.0) * multiplier,
    })
}

/// The ratio of two rates (group over reference) with a 95% interval by the log method.
/// `None` when either count is zero or either exposure is not positive.
pub fn rate_ratio(
    count: u64,
    exposure: f64,
    ref_count: u64,
    ref_exposure: f64,
) -> Option<Estimate> {
    let positive = |x: f64| x > 0.0;
    if count == 0 || ref_count == 0 || !positive(exposure) || !positive(ref_exposure) {
        return None;
    }
    let rr = (count as f64 / exposure) / (ref_count as f64 / ref_exposure);
    let se = (1.0 / count as f64 + 1.0 / ref_count as f64).sqrt();
    Some(Estimate {
        value: rr,
        lower: rr * (-Z95 * se).exp(),
        upper: rr * (Z95 * se).exp(),
    })
}

/// The ratio of two proportions (a of n1 over b of n2) with a 95% interval by the log method.
pub fn risk_ratio(a: u64, n1: u64, b: u64, n2: u64) -> Option<Estimate> {
    if a == 0 || b == 0 || a > n1 || b > n2 {
        return None;
    }
    let (a, n1, b, n2) = (a as f64, n1 as f64, b as f64, n2 as f64);
    let rr = (a / n1) / (b / n2);
    let se = (1.0 / a - 1.0 / n1 + 1.0 / b - 1.0 / n2).max(0.0).sqrt();
    Some(Estimate {
        value: rr,
        lower: rr * (-Z95 * se).exp(),
        upper: rr * (Z95 * se).exp(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exact_intervals_match_published_values() {
        // Exact intervals: 10 events -> 4.795 to 18.39; 0 events -> 0 to 3.689.
        let (lo, hi) = poisson_interval(10);
        assert!((lo - 4.7954).abs() < 0.01, "{lo}");
        assert!((hi - 18.39).abs() < 0.02, "{hi}");
        let (b_lo, b_hi) = byar(501);
        let (e_lo, e_hi) = poisson_interval(500);
        assert!((b_lo / e_lo - 1.0).abs() < 0.01 && (b_hi / e_hi - 1.0).abs() < 0.01);
        assert_eq!(poisson_interval(0).0, 0.0);
        assert!((poisson_interval(0).1 - 3.689).abs() < 0.01);
    }

    #[test]
    fn poisson_lower_tail() {
        assert!((poisson_cdf(0, 1.0) - (-1.0f64).exp()).abs() < 1e-12);
        assert!(poisson_cdf(7, 30.0) < 1e-5);
        assert!(poisson_cdf(30, 30.0) > 0.5);
    }

    #[test]
    fn wilson_matches_a_textbook_value() {
        // 81 of 263: 0.3080, 95% CI 0.2553 to 0.3662 (Newcombe 1998).
        let e = proportion(81, 263, 1.0).unwrap();
        assert!(
            (e.lower - 0.2553).abs() < 1e-3 && (e.upper - 0.3662).abs() < 1e-3,
            "{e:?}"
        );
        assert!(proportion(0, 0, 100.0).is_none());
        assert_eq!(proportion(0, 10, 100.0).unwrap().lower, 0.0);
    }

    #[test]
    fn rate_ratio_of_equal_rates_is_one_and_covers_one() {
        let e = rate_ratio(50, 1000.0, 100, 2000.0).unwrap();
        assert!((e.value - 1.0).abs() < 1e-12 && e.lower < 1.0 && e.upper > 1.0);
        assert!(rate_ratio(0, 10.0, 5, 10.0).is_none());
    }

    proptest! {
        #[test]
        fn intervals_contain_their_estimate(k in 0u64..5000, n in 1u64..100_000) {
            let r = rate(k, n as f64, 1000.0).unwrap();
            prop_assert!(r.lower <= r.value && r.value <= r.upper);
            let k = k.min(n);
            let p = proportion(k, n, 100.0).unwrap();
            prop_assert!(p.lower <= p.value + 1e-9 && p.value <= p.upper + 1e-9);
            prop_assert!(p.lower >= 0.0 && p.upper <= 100.0);
        }
    }
}
