//! The children's ADHD assessment pathway (issue 15 item 8): the services a user may see, a
//! service's measures charted with SPC (median days from referral to the diagnostic decision,
//! and median appointments to the decision, by month of decision), the same before and after
//! the service's first objective test, the inequality views (the same figures by ethnic group,
//! sex, age and deprivation), and the upload of referrals (`ingest::adhd`).
//!
//! - `GET /adhd`: the services, each with its decisions in the last 12 months and their median
//!   days; the upload form for those who may upload.
//! - `GET /adhd/{service}?measure=days|appointments`: one measure's SPC chart (XmR, `spc`),
//!   its data table, before and after the first objective test, and the inequality tables.
//! - `POST /adhd/upload` (multipart: `file`, optional `mapping`): all or nothing, every problem
//!   as `FILE:LINE:COLUMN: reason`; audited as any upload.
//!
//! Who sees what is `domain::access::Grant::detail` on the service's trust. No patient-level
//! row is ever shown: every figure is a count or a median. A disclosure-controlled viewer
//! (another trust's lead, the programme) sees counts through `Policy::count` and medians only
//! when they summarise 5 or more referrals (`Policy::publish` of a statistic). These measures
//! are computed here from `store::adhd`'s rows (not in the ward catalogue of
//! `domain::measures`), and charted with `spc` as the catalogue's charts are.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::layout::{Choice, Layout};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::access::{Detail, Place, Role};
use domain::codes::{EthnicCategory, Sex};
use domain::dates::{date_from_day, day_number, iso};
use domain::disclosure::{Figure, Policy};
use serde::Deserialize;
use std::collections::BTreeMap;
use store::adhd::{AdhdReferralRow, AdhdService};
use time::{Date, Month};

/// The largest referrals file accepted.
const FILE_LIMIT: usize = 20 * 1024 * 1024;

fn place(trust: &str) -> Place {
    Place {
        ward: None,
        trust: Some(trust.to_string()),
    }
}

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

fn month_of(day: i64) -> Date {
    let d = date_from_day(i32::try_from(day).unwrap_or(0));
    Date::from_calendar_date(d.year(), d.month(), 1).unwrap_or(d)
}

fn next_month(d: Date) -> Date {
    let (y, m) = if d.month() == Month::December {
        (d.year() + 1, Month::January)
    } else {
        (d.year(), d.month().next())
    };
    Date::from_calendar_date(y, m, 1).unwrap_or(d)
}

fn month_label(d: Date) -> String {
    format!("{} {}", &format!("{:?}", d.month())[..3], d.year())
}

/// The median of some values (`None` for none).
pub fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Which measure of a decided referral.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// Days from referral to the diagnostic decision.
    Days,
    /// Appointments attended up to the decision.
    Appointments,
}

impl Which {
    fn parse(s: Option<&str>) -> Result<Which, AppError> {
        match s.map(str::trim) {
            None | Some("") | Some("days") => Ok(Which::Days),
            Some("appointments") => Ok(Which::Appointments),
            Some(o) => Err(AppError::BadRequest(format!(
                "measure: expected days or appointments, found \"{}\"",
                o.chars().take(30).collect::<String>()
            ))),
        }
    }

    fn id(self) -> &'static str {
        match self {
            Which::Days => "days",
            Which::Appointments => "appointments",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Which::Days => "Median days from referral to the diagnostic decision",
            Which::Appointments => "Median appointments to the diagnostic decision",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Which::Days => "days",
            Which::Appointments => "appointments",
        }
    }

    /// The value of a decided referral.
    pub fn of(self, r: &AdhdReferralRow) -> Option<f64> {
        let d = r.decision_day?;
        match self {
            Which::Days => Some((d - r.referral_day) as f64),
            Which::Appointments => r.appointments.map(|a| a as f64),
        }
    }
}

/// One month of a service's measure: the referrals decided in it and their median.
#[derive(Clone, Debug, PartialEq)]
pub struct MonthPoint {
    pub month: Date,
    pub decided: u64,
    pub median: Option<f64>,
}

