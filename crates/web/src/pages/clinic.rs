//! The clinician's pages of the attention test (issue 15; docs/web.md "Attention tests"):
//!
//! - `GET /clinic`: the service's tests and the codes issued, and the form to issue a code;
//! - `POST /clinic/codes`: issue a remote test code (shown once, on the page that answers);
//! - `POST /clinic/codes/{id}/reissue`: a new code for the same patient (a repeat test), the
//!   old one withdrawn if it was not used; `POST /clinic/codes/{id}/withdraw`;
//! - `GET /clinic/tests/{id}` (`?against=ID`): the report, with a repeat test side by side;
//! - `POST /clinic/tests/{id}/notes`: the test leader's observation notes;
//! - `GET /clinic/tests/{id}/log.csv`: the raw trial log.
//!
//! Who may see a test is `domain::access::Grant::can_see_attention_tests` (a clinician of the
//! test's trust), asked at every read; another trust's clinician gets 403. Every score comes
//! from `cpt` (the log is scored again from the raw log for the report; the stored score is the
//! same by construction, and `tests/cpt.rs` checks it). Every view, download, code and note is
//! audited, by test or code id and trust, never with a patient's reference.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::layout::{Choice, Layout};
use crate::pages::test::{Camera, MIN_TRACK_HZ, Timing, minutes};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use cpt::norms::{Assessment, NormSex, NormsTable, SummaryKind};
use cpt::score::Outcome;
use cpt::{Activity, ActivityOptions, HeadTrack, RawLog, Score, ScoringOptions, Sex, TaskVersion};
use domain::access::Role;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use store::cpt::{CodeRow, NewCode, TestRow, TestSummary};

/// The illustrative norms shipped with `cpt`, used when the data folder holds no norms file
/// for the task (`DATA/norms/go_no_go.csv`, `DATA/norms/one_back.csv`).
const DEMO_GO_NO_GO: &str = include_str!("../../../cpt/norms/illustrative-go-no-go.csv");
const DEMO_ONE_BACK: &str = include_str!("../../../cpt/norms/illustrative-one-back.csv");

/// A Q-score at or above this is flagged atypical (`cpt`'s default threshold).
pub const THRESHOLD: f64 = 1.5;
/// Fewer children than this of the child's age band, sex and ethnic group in the norm sample:
/// the report warns that the group is thin.
pub const THIN_GROUP: u32 = 20;
/// A shortened test (for trying the system): this long.
pub const SHORT_MS: i64 = 30_000;
/// How long a code may stay in force, in days.
pub const MAX_CODE_DAYS: i64 = 28;
/// The list shows this many of the newest tests unless all are asked for (`?all=yes`).
pub const LIST_TESTS: i64 = 100;
const ETHNIC_GROUPS: [&str; 5] = ["White", "Asian", "Black", "Mixed", "Other"];

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
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

/// The clinician's trust, or 403 for every other account.
fn clinician_trust(user: &CurrentUser) -> Result<String, AppError> {
    match (&user.grant.role, &user.grant.trust) {
        (Role::Clinician, Some(t)) if user.grant.can_see_attention_tests(t) => Ok(t.clone()),
        _ => Err(AppError::Forbidden(format!(
            "Attention tests are seen only by the clinicians of each trust's children's services; your account ({}) cannot see them.",
            user.grant.role.label().to_lowercase()
        ))),
    }
}

/// A test the user may see (403 for another trust's, 404 for none).
async fn visible_test(state: &AppState, user: &CurrentUser, id: i64) -> Result<TestRow, AppError> {
    clinician_trust(user)?;
    let test = state.store.cpt_test(id).await?.ok_or(AppError::NotFound)?;
    if !user.grant.can_see_attention_tests(&test.trust_code) {
        return Err(AppError::Forbidden(
            "This attention test belongs to another trust's service; your account cannot see it."
                .into(),
        ));
    }
    Ok(test)
}

fn task_label(task: &str) -> &'static str {
    match TaskVersion::from_id(task) {
        Some(TaskVersion::GoNoGo) => "Go/no-go (ages 6 to 11)",
        Some(TaskVersion::OneBack) => "One-back (12 and over)",
        None => "Unknown task",
    }
}

fn standard_ms(task: &str) -> i64 {
    TaskVersion::from_id(task).map_or(0, |v| i64::from(v.params().duration_ms))
}

fn length_label(task: &str, duration_ms: i64) -> String {
    let m = minutes(u32::try_from(duration_ms).unwrap_or(0));
    if duration_ms < standard_ms(task) {
        format!("{m} (shortened, for trying the system)")
    } else {
        m
    }
}

// ----- the list and the codes -----

pub struct TestLine {
    pub id: i64,
    /// The code it was made with (a repeat test is a new code for the same patient).
    pub code_id: i64,
    pub finished: String,
    pub patient_ref: String,
    pub service: String,
    pub task: &'static str,
    pub length: String,
}

pub struct CodeLine {
    pub id: i64,
    pub patient_ref: String,
    pub service: String,
    pub task: &'static str,
    pub length: String,
    pub issued: String,
    pub expires: String,
    pub status: &'static str,
    pub repeat_of: Option<i64>,
    pub can_withdraw: bool,
}

/// A code just issued: shown on this page only.
pub struct IssuedCode {
    pub text: String,
    pub patient_ref: String,
    pub expires: String,
    pub task: &'static str,
    pub length: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "clinic/list.html")]
pub struct ClinicPage {
    layout: Layout,
    trust: String,
    tests: Vec<TestLine>,
    /// Older tests are not listed (`?all=yes` lists them).
    more: bool,
    codes: Vec<CodeLine>,
    issued: Option<IssuedCode>,
    error: Option<String>,
    form: CodeFormView,
}

#[derive(Default)]
pub struct CodeFormView {
    pub patient_ref: String,
    pub age: String,
    pub service: String,
    pub sexes: Vec<Choice>,
    pub ethnic_groups: Vec<Choice>,
    pub days: String,
    pub short: bool,
}

fn test_line(t: TestSummary) -> TestLine {
    TestLine {
        id: t.id,
        code_id: t.code_id,
        finished: when(t.finished_at),
        task: task_label(&t.task),
        length: length_label(&t.task, t.duration_ms),
        patient_ref: t.patient_ref,
        service: t.service,
    }
}

fn code_line(c: CodeRow, now: i64) -> CodeLine {
    let status = if c.used_at.is_some() {
        "used"
    } else if c.revoked_at.is_some() {
        "withdrawn"
    } else if c.expires_at <= now {
        "expired"
    } else if c.started_at.is_some() {
        "started"
    } else {
        "in force"
    };
    CodeLine {
        id: c.id,
        task: task_label(&c.task),
        length: length_label(&c.task, c.duration_ms),
        issued: when(c.issued_at),
        expires: when(c.expires_at),
        status,
        repeat_of: c.repeat_of,
        can_withdraw: matches!(status, "in force" | "started"),
        patient_ref: c.patient_ref,
        service: c.service,
    }
}

