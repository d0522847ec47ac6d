//! `mhsip serve`: the web application on the configured database; and the demo accounts that
//! `mhsip demo` creates before serving.

use crate::config::DataArgs;
use crate::import_cmd::open_keys;
use anyhow::{Context, Result};
use clap::Args;
use domain::access::{Grant, Role};
use std::process::ExitCode;
use store::Store;

/// Where and how the web application listens (`serve` and `demo`).
#[derive(Args, Debug, Clone)]
pub struct ServerArgs {
    /// Address and port to listen on.
    #[arg(long, env = "MHSIP_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Send the session cookie over plain HTTP too (only behind a TLS-terminating proxy that
    /// does not say so, or for a local trial on another host). Off by default: cookies are
    /// Secure, which browsers accept over HTTPS and on localhost.
    #[arg(long, env = "MHSIP_INSECURE_COOKIES")]
    pub insecure_cookies: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

pub async fn run(args: &ServeArgs) -> Result<ExitCode> {
    let store = args.data.open().await?;
    serve(&args.server, &args.data, store, None).await
}

/// Start the server and print where it is (and, for the demo, how to sign in).
pub async fn serve(
    server: &ServerArgs,
    data: &DataArgs,
    store: Store,
    logins: Option<&[(&str, &str, String)]>,
) -> Result<ExitCode> {
    init_logging();
    let keys = open_keys(data, &store).await?;
    let config = web::Config {
        secure_cookies: !server.insecure_cookies,
        data_dir: data.data_dir.clone(),
        ..web::Config::default()
    };
    let state = web::AppState::new(store, keys, config)
        .await
        .context("cannot read the organisations and data range")?;
    // Listen at once, whatever the size of the database: the overview and the ward series are
    // computed in the background (`web::serve`), and a page asked for sooner computes what it
    // needs on demand.
    let listener = tokio::net::TcpListener::bind(&server.bind)
        .await
        .with_context(|| format!("cannot listen on {}", server.bind))?;
    let addr = listener.local_addr()?;
    println!(
        "MHSIP is running at http://{addr}/ (the figures are being computed in the background). Press Ctrl-C to stop."
    );
    if let Some(logins) = logins {
        println!("Demo logins (password for all: {DEMO_PASSWORD}):");
        for (name, role, place) in logins {
            println!("  {name:<12} {role}{place}");
        }
    }
    web::serve(listener, state).await?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn init_logging() {
    use tracing_subscriber::EnvFilter;
    // Errors and warnings by default (sqlx's slow-statement warnings print whole queries, so
    // only its errors); request details never include patients' data.
    let filter =
        EnvFilter::try_from_env("MHSIP_LOG").unwrap_or_else(|_| EnvFilter::new("warn,sqlx=error"));
    // On standard error, so that what a command prints (a benchmark's figures) stays apart.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The demo's shared password: a demo database holds generated people only.
pub const DEMO_PASSWORD: &str = "demo-password";

/// One account per role, created once, on the demo's trust R9A and its ward Ash.
pub async fn demo_accounts(store: &Store) -> Result<Vec<(&'static str, &'static str, String)>> {
    let accounts: [(&str, Role, Option<&str>, Option<&str>); 7] = [
        ("admin", Role::ProgrammeAdmin, None, None),
        ("viewer", Role::ProgrammeViewer, None, None),
        ("lead.r9a", Role::TrustLead, Some("R9A"), None),
        ("ward.ash", Role::WardUser, Some("R9A"), Some("R9A-ASH")),
        ("upload.r9a", Role::Uploader, Some("R9A"), None),
        ("clinician.r9a", Role::Clinician, Some("R9A"), None),
        ("estates.r9a", Role::Estates, Some("R9A"), None),
    ];
    let existing: Vec<String> = store.users().await?.into_iter().map(|u| u.name).collect();
    let mut out = Vec::new();
    for (name, role, trust, ward) in accounts {
        if !existing.iter().any(|e| e == name) {
            let grant = Grant::new(role, trust.map(Into::into), ward.map(Into::into))
                .map_err(anyhow::Error::msg)?;
            store.create_user(name, DEMO_PASSWORD, &grant).await?;
            store
                .audit("demo", "create_user", name, Some(role.as_str()))
                .await?;
        }
        let place = match (trust, ward) {
            (_, Some(w)) => format!(", ward {w}"),
            (Some(t), None) => format!(", trust {t}"),
            _ => String::new(),
        };
        out.push((name, role.label(), place));
    }
    // The sign-in page of a demo database says how to sign in; a real database has no such key.
    let hint: Vec<String> = out
        .iter()
        .map(|(n, r, p)| format!("{n} ({}{p})", r.to_lowercase()))
        .collect();
    store
        .set_meta(
            "demo_logins",
            &format!("{}; password {DEMO_PASSWORD}", hint.join(", ")),
        )
        .await?;
    Ok(out)
}