/// The months from the first decision to the last month that has begun, each with the
/// referrals decided in it (a month without decisions is a gap, never a zero).
pub fn monthly(rows: &[AdhdReferralRow], which: Which, today: Date) -> Vec<MonthPoint> {
    let mut by: BTreeMap<Date, Vec<f64>> = BTreeMap::new();
    for r in rows {
        if let (Some(d), Some(v)) = (r.decision_day, which.of(r)) {
            by.entry(month_of(d)).or_default().push(v);
        }
    }
    let Some(first) = by.keys().next().copied() else {
        return Vec::new();
    };
    let last = by
        .keys()
        .next_back()
        .copied()
        .unwrap_or(first)
        .min(month_of(i64::from(day_number(today))));
    let mut out = Vec::new();
    let mut m = first;
    while m <= last {
        let mut v = by.remove(&m).unwrap_or_default();
        out.push(MonthPoint {
            month: m,
            decided: v.len() as u64,
            median: median(&mut v),
        });
        m = next_month(m);
    }
    out
}

/// A median as a viewer may see it: exact with full detail; otherwise only over 5 or more.
fn shown_median(detail: Detail, v: Option<f64>, n: u64, unit: &str) -> String {
    let Some(v) = v else {
        return "–".into();
    };
    let ok = detail == Detail::Full
        || Policy::default()
            .publish(Figure::Statistic {
                value: v,
                events: n,
            })
            .is_some();
    if ok {
        format!("{v:.1} {unit}")
    } else {
        "*".into()
    }
}

fn shown_count(detail: Detail, n: u64) -> String {
    if detail == Detail::Full {
        n.to_string()
    } else {
        Policy::default().count(n).to_string()
    }
}

// ----- the index -----

pub struct ServiceLine {
    pub code: String,
    pub trust: String,
    pub referrals: String,
    pub decided: String,
    pub median_days: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "adhd/index.html")]
pub struct IndexPage {
    layout: Layout,
    services: Vec<ServiceLine>,
    controlled: bool,
    can_upload: bool,
    mappings: Vec<Choice>,
    errors: Vec<String>,
    done: Option<String>,
}

/// How much of an ADHD service `user` sees: what `Grant::detail` gives on its trust, and for a
/// clinician of that trust (who sees no safety figures) the full pathway figures of the
/// trust's own service, whose tests they already see.
fn detail_for(user: &CurrentUser, trust: &str) -> Detail {
    if user.grant.can_see_attention_tests(trust) {
        Detail::Full
    } else {
        user.grant.detail(&place(trust))
    }
}

fn can_upload(user: &CurrentUser) -> bool {
    matches!(user.grant.role, Role::ProgrammeAdmin | Role::Uploader)
}

async fn visible(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<(AdhdService, Detail)>, AppError> {
    Ok(state
        .store
        .adhd_services(None)
        .await?
        .into_iter()
        .map(|s| {
            let d = detail_for(user, &s.trust_code);
            (s, d)
        })
        .filter(|(_, d)| *d != Detail::None)
        .collect())
}

async fn index_page(
    state: &AppState,
    user: &CurrentUser,
    errors: Vec<String>,
    done: Option<String>,
) -> Result<IndexPage, AppError> {
    let now = today();
    let since = i64::from(day_number(now)) - 365;
    let mut services = Vec::new();
    let mut controlled = false;
    for (s, d) in visible(state, user).await? {
        controlled |= d != Detail::Full;
        let rows = state.store.adhd_referrals(&s.service_code).await?;
        let mut days: Vec<f64> = rows
            .iter()
            .filter(|r| r.decision_day.is_some_and(|x| x >= since))
            .filter_map(|r| Which::Days.of(r))
            .collect();
        let n = days.len() as u64;
        services.push(ServiceLine {
            code: s.service_code.clone(),
            trust: s.trust_code.clone(),
            referrals: shown_count(d, u64::try_from(s.referrals).unwrap_or(0)),
            decided: shown_count(d, n),
            median_days: shown_median(d, median(&mut days), n, "days"),
        });
    }
    let mappings = if can_upload(user) {
        state
            .store
            .mappings()
            .await?
            .into_iter()
            .filter(|m| m.kind == ingest::adhd::KIND)
            .map(|m| Choice::new(m.name.clone(), m.name, false))
            .collect()
    } else {
        Vec::new()
    };
    Ok(IndexPage {
        layout: Layout::new("ADHD assessment pathway", user, "/adhd"),
        services,
        controlled,
        can_upload: can_upload(user),
        mappings,
        errors,
        done,
    })
}

pub async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<IndexPage, AppError> {
    index_page(&state, &user, Vec::new(), None).await
}

// ----- a service -----

pub struct Row {
    pub month: String,
    pub decided: String,
    pub value: String,
}

pub struct GroupRow {
    pub group: String,
    pub referred: String,
    pub decided: String,
    pub days: String,
    pub appointments: String,
}

pub struct Breakdown {
    pub title: &'static str,
    pub rows: Vec<GroupRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "adhd/service.html")]
