//! Reference data and history: organisations, wards, stays, uploads and saved mappings.

use crate::{Result, Store};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct OrgRow {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct WardRow {
    pub code: String,
    pub name: String,
    pub site_code: String,
    pub trust_code: String,
    pub icb_code: Option<String>,
    pub region_code: Option<String>,
    pub ward_type: String,
    pub sex_mix: String,
    /// The latest bed count.
    pub beds: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct UploadRow {
    pub id: i64,
    pub kind: String,
    pub file_name: String,
    pub sha256: String,
    pub uploaded_by: String,
    pub trust_code: Option<String>,
    pub uploaded_at: String,
    pub rows_total: i64,
    pub rows_inserted: i64,
    pub rows_updated: i64,
    pub mapping: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct MappingRow {
    pub name: String,
    pub kind: String,
    pub definition: String,
    pub updated_at: String,
}

/// A ward stay as validation needs it: day numbers.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct StayRow {
    pub patient: String,
    pub ward_code: String,
    pub start_day: i64,
    pub end_day: Option<i64>,
}

impl Store {
    pub async fn organisations(&self) -> Result<Vec<OrgRow>> {
        Ok(sqlx::query_as(
            "SELECT code, name, level, parent_code FROM organisations ORDER BY level, code",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn wards(&self) -> Result<Vec<WardRow>> {
        Ok(sqlx::query_as(
            "SELECT w.code, w.name, w.site_code, w.trust_code, w.icb_code, w.region_code, w.ward_type, w.sex_mix, \
             (SELECT b.beds FROM ward_beds b WHERE b.ward_code = w.code ORDER BY b.from_day DESC LIMIT 1) AS beds \
             FROM wards w ORDER BY w.trust_code, w.code",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every ward stay of the patients of one trust's wards, for checking events against stays.
    pub async fn stays_for_trust(&self, trust: &str) -> Result<Vec<StayRow>> {
        Ok(sqlx::query_as(
            "SELECT s.patient, s.ward_code, s.start_day, s.end_day FROM ward_stays s JOIN wards w ON w.code = s.ward_code WHERE w.trust_code = $1",
        )
        .bind(trust)
        .fetch_all(&self.pool)
        .await?)
    }

    /// One patient's year of birth, where known (a small upload asks only for its own
    /// patients').
    pub async fn birth_year(&self, pseudonym: &str) -> Result<Option<i64>> {
        let row: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT birth_year FROM patients WHERE pseudonym = $1")
                .bind(pseudonym)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|r| r.0))
    }

    /// Each patient's year of birth, where known, for checking events against it.
    pub async fn birth_years(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT pseudonym, birth_year FROM patients WHERE birth_year IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Uploads, newest first; only one trust's when `trust` is given.
    pub async fn uploads(&self, trust: Option<&str>, limit: i64) -> Result<Vec<UploadRow>> {
        let base = "SELECT id, kind, file_name, sha256, uploaded_by, trust_code, uploaded_at, rows_total, rows_inserted, rows_updated, mapping FROM uploads";
        let mut rows: Vec<UploadRow> = match trust {
            Some(t) => {
                sqlx::query_as(&format!(
                    "{base} WHERE trust_code = $1 ORDER BY id DESC LIMIT $2"
                ))
                .bind(t)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(&format!("{base} ORDER BY id DESC LIMIT $1"))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        // Uploads recorded before names were stored without their folder.
        for r in &mut rows {
            if base_name(&r.file_name).len() != r.file_name.len() {
                r.file_name = base_name(&r.file_name).to_string();
            }
        }
        Ok(rows)
    }

    pub async fn save_mapping(&self, name: &str, kind: &str, definition: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO mappings (name, kind, definition, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, definition = excluded.definition, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(kind)
        .bind(definition)
        .bind(crate::imports::now_iso())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn mapping(&self, name: &str) -> Result<Option<MappingRow>> {
        Ok(sqlx::query_as(
            "SELECT name, kind, definition, updated_at FROM mappings WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn mappings(&self) -> Result<Vec<MappingRow>> {
        Ok(
            sqlx::query_as("SELECT name, kind, definition, updated_at FROM mappings ORDER BY name")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// First and last day with bed days, the range the measures cover.
    pub async fn data_range(&self) -> Result<Option<(i64, i64)>> {
        let row: (Option<i64>, Option<i64>) =
            // Per ward through the primary key (ward_code, day), not a scan of every row
            // (0.3 s at a national size, paid at every upload's recomputation): a row covers
            // at most a month (a daily census or a monthly total), so the last day covered is
            // among each ward's rows of its last 31 days.
            sqlx::query_as(
                "SELECT MIN(lo), MAX(hi) FROM (SELECT \
                   (SELECT MIN(b.day) FROM bed_days b WHERE b.ward_code = w.code) AS lo, \
                   (SELECT MAX(b.day + b.days - 1) FROM bed_days b WHERE b.ward_code = w.code \
                      AND b.day >= (SELECT MAX(c.day) FROM bed_days c \
                                    WHERE c.ward_code = w.code) - 31) AS hi \
                 FROM wards w) r",
            )
                .fetch_one(&self.pool)
                .await?;
        Ok(match row {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        })
    }

    /// A number that changes whenever data that charts depend on changes (an upload, an
    /// annotation, a ligature audit signed off or an action changed), so computed results can
    /// be cached and dropped when it moves. Compared for equality only.
    pub async fn data_generation(&self) -> Result<i64> {
        let (u, a): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT MAX(id) FROM uploads), (SELECT MAX(id) FROM annotations)",
        )
        .fetch_one(&self.pool)
        .await?;
        // Both ids only grow; combine them so that a change in either moves the result.
        let base = u.unwrap_or(0) * 1_000_000_007 + a.unwrap_or(0);
        Ok(base
            ^ self
                .ligature_version()
                .await?
                .wrapping_mul(0x2545_F491_4F6C_DD1D))
    }
}

/// The last part of a path written with `/` or a backslash (a Windows client's upload): upload
/// history keeps a file's own name, never the folder it was read from.
pub fn base_name(path: &str) -> &str {
    match path.rsplit(['/', '\\']).next() {
        Some(name) if !name.is_empty() => name,
        _ => path,
    }
}
