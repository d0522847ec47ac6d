//! The ligature point register (issue 13): the wards' registers a user may see, a ward's
//! register (areas, points, bands, risk age, actions), a point's page with its history and
//! photos, the audit form walked one area at a time on a tablet and signed off by its assessor,
//! the import of a trust's audit spreadsheet, and the trust lead's list of escalated points,
//! overdue actions and overdue reviews; `/api/ligature/*` serves the same as JSON.
//!
//! Who sees what is `ligature::access` (asked of `domain::access::Grant`) where the data are
//! read: full detail of the ward to see its register, and a ward role (ward user, trust lead,
//! programme admin) to change it; photos only within the ward's own trust; disclosure-
//! controlled viewers see counts only, through `domain::disclosure::Policy`. Every rule (bands,
//! risk age, escalation, what an audit may record) is `ligature`'s; the register is read by
//! `ingest::ligature::held` (the ward's signed-off audits replayed). Every change and every view
//! of a register is audited. No patient is named anywhere here.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, AppError};
use crate::layout::{Choice, Layout};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::Detail;
use domain::dates::{date_from_day, day_number, iso, parse_date};
use domain::disclosure::Policy;
use ingest::ligature::{Held, action_of, area_row, finding_row, held};
use ligature::rules::{self, Escalation};
use ligature::{
    Action, ActionInput, ActionStatus, Area, Audit, Banding, ControlKind, Finding, HeightBand,
    Point, PointState, PointType, Problem, Register, Risk, Settings, Tier,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use store::ligature::{ActionRow, AuditRow, NewAudit, SettingsRow};
use time::{Date, OffsetDateTime};

#[path = "ligature_estates.rs"]
pub mod estates;
#[path = "ligature_incidents.rs"]
pub mod incidents;

// ---------------------------------------------------------------------------------------------
// Access and data.

/// A ward the user asked for: its code, name and trust, and how much of it the user may see.
pub struct WardAccess {
    pub code: String,
    pub name: String,
    pub trust: String,
    pub detail: Detail,
    pub can_edit: bool,
}

async fn ward_for(
    state: &AppState,
    user: &CurrentUser,
    code: &str,
) -> Result<WardAccess, AppError> {
    let code = code.trim().to_ascii_uppercase();
    let snap = state.cache.current(&state.store).await?;
    let w = snap
        .orgs
        .wards()
        .iter()
        .find(|w| w.code == code)
        .ok_or(AppError::NotFound)?;
    let detail = ligature::access::detail(&user.grant, &w.code, &w.trust_code);
    if detail == Detail::None {
        return Err(AppError::Forbidden(format!(
            "Your account ({}) cannot see the ligature register of {}.",
            user.grant.role.label().to_lowercase(),
            w.name
        )));
    }
    Ok(WardAccess {
        code: w.code.clone(),
        name: w.name.clone(),
        trust: w.trust_code.clone(),
        detail,
        can_edit: ligature::access::can_edit(&user.grant, &w.code, &w.trust_code),
    })
}

fn full_only(w: &WardAccess) -> Result<(), AppError> {
    if w.detail == Detail::Full {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "The register of {} is seen in full only by its trust: you see its counts on the ligature page.",
            w.name
        )))
    }
}

fn editor_only(w: &WardAccess) -> Result<(), AppError> {
    if w.can_edit {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "Only the ward's staff and its trust's leads can change the register of {}.",
            w.name
        )))
    }
}

async fn load(state: &AppState, ward: &str) -> Result<Held, AppError> {
    held(&state.store, ward).await.map_err(AppError::Internal)
}

async fn settings_of(state: &AppState, trust: &str) -> Result<Settings, AppError> {
    Ok(match state.store.ligature_settings(trust).await? {
        Some(s) => Settings::new(s.escalation_days, s.audit_interval_days)
            .map_err(|e| AppError::Internal(format!("ligature settings of {trust}: {e}")))?,
        None => Settings::default(),
    })
}

async fn actions_of(state: &AppState, ward: &str) -> Result<Vec<(ActionRow, Action)>, AppError> {
    let rows = state.store.ligature_actions(ward).await?;
    rows.into_iter()
        .map(|r| {
            let a = action_of(&r).map_err(AppError::Internal)?;
            Ok((r, a))
        })
        .collect()
}

pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

fn as_of(q: Option<&str>) -> Result<Date, AppError> {
    match q.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(today()),
        Some(s) => parse_date(s).map_err(|e| {
            AppError::BadRequest(format!("as_of: expected a date such as 2024-03-20; {e}"))
        }),
    }
}

fn now_secs() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn shown(detail: Detail, n: u64) -> String {
    if detail == Detail::Full {
        n.to_string()
    } else {
        Policy::default().count(n).to_string()
    }
}

fn problem_text(p: &Problem) -> String {
    p.to_string()
}

// ---------------------------------------------------------------------------------------------
// Rows as the templates and the API show them.

#[derive(Clone, Debug, serde::Serialize)]
pub struct PointLine {
    pub reference: String,
    pub area: String,
    pub area_name: String,
    pub tier: u8,
    pub location: String,
    pub description: String,
    pub kind: &'static str,
    pub height: &'static str,
    pub inherent_score: u8,
    pub inherent_band: &'static str,
    pub residual_score: u8,
    pub residual_band: &'static str,
    /// `low`, `moderate`, `high` or `extreme`: for the tag's colour.
    pub band_code: &'static str,
    pub controls: Vec<&'static str>,
    pub vigilance_only: bool,
    pub first_seen: String,
    pub age_days: i64,
    pub days_in_band: i64,
    /// Days open at each band: low, moderate, high, extreme.
    pub band_days: [i64; 4],
    pub review_due: String,
    pub review_overdue: bool,
    pub escalated: bool,
    pub open: bool,
    pub removed_on: Option<String>,
}

fn tag(b: ligature::Band) -> &'static str {
    match b {
        ligature::Band::Low => "nhsuk-tag--green",
        ligature::Band::Moderate => "nhsuk-tag--yellow",
        ligature::Band::High => "nhsuk-tag--orange",
        ligature::Band::Extreme => "nhsuk-tag--red",
    }
}

fn point_line(reg: &Register, p: &Point, s: Settings, at: Date) -> PointLine {
    let st = p.state();
    let b = s.banding;
    let area = reg.areas.get(&st.area);
    PointLine {
        reference: p.reference.clone(),
        area: st.area.clone(),
        area_name: area.map_or_else(|| st.area.clone(), |a| a.name.clone()),
        tier: area.map_or(0, |a| a.tier.number()),
        location: st.location.clone(),
        description: st.description.clone(),
        kind: st.kind.label(),
        height: st.height.label(),
        inherent_score: st.inherent.score(),
        inherent_band: b.band(st.inherent).label(),
        residual_score: st.residual.score(),
        residual_band: b.band(st.residual).label(),
        band_code: tag(b.band(st.residual)),
        controls: st.controls.iter().map(|c| c.label()).collect(),
        vigilance_only: st.vigilance_only(),
        first_seen: iso(p.first_seen()),
        age_days: p.age_days(at),
        days_in_band: p.days_in_band(b, at),
        band_days: p.band_days(b, at),
        review_due: iso(st.review_due),
        review_overdue: p.is_open() && st.review_due < at,
        escalated: rules::escalation(&reg.ward, p, s, at).is_some(),
        open: p.is_open(),
        removed_on: p.removed_on().map(iso),
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ActionLine {
    pub id: i64,
    pub point: String,
    pub description: String,
    pub owner: String,
    pub raised: String,
    pub due: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub closed: Option<String>,
    pub reference: String,
    pub overdue: bool,
    pub days_overdue: i64,
}

fn action_line(r: &ActionRow, a: &Action, at: Date) -> ActionLine {
    ActionLine {
        id: r.id,
        point: a.point.clone(),
        description: a.description.clone(),
        owner: a.owner.clone(),
        raised: iso(a.raised),
        due: iso(a.due),
        status: a.status.label(),
        status_code: a.status.code(),
        closed: a.closed.map(iso),
        reference: a.reference.clone().unwrap_or_default(),
        overdue: a.is_overdue(at),
        days_overdue: a.days_overdue(at),
    }
}

// ---------------------------------------------------------------------------------------------
// /ligature

pub struct WardSummaryLine {
    pub code: String,
    pub name: String,
    pub trust: String,
    pub full: bool,
    pub open: String,
    pub high: String,
    pub extreme: String,
    pub escalated: String,
    pub last_audit: String,
    pub next_due: String,
    pub audit_overdue: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "ligature/index.html")]
pub struct IndexPage {
    layout: Layout,
    wards: Vec<WardSummaryLine>,
    trusts: Vec<(String, String)>,
    controlled: bool,
}

async fn ward_lines(
    state: &AppState,
    user: &CurrentUser,
    at: Date,
) -> Result<Vec<(WardSummaryLine, rules::WardFigures)>, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let mut out = Vec::new();
    // Only the wards with a register (any audit) are read.
    let with: std::collections::BTreeSet<String> = state
        .store
        .ligature_wards(None)
        .await?
        .into_iter()
        .map(|(w, _)| w)
        .collect();
    for w in snap.orgs.wards() {
        if !with.contains(&w.code) {
            continue;
        }
        let detail = ligature::access::detail(&user.grant, &w.code, &w.trust_code);
        if detail == Detail::None {
            continue;
        }
        let h = load(state, &w.code).await?;
        if h.register.audits.is_empty() && h.audits.is_empty() {
            continue;
        }
        let s = settings_of(state, &w.trust_code).await?;
        let actions: Vec<Action> = actions_of(state, &w.code)
            .await?
            .into_iter()
            .map(|x| x.1)
            .collect();
        let f = rules::ward_figures(&h.register, &actions, s, at);
        let next = rules::next_audit_due(&h.register, s);
        let full = detail == Detail::Full;
        out.push((
            WardSummaryLine {
                code: w.code.clone(),
                name: w.name.clone(),
                trust: w.trust_code.clone(),
                full,
                open: shown(detail, f.open),
                high: shown(detail, f.open_high),
                extreme: shown(detail, f.open_extreme),
                escalated: shown(detail, f.escalated),
                last_audit: h
                    .register
                    .last_audit()
                    .map_or_else(|| "none signed off".into(), |a| iso(a.date)),
                next_due: next.map_or_else(|| "now".into(), iso),
                audit_overdue: next.is_none_or(|d| d < at),
            },
            f,
        ));
    }
    Ok(out)
}

