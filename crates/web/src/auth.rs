//! Signing in and out, the signed-in user on every request, and limits on login attempts.
//! The session holds only the login name and two times (sign-in, last activity); the role is
//! read afresh on each request, so that a disabled account or a changed role takes effect at
//! once. A session ends after `Config::session_hours` without activity (its stored expiry is
//! moved on by activity, at most once a minute) and `Config::session_absolute_hours` after
//! sign-in whatever the activity.
//!
//! The JSON API also takes a personal token (`Authorization: Bearer mhsip_...`, see
//! `store::tokens`), on `/api/*` GET requests only: never on pages or form posts, so a token
//! cannot be used to change anything and the CSRF rules stay as they are.

use crate::error::AppError;
use crate::layout::Layout;
use crate::{AppState, error::ApiError};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use domain::access::Grant;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use store::tokens::TokenRefusal;
use tower_sessions::Session;

const USER_KEY: &str = "user";
/// Unix time (seconds) of sign-in, for the absolute limit.
const SIGNED_IN_KEY: &str = "signed_in_at";
/// Unix time (seconds) the session's expiry was last moved on by activity.
const SEEN_KEY: &str = "seen_at";
/// Activity moves the stored expiry on at most this often (one write a minute, not one per
/// request), so a session lasts between `session_hours` less a minute and `session_hours`
/// after the last request.
const REFRESH_SECS: i64 = 60;

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The signed-in user.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub name: String,
    pub grant: Grant,
}

/// Why there is no user: pages send people to the login page, the API answers 401.
pub enum AuthRejection {
    Login(String),
    Api,
    /// An API request with an `Authorization` header that is not a token in force.
    Token(&'static str),
    Failed(AppError),
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::Login(next) => {
                Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response()
            }
            AuthRejection::Api => {
                let mut r = ApiError(AppError::Forbidden(
                    "sign in first (POST /login) and send the session cookie, or send a personal API token as Authorization: Bearer".into(),
                ))
                .into_response();
                *r.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
                r
            }
            AuthRejection::Token(why) => {
                let mut r = ApiError(AppError::Forbidden(why.into())).into_response();
                *r.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
                r.headers_mut().insert(
                    axum::http::header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static(
                        "Bearer realm=\"mhsip\", error=\"invalid_token\"",
                    ),
                );
                r
            }
            AuthRejection::Failed(e) => e.into_response(),
        }
    }
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Inside the nested /api router the URI has lost its prefix: ask for the original.
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map(|o| o.0.clone())
            .unwrap_or_else(|| parts.uri.clone());
        let is_api = uri.path().starts_with("/api/");
        let next = uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let deny = || {
            if is_api {
                AuthRejection::Api
            } else {
                AuthRejection::Login(next.clone())
            }
        };
        if is_api && let Some(auth) = parts.headers.get(axum::http::header::AUTHORIZATION) {
            return token_user(state, &parts.method, uri.path(), auth).await;
        }
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| AuthRejection::Failed(AppError::Internal("no session layer".into())))?;
        let failed = |e: tower_sessions::session::Error| {
            AuthRejection::Failed(AppError::Internal(format!("session: {e}")))
        };
        let name: Option<String> = session.get(USER_KEY).await.map_err(failed)?;
        let Some(name) = name else {
            return Err(deny());
        };
        let now = unix_now();
        let signed_in: Option<i64> = session.get(SIGNED_IN_KEY).await.map_err(failed)?;
        let absolute = state.config.session_absolute_hours.saturating_mul(3600);
        let Some(signed_in) = signed_in.filter(|t| now.saturating_sub(*t) < absolute) else {
            // Signed in too long ago (or before sign-in times were kept): sign in again.
            let _ = session.flush().await;
            state
                .store
                .audit(
                    &name,
                    "session_ended",
                    "session",
                    Some("time limit after sign-in"),
                )
                .await
                .map_err(|e| AuthRejection::Failed(e.into()))?;
            return Err(deny());
        };
        match state.store.user_grant(&name).await {
            Ok(Some(grant)) => {
                let seen: Option<i64> = session.get(SEEN_KEY).await.map_err(failed)?;
                if seen.is_none_or(|t| now.saturating_sub(t) >= REFRESH_SECS) {
                    // A change to the session makes the layer save it, with its expiry (and the
                    // cookie's) moved to `session_hours` from now, but never past the absolute
                    // limit.
                    let inactivity = state.config.session_hours.saturating_mul(3600);
                    let end = signed_in.saturating_add(absolute);
                    if now.saturating_add(inactivity) > end
                        && let Ok(at) = time::OffsetDateTime::from_unix_timestamp(end)
                    {
                        session.set_expiry(Some(tower_sessions::Expiry::AtDateTime(at)));
                    }
                    session.insert(SEEN_KEY, now).await.map_err(failed)?;
                }
                Ok(CurrentUser { name, grant })
            }
            Ok(None) => {
                let _ = session.flush().await;
                Err(deny())
            }
            Err(e) => Err(AuthRejection::Failed(e.into())),
        }
    }
}

