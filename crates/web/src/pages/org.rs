//! An organisation's page. A trust: its wards by measures (latest value and variation icon in
//! each cell) and its own charts. A ward, site, ICB or the region: its measures as summary rows,
//! and the organisations under it.

use super::overview::{Filters, objective_choices, period_choices, single_objective_choices};
use super::summary::{self, MatrixCell, SummaryRow};
use crate::AppState;
use crate::access;
use crate::auth::CurrentUser;
use crate::cache::Key;
use crate::chart::{self, Request};
use crate::error::AppError;
use crate::layout::{Choice, Layout};
use crate::orgs::Org;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use domain::OrgLevel;
use domain::access::Detail;
use domain::dates::PeriodKind;
use domain::measures::Objective;

pub struct WardRowView {
    pub code: String,
    pub name: String,
    /// Type and beds, under the name.
    pub about: String,
    pub cells: Vec<MatrixCell>,
    pub link: bool,
}

/// A measure's column on a trust page: a short header, the full title for screen readers.
pub struct Column {
    pub short: &'static str,
    pub title: &'static str,
}

pub struct SmallChart {
    pub svg: String,
    pub href: String,
    pub title: &'static str,
}

pub struct Crumb {
    pub href: String,
    pub label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "org.html")]
pub struct OrgPage {
    layout: Layout,
    org: Org,
    level: &'static str,
    crumbs: Vec<Crumb>,
    filter_action: String,
    objectives: Vec<Choice>,
    periods: Vec<Choice>,
    controlled: bool,
    /// Trust pages: the wards by measures.
    columns: Vec<Column>,
    wards: Vec<WardRowView>,
    charts: Vec<SmallChart>,
    /// Other levels: this organisation's summary rows.
    rows: Vec<SummaryRow>,
    children: Vec<Crumb>,
    can_annotate: bool,
    /// Ward pages: what arrived since the user last opened this page.
    since: Option<store::visits::SinceLastVisit>,
    /// An acute trust (`OrgType` acute, issue 12): it has no mental health wards, so its page
    /// points to its figures beyond inpatient care instead of empty mental health measures.
    acute: bool,
}

/// Where one organisation's series come from: a ward's or a site's with the others of its
/// trust (one query serves the whole trust page), an ICB's on its own, a trust's and the
/// region's with the others of their level (the overview's series, computed at start-up).
/// Scoping keeps a first view to one trust's rows: at a national size an unscoped site or ICB
/// key would read every row of every trust before the page could answer.
pub fn series_key(org: &Org, period: PeriodKind, measure: Option<&'static str>) -> Key {
    let scope = match (org.level, &org.trust) {
        (OrgLevel::Ward | OrgLevel::Site, Some(t)) => Some((OrgLevel::Trust, t.clone())),
        (OrgLevel::Icb, _) => Some((OrgLevel::Icb, org.code.clone())),
        _ => None,
    };
    Key {
        level: org.level,
        period,
        scope,
        measure,
    }
}

