//! FREED's measures on the platform (issue 14, item 3): the catalogue's FREED measures
//! (`domain::measures::freed_catalogue`) computed from the held referrals by `measures::freed`
//! (pathway's counting rules), assembled, charted and summarised by `measures` like every other
//! measure.
//!
//! Levels. A service is not an organisation: a trust's (and an ICB's, and the region's) FREED
//! series count the referrals of all its services, and are served by the web cache with the
//! organisation's other series, so the ordinary chart page, its downloads and the API show
//! them (`/chart/{trust}/freed_assessment_2w`). A service's own series are computed from its
//! referrals on its page (`/freed/{service}/measures`), with the same chart models.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::cache::{Key, Snapshot};
use crate::chart::{self, Request};
use crate::error::AppError;
use crate::layout::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domain::OrgLevel;
use domain::access::Detail;
use domain::dates::{PeriodKind, date_from_day, iso_datetime};
use domain::disclosure::Policy;
use domain::measures::{Measure, freed_catalogue};
use ingest::freed::HeldReferral;
use measures::series::MeasureSeries;
use pathway::Referral;
use serde::Deserialize;
use std::collections::BTreeMap;
use store::Store;
use time::{Date, PrimitiveDateTime};

/// The day of a minute number.
fn day_of(minute: i64) -> Date {
    date_from_day(i32::try_from(minute.div_euclid(24 * 60)).unwrap_or(0))
}

/// The span charted: from the first FREED record to the last one, never after `as_of`.
fn span(first_min: i64, last_min: i64, as_of: PrimitiveDateTime) -> Option<(Date, Date)> {
    let from = day_of(first_min);
    let to = day_of(last_min).min(as_of.date());
    (from <= to).then_some((from, to))
}

/// Whether a cache key's series include FREED's: trusts, ICBs and the region, for every
/// measure or for a FREED one.
pub fn wanted(key: &Key) -> bool {
    matches!(
        key.level,
        OrgLevel::Trust | OrgLevel::Icb | OrgLevel::Region
    ) && key
        .measure
        .is_none_or(|id| domain::measures::find(id).is_some_and(|m| m.is_freed()))
}

/// The FREED series of a cache key (see [`wanted`]) as of now: every organisation at the key's
/// level that has a FREED service, counting its services' referrals. Empty when the key does
/// not want them or nothing is held.
pub async fn series_for(
    store: &Store,
    snap: &Snapshot,
    key: &Key,
) -> store::Result<Vec<MeasureSeries>> {
    if !wanted(key) {
        return Ok(Vec::new());
    }
    let as_of = super::uk_now();
    let Some((first, last)) = store.freed_span().await? else {
        return Ok(Vec::new());
    };
    let Some((from, to)) = span(first, last, as_of) else {
        return Ok(Vec::new());
    };
    let trust_scope = match &key.scope {
        Some((OrgLevel::Trust, t)) => Some(t.as_str()),
        _ => None,
    };
    let services = store.freed_services().await?;
    let trust_of: BTreeMap<String, String> = services
        .into_iter()
        .map(|s| (s.code, s.trust_code))
        .collect();
    let rows = store.freed_measure_rows(trust_scope).await?;
    let held = ingest::freed::held_referrals(rows).map_err(store::StoreError::Invalid)?;
    // Each referral counts for the organisation at the key's level above its service's trust.
    let mut groups: BTreeMap<String, Vec<Referral>> = BTreeMap::new();
    for h in held {
        let Some(trust) = trust_of.get(&h.referral.service) else {
            continue;
        };
        let org = snap.orgs.trust_counts_for(trust, key.level);
        let in_scope = match &key.scope {
            None => true,
            Some((OrgLevel::Trust, t)) => t == trust,
            Some((_, code)) => org.as_deref() == Some(code.as_str()),
        };
        if let (Some(org), true) = (org, in_scope) {
            groups.entry(org).or_default().push(h.referral);
        }
    }
    let groups: Vec<(String, Vec<Referral>)> = groups.into_iter().collect();
    let wanted_measures: Vec<Measure> = freed_catalogue()
        .into_iter()
        .filter(|m| key.measure.is_none_or(|id| id == m.id))
        .collect();
    let facts = measures::freed::facts(&groups, key.period, from, to, as_of);
    Ok(measures::series::assemble(&wanted_measures, &facts))
}

/// One service's FREED facts as of `as_of`, from its own referrals.
pub fn service_facts(
    held: &[HeldReferral],
    service: &str,
    period: PeriodKind,
    as_of: PrimitiveDateTime,
) -> measures::facts::Facts {
    let referrals: Vec<Referral> = held.iter().map(|h| h.referral.clone()).collect();
    let Some((from, to)) = referral_span(&referrals).and_then(|(a, b)| span(a, b, as_of)) else {
        return measures::facts::Facts::default();
    };
    let key = measures::freed::service_key(service);
    measures::freed::facts(&[(key, referrals)], period, from, to, as_of)
}