/// The owner of the API token in an `Authorization: Bearer` header, with their grant as it is
/// now. Only for reading: a token never authorises a state-changing request. Uses and refusals
/// of known tokens are audited by token id, never with the token's text.
async fn token_user(
    state: &AppState,
    method: &axum::http::Method,
    path: &str,
    auth: &axum::http::HeaderValue,
) -> Result<CurrentUser, AuthRejection> {
    let token = auth
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .filter(|t| !t.is_empty())
        .ok_or(AuthRejection::Token(
            "the Authorization header must be 'Bearer' followed by an API token",
        ))?;
    if method != axum::http::Method::GET && method != axum::http::Method::HEAD {
        return Err(AuthRejection::Token("API tokens can only read (GET)"));
    }
    let failed = |e: store::StoreError| AuthRejection::Failed(e.into());
    let outcome = state
        .store
        .use_api_token(token, unix_now())
        .await
        .map_err(failed)?;
    match outcome {
        Ok(t) => {
            // Filed under the organisation the path names, if it names one.
            let org = ["/api/series/", "/api/summary/"]
                .iter()
                .find_map(|p| path.strip_prefix(p))
                .and_then(|rest| rest.split('/').next())
                .map(str::to_ascii_uppercase);
            state
                .store
                .audit_for(
                    &t.owner,
                    "token_used",
                    path,
                    org.as_deref(),
                    Some(&format!("token {} ({})", t.id, t.label)),
                )
                .await
                .map_err(failed)?;
            Ok(CurrentUser {
                name: t.owner,
                grant: t.grant,
            })
        }
        Err(refusal) => {
            let (id, owner, why) = match refusal {
                TokenRefusal::Unknown => {
                    return Err(AuthRejection::Token("the API token is not known"));
                }
                TokenRefusal::Revoked { id, owner } => (id, owner, "revoked"),
                TokenRefusal::Expired { id, owner } => (id, owner, "expired"),
                TokenRefusal::OwnerDisabled { id, owner } => (id, owner, "account disabled"),
            };
            state
                .store
                .audit(
                    &owner,
                    "token_refused",
                    path,
                    Some(&format!("token {id}: {why}")),
                )
                .await
                .map_err(failed)?;
            Err(AuthRejection::Token(match why {
                "revoked" => "the API token has been revoked",
                "expired" => "the API token has expired; make a new one at /account/tokens",
                _ => "the API token's account is disabled",
            }))
        }
    }
}

/// The client's address when the server knows it (not in handler tests).
pub struct ClientAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

/// Failed logins per account and per client address, in a sliding window.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures allowed per account name in the window.
const PER_ACCOUNT: usize = 5;
/// Failures allowed per client address in the window (several people may share a proxy).
const PER_ADDRESS: usize = 20;

