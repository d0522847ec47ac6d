//! The chart page for any measure at any level: the SPC chart, the chart kind in words, dated
//! annotations (with rebasing at one), the target, the data table and downloads (CSV, XLSX,
//! SVG), and where the numbers came from.

use super::org::{Crumb, crumbs, series_key};
use crate::AppState;
use crate::access::{self, Viewing};
use crate::auth::CurrentUser;
use crate::cache::Snapshot;
use crate::chart::{self, Chart, Request, TableRow};
use crate::error::AppError;
use crate::layout::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::dates::{PeriodKind, iso, parse_date};
use domain::measures::{Measure, find};
use serde::Deserialize;
use std::sync::Arc;
use store::annotations::Annotation;
use store::read::UploadRow;

#[derive(Deserialize, Default, Clone)]
pub struct ChartQuery {
    pub period: Option<String>,
    /// "off" to ignore the rebases saved with annotations.
    pub rebase: Option<String>,
    /// Start a segment at this date (view only).
    pub at: Option<String>,
    /// Limits from the periods before this date only, extended (view only).
    pub freeze: Option<String>,
    /// Another target to judge assurance against (view only).
    pub target: Option<String>,
}

pub struct NoteView {
    pub date: String,
    pub text: String,
    pub rebase: bool,
    pub author: String,
    pub scope: String,
    pub rebase_href: String,
    pub freeze_href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "chart.html")]
pub struct ChartPage {
    layout: Layout,
    crumbs: Vec<Crumb>,
    org_code: String,
    org_name: String,
    pub measure: Measure,
    chart_kind: String,
    explanation: &'static str,
    direction: &'static str,
    svg: String,
    rows: Vec<TableRow>,
    variation: String,
    assurance: String,
    target: String,
    notes: Vec<NoteView>,
    can_annotate: bool,
    controlled: bool,
    period: &'static str,
    query: String,
    rebase_off: bool,
    at: String,
    frozen: String,
    baseline_points: usize,
    uploads: Vec<UploadRow>,
    /// Some of the uploads behind the figures belong to trusts whose history this user may
    /// not see.
    uploads_hidden: bool,
    withheld: bool,
    withheld_text: &'static str,
    /// The chart to read instead of a withheld one.
    instead: &'static str,
    segments: usize,
}

/// Everything a chart route works out before drawing: who may see it, and the series.
pub(crate) struct Prepared {
    pub snap: Arc<Snapshot>,
    pub viewing: Viewing,
    pub measure: Measure,
    pub period: PeriodKind,
    series: Arc<Vec<store::measures::MeasureSeries>>,
    notes: Vec<Annotation>,
}

pub(crate) async fn prepare(
    state: &AppState,
    user: &CurrentUser,
    org: &str,
    measure: &str,
    q: &ChartQuery,
) -> Result<Prepared, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let viewing = access::view(user, &snap.orgs, org)?;
    let measure = find(measure).ok_or(AppError::NotFound)?;
    let period = match q.period.as_deref().filter(|s| !s.is_empty()) {
        Some(p) => PeriodKind::parse(p)
            .ok_or_else(|| AppError::BadRequest(format!("period '{p}': expected month or week")))?,
        None => PeriodKind::Month,
    };
    let series = state
        .cache
        .series_with(
            &state.store,
            &snap,
            series_key(&viewing.org, period, None),
            measure.id,
        )
        .await?;
    let notes = snap.notes_for(&viewing.org.code, measure.id);
    Ok(Prepared {
        snap,
        viewing,
        measure,
        period,
        series,
        notes,
    })
}

