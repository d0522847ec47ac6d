//! FREED uploads (issue 14): eating-disorder services, referrals, contacts, pauses and
//! discharges. Each row is read into `pathway`'s types; every rule about a referral as a whole
//! (a treatment before the referral, an onset after it, discharges out of order...) is
//! `pathway::Referral::problems`, run on the referral as it will be held once the file is
//! imported: what is already held, with this file's rows added or replacing theirs. Each
//! problem is reported on the row (and in the column) that brings it, so nothing is written
//! unless every referral the file touches is valid.
//!
//! The codes stored (migration 0009) are written and read here too, so rows in the store and
//! `pathway` referrals are turned into each other in one place ([`held_referrals`]).

use crate::formats::{ColumnSpec, Kind};
use crate::mapping::Compiled;
use crate::parse::{Clock, Record, Reference, RowError, RowReader};
use crate::pseudonym::Pseudonymiser;
use domain::codes::{EthnicCategory, Sex};
use domain::dates::{date_from_day, day_number, minute_number, parse_date};
use pathway::{
    Attendance, Contact, ContactKind, DiagnosisGroup, Discharge, DischargeReason, FirstEpisode,
    Onset, OnsetPrecision, PathwayError, Pause, PauseReason, Priority, Referral, ReferralSource,
};
use std::collections::HashMap;
use std::sync::Arc;
use store::Batch;
use store::freed::{ContactRow, DischargeRow, FreedRows, PauseRow, ReferralRow, ServiceRow};
use time::{Month, PrimitiveDateTime, Time};

const fn col(
    name: &'static str,
    required: bool,
    description: &'static str,
    example: &'static str,
) -> ColumnSpec {
    ColumnSpec {
        name,
        required,
        description,
        example,
    }
}

pub(crate) const SERVICE_COLUMNS: &[ColumnSpec] = &[
    col(
        "ServiceCode",
        true,
        "The eating-disorder service's code, unique across the programme (letters, digits, - or _; up to 32)",
        "R8A-FREED",
    ),
    col(
        "ServiceName",
        true,
        "Name of the service",
        "Example FREED Service",
    ),
    col(
        "OrgCode",
        true,
        "ODS code of the trust that runs the service",
        "R8A",
    ),
    col(
        "WardCode",
        false,
        "A ward of the same trust whose ward users work in the service and so see its patients (blank: the trust's leads only)",
        "R8A-ASH",
    ),
];

pub(crate) const REFERRAL_COLUMNS: &[ColumnSpec] = &[
    col("ServiceCode", true, "The service referred to", "R8A-FREED"),
    col(
        "ServiceRequestId",
        true,
        "The service's own reference for the referral (shown on its waiting list)",
        "FR-2024-0012",
    ),
    col(
        "NHSNumber",
        false,
        "NHS number (pseudonymised on the way in, never stored); needed for a new referral, may be blank to correct one already held",
        "9990000018",
    ),
    col(
        "ReferralRequestReceivedDate",
        true,
        "Date (or date and time) the referral was received",
        "2024-03-01",
    ),
    col(
        "ReferralRequestReceivedTime",
        false,
        "Time it was received (needed unless the date holds it: the 48-hour clock counts minutes)",
        "23:59",
    ),
    col(
        "SourceOfReferral",
        true,
        "gp, self_referral, family_or_carer, education, other_health_service, other or not_known",
        "self_referral",
    ),
    col(
        "AgeServReferRecDate",
        false,
        "Age in whole years on the day the referral was received (blank: not known)",
        "19",
    ),
    col(
        "FirstEpisode",
        true,
        "First episode of an eating disorder: Y, N or U (not known)",
        "Y",
    ),
    col(
        "OnsetDate",
        false,
        "Illness onset as a day (2023-11-14), a month (2023-11 or 11/2023) or a year (2023); the precision is kept (blank: unknown)",
        "2023-11",
    ),
    col(
        "EDDiagnosisGroup",
        true,
        "AN, BN, BED, OSFED, ARFID, OTHER or NYK (not yet known)",
        "AN",
    ),
    col("ClinRespPriorityType", true, "urgent or routine", "routine"),
    col(
        "EthnicCategory",
        false,
        "NHS ethnic category A-S, Z not stated, 99 not known",
        "A",
    ),
    col(
        "Gender",
        false,
        "Person stated gender: 1 male, 2 female, 9 indeterminate, X not known (M/F accepted)",
        "2",
    ),
    col(
        "IMDDecile",
        false,
        "Index of Multiple Deprivation decile of the patient's area, 1 (most deprived) to 10",
        "3",
    ),
];

pub(crate) const CONTACT_COLUMNS: &[ColumnSpec] = &[
    col("ServiceCode", true, "The service", "R8A-FREED"),
    col(
        "ServiceRequestId",
        true,
        "The referral (already uploaded)",
        "FR-2024-0012",
    ),
    col(
        "CareContactId",
        true,
        "The service's identifier of the contact",
        "C-88",
    ),
    col(
        "FREEDContactType",
        true,
        "engagement_call, assessment or first_treatment",
        "engagement_call",
    ),
    col(
        "CareContDate",
        true,
        "Date (or date and time) of the contact",
        "2024-03-03",
    ),
    col(
        "CareContTime",
        false,
        "Time of the contact (needed unless the date holds it)",
        "10:30",
    ),
    col(
        "AttendOrDNACode",
        true,
        "MHSDS attended or did not attend: 5 or 6 attended; 3 or 7 did not attend; 2 cancelled by the patient; 4 by the provider",
        "5",
    ),
];

pub(crate) const PAUSE_COLUMNS: &[ColumnSpec] = &[
    col("ServiceCode", true, "The service", "R8A-FREED"),
    col(
        "ServiceRequestId",
        true,
        "The referral (already uploaded)",
        "FR-2024-0012",
    ),
    col(
        "PauseStartDate",
        true,
        "Date (or date and time) the pause started",
        "2024-03-05",
    ),
    col(
        "PauseStartTime",
        false,
        "Time it started (needed unless the date holds it)",
        "09:00",
    ),
    col(
        "PauseEndDate",
        false,
        "Date (or date and time) it ended (blank: still paused)",
        "2024-03-10",
    ),
    col(
        "PauseEndTime",
        false,
        "Time it ended (needed when the end date is given, unless the date holds it)",
        "09:00",
    ),
    col(
        "PauseReason",
        true,
        "patient_choice (asked to delay after being offered a date) or medically_unfit",
        "patient_choice",
    ),
];

pub(crate) const DISCHARGE_COLUMNS: &[ColumnSpec] = &[
    col("ServiceCode", true, "The service", "R8A-FREED"),
    col(
        "ServiceRequestId",
        true,
        "The referral (already uploaded)",
        "FR-2024-0012",
    ),
    col(
        "ServDischDate",
        true,
        "Date (or date and time) the referral was closed",
        "2024-04-20",
    ),
    col(
        "ServDischTime",
        false,
        "Time it was closed (needed unless the date holds it)",
        "16:00",
    ),
    col(
        "ReferClosReason",
        true,
        "treatment_completed, patient_declined, did_not_engage, transferred, not_suitable, moved_away, died or other",
        "did_not_engage",
    ),
    col(
        "ReopenedDate",
        false,
        "Date (or date and time) the referral was reopened, if it was",
        "2024-05-02",
    ),
    col(
        "ReopenedTime",
        false,
        "Time it was reopened (needed when the date is given, unless the date holds it)",
        "11:00",
    ),
];