pub struct ServicePage {
    layout: Layout,
    code: String,
    trust: String,
    controlled: bool,
    measures: Vec<Choice>,
    title: &'static str,
    svg: String,
    chart_note: Option<String>,
    rows: Vec<Row>,
    first_test: Option<String>,
    before_after: Vec<GroupRow>,
    breakdowns: Vec<Breakdown>,
}

#[derive(Deserialize)]
pub struct ServiceQuery {
    pub measure: Option<String>,
}

fn group_row(group: String, rows: &[&AdhdReferralRow], detail: Detail) -> GroupRow {
    let decided: Vec<&&AdhdReferralRow> =
        rows.iter().filter(|r| r.decision_day.is_some()).collect();
    let n = decided.len() as u64;
    let mut days: Vec<f64> = decided.iter().filter_map(|r| Which::Days.of(r)).collect();
    let mut appts: Vec<f64> = decided
        .iter()
        .filter_map(|r| Which::Appointments.of(r))
        .collect();
    let na = appts.len() as u64;
    GroupRow {
        group,
        referred: shown_count(detail, rows.len() as u64),
        decided: shown_count(detail, n),
        days: shown_median(detail, median(&mut days), n, "days"),
        appointments: shown_median(detail, median(&mut appts), na, ""),
    }
}

fn breakdown(
    title: &'static str,
    rows: &[AdhdReferralRow],
    detail: Detail,
    key: impl Fn(&AdhdReferralRow) -> String,
) -> Breakdown {
    let mut groups: BTreeMap<String, Vec<&AdhdReferralRow>> = BTreeMap::new();
    for r in rows {
        groups.entry(key(r)).or_default().push(r);
    }
    Breakdown {
        title,
        rows: groups
            .into_iter()
            .map(|(g, rs)| group_row(g, &rs, detail))
            .collect(),
    }
}

/// The SPC chart of one measure's months, as the catalogue's charts are drawn (XmR, lower is
/// better), with the first objective test marked.
fn chart(
    points: &[MonthPoint],
    which: Which,
    detail: Detail,
    first_test: Option<Date>,
    code: &str,
) -> Result<(String, Vec<Row>), AppError> {
    let values: Vec<Option<f64>> = points
        .iter()
        .map(|p| {
            let v = p.median?;
            if detail == Detail::Full {
                Some(v)
            } else {
                Policy::default()
                    .publish(Figure::Statistic {
                        value: v,
                        events: p.decided,
                    })
                    .map(|x| x.value)
            }
        })
        .collect();
    let labels: Vec<String> = points.iter().map(|p| month_label(p.month)).collect();
    let settings = spc::Settings {
        chart: spc::ChartKind::Xmr,
        direction: spc::Direction::Decrease,
        ..spc::Settings::default()
    };
    let analysis = spc::analyse(&spc::Series::values(&values), &settings)
        .map_err(|e| AppError::Internal(format!("ADHD chart of {code}: {e}")))?;
    let notes: Vec<spc::svg::Annotation> = first_test
        .and_then(|t| {
            points
                .iter()
                .position(|p| p.month >= month_of(i64::from(day_number(t))))
        })
        .map(|index| {
            vec![spc::svg::Annotation {
                index,
                text: "First objective attention test".into(),
            }]
        })
        .unwrap_or_default();
    let title = format!("{}, {code}", which.title());
    let svg = spc::svg::render(
        &analysis,
        &settings,
        &spc::svg::Labels {
            title: &title,
            x_labels: &labels,
            y_label: which.unit(),
            annotations: &notes,
        },
    );
    let rows = points
        .iter()
        .zip(&values)
        .map(|(p, v)| Row {
            month: month_label(p.month),
            decided: shown_count(detail, p.decided),
            value: match (p.median, v) {
                (None, _) => "–".into(),
                (Some(_), None) => "*".into(),
                (Some(_), Some(v)) => format!("{v:.1}"),
            },
        })
        .collect();
    Ok((svg, rows))
}

