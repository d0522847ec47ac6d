//! Quality improvement projects (issue 11; docs/qi.md, docs/web.md "Quality improvement"): the
//! programme view of every project the user may see with its suggested and set score, the form
//! to register a project, and the project page (aim, team, family of measures charted with SPC
//! and the project's PDSA cycles as dated notes, the driver diagram as SVG and text, the cycles,
//! the suggested score with its rule and evidence, and the score set by hand), with a form for
//! each change. The record's rules are the `qi` crate's; every change is checked there first,
//! refused whole with the field named, or saved and audited by the store in one transaction.
//!
//! Access is `domain::access`: a project is seen as its organisation's figures are (403
//! otherwise), and changed by those who may annotate that organisation's charts (programme
//! admins, the trust's leads, the ward's users for a ward project). The charts and the
//! suggestion a disclosure-controlled viewer sees are worked out from the disclosure-controlled
//! figures, as on the chart pages.

use super::org::series_key;
use crate::AppState;
use crate::access::{self, Viewing};
use crate::auth::CurrentUser;
use crate::cache::Snapshot;
use crate::chart;
use crate::error::AppError;
use crate::layout::{Choice, Layout};
use crate::orgs::Org;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::access::Detail;
use domain::dates::{PeriodKind, iso};
use qi::{
    Act, Aim, Cycle, DiagramEdit, Do, FamilyMeasure, MeasureRef, MeasureRole, MeasureSeries,
    Organisation, Plan, Prediction, Project, QiError, Spread, SpreadSeries, Status, Suggestion,
    TeamMember, TeamRole,
};
use serde::Deserialize;
use std::collections::HashMap;
use store::qi::{OwnMeasure, OwnValue, ScoreRow, StoredProject};
use time::Date;

// ---------------------------------------------------------------------------------------------
// Loading, access and the charts of a project's measures

/// A project as a page needs it: the record, who may do what, the own measures and values.
pub(crate) struct Loaded {
    pub sp: StoredProject,
    pub viewing: Viewing,
    pub can_edit: bool,
    pub own: Vec<OwnMeasure>,
    pub values: Vec<OwnValue>,
}

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

/// May the user change projects of `org`? Those who may annotate its charts.
fn can_edit(user: &CurrentUser, snap: &Snapshot, org: &Org) -> bool {
    user.grant.can_annotate(&snap.orgs.place(org))
}

pub(crate) async fn load(
    state: &AppState,
    snap: &Snapshot,
    user: &CurrentUser,
    id: &str,
) -> Result<Loaded, AppError> {
    let id: i64 = id.trim().parse().map_err(|_| AppError::NotFound)?;
    let sp = state
        .store
        .qi_project(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let viewing = access::view(user, &snap.orgs, &sp.project.organisation.code)?;
    let can_edit = can_edit(user, snap, &viewing.org);
    let own = state.store.qi_own_measures(id).await?;
    let values = disclose_own(&viewing, state.store.qi_values(id).await?);
    Ok(Loaded {
        sp,
        viewing,
        can_edit,
        own,
        values,
    })
}

/// The team's own values as `viewing`'s user may see them. Under disclosure control a measure
/// whose values are all whole numbers may be a count of patients' events ("restraints a
/// week"), so each of its values passes the count rule (`Policy::count`: under 5 left out, as
/// a gap; others rounded to 5); a measure with any fractional value (a percentage, a mean) is
/// not a count and is shown as entered.
fn disclose_own(viewing: &Viewing, values: Vec<OwnValue>) -> Vec<OwnValue> {
    let Some(policy) = viewing.policy() else {
        return values;
    };
    let counts: std::collections::HashSet<String> = values
        .iter()
        .map(|v| v.measure.clone())
        .filter(|m| {
            values
                .iter()
                .filter(|v| &v.measure == m)
                .all(|v| v.value >= 0.0 && v.value.fract() == 0.0)
        })
        .collect();
    values
        .into_iter()
        .filter_map(|mut v| {
            if counts.contains(&v.measure) {
                v.value = policy.count(v.value as u64).value()? as f64;
            }
            Some(v)
        })
        .collect()
}

/// Loads a project for a change: 404 when there is none, 403 when the user may not see it or
/// may not change it.
async fn load_for_edit(
    state: &AppState,
    snap: &Snapshot,
    user: &CurrentUser,
    id: &str,
) -> Result<Loaded, AppError> {
    let l = load(state, snap, user, id).await?;
    if !l.can_edit {
        return Err(AppError::Forbidden(format!(
            "Your account cannot change {}'s quality improvement projects. The trust's leads and, for a ward's project, the ward's users can.",
            l.viewing.org.name
        )));
    }
    Ok(l)
}

/// One measure of the family, charted.
pub(crate) struct FamilyChart {
    pub measure: MeasureRef,
    pub role: MeasureRole,
    pub name: String,
    pub unit: String,
    pub direction: spc::Direction,
    pub dates: Vec<Date>,
    /// `None` when the measure has no points yet.
    pub analysis: Option<spc::Analysis>,
    /// Empty unless drawn.
    pub svg: String,
    pub rows: Vec<RowView>,
    pub withheld: bool,
}

pub struct RowView {
    pub period: String,
    pub value: String,
    pub centre: String,
    pub limits: String,
    pub point_type: String,
    pub note: String,
}

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{}", (x * 100.0).round() / 100.0))
        .unwrap_or_default()
}

/// The family as charted: its members, and the aim's measure (as an outcome measure) when the
/// family does not list it.
fn family(p: &Project) -> Vec<FamilyMeasure> {
    let mut out = p.measures.clone();
    if let Some(a) = &p.aim
        && !out.iter().any(|m| m.measure == a.measure)
    {
        out.push(FamilyMeasure {
            role: MeasureRole::Outcome,
            measure: a.measure.clone(),
            name: measure_name(&a.measure, &[]),
        });
    }
    out
}

fn measure_name(m: &MeasureRef, own: &[OwnMeasure]) -> String {
    match m {
        MeasureRef::Catalogue(id) => domain::measures::find(id)
            .map(|m| m.title.to_string())
            .unwrap_or_else(|| id.clone()),
        MeasureRef::Project(id) => own
            .iter()
            .find(|o| &o.id == id)
            .map(|o| o.name.clone())
            .unwrap_or_else(|| id.clone()),
    }
}

/// The dated notes the cycles put on the charts: each cycle's Do start (with its end date), and
/// the act's date when it is an adoption. Notes in the same month are one note (dated by the
/// first), so that a ramp of short cycles stays readable on a monthly chart.
fn cycle_notes(p: &Project) -> Vec<(Date, String)> {
    let mut notes = Vec::new();
    for c in &p.cycles {
        if let Some(s) = c.do_.start {
            let ends = c
                .do_
                .end
                .map(|e| format!(" (ends {})", iso(e)))
                .unwrap_or_default();
            notes.push((s, format!("PDSA {} starts{ends}", c.id)));
        }
        if let Some(d) = c.adopted_on() {
            let rebased = if c.rebases_on().is_some() {
                ", chart rebased"
            } else {
                ""
            };
            notes.push((d, format!("PDSA {} adopted{rebased}", c.id)));
        }
    }
    notes.sort();
    let mut out: Vec<(Date, String)> = Vec::new();
    for (d, text) in notes {
        match out.last_mut() {
            Some((first, t)) if first.year() == d.year() && first.month() == d.month() => {
                t.push_str("; ");
                t.push_str(&text);
            }
            _ => out.push((d, text)),
        }
    }
    out
}

fn parse_direction(s: &str) -> spc::Direction {
    match s {
        "increase" => spc::Direction::Increase,
        "decrease" => spc::Direction::Decrease,
        _ => spc::Direction::Neutral,
    }
}

