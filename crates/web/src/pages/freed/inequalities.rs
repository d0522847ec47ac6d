//! Who FREED reaches (issue 14, item 3's inequalities): a service's referrals broken down by
//! ethnic group, sex, age at referral and deprivation decile (as uploaded): who is referred,
//! who waits (each clock met), who starts treatment (uptake), how long, and how precisely the
//! onset is known. Proportions with 95% intervals and ratios to a reference group come from
//! `domain::inequality::table`, with its primary and secondary suppression when the figures
//! leave the service's trust; counts of a breakdown from `Policy::breakdown`; medians through
//! `Policy::publish` as statistics. Every figure is counted by `measures::freed` (pathway's
//! rules) over the span of the service's records.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::layout::{Choice, Layout};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use domain::OrgLevel;
use domain::access::Detail;
use domain::dates::iso_datetime;
use domain::disclosure::{Figure, Policy};
use domain::inequality::Row;
use domain::measures::{Measure, Stratifier, freed_catalogue};
use ingest::freed::HeldReferral;
use measures::facts::Freed;
use pathway::Referral;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The characteristics FREED referrals can be broken down by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    EthnicGroup,
    Sex,
    AgeBand,
    Deprivation,
}

impl By {
    pub const ALL: [By; 4] = [By::EthnicGroup, By::Sex, By::AgeBand, By::Deprivation];

    pub fn as_str(self) -> &'static str {
        match self {
            By::EthnicGroup => "ethnic_group",
            By::Sex => "sex",
            By::AgeBand => "age_band",
            By::Deprivation => "imd_decile",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            By::EthnicGroup => "Ethnic group",
            By::Sex => "Sex",
            By::AgeBand => "Age at referral",
            By::Deprivation => "Deprivation decile (IMD)",
        }
    }

    pub fn parse(s: &str) -> Option<By> {
        By::ALL.into_iter().find(|b| b.as_str() == s.trim())
    }

    /// How `domain::inequality` picks the reference group: White for ethnicity, else the
    /// largest informative group.
    fn stratifier(self) -> Stratifier {
        match self {
            By::EthnicGroup => Stratifier::EthnicGroup,
            By::Sex => Stratifier::Sex,
            By::AgeBand | By::Deprivation => Stratifier::AgeBand,
        }
    }

    /// The groups in the order people read them, and each referral's group.
    fn order(self) -> Vec<&'static str> {
        match self {
            By::AgeBand => AGE_GROUPS.to_vec(),
            By::Deprivation => DECILES.to_vec(),
            _ => Vec::new(),
        }
    }

    fn group(self, h: &HeldReferral) -> String {
        match self {
            By::EthnicGroup => h
                .ethnic_category
                .map_or("Not known", |c| c.group())
                .to_string(),
            By::Sex => h.sex.map_or("Not known", |s| s.label()).to_string(),
            By::AgeBand => match h.referral.age_at_referral {
                None => "Not known",
                Some(a) if a < 16 => AGE_GROUPS[0],
                Some(a) if a <= 18 => AGE_GROUPS[1],
                Some(a) if a <= 21 => AGE_GROUPS[2],
                Some(a) if a <= 25 => AGE_GROUPS[3],
                Some(_) => AGE_GROUPS[4],
            }
            .to_string(),
            By::Deprivation => match h.imd_decile {
                Some(d @ 1..=10) => DECILES[usize::from(d) - 1].to_string(),
                _ => "Not known".to_string(),
            },
        }
    }
}

const AGE_GROUPS: [&str; 6] = [
    "Under 16",
    "16 to 18",
    "19 to 21",
    "22 to 25",
    "26 and over",
    "Not known",
];

const DECILES: [&str; 11] = [
    "1 (most deprived)",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "10 (least deprived)",
    "Not known",
];

/// One group's referrals and figures.
pub struct Group {
    pub name: String,
    pub referrals: u64,
    pub figures: Freed,
}

