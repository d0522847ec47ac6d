//! The Patient Safety Network (issue 12, docs/network.md): the change idea library
//! (`/network/ideas`) and each idea's evidence (`/network/ideas/{id}`): where it was tested (the
//! QI projects whose change ideas are linked to it, in every trust, with the cycles that
//! adopted it), the measured effect at each site from the same cached series the chart pages
//! draw (`cache`, `network::site`), the forest plot and the pooled estimate; the same as JSON
//! under `/api/network/ideas`.
//!
//! Who sees what: a site the viewer may see in full (`domain::access::Grant::detail`) is named
//! with its counts; any other site is unnamed ("a PICU in another trust") and shown under
//! disclosure control (`network::site::view`): ratios and intervals only, never a count, and
//! nothing resting on fewer than 5 events. The pooled estimate is over the sites whose ratio
//! the viewer may see.

/// The network beyond inpatient mental health (issue 12, item 4): its measures' series and
/// `/network/beyond`.
pub mod scope;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::cache::Snapshot;
use crate::error::{ApiError, AppError};
use crate::layout::Layout;
use crate::pages::org::series_key;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use domain::access::Detail;
use domain::dates::PeriodKind;
use domain::disclosure::Policy;
use network::site::{EffectView, effect_from_series, pool_visible, view};
use network::svg::{ForestRow, forest};
use serde::Serialize;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/network/ideas", get(ideas_page))
        .route("/network/ideas/{id}", get(idea_page))
        .route("/network/ideas/{id}/links", axum::routing::post(link))
        .route("/network/funnel", get(funnel_page))
        .route(
            "/network/beyond",
            get(crate::pages::network::scope::beyond_page),
        )
        .route("/network", get(home))
        .route("/network/contact", axum::routing::post(contact))
        .route("/network/admin", get(admin_page))
        .route(
            "/network/admin/categories",
            axum::routing::post(admin_category),
        )
        .route("/network/admin/ideas", axum::routing::post(admin_idea))
        .route("/network/admin/events", axum::routing::post(admin_event))
        .route(
            "/network/admin/peer-groups",
            axum::routing::post(admin_group),
        )
        .route("/network/stories", get(stories).post(share_story))
        .route("/network/stories/{id}", get(story))
        .route(
            "/network/stories/{id}/comments",
            axum::routing::post(comment),
        )
        .route(
            "/network/ideas/{id}/comments",
            axum::routing::post(comment_on_idea),
        )
        .route(
            "/network/stories/{id}/moderate",
            axum::routing::post(moderate_story),
        )
        .route(
            "/network/comments/{id}/moderate",
            axum::routing::post(moderate_comment),
        )
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/network/ideas", get(api_ideas))
        .route("/network/ideas/{id}", get(api_idea))
        .route("/network/funnel", get(api_funnel))
}

#[derive(Clone, Debug, Serialize)]
pub struct IdeaRow {
    pub id: i64,
    pub title: String,
    pub category: String,
    pub measures: Vec<String>,
    /// QI projects (change ideas) linked to it.
    pub links: usize,
}

/// The network is for everyone who sees some organisation's figures (as the QI pages); what
/// of each site they see is decided per site by `Grant::detail`.
pub(crate) fn may_use(user: &CurrentUser) -> Result<(), AppError> {
    use domain::access::Role;
    if matches!(
        user.grant.role,
        Role::ProgrammeAdmin | Role::ProgrammeViewer | Role::TrustLead | Role::WardUser
    ) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "The Patient Safety Network is for accounts that see organisations' figures.".into(),
        ))
    }
}

async fn idea_rows(state: &AppState, user: &CurrentUser) -> Result<Vec<IdeaRow>, AppError> {
    may_use(user)?;
    let ideas = state.store.net_ideas().await?;
    let links = state.store.net_links(None).await?;
    Ok(ideas
        .into_iter()
        .map(|i| IdeaRow {
            links: links.iter().filter(|l| l.idea_id == i.id).count(),
            id: i.id,
            title: i.title,
            category: i.category,
            measures: i.measures,
        })
        .collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "network/ideas.html")]
pub struct IdeasPage {
    layout: Layout,
    ideas: Vec<IdeaRow>,
}

pub async fn ideas_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<IdeasPage, AppError> {
    Ok(IdeasPage {
        layout: Layout::new("Change ideas", &user, "/network/ideas"),
        ideas: idea_rows(&state, &user).await?,
    })
}

pub async fn api_ideas(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    Ok(axum::Json(
        serde_json::json!({ "ideas": idea_rows(&state, &user).await? }),
    ))
}

