//! # ingest: from trusts' exports to validated records in the store
//!
//! Reads CSV (UTF-8 with or without BOM, UTF-16, Windows-1252; comma, semicolon or tab) and
//! Excel files, applies a saved column mapping, validates every row into domain records,
//! pseudonymises NHS numbers, and writes the whole file in one transaction: all of it or none
//! of it. A dry run does everything but commit, and reports what would have happened. Every
//! problem is reported as `FILE:LINE:COLUMN: reason`.

pub use textfile::{csvscan, decode};
/// Self-harm incidents among acute trusts' patients (issue 12 item 4).
pub mod acute;
/// The children's ADHD pathway's referrals as an upload (issue 15 item 8).
pub mod adhd;
pub mod formats;
pub mod freed;
pub mod ligature;
pub mod mapping;
pub mod parse;
pub mod pseudonym;
pub mod qi_values;
/// Staff self-harm and suicide as monthly aggregate counts (issue 12 item 4).
pub mod staff;
pub mod table;

use formats::Kind;
use mapping::{Compiled, Mapping};
use parse::{Columns, Record, Reference, RowError, RowReader};
use pseudonym::Pseudonymiser;
use rustc_hash::FxHashMap;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use store::{Batch, Store, StoreError, UploadMeta, UploadSummary};
use table::Content;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Key(String),
}

/// One upload to check (and, unless a dry run, to import).
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub kind: Kind,
    pub file_name: &'a str,
    pub bytes: &'a [u8],
    pub mapping: Option<&'a Mapping>,
    /// Who is uploading (a user name; never a patient's detail).
    pub uploaded_by: &'a str,
    /// Refuse rows for wards outside this trust (an uploader's own trust).
    pub only_trust: Option<&'a str>,
    pub dry_run: bool,
}

/// Where an import is, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Reading and checking rows: done and total in bytes (CSV) or rows (Excel).
    Checking,
    /// Writing records: done and total in records.
    Writing,
}

/// What happened: the counts, or every failing row.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub kind: &'static str,
    pub file_name: String,
    pub format: String,
    pub rows_read: u64,
    pub errors: Vec<RowError>,
    /// Errors beyond those listed.
    pub more_errors: u64,
    pub warnings: Vec<String>,
    /// Records per trust (or "all" for reference data), for the preview.
    pub by_trust: Vec<(String, u64)>,
    /// `None` when nothing was written because of errors.
    pub summary: Option<UploadSummary>,
    pub dry_run: bool,
    /// What the check read from the store (not shown to users).
    #[serde(skip)]
    pub reference_read: ReferenceRead,
}

/// What checking an upload read from the store beyond organisations and wards: only the
/// stays of the trusts whose wards the file names, and, in a small file, only the birth years
/// of the patients it names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReferenceRead {
    /// Trusts whose ward stays were loaded, in the order the file first named them.
    pub stay_trusts: Vec<String>,
    /// Ward stays loaded.
    pub stays: u64,
    /// Patients whose year of birth was asked for one at a time.
    pub patients_looked_up: u64,
    /// Whether every patient's year of birth was loaded instead (a large file).
    pub all_birth_years: bool,
    /// Held FREED referrals read to check the file against (those it names, or the whole
    /// service when it names a large share of it).
    pub freed_referrals: u64,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// Each error as `FILE:LINE:COLUMN: reason`.
    pub fn error_lines(&self) -> Vec<String> {
        self.errors
            .iter()
            .map(|e| format!("{}:{}:{}: {}", self.file_name, e.line, e.column, e.message))
            .collect()
    }
}

const KEEP_ERRORS: usize = 1000;
/// Unused columns named in the warning; the rest are counted.
const UNUSED_LISTED: usize = 10;
const WRITE_CHUNK: usize = 20_000;

