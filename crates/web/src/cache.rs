//! Computed measure series, kept per data generation. Every upload and annotation moves the
//! store's data generation; the cache checks it at most once a second (so imports made with the
//! command line are noticed within a second). The next generation is computed in the
//! background while the previous one is served (see [`Cache`]).

use crate::orgs::Directory;
use domain::OrgLevel;
use domain::dates::{PeriodKind, date_from_day};
use std::collections::{HashMap, HashSet};
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
    /// The ligature registers' version (`Store::ligature_version`): signed audits and actions.
    pub ligature: i64,
}

impl Snapshot {
    /// The latest uploads that may hold `trust`'s records: its own, and those not bound to one
    /// trust (a programme admin's upload can hold any trust's rows). Without a trust, all.
    /// FREED uploads (issue 14) are left out: no safety measure is computed from them.
    pub fn latest_uploads(&self, trust: Option<&str>, n: usize) -> Vec<UploadRow> {
        self.uploads
            .iter()
            .filter(|u| !u.kind.starts_with("freed_"))
            .filter(|u| {
                trust.is_none() || u.trust_code.is_none() || u.trust_code.as_deref() == trust
            })
            .take(n)
            .cloned()
            .collect()
    }

    /// The latest uploads made for `trust` itself (what its own users see on /uploads).
    pub fn own_uploads(&self, trust: &str, n: usize) -> Vec<UploadRow> {
        self.uploads
            .iter()
            .filter(|u| u.trust_code.as_deref() == Some(trust))
            .take(n)
            .cloned()
            .collect()
    }

    /// The notes that belong on `measure`'s charts of `org`.
    pub fn notes_for(&self, org: &str, measure: &str) -> Vec<Annotation> {
        self.annotations
            .get(org)
            .map(|v| measures::summary::notes_for(v, measure))
            .unwrap_or_default()
    }
}

struct State {
    snapshot: Arc<Snapshot>,
    checked: Instant,
    series: HashMap<Key, Arc<Vec<MeasureSeries>>>,
    /// Every ward-month's completeness reading over the whole data range.
    completeness: Option<Arc<Vec<WardMonth>>>,
    /// A newer generation is being computed in the background.
    rebuilding: bool,
    /// The data moved again while rebuilding: go round once more.
    again: bool,
}

/// The computed series of the data generation being served. When the data change (an upload
/// here or on the command line), the next generation is computed in the background, every
/// series that was in use recomputed, and swapped in whole when it is ready: pages are served
/// from the previous generation meanwhile, so no request waits for the recomputation.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// `true` while a rebuild runs (so that callers can wait for the data to settle).
    rebuilding: tokio::sync::watch::Sender<bool>,
    /// One lock per series being computed on demand.
    in_flight: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
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
    let ligature = store.ligature_version().await?;
    Ok(Snapshot {
        generation,
        orgs,
        range,
        annotations,
        uploads,
        ligature,
    })
}

impl Snapshot {
    /// Whether `other` holds the same uploaded data (only annotations differ): the computed
    /// series of one are then the series of the other.
    fn same_data(&self, other: &Snapshot) -> bool {
        self.uploads.first().map(|u| u.id) == other.uploads.first().map(|u| u.id)
            && self.uploads.len() == other.uploads.len()
            && self.ligature == other.ligature
    }
}

async fn compute(
    store: &Store,
    snap: &Snapshot,
    key: &Key,
) -> store::Result<Arc<Vec<MeasureSeries>>> {
    let Some((from, to)) = snap.range else {
        return Ok(Arc::new(
            crate::series_sources::series_for(store, snap, key).await?,
        ));
    };
    let measures: Vec<_> = match key.measure {
        Some(id) => domain::measures::find(id)
            .filter(|m| m.from_ward_uploads())
            .into_iter()
            .collect(),
        None => domain::measures::catalogue(),
    };
    let q = Query {
        level: key.level,
        period: key.period,
        from,
        to,
        scope: key.scope.clone(),
    };
    let mut out = store.compute_measures(&q, &measures).await?;
    // The other programmes' measures (FREED, ligature registers) beside the ward measures.
    out.extend(crate::series_sources::series_for(store, snap, key).await?);
    Ok(Arc::new(out))
}

