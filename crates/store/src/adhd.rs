//! The children's ADHD assessment pathway (issue 15 item 8; migration 0014): one row per
//! referral to an ADHD service, written only by an upload (`ingest::adhd` builds the rows and
//! writes them through [`Batch::adhd_referrals`] inside `Store::begin_import`, so an upload is
//! one transaction with its row in the upload history), and read back whole for a trust or a
//! service. SQL only: the measures are computed by the caller from these rows.

use crate::imports::Batch;
use crate::values::Val;
use crate::{Result, Store};
use serde::Serialize;

/// One referral as held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AdhdReferralRow {
    pub service_code: String,
    pub referral_id: String,
    pub trust_code: String,
    pub referral_day: i64,
    pub age: Option<i64>,
    pub sex: Option<String>,
    pub ethnic_category: Option<String>,
    pub imd_decile: Option<i64>,
    pub test_day: Option<i64>,
    pub appointments: Option<i64>,
    pub decision_day: Option<i64>,
}

const COLUMNS: &[&str] = &[
    "service_code",
    "referral_id",
    "trust_code",
    "referral_day",
    "age",
    "sex",
    "ethnic_category",
    "imd_decile",
    "test_day",
    "appointments",
    "decision_day",
];

/// A service and the trust it belongs to, with its referrals held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AdhdService {
    pub service_code: String,
    pub trust_code: String,
    pub referrals: i64,
}

impl Batch {
    /// Referrals to write (upserted by service and reference), stamped with the upload.
    pub fn adhd_referrals(rows: Vec<AdhdReferralRow>) -> Batch {
        let mut b = Batch::new(
            "adhd_referrals",
            COLUMNS,
            &["service_code", "referral_id"],
            rows.len(),
        );
        for r in rows {
            b.vals.extend([
                Val::Text(r.service_code),
                Val::Text(r.referral_id),
                Val::Text(r.trust_code),
                Val::Int(r.referral_day),
                Val::int_opt(r.age),
                Val::text_opt(r.sex),
                Val::text_opt(r.ethnic_category),
                Val::int_opt(r.imd_decile),
                Val::int_opt(r.test_day),
                Val::int_opt(r.appointments),
                Val::int_opt(r.decision_day),
            ]);
        }
        b
    }
}

impl Store {
    /// The ADHD services held (of one trust, or all), with their referral counts.
    pub async fn adhd_services(&self, trust: Option<&str>) -> Result<Vec<AdhdService>> {
        Ok(sqlx::query_as(
            "SELECT service_code, trust_code, COUNT(*) AS referrals FROM adhd_referrals \
             WHERE ($1 = '' OR trust_code = $1) GROUP BY service_code, trust_code \
             ORDER BY trust_code, service_code",
        )
        .bind(trust.unwrap_or("").trim().to_ascii_uppercase())
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every referral of a service, in order of referral.
    pub async fn adhd_referrals(&self, service: &str) -> Result<Vec<AdhdReferralRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {} FROM adhd_referrals WHERE service_code = $1 \
             ORDER BY referral_day, referral_id",
            COLUMNS.join(", ")
        ))
        .bind(service.trim().to_ascii_uppercase())
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many referrals a service holds.
    pub async fn adhd_referral_count(&self, service: &str) -> Result<i64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM adhd_referrals WHERE service_code = $1")
                .bind(service.trim().to_ascii_uppercase())
                .fetch_one(&self.pool)
                .await?;
        Ok(n)
    }
}