pub(crate) fn note(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::FreedServices => Some(
            "A service is a team of one trust, not an organisation: it has no ODS code of its own, so it has its own file rather than a row of the organisations file. Its trust must be uploaded first (a trust, not a site). A service already held for one trust cannot be moved to another (give it a new code). Who sees a service's patients follows from its trust (the trust's leads) and its `WardCode` (that ward's users); see docs/freed.md.",
        ),
        Kind::FreedReferrals => Some(
            "Upload services first. Each row is a referral as `crates/pathway` checks it (docs/freed.md): an onset after the referral (for a month or a year: one that starts after it) and an age over 120 are refused, as is a referral whose contacts, pauses or discharges already held would no longer fit it. Re-uploading a referral (same service and `ServiceRequestId`) corrects it and keeps its contacts, pauses and discharges; a blank `NHSNumber` then keeps its patient.",
        ),
        Kind::FreedContacts => Some(
            "Upload referrals first; the referral must be held (`ServiceRequestId` of the same service). Every contact is checked with the referral's other contacts, pauses and discharges, held or in the file: a contact before the referral was received (so a treatment before the referral) and an attended contact while the referral was closed are refused. Only an attended contact (5 or 6) stops a clock.",
        ),
        Kind::FreedPauses => Some(
            "A pause (the patient asked to delay, or was medically unfit) pauses the FREED assessment and treatment clocks, never the 48-hour engagement clock or the children's clock. A pause is identified by its referral and start; one that starts before the referral or ends before it starts is refused.",
        ),
        Kind::FreedDischarges => Some(
            "A discharge is identified by its referral and time; re-upload it with `ReopenedDate` when the referral is reopened. Discharges must be in order: none before the referral or the last reopening, a reopening after its discharge, and no discharge after one that was never reopened.",
        ),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Codes as stored and as uploaded.

macro_rules! stored_codes {
    ($ty:ty, $to:ident, $from:ident { $($variant:path => $code:literal $(| $alias:literal)*,)+ }) => {
        /// The code stored for a value.
        pub fn $to(v: $ty) -> &'static str {
            match v { $($variant => $code,)+ }
        }

        /// A stored (or uploaded) code back to its value: case, spaces and hyphens ignored.
        pub fn $from(s: &str) -> Option<$ty> {
            // A cell holding a code as written (every stored one, most uploaded ones) is
            // read without making a copy of it.
            match s.trim() {
                $($code $(| $alias)* => return Some($variant),)+
                _ => {}
            }
            let t = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
            match t.as_str() {
                $($code $(| $alias)* => Some($variant),)+
                _ => None,
            }
        }
    };
}

stored_codes!(ReferralSource, source_code, source_from {
    ReferralSource::Gp => "gp" | "general_practitioner",
    ReferralSource::SelfReferral => "self_referral" | "self",
    ReferralSource::FamilyOrCarer => "family_or_carer" | "family" | "carer",
    ReferralSource::Education => "education" | "school" | "university",
    ReferralSource::OtherHealthService => "other_health_service",
    ReferralSource::Other => "other",
    ReferralSource::NotKnown => "not_known",
});

stored_codes!(FirstEpisode, first_episode_code, first_episode_from {
    FirstEpisode::Yes => "yes" | "y" | "true",
    FirstEpisode::No => "no" | "n" | "false",
    FirstEpisode::NotKnown => "not_known" | "u" | "unknown",
});

stored_codes!(OnsetPrecision, precision_code, precision_from {
    OnsetPrecision::Day => "day",
    OnsetPrecision::Month => "month",
    OnsetPrecision::Year => "year",
    OnsetPrecision::Unknown => "unknown",
});

stored_codes!(Priority, priority_code, priority_from {
    Priority::Urgent => "urgent",
    Priority::Routine => "routine",
});

stored_codes!(ContactKind, contact_kind_code, contact_kind_from {
    ContactKind::EngagementCall => "engagement_call" | "engagement",
    ContactKind::Assessment => "assessment",
    ContactKind::FirstTreatment => "first_treatment" | "treatment",
});

stored_codes!(PauseReason, pause_reason_code, pause_reason_from {
    PauseReason::PatientChoice => "patient_choice",
    PauseReason::MedicallyUnfit => "medically_unfit",
});

stored_codes!(DischargeReason, discharge_reason_code, discharge_reason_from {
    DischargeReason::TreatmentCompleted => "treatment_completed",
    DischargeReason::PatientDeclined => "patient_declined" | "declined",
    DischargeReason::DidNotEngage => "did_not_engage",
    DischargeReason::TransferredToAnotherService => "transferred" | "transferred_to_another_service",
    DischargeReason::NotSuitable => "not_suitable",
    DischargeReason::MovedAway => "moved_away",
    DischargeReason::Died => "died",
    DischargeReason::Other => "other",
});

/// A pathway error as a cell's message: what was expected and what was found, its times as
/// the files write them (`2024-03-04 09:15`, not `2024-03-04 9:15:00.0`).
fn says(e: &PathwayError) -> String {
    tidy_times(&format!("expected {}, found {}", e.expected, e.found))
}

