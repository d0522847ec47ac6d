//! Under-reporting, judged against an organisation's own past: is a month's count of events
//! improbably low for what the same ward's (or trust's) earlier months and this month's bed days
//! make likely? Pure: the store supplies the monthly counts and bed days.
//!
//! - Each month is compared with a baseline of the preceding [`BASELINE_MONTHS`] months that had
//!   bed days and were not themselves flagged (so a run of under-reported months does not lower
//!   the bar for the next). Expected = the baseline's events per bed day × this month's bed days.
//! - Events cluster on a few patients, so counts vary far more than Poisson from month to month.
//!   The baseline's own spread gives a negative binomial (variance μ + αμ², α by the method of
//!   moments, 0 meaning Poisson); a month is flagged when P(X ≤ observed) < [`P_LOW`] *and*
//!   fewer than [`MAX_RATIO`] of the expected events were reported, with at least
//!   [`MIN_EXPECTED`] expected.
//! - A trust is judged the same way on the sum of its wards. In a month when the trust as a
//!   whole falls short, each of its wards either reports fully or under-reports at a common
//!   fraction; a two-component mixture fitted to the wards' counts (EM over the share of
//!   wards under-reporting and their fraction) gives each ward the probability that it belongs
//!   to the shortfall, and wards over one half (with at least [`MIN_EXPECTED_IN_SHORTFALL`]
//!   expected) are flagged too. A ward's own count is too noisy to find a drop to a quarter on
//!   its own; the trust's shortfall supplies the rest of the evidence.

use crate::stats::poisson_cdf;

/// Preceding months that form a month's baseline.
pub const BASELINE_MONTHS: usize = 24;
/// A month with fewer baseline months than this is not judged.
pub const MIN_BASELINE_MONTHS: usize = 3;
/// Fewer expected events than this cannot show under-reporting on an organisation's own history.
pub const MIN_EXPECTED: f64 = 5.0;
/// Within a trust's shortfall, wards with fewer expected events than this are not flagged.
pub const MIN_EXPECTED_IN_SHORTFALL: f64 = 3.0;
/// Within a trust's shortfall, the share of its wards taken to under-report is kept between
/// 1 − this and this, so that no ward is flagged on the others' counts alone.
pub const MAX_SHARE: f64 = 0.95;
/// The lower-tail probability below which a count is improbably low.
pub const P_LOW: f64 = 0.001;
/// A flagged month reported fewer than this share of its expected events.
pub const MAX_RATIO: f64 = 0.5;

/// One month of an organisation: bed days (none: not reported) and events reported.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Month {
    pub bed_days: Option<f64>,
    pub events: u64,
}

/// A month judged against the organisation's own past.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Reading {
    /// Events the baseline rate gives for this month's bed days; none without enough history.
    pub expected: Option<f64>,
    /// The negative binomial α estimated from the baseline months (0: Poisson).
    pub dispersion: f64,
    /// P(X ≤ events) under the baseline.
    pub p_low: Option<f64>,
    /// The largest count that would have been flagged (none: no count would).
    pub flag_at_most: Option<u64>,
    pub flagged: bool,
}

/// Judge every month in order against its own baseline; `excluded` months (for instance those
/// of a trust already found under-reporting) are never used as a baseline.
pub fn against_own_past(months: &[Month], excluded: &[bool]) -> Vec<Reading> {
    let mut out: Vec<Reading> = Vec::with_capacity(months.len());
    for (i, m) in months.iter().enumerate() {
        let Some(bed_days) = m.bed_days.filter(|b| *b > 0.0) else {
            out.push(Reading::default());
            continue;
        };
        let base: Vec<(f64, f64)> = (i.saturating_sub(BASELINE_MONTHS)..i)
            .filter(|&j| !out[j].flagged && !excluded.get(j).copied().unwrap_or(false))
            .filter_map(|j| {
                months[j]
                    .bed_days
                    .filter(|b| *b > 0.0)
                    .map(|b| (b, months[j].events as f64))
            })
            .collect();
        let beds: f64 = base.iter().map(|b| b.0).sum();
        if base.len() < MIN_BASELINE_MONTHS || beds <= 0.0 {
            out.push(Reading::default());
            continue;
        }
        let rate = base.iter().map(|b| b.1).sum::<f64>() / beds;
        let dispersion = dispersion(&base, rate);
        let expected = rate * bed_days;
        let p_low = negative_binomial_cdf(m.events, expected, dispersion);
        let flag_at_most = if expected >= MIN_EXPECTED {
            (0..)
                .take_while(|&k| {
                    (k as f64) < MAX_RATIO * expected
                        && negative_binomial_cdf(k, expected, dispersion) < P_LOW
                })
                .last()
        } else {
            None
        };
        out.push(Reading {
            expected: Some(expected),
            dispersion,
            p_low: Some(p_low),
            flag_at_most,
            flagged: flag_at_most.is_some_and(|k| m.events <= k),
        });
    }
    out
}

