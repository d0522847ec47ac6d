//! One summary row per organisation and measure (latest value, variation and assurance icons),
//! as the overview, the trust page and the API show them.

use crate::auth::CurrentUser;
use crate::cache::{Key, Snapshot};
use crate::error::AppError;
use crate::orgs::Org;
use crate::{AppState, access::Viewing};
use domain::OrgLevel;
use domain::dates::PeriodKind;
use domain::measures::{Measure, Objective};
use serde::Serialize;
use spc::{Assurance, Variation};
use std::collections::HashMap;
use store::measures::MeasureSeries;

#[derive(Clone, Debug, Serialize)]
pub struct SummaryRow {
    pub org: String,
    pub org_name: String,
    pub measure: &'static str,
    pub title: &'static str,
    pub unit: &'static str,
    /// The latest period with a value shown.
    pub latest_period: Option<String>,
    /// The latest value as shown (after disclosure control).
    pub latest_value: Option<f64>,
    pub variation: Option<String>,
    pub variation_text: Option<&'static str>,
    pub assurance: Option<String>,
    pub assurance_text: Option<&'static str>,
    pub target: Option<f64>,
    /// Figures are disclosure-controlled for this user.
    pub disclosure_controlled: bool,
    #[serde(skip)]
    pub variation_kind: Option<Variation>,
    #[serde(skip)]
    pub assurance_kind: Assurance,
    #[serde(skip)]
    pub value_text: String,
    #[serde(skip)]
    pub variation_icon: String,
    #[serde(skip)]
    pub assurance_icon: String,
    #[serde(skip)]
    pub href: String,
}

pub fn summarise(
    snap: &Snapshot,
    viewing: &Viewing,
    measure: &Measure,
    series: &MeasureSeries,
    period: PeriodKind,
) -> Result<SummaryRow, AppError> {
    let policy = viewing.policy();
    let notes = snap.notes_for(&viewing.org.code, measure.id);
    let sum = measures::summary::summarise(measure, series, period, &notes, policy.as_ref())?;
    let latest_value = sum.latest_value;
    let suppressed_latest = sum.suppressed_latest;
    let variation: Option<Variation> = sum.variation;
    let assurance = sum.assurance;
    Ok(SummaryRow {
        org: viewing.org.code.clone(),
        org_name: viewing.org.name.clone(),
        measure: measure.id,
        title: measure.title,
        unit: measure.unit,
        latest_period: sum.latest_label.clone(),
        latest_value,
        variation: variation.map(|v| v.as_str().to_string()),
        variation_text: variation.map(|v| v.describe()),
        assurance: (assurance != Assurance::None).then(|| assurance.as_str().to_string()),
        assurance_text: (assurance != Assurance::None).then(|| assurance.describe()),
        target: sum.target,
        disclosure_controlled: policy.is_some(),
        variation_kind: variation,
        assurance_kind: assurance,
        value_text: match latest_value {
            Some(v) => measure.format_value(v),
            None if suppressed_latest => "*".into(),
            None => "–".into(),
        },
        variation_icon: variation
            .map(|v| spc::svg::variation_icon(v, 36))
            .unwrap_or_default(),
        assurance_icon: spc::svg::assurance_icon(assurance, 36).unwrap_or_default(),
        href: format!(
            "/chart/{}/{}?period={}",
            viewing.org.code,
            measure.id,
            period.as_str()
        ),
    })
}

/// One cell of a summary matrix (the overview's measures by organisations, a trust's wards by
/// measures): the latest value linked to its chart, with its icons and, for screen readers,
/// what the icons say in words.
#[derive(Clone, Debug, Default)]
pub struct MatrixCell {
    pub value: String,
    /// The chart; empty when there is no series.
    pub href: String,
    pub variation_icon: String,
    pub assurance_icon: String,
    /// What the value and icons mean, in words ("Special cause variation: concern (higher).
    /// The process will consistently miss the target.").
    pub meaning: String,
    /// The latest period shown when it is not the page's latest (stale data), else empty.
    pub note: String,
}

impl MatrixCell {
    /// The cell of a summary row (`None`: no series for it), given the page's latest period.
    pub fn of(row: Option<&SummaryRow>, latest: &str) -> MatrixCell {
        let Some(r) = row else {
            return MatrixCell {
                value: "–".into(),
                meaning: "no data".into(),
                ..MatrixCell::default()
            };
        };
        let mut meaning: Vec<String> = Vec::new();
        if r.latest_value.is_none() {
            meaning.push(if r.value_text == "*" {
                "suppressed: built on fewer than 5 events".into()
            } else {
                "no value".into()
            });
        }
        if let Some(v) = r.variation_text {
            meaning.push(format!("{v}."));
        }
        if let Some(a) = r.assurance_text {
            meaning.push(format!("{a}."));
        }
        MatrixCell {
            value: r.value_text.clone(),
            href: r.href.clone(),
            variation_icon: r.variation_icon.clone(),
            assurance_icon: r.assurance_icon.clone(),
            meaning: meaning.join(" "),
            note: match &r.latest_period {
                Some(p) if p != latest => p.clone(),
                _ => String::new(),
            },
        }
    }
}

/// The latest period most of these rows have: the page's "latest", against which a cell says
/// when its own latest value is older.
pub fn usual_latest(rows: &[SummaryRow]) -> String {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for p in rows.iter().filter_map(|r| r.latest_period.as_deref()) {
        *counts.entry(p).or_default() += 1;
    }
    // The first row's period wins a tie (the region's on the overview), so the answer does not
    // depend on the map's order.
    let first = rows.iter().find_map(|r| r.latest_period.as_deref());
    counts
        .iter()
        .max_by_key(|(p, n)| (**n, Some(**p) == first))
        .map(|(p, _)| p.to_string())
        .unwrap_or_default()
}

