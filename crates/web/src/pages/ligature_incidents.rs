//! Incidents at the place (issue 13, item 4): the self-harm incidents an upload recorded at a
//! ward's ligature areas and points, shown on the point's and the area's pages (count, dates,
//! method, harm; the risk system's identifier, never the patient) to the ward's own trust only
//! (`ligature::access::can_see_incidents`), and an incident at a point the register called
//! controlled on its day (`ligature::controlled_on`: removed, replaced with an anti-ligature
//! fitting, or a low residual risk) flagged for review, listed on the trust's escalation page.

use super::{AreaLine, PointLine, WardAccess, load, point_line, settings_of, today, ward_for};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::layout::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use domain::codes::{Harm, SelfHarmMethod};
use domain::dates::{date_from_day, iso};
use ligature::{Banding, Register};
use store::ligature::PlaceIncident;

/// One incident at a place, as the pages show it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct IncidentLine {
    pub ward: String,
    pub id: String,
    pub date: String,
    pub area: String,
    pub point: Option<String>,
    pub method: &'static str,
    pub harm: &'static str,
    /// Why the register called the point controlled on the day, when it did: flagged for review.
    pub flag: Option<&'static str>,
}

/// The incident as a line, flagged when the register called its point controlled on its day.
pub fn line(i: &PlaceIncident, register: &Register, banding: Banding) -> IncidentLine {
    let day = date_from_day(i.day as i32);
    let flag = i
        .ligature_point
        .as_ref()
        .and_then(|p| register.points.get(p))
        .and_then(|p| ligature::controlled_on(p, banding, day))
        .map(|c| c.label());
    IncidentLine {
        ward: i.ward_code.clone(),
        id: i.local_id.clone(),
        date: iso(day),
        area: i.ligature_area.clone().unwrap_or_default(),
        point: i.ligature_point.clone(),
        method: i
            .method
            .as_deref()
            .and_then(|m| SelfHarmMethod::parse(m).ok())
            .map_or("not recorded", SelfHarmMethod::label),
        harm: Harm::parse(&i.harm).map_or("not recorded", Harm::label),
        flag,
    }
}

/// The ward's incidents at one place that `keep` picks, when the user may see the ward's
/// incidents (the ward's own trust only); `None` when they may not.
pub async fn visible_at(
    state: &AppState,
    user: &CurrentUser,
    w: &WardAccess,
    register: &Register,
    banding: Banding,
    keep: impl Fn(&IncidentLine) -> bool,
) -> Result<Option<Vec<IncidentLine>>, AppError> {
    if !ligature::access::can_see_incidents(&user.grant, &w.code, &w.trust) {
        return Ok(None);
    }
    Ok(Some(
        of_ward(state, &w.code, register, banding)
            .await?
            .into_iter()
            .filter(|i| keep(i))
            .collect(),
    ))
}

/// The ward's incidents at its places, newest first.
pub async fn of_ward(
    state: &AppState,
    ward: &str,
    register: &Register,
    banding: Banding,
) -> Result<Vec<IncidentLine>, AppError> {
    let mut out: Vec<IncidentLine> = state
        .store
        .ligature_incidents(ward)
        .await?
        .iter()
        .map(|i| line(i, register, banding))
        .collect();
    out.reverse();
    Ok(out)
}

#[derive(Template, WebTemplate)]
#[template(path = "ligature/area.html")]
pub struct AreaPage {
    layout: Layout,
    ward: WardAccess,
    area: AreaLine,
    points: Vec<PointLine>,
    can_see_incidents: bool,
    incidents: Vec<IncidentLine>,
    flagged: usize,
}

/// `/ligature/ward/{ward}/areas/{area}`: an area, its open points and the incidents there.
pub async fn area(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, area)): Path<(String, String)>,
) -> Result<AreaPage, AppError> {
    let w = ward_for(&state, &user, &code).await?;
    super::full_only(&w)?;
    let h = load(&state, &w.code).await?;
    let area = area.trim().to_ascii_uppercase();
    let a = h
        .register
        .areas
        .get(&area)
        .ok_or(AppError::NotFound)?
        .clone();
    let s = settings_of(&state, &w.trust).await?;
    let at = today();
    let reg = &h.register;
    let points: Vec<PointLine> = reg
        .open_points()
        .filter(|p| p.state().area == a.code)
        .map(|p| point_line(reg, p, s, at))
        .collect();
    let visible = visible_at(&state, &user, &w, reg, s.banding, |i| i.area == a.code).await?;
    let can_see_incidents = visible.is_some();
    let incidents: Vec<IncidentLine> = visible.unwrap_or_default();
    state
        .store
        .audit_for(
            &user.name,
            "ligature_area_viewed",
            &format!("{}/{}", w.code, a.code),
            Some(&w.code),
            Some(&format!("{} incidents shown", incidents.len())),
        )
        .await?;
    Ok(AreaPage {
        layout: Layout::new(format!("Area {}: {}", a.code, a.name), &user, "/ligature"),
        area: AreaLine {
            code: a.code.clone(),
            name: a.name.clone(),
            tier_label: a.tier.label(),
            open: points.len(),
            incidents: incidents.len(),
        },
        points,
        flagged: incidents.iter().filter(|i| i.flag.is_some()).count(),
        incidents,
        can_see_incidents,
        ward: w,
    })
}
