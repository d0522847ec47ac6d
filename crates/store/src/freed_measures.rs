//! The rows behind FREED's measures (issue 14): every referral of the programme (or of one
//! trust) with its events, read in one pass per table, for `measures::freed` to count by
//! `pathway`'s rules. SQL only, as `store::freed`: the rows are decoded by `ingest::freed` and
//! no clock is judged here.

use crate::freed::FreedRows;
use crate::{Result, Store};

const REFERRALS: &str = "SELECT r.service_code, r.referral_id, r.patient, r.received_min, r.source, r.age, \
     r.first_episode, r.onset_precision, r.onset_day, r.diagnosis, r.priority, r.ethnic_category, r.sex, \
     r.imd_decile, r.off_list_min FROM freed_referrals r JOIN freed_services s ON s.code = r.service_code \
     WHERE ($1 IS NULL OR s.trust_code = $1) ORDER BY r.service_code, r.referral_id";
const CONTACTS: &str = "SELECT c.service_code, c.contact_id, c.referral_id, c.kind, c.at_min, c.attendance_code, \
     c.attended FROM freed_contacts c JOIN freed_services s ON s.code = c.service_code \
     WHERE ($1 IS NULL OR s.trust_code = $1) ORDER BY c.service_code, c.referral_id, c.at_min, c.contact_id";
const PAUSES: &str = "SELECT p.service_code, p.referral_id, p.start_min, p.end_min, p.reason FROM freed_pauses p \
     JOIN freed_services s ON s.code = p.service_code WHERE ($1 IS NULL OR s.trust_code = $1) \
     ORDER BY p.service_code, p.referral_id, p.start_min";
const DISCHARGES: &str = "SELECT d.service_code, d.referral_id, d.at_min, d.reason, d.reopened_min \
     FROM freed_discharges d JOIN freed_services s ON s.code = d.service_code \
     WHERE ($1 IS NULL OR s.trust_code = $1) ORDER BY d.service_code, d.referral_id, d.at_min";

impl Store {
    /// Every held referral and event of the services of `trust` (all services without one),
    /// ordered by service, referral and time.
    pub async fn freed_measure_rows(&self, trust: Option<&str>) -> Result<FreedRows> {
        let trust = trust.map(str::to_string);
        Ok(FreedRows {
            referrals: sqlx::query_as(REFERRALS)
                .bind(trust.clone())
                .fetch_all(&self.pool)
                .await?,
            contacts: sqlx::query_as(CONTACTS)
                .bind(trust.clone())
                .fetch_all(&self.pool)
                .await?,
            pauses: sqlx::query_as(PAUSES)
                .bind(trust.clone())
                .fetch_all(&self.pool)
                .await?,
            discharges: sqlx::query_as(DISCHARGES)
                .bind(trust)
                .fetch_all(&self.pool)
                .await?,
        })
    }

    /// The first and last minute of anything held about FREED referrals (receipts, contacts,
    /// pauses, discharges and reopenings), `None` when there are none.
    pub async fn freed_span(&self) -> Result<Option<(i64, i64)>> {
        let row: (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT MIN(t), MAX(t) FROM (SELECT received_min AS t FROM freed_referrals \
             UNION ALL SELECT at_min FROM freed_contacts UNION ALL SELECT start_min FROM freed_pauses \
             UNION ALL SELECT end_min FROM freed_pauses WHERE end_min IS NOT NULL \
             UNION ALL SELECT at_min FROM freed_discharges \
             UNION ALL SELECT reopened_min FROM freed_discharges WHERE reopened_min IS NOT NULL) x",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.0.zip(row.1))
    }
}
