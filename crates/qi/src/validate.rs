//! What a project record may hold, and the edits that keep it so. Every check returns
//! `QiError`s naming the field and what was expected; an edit that fails changes nothing (it
//! returns a new value only when the whole result is valid).

use crate::dates::{iso, quote};
use crate::error::{Problems, QiError, into_result};
use crate::model::{Aim, ChangeIdea, Cycle, DriverDiagram, Primary, Project, Secondary};
use std::collections::{BTreeMap, BTreeSet};
use time::Date;

/// Longest title, node text or note we accept, in characters.
pub const MAX_TEXT: usize = 2000;
/// Longest id, in characters.
pub const MAX_ID: usize = 64;

/// Parses a value typed into a form (a project measure's monthly value, a baseline, a target):
/// a finite decimal number such as `12`, `-3.5` or `0.25`. `NaN`, `inf`, `12%`, `1,200` and
/// empty text are refused.
pub fn parse_value(field: &str, text: &str) -> Result<f64, QiError> {
    let t = text.trim();
    let plain = !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        && t.chars().any(|c| c.is_ascii_digit());
    match t.parse::<f64>() {
        Ok(v) if plain && v.is_finite() => Ok(v),
        _ => Err(QiError::new(
            field,
            "a number such as 12 or 3.5 (no units, % signs or thousands separators)",
            quote(text),
        )),
    }
}

fn check_finite(field: &str, value: f64, problems: &mut Problems) {
    if !value.is_finite() {
        problems.push(QiError::new(field, "a finite number", value.to_string()));
    }
}

fn check_text(field: &str, text: &str, required: bool, problems: &mut Problems) {
    let n = text.chars().count();
    if required && text.trim().is_empty() {
        problems.push(QiError::new(field, "some text", "nothing"));
    } else if n > MAX_TEXT {
        problems.push(QiError::new(
            field,
            format!("at most {MAX_TEXT} characters"),
            format!("{n} characters"),
        ));
    }
}

fn check_id(field: &str, id: &str, problems: &mut Problems) {
    let ok = !id.is_empty()
        && id.chars().count() <= MAX_ID
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        problems.push(QiError::new(
            field,
            format!("an id of 1 to {MAX_ID} letters, digits, '-', '_' or '.'"),
            quote(id),
        ));
    }
}

/// The aim as it is set or changed: baseline and target finite and different, and the target
/// date not before `today`. (A project whose target date has since passed stays valid:
/// `validate_project` does not look at the clock.)
pub fn validate_aim(aim: &Aim, today: Date) -> Result<(), Problems> {
    let mut p = Problems::new();
    aim_values(aim, &mut p);
    if aim.target_date < today {
        p.push(QiError::new(
            "aim.target_date",
            format!("a date on or after today ({})", iso(today)),
            iso(aim.target_date),
        ));
    }
    into_result(p)
}

fn aim_values(aim: &Aim, p: &mut Problems) {
    check_id("aim.measure", aim.measure.id(), p);
    check_finite("aim.baseline", aim.baseline, p);
    check_finite("aim.target", aim.target, p);
    if aim.baseline.is_finite() && aim.target.is_finite() && aim.baseline == aim.target {
        p.push(QiError::new(
            "aim.target",
            "a target different from the baseline (by how much?)",
            aim.target.to_string(),
        ));
    }
}

/// One cycle on its own: id, question, dates in order, act after do.
pub fn validate_cycle(cycle: &Cycle) -> Result<(), Problems> {
    let mut p = Problems::new();
    cycle_problems(cycle, &mut p);
    into_result(p)
}

