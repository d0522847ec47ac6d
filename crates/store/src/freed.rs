//! FREED (issue 14): eating-disorder services, their referrals and the referrals' contacts,
//! pauses and discharges, as rows (migration 0009). SQL only: the codes are written and read by
//! `ingest::freed`, which turns rows into `pathway` referrals and back; what a user may see is
//! decided in `web`, and every clock in `pathway`.
//!
//! Times are minute numbers (`domain::dates::minute_number`), days day numbers.

use crate::imports::Batch;
use crate::sqlite_read::{self, FromSqlite};
use crate::values::Val;
use crate::{Result, Store};
use serde::Serialize;
use std::sync::Arc;

/// An eating-disorder service: a team of one trust. `ward_code`, when given, is a ward whose
/// ward users work in the service (and so see its patients).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ServiceRow {
    pub code: String,
    pub name: String,
    pub trust_code: String,
    pub ward_code: Option<String>,
}

/// A referral as stored: held against the patient's pseudonym, known by the service's own
/// reference.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ReferralRow {
    pub service_code: String,
    pub referral_id: String,
    pub patient: String,
    pub received_min: i64,
    pub source: String,
    pub age: Option<i64>,
    pub first_episode: String,
    pub onset_precision: String,
    /// The first day the onset can be (its day, the 1st of its month, 1 January of its year).
    pub onset_day: Option<i64>,
    pub diagnosis: String,
    pub priority: String,
    pub ethnic_category: Option<String>,
    pub sex: Option<String>,
    pub imd_decile: Option<i64>,
    /// The minute from which the referral can no longer be waiting (first attended treatment
    /// or final discharge), `None` while it can.
    pub off_list_min: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ContactRow {
    pub service_code: String,
    pub contact_id: String,
    pub referral_id: String,
    pub kind: String,
    pub at_min: i64,
    /// The MHSDS attended-or-did-not-attend code as given (2-7).
    pub attendance_code: String,
    /// 1 when `pathway` reads the code as attended, else 0 (written by `ingest::freed`).
    pub attended: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PauseRow {
    pub service_code: String,
    pub referral_id: String,
    pub start_min: i64,
    pub end_min: Option<i64>,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DischargeRow {
    pub service_code: String,
    pub referral_id: String,
    pub at_min: i64,
    pub reason: String,
    pub reopened_min: Option<i64>,
}

/// Everything held about the referrals of some services, each list ordered by service,
/// referral and time (so that whatever reads it sees the same order every time).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FreedRows {
    pub referrals: Vec<ReferralRow>,
    pub contacts: Vec<ContactRow>,
    pub pauses: Vec<PauseRow>,
    pub discharges: Vec<DischargeRow>,
}

/// The day number of the first day of the month and the ISO week holding a day.
fn periods(day: i64) -> (Val, Val) {
    use domain::dates::{PeriodKind, date_from_day, day_number};
    // Written from a referral's own time, so always a real day; 1970-01-01 if not.
    let d = date_from_day(0)
        .checked_add(time::Duration::days(day))
        .unwrap_or(date_from_day(0));
    (
        Val::Int(i64::from(day_number(PeriodKind::Month.start_of(d)))),
        Val::Int(i64::from(day_number(PeriodKind::Week.start_of(d)))),
    )
}

impl Batch {
    pub fn freed_services(rows: Vec<ServiceRow>) -> Batch {
        let mut b = Batch::new(
            "freed_services",
            &["code", "name", "trust_code", "ward_code"],
            &["code"],
            rows.len(),
        );
        for r in rows {
            b.vals.extend([
                Val::Text(r.code),
                Val::Text(r.name),
                Val::Text(r.trust_code),
                Val::text_opt(r.ward_code),
            ]);
        }
        b
    }

    pub fn freed_referrals(rows: Vec<ReferralRow>) -> Batch {
        let mut b = Batch::new(
            "freed_referrals",
            &[
                "service_code",
                "referral_id",
                "patient",
                "received_min",
                "day",
                "month_start",
                "week_start",
                "source",
                "age",
                "first_episode",
                "onset_precision",
                "onset_day",
                "diagnosis",
                "priority",
                "ethnic_category",
                "sex",
                "imd_decile",
                "off_list_min",
            ],
            &["service_code", "referral_id"],
            rows.len(),
        );
        for r in rows {
            let day = r.received_min.div_euclid(24 * 60);
            let (month, week) = periods(day);
            b.vals.extend([
                Val::Text(r.service_code),
                Val::Text(r.referral_id),
                Val::Shared(Arc::from(r.patient)),
                Val::Int(r.received_min),
                Val::Int(day),
                month,
                week,
                Val::Text(r.source),
                Val::int_opt(r.age),
                Val::Text(r.first_episode),
                Val::Text(r.onset_precision),
                Val::int_opt(r.onset_day),
                Val::Text(r.diagnosis),
                Val::Text(r.priority),
                Val::text_opt(r.ethnic_category),
                Val::text_opt(r.sex),
                Val::int_opt(r.imd_decile),
                Val::int_opt(r.off_list_min),
            ]);
        }
        b
    }

    /// When each referral leaves the waiting list, set on referrals already held (a contacts or
    /// discharges upload changes only that column of the referrals it touches).
    pub fn freed_off_list(rows: Vec<(String, String, Option<i64>)>) -> Batch {
        let mut b = Batch::new(
            "freed_referrals",
            &["service_code", "referral_id", "off_list_min"],
            &["service_code", "referral_id"],
            rows.len(),
        );
        b.tracked = false;
        b.mode = crate::WriteMode::UpdateHeld;
        for (service, referral, off_list_min) in rows {
            b.vals.extend([
                Val::Text(service),
                Val::Text(referral),
                Val::int_opt(off_list_min),
            ]);
        }
        b
    }

    pub fn freed_contacts(rows: Vec<ContactRow>) -> Batch {
        let mut b = Batch::new(
            "freed_contacts",
            &[
                "service_code",
                "contact_id",
                "referral_id",
                "kind",
                "at_min",
                "attendance_code",
                "attended",
            ],
            &["service_code", "contact_id"],
            rows.len(),
        );
        for r in rows {
            b.vals.extend([
                Val::Text(r.service_code),
                Val::Text(r.contact_id),
                Val::Text(r.referral_id),
                Val::Text(r.kind),
                Val::Int(r.at_min),
                Val::Text(r.attendance_code),
                Val::Int(r.attended),
            ]);
        }
        b
    }

    pub fn freed_pauses(rows: Vec<PauseRow>) -> Batch {
        let mut b = Batch::new(
            "freed_pauses",
            &[
                "service_code",
                "referral_id",
                "start_min",
                "end_min",
                "reason",
            ],
            &["service_code", "referral_id", "start_min"],
            rows.len(),
        );
        for r in rows {
            b.vals.extend([
                Val::Text(r.service_code),
                Val::Text(r.referral_id),
                Val::Int(r.start_min),
                Val::int_opt(r.end_min),
                Val::Text(r.reason),
            ]);
        }
        b
    }

    pub fn freed_discharges(rows: Vec<DischargeRow>) -> Batch {
        let mut b = Batch::new(
            "freed_discharges",
            &[
                "service_code",
                "referral_id",
                "at_min",
                "reason",
                "reopened_min",
            ],
            &["service_code", "referral_id", "at_min"],
            rows.len(),
        );
        for r in rows {
            b.vals.extend([
                Val::Text(r.service_code),
                Val::Text(r.referral_id),
                Val::Int(r.at_min),
                Val::Text(r.reason),
                Val::int_opt(r.reopened_min),
            ]);
        }
        b
    }
}

const REFERRAL_COLUMNS: &str = "service_code, referral_id, patient, received_min, source, age, first_episode, onset_precision, onset_day, diagnosis, priority, ethnic_category, sex, imd_decile, off_list_min";

impl Store {
    /// Every service, by code.
    pub async fn freed_services(&self) -> Result<Vec<ServiceRow>> {
        Ok(sqlx::query_as(
            "SELECT code, name, trust_code, ward_code FROM freed_services ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Everything held about one service's referrals; with `open_at` (a minute number), only
    /// the referrals that can be on its waiting list then: received by then and not yet off
    /// the list (`off_list_min`: first attended treatment or final discharge). This only
    /// narrows what is read; `pathway` decides the list.
    pub async fn freed_rows(&self, service: &str, open_at: Option<i64>) -> Result<FreedRows> {
        match open_at {
            Some(t) => self.freed_select(service, None, OPEN_AT, t).await,
            None => self.freed_select(service, None, ONE_OR_ALL, 0).await,
        }
    }

    /// Everything held about the service's referrals that are not off the waiting list by
    /// minute `from` (`off_list_min` unset or later), whenever received: the referrals that can
    /// be on its list at `from` or any later time (the web keeps them for the next views).
    pub async fn freed_rows_not_off_by(&self, service: &str, from: i64) -> Result<FreedRows> {
        self.freed_select(service, None, NOT_OFF_BY, from).await
    }

    /// Whether any referral is held for a service of `trust` (of any trust: `None`).
    pub async fn freed_any_referral(&self, trust: Option<&str>) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM freed_referrals r JOIN freed_services s \
             ON s.code = r.service_code WHERE ($1 IS NULL OR s.trust_code = $1) LIMIT 1) x",
        )
        .bind(trust.map(str::to_string))
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// How many referrals the service holds.
    pub async fn freed_referral_count(&self, service: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM freed_referrals WHERE service_code = $1")
                .bind(service)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Everything held about the named referrals of one service (those held: an unknown
    /// reference is simply not in the answer), read by key through each table's index on
    /// (service_code, referral_id), a few hundred references a query.
    pub async fn freed_rows_for(&self, service: &str, referrals: &[String]) -> Result<FreedRows> {
        let mut ids: Vec<&String> = referrals.iter().collect();
        ids.sort_unstable();
        ids.dedup();
        let parts = ids
            .chunks(BY_KEY_CHUNK)
            .map(|chunk| {
                let list = (0..chunk.len())
                    .map(|i| format!("${}", i + 2))
                    .collect::<Vec<_>>()
                    .join(", ");
                let mut binds = vec![Val::text(service)];
                binds.extend(chunk.iter().map(|id| Val::text(id.as_str())));
                (format!("referral_id IN ({list})"), binds)
            })
            .collect();
        self.freed_query(parts).await
    }

    /// One referral and its events (for correcting it by hand).
    pub async fn freed_referral(&self, service: &str, referral: &str) -> Result<FreedRows> {
        self.freed_select(service, Some(referral), ONE_OR_ALL, 0)
            .await
    }

    /// The service's referrals that `which` (a condition on `referral_id`, with `$2` one
    /// referral or NULL and `$3` a minute) selects, and their events.
    async fn freed_select(
        &self,
        service: &str,
        referral: Option<&str>,
        which: &str,
        at: i64,
    ) -> Result<FreedRows> {
        let binds = vec![
            Val::text(service),
            Val::text_opt(referral.map(str::to_string)),
            Val::Int(at),
        ];
        self.freed_query(vec![(which.to_string(), binds)]).await
    }

    /// For each part, the referrals of service `$1` that its condition selects (its other
    /// parameters `$2`... in its binds after the service) and their events, one part after
    /// another. On a SQLite file all parts are read through one connection of its own (an
    /// upload reads a whole service: see `sqlite_read`), else through the pool.
    async fn freed_query(&self, parts: Vec<(String, Vec<Val>)>) -> Result<FreedRows> {
        // Per part: the four tables' SELECTs, each ordered as `FreedRows` promises.
        let queries: Vec<([String; 4], Vec<Val>)> = parts
            .into_iter()
            .map(|(which, binds)| {
                let sql = |columns: &str, table: &str, order: &str| {
                    format!(
                        "SELECT {columns} FROM {table} WHERE service_code = $1 AND {which} ORDER BY {order}"
                    )
                };
                let sqls = [
                    sql(REFERRAL_COLUMNS, "freed_referrals", "referral_id"),
                    sql(CONTACT_COLUMNS, "freed_contacts", "referral_id, at_min, contact_id"),
                    sql(PAUSE_COLUMNS, "freed_pauses", "referral_id, start_min"),
                    sql(DISCHARGE_COLUMNS, "freed_discharges", "referral_id, at_min"),
                ];
                (sqls, binds)
            })
            .collect();
        if self.is_sqlite_file() {
            let read = move |c: &rusqlite::Connection| {
                let mut out = FreedRows::default();
                for ([referrals, contacts, pauses, discharges], binds) in &queries {
                    out.referrals
                        .extend(sqlite_read::rows(c, referrals, binds)?);
                    out.contacts.extend(sqlite_read::rows(c, contacts, binds)?);
                    out.pauses.extend(sqlite_read::rows(c, pauses, binds)?);
                    out.discharges
                        .extend(sqlite_read::rows(c, discharges, binds)?);
                }
                Ok(out)
            };
            if let Some(rows) = self.sqlite_read(read).await {
                return rows;
            }
            return Err(crate::StoreError::Invalid(
                "FREED rows: the SQLite file could not be opened for reading".into(),
            ));
        }
        let mut out = FreedRows::default();
        for ([referrals, contacts, pauses, discharges], binds) in &queries {
            out.referrals.extend(
                self.fetch_all_bound::<ReferralRow>(referrals, binds)
                    .await?,
            );
            out.contacts
                .extend(self.fetch_all_bound::<ContactRow>(contacts, binds).await?);
            out.pauses
                .extend(self.fetch_all_bound::<PauseRow>(pauses, binds).await?);
            out.discharges.extend(
                self.fetch_all_bound::<DischargeRow>(discharges, binds)
                    .await?,
            );
        }
        Ok(out)
    }

    /// `sql` through the pool, with `binds` as `$1`, `$2`...
    async fn fetch_all_bound<T>(&self, sql: &str, binds: &[Val]) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        let mut q = sqlx::query_as(sql);
        for v in binds {
            q = match v {
                Val::Int(i) => q.bind(*i),
                Val::Real(f) => q.bind(*f),
                Val::Text(t) => q.bind(t.clone()),
                Val::Static(t) => q.bind(t.to_string()),
                Val::Shared(t) => q.bind(t.to_string()),
                Val::NullInt => q.bind(None::<i64>),
                Val::NullReal => q.bind(None::<f64>),
                Val::NullText => q.bind(None::<String>),
            };
        }
        Ok(q.fetch_all(&self.pool).await?)
    }
}

const CONTACT_COLUMNS: &str =
    "service_code, contact_id, referral_id, kind, at_min, attendance_code, attended";
const PAUSE_COLUMNS: &str = "service_code, referral_id, start_min, end_min, reason";
const DISCHARGE_COLUMNS: &str = "service_code, referral_id, at_min, reason, reopened_min";

// Read by position, in the order of the column lists above.

impl FromSqlite for ReferralRow {
    fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(ReferralRow {
            service_code: r.get(0)?,
            referral_id: r.get(1)?,
            patient: r.get(2)?,
            received_min: r.get(3)?,
            source: r.get(4)?,
            age: r.get(5)?,
            first_episode: r.get(6)?,
            onset_precision: r.get(7)?,
            onset_day: r.get(8)?,
            diagnosis: r.get(9)?,
            priority: r.get(10)?,
            ethnic_category: r.get(11)?,
            sex: r.get(12)?,
            imd_decile: r.get(13)?,
            off_list_min: r.get(14)?,
        })
    }
}

impl FromSqlite for ContactRow {
    fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(ContactRow {
            service_code: r.get(0)?,
            contact_id: r.get(1)?,
            referral_id: r.get(2)?,
            kind: r.get(3)?,
            at_min: r.get(4)?,
            attendance_code: r.get(5)?,
            attended: r.get(6)?,
        })
    }
}

impl FromSqlite for PauseRow {
    fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(PauseRow {
            service_code: r.get(0)?,
            referral_id: r.get(1)?,
            start_min: r.get(2)?,
            end_min: r.get(3)?,
            reason: r.get(4)?,
        })
    }
}

