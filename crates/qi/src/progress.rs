//! The IHI assessment scale for improvement projects (0.5 to 5.0, Life QI's "progress score"),
//! suggested from the project's record and the SPC of its measures, with the rule that fired
//! and the evidence. The rules are in `RULES` (for the page) and in docs/qi.md; the code below
//! is their one implementation.

use crate::dates::{add_months, iso, quote};
use crate::error::QiError;
use crate::model::{MeasureRef, MeasureRole, Project};
use serde::Serialize;
use spc::{Analysis, Direction, Point, PointType};
use std::fmt;
use time::Date;

/// Points an outcome measure needs before the first cycle for its baseline to count as charted.
pub const BASELINE_POINTS: usize = 12;
/// Points the segment after a rebase needs, and the trailing points that must all meet the
/// target, for an improvement to count as holding.
pub const HOLD_POINTS: usize = 6;
/// Consecutive points of a rebased segment that must all lie on the better side of the centre
/// line before the rebase for the rebase to show special-cause improvement (the MDC shift rule,
/// judged against the old centre: a rebase at the change leaves no signal on the new segment).
pub const SHIFT_POINTS: usize = 7;
/// Calendar months an improvement must hold after adoption to count as sustained.
pub const SUSTAIN_MONTHS: u32 = 6;

/// A score on the scale, 0.5 to 5.0 in steps of 0.5 (held as half-points, 1 to 10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Score(u8);

impl Score {
    pub const MIN: Score = Score(1);
    pub const MAX: Score = Score(10);

    /// `halves` half-points: 1 is 0.5, 10 is 5.0.
    pub const fn from_halves(halves: u8) -> Option<Score> {
        if halves >= 1 && halves <= 10 {
            Some(Score(halves))
        } else {
            None
        }
    }

    pub const fn halves(self) -> u8 {
        self.0
    }

    pub fn value(self) -> f64 {
        f64::from(self.0) / 2.0
    }

    /// Parses a score a team sets by hand: `0.5`, `1`, `1.0` ... `5.0`.
    pub fn parse(field: &str, text: &str) -> Result<Score, QiError> {
        let t = text.trim();
        let halves = match t.split_once('.') {
            None => t.parse::<u8>().ok().and_then(|w| w.checked_mul(2)),
            Some((w, "0")) => w.parse::<u8>().ok().and_then(|w| w.checked_mul(2)),
            Some((w, "5")) => w
                .parse::<u8>()
                .ok()
                .and_then(|w| w.checked_mul(2))
                .and_then(|h| h.checked_add(1)),
            _ => None,
        };
        halves
            .filter(|_| !t.starts_with('+'))
            .and_then(Score::from_halves)
            .ok_or_else(|| {
                QiError::new(
                    field,
                    "a score from 0.5 to 5.0 in steps of 0.5",
                    quote(text),
                )
            })
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0 / 2, if self.0 % 2 == 1 { 5 } else { 0 })
    }
}

impl Serialize for Score {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.value())
    }
}

/// A score the team set by hand, with its reason (both are shown beside the suggestion).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SetScore {
    pub score: Score,
    pub reason: String,
}

/// Checks a score set by hand: a valid score and a reason.
pub fn set_score(score: &str, reason: &str) -> Result<SetScore, QiError> {
    let score = Score::parse("score", score)?;
    if reason.trim().is_empty() {
        return Err(QiError::new(
            "reason",
            "why the team's score differs from the data's (a sentence)",
            "nothing",
        ));
    }
    Ok(SetScore {
        score,
        reason: reason.trim().to_owned(),
    })
}

/// One rule of the scale, as the page prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub score: Score,
    /// IHI's name for the level.
    pub name: &'static str,
    /// Exactly what the platform checks.
    pub text: &'static str,
}

