//! The MHSIP web application: server-rendered pages in the NHS.UK look, a JSON API, accounts
//! bound to organisations, and the audit log. Handlers are thin: they ask `access` what the user
//! may see, fetch through `store` (cached per data generation), analyse with `spc`, and render.

mod access;
mod api;
mod assets;
mod auth;
mod cache;
pub mod chart;
mod error;
mod filters;
mod forest;
mod layout;
mod orgs;
mod pages;
mod series_sources;
mod session_store;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use ingest::pseudonym::Pseudonymiser;
use std::path::PathBuf;
use std::sync::Arc;
use store::Store;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// Settings read at start-up.
#[derive(Clone, Debug)]
pub struct Config {
    /// Send the session cookie only over HTTPS (and localhost). Off only for plain-HTTP
    /// deployments behind nothing, which we do not recommend.
    pub secure_cookies: bool,
    /// The data folder (pseudonymisation key, SQLite file).
    pub data_dir: PathBuf,
    /// Hours of inactivity after which a session ends.
    pub session_hours: i64,
    /// Hours after sign-in at which a session ends, whatever the activity.
    pub session_absolute_hours: i64,
    /// Largest upload accepted, in bytes.
    pub max_upload_bytes: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            secure_cookies: true,
            data_dir: PathBuf::from("data"),
            session_hours: 8,
            session_absolute_hours: 12,
            max_upload_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    // Fields are crate-private: handlers reach them through `AppState`'s Deref.
    pub(crate) store: Store,
    pub(crate) keys: tokio::sync::Mutex<Pseudonymiser>,
    pub(crate) cache: cache::Cache,
    pub(crate) limiter: auth::LoginLimiter,
    pub(crate) pending: pages::uploads::Pending,
    pub(crate) config: Config,
    /// FREED services' referrals not yet off their waiting lists, per data generation.
    pub(crate) freed: pages::freed::ListCache,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub async fn new(store: Store, keys: Pseudonymiser, config: Config) -> store::Result<AppState> {
        let cache = cache::Cache::load(&store).await?;
        Ok(AppState(Arc::new(Inner {
            store,
            keys: tokio::sync::Mutex::new(keys),
            cache,
            limiter: auth::LoginLimiter::default(),
            pending: pages::uploads::Pending::default(),
            config,
            freed: pages::freed::ListCache::default(),
        })))
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// Compute the overview once, so the first visitor does not wait for it.
    pub async fn warm(&self) -> Result<(), error::AppError> {
        pages::overview::warm(self).await
    }

    /// After an upload made outside the pages (the command line, a benchmark): start
    /// computing its figures at once, and wait until pages serve them for the uploading
    /// trusts (the region's and ICBs' series may still be catching up: see `settled`).
    pub async fn serving_newest(&self) -> Result<(), error::AppError> {
        self.cache.refresh(&self.store).await?;
        // Generations are compared for equality only (they mix ids with the ligature
        // registers' version, so they do not grow): wait until the one served is the newest,
        // reading the newest again in case the data moved meanwhile.
        while self.cache.serving_generation() != self.store.data_generation().await? {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        Ok(())
    }

    /// Wait until the figures served are those of the newest data (after an upload, the next
    /// generation is computed in the background while the previous one is served).
    pub async fn settled(&self) -> Result<(), error::AppError> {
        self.cache.settled(&self.store).await?;
        Ok(())
    }
}

/// The whole application: pages, API, assets, sessions, CSRF checks and security headers.
pub fn router(state: AppState) -> Router {
    let sessions =
        SessionManagerLayer::new(session_store::DbSessionStore::new(state.store().clone()))
            .with_name("mhsip_session")
            .with_http_only(true)
            .with_same_site(SameSite::Strict)
            .with_secure(state.config.secure_cookies)
            .with_expiry(Expiry::OnInactivity(time::Duration::hours(
                state.config.session_hours,
            )));
    let limit = state.config.max_upload_bytes;
    Router::new()
        .merge(pages::routes())
        .nest("/api", api::routes())
        .merge(auth::routes())
        .route("/assets/{*path}", axum::routing::get(assets::serve))
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .fallback(error::not_found)
        .with_state(state)
        .layer(sessions)
        .layer(DefaultBodyLimit::max(limit))
        // Cross-site form posts are refused (Sec-Fetch-Site / Origin checks), on every route.
        .layer(tower_http::csrf::CsrfLayer::new())
        // Set unless the handler set its own: only the attention test's page does
        // (`pages::test::TEST_PAGE_CSP`, the same policy with 'wasm-unsafe-eval' for the
        // on-device face detector).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(tower_http::compression::CompressionLayer::new())
}

/// Serve until Ctrl-C (or SIGTERM), deleting expired sessions every hour.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    // The overview first, then every trust's ward series and the weekly views; pages asked
    // for meanwhile compute what they need (the cache computes each series once).
    let warming = state.clone();
    tokio::spawn(async move {
        if let Err(e) = warming.warm().await {
            tracing::warn!("computing the overview failed: {e}");
        }
        pages::overview::warm_rest(&warming).await
    });
    let store = state.store().clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let _ = store
                .delete_expired_sessions(time::OffsetDateTime::now_utc().unix_timestamp())
                .await;
        }
    });
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