/// α of a negative binomial (variance μ + αμ²) by the method of moments, from (bed days,
/// events) months around a common rate; 0 when they vary no more than Poisson.
fn dispersion(base: &[(f64, f64)], rate: f64) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (b, e) in base {
        let mu = rate * b;
        num += (e - mu).powi(2) - mu;
        den += mu * mu;
    }
    if den > 0.0 { (num / den).max(0.0) } else { 0.0 }
}

/// One ward in a month when its trust fell short: its events, and its expected count and
/// dispersion from its own past.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WardInShortfall {
    pub events: u64,
    pub expected: f64,
    pub dispersion: f64,
}

/// A ward's share in its trust's shortfall.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ShortfallReading {
    /// Probability that the ward under-reported with the others, rather than reporting fully.
    pub probability: f64,
    /// The largest count that would have been flagged (none: no count would).
    pub flag_at_most: Option<u64>,
    pub flagged: bool,
}

/// In a month when a trust reported `trust_fraction` of its expected events, which of its
/// wards under-reported: a mixture of full reporting (mean = expected) and under-reporting at a
/// fraction f (mean = f × expected, the same dispersion: under-reporting thins the events),
/// with the share of wards under-reporting and f estimated by EM from the wards themselves.
pub fn within_shortfall(wards: &[WardInShortfall], trust_fraction: f64) -> Vec<ShortfallReading> {
    let used: Vec<usize> = (0..wards.len())
        .filter(|&i| wards[i].expected >= MIN_EXPECTED_IN_SHORTFALL)
        .collect();
    let mut out = vec![ShortfallReading::default(); wards.len()];
    if used.is_empty() {
        return out;
    }
    let top = trust_fraction.clamp(1e-3, 0.999);
    let (mut share, mut fraction) = (0.5, top);
    let posterior = |w: &WardInShortfall, k: u64, share: f64, fraction: f64| {
        let full = negative_binomial_ln_pmf(k, w.expected, w.dispersion);
        let short = negative_binomial_ln_pmf(k, fraction * w.expected, w.dispersion);
        let log_odds = (share / (1.0 - share)).ln() + short - full;
        1.0 / (1.0 + (-log_odds.clamp(-700.0, 700.0)).exp())
    };
    for _ in 0..200 {
        let post: Vec<f64> = used
            .iter()
            .map(|&i| posterior(&wards[i], wards[i].events, share, fraction))
            .collect();
        let new_share =
            (post.iter().sum::<f64>() / post.len() as f64).clamp(1.0 - MAX_SHARE, MAX_SHARE);
        let (num, den) = used.iter().zip(&post).fold((0.0, 0.0), |(n, d), (&i, p)| {
            (n + p * wards[i].events as f64, d + p * wards[i].expected)
        });
        // Under-reporting wards report no more than the trust as a whole.
        let new_fraction = if den > 0.0 {
            (num / den).clamp(1e-3, top)
        } else {
            top
        };
        let done = (new_share - share).abs() < 1e-9 && (new_fraction - fraction).abs() < 1e-9;
        (share, fraction) = (new_share, new_fraction);
        if done {
            break;
        }
    }
    for &i in &used {
        let w = &wards[i];
        let probability = posterior(w, w.events, share, fraction);
        // The probability falls as the count rises (f < 1), so the flagged counts are 0..=k.
        let flag_at_most = (0..=w.expected.ceil() as u64)
            .take_while(|&k| posterior(w, k, share, fraction) > 0.5)
            .last();
        out[i] = ShortfallReading {
            probability,
            flag_at_most,
            flagged: probability > 0.5,
        };
    }
    out
}

/// ln P(X = k) for a negative binomial with mean `mean` and variance mean + α·mean² (Poisson
/// when α is 0).
pub fn negative_binomial_ln_pmf(k: u64, mean: f64, alpha: f64) -> f64 {
    if mean <= 0.0 {
        return if k == 0 { 0.0 } else { f64::NEG_INFINITY };
    }
    let kf = k as f64;
    let ln_k_fact: f64 = (1..=k).map(|i| (i as f64).ln()).sum();
    if alpha <= 1e-12 {
        return -mean + kf * mean.ln() - ln_k_fact;
    }
    let r = 1.0 / alpha;
    let ln_rising: f64 = (0..k).map(|i| (r + i as f64).ln()).sum();
    ln_rising - ln_k_fact + r * (r / (r + mean)).ln() + kf * (mean / (r + mean)).ln()
}