/// The rules, lowest first. The suggestion is the highest rule whose conditions all hold.
pub const RULES: [Rule; 10] = [
    Rule {
        score: Score(1),
        name: "Intent to participate",
        text: "The project is registered with a title at an organisation. Every project has at least this score.",
    },
    Rule {
        score: Score(2),
        name: "Charter and team",
        text: "The project has a charter (not empty) and a team with at least one lead.",
    },
    Rule {
        score: Score(3),
        name: "Planning begun",
        text: "As 1.0, and the aim is set (measure, baseline value, target value, target date) and the family of measures has an outcome measure (the aim's measure counts as one) and a process measure.",
    },
    Rule {
        score: Score(4),
        name: "Activity, but no changes: baseline charted",
        text: "As 1.5, and at least one PDSA cycle is recorded, and an outcome measure has at least 12 points charted before the first cycle's start (all its points when no cycle has started yet).",
    },
    Rule {
        score: Score(5),
        name: "Changes tested, but no improvement",
        text: "As 2.0, and at least one cycle is done: it has a start and an end date, and the end is on or before today.",
    },
    Rule {
        score: Score(6),
        name: "Modest improvement",
        text: "As 2.5, and a process measure shows special-cause improvement: a point the SPC classifies as improvement (beyond a process limit, a shift, a trend, or two of three near a limit, in the better direction) dated on or after the first cycle's start, or a rebase whose new segment opens with 7 points in a row on the better side of the centre line before it (a shift judged against the old centre), one of them dated on or after the first cycle's start.",
    },
    Rule {
        score: Score(7),
        name: "Improvement",
        text: "As 2.5, and an outcome measure shows special-cause improvement dated on or after the first cycle's start.",
    },
    Rule {
        score: Score(8),
        name: "Significant improvement",
        text: "As 3.5 on an outcome measure, and the improvement holds: (a) its chart was rebased on or after the date of an adoption (a cycle whose act is adopt) and the latest segment, with at least 6 points, has a centre line better than the segment before it; or (b) it is the aim's measure, the aim's target is better than its baseline, and the target is consistently met: the assurance icon of the latest segment (firm limits, not trial) is a pass, or the last 6 points all meet the target.",
    },
    Rule {
        score: Score(9),
        name: "Sustainable improvement",
        text: "As 4.0 on an outcome measure, and a change was adopted, and the improvement has held for six months after adoption: the measure has a point dated at least six calendar months after the later of the first adoption and the date the improvement holds from (the rebase, the start of the latest segment, or the start of the run of points meeting the target), with no special-cause concern in it since that date; and at least one balancing measure has points on or after the first adoption, none of them a special-cause concern.",
    },
    Rule {
        score: Score(10),
        name: "Outstanding sustainable results",
        text: "As 4.5, and the change has spread: a spread record names another ward, the date the change was adopted there and the measure that is the evidence, and the SPC of that measure on that ward shows special-cause improvement dated on or after that date.",
    },
];

/// The rule of a score.
pub fn rule(score: Score) -> &'static Rule {
    &RULES[usize::from(score.0.clamp(1, 10)) - 1]
}

/// One measure's chart as the progress scale reads it: the SPC analysis (from `spc::analyse`,
/// in the measure's charted units, with the improvement direction it was analysed with) and the
/// date of each of its points (the period start), one per point, strictly increasing.
#[derive(Clone, Copy, Debug)]
pub struct MeasureSeries<'a> {
    pub measure: &'a MeasureRef,
    pub direction: Direction,
    pub dates: &'a [Date],
    pub analysis: &'a Analysis,
}

/// A measure's chart on the ward a change spread to.
#[derive(Clone, Copy, Debug)]
pub struct SpreadSeries<'a> {
    pub ward: &'a str,
    pub series: MeasureSeries<'a>,
}

/// One piece of evidence behind a suggestion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evidence {
    /// `record`, `baseline`, `cycle_done`, `improvement`, `new_centre`, `target_met`,
    /// `sustained`, `balancing_clear` or `spread`.
    pub kind: &'static str,
    pub measure: Option<MeasureRef>,
    pub role: Option<MeasureRole>,
    /// Since when it holds (the first point of the signal, the rebase date, ...).
    #[serde(with = "crate::dates::serde_iso_option")]
    pub since: Option<Date>,
    /// A sentence for the page.
    pub text: String,
}

