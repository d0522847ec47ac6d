//! The printed reports: a ward's monthly safety report and a trust's board report, as a page
//! that prints on A4 and as a PDF file. Both are assembled by `report::programme` from the same
//! cached series and saved notes as the chart pages, so the numbers cannot differ; who may read
//! them, and with what disclosure control, is decided by `access::view` as for any page.

use super::org::{Crumb, crumbs, series_key};
use crate::AppState;
use crate::access::{self, Viewing};
use crate::auth::CurrentUser;
use crate::cache::Snapshot;
use crate::error::AppError;
use crate::layout::{Choice, Layout};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domain::OrgLevel;
use domain::dates::{PeriodKind, iso};
use report::programme::{About, CycleLine, MeasureInput, ProjectLine};
use serde::Deserialize;
use store::measures::MeasureSeries;
use time::Date;

#[derive(Deserialize, Default)]
pub struct ReportQuery {
    /// The report's month, `YYYY-MM`; the latest month with data when absent.
    pub month: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ward,
    Board,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Ward => "ward",
            Kind::Board => "board",
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "report.html")]
pub struct ReportPage {
    layout: Layout,
    crumbs: Vec<Crumb>,
    title: String,
    body: String,
    pdf_href: String,
    action: String,
    months: Vec<Choice>,
}

/// A `YYYY-MM` month as its first day.
fn parse_month(s: &str) -> Result<Date, AppError> {
    let bad = || {
        AppError::BadRequest(format!(
            "month '{s}': expected a month as YYYY-MM, e.g. 2026-03"
        ))
    };
    let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
    let year: i32 = y.parse().map_err(|_| bad())?;
    let month: u8 = m.parse().map_err(|_| bad())?;
    let month = time::Month::try_from(month).map_err(|_| bad())?;
    Date::from_calendar_date(year, month, 1).map_err(|_| bad())
}

fn month_value(d: Date) -> String {
    iso(d)[..7].to_string()
}

/// The months that have data in any of the series, latest first.
fn months_with_data(series: &[&MeasureSeries]) -> Vec<Date> {
    let mut months: Vec<Date> = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.value.is_some())
        .map(|p| PeriodKind::Month.start_of(p.period))
        .collect();
    months.sort_unstable();
    months.dedup();
    months.reverse();
    months
}

struct Built {
    doc: report::Document,
    viewing: Viewing,
    month: Date,
    months: Vec<Date>,
    snap: std::sync::Arc<Snapshot>,
}

