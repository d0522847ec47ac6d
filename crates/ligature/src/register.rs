//! A ward's register as the sum of its audits. An audit starts from the register, walks every
//! area and every open point, and records a finding for each: still present, changed (a
//! control, the risk, the review date), removed, or a new point. Only a signed-off audit
//! changes the register; replaying a ward's signed-off audits in order gives its register, and
//! every point keeps each audit's state, so its history (and its risk age) can be read.

use crate::error::{Problem, Problems};
use crate::model::{Area, Band, Banding, PointState, Tier};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::Date;

/// What an audit found of one point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Finding {
    /// Still present, as the register holds it.
    Present,
    /// Still present, with something changed (a control, the risk, the review date...).
    Changed(PointState),
    /// No longer there (taken out or replaced so that it is no anchor point).
    Removed,
    /// A point the register did not hold.
    New(PointState),
}

/// What kind of finding an entry of a point's history records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Change {
    Present,
    Changed,
    Removed,
    New,
}

impl Change {
    pub fn code(self) -> &'static str {
        match self {
            Change::Present => "present",
            Change::Changed => "changed",
            Change::Removed => "removed",
            Change::New => "new",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Change::Present => "Still present",
            Change::Changed => "Changed",
            Change::Removed => "Removed",
            Change::New => "New point",
        }
    }

    pub fn parse(s: &str) -> Option<Change> {
        [
            Change::Present,
            Change::Changed,
            Change::Removed,
            Change::New,
        ]
        .into_iter()
        .find(|c| c.code() == s.trim().to_ascii_lowercase())
    }
}

impl Finding {
    pub fn change(&self) -> Change {
        match self {
            Finding::Present => Change::Present,
            Finding::Changed(_) => Change::Changed,
            Finding::Removed => Change::Removed,
            Finding::New(_) => Change::New,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Finding::Present => "present",
            Finding::Changed(_) => "changed",
            Finding::Removed => "removed",
            Finding::New(_) => "new",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Finding::Present => "Still present",
            Finding::Changed(_) => "Changed",
            Finding::Removed => "Removed",
            Finding::New(_) => "New point",
        }
    }
}

/// The assessor's sign-off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOff {
    pub by: String,
    pub on: Date,
}

/// One audit of one ward.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    /// The store's id (orders audits of the same day).
    pub id: i64,
    pub ward: String,
    pub date: Date,
    pub assessor: String,
    /// Areas this audit adds or changes (a new room, a tier set again).
    pub areas: Vec<Area>,
    /// A finding per point reference.
    pub findings: BTreeMap<String, Finding>,
    pub signed_off: Option<SignOff>,
}

/// One audit's record of a point: what it found and the point's state after it (for a removed
/// point, the state it had when removed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub audit: i64,
    pub date: Date,
    pub finding: Change,
    pub state: PointState,
    /// The area's tier at the time.
    pub tier: Tier,
}

/// A ligature point with its lasting identity (its reference on the ward). Made only by
/// `Register::apply`, so its history is never empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Point {
    pub reference: String,
    history: Vec<HistoryEntry>,
}

impl Point {
    /// Each signed-off audit's record of the point, oldest first (never empty).
    pub fn history(&self) -> &[HistoryEntry] {
        &self.history
    }

    /// The latest recorded state.
    pub fn state(&self) -> &PointState {
        // A point exists only with its first entry (`Register::apply`).
        &self.history[self.history.len() - 1].state
    }

    pub fn latest(&self) -> &HistoryEntry {
        &self.history[self.history.len() - 1]
    }

    pub fn first_seen(&self) -> Date {
        self.history[0].date
    }

    pub fn removed_on(&self) -> Option<Date> {
        let l = self.latest();
        (l.finding == Change::Removed).then_some(l.date)
    }

    pub fn is_open(&self) -> bool {
        self.removed_on().is_none()
    }

    /// The day the point stopped being open as seen at `as_of`: its removal, or `as_of`.
    fn end(&self, as_of: Date) -> Date {
        match self.removed_on() {
            Some(r) if r < as_of => r,
            _ => as_of,
        }
    }

    /// Days from first seen to its removal (or `as_of`); never negative.
    pub fn age_days(&self, as_of: Date) -> i64 {
        (self.end(as_of) - self.first_seen()).whole_days().max(0)
    }

