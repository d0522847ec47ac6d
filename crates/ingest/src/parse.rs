//! One row of an upload to one validated record, or to the list of what is wrong with it,
//! each problem pointing at its cell.

use crate::csvscan::Field;
use crate::formats::Kind;
use crate::mapping::Compiled;
use crate::pseudonym::Pseudonymiser;
use domain::codes::*;
use domain::dates::{day_number, parse_date, parse_datetime, parse_time};
use domain::ids::{NhsNumber, OdsCode, OrgLevel, WardCode};
use domain::records::*;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use time::{Date, PrimitiveDateTime};

/// A problem in one cell (or row): the line and column, and what was expected. It is the one
/// `textfile::FileError`, made while the rows are read without the file's name, which the
/// report adds (`Report::error_lines`).
pub type RowError = textfile::FileError;

/// What the rows are checked against: organisations, wards and stays already held.
#[derive(Clone, Debug, Default)]
pub struct Reference {
    /// ODS code -> (level, parent code).
    pub orgs: HashMap<String, (OrgLevel, Option<String>)>,
    /// Ward code -> (the ward's code, its trust), shared by every record that names the ward.
    pub wards: HashMap<String, (WardCode, Arc<str>)>,
    /// Pseudonym -> stays (ward, first day, last day or open).
    pub stays: HashMap<String, Vec<(String, i64, Option<i64>)>>,
    /// Pseudonym -> year of birth, for patients whose year of birth is known.
    pub birth_years: HashMap<String, i32>,
    /// When set, rows for wards of other trusts are refused (an uploader's own trust).
    pub only_trust: Option<String>,
    /// FREED services, and the referrals of the services a FREED file names.
    pub freed: crate::freed::Held,
    /// Ward code -> the places of its ligature register, for the wards whose incidents name one
    /// (read on the ward's first such row).
    pub ligature: HashMap<String, crate::ligature::Places>,
}

impl Reference {
    /// The trust above an organisation, ICB and region of a site.
    pub fn chain(&self, site: &str) -> (Option<String>, Option<String>, Option<String>) {
        let parent = |c: &str| self.orgs.get(c).and_then(|(_, p)| p.clone());
        let trust = parent(site);
        let icb = trust.as_deref().and_then(parent);
        let region = icb.as_deref().and_then(parent);
        (trust, icb, region)
    }
}

/// A validated row, with the trust it belongs to where that matters.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// An organisation, and a trust's kind when the file gives one (`OrgType`).
    Organisation(Organisation, Option<domain::codes::OrgType>),
    Ward {
        ward: Ward,
        trust: String,
        icb: Option<String>,
        region: Option<String>,
    },
    BedDays(BedDays),
    Patient(Patient),
    Stay(Arc<str>, WardStay),
    Intervention(Arc<str>, Intervention),
    Incident(Arc<str>, Incident),
    Leave(Arc<str>, LeavePeriod),
    Awol(Arc<str>, AwolEpisode),
    Survey(Arc<str>, SurveyAnswer),
    Freed(crate::freed::FreedRecord),
    /// A self-harm incident among an acute trust's patients (`crate::acute`).
    Acute(crate::acute::AcuteIncident),
    /// A trust's monthly staff counts (`crate::staff`).
    Staff(crate::staff::StaffMonth),
}

/// Canonical column name -> position in the row.
pub type Columns = rustc_hash::FxHashMap<&'static str, usize>;

pub struct RowReader<'r, 'a> {
    pub fields: &'r [Field<'a>],
    pub columns: &'r Columns,
    pub text: &'r str,
    pub mapping: &'r Compiled,
    pub line: usize,
    pub errors: Vec<RowError>,
}

impl<'r, 'a> RowReader<'r, 'a> {
    fn field(&self, col: &str) -> Option<&'r Field<'a>> {
        self.columns.get(col).and_then(|i| self.fields.get(*i))
    }

