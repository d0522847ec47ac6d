//! The measured effect of a change at one site: the measure before and after the change was
//! adopted, judged against limits frozen on the periods before it.
//!
//! - The chart is a U chart for a rate (events per unit of exposure) and a P chart for a
//!   proportion, analysed by `spc` with its baseline set to the periods before adoption, so
//!   the centre line and limits are those of the old process and stay where they were.
//! - The centres are pooled: all events over all exposure before, and after.
//! - The ratio of the new centre to the old, with a 95% confidence interval by the log method:
//!   for rates the ratio of two Poisson rates, SE(ln RR) = √(1/E₁ + 1/E₀); for proportions the
//!   ratio of two proportions, SE(ln RR) = √(1/x₁ − 1/n₁ + 1/x₀ − 1/n₀). When either side has
//!   no events, 0.5 is added to both event counts (and, for proportions, 1 to both
//!   denominators) so the ratio stays finite and its interval wide; the effect says so.
//! - A special cause followed when a point from adoption onwards is a special cause against
//!   the frozen limits (any of the four Making Data Count rules); "how soon" is the number of
//!   periods from the adoption period (0: the adoption period itself) to the first such point.
//! - It held when an improvement signal followed and the last six periods (or all after the
//!   first signal, if fewer) are still on the better side of the old centre, pooled, with none
//!   of them a special cause of concern.

use crate::dist::Z95;
use serde::Serialize;
use spc::{ChartKind, Direction, PointType, Series, Settings};

/// What kind of figure the measure is.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Scale {
    /// Events per unit of exposure, times `multiplier` (1,000 for per 1,000 bed days).
    Rate { multiplier: f64 },
    /// Numerator of denominator, times `multiplier` (100 for percent).
    Proportion { multiplier: f64 },
}

impl Scale {
    pub fn multiplier(self) -> f64 {
        match self {
            Scale::Rate { multiplier } | Scale::Proportion { multiplier } => multiplier,
        }
    }

    /// "rate ratio" or "risk ratio".
    pub fn ratio_name(self) -> &'static str {
        match self {
            Scale::Rate { .. } => "rate ratio",
            Scale::Proportion { .. } => "risk ratio",
        }
    }
}

/// One period of the measure: its numerator (events) and denominator (exposure, or the
/// number of people or opportunities).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Period {
    pub numerator: f64,
    pub denominator: f64,
}

/// Why an effect cannot be measured. Nothing is computed when one is returned.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EffectError {
    #[error("period {index}: the {field} is {value}; expected a finite number of 0 or more")]
    BadValue {
        index: usize,
        field: &'static str,
        value: f64,
    },
    #[error(
        "period {index}: the numerator {numerator} is above the denominator {denominator}; a proportion cannot exceed its denominator"
    )]
    ProportionAboveOne {
        index: usize,
        numerator: f64,
        denominator: f64,
    },
    #[error(
        "the adoption is at period {adoption} of {len}; expected at least {min} periods with data before it and {min} from it on"
    )]
    TooFewPeriods {
        adoption: usize,
        len: usize,
        min: usize,
    },
    #[error("there is no exposure (denominator 0) {side} the adoption; a centre needs some")]
    NoExposure { side: &'static str },
    #[error("the chart could not be analysed: {0}")]
    Spc(String),
}

/// The fewest periods with data on each side of the adoption for an effect to be measured.
pub const MIN_PERIODS: usize = 3;
/// How many of the last periods are read for "it held".
pub const HELD_PERIODS: usize = 6;

/// One side of the adoption, pooled.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Side {
    /// Periods with data.
    pub periods: usize,
    pub numerator: f64,
    pub denominator: f64,
    /// Numerator over denominator times the multiplier.
    pub centre: f64,
}

/// A ratio with its 95% confidence interval and the log-scale figures for pooling.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Ratio {
    pub value: f64,
    pub lower: f64,
    pub upper: f64,
    pub log_ratio: f64,
    pub se: f64,
    /// 0.5 was added to the events because one side had none.
    pub corrected: bool,
}

impl Ratio {
    /// A ratio from its log and standard error.
    pub fn from_log(log_ratio: f64, se: f64, corrected: bool) -> Ratio {
        Ratio {
            value: log_ratio.exp(),
            lower: (log_ratio - Z95 * se).exp(),
            upper: (log_ratio + Z95 * se).exp(),
            log_ratio,
            se,
            corrected,
        }
    }

    /// The interval excludes 1.
    pub fn excludes_one(&self) -> bool {
        self.upper < 1.0 || self.lower > 1.0
    }
}

/// What kind of special cause came first after adoption.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    Improvement,
    Concern,
    Neutral,
}

/// The measured effect of a change at one site.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SiteEffect {
    pub scale: Scale,
    pub adoption: usize,
    pub before: Side,
    pub after: Side,
    /// The frozen centre line (the old process), times the multiplier.
    pub frozen_centre: f64,
    /// New centre over old.
    pub ratio: Ratio,
    /// The first special cause from adoption on: its kind and periods after adoption.
    pub first_signal: Option<(Signal, usize)>,
    /// `Some` only when an improvement signal followed: whether it held.
    pub held: Option<bool>,
    /// The chart against the frozen limits, point by point (for drawing; not serialised).
    #[serde(skip)]
    pub points: Vec<spc::Point>,
}

