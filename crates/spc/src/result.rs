//! What the engine returns: per point, per segment and per series.

use crate::settings::Side;
use std::fmt;

/// How one point is classified, as Making Data Count colours it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PointType {
    CommonCause,
    /// Special cause in the better direction; the side says whether it is a high or low signal.
    Improvement(Side),
    /// Special cause in the worse direction.
    Concern(Side),
    /// Special cause on a measure with no better direction.
    Neutral(Side),
}

impl PointType {
    /// The label used in CSV output: `common_cause`, `improvement`, `concern`,
    /// `neutral_high` or `neutral_low`.
    pub fn as_str(self) -> &'static str {
        match self {
            PointType::CommonCause => "common_cause",
            PointType::Improvement(_) => "improvement",
            PointType::Concern(_) => "concern",
            PointType::Neutral(Side::High) => "neutral_high",
            PointType::Neutral(Side::Low) => "neutral_low",
        }
    }

    pub fn is_special_cause(self) -> bool {
        self != PointType::CommonCause
    }
}

/// The variation icon: the classification of the latest point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variation {
    CommonCause,
    ImprovementHigh,
    ImprovementLow,
    ConcernHigh,
    ConcernLow,
    NeutralHigh,
    NeutralLow,
}

impl Variation {
    pub fn from_point_type(pt: PointType) -> Variation {
        match pt {
            PointType::CommonCause => Variation::CommonCause,
            PointType::Improvement(Side::High) => Variation::ImprovementHigh,
            PointType::Improvement(Side::Low) => Variation::ImprovementLow,
            PointType::Concern(Side::High) => Variation::ConcernHigh,
            PointType::Concern(Side::Low) => Variation::ConcernLow,
            PointType::Neutral(Side::High) => Variation::NeutralHigh,
            PointType::Neutral(Side::Low) => Variation::NeutralLow,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Variation::CommonCause => "common_cause",
            Variation::ImprovementHigh => "improvement_high",
            Variation::ImprovementLow => "improvement_low",
            Variation::ConcernHigh => "concern_high",
            Variation::ConcernLow => "concern_low",
            Variation::NeutralHigh => "neutral_high",
            Variation::NeutralLow => "neutral_low",
        }
    }

    /// A sentence for a board paper or a screen reader.
    pub fn describe(self) -> &'static str {
        match self {
            Variation::CommonCause => "Common cause variation: no significant change",
            Variation::ImprovementHigh => "Special cause variation: improvement (higher)",
            Variation::ImprovementLow => "Special cause variation: improvement (lower)",
            Variation::ConcernHigh => "Special cause variation: concern (higher)",
            Variation::ConcernLow => "Special cause variation: concern (lower)",
            Variation::NeutralHigh => "Special cause variation: higher (neither better nor worse)",
            Variation::NeutralLow => "Special cause variation: lower (neither better nor worse)",
        }
    }
}

impl fmt::Display for Variation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The assurance icon: will the process meet its target?
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Assurance {
    /// The limits are all on the right side of the target: it will consistently be met.
    Pass,
    /// The limits are all on the wrong side: it will consistently be missed.
    Fail,
    /// The target lies between the limits: it will be met some periods and not others.
    HitOrMiss,
    /// No target, no direction, or no limits.
    None,
}

impl Assurance {
    pub fn as_str(self) -> &'static str {
        match self {
            Assurance::Pass => "pass",
            Assurance::Fail => "fail",
            Assurance::HitOrMiss => "hit_or_miss",
            Assurance::None => "none",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Assurance::Pass => "The process will consistently meet the target",
            Assurance::Fail => "The process will consistently miss the target",
            Assurance::HitOrMiss => "The process will sometimes meet and sometimes miss the target",
            Assurance::None => "No assurance: no target or no limits",
        }
    }
}

impl fmt::Display for Assurance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One point of a chart: the value as charted, its lines, its rule flags and its type.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Point {
    /// The charted value (a rate is already multiplied); `None` for a missing period.
    pub value: Option<f64>,
    pub centre: Option<f64>,
    pub lower_limit: Option<f64>,
    pub upper_limit: Option<f64>,
    pub lower_2sigma: Option<f64>,
    pub upper_2sigma: Option<f64>,
    pub astronomical: Option<Side>,
    pub shift: Option<Side>,
    pub trend: Option<Side>,
    pub two_in_three: Option<Side>,
    /// `None` for a missing period.
    pub point_type: Option<PointType>,
    /// Segment number, from 0; a rebase starts the next one.
    pub segment: usize,
    /// The segment has fewer points than MDC asks for firm limits (13).
    pub trial: bool,
}

/// Anhøj runs analysis of one segment around its centre line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Anhoj {
    /// Points not on the centre line.
    pub useful_points: usize,
    pub longest_run: usize,
    pub crossings: usize,
    /// A run longer than this is a signal: round(log2(n)) + 3.
    pub longest_run_max: usize,
    /// Fewer crossings than this is a signal: the 5% quantile of Binomial(n - 1, 0.5).
    pub crossings_min: usize,
    pub runs_signal: bool,
}

/// A segment: the points between two rebases, with their own centre and limits.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// Index of the first point.
    pub start: usize,
    /// One past the last point.
    pub end: usize,
    /// Points with a value.
    pub points: usize,
    pub centre: Option<f64>,
    pub trial: bool,
    pub anhoj: Anhoj,
}

/// The series-level reading, taken from the latest segment.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Points with a value.
    pub points: usize,
    pub segments: usize,
    pub centre: Option<f64>,
    pub lower_limit: Option<f64>,
    pub upper_limit: Option<f64>,
    /// `None` when the series has no value at all.
    pub variation: Option<Variation>,
    pub assurance: Assurance,
    pub anhoj: Anhoj,
}

/// The whole analysis of one series.
#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    pub points: Vec<Point>,
    pub segments: Vec<Segment>,
    pub summary: Summary,
}
