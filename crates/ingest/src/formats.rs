//! The canonical upload formats: one per kind of record, with column names that follow the
//! Mental Health Services Data Set (MHSDS) item names where MHSDS has the item. docs/formats.md
//! is written from these definitions (and a test keeps the two in step).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub required: bool,
    pub description: &'static str,
    pub example: &'static str,
}

/// A column, as a constant that can live in a static table: a struct literal (not a `const
/// fn`), so that a column list written inline in a `match` is promoted to a static. Every
/// upload kind's columns are written with it (`use crate::formats::col;`).
macro_rules! col {
    ($name:expr, $required:expr, $description:expr, $example:expr $(,)?) => {
        $crate::formats::ColumnSpec {
            name: $name,
            required: $required,
            description: $description,
            example: $example,
        }
    };
}
pub(crate) use col;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Organisations,
    Wards,
    BedDays,
    Patients,
    WardStays,
    RestrictiveInterventions,
    Incidents,
    Leave,
    Awol,
    Survey,
    FreedServices,
    FreedReferrals,
    FreedContacts,
    FreedPauses,
    FreedDischarges,
    AcuteSelfHarm,
    StaffHarm,
}

impl Kind {
    pub const ALL: [Kind; 17] = [
        Kind::Organisations,
        Kind::Wards,
        Kind::BedDays,
        Kind::Patients,
        Kind::WardStays,
        Kind::RestrictiveInterventions,
        Kind::Incidents,
        Kind::Leave,
        Kind::Awol,
        Kind::Survey,
        Kind::FreedServices,
        Kind::FreedReferrals,
        Kind::FreedContacts,
        Kind::FreedPauses,
        Kind::FreedDischarges,
        Kind::AcuteSelfHarm,
        Kind::StaffHarm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Organisations => "organisations",
            Kind::Wards => "wards",
            Kind::BedDays => "bed_days",
            Kind::Patients => "patients",
            Kind::WardStays => "ward_stays",
            Kind::RestrictiveInterventions => "restrictive_interventions",
            Kind::Incidents => "incidents",
            Kind::Leave => "leave",
            Kind::Awol => "awol",
            Kind::Survey => "survey",
            Kind::FreedServices => "freed_services",
            Kind::FreedReferrals => "freed_referrals",
            Kind::FreedContacts => "freed_contacts",
            Kind::FreedPauses => "freed_pauses",
            Kind::FreedDischarges => "freed_discharges",
            Kind::AcuteSelfHarm => "acute_self_harm",
            Kind::StaffHarm => "staff_harm",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Organisations => "Organisations (region, ICB, trust, site)",
            Kind::Wards => "Wards",
            Kind::BedDays => "Occupied bed days (daily census or monthly totals)",
            Kind::Patients => "Patients (demographics)",
            Kind::WardStays => "Ward stays",
            Kind::RestrictiveInterventions => "Restrictive interventions",
            Kind::Incidents => "Incidents (self-harm, sexual safety, other)",
            Kind::Leave => "Leave of absence",
            Kind::Awol => "Absence without leave (AWOL)",
            Kind::Survey => "Ward survey answers (sexual safety)",
            Kind::FreedServices => "FREED: eating-disorder services",
            Kind::FreedReferrals => "FREED: referrals to an eating-disorder service",
            Kind::FreedContacts => "FREED: contacts (engagement call, assessment, first treatment)",
            Kind::FreedPauses => "FREED: pauses of the clocks",
            Kind::FreedDischarges => "FREED: discharges and reopenings",
            Kind::AcuteSelfHarm => "Self-harm incidents among acute trusts' patients",
            Kind::StaffHarm => "Staff self-harm and suicide (monthly aggregate counts)",
        }
    }

    pub fn parse(s: &str) -> Result<Kind, String> {
        let t = s.trim().to_ascii_lowercase().replace('-', "_");
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == t)
            .or(match t.as_str() {
                "restrictive" | "ri" | "restraint" => Some(Kind::RestrictiveInterventions),
                "beddays" | "census" => Some(Kind::BedDays),
                "stays" => Some(Kind::WardStays),
                _ => None,
            })
            .ok_or_else(|| {
                let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown kind of upload '{s}'; expected one of {}",
                    all.join(", ")
                )
            })
    }

    pub fn columns(self) -> &'static [ColumnSpec] {
        match self {
            Kind::FreedServices => crate::freed::SERVICE_COLUMNS,
            Kind::FreedReferrals => crate::freed::REFERRAL_COLUMNS,
            Kind::FreedContacts => crate::freed::CONTACT_COLUMNS,
            Kind::FreedPauses => crate::freed::PAUSE_COLUMNS,
            Kind::FreedDischarges => crate::freed::DISCHARGE_COLUMNS,
            Kind::AcuteSelfHarm => crate::acute::COLUMNS,
            Kind::StaffHarm => crate::staff::COLUMNS,
            Kind::Organisations => &[
                col!(
                    "OrgCode",
                    true,
                    "ODS code: region Y + 2, ICB Q + 2, trust R + 2, site trust code + 2",
                    "RW4"
                ),
                col!("OrgName", true, "Name", "Mersey Care NHS Foundation Trust"),
                col!("OrgLevel", true, "region, icb, trust or site", "trust"),
                col!(
                    "ParentOrgCode",
                    false,
                    "The organisation above it (blank for a region)",
                    "QYG"
                ),
                col!(
                    "OrgType",
                    false,
                    "A trust's kind: mental_health or acute (blank: unchanged, or mental_health for a new trust)",
                    "mental_health"
                ),
            ],
            Kind::Wards => &[
                col!(
                    "WardCode",
                    true,
                    "The trust's ward code, unique across the programme (letters, digits, - or _)",
                    "RW4-ASH"
                ),
                col!("WardName", true, "Ward name", "Ash Ward"),
                col!(
                    "SiteCode",
                    true,
                    "ODS code of the site the ward is on",
                    "RW401"
                ),
                col!(
                    "WardType",
                    true,
                    "adult_acute, picu, older_adult, learning_disability, camhs, eating_disorders, low_secure, medium_secure, high_secure, rehabilitation",
                    "adult_acute"
                ),
                col!("WardSexMix", true, "male, female or mixed", "female"),
                col!("Beds", true, "Number of beds", "18"),
                col!(
                    "BedsFromDate",
                    true,
                    "Date the bed count applies from (a ward may appear once per change)",
                    "2021-04-01"
                ),
            ],
            Kind::BedDays => &[
                col!("WardCode", true, "Ward code", "RW4-ASH"),
                col!(
                    "CensusDate",
                    false,
                    "Daily census: the date of the midnight count",
                    "2024-03-01"
                ),
                col!(
                    "OccupiedBeds",
                    false,
                    "Daily census: patients occupying a bed at midnight (including those on leave)",
                    "17"
                ),
                col!(
                    "PatientsOnLeave",
                    false,
                    "Daily census: of those, patients on leave at midnight",
                    "2"
                ),
                col!(
                    "Month",
                    false,
                    "Monthly totals: the month (first day, or YYYY-MM)",
                    "2024-03-01"
                ),
                col!(
                    "OccupiedBedDays",
                    false,
                    "Monthly totals: occupied bed days in the month (MHS24)",
                    "512"
                ),
                col!(
                    "LeaveBedDays",
                    false,
                    "Monthly totals: bed days on leave in the month",
                    "40"
                ),
            ],
            Kind::Patients => &[
                col!(
                    "NHSNumber",
                    true,
                    "NHS number (pseudonymised on the way in, never stored)",
                    "9990000018"
                ),
                col!(
                    "PersonBirthDate",
                    false,
                    "Date of birth (only the year is kept)",
                    "1988-07-14"
                ),
                col!(
                    "Gender",
                    true,
                    "Person stated gender: 1 male, 2 female, 9 indeterminate, X not known (M/F accepted)",
                    "2"
                ),
                col!(
                    "EthnicCategory",
                    true,
                    "NHS ethnic category A-S, Z not stated, 99 not known",
                    "N"
                ),
                col!(
                    "LDAutismFlag",
                    false,
                    "Learning disability or autism: Y, N or U (not known)",
                    "N"
                ),
            ],
            Kind::WardStays => &[
                col!(
                    "WardStayId",
                    true,
                    "The trust's identifier of the ward stay",
                    "WS-000123"
                ),
                col!("NHSNumber", true, "NHS number", "9990000018"),
                col!("WardCode", true, "Ward code", "RW4-ASH"),
                col!(
                    "StartDateWardStay",
                    true,
                    "Date the patient arrived on the ward",
                    "2024-02-11"
                ),
                col!(
                    "EndDateWardStay",
                    false,
                    "Date the patient left the ward (blank if still there)",
                    "2024-03-20"
                ),
            ],
            Kind::RestrictiveInterventions => &[
                col!(
                    "RestrictiveIntIncID",
                    true,
                    "Incident identifier (repeated for each intervention of the incident)",
                    "RI-2024-0042"
                ),
                col!(
                    "RestrictiveIntTypeID",
                    true,
                    "Intervention identifier within the incident",
                    "1"
                ),
                col!("NHSNumber", true, "NHS number", "9990000018"),
                col!("WardCode", true, "Ward code", "RW4-ASH"),
                col!(
                    "StartDateRestrictiveIntInc",
                    true,
                    "Incident start date (or date and time)",
                    "2024-03-01"
                ),
                col!(
                    "StartTimeRestrictiveIntInc",
                    false,
                    "Incident start time (blank: kept at 00:00 of the date)",
                    "14:05"
                ),
                col!(
                    "EndDateRestrictiveIntInc",
                    false,
                    "Incident end date",
                    "2024-03-01"
                ),
                col!(
                    "EndTimeRestrictiveIntInc",
                    false,
                    "Incident end time",
                    "14:40"
                ),
                col!(
                    "RestrictiveIntReason",
                    true,
                    "MHSDS reason code 10-19, 98, 99",
                    "10"
                ),
                col!(
                    "PostIncidentReviewPatient",
                    true,
                    "Post-incident review held with the patient: Y or N",
                    "Y"
                ),
                col!(
                    "PostIncidentReviewStaff",
                    false,
                    "Post-incident review held with staff: Y or N",
                    "Y"
                ),
                col!(
                    "RestrictiveIntType",
                    true,
                    "MHSDS intervention type 01, 04-17 (02 and 03 accepted in historic data)",
                    "01"
                ),
                col!(
                    "StartDateRestrictiveIntType",
                    true,
                    "Intervention start date (or date and time)",
                    "2024-03-01"
                ),
                col!(
                    "StartTimeRestrictiveIntType",
                    false,
                    "Intervention start time (needed unless the date holds it: minutes of restraint are measured)",
                    "14:06"
                ),
                col!(
                    "EndDateRestrictiveIntType",
                    false,
                    "Intervention end date (blank if still open at the end of the period)",
                    "2024-03-01"
                ),
                col!(
                    "EndTimeRestrictiveIntType",
                    false,
                    "Intervention end time (needed when the end date is given, unless the date holds it)",
                    "14:18"
                ),
                col!("PatientInjury", false, "Injury to the patient: Y or N", "N"),
                col!("StaffInjury", false, "Injury to staff: Y or N", "N"),
                col!(
                    "OtherPersonInjury",
                    false,
                    "Injury to another person: Y or N",
                    "N"
                ),
                col!(
                    "InCarePlan",
                    false,
                    "Use of Force Act s6: the type of force is in the patient's care plan: Y or N",
                    "Y"
                ),
                col!(
                    "PoliceInvolved",
                    false,
                    "Use of Force Act s6: police or other non-staff involved: Y or N",
                    "N"
                ),
            ],
            Kind::Incidents => &[
                col!(
                    "IncidentID",
                    true,
                    "The risk system's incident identifier",
                    "DATIX-88123"
                ),
                col!(
                    "IncidentKind",
                    true,
                    "self_harm, sexual_safety or other",
                    "self_harm"
                ),
                col!(
                    "NHSNumber",
                    false,
                    "NHS number of the patient involved (blank if none)",
                    "9990000018"
                ),
                col!("WardCode", true, "Ward code", "RW4-ASH"),
                col!(
                    "IncidentDate",
                    true,
                    "Date (or date and time) of the incident",
                    "2024-03-01"
                ),
                col!(
                    "IncidentTime",
                    false,
                    "Time of the incident (blank: kept at 00:00 of the date)",
                    "22:15"
                ),
                col!(
                    "PhysicalHarm",
                    true,
                    "LFPSE physical harm: none, low, moderate, severe, fatal",
                    "low"
                ),
                col!(
                    "PsychologicalHarm",
                    false,
                    "LFPSE psychological harm: none, low, moderate, severe",
                    "low"
                ),
                col!(
                    "OnLeave",
                    false,
                    "Happened while the patient was on agreed leave: Y or N",
                    "N"
                ),
                col!(
                    "SexualSafetyCategory",
                    false,
                    "Sexual safety incidents: assault, verbal, non_verbal, online",
                    "verbal"
                ),
                col!(
                    "PerpetratorType",
                    false,
                    "patient, staff, visitor or other",
                    "patient"
                ),
                col!(
                    "VictimType",
                    false,
                    "patient, staff, visitor or other",
                    "patient"
                ),
                col!("PoliceInformed", false, "Y or N", "N"),
                col!("SafeguardingReferral", false, "Y or N", "Y"),
                col!(
                    "SelfHarmMethod",
                    false,
                    "Self-harm incidents: ligature_anchor (a ligature with an anchor point), ligature_no_anchor, self_poisoning, cutting, swallowing, hitting, burning, jumping, suffocation, other, unknown",
                    "ligature_anchor"
                ),
                col!(
                    "LigatureAreaCode",
                    false,
                    "Self-harm incidents: the area of the ward's ligature register where it happened (its area code there)",
                    "BED-01"
                ),
                col!(
                    "LigaturePointRef",
                    false,
                    "Self-harm incidents: the point of the ward's ligature register used (its reference there; its area follows)",
                    "ASH-001"
                ),
            ],
            Kind::Leave => &[
                col!(
                    "LeaveID",
                    true,
                    "The trust's identifier of the leave period",
                    "L-5521"
                ),
                col!("NHSNumber", true, "NHS number", "9990000018"),
                col!("WardCode", true, "Ward code", "RW4-ASH"),
                col!(
                    "StartDateMHLeaveAbs",
                    true,
                    "Date (or date and time) the leave started",
                    "2024-03-01"
                ),
                col!(
                    "StartTimeMHLeaveAbs",
                    false,
                    "Time the leave started",
                    "10:00"
                ),
                col!(
                    "AgreedReturnDate",
                    true,
                    "Agreed date of return",
                    "2024-03-01"
                ),
                col!(
                    "AgreedReturnTime",
                    false,
                    "Agreed time of return (needed unless the date holds it: returns on time are measured)",
                    "16:00"
                ),
                col!(
                    "EndDateMHLeaveAbs",
                    false,
                    "Date the patient returned (blank if not yet)",
                    "2024-03-01"
                ),
                col!(
                    "EndTimeMHLeaveAbs",
                    false,
                    "Time the patient returned (needed when the date is given, unless the date holds it)",
                    "16:25"
                ),
            ],
            Kind::Awol => &[
                col!(
                    "AWOLID",
                    true,
                    "The trust's identifier of the AWOL episode",
                    "A-301"
                ),
                col!("NHSNumber", true, "NHS number", "9990000018"),
                col!("WardCode", true, "Ward code", "RW4-ASH"),
                col!(
                    "StartDateMHAbsWOLeave",
                    true,
                    "Date (or date and time) the absence started",
                    "2024-03-02"
                ),
                col!(
                    "StartTimeMHAbsWOLeave",
                    false,
                    "Time the absence started",
                    "18:30"
                ),
                col!(
                    "EndDateMHAbsWOLeave",
                    false,
                    "Date the absence ended (blank if ongoing)",
                    "2024-03-03"
                ),
                col!(
                    "EndTimeMHAbsWOLeave",
                    false,
                    "Time the absence ended",
                    "09:10"
                ),
                col!(
                    "MHAbsWOLeaveEndReason",
                    false,
                    "How it ended, as recorded",
                    "Returned by police"
                ),
            ],
            Kind::Survey => &[
                col!(
                    "ResponseID",
                    true,
                    "Identifier of the survey response",
                    "S-2024-03-114"
                ),
                col!("WardCode", true, "Ward code", "RW4-ASH"),
                col!("SurveyDate", true, "Date of the answer", "2024-03-14"),
                col!(
                    "FeelSexuallySafe",
                    true,
                    "\"Do you feel sexually safe on this ward?\": Y or N",
                    "Y"
                ),
            ],
        }
    }

    /// What docs/formats.md says under the kind's table, beyond its columns.
    pub fn note(self) -> Option<&'static str> {
        if self.is_freed() {
            return crate::freed::note(self);
        }
        match self {
            Kind::AcuteSelfHarm => return Some(crate::acute::NOTE),
            Kind::StaffHarm => return Some(crate::staff::NOTE),
            _ => {}
        }
        match self {
            Kind::Organisations => Some(
                "A parent must be uploaded before, or be in the same file (in any order); an unknown parent is reported on the line of the organisation that names it, in its `ParentOrgCode` column. A site's code begins with its trust's code.",
            ),
            Kind::Wards => Some(
                "A ward belongs to one trust: a ward already held for one trust cannot be put on a site of another (give a ward that moved a new code), nor can one file put it on sites of two trusts. A ward code that begins with a trust's code and a `-` or `_` (`R8A-ASH`) must be on a site of that trust.",
            ),
            Kind::BedDays => Some(
                "Give either a daily census (`CensusDate`, `OccupiedBeds`, `PatientsOnLeave`) or monthly totals (`Month`, `OccupiedBedDays`, `LeaveBedDays`) in one file. Weekly measures need a daily census.",
            ),
            Kind::RestrictiveInterventions => Some(
                "One row per intervention; the incident's columns are repeated on each of its rows, and the rows of one incident in a file must agree on the patient, the ward, the incident's start date, the reason and the review with the patient (the incident's times may differ from row to row: each row keeps its own).\n\n\
                 When the patient has ward stays uploaded at the ward's trust, an intervention must start within one of the patient's stays on its ward; an intervention on a ward where the patient has no stay at all is refused too. Patients without stays at that trust are not checked.\n\n\
                 An intervention lies within its incident: it starts no earlier than the incident starts and, when the incident's end is given, starts and ends no later than it (by date where the incident's time is blank). Physical, mechanical and chemical restraint lasting more than 24 hours is refused as a mistyped end; seclusion and segregation have no limit but the 1900-2100 date range (long-term segregation can last years).",
            ),
            Kind::Incidents => {
                Some("`IncidentTime` may be blank: the incident is kept at 00:00 of its date.")
            }
            Kind::Leave => Some(
                "The start time may be blank (kept at 00:00); the agreed and actual return need their times, from which returns on time are measured.",
            ),
            Kind::Awol => Some(
                "Times may be blank: a start is kept at 00:00 of its date, an end without a time at 00:00 of its date or at the start when that is the same day.",
            ),
            _ => None,
        }
    }

    /// Records that belong to a trust (and so are keyed by the trust's own identifiers).
    pub fn is_event(self) -> bool {
        !matches!(
            self,
            Kind::Organisations | Kind::Wards | Kind::Patients | Kind::FreedServices
        )
    }

    /// The FREED pathway's uploads (`crate::freed`).
    pub fn is_freed(self) -> bool {
        matches!(
            self,
            Kind::FreedServices
                | Kind::FreedReferrals
                | Kind::FreedContacts
                | Kind::FreedPauses
                | Kind::FreedDischarges
        )
    }

    /// An example file: the header and one row of examples.
    pub fn example_csv(self) -> String {
        let cols = self.columns();
        let header: Vec<&str> = cols.iter().map(|c| c.name).collect();
        let row: Vec<String> = cols
            .iter()
            .map(|c| {
                if c.example.contains(',') {
                    format!("\"{}\"", c.example)
                } else {
                    c.example.to_string()
                }
            })
            .collect();
        format!("{}\n{}\n", header.join(","), row.join(","))
    }
}

