//! The region overview: the Making Data Count summary matrix for one objective (its measures
//! down, the region and every trust across), by month or week, with what needs attention first:
//! special cause of concern, targets that will be missed, data to check.

use super::summary::{self, MatrixCell, SummaryRow};
use crate::AppState;
use crate::access::{self, Viewing};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::layout::{Choice, Layout};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::OrgLevel;
use domain::access::{Detail, Role};
use domain::dates::PeriodKind;
use domain::measures::Objective;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct Filters {
    pub objective: Option<String>,
    pub period: Option<String>,
}

/// A column of the matrix: the region or a trust.
pub struct Column {
    pub code: String,
    pub name: String,
    /// The name as the header shows it (the full name is there for screen readers).
    pub short: String,
}

/// A row of the matrix: one measure, its cells in the order of the columns.
pub struct MeasureRow {
    pub id: &'static str,
    pub title: &'static str,
    pub target: Option<String>,
    pub cells: Vec<MatrixCell>,
}

/// One line of a list of what needs attention: an organisation with its measures, or a measure
/// with its organisations (whichever makes the shorter list).
pub struct Attention {
    pub head: String,
    /// The organisation's page, or the measure's description.
    pub href: String,
    /// (chart, organisation or measure, what is shown: the latest value and, when older than
    /// the page's, its period).
    pub items: Vec<(String, String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "overview.html")]
