//! Dated notes on an organisation's charts (a change tested, a new policy); a note can start a
//! new segment of the chart's limits there (rebase).

use serde::Serialize;
use time::Date;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Annotation {
    pub id: i64,
    pub org: String,
    /// `None`: the note belongs to every measure of the organisation.
    pub measure: Option<String>,
    #[serde(serialize_with = "crate::series::iso_date")]
    pub date: Date,
    pub text: String,
    pub rebase: bool,
    pub author: String,
}
