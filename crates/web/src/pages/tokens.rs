//! Personal API tokens (every signed-in user, for their own account): make one, see it once,
//! revoke it. A token reads the JSON API with its owner's role and organisation as they are at
//! each request (`auth::token_user`); it is kept only as a hash (`store::tokens`).

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::layout::{Choice, Layout};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use store::tokens::{MAX_DAYS, TOKEN_PREFIX, TokenRow};

/// The lifetimes offered, in days; the longest is `store::tokens::MAX_DAYS`.
const DAYS: [i64; 4] = [7, 30, 60, MAX_DAYS];

pub struct TokenView {
    pub id: i64,
    pub label: String,
    pub prefix: String,
    pub created_at: String,
    pub expires: String,
    pub last_used: String,
    /// "in force", "expired" or "revoked".
    pub status: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "tokens.html")]
pub struct TokensPage {
    layout: Layout,
    tokens: Vec<TokenView>,
    days: Vec<Choice>,
    /// A token just made: shown on this page only, never again.
    new_token: Option<String>,
    message: Option<String>,
    error: Option<String>,
}

fn when(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| {
            format!(
                "{} {:02}:{:02}",
                domain::dates::iso(t.date()),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
}

fn view(t: TokenRow, now: i64) -> TokenView {
    TokenView {
        id: t.id,
        status: if t.revoked_at.is_some() {
            "revoked"
        } else if t.expires_at <= now {
            "expired"
        } else {
            "in force"
        },
        label: t.label,
        prefix: t.prefix,
        created_at: t.created_at,
        expires: when(t.expires_at),
        last_used: t.last_used_at.unwrap_or_else(|| "never".into()),
    }
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    new_token: Option<String>,
    message: Option<String>,
    error: Option<String>,
) -> Result<TokensPage, AppError> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Ok(TokensPage {
        layout: Layout::new("API tokens", user, "/account/tokens"),
        tokens: state
            .store
            .api_tokens(&user.name)
            .await?
            .into_iter()
            .map(|t| view(t, now))
            .collect(),
        days: DAYS
            .iter()
            .map(|d| Choice::new(d.to_string(), format!("{d} days"), *d == 30))
            .collect(),
        new_token,
        message,
        error,
    })
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<TokensPage, AppError> {
    render(&state, &user, None, None, None).await
}

#[derive(Deserialize)]
pub struct NewToken {
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub days: String,
}

/// Make a token: 32 random bytes, shown once on the page that answers this post (which no
/// browser or proxy may keep).
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<NewToken>,
) -> Result<impl IntoResponse, AppError> {
    let page = make(&state, &user, f).await?;
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        page,
    ))
}

async fn make(state: &AppState, user: &CurrentUser, f: NewToken) -> Result<TokensPage, AppError> {
    let Some(days) = f
        .days
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|d| DAYS.contains(d))
    else {
        let e = format!("Choose how long the token lasts (at most {MAX_DAYS} days).");
        return render(state, user, None, None, Some(e)).await;
    };
    let bytes: [u8; 32] = rand::random();
    let mut token = String::from(TOKEN_PREFIX);
    for b in bytes {
        token.push_str(&format!("{b:02x}"));
    }
    let expires = time::OffsetDateTime::now_utc().unix_timestamp() + days * 86_400;
    match state
        .store
        .create_api_token(&user.name, &f.label, &token, expires)
        .await
    {
        Ok(id) => {
            state
                .store
                .audit(
                    &user.name,
                    "token_created",
                    &user.name,
                    Some(&format!(
                        "token {id} ({}), expires {}",
                        f.label.trim(),
                        when(expires)
                    )),
                )
                .await?;
            let message = format!(
                "Token \"{}\" made. Copy it now: it is not shown again.",
                f.label.trim()
            );
            render(state, user, Some(token), Some(message), None).await
        }
        Err(store::StoreError::Invalid(e)) => {
            render(
                state,
                user,
                None,
                None,
                Some(format!("No token was made: {e}.")),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Revoke one of the user's own tokens.
pub async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Redirect, AppError> {
    if !state.store.revoke_api_token(&user.name, id).await? {
        return Err(AppError::NotFound);
    }
    state
        .store
        .audit(
            &user.name,
            "token_revoked",
            &user.name,
            Some(&format!("token {id}")),
        )
        .await?;
    Ok(Redirect::to("/account/tokens"))
}