    /// The cell's text after the mapping's value translation; `None` if absent or blank.
    pub(crate) fn cell(&self, col: &str) -> Option<Cow<'r, str>> {
        let f = self.field(col)?;
        let t = f.text.trim();
        if t.is_empty() {
            return None;
        }
        Some(self.mapping.value(col, t))
    }

    pub(crate) fn fail(&mut self, col: &str, message: String) {
        let (line, column) = match self.field(col) {
            Some(f) => (f.line, f.column(self.text)),
            None => (self.line, 1),
        };
        self.errors.push(RowError {
            line,
            column,
            message: format!("{}: {message}", self.mapping.display_name(col)),
            ..Default::default()
        });
    }

    pub(crate) fn req<T>(
        &mut self,
        col: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match self.cell(col) {
            None => {
                self.fail(col, "is empty; a value is required".into());
                None
            }
            Some(v) => match parse(&v) {
                Ok(x) => Some(x),
                Err(m) => {
                    self.fail(col, m);
                    None
                }
            },
        }
    }

    /// `Some(None)` for a blank cell, `None` for a bad value (already reported).
    pub(crate) fn opt<T>(
        &mut self,
        col: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match self.cell(col) {
            None => Some(None),
            Some(v) => match parse(&v) {
                Ok(x) => Some(Some(x)),
                Err(m) => {
                    self.fail(col, m);
                    None
                }
            },
        }
    }

    /// A date and time from a date column and a time column (or a date column that holds
    /// both). A blank time is allowed where `clock` is `Clock::Optional`: the time was not
    /// recorded and the moment is kept at 00:00 of its date, marked untimed.
    pub(crate) fn when(
        &mut self,
        date_col: &str,
        time_col: &str,
        required: bool,
        clock: Clock,
    ) -> Option<Option<At>> {
        let date = self.cell(date_col);
        let time = self.cell(time_col);
        let at = match (date, time) {
            (None, None) if !required => return Some(None),
            (None, _) => {
                self.fail(date_col, "is empty; a date is required".into());
                return None;
            }
            (Some(d), None) => match (parse_datetime(&d), parse_date(&d)) {
                (Ok(dt), _) => At::timed(dt),
                (Err(_), Ok(day)) if clock == Clock::Optional => At {
                    at: PrimitiveDateTime::new(day, time::Time::MIDNIGHT),
                    timed: false,
                },
                (Err(_), Ok(_)) => {
                    self.fail(date_col, format!(
                        "'{d}' has no time and {} is empty; expected a time such as 14:05 (the minutes are measured from it)",
                        self.mapping.display_name(time_col)
                    ));
                    return None;
                }
                (Err(m), Err(_)) => {
                    self.fail(date_col, m);
                    return None;
                }
            },
            (Some(d), Some(t)) => {
                // A spreadsheet may give the date cell a midnight time: keep only the date.
                let date_only = d.split([' ', 'T']).next().unwrap_or(&d);
                match (parse_date(date_only), parse_time(&t)) {
                    (Err(m), _) => {
                        self.fail(date_col, m);
                        return None;
                    }
                    (Ok(_), Err(m)) => {
                        self.fail(time_col, m);
                        return None;
                    }
                    (Ok(date), Ok(time)) => At::timed(PrimitiveDateTime::new(date, time)),
                }
            }
        };
        match plausible(at.at.date()) {
            Ok(_) => Some(Some(at)),
            Err(m) => {
                self.fail(date_col, m);
                None
            }
        }
    }

    fn ward(&mut self, col: &str, reference: &Reference) -> Option<(WardCode, Arc<str>)> {
        // Most rows name a ward exactly as it was uploaded: find it without allocating.
        if let Some(text) = self.cell(col)
            && let Some((code, trust)) = reference.wards.get(text.as_ref())
            && reference
                .only_trust
                .as_ref()
                .is_none_or(|own| own.as_str() == trust.as_ref())
        {
            return Some((code.clone(), trust.clone()));
        }
        let code = self.req(col, |s| WardCode::parse(s).map_err(|e| e.to_string()))?;
        match reference.wards.get(code.as_str()).map(|(_, t)| t) {
            None => {
                self.fail(col, format!("ward '{code}' is not known; expected a ward already uploaded (upload the wards file first)"));
                None
            }
            Some(trust) => {
                if let Some(own) = &reference.only_trust
                    && own.as_str() != trust.as_ref()
                {
                    self.fail(
                        col,
                        format!(
                            "ward '{code}' belongs to trust {trust}; you can upload only for {own}"
                        ),
                    );
                    return None;
                }
                Some((code, trust.clone()))
            }
        }
    }

    pub(crate) fn nhs(
        &mut self,
        col: &str,
        keys: &mut Pseudonymiser,
        required: bool,
    ) -> Option<Option<Pseudonym>> {
        let parsed = if required {
            self.req(col, |s| NhsNumber::parse(s).map_err(|e| e.to_string()))
                .map(Some)
        } else {
            self.opt(col, |s| NhsNumber::parse(s).map_err(|e| e.to_string()))
        };
        parsed.map(|n| n.map(|n| keys.pseudonym(&n)))
    }

    /// An end before its start is refused (compared by date when either time is blank); an
    /// untimed end on the start's own date is kept at the start. Returns the end to store.
    fn check_order(
        &mut self,
        col: &str,
        start: At,
        end: Option<At>,
        what: &str,
    ) -> Option<PrimitiveDateTime> {
        let e = end?;
        if e.before(start) {
            self.fail(
                col,
                format!(
                    "{what} ends ({}) before it starts ({}); expected an end on or after the start",
                    e.show(),
                    start.show()
                ),
            );
        }
        Some(e.at.max(start.at))
    }

    /// An event dated before the patient's year of birth is refused.
    pub(crate) fn check_birth(&mut self, col: &str, reference: &Reference, p: &Pseudonym, d: Date) {
        if let Some(year) = reference.birth_years.get(p.0.as_ref())
            && d.year() < *year
        {
            self.fail(
                col,
                format!(
                    "{} is before the patient's year of birth ({year}); expected a date on or after the patient's birth (is the year mistyped, or the NHS number?)",
                    domain::dates::iso(d)
                ),
            );
        }
    }
}

/// Whether a time column may be left blank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Blank: the time was not recorded; the moment is kept at 00:00 of its date.
    Optional,
    /// A measure is computed from the minutes (restraint durations, returns from leave on
    /// time): a date without a time is refused.
    Needed,
}

/// A moment read from a row, and whether its time was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    pub at: PrimitiveDateTime,
    pub timed: bool,
}

impl At {
    fn timed(at: PrimitiveDateTime) -> At {
        At { at, timed: true }
    }

    /// Strictly before `other`: by the minute when both times are known, else by the date.
    fn before(self, other: At) -> bool {
        if self.timed && other.timed {
            self.at < other.at
        } else {
            self.at.date() < other.at.date()
        }
    }

