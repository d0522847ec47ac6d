//! A referral to an eating disorder service and what happens to it: contacts, pauses,
//! discharges (with reopenings).
//!
//! Date-times are UK local wall-clock times as services record them (`PrimitiveDateTime`, no
//! offset); every duration is wall-clock minutes between two such times.

use serde::{Deserialize, Serialize};
use time::{Date, Month, PrimitiveDateTime};

use crate::error::PathwayError;

/// Where the referral came from. A self-referral starts the clocks like any other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralSource {
    Gp,
    SelfReferral,
    FamilyOrCarer,
    Education,
    OtherHealthService,
    Other,
    NotKnown,
}

/// Is this the patient's first episode of an eating disorder?
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstEpisode {
    Yes,
    No,
    NotKnown,
}

/// How precisely the illness onset is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnsetPrecision {
    Day,
    Month,
    Year,
    Unknown,
}

/// The illness onset as the patient reports it: often month and year only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Onset {
    Day(Date),
    Month { year: i32, month: Month },
    Year(i32),
    Unknown,
}

impl Onset {
    pub fn precision(self) -> OnsetPrecision {
        match self {
            Onset::Day(_) => OnsetPrecision::Day,
            Onset::Month { .. } => OnsetPrecision::Month,
            Onset::Year(_) => OnsetPrecision::Year,
            Onset::Unknown => OnsetPrecision::Unknown,
        }
    }

    /// The earliest and latest day the onset can have been (both inclusive); `None` when
    /// unknown or when the year is outside the calendar `time` can hold.
    pub fn range(self) -> Option<(Date, Date)> {
        match self {
            Onset::Day(d) => Some((d, d)),
            Onset::Month { year, month } => {
                let first = Date::from_calendar_date(year, month, 1).ok()?;
                let last = Date::from_calendar_date(year, month, month.length(year)).ok()?;
                Some((first, last))
            }
            Onset::Year(year) => {
                let first = Date::from_calendar_date(year, Month::January, 1).ok()?;
                let last = Date::from_calendar_date(year, Month::December, 31).ok()?;
                Some((first, last))
            }
            Onset::Unknown => None,
        }
    }

    /// The day used to compute DUED: the day itself, the 15th of the month when only the
    /// month is known, 1 July when only the year is known.
    pub fn estimate(self) -> Option<Date> {
        match self {
            Onset::Day(d) => Some(d),
            Onset::Month { year, month } => Date::from_calendar_date(year, month, 15).ok(),
            Onset::Year(year) => Date::from_calendar_date(year, Month::July, 1).ok(),
            Onset::Unknown => None,
        }
    }
}

/// Diagnosis group at referral (or later, as the service records it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisGroup {
    AnorexiaNervosa,
    BulimiaNervosa,
    BingeEatingDisorder,
    Osfed,
    Arfid,
    Other,
    NotYetKnown,
}

impl DiagnosisGroup {
    pub const ALL: [DiagnosisGroup; 7] = [
        DiagnosisGroup::AnorexiaNervosa,
        DiagnosisGroup::BulimiaNervosa,
        DiagnosisGroup::BingeEatingDisorder,
        DiagnosisGroup::Osfed,
        DiagnosisGroup::Arfid,
        DiagnosisGroup::Other,
        DiagnosisGroup::NotYetKnown,
    ];

    /// The short code used in upload files.
    pub fn code(self) -> &'static str {
        match self {
            DiagnosisGroup::AnorexiaNervosa => "AN",
            DiagnosisGroup::BulimiaNervosa => "BN",
            DiagnosisGroup::BingeEatingDisorder => "BED",
            DiagnosisGroup::Osfed => "OSFED",
            DiagnosisGroup::Arfid => "ARFID",
            DiagnosisGroup::Other => "OTHER",
            DiagnosisGroup::NotYetKnown => "NYK",
        }
    }

    /// Reads a code (`AN`, `BN`, `BED`, `OSFED`, `ARFID`, `OTHER`, `NYK`), any case; an
    /// unknown code is an error, never "other".
    pub fn parse(s: &str) -> Result<DiagnosisGroup, PathwayError> {
        let t = s.trim();
        DiagnosisGroup::ALL
            .into_iter()
            .find(|g| g.code().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                PathwayError::new(
                    "diagnosis",
                    "one of AN, BN, BED, OSFED, ARFID, OTHER, NYK",
                    format!("'{t}'"),
                )
            })
    }
}

