//! Accounts and the audit log. Passwords are kept only as argon2 hashes (with a per-user salt);
//! a user's role is bound to an organisation (`domain::access::Grant`).

use crate::{Result, Store, StoreError};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use domain::access::{Grant, Role};
use serde::Serialize;

/// Passwords shorter than this are refused (NCSC guidance favours length over complexity).
pub const MIN_PASSWORD: usize = 12;

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct UserRow {
    pub name: String,
    pub role: String,
    pub trust_code: Option<String>,
    pub ward_code: Option<String>,
    pub created_at: String,
    pub disabled: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub user_name: String,
    pub action: String,
    pub target: String,
    /// The trust, site or ward the entry is about, if any.
    pub org_code: Option<String>,
    pub detail: Option<String>,
}

impl AuditRow {
    /// The columns of the log's CSV form (the web download and `mhsip users audit`).
    pub const CSV_HEADER: &'static str = "id,at,user,action,target,organisation,detail";

    /// The entry's cells, in [`AuditRow::CSV_HEADER`]'s order.
    pub fn cells(&self) -> [String; 7] {
        [
            self.id.to_string(),
            self.at.clone(),
            self.user_name.clone(),
            self.action.clone(),
            self.target.clone(),
            self.org_code.clone().unwrap_or_default(),
            self.detail.clone().unwrap_or_default(),
        ]
    }
}

/// Hash, role, trust, ward and disabled flag, as stored.
type StoredCredentials = (String, String, Option<String>, Option<String>, i64);

/// An argon2id hash in PHC form, with a random salt.
fn hash(password: &str) -> Result<String> {
    let hashed: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| StoreError::Invalid(format!("cannot hash the password: {e}")))?;
    Ok(hashed.to_string())
}

impl Store {
    /// Create an account. The name is a login (letters, digits, `.`, `-`, `_`, `@`).
    pub async fn create_user(&self, name: &str, password: &str, grant: &Grant) -> Result<()> {
        let name = name.trim();
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_@".contains(c))
        {
            return Err(StoreError::Invalid(format!(
                "'{name}' is not a valid login; expected letters, digits, '.', '-', '_' or '@'"
            )));
        }
        if password.chars().count() < MIN_PASSWORD {
            return Err(StoreError::Invalid(format!(
                "the password is too short; expected at least {MIN_PASSWORD} characters"
            )));
        }
        let h = hash(password)?;
        let r = sqlx::query("INSERT INTO users (name, password_hash, role, trust_code, ward_code, created_at, disabled) VALUES ($1, $2, $3, $4, $5, $6, 0)")
            .bind(name)
            .bind(h)
            .bind(grant.role.as_str())
            .bind(grant.trust.clone())
            .bind(grant.ward.clone())
            .bind(crate::imports::now_iso())
            .execute(&self.pool)
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Invalid(
                format!("a user called '{name}' already exists"),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The user's grant if the password is right and the account is enabled. Takes the same
    /// time for an unknown user as for a wrong password, so logins do not reveal who exists.
    pub async fn verify_user(&self, name: &str, password: &str) -> Result<Option<Grant>> {
        let row: Option<StoredCredentials> =
            sqlx::query_as("SELECT password_hash, role, trust_code, ward_code, disabled FROM users WHERE name = $1").bind(name.trim()).fetch_optional(&self.pool).await?;
        let Some((stored, role, trust, ward, disabled)) = row else {
            let _ = hash(password);
            return Ok(None);
        };
        let ok = PasswordHash::new(&stored).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        });
        if !ok || disabled != 0 {
            return Ok(None);
        }
        let role = Role::parse(&role).map_err(StoreError::Invalid)?;
        Grant::new(role, trust, ward)
            .map(Some)
            .map_err(StoreError::Invalid)
    }

    /// The grant of an enabled account, read afresh (so that disabling an account or changing
    /// its role takes effect on the user's next request).
    pub async fn user_grant(&self, name: &str) -> Result<Option<Grant>> {
        let row: Option<(String, Option<String>, Option<String>, i64)> = sqlx::query_as(
            "SELECT role, trust_code, ward_code, disabled FROM users WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        let Some((role, trust, ward, disabled)) = row else {
            return Ok(None);
        };
        if disabled != 0 {
            return Ok(None);
        }
        let role = Role::parse(&role).map_err(StoreError::Invalid)?;
        Grant::new(role, trust, ward)
            .map(Some)
            .map_err(StoreError::Invalid)
    }

    /// Disable (or enable again) an account; a disabled account cannot log in and its open
    /// sessions stop working at once.
    pub async fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<bool> {
        let r = sqlx::query("UPDATE users SET disabled = $1 WHERE name = $2")
            .bind(i64::from(disabled))
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Change an account's role and organisation; it applies from the user's next request.
    pub async fn set_user_grant(&self, name: &str, grant: &Grant) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE users SET role = $1, trust_code = $2, ward_code = $3 WHERE name = $4",
        )
        .bind(grant.role.as_str())
        .bind(grant.trust.clone())
        .bind(grant.ward.clone())
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn users(&self) -> Result<Vec<UserRow>> {
        Ok(sqlx::query_as("SELECT name, role, trust_code, ward_code, created_at, disabled FROM users ORDER BY name").fetch_all(&self.pool).await?)
    }

    /// Record who did what to what. `detail` must never hold a patient's identifier (nor a
    /// secret such as a password or an API token). When `target` is an organisation or ward
    /// code, the entry is filed under it (for the audit log's organisation filter).
    pub async fn audit(
        &self,
        user: &str,
        action: &str,
        target: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        self.audit_for(user, action, target, None, detail).await
    }

    /// As `audit`, naming the organisation the entry is about (`None`: the target's, if the
    /// target is an organisation or ward code). Only codes the database holds are filed.
    pub async fn audit_for(
        &self,
        user: &str,
        action: &str,
        target: &str,
        org: Option<&str>,
        detail: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (at, user_name, action, target, org_code, detail) VALUES ($1, $2, $3, $4, \
             COALESCE((SELECT code FROM organisations WHERE code = $5), (SELECT code FROM wards WHERE code = $5), \
             (SELECT code FROM organisations WHERE code = $4), (SELECT code FROM wards WHERE code = $4)), $6)",
        )
        .bind(crate::imports::now_iso())
        .bind(user)
        .bind(action)
        .bind(target)
        .bind(org.map(str::to_string))
        .bind(detail.map(str::to_string))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest audit entries first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditRow>> {
        Ok(sqlx::query_as("SELECT id, at, user_name, action, target, org_code, detail FROM audit_log ORDER BY id DESC LIMIT $1").bind(limit).fetch_all(&self.pool).await?)
    }
}
