//! The distributions the network's statistics need, written from their textbook definitions:
//! the log-gamma function (Lanczos, g = 7), the regularised incomplete gamma function (series
//! below a + 1, Lentz's continued fraction above) and its inverse, the regularised incomplete
//! beta function (continued fraction) for binomial tail sums, and R's type-7 sample quantile.

/// z for a two-sided 95% interval (qnorm(0.975)).
pub const Z95: f64 = 1.959_963_984_540_054;
/// z for a two-sided 99.8% interval (qnorm(0.999)).
pub const Z998: f64 = 3.090_232_306_167_813;

const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// ln Γ(x) for x > 0.
pub fn ln_gamma(x: f64) -> f64 {
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1-x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = LANCZOS[0];
    let t = x + 7.5;
    for (i, c) in LANCZOS.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

const EPS: f64 = 1e-15;
const TINY: f64 = 1e-300;

/// P(a, x): the regularised lower incomplete gamma function, the CDF at `x` of a gamma
/// distribution with shape `a` and scale 1. For integer `a`, 1 - P(a, x) is P(Poisson(x) < a).
pub fn gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 || a <= 0.0 {
        return 0.0;
    }
    let log_front = -x + a * x.ln() - ln_gamma(a);
    if x < a + 1.0 {
        let mut term = 1.0 / a;
        let mut sum = term;
        let mut n = a;
        for _ in 0..100_000 {
            n += 1.0;
            term *= x / n;
            sum += term;
            if term.abs() < sum.abs() * EPS {
                break;
            }
        }
        (sum.ln() + log_front).exp().clamp(0.0, 1.0)
    } else {
        1.0 - (gamma_q_cf(a, x).ln() + log_front).exp().clamp(0.0, 1.0)
    }
}

/// Q(a, x) = 1 - P(a, x): the upper tail.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 || a <= 0.0 {
        return 1.0;
    }
    if x < a + 1.0 {
        1.0 - gamma_p(a, x)
    } else {
        let log_front = -x + a * x.ln() - ln_gamma(a);
        (gamma_q_cf(a, x).ln() + log_front).exp().clamp(0.0, 1.0)
    }
}