fn form_view(f: Option<&CodeForm>, trust: &str) -> CodeFormView {
    let sex = f.map_or("", |f| f.sex.as_str());
    let eth = f.map_or("", |f| f.ethnic_group.as_str());
    CodeFormView {
        patient_ref: f.map(|f| f.patient_ref.clone()).unwrap_or_default(),
        age: f.map(|f| f.age.clone()).unwrap_or_default(),
        service: f
            .map(|f| f.service.clone())
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| trust.to_string()),
        sexes: [("", "Not recorded"), ("female", "Female"), ("male", "Male")]
            .iter()
            .map(|(v, l)| Choice::new(*v, *l, *v == sex))
            .collect(),
        ethnic_groups: std::iter::once(("", "Not recorded"))
            .chain(ETHNIC_GROUPS.iter().map(|g| (*g, *g)))
            .map(|(v, l)| Choice::new(v, l, v == eth))
            .collect(),
        days: f
            .map(|f| f.days.clone())
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| "14".into()),
        short: f.is_some_and(|f| f.length == "short"),
    }
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    trust: &str,
    issued: Option<IssuedCode>,
    error: Option<String>,
    form: Option<&CodeForm>,
    all: bool,
) -> Result<ClinicPage, AppError> {
    let now = unix_now();
    let limit = (!all).then_some(LIST_TESTS + 1);
    let mut tests = state.store.cpt_tests(trust, limit).await?;
    let more = !all && tests.len() as i64 > LIST_TESTS;
    if !all {
        tests.truncate(LIST_TESTS as usize);
    }
    Ok(ClinicPage {
        layout: Layout::new("Attention tests", user, "/clinic"),
        trust: trust.to_string(),
        tests: tests.into_iter().map(test_line).collect(),
        more,
        codes: state
            .store
            // A used code is shown as its test (with the button for a repeat).
            .cpt_codes(trust, true)
            .await?
            .into_iter()
            .map(|c| code_line(c, now))
            .collect(),
        issued,
        error,
        // Filled in again only after an error; after a code is issued it starts empty.
        form: form_view(form, trust),
    })
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub all: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<ClinicPage, AppError> {
    let trust = clinician_trust(&user)?;
    state
        .store
        .audit_for(&user.name, "cpt_list_viewed", &trust, Some(&trust), None)
        .await?;
    render(&state, &user, &trust, None, None, None, q.all.is_some()).await
}

#[derive(Deserialize, Default)]
pub struct CodeForm {
    #[serde(default)]
    pub patient_ref: String,
    #[serde(default)]
    pub age: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub ethnic_group: String,
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub days: String,
    /// "full" (the default) or "short": a shortened test for trying the system.
    #[serde(default)]
    pub length: String,
}

/// 160 random bits in Crockford's base 32 (32 characters), in groups of four.
fn new_code_text() -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bytes: [u8; 20] = rand::random();
    let mut bits: u64 = 0;
    let mut n = 0;
    let mut out = String::with_capacity(40);
    for b in bytes {
        bits = (bits << 8) | u64::from(b);
        n += 8;
        while n >= 5 {
            n -= 5;
            if !out.is_empty() && out.chars().filter(|c| *c != '-').count() % 4 == 0 {
                out.push('-');
            }
            out.push(ALPHABET[((bits >> n) & 31) as usize] as char);
        }
    }
    out
}

/// The form's fields as a code, or what is wrong (naming the field).
fn read_form(f: &CodeForm, trust: &str, user: &str, now: i64) -> Result<NewCode, String> {
    let patient_ref = f.patient_ref.trim();
    if patient_ref.is_empty() || patient_ref.chars().count() > 40 {
        return Err("Patient reference: enter the service's pseudonym or local reference for the child (1 to 40 characters; never an NHS number).".into());
    }
    if patient_ref.len() == 10 && patient_ref.chars().all(|c| c.is_ascii_digit()) {
        return Err("Patient reference: this looks like an NHS number. Use the service's own pseudonym or local reference instead.".into());
    }
    let age: u8 = f.age.trim().parse().map_err(|_| {
        format!(
            "Age: enter the child's age in whole years, 6 to 17 (found \"{}\").",
            f.age.trim()
        )
    })?;
    if !(6..=17).contains(&age) {
        return Err(format!(
            "Age: the test is for children and young people of 6 to 17 (found {age})."
        ));
    }
    let version = TaskVersion::for_age(age).ok_or("Age: the test is for ages 6 to 17.")?;
    let sex = match f.sex.trim() {
        "" => None,
        s @ ("female" | "male") => Some(s.to_string()),
        other => {
            return Err(format!(
                "Sex: choose female, male or not recorded (found \"{other}\")."
            ));
        }
    };
    let ethnic_group = match f.ethnic_group.trim() {
        "" => None,
        g if ETHNIC_GROUPS.contains(&g) => Some(g.to_string()),
        other => {
            return Err(format!(
                "Ethnic group: choose one of the list (found \"{other}\")."
            ));
        }
    };
    let service = f.service.trim().to_ascii_uppercase();
    let service = if service.is_empty() {
        trust.to_string()
    } else {
        service
    };
    if !(service == trust
        || (service.starts_with(&format!("{trust}-"))
            && service.len() <= 20
            && service
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')))
    {
        return Err(format!(
            "Service: enter your trust's code ({trust}) or a unit's code that starts with it ({trust}-...), found \"{service}\"."
        ));
    }
    let days: i64 = f
        .days
        .trim()
        .parse()
        .ok()
        .filter(|d| (1..=MAX_CODE_DAYS).contains(d))
        .ok_or_else(|| {
            format!("In force for: enter a number of days from 1 to {MAX_CODE_DAYS}.")
        })?;
    let duration_ms = match f.length.trim() {
        "" | "full" => i64::from(version.params().duration_ms),
        "short" => SHORT_MS,
        other => {
            return Err(format!(
                "Length: choose the full test or the shortened one (found \"{other}\")."
            ));
        }
    };
    Ok(NewCode {
        trust_code: trust.to_string(),
        service,
        patient_ref: patient_ref.to_string(),
        age_years: age,
        sex,
        ethnic_group,
        task: version.id().to_string(),
        duration_ms,
        issued_by: user.to_string(),
        issued_at: now,
        expires_at: now + days * 86_400,
        repeat_of: None,
    })
}

fn no_store(page: ClinicPage) -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        page,
    )
        .into_response()
}

async fn issue(
    state: &AppState,
    user: &CurrentUser,
    trust: &str,
    code: NewCode,
) -> Result<IssuedCode, AppError> {
    let text = new_code_text();
    let id = state.store.issue_cpt_code(&code, &text).await?;
    state
        .store
        .audit_for(
            &user.name,
            "cpt_code_issued",
            &format!("cpt code {id}"),
            Some(trust),
            Some(&format!(
                "{}, {}{}, expires {}",
                code.task,
                minutes(u32::try_from(code.duration_ms).unwrap_or(0)),
                code.repeat_of
                    .map(|r| format!(", repeat of code {r}"))
                    .unwrap_or_default(),
                when(code.expires_at)
            )),
        )
        .await?;
    Ok(IssuedCode {
        text,
        task: task_label(&code.task),
        length: length_label(&code.task, code.duration_ms),
        expires: when(code.expires_at),
        patient_ref: code.patient_ref,
    })
}

