//! Writing an upload: one transaction for the whole file, upserts keyed by the trust's own
//! identifiers (so a re-upload updates and never duplicates), and a record of the upload.
//! Nothing is visible to readers until `commit`; `rollback` (or dropping the import, or the
//! process dying) leaves the database exactly as it was.

mod pgcopy;

use crate::values::Val;
use crate::{Backend, Result, Store, StoreError};
use domain::dates::{PeriodKind, day_number, iso, minute_number};
use domain::records::*;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};
use std::collections::HashMap;
use std::sync::Arc;
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
    writer: Writer,
    upload_id: i64,
    rows: u64,
    /// Row counts of each table touched, before the first write.
    before: HashMap<&'static str, i64>,
    /// Upsert statements by table and rows per statement (0: PostgreSQL's upsert from the
    /// staging table), built once per import.
    sql_cache: HashMap<(&'static str, usize), Arc<str>>,
    /// PostgreSQL: the staging tables, and rows staged but not yet moved into their table.
    staging: pgcopy::Staging,
}

/// Each import writes through a connection of its own, inside one transaction for the whole
/// upload. SQLite: in a blocking thread, with prepared multi-row statements (the fastest way
/// into SQLite). PostgreSQL: COPY into a staging table, then one upsert per batch (`pgcopy`).
enum Writer {
    /// `None` only while a blocking task holds the connection, or after a failure or the end.
    Sqlite(Option<rusqlite::Connection>),
    /// `None` after a failure or the end: the connection is dropped, which ends its session
    /// and so rolls the transaction back.
    Postgres(Option<PgConnection>),
}

/// Rows per statement for SQLite: 64 rows of up to 26 columns.
const SQLITE_ROWS: usize = 64;

impl Store {
    /// Start an import; records the upload (it disappears again if the import is rolled back).
    pub async fn begin_import(&self, meta: &UploadMeta) -> Result<Import> {
        let now = now_iso();
        let (writer, upload_id) = match (&self.sqlite_file, self.backend) {
            (Some(path), Backend::Sqlite) => {
                let path = path.clone();
                let meta = meta.clone();
                let (conn, id) = blocking(move || {
                    let conn = rusqlite::Connection::open(&path)?;
                    conn.busy_timeout(std::time::Duration::from_secs(30))?;
                    // Statement journals of a large upsert go to memory, not to a temp file; a
                    // cache of up to 1 GB keeps a million-row transaction from spilling pages
                    // to the WAL before it commits (it grows only as pages are written).
                    conn.execute_batch(
                        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -1048576; \
                         PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0; BEGIN IMMEDIATE;",
                    )?;
                    let id: i64 = conn.query_row(
                        "INSERT INTO uploads (kind, file_name, sha256, uploaded_by, trust_code, uploaded_at, rows_total, rows_inserted, rows_updated, mapping) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, 0, 0, ?7) RETURNING id",
                        rusqlite::params![meta.kind, meta.file_name, meta.sha256, meta.uploaded_by, meta.trust_code, now, meta.mapping],
                        |r| r.get(0),
                    )?;
                    Ok((conn, id))
                })
                .await?;
                (Writer::Sqlite(Some(conn)), id)
            }
            _ => {
                // The pool's connections speak through sqlx's `Any` driver, which has no COPY:
                // an import opens a PostgreSQL connection of its own, from the same URL.
                let url = self.pool.connect_options().database_url.clone();
                let options: PgConnectOptions = url.as_str().parse()?;
                let mut conn = PgConnection::connect_with(&options).await?;
                // Staging tables live in temporary buffers (before the session's first use of
                // one, this can still be set): 200,000 rows fit without spilling to disk.
                conn.execute("SET temp_buffers = '256MB'; BEGIN").await?;
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
                .fetch_one(&mut conn)
                .await?;
                (Writer::Postgres(Some(conn)), id)
            }
        };
        Ok(Import {
            writer,
            upload_id,

            rows: 0,
            before: HashMap::new(),
            sql_cache: HashMap::new(),
            staging: pgcopy::Staging::default(),
        })
    }
}