/// Measure the effect of a change adopted at period `adoption` (the index of the first period
/// of the new process) in `periods` (in time order; `None` is a missing period).
pub fn site_effect(
    periods: &[Option<Period>],
    adoption: usize,
    scale: Scale,
    direction: Direction,
) -> Result<SiteEffect, EffectError> {
    for (index, p) in periods.iter().enumerate() {
        let Some(p) = p else { continue };
        for (field, value) in [("numerator", p.numerator), ("denominator", p.denominator)] {
            if !value.is_finite() || value < 0.0 {
                return Err(EffectError::BadValue {
                    index,
                    field,
                    value,
                });
            }
        }
        if matches!(scale, Scale::Proportion { .. }) && p.numerator > p.denominator {
            return Err(EffectError::ProportionAboveOne {
                index,
                numerator: p.numerator,
                denominator: p.denominator,
            });
        }
    }
    let adoption_at = adoption.min(periods.len());
    let (pre, post) = periods.split_at(adoption_at);
    let count = |s: &[Option<Period>]| s.iter().flatten().filter(|p| p.denominator > 0.0).count();
    if count(pre) < MIN_PERIODS || count(post) < MIN_PERIODS {
        return Err(EffectError::TooFewPeriods {
            adoption,
            len: periods.len(),
            min: MIN_PERIODS,
        });
    }
    let m = scale.multiplier();
    let pool = |s: &[Option<Period>], side: &'static str| -> Result<Side, EffectError> {
        let (mut num, mut den, mut n) = (0.0, 0.0, 0);
        for p in s.iter().flatten().filter(|p| p.denominator > 0.0) {
            num += p.numerator;
            den += p.denominator;
            n += 1;
        }
        if den <= 0.0 {
            return Err(EffectError::NoExposure { side });
        }
        Ok(Side {
            periods: n,
            numerator: num,
            denominator: den,
            centre: num / den * m,
        })
    };
    let before = pool(pre, "before")?;
    let after = pool(post, "after")?;
    let ratio = ratio(&before, &after, scale);

    // The chart: a period with no exposure is a gap.
    let values: Vec<Option<f64>> = periods
        .iter()
        .map(|p| p.filter(|p| p.denominator > 0.0).map(|p| p.numerator))
        .collect();
    let dens: Vec<Option<f64>> = periods
        .iter()
        .map(|p| p.filter(|p| p.denominator > 0.0).map(|p| p.denominator))
        .collect();
    let settings = Settings {
        chart: match scale {
            Scale::Rate { .. } => ChartKind::U,
            Scale::Proportion { .. } => ChartKind::P,
        },
        direction,
        baseline: Some(before.periods),
        multiplier: m,
        ..Settings::default()
    };
    let analysis = spc::analyse(&Series::with_denominators(&values, &dens), &settings)
        .map_err(|e| EffectError::Spc(e.to_string()))?;
    let frozen_centre = analysis
        .points
        .iter()
        .find_map(|p| p.centre)
        .unwrap_or(before.centre);

    let first_signal = analysis
        .points
        .iter()
        .enumerate()
        .skip(adoption_at)
        .find_map(|(i, p)| {
            let kind = match p.point_type? {
                PointType::CommonCause => return None,
                PointType::Improvement(_) => Signal::Improvement,
                PointType::Concern(_) => Signal::Concern,
                PointType::Neutral(_) => Signal::Neutral,
            };
            Some((kind, i - adoption_at))
        });

    let first_improvement = analysis
        .points
        .iter()
        .enumerate()
        .skip(adoption_at)
        .find(|(_, p)| matches!(p.point_type, Some(PointType::Improvement(_))))
        .map(|(i, _)| i);
    let held = first_improvement.map(|start| {
        let present: Vec<usize> = (start..periods.len())
            .filter(|&i| values[i].is_some())
            .collect();
        let tail = &present[present.len().saturating_sub(HELD_PERIODS)..];
        let (num, den) = tail.iter().fold((0.0, 0.0), |(n, d), &i| {
            (n + values[i].unwrap_or(0.0), d + dens[i].unwrap_or(0.0))
        });
        let tail_centre = if den > 0.0 {
            num / den * m
        } else {
            frozen_centre
        };
        let better = match direction {
            Direction::Decrease => tail_centre < frozen_centre,
            Direction::Increase => tail_centre > frozen_centre,
            Direction::Neutral => false,
        };
        let concern = tail
            .iter()
            .any(|&i| matches!(analysis.points[i].point_type, Some(PointType::Concern(_))));
        better && !concern
    });

    Ok(SiteEffect {
        scale,
        adoption: adoption_at,
        before,
        after,
        frozen_centre,
        ratio,
        first_signal,
        held,
        points: analysis.points,
    })
}

/// New over old by the log method (see the module documentation).
pub fn ratio(before: &Side, after: &Side, scale: Scale) -> Ratio {
    let corrected = before.numerator == 0.0 || after.numerator == 0.0;
    let k = if corrected { 0.5 } else { 0.0 };
    let (e0, e1) = (before.numerator + k, after.numerator + k);
    match scale {
        Scale::Rate { .. } => {
            let log_ratio = (e1 / after.denominator).ln() - (e0 / before.denominator).ln();
            Ratio::from_log(log_ratio, (1.0 / e1 + 1.0 / e0).sqrt(), corrected)
        }
        Scale::Proportion { .. } => {
            let (n0, n1) = (before.denominator + 2.0 * k, after.denominator + 2.0 * k);
            let log_ratio = (e1 / n1).ln() - (e0 / n0).ln();
            let var = (1.0 / e1 - 1.0 / n1 + 1.0 / e0 - 1.0 / n0).max(0.0);
            Ratio::from_log(log_ratio, var.sqrt(), corrected)
        }
    }
}