#[derive(Deserialize, Default)]
pub struct AsOfQuery {
    pub as_of: Option<String>,
}

pub async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AsOfQuery>,
) -> Result<Response, AppError> {
    // Estates staff see the actions and nothing else of the registers.
    if user.grant.role == domain::access::Role::Estates {
        return Ok(Redirect::to("/ligature/estates").into_response());
    }
    let at = as_of(q.as_of.as_deref())?;
    let lines = ward_lines(&state, &user, at).await?;
    let snap = state.cache.current(&state.store).await?;
    let trusts = snap
        .orgs
        .trusts()
        .filter(|t| ligature::access::can_see_escalations(&user.grant, &t.code))
        .map(|t| (t.code.clone(), t.name.clone()))
        .collect();
    Ok(IndexPage {
        layout: Layout::new("Ligature point registers", &user, "/ligature"),
        controlled: lines.iter().any(|(l, _)| !l.full),
        wards: lines.into_iter().map(|(l, _)| l).collect(),
        trusts,
    }
    .into_response())
}

// ---------------------------------------------------------------------------------------------
// /ligature/ward/{ward}

pub struct AreaLine {
    pub code: String,
    pub name: String,
    pub tier_label: &'static str,
    pub open: usize,
    /// Self-harm incidents recorded in the area (shown to the ward's own trust only).
    pub incidents: usize,
}

pub struct DraftLine {
    pub id: i64,
    pub date: String,
    pub assessor: String,
    pub findings: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "ligature/ward.html")]
pub struct WardPage {
    layout: Layout,
    ward: WardAccess,
    as_of: String,
    areas: Vec<AreaLine>,
    points: Vec<PointLine>,
    removed: Vec<PointLine>,
    actions: Vec<ActionLine>,
    drafts: Vec<DraftLine>,
    audits: Vec<ligature::register::AuditSummary>,
    figures: rules::WardFigures,
    median_age: String,
    escalation_days: i64,
    next_due: String,
    today: String,
    errors: Vec<String>,
    saved: Option<String>,
    mappings: Vec<String>,
    can_see_incidents: bool,
}

#[derive(Deserialize, Default)]
pub struct WardQuery {
    pub as_of: Option<String>,
    pub saved: Option<String>,
}

async fn ward_page_for(
    state: &AppState,
    user: &CurrentUser,
    w: WardAccess,
    at: Date,
    errors: Vec<String>,
    saved: Option<String>,
) -> Result<WardPage, AppError> {
    let h = load(state, &w.code).await?;
    let s = settings_of(state, &w.trust).await?;
    let actions = actions_of(state, &w.code).await?;
    let plain: Vec<Action> = actions.iter().map(|x| x.1.clone()).collect();
    let figures = rules::ward_figures(&h.register, &plain, s, at);
    let reg = &h.register;
    let can_see_incidents = ligature::access::can_see_incidents(&user.grant, &w.code, &w.trust);
    let at_places = if can_see_incidents {
        incidents::of_ward(state, &w.code, reg, s.banding).await?
    } else {
        Vec::new()
    };
    let mut points: Vec<PointLine> = reg
        .open_points()
        .map(|p| point_line(reg, p, s, at))
        .collect();
    // Highest residual risk first, then the longest open.
    points.sort_by(|a, b| {
        b.residual_score
            .cmp(&a.residual_score)
            .then(b.age_days.cmp(&a.age_days))
            .then(a.reference.cmp(&b.reference))
    });
    let removed = reg
        .points
        .values()
        .filter(|p| !p.is_open())
        .map(|p| point_line(reg, p, s, at))
        .collect();
    let areas = reg
        .areas
        .values()
        .map(|a| AreaLine {
            code: a.code.clone(),
            name: a.name.clone(),
            tier_label: a.tier.label(),
            open: reg
                .open_points()
                .filter(|p| p.state().area == a.code)
                .count(),
            incidents: at_places.iter().filter(|i| i.area == a.code).count(),
        })
        .collect();
    let drafts = h
        .audits
        .iter()
        .filter(|a| a.signed_off.is_none())
        .map(|a| DraftLine {
            id: a.id,
            date: iso(a.date),
            assessor: a.assessor.clone(),
            findings: a.findings.len(),
        })
        .collect();
    let mappings = state
        .store
        .mappings()
        .await?
        .into_iter()
        .filter(|m| m.kind == ingest::ligature::KIND)
        .map(|m| m.name)
        .collect();
    state
        .store
        .audit_for(
            &user.name,
            "ligature_register_viewed",
            &w.code,
            Some(&w.code),
            Some(&format!("{} open points as of {}", figures.open, iso(at))),
        )
        .await?;
    Ok(WardPage {
        layout: Layout::new(format!("Ligature register: {}", w.name), user, "/ligature"),
        as_of: iso(at),
        areas,
        points,
        removed,
        actions: actions.iter().map(|(r, a)| action_line(r, a, at)).collect(),
        drafts,
        audits: reg.audits.iter().rev().cloned().collect(),
        median_age: figures
            .median_high_age_days
            .map_or_else(|| "none open".into(), |d| format!("{d:.0} days")),
        figures,
        escalation_days: s.escalation_days,
        next_due: rules::next_audit_due(reg, s)
            .map_or_else(|| "now (no audit signed off yet)".into(), iso),
        today: iso(today()),
        errors,
        saved,
        mappings,
        can_see_incidents,
        ward: w,
    })
}

pub async fn ward(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<WardQuery>,
) -> Result<WardPage, AppError> {
    let w = ward_for(&state, &user, &code).await?;
    full_only(&w)?;
    let at = as_of(q.as_of.as_deref())?;
    ward_page_for(&state, &user, w, at, Vec::new(), q.saved).await
}

// ---------------------------------------------------------------------------------------------
// /ligature/ward/{ward}/points/{ref}

pub struct HistoryLine {
    pub date: String,
    pub finding: &'static str,
    pub tier: u8,
    pub area: String,
    pub residual_score: u8,
    pub residual_band: &'static str,
    pub band_code: &'static str,
    pub inherent_score: u8,
    pub controls: Vec<&'static str>,
    pub review_due: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "ligature/point.html")]
pub struct PointPage {
    layout: Layout,
    ward: WardAccess,
    point: PointLine,
    history: Vec<HistoryLine>,
    band_days: Vec<(&'static str, i64)>,
    actions: Vec<ActionLine>,
    photos: Vec<store::ligature::PhotoMeta>,
    can_see_photos: bool,
    can_see_incidents: bool,
    incidents: Vec<incidents::IncidentLine>,
    flagged: usize,
    today: String,
    statuses: Vec<Choice>,
    errors: Vec<String>,
    saved: Option<String>,
}

fn history_lines(p: &Point, b: Banding) -> Vec<HistoryLine> {
    p.history()
        .iter()
        .rev()
        .map(|e| HistoryLine {
            date: iso(e.date),
            finding: e.finding.label(),
            tier: e.tier.number(),
            area: e.state.area.clone(),
            residual_score: e.state.residual.score(),
            residual_band: b.band(e.state.residual).label(),
            band_code: tag(b.band(e.state.residual)),
            inherent_score: e.state.inherent.score(),
            controls: e.state.controls.iter().map(|c| c.label()).collect(),
            review_due: iso(e.state.review_due),
        })
        .collect()
}

async fn point_page_for(
    state: &AppState,
    user: &CurrentUser,
    w: WardAccess,
    reference: &str,
    errors: Vec<String>,
    saved: Option<String>,
) -> Result<PointPage, AppError> {
    let h = load(state, &w.code).await?;
    let reference = reference.trim().to_ascii_uppercase();
    let p = h
        .register
        .points
        .get(&reference)
        .ok_or(AppError::NotFound)?;
    let s = settings_of(state, &w.trust).await?;
    let at = today();
    let actions = actions_of(state, &w.code).await?;
    let can_see_photos = ligature::access::can_see_photos(&user.grant, &w.code, &w.trust);
    let photos = if can_see_photos {
        state
            .store
            .ligature_photos(&w.code, Some(&reference))
            .await?
    } else {
        Vec::new()
    };
    let line = point_line(&h.register, p, s, at);
    let visible = incidents::visible_at(state, user, &w, &h.register, s.banding, |i| {
        i.point.as_deref() == Some(reference.as_str())
    })
    .await?;
    let can_see_incidents = visible.is_some();
    let at_point: Vec<incidents::IncidentLine> = visible.unwrap_or_default();
    state
        .store
        .audit_for(
            &user.name,
            "ligature_point_viewed",
            &format!("{}/{}", w.code, reference),
            Some(&w.code),
            can_see_incidents
                .then(|| format!("{} incidents shown", at_point.len()))
                .as_deref(),
        )
        .await?;
    Ok(PointPage {
        layout: Layout::new(
            format!("Point {reference}: {}", line.description),
            user,
            "/ligature",
        ),
        band_days: ligature::Band::ALL
            .iter()
            .map(|b| (b.label(), line.band_days[b.index()]))
            .collect(),
        history: history_lines(p, s.banding),
        point: line,
        actions: actions
            .iter()
            .filter(|(_, a)| a.point == reference)
            .map(|(r, a)| action_line(r, a, at))
            .collect(),
        photos,
        can_see_photos,
        can_see_incidents,
        flagged: at_point.iter().filter(|i| i.flag.is_some()).count(),
        incidents: at_point,
        today: iso(at),
        statuses: ActionStatus::ALL
            .iter()
            .map(|s| Choice::new(s.code(), s.label(), false))
            .collect(),
        errors,
        saved,
        ward: w,
    })
}

pub async fn point(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, reference)): Path<(String, String)>,
    Query(q): Query<WardQuery>,
) -> Result<PointPage, AppError> {
    let w = ward_for(&state, &user, &code).await?;
    full_only(&w)?;
    point_page_for(&state, &user, w, &reference, Vec::new(), q.saved).await
}