/// One site where the idea was tested, as this viewer may see it.
#[derive(Clone, Debug, Serialize)]
pub struct SiteRow {
    /// The ward or trust's name, or "a PICU in another trust".
    pub label: String,
    /// Only for a viewer with the site's full detail (a project names its ward).
    pub project_id: Option<i64>,
    pub project_title: Option<String>,
    /// The cycles of the linked change idea, and the first adoption's date (ISO).
    pub cycles: Vec<String>,
    pub adopted: Option<String>,
    pub effect: Option<EffectView>,
    /// Why there is no effect: not adopted yet, too few months...
    pub note: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct MeasureEvidence {
    pub measure: String,
    pub title: String,
    pub ratio_name: &'static str,
    pub sites: Vec<SiteRow>,
    pub pooled: Option<network::Pooled>,
    #[serde(skip)]
    pub svg: String,
    #[serde(skip)]
    pub text: String,
}

fn unnamed(snap: &Snapshot, code: &str) -> String {
    if let Some(w) = snap.orgs.wards().iter().find(|w| w.code == code) {
        let t = w.ward_type.replace('_', " ");
        let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        let t = if t.eq_ignore_ascii_case("picu") {
            "PICU".to_string()
        } else {
            t
        };
        format!("{article} {t} ward in another trust").replace(" PICU ward", " PICU")
    } else {
        "another trust".into()
    }
}

async fn evidence(
    state: &AppState,
    snap: &Snapshot,
    user: &CurrentUser,
    id: i64,
) -> Result<(store::network::Idea, Vec<MeasureEvidence>), AppError> {
    may_use(user)?;
    let idea = state.store.net_idea(id).await?.ok_or(AppError::NotFound)?;
    let links = state.store.net_links(Some(id)).await?;
    let projects: HashMap<i64, store::qi::StoredProject> = state
        .store
        .qi_projects()
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut out = Vec::new();
    for mid in &idea.measures {
        let Some(m) = domain::measures::find(mid) else {
            continue;
        };
        if network::site::scale_of(&m).is_none() {
            continue;
        }
        let mut sites = Vec::new();
        // Each linked change idea's own team (adopted by one of its cycles), and every ward
        // the project spread it to (adopted on the spread's date).
        let mut tested: Vec<(
            &store::qi::StoredProject,
            String,
            Vec<String>,
            Option<time::Date>,
        )> = Vec::new();
        for l in &links {
            let Some(sp) = projects.get(&l.project_id) else {
                continue;
            };
            let cycles: Vec<&qi::Cycle> = sp
                .project
                .cycles
                .iter()
                .filter(|c| c.change_idea == l.change_idea)
                .collect();
            tested.push((
                sp,
                sp.project.organisation.code.clone(),
                cycles.iter().map(|c| c.id.clone()).collect(),
                cycles.iter().filter_map(|c| c.adopted_on()).min(),
            ));
            for spread in sp
                .project
                .spread
                .iter()
                .filter(|x| x.change_idea == l.change_idea)
            {
                tested.push((sp, spread.ward.clone(), Vec::new(), Some(spread.adopted)));
            }
        }
        for (sp, code, cycle_ids, adopted) in tested {
            let Some(org) = snap.orgs.get(&code) else {
                continue;
            };
            let detail = user.grant.detail(&snap.orgs.place(org));
            let policy = (detail != Detail::Full).then(Policy::default);
            let code = &code;
            let mut row = SiteRow {
                label: if detail == Detail::Full {
                    org.name.clone()
                } else {
                    unnamed(snap, code)
                },
                project_id: (detail == Detail::Full).then_some(sp.id),
                project_title: (detail == Detail::Full).then(|| sp.project.title.clone()),
                cycles: if detail != Detail::Full {
                    Vec::new()
                } else {
                    cycle_ids
                },
                adopted: adopted.map(domain::dates::iso),
                effect: None,
                note: String::new(),
            };
            match adopted {
                None => row.note = "not adopted yet".into(),
                Some(day) => {
                    let all = state
                        .cache
                        .series(&state.store, snap, series_key(org, PeriodKind::Month, None))
                        .await?;
                    match all.iter().find(|s| s.org == org.code && s.measure == m.id) {
                        None => row.note = "no data for this measure".into(),
                        Some(s) => match effect_from_series(&m, s, day) {
                            Ok(e) => row.effect = Some(view(&e, policy.as_ref())),
                            Err(network::site::SiteError::Effect { source, .. }) => {
                                row.note = match source {
                                    network::EffectError::TooFewPeriods { .. } => {
                                        "too few months before or after the adoption".into()
                                    }
                                    network::EffectError::NoExposure { .. } => "no bed days".into(),
                                    _ => "the effect could not be measured".into(),
                                }
                            }
                            Err(_) => row.note = "the effect could not be measured".into(),
                        },
                    }
                }
            }
            sites.push(row);
        }
        let views: Vec<EffectView> = sites.iter().filter_map(|s| s.effect.clone()).collect();
        let pooled = pool_visible(&views);
        let scale = network::site::scale_of(&m).expect("checked above");
        let rows: Vec<ForestRow> = sites
            .iter()
            .map(|s| ForestRow {
                label: s.label.clone(),
                ratio: s.effect.as_ref().and_then(|e| e.ratio),
                note: s
                    .effect
                    .as_ref()
                    .and_then(|e| e.withheld)
                    .map(str::to_string)
                    .unwrap_or_else(|| s.note.clone()),
            })
            .collect();
        let title = format!(
            "{}: {} after the change to before, by site",
            m.title,
            scale.ratio_name()
        );
        out.push(MeasureEvidence {
            svg: forest(
                &format!("forest-{}", m.id),
                &title,
                scale.ratio_name(),
                &rows,
                pooled.as_ref(),
            ),
            text: network::svg::forest_text(scale.ratio_name(), &rows, pooled.as_ref()),
            measure: m.id.to_string(),
            title: m.title.to_string(),
            ratio_name: scale.ratio_name(),
            sites,
            pooled,
        });
    }
    Ok((idea, out))
}

fn parse_id(id: &str) -> Result<i64, AppError> {
    id.parse::<i64>().map_err(|_| AppError::NotFound)
}

#[derive(Template, WebTemplate)]
#[template(path = "network/idea.html")]
pub struct IdeaPage {
    layout: Layout,
    idea: store::network::Idea,
    evidence: Vec<MeasureEvidence>,
    linkable: Vec<(String, String)>,
    /// Comments and questions on the idea: published ones (all, for the programme admin).
    comments: Vec<store::network::Comment>,
    admin: bool,
}

pub async fn idea_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<IdeaPage, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let (idea, evidence) = evidence(&state, &snap, &user, parse_id(&id)?).await?;
    let admin = is_admin(&user);
    let comments = state
        .store
        .net_comments(store::network::Target::Idea(idea.id), !admin)
        .await?;
    Ok(IdeaPage {
        layout: Layout::new(idea.title.clone(), &user, "/network/ideas"),
        linkable: linkable(&state, &snap, &user).await?,
        idea,
        evidence,
        comments,
        admin,
    })
}

