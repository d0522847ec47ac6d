//! # spc: statistical process control the way NHS boards read it
//!
//! A pure engine (no I/O, no async) for the charts of NHS England's *Making Data Count*
//! (MDC) programme and their relatives: XmR (the MDC default), run charts with Anhøj rules,
//! I, C, U, Laney U′, P, Laney P′, G and T charts. It applies the four MDC special-cause
//! rules with an improvement direction, classifies each point, and gives the variation and
//! assurance icons of a series. A `ptd` convention reproduces the R package
//! NHSRplotthedots 0.2.2 point for point.
//!
//! ```
//! use spc::{analyse, Direction, Series, Settings, Variation};
//!
//! // Restraint per 1,000 bed days, lower is better: a fall after month 12.
//! let mut values: Vec<Option<f64>> = vec![Some(20.0), Some(22.0)].repeat(6);
//! values.extend(vec![Some(12.0); 8]);
//! let settings = Settings { direction: Direction::Decrease, ..Settings::default() };
//! let analysis = analyse(&Series::values(&values), &settings).unwrap();
//! assert_eq!(analysis.summary.variation, Some(Variation::ImprovementLow));
//! assert_eq!(analysis.points[19].shift, Some(spc::Side::Low));
//! ```
//!
//! Many series at once, each with its own settings:
//!
//! ```
//! use spc::{analyse_batch, Series, Settings};
//! let a = [Some(1.0), Some(2.0), Some(3.0)];
//! let b = [Some(5.0), None, Some(4.0)];
//! let settings = Settings::default();
//! let results = analyse_batch(&[(Series::values(&a), &settings), (Series::values(&b), &settings)]);
//! assert_eq!(results[1].as_ref().unwrap().summary.centre, Some(4.5));
//! ```

mod anhoj;
mod classify;
mod error;
mod limits;
mod result;
mod rules;
mod settings;
pub mod svg;

pub use anhoj::binomial_half_quantile;
pub use error::SpcError;
pub use limits::{D2, MDC_LIMIT, MR_SCREEN};
pub use result::{Analysis, Anhoj, Assurance, Point, PointType, Segment, Summary, Variation};
pub use settings::{AssuranceComparison, ChartKind, Convention, Direction, Settings, Side};

/// The data of one series, in period order. A `None` value is a missing period (a gap).
#[derive(Clone, Copy, Debug)]
pub struct Series<'a> {
    pub values: &'a [Option<f64>],
    /// Exposure per point (bed days, patients surveyed); needed by U, U′, P and P′ charts.
    pub denominators: Option<&'a [Option<f64>]>,
}

impl<'a> Series<'a> {
    pub fn values(values: &'a [Option<f64>]) -> Self {
        Series {
            values,
            denominators: None,
        }
    }

    pub fn with_denominators(values: &'a [Option<f64>], denominators: &'a [Option<f64>]) -> Self {
        Series {
            values,
            denominators: Some(denominators),
        }
    }
}