/// Rewrites each `YYYY-MM-DD H:MM:SS.f` (how `time` displays a date-time) as `YYYY-MM-DD HH:MM`.
fn tidy_times(s: &str) -> String {
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| {
        b.get(from..from + n)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        // A date, a space, an hour of one or two digits, then :MM:SS and a fraction.
        if digits(i, 4)
            && b.get(i + 4) == Some(&b'-')
            && digits(i + 5, 2)
            && b.get(i + 7) == Some(&b'-')
            && digits(i + 8, 2)
            && b.get(i + 10) == Some(&b' ')
        {
            let h = i + 11;
            let hour_len = if digits(h, 2) {
                2
            } else if digits(h, 1) {
                1
            } else {
                0
            };
            let m = h + hour_len;
            if hour_len > 0
                && b.get(m) == Some(&b':')
                && digits(m + 1, 2)
                && b.get(m + 3) == Some(&b':')
                && digits(m + 4, 2)
            {
                let mut end = m + 6;
                if b.get(end) == Some(&b'.') {
                    end += 1;
                    while b.get(end).is_some_and(u8::is_ascii_digit) {
                        end += 1;
                    }
                }
                out.push_str(&s[i..i + 11]);
                if hour_len == 1 {
                    out.push('0');
                }
                out.push_str(&s[h..m + 3]);
                i = end;
                continue;
            }
        }
        // Copy one character (not one byte: the text may hold any character).
        let ch = s[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8().max(1);
    }
    out
}

/// An onset as the files write it, with its precision.
fn show_onset(o: Onset) -> String {
    match o {
        Onset::Day(d) => format!("{} (a day)", domain::dates::iso(d)),
        Onset::Month { year, month } => format!("{year:04}-{:02} (a month)", u8::from(month)),
        Onset::Year(y) => format!("{y:04} (a year)"),
        Onset::Unknown => "unknown".into(),
    }
}

fn from_minutes(m: i64) -> Option<PrimitiveDateTime> {
    PrimitiveDateTime::new(date_from_day(0), Time::MIDNIGHT).checked_add(time::Duration::minutes(m))
}

fn show(t: PrimitiveDateTime) -> String {
    domain::dates::iso_datetime(t)
}

/// An onset as uploaded: a day, a month (`2023-11`, `11/2023`) or a year (`2023`), blank or
/// `unknown` for unknown.
pub fn parse_onset(s: &str) -> Result<Onset, String> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("unknown") || t.eq_ignore_ascii_case("not known") {
        return Ok(Onset::Unknown);
    }
    let bad = || {
        format!(
            "'{}' is not an onset; expected a day (2023-11-14 or 14/11/2023), a month (2023-11 or 11/2023) or a year (2023)",
            t.chars().take(40).collect::<String>()
        )
    };
    let year = |y: &str| -> Result<i32, String> {
        match y.parse::<i32>() {
            Ok(v) if y.len() == 4 && (1900..=2100).contains(&v) => Ok(v),
            _ => Err(bad()),
        }
    };
    let month = |m: &str| -> Result<Month, String> {
        m.parse::<u8>()
            .ok()
            .filter(|_| (1..=2).contains(&m.len()))
            .and_then(|n| Month::try_from(n).ok())
            .ok_or_else(bad)
    };
    if t.len() == 4 {
        return year(t).map(Onset::Year);
    }
    if let Some((y, m)) = t.split_once('-')
        && y.len() == 4
        && !m.contains('-')
    {
        return Ok(Onset::Month {
            year: year(y)?,
            month: month(m)?,
        });
    }
    if let Some((m, y)) = t.split_once('/')
        && !y.contains('/')
    {
        return Ok(Onset::Month {
            year: year(y)?,
            month: month(m)?,
        });
    }
    match parse_date(t) {
        Ok(d) if (1900..=2100).contains(&d.year()) => Ok(Onset::Day(d)),
        _ => Err(bad()),
    }
}

fn service_code(s: &str) -> Result<String, String> {
    let t = s.trim().to_ascii_uppercase();
    if t.is_empty()
        || t.len() > 32
        || !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "'{}' is not a service code; expected up to 32 letters, digits, - or _",
            s.trim().chars().take(40).collect::<String>()
        ));
    }
    Ok(t)
}

// ---------------------------------------------------------------------------------------------
// What is held: services and, for the services a file names, their referrals as `pathway`
// sees them.

/// A referral as held, with what `pathway` does not hold.
#[derive(Clone, Debug, PartialEq)]
pub struct HeldReferral {
    pub patient: Arc<str>,
    pub referral: Referral,
    /// The identifier of each of `referral.contacts`, in the same order.
    pub contact_ids: Vec<String>,
    pub ethnic_category: Option<EthnicCategory>,
    pub sex: Option<Sex>,
    pub imd_decile: Option<u8>,
}

/// Rows from the store as `pathway` referrals, by referral reference. A row whose codes this
/// version does not know is an error naming it (never a silent drop).
pub fn held_referrals(rows: FreedRows) -> Result<Vec<HeldReferral>, String> {
    let mut out: Vec<HeldReferral> = Vec::with_capacity(rows.referrals.len());
    // Service -> referral -> position: looked up by the events' own strings, never copied.
    let mut index: HashMap<String, HashMap<String, usize>> = HashMap::new();
    let bad = |what: &str, r: &str, v: &str| {
        format!("stored FREED {what} '{v}' of referral {r} is not a known code")
    };
    for r in rows.referrals {
        let received = from_minutes(r.received_min)
            .ok_or_else(|| bad("time", &r.referral_id, &r.received_min.to_string()))?;
        let onset = match (precision_from(&r.onset_precision), r.onset_day) {
            (Some(OnsetPrecision::Unknown), _) | (_, None) => Onset::Unknown,
            (Some(p), Some(d)) => {
                let d = date_from_day(0)
                    .checked_add(time::Duration::days(d))
                    .ok_or_else(|| bad("onset day", &r.referral_id, &d.to_string()))?;
                match p {
                    OnsetPrecision::Day => Onset::Day(d),
                    OnsetPrecision::Month => Onset::Month {
                        year: d.year(),
                        month: d.month(),
                    },
                    _ => Onset::Year(d.year()),
                }
            }
            (None, _) => return Err(bad("onset precision", &r.referral_id, &r.onset_precision)),
        };
        let referral = Referral {
            id: r.referral_id.clone(),
            service: r.service_code.clone(),
            received,
            source: source_from(&r.source)
                .ok_or_else(|| bad("source", &r.referral_id, &r.source))?,
            age_at_referral: r.age.and_then(|a| u8::try_from(a).ok()),
            first_episode: first_episode_from(&r.first_episode)
                .ok_or_else(|| bad("first episode", &r.referral_id, &r.first_episode))?,
            onset,
            diagnosis: DiagnosisGroup::parse(&r.diagnosis)
                .map_err(|_| bad("diagnosis", &r.referral_id, &r.diagnosis))?,
            priority: priority_from(&r.priority)
                .ok_or_else(|| bad("priority", &r.referral_id, &r.priority))?,
            contacts: Vec::new(),
            pauses: Vec::new(),
            discharges: Vec::new(),
        };
        index
            .entry(r.service_code)
            .or_default()
            .insert(r.referral_id, out.len());
        out.push(HeldReferral {
            patient: Arc::from(r.patient),
            referral,
            contact_ids: Vec::new(),
            ethnic_category: r
                .ethnic_category
                .and_then(|c| EthnicCategory::parse(&c).ok()),
            sex: r.sex.and_then(|c| Sex::parse(&c).ok()),
            imd_decile: r.imd_decile.and_then(|d| u8::try_from(d).ok()),
        });
    }
    for c in rows.contacts {
        let Some(&i) = index
            .get(&c.service_code)
            .and_then(|m| m.get(&c.referral_id))
        else {
            continue;
        };
        let contact = Contact {
            kind: contact_kind_from(&c.kind)
                .ok_or_else(|| bad("contact type", &c.referral_id, &c.kind))?,
            at: from_minutes(c.at_min)
                .ok_or_else(|| bad("contact time", &c.referral_id, &c.at_min.to_string()))?,
            attendance: Attendance::from_mhsds_code(&c.attendance_code)
                .map_err(|_| bad("attendance", &c.referral_id, &c.attendance_code))?,
        };
        out[i].referral.contacts.push(contact);
        out[i].contact_ids.push(c.contact_id);
    }
    for p in rows.pauses {
        let Some(&i) = index
            .get(&p.service_code)
            .and_then(|m| m.get(&p.referral_id))
        else {
            continue;
        };
        let pause = Pause {
            start: from_minutes(p.start_min)
                .ok_or_else(|| bad("pause start", &p.referral_id, &p.start_min.to_string()))?,
            end: p.end_min.and_then(from_minutes),
            reason: pause_reason_from(&p.reason)
                .ok_or_else(|| bad("pause reason", &p.referral_id, &p.reason))?,
        };
        out[i].referral.pauses.push(pause);
    }
    for d in rows.discharges {
        let Some(&i) = index
            .get(&d.service_code)
            .and_then(|m| m.get(&d.referral_id))
        else {
            continue;
        };
        let discharge = Discharge {
            at: from_minutes(d.at_min)
                .ok_or_else(|| bad("discharge time", &d.referral_id, &d.at_min.to_string()))?,
            reason: discharge_reason_from(&d.reason)
                .ok_or_else(|| bad("discharge reason", &d.referral_id, &d.reason))?,
            reopened: d.reopened_min.and_then(from_minutes),
        };
        out[i].referral.discharges.push(discharge);
    }
    for h in &mut out {
        h.referral.discharges.sort_by_key(|d| d.at);
        h.referral.pauses.sort_by_key(|p| p.start);
    }
    Ok(out)
}

