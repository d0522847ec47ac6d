//! The facts behind the programme's measures for any level (ward, site, trust, ICB, region)
//! and period (month, week): one SQL query per source table, grouped by organisation and
//! period (medians too, with window functions both engines share), handed to `measures` by
//! name as `Facts`, which assembles the series.

use crate::{Result, Store, Val};
use domain::OrgLevel;
use domain::codes::{InterventionGroup, InterventionType};
use domain::dates::{PeriodKind, date_from_day, day_number};
use domain::measures::{
    Denominator, InterventionFilter, Measure, Numerator, SelfHarmFilter, Stratifier,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use time::Date;

/// What to compute.
#[derive(Clone, Debug)]
pub struct Query {
    /// The level each series describes.
    pub level: OrgLevel,
    pub period: PeriodKind,
    pub from: Date,
    pub to: Date,
    /// Only wards under this organisation (e.g. one trust's wards).
    pub scope: Option<(OrgLevel, String)>,
}

pub use measures::facts::{self, Facts};
pub use measures::series::{MeasurePoint, MeasureSeries, iso_date};

fn level_column(level: OrgLevel) -> &'static str {
    match level {
        OrgLevel::Ward => "w.code",
        OrgLevel::Site => "w.site_code",
        OrgLevel::Trust => "w.trust_code",
        OrgLevel::Icb => "w.icb_code",
        OrgLevel::Region => "w.region_code",
    }
}

/// Sums per (org, period) of several named columns.
type Table = HashMap<(String, i64), Vec<f64>>;

impl Query {
    fn period_col(&self, month: &str, week: &str) -> String {
        match self.period {
            PeriodKind::Month => month.to_string(),
            PeriodKind::Week => week.to_string(),
        }
    }

    fn first_day(&self) -> i64 {
        i64::from(day_number(self.period.start_of(self.from)))
    }

    fn last_day(&self) -> i64 {
        i64::from(day_number(
            self.period.next_start(self.period.start_of(self.to)),
        )) - 1
    }

    fn scope_sql(&self) -> String {
        // Bound as $3 in every query below.
        match &self.scope {
            Some((level, _)) => format!(" AND {} = $3", level_column(*level)),
            None => String::new(),
        }
    }

    fn periods(&self) -> Vec<Date> {
        self.period.starts_between(self.from, self.to)
    }
}