    /// Days the point has been open at each residual band (`Band::index` order), as of `as_of`:
    /// each audit's state holds from its date to the next audit's (or removal, or `as_of`).
    /// The four add up to `age_days`.
    pub fn band_days(&self, banding: Banding, as_of: Date) -> [i64; 4] {
        let mut out = [0i64; 4];
        let end = self.end(as_of);
        for (i, e) in self.history.iter().enumerate() {
            if e.finding == Change::Removed {
                break;
            }
            let to = self.history.get(i + 1).map_or(end, |n| n.date.min(end));
            let from = e.date.min(end);
            out[banding.band(e.state.residual).index()] += (to - from).whole_days().max(0);
        }
        out
    }

    /// Days in the current residual band without a break (0 for a removed point).
    pub fn days_in_band(&self, banding: Banding, as_of: Date) -> i64 {
        if !self.is_open() {
            return 0;
        }
        let band = banding.band(self.state().residual);
        let since = self.run_start(|e| banding.band(e.state.residual) == band);
        since.map_or(0, |d| (as_of - d).whole_days().max(0))
    }

    /// The date from which the latest entries, without a break, satisfy `cond` (none if the
    /// latest does not).
    pub fn run_start(&self, cond: impl Fn(&HistoryEntry) -> bool) -> Option<Date> {
        let mut since = None;
        for e in self.history.iter().rev() {
            if e.finding == Change::Removed || !cond(e) {
                break;
            }
            since = Some(e.date);
        }
        since
    }

    pub fn band(&self, banding: Banding) -> Band {
        banding.band(self.state().residual)
    }
}

/// A signed-off audit as the register lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditSummary {
    pub id: i64,
    pub date: Date,
    pub assessor: String,
    pub signed_off: SignOff,
    pub present: usize,
    pub changed: usize,
    pub removed: usize,
    pub new: usize,
}

/// A ward's register (made by `Register::new` and `apply`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Register {
    pub ward: String,
    pub areas: BTreeMap<String, Area>,
    pub points: BTreeMap<String, Point>,
    /// The signed-off audits applied, in order.
    pub audits: Vec<AuditSummary>,
}

impl Register {
    pub fn new(ward: &str) -> Register {
        Register {
            ward: ward.trim().to_ascii_uppercase(),
            areas: BTreeMap::new(),
            points: BTreeMap::new(),
            audits: Vec::new(),
        }
    }

    pub fn open_points(&self) -> impl Iterator<Item = &Point> {
        self.points.values().filter(|p| p.is_open())
    }

    pub fn last_audit(&self) -> Option<&AuditSummary> {
        self.audits.last()
    }

    /// The areas as they would be after `audit`'s own.
    fn areas_with(&self, audit: &Audit) -> BTreeMap<String, Area> {
        let mut areas = self.areas.clone();
        for a in &audit.areas {
            areas.insert(a.code.clone(), a.clone());
        }
        areas
    }

    /// Everything wrong with `audit` against this register, as a complete audit (every open
    /// point walked). Sign-off is not required here (`apply` requires it).
    pub fn check(&self, audit: &Audit) -> Vec<Problem> {
        let mut out = self.check_partial(audit);
        for p in self.open_points() {
            if !audit.findings.contains_key(&p.reference) {
                let s = p.state();
                out.push(Problem::new(
                    format!("findings[{}]", p.reference),
                    "a finding (still present, changed or removed) for every open point of the register",
                    format!(
                        "none for {} ({}, area {})",
                        s.description, s.location, s.area
                    ),
                ));
            }
        }
        out
    }

