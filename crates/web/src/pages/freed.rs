//! FREED pages (issue 14): the eating-disorder services a user may see, a service's waiting
//! list with every open referral's running clock (breaches first), its queue figures with
//! what-if inputs, and the form where a FREED champion adds or corrects a referral by hand.
//!
//! Who sees what is `domain::access::Grant::detail` on the service's place: its trust, and the
//! ward given for it in the services file. Full detail (the trust's leads, that ward's users,
//! programme admins) sees the patients' clocks by pseudonym prefix and the service's own
//! reference, never an NHS number; every such view is audited. Disclosure-controlled viewers
//! (the programme, other trusts' leads) see counts only, through `domain::disclosure`. Every
//! clock, eligibility, order and queue figure comes from `pathway`; referrals are written only
//! through `ingest::import`, as one-row uploads.

pub mod held;
pub mod inequalities;
pub mod measures;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::layout::{Choice, Layout};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::{Detail, Place};
use domain::dates::{iso, iso_datetime, minute_number, parse_date, parse_datetime};
use domain::disclosure::Policy;
use ingest::freed::HeldReferral;
use pathway::eligibility::{Reason, Status};
use pathway::queue::{ListEntry, WaitingListStats};
use pathway::{Clock, ClockState, ClockStatus, ContactKind, Referral};
use serde::{Deserialize, Serialize};
use store::freed::ServiceRow;
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time};

// ---------------------------------------------------------------------------------------------
// Access and data.

/// Where a service sits for `domain::access`: its trust, and its ward if it has one.
pub fn place_of(s: &ServiceRow) -> Place {
    Place {
        ward: s.ward_code.clone(),
        trust: Some(s.trust_code.clone()),
    }
}

/// The service at `code` and how much of it the user may see (404 unknown, 403 nothing).
pub async fn service_for(
    state: &AppState,
    user: &CurrentUser,
    code: &str,
) -> Result<(ServiceRow, Detail), AppError> {
    let code = code.trim().to_ascii_uppercase();
    let s = state
        .store
        .freed_services()
        .await?
        .into_iter()
        .find(|s| s.code == code)
        .ok_or(AppError::NotFound)?;
    match user.grant.detail(&place_of(&s)) {
        Detail::None => Err(AppError::Forbidden(format!(
            "Your account ({}) cannot see the FREED service {}.",
            user.grant.role.label().to_lowercase(),
            s.name
        ))),
        d => Ok((s, d)),
    }
}

/// The services the user may see, each with how much.
pub async fn visible_services(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<(ServiceRow, Detail)>, AppError> {
    Ok(state
        .store
        .freed_services()
        .await?
        .into_iter()
        .map(|s| {
            let d = user.grant.detail(&place_of(&s));
            (s, d)
        })
        .filter(|(_, d)| *d != Detail::None)
        .collect())
}

/// The referrals of a service that can be waiting at `as_of` (the store narrows, `pathway`
/// decides). The referrals not yet off the list are kept per service for the data generation
/// they were read in ([`ListCache`]), so that views of the list as of the same or a later time
/// (the usual view: now) read nothing but the data generation again.
pub async fn waiting_referrals(
    state: &AppState,
    service: &str,
    as_of: PrimitiveDateTime,
) -> Result<Vec<HeldReferral>, AppError> {
    let at = minute_number(as_of);
    let generation = state.store.data_generation().await?;
    if let Some(kept) = state.freed.get(service, generation, at) {
        return Ok(kept
            .iter()
            .filter(|k| k.received_min <= at && k.off_list_min.is_none_or(|o| o > at))
            .map(|k| k.held.clone())
            .collect());
    }
    let rows = state.store.freed_rows_not_off_by(service, at).await?;
    let bounds: std::collections::HashMap<String, (i64, Option<i64>)> = rows
        .referrals
        .iter()
        .map(|r| (r.referral_id.clone(), (r.received_min, r.off_list_min)))
        .collect();
    let held = ingest::freed::held_referrals(rows).map_err(AppError::Internal)?;
    let kept: Vec<Kept> = held
        .into_iter()
        .map(|h| {
            let (received_min, off_list_min) = bounds
                .get(&h.referral.id)
                .copied()
                .unwrap_or((minute_number(h.referral.received), None));
            Kept {
                received_min,
                off_list_min,
                held: h,
            }
        })
        .collect();
    let out = kept
        .iter()
        .filter(|k| k.received_min <= at && k.off_list_min.is_none_or(|o| o > at))
        .map(|k| k.held.clone())
        .collect();
    state.freed.put(service, generation, at, kept);
    Ok(out)
}

/// A referral kept by [`ListCache`], with the minutes that bound when it can be waiting.
pub struct Kept {
    received_min: i64,
    off_list_min: Option<i64>,
    held: HeldReferral,
}

struct KeptList {
    generation: i64,
    /// The minute they were read for: they are every referral not off the list by then.
    from: i64,
    referrals: std::sync::Arc<Vec<Kept>>,
}

/// Each service's referrals not yet off its waiting list, as read for one data generation
/// (every upload, hand entry included, moves it, and the next view reads again). Only the
/// server's memory holds them, as it holds any page it is building; what a user sees of them
/// is decided at every view, as before. With them, the whole scopes and facts the measures,
/// queue and inequality pages count ([`held::HeldCache`]).
#[derive(Default)]
pub struct ListCache {
    lists: std::sync::Mutex<std::collections::HashMap<String, KeptList>>,
    pub(crate) held: held::HeldCache,
}

/// Services kept at most (beyond it, start again).
const LIST_CACHE_SERVICES: usize = 1000;

impl ListCache {
    fn get(&self, service: &str, generation: i64, at: i64) -> Option<std::sync::Arc<Vec<Kept>>> {
        let map = self.lists.lock().unwrap_or_else(|p| p.into_inner());
        map.get(service)
            .filter(|k| k.generation == generation && k.from <= at)
            .map(|k| k.referrals.clone())
    }

    fn put(&self, service: &str, generation: i64, from: i64, referrals: Vec<Kept>) {
        let mut map = self.lists.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= LIST_CACHE_SERVICES {
            map.clear();
        }
        map.insert(
            service.to_string(),
            KeptList {
                generation,
                from,
                referrals: std::sync::Arc::new(referrals),
            },
        );
    }
}

/// UK wall-clock time now (British Summer Time from 01:00 UTC on the last Sunday of March to
/// 01:00 UTC on the last Sunday of October), as services record their times.
pub fn uk_now() -> PrimitiveDateTime {
    let now = OffsetDateTime::now_utc();
    let y = now.year();
    let last_sunday = |m: Month| {
        Date::from_calendar_date(y, m, m.length(y))
            .ok()
            .map(|d| d - Duration::days(i64::from(d.weekday().number_days_from_sunday())))
    };
    let one = Time::from_hms(1, 0, 0).unwrap_or(Time::MIDNIGHT);
    let summer = match (last_sunday(Month::March), last_sunday(Month::October)) {
        (Some(a), Some(b)) => {
            let t = PrimitiveDateTime::new(now.date(), now.time());
            t >= PrimitiveDateTime::new(a, one) && t < PrimitiveDateTime::new(b, one)
        }
        _ => false,
    };
    let t = if summer {
        now + Duration::hours(1)
    } else {
        now
    };
    PrimitiveDateTime::new(
        t.date(),
        Time::from_hms(t.hour(), t.minute(), 0).unwrap_or(Time::MIDNIGHT),
    )
}

/// `as_of` as given (`2024-03-20 10:00`, or a date: its start), or now.
pub fn as_of(q: Option<&str>) -> Result<PrimitiveDateTime, AppError> {
    match q.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(uk_now()),
        Some(s) => parse_datetime(&s.replace('T', " "))
            .or_else(|_| parse_date(s).map(|d| PrimitiveDateTime::new(d, Time::MIDNIGHT)))
            .map_err(|e| {
                AppError::BadRequest(format!(
                    "as_of: expected a date and time such as 2024-03-20 10:00; {e}"
                ))
            }),
    }
}