impl Store {
    /// Run a grouped query returning `org, period, v1, v2...` (all values as reals).
    async fn grouped(&self, q: &Query, sql: &str, columns: usize) -> Result<Table> {
        let mut query = sqlx::query(sql).bind(q.first_day()).bind(q.last_day());
        if let Some((_, code)) = &q.scope {
            query = query.bind(code.clone());
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut out = Table::new();
        use sqlx::Row;
        for row in rows {
            let org: Option<String> = row.try_get(0)?;
            let period: Option<i64> = row.try_get(1)?;
            let (Some(org), Some(period)) = (org, period) else {
                continue;
            };
            let mut vals = Vec::with_capacity(columns);
            for i in 0..columns {
                let v: Option<f64> = row.try_get(2 + i)?;
                vals.push(v.unwrap_or(0.0));
            }
            out.insert((org, period), vals);
        }
        Ok(out)
    }

    /// `SELECT org, period, columns... FROM table` over the query's days, one row per
    /// organisation and period.
    pub(crate) async fn sum_by_period(
        &self,
        q: &Query,
        table: &str,
        day: &str,
        period: &str,
        columns: &[String],
    ) -> Result<Table> {
        let lvl = level_column(q.level);
        let scope = q.scope_sql();
        let sql = format!(
            "SELECT {lvl}, {period}, {} FROM {table} x JOIN wards w ON w.code = x.ward_code \
             WHERE {day} BETWEEN $1 AND $2{scope} GROUP BY {lvl}, {period}",
            columns.join(", ")
        );
        self.grouped(q, &sql, columns.len()).await
    }

    /// Every listed measure for every organisation at `q.level`, one series each, periods in
    /// order with gaps where no bed days were reported: the facts, assembled by `measures`.
    pub async fn compute_measures(
        &self,
        q: &Query,
        measures: &[Measure],
    ) -> Result<Vec<MeasureSeries>> {
        let facts = self.measure_facts(q, measures).await?;
        Ok(measures::series::assemble(measures, &facts))
    }

    /// The grouped counts and sums the listed measures need, per organisation at `q.level` and
    /// period, by name (one SQL query per source table).
    pub async fn measure_facts(&self, q: &Query, measures: &[Measure]) -> Result<Facts> {
        Ok(self.read_facts(q, measures, false).await?.0)
    }

    /// [`Store::measure_facts`] at the trust level, with what the levels above need to be
    /// composed from it (`measures::compose`): each trust's patients' runs of periods, who was
    /// restricted in each period, and how long each physical restraint lasted (the trusts'
    /// medians are then read from those lengths too).
    pub async fn trust_parts(
        &self,
        q: &Query,
        measures: &[Measure],
    ) -> Result<(Facts, measures::compose::TrustParts)> {
        if q.level != OrgLevel::Trust {
            return Err(crate::StoreError::Invalid(format!(
                "the parts the levels above are composed from are a trust's, not a {}'s",
                q.level.as_str()
            )));
        }
        let (facts, extras) = self.read_facts(q, measures, true).await?;
        let parts = measures::compose::TrustParts::new(q.period, &facts, extras);
        Ok((facts, parts))
    }

    async fn read_facts(
        &self,
        q: &Query,
        measures: &[Measure],
        keep_parts: bool,
    ) -> Result<(Facts, measures::compose::Extras)> {
        let per = q.period_col("x.month_start", "x.week_start");
        let f = |e: &str| format!("CAST({e} AS DOUBLE PRECISION)");
        let count_if = |cond: &str| f(&format!("SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)"));
        let needs = |pred: &dyn Fn(&Measure) -> bool| measures.iter().any(pred);

        let bed = self
            .sum_by_period(
                q,
                "bed_days",
                "x.day",
                &per,
                &[f("SUM(x.occupied)"), f("SUM(x.on_leave)")],
            )
            .await?;

        // An incident is known by its trust and its id (each trust numbers its own): above a
        // trust, two trusts' incident 12345 are two incidents. Within one trust the id alone
        // is enough (and cheaper).
        let incident = match q.level {
            OrgLevel::Icb | OrgLevel::Region => "x.trust_code || ' ' || x.incident_id",
            _ => "x.incident_id",
        };
        let ri_cols = [
            f("COUNT(*)"),
            count_if(&group_sql(InterventionGroup::Physical)),
            count_if("x.type_code = '01'"),
            count_if(&group_sql(InterventionGroup::Chemical)),
            count_if("x.type_code = '14'"),
            count_if(&group_sql(InterventionGroup::Mechanical)),
            count_if(&group_sql(InterventionGroup::Seclusion)),
            count_if(&group_sql(InterventionGroup::Segregation)),
            // With the parts, the people restricted are counted from who was (below).
            if keep_parts {
                f("0")
            } else {
                f("COUNT(DISTINCT x.patient)")
            },
            f(&format!("COUNT(DISTINCT {incident})")),
            f(&format!(
                "COUNT(DISTINCT CASE WHEN x.review_patient = 1 THEN {incident} END)"
            )),
        ];
        let inc_cols = [
            count_if("x.kind = 'self_harm'"),
            count_if("x.kind = 'self_harm' AND x.harm IN ('moderate', 'severe', 'fatal')"),
            count_if("x.kind = 'self_harm' AND x.on_leave = 1"),
            count_if("x.kind = 'sexual_safety'"),
            count_if("x.kind = 'sexual_safety' AND x.category = 'assault'"),
            count_if("x.kind = 'sexual_safety' AND x.category = 'verbal'"),
            count_if("x.kind = 'sexual_safety' AND x.category = 'non_verbal'"),
            count_if("x.kind = 'sexual_safety' AND x.category = 'online'"),
        ];
        let return_per = q.period_col("x.return_month", "x.return_week");
        // Each source table is read only when a requested measure needs it.
        let ri = if needs(&|m| {
            matches!(
                m.numerator,
                Numerator::Interventions(_)
                    | Numerator::PeopleRestricted
                    | Numerator::IncidentsReviewedWithPatient
            )
        }) {
            self.sum_by_period(q, "ri_interventions", "x.day", &per, &ri_cols)
                .await?
        } else {
            Table::new()
        };
        let inc = if needs(&|m| {
            matches!(
                m.numerator,
                Numerator::SelfHarm(_) | Numerator::SexualSafety(_)
            )
        }) {
            self.sum_by_period(q, "incidents", "x.day", &per, &inc_cols)
                .await?
        } else {
            Table::new()
        };
        let awol = if needs(&|m| m.numerator == Numerator::Awol) {
            self.sum_by_period(q, "awol_episodes", "x.day", &per, &[f("COUNT(*)")])
                .await?
        } else {
            Table::new()
        };
        let leave = if needs(&|m| m.numerator == Numerator::LeaveReturnedOnTime) {
            self.sum_by_period(
                q,
                "leave_periods",
                "x.return_day",
                &return_per,
                &[f("COUNT(*)"), count_if("x.on_time = 1")],
            )
            .await?
        } else {
            Table::new()
        };
        let survey = if needs(&|m| m.numerator == Numerator::FeltSexuallySafe) {
            self.sum_by_period(
                q,
                "survey_answers",
                "x.day",
                &per,
                &[f("COUNT(*)"), count_if("x.felt_safe = 1")],
            )
            .await?
        } else {
            Table::new()
        };

        let mut extras = measures::compose::Extras::default();
        let inpatients = if needs(&|m| m.denominator == Denominator::Inpatients) {
            let count = self.inpatient_count(q).await?;
            if keep_parts {
                let (counts, stays) = count.finish_with_runs();
                extras.stays = stays;
                counts
            } else {
                count.finish()
            }
        } else {
            HashMap::new()
        };
        let medians = match (
            needs(&|m| m.numerator == Numerator::MedianRestraintMinutes),
            keep_parts,
        ) {
            (false, _) => HashMap::new(),
            (true, false) => self.restraint_medians(q).await?,
            (true, true) => {
                extras.restraint_minutes = self.restraint_lengths(q).await?;
                let periods = q.periods();
                let mut out = HashMap::new();
                for (org, lengths) in &extras.restraint_minutes {
                    for (p, m) in measures::compose::medians_by_period(lengths) {
                        let day = i64::from(day_number(periods[p as usize]));
                        out.insert((org.clone(), day), (m.minutes, m.restraints));
                    }
                }
                out
            }
        };
        if keep_parts && !ri.is_empty() {
            extras.restricted = self.restricted_people(q).await?;
        }
        let gaps = if needs(&|m| m.numerator == Numerator::DaysBetweenSelfHarm) {
            self.self_harm_days(q).await?
        } else {
            BTreeMap::new()
        };

        let mut facts = Facts {
            orgs: self.orgs_in_scope(q).await?,
            periods: q.periods(),
            cells: HashMap::new(),
            self_harm_days: gaps,
        };
        let date = |p: i64| date_from_day(p as i32);
        for ((org, p), v) in bed {
            facts.cell(&org, date(p)).bed_days = Some(facts::BedDays {
                occupied: v[0],
                on_leave: v[1],
            });
        }
        for ((org, p), v) in ri {
            facts.cell(&org, date(p)).interventions = Some(facts::Interventions {
                all: v[0],
                physical: v[1],
                prone: v[2],
                chemical: v[3],
                rapid_tranquillisation: v[4],
                mechanical: v[5],
                seclusion: v[6],
                segregation: v[7],
                people: v[8],
                incidents: v[9],
                incidents_reviewed_with_patient: v[10],
            });
        }
        for ((org, p), v) in inc {
            facts.cell(&org, date(p)).incidents = Some(facts::Incidents {
                self_harm: v[0],
                self_harm_moderate_or_worse: v[1],
                self_harm_on_leave: v[2],
                sexual_safety: v[3],
                sexual_assault: v[4],
                sexual_harassment_verbal: v[5],
                sexual_harassment_non_verbal: v[6],
                sexual_online: v[7],
            });
        }
        for ((org, p), v) in awol {
            facts.cell(&org, date(p)).awol_episodes = Some(v[0]);
        }
        for ((org, p), v) in leave {
            facts.cell(&org, date(p)).leave = Some(facts::Leave {
                ended: v[0],
                returned_on_time: v[1],
            });
        }
        for ((org, p), v) in survey {
            facts.cell(&org, date(p)).survey = Some(facts::Survey {
                answers: v[0],
                felt_safe: v[1],
            });
        }
        for ((org, p), n) in inpatients {
            facts.cell(&org, p).inpatients = Some(n);
        }
        for ((org, p), (minutes, restraints)) in medians {
            facts.cell(&org, date(p)).restraint_minutes = Some(facts::Median {
                minutes,
                restraints,
            });
        }
        for (org, people) in &extras.restricted {
            let mut rest = people.as_slice();
            while let Some(&(p, _)) = rest.first() {
                let n = rest.partition_point(|x| x.0 == p);
                let cell = facts.cell(org, facts.periods[p as usize]);
                if let Some(ri) = cell.interventions.as_mut() {
                    ri.people = n as f64;
                }
                rest = &rest[n..];
            }
        }
        Ok((facts, extras))
    }

    /// The organisation at `level` each trust's wards are in, for the trusts with wards under
    /// `scope`: `None` when a trust's wards are in more than one organisation at either level
    /// (its figures cannot then be added into one parent's, nor be wholly in the scope).
    pub async fn trust_parents(
        &self,
        level: OrgLevel,
        scope: &Option<(OrgLevel, String)>,
    ) -> Result<Option<HashMap<String, String>>> {
        let lvl = level_column(level);
        let within = scope.as_ref().map_or("NULL", |(at, _)| level_column(*at));
        let sql = format!("SELECT DISTINCT w.trust_code, {lvl}, {within} FROM wards w");
        let rows = sqlx::query_as::<_, (String, Option<String>, Option<String>)>(&sql)
            .fetch_all(&self.pool)
            .await?;
        // A ward without a parent at the level counts for none (as the grouped queries drop
        // it): a trust with such a ward beside others cannot be added up whole.
        let mut seen: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
        for (trust, parent, inside) in rows {
            if seen.insert(trust, (parent, inside)).is_some() {
                return Ok(None);
            }
        }
        let wanted = scope.as_ref().map(|(_, code)| code.as_str());
        Ok(Some(
            seen.into_iter()
                .filter(|(_, (_, inside))| wanted.is_none() || inside.as_deref() == wanted)
                .filter_map(|(t, (p, _))| p.map(|p| (t, p)))
                .collect(),
        ))
    }

    /// Every organisation at `q.level` with wards in `q.scope`, in order.
    pub async fn orgs_in_scope(&self, q: &Query) -> Result<Vec<String>> {
        let lvl = level_column(q.level);
        let (sql, bind) = match &q.scope {
            Some((level, code)) => (
                format!(
                    "SELECT DISTINCT {lvl} FROM wards w WHERE {} = $1 ORDER BY 1",
                    level_column(*level)
                ),
                Some(code.clone()),
            ),
            None => (
                format!("SELECT DISTINCT {lvl} FROM wards w ORDER BY 1"),
                None,
            ),
        };
        let mut query = sqlx::query_as::<_, (Option<String>,)>(&sql);
        if let Some(b) = bind {
            query = query.bind(b);
        }
        Ok(query
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .filter_map(|r| r.0)
            .collect())
    }

    /// Distinct inpatients per organisation and period: every ward stay overlapping the query's
    /// days, streamed from the database into `measures::facts::InpatientCount` (the region's
    /// stays are over a million rows at a national size: they are never held at once).
    async fn inpatient_count(&self, q: &Query) -> Result<facts::InpatientCount> {
        let lvl = level_column(q.level);
        let scope = q.scope_sql();
        let sql = format!(
            "SELECT {lvl}, s.patient, s.start_day, s.end_day FROM ward_stays s \
             JOIN wards w ON w.code = s.ward_code \
             WHERE s.start_day <= $2 AND (s.end_day IS NULL OR s.end_day >= $1){scope}"
        );
        let count = facts::InpatientCount::new(q.period, &q.periods());
        type Stay = (Option<String>, String, i64, Option<i64>);
        self.fold_rows(q, sql, count, |count, (org, patient, start, end): Stay| {
            if let Some(org) = org {
                count.add(
                    &org,
                    &patient,
                    date_from_day(start as i32),
                    end.map(|e| date_from_day(e as i32)),
                );
            }
        })
        .await
    }

    /// Every row of `sql` (the query's first and last day and scope bound as $1, $2, $3) handed
    /// to `add` in turn, never all held at once: from a SQLite file in one blocking task (where
    /// through the pool each row is a hand-over between threads, see `sqlite_read`), from
    /// PostgreSQL as a stream.
    async fn fold_rows<T, A>(&self, q: &Query, sql: String, acc: A, add: fn(&mut A, T)) -> Result<A>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>
            + crate::sqlite_read::FromSqlite
            + Send
            + Unpin
            + 'static,
        A: Send + 'static,
    {
        use futures_util::TryStreamExt;
        if self.is_sqlite_file() {
            let mut binds = vec![Val::Int(q.first_day()), Val::Int(q.last_day())];
            binds.extend(q.scope.as_ref().map(|(_, code)| Val::text(code.as_str())));
            let read = move |c: &rusqlite::Connection| {
                let mut acc = acc;
                let mut stmt = c.prepare(&sql)?;
                crate::sqlite_read::bind_numbered(&mut stmt, &binds)?;
                let mut rows = stmt.raw_query();
                while let Some(row) = rows.next()? {
                    add(&mut acc, T::from_sqlite(row)?);
                }
                Ok(acc)
            };
            return match self.sqlite_read(read).await {
                Some(done) => done,
                None => Err(crate::StoreError::Invalid(
                    "the SQLite file could not be opened for reading".into(),
                )),
            };
        }
        let mut acc = acc;
        let mut query = sqlx::query_as::<_, T>(&sql)
            .bind(q.first_day())
            .bind(q.last_day());
        if let Some((_, code)) = &q.scope {
            query = query.bind(code.clone());
        }
        let mut rows = query.fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            add(&mut acc, row);
        }
        Ok(acc)
    }

