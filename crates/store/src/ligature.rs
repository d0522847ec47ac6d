//! The ligature point register's rows (issue 13, migration 0012): trusts' settings, audits with
//! the areas they set and what they found of every point (each audit's state of each point is
//! kept), actions and photos. SQL only: the register, its bands, risk age and escalation are
//! `ligature`'s, who may see or edit a register is `domain::access`'s (through
//! `ligature::access`), and the pages decide what to show.
//!
//! A signed-off audit never changes: findings are written only to a draft (`save_findings`
//! refuses a signed audit), and `sign_audit` turns a draft into a signed audit once. A whole
//! audit (an imported spreadsheet, the demo) is written in one transaction (`record_audit`).

use crate::{Result, Store, StoreError};
use serde::Serialize;
use sqlx::Row;

fn invalid(m: impl Into<String>) -> StoreError {
    StoreError::Invalid(m.into())
}

/// A trust's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SettingsRow {
    pub trust_code: String,
    pub escalation_days: i64,
    pub audit_interval_days: i64,
    pub updated_by: String,
    pub updated_at: i64,
}

/// An audit as kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub ward_code: String,
    pub trust_code: String,
    pub audit_day: i64,
    pub assessor: String,
    pub status: String,
    pub signed_by: Option<String>,
    pub signed_day: Option<i64>,
    pub source: String,
    pub upload_id: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
}

const AUDIT_COLUMNS: &str = "id, ward_code, trust_code, audit_day, assessor, status, signed_by, \
    signed_day, source, upload_id, created_by, created_at";

/// An audit to start (a draft) or to record whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAudit {
    pub ward_code: String,
    pub trust_code: String,
    pub audit_day: i64,
    pub assessor: String,
    pub source: String,
    pub upload_id: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
}

/// An area an audit adds or sets again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AreaRow {
    pub audit_id: i64,
    pub area_code: String,
    pub name: String,
    pub tier: i64,
}

/// What an audit found of a point, with the point's state after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct FindingRow {
    pub audit_id: i64,
    pub point_ref: String,
    pub finding: String,
    pub area_code: String,
    pub location: String,
    pub description: String,
    pub kind: String,
    pub height: String,
    pub inherent_likelihood: i64,
    pub inherent_consequence: i64,
    pub residual_likelihood: i64,
    pub residual_consequence: i64,
    pub controls: String,
    pub review_day: i64,
    pub note: String,
}

const FINDING_COLUMNS: &str = "audit_id, point_ref, finding, area_code, location, description, \
    kind, height, inherent_likelihood, inherent_consequence, residual_likelihood, \
    residual_consequence, controls, review_day, note";

/// A ward's audits whole, in date order (then id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WardAudits {
    pub audits: Vec<AuditRow>,
    pub areas: Vec<AreaRow>,
    pub findings: Vec<FindingRow>,
}

/// An action on a point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ActionRow {
    pub id: i64,
    pub ward_code: String,
    pub trust_code: String,
    pub point_ref: String,
    pub description: String,
    pub owner: String,
    pub raised_day: i64,
    pub due_day: i64,
    pub status: String,
    pub closed_day: Option<i64>,
    pub reference: Option<String>,
    pub updated_by: String,
    pub updated_at: i64,
}

const ACTION_COLUMNS: &str = "id, ward_code, trust_code, point_ref, description, owner, \
    raised_day, due_day, status, closed_day, reference, updated_by, updated_at";

/// A self-harm incident that names a place of a ligature register (issue 13, item 4; migration
/// 0017): the risk system's identifier, when, the harm and the method; never the patient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PlaceIncident {
    pub ward_code: String,
    pub local_id: String,
    pub occurred_min: i64,
    pub day: i64,
    pub harm: String,
    pub method: Option<String>,
    pub ligature_area: Option<String>,
    pub ligature_point: Option<String>,
}

const PLACE_INCIDENT_COLUMNS: &str = "ward_code, local_id, occurred_min, day, harm, method, \
    ligature_area, ligature_point";

/// A photo without its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PhotoMeta {
    pub id: i64,
    pub ward_code: String,
    pub trust_code: String,
    pub point_ref: String,
    pub audit_id: Option<i64>,
    pub content_type: String,
    pub size_bytes: i64,
    pub uploaded_by: String,
    pub uploaded_at: i64,
}

const PHOTO_COLUMNS: &str = "id, ward_code, trust_code, point_ref, audit_id, content_type, \
    size_bytes, uploaded_by, uploaded_at";

/// The ligature tables, for fingerprints (a refused import or form changes none of them).
pub const LIGATURE_TABLES: [&str; 6] = [
    "ligature_settings",
    "ligature_audits",
    "ligature_audit_areas",
    "ligature_findings",
    "ligature_actions",
    "ligature_photos",
];

