//! Data completeness, so that under-reporting is seen before anyone compares wards: for each ward
//! and month, whether bed days were reported at all, and whether far fewer events were reported
//! than the ward's own earlier months and its bed days make likely, or than its trust's do (a
//! trust that stops uploading most of its incidents is named for the months it fell short).
//!
//! The store supplies grouped monthly counts and bed days (one SQL query per table); the
//! statistics are `domain::completeness`'s.

use crate::measures::Query;
use crate::{Result, Store};
use domain::OrgLevel;
use domain::completeness::{self as method, Month, Reading, WardInShortfall};
use domain::dates::{PeriodKind, day_number};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use time::Date;

pub use domain::completeness::{MIN_EXPECTED, MIN_EXPECTED_IN_SHORTFALL};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Bed days reported and no sign of under-reporting (or too little history to judge by:
    /// `expected` is then empty).
    Complete,
    /// No bed days for the month: nothing can be charted.
    MissingBedDays,
    /// Far fewer events than the ward's bed days and history make likely.
    LikelyUnderReported,
}

/// Why a ward-month is likely under-reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Improbably few events for the ward's own earlier months.
    OwnHistory,
    /// The trust as a whole fell short this month, and the ward's count fits the shortfall
    /// better than full reporting.
    TrustShortfall,
}

/// A trust's month when the trust as a whole reported far fewer events than its own past makes
/// likely.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct TrustShortfall {
    pub events: u64,
    pub expected: f64,
    /// P(X ≤ events) under the trust's own past.
    pub p_low: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WardMonth {
    pub ward: String,
    pub trust: String,
    #[serde(serialize_with = "crate::measures::iso_date")]
    pub month: Date,
    pub bed_days: Option<f64>,
    /// Restrictive interventions and incidents of every kind reported for the month.
    pub events: u64,
    /// Events the ward's own earlier months give for these bed days (none: too little history).
    pub expected: Option<f64>,
    /// P(X ≤ events) under the ward's own earlier months (negative binomial).
    pub p_low: Option<f64>,
    /// The largest count that would have been flagged this month (none: no count would be).
    pub flag_at_most: Option<u64>,
    pub status: Status,
    /// Why the month is flagged (with `LikelyUnderReported`).
    pub basis: Option<Basis>,
    /// The ward's trust as a whole, when it fell far short of its own past this month.
    pub trust_shortfall: Option<TrustShortfall>,
}

/// Consecutive months when a trust as a whole fell short of its own past.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrustPeriod {
    pub trust: String,
    #[serde(serialize_with = "crate::measures::iso_date")]
    pub from: Date,
    /// The first day of the period's last month.
    #[serde(serialize_with = "crate::measures::iso_date")]
    pub to: Date,
    pub months: usize,
    pub events: u64,
    pub expected: f64,
    /// Ward-months of the period flagged as likely under-reported (among the rows given).
    pub ward_months_flagged: usize,
}

/// The trusts' periods of shortfall among `rows`, by trust and date.
impl TrustPeriod {
    /// The months it covers, as people read them ("Jan 2025" or "Jan 2025 to Jul 2025").
    pub fn span(&self) -> String {
        use domain::dates::PeriodKind;
        if self.months == 1 {
            PeriodKind::Month.label(self.from)
        } else {
            format!(
                "{} to {}",
                PeriodKind::Month.label(self.from),
                PeriodKind::Month.label(self.to)
            )
        }
    }
}

pub fn trust_periods<'a>(rows: impl IntoIterator<Item = &'a WardMonth>) -> Vec<TrustPeriod> {
    // (trust, month) -> (shortfall, flagged ward-months)
    let mut months: BTreeMap<(&str, Date), (TrustShortfall, usize)> = BTreeMap::new();
    for r in rows {
        if let Some(s) = r.trust_shortfall {
            months
                .entry((r.trust.as_str(), r.month))
                .or_insert((s, 0))
                .1 += usize::from(r.status == Status::LikelyUnderReported);
        }
    }
    let mut out: Vec<TrustPeriod> = Vec::new();
    for ((trust, month), (s, flagged)) in months {
        match out.last_mut() {
            Some(p) if p.trust == trust && PeriodKind::Month.next_start(p.to) == month => {
                p.to = month;
                p.months += 1;
                p.events += s.events;
                p.expected += s.expected;
                p.ward_months_flagged += flagged;
            }
            _ => out.push(TrustPeriod {
                trust: trust.to_string(),
                from: month,
                to: month,
                months: 1,
                events: s.events,
                expected: s.expected,
                ward_months_flagged: flagged,
            }),
        }
    }
    out
}

