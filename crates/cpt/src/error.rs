//! The one error of this crate: which field (and, for a file, which line) and what was expected.

use std::fmt;

/// Something in the input that this crate cannot use.
///
/// `field` names the value as a path into the input (`stimuli[3].onset_ms`,
/// `samples[12].x`, `norm.sd`); `line` is the 1-based line of a norms file when the input
/// was text; `expected` says what would have been accepted and `found` what was there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CptError {
    pub field: String,
    pub line: Option<usize>,
    pub expected: String,
    pub found: String,
}

impl CptError {
    pub(crate) fn new(
        field: impl Into<String>,
        expected: impl Into<String>,
        found: impl fmt::Display,
    ) -> Self {
        CptError {
            field: field.into(),
            line: None,
            expected: expected.into(),
            found: found.to_string(),
        }
    }

    pub(crate) fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
}

impl fmt::Display for CptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}, ")?;
        }
        write!(f, "{}: expected {}", self.field, self.expected)?;
        if !self.found.is_empty() {
            write!(f, ", found {}", self.found)?;
        }
        Ok(())
    }
}

impl std::error::Error for CptError {}

/// `Ok(())` when `value` is finite, otherwise an error naming `field`.
pub(crate) fn finite(field: impl FnOnce() -> String, value: f64) -> Result<(), CptError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(CptError::new(field(), "a finite number", value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_line_field_expected_and_found() {
        let e = CptError::new("norm.sd", "a positive number", -3.0).at_line(12);
        assert_eq!(
            e.to_string(),
            "line 12, norm.sd: expected a positive number, found -3"
        );
        let e = CptError::new("samples", "at least one sample", "");
        assert_eq!(e.to_string(), "samples: expected at least one sample");
    }
}
