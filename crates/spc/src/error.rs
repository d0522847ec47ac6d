//! Why a series cannot be charted. Indices are positions in the series (from 0), so a
//! caller that knows where each point came from can name the file, line and column.

use crate::settings::ChartKind;
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum SpcError {
    NotFinite {
        index: usize,
    },
    Negative {
        index: usize,
        value: f64,
        chart: ChartKind,
    },
    MissingDenominator {
        index: usize,
        chart: ChartKind,
    },
    NonPositiveDenominator {
        index: usize,
        value: f64,
    },
    ProportionAboveOne {
        index: usize,
        value: f64,
        denominator: f64,
    },
    LengthMismatch {
        values: usize,
        denominators: usize,
    },
    Setting(String),
}

impl SpcError {
    /// The point the error is about, if it is about one.
    pub fn index(&self) -> Option<usize> {
        match self {
            SpcError::NotFinite { index }
            | SpcError::Negative { index, .. }
            | SpcError::MissingDenominator { index, .. }
            | SpcError::NonPositiveDenominator { index, .. }
            | SpcError::ProportionAboveOne { index, .. } => Some(*index),
            _ => None,
        }
    }

    /// Whether the error is about the denominator rather than the value.
    pub fn is_about_denominator(&self) -> bool {
        matches!(
            self,
            SpcError::MissingDenominator { .. } | SpcError::NonPositiveDenominator { .. }
        )
    }
}

impl fmt::Display for SpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpcError::NotFinite { .. } => {
                write!(
                    f,
                    "value is not a finite number; expected a number such as 12.5"
                )
            }
            SpcError::Negative { value, chart, .. } => write!(
                f,
                "value {value} is negative; a {chart} chart expects counts, times or events of 0 or more"
            ),
            SpcError::MissingDenominator { chart, .. } => write!(
                f,
                "missing denominator; a {chart} chart needs the exposure (e.g. occupied bed days) for every point with a value"
            ),
            SpcError::NonPositiveDenominator { value, .. } => write!(
                f,
                "denominator {value} is not above zero; expected the exposure, a number greater than 0"
            ),
            SpcError::ProportionAboveOne {
                value, denominator, ..
            } => write!(
                f,
                "value {value} is larger than its denominator {denominator}; a proportion expects 0 <= value <= denominator"
            ),
            SpcError::LengthMismatch {
                values,
                denominators,
            } => write!(
                f,
                "{values} values but {denominators} denominators; expected one denominator per value"
            ),
            SpcError::Setting(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for SpcError {}
