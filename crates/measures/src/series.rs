//! A measure's values for one organisation, period by period: what `store` computes from the
//! uploaded records and every chart, table, download and summary is drawn from.

use crate::facts::{Facts, PeriodFacts};
use domain::codes::{InterventionGroup, InterventionType, SexualSafetyCategory};
use domain::dates::iso;
use domain::measures::{
    Denominator, FreedClock, InterventionFilter, Measure, Numerator, SelfHarmFilter,
};
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

/// One series per organisation and measure, periods in order, from the store's facts.
pub fn assemble(measures: &[Measure], facts: &Facts) -> Vec<MeasureSeries> {
    let mut out = Vec::with_capacity(facts.orgs.len() * measures.len());
    for org in &facts.orgs {
        for m in measures {
            let points = if m.numerator == Numerator::DaysBetweenSelfHarm {
                days_between(facts.self_harm_days.get(org).map_or(&[], Vec::as_slice))
            } else {
                facts
                    .periods
                    .iter()
                    .map(|p| point(m, *p, &facts.get(org, *p)))
                    .collect()
            };
            out.push(MeasureSeries {
                measure: m.id,
                org: org.clone(),
                points,
            });
        }
    }
    out
}

/// One point per event after the first: the days since the one before (a G chart).
pub fn days_between(days: &[Date]) -> Vec<MeasurePoint> {
    days.windows(2)
        .map(|w| {
            let gap = (w[1] - w[0]).whole_days() as f64;
            MeasurePoint {
                period: w[1],
                numerator: gap,
                denominator: None,
                value: Some(gap),
            }
        })
        .collect()
}

fn intervention_count(i: &crate::facts::Interventions, f: InterventionFilter) -> f64 {
    match f {
        InterventionFilter::All => i.all,
        InterventionFilter::Group(InterventionGroup::Physical) => i.physical,
        InterventionFilter::Type(InterventionType::PhysicalProne) => i.prone,
        InterventionFilter::Group(InterventionGroup::Chemical) => i.chemical,
        InterventionFilter::Type(InterventionType::ChemicalRapidTranquillisation) => {
            i.rapid_tranquillisation
        }
        InterventionFilter::Group(InterventionGroup::Mechanical) => i.mechanical,
        InterventionFilter::Group(InterventionGroup::Seclusion) => i.seclusion,
        InterventionFilter::Group(InterventionGroup::Segregation) => i.segregation,
        // Other single types are not in the catalogue; counted with their group.
        InterventionFilter::Type(t) => intervention_count(i, InterventionFilter::Group(t.group())),
    }
}

/// The index of a FREED clock in `facts::Freed`'s arrays.
pub fn freed_clock_index(c: FreedClock) -> usize {
    match c {
        FreedClock::Engagement => 0,
        FreedClock::Assessment => 1,
        FreedClock::Treatment => 2,
        FreedClock::Children => 3,
    }
}

