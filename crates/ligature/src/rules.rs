//! What the register says about itself as of a day: the trust's settings, actions and when they
//! are overdue, overdue reviews, the escalation rule, and the four measures of the issue.

use crate::error::{Problem, Problems};
use crate::model::{Band, Banding, Tier, code, text, vigilance_only};
use crate::register::{Point, Register};
use serde::{Deserialize, Serialize};
use time::Date;

/// What a trust sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// A point in a tier 2 or 3 area with a high or extreme residual risk and staff vigilance
    /// as its only control is escalated to the trust lead once it has been so for more than
    /// this many days.
    pub escalation_days: i64,
    /// A ward's audit is due this many days after its last one.
    pub audit_interval_days: i64,
    pub banding: Banding,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            escalation_days: 28,
            audit_interval_days: 365,
            banding: Banding::default(),
        }
    }
}

impl Settings {
    pub fn new(escalation_days: i64, audit_interval_days: i64) -> Result<Settings, Problems> {
        let mut ps = Vec::new();
        if !(0..=3650).contains(&escalation_days) {
            ps.push(Problem::new(
                "escalation_days",
                "a number of days from 0 to 3650",
                escalation_days,
            ));
        }
        if !(1..=3650).contains(&audit_interval_days) {
            ps.push(Problem::new(
                "audit_interval_days",
                "a number of days from 1 to 3650",
                audit_interval_days,
            ));
        }
        if !ps.is_empty() {
            return Err(Problems(ps));
        }
        Ok(Settings {
            escalation_days,
            audit_interval_days,
            banding: Banding::default(),
        })
    }
}

/// Where an action stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionStatus {
    Open,
    InProgress,
    Done,
    Cancelled,
}

impl ActionStatus {
    pub const ALL: [ActionStatus; 4] = [
        ActionStatus::Open,
        ActionStatus::InProgress,
        ActionStatus::Done,
        ActionStatus::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::InProgress => "in_progress",
            ActionStatus::Done => "done",
            ActionStatus::Cancelled => "cancelled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActionStatus::Open => "Open",
            ActionStatus::InProgress => "In progress",
            ActionStatus::Done => "Done",
            ActionStatus::Cancelled => "Cancelled",
        }
    }

    pub fn parse(s: &str) -> Result<ActionStatus, Problem> {
        let t = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        ActionStatus::ALL
            .into_iter()
            .find(|a| a.code() == t)
            .or(match t.as_str() {
                "" | "not_started" => Some(ActionStatus::Open),
                "complete" | "completed" | "closed" => Some(ActionStatus::Done),
                _ => None,
            })
            .ok_or_else(|| {
                Problem::new(
                    "status",
                    "open, in_progress, done or cancelled",
                    format!("'{}'", s.trim()),
                )
            })
    }

    pub fn is_closed(self) -> bool {
        matches!(self, ActionStatus::Done | ActionStatus::Cancelled)
    }
}

/// An action on a point: who, by when, where it stands, and the estates work order or capital
/// bid that carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub point: String,
    pub description: String,
    pub owner: String,
    pub raised: Date,
    pub due: Date,
    pub status: ActionStatus,
    /// When it was done or cancelled.
    pub closed: Option<Date>,
    /// The estates work order or capital bid reference.
    pub reference: Option<String>,
}

/// An action as typed, before it is checked.
#[derive(Clone, Debug, Default)]
pub struct ActionInput<'a> {
    pub point: &'a str,
    pub description: &'a str,
    pub owner: &'a str,
    pub raised: Option<Date>,
    pub due: Option<Date>,
    pub status: &'a str,
    pub closed: Option<Date>,
    pub reference: &'a str,
}

