//! Data completeness, so that under-reporting is seen before anyone compares wards: for each ward
//! and month, whether bed days were reported at all, and whether the events reported per bed day
//! fall below the lower limit of the ward's own Laney U′ chart. Events cluster on a few patients,
//! so a plain Poisson test flags ordinary months; U′ allows for the ward's real month-to-month
//! variation. A trust that stops uploading most of its incidents shows up here.

use crate::measures::Query;
use crate::{Result, Store};
use domain::OrgLevel;
use domain::dates::{PeriodKind, day_number};
use serde::Serialize;
use time::Date;

/// Fewer expected events than this cannot show under-reporting.
pub const MIN_EXPECTED: f64 = 5.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Complete,
    /// No bed days for the month: nothing can be charted.
    MissingBedDays,
    /// Far fewer events than the ward's bed days and history make likely.
    LikelyUnderReported,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WardMonth {
    pub ward: String,
    #[serde(serialize_with = "crate::measures::iso_date")]
    pub month: Date,
    pub bed_days: Option<f64>,
    /// Restrictive interventions and incidents of every kind reported for the month.
    pub events: u64,
    /// Events the ward's own average rate gives for these bed days.
    pub expected: f64,
    /// Fewer events than this are below the ward's U′ lower limit.
    pub lower_limit: Option<f64>,
    pub status: Status,
}

impl Store {
    /// Every ward-month from `from` to `to` (optionally within one organisation).
    pub async fn completeness(
        &self,
        from: Date,
        to: Date,
        scope: Option<(OrgLevel, String)>,
    ) -> Result<Vec<WardMonth>> {
        let q = Query {
            level: OrgLevel::Ward,
            period: PeriodKind::Month,
            from,
            to,
            scope,
        };
        let per = "x.month_start";
        let bed = self
            .sum_by_period(
                &q,
                "bed_days",
                "x.day",
                per,
                &["CAST(SUM(x.occupied) AS DOUBLE PRECISION)".into()],
            )
            .await?;
        let count = ["CAST(COUNT(*) AS DOUBLE PRECISION)".to_string()];
        let ri = self
            .sum_by_period(&q, "ri_interventions", "x.day", per, &count)
            .await?;
        let inc = self
            .sum_by_period(&q, "incidents", "x.day", per, &count)
            .await?;
        let wards = self.orgs_in_scope(&q).await?;
        let months = PeriodKind::Month.starts_between(from, to);
        let mut out = Vec::with_capacity(wards.len() * months.len());
        let settings = spc::Settings {
            chart: spc::ChartKind::UPrime,
            direction: spc::Direction::Neutral,
            ..spc::Settings::default()
        };
        for ward in wards {
            let key = |m: &Date| (ward.clone(), i64::from(day_number(*m)));
            let beds: Vec<Option<f64>> = months
                .iter()
                .map(|m| bed.get(&key(m)).map(|v| v[0]).filter(|b| *b > 0.0))
                .collect();
            let events: Vec<f64> = months
                .iter()
                .map(|m| {
                    ri.get(&key(m)).map_or(0.0, |v| v[0]) + inc.get(&key(m)).map_or(0.0, |v| v[0])
                })
                .collect();
            let values: Vec<Option<f64>> = beds
                .iter()
                .zip(&events)
                .map(|(b, e)| b.map(|_| *e))
                .collect();
            let chart =
                spc::analyse(&spc::Series::with_denominators(&values, &beds), &settings).ok();
            for (i, m) in months.iter().enumerate() {
                let point = chart.as_ref().and_then(|c| c.points.get(i));
                let bed_days = beds[i];
                let expected = match (point.and_then(|p| p.centre), bed_days) {
                    (Some(c), Some(b)) => c * b,
                    _ => 0.0,
                };
                let lower_limit = match (point.and_then(|p| p.lower_limit), bed_days) {
                    (Some(l), Some(b)) => Some(l * b),
                    _ => None,
                };
                let status = match bed_days {
                    None => Status::MissingBedDays,
                    Some(_)
                        if expected >= MIN_EXPECTED
                            && point.is_some_and(|p| p.astronomical == Some(spc::Side::Low)) =>
                    {
                        Status::LikelyUnderReported
                    }
                    Some(_) => Status::Complete,
                };
                out.push(WardMonth {
                    ward: ward.clone(),
                    month: *m,
                    bed_days,
                    events: events[i].round() as u64,
                    expected,
                    lower_limit,
                    status,
                });
            }
        }
        Ok(out)
    }
}