pub(crate) fn draw(p: &Prepared, q: &ChartQuery) -> Result<Chart, AppError> {
    let empty = store::measures::MeasureSeries {
        measure: p.measure.id,
        org: p.viewing.org.code.clone(),
        points: Vec::new(),
    };
    let series = p
        .series
        .iter()
        .find(|s| s.org == p.viewing.org.code && s.measure == p.measure.id)
        .unwrap_or(&empty);
    let at: Vec<time::Date> = match q.at.as_deref().filter(|s| !s.is_empty()) {
        Some(d) => vec![parse_date(d).map_err(|e| AppError::BadRequest(format!("at: {e}")))?],
        None => Vec::new(),
    };
    let freeze_before = match q.freeze.as_deref().filter(|s| !s.is_empty()) {
        Some(d) => Some(parse_date(d).map_err(|e| AppError::BadRequest(format!("freeze: {e}")))?),
        None => None,
    };
    let target = match q.target.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(t) => Some(
            t.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| AppError::BadRequest(format!("target '{t}': expected a number")))?,
        ),
        None => None,
    };
    let policy = p.viewing.policy();
    Ok(chart::build(&Request {
        measure: &p.measure,
        series,
        period: p.period,
        title: format!("{}: {}", p.viewing.org.name, p.measure.title),
        annotations: &p.notes,
        apply_rebase: q.rebase.as_deref() != Some("off"),
        rebase_at: &at,
        extra_notes: &[],
        freeze_before,
        target,
        disclosure: policy.as_ref(),
    })?)
}

fn query_string(q: &ChartQuery, period: PeriodKind) -> String {
    let mut parts = vec![format!("period={}", period.as_str())];
    if let Some(r) = q.rebase.as_deref().filter(|s| !s.is_empty()) {
        parts.push(format!("rebase={}", crate::auth::urlencode(r)));
    }
    if let Some(a) = q.at.as_deref().filter(|s| !s.is_empty()) {
        parts.push(format!("at={}", crate::auth::urlencode(a)));
    }
    if let Some(f) = q.freeze.as_deref().filter(|s| !s.is_empty()) {
        parts.push(format!("freeze={}", crate::auth::urlencode(f)));
    }
    if let Some(t) = q.target.as_deref().filter(|s| !s.is_empty()) {
        parts.push(format!("target={}", crate::auth::urlencode(t)));
    }
    parts.join("&")
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, measure)): Path<(String, String)>,
    Query(q): Query<ChartQuery>,
) -> Result<ChartPage, AppError> {
    let p = prepare(&state, &user, &org, &measure, &q).await?;
    let c = draw(&p, &q)?;
    let org = &p.viewing.org;
    let m = &p.measure;
    let s = &c.analysis.summary;
    // Only the uploads this user may see on /uploads: another trust's file names, uploaders
    // and row counts are theirs.
    // The uploads that feed this measure (the network's acute and staff uploads feed only
    // their own measures).
    let feeds = |rows: Vec<UploadRow>| -> Vec<UploadRow> {
        rows.into_iter()
            .filter(|u| crate::pages::network::scope::feeds(m, &u.kind))
            .take(5)
            .collect()
    };
    let (uploads, uploads_hidden) = match crate::pages::uploads::history_scope(&user) {
        Ok(None) => (
            feeds(p.snap.latest_uploads(org.trust.as_deref(), 50)),
            false,
        ),
        Ok(Some(own)) => {
            let mine = org.trust.as_deref().is_none_or(|t| t == own);
            let rows = if mine {
                feeds(p.snap.own_uploads(&own, 50))
            } else {
                Vec::new()
            };
            (rows, org.trust.as_deref() != Some(own.as_str()))
        }
        Err(_) => (Vec::new(), true),
    };
    Ok(ChartPage {
        layout: Layout::new(format!("{}: {}", org.name, m.title), &user, ""),
        crumbs: {
            let mut c = crumbs(&p.snap, &user, org);
            c.push(Crumb {
                href: format!("/org/{}", org.code),
                label: org.name.clone(),
            });
            c
        },
        org_code: org.code.clone(),
        org_name: org.name.clone(),
        chart_kind: m.chart.to_string(),
        explanation: chart::explain(m.chart),
        direction: match m.direction {
            spc::Direction::Increase => "Higher is better.",
            spc::Direction::Decrease => "Lower is better.",
            _ => "Neither higher nor lower is better in itself.",
        },
        svg: c.svg.clone(),
        variation: s
            .variation
            .map(|v| v.describe().to_string())
            .unwrap_or_else(|| "No data to judge variation.".into()),
        assurance: s.assurance.describe().to_string(),
        target: c
            .settings
            .target
            .map(|t| m.format_value(t))
            .unwrap_or_default(),
        notes: p
            .notes
            .iter()
            .map(|a| NoteView {
                date: iso(a.date),
                text: a.text.clone(),
                rebase: a.rebase,
                author: a.author.clone(),
                scope: a
                    .measure
                    .as_deref()
                    .map(|_| "this measure".to_string())
                    .unwrap_or_else(|| "all measures".into()),
                rebase_href: format!(
                    "/chart/{}/{}?period={}&rebase=off&at={}",
                    org.code,
                    m.id,
                    p.period.as_str(),
                    iso(a.date)
                ),
                freeze_href: format!(
                    "/chart/{}/{}?period={}&freeze={}",
                    org.code,
                    m.id,
                    p.period.as_str(),
                    iso(a.date)
                ),
            })
            .collect(),
        can_annotate: user.grant.can_annotate(&p.snap.orgs.place(org)),
        controlled: p.viewing.policy().is_some(),
        period: p.period.as_str(),
        query: query_string(&q, p.period),
        rebase_off: q.rebase.as_deref() == Some("off"),
        at: q.at.clone().unwrap_or_default(),
        frozen: q
            .freeze
            .clone()
            .filter(|_| c.settings.baseline.is_some())
            .unwrap_or_default(),
        baseline_points: c.settings.baseline.unwrap_or(0),
        uploads,
        uploads_hidden,
        withheld: c.withheld,
        withheld_text: chart::WITHHELD,
        instead: "self_harm_rate",
        segments: s.segments,
        rows: c.rows,
        measure: p.measure.clone(),
    })
}

