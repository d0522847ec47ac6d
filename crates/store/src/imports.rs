//! Writing an upload: one transaction for the whole file, upserts keyed by the trust's own
//! identifiers (so a re-upload updates and never duplicates), and a record of the upload.
//! Nothing is visible to readers until `commit`; `rollback` (or dropping the import, or the
//! process dying) leaves the database exactly as it was.

use crate::values::{Val, bind};
use crate::{Backend, Result, Store, StoreError};
use domain::dates::{PeriodKind, day_number, iso, minute_number};
use domain::records::*;
use sqlx::{Any, Transaction};
use std::collections::HashMap;
use time::{Date, PrimitiveDateTime};

/// Who uploaded what.
#[derive(Clone, Debug)]
pub struct UploadMeta {
    pub kind: String,
    pub file_name: String,
    pub sha256: String,
    pub uploaded_by: String,
    pub trust_code: Option<String>,
    pub mapping: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct UploadSummary {
    pub upload_id: i64,
    pub rows: u64,
    pub inserted: u64,
    pub updated: u64,
    pub committed: bool,
}

/// An open import: everything written through it is one transaction.
pub struct Import {
    tx: Transaction<'static, Any>,
    upload_id: i64,
    backend: Backend,
    rows: u64,
    /// Row counts of each table touched, before the first write.
    before: HashMap<&'static str, i64>,
    sql_cache: HashMap<(&'static str, usize), String>,
}

/// Rows per multi-row INSERT: 500 rows of up to 26 columns stays under both engines' limits
/// on bound parameters (SQLite 32,766; PostgreSQL 65,535).
const BATCH: usize = 500;

impl Store {
    /// Start an import; records the upload (it disappears again if the import is rolled back).
    pub async fn begin_import(&self, meta: &UploadMeta) -> Result<Import> {
        let mut tx = self.pool.begin().await?;
        let now = now_iso();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO uploads (kind, file_name, sha256, uploaded_by, trust_code, uploaded_at, rows_total, rows_inserted, rows_updated, mapping) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, 0, 0, $7) RETURNING id",
        )
        .bind(&meta.kind)
        .bind(&meta.file_name)
        .bind(&meta.sha256)
        .bind(&meta.uploaded_by)
        .bind(meta.trust_code.clone())
        .bind(now)
        .bind(meta.mapping.clone())
        .fetch_one(&mut *tx)
        .await?;
        Ok(Import {
            tx,
            upload_id: id,
            backend: self.backend,
            rows: 0,
            before: HashMap::new(),
            sql_cache: HashMap::new(),
        })
    }
}

/// Current UTC time as ISO text.
pub fn now_iso() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{} {:02}:{:02}:{:02}",
        iso(now.date()),
        now.hour(),
        now.minute(),
        now.second()
    )
}

fn month(d: Date) -> String {
    iso(PeriodKind::Month.start_of(d))
}

fn week(d: Date) -> String {
    iso(PeriodKind::Week.start_of(d))
}

fn minutes(t: PrimitiveDateTime) -> Val {
    Val::Int(minute_number(t))
}

fn minutes_opt(t: Option<PrimitiveDateTime>) -> Val {
    Val::int_opt(t.map(minute_number))
}