/// The service's referrals in groups, each with its figures over `from..=to` as of `as_of`
/// (`measures::freed::over`), in reading order.
pub fn groups(
    held: &[&HeldReferral],
    by: By,
    from: time::Date,
    to: time::Date,
    as_of: time::PrimitiveDateTime,
) -> Vec<Group> {
    let mut split: BTreeMap<String, Vec<Referral>> = BTreeMap::new();
    for h in held {
        split
            .entry(by.group(h))
            .or_default()
            .push(h.referral.clone());
    }
    let order = by.order();
    let rank = |g: &str| {
        order
            .iter()
            .position(|x| *x == g)
            .unwrap_or(if g == "Not known" || g == "Not stated" {
                usize::MAX
            } else {
                order.len()
            })
    };
    let mut out: Vec<Group> = split
        .into_iter()
        .map(|(name, rs)| Group {
            referrals: rs.len() as u64,
            figures: measures::freed::over(&rs, from, to, as_of),
            name,
        })
        .collect();
    out.sort_by(|a, b| rank(&a.name).cmp(&rank(&b.name)).then(a.name.cmp(&b.name)));
    out
}

/// A proportion measure's (numerator, denominator) in a group's figures.
fn counts(m: &Measure, f: &Freed) -> Option<(f64, f64)> {
    use domain::measures::{Denominator as D, Numerator as N};
    Some(match (m.numerator, m.denominator) {
        (N::FreedClockMet(c), D::FreedClocksDecided(_)) => {
            let i = measures::series::freed_clock_index(c);
            (f.clocks_met[i], f.clocks_decided[i])
        }
        (N::FreedPreciseOnset, D::FreedTreated) => (f.precise_onset, f.treated),
        (N::FreedStartedTreatment, D::FreedEligibleFollowedUp) => {
            (f.started, f.eligible_followed_up)
        }
        _ => return None,
    })
}

pub struct RowView {
    pub group: String,
    pub numerator: String,
    pub denominator: String,
    pub estimate: String,
    pub ratio: String,
    pub reference: bool,
}

pub struct TableView {
    pub title: &'static str,
    pub id: &'static str,
    pub rows: Vec<RowView>,
}

fn pct(x: f64) -> String {
    format!("{x:.1}")
}

fn view(rows: Vec<Row>) -> Vec<RowView> {
    rows.into_iter()
        .map(|r| RowView {
            numerator: r.numerator.to_string(),
            denominator: r.denominator.to_string(),
            estimate: r.estimate.map_or_else(
                || "*".into(),
                |e| format!("{}% ({} to {})", pct(e.value), pct(e.lower), pct(e.upper)),
            ),
            ratio: if r.reference {
                "reference".into()
            } else {
                r.ratio.map_or_else(
                    || "*".into(),
                    |e| format!("{:.2} ({:.2} to {:.2})", e.value, e.lower, e.upper),
                )
            },
            reference: r.reference,
            group: r.group,
        })
        .collect()
}

/// What a who-is-reached page is about: one service, or every service of a trust, an ICB or
/// the region. The same figures, rules and disclosure control for each.
pub enum Reach {
    Service(store::freed::ServiceRow),
    Org(crate::orgs::Org),
}

impl Reach {
    fn code(&self) -> &str {
        match self {
            Reach::Service(s) => &s.code,
            Reach::Org(o) => &o.code,
        }
    }

    /// The trust the audit files a view under (none above trusts).
    fn trust(&self) -> Option<&str> {
        match self {
            Reach::Service(s) => Some(&s.trust_code),
            Reach::Org(o) => o.trust.as_deref(),
        }
    }

    /// The page's own address (the form posts back to it).
    pub fn href(&self) -> String {
        match self {
            Reach::Service(s) => format!("/freed/{}/inequalities", s.code),
            Reach::Org(o) => format!("/freed/org/{}/inequalities", o.code),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Reach::Service(_) => "service",
            Reach::Org(o) => match o.level {
                OrgLevel::Trust => "trust",
                OrgLevel::Icb => "icb",
                _ => "region",
            },
        }
    }
}

