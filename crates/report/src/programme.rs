//! The programme's two printed reports, built from the same charts the pages draw
//! (`measures::chart::analyse`, so saved annotations rebase, targets apply and disclosure
//! control holds exactly as on screen):
//!
//! - the **monthly ward safety report**: the ward's own chart of every programme measure with
//!   its icons, what changed since last month's report, the ward's improvement projects with
//!   their scores and open cycles; compared with the ward's own past, never a league table;
//! - the **trust board report**: the Making Data Count summary matrix of the trust's measures,
//!   the chart of every measure with a special cause or a failing assurance, and the
//!   annotations and PDSA cycles that explain them.
//!
//! A report is "as at" a month: every series is cut at that month's end, so last month's
//! report can be made again and reads as it did.

use crate::{Block, Document, SpcChart, Table};
use domain::dates::{PeriodKind, iso};
use domain::disclosure::Policy;
use domain::measures::{Measure, Objective};
use measures::chart::{Analysed, Request, WITHHELD, analyse, withheld};
use measures::notes::Annotation;
use measures::series::MeasureSeries;
use spc::{Assurance, PointType, Variation};
use time::Date;

/// One measure of the organisation the report is about.
pub struct MeasureInput<'a> {
    pub measure: &'a Measure,
    pub series: &'a MeasureSeries,
    /// The organisation's saved notes for this measure (and those for every measure).
    pub notes: &'a [Annotation],
}

/// An improvement project as a report lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectLine {
    pub title: String,
    pub status: String,
    /// The platform's suggestion on the IHI scale, and the score the team set, if any.
    pub suggested: Option<f64>,
    pub set: Option<f64>,
    pub open_cycles: usize,
}

/// A PDSA cycle as the board report lists it beside the charts it explains.
#[derive(Clone, Debug, PartialEq)]
pub struct CycleLine {
    /// Where it ran (a ward's name).
    pub place: String,
    pub change_idea: String,
    pub start: Option<Date>,
    pub end: Option<Date>,
    /// Adopt, adapt or abandon, or empty while it runs.
    pub act: String,
    /// The catalogue measures its project watches.
    pub measures: Vec<String>,
}

/// Who the report is about, as at which month, for whom.
pub struct About<'a> {
    /// e.g. "Ash Ward", "Northfield Mental Health NHS Foundation Trust".
    pub name: &'a str,
    /// The line under the title besides the month, e.g. the trust of a ward.
    pub context: &'a str,
    /// The first day of the report's month.
    pub month: Date,
    /// The foot of every page: when it was made and from which uploads.
    pub footer: String,
    /// Disclosure control, when the reader is outside the organisation.
    pub policy: Option<&'a Policy>,
}

/// One measure analysed as at a month and as at the month before.
struct Judged<'a> {
    input: &'a MeasureInput<'a>,
    now: Option<Analysed>,
    before: Option<Analysed>,
    cut: MeasureSeries,
    withheld: bool,
}

fn cut(series: &MeasureSeries, end: Date) -> MeasureSeries {
    MeasureSeries {
        measure: series.measure,
        org: series.org.clone(),
        points: series
            .points
            .iter()
            .filter(|p| p.period < end)
            .cloned()
            .collect(),
    }
}

fn judge<'a>(input: &'a MeasureInput<'a>, about: &About<'_>) -> Judged<'a> {
    let month_end = PeriodKind::Month.next_start(about.month);
    let now_series = cut(input.series, month_end);
    let before_series = cut(input.series, about.month);
    let analyse_one = |s: &MeasureSeries| {
        analyse(&Request::standard(
            input.measure,
            s,
            PeriodKind::Month,
            input.measure.title.to_string(),
            input.notes,
            about.policy,
        ))
        .ok()
    };
    let withheld = withheld(&Request::standard(
        input.measure,
        &now_series,
        PeriodKind::Month,
        String::new(),
        input.notes,
        about.policy,
    ));
    Judged {
        input,
        now: analyse_one(&now_series),
        before: analyse_one(&before_series),
        cut: now_series,
        withheld,
    }
}