impl FromSqlite for DischargeRow {
    fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(DischargeRow {
            service_code: r.get(0)?,
            referral_id: r.get(1)?,
            at_min: r.get(2)?,
            reason: r.get(3)?,
            reopened_min: r.get(4)?,
        })
    }
}

/// References asked for in one query by [`Store::freed_rows_for`].
const BY_KEY_CHUNK: usize = 500;

/// One referral (`$2`) or all of the service's, read straight from each table's index on
/// (service_code, referral_id); `$3` is bound but not needed.
const ONE_OR_ALL: &str = "($2 IS NULL OR referral_id = $2) AND $3 = $3";

/// The referrals that can be waiting at minute `$3` (see `freed_rows`): two ranges of the index
/// on (service_code, off_list_min), never a scan of the whole service.
const OPEN_AT: &str = "referral_id IN (SELECT r.referral_id FROM freed_referrals r WHERE r.service_code = $1 \
     AND r.off_list_min IS NULL AND r.received_min <= $3 AND ($2 IS NULL OR $2 IS NOT NULL) \
     UNION ALL SELECT r.referral_id FROM freed_referrals r WHERE r.service_code = $1 \
     AND r.off_list_min > $3 AND r.received_min <= $3)";

/// The referrals not off the list by minute `$3` (see `freed_rows_not_off_by`), through the
/// index on (service_code, off_list_min).
const NOT_OFF_BY: &str = "referral_id IN (SELECT r.referral_id FROM freed_referrals r WHERE r.service_code = $1 \
     AND r.off_list_min IS NULL AND ($2 IS NULL OR $2 IS NOT NULL) \
     UNION ALL SELECT r.referral_id FROM freed_referrals r WHERE r.service_code = $1 \
     AND r.off_list_min > $3)";
