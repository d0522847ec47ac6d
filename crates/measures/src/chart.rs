//! One measure for one organisation as a Making Data Count chart: disclosure control, the
//! saved annotations and rebases, the SPC analysis, the SVG, and the data table behind it (for
//! screen readers and downloads). Shared by the chart page, its downloads, the API, the
//! summaries, `mhsip chart` and `mhsip measures`, so that every route gives the same numbers.

use crate::notes::Annotation;
use crate::series::{MeasurePoint, MeasureSeries};
use domain::dates::{PeriodKind, iso};
use domain::disclosure::Policy;
use domain::measures::Measure;
use spc::ChartKind;
use time::Date;

/// What to draw.
pub struct Request<'a> {
    pub measure: &'a Measure,
    pub series: &'a MeasureSeries,
    pub period: PeriodKind,
    pub title: String,
    /// Saved notes of the organisation (those outside the series are left out).
    pub annotations: &'a [Annotation],
    /// Start new segments where saved notes say so.
    pub apply_rebase: bool,
    /// Further dates to start a segment at (e.g. "rebase here" on the page, `--rebase`).
    pub rebase_at: &'a [Date],
    /// Extra notes (date, text) that are not saved (e.g. `--annotate`).
    pub extra_notes: &'a [(Date, String)],
    /// Compute the limits from the periods before this date only, and extend them: later points
    /// are judged against how things were before a change (saved rebases are then ignored).
    pub freeze_before: Option<Date>,
    /// Overrides the measure's target.
    pub target: Option<f64>,
    /// Disclosure control, when the figures leave the organisation they describe.
    pub disclosure: Option<&'a Policy>,
}

impl<'a> Request<'a> {
    /// The usual view of a measure: saved annotations (rebasing where they say so), the
    /// measure's own target, nothing else.
    pub fn standard(
        measure: &'a Measure,
        series: &'a MeasureSeries,
        period: PeriodKind,
        title: String,
        annotations: &'a [Annotation],
        disclosure: Option<&'a Policy>,
    ) -> Request<'a> {
        Request {
            measure,
            series,
            period,
            title,
            annotations,
            apply_rebase: true,
            rebase_at: &[],
            extra_notes: &[],
            freeze_before: None,
            target: None,
            disclosure,
        }
    }
}

/// One row of the chart's data table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TableRow {
    pub period: String,
    pub numerator: String,
    pub denominator: String,
    pub value: Option<f64>,
    pub centre: Option<f64>,
    pub lower_limit: Option<f64>,
    pub upper_limit: Option<f64>,
    pub point_type: String,
    pub segment: usize,
    pub annotation: String,
}

pub struct Chart {
    pub title: String,
    pub analysis: spc::Analysis,
    pub settings: spc::Settings,
    pub rows: Vec<TableRow>,
    pub notes: Vec<spc::svg::Annotation>,
    pub svg: String,
    /// Disclosure control withholds this chart's points (see [`WITHHELD`]).
    pub withheld: bool,
}

/// The analysis alone (what a summary row needs): values after disclosure control, the
/// measure's settings with target and rebases, the notes placed on points, and point labels.
pub struct Analysed {
    pub analysis: spc::Analysis,
    pub settings: spc::Settings,
    pub notes: Vec<spc::svg::Annotation>,
    pub labels: Vec<String>,
}

/// Whether disclosure control withholds the whole chart: event-level measures (one point per
/// incident, dated) are never shown outside the organisation (`domain::disclosure`).
pub fn withheld(req: &Request<'_>) -> bool {
    req.disclosure.is_some() && req.measure.is_event_level()
}

/// What a disclosure-controlled viewer reads instead of an event-level chart.
pub const WITHHELD: &str = "Days between incidents date every single incident, so they are not shown outside the organisation they describe. The monthly rate of the same incidents is shown, under disclosure control, on its own chart.";

/// The points a request may show: none at all when the chart is withheld.
fn visible_points<'a>(req: &Request<'a>) -> &'a [MeasurePoint] {
    if withheld(req) {
        &[]
    } else {
        &req.series.points
    }
}