    fn show(self) -> String {
        if self.timed {
            domain::dates::iso_datetime(self.at)
        } else {
            domain::dates::iso(self.at.date())
        }
    }
}

/// Restraint that cannot plausibly last longer than this (physical, mechanical, chemical).
pub const MAX_RESTRAINT_MINUTES: i64 = 24 * 60;

fn plausible(d: Date) -> Result<Date, String> {
    if (1900..=2100).contains(&d.year()) {
        Ok(d)
    } else {
        Err(format!(
            "{} is outside 1900-2100; expected a real date",
            domain::dates::iso(d)
        ))
    }
}

fn date(s: &str) -> Result<Date, String> {
    parse_date(s).and_then(plausible)
}

fn yes_no(s: &str) -> Result<bool, String> {
    parse_yes_no(s)
}

fn whole(s: &str) -> Result<u32, String> {
    s.trim()
        .parse::<u32>()
        .map_err(|_| format!("'{s}' is not a whole number; expected e.g. 18"))
}

fn amount(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a number of 0 or more")),
    }
}

pub(crate) fn local_id(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.len() > 64 {
        Err(format!(
            "'{}…' is longer than 64 characters; expected a short identifier",
            &t[..t.char_indices().nth(30).map_or(t.len(), |(i, _)| i)]
        ))
    } else {
        Ok(t.to_string())
    }
}

