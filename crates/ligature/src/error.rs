//! The one error of this crate: which field, what was expected, what was found.

use std::fmt;

/// A problem with one field of an area, a point, an audit, an action or a photo.
///
/// `field` names the field as a path (`points[P-12].residual.likelihood`, `area`, `due`),
/// `expected` says what would have been accepted and `found` what was there.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
pub struct Problem {
    pub field: String,
    pub expected: String,
    pub found: String,
}

impl Problem {
    pub fn new(
        field: impl Into<String>,
        expected: impl Into<String>,
        found: impl fmt::Display,
    ) -> Problem {
        Problem {
            field: field.into(),
            expected: expected.into(),
            found: found.to_string(),
        }
    }

    /// The same problem under a longer path (`points[P-3]` + `.area`).
    pub fn within(mut self, prefix: &str) -> Problem {
        self.field = if self.field.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, found {}",
            self.field, self.expected, self.found
        )
    }
}

/// Several problems, reported together (nothing is changed while there is one).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}