/// The latest shown value of an analysis and the label of its period.
fn latest(a: &Analysed) -> Option<(String, f64)> {
    a.analysis
        .points
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, p)| p.value.map(|v| (a.labels[i].clone(), v)))
}

fn variation_words(v: Option<Variation>) -> &'static str {
    match v {
        None => "Too few points to judge",
        Some(Variation::CommonCause) => "Common cause",
        Some(Variation::ImprovementHigh | Variation::ImprovementLow) => {
            "Special cause: improvement"
        }
        Some(Variation::ConcernHigh | Variation::ConcernLow) => "Special cause: concern",
        Some(Variation::NeutralHigh) => "Special cause: higher",
        Some(Variation::NeutralLow) => "Special cause: lower",
    }
}

fn assurance_words(a: Assurance) -> &'static str {
    match a {
        Assurance::Pass => "Consistently meets the target",
        Assurance::Fail => "Consistently misses the target",
        Assurance::HitOrMiss => "Hit and miss",
        Assurance::None => "No target",
    }
}

fn chart_block(j: &Judged<'_>) -> Block {
    if j.withheld {
        return Block::Paragraph(format!("{}: {WITHHELD}", j.input.measure.title));
    }
    match &j.now {
        Some(a) => Block::Chart(Box::new(SpcChart {
            title: j.input.measure.title.to_string(),
            y_label: j.input.measure.unit.to_string(),
            x_labels: a.labels.clone(),
            analysis: a.analysis.clone(),
            settings: a.settings.clone(),
            annotations: a.notes.iter().map(|n| (n.index, n.text.clone())).collect(),
        })),
        None => Block::Paragraph(format!(
            "{}: the chart could not be drawn from these data.",
            j.input.measure.title
        )),
    }
}