pub async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, measure, format)): Path<(String, String, String)>,
    Query(q): Query<ChartQuery>,
) -> Result<Response, AppError> {
    let p = prepare(&state, &user, &org, &measure, &q).await?;
    let c = draw(&p, &q)?;
    let base = format!(
        "{}-{}-{}",
        p.viewing.org.code,
        p.measure.id,
        p.period.as_str()
    );
    let (ctype, ext, body): (&str, &str, Vec<u8>) = match format.as_str() {
        "csv" => (
            "text/csv; charset=utf-8",
            "csv",
            chart::csv(&c).into_bytes(),
        ),
        "xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
            chart::xlsx(&c).map_err(|e| AppError::Internal(format!("xlsx: {e}")))?,
        ),
        "svg" => ("image/svg+xml", "svg", c.svg.into_bytes()),
        other => {
            return Err(AppError::BadRequest(format!(
                "'{other}' is not a download format; expected csv, xlsx or svg"
            )));
        }
    };
    state
        .store
        .audit(
            &user.name,
            "download",
            &p.viewing.org.code,
            Some(&format!("{} as {ext}", p.measure.id)),
        )
        .await?;
    let disposition = format!("attachment; filename=\"{base}.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(ctype)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct AnnotationForm {
    pub date: String,
    pub text: String,
    #[serde(default)]
    pub rebase: Option<String>,
    #[serde(default)]
    pub only_this_measure: Option<String>,
    #[serde(default)]
    pub period: Option<String>,
}

pub async fn annotate(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, measure)): Path<(String, String)>,
    Form(form): Form<AnnotationForm>,
) -> Result<Redirect, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let viewing = access::view(&user, &snap.orgs, &org)?;
    let m = find(&measure).ok_or(AppError::NotFound)?;
    if !user.grant.can_annotate(&snap.orgs.place(&viewing.org)) {
        return Err(AppError::Forbidden(format!(
            "Your account cannot add annotations to {}'s charts.",
            viewing.org.name
        )));
    }
    let date = parse_date(form.date.trim())
        .map_err(|e| AppError::BadRequest(format!("Date of the change: {e}")))?;
    let id = state
        .store
        .add_annotation(
            &viewing.org.code,
            form.only_this_measure.is_some().then_some(m.id),
            date,
            &form.text,
            form.rebase.is_some(),
            &user.name,
        )
        .await?;
    state
        .store
        .audit(
            &user.name,
            "annotate",
            &viewing.org.code,
            Some(&format!(
                "annotation {id}: {} {}",
                iso(date),
                form.text.trim()
            )),
        )
        .await?;
    state.cache.refresh(&state.store).await?;
    let period = form.period.as_deref().unwrap_or("month");
    Ok(Redirect::to(&format!(
        "/chart/{}/{}?period={}",
        viewing.org.code,
        m.id,
        crate::auth::urlencode(period)
    )))
}