/// Check and import one file.
pub async fn import(
    store: &Store,
    keys: &mut Pseudonymiser,
    req: &Request<'_>,
    progress: &mut (dyn FnMut(Phase, u64, u64) + Send),
) -> Result<Report, IngestError> {
    let mut report = Report {
        kind: req.kind.as_str(),
        file_name: req.file_name.to_string(),
        format: String::new(),
        rows_read: 0,
        errors: Vec::new(),
        more_errors: 0,
        warnings: Vec::new(),
        by_trust: Vec::new(),
        summary: None,
        dry_run: req.dry_run,
        reference_read: ReferenceRead::default(),
    };
    let fail = |report: &mut Report, line, column, message: String| {
        report.errors.push(RowError {
            line,
            column,
            message,
            ..Default::default()
        })
    };

    let compiled = match req.mapping {
        Some(m) => match m.check() {
            Ok(k) if k == req.kind => m.compile(),
            Ok(k) => {
                fail(
                    &mut report,
                    1,
                    1,
                    format!(
                        "mapping '{}' is for {} files, not {}; expected a mapping of the same kind",
                        m.name,
                        k.as_str(),
                        req.kind.as_str()
                    ),
                );
                return Ok(report);
            }
            Err(e) => {
                fail(&mut report, 1, 1, format!("mapping '{}': {e}", m.name));
                return Ok(report);
            }
        },
        None => Compiled::default(),
    };

    let content = match Content::open(req.bytes) {
        Ok(c) => c,
        Err(p) => {
            fail(&mut report, p.line, p.column, p.message);
            return Ok(report);
        }
    };
    report.format = content.format().describe();
    let text = content.text();
    let size = content.size() as u64;
    let mut rows = content.rows();
    let mut fields = Vec::new();
    match rows.next_row(&mut fields) {
        Ok(true) => {}
        Ok(false) => {
            fail(
                &mut report,
                1,
                1,
                "the file is empty; expected a header line and data rows".into(),
            );
            return Ok(report);
        }
        Err(p) => {
            fail(&mut report, p.line, p.column, p.message);
            return Ok(report);
        }
    }
    let Some(columns) = header_columns(req.kind, &fields, text, &compiled, &mut report) else {
        return Ok(report);
    };
    let width = fields.len();

    let (mut reference, mut on_first_sight) =
        load_reference(store, req, &columns, &mut report.reference_read).await?;
    if req.kind.is_freed() && req.kind != Kind::FreedServices {
        report.reference_read.freed_referrals = freed::load_named(
            store,
            &mut reference.freed,
            req.only_trust,
            &content,
            &columns,
            &compiled,
        )
        .await?;
    }
    // Rows are checked here while a second task writes the batches already checked: on two
    // cores the import takes as long as the slower of the two, not their sum. If any row
    // fails, nothing more is sent and the transaction is rolled back at the end.
    let meta = UploadMeta {
        kind: req.kind.as_str().into(),
        // The history shows the file's own name, never the folder it was read from on the
        // server or the uploader's machine (a temporary folder, a user's home directory).
        file_name: store::read::base_name(req.file_name).into(),
        sha256: hex_digest(req.bytes),
        uploaded_by: req.uploaded_by.into(),
        trust_code: req.only_trust.map(str::to_string),
        mapping: req.mapping.map(|m| m.name.clone()),
    };
    let import = store.begin_import(&meta).await?;
    let written = Arc::new(AtomicU64::new(0));
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<Batch>>(4);
    let writer = {
        let written = written.clone();
        tokio::spawn(async move {
            let mut import = import;
            while let Some(batches) = receiver.recv().await {
                for b in batches {
                    let n = if b.tracked { b.rows() as u64 } else { 0 };
                    import.write(b).await?;
                    written.fetch_add(n, Ordering::Relaxed);
                }
            }
            Ok::<store::Import, IngestError>(import)
        })
    };
    // Reference data is small and ordered (parents before children): one batch at the end.
    let batch_size = if req.kind.is_event() || req.kind == Kind::Patients {
        WRITE_CHUNK
    } else {
        usize::MAX
    };
    // Sized for the whole file up front (rows estimated from its size at ~100 bytes a row):
    // growing a million-entry map step by step costs a tenth of a large import.
    let mut seen: FxHashMap<String, usize> = FxHashMap::default();
    seen.reserve(((size / 100) as usize).min(20_000_000));
    let mut batch: Vec<Record> = Vec::with_capacity(batch_size.min(WRITE_CHUNK));
    let mut counts: Vec<(String, u64)> = Vec::new();
    let mut sending = true;
    let mut errors = 0u64;
    // Organisations with the line and column of their parent code, for the parent check.
    let mut org_records: Vec<(usize, usize, Record)> = Vec::new();
    // FREED referrals and their events, each checked whole once the file is read.
    let freed_columns = freed::columns_of_interest(req.kind);
    let mut freed_rows: Vec<freed::FileRow> = Vec::new();
    let mut across = parse::AcrossRows::default();
    loop {
        match rows.next_row(&mut fields) {
            Ok(true) => {}
            Ok(false) => break,
            Err(p) => {
                fail(&mut report, p.line, p.column, p.message);
                errors += 1;
                break;
            }
        }
        report.rows_read += 1;
        if report.rows_read.is_multiple_of(20_000) {
            progress(Phase::Checking, rows.position() as u64, size);
        }
        let line = fields[0].line;
        if fields.len() != width {
            errors += 1;
            if report.errors.len() < KEEP_ERRORS {
                let col = fields.last().map_or(1, |f| f.column(text));
                let hint = if fields.len() < width {
                    "; is the line cut short?"
                } else {
                    "; is a value with a comma missing its quotes?"
                };
                fail(
                    &mut report,
                    line,
                    col,
                    format!(
                        "the row has {} fields but the header has {width}{hint}",
                        fields.len()
                    ),
                );
            }
            continue;
        }
        on_first_sight
            .see(
                store,
                &mut reference,
                &mut report.reference_read,
                &fields,
                &compiled,
                keys,
            )
            .await?;
        let mut reader = RowReader {
            fields: &fields,
            columns: &columns,
            text,
            mapping: &compiled,
            line,
            errors: Vec::new(),
        };
        let parsed = parse::parse_row(req.kind, &mut reader, &reference, keys);
        if let Some((_, record)) = &parsed
            && reader.errors.is_empty()
        {
            across.check(&mut reader, record);
        }
        if !reader.errors.is_empty() || parsed.is_none() {
            errors += reader.errors.len().max(1) as u64;
            for e in reader.errors {
                if report.errors.len() < KEEP_ERRORS {
                    report.errors.push(e);
                }
            }
            continue;
        }
        let Some((key, record)) = parsed else {
            continue;
        };
        if let Some(first) = seen.get(&key) {
            errors += 1;
            if report.errors.len() < KEEP_ERRORS {
                let (column, message) =
                    duplicate(req.kind, &record, &fields, &columns, text, line, *first);
                fail(&mut report, line, column, message);
            }
            continue;
        }
        seen.insert(key, line);
        count_by_trust(&mut counts, &record);
        if let Record::Freed(f) = &record
            && !freed_columns.is_empty()
        {
            freed_rows.push(freed::FileRow {
                line,
                at: freed_columns
                    .iter()
                    .map(|c| {
                        let n = columns
                            .get(c)
                            .and_then(|i| fields.get(*i))
                            .map_or(1, |f| f.column(text));
                        (*c, n)
                    })
                    .collect(),
                record: f.clone(),
            });
        }
        if errors > 0 {
            sending = false;
        }
        if !sending {
            continue;
        }
        if req.kind == Kind::Organisations {
            let column = columns
                .get("ParentOrgCode")
                .and_then(|i| fields.get(*i))
                .map_or(1, |f| f.column(text));
            org_records.push((line, column, record.clone()));
        }
        batch.push(record);
        // The parser turns records into rows ready to bind, so that the writer only writes.
        if batch.len() >= batch_size && sender.send(to_batches(&mut batch)).await.is_err() {
            sending = false;
        }
    }
    progress(Phase::Checking, size, size);
    if report.rows_read == 0 && report.errors.is_empty() {
        fail(
            &mut report,
            1,
            1,
            "the file has a header but no data rows; expected one record per row".into(),
        );
    }
    if req.kind == Kind::Organisations {
        check_parents(&org_records, &reference, &mut report);
    }
    let mut freed_updates = Vec::new();
    if !freed_rows.is_empty() && errors == 0 {
        let (problems, merged) =
            freed::check_file(&freed_rows, &reference, &compiled, &mut report.errors);
        errors += problems;
        freed_updates = merged;
    }
    report.more_errors = errors.saturating_sub(report.errors.len() as u64);
    let ok = report.errors.is_empty();
    if ok && !batch.is_empty() {
        let _ = sender.send(to_batches(&mut batch)).await;
    }
    if ok && !freed_updates.is_empty() {
        let _ = sender
            .send(vec![freed::referral_updates(&freed_updates)])
            .await;
    }
    drop(sender);
    let total = seen.len() as u64;
    let import = wait_for_writer(writer, &written, total, ok, progress).await?;
    if !ok {
        import.rollback().await?;
        report.errors.sort_by_key(|e| (e.line, e.column));
        return Ok(report);
    }
    counts.sort();
    report.by_trust = counts;
    let trust_code =
        req.only_trust
            .map(str::to_string)
            .or_else(|| match report.by_trust.as_slice() {
                [(t, _)] if t != "all" => Some(t.clone()),
                _ => None,
            });
    report.summary = Some(if req.dry_run {
        import.rollback().await?
    } else {
        import.commit(trust_code).await?
    });
    Ok(report)
}