pub fn analyse(req: &Request<'_>) -> Result<Analysed, spc::SpcError> {
    let m = req.measure;
    let points = visible_points(req);
    let index_of = |d: Date| points.partition_point(|p| p.period < d);
    let shown: Vec<Option<f64>> = points
        .iter()
        .map(|p| match req.disclosure {
            Some(policy) => m.disclosed_value(policy, p.value, p.numerator, p.denominator),
            None => p.value,
        })
        .collect();
    // A P chart (FREED's clocks) is drawn from counts: each point's numerator out of its
    // denominator, as published when disclosure control applies; a suppressed point is a gap.
    type Column = Vec<Option<f64>>;
    let counts: Option<(Column, Column)> = m.chart.needs_denominator().then(|| {
        points
            .iter()
            .zip(&shown)
            .map(|(p, v)| {
                let published = match (req.disclosure, v) {
                    (_, None) => None,
                    (None, Some(_)) => Some((p.numerator, p.denominator)),
                    (Some(policy), Some(_)) => policy
                        .publish(m.figure(p.value.unwrap_or(0.0), p.numerator, p.denominator))
                        .map(|x| (x.numerator as f64, x.denominator)),
                };
                match published {
                    Some((n, Some(d))) if d > 0.0 => (Some(n), Some(d)),
                    _ => (None, None),
                }
            })
            .unzip()
    });
    let mut settings = m.spc_settings();
    settings.target = req.target.or(m.target);
    let first = points.first().map(|p| p.period);
    let last_end = points.last().map(|p| req.period.next_start(p.period));
    let inside = |d: Date| first.is_some_and(|f| d >= f) && last_end.is_some_and(|e| d < e);
    let mut notes = Vec::new();
    for a in req.annotations {
        if !inside(a.date) {
            continue;
        }
        if a.rebase && req.apply_rebase {
            settings.segment_starts.push(index_of(a.date));
        }
        notes.push(spc::svg::Annotation {
            index: index_of(a.date),
            text: format!(
                "{} {}{}",
                iso(a.date),
                a.text,
                if a.rebase && req.apply_rebase {
                    " (rebased)"
                } else {
                    ""
                }
            ),
        });
    }
    for (d, text) in req.extra_notes {
        if inside(*d) {
            notes.push(spc::svg::Annotation {
                index: index_of(*d),
                text: format!("{} {}", iso(*d), text.trim()),
            });
        }
    }
    for d in req.rebase_at {
        if inside(*d) {
            settings.segment_starts.push(index_of(*d));
        }
    }
    settings.segment_starts.sort_unstable();
    settings.segment_starts.dedup();
    settings.segment_starts.retain(|&i| i > 0);
    if let Some(d) = req.freeze_before.filter(|d| inside(*d)) {
        settings.segment_starts.clear();
        settings.baseline = Some(index_of(d)).filter(|&n| n >= 2);
    }
    let analysis = match &counts {
        Some((n, d)) => spc::analyse(&spc::Series::with_denominators(n, d), &settings)?,
        None => spc::analyse(&spc::Series::values(&shown), &settings)?,
    };
    let labels: Vec<String> = points
        .iter()
        .map(|p| {
            if m.chart == ChartKind::G {
                iso(p.period)
            } else {
                req.period.label(p.period)
            }
        })
        .collect();
    Ok(Analysed {
        analysis,
        settings,
        notes,
        labels,
    })
}