fn cycle_problems(c: &Cycle, p: &mut Problems) {
    let f = |name: &str| format!("cycles[{}].{name}", c.id);
    check_id(&f("id"), &c.id, p);
    check_id(&f("change_idea"), &c.change_idea, p);
    check_text(&f("question"), &c.question, true, p);
    check_id(&f("prediction.measure"), c.prediction.measure.id(), p);
    check_text(&f("prediction.text"), &c.prediction.text, false, p);
    for (name, text) in [
        ("plan.who", &c.plan.who),
        ("plan.what", &c.plan.what),
        ("plan.where", &c.plan.where_),
        ("plan.when", &c.plan.when),
        ("do.notes", &c.do_.notes),
        ("study", &c.study),
    ] {
        check_text(&f(name), text, false, p);
    }
    match (c.do_.start, c.do_.end) {
        (Some(s), Some(e)) if e < s => p.push(QiError::new(
            f("do.end"),
            format!("a date on or after the start ({})", iso(s)),
            iso(e),
        )),
        (None, Some(e)) => p.push(QiError::new(
            f("do.start"),
            format!("the date the cycle started (it ended on {})", iso(e)),
            "no date",
        )),
        _ => {}
    }
    if let Some(act) = &c.act {
        check_text(&f("act.notes"), &act.notes, false, p);
        if act.rebase && act.decision != crate::model::Decision::Adopt {
            p.push(QiError::new(
                f("act.rebase"),
                "a rebase only with an adoption (a change adapted or abandoned made no new process)",
                act.decision.as_str(),
            ));
        }
        match c.do_.end {
            None => p.push(QiError::new(
                f("act"),
                format!(
                    "a cycle that has ended (do.end) before it can be decided ({})",
                    act.decision.as_str()
                ),
                "no end date",
            )),
            Some(e) if act.date < e => p.push(QiError::new(
                f("act.date"),
                format!("a date on or after the cycle's end ({})", iso(e)),
                iso(act.date),
            )),
            _ => {}
        }
    }
    if c.next.as_deref() == Some(c.id.as_str()) {
        p.push(QiError::new(
            f("next"),
            "another cycle (a cycle cannot follow itself)",
            quote(&c.id),
        ));
    }
}

/// The driver diagram: ids valid and unique across it, texts present, every secondary serving
/// at least one existing primary and every change idea at least one existing secondary.
pub fn validate_diagram(d: &DriverDiagram) -> Result<(), Problems> {
    let mut p = Problems::new();
    diagram_problems(d, &mut p);
    into_result(p)
}

fn diagram_problems(d: &DriverDiagram, p: &mut Problems) {
    check_text("diagram.aim", &d.aim, false, p);
    let mut seen = BTreeSet::new();
    let ids = d
        .primaries
        .iter()
        .map(|n| ("primaries", &n.id, &n.text))
        .chain(
            d.secondaries
                .iter()
                .map(|n| ("secondaries", &n.id, &n.text)),
        )
        .chain(
            d.change_ideas
                .iter()
                .map(|n| ("change_ideas", &n.id, &n.text)),
        );
    for (kind, id, text) in ids {
        let field = format!("{kind}[{id}]");
        check_id(&format!("{field}.id"), id, p);
        check_text(&format!("{field}.text"), text, true, p);
        if !seen.insert(id.as_str()) {
            p.push(QiError::new(
                format!("{field}.id"),
                "an id used by no other node of the diagram",
                quote(id),
            ));
        }
    }
    let primaries: BTreeSet<&str> = d.primaries.iter().map(|n| n.id.as_str()).collect();
    let secondaries: BTreeSet<&str> = d.secondaries.iter().map(|n| n.id.as_str()).collect();
    for s in &d.secondaries {
        parents_problems(
            &format!("secondaries[{}].primaries", s.id),
            &s.primaries,
            &primaries,
            "primary driver",
            p,
        );
    }
    for c in &d.change_ideas {
        parents_problems(
            &format!("change_ideas[{}].secondaries", c.id),
            &c.secondaries,
            &secondaries,
            "secondary driver",
            p,
        );
    }
}

fn parents_problems(
    field: &str,
    parents: &[String],
    known: &BTreeSet<&str>,
    what: &str,
    p: &mut Problems,
) {
    if parents.is_empty() {
        p.push(QiError::new(field, format!("at least one {what}"), "none"));
    }
    let mut seen = BTreeSet::new();
    for id in parents {
        if !known.contains(id.as_str()) {
            p.push(QiError::new(
                field,
                format!("the id of a {what} of this diagram"),
                quote(id),
            ));
        } else if !seen.insert(id.as_str()) {
            p.push(QiError::new(field, format!("each {what} once"), quote(id)));
        }
    }
}

/// The cycles against the diagram: ids unique, each testing a change idea of the diagram, and
/// the next-cycle links forming ramps (each cycle followed by at most one and following at most
/// one, the next cycle existing, and no loop).
pub fn validate_cycles(cycles: &[Cycle], d: &DriverDiagram) -> Result<(), Problems> {
    let mut p = Problems::new();
    cycles_problems(cycles, d, &mut p);
    into_result(p)
}

