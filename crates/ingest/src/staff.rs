//! Self-harm and suicide among a trust's staff as monthly aggregate counts (issue 12, item 4):
//! the `staff_harm` upload. Aggregates only, never a person: a file is refused if it holds a
//! column that would identify one. Its own table (`store::acute`, migration 0018), through the
//! same import path as every upload (table reader, mappings, one transaction,
//! FILE:LINE:COLUMN problems). Any trust of the programme can upload, mental health or acute.

use crate::formats::ColumnSpec;
use crate::formats::col;
use crate::parse::{Record, Reference, RowReader};
use std::sync::Arc;
use store::Batch;
use store::acute::StaffMonthRow;
use time::Date;

pub const COLUMNS: &[ColumnSpec] = &[
    col!(
        "OrgCode",
        true,
        "ODS code of the trust (a trust already uploaded)",
        "R8A",
    ),
    col!(
        "Month",
        true,
        "The month counted (its first day, or YYYY-MM)",
        "2024-03",
    ),
    col!(
        "StaffSelfHarm",
        true,
        "Staff known to have self-harmed in the month (a count, 0 or more)",
        "2",
    ),
    col!(
        "StaffSuicides",
        true,
        "Staff who died by suicide in the month (a count, 0 or more)",
        "0",
    ),
    col!(
        "StaffHeadcount",
        false,
        "Staff headcount in the month (the denominator of a rate per 1,000 staff; blank if not known)",
        "4200",
    ),
];

pub const NOTE: &str = "One row per trust and month: counts only, never a person. A column that would identify a person (an NHS number, a name, a date of birth, a staff or employee number) is refused, naming the column, and nothing is imported. A month may appear once per trust in a file; re-uploading a month updates it. Months not uploaded are gaps in the charts, not zeros. Outside the trust these figures are always under disclosure control: a count from 1 to 4 is never shown, nor can it be worked out by difference.";

/// Header names that would identify a person (compared ignoring case, spaces and `_`).
const PERSON_COLUMNS: [&str; 14] = [
    "nhsnumber",
    "name",
    "forename",
    "surname",
    "firstname",
    "lastname",
    "staffname",
    "dateofbirth",
    "personbirthdate",
    "birthdate",
    "dob",
    "staffid",
    "employeeid",
    "employeenumber",
];

/// Why a header column may not be in a staff file, if it would identify a person.
pub fn person_column(name: &str) -> Option<String> {
    let norm: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    PERSON_COLUMNS.contains(&norm.as_str()).then(|| {
        format!(
            "column {} would identify a person; staff files hold monthly counts only, never a person: remove the column",
            name.trim()
        )
    })
}

/// One trust's month, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct StaffMonth {
    pub trust: Arc<str>,
    pub month: Date,
    pub self_harm: u32,
    pub suicides: u32,
    pub headcount: Option<u32>,
}

fn count(s: &str) -> Result<u32, String> {
    s.trim()
        .parse::<u32>()
        .map_err(|_| format!("'{s}' is not a whole number; expected a count of 0 or more"))
}

fn headcount(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "'{s}' is not a headcount; expected a whole number of staff above 0 (or blank)"
        )),
    }
}

fn month(s: &str) -> Result<Date, String> {
    let t = s.trim();
    domain::dates::parse_date(t)
        .or_else(|_| domain::dates::parse_date(&format!("{t}-01")))
        .map_err(|_| format!("'{t}' is not a month; expected YYYY-MM or its first day"))
        .and_then(|d| {
            if (1900..=2100).contains(&d.year()) {
                Ok(d.replace_day(1).unwrap_or(d))
            } else {
                Err(format!("'{t}' is outside 1900-2100; expected a real month"))
            }
        })
}

pub(crate) fn parse_row(r: &mut RowReader, reference: &Reference) -> Option<(String, Record)> {
    let trust = crate::acute::trust(r, "OrgCode", reference);
    let m = r.req("Month", month);
    let self_harm = r.req("StaffSelfHarm", count);
    let suicides = r.req("StaffSuicides", count);
    let staff = r.opt("StaffHeadcount", headcount);
    let (Some(trust), Some(m), Some(self_harm), Some(suicides), Some(staff)) =
        (trust, m, self_harm, suicides, staff)
    else {
        return None;
    };
    if let Some(n) = staff {
        for (col, v) in [("StaffSelfHarm", self_harm), ("StaffSuicides", suicides)] {
            if v > n {
                r.fail(
                    col,
                    format!("{v} is more than the staff headcount ({n}); expected no more staff than the trust has"),
                );
            }
        }
        if !r.errors.is_empty() {
            return None;
        }
    }
    Some((
        format!("{trust}|{}", domain::dates::iso(m)),
        Record::Staff(StaffMonth {
            trust,
            month: m,
            self_harm,
            suicides,
            headcount: staff,
        }),
    ))
}

pub(crate) fn duplicate(x: &StaffMonth) -> (&'static str, String) {
    (
        "Month",
        format!(
            "staff counts of trust {} for {}",
            x.trust,
            &domain::dates::iso(x.month)[..7]
        ),
    )
}

pub(crate) fn batch(rows: Vec<StaffMonth>) -> Batch {
    Batch::staff_harm_months(
        rows.into_iter()
            .map(|x| StaffMonthRow {
                trust_code: x.trust,
                month_start: i64::from(domain::dates::day_number(x.month)),
                self_harm: i64::from(x.self_harm),
                suicides: i64::from(x.suicides),
                headcount: x.headcount.map(i64::from),
            })
            .collect(),
    )
}