pub fn crumbs(snap: &crate::cache::Snapshot, user: &CurrentUser, org: &Org) -> Vec<Crumb> {
    snap.orgs
        .ancestors(org)
        .into_iter()
        .filter(|o| o.level != OrgLevel::Site && o.level != OrgLevel::Icb)
        .filter(|o| user.grant.detail(&snap.orgs.place(o)) != Detail::None)
        .map(|o| Crumb {
            href: if o.level == OrgLevel::Region {
                "/".into()
            } else {
                format!("/org/{}", o.code)
            },
            label: o.name.clone(),
        })
        .collect()
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(f): Query<Filters>,
) -> Result<OrgPage, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let viewing = access::view(&user, &snap.orgs, &code)?;
    let (objective, period) = summary::filters(f.objective.as_deref(), f.period.as_deref())?;
    // A trust page is wide: one objective at a time (restrictive practice first).
    let objective = match viewing.org.level {
        OrgLevel::Trust => Some(objective.unwrap_or(Objective::RestrictivePractice)),
        _ => objective,
    };
    let measures = summary::measures_of(objective);
    let org = viewing.org.clone();
    let mut page = OrgPage {
        layout: Layout::new(
            org.name.clone(),
            &user,
            if access::home(&user) == Some(&org.code) {
                "/"
            } else {
                ""
            },
        ),
        level: org.level.label(),
        crumbs: crumbs(&snap, &user, &org),
        filter_action: format!("/org/{}", org.code),
        objectives: match (org.level, objective) {
            (OrgLevel::Trust, Some(o)) => single_objective_choices(o),
            _ => objective_choices(objective),
        },
        periods: period_choices(period),
        controlled: viewing.detail != Detail::Full,
        columns: Vec::new(),
        wards: Vec::new(),
        charts: Vec::new(),
        rows: Vec::new(),
        children: Vec::new(),
        can_annotate: user.grant.can_annotate(&snap.orgs.place(&org)),
        since: None,
        acute: false,
        org: org.clone(),
    };
    if org.level == OrgLevel::Ward {
        let mut since = state
            .store
            .visit_ward_page(&user.name, &org.code, org.trust.as_deref())
            .await?;
        for u in &mut since.uploads {
            // "restrictive_interventions" reads as "restrictive interventions".
            u.0 = u.0.replace('_', " ");
        }
        page.since = Some(since);
    }
    if org.level == OrgLevel::Trust && snap.orgs.is_acute(&org.code) {
        page.acute = true;
        return Ok(page);
    }
    if org.level == OrgLevel::Trust {
        // Wards by measures.
        let ward_views = summary::visible_wards(&user, &snap, &org.code);
        let rows = summary::rows_for(
            &state,
            &snap,
            &ward_views,
            OrgLevel::Ward,
            Some((OrgLevel::Trust, org.code.clone())),
            &measures,
            period,
        )
        .await?;
        page.columns = measures
            .iter()
            .map(|m| Column {
                short: summary::short_title(m),
                title: m.title,
            })
            .collect();
        let latest = summary::usual_latest(&rows);
        let by_cell: std::collections::HashMap<(&str, &str), &SummaryRow> = rows
            .iter()
            .map(|r| ((r.org.as_str(), r.measure), r))
            .collect();
        for w in snap.orgs.wards_of(&org.code) {
            let cells = measures
                .iter()
                .map(|m| MatrixCell::of(by_cell.get(&(w.code.as_str(), m.id)).copied(), &latest))
                .collect();
            let mut about = w.ward_type.replace('_', " ");
            if let Some(b) = w.beds {
                about.push_str(&format!(", {b} beds"));
            }
            page.wards.push(WardRowView {
                code: w.code.clone(),
                name: w.name.clone(),
                about,
                cells,
                link: ward_views.iter().any(|v| v.org.code == w.code),
            });
        }
        // The trust's own charts for the objective.
        let series = state
            .cache
            .series(&state.store, &snap, series_key(&org, period, None))
            .await?;
        let policy = viewing.policy();
        for m in measures.iter().take(6) {
            let Some(s) = series
                .iter()
                .find(|s| s.org == org.code && s.measure == m.id)
            else {
                continue;
            };
            let notes = snap.notes_for(&org.code, m.id);
            let c = chart::build(&Request::standard(
                m,
                s,
                period,
                m.title.to_string(),
                &notes,
                policy.as_ref(),
            ))?;
            page.charts.push(SmallChart {
                svg: c.svg,
                href: format!("/chart/{}/{}?period={}", org.code, m.id, period.as_str()),
                title: m.title,
            });
        }
    } else {
        page.rows = summary::rows_for(
            &state,
            &snap,
            std::slice::from_ref(&viewing),
            org.level,
            series_key(&org, period, None).scope,
            &measures,
            period,
        )
        .await?;
        let children: Vec<&Org> = match org.level {
            OrgLevel::Region => snap.orgs.trusts().collect(),
            OrgLevel::Site => snap
                .orgs
                .wards()
                .iter()
                .filter(|w| w.site_code == org.code)
                .filter_map(|w| snap.orgs.get(&w.code))
                .collect(),
            _ => Vec::new(),
        };
        page.children = children
            .into_iter()
            .filter(|o| user.grant.detail(&snap.orgs.place(o)) != Detail::None)
            .map(|o| Crumb {
                href: format!("/org/{}", o.code),
                label: o.name.clone(),
            })
            .collect();
    }
    Ok(page)
}