    /// Median minutes of physical restraint per (org, period), with the number of restraints
    /// it is the middle of (disclosure control needs it).
    async fn restraint_medians(&self, q: &Query) -> Result<HashMap<(String, i64), (f64, f64)>> {
        let lvl = level_column(q.level);
        let per = q.period_col("x.month_start", "x.week_start");
        let scope = q.scope_sql();
        // The median in SQL, the same text on both engines: rank the durations within each
        // organisation and period, keep the middle one (or the middle two), average them. Only
        // one row per organisation and period leaves the database.
        let sql = format!(
            "WITH d AS (SELECT {lvl} AS o, {per} AS p, x.end_min - x.start_min AS m \
               FROM ri_interventions x JOIN wards w ON w.code = x.ward_code \
               WHERE x.day BETWEEN $1 AND $2 AND {physical} AND x.end_min IS NOT NULL{scope}), \
             r AS (SELECT o, p, m, ROW_NUMBER() OVER (PARTITION BY o, p ORDER BY m) AS i, \
               COUNT(*) OVER (PARTITION BY o, p) AS n FROM d WHERE o IS NOT NULL AND p IS NOT NULL) \
             SELECT o, p, CAST(AVG(m) AS DOUBLE PRECISION), CAST(MAX(n) AS DOUBLE PRECISION) FROM r \
             WHERE i = (n + 1) / 2 OR i = (n + 2) / 2 GROUP BY o, p",
            physical = group_sql(InterventionGroup::Physical)
        );
        let mut query = sqlx::query_as::<_, (String, i64, f64, f64)>(&sql)
            .bind(q.first_day())
            .bind(q.last_day());
        if let Some((_, code)) = &q.scope {
            query = query.bind(code.clone());
        }
        Ok(query
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|(o, p, median, n)| ((o, p), (median, n)))
            .collect())
    }

    /// Per organisation, (period index, minutes, how many) of the physical restraints that
    /// started in each period and ended: the lengths a median is the middle of, by length.
    async fn restraint_lengths(&self, q: &Query) -> Result<HashMap<String, Vec<(u32, i64, u32)>>> {
        let lvl = level_column(q.level);
        let per = q.period_col("x.month_start", "x.week_start");
        let scope = q.scope_sql();
        let sql = format!(
            "SELECT {lvl}, {per}, x.end_min - x.start_min, COUNT(*) \
             FROM ri_interventions x JOIN wards w ON w.code = x.ward_code \
             WHERE x.day BETWEEN $1 AND $2 AND {physical} AND x.end_min IS NOT NULL{scope} \
             GROUP BY 1, 2, 3",
            physical = group_sql(InterventionGroup::Physical)
        );
        type Length = (Option<String>, i64, i64, i64);
        let acc = (period_index(q), HashMap::new());
        let (_, mut out) = self
            .fold_rows(
                q,
                sql,
                acc,
                |(index, out), (org, period, minutes, n): Length| {
                    if let (Some(org), Some(p)) = (org, index(period)) {
                        let lengths: &mut Vec<(u32, i64, u32)> = out.entry(org).or_default();
                        lengths.push((p, minutes, n as u32));
                    }
                },
            )
            .await?;
        for v in out.values_mut() {
            v.sort_unstable();
        }
        Ok(out)
    }

    /// Per organisation, the (period index, patient) of everyone with a restrictive
    /// intervention in each period, distinct and in order.
    async fn restricted_people(
        &self,
        q: &Query,
    ) -> Result<HashMap<String, Vec<(u32, facts::PatientKey)>>> {
        let lvl = level_column(q.level);
        let per = q.period_col("x.month_start", "x.week_start");
        let scope = q.scope_sql();
        // Rows, not GROUP BY: a sort in SQLite of every intervention by patient costs more than
        // keeping each trust's list distinct here as it grows.
        let sql = format!(
            "SELECT {lvl}, {per}, x.patient FROM ri_interventions x JOIN wards w ON w.code = x.ward_code \
             WHERE x.day BETWEEN $1 AND $2{scope}"
        );
        type Person = (Option<String>, i64, String);
        let acc = (period_index(q), HashMap::<String, Distinct>::new());
        let (_, lists) = self
            .fold_rows(
                q,
                sql,
                acc,
                |(index, lists), (org, period, patient): Person| {
                    if let (Some(org), Some(p)) = (org, index(period)) {
                        let key = facts::PatientKey::of(&patient);
                        match lists.get_mut(&org) {
                            Some(list) => list.push((p, key)),
                            None => lists.entry(org).or_default().push((p, key)),
                        }
                    }
                },
            )
            .await?;
        Ok(lists.into_iter().map(|(k, v)| (k, v.finish())).collect())
    }

    /// For each org, one point per self-harm incident: days since the previous one.
    async fn self_harm_days(&self, q: &Query) -> Result<BTreeMap<String, Vec<Date>>> {
        let lvl = level_column(q.level);
        let scope = q.scope_sql();
        let sql = format!(
            "SELECT {lvl}, x.day FROM incidents x JOIN wards w ON w.code = x.ward_code \
             WHERE x.kind = 'self_harm' AND x.day BETWEEN $1 AND $2{scope} ORDER BY 1, 2"
        );
        let mut query = sqlx::query_as::<_, (Option<String>, i64)>(&sql)
            .bind(q.first_day())
            .bind(q.last_day());
        if let Some((_, code)) = &q.scope {
            query = query.bind(code.clone());
        }
        let mut out: BTreeMap<String, Vec<Date>> = BTreeMap::new();
        for (org, day) in query.fetch_all(&self.pool).await? {
            if let Some(org) = org {
                out.entry(org).or_default().push(date_from_day(day as i32));
            }
        }
        Ok(out)
    }

    /// [`Store::stratified`] for each characteristic in `by`, in that order. A measure whose
    /// numerator and denominator add up across groups (counts, bed nights) is read in one pass
    /// grouped by every characteristic at once and summed per characteristic here: two queries
    /// instead of two per characteristic. Distinct people do not add up (a patient can fall in
    /// two age bands in two years), so those measures keep one pair of queries each, run at
    /// once on the pool's connections.
    pub async fn stratified_each(
        &self,
        measure: &Measure,
        scope: Option<(OrgLevel, String)>,
        from: Date,
        to: Date,
        by: &[Stratifier],
    ) -> Result<Vec<Vec<Stratum>>> {
        if adds_up(measure) {
            let (num, den) = self.grouped_by(measure, &scope, from, to, by).await?;
            return Ok((0..by.len())
                .map(|i| {
                    let one = |rows: &[(Vec<Option<String>>, f64)]| -> Vec<(Option<String>, f64)> {
                        rows.iter().map(|(g, v)| (g[i].clone(), *v)).collect()
                    };
                    strata(by[i], one(&num), one(&den))
                })
                .collect());
        }
        let mut running = tokio::task::JoinSet::new();
        for (i, by) in by.iter().copied().enumerate() {
            let (store, measure, scope) = (self.clone(), measure.clone(), scope.clone());
            running
                .spawn(async move { (i, store.stratified(&measure, scope, from, to, by).await) });
        }
        let mut out: Vec<Option<Vec<Stratum>>> = vec![None; by.len()];
        while let Some(done) = running.join_next().await {
            let (i, strata) = done.map_err(|e| crate::StoreError::Task(e.to_string()))?;
            out[i] = Some(strata?);
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// A measure over a date range broken down by a patient characteristic: numerator and
    /// denominator per group (occupied bed days from ward stays, or inpatients).
    pub async fn stratified(
        &self,
        measure: &Measure,
        scope: Option<(OrgLevel, String)>,
        from: Date,
        to: Date,
        by: Stratifier,
    ) -> Result<Vec<Stratum>> {
        let (num, den) = self.grouped_by(measure, &scope, from, to, &[by]).await?;
        let first = |rows: Vec<(Vec<Option<String>>, f64)>| -> Vec<(Option<String>, f64)> {
            rows.into_iter()
                .map(|(mut g, v)| (g.pop().flatten(), v))
                .collect()
        };
        Ok(strata(by, first(num), first(den)))
    }

    /// The numerator's and the denominator's rows grouped by every characteristic in `by` (one
    /// column each, in that order), the two queries run at once.
    async fn grouped_by(
        &self,
        measure: &Measure,
        scope: &Option<(OrgLevel, String)>,
        from: Date,
        to: Date,
        by: &[Stratifier],
    ) -> Result<(GroupedRows, GroupedRows)> {
        let q = Query {
            level: OrgLevel::Region,
            period: PeriodKind::Month,
            from,
            to,
            scope: scope.clone(),
        };
        let (first, last) = (i64::from(day_number(from)), i64::from(day_number(to)));
        let scope_sql = q.scope_sql();
        // Calendar year of a day number, with integer arithmetic both engines agree on (exact
        // from 1970 to 2100: the half day keeps 1 January and 31 December in their own year).
        let event_year = "(1970 + (x.day * 10000 + 5000) / 3652425)";
        let stay_year = "(1970 + (s.start_day * 10000 + 5000) / 3652425)";
        let groups = |year: &str| -> String {
            by.iter()
                .map(|b| group_expr(*b, year))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // Grouped by position: the same text on both engines.
        let group_by = (1..=by.len())
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let (table, filter, count) = match measure.numerator {
            Numerator::Interventions(flt) => {
                ("ri_interventions", intervention_sql(flt), "COUNT(*)")
            }
            Numerator::PeopleRestricted => (
                "ri_interventions",
                "1 = 1".to_string(),
                "COUNT(DISTINCT x.patient)",
            ),
            Numerator::SelfHarm(SelfHarmFilter::All) => {
                ("incidents", "x.kind = 'self_harm'".into(), "COUNT(*)")
            }
            Numerator::SelfHarm(SelfHarmFilter::ModerateOrWorse) => (
                "incidents",
                "x.kind = 'self_harm' AND x.harm IN ('moderate', 'severe', 'fatal')".into(),
                "COUNT(*)",
            ),
            Numerator::SelfHarm(SelfHarmFilter::OnLeave) => (
                "incidents",
                "x.kind = 'self_harm' AND x.on_leave = 1".into(),
                "COUNT(*)",
            ),
            Numerator::Awol => ("awol_episodes", "1 = 1".into(), "COUNT(*)"),
            _ => {
                return Err(crate::StoreError::Invalid(format!(
                    "{} cannot be broken down by patient characteristics",
                    measure.id
                )));
            }
        };
        let num_sql = format!(
            "SELECT {g}, CAST({count} AS DOUBLE PRECISION) FROM {table} x JOIN wards w ON w.code = x.ward_code \
             LEFT JOIN patients p ON p.pseudonym = x.patient WHERE x.day BETWEEN $1 AND $2 AND {filter}{scope_sql} GROUP BY {group_by}",
            g = groups(event_year)
        );
        let den_sql = match measure.denominator {
            Denominator::Inpatients => format!(
                "SELECT {g}, CAST(COUNT(DISTINCT s.patient) AS DOUBLE PRECISION) FROM ward_stays s JOIN wards w ON w.code = s.ward_code \
                 LEFT JOIN patients p ON p.pseudonym = s.patient WHERE s.start_day <= $2 AND (s.end_day IS NULL OR s.end_day >= $1){scope_sql} GROUP BY {group_by}",
                g = groups(stay_year)
            ),
            _ => format!(
                // Nights of each stay inside [first, last]: admission night counted, discharge night not.
                "SELECT {g}, CAST(SUM((CASE WHEN s.end_day IS NULL OR s.end_day > $2 + 1 THEN $2 + 1 ELSE s.end_day END) \
                 - (CASE WHEN s.start_day < $1 THEN $1 ELSE s.start_day END)) AS DOUBLE PRECISION) \
                 FROM ward_stays s JOIN wards w ON w.code = s.ward_code LEFT JOIN patients p ON p.pseudonym = s.patient \
                 WHERE s.start_day <= $2 AND (s.end_day IS NULL OR s.end_day > $1){scope_sql} GROUP BY {group_by}",
                g = groups(stay_year)
            ),
        };
        let width = by.len();
        let fetch = |sql: String| {
            let scope = q.scope.clone();
            async move {
                use sqlx::Row;
                let mut query = sqlx::query(&sql).bind(first).bind(last);
                if let Some((_, code)) = scope {
                    query = query.bind(code);
                }
                let mut out: GroupedRows = Vec::new();
                for row in query.fetch_all(&self.pool).await? {
                    let mut groups = Vec::with_capacity(width);
                    for i in 0..width {
                        groups.push(row.try_get::<Option<String>, _>(i)?);
                    }
                    let v: Option<f64> = row.try_get(width)?;
                    out.push((groups, v.unwrap_or(0.0)));
                }
                Ok::<_, sqlx::Error>(out)
            }
        };
        Ok(tokio::try_join!(fetch(num_sql), fetch(den_sql))?)
    }
}

/// A list of (period index, patient) kept distinct as it grows: sorted and deduplicated each
/// time it doubles, so that it never holds much more than its distinct entries.
#[derive(Default)]
struct Distinct {
    items: Vec<(u32, facts::PatientKey)>,
    distinct: usize,
}

impl Distinct {
    fn push(&mut self, item: (u32, facts::PatientKey)) {
        self.items.push(item);
        if self.items.len() >= 2 * self.distinct.max(1024) {
            self.compact();
        }
    }

    fn compact(&mut self) {
        self.items.sort_unstable();
        self.items.dedup();
        self.distinct = self.items.len();
    }

    fn finish(mut self) -> Vec<(u32, facts::PatientKey)> {
        self.compact();
        self.items
    }
}

/// The index among the query's periods of a period given by its first day number.
fn period_index(q: &Query) -> impl Fn(i64) -> Option<u32> + Send + use<> {
    let periods: Vec<i64> = q
        .periods()
        .into_iter()
        .map(|d| i64::from(day_number(d)))
        .collect();
    move |day| periods.binary_search(&day).ok().map(|i| i as u32)
}

/// Rows of a breakdown: each group's label per characteristic, and the sum.
type GroupedRows = Vec<(Vec<Option<String>>, f64)>;

/// Whether a measure's numerator and denominator add up across groups (so one pass grouped by
/// every characteristic gives each characteristic's figures by summing).
fn adds_up(measure: &Measure) -> bool {
    measure.numerator != Numerator::PeopleRestricted
        && measure.denominator != Denominator::Inpatients
}

/// One characteristic's groups from its numerator's and denominator's rows (a group may come
/// in several rows: they are summed), "Not known" for a missing label, ages youngest first.
fn strata(
    by: Stratifier,
    num: Vec<(Option<String>, f64)>,
    den: Vec<(Option<String>, f64)>,
) -> Vec<Stratum> {
    let mut groups: BTreeMap<String, Stratum> = BTreeMap::new();
    for (g, v) in num {
        let g = g.unwrap_or_else(|| "Not known".into());
        groups
            .entry(g.clone())
            .or_insert_with(|| Stratum::new(g))
            .numerator += v;
    }
    for (g, v) in den {
        let g = g.unwrap_or_else(|| "Not known".into());
        groups
            .entry(g.clone())
            .or_insert_with(|| Stratum::new(g))
            .denominator += v;
    }
    let mut out: Vec<Stratum> = groups.into_values().collect();
    if by == Stratifier::AgeBand {
        // Youngest first, as people read ages; "Not known" last.
        let rank = |g: &str| {
            domain::codes::AGE_BANDS
                .iter()
                .position(|b| *b == g)
                .unwrap_or(usize::MAX)
        };
        out.sort_by_key(|s| rank(&s.group));
    }
    out
}

/// One group of a breakdown.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stratum {
    pub group: String,
    pub numerator: f64,
    pub denominator: f64,
}

impl Stratum {
    fn new(group: String) -> Self {
        Stratum {
            group,
            numerator: 0.0,
            denominator: 0.0,
        }
    }
}

fn group_expr(by: Stratifier, year: &str) -> String {
    match by {
        Stratifier::EthnicGroup => "COALESCE(p.ethnic_group, 'Not known')".into(),
        Stratifier::Sex => {
            "CASE p.sex WHEN '1' THEN 'Male' WHEN '2' THEN 'Female' ELSE 'Other or not known' END"
                .into()
        }
        Stratifier::LdAutism => {
            "CASE p.ld_autism WHEN 'Y' THEN 'Yes' WHEN 'N' THEN 'No' ELSE 'Not known' END".into()
        }
        Stratifier::AgeBand => {
            let age = format!("({year} - p.birth_year)");
            format!(
                "CASE WHEN p.birth_year IS NULL THEN 'Not known' WHEN {age} < 18 THEN 'Under 18' WHEN {age} < 25 THEN '18 to 24' \
                 WHEN {age} < 35 THEN '25 to 34' WHEN {age} < 45 THEN '35 to 44' WHEN {age} < 55 THEN '45 to 54' \
                 WHEN {age} < 65 THEN '55 to 64' ELSE '65 and over' END"
            )
        }
    }
}

fn intervention_sql(f: InterventionFilter) -> String {
    match f {
        InterventionFilter::All => "1 = 1".into(),
        InterventionFilter::Group(g) => group_sql(g),
        InterventionFilter::Type(t) => format!("x.type_code = '{}'", t.code()),
    }
}

/// `x.type_code IN (...)` for the codes of a group (the group is not stored).
fn group_sql(g: InterventionGroup) -> String {
    let codes: Vec<String> = InterventionType::ALL
        .iter()
        .filter(|t| t.group() == g)
        .map(|t| format!("'{}'", t.code()))
        .collect();
    format!("x.type_code IN ({})", codes.join(", "))
}
