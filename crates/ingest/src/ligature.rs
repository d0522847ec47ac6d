//! The ligature register (issue 13) between the store's rows and `ligature`'s types, both ways
//! (as `freed` does for referrals), so `store::ligature` holds rows and SQL only and every
//! reader (the pages, the API, the demo, the importer) builds the register the same way: a
//! ward's signed-off audits replayed by `ligature::Register::replay`.
//!
//! It also reads a trust's existing audit spreadsheet (`read_audit_file`): CSV or Excel through
//! the same table reader as every upload (`table::Content`: encodings, delimiters, binary files
//! refused) and an optional saved mapping, one row per point, checked whole against the ward's
//! register and written as one signed-off audit in one transaction; any problem is reported as
//! `FILE:LINE:COLUMN: reason` and nothing is written.

use crate::formats::ColumnSpec;
use crate::formats::col;
use crate::mapping::Compiled;
use crate::table::Content;
use domain::dates::{date_from_day, day_number, parse_date};
use ligature::{
    Action, ActionStatus, Area, Audit, ControlKind, Finding, HeightBand, PointState, PointType,
    Register, Risk, SignOff, Tier,
};
use std::collections::BTreeMap;
use store::Store;
use store::ligature::{ActionRow, AreaRow, AuditRow, FindingRow, NewAudit, WardAudits};
use textfile::FileError;

/// A stored state as `ligature`'s type; a row the store holds that does not read back is an
/// internal error naming the audit, the point and the field.
pub fn state_of(f: &FindingRow) -> Result<PointState, String> {
    let at = |e: ligature::Problem| format!("audit {} point {}: {e}", f.audit_id, f.point_ref);
    Ok(PointState {
        area: f.area_code.clone(),
        location: f.location.clone(),
        description: f.description.clone(),
        kind: PointType::parse(&f.kind).map_err(at)?,
        height: HeightBand::parse(&f.height).map_err(at)?,
        inherent: Risk::new(f.inherent_likelihood, f.inherent_consequence).map_err(at)?,
        residual: Risk::new(f.residual_likelihood, f.residual_consequence).map_err(at)?,
        controls: ControlKind::parse_list(&f.controls).map_err(at)?,
        review_due: date_from_day(f.review_day as i32),
    })
}

/// A finding's row: the state after it (a present or removed point keeps the state it had).
pub fn finding_row(
    audit_id: i64,
    point: &str,
    change: &str,
    s: &PointState,
    note: &str,
) -> FindingRow {
    FindingRow {
        audit_id,
        point_ref: point.to_string(),
        finding: change.to_string(),
        area_code: s.area.clone(),
        location: s.location.clone(),
        description: s.description.clone(),
        kind: s.kind.code().into(),
        height: s.height.code().into(),
        inherent_likelihood: i64::from(s.inherent.likelihood()),
        inherent_consequence: i64::from(s.inherent.consequence()),
        residual_likelihood: i64::from(s.residual.likelihood()),
        residual_consequence: i64::from(s.residual.consequence()),
        controls: ControlKind::join(&s.controls),
        review_day: i64::from(day_number(s.review_due)),
        note: note.to_string(),
    }
}

/// The rows of an audit's findings, with the register it is applied to (for the state of a
/// point found present or removed).
pub fn finding_rows(audit_id: i64, audit: &Audit, register: &Register) -> Vec<FindingRow> {
    audit
        .findings
        .iter()
        .filter_map(|(r, f)| {
            let s = match f {
                Finding::New(s) | Finding::Changed(s) => s.clone(),
                Finding::Present | Finding::Removed => register.points.get(r)?.state().clone(),
            };
            Some(finding_row(audit_id, r, f.change().code(), &s, ""))
        })
        .collect()
}

pub fn area_row(audit_id: i64, a: &Area) -> AreaRow {
    AreaRow {
        audit_id,
        area_code: a.code.clone(),
        name: a.name.clone(),
        tier: i64::from(a.tier.number()),
    }
}

