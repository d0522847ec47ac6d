//! Computed measure series, kept per data generation. Every upload and annotation moves the
//! store's data generation; the cache checks it at most once a second (so imports made with the
//! command line are noticed within a second). The next generation is computed in the
//! background while the previous one is served (see [`Cache`]).

use crate::orgs::Directory;
use domain::OrgLevel;
use domain::dates::{PeriodKind, date_from_day};
use measures::compose::TrustParts;
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
    /// Each trust's part of the levels above (`measures::compose`), kept with the series of the
    /// trust-level keys across every trust: the region's and ICBs' series are added up from them.
    parts: HashMap<Key, Arc<TrustParts>>,
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
    /// Series a page is waiting for that are being computed now: the start-up warming gives
    /// way to them, so that a first view has the machine's cores.
    pages_waiting: std::sync::atomic::AtomicUsize,
}

/// Counts a page's computation in [`Inner::pages_waiting`] while it lives.
struct PageWaiting<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> PageWaiting<'a> {
    fn new(n: &'a std::sync::atomic::AtomicUsize) -> Self {
        n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        PageWaiting(n)
    }
}

impl Drop for PageWaiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
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
    /// The trust an organisation belongs to (a trust is its own), if the directory knows it.
    fn trust_of(&self, code: &str) -> Option<String> {
        self.orgs.get(code).and_then(|o| o.trust.clone())
    }

    /// Whether `other` holds the same uploaded data (only annotations differ): the computed
    /// series of one are then the series of the other.
    fn same_data(&self, other: &Snapshot) -> bool {
        self.uploads.first().map(|u| u.id) == other.uploads.first().map(|u| u.id)
            && self.uploads.len() == other.uploads.len()
            && self.ligature == other.ligature
    }
}

/// A key's series, and for the trust-level key across every trust the parts that the levels
/// above are added up from.
struct Computed {
    series: Arc<Vec<MeasureSeries>>,
    parts: Option<Arc<TrustParts>>,
}

/// What a computation may take instead of reading it again.
#[derive(Default)]
struct Given {
    /// The trusts' parts, for a key that adds trusts together.
    parts: Option<Arc<TrustParts>>,
    /// The other programmes' series (FREED, ligature registers), when the change cannot have
    /// moved them (an upload of ward records).
    other_programmes: Option<Vec<MeasureSeries>>,
}

/// Whether `key`'s series add trusts together (the region's, an ICB's), so that they can be
/// added up from the trusts' parts.
fn adds_trusts(key: &Key) -> bool {
    matches!(key.level, OrgLevel::Icb | OrgLevel::Region)
        && matches!(
            key.scope,
            None | Some((OrgLevel::Icb | OrgLevel::Region, _))
        )
}

/// Whether `key` is read with each trust's part of the levels above.
fn keeps_parts(key: &Key) -> bool {
    key.level == OrgLevel::Trust && matches!(key.scope, None | Some((OrgLevel::Trust, _)))
}

/// The keys across every trust whose parts add up to `key`'s series: every measure's, then
/// the same measure's.
fn trusts_keys(key: &Key) -> [Key; 2] {
    let own = Key {
        level: OrgLevel::Trust,
        period: key.period,
        scope: None,
        measure: key.measure,
    };
    [
        Key {
            measure: None,
            ..own.clone()
        },
        own,
    ]
}

/// The parts held for `key` (which adds trusts together), if any.
fn held_parts(parts: &HashMap<Key, Arc<TrustParts>>, key: &Key) -> Option<Arc<TrustParts>> {
    if !adds_trusts(key) {
        return None;
    }
    trusts_keys(key).iter().find_map(|k| parts.get(k).cloned())
}

/// The other programmes' series among `held` (they come after the ward measures' series).
fn other_programmes(held: &[MeasureSeries]) -> Vec<MeasureSeries> {
    held.iter()
        .filter(|s| domain::measures::find(s.measure).is_none_or(|m| !m.from_ward_uploads()))
        .cloned()
        .collect()
}