impl Action {
    /// Check an action against the ward's register: the point must be one of the ward's, the
    /// due date on or after the day it was raised, a closed action needs the day it was closed.
    pub fn new(input: &ActionInput<'_>, register: &Register) -> Result<Action, Problems> {
        let mut ps = Vec::new();
        let point = match code("point", input.point) {
            Ok(p) if register.points.contains_key(&p) => Some(p),
            Ok(p) => {
                ps.push(Problem::new(
                    "point",
                    format!("a point of ward {}'s register", register.ward),
                    format!("'{p}'"),
                ));
                None
            }
            Err(e) => {
                ps.push(e);
                None
            }
        };
        let description = text("description", input.description, false)
            .map_err(|e| ps.push(e))
            .ok();
        let owner = text("owner", input.owner, false)
            .map_err(|e| ps.push(e))
            .ok();
        let status = ActionStatus::parse(input.status)
            .map_err(|e| ps.push(e))
            .ok();
        let reference = text("reference", input.reference, true)
            .map_err(|e| ps.push(e))
            .ok();
        if input.raised.is_none() {
            ps.push(Problem::new(
                "raised",
                "the date the action was raised",
                "nothing",
            ));
        }
        if input.due.is_none() {
            ps.push(Problem::new("due", "a due date", "nothing"));
        }
        if let (Some(r), Some(d)) = (input.raised, input.due)
            && d < r
        {
            ps.push(Problem::new(
                "due",
                format!("a due date on or after the day it was raised ({r})"),
                d,
            ));
        }
        match (status, input.closed) {
            (Some(s), None) if s.is_closed() => ps.push(Problem::new(
                "closed",
                format!("the date it was {}", s.label().to_lowercase()),
                "nothing",
            )),
            (Some(s), Some(c)) if !s.is_closed() => ps.push(Problem::new(
                "closed",
                "no closing date for an action still open",
                c,
            )),
            (_, Some(c)) if input.raised.is_some_and(|r| c < r) => ps.push(Problem::new(
                "closed",
                "a closing date on or after the day it was raised",
                c,
            )),
            _ => {}
        }
        match (
            point,
            description,
            owner,
            status,
            reference,
            input.raised,
            input.due,
        ) {
            (
                Some(point),
                Some(description),
                Some(owner),
                Some(status),
                Some(reference),
                Some(raised),
                Some(due),
            ) if ps.is_empty() => Ok(Action {
                point,
                description,
                owner,
                raised,
                due,
                status,
                closed: input.closed,
                reference: Some(reference).filter(|r| !r.is_empty()),
            }),
            _ => Err(Problems(ps)),
        }
    }

    /// Not closed and past its due date at `as_of`.
    pub fn is_overdue(&self, as_of: Date) -> bool {
        !self.status.is_closed() && self.due < as_of
    }

    pub fn days_overdue(&self, as_of: Date) -> i64 {
        if self.is_overdue(as_of) {
            (as_of - self.due).whole_days()
        } else {
            0
        }
    }
}

/// A point escalated to the trust lead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Escalation {
    pub ward: String,
    pub point: String,
    pub area: String,
    pub tier: Tier,
    pub band: Band,
    pub score: u8,
    /// Since when the point has met the rule without a break.
    pub since: Date,
    pub days: i64,
}

/// Whether an entry meets the escalation rule's condition: a tier 2 or 3 area, a high or
/// extreme residual risk, staff vigilance as the only control.
fn escalable(banding: Banding, e: &crate::register::HistoryEntry) -> bool {
    e.tier.unsupervised()
        && banding.band(e.state.residual).is_high()
        && vigilance_only(&e.state.controls)
}

/// The escalation of one point, if the rule holds at `as_of`: the point is open, its latest
/// audit found it in a tier 2 or 3 area at a high or extreme residual risk with staff vigilance
/// (or nothing) as its only control, and it has been so, audit after audit, for more than the
/// trust's number of days.
pub fn escalation(
    ward: &str,
    point: &Point,
    settings: Settings,
    as_of: Date,
) -> Option<Escalation> {
    if !point.is_open() {
        return None;
    }
    let since = point.run_start(|e| escalable(settings.banding, e))?;
    let days = (as_of - since).whole_days().max(0);
    if days <= settings.escalation_days {
        return None;
    }
    let l = point.latest();
    Some(Escalation {
        ward: ward.to_string(),
        point: point.reference.clone(),
        area: l.state.area.clone(),
        tier: l.tier,
        band: settings.banding.band(l.state.residual),
        score: l.state.residual.score(),
        since,
        days,
    })
}

/// Every escalated point of a register, longest first.
pub fn escalations(register: &Register, settings: Settings, as_of: Date) -> Vec<Escalation> {
    let mut out: Vec<Escalation> = register
        .open_points()
        .filter_map(|p| escalation(&register.ward, p, settings, as_of))
        .collect();
    out.sort_by(|a, b| b.days.cmp(&a.days).then_with(|| a.point.cmp(&b.point)));
    out
}

/// Why the register called a point controlled on a day (issue 13, item 4): an incident there
/// then means a control the register relied on did not hold, and is flagged for review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Controlled {
    /// Recorded as removed by an audit on or before the day.
    Removed,
    /// Replaced with an anti-ligature fitting.
    Replaced,
    /// Its residual risk was low.
    LowResidual,
}