async fn build(
    state: &AppState,
    user: &CurrentUser,
    code: &str,
    kind: Kind,
    q: &ReportQuery,
) -> Result<Built, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let viewing = access::view(user, &snap.orgs, code)?;
    let org = &viewing.org;
    let wanted = match kind {
        Kind::Ward => OrgLevel::Ward,
        Kind::Board => OrgLevel::Trust,
    };
    if org.level != wanted {
        return Err(AppError::BadRequest(format!(
            "{} is a {}: a {} report is for a {}",
            org.code,
            org.level.label().to_lowercase(),
            kind.path(),
            wanted.label().to_lowercase()
        )));
    }
    // An acute trust has no mental health wards: a board report of ward measures would be a
    // page of empty charts. Its figures are beyond inpatient care.
    if matches!(kind, Kind::Board) && snap.orgs.is_acute(&org.code) {
        return Err(AppError::BadRequest(format!(
            "{} is an acute trust with no mental health wards, so it has no board report of ward \
             measures; its patients' and staff's self-harm figures are at /network/beyond?org={}",
            org.code, org.code
        )));
    }
    let all = state
        .cache
        .series(
            &state.store,
            &snap,
            series_key(org, PeriodKind::Month, None),
        )
        .await?;
    let catalogue = domain::measures::catalogue();
    let own: Vec<&MeasureSeries> = all.iter().filter(|s| s.org == org.code).collect();
    let months = months_with_data(&own);
    let month = match q.month.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(m) => parse_month(m)?,
        // No data yet: this month's report, which says so for every measure.
        None => months
            .first()
            .copied()
            .unwrap_or_else(|| PeriodKind::Month.start_of(time::OffsetDateTime::now_utc().date())),
    };
    let notes: Vec<Vec<store::annotations::Annotation>> = catalogue
        .iter()
        .map(|m| snap.notes_for(&org.code, m.id))
        .collect();
    let empty: Vec<MeasureSeries> = catalogue
        .iter()
        .map(|m| MeasureSeries {
            measure: m.id,
            org: org.code.clone(),
            points: Vec::new(),
        })
        .collect();
    let inputs: Vec<MeasureInput<'_>> = catalogue
        .iter()
        .zip(&notes)
        .zip(&empty)
        .map(|((m, notes), empty)| MeasureInput {
            measure: m,
            series: own
                .iter()
                .find(|s| s.measure == m.id)
                .copied()
                .unwrap_or(empty),
            notes,
        })
        .collect();
    let policy = viewing.policy();
    let trust_name = org
        .trust
        .as_deref()
        .and_then(|t| snap.orgs.get(t))
        .map(|t| t.name.clone())
        .unwrap_or_default();
    let about = About {
        name: &org.name,
        context: if kind == Kind::Ward { &trust_name } else { "" },
        month,
        footer: format!(
            "Made by MHSIP on {} from the data held that day{}.",
            iso(time::OffsetDateTime::now_utc().date()),
            if policy.is_some() {
                ", disclosure-controlled for the reader"
            } else {
                ""
            }
        ),
        policy: policy.as_ref(),
    };
    let doc = match kind {
        Kind::Ward => {
            // The programme view's list: the same suggested and set scores as /qi shows.
            let lines: Vec<ProjectLine> = super::qi::listed(state, user, false)
                .await?
                .into_iter()
                .filter(|l| l.sp.project.organisation.code == org.code)
                .map(|l| ProjectLine {
                    title: l.sp.project.title.clone(),
                    status: l.sp.project.status.as_str().to_string(),
                    suggested: l.suggestion.as_ref().ok().map(|s| s.score.value()),
                    set: l.set.as_ref().map(|s| s.score.value()),
                    open_cycles: l
                        .sp
                        .project
                        .cycles
                        .iter()
                        .filter(|c| c.act.is_none())
                        .count(),
                })
                .collect();
            report::programme::ward_report(&about, &inputs, &lines)
        }
        Kind::Board => {
            let projects = state.store.qi_projects().await?;
            let cycles: Vec<CycleLine> = projects
                .iter()
                .filter(|p| {
                    let code = &p.project.organisation.code;
                    code == &org.code
                        || snap
                            .orgs
                            .get(code)
                            .is_some_and(|o| o.trust.as_deref() == Some(org.code.as_str()))
                })
                .flat_map(|p| {
                    let place = snap
                        .orgs
                        .get(&p.project.organisation.code)
                        .map(|o| o.name.clone())
                        .unwrap_or_else(|| p.project.organisation.code.clone());
                    let measures: Vec<String> = p
                        .project
                        .measures
                        .iter()
                        .filter_map(|m| match &m.measure {
                            qi::MeasureRef::Catalogue(id) => Some(id.clone()),
                            qi::MeasureRef::Project(_) => None,
                        })
                        .collect();
                    p.project.cycles.iter().map(move |c| CycleLine {
                        place: place.clone(),
                        change_idea: p
                            .project
                            .diagram
                            .change_ideas
                            .iter()
                            .find(|i| i.id == c.change_idea)
                            .map(|i| i.text.clone())
                            .unwrap_or_else(|| c.change_idea.clone()),
                        start: c.do_.start,
                        end: c.do_.end,
                        act: c
                            .act
                            .as_ref()
                            .map(|a| a.decision.as_str().to_string())
                            .unwrap_or_default(),
                        measures: measures.clone(),
                    })
                })
                .collect();
            report::programme::board_report(&about, &inputs, &cycles)
        }
    };
    Ok(Built {
        doc,
        viewing,
        month,
        months,
        snap,
    })
}

async fn page(
    state: AppState,
    user: CurrentUser,
    code: String,
    kind: Kind,
    q: ReportQuery,
) -> Result<ReportPage, AppError> {
    let b = build(&state, &user, &code, kind, &q).await?;
    let org = &b.viewing.org;
    let mut crumbs = crumbs(&b.snap, &user, org);
    crumbs.push(Crumb {
        href: format!("/org/{}", org.code),
        label: org.name.clone(),
    });
    let base = format!("/reports/{}/{}", kind.path(), org.code);
    Ok(ReportPage {
        layout: Layout::new(b.doc.title.clone(), &user, ""),
        crumbs,
        title: b.doc.title.clone(),
        body: report::to_html(&b.doc),
        pdf_href: format!("{base}/pdf?month={}", month_value(b.month)),
        action: base,
        months: b
            .months
            .iter()
            .map(|d| Choice::new(month_value(*d), PeriodKind::Month.label(*d), *d == b.month))
            .collect(),
    })
}

async fn pdf(
    state: AppState,
    user: CurrentUser,
    code: String,
    kind: Kind,
    q: ReportQuery,
) -> Result<Response, AppError> {
    let b = build(&state, &user, &code, kind, &q).await?;
    let bytes = report::render(&b.doc);
    let name = format!(
        "{}-{}-report-{}.pdf",
        b.viewing.org.code,
        kind.path(),
        month_value(b.month)
    );
    state
        .store
        .audit(
            &user.name,
            &format!("download_{}_report", kind.path()),
            &b.viewing.org.code,
            Some(&format!("month {}", month_value(b.month))),
        )
        .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        bytes,
    )
        .into_response())
}

pub async fn ward_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<ReportPage, AppError> {
    page(state, user, code, Kind::Ward, q).await
}

pub async fn ward_pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    pdf(state, user, code, Kind::Ward, q).await
}

pub async fn board_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<ReportPage, AppError> {
    page(state, user, code, Kind::Board, q).await
}

pub async fn board_pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    pdf(state, user, code, Kind::Board, q).await
}