/// Computed keys into the maps of the generation being built (parts of the keys across every
/// trust only: a trust's own parts are spliced into those).
fn keep(
    done: Vec<(Key, Computed)>,
    series: &mut HashMap<Key, Arc<Vec<MeasureSeries>>>,
    parts: &mut HashMap<Key, Arc<TrustParts>>,
) {
    for (key, c) in done {
        if let Some(p) = c.parts {
            hold_parts(parts, &key, p);
        }
        series.insert(key, c.series);
    }
}

/// Keep `key`'s parts if they are across every trust and not already covered: every measure's
/// parts stand for each measure's (a national region's weeks are about 80 MB of them), so
/// one measure's are dropped once every measure's are held.
fn hold_parts(held: &mut HashMap<Key, Arc<TrustParts>>, key: &Key, parts: Arc<TrustParts>) {
    if key.scope.is_some() {
        return;
    }
    let every = Key {
        measure: None,
        ..key.clone()
    };
    if key.measure.is_some() && held.contains_key(&every) {
        return;
    }
    if key.measure.is_none() {
        held.retain(|k, _| !(k.period == key.period && k.level == key.level && k.scope.is_none()));
    }
    held.insert(key.clone(), parts);
}

/// The facts of a key that adds trusts together, from the trusts' parts: `None` when they
/// cannot be (the parts are of other periods, or a trust's wards are in two ICBs).
async fn composed(
    store: &Store,
    q: &Query,
    parts: &TrustParts,
) -> store::Result<Option<store::measures::Facts>> {
    if parts.kind != q.period || parts.periods != q.period.starts_between(q.from, q.to) {
        return Ok(None);
    }
    let Some(parent_of) = store.trust_parents(q.level, &q.scope).await? else {
        return Ok(None);
    };
    let orgs = store.orgs_in_scope(q).await?;
    Ok(Some(parts.compose(&parent_of, orgs)))
}