// ---------------------------------------------------------------------------------------------
// Words.

/// Minutes as days and hours (`3 days 4 hours`, `1 hour 5 minutes` under a day).
pub fn span(minutes: i64) -> String {
    let m = minutes.abs();
    let (d, h, min) = (m / 1440, (m % 1440) / 60, m % 60);
    let unit = |n: i64, one: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    if d > 0 {
        format!("{} {}", unit(d, "day"), unit(h, "hour"))
    } else {
        format!("{} {}", unit(h, "hour"), unit(min, "minute"))
    }
}

pub fn status_words(c: &ClockState) -> String {
    match c.status {
        ClockStatus::NotStarted => "not started".into(),
        ClockStatus::Running => format!("{} left", span(c.minutes_left())),
        ClockStatus::Breaching => {
            format!("breached by {} (still waiting)", span(c.breach_minutes()))
        }
        ClockStatus::Met { .. } => "met".into(),
        ClockStatus::Breached { .. } => format!("breached by {}", span(c.breach_minutes())),
        ClockStatus::Ended { .. } => "ended (closed before its deadline)".into(),
    }
}

pub fn reason_words(r: Reason) -> String {
    match r {
        Reason::AgeBelow16 { age } => format!("aged {age} at referral: under 16"),
        Reason::AgeAbove25 { age } => format!("aged {age} at referral: over 25"),
        Reason::AgeNotKnown => "age at referral not known".into(),
        Reason::NotFirstEpisode => "not the first episode".into(),
        Reason::FirstEpisodeNotKnown => "first episode not known".into(),
        Reason::ThreeYearsOrMoreSinceOnset { .. } => "3 years or more since onset".into(),
        Reason::OnsetNotKnown => "onset not known".into(),
        Reason::OnsetTooImprecise { precision } => format!(
            "onset known only to the {}, which straddles the 3-year line",
            ingest::freed::precision_code(precision)
        ),
        Reason::OnsetNotBeforeReferral => "onset recorded on or after the referral".into(),
    }
}

pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Eligible => "Eligible",
        Status::NotEligible => "Not eligible",
        Status::NotKnown => "Not known",
    }
}

fn short_pseudonym(p: &str) -> String {
    p.chars().take(8).collect()
}

// ---------------------------------------------------------------------------------------------
// The waiting list as pages and the API show it.

