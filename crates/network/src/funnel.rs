//! Funnel plots: each unit's rate or proportion against its denominator, with control limits
//! around the overall value (the target: all events over all denominators).
//!
//! **Exact limits.** Rates: the unit's expected count is E = θ·D (θ the target rate, D its
//! exposure); the limits are θ·G⁻¹(α; E)/E and θ·G⁻¹(1 − α; E + 1)/E, G⁻¹ the gamma quantile
//! (`qchisq(α, 2E)/2`), the exact Poisson limits FunnelPlotR draws for ratios (α = 0.025 and
//! 0.001 for 95% and 99.8%). Proportions: the exact binomial limits of Spiegelhalter (2005,
//! appendix A.1.1): r_p the smallest r with F(r) ≥ p for Binomial(n, θ), interpolated
//! y_p = (r_p − a)/n with a = (F(r_p) − p)/(F(r_p) − F(r_p − 1)).
//!
//! **Overdispersion** (Spiegelhalter 2005, "Handling over-dispersion of performance
//! indicators", as FunnelPlotR implements it). Each unit's z-score on a variance-stabilising
//! scale: proportions yᵢ = asin(√pᵢ), target asin(√θ), sᵢ = 1/(2√nᵢ); rates the square root of
//! the ratio of observed to expected, yᵢ = √(Oᵢ/Eᵢ), target 1, sᵢ = 1/(2√Eᵢ). zᵢ = (yᵢ − target)/sᵢ.
//! The z-scores are winsorised at their 10% and 90% quantiles (R's type 7), φ = Σ zᵂᵢ² / n, and
//! τ² = max(0, (nφ − (n − 1)) / (Σwᵢ − Σwᵢ²/Σwᵢ)), wᵢ = 1/sᵢ², taken as 0 when nφ < n − 1.
//! Multiplicative limits: target ± z·√φ·s (φ at least 1); additive (random effects): target ±
//! z·√(s² + τ²); both transformed back (squared for rates, sin² for proportions; a limit past
//! the edge of the scale is cut at 0 or 1). Outliers are judged against the additive limits
//! when τ² > 0 (FunnelPlotR's default) and against the exact limits otherwise.

use crate::dist::{Z95, Z998, binomial_cdf, gamma_quantile, quantile_type7};
use crate::effect::Scale;
use serde::Serialize;

/// The share winsorised at each end.
pub const TRIM: f64 = 0.1;

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FunnelError {
    #[error("no units to plot")]
    Empty,
    #[error("unit {index}: the {field} is {value}; expected a finite number of 0 or more")]
    BadValue {
        index: usize,
        field: &'static str,
        value: f64,
    },
    #[error("unit {index}: the denominator is 0; a unit needs some exposure to be plotted")]
    NoDenominator { index: usize },
    #[error("unit {index}: the numerator {numerator} is above the denominator {denominator}")]
    ProportionAboveOne {
        index: usize,
        numerator: f64,
        denominator: f64,
    },
    #[error("there are no events in any unit; a funnel needs an overall value above 0")]
    NoEvents,
}

/// One unit's numerator and denominator.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Unit {
    pub numerator: f64,
    pub denominator: f64,
}

/// Lower and upper limits at 95% and 99.8%, on the measure's scale (times the multiplier).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Limits {
    pub lower95: f64,
    pub upper95: f64,
    pub lower998: f64,
    pub upper998: f64,
}

impl Limits {
    fn scaled(self, m: f64) -> Limits {
        Limits {
            lower95: self.lower95 * m,
            upper95: self.upper95 * m,
            lower998: self.lower998 * m,
            upper998: self.upper998 * m,
        }
    }
}

/// Where a unit falls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Within,
    High95,
    Low95,
    /// Beyond the 99.8% limit (also beyond the 95%).
    High998,
    Low998,
}

impl Band {
    pub fn is_outlier(self) -> bool {
        self != Band::Within
    }