async fn compute(
    store: &Store,
    snap: &Snapshot,
    key: &Key,
    given: Given,
) -> store::Result<Computed> {
    let Some((from, to)) = snap.range else {
        return Ok(Computed {
            series: Arc::new(crate::series_sources::series_for(store, snap, key).await?),
            parts: None,
        });
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
    let started = Instant::now();
    let mut parts = None;
    let mut facts = None;
    if keeps_parts(key) {
        let (f, p) = store.trust_parts(&q, &measures).await?;
        facts = Some(f);
        parts = Some(Arc::new(p));
    } else if let Some(held) = given.parts.filter(|_| adds_trusts(key)) {
        facts = composed(store, &q, &held).await?;
    }
    let facts = match facts {
        Some(f) => f,
        None => store.measure_facts(&q, &measures).await?,
    };
    let read = started.elapsed();
    let mut out = measures::series::assemble(&measures, &facts);
    let ward_measures = started.elapsed();
    // The other programmes' measures (FREED, ligature registers) beside the ward measures.
    match given.other_programmes {
        Some(held) => out.extend(held),
        None => out.extend(crate::series_sources::series_for(store, snap, key).await?),
    }
    // What each key costs, for whoever tunes a large deployment (RUST_LOG=web=debug).
    tracing::debug!(
        level = key.level.as_str(),
        period = key.period.as_str(),
        scope = ?key.scope.as_ref().map(|s| s.1.as_str()),
        measure = key.measure.unwrap_or("all"),
        facts_read_ms = read.as_millis() as u64,
        assembled_ms = (ward_measures - read).as_millis() as u64,
        other_programmes_ms = (started.elapsed() - ward_measures).as_millis() as u64,
        parts_mb = parts.as_ref().map_or(0, |p| p.bytes() >> 20),
        "computed series"
    );
    Ok(Computed {
        series: Arc::new(out),
        parts,
    })
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
    // Every series runs over the data's whole range: when an upload moves it, every
    // organisation's series gains (or loses) periods, not only the uploading trust's.
    if old.range != fresh.range {
        return None;
    }
    let seen = old.uploads.first().map_or(0, |u| u.id);
    let mut trusts = HashSet::new();
    for u in fresh.uploads.iter().filter(|u| u.id > seen) {
        // The other programmes' series (FREED, beyond inpatient care) end at the newest day
        // any trust uploaded: one trust's upload can lengthen every trust's.
        if !ENDS_AT_THE_DATA_RANGE.contains(&u.kind.as_str()) {
            return None;
        }
        trusts.insert(u.trust_code.clone()?);
    }
    Some(trusts)
}

/// Upload kinds whose series run over the data range (the bed days' first to last day), so
/// that a trust's upload of them changes that trust's series only while the range holds.
const ENDS_AT_THE_DATA_RANGE: &[&str] = &[
    "bed_days",
    "patients",
    "ward_stays",
    "restrictive_interventions",
    "incidents",
    "leave",
    "awol",
    "survey",
];

/// `held` completeness readings with the changed trusts' wards read again (each ward-month is
/// judged against the ward's own earlier months, so other trusts' readings cannot move), in
/// the order a whole reading gives: wards as `held` lists them, new wards after, by month.
async fn splice_completeness(
    store: &Store,
    fresh: &Snapshot,
    held: &[WardMonth],
    changed: &HashSet<String>,
) -> store::Result<Arc<Vec<WardMonth>>> {
    let Some((from, to)) = fresh.range else {
        return Ok(Arc::new(Vec::new()));
    };
    let mut out: Vec<WardMonth> = held
        .iter()
        .filter(|r| !changed.contains(&r.trust))
        .cloned()
        .collect();
    let mut trusts: Vec<&String> = changed.iter().collect();
    trusts.sort();
    for t in trusts {
        out.extend(
            store
                .completeness(from, to, Some((OrgLevel::Trust, t.clone())))
                .await?,
        );
    }
    let mut rank: HashMap<&str, usize> = HashMap::new();
    for r in held {
        let next = rank.len();
        rank.entry(r.ward.as_str()).or_insert(next);
    }
    out.sort_by(|a, b| {
        let ra = rank.get(a.ward.as_str()).copied().unwrap_or(usize::MAX);
        let rb = rank.get(b.ward.as_str()).copied().unwrap_or(usize::MAX);
        ra.cmp(&rb)
            .then_with(|| a.ward.cmp(&b.ward))
            .then_with(|| a.month.cmp(&b.month))
    });
    Ok(Arc::new(out))
}

/// What a rebuild does with one held key after uploads bound to the `changed` trusts.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// Nothing it holds can have changed.
    Carry,
    /// Compute it again now (it is one changed trust's, so cheap).
    Recompute,
    /// Compute the changed trusts' organisations now and put them in place of theirs.
    Splice,
    /// It adds trusts together (the region, an ICB): serve it as it was, and compute it again
    /// after the swap.
    Later,
}

fn plan_for(
    key: &Key,
    held: &[MeasureSeries],
    changed: &HashSet<String>,
    fresh: &Snapshot,
) -> Plan {
    let trust_of = |code: &str| fresh.trust_of(code);
    match (&key.scope, key.level) {
        (_, OrgLevel::Region | OrgLevel::Icb)
        | (Some((OrgLevel::Icb | OrgLevel::Region, _)), _) => Plan::Later,
        (Some((_, code)), _) => match trust_of(code) {
            Some(t) if !changed.contains(&t) => Plan::Carry,
            _ => Plan::Recompute,
        },
        // Every series must belong to a known trust for its place to be found; a series of an
        // organisation the directory does not know sends the key back to a whole computation.
        (None, _) if held.iter().all(|s| trust_of(&s.org).is_some()) => Plan::Splice,
        (None, _) => Plan::Later,
    }
}