pub async fn issue_code(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<CodeForm>,
) -> Result<Response, AppError> {
    let trust = clinician_trust(&user)?;
    let now = unix_now();
    match read_form(&f, &trust, &user.name, now) {
        Err(e) => {
            let page = render(&state, &user, &trust, None, Some(e), Some(&f), false).await?;
            Ok((axum::http::StatusCode::BAD_REQUEST, page).into_response())
        }
        Ok(code) => {
            let issued = issue(&state, &user, &trust, code).await?;
            Ok(no_store(
                render(&state, &user, &trust, Some(issued), None, None, false).await?,
            ))
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ReissueForm {
    #[serde(default)]
    pub days: String,
}

/// A new code for the same patient (a repeat test, or a lost or expired code); the old code is
/// withdrawn if it was not used.
pub async fn reissue(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<ReissueForm>,
) -> Result<Response, AppError> {
    let trust = clinician_trust(&user)?;
    let old = state.store.cpt_code(id).await?.ok_or(AppError::NotFound)?;
    if !user.grant.can_see_attention_tests(&old.trust_code) {
        return Err(AppError::Forbidden(
            "This code belongs to another trust's service.".into(),
        ));
    }
    let now = unix_now();
    let days: i64 = f
        .days
        .trim()
        .parse()
        .ok()
        .filter(|d| (1..=MAX_CODE_DAYS).contains(d))
        .unwrap_or(14);
    if state.store.revoke_cpt_code(&trust, id, now).await? {
        state
            .store
            .audit_for(
                &user.name,
                "cpt_code_withdrawn",
                &format!("cpt code {id}"),
                Some(&trust),
                Some("replaced by a new code"),
            )
            .await?;
    }
    let code = NewCode {
        trust_code: trust.clone(),
        service: old.service,
        patient_ref: old.patient_ref,
        age_years: u8::try_from(old.age_years).unwrap_or(0),
        sex: old.sex,
        ethnic_group: old.ethnic_group,
        task: old.task,
        duration_ms: old.duration_ms,
        issued_by: user.name.clone(),
        issued_at: now,
        expires_at: now + days * 86_400,
        repeat_of: Some(id),
    };
    let issued = issue(&state, &user, &trust, code).await?;
    Ok(no_store(
        render(&state, &user, &trust, Some(issued), None, None, false).await?,
    ))
}

pub async fn withdraw(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Redirect, AppError> {
    let trust = clinician_trust(&user)?;
    let code = state.store.cpt_code(id).await?.ok_or(AppError::NotFound)?;
    if !user.grant.can_see_attention_tests(&code.trust_code) {
        return Err(AppError::Forbidden(
            "This code belongs to another trust's service.".into(),
        ));
    }
    if !state.store.revoke_cpt_code(&trust, id, unix_now()).await? {
        return Err(AppError::BadRequest(
            "This code cannot be withdrawn: it has been used, has expired or was withdrawn already."
                .into(),
        ));
    }
    state
        .store
        .audit_for(
            &user.name,
            "cpt_code_withdrawn",
            &format!("cpt code {id}"),
            Some(&trust),
            None,
        )
        .await?;
    Ok(Redirect::to("/clinic"))
}

// ----- the report -----

fn metric_label(name: &str) -> &str {
    match name {
        "omissions_pct" => "Omissions (% of targets)",
        "commissions_pct" => "Commissions (% of non-targets)",
        "anticipatory_pct" => "Anticipatory responses (% of trials)",
        "multiple_pct" => "Multiple responses (% of trials)",
        "rt_mean_ms" => "Reaction time, mean (ms)",
        "rt_median_ms" => "Reaction time, median (ms)",
        "rt_sd_ms" => "Reaction time variability, SD (ms)",
        "d_prime" => "Discrimination, d′",
        "criterion" => "Response criterion, c",
        "time_active_pct" => "Time active (%)",
        "distance_hw_per_min" => "Distance (head widths a minute)",
        "area_hw2" => "Area covered (head widths²)",
        "micro_movements_per_min" => "Micro-movements a minute",
        "motion_simplicity" => "Motion simplicity",
        other => other,
    }
}

fn num(v: f64, places: usize) -> String {
    format!("{v:.places$}")
}

fn metric_value(name: &str, v: f64) -> String {
    match name {
        "d_prime" | "criterion" | "motion_simplicity" => num(v, 2),
        n if n.ends_with("_ms") => num(v, 0),
        _ => num(v, 1),
    }
}

pub struct ParamLine {
    pub label: String,
    pub value: String,
    pub norm: String,
    pub q: String,
    pub percentile: String,
    pub atypical: bool,
}

pub struct SummaryLine {
    pub label: &'static str,
    pub value: String,
    pub atypical: bool,
    pub from: String,
}

pub struct QuarterRow {
    pub label: &'static str,
    pub whole: String,
    pub quarters: Vec<String>,
}

pub struct ChangeLine {
    pub label: String,
    pub before: String,
    pub after: String,
    pub change: String,
    pub rci: String,
    pub verdict: String,
}

pub struct Comparison {
    pub other_id: i64,
    pub other_date: String,
    pub earlier_first: bool,
    pub lines: Vec<ChangeLine>,
    pub note: Option<String>,
}

pub struct OtherTest {
    pub id: i64,
    pub finished: String,
    pub task: &'static str,
    pub length: String,
    pub compared: bool,
}

pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "clinic/report.html")]
pub struct ReportPage {
    pub(crate) layout: Layout,
    pub(crate) id: i64,
    pub(crate) head: Vec<Fact>,
    pub(crate) shortened: bool,
    pub(crate) norms_label: String,
    pub(crate) illustrative: bool,
    pub(crate) norms_error: Option<String>,
    pub(crate) norm_group: Option<String>,
    pub(crate) fit: Option<String>,
    pub(crate) fit_warning: Option<String>,
    pub(crate) threshold: String,
    pub(crate) params: Vec<ParamLine>,
    pub(crate) not_normed: Vec<String>,
    pub(crate) summaries: Vec<SummaryLine>,
    pub(crate) quarters: Vec<QuarterRow>,
    pub(crate) hist_svg: String,
    /// The hits' reaction times, for the PDF's histogram.
    pub(crate) rts: Vec<f64>,
    pub(crate) quarter_svg: String,
    /// Activity from the head track: why it was not measured, or its figures and trace.
    pub(crate) activity_note: String,
    pub(crate) activity_warning: Option<String>,
    pub(crate) activity_rows: Vec<QuarterRow>,
    pub(crate) activity_svg: String,
    pub(crate) hist_text: String,
    pub(crate) counts: Vec<Fact>,
    pub(crate) timing: Vec<Fact>,
    pub(crate) timing_note: Option<String>,
    pub(crate) practice: Vec<String>,
    pub(crate) notes: String,
    pub(crate) notes_by: Option<String>,
    pub(crate) others: Vec<OtherTest>,
    pub(crate) comparison: Option<Comparison>,
}

/// The norms for a task: the service's file in the data folder if it has one, otherwise the
/// illustrative norms shipped with `cpt`.
pub fn norms_for(state: &AppState, task: TaskVersion) -> Result<NormsTable, String> {
    let path = state
        .config
        .data_dir
        .join("norms")
        .join(format!("{}.csv", task.id()));
    match std::fs::read_to_string(&path) {
        Ok(text) => NormsTable::from_csv(&text)
            .map_err(|e| format!("the norms file {} cannot be used: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => NormsTable::from_csv(match task {
            TaskVersion::GoNoGo => DEMO_GO_NO_GO,
            TaskVersion::OneBack => DEMO_ONE_BACK,
        })
        .map_err(|e| format!("the demonstration norms cannot be read: {e}")),
        Err(e) => Err(format!(
            "the norms file {} cannot be read: {e}",
            path.display()
        )),
    }
}

fn sex_of(s: Option<&str>) -> Option<Sex> {
    match s {
        Some("female") => Some(Sex::Female),
        Some("male") => Some(Sex::Male),
        _ => None,
    }
}

/// The stored raw log, scored again with `cpt`.
pub fn rescore(test: &TestRow) -> Result<(RawLog, Score), AppError> {
    let log: RawLog = serde_json::from_str(&test.raw_log)
        .map_err(|e| AppError::Internal(format!("cpt test {}: raw log: {e}", test.id)))?;
    let score = cpt::score(&log, &ScoringOptions::default())
        .map_err(|e| AppError::Internal(format!("cpt test {}: {e}", test.id)))?;
    Ok((log, score))
}

/// The activity of a stored test, from its head track, when the camera was used.
pub fn activity_of(test: &TestRow, log: &RawLog) -> Result<Option<Activity>, AppError> {
    let Some(text) = test.head_track.as_deref() else {
        return Ok(None);
    };
    let track: HeadTrack = serde_json::from_str(text)
        .map_err(|e| AppError::Internal(format!("cpt test {}: head track: {e}", test.id)))?;
    let Some(span) = cpt::Span::of_log(log, &ScoringOptions::default()) else {
        return Ok(None);
    };
    cpt::activity(&track, span, &ActivityOptions::default())
        .map(Some)
        .map_err(|e| AppError::Internal(format!("cpt test {}: head track: {e}", test.id)))
}

/// Why a test has no activity figures, in the report's words.
fn not_measured(camera: Option<&Camera>) -> String {
    match camera {
        Some(c) if c.status == "declined" => {
            "Activity was not measured: the family did not agree to the camera being used.".into()
        }
        Some(c) if c.status == "unavailable" => format!(
            "Activity was not measured: the camera could not be used{}.",
            c.reason
                .as_deref()
                .map_or(String::new(), |r| format!(" ({r})"))
        ),
        Some(_) => "Activity was not measured: no head positions were recorded.".into(),
        None => "Activity was not measured (no camera was used).".into(),
    }
}

fn activity_rows(a: &Activity) -> Vec<QuarterRow> {
    type Cell = fn(&cpt::ActivityBlock) -> String;
    let rows: [(&'static str, Cell); 6] = [
        ("Time tracked (% of the test)", |b| {
            format!("{:.0}", b.tracked_pct)
        }),
        ("Time active (% of tracked time)", |b| {
            b.time_active_pct.map_or("–".into(), |v| format!("{v:.1}"))
        }),
        ("Distance (head widths a minute)", |b| {
            if b.tracked_ms > 0.0 {
                format!("{:.2}", b.distance / (b.tracked_ms / 60_000.0))
            } else {
                "–".into()
            }
        }),
        ("Area covered (head widths²)", |b| format!("{:.2}", b.area)),
        ("Micro-movements a minute", |b| {
            if b.tracked_ms > 0.0 {
                format!(
                    "{:.1}",
                    f64::from(b.micro_movements) / (b.tracked_ms / 60_000.0)
                )
            } else {
                "–".into()
            }
        }),
        ("Motion simplicity", |b| {
            b.motion_simplicity
                .map_or("–".into(), |v| format!("{v:.2}"))
        }),
    ];
    rows.iter()
        .map(|(label, f)| QuarterRow {
            label,
            whole: f(&a.whole),
            quarters: a.quarters.iter().map(f).collect(),
        })
        .collect()
}

/// The head's position over the test as SVG (no script): across and up-down, in head widths
/// from the median position, in half-second means; gaps where the face was not found.
fn activity_trace(track: &HeadTrack, span: cpt::Span) -> String {
    const BIN: f64 = 500.0;
    let (w, h, left, top, bottom) = (720.0, 200.0, 40.0, 10.0, 30.0);
    let samples: Vec<_> = track
        .samples
        .iter()
        .filter(|s| s.t_ms >= span.start_ms && s.t_ms < span.end_ms && s.size > 0.0)
        .collect();
    let len = (span.end_ms - span.start_ms).max(1.0);
    let median = |mut v: Vec<f64>| -> f64 {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let unit = median(samples.iter().map(|s| s.size).collect()).max(1e-6);
    let xs = median(samples.iter().map(|s| s.x / unit).collect());
    let ys = median(
        samples
            .iter()
            .map(|s| s.y * track.frame_aspect / unit)
            .collect(),
    );
    let bins = (len / BIN).ceil() as usize;
    let mut sum = vec![(0.0, 0.0, 0u32); bins.max(1)];
    for s in &samples {
        let i = (((s.t_ms - span.start_ms) / BIN) as usize).min(sum.len() - 1);
        sum[i].0 += s.x / unit - xs;
        sum[i].1 += s.y * track.frame_aspect / unit - ys;
        sum[i].2 += 1;
    }
    let range = sum
        .iter()
        .filter(|b| b.2 > 0)
        .map(|b| {
            (b.0 / f64::from(b.2))
                .abs()
                .max((b.1 / f64::from(b.2)).abs())
        })
        .fold(0.5_f64, f64::max);
    let range = (range * 2.0).ceil() / 2.0;
    let ph = h - top - bottom;
    let pw = w - left - 10.0;
    let y_of = |v: f64| top + ph / 2.0 - v / range * ph / 2.0;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"activity-title\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"activity-title\">The head's position during the test, across (solid) and up and down (dashed), in head widths from its usual place, from {} positions; the scale runs from -{range} to {range} head widths</title>",
        samples.len()
    );
    for (class, pick) in [("cpt-trace__x", 0usize), ("cpt-trace__y", 1usize)] {
        let mut d = String::new();
        let mut pen = false;
        for (i, b) in sum.iter().enumerate() {
            if b.2 == 0 {
                pen = false;
                continue;
            }
            let v = if pick == 0 { b.0 } else { b.1 } / f64::from(b.2);
            let x = left + pw * (i as f64 + 0.5) / sum.len() as f64;
            let _ = write!(d, "{}{x:.1},{:.1} ", if pen { "L" } else { "M" }, y_of(v));
            pen = true;
        }
        if !d.is_empty() {
            let _ = write!(s, "<path class=\"{class}\" d=\"{}\"/>", d.trim_end());
        }
    }
    let _ = write!(
        s,
        "<line class=\"cpt-hist__axis\" x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/>",
        y_of(0.0),
        w - 10.0,
        y_of(0.0)
    );
    let _ = write!(
        s,
        "<text class=\"cpt-hist__label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{range}</text><text class=\"cpt-hist__label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">-{range}</text>",
        left - 4.0,
        top + 10.0,
        left - 4.0,
        top + ph
    );
    let minutes = len / 60_000.0;
    let _ = write!(
        s,
        "<text class=\"cpt-hist__label\" x=\"{left}\" y=\"{:.1}\">0</text><text class=\"cpt-hist__label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{} min</text></svg>",
        h - 10.0,
        w - 10.0,
        h - 10.0,
        if minutes >= 1.0 {
            format!("{minutes:.0}")
        } else {
            format!("{minutes:.1}")
        }
    );
    s
}

/// The quarters as SVG (no script): the mean hit reaction time with ±1 SD, and the omissions
/// (% of targets) and commissions (% of non-targets), for each quarter of the test.
fn quarter_chart(score: &Score) -> String {
    let (w, h, top, bottom) = (720.0, 220.0, 24.0, 30.0);
    let ph = h - top - bottom;
    let panel = (w - 60.0) / 2.0;
    let rt_max = score
        .quarters
        .iter()
        .filter_map(|q| Some(q.hit_rt.mean? + q.hit_rt.sd.unwrap_or(0.0)))
        .fold(500.0_f64, f64::max);
    let rt_max = (rt_max / 250.0).ceil() * 250.0;
    let pct = |a: u32, b: u32| {
        if b == 0 {
            0.0
        } else {
            100.0 * f64::from(a) / f64::from(b)
        }
    };
    let err_max = score
        .quarters
        .iter()
        .flat_map(|q| {
            [
                pct(q.omissions, q.targets),
                pct(q.commissions, q.non_targets),
            ]
        })
        .fold(20.0_f64, f64::max);
    let err_max = (err_max / 10.0).ceil() * 10.0;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"quarter-title\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"quarter-title\">By quarter: mean hit reaction time (ms, with one SD either side) on the left; omissions and commissions (%) on the right. The table above holds the figures.</title>"
    );
    let y = |v: f64, max: f64| top + ph - ph * (v / max).clamp(0.0, 1.0);
    // Left: reaction time.
    let x0 = 40.0;
    let _ = write!(
        s,
        "<text class=\"cpt-hist__label\" x=\"{x0}\" y=\"14\">Reaction time, mean ± SD (ms)</text><line class=\"cpt-hist__axis\" x1=\"{x0}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/><text class=\"cpt-hist__label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{rt_max}</text>",
        top + ph,
        x0 + panel,
        top + ph,
        x0 - 4.0,
        top + 10.0
    );
    let bw = panel / 4.0;
    for (i, q) in score.quarters.iter().enumerate() {
        let cx = x0 + bw * (i as f64 + 0.5);
        if let Some(m) = q.hit_rt.mean {
            let _ = write!(
                s,
                "<rect class=\"cpt-hist__bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>Quarter {}: {m:.0} ms</title></rect>",
                cx - bw * 0.3,
                y(m, rt_max),
                bw * 0.6,
                top + ph - y(m, rt_max),
                i + 1
            );
            if let Some(sd) = q.hit_rt.sd {
                let _ = write!(
                    s,
                    "<line class=\"cpt-hist__axis\" x1=\"{cx:.1}\" y1=\"{:.1}\" x2=\"{cx:.1}\" y2=\"{:.1}\"/>",
                    y(m - sd, rt_max),
                    y(m + sd, rt_max)
                );
            }
        }
        let _ = write!(
            s,
            "<text class=\"cpt-hist__label\" x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">Q{}</text>",
            h - 10.0,
            i + 1
        );
    }
    // Right: errors.
    let x1 = x0 + panel + 40.0;
    let _ = write!(
        s,
        "<text class=\"cpt-hist__label\" x=\"{x1}\" y=\"14\">Omissions (dark) and commissions (light), %</text><line class=\"cpt-hist__axis\" x1=\"{x1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/><text class=\"cpt-hist__label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{err_max}</text>",
        top + ph,
        x1 + panel,
        top + ph,
        x1 - 4.0,
        top + 10.0
    );
    for (i, q) in score.quarters.iter().enumerate() {
        let cx = x1 + bw * (i as f64 + 0.5);
        for (k, (v, class, what)) in [
            (pct(q.omissions, q.targets), "cpt-hist__bar", "omissions"),
            (
                pct(q.commissions, q.non_targets),
                "cpt-hist__bar cpt-hist__bar--light",
                "commissions",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let _ = write!(
                s,
                "<rect class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>Quarter {}: {what} {v:.1}%</title></rect>",
                cx - bw * 0.3 + k as f64 * bw * 0.3,
                y(v, err_max),
                bw * 0.28,
                top + ph - y(v, err_max),
                i + 1
            );
        }
        let _ = write!(
            s,
            "<text class=\"cpt-hist__label\" x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">Q{}</text>",
            h - 10.0,
            i + 1
        );
    }
    s.push_str("</svg>");
    s
}

/// The histogram of hit reaction times, 50 ms bins from 0 to 2,000 ms, as SVG (no script).
fn histogram(rts: &[f64]) -> String {
    const BIN: f64 = 50.0;
    const BINS: usize = 40;
    let (w, h, left, bottom, top) = (720.0, 220.0, 40.0, 30.0, 10.0);
    let mut counts = [0u32; BINS];
    for rt in rts {
        let i = ((rt / BIN).floor().max(0.0) as usize).min(BINS - 1);
        counts[i] += 1;
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let bw = (w - left - 10.0) / BINS as f64;
    let ph = h - bottom - top;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"rt-hist-title\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"rt-hist-title\">Reaction times of the {} hits, in bins of 50 ms from 0 to 2,000 ms; the tallest bin holds {max}</title>",
        rts.len()
    );
    for (i, c) in counts.iter().enumerate() {
        if *c == 0 {
            continue;
        }
        let bh = ph * f64::from(*c) / f64::from(max);
        let _ = write!(
            s,
            "<rect class=\"cpt-hist__bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{}–{} ms: {c}</title></rect>",
            left + i as f64 * bw + 0.5,
            top + ph - bh,
            bw - 1.0,
            bh,
            i as f64 * BIN,
            (i + 1) as f64 * BIN
        );
    }
    let _ = write!(
        s,
        "<line class=\"cpt-hist__axis\" x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/>",
        top + ph,
        w - 10.0,
        top + ph
    );
    for ms in (0..=2000).step_by(250) {
        let x = left + f64::from(ms) / BIN * bw;
        let _ = write!(
            s,
            "<text class=\"cpt-hist__label\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{ms}</text>",
            h - 10.0
        );
    }
    let _ = write!(
        s,
        "<text class=\"cpt-hist__label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{max}</text></svg>",
        left - 4.0,
        top + 10.0
    );
    s
}

fn quarter_rows(score: &Score) -> Vec<QuarterRow> {
    type Cell = fn(&cpt::Block) -> String;
    let rows: [(&'static str, Cell); 8] = [
        ("Targets", |b| b.targets.to_string()),
        ("Hits", |b| b.hits.to_string()),
        ("Omissions", |b| b.omissions.to_string()),
        ("Commissions", |b| b.commissions.to_string()),
        ("Anticipatory", |b| b.anticipatory.to_string()),
        ("Reaction time, mean (ms)", |b| {
            b.hit_rt.mean.map_or("–".to_string(), |v| format!("{v:.0}"))
        }),
        ("Reaction time, SD (ms)", |b| {
            b.hit_rt.sd.map_or("–".to_string(), |v| format!("{v:.0}"))
        }),
        ("d′", |b| format!("{:.2}", b.d_prime)),
    ];
    rows.iter()
        .map(|(label, f)| QuarterRow {
            label,
            whole: f(&score.whole),
            quarters: score.quarters.iter().map(f).collect(),
        })
        .collect()
}

fn summary_label(k: SummaryKind) -> &'static str {
    match k {
        SummaryKind::Activity => "Activity",
        SummaryKind::Inattention => "Inattention",
        SummaryKind::Impulsivity => "Impulsivity",
    }
}

fn norm_sex(s: NormSex) -> &'static str {
    match s {
        NormSex::Female => "girls",
        NormSex::Male => "boys",
        NormSex::All => "girls and boys together",
    }
}

#[derive(Deserialize)]
pub struct ReportQuery {
    pub against: Option<String>,
}

pub async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<ReportQuery>,
) -> Result<ReportPage, AppError> {
    build_report(&state, &user, id, &q, "cpt_report_viewed").await
}

/// The clinician's report as a PDF file: the same figures as the page (`build_report`), laid
/// out by `report::render` (`clinic_pdf`).
pub async fn report_pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let page = build_report(&state, &user, id, &q, "cpt_report_downloaded").await?;
    let bytes = report::render(&super::clinic_pdf::document(&page));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"attention-test-{id}.pdf\""))
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response())
}

