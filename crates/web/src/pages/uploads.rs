//! Uploads (journey 2): pick a file, its kind and a saved mapping; see the dry run with every
//! failing row as FILE:LINE:COLUMN; confirm to import all of it or none of it. The checked file
//! waits in memory (for its uploader only, half an hour at most) until confirmed.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::filters;
use crate::layout::{Choice, Layout};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Multipart, State};
use domain::access::Role;
use ingest::formats::Kind;
use ingest::mapping::Mapping;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use store::read::{MappingRow, UploadRow};

/// Checked files waiting for confirmation, by random token.
#[derive(Default)]
pub struct Pending {
    files: Mutex<HashMap<String, PendingUpload>>,
}

struct PendingUpload {
    user: String,
    kind: Kind,
    mapping: Option<String>,
    file_name: String,
    bytes: Vec<u8>,
    only_trust: Option<String>,
    created: Instant,
}

const PENDING_FOR: Duration = Duration::from_secs(30 * 60);
/// Memory held by files waiting for confirmation, at most.
const PENDING_BYTES: usize = 1 << 30;

impl Pending {
    fn put(&self, p: PendingUpload) -> String {
        let token = random_token();
        let mut map = self.files.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, v| v.created.elapsed() < PENDING_FOR);
        // One waiting file per user: a new check replaces the last.
        map.retain(|_, v| v.user != p.user);
        while map.values().map(|v| v.bytes.len()).sum::<usize>() + p.bytes.len() > PENDING_BYTES {
            let Some(oldest) = map
                .iter()
                .min_by_key(|(_, v)| v.created)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            map.remove(&oldest);
        }
        map.insert(token.clone(), p);
        token
    }

    fn take(&self, token: &str, user: &str) -> Option<PendingUpload> {
        let mut map = self.files.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(token) {
            Some(p) if p.user == user && p.created.elapsed() < PENDING_FOR => map.remove(token),
            _ => None,
        }
    }
}

fn random_token() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "uploads.html")]
pub struct UploadsPage {
    layout: Layout,
    can_upload: bool,
    trust: Option<String>,
    kinds: Vec<Choice>,
    mappings: Vec<MappingRow>,
    history: Vec<UploadRow>,
    report: Option<ReportView>,
}

pub struct ReportView {
    pub file_name: String,
    pub kind: &'static str,
    pub format: String,
    pub rows: u64,
    pub ok: bool,
    pub errors: Vec<String>,
    pub more_errors: u64,
    pub warnings: Vec<String>,
    pub by_trust: Vec<(String, u64)>,
    pub inserted: u64,
    pub updated: u64,
    pub dry_run: bool,
    pub token: String,
}

fn can_upload(user: &CurrentUser) -> bool {
    matches!(user.grant.role, Role::ProgrammeAdmin | Role::Uploader)
}