/// Run SQLite work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Int(i) => ValueRef::Integer(*i),
            Val::Real(f) => ValueRef::Real(*f),
            Val::Text(s) => ValueRef::Text(s.as_bytes()),
            Val::Static(s) => ValueRef::Text(s.as_bytes()),
            Val::Shared(s) => ValueRef::Text(s.as_bytes()),
            Val::NullInt | Val::NullReal | Val::NullText => ValueRef::Null,
        }))
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

/// The day number of the first day of the month (or week) holding `d`.
fn month(d: Date) -> Val {
    Val::Int(i64::from(day_number(PeriodKind::Month.start_of(d))))
}

fn week(d: Date) -> Val {
    Val::Int(i64::from(day_number(PeriodKind::Week.start_of(d))))
}

fn day(d: Date) -> Val {
    Val::Int(i64::from(day_number(d)))
}

fn minutes(t: PrimitiveDateTime) -> Val {
    Val::Int(minute_number(t))
}

fn minutes_opt(t: Option<PrimitiveDateTime>) -> Val {
    Val::int_opt(t.map(minute_number))
}

fn code<T>(v: Option<T>, f: impl Fn(T) -> &'static str) -> Val {
    v.map_or(Val::NullText, |x| Val::Static(f(x)))
}

impl Import {
    /// Run `f` on the SQLite connection in a blocking task, and take the connection back.
    async fn with_sqlite<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let Writer::Sqlite(slot) = &mut self.writer else {
            return Err(StoreError::Invalid("not a SQLite import".into()));
        };
        let conn = slot.take().ok_or_else(|| {
            StoreError::Invalid("the import connection was lost after an earlier failure".into())
        })?;
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let r = f(&conn).and_then(|v| {
                // INSERT OR ROLLBACK ends the transaction when a constraint fails; were the
                // connection used again, each later statement would commit on its own.
                if conn.is_autocommit() {
                    Err(StoreError::Invalid(
                        "the upload's transaction ended early; nothing was saved".into(),
                    ))
                } else {
                    Ok(v)
                }
            });
            (conn, r)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
        // After any failure the connection is dropped, not put back: closing it rolls back
        // whatever is still open, and every later step of this import fails instead of writing.
        if result.is_ok()
            && let Writer::Sqlite(slot) = &mut self.writer
        {
            *slot = Some(conn);
        }
        result
    }

    /// The PostgreSQL connection, taken out of the import: put it back with `put_postgres`
    /// only after a step succeeded, so that after any failure every later step fails too.
    fn take_postgres(&mut self) -> Result<PgConnection> {
        let Writer::Postgres(slot) = &mut self.writer else {
            return Err(StoreError::Invalid("not a PostgreSQL import".into()));
        };
        slot.take().ok_or_else(|| {
            StoreError::Invalid(
                "the import connection was lost after an earlier failure; nothing was saved".into(),
            )
        })
    }

    fn put_postgres(&mut self, conn: PgConnection) {
        if let Writer::Postgres(slot) = &mut self.writer {
            *slot = Some(conn);
        }
    }

    async fn count_rows(&mut self, table: &'static str) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        match &mut self.writer {
            Writer::Postgres(_) => {
                let mut conn = self.take_postgres()?;
                let (n,) = sqlx::query_as::<_, (i64,)>(&sql)
                    .fetch_one(&mut conn)
                    .await?;
                self.put_postgres(conn);
                Ok(n)
            }
            Writer::Sqlite(_) => {
                self.with_sqlite(move |c| Ok(c.query_row(&sql, [], |r| r.get(0))?))
                    .await
            }
        }
    }

    /// Insert or update a batch of rows (tracked batches count towards the summary and carry
    /// this upload's id in their last column).
    pub async fn write(&mut self, batch: Batch) -> Result<()> {
        let Batch {
            table,
            cols,
            key,
            tracked,
            vals,
            mode,
        } = batch;
        let width = cols.len();
        if vals.len() % width != 0 {
            return Err(StoreError::Invalid(format!(
                "{table}: {} values do not fill rows of {width} columns",
                vals.len()
            )));
        }
        let rows = vals.len() / width;
        if rows == 0 {
            return Ok(());
        }
        if mode == WriteMode::UpdateHeld {
            return self.update_held(table, cols, key, vals).await;
        }
        if tracked {
            if !self.before.contains_key(table) {
                let n = self.count_rows(table).await?;
                self.before.insert(table, n);
            }
            self.rows += rows as u64;
        }
        let mut all: Vec<&str> = cols.to_vec();
        if tracked {
            all.push("upload_id");
        }
        let extra = tracked.then_some(Val::Int(self.upload_id));
        match &mut self.writer {
            Writer::Sqlite(_) => {
                let full = cached_upsert(
                    &mut self.sql_cache,
                    Backend::Sqlite,
                    table,
                    &all,
                    key,
                    SQLITE_ROWS,
                );
                let single =
                    cached_upsert(&mut self.sql_cache, Backend::Sqlite, table, &all, key, 1);
                self.with_sqlite(move |c| {
                    let mut chunks = vals.chunks_exact(width * SQLITE_ROWS);
                    let mut stmt = c.prepare_cached(&full)?;
                    for chunk in chunks.by_ref() {
                        stmt.execute(rusqlite::params_from_iter(
                            chunk
                                .chunks_exact(width)
                                .flat_map(|row| row.iter().chain(extra.as_ref())),
                        ))?;
                    }
                    let mut stmt = c.prepare_cached(&single)?;
                    for row in chunks.remainder().chunks_exact(width) {
                        stmt.execute(rusqlite::params_from_iter(row.iter().chain(extra.as_ref())))?;
                    }
                    Ok(())
                })
                .await
            }
            Writer::Postgres(_) => {
                let upsert = self
                    .sql_cache
                    .entry((table, 0))
                    .or_insert_with(|| pgcopy::upsert_from_stage(table, &all, key).into())
                    .clone();
                let mut conn = self.take_postgres()?;
                self.staging
                    .copy(
                        &mut conn,
                        table,
                        &all,
                        key,
                        upsert,
                        &vals,
                        width,
                        extra.as_ref(),
                    )
                    .await?;
                self.put_postgres(conn);
                Ok(())
            }
        }
    }

    /// Set the columns of `cols` outside `key` on rows already held ([`WriteMode::UpdateHeld`]).
    /// Never counted in the upload's summary and never stamped: the row stays the upload's
    /// that brought it.
    async fn update_held(
        &mut self,
        table: &'static str,
        cols: &'static [&'static str],
        key: &'static [&'static str],
        vals: Vec<Val>,
    ) -> Result<()> {
        if key.is_empty() || cols.iter().all(|c| key.contains(c)) {
            return Err(StoreError::Invalid(format!(
                "{table}: an update needs a key and a column to set"
            )));
        }
        match &mut self.writer {
            Writer::Sqlite(_) => {
                let sql = update_sql(table, cols, key);
                let width = cols.len();
                self.with_sqlite(move |c| {
                    let mut stmt = c.prepare_cached(&sql)?;
                    for (i, row) in vals.chunks_exact(width).enumerate() {
                        if stmt.execute(rusqlite::params_from_iter(row.iter()))? != 1 {
                            return Err(StoreError::Invalid(format!(
                                "{table}: row {} to update is not held; nothing was saved",
                                i + 1
                            )));
                        }
                    }
                    Ok(())
                })
                .await
            }
            Writer::Postgres(_) => {
                let mut conn = self.take_postgres()?;
                self.staging
                    .update(&mut conn, table, cols, key, &vals)
                    .await?;
                self.put_postgres(conn);
                Ok(())
            }
        }
    }
}