/// One waiting referral, as a row: never an NHS number.
#[derive(Clone, Debug, Serialize)]
pub struct WaitingRow {
    pub pseudonym: String,
    pub reference: String,
    pub received: String,
    pub priority: &'static str,
    pub age: Option<u8>,
    pub clock: &'static str,
    pub clock_label: &'static str,
    pub breaching: bool,
    pub status: String,
    pub minutes_left: i64,
    pub deadline: String,
    pub waited: String,
    /// Wall-clock minutes since receipt.
    pub waited_minutes: i64,
    pub eligibility: &'static str,
    pub reasons: Vec<String>,
    pub clocks: Vec<ClockRow>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClockRow {
    pub clock: &'static str,
    pub label: &'static str,
    pub status: String,
    pub deadline: String,
    pub breached: bool,
}

/// Counts of a service's waiting list as of a time.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Counts {
    pub waiting: u64,
    /// Waiting with their most urgent clock breached.
    pub breaching: u64,
    /// Waiting referrals with each clock (in `Clock::ALL` order) running and breached.
    pub by_clock: [u64; 4],
}

/// The service's waiting list in `pathway`'s order (breaches first) and its counts.
pub fn waiting_rows(
    held: Vec<HeldReferral>,
    service: &str,
    as_of: PrimitiveDateTime,
) -> (Vec<WaitingRow>, Counts) {
    // The referrals taken (not copied) for pathway; the pseudonyms kept beside them.
    let mut patients: std::collections::HashMap<String, std::sync::Arc<str>> =
        std::collections::HashMap::with_capacity(held.len());
    let referrals: Vec<Referral> = held
        .into_iter()
        .map(|h| {
            patients.insert(h.referral.id.clone(), h.patient);
            h.referral
        })
        .collect();
    let list = pathway::service_waiting_list(&referrals, service, as_of);
    let mut counts = Counts::default();
    let rows = list
        .iter()
        .map(|w| {
            let r = w.referral;
            counts.waiting += 1;
            if w.is_breaching() {
                counts.breaching += 1;
            }
            for c in &w.clocks {
                if c.status == ClockStatus::Breaching
                    && let Some(k) = Clock::ALL.iter().position(|x| *x == c.clock)
                {
                    counts.by_clock[k] += 1;
                }
            }
            let e = pathway::eligibility(r);
            WaitingRow {
                pseudonym: patients
                    .get(&r.id)
                    .map_or_else(String::new, |p| short_pseudonym(p)),
                reference: r.id.clone(),
                received: iso_datetime(r.received),
                priority: ingest::freed::priority_code(r.priority),
                age: r.age_at_referral,
                clock: w.most_urgent.clock.code(),
                clock_label: w.most_urgent.clock.label(),
                breaching: w.is_breaching(),
                status: status_words(&w.most_urgent),
                minutes_left: w.most_urgent.minutes_left(),
                deadline: iso_datetime(w.most_urgent.deadline),
                waited: span(w.waited_minutes),
                waited_minutes: w.waited_minutes,
                eligibility: status_label(e.status),
                reasons: e.reasons.into_iter().map(reason_words).collect(),
                clocks: w
                    .clocks
                    .iter()
                    .map(|c| ClockRow {
                        clock: c.clock.code(),
                        label: c.clock.label(),
                        status: status_words(c),
                        deadline: iso_datetime(c.deadline),
                        breached: c.is_breached(),
                    })
                    .collect(),
            }
        })
        .collect();
    (rows, counts)
}

/// A count as a viewer may see it: exact for full detail, else through disclosure control.
fn shown(detail: Detail, n: u64) -> String {
    if detail == Detail::Full {
        n.to_string()
    } else {
        Policy::default().count(n).to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// /freed

pub struct ServiceLine {
    pub code: String,
    pub name: String,
    /// The trust's name, and its ODS code.
    pub trust: String,
    pub trust_code: String,
    pub waiting: String,
    pub breaching: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "freed/index.html")]
pub struct IndexPage {
    layout: Layout,
    services: Vec<ServiceLine>,
    as_of: String,
    controlled: bool,
    /// Who is reached across the trusts of the services listed and the region, where the
    /// user may see them: (address, words).
    reach: Vec<(String, String)>,
}

#[derive(Deserialize)]
pub struct AsOfQuery {
    pub as_of: Option<String>,
}

/// Each visible service's waiting and breaching counts (controlled viewers: disclosure-controlled).
pub async fn service_lines(
    state: &AppState,
    user: &CurrentUser,
    at: PrimitiveDateTime,
) -> Result<Vec<(ServiceLine, Detail, Counts)>, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let mut out = Vec::new();
    for (s, detail) in visible_services(state, user).await? {
        let held = waiting_referrals(state, &s.code, at).await?;
        let (_, counts) = waiting_rows(held, &s.code, at);
        let trust = snap
            .orgs
            .get(&s.trust_code)
            .map_or_else(|| s.trust_code.clone(), |o| o.name.clone());
        out.push((
            ServiceLine {
                code: s.code.clone(),
                name: s.name.clone(),
                trust,
                trust_code: s.trust_code.clone(),
                waiting: shown(detail, counts.waiting),
                breaching: shown(detail, counts.breaching),
            },
            detail,
            counts,
        ));
    }
    Ok(out)
}

