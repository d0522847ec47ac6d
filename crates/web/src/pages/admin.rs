//! Administration (programme admins only): users with their roles and organisations, the
//! organisations held, and the audit log.

use crate::AppState;
use crate::access::require_admin;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::filters;
use crate::layout::{Choice, Layout};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Redirect;
use domain::access::{Grant, Role};
use serde::Deserialize;
use store::accounts::{AuditRow, UserRow};

pub struct TrustView {
    pub code: String,
    pub name: String,
    pub wards: Vec<(String, String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin.html")]
pub struct AdminPage {
    layout: Layout,
    users: Vec<UserRow>,
    roles: Vec<Choice>,
    trusts: Vec<TrustView>,
    message: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub struct AuditPage {
    layout: Layout,
    entries: Vec<AuditRow>,
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    message: Option<String>,
) -> Result<AdminPage, AppError> {
    let snap = state.cache.current(&state.store).await?;
    Ok(AdminPage {
        layout: Layout::new("Administration", user, "/admin"),
        users: state.store.users().await?,
        roles: Role::ALL
            .iter()
            .map(|r| Choice::new(r.as_str(), r.label(), false))
            .collect(),
        trusts: snap
            .orgs
            .trusts()
            .map(|t| TrustView {
                code: t.code.clone(),
                name: t.name.clone(),
                wards: snap
                    .orgs
                    .wards_of(&t.code)
                    .map(|w| {
                        (
                            w.code.clone(),
                            w.name.clone(),
                            format!(
                                "{}, {}, {} beds",
                                w.ward_type.replace('_', " "),
                                w.sex_mix.replace('_', " "),
                                w.beds.map(|b| b.to_string()).unwrap_or("?".into())
                            ),
                        )
                    })
                    .collect(),
            })
            .collect(),
        message,
    })
}

pub async fn page(State(state): State<AppState>, user: CurrentUser) -> Result<AdminPage, AppError> {
    require_admin(&user)?;
    render(&state, &user, None).await
}

#[derive(Deserialize)]
pub struct NewUser {
    pub name: String,
    pub password: String,
    pub role: String,
    #[serde(default)]
    pub trust: String,
    #[serde(default)]
    pub ward: String,
}

pub async fn create_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<NewUser>,
) -> Result<AdminPage, AppError> {
    require_admin(&user)?;
    let snap = state.cache.current(&state.store).await?;
    let outcome = grant_from_form(&snap.orgs, &f.role, &f.trust, &f.ward);
    let message = match outcome {
        Err(e) => format!("The account was not created: {e}."),
        Ok(grant) => match state.store.create_user(&f.name, &f.password, &grant).await {
            Ok(()) => {
                state
                    .store
                    .audit(
                        &user.name,
                        "create_user",
                        f.name.trim(),
                        Some(&format!(
                            "{} {}",
                            grant.role.as_str(),
                            grant.ward.or(grant.trust).unwrap_or_default()
                        )),
                    )
                    .await?;
                format!("Account {} created.", f.name.trim())
            }
            Err(store::StoreError::Invalid(e)) => format!("The account was not created: {e}."),
            Err(e) => return Err(e.into()),
        },
    };
    render(&state, &user, Some(message)).await
}

/// A role with the organisation it needs, checked against the organisations held.
fn grant_from_form(
    orgs: &crate::orgs::Directory,
    role: &str,
    trust: &str,
    ward: &str,
) -> Result<Grant, String> {
    let role = Role::parse(role)?;
    let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let mut trust = opt(trust);
    let ward = opt(ward);
    // A ward user's trust follows from the ward.
    if let (Role::WardUser, Some(w)) = (role, &ward) {
        let org = orgs
            .get(&w.to_ascii_uppercase())
            .filter(|o| o.level == domain::OrgLevel::Ward)
            .ok_or_else(|| format!("there is no ward {w}"))?;
        trust = org.trust.clone();
    }
    if let Some(t) = &trust
        && matches!(role, Role::TrustLead | Role::Uploader)
        && orgs
            .get(&t.to_ascii_uppercase())
            .is_none_or(|o| o.level != domain::OrgLevel::Trust)
    {
        return Err(format!("there is no trust {t}"));
    }
    Grant::new(role, trust, ward)
}

#[derive(Deserialize)]
pub struct GrantForm {
    pub role: String,
    #[serde(default)]
    pub trust: String,
    #[serde(default)]
    pub ward: String,
}

/// Change a user's role and organisation.
pub async fn set_grant(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    Form(f): Form<GrantForm>,
) -> Result<AdminPage, AppError> {
    require_admin(&user)?;
    let snap = state.cache.current(&state.store).await?;
    let message = match grant_from_form(&snap.orgs, &f.role, &f.trust, &f.ward) {
        Err(e) => format!("The role of {name} was not changed: {e}."),
        Ok(_) if name == user.name => {
            "You cannot change your own role; ask another programme admin.".to_string()
        }
        Ok(grant) => {
            if !state.store.set_user_grant(&name, &grant).await? {
                return Err(AppError::NotFound);
            }
            state
                .store
                .audit(
                    &user.name,
                    "change_role",
                    &name,
                    Some(&format!(
                        "{} {}",
                        grant.role.as_str(),
                        grant
                            .ward
                            .clone()
                            .or(grant.trust.clone())
                            .unwrap_or_default()
                    )),
                )
                .await?;
            format!("{name} is now a {}.", grant.role.label().to_lowercase())
        }
    };
    render(&state, &user, Some(message)).await
}

#[derive(Deserialize)]
pub struct DisableForm {
    pub disabled: String,
}

pub async fn set_disabled(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    Form(f): Form<DisableForm>,
) -> Result<Redirect, AppError> {
    require_admin(&user)?;
    let disabled = f.disabled == "yes";
    if disabled && name == user.name {
        return Err(AppError::BadRequest(
            "You cannot disable your own account.".into(),
        ));
    }
    if !state.store.set_user_disabled(&name, disabled).await? {
        return Err(AppError::NotFound);
    }
    state
        .store
        .audit(
            &user.name,
            if disabled {
                "disable_user"
            } else {
                "enable_user"
            },
            &name,
            None,
        )
        .await?;
    Ok(Redirect::to("/admin"))
}

pub async fn audit(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<AuditPage, AppError> {
    require_admin(&user)?;
    state
        .store
        .audit(&user.name, "view_audit_log", "audit_log", None)
        .await?;
    Ok(AuditPage {
        layout: Layout::new("Audit log", &user, "/admin"),
        entries: state.store.audit_log(500).await?,
    })
}