/// Rows ready to write to one table: values flat, row after row, one per column.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub table: &'static str,
    pub cols: &'static [&'static str],
    pub key: &'static [&'static str],
    /// Counted in the upload's summary and stamped with its id.
    pub tracked: bool,
    pub vals: Vec<Val>,
    /// What writing does with the rows.
    pub mode: WriteMode,
}

/// How a batch's rows reach their table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WriteMode {
    /// Inserted, or replacing the row held under the same key.
    #[default]
    Upsert,
    /// Only the columns outside the key set, on rows already held (every row must find its
    /// row, or nothing is saved): a narrow update where a whole row would be written again
    /// for one column (the 100,000 referrals a contacts upload moves off the waiting list).
    UpdateHeld,
}

/// The columns an intervention row is written with (`upload_id` follows), in binding order.
/// The group of a type and the minutes of an intervention are derived in queries, not stored:
/// every column costs every row of a large import.
pub const INTERVENTION_COLUMNS: [&str; 21] = [
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
    "start_min",
    "end_min",
    "day",
    "month_start",
    "week_start",
    "injury_patient",
    "injury_staff",
    "injury_other",
    "in_care_plan",
    "police_involved",
];
/// An intervention's natural key: the trust's own incident and intervention identifiers.
pub const INTERVENTION_KEY: [&str; 3] = ["trust_code", "incident_id", "intervention_id"];