/// One audit from its rows.
pub fn audit_of(
    row: &AuditRow,
    areas: &[&AreaRow],
    findings: &[&FindingRow],
) -> Result<Audit, String> {
    let mut out = Audit {
        id: row.id,
        ward: row.ward_code.clone(),
        date: date_from_day(row.audit_day as i32),
        assessor: row.assessor.clone(),
        areas: Vec::new(),
        findings: BTreeMap::new(),
        signed_off: match (&row.signed_by, row.signed_day) {
            (Some(by), Some(d)) if row.status == "signed" => Some(SignOff {
                by: by.clone(),
                on: date_from_day(d as i32),
            }),
            _ => None,
        },
    };
    for a in areas {
        let tier = Tier::from_number(a.tier)
            .map_err(|e| format!("audit {} area {}: {e}", row.id, a.area_code))?;
        out.areas.push(Area {
            code: a.area_code.clone(),
            name: a.name.clone(),
            tier,
        });
    }
    for f in findings {
        let finding = match f.finding.as_str() {
            "present" => Finding::Present,
            "removed" => Finding::Removed,
            "changed" => Finding::Changed(state_of(f)?),
            "new" => Finding::New(state_of(f)?),
            other => {
                return Err(format!(
                    "audit {} point {}: unknown finding '{other}'",
                    row.id, f.point_ref
                ));
            }
        };
        out.findings.insert(f.point_ref.clone(), finding);
    }
    Ok(out)
}

/// A ward's audits (signed and drafts) from its rows.
pub fn audits_of(rows: &WardAudits) -> Result<Vec<Audit>, String> {
    let mut areas: BTreeMap<i64, Vec<&AreaRow>> = BTreeMap::new();
    for a in &rows.areas {
        areas.entry(a.audit_id).or_default().push(a);
    }
    let mut findings: BTreeMap<i64, Vec<&FindingRow>> = BTreeMap::new();
    for f in &rows.findings {
        findings.entry(f.audit_id).or_default().push(f);
    }
    rows.audits
        .iter()
        .map(|a| {
            audit_of(
                a,
                areas.get(&a.id).map_or(&[][..], Vec::as_slice),
                findings.get(&a.id).map_or(&[][..], Vec::as_slice),
            )
        })
        .collect()
}

/// A ward's register (its signed-off audits replayed), with its audits (drafts included) and
/// their rows.
pub struct Held {
    pub register: Register,
    pub audits: Vec<Audit>,
    pub rows: WardAudits,
}

pub async fn held(store: &Store, ward: &str) -> Result<Held, String> {
    let rows = store
        .ligature_ward_audits(ward)
        .await
        .map_err(|e| e.to_string())?;
    let audits = audits_of(&rows)?;
    let register = Register::replay(ward, &audits).map_err(|e| format!("ward {ward}: {e}"))?;
    Ok(Held {
        register,
        audits,
        rows,
    })
}

/// A ward's register as an incident names its places (issue 13, item 4): every area it has
/// recorded and every point with its area at each signed-off audit, oldest first. Read by the
/// incidents upload on a ward's first row that names a place (`Reference::ligature`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Places {
    pub areas: std::collections::BTreeSet<String>,
    pub points: BTreeMap<String, Vec<(time::Date, String)>>,
}

impl Places {
    pub fn of(register: &Register) -> Places {
        Places {
            areas: register.areas.keys().cloned().collect(),
            points: register
                .points
                .iter()
                .map(|(r, p)| {
                    let h = p
                        .history()
                        .iter()
                        .map(|h| (h.date, h.state.area.clone()))
                        .collect();
                    (r.clone(), h)
                })
                .collect(),
        }
    }

    /// The point's area on `day`: as its last audit on or before the day recorded it (its first
    /// audit's, for a day before it was first recorded); `None` for a point not on the register.
    pub fn area_of(&self, point: &str, day: time::Date) -> Option<&str> {
        let h = self.points.get(point)?;
        h.iter()
            .rev()
            .find(|(d, _)| *d <= day)
            .or(h.first())
            .map(|(_, a)| a.as_str())
    }
}

/// The places of a ward's register (its signed-off audits replayed).
pub async fn places(store: &Store, ward: &str) -> Result<Places, String> {
    Ok(Places::of(&held(store, ward).await?.register))
}

/// An action from its row.
pub fn action_of(r: &ActionRow) -> Result<Action, String> {
    Ok(Action {
        point: r.point_ref.clone(),
        description: r.description.clone(),
        owner: r.owner.clone(),
        raised: date_from_day(r.raised_day as i32),
        due: date_from_day(r.due_day as i32),
        status: ActionStatus::parse(&r.status).map_err(|e| format!("action {}: {e}", r.id))?,
        closed: r.closed_day.map(|d| date_from_day(d as i32)),
        reference: r.reference.clone(),
    })
}

