//! The one error of this crate: which field, what was expected, what was found.

use serde::Serialize;

/// A problem with one field of a project, a cycle, a driver diagram or the data handed to the
/// progress scale. `field` is a path a form can point at (`aim.target_date`,
/// `cycles[c2].do.end`, `change_ideas[ci1]`); `expected` says what would have been accepted and
/// `found` what was there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: expected {expected}; found {found}")]
pub struct QiError {
    pub field: String,
    pub expected: String,
    pub found: String,
}

impl QiError {
    pub fn new(
        field: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> QiError {
        QiError {
            field: field.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}

/// Several problems at once (a form shows them all); empty means valid.
pub type Problems = Vec<QiError>;

/// `Ok(())` when there is no problem, otherwise every problem found.
pub fn into_result(problems: Problems) -> Result<(), Problems> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