/// Parse one row of `kind`; the key identifies the record for the duplicate check.
pub fn parse_row(
    kind: Kind,
    r: &mut RowReader,
    reference: &Reference,
    keys: &mut Pseudonymiser,
) -> Option<(String, Record)> {
    if kind.is_freed() {
        return crate::freed::parse_row(kind, r, reference, keys);
    }
    match kind {
        Kind::AcuteSelfHarm => return crate::acute::parse_row(r, reference, keys),
        Kind::StaffHarm => return crate::staff::parse_row(r, reference),
        _ => {}
    }
    match kind {
        Kind::Organisations => {
            let level = r.req("OrgLevel", |s| OrgLevel::parse(s).filter(|l| *l != OrgLevel::Ward).ok_or_else(|| format!("'{s}' is not an organisation level; expected region, icb, trust or site")));
            let code = level.and_then(|l| {
                r.req("OrgCode", |s| {
                    OdsCode::parse(s, l).map_err(|e| e.to_string())
                })
            });
            let name = r.req("OrgName", |s| Ok(s.to_string()));
            let parent = r.opt("ParentOrgCode", |s| Ok(s.trim().to_ascii_uppercase()));
            let (Some(level), Some(code), Some(name), Some(parent)) = (level, code, name, parent)
            else {
                return None;
            };
            let expected_parent = match level {
                OrgLevel::Region => None,
                OrgLevel::Icb => Some(OrgLevel::Region),
                OrgLevel::Trust => Some(OrgLevel::Icb),
                OrgLevel::Site => Some(OrgLevel::Trust),
                OrgLevel::Ward => None,
            };
            let parent = match (parent, expected_parent) {
                (None, None) => None,
                (Some(p), Some(want)) => match OdsCode::parse(&p, want) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        r.fail("ParentOrgCode", e.to_string());
                        return None;
                    }
                },
                (None, Some(want)) => {
                    r.fail(
                        "ParentOrgCode",
                        format!(
                            "is empty; a {} needs its {}",
                            level.as_str(),
                            want.label().to_lowercase()
                        ),
                    );
                    return None;
                }
                (Some(p), None) => {
                    r.fail(
                        "ParentOrgCode",
                        format!("'{p}': a region has no parent; expected blank"),
                    );
                    return None;
                }
            };
            if level == OrgLevel::Site
                && parent
                    .as_ref()
                    .is_some_and(|p| p.as_str() != code.trust_of_site())
            {
                r.fail("ParentOrgCode", format!("site {code} starts with {} but its parent is {}; expected the trust whose code begins the site code", code.trust_of_site(), parent.as_ref().map(|p| p.to_string()).unwrap_or_default()));
                return None;
            }
            let org_type = r.opt("OrgType", domain::codes::OrgType::parse)?;
            if org_type.is_some() && level != OrgLevel::Trust {
                r.fail(
                    "OrgType",
                    format!(
                        "is given for a {}; expected it only for a trust (or blank)",
                        level.as_str()
                    ),
                );
                return None;
            }
            Some((
                code.to_string(),
                Record::Organisation(
                    Organisation {
                        code,
                        name,
                        level,
                        parent,
                    },
                    org_type,
                ),
            ))
        }
        Kind::Wards => {
            let code = r.req("WardCode", |s| {
                WardCode::parse(s).map_err(|e| e.to_string())
            });
            let name = r.req("WardName", |s| Ok(s.to_string()));
            let site = r.req("SiteCode", |s| {
                OdsCode::parse(s, OrgLevel::Site).map_err(|e| e.to_string())
            });
            let ward_type = r.req("WardType", WardType::parse);
            let sex_mix = r.req("WardSexMix", SexMix::parse);
            let beds = r.req("Beds", whole);
            let from = r.req("BedsFromDate", date);
            let (
                Some(code),
                Some(name),
                Some(site),
                Some(ward_type),
                Some(sex_mix),
                Some(beds),
                Some(beds_from),
            ) = (code, name, site, ward_type, sex_mix, beds, from)
            else {
                return None;
            };
            let (trust, icb, region) = reference.chain(site.as_str());
            let Some(trust) = trust.filter(|_| {
                reference
                    .orgs
                    .get(site.as_str())
                    .is_some_and(|(l, _)| *l == OrgLevel::Site)
            }) else {
                r.fail("SiteCode", format!("site {site} is not known; expected a site already uploaded in the organisations file"));
                return None;
            };
            if let Some(own) = &reference.only_trust
                && *own != trust
            {
                r.fail(
                    "SiteCode",
                    format!("site {site} belongs to trust {trust}; you can upload only for {own}"),
                );
                return None;
            }
            if let Some((_, held)) = reference.wards.get(code.as_str())
                && held.as_ref() != trust
            {
                r.fail(
                    "SiteCode",
                    format!("ward {code} is already held for trust {held}, and site {site} belongs to trust {trust}; expected a site of {held} (a ward belongs to one trust: give a ward that moved a new code)"),
                );
                return None;
            }
            if let Some((prefix, _)) = code.as_str().split_once(['-', '_'])
                && !prefix.eq_ignore_ascii_case(&trust)
                && reference
                    .orgs
                    .get(&prefix.to_ascii_uppercase())
                    .is_some_and(|(l, _)| *l == OrgLevel::Trust)
            {
                r.fail(
                    "SiteCode",
                    format!("ward {code} begins with the code of trust {}, but site {site} belongs to trust {trust}; expected a site of {} (or a ward code of {trust})", prefix.to_ascii_uppercase(), prefix.to_ascii_uppercase()),
                );
                return None;
            }
            let key = format!("{code}|{}", day_number(beds_from));
            Some((
                key,
                Record::Ward {
                    ward: Ward {
                        code,
                        name,
                        site,
                        ward_type,
                        sex_mix,
                        beds,
                        beds_from,
                    },
                    trust,
                    icb,
                    region,
                },
            ))
        }
        Kind::BedDays => {
            let ward = r.ward("WardCode", reference);
            let daily = r.columns.contains_key("CensusDate");
            let rec = if daily {
                let d = r.req("CensusDate", date);
                let occupied = r.req("OccupiedBeds", amount);
                let leave = r.opt("PatientsOnLeave", amount);
                let (Some((ward, _)), Some(d), Some(occupied), Some(leave)) =
                    (ward, d, occupied, leave)
                else {
                    return None;
                };
                BedDays {
                    ward,
                    start: d,
                    days: 1,
                    occupied,
                    on_leave: leave.unwrap_or(0.0),
                }
            } else {
                let m = r.req("Month", |s| {
                    date(s)
                        .or_else(|_| date(&format!("{s}-01")))
                        .map(|d| d.replace_day(1).unwrap_or(d))
                });
                let occupied = r.req("OccupiedBedDays", amount);
                let leave = r.opt("LeaveBedDays", amount);
                let (Some((ward, _)), Some(m), Some(occupied), Some(leave)) =
                    (ward, m, occupied, leave)
                else {
                    return None;
                };
                let days = time::util::days_in_month(m.month(), m.year()) as u32;
                BedDays {
                    ward,
                    start: m,
                    days,
                    occupied,
                    on_leave: leave.unwrap_or(0.0),
                }
            };
            if rec.on_leave > rec.occupied {
                r.fail(if daily { "PatientsOnLeave" } else { "LeaveBedDays" }, format!("{} on leave is more than {} occupied; expected leave within the occupied beds", rec.on_leave, rec.occupied));
                return None;
            }
            Some((
                format!("{}|{}", rec.ward, day_number(rec.start)),
                Record::BedDays(rec),
            ))
        }
        Kind::Patients => {
            let p = r.nhs("NHSNumber", keys, true);
            let birth = r.opt("PersonBirthDate", date);
            let sex = r.req("Gender", Sex::parse_lenient);
            let eth = r.req("EthnicCategory", EthnicCategory::parse);
            let ld = r.opt("LDAutismFlag", LdAutism::parse);
            let (Some(Some(p)), Some(birth), Some(sex), Some(eth), Some(ld)) =
                (p, birth, sex, eth, ld)
            else {
                return None;
            };
            Some((
                p.0.to_string(),
                Record::Patient(Patient {
                    pseudonym: p,
                    birth_year: birth.map(|d| d.year()),
                    sex,
                    ethnic_category: eth,
                    ld_autism: ld.unwrap_or(LdAutism::NotKnown),
                }),
            ))
        }
        Kind::WardStays => {
            let id = r.req("WardStayId", local_id);
            let p = r.nhs("NHSNumber", keys, true);
            let ward = r.ward("WardCode", reference);
            let start = r.req("StartDateWardStay", date);
            let end = r.opt("EndDateWardStay", date);
            let (Some(id), Some(Some(p)), Some((ward, trust)), Some(start), Some(end)) =
                (id, p, ward, start, end)
            else {
                return None;
            };
            if end.is_some_and(|e| e < start) {
                r.fail(
                    "EndDateWardStay",
                    "the stay ends before it starts; expected an end on or after the start".into(),
                );
                return None;
            }
            r.check_birth("StartDateWardStay", reference, &p, start);
            if !r.errors.is_empty() {
                return None;
            }
            Some((
                format!("{trust}|{id}"),
                Record::Stay(
                    trust,
                    WardStay {
                        local_id: id,
                        patient: p,
                        ward,
                        start,
                        end,
                    },
                ),
            ))
        }
        Kind::RestrictiveInterventions => {
            let inc = r.req("RestrictiveIntIncID", local_id);
            let int = r.req("RestrictiveIntTypeID", local_id);
            let p = r.nhs("NHSNumber", keys, true);
            let ward = r.ward("WardCode", reference);
            let inc_start = r.when(
                "StartDateRestrictiveIntInc",
                "StartTimeRestrictiveIntInc",
                true,
                Clock::Optional,
            );
            let inc_end = r.when(
                "EndDateRestrictiveIntInc",
                "EndTimeRestrictiveIntInc",
                false,
                Clock::Optional,
            );
            let reason = r.req("RestrictiveIntReason", InterventionReason::parse);
            let rp = r.req("PostIncidentReviewPatient", yes_no);
            let rs = r.opt("PostIncidentReviewStaff", yes_no);
            let kind = r.req("RestrictiveIntType", InterventionType::parse);
            let start = r.when(
                "StartDateRestrictiveIntType",
                "StartTimeRestrictiveIntType",
                true,
                Clock::Needed,
            );
            let end = r.when(
                "EndDateRestrictiveIntType",
                "EndTimeRestrictiveIntType",
                false,
                Clock::Needed,
            );
            let ip = r.opt("PatientInjury", yes_no);
            let is = r.opt("StaffInjury", yes_no);
            let io = r.opt("OtherPersonInjury", yes_no);
            let cp = r.opt("InCarePlan", yes_no);
            let pol = r.opt("PoliceInvolved", yes_no);
            let (
                Some(inc),
                Some(int),
                Some(Some(p)),
                Some((ward, trust)),
                Some(Some(inc_start)),
                Some(inc_end),
                Some(reason),
                Some(rp),
                Some(rs),
                Some(kind),
                Some(Some(start)),
                Some(end),
                Some(ip),
                Some(is),
                Some(io),
                Some(cp),
                Some(pol),
            ) = (
                inc, int, p, ward, inc_start, inc_end, reason, rp, rs, kind, start, end, ip, is,
                io, cp, pol,
            )
            else {
                return None;
            };
            let inc_end_at = r.check_order(
                "EndDateRestrictiveIntInc",
                inc_start,
                inc_end,
                "the incident",
            );
            let end_at = r.check_order("EndDateRestrictiveIntType", start, end, "the intervention");
            if !r.errors.is_empty() {
                return None;
            }
            check_within_incident(r, inc_start, inc_end, start, end);
            if let Some(e) = end_at {
                let minutes = (e - start.at).whole_minutes();
                if kind.group() != InterventionGroup::Seclusion
                    && kind.group() != InterventionGroup::Segregation
                    && minutes > MAX_RESTRAINT_MINUTES
                {
                    r.fail(
                        "EndDateRestrictiveIntType",
                        format!(
                            "the intervention lasts {} (from {} to {}); expected {} restraint to last at most 24 hours (is the end date mistyped?)",
                            duration(minutes),
                            start.show(),
                            end.map_or_else(String::new, |e| e.show()),
                            kind.group().as_str()
                        ),
                    );
                }
            }
            check_within_stay(
                r,
                reference,
                &p,
                &ward,
                &trust,
                start.at.date(),
                "StartDateRestrictiveIntType",
            );
            r.check_birth(
                "StartDateRestrictiveIntInc",
                reference,
                &p,
                inc_start.at.date(),
            );
            if !r.errors.is_empty() {
                return None;
            }
            let (inc_start, start) = (inc_start.at, start.at);
            let (inc_end, end) = (inc_end_at, end_at);
            let key = format!("{trust}|{inc}|{int}");
            Some((
                key,
                Record::Intervention(
                    trust,
                    Intervention {
                        incident_id: inc,
                        intervention_id: int,
                        patient: p,
                        ward,
                        incident_start: inc_start,
                        incident_end: inc_end,
                        reason,
                        review_with_patient: rp,
                        review_with_staff: rs.unwrap_or(false),
                        kind,
                        start,
                        end,
                        injury_patient: ip.unwrap_or(false),
                        injury_staff: is.unwrap_or(false),
                        injury_other: io.unwrap_or(false),
                        in_care_plan: cp,
                        police_involved: pol,
                    },
                ),
            ))
        }
        Kind::Incidents => {
            let id = r.req("IncidentID", local_id);
            let kind = r.req("IncidentKind", IncidentKind::parse);
            let p = r.nhs("NHSNumber", keys, false);
            let ward = r.ward("WardCode", reference);
            let when = r
                .when("IncidentDate", "IncidentTime", true, Clock::Optional)
                .map(|w| w.map(|w| w.at));
            let harm = r.req("PhysicalHarm", Harm::parse);
            let psych = r.opt("PsychologicalHarm", PsychologicalHarm::parse);
            let leave = r.opt("OnLeave", yes_no);
            let cat = r.opt("SexualSafetyCategory", SexualSafetyCategory::parse);
            let perp = r.opt("PerpetratorType", PersonType::parse);
            let victim = r.opt("VictimType", PersonType::parse);
            let police = r.opt("PoliceInformed", yes_no);
            let safeg = r.opt("SafeguardingReferral", yes_no);
            let method = r.opt("SelfHarmMethod", SelfHarmMethod::parse);
            let place = |s: &str| Ok::<_, String>(s.trim().to_ascii_uppercase());
            let area = r.opt("LigatureAreaCode", place);
            let point = r.opt("LigaturePointRef", place);
            let (Some(method), Some(area), Some(point)) = (method, area, point) else {
                return None;
            };
            let (
                Some(id),
                Some(kind),
                Some(p),
                Some((ward, trust)),
                Some(Some(when)),
                Some(harm),
                Some(psych),
                Some(leave),
                Some(cat),
                Some(perp),
                Some(victim),
                Some(police),
                Some(safeg),
            ) = (
                id, kind, p, ward, when, harm, psych, leave, cat, perp, victim, police, safeg,
            )
            else {
                return None;
            };
            if let Some(p) = &p {
                r.check_birth("IncidentDate", reference, p, when.date());
                if !r.errors.is_empty() {
                    return None;
                }
            }
            if kind == IncidentKind::SexualSafety && cat.is_none() {
                r.fail("SexualSafetyCategory", "is empty; a sexual safety incident needs its category (assault, verbal, non_verbal, online)".into());
                return None;
            }
            if kind != IncidentKind::SexualSafety && cat.is_some() {
                r.fail(
                    "SexualSafetyCategory",
                    format!(
                        "is given for a {} incident; expected it only for sexual_safety",
                        kind.code()
                    ),
                );
                return None;
            }
            let (area, point) =
                incident_place(r, reference, &ward, when.date(), kind, method, area, point)?;
            Some((
                format!("{trust}|{id}"),
                Record::Incident(
                    trust,
                    Incident {
                        local_id: id,
                        kind,
                        patient: p,
                        ward,
                        occurred: when,
                        harm,
                        psychological_harm: psych,
                        on_leave: leave.unwrap_or(false),
                        category: cat,
                        perpetrator: perp,
                        victim,
                        police_informed: police,
                        safeguarding_referral: safeg,
                        ligature_area: area,
                        ligature_point: point,
                        method,
                    },
                ),
            ))
        }
        Kind::Leave => {
            let id = r.req("LeaveID", local_id);
            let p = r.nhs("NHSNumber", keys, true);
            let ward = r.ward("WardCode", reference);
            let start = r.when(
                "StartDateMHLeaveAbs",
                "StartTimeMHLeaveAbs",
                true,
                Clock::Optional,
            );
            let agreed = r.when("AgreedReturnDate", "AgreedReturnTime", true, Clock::Needed);
            let actual = r.when(
                "EndDateMHLeaveAbs",
                "EndTimeMHLeaveAbs",
                false,
                Clock::Needed,
            );
            let (
                Some(id),
                Some(Some(p)),
                Some((ward, trust)),
                Some(Some(start)),
                Some(Some(agreed)),
                Some(actual),
            ) = (id, p, ward, start, agreed, actual)
            else {
                return None;
            };
            let agreed = r
                .check_order("AgreedReturnDate", start, Some(agreed), "the agreed leave")
                .unwrap_or(agreed.at);
            let actual = r.check_order("EndDateMHLeaveAbs", start, actual, "the leave");
            r.check_birth("StartDateMHLeaveAbs", reference, &p, start.at.date());
            if !r.errors.is_empty() {
                return None;
            }
            let start = start.at;
            Some((
                format!("{trust}|{id}"),
                Record::Leave(
                    trust,
                    LeavePeriod {
                        local_id: id,
                        patient: p,
                        ward,
                        start,
                        agreed_return: agreed,
                        actual_return: actual,
                    },
                ),
            ))
        }
        Kind::Awol => {
            let id = r.req("AWOLID", local_id);
            let p = r.nhs("NHSNumber", keys, true);
            let ward = r.ward("WardCode", reference);
            let start = r.when(
                "StartDateMHAbsWOLeave",
                "StartTimeMHAbsWOLeave",
                true,
                Clock::Optional,
            );
            let end = r.when(
                "EndDateMHAbsWOLeave",
                "EndTimeMHAbsWOLeave",
                false,
                Clock::Optional,
            );
            let reason = r.opt("MHAbsWOLeaveEndReason", |s| {
                Ok(s.chars().take(200).collect::<String>())
            });
            let (
                Some(id),
                Some(Some(p)),
                Some((ward, trust)),
                Some(Some(start)),
                Some(end),
                Some(reason),
            ) = (id, p, ward, start, end, reason)
            else {
                return None;
            };
            let end = r.check_order("EndDateMHAbsWOLeave", start, end, "the absence");
            r.check_birth("StartDateMHAbsWOLeave", reference, &p, start.at.date());
            if !r.errors.is_empty() {
                return None;
            }
            let start = start.at;
            Some((
                format!("{trust}|{id}"),
                Record::Awol(
                    trust,
                    AwolEpisode {
                        local_id: id,
                        patient: p,
                        ward,
                        start,
                        end,
                        end_reason: reason,
                    },
                ),
            ))
        }
        Kind::Survey => {
            let id = r.req("ResponseID", local_id);
            let ward = r.ward("WardCode", reference);
            let d = r.req("SurveyDate", date);
            let safe = r.req("FeelSexuallySafe", yes_no);
            let (Some(id), Some((ward, trust)), Some(d), Some(safe)) = (id, ward, d, safe) else {
                return None;
            };
            Some((
                format!("{trust}|{id}"),
                Record::Survey(
                    trust,
                    SurveyAnswer {
                        response_id: id,
                        ward,
                        date: d,
                        felt_sexually_safe: safe,
                    },
                ),
            ))
        }
        // Read by `crate::freed`, `crate::acute` and `crate::staff` above.
        Kind::FreedServices
        | Kind::FreedReferrals
        | Kind::FreedContacts
        | Kind::FreedPauses
        | Kind::FreedDischarges
        | Kind::AcuteSelfHarm
        | Kind::StaffHarm => None,
    }
}

