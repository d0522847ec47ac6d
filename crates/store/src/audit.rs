//! Reading the audit log: filters (user, action, organisation, date range) and keyset paging
//! by id, newest first, so that any page of a log of millions of entries costs the same. One SQL
//! text for both engines; only placeholders are ever joined into it, never values.

use crate::accounts::AuditRow;
use crate::{Result, Store};
use time::Date;

/// What to show; `None` (or an empty string) means any.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditFilter {
    /// The login exactly as recorded.
    pub user: Option<String>,
    pub action: Option<String>,
    /// A trust, site or ward code: entries about it, and about its sites and wards.
    pub org: Option<String>,
    /// First and last day, inclusive (UTC).
    pub from: Option<Date>,
    pub to: Option<Date>,
}

/// Where a page starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cursor {
    /// The newest entries.
    Newest,
    /// Entries older than this id (the "next" page).
    Before(i64),
    /// Entries newer than this id (the "previous" page).
    After(i64),
}

/// One page, newest first, and whether there are entries on either side of it.
#[derive(Clone, Debug, Default)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub newer: bool,
    pub older: bool,
    /// Entries matching the filter, on every page.
    pub matching: i64,
}

enum Arg {
    Text(String),
    Int(i64),
}

const COLUMNS: &str = "id, at, user_name, action, target, org_code, detail";

impl AuditFilter {
    /// The WHERE clause (from `$1`) and its arguments.
    fn clause(&self) -> (String, Vec<Arg>) {
        let mut conds: Vec<String> = Vec::new();
        let mut args = Vec::new();
        let some = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        if let Some(u) = some(&self.user) {
            args.push(Arg::Text(u));
            conds.push(format!("user_name = ${}", args.len()));
        }
        if let Some(a) = some(&self.action) {
            args.push(Arg::Text(a));
            conds.push(format!("action = ${}", args.len()));
        }
        if let Some(o) = some(&self.org) {
            args.push(Arg::Text(o.to_ascii_uppercase()));
            let n = args.len();
            conds.push(format!(
                "(org_code = ${n} \
                  OR org_code IN (SELECT code FROM wards WHERE trust_code = ${n} OR site_code = ${n}) \
                  OR org_code IN (SELECT code FROM organisations WHERE parent_code = ${n}))"
            ));
        }
        if let Some(d) = self.from {
            args.push(Arg::Text(domain::dates::iso(d)));
            conds.push(format!("at >= ${}", args.len()));
        }
        if let Some(d) = self.to {
            // `at` is 'YYYY-MM-DD HH:MM:SS': everything before the next day.
            let next = d.next_day().unwrap_or(d);
            args.push(Arg::Text(domain::dates::iso(next)));
            conds.push(format!("at < ${}", args.len()));
        }
        let sql = if conds.is_empty() {
            "1 = 1".to_string()
        } else {
            conds.join(" AND ")
        };
        (sql, args)
    }
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

impl Store {
    /// A page of at most `limit` entries matching `filter`, newest first.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        cursor: Cursor,
        limit: i64,
    ) -> Result<AuditPage> {
        let limit = limit.clamp(1, 10_000);
        let (clause, mut args) = filter.clause();
        let (key, ascending) = match cursor {
            Cursor::Newest => (None, false),
            Cursor::Before(_) => (Some(format!("id < ${}", args.len() + 1)), false),
            Cursor::After(_) => (Some(format!("id > ${}", args.len() + 1)), true),
        };
        let base_args = args.len();
        if let Cursor::Before(id) | Cursor::After(id) = cursor {
            args.push(Arg::Int(id));
        }
        args.push(Arg::Int(limit + 1));
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log WHERE {clause}{} ORDER BY id {} LIMIT ${}",
            key.map(|k| format!(" AND {k}")).unwrap_or_default(),
            if ascending { "ASC" } else { "DESC" },
            args.len()
        );
        let mut rows: Vec<AuditRow> = bind_all!(sqlx::query_as(&sql), &args)
            .fetch_all(&self.pool)
            .await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        if ascending {
            rows.reverse();
        }
        args.truncate(base_args);
        // Whether anything lies beyond the page on the side we did not come from.
        let (newer, older) = match cursor {
            Cursor::Newest => (false, more),
            Cursor::Before(id) => {
                let top = rows.first().map_or(id - 1, |r| r.id);
                (self.audit_exists(&clause, &args, ">", top).await?, more)
            }
            Cursor::After(id) => {
                let bottom = rows.last().map_or(id + 1, |r| r.id);
                (more, self.audit_exists(&clause, &args, "<", bottom).await?)
            }
        };
        let count = format!("SELECT COUNT(*) FROM audit_log WHERE {clause}");
        let (matching,): (i64,) = bind_all!(sqlx::query_as(&count), &args)
            .fetch_one(&self.pool)
            .await?;
        Ok(AuditPage {
            rows,
            newer,
            older,
            matching,
        })
    }

    async fn audit_exists(&self, clause: &str, args: &[Arg], op: &str, id: i64) -> Result<bool> {
        let sql = format!(
            "SELECT id FROM audit_log WHERE {clause} AND id {op} ${} LIMIT 1",
            args.len() + 1
        );
        let row: Option<(i64,)> = bind_all!(sqlx::query_as(&sql), args)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Every action recorded so far, for the filter's choices.
    pub async fn audit_actions(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT action FROM audit_log ORDER BY action")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}
