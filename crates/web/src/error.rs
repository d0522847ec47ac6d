//! Errors as users see them: a page (or JSON for the API) that says what went wrong and what to
//! do, never a stack trace or a database message.

use crate::layout::Layout;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("page not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    Internal(String),
}

impl From<store::StoreError> for AppError {
    fn from(e: store::StoreError) -> AppError {
        match e {
            store::StoreError::Invalid(m) => AppError::BadRequest(m),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<spc::SpcError> for AppError {
    fn from(e: spc::SpcError) -> AppError {
        AppError::Internal(format!("chart: {e}"))
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the user is told: internal details stay in the server's log.
    pub fn public_message(&self) -> String {
        match self {
            AppError::NotFound => {
                "There is no page here. Check the address, or start from the overview.".into()
            }
            AppError::Forbidden(m) | AppError::BadRequest(m) | AppError::TooManyRequests(m) => {
                m.clone()
            }
            AppError::Internal(_) => {
                "Something went wrong on our side. The error has been logged; please try again."
                    .into()
            }
        }
    }

    fn log(&self) {
        if let AppError::Internal(detail) = self {
            tracing::error!(%detail, "request failed");
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: &'static str,
    message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let heading = match self {
            AppError::NotFound => "Page not found",
            AppError::Forbidden(_) => "You do not have access to this",
            AppError::BadRequest(_) => "That request could not be used",
            AppError::TooManyRequests(_) => "Too many attempts",
            AppError::Internal(_) => "Sorry, there is a problem with the service",
        };
        let page = ErrorPage {
            layout: Layout::bare(heading),
            heading,
            message: self.public_message(),
        };
        let body = page
            .render()
            .unwrap_or_else(|_| format!("<h1>{heading}</h1>"));
        (self.status(), Html(body)).into_response()
    }
}

/// The same errors as JSON, for `/api`.
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> ApiError {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        let body = serde_json::json!({ "error": self.0.public_message() });
        (self.0.status(), axum::Json(body)).into_response()
    }
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}
