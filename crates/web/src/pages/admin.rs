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
use axum::extract::{Path, Query, State};
use axum::response::Redirect;
use domain::access::{Grant, Role};
use serde::Deserialize;
use store::accounts::{AuditRow, UserRow};
use store::audit::{AuditFilter, Cursor};

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
    /// The filter as typed, to fill the form again.
    q: AuditQuery,
    actions: Vec<Choice>,
    matching: i64,
    /// Links to the newer and older pages, with the filter.
    newer: Option<String>,
    older: Option<String>,
    /// The CSV download of everything the filter matches.
    download: String,
}

/// Entries per page of the audit log.
const AUDIT_PAGE: i64 = 100;
/// Entries read at a time for the CSV download.
const CSV_CHUNK: i64 = 5_000;

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
                    .audit_for(
                        &user.name,
                        "create_user",
                        f.name.trim(),
                        grant.ward.as_deref().or(grant.trust.as_deref()),
                        Some(&format!(
                            "{} {}",
                            grant.role.as_str(),
                            grant
                                .ward
                                .as_deref()
                                .or(grant.trust.as_deref())
                                .unwrap_or_default()
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
        && matches!(
            role,
            Role::TrustLead | Role::Uploader | Role::Clinician | Role::Estates
        )
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
                .audit_for(
                    &user.name,
                    "change_role",
                    &name,
                    grant.ward.as_deref().or(grant.trust.as_deref()),
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

/// The audit log's filter and page, as plain query parameters (a form without JavaScript).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub org: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// Show entries older than this id (the next page).
    #[serde(default)]
    pub before: Option<i64>,
    /// Show entries newer than this id (the previous page).
    #[serde(default)]
    pub after: Option<i64>,
}

impl AuditQuery {
    fn filter(&self) -> Result<AuditFilter, AppError> {
        let date = |s: &str, what: &str| -> Result<Option<time::Date>, AppError> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            domain::dates::parse_date(s)
                .map(Some)
                .map_err(|e| AppError::BadRequest(format!("{what}: {e}")))
        };
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(AuditFilter {
            user: text(&self.user),
            action: text(&self.action),
            org: text(&self.org),
            from: date(&self.from, "From")?,
            to: date(&self.to, "To")?,
        })
    }

    /// The filter as a query string (no paging), for links.
    fn query_string(&self) -> String {
        [
            ("user", &self.user),
            ("action", &self.action),
            ("org", &self.org),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", crate::auth::urlencode(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }

    /// The filter in words, for the audit log's own entries.
    fn describe(&self) -> String {
        let q = self.query_string();
        if q.is_empty() { "everything".into() } else { q }
    }
}

fn with_query(path: &str, filter: &str, extra: Option<String>) -> String {
    let parts: Vec<String> = [Some(filter.to_string()).filter(|f| !f.is_empty()), extra]
        .into_iter()
        .flatten()
        .collect();
    if parts.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", parts.join("&"))
    }
}

pub async fn audit(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> Result<AuditPage, AppError> {
    require_admin(&user)?;
    let filter = q.filter()?;
    let cursor = match (q.before, q.after) {
        (Some(b), _) => Cursor::Before(b),
        (None, Some(a)) => Cursor::After(a),
        (None, None) => Cursor::Newest,
    };
    state
        .store
        .audit(
            &user.name,
            "view_audit_log",
            "audit_log",
            Some(&q.describe()),
        )
        .await?;
    let page = state.store.audit_page(&filter, cursor, AUDIT_PAGE).await?;
    let qs = q.query_string();
    let mut actions = state.store.audit_actions().await?;
    if !q.action.trim().is_empty() && !actions.iter().any(|a| a == q.action.trim()) {
        actions.push(q.action.trim().to_string());
    }
    let actions = std::iter::once(Choice::new("", "Any action", q.action.trim().is_empty()))
        .chain(actions.into_iter().map(|a| {
            let selected = a == q.action.trim();
            Choice::new(a.clone(), a.replace('_', " "), selected)
        }))
        .collect();
    Ok(AuditPage {
        layout: Layout::new("Audit log", &user, "/admin"),
        newer: page
            .newer
            .then(|| page.rows.first().map(|r| r.id))
            .flatten()
            .map(|id| with_query("/admin/audit", &qs, Some(format!("after={id}")))),
        older: page
            .older
            .then(|| page.rows.last().map(|r| r.id))
            .flatten()
            .map(|id| with_query("/admin/audit", &qs, Some(format!("before={id}")))),
        download: with_query("/admin/audit/download", &qs, None),
        matching: page.matching,
        entries: page.rows,
        actions,
        q,
    })
}

/// Everything the filter matches, newest first, as CSV (audited).
pub async fn audit_download(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> Result<axum::response::Response, AppError> {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    require_admin(&user)?;
    let filter = q.filter()?;
    let mut out = format!("{}\n", store::accounts::AuditRow::CSV_HEADER);
    let mut cursor = Cursor::Newest;
    let mut rows = 0usize;
    loop {
        let page = state.store.audit_page(&filter, cursor, CSV_CHUNK).await?;
        for r in &page.rows {
            out.push_str(&domain::csv::record(&r.cells()));
            out.push('\n');
        }
        rows += page.rows.len();
        match page.rows.last() {
            Some(last) if page.older => cursor = Cursor::Before(last.id),
            _ => break,
        }
    }
    state
        .store
        .audit(
            &user.name,
            "download_audit_log",
            "audit_log",
            Some(&format!("{} ({rows} entries) as csv", q.describe())),
        )
        .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"audit-log.csv\""),
            ),
        ],
        out,
    )
        .into_response())
}
