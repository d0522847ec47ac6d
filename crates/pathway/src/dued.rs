//! DUED, the duration of untreated eating disorder: first treatment minus illness onset, in
//! days, with the onset's precision carried.
//!
//! The onset used: the day itself when known; the 15th when only the month is known; 1 July
//! when only the year is known; in either of the last two, the referral date instead if the
//! referral came before that day (the onset cannot be after the referral). An unknown onset
//! gives no DUED. Days are whole calendar days between dates (times of day are ignored).
//! Parts: onset -> referral -> assessment -> treatment (first help-seeking is not recorded).

use serde::{Deserialize, Serialize};
use time::{Date, PrimitiveDateTime};

use crate::referral::{ContactKind, Onset, OnsetPrecision, Referral};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DuedParts {
    pub onset_to_referral_days: i64,
    pub referral_to_treatment_days: i64,
    /// `None` when no attended assessment came on or before the first treatment.
    pub referral_to_assessment_days: Option<i64>,
    pub assessment_to_treatment_days: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Dued {
    /// First treatment date minus the onset used.
    pub days: i64,
    pub precision: OnsetPrecision,
    pub onset_used: Date,
    pub treatment: Date,
    pub parts: DuedParts,
}

/// Why a referral has no DUED.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoDued {
    /// No attended first treatment by the "as of" time.
    NoTreatmentYet,
    OnsetNotKnown,
    /// The onset recorded is after the referral (a data problem).
    OnsetAfterReferral,
}

/// The onset day DUED uses (see the module notes), or why there is none.
pub fn onset_used(onset: Onset, referred: Date) -> Result<Date, NoDued> {
    let (earliest, _) = onset.range().ok_or(NoDued::OnsetNotKnown)?;
    if earliest > referred {
        return Err(NoDued::OnsetAfterReferral);
    }
    let estimate = onset.estimate().ok_or(NoDued::OnsetNotKnown)?;
    Ok(estimate.min(referred))
}

/// DUED of a referral as of a time.
pub fn dued(r: &Referral, as_of: PrimitiveDateTime) -> Result<Dued, NoDued> {
    let treatment = r
        .first_attended(ContactKind::FirstTreatment, as_of)
        .ok_or(NoDued::NoTreatmentYet)?
        .date();
    let referred = r.received.date();
    let onset = onset_used(r.onset, referred)?;
    let days = |a: Date, b: Date| (b - a).whole_days();
    let assessment = r
        .first_attended(ContactKind::Assessment, as_of)
        .map(|t| t.date())
        .filter(|&a| a <= treatment);
    Ok(Dued {
        days: days(onset, treatment),
        precision: r.onset.precision(),
        onset_used: onset,
        treatment,
        parts: DuedParts {
            onset_to_referral_days: days(onset, referred),
            referral_to_treatment_days: days(referred, treatment),
            referral_to_assessment_days: assessment.map(|a| days(referred, a)),
            assessment_to_treatment_days: assessment.map(|a| days(a, treatment)),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::referral::{Attendance, Contact};
    use crate::testutil::referral;
    use time::Month;
    use time::macros::{date, datetime};

    fn treated() -> Referral {
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.contacts = vec![
            Contact {
                kind: ContactKind::Assessment,
                at: datetime!(2024-03-11 09:00),
                attendance: Attendance::Attended,
            },
            Contact {
                kind: ContactKind::FirstTreatment,
                at: datetime!(2024-03-20 09:00),
                attendance: Attendance::Attended,
            },
        ];
        r
    }

    #[test]
    fn onset_known_to_the_day() {
        let mut r = treated();
        r.onset = Onset::Day(date!(2023 - 11 - 01));
        let d = dued(&r, datetime!(2024-04-01 00:00)).unwrap();
        // 1 Nov 2023 -> 1 Mar 2024: 30 + 31 + 31 + 29 = 121 days; then 19 more to 20 March.
        assert_eq!(d.parts.onset_to_referral_days, 121);
        assert_eq!(d.parts.referral_to_treatment_days, 19);
        assert_eq!(d.parts.referral_to_assessment_days, Some(10));
        assert_eq!(d.parts.assessment_to_treatment_days, Some(9));
        assert_eq!(d.days, 140);
        assert_eq!(d.precision, OnsetPrecision::Day);
    }

    #[test]
    fn onset_known_to_the_month_uses_the_15th() {
        let mut r = treated();
        r.onset = Onset::Month {
            year: 2023,
            month: Month::November,
        };
        let d = dued(&r, datetime!(2024-04-01 00:00)).unwrap();
        assert_eq!(d.onset_used, date!(2023 - 11 - 15));
        assert_eq!(d.days, 126);
        assert_eq!(d.precision, OnsetPrecision::Month);
        // Onset in the referral's own month, referral on the 1st: the referral date is used.
        r.onset = Onset::Month {
            year: 2024,
            month: Month::March,
        };
        let d = dued(&r, datetime!(2024-04-01 00:00)).unwrap();
        assert_eq!(d.onset_used, date!(2024 - 03 - 01));
        assert_eq!(d.days, 19);
    }

    #[test]
    fn onset_known_only_to_the_year_uses_1_july() {
        let mut r = treated();
        r.onset = Onset::Year(2023);
        let d = dued(&r, datetime!(2024-04-01 00:00)).unwrap();
        assert_eq!(d.onset_used, date!(2023 - 07 - 01));
        // 1 Jul 2023 -> 20 Mar 2024: 184 + 79 = 263.
        assert_eq!(d.days, 263);
        assert_eq!(d.precision, OnsetPrecision::Year);
    }

    #[test]
    fn no_dued_without_treatment_or_onset() {
        let mut r = treated();
        assert_eq!(
            dued(&r, datetime!(2024-03-15 00:00)),
            Err(NoDued::NoTreatmentYet)
        );
        r.onset = Onset::Unknown;
        assert_eq!(
            dued(&r, datetime!(2024-04-01 00:00)),
            Err(NoDued::OnsetNotKnown)
        );
        r.onset = Onset::Day(date!(2024 - 03 - 05));
        assert_eq!(
            dued(&r, datetime!(2024-04-01 00:00)),
            Err(NoDued::OnsetAfterReferral)
        );
    }

    #[test]
    fn a_missed_treatment_session_is_not_the_start() {
        let mut r = treated();
        r.contacts[1].attendance = Attendance::DidNotAttend;
        assert_eq!(
            dued(&r, datetime!(2024-04-01 00:00)),
            Err(NoDued::NoTreatmentYet)
        );
    }
}