// ---------------------------------------------------------------------------------------------
// A trust's audit spreadsheet.

/// The columns of a ligature audit spreadsheet: one row per point the audit walked.
pub const AUDIT_COLUMNS: &[ColumnSpec] = &[
    col!(
        "WardCode",
        true,
        "The ward audited (every row the same ward)",
        "R9A-ASH",
    ),
    col!(
        "AuditDate",
        true,
        "The day of the audit (every row the same)",
        "2024-03-14",
    ),
    col!("Assessor", true, "Who audited and signs it off", "J. Smith"),
    col!(
        "AreaCode",
        true,
        "The ward's own code for the room or space",
        "BED-03",
    ),
    col!("AreaName", true, "The room or space", "Bedroom 3"),
    col!("Tier", true, "CQC tier of the area: 1, 2 or 3", "3"),
    col!(
        "PointRef",
        true,
        "The point's lasting reference on the ward",
        "ASH-017",
    ),
    col!(
        "Finding",
        false,
        "present, changed, removed or new; blank: new if the register does not hold the point, changed if it does",
        "new",
    ),
    col!(
        "Location",
        true,
        "Where in the area",
        "Above the en-suite door",
    ),
    col!("Description", true, "What the point is", "Door closer arm"),
    col!(
        "PointType",
        true,
        "door, window, rail, sanitary, bed, wardrobe, pipe or other",
        "door",
    ),
    col!(
        "HeightBand",
        true,
        "low (below 1.2 m), middle (1.2-2 m) or high (above 2 m)",
        "high",
    ),
    col!("Likelihood", true, "Likelihood before controls, 1-5", "4"),
    col!("Consequence", true, "Consequence before controls, 1-5", "5"),
    col!(
        "Controls",
        false,
        "anti_ligature, observation, restricted_access, staff_vigilance; several separated by ';'",
        "observation; staff_vigilance",
    ),
    col!(
        "ResidualLikelihood",
        true,
        "Likelihood after controls, 1-5",
        "3",
    ),
    col!(
        "ResidualConsequence",
        true,
        "Consequence after controls, 1-5",
        "5",
    ),
    col!(
        "ReviewDate",
        true,
        "When the point is next reviewed",
        "2024-09-14",
    ),
];

/// Problems listed for one file; the rest are counted.
pub const MAX_ERRORS: usize = 50;

/// A checked audit file: the audit, its area rows and finding rows (audit id 0 until written).
#[derive(Debug)]
pub struct AuditFile {
    pub audit: Audit,
    pub trust: String,
    pub rows: usize,
}

fn err(file: &str, line: usize, column: usize, message: impl Into<String>) -> FileError {
    FileError::new(file, line, column, message)
}