/// Whose uploads a user may list: everyone's (admin), their trust's (uploader, trust lead).
pub(crate) fn history_scope(user: &CurrentUser) -> Result<Option<String>, AppError> {
    match user.grant.role {
        Role::ProgrammeAdmin => Ok(None),
        Role::Uploader | Role::TrustLead => Ok(user.grant.trust.clone()),
        _ => Err(AppError::Forbidden(
            "Uploads are made by each trust's uploaders; your account cannot see them.".into(),
        )),
    }
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    report: Option<ReportView>,
    kind: Option<Kind>,
) -> Result<UploadsPage, AppError> {
    let scope = history_scope(user)?;
    let history = state.store.uploads(scope.as_deref(), 50).await?;
    Ok(UploadsPage {
        layout: Layout::new("Uploads", user, "/uploads"),
        can_upload: can_upload(user),
        trust: user.grant.trust.clone(),
        kinds: Kind::ALL
            .iter()
            .map(|k| Choice::new(k.as_str(), k.label(), Some(*k) == kind))
            .collect(),
        mappings: state.store.mappings().await?,
        history,
        report,
    })
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<UploadsPage, AppError> {
    render(&state, &user, None, None).await
}

fn view(report: &ingest::Report, token: String) -> ReportView {
    let s = report.summary.clone().unwrap_or_default();
    ReportView {
        file_name: report.file_name.clone(),
        kind: report.kind,
        format: report.format.clone(),
        rows: report.rows_read,
        ok: report.ok(),
        errors: report.error_lines(),
        more_errors: report.more_errors,
        warnings: report.warnings.clone(),
        by_trust: report.by_trust.clone(),
        inserted: s.inserted,
        updated: s.updated,
        dry_run: report.dry_run,
        token,
    }
}

/// Check (and unless `dry_run`, import) a pending file. The checking is CPU-bound for seconds
/// on a large file, so it runs on a blocking thread, not on one of the server's few async
/// workers: pages go on being served while a file is checked and written.
async fn run(
    state: &AppState,
    user: &CurrentUser,
    p: PendingUpload,
    dry_run: bool,
) -> Result<(PendingUpload, ingest::Report), AppError> {
    let mapping = match &p.mapping {
        Some(name) => {
            let row = state.store.mapping(name).await?.ok_or_else(|| {
                AppError::BadRequest(format!("There is no saved mapping called '{name}'."))
            })?;
            Some(Mapping::from_json(&row.definition).map_err(AppError::BadRequest)?)
        }
        None => None,
    };
    let (state, uploaded_by) = (state.clone(), user.name.clone());
    let runtime = tokio::runtime::Handle::current();
    let (p, result) = tokio::task::spawn_blocking(move || {
        let result = runtime.block_on(async {
            let req = ingest::Request {
                kind: p.kind,
                file_name: &p.file_name,
                bytes: &p.bytes,
                mapping: mapping.as_ref(),
                uploaded_by: &uploaded_by,
                only_trust: p.only_trust.as_deref(),
                dry_run,
            };
            let mut keys = state.keys.lock().await;
            ingest::import(&state.store, &mut keys, &req, &mut |_, _, _| {}).await
        });
        (p, result)
    })
    .await
    .map_err(|e| AppError::Internal(format!("the upload's worker stopped: {e}")))?;
    let report = result.map_err(|e| match e {
        ingest::IngestError::Store(s) => s.into(),
        ingest::IngestError::Key(k) => AppError::Internal(k),
    })?;
    Ok((p, report))
}

/// Step 1: check the file (a dry run) and show what would be imported.
pub async fn check(
    State(state): State<AppState>,
    user: CurrentUser,
    mut form: Multipart,
) -> Result<UploadsPage, AppError> {
    if !can_upload(&user) {
        return Err(AppError::Forbidden(
            "Only a trust's uploaders (and programme administrators) can upload data.".into(),
        ));
    }
    let (mut kind, mut mapping, mut file) = (None, None, None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("The upload was not received whole: {e}")))?
    {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "kind" => {
                let t = field
                    .text()
                    .await
                    .map_err(|e| AppError::BadRequest(e.to_string()))?;
                kind = Some(Kind::parse(&t).map_err(AppError::BadRequest)?);
            }
            "mapping" => {
                let t = field
                    .text()
                    .await
                    .map_err(|e| AppError::BadRequest(e.to_string()))?;
                mapping = Some(t).filter(|t| !t.trim().is_empty());
            }
            "file" => {
                let file_name = field
                    .file_name()
                    .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "upload.csv".into());
                let bytes = field.bytes().await.map_err(|e| {
                    AppError::BadRequest(format!("The file was not received whole: {e}"))
                })?;
                file = Some((file_name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let kind = kind.ok_or_else(|| AppError::BadRequest("Choose what the file holds.".into()))?;
    let (file_name, bytes) = file
        .filter(|(_, b)| !b.is_empty())
        .ok_or_else(|| AppError::BadRequest("Choose a file to upload.".into()))?;
    let pending = PendingUpload {
        user: user.name.clone(),
        kind,
        mapping,
        file_name,
        bytes,
        only_trust: match user.grant.role {
            Role::Uploader => user.grant.trust.clone(),
            _ => None,
        },
        created: Instant::now(),
    };
    let (pending, report) = run(&state, &user, pending, true).await?;
    state
        .store
        .audit(
            &user.name,
            "upload_checked",
            pending.only_trust.as_deref().unwrap_or("all"),
            Some(&format!(
                "{} {}: {} rows, {} errors",
                kind.as_str(),
                pending.file_name,
                report.rows_read,
                report.errors.len() as u64 + report.more_errors
            )),
        )
        .await?;
    let token = if report.ok() {
        state.pending.put(pending)
    } else {
        String::new()
    };
    render(&state, &user, Some(view(&report, token)), Some(kind)).await
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    pub token: String,
}

/// Step 2: import the checked file, in one transaction.
pub async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<ConfirmForm>,
) -> Result<UploadsPage, AppError> {
    if !can_upload(&user) {
        return Err(AppError::Forbidden(
            "Only a trust's uploaders (and programme administrators) can upload data.".into(),
        ));
    }
    let pending = state.pending.take(&form.token, &user.name).ok_or_else(|| {
        AppError::BadRequest(
            "That checked file is no longer waiting (it is kept for 30 minutes). Upload it again."
                .into(),
        )
    })?;
    let (pending, report) = run(&state, &user, pending, false).await?;
    if let Some(s) = &report.summary {
        state
            .store
            .audit(
                &user.name,
                "upload",
                pending.only_trust.as_deref().unwrap_or("all"),
                Some(&format!(
                    "upload {}: {} {}: {} rows, {} new, {} updated",
                    s.upload_id,
                    pending.kind.as_str(),
                    pending.file_name,
                    s.rows,
                    s.inserted,
                    s.updated
                )),
            )
            .await?;
    }
    // The figures are recomputed in the background; pages serve the previous ones until then.
    state.cache.refresh(&state.store).await?;
    render(
        &state,
        &user,
        Some(view(&report, String::new())),
        Some(pending.kind),
    )
    .await
}