pub async fn api_idea(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let snap = state.cache.current(&state.store).await?;
    let (idea, evidence) = evidence(&state, &snap, &user, parse_id(&id)?).await?;
    Ok(axum::Json(serde_json::json!({
        "id": idea.id,
        "title": idea.title,
        "description": idea.description,
        "category": idea.category,
        "measures": evidence,
    })))
}

// ---------------------------------------------------------------------------------------------
// Like-for-like comparison: the funnel plot of any rate or proportion over the last 12 months,
// across wards (optionally of one type) or across trusts, from the cached series.

#[derive(serde::Deserialize, Default)]
pub struct FunnelQuery {
    pub measure: Option<String>,
    pub level: Option<String>,
    pub ward_type: Option<String>,
    /// A peer group set by the programme admin (its id): only its members are compared.
    pub peer_group: Option<String>,
}

/// One unit of the funnel as the viewer may see it.
#[derive(Clone, Debug, Serialize)]
pub struct FunnelRow {
    pub label: String,
    /// The viewer's own (full detail).
    pub own: bool,
    /// `None`: suppressed (fewer than 5 events, or too small a denominator) for this viewer.
    pub value: Option<f64>,
    pub denominator: Option<f64>,
    pub band: Option<&'static str>,
    pub outlier: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct FunnelData {
    pub measure: String,
    pub title: String,
    pub level: &'static str,
    pub ward_type: Option<String>,
    /// The peer group compared, when one was chosen.
    pub peer_group: Option<i64>,
    pub months: Vec<String>,
    pub target: Option<f64>,
    pub phi: Option<f64>,
    pub tau2: Option<f64>,
    pub overdispersed: bool,
    pub units: Vec<FunnelRow>,
    #[serde(skip)]
    pub svg: String,
    #[serde(skip)]
    pub text: String,
    pub message: Option<String>,
}

/// The months a funnel pools: the last 12 with data.
const FUNNEL_MONTHS: usize = 12;

async fn funnel_data(
    state: &AppState,
    snap: &Snapshot,
    user: &CurrentUser,
    q: &FunnelQuery,
) -> Result<FunnelData, AppError> {
    may_use(user)?;
    let mid = q.measure.as_deref().unwrap_or("ri_rate");
    let m = domain::measures::find(mid).ok_or_else(|| {
        AppError::BadRequest(format!(
            "measure: expected a catalogue measure id; '{mid}' is not one"
        ))
    })?;
    let Some(scale) = network::site::scale_of(&m) else {
        return Err(AppError::BadRequest(format!(
            "measure: expected a rate or a proportion; {} is neither",
            m.id
        )));
    };
    let level = match q.level.as_deref().unwrap_or("ward") {
        "ward" => domain::OrgLevel::Ward,
        "trust" => domain::OrgLevel::Trust,
        other => {
            return Err(AppError::BadRequest(format!(
                "level: expected ward or trust; '{other}' is neither"
            )));
        }
    };
    let ward_type = q
        .ward_type
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty() && level == domain::OrgLevel::Ward)
        .map(str::to_string);
    // A peer group narrows the units to its members (wards or trusts, as the admin set it).
    let peer_group = match q
        .peer_group
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(text) => {
            let id: i64 = text.parse().map_err(|_| {
                AppError::BadRequest(format!(
                    "peer_group: expected a peer group's number; '{text}' is not one"
                ))
            })?;
            let g = state
                .store
                .net_peer_groups()
                .await?
                .into_iter()
                .find(|g| g.id == id)
                .ok_or_else(|| {
                    AppError::BadRequest(format!("peer_group: there is no peer group {id}"))
                })?;
            Some(g)
        }
    };
    let key = crate::cache::Key {
        level,
        period: PeriodKind::Month,
        scope: None,
        measure: Some(m.id),
    };
    let all = state.cache.series(&state.store, snap, key).await?;
    let mut units = Vec::new();
    let mut orgs = Vec::new();
    let mut months: Vec<String> = Vec::new();
    for s in all.iter().filter(|s| s.measure == m.id) {
        let Some(org) = snap.orgs.get(&s.org) else {
            continue;
        };
        if org.level != level {
            continue;
        }
        if let Some(g) = &peer_group
            && !g.members.contains(&org.code)
        {
            continue;
        }
        if let Some(t) = &ward_type
            && !snap
                .orgs
                .wards()
                .iter()
                .any(|w| w.code == org.code && &w.ward_type == t)
        {
            continue;
        }
        let pts: Vec<_> = s
            .points
            .iter()
            .filter(|p| p.value.is_some() && p.denominator.is_some_and(|d| d > 0.0))
            .collect();
        let last = &pts[pts.len().saturating_sub(FUNNEL_MONTHS)..];
        let (num, den) = last.iter().fold((0.0, 0.0), |(n, d), p| {
            (n + p.numerator, d + p.denominator.unwrap_or(0.0))
        });
        if den <= 0.0 {
            continue;
        }
        if months.is_empty() || last.len() == FUNNEL_MONTHS {
            months = last.iter().map(|p| domain::dates::iso(p.period)).collect();
        }
        units.push(network::Unit {
            numerator: num,
            denominator: den,
        });
        orgs.push(org.clone());
    }
    let title = format!(
        "{}: {} over the last {} months",
        m.title,
        match (&peer_group, &ward_type, level) {
            (Some(g), Some(t), _) =>
                format!("{} wards of the peer group {}", t.replace('_', " "), g.name),
            (Some(g), None, _) => format!("the peer group {}", g.name),
            (None, Some(t), _) => format!("{} wards", t.replace('_', " ")),
            (None, None, domain::OrgLevel::Ward) => "every ward".into(),
            _ => "every trust".into(),
        },
        FUNNEL_MONTHS
    );
    let mut data = FunnelData {
        measure: m.id.to_string(),
        title: title.clone(),
        level: if level == domain::OrgLevel::Ward {
            "ward"
        } else {
            "trust"
        },
        ward_type,
        peer_group: peer_group.as_ref().map(|g| g.id),
        months,
        target: None,
        phi: None,
        tau2: None,
        overdispersed: false,
        units: Vec::new(),
        svg: String::new(),
        text: String::new(),
        message: None,
    };
    let f = match network::funnel(&units, scale) {
        Ok(f) => f,
        Err(e) => {
            data.message = Some(format!("No funnel plot: {e}."));
            return Ok(data);
        }
    };
    // What the viewer may see of each unit: the funnel's limits come from every unit's exact
    // figures; a unit outside the viewer's full detail shows its published value (rounded
    // counts) or nothing, and no band when suppressed.
    let mut shown = f.clone();
    shown.units.clear();
    let mut labels = Vec::new();
    let mut own = Vec::new();
    for (org, u) in orgs.iter().zip(&f.units) {
        let detail = user.grant.detail(&snap.orgs.place(org));
        let full = detail == Detail::Full;
        let policy = (!full).then(Policy::default);
        let label = if full {
            org.name.clone()
        } else if level == domain::OrgLevel::Ward {
            unnamed(snap, &org.code)
        } else {
            "another trust".into()
        };
        let published =
            network::site::publish_unit(u.numerator, u.denominator, scale, policy.as_ref());
        data.units.push(FunnelRow {
            label: label.clone(),
            own: full,
            value: published.map(|p| p.0),
            denominator: published.map(|p| p.1),
            band: published.map(|_| u.band.describe()),
            outlier: published.is_some() && u.band.is_outlier(),
        });
        if let Some((value, denominator)) = published {
            let mut v = *u;
            v.value = value;
            v.denominator = denominator;
            if !full {
                v.numerator = 0.0;
            }
            shown.units.push(v);
            labels.push(label);
            own.push(full);
        }
    }
    data.units
        .sort_by(|a, b| b.outlier.cmp(&a.outlier).then(a.label.cmp(&b.label)));
    data.target = Some(f.target);
    data.phi = Some(f.phi);
    data.tau2 = Some(f.tau2);
    data.overdispersed = f.overdispersed;
    let denominator_label = if m.denominator == domain::measures::Denominator::StaffHeadcount {
        "staff"
    } else if m.is_rate() {
        "occupied bed days"
    } else {
        "denominator"
    };
    data.svg = network::svg::funnel(
        "funnel",
        &title,
        denominator_label,
        m.unit,
        &shown,
        &labels,
        &own,
    );
    data.text = network::svg::funnel_text(m.unit, &shown, &labels);
    Ok(data)
}