/// The first and last minute of some referrals' records.
fn referral_span(referrals: &[Referral]) -> Option<(i64, i64)> {
    use domain::dates::minute_number;
    let mut times = referrals.iter().flat_map(|r| {
        std::iter::once(r.received)
            .chain(r.contacts.iter().map(|c| c.at))
            .chain(
                r.pauses
                    .iter()
                    .flat_map(|p| std::iter::once(p.start).chain(p.end)),
            )
            .chain(
                r.discharges
                    .iter()
                    .flat_map(|d| std::iter::once(d.at).chain(d.reopened)),
            )
    });
    let first = times.next()?;
    let (lo, hi) = times.fold((first, first), |(lo, hi), t| (lo.min(t), hi.max(t)));
    Some((minute_number(lo), minute_number(hi)))
}

// ---------------------------------------------------------------------------------------------
// /freed/{service}/measures and /freed/{service}/measures/{id}

#[derive(Deserialize, Default)]
pub struct MeasuresQuery {
    pub period: Option<String>,
    pub as_of: Option<String>,
}

fn period_of(q: Option<&str>) -> Result<PeriodKind, AppError> {
    match q.map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) => PeriodKind::parse(p)
            .ok_or_else(|| AppError::BadRequest(format!("period '{p}': expected month or week"))),
        None => Ok(PeriodKind::Month),
    }
}

pub struct MeasureLine {
    pub id: &'static str,
    pub title: &'static str,
    pub latest: String,
    pub latest_label: String,
    pub variation: String,
    pub assurance: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "freed/measures.html")]
pub struct MeasuresPage {
    layout: Layout,
    service: store::freed::ServiceRow,
    trust: String,
    period: &'static str,
    as_of: String,
    controlled: bool,
    lines: Vec<MeasureLine>,
    /// The DUED distribution over the whole span: each bin's label and its count as shown.
    dued_bins: Vec<(&'static str, String)>,
}

const DUED_BIN_LABELS: [&str; 6] = [
    "Under 3 months",
    "3 to 6 months",
    "6 to 12 months",
    "12 to 24 months",
    "24 to 36 months",
    "36 months or more",
];

fn policy_for(detail: Detail) -> Option<Policy> {
    (detail != Detail::Full).then(Policy::default)
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<MeasuresQuery>,
) -> Result<MeasuresPage, AppError> {
    let (s, detail) = super::service_for(&state, &user, &code).await?;
    let period = period_of(q.period.as_deref())?;
    let at = super::as_of(q.as_of.as_deref())?;
    // Counted once per data generation, service, period and time (`held`).
    let facts = super::held::service_facts(&state, &s.code, period, at).await?;
    let series = measures::series::assemble(&freed_catalogue(), &facts);
    let policy = policy_for(detail);
    let snap = state.cache.current(&state.store).await?;
    let mut lines = Vec::new();
    for m in freed_catalogue() {
        let Some(ser) = series.iter().find(|x| x.measure == m.id) else {
            continue;
        };
        let notes = snap.notes_for(&s.trust_code, m.id);
        let sum = measures::summary::summarise(&m, ser, period, &notes, policy.as_ref())?;
        lines.push(MeasureLine {
            id: m.id,
            title: m.title,
            latest: sum
                .latest_value
                .map_or_else(|| "no data".into(), |v| m.format_value(v)),
            latest_label: sum.latest_label.unwrap_or_default(),
            variation: sum.variation.map_or_else(
                || "No data to judge variation.".into(),
                |v| v.describe().to_string(),
            ),
            assurance: sum.assurance.describe().to_string(),
        });
    }
    // The DUED distribution of everyone treated over the span, as a breakdown of counts: the
    // periods' bins added up (each patient is in the period of the first treatment only).
    let mut bins = [0u64; 6];
    for cell in facts.cells.values() {
        if let Some(f) = cell.freed {
            for (b, n) in bins.iter_mut().zip(f.dued_bins) {
                *b += n.max(0.0) as u64;
            }
        }
    }
    let dued_bins = if facts.cells.is_empty() {
        Vec::new()
    } else {
        let shown = shown_breakdown(policy.as_ref(), &bins);
        DUED_BIN_LABELS.iter().copied().zip(shown).collect()
    };
    let trust = snap
        .orgs
        .get(&s.trust_code)
        .map_or_else(|| s.trust_code.clone(), |o| o.name.clone());
    Ok(MeasuresPage {
        layout: Layout::new(format!("{}: FREED measures", s.name), &user, "/freed"),
        service: s,
        trust,
        period: period.as_str(),
        as_of: iso_datetime(at),
        controlled: policy.is_some(),
        lines,
        dued_bins,
    })
}

/// Counts of a breakdown as a viewer may see them: exact, or with small counts suppressed
/// and, where one suppressed group could be worked out from the total, another too
/// (`Policy::breakdown`), the rest rounded.
pub fn shown_breakdown(policy: Option<&Policy>, counts: &[u64]) -> Vec<String> {
    match policy {
        None => counts.iter().map(u64::to_string).collect(),
        Some(p) => {
            let hidden = p.breakdown(counts, &vec![false; counts.len()], None);
            counts
                .iter()
                .zip(hidden)
                .map(|(n, h)| {
                    if h {
                        "*".to_string()
                    } else {
                        p.count(*n).to_string()
                    }
                })
                .collect()
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "freed/chart.html")]
pub struct ChartPage {
    layout: Layout,
    service: store::freed::ServiceRow,
    measure: Measure,
    period: &'static str,
    as_of: String,
    controlled: bool,
    svg: String,
    rows: Vec<chart::TableRow>,
    explanation: &'static str,
    variation: String,
    assurance: String,
    trust_href: String,
}

async fn service_chart(
    state: &AppState,
    user: &CurrentUser,
    code: &str,
    measure: &str,
    q: &MeasuresQuery,
) -> Result<
    (
        store::freed::ServiceRow,
        Measure,
        PeriodKind,
        PrimitiveDateTime,
        bool,
        chart::Chart,
    ),
    AppError,
> {
    let (s, detail) = super::service_for(state, user, code).await?;
    let m = domain::measures::find(measure)
        .filter(Measure::is_freed)
        .ok_or(AppError::NotFound)?;
    let period = period_of(q.period.as_deref())?;
    let at = super::as_of(q.as_of.as_deref())?;
    let facts = super::held::service_facts(state, &s.code, period, at).await?;
    let series = measures::series::assemble(&freed_catalogue(), &facts);
    let empty = MeasureSeries {
        measure: m.id,
        org: measures::freed::service_key(&s.code),
        points: Vec::new(),
    };
    let ser = series.iter().find(|x| x.measure == m.id).unwrap_or(&empty);
    let policy = policy_for(detail);
    // The trust's saved notes for the measure (a change tested across its services), as on
    // the trust's own chart; rebasing where they say so.
    let snap = state.cache.current(&state.store).await?;
    let notes = snap.notes_for(&s.trust_code, m.id);
    let c = chart::build(&Request::standard(
        &m,
        ser,
        period,
        format!("{}: {}", s.name, m.title),
        &notes,
        policy.as_ref(),
    ))?;
    Ok((s, m, period, at, policy.is_some(), c))
}

pub async fn chart_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, measure)): Path<(String, String)>,
    Query(q): Query<MeasuresQuery>,
) -> Result<ChartPage, AppError> {
    let (s, m, period, at, controlled, c) =
        service_chart(&state, &user, &code, &measure, &q).await?;
    let summary = &c.analysis.summary;
    Ok(ChartPage {
        layout: Layout::new(format!("{}: {}", s.name, m.title), &user, "/freed"),
        trust_href: format!(
            "/chart/{}/{}?period={}",
            s.trust_code,
            m.id,
            period.as_str()
        ),
        explanation: chart::explain(m.chart),
        variation: summary.variation.map_or_else(
            || "No data to judge variation.".into(),
            |v| v.describe().to_string(),
        ),
        assurance: summary.assurance.describe().to_string(),
        svg: c.svg,
        rows: c.rows,
        service: s,
        measure: m,
        period: period.as_str(),
        as_of: iso_datetime(at),
        controlled,
    })
}