/// The summary table: each measure's latest value (and last month's), variation and assurance.
fn summary_table(judged: &[Judged<'_>], with_previous: bool) -> Table {
    let mut headers = vec!["Measure".to_string(), "Latest".into()];
    if with_previous {
        headers.push("Month before".into());
    }
    headers.extend(["Variation".into(), "Assurance".into()]);
    let rows = judged
        .iter()
        .map(|j| {
            let m = j.input.measure;
            let now = j.now.as_ref();
            let latest_text = match now.and_then(latest) {
                Some((label, v)) => format!("{} ({label})", m.format_value(v)),
                None if j.withheld => "not shown".into(),
                None if j.cut.points.iter().any(|p| p.value.is_some()) => "*".into(),
                None => "no data".into(),
            };
            let mut row = vec![m.title.to_string(), latest_text];
            if with_previous {
                row.push(
                    j.before
                        .as_ref()
                        .and_then(latest)
                        .map(|(label, v)| format!("{} ({label})", m.format_value(v)))
                        .unwrap_or_else(|| "–".into()),
                );
            }
            row.push(variation_words(now.and_then(|a| a.analysis.summary.variation)).into());
            row.push(
                assurance_words(now.map_or(Assurance::None, |a| a.analysis.summary.assurance))
                    .into(),
            );
            row
        })
        .collect();
    Table { headers, rows }
}

/// Sentences for what a reader of last month's report would find different now: a new
/// special cause, one that has ended, a change of assurance, a newly reached or lost target.
fn changes(judged: &[Judged<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    for j in judged {
        let (Some(now), Some(before)) = (&j.now, &j.before) else {
            continue;
        };
        let title = j.input.measure.title;
        let (vn, vb) = (
            now.analysis.summary.variation,
            before.analysis.summary.variation,
        );
        if vn != vb {
            out.push(format!(
                "{title}: variation is now \"{}\" (last report: \"{}\").",
                variation_words(vn),
                variation_words(vb)
            ));
        }
        let (an, ab) = (
            now.analysis.summary.assurance,
            before.analysis.summary.assurance,
        );
        if an != ab {
            out.push(format!(
                "{title}: assurance is now \"{}\" (last report: \"{}\").",
                assurance_words(an),
                assurance_words(ab)
            ));
        }
        let segments = |a: &Analysed| a.analysis.segments.len();
        if segments(now) > segments(before) {
            out.push(format!(
                "{title}: the limits were recalculated from a new starting point (rebased)."
            ));
        }
    }
    out
}

fn month_label(d: Date) -> String {
    PeriodKind::Month.label(d)
}

/// The monthly safety report of one ward.
pub fn ward_report(
    about: &About<'_>,
    inputs: &[MeasureInput<'_>],
    projects: &[ProjectLine],
) -> Document {
    let judged: Vec<Judged<'_>> = inputs.iter().map(|i| judge(i, about)).collect();
    let mut blocks = vec![Block::Notice(
        "This report compares the ward with its own past, not with other wards. A point in \
         blue is a special cause of improvement, in orange a special cause of concern; grey \
         points are common cause variation."
            .into(),
    )];
    if about.policy.is_some() {
        blocks.push(Block::Notice(
            "Figures are disclosure-controlled for you: counts from 1 to 4 are not shown.".into(),
        ));
    }
    blocks.push(Block::Heading("Since the last report".into()));
    let changed = changes(&judged);
    if changed.is_empty() {
        blocks.push(Block::Paragraph(format!(
            "No measure changed its variation or assurance between {} and {}.",
            month_label(PeriodKind::Month.start_of(about.month - time::Duration::days(1))),
            month_label(about.month)
        )));
    } else {
        blocks.extend(changed.into_iter().map(Block::Paragraph));
    }
    blocks.push(Block::Heading("Measures at a glance".into()));
    blocks.push(Block::Table(summary_table(&judged, true)));
    blocks.push(Block::Heading("Improvement projects".into()));
    if projects.is_empty() {
        blocks.push(Block::Paragraph(
            "The ward has no improvement project on the platform.".into(),
        ));
    } else {
        blocks.push(Block::Table(projects_table(projects)));
    }
    for objective in Objective::ALL {
        let of: Vec<&Judged<'_>> = judged
            .iter()
            .filter(|j| j.input.measure.objective == objective)
            .collect();
        if of.is_empty() {
            continue;
        }
        blocks.push(Block::PageBreak);
        blocks.push(Block::Heading(objective.label().to_string()));
        blocks.extend(of.into_iter().map(chart_block));
    }
    Document {
        title: format!("{}: monthly safety report", about.name),
        subtitle: subtitle(about),
        footer: about.footer.clone(),
        blocks,
    }
}

fn subtitle(about: &About<'_>) -> String {
    if about.context.is_empty() {
        month_label(about.month)
    } else {
        format!("{} · {}", month_label(about.month), about.context)
    }
}

fn score_text(s: Option<f64>) -> String {
    s.map_or_else(|| "–".into(), |v| format!("{v:.1}"))
}

fn projects_table(projects: &[ProjectLine]) -> Table {
    Table {
        headers: vec![
            "Project".into(),
            "Status".into(),
            "Suggested score".into(),
            "Score set by the team".into(),
            "Open cycles".into(),
        ],
        rows: projects
            .iter()
            .map(|p| {
                vec![
                    p.title.clone(),
                    p.status.clone(),
                    score_text(p.suggested),
                    score_text(p.set),
                    p.open_cycles.to_string(),
                ]
            })
            .collect(),
    }
}

/// Whether the board should look at this chart: the latest point is a special cause (either
/// way), or the process will consistently miss its target.
fn needs_attention(a: &Analysed) -> bool {
    let s = &a.analysis.summary;
    let special = s.variation.is_some_and(|v| v != Variation::CommonCause)
        || a.analysis
            .points
            .iter()
            .rev()
            .find(|p| p.value.is_some())
            .and_then(|p| p.point_type)
            .is_some_and(PointType::is_special_cause);
    special || s.assurance == Assurance::Fail
}

/// Whether a variation belongs in a row of the summary matrix.
type VariationTest = fn(Option<Variation>) -> bool;

/// The Making Data Count summary matrix: measures placed by their variation (rows) and
/// assurance (columns).
fn matrix(judged: &[Judged<'_>]) -> Table {
    let columns = [
        Assurance::Pass,
        Assurance::HitOrMiss,
        Assurance::Fail,
        Assurance::None,
    ];
    let rows: [(&str, VariationTest); 4] = [
        ("Special cause: improvement", |v| {
            matches!(
                v,
                Some(Variation::ImprovementHigh | Variation::ImprovementLow)
            )
        }),
        ("Common cause", |v| v == Some(Variation::CommonCause)),
        ("Special cause: concern", |v| {
            matches!(v, Some(Variation::ConcernHigh | Variation::ConcernLow))
        }),
        ("Special cause: neither / too few points", |v| {
            matches!(
                v,
                None | Some(Variation::NeutralHigh | Variation::NeutralLow)
            )
        }),
    ];
    let mut headers = vec!["Variation \\ assurance".to_string()];
    headers.extend(columns.iter().map(|a| assurance_words(*a).to_string()));
    Table {
        headers,
        rows: rows
            .iter()
            .map(|(label, test)| {
                let mut row = vec![label.to_string()];
                for col in columns {
                    let names: Vec<&str> = judged
                        .iter()
                        .filter_map(|j| j.now.as_ref().map(|a| (j, a)))
                        .filter(|(_, a)| {
                            test(a.analysis.summary.variation)
                                && a.analysis.summary.assurance == col
                        })
                        .map(|(j, _)| j.input.measure.title)
                        .collect();
                    row.push(names.join("; "));
                }
                row
            })
            .collect(),
    }
}

/// The trust board report.
pub fn board_report(
    about: &About<'_>,
    inputs: &[MeasureInput<'_>],
    cycles: &[CycleLine],
) -> Document {
    let judged: Vec<Judged<'_>> = inputs.iter().map(|i| judge(i, about)).collect();
    let mut blocks = Vec::new();
    if about.policy.is_some() {
        blocks.push(Block::Notice(
            "Figures are disclosure-controlled for you: counts from 1 to 4 are not shown.".into(),
        ));
    }
    blocks.push(Block::Heading("Summary matrix".into()));
    blocks.push(Block::Paragraph(
        "Each measure of the trust, placed by what its latest point says (variation) and whether \
         the process will meet its target (assurance), as Making Data Count reads them."
            .into(),
    ));
    blocks.push(Block::Table(matrix(&judged)));
    blocks.push(Block::Heading("Every measure".into()));
    blocks.push(Block::Table(summary_table(&judged, false)));
    let attention: Vec<&Judged<'_>> = judged
        .iter()
        .filter(|j| !j.withheld && j.now.as_ref().is_some_and(needs_attention))
        .collect();
    blocks.push(Block::PageBreak);
    blocks.push(Block::Heading(
        "Measures with a special cause or a failing assurance".into(),
    ));
    if attention.is_empty() {
        blocks.push(Block::Paragraph(format!(
            "None: as at {}, every measure shows common cause variation and none will \
             consistently miss its target.",
            month_label(about.month)
        )));
    }
    for j in attention {
        blocks.push(chart_block(j));
        let explaining: Vec<&CycleLine> = cycles
            .iter()
            .filter(|c| c.measures.iter().any(|m| m == j.input.measure.id))
            .collect();
        if !explaining.is_empty() {
            blocks.push(Block::Subheading(format!(
                "PDSA cycles on {}",
                j.input.measure.title
            )));
            blocks.push(Block::Table(cycles_table(&explaining)));
        }
    }
    Document {
        title: format!("{}: board report", about.name),
        subtitle: subtitle(about),
        footer: about.footer.clone(),
        blocks,
    }
}

fn cycles_table(cycles: &[&CycleLine]) -> Table {
    let date = |d: Option<Date>| d.map(iso).unwrap_or_else(|| "–".into());
    Table {
        headers: vec![
            "Where".into(),
            "Change idea".into(),
            "Start".into(),
            "End".into(),
            "Act".into(),
        ],
        rows: cycles
            .iter()
            .map(|c| {
                vec![
                    c.place.clone(),
                    c.change_idea.clone(),
                    date(c.start),
                    date(c.end),
                    if c.act.is_empty() {
                        "running".into()
                    } else {
                        c.act.clone()
                    },
                ]
            })
            .collect(),
    }
}