/// P(X ≤ k) for a negative binomial with mean `mean` and variance mean + α·mean² (Poisson when
/// α is 0), summed term by term in log space.
pub fn negative_binomial_cdf(k: u64, mean: f64, alpha: f64) -> f64 {
    if alpha <= 1e-12 {
        return poisson_cdf(k, mean);
    }
    if mean <= 0.0 {
        return 1.0;
    }
    let r = 1.0 / alpha;
    let ln_q = (mean / (r + mean)).ln();
    let mut ln_term = r * (r / (r + mean)).ln(); // ln P(X = 0)
    let mut sum = ln_term.exp();
    for i in 1..=k {
        let i = i as f64;
        ln_term += (r + i - 1.0).ln() - i.ln() + ln_q;
        sum += ln_term.exp();
    }
    sum.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn months(counts: &[u64]) -> Vec<Month> {
        counts
            .iter()
            .map(|&e| Month {
                bed_days: Some(600.0),
                events: e,
            })
            .collect()
    }

    #[test]
    fn negative_binomial_matches_known_values() {
        // mean 10, α 0.1 (size r = 10, p = 0.5): P(X = 0) = 0.5^10, and P(X ≤ 10) is
        // sum_k C(k + 9, k) 0.5^(10 + k) = 0.588099 (R: pnbinom(10, 10, 0.5)).
        assert!((negative_binomial_ln_pmf(0, 10.0, 0.1) - 10.0 * 0.5f64.ln()).abs() < 1e-12);
        assert!((negative_binomial_cdf(10, 10.0, 0.1) - 0.588_099).abs() < 1e-5);
        let total: f64 = (0..400)
            .map(|k| negative_binomial_ln_pmf(k, 30.0, 0.2).exp())
            .sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        // α = 0 is Poisson.
        assert!((negative_binomial_cdf(3, 4.0, 0.0) - poisson_cdf(3, 4.0)).abs() < 1e-15);
        assert!(
            (negative_binomial_ln_pmf(3, 4.0, 0.0).exp() - (-4.0f64).exp() * 64.0 / 6.0).abs()
                < 1e-12
        );
        // Large counts do not underflow to a false "improbable".
        assert!(negative_binomial_cdf(5000, 5000.0, 0.001) > 0.4);
    }

    #[test]
    fn a_drop_to_a_quarter_is_flagged_and_the_next_months_keep_the_old_baseline() {
        let mut c = vec![20, 22, 18, 21, 19, 23, 20, 18, 22, 21, 19, 20];
        c.extend([5, 4, 6, 21, 20]);
        let r = against_own_past(&months(&c), &[]);
        assert!(r[..12].iter().all(|r| !r.flagged), "{r:?}");
        assert!(r[12..15].iter().all(|r| r.flagged), "{r:?}");
        // The flagged months are left out of the baseline: still about 20 expected.
        assert!(
            (r[15].expected.unwrap() - 20.25).abs() < 0.01,
            "{:?}",
            r[15]
        );
        assert!(!r[15].flagged && !r[16].flagged);
        // The first months have no history to judge by.
        assert!(r[..3].iter().all(|r| r.expected.is_none()));
    }

    #[test]
    fn small_or_noisy_wards_are_not_flagged_on_noise() {
        // About 3 a month: even 0 is not enough to say.
        let r = against_own_past(&months(&[3, 2, 4, 3, 3, 2, 4, 0]), &[]);
        assert!(r.iter().all(|r| !r.flagged));
        assert!(r[7].flag_at_most.is_none());
        // A ward whose months swing widely: a third of usual is within its own spread.
        let c = [10, 45, 20, 60, 15, 35, 50, 12, 40, 25, 55, 18, 10];
        let r = against_own_past(&months(&c), &[]);
        assert!(r[12].dispersion > 0.2, "{:?}", r[12]);
        assert!(!r[12].flagged, "{:?}", r[12]);
    }

    #[test]
    fn missing_and_excluded_months_are_left_out_of_the_baseline() {
        let mut m = months(&[20, 20, 2, 20, 20, 20]);
        m[1].bed_days = None;
        let r = against_own_past(&m, &[false, false, false, true, false, false]);
        assert_eq!(r[1], Reading::default());
        // Too little history before month 5; month 5's baseline is months 0, 2 and 4 (1 has no
        // bed days, 3 is excluded): 42 events over 1,800 bed days.
        assert!(r[..5].iter().all(|r| r.expected.is_none()), "{r:?}");
        assert!((r[5].expected.unwrap() - 14.0).abs() < 1e-9);
    }

    #[test]
    fn within_a_shortfall_wards_that_fit_it_are_flagged_and_full_ones_are_not() {
        let w = |events, expected| WardInShortfall {
            events,
            expected,
            dispersion: 0.1,
        };
        // Six wards at a quarter, two reporting fully, one too small to say.
        let wards = [
            w(5, 20.0),
            w(8, 30.0),
            w(3, 12.0),
            w(12, 40.0),
            w(4, 18.0),
            w(6, 25.0),
            w(30, 32.0),
            w(21, 20.0),
            w(0, 2.0),
        ];
        let total: u64 = wards.iter().map(|w| w.events).sum();
        let expected: f64 = wards.iter().map(|w| w.expected).sum();
        let r = within_shortfall(&wards, total as f64 / expected);
        assert!(r[..6].iter().all(|r| r.flagged), "{r:?}");
        assert!(!r[6].flagged && !r[7].flagged, "{r:?}");
        assert_eq!(r[8], ShortfallReading::default());
        assert!(r[0].flag_at_most.is_some_and(|k| (5..20).contains(&k)));
    }
}