/// What a FREED upload is checked against.
#[derive(Clone, Debug, Default)]
pub struct Held {
    /// Service code -> its trust and ward.
    pub services: HashMap<String, (Arc<str>, Option<String>)>,
    /// Service -> referral reference -> the referral as held.
    pub referrals: rustc_hash::FxHashMap<String, rustc_hash::FxHashMap<String, HeldReferral>>,
}

impl Held {
    pub fn set_services(&mut self, rows: Vec<ServiceRow>) {
        for s in rows {
            self.services
                .insert(s.code, (Arc::from(s.trust_code), s.ward_code));
        }
    }

    /// Adds held referrals (and their events) to what the upload is checked against.
    pub fn load(&mut self, rows: FreedRows) -> Result<(), String> {
        for h in held_referrals(rows)? {
            self.referrals
                .entry(h.referral.service.clone())
                .or_default()
                .insert(h.referral.id.clone(), h);
        }
        Ok(())
    }

    /// The referral `id` of `service`, if held.
    pub fn get(&self, service: &str, id: &str) -> Option<&HeldReferral> {
        self.referrals.get(service)?.get(id)
    }
}

/// A service's referrals are read whole when the file names at least this share of those
/// held (one read of each table beats many reads by key), else only those it names.
const READ_WHOLE_SERVICE_AT: f64 = 0.25;

/// Reads, before any row is checked, the held referrals (with their events) that a FREED
/// referral or event file names, and only those: one pass over the file collects each
/// service's references (as the checker will read them: trimmed, through the mapping), then
/// each service is read by key, or whole when the file names a large share of it. Services
/// that are not known, or not the uploader's, are not read (their rows are refused anyway).
/// Returns the number of referrals read.
pub(crate) async fn load_named(
    store: &store::Store,
    held: &mut Held,
    only_trust: Option<&str>,
    content: &crate::table::Content<'_>,
    columns: &crate::parse::Columns,
    mapping: &Compiled,
) -> Result<u64, crate::IngestError> {
    let (Some(&sc), Some(&rc)) = (columns.get("ServiceCode"), columns.get("ServiceRequestId"))
    else {
        return Ok(0);
    };
    // Nothing held for the services this upload may name (a first upload): nothing to read.
    if !store.freed_any_referral(only_trust).await? {
        return Ok(0);
    }
    let mut named: HashMap<String, Vec<String>> = HashMap::new();
    let mut rows = content.rows();
    let mut fields = Vec::new();
    // The header (already checked by the caller).
    if !matches!(rows.next_row(&mut fields), Ok(true)) {
        return Ok(0);
    }
    let mut last: Option<(String, String)> = None;
    while let Ok(true) = rows.next_row(&mut fields) {
        let cell = |i: usize, col: &str| {
            let t = fields.get(i)?.text.trim();
            (!t.is_empty()).then(|| mapping.value(col, t))
        };
        let (Some(service), Some(id)) = (cell(sc, "ServiceCode"), cell(rc, "ServiceRequestId"))
        else {
            continue;
        };
        // Files list a service's rows together: the code is normalised once a run.
        let code = match &last {
            Some((raw, code)) if raw.as_str() == service.as_ref() => code.clone(),
            _ => {
                let Ok(code) = service_code(&service) else {
                    continue;
                };
                last = Some((service.to_string(), code.clone()));
                code
            }
        };
        let Ok(id) = crate::parse::local_id(&id) else {
            continue;
        };
        named.entry(code).or_default().push(id);
    }
    let mut read = 0u64;
    let mut services: Vec<(String, Vec<String>)> = named.into_iter().collect();
    services.sort_by(|a, b| a.0.cmp(&b.0));
    for (code, mut ids) in services {
        let allowed = held
            .services
            .get(&code)
            .is_some_and(|(t, _)| only_trust.is_none_or(|own| own == t.as_ref()));
        if !allowed {
            continue;
        }
        ids.sort_unstable();
        ids.dedup();
        let count = store.freed_referral_count(&code).await?;
        if count == 0 {
            continue;
        }
        let rows = if ids.len() as f64 >= count as f64 * READ_WHOLE_SERVICE_AT {
            store.freed_rows(&code, None).await?
        } else {
            store.freed_rows_for(&code, &ids).await?
        };
        read += rows.referrals.len() as u64;
        held.load(rows)
            .map_err(|e| crate::IngestError::Store(store::StoreError::Invalid(e)))?;
    }
    Ok(read)
}

// ---------------------------------------------------------------------------------------------
// Rows.

/// A valid FREED row.
#[derive(Clone, Debug, PartialEq)]
pub enum FreedRecord {
    Service(ServiceRow),
    Referral {
        trust: Arc<str>,
        held: Box<HeldReferral>,
    },
    Contact {
        trust: Arc<str>,
        service: String,
        referral: String,
        id: String,
        contact: Contact,
        code: String,
    },
    Pause {
        trust: Arc<str>,
        service: String,
        referral: String,
        pause: Pause,
    },
    Discharge {
        trust: Arc<str>,
        service: String,
        referral: String,
        discharge: Discharge,
    },
}

impl FreedRecord {
    pub fn trust(&self) -> &str {
        match self {
            FreedRecord::Service(s) => &s.trust_code,
            FreedRecord::Referral { trust, .. }
            | FreedRecord::Contact { trust, .. }
            | FreedRecord::Pause { trust, .. }
            | FreedRecord::Discharge { trust, .. } => trust,
        }
    }

    /// (service, referral) of an event or referral.
    fn referral_key(&self) -> Option<(&str, &str)> {
        match self {
            FreedRecord::Service(_) => None,
            FreedRecord::Referral { held, .. } => Some((&held.referral.service, &held.referral.id)),
            FreedRecord::Contact {
                service, referral, ..
            }
            | FreedRecord::Pause {
                service, referral, ..
            }
            | FreedRecord::Discharge {
                service, referral, ..
            } => Some((service, referral)),
        }
    }

