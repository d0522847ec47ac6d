//! The network beyond inpatient mental health (issue 12, item 4; migration 0018): trusts' kinds
//! (a trust can say it is an acute trust), self-harm incidents among acute trusts' patients
//! (held against the patient's pseudonym, by setting), and every trust's monthly aggregate
//! counts of self-harm and suicide among its staff (counts only: no person). SQL only: the rows
//! are written by `ingest::acute` and `ingest::staff` through `Import`, counted here with
//! grouped SQL, and turned into measures by `network::scope`; what a user may see is decided in
//! `web`.

use crate::imports::Batch;
use crate::values::Val;
use crate::{Result, Store};
use std::sync::Arc;

/// A self-harm incident among an acute trust's patients, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcuteRow {
    pub trust_code: Arc<str>,
    pub incident_id: String,
    pub patient: Arc<str>,
    pub at_min: i64,
    pub day: i64,
    pub month_start: i64,
    pub week_start: i64,
    /// `emergency_department`, `acute_ward` or `other`.
    pub setting: &'static str,
    /// LFPSE physical harm code, when given.
    pub physical_harm: Option<&'static str>,
}

/// A trust's counts for one month, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffMonthRow {
    pub trust_code: Arc<str>,
    pub month_start: i64,
    pub self_harm: i64,
    pub suicides: i64,
    pub headcount: Option<i64>,
}

/// Acute self-harm incidents of one trust in one period and setting.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AcuteCount {
    pub trust_code: String,
    pub period_start: i64,
    pub setting: String,
    pub incidents: i64,
}

/// One acute incident with its patient's characteristics as the patients upload holds them
/// (none when the patient was never uploaded), for the breakdown by group.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AcuteIncidentPerson {
    pub trust_code: String,
    pub day: i64,
    pub setting: String,
    pub birth_year: Option<i64>,
    pub sex: Option<String>,
    pub ethnic_group: Option<String>,
}

/// A trust's staff counts for one month, as held.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StaffMonth {
    pub trust_code: String,
    pub month_start: i64,
    pub self_harm: i64,
    pub suicides: i64,
    pub headcount: Option<i64>,
}

impl Batch {
    /// Trusts' kinds (`mental_health` or `acute`), from an organisations upload's `OrgType`.
    pub fn organisation_types(rows: Vec<(String, &'static str)>) -> Batch {
        let mut b = Batch::new(
            "organisation_types",
            &["code", "org_type"],
            &["code"],
            rows.len(),
        );
        // Written beside the organisations, not counted as records of their own.
        b.tracked = false;
        for (code, kind) in rows {
            b.vals.extend([Val::Text(code), Val::Static(kind)]);
        }
        b
    }

    pub fn acute_self_harm(rows: Vec<AcuteRow>) -> Batch {
        let mut b = Batch::new(
            "acute_self_harm",
            &[
                "trust_code",
                "incident_id",
                "patient",
                "at_min",
                "day",
                "month_start",
                "week_start",
                "setting",
                "physical_harm",
            ],
            &["trust_code", "incident_id"],
            rows.len(),
        );
        for r in rows {
            b.vals.extend([
                Val::Shared(r.trust_code),
                Val::Text(r.incident_id),
                Val::Shared(r.patient),
                Val::Int(r.at_min),
                Val::Int(r.day),
                Val::Int(r.month_start),
                Val::Int(r.week_start),
                Val::Static(r.setting),
                r.physical_harm.map_or(Val::NullText, Val::Static),
            ]);
        }
        b
    }

    pub fn staff_harm_months(rows: Vec<StaffMonthRow>) -> Batch {
        let mut b = Batch::new(
            "staff_harm_months",
            &[
                "trust_code",
                "month_start",
                "self_harm",
                "suicides",
                "headcount",
            ],
            &["trust_code", "month_start"],
            rows.len(),
        );
        for r in rows {
            b.vals.extend([
                Val::Shared(r.trust_code),
                Val::Int(r.month_start),
                Val::Int(r.self_harm),
                Val::Int(r.suicides),
                Val::int_opt(r.headcount),
            ]);
        }
        b
    }
}

impl Store {
    /// Every trust's kind that an upload gave (`mental_health` or `acute`), by code. A trust
    /// not listed is a mental health trust.
    pub async fn organisation_types(&self) -> Result<Vec<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT code, org_type FROM organisation_types ORDER BY code")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Acute self-harm incidents counted by trust, period and setting (months, or ISO weeks
    /// when `weeks`), of one trust or of all; ordered by trust, period and setting.
    pub async fn acute_self_harm_counts(
        &self,
        trust: Option<&str>,
        weeks: bool,
    ) -> Result<Vec<AcuteCount>> {
        let period = if weeks { "week_start" } else { "month_start" };
        Ok(sqlx::query_as(&format!(
            "SELECT trust_code, {period} AS period_start, setting, COUNT(*) AS incidents \
             FROM acute_self_harm WHERE ($1 IS NULL OR trust_code = $1) \
             GROUP BY trust_code, {period}, setting ORDER BY trust_code, {period}, setting"
        ))
        .bind(trust.map(str::to_string))
        .fetch_all(&self.pool)
        .await?)
    }

    /// The last day of any acute self-harm incident held, `None` when there is none.
    pub async fn acute_self_harm_last_day(&self) -> Result<Option<i64>> {
        let row: (Option<i64>,) = sqlx::query_as("SELECT MAX(day) FROM acute_self_harm")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.0)
    }

    /// Every acute incident of the trusts given (all when `None`) from day `from` on, with
    /// its patient's year of birth, sex and ethnic group where the patients upload holds them.
    pub async fn acute_self_harm_people(
        &self,
        trust: Option<&str>,
        from: i64,
    ) -> Result<Vec<AcuteIncidentPerson>> {
        Ok(sqlx::query_as(
            "SELECT a.trust_code, a.day, a.setting, p.birth_year, p.sex, p.ethnic_group \
             FROM acute_self_harm a LEFT JOIN patients p ON p.pseudonym = a.patient \
             WHERE ($1 IS NULL OR a.trust_code = $1) AND a.day >= $2 \
             ORDER BY a.trust_code, a.day, a.incident_id",
        )
        .bind(trust.map(str::to_string))
        .bind(from)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Staff counts of one trust or of all, by trust and month.
    pub async fn staff_harm_months(&self, trust: Option<&str>) -> Result<Vec<StaffMonth>> {
        Ok(sqlx::query_as(
            "SELECT trust_code, month_start, self_harm, suicides, headcount FROM staff_harm_months \
             WHERE ($1 IS NULL OR trust_code = $1) ORDER BY trust_code, month_start",
        )
        .bind(trust.map(str::to_string))
        .fetch_all(&self.pool)
        .await?)
    }
}
