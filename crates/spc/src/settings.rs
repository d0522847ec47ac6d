//! What a caller can choose about a chart: its kind, the improvement direction, the
//! convention (MDC or NHSRplotthedots), segments, baseline, target and rule lengths.

use std::fmt;
use std::str::FromStr;

/// The kind of chart, and so how the centre line and limits are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ChartKind {
    /// XmR (individuals and moving range) with the Making Data Count constant 2.66.
    #[default]
    Xmr,
    /// Run chart: median centre line, Anhøj runs analysis, no limits.
    Run,
    /// I chart (qicharts2): sigma = mean moving range / 1.128, limits at ±3 sigma.
    I,
    /// C chart: counts with equal opportunity.
    C,
    /// U chart: events per unit of exposure (e.g. per occupied bed day).
    U,
    /// Laney U′: U chart corrected for overdispersion.
    UPrime,
    /// P chart: proportions.
    P,
    /// Laney P′: P chart corrected for overdispersion.
    PPrime,
    /// G chart: opportunities or days between rare events.
    G,
    /// T chart: time between events (transformed I chart).
    T,
}

impl ChartKind {
    pub const ALL: [ChartKind; 10] = [
        ChartKind::Xmr,
        ChartKind::Run,
        ChartKind::I,
        ChartKind::C,
        ChartKind::U,
        ChartKind::UPrime,
        ChartKind::P,
        ChartKind::PPrime,
        ChartKind::G,
        ChartKind::T,
    ];

    /// U, U′, P and P′ cannot be drawn without an exposure (denominator) per point.
    pub fn needs_denominator(self) -> bool {
        matches!(
            self,
            ChartKind::U | ChartKind::UPrime | ChartKind::P | ChartKind::PPrime
        )
    }

    /// Charts that chart value/denominator when a denominator is given. C, G and T chart the
    /// raw values (a count, or a time between events) and ignore any denominator.
    pub fn charts_ratio_when_given(self) -> bool {
        !matches!(self, ChartKind::C | ChartKind::G | ChartKind::T)
    }

    /// The short name used on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            ChartKind::Xmr => "xmr",
            ChartKind::Run => "run",
            ChartKind::I => "i",
            ChartKind::C => "c",
            ChartKind::U => "u",
            ChartKind::UPrime => "uprime",
            ChartKind::P => "p",
            ChartKind::PPrime => "pprime",
            ChartKind::G => "g",
            ChartKind::T => "t",
        }
    }

    /// A plain-English explanation for people who read the chart, not for statisticians.
    pub fn explanation(self) -> &'static str {
        match self {
            ChartKind::Xmr => {
                "An XmR chart (Making Data Count): the centre line is the mean; the grey dashed \
                 process limits sit 2.66 average moving ranges either side. Points outside them, \
                 runs of points on one side of the mean, trends and clusters near the limits \
                 are special cause variation."
            }
            ChartKind::Run => {
                "A run chart: the centre line is the median. Unusually long runs on one side of \
                 the median, or too few crossings of it, show a non-random change (Anhøj rules)."
            }
            ChartKind::I => {
                "An I chart: the centre line is the mean and the limits are three standard \
                 deviations either side, estimated from the average moving range / 1.128."
            }
            ChartKind::C => {
                "A C chart of counts in equal periods: the limits assume events happen at \
                 random (Poisson), three standard deviations from the mean count."
            }
            ChartKind::U => {
                "A U chart of a rate: events divided by the exposure (for example occupied bed \
                 days). The limits are wider where the exposure is small."
            }
            ChartKind::UPrime => {
                "A Laney U′ chart of a rate: like a U chart, but the limits also allow for the \
                 real variation between periods, so large denominators do not give limits that \
                 are too narrow."
            }
            ChartKind::P => {
                "A P chart of a proportion: the limits are wider where the denominator is small \
                 and never go below 0% or above 100%."
            }
            ChartKind::PPrime => {
                "A Laney P′ chart of a proportion: like a P chart, but the limits also allow for \
                 the real variation between periods when denominators are large."
            }
            ChartKind::G => {
                "A G chart of the number of days (or opportunities) between rare events: higher \
                 is better for harm. The centre line is the median."
            }
            ChartKind::T => {
                "A T chart of the time between rare events, charted on a transformed scale so \
                 that the limits suit skewed waiting times."
            }
        }
    }
}