#[derive(Template, WebTemplate)]
#[template(path = "network/funnel.html")]
pub struct FunnelPage {
    layout: Layout,
    data: FunnelData,
    measures: Vec<(String, String, bool)>,
    ward_types: Vec<(String, bool)>,
    /// The programme admin's peer groups: (id, name, selected).
    peer_groups: Vec<(i64, String, bool)>,
}

pub async fn funnel_page(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<FunnelQuery>,
) -> Result<FunnelPage, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let data = funnel_data(&state, &snap, &user, &q).await?;
    let measures = domain::measures::catalogue()
        .into_iter()
        .chain(domain::measures::beyond_inpatient_catalogue())
        .filter(|m| network::site::scale_of(m).is_some())
        .map(|m| (m.id.to_string(), m.title.to_string(), m.id == data.measure))
        .collect();
    let mut types: Vec<String> = snap
        .orgs
        .wards()
        .iter()
        .map(|w| w.ward_type.clone())
        .collect();
    types.sort();
    types.dedup();
    let ward_types = types
        .into_iter()
        .map(|t| {
            let sel = data.ward_type.as_deref() == Some(t.as_str());
            (t, sel)
        })
        .collect();
    let peer_groups = state
        .store
        .net_peer_groups()
        .await?
        .into_iter()
        .map(|g| {
            let sel = data.peer_group == Some(g.id);
            (g.id, g.name, sel)
        })
        .collect();
    Ok(FunnelPage {
        layout: Layout::new("Compare like with like", &user, "/network/ideas"),
        data,
        measures,
        ward_types,
        peer_groups,
    })
}