/// The chart's table as CSV or Excel (audited, as the chart pages' downloads are).
pub async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((code, measure, format)): Path<(String, String, String)>,
    Query(q): Query<MeasuresQuery>,
) -> Result<Response, AppError> {
    let (s, m, period, _, _, c) = service_chart(&state, &user, &code, &measure, &q).await?;
    let (ctype, ext, body): (&str, &str, Vec<u8>) = match format.as_str() {
        "csv" => (
            "text/csv; charset=utf-8",
            "csv",
            chart::csv(&c).into_bytes(),
        ),
        "xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
            chart::xlsx(&c).map_err(|e| AppError::Internal(format!("xlsx: {e}")))?,
        ),
        "svg" => ("image/svg+xml", "svg", c.svg.into_bytes()),
        other => {
            return Err(AppError::BadRequest(format!(
                "'{other}' is not a download format; expected csv, xlsx or svg"
            )));
        }
    };
    state
        .store
        .audit_for(
            &user.name,
            "download",
            &s.code,
            Some(&s.trust_code),
            Some(&format!("{} as {ext}", m.id)),
        )
        .await?;
    let disposition = format!(
        "attachment; filename=\"{}-{}-{}.{ext}\"",
        s.code,
        m.id,
        period.as_str()
    );
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(ctype)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_span_stops_at_as_of() {
        let as_of = datetime!(2024-03-10 12:00);
        let m = |t: PrimitiveDateTime| domain::dates::minute_number(t);
        let (from, to) = span(
            m(datetime!(2024-01-05 09:00)),
            m(datetime!(2024-05-01 09:00)),
            as_of,
        )
        .unwrap();
        assert_eq!(
            (from, to),
            (as_of.date() - time::Duration::days(65), as_of.date())
        );
        assert!(
            span(
                m(datetime!(2024-04-05 09:00)),
                m(datetime!(2024-05-01 09:00)),
                as_of
            )
            .is_none()
        );
    }
}