async fn build_report(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    q: &ReportQuery,
    action: &str,
) -> Result<ReportPage, AppError> {
    let (state, user) = (state.clone(), user.clone());
    let test = visible_test(&state, &user, id).await?;
    state
        .store
        .audit_for(
            &user.name,
            action,
            &format!("cpt test {id}"),
            Some(&test.trust_code),
            None,
        )
        .await?;
    let (log, score) = rescore(&test)?;
    let activity = activity_of(&test, &log)?;
    let version = TaskVersion::from_id(&test.task)
        .ok_or_else(|| AppError::Internal(format!("cpt test {id}: task {}", test.task)))?;
    let shortened = test.duration_ms < standard_ms(&test.task);
    let age = u8::try_from(test.age_years).unwrap_or(0);
    let sex = sex_of(test.sex.as_deref());
    let params_map = cpt::parameters(&score, activity.as_ref());
    let stored_timing = serde_json::from_str::<Timing>(&test.timing_json).ok();
    let camera = stored_timing.as_ref().and_then(|t| t.camera.clone());
    let activity_missing = not_measured(camera.as_ref());
    let norms = norms_for(&state, version);
    let mut norms_error = None;
    let mut assessment: Option<Assessment> = None;
    let (mut norm_group, mut fit, mut fit_warning) = (None, None, None);
    let (mut norms_label, mut illustrative) = (String::new(), false);
    match &norms {
        Err(e) => norms_error = Some(format!("No Q-scores: {e}.")),
        Ok(table) => {
            norms_label = format!(
                "{} ({}; {} children; {})",
                table.label, table.sample.name, table.sample.size, table.sample.source
            );
            illustrative = table.illustrative;
            if shortened {
                norms_error = Some("No Q-scores: this was a shortened test, for trying the system; its figures cannot be compared with norms made from the full test.".into());
            } else {
                match table.assess(version, &params_map, age, sex, THRESHOLD) {
                    Err(e) => {
                        norms_error = Some(format!(
                            "No Q-scores: the norms do not cover this child ({e})."
                        ))
                    }
                    Ok(a) => {
                        let n = table
                            .rows
                            .iter()
                            .find(|r| {
                                (r.age_min, r.age_max, r.sex) == (a.age_min, a.age_max, a.sex)
                            })
                            .map_or(0, |r| r.n);
                        norm_group = Some(format!(
                            "{} aged {} to {} ({} children in the norm sample)",
                            norm_sex(a.sex),
                            a.age_min,
                            a.age_max,
                            n
                        ));
                        match test.ethnic_group.as_deref() {
                            None => {
                                fit_warning = Some("The child's ethnic group is not recorded, so how well the norm sample fits this child cannot be judged.".into());
                            }
                            Some(g) => match table.group_count(age, sex, g) {
                                None => {
                                    fit_warning = Some("The norms file does not say who its sample was, so how well it fits this child cannot be judged.".into());
                                }
                                Some(c) => {
                                    fit = Some(format!(
                                        "The norm sample holds {c} {} of this child's age band and ethnic group ({g}).",
                                        if c == 1 { "child" } else { "children" }
                                    ));
                                    if c == 0 {
                                        fit_warning = Some(format!(
                                            "The norm sample holds no children of this child's age band, sex and ethnic group ({g}): the norms may not fit this child. Read the Q-scores with particular care."
                                        ));
                                    } else if c < THIN_GROUP {
                                        fit_warning = Some(format!(
                                            "The norm sample holds only {c} {} of this child's age band, sex and ethnic group ({g}), fewer than {THIN_GROUP}: the norms may fit this child poorly.",
                                            if c == 1 { "child" } else { "children" }
                                        ));
                                    }
                                }
                            },
                        }
                        assessment = Some(a);
                    }
                }
            }
        }
    }
    let params: Vec<ParamLine> = match &assessment {
        Some(a) => a
            .scores
            .iter()
            .map(|s| ParamLine {
                label: metric_label(&s.metric).to_string(),
                value: metric_value(&s.metric, s.value),
                norm: format!(
                    "{} ± {}",
                    metric_value(&s.metric, s.mean),
                    metric_value(&s.metric, s.sd)
                ),
                q: num(s.q, 2),
                percentile: num(s.percentile, 0),
                atypical: s.atypical,
            })
            .collect(),
        None => params_map
            .iter()
            .map(|(name, v)| ParamLine {
                label: metric_label(name).to_string(),
                value: metric_value(name, *v),
                norm: "–".into(),
                q: "–".into(),
                percentile: "–".into(),
                atypical: false,
            })
            .collect(),
    };
    let normed: Vec<&str> = assessment
        .as_ref()
        .map(|a| a.scores.iter().map(|s| s.metric.as_str()).collect())
        .unwrap_or_default();
    let not_normed = match &assessment {
        Some(a) => params_map
            .iter()
            .filter(|(k, _)| !normed.contains(&k.as_str()))
            .map(|(k, v)| format!("{}: {}", metric_label(k), metric_value(k, *v)))
            .chain(
                a.not_measured
                    .iter()
                    .map(|m| format!("{}: not measured", metric_label(m))),
            )
            .collect(),
        None => Vec::new(),
    };
    let summaries = SummaryKind::ALL
        .iter()
        .map(|k| {
            let s = assessment
                .as_ref()
                .and_then(|a| a.summaries.iter().find(|s| s.kind == *k));
            match s {
                Some(s) => SummaryLine {
                    label: summary_label(*k),
                    value: s.value.map_or("not measured".into(), |v| num(v, 2)),
                    atypical: s.atypical == Some(true),
                    from: if s.used.is_empty() {
                        if *k == SummaryKind::Activity {
                            activity_missing.clone()
                        } else {
                            "None of its parameters was measured.".into()
                        }
                    } else {
                        format!(
                            "from {}{}",
                            s.used
                                .iter()
                                .map(|m| metric_label(m))
                                .collect::<Vec<_>>()
                                .join(", "),
                            if s.missing.is_empty() {
                                String::new()
                            } else {
                                format!(
                                    "; not measured: {}",
                                    s.missing
                                        .iter()
                                        .map(|m| metric_label(m))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )
                            }
                        )
                    },
                },
                None => SummaryLine {
                    label: summary_label(*k),
                    value: "–".into(),
                    atypical: false,
                    from: if *k == SummaryKind::Activity && activity.is_none() {
                        activity_missing.clone()
                    } else {
                        "No norms to compare with.".into()
                    },
                },
            }
        })
        .collect();
    let rts: Vec<f64> = score
        .trials
        .iter()
        .filter(|t| t.outcome == Outcome::Hit)
        .filter_map(|t| t.rt_ms)
        .collect();
    let hist_text = if rts.is_empty() {
        "There were no hits, so there are no reaction times to show.".into()
    } else {
        format!(
            "{} hits; fastest {:.0} ms, slowest {:.0} ms.",
            rts.len(),
            rts.iter().copied().fold(f64::INFINITY, f64::min),
            rts.iter().copied().fold(0.0, f64::max)
        )
    };
    let w = &score.whole;
    let counts = vec![
        Fact {
            label: "Stimuli shown",
            value: format!(
                "{} of {} planned",
                log.stimuli.len(),
                log.planned_trials.unwrap_or(0)
            ),
        },
        Fact {
            label: "Trials excluded (the test was interrupted)",
            value: w.excluded_trials.to_string(),
        },
        Fact {
            label: "Interruptions (tab hidden or full screen left)",
            value: log.interruptions.len().to_string(),
        },
        Fact {
            label: "Presses outside any response window",
            value: score.stray.to_string(),
        },
        Fact {
            label: "Presses ignored (during an interruption)",
            value: score.ignored.to_string(),
        },
        Fact {
            label: "Auto-repeats of a key held down (ignored)",
            value: score.repeats.to_string(),
        },
    ];
    let (timing, timing_note) = match serde_json::from_str::<Timing>(&test.timing_json) {
        Ok(t) => (
            vec![
                Fact {
                    label: "Frames measured",
                    value: t.frames.to_string(),
                },
                Fact {
                    label: "Frame interval, median",
                    value: format!(
                        "{:.2} ms ({:.0} a second)",
                        t.median_interval_ms,
                        1000.0 / t.median_interval_ms
                    ),
                },
                Fact {
                    label: "Frame jitter (SD of the interval)",
                    value: format!("{:.2} ms", t.jitter_ms),
                },
                Fact {
                    label: "Frames dropped",
                    value: format!("{:.1}%", t.long_frames_pct),
                },
                Fact {
                    label: "Stimulus onset error against the schedule, mean ± SD",
                    value: match (t.onset_error_mean_ms, t.onset_error_sd_ms) {
                        (Some(m), Some(s)) => format!("{m:.2} ± {s:.2} ms"),
                        _ => "–".into(),
                    },
                },
                Fact {
                    label: "Largest onset error",
                    value: t
                        .onset_error_max_ms
                        .map_or("–".into(), |m| format!("{m:.2} ms")),
                },
                Fact {
                    label: "Full screen",
                    value: if t.fullscreen {
                        "yes".into()
                    } else {
                        "no (the browser did not allow it)".into()
                    },
                },
                Fact {
                    label: "Times the tab was hidden",
                    value: t.hidden_count.to_string(),
                },
            ],
            None,
        ),
        Err(e) => (
            Vec::new(),
            Some(format!("The timing check's record cannot be read ({e}).")),
        ),
    };
    let mut timing = timing;
    if let Some(c) = &camera {
        timing.push(Fact {
            label: "Camera",
            value: match c.status.as_str() {
                "used" => "used, on the device (only the head's position was sent)".into(),
                "declined" => "not used (the family did not agree)".into(),
                _ => format!(
                    "not used (it could not be started{})",
                    c.reason
                        .as_deref()
                        .map_or(String::new(), |r| format!(": {r}"))
                ),
            },
        });
        if c.status == "used" {
            timing.push(Fact {
                label: "Head positions tracked",
                value: c.samples.to_string(),
            });
            timing.push(Fact {
                label: "Head tracking rate",
                value: c.rate_hz.map_or("–".into(), |r| format!("{r:.1} a second")),
            });
            timing.push(Fact {
                label: "Head tracking interval, median ± jitter (SD)",
                value: match (c.interval_median_ms, c.interval_jitter_ms) {
                    (Some(m), Some(j)) => format!("{m:.1} ± {j:.1} ms"),
                    _ => "–".into(),
                },
            });
            timing.push(Fact {
                label: "Face detector time per frame, median",
                value: c
                    .detect_ms_median
                    .map_or("–".into(), |m| format!("{m:.1} ms")),
            });
        }
    }
    let (activity_note, activity_warning, activity_rows, activity_svg) = match &activity {
        None => (activity_missing.clone(), None, Vec::new(), String::new()),
        Some(a) => {
            let track: Option<HeadTrack> = test
                .head_track
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok());
            let rate = camera.as_ref().and_then(|c| c.rate_hz);
            let warning = match rate {
                Some(r) if r < MIN_TRACK_HZ => Some(format!(
                    "The head was tracked {r:.1} times a second, fewer than the {MIN_TRACK_HZ:.0} the method needs: read the activity figures with care."
                )),
                _ if a.whole.tracked_pct < 50.0 => Some(format!(
                    "The face was tracked for only {:.0}% of the test: the activity figures describe that part only.",
                    a.whole.tracked_pct
                )),
                _ => None,
            };
            (
                format!(
                    "Measured on the family's device from {} head positions (no image left the device); the face was tracked for {:.0}% of the test. Distances and areas are in head widths (about 14 cm).",
                    a.samples_used, a.whole.tracked_pct
                ),
                warning,
                activity_rows(a),
                track.map_or(String::new(), |t| activity_trace(&t, a.span)),
            )
        }
    };
    let practice = serde_json::from_str::<Vec<serde_json::Value>>(&test.practice_json)
        .unwrap_or_default()
        .iter()
        .map(|p| {
            format!(
                "Start {}, attempt {}: {} hits, {} commissions: {}",
                p["start"],
                p["attempt"],
                p["hits"],
                p["commissions"],
                if p["passed"].as_bool() == Some(true) {
                    "passed"
                } else {
                    "not passed"
                }
            )
        })
        .collect();
    // Repeat tests of the same patient.
    let all = state
        .store
        .cpt_patient_tests(&test.trust_code, &test.patient_ref)
        .await?;
    let against = match q
        .against
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(a) => Some(a.parse::<i64>().map_err(|_| {
            AppError::BadRequest(format!(
                "against: expected the number of another test of this patient, found \"{a}\""
            ))
        })?),
        None => all
            .iter()
            .filter(|t| t.id < id && t.task == test.task && t.duration_ms >= standard_ms(&t.task))
            .map(|t| t.id)
            .max(),
    };
    let mut comparison = None;
    if let Some(other_id) = against {
        let other = all
            .iter()
            .find(|t| t.id == other_id && t.id != id)
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "against: test {other_id} is not another test of this patient"
                ))
            })?;
        let other_row = visible_test(&state, &user, other.id).await?;
        let (other_log, other_score) = rescore(&other_row)?;
        let other_activity = activity_of(&other_row, &other_log)?;
        let other_params = cpt::parameters(&other_score, other_activity.as_ref());
        let earlier_first = other.id < id;
        let (first, second) = if earlier_first {
            (&other_params, &params_map)
        } else {
            (&params_map, &other_params)
        };
        let first_age = u8::try_from(if earlier_first {
            other.age_years
        } else {
            test.age_years
        })
        .unwrap_or(0);
        let mut note = None;
        let lines = match &norms {
            _ if other.task != test.task => {
                note = Some("The two tests are of different task versions, so their parameters cannot be compared.".to_string());
                Vec::new()
            }
            _ if shortened || other.duration_ms < standard_ms(&other.task) => {
                note = Some(
                    "One of the tests was shortened, so the reliable change cannot be judged."
                        .to_string(),
                );
                Vec::new()
            }
            Err(e) => {
                note = Some(format!("No reliable change: {e}."));
                Vec::new()
            }
            Ok(table) => side_by_side(table, first, second, first_age, sex),
        };
        comparison = Some(Comparison {
            other_id: other.id,
            other_date: when(other.finished_at),
            earlier_first,
            lines,
            note,
        });
    }
    let others = all
        .iter()
        .filter(|t| t.id != id)
        .map(|t| OtherTest {
            id: t.id,
            finished: when(t.finished_at),
            task: task_label(&t.task),
            length: length_label(&t.task, t.duration_ms),
            compared: Some(t.id) == against,
        })
        .collect();
    let head = vec![
        Fact {
            label: "Patient reference",
            value: test.patient_ref.clone(),
        },
        Fact {
            label: "Service",
            value: test.service.clone(),
        },
        Fact {
            label: "Age at the test",
            value: format!("{age}"),
        },
        Fact {
            label: "Sex",
            value: test.sex.clone().unwrap_or_else(|| "not recorded".into()),
        },
        Fact {
            label: "Ethnic group",
            value: test
                .ethnic_group
                .clone()
                .unwrap_or_else(|| "not recorded".into()),
        },
        Fact {
            label: "Task",
            value: task_label(&test.task).into(),
        },
        Fact {
            label: "Length",
            value: length_label(&test.task, test.duration_ms),
        },
        Fact {
            label: "Started (UTC)",
            value: when(test.started_at),
        },
        Fact {
            label: "Finished (UTC)",
            value: when(test.finished_at),
        },
        Fact {
            label: "Schedule seed",
            value: test.seed.clone(),
        },
    ];
    Ok(ReportPage {
        layout: Layout::new(format!("Attention test {id}"), &user, "/clinic"),
        id,
        head,
        shortened,
        norms_label,
        illustrative,
        norms_error,
        norm_group,
        fit,
        fit_warning,
        threshold: num(THRESHOLD, 1),
        params,
        not_normed,
        summaries,
        quarters: quarter_rows(&score),
        hist_svg: histogram(&rts),
        rts,
        quarter_svg: quarter_chart(&score),
        activity_note,
        activity_warning,
        activity_rows,
        activity_svg,
        hist_text,
        counts,
        timing,
        timing_note,
        practice,
        notes: test.notes,
        notes_by: test
            .notes_by
            .map(|b| format!("{b}, {}", when(test.notes_at.unwrap_or(0)))),
        others,
        comparison,
    })
}