/// The first day of the month `n` months before `d`'s.
fn months_before(d: Date, n: u32) -> Date {
    let total = d.year() * 12 + i32::from(u8::from(d.month())) - 1 - n as i32;
    let month =
        time::Month::try_from((total.rem_euclid(12) + 1) as u8).unwrap_or(time::Month::January);
    Date::from_calendar_date(total.div_euclid(12), month, 1).unwrap_or(d)
}

fn level_column(level: OrgLevel) -> &'static str {
    match level {
        OrgLevel::Ward => "code",
        OrgLevel::Site => "site_code",
        OrgLevel::Trust => "trust_code",
        OrgLevel::Icb => "icb_code",
        OrgLevel::Region => "region_code",
    }
}

impl Store {
    /// Every ward and its trust, within `scope` (whole trusts: every ward of each trust with a
    /// ward in the scope).
    async fn wards_of_trusts(
        &self,
        scope: &Option<(OrgLevel, String)>,
    ) -> Result<Vec<(String, String)>> {
        let (sql, bind) = match scope {
            Some((level, code)) => (
                format!(
                    "SELECT code, trust_code FROM wards WHERE trust_code IN \
                     (SELECT trust_code FROM wards WHERE {} = $1) ORDER BY code",
                    level_column(*level)
                ),
                Some(code.clone()),
            ),
            None => (
                "SELECT code, trust_code FROM wards ORDER BY code".to_string(),
                None,
            ),
        };
        let mut query = sqlx::query_as::<_, (String, String)>(&sql);
        if let Some(b) = bind {
            query = query.bind(b);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// Every ward-month from `from` to `to` (optionally within one organisation). Each month is
    /// judged against the months before it, back to two years before `from`, and each ward's
    /// trust as a whole, whatever the scope.
    pub async fn completeness(
        &self,
        from: Date,
        to: Date,
        scope: Option<(OrgLevel, String)>,
    ) -> Result<Vec<WardMonth>> {
        let shown_months = PeriodKind::Month.starts_between(from, to);
        let Some(&first_shown) = shown_months.first() else {
            return Ok(Vec::new());
        };
        let start = months_before(first_shown, method::BASELINE_MONTHS as u32);
        let wards = self.wards_of_trusts(&scope).await?;
        let shown_wards: HashSet<String> = self
            .orgs_in_scope(&Query {
                level: OrgLevel::Ward,
                period: PeriodKind::Month,
                from,
                to,
                scope: scope.clone(),
            })
            .await?
            .into_iter()
            .collect();
        // Whole trusts, over the baseline months too.
        let trusts: Vec<String> = {
            let mut t: Vec<String> = wards.iter().map(|w| w.1.clone()).collect();
            t.sort();
            t.dedup();
            t
        };
        let q = Query {
            level: OrgLevel::Ward,
            period: PeriodKind::Month,
            from: start,
            to,
            scope: match trusts.as_slice() {
                [one] => Some((OrgLevel::Trust, one.clone())),
                _ => scope
                    .clone()
                    .filter(|(l, _)| matches!(l, OrgLevel::Icb | OrgLevel::Region)),
            },
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
        let months = PeriodKind::Month.starts_between(start, to);
        let series: Vec<Vec<Month>> = wards
            .iter()
            .map(|(ward, _)| {
                months
                    .iter()
                    .map(|m| {
                        let key = (ward.clone(), i64::from(day_number(*m)));
                        let events = ri.get(&key).map_or(0.0, |v| v[0])
                            + inc.get(&key).map_or(0.0, |v| v[0]);
                        Month {
                            bed_days: bed.get(&key).map(|v| v[0]).filter(|b| *b > 0.0),
                            events: events.round() as u64,
                        }
                    })
                    .collect()
            })
            .collect();
        let mut out = Vec::with_capacity(shown_wards.len() * shown_months.len());
        for trust in &trusts {
            let members: Vec<usize> = (0..wards.len()).filter(|&i| &wards[i].1 == trust).collect();
            // The trust as a whole: its wards with bed days each month.
            let whole: Vec<Month> = (0..months.len())
                .map(|j| {
                    let reporting = members.iter().filter_map(|&i| {
                        let m = series[i][j];
                        m.bed_days.map(|b| (b, m.events))
                    });
                    let (beds, events) =
                        reporting.fold((0.0, 0), |(b, e), (wb, we)| (b + wb, e + we));
                    Month {
                        bed_days: Some(beds).filter(|b| *b > 0.0),
                        events,
                    }
                })
                .collect();
            let trust_reading = method::against_own_past(&whole, &[]);
            let short: Vec<bool> = trust_reading.iter().map(|r| r.flagged).collect();
            let readings: Vec<Vec<Reading>> = members
                .iter()
                .map(|&i| method::against_own_past(&series[i], &short))
                .collect();
            // Which wards share each month's shortfall.
            let mut in_shortfall = vec![vec![None; months.len()]; members.len()];
            for j in (0..months.len()).filter(|&j| short[j]) {
                let (Some(expected), events) = (trust_reading[j].expected, whole[j].events) else {
                    continue;
                };
                let judged: Vec<usize> = (0..members.len())
                    .filter(|&k| readings[k][j].expected.is_some())
                    .collect();
                let input: Vec<WardInShortfall> = judged
                    .iter()
                    .map(|&k| WardInShortfall {
                        events: series[members[k]][j].events,
                        expected: readings[k][j].expected.unwrap_or(0.0),
                        dispersion: readings[k][j].dispersion,
                    })
                    .collect();
                let fraction = events as f64 / expected;
                for (k, r) in judged
                    .iter()
                    .zip(method::within_shortfall(&input, fraction))
                {
                    in_shortfall[*k][j] = Some(r);
                }
            }
            for (k, &i) in members.iter().enumerate() {
                let ward = &wards[i].0;
                if !shown_wards.contains(ward) {
                    continue;
                }
                for (j, m) in months
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| **m >= first_shown)
                {
                    let own = readings[k][j];
                    let shared = in_shortfall[k][j];
                    let trust_shortfall = short[j].then(|| TrustShortfall {
                        events: whole[j].events,
                        expected: trust_reading[j].expected.unwrap_or(0.0),
                        p_low: trust_reading[j].p_low.unwrap_or(1.0),
                    });
                    let (status, basis, flag_at_most) = if series[i][j].bed_days.is_none() {
                        (Status::MissingBedDays, None, None)
                    } else if own.flagged {
                        (
                            Status::LikelyUnderReported,
                            Some(Basis::OwnHistory),
                            own.flag_at_most,
                        )
                    } else if let Some(s) = shared.filter(|s| s.flagged) {
                        (
                            Status::LikelyUnderReported,
                            Some(Basis::TrustShortfall),
                            s.flag_at_most,
                        )
                    } else {
                        let limit = match shared.and_then(|s| s.flag_at_most) {
                            Some(s) => Some(own.flag_at_most.map_or(s, |o| o.max(s))),
                            None => own.flag_at_most,
                        };
                        (Status::Complete, None, limit)
                    };
                    out.push(WardMonth {
                        ward: ward.clone(),
                        trust: trust.clone(),
                        month: *m,
                        bed_days: series[i][j].bed_days,
                        events: series[i][j].events,
                        expected: own.expected,
                        p_low: own.p_low,
                        flag_at_most,
                        status,
                        basis,
                        trust_shortfall,
                    });
                }
            }
        }
        out.sort_by(|a, b| a.ward.cmp(&b.ward).then(a.month.cmp(&b.month)));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_before_crosses_years() {
        assert_eq!(
            months_before(date!(2025 - 01 - 01), 24),
            date!(2023 - 01 - 01)
        );
        assert_eq!(
            months_before(date!(2025 - 03 - 15), 3),
            date!(2024 - 12 - 01)
        );
        assert_eq!(
            months_before(date!(2025 - 03 - 01), 0),
            date!(2025 - 03 - 01)
        );
    }

    #[test]
    fn trust_periods_join_consecutive_months() {
        let row = |trust: &str, month: Date, short: bool, flagged: bool| WardMonth {
            ward: format!("{trust}-A"),
            trust: trust.into(),
            month,
            bed_days: Some(500.0),
            events: 3,
            expected: Some(12.0),
            p_low: Some(0.01),
            flag_at_most: None,
            status: if flagged {
                Status::LikelyUnderReported
            } else {
                Status::Complete
            },
            basis: None,
            trust_shortfall: short.then_some(TrustShortfall {
                events: 30,
                expected: 120.0,
                p_low: 1e-9,
            }),
        };
        let rows = [
            row("R1", date!(2025 - 01 - 01), true, true),
            row("R1", date!(2025 - 02 - 01), true, false),
            row("R1", date!(2025 - 03 - 01), false, false),
            row("R1", date!(2025 - 04 - 01), true, true),
            row("R2", date!(2025 - 02 - 01), true, true),
        ];
        let p = trust_periods(&rows);
        assert_eq!(p.len(), 3, "{p:?}");
        assert_eq!(
            (p[0].from, p[0].to, p[0].months),
            (date!(2025 - 01 - 01), date!(2025 - 02 - 01), 2)
        );
        assert_eq!((p[0].events, p[0].ward_months_flagged), (60, 1));
        assert_eq!((p[1].trust.as_str(), p[1].months), ("R1", 1));
        assert_eq!(p[2].trust, "R2");
    }
}