fn point(m: &Measure, period: Date, f: &PeriodFacts) -> MeasurePoint {
    // A FREED measure has data where the facts hold FREED figures; a ward measure where bed
    // days were reported.
    let has_data = if m.is_freed() {
        f.freed.is_some()
    } else if m.is_ligature() {
        f.ligature.is_some()
    } else {
        f.bed_days.is_some_and(|b| b.occupied > 0.0)
    };
    let fr = f.freed.unwrap_or_default();
    let lig = f.ligature.unwrap_or_default();
    let ri = f.interventions.unwrap_or_default();
    let inc = f.incidents.unwrap_or_default();
    let numerator = match m.numerator {
        Numerator::Interventions(filter) => intervention_count(&ri, filter),
        Numerator::PeopleRestricted => ri.people,
        Numerator::IncidentsReviewedWithPatient => ri.incidents_reviewed_with_patient,
        Numerator::MedianRestraintMinutes => f.restraint_minutes.map_or(f64::NAN, |m| m.minutes),
        Numerator::SelfHarm(SelfHarmFilter::All) => inc.self_harm,
        Numerator::SelfHarm(SelfHarmFilter::ModerateOrWorse) => inc.self_harm_moderate_or_worse,
        Numerator::SelfHarm(SelfHarmFilter::OnLeave) => inc.self_harm_on_leave,
        Numerator::SexualSafety(None) => inc.sexual_safety,
        Numerator::SexualSafety(Some(SexualSafetyCategory::Assault)) => inc.sexual_assault,
        Numerator::SexualSafety(Some(SexualSafetyCategory::VerbalHarassment)) => {
            inc.sexual_harassment_verbal
        }
        Numerator::SexualSafety(Some(SexualSafetyCategory::NonVerbalHarassment)) => {
            inc.sexual_harassment_non_verbal
        }
        Numerator::SexualSafety(Some(SexualSafetyCategory::Online)) => inc.sexual_online,
        Numerator::Awol => f.awol_episodes.unwrap_or(0.0),
        Numerator::LeaveReturnedOnTime => f.leave.map_or(0.0, |l| l.returned_on_time),
        Numerator::FeltSexuallySafe => f.survey.map_or(0.0, |s| s.felt_safe),
        Numerator::DaysBetweenSelfHarm => 0.0,
        Numerator::FreedClockMet(c) => fr.clocks_met[freed_clock_index(c)],
        Numerator::FreedMedianDaysToTreatment => fr.median_days_to_treatment.unwrap_or(f64::NAN),
        Numerator::FreedMedianDued => fr.median_dued.unwrap_or(f64::NAN),
        Numerator::FreedPreciseOnset => fr.precise_onset,
        Numerator::FreedStartedTreatment => fr.started,
        Numerator::FreedWaiting => fr.waiting,
        Numerator::LigatureOpenHigh => lig.open_high,
        Numerator::LigatureMedianHighAge => lig.median_high_age.unwrap_or(f64::NAN),
        Numerator::LigatureAuditsOnTime => lig.audits_on_time,
        Numerator::LigatureActionsOverdue => lig.actions_overdue,
        // Never from the store's facts: `network::scope` counts them from their own uploads.
        Numerator::AcuteSelfHarm(_) | Numerator::StaffSelfHarm | Numerator::StaffSuicides => 0.0,
    };
    let denominator = match m.denominator {
        Denominator::OccupiedBedDays => f.bed_days.map(|b| b.occupied),
        Denominator::BedDaysLessLeave => f.bed_days.map(|b| b.occupied - b.on_leave),
        Denominator::Inpatients => f.inpatients,
        Denominator::RestrictiveIncidents => f.interventions.map(|i| i.incidents),
        Denominator::LeavePeriodsEnded => f.leave.map(|l| l.ended),
        Denominator::SurveyAnswers => f.survey.map(|s| s.answers),
        Denominator::FreedClocksDecided(c) => {
            f.freed.map(|x| x.clocks_decided[freed_clock_index(c)])
        }
        Denominator::FreedTreated => f.freed.map(|x| x.treated),
        Denominator::FreedEligibleFollowedUp => f.freed.map(|x| x.eligible_followed_up),
        Denominator::LigatureAudits => f.ligature.map(|x| x.audits),
        Denominator::LigatureActionsOpen => f.ligature.map(|x| x.actions_open),
        Denominator::StaffHeadcount => None,
        Denominator::None if m.numerator == Numerator::FreedMedianDaysToTreatment => {
            f.freed.map(|x| x.treated)
        }
        Denominator::None if m.numerator == Numerator::FreedMedianDued => {
            f.freed.map(|x| x.with_dued)
        }
        Denominator::None if m.numerator == Numerator::LigatureMedianHighAge => {
            f.ligature.map(|x| x.open_high)
        }
        // A median's "denominator" is the number of events it summarises.
        Denominator::None if m.numerator == Numerator::MedianRestraintMinutes => {
            Some(f.restraint_minutes.map_or(0.0, |m| m.restraints))
        }
        Denominator::None => None,
    };
    let value = match m.denominator {
        Denominator::None if !has_data => None,
        Denominator::None => numerator.is_finite().then_some(numerator),
        _ => denominator
            .filter(|d| *d > 0.0 && (has_data || m.is_proportion()))
            .map(|d| numerator / d * m.multiplier),
    };
    MeasurePoint {
        period,
        numerator: if numerator.is_finite() {
            numerator
        } else {
            0.0
        },
        denominator,
        value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{BedDays, Interventions, Median};
    use time::macros::date;

    fn facts() -> Facts {
        let mut f = Facts {
            orgs: vec!["R8A-ASH".into()],
            periods: vec![
                date!(2024 - 01 - 01),
                date!(2024 - 02 - 01),
                date!(2024 - 03 - 01),
            ],
            ..Facts::default()
        };
        f.cell("R8A-ASH", date!(2024 - 01 - 01)).bed_days = Some(BedDays {
            occupied: 500.0,
            on_leave: 20.0,
        });
        f.cell("R8A-ASH", date!(2024 - 01 - 01)).interventions = Some(Interventions {
            all: 10.0,
            prone: 2.0,
            incidents: 8.0,
            incidents_reviewed_with_patient: 6.0,
            ..Interventions::default()
        });
        f.cell("R8A-ASH", date!(2024 - 01 - 01)).restraint_minutes = Some(Median {
            minutes: 12.5,
            restraints: 7.0,
        });
        // February: bed days but no interventions (a true zero); March: nothing (a gap).
        f.cell("R8A-ASH", date!(2024 - 02 - 01)).bed_days = Some(BedDays {
            occupied: 480.0,
            on_leave: 0.0,
        });
        f.self_harm_days.insert(
            "R8A-ASH".into(),
            vec![
                date!(2024 - 01 - 03),
                date!(2024 - 01 - 10),
                date!(2024 - 02 - 01),
            ],
        );
        f
    }

    fn series(id: &str) -> MeasureSeries {
        let m = domain::measures::find(id).unwrap();
        assemble(&[m], &facts()).remove(0)
    }

    #[test]
    fn a_month_without_data_is_a_gap_and_a_month_without_events_a_zero() {
        let s = series("ri_rate");
        assert_eq!(s.points[0].value, Some(20.0));
        assert_eq!(s.points[1].value, Some(0.0));
        assert_eq!(s.points[2].value, None);
        assert_eq!(series("ri_prone_rate").points[0].value, Some(4.0));
    }

    #[test]
    fn proportions_medians_and_days_between() {
        let s = series("pct_incidents_reviewed_with_patient");
        assert_eq!(s.points[0].value, Some(75.0));
        assert_eq!(s.points[0].denominator, Some(8.0));
        let m = series("median_restraint_minutes");
        assert_eq!(m.points[0].value, Some(12.5));
        assert_eq!(
            m.points[0].denominator,
            Some(7.0),
            "the restraints it is the middle of"
        );
        let g = series("days_between_self_harm");
        let gaps: Vec<_> = g.points.iter().map(|p| p.value.unwrap()).collect();
        assert_eq!(gaps, vec![7.0, 22.0]);
    }
}