    pub fn describe(self) -> &'static str {
        match self {
            Band::Within => "within the 95% limits",
            Band::High95 => "above the 95% limit",
            Band::Low95 => "below the 95% limit",
            Band::High998 => "above the 99.8% limit",
            Band::Low998 => "below the 99.8% limit",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct UnitResult {
    pub numerator: f64,
    pub denominator: f64,
    /// The unit's rate or proportion times the multiplier.
    pub value: f64,
    pub exact: Limits,
    pub multiplicative: Limits,
    pub additive: Limits,
    pub z: f64,
    pub winsorised_z: f64,
    /// Against the limits outliers are judged by (see the module documentation).
    pub band: Band,
}

/// One point of the limit curves, for drawing.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CurvePoint {
    pub denominator: f64,
    pub exact: Limits,
    pub multiplicative: Limits,
    pub additive: Limits,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Funnel {
    pub scale: Scale,
    /// The overall value times the multiplier.
    pub target: f64,
    pub phi: f64,
    pub tau2: f64,
    /// τ² > 0: outliers are judged against the additive limits.
    pub overdispersed: bool,
    pub units: Vec<UnitResult>,
    pub curve: Vec<CurvePoint>,
}

impl Funnel {
    /// Indices of the units outside the limits they are judged by, most extreme first.
    pub fn outliers(&self) -> Vec<usize> {
        let mut out: Vec<usize> = (0..self.units.len())
            .filter(|&i| self.units[i].band.is_outlier())
            .collect();
        out.sort_by(|&a, &b| {
            let za = self.units[a].z.abs();
            let zb = self.units[b].z.abs();
            zb.total_cmp(&za)
        });
        out
    }
}

/// How many points each limit curve has.
pub const CURVE_POINTS: usize = 60;

/// Build the funnel for `units` on `scale`.
pub fn funnel(units: &[Unit], scale: Scale) -> Result<Funnel, FunnelError> {
    if units.is_empty() {
        return Err(FunnelError::Empty);
    }
    let proportion = matches!(scale, Scale::Proportion { .. });
    for (index, u) in units.iter().enumerate() {
        for (field, value) in [("numerator", u.numerator), ("denominator", u.denominator)] {
            if !value.is_finite() || value < 0.0 {
                return Err(FunnelError::BadValue {
                    index,
                    field,
                    value,
                });
            }
        }
        if u.denominator == 0.0 {
            return Err(FunnelError::NoDenominator { index });
        }
        if proportion && u.numerator > u.denominator {
            return Err(FunnelError::ProportionAboveOne {
                index,
                numerator: u.numerator,
                denominator: u.denominator,
            });
        }
    }
    let total_num: f64 = units.iter().map(|u| u.numerator).sum();
    let total_den: f64 = units.iter().map(|u| u.denominator).sum();
    if total_num <= 0.0 {
        return Err(FunnelError::NoEvents);
    }
    let theta = total_num / total_den;
    let m = scale.multiplier();

    // z-scores on the stabilised scale.
    let (zs, ss): (Vec<f64>, Vec<f64>) = units
        .iter()
        .map(|u| {
            let (y, t, s) = transformed(u.numerator, u.denominator, theta, proportion);
            ((y - t) / s, s)
        })
        .unzip();
    let mut sorted = zs.clone();
    sorted.sort_by(f64::total_cmp);
    let lz = quantile_type7(&sorted, TRIM).unwrap_or(0.0);
    let uz = quantile_type7(&sorted, 1.0 - TRIM).unwrap_or(0.0);
    let wz: Vec<f64> = zs.iter().map(|z| z.clamp(lz, uz)).collect();
    let n = units.len() as f64;
    let phi = wz.iter().map(|z| z * z).sum::<f64>() / n;
    let tau2 = if n * phi < n - 1.0 {
        0.0
    } else {
        let w: Vec<f64> = ss.iter().map(|s| 1.0 / (s * s)).collect();
        let sw: f64 = w.iter().sum();
        let sw2: f64 = w.iter().map(|w| w * w).sum();
        let c = sw - sw2 / sw;
        if c > 0.0 {
            ((n * phi - (n - 1.0)) / c).max(0.0)
        } else {
            0.0
        }
    };
    let overdispersed = tau2 > 0.0;

    let limits_at = |d: f64| -> (Limits, Limits, Limits) {
        (
            exact(d, theta, proportion).scaled(m),
            adjusted(d, theta, proportion, |s| phi.max(1.0).sqrt() * s).scaled(m),
            adjusted(d, theta, proportion, |s| (s * s + tau2).sqrt()).scaled(m),
        )
    };
    let results = units
        .iter()
        .zip(zs.iter().zip(&wz))
        .map(|(u, (&z, &w))| {
            let (exact, multiplicative, additive) = limits_at(u.denominator);
            let value = u.numerator / u.denominator * m;
            let judged = if overdispersed { additive } else { exact };
            UnitResult {
                numerator: u.numerator,
                denominator: u.denominator,
                value,
                exact,
                multiplicative,
                additive,
                z,
                winsorised_z: w,
                band: band(value, &judged),
            }
        })
        .collect();

    let lo = units
        .iter()
        .map(|u| u.denominator)
        .fold(f64::INFINITY, f64::min);
    let hi = units.iter().map(|u| u.denominator).fold(0.0, f64::max);
    let lo = (lo * 0.8).max(if proportion { 1.0 } else { lo * 0.5 });
    let hi = hi * 1.05;
    let curve = (0..CURVE_POINTS)
        .map(|i| {
            let f = i as f64 / (CURVE_POINTS - 1) as f64;
            let mut d = (lo.ln() + f * (hi.ln() - lo.ln())).exp();
            if proportion {
                d = d.round().max(1.0);
            }
            let (exact, multiplicative, additive) = limits_at(d);
            CurvePoint {
                denominator: d,
                exact,
                multiplicative,
                additive,
            }
        })
        .collect();

    Ok(Funnel {
        scale,
        target: theta * m,
        phi,
        tau2,
        overdispersed,
        units: results,
        curve,
    })
}

/// (y, target, s) on the variance-stabilising scale.
fn transformed(num: f64, den: f64, theta: f64, proportion: bool) -> (f64, f64, f64) {
    if proportion {
        (
            (num / den).sqrt().asin(),
            theta.sqrt().asin(),
            1.0 / (2.0 * den.sqrt()),
        )
    } else {
        let e = theta * den;
        ((num / e).sqrt(), 1.0, 1.0 / (2.0 * e.sqrt()))
    }
}

fn band(value: f64, l: &Limits) -> Band {
    if value > l.upper998 {
        Band::High998
    } else if value < l.lower998 {
        Band::Low998
    } else if value > l.upper95 {
        Band::High95
    } else if value < l.lower95 {
        Band::Low95
    } else {
        Band::Within
    }
}

/// The exact limits at denominator `d` (unscaled).
pub fn exact(d: f64, theta: f64, proportion: bool) -> Limits {
    if proportion {
        let n = d.round().max(1.0) as u64;
        Limits {
            lower95: binomial_limit(0.025, n, theta),
            upper95: binomial_limit(0.975, n, theta),
            lower998: binomial_limit(0.001, n, theta),
            upper998: binomial_limit(0.999, n, theta),
        }
    } else {
        let e = theta * d;
        let lower = |p: f64| theta * gamma_quantile(p, e) / e;
        let upper = |p: f64| theta * gamma_quantile(p, e + 1.0) / e;
        Limits {
            lower95: lower(0.025),
            upper95: upper(0.975),
            lower998: lower(0.001),
            upper998: upper(0.999),
        }
    }
}

/// Spiegelhalter's interpolated exact binomial limit (a proportion, unscaled).
pub fn binomial_limit(p: f64, n: u64, theta: f64) -> f64 {
    // Smallest r with F(r) >= p, by bisection on r in [0, n].
    let (mut lo, mut hi) = (0u64, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if binomial_cdf(mid, n, theta) >= p {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let r = lo;
    let f_r = binomial_cdf(r, n, theta);
    let f_prev = if r == 0 {
        0.0
    } else {
        binomial_cdf(r - 1, n, theta)
    };
    let a = if f_r > f_prev {
        (f_r - p) / (f_r - f_prev)
    } else {
        0.0
    };
    ((r as f64 - a) / n as f64).clamp(0.0, 1.0)
}

/// Limits on the stabilised scale with the spread `sd(s)` at that denominator, transformed back.
fn adjusted(d: f64, theta: f64, proportion: bool, sd: impl Fn(f64) -> f64) -> Limits {
    let at = |z: f64| -> f64 {
        if proportion {
            let s = 1.0 / (2.0 * d.sqrt());
            let angle = (theta.sqrt().asin() + z * sd(s)).clamp(0.0, std::f64::consts::FRAC_PI_2);
            angle.sin().powi(2)
        } else {
            let s = 1.0 / (2.0 * (theta * d).sqrt());
            theta * (1.0 + z * sd(s)).max(0.0).powi(2)
        }
    };
    Limits {
        lower95: at(-Z95),
        upper95: at(Z95),
        lower998: at(-Z998),
        upper998: at(Z998),
    }
}