/// Charts every measure of the family for `viewing`'s user (disclosure control as on the chart
/// pages). `draw`: also the SVG and the table (the programme view needs the analyses only).
/// `until`: only the periods that start before it (the charts as they stood then).
pub(crate) async fn charts(
    state: &AppState,
    snap: &Snapshot,
    l: &Loaded,
    draw: bool,
    until: Option<Date>,
) -> Result<Vec<FamilyChart>, AppError> {
    let p = &l.sp.project;
    let org = &l.viewing.org;
    let policy = l.viewing.policy();
    let notes = cycle_notes(p);
    let mut out = Vec::new();
    let mut all = None;
    for fm in family(p) {
        // Adoptions the team chose to rebase this measure's chart at (the cycle predicted it).
        let rebases: Vec<Date> = p
            .cycles
            .iter()
            .filter(|c| c.prediction.measure == fm.measure)
            .filter_map(|c| c.rebases_on())
            .collect();
        let target = p
            .aim
            .as_ref()
            .filter(|a| a.measure == fm.measure)
            .map(|a| a.target);
        match &fm.measure {
            MeasureRef::Catalogue(id) => {
                let Some(m) = domain::measures::find(id) else {
                    continue;
                };
                if all.is_none() {
                    all = Some(
                        state
                            .cache
                            .series(&state.store, snap, series_key(org, PeriodKind::Month, None))
                            .await?,
                    );
                }
                let series_all = all.as_ref().expect("loaded above");
                let empty = store::measures::MeasureSeries {
                    measure: m.id,
                    org: org.code.clone(),
                    points: Vec::new(),
                };
                let found = series_all
                    .iter()
                    .find(|s| s.org == org.code && s.measure == m.id)
                    .unwrap_or(&empty);
                let cut;
                let series = match until {
                    Some(u) => {
                        cut = cut_series(found, u);
                        &cut
                    }
                    None => found,
                };
                let saved = snap.notes_for(&org.code, m.id);
                let req = chart::Request {
                    measure: &m,
                    series,
                    period: PeriodKind::Month,
                    title: format!("{}: {}", org.name, m.title),
                    annotations: &saved,
                    apply_rebase: true,
                    rebase_at: &rebases,
                    extra_notes: &notes,
                    freeze_before: None,
                    target,
                    disclosure: policy.as_ref(),
                };
                let withheld = chart::withheld(&req);
                let dates: Vec<Date> = if withheld {
                    Vec::new()
                } else {
                    series.points.iter().map(|p| p.period).collect()
                };
                let (analysis, svg, rows) = if dates.is_empty() {
                    (None, String::new(), Vec::new())
                } else if draw {
                    let c = chart::build(&req)?;
                    let rows = c
                        .rows
                        .iter()
                        .map(|r| RowView {
                            period: r.period.clone(),
                            value: num(r.value),
                            centre: num(r.centre),
                            limits: match (r.lower_limit, r.upper_limit) {
                                (Some(a), Some(b)) => {
                                    format!("{} to {}", num(Some(a)), num(Some(b)))
                                }
                                _ => String::new(),
                            },
                            point_type: r.point_type.clone(),
                            note: r.annotation.clone(),
                        })
                        .collect();
                    (Some(c.analysis), c.svg, rows)
                } else {
                    (
                        Some(chart::analyse(&req)?.analysis),
                        String::new(),
                        Vec::new(),
                    )
                };
                out.push(FamilyChart {
                    measure: fm.measure.clone(),
                    role: fm.role,
                    name: m.title.to_string(),
                    unit: m.unit.to_string(),
                    direction: m.direction,
                    dates,
                    analysis,
                    svg,
                    rows,
                    withheld,
                });
            }
            MeasureRef::Project(id) => {
                let Some(def) = l.own.iter().find(|o| &o.id == id) else {
                    continue;
                };
                let vals: Vec<&OwnValue> = l
                    .values
                    .iter()
                    .filter(|v| &v.measure == id && until.is_none_or(|u| v.month < u))
                    .collect();
                let direction = parse_direction(&def.direction);
                let mut dates = Vec::new();
                let mut ys = Vec::new();
                if let (Some(first), Some(last)) = (vals.first(), vals.last()) {
                    let mut d = first.month;
                    while d <= last.month {
                        dates.push(d);
                        ys.push(vals.iter().find(|v| v.month == d).map(|v| v.value));
                        d = PeriodKind::Month.next_start(d);
                    }
                }
                // As measures::chart does: a rebase inside the series starts a new segment at the
                // month that holds it.
                let end = dates.last().map(|l| PeriodKind::Month.next_start(*l));
                let mut segment_starts: Vec<usize> = rebases
                    .iter()
                    .filter(|d| end.is_some_and(|e| **d < e))
                    .map(|d| dates.partition_point(|x| x <= d).saturating_sub(1))
                    .filter(|&i| i > 0)
                    .collect();
                segment_starts.sort_unstable();
                segment_starts.dedup();
                let settings = spc::Settings {
                    direction,
                    target,
                    segment_starts,
                    ..spc::Settings::default()
                };
                let (analysis, svg, rows) = if dates.is_empty() {
                    (None, String::new(), Vec::new())
                } else {
                    let a = spc::analyse(&spc::Series::values(&ys), &settings)?;
                    if draw {
                        let labels: Vec<String> =
                            dates.iter().map(|d| PeriodKind::Month.label(*d)).collect();
                        let end = PeriodKind::Month.next_start(*dates.last().expect("not empty"));
                        let marks: Vec<spc::svg::Annotation> = notes
                            .iter()
                            .filter(|(d, _)| *d >= dates[0] && *d < end)
                            .map(|(d, t)| spc::svg::Annotation {
                                index: dates.partition_point(|x| x <= d).saturating_sub(1),
                                text: format!("{} {t}", iso(*d)),
                            })
                            .collect();
                        let title = format!("{}: {} (project measure)", org.name, def.name);
                        let svg = spc::svg::render(
                            &a,
                            &settings,
                            &spc::svg::Labels {
                                title: &title,
                                x_labels: &labels,
                                y_label: &def.unit,
                                annotations: &marks,
                            },
                        );
                        let rows = a
                            .points
                            .iter()
                            .enumerate()
                            .map(|(i, pt)| RowView {
                                period: labels[i].clone(),
                                value: num(pt.value),
                                centre: num(pt.centre),
                                limits: match (pt.lower_limit, pt.upper_limit) {
                                    (Some(x), Some(y)) => {
                                        format!("{} to {}", num(Some(x)), num(Some(y)))
                                    }
                                    _ => String::new(),
                                },
                                point_type: pt
                                    .point_type
                                    .map(|t| t.as_str().to_string())
                                    .unwrap_or_default(),
                                note: marks
                                    .iter()
                                    .filter(|m| m.index == i)
                                    .map(|m| m.text.as_str())
                                    .collect::<Vec<_>>()
                                    .join("; "),
                            })
                            .collect();
                        (Some(a), svg, rows)
                    } else {
                        (Some(a), String::new(), Vec::new())
                    }
                };
                out.push(FamilyChart {
                    measure: fm.measure.clone(),
                    role: fm.role,
                    name: def.name.clone(),
                    unit: def.unit.clone(),
                    direction,
                    dates,
                    analysis,
                    svg,
                    rows,
                    withheld: false,
                });
            }
        }
    }
    Ok(out)
}

/// A series' periods that start before `until`.
fn cut_series(s: &store::measures::MeasureSeries, until: Date) -> store::measures::MeasureSeries {
    store::measures::MeasureSeries {
        measure: s.measure,
        org: s.org.clone(),
        points: s
            .points
            .iter()
            .filter(|p| p.period < until)
            .cloned()
            .collect(),
    }
}

/// The evidence measure's chart on each ward the change spread to, as this user may see it
/// (a ward they may not see gives no evidence), with the periods before `until` if given.
async fn spread_charts(
    state: &AppState,
    snap: &Snapshot,
    user: &CurrentUser,
    p: &Project,
    until: Option<Date>,
) -> Result<Vec<(String, MeasureRef, spc::Direction, Vec<Date>, spc::Analysis)>, AppError> {
    let mut out = Vec::new();
    for s in &p.spread {
        let (Some(ward), MeasureRef::Catalogue(mid)) = (snap.orgs.get(&s.ward), &s.evidence) else {
            continue;
        };
        let detail = user.grant.detail(&snap.orgs.place(ward));
        if detail == Detail::None {
            continue;
        }
        let Some(m) = domain::measures::find(mid) else {
            continue;
        };
        let policy = (detail != Detail::Full).then(domain::disclosure::Policy::default);
        let all = state
            .cache
            .series(
                &state.store,
                snap,
                series_key(ward, PeriodKind::Month, None),
            )
            .await?;
        let Some(found) = all.iter().find(|x| x.org == ward.code && x.measure == m.id) else {
            continue;
        };
        let cut;
        let series = match until {
            Some(u) => {
                cut = cut_series(found, u);
                &cut
            }
            None => found,
        };
        let saved = snap.notes_for(&ward.code, m.id);
        let req = chart::Request::standard(
            &m,
            series,
            PeriodKind::Month,
            String::new(),
            &saved,
            policy.as_ref(),
        );
        if chart::withheld(&req) || series.points.is_empty() {
            continue;
        }
        let a = chart::analyse(&req)?.analysis;
        let dates = series.points.iter().map(|p| p.period).collect();
        out.push((ward.code.clone(), s.evidence.clone(), m.direction, dates, a));
    }
    Ok(out)
}

/// The suggested score from the charts (see docs/qi.md), as of `today` (the charts and the
/// spread evidence cut at the start of the next day's month).
pub(crate) async fn suggest(
    state: &AppState,
    snap: &Snapshot,
    user: &CurrentUser,
    p: &Project,
    charts: &[FamilyChart],
    until: Option<Date>,
    today: Date,
) -> Result<Result<Suggestion, QiError>, AppError> {
    let ms: Vec<MeasureSeries<'_>> = charts
        .iter()
        .filter_map(|c| {
            c.analysis.as_ref().map(|a| MeasureSeries {
                measure: &c.measure,
                direction: c.direction,
                dates: &c.dates,
                analysis: a,
            })
        })
        .collect();
    let spread = spread_charts(state, snap, user, p, until).await?;
    let ss: Vec<SpreadSeries<'_>> = spread
        .iter()
        .map(|(ward, m, dir, dates, a)| SpreadSeries {
            ward,
            series: MeasureSeries {
                measure: m,
                direction: *dir,
                dates,
                analysis: a,
            },
        })
        .collect();
    Ok(qi::suggest(p, today, &ms, &ss))
}

// ---------------------------------------------------------------------------------------------
// The programme view

pub struct ListRow {
    pub id: i64,
    pub title: String,
    pub org_code: String,
    pub org_name: String,
    pub level: &'static str,
    pub status: &'static str,
    pub suggested: String,
    pub suggested_name: String,
    pub set: String,
    pub set_reason: String,
    pub cycles: usize,
}

pub struct HistoryRow {
    pub month: String,
    /// Projects at 5.0, 4.5, ... 0.5.
    pub counts: Vec<String>,
    pub total: usize,
}

pub struct LevelCount {
    pub score: String,
    pub name: &'static str,
    pub suggested: usize,
    pub set: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "qi/list.html")]
pub struct ListPage {
    layout: Layout,
    rows: Vec<ListRow>,
    levels: Vec<LevelCount>,
    /// The chart of projects at each level by month, and its table (levels 5.0 first).
    history_svg: String,
    history_rows: Vec<HistoryRow>,
    can_create: bool,
}