async fn compute_completeness(
    store: &Store,
    snap: &Snapshot,
) -> store::Result<Arc<Vec<WardMonth>>> {
    match snap.range {
        Some((from, to)) => Ok(Arc::new(store.completeness(from, to, None).await?)),
        None => Ok(Arc::new(Vec::new())),
    }
}

/// The trusts whose data the uploads made since `old` can have changed; `None` when one of
/// them is not bound to a trust (a programme admin's upload may hold any trust's rows).
fn changed_trusts(old: &Snapshot, fresh: &Snapshot) -> Option<HashSet<String>> {
    // A ligature register changed (an audit signed, an action changed): which trust is not
    // recorded in the version, so every series is recomputed.
    if old.ligature != fresh.ligature {
        return None;
    }
    let seen = old.uploads.first().map_or(0, |u| u.id);
    let mut trusts = HashSet::new();
    for u in fresh.uploads.iter().filter(|u| u.id > seen) {
        trusts.insert(u.trust_code.clone()?);
    }
    Some(trusts)
}

/// Whether `key`'s series cannot have changed: it is scoped to one trust (or a site or ward of
/// one) that none of the new uploads touched.
fn unchanged_by(key: &Key, changed: Option<&HashSet<String>>, fresh: &Snapshot) -> bool {
    let (Some(changed), Some((level, code))) = (changed, &key.scope) else {
        return false;
    };
    if !matches!(level, OrgLevel::Trust | OrgLevel::Site | OrgLevel::Ward) {
        return false;
    }
    let trust = fresh.orgs.get(code).and_then(|o| o.trust.clone());
    trust.is_some_and(|t| !changed.contains(&t))
}

