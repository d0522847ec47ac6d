//! FREED eligibility: aged 16 to 25 at referral, first episode, illness under 3 years.
//!
//! Every condition is judged on its own and gives a reason when it fails or cannot be judged;
//! missing data are "not known", never a silent pass.

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::referral::{FirstEpisode, OnsetPrecision, Referral};

pub const MIN_AGE: u8 = 16;
pub const MAX_AGE: u8 = 25;
pub const MAX_ILLNESS_YEARS: i32 = 3;

/// The three conditions of FREED eligibility.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Aged 16 to 25 (inclusive) on the day the referral was received.
    Age16To25,
    FirstEpisode,
    /// Less than 3 years from onset to the referral date.
    UnderThreeYearsSinceOnset,
}

/// Why a condition failed or could not be judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Reason {
    AgeBelow16 {
        age: u8,
    },
    AgeAbove25 {
        age: u8,
    },
    AgeNotKnown,
    NotFirstEpisode,
    FirstEpisodeNotKnown,
    /// Even the latest possible onset is 3 years or more before the referral.
    ThreeYearsOrMoreSinceOnset {
        precision: OnsetPrecision,
    },
    OnsetNotKnown,
    /// The onset is known only to the month or year, and that span straddles the 3-year line.
    OnsetTooImprecise {
        precision: OnsetPrecision,
    },
    /// The onset cannot be before the referral as recorded (or the calendar cannot hold it):
    /// a data problem, so not known.
    OnsetNotBeforeReferral,
}

impl Reason {
    pub fn condition(self) -> Condition {
        match self {
            Reason::AgeBelow16 { .. } | Reason::AgeAbove25 { .. } | Reason::AgeNotKnown => {
                Condition::Age16To25
            }
            Reason::NotFirstEpisode | Reason::FirstEpisodeNotKnown => Condition::FirstEpisode,
            Reason::ThreeYearsOrMoreSinceOnset { .. }
            | Reason::OnsetNotKnown
            | Reason::OnsetTooImprecise { .. }
            | Reason::OnsetNotBeforeReferral => Condition::UnderThreeYearsSinceOnset,
        }
    }

    /// Whether the reason is a failed condition (the others say "not known").
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Reason::AgeBelow16 { .. }
                | Reason::AgeAbove25 { .. }
                | Reason::NotFirstEpisode
                | Reason::ThreeYearsOrMoreSinceOnset { .. }
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Eligible,
    /// At least one condition failed.
    NotEligible,
    /// No condition failed but at least one could not be judged.
    NotKnown,
}

/// The verdict and every reason behind it (failures first, then the not-knowns, each in
/// condition order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    pub status: Status,
    pub reasons: Vec<Reason>,
}

impl Eligibility {
    pub fn is_eligible(&self) -> bool {
        self.status == Status::Eligible
    }
}

/// The same day `years` later; 29 February becomes 1 March in a common year.
pub(crate) fn anniversary(d: Date, years: i32) -> Option<Date> {
    let y = d.year().checked_add(years)?;
    Date::from_calendar_date(y, d.month(), d.day())
        .ok()
        .or_else(|| Date::from_calendar_date(y, Month::March, 1).ok())
}