impl Import {
    pub fn upload_id(&self) -> i64 {
        self.upload_id
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Insert or update rows of `table`, keyed by `key` columns. Every row must have one value
    /// per column. The last column written is always `upload_id`.
    async fn upsert(
        &mut self,
        table: &'static str,
        cols: &[&str],
        key: &[&str],
        rows: Vec<Vec<Val>>,
    ) -> Result<()> {
        if !self.before.contains_key(table) {
            let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&mut *self.tx)
                .await?;
            self.before.insert(table, n);
        }
        self.rows += rows.len() as u64;
        let width = cols.len() + 1;
        let mut rows = rows.into_iter();
        loop {
            let chunk: Vec<Vec<Val>> = rows.by_ref().take(BATCH).collect();
            if chunk.is_empty() {
                break;
            }
            let sql = self
                .sql_cache
                .entry((table, chunk.len()))
                .or_insert_with(|| upsert_sql(self.backend, table, cols, key, chunk.len()))
                .clone();
            let mut q = sqlx::query(&sql);
            for row in chunk {
                if row.len() + 1 != width {
                    return Err(StoreError::Invalid(format!(
                        "{table}: a row has {} values for {} columns",
                        row.len(),
                        cols.len()
                    )));
                }
                for v in row {
                    q = bind(q, v);
                }
                q = q.bind(self.upload_id);
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    pub async fn organisations(&mut self, rows: &[Organisation]) -> Result<()> {
        // Parents first, so that the foreign key always finds its row.
        let mut sorted: Vec<&Organisation> = rows.iter().collect();
        sorted.sort_by_key(|o| match o.level {
            domain::OrgLevel::Region => 0,
            domain::OrgLevel::Icb => 1,
            domain::OrgLevel::Trust => 2,
            domain::OrgLevel::Site => 3,
            domain::OrgLevel::Ward => 4,
        });
        let vals = sorted
            .iter()
            .map(|o| {
                vec![
                    Val::text(o.code.as_str()),
                    Val::text(&o.name),
                    Val::text(o.level.as_str()),
                    Val::text_opt(o.parent.as_ref().map(|p| p.to_string())),
                ]
            })
            .collect();
        self.upsert(
            "organisations",
            &["code", "name", "level", "parent_code"],
            &["code"],
            vals,
        )
        .await
    }

    /// Wards with their resolved trust, ICB and region codes.
    pub async fn wards(
        &mut self,
        rows: &[(Ward, String, Option<String>, Option<String>)],
    ) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        let wards = rows
            .iter()
            .filter(|(w, ..)| seen.insert(w.code.clone()))
            .map(|(w, trust, icb, region)| {
                vec![
                    Val::text(w.code.as_str()),
                    Val::text(&w.name),
                    Val::text(w.site.as_str()),
                    Val::text(trust),
                    Val::text_opt(icb.clone()),
                    Val::text_opt(region.clone()),
                    Val::text(w.ward_type.code()),
                    Val::text(w.sex_mix.code()),
                ]
            })
            .collect();
        self.upsert(
            "wards",
            &[
                "code",
                "name",
                "site_code",
                "trust_code",
                "icb_code",
                "region_code",
                "ward_type",
                "sex_mix",
            ],
            &["code"],
            wards,
        )
        .await?;
        let beds = rows
            .iter()
            .map(|(w, ..)| {
                vec![
                    Val::text(w.code.as_str()),
                    Val::Int(i64::from(day_number(w.beds_from))),
                    Val::Int(i64::from(w.beds)),
                ]
            })
            .collect();
        self.upsert_no_upload(
            "ward_beds",
            &["ward_code", "from_day", "beds"],
            &["ward_code", "from_day"],
            beds,
        )
        .await
    }

    async fn upsert_no_upload(
        &mut self,
        table: &'static str,
        cols: &[&str],
        key: &[&str],
        rows: Vec<Vec<Val>>,
    ) -> Result<()> {
        let backend = self.backend;
        let sql = |n: usize| {
            let mut s = insert_prefix(table, cols);
            push_values(&mut s, backend, cols.len(), n);
            push_conflict(&mut s, cols, key);
            s
        };
        let mut rows = rows.into_iter();
        loop {
            let chunk: Vec<Vec<Val>> = rows.by_ref().take(BATCH).collect();
            if chunk.is_empty() {
                return Ok(());
            }
            let text = sql(chunk.len());
            let mut q = sqlx::query(&text);
            for v in chunk.into_iter().flatten() {
                q = bind(q, v);
            }
            q.execute(&mut *self.tx).await?;
        }
    }

    pub async fn bed_days(&mut self, rows: &[BedDays]) -> Result<()> {
        let vals = rows
            .iter()
            .map(|b| {
                vec![
                    Val::text(b.ward.as_str()),
                    Val::Int(i64::from(day_number(b.start))),
                    Val::Int(i64::from(b.days)),
                    Val::Text(month(b.start)),
                    // Monthly totals cannot be split into weeks.
                    if b.days == 1 {
                        Val::Text(week(b.start))
                    } else {
                        Val::NullText
                    },
                    Val::Real(b.occupied),
                    Val::Real(b.on_leave),
                ]
            })
            .collect();
        self.upsert(
            "bed_days",
            &[
                "ward_code",
                "day",
                "days",
                "month_start",
                "week_start",
                "occupied",
                "on_leave",
            ],
            &["ward_code", "day"],
            vals,
        )
        .await
    }

    pub async fn patients(&mut self, rows: &[Patient]) -> Result<()> {
        let vals = rows
            .iter()
            .map(|p| {
                vec![
                    Val::text(&p.pseudonym.0),
                    Val::int_opt(p.birth_year.map(i64::from)),
                    Val::text(p.sex.code()),
                    Val::text(p.ethnic_category.code()),
                    Val::text(p.ethnic_category.group()),
                    Val::text(p.ld_autism.code()),
                ]
            })
            .collect();
        self.upsert(
            "patients",
            &[
                "pseudonym",
                "birth_year",
                "sex",
                "ethnic_category",
                "ethnic_group",
                "ld_autism",
            ],
            &["pseudonym"],
            vals,
        )
        .await
    }

    pub async fn ward_stays(&mut self, trust: &str, rows: &[WardStay]) -> Result<()> {
        let vals = rows
            .iter()
            .map(|s| {
                vec![
                    Val::text(trust),
                    Val::text(&s.local_id),
                    Val::text(&s.patient.0),
                    Val::text(s.ward.as_str()),
                    Val::Int(i64::from(day_number(s.start))),
                    Val::int_opt(s.end.map(|d| i64::from(day_number(d)))),
                ]
            })
            .collect();
        self.upsert(
            "ward_stays",
            &[
                "trust_code",
                "local_id",
                "patient",
                "ward_code",
                "start_day",
                "end_day",
            ],
            &["trust_code", "local_id"],
            vals,
        )
        .await
    }

    pub async fn interventions(&mut self, trust: &str, rows: &[Intervention]) -> Result<()> {
        const COLS: [&str; 23] = [
            "trust_code",
            "incident_id",
            "intervention_id",
            "patient",
            "ward_code",
            "incident_start",
            "incident_end",
            "reason",
            "review_patient",
            "review_staff",
            "type_code",
            "type_group",
            "start_min",
            "end_min",
            "minutes",
            "day",
            "month_start",
            "week_start",
            "injury_patient",
            "injury_staff",
            "injury_other",
            "in_care_plan",
            "police_involved",
        ];
        let vals = rows
            .iter()
            .map(|r| {
                let d = r.start.date();
                vec![
                    Val::text(trust),
                    Val::text(&r.incident_id),
                    Val::text(&r.intervention_id),
                    Val::text(&r.patient.0),
                    Val::text(r.ward.as_str()),
                    minutes(r.incident_start),
                    minutes_opt(r.incident_end),
                    Val::text(r.reason.code()),
                    Val::flag(r.review_with_patient),
                    Val::flag(r.review_with_staff),
                    Val::text(r.kind.code()),
                    Val::text(r.kind.group().as_str()),
                    minutes(r.start),
                    minutes_opt(r.end),
                    Val::int_opt(r.end.map(|e| (e - r.start).whole_minutes())),
                    Val::Int(i64::from(day_number(d))),
                    Val::Text(month(d)),
                    Val::Text(week(d)),
                    Val::flag(r.injury_patient),
                    Val::flag(r.injury_staff),
                    Val::flag(r.injury_other),
                    Val::flag_opt(r.in_care_plan),
                    Val::flag_opt(r.police_involved),
                ]
            })
            .collect();
        self.upsert(
            "ri_interventions",
            &COLS,
            &["trust_code", "incident_id", "intervention_id"],
            vals,
        )
        .await
    }

    pub async fn incidents(&mut self, trust: &str, rows: &[Incident]) -> Result<()> {
        const COLS: [&str; 17] = [
            "trust_code",
            "local_id",
            "kind",
            "patient",
            "ward_code",
            "occurred_min",
            "day",
            "month_start",
            "week_start",
            "harm",
            "psychological_harm",
            "on_leave",
            "category",
            "perpetrator",
            "victim",
            "police_informed",
            "safeguarding_referral",
        ];
        let vals = rows
            .iter()
            .map(|r| {
                let d = r.occurred.date();
                vec![
                    Val::text(trust),
                    Val::text(&r.local_id),
                    Val::text(r.kind.code()),
                    Val::text_opt(r.patient.as_ref().map(|p| p.0.clone())),
                    Val::text(r.ward.as_str()),
                    minutes(r.occurred),
                    Val::Int(i64::from(day_number(d))),
                    Val::Text(month(d)),
                    Val::Text(week(d)),
                    Val::text(r.harm.code()),
                    Val::text_opt(r.psychological_harm.map(|h| h.code().to_string())),
                    Val::flag(r.on_leave),
                    Val::text_opt(r.category.map(|c| c.code().to_string())),
                    Val::text_opt(r.perpetrator.map(|c| c.code().to_string())),
                    Val::text_opt(r.victim.map(|c| c.code().to_string())),
                    Val::flag_opt(r.police_informed),
                    Val::flag_opt(r.safeguarding_referral),
                ]
            })
            .collect();
        self.upsert("incidents", &COLS, &["trust_code", "local_id"], vals)
            .await
    }

    pub async fn leave_periods(&mut self, trust: &str, rows: &[LeavePeriod]) -> Result<()> {
        const COLS: [&str; 11] = [
            "trust_code",
            "local_id",
            "patient",
            "ward_code",
            "start_min",
            "agreed_return_min",
            "actual_return_min",
            "return_day",
            "return_month",
            "return_week",
            "on_time",
        ];
        let vals = rows
            .iter()
            .map(|r| {
                let ret = r.actual_return.map(|t| t.date());
                vec![
                    Val::text(trust),
                    Val::text(&r.local_id),
                    Val::text(&r.patient.0),
                    Val::text(r.ward.as_str()),
                    minutes(r.start),
                    minutes(r.agreed_return),
                    minutes_opt(r.actual_return),
                    Val::int_opt(ret.map(|d| i64::from(day_number(d)))),
                    Val::text_opt(ret.map(month)),
                    Val::text_opt(ret.map(week)),
                    Val::flag_opt(r.returned_on_time()),
                ]
            })
            .collect();
        self.upsert("leave_periods", &COLS, &["trust_code", "local_id"], vals)
            .await
    }

    pub async fn awol_episodes(&mut self, trust: &str, rows: &[AwolEpisode]) -> Result<()> {
        const COLS: [&str; 10] = [
            "trust_code",
            "local_id",
            "patient",
            "ward_code",
            "start_min",
            "end_min",
            "end_reason",
            "day",
            "month_start",
            "week_start",
        ];
        let vals = rows
            .iter()
            .map(|r| {
                let d = r.start.date();
                vec![
                    Val::text(trust),
                    Val::text(&r.local_id),
                    Val::text(&r.patient.0),
                    Val::text(r.ward.as_str()),
                    minutes(r.start),
                    minutes_opt(r.end),
                    Val::text_opt(r.end_reason.clone()),
                    Val::Int(i64::from(day_number(d))),
                    Val::Text(month(d)),
                    Val::Text(week(d)),
                ]
            })
            .collect();
        self.upsert("awol_episodes", &COLS, &["trust_code", "local_id"], vals)
            .await
    }

    pub async fn survey_answers(&mut self, trust: &str, rows: &[SurveyAnswer]) -> Result<()> {
        const COLS: [&str; 7] = [
            "trust_code",
            "response_id",
            "ward_code",
            "day",
            "month_start",
            "week_start",
            "felt_safe",
        ];
        let vals = rows
            .iter()
            .map(|r| {
                vec![
                    Val::text(trust),
                    Val::text(&r.response_id),
                    Val::text(r.ward.as_str()),
                    Val::Int(i64::from(day_number(r.date))),
                    Val::Text(month(r.date)),
                    Val::Text(week(r.date)),
                    Val::flag(r.felt_sexually_safe),
                ]
            })
            .collect();
        self.upsert(
            "survey_answers",
            &COLS,
            &["trust_code", "response_id"],
            vals,
        )
        .await
    }

    /// Count what the import did, without committing.
    async fn summarise(&mut self) -> Result<UploadSummary> {
        let mut inserted = 0i64;
        for (table, before) in &self.before {
            let (after,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&mut *self.tx)
                .await?;
            inserted += after - before;
        }
        let inserted = inserted.max(0) as u64;
        Ok(UploadSummary {
            upload_id: self.upload_id,
            rows: self.rows,
            inserted,
            updated: self.rows.saturating_sub(inserted),
            committed: false,
        })
    }

    /// Make the whole import visible at once.
    pub async fn commit(mut self) -> Result<UploadSummary> {
        let mut s = self.summarise().await?;
        sqlx::query("UPDATE uploads SET rows_total = $1, rows_inserted = $2, rows_updated = $3 WHERE id = $4")
            .bind(s.rows as i64)
            .bind(s.inserted as i64)
            .bind(s.updated as i64)
            .bind(self.upload_id)
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        s.committed = true;
        Ok(s)
    }

    /// Undo everything (a dry run ends here), reporting what would have happened.
    pub async fn rollback(mut self) -> Result<UploadSummary> {
        let s = self.summarise().await?;
        self.tx.rollback().await?;
        Ok(s)
    }
}

fn insert_prefix(table: &str, cols: &[&str]) -> String {
    format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "))
}

/// `(p,p,p),(p,p,p)...`. SQLite gets anonymous `?` placeholders: with numbered ones, binding
/// each parameter looks its name up in a list (sqlite3_bind_parameter_name), which makes a
/// 10,000-parameter insert quadratic. PostgreSQL needs `$n`.
fn push_values(s: &mut String, backend: Backend, width: usize, rows: usize) {
    use std::fmt::Write;
    let mut n = 1;
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..width {
            if c > 0 {
                s.push(',');
            }
            match backend {
                Backend::Sqlite => s.push('?'),
                Backend::Postgres => {
                    let _ = write!(s, "${n}");
                }
            }
            n += 1;
        }
        s.push(')');
    }
}

fn push_conflict(s: &mut String, cols: &[&str], key: &[&str]) {
    let updates: Vec<String> = cols
        .iter()
        .filter(|c| !key.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    if updates.is_empty() {
        s.push_str(&format!(" ON CONFLICT ({}) DO NOTHING", key.join(", ")));
    } else {
        s.push_str(&format!(
            " ON CONFLICT ({}) DO UPDATE SET {}",
            key.join(", "),
            updates.join(", ")
        ));
    }
}

/// `INSERT ... VALUES (...),(...) ON CONFLICT (key) DO UPDATE SET ...`, with `upload_id` last.
fn upsert_sql(backend: Backend, table: &str, cols: &[&str], key: &[&str], rows: usize) -> String {
    let mut all: Vec<&str> = cols.to_vec();
    all.push("upload_id");
    let mut s = insert_prefix(table, &all);
    push_values(&mut s, backend, all.len(), rows);
    push_conflict(&mut s, &all, key);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_sql_numbers_parameters_in_order() {
        let s = upsert_sql(Backend::Postgres, "t", &["a", "b"], &["a"], 2);
        assert_eq!(
            s,
            "INSERT INTO t (a, b, upload_id) VALUES ($1,$2,$3),($4,$5,$6) ON CONFLICT (a) DO UPDATE SET b = excluded.b, upload_id = excluded.upload_id"
        );
        assert!(upsert_sql(Backend::Sqlite, "t", &["a"], &["a"], 2).contains("VALUES (?,?),(?,?)"));
    }
}
