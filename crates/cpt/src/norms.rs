//! Norms: a table the service loads, labelled with the sample it came from; Q-scores against
//! the matched row, the three summaries whose weights are data in the table, and the reliable
//! change index.
//!
//! ## The CSV format
//!
//! One record per line, its kind in the first field; `#` starts a comment line; blank lines
//! are skipped; fields may be quoted (`"a, b"`). Record kinds:
//!
//! ```text
//! meta,label,<text shown on every report that uses the norms>
//! meta,illustrative,<true|false>        true: not for clinical use
//! meta,task,<go_no_go|one_back>
//! sample,name,<text>
//! sample,size,<children in the sample>
//! sample,source,<where the sample and the figures come from>
//! metric,<name>,<higher|lower>,<test-retest r, or empty>
//! weight,<activity|inattention|impulsivity>,<metric>,<weight above 0>
//! norm,<age_min>,<age_max>,<female|male|all>,<metric>,<n>,<mean>,<sd>
//! group,<age_min>,<age_max>,<female|male|all>,<ethnic group>,<children>
//! ```
//!
//! `higher` means a higher value is more atypical (omissions), `lower` the opposite (d′).
//! Every age band must have a `norm` record for every metric and sex; the bands of a sex must
//! follow each other with no gap or overlap, and every sex must have the same bands. The
//! `group` records (optional) give the sample's make-up and must add up to its size.
//!
//! The JSON format is the serialisation of [`NormsTable`], checked the same way.
//!
//! ## Q-scores and summaries
//!
//! `z = (value - mean) / sd` against the row for the child's age band and sex (a row for
//! `all` is used when the file has none for the child's sex); `Q = z` for `higher` metrics and
//! `-z` for `lower`, so a higher Q is always more atypical. The percentile is `100 Φ(Q)`: the
//! share of the norm group expected to be less atypical. Q at or above the threshold (1.5 by
//! default) is flagged atypical. A summary is the weighted mean `Σ wᵢQᵢ / Σ wᵢ` over its
//! metrics that were measured (the others are listed as missing); `None` if none was.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::activity::Activity;
use crate::error::CptError;
use crate::score::Score;
use crate::stats::normal_cdf;
use crate::task::TaskVersion;

/// The parameter names that [`parameters`] produces and norms files refer to.
pub mod metric {
    /// 100 × omissions / targets.
    pub const OMISSIONS_PCT: &str = "omissions_pct";
    /// 100 × commissions / non-targets.
    pub const COMMISSIONS_PCT: &str = "commissions_pct";
    /// 100 × anticipatory presses / scored trials.
    pub const ANTICIPATORY_PCT: &str = "anticipatory_pct";
    /// 100 × multiple responses / scored trials.
    pub const MULTIPLE_PCT: &str = "multiple_pct";
    pub const RT_MEAN_MS: &str = "rt_mean_ms";
    pub const RT_MEDIAN_MS: &str = "rt_median_ms";
    pub const RT_SD_MS: &str = "rt_sd_ms";
    pub const D_PRIME: &str = "d_prime";
    pub const CRITERION: &str = "criterion";
    pub const TIME_ACTIVE_PCT: &str = "time_active_pct";
    /// Distance in head widths per minute of tracked time.
    pub const DISTANCE_HW_PER_MIN: &str = "distance_hw_per_min";
    /// Area covered, head widths squared.
    pub const AREA_HW2: &str = "area_hw2";
    /// Micro-movements per minute of tracked time.
    pub const MICRO_MOVEMENTS_PER_MIN: &str = "micro_movements_per_min";
    pub const MOTION_SIMPLICITY: &str = "motion_simplicity";
}

