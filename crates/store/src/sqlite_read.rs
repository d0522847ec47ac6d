//! Reads of many rows from SQLite through a rusqlite connection of their own.
//!
//! sqlx's SQLite driver runs each connection on a worker thread and hands every row to the
//! caller through a channel: a thread wake-up and a conversion to `AnyRow` per row, about
//! 10 µs. That is nothing for a page's few hundred rows and a second for the 100,000 referrals
//! an upload is checked against. Here the rows are read and decoded in one blocking task.
//! PostgreSQL (and an in-memory SQLite database, which another connection cannot see) keep
//! the pool: callers fall back to it when [`Store::sqlite_read`] answers `None`.

use crate::values::Val;
use crate::{Result, Store, StoreError};

/// A row type read by position, in the order of its `SELECT` list.
pub(crate) trait FromSqlite: Sized {
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

/// Tuples of plain values, read in order (as `sqlx::query_as` reads them from the pool).
macro_rules! tuple_from_sqlite {
    ($($t:ident $i:tt),+) => {
        impl<$($t: rusqlite::types::FromSql),+> FromSqlite for ($($t,)+) {
            fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(($(row.get::<_, $t>($i)?,)+))
            }
        }
    };
}
tuple_from_sqlite!(A 0, B 1, C 2);
tuple_from_sqlite!(A 0, B 1, C 2, D 3);

impl Store {
    /// Whether [`Store::sqlite_read`] reads (the store is a SQLite file).
    pub(crate) fn is_sqlite_file(&self) -> bool {
        self.backend == crate::Backend::Sqlite && self.sqlite_file.is_some()
    }

    /// Run `read` on a read-only connection to the SQLite file, off the async threads; `None`
    /// when the store is not a SQLite file.
    pub(crate) async fn sqlite_read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&rusqlite::Connection) -> Result<T> + Send + 'static,
    ) -> Option<Result<T>> {
        if !self.is_sqlite_file() {
            return None;
        }
        let path = self.sqlite_file.clone()?;
        let task = tokio::task::spawn_blocking(move || {
            use rusqlite::OpenFlags;
            let conn = rusqlite::Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            read(&conn)
        });
        Some(
            task.await
                .map_err(|e| StoreError::Task(e.to_string()))
                .and_then(|r| r),
        )
    }
}

/// Bind `binds` to a statement whose parameters are numbered `$1`, `$2`... as in the pool's
/// SQL (a number the statement does not use is skipped: SQLite numbers named parameters in the
/// order they first appear, so binding by position would misplace `$3` written before `$2`).
pub(crate) fn bind_numbered(stmt: &mut rusqlite::Statement<'_>, binds: &[Val]) -> Result<()> {
    for (i, v) in binds.iter().enumerate() {
        if let Some(at) = stmt.parameter_index(&format!("${}", i + 1))? {
            stmt.raw_bind_parameter(at, v)?;
        }
    }
    Ok(())
}

/// The rows of `sql` (parameters as in [`bind_numbered`]).
pub(crate) fn rows<T: FromSqlite>(
    conn: &rusqlite::Connection,
    sql: &str,
    binds: &[Val],
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind_numbered(&mut stmt, binds)?;
    let mut out = Vec::new();
    let mut cursor = stmt.raw_query();
    while let Some(row) = cursor.next()? {
        out.push(T::from_sqlite(row)?);
    }
    Ok(out)
}