    /// The problems of the findings `audit` has so far (a draft walked area by area): every
    /// finding must fit the register, but points not yet walked are not counted missing.
    pub fn check_partial(&self, audit: &Audit) -> Vec<Problem> {
        let mut out = Vec::new();
        if audit.ward != self.ward {
            out.push(Problem::new(
                "ward",
                format!("the register's ward {}", self.ward),
                &audit.ward,
            ));
        }
        if let Some(last) = self.last_audit()
            && audit.date < last.date
        {
            out.push(Problem::new(
                "date",
                format!(
                    "a date on or after the last signed-off audit ({})",
                    last.date
                ),
                audit.date,
            ));
        }
        if audit.assessor.trim().is_empty() {
            out.push(Problem::new("assessor", "the assessor's name", "nothing"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for a in &audit.areas {
            if !seen.insert(a.code.clone()) {
                out.push(Problem::new(
                    format!("areas[{}]", a.code),
                    "each area once",
                    "it twice",
                ));
            }
        }
        let areas = self.areas_with(audit);
        for (r, f) in &audit.findings {
            let at = format!("findings[{r}]");
            let held = self.points.get(r);
            match (f, held) {
                (Finding::New(_), Some(_)) => out.push(Problem::new(
                    &at,
                    "a new point's reference not used before on the ward",
                    format!("{r}, already in the register"),
                )),
                (Finding::Present | Finding::Changed(_) | Finding::Removed, None) => out.push(
                    Problem::new(&at, "a point of the register", format!("{r}, not in it")),
                ),
                (Finding::Present | Finding::Changed(_) | Finding::Removed, Some(p))
                    if !p.is_open() =>
                {
                    out.push(Problem::new(
                        &at,
                        "an open point",
                        format!(
                            "{r}, removed on {}",
                            p.removed_on().map_or_else(String::new, |d| d.to_string())
                        ),
                    ))
                }
                _ => {}
            }
            if let Finding::New(s) | Finding::Changed(s) = f {
                for p in s.problems() {
                    out.push(p.within(&at));
                }
                if !areas.contains_key(&s.area) {
                    out.push(Problem::new(
                        format!("{at}.area"),
                        format!("an area of ward {}", self.ward),
                        format!("'{}'", s.area),
                    ));
                }
                if s.review_due < audit.date {
                    out.push(Problem::new(
                        format!("{at}.review_due"),
                        format!("a review date on or after the audit ({})", audit.date),
                        s.review_due,
                    ));
                }
            }
        }
        if let Some(so) = &audit.signed_off {
            if so.by.trim().is_empty() {
                out.push(Problem::new(
                    "signed_off.by",
                    "the assessor's name",
                    "nothing",
                ));
            }
            if so.on < audit.date {
                out.push(Problem::new(
                    "signed_off.on",
                    format!("a sign-off on or after the audit ({})", audit.date),
                    so.on,
                ));
            }
        }
        out
    }

    /// Apply a complete, signed-off audit; on any problem nothing changes.
    pub fn apply(&mut self, audit: &Audit) -> Result<(), Problems> {
        let mut problems = self.check(audit);
        let Some(signed) = audit.signed_off.clone() else {
            problems.push(Problem::new(
                "signed_off",
                "the assessor's sign-off",
                "none",
            ));
            return Err(Problems(problems));
        };
        if !problems.is_empty() {
            return Err(Problems(problems));
        }
        self.areas = self.areas_with(audit);
        let mut summary = AuditSummary {
            id: audit.id,
            date: audit.date,
            assessor: audit.assessor.clone(),
            signed_off: signed,
            present: 0,
            changed: 0,
            removed: 0,
            new: 0,
        };
        for (r, f) in &audit.findings {
            let state = match f {
                Finding::New(s) | Finding::Changed(s) => s.clone(),
                Finding::Present | Finding::Removed => match self.points.get(r) {
                    Some(p) => p.state().clone(),
                    None => continue, // refused by `check`
                },
            };
            match f {
                Finding::Present => summary.present += 1,
                Finding::Changed(_) => summary.changed += 1,
                Finding::Removed => summary.removed += 1,
                Finding::New(_) => summary.new += 1,
            }
            let tier = self.areas.get(&state.area).map_or(Tier::Three, |a| a.tier);
            let entry = HistoryEntry {
                audit: audit.id,
                date: audit.date,
                finding: f.change(),
                state,
                tier,
            };
            self.points
                .entry(r.clone())
                .or_insert_with(|| Point {
                    reference: r.clone(),
                    history: Vec::new(),
                })
                .history
                .push(entry);
        }
        self.audits.push(summary);
        Ok(())
    }

    /// The register of `ward` from its signed-off audits (in date order, then id); problems are
    /// named by audit (`audits[12].findings[P-3].area`). Drafts are skipped.
    pub fn replay(ward: &str, audits: &[Audit]) -> Result<Register, Problems> {
        let mut reg = Register::new(ward);
        let mut order: Vec<&Audit> = audits.iter().filter(|a| a.signed_off.is_some()).collect();
        order.sort_by_key(|a| (a.date, a.id));
        for a in order {
            reg.apply(a).map_err(|Problems(ps)| {
                Problems(
                    ps.into_iter()
                        .map(|p| p.within(&format!("audits[{}]", a.id)))
                        .collect(),
                )
            })?;
        }
        Ok(reg)
    }

    /// The register as it stood after the audits up to and including `date`.
    pub fn as_at(ward: &str, audits: &[Audit], date: Date) -> Result<Register, Problems> {
        let upto: Vec<Audit> = audits.iter().filter(|a| a.date <= date).cloned().collect();
        Register::replay(ward, &upto)
    }
}