/// What the next score up still needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NextStep {
    pub score: Score,
    pub missing: Vec<String>,
}

/// The suggested score, the rule that fired, the evidence, and what the next score needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Suggestion {
    pub score: Score,
    pub rule: &'static Rule,
    pub evidence: Vec<Evidence>,
    pub next: Option<NextStep>,
}

type Check = Result<Vec<Evidence>, Vec<String>>;

struct Ctx<'a> {
    project: &'a Project,
    today: Date,
    measures: Vec<(MeasureRole, MeasureSeries<'a>)>,
    spread: &'a [SpreadSeries<'a>],
}

fn check_series(field: &str, s: &MeasureSeries<'_>) -> Result<(), QiError> {
    let n = s.analysis.points.len();
    if s.dates.len() != n {
        return Err(QiError::new(
            format!("{field}.dates"),
            format!("one date per point ({n} points)"),
            format!("{} dates", s.dates.len()),
        ));
    }
    if let Some(w) = s.dates.windows(2).find(|w| w[1] <= w[0]) {
        return Err(QiError::new(
            format!("{field}.dates"),
            "dates in increasing order, one per period",
            format!("{} after {}", iso(w[1]), iso(w[0])),
        ));
    }
    if let Some(seg) = s
        .analysis
        .segments
        .iter()
        .find(|g| g.start > g.end || g.end > n)
    {
        return Err(QiError::new(
            format!("{field}.analysis"),
            format!("segments within the {n} points"),
            format!("a segment from {} to {}", seg.start, seg.end),
        ));
    }
    Ok(())
}

