//! The one error of this crate: which field, what was expected, what was found.

use std::fmt;

/// A problem with one field of a referral or with one input of a formula.
///
/// `field` names the field as a path (`contacts[2].at`, `onset`, `target_wait`), `expected`
/// says what would have been accepted and `found` what was there.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
pub struct PathwayError {
    pub field: String,
    pub expected: String,
    pub found: String,
}

impl PathwayError {
    pub fn new(
        field: impl Into<String>,
        expected: impl Into<String>,
        found: impl fmt::Display,
    ) -> PathwayError {
        PathwayError {
            field: field.into(),
            expected: expected.into(),
            found: found.to_string(),
        }
    }
}

impl fmt::Display for PathwayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, found {}",
            self.field, self.expected, self.found
        )
    }
}