/// What one row must agree with in the rows before it in the same file: the incident columns
/// repeated on each of an incident's rows, and the trust of a ward given on several rows.
#[derive(Default)]
pub struct AcrossRows {
    /// Trust and incident identifier -> the first row's line and incident columns (patient,
    /// ward, start date, reason, review with the patient; times may differ from row to row).
    incidents: rustc_hash::FxHashMap<(Arc<str>, String), (usize, IncidentColumns)>,
    /// Ward code -> the first row's line and trust.
    ward_trusts: rustc_hash::FxHashMap<String, (usize, String)>,
}

#[derive(Clone, PartialEq)]
struct IncidentColumns {
    patient: Arc<str>,
    ward: WardCode,
    start: Date,
    reason: InterventionReason,
    review_with_patient: bool,
}

impl AcrossRows {
    /// Check a valid record against the earlier rows of the file; problems go to the row.
    pub fn check(&mut self, r: &mut RowReader, record: &Record) {
        match record {
            Record::Intervention(trust, x) => {
                let now = IncidentColumns {
                    patient: x.patient.0.clone(),
                    ward: x.ward.clone(),
                    start: x.incident_start.date(),
                    reason: x.reason,
                    review_with_patient: x.review_with_patient,
                };
                let key = (trust.clone(), x.incident_id.clone());
                let Some((line, first)) = self.incidents.get(&key) else {
                    self.incidents.insert(key, (r.line, now));
                    return;
                };
                if *first == now {
                    return;
                }
                let yn = |b: bool| if b { "Y" } else { "N" }.to_string();
                let differs: [(&str, bool, String, String); 5] = [
                    (
                        "NHSNumber",
                        first.patient != now.patient,
                        String::new(),
                        String::new(),
                    ),
                    (
                        "WardCode",
                        first.ward != now.ward,
                        first.ward.to_string(),
                        now.ward.to_string(),
                    ),
                    (
                        "StartDateRestrictiveIntInc",
                        first.start != now.start,
                        domain::dates::iso(first.start),
                        domain::dates::iso(now.start),
                    ),
                    (
                        "RestrictiveIntReason",
                        first.reason != now.reason,
                        first.reason.code().into(),
                        now.reason.code().into(),
                    ),
                    (
                        "PostIncidentReviewPatient",
                        first.review_with_patient != now.review_with_patient,
                        yn(first.review_with_patient),
                        yn(now.review_with_patient),
                    ),
                ];
                let line = *line;
                for (col, differ, was, is) in differs {
                    if differ {
                        let what = if col == "NHSNumber" {
                            format!("line {line} has a different NHS number")
                        } else {
                            format!("line {line} gives {was}, this row {is}")
                        };
                        r.fail(
                            col,
                            format!(
                                "rows of incident {} disagree: {what}; expected the incident's columns the same on each of its rows",
                                x.incident_id
                            ),
                        );
                    }
                }
            }
            Record::Ward { ward, trust, .. } => match self.ward_trusts.get(ward.code.as_str()) {
                Some((line, first)) if first != trust => {
                    let line = *line;
                    r.fail(
                            "SiteCode",
                            format!(
                                "ward {} is on a site of trust {first} on line {line} but of trust {trust} here; expected a ward to belong to one trust",
                                ward.code
                            ),
                        );
                }
                Some(_) => {}
                None => {
                    self.ward_trusts
                        .insert(ward.code.to_string(), (r.line, trust.clone()));
                }
            },
            _ => {}
        }
    }
}