pub async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AsOfQuery>,
) -> Result<IndexPage, AppError> {
    let at = as_of(q.as_of.as_deref())?;
    let lines = service_lines(&state, &user, at).await?;
    let controlled = lines.iter().any(|(_, d, _)| *d != Detail::Full);
    let snap = state.cache.current(&state.store).await?;
    let mut reach = Vec::new();
    if !lines.is_empty()
        && let Some(r) = snap.orgs.region()
        && user.grant.detail(&snap.orgs.place(r)) != Detail::None
    {
        reach.push((
            format!("/freed/org/{}/inequalities", r.code),
            format!("Across the region ({})", r.name),
        ));
    }
    let mut trusts: Vec<&str> = lines
        .iter()
        .map(|(l, _, _)| l.trust_code.as_str())
        .collect();
    trusts.sort_unstable();
    trusts.dedup();
    for t in trusts {
        if let Some(o) = snap.orgs.get(t)
            && user.grant.detail(&snap.orgs.place(o)) != Detail::None
        {
            reach.push((
                format!("/freed/org/{}/inequalities", o.code),
                format!("Across {}'s services", o.name),
            ));
        }
    }
    Ok(IndexPage {
        layout: Layout::new("FREED eating-disorder services", &user, "/freed"),
        services: lines.into_iter().map(|(l, _, _)| l).collect(),
        as_of: iso_datetime(at),
        controlled,
        reach,
    })
}

// ---------------------------------------------------------------------------------------------
// /freed/{service}

#[derive(Template, WebTemplate)]
#[template(path = "freed/service.html")]
pub struct ServicePage {
    layout: Layout,
    service: ServiceRow,
    trust: String,
    as_of: String,
    full: bool,
    waiting: String,
    breaching: String,
    rows: Vec<WaitingRow>,
    /// Each clock's label and how many waiting referrals are breaching it (as the viewer may
    /// see the count).
    by_clock: Vec<(&'static str, String)>,
    /// Who has waited longest since receipt: reference, receipt and the wait.
    longest: Option<(String, String, String)>,
    saved: Option<String>,
}

#[derive(Deserialize)]
pub struct ServiceQuery {
    pub as_of: Option<String>,
    pub saved: Option<String>,
}

pub async fn service(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<ServiceQuery>,
) -> Result<ServicePage, AppError> {
    let (s, detail) = service_for(&state, &user, &code).await?;
    let at = as_of(q.as_of.as_deref())?;
    let held = waiting_referrals(&state, &s.code, at).await?;
    let (rows, counts) = waiting_rows(held, &s.code, at);
    // Ties (received the same minute) go to the earlier reference, as in pathway's order.
    let longest = rows
        .iter()
        .max_by(|a, b| {
            a.waited_minutes
                .cmp(&b.waited_minutes)
                .then_with(|| b.reference.cmp(&a.reference))
        })
        .map(|r| (r.reference.clone(), r.received.clone(), r.waited.clone()));
    let full = detail == Detail::Full;
    if full {
        state
            .store
            .audit_for(
                &user.name,
                "freed_waiting_list_viewed",
                &s.code,
                Some(&s.trust_code),
                Some(&format!(
                    "{} referrals waiting as of {}",
                    rows.len(),
                    iso_datetime(at)
                )),
            )
            .await?;
    }
    let snap = state.cache.current(&state.store).await?;
    let trust = snap
        .orgs
        .get(&s.trust_code)
        .map_or_else(|| s.trust_code.clone(), |o| o.name.clone());
    Ok(ServicePage {
        layout: Layout::new(s.name.clone(), &user, "/freed"),
        trust,
        as_of: iso_datetime(at),
        full,
        waiting: shown(detail, counts.waiting),
        breaching: shown(detail, counts.breaching),
        by_clock: Clock::ALL
            .iter()
            .zip(counts.by_clock)
            .map(|(c, n)| (c.label(), shown(detail, n)))
            .collect(),
        rows: if full { rows } else { Vec::new() },
        longest: longest.filter(|_| full),
        saved: q.saved.filter(|_| full),
        service: s,
    })
}

// ---------------------------------------------------------------------------------------------
// /freed/{service}/queue

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    pub as_of: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub target_wait: Option<String>,
    pub factor: Option<String>,
    pub weeks_to_target: Option<String>,
}

pub struct Figure {
    pub label: &'static str,
    pub value: String,
    pub note: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "freed/queue.html")]
pub struct QueuePage {
    layout: Layout,
    service: ServiceRow,
    from: String,
    to: String,
    target_wait: String,
    factor: String,
    weeks_to_target: String,
    errors: Vec<String>,
    figures: Vec<Figure>,
    weeks: Vec<(String, usize)>,
}

/// A patient on the service's list for the queue figures: joined on the day the referral was
/// received; removed on the day of the first attended treatment or of the final discharge
/// known at `as_of`, whichever is first. A referral closed and reopened stays on the list
/// (the time it was closed counts as waiting, as in `pathway`'s clocks).
pub fn list_entry(r: &Referral, as_of: PrimitiveDateTime) -> Option<ListEntry> {
    if r.received > as_of {
        return None;
    }
    let treated = r.first_attended(ContactKind::FirstTreatment, as_of);
    let removal = match (treated, r.closed_at(as_of)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Some(ListEntry {
        referral: r.received.date(),
        removal: removal.map(|t| t.date()),
    })
}

fn number(field: &str, v: Option<&str>, default: f64, errors: &mut Vec<String>) -> f64 {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => default,
        Some(s) => match s.parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 => x,
            _ => {
                errors.push(format!("{field}: expected a number above 0, found '{s}'"));
                default
            }
        },
    }
}

