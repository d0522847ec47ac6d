//! Template filters.

use askama::Values;

/// `restrictive_interventions` → `restrictive interventions`: codes as words for people.
#[askama::filter_fn]
pub fn words<T: std::fmt::Display>(s: T, _: &dyn Values) -> askama::Result<String> {
    Ok(s.to_string().replace('_', " "))
}