/// Clinical priority given at triage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    Routine,
}

impl Priority {
    pub fn parse(s: &str) -> Result<Priority, PathwayError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "urgent" | "u" => Ok(Priority::Urgent),
            "routine" | "r" => Ok(Priority::Routine),
            other => Err(PathwayError::new(
                "priority",
                "urgent or routine",
                format!("'{other}'"),
            )),
        }
    }
}

/// The three kinds of contact the FREED clocks look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    EngagementCall,
    Assessment,
    FirstTreatment,
}

impl ContactKind {
    /// The pathway's stages in order: an engagement call, then assessment, then treatment.
    pub fn stage(self) -> u8 {
        match self {
            ContactKind::EngagementCall => 0,
            ContactKind::Assessment => 1,
            ContactKind::FirstTreatment => 2,
        }
    }
}

/// Whether a contact took place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attendance {
    Attended,
    DidNotAttend,
    CancelledByPatient,
    CancelledByProvider,
}

impl Attendance {
    /// MHSDS attended-or-did-not-attend codes: 5 (attended on time) and 6 (arrived late, seen)
    /// are attended; 7 (arrived late, not seen) and 3 are did not attend; 2 cancelled by the
    /// patient; 4 cancelled by the provider.
    pub fn from_mhsds_code(s: &str) -> Result<Attendance, PathwayError> {
        match s.trim() {
            "5" | "6" => Ok(Attendance::Attended),
            "3" | "7" => Ok(Attendance::DidNotAttend),
            "2" => Ok(Attendance::CancelledByPatient),
            "4" => Ok(Attendance::CancelledByProvider),
            other => Err(PathwayError::new(
                "attendance",
                "an MHSDS attendance code 2, 3, 4, 5, 6 or 7",
                format!("'{other}'"),
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Contact {
    pub kind: ContactKind,
    pub at: PrimitiveDateTime,
    pub attendance: Attendance,
}

/// Why a clock is paused. See `clock` for which pauses stop which clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    /// The patient asked to delay (exams, holiday) after being offered a date.
    PatientChoice,
    /// The patient cannot take part for a medical reason (e.g. admitted to a medical ward).
    MedicallyUnfit,
}

/// A pause the standard allows. An open pause (`end: None`) lasts until the "as of" time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pause {
    pub start: PrimitiveDateTime,
    pub end: Option<PrimitiveDateTime>,
    pub reason: PauseReason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DischargeReason {
    TreatmentCompleted,
    PatientDeclined,
    DidNotEngage,
    TransferredToAnotherService,
    NotSuitable,
    MovedAway,
    Died,
    Other,
}

/// The referral was closed at `at`; `reopened` says when (if ever) it was opened again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Discharge {
    pub at: PrimitiveDateTime,
    pub reason: DischargeReason,
    pub reopened: Option<PrimitiveDateTime>,
}

/// A referral to an eating disorder service, held against the patient's pseudonym elsewhere:
/// `id` is the service's own local reference for the referral.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Referral {
    pub id: String,
    pub service: String,
    pub received: PrimitiveDateTime,
    pub source: ReferralSource,
    /// Age in whole years on the day the referral was received.
    pub age_at_referral: Option<u8>,
    pub first_episode: FirstEpisode,
    pub onset: Onset,
    pub diagnosis: DiagnosisGroup,
    pub priority: Priority,
    pub contacts: Vec<Contact>,
    pub pauses: Vec<Pause>,
    /// In time order; only the last may lack a reopening.
    pub discharges: Vec<Discharge>,
}

/// The oldest age accepted at referral.
pub const MAX_AGE: u8 = 120;

impl Referral {
    /// Whether the referral is open at `t`: received by then and not inside a closure.
    pub fn is_open_at(&self, t: PrimitiveDateTime) -> bool {
        t >= self.received
            && !self
                .discharges
                .iter()
                .any(|d| d.at <= t && d.reopened.is_none_or(|r| r > t))
    }

    /// The final discharge as known at `as_of`: the latest discharge on or before `as_of` not
    /// reopened by `as_of`.
    pub fn closed_at(&self, as_of: PrimitiveDateTime) -> Option<PrimitiveDateTime> {
        self.discharges
            .iter()
            .filter(|d| d.at <= as_of && d.reopened.is_none_or(|r| r > as_of))
            .map(|d| d.at)
            .min()
    }

    /// The first attended contact of `kind` (exactly that kind) on or before `as_of`.
    pub fn first_attended(
        &self,
        kind: ContactKind,
        as_of: PrimitiveDateTime,
    ) -> Option<PrimitiveDateTime> {
        self.contacts
            .iter()
            .filter(|c| c.kind == kind && c.attendance == Attendance::Attended && c.at <= as_of)
            .map(|c| c.at)
            .min()
    }

    /// Every problem with the referral, in field order. Empty means valid.
    pub fn problems(&self) -> Vec<PathwayError> {
        let mut out = Vec::new();
        let received = self.received;
        if self.id.trim().is_empty() {
            out.push(PathwayError::new("id", "a referral reference", "nothing"));
        }
        if self.service.trim().is_empty() {
            out.push(PathwayError::new("service", "a service code", "nothing"));
        }
        if let Some(age) = self.age_at_referral
            && age > MAX_AGE
        {
            out.push(PathwayError::new(
                "age_at_referral",
                format!("an age from 0 to {MAX_AGE}"),
                age,
            ));
        }
        match (self.onset, self.onset.range()) {
            (Onset::Unknown, _) => {}
            (_, None) => out.push(PathwayError::new(
                "onset",
                "a date, month or year the calendar holds",
                format!("{:?}", self.onset),
            )),
            (_, Some((earliest, _))) => {
                if earliest > received.date() {
                    out.push(PathwayError::new(
                        "onset",
                        format!("on or before the referral date {}", received.date()),
                        format!("{:?}", self.onset),
                    ));
                }
            }
        }
        for (i, c) in self.contacts.iter().enumerate() {
            if c.at < received {
                out.push(PathwayError::new(
                    format!("contacts[{i}].at"),
                    format!("on or after the referral received at {received}"),
                    c.at,
                ));
            } else if c.attendance == Attendance::Attended && !self.is_open_at(c.at) {
                out.push(PathwayError::new(
                    format!("contacts[{i}].at"),
                    "a time when the referral is open (not discharged)",
                    c.at,
                ));
            }
        }
        for (i, p) in self.pauses.iter().enumerate() {
            if p.start < received {
                out.push(PathwayError::new(
                    format!("pauses[{i}].start"),
                    format!("on or after the referral received at {received}"),
                    p.start,
                ));
            }
            if let Some(end) = p.end
                && end < p.start
            {
                out.push(PathwayError::new(
                    format!("pauses[{i}].end"),
                    format!("on or after the pause's start {}", p.start),
                    end,
                ));
            }
        }
        let mut previous_end: Option<PrimitiveDateTime> = Some(received);
        for (i, d) in self.discharges.iter().enumerate() {
            match previous_end {
                None => out.push(PathwayError::new(
                    format!("discharges[{i}]"),
                    "no discharge after one that was never reopened",
                    d.at,
                )),
                Some(prev) if d.at < prev => out.push(PathwayError::new(
                    format!("discharges[{i}].at"),
                    format!("on or after {prev} (the referral or the last reopening)"),
                    d.at,
                )),
                Some(_) => {}
            }
            if let Some(r) = d.reopened
                && r <= d.at
            {
                out.push(PathwayError::new(
                    format!("discharges[{i}].reopened"),
                    format!("after the discharge at {}", d.at),
                    r,
                ));
            }
            previous_end = d.reopened;
        }
        out
    }

    /// The first problem with the referral, if any.
    pub fn validate(&self) -> Result<(), PathwayError> {
        match self.problems().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::referral;
    use time::macros::{date, datetime};

    #[test]
    fn onset_ranges_and_estimates() {
        let m = Onset::Month {
            year: 2024,
            month: Month::February,
        };
        assert_eq!(
            m.range(),
            Some((date!(2024 - 02 - 01), date!(2024 - 02 - 29)))
        );
        assert_eq!(m.estimate(), Some(date!(2024 - 02 - 15)));
        assert_eq!(
            Onset::Year(2023).range(),
            Some((date!(2023 - 01 - 01), date!(2023 - 12 - 31)))
        );
        assert_eq!(Onset::Year(2023).estimate(), Some(date!(2023 - 07 - 01)));
        assert_eq!(Onset::Year(i32::MAX).range(), None);
        assert_eq!(Onset::Unknown.precision(), OnsetPrecision::Unknown);
    }

    #[test]
    fn codes() {
        assert_eq!(
            DiagnosisGroup::parse(" osfed ").unwrap(),
            DiagnosisGroup::Osfed
        );
        let e = DiagnosisGroup::parse("F50.9").unwrap_err();
        assert_eq!(e.field, "diagnosis");
        assert_eq!(
            e.to_string(),
            "diagnosis: expected one of AN, BN, BED, OSFED, ARFID, OTHER, NYK, found 'F50.9'"
        );
        assert_eq!(Priority::parse("Urgent").unwrap(), Priority::Urgent);
        assert!(Priority::parse("soon").is_err());
        assert_eq!(
            Attendance::from_mhsds_code("6").unwrap(),
            Attendance::Attended
        );
        assert_eq!(
            Attendance::from_mhsds_code("7").unwrap(),
            Attendance::DidNotAttend
        );
        assert!(Attendance::from_mhsds_code("9").is_err());
    }

    #[test]
    fn treatment_before_referral_is_an_error() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.contacts.push(Contact {
            kind: ContactKind::FirstTreatment,
            at: datetime!(2024-02-28 10:00),
            attendance: Attendance::Attended,
        });
        let e = r.validate().unwrap_err();
        assert_eq!(e.field, "contacts[0].at");
        assert!(e.expected.contains("on or after the referral"));
    }

    #[test]
    fn onset_after_referral_is_an_error() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.onset = Onset::Month {
            year: 2024,
            month: Month::April,
        };
        assert_eq!(r.validate().unwrap_err().field, "onset");
        // The referral's own month is possible.
        r.onset = Onset::Month {
            year: 2024,
            month: Month::March,
        };
        assert!(r.validate().is_ok());
    }

    #[test]
    fn discharges_in_order_and_open_times() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.discharges = vec![
            Discharge {
                at: datetime!(2024-03-05 10:00),
                reason: DischargeReason::DidNotEngage,
                reopened: Some(datetime!(2024-03-10 10:00)),
            },
            Discharge {
                at: datetime!(2024-04-01 10:00),
                reason: DischargeReason::TreatmentCompleted,
                reopened: None,
            },
        ];
        assert!(r.validate().is_ok());
        assert!(r.is_open_at(datetime!(2024-03-04 10:00)));
        assert!(!r.is_open_at(datetime!(2024-03-07 10:00)));
        assert!(r.is_open_at(datetime!(2024-03-10 10:00)));
        assert!(!r.is_open_at(datetime!(2024-04-01 10:00)));
        assert_eq!(
            r.closed_at(datetime!(2024-03-07 10:00)),
            Some(datetime!(2024-03-05 10:00))
        );
        assert_eq!(r.closed_at(datetime!(2024-03-20 10:00)), None);
        // An attended contact while closed is an error.
        r.contacts.push(Contact {
            kind: ContactKind::Assessment,
            at: datetime!(2024-03-06 10:00),
            attendance: Attendance::Attended,
        });
        assert_eq!(r.validate().unwrap_err().field, "contacts[0].at");
        r.contacts.clear();
        r.discharges.swap(0, 1);
        assert!(r.validate().is_err());
    }

    #[test]
    fn pause_ending_before_it_starts_is_an_error() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.pauses.push(Pause {
            start: datetime!(2024-03-04 10:00),
            end: Some(datetime!(2024-03-03 10:00)),
            reason: PauseReason::PatientChoice,
        });
        assert_eq!(r.validate().unwrap_err().field, "pauses[0].end");
    }
}