/// Everything a who-is-reached page or its JSON shows: every count already as the viewer may
/// see it.
pub struct Figures {
    pub from: time::Date,
    pub to: time::Date,
    pub services: usize,
    /// Who is referred: group, referrals (as shown), share of all referrals.
    pub referred: Vec<(String, String, String)>,
    pub tables: Vec<TableView>,
    /// Medians by group: group, treated (as shown), median days to treatment, median DUED.
    pub medians: Vec<(String, String, String, String)>,
}

/// The figures over `held` (the referrals of the scope), by `by`, as of `at`, under `policy`
/// (`None`: full detail).
pub fn figures(
    held: &[&HeldReferral],
    services: usize,
    by: By,
    at: time::PrimitiveDateTime,
    policy: Option<&Policy>,
) -> Figures {
    let held: Vec<&HeldReferral> = held
        .iter()
        .copied()
        .filter(|h| h.referral.received.date() <= at.date())
        .collect();
    let (from, to) = match held.iter().map(|h| h.referral.received.date()).min() {
        Some(a) => (a, at.date()),
        None => (at.date(), at.date()),
    };
    let gs = groups(&held, by, from, to, at);
    let referral_counts: Vec<u64> = gs.iter().map(|g| g.referrals).collect();
    let shown = super::measures::shown_breakdown(policy, &referral_counts);
    let total: u64 = referral_counts.iter().sum();
    let referred = gs
        .iter()
        .zip(&shown)
        .map(|(g, n)| {
            // The share from the count as shown (rounded outside the trust), never from a
            // suppressed one.
            let share = match (policy, n.parse::<u64>()) {
                (_, Err(_)) => "*".to_string(),
                (None, Ok(n)) if total > 0 => format!("{}%", pct(n as f64 / total as f64 * 100.0)),
                (Some(p), Ok(n)) => match p.count(total).value() {
                    Some(t) if t > 0 => format!("{}%", pct(n as f64 / t as f64 * 100.0)),
                    _ => "*".to_string(),
                },
                _ => String::new(),
            };
            (g.name.clone(), n.clone(), share)
        })
        .collect();
    let mut tables = Vec::new();
    for m in freed_catalogue().iter().filter(|m| m.is_proportion()) {
        let strata: Vec<(String, f64, f64)> = gs
            .iter()
            .filter_map(|g| counts(m, &g.figures).map(|(n, d)| (g.name.clone(), n, d)))
            .collect();
        let rows = domain::inequality::table(m, by.stratifier(), &strata, policy);
        tables.push(TableView {
            title: m.title,
            id: m.id,
            rows: view(rows),
        });
    }
    let treated: Vec<u64> = gs.iter().map(|g| g.figures.treated as u64).collect();
    let treated_shown = super::measures::shown_breakdown(policy, &treated);
    let median = |v: Option<f64>, n: f64, hidden: bool| -> String {
        let Some(v) = v else {
            return "no one treated".into();
        };
        if hidden {
            return "*".into();
        }
        match policy {
            None => format!("{v:.1}"),
            Some(p) => p
                .publish(Figure::Statistic {
                    value: v,
                    events: n.max(0.0) as u64,
                })
                .map_or_else(|| "*".into(), |x| format!("{:.1}", x.value)),
        }
    };
    let medians = gs
        .iter()
        .zip(&treated_shown)
        .map(|(g, n)| {
            let hidden = n == "*";
            (
                g.name.clone(),
                n.clone(),
                median(
                    g.figures.median_days_to_treatment,
                    g.figures.treated,
                    hidden,
                ),
                median(g.figures.median_dued, g.figures.with_dued, hidden),
            )
        })
        .collect();
    Figures {
        from,
        to,
        services,
        referred,
        tables,
        medians,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "freed/inequalities.html")]
pub struct Page {
    layout: Layout,
    /// Above the heading: the service or organisation.
    caption: String,
    href: String,
    /// Other pages of the scope: (address, words).
    links: Vec<(String, String)>,
    by: Vec<Choice>,
    by_label: &'static str,
    as_of: String,
    span: String,
    controlled: bool,
    figures: Figures,
}