fn day(field: &str, v: Option<&str>, default: Date, errors: &mut Vec<String>) -> Date {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => default,
        Some(s) => parse_date(s).unwrap_or_else(|e| {
            errors.push(format!("{field}: expected a date such as 2024-03-01; {e}"));
            default
        }),
    }
}

fn f2(x: f64) -> String {
    format!("{x:.2}")
}

pub struct QueueAnswer {
    pub stats: WaitingListStats,
    pub target_mean_wait: f64,
    pub relief: f64,
    pub weeks: Vec<(Date, usize)>,
}

/// The queue figures of `pathway::queue` for a service's list, with the what-if inputs.
pub fn queue_figures(
    list: &[ListEntry],
    from: Date,
    to: Date,
    target_wait: f64,
    factor: f64,
    weeks_to_target: f64,
) -> Result<QueueAnswer, pathway::PathwayError> {
    let stats = pathway::queue::waiting_list_stats(list, from, to, target_wait, factor)?;
    let target_mean_wait = pathway::queue::target_mean_wait(target_wait, factor)?;
    let relief = pathway::queue::relief_capacity(
        stats.demand.weekly,
        stats.queue_size as f64,
        stats.target_queue_size,
        weeks_to_target,
    )?;
    let weeks = pathway::queue::weekly_queue_sizes(list, from, to)?;
    Ok(QueueAnswer {
        stats,
        target_mean_wait,
        relief,
        weeks,
    })
}

pub async fn queue(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<QueueQuery>,
) -> Result<QueuePage, AppError> {
    let (s, detail) = service_for(&state, &user, &code).await?;
    if detail != Detail::Full {
        return Err(AppError::Forbidden(
            "The queue figures are built from each patient's dates: only the service's own trust sees them.".into(),
        ));
    }
    let at = as_of(q.as_of.as_deref())?;
    let mut errors = Vec::new();
    let to = day("to", q.to.as_deref(), at.date(), &mut errors);
    let from = day(
        "from",
        q.from.as_deref(),
        to - Duration::days(181),
        &mut errors,
    );
    let target_wait = number("target_wait", q.target_wait.as_deref(), 4.0, &mut errors);
    let factor = number(
        "factor",
        q.factor.as_deref(),
        pathway::queue::DEFAULT_FACTOR,
        &mut errors,
    );
    let weeks_to_target = number(
        "weeks_to_target",
        q.weeks_to_target.as_deref(),
        pathway::queue::DEFAULT_TIME_TO_TARGET,
        &mut errors,
    );
    let held = held::referrals(&state, &held::Scope::Service(s.code.clone())).await?;
    let list: Vec<ListEntry> = held
        .iter()
        .filter_map(|h| list_entry(&h.referral, at))
        .collect();
    let mut figures = Vec::new();
    let mut weeks = Vec::new();
    if errors.is_empty() {
        match queue_figures(&list, from, to, target_wait, factor, weeks_to_target) {
            Err(e) => errors.push(e.to_string()),
            Ok(a) => {
                let st = a.stats;
                let opt = |x: Option<f64>| x.map_or_else(|| "not shown".to_string(), f2);
                figures = vec![
                    Figure {
                        label: "Demand (referrals a week)",
                        value: f2(st.demand.weekly),
                        note: "from the gaps between referrals received in the period",
                    },
                    Figure {
                        label: "Capacity (removals a week)",
                        value: f2(st.capacity.weekly),
                        note: "from the gaps between first treatments and discharges, not counting time with nobody waiting",
                    },
                    Figure {
                        label: "Queue load",
                        value: f2(st.load),
                        note: "demand ÷ capacity: 1 or more and the list does not shrink",
                    },
                    Figure {
                        label: "Waiting at the end of the period",
                        value: st.queue_size.to_string(),
                        note: "joined and not yet treated or discharged",
                    },
                    Figure {
                        label: "Target mean wait (weeks)",
                        value: f2(a.target_mean_wait),
                        note: "target wait ÷ factor",
                    },
                    Figure {
                        label: "Target queue size",
                        value: f2(st.target_queue_size),
                        note: "Little's law: demand × target wait ÷ factor",
                    },
                    Figure {
                        label: "Capacity needed to hold the target (a week)",
                        value: opt(st.target_capacity),
                        note: "Kingman's approximation with the measured coefficients of variation; shown when the queue is not too big",
                    },
                    Figure {
                        label: "Relief capacity (a week)",
                        value: f2(a.relief),
                        note: "demand + (queue size − target queue size) ÷ weeks to reach it",
                    },
                    Figure {
                        label: "Mean wait of those waiting (weeks)",
                        value: opt(st.mean_wait_weeks),
                        note: "at the end of the period",
                    },
                    Figure {
                        label: "Waiting-list pressure",
                        value: opt(st.pressure),
                        note: "mean wait × 2 ÷ target wait: over 1 is under pressure",
                    },
                ];
                if st.queue_too_big {
                    figures.push(Figure {
                        label: "Queue too big",
                        value: "yes".into(),
                        note: "more than twice the target queue size: relief capacity is needed",
                    });
                }
                weeks = a.weeks.into_iter().map(|(d, n)| (iso(d), n)).collect();
            }
        }
    }
    state
        .store
        .audit_for(
            &user.name,
            "freed_queue_viewed",
            &s.code,
            Some(&s.trust_code),
            None,
        )
        .await?;
    Ok(QueuePage {
        layout: Layout::new(
            format!("{}: the waiting list as a queue", s.name),
            &user,
            "/freed",
        ),
        from: iso(from),
        to: iso(to),
        target_wait: q.target_wait.clone().unwrap_or_else(|| "4".into()),
        factor: q.factor.clone().unwrap_or_else(|| "4".into()),
        weeks_to_target: q.weeks_to_target.clone().unwrap_or_else(|| "26".into()),
        errors,
        figures,
        weeks,
        service: s,
    })
}