    /// The column and the words naming a record found twice in a file.
    pub fn duplicate(&self) -> (&'static str, String) {
        match self {
            FreedRecord::Service(s) => ("ServiceCode", format!("service {}", s.code)),
            FreedRecord::Referral { held, .. } => (
                "ServiceRequestId",
                format!(
                    "referral {} of service {}",
                    held.referral.id, held.referral.service
                ),
            ),
            FreedRecord::Contact { service, id, .. } => (
                "CareContactId",
                format!("contact {id} of service {service}"),
            ),
            FreedRecord::Pause {
                service,
                referral,
                pause,
                ..
            } => (
                "PauseStartDate",
                format!(
                    "pause from {} of referral {referral} of service {service}",
                    show(pause.start)
                ),
            ),
            FreedRecord::Discharge {
                service,
                referral,
                discharge,
                ..
            } => (
                "ServDischDate",
                format!(
                    "discharge at {} of referral {referral} of service {service}",
                    show(discharge.at)
                ),
            ),
        }
    }
}

impl RowReader<'_, '_> {
    /// A service the upload may name: held, and of the uploader's own trust.
    fn freed_service(&mut self, reference: &Reference) -> Option<(String, Arc<str>)> {
        let code = self.req("ServiceCode", service_code)?;
        let Some((trust, _)) = reference.freed.services.get(&code) else {
            self.fail(
                "ServiceCode",
                format!("service '{code}' is not known; expected a service already uploaded (upload the freed_services file first)"),
            );
            return None;
        };
        if let Some(own) = &reference.only_trust
            && own.as_str() != trust.as_ref()
        {
            self.fail(
                "ServiceCode",
                format!("service '{code}' belongs to trust {trust}; you can upload only for {own}"),
            );
            return None;
        }
        Some((code, trust.clone()))
    }

    /// An event's service and referral: the referral must be held.
    fn freed_referral(&mut self, reference: &Reference) -> Option<(String, String, Arc<str>)> {
        let service = self.freed_service(reference);
        let id = self.req("ServiceRequestId", crate::parse::local_id)?;
        let (service, trust) = service?;
        let key = (service, id);
        if reference.freed.get(&key.0, &key.1).is_none() {
            self.fail(
                "ServiceRequestId",
                format!(
                    "referral '{}' of service {} is not known; expected a referral already uploaded (upload the freed_referrals file first)",
                    key.1, key.0
                ),
            );
            return None;
        }
        Some((key.0, key.1, trust))
    }
}

fn pathway<T>(r: Result<T, PathwayError>) -> Result<T, String> {
    r.map_err(|e| says(&e))
}