/// A project as the programme view and the API list it.
pub(crate) struct Listed {
    pub sp: StoredProject,
    pub org_name: String,
    pub suggestion: Result<Suggestion, QiError>,
    pub set: Option<ScoreRow>,
    /// The suggested score at the end of each month of the programme view's history (asked
    /// for by `listed(.., true)`), oldest first; the current month is `suggestion`.
    pub history: Vec<(Date, qi::Score)>,
}

/// Months the programme view's chart goes back, the current month included.
const HISTORY_MONTHS: usize = 36;

fn month_start(d: Date) -> Date {
    d.replace_day(1).unwrap_or(d)
}

fn next_month(d: Date) -> Date {
    PeriodKind::Month.next_start(month_start(d))
}

/// The months of the programme view's chart: the last `HISTORY_MONTHS`, to this month.
fn history_months() -> Vec<Date> {
    let mut m = month_start(today());
    let mut out = vec![m];
    while out.len() < HISTORY_MONTHS {
        m = month_start(m - time::Duration::days(1));
        out.push(m);
    }
    out.reverse();
    out
}

/// The suggested score at the end of each past month of the chart, from the record as it
/// stood then (`qi::programme::as_of`) and the charts cut at the month's end, from the month of
/// the project's first dated event (its first cycle's start, or its registration).
async fn history(
    state: &AppState,
    snap: &Snapshot,
    user: &CurrentUser,
    l: &Loaded,
) -> Result<Vec<(Date, qi::Score)>, AppError> {
    let p = &l.sp.project;
    let registered =
        l.sp.created_at
            .get(..10)
            .and_then(|d| domain::dates::parse_date(d).ok());
    let Some(first) = [p.first_cycle_start(), registered]
        .into_iter()
        .flatten()
        .min()
    else {
        return Ok(Vec::new());
    };
    let current = month_start(today());
    let mut out = Vec::new();
    for m in history_months() {
        if m < month_start(first) || m >= current {
            continue;
        }
        let until = next_month(m);
        let day = until - time::Duration::days(1);
        let then = Loaded {
            sp: StoredProject {
                project: qi::programme::as_of(p, day),
                ..l.sp.clone()
            },
            viewing: l.viewing.clone(),
            can_edit: false,
            own: l.own.clone(),
            values: l.values.clone(),
        };
        let cs = charts(state, snap, &then, false, Some(until)).await?;
        if let Ok(s) = suggest(state, snap, user, &then.sp.project, &cs, Some(until), day).await? {
            out.push((m, s.score));
        }
    }
    Ok(out)
}

/// Every project the user may see, with its suggested and set scores (and, with
/// `with_history`, its suggested score month by month).
pub(crate) async fn listed(
    state: &AppState,
    user: &CurrentUser,
    with_history: bool,
) -> Result<Vec<Listed>, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let mut set = state.store.qi_latest_scores().await?;
    let mut own = state.store.qi_all_own().await?;
    let mut out = Vec::new();
    for sp in state.store.qi_projects().await? {
        let Ok(viewing) = access::view(user, &snap.orgs, &sp.project.organisation.code) else {
            continue;
        };
        let (own, values) = own.remove(&sp.id).unwrap_or_default();
        let values = disclose_own(&viewing, values);
        let l = Loaded {
            can_edit: false,
            viewing,
            own,
            values,
            sp,
        };
        let charts = charts(state, &snap, &l, false, None).await?;
        let suggestion = suggest(state, &snap, user, &l.sp.project, &charts, None, today()).await?;
        let history = if with_history {
            history(state, &snap, user, &l).await?
        } else {
            Vec::new()
        };
        out.push(Listed {
            org_name: l.viewing.org.name.clone(),
            set: set.remove(&l.sp.id),
            suggestion,
            sp: l.sp,
            history,
        });
    }
    Ok(out)
}

/// Organisations (wards, sites, trusts) whose projects the user may register and change.
fn editable_orgs(user: &CurrentUser, snap: &Snapshot) -> Vec<Org> {
    let mut out: Vec<Org> = Vec::new();
    let mut push = |o: Option<&Org>| {
        if let Some(o) = o
            && can_edit(user, snap, o)
            && !out.iter().any(|x| x.code == o.code)
        {
            out.push(o.clone());
        }
    };
    for t in snap.orgs.trusts() {
        push(Some(t));
        for w in snap.orgs.wards_of(&t.code) {
            push(snap.orgs.get(&w.site_code));
        }
        for w in snap.orgs.wards_of(&t.code) {
            push(snap.orgs.get(&w.code));
        }
    }
    out
}

pub async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<ListPage, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let listed = listed(&state, &user, true).await?;
    let months = history_months();
    let current = month_start(today());
    let by_month: Vec<Vec<qi::Score>> = months
        .iter()
        .map(|m| {
            listed
                .iter()
                .filter_map(|l| {
                    if *m == current {
                        l.suggestion.as_ref().ok().map(|s| s.score)
                    } else {
                        l.history.iter().find(|(d, _)| d == m).map(|(_, s)| *s)
                    }
                })
                .collect()
        })
        .collect();
    // From the first month with a project in it.
    let first = by_month
        .iter()
        .position(|v| !v.is_empty())
        .unwrap_or(months.len());
    let history = qi::programme::Levels::count(&months[first..], &by_month[first..]);
    let history_svg = qi::programme::levels_svg(
        &history,
        "Projects at each level of the scale, by month (suggested)",
    );
    let history_rows: Vec<HistoryRow> = history
        .months
        .iter()
        .zip(&history.counts)
        .map(|(m, c)| HistoryRow {
            month: qi::programme::month_label(*m),
            counts: c.iter().rev().map(|n| n.to_string()).collect(),
            total: c.iter().sum(),
        })
        .collect();
    let mut levels: Vec<LevelCount> = qi::RULES
        .iter()
        .rev()
        .map(|r| LevelCount {
            score: r.score.to_string(),
            name: r.name,
            suggested: 0,
            set: 0,
        })
        .collect();
    let mut rows = Vec::new();
    for l in listed {
        let p = &l.sp.project;
        let (suggested, suggested_name) = match &l.suggestion {
            Ok(s) => (s.score.to_string(), s.rule.name.to_string()),
            Err(e) => (String::new(), format!("Not worked out: {e}")),
        };
        for c in levels.iter_mut() {
            if l.suggestion
                .as_ref()
                .is_ok_and(|s| s.score.to_string() == c.score)
            {
                c.suggested += 1;
            }
            if l.set
                .as_ref()
                .is_some_and(|s| s.score.to_string() == c.score)
            {
                c.set += 1;
            }
        }
        rows.push(ListRow {
            id: l.sp.id,
            title: p.title.clone(),
            org_code: p.organisation.code.clone(),
            org_name: l.org_name.clone(),
            level: p.organisation.level.as_str(),
            status: p.status.as_str(),
            suggested,
            suggested_name,
            set: l
                .set
                .as_ref()
                .map(|s| s.score.to_string())
                .unwrap_or_default(),
            set_reason: l.set.as_ref().map(|s| s.reason.clone()).unwrap_or_default(),
            cycles: p.cycles.len(),
        });
    }
    Ok(ListPage {
        layout: Layout::new("Quality improvement projects", &user, "/qi"),
        rows,
        levels,
        history_svg,
        history_rows,
        can_create: !editable_orgs(&user, &snap).is_empty(),
    })
}

// ---------------------------------------------------------------------------------------------
// Registering a project

#[derive(Template, WebTemplate)]
#[template(path = "qi/new.html")]
pub struct NewPage {
    layout: Layout,
    orgs: Vec<Choice>,
    title: String,
    charter: String,
    error: Vec<String>,
}

#[derive(Deserialize, Default)]
pub struct NewForm {
    #[serde(default)]
    pub org: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub charter: String,
}

fn new_page(user: &CurrentUser, snap: &Snapshot, f: &NewForm, error: Vec<String>) -> NewPage {
    NewPage {
        layout: Layout::new("New quality improvement project", user, "/qi"),
        orgs: editable_orgs(user, snap)
            .into_iter()
            .map(|o| {
                let label = format!("{} ({}, {})", o.name, o.code, level_label(o.level));
                let selected = o.code.eq_ignore_ascii_case(f.org.trim());
                Choice::new(o.code, label, selected)
            })
            .collect(),
        title: f.title.clone(),
        charter: f.charter.clone(),
        error,
    }
}

fn level_label(l: domain::OrgLevel) -> &'static str {
    match l {
        domain::OrgLevel::Ward => "ward",
        domain::OrgLevel::Site => "site",
        domain::OrgLevel::Trust => "trust",
        domain::OrgLevel::Icb => "ICB",
        domain::OrgLevel::Region => "region",
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<NewPage, AppError> {
    let snap = state.cache.current(&state.store).await?;
    if editable_orgs(&user, &snap).is_empty() {
        return Err(AppError::Forbidden(
            "Your account cannot register quality improvement projects: trust leads and ward users can, for their own trust or ward.".into(),
        ));
    }
    Ok(new_page(&user, &snap, &NewForm::default(), Vec::new()))
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<NewForm>,
) -> Result<Response, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let code = f.org.trim().to_ascii_uppercase();
    let refuse = |msgs: Vec<String>| {
        let page = new_page(&user, &snap, &f, msgs);
        Ok((StatusCode::BAD_REQUEST, page).into_response())
    };
    if code.is_empty() {
        return refuse(vec![
            "Organisation (org): expected the ward, site or trust the project belongs to; found nothing".into(),
        ]);
    }
    let viewing = access::view(&user, &snap.orgs, &code)?;
    if !can_edit(&user, &snap, &viewing.org) {
        return Err(AppError::Forbidden(format!(
            "Your account cannot register projects for {}.",
            viewing.org.name
        )));
    }
    let level = match viewing.org.level {
        domain::OrgLevel::Ward => qi::OrgLevel::Ward,
        domain::OrgLevel::Site => qi::OrgLevel::Site,
        domain::OrgLevel::Trust => qi::OrgLevel::Trust,
        _ => {
            return refuse(vec![format!(
                "Organisation (org): expected a ward, a site or a trust; found {} ({})",
                viewing.org.name,
                level_label(viewing.org.level)
            )]);
        }
    };
    let mut p = Project::new(
        f.title.trim(),
        Organisation {
            level,
            code: viewing.org.code.clone(),
        },
    );
    p.charter = f.charter.trim().to_string();
    p.team.push(TeamMember {
        user: user.name.clone(),
        role: TeamRole::Lead,
    });
    if let Err(problems) = qi::validate_project(&p) {
        return refuse(messages(&problems));
    }
    let id = state.store.qi_create(&p, &user.name).await?;
    Ok(Redirect::to(&format!("/qi/{id}")).into_response())
}

