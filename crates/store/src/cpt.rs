//! The open attention test's records (issue 15): remote test codes, stored tests and the
//! failed-code counts behind the rate limit. SQL only: scoring is `cpt`'s, who may see a test
//! is `domain::access`'s (`Grant::can_see_attention_tests`), and the web decides what to show.
//!
//! A code's text is made by the caller from at least 128 random bits and is kept here only as
//! the SHA-256 of its normalised form (`normalise_code`), like an API token: it is found by an
//! index and cannot be searched for from the hash. A code names one patient of one service,
//! expires, and is used by exactly one stored test: `save_cpt_test` marks it used and writes
//! the test in one transaction, and only when the attempt token handed out with the schedule
//! matches, so a second result for the same code, or a result for a schedule this server never
//! gave out, stores nothing.

use crate::{Result, Store, StoreError};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The fewest characters a code's normalised text may have (26 base-32 characters are 130 bits).
pub const MIN_CODE_CHARS: usize = 26;

/// A code as people type it, normalised: upper case, without spaces or dashes, with the
/// letters that look like digits read as the digits (Crockford's base 32: I and L as 1, O as
/// 0).
pub fn normalise_code(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'I' | 'L' => '1',
            'O' => '0',
            u => u,
        })
        .collect()
}

fn digest(text: &str) -> String {
    let d = Sha256::digest(text.as_bytes());
    let mut s = String::with_capacity(64);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A code to keep: who and what it is for.
#[derive(Clone, Debug, PartialEq)]
pub struct NewCode {
    pub trust_code: String,
    /// The service (the trust's code or a unit's code).
    pub service: String,
    /// The service's pseudonym or local reference for the patient (never an NHS number).
    pub patient_ref: String,
    pub age_years: u8,
    /// "female", "male" or none.
    pub sex: Option<String>,
    pub ethnic_group: Option<String>,
    /// The task version's id (`go_no_go`, `one_back`).
    pub task: String,
    /// The test's length; shorter than the version's for a shortened test.
    pub duration_ms: i64,
    pub issued_by: String,
    /// Unix seconds.
    pub issued_at: i64,
    pub expires_at: i64,
    /// The code this one repeats (a repeat test of the same patient).
    pub repeat_of: Option<i64>,
}

/// A code as kept (never its text).
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct CodeRow {
    pub id: i64,
    pub trust_code: String,
    pub service: String,
    pub patient_ref: String,
    pub age_years: i64,
    pub sex: Option<String>,
    pub ethnic_group: Option<String>,
    pub task: String,
    pub duration_ms: i64,
    pub issued_by: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub repeat_of: Option<i64>,
    pub seed: Option<String>,
    pub started_at: Option<i64>,
    pub starts: i64,
    pub practice_json: String,
    pub practice_passed: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const CODE_COLUMNS: &str = "id, trust_code, service, patient_ref, age_years, sex, ethnic_group, \
    task, duration_ms, issued_by, issued_at, expires_at, repeat_of, seed, started_at, starts, \
    practice_json, practice_passed, used_at, revoked_at";

/// Why a code was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeRefusal {
    /// No such code.
    Unknown,
    Expired {
        id: i64,
        trust: String,
    },
    /// A test has been stored with it already.
    Used {
        id: i64,
        trust: String,
    },
    /// The clinician withdrew it (or issued a new one in its place).
    Revoked {
        id: i64,
        trust: String,
    },
    /// The attempt token does not match the code's latest start (the test was started again
    /// elsewhere, or never started).
    WrongAttempt {
        id: i64,
        trust: String,
    },
    /// The practice has not been passed in this attempt.
    PracticeNotPassed {
        id: i64,
        trust: String,
    },
}

/// A test to store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewTest {
    pub started_at: i64,
    pub finished_at: i64,
    pub timing_json: String,
    pub raw_log: String,
    pub head_track: Option<String>,
    pub score_json: String,
    pub user_agent: String,
}

