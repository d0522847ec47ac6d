//! "New since your last visit" on a ward's page: when a user last opened it, and what arrived
//! since (uploads for the ward's trust, notes on the ward's charts). One SQL text for both
//! engines; times are the store's UTC `YYYY-MM-DD HH:MM:SS` text, which sorts as time. What
//! arrived in the very second of the last visit is shown again rather than risk missing it.

use crate::{Result, Store};

/// What changed for a ward since a time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinceLastVisit {
    /// When the user last opened the page (`None`: this is their first visit).
    pub last_visit: Option<String>,
    /// Uploads for the ward's trust since then: kind, file name, when, by whom.
    pub uploads: Vec<(String, String, String, String)>,
    /// Notes added to the ward's charts since then: date of the note, its text, its author.
    pub notes: Vec<(String, String, String)>,
}

impl Store {
    /// Record that `user` opened `org`'s page now, and return what is new for it since their
    /// previous visit (nothing when there was none: everything would be "new").
    pub async fn visit_ward_page(
        &self,
        user: &str,
        org: &str,
        trust: Option<&str>,
    ) -> Result<SinceLastVisit> {
        let last: Option<(String,)> = sqlx::query_as(
            "SELECT visited_at FROM page_visits WHERE user_name = $1 AND org_code = $2",
        )
        .bind(user)
        .bind(org)
        .fetch_optional(&self.pool)
        .await?;
        sqlx::query(
            "INSERT INTO page_visits (user_name, org_code, visited_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_name, org_code) DO UPDATE SET visited_at = excluded.visited_at",
        )
        .bind(user)
        .bind(org)
        .bind(crate::imports::now_iso())
        .execute(&self.pool)
        .await?;
        let Some((since,)) = last else {
            return Ok(SinceLastVisit::default());
        };
        let uploads: Vec<(String, String, String, String)> = match trust {
            Some(t) => {
                sqlx::query_as(
                    "SELECT kind, file_name, uploaded_at, uploaded_by FROM uploads \
                     WHERE trust_code = $1 AND uploaded_at >= $2 ORDER BY uploaded_at DESC, id DESC LIMIT 20",
                )
                .bind(t)
                .bind(&since)
                .fetch_all(&self.pool)
                .await?
            }
            None => Vec::new(),
        };
        let notes: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT day, text, author FROM annotations \
             WHERE org_code = $1 AND created_at >= $2 ORDER BY created_at DESC, id DESC LIMIT 20",
        )
        .bind(org)
        .bind(&since)
        .fetch_all(&self.pool)
        .await?;
        Ok(SinceLastVisit {
            last_visit: Some(since),
            uploads,
            notes: notes
                .into_iter()
                .map(|(day, text, author)| {
                    let date = i32::try_from(day)
                        .map(|d| domain::dates::iso(domain::dates::date_from_day(d)))
                        .unwrap_or_default();
                    (date, text, author)
                })
                .collect(),
        })
    }
}