// ---------------------------------------------------------------------------------------------
// The project page

pub struct ChartView {
    pub anchor: String,
    pub name: String,
    pub role: &'static str,
    pub kind: &'static str,
    pub unit: String,
    pub svg: String,
    pub rows: Vec<RowView>,
    pub href: String,
    pub withheld: bool,
    pub empty: bool,
}

pub struct CycleView {
    pub id: String,
    pub change_idea: String,
    pub change_idea_text: String,
    pub question: String,
    pub prediction: String,
    pub prediction_measure: String,
    pub direction: &'static str,
    pub prediction_text: String,
    pub who: String,
    pub what: String,
    pub where_: String,
    pub when: String,
    pub start: String,
    pub end: String,
    pub do_notes: String,
    pub study: String,
    pub act: &'static str,
    pub act_date: String,
    pub act_notes: String,
    pub next: String,
    pub state: &'static str,
    /// Links to the prediction's chart with limits frozen before the cycle started.
    pub study_href: String,
    pub rebase_href: String,
    /// The adoption rebases the project's chart of the predicted measure.
    pub rebase: bool,
}

pub struct EvidenceView {
    pub text: String,
    pub since: String,
}

pub struct NodeView {
    pub id: String,
    pub text: String,
    pub parents: String,
}

pub struct ScoreView {
    pub score: String,
    pub reason: String,
    pub user: String,
    pub at: String,
}

pub struct RuleView {
    pub score: String,
    pub name: &'static str,
    pub text: &'static str,
    pub current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "qi/project.html")]
pub struct ProjectPage {
    layout: Layout,
    id: i64,
    title: String,
    charter: String,
    org_code: String,
    org_name: String,
    level: &'static str,
    status: &'static str,
    statuses: Vec<Choice>,
    history: Vec<ScoreView>,
    team: Vec<(String, &'static str)>,
    aim_set: bool,
    aim_sentence: String,
    aim_measure: String,
    aim_baseline: String,
    aim_target: String,
    aim_date: String,
    charts: Vec<ChartView>,
    diagram_svg: String,
    diagram_html: String,
    diagram_aim: String,
    primaries: Vec<NodeView>,
    secondaries: Vec<NodeView>,
    change_ideas: Vec<NodeView>,
    cycles: Vec<CycleView>,
    ramps: Vec<String>,
    suggested: String,
    suggested_name: String,
    suggested_text: String,
    suggestion_error: String,
    evidence: Vec<EvidenceView>,
    next_score: String,
    next_missing: Vec<String>,
    set_score: Option<ScoreView>,
    scores: Vec<ScoreView>,
    rules: Vec<RuleView>,
    spread: Vec<String>,
    can_edit: bool,
    controlled: bool,
    today: String,
    family_choices: Vec<Choice>,
    catalogue_choices: Vec<Choice>,
    own_choices: Vec<Choice>,
    change_idea_choices: Vec<Choice>,
    cycle_choices: Vec<Choice>,
    ward_choices: Vec<Choice>,
    /// The form whose change was refused, its messages, and what was typed into it.
    error_form: String,
    errors: Vec<String>,
    echo: HashMap<String, String>,
}

impl ProjectPage {
    /// What was typed into `field` of `form`, when that form was refused (so it is not lost).
    pub fn v(&self, form: &str, field: &str) -> String {
        if self.error_form == form {
            self.echo.get(field).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    }
}

fn role_label(r: MeasureRole) -> &'static str {
    match r {
        MeasureRole::Outcome => "Outcome",
        MeasureRole::Process => "Process",
        MeasureRole::Balancing => "Balancing",
    }
}

fn team_label(r: TeamRole) -> &'static str {
    match r {
        TeamRole::Lead => "Lead",
        TeamRole::Sponsor => "Sponsor",
        TeamRole::Member => "Member",
    }
}

fn expected_label(e: qi::Expected) -> &'static str {
    match e {
        qi::Expected::Increase => "increase",
        qi::Expected::Decrease => "decrease",
        qi::Expected::NoChange => "no change",
    }
}

fn measure_value(m: &MeasureRef) -> String {
    match m {
        MeasureRef::Catalogue(id) => format!("catalogue:{id}"),
        MeasureRef::Project(id) => format!("project:{id}"),
    }
}

fn parse_measure_value(field: &str, text: &str) -> Result<MeasureRef, QiError> {
    let t = text.trim();
    match t.split_once(':') {
        Some(("catalogue", id)) if !id.is_empty() => Ok(MeasureRef::Catalogue(id.to_string())),
        Some(("project", id)) if !id.is_empty() => Ok(MeasureRef::Project(id.to_string())),
        _ => Err(QiError::new(
            field,
            "a measure of the project (catalogue:ID or project:ID)",
            format!("\"{t}\""),
        )),
    }
}

/// The people's names of the fields a form can refuse.
fn field_label(field: &str) -> &'static str {
    let f = field.rsplit('.').next().unwrap_or(field);
    let tail = field.split(']').next_back().unwrap_or(field);
    match field {
        "title" => "Title",
        "charter" => "Charter",
        "org" => "Organisation",
        "aim.measure" => "Aim's measure",
        "aim.baseline" => "Baseline value",
        "aim.target" => "Target value",
        "aim.target_date" => "Target date",
        "value" => "Value",
        "month" => "Month",
        "measure" => "Measure",
        "score" => "Score",
        "reason" => "Reason",
        "status" => "Status",
        "user" => "User",
        "role" => "Role",
        "direction" => "Better direction",
        _ if tail == ".do.end" => "End date",
        _ if tail == ".do.start" => "Start date",
        _ if tail.starts_with(".act") => "Act",
        _ if tail == ".question" => "Question",
        _ if tail.starts_with(".prediction") => "Prediction",
        _ if field.starts_with("cycles") && f == "next" => "Next cycle",
        _ if field.starts_with("cycles") => "Cycle",
        _ if field.starts_with("change_ideas") => "Change idea",
        _ if field.starts_with("secondaries") => "Secondary driver",
        _ if field.starts_with("primaries") => "Primary driver",
        _ if field.starts_with("measures") => "Measure",
        _ if field.starts_with("diagram") => "Driver diagram",
        _ if field.starts_with("spread") => "Spread",
        _ if field.starts_with("team") => "Team",
        _ => "",
    }
}

/// A refusal as the page shows it: "Label (field): expected ...; found ...".
fn message(e: &QiError) -> String {
    match field_label(&e.field) {
        "" => e.to_string(),
        label => format!(
            "{label} ({}): expected {}; found {}",
            e.field, e.expected, e.found
        ),
    }
}

fn messages(problems: &[QiError]) -> Vec<String> {
    problems.iter().map(message).collect()
}

