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
    held: &[HeldReferral],
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

#[derive(Template, WebTemplate)]
#[template(path = "freed/inequalities.html")]
pub struct Page {
    layout: Layout,
    service: store::freed::ServiceRow,
    by: Vec<Choice>,
    by_label: &'static str,
    as_of: String,
    span: String,
    controlled: bool,
    /// Who is referred: group, referrals (as shown), share of all referrals.
    referred: Vec<(String, String, String)>,
    tables: Vec<TableView>,
    /// Medians by group: group, treated (as shown), median days to treatment, median DUED.
    medians: Vec<(String, String, String, String)>,
}

#[derive(Deserialize, Default)]
pub struct InequalityQuery {
    pub by: Option<String>,
    pub as_of: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<InequalityQuery>,
) -> Result<Page, AppError> {
    let (s, detail) = super::service_for(&state, &user, &code).await?;
    let by = match q.by.as_deref().map(str::trim).filter(|x| !x.is_empty()) {
        Some(b) => By::parse(b).ok_or_else(|| {
            AppError::BadRequest(format!(
                "by '{b}': expected ethnic_group, sex, age_band or imd_decile"
            ))
        })?,
        None => By::EthnicGroup,
    };
    let at = super::as_of(q.as_of.as_deref())?;
    let rows = state.store.freed_rows(&s.code, None).await?;
    let held = ingest::freed::held_referrals(rows).map_err(AppError::Internal)?;
    let policy = (detail != Detail::Full).then(Policy::default);
    let received: Vec<time::Date> = held
        .iter()
        .map(|h| h.referral.received.date())
        .filter(|d| *d <= at.date())
        .collect();
    let (from, to) = match (received.iter().min(), received.iter().max()) {
        (Some(a), Some(_)) => (*a, at.date()),
        _ => (at.date(), at.date()),
    };
    let held: Vec<HeldReferral> = held
        .into_iter()
        .filter(|h| h.referral.received.date() <= at.date())
        .collect();
    let gs = groups(&held, by, from, to, at);
    let referral_counts: Vec<u64> = gs.iter().map(|g| g.referrals).collect();
    let shown = super::measures::shown_breakdown(policy.as_ref(), &referral_counts);
    let total: u64 = referral_counts.iter().sum();
    let referred = gs
        .iter()
        .zip(&shown)
        .map(|(g, n)| {
            // The share from the count as shown (rounded outside the trust), never from a
            // suppressed one.
            let share = match (policy.as_ref(), n.parse::<u64>()) {
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
        let rows = domain::inequality::table(m, by.stratifier(), &strata, policy.as_ref());
        tables.push(TableView {
            title: m.title,
            id: m.id,
            rows: view(rows),
        });
    }
    let treated: Vec<u64> = gs.iter().map(|g| g.figures.treated as u64).collect();
    let treated_shown = super::measures::shown_breakdown(policy.as_ref(), &treated);
    let median = |v: Option<f64>, n: f64, hidden: bool| -> String {
        let Some(v) = v else {
            return "no one treated".into();
        };
        if hidden {
            return "*".into();
        }
        match policy.as_ref() {
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
    if detail == Detail::Full {
        state
            .store
            .audit_for(
                &user.name,
                "freed_inequalities_viewed",
                &s.code,
                Some(&s.trust_code),
                Some(by.as_str()),
            )
            .await?;
    }
    Ok(Page {
        layout: Layout::new(format!("{}: who is reached", s.name), &user, "/freed"),
        by: By::ALL
            .iter()
            .map(|b| Choice::new(b.as_str(), b.label(), *b == by))
            .collect(),
        by_label: by.label(),
        as_of: iso_datetime(at),
        span: format!("{} to {}", domain::dates::iso(from), domain::dates::iso(to)),
        controlled: policy.is_some(),
        referred,
        tables,
        medians,
        service: s,
    })
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