/// Suggests the score of `project` on `today` from its record and the SPC analyses of its
/// measures (`measures`: each must be in the project's family or be the aim's measure) and of
/// the measures on wards it spread to (`spread`). Errors name the series whose dates or
/// measure do not fit; it never panics.
pub fn suggest(
    project: &Project,
    today: Date,
    measures: &[MeasureSeries<'_>],
    spread: &[SpreadSeries<'_>],
) -> Result<Suggestion, QiError> {
    let mut roles = Vec::with_capacity(measures.len());
    for s in measures {
        let field = format!("measures[{}]", s.measure.id());
        check_series(&field, s)?;
        let role = project.role_of(s.measure).ok_or_else(|| {
            QiError::new(
                field.clone(),
                "a measure of the project's family (or the aim's measure)",
                s.measure.to_string(),
            )
        })?;
        roles.push((role, *s));
    }
    for s in spread {
        check_series(
            &format!("spread[{}][{}]", s.ward, s.series.measure.id()),
            &s.series,
        )?;
    }
    let ctx = Ctx {
        project,
        today,
        measures: roles,
        spread,
    };
    Ok(ctx.suggest())
}

/// The better of two centre lines for a direction (`None` for a neutral measure).
fn better(direction: Direction, new: f64, old: f64) -> bool {
    match direction {
        Direction::Increase => new > old,
        Direction::Decrease => new < old,
        Direction::Neutral => false,
    }
}

fn meets(direction: Direction, value: f64, target: f64) -> bool {
    match direction {
        Direction::Increase => value >= target,
        Direction::Decrease => value <= target,
        Direction::Neutral => false,
    }
}

fn signal_names(p: &Point) -> String {
    let mut names = Vec::new();
    if p.astronomical.is_some() {
        names.push("a point beyond a process limit");
    }
    if p.shift.is_some() {
        names.push("a shift");
    }
    if p.trend.is_some() {
        names.push("a trend");
    }
    if p.two_in_three.is_some() {
        names.push("two of three points near a limit");
    }
    if names.is_empty() {
        "special cause".into()
    } else {
        names.join(", ")
    }
}

fn is_improvement(p: &Point) -> bool {
    matches!(p.point_type, Some(PointType::Improvement(_))) && p.value.is_some()
}

fn is_concern(p: &Point) -> bool {
    matches!(p.point_type, Some(PointType::Concern(_))) && p.value.is_some()
}

/// The first rebase whose new segment opens with at least `SHIFT_POINTS` consecutive values
/// (a gap breaks the run) strictly better than the centre of the segment before it, with a
/// point of that run dated on or after `from` (as a shift the SPC classifies counts from its
/// points dated on or after `from`): the first such point's date, the old centre and the run's
/// length.
fn shift_after_rebase(s: &MeasureSeries<'_>, from: Date) -> Option<(Date, f64, usize)> {
    let a = s.analysis;
    if s.direction == Direction::Neutral {
        return None;
    }
    a.segments.windows(2).find_map(|w| {
        let (prev, next) = (&w[0], &w[1]);
        let before = prev.centre?;
        let run = a
            .points
            .get(next.start..next.end.min(a.points.len()))?
            .iter()
            .map_while(|p| p.value.filter(|v| better(s.direction, *v, before)))
            .count();
        let since = s
            .dates
            .get(next.start..next.start + run)?
            .iter()
            .find(|d| **d >= from)?;
        (run >= SHIFT_POINTS).then_some((*since, before, run))
    })
}

/// The first point matching `pred` dated on or after `from`.
fn first_since<'a>(
    s: &MeasureSeries<'a>,
    from: Date,
    pred: fn(&Point) -> bool,
) -> Option<(Date, &'a Point)> {
    s.dates
        .iter()
        .zip(&s.analysis.points)
        .find(|(d, p)| **d >= from && pred(p))
        .map(|(d, p)| (*d, p))
}

fn last_date(s: &MeasureSeries<'_>) -> Option<Date> {
    s.dates
        .iter()
        .zip(&s.analysis.points)
        .rev()
        .find(|(_, p)| p.value.is_some())
        .map(|(d, _)| *d)
}

fn name(project: &Project, m: &MeasureRef) -> String {
    project
        .measures
        .iter()
        .find(|f| &f.measure == m)
        .map(|f| f.name.trim())
        .filter(|n| !n.is_empty())
        .map_or_else(|| m.to_string(), str::to_owned)
}

/// How an improvement holds, and since when.
struct Hold {
    since: Date,
    evidence: Evidence,
}

impl<'a> Ctx<'a> {
    fn series(&self, role: MeasureRole) -> impl Iterator<Item = &MeasureSeries<'a>> {
        self.measures
            .iter()
            .filter(move |(r, _)| *r == role)
            .map(|(_, s)| s)
    }

    fn evidence(
        &self,
        kind: &'static str,
        s: Option<&MeasureSeries<'_>>,
        since: Option<Date>,
        text: String,
    ) -> Evidence {
        Evidence {
            kind,
            measure: s.map(|s| s.measure.clone()),
            role: s.and_then(|s| self.project.role_of(s.measure)),
            since,
            text,
        }
    }

    fn r05(&self) -> Check {
        Ok(vec![self.evidence(
            "record",
            None,
            None,
            format!(
                "The project \"{}\" is registered at {} {}.",
                self.project.title.trim(),
                self.project.organisation.level.as_str(),
                self.project.organisation.code
            ),
        )])
    }

    fn r10(&self) -> Check {
        let p = self.project;
        let mut missing = Vec::new();
        if p.charter.trim().is_empty() {
            missing.push("a charter".to_owned());
        }
        let leads = p
            .team
            .iter()
            .filter(|m| m.role == crate::model::TeamRole::Lead && !m.user.trim().is_empty())
            .count();
        if leads == 0 {
            missing.push("a team with a lead".to_owned());
        }
        if !missing.is_empty() {
            return Err(missing);
        }
        Ok(vec![self.evidence(
            "record",
            None,
            None,
            format!(
                "A charter and a team of {} with {} lead(s).",
                p.team.len(),
                leads
            ),
        )])
    }

    fn r15(&self) -> Check {
        let p = self.project;
        let mut missing = Vec::new();
        let aim = p
            .aim
            .as_ref()
            .filter(|a| a.baseline.is_finite() && a.target.is_finite());
        if aim.is_none() {
            missing.push("an aim: its measure, baseline value, target value and date".to_owned());
        }
        if !p.has_role(MeasureRole::Outcome) {
            missing.push("an outcome measure".to_owned());
        }
        if !p.has_role(MeasureRole::Process) {
            missing.push("a process measure".to_owned());
        }
        match aim {
            Some(a) if missing.is_empty() => Ok(vec![self.evidence(
                "record",
                None,
                None,
                format!(
                    "The aim: {} from {} to {} by {}; {} measure(s) in the family.",
                    name(p, &a.measure),
                    a.baseline,
                    a.target,
                    iso(a.target_date),
                    p.measures.len()
                ),
            )]),
            _ => Err(missing),
        }
    }

    fn r20(&self) -> Check {
        let p = self.project;
        let mut missing = Vec::new();
        if p.cycles.is_empty() {
            missing.push("a PDSA cycle planned".to_owned());
        }
        let first = p.first_cycle_start();
        let before = |d: &Date| first.is_none_or(|f| *d < f);
        let baseline = self.series(MeasureRole::Outcome).find_map(|s| {
            let charted: Vec<Date> = s
                .dates
                .iter()
                .zip(&s.analysis.points)
                .filter(|(d, pt)| pt.value.is_some() && before(d))
                .map(|(d, _)| *d)
                .collect();
            (charted.len() >= BASELINE_POINTS).then(|| (s, charted.len(), charted[0]))
        });
        let Some((s, n, from)) = baseline else {
            missing.push(match first {
                Some(f) => format!(
                    "an outcome measure with at least {BASELINE_POINTS} points charted before the first cycle's start ({})",
                    iso(f)
                ),
                None => format!("an outcome measure with at least {BASELINE_POINTS} points charted"),
            });
            return Err(missing);
        };
        if !missing.is_empty() {
            return Err(missing);
        }
        Ok(vec![
            self.evidence(
                "baseline",
                Some(s),
                Some(from),
                format!(
                    "{}: {n} points of baseline charted from {}{}.",
                    name(p, s.measure),
                    iso(from),
                    first.map_or(String::new(), |f| format!(
                        " before the first cycle ({})",
                        iso(f)
                    ))
                ),
            ),
            self.evidence(
                "record",
                None,
                None,
                format!("{} PDSA cycle(s) recorded.", p.cycles.len()),
            ),
        ])
    }

    fn r25(&self) -> Check {
        let done = self
            .project
            .cycles
            .iter()
            .filter(|c| c.is_done(self.today))
            .min_by_key(|c| (c.do_.end, &c.id));
        match done {
            Some(c) => Ok(vec![self.evidence(
                "cycle_done",
                None,
                c.do_.start,
                format!(
                    "Cycle {} ran from {} to {}.",
                    c.id,
                    c.do_.start.map_or_else(String::new, iso),
                    c.do_.end.map_or_else(String::new, iso)
                ),
            )]),
            None => Err(vec![
                "a cycle done (with a start and an end date on or before today)".to_owned(),
            ]),
        }
    }

    /// Special-cause improvement dated on or after the first cycle's start in a measure: a
    /// point the SPC classifies as improvement, or a rebase whose new segment shifted to the
    /// better side of the centre line before it.
    fn improvement(&self, s: &MeasureSeries<'_>) -> Option<Evidence> {
        let first = self.project.first_cycle_start()?;
        let Some((d, pt)) = first_since(s, first, is_improvement) else {
            let (d, before, run) = shift_after_rebase(s, first)?;
            return Some(self.evidence(
                "improvement",
                Some(s),
                Some(d),
                format!(
                    "{} ({}): special-cause improvement: after a rebase, {run} points in a row are all {} the centre line before the rebase ({}), a shift, since {} (the first cycle began on {}).",
                    name(self.project, s.measure),
                    self.project.role_of(s.measure).map_or("", MeasureRole::as_str),
                    if s.direction == Direction::Increase { "above" } else { "below" },
                    round(before),
                    iso(d),
                    iso(first)
                ),
            ));
        };
        Some(self.evidence(
            "improvement",
            Some(s),
            Some(d),
            format!(
                "{} ({}): special-cause improvement ({}) since {}{}, after the first cycle began on {}.",
                name(self.project, s.measure),
                self.project.role_of(s.measure).map_or("", MeasureRole::as_str),
                signal_names(pt),
                iso(d),
                if pt.trial { " (trial limits)" } else { "" },
                iso(first)
            ),
        ))
    }

    fn r30(&self) -> Check {
        self.series(MeasureRole::Process)
            .find_map(|s| self.improvement(s))
            .map(|e| vec![e])
            .ok_or_else(|| {
                vec![
                    "a special cause of improvement in a process measure on or after the first cycle's start"
                        .to_owned(),
                ]
            })
    }

    fn hold(&self, s: &MeasureSeries<'_>) -> Option<Hold> {
        let a = s.analysis;
        // (a) A rebase on or after an adoption, with a better centre line.
        if let [.., prev, last] = a.segments.as_slice()
            && let (Some(after), Some(before)) = (last.centre, prev.centre)
            && let Some(&rebased) = s.dates.get(last.start)
            && last.points >= HOLD_POINTS
            && better(s.direction, after, before)
            && let Some(adopted) = self
                .project
                .cycles
                .iter()
                .filter_map(|c| c.adopted_on())
                // On or before the new segment's first period: a monthly chart rebased at an
                // adoption on the 25th starts its new segment with that month's point.
                .filter(|d| s.dates.get(last.start + 1).map_or(*d <= rebased, |n| d < n))
                .min()
        {
            return Some(Hold {
                since: rebased,
                evidence: self.evidence(
                    "new_centre",
                    Some(s),
                    Some(rebased),
                    format!(
                        "{}: a new centre line of {} since {} (was {}), after the adoption on {}; {} points.",
                        name(self.project, s.measure),
                        round(after),
                        iso(rebased),
                        round(before),
                        iso(adopted),
                        last.points
                    ),
                ),
            });
        }
        // (b) The aim's target consistently met.
        let aim = self
            .project
            .aim
            .as_ref()
            .filter(|a| &a.measure == s.measure)?;
        let target = aim.target;
        // A target is only an improvement if it is better than the aim's baseline.
        if !target.is_finite() || !better(s.direction, target, aim.baseline) {
            return None;
        }
        let latest = a.points.iter().rposition(|p| p.value.is_some())?;
        let latest_pt = &a.points[latest];
        let assured = match s.direction {
            Direction::Increase => latest_pt.lower_limit.is_some_and(|l| target <= l),
            Direction::Decrease => latest_pt.upper_limit.is_some_and(|u| target >= u),
            Direction::Neutral => false,
        };
        if assured && !latest_pt.trial {
            let start = a
                .segments
                .iter()
                .find(|g| g.start <= latest && latest < g.end)
                .map_or(latest, |g| g.start);
            let since = s.dates.get(start).or(s.dates.get(latest)).copied()?;
            return Some(Hold {
                since,
                evidence: self.evidence(
                    "target_met",
                    Some(s),
                    Some(since),
                    format!(
                        "{}: the target {} is consistently met (assurance: pass; limits {} to {}) since {}.",
                        name(self.project, s.measure),
                        target,
                        latest_pt.lower_limit.map_or_else(String::new, round),
                        latest_pt.upper_limit.map_or_else(String::new, round),
                        iso(since)
                    ),
                ),
            });
        }
        // The trailing run of points meeting the target.
        let mut run = 0usize;
        let mut since = None;
        for (d, p) in s.dates.iter().zip(&a.points).rev() {
            match p.value {
                None => continue,
                Some(v) if meets(s.direction, v, target) => {
                    run += 1;
                    since = Some(*d);
                }
                Some(_) => break,
            }
        }
        let since = since.filter(|_| run >= HOLD_POINTS)?;
        Some(Hold {
            since,
            evidence: self.evidence(
                "target_met",
                Some(s),
                Some(since),
                format!(
                    "{}: the last {run} points all meet the target {} (since {}).",
                    name(self.project, s.measure),
                    target,
                    iso(since)
                ),
            ),
        })
    }

    /// 4.5's conditions after the hold: six months after adoption, no concern since, and the
    /// balancing measures clear.
    fn sustained(&self, s: &MeasureSeries<'_>, hold: &Hold) -> Check {
        let Some(adopted) = self.project.first_adoption() else {
            return Err(vec![
                "a change adopted (a cycle whose act is adopt, with its date)".into(),
            ]);
        };
        let from = hold.since.max(adopted);
        let mut missing = Vec::new();
        let mut evidence = Vec::new();
        let due = add_months(from, SUSTAIN_MONTHS);
        let last = last_date(s);
        match (due, last) {
            (Some(due), Some(last)) if last >= due => evidence.push(self.evidence(
                "sustained",
                Some(s),
                Some(from),
                format!(
                    "{}: held from {} to {}, {SUSTAIN_MONTHS} months or more after adoption (first adoption {}).",
                    name(self.project, s.measure),
                    iso(from),
                    iso(last),
                    iso(adopted)
                ),
            )),
            (due, last) => missing.push(format!(
                "{}: data to at least {} ({SUSTAIN_MONTHS} months after {}); the latest point is {}",
                name(self.project, s.measure),
                due.map_or_else(|| "a later date".into(), iso),
                iso(from),
                last.map_or_else(|| "none".into(), iso)
            )),
        }
        if let Some((d, _)) = first_since(s, from, is_concern) {
            missing.push(format!(
                "{}: no special-cause concern since {} (there is one on {})",
                name(self.project, s.measure),
                iso(from),
                iso(d)
            ));
        }
        let balancing: Vec<&MeasureSeries<'_>> = self
            .series(MeasureRole::Balancing)
            .filter(|b| last_date(b).is_some_and(|d| d >= adopted))
            .collect();
        if balancing.is_empty() {
            missing.push(format!(
                "a balancing measure charted on or after the first adoption ({})",
                iso(adopted)
            ));
        }
        let mut concerns = false;
        for b in &balancing {
            if let Some((d, pt)) = first_since(b, adopted, is_concern) {
                concerns = true;
                missing.push(format!(
                    "no special-cause concern in the balancing measures: {} shows {} on {}",
                    name(self.project, b.measure),
                    signal_names(pt),
                    iso(d)
                ));
            }
        }
        if !balancing.is_empty() && !concerns {
            evidence.push(self.evidence(
                "balancing_clear",
                None,
                Some(adopted),
                format!(
                    "No special-cause concern in {} since {}.",
                    balancing
                        .iter()
                        .map(|b| name(self.project, b.measure))
                        .collect::<Vec<_>>()
                        .join(", "),
                    iso(adopted)
                ),
            ));
        }
        if missing.is_empty() {
            Ok(evidence)
        } else {
            Err(missing)
        }
    }

    fn spread_shown(&self) -> Check {
        let p = self.project;
        let mut missing = Vec::new();
        for record in p.spread.iter().filter(|r| r.ward != p.organisation.code) {
            let shown = self
                .spread
                .iter()
                .filter(|s| s.ward == record.ward && s.series.measure == &record.evidence)
                .find_map(|s| {
                    first_since(&s.series, record.adopted, is_improvement).map(|x| (s, x))
                });
            match shown {
                Some((s, (d, pt))) => {
                    return Ok(vec![Evidence {
                        kind: "spread",
                        measure: Some(record.evidence.clone()),
                        role: None,
                        since: Some(d),
                        text: format!(
                            "Spread to ward {}: adopted on {}; {} shows special-cause improvement ({}) since {}.",
                            s.ward,
                            iso(record.adopted),
                            record.evidence,
                            signal_names(pt),
                            iso(d)
                        ),
                    }]);
                }
                None => missing.push(format!(
                    "ward {}: special-cause improvement in {} on or after {}",
                    record.ward,
                    record.evidence,
                    iso(record.adopted)
                )),
            }
        }
        if missing.is_empty() {
            missing.push(
                "the change adopted on another ward, with a measure there that shows it worked"
                    .into(),
            );
        }
        Err(missing)
    }

    /// 3.5 and up for one outcome measure: the halves reached (0 if not 3.5), the evidence, and
    /// what the next level needs.
    fn outcome_level(&self, s: &MeasureSeries<'_>) -> (u8, Vec<Evidence>, Vec<String>) {
        let Some(signal) = self.improvement(s) else {
            return (
                0,
                Vec::new(),
                vec![format!(
                    "a special cause of improvement in an outcome measure on or after the first cycle's start{}",
                    self.project
                        .first_cycle_start()
                        .map_or_else(String::new, |d| format!(" ({})", iso(d)))
                )],
            );
        };
        let mut evidence = vec![signal];
        let Some(hold) = self.hold(s) else {
            return (
                7,
                evidence,
                vec![format!(
                    "{}: the improvement held, as a rebase on or after an adoption with a better centre line and at least {HOLD_POINTS} points, or the aim's target consistently met (assurance pass, or the last {HOLD_POINTS} points)",
                    name(self.project, s.measure)
                )],
            );
        };
        evidence.push(hold.evidence.clone());
        match self.sustained(s, &hold) {
            Err(missing) => return (8, evidence, missing),
            Ok(more) => evidence.extend(more),
        }
        match self.spread_shown() {
            Err(missing) => (9, evidence, missing),
            Ok(more) => {
                evidence.extend(more);
                (10, evidence, Vec::new())
            }
        }
    }

    fn suggest(&self) -> Suggestion {
        let mut evidence = Vec::new();
        let mut halves = 1u8;
        let mut next_missing = Vec::new();
        let ladder: [fn(&Ctx<'a>) -> Check; 5] = [Ctx::r05, Ctx::r10, Ctx::r15, Ctx::r20, Ctx::r25];
        for (i, check) in ladder.iter().enumerate() {
            match check(self) {
                Ok(e) => {
                    evidence.extend(e);
                    halves = i as u8 + 1;
                }
                Err(m) => {
                    next_missing = m;
                    break;
                }
            }
        }
        if halves == 5 {
            let process = self.r30();
            let best = self
                .series(MeasureRole::Outcome)
                .map(|s| self.outcome_level(s))
                .fold(
                    None::<(u8, Vec<Evidence>, Vec<String>)>,
                    |best, x| match best {
                        Some(b) if b.0 >= x.0 => Some(b),
                        _ => Some(x),
                    },
                );
            let (outcome_halves, outcome_evidence, outcome_missing) = best.unwrap_or_else(|| {
                (
                    0,
                    Vec::new(),
                    vec!["an outcome measure charted, with a special cause of improvement on or after the first cycle's start".into()],
                )
            });
            match (process, outcome_halves) {
                (_, h) if h >= 7 => {
                    halves = h;
                    evidence.extend(outcome_evidence);
                    next_missing = outcome_missing;
                }
                (Ok(e), _) => {
                    halves = 6;
                    evidence.extend(e);
                    next_missing = outcome_missing;
                }
                (Err(m), _) => next_missing = m,
            }
        }
        let score = Score(halves);
        Suggestion {
            score,
            rule: rule(score),
            evidence,
            next: (halves < 10).then(|| NextStep {
                score: Score(halves + 1),
                missing: next_missing,
            }),
        }
    }
}

fn round(x: f64) -> String {
    let r = (x * 100.0).round() / 100.0;
    if r == r.trunc() && r.abs() < 1e15 {
        format!("{r:.0}")
    } else {
        format!("{r}")
    }
}