/// What a rebuild computes for a key before the swap.
enum Work {
    Compute(Given),
    /// Splice the changed trusts into the series held (and into the parts held with them).
    Splice(Arc<Vec<MeasureSeries>>, Option<Arc<TrustParts>>),
}

/// Do `work` with as many keys in flight as the machine has cores (each key's queries and its
/// SPC run on one), so that an upload's figures are served sooner: SQLite reads in parallel
/// on its pool's connections, as PostgreSQL does.
async fn run_on_every_core(
    store: &Store,
    fresh: &Arc<Snapshot>,
    changed: Option<&Arc<HashSet<String>>>,
    work: Vec<(Key, Work)>,
) -> store::Result<Vec<(Key, Computed)>> {
    let width = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    let mut queue = work.into_iter();
    let mut running = tokio::task::JoinSet::new();
    let mut out = Vec::new();
    loop {
        while running.len() < width {
            let Some((key, job)) = queue.next() else {
                break;
            };
            let (store, fresh, changed) = (store.clone(), fresh.clone(), changed.cloned());
            running.spawn(async move {
                let value = match (job, changed) {
                    (Work::Splice(held, parts), Some(trusts)) => {
                        splice(&store, &fresh, &key, &held, parts.as_deref(), &trusts).await
                    }
                    (Work::Compute(given), _) => compute(&store, &fresh, &key, given).await,
                    (Work::Splice(..), None) => {
                        compute(&store, &fresh, &key, Given::default()).await
                    }
                };
                value.map(|v| (key, v))
            });
        }
        match running.join_next().await {
            None => return Ok(out),
            Some(Ok(done)) => out.push(done?),
            Some(Err(e)) => {
                return Err(store::StoreError::Task(format!(
                    "recomputing a series stopped: {e}"
                )));
            }
        }
    }
}