/// A stored test without its logs (for lists).
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct TestSummary {
    pub id: i64,
    pub code_id: i64,
    pub trust_code: String,
    pub service: String,
    pub patient_ref: String,
    pub age_years: i64,
    pub sex: Option<String>,
    pub ethnic_group: Option<String>,
    pub task: String,
    pub duration_ms: i64,
    pub started_at: i64,
    pub finished_at: i64,
}

const SUMMARY_COLUMNS: &str = "id, code_id, trust_code, service, patient_ref, age_years, sex, \
    ethnic_group, task, duration_ms, started_at, finished_at";

/// A stored test, whole.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct TestRow {
    pub id: i64,
    pub code_id: i64,
    pub trust_code: String,
    pub service: String,
    pub patient_ref: String,
    pub age_years: i64,
    pub sex: Option<String>,
    pub ethnic_group: Option<String>,
    pub task: String,
    pub duration_ms: i64,
    pub seed: String,
    pub started_at: i64,
    pub finished_at: i64,
    pub timing_json: String,
    pub practice_json: String,
    pub raw_log: String,
    pub head_track: Option<String>,
    pub score_json: String,
    pub user_agent: String,
    pub notes: String,
    pub notes_by: Option<String>,
    pub notes_at: Option<i64>,
}

const TEST_COLUMNS: &str = "id, code_id, trust_code, service, patient_ref, age_years, sex, \
    ethnic_group, task, duration_ms, seed, started_at, finished_at, timing_json, practice_json, \
    raw_log, head_track, score_json, user_agent, notes, notes_by, notes_at";

fn invalid(m: impl Into<String>) -> StoreError {
    StoreError::Invalid(m.into())
}

impl CodeRow {
    /// Whether the code can be used at `now` (Unix seconds), and if not, why.
    pub fn refusal(&self, now: i64) -> Option<CodeRefusal> {
        let (id, trust) = (self.id, self.trust_code.clone());
        if self.used_at.is_some() {
            Some(CodeRefusal::Used { id, trust })
        } else if self.revoked_at.is_some() {
            Some(CodeRefusal::Revoked { id, trust })
        } else if self.expires_at <= now {
            Some(CodeRefusal::Expired { id, trust })
        } else {
            None
        }
    }
}

