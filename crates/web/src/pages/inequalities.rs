//! Inequalities: a measure by ethnic category, age band, sex and learning disability/autism,
//! with rates, 95% confidence intervals and rate ratios against a reference group, small
//! numbers suppressed when the figures leave the organisation they describe.

use crate::AppState;
use crate::access;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::forest;
use crate::layout::{Choice, Layout};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use domain::access::Detail;
use domain::dates::{PeriodKind, iso, parse_date};
use domain::inequality::table;
use domain::measures::{Stratifier, catalogue, find};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default)]
pub struct IneqQuery {
    pub measure: Option<String>,
    pub org: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GroupRow {
    pub group: String,
    pub events: String,
    pub exposure: String,
    pub value: String,
    pub interval: String,
    pub ratio: String,
    pub ratio_interval: String,
    pub reference: bool,
    pub suppressed: bool,
    /// The interval of the ratio excludes 1.
    pub notable: bool,
}

pub struct Section {
    pub label: &'static str,
    pub rows: Vec<GroupRow>,
    /// The forest plot of the ratios (SVG; empty when there is nothing to compare).
    pub forest: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "inequalities.html")]
pub struct IneqPage {
    layout: Layout,
    measures: Vec<Choice>,
    orgs: Vec<Choice>,
    title: String,
    unit: &'static str,
    org_name: String,
    from: String,
    to: String,
    controlled: bool,
    sections: Vec<Section>,
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<IneqQuery>,
) -> Result<IneqPage, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let code = access::requested_org(&user, &snap.orgs, q.org.as_deref())?;
    let viewing = access::view(&user, &snap.orgs, &code)?;
    let measure_id = q
        .measure
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or("ri_rate");
    let measure = find(measure_id).ok_or(AppError::NotFound)?;
    if !measure.stratifiable() {
        return Err(AppError::BadRequest(format!(
            "{} cannot be broken down by patient characteristics; choose a measure from the list.",
            measure.title
        )));
    }
    let Some((first, last)) = snap.range else {
        return Err(AppError::BadRequest("There is no data yet.".into()));
    };
    let day = |s: &Option<String>, default| -> Result<time::Date, AppError> {
        match s.as_deref().filter(|s| !s.is_empty()) {
            Some(d) => parse_date(d).map_err(|e| AppError::BadRequest(format!("date: {e}"))),
            None => Ok(default),
        }
    };
    // By default the latest twelve months: recent enough to act on, large enough to show groups.
    let default_from = PeriodKind::Month
        .starts_between(first, last)
        .iter()
        .rev()
        .nth(11)
        .copied()
        .unwrap_or(first);
    let (from, to) = (day(&q.from, default_from)?, day(&q.to, last)?);
    let policy = viewing.policy();
    let scope = Some((viewing.org.level, viewing.org.code.clone()));
    let mut sections = Vec::new();
    let every = state
        .store
        .stratified_each(&measure, scope.clone(), from, to, &Stratifier::ALL)
        .await?;
    for (by, strata) in Stratifier::ALL.into_iter().zip(every) {
        let rows = table(
            &measure,
            by,
            &strata
                .iter()
                .map(|r| (r.group.clone(), r.numerator, r.denominator))
                .collect::<Vec<_>>(),
            policy.as_ref(),
        );
        let f = |x: f64| format!("{x:.2}");
        let groups: Vec<forest::Group<'_>> = rows
            .iter()
            .map(|r| forest::Group {
                label: &r.group,
                mark: if r.suppressed {
                    forest::Mark::Text("suppressed")
                } else if r.reference {
                    forest::Mark::Reference
                } else if let Some(x) = r.ratio {
                    forest::Mark::Ratio {
                        value: x.value,
                        lower: x.lower,
                        upper: x.upper,
                    }
                } else {
                    forest::Mark::Text("no ratio")
                },
            })
            .collect();
        let ratio_name = if measure.is_proportion() {
            "risk ratio"
        } else {
            "rate ratio"
        };
        let plot = forest::render(
            &groups,
            &forest::Labels {
                id: &format!("forest-{}", sections.len()),
                title: &format!(
                    "{}: {ratio_name}s with 95% confidence intervals",
                    by.label()
                ),
                ratio: ratio_name,
            },
        );
        sections.push(Section {
            label: by.label(),
            forest: plot,
            rows: rows
                .into_iter()
                .map(|r| GroupRow {
                    events: r.numerator.to_string(),
                    exposure: r.denominator.to_string(),
                    value: r.estimate.map(|e| f(e.value)).unwrap_or_else(|| {
                        if r.suppressed {
                            "*".into()
                        } else {
                            "–".into()
                        }
                    }),
                    interval: r
                        .estimate
                        .map(|e| format!("{} to {}", f(e.lower), f(e.upper)))
                        .unwrap_or_default(),
                    ratio: if r.reference {
                        "reference".into()
                    } else {
                        r.ratio.map(|x| f(x.value)).unwrap_or_else(|| "–".into())
                    },
                    ratio_interval: r
                        .ratio
                        .map(|x| format!("{} to {}", f(x.lower), f(x.upper)))
                        .unwrap_or_default(),
                    notable: r.ratio.is_some_and(|x| x.lower > 1.0 || x.upper < 1.0),
                    reference: r.reference,
                    suppressed: r.suppressed,
                    group: r.group,
                })
                .collect(),
        });
    }
    let mut orgs: Vec<Choice> = Vec::new();
    let candidates = snap
        .orgs
        .region()
        .into_iter()
        .chain(snap.orgs.trusts())
        .chain(user.grant.ward.as_deref().and_then(|w| snap.orgs.get(w)));
    for o in candidates {
        if user.grant.detail(&snap.orgs.place(o)) != Detail::None {
            orgs.push(Choice::new(
                o.code.clone(),
                o.name.clone(),
                o.code == viewing.org.code,
            ));
        }
    }
    if !orgs.iter().any(|o| o.selected) {
        orgs.push(Choice::new(
            viewing.org.code.clone(),
            viewing.org.name.clone(),
            true,
        ));
    }
    Ok(IneqPage {
        layout: Layout::new("Inequalities", &user, "/inequalities"),
        measures: catalogue()
            .into_iter()
            .filter(|m| m.stratifiable())
            .map(|m| Choice::new(m.id, m.title, m.id == measure.id))
            .collect(),
        orgs,
        title: measure.title.into(),
        unit: measure.breakdown_scale().1,
        org_name: viewing.org.name.clone(),
        from: iso(from),
        to: iso(to),
        controlled: policy.is_some(),
        sections,
    })
}