/// The continued fraction of Q(a, x) without its front factor (modified Lentz).
fn gamma_q_cf(a: f64, x: f64) -> f64 {
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..100_000 {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// The `p` quantile of a gamma distribution with shape `a` and scale 1 (R: `qgamma(p, a)`;
/// `qchisq(p, 2a) / 2`). Bracketed Newton steps from the Wilson-Hilferty guess.
pub fn gamma_quantile(p: f64, a: f64) -> f64 {
    if p <= 0.0 || a <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let z = normal_quantile(p);
    let wh = a * (1.0 - 1.0 / (9.0 * a) + z / (3.0 * a.sqrt())).powi(3);
    // Below the Wilson-Hilferty range, P(a, x) is close to x^a / Γ(a + 1).
    let mut x = if wh > 0.0 {
        wh
    } else {
        (p * ln_gamma(a + 1.0).exp()).powf(1.0 / a).max(1e-300)
    };
    let (mut lo, mut hi) = (0.0f64, f64::INFINITY);
    for _ in 0..200 {
        let f = gamma_p(a, x) - p;
        if f.abs() < 1e-14 {
            break;
        }
        if f > 0.0 {
            hi = x;
        } else {
            lo = x;
        }
        let density = ((a - 1.0) * x.ln() - x - ln_gamma(a)).exp();
        let mut next = if density > 0.0 {
            x - f / density
        } else {
            f64::NAN
        };
        if !(next.is_finite() && next > lo && next < hi) {
            next = if hi.is_finite() {
                0.5 * (lo + hi)
            } else {
                2.0 * x.max(1.0)
            };
        }
        if (next - x).abs() <= 1e-15 * x.max(1e-300) {
            x = next;
            break;
        }
        x = next;
    }
    x
}

/// The standard normal quantile (Acklam's rational approximation refined by one Halley step
/// on the complementary error function; about 1e-15 relative).
pub fn normal_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let low = 0.024_25;
    let x = if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Halley step: e = Φ(x) - p with Φ(x) = Q(1/2, x²/2) / 2 for x < 0.
    let cdf = normal_cdf(x);
    let e = cdf - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// Φ(x), the standard normal CDF, through the incomplete gamma function.
pub fn normal_cdf(x: f64) -> f64 {
    let half = gamma_q(0.5, x * x / 2.0) / 2.0;
    if x < 0.0 { half } else { 1.0 - half }
}

/// The regularised incomplete beta function I_x(a, b).
pub fn beta_i(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let log_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ((log_front).exp() * beta_cf(x, a, b) / a).clamp(0.0, 1.0)
    } else {
        (1.0 - log_front.exp() * beta_cf(1.0 - x, b, a) / b).clamp(0.0, 1.0)
    }
}

fn beta_cf(x: f64, a: f64, b: f64) -> f64 {
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..100_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// P(X <= r) for X ~ Binomial(n, theta).
pub fn binomial_cdf(r: u64, n: u64, theta: f64) -> f64 {
    if r >= n {
        return 1.0;
    }
    if theta <= 0.0 {
        return 1.0;
    }
    if theta >= 1.0 {
        return 0.0;
    }
    // P(X <= r) = I_{1-theta}(n - r, r + 1).
    beta_i(1.0 - theta, (n - r) as f64, r as f64 + 1.0)
}

/// Sample quantile as R's default (`quantile(x, p)`, type 7): linear interpolation between the
/// order statistics at (n - 1)p. `None` for an empty sample.
pub fn quantile_type7(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    #[test]
    fn gamma_quantile_shape_one_is_the_exponential() {
        // qgamma(p, 1) = -ln(1 - p): 3.688879 at 0.975, 0.025318 at 0.025.
        assert!(close(gamma_quantile(0.975, 1.0), -(0.025f64).ln(), 1e-12));
        assert!(close(gamma_quantile(0.025, 1.0), -(0.975f64).ln(), 1e-12));
    }

    #[test]
    fn gamma_p_integer_shape_is_a_poisson_tail() {
        // 1 - P(a, x) = P(Poisson(x) <= a - 1), summed term by term.
        for &(a, x) in &[(3u64, 2.5f64), (10, 12.0), (40, 31.0), (1, 0.3)] {
            let mut term = (-x).exp();
            let mut sum = term;
            for i in 1..a {
                term *= x / i as f64;
                sum += term;
            }
            assert!(close(1.0 - gamma_p(a as f64, x), sum, 1e-12), "a={a} x={x}");
        }
    }

    #[test]
    fn chi_square_quantiles_from_tables() {
        // qchisq(0.975, 2) = 7.377759, qchisq(0.025, 20) = 9.590777, qchisq(0.999, 10) = 29.58830.
        assert!(close(2.0 * gamma_quantile(0.975, 1.0), 7.377_759, 1e-6));
        assert!(close(2.0 * gamma_quantile(0.025, 10.0), 9.590_777, 1e-6));
        assert!(close(2.0 * gamma_quantile(0.999, 5.0), 29.588_30, 1e-6));
    }

    #[test]
    fn normal_quantiles() {
        assert!(close(normal_quantile(0.975), Z95, 1e-12));
        assert!(close(normal_quantile(0.999), Z998, 1e-12));
        assert!(close(normal_quantile(0.5), 0.0, 1e-12));
    }

    #[test]
    fn binomial_cdf_matches_the_sum_of_terms() {
        for &(r, n, t) in &[
            (3u64, 10u64, 0.5f64),
            (0, 7, 0.2),
            (12, 40, 0.31),
            (99, 100, 0.99),
        ] {
            let mut sum = 0.0;
            let mut ln_choose = 0.0f64;
            for k in 0..=r {
                if k > 0 {
                    ln_choose += ((n - k + 1) as f64).ln() - (k as f64).ln();
                }
                sum += (ln_choose + k as f64 * t.ln() + (n - k) as f64 * (1.0 - t).ln()).exp();
            }
            assert!(close(binomial_cdf(r, n, t), sum, 1e-11), "{r} {n} {t}");
        }
    }

    #[test]
    fn type7_quantile_as_r() {
        // quantile(1:10, 0.1) = 1.9; quantile(1:10, 0.9) = 9.1.
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        assert!(close(quantile_type7(&x, 0.1).unwrap(), 1.9, 1e-12));
        assert!(close(quantile_type7(&x, 0.9).unwrap(), 9.1, 1e-12));
        assert_eq!(quantile_type7(&[], 0.5), None);
    }
}
