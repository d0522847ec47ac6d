//! The network's statistics on the platform's own series: a site's effect read from a
//! measure's cached series (`measures::MeasureSeries`, the same the chart pages draw) at the
//! month a change was adopted, and what a viewer may see of it.
//!
//! Disclosure control (`domain::disclosure::Policy`), for a viewer who may not see the site's
//! detail:
//! - never a count: the before and after centres are published through `Policy::publish`
//!   (computed from rounded counts, suppressed under 5 events or 100 bed days);
//! - the ratio and its interval are shown only when both sides hold at least `min_count`
//!   events: with a small count on one side and a large one on the other, the interval's width
//!   gives the small count back (SE² = 1/E₁ + 1/E₀ ≈ 1/E₁);
//! - the pooled estimate is over the sites whose ratio the viewer may see ([`pool_visible`]):
//!   pooling a hidden site alone would show its ratio.

use crate::effect::{EffectError, Period, Scale, SiteEffect, site_effect};
use crate::meta::{Pooled, Study, dersimonian_laird};
use domain::disclosure::{Figure, Policy};
use domain::measures::Measure;
use measures::series::MeasureSeries;
use serde::Serialize;
use time::Date;

/// The scale of a catalogue measure: rates and proportions have one; counts, statistics and
/// event-level measures do not (their effects are not measured as ratios here).
pub fn scale_of(m: &Measure) -> Option<Scale> {
    if m.is_rate() {
        Some(Scale::Rate {
            multiplier: m.multiplier,
        })
    } else if m.is_proportion() {
        Some(Scale::Proportion {
            multiplier: m.multiplier,
        })
    } else {
        None
    }
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SiteError {
    #[error("measure {0}: not a rate or a proportion, so its effect is not measured as a ratio")]
    NotARatio(&'static str),
    #[error("measure {measure} at {org}: {source}")]
    Effect {
        measure: &'static str,
        org: String,
        source: EffectError,
    },
}

/// The effect of a change adopted on `adopted` (the first period whose start is on or after
/// the adoption's month is the first of the new process) on `series`.
pub fn effect_from_series(
    m: &Measure,
    series: &MeasureSeries,
    adopted: Date,
) -> Result<SiteEffect, SiteError> {
    let scale = scale_of(m).ok_or(SiteError::NotARatio(m.id))?;
    let month = adopted.replace_day(1).unwrap_or(adopted);
    let periods: Vec<Option<Period>> = series
        .points
        .iter()
        .map(|p| match (p.value, p.denominator) {
            (Some(_), Some(d)) if d > 0.0 => Some(Period {
                numerator: p.numerator,
                denominator: d,
            }),
            _ => None,
        })
        .collect();
    let adoption = series
        .points
        .iter()
        .position(|p| p.period >= month)
        .unwrap_or(series.points.len());
    site_effect(&periods, adoption, scale, m.direction).map_err(|source| SiteError::Effect {
        measure: m.id,
        org: series.org.clone(),
        source,
    })
}

/// A site's effect as one viewer may see it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EffectView {
    /// The pooled counts before and after: only for a viewer with full detail.
    pub counts: Option<Counts>,
    /// The before and after centres (times the multiplier), published for a controlled viewer.
    pub before: Option<f64>,
    pub after: Option<f64>,
    /// The ratio of the new centre to the old and its 95% interval.
    pub ratio: Option<(f64, f64, f64)>,
    /// For pooling (present exactly when `ratio` is).
    #[serde(skip)]
    pub study: Option<Study>,
    /// The first special cause: "improvement", "concern" or "neutral", and periods after.
    pub signal: Option<(&'static str, usize)>,
    pub held: Option<bool>,
    /// 0.5 was added to the events (one side had none).
    pub corrected: bool,
    /// Why something is not shown.
    pub withheld: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Counts {
    pub before_events: f64,
    pub before_denominator: f64,
    pub after_events: f64,
    pub after_denominator: f64,
}

pub const SMALL_NUMBERS: &str =
    "fewer than 5 events before or after the change: the ratio is not shown outside the trust";

/// What a viewer sees of `e`: everything with `policy` `None` (full detail), otherwise the
/// rules of the module documentation.
pub fn view(e: &SiteEffect, policy: Option<&Policy>) -> EffectView {
    let signal = e.first_signal.map(|(s, n)| {
        (
            match s {
                crate::Signal::Improvement => "improvement",
                crate::Signal::Concern => "concern",
                crate::Signal::Neutral => "neutral",
            },
            n,
        )
    });
    let ratio = Some((e.ratio.value, e.ratio.lower, e.ratio.upper));
    let study = Some(Study {
        log_ratio: e.ratio.log_ratio,
        se: e.ratio.se,
    });
    let Some(policy) = policy else {
        return EffectView {
            counts: Some(Counts {
                before_events: e.before.numerator,
                before_denominator: e.before.denominator,
                after_events: e.after.numerator,
                after_denominator: e.after.denominator,
            }),
            before: Some(e.before.centre),
            after: Some(e.after.centre),
            ratio,
            study,
            signal,
            held: e.held,
            corrected: e.ratio.corrected,
            withheld: None,
        };
    };
    let publish = |side: &crate::effect::Side| -> Option<f64> {
        let events = side.numerator.max(0.0).round() as u64;
        let figure = match e.scale {
            Scale::Rate { multiplier } => Figure::Rate {
                events,
                exposure: side.denominator,
                per: multiplier,
            },
            Scale::Proportion { multiplier } => Figure::Proportion {
                numerator: events,
                denominator: side.denominator.max(0.0).round() as u64,
                per: multiplier,
            },
        };
        policy.publish(figure).map(|p| p.value)
    };
    let enough = e.before.numerator >= policy.min_count as f64
        && e.after.numerator >= policy.min_count as f64;
    EffectView {
        counts: None,
        before: publish(&e.before),
        after: publish(&e.after),
        ratio: ratio.filter(|_| enough),
        study: study.filter(|_| enough),
        signal,
        held: e.held,
        corrected: false,
        withheld: (!enough).then_some(SMALL_NUMBERS),
    }
}

/// The pooled estimate over the sites whose ratio the viewer may see; `None` with none.
pub fn pool_visible(views: &[EffectView]) -> Option<Pooled> {
    let studies: Vec<Study> = views.iter().filter_map(|v| v.study).collect();
    dersimonian_laird(&studies).ok()
}

/// A funnel unit as a controlled viewer may see it: the published value and denominator, or
/// `None` (suppressed: not plotted, listed as such).
pub fn publish_unit(
    numerator: f64,
    denominator: f64,
    scale: Scale,
    policy: Option<&Policy>,
) -> Option<(f64, f64)> {
    let m = scale.multiplier();
    let Some(policy) = policy else {
        return (denominator > 0.0).then(|| (numerator / denominator * m, denominator));
    };
    let events = numerator.max(0.0).round() as u64;
    let figure = match scale {
        Scale::Rate { multiplier } => Figure::Rate {
            events,
            exposure: denominator,
            per: multiplier,
        },
        Scale::Proportion { multiplier } => Figure::Proportion {
            numerator: events,
            denominator: denominator.max(0.0).round() as u64,
            per: multiplier,
        },
    };
    policy
        .publish(figure)
        .map(|p| (p.value, p.denominator.unwrap_or(denominator)))
}