// ---------------------------------------------------------------------------------------------
// /freed/{service}/referral: add or correct a referral by hand.

/// The form's fields, as the page sends them.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ReferralForm {
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub nhs_number: String,
    #[serde(default)]
    pub received_date: String,
    #[serde(default)]
    pub received_time: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub age: String,
    #[serde(default)]
    pub first_episode: String,
    #[serde(default)]
    pub onset: String,
    #[serde(default)]
    pub diagnosis: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub ethnic_category: String,
    #[serde(default)]
    pub gender: String,
    #[serde(default)]
    pub imd_decile: String,
}

/// Each form field: its id, its label, and the upload column it fills.
const FIELDS: [(&str, &str, &str); 13] = [
    (
        "reference",
        "The service's reference for the referral",
        "ServiceRequestId",
    ),
    ("nhs_number", "NHS number", "NHSNumber"),
    (
        "received_date",
        "Date received",
        "ReferralRequestReceivedDate",
    ),
    (
        "received_time",
        "Time received",
        "ReferralRequestReceivedTime",
    ),
    ("source", "Source of referral", "SourceOfReferral"),
    ("age", "Age on the day received", "AgeServReferRecDate"),
    ("first_episode", "First episode", "FirstEpisode"),
    ("onset", "Illness onset", "OnsetDate"),
    ("diagnosis", "Diagnosis group", "EDDiagnosisGroup"),
    ("priority", "Priority", "ClinRespPriorityType"),
    ("ethnic_category", "Ethnic category", "EthnicCategory"),
    ("gender", "Gender", "Gender"),
    ("imd_decile", "Deprivation decile", "IMDDecile"),
];

impl ReferralForm {
    fn values(&self) -> [&str; 13] {
        [
            &self.reference,
            &self.nhs_number,
            &self.received_date,
            &self.received_time,
            &self.source,
            &self.age,
            &self.first_episode,
            &self.onset,
            &self.diagnosis,
            &self.priority,
            &self.ethnic_category,
            &self.gender,
            &self.imd_decile,
        ]
    }

    /// The one-row freed_referrals upload this form stands for (every field quoted).
    pub fn to_csv(&self, service: &str) -> String {
        let q = |v: &str| format!("\"{}\"", v.trim().replace('"', "\"\""));
        let mut header = vec!["ServiceCode".to_string()];
        let mut row = vec![q(service)];
        for ((_, _, col), v) in FIELDS.iter().zip(self.values()) {
            header.push((*col).to_string());
            row.push(q(v));
        }
        format!("{}\r\n{}\r\n", header.join(","), row.join(","))
    }

    /// The form filled from a referral held (never its NHS number).
    pub fn from_held(h: &HeldReferral) -> ReferralForm {
        let r = &h.referral;
        let onset = match r.onset {
            pathway::Onset::Day(d) => iso(d),
            pathway::Onset::Month { year, month } => format!("{year:04}-{:02}", u8::from(month)),
            pathway::Onset::Year(y) => format!("{y:04}"),
            pathway::Onset::Unknown => String::new(),
        };
        ReferralForm {
            reference: r.id.clone(),
            nhs_number: String::new(),
            received_date: iso(r.received.date()),
            received_time: format!("{:02}:{:02}", r.received.hour(), r.received.minute()),
            source: ingest::freed::source_code(r.source).into(),
            age: r.age_at_referral.map(|a| a.to_string()).unwrap_or_default(),
            first_episode: match r.first_episode {
                pathway::FirstEpisode::Yes => "Y",
                pathway::FirstEpisode::No => "N",
                pathway::FirstEpisode::NotKnown => "U",
            }
            .into(),
            onset,
            diagnosis: r.diagnosis.code().into(),
            priority: ingest::freed::priority_code(r.priority).into(),
            ethnic_category: h
                .ethnic_category
                .map(|c| c.code().to_string())
                .unwrap_or_default(),
            gender: h.sex.map(|s| s.code().to_string()).unwrap_or_default(),
            imd_decile: h.imd_decile.map(|d| d.to_string()).unwrap_or_default(),
        }
    }
}

pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// One field of the form as the template draws it: a text input, or a select when it has
/// choices.
pub struct FieldView {
    pub id: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub choices: Vec<Choice>,
    pub width: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "freed/referral.html")]
pub struct ReferralPage {
    layout: Layout,
    service: ServiceRow,
    correcting: bool,
    errors: Vec<FieldError>,
    fields: Vec<FieldView>,
}

fn choices(options: &[(&str, &str)], selected: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|(v, l)| Choice::new(*v, *l, v.eq_ignore_ascii_case(selected.trim())))
        .collect()
}