async fn project_page(
    state: &AppState,
    snap: &Snapshot,
    user: &CurrentUser,
    l: Loaded,
    error_form: &str,
    errors: Vec<String>,
    echo: HashMap<String, String>,
) -> Result<ProjectPage, AppError> {
    let charts = charts(state, snap, &l, true, None).await?;
    let p = &l.sp.project;
    let suggestion = suggest(state, snap, user, p, &charts, None, today()).await?;
    let scores = state.store.qi_scores(l.sp.id).await?;
    let history = state.store.qi_status_history(l.sp.id).await?;
    let org = &l.viewing.org;
    let score_view = |s: &ScoreRow| ScoreView {
        score: s.score.to_string(),
        reason: s.reason.clone(),
        user: s.user.clone(),
        at: s.at.clone(),
    };
    let d = &p.diagram;
    let idea_text = |id: &str| {
        d.change_ideas
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.text.clone())
            .unwrap_or_default()
    };
    let fam = family(p);
    let cycles = p
        .cycles
        .iter()
        .map(|c| {
            let (study_href, rebase_href) = match (&c.prediction.measure, c.do_.start) {
                (MeasureRef::Catalogue(m), Some(s)) => (
                    format!("/chart/{}/{m}?period=month&freeze={}", org.code, iso(s)),
                    c.adopted_on()
                        .map(|a| {
                            format!(
                                "/chart/{}/{m}?period=month&rebase=off&at={}",
                                org.code,
                                iso(a)
                            )
                        })
                        .unwrap_or_default(),
                ),
                _ => (String::new(), String::new()),
            };
            CycleView {
                id: c.id.clone(),
                change_idea: c.change_idea.clone(),
                change_idea_text: idea_text(&c.change_idea),
                question: c.question.clone(),
                prediction: format!(
                    "{}: {}{}",
                    measure_name(&c.prediction.measure, &l.own),
                    expected_label(c.prediction.direction),
                    if c.prediction.text.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", c.prediction.text)
                    }
                ),
                prediction_measure: measure_value(&c.prediction.measure),
                direction: store::qi::expected_str(c.prediction.direction),
                prediction_text: c.prediction.text.clone(),
                who: c.plan.who.clone(),
                what: c.plan.what.clone(),
                where_: c.plan.where_.clone(),
                when: c.plan.when.clone(),
                start: c.do_.start.map(iso).unwrap_or_default(),
                end: c.do_.end.map(iso).unwrap_or_default(),
                do_notes: c.do_.notes.clone(),
                study: c.study.clone(),
                act: c.act.as_ref().map(|a| a.decision.as_str()).unwrap_or(""),
                act_date: c.act.as_ref().map(|a| iso(a.date)).unwrap_or_default(),
                act_notes: c.act.as_ref().map(|a| a.notes.clone()).unwrap_or_default(),
                next: c.next.clone().unwrap_or_default(),
                state: if c.act.is_some() {
                    "Decided"
                } else if c.is_done(today()) {
                    "Done, to study"
                } else if c.do_.start.is_some() {
                    "Running"
                } else {
                    "Planned"
                },
                study_href,
                rebase_href,
                rebase: c.rebases_on().is_some(),
            }
        })
        .collect();
    let ramps = qi::ramps(&p.cycles)
        .map(|rs| {
            rs.into_iter()
                .map(|r| r.cycles.join(" → "))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let (
        suggested,
        suggested_name,
        suggested_text,
        suggestion_error,
        evidence,
        next_score,
        next_missing,
    ) = match &suggestion {
        Ok(s) => (
            s.score.to_string(),
            s.rule.name.to_string(),
            s.rule.text.to_string(),
            String::new(),
            s.evidence
                .iter()
                .map(|e| EvidenceView {
                    text: e.text.clone(),
                    since: e.since.map(iso).unwrap_or_default(),
                })
                .collect(),
            s.next
                .as_ref()
                .map(|n| n.score.to_string())
                .unwrap_or_default(),
            s.next
                .as_ref()
                .map(|n| n.missing.clone())
                .unwrap_or_default(),
        ),
        Err(e) => (
            String::new(),
            String::new(),
            String::new(),
            e.to_string(),
            Vec::new(),
            String::new(),
            Vec::new(),
        ),
    };
    let aim = p.aim.as_ref();
    let catalogue_choices = domain::measures::catalogue()
        .into_iter()
        .map(|m| Choice::new(m.id, format!("{} ({})", m.title, m.unit), false))
        .collect();
    let ward_choices = snap
        .orgs
        .wards()
        .iter()
        .filter(|w| w.code != org.code && Some(&w.trust_code) == org.trust.as_ref())
        .map(|w| Choice::new(w.code.clone(), format!("{} ({})", w.name, w.code), false))
        .collect();
    Ok(ProjectPage {
        layout: Layout::new(format!("QI: {}", p.title), user, "/qi"),
        id: l.sp.id,
        title: p.title.clone(),
        charter: p.charter.clone(),
        org_code: org.code.clone(),
        org_name: org.name.clone(),
        level: p.organisation.level.as_str(),
        status: p.status.as_str(),
        statuses: [
            Status::Active,
            Status::Paused,
            Status::Completed,
            Status::Stopped,
        ]
        .into_iter()
        .map(|s| Choice::new(s.as_str(), s.as_str(), s == p.status))
        .collect(),
        history: history
            .iter()
            .map(|h| ScoreView {
                score: h.status.as_str().to_string(),
                reason: String::new(),
                user: h.user.clone(),
                at: h.at.clone(),
            })
            .collect(),
        team: p
            .team
            .iter()
            .map(|m| (m.user.clone(), team_label(m.role)))
            .collect(),
        aim_set: aim.is_some(),
        aim_sentence: aim
            .map(|a| {
                format!(
                    "{} from {} to {} by {}",
                    measure_name(&a.measure, &l.own),
                    num(Some(a.baseline)),
                    num(Some(a.target)),
                    iso(a.target_date)
                )
            })
            .unwrap_or_default(),
        aim_measure: aim.map(|a| measure_value(&a.measure)).unwrap_or_default(),
        aim_baseline: aim.map(|a| num(Some(a.baseline))).unwrap_or_default(),
        aim_target: aim.map(|a| num(Some(a.target))).unwrap_or_default(),
        aim_date: aim.map(|a| iso(a.target_date)).unwrap_or_default(),
        charts: charts
            .iter()
            .map(|c| ChartView {
                anchor: format!(
                    "measure-{}-{}",
                    if matches!(c.measure, MeasureRef::Project(_)) {
                        "project"
                    } else {
                        "catalogue"
                    },
                    c.measure.id()
                ),
                name: c.name.clone(),
                role: role_label(c.role),
                kind: if matches!(c.measure, MeasureRef::Project(_)) {
                    "the team's own measure"
                } else {
                    "catalogue measure"
                },
                unit: c.unit.clone(),
                svg: c.svg.clone(),
                rows: c
                    .rows
                    .iter()
                    .map(|r| RowView {
                        period: r.period.clone(),
                        value: r.value.clone(),
                        centre: r.centre.clone(),
                        limits: r.limits.clone(),
                        point_type: r.point_type.clone(),
                        note: r.note.clone(),
                    })
                    .collect(),
                href: match &c.measure {
                    MeasureRef::Catalogue(id) => format!("/chart/{}/{id}?period=month", org.code),
                    MeasureRef::Project(_) => String::new(),
                },
                withheld: c.withheld,
                empty: c.analysis.is_none(),
            })
            .collect(),
        diagram_svg: qi::driver_diagram_svg(d, &p.cycles, &format!("qi-{}", l.sp.id)),
        diagram_html: qi::driver_diagram_html(d, &p.cycles),
        diagram_aim: d.aim.clone(),
        primaries: d
            .primaries
            .iter()
            .map(|n| NodeView {
                id: n.id.clone(),
                text: n.text.clone(),
                parents: String::new(),
            })
            .collect(),
        secondaries: d
            .secondaries
            .iter()
            .map(|n| NodeView {
                id: n.id.clone(),
                text: n.text.clone(),
                parents: n.primaries.join(", "),
            })
            .collect(),
        change_ideas: d
            .change_ideas
            .iter()
            .map(|n| NodeView {
                id: n.id.clone(),
                text: n.text.clone(),
                parents: n.secondaries.join(", "),
            })
            .collect(),
        cycles,
        ramps,
        suggested,
        suggested_name,
        suggested_text,
        suggestion_error,
        evidence,
        next_score,
        next_missing,
        set_score: scores.first().map(score_view),
        scores: scores.iter().map(score_view).collect(),
        rules: qi::RULES
            .iter()
            .map(|r| RuleView {
                score: r.score.to_string(),
                name: r.name,
                text: r.text,
                current: suggestion.as_ref().is_ok_and(|s| s.score == r.score),
            })
            .collect(),
        spread: p
            .spread
            .iter()
            .map(|s| {
                format!(
                    "{} adopted change idea {} on {}; evidence: {}{}",
                    snap.orgs
                        .get(&s.ward)
                        .map(|o| o.name.clone())
                        .unwrap_or_else(|| s.ward.clone()),
                    s.change_idea,
                    iso(s.adopted),
                    measure_name(&s.evidence, &l.own),
                    if s.notes.is_empty() {
                        String::new()
                    } else {
                        format!(". {}", s.notes)
                    }
                )
            })
            .collect(),
        can_edit: l.can_edit,
        controlled: l.viewing.policy().is_some(),
        today: iso(today()),
        family_choices: fam
            .iter()
            .map(|m| {
                Choice::new(
                    measure_value(&m.measure),
                    format!(
                        "{} ({})",
                        measure_name(&m.measure, &l.own),
                        role_label(m.role).to_lowercase()
                    ),
                    false,
                )
            })
            .collect(),
        catalogue_choices,
        own_choices: l
            .own
            .iter()
            .map(|o| Choice::new(o.id.clone(), o.name.clone(), false))
            .collect(),
        change_idea_choices: d
            .change_ideas
            .iter()
            .map(|c| Choice::new(c.id.clone(), format!("{} ({})", c.text, c.id), false))
            .collect(),
        cycle_choices: p
            .cycles
            .iter()
            .map(|c| Choice::new(c.id.clone(), format!("{}: {}", c.id, c.question), false))
            .collect(),
        ward_choices,
        error_form: error_form.to_string(),
        errors,
        echo,
    })
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<ProjectPage, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let l = load(&state, &snap, &user, &id).await?;
    project_page(&state, &snap, &user, l, "", Vec::new(), HashMap::new()).await
}

// ---------------------------------------------------------------------------------------------
// Changes: each form posts here; a refusal re-renders the page (400) with the messages and
// what was typed, and changes nothing; a change is saved, audited, and redirects (303).

type Fields = HashMap<String, String>;

fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.get(name).map(|s| s.trim()).unwrap_or("")
}

async fn refused(
    state: &AppState,
    snap: &Snapshot,
    user: &CurrentUser,
    l: Loaded,
    form: &str,
    problems: Vec<QiError>,
    echo: Fields,
) -> Result<Response, AppError> {
    let page = project_page(state, snap, user, l, form, messages(&problems), echo).await?;
    Ok((StatusCode::BAD_REQUEST, page).into_response())
}

fn back(id: i64, anchor: &str) -> Response {
    Redirect::to(&format!("/qi/{id}#{anchor}")).into_response()
}