#[derive(Deserialize, Default)]
pub struct InequalityQuery {
    pub by: Option<String>,
    pub as_of: Option<String>,
}

fn by_of(q: &InequalityQuery) -> Result<By, AppError> {
    match q.by.as_deref().map(str::trim).filter(|x| !x.is_empty()) {
        Some(b) => By::parse(b).ok_or_else(|| {
            AppError::BadRequest(format!(
                "by '{b}': expected ethnic_group, sex, age_band or imd_decile"
            ))
        }),
        None => Ok(By::EthnicGroup),
    }
}

/// A trust, ICB or region the user may see (404 unknown or another level, 403 nothing).
async fn org_reach(
    state: &AppState,
    user: &CurrentUser,
    code: &str,
) -> Result<(Reach, Detail), AppError> {
    let snap = state.cache.current(&state.store).await?;
    let v = crate::access::view(user, &snap.orgs, code)?;
    if !matches!(
        v.org.level,
        OrgLevel::Trust | OrgLevel::Icb | OrgLevel::Region
    ) {
        return Err(AppError::NotFound);
    }
    Ok((Reach::Org(v.org), v.detail))
}

/// The held referrals of a reach (kept per data generation by `held`) and how many services
/// they come from.
async fn reach_referrals(
    state: &AppState,
    reach: &Reach,
) -> Result<
    (
        std::sync::Arc<Vec<HeldReferral>>,
        Option<Vec<String>>,
        usize,
    ),
    AppError,
> {
    use super::held::{Scope, referrals};
    match reach {
        Reach::Service(s) => Ok((
            referrals(state, &Scope::Service(s.code.clone())).await?,
            None,
            1,
        )),
        Reach::Org(o) if o.level == OrgLevel::Trust => {
            let services = state
                .store
                .freed_services()
                .await?
                .into_iter()
                .filter(|s| s.trust_code == o.code)
                .count();
            Ok((
                referrals(state, &Scope::Trust(o.code.clone())).await?,
                None,
                services,
            ))
        }
        Reach::Org(o) => {
            // An ICB or the region: the services of the trusts within it.
            let snap = state.cache.current(&state.store).await?;
            let within: Vec<String> = state
                .store
                .freed_services()
                .await?
                .into_iter()
                .filter(|s| {
                    snap.orgs
                        .get(&s.trust_code)
                        .is_some_and(|t| snap.orgs.ancestors(t).iter().any(|a| a.code == o.code))
                })
                .map(|s| s.code)
                .collect();
            let n = within.len();
            Ok((referrals(state, &Scope::All).await?, Some(within), n))
        }
    }
}