pub fn build(req: &Request<'_>) -> Result<Chart, spc::SpcError> {
    let m = req.measure;
    let points = visible_points(req);
    let Analysed {
        analysis,
        settings,
        notes,
        labels,
    } = analyse(req)?;
    let svg = spc::svg::render(
        &analysis,
        &settings,
        &spc::svg::Labels {
            title: &req.title,
            x_labels: &labels,
            y_label: m.unit,
            annotations: &notes,
        },
    );
    let rows = points
        .iter()
        .zip(&analysis.points)
        .enumerate()
        .map(|(i, (p, a))| TableRow {
            period: labels[i].clone(),
            numerator: shown_numerator(m, p, a.value, req.disclosure),
            denominator: shown_denominator(p, req.disclosure),
            value: a.value.map(round4),
            centre: a.centre.map(round4),
            lower_limit: a.lower_limit.map(round4),
            upper_limit: a.upper_limit.map(round4),
            point_type: a
                .point_type
                .map(|t| t.as_str().to_string())
                .unwrap_or_else(|| {
                    if p.value.is_some() {
                        "suppressed".into()
                    } else {
                        String::new()
                    }
                }),
            segment: a.segment,
            annotation: notes
                .iter()
                .filter(|n| n.index == i)
                .map(|n| n.text.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        })
        .collect();
    Ok(Chart {
        title: req.title.clone(),
        analysis,
        settings,
        rows,
        notes,
        svg,
        withheld: withheld(req),
    })
}

/// A count as a table cell: exact inside the organisation, `*` or rounded outside it.
fn shown_count(x: f64, disclosure: Option<&Policy>) -> String {
    match disclosure {
        Some(policy) => policy.count(x.round().max(0.0) as u64).to_string(),
        None => trim_number(x),
    }
}

/// A point's numerator as a table cell (chart tables, downloads, the API, `mhsip measures`):
/// a count follows the count rule; a statistic (a median) is shown as charted (`shown_value`,
/// after disclosure control), `*` when suppressed; days between incidents as they are.
pub fn shown_numerator(
    m: &Measure,
    p: &MeasurePoint,
    shown_value: Option<f64>,
    disclosure: Option<&Policy>,
) -> String {
    match disclosure {
        Some(_) if is_statistic(m) => shown_value.map(trim_number).unwrap_or_else(|| "*".into()),
        _ if m.chart == ChartKind::G || is_statistic(m) => trim_number(p.numerator),
        _ => shown_count(p.numerator, disclosure),
    }
}

/// A point's denominator as a table cell: bed days, people or events, rounded outside the
/// organisation like any count.
pub fn shown_denominator(p: &MeasurePoint, disclosure: Option<&Policy>) -> String {
    p.denominator
        .map(|d| shown_count(d, disclosure))
        .unwrap_or_default()
}

fn is_statistic(m: &Measure) -> bool {
    matches!(
        m.figure(0.0, 0.0, None),
        domain::disclosure::Figure::Statistic { .. }
    )
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn trim_number(x: f64) -> String {
    format!("{}", round4(x))
}

/// The chart kind in words, for people who do not read SPC every day.
pub fn explain(kind: ChartKind) -> &'static str {
    match kind {
        ChartKind::Xmr => {
            "An XmR chart (Making Data Count): each point is one period's value; the centre line is the mean, and the process limits (mean ± 2.66 × the average moving range) show how far values vary by chance. A point outside the limits, a run of 7 on one side of the mean, a trend of 7 rising or falling, or 2 of 3 points near a limit is special cause variation: something changed."
        }
        ChartKind::Run => {
            "A run chart: points around their median. Unusually long runs on one side of the median, or too few crossings of it, signal a change (Anhøj rules)."
        }
        ChartKind::I => {
            "An I chart: individual values with limits at ±3 sigma estimated from the average moving range."
        }
        ChartKind::C => {
            "A C chart: counts of events in periods with the same opportunity; limits come from the Poisson distribution."
        }
        ChartKind::U => {
            "A U chart: events per unit of exposure (such as occupied bed days); limits widen in periods with less exposure."
        }
        ChartKind::UPrime => {
            "A Laney U′ chart: events per unit of exposure, with limits widened for the extra variation between periods that large denominators reveal."
        }
        ChartKind::P => "A P chart: a percentage of a group; limits widen when the group is small.",
        ChartKind::PPrime => {
            "A Laney P′ chart: a percentage, with limits widened for the extra variation between periods."
        }
        ChartKind::G => {
            "A G chart: each point is the number of days between one incident and the next. Higher is better; a long gap above the upper limit is a signal of improvement."
        }
        ChartKind::T => "A T chart: time between events, transformed so that XmR limits apply.",
    }
}

/// The data table's columns.
pub const HEADER: [&str; 10] = [
    "period",
    "numerator",
    "denominator",
    "value",
    "centre",
    "lower_limit",
    "upper_limit",
    "point_type",
    "segment",
    "annotation",
];

/// One table row's cells, in [`HEADER`]'s order (CSV, Excel).
pub fn cells(r: &TableRow) -> [String; 10] {
    let n = |v: Option<f64>| v.map(|x| format!("{x}")).unwrap_or_default();
    [
        r.period.clone(),
        r.numerator.clone(),
        r.denominator.clone(),
        n(r.value),
        n(r.centre),
        n(r.lower_limit),
        n(r.upper_limit),
        r.point_type.clone(),
        r.segment.to_string(),
        r.annotation.clone(),
    ]
}

/// The data table as CSV (RFC 4180 quoting).
pub fn csv(chart: &Chart) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut text = HEADER.join(",") + "\n";
    for row in &chart.rows {
        let c = cells(row);
        text.push_str(&c.iter().map(|x| quote(x)).collect::<Vec<_>>().join(","));
        text.push('\n');
    }
    text
}

/// The data table as an Excel workbook: a title row, then the table with numbers as numbers.
pub fn xlsx(chart: &Chart) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    sheet.write_string_with_format(0, 0, &chart.title, &bold)?;
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(2, c as u16, *h, &bold)?;
    }
    for (r, row) in chart.rows.iter().enumerate() {
        for (c, cell) in cells(row).iter().enumerate() {
            let (r, c) = ((r + 3) as u32, c as u16);
            match cell.parse::<f64>() {
                Ok(v) if (1..=6).contains(&c) => sheet.write_number(r, c, v)?,
                _ => sheet.write_string(r, c, cell)?,
            };
        }
    }
    wb.save_to_buffer()
}
