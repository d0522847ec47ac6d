//! The estates page (issue 13): every action of a trust's ligature registers, open ones first,
//! each with the form that updates its status, due date and work order or capital bid reference.
//! It is the whole of what estates staff (`Role::Estates`) see of the platform: the action, the
//! ward, the point's reference, where it is and what it is, and nothing of its risk, its history,
//! its photos or any figure. The trust's leads and programme admins see the same list.
//! `ligature::access::can_see_trust_actions` decides who sees it; every view is audited.

use super::{ActionLine, action_line, actions_of, load, today};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, AppError};
use crate::layout::{Choice, Layout};
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::dates::iso;
use ligature::ActionStatus;
use serde::Deserialize;
use serde_json::{Value, json};

/// One action as the estates page lists it.
#[derive(serde::Serialize)]
pub struct EstatesLine {
    pub ward: String,
    pub ward_name: String,
    pub area_name: String,
    pub location: String,
    pub point_description: String,
    pub line: ActionLine,
}

#[derive(Template, WebTemplate)]
#[template(path = "ligature/estates.html")]
pub struct EstatesPage {
    layout: Layout,
    trust: String,
    trust_name: String,
    open: Vec<EstatesLine>,
    closed: Vec<EstatesLine>,
    statuses: Vec<Choice>,
    errors: Vec<String>,
    saved: Option<String>,
}

/// The trust asked for, if `user` may see its actions.
pub(super) async fn trust_of(
    state: &AppState,
    user: &CurrentUser,
    trust: &str,
) -> Result<(String, String), AppError> {
    super::trust_if(
        state,
        user,
        trust,
        ligature::access::can_see_trust_actions,
        |name| format!("The ligature actions of {name} are for its estates staff and trust leads."),
    )
    .await
}

/// Every action of the trust's registers (open ones first, then by due date).
async fn lines(state: &AppState, trust: &str) -> Result<Vec<EstatesLine>, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let at = today();
    let mut out = Vec::new();
    for (ward, _) in state.store.ligature_wards(Some(trust)).await? {
        let actions = actions_of(state, &ward).await?;
        if actions.is_empty() {
            continue;
        }
        let h = load(state, &ward).await?;
        let ward_name = snap
            .orgs
            .get(&ward)
            .map_or_else(|| ward.clone(), |o| o.name.clone());
        for (r, a) in &actions {
            let point = h.register.points.get(&a.point).map(|p| p.state());
            let area_name = point
                .and_then(|s| h.register.areas.get(&s.area))
                .map_or_else(String::new, |a| a.name.clone());
            out.push(EstatesLine {
                ward: ward.clone(),
                ward_name: ward_name.clone(),
                area_name,
                location: point.map_or_else(String::new, |s| s.location.clone()),
                point_description: point.map_or_else(String::new, |s| s.description.clone()),
                line: action_line(r, a, at),
            });
        }
    }
    out.sort_by(|a, b| {
        b.line
            .overdue
            .cmp(&a.line.overdue)
            .then_with(|| a.line.due.cmp(&b.line.due))
            .then(a.line.id.cmp(&b.line.id))
    });
    Ok(out)
}

pub(super) async fn page_for(
    state: &AppState,
    user: &CurrentUser,
    trust: String,
    name: String,
    errors: Vec<String>,
    saved: Option<String>,
) -> Result<EstatesPage, AppError> {
    let all = lines(state, &trust).await?;
    state
        .store
        .audit_for(
            &user.name,
            "ligature_actions_viewed",
            &trust,
            Some(&trust),
            Some(&format!("{} actions", all.len())),
        )
        .await?;
    let (open, closed) = all
        .into_iter()
        .partition(|l| ActionStatus::parse(l.line.status_code).is_ok_and(|s| !s.is_closed()));
    Ok(EstatesPage {
        layout: Layout::new(
            format!("Ligature actions: {name}"),
            user,
            "/ligature/estates",
        ),
        trust,
        trust_name: name,
        open,
        closed,
        statuses: ActionStatus::ALL
            .iter()
            .map(|s| Choice::new(s.code(), s.label(), false))
            .collect(),
        errors,
        saved,
    })
}

/// `/ligature/estates`: the user's own trust's actions.
pub async fn mine(user: CurrentUser) -> Result<Response, AppError> {
    match user.grant.trust.as_deref() {
        Some(t) if ligature::access::can_see_trust_actions(&user.grant, t) => {
            Ok(Redirect::to(&format!("/ligature/estates/{t}")).into_response())
        }
        _ => Err(AppError::Forbidden(
            "The ligature actions page is for a trust's estates staff and leads: open a trust's from its escalation list.".into(),
        )),
    }
}

#[derive(Deserialize, Default)]
pub struct EstatesQuery {
    pub saved: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(trust): Path<String>,
    axum::extract::Query(q): axum::extract::Query<EstatesQuery>,
) -> Result<EstatesPage, AppError> {
    let (t, name) = trust_of(&state, &user, &trust).await?;
    page_for(&state, &user, t, name, Vec::new(), q.saved).await
}

/// `/api/ligature/trusts/{trust}/actions`: the same list as JSON.
pub async fn api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(trust): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (t, _) = trust_of(&state, &user, &trust).await?;
    let all = lines(&state, &t).await?;
    state
        .store
        .audit_for(
            &user.name,
            "ligature_actions_viewed",
            &t,
            Some(&t),
            Some("api"),
        )
        .await?;
    Ok(Json(
        json!({ "trust": t, "as_of": iso(today()), "actions": all }),
    ))
}