pub async fn api_funnel(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<FunnelQuery>,
) -> Result<axum::Json<FunnelData>, ApiError> {
    let snap = state.cache.current(&state.store).await?;
    Ok(axum::Json(funnel_data(&state, &snap, &user, &q).await?))
}

// ---------------------------------------------------------------------------------------------
// Learning: the feed, stories with comments and questions (moderated by the programme admin),
// learning events. A team shares a story for a ward or trust whose detail the user sees in
// full (`Grant::detail`); its live chart is the chart page of its own data (`/chart/...`),
// which applies the viewer's own access and disclosure control.

#[derive(Template, WebTemplate)]
#[template(path = "network/home.html")]
pub struct HomePage {
    layout: Layout,
    feed: Vec<store::network::FeedItem>,
    events: Vec<(String, store::network::Event)>,
    /// Teams that agreed to be asked: (team, organisation's name, note).
    contacts: Vec<(String, String, String)>,
    own: Vec<(String, String)>,
    admin: bool,
}

fn feed_link(kind: &str, id: i64) -> String {
    match kind {
        "idea" => format!("/network/ideas/{id}"),
        "story" => format!("/network/stories/{id}"),
        _ => "/network/stories".into(),
    }
}

pub async fn home(State(state): State<AppState>, user: CurrentUser) -> Result<HomePage, AppError> {
    may_use(&user)?;
    let events = state
        .store
        .net_events()
        .await?
        .into_iter()
        .map(|e| {
            (
                domain::dates::iso(domain::dates::date_from_day(e.day as i32)),
                e,
            )
        })
        .collect();
    let snap = state.cache.current(&state.store).await?;
    let contacts = state
        .store
        .net_contacts()
        .await?
        .into_iter()
        .map(|c| {
            let name = snap
                .orgs
                .get(&c.org_code)
                .map(|o| o.name.clone())
                .unwrap_or(c.org_code);
            (c.team, name, c.note)
        })
        .collect();
    Ok(HomePage {
        layout: Layout::new("Patient Safety Network", &user, "/network/ideas"),
        feed: state.store.net_feed(30).await?,
        events,
        contacts,
        own: own_orgs(&snap, &user),
        admin: is_admin(&user),
    })
}

impl HomePage {
    fn link(&self, kind: &str, id: &i64) -> String {
        feed_link(kind, *id)
    }
}

/// The organisations the user may share a story for: those they see in full.
fn own_orgs(snap: &Snapshot, user: &CurrentUser) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for code in [user.grant.ward.as_deref(), user.grant.trust.as_deref()]
        .into_iter()
        .flatten()
    {
        if let Some(org) = snap.orgs.get(code)
            && user.grant.detail(&snap.orgs.place(org)) == Detail::Full
        {
            out.push((org.code.clone(), org.name.clone()));
        }
    }
    out
}