pub async fn service(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<ServiceQuery>,
) -> Result<ServicePage, AppError> {
    let which = Which::parse(q.measure.as_deref())?;
    let code = code.trim().to_ascii_uppercase();
    let s = state
        .store
        .adhd_services(None)
        .await?
        .into_iter()
        .find(|s| s.service_code == code)
        .ok_or(AppError::NotFound)?;
    let detail = detail_for(&user, &s.trust_code);
    if detail == Detail::None {
        return Err(AppError::Forbidden(format!(
            "Your account ({}) cannot see the ADHD service {code}.",
            user.grant.role.label().to_lowercase()
        )));
    }
    let rows = state.store.adhd_referrals(&code).await?;
    state
        .store
        .audit_for(
            &user.name,
            "adhd_service_viewed",
            &format!("adhd service {code}"),
            Some(&s.trust_code),
            None,
        )
        .await?;
    let first_test_day = rows.iter().filter_map(|r| r.test_day).min();
    let first_test = first_test_day.map(|d| date_from_day(i32::try_from(d).unwrap_or(0)));
    let points = monthly(&rows, which, today());
    let (svg, table, chart_note) = if points.is_empty() {
        (
            String::new(),
            Vec::new(),
            Some("No referral of this service has a diagnostic decision yet.".to_string()),
        )
    } else {
        let (svg, t) = chart(&points, which, detail, first_test, &code)?;
        (svg, t, None)
    };
    let before_after = match first_test_day {
        None => Vec::new(),
        Some(t) => {
            let (before, after): (Vec<&AdhdReferralRow>, Vec<&AdhdReferralRow>) =
                rows.iter().partition(|r| r.referral_day < t);
            vec![
                group_row(
                    format!("Referred before {}", iso(first_test.unwrap_or(today()))),
                    &before,
                    detail,
                ),
                group_row(
                    format!(
                        "Referred on or after {}",
                        iso(first_test.unwrap_or(today()))
                    ),
                    &after,
                    detail,
                ),
            ]
        }
    };
    let breakdowns = vec![
        breakdown("By ethnic group", &rows, detail, |r| {
            r.ethnic_category
                .as_deref()
                .and_then(|c| EthnicCategory::parse(c).ok())
                .map_or("Not recorded".into(), |e| e.group().to_string())
        }),
        breakdown("By sex", &rows, detail, |r| {
            r.sex
                .as_deref()
                .and_then(|c| Sex::parse(c).ok())
                .map_or("Not recorded".into(), |s| s.label().to_string())
        }),
        breakdown("By age at referral", &rows, detail, |r| match r.age {
            Some(a) if a < 6 => "Under 6".into(),
            Some(a) if a < 12 => "6 to 11".into(),
            Some(a) if a < 18 => "12 to 17".into(),
            Some(_) => "18 and over".into(),
            None => "Not recorded".into(),
        }),
        breakdown(
            "By deprivation (IMD quintile)",
            &rows,
            detail,
            |r| match r.imd_decile {
                Some(d) => format!(
                    "Quintile {} ({})",
                    (d + 1) / 2,
                    match (d + 1) / 2 {
                        1 => "most deprived",
                        5 => "least deprived",
                        _ => "middle",
                    }
                ),
                None => "Not recorded".into(),
            },
        ),
    ];
    Ok(ServicePage {
        layout: Layout::new(format!("ADHD pathway: {code}"), &user, "/adhd"),
        code: code.clone(),
        trust: s.trust_code,
        controlled: detail != Detail::Full,
        measures: [Which::Days, Which::Appointments]
            .iter()
            .map(|w| Choice::new(w.id(), w.title(), *w == which))
            .collect(),
        title: which.title(),
        svg,
        chart_note,
        rows: table,
        first_test: first_test.map(iso),
        before_after,
        breakdowns,
    })
}

// ----- the upload -----