/// DOMAIN.md: an intervention outside the patient's stay is invalid. Checked when the
/// patient has stays uploaded at the ward's trust: the intervention must then fall within one
/// of the patient's stays on its ward (a ward where the patient has no stay at all is refused
/// too). Patients without stay records at that trust cannot be checked.
fn check_within_stay(
    r: &mut RowReader,
    reference: &Reference,
    p: &Pseudonym,
    ward: &WardCode,
    trust: &str,
    d: Date,
    col: &str,
) {
    let Some(stays) = reference.stays.get(p.0.as_ref()) else {
        return;
    };
    let at_trust: Vec<&(String, i64, Option<i64>)> = stays
        .iter()
        .filter(|(w, ..)| {
            reference
                .wards
                .get(w.as_str())
                .is_some_and(|(_, t)| t.as_ref() == trust)
        })
        .collect();
    if at_trust.is_empty() {
        return;
    }
    let on_ward: Vec<&(String, i64, Option<i64>)> = at_trust
        .iter()
        .copied()
        .filter(|(w, ..)| w == ward.as_str())
        .collect();
    if on_ward.is_empty() {
        let mut others: Vec<&str> = at_trust.iter().map(|(w, ..)| w.as_str()).collect();
        others.sort_unstable();
        others.dedup();
        r.fail(
            "WardCode",
            format!(
                "the patient has no stay on ward {ward} (their stays at trust {trust} are on {}); expected an intervention on a ward where the patient stayed (upload the ward stay first, or check the ward)",
                others.join(", ")
            ),
        );
        return;
    }
    let day = i64::from(day_number(d));
    if !on_ward
        .iter()
        .any(|(_, s, e)| *s <= day && e.is_none_or(|e| day <= e))
    {
        r.fail(col, format!("{} is outside every stay of this patient on ward {ward}; expected a date during the patient's stay", domain::dates::iso(d)));
    }
}

