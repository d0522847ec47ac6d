//! `/test`: the open attention test as a family meets it at home, without an account (issue
//! 15; docs/web.md "Attention tests", docs/cpt.md). The code the clinician issued is the
//! credential: it names one patient, expires, and stores one test.
//!
//! - `GET /test`: the instructions and the code form, as a plain page (no JavaScript needed).
//! - `POST /test` (form: `code`): checks the code and shows the test page, which loads
//!   `/assets/cpt-test.js`, the one script of the site that a page cannot work without.
//! - `POST /test/schedule` (JSON `{code}`): starts an attempt: a new random seed, the schedule
//!   `cpt::schedule` makes from it, and a new attempt token, which the two posts below must
//!   carry (so a result is only ever stored for a schedule this server handed out).
//! - `POST /test/practice` (JSON `{code, attempt, log}`): scores a practice block with `cpt` and
//!   says whether it passed (the test cannot be stored before it has).
//! - `POST /test/result` (JSON `{code, attempt, log, timing, head_track?, camera?}`): checks the
//!   log (`cpt::score`'s checks, and that every stimulus is the schedule's), the timing check,
//!   the head track if the camera was used (`cpt::activity`'s checks; a track holds times,
//!   positions and sizes only, any other field is refused), scores it with `cpt` and stores it
//!   with the code marked used, in one transaction.
//!
//! The test page is the one page served with its own Content-Security-Policy
//! ([`TEST_PAGE_CSP`]): the site's policy plus `'wasm-unsafe-eval'`, which the on-device face
//! detector's WebAssembly needs. Every other response gets the site's policy (`crate::router`).
//!
//! Every refusal says what was wrong and stores nothing. A code that is not in force counts
//! against the client's address (`RATE_*`); every start, practice, result and refusal is
//! audited (by code id and trust, never with the code or the patient's reference).
//!
//! The posts are same-origin `fetch` calls and pass the CSRF layer as any form post does
//! (`Sec-Fetch-Site`/`Origin`); no session or cookie is involved.

use crate::AppState;
use crate::auth::ClientAddr;
use crate::error::{ApiError, AppError};
use crate::layout::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cpt::{RawLog, Schedule, ScoringOptions, TaskParams, TaskVersion};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::cpt::{CodeRefusal, CodeRow, NewTest};

/// Failed codes allowed from one address in `RATE_WINDOW_SECS`.
pub const RATE_PER_CLIENT: i64 = 10;
/// Failed codes allowed from all addresses together in the window (a spray from many).
pub const RATE_ALL: i64 = 500;
pub const RATE_WINDOW_SECS: i64 = 15 * 60;
/// Starts allowed per code (a reload starts again; a family that needs more calls the clinic).
pub const MAX_STARTS: i64 = 5;
/// The longest a test's result may take to arrive after its start (the longest test is 20
/// minutes, plus the practice, breaks and the timing check).
const MAX_ATTEMPT_SECS: i64 = 3 * 3600;
/// The largest posted log accepted, in bytes (a 20-minute test's log is about 60 kB; its head
/// track at 30 samples a second about 2 MB).
const MAX_POST_BYTES: usize = 6 * 1024 * 1024;
/// The test page's Content-Security-Policy: the site's, plus `'wasm-unsafe-eval'` so that the
/// face detector's WebAssembly (served from /assets) may be compiled. No inline script, no
/// other origin, no `'unsafe-eval'`.
pub const TEST_PAGE_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self' 'wasm-unsafe-eval'; font-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
/// Below this many head positions a second the report warns that activity was tracked too
/// slowly for its figures to be read as the method intends (docs/cpt.md).
pub const MIN_TRACK_HZ: f64 = 25.0;

/// The body limit of the script's posts (the application's is the upload limit, far larger):
/// a larger body is refused with 413 before it is read whole.
pub fn body_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(MAX_POST_BYTES)
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The parameters a code's test runs with: its version's, with the code's length (a shortened
/// test, for trying the system, is labelled as such on every report).
pub fn params_for(task: &str, duration_ms: i64) -> Result<TaskParams, AppError> {
    let version = TaskVersion::from_id(task)
        .ok_or_else(|| AppError::Internal(format!("unknown task {task:?} on a code")))?;
    let mut p = version.params();
    p.duration_ms = u32::try_from(duration_ms)
        .map_err(|_| AppError::Internal(format!("duration {duration_ms} on a code")))?;
    Ok(p)
}