fn cycles_problems(cycles: &[Cycle], d: &DriverDiagram, p: &mut Problems) {
    let ideas: BTreeSet<&str> = d.change_ideas.iter().map(|c| c.id.as_str()).collect();
    let mut ids = BTreeSet::new();
    for c in cycles {
        cycle_problems(c, p);
        if !ids.insert(c.id.as_str()) {
            p.push(QiError::new(
                format!("cycles[{}].id", c.id),
                "an id used by no other cycle",
                quote(&c.id),
            ));
        }
        if !ideas.contains(c.change_idea.as_str()) {
            p.push(QiError::new(
                format!("cycles[{}].change_idea", c.id),
                "the id of a change idea of the driver diagram",
                quote(&c.change_idea),
            ));
        }
    }
    if let Err(e) = link_problems(cycles) {
        p.push(e);
    }
}

/// The next-cycle links: the first problem found.
fn link_problems(cycles: &[Cycle]) -> Result<(), QiError> {
    let index: BTreeMap<&str, usize> = cycles
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let mut followed_by: BTreeMap<&str, &str> = BTreeMap::new();
    for c in cycles {
        let Some(next) = c.next.as_deref() else {
            continue;
        };
        let field = format!("cycles[{}].next", c.id);
        if !index.contains_key(next) {
            return Err(QiError::new(
                field,
                "the id of another cycle of this project",
                quote(next),
            ));
        }
        if let Some(other) = followed_by.insert(next, c.id.as_str()) {
            return Err(QiError::new(
                field,
                format!(
                    "a cycle that no other cycle leads to (cycle {other} already leads to {next})"
                ),
                quote(next),
            ));
        }
    }
    // Each cycle has at most one next and one previous: following `next` from any cycle either
    // ends or comes back round. A walk longer than the number of cycles is a loop.
    for c in cycles {
        let mut current = c;
        let mut path = vec![c.id.as_str()];
        while let Some(next) = current.next.as_deref() {
            if next == c.id {
                path.push(next);
                return Err(QiError::new(
                    format!("cycles[{}].next", current.id),
                    "links that run forward, not round in a loop",
                    path.join(" → "),
                ));
            }
            let Some(&i) = index.get(next) else { break };
            current = &cycles[i];
            path.push(next);
            if path.len() > cycles.len() + 1 {
                break;
            }
        }
    }
    Ok(())
}

/// The whole record, without the clock: title, organisation, aim values, family of measures,
/// diagram, cycles and their links, and spread.
pub fn validate_project(project: &Project) -> Result<(), Problems> {
    let mut p = Problems::new();
    check_text("title", &project.title, true, &mut p);
    check_id("organisation.code", &project.organisation.code, &mut p);
    check_text("charter", &project.charter, false, &mut p);
    for (i, m) in project.team.iter().enumerate() {
        if m.user.trim().is_empty() {
            p.push(QiError::new(
                format!("team[{i}].user"),
                "a user's login name",
                "nothing",
            ));
        }
    }
    if let Some(aim) = &project.aim {
        aim_values(aim, &mut p);
    }
    let mut measures = BTreeSet::new();
    for m in &project.measures {
        let field = format!("measures[{}]", m.measure.id());
        check_id(&field, m.measure.id(), &mut p);
        check_text(&format!("{field}.name"), &m.name, false, &mut p);
        if !measures.insert(&m.measure) {
            p.push(QiError::new(
                field,
                "each measure once in the family (one role each)",
                m.measure.to_string(),
            ));
        }
    }
    diagram_problems(&project.diagram, &mut p);
    cycles_problems(&project.cycles, &project.diagram, &mut p);
    for c in &project.cycles {
        if project.role_of(&c.prediction.measure).is_none() {
            p.push(QiError::new(
                format!("cycles[{}].prediction.measure", c.id),
                "a measure of the project's family",
                c.prediction.measure.to_string(),
            ));
        }
    }
    let ideas: BTreeSet<&str> = project
        .diagram
        .change_ideas
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    for (i, s) in project.spread.iter().enumerate() {
        let f = |name: &str| format!("spread[{i}].{name}");
        check_id(&f("ward"), &s.ward, &mut p);
        check_id(&f("evidence"), s.evidence.id(), &mut p);
        check_text(&f("notes"), &s.notes, false, &mut p);
        if s.ward == project.organisation.code {
            p.push(QiError::new(
                f("ward"),
                "another ward than the project's own",
                quote(&s.ward),
            ));
        }
        if !ideas.contains(s.change_idea.as_str()) {
            p.push(QiError::new(
                f("change_idea"),
                "the id of a change idea of the driver diagram",
                quote(&s.change_idea),
            ));
        }
    }
    into_result(p)
}