impl Batch {
    /// An empty batch for `rows` rows, counted and stamped (`tracked`), upserted.
    pub(crate) fn new(
        table: &'static str,
        cols: &'static [&'static str],
        key: &'static [&'static str],
        rows: usize,
    ) -> Batch {
        Batch {
            table,
            cols,
            key,
            tracked: true,
            vals: Vec::with_capacity(rows * cols.len()),
            mode: WriteMode::Upsert,
        }
    }

    pub fn rows(&self) -> usize {
        self.vals.len() / self.cols.len().max(1)
    }

    pub fn organisations(mut rows: Vec<Organisation>) -> Batch {
        // Parents first, so that the foreign key always finds its row.
        rows.sort_by_key(|o| match o.level {
            domain::OrgLevel::Region => 0,
            domain::OrgLevel::Icb => 1,
            domain::OrgLevel::Trust => 2,
            domain::OrgLevel::Site => 3,
            domain::OrgLevel::Ward => 4,
        });
        let mut b = Batch::new(
            "organisations",
            &["code", "name", "level", "parent_code"],
            &["code"],
            rows.len(),
        );
        for o in rows {
            b.vals.extend([
                Val::Text(o.code.to_string()),
                Val::Text(o.name),
                Val::Static(o.level.as_str()),
                Val::text_opt(o.parent.map(|p| p.to_string())),
            ]);
        }
        b
    }

    /// Wards with their resolved trust, ICB and region codes, and their bed counts.
    pub fn wards(rows: Vec<(Ward, String, Option<String>, Option<String>)>) -> [Batch; 2] {
        let mut beds = Batch::new(
            "ward_beds",
            &["ward_code", "from_day", "beds"],
            &["ward_code", "from_day"],
            rows.len(),
        );
        beds.tracked = false;
        let mut wards = Batch::new(
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
            rows.len(),
        );
        let mut seen = std::collections::HashSet::new();
        for (w, trust, icb, region) in rows {
            beds.vals.extend([
                Val::text(w.code.as_str()),
                day(w.beds_from),
                Val::Int(i64::from(w.beds)),
            ]);
            if seen.insert(w.code.clone()) {
                wards.vals.extend([
                    Val::text(w.code.as_str()),
                    Val::Text(w.name),
                    Val::text(w.site.as_str()),
                    Val::Text(trust),
                    Val::text_opt(icb),
                    Val::text_opt(region),
                    Val::Static(w.ward_type.code()),
                    Val::Static(w.sex_mix.code()),
                ]);
            }
        }
        [wards, beds]
    }

    pub fn bed_days(rows: Vec<BedDays>) -> Batch {
        let mut b = Batch::new(
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
            rows.len(),
        );
        for r in rows {
            b.vals.extend([
                Val::Shared(r.ward.shared()),
                day(r.start),
                Val::Int(i64::from(r.days)),
                month(r.start),
                // Monthly totals cannot be split into weeks.
                if r.days == 1 {
                    week(r.start)
                } else {
                    Val::NullInt
                },
                Val::Real(r.occupied),
                Val::Real(r.on_leave),
            ]);
        }
        b
    }

    pub fn patients(rows: Vec<Patient>) -> Batch {
        let mut b = Batch::new(
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
            rows.len(),
        );
        for p in rows {
            b.vals.extend([
                Val::Shared(p.pseudonym.0),
                Val::int_opt(p.birth_year.map(i64::from)),
                Val::Static(p.sex.code()),
                Val::Static(p.ethnic_category.code()),
                Val::Static(p.ethnic_category.group()),
                Val::Static(p.ld_autism.code()),
            ]);
        }
        b
    }

    pub fn ward_stays(trust: &Arc<str>, rows: Vec<WardStay>) -> Batch {
        let mut b = Batch::new(
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
            rows.len(),
        );
        for r in rows {
            b.vals.extend([
                Val::Shared(trust.clone()),
                Val::Text(r.local_id),
                Val::Shared(r.patient.0),
                Val::Shared(r.ward.shared()),
                day(r.start),
                Val::int_opt(r.end.map(|d| i64::from(day_number(d)))),
            ]);
        }
        b
    }

    pub fn interventions(trust: &Arc<str>, rows: Vec<Intervention>) -> Batch {
        let mut b = Batch::new(
            "ri_interventions",
            &INTERVENTION_COLUMNS,
            &INTERVENTION_KEY,
            rows.len(),
        );
        for r in rows {
            let d = r.start.date();
            b.vals.extend([
                Val::Shared(trust.clone()),
                Val::Text(r.incident_id),
                Val::Text(r.intervention_id),
                Val::Shared(r.patient.0),
                Val::Shared(r.ward.shared()),
                minutes(r.incident_start),
                minutes_opt(r.incident_end),
                Val::Static(r.reason.code()),
                Val::flag(r.review_with_patient),
                Val::flag(r.review_with_staff),
                Val::Static(r.kind.code()),
                minutes(r.start),
                minutes_opt(r.end),
                day(d),
                month(d),
                week(d),
                Val::flag(r.injury_patient),
                Val::flag(r.injury_staff),
                Val::flag(r.injury_other),
                Val::flag_opt(r.in_care_plan),
                Val::flag_opt(r.police_involved),
            ]);
        }
        b
    }

    pub fn incidents(trust: &Arc<str>, rows: Vec<Incident>) -> Batch {
        const COLS: [&str; 20] = [
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
            "ligature_area",
            "ligature_point",
            "method",
        ];
        let mut b = Batch::new("incidents", &COLS, &["trust_code", "local_id"], rows.len());
        for r in rows {
            let d = r.occurred.date();
            b.vals.extend([
                Val::Shared(trust.clone()),
                Val::Text(r.local_id),
                Val::Static(r.kind.code()),
                r.patient.map_or(Val::NullText, |p| Val::Shared(p.0)),
                Val::Shared(r.ward.shared()),
                minutes(r.occurred),
                day(d),
                month(d),
                week(d),
                Val::Static(r.harm.code()),
                code(r.psychological_harm, |h| h.code()),
                Val::flag(r.on_leave),
                code(r.category, |c| c.code()),
                code(r.perpetrator, |c| c.code()),
                code(r.victim, |c| c.code()),
                Val::flag_opt(r.police_informed),
                Val::flag_opt(r.safeguarding_referral),
                r.ligature_area.map_or(Val::NullText, Val::Text),
                r.ligature_point.map_or(Val::NullText, Val::Text),
                code(r.method, |m| m.code()),
            ]);
        }
        b
    }

    pub fn leave_periods(trust: &Arc<str>, rows: Vec<LeavePeriod>) -> Batch {
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
        let mut b = Batch::new(
            "leave_periods",
            &COLS,
            &["trust_code", "local_id"],
            rows.len(),
        );
        for r in rows {
            let ret = r.actual_return.map(|t| t.date());
            let on_time = r.returned_on_time();
            b.vals.extend([
                Val::Shared(trust.clone()),
                Val::Text(r.local_id),
                Val::Shared(r.patient.0),
                Val::Shared(r.ward.shared()),
                minutes(r.start),
                minutes(r.agreed_return),
                minutes_opt(r.actual_return),
                ret.map_or(Val::NullInt, day),
                ret.map_or(Val::NullInt, month),
                ret.map_or(Val::NullInt, week),
                Val::flag_opt(on_time),
            ]);
        }
        b
    }

    pub fn awol_episodes(trust: &Arc<str>, rows: Vec<AwolEpisode>) -> Batch {
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
        let mut b = Batch::new(
            "awol_episodes",
            &COLS,
            &["trust_code", "local_id"],
            rows.len(),
        );
        for r in rows {
            let d = r.start.date();
            b.vals.extend([
                Val::Shared(trust.clone()),
                Val::Text(r.local_id),
                Val::Shared(r.patient.0),
                Val::Shared(r.ward.shared()),
                minutes(r.start),
                minutes_opt(r.end),
                Val::text_opt(r.end_reason),
                day(d),
                month(d),
                week(d),
            ]);
        }
        b
    }

    pub fn survey_answers(trust: &Arc<str>, rows: Vec<SurveyAnswer>) -> Batch {
        const COLS: [&str; 7] = [
            "trust_code",
            "response_id",
            "ward_code",
            "day",
            "month_start",
            "week_start",
            "felt_safe",
        ];
        let mut b = Batch::new(
            "survey_answers",
            &COLS,
            &["trust_code", "response_id"],
            rows.len(),
        );
        for r in rows {
            b.vals.extend([
                Val::Shared(trust.clone()),
                Val::Text(r.response_id),
                Val::Shared(r.ward.shared()),
                day(r.date),
                month(r.date),
                week(r.date),
                Val::flag(r.felt_sexually_safe),
            ]);
        }
        b
    }
}