/// An intervention lies within its incident: it starts no earlier than the incident and, when
/// the incident's end is given, starts and ends no later than it (compared by date where a
/// time is blank).
fn check_within_incident(
    r: &mut RowReader,
    inc_start: At,
    inc_end: Option<At>,
    start: At,
    end: Option<At>,
) {
    if start.before(inc_start) {
        r.fail(
            "StartDateRestrictiveIntType",
            format!(
                "the intervention starts ({}) before its incident starts ({}); expected each intervention within its incident",
                start.show(),
                inc_start.show()
            ),
        );
        return;
    }
    let Some(inc_end) = inc_end else { return };
    if inc_end.before(start) {
        r.fail(
            "StartDateRestrictiveIntType",
            format!(
                "the intervention starts ({}) after its incident ends ({}); expected each intervention within its incident",
                start.show(),
                inc_end.show()
            ),
        );
    } else if let Some(end) = end
        && inc_end.before(end)
    {
        r.fail(
            "EndDateRestrictiveIntType",
            format!(
                "the intervention ends ({}) after its incident ends ({}); expected each intervention within its incident",
                end.show(),
                inc_end.show()
            ),
        );
    }
}

/// Minutes as a person would say them: "3 days 4 hours", "2 years 10 days".
fn duration(minutes: i64) -> String {
    let days = minutes / 1440;
    let (years, days) = (days / 365, days % 365);
    let hours = (minutes % 1440) / 60;
    let mut parts = Vec::new();
    if years > 0 {
        parts.push(format!("{years} year{}", if years == 1 { "" } else { "s" }));
    }
    if days > 0 {
        parts.push(format!("{days} day{}", if days == 1 { "" } else { "s" }));
    }
    if years == 0 && hours > 0 {
        parts.push(format!("{hours} hour{}", if hours == 1 { "" } else { "s" }));
    }
    if parts.is_empty() {
        parts.push(format!("{minutes} minutes"));
    }
    parts.join(" ")
}

