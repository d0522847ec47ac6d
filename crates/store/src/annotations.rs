//! Dated annotations on charts (the changes tested), which may rebase the charts they belong to.

use crate::{Result, Store, StoreError};
use domain::dates::{date_from_day, day_number};
use time::Date;

pub use measures::notes::Annotation;

type AnnotationRow = (i64, String, Option<String>, i64, String, i64, String);

impl Store {
    pub async fn add_annotation(
        &self,
        org: &str,
        measure: Option<&str>,
        date: Date,
        text: &str,
        rebase: bool,
        author: &str,
    ) -> Result<i64> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 200 {
            return Err(StoreError::Invalid(
                "an annotation needs a short text (1 to 200 characters)".into(),
            ));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO annotations (org_code, measure_id, day, text, rebase, author, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(org)
        .bind(measure.map(str::to_string))
        .bind(i64::from(day_number(date)))
        .bind(text)
        .bind(i64::from(rebase))
        .bind(author)
        .bind(crate::imports::now_iso())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// Every note, by organisation, in date order (for summaries across many organisations).
    pub async fn all_annotations(
        &self,
    ) -> Result<std::collections::HashMap<String, Vec<Annotation>>> {
        let rows: Vec<AnnotationRow> = sqlx::query_as(
            "SELECT id, org_code, measure_id, day, text, rebase, author FROM annotations ORDER BY day, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: std::collections::HashMap<String, Vec<Annotation>> = Default::default();
        for a in rows.into_iter().map(to_annotation) {
            out.entry(a.org.clone()).or_default().push(a);
        }
        Ok(out)
    }

    /// The notes for one organisation and measure (including those for all its measures), in date order.
    pub async fn annotations(&self, org: &str, measure: Option<&str>) -> Result<Vec<Annotation>> {
        let rows: Vec<AnnotationRow> = sqlx::query_as(
            "SELECT id, org_code, measure_id, day, text, rebase, author FROM annotations \
             WHERE org_code = $1 AND (measure_id IS NULL OR measure_id = $2) ORDER BY day, id",
        )
        .bind(org)
        .bind(measure.map(str::to_string))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(to_annotation).collect())
    }
}

fn to_annotation((id, org, measure, day, text, rebase, author): AnnotationRow) -> Annotation {
    Annotation {
        id,
        org,
        measure,
        date: date_from_day(day as i32),
        text,
        rebase: rebase != 0,
        author,
    }
}
