//! Data completeness: ward-months with no bed days, or with far fewer events than the ward's bed
//! days and history make likely, so under-reporting is seen before anyone compares wards.

use crate::AppState;
use crate::access;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::layout::Layout;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use domain::access::{Detail, Role};
use domain::dates::PeriodKind;
use serde::Deserialize;
use store::completeness::{Basis, Status};

#[derive(Deserialize, Default)]
pub struct CompletenessQuery {
    pub org: Option<String>,
}

pub struct Problem {
    /// The ward's page is open to this user.
    pub link: bool,
    pub ward: String,
    pub ward_name: String,
    pub month: String,
    pub missing: bool,
    pub detail: String,
}

/// A trust whose months as a whole fell far short of its own past (the overview names it too).
pub struct Shortfall {
    pub trust: String,
    pub name: String,
    /// "Jan 2025 to Jul 2025".
    pub months: String,
    /// Events reported as a share of the usual, where counts may be shown.
    pub share: Option<String>,
}

/// The trusts' periods of shortfall among `rows`, named from the directory.
pub fn shortfalls<'a>(
    rows: impl IntoIterator<Item = &'a store::completeness::WardMonth>,
    orgs: &crate::orgs::Directory,
    counts_shown: bool,
) -> Vec<Shortfall> {
    store::completeness::trust_periods(rows)
        .into_iter()
        .map(|p| Shortfall {
            name: orgs
                .get(&p.trust)
                .map(|o| o.name.clone())
                .unwrap_or_else(|| p.trust.clone()),
            months: p.span(),
            share: counts_shown
                .then(|| format!("{:.0}%", 100.0 * p.events as f64 / p.expected.max(1.0))),
            trust: p.trust,
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "completeness.html")]
pub struct CompletenessPage {
    layout: Layout,
    org_name: String,
    months: usize,
    ward_months: usize,
    wards: usize,
    problems: Vec<Problem>,
    shortfalls: Vec<Shortfall>,
    counts_shown: bool,
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CompletenessQuery>,
) -> Result<CompletenessPage, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let code = access::requested_org(&user, &snap.orgs, q.org.as_deref())?;
    let org = snap.orgs.get(&code).ok_or(AppError::NotFound)?.clone();
    // An uploader sees whether their own trust's data is complete (that is their job), but not
    // the counts behind it.
    let own_uploads =
        user.grant.role == Role::Uploader && org.trust.is_some() && org.trust == user.grant.trust;
    let detail = if own_uploads {
        Detail::DisclosureControlled
    } else {
        access::view(&user, &snap.orgs, &code)?.detail
    };
    let Some((from, to)) = snap.range else {
        return Err(AppError::BadRequest("There is no data yet.".into()));
    };
    // Each ward is judged against its own history, so the region-wide reading (cached per data
    // generation, as the overview uses it) holds every ward's answer.
    let all = state.cache.completeness(&state.store, &snap).await?;
    let inside: std::collections::HashSet<&str> = snap
        .orgs
        .wards_within(&org)
        .map(|w| w.code.as_str())
        .collect();
    let rows: Vec<_> = all
        .iter()
        .filter(|r| inside.contains(r.ward.as_str()))
        .collect();
    let counts_shown = detail == Detail::Full;
    let mut problems = Vec::new();
    let mut wards = std::collections::BTreeSet::new();
    for r in &rows {
        wards.insert(r.ward.clone());
        let ward_org = snap.orgs.get(&r.ward);
        let name = ward_org
            .map(|o| o.name.clone())
            .unwrap_or_else(|| r.ward.clone());
        let link = ward_org.is_some_and(|o| user.grant.detail(&snap.orgs.place(o)) != Detail::None);
        match r.status {
            Status::Complete => {}
            Status::MissingBedDays => problems.push(Problem {
                link,
                ward: r.ward.clone(),
                ward_name: name,
                month: PeriodKind::Month.label(r.month),
                missing: true,
                detail: "No bed days reported: the month cannot be charted.".into(),
            }),
            Status::LikelyUnderReported => problems.push(Problem {
                link,
                ward: r.ward.clone(),
                ward_name: name,
                month: PeriodKind::Month.label(r.month),
                missing: false,
                detail: match (counts_shown, r.basis == Some(Basis::TrustShortfall)) {
                    (true, shortfall) => format!(
                        "{} events reported; about {:.0} usual for these bed days, {} or fewer {}.",
                        r.events,
                        r.expected.unwrap_or(0.0),
                        r.flag_at_most.unwrap_or(0),
                        if shortfall {
                            "fits this month's shortfall of the trust as a whole"
                        } else {
                            "is improbable"
                        }
                    ),
                    (false, false) => {
                        "Far fewer events than the ward's bed days and history make likely.".into()
                    }
                    (false, true) => "Far fewer events than usual, in a month when the trust as a whole fell short.".into(),
                },
            }),
        }
    }
    Ok(CompletenessPage {
        layout: Layout::new("Data completeness", &user, "/completeness"),
        org_name: org.name.clone(),
        months: PeriodKind::Month.starts_between(from, to).len(),
        ward_months: rows.len(),
        wards: wards.len(),
        problems,
        shortfalls: shortfalls(rows.iter().copied(), &snap.orgs, counts_shown),
        counts_shown,
    })
}
