//! The network beyond inpatient mental health (issue 12, item 4) on the platform: the series
//! of `domain::measures::beyond_inpatient_catalogue` for the web cache (`series_for`, one line
//! in `crate::series_sources`), so the ordinary chart pages, downloads, API and disclosure
//! control serve them; and the breakdown of acute trusts' patients' self-harm by age band,
//! sex and ethnic group (`breakdown`), with its counts under disclosure control.
//!
//! Levels: an acute incident and a staff month belong to a trust; a trust's series count its
//! own, an ICB's and the region's count their trusts'. Wards and sites have none (an acute
//! trust has no mental health wards, and staff counts are the trust's).

use crate::cache::{Key, Snapshot};
use domain::OrgLevel;
use domain::codes::AcuteSetting;
use domain::dates::{PeriodKind, date_from_day};
use domain::measures::{Measure, beyond_inpatient_catalogue};
use measures::series::MeasureSeries;
use network::scope::{AcuteCount, StaffMonth, acute_series, staff_series};
use store::Store;

/// Whether a cache key's series include these measures: trusts, ICBs and the region, for
/// every measure or for one of them.
pub fn wanted(key: &Key) -> bool {
    matches!(
        key.level,
        OrgLevel::Trust | OrgLevel::Icb | OrgLevel::Region
    ) && key
        .measure
        .is_none_or(|id| domain::measures::find(id).is_some_and(|m| m.is_beyond_inpatient()))
}

/// Whether an upload of `kind` feeds `m`: the acute and staff uploads feed only their own
/// measures, and no other measure is computed from them.
pub fn feeds(m: &Measure, kind: &str) -> bool {
    match kind {
        "acute_self_harm" => m.is_beyond_inpatient() && !m.is_staff(),
        "staff_harm" => m.is_staff(),
        _ => !m.is_beyond_inpatient(),
    }
}

/// The organisation at the key's level that `trust`'s records count for, if in the key's scope.
fn target(snap: &Snapshot, key: &Key, trust: &str) -> Option<String> {
    let org = snap.orgs.trust_counts_for(trust, key.level)?;
    let in_scope = match &key.scope {
        None => true,
        Some((OrgLevel::Trust, t)) => t == trust,
        Some((level, code)) => snap.orgs.get(trust).is_some_and(|t| {
            snap.orgs
                .ancestors(t)
                .iter()
                .any(|o| o.level == *level && &o.code == code)
        }),
    };
    in_scope.then_some(org)
}

/// The series of a cache key (see [`wanted`]): acute self-harm by period, staff counts by
/// month. Empty when the key does not want them or nothing is held.
pub async fn series_for(
    store: &Store,
    snap: &Snapshot,
    key: &Key,
) -> store::Result<Vec<MeasureSeries>> {
    if !wanted(key) {
        return Ok(Vec::new());
    }
    let measures: Vec<Measure> = beyond_inpatient_catalogue()
        .into_iter()
        .filter(|m| key.measure.is_none_or(|id| id == m.id))
        .collect();
    let trust_scope = match &key.scope {
        Some((OrgLevel::Trust, t)) => Some(t.as_str()),
        _ => None,
    };
    let mut out = Vec::new();
    if measures.iter().any(|m| !m.is_staff())
        && let Some(last) = store.acute_self_harm_last_day().await?
    {
        let weeks = key.period == PeriodKind::Week;
        let mut counts = Vec::new();
        for c in store.acute_self_harm_counts(trust_scope, weeks).await? {
            let (Some(org), Ok(setting)) = (
                target(snap, key, &c.trust_code),
                AcuteSetting::parse(&c.setting),
            ) else {
                continue;
            };
            counts.push(AcuteCount {
                org,
                period: day(c.period_start),
                setting,
                incidents: u64::try_from(c.incidents).unwrap_or(0),
            });
        }
        out.extend(acute_series(&measures, &counts, key.period, day(last)));
    }
    if key.period == PeriodKind::Month && measures.iter().any(Measure::is_staff) {
        let mut months = Vec::new();
        for m in store.staff_harm_months(trust_scope).await? {
            let Some(org) = target(snap, key, &m.trust_code) else {
                continue;
            };
            let n = |v: i64| u64::try_from(v).unwrap_or(0);
            months.push(StaffMonth {
                org,
                trust: m.trust_code,
                month: day(m.month_start),
                self_harm: n(m.self_harm),
                suicides: n(m.suicides),
                headcount: m.headcount.map(n),
            });
        }
        out.extend(staff_series(&measures, &months));
    }
    Ok(out)
}

fn day(n: i64) -> time::Date {
    date_from_day(i32::try_from(n).unwrap_or(0))
}

// ---------------------------------------------------------------------------------------------
// /network/beyond: acute trusts in the network, the measures' charts, and the breakdown of
// acute self-harm by age band, sex and ethnic group.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::layout::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use domain::access::Detail;
use domain::disclosure::Policy;
use domain::measures::Stratifier;
use network::scope::{GroupRow, Person, acute_breakdown};
use serde::Deserialize;

/// The months the breakdown counts: the last 12 up to the latest acute incident held.
const BREAKDOWN_MONTHS: i32 = 12;

#[derive(Deserialize, Default)]
pub struct BeyondQuery {
    pub org: Option<String>,
    pub by: Option<String>,
}

pub struct TrustLine {
    pub code: String,
    pub name: String,
    pub acute: bool,
}

pub struct MeasureLink {
    pub id: &'static str,
    pub title: &'static str,
    pub staff: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "network/beyond.html")]