// ---------------------------------------------------------------------------------------------
// Actions.

#[derive(Deserialize, Default)]
pub struct ActionForm {
    pub point: String,
    pub description: String,
    pub owner: String,
    pub due: String,
    pub reference: String,
}

fn opt_date(field: &str, s: &str, errors: &mut Vec<String>) -> Option<Date> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    match parse_date(t) {
        Ok(d) => Some(d),
        Err(e) => {
            errors.push(format!("{field}: expected a date such as 2024-09-01; {e}"));
            None
        }
    }
}

pub async fn add_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Form(f): Form<ActionForm>,
) -> Result<Response, AppError> {
    let w = ward_for(&state, &user, &code).await?;
    editor_only(&w)?;
    let h = load(&state, &w.code).await?;
    let mut errors = Vec::new();
    let due = opt_date("due", &f.due, &mut errors);
    let input = ActionInput {
        point: &f.point,
        description: &f.description,
        owner: &f.owner,
        raised: Some(today()),
        due,
        status: "open",
        closed: None,
        reference: &f.reference,
    };
    let a = match Action::new(&input, &h.register) {
        Ok(a) if errors.is_empty() => a,
        Ok(_) => {
            return Ok((
                StatusCode::BAD_REQUEST,
                point_or_ward(&state, &user, w, &f.point, errors).await?,
            )
                .into_response());
        }
        Err(ps) => {
            errors.extend(ps.0.iter().map(problem_text));
            return Ok((
                StatusCode::BAD_REQUEST,
                point_or_ward(&state, &user, w, &f.point, errors).await?,
            )
                .into_response());
        }
    };
    let row = ActionRow {
        id: 0,
        ward_code: w.code.clone(),
        trust_code: w.trust.clone(),
        point_ref: a.point.clone(),
        description: a.description.clone(),
        owner: a.owner.clone(),
        raised_day: i64::from(day_number(a.raised)),
        due_day: i64::from(day_number(a.due)),
        status: a.status.code().into(),
        closed_day: None,
        reference: a.reference.clone(),
        updated_by: user.name.clone(),
        updated_at: now_secs(),
    };
    let id = state.store.add_ligature_action(&row).await?;
    state
        .store
        .audit_for(
            &user.name,
            "ligature_action_added",
            &format!("{}/{}", w.code, a.point),
            Some(&w.code),
            Some(&format!("action {id} due {}", iso(a.due))),
        )
        .await?;
    Ok(Redirect::to(&format!(
        "/ligature/ward/{}/points/{}?saved=action",
        w.code, a.point
    ))
    .into_response())
}

/// The point's page with errors (or the ward's, when the point is not one of its).
async fn point_or_ward(
    state: &AppState,
    user: &CurrentUser,
    w: WardAccess,
    point: &str,
    errors: Vec<String>,
) -> Result<Response, AppError> {
    let h = load(state, &w.code).await?;
    if h.register
        .points
        .contains_key(&point.trim().to_ascii_uppercase())
    {
        Ok(point_page_for(state, user, w, point, errors, None)
            .await?
            .into_response())
    } else {
        Ok(ward_page_for(state, user, w, today(), errors, None)
            .await?
            .into_response())
    }
}

#[derive(Deserialize, Default)]
pub struct ActionUpdate {
    pub status: String,
    pub closed: String,
    pub due: String,
    pub reference: String,
    /// "estates" when posted from the estates page (and answered there).
    #[serde(default)]
    pub from: String,
}

pub async fn update_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<ActionUpdate>,
) -> Result<Response, AppError> {
    let row = state
        .store
        .ligature_action(id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !ligature::access::can_update_actions(&user.grant, &row.ward_code, &row.trust_code) {
        return Err(AppError::Forbidden(
            "Only the ward's staff, its trust's leads and estates staff can update its actions."
                .into(),
        ));
    }
    // Estates staff see the actions and nothing else of the register: they are answered on
    // the estates page, as is anyone who posted from it.
    let via_estates = f.from == "estates"
        || ligature::access::detail(&user.grant, &row.ward_code, &row.trust_code) != Detail::Full;
    let h = load(&state, &row.ward_code).await?;
    let mut errors = Vec::new();
    let closed = opt_date("closed", &f.closed, &mut errors).or_else(|| {
        ActionStatus::parse(&f.status)
            .ok()
            .filter(|s| s.is_closed())
            .map(|_| today())
    });
    let due = opt_date("due", &f.due, &mut errors).unwrap_or(date_from_day(row.due_day as i32));
    let reference = if f.reference.trim().is_empty() {
        row.reference.clone().unwrap_or_default()
    } else {
        f.reference.clone()
    };
    let input = ActionInput {
        point: &row.point_ref,
        description: &row.description,
        owner: &row.owner,
        raised: Some(date_from_day(row.raised_day as i32)),
        due: Some(due),
        status: &f.status,
        closed,
        reference: &reference,
    };
    let a = match Action::new(&input, &h.register) {
        Ok(a) if errors.is_empty() => a,
        other => {
            if let Err(ps) = other {
                errors.extend(ps.0.iter().map(problem_text));
            }
            if via_estates {
                let (t, name) = estates::trust_of(&state, &user, &row.trust_code).await?;
                return Ok((
                    StatusCode::BAD_REQUEST,
                    estates::page_for(&state, &user, t, name, errors, None).await?,
                )
                    .into_response());
            }
            let w = ward_for(&state, &user, &row.ward_code).await?;
            return Ok((
                StatusCode::BAD_REQUEST,
                point_page_for(&state, &user, w, &row.point_ref, errors, None).await?,
            )
                .into_response());
        }
    };
    let new = ActionRow {
        status: a.status.code().into(),
        closed_day: a.closed.map(|d| i64::from(day_number(d))),
        due_day: i64::from(day_number(a.due)),
        reference: a.reference.clone(),
        updated_by: user.name.clone(),
        updated_at: now_secs(),
        ..row.clone()
    };
    state.store.update_ligature_action(&new).await?;
    state
        .store
        .audit_for(
            &user.name,
            "ligature_action_updated",
            &format!("{}/{}", row.ward_code, row.point_ref),
            Some(&row.ward_code),
            Some(&format!(
                "action {id}: {} due {}",
                a.status.code(),
                iso(a.due)
            )),
        )
        .await?;
    if via_estates && ligature::access::can_see_trust_actions(&user.grant, &row.trust_code) {
        return Ok(
            Redirect::to(&format!("/ligature/estates/{}?saved={id}", row.trust_code))
                .into_response(),
        );
    }
    Ok(Redirect::to(&format!(
        "/ligature/ward/{}/points/{}?saved=action",
        row.ward_code, row.point_ref
    ))
    .into_response())
}

// ---------------------------------------------------------------------------------------------
// Photos.

/// Read a multipart form: its text fields and its one file (`file`).
async fn read_multipart(
    mut form: Multipart,
) -> Result<(BTreeMap<String, String>, Option<(String, Vec<u8>)>), AppError> {
    let mut fields = BTreeMap::new();
    let mut file = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("The form was not received whole: {e}")))?
    {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let fname = field
                .file_name()
                .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
                .unwrap_or_default();
            let bytes = field.bytes().await.map_err(|e| {
                AppError::BadRequest(format!("The file was not received whole: {e}"))
            })?;
            file = Some((fname, bytes.to_vec()));
        } else {
            let v = field.text().await.map_err(|e| {
                AppError::BadRequest(format!("The form was not received whole: {e}"))
            })?;
            fields.insert(name, v);
        }
    }
    Ok((fields, file))
}

/// A photo of a point (`file`), checked (JPEG or PNG, at most 8 MB) and stripped of its
/// metadata by `ligature::photo`; `audit` ties it to a draft audit, `back` is where to return.
pub async fn add_photo(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, reference)): Path<(String, String)>,
    form: Multipart,
) -> Result<Response, AppError> {
    let w = ward_for(&state, &user, &code).await?;
    editor_only(&w)?;
    let (fields, file) = read_multipart(form).await?;
    let reference = reference.trim().to_ascii_uppercase();
    let audit_id = fields
        .get("audit")
        .and_then(|a| a.trim().parse::<i64>().ok());
    let h = load(&state, &w.code).await?;
    // A point of the register, or one new in the draft it is tied to.
    let in_draft = audit_id.is_some_and(|id| {
        h.audits
            .iter()
            .any(|a| a.id == id && a.signed_off.is_none() && a.findings.contains_key(&reference))
    });
    if !h.register.points.contains_key(&reference) && !in_draft {
        return Err(AppError::BadRequest(format!(
            "point: expected a point of ward {}'s register, found '{reference}'",
            w.code
        )));
    }
    let back = fields
        .get("back")
        .filter(|b| b.starts_with("/ligature/") && !b.contains("//"))
        .cloned()
        .unwrap_or_else(|| format!("/ligature/ward/{}/points/{reference}", w.code));
    let bytes = file.map(|f| f.1).unwrap_or_default();
    let (kind, clean) = match ligature::photo::clean(&bytes, ligature::photo::MAX_PHOTO_BYTES) {
        Ok(x) => x,
        Err(p) => {
            let msg = if bytes.is_empty() {
                "photo: expected a JPEG or PNG image, found no file".to_string()
            } else {
                p.to_string()
            };
            return Err(AppError::BadRequest(format!("{msg}. Nothing was saved.")));
        }
    };
    let id = state
        .store
        .add_ligature_photo(
            &w.code,
            &w.trust,
            &reference,
            audit_id.filter(|id| h.audits.iter().any(|a| a.id == *id)),
            kind.content_type(),
            &clean,
            &user.name,
            now_secs(),
        )
        .await?;
    state
        .store
        .audit_for(
            &user.name,
            "ligature_photo_added",
            &format!("{}/{}", w.code, reference),
            Some(&w.code),
            Some(&format!("photo {id}, {} bytes", clean.len())),
        )
        .await?;
    Ok(Redirect::to(&back).into_response())
}