/// The schedule of a code's current attempt, as `cpt` makes it from the stored seed.
pub fn schedule_for(code: &CodeRow) -> Result<Schedule, AppError> {
    let seed: u64 = code
        .seed
        .as_deref()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| AppError::Internal(format!("code {} has no seed", code.id)))?;
    cpt::schedule(&params_for(&code.task, code.duration_ms)?, seed)
        .map_err(|e| AppError::Internal(format!("schedule: {e}")))
}

/// The timing check's figures, computed here from the frame intervals the browser measured
/// (the browser applies the same rule first, to tell the family at once).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub frames: usize,
    pub median_interval_ms: f64,
    pub mean_interval_ms: f64,
    /// The standard deviation of the frame intervals: the jitter.
    pub jitter_ms: f64,
    /// Intervals longer than 1.5 times the median (frames the device dropped), as a share.
    pub long_frames_pct: f64,
    /// Onset error: each logged onset against the schedule, relative to the first onset.
    pub onset_error_mean_ms: Option<f64>,
    pub onset_error_sd_ms: Option<f64>,
    pub onset_error_max_ms: Option<f64>,
    /// Whether the full screen was held, and how many times the tab was hidden.
    pub fullscreen: bool,
    pub hidden_count: u32,
    /// The camera: used, declined or unavailable, and how the tracking went (absent in tests
    /// stored before the camera was used).
    #[serde(default)]
    pub camera: Option<Camera>,
}

/// What happened with the camera, as the page reported it and as the track shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Camera {
    /// `used`, `declined` (the box not ticked) or `unavailable` (no camera, not allowed, or
    /// the detector did not start).
    pub status: String,
    pub reason: Option<String>,
    /// Frames the detector ran on during the test, and its median time per frame (the page's
    /// figures).
    pub frames_processed: Option<u32>,
    pub detect_ms_median: Option<f64>,
    /// From the track: head positions, positions a second over the test, and the median and
    /// SD (jitter) of the intervals between consecutive positions under 500 ms apart.
    pub samples: usize,
    pub rate_hz: Option<f64>,
    pub interval_median_ms: Option<f64>,
    pub interval_jitter_ms: Option<f64>,
}

impl Camera {
    /// The camera's record from the page's report and the track it sent.
    pub fn from_post(
        post: Option<&CameraPost>,
        track: Option<&cpt::HeadTrack>,
        span: Option<cpt::Span>,
    ) -> Camera {
        let clean =
            |s: &str| -> String { s.chars().filter(|c| !c.is_control()).take(200).collect() };
        let status = match (post.map(|p| p.status.as_str()), track) {
            (_, Some(_)) => "used",
            (Some("declined"), None) => "declined",
            _ => "unavailable",
        };
        let mut c = Camera {
            status: status.into(),
            reason: post
                .and_then(|p| p.reason.as_deref())
                .map(clean)
                .filter(|s| !s.is_empty()),
            frames_processed: post.and_then(|p| p.frames_processed),
            detect_ms_median: post
                .and_then(|p| p.detect_ms_median)
                .filter(|v| v.is_finite() && *v >= 0.0),
            samples: 0,
            rate_hz: None,
            interval_median_ms: None,
            interval_jitter_ms: None,
        };
        if let (Some(t), Some(span)) = (track, span) {
            let times: Vec<f64> = t
                .samples
                .iter()
                .map(|s| s.t_ms)
                .filter(|t| *t >= span.start_ms && *t < span.end_ms)
                .collect();
            c.samples = times.len();
            let len = span.end_ms - span.start_ms;
            if len > 0.0 {
                c.rate_hz = Some(1000.0 * times.len() as f64 / len);
            }
            let steps: Vec<f64> = times
                .windows(2)
                .map(|w| w[1] - w[0])
                .filter(|d| *d > 0.0 && *d < 500.0)
                .collect();
            if steps.len() >= 2 {
                let mut sorted = steps.clone();
                sorted.sort_by(f64::total_cmp);
                c.interval_median_ms = Some(sorted[sorted.len() / 2]);
                c.interval_jitter_ms = Some(mean_sd(&steps).1);
            }
        }
        c
    }
}