/// What each field's hint says.
fn hint(id: &str) -> &'static str {
    match id {
        "reference" => "As your service's system writes it, for example FR-2024-0012",
        "nhs_number" => {
            "10 digits. Needed for a new referral; leave blank when correcting one (the patient already held is kept). It is never shown back."
        }
        "received_date" => "For example 2024-03-01 or 01/03/2024",
        "received_time" => "24-hour clock, for example 23:59: the 48-hour clock counts minutes",
        "age" => "Whole years on the day the referral was received; blank if not known",
        "onset" => "A day (2023-11-14), a month (2023-11) or a year (2023); blank if not known",
        "ethnic_category" => "NHS ethnic category A to S, Z not stated, 99 not known (optional)",
        "gender" => "1 male, 2 female, 9 indeterminate, X not known (optional)",
        "imd_decile" => "1 (most deprived) to 10 (optional)",
        _ => "",
    }
}

fn referral_page(
    user: &CurrentUser,
    service: ServiceRow,
    form: ReferralForm,
    correcting: bool,
    errors: Vec<FieldError>,
) -> ReferralPage {
    let select = |id: &str, v: &str| -> Vec<Choice> {
        match id {
            "source" => choices(
                &[
                    ("", "Choose"),
                    ("gp", "GP"),
                    ("self_referral", "Self-referral"),
                    ("family_or_carer", "Family or carer"),
                    ("education", "School, college or university"),
                    ("other_health_service", "Another health service"),
                    ("other", "Other"),
                    ("not_known", "Not known"),
                ],
                v,
            ),
            "first_episode" => choices(
                &[
                    ("", "Choose"),
                    ("Y", "Yes"),
                    ("N", "No"),
                    ("U", "Not known"),
                ],
                v,
            ),
            "diagnosis" => choices(
                &[
                    ("", "Choose"),
                    ("AN", "Anorexia nervosa (AN)"),
                    ("BN", "Bulimia nervosa (BN)"),
                    ("BED", "Binge eating disorder (BED)"),
                    (
                        "OSFED",
                        "Other specified feeding or eating disorder (OSFED)",
                    ),
                    ("ARFID", "Avoidant/restrictive food intake disorder (ARFID)"),
                    ("OTHER", "Other"),
                    ("NYK", "Not yet known"),
                ],
                v,
            ),
            "priority" => choices(
                &[("", "Choose"), ("routine", "Routine"), ("urgent", "Urgent")],
                v,
            ),
            _ => Vec::new(),
        }
    };
    let fields = FIELDS
        .iter()
        .zip(form.values())
        .map(|((id, label, _), v)| FieldView {
            id,
            label,
            hint: hint(id),
            value: v.to_string(),
            error: errors
                .iter()
                .find(|e| e.field == *id)
                .map(|e| e.message.clone()),
            choices: select(id, v),
            width: match *id {
                "received_time" | "age" | "ethnic_category" | "gender" | "imd_decile" => {
                    "nhsuk-input--width-5"
                }
                "received_date" | "onset" => "nhsuk-input--width-10",
                _ => "nhsuk-input--width-20",
            },
        })
        .collect();
    ReferralPage {
        layout: Layout::new(
            if correcting {
                format!("Correct referral {}", form.reference.trim())
            } else {
                "Add a referral".to_string()
            },
            user,
            "/freed",
        ),
        service,
        correcting,
        errors,
        fields,
    }
}

/// A reference that could be held: not empty, at most 64 bytes, no control character.
fn plausible_reference(r: &str) -> bool {
    let t = r.trim();
    !t.is_empty() && t.len() <= 64 && !t.chars().any(char::is_control)
}

fn require_full(detail: Detail, s: &ServiceRow) -> Result<(), AppError> {
    if detail == Detail::Full {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "Only the FREED service's own trust can add or correct its referrals ({}).",
            s.name
        )))
    }
}

#[derive(Deserialize)]
pub struct ReferralQuery {
    #[serde(rename = "ref")]
    pub reference: Option<String>,
}

pub async fn referral_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<ReferralQuery>,
) -> Result<ReferralPage, AppError> {
    let (s, detail) = service_for(&state, &user, &code).await?;
    require_full(detail, &s)?;
    let reference = q
        .reference
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if reference
        .as_deref()
        .is_some_and(|r| !plausible_reference(r))
    {
        return Err(AppError::NotFound);
    }
    let (form, correcting) = match reference {
        None => (ReferralForm::default(), false),
        Some(r) => {
            let rows = state.store.freed_referral(&s.code, &r).await?;
            let held = ingest::freed::held_referrals(rows).map_err(AppError::Internal)?;
            let h = held.first().ok_or(AppError::NotFound)?;
            state
                .store
                .audit_for(
                    &user.name,
                    "freed_referral_viewed",
                    &s.code,
                    Some(&s.trust_code),
                    Some(&format!("referral {r}")),
                )
                .await?;
            (ReferralForm::from_held(h), true)
        }
    };
    Ok(referral_page(&user, s, form, correcting, Vec::new()))
}