/// Saves a changed record after `qi::validate_project`, audited as `action`.
async fn save(
    state: &AppState,
    user: &CurrentUser,
    l: &Loaded,
    p: &Project,
    action: &str,
    detail: String,
) -> Result<(), AppError> {
    state
        .store
        .qi_save(
            l.sp.id,
            p,
            &user.name,
            action,
            &format!("project {}: {detail}", l.sp.id),
        )
        .await?;
    Ok(())
}

/// Title and charter.
pub async fn details(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let l = load_for_edit(&state, &snap, &user, &id).await?;
    let mut p = l.sp.project.clone();
    p.title = field(&f, "title").to_string();
    p.charter = field(&f, "charter").to_string();
    if let Err(problems) = qi::validate_project(&p) {
        return refused(&state, &snap, &user, l, "details", problems, f).await;
    }
    save(
        &state,
        &user,
        &l,
        &p,
        "qi_project_edited",
        format!("title and charter: {}", p.title),
    )
    .await?;
    Ok(back(l.sp.id, "project"))
}

pub async fn status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let l = load_for_edit(&state, &snap, &user, &id).await?;
    let Some(s) = store::qi::parse_status(field(&f, "status")) else {
        let e = QiError::new(
            "status",
            "active, paused, completed or stopped",
            format!("\"{}\"", field(&f, "status")),
        );
        return refused(&state, &snap, &user, l, "status", vec![e], f).await;
    };
    let mut p = l.sp.project.clone();
    let old = p.status;
    p.status = s;
    save(
        &state,
        &user,
        &l,
        &p,
        "qi_status_changed",
        format!("status {} to {}", old.as_str(), s.as_str()),
    )
    .await?;
    Ok(back(l.sp.id, "project"))
}

pub async fn team(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let l = load_for_edit(&state, &snap, &user, &id).await?;
    let login = field(&f, "user").to_string();
    let role = field(&f, "role");
    let mut p = l.sp.project.clone();
    let mut problems = Vec::new();
    if state.store.user_grant(&login).await?.is_none() {
        problems.push(QiError::new(
            "user",
            "the login of an existing user",
            format!("\"{login}\""),
        ));
    }
    let detail;
    if role == "remove" {
        if !p.team.iter().any(|m| m.user == login) {
            problems.push(QiError::new(
                "user",
                "a member of the team",
                format!("\"{login}\""),
            ));
        }
        p.team.retain(|m| m.user != login);
        detail = format!("team: {login} removed");
    } else {
        match store::qi::parse_team_role(role) {
            Some(r) => match p.team.iter_mut().find(|m| m.user == login) {
                Some(m) => m.role = r,
                None => p.team.push(TeamMember {
                    user: login.clone(),
                    role: r,
                }),
            },
            None => problems.push(QiError::new(
                "role",
                "lead, sponsor, member or remove",
                format!("\"{role}\""),
            )),
        }
        detail = format!("team: {login} as {role}");
    }
    if problems.is_empty()
        && let Err(more) = qi::validate_project(&p)
    {
        problems = more;
    }
    if !problems.is_empty() {
        return refused(&state, &snap, &user, l, "team", problems, f).await;
    }
    save(&state, &user, &l, &p, "qi_team_changed", detail).await?;
    Ok(back(l.sp.id, "team"))
}

/// The aim: its measure (of the catalogue or the team's own), baseline value (empty: the
/// centre line of the measure's chart as it stands), target value and date (not before today).
pub async fn aim(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let l = load_for_edit(&state, &snap, &user, &id).await?;
    let mut problems = Vec::new();
    let measure = match parse_measure_value("aim.measure", field(&f, "measure")) {
        Ok(m) => {
            let known = match &m {
                MeasureRef::Catalogue(id) => domain::measures::find(id).is_some(),
                MeasureRef::Project(id) => l.own.iter().any(|o| &o.id == id),
            };
            if !known {
                problems.push(QiError::new(
                    "aim.measure",
                    "a catalogue measure or one of the project's own measures",
                    format!("\"{}\"", field(&f, "measure")),
                ));
            }
            Some(m)
        }
        Err(e) => {
            problems.push(e);
            None
        }
    };
    let target = qi::parse_value("aim.target", field(&f, "target"))
        .map_err(|e| problems.push(e))
        .ok();
    let date = qi::dates::parse_date("aim.target_date", field(&f, "target_date"))
        .map_err(|e| problems.push(e))
        .ok();
    let baseline = if field(&f, "baseline").is_empty() {
        // Taken from the data: the centre line of the measure's latest segment.
        let mut found = None;
        if let Some(m) = &measure {
            let mut probe = l.sp.project.clone();
            probe.measures.retain(|x| &x.measure != m);
            probe.measures.push(FamilyMeasure {
                role: MeasureRole::Outcome,
                measure: m.clone(),
                name: String::new(),
            });
            let tmp = Loaded {
                sp: StoredProject {
                    project: probe,
                    ..l.sp.clone()
                },
                viewing: Viewing {
                    org: l.viewing.org.clone(),
                    detail: l.viewing.detail,
                },
                can_edit: true,
                own: l.own.clone(),
                values: l.values.clone(),
            };
            let cs = charts(&state, &snap, &tmp, false, None).await?;
            found = cs
                .iter()
                .find(|c| &c.measure == m)
                .and_then(|c| c.analysis.as_ref())
                .and_then(|a| a.segments.last())
                .and_then(|s| s.centre);
        }
        if found.is_none() && measure.is_some() {
            problems.push(QiError::new(
                "aim.baseline",
                "a number, or a measure whose chart has a centre line to take it from",
                "nothing",
            ));
        }
        found.map(|v| (v * 100.0).round() / 100.0)
    } else {
        qi::parse_value("aim.baseline", field(&f, "baseline"))
            .map_err(|e| problems.push(e))
            .ok()
    };
    let mut p = l.sp.project.clone();
    if let (Some(measure), Some(baseline), Some(target), Some(target_date), true) =
        (measure, baseline, target, date, problems.is_empty())
    {
        let a = Aim {
            measure,
            baseline,
            target,
            target_date,
        };
        if let Err(more) = qi::validate_aim(&a, today()) {
            problems.extend(more);
        }
        p.aim = Some(a);
        if problems.is_empty()
            && let Err(more) = qi::validate_project(&p)
        {
            problems.extend(more);
        }
    }
    if !problems.is_empty() {
        return refused(&state, &snap, &user, l, "aim", problems, f).await;
    }
    let a = p.aim.as_ref().expect("set above");
    let detail = format!(
        "aim: {} from {} to {} by {}",
        a.measure,
        a.baseline,
        a.target,
        iso(a.target_date)
    );
    save(&state, &user, &l, &p, "qi_aim_set", detail).await?;
    Ok(back(l.sp.id, "aim"))
}

fn parse_role(field_name: &str, text: &str) -> Result<MeasureRole, QiError> {
    store::qi::parse_role(text).ok_or_else(|| {
        QiError::new(
            field_name,
            "outcome, process or balancing",
            format!("\"{text}\""),
        )
    })
}

/// Adds a measure to the family: a catalogue measure (`kind=catalogue`, `measure`, `role`), or
/// one of the team's own (`kind=project`, `id`, `name`, `unit`, `direction`, `role`).
pub async fn add_measure(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let l = load_for_edit(&state, &snap, &user, &id).await?;
    let mut problems = Vec::new();
    let role = parse_role("role", field(&f, "role"))
        .map_err(|e| problems.push(e))
        .ok();
    let mut p = l.sp.project.clone();
    let form_name = if field(&f, "kind") == "project" {
        "own_measure"
    } else {
        "measure"
    };
    if field(&f, "kind") == "project" {
        let mid = field(&f, "id").to_string();
        let name = field(&f, "name").to_string();
        let direction = field(&f, "direction").to_string();
        if name.is_empty() {
            problems.push(QiError::new(
                "measures.name",
                "what the measure counts, e.g. \"% of shifts that held a safety huddle\"",
                "nothing",
            ));
        }
        if !store::qi::DIRECTIONS.contains(&direction.as_str()) {
            problems.push(QiError::new(
                "direction",
                "increase, decrease or neutral",
                format!("\"{direction}\""),
            ));
        }
        if l.own.iter().any(|o| o.id == mid) {
            problems.push(QiError::new(
                "measures.id",
                "an id no other measure of the project has",
                format!("\"{mid}\""),
            ));
        }
        if let Some(role) = role {
            p.measures.push(FamilyMeasure {
                role,
                measure: MeasureRef::Project(mid.clone()),
                name: name.clone(),
            });
        }
        if problems.is_empty()
            && let Err(more) = qi::validate_project(&p)
        {
            problems.extend(more);
        }
        if !problems.is_empty() {
            return refused(&state, &snap, &user, l, form_name, problems, f).await;
        }
        let unit = match field(&f, "unit") {
            "" => name.clone(),
            u => u.to_string(),
        };
        let own = OwnMeasure {
            id: mid,
            name,
            unit,
            direction,
        };
        state
            .store
            .qi_add_own_measure(l.sp.id, &own, role.expect("checked"), &user.name)
            .await?;
        return Ok(back(l.sp.id, "measures"));
    }
    let mid = field(&f, "measure").to_string();
    let m = domain::measures::find(&mid);
    if m.is_none() {
        problems.push(QiError::new(
            "measures.measure",
            "a measure of the catalogue (see /measures)",
            format!("\"{mid}\""),
        ));
    }
    if let (Some(m), Some(role)) = (m, role) {
        p.measures.push(FamilyMeasure {
            role,
            measure: MeasureRef::Catalogue(m.id.to_string()),
            name: m.title.to_string(),
        });
        if let Err(more) = qi::validate_project(&p) {
            problems.extend(more);
        }
    }
    if !problems.is_empty() {
        return refused(&state, &snap, &user, l, form_name, problems, f).await;
    }
    let added = p.measures.last().expect("pushed");
    let detail = format!(
        "measure added: {} as {}",
        added.measure,
        added.role.as_str()
    );
    save(&state, &user, &l, &p, "qi_measure_added", detail).await?;
    Ok(back(l.sp.id, "measures"))
}