impl Store {
    /// Keep a new code (its text made by the caller from at least 128 random bits). Returns its
    /// id. The fields are checked here only for what the table needs; the web checks them for
    /// the person filling in the form first.
    pub async fn issue_cpt_code(&self, code: &NewCode, text: &str) -> Result<i64> {
        let text = normalise_code(text);
        if text.len() < MIN_CODE_CHARS || !text.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(invalid(format!(
                "code: expected at least {MIN_CODE_CHARS} random letters and digits"
            )));
        }
        if code.patient_ref.trim().is_empty() || code.patient_ref.chars().count() > 40 {
            return Err(invalid(
                "patient reference: expected 1 to 40 characters (the service's pseudonym or local reference)",
            ));
        }
        if code.expires_at <= code.issued_at {
            return Err(invalid("expires: expected a time after the code is issued"));
        }
        if code.duration_ms <= 0 {
            return Err(invalid("duration: expected a test length above 0"));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO cpt_codes (code_hash, trust_code, service, patient_ref, age_years, sex, \
             ethnic_group, task, duration_ms, issued_by, issued_at, expires_at, repeat_of) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(digest(&text))
        .bind(code.trust_code.trim().to_ascii_uppercase())
        .bind(code.service.trim().to_ascii_uppercase())
        .bind(code.patient_ref.trim())
        .bind(i64::from(code.age_years))
        .bind(code.sex.clone())
        .bind(code.ethnic_group.clone())
        .bind(&code.task)
        .bind(code.duration_ms)
        .bind(&code.issued_by)
        .bind(code.issued_at)
        .bind(code.expires_at)
        .bind(code.repeat_of)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// The code with this text (as typed: it is normalised first), whatever its state.
    pub async fn find_cpt_code(&self, text: &str) -> Result<Option<CodeRow>> {
        let text = normalise_code(text);
        if text.is_empty() {
            return Ok(None);
        }
        Ok(sqlx::query_as(&format!(
            "SELECT {CODE_COLUMNS} FROM cpt_codes WHERE code_hash = $1"
        ))
        .bind(digest(&text))
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The code with this text if it can be used at `now`, or why not.
    pub async fn usable_cpt_code(
        &self,
        text: &str,
        now: i64,
    ) -> Result<Result<CodeRow, CodeRefusal>> {
        Ok(match self.find_cpt_code(text).await? {
            None => Err(CodeRefusal::Unknown),
            Some(c) => match c.refusal(now) {
                Some(r) => Err(r),
                None => Ok(c),
            },
        })
    }

    /// A code by id.
    pub async fn cpt_code(&self, id: i64) -> Result<Option<CodeRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {CODE_COLUMNS} FROM cpt_codes WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The codes issued for a trust's services, newest first; with `unused_only`, those no
    /// test has been stored with.
    pub async fn cpt_codes(&self, trust: &str, unused_only: bool) -> Result<Vec<CodeRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {CODE_COLUMNS} FROM cpt_codes WHERE trust_code = $1 AND (used_at IS NULL OR $2 = 0) ORDER BY id DESC"
        ))
        .bind(trust.trim().to_ascii_uppercase())
        .bind(i64::from(unused_only))
        .fetch_all(&self.pool)
        .await?)
    }

    /// (Re)start the test with a code still in force: a new seed and a new attempt token, the
    /// practice to be passed again. False if the code is no longer in force at `now`.
    pub async fn start_cpt_attempt(
        &self,
        id: i64,
        seed: u64,
        attempt: &str,
        now: i64,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE cpt_codes SET seed = $1, attempt_hash = $2, started_at = $3, \
             starts = starts + 1, practice_passed = 0 \
             WHERE id = $4 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $3",
        )
        .bind(seed.to_string())
        .bind(digest(attempt))
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The code of an attempt in progress, if `attempt` is its latest start's token and the
    /// code is still in force.
    pub async fn cpt_attempt(
        &self,
        text: &str,
        attempt: &str,
        now: i64,
    ) -> Result<Result<CodeRow, CodeRefusal>> {
        let code = match self.usable_cpt_code(text, now).await? {
            Ok(c) => c,
            Err(r) => return Ok(Err(r)),
        };
        let (hash,): (Option<String>,) =
            sqlx::query_as("SELECT attempt_hash FROM cpt_codes WHERE id = $1")
                .bind(code.id)
                .fetch_one(&self.pool)
                .await?;
        if hash.as_deref() != Some(digest(attempt.trim()).as_str()) {
            return Ok(Err(CodeRefusal::WrongAttempt {
                id: code.id,
                trust: code.trust_code,
            }));
        }
        Ok(Ok(code))
    }

    /// Record a practice attempt (its JSON appended by the caller) and whether it passed.
    pub async fn record_cpt_practice(
        &self,
        id: i64,
        practice_json: &str,
        passed: bool,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE cpt_codes SET practice_json = $1, practice_passed = $2 WHERE id = $3 AND used_at IS NULL",
        )
        .bind(practice_json)
        .bind(i64::from(passed))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Withdraw a trust's code that has not been used; false if there is no such code.
    pub async fn revoke_cpt_code(&self, trust: &str, id: i64, now: i64) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE cpt_codes SET revoked_at = $1 \
             WHERE id = $2 AND trust_code = $3 AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(trust.trim().to_ascii_uppercase())
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Store a test made with the code `text` in the attempt `attempt`, and mark the code used,
    /// in one transaction: nothing is stored unless the code is in force at `now`, the attempt
    /// is its latest and its practice was passed. Returns the test's id.
    pub async fn save_cpt_test(
        &self,
        text: &str,
        attempt: &str,
        test: &NewTest,
        now: i64,
    ) -> Result<Result<i64, CodeRefusal>> {
        let code = match self.cpt_attempt(text, attempt, now).await? {
            Ok(c) => c,
            Err(r) => return Ok(Err(r)),
        };
        if code.practice_passed == 0 {
            return Ok(Err(CodeRefusal::PracticeNotPassed {
                id: code.id,
                trust: code.trust_code,
            }));
        }
        let mut tx = self.pool.begin().await?;
        let marked = sqlx::query(
            "UPDATE cpt_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL \
             AND revoked_at IS NULL AND attempt_hash = $3 AND practice_passed = 1",
        )
        .bind(now)
        .bind(code.id)
        .bind(digest(attempt.trim()))
        .execute(&mut *tx)
        .await?;
        if marked.rows_affected() != 1 {
            // Used (or restarted) between the check and now: nothing is written.
            tx.rollback().await?;
            return Ok(Err(CodeRefusal::Used {
                id: code.id,
                trust: code.trust_code,
            }));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO cpt_tests (code_id, trust_code, service, patient_ref, age_years, sex, \
             ethnic_group, task, duration_ms, seed, started_at, finished_at, timing_json, \
             practice_json, raw_log, head_track, score_json, user_agent) \
             SELECT id, trust_code, service, patient_ref, age_years, sex, ethnic_group, task, \
             duration_ms, seed, $1, $2, $3, practice_json, $4, $5, $6, $7 \
             FROM cpt_codes WHERE id = $8 RETURNING id",
        )
        .bind(test.started_at)
        .bind(test.finished_at)
        .bind(&test.timing_json)
        .bind(&test.raw_log)
        .bind(test.head_track.clone())
        .bind(&test.score_json)
        .bind(&test.user_agent)
        .bind(code.id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(id))
    }

    /// A trust's tests, newest first, without their logs: at most `limit` of them (all with
    /// `None`).
    pub async fn cpt_tests(&self, trust: &str, limit: Option<i64>) -> Result<Vec<TestSummary>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM cpt_tests WHERE trust_code = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(trust.trim().to_ascii_uppercase())
        .bind(limit.unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?)
    }

    /// A patient's tests in a trust, oldest first, without their logs.
    pub async fn cpt_patient_tests(
        &self,
        trust: &str,
        patient_ref: &str,
    ) -> Result<Vec<TestSummary>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM cpt_tests WHERE trust_code = $1 AND patient_ref = $2 ORDER BY id"
        ))
        .bind(trust.trim().to_ascii_uppercase())
        .bind(patient_ref)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A test, whole (the caller checks who may see it).
    pub async fn cpt_test(&self, id: i64) -> Result<Option<TestRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {TEST_COLUMNS} FROM cpt_tests WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Set the test leader's observation notes of a trust's test; false if there is no such
    /// test.
    pub async fn set_cpt_notes(
        &self,
        trust: &str,
        id: i64,
        notes: &str,
        by: &str,
        now: i64,
    ) -> Result<bool> {
        if notes.chars().count() > 4000 {
            return Err(invalid("notes: expected at most 4,000 characters"));
        }
        let r = sqlx::query(
            "UPDATE cpt_tests SET notes = $1, notes_by = $2, notes_at = $3 WHERE id = $4 AND trust_code = $5",
        )
        .bind(notes.trim())
        .bind(by)
        .bind(now)
        .bind(id)
        .bind(trust.trim().to_ascii_uppercase())
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Count a code entered that was not in force, for `client` (an address, or "unknown").
    /// Entries older than a day are dropped on the way.
    pub async fn cpt_code_failed(&self, client: &str, now: i64) -> Result<()> {
        sqlx::query("DELETE FROM cpt_code_failures WHERE at < $1")
            .bind(now - 86_400)
            .execute(&self.pool)
            .await?;
        sqlx::query("INSERT INTO cpt_code_failures (client, at) VALUES ($1, $2)")
            .bind(client)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Failed codes since `since` (Unix seconds): from `client`, and from anyone.
    pub async fn cpt_code_failures(&self, client: &str, since: i64) -> Result<(i64, i64)> {
        let (mine,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM cpt_code_failures WHERE client = $1 AND at >= $2")
                .bind(client)
                .bind(since)
                .fetch_one(&self.pool)
                .await?;
        let (all,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM cpt_code_failures WHERE at >= $1")
                .bind(since)
                .fetch_one(&self.pool)
                .await?;
        Ok((mine, all))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_typed() {
        assert_eq!(normalise_code(" ab-cd efIL o "), "ABCDEF110");
        assert_eq!(digest(&normalise_code("abc")), digest("ABC"));
    }
}