#[derive(Template, WebTemplate)]
#[template(path = "network/stories.html")]
pub struct StoriesPage {
    layout: Layout,
    stories: Vec<(store::network::Story, String)>,
    orgs: Vec<(String, String)>,
    ideas: Vec<store::network::Idea>,
    measures: Vec<(String, String)>,
}

fn is_admin(user: &CurrentUser) -> bool {
    user.grant.role == domain::access::Role::ProgrammeAdmin
}

pub async fn stories(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<StoriesPage, AppError> {
    may_use(&user)?;
    let snap = state.cache.current(&state.store).await?;
    let admin = is_admin(&user);
    let stories = state
        .store
        .net_stories(!admin)
        .await?
        .into_iter()
        .map(|s| {
            let name = snap
                .orgs
                .get(&s.org_code)
                .map(|o| o.name.clone())
                .unwrap_or_else(|| s.org_code.clone());
            (s, name)
        })
        .collect();
    Ok(StoriesPage {
        layout: Layout::new("Stories", &user, "/network/ideas"),
        stories,
        orgs: own_orgs(&snap, &user),
        ideas: state.store.net_ideas().await?,
        measures: domain::measures::catalogue()
            .into_iter()
            .filter(|m| network::site::scale_of(m).is_some())
            .map(|m| (m.id.to_string(), m.title.to_string()))
            .collect(),
    })
}

#[derive(serde::Deserialize)]
pub struct StoryForm {
    pub org: String,
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub idea: String,
    #[serde(default)]
    pub chart_measure: String,
}

pub async fn share_story(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::Form(f): axum::Form<StoryForm>,
) -> Result<axum::response::Redirect, AppError> {
    may_use(&user)?;
    let snap = state.cache.current(&state.store).await?;
    let org = f.org.trim().to_ascii_uppercase();
    if !own_orgs(&snap, &user).iter().any(|(c, _)| *c == org) {
        return Err(AppError::Forbidden(
            "You can share a story only for your own ward or trust.".into(),
        ));
    }
    let idea_id = match f.idea.trim() {
        "" => None,
        s => Some(s.parse::<i64>().map_err(|_| {
            AppError::BadRequest(format!(
                "idea: expected an idea from the library; found '{s}'"
            ))
        })?),
    };
    let chart_measure = match f.chart_measure.trim() {
        "" => None,
        s => Some(
            domain::measures::find(s)
                .map(|m| m.id.to_string())
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "chart_measure: expected a catalogue measure; found '{s}'"
                    ))
                })?,
        ),
    };
    let id = state
        .store
        .net_add_story(
            &store::network::NewStory {
                org_code: org,
                idea_id,
                title: f.title,
                body: f.body,
                chart_measure,
            },
            &user.name,
        )
        .await?;
    Ok(axum::response::Redirect::to(&format!(
        "/network/stories/{id}"
    )))
}

#[derive(Template, WebTemplate)]
#[template(path = "network/story.html")]
pub struct StoryPage {
    layout: Layout,
    story: store::network::Story,
    org_name: String,
    /// The team's live chart (SVG), when the story has one the viewer may see.
    chart_svg: Option<String>,
    chart_controlled: bool,
    comments: Vec<store::network::Comment>,
    admin: bool,
}

