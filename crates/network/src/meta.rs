//! Random-effects meta-analysis of site effects on the log scale, by DerSimonian and Laird
//! (1986):
//!
//! - weights wᵢ = 1/vᵢ (vᵢ = seᵢ²), the fixed-effect mean ȳ = Σwᵢyᵢ / Σwᵢ;
//! - Cochran's Q = Σwᵢ(yᵢ − ȳ)², df = k − 1;
//! - τ² = max(0, (Q − df) / (Σwᵢ − Σwᵢ² / Σwᵢ));
//! - random-effects weights wᵢ* = 1/(vᵢ + τ²), pooled μ = Σwᵢ*yᵢ / Σwᵢ*, SE(μ) = 1/√Σwᵢ*,
//!   95% interval μ ± 1.96 SE, reported as ratios exp(μ);
//! - I² = max(0, (Q − df)/Q) (Higgins and Thompson 2002), H² = Q/df; the p value of Q from the
//!   chi-square distribution with df degrees of freedom.
//!
//! With one site there is nothing to pool: the estimate is that site's own, τ² is 0 and Q, I²
//! and H² are not defined (`None`), and `single_site` says so. The same numbers as R's
//! `metafor::rma(yi, vi, method = "DL")`.

use crate::dist::{Z95, gamma_q};
use serde::Serialize;

/// One site's effect on the log scale.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Study {
    pub log_ratio: f64,
    pub se: f64,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MetaError {
    #[error("no sites to pool")]
    Empty,
    #[error(
        "site {index}: the {field} is {value}; expected a finite log ratio and a standard error above 0"
    )]
    BadStudy {
        index: usize,
        field: &'static str,
        value: f64,
    },
}

/// Heterogeneity between sites (two or more).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Heterogeneity {
    pub q: f64,
    pub df: usize,
    /// P(χ²_df ≥ Q).
    pub p_value: f64,
    /// Percent, 0 to 100.
    pub i2: f64,
    pub h2: f64,
}

/// The pooled estimate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Pooled {
    pub k: usize,
    pub log_estimate: f64,
    pub se: f64,
    pub ratio: f64,
    pub lower: f64,
    pub upper: f64,
    pub tau2: f64,
    /// The fixed-effect (inverse-variance) log estimate, for reference.
    pub fixed_log_estimate: f64,
    /// `None` with one site.
    pub heterogeneity: Option<Heterogeneity>,
    pub single_site: bool,
}

/// Pool `studies` by DerSimonian-Laird. Nothing is computed when an error is returned.
pub fn dersimonian_laird(studies: &[Study]) -> Result<Pooled, MetaError> {
    if studies.is_empty() {
        return Err(MetaError::Empty);
    }
    for (index, s) in studies.iter().enumerate() {
        if !s.log_ratio.is_finite() {
            return Err(MetaError::BadStudy {
                index,
                field: "log ratio",
                value: s.log_ratio,
            });
        }
        if !(s.se.is_finite() && s.se > 0.0) {
            return Err(MetaError::BadStudy {
                index,
                field: "standard error",
                value: s.se,
            });
        }
    }
    let k = studies.len();
    let w: Vec<f64> = studies.iter().map(|s| 1.0 / (s.se * s.se)).collect();
    let sw: f64 = w.iter().sum();
    let fixed = studies
        .iter()
        .zip(&w)
        .map(|(s, w)| w * s.log_ratio)
        .sum::<f64>()
        / sw;
    let (tau2, heterogeneity) = if k == 1 {
        (0.0, None)
    } else {
        let q: f64 = studies
            .iter()
            .zip(&w)
            .map(|(s, w)| w * (s.log_ratio - fixed).powi(2))
            .sum();
        let df = k - 1;
        let sw2: f64 = w.iter().map(|w| w * w).sum();
        let c = sw - sw2 / sw;
        let tau2 = if c > 0.0 {
            ((q - df as f64) / c).max(0.0)
        } else {
            0.0
        };
        let i2 = if q > 0.0 {
            ((q - df as f64) / q).max(0.0) * 100.0
        } else {
            0.0
        };
        (
            tau2,
            Some(Heterogeneity {
                q,
                df,
                p_value: gamma_q(df as f64 / 2.0, q / 2.0),
                i2,
                h2: q / df as f64,
            }),
        )
    };
    let ws: Vec<f64> = studies.iter().map(|s| 1.0 / (s.se * s.se + tau2)).collect();
    let sws: f64 = ws.iter().sum();
    let mu = studies
        .iter()
        .zip(&ws)
        .map(|(s, w)| w * s.log_ratio)
        .sum::<f64>()
        / sws;
    let se = 1.0 / sws.sqrt();
    Ok(Pooled {
        k,
        log_estimate: mu,
        se,
        ratio: mu.exp(),
        lower: (mu - Z95 * se).exp(),
        upper: (mu + Z95 * se).exp(),
        tau2,
        fixed_log_estimate: fixed,
        heterogeneity,
        single_site: k == 1,
    })
}