/// Parse one FREED row; the key identifies it for the duplicate check.
pub(crate) fn parse_row(
    kind: Kind,
    r: &mut RowReader,
    reference: &Reference,
    keys: &mut Pseudonymiser,
) -> Option<(String, Record)> {
    match kind {
        Kind::FreedServices => {
            let code = r.req("ServiceCode", service_code);
            let name = r.req("ServiceName", |s| Ok(s.trim().to_string()));
            let trust = r.req("OrgCode", |s| {
                let t = s.trim().to_ascii_uppercase();
                match reference.orgs.get(&t) {
                    Some((domain::OrgLevel::Trust, _)) => Ok(t),
                    Some((level, _)) => Err(format!(
                        "'{t}' is a {}, not a trust; expected the ODS code of the trust that runs the service",
                        level.label().to_lowercase()
                    )),
                    None => Err(format!(
                        "trust '{t}' is not known; expected a trust already uploaded (upload the organisations file first)"
                    )),
                }
            });
            let ward = r.opt("WardCode", |s| Ok(s.trim().to_ascii_uppercase()));
            let (Some(code), Some(name), Some(trust), Some(ward)) = (code, name, trust, ward)
            else {
                return None;
            };
            if let Some(own) = &reference.only_trust
                && own != &trust
            {
                r.fail(
                    "OrgCode",
                    format!("the service belongs to trust {trust}; you can upload only for {own}"),
                );
                return None;
            }
            if let Some(w) = &ward {
                match reference.wards.get(w) {
                    None => {
                        r.fail("WardCode", format!("ward '{w}' is not known; expected a ward already uploaded, or blank"));
                        return None;
                    }
                    Some((_, t)) if t.as_ref() != trust => {
                        r.fail("WardCode", format!("ward '{w}' belongs to trust {t}, not {trust}; expected a ward of the service's own trust"));
                        return None;
                    }
                    Some(_) => {}
                }
            }
            if let Some((held, _)) = reference.freed.services.get(&code)
                && held.as_ref() != trust
            {
                r.fail(
                    "OrgCode",
                    format!("service {code} is held for trust {held}; expected the same trust (give a service that moved a new code)"),
                );
                return None;
            }
            Some((
                format!("S|{code}"),
                Record::Freed(FreedRecord::Service(ServiceRow {
                    code,
                    name,
                    trust_code: trust,
                    ward_code: ward,
                })),
            ))
        }
        Kind::FreedReferrals => {
            let service = r.freed_service(reference);
            let id = r.req("ServiceRequestId", crate::parse::local_id);
            let nhs = r.nhs("NHSNumber", keys, false);
            let received = r.when(
                "ReferralRequestReceivedDate",
                "ReferralRequestReceivedTime",
                true,
                Clock::Needed,
            );
            let source = r.req("SourceOfReferral", |s| {
                source_from(s).ok_or_else(|| format!("'{}' is not a source of referral; expected gp, self_referral, family_or_carer, education, other_health_service, other or not_known", s.trim()))
            });
            let age = r.opt("AgeServReferRecDate", |s| {
                s.trim().parse::<u8>().map_err(|_| {
                    format!(
                        "'{}' is not an age; expected whole years such as 19 (blank: not known)",
                        s.trim()
                    )
                })
            });
            let first = r.req("FirstEpisode", |s| {
                first_episode_from(s).ok_or_else(|| {
                    format!(
                        "'{}' is not Y, N or U; expected Y (first episode), N or U (not known)",
                        s.trim()
                    )
                })
            });
            let onset = r.opt("OnsetDate", parse_onset);
            let diagnosis = r.req("EDDiagnosisGroup", |s| pathway(DiagnosisGroup::parse(s)));
            let priority = r.req("ClinRespPriorityType", |s| pathway(Priority::parse(s)));
            let ethnic = r.opt("EthnicCategory", EthnicCategory::parse);
            let sex = r.opt("Gender", Sex::parse_lenient);
            let imd = r.opt("IMDDecile", |s| match s.trim().parse::<u8>() {
                Ok(d) if (1..=10).contains(&d) => Ok(d),
                _ => Err(format!(
                    "'{}' is not a decile; expected a whole number from 1 to 10",
                    s.trim()
                )),
            });
            let (
                Some((service, trust)),
                Some(id),
                Some(nhs),
                Some(Some(received)),
                Some(source),
                Some(age),
                Some(first),
                Some(onset),
                Some(diagnosis),
                Some(priority),
                Some(ethnic),
                Some(sex),
                Some(imd),
            ) = (
                service, id, nhs, received, source, age, first, onset, diagnosis, priority, ethnic,
                sex, imd,
            )
            else {
                return None;
            };
            let key = (service, id);
            let held = reference.freed.get(&key.0, &key.1);
            let patient = match (nhs, held) {
                (Some(p), _) => p.0,
                (None, Some(h)) => h.patient.clone(),
                (None, None) => {
                    r.fail(
                        "NHSNumber",
                        "is empty; a new referral needs the patient's NHS number (it may be blank only to correct a referral already held)".into(),
                    );
                    return None;
                }
            };
            let (service, id) = key;
            // The events held stay with the referral (written with it, checked with it).
            let referral = Referral {
                id: id.clone(),
                service: service.clone(),
                received: received.at,
                source,
                age_at_referral: age,
                first_episode: first,
                onset: onset.unwrap_or(Onset::Unknown),
                diagnosis,
                priority,
                contacts: held
                    .map(|h| h.referral.contacts.clone())
                    .unwrap_or_default(),
                pauses: held.map(|h| h.referral.pauses.clone()).unwrap_or_default(),
                discharges: held
                    .map(|h| h.referral.discharges.clone())
                    .unwrap_or_default(),
            };
            let contact_ids = held.map(|h| h.contact_ids.clone()).unwrap_or_default();
            Some((
                format!("R|{service}|{id}"),
                Record::Freed(FreedRecord::Referral {
                    trust,
                    held: Box::new(HeldReferral {
                        patient,
                        referral,
                        contact_ids,
                        ethnic_category: ethnic,
                        sex,
                        imd_decile: imd,
                    }),
                }),
            ))
        }
        Kind::FreedContacts => {
            let at = r.freed_referral(reference);
            let cid = r.req("CareContactId", crate::parse::local_id);
            let kind = r.req("FREEDContactType", |s| {
                contact_kind_from(s).ok_or_else(|| format!("'{}' is not a FREED contact; expected engagement_call, assessment or first_treatment", s.trim()))
            });
            let when = r.when("CareContDate", "CareContTime", true, Clock::Needed);
            let code = r.req("AttendOrDNACode", |s| {
                pathway(Attendance::from_mhsds_code(s)).map(|a| (a, s.trim().to_string()))
            });
            let (
                Some((service, referral, trust)),
                Some(id),
                Some(kind),
                Some(Some(when)),
                Some((attendance, code)),
            ) = (at, cid, kind, when, code)
            else {
                return None;
            };
            Some((
                format!("C|{service}|{id}"),
                Record::Freed(FreedRecord::Contact {
                    trust,
                    service,
                    referral,
                    id,
                    contact: Contact {
                        kind,
                        at: when.at,
                        attendance,
                    },
                    code,
                }),
            ))
        }
        Kind::FreedPauses => {
            let at = r.freed_referral(reference);
            let start = r.when("PauseStartDate", "PauseStartTime", true, Clock::Needed);
            let end = r.when("PauseEndDate", "PauseEndTime", false, Clock::Needed);
            let reason = r.req("PauseReason", |s| {
                pause_reason_from(s).ok_or_else(|| {
                    format!(
                        "'{}' is not a pause reason; expected patient_choice or medically_unfit",
                        s.trim()
                    )
                })
            });
            let (Some((service, referral, trust)), Some(Some(start)), Some(end), Some(reason)) =
                (at, start, end, reason)
            else {
                return None;
            };
            let start_min = minute_number(start.at);
            Some((
                format!("P|{service}|{referral}|{start_min}"),
                Record::Freed(FreedRecord::Pause {
                    trust,
                    service,
                    referral,
                    pause: Pause {
                        start: start.at,
                        end: end.map(|e| e.at),
                        reason,
                    },
                }),
            ))
        }
        Kind::FreedDischarges => {
            let at = r.freed_referral(reference);
            let when = r.when("ServDischDate", "ServDischTime", true, Clock::Needed);
            let reason = r.req("ReferClosReason", |s| {
                discharge_reason_from(s).ok_or_else(|| format!("'{}' is not a discharge reason; expected treatment_completed, patient_declined, did_not_engage, transferred, not_suitable, moved_away, died or other", s.trim()))
            });
            let reopened = r.when("ReopenedDate", "ReopenedTime", false, Clock::Needed);
            let (Some((service, referral, trust)), Some(Some(when)), Some(reason), Some(reopened)) =
                (at, when, reason, reopened)
            else {
                return None;
            };
            let at_min = minute_number(when.at);
            Some((
                format!("D|{service}|{referral}|{at_min}"),
                Record::Freed(FreedRecord::Discharge {
                    trust,
                    service,
                    referral,
                    discharge: Discharge {
                        at: when.at,
                        reason,
                        reopened: reopened.map(|e| e.at),
                    },
                }),
            ))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Each referral the file touches, checked whole by `pathway`.

/// The columns a FREED row's problems can point at.
pub(crate) fn columns_of_interest(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::FreedReferrals => &[
            "ServiceRequestId",
            "ReferralRequestReceivedDate",
            "AgeServReferRecDate",
            "OnsetDate",
        ],
        Kind::FreedContacts => &["ServiceRequestId", "CareContDate"],
        Kind::FreedPauses => &["ServiceRequestId", "PauseStartDate", "PauseEndDate"],
        Kind::FreedDischarges => &["ServiceRequestId", "ServDischDate", "ReopenedDate"],
        _ => &[],
    }
}

/// A checked row of the file: its line, where its columns of interest are, the record.
pub(crate) struct FileRow {
    pub line: usize,
    pub at: Vec<(&'static str, usize)>,
    pub record: FreedRecord,
}

impl FileRow {
    fn column(&self, col: &str) -> usize {
        self.at
            .iter()
            .find(|(c, _)| *c == col)
            .map_or(1, |(_, n)| *n)
    }
}

/// Where an event of the referral being checked came from.
#[derive(Clone, Copy)]
enum From {
    Held,
    File(usize),
}

/// Check every referral the file's rows touch, as it will be held after the import: each
/// problem `pathway` finds is reported on the row that brings it (a problem of something held
/// that the file makes invalid, on the file's first row of that referral).
///
/// Returns the number of problems and, for contacts and discharges, each touched referral as
/// it will be held (its row is written again: when it leaves the waiting list may change).
pub(crate) fn check_file(
    rows: &[FileRow],
    reference: &Reference,
    mapping: &Compiled,
    errors: &mut Vec<RowError>,
) -> (u64, Vec<HeldReferral>) {
    let mut merged = Vec::new();
    let mut groups: Vec<((&str, &str), Vec<usize>)> = Vec::new();
    let mut index: rustc_hash::FxHashMap<(&str, &str), usize> = Default::default();
    for (i, row) in rows.iter().enumerate() {
        let Some(key) = row.record.referral_key() else {
            continue;
        };
        match index.get(&key) {
            Some(&g) => groups[g].1.push(i),
            None => {
                index.insert(key, groups.len());
                groups.push((key, vec![i]));
            }
        }
    }
    let mut count = 0u64;
    for (key, members) in groups {
        let held = reference.freed.get(key.0, key.1);
        let mut referral_row: Option<usize> = None;
        let mut base: Referral = match held {
            Some(h) => h.referral.clone(),
            None => {
                // Only a referral row can bring a referral that is not held.
                let Some(&i) = members.first() else { continue };
                let FreedRecord::Referral { held, .. } = &rows[i].record else {
                    continue;
                };
                held.referral.clone()
            }
        };
        let mut contact_ids: Vec<String> = held.map(|h| h.contact_ids.clone()).unwrap_or_default();
        let mut contacts: Vec<(Contact, From)> =
            base.contacts.drain(..).map(|c| (c, From::Held)).collect();
        let mut pauses: Vec<(Pause, From)> =
            base.pauses.drain(..).map(|p| (p, From::Held)).collect();
        let mut discharges: Vec<(Discharge, From)> =
            base.discharges.drain(..).map(|d| (d, From::Held)).collect();
        for &i in &members {
            match &rows[i].record {
                FreedRecord::Referral { held, .. } => {
                    let r = &held.referral;
                    base.received = r.received;
                    base.source = r.source;
                    base.age_at_referral = r.age_at_referral;
                    base.first_episode = r.first_episode;
                    base.onset = r.onset;
                    base.diagnosis = r.diagnosis;
                    base.priority = r.priority;
                    referral_row = Some(i);
                }
                FreedRecord::Contact { id, contact, .. } => {
                    match contact_ids.iter().position(|c| c == id) {
                        Some(k) => contacts[k] = (*contact, From::File(i)),
                        None => {
                            contact_ids.push(id.clone());
                            contacts.push((*contact, From::File(i)));
                        }
                    }
                }
                FreedRecord::Pause { pause, .. } => {
                    match pauses.iter().position(|(p, _)| p.start == pause.start) {
                        Some(k) => pauses[k] = (*pause, From::File(i)),
                        None => pauses.push((*pause, From::File(i))),
                    }
                }
                FreedRecord::Discharge { discharge, .. } => {
                    match discharges.iter().position(|(d, _)| d.at == discharge.at) {
                        Some(k) => discharges[k] = (*discharge, From::File(i)),
                        None => discharges.push((*discharge, From::File(i))),
                    }
                }
                FreedRecord::Service(_) => {}
            }
        }
        pauses.sort_by_key(|(p, _)| p.start);
        discharges.sort_by_key(|(d, _)| d.at);
        base.contacts = contacts.iter().map(|(c, _)| *c).collect();
        base.pauses = pauses.iter().map(|(p, _)| *p).collect();
        base.discharges = discharges.iter().map(|(d, _)| *d).collect();
        let first = members[0];
        let problems = base.problems();
        if problems.is_empty() {
            if let Some(h) = held
                && members.iter().any(|&i| {
                    matches!(
                        rows[i].record,
                        FreedRecord::Contact { .. } | FreedRecord::Discharge { .. }
                    )
                })
                // Written again only when it leaves the list at another time.
                && off_list(&base) != off_list(&h.referral)
            {
                merged.push(HeldReferral {
                    patient: h.patient.clone(),
                    referral: base,
                    contact_ids,
                    ethnic_category: h.ethnic_category,
                    sex: h.sex,
                    imd_decile: h.imd_decile,
                });
            }
            continue;
        }
        for problem in problems {
            let (row, col, held_what) = place(
                &problem.field,
                referral_row,
                first,
                &contacts,
                &contact_ids,
                &pauses,
                &discharges,
            );
            count += 1;
            if errors.len() >= 1000 {
                continue;
            }
            let r = &rows[row];
            let context = match held_what {
                Some(what) => format!(
                    " ({what} already held for referral {} of service {} would no longer fit)",
                    key.1, key.0
                ),
                None => String::new(),
            };
            errors.push(RowError {
                line: r.line,
                column: r.column(col),
                message: format!(
                    "{}: {}{context}",
                    mapping.display_name(col),
                    if problem.field == "onset" {
                        says(&PathwayError::new(
                            "onset",
                            problem.expected.clone(),
                            show_onset(base.onset),
                        ))
                    } else {
                        says(&problem)
                    }
                ),
                ..Default::default()
            });
        }
    }
    (count, merged)
}

/// When the referrals whose contacts or discharges changed when they leave the waiting list
/// leave it (`off_list_min`): that column alone is set on their rows (not counted as the
/// upload's rows, and keeping the upload that brought them).
pub(crate) fn referral_updates(merged: &[HeldReferral]) -> Batch {
    Batch::freed_off_list(
        merged
            .iter()
            .map(|h| {
                (
                    h.referral.service.clone(),
                    h.referral.id.clone(),
                    off_list(&h.referral).map(minute_number),
                )
            })
            .collect(),
    )
}

/// The row and column a problem of `pathway` belongs to, and, when it is about something held
/// rather than in the file, what that is.
#[allow(clippy::too_many_arguments)]
fn place(
    field: &str,
    referral_row: Option<usize>,
    first: usize,
    contacts: &[(Contact, From)],
    contact_ids: &[String],
    pauses: &[(Pause, From)],
    discharges: &[(Discharge, From)],
) -> (usize, &'static str, Option<String>) {
    // The column of the first row that stands for the referral as a whole.
    let whole = |col_on_referral: &'static str| match referral_row {
        Some(i) => (i, col_on_referral),
        None => (first, "ServiceRequestId"),
    };
    let index = |prefix: &str| -> Option<usize> {
        field
            .strip_prefix(prefix)?
            .strip_prefix('[')?
            .split(']')
            .next()?
            .parse()
            .ok()
    };
    let received = |what: String| {
        let (row, col) = whole("ReferralRequestReceivedDate");
        (row, col, Some(what))
    };
    if let Some(i) = index("contacts") {
        return match contacts.get(i) {
            Some((_, From::File(row))) => (*row, "CareContDate", None),
            Some((c, From::Held)) => received(format!(
                "contact {} at {}",
                contact_ids.get(i).map_or("?", String::as_str),
                show(c.at)
            )),
            None => (first, "ServiceRequestId", None),
        };
    }
    if let Some(i) = index("pauses") {
        let end = field.ends_with(".end");
        return match pauses.get(i) {
            Some((_, From::File(row))) => (
                *row,
                if end {
                    "PauseEndDate"
                } else {
                    "PauseStartDate"
                },
                None,
            ),
            Some((p, From::Held)) => received(format!("the pause from {}", show(p.start))),
            None => (first, "ServiceRequestId", None),
        };
    }
    if let Some(i) = index("discharges") {
        let reopened = field.ends_with(".reopened");
        return match discharges.get(i) {
            Some((_, From::File(row))) => (
                *row,
                if reopened {
                    "ReopenedDate"
                } else {
                    "ServDischDate"
                },
                None,
            ),
            Some((d, From::Held)) => received(format!("the discharge at {}", show(d.at))),
            None => (first, "ServiceRequestId", None),
        };
    }
    let on_referral = |col: &'static str| match referral_row {
        Some(i) => (i, col, None),
        None => (first, "ServiceRequestId", Some("the referral".to_string())),
    };
    match field {
        "onset" => on_referral("OnsetDate"),
        "age_at_referral" => on_referral("AgeServReferRecDate"),
        _ => on_referral("ServiceRequestId"),
    }
}

// ---------------------------------------------------------------------------------------------
// Rows for the store.

/// The store's rows of a referral as `pathway` holds it.
pub fn referral_row(h: &HeldReferral) -> ReferralRow {
    let r = &h.referral;
    let (precision, onset_day) = match r.onset.range() {
        Some((first, _)) => (r.onset.precision(), Some(i64::from(day_number(first)))),
        None => (OnsetPrecision::Unknown, None),
    };
    ReferralRow {
        service_code: r.service.clone(),
        referral_id: r.id.clone(),
        patient: h.patient.to_string(),
        received_min: minute_number(r.received),
        source: source_code(r.source).into(),
        age: r.age_at_referral.map(i64::from),
        first_episode: first_episode_code(r.first_episode).into(),
        onset_precision: precision_code(precision).into(),
        onset_day,
        diagnosis: r.diagnosis.code().into(),
        priority: priority_code(r.priority).into(),
        ethnic_category: h.ethnic_category.map(|c| c.code().to_string()),
        sex: h.sex.map(|s| s.code().to_string()),
        imd_decile: h.imd_decile.map(i64::from),
        off_list_min: off_list(r).map(minute_number),
    }
}

/// When the referral leaves the waiting list for good, by `pathway`'s reading of its events:
/// its first attended treatment or its final discharge (one never reopened), whichever is
/// first; `None` while neither has happened.
pub fn off_list(r: &Referral) -> Option<PrimitiveDateTime> {
    pathway::aggregate::off_list(r)
}

/// FREED records as batches: services, referrals, contacts, pauses, discharges.
pub(crate) fn batches(records: Vec<FreedRecord>) -> Vec<Batch> {
    let (mut services, mut referrals, mut contacts, mut pauses, mut discharges) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in records {
        match r {
            FreedRecord::Service(s) => services.push(s),
            FreedRecord::Referral { held, .. } => referrals.push(referral_row(&held)),
            FreedRecord::Contact {
                service,
                referral,
                id,
                contact,
                code,
                ..
            } => contacts.push(ContactRow {
                service_code: service,
                contact_id: id,
                referral_id: referral,
                kind: contact_kind_code(contact.kind).into(),
                at_min: minute_number(contact.at),
                attended: i64::from(contact.attendance == Attendance::Attended),
                attendance_code: code,
            }),
            FreedRecord::Pause {
                service,
                referral,
                pause,
                ..
            } => pauses.push(PauseRow {
                service_code: service,
                referral_id: referral,
                start_min: minute_number(pause.start),
                end_min: pause.end.map(minute_number),
                reason: pause_reason_code(pause.reason).into(),
            }),
            FreedRecord::Discharge {
                service,
                referral,
                discharge,
                ..
            } => discharges.push(DischargeRow {
                service_code: service,
                referral_id: referral,
                at_min: minute_number(discharge.at),
                reason: discharge_reason_code(discharge.reason).into(),
                reopened_min: discharge.reopened.map(minute_number),
            }),
        }
    }
    vec![
        Batch::freed_services(services),
        Batch::freed_referrals(referrals),
        Batch::freed_contacts(contacts),
        Batch::freed_pauses(pauses),
        Batch::freed_discharges(discharges),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn onsets_keep_their_precision() {
        assert_eq!(
            parse_onset("2023-11-14").unwrap(),
            Onset::Day(date!(2023 - 11 - 14))
        );
        assert_eq!(
            parse_onset("14/11/2023").unwrap(),
            Onset::Day(date!(2023 - 11 - 14))
        );
        assert_eq!(
            parse_onset("2023-11").unwrap(),
            Onset::Month {
                year: 2023,
                month: Month::November
            }
        );
        assert_eq!(
            parse_onset("11/2023").unwrap(),
            Onset::Month {
                year: 2023,
                month: Month::November
            }
        );
        assert_eq!(parse_onset("2023").unwrap(), Onset::Year(2023));
        assert_eq!(
            tidy_times("at 2024-03-04 9:15:00.0, found 2024-03-02 10:00:00.0 é"),
            "at 2024-03-04 09:15, found 2024-03-02 10:00 é"
        );
        assert_eq!(parse_onset(" ").unwrap(), Onset::Unknown);
        assert_eq!(parse_onset("unknown").unwrap(), Onset::Unknown);
        for bad in [
            "2023-13",
            "13/2023",
            "23",
            "1066",
            "2023-11-31",
            "soon",
            "2023-1-1-1",
        ] {
            assert!(parse_onset(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stored_codes_round_trip() {
        for s in [
            ReferralSource::Gp,
            ReferralSource::SelfReferral,
            ReferralSource::FamilyOrCarer,
            ReferralSource::Education,
            ReferralSource::OtherHealthService,
            ReferralSource::Other,
            ReferralSource::NotKnown,
        ] {
            assert_eq!(source_from(source_code(s)), Some(s));
        }
        for r in [
            DischargeReason::TreatmentCompleted,
            DischargeReason::PatientDeclined,
            DischargeReason::DidNotEngage,
            DischargeReason::TransferredToAnotherService,
            DischargeReason::NotSuitable,
            DischargeReason::MovedAway,
            DischargeReason::Died,
            DischargeReason::Other,
        ] {
            assert_eq!(discharge_reason_from(discharge_reason_code(r)), Some(r));
        }
        assert_eq!(
            source_from("Self referral"),
            Some(ReferralSource::SelfReferral)
        );
        assert_eq!(first_episode_from("U"), Some(FirstEpisode::NotKnown));
        assert_eq!(
            contact_kind_from("First-Treatment"),
            Some(ContactKind::FirstTreatment)
        );
        assert_eq!(source_from("friend"), None);
    }

    #[test]
    fn a_referral_goes_to_rows_and_back_unchanged() {
        let referral = Referral {
            id: "FR-1".into(),
            service: "R8A-FREED".into(),
            received: time::macros::datetime!(2024-03-01 23:59),
            source: ReferralSource::SelfReferral,
            age_at_referral: Some(19),
            first_episode: FirstEpisode::Yes,
            onset: Onset::Month {
                year: 2023,
                month: Month::November,
            },
            diagnosis: DiagnosisGroup::Arfid,
            priority: Priority::Urgent,
            contacts: Vec::new(),
            pauses: Vec::new(),
            discharges: Vec::new(),
        };
        let h = HeldReferral {
            patient: Arc::from("p1"),
            referral: referral.clone(),
            contact_ids: Vec::new(),
            ethnic_category: Some(EthnicCategory::parse("N").unwrap()),
            sex: Some(Sex::parse("2").unwrap()),
            imd_decile: Some(3),
        };
        let rows = FreedRows {
            referrals: vec![referral_row(&h)],
            ..FreedRows::default()
        };
        let back = held_referrals(rows).unwrap();
        assert_eq!(back, vec![h]);
    }
}