/// A measure's title without the rate's unit ("Prone restraint" for "Prone restraint per 1,000
/// occupied bed days"), for lists where the unit is said once.
pub fn plain_title(m: &Measure) -> &'static str {
    [
        " per 1,000 occupied bed days (less leave)",
        " per 1,000 occupied bed days",
        " per 1,000 bed days (less leave)",
    ]
    .iter()
    .find_map(|suffix| m.title.strip_suffix(suffix))
    .unwrap_or(m.title)
}

/// A column header's worth of a measure's title (the full title goes beside it for screen
/// readers and as its tooltip).
pub fn short_title(m: &Measure) -> &'static str {
    match m.id {
        "ri_rate" => "All restrictive",
        "ri_physical_rate" => "Physical",
        "ri_prone_rate" => "Prone",
        "ri_chemical_rate" => "Chemical",
        "ri_rapid_tranq_rate" => "Rapid tranq.",
        "ri_mechanical_rate" => "Mechanical",
        "ri_seclusion_rate" => "Seclusion",
        "ri_segregation_rate" => "Segregation",
        "people_restricted" => "People",
        "pct_inpatients_restricted" => "% inpatients",
        "median_restraint_minutes" => "Median minutes",
        "pct_incidents_reviewed_with_patient" => "% reviewed",
        "self_harm_rate" => "Self-harm",
        "self_harm_moderate_rate" => "Moderate harm",
        "self_harm_on_leave_rate" => "On leave",
        "awol_rate" => "AWOL",
        "pct_leave_on_time" => "% back on time",
        "days_between_self_harm" => "Days between",
        "sexual_safety_rate" => "All sexual safety",
        "sexual_assault_rate" => "Assault",
        "sexual_harassment_verbal_rate" => "Verbal",
        "sexual_harassment_nonverbal_rate" => "Non-verbal",
        "sexual_online_rate" => "Online",
        "pct_feel_sexually_safe" => "% feel safe",
        _ => plain_title(m),
    }
}

/// An organisation's name short enough for a column header: without "NHS Foundation Trust",
/// "NHS Trust" or a trailing "(demo)".
pub fn short_name(name: &str) -> String {
    let mut s = name.trim();
    s = s.strip_suffix("(demo)").map(str::trim_end).unwrap_or(s);
    for suffix in [" NHS Foundation Trust", " NHS Trust", " Foundation Trust"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            s = rest;
            break;
        }
    }
    if s.is_empty() {
        name.to_string()
    } else {
        s.to_string()
    }
}

/// Measures of an objective (all when `None`), in catalogue order.
pub fn measures_of(objective: Option<Objective>) -> Vec<Measure> {
    domain::measures::catalogue()
        .into_iter()
        .filter(|m| objective.is_none_or(|o| m.objective == o))
        .collect()
}

/// Summary rows for several organisations of one level (each the user may see), for the given
/// measures; organisations in the order given.
pub async fn rows_for(
    state: &AppState,
    snap: &Snapshot,
    viewings: &[Viewing],
    level: OrgLevel,
    scope: Option<(OrgLevel, String)>,
    measures: &[Measure],
    period: PeriodKind,
) -> Result<Vec<SummaryRow>, AppError> {
    let all = state
        .cache
        .series(
            &state.store,
            snap,
            Key {
                level,
                period,
                scope,
                measure: None,
            },
        )
        .await?;
    let index: HashMap<(&str, &str), &MeasureSeries> = all
        .iter()
        .map(|s| ((s.org.as_str(), s.measure), s))
        .collect();
    let mut rows = Vec::new();
    for v in viewings {
        for m in measures {
            if let Some(series) = index.get(&(v.org.code.as_str(), m.id)) {
                rows.push(summarise(snap, v, m, series, period)?);
            }
        }
    }
    Ok(rows)
}

/// Parse the objective and period filters shared by the overview, trust pages and API.
pub fn filters(
    objective: Option<&str>,
    period: Option<&str>,
) -> Result<(Option<Objective>, PeriodKind), AppError> {
    let objective = match objective.filter(|s| !s.is_empty() && *s != "all") {
        Some(o) => Some(Objective::parse(o).ok_or_else(|| {
            AppError::BadRequest(format!(
                "objective '{o}' is not known; expected restrictive_practice, self_harm_awol or sexual_safety"
            ))
        })?),
        None => None,
    };
    let period = match period.filter(|s| !s.is_empty()) {
        Some(p) => PeriodKind::parse(p)
            .ok_or_else(|| AppError::BadRequest(format!("period '{p}': expected month or week")))?,
        None => PeriodKind::Month,
    };
    Ok((objective, period))
}

/// The wards of `trust` the user may see, with how much of each.
pub fn visible_wards(user: &CurrentUser, snap: &Snapshot, trust: &str) -> Vec<Viewing> {
    snap.orgs
        .wards_of(trust)
        .filter_map(|w| snap.orgs.get(&w.code))
        .map(|w| viewing(w, user.grant.detail(&snap.orgs.place(w))))
        .filter(|v| v.detail != domain::access::Detail::None)
        .collect()
}

/// Convenience for handlers holding an `Org`.
pub fn viewing(org: &Org, detail: domain::access::Detail) -> Viewing {
    Viewing {
        org: org.clone(),
        detail,
    }
}
