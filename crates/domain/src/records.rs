//! Validated records, as ingest produces them and the store keeps them. A value of these types
//! has passed every check: codes known, dates in order, identifiers well formed.

use crate::codes::*;
use crate::ids::{OdsCode, OrgLevel, WardCode};
use time::{Date, PrimitiveDateTime};

/// A keyed hash (HMAC-SHA256) of an NHS number, hex encoded. Links a patient's records across
/// uploads without holding the number.
/// Shared (`Arc`) because one patient's pseudonym appears on many records.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pseudonym(pub std::sync::Arc<str>);

#[derive(Clone, Debug, PartialEq)]
pub struct Organisation {
    pub code: OdsCode,
    pub name: String,
    pub level: OrgLevel,
    pub parent: Option<OdsCode>,
}

/// A ward and its bed count from a date (a ward may appear once per bed-count change).
#[derive(Clone, Debug, PartialEq)]
pub struct Ward {
    pub code: WardCode,
    pub name: String,
    pub site: OdsCode,
    pub ward_type: WardType,
    pub sex_mix: SexMix,
    pub beds: u32,
    pub beds_from: Date,
}

/// Occupied bed days for a ward: one day of a midnight census, or a month's total.
#[derive(Clone, Debug, PartialEq)]
pub struct BedDays {
    pub ward: WardCode,
    /// The census day, or the first day of the month for monthly totals.
    pub start: Date,
    /// 1 for a daily census; the days in the month for monthly totals.
    pub days: u32,
    pub occupied: f64,
    pub on_leave: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Patient {
    pub pseudonym: Pseudonym,
    /// Only the year of birth is kept (enough for age bands, less identifying than a date).
    pub birth_year: Option<i32>,
    pub sex: Sex,
    pub ethnic_category: EthnicCategory,
    pub ld_autism: LdAutism,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WardStay {
    pub local_id: String,
    pub patient: Pseudonym,
    pub ward: WardCode,
    pub start: Date,
    /// `None` while the patient is still on the ward.
    pub end: Option<Date>,
}

/// One restrictive intervention, with its incident's columns (MHSDS: an incident holds one or
/// more interventions).
#[derive(Clone, Debug, PartialEq)]
pub struct Intervention {
    pub incident_id: String,
    pub intervention_id: String,
    pub patient: Pseudonym,
    pub ward: WardCode,
    pub incident_start: PrimitiveDateTime,
    pub incident_end: Option<PrimitiveDateTime>,
    pub reason: InterventionReason,
    pub review_with_patient: bool,
    pub review_with_staff: bool,
    pub kind: InterventionType,
    pub start: PrimitiveDateTime,
    /// `None` for an intervention still open at the end of the reporting period.
    pub end: Option<PrimitiveDateTime>,
    pub injury_patient: bool,
    pub injury_staff: bool,
    pub injury_other: bool,
    /// Use of Force Act s6 items held on the record.
    pub in_care_plan: Option<bool>,
    pub police_involved: Option<bool>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Incident {
    pub local_id: String,
    pub kind: IncidentKind,
    pub patient: Option<Pseudonym>,
    pub ward: WardCode,
    pub occurred: PrimitiveDateTime,
    pub harm: Harm,
    pub psychological_harm: Option<PsychologicalHarm>,
    pub on_leave: bool,
    pub category: Option<SexualSafetyCategory>,
    pub perpetrator: Option<PersonType>,
    pub victim: Option<PersonType>,
    pub police_informed: Option<bool>,
    pub safeguarding_referral: Option<bool>,
    /// Where a self-harm incident happened, by the ligature register of its ward (issue 13):
    /// the area's code and, if known, the point's reference (checked by ingest against the
    /// ward's own register; a point implies its area).
    pub ligature_area: Option<String>,
    pub ligature_point: Option<String>,
    /// How a self-harm incident was done (issue 13).
    pub method: Option<crate::codes::SelfHarmMethod>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LeavePeriod {
    pub local_id: String,
    pub patient: Pseudonym,
    pub ward: WardCode,
    pub start: PrimitiveDateTime,
    pub agreed_return: PrimitiveDateTime,
    pub actual_return: Option<PrimitiveDateTime>,
}

impl LeavePeriod {
    /// Late means more than 10 minutes after the agreed time (DOMAIN.md section 3).
    pub fn returned_on_time(&self) -> Option<bool> {
        self.actual_return
            .map(|r| (r - self.agreed_return).whole_minutes() <= 10)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AwolEpisode {
    pub local_id: String,
    pub patient: Pseudonym,
    pub ward: WardCode,
    pub start: PrimitiveDateTime,
    pub end: Option<PrimitiveDateTime>,
    pub end_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SurveyAnswer {
    pub response_id: String,
    pub ward: WardCode,
    pub date: Date,
    pub felt_sexually_safe: bool,
}
