//! Personal API tokens. A token's text is shown to its owner once and kept here only as its
//! SHA-256: the text is 256 random bits, so no one can search for it from the hash, and a fast
//! hash lets each API request find its token by an index (a slow, salted hash such as argon2 is
//! for passwords, which people choose and which can be guessed). A token carries no role of its
//! own: each request reads its owner's role and organisation afresh (`Store::user_grant`), so
//! disabling the owner, or changing their role, applies to their tokens at once.

use crate::{Result, Store, StoreError};
use domain::access::Grant;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Every token's text starts with this, so that one pasted into the wrong place is recognised.
pub const TOKEN_PREFIX: &str = "mhsip_";
/// How many characters of a token (after `TOKEN_PREFIX`) are kept to tell tokens apart.
const SHOWN: usize = 8;
/// The longest a token may live, in days.
pub const MAX_DAYS: i64 = 90;

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub user_name: String,
    pub label: String,
    /// The token's first characters, e.g. `mhsip_1a2b3c4d`.
    pub prefix: String,
    pub created_at: String,
    /// Unix time in seconds.
    pub expires_at: i64,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// Why a token was not accepted (the client is told only "401").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenRefusal {
    Unknown,
    Revoked {
        id: i64,
        owner: String,
    },
    Expired {
        id: i64,
        owner: String,
    },
    /// The owner's account is disabled (or has gone).
    OwnerDisabled {
        id: i64,
        owner: String,
    },
}

/// A token that may be used now: its id, label, owner and the owner's grant as it is now.
#[derive(Clone, Debug)]
pub struct TokenUse {
    pub id: i64,
    pub label: String,
    pub owner: String,
    pub grant: Grant,
}

fn digest(token: &str) -> String {
    let d = Sha256::digest(token.as_bytes());
    let mut s = String::with_capacity(64);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

type TokenCheck = (i64, String, String, i64, Option<String>);

impl Store {
    /// Keep a new token for `owner` (its text made by the caller from at least 32 random
    /// bytes), expiring at `expires_at` (Unix seconds). Returns its id.
    pub async fn create_api_token(
        &self,
        owner: &str,
        label: &str,
        token: &str,
        expires_at: i64,
    ) -> Result<i64> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 80 {
            return Err(StoreError::Invalid(
                "a token needs a name of 1 to 80 characters (what it is for)".into(),
            ));
        }
        if !token.starts_with(TOKEN_PREFIX) || token.len() < TOKEN_PREFIX.len() + 43 {
            return Err(StoreError::Invalid(
                "a token must be long and random".into(),
            ));
        }
        let prefix: String = token.chars().take(TOKEN_PREFIX.len() + SHOWN).collect();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO api_tokens (user_name, label, token_hash, prefix, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(owner)
        .bind(label)
        .bind(digest(token))
        .bind(prefix)
        .bind(crate::imports::now_iso())
        .bind(expires_at)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// The owner's tokens, newest first (revoked and expired ones too, for the record).
    pub async fn api_tokens(&self, owner: &str) -> Result<Vec<TokenRow>> {
        Ok(sqlx::query_as(
            "SELECT id, user_name, label, prefix, created_at, expires_at, revoked_at, last_used_at \
             FROM api_tokens WHERE user_name = $1 ORDER BY id DESC",
        )
        .bind(owner)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Revoke one of `owner`'s tokens; false if they have no such token still in force.
    pub async fn revoke_api_token(&self, owner: &str, id: i64) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_name = $3 AND revoked_at IS NULL",
        )
        .bind(crate::imports::now_iso())
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The token's owner and their grant now, if the token exists, is not revoked or expired at
    /// `now` (Unix seconds) and its owner's account is enabled; its last use is recorded.
    pub async fn use_api_token(
        &self,
        token: &str,
        now: i64,
    ) -> Result<Result<TokenUse, TokenRefusal>> {
        let row: Option<TokenCheck> = sqlx::query_as(
            "SELECT id, user_name, label, expires_at, revoked_at FROM api_tokens WHERE token_hash = $1",
        )
        .bind(digest(token.trim()))
        .fetch_optional(&self.pool)
        .await?;
        let Some((id, owner, label, expires_at, revoked_at)) = row else {
            return Ok(Err(TokenRefusal::Unknown));
        };
        if revoked_at.is_some() {
            return Ok(Err(TokenRefusal::Revoked { id, owner }));
        }
        if expires_at <= now {
            return Ok(Err(TokenRefusal::Expired { id, owner }));
        }
        let Some(grant) = self.user_grant(&owner).await? else {
            return Ok(Err(TokenRefusal::OwnerDisabled { id, owner }));
        };
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(crate::imports::now_iso())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(Ok(TokenUse {
            id,
            label,
            owner,
            grant,
        }))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_digest_is_sha256_in_hex() {
        assert_eq!(
            super::digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