/// A monthly value of one of the team's own measures (`measure`, `month` as YYYY-MM or a date
/// in the month, `value`).
pub async fn value(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let l = load_for_edit(&state, &snap, &user, &id).await?;
    let mut problems = Vec::new();
    let mid = field(&f, "measure").to_string();
    if !l.own.iter().any(|o| o.id == mid) {
        problems.push(QiError::new(
            "measure",
            "one of the project's own measures",
            format!("\"{mid}\""),
        ));
    }
    let month_text = field(&f, "month");
    let full = if month_text.len() == 7 {
        format!("{month_text}-01")
    } else {
        month_text.to_string()
    };
    let month = qi::dates::parse_date("month", &full)
        .map_err(|_| {
            QiError::new(
                "month",
                "a month as YYYY-MM, e.g. 2024-03",
                format!("\"{month_text}\""),
            )
        })
        .map_err(|e| problems.push(e))
        .ok();
    let v = qi::parse_value("value", field(&f, "value"))
        .map_err(|e| problems.push(e))
        .ok();
    if let Some(m) = month
        && m > today()
    {
        problems.push(QiError::new(
            "month",
            format!("a month that has begun (on or before {})", iso(today())),
            format!("\"{month_text}\""),
        ));
    }
    match (month, v, problems.is_empty()) {
        (Some(month), Some(v), true) => {
            state
                .store
                .qi_set_value(l.sp.id, &mid, month, v, &user.name)
                .await?;
            Ok(back(l.sp.id, &format!("measure-project-{mid}")))
        }
        _ => refused(&state, &snap, &user, l, "value", problems, f).await,
    }
}

/// The largest values file accepted (a few years of daily tallies is a few hundred kB).
const VALUES_FILE_LIMIT: usize = 5 * 1024 * 1024;

/// Values of the team's own measures from a file (`file`: CSV or Excel; monthly values or
/// daily tallies, `ingest::qi_values`): all written in one transaction, or none, with every
/// problem named by file, line and column.
pub async fn values_file(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    mut form: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let l = load_for_edit(&state, &snap, &user, &id).await?;
    let mut file = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("The file was not received whole: {e}")))?
    {
        if field.name() == Some("file") {
            let name = field
                .file_name()
                .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "values.csv".into());
            let bytes = field.bytes().await.map_err(|e| {
                AppError::BadRequest(format!("The file was not received whole: {e}"))
            })?;
            file = Some((name, bytes));
        }
    }
    let refuse = |l, message: String| async {
        let page = project_page(
            &state,
            &snap,
            &user,
            l,
            "values-file",
            vec![message],
            HashMap::new(),
        )
        .await?;
        Ok::<_, AppError>((StatusCode::BAD_REQUEST, page).into_response())
    };
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return refuse(
            l,
            "File (file): expected a CSV or Excel file of values; found no file".into(),
        )
        .await;
    };
    if bytes.len() > VALUES_FILE_LIMIT {
        return refuse(
            l,
            format!(
                "File (file): expected a file of at most 5 MB; found {:.1} MB",
                bytes.len() as f64 / 1_048_576.0
            ),
        )
        .await;
    }
    let own: Vec<&str> = l.own.iter().map(|o| o.id.as_str()).collect();
    match ingest::qi_values::read(&name, &bytes, &own, today()) {
        Ok(read) => {
            let values: Vec<(String, Date, f64)> = read
                .values
                .into_iter()
                .map(|v| (v.measure, v.month, v.value))
                .collect();
            state
                .store
                .qi_set_values(l.sp.id, &values, &name, &user.name)
                .await?;
            Ok(back(l.sp.id, "measures"))
        }
        Err(problems) => {
            let mut page = project_page(
                &state,
                &snap,
                &user,
                l,
                "values-file",
                problems.iter().map(|p| p.to_string()).collect(),
                HashMap::new(),
            )
            .await?;
            page.errors.insert(
                0,
                format!("The file {name} was not read: nothing was changed."),
            );
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
    }
}

fn parents(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A free id for a new node or cycle: `prefix` and the first number not in use.
fn free_id(prefix: &str, used: &[&str]) -> String {
    (1..)
        .map(|n| format!("{prefix}{n}"))
        .find(|id| !used.contains(&id.as_str()))
        .expect("a free id")
}

/// One edit of the driver diagram (`edit`: set_aim, add_primary, add_secondary,
/// add_change_idea, rename, link, unlink, remove), through `qi::apply_edit`.
pub async fn diagram(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let l = load_for_edit(&state, &snap, &user, &id).await?;
    let p0 = &l.sp.project;
    let d = &p0.diagram;
    let used: Vec<&str> = d
        .primaries
        .iter()
        .map(|n| n.id.as_str())
        .chain(d.secondaries.iter().map(|n| n.id.as_str()))
        .chain(d.change_ideas.iter().map(|n| n.id.as_str()))
        .collect();
    let id_or = |prefix: &str| match field(&f, "id") {
        "" => free_id(prefix, &used),
        s => s.to_string(),
    };
    let text = field(&f, "text").to_string();
    let kind = field(&f, "edit");
    let edit = match kind {
        "set_aim" => Some(DiagramEdit::SetAim { text }),
        "add_primary" => Some(DiagramEdit::AddPrimary {
            id: id_or("p"),
            text,
        }),
        "add_secondary" => Some(DiagramEdit::AddSecondary {
            id: id_or("s"),
            text,
            primaries: parents(field(&f, "parents")),
        }),
        "add_change_idea" => Some(DiagramEdit::AddChangeIdea {
            id: id_or("ci"),
            text,
            secondaries: parents(field(&f, "parents")),
        }),
        "rename" => Some(DiagramEdit::Rename {
            id: field(&f, "id").to_string(),
            text,
        }),
        "link" => Some(DiagramEdit::Link {
            child: field(&f, "child").to_string(),
            parent: field(&f, "parent").to_string(),
        }),
        "unlink" => Some(DiagramEdit::Unlink {
            child: field(&f, "child").to_string(),
            parent: field(&f, "parent").to_string(),
        }),
        "remove" => Some(DiagramEdit::Remove {
            id: field(&f, "id").to_string(),
        }),
        _ => None,
    };
    // The form the refusal points at (link and unlink share one).
    let form_name = match kind {
        "link" | "unlink" => "diagram_link".to_string(),
        "set_aim" | "add_primary" | "add_secondary" | "add_change_idea" | "rename" | "remove" => {
            format!("diagram_{kind}")
        }
        _ => "diagram_set_aim".to_string(),
    };
    let Some(edit) = edit else {
        let e = QiError::new(
            "diagram.edit",
            "set_aim, add_primary, add_secondary, add_change_idea, rename, link, unlink or remove",
            format!("\"{kind}\""),
        );
        return refused(&state, &snap, &user, l, &form_name, vec![e], f).await;
    };
    let new = match qi::apply_edit(d, &p0.cycles, &edit) {
        Ok(new) => new,
        Err(e) => return refused(&state, &snap, &user, l, &form_name, vec![e], f).await,
    };
    let mut p = p0.clone();
    p.diagram = new;
    if let Err(problems) = qi::validate_project(&p) {
        return refused(&state, &snap, &user, l, &form_name, problems, f).await;
    }
    let detail = format!(
        "diagram: {}",
        serde_json::to_string(&edit).unwrap_or_default()
    );
    save(&state, &user, &l, &p, "qi_diagram_edited", detail).await?;
    Ok(back(l.sp.id, "diagram"))
}

/// A cycle from the form's fields; `id` is the cycle's id.
fn cycle_from(f: &Fields, id: &str, problems: &mut Vec<QiError>) -> Option<Cycle> {
    let at = |name: &str| format!("cycles[{id}].{name}");
    let date = |name: &str, key: &str, problems: &mut Vec<QiError>| match field(f, key) {
        "" => None,
        t => qi::dates::parse_date(&at(name), t)
            .map_err(|e| problems.push(e))
            .ok(),
    };
    let measure = parse_measure_value(&at("prediction.measure"), field(f, "prediction_measure"))
        .map_err(|e| problems.push(e))
        .ok();
    let direction = store::qi::parse_expected(field(f, "prediction_direction"));
    if direction.is_none() {
        problems.push(QiError::new(
            at("prediction.direction"),
            "increase, decrease or no_change",
            format!("\"{}\"", field(f, "prediction_direction")),
        ));
    }
    let start = date("do.start", "start", problems);
    let end = date("do.end", "end", problems);
    let act = match field(f, "act") {
        "" => None,
        t => match store::qi::parse_decision(t) {
            Some(decision) => match field(f, "act_date") {
                "" => {
                    problems.push(QiError::new(
                        at("act.date"),
                        "the date of the decision (YYYY-MM-DD)",
                        "nothing",
                    ));
                    None
                }
                d => qi::dates::parse_date(&at("act.date"), d)
                    .map_err(|e| problems.push(e))
                    .ok()
                    .map(|date| Act {
                        decision,
                        date,
                        notes: field(f, "act_notes").to_string(),
                        rebase: !field(f, "act_rebase").is_empty(),
                    }),
            },
            None => {
                problems.push(QiError::new(
                    at("act"),
                    "adopt, adapt or abandon",
                    format!("\"{t}\""),
                ));
                None
            }
        },
    };
    Some(Cycle {
        id: id.to_string(),
        change_idea: field(f, "change_idea").to_string(),
        question: field(f, "question").to_string(),
        prediction: Prediction {
            measure: measure?,
            direction: direction?,
            text: field(f, "prediction_text").to_string(),
        },
        plan: Plan {
            who: field(f, "who").to_string(),
            what: field(f, "what").to_string(),
            where_: field(f, "where").to_string(),
            when: field(f, "when").to_string(),
        },
        do_: Do {
            start,
            end,
            notes: field(f, "do_notes").to_string(),
        },
        study: field(f, "study").to_string(),
        act,
        next: None,
    })
}

/// Checks a cycle and the project with it: `qi::validate_cycle`, then the whole record.
fn check_cycle(p: &Project, c: &Cycle, problems: &mut Vec<QiError>) {
    if let Err(more) = qi::validate_cycle(c) {
        problems.extend(more);
    }
    if problems.is_empty()
        && let Err(more) = qi::validate_project(p)
    {
        problems.extend(more);
    }
}

/// Logs a new cycle; `follows` (optional) names the cycle it comes after in a ramp.
pub async fn add_cycle(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let l = load_for_edit(&state, &snap, &user, &id).await?;
    let mut p = l.sp.project.clone();
    let used: Vec<&str> = p.cycles.iter().map(|c| c.id.as_str()).collect();
    let cid = match field(&f, "id") {
        "" => free_id("c", &used),
        s => s.to_string(),
    };
    let mut problems = Vec::new();
    let Some(c) = cycle_from(&f, &cid, &mut problems) else {
        return refused(&state, &snap, &user, l, "cycle_new", problems, f).await;
    };
    p.cycles.push(c.clone());
    if let Some(prev) = Some(field(&f, "follows")).filter(|s| !s.is_empty()) {
        match qi::link_next(&p.cycles, prev, Some(&cid)) {
            Ok(cs) => p.cycles = cs,
            Err(e) => problems.push(e),
        }
    }
    check_cycle(&p, &c, &mut problems);
    if !problems.is_empty() {
        return refused(&state, &snap, &user, l, "cycle_new", problems, f).await;
    }
    let detail = format!("cycle {cid} logged: {}", c.question);
    save(&state, &user, &l, &p, "qi_cycle_logged", detail).await?;
    Ok(back(l.sp.id, &format!("cycle-{cid}")))
}

/// Updates a cycle (do, study, act, and its next cycle `next`).
pub async fn update_cycle(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, cid)): Path<(String, String)>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let l = load_for_edit(&state, &snap, &user, &id).await?;
    let mut p = l.sp.project.clone();
    let Some(i) = p.cycles.iter().position(|c| c.id == cid) else {
        return Err(AppError::NotFound);
    };
    let form = format!("cycle_{cid}");
    let mut problems = Vec::new();
    let Some(mut c) = cycle_from(&f, &cid, &mut problems) else {
        return refused(&state, &snap, &user, l, &form, problems, f).await;
    };
    c.next = p.cycles[i].next.clone();
    p.cycles[i] = c.clone();
    let next = field(&f, "next");
    let wanted = (!next.is_empty()).then_some(next);
    if wanted != p.cycles[i].next.as_deref() {
        match qi::link_next(&p.cycles, &cid, wanted) {
            Ok(cs) => p.cycles = cs,
            Err(e) => problems.push(e),
        }
    }
    let c = p.cycles[i].clone();
    check_cycle(&p, &c, &mut problems);
    if !problems.is_empty() {
        return refused(&state, &snap, &user, l, &form, problems, f).await;
    }
    let detail = format!(
        "cycle {cid} updated{}",
        c.act
            .as_ref()
            .map(|a| format!(": {} on {}", a.decision.as_str(), iso(a.date)))
            .unwrap_or_default()
    );
    save(&state, &user, &l, &p, "qi_cycle_updated", detail).await?;
    Ok(back(l.sp.id, &format!("cycle-{cid}")))
}

