//! One summary row per organisation and measure (latest value, variation and assurance icons),
//! as the overview, the trust page and the API show them.

use crate::auth::CurrentUser;
use crate::cache::{Key, Snapshot};
use crate::chart::{self, Request};
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
    let a = chart::analyse(&Request::standard(
        measure,
        series,
        period,
        String::new(),
        &notes,
        policy.as_ref(),
    ))?;
    let latest = a
        .analysis
        .points
        .iter()
        .enumerate()
        .rev()
        .find(|(_, p)| p.value.is_some());
    let latest_value = latest.and_then(|(_, p)| p.value);
    let suppressed_latest =
        latest_value.is_none() && series.points.iter().rev().any(|p| p.value.is_some());
    let s = &a.analysis.summary;
    let variation: Option<Variation> = s.variation;
    let assurance = s.assurance;
    Ok(SummaryRow {
        org: viewing.org.code.clone(),
        org_name: viewing.org.name.clone(),
        measure: measure.id,
        title: measure.title,
        unit: measure.unit,
        latest_period: latest.map(|(i, _)| a.labels[i].clone()),
        latest_value,
        variation: variation.map(|v| v.as_str().to_string()),
        variation_text: variation.map(|v| v.describe()),
        assurance: (assurance != Assurance::None).then(|| assurance.as_str().to_string()),
        assurance_text: (assurance != Assurance::None).then(|| assurance.describe()),
        target: a.settings.target,
        disclosure_controlled: policy.is_some(),
        value_text: match latest_value {
            Some(v) => super::fmt_value(measure, v),
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
