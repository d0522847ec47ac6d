//! Web sessions kept in the database, so that logins survive a restart and work the same on
//! SQLite and PostgreSQL. The web crate adapts these to its session layer.

use crate::{Result, Store};

impl Store {
    /// Insert or replace a session record. `expires_at` is a Unix time in seconds.
    pub async fn save_session(&self, id: &str, data: &str, expires_at: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(id)
        .bind(data)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Insert a session record only if its id is new; false if the id is taken.
    pub async fn create_session(&self, id: &str, data: &str, expires_at: i64) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(data)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The session's data and expiry if it exists and has not expired at `now`.
    pub async fn load_session(&self, id: &str, now: i64) -> Result<Option<(String, i64)>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row)
    }

    pub async fn delete_session(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }
}