async fn insert_audit<'c, E>(e: E, a: &NewAudit, signed: Option<(&str, i64)>) -> Result<i64>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO ligature_audits (ward_code, trust_code, audit_day, assessor, status, \
         signed_by, signed_day, source, upload_id, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(&a.ward_code)
    .bind(&a.trust_code)
    .bind(a.audit_day)
    .bind(&a.assessor)
    .bind(if signed.is_some() { "signed" } else { "draft" })
    .bind(signed.map(|s| s.0.to_string()))
    .bind(signed.map(|s| s.1))
    .bind(&a.source)
    .bind(a.upload_id)
    .bind(&a.created_by)
    .bind(a.created_at)
    .fetch_one(e)
    .await?;
    Ok(id)
}

impl Store {
    pub async fn ligature_settings(&self, trust: &str) -> Result<Option<SettingsRow>> {
        Ok(sqlx::query_as(
            "SELECT trust_code, escalation_days, audit_interval_days, updated_by, updated_at \
             FROM ligature_settings WHERE trust_code = $1",
        )
        .bind(trust)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn set_ligature_settings(&self, s: &SettingsRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO ligature_settings (trust_code, escalation_days, audit_interval_days, \
             updated_by, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (trust_code) DO \
             UPDATE SET escalation_days = excluded.escalation_days, audit_interval_days = \
             excluded.audit_interval_days, updated_by = excluded.updated_by, updated_at = \
             excluded.updated_at",
        )
        .bind(&s.trust_code)
        .bind(s.escalation_days)
        .bind(s.audit_interval_days)
        .bind(&s.updated_by)
        .bind(s.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A ward's audits, the areas they set and everything they found, in date order.
    pub async fn ligature_ward_audits(&self, ward: &str) -> Result<WardAudits> {
        let audits: Vec<AuditRow> = sqlx::query_as(&format!(
            "SELECT {AUDIT_COLUMNS} FROM ligature_audits WHERE ward_code = $1 \
             ORDER BY audit_day, id"
        ))
        .bind(ward)
        .fetch_all(&self.pool)
        .await?;
        let areas: Vec<AreaRow> = sqlx::query_as(
            "SELECT r.audit_id, r.area_code, r.name, r.tier FROM ligature_audit_areas r \
             JOIN ligature_audits a ON a.id = r.audit_id WHERE a.ward_code = $1 \
             ORDER BY r.audit_id, r.area_code",
        )
        .bind(ward)
        .fetch_all(&self.pool)
        .await?;
        let cols = FINDING_COLUMNS
            .split(", ")
            .map(|c| format!("f.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let findings: Vec<FindingRow> = sqlx::query_as(&format!(
            "SELECT {cols} FROM ligature_findings f JOIN ligature_audits a ON a.id = f.audit_id \
             WHERE a.ward_code = $1 ORDER BY f.audit_id, f.point_ref"
        ))
        .bind(ward)
        .fetch_all(&self.pool)
        .await?;
        Ok(WardAudits {
            audits,
            areas,
            findings,
        })
    }

    pub async fn ligature_audit(&self, id: i64) -> Result<Option<AuditRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {AUDIT_COLUMNS} FROM ligature_audits WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The wards with a register (any audit), with their trust, optionally of one trust.
    pub async fn ligature_wards(&self, trust: Option<&str>) -> Result<Vec<(String, String)>> {
        let rows =
            match trust {
                Some(t) => {
                    sqlx::query(
                        "SELECT DISTINCT ward_code, trust_code FROM ligature_audits \
                     WHERE trust_code = $1 ORDER BY ward_code",
                    )
                    .bind(t)
                    .fetch_all(&self.pool)
                    .await?
                }
                None => sqlx::query(
                    "SELECT DISTINCT ward_code, trust_code FROM ligature_audits ORDER BY ward_code",
                )
                .fetch_all(&self.pool)
                .await?,
            };
        Ok(rows
            .into_iter()
            .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
            .collect())
    }

    /// Start a draft audit. Returns its id.
    pub async fn start_ligature_audit(&self, a: &NewAudit) -> Result<i64> {
        insert_audit(&self.pool, a, None).await
    }

    /// Write areas and findings into a draft audit (replacing those of the same code or
    /// reference), in one transaction; a signed audit is refused and nothing is written.
    pub async fn save_ligature_findings(
        &self,
        audit_id: i64,
        areas: &[AreaRow],
        findings: &[FindingRow],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let status: Option<(String,)> =
            sqlx::query_as("SELECT status FROM ligature_audits WHERE id = $1")
                .bind(audit_id)
                .fetch_optional(&mut *tx)
                .await?;
        match status {
            None => return Err(invalid(format!("audit {audit_id}: no such audit"))),
            Some((s,)) if s != "draft" => {
                return Err(invalid(format!(
                    "audit {audit_id}: expected a draft audit, found one signed off (it no longer changes)"
                )));
            }
            _ => {}
        }
        write_rows(&mut tx, audit_id, areas, findings).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Take a finding out of a draft audit (an assessor's correction before sign-off).
    pub async fn delete_ligature_finding(&self, audit_id: i64, point_ref: &str) -> Result<u64> {
        let r = sqlx::query(
            "DELETE FROM ligature_findings WHERE audit_id = $1 AND point_ref = $2 AND audit_id IN \
             (SELECT id FROM ligature_audits WHERE status = 'draft')",
        )
        .bind(audit_id)
        .bind(point_ref)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected())
    }

    /// Sign off a draft audit (once): false when it was not a draft.
    pub async fn sign_ligature_audit(&self, audit_id: i64, by: &str, day: i64) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE ligature_audits SET status = 'signed', signed_by = $2, signed_day = $3 \
             WHERE id = $1 AND status = 'draft'",
        )
        .bind(audit_id)
        .bind(by)
        .bind(day)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Throw away a draft audit and its findings (never a signed one): false when it was not a
    /// draft.
    pub async fn discard_ligature_draft(&self, audit_id: i64) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let status: Option<(String,)> =
            sqlx::query_as("SELECT status FROM ligature_audits WHERE id = $1")
                .bind(audit_id)
                .fetch_optional(&mut *tx)
                .await?;
        if status.map(|s| s.0).as_deref() != Some("draft") {
            return Ok(false);
        }
        for t in ["ligature_findings", "ligature_audit_areas"] {
            sqlx::query(&format!("DELETE FROM {t} WHERE audit_id = $1"))
                .bind(audit_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE ligature_photos SET audit_id = NULL WHERE audit_id = $1")
            .bind(audit_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM ligature_audits WHERE id = $1")
            .bind(audit_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Record a whole signed-off audit (an import, the demo) in one transaction. Returns its id.
    pub async fn record_ligature_audit(
        &self,
        a: &NewAudit,
        signed_by: &str,
        signed_day: i64,
        areas: &[AreaRow],
        findings: &[FindingRow],
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id = insert_audit(&mut *tx, a, Some((signed_by, signed_day))).await?;
        write_rows(&mut tx, id, areas, findings).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The self-harm incidents of a ward that name a place of its register, oldest first.
    pub async fn ligature_incidents(&self, ward: &str) -> Result<Vec<PlaceIncident>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {PLACE_INCIDENT_COLUMNS} FROM incidents WHERE ward_code = $1 \
             AND kind = 'self_harm' AND ligature_area IS NOT NULL ORDER BY occurred_min, local_id"
        ))
        .bind(ward)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The self-harm incidents of a trust's wards that name a place of a register, oldest first.
    pub async fn ligature_incidents_of_trust(&self, trust: &str) -> Result<Vec<PlaceIncident>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {PLACE_INCIDENT_COLUMNS} FROM incidents WHERE trust_code = $1 \
             AND kind = 'self_harm' AND ligature_area IS NOT NULL \
             ORDER BY occurred_min, local_id"
        ))
        .bind(trust)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn ligature_actions(&self, ward: &str) -> Result<Vec<ActionRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {ACTION_COLUMNS} FROM ligature_actions WHERE ward_code = $1 \
             ORDER BY due_day, id"
        ))
        .bind(ward)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn ligature_action(&self, id: i64) -> Result<Option<ActionRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {ACTION_COLUMNS} FROM ligature_actions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Add an action (its id in `a` is ignored). Returns its id.
    pub async fn add_ligature_action(&self, a: &ActionRow) -> Result<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO ligature_actions (ward_code, trust_code, point_ref, description, owner, \
             raised_day, due_day, status, closed_day, reference, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(&a.ward_code)
        .bind(&a.trust_code)
        .bind(&a.point_ref)
        .bind(&a.description)
        .bind(&a.owner)
        .bind(a.raised_day)
        .bind(a.due_day)
        .bind(&a.status)
        .bind(a.closed_day)
        .bind(a.reference.clone())
        .bind(&a.updated_by)
        .bind(a.updated_at)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// Change an action's status, closing day, due date and reference.
    pub async fn update_ligature_action(&self, a: &ActionRow) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE ligature_actions SET status = $2, closed_day = $3, due_day = $4, \
             reference = $5, owner = $6, updated_by = $7, updated_at = $8 WHERE id = $1",
        )
        .bind(a.id)
        .bind(&a.status)
        .bind(a.closed_day)
        .bind(a.due_day)
        .bind(a.reference.clone())
        .bind(&a.owner)
        .bind(&a.updated_by)
        .bind(a.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Keep a photo (its bytes already checked and stripped by `ligature::photo`).
    #[allow(clippy::too_many_arguments)]
    pub async fn add_ligature_photo(
        &self,
        ward: &str,
        trust: &str,
        point_ref: &str,
        audit_id: Option<i64>,
        content_type: &str,
        bytes: &[u8],
        by: &str,
        at: i64,
    ) -> Result<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO ligature_photos (ward_code, trust_code, point_ref, audit_id, \
             content_type, size_bytes, bytes, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(ward)
        .bind(trust)
        .bind(point_ref)
        .bind(audit_id)
        .bind(content_type)
        .bind(bytes.len() as i64)
        .bind(bytes.to_vec())
        .bind(by)
        .bind(at)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// A ward's photos without their bytes (of one point, or all).
    pub async fn ligature_photos(
        &self,
        ward: &str,
        point_ref: Option<&str>,
    ) -> Result<Vec<PhotoMeta>> {
        let q = match point_ref {
            Some(_) => format!(
                "SELECT {PHOTO_COLUMNS} FROM ligature_photos WHERE ward_code = $1 AND point_ref = $2 ORDER BY id"
            ),
            None => format!(
                "SELECT {PHOTO_COLUMNS} FROM ligature_photos WHERE ward_code = $1 ORDER BY id"
            ),
        };
        let mut q = sqlx::query_as(&q).bind(ward);
        if let Some(p) = point_ref {
            q = q.bind(p);
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    /// A photo and its bytes.
    pub async fn ligature_photo(&self, id: i64) -> Result<Option<(PhotoMeta, Vec<u8>)>> {
        let meta: Option<PhotoMeta> = sqlx::query_as(&format!(
            "SELECT {PHOTO_COLUMNS} FROM ligature_photos WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(meta) = meta else { return Ok(None) };
        let (bytes,): (Vec<u8>,) =
            sqlx::query_as("SELECT bytes FROM ligature_photos WHERE id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        Ok(Some((meta, bytes)))
    }

    /// A number that moves whenever the registers' measures can change: an audit signed off,
    /// an action added or updated (a draft being walked does not move it).
    pub async fn ligature_version(&self) -> Result<i64> {
        let (signed, last_signed, actions, last_update): (i64, Option<i64>, i64, Option<i64>) =
            sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM ligature_audits WHERE status = 'signed'), \
                 (SELECT MAX(id) FROM ligature_audits WHERE status = 'signed'), \
                 (SELECT COUNT(*) FROM ligature_actions), \
                 (SELECT MAX(updated_at) FROM ligature_actions)",
            )
            .fetch_one(&self.pool)
            .await?;
        Ok([
            signed,
            last_signed.unwrap_or(0),
            actions,
            last_update.unwrap_or(0),
        ]
        .into_iter()
        .fold(17i64, |h, x| h.wrapping_mul(1_000_003).wrapping_add(x)))
    }

    /// Rows in each ligature table.
    pub async fn ligature_fingerprint(&self) -> Result<Vec<(String, i64)>> {
        let mut out = Vec::new();
        for t in LIGATURE_TABLES {
            let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {t}"))
                .fetch_one(&self.pool)
                .await?;
            out.push((t.to_string(), n));
        }
        Ok(out)
    }
}

async fn write_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_id: i64,
    areas: &[AreaRow],
    findings: &[FindingRow],
) -> Result<()> {
    for a in areas {
        sqlx::query(
            "INSERT INTO ligature_audit_areas (audit_id, area_code, name, tier) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (audit_id, area_code) DO UPDATE SET \
             name = excluded.name, tier = excluded.tier",
        )
        .bind(audit_id)
        .bind(&a.area_code)
        .bind(&a.name)
        .bind(a.tier)
        .execute(&mut **tx)
        .await?;
    }
    for f in findings {
        sqlx::query(&format!(
            "INSERT INTO ligature_findings ({FINDING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (audit_id, point_ref) DO \
             UPDATE SET finding = excluded.finding, area_code = excluded.area_code, location = \
             excluded.location, description = excluded.description, kind = excluded.kind, \
             height = excluded.height, inherent_likelihood = excluded.inherent_likelihood, \
             inherent_consequence = excluded.inherent_consequence, residual_likelihood = \
             excluded.residual_likelihood, residual_consequence = excluded.residual_consequence, \
             controls = excluded.controls, review_day = excluded.review_day, note = excluded.note"
        ))
        .bind(audit_id)
        .bind(&f.point_ref)
        .bind(&f.finding)
        .bind(&f.area_code)
        .bind(&f.location)
        .bind(&f.description)
        .bind(&f.kind)
        .bind(&f.height)
        .bind(f.inherent_likelihood)
        .bind(f.inherent_consequence)
        .bind(f.residual_likelihood)
        .bind(f.residual_consequence)
        .bind(&f.controls)
        .bind(f.review_day)
        .bind(&f.note)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