/// Referrals from a file: all or nothing, every problem named by file, line and column.
pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    mut form: axum::extract::Multipart,
) -> Result<Response, AppError> {
    if !can_upload(&user) {
        return Err(AppError::Forbidden(
            "ADHD referrals are uploaded by each trust's uploaders; your account cannot upload."
                .into(),
        ));
    }
    let mut file = None;
    let mut mapping_name = String::new();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("The file was not received whole: {e}")))?
    {
        match field.name() {
            Some("file") => {
                let name = field
                    .file_name()
                    .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "referrals.csv".into());
                let bytes = field.bytes().await.map_err(|e| {
                    AppError::BadRequest(format!("The file was not received whole: {e}"))
                })?;
                file = Some((name, bytes));
            }
            Some("mapping") => {
                mapping_name = field.text().await.unwrap_or_default().trim().to_string();
            }
            _ => {}
        }
    }
    let refuse = |errors: Vec<String>| async {
        let page = index_page(&state, &user, errors, None).await?;
        Ok::<_, AppError>((StatusCode::BAD_REQUEST, page).into_response())
    };
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return refuse(vec![
            "File (file): expected a CSV or Excel file of referrals; found no file".into(),
        ])
        .await;
    };
    if bytes.len() > FILE_LIMIT {
        return refuse(vec![format!(
            "File (file): expected a file of at most 20 MB; found {:.1} MB",
            bytes.len() as f64 / 1_048_576.0
        )])
        .await;
    }
    let mapping = if mapping_name.is_empty() {
        None
    } else {
        let found = state
            .store
            .mappings()
            .await?
            .into_iter()
            .find(|m| m.name == mapping_name && m.kind == ingest::adhd::KIND);
        match found {
            None => {
                return refuse(vec![format!(
                    "Mapping (mapping): expected a saved mapping for ADHD referrals; there is none called \"{}\"",
                    mapping_name.chars().take(60).collect::<String>()
                )])
                .await;
            }
            Some(m) => match ingest::mapping::Mapping::from_json(&m.definition) {
                Ok(m) => Some(m),
                Err(e) => return refuse(vec![format!("Mapping (mapping): {e}")]).await,
            },
        }
    };
    let only = match user.grant.role {
        Role::ProgrammeAdmin => None,
        _ => user.grant.trust.clone(),
    };
    match ingest::adhd::import(
        &state.store,
        &name,
        &bytes,
        mapping.as_ref(),
        &user.name,
        only.as_deref(),
        today(),
    )
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    {
        Ok(summary) => {
            state
                .store
                .audit(
                    &user.name,
                    "upload",
                    &format!("{} {name}", ingest::adhd::KIND),
                    Some(&format!(
                        "upload {}: {} rows, {} new, {} updated",
                        summary.upload_id, summary.rows, summary.inserted, summary.updated
                    )),
                )
                .await?;
            let page = index_page(
                &state,
                &user,
                Vec::new(),
                Some(format!(
                    "{name}: {} referrals imported ({} new, {} updated).",
                    summary.rows, summary.inserted, summary.updated
                )),
            )
            .await?;
            Ok(page.into_response())
        }
        Err(problems) => {
            let mut errors = vec![format!(
                "The file {name} was not imported: nothing was changed."
            )];
            errors.extend(problems.iter().map(ToString::to_string));
            refuse(errors).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(refd: i64, decided: Option<i64>, appts: Option<i64>) -> AdhdReferralRow {
        AdhdReferralRow {
            service_code: "R9A-ADHD".into(),
            referral_id: format!("{refd}-{decided:?}"),
            trust_code: "R9A".into(),
            referral_day: refd,
            age: None,
            sex: None,
            ethnic_category: None,
            imd_decile: None,
            test_day: None,
            appointments: appts,
            decision_day: decided,
        }
    }

    #[test]
    fn months_hold_the_median_of_their_decisions_and_gaps_stay_gaps() {
        // 2025-01-01 is day 20089.
        let jan = 20_089;
        let rows = vec![
            r(jan - 100, Some(jan + 3), Some(4)),
            r(jan - 200, Some(jan + 10), Some(6)),
            r(jan - 150, Some(jan + 20), Some(5)),
            r(jan - 10, Some(jan + 65), Some(2)), // March
            r(jan, None, None),
        ];
        let today = time::macros::date!(2025 - 06 - 15);
        let m = monthly(&rows, Which::Days, today);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].month, time::macros::date!(2025 - 01 - 01));
        assert_eq!((m[0].decided, m[0].median), (3, Some(170.0)));
        assert_eq!((m[1].decided, m[1].median), (0, None));
        assert_eq!((m[2].decided, m[2].median), (1, Some(75.0)));
        let a = monthly(&rows, Which::Appointments, today);
        assert_eq!(a[0].median, Some(5.0));
        assert!(monthly(&[r(jan, None, None)], Which::Days, today).is_empty());
    }

    #[test]
    fn controlled_viewers_see_no_median_of_fewer_than_five() {
        assert_eq!(
            shown_median(Detail::Full, Some(120.0), 2, "days"),
            "120.0 days"
        );
        assert_eq!(
            shown_median(Detail::DisclosureControlled, Some(120.0), 4, "days"),
            "*"
        );
        assert_eq!(
            shown_median(Detail::DisclosureControlled, Some(120.0), 5, "days"),
            "120.0 days"
        );
        assert_eq!(shown_count(Detail::DisclosureControlled, 3), "*");
        assert_eq!(shown_count(Detail::Full, 3), "3");
        let mut v = vec![3.0, 1.0, 2.0, 10.0];
        assert_eq!(median(&mut v), Some(2.5));
    }
}