/// Read a trust's audit spreadsheet against the ward's register (`register_of` gives the
/// register of the ward the file names, and its trust; `None` for a ward not held). Every
/// problem is returned, each at its line and column.
pub fn read_audit_file(
    file: &str,
    bytes: &[u8],
    mapping: &Compiled,
    register_of: &dyn Fn(&str) -> Option<(Register, String)>,
) -> Result<AuditFile, Vec<FileError>> {
    let content = Content::open(bytes).map_err(|p| vec![err(file, p.line, p.column, p.message)])?;
    let text = content.text();
    let mut rows = content.rows();
    let mut fields = Vec::new();
    let mut errors = Vec::new();
    match rows.next_row(&mut fields) {
        Ok(true) => {}
        Ok(false) => {
            return Err(vec![err(
                file,
                1,
                1,
                "the file is empty; expected a header line and a row per point",
            )]);
        }
        Err(p) => return Err(vec![err(file, p.line, p.column, p.message)]),
    }
    let header: Vec<String> = fields
        .iter()
        .map(|f| mapping.column(f.text.trim()).to_ascii_lowercase())
        .collect();
    let mut at: BTreeMap<&str, usize> = BTreeMap::new();
    for c in AUDIT_COLUMNS {
        match header.iter().position(|h| h.eq_ignore_ascii_case(c.name)) {
            Some(i) => {
                at.insert(c.name, i);
            }
            None if c.required => errors.push(err(
                file,
                1,
                1,
                format!(
                    "the header has no column {}; expected the columns of a ligature audit (docs/formats.md)",
                    mapping.display_name(c.name)
                ),
            )),
            None => {}
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let width = fields.len();
    struct Line {
        line: usize,
        cells: Vec<(String, usize)>,
    }
    let mut lines = Vec::new();
    loop {
        match rows.next_row(&mut fields) {
            Ok(true) => {}
            Ok(false) => break,
            Err(p) => {
                errors.push(err(file, p.line, p.column, p.message));
                break;
            }
        }
        let line = fields[0].line;
        if fields.iter().all(|f| f.text.trim().is_empty()) {
            continue;
        }
        if fields.len() != width {
            errors.push(err(
                file,
                line,
                fields.last().map_or(1, |f| f.column(text)),
                format!(
                    "the row has {} fields but the header has {width}",
                    fields.len()
                ),
            ));
            continue;
        }
        lines.push(Line {
            line,
            cells: fields
                .iter()
                .map(|f| (f.text.to_string(), f.column(text)))
                .collect(),
        });
    }
    if lines.is_empty() && errors.is_empty() {
        errors.push(err(
            file,
            2,
            1,
            "no rows; expected a row per point the audit walked",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let cell = |l: &Line, name: &str| -> (String, usize) {
        at.get(name)
            .and_then(|i| l.cells.get(*i))
            .map(|(t, c)| (mapping.value(name, t.trim()).into_owned(), *c))
            .unwrap_or_else(|| (String::new(), 1))
    };
    // The ward, date and assessor: the first row's, and every row the same.
    let first = &lines[0];
    let (ward_text, ward_col) = cell(first, "WardCode");
    let ward = ward_text.trim().to_ascii_uppercase();
    let Some((register, trust)) = register_of(&ward) else {
        return Err(vec![err(
            file,
            first.line,
            ward_col,
            format!("ward '{ward}' is not held; expected a ward uploaded before (wards file)"),
        )]);
    };
    let (date_text, date_col) = cell(first, "AuditDate");
    let date = match parse_date(&date_text) {
        Ok(d) => d,
        Err(e) => {
            return Err(vec![err(
                file,
                first.line,
                date_col,
                format!("AuditDate: expected a date such as 2024-03-14; {e}"),
            )]);
        }
    };
    let (assessor, _) = cell(first, "Assessor");
    let mut audit = Audit {
        id: 0,
        ward: ward.clone(),
        date,
        assessor: assessor.clone(),
        areas: Vec::new(),
        findings: BTreeMap::new(),
        signed_off: Some(SignOff {
            by: assessor.clone(),
            on: date,
        }),
    };
    // Where each point's finding came from (line, and the Finding column or PointRef's).
    let mut origin: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut area_lines: BTreeMap<String, (usize, Area)> = BTreeMap::new();
    for l in &lines {
        let mut problem = |name: &str, message: String| {
            let (_, c) = cell(l, name);
            errors.push(err(file, l.line, c, message));
        };
        for (name, want) in [
            ("WardCode", ward.as_str()),
            ("AuditDate", date_text.as_str()),
            ("Assessor", assessor.as_str()),
        ] {
            let (v, _) = cell(l, name);
            let same = if name == "WardCode" {
                v.trim().eq_ignore_ascii_case(want)
            } else {
                v.trim() == want.trim()
            };
            if !same {
                problem(
                    name,
                    format!(
                        "{name}: expected the same as line {} ('{want}') in every row of one audit, found '{}'",
                        first.line,
                        v.trim()
                    ),
                );
            }
        }
        let area = match (
            ligature::model::code("AreaCode", &cell(l, "AreaCode").0),
            Tier::parse(&cell(l, "Tier").0),
        ) {
            (Ok(code), Ok(tier)) => match Area::new(&code, &cell(l, "AreaName").0, tier) {
                Ok(a) => Some(a),
                Err(e) => {
                    problem(
                        "AreaName",
                        format!("AreaName: expected {}, found {}", e.expected, e.found),
                    );
                    None
                }
            },
            (a, t) => {
                if let Err(e) = a {
                    problem(
                        "AreaCode",
                        format!("AreaCode: expected {}, found {}", e.expected, e.found),
                    );
                }
                if let Err(e) = t {
                    problem(
                        "Tier",
                        format!("Tier: expected {}, found {}", e.expected, e.found),
                    );
                }
                None
            }
        };
        if let Some(a) = &area {
            match area_lines.get(&a.code) {
                Some((line, held)) if held != a => problem(
                    "Tier",
                    format!(
                        "area {}: expected the same name and tier as on line {line} ('{}', tier {}), found '{}', tier {}",
                        a.code,
                        held.name,
                        held.tier.number(),
                        a.name,
                        a.tier.number()
                    ),
                ),
                Some(_) => {}
                None => {
                    area_lines.insert(a.code.clone(), (l.line, a.clone()));
                }
            }
        }
        let point = match ligature::model::code("PointRef", &cell(l, "PointRef").0) {
            Ok(p) => p,
            Err(e) => {
                problem(
                    "PointRef",
                    format!("PointRef: expected {}, found {}", e.expected, e.found),
                );
                continue;
            }
        };
        if let Some((line, _)) = origin.get(&point) {
            problem(
                "PointRef",
                format!(
                    "point {point} is also on line {line}; expected each point once in an audit"
                ),
            );
            continue;
        }
        let before = errors.len();
        let field = |name: &str| (name.to_string(), cell(l, name).1, l.line);
        let kind = take(
            &mut errors,
            file,
            field("PointType"),
            PointType::parse(&cell(l, "PointType").0),
        );
        let height = take(
            &mut errors,
            file,
            field("HeightBand"),
            HeightBand::parse(&cell(l, "HeightBand").0),
        );
        let inherent_l = take(
            &mut errors,
            file,
            field("Likelihood"),
            Risk::parse(&cell(l, "Likelihood").0, "1"),
        );
        let inherent_c = take(
            &mut errors,
            file,
            field("Consequence"),
            Risk::parse("1", &cell(l, "Consequence").0),
        );
        let residual_l = take(
            &mut errors,
            file,
            field("ResidualLikelihood"),
            Risk::parse(&cell(l, "ResidualLikelihood").0, "1"),
        );
        let residual_c = take(
            &mut errors,
            file,
            field("ResidualConsequence"),
            Risk::parse("1", &cell(l, "ResidualConsequence").0),
        );
        let controls = take(
            &mut errors,
            file,
            field("Controls"),
            ControlKind::parse_list(&cell(l, "Controls").0),
        );
        let review = take(
            &mut errors,
            file,
            field("ReviewDate"),
            parse_date(&cell(l, "ReviewDate").0)
                .map_err(|e| ligature::Problem::new("ReviewDate", "a date such as 2024-09-14", e)),
        );
        let location = take(
            &mut errors,
            file,
            field("Location"),
            ligature::model::text("Location", &cell(l, "Location").0, false),
        );
        let description = take(
            &mut errors,
            file,
            field("Description"),
            ligature::model::text("Description", &cell(l, "Description").0, false),
        );
        let (finding_text, finding_col) = cell(l, "Finding");
        let held = register.points.get(&point);
        let change = match finding_text.trim().to_ascii_lowercase().as_str() {
            "" if held.is_some_and(|p| p.is_open()) => "changed",
            "" => "new",
            "present" | "still present" => "present",
            "changed" | "control changed" => "changed",
            "removed" => "removed",
            "new" | "new point" => "new",
            other => {
                errors.push(err(
                    file,
                    l.line,
                    finding_col,
                    format!("Finding: expected present, changed, removed or new, found '{other}'"),
                ));
                continue;
            }
        };
        if errors.len() > before {
            continue;
        }
        let (
            Some(kind),
            Some(height),
            Some(il),
            Some(ic),
            Some(rl),
            Some(rc),
            Some(controls),
            Some(review),
            Some(location),
            Some(description),
            Some(area),
        ) = (
            kind,
            height,
            inherent_l,
            inherent_c,
            residual_l,
            residual_c,
            controls,
            review,
            location,
            description,
            area.as_ref(),
        )
        else {
            continue;
        };
        let (Ok(inherent), Ok(residual)) = (
            Risk::new(i64::from(il.likelihood()), i64::from(ic.consequence())),
            Risk::new(i64::from(rl.likelihood()), i64::from(rc.consequence())),
        ) else {
            continue;
        };
        let state = PointState {
            area: area.code.clone(),
            location,
            description,
            kind,
            height,
            inherent,
            residual,
            controls,
            review_due: review,
        };
        let finding = match change {
            "present" => Finding::Present,
            "removed" => Finding::Removed,
            "changed" => Finding::Changed(state),
            _ => Finding::New(state),
        };
        origin.insert(
            point.clone(),
            (
                l.line,
                if finding_text.trim().is_empty() {
                    cell(l, "PointRef").1
                } else {
                    finding_col
                },
            ),
        );
        audit.findings.insert(point, finding);
    }
    audit.areas = area_lines.into_values().map(|(_, a)| a).collect();
    if errors.is_empty() {
        // The audit whole against the register: each problem on the line that brings it.
        let last_line = lines.last().map_or(2, |l| l.line);
        for p in register.check(&audit) {
            let point = p
                .field
                .strip_prefix("findings[")
                .and_then(|r| r.split(']').next())
                .map(str::to_string);
            let (line, column) = match point.as_ref().and_then(|r| origin.get(r)) {
                Some(o) => *o,
                None if p.field == "date" => (first.line, date_col),
                None => (last_line + 1, 1),
            };
            let message = if p.field.starts_with("findings[")
                && !origin.contains_key(point.as_deref().unwrap_or(""))
            {
                format!(
                    "the file has no row for {} ({}); expected a row (present, changed or removed) for every open point of the register",
                    point.unwrap_or_default(),
                    p.found.trim_start_matches("none for ")
                )
            } else {
                p.to_string()
            };
            errors.push(err(file, line, column, message));
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| (e.line, e.column));
        if errors.len() > MAX_ERRORS {
            let more = errors.len() - MAX_ERRORS;
            let last = errors[MAX_ERRORS - 1].clone();
            errors.truncate(MAX_ERRORS);
            errors.push(err(
                file,
                last.line,
                last.column,
                format!("and {more} more problems after this one"),
            ));
        }
        return Err(errors);
    }
    Ok(AuditFile {
        audit,
        trust,
        rows: lines.len(),
    })
}

/// What an imported audit wrote.
#[derive(Debug, PartialEq, Eq)]
pub struct Imported {
    pub audit_id: i64,
    pub ward: String,
    pub points: usize,
}

/// An audit spreadsheet to check and (unless `dry_run`) record.
#[derive(Clone, Copy)]
pub struct AuditUpload<'a> {
    pub file: &'a str,
    pub bytes: &'a [u8],
    pub mapping: &'a Compiled,
    /// Who is uploading (a user name).
    pub uploaded_by: &'a str,
    /// Refuse a ward of another trust.
    pub only_trust: Option<&'a str>,
    /// Unix seconds.
    pub now: i64,
    pub dry_run: bool,
}

/// Check an audit spreadsheet against the register of the ward it names and, unless
/// `dry_run`, record it as one signed-off audit in one transaction. `only_trust`: refuse a ward
/// of another trust (an uploader's or lead's own).
pub async fn import_audit(
    store: &Store,
    up: &AuditUpload<'_>,
) -> Result<Result<Imported, Vec<FileError>>, String> {
    let AuditUpload {
        file,
        bytes,
        mapping,
        uploaded_by,
        only_trust,
        now,
        dry_run,
    } = *up;
    // The ward named on the first data row decides whose register is read.
    let wards = store.wards().await.map_err(|e| e.to_string())?;
    let peek = peek_ward(bytes, mapping);
    let mut reg: Option<(Register, String)> = None;
    if let Some(w) = &peek
        && let Some(row) = wards.iter().find(|r| r.code.eq_ignore_ascii_case(w))
    {
        let h = held(store, &row.code).await?;
        reg = Some((h.register, row.trust_code.clone()));
    }
    let parsed = read_audit_file(file, bytes, mapping, &|w: &str| {
        reg.as_ref()
            .filter(|(r, _)| r.ward.eq_ignore_ascii_case(w))
            .cloned()
    });
    let f = match parsed {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    if let Some(t) = only_trust
        && !t.eq_ignore_ascii_case(&f.trust)
    {
        return Ok(Err(vec![err(
            file,
            2,
            1,
            format!(
                "ward {} is of trust {}; expected a ward of your trust {t}",
                f.audit.ward, f.trust
            ),
        )]));
    }
    let Some((register, _)) = reg else {
        return Err("the register read for the file went missing".into());
    };
    let points = f.audit.findings.len();
    if dry_run {
        return Ok(Ok(Imported {
            audit_id: 0,
            ward: f.audit.ward,
            points,
        }));
    }
    let areas: Vec<AreaRow> = f.audit.areas.iter().map(|a| area_row(0, a)).collect();
    let findings = finding_rows(0, &f.audit, &register);
    let day = i64::from(day_number(f.audit.date));
    let id = store
        .record_ligature_audit(
            &NewAudit {
                ward_code: f.audit.ward.clone(),
                trust_code: f.trust.clone(),
                audit_day: day,
                assessor: f.audit.assessor.clone(),
                source: "import".into(),
                upload_id: None,
                created_by: uploaded_by.into(),
                created_at: now,
            },
            &f.audit.assessor,
            day,
            &areas,
            &findings,
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(Ok(Imported {
        audit_id: id,
        ward: f.audit.ward,
        points,
    }))
}

/// The ward the first data row names (to read its register before checking the file).
fn peek_ward(bytes: &[u8], mapping: &Compiled) -> Option<String> {
    let content = Content::open(bytes).ok()?;
    let mut rows = content.rows();
    let mut fields = Vec::new();
    rows.next_row(&mut fields).ok()?;
    let i = fields.iter().position(|f| {
        mapping
            .column(f.text.trim())
            .eq_ignore_ascii_case("WardCode")
    })?;
    rows.next_row(&mut fields).ok()?;
    fields.get(i).map(|f| {
        mapping
            .value("WardCode", f.text.trim())
            .trim()
            .to_ascii_uppercase()
    })
}

/// A cell's value, or its problem recorded at its line and column.
fn take<T>(
    errors: &mut Vec<FileError>,
    file: &str,
    (name, column, line): (String, usize, usize),
    r: Result<T, ligature::Problem>,
) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(err(
                file,
                line,
                column,
                format!("{name}: expected {}, found {}", e.expected, e.found),
            ));
            None
        }
    }
}

/// The upload kind of a ligature audit spreadsheet, as its saved mappings name it.
pub const KIND: &str = "ligature_audits";

/// Check a saved mapping for audit spreadsheets (its kind, and every target one of
/// `AUDIT_COLUMNS`) and make it ready for use.
pub fn check_mapping(m: &crate::mapping::Mapping) -> Result<Compiled, String> {
    if m.kind.trim() != KIND {
        return Err(format!(
            "mapping '{}' is for {} files, not {KIND}; expected a mapping of the same kind",
            m.name, m.kind
        ));
    }
    if m.name.trim().is_empty() {
        return Err("the mapping has no name".into());
    }
    for (theirs, ours) in &m.columns {
        if !AUDIT_COLUMNS
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(ours))
        {
            return Err(format!(
                "mapping '{}': column '{theirs}' maps to '{ours}', which is not a column of a ligature audit; expected one of {}",
                m.name,
                AUDIT_COLUMNS
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(m.compile())
}

/// The section of docs/formats.md for audit spreadsheets.
pub fn markdown() -> String {
    let mut out = String::from(
        "\n## Ligature audits (issue 13; `ligature_audits`)\n\n\
         A trust's existing ligature audit spreadsheet, one row per point the audit walked, as CSV\n\
         or Excel, imported on the ward's register page (`/ligature/ward/{ward}`, the import form) or\n\
         by `POST /api/ligature/wards/{ward}/import`. One file is one audit of one ward: every row\n\
         names the same ward, date and assessor, and the audit is recorded as signed off by that\n\
         assessor. It is checked whole against the ward's register (docs/ligature.md): every open\n\
         point of the register needs a row (still present, changed or removed), a new point's\n\
         reference must not have been used on the ward before, an area keeps one name and tier in\n\
         the file, the residual score cannot be above the score before controls, and the review\n\
         date cannot be before the audit. Any problem is reported as `FILE:LINE:COLUMN: reason` and\n\
         nothing is written. A saved mapping of kind `ligature_audits` turns the trust's own column\n\
         names and values into these.\n\n\
         | column | required | meaning | example |\n|---|---|---|---|\n",
    );
    for c in AUDIT_COLUMNS {
        out.push_str(&format!(
            "| `{}` | {} | {} | `{}` |\n",
            c.name,
            if c.required { "yes" } else { "no" },
            c.description.replace('|', "\\|"),
            c.example
        ));
    }
    out
}