/// A photo, to those of the ward's own trust who may see the register.
pub async fn photo(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (meta, bytes) = state
        .store
        .ligature_photo(id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !ligature::access::can_see_photos(&user.grant, &meta.ward_code, &meta.trust_code) {
        return Err(AppError::Forbidden(
            "Photos of ligature points are seen only within the ward's own trust.".into(),
        ));
    }
    state
        .store
        .audit_for(
            &user.name,
            "ligature_photo_viewed",
            &format!("{}/{}", meta.ward_code, meta.point_ref),
            Some(&meta.ward_code),
            Some(&format!("photo {id}")),
        )
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, meta.content_type.clone()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (header::CONTENT_DISPOSITION, "inline".to_string()),
        ],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// Audits: start, walk one area at a time, add areas and points, sign off.

#[derive(Deserialize, Default)]
pub struct StartForm {
    pub date: String,
}

pub async fn start_audit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Form(f): Form<StartForm>,
) -> Result<Response, AppError> {
    let w = ward_for(&state, &user, &code).await?;
    editor_only(&w)?;
    let h = load(&state, &w.code).await?;
    let mut errors = Vec::new();
    let date = opt_date("date", &f.date, &mut errors).unwrap_or_else(today);
    if date > today() {
        errors.push(format!(
            "date: expected today or earlier, found {}",
            iso(date)
        ));
    }
    if let Some(d) = h.audits.iter().find(|a| a.signed_off.is_none()) {
        errors.push(format!(
            "audit: expected no audit in progress on this ward, found the draft of {} by {}: continue it or discard it",
            iso(d.date),
            d.assessor
        ));
    }
    if let Some(last) = h.register.last_audit()
        && date < last.date
    {
        errors.push(format!(
            "date: expected a date on or after the last signed-off audit ({}), found {}",
            iso(last.date),
            iso(date)
        ));
    }
    if !errors.is_empty() {
        return Ok((
            StatusCode::BAD_REQUEST,
            ward_page_for(&state, &user, w, today(), errors, None).await?,
        )
            .into_response());
    }
    let id = state
        .store
        .start_ligature_audit(&NewAudit {
            ward_code: w.code.clone(),
            trust_code: w.trust.clone(),
            audit_day: i64::from(day_number(date)),
            assessor: user.name.clone(),
            source: "form".into(),
            upload_id: None,
            created_by: user.name.clone(),
            created_at: now_secs(),
        })
        .await?;
    state
        .store
        .audit_for(
            &user.name,
            "ligature_audit_started",
            &w.code,
            Some(&w.code),
            Some(&format!("audit {id} of {}", iso(date))),
        )
        .await?;
    Ok(Redirect::to(&format!("/ligature/audits/{id}")).into_response())
}

/// A draft audit, its ward and the register it starts from.
struct DraftCtx {
    row: AuditRow,
    ward: WardAccess,
    held: Held,
    audit: Audit,
}