/// The parameters of a test, by name, for [`NormsTable::assess`]: only those that are
/// defined (no RT without a hit, no activity without a track or with nothing tracked).
pub fn parameters(score: &Score, activity: Option<&Activity>) -> BTreeMap<String, f64> {
    use metric::*;
    let w = &score.whole;
    let mut p = BTreeMap::new();
    let mut put = |name: &str, v: Option<f64>| {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            p.insert(name.to_string(), v);
        }
    };
    let pct = |a: u32, b: u32| (b > 0).then(|| 100.0 * f64::from(a) / f64::from(b));
    let scored = w.targets + w.non_targets;
    put(OMISSIONS_PCT, pct(w.omissions, w.targets));
    put(COMMISSIONS_PCT, pct(w.commissions, w.non_targets));
    put(ANTICIPATORY_PCT, pct(w.anticipatory, scored));
    put(MULTIPLE_PCT, pct(w.multiple, scored));
    put(RT_MEAN_MS, w.hit_rt.mean);
    put(RT_MEDIAN_MS, w.hit_rt.median);
    put(RT_SD_MS, w.hit_rt.sd);
    put(D_PRIME, Some(w.d_prime));
    put(CRITERION, Some(w.criterion));
    if let Some(a) = activity.map(|a| &a.whole).filter(|a| a.tracked_ms > 0.0) {
        let minutes = a.tracked_ms / 60_000.0;
        put(TIME_ACTIVE_PCT, a.time_active_pct);
        put(DISTANCE_HW_PER_MIN, Some(a.distance / minutes));
        put(AREA_HW2, Some(a.area));
        put(
            MICRO_MOVEMENTS_PER_MIN,
            Some(f64::from(a.micro_movements) / minutes),
        );
        put(MOTION_SIMPLICITY, a.motion_simplicity);
    }
    p
}

/// Which way of a metric is atypical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Higher values are more atypical.
    Higher,
    /// Lower values are more atypical.
    Lower,
}

/// A child's sex, as the norms are split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
}

/// The sex of a norm row: one sex, or both together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormSex {
    Female,
    Male,
    All,
}

impl NormSex {
    fn parse(s: &str) -> Option<NormSex> {
        match s {
            "female" => Some(NormSex::Female),
            "male" => Some(NormSex::Male),
            "all" => Some(NormSex::All),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            NormSex::Female => "female",
            NormSex::Male => "male",
            NormSex::All => "all",
        }
    }

    fn matches(self, sex: Option<Sex>) -> bool {
        matches!(
            (self, sex),
            (NormSex::Female, Some(Sex::Female)) | (NormSex::Male, Some(Sex::Male))
        )
    }
}

/// The three summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SummaryKind {
    Activity,
    Inattention,
    Impulsivity,
}

impl SummaryKind {
    pub const ALL: [SummaryKind; 3] = [
        SummaryKind::Activity,
        SummaryKind::Inattention,
        SummaryKind::Impulsivity,
    ];

    fn parse(s: &str) -> Option<SummaryKind> {
        match s {
            "activity" => Some(SummaryKind::Activity),
            "inattention" => Some(SummaryKind::Inattention),
            "impulsivity" => Some(SummaryKind::Impulsivity),
            _ => None,
        }
    }
}

/// The sample the norms come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub name: String,
    pub size: u32,
    pub source: String,
}

/// A normed metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSpec {
    pub name: String,
    pub direction: Direction,
    /// Test-retest reliability, for the reliable change index.
    #[serde(default)]
    pub retest_r: Option<f64>,
}

/// A metric's weight in a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Weight {
    pub summary: SummaryKind,
    pub metric: String,
    pub weight: f64,
}

/// Mean and SD of one metric in one age band and sex.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormRow {
    pub age_min: u8,
    pub age_max: u8,
    pub sex: NormSex,
    pub metric: String,
    pub n: u32,
    pub mean: f64,
    pub sd: f64,
}

/// How many children of an age band, sex and ethnic group the sample holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupCount {
    pub age_min: u8,
    pub age_max: u8,
    pub sex: NormSex,
    pub ethnic_group: String,
    pub count: u32,
}

/// A norms table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormsTable {
    /// Shown on every report that uses these norms.
    pub label: String,
    /// Not for clinical use.
    pub illustrative: bool,
    pub task: TaskVersion,
    pub sample: Sample,
    pub metrics: Vec<MetricSpec>,
    pub weights: Vec<Weight>,
    pub rows: Vec<NormRow>,
    #[serde(default)]
    pub groups: Vec<GroupCount>,
}

/// One parameter against its norm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QScore {
    pub metric: String,
    pub value: f64,
    pub mean: f64,
    pub sd: f64,
    /// `(value - mean) / sd`.
    pub z: f64,
    /// `z` turned so that higher is more atypical.
    pub q: f64,
    /// `100 Φ(q)`.
    pub percentile: f64,
    pub atypical: bool,
}

/// One of the three summaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryScore {
    pub kind: SummaryKind,
    /// The weighted mean of the Q-scores used; `None` when none was measured.
    pub value: Option<f64>,
    pub used: Vec<String>,
    pub missing: Vec<String>,
    pub atypical: Option<bool>,
}

