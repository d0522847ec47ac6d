//! The latest value of a measure for an organisation, with its variation and assurance, as
//! the overview, the trust page, the API, `mhsip measures --summary` and the demo's closing
//! summary show it. One function, so that they cannot disagree: saved rebases apply, and so
//! does disclosure control when the figures leave the organisation.

use crate::chart::{Request, analyse};
use crate::notes::Annotation;
use crate::series::MeasureSeries;
use domain::dates::PeriodKind;
use domain::disclosure::Policy;
use domain::measures::Measure;
use spc::{Assurance, Variation};
use time::Date;

#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The latest period with a value shown: its first day and its label.
    pub latest_date: Option<Date>,
    pub latest_label: Option<String>,
    /// The latest value as shown (after disclosure control).
    pub latest_value: Option<f64>,
    /// A later period has a value that disclosure control does not show.
    pub suppressed_latest: bool,
    /// Points with a value.
    pub points: usize,
    pub variation: Option<Variation>,
    pub assurance: Assurance,
    pub target: Option<f64>,
}

/// The summary of `series`, with the organisation's notes for the measure (rebasing where they
/// say so) and `policy` when the figures leave the organisation.
pub fn summarise(
    measure: &Measure,
    series: &MeasureSeries,
    period: PeriodKind,
    notes: &[Annotation],
    policy: Option<&Policy>,
) -> Result<Summary, spc::SpcError> {
    let a = analyse(&Request::standard(
        measure,
        series,
        period,
        String::new(),
        notes,
        policy,
    ))?;
    let latest = a
        .analysis
        .points
        .iter()
        .enumerate()
        .rev()
        .find(|(_, p)| p.value.is_some())
        .map(|(i, p)| (i, p.value));
    let latest_value = latest.and_then(|(_, v)| v);
    let s = &a.analysis.summary;
    Ok(Summary {
        latest_date: latest.map(|(i, _)| series.points[i].period),
        latest_label: latest.map(|(i, _)| a.labels[i].clone()),
        latest_value,
        suppressed_latest: latest_value.is_none()
            && series.points.iter().rev().any(|p| p.value.is_some()),
        points: s.points,
        variation: s.variation,
        assurance: s.assurance,
        target: a.settings.target,
    })
}

/// The notes of an organisation that belong on `measure`'s charts.
pub fn notes_for(notes: &[Annotation], measure: &str) -> Vec<Annotation> {
    notes
        .iter()
        .filter(|a| a.measure.as_deref().is_none_or(|m| m == measure))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::MeasurePoint;
    use domain::dates::PeriodKind;

    fn monthly(values: &[f64]) -> MeasureSeries {
        let mut d = time::macros::date!(2023 - 01 - 01);
        let mut points = Vec::new();
        for v in values {
            points.push(MeasurePoint {
                period: d,
                numerator: *v,
                denominator: Some(1000.0),
                value: Some(*v),
            });
            d = PeriodKind::Month.next_start(d);
        }
        MeasureSeries {
            measure: "ri_rate",
            org: "R8A".into(),
            points,
        }
    }

    #[test]
    fn a_saved_rebase_changes_the_summary() {
        let m = domain::measures::find("ri_rate").unwrap();
        // Twelve months around 20, then twelve around 10: rebased at the change, the latest
        // segment is common cause; without the rebase it is a run below the mean (improvement).
        let mut v = vec![
            20.0, 22.0, 19.0, 21.0, 20.0, 23.0, 18.0, 21.0, 20.0, 22.0, 19.0, 21.0,
        ];
        v.extend([
            10.0, 11.0, 9.0, 10.0, 12.0, 9.0, 10.0, 11.0, 10.0, 9.0, 11.0, 10.0,
        ]);
        let s = monthly(&v);
        let plain = summarise(&m, &s, PeriodKind::Month, &[], None).unwrap();
        assert_eq!(plain.variation, Some(Variation::ImprovementLow));
        let note = Annotation {
            id: 1,
            org: "R8A".into(),
            measure: None,
            date: time::macros::date!(2024 - 01 - 01),
            text: "Safety huddles".into(),
            rebase: true,
            author: "test".into(),
        };
        let rebased = summarise(&m, &s, PeriodKind::Month, &[note], None).unwrap();
        assert_eq!(rebased.variation, Some(Variation::CommonCause));
        assert_eq!(rebased.latest_value, Some(10.0));
        assert_eq!(
            rebased.latest_date,
            Some(time::macros::date!(2024 - 12 - 01))
        );
    }
}
