//! Saved column mappings: how one trust's export (its own column names and code labels, e.g.
//! "Prone restraint") becomes the canonical form. Stored as JSON:
//!
//! ```json
//! {
//!   "name": "rw4-datix-restraint",
//!   "kind": "restrictive_interventions",
//!   "columns": { "Incident Ref": "RestrictiveIntIncID", "Type of restraint": "RestrictiveIntType" },
//!   "values": { "RestrictiveIntType": { "Prone restraint": "01", "Supine restraint": "09" } }
//! }
//! ```
//!
//! Matching ignores case and surrounding spaces. Columns not named keep their own name, so a
//! mapping only needs the columns that differ.

use crate::formats::Kind;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    pub name: String,
    pub kind: String,
    /// Their column name -> canonical column name.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Canonical column -> (their value -> canonical value).
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
}

/// A mapping ready for fast lookups.
#[derive(Clone, Debug, Default)]
pub struct Compiled {
    columns: HashMap<String, String>,
    /// Canonical column name -> their column name, for error messages in their words.
    theirs: HashMap<String, String>,
    values: HashMap<String, HashMap<String, String>>,
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

impl Mapping {
    pub fn from_json(text: &str) -> Result<Mapping, String> {
        serde_json::from_str(text).map_err(|e| format!("the mapping is not valid JSON ({e}); expected {{\"name\", \"kind\", \"columns\", \"values\"}}"))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Check the mapping against its kind: every target must be a canonical column.
    pub fn check(&self) -> Result<Kind, String> {
        let kind = Kind::parse(&self.kind)?;
        if self.name.trim().is_empty() {
            return Err("the mapping has no name".into());
        }
        let known: Vec<&str> = kind.columns().iter().map(|c| c.name).collect();
        let is_known = |c: &str| known.iter().any(|k| k.eq_ignore_ascii_case(c.trim()));
        for (theirs, ours) in &self.columns {
            if !is_known(ours) {
                return Err(format!(
                    "column '{theirs}' maps to '{ours}', which is not a {} column; expected one of {}",
                    kind.as_str(),
                    known.join(", ")
                ));
            }
        }
        for col in self.values.keys() {
            if !is_known(col) {
                return Err(format!(
                    "value mapping for '{col}', which is not a {} column; expected one of {}",
                    kind.as_str(),
                    known.join(", ")
                ));
            }
        }
        Ok(kind)
    }

    pub fn compile(&self) -> Compiled {
        Compiled {
            theirs: self
                .columns
                .iter()
                .map(|(k, v)| (v.trim().to_string(), k.trim().to_string()))
                .collect(),
            columns: self
                .columns
                .iter()
                .map(|(k, v)| (norm(k), v.trim().to_string()))
                .collect(),
            values: self
                .values
                .iter()
                .map(|(col, m)| {
                    (
                        norm(col),
                        m.iter()
                            .map(|(k, v)| (norm(k), v.trim().to_string()))
                            .collect(),
                    )
                })
                .collect(),
        }
    }
}

impl Compiled {
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty() && self.values.is_empty()
    }

    /// The canonical name for one of their column names.
    pub fn column<'a>(&'a self, theirs: &'a str) -> &'a str {
        self.columns
            .get(&norm(theirs))
            .map_or(theirs.trim(), String::as_str)
    }

    /// A canonical column as the user's file names it: `NHS No (NHSNumber)` through a mapping,
    /// the canonical name alone otherwise.
    pub fn display_name(&self, canonical: &str) -> String {
        match self.theirs.get(canonical) {
            Some(t) if !t.eq_ignore_ascii_case(canonical) => format!("{t} ({canonical})"),
            _ => canonical.to_string(),
        }
    }

    /// Translate a value of a canonical column, if the mapping says how.
    pub fn value<'a>(&self, column: &str, v: &'a str) -> Cow<'a, str> {
        if self.values.is_empty() {
            return Cow::Borrowed(v);
        }
        match self.values.get(&norm(column)).and_then(|m| m.get(&norm(v))) {
            Some(mapped) => Cow::Owned(mapped.clone()),
            None => Cow::Borrowed(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datix() -> Mapping {
        Mapping::from_json(
            r#"{"name": "rw4-datix", "kind": "restrictive_interventions",
                "columns": {"Type of restraint": "RestrictiveIntType", "Incident Ref": "RestrictiveIntIncID"},
                "values": {"RestrictiveIntType": {"Prone restraint": "01"}}}"#,
        )
        .unwrap()
    }

    #[test]
    fn columns_and_values_are_translated_ignoring_case() {
        let m = datix();
        assert_eq!(m.check().unwrap(), Kind::RestrictiveInterventions);
        let c = m.compile();
        assert_eq!(c.column(" type of RESTRAINT "), "RestrictiveIntType");
        assert_eq!(c.column("WardCode"), "WardCode");
        assert_eq!(c.value("RestrictiveIntType", "prone restraint"), "01");
        assert_eq!(c.value("RestrictiveIntType", "09"), "09");
    }

    #[test]
    fn a_target_that_is_not_canonical_is_refused() {
        let mut m = datix();
        m.columns.insert("Ward".into(), "Ward Name".into());
        assert!(
            m.check()
                .unwrap_err()
                .contains("not a restrictive_interventions column")
        );
        assert!(Mapping::from_json("{").is_err());
    }
}