/// One edit of a driver diagram, as the form sends it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "edit", rename_all = "snake_case")]
pub enum DiagramEdit {
    SetAim {
        text: String,
    },
    AddPrimary {
        id: String,
        text: String,
    },
    AddSecondary {
        id: String,
        text: String,
        primaries: Vec<String>,
    },
    AddChangeIdea {
        id: String,
        text: String,
        secondaries: Vec<String>,
    },
    /// New text for any node.
    Rename {
        id: String,
        text: String,
    },
    /// Make `parent` one more parent of `child` (a secondary's primary, a change idea's secondary).
    Link {
        child: String,
        parent: String,
    },
    Unlink {
        child: String,
        parent: String,
    },
    /// Remove a node. Refused when a child would be left with no parent or a cycle tests it.
    Remove {
        id: String,
    },
}

/// Applies one edit and returns the new diagram, or the reason it is refused (the diagram
/// handed in is untouched either way). `cycles` are the project's cycles: removing a change
/// idea that a cycle tests is refused, because it would orphan the cycle.
pub fn apply_edit(
    diagram: &DriverDiagram,
    cycles: &[Cycle],
    edit: &DiagramEdit,
) -> Result<DriverDiagram, QiError> {
    let mut d = diagram.clone();
    let exists = |d: &DriverDiagram, id: &str| {
        d.primaries.iter().any(|n| n.id == id)
            || d.secondaries.iter().any(|n| n.id == id)
            || d.change_ideas.iter().any(|n| n.id == id)
    };
    let unknown = |field: String, id: &str| {
        QiError::new(field, "the id of a node of this diagram", quote(id))
    };
    match edit {
        DiagramEdit::SetAim { text } => d.aim = text.clone(),
        DiagramEdit::AddPrimary { id, text } => {
            if exists(&d, id) {
                return Err(taken(id));
            }
            d.primaries.push(Primary {
                id: id.clone(),
                text: text.clone(),
            });
        }
        DiagramEdit::AddSecondary {
            id,
            text,
            primaries,
        } => {
            if exists(&d, id) {
                return Err(taken(id));
            }
            d.secondaries.push(Secondary {
                id: id.clone(),
                text: text.clone(),
                primaries: primaries.clone(),
            });
        }
        DiagramEdit::AddChangeIdea {
            id,
            text,
            secondaries,
        } => {
            if exists(&d, id) {
                return Err(taken(id));
            }
            d.change_ideas.push(ChangeIdea {
                id: id.clone(),
                text: text.clone(),
                secondaries: secondaries.clone(),
            });
        }
        DiagramEdit::Rename { id, text } => {
            let slot = d
                .primaries
                .iter_mut()
                .find(|n| &n.id == id)
                .map(|n| &mut n.text)
                .or_else(|| {
                    d.secondaries
                        .iter_mut()
                        .find(|n| &n.id == id)
                        .map(|n| &mut n.text)
                })
                .or_else(|| {
                    d.change_ideas
                        .iter_mut()
                        .find(|n| &n.id == id)
                        .map(|n| &mut n.text)
                });
            match slot {
                Some(t) => *t = text.clone(),
                None => return Err(unknown("rename.id".into(), id)),
            }
        }
        DiagramEdit::Link { child, parent } | DiagramEdit::Unlink { child, parent } => {
            let link = matches!(edit, DiagramEdit::Link { .. });
            let parents = if let Some(s) = d.secondaries.iter_mut().find(|n| &n.id == child) {
                &mut s.primaries
            } else if let Some(c) = d.change_ideas.iter_mut().find(|n| &n.id == child) {
                &mut c.secondaries
            } else {
                return Err(QiError::new(
                    "link.child",
                    "the id of a secondary driver or a change idea",
                    quote(child),
                ));
            };
            if link {
                if !parents.contains(parent) {
                    parents.push(parent.clone());
                }
            } else {
                let before = parents.len();
                parents.retain(|p| p != parent);
                if parents.len() == before {
                    return Err(QiError::new(
                        "unlink.parent",
                        format!("one of the parents of {child}"),
                        quote(parent),
                    ));
                }
                if parents.is_empty() {
                    return Err(QiError::new(
                        "unlink.parent",
                        format!("another parent for {child} first: it would be left with none"),
                        quote(parent),
                    ));
                }
            }
        }
        DiagramEdit::Remove { id } => remove(&mut d, cycles, id)?,
    }
    if let Err(mut problems) = validate_diagram(&d) {
        return Err(problems.swap_remove(0));
    }
    Ok(d)
}

fn taken(id: &str) -> QiError {
    QiError::new(
        "add.id",
        "an id used by no other node of the diagram",
        quote(id),
    )
}