/// Save a referral typed in by hand: it goes through `ingest::import` as a one-row upload, so
/// the checks (`pathway`'s among them) are those of every upload; a problem is shown at its
/// field and nothing is changed.
pub async fn save_referral(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Form(form): Form<ReferralForm>,
) -> Result<Response, AppError> {
    let (s, detail) = service_for(&state, &user, &code).await?;
    require_full(detail, &s)?;
    // Only a reference an upload could hold is looked up (PostgreSQL refuses a NUL in text;
    // the import names the problem instead).
    let existing = if !plausible_reference(&form.reference) {
        false
    } else {
        !state
            .store
            .freed_referral(&s.code, form.reference.trim())
            .await?
            .referrals
            .is_empty()
    };
    let csv = form.to_csv(&s.code);
    let (st, by, trust) = (state.clone(), user.name.clone(), s.trust_code.clone());
    let runtime = tokio::runtime::Handle::current();
    let report = tokio::task::spawn_blocking(move || {
        runtime.block_on(async {
            let req = ingest::Request {
                kind: ingest::formats::Kind::FreedReferrals,
                file_name: "referral entered by hand",
                bytes: csv.as_bytes(),
                mapping: None,
                uploaded_by: &by,
                only_trust: Some(&trust),
                dry_run: false,
            };
            let mut keys = st.keys.lock().await;
            ingest::import(&st.store, &mut keys, &req, &mut |_, _, _| {}).await
        })
    })
    .await
    .map_err(|e| AppError::Internal(format!("the referral's worker stopped: {e}")))?
    .map_err(|e| match e {
        ingest::IngestError::Store(s) => AppError::from(s),
        ingest::IngestError::Key(k) => AppError::Internal(k),
    })?;
    if !report.ok() {
        let errors = report
            .errors
            .iter()
            .map(|e| {
                let hit = FIELDS
                    .iter()
                    .find(|(_, _, col)| e.message.starts_with(&format!("{col}:")));
                match hit {
                    Some((field, label, col)) => FieldError {
                        field,
                        message: format!("{label}: {}", e.message[col.len() + 1..].trim_start()),
                    },
                    None => FieldError {
                        field: "reference",
                        message: e.message.clone(),
                    },
                }
            })
            .collect();
        // The NHS number is never shown back.
        let mut form = form;
        form.nhs_number.clear();
        let page = referral_page(&user, s, form, existing, errors);
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    let reference = form.reference.trim().to_string();
    state
        .store
        .audit_for(
            &user.name,
            if existing {
                "freed_referral_corrected"
            } else {
                "freed_referral_added"
            },
            &s.code,
            Some(&s.trust_code),
            Some(&format!("referral {reference}")),
        )
        .await?;
    let q: String = url_escape(&reference);
    Ok(Redirect::to(&format!("/freed/{}?saved={q}", s.code)).into_response())
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The JSON API: the same access, the same figures.

pub async fn api_services(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AsOfQuery>,
) -> Result<axum::Json<serde_json::Value>, crate::error::ApiError> {
    let at = as_of(q.as_of.as_deref())?;
    let lines = service_lines(&state, &user, at).await?;
    let services: Vec<serde_json::Value> = lines
        .into_iter()
        .map(|(l, d, _)| {
            serde_json::json!({
                "code": l.code, "name": l.name, "trust": l.trust_code,
                "disclosure_controlled": d != Detail::Full,
                "waiting": l.waiting, "breaching": l.breaching,
            })
        })
        .collect();
    Ok(axum::Json(
        serde_json::json!({ "as_of": iso_datetime(at), "services": services }),
    ))
}

pub async fn api_clocks(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> Result<axum::Json<serde_json::Value>, crate::error::ApiError> {
    let (s, detail) = service_for(&state, &user, &code).await?;
    let at = as_of(q.as_of.as_deref())?;
    let held = waiting_referrals(&state, &s.code, at).await?;
    let (rows, counts) = waiting_rows(held, &s.code, at);
    let full = detail == Detail::Full;
    if full {
        state
            .store
            .audit_for(
                &user.name,
                "freed_waiting_list_viewed",
                &s.code,
                Some(&s.trust_code),
                Some(&format!(
                    "API: {} referrals waiting as of {}",
                    rows.len(),
                    iso_datetime(at)
                )),
            )
            .await?;
    }
    Ok(axum::Json(serde_json::json!({
        "service": s.code,
        "as_of": iso_datetime(at),
        "disclosure_controlled": !full,
        "waiting": shown(detail, counts.waiting),
        "breaching": shown(detail, counts.breaching),
        "breaching_by_clock": Clock::ALL
            .iter()
            .zip(counts.by_clock)
            .map(|(c, n)| (c.code().to_string(), serde_json::Value::String(shown(detail, n))))
            .collect::<serde_json::Map<String, serde_json::Value>>(),
        "referrals": if full { serde_json::to_value(&rows).unwrap_or_default() } else { serde_json::Value::Array(Vec::new()) },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_days_and_hours() {
        assert_eq!(span(0), "0 hours 0 minutes");
        assert_eq!(span(61), "1 hour 1 minute");
        assert_eq!(span(-(2 * 1440 + 3 * 60)), "2 days 3 hours");
        assert_eq!(span(1440), "1 day 0 hours");
    }

    #[test]
    fn the_form_is_one_quoted_row() {
        let f = ReferralForm {
            reference: "A,\"1\"".into(),
            ..ReferralForm::default()
        };
        let csv = f.to_csv("R8A-FREED");
        assert!(csv.starts_with("ServiceCode,ServiceRequestId,NHSNumber,"));
        assert!(csv.contains("\"R8A-FREED\",\"A,\"\"1\"\"\""));
    }
}
