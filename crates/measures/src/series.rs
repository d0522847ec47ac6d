//! A measure's values for one organisation, period by period: what `store` computes from the
//! uploaded records and every chart, table, download and summary is drawn from.

use domain::dates::iso;
use serde::Serialize;
use time::Date;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeasurePoint {
    /// First day of the period (or the incident's day, for days-between charts).
    #[serde(serialize_with = "iso_date")]
    pub period: Date,
    /// The count (or statistic) before dividing.
    pub numerator: f64,
    /// The denominator, where the measure has one; for a median, the number of events it is
    /// the middle of.
    pub denominator: Option<f64>,
    /// The charted value; `None` for a period with no data (a gap, never a zero).
    pub value: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeasureSeries {
    pub measure: &'static str,
    pub org: String,
    pub points: Vec<MeasurePoint>,
}

/// Dates in JSON as ISO 8601 (`2024-03-01`).
pub fn iso_date<S: serde::Serializer>(d: &Date, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&iso(*d))
}