/// Analyse many series, each with its own settings, in order.
pub fn analyse_batch(items: &[(Series<'_>, &Settings)]) -> Vec<Result<Analysis, SpcError>> {
    items.iter().map(|(s, set)| analyse(s, set)).collect()
}

/// Analyse one series.
pub fn analyse(series: &Series<'_>, settings: &Settings) -> Result<Analysis, SpcError> {
    validate_settings(settings)?;
    let (y, n, scale_after) = charted_values(series, settings)?;
    let len = y.len();
    let mut points: Vec<Point> = y
        .iter()
        .map(|v| Point {
            value: *v,
            ..Point::default()
        })
        .collect();

    let bounds = segment_bounds(&settings.segment_starts, len);
    let ptd = settings.convention == Convention::Ptd;
    let screen = match (settings.screens_moving_ranges(), ptd) {
        (false, _) => limits::Screen::Off,
        (true, true) => limits::Screen::Ptd,
        (true, false) => limits::Screen::On,
    };
    let mut segments = Vec::with_capacity(bounds.len().saturating_sub(1));
    for (number, w) in bounds.windows(2).enumerate() {
        let (start, end) = (w[0], w[1]);
        let seg_points = &mut points[start..end];
        let ys = &y[start..end];
        let base = baseline_rows(ys, settings.baseline, ptd);
        limits::fill_segment(settings.chart, ys, &n[start..end], base, screen, seg_points);
        let flags = rules::evaluate(seg_points, settings.run_length, ptd);
        if ptd {
            classify::apply_ptd(seg_points, &flags, settings.direction);
        } else {
            for (p, f) in seg_points.iter_mut().zip(&flags) {
                classify::apply_mdc(p, f, settings.direction);
            }
        }
        let count = ys.iter().flatten().count();
        let trial = count < settings.min_points_for_limits;
        for p in seg_points.iter_mut() {
            p.segment = number;
            p.trial = trial;
            if p.value.is_none() {
                p.point_type = None;
            }
        }
        segments.push(Segment {
            start,
            end,
            points: count,
            centre: seg_points.first().and_then(|p| p.centre),
            trial,
            anhoj: anhoj::analyse(seg_points),
        });
    }

    if let Some(m) = scale_after {
        for p in &mut points {
            for v in [
                &mut p.value,
                &mut p.centre,
                &mut p.lower_limit,
                &mut p.upper_limit,
                &mut p.lower_2sigma,
                &mut p.upper_2sigma,
            ] {
                if let Some(x) = v.as_mut() {
                    *x *= m;
                }
            }
        }
        for s in &mut segments {
            s.centre = s.centre.map(|c| c * m);
        }
    }

    let summary = summarise(&points, &segments, settings);
    Ok(Analysis {
        points,
        segments,
        summary,
    })
}

fn validate_settings(s: &Settings) -> Result<(), SpcError> {
    if s.run_length < 2 {
        return Err(SpcError::Setting(format!(
            "run length {} is too short; expected 6 or 7",
            s.run_length
        )));
    }
    if !(s.multiplier.is_finite() && s.multiplier > 0.0) {
        return Err(SpcError::Setting(format!(
            "multiplier {} must be a positive number such as 1000",
            s.multiplier
        )));
    }
    if s.baseline == Some(0) {
        return Err(SpcError::Setting(
            "a baseline of 0 points has nothing to compute limits from; expected 12 to 20".into(),
        ));
    }
    if s.target.is_some_and(|t| !t.is_finite()) {
        return Err(SpcError::Setting(
            "the target must be a finite number".into(),
        ));
    }
    Ok(())
}

type Charted = (Vec<Option<f64>>, Vec<Option<f64>>, Option<f64>);

/// The values as the chart computes them, the denominators, and the multiplier still to apply
/// (U and P families compute on the raw ratio and scale afterwards).
fn charted_values(series: &Series<'_>, settings: &Settings) -> Result<Charted, SpcError> {
    let kind = settings.chart;
    let len = series.values.len();
    if let Some(d) = series.denominators
        && d.len() != len
    {
        return Err(SpcError::LengthMismatch {
            values: len,
            denominators: d.len(),
        });
    }
    for (index, v) in series.values.iter().enumerate() {
        if let Some(v) = v {
            if !v.is_finite() {
                return Err(SpcError::NotFinite { index });
            }
            let must_be_non_negative = matches!(
                kind,
                ChartKind::C
                    | ChartKind::U
                    | ChartKind::UPrime
                    | ChartKind::P
                    | ChartKind::PPrime
                    | ChartKind::G
                    | ChartKind::T
            );
            if must_be_non_negative && *v < 0.0 {
                return Err(SpcError::Negative {
                    index,
                    value: *v,
                    chart: kind,
                });
            }
        }
    }
    let dens = match series.denominators {
        Some(d) if kind.charts_ratio_when_given() => Some(d),
        _ if kind.needs_denominator() => {
            return Err(SpcError::MissingDenominator {
                index: 0,
                chart: kind,
            });
        }
        _ => None,
    };
    let Some(dens) = dens else {
        return Ok((series.values.to_vec(), vec![None; len], None));
    };
    let mut y = Vec::with_capacity(len);
    for (index, (v, d)) in series.values.iter().zip(dens).enumerate() {
        let Some(v) = v else {
            y.push(None);
            continue;
        };
        let d = d.ok_or(SpcError::MissingDenominator { index, chart: kind })?;
        if !(d.is_finite() && d > 0.0) {
            return Err(SpcError::NonPositiveDenominator { index, value: d });
        }
        if matches!(kind, ChartKind::P | ChartKind::PPrime) && *v > d {
            return Err(SpcError::ProportionAboveOne {
                index,
                value: *v,
                denominator: d,
            });
        }
        y.push(Some(v / d));
    }
    if kind.needs_denominator() {
        Ok((y, dens.to_vec(), Some(settings.multiplier)))
    } else {
        let m = settings.multiplier;
        Ok((
            y.into_iter().map(|v| v.map(|x| x * m)).collect(),
            vec![None; len],
            None,
        ))
    }
}

/// Segment boundaries: 0, each valid rebase index in order, len.
fn segment_bounds(starts: &[usize], len: usize) -> Vec<usize> {
    let mut b: Vec<usize> = starts
        .iter()
        .copied()
        .filter(|s| *s > 0 && *s < len)
        .collect();
    b.sort_unstable();
    b.dedup();
    b.insert(0, 0);
    b.push(len);
    b
}

/// How many leading rows of a segment define its limits. MDC counts points with a value;
/// NHSRplotthedots counts rows (`row_number() <= fix_after_n_points`).
fn baseline_rows(values: &[Option<f64>], baseline: Option<usize>, ptd: bool) -> usize {
    match baseline {
        None => values.len(),
        Some(n) if ptd => n.min(values.len()),
        Some(n) => {
            let mut seen = 0;
            for (i, v) in values.iter().enumerate() {
                if v.is_some() {
                    seen += 1;
                    if seen == n {
                        return i + 1;
                    }
                }
            }
            values.len()
        }
    }
}

fn summarise(points: &[Point], segments: &[Segment], settings: &Settings) -> Summary {
    let latest = points.iter().rev().find(|p| p.value.is_some());
    let (centre, lower, upper) = latest.or(points.last()).map_or((None, None, None), |p| {
        (p.centre, p.lower_limit, p.upper_limit)
    });
    Summary {
        points: points.iter().filter(|p| p.value.is_some()).count(),
        segments: segments.len(),
        centre,
        lower_limit: lower,
        upper_limit: upper,
        variation: latest
            .and_then(|p| p.point_type)
            .map(Variation::from_point_type),
        assurance: classify::assurance(
            settings.direction,
            settings.target,
            lower,
            upper,
            settings.assurance(),
        ),
        anhoj: segments.last().map(|s| s.anhoj).unwrap_or_default(),
    }
}