pub struct OverviewPage {
    layout: Layout,
    objective_label: &'static str,
    columns: Vec<Column>,
    measures: Vec<MeasureRow>,
    /// Latest value shows special cause in the worse direction.
    concern: Vec<Attention>,
    /// Assurance says the target will consistently be missed.
    failing: Vec<Attention>,
    concern_icon: String,
    fail_icon: String,
    /// No figures at all for this objective.
    empty: bool,
    filter_action: String,
    objectives: Vec<Choice>,
    periods: Vec<Choice>,
    latest: String,
    any_controlled: bool,
    key: Vec<(String, &'static str)>,
    /// Trusts with ward-months to check in the latest six months: (code, name, count).
    incomplete: Vec<(String, String, usize)>,
    recent_from: String,
    /// Trusts whose months as a whole fell far short of their own past, at any time.
    shortfalls: Vec<super::completeness::Shortfall>,
}

/// Months of recent data checked for completeness on the overview.
const RECENT_MONTHS: usize = 6;

/// Trusts with missing or likely under-reported ward-months among the latest months: a trust
/// that under-reports looks like one that improves, so say so before the matrix.
async fn recent_gaps(
    state: &AppState,
    snap: &crate::cache::Snapshot,
) -> Result<(Vec<(String, String, usize)>, String), AppError> {
    let Some((first, last)) = snap.range else {
        return Ok((Vec::new(), String::new()));
    };
    let months = PeriodKind::Month.starts_between(first, last);
    let Some(&since) = months
        .iter()
        .rev()
        .nth(RECENT_MONTHS - 1)
        .or(months.first())
    else {
        return Ok((Vec::new(), String::new()));
    };
    let rows = state.cache.completeness(&state.store, snap).await?;
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for r in rows.iter().filter(|r| r.month >= since) {
        if r.status != store::completeness::Status::Complete
            && let Some(t) = snap.orgs.get(&r.ward).and_then(|w| w.trust.clone())
        {
            *counts.entry(t).or_default() += 1;
        }
    }
    let out = counts
        .into_iter()
        .map(|(t, n)| {
            let name = snap
                .orgs
                .get(&t)
                .map(|o| o.name.clone())
                .unwrap_or(t.clone());
            (t, name, n)
        })
        .collect();
    Ok((out, PeriodKind::Month.label(since)))
}

/// The objectives alone (no "all"), for the pages that show one objective at a time.
pub fn single_objective_choices(selected: Objective) -> Vec<Choice> {
    Objective::ALL
        .iter()
        .map(|o| Choice::new(o.as_str(), o.label(), selected == *o))
        .collect()
}

pub fn objective_choices(selected: Option<Objective>) -> Vec<Choice> {
    let mut v = vec![Choice::new("all", "All objectives", selected.is_none())];
    v.extend(
        Objective::ALL
            .iter()
            .map(|o| Choice::new(o.as_str(), o.label(), selected == Some(*o))),
    );
    v
}

pub fn period_choices(selected: PeriodKind) -> Vec<Choice> {
    [(PeriodKind::Month, "Monthly"), (PeriodKind::Week, "Weekly")]
        .into_iter()
        .map(|(p, label)| Choice::new(p.as_str(), label, p == selected))
        .collect()
}

/// The icons and what they mean, for the key under the filters.
pub fn icon_key() -> Vec<(String, &'static str)> {
    use spc::{Assurance, Variation};
    let mut key: Vec<(String, &'static str)> = [
        (
            Variation::ImprovementLow,
            "Improvement (blue): special cause in the better direction",
        ),
        (
            Variation::ConcernHigh,
            "Concern (orange): special cause in the worse direction",
        ),
        (
            Variation::CommonCause,
            "Common cause (grey): no significant change",
        ),
    ]
    .into_iter()
    .map(|(v, text)| (spc::svg::variation_icon(v, 28), text))
    .collect();
    for (a, text) in [
        (Assurance::Pass, "Target will consistently be met"),
        (Assurance::Fail, "Target will consistently be missed"),
        (
            Assurance::HitOrMiss,
            "Target will be met some periods and not others",
        ),
    ] {
        if let Some(svg) = spc::svg::assurance_icon(a, 28) {
            key.push((svg, text));
        }
    }
    key
}

/// Every trust (and the region) the user may see, with their detail.
fn visible_trusts(
    user: &CurrentUser,
    snap: &crate::cache::Snapshot,
) -> (Vec<Viewing>, Vec<Viewing>) {
    let orgs = &snap.orgs;
    let region: Vec<Viewing> = orgs
        .region()
        .map(|r| summary::viewing(r, user.grant.detail(&orgs.place(r))))
        .into_iter()
        .filter(|v| v.detail != Detail::None)
        .collect();
    let trusts = orgs
        .trusts()
        .map(|t| summary::viewing(t, user.grant.detail(&orgs.place(t))))
        .filter(|v| v.detail != Detail::None)
        .collect();
    (region, trusts)
}

pub async fn summary_rows(
    state: &AppState,
    snap: &crate::cache::Snapshot,
    user: &CurrentUser,
    objective: Option<Objective>,
    period: PeriodKind,
) -> Result<Vec<SummaryRow>, AppError> {
    let (region, trusts) = visible_trusts(user, snap);
    let measures = summary::measures_of(objective);
    let mut rows = summary::rows_for(
        state,
        snap,
        &region,
        OrgLevel::Region,
        None,
        &measures,
        period,
    )
    .await?;
    rows.extend(
        summary::rows_for(
            state,
            snap,
            &trusts,
            OrgLevel::Trust,
            None,
            &measures,
            period,
        )
        .await?,
    );
    Ok(rows)
}

/// Rows of one kind of attention (those `pick` chooses), grouped by organisation or by measure,
/// whichever gives fewer lines (by organisation on a tie), in the order of the columns and of
/// the catalogue.
fn attention(
    rows: &[SummaryRow],
    measures: &[domain::measures::Measure],
    columns: &[Column],
    latest: &str,
    pick: impl Fn(&SummaryRow) -> bool,
) -> Vec<Attention> {
    let picked: Vec<&SummaryRow> = rows.iter().filter(|r| pick(r)).collect();
    let shown = |r: &SummaryRow| {
        let mut s = r.value_text.clone();
        if let Some(p) = r.latest_period.as_deref().filter(|p| *p != latest) {
            s.push_str(&format!(" in {p}"));
        }
        s
    };
    let by_org: Vec<Attention> = columns
        .iter()
        .filter_map(|c| {
            let items: Vec<(String, String, String)> = measures
                .iter()
                .filter_map(|m| {
                    let r = picked
                        .iter()
                        .find(|r| r.org == c.code && r.measure == m.id)?;
                    Some((
                        r.href.clone(),
                        summary::plain_title(m).to_string(),
                        shown(r),
                    ))
                })
                .collect();
            (!items.is_empty()).then(|| Attention {
                head: c.short.clone(),
                href: format!("/org/{}", c.code),
                items,
            })
        })
        .collect();
    let by_measure: Vec<Attention> = measures
        .iter()
        .filter_map(|m| {
            let items: Vec<(String, String, String)> = columns
                .iter()
                .filter_map(|c| {
                    let r = picked
                        .iter()
                        .find(|r| r.org == c.code && r.measure == m.id)?;
                    Some((r.href.clone(), c.short.clone(), shown(r)))
                })
                .collect();
            (!items.is_empty()).then(|| Attention {
                head: summary::plain_title(m).to_string(),
                href: format!("/measures#{}", m.id),
                items,
            })
        })
        .collect();
    if by_measure.len() < by_org.len() {
        by_measure
    } else {
        by_org
    }
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(f): Query<Filters>,
) -> Result<Response, AppError> {
    match user.grant.role {
        Role::WardUser => {
            if let Some(ward) = access::home(&user) {
                return Ok(Redirect::to(&format!("/org/{ward}")).into_response());
            }
        }
        Role::Uploader => return Ok(Redirect::to("/uploads").into_response()),
        Role::Clinician => return Ok(Redirect::to("/clinic").into_response()),
        Role::Estates => return Ok(Redirect::to("/ligature/estates").into_response()),
        _ => {}
    }
    let (objective, period) = summary::filters(f.objective.as_deref(), f.period.as_deref())?;
    // One objective at a time, so that the matrix fits a screen: the first by default.
    let objective = objective.unwrap_or(Objective::ALL[0]);
    let snap = state.cache.current(&state.store).await?;
    let rows = summary_rows(&state, &snap, &user, Some(objective), period).await?;
    let (mut incomplete, recent_from) = recent_gaps(&state, &snap).await?;
    for (_, name, _) in &mut incomplete {
        *name = summary::short_name(name);
    }
    let all = state.cache.completeness(&state.store, &snap).await?;
    let mut shortfalls = super::completeness::shortfalls(all.iter(), &snap.orgs, false);
    for s in &mut shortfalls {
        s.name = summary::short_name(&s.name);
    }
    let latest = summary::usual_latest(&rows);
    let (region, trusts) = visible_trusts(&user, &snap);
    let columns: Vec<Column> = region
        .iter()
        .chain(&trusts)
        .map(|v| Column {
            code: v.org.code.clone(),
            name: v.org.name.clone(),
            short: summary::short_name(&v.org.name),
        })
        .collect();
    let index: std::collections::HashMap<(&str, &str), &SummaryRow> = rows
        .iter()
        .map(|r| ((r.org.as_str(), r.measure), r))
        .collect();
    let catalogue = summary::measures_of(Some(objective));
    let measures: Vec<MeasureRow> = catalogue
        .iter()
        .map(|m| MeasureRow {
            id: m.id,
            title: m.title,
            target: m.target.map(|t| m.format_value(t)),
            cells: columns
                .iter()
                .map(|c| MatrixCell::of(index.get(&(c.code.as_str(), m.id)).copied(), &latest))
                .collect(),
        })
        .collect();
    let concern = attention(&rows, &catalogue, &columns, &latest, |r| {
        matches!(
            r.variation_kind,
            Some(spc::Variation::ConcernHigh | spc::Variation::ConcernLow)
        )
    });
    let failing = attention(&rows, &catalogue, &columns, &latest, |r| {
        r.assurance_kind == spc::Assurance::Fail
    });
    Ok(OverviewPage {
        layout: Layout::new("Region overview", &user, "/"),
        objective_label: objective.label(),
        any_controlled: rows.iter().any(|r| r.disclosure_controlled),
        columns,
        measures,
        concern,
        failing,
        concern_icon: spc::svg::variation_icon(spc::Variation::ConcernHigh, 24),
        fail_icon: spc::svg::assurance_icon(spc::Assurance::Fail, 24).unwrap_or_default(),
        empty: rows.is_empty(),
        filter_action: "/".into(),
        objectives: single_objective_choices(objective),
        periods: period_choices(period),
        latest,
        key: icon_key(),
        incomplete,
        recent_from,
        shortfalls,
    }
    .into_response())
}

/// After start-up, in the background: every trust's wards (monthly), then every trust's sites,
/// then the weekly overview, so that pages are served from the cache; each key waits while a
/// page computes one. Failures only mean a slower first visit. The wards'
/// weekly series are left to their first view (one measure of one trust): held for every ward
/// of a national deployment they would take most of the server's memory (four times the
/// monthly points) for views few people open.
pub async fn warm_rest(state: &AppState) {
    let Ok(snap) = state.cache.current(&state.store).await else {
        return;
    };
    let trusts: Vec<crate::orgs::Org> = snap.orgs.trusts().cloned().collect();
    // Each trust's wards (a trust page's first view), then each trust's sites (a site page's
    // first view), then the weekly overview.
    for level in [OrgLevel::Ward, OrgLevel::Site] {
        for t in &trusts {
            let key = crate::cache::Key {
                level,
                period: PeriodKind::Month,
                scope: Some((OrgLevel::Trust, t.code.clone())),
                measure: None,
            };
            if state
                .cache
                .warm_series(&state.store, &snap, key)
                .await
                .is_err()
            {
                return;
            }
        }
    }
    let _ = warm_overview(state, PeriodKind::Week).await;
}

/// The series the overview reads (the region's and every trust's, all measures).
async fn warm_overview(state: &AppState, period: PeriodKind) -> Result<(), AppError> {
    let snap = state.cache.current(&state.store).await?;
    for level in [OrgLevel::Region, OrgLevel::Trust] {
        let key = crate::cache::Key {
            level,
            period,
            scope: None,
            measure: None,
        };
        state.cache.warm_series(&state.store, &snap, key).await?;
    }
    Ok(())
}

/// Compute the monthly overview for everyone (the region and every trust), so that the first
/// visitor after a start does not wait for it.
pub async fn warm(state: &AppState) -> Result<(), AppError> {
    warm_overview(state, PeriodKind::Month).await?;
    let snap = state.cache.current(&state.store).await?;
    recent_gaps(state, &snap).await?;
    Ok(())
}
