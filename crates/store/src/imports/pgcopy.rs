//! PostgreSQL imports: batches go in with `COPY ... FROM STDIN` (text format) into a
//! temporary staging table of the upload's transaction; every 200,000 rows (and before another
//! table is written, and before the upload is counted and committed) one
//! `INSERT INTO target SELECT ... FROM staging ON CONFLICT (key) DO UPDATE` moves them into the
//! table, and the staging table is emptied. COPY is PostgreSQL's bulk path
//! (no statement to parse or parameters to bind per row); the upsert keeps re-uploads updating,
//! never duplicating. Everything runs inside the import's one transaction on its own
//! connection: a failure anywhere leaves nothing behind, and the staging tables disappear with
//! the transaction (`ON COMMIT DROP`, or the rollback).

use crate::values::Val;
use crate::{Result, StoreError};
use sqlx::{Executor, PgConnection};
use std::collections::HashSet;
use std::sync::Arc;

/// Bytes sent to the server per COPY message.
const SEND_BYTES: usize = 1 << 20;

/// The staging table of `table` (a temporary table: private to the import's connection).
pub(super) fn stage_name(table: &str) -> String {
    format!("mhsip_stage_{table}")
}

/// `INSERT INTO table (cols) SELECT cols FROM stage ON CONFLICT (key) DO UPDATE SET ...`.
pub(super) fn upsert_from_stage(table: &str, cols: &[&str], key: &[&str]) -> String {
    let list = cols.join(", ");
    let mut s = format!(
        "INSERT INTO {table} ({list}) SELECT {list} FROM {}",
        stage_name(table)
    );
    super::push_conflict(&mut s, cols, key);
    s
}

/// Rows staged before they are moved into the table: large statements for the server, and
/// few of them (each move is an upsert and a TRUNCATE).
const MOVE_ROWS: u64 = 200_000;

/// The staging tables of one import, and the rows staged but not yet moved.
#[derive(Default)]
pub(super) struct Staging {
    /// Staging tables created so far in the import's transaction.
    created: HashSet<&'static str>,
    /// The table whose staged rows wait to be moved, its upsert, and how many rows.
    pending: Option<(&'static str, Arc<str>, u64)>,
}

impl Staging {
    /// COPY `vals` (flat, `width` a row, each followed by `extra` when given) into the
    /// staging table of `table`; they are moved into `table` by `upsert` when enough are
    /// staged, before another table is written, and by `finish`. Staged rows of another
    /// table are moved first, so rows always reach their tables in the order written (a
    /// foreign key finds its row).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn copy(
        &mut self,
        conn: &mut PgConnection,
        table: &'static str,
        cols: &[&str],
        key: &[&str],
        upsert: Arc<str>,
        vals: &[Val],
        width: usize,
        extra: Option<&Val>,
    ) -> Result<()> {
        if self.pending.as_ref().is_some_and(|(t, ..)| *t != table) {
            self.finish(conn).await?;
        }
        let stage = stage_name(table);
        let list = cols.join(", ");
        if !self.created.contains(table) {
            // The target's column types, and NOT NULL on its key (a missing key is refused
            // at once); the move into the target checks every other constraint.
            let not_null: Vec<String> = key
                .iter()
                .map(|k| format!("ALTER COLUMN {k} SET NOT NULL"))
                .collect();
            conn.execute(
                format!(
                    "CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS SELECT {list} FROM {table} WITH NO DATA; \
                     ALTER TABLE {stage} {}",
                    not_null.join(", ")
                )
                .as_str(),
            )
            .await?;
            self.created.insert(table);
        }
        let rows = copy_rows(conn, table, &stage, &list, vals, width, extra).await?;
        let staged = self.pending.take().map_or(0, |(.., n)| n) + rows;
        self.pending = Some((table, upsert, staged));
        if staged >= MOVE_ROWS {
            self.finish(conn).await?;
        }
        Ok(())
    }

    /// Move the staged rows into their table (one upsert) and empty the staging table.
    pub(super) async fn finish(&mut self, conn: &mut PgConnection) -> Result<()> {
        if let Some((table, upsert, _)) = self.pending.take() {
            conn.execute(&*upsert).await?;
            conn.execute(format!("TRUNCATE {}", stage_name(table)).as_str())
                .await?;
        }
        Ok(())
    }

    /// Update columns of rows already held, from `vals` (flat, `width` a row: `key`'s columns
    /// then the ones to set, as `cols` lists them): COPY into a staging table of their own,
    /// then one `UPDATE ... FROM`. Every row must find its row in `table`, or nothing is saved.
    pub(super) async fn update(
        &mut self,
        conn: &mut PgConnection,
        table: &'static str,
        cols: &[&str],
        key: &[&str],
        vals: &[Val],
    ) -> Result<()> {
        // Rows staged for other tables reach them first (an update may be of one of them).
        self.finish(conn).await?;
        let stage = format!("mhsip_update_{table}");
        let list = cols.join(", ");
        conn.execute(
            format!(
                "CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS SELECT {list} FROM {table} WITH NO DATA"
            )
            .as_str(),
        )
        .await?;
        let rows = copy_rows(conn, table, &stage, &list, vals, cols.len(), None).await?;
        let updated = conn
            .execute(update_from_stage(table, &stage, cols, key).as_str())
            .await?
            .rows_affected();
        conn.execute(format!("TRUNCATE {stage}").as_str()).await?;
        if updated != rows {
            return Err(StoreError::Invalid(format!(
                "{table}: {updated} of {rows} rows to update are held; nothing was saved"
            )));
        }
        Ok(())
    }
}

