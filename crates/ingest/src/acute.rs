//! Self-harm incidents among acute trusts' patients (issue 12, item 4): the `acute_self_harm`
//! upload. Its own kind and table (`store::acute`, migration 0018), through the same import
//! path as every upload: the table reader, saved mappings, pseudonyms, one transaction and
//! FILE:LINE:COLUMN problems. An incident belongs to a trust (named by its ODS code: an acute
//! trust has no mental health wards) and is held against the patient's pseudonym, so the
//! patients upload gives its age band, sex and ethnic group.

use crate::formats::ColumnSpec;
use crate::formats::col;
use crate::parse::{Clock, Record, Reference, RowReader, local_id};
use crate::pseudonym::Pseudonymiser;
use domain::codes::{AcuteSetting, Harm};
use domain::dates::{PeriodKind, day_number, minute_number};
use domain::{OdsCode, OrgLevel};
use std::sync::Arc;
use store::Batch;
use store::acute::AcuteRow;
use time::PrimitiveDateTime;

pub const COLUMNS: &[ColumnSpec] = &[
    col!(
        "IncidentID",
        true,
        "The risk system's incident identifier",
        "LFPSE-55012",
    ),
    col!(
        "OrgCode",
        true,
        "ODS code of the trust whose patient it was (a trust already uploaded)",
        "R8C",
    ),
    col!(
        "NHSNumber",
        true,
        "NHS number of the patient (pseudonymised on the way in, never stored)",
        "9990000026",
    ),
    col!(
        "IncidentDate",
        true,
        "Date (or date and time) of the incident",
        "2024-03-01",
    ),
    col!(
        "IncidentTime",
        false,
        "Time of the incident (blank: kept at 00:00 of the date)",
        "02:40",
    ),
    col!(
        "Setting",
        true,
        "Where it happened: emergency_department (ED, A&E), acute_ward or other",
        "emergency_department",
    ),
    col!(
        "PhysicalHarm",
        false,
        "LFPSE physical harm: none, low, moderate, severe, fatal",
        "low",
    ),
];

pub const NOTE: &str = "One row per self-harm incident among the trust's patients, in any setting of an acute trust; the existing `incidents` upload stays for mental health wards. The trust is named by its ODS code and must already be uploaded (an acute trust joins with the organisations upload, `OrgType` `acute`). Re-uploading an incident (same trust and `IncidentID`) updates it. The patient's age band, sex and ethnic group come from the patients upload, as for the other uploads; an incident dated before the patient's year of birth is refused.";

/// One incident, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct AcuteIncident {
    pub trust: Arc<str>,
    pub local_id: String,
    pub patient: domain::records::Pseudonym,
    pub at: PrimitiveDateTime,
    pub setting: AcuteSetting,
    pub harm: Option<Harm>,
}

/// A setting as written: its code, its label, or the names departments use.
pub fn setting(s: &str) -> Result<AcuteSetting, String> {
    let t = s.trim().to_ascii_lowercase();
    match t.as_str() {
        "ed" | "a&e" | "a & e" | "ae" | "emergency" | "accident and emergency" => {
            Ok(AcuteSetting::EmergencyDepartment)
        }
        "ward" | "inpatient ward" => Ok(AcuteSetting::AcuteWard),
        _ => AcuteSetting::parse(s),
    }
}

/// The trust a row names in `col`: a trust already uploaded, and the uploader's own when the
/// upload is bound to one.
pub(crate) fn trust(r: &mut RowReader, col: &str, reference: &Reference) -> Option<Arc<str>> {
    let code = r.req(col, |s| {
        OdsCode::parse(s, OrgLevel::Trust).map_err(|e| e.to_string())
    })?;
    match reference.orgs.get(code.as_str()) {
        Some((OrgLevel::Trust, _)) => {}
        Some((level, _)) => {
            r.fail(
                col,
                format!(
                    "'{code}' is a {}, not a trust; expected the ODS code of a trust",
                    level.as_str()
                ),
            );
            return None;
        }
        None => {
            r.fail(
                col,
                format!(
                    "trust '{code}' is not known; expected a trust already uploaded (upload the organisations file first)"
                ),
            );
            return None;
        }
    }
    if let Some(own) = &reference.only_trust
        && own.as_str() != code.as_str()
    {
        r.fail(
            col,
            format!("'{code}' is another trust; you can upload only for {own}"),
        );
        return None;
    }
    Some(Arc::from(code.as_str()))
}

pub(crate) fn parse_row(
    r: &mut RowReader,
    reference: &Reference,
    keys: &mut Pseudonymiser,
) -> Option<(String, Record)> {
    let id = r.req("IncidentID", local_id);
    let trust = trust(r, "OrgCode", reference);
    let patient = r.nhs("NHSNumber", keys, true);
    let when = r
        .when("IncidentDate", "IncidentTime", true, Clock::Optional)
        .map(|w| w.map(|w| w.at));
    let place = r.req("Setting", setting);
    let harm = r.opt("PhysicalHarm", Harm::parse);
    let (Some(id), Some(trust), Some(Some(patient)), Some(Some(at)), Some(place), Some(harm)) =
        (id, trust, patient, when, place, harm)
    else {
        return None;
    };
    r.check_birth("IncidentDate", reference, &patient, at.date());
    if !r.errors.is_empty() {
        return None;
    }
    Some((
        format!("{trust}|{id}"),
        Record::Acute(AcuteIncident {
            trust,
            local_id: id,
            patient,
            at,
            setting: place,
            harm,
        }),
    ))
}

/// The duplicate check's column and words for an incident.
pub(crate) fn duplicate(x: &AcuteIncident) -> (&'static str, String) {
    (
        "IncidentID",
        format!("incident {} of trust {}", x.local_id, x.trust),
    )
}

pub(crate) fn batch(rows: Vec<AcuteIncident>) -> Batch {
    Batch::acute_self_harm(
        rows.into_iter()
            .map(|x| {
                let d = x.at.date();
                AcuteRow {
                    trust_code: x.trust,
                    incident_id: x.local_id,
                    patient: x.patient.0,
                    at_min: minute_number(x.at),
                    day: i64::from(day_number(d)),
                    month_start: i64::from(day_number(PeriodKind::Month.start_of(d))),
                    week_start: i64::from(day_number(PeriodKind::Week.start_of(d))),
                    setting: x.setting.code(),
                    physical_harm: x.harm.map(|h| h.code()),
                }
            })
            .collect(),
    )
}