impl Cache {
    pub async fn load(store: &Store) -> store::Result<Cache> {
        Ok(Cache {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    snapshot: Arc::new(snapshot(store).await?),
                    checked: Instant::now(),
                    series: HashMap::new(),
                    completeness: None,
                    rebuilding: false,
                    again: false,
                }),
                rebuilding: tokio::sync::watch::channel(false).0,
                in_flight: Mutex::new(HashMap::new()),
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the map half-written (every change is one insert), so
        // a poisoned lock is still safe to use.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The snapshot being served. At most once a second it checks whether the data changed,
    /// and if so starts computing the next generation in the background (this call does not
    /// wait for it).
    pub async fn current(&self, store: &Store) -> store::Result<Arc<Snapshot>> {
        let (snap, due) = {
            let s = self.lock();
            (s.snapshot.clone(), s.checked.elapsed() >= CHECK_EVERY)
        };
        if !due {
            return Ok(snap);
        }
        let generation = store.data_generation().await?;
        self.lock().checked = Instant::now();
        if generation != snap.generation {
            self.start_rebuild(store, None);
        }
        Ok(snap)
    }

    /// After a change made here: an annotation shows at once (the series stay valid, and the
    /// notes are laid over the snapshot being served even while a rebuild runs); an upload's
    /// figures are computed in the background and swapped in when ready.
    pub async fn refresh(&self, store: &Store) -> store::Result<Arc<Snapshot>> {
        let fresh = Arc::new(snapshot(store).await?);
        let served = {
            let mut s = self.lock();
            if s.snapshot.same_data(&fresh) && !s.rebuilding {
                s.snapshot = fresh.clone();
                s.checked = Instant::now();
                return Ok(fresh);
            }
            let old = &s.snapshot;
            let overlaid = Arc::new(Snapshot {
                generation: old.generation,
                orgs: old.orgs.clone(),
                range: old.range,
                annotations: fresh.annotations.clone(),
                uploads: old.uploads.clone(),
                ligature: old.ligature,
            });
            s.snapshot = overlaid.clone();
            overlaid
        };
        self.start_rebuild(store, Some(fresh));
        Ok(served)
    }

    /// Wait until the generation being served is the newest (for tests and benchmarks, and
    /// after a command-line import in the same process).
    pub async fn settled(&self, store: &Store) -> store::Result<Arc<Snapshot>> {
        let generation = store.data_generation().await?;
        if generation != self.lock().snapshot.generation {
            self.start_rebuild(store, None);
        }
        let mut rx = self.inner.rebuilding.subscribe();
        // An error means the cache was dropped: nothing left to wait for.
        let _ = rx.wait_for(|busy| !busy).await;
        Ok(self.lock().snapshot.clone())
    }

    fn start_rebuild(&self, store: &Store, fresh: Option<Arc<Snapshot>>) {
        {
            let mut s = self.lock();
            if s.rebuilding {
                s.again = true;
                return;
            }
            s.rebuilding = true;
            s.again = false;
        }
        self.inner.rebuilding.send_replace(true);
        let (cache, store) = (self.clone(), store.clone());
        tokio::spawn(async move {
            let mut fresh = fresh;
            loop {
                if let Err(e) = cache.rebuild(&store, fresh.take()).await {
                    // Keep serving what we have; the next check tries again.
                    tracing::warn!("recomputing the figures after a data change failed: {e}");
                }
                let mut s = cache.lock();
                if !std::mem::take(&mut s.again) {
                    s.rebuilding = false;
                    break;
                }
            }
            cache.inner.rebuilding.send_replace(false);
        });
    }

    /// Compute, for the newest data, every series the current generation holds (and the
    /// completeness reading if it holds one), then swap them in together.
    async fn rebuild(&self, store: &Store, fresh: Option<Arc<Snapshot>>) -> store::Result<()> {
        let fresh = match fresh {
            Some(f) => f,
            None => Arc::new(snapshot(store).await?),
        };
        let (old, keys, had_completeness) = {
            let s = self.lock();
            let keys: Vec<Key> = s.series.keys().cloned().collect();
            (s.snapshot.clone(), keys, s.completeness.is_some())
        };
        if old.same_data(&fresh) {
            let mut s = self.lock();
            s.snapshot = fresh;
            s.checked = Instant::now();
            return Ok(());
        }
        // Only what the new uploads can have changed: an upload bound to a trust holds only
        // that trust's rows, so series scoped to other trusts (their wards, sites and the
        // trusts themselves) are carried over; the region, ICBs and every series across trusts
        // are recomputed.
        let changed = changed_trusts(&old, &fresh);
        let carried = {
            let s = self.lock();
            keys.iter()
                .filter(|k| unchanged_by(k, changed.as_ref(), &fresh))
                .filter_map(|k| s.series.get(k).map(|v| (k.clone(), v.clone())))
                .collect::<Vec<_>>()
        };
        let mut series: HashMap<Key, Arc<Vec<MeasureSeries>>> = carried.into_iter().collect();
        for key in keys {
            if series.contains_key(&key) {
                continue;
            }
            let computed = compute(store, &fresh, &key).await?;
            series.insert(key, computed);
        }
        let completeness = if had_completeness {
            Some(compute_completeness(store, &fresh).await?)
        } else {
            None
        };
        let mut s = self.lock();
        s.snapshot = fresh;
        s.series = series;
        s.completeness = completeness;
        s.checked = Instant::now();
        Ok(())
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
        let computed = compute_completeness(store, snap).await?;
        let mut s = self.lock();
        if s.snapshot.generation == snap.generation {
            s.completeness = Some(computed.clone());
        }
        Ok(computed)
    }

    /// The series for `key` over the whole data range, computed once per data generation:
    /// callers asking for the same key at once wait for one computation.
    pub async fn series(
        &self,
        store: &Store,
        snap: &Snapshot,
        key: Key,
    ) -> store::Result<Arc<Vec<MeasureSeries>>> {
        if let Some(hit) = self.lock().series.get(&key).cloned() {
            return Ok(hit);
        }
        let flight = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.clone())
            .or_default()
            .clone();
        let _turn = flight.lock().await;
        if let Some(hit) = self.lock().series.get(&key).cloned() {
            return Ok(hit);
        }
        let computed = compute(store, snap, &key).await;
        self.inner
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key);
        let computed = computed?;
        let mut s = self.lock();
        // Only keep it if the generation did not change while computing.
        if s.snapshot.generation == snap.generation {
            if s.series.len() >= MAX_ENTRIES {
                s.series.clear();
            }
            s.series.insert(key, computed.clone());
        }
        Ok(computed)
    }
}