/// The rules every file is checked against, beyond each column's own values.
const RULES: &str = "
## What is refused, and why

Each problem is reported as `FILE:LINE:COLUMN: reason`, saying what was expected; nothing of
the file is imported.

**A file is one encoding.** The encoding is read from the bytes, never from the file name:

- a UTF-8 byte-order mark means UTF-8, and every byte after it must be UTF-8;
- a UTF-16 byte-order mark (either byte order) means UTF-16, and all of it must be UTF-16;
  UTF-16 without its byte-order mark is refused;
- without a mark, a file that is valid UTF-8 is UTF-8;
- a file that holds UTF-8 characters (such as `é` written as two bytes) and also bytes that
  are not UTF-8 is refused as `not valid UTF-8 at line L column C`, at the first bad byte: it
  is not re-read as Windows-1252, which would store `CafÃ©` for `Café`;
- a file with bytes 0x80-0xFF but no UTF-8 character at all is Windows-1252, unless it holds
  one of the five bytes Windows-1252 does not define (0x81, 0x8D, 0x8F, 0x90, 0x9D), which is
  refused at its line and column.

**Only text.** A file that is not text is refused on line 1 as `not a text file (it looks like
a PNG image)`: images (PNG, JPEG, GIF, TIFF), PDFs, archives (ZIP that is not a workbook,
gzip, 7-Zip, RAR), Word and PowerPoint files, SQLite databases, RTF, and anything with NUL
bytes in its first 4 KB. A NUL or other control character (anything below U+0020 but tab,
line feed and carriage return; U+007F-U+009F; a byte-order mark inside the text) anywhere in
a CSV, or in a cell of a workbook, is refused at its line and column: it would cut a name
short where it is stored.