impl Import {
    /// Count what the import did, without committing.
    async fn summarise(&mut self) -> Result<UploadSummary> {
        if let Writer::Postgres(_) = self.writer {
            let mut conn = self.take_postgres()?;
            self.staging.finish(&mut conn).await?;
            self.put_postgres(conn);
        }
        let mut inserted = 0i64;
        let tables: Vec<(&'static str, i64)> = self.before.iter().map(|(t, n)| (*t, *n)).collect();
        for (table, before) in tables {
            inserted += self.count_rows(table).await? - before;
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

    /// Make the whole import visible at once, recording the trust it was for (if one).
    pub async fn commit(mut self, trust_code: Option<String>) -> Result<UploadSummary> {
        let mut s = self.summarise().await?;
        let (rows, inserted, updated, id) = (
            s.rows as i64,
            s.inserted as i64,
            s.updated as i64,
            self.upload_id,
        );
        match std::mem::replace(&mut self.writer, Writer::Sqlite(None)) {
            Writer::Sqlite(Some(conn)) => {
                blocking(move || {
                    conn.execute(
                        "UPDATE uploads SET rows_total = ?1, rows_inserted = ?2, rows_updated = ?3, trust_code = COALESCE(?4, trust_code) WHERE id = ?5",
                        rusqlite::params![rows, inserted, updated, trust_code, id],
                    )?;
                    conn.execute_batch("COMMIT")?;
                    // The upload is committed and visible. Copying a large WAL back into the
                    // database is housekeeping: do it in the background, not while the user
                    // waits (if the process ends first, the next connection's checkpoint does it).
                    std::thread::spawn(move || {
                        let _ = conn.execute_batch(crate::SQLITE_OPTIMIZE);
                        let _ = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
                    });
                    Ok(())
                })
                .await?
            }
            Writer::Sqlite(None) => {
                return Err(StoreError::Invalid(
                    "the import connection was lost after an earlier failure; nothing was saved"
                        .into(),
                ));
            }
            Writer::Postgres(None) => {
                return Err(StoreError::Invalid(
                    "the import connection was lost after an earlier failure; nothing was saved"
                        .into(),
                ));
            }
            Writer::Postgres(Some(mut conn)) => {
                sqlx::query("UPDATE uploads SET rows_total = $1, rows_inserted = $2, rows_updated = $3, trust_code = COALESCE($4, trust_code) WHERE id = $5")
                    .bind(rows)
                    .bind(inserted)
                    .bind(updated)
                    .bind(trust_code)
                    .bind(id)
                    .execute(&mut conn)
                    .await?;
                conn.execute("COMMIT").await?;
                let _ = conn.close().await;
            }
        }
        s.committed = true;
        Ok(s)
    }

    /// Undo everything (a dry run ends here), reporting what would have happened.
    pub async fn rollback(mut self) -> Result<UploadSummary> {
        let s = self.summarise().await?;
        match std::mem::replace(&mut self.writer, Writer::Sqlite(None)) {
            Writer::Sqlite(Some(conn)) => {
                blocking(move || {
                    conn.execute_batch("ROLLBACK")?;
                    Ok(())
                })
                .await?
            }
            Writer::Sqlite(None) | Writer::Postgres(None) => {}
            Writer::Postgres(Some(mut conn)) => {
                conn.execute("ROLLBACK").await?;
                let _ = conn.close().await;
            }
        }
        Ok(s)
    }
}

/// SQLite inserts run as `INSERT OR ROLLBACK`: a failed constraint ends the whole upload's
/// transaction at once, which is what an upload wants anyway, and spares SQLite the statement
/// journal it keeps for statements that could abort on their own (see migration 0005).
fn insert_prefix(backend: Backend, table: &str, cols: &[&str]) -> String {
    let verb = match backend {
        Backend::Sqlite => "INSERT OR ROLLBACK",
        Backend::Postgres => "INSERT",
    };
    format!("{verb} INTO {table} ({}) VALUES ", cols.join(", "))
}

/// `(p,p,p),(p,p,p)...`. SQLite gets anonymous `?` placeholders: with numbered ones, binding
/// each parameter looks its name up in a list (sqlite3_bind_parameter_name), which makes a
/// large insert quadratic. PostgreSQL needs `$n`.
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

/// The upsert statement for `rows` rows of `table`, built on first use in an import.
fn cached_upsert(
    cache: &mut HashMap<(&'static str, usize), Arc<str>>,
    backend: Backend,
    table: &'static str,
    cols: &[&str],
    key: &[&str],
    rows: usize,
) -> Arc<str> {
    cache
        .entry((table, rows))
        .or_insert_with(|| upsert_sql(backend, table, cols, key, rows).into())
        .clone()
}

/// `INSERT ... VALUES (...),(...) ON CONFLICT (key) DO UPDATE SET ...`.
fn upsert_sql(backend: Backend, table: &str, cols: &[&str], key: &[&str], rows: usize) -> String {
    let mut s = insert_prefix(backend, table, cols);
    push_values(&mut s, backend, cols.len(), rows);
    push_conflict(&mut s, cols, key);
    s
}

/// `UPDATE table SET c = ?3 WHERE a = ?1 AND b = ?2`: each column's parameter numbered by its
/// place in `cols`, so a row binds in its own order.
fn update_sql(table: &str, cols: &[&str], key: &[&str]) -> String {
    let numbered = |want_key: bool| {
        cols.iter()
            .enumerate()
            .filter(move |(_, c)| key.contains(c) == want_key)
            .map(|(i, c)| format!("{c} = ?{}", i + 1))
    };
    format!(
        "UPDATE {table} SET {} WHERE {}",
        numbered(false).collect::<Vec<_>>().join(", "),
        numbered(true).collect::<Vec<_>>().join(" AND ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_sql_numbers_parameters_by_column() {
        assert_eq!(
            update_sql("t", &["a", "b", "c"], &["a", "b"]),
            "UPDATE t SET c = ?3 WHERE a = ?1 AND b = ?2"
        );
    }

    #[test]
    fn upsert_sql_numbers_parameters_in_order() {
        let s = upsert_sql(Backend::Postgres, "t", &["a", "b", "upload_id"], &["a"], 2);
        assert_eq!(
            s,
            "INSERT INTO t (a, b, upload_id) VALUES ($1,$2,$3),($4,$5,$6) ON CONFLICT (a) DO UPDATE SET b = excluded.b, upload_id = excluded.upload_id"
        );
        assert_eq!(
            upsert_sql(Backend::Sqlite, "t", &["a", "upload_id"], &["a"], 2),
            "INSERT OR ROLLBACK INTO t (a, upload_id) VALUES (?,?),(?,?) ON CONFLICT (a) DO UPDATE SET upload_id = excluded.upload_id"
        );
    }
}