/// FREED eligibility of a referral.
pub fn eligibility(r: &Referral) -> Eligibility {
    let mut reasons = Vec::new();
    match r.age_at_referral {
        None => reasons.push(Reason::AgeNotKnown),
        Some(age) if age < MIN_AGE => reasons.push(Reason::AgeBelow16 { age }),
        Some(age) if age > MAX_AGE => reasons.push(Reason::AgeAbove25 { age }),
        Some(_) => {}
    }
    match r.first_episode {
        FirstEpisode::Yes => {}
        FirstEpisode::No => reasons.push(Reason::NotFirstEpisode),
        FirstEpisode::NotKnown => reasons.push(Reason::FirstEpisodeNotKnown),
    }
    let referred = r.received.date();
    let precision = r.onset.precision();
    if precision == OnsetPrecision::Unknown {
        reasons.push(Reason::OnsetNotKnown);
    } else {
        match r.onset.range() {
            None => reasons.push(Reason::OnsetNotBeforeReferral),
            Some((earliest, _)) if earliest > referred => {
                reasons.push(Reason::OnsetNotBeforeReferral)
            }
            Some((earliest, latest)) => {
                // Under 3 years: the referral comes before the onset's third anniversary.
                let under = |onset: Date| {
                    anniversary(onset, MAX_ILLNESS_YEARS).is_none_or(|a| referred < a)
                };
                if !under(latest) {
                    reasons.push(Reason::ThreeYearsOrMoreSinceOnset { precision });
                } else if !under(earliest) {
                    reasons.push(Reason::OnsetTooImprecise { precision });
                }
            }
        }
    }
    reasons.sort_by_key(|r| !r.is_failure());
    let status = if reasons.iter().any(|r| r.is_failure()) {
        Status::NotEligible
    } else if reasons.is_empty() {
        Status::Eligible
    } else {
        Status::NotKnown
    };
    Eligibility { status, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::referral::Onset;
    use crate::testutil::referral;
    use time::macros::{date, datetime};

    #[test]
    fn eligible_young_person() {
        let r = referral(datetime!(2024-03-01 10:00));
        assert_eq!(eligibility(&r).status, Status::Eligible);
        assert!(eligibility(&r).reasons.is_empty());
    }

    #[test]
    fn age_edges() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        for (age, status) in [
            (15, Status::NotEligible),
            (16, Status::Eligible),
            (25, Status::Eligible),
            (26, Status::NotEligible),
        ] {
            r.age_at_referral = Some(age);
            assert_eq!(eligibility(&r).status, status, "age {age}");
        }
        r.age_at_referral = None;
        let e = eligibility(&r);
        assert_eq!(e.status, Status::NotKnown);
        assert_eq!(e.reasons, vec![Reason::AgeNotKnown]);
        assert_eq!(e.reasons[0].condition(), Condition::Age16To25);
    }

    #[test]
    fn a_failure_outranks_a_not_known_and_both_are_listed() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.age_at_referral = None;
        r.first_episode = FirstEpisode::No;
        let e = eligibility(&r);
        assert_eq!(e.status, Status::NotEligible);
        assert_eq!(
            e.reasons,
            vec![Reason::NotFirstEpisode, Reason::AgeNotKnown]
        );
    }

    #[test]
    fn three_years_by_day() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        // Onset 2021-03-02: 2 years 364 days before the referral.
        r.onset = Onset::Day(date!(2021 - 03 - 02));
        assert_eq!(eligibility(&r).status, Status::Eligible);
        // Onset 2021-03-01: exactly 3 years: not under 3 years.
        r.onset = Onset::Day(date!(2021 - 03 - 01));
        assert_eq!(
            eligibility(&r).reasons,
            vec![Reason::ThreeYearsOrMoreSinceOnset {
                precision: OnsetPrecision::Day
            }]
        );
    }

    #[test]
    fn onset_known_only_to_the_year() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        // 2021: anywhere from 1 Jan (over 3 years) to 31 Dec (2 years 2 months): not known.
        r.onset = Onset::Year(2021);
        let e = eligibility(&r);
        assert_eq!(e.status, Status::NotKnown);
        assert_eq!(
            e.reasons,
            vec![Reason::OnsetTooImprecise {
                precision: OnsetPrecision::Year
            }]
        );
        // 2022: at most 2 years 2 months: eligible.
        r.onset = Onset::Year(2022);
        assert_eq!(eligibility(&r).status, Status::Eligible);
        // 2020: at least 3 years 2 months: not eligible.
        r.onset = Onset::Year(2020);
        assert_eq!(eligibility(&r).status, Status::NotEligible);
    }

    #[test]
    fn onset_by_month_on_the_line() {
        let mut r = referral(datetime!(2024-03-15 10:00));
        r.onset = Onset::Month {
            year: 2021,
            month: Month::March,
        };
        assert_eq!(eligibility(&r).status, Status::NotKnown);
        r.onset = Onset::Month {
            year: 2021,
            month: Month::April,
        };
        assert_eq!(eligibility(&r).status, Status::Eligible);
        r.onset = Onset::Month {
            year: 2021,
            month: Month::February,
        };
        assert_eq!(eligibility(&r).status, Status::NotEligible);
    }

    #[test]
    fn missing_onset_and_episode_are_not_known() {
        let mut r = referral(datetime!(2024-03-01 10:00));
        r.onset = Onset::Unknown;
        r.first_episode = FirstEpisode::NotKnown;
        let e = eligibility(&r);
        assert_eq!(e.status, Status::NotKnown);
        assert_eq!(
            e.reasons,
            vec![Reason::FirstEpisodeNotKnown, Reason::OnsetNotKnown]
        );
        r.first_episode = FirstEpisode::Yes;
        r.onset = Onset::Day(date!(2024 - 03 - 02));
        assert_eq!(
            eligibility(&r).reasons,
            vec![Reason::OnsetNotBeforeReferral]
        );
    }

    #[test]
    fn leap_day_anniversary() {
        assert_eq!(
            anniversary(date!(2020 - 02 - 29), 3),
            Some(date!(2023 - 03 - 01))
        );
        assert_eq!(
            anniversary(date!(2020 - 02 - 29), 4),
            Some(date!(2024 - 02 - 29))
        );
    }
}