/// The page's report of the camera (`camera` in the result post).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CameraPost {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub frames_processed: Option<u32>,
    #[serde(default)]
    pub detect_ms_median: Option<f64>,
}

/// The timing rule: at least 60 intervals measured, a median no longer than 34 ms (a frame rate
/// of about 30 a second or more, so a 200 ms stimulus lasts 6 frames or more) and at most 10% of
/// frames dropped.
pub const MAX_MEDIAN_MS: f64 = 34.0;
pub const MAX_LONG_FRAMES_PCT: f64 = 10.0;
pub const MIN_FRAMES: usize = 60;

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// The figures of a timing check, or what is wrong with it (naming the field).
pub fn timing(intervals: &[f64]) -> Result<Timing, String> {
    if let Some((i, v)) = intervals
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_finite() && **v > 0.0 && **v < 10_000.0))
    {
        return Err(format!(
            "timing.intervals_ms[{i}]: expected a frame interval above 0 and under 10 s, found {v}"
        ));
    }
    if intervals.len() < MIN_FRAMES {
        return Err(format!(
            "timing.intervals_ms: expected at least {MIN_FRAMES} frame intervals, found {}",
            intervals.len()
        ));
    }
    let mut sorted = intervals.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    let (mean, sd) = mean_sd(intervals);
    let long = intervals.iter().filter(|v| **v > 1.5 * median).count();
    Ok(Timing {
        frames: n,
        median_interval_ms: median,
        mean_interval_ms: mean,
        jitter_ms: sd,
        long_frames_pct: 100.0 * long as f64 / n as f64,
        onset_error_mean_ms: None,
        onset_error_sd_ms: None,
        onset_error_max_ms: None,
        fullscreen: false,
        hidden_count: 0,
        camera: None,
    })
}

impl Timing {
    /// Why this device cannot hold its frame rate, if it cannot.
    pub fn refusal(&self) -> Option<String> {
        if self.median_interval_ms > MAX_MEDIAN_MS {
            Some(format!(
                "this device shows {:.0} pictures a second; the test needs 30 or more",
                1000.0 / self.median_interval_ms
            ))
        } else if self.long_frames_pct > MAX_LONG_FRAMES_PCT {
            Some(format!(
                "this device missed {:.0}% of its screen updates; the test needs it to miss no more than {MAX_LONG_FRAMES_PCT:.0}%",
                self.long_frames_pct
            ))
        } else {
            None
        }
    }

    /// Adds the onset error of a log against its schedule.
    fn with_onsets(mut self, log: &RawLog, plan: &[cpt::Trial]) -> Timing {
        let Some(first) = log.stimuli.first() else {
            return self;
        };
        let planned0 = plan
            .get(first.trial as usize)
            .map_or(0.0, |t| t.onset_ms as f64);
        let errors: Vec<f64> = log
            .stimuli
            .iter()
            .filter_map(|s| {
                let p = plan.get(s.trial as usize)?.onset_ms as f64;
                Some((s.onset_ms - first.onset_ms) - (p - planned0))
            })
            .collect();
        if !errors.is_empty() {
            let (m, sd) = mean_sd(&errors);
            self.onset_error_mean_ms = Some(m);
            self.onset_error_sd_ms = Some(sd);
            self.onset_error_max_ms = errors.iter().map(|e| e.abs()).reduce(f64::max);
        }
        self
    }
}