/// The figures of a reach for a user with `detail` of it, audited for full detail.
async fn reach_figures(
    state: &AppState,
    user: &CurrentUser,
    reach: &Reach,
    detail: Detail,
    by: By,
    at: time::PrimitiveDateTime,
) -> Result<Figures, AppError> {
    let (all, within, services) = reach_referrals(state, reach).await?;
    let held: Vec<&HeldReferral> = match &within {
        None => all.iter().collect(),
        Some(codes) => all
            .iter()
            .filter(|h| codes.contains(&h.referral.service))
            .collect(),
    };
    let policy = (detail != Detail::Full).then(Policy::default);
    let f = figures(&held, services, by, at, policy.as_ref());
    if detail == Detail::Full {
        state
            .store
            .audit_for(
                &user.name,
                "freed_inequalities_viewed",
                reach.code(),
                reach.trust(),
                Some(by.as_str()),
            )
            .await?;
    }
    Ok(f)
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    reach: Reach,
    detail: Detail,
    q: &InequalityQuery,
) -> Result<Page, AppError> {
    let by = by_of(q)?;
    let at = super::as_of(q.as_of.as_deref())?;
    let figures = reach_figures(state, user, &reach, detail, by, at).await?;
    let (title, caption, links) = match &reach {
        Reach::Service(s) => (
            format!("{}: who is reached", s.name),
            format!("{} · FREED service {}", s.name, s.code),
            vec![
                (
                    format!("/freed/{}/measures", s.code),
                    "The service's FREED charts".to_string(),
                ),
                (format!("/freed/{}", s.code), "The waiting list".to_string()),
                (
                    format!(
                        "/freed/org/{}/inequalities?by={}",
                        s.trust_code,
                        by.as_str()
                    ),
                    "Who is reached across its trust's services".to_string(),
                ),
            ],
        ),
        Reach::Org(o) => {
            let mut links = vec![(
                format!("/chart/{}/freed_assessment_2w", o.code),
                format!("{}'s FREED charts", o.name),
            )];
            if o.level != OrgLevel::Region {
                let snap = state.cache.current(&state.store).await?;
                if let Some(r) = snap.orgs.region() {
                    links.push((
                        format!("/freed/org/{}/inequalities?by={}", r.code, by.as_str()),
                        "Who is reached across the region".to_string(),
                    ));
                }
            }
            links.push(("/freed".to_string(), "FREED services".to_string()));
            (
                format!("{}: who FREED reaches", o.name),
                format!(
                    "{} · {} FREED service{} of the {}",
                    o.name,
                    figures.services,
                    if figures.services == 1 { "" } else { "s" },
                    o.level.label().to_lowercase()
                ),
                links,
            )
        }
    };
    Ok(Page {
        layout: Layout::new(title, user, "/freed"),
        caption,
        href: reach.href(),
        links,
        by: By::ALL
            .iter()
            .map(|b| Choice::new(b.as_str(), b.label(), *b == by))
            .collect(),
        by_label: by.label(),
        as_of: iso_datetime(at),
        span: format!(
            "{} to {}",
            domain::dates::iso(figures.from),
            domain::dates::iso(figures.to)
        ),
        controlled: detail != Detail::Full,
        figures,
    })
}

/// `/freed/{service}/inequalities`
pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<InequalityQuery>,
) -> Result<Page, AppError> {
    let (s, detail) = super::service_for(&state, &user, &code).await?;
    render(&state, &user, Reach::Service(s), detail, &q).await
}

/// `/freed/org/{org}/inequalities`: every FREED service of a trust, an ICB or the region.
pub async fn org_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<InequalityQuery>,
) -> Result<Page, AppError> {
    let (reach, detail) = org_reach(&state, &user, &code).await?;
    render(&state, &user, reach, detail, &q).await
}

// ---------------------------------------------------------------------------------------------
// JSON: /api/freed/{service}/inequalities and /api/freed/org/{org}/inequalities

pub fn api_routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/freed/{service}/inequalities", get(api_service))
        .route("/freed/org/{org}/inequalities", get(api_org))
}