/// Each parameter of two tests side by side with its reliable change (from the norms' SD at
/// the first test's age and the metric's test-retest r).
fn side_by_side(
    table: &NormsTable,
    first: &BTreeMap<String, f64>,
    second: &BTreeMap<String, f64>,
    first_age: u8,
    sex: Option<Sex>,
) -> Vec<ChangeLine> {
    first
        .iter()
        .filter_map(|(name, v1)| second.get(name).map(|v2| (name, *v1, *v2)))
        .map(|(name, v1, v2)| {
            let (rci, verdict) = match table.reliable_change(name, first_age, sex, v1, v2) {
                Ok(c) => (
                    num(c.change.rci, 2),
                    if !c.change.reliable {
                        "within the measurement error".to_string()
                    } else if c.toward_atypical {
                        "reliable change, towards atypical".to_string()
                    } else {
                        "reliable change, away from atypical".to_string()
                    },
                ),
                Err(e) => ("–".into(), format!("not judged ({e})")),
            };
            ChangeLine {
                label: metric_label(name).to_string(),
                before: metric_value(name, v1),
                after: metric_value(name, v2),
                change: metric_value(name, v2 - v1),
                rci,
                verdict,
            }
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct NotesForm {
    #[serde(default)]
    pub notes: String,
}

pub async fn notes(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<NotesForm>,
) -> Result<Redirect, AppError> {
    let test = visible_test(&state, &user, id).await?;
    if !state
        .store
        .set_cpt_notes(&test.trust_code, id, &f.notes, &user.name, unix_now())
        .await?
    {
        return Err(AppError::NotFound);
    }
    state
        .store
        .audit_for(
            &user.name,
            "cpt_notes_saved",
            &format!("cpt test {id}"),
            Some(&test.trust_code),
            None,
        )
        .await?;
    Ok(Redirect::to(&format!("/clinic/tests/{id}")))
}

/// The raw trial log as CSV: every stimulus with its outcome, every key press, every
/// interruption, in time order.
pub async fn log_csv(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let test = visible_test(&state, &user, id).await?;
    let (log, score) = rescore(&test)?;
    state
        .store
        .audit_for(
            &user.name,
            "cpt_log_downloaded",
            &format!("cpt test {id}"),
            Some(&test.trust_code),
            None,
        )
        .await?;
    let mut rows: Vec<(f64, u8, String)> = Vec::new();
    let outcome = |o: Outcome| match o {
        Outcome::Hit => "hit",
        Outcome::Omission => "omission",
        Outcome::Commission => "commission",
        Outcome::CorrectRejection => "correct_rejection",
        Outcome::Excluded => "excluded",
    };
    for t in &score.trials {
        rows.push((
            t.onset_ms,
            0,
            format!(
                "stimulus,{},{},{},,,{},{},{},{},{}",
                t.trial,
                t.target,
                t.onset_ms,
                outcome(t.outcome),
                t.rt_ms.map(|r| r.to_string()).unwrap_or_default(),
                t.anticipatory,
                t.multiple,
                t.quarter + 1
            ),
        ));
    }
    for k in &log.keys {
        rows.push((
            k.time_ms,
            1,
            format!("key,,,{},,{},,,,,", k.time_ms, k.repeat),
        ));
    }
    for i in &log.interruptions {
        rows.push((
            i.start_ms,
            2,
            format!("interruption,,,{},{},,,,,,", i.start_ms, i.end_ms),
        ));
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut csv = String::from(
        "event,trial,target,time_ms,end_ms,repeat,outcome,rt_ms,anticipatory,multiple,quarter\n",
    );
    for (_, _, line) in rows {
        csv.push_str(&line);
        csv.push('\n');
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!(
                    "attachment; filename=\"attention-test-{id}-log.csv\""
                ))
                .map_err(|e| AppError::Internal(e.to_string()))?,
            ),
        ],
        csv,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_160_random_bits_in_groups_of_four() {
        let a = new_code_text();
        let b = new_code_text();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32 + 7, "{a}");
        let plain = store::cpt::normalise_code(&a);
        assert_eq!(plain.len(), 32);
        assert!(plain.len() >= store::cpt::MIN_CODE_CHARS);
        // Crockford's alphabet: no I, L, O or U, so normalising changes nothing.
        assert_eq!(plain, a.replace('-', ""));
        assert!(!plain.contains(['I', 'L', 'O', 'U']));
    }

    #[test]
    fn the_quarter_chart_draws_each_quarter() {
        let log = RawLog {
            stimuli: (0..8)
                .map(|i| cpt::Onset {
                    trial: i,
                    onset_ms: f64::from(i) * 2000.0,
                    target: i % 2 == 0,
                })
                .collect(),
            keys: vec![
                cpt::KeyPress {
                    time_ms: 400.0,
                    repeat: false,
                },
                cpt::KeyPress {
                    time_ms: 2500.0,
                    repeat: false,
                },
            ],
            ..RawLog::default()
        };
        let score = cpt::score(&log, &ScoringOptions::default()).unwrap();
        let svg = quarter_chart(&score);
        // One RT bar (quarter 1's hit) and two error bars a quarter.
        assert_eq!(svg.matches("<rect").count(), 1 + 8, "{svg}");
        assert!(svg.contains("Quarter 1: 400 ms"));
        assert!(svg.contains("Quarter 1: commissions 100.0%"));
        assert!(svg.contains("Quarter 2: omissions 100.0%"));
    }

    #[test]
    fn the_histogram_counts_every_hit() {
        let svg = histogram(&[120.0, 149.9, 150.0, 420.0, 2500.0]);
        assert_eq!(svg.matches("<rect").count(), 4, "{svg}");
        assert!(svg.contains("the tallest bin holds 2"));
        assert!(svg.contains("100–150 ms: 2"));
        assert!(svg.contains("1950–2000 ms: 1"));
    }

    #[test]
    fn the_form_names_what_is_wrong() {
        let f = |age: &str, service: &str, length: &str| CodeForm {
            patient_ref: "CAMHS-1".into(),
            age: age.into(),
            service: service.into(),
            days: "7".into(),
            length: length.into(),
            ..CodeForm::default()
        };
        let ok = read_form(&f("8", "", ""), "R9A", "clin", 0).unwrap();
        assert_eq!((ok.task.as_str(), ok.duration_ms), ("go_no_go", 900_000));
        assert_eq!(ok.service, "R9A");
        let ob = read_form(&f("13", "r9a-camhs", "short"), "R9A", "clin", 0).unwrap();
        assert_eq!((ob.task.as_str(), ob.duration_ms), ("one_back", SHORT_MS));
        assert_eq!(ob.service, "R9A-CAMHS");
        assert!(
            read_form(&f("5", "", ""), "R9A", "c", 0)
                .unwrap_err()
                .starts_with("Age:")
        );
        assert!(
            read_form(&f("x", "", ""), "R9A", "c", 0)
                .unwrap_err()
                .starts_with("Age:")
        );
        assert!(
            read_form(&f("8", "R9B", ""), "R9A", "c", 0)
                .unwrap_err()
                .starts_with("Service:")
        );
        assert!(
            read_form(&f("8", "", "long"), "R9A", "c", 0)
                .unwrap_err()
                .starts_with("Length:")
        );
        let mut nhs = f("8", "", "");
        nhs.patient_ref = "9434765919".into();
        assert!(
            read_form(&nhs, "R9A", "c", 0)
                .unwrap_err()
                .contains("NHS number")
        );
    }
}