/// `held` with the series of the changed trusts' organisations replaced by their new ones
/// (computed one trust at a time, scoped to it), in the order `held` lists them; organisations
/// new to the key (a ward's first data) follow.
async fn splice(
    store: &Store,
    fresh: &Snapshot,
    key: &Key,
    held: &[MeasureSeries],
    held_parts: Option<&TrustParts>,
    changed: &HashSet<String>,
) -> store::Result<Computed> {
    let mut trusts: Vec<&String> = changed.iter().collect();
    trusts.sort();
    let mut new: HashMap<(String, &'static str), MeasureSeries> = HashMap::new();
    let mut order: Vec<(String, &'static str)> = Vec::new();
    let mut parts = held_parts.cloned();
    for t in trusts {
        let scoped = Key {
            scope: Some((OrgLevel::Trust, t.clone())),
            ..key.clone()
        };
        let c = compute(store, fresh, &scoped, Given::default()).await?;
        let (series, trust_parts) = (c.series.to_vec(), c.parts);
        parts = match (parts, trust_parts) {
            (Some(held), Some(p)) => held.spliced(&p, &HashSet::from([t.clone()])),
            _ => None,
        };
        for s in series {
            order.push((s.org.clone(), s.measure));
            new.insert((s.org.clone(), s.measure), s);
        }
    }
    let trust_of = |code: &str| fresh.trust_of(code);
    let mut out = Vec::with_capacity(held.len());
    for s in held {
        if trust_of(&s.org).is_some_and(|t| !changed.contains(&t)) {
            out.push(s.clone());
        } else if let Some(n) = new.remove(&(s.org.clone(), s.measure)) {
            out.push(n);
        }
    }
    for k in order {
        if let Some(n) = new.remove(&k) {
            out.push(n);
        }
    }
    Ok(Computed {
        series: Arc::new(out),
        parts: parts.map(Arc::new),
    })
}

impl Cache {
    pub async fn load(store: &Store) -> store::Result<Cache> {
        Ok(Cache {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    snapshot: Arc::new(snapshot(store).await?),
                    checked: Instant::now(),
                    series: HashMap::new(),
                    parts: HashMap::new(),
                    completeness: None,
                    rebuilding: false,
                    again: false,
                }),
                rebuilding: tokio::sync::watch::channel(false).0,
                in_flight: Mutex::new(HashMap::new()),
                pages_waiting: std::sync::atomic::AtomicUsize::new(0),
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
    /// completeness reading if it holds one), then swap them in. When every new upload is bound
    /// to a trust, only what those trusts' rows feed is recomputed before the swap, so their
    /// figures are served within seconds even at a national size: series of other trusts are
    /// carried over, series across trusts at the trust, site and ward levels have the changed
    /// trusts' organisations spliced in (each series is one organisation's, inside one trust),
    /// and the region's and ICBs' series (which add trusts together) are served as they were
    /// while they are added up again, one by one after the swap, from the trusts' parts (the
    /// changed trusts' spliced in before it). After any other change every key is computed
    /// again, the trusts' first and the levels above then added up from their fresh parts.
    async fn rebuild(&self, store: &Store, fresh: Option<Arc<Snapshot>>) -> store::Result<()> {
        let fresh = match fresh {
            Some(f) => f,
            None => Arc::new(snapshot(store).await?),
        };
        let (old, held, held_parts_map, had_completeness, held_completeness) = {
            let s = self.lock();
            let held: Vec<(Key, Arc<Vec<MeasureSeries>>)> = s
                .series
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (
                s.snapshot.clone(),
                held,
                s.parts.clone(),
                s.completeness.is_some(),
                s.completeness.clone(),
            )
        };
        if old.same_data(&fresh) {
            let mut s = self.lock();
            s.snapshot = fresh;
            s.checked = Instant::now();
            return Ok(());
        }
        let changed = changed_trusts(&old, &fresh).map(Arc::new);
        let mut series: HashMap<Key, Arc<Vec<MeasureSeries>>> = HashMap::new();
        let mut parts: HashMap<Key, Arc<TrustParts>> = HashMap::new();
        let mut deferred: Vec<(Key, Arc<Vec<MeasureSeries>>)> = Vec::new();
        let mut now: Vec<(Key, Work)> = Vec::new();
        // Everything again: the keys that add trusts together wait for the trusts' parts.
        let mut adding: Vec<Key> = Vec::new();
        for (key, value) in held {
            match &changed {
                None if adds_trusts(&key) => adding.push(key),
                None => now.push((key, Work::Compute(Given::default()))),
                Some(trusts) => match plan_for(&key, &value, trusts, &fresh) {
                    Plan::Carry => {
                        if let Some(p) = held_parts_map.get(&key) {
                            parts.insert(key.clone(), p.clone());
                        }
                        series.insert(key, value);
                    }
                    Plan::Recompute => now.push((key, Work::Compute(Given::default()))),
                    Plan::Splice => {
                        let held = held_parts_map.get(&key).cloned();
                        now.push((key, Work::Splice(value, held)));
                    }
                    Plan::Later => {
                        series.insert(key.clone(), value.clone());
                        deferred.push((key, value));
                    }
                },
            }
        }
        keep(
            run_on_every_core(store, &fresh, changed.as_ref(), now).await?,
            &mut series,
            &mut parts,
        );
        let adding: Vec<(Key, Work)> = adding
            .into_iter()
            .map(|key| {
                let given = Given {
                    parts: held_parts(&parts, &key),
                    other_programmes: None,
                };
                (key, Work::Compute(given))
            })
            .collect();
        keep(
            run_on_every_core(store, &fresh, changed.as_ref(), adding).await?,
            &mut series,
            &mut parts,
        );
        let completeness = match (had_completeness, &changed) {
            (false, _) => None,
            (true, Some(trusts)) => match &held_completeness {
                Some(rows) => Some(splice_completeness(store, &fresh, rows, trusts).await?),
                None => Some(compute_completeness(store, &fresh).await?),
            },
            (true, None) => Some(compute_completeness(store, &fresh).await?),
        };
        let generation = fresh.generation;
        {
            let mut s = self.lock();
            s.snapshot = fresh.clone();
            s.series = series;
            s.parts = parts.clone();
            s.completeness = completeness;
            s.checked = Instant::now();
        }
        // The region's and ICBs' series: their trusts' new parts added up (an upload of ward
        // records leaves the other programmes' series as they were).
        for (key, value) in deferred {
            let given = Given {
                parts: held_parts(&parts, &key),
                other_programmes: Some(other_programmes(&value)),
            };
            let computed = compute(store, &fresh, &key, given).await?;
            let mut s = self.lock();
            if s.snapshot.generation != generation {
                break;
            }
            s.series.insert(key, computed.series);
        }
        Ok(())
    }

    /// The data generation whose uploads the pages are served from (the region's and ICBs'
    /// series may still be catching up with it: [`Cache::settled`] waits for all of them).
    pub fn serving_generation(&self) -> i64 {
        self.lock().snapshot.generation
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
        let _waiting = PageWaiting::new(&self.inner.pages_waiting);
        self.compute_once(store, snap, key).await
    }

    /// [`Cache::series`] for the background warming: it starts a key only when no page is
    /// waiting for one (a page's first view is then not slowed by the warming beside it).
    pub async fn warm_series(
        &self,
        store: &Store,
        snap: &Snapshot,
        key: Key,
    ) -> store::Result<Arc<Vec<MeasureSeries>>> {
        if let Some(hit) = self.lock().series.get(&key).cloned() {
            return Ok(hit);
        }
        while self
            .inner
            .pages_waiting
            .load(std::sync::atomic::Ordering::SeqCst)
            > 0
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.compute_once(store, snap, key).await
    }

    /// Compute `key` unless it is held; callers asking for the same key at once wait for one
    /// computation.
    async fn compute_once(
        &self,
        store: &Store,
        snap: &Snapshot,
        key: Key,
    ) -> store::Result<Arc<Vec<MeasureSeries>>> {
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
        let computed = match self.parts_for(store, snap, &key).await {
            Ok(parts) => {
                let given = Given {
                    parts,
                    other_programmes: None,
                };
                compute(store, snap, &key, given).await
            }
            Err(e) => Err(e),
        };
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
                s.parts.clear();
            }
            s.series.insert(key.clone(), computed.series.clone());
            if let Some(parts) = computed.parts {
                hold_parts(&mut s.parts, &key, parts);
            }
        }
        Ok(computed.series)
    }

    /// The trusts' parts that `key`'s series add up (`None` for a key that adds no trusts
    /// together). When they are not held, the key across every trust is computed first (its
    /// series are kept too): the region is then its trusts' figures added up, never a second
    /// read of every row.
    async fn parts_for(
        &self,
        store: &Store,
        snap: &Snapshot,
        key: &Key,
    ) -> store::Result<Option<Arc<TrustParts>>> {
        if !adds_trusts(key) {
            return Ok(None);
        }
        if let Some(held) = held_parts(&self.lock().parts, key) {
            return Ok(Some(held));
        }
        let [_, own] = trusts_keys(key);
        Box::pin(self.compute_once(store, snap, own)).await?;
        Ok(held_parts(&self.lock().parts, key))
    }

    /// `key`'s series (every measure) if they are computed; otherwise `measure`'s alone
    /// (it reads only the tables that measure needs). A chart page's first view at a
    /// national size then waits for one measure of one trust, not all of them.
    pub async fn series_with(
        &self,
        store: &Store,
        snap: &Snapshot,
        key: Key,
        measure: &'static str,
    ) -> store::Result<Arc<Vec<MeasureSeries>>> {
        if key.measure.is_some() {
            return self.series(store, snap, key).await;
        }
        if let Some(hit) = self.lock().series.get(&key).cloned() {
            return Ok(hit);
        }
        let one = Key {
            measure: Some(measure),
            ..key.clone()
        };
        // The whole key is left to the start-up warming (monthly) or to the page that needs
        // it: computing it here too would take the cores from the next first views.
        self.series(store, snap, one).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(id: i64, kind: &str, trust: Option<&str>) -> UploadRow {
        UploadRow {
            id,
            kind: kind.into(),
            file_name: format!("{kind}.csv"),
            sha256: String::new(),
            uploaded_by: "test".into(),
            trust_code: trust.map(str::to_string),
            uploaded_at: String::new(),
            rows_total: 1,
            rows_inserted: 1,
            rows_updated: 0,
            mapping: None,
        }
    }

    fn snapshot(uploads: Vec<UploadRow>) -> Snapshot {
        Snapshot {
            generation: uploads.first().map_or(0, |u| u.id),
            orgs: Arc::new(Directory::default()),
            range: None,
            annotations: HashMap::new(),
            uploads,
            ligature: 0,
        }
    }

    /// Every measure's parts across the trusts stand for each measure's: one measure's are
    /// not kept beside them, and a trust's own are never kept (they are spliced in).
    #[test]
    fn parts_are_kept_once_per_period_across_every_trust() {
        let parts = || {
            Arc::new(TrustParts {
                kind: PeriodKind::Week,
                periods: Vec::new(),
                trusts: Default::default(),
            })
        };
        let key = |measure, scope: Option<&str>| Key {
            level: OrgLevel::Trust,
            period: PeriodKind::Week,
            scope: scope.map(|t| (OrgLevel::Trust, t.to_string())),
            measure,
        };
        let mut held = HashMap::new();
        hold_parts(&mut held, &key(None, Some("R8A")), parts());
        assert!(held.is_empty(), "a trust's own parts");
        hold_parts(&mut held, &key(Some("ri_rate"), None), parts());
        assert_eq!(held.len(), 1);
        hold_parts(&mut held, &key(None, None), parts());
        assert_eq!(held.keys().collect::<Vec<_>>(), vec![&key(None, None)]);
        hold_parts(&mut held, &key(Some("ri_rate"), None), parts());
        assert_eq!(held.len(), 1, "covered by every measure's");
        let region = Key {
            level: OrgLevel::Region,
            measure: Some("ri_rate"),
            ..key(None, None)
        };
        assert!(held_parts(&held, &region).is_some());
        let ward = Key {
            level: OrgLevel::Ward,
            ..region.clone()
        };
        assert!(held_parts(&held, &ward).is_none(), "a ward adds no trusts");
    }

    #[test]
    fn a_trust_s_safety_upload_changes_that_trust_only() {
        let old = snapshot(vec![upload(1, "bed_days", None)]);
        let fresh = snapshot(vec![
            upload(3, "incidents", Some("R8A")),
            upload(2, "restrictive_interventions", Some("R8B")),
            upload(1, "bed_days", None),
        ]);
        let changed = changed_trusts(&old, &fresh).unwrap();
        assert_eq!(changed.len(), 2);
        assert!(changed.contains("R8A") && changed.contains("R8B"));
    }

    /// FREED's and the acute and staff measures' series end at the newest day any trust
    /// uploaded, so one trust's upload can lengthen every trust's series: all are recomputed.
    #[test]
    fn an_upload_whose_series_end_at_the_newest_day_anywhere_recomputes_everything() {
        let old = snapshot(vec![upload(1, "bed_days", None)]);
        for kind in [
            "acute_self_harm",
            "staff_harm",
            "freed_referrals",
            "freed_contacts",
        ] {
            let fresh = snapshot(vec![
                upload(2, kind, Some("R8A")),
                upload(1, "bed_days", None),
            ]);
            assert_eq!(changed_trusts(&old, &fresh), None, "{kind}");
        }
        let admin = snapshot(vec![
            upload(2, "incidents", None),
            upload(1, "bed_days", None),
        ]);
        assert_eq!(
            changed_trusts(&old, &admin),
            None,
            "an upload bound to no trust"
        );
    }
}