impl fmt::Display for ChartKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChartKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        ChartKind::ALL
            .into_iter()
            .find(|k| k.as_str() == lower)
            .or(match lower.as_str() {
                "u'" | "u′" => Some(ChartKind::UPrime),
                "p'" | "p′" => Some(ChartKind::PPrime),
                _ => None,
            })
            .ok_or_else(|| {
                format!("unknown chart '{s}'; expected one of xmr, run, i, c, u, uprime, p, pprime, g, t")
            })
    }
}

/// Which way is better for the measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Higher is better (e.g. % of leave returned on time).
    Increase,
    /// Lower is better (e.g. restraint per 1,000 occupied bed days).
    Decrease,
    /// Neither: signals are shown as neutral (purple).
    #[default]
    Neutral,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Increase => "increase",
            Direction::Decrease => "decrease",
            Direction::Neutral => "neutral",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Direction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "increase" | "higher" | "up" => Ok(Direction::Increase),
            "decrease" | "lower" | "down" => Ok(Direction::Decrease),
            "neutral" | "" => Ok(Direction::Neutral),
            _ => Err(format!(
                "unknown direction '{s}'; expected increase, decrease or neutral"
            )),
        }
    }
}

/// Which published tool's rules to reproduce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Convention {
    /// Making Data Count as published since November 2023 (the default).
    #[default]
    Mdc,
    /// NHSRplotthedots 0.2.2, point for point.
    Ptd,
}

impl Convention {
    pub fn as_str(self) -> &'static str {
        match self {
            Convention::Mdc => "mdc",
            Convention::Ptd => "ptd",
        }
    }
}

impl FromStr for Convention {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mdc" => Ok(Convention::Mdc),
            "ptd" | "nhsrplotthedots" => Ok(Convention::Ptd),
            _ => Err(format!("unknown convention '{s}'; expected mdc or ptd")),
        }
    }
}

/// How a target is compared with the process limits for the assurance icon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AssuranceComparison {
    /// A target equal to a limit counts as beyond it (MDC guidance reads this way).
    Inclusive,
    /// The target must be strictly beyond a limit (NHSRplotthedots).
    Strict,
}

/// Which side of the centre line (or which way a trend goes) a signal points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    High,
    Low,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::High => "high",
            Side::Low => "low",
        }
    }
}

/// Everything that decides how one series is charted.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub chart: ChartKind,
    pub direction: Direction,
    pub convention: Convention,
    /// Screen moving ranges (drop those >= 3.267 × mean MR once). `None` means the
    /// convention's default: on for `ptd` XmR charts, off otherwise.
    pub screen_mr: Option<bool>,
    /// Points needed for a shift or a trend: 7 (MDC default) or 6.
    pub run_length: usize,
    pub target: Option<f64>,
    /// Indices of the points that start a new segment (rebase points), in any order.
    pub segment_starts: Vec<usize>,
    /// Compute centre and limits from the first N points of each segment only.
    pub baseline: Option<usize>,
    /// Multiplier for charted ratios (e.g. 1000 for "per 1,000 bed days", 100 for %).
    pub multiplier: f64,
    /// `None` means the convention's default: inclusive for `mdc`, strict for `ptd`.
    pub assurance_comparison: Option<AssuranceComparison>,
    /// Segments with fewer points than this have "trial" limits (MDC: 13).
    pub min_points_for_limits: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            chart: ChartKind::Xmr,
            direction: Direction::Neutral,
            convention: Convention::Mdc,
            screen_mr: None,
            run_length: 7,
            target: None,
            segment_starts: Vec::new(),
            baseline: None,
            multiplier: 1.0,
            assurance_comparison: None,
            min_points_for_limits: 13,
        }
    }
}

impl Settings {
    /// Whether moving ranges are screened for this chart.
    pub fn screens_moving_ranges(&self) -> bool {
        self.screen_mr
            .unwrap_or(self.convention == Convention::Ptd && self.chart == ChartKind::Xmr)
    }

    pub fn assurance(&self) -> AssuranceComparison {
        self.assurance_comparison.unwrap_or(match self.convention {
            Convention::Mdc => AssuranceComparison::Inclusive,
            Convention::Ptd => AssuranceComparison::Strict,
        })
    }
}