async fn draft_for(state: &AppState, user: &CurrentUser, id: i64) -> Result<DraftCtx, AppError> {
    let row = state
        .store
        .ligature_audit(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let ward = ward_for(state, user, &row.ward_code).await?;
    editor_only(&ward)?;
    let held = load(state, &ward.code).await?;
    let audit = held
        .audits
        .iter()
        .find(|a| a.id == id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    Ok(DraftCtx {
        row,
        ward,
        held,
        audit,
    })
}

pub struct AreaTab {
    pub code: String,
    pub name: String,
    pub tier: u8,
    pub walked: bool,
    pub current: bool,
    pub points: usize,
}

/// One point on the area form, with what the draft holds for it so far.
pub struct FormPoint {
    pub reference: String,
    pub is_new: bool,
    pub removed: bool,
    pub walked: bool,
    pub location: String,
    pub description: String,
    pub kind: Vec<Choice>,
    pub height: Vec<Choice>,
    pub il: Vec<Choice>,
    pub ic: Vec<Choice>,
    pub rl: Vec<Choice>,
    pub rc: Vec<Choice>,
    pub controls: Vec<Choice>,
    pub review: String,
    pub summary: String,
    pub photos: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "ligature/audit.html")]
pub struct AuditPage {
    layout: Layout,
    ward: WardAccess,
    audit_id: i64,
    date: String,
    assessor: String,
    tabs: Vec<AreaTab>,
    area: Option<AreaTab>,
    points: Vec<FormPoint>,
    new_point: FormPoint,
    tiers: Vec<Choice>,
    errors: Vec<String>,
    walked: usize,
    to_walk: usize,
    can_sign: bool,
    saved: Option<String>,
}

fn rating_choices(v: u8) -> Vec<Choice> {
    (1..=5)
        .map(|i| Choice::new(i.to_string(), i.to_string(), i == v))
        .collect()
}

fn form_point(
    reference: &str,
    s: &PointState,
    is_new: bool,
    removed: bool,
    walked: bool,
    b: Banding,
    photos: usize,
) -> FormPoint {
    FormPoint {
        reference: reference.to_string(),
        is_new,
        removed,
        walked,
        location: s.location.clone(),
        description: s.description.clone(),
        kind: PointType::ALL
            .iter()
            .map(|k| Choice::new(k.code(), k.label(), *k == s.kind))
            .collect(),
        height: HeightBand::ALL
            .iter()
            .map(|k| Choice::new(k.code(), k.label(), *k == s.height))
            .collect(),
        il: rating_choices(s.inherent.likelihood()),
        ic: rating_choices(s.inherent.consequence()),
        rl: rating_choices(s.residual.likelihood()),
        rc: rating_choices(s.residual.consequence()),
        controls: ControlKind::ALL
            .iter()
            .map(|c| Choice::new(c.code(), c.label(), s.controls.contains(c)))
            .collect(),
        review: iso(s.review_due),
        summary: format!(
            "residual {} ({}), before controls {}",
            s.residual.score(),
            b.band(s.residual).label(),
            s.inherent.score()
        ),
        photos,
    }
}

/// The areas of a draft (the register's and the draft's own), and which are walked.
fn areas_of(reg: &Register, audit: &Audit) -> BTreeMap<String, Area> {
    let mut areas = reg.areas.clone();
    for a in &audit.areas {
        areas.insert(a.code.clone(), a.clone());
    }
    areas
}

fn state_in_draft<'a>(reg: &'a Register, audit: &'a Audit, r: &str) -> Option<&'a PointState> {
    match audit.findings.get(r) {
        Some(Finding::Changed(s) | Finding::New(s)) => Some(s),
        _ => reg.points.get(r).map(|p| p.state()),
    }
}

async fn audit_page_for(
    state: &AppState,
    user: &CurrentUser,
    ctx: DraftCtx,
    area: Option<String>,
    errors: Vec<String>,
    saved: Option<String>,
) -> Result<AuditPage, AppError> {
    let reg = &ctx.held.register;
    let audit = &ctx.audit;
    let areas = areas_of(reg, audit);
    let b = Banding::default();
    let photos = state.store.ligature_photos(&ctx.ward.code, None).await?;
    let in_area = |code: &str| -> Vec<String> {
        let mut refs: Vec<String> = reg
            .open_points()
            .filter(|p| state_in_draft(reg, audit, &p.reference).is_some_and(|s| s.area == code))
            .map(|p| p.reference.clone())
            .collect();
        refs.extend(
            audit
                .findings
                .iter()
                .filter(|(_, f)| matches!(f, Finding::New(s) if s.area == code))
                .map(|(r, _)| r.clone()),
        );
        refs
    };
    let current = area
        .map(|a| a.trim().to_ascii_uppercase())
        .filter(|a| areas.contains_key(a))
        .or_else(|| {
            areas
                .keys()
                .find(|c| in_area(c).iter().any(|r| !audit.findings.contains_key(r)))
                .cloned()
        })
        .or_else(|| areas.keys().next().cloned());
    let tabs: Vec<AreaTab> = areas
        .values()
        .map(|a| {
            let refs = in_area(&a.code);
            AreaTab {
                code: a.code.clone(),
                name: a.name.clone(),
                tier: a.tier.number(),
                // Walked: every point in it recorded (an area without points counts once the
                // audit has set it).
                walked: refs.iter().all(|r| audit.findings.contains_key(r))
                    && (!refs.is_empty() || audit.areas.iter().any(|x| x.code == a.code)),
                current: current.as_deref() == Some(a.code.as_str()),
                points: refs.len(),
            }
        })
        .collect();
    let points = current
        .as_deref()
        .map(|c| {
            in_area(c)
                .into_iter()
                .filter_map(|r| {
                    let s = state_in_draft(reg, audit, &r)?;
                    let f = audit.findings.get(&r);
                    let n = photos.iter().filter(|p| p.point_ref == r).count();
                    Some(form_point(
                        &r,
                        s,
                        matches!(f, Some(Finding::New(_))),
                        matches!(f, Some(Finding::Removed)),
                        f.is_some(),
                        b,
                        n,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let to_walk = reg.open_points().count()
        + audit
            .findings
            .values()
            .filter(|f| matches!(f, Finding::New(_)))
            .count();
    let walked = audit.findings.len();
    let blank = PointState {
        area: current.clone().unwrap_or_default(),
        location: String::new(),
        description: String::new(),
        kind: PointType::Other,
        height: HeightBand::Middle,
        inherent: Risk::clamped(3, 5),
        residual: Risk::clamped(3, 5),
        controls: Vec::new(),
        review_due: audit.date + time::Duration::days(182),
    };
    Ok(AuditPage {
        layout: Layout::new(format!("Audit of {}", ctx.ward.name), user, "/ligature"),
        audit_id: ctx.row.id,
        date: iso(audit.date),
        assessor: audit.assessor.clone(),
        area: tabs.iter().find(|t| t.current).map(|t| AreaTab {
            code: t.code.clone(),
            name: t.name.clone(),
            tier: t.tier,
            walked: t.walked,
            current: true,
            points: t.points,
        }),
        tabs,
        points,
        new_point: form_point("", &blank, true, false, false, b, 0),
        tiers: Tier::ALL
            .iter()
            .map(|t| Choice::new(t.number().to_string(), t.label(), *t == Tier::Three))
            .collect(),
        errors,
        walked,
        to_walk,
        can_sign: user.name == ctx.row.created_by,
        saved,
        ward: ctx.ward,
    })
}

#[derive(Deserialize, Default)]
pub struct AreaQuery {
    pub area: Option<String>,
    pub saved: Option<String>,
}

pub async fn audit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<AreaQuery>,
) -> Result<Response, AppError> {
    let ctx = draft_for(&state, &user, id).await?;
    if ctx.audit.signed_off.is_some() {
        return Ok(Redirect::to(&format!("/ligature/ward/{}", ctx.ward.code)).into_response());
    }
    Ok(
        audit_page_for(&state, &user, ctx, q.area, Vec::new(), q.saved)
            .await?
            .into_response(),
    )
}

/// A point's state from the form's fields `{prefix}kind`, `{prefix}il`... in `area`.
fn state_from(
    fields: &BTreeMap<String, Vec<String>>,
    prefix: &str,
    label: &str,
    area: &str,
    date: Date,
) -> Result<PointState, Vec<String>> {
    let one = |k: &str| {
        fields
            .get(&format!("{prefix}{k}"))
            .and_then(|v| v.first())
            .map_or("", String::as_str)
    };
    let mut errors = Vec::new();
    let mut push = |p: Problem| errors.push(format!("{label}: {p}"));
    let kind = PointType::parse(one("kind")).map_err(&mut push).ok();
    let height = HeightBand::parse(one("height")).map_err(&mut push).ok();
    let inherent = Risk::parse(one("il"), one("ic")).map_err(&mut push).ok();
    let residual = Risk::parse(one("rl"), one("rc"))
        .map_err(|p| {
            push(Problem {
                field: format!("residual {}", p.field),
                ..p
            })
        })
        .ok();
    let controls = ControlKind::parse_list(
        &fields
            .get(&format!("{prefix}controls"))
            .map(|v| v.join(","))
            .unwrap_or_default(),
    )
    .map_err(&mut push)
    .ok();
    let location = ligature::model::text("location", one("location"), false)
        .map_err(&mut push)
        .ok();
    let description = ligature::model::text("description", one("description"), false)
        .map_err(&mut push)
        .ok();
    let review = match parse_date(one("review")) {
        Ok(d) => Some(d),
        Err(e) => {
            push(Problem::new("review_due", "a date such as 2025-01-31", e));
            None
        }
    };
    let _ = date;
    match (
        kind,
        height,
        inherent,
        residual,
        controls,
        location,
        description,
        review,
    ) {
        (
            Some(kind),
            Some(height),
            Some(inherent),
            Some(residual),
            Some(controls),
            Some(location),
            Some(description),
            Some(review_due),
        ) if errors.is_empty() => Ok(PointState {
            area: area.to_string(),
            location,
            description,
            kind,
            height,
            inherent,
            residual,
            controls,
            review_due,
        }),
        _ => Err(errors),
    }
}

fn multimap(pairs: Vec<(String, String)>) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in pairs {
        m.entry(k).or_default().push(v);
    }
    m
}

/// Save what the assessor found of every point of one area (`area`; for each point `REF`:
/// `REF.status` = `there` or `removed`, and its fields `REF.kind`, `REF.il`...). A point whose
/// fields are as the register holds them is still present; otherwise it is changed. Checked
/// against the register (`Register::check_partial`); on any problem nothing is saved.
pub async fn save_area(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let ctx = draft_for(&state, &user, id).await?;
    if ctx.audit.signed_off.is_some() {
        return Err(AppError::BadRequest(format!(
            "audit {id}: expected a draft audit, found one signed off (it no longer changes)"
        )));
    }
    let fields = multimap(pairs);
    let area = fields
        .get("area")
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase();
    let reg = &ctx.held.register;
    let areas = areas_of(reg, &ctx.audit);
    if !areas.contains_key(&area) {
        return Err(AppError::BadRequest(format!(
            "area: expected an area of ward {}, found '{area}'",
            ctx.ward.code
        )));
    }
    let refs: Vec<String> = fields.get("point").cloned().unwrap_or_default();
    let mut errors = Vec::new();
    let mut draft = ctx.audit.clone();
    let mut rows = Vec::new();
    let mut dropped: Vec<String> = Vec::new();
    for r in &refs {
        let r = r.trim().to_ascii_uppercase();
        let status = fields
            .get(&format!("{r}.status"))
            .and_then(|v| v.first())
            .map_or("there", String::as_str);
        let held = reg.points.get(&r);
        let was_new = matches!(ctx.audit.findings.get(&r), Some(Finding::New(_)));
        // A point is recorded on its own area's form only (moving it is a change of its area,
        // made by removing it and adding it where it now is).
        if let Some(s) = state_in_draft(reg, &ctx.audit, &r)
            && s.area != area
        {
            errors.push(format!(
                "point {r}: expected a point of area {area}, found one of area {}",
                s.area
            ));
            continue;
        }
        let finding = if status == "removed" {
            if was_new {
                // A point added in this draft and then taken back out: dropped (after the
                // checks, with the rest).
                draft.findings.remove(&r);
                dropped.push(r.clone());
                continue;
            }
            Finding::Removed
        } else {
            match state_from(
                &fields,
                &format!("{r}."),
                &format!("point {r}"),
                &area,
                draft.date,
            ) {
                Err(es) => {
                    errors.extend(es);
                    continue;
                }
                Ok(s) if was_new => Finding::New(s),
                Ok(s) if held.is_some_and(|p| *p.state() == s) => Finding::Present,
                Ok(s) => Finding::Changed(s),
            }
        };
        draft.findings.insert(r.clone(), finding);
    }
    if errors.is_empty() {
        errors.extend(reg.check_partial(&draft).iter().map(problem_text));
    }
    if !errors.is_empty() {
        let ctx = DraftCtx {
            audit: ctx.audit.clone(),
            ..ctx
        };
        return Ok((
            StatusCode::BAD_REQUEST,
            audit_page_for(&state, &user, ctx, Some(area), errors, None).await?,
        )
            .into_response());
    }
    for r in &refs {
        let r = r.trim().to_ascii_uppercase();
        let Some(f) = draft.findings.get(&r) else {
            continue;
        };
        let s = match f {
            Finding::New(s) | Finding::Changed(s) => s.clone(),
            _ => match reg.points.get(&r) {
                Some(p) => p.state().clone(),
                None => continue,
            },
        };
        rows.push(finding_row(id, &r, f.change().code(), &s, ""));
    }
    state.store.save_ligature_findings(id, &[], &rows).await?;
    for r in &dropped {
        state.store.delete_ligature_finding(id, r).await?;
    }
    state
        .store
        .audit_for(
            &user.name,
            "ligature_audit_area_saved",
            &ctx.ward.code,
            Some(&ctx.ward.code),
            Some(&format!("audit {id}, area {area}, {} points", rows.len())),
        )
        .await?;
    Ok(Redirect::to(&format!("/ligature/audits/{id}?saved={area}")).into_response())
}

pub async fn new_point(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let ctx = draft_for(&state, &user, id).await?;
    if ctx.audit.signed_off.is_some() {
        return Err(AppError::BadRequest(format!(
            "audit {id}: expected a draft audit, found one signed off"
        )));
    }
    let fields = multimap(pairs);
    let one = |k: &str| {
        fields
            .get(k)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    };
    let area = one("area").trim().to_ascii_uppercase();
    let mut errors = Vec::new();
    let reference = match ligature::model::code("reference", &one("reference")) {
        Ok(r) => Some(r),
        Err(p) => {
            errors.push(format!("new point: {p}"));
            None
        }
    };
    let state_r = state_from(&fields, "new.", "new point", &area, ctx.audit.date);
    let mut draft = ctx.audit.clone();
    match (reference.clone(), state_r) {
        (Some(r), Ok(_)) if draft.findings.contains_key(&r) => errors.push(format!(
            "new point: reference: expected one not used in this audit, found {r}, already recorded"
        )),
        (Some(r), Ok(s)) => {
            draft.findings.insert(r.clone(), Finding::New(s));
            errors.extend(
                ctx.held
                    .register
                    .check_partial(&draft)
                    .iter()
                    .map(problem_text),
            );
        }
        (_, Err(es)) => errors.extend(es),
        _ => {}
    }
    if !errors.is_empty() {
        let ctx = DraftCtx {
            audit: ctx.audit.clone(),
            ..ctx
        };
        return Ok((
            StatusCode::BAD_REQUEST,
            audit_page_for(&state, &user, ctx, Some(area), errors, None).await?,
        )
            .into_response());
    }
    let Some(r) = reference else {
        return Err(AppError::Internal("new point without a reference".into()));
    };
    let Some(Finding::New(s)) = draft.findings.get(&r) else {
        return Err(AppError::Internal("new point lost".into()));
    };
    state
        .store
        .save_ligature_findings(id, &[], &[finding_row(id, &r, "new", s, "")])
        .await?;
    state
        .store
        .audit_for(
            &user.name,
            "ligature_point_added",
            &format!("{}/{}", ctx.ward.code, r),
            Some(&ctx.ward.code),
            Some(&format!("audit {id}, area {area}")),
        )
        .await?;
    Ok(Redirect::to(&format!("/ligature/audits/{id}?area={area}&saved={r}")).into_response())
}

#[derive(Deserialize, Default)]
pub struct AreaForm {
    pub code: String,
    pub name: String,
    pub tier: String,
}

pub async fn new_area(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<AreaForm>,
) -> Result<Response, AppError> {
    let ctx = draft_for(&state, &user, id).await?;
    if ctx.audit.signed_off.is_some() {
        return Err(AppError::BadRequest(format!(
            "audit {id}: expected a draft audit, found one signed off"
        )));
    }
    let area = Tier::parse(&f.tier).and_then(|t| Area::new(&f.code, &f.name, t));
    match area {
        Err(p) => {
            let ctx = DraftCtx {
                audit: ctx.audit.clone(),
                ..ctx
            };
            Ok((
                StatusCode::BAD_REQUEST,
                audit_page_for(
                    &state,
                    &user,
                    ctx,
                    None,
                    vec![format!("new area: {p}")],
                    None,
                )
                .await?,
            )
                .into_response())
        }
        Ok(a) => {
            state
                .store
                .save_ligature_findings(id, &[area_row(id, &a)], &[])
                .await?;
            state
                .store
                .audit_for(
                    &user.name,
                    "ligature_area_set",
                    &ctx.ward.code,
                    Some(&ctx.ward.code),
                    Some(&format!(
                        "audit {id}, area {} tier {}",
                        a.code,
                        a.tier.number()
                    )),
                )
                .await?;
            Ok(Redirect::to(&format!("/ligature/audits/{id}?area={}", a.code)).into_response())
        }
    }
}

/// Sign off (the assessor only): the audit must have walked every open point.
pub async fn sign_off(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let ctx = draft_for(&state, &user, id).await?;
    if user.name != ctx.row.created_by {
        return Err(AppError::Forbidden(format!(
            "Only the assessor ({}) can sign off this audit.",
            ctx.row.created_by
        )));
    }
    let mut audit = ctx.audit.clone();
    audit.signed_off = Some(ligature::SignOff {
        by: user.name.clone(),
        on: today().max(audit.date),
    });
    let mut reg = ctx.held.register.clone();
    if let Err(ps) = reg.apply(&audit) {
        let errors: Vec<String> = ps.0.iter().map(problem_text).collect();
        let ctx = DraftCtx {
            audit: ctx.audit.clone(),
            ..ctx
        };
        return Ok((
            StatusCode::BAD_REQUEST,
            audit_page_for(&state, &user, ctx, None, errors, None).await?,
        )
            .into_response());
    }
    let day = i64::from(day_number(today().max(audit.date)));
    if !state.store.sign_ligature_audit(id, &user.name, day).await? {
        return Err(AppError::BadRequest(format!(
            "audit {id}: expected a draft audit, found one signed off already"
        )));
    }
    let last = reg.last_audit();
    state
        .store
        .audit_for(
            &user.name,
            "ligature_audit_signed",
            &ctx.ward.code,
            Some(&ctx.ward.code),
            Some(&format!(
                "audit {id}: {} present, {} changed, {} removed, {} new",
                last.map_or(0, |a| a.present),
                last.map_or(0, |a| a.changed),
                last.map_or(0, |a| a.removed),
                last.map_or(0, |a| a.new)
            )),
        )
        .await?;
    Ok(Redirect::to(&format!("/ligature/ward/{}?saved=signed", ctx.ward.code)).into_response())
}

pub async fn discard(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let ctx = draft_for(&state, &user, id).await?;
    if !state.store.discard_ligature_draft(id).await? {
        return Err(AppError::BadRequest(format!(
            "audit {id}: expected a draft audit, found one signed off (it is kept)"
        )));
    }
    state
        .store
        .audit_for(
            &user.name,
            "ligature_audit_discarded",
            &ctx.ward.code,
            Some(&ctx.ward.code),
            Some(&format!("audit {id}")),
        )
        .await?;
    Ok(Redirect::to(&format!("/ligature/ward/{}", ctx.ward.code)).into_response())
}

/// A trust's audit spreadsheet (`file`, optional saved `mapping`): recorded as one signed-off
/// audit, or refused with every problem at its line and column and nothing written.
pub async fn import(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    form: Multipart,
) -> Result<Response, AppError> {
    let w = ward_for(&state, &user, &code).await?;
    editor_only(&w)?;
    let (fields, file) = read_multipart(form).await?;
    let Some((name, bytes)) = file.filter(|f| !f.1.is_empty()) else {
        return Ok((
            StatusCode::BAD_REQUEST,
            ward_page_for(
                &state,
                &user,
                w,
                today(),
                vec!["file: expected a CSV or Excel audit spreadsheet, found no file".into()],
                None,
            )
            .await?,
        )
            .into_response());
    };
    let name = if name.is_empty() {
        "audit.csv".to_string()
    } else {
        name
    };
    let mapping = match fields
        .get("mapping")
        .map(|m| m.trim())
        .filter(|m| !m.is_empty())
    {
        None => ingest::mapping::Compiled::default(),
        Some(m) => {
            let row = state.store.mapping(m).await?.ok_or_else(|| {
                AppError::BadRequest(format!("mapping: no saved mapping called '{m}'"))
            })?;
            let parsed = ingest::mapping::Mapping::from_json(&row.definition)
                .map_err(AppError::BadRequest)?;
            ingest::ligature::check_mapping(&parsed).map_err(AppError::BadRequest)?
        }
    };
    // The file must be of this ward: checked before anything is written.
    let mut up = ingest::ligature::AuditUpload {
        file: &name,
        bytes: &bytes,
        mapping: &mapping,
        uploaded_by: &user.name,
        only_trust: Some(&w.trust),
        now: now_secs(),
        dry_run: true,
    };
    let r = ingest::ligature::import_audit(&state.store, &up)
        .await
        .map_err(AppError::Internal)?;
    let errors: Vec<String> = match &r {
        Err(es) => es.iter().map(|e| e.to_string()).collect(),
        Ok(i) if i.ward != w.code => vec![format!(
            "{name}:2:1: WardCode: expected {} (the register this form is on), found {}",
            w.code, i.ward
        )],
        Ok(_) => Vec::new(),
    };
    if !errors.is_empty() {
        return Ok((
            StatusCode::BAD_REQUEST,
            ward_page_for(&state, &user, w, today(), errors, None).await?,
        )
            .into_response());
    }
    up.dry_run = false;
    let done = ingest::ligature::import_audit(&state.store, &up)
        .await
        .map_err(AppError::Internal)?;
    match done {
        Err(es) => Ok((
            StatusCode::BAD_REQUEST,
            ward_page_for(
                &state,
                &user,
                w,
                today(),
                es.iter().map(|e| e.to_string()).collect(),
                None,
            )
            .await?,
        )
            .into_response()),
        Ok(i) => {
            state
                .store
                .audit_for(
                    &user.name,
                    "ligature_audit_imported",
                    &w.code,
                    Some(&w.code),
                    Some(&format!(
                        "audit {} from {}, {} points",
                        i.audit_id,
                        store::read::base_name(&name),
                        i.points
                    )),
                )
                .await?;
            Ok(Redirect::to(&format!("/ligature/ward/{}?saved=imported", w.code)).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
pub struct MappingForm {
    pub definition: String,
}

/// Save a column mapping for audit spreadsheets (JSON of kind `ligature_audits`, checked by
/// `ingest::ligature::check_mapping`); a mapping of another kind under the same name is not
/// replaced.
pub async fn save_mapping(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Form(f): Form<MappingForm>,
) -> Result<Response, AppError> {
    let w = ward_for(&state, &user, &code).await?;
    editor_only(&w)?;
    let refuse = |m: String| vec![format!("mapping: {m}")];
    let checked = ingest::mapping::Mapping::from_json(&f.definition)
        .and_then(|m| ingest::ligature::check_mapping(&m).map(|_| m));
    let errors = match &checked {
        Err(e) => refuse(e.clone()),
        Ok(m) => match state.store.mapping(m.name.trim()).await? {
            Some(old) if old.kind != ingest::ligature::KIND => refuse(format!(
                "'{}' is already the name of a mapping for {} files; expected a new name",
                m.name.trim(),
                old.kind
            )),
            _ => Vec::new(),
        },
    };
    let m = match checked {
        Ok(m) if errors.is_empty() => m,
        _ => {
            return Ok((
                StatusCode::BAD_REQUEST,
                ward_page_for(&state, &user, w, today(), errors, None).await?,
            )
                .into_response());
        }
    };
    state
        .store
        .save_mapping(m.name.trim(), ingest::ligature::KIND, &m.to_json())
        .await?;
    state
        .store
        .audit_for(
            &user.name,
            "ligature_mapping_saved",
            m.name.trim(),
            Some(&w.trust),
            Some(&format!("{} columns mapped", m.columns.len())),
        )
        .await?;
    Ok(Redirect::to(&format!("/ligature/ward/{}?saved=mapping", w.code)).into_response())
}

// ---------------------------------------------------------------------------------------------
// /ligature/trust/{trust}: escalations, overdue actions and reviews; the trust's settings.

pub struct EscalationLine {
    pub ward: String,
    pub ward_name: String,
    pub point: String,
    pub description: String,
    pub area: String,
    pub tier: u8,
    pub band: &'static str,
    pub band_code: &'static str,
    pub score: u8,
    pub since: String,
    pub days: i64,
}

pub struct OverdueAction {
    pub ward: String,
    pub ward_name: String,
    pub line: ActionLine,
}

pub struct OverdueReview {
    pub ward: String,
    pub ward_name: String,
    pub point: String,
    pub due: String,
    pub days: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "ligature/trust.html")]
pub struct TrustPage {
    layout: Layout,
    trust: String,
    trust_name: String,
    as_of: String,
    escalations: Vec<EscalationLine>,
    actions: Vec<OverdueAction>,
    reviews: Vec<OverdueReview>,
    settings: Settings,
    can_set: bool,
    errors: Vec<String>,
    saved: bool,
    can_see_incidents: bool,
    flagged: Vec<incidents::IncidentLine>,
}

/// Every escalation, overdue action and overdue review of a trust's wards as of a day.
pub struct TrustLists {
    pub escalations: Vec<(Escalation, String, String)>,
    pub actions: Vec<(String, String, ActionLine)>,
    pub reviews: Vec<(String, String, String, Date, i64)>,
    pub settings: Settings,
    /// Self-harm incidents at points the register called controlled on their day, newest
    /// first (issue 13, item 4): for review.
    pub flagged: Vec<incidents::IncidentLine>,
}

pub async fn trust_lists(state: &AppState, trust: &str, at: Date) -> Result<TrustLists, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let settings = settings_of(state, trust).await?;
    let mut out = TrustLists {
        escalations: Vec::new(),
        actions: Vec::new(),
        reviews: Vec::new(),
        settings,
        flagged: Vec::new(),
    };
    let mut at_places: BTreeMap<String, Vec<store::ligature::PlaceIncident>> = BTreeMap::new();
    for i in state.store.ligature_incidents_of_trust(trust).await? {
        if i.ligature_point.is_some() {
            at_places.entry(i.ward_code.clone()).or_default().push(i);
        }
    }
    for (ward, _) in state.store.ligature_wards(Some(trust)).await? {
        let name = snap
            .orgs
            .get(&ward)
            .map_or_else(|| ward.clone(), |o| o.name.clone());
        let h = load(state, &ward).await?;
        for e in rules::escalations(&h.register, settings, at) {
            let desc = h
                .register
                .points
                .get(&e.point)
                .map(|p| p.state().description.clone())
                .unwrap_or_default();
            out.escalations.push((e, name.clone(), desc));
        }
        for (r, a) in actions_of(state, &ward).await? {
            if a.is_overdue(at) {
                out.actions
                    .push((ward.clone(), name.clone(), action_line(&r, &a, at)));
            }
        }
        for (p, d, days) in rules::overdue_reviews(&h.register, at) {
            out.reviews.push((ward.clone(), name.clone(), p, d, days));
        }
        for i in at_places.get(&ward).into_iter().flatten() {
            let l = incidents::line(i, &h.register, settings.banding);
            if l.flag.is_some() {
                out.flagged.push(l);
            }
        }
    }
    out.escalations.sort_by(|a, b| {
        b.0.days
            .cmp(&a.0.days)
            .then_with(|| a.0.ward.cmp(&b.0.ward))
            .then_with(|| a.0.point.cmp(&b.0.point))
    });
    out.actions.sort_by(|a, b| {
        b.2.days_overdue
            .cmp(&a.2.days_overdue)
            .then(a.2.id.cmp(&b.2.id))
    });
    out.flagged.sort_by(|a, b| {
        b.date
            .cmp(&a.date)
            .then_with(|| a.ward.cmp(&b.ward))
            .then_with(|| a.id.cmp(&b.id))
    });
    out.reviews.sort_by(|a, b| {
        b.4.cmp(&a.4)
            .then_with(|| a.0.cmp(&b.0))
            .then_with(|| a.2.cmp(&b.2))
    });
    Ok(out)
}

/// The trust asked for (its code and name), if `may_see` lets `user` see what is asked of it;
/// `refusal` says, of the trust's name, who may.
async fn trust_if(
    state: &AppState,
    user: &CurrentUser,
    trust: &str,
    may_see: fn(&domain::access::Grant, &str) -> bool,
    refusal: fn(&str) -> String,
) -> Result<(String, String), AppError> {
    let t = trust.trim().to_ascii_uppercase();
    let snap = state.cache.current(&state.store).await?;
    let org = snap
        .orgs
        .get(&t)
        .filter(|o| o.level == domain::OrgLevel::Trust)
        .ok_or(AppError::NotFound)?;
    if !may_see(&user.grant, &t) {
        return Err(AppError::Forbidden(refusal(&org.name)));
    }
    Ok((t, org.name.clone()))
}

async fn trust_for(
    state: &AppState,
    user: &CurrentUser,
    trust: &str,
) -> Result<(String, String), AppError> {
    trust_if(
        state,
        user,
        trust,
        ligature::access::can_see_escalations,
        |name| format!("The escalation list of {name} is for its trust leads."),
    )
    .await
}

async fn trust_page_for(
    state: &AppState,
    user: &CurrentUser,
    trust: String,
    name: String,
    at: Date,
    errors: Vec<String>,
    saved: bool,
) -> Result<TrustPage, AppError> {
    let l = trust_lists(state, &trust, at).await?;
    state
        .store
        .audit_for(
            &user.name,
            "ligature_escalations_viewed",
            &trust,
            Some(&trust),
            Some(&format!(
                "{} escalated as of {}",
                l.escalations.len(),
                iso(at)
            )),
        )
        .await?;
    Ok(TrustPage {
        layout: Layout::new(format!("Ligature escalations: {name}"), user, "/ligature"),
        as_of: iso(at),
        escalations: l
            .escalations
            .into_iter()
            .map(|(e, ward_name, description)| EscalationLine {
                band: e.band.label(),
                band_code: tag(e.band),
                ward: e.ward,
                ward_name,
                point: e.point,
                description,
                area: e.area,
                tier: e.tier.number(),
                score: e.score,
                since: iso(e.since),
                days: e.days,
            })
            .collect(),
        actions: l
            .actions
            .into_iter()
            .map(|(ward, ward_name, line)| OverdueAction {
                ward,
                ward_name,
                line,
            })
            .collect(),
        reviews: l
            .reviews
            .into_iter()
            .map(|(ward, ward_name, point, d, days)| OverdueReview {
                ward,
                ward_name,
                point,
                due: iso(d),
                days,
            })
            .collect(),
        settings: l.settings,
        can_see_incidents: ligature::access::can_see_trust_incidents(&user.grant, &trust),
        flagged: if ligature::access::can_see_trust_incidents(&user.grant, &trust) {
            l.flagged
        } else {
            Vec::new()
        },
        can_set: matches!(
            user.grant.role,
            domain::access::Role::TrustLead | domain::access::Role::ProgrammeAdmin
        ),
        errors,
        saved,
        trust_name: name,
        trust,
    })
}

#[derive(Deserialize, Default)]
pub struct TrustQuery {
    pub as_of: Option<String>,
    pub saved: Option<String>,
}

pub async fn trust(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(trust): Path<String>,
    Query(q): Query<TrustQuery>,
) -> Result<TrustPage, AppError> {
    let (t, name) = trust_for(&state, &user, &trust).await?;
    let at = as_of(q.as_of.as_deref())?;
    trust_page_for(&state, &user, t, name, at, Vec::new(), q.saved.is_some()).await
}

#[derive(Deserialize, Default)]
pub struct SettingsForm {
    pub escalation_days: String,
    pub audit_interval_days: String,
}

pub async fn set_settings(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(trust): Path<String>,
    Form(f): Form<SettingsForm>,
) -> Result<Response, AppError> {
    let (t, name) = trust_for(&state, &user, &trust).await?;
    let num = |field: &str, s: &str, errors: &mut Vec<String>| match s.trim().parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(format!(
                "{field}: expected a whole number of days, found '{}'",
                s.trim()
            ));
            None
        }
    };
    let mut errors = Vec::new();
    let e = num("escalation_days", &f.escalation_days, &mut errors);
    let a = num("audit_interval_days", &f.audit_interval_days, &mut errors);
    let checked = match (e, a) {
        (Some(e), Some(a)) => Settings::new(e, a)
            .map_err(|ps| errors.extend(ps.0.iter().map(problem_text)))
            .ok(),
        _ => None,
    };
    let Some(s) = checked.filter(|_| errors.is_empty()) else {
        return Ok((
            StatusCode::BAD_REQUEST,
            trust_page_for(&state, &user, t, name, today(), errors, false).await?,
        )
            .into_response());
    };
    state
        .store
        .set_ligature_settings(&SettingsRow {
            trust_code: t.clone(),
            escalation_days: s.escalation_days,
            audit_interval_days: s.audit_interval_days,
            updated_by: user.name.clone(),
            updated_at: now_secs(),
        })
        .await?;
    state
        .store
        .audit_for(
            &user.name,
            "ligature_settings_set",
            &t,
            Some(&t),
            Some(&format!(
                "escalation after {} days, audits every {} days",
                s.escalation_days, s.audit_interval_days
            )),
        )
        .await?;
    Ok(Redirect::to(&format!("/ligature/trust/{t}?saved=1")).into_response())
}

// ---------------------------------------------------------------------------------------------
// /api/ligature/*

pub async fn api_wards(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AsOfQuery>,
) -> Result<Json<Value>, ApiError> {
    let at = as_of(q.as_of.as_deref())?;
    let lines = ward_lines(&state, &user, at).await?;
    Ok(Json(json!({
        "as_of": iso(at),
        "wards": lines.iter().map(|(l, _)| json!({
            "ward": l.code, "name": l.name, "trust": l.trust, "disclosure_controlled": !l.full,
            "open": l.open, "open_high": l.high, "open_extreme": l.extreme, "escalated": l.escalated,
            "last_audit": l.last_audit, "next_audit_due": l.next_due,
        })).collect::<Vec<_>>(),
    })))
}

pub async fn api_ward(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> Result<Json<Value>, ApiError> {
    let w = ward_for(&state, &user, &code).await?;
    full_only(&w)?;
    let at = as_of(q.as_of.as_deref())?;
    let h = load(&state, &w.code).await?;
    let s = settings_of(&state, &w.trust).await?;
    let actions = actions_of(&state, &w.code).await?;
    let plain: Vec<Action> = actions.iter().map(|x| x.1.clone()).collect();
    let reg = &h.register;
    state
        .store
        .audit_for(
            &user.name,
            "ligature_register_viewed",
            &w.code,
            Some(&w.code),
            Some("api"),
        )
        .await?;
    Ok(Json(json!({
        "ward": w.code, "trust": w.trust, "as_of": iso(at),
        "settings": s,
        "figures": rules::ward_figures(reg, &plain, s, at),
        "areas": reg.areas.values().map(|a| json!({ "code": a.code, "name": a.name, "tier": a.tier.number() })).collect::<Vec<_>>(),
        "points": reg.points.values().map(|p| point_line(reg, p, s, at)).collect::<Vec<_>>(),
        "actions": actions.iter().map(|(r, a)| action_line(r, a, at)).collect::<Vec<_>>(),
        "audits": reg.audits,
        "can_edit": w.can_edit,
    })))
}

pub async fn api_point(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, reference)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let w = ward_for(&state, &user, &code).await?;
    full_only(&w)?;
    let h = load(&state, &w.code).await?;
    let reference = reference.trim().to_ascii_uppercase();
    let p = h
        .register
        .points
        .get(&reference)
        .ok_or(AppError::NotFound)?;
    let s = settings_of(&state, &w.trust).await?;
    let at = today();
    // The incidents there, to the ward's own trust only (absent for everyone else).
    let at_point: Option<Vec<incidents::IncidentLine>> =
        if ligature::access::can_see_incidents(&user.grant, &w.code, &w.trust) {
            Some(
                incidents::of_ward(&state, &w.code, &h.register, s.banding)
                    .await?
                    .into_iter()
                    .filter(|i| i.point.as_deref() == Some(reference.as_str()))
                    .collect(),
            )
        } else {
            None
        };
    state
        .store
        .audit_for(
            &user.name,
            "ligature_point_viewed",
            &format!("{}/{}", w.code, reference),
            Some(&w.code),
            Some("api"),
        )
        .await?;
    Ok(Json(json!({
        "ward": w.code,
        "point": point_line(&h.register, p, s, at),
        "history": p.history().iter().map(|e| json!({
            "audit": e.audit, "date": iso(e.date), "finding": e.finding.code(), "tier": e.tier.number(),
            "area": e.state.area, "location": e.state.location, "description": e.state.description,
            "type": e.state.kind.code(), "height": e.state.height.code(),
            "inherent": { "likelihood": e.state.inherent.likelihood(), "consequence": e.state.inherent.consequence(), "score": e.state.inherent.score(), "band": s.banding.band(e.state.inherent).code() },
            "residual": { "likelihood": e.state.residual.likelihood(), "consequence": e.state.residual.consequence(), "score": e.state.residual.score(), "band": s.banding.band(e.state.residual).code() },
            "controls": e.state.controls.iter().map(|c| c.code()).collect::<Vec<_>>(),
            "review_due": iso(e.state.review_due),
        })).collect::<Vec<_>>(),
        "incidents": at_point,
    })))
}

pub async fn api_escalations(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(trust): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> Result<Json<Value>, ApiError> {
    let (t, _) = trust_for(&state, &user, &trust).await?;
    let at = as_of(q.as_of.as_deref())?;
    let l = trust_lists(&state, &t, at).await?;
    state
        .store
        .audit_for(
            &user.name,
            "ligature_escalations_viewed",
            &t,
            Some(&t),
            Some("api"),
        )
        .await?;
    Ok(Json(json!({
        "trust": t, "as_of": iso(at), "settings": l.settings,
        "escalations": l.escalations.iter().map(|(e, _, d)| json!({
            "ward": e.ward, "point": e.point, "description": d, "area": e.area, "tier": e.tier.number(),
            "band": e.band.code(), "score": e.score, "since": iso(e.since), "days": e.days,
        })).collect::<Vec<_>>(),
        "overdue_actions": l.actions.iter().map(|(_, _, a)| a).collect::<Vec<_>>(),
        "overdue_reviews": l.reviews.iter().map(|(w, _, p, d, days)| json!({ "ward": w, "point": p, "review_due": iso(*d), "days_overdue": days })).collect::<Vec<_>>(),
        // To the trust's own leads only (absent for everyone else).
        "flagged_incidents": ligature::access::can_see_trust_incidents(&user.grant, &t).then_some(&l.flagged),
    })))
}

/// The `/api/ligature/*` paths of the OpenAPI document.
pub fn openapi_paths() -> Vec<(String, Value)> {
    let err = json!({ "description": "Error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    let ok = |d: &str, schema: Value| json!({ "200": { "description": d, "content": { "application/json": { "schema": schema } } }, "400": err, "401": err, "403": err, "404": err });
    let as_of = json!({ "name": "as_of", "in": "query", "schema": { "type": "string", "format": "date" }, "description": "The day the register is read as of (default: today)" });
    let ward =
        json!({ "name": "ward", "in": "path", "required": true, "schema": { "type": "string" } });
    let point_line = json!({ "type": "object", "description": "A point as of the day: reference, area, tier, location, description, type, height, scores and bands before and after controls, controls, first seen, age_days, days_in_band, band_days [low, moderate, high, extreme], review_due, review_overdue, escalated, open, removed_on" });
    vec![
        (
            "/api/ligature/wards".into(),
            json!({ "get": { "summary": "The ligature registers the user may see, with open, high, extreme and escalated points (disclosure-controlled outside the user's own trust: a count or \"*\") and the last and next audit", "parameters": [as_of], "responses": ok("OK", json!({ "type": "object", "properties": { "as_of": { "type": "string" }, "wards": { "type": "array", "items": { "type": "object" } } } })) } }),
        ),
        (
            "/api/ligature/wards/{ward}".into(),
            json!({ "get": { "summary": "A ward's ligature register (its trust only, audited): areas with their CQC tier, every point with its bands and risk age, actions, signed-off audits, the ward's figures and the trust's settings (docs/ligature.md)", "parameters": [ward, as_of], "responses": ok("OK", json!({ "type": "object", "properties": {
            "ward": { "type": "string" }, "areas": { "type": "array", "items": { "type": "object" } }, "points": { "type": "array", "items": point_line },
            "actions": { "type": "array", "items": { "type": "object" } }, "audits": { "type": "array", "items": { "type": "object" } }, "figures": { "type": "object" }, "can_edit": { "type": "boolean" }
        } })) } }),
        ),
        (
            "/api/ligature/wards/{ward}/points/{point}".into(),
            json!({ "get": { "summary": "One point and its history: each signed-off audit's finding (present, changed, removed, new) and state; to the ward's own trust, the self-harm incidents recorded there (date, identifier, method, harm, and the flag when the register called the point controlled on the day; absent for everyone else)", "parameters": [ward, { "name": "point", "in": "path", "required": true, "schema": { "type": "string" } }], "responses": ok("OK", json!({ "type": "object", "properties": { "point": point_line, "history": { "type": "array", "items": { "type": "object" } } } })) } }),
        ),
        (
            "/api/ligature/trusts/{trust}/escalations".into(),
            json!({ "get": { "summary": "The trust lead's list: points in tier 2 or 3 areas at a high or extreme residual risk with staff vigilance as their only control for more than the trust's days, overdue actions and overdue reviews (the trust's leads and programme admins); to the trust's own leads, flagged_incidents: self-harm incidents at points the register called controlled on their day (absent for everyone else)", "parameters": [{ "name": "trust", "in": "path", "required": true, "schema": { "type": "string" } }, as_of], "responses": ok("OK", json!({ "type": "object", "properties": { "escalations": { "type": "array", "items": { "type": "object" } }, "overdue_actions": { "type": "array", "items": { "type": "object" } }, "overdue_reviews": { "type": "array", "items": { "type": "object" } } } })) } }),
        ),
        (
            "/api/ligature/trusts/{trust}/actions".into(),
            json!({ "get": { "summary": "Every action of the trust's ligature registers (the estates page): the action, its ward, area and point (reference, location, description; no risk, history or photos), owner, due date, status and work order or capital bid reference (the trust's estates staff and leads, programme admins; audited)", "parameters": [{ "name": "trust", "in": "path", "required": true, "schema": { "type": "string" } }], "responses": ok("OK", json!({ "type": "object", "properties": { "trust": { "type": "string" }, "as_of": { "type": "string" }, "actions": { "type": "array", "items": { "type": "object" } } } })) } }),
        ),
    ]
}

/// The register's pages (merged into `pages::routes`).
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/ligature", get(index))
        .route("/ligature/ward/{ward}", get(ward))
        .route("/ligature/ward/{ward}/points/{point}", get(point))
        .route("/ligature/ward/{ward}/areas/{area}", get(incidents::area))
        .route(
            "/ligature/ward/{ward}/points/{point}/photos",
            post(add_photo),
        )
        .route("/ligature/ward/{ward}/audits", post(start_audit))
        .route("/ligature/ward/{ward}/import", post(import))
        .route("/ligature/ward/{ward}/mappings", post(save_mapping))
        .route("/ligature/ward/{ward}/actions", post(add_action))
        .route("/ligature/actions/{id}", post(update_action))
        .route("/ligature/photos/{id}", get(photo))
        .route("/ligature/audits/{id}", get(audit))
        .route("/ligature/audits/{id}/area", post(save_area))
        .route("/ligature/audits/{id}/points", post(new_point))
        .route("/ligature/audits/{id}/areas", post(new_area))
        .route("/ligature/audits/{id}/signoff", post(sign_off))
        .route("/ligature/audits/{id}/discard", post(discard))
        .route("/ligature/trust/{trust}", get(trust))
        .route("/ligature/trust/{trust}/settings", post(set_settings))
        .route("/ligature/estates", get(estates::mine))
        .route("/ligature/estates/{trust}", get(estates::page))
}

/// The register's JSON routes (nested under `/api` by `api::routes`).
pub fn api_routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/ligature/wards", get(api_wards))
        .route("/ligature/wards/{ward}", get(api_ward))
        .route("/ligature/wards/{ward}/points/{point}", get(api_point))
        .route("/ligature/trusts/{trust}/escalations", get(api_escalations))
        .route("/ligature/trusts/{trust}/actions", get(estates::api))
}