impl LoginLimiter {
    fn keys(name: &str, addr: Option<SocketAddr>) -> [(String, usize); 2] {
        [
            (format!("user:{}", name.trim().to_lowercase()), PER_ACCOUNT),
            (
                format!(
                    "addr:{}",
                    addr.map(|a| a.ip().to_string()).unwrap_or_default()
                ),
                PER_ADDRESS,
            ),
        ]
    }

    /// Minutes to wait, if this account or address has failed too often.
    pub fn blocked(&self, name: &str, addr: Option<SocketAddr>) -> Option<u64> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let mut wait = None;
        for (key, limit) in Self::keys(name, addr) {
            if let Some(times) = map.get_mut(&key) {
                times.retain(|t| now.duration_since(*t) < WINDOW);
                if times.len() >= limit {
                    let oldest = times[0];
                    let left = WINDOW.saturating_sub(now.duration_since(oldest));
                    wait = Some(left.as_secs().div_ceil(60).max(1));
                }
            }
        }
        wait
    }

    pub fn failed(&self, name: &str, addr: Option<SocketAddr>) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            // Never grow without bound under a spray of made-up names.
            map.clear();
        }
        for (key, _) in Self::keys(name, addr) {
            map.entry(key).or_default().push(Instant::now());
        }
    }

    pub fn succeeded(&self, name: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("user:{}", name.trim().to_lowercase()));
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    /// Only on a demo database: who to sign in as.
    demo: Option<String>,
    next: String,
    error: Option<String>,
    username: String,
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Only local paths: never send a user on to another site after login.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/".into()
    }
}

async fn login_page(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> LoginPage {
    LoginPage {
        layout: Layout::bare("Sign in"),
        demo: state.store.meta("demo_logins").await.ok().flatten(),
        next: safe_next(q.next.as_deref().unwrap_or("/")),
        error: None,
        username: String::new(),
    }
}

async fn login(
    State(state): State<AppState>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let next = safe_next(&form.next);
    if let Some(minutes) = state.limiter.blocked(&form.username, addr) {
        state
            .store
            .audit(&form.username, "login_blocked", "session", None)
            .await?;
        return Err(AppError::TooManyRequests(format!(
            "Too many failed sign-in attempts. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        )));
    }
    match state
        .store
        .verify_user(&form.username, &form.password)
        .await?
    {
        Some(_) => {
            let name = form.username.trim().to_string();
            state.limiter.succeeded(&name);
            // A new session id at login, so a session id planted before it is worth nothing.
            session
                .cycle_id()
                .await
                .map_err(|e| AppError::Internal(format!("session: {e}")))?;
            let now = unix_now();
            for (key, value) in [
                (USER_KEY, serde_json::json!(name)),
                (SIGNED_IN_KEY, serde_json::json!(now)),
                (SEEN_KEY, serde_json::json!(now)),
            ] {
                session
                    .insert(key, value)
                    .await
                    .map_err(|e| AppError::Internal(format!("session: {e}")))?;
            }
            state.store.audit(&name, "login", "session", None).await?;
            Ok(Redirect::to(&next).into_response())
        }
        None => {
            state.limiter.failed(&form.username, addr);
            state
                .store
                .audit(form.username.trim(), "login_failed", "session", None)
                .await?;
            let page = LoginPage {
                layout: Layout::bare("Sign in"),
                demo: state.store.meta("demo_logins").await.ok().flatten(),
                next,
                error: Some("The username or password is not right.".into()),
                username: form.username,
            };
            Ok((axum::http::StatusCode::UNAUTHORIZED, page).into_response())
        }
    }
}

async fn logout(State(state): State<AppState>, session: Session) -> Result<Redirect, AppError> {
    if let Ok(Some(name)) = session.get::<String>(USER_KEY).await {
        state.store.audit(&name, "logout", "session", None).await?;
    }
    session
        .flush()
        .await
        .map_err(|e| AppError::Internal(format!("session: {e}")))?;
    Ok(Redirect::to("/login"))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}