/// Where a self-harm incident happened, by its ward's ligature register (issue 13, item 4): a
/// point must be one of the ward's register (its area then follows, as the register held it on
/// the incident's day), an area one of its areas, and both agree; the method and the place are
/// for self-harm incidents only. `None` after reporting the problem on the row.
#[allow(clippy::too_many_arguments)]
fn incident_place(
    r: &mut RowReader<'_, '_>,
    reference: &Reference,
    ward: &WardCode,
    day: Date,
    kind: IncidentKind,
    method: Option<SelfHarmMethod>,
    area: Option<String>,
    point: Option<String>,
) -> Option<(Option<String>, Option<String>)> {
    if kind != IncidentKind::SelfHarm {
        for (col, given) in [
            ("SelfHarmMethod", method.is_some()),
            ("LigatureAreaCode", area.is_some()),
            ("LigaturePointRef", point.is_some()),
        ] {
            if given {
                r.fail(
                    col,
                    format!(
                        "is given for an incident of kind {}; expected it only for self_harm (or blank)",
                        kind.code()
                    ),
                );
                return None;
            }
        }
    }
    if area.is_none() && point.is_none() {
        return Some((None, None));
    }
    let w = ward.as_str();
    let empty = crate::ligature::Places::default();
    let places = reference.ligature.get(w).unwrap_or(&empty);
    let list = |xs: Vec<&String>| {
        let mut v: Vec<&str> = xs.iter().take(8).map(|s| s.as_str()).collect();
        if xs.len() > 8 {
            v.push("...");
        }
        v.join(", ")
    };
    let mut area = area;
    if let Some(p) = &point {
        let Some(held) = places.area_of(p, day) else {
            let msg = if places.points.is_empty() {
                format!(
                    "'{p}' is not a point of ward {w}'s ligature register, which has no points yet; expected a point of the incident's own ward (or blank)"
                )
            } else {
                format!(
                    "'{p}' is not a point of ward {w}'s ligature register (a point of another ward?); expected one of its points: {}",
                    list(places.points.keys().collect())
                )
            };
            r.fail("LigaturePointRef", msg);
            return None;
        };
        match &area {
            Some(a) if a != held => {
                r.fail(
                    "LigatureAreaCode",
                    format!("is {a}, but point {p} is in area {held} of ward {w}'s ligature register; expected {held} (or blank)"),
                );
                return None;
            }
            _ => area = Some(held.to_string()),
        }
    }
    if let Some(a) = &area
        && !places.areas.contains(a)
    {
        let msg = if places.areas.is_empty() {
            format!(
                "'{a}' is not an area of ward {w}'s ligature register, which has no areas yet; expected an area of the incident's own ward (or blank)"
            )
        } else {
            format!(
                "'{a}' is not an area of ward {w}'s ligature register (an area of another ward?); expected one of {}",
                list(places.areas.iter().collect())
            )
        };
        r.fail("LigatureAreaCode", msg);
        return None;
    }
    Some((area, point))
}