impl Controlled {
    pub fn label(self) -> &'static str {
        match self {
            Controlled::Removed => "recorded as removed",
            Controlled::Replaced => "replaced with an anti-ligature fitting",
            Controlled::LowResidual => "residual risk low",
        }
    }
}

/// What the register said of `point` on `day`, from the last signed-off audit on or before it:
/// `None` when it was not (yet) on the register or not controlled, else why it was controlled
/// (removed, replaced with an anti-ligature fitting, or a low residual risk).
pub fn controlled_on(point: &Point, banding: Banding, day: Date) -> Option<Controlled> {
    let h = point.history().iter().rev().find(|h| h.date <= day)?;
    if h.finding == crate::register::Change::Removed {
        Some(Controlled::Removed)
    } else if h
        .state
        .controls
        .contains(&crate::model::ControlKind::AntiLigature)
    {
        Some(Controlled::Replaced)
    } else if banding.band(h.state.residual) == Band::Low {
        Some(Controlled::LowResidual)
    } else {
        None
    }
}

/// Open points whose review date has passed, most overdue first: (reference, review date, days).
pub fn overdue_reviews(register: &Register, as_of: Date) -> Vec<(String, Date, i64)> {
    let mut out: Vec<(String, Date, i64)> = register
        .open_points()
        .filter(|p| p.state().review_due < as_of)
        .map(|p| {
            let d = p.state().review_due;
            (p.reference.clone(), d, (as_of - d).whole_days())
        })
        .collect();
    out.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    out
}

/// When the ward's next audit is due (none before its first).
pub fn next_audit_due(register: &Register, settings: Settings) -> Option<Date> {
    register
        .last_audit()
        .map(|a| a.date + time::Duration::days(settings.audit_interval_days))
}

/// The four measures of a ward's register as of a day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WardFigures {
    /// Open points with a high or extreme residual risk.
    pub open_high: u64,
    pub open_extreme: u64,
    pub open: u64,
    /// The median age in days of open points with a high or extreme residual risk.
    pub median_high_age_days: Option<f64>,
    /// Audits done within the trust's interval of the one before (the first counts as on time),
    /// of the audits done up to the day.
    pub audits_on_time: u64,
    pub audits: u64,
    /// Actions not closed and past due, of the actions not closed (or closed after `as_of`).
    pub actions_overdue: u64,
    pub actions_open: u64,
    pub reviews_overdue: u64,
    pub escalated: u64,
}

/// The median of some numbers (none for none).
pub fn median(mut xs: Vec<i64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_unstable();
    let n = xs.len();
    Some(if n % 2 == 1 {
        xs[n / 2] as f64
    } else {
        (xs[n / 2 - 1] as f64 + xs[n / 2] as f64) / 2.0
    })
}

pub fn ward_figures(
    register: &Register,
    actions: &[Action],
    settings: Settings,
    as_of: Date,
) -> WardFigures {
    let b = settings.banding;
    let open: Vec<&Point> = register
        .points
        .values()
        .filter(|p| p.first_seen() <= as_of && p.removed_on().is_none_or(|r| r > as_of))
        .collect();
    let high: Vec<&&Point> = open.iter().filter(|p| p.band(b).is_high()).collect();
    let audits: Vec<Date> = register
        .audits
        .iter()
        .map(|a| a.date)
        .filter(|d| *d <= as_of)
        .collect();
    let on_time = audits
        .iter()
        .enumerate()
        .filter(|(i, d)| {
            *i == 0 || (**d - audits[i - 1]).whole_days() <= settings.audit_interval_days
        })
        .count();
    let live: Vec<&Action> = actions
        .iter()
        .filter(|a| {
            a.raised <= as_of && (!a.status.is_closed() || a.closed.is_some_and(|c| c > as_of))
        })
        .collect();
    let overdue = live.iter().filter(|a| a.due < as_of).count();
    WardFigures {
        open_high: high.len() as u64,
        open_extreme: high.iter().filter(|p| p.band(b) == Band::Extreme).count() as u64,
        open: open.len() as u64,
        median_high_age_days: median(high.iter().map(|p| p.age_days(as_of)).collect()),
        audits_on_time: on_time as u64,
        audits: audits.len() as u64,
        actions_overdue: overdue as u64,
        actions_open: live.len() as u64,
        reviews_overdue: overdue_reviews(register, as_of).len() as u64,
        escalated: escalations(register, settings, as_of).len() as u64,
    }
}