fn remove(d: &mut DriverDiagram, cycles: &[Cycle], id: &str) -> Result<(), QiError> {
    if d.primaries.iter().any(|n| n.id == id) {
        let orphans: Vec<&str> = d
            .secondaries
            .iter()
            .filter(|s| s.primaries.iter().all(|p| p == id))
            .map(|s| s.id.as_str())
            .collect();
        if !orphans.is_empty() {
            return Err(QiError::new(
                format!("primaries[{id}]"),
                format!(
                    "a primary driver no secondary driver depends on alone (link or remove {} first)",
                    orphans.join(", ")
                ),
                "secondary drivers that would be left with no primary driver",
            ));
        }
        d.primaries.retain(|n| n.id != id);
        for s in &mut d.secondaries {
            s.primaries.retain(|p| p != id);
        }
    } else if d.secondaries.iter().any(|n| n.id == id) {
        let orphans: Vec<&str> = d
            .change_ideas
            .iter()
            .filter(|c| c.secondaries.iter().all(|s| s == id))
            .map(|c| c.id.as_str())
            .collect();
        if !orphans.is_empty() {
            return Err(QiError::new(
                format!("secondaries[{id}]"),
                format!(
                    "a secondary driver no change idea depends on alone (link or remove {} first)",
                    orphans.join(", ")
                ),
                "change ideas that would be left with no secondary driver",
            ));
        }
        d.secondaries.retain(|n| n.id != id);
        for c in &mut d.change_ideas {
            c.secondaries.retain(|s| s != id);
        }
    } else if d.change_ideas.iter().any(|n| n.id == id) {
        let linked: Vec<&str> = cycles
            .iter()
            .filter(|c| c.change_idea == id)
            .map(|c| c.id.as_str())
            .collect();
        if !linked.is_empty() {
            return Err(QiError::new(
                format!("change_ideas[{id}]"),
                format!(
                    "a change idea no PDSA cycle tests (cycles {} test it: move or delete them first)",
                    linked.join(", ")
                ),
                format!("{} linked cycle(s)", linked.len()),
            ));
        }
        d.change_ideas.retain(|n| n.id != id);
    } else {
        return Err(QiError::new(
            "remove.id",
            "the id of a node of this diagram",
            quote(id),
        ));
    }
    Ok(())
}

/// Sets (or clears, with `None`) the next cycle of `from`, and returns the new cycles, or the
/// reason it is refused: an unknown cycle, a cycle that already has a predecessor, or a loop.
pub fn link_next(cycles: &[Cycle], from: &str, next: Option<&str>) -> Result<Vec<Cycle>, QiError> {
    let mut out = cycles.to_vec();
    let Some(c) = out.iter_mut().find(|c| c.id == from) else {
        return Err(QiError::new(
            "next.from",
            "the id of a cycle of this project",
            quote(from),
        ));
    };
    c.next = next.map(str::to_owned);
    if next == Some(from) {
        return Err(QiError::new(
            format!("cycles[{from}].next"),
            "another cycle (a cycle cannot follow itself)",
            quote(from),
        ));
    }
    link_problems(&out)?;
    Ok(out)
}

/// A ramp: cycles in the order they follow each other (by `next`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Ramp {
    /// Cycle ids, first to last.
    pub cycles: Vec<String>,
}

/// The cycles as ramps: each ramp starts at a cycle no other leads to and follows `next`. Ramps
/// are ordered by their first cycle's start date (undated last), then by id. Refused when the
/// links are not valid (see `validate_cycles`).
pub fn ramps(cycles: &[Cycle]) -> Result<Vec<Ramp>, QiError> {
    link_problems(cycles)?;
    let index: BTreeMap<&str, &Cycle> = cycles.iter().map(|c| (c.id.as_str(), c)).collect();
    let has_previous: BTreeSet<&str> = cycles.iter().filter_map(|c| c.next.as_deref()).collect();
    let mut heads: Vec<&Cycle> = cycles
        .iter()
        .filter(|c| !has_previous.contains(c.id.as_str()))
        .collect();
    heads.sort_by(|a, b| {
        (a.do_.start.is_none(), a.do_.start, &a.id).cmp(&(
            b.do_.start.is_none(),
            b.do_.start,
            &b.id,
        ))
    });
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for head in heads {
        if !seen.insert(head.id.as_str()) {
            continue;
        }
        let mut ramp = vec![head.id.clone()];
        let mut current = head;
        while let Some(next) = current.next.as_deref().and_then(|n| index.get(n)) {
            if !seen.insert(next.id.as_str()) {
                break;
            }
            ramp.push(next.id.clone());
            current = next;
        }
        out.push(Ramp { cycles: ramp });
    }
    Ok(out)
}
