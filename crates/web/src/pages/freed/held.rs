//! What the FREED pages read and count once per data generation: the held referrals of a
//! service, of a trust's services or of every service (decoded by `ingest::freed`), and a
//! service's facts for the measures (counted by `measures::freed`) as of a time. Every upload
//! (a hand entry too) and every annotation moves the data generation, and the next view reads
//! again; until then the FREED measures, chart, download, queue and inequality pages answer
//! from memory instead of reading and decoding every referral and event of the scope again
//! (at 100,000 referrals that read took seconds a view).
//!
//! Only the server's memory holds them, as it holds any page it is building; what a user may
//! see of them is decided at every view, as before.

use crate::AppState;
use crate::error::AppError;
use domain::dates::PeriodKind;
use ingest::freed::HeldReferral;
use measures::facts::Facts;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::PrimitiveDateTime;

/// The referrals a page counts: one service's, those of a trust's services, or all.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Service(String),
    Trust(String),
    All,
}

impl Scope {
    fn key(&self) -> String {
        match self {
            Scope::Service(s) => format!("service/{s}"),
            Scope::Trust(t) => format!("trust/{t}"),
            Scope::All => "all".into(),
        }
    }
}

/// Scopes (and facts) kept at most; beyond it, start again.
const KEPT_SCOPES: usize = 32;
const KEPT_FACTS: usize = 256;

type FactsKey = (String, PeriodKind, PrimitiveDateTime);
type Kept<T> = Mutex<HashMap<String, (i64, Arc<T>)>>;

/// The kept referrals and facts, each with the data generation it was read in.
#[derive(Default)]
pub struct HeldCache {
    held: Kept<Vec<HeldReferral>>,
    facts: Mutex<HashMap<FactsKey, (i64, Arc<Facts>)>>,
}

impl HeldCache {
    fn held(&self, key: &str, generation: i64) -> Option<Arc<Vec<HeldReferral>>> {
        let map = self.held.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(g, _)| *g == generation)
            .map(|(_, h)| h.clone())
    }

    fn put_held(&self, key: String, generation: i64, held: Arc<Vec<HeldReferral>>) {
        let mut map = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= KEPT_SCOPES {
            map.retain(|_, (g, _)| *g == generation);
            if map.len() >= KEPT_SCOPES {
                map.clear();
            }
        }
        map.insert(key, (generation, held));
    }

    fn facts(&self, key: &FactsKey, generation: i64) -> Option<Arc<Facts>> {
        let map = self.facts.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(g, _)| *g == generation)
            .map(|(_, f)| f.clone())
    }

    fn put_facts(&self, key: FactsKey, generation: i64, facts: Arc<Facts>) {
        let mut map = self.facts.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= KEPT_FACTS {
            map.retain(|_, (g, _)| *g == generation);
            if map.len() >= KEPT_FACTS {
                map.clear();
            }
        }
        map.insert(key, (generation, facts));
    }
}

/// Every held referral of the scope with its events, as of the current data generation.
pub async fn referrals(
    state: &AppState,
    scope: &Scope,
) -> Result<Arc<Vec<HeldReferral>>, AppError> {
    let generation = state.store.data_generation().await?;
    referrals_at(state, scope, generation).await
}

async fn referrals_at(
    state: &AppState,
    scope: &Scope,
    generation: i64,
) -> Result<Arc<Vec<HeldReferral>>, AppError> {
    let key = scope.key();
    if let Some(h) = state.freed.held.held(&key, generation) {
        return Ok(h);
    }
    let rows = match scope {
        Scope::Service(s) => state.store.freed_rows(s, None).await?,
        Scope::Trust(t) => state.store.freed_measure_rows(Some(t)).await?,
        Scope::All => state.store.freed_measure_rows(None).await?,
    };
    let held = Arc::new(ingest::freed::held_referrals(rows).map_err(AppError::Internal)?);
    state.freed.held.put_held(key, generation, held.clone());
    Ok(held)
}

/// One service's FREED facts by `period` as of `at` (`measures::freed`, from its own
/// referrals), kept for the data generation.
pub async fn service_facts(
    state: &AppState,
    service: &str,
    period: PeriodKind,
    at: PrimitiveDateTime,
) -> Result<Arc<Facts>, AppError> {
    let generation = state.store.data_generation().await?;
    let key = (service.to_string(), period, at);
    if let Some(f) = state.freed.held.facts(&key, generation) {
        return Ok(f);
    }
    let held = referrals_at(state, &Scope::Service(service.to_string()), generation).await?;
    let facts = Arc::new(super::measures::service_facts(&held, service, period, at));
    state.freed.held.put_facts(key, generation, facts.clone());
    Ok(facts)
}