/// A test against its norms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub label: String,
    pub illustrative: bool,
    pub task: TaskVersion,
    pub age_min: u8,
    pub age_max: u8,
    pub sex: NormSex,
    pub threshold: f64,
    pub scores: Vec<QScore>,
    /// Normed metrics the test did not give.
    pub not_measured: Vec<String>,
    pub summaries: Vec<SummaryScore>,
}

/// The reliable change index between two tests.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReliableChange {
    /// `score2 - score1`.
    pub change: f64,
    /// `sd * sqrt(2 (1 - r))`, the standard error of a difference.
    pub se_diff: f64,
    /// `change / se_diff`.
    pub rci: f64,
    /// `|rci| > 1.96`: a change larger than the measurement error.
    pub reliable: bool,
}

/// The reliable change index (DOMAIN.md section 15): `(score2 - score1) / (sd sqrt(2 (1 -
/// r)))`, reliable beyond 1.96.
pub fn reliable_change(
    score1: f64,
    score2: f64,
    sd: f64,
    r: f64,
) -> Result<ReliableChange, CptError> {
    for (name, v) in [("score1", score1), ("score2", score2)] {
        crate::error::finite(|| name.into(), v)?;
    }
    if !(sd.is_finite() && sd > 0.0) {
        return Err(CptError::new("sd", "a finite number above 0", sd));
    }
    check_r(r).map_err(|(e, f)| CptError::new("retest_r", e, f))?;
    let change = score2 - score1;
    let se_diff = sd * (2.0 * (1.0 - r)).sqrt();
    let rci = change / se_diff;
    Ok(ReliableChange {
        change,
        se_diff,
        rci,
        reliable: rci.abs() > 1.96,
    })
}

/// A metric's change between two tests, with its direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricChange {
    pub metric: String,
    pub change: ReliableChange,
    /// Whether the second test is more atypical than the first.
    pub toward_atypical: bool,
}

type Problem = (String, String);

fn check_r(r: f64) -> Result<(), Problem> {
    if r.is_finite() && (0.0..1.0).contains(&r) {
        Ok(())
    } else {
        Err(("a reliability from 0 to below 1".into(), r.to_string()))
    }
}

fn check_row(r: &NormRow) -> Result<(), (&'static str, String, String)> {
    if r.age_max < r.age_min {
        return Err((
            "age_max",
            format!("no less than age_min ({})", r.age_min),
            r.age_max.to_string(),
        ));
    }
    if r.n < 2 {
        return Err(("n", "at least 2 children".into(), r.n.to_string()));
    }
    if !r.mean.is_finite() {
        return Err(("mean", "a finite number".into(), r.mean.to_string()));
    }
    if !(r.sd.is_finite() && r.sd > 0.0) {
        return Err(("sd", "a finite number above 0".into(), r.sd.to_string()));
    }
    Ok(())
}

fn check_weight(w: f64) -> Result<(), Problem> {
    if w.is_finite() && w > 0.0 {
        Ok(())
    } else {
        Err(("a finite weight above 0".into(), w.to_string()))
    }
}

fn band(a: u8, b: u8) -> String {
    format!("{a}-{b}")
}

impl NormsTable {
    /// Parses and checks a norms table in JSON.
    pub fn from_json(text: &str) -> Result<NormsTable, CptError> {
        let t: NormsTable = serde_json::from_str(text)
            .map_err(|e| CptError::new("json", "a norms table", e.to_string()).at_line(e.line()))?;
        for (i, r) in t.rows.iter().enumerate() {
            check_row(r).map_err(|(f, e, v)| CptError::new(format!("rows[{i}].{f}"), e, v))?;
        }
        for (i, m) in t.metrics.iter().enumerate() {
            if let Some(r) = m.retest_r {
                check_r(r)
                    .map_err(|(e, v)| CptError::new(format!("metrics[{i}].retest_r"), e, v))?;
            }
        }
        for (i, w) in t.weights.iter().enumerate() {
            check_weight(w.weight)
                .map_err(|(e, v)| CptError::new(format!("weights[{i}].weight"), e, v))?;
        }
        t.validate()?;
        Ok(t)
    }

