//! Computed measure series, kept until the data changes. Every upload and annotation moves the
//! store's data generation; the cache checks it at most once a second (so imports made with the
//! command line show within a second) and is cleared at once by the web's own writes.

use crate::orgs::Directory;
use domain::OrgLevel;
use domain::dates::{PeriodKind, date_from_day};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::Store;
use store::annotations::Annotation;
use store::completeness::WardMonth;
use store::measures::{MeasureSeries, Query};
use store::read::UploadRow;
use time::Date;

/// Which series: level, period, scope (an organisation's code) and measure (or all).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub level: OrgLevel,
    pub period: PeriodKind,
    pub scope: Option<(OrgLevel, String)>,
    pub measure: Option<&'static str>,
}

/// What the cache holds for one data generation.
pub struct Snapshot {
    pub generation: i64,
    pub orgs: Arc<Directory>,
    /// First and last day with bed days.
    pub range: Option<(Date, Date)>,
    /// Saved annotations by organisation.
    pub annotations: HashMap<String, Vec<Annotation>>,
    /// Every upload, newest first (one row per file: small), for the "where the numbers came
    /// from" of chart pages.
    pub uploads: Vec<UploadRow>,
}

impl Snapshot {
    /// The latest uploads that may hold `trust`'s records: its own, and those not bound to one
    /// trust (a programme admin's upload can hold any trust's rows). Without a trust, all.
    pub fn latest_uploads(&self, trust: Option<&str>, n: usize) -> Vec<UploadRow> {
        self.uploads
            .iter()
            .filter(|u| {
                trust.is_none() || u.trust_code.is_none() || u.trust_code.as_deref() == trust
            })
            .take(n)
            .cloned()
            .collect()
    }

    /// The notes that belong on `measure`'s charts of `org`.
    pub fn notes_for(&self, org: &str, measure: &str) -> Vec<Annotation> {
        self.annotations
            .get(org)
            .map(|v| {
                v.iter()
                    .filter(|a| a.measure.as_deref().is_none_or(|m| m == measure))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

struct State {
    snapshot: Arc<Snapshot>,
    checked: Instant,
    series: HashMap<Key, Arc<Vec<MeasureSeries>>>,
    /// Every ward-month's completeness reading over the whole data range.
    completeness: Option<Arc<Vec<WardMonth>>>,
}

pub struct Cache {
    state: Mutex<State>,
}

/// Enough for every organisation and measure of a large region; beyond it, start again.
const MAX_ENTRIES: usize = 20_000;
const CHECK_EVERY: Duration = Duration::from_secs(1);

async fn snapshot(store: &Store) -> store::Result<Snapshot> {
    let generation = store.data_generation().await?;
    let orgs = Arc::new(Directory::load(store).await?);
    let range = store
        .data_range()
        .await?
        .map(|(a, b)| (date_from_day(a as i32), date_from_day(b as i32)));
    let annotations = store.all_annotations().await?;
    let uploads = store.uploads(None, i64::MAX).await?;
    Ok(Snapshot {
        generation,
        orgs,
        range,
        annotations,
        uploads,
    })
}

impl Cache {
    pub async fn load(store: &Store) -> store::Result<Cache> {
        Ok(Cache {
            state: Mutex::new(State {
                snapshot: Arc::new(snapshot(store).await?),
                checked: Instant::now(),
                series: HashMap::new(),
                completeness: None,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the map half-written (every change is one insert), so
        // a poisoned lock is still safe to use.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current snapshot, reloaded if the data changed.
    pub async fn current(&self, store: &Store) -> store::Result<Arc<Snapshot>> {
        let (snap, due) = {
            let s = self.lock();
            (s.snapshot.clone(), s.checked.elapsed() >= CHECK_EVERY)
        };
        if !due {
            return Ok(snap);
        }
        let generation = store.data_generation().await?;
        if generation == snap.generation {
            self.lock().checked = Instant::now();
            return Ok(snap);
        }
        self.refresh(store).await
    }

    /// Drop everything and reload (after an upload or annotation made here).
    pub async fn refresh(&self, store: &Store) -> store::Result<Arc<Snapshot>> {
        let fresh = Arc::new(snapshot(store).await?);
        let mut s = self.lock();
        s.snapshot = fresh.clone();
        s.series.clear();
        s.completeness = None;
        s.checked = Instant::now();
        Ok(fresh)
    }

    /// Completeness of every ward-month (region-wide), computed once per data generation.
    pub async fn completeness(
        &self,
        store: &Store,
        snap: &Snapshot,
    ) -> store::Result<Arc<Vec<WardMonth>>> {
        if let Some(hit) = self.lock().completeness.clone() {
            return Ok(hit);
        }
        let Some((from, to)) = snap.range else {
            return Ok(Arc::new(Vec::new()));
        };
        let computed = Arc::new(store.completeness(from, to, None).await?);
        let mut s = self.lock();
        if s.snapshot.generation == snap.generation {
            s.completeness = Some(computed.clone());
        }
        Ok(computed)
    }

    /// The series for `key` over the whole data range, computed once per data generation.
    pub async fn series(
        &self,
        store: &Store,
        snap: &Snapshot,
        key: Key,
    ) -> store::Result<Arc<Vec<MeasureSeries>>> {
        if let Some(hit) = self.lock().series.get(&key).cloned() {
            return Ok(hit);
        }
        let Some((from, to)) = snap.range else {
            return Ok(Arc::new(Vec::new()));
        };
        let measures: Vec<_> = match key.measure {
            Some(id) => domain::measures::find(id).into_iter().collect(),
            None => domain::measures::catalogue(),
        };
        let q = Query {
            level: key.level,
            period: key.period,
            from,
            to,
            scope: key.scope.clone(),
        };
        let computed = Arc::new(store.compute_measures(&q, &measures).await?);
        let mut s = self.lock();
        // Only keep it if the data did not change while computing.
        if s.snapshot.generation == snap.generation {
            if s.series.len() >= MAX_ENTRIES {
                s.series.clear();
            }
            s.series.insert(key, computed.clone());
        }
        Ok(computed)
    }
}