/// Checks that a log is of this schedule's block: every stimulus one of its trials, with the
/// schedule's target flag, and the planned number of trials.
pub fn matches_schedule(log: &RawLog, plan: &[cpt::Trial], field: &str) -> Result<(), String> {
    if log.planned_trials.is_some_and(|n| n as usize != plan.len()) {
        return Err(format!(
            "{field}.planned_trials: expected {} (the schedule's trials), found {}",
            plan.len(),
            log.planned_trials.unwrap_or_default()
        ));
    }
    for (i, s) in log.stimuli.iter().enumerate() {
        match plan.get(s.trial as usize) {
            None => {
                return Err(format!(
                    "{field}.stimuli[{i}].trial: expected a trial of the schedule (0 to {}), found {}",
                    plan.len().saturating_sub(1),
                    s.trial
                ));
            }
            Some(t) if t.target != s.target => {
                return Err(format!(
                    "{field}.stimuli[{i}].target: expected {} (the schedule's trial {}), found {}",
                    t.target, s.trial, s.target
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

// ----- pages -----

#[derive(Template, WebTemplate)]
#[template(path = "test/start.html")]
pub struct StartPage {
    layout: Layout,
    error: Option<String>,
    code: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "test/run.html")]
pub struct RunPage {
    layout: Layout,
    code: String,
    go_no_go: bool,
    minutes: String,
    shortened: bool,
    practice_trials: u32,
}

pub async fn start_page() -> StartPage {
    StartPage {
        layout: Layout::bare("Attention test"),
        error: None,
        code: String::new(),
    }
}

fn client_key(addr: &ClientAddr) -> String {
    addr.0
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Refuses a client that has entered too many codes that were not in force.
async fn rate_limited(state: &AppState, client: &str, now: i64) -> Result<(), AppError> {
    let (mine, all) = state
        .store
        .cpt_code_failures(client, now - RATE_WINDOW_SECS)
        .await?;
    if mine >= RATE_PER_CLIENT || all >= RATE_ALL {
        state
            .store
            .audit("family", "cpt_code_blocked", "test code", Some(client))
            .await?;
        return Err(AppError::TooManyRequests(format!(
            "Too many codes that did not work have been entered. Wait {} minutes and try again, or ask the clinic for a new code.",
            RATE_WINDOW_SECS / 60
        )));
    }
    Ok(())
}

/// What the family is told about a refused code, after counting and auditing it.
async fn refused(
    state: &AppState,
    client: &str,
    refusal: CodeRefusal,
    now: i64,
) -> Result<String, AppError> {
    let (action, id, trust, message) = match refusal {
        CodeRefusal::Unknown => (
            "cpt_code_unknown",
            None,
            None,
            "code: this code is not one we know. Check it against the letter or message from the clinic (letters and numbers only; dashes and spaces do not matter).".to_string(),
        ),
        CodeRefusal::Expired { id, trust } => (
            "cpt_code_expired",
            Some(id),
            Some(trust),
            "code: this code has expired. Ask the clinic for a new one.".into(),
        ),
        CodeRefusal::Used { id, trust } => (
            "cpt_code_used",
            Some(id),
            Some(trust),
            "code: this code has already been used for a test. Each code is for one test; ask the clinic for a new one if the test is to be repeated.".into(),
        ),
        CodeRefusal::Revoked { id, trust } => (
            "cpt_code_withdrawn",
            Some(id),
            Some(trust),
            "code: the clinic has withdrawn this code. Use the newest code they gave you, or ask them for one.".into(),
        ),
        CodeRefusal::WrongAttempt { id, trust } => (
            "cpt_attempt_replaced",
            Some(id),
            Some(trust),
            "attempt: the test was started again (in another tab or on another device), so this run cannot be saved. Start again from the code page.".into(),
        ),
        CodeRefusal::PracticeNotPassed { id, trust } => (
            "cpt_practice_not_passed",
            Some(id),
            Some(trust),
            "practice: the practice has to be passed before the test can be saved.".into(),
        ),
    };
    if matches!(
        action,
        "cpt_code_unknown" | "cpt_code_expired" | "cpt_code_used" | "cpt_code_withdrawn"
    ) {
        state.store.cpt_code_failed(client, now).await?;
    }
    let target = id.map_or_else(|| "test code".to_string(), |id| format!("cpt code {id}"));
    state
        .store
        .audit_for("family", action, &target, trust.as_deref(), Some(client))
        .await?;
    Ok(message)
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub code: String,
}

/// The code form: the test page if the code is in force, the form again with what is wrong.
pub async fn enter_code(
    State(state): State<AppState>,
    addr: ClientAddr,
    Form(f): Form<CodeForm>,
) -> Result<Response, AppError> {
    let now = unix_now();
    let client = client_key(&addr);
    rate_limited(&state, &client, now).await?;
    let again = |error: String, status: StatusCode| {
        let page = StartPage {
            layout: Layout::bare("Attention test"),
            error: Some(error),
            code: f.code.trim().chars().take(60).collect(),
        };
        (status, page).into_response()
    };
    if store::cpt::normalise_code(&f.code).is_empty() {
        return Ok(again(
            "code: enter the code the clinic gave you.".into(),
            StatusCode::BAD_REQUEST,
        ));
    }
    let code = match state.store.usable_cpt_code(&f.code, now).await? {
        Ok(c) => c,
        Err(r) => {
            let status = match r {
                CodeRefusal::Unknown => StatusCode::BAD_REQUEST,
                _ => StatusCode::GONE,
            };
            let m = refused(&state, &client, r, now).await?;
            return Ok(again(m, status));
        }
    };
    let params = params_for(&code.task, code.duration_ms)?;
    let version = params.version;
    let standard = version.params().duration_ms;
    let page = RunPage {
        layout: Layout::bare("Attention test"),
        code: store::cpt::normalise_code(&f.code),
        go_no_go: version == TaskVersion::GoNoGo,
        minutes: minutes(params.duration_ms),
        shortened: params.duration_ms < standard,
        practice_trials: params.practice.trials,
    };
    Ok((
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(TEST_PAGE_CSP),
            ),
        ],
        page,
    )
        .into_response())
}

/// A length as people say it: "15 minutes", "30 seconds".
pub fn minutes(ms: u32) -> String {
    if ms >= 60_000 && ms.is_multiple_of(60_000) {
        let m = ms / 60_000;
        format!("{m} minute{}", if m == 1 { "" } else { "s" })
    } else {
        format!("{} seconds", ms / 1000)
    }
}

// ----- the script's calls -----

fn bad(message: impl Into<String>) -> ApiError {
    ApiError(AppError::BadRequest(message.into()))
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8], what: &str) -> Result<T, ApiError> {
    if body.len() > MAX_POST_BYTES {
        return Err(bad(format!(
            "{what}: expected at most {} MB",
            MAX_POST_BYTES / (1024 * 1024)
        )));
    }
    serde_json::from_slice(body).map_err(|e| {
        bad(format!(
            "{what}: expected JSON as the test page sends it ({e})"
        ))
    })
}

#[derive(Deserialize)]
struct ScheduleRequest {
    code: String,
}

/// Starts (or starts again) the test of a code in force: a new seed and attempt token.
pub async fn schedule(
    State(state): State<AppState>,
    addr: ClientAddr,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: ScheduleRequest = parse(&body, "request")?;
    let now = unix_now();
    let client = client_key(&addr);
    rate_limited(&state, &client, now).await?;
    let code = match state.store.usable_cpt_code(&req.code, now).await? {
        Ok(c) => c,
        Err(r) => {
            let status = match r {
                CodeRefusal::Unknown => StatusCode::BAD_REQUEST,
                _ => StatusCode::GONE,
            };
            let m = refused(&state, &client, r, now).await?;
            return Ok((status, axum::Json(json!({ "error": m }))).into_response());
        }
    };
    if code.starts >= MAX_STARTS {
        state
            .store
            .audit_for(
                "family",
                "cpt_starts_exhausted",
                &format!("cpt code {}", code.id),
                Some(&code.trust_code),
                None,
            )
            .await?;
        return Err(bad(format!(
            "code: this code has been started {MAX_STARTS} times, the most allowed. Ask the clinic for a new code."
        )));
    }
    let seed: u64 = rand::random();
    let token: [u8; 32] = rand::random();
    let attempt: String = token.iter().map(|b| format!("{b:02x}")).collect();
    if !state
        .store
        .start_cpt_attempt(code.id, seed, &attempt, now)
        .await?
    {
        return Err(bad(
            "code: this code stopped being in force just now. Ask the clinic for a new one.",
        ));
    }
    let plan = cpt::schedule(&params_for(&code.task, code.duration_ms)?, seed)
        .map_err(|e| ApiError(AppError::Internal(format!("schedule: {e}"))))?;
    state
        .store
        .audit_for(
            "family",
            "cpt_test_started",
            &format!("cpt code {}", code.id),
            Some(&code.trust_code),
            Some(&format!("start {} of {MAX_STARTS}", code.starts + 1)),
        )
        .await?;
    let body = json!({
        "attempt": attempt,
        "schedule": plan,
        "timing_rule": {
            "min_frames": MIN_FRAMES,
            "max_median_ms": MAX_MEDIAN_MS,
            "max_long_frames_pct": MAX_LONG_FRAMES_PCT,
        },
    });
    Ok((
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(body),
    )
        .into_response())
}

#[derive(Deserialize)]
struct PracticeRequest {
    code: String,
    attempt: String,
    log: RawLog,
}

/// Scores a practice block with `cpt` and records whether it passed.
pub async fn practice(
    State(state): State<AppState>,
    addr: ClientAddr,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: PracticeRequest = parse(&body, "practice")?;
    let now = unix_now();
    let client = client_key(&addr);
    rate_limited(&state, &client, now).await?;
    let code = match state
        .store
        .cpt_attempt(&req.code, &req.attempt, now)
        .await?
    {
        Ok(c) => c,
        Err(r) => {
            let m = refused(&state, &client, r, now).await?;
            return Ok((StatusCode::GONE, axum::Json(json!({ "error": m }))).into_response());
        }
    };
    let plan = schedule_for(&code)?;
    let rule = plan.params.practice;
    let mut attempts: Vec<Value> = serde_json::from_str(&code.practice_json).unwrap_or_default();
    // Attempts of this start only count against the limit.
    let this_start = code.starts;
    let tries = attempts
        .iter()
        .filter(|a| a["start"].as_i64() == Some(this_start))
        .count() as u32;
    if tries >= rule.max_attempts {
        return Err(bad(format!(
            "practice: the practice has been tried {} times. Please stop, and ask the clinic to explain the test again.",
            rule.max_attempts
        )));
    }
    matches_schedule(&req.log, &plan.practice, "log").map_err(bad)?;
    let score =
        cpt::score(&req.log, &ScoringOptions::default()).map_err(|e| bad(format!("log.{e}")))?;
    let passed = rule.passed(&score);
    attempts.push(json!({
        "start": this_start,
        "attempt": tries + 1,
        "hits": score.whole.hits,
        "commissions": score.whole.commissions,
        "passed": passed,
        "log": req.log,
    }));
    let text = serde_json::to_string(&attempts)
        .map_err(|e| ApiError(AppError::Internal(format!("practice json: {e}"))))?;
    state
        .store
        .record_cpt_practice(code.id, &text, passed)
        .await?;
    state
        .store
        .audit_for(
            "family",
            "cpt_practice",
            &format!("cpt code {}", code.id),
            Some(&code.trust_code),
            Some(&format!(
                "attempt {}: {}",
                tries + 1,
                if passed { "passed" } else { "not passed" }
            )),
        )
        .await?;
    Ok(axum::Json(json!({
        "passed": passed,
        "hits": score.whole.hits,
        "commissions": score.whole.commissions,
        "attempts_left": rule.max_attempts - tries - 1,
    }))
    .into_response())
}

#[derive(Deserialize)]
struct TimingPost {
    intervals_ms: Vec<f64>,
    #[serde(default)]
    fullscreen: bool,
    #[serde(default)]
    hidden_count: u32,
}

#[derive(Deserialize)]
struct ResultRequest {
    code: String,
    attempt: String,
    log: RawLog,
    timing: TimingPost,
    /// The head track, when the camera was used (`cpt::HeadTrack`: times, positions, sizes).
    #[serde(default)]
    head_track: Option<cpt::HeadTrack>,
    #[serde(default)]
    camera: Option<CameraPost>,
}

/// Checks, scores (with `cpt`) and stores a test; nothing is stored if anything is wrong.
pub async fn result(
    State(state): State<AppState>,
    addr: ClientAddr,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: ResultRequest = parse(&body, "result")?;
    let now = unix_now();
    let client = client_key(&addr);
    rate_limited(&state, &client, now).await?;
    let code = match state
        .store
        .cpt_attempt(&req.code, &req.attempt, now)
        .await?
    {
        Ok(c) => c,
        Err(r) => {
            let m = refused(&state, &client, r, now).await?;
            return Ok((StatusCode::GONE, axum::Json(json!({ "error": m }))).into_response());
        }
    };
    let started = code.started_at.unwrap_or(now);
    if now - started > MAX_ATTEMPT_SECS {
        return Err(bad(format!(
            "result: the test was started more than {} hours ago; start it again from the code page.",
            MAX_ATTEMPT_SECS / 3600
        )));
    }
    let plan = schedule_for(&code)?;
    if let Err(m) = matches_schedule(&req.log, &plan.trials, "log") {
        return refuse(&state, &code, m).await;
    }
    let score = match cpt::score(&req.log, &ScoringOptions::default()) {
        Ok(s) => s,
        Err(e) => return refuse(&state, &code, format!("log.{e}")).await,
    };
    if req.log.stimuli.is_empty() {
        return refuse(
            &state,
            &code,
            "log.stimuli: expected the stimuli shown, found none".into(),
        )
        .await;
    }
    let timing = match timing(&req.timing.intervals_ms) {
        Ok(t) => t,
        Err(m) => return refuse(&state, &code, m).await,
    };
    if let Some(why) = timing.refusal() {
        return refuse(&state, &code, format!("timing: {why}")).await;
    }
    let span = cpt::Span::of_log(&req.log, &ScoringOptions::default());
    if let (Some(track), Some(span)) = (&req.head_track, span)
        && let Err(e) = cpt::activity(track, span, &cpt::ActivityOptions::default())
    {
        return refuse(&state, &code, format!("head_track.{e}")).await;
    }
    let camera = Camera::from_post(req.camera.as_ref(), req.head_track.as_ref(), span);
    let timing = Timing {
        fullscreen: req.timing.fullscreen,
        hidden_count: req.timing.hidden_count,
        camera: Some(camera),
        ..timing.with_onsets(&req.log, &plan.trials)
    };
    let head_track = match &req.head_track {
        Some(t) => Some(to_json(t)?),
        None => None,
    };
    let test = NewTest {
        started_at: started,
        finished_at: now,
        timing_json: to_json(&timing)?,
        raw_log: to_json(&req.log)?,
        head_track,
        score_json: to_json(&score)?,
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(300)
            .collect(),
    };
    match state
        .store
        .save_cpt_test(&req.code, &req.attempt, &test, now)
        .await?
    {
        Ok(id) => {
            state
                .store
                .audit_for(
                    "family",
                    "cpt_test_stored",
                    &format!("cpt test {id}"),
                    Some(&code.trust_code),
                    Some(&format!("code {}", code.id)),
                )
                .await?;
            Ok(axum::Json(json!({
                "stored": true,
                "message": "Thank you. The test is finished and has been sent to the clinic.",
            }))
            .into_response())
        }
        Err(r) => {
            let m = refused(&state, &client, r, now).await?;
            Ok((StatusCode::GONE, axum::Json(json!({ "error": m }))).into_response())
        }
    }
}

/// Audits a refused result and answers with what was wrong (nothing is stored).
async fn refuse(state: &AppState, code: &CodeRow, why: String) -> Result<Response, ApiError> {
    state
        .store
        .audit_for(
            "family",
            "cpt_result_refused",
            &format!("cpt code {}", code.id),
            Some(&code.trust_code),
            Some(&why),
        )
        .await?;
    Err(bad(why))
}

/// Any serialisable value as JSON text (an error here is ours, not the family's).
fn to_json<T: Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(|e| ApiError(AppError::Internal(format!("json: {e}"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timing_rule() {
        let steady = vec![16.7; 120];
        let t = timing(&steady).unwrap();
        assert!(t.refusal().is_none());
        assert!(t.jitter_ms < 1e-9);
        // 30 a second holds; 25 a second does not.
        assert!(timing(&[33.3; 120]).unwrap().refusal().is_none());
        let slow = timing(&[40.0; 120]).unwrap().refusal().unwrap();
        assert!(slow.contains("25 pictures a second"), "{slow}");
        // One frame in five dropped: refused.
        let mut dropped = vec![16.7; 100];
        dropped.extend([33.4; 20]);
        let t = timing(&dropped).unwrap();
        assert!((t.long_frames_pct - 100.0 * 20.0 / 120.0).abs() < 1e-9);
        assert!(t.refusal().unwrap().contains("missed 17%"));
        assert!(timing(&[16.7; 10]).unwrap_err().contains("at least 60"));
        assert!(
            timing(&[16.7, f64::NAN])
                .unwrap_err()
                .starts_with("timing.intervals_ms[1]")
        );
    }

    #[test]
    fn lengths_as_people_say_them() {
        assert_eq!(minutes(900_000), "15 minutes");
        assert_eq!(minutes(60_000), "1 minute");
        assert_eq!(minutes(30_000), "30 seconds");
    }
}
