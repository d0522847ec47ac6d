//! A Datix-style export for the demo's upload journey: the latest month of one trust's
//! restrictive interventions as that trust's own system would export them (its own column names,
//! dd/mm/yyyy dates, words for restraint types), and the saved column mapping that turns it back
//! into the canonical form. Uploading it changes nothing but proves the path (the records are
//! already held: 0 new, N updated).

use domain::codes::InterventionType;

/// Canonical column -> the trust's own column name.
const COLUMNS: &[(&str, &str)] = &[
    ("RestrictiveIntIncID", "Incident Ref"),
    ("RestrictiveIntTypeID", "Intervention No"),
    ("NHSNumber", "NHS No"),
    ("WardCode", "Ward"),
    ("StartDateRestrictiveIntInc", "Incident date"),
    ("StartTimeRestrictiveIntInc", "Incident time"),
    ("EndDateRestrictiveIntInc", "Incident end date"),
    ("EndTimeRestrictiveIntInc", "Incident end time"),
    ("RestrictiveIntReason", "Reason code"),
    ("PostIncidentReviewPatient", "Debrief with patient"),
    ("PostIncidentReviewStaff", "Staff debrief"),
    ("RestrictiveIntType", "Type of restraint"),
    ("StartDateRestrictiveIntType", "Start date"),
    ("StartTimeRestrictiveIntType", "Start time"),
    ("EndDateRestrictiveIntType", "End date"),
    ("EndTimeRestrictiveIntType", "End time"),
    ("PatientInjury", "Patient injured"),
    ("StaffInjury", "Staff injured"),
    ("OtherPersonInjury", "Other person injured"),
];

/// The trust's words for the commonest types (others use the national labels, which the
/// importer reads as they are).
const TYPE_WORDS: &[(&str, &str)] = &[
    ("01", "Prone restraint"),
    ("09", "Supine restraint"),
    ("07", "Standing restraint"),
    ("14", "Rapid tranquillisation"),
    ("05", "Seclusion"),
];

pub const MAPPING_NAME: &str = "datix-restrictive";

pub fn mapping_json() -> String {
    let columns: serde_json::Map<String, serde_json::Value> = COLUMNS
        .iter()
        .map(|(canon, theirs)| (theirs.to_string(), canon.to_string().into()))
        .collect();
    let types: serde_json::Map<String, serde_json::Value> = TYPE_WORDS
        .iter()
        .map(|(code, word)| (word.to_string(), code.to_string().into()))
        .collect();
    serde_json::json!({
        "name": MAPPING_NAME,
        "kind": "restrictive_interventions",
        "columns": columns,
        "values": { "RestrictiveIntType": types }
    })
    .to_string()
}

/// The rows of `canonical` (the generated restrictive interventions file) for `trust` in the
/// file's latest month, in the trust's own export format.
/// The canonical restrictive-interventions file lacks what the export needs (a bug in the
/// generator, never user input).
#[derive(Debug, thiserror::Error)]
#[error("the restrictive interventions file cannot be exported Datix-style: {0}")]
pub struct ExportError(String);

trait Context<T> {
    fn context(self, what: &str) -> Result<T, ExportError>;
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: &str) -> Result<T, ExportError> {
        self.ok_or_else(|| ExportError(what.to_string()))
    }
}

pub fn export(canonical: &str, trust: &str) -> Result<String, ExportError> {
    let mut lines = canonical.lines();
    let header: Vec<&str> = lines.next().context("empty file")?.split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let ward = col("WardCode").context("WardCode")?;
    let day = col("StartDateRestrictiveIntInc").context("date")?;
    let kind = col("RestrictiveIntType").context("type")?;
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let last_month = rows
        .iter()
        .filter_map(|r| r.get(day).map(|d| &d[..7.min(d.len())]))
        .max()
        .context("no rows")?
        .to_string();
    let prefix = format!("{trust}-");
    let order: Vec<usize> = COLUMNS
        .iter()
        .map(|(c, _)| col(c).context(c))
        .collect::<Result<_, _>>()?;
    let mut out = COLUMNS
        .iter()
        .map(|(_, t)| *t)
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    for r in rows
        .iter()
        .filter(|r| r[ward].starts_with(&prefix) && r[day].starts_with(&last_month))
    {
        let cells: Vec<String> = order
            .iter()
            .map(|&i| {
                let v = r[i];
                if header[i].contains("Date") {
                    // 2025-10-31 -> 31/10/2025, as UK exports write it.
                    let p: Vec<&str> = v.split('-').collect();
                    if p.len() == 3 {
                        return format!("{}/{}/{}", p[2], p[1], p[0]);
                    }
                } else if i == kind {
                    if let Some((_, w)) = TYPE_WORDS.iter().find(|(c, _)| *c == v) {
                        return w.to_string();
                    }
                    if let Ok(t) = InterventionType::parse(v) {
                        return format!("\"{}\"", t.label());
                    }
                }
                v.to_string()
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    Ok(out)
}