**Times.** A time column marked *no* may be left blank (or left out) when its date column
holds only a date: the time was not recorded, and the moment is kept at 00:00 of its date.
Order checks against a moment without a time compare dates only, and an end without a time on
its start's own date is kept at the start. Where a measure is computed from the minutes, the
time is needed whenever its date is given: the intervention's own start and end
(`StartTimeRestrictiveIntType`, `EndTimeRestrictiveIntType`: minutes of restraint) and the
leave's agreed and actual return (`AgreedReturnTime`, `EndTimeMHLeaveAbs`: returns on time);
a date there without a time is refused.

**NHS numbers** have 10 digits and pass the modulus 11 check; spaces and hyphens between the
digits are ignored whatever the grouping (`9990000018`, `999 000 0018`, `999-000-0018`). Any
other character is refused, naming it and its position (`holds 'A' at character 10`).

**Within a file**, a record appears once: a second row with the same identifier is refused,
naming both lines (a patient by the line of the NHS number, never by its pseudonym). The
header's columns that are not used are listed in one warning: the first ten by name, the rest
counted (`and 49990 more`).

**Patients' years of birth.** A ward stay, restrictive intervention, incident, leave or AWOL
episode dated before the year of birth of its patient (as already uploaded) is refused.
";

/// docs/formats.md, written from the definitions above.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Upload formats\n\n\
         *Generated from `crates/ingest/src/formats.rs`; a test keeps this page in step with the code.*\n\n\
         Every upload is one kind of record, as CSV or Excel (the first sheet). Column names follow\n\
         the Mental Health Services Data Set (MHSDS) where MHSDS has the item. Order does not matter,\n\
         names are matched ignoring case, and columns not listed are ignored (and reported).\n\n\
         What is accepted, so that exports can be uploaded as they are:\n\n\
         - CSV in UTF-8 (with or without a byte-order mark), UTF-16 or Windows-1252; separated by\n\
           commas, semicolons or tabs (chosen from the header line); `.xlsx`/`.xls` workbooks. The\n\
           encoding used is named in the import summary, e.g. `CSV (UTF-8, comma-separated)`.\n\
         - Dates as `2024-03-01` or `01/03/2024` (day first, as in the UK); times as `14:05` or\n\
           `14:05:30`, in their own column or after the date (`2024-03-01 14:05`). Every date, in a\n\
           date column or a date-and-time column, must fall in 1900-2100.\n\
         - Codes as national codes (`01`, `1`) or their labels (`Physical restraint - prone`); yes/no\n\
           as `Y`/`N`, `Yes`/`No`, `true`/`false`.\n\
         - A saved column mapping (`mhsip mapping save FILE.json`, or the uploads page) turns a trust's\n\
           own column names and labels into these; see the end of this page.\n\n\
         Upload in this order: organisations, wards, then anything else (patients and ward stays\n\
         before restrictive interventions, so that interventions can be checked against stays;\n\
         FREED services, then referrals, then their contacts, pauses and discharges).\n\
         Re-uploading a record (same trust and identifier) updates it; it is never duplicated. A file\n\
         is imported whole or not at all: every failing row is listed as `FILE:LINE:COLUMN: reason`.\n\n\
         NHS numbers are turned into a keyed pseudonym on the way in and are never stored.\n",
    );
    out.push_str(RULES);
    for k in Kind::ALL {
        out.push_str(&format!(
            "\n## {} (`--kind {}`)\n\nExample: [examples/{}.csv](examples/{}.csv)\n\n",
            k.label(),
            k.as_str(),
            k.as_str(),
            k.as_str()
        ));
        out.push_str("| column | required | meaning | example |\n|---|---|---|---|\n");
        for c in k.columns() {
            out.push_str(&format!(
                "| `{}` | {} | {} | `{}` |\n",
                c.name,
                if c.required { "yes" } else { "no" },
                c.description.replace('|', "\\|"),
                c.example
            ));
        }
        if let Some(note) = k.note() {
            out.push('\n');
            out.push_str(note);
            out.push('\n');
        }
    }
    out.push_str(&crate::ligature::markdown());
    out.push_str(&crate::adhd::markdown());
    out.push_str(
        "\n## Column mappings\n\n\
         A mapping is JSON: its name, the kind of upload, their column names to ours, and their values\n\
         to ours for any column. Matching ignores case and spaces around names and values.\n\n\
         ```json\n{\n  \"name\": \"r8a-datix-restraint\",\n  \"kind\": \"restrictive_interventions\",\n  \"columns\": {\n    \"Incident Ref\": \"RestrictiveIntIncID\",\n    \"Type of restraint\": \"RestrictiveIntType\"\n  },\n  \"values\": {\n    \"RestrictiveIntType\": { \"Prone restraint\": \"01\", \"Supine restraint\": \"09\" }\n  }\n}\n```\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_columns_are_unique() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()).unwrap(), k);
            let mut names: Vec<&str> = k.columns().iter().map(|c| c.name).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), k.columns().len(), "{k:?}");
        }
        assert!(
            Kind::parse("nonsense")
                .unwrap_err()
                .contains("expected one of organisations")
        );
    }

    /// docs/formats.md is generated from these definitions; regenerate with
    /// `UPDATE_DOCS=1 cargo test -p ingest formats`.
    #[test]
    fn docs_formats_md_is_up_to_date() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/formats.md");
        let want = markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "docs/formats.md is out of date: run UPDATE_DOCS=1 cargo test -p ingest formats"
        );
    }

    /// Every example file has exactly the canonical columns of its kind.
    #[test]
    fn example_files_use_the_canonical_columns() {
        for k in Kind::ALL {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../../docs/examples/{}.csv", k.as_str()));
            let text = std::fs::read_to_string(&path).unwrap();
            for name in text.lines().next().unwrap().split(',') {
                assert!(
                    k.columns().iter().any(|c| c.name == name),
                    "{}: unknown column {name}",
                    k.as_str()
                );
            }
        }
    }
}