async fn visible_story(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<store::network::Story, AppError> {
    let s = state
        .store
        .net_story(parse_id(id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    // Unpublished stories: for their author and the programme admin only.
    if s.status != store::network::PUBLISHED && !is_admin(user) && s.author != user.name {
        return Err(AppError::NotFound);
    }
    Ok(s)
}

pub async fn story(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StoryPage, AppError> {
    may_use(&user)?;
    let snap = state.cache.current(&state.store).await?;
    let s = visible_story(&state, &user, &id).await?;
    let admin = is_admin(&user);
    let comments = state
        .store
        .net_comments(store::network::Target::Story(s.id), !admin)
        .await?;
    // The team's live chart, drawn from its own data as the chart page draws it for this
    // viewer (`access::view` and disclosure control decide what it shows); none when the
    // viewer may not see the team's organisation.
    let mut chart_svg = None;
    let mut chart_controlled = false;
    if let Some(m) = &s.chart_measure {
        let q = crate::pages::chart_page::ChartQuery::default();
        match crate::pages::chart_page::prepare(&state, &user, &s.org_code, m, &q).await {
            Ok(p) => {
                chart_controlled = p.viewing.policy().is_some();
                chart_svg = Some(crate::pages::chart_page::draw(&p, &q)?.svg);
            }
            Err(AppError::Forbidden(_) | AppError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(StoryPage {
        chart_svg,
        chart_controlled,
        layout: Layout::new(s.title.clone(), &user, "/network/ideas"),
        org_name: snap
            .orgs
            .get(&s.org_code)
            .map(|o| o.name.clone())
            .unwrap_or_else(|| s.org_code.clone()),
        story: s,
        comments,
        admin,
    })
}

#[derive(serde::Deserialize)]
pub struct CommentForm {
    pub body: String,
    #[serde(default)]
    pub question: Option<String>,
}

pub async fn comment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<CommentForm>,
) -> Result<axum::response::Redirect, AppError> {
    may_use(&user)?;
    let s = visible_story(&state, &user, &id).await?;
    state
        .store
        .net_add_comment(
            store::network::Target::Story(s.id),
            &f.body,
            f.question.is_some(),
            &user.name,
        )
        .await?;
    Ok(axum::response::Redirect::to(&format!(
        "/network/stories/{}",
        s.id
    )))
}

/// A comment or question on a library idea: any user of the network, held for the programme
/// admin's moderation (audited by the store, as a story's comments are).
pub async fn comment_on_idea(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<CommentForm>,
) -> Result<axum::response::Redirect, AppError> {
    may_use(&user)?;
    let id = parse_id(&id)?;
    if state.store.net_idea(id).await?.is_none() {
        return Err(AppError::NotFound);
    }
    state
        .store
        .net_add_comment(
            store::network::Target::Idea(id),
            &f.body,
            f.question.is_some(),
            &user.name,
        )
        .await?;
    Ok(axum::response::Redirect::to(&format!(
        "/network/ideas/{id}"
    )))
}

#[derive(serde::Deserialize)]
pub struct ModerateForm {
    pub decision: String,
    #[serde(default)]
    pub story: Option<i64>,
    /// The idea whose comment it is (to come back to its page).
    #[serde(default)]
    pub idea: Option<i64>,
}

fn decision(f: &ModerateForm) -> Result<bool, AppError> {
    match f.decision.as_str() {
        "publish" => Ok(true),
        "reject" => Ok(false),
        other => Err(AppError::BadRequest(format!(
            "decision: expected publish or reject; found '{other}'"
        ))),
    }
}

pub async fn moderate_story(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ModerateForm>,
) -> Result<axum::response::Redirect, AppError> {
    crate::access::require_admin(&user)?;
    let publish = decision(&f)?;
    let id = parse_id(&id)?;
    if !state
        .store
        .net_moderate_story(id, publish, &user.name)
        .await?
    {
        return Err(AppError::NotFound);
    }
    Ok(axum::response::Redirect::to(&format!(
        "/network/stories/{id}"
    )))
}

pub async fn moderate_comment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ModerateForm>,
) -> Result<axum::response::Redirect, AppError> {
    crate::access::require_admin(&user)?;
    let publish = decision(&f)?;
    if !state
        .store
        .net_moderate_comment(parse_id(&id)?, publish, &user.name)
        .await?
    {
        return Err(AppError::NotFound);
    }
    Ok(axum::response::Redirect::to(&match (f.story, f.idea) {
        (Some(s), _) => format!("/network/stories/{s}"),
        (None, Some(i)) => format!("/network/ideas/{i}"),
        (None, None) => "/network/stories".into(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Linking a QI project's change idea to a library idea: by those who may change the project
// (`Grant::can_annotate` on its organisation, as the QI pages decide), audited.

/// The change ideas of the projects the user may change: ("project:change idea", label).
pub async fn linkable(
    state: &AppState,
    snap: &Snapshot,
    user: &CurrentUser,
) -> Result<Vec<(String, String)>, AppError> {
    let mut out = Vec::new();
    for sp in state.store.qi_projects().await? {
        let Some(org) = snap.orgs.get(&sp.project.organisation.code) else {
            continue;
        };
        if !user.grant.can_annotate(&snap.orgs.place(org)) {
            continue;
        }
        for c in &sp.project.diagram.change_ideas {
            out.push((
                format!("{}:{}", sp.id, c.id),
                format!("{}: {}", sp.project.title, c.text),
            ));
        }
    }
    Ok(out)
}

#[derive(serde::Deserialize)]
pub struct LinkForm {
    /// "project id:change idea id".
    pub change_idea: String,
}

pub async fn link(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<LinkForm>,
) -> Result<axum::response::Redirect, AppError> {
    may_use(&user)?;
    let idea = parse_id(&id)?;
    let snap = state.cache.current(&state.store).await?;
    let (project, change_idea) = f
        .change_idea
        .split_once(':')
        .and_then(|(p, c)| Some((p.trim().parse::<i64>().ok()?, c.trim().to_string())))
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "change_idea: expected one of your projects' change ideas; found '{}'",
                f.change_idea
            ))
        })?;
    let sp = state.store.qi_project(project).await?.ok_or_else(|| {
        AppError::BadRequest(format!("change_idea: project {project} does not exist"))
    })?;
    let org = snap
        .orgs
        .get(&sp.project.organisation.code)
        .ok_or(AppError::NotFound)?;
    if !user.grant.can_annotate(&snap.orgs.place(org)) {
        return Err(AppError::Forbidden(format!(
            "Your account cannot change {}'s projects.",
            org.name
        )));
    }
    if !sp
        .project
        .diagram
        .change_ideas
        .iter()
        .any(|c| c.id == change_idea)
    {
        return Err(AppError::BadRequest(format!(
            "change_idea: expected a change idea of project {project}'s driver diagram; '{change_idea}' is not one"
        )));
    }
    state
        .store
        .net_link(project, &change_idea, idea, &user.name)
        .await?;
    Ok(axum::response::Redirect::to(&format!(
        "/network/ideas/{idea}"
    )))
}

// ---------------------------------------------------------------------------------------------
// The programme admin's forms: the category catalogue, ideas, learning events, peer groups;
// and a team's contact that agrees to be asked.

#[derive(Template, WebTemplate)]
#[template(path = "network/admin.html")]
pub struct AdminPage {
    layout: Layout,
    categories: Vec<store::network::Category>,
    groups: Vec<store::network::PeerGroup>,
}

pub async fn admin_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<AdminPage, AppError> {
    crate::access::require_admin(&user)?;
    Ok(AdminPage {
        layout: Layout::new("Network administration", &user, "/network/ideas"),
        categories: state.store.net_categories().await?,
        groups: state.store.net_peer_groups().await?,
    })
}

type Fields = HashMap<String, String>;

fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.get(name).map(|s| s.trim()).unwrap_or("")
}

pub async fn admin_category(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::Form(f): axum::Form<Fields>,
) -> Result<axum::response::Redirect, AppError> {
    crate::access::require_admin(&user)?;
    state
        .store
        .net_add_category(
            field(&f, "family"),
            field(&f, "name"),
            field(&f, "description"),
            &user.name,
        )
        .await?;
    Ok(axum::response::Redirect::to("/network/admin"))
}

pub async fn admin_idea(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::Form(f): axum::Form<Fields>,
) -> Result<axum::response::Redirect, AppError> {
    crate::access::require_admin(&user)?;
    let category_id = field(&f, "category").parse::<i64>().map_err(|_| {
        AppError::BadRequest("category: expected a category from the catalogue".into())
    })?;
    let mut measures = Vec::new();
    for m in field(&f, "measures")
        .split([',', ' '])
        .filter(|s| !s.is_empty())
    {
        let found = domain::measures::find(m).ok_or_else(|| {
            AppError::BadRequest(format!(
                "measures: expected catalogue measure ids; '{m}' is not one"
            ))
        })?;
        measures.push(found.id.to_string());
    }
    let new = store::network::NewIdea {
        title: field(&f, "title").into(),
        description: field(&f, "description").into(),
        category_id,
        measures,
    };
    let id = state.store.net_create_idea(&new, &user.name).await?;
    Ok(axum::response::Redirect::to(&format!(
        "/network/ideas/{id}"
    )))
}

pub async fn admin_event(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::Form(f): axum::Form<Fields>,
) -> Result<axum::response::Redirect, AppError> {
    crate::access::require_admin(&user)?;
    let date = field(&f, "date");
    let day = time::Date::parse(date, &time::format_description::well_known::Iso8601::DATE)
        .map_err(|_| {
            AppError::BadRequest(format!(
                "date: expected a date as YYYY-MM-DD; found '{date}'"
            ))
        })?;
    state
        .store
        .net_add_event(
            field(&f, "title"),
            i64::from(domain::dates::day_number(day)),
            field(&f, "place"),
            field(&f, "material"),
            &user.name,
        )
        .await?;
    Ok(axum::response::Redirect::to("/network"))
}

pub async fn admin_group(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::Form(f): axum::Form<Fields>,
) -> Result<axum::response::Redirect, AppError> {
    crate::access::require_admin(&user)?;
    let members: Vec<String> = field(&f, "members")
        .split([',', ' ', '\n'])
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .collect();
    state
        .store
        .net_set_peer_group(
            field(&f, "name"),
            field(&f, "description"),
            &members,
            &user.name,
        )
        .await?;
    Ok(axum::response::Redirect::to("/network/admin"))
}

/// A team's contact: the user agrees to be asked about their ward's or trust's work (or
/// withdraws), for an organisation they see in full.
pub async fn contact(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::Form(f): axum::Form<Fields>,
) -> Result<axum::response::Redirect, AppError> {
    may_use(&user)?;
    let snap = state.cache.current(&state.store).await?;
    let org = field(&f, "org").to_ascii_uppercase();
    if !own_orgs(&snap, &user).iter().any(|(c, _)| *c == org) {
        return Err(AppError::Forbidden(
            "You can be the contact only for your own ward or trust.".into(),
        ));
    }
    let agree = field(&f, "agree") == "yes";
    let (team, note) = (field(&f, "team"), field(&f, "note"));
    state
        .store
        .net_set_contact(&org, agree.then_some((team, note)), &user.name)
        .await?;
    Ok(axum::response::Redirect::to("/network"))
}