    /// Parses and checks a norms table in the CSV format of the module documentation. Errors
    /// give the line and the field.
    pub fn from_csv(text: &str) -> Result<NormsTable, CptError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut meta: BTreeMap<String, (usize, String)> = BTreeMap::new();
        let mut metrics = Vec::new();
        let mut weights = Vec::new();
        let mut rows = Vec::new();
        let mut groups = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let err = |field: &str, expected: &str, found: &str| {
                CptError::new(field, expected, format!("{found:?}")).at_line(line)
            };
            let f = crate::csv::fields(trimmed).map_err(|e| err("record", &e, trimmed))?;
            let kind = f[0].as_str();
            let want = |n: usize, shape: &str| {
                if f.len() == n {
                    Ok(())
                } else {
                    Err(CptError::new(
                        kind,
                        format!("{n} fields: {shape}"),
                        format!("{} fields", f.len()),
                    )
                    .at_line(line))
                }
            };
            let num = |k: usize, name: &str| -> Result<f64, CptError> {
                let field = format!("{kind}.{name}");
                match f[k].parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(v),
                    _ => Err(err(&field, "a finite number", &f[k])),
                }
            };
            let int = |k: usize, name: &str| -> Result<u32, CptError> {
                f[k].parse::<u32>()
                    .map_err(|_| err(&format!("{kind}.{name}"), "a whole number", &f[k]))
            };
            let age = |k: usize, name: &str| -> Result<u8, CptError> {
                f[k].parse::<u8>()
                    .map_err(|_| err(&format!("{kind}.{name}"), "an age in whole years", &f[k]))
            };
            let sex = |k: usize| {
                NormSex::parse(&f[k])
                    .ok_or_else(|| err(&format!("{kind}.sex"), "female, male or all", &f[k]))
            };
            match kind {
                "meta" | "sample" => {
                    want(3, &format!("{kind},<key>,<value>"))?;
                    let known: &[&str] = if kind == "meta" {
                        &["label", "illustrative", "task"]
                    } else {
                        &["name", "size", "source"]
                    };
                    if !known.contains(&f[1].as_str()) {
                        return Err(err(
                            &format!("{kind}.key"),
                            &format!("one of {}", known.join(", ")),
                            &f[1],
                        ));
                    }
                    let key = format!("{kind}.{}", f[1]);
                    if meta.contains_key(&key) {
                        return Err(err(&key, "one record", "a second one"));
                    }
                    meta.insert(key, (line, f[2].clone()));
                }
                "metric" => {
                    want(4, "metric,<name>,<higher|lower>,<retest r or empty>")?;
                    let direction = match f[2].as_str() {
                        "higher" => Direction::Higher,
                        "lower" => Direction::Lower,
                        _ => return Err(err("metric.direction", "higher or lower", &f[2])),
                    };
                    let retest_r = if f[3].is_empty() {
                        None
                    } else {
                        let r = num(3, "retest_r")?;
                        check_r(r).map_err(|(e, _)| err("metric.retest_r", &e, &f[3]))?;
                        Some(r)
                    };
                    metrics.push(MetricSpec {
                        name: f[1].clone(),
                        direction,
                        retest_r,
                    });
                }
                "weight" => {
                    want(4, "weight,<summary>,<metric>,<weight>")?;
                    let summary = SummaryKind::parse(&f[1]).ok_or_else(|| {
                        err(
                            "weight.summary",
                            "activity, inattention or impulsivity",
                            &f[1],
                        )
                    })?;
                    let weight = num(3, "weight")?;
                    check_weight(weight).map_err(|(e, _)| err("weight.weight", &e, &f[3]))?;
                    weights.push(Weight {
                        summary,
                        metric: f[2].clone(),
                        weight,
                    });
                }
                "norm" => {
                    want(8, "norm,<age_min>,<age_max>,<sex>,<metric>,<n>,<mean>,<sd>")?;
                    let row = NormRow {
                        age_min: age(1, "age_min")?,
                        age_max: age(2, "age_max")?,
                        sex: sex(3)?,
                        metric: f[4].clone(),
                        n: int(5, "n")?,
                        mean: num(6, "mean")?,
                        sd: num(7, "sd")?,
                    };
                    check_row(&row).map_err(|(field, e, _)| {
                        let k = ["", "age_min", "age_max", "", "", "n", "mean", "sd"]
                            .iter()
                            .position(|n| *n == field)
                            .unwrap_or(0);
                        err(&format!("norm.{field}"), &e, &f[k])
                    })?;
                    rows.push(row);
                }
                "group" => {
                    want(
                        6,
                        "group,<age_min>,<age_max>,<sex>,<ethnic group>,<children>",
                    )?;
                    groups.push(GroupCount {
                        age_min: age(1, "age_min")?,
                        age_max: age(2, "age_max")?,
                        sex: sex(3)?,
                        ethnic_group: f[4].clone(),
                        count: int(5, "count")?,
                    });
                }
                _ => {
                    return Err(err(
                        "record",
                        "meta, sample, metric, weight, norm or group",
                        &f[0],
                    ));
                }
            }
        }
        let get = |key: &str| -> Result<(usize, String), CptError> {
            meta.get(key)
                .cloned()
                .ok_or_else(|| CptError::new(key, format!("a {key} record"), "none"))
        };
        let (line, task) = get("meta.task")?;
        let task = TaskVersion::from_id(&task).ok_or_else(|| {
            CptError::new("meta.task", "go_no_go or one_back", format!("{task:?}")).at_line(line)
        })?;
        let (line, illustrative) = get("meta.illustrative")?;
        let illustrative = match illustrative.as_str() {
            "true" => true,
            "false" => false,
            other => {
                return Err(CptError::new(
                    "meta.illustrative",
                    "true or false",
                    format!("{other:?}"),
                )
                .at_line(line));
            }
        };
        let (line, size) = get("sample.size")?;
        let size = size.parse::<u32>().map_err(|_| {
            CptError::new("sample.size", "a whole number", format!("{size:?}")).at_line(line)
        })?;
        let t = NormsTable {
            label: get("meta.label")?.1,
            illustrative,
            task,
            sample: Sample {
                name: get("sample.name")?.1,
                size,
                source: get("sample.source")?.1,
            },
            metrics,
            weights,
            rows,
            groups,
        };
        t.validate()?;
        Ok(t)
    }

    /// The checks of a whole table (both formats).
    fn validate(&self) -> Result<(), CptError> {
        for (field, v) in [
            ("label", &self.label),
            ("sample.name", &self.sample.name),
            ("sample.source", &self.sample.source),
        ] {
            if v.trim().is_empty() {
                return Err(CptError::new(field, "some text", "nothing"));
            }
        }
        if self.sample.size == 0 {
            return Err(CptError::new("sample.size", "at least 1 child", 0));
        }
        if self.metrics.is_empty() {
            return Err(CptError::new("metrics", "at least one metric", "none"));
        }
        let mut names = BTreeSet::new();
        for m in &self.metrics {
            if m.name.is_empty() || !names.insert(m.name.as_str()) {
                return Err(CptError::new(
                    "metric.name",
                    "a name given once",
                    format!("{:?}", m.name),
                ));
            }
        }
        let mut seen = BTreeSet::new();
        for w in &self.weights {
            if !names.contains(w.metric.as_str()) {
                return Err(CptError::new(
                    "weight.metric",
                    "a metric declared by a metric record",
                    format!("{:?}", w.metric),
                ));
            }
            if !seen.insert((w.summary, w.metric.as_str())) {
                return Err(CptError::new(
                    "weight.metric",
                    "one weight per summary and metric",
                    format!("{:?} twice in {:?}", w.metric, w.summary),
                ));
            }
        }
        if self.rows.is_empty() {
            return Err(CptError::new("norm", "at least one norm record", "none"));
        }
        // Cells (band, sex) -> metrics present.
        let mut cells: BTreeMap<(NormSex, u8, u8), BTreeSet<&str>> = BTreeMap::new();
        for r in &self.rows {
            if !names.contains(r.metric.as_str()) {
                return Err(CptError::new(
                    "norm.metric",
                    "a metric declared by a metric record",
                    format!("{:?}", r.metric),
                ));
            }
            if r.n > self.sample.size {
                return Err(CptError::new(
                    "norm.n",
                    format!("no more than the sample's size ({})", self.sample.size),
                    format!(
                        "{} for {} {} {}",
                        r.n,
                        r.metric,
                        band(r.age_min, r.age_max),
                        r.sex.name()
                    ),
                ));
            }
            let set = cells.entry((r.sex, r.age_min, r.age_max)).or_default();
            if !set.insert(r.metric.as_str()) {
                return Err(CptError::new(
                    "norm",
                    "one record per age band, sex and metric",
                    format!(
                        "{} twice for {} {}",
                        r.metric,
                        band(r.age_min, r.age_max),
                        r.sex.name()
                    ),
                ));
            }
        }
        for ((sex, a, b), present) in &cells {
            if let Some(m) = names.iter().find(|m| !present.contains(*m)) {
                return Err(CptError::new(
                    "norm",
                    format!(
                        "a record for every metric in {} {}",
                        band(*a, *b),
                        sex.name()
                    ),
                    format!("none for {m}"),
                ));
            }
        }
        let mut bands: BTreeMap<NormSex, Vec<(u8, u8)>> = BTreeMap::new();
        for (sex, a, b) in cells.keys() {
            bands.entry(*sex).or_default().push((*a, *b));
        }
        let show = |v: &[(u8, u8)]| {
            v.iter()
                .map(|(a, b)| band(*a, *b))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut first: Option<(NormSex, &Vec<(u8, u8)>)> = None;
        for (sex, list) in &bands {
            for w in list.windows(2) {
                let ((a1, b1), (a2, b2)) = (w[0], w[1]);
                if a2 <= b1 {
                    return Err(CptError::new(
                        "norm.age_min",
                        format!("age bands for {} that do not overlap", sex.name()),
                        format!("{} and {}", band(a1, b1), band(a2, b2)),
                    ));
                }
                if u16::from(a2) != u16::from(b1) + 1 {
                    return Err(CptError::new(
                        "norm.age_min",
                        format!("age bands for {} with no gap between them", sex.name()),
                        format!(
                            "{} then {} ({} missing)",
                            band(a1, b1),
                            band(a2, b2),
                            band(b1 + 1, a2 - 1)
                        ),
                    ));
                }
            }
            match first {
                None => first = Some((*sex, list)),
                Some((s0, l0)) if l0 != list => {
                    return Err(CptError::new(
                        "norm",
                        format!(
                            "the same age bands for {} as for {} ({})",
                            sex.name(),
                            s0.name(),
                            show(l0)
                        ),
                        show(list),
                    ));
                }
                Some(_) => {}
            }
        }
        if !self.groups.is_empty() {
            let total: u64 = self.groups.iter().map(|g| u64::from(g.count)).sum();
            if total != u64::from(self.sample.size) {
                return Err(CptError::new(
                    "group.count",
                    format!(
                        "group counts adding up to the sample size ({})",
                        self.sample.size
                    ),
                    total,
                ));
            }
        }
        Ok(())
    }

    /// The metric's declaration.
    pub fn metric(&self, name: &str) -> Option<&MetricSpec> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// The age band and sex of the rows matched to a child: the child's own sex if the file has
    /// it, otherwise `all`.
    pub fn matched(&self, age: u8, sex: Option<Sex>) -> Result<(u8, u8, NormSex), CptError> {
        let in_band = |r: &&NormRow| r.age_min <= age && age <= r.age_max;
        let hit = self
            .rows
            .iter()
            .filter(in_band)
            .find(|r| r.sex.matches(sex))
            .or_else(|| {
                self.rows
                    .iter()
                    .filter(in_band)
                    .find(|r| r.sex == NormSex::All)
            });
        match hit {
            Some(r) => Ok((r.age_min, r.age_max, r.sex)),
            None => Err(CptError::new(
                "age",
                format!(
                    "an age and sex the norms \"{}\" cover ({})",
                    self.sample.name,
                    self.coverage()
                ),
                match sex {
                    Some(Sex::Female) => format!("{age}, female"),
                    Some(Sex::Male) => format!("{age}, male"),
                    None => format!("{age}, sex not recorded"),
                },
            )),
        }
    }

    fn coverage(&self) -> String {
        let mut per: BTreeMap<NormSex, (u8, u8)> = BTreeMap::new();
        for r in &self.rows {
            let e = per.entry(r.sex).or_insert((r.age_min, r.age_max));
            e.0 = e.0.min(r.age_min);
            e.1 = e.1.max(r.age_max);
        }
        per.iter()
            .map(|(s, (a, b))| format!("{} {}", s.name(), band(*a, *b)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn row(&self, band: (u8, u8, NormSex), metric: &str) -> Option<&NormRow> {
        self.rows
            .iter()
            .find(|r| (r.age_min, r.age_max, r.sex) == band && r.metric == metric)
    }

    /// How many children of the child's age band, sex and ethnic group the sample holds
    /// (`None` when the file gives no make-up). Ethnic groups compare without regard to case.
    pub fn group_count(&self, age: u8, sex: Option<Sex>, ethnic_group: &str) -> Option<u32> {
        if self.groups.is_empty() {
            return None;
        }
        Some(
            self.groups
                .iter()
                .filter(|g| g.age_min <= age && age <= g.age_max)
                .filter(|g| g.sex == NormSex::All || g.sex.matches(sex))
                .filter(|g| g.ethnic_group.eq_ignore_ascii_case(ethnic_group))
                .map(|g| g.count)
                .sum(),
        )
    }

    /// Q-scores of a test's parameters (from [`parameters`]) and the three summaries.
    pub fn assess(
        &self,
        task: TaskVersion,
        params: &BTreeMap<String, f64>,
        age: u8,
        sex: Option<Sex>,
        threshold: f64,
    ) -> Result<Assessment, CptError> {
        if task != self.task {
            return Err(CptError::new(
                "task",
                format!("the norms' task ({})", self.task.id()),
                task.id(),
            ));
        }
        if !(threshold.is_finite() && threshold > 0.0) {
            return Err(CptError::new(
                "threshold",
                "a finite number above 0",
                threshold,
            ));
        }
        for (name, v) in params {
            crate::error::finite(|| format!("parameters.{name}"), *v)?;
        }
        let matched = self.matched(age, sex)?;
        let mut scores = Vec::new();
        let mut not_measured = Vec::new();
        for m in &self.metrics {
            let Some(&value) = params.get(&m.name) else {
                not_measured.push(m.name.clone());
                continue;
            };
            // Validation guarantees every metric has a row in the matched cell.
            let Some(row) = self.row(matched, &m.name) else {
                not_measured.push(m.name.clone());
                continue;
            };
            let z = (value - row.mean) / row.sd;
            let q = match m.direction {
                Direction::Higher => z,
                Direction::Lower => -z,
            };
            scores.push(QScore {
                metric: m.name.clone(),
                value,
                mean: row.mean,
                sd: row.sd,
                z,
                q,
                percentile: 100.0 * normal_cdf(q),
                atypical: q >= threshold,
            });
        }
        let summaries = SummaryKind::ALL
            .iter()
            .map(|&kind| {
                let (mut sum, mut wsum) = (0.0, 0.0);
                let (mut used, mut missing) = (Vec::new(), Vec::new());
                for w in self.weights.iter().filter(|w| w.summary == kind) {
                    match scores.iter().find(|s| s.metric == w.metric) {
                        Some(s) => {
                            sum += w.weight * s.q;
                            wsum += w.weight;
                            used.push(w.metric.clone());
                        }
                        None => missing.push(w.metric.clone()),
                    }
                }
                let value = (wsum > 0.0).then(|| sum / wsum);
                SummaryScore {
                    kind,
                    value,
                    used,
                    missing,
                    atypical: value.map(|v| v >= threshold),
                }
            })
            .collect();
        Ok(Assessment {
            label: self.label.clone(),
            illustrative: self.illustrative,
            task: self.task,
            age_min: matched.0,
            age_max: matched.1,
            sex: matched.2,
            threshold,
            scores,
            not_measured,
            summaries,
        })
    }

    /// The reliable change in one metric between two tests of the same child, with the SD of
    /// the child's norm row (at the first test's age) and the metric's test-retest r.
    pub fn reliable_change(
        &self,
        metric: &str,
        age: u8,
        sex: Option<Sex>,
        score1: f64,
        score2: f64,
    ) -> Result<MetricChange, CptError> {
        let spec = self.metric(metric).ok_or_else(|| {
            CptError::new("metric", "a metric of the norms", format!("{metric:?}"))
        })?;
        let r = spec.retest_r.ok_or_else(|| {
            CptError::new(
                format!("{metric}.retest_r"),
                "a test-retest reliability in the norms",
                "none",
            )
        })?;
        let matched = self.matched(age, sex)?;
        let row = self
            .row(matched, metric)
            .ok_or_else(|| CptError::new("norm", format!("a row for {metric}"), "none"))?;
        let change = reliable_change(score1, score2, row.sd, r)?;
        let toward_atypical = match spec.direction {
            Direction::Higher => change.change > 0.0,
            Direction::Lower => change.change < 0.0,
        };
        Ok(MetricChange {
            metric: metric.into(),
            change,
            toward_atypical,
        })
    }
}