/// Wait for the writer task, reporting its progress.
async fn wait_for_writer(
    mut writer: tokio::task::JoinHandle<Result<store::Import, IngestError>>,
    written: &AtomicU64,
    total: u64,
    report_progress: bool,
    progress: &mut (dyn FnMut(Phase, u64, u64) + Send),
) -> Result<store::Import, IngestError> {
    loop {
        tokio::select! {
            joined = &mut writer => {
                let import = joined.map_err(|e| IngestError::Store(store::StoreError::Task(e.to_string())))??;
                if report_progress {
                    progress(Phase::Writing, total, total);
                }
                return Ok(import);
            }
            _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {
                if report_progress {
                    progress(Phase::Writing, written.load(Ordering::Relaxed), total);
                }
            }
        }
    }
}

fn trust_of(r: &Record) -> &str {
    match r {
        Record::Ward { trust, .. } => trust,
        Record::Stay(t, _)
        | Record::Intervention(t, _)
        | Record::Incident(t, _)
        | Record::Leave(t, _)
        | Record::Awol(t, _)
        | Record::Survey(t, _) => t,
        Record::Freed(f) => f.trust(),
        Record::Acute(x) => &x.trust,
        Record::Staff(x) => &x.trust,
        _ => "all",
    }
}

/// Count a record against its trust. A file holds a handful of trusts, so a short list
/// searched in place beats a map, and the name is copied once per trust, not once per row.
fn count_by_trust(counts: &mut Vec<(String, u64)>, record: &Record) {
    let trust = trust_of(record);
    match counts.iter_mut().find(|(t, _)| t == trust) {
        Some((_, n)) => *n += 1,
        None => counts.push((trust.to_string(), 1)),
    }
}

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Map the header through the mapping to canonical names; report missing, doubled and
/// unused columns.
fn header_columns(
    kind: Kind,
    fields: &[csvscan::Field],
    text: &str,
    mapping: &Compiled,
    report: &mut Report,
) -> Option<Columns> {
    let specs = kind.columns();
    let mut columns = Columns::default();
    let mut unused = Vec::new();
    let mut unused_total = 0usize;
    for (i, f) in fields.iter().enumerate() {
        let name = mapping.column(&f.text);
        match specs.iter().find(|s| s.name.eq_ignore_ascii_case(name)) {
            Some(spec) => {
                if columns.insert(spec.name, i).is_some() {
                    report.errors.push(RowError {
                        line: f.line,
                        column: f.column(text),
                        message: format!(
                            "column {} appears twice; expected each column once",
                            spec.name
                        ),
                        ..Default::default()
                    });
                }
            }
            None if kind == Kind::StaffHarm && staff::person_column(name).is_some() => {
                report.errors.push(RowError {
                    line: f.line,
                    column: f.column(text),
                    message: staff::person_column(name).unwrap_or_default(),
                    ..Default::default()
                });
            }
            None => {
                unused_total += 1;
                if unused.len() < UNUSED_LISTED {
                    unused.push(f.text.trim().chars().take(60).collect::<String>());
                }
            }
        }
    }
    let missing: Vec<&str> = specs
        .iter()
        .filter(|s| s.required && !columns.contains_key(s.name))
        .map(|s| s.name)
        .collect();
    if !missing.is_empty() {
        let hint = if fields.len() == 1 && fields[0].text.contains(['|', ',', ';', '\t']) {
            " (the header is one column: are the columns separated by something other than commas, semicolons or tabs?)"
        } else if mapping.is_empty() {
            " (if this is your system's own export, choose a saved column mapping)"
        } else {
            ""
        };
        report.errors.push(RowError {
            line: fields.first().map_or(1, |f| f.line),
            column: 1,
            message: format!(
                "missing column{} {}; expected the {} columns of docs/formats.md{hint}",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", "),
                kind.as_str()
            ),
            ..Default::default()
        });
    }
    if kind == Kind::BedDays {
        let daily = ["CensusDate", "OccupiedBeds"]
            .iter()
            .all(|c| columns.contains_key(c));
        let monthly = ["Month", "OccupiedBedDays"]
            .iter()
            .all(|c| columns.contains_key(c));
        if daily == monthly {
            report.errors.push(RowError {
                line: 1,
                column: 1,
                message: "bed days need either CensusDate and OccupiedBeds (a daily census) or Month and OccupiedBedDays (monthly totals), not both or neither".into(),
                ..Default::default()
            });
        }
    }
    if !report.errors.is_empty() {
        return None;
    }
    if !unused.is_empty() {
        let more = unused_total - unused.len();
        report.warnings.push(format!(
            "not used: column{} {}{}",
            if unused_total > 1 { "s" } else { "" },
            unused.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    Some(columns)
}

/// Reference data for checking: organisations and wards whole; what is checked per row
/// (stays, years of birth) is read as the file names it (`OnFirstSight`), unless the file is
/// large enough that reading every patient's year of birth at once is cheaper.
async fn load_reference(
    store: &Store,
    req: &Request<'_>,
    columns: &Columns,
    read: &mut ReferenceRead,
) -> Result<(Reference, OnFirstSight), IngestError> {
    let mut r = Reference {
        only_trust: req.only_trust.map(str::to_string),
        ..Reference::default()
    };
    for o in store.organisations().await? {
        let level = domain::OrgLevel::parse(&o.level).unwrap_or(domain::OrgLevel::Trust);
        r.orgs.insert(o.code, (level, o.parent_code));
    }
    for w in store.wards().await? {
        match domain::WardCode::parse(&w.code) {
            Ok(code) => {
                r.wards.insert(w.code, (code, w.trust_code.into()));
            }
            Err(_) => continue,
        }
    }
    if req.kind.is_freed() {
        r.freed.set_services(store.freed_services().await?);
    }
    let births = req.kind.is_event()
        && !req.kind.is_freed()
        && !matches!(req.kind, Kind::BedDays | Kind::Survey | Kind::StaffHarm);
    let mut lazy = OnFirstSight {
        ward: columns
            .get("WardCode")
            .copied()
            .filter(|_| req.kind == Kind::RestrictiveInterventions),
        nhs: None,
        trusts: Vec::new(),
        patients: Default::default(),
        places: columns.get("WardCode").copied().filter(|_| {
            req.kind == Kind::Incidents
                && (columns.contains_key("LigatureAreaCode")
                    || columns.contains_key("LigaturePointRef"))
        }),
        place_cols: [
            columns.get("LigatureAreaCode").copied(),
            columns.get("LigaturePointRef").copied(),
        ],
    };
    if births {
        if req.bytes.len() <= LOOK_UP_PATIENTS_BELOW_BYTES {
            lazy.nhs = columns.get("NHSNumber").copied();
        } else {
            load_all_birth_years(store, &mut r, read).await?;
        }
    }
    Ok((r, lazy))
}

/// Files up to this size (about 4,000 rows) ask for their own patients' years of birth one
/// at a time; larger ones read them all at once.
const LOOK_UP_PATIENTS_BELOW_BYTES: usize = 400_000;
/// Patients asked for one at a time before reading them all is cheaper (a small file with
/// many patients, or an Excel file, whose rows are smaller than its bytes suggest).
const LOOK_UP_PATIENTS_AT_MOST: usize = 2_000;

async fn load_all_birth_years(
    store: &Store,
    r: &mut Reference,
    read: &mut ReferenceRead,
) -> Result<(), IngestError> {
    for (p, year) in store.birth_years().await? {
        if let Ok(y) = i32::try_from(year) {
            r.birth_years.insert(p, y);
        }
    }
    read.all_birth_years = true;
    Ok(())
}

/// Reads, on a row's first mention of them and before the row is checked, the stays of the
/// trust its ward belongs to (restrictive interventions are checked against the patient's
/// stays at that trust only) and, in a small file, the patient's year of birth. The check
/// then sees exactly what it would have seen had everything been loaded up front.
struct OnFirstSight {
    /// The ward column, when stays are checked.
    ward: Option<usize>,
    /// The NHS number column, when years of birth are looked up patient by patient.
    nhs: Option<usize>,
    /// Trusts whose stays are loaded.
    trusts: Vec<Arc<str>>,
    /// Patients whose year of birth was asked for.
    patients: rustc_hash::FxHashSet<Arc<str>>,
    /// The ward column of an incidents file that names ligature places (issue 13): a ward's
    /// register is read on its first row that names an area or a point.
    places: Option<usize>,
    /// The area and point columns.
    place_cols: [Option<usize>; 2],
}

impl OnFirstSight {
    async fn see(
        &mut self,
        store: &Store,
        reference: &mut Reference,
        read: &mut ReferenceRead,
        fields: &[csvscan::Field<'_>],
        mapping: &Compiled,
        keys: &mut Pseudonymiser,
    ) -> Result<(), IngestError> {
        // The cell as the checker reads it: trimmed, blank as absent, through the mapping.
        let cell = |i: Option<usize>, col: &str| {
            let t = fields.get(i?)?.text.trim();
            (!t.is_empty()).then(|| mapping.value(col, t))
        };
        if let Some(text) = cell(self.ward, "WardCode") {
            let held = match reference.wards.get(text.as_ref()) {
                Some((_, t)) => Some(t),
                None => domain::WardCode::parse(&text)
                    .ok()
                    .and_then(|c| reference.wards.get(c.as_str()).map(|(_, t)| t)),
            };
            // Cloned (and loaded) only on a trust's first row.
            let first = held
                .filter(|t| {
                    !self.trusts.contains(t)
                        && reference
                            .only_trust
                            .as_deref()
                            .is_none_or(|own| own == t.as_ref())
                })
                .cloned();
            if let Some(trust) = first {
                for s in store.stays_for_trust(&trust).await? {
                    reference.stays.entry(s.patient).or_default().push((
                        s.ward_code,
                        s.start_day,
                        s.end_day,
                    ));
                    read.stays += 1;
                }
                read.stay_trusts.push(trust.to_string());
                self.trusts.push(trust);
            }
        }
        let names_place = cell(self.place_cols[0], "LigatureAreaCode").is_some()
            || cell(self.place_cols[1], "LigaturePointRef").is_some();
        if names_place && let Some(text) = cell(self.places, "WardCode") {
            let held = match reference.wards.get(text.as_ref()) {
                Some((c, t)) => Some((c.as_str().to_string(), t.clone())),
                None => domain::WardCode::parse(&text).ok().and_then(|c| {
                    reference
                        .wards
                        .get(c.as_str())
                        .map(|(c, t)| (c.as_str().to_string(), t.clone()))
                }),
            };
            if let Some((ward, trust)) = held
                && !reference.ligature.contains_key(&ward)
                && reference
                    .only_trust
                    .as_deref()
                    .is_none_or(|own| own == trust.as_ref())
            {
                let places = crate::ligature::places(store, &ward)
                    .await
                    .map_err(|e| IngestError::Store(StoreError::Invalid(e)))?;
                reference.ligature.insert(ward, places);
            }
        }
        if let Some(text) = cell(self.nhs, "NHSNumber")
            && let Ok(n) = domain::NhsNumber::parse(&text)
        {
            let p = keys.pseudonym(&n).0;
            if !self.patients.contains(&p) {
                if self.patients.len() >= LOOK_UP_PATIENTS_AT_MOST {
                    self.nhs = None;
                    reference.birth_years.clear();
                    return load_all_birth_years(store, reference, read).await;
                }
                if let Some(year) = store.birth_year(&p).await?
                    && let Ok(y) = i32::try_from(year)
                {
                    reference.birth_years.insert(p.to_string(), y);
                }
                read.patients_looked_up += 1;
                self.patients.insert(p);
            }
        }
        Ok(())
    }
}

/// Every parent must exist, in the database or anywhere in the same file; an unknown one is
/// reported on the line (and in the ParentOrgCode column) of the organisation that names it.
fn check_parents(records: &[(usize, usize, Record)], reference: &Reference, report: &mut Report) {
    let in_file: std::collections::HashSet<&str> = records
        .iter()
        .filter_map(|(_, _, r)| {
            if let Record::Organisation(o, _) = r {
                Some(o.code.as_str())
            } else {
                None
            }
        })
        .collect();
    for (line, column, r) in records {
        if let Record::Organisation(o, _) = r
            && let Some(p) = &o.parent
            && !in_file.contains(p.as_str())
            && !reference.orgs.contains_key(p.as_str())
        {
            report.errors.push(RowError {
                line: *line,
                column: *column,
                message: format!(
                    "ParentOrgCode: {} names parent {p}, which is neither in this file nor already uploaded; expected an organisation uploaded before or in the same file",
                    o.code
                ),
                ..Default::default()
            });
        }
    }
}

/// A record whose identifier is already on an earlier line: both lines named, and the
/// identifier shown as the file writes it (never a pseudonym, which nobody can look up).
fn duplicate(
    kind: Kind,
    record: &Record,
    fields: &[csvscan::Field],
    columns: &Columns,
    text: &str,
    line: usize,
    first: usize,
) -> (usize, String) {
    let (col, what) = match record {
        Record::Organisation(o, _) => ("OrgCode", format!("organisation {}", o.code)),
        Record::Ward { ward, .. } => (
            "WardCode",
            format!(
                "ward {} with beds from {}",
                ward.code,
                domain::dates::iso(ward.beds_from)
            ),
        ),
        Record::BedDays(b) => (
            if columns.contains_key("CensusDate") {
                "CensusDate"
            } else {
                "Month"
            },
            format!(
                "bed days of ward {} for {}",
                b.ward,
                domain::dates::iso(b.start)
            ),
        ),
        Record::Patient(_) => (
            "NHSNumber",
            "patient: the NHS number on this line".to_string(),
        ),
        Record::Stay(_, s) => ("WardStayId", format!("ward stay {}", s.local_id)),
        Record::Intervention(_, x) => (
            "RestrictiveIntIncID",
            format!(
                "intervention {} of incident {}",
                x.intervention_id, x.incident_id
            ),
        ),
        Record::Incident(_, x) => ("IncidentID", format!("incident {}", x.local_id)),
        Record::Leave(_, x) => ("LeaveID", format!("leave {}", x.local_id)),
        Record::Awol(_, x) => ("AWOLID", format!("AWOL episode {}", x.local_id)),
        Record::Survey(_, x) => ("ResponseID", format!("survey response {}", x.response_id)),
        Record::Freed(f) => f.duplicate(),
        Record::Acute(x) => acute::duplicate(x),
        Record::Staff(x) => staff::duplicate(x),
    };
    let column = columns
        .get(col)
        .and_then(|i| fields.get(*i))
        .map_or(1, |f| f.column(text));
    let message = if kind == Kind::Patients {
        format!(
            "duplicate {what} is also on line {first}; expected each patient once per file (keep one of lines {first} and {line})"
        )
    } else {
        format!(
            "duplicate record: {what} is also on line {first}; expected each record once per file (keep one of lines {first} and {line})"
        )
    };
    (column, message)
}

/// The records checked so far as rows for the store, grouped by table and trust (reference
/// data first). `records` is left empty but keeps its memory: reusing it spares a large import
/// a fresh (page-faulting) allocation per batch.
fn to_batches(records: &mut Vec<Record>) -> Vec<Batch> {
    let mut orgs = Vec::new();
    let mut wards = Vec::new();
    let mut beds = Vec::new();
    let mut patients = Vec::new();
    let mut by_trust: HashMap<Arc<str>, Grouped> = HashMap::new();
    let mut freed_records = Vec::new();
    let mut acute_records = Vec::new();
    let mut org_types = Vec::new();
    let mut staff_records = Vec::new();
    for r in records.drain(..) {
        match r {
            Record::Organisation(o, kind) => {
                if let Some(k) = kind {
                    org_types.push((o.code.to_string(), k.code()));
                }
                orgs.push(o)
            }
            Record::Ward {
                ward,
                trust,
                icb,
                region,
            } => wards.push((ward, trust, icb, region)),
            Record::BedDays(b) => beds.push(b),
            Record::Patient(p) => patients.push(p),
            Record::Stay(t, s) => by_trust.entry(t).or_default().stays.push(s),
            Record::Intervention(t, x) => by_trust.entry(t).or_default().interventions.push(x),
            Record::Incident(t, x) => by_trust.entry(t).or_default().incidents.push(x),
            Record::Leave(t, x) => by_trust.entry(t).or_default().leave.push(x),
            Record::Awol(t, x) => by_trust.entry(t).or_default().awol.push(x),
            Record::Survey(t, x) => by_trust.entry(t).or_default().survey.push(x),
            Record::Freed(f) => freed_records.push(f),
            Record::Acute(x) => acute_records.push(x),
            Record::Staff(x) => staff_records.push(x),
        }
    }
    let mut out = vec![
        Batch::organisations(orgs),
        Batch::organisation_types(org_types),
    ];
    out.extend(Batch::wards(wards));
    out.push(Batch::bed_days(beds));
    out.push(Batch::patients(patients));
    let mut trusts: Vec<(Arc<str>, Grouped)> = by_trust.into_iter().collect();
    trusts.sort_by(|a, b| a.0.cmp(&b.0));
    for (t, g) in trusts {
        out.push(Batch::ward_stays(&t, g.stays));
        out.push(Batch::interventions(&t, g.interventions));
        out.push(Batch::incidents(&t, g.incidents));
        out.push(Batch::leave_periods(&t, g.leave));
        out.push(Batch::awol_episodes(&t, g.awol));
        out.push(Batch::survey_answers(&t, g.survey));
    }
    if !freed_records.is_empty() {
        out.extend(freed::batches(freed_records));
    }
    out.push(acute::batch(acute_records));
    out.push(staff::batch(staff_records));
    out.retain(|b| !b.vals.is_empty());
    out
}

#[derive(Default)]
struct Grouped {
    stays: Vec<domain::records::WardStay>,
    interventions: Vec<domain::records::Intervention>,
    incidents: Vec<domain::records::Incident>,
    leave: Vec<domain::records::LeavePeriod>,
    awol: Vec<domain::records::AwolEpisode>,
    survey: Vec<domain::records::SurveyAnswer>,
}