/// `UPDATE table AS t SET c = s.c FROM stage AS s WHERE t.k = s.k AND ...`.
pub(super) fn update_from_stage(table: &str, stage: &str, cols: &[&str], key: &[&str]) -> String {
    let set: Vec<String> = cols
        .iter()
        .filter(|c| !key.contains(c))
        .map(|c| format!("{c} = s.{c}"))
        .collect();
    let on: Vec<String> = key.iter().map(|k| format!("t.{k} = s.{k}")).collect();
    format!(
        "UPDATE {table} AS t SET {} FROM {stage} AS s WHERE {}",
        set.join(", "),
        on.join(" AND ")
    )
}

/// COPY `vals` (flat, `width` a row, each followed by `extra` when given) into `stage`;
/// returns the rows copied, checked against the rows given.
async fn copy_rows(
    conn: &mut PgConnection,
    table: &str,
    stage: &str,
    list: &str,
    vals: &[Val],
    width: usize,
    extra: Option<&Val>,
) -> Result<u64> {
    let mut copy = conn
        .copy_in_raw(&format!("COPY {stage} ({list}) FROM STDIN"))
        .await?;
    let mut buf: Vec<u8> = Vec::with_capacity(SEND_BYTES + 4096);
    for row in vals.chunks_exact(width) {
        for (i, v) in row.iter().chain(extra).enumerate() {
            if i > 0 {
                buf.push(b'\t');
            }
            push_value(&mut buf, v);
        }
        buf.push(b'\n');
        if buf.len() >= SEND_BYTES {
            copy.send(buf.as_slice()).await?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_slice()).await?;
    }
    let copied = copy.finish().await?;
    let rows = (vals.len() / width.max(1)) as u64;
    if copied != rows {
        return Err(StoreError::Invalid(format!(
            "{table}: COPY took {copied} rows of {rows}; nothing was saved"
        )));
    }
    Ok(rows)
}

/// One value in COPY's text format: `\N` for NULL; in text, backslash, tab, newline and
/// carriage return escaped (every other character, any UTF-8, goes as it is).
pub(super) fn push_value(buf: &mut Vec<u8>, v: &Val) {
    match v {
        Val::Int(i) => push_int(buf, *i),
        Val::Real(f) => push_real(buf, *f),
        Val::Text(s) => push_text(buf, s),
        Val::Static(s) => push_text(buf, s),
        Val::Shared(s) => push_text(buf, s),
        Val::NullInt | Val::NullReal | Val::NullText => buf.extend_from_slice(b"\\N"),
    }
}

/// Decimal digits of an integer, without the formatting machinery (a million rows carry
/// fifteen million of them).
fn push_int(buf: &mut Vec<u8>, i: i64) {
    let mut digits = [0u8; 20];
    let mut n = i.unsigned_abs();
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        buf.push(b'-');
    }
    buf.extend_from_slice(&digits[at..]);
}

fn push_real(buf: &mut Vec<u8>, f: f64) {
    use std::io::Write;
    if f.is_nan() {
        buf.extend_from_slice(b"NaN");
    } else if f.is_infinite() {
        buf.extend_from_slice(if f > 0.0 { b"Infinity" } else { b"-Infinity" });
    } else {
        // Rust prints the shortest text that reads back as the same f64, without an exponent.
        let _ = write!(buf, "{f}");
    }
}

fn push_text(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if !bytes
        .iter()
        .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
    {
        buf.extend_from_slice(bytes);
        return;
    }
    for &b in bytes {
        match b {
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            _ => buf.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &Val) -> String {
        let mut b = Vec::new();
        push_value(&mut b, v);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn values_in_copy_text_format() {
        assert_eq!(text(&Val::Int(-42)), "-42");
        assert_eq!(text(&Val::Int(0)), "0");
        assert_eq!(text(&Val::Int(i64::MAX)), "9223372036854775807");
        assert_eq!(text(&Val::Int(i64::MIN)), "-9223372036854775808");
        assert_eq!(text(&Val::Real(0.1)), "0.1");
        assert_eq!(text(&Val::Real(1e-7)), "0.0000001");
        assert_eq!(text(&Val::Real(2.0)), "2");
        assert_eq!(text(&Val::Real(f64::INFINITY)), "Infinity");
        assert_eq!(text(&Val::NullInt), "\\N");
        assert_eq!(text(&Val::NullText), "\\N");
        assert_eq!(text(&Val::Static("")), "");
        assert_eq!(text(&Val::text("\\N")), "\\\\N");
        assert_eq!(text(&Val::text("a\tb\nc\rd\\e")), "a\\tb\\nc\\rd\\\\e");
        assert_eq!(text(&Val::text("Ward Ŵ — ünïcode ✓")), "Ward Ŵ — ünïcode ✓");
    }

    #[test]
    fn update_from_its_staging_table() {
        assert_eq!(
            update_from_stage("t", "mhsip_update_t", &["a", "b", "c"], &["a", "b"]),
            "UPDATE t AS t SET c = s.c FROM mhsip_update_t AS s WHERE t.a = s.a AND t.b = s.b"
        );
    }

    #[test]
    fn upsert_from_the_staging_table() {
        assert_eq!(
            upsert_from_stage("t", &["a", "b", "upload_id"], &["a"]),
            "INSERT INTO t (a, b, upload_id) SELECT a, b, upload_id FROM mhsip_stage_t ON CONFLICT (a) DO UPDATE SET b = excluded.b, upload_id = excluded.upload_id"
        );
    }
}