pub struct BeyondPage {
    layout: Layout,
    trusts: Vec<TrustLine>,
    measures: Vec<MeasureLink>,
    /// Organisations the viewer may choose for the breakdown: (code, name, selected).
    orgs: Vec<(String, String, bool)>,
    by: Vec<(&'static str, &'static str, bool)>,
    org_name: String,
    /// The organisation the measures' links open.
    chart_org: String,
    controlled: bool,
    from: String,
    to: String,
    rows: Vec<GroupRow>,
}

/// The groups in the order the inequality pages use.
fn order_of(by: Stratifier) -> Vec<&'static str> {
    match by {
        Stratifier::AgeBand => domain::codes::AGE_BANDS.to_vec(),
        Stratifier::Sex => vec!["Male", "Female"],
        _ => Vec::new(),
    }
}

pub async fn beyond_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<BeyondQuery>,
) -> Result<BeyondPage, AppError> {
    crate::pages::network::may_use(&user)?;
    let snap = state.cache.current(&state.store).await?;
    let trusts = snap
        .orgs
        .trusts()
        .map(|t| TrustLine {
            code: t.code.clone(),
            name: t.name.clone(),
            acute: snap.orgs.is_acute(&t.code),
        })
        .collect();
    let by = match q.by.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Stratifier::AgeBand,
        Some(s) => Stratifier::parse(s)
            .filter(|b| *b != Stratifier::LdAutism)
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "by: expected age_band, sex or ethnic_group; '{s}' is none of them"
                ))
            })?,
    };
    // The organisations the viewer may choose (the region and the trusts whose figures it
    // sees, in full or under disclosure control).
    let visible: Vec<&crate::orgs::Org> = snap
        .orgs
        .region()
        .into_iter()
        .chain(snap.orgs.trusts())
        .filter(|o| user.grant.detail(&snap.orgs.place(o)) != Detail::None)
        .collect();
    // The organisation broken down: the one asked for, else the viewer's trust, else the
    // first it may see; none (no breakdown) for a ward's user, who sees only the ward.
    let asked = q
        .org
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let code = asked.or_else(|| {
        visible
            .iter()
            .find(|o| Some(&o.code) == user.grant.trust.as_ref())
            .or(visible.first())
            .map(|o| o.code.clone())
    });
    let orgs: Vec<(String, String, bool)> = visible
        .iter()
        .map(|o| {
            (
                o.code.clone(),
                o.name.clone(),
                Some(&o.code) == code.as_ref(),
            )
        })
        .collect();
    let measures: Vec<MeasureLink> = beyond_inpatient_catalogue()
        .into_iter()
        .map(|m| MeasureLink {
            id: m.id,
            title: m.title,
            staff: m.is_staff(),
        })
        .collect();
    let choices: Vec<(&'static str, &'static str, bool)> = [
        Stratifier::AgeBand,
        Stratifier::Sex,
        Stratifier::EthnicGroup,
    ]
    .into_iter()
    .map(|s| (s.as_str(), s.label(), s == by))
    .collect();
    let Some(code) = code else {
        return Ok(BeyondPage {
            layout: Layout::new("Beyond inpatient care", &user, "/network"),
            trusts,
            measures,
            orgs,
            by: choices,
            org_name: String::new(),
            chart_org: String::new(),
            controlled: false,
            from: String::new(),
            to: String::new(),
            rows: Vec::new(),
        });
    };
    let org = snap.orgs.get(&code).ok_or(AppError::NotFound)?;
    if !matches!(
        org.level,
        OrgLevel::Trust | OrgLevel::Icb | OrgLevel::Region
    ) {
        return Err(AppError::BadRequest(format!(
            "org: expected a trust, an ICB or the region; {code} is a {}",
            org.level.as_str()
        )));
    }
    let detail = user.grant.detail(&snap.orgs.place(org));
    if detail == Detail::None {
        return Err(AppError::Forbidden(
            "You may not see this organisation's figures.".into(),
        ));
    }
    let policy = (detail != Detail::Full).then(Policy::default);
    let (from, to, rows) = match state.store.acute_self_harm_last_day().await? {
        None => (String::new(), String::new(), Vec::new()),
        Some(last) => {
            let to = day(last);
            let start = PeriodKind::Month.start_of(to);
            let mut from = start;
            for _ in 1..BREAKDOWN_MONTHS {
                from = PeriodKind::Month.start_of(from - time::Duration::days(1));
            }
            let trust = (org.level == OrgLevel::Trust).then_some(org.code.as_str());
            let key = Key {
                level: org.level,
                period: PeriodKind::Month,
                scope: None,
                measure: None,
            };
            let people: Vec<Person> = state
                .store
                .acute_self_harm_people(trust, i64::from(domain::dates::day_number(from)))
                .await?
                .into_iter()
                .filter(|p| target(&snap, &key, &p.trust_code).as_deref() == Some(&org.code))
                .map(|p| Person {
                    year: day(p.day).year(),
                    birth_year: p.birth_year.and_then(|y| i32::try_from(y).ok()),
                    sex: p.sex,
                    ethnic_group: p.ethnic_group,
                })
                .collect();
            let rows = acute_breakdown(&people, by, &order_of(by), policy.as_ref());
            (domain::dates::iso(from), domain::dates::iso(to), rows)
        }
    };
    Ok(BeyondPage {
        layout: Layout::new("Beyond inpatient care", &user, "/network"),
        trusts,
        measures,
        orgs,
        by: choices,
        org_name: org.name.clone(),
        chart_org: org.code.clone(),
        controlled: policy.is_some(),
        from,
        to,
        rows,
    })
}