/// A score set by hand, with its reason (`qi::set_score`).
pub async fn score(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let l = load_for_edit(&state, &snap, &user, &id).await?;
    match qi::set_score(field(&f, "score"), field(&f, "reason")) {
        Ok(s) => {
            state.store.qi_set_score(l.sp.id, &s, &user.name).await?;
            Ok(back(l.sp.id, "score"))
        }
        Err(e) => refused(&state, &snap, &user, l, "score", vec![e], f).await,
    }
}

/// The change spread to another ward of the trust (`ward`, `change_idea`, `adopted`,
/// `evidence`: a catalogue measure on that ward, `notes`).
pub async fn spread(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, AppError> {
    let snap = state.cache.current(&state.store).await?;
    let l = load_for_edit(&state, &snap, &user, &id).await?;
    let mut problems = Vec::new();
    let ward = field(&f, "ward").to_ascii_uppercase();
    if snap
        .orgs
        .get(&ward)
        .is_none_or(|o| o.level != domain::OrgLevel::Ward)
    {
        problems.push(QiError::new(
            "spread.ward",
            "the code of a ward",
            format!("\"{ward}\""),
        ));
    }
    let evidence = field(&f, "evidence").to_string();
    if domain::measures::find(&evidence).is_none() {
        problems.push(QiError::new(
            "spread.evidence",
            "a catalogue measure on that ward",
            format!("\"{evidence}\""),
        ));
    }
    let adopted = qi::dates::parse_date("spread.adopted", field(&f, "adopted"))
        .map_err(|e| problems.push(e))
        .ok();
    let mut p = l.sp.project.clone();
    if let Some(adopted) = adopted {
        p.spread.push(Spread {
            ward: ward.clone(),
            change_idea: field(&f, "change_idea").to_string(),
            adopted,
            evidence: MeasureRef::Catalogue(evidence.clone()),
            notes: field(&f, "notes").to_string(),
        });
    }
    if problems.is_empty()
        && let Err(more) = qi::validate_project(&p)
    {
        problems.extend(more);
    }
    if !problems.is_empty() {
        return refused(&state, &snap, &user, l, "spread", problems, f).await;
    }
    save(
        &state,
        &user,
        &l,
        &p,
        "qi_spread_recorded",
        format!("spread to {ward}: {evidence}"),
    )
    .await?;
    Ok(back(l.sp.id, "spread"))
}

// ---------------------------------------------------------------------------------------------
// The JSON API: /api/qi/projects and /api/qi/projects/{id}

fn score_json(s: &ScoreRow) -> serde_json::Value {
    serde_json::json!({ "score": s.score, "reason": s.reason, "user": s.user, "at": s.at })
}

fn suggestion_json(s: &Result<Suggestion, QiError>) -> (serde_json::Value, serde_json::Value) {
    match s {
        Ok(s) => (
            serde_json::to_value(s).unwrap_or_default(),
            serde_json::Value::Null,
        ),
        Err(e) => (serde_json::Value::Null, serde_json::json!(e.to_string())),
    }
}

/// Every project the user may see, with its suggested and set scores.
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<axum::Json<serde_json::Value>, crate::error::ApiError> {
    let rows: Vec<serde_json::Value> = listed(&state, &user, false)
        .await?
        .iter()
        .map(|l| {
            let p = &l.sp.project;
            let (suggested, error) = suggestion_json(&l.suggestion);
            serde_json::json!({
                "id": l.sp.id,
                "title": p.title,
                "organisation": { "level": p.organisation.level, "code": p.organisation.code, "name": l.org_name },
                "status": p.status,
                "aim": p.aim,
                "cycles": p.cycles.len(),
                "suggested": suggested,
                "suggestion_error": error,
                "set_score": l.set.as_ref().map(score_json),
            })
        })
        .collect();
    Ok(axum::Json(serde_json::json!({ "projects": rows })))
}

/// One project: its whole record (team, aim, family, diagram, cycles, spread), the team's own
/// measures with their values, the status history, the suggested score and every set score.
pub async fn api_project(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<axum::Json<serde_json::Value>, crate::error::ApiError> {
    let snap = state.cache.current(&state.store).await?;
    let l = load(&state, &snap, &user, &id).await?;
    let cs = charts(&state, &snap, &l, false, None).await?;
    let suggestion = suggest(&state, &snap, &user, &l.sp.project, &cs, None, today()).await?;
    let (suggested, error) = suggestion_json(&suggestion);
    let scores = state.store.qi_scores(l.sp.id).await?;
    let history: Vec<serde_json::Value> = state
        .store
        .qi_status_history(l.sp.id)
        .await?
        .iter()
        .map(|h| serde_json::json!({ "status": h.status, "user": h.user, "at": h.at }))
        .collect();
    let own: Vec<serde_json::Value> = l
        .own
        .iter()
        .map(|o| {
            let values: Vec<serde_json::Value> = l
                .values
                .iter()
                .filter(|v| v.measure == o.id)
                .map(|v| serde_json::json!({ "month": iso(v.month), "value": v.value }))
                .collect();
            serde_json::json!({ "id": o.id, "name": o.name, "unit": o.unit, "direction": o.direction, "values": values })
        })
        .collect();
    Ok(axum::Json(serde_json::json!({
        "id": l.sp.id,
        "organisation_name": l.viewing.org.name,
        "created_by": l.sp.created_by,
        "created_at": l.sp.created_at,
        "updated_at": l.sp.updated_at,
        "project": l.sp.project,
        "own_measures": own,
        "status_history": history,
        "suggested": suggested,
        "suggestion_error": error,
        "set_score": scores.first().map(score_json),
        "scores": scores.iter().map(score_json).collect::<Vec<_>>(),
        "disclosure_controlled": l.viewing.policy().is_some(),
        "can_edit": l.can_edit,
    })))
}