async fn api_json(
    state: &AppState,
    user: &CurrentUser,
    reach: Reach,
    detail: Detail,
    q: &InequalityQuery,
) -> Result<serde_json::Value, AppError> {
    use serde_json::json;
    let by = by_of(q)?;
    let at = super::as_of(q.as_of.as_deref())?;
    let f = reach_figures(state, user, &reach, detail, by, at).await?;
    Ok(json!({
        "scope": { "kind": reach.kind(), "code": reach.code() },
        "by": by.as_str(),
        "as_of": iso_datetime(at),
        "from": domain::dates::iso(f.from),
        "to": domain::dates::iso(f.to),
        "services": f.services,
        "disclosure_controlled": detail != Detail::Full,
        "referred": f.referred.iter().map(|(g, n, share)| json!({ "group": g, "referrals": n, "share": share })).collect::<Vec<_>>(),
        "measures": f.tables.iter().map(|t| json!({
            "measure": t.id,
            "title": t.title,
            "rows": t.rows.iter().map(|r| json!({
                "group": r.group, "numerator": r.numerator, "denominator": r.denominator,
                "percentage": r.estimate, "ratio": r.ratio, "reference": r.reference,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "medians": f.medians.iter().map(|(g, n, rtt, dued)| json!({
            "group": g, "treated": n, "median_days_to_treatment": rtt, "median_dued_days": dued,
        })).collect::<Vec<_>>(),
    }))
}

async fn api_service(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<InequalityQuery>,
) -> Result<axum::Json<serde_json::Value>, crate::error::ApiError> {
    let (s, detail) = super::service_for(&state, &user, &code).await?;
    Ok(axum::Json(
        api_json(&state, &user, Reach::Service(s), detail, &q).await?,
    ))
}

async fn api_org(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<InequalityQuery>,
) -> Result<axum::Json<serde_json::Value>, crate::error::ApiError> {
    let (reach, detail) = org_reach(&state, &user, &code).await?;
    Ok(axum::Json(
        api_json(&state, &user, reach, detail, &q).await?,
    ))
}

/// The two routes in the OpenAPI document.
pub fn openapi_paths() -> Vec<(String, serde_json::Value)> {
    use serde_json::json;
    let text = json!({ "type": "string" });
    let params = |name: &str, what: &str| {
        json!([
            { "name": name, "in": "path", "required": true, "schema": { "type": "string" }, "description": what },
            { "name": "by", "in": "query", "schema": { "type": "string", "enum": ["ethnic_group", "sex", "age_band", "imd_decile"], "default": "ethnic_group" } },
            { "name": "as_of", "in": "query", "schema": { "type": "string" }, "description": "UK wall-clock date and time, e.g. 2024-03-20 10:00 (default: now)" }
        ])
    };
    let body = json!({ "type": "object", "properties": {
        "scope": { "type": "object", "properties": { "kind": { "type": "string", "enum": ["service", "trust", "icb", "region"] }, "code": text } },
        "by": text, "as_of": text, "from": text, "to": text,
        "services": { "type": "integer", "description": "FREED services counted" },
        "disclosure_controlled": { "type": "boolean" },
        "referred": { "type": "array", "items": { "type": "object", "properties": { "group": text, "referrals": text, "share": text } } },
        "measures": { "type": "array", "description": "Per proportion measure (each clock met, precise onset, uptake): rows of group, numerator, denominator, percentage with its 95% interval, ratio to the reference group with its 95% interval, reference; as text, * where suppressed", "items": { "type": "object" } },
        "medians": { "type": "array", "items": { "type": "object", "properties": { "group": text, "treated": text, "median_days_to_treatment": text, "median_dued_days": text } } }
    } });
    let responses = |summary: &str, name: &str, what: &str| {
        json!({ "get": { "summary": summary, "parameters": params(name, what), "responses": {
            "200": { "description": "OK", "content": { "application/json": { "schema": body.clone() } } },
            "400": { "description": "A bad by or as_of" },
            "401": { "description": "Not signed in" },
            "403": { "description": "Not allowed to see it" },
            "404": { "description": "No such service or organisation (or not a trust, ICB or region)" }
        } } })
    };
    vec![
        (
            "/api/freed/{service}/inequalities".into(),
            responses(
                "Who one FREED service reaches, by ethnic group, sex, age band or deprivation decile: referrals and their share, each clock's % met, precise onset and uptake with 95% intervals and ratios to a reference group, median days to treatment and DUED; counts as text, disclosure-controlled outside the service's trust (a count, * or a multiple of 5); audited for full detail",
                "service",
                "Service code",
            ),
        ),
        (
            "/api/freed/org/{org}/inequalities".into(),
            responses(
                "The same over every FREED service of a trust, an ICB or the region (the figures of its services' referrals together), disclosure-controlled for an organisation other than the user's own trust",
                "org",
                "ODS code of a trust, an ICB or the region",
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characteristics_round_trip_and_ages_fall_in_their_bands() {
        for b in By::ALL {
            assert_eq!(By::parse(b.as_str()), Some(b));
        }
        assert_eq!(By::parse("ld_autism"), None);
        assert_eq!(AGE_GROUPS.len(), 6);
        assert_eq!(DECILES[0], "1 (most deprived)");
    }
}
