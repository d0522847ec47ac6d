//! A fictional region, generated deterministically from a seed and a size: trusts, sites and
//! wards of different types (by default 6 trusts of 10 wards), years of ward stays and
//! midnight census (by default five, ending October 2026), and events at rates like the
//! published national ones, with seasonal noise, patient-level clustering, the ethnic
//! disproportion in restrictive practice, and planted, dated changes that the charts should
//! find. The output is the canonical upload files, which then go through the real import.
//!
//! The default size gives the same files, byte for byte, as the demo always has (a test holds
//! their hashes). A larger size keeps the first six trusts' codes, names and planted changes
//! where the default has them and adds trusts R9G, R9H, ... R8A, ... with their own names, one
//! ICB per three trusts.

use crate::SplitMix;
use domain::NhsNumber;
use domain::dates::{date_from_day, day_number, iso};
use std::fmt::Write;
use time::Date;

/// What the generator planted, so that the README, the tests and the pages can say what to look for.
#[derive(Clone, Debug)]
pub struct Planted {
    pub description: &'static str,
    pub ward_or_trust: String,
    pub from: Date,
}

/// How big a region to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    pub trusts: usize,
    pub wards_per_trust: usize,
    /// Whole years, ending with the demo's last month (October 2026).
    pub years: u32,
}

impl Default for Size {
    /// The demo region: 6 trusts, 10 wards each, five years.
    fn default() -> Self {
        Size {
            trusts: 6,
            wards_per_trust: 10,
            years: 5,
        }
    }
}

/// The largest region the generator makes: trust codes R9A to R1Z, ward names with a number
/// after the first 24, and patients' NHS numbers from the test range 999 000 000x to 999 999 999x.
pub const MAX_TRUSTS: usize = 9 * 26;
pub const MAX_WARDS_PER_TRUST: usize = 24 * 9;
pub const MAX_YEARS: u32 = 20;

/// A size the generator cannot make.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SizeError {
    #[error("--trusts must be 1 to {MAX_TRUSTS} (got {0})")]
    Trusts(usize),
    #[error("--wards-per-trust must be 1 to {MAX_WARDS_PER_TRUST} (got {0})")]
    WardsPerTrust(usize),
    #[error("--years must be 1 to {MAX_YEARS} (got {0})")]
    Years(u32),
    #[error(
        "the region needs more patients than the NHS test number range holds (about 900,000); choose fewer trusts, wards or years"
    )]
    TooManyPatients,
}

impl Size {
    pub fn check(&self) -> Result<(), SizeError> {
        if !(1..=MAX_TRUSTS).contains(&self.trusts) {
            return Err(SizeError::Trusts(self.trusts));
        }
        if !(1..=MAX_WARDS_PER_TRUST).contains(&self.wards_per_trust) {
            return Err(SizeError::WardsPerTrust(self.wards_per_trust));
        }
        if !(1..=MAX_YEARS).contains(&self.years) {
            return Err(SizeError::Years(self.years));
        }
        Ok(())
    }

    /// The first day covered: 1 November, `years` years before the end.
    pub fn start(&self) -> Date {
        let end = demo_end();
        Date::from_calendar_date(end.year() - self.years as i32, time::Month::November, 1)
            .unwrap_or(end)
    }
}

pub struct DemoFiles {
    /// (kind, file name, contents) in upload order: the safety programme's data.
    pub files: Vec<(&'static str, &'static str, String)>,
    pub planted: Vec<Planted>,
    /// The sister programmes' files (FREED services and referrals), uploaded after `files`, and
    /// what they plant.
    pub programme: crate::freed::FreedFiles,
    /// The network beyond inpatient care (issue 12): an acute trust, its patients and their
    /// self-harm incidents, every trust's staff counts; uploaded after `programme`.
    pub network: Vec<(&'static str, &'static str, String)>,
    pub wards: usize,
    pub trusts: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum WardType {
    AdultAcute,
    Picu,
    OlderAdult,
    LearningDisability,
    Camhs,
    EatingDisorders,
    LowSecure,
    MediumSecure,
    Rehabilitation,
}

impl WardType {
    fn code(self) -> &'static str {
        match self {
            WardType::AdultAcute => "adult_acute",
            WardType::Picu => "picu",
            WardType::OlderAdult => "older_adult",
            WardType::LearningDisability => "learning_disability",
            WardType::Camhs => "camhs",
            WardType::EatingDisorders => "eating_disorders",
            WardType::LowSecure => "low_secure",
            WardType::MediumSecure => "medium_secure",
            WardType::Rehabilitation => "rehabilitation",
        }
    }

    /// Mean length of stay in days.
    fn los(self) -> f64 {
        match self {
            WardType::AdultAcute => 32.0,
            WardType::Picu => 21.0,
            WardType::OlderAdult => 55.0,
            WardType::LearningDisability => 180.0,
            WardType::Camhs => 70.0,
            WardType::EatingDisorders => 90.0,
            WardType::LowSecure => 300.0,
            WardType::MediumSecure => 420.0,
            WardType::Rehabilitation => 220.0,
        }
    }

    /// Events per 1,000 occupied bed days: restrictive interventions, self-harm, AWOL,
    /// sexual safety, leave periods. Orders of magnitude as MHSDS and NHS publications show.
    fn rates(self) -> [f64; 5] {
        match self {
            WardType::AdultAcute => [14.0, 7.0, 2.2, 1.6, 60.0],
            WardType::Picu => [55.0, 5.0, 0.6, 2.5, 15.0],
            WardType::OlderAdult => [7.0, 1.5, 0.4, 1.0, 20.0],
            WardType::LearningDisability => [60.0, 9.0, 0.8, 2.0, 40.0],
            WardType::Camhs => [75.0, 28.0, 1.5, 2.2, 45.0],
            WardType::EatingDisorders => [45.0, 12.0, 0.5, 0.6, 35.0],
            WardType::LowSecure => [20.0, 6.0, 0.3, 1.8, 30.0],
            WardType::MediumSecure => [16.0, 5.0, 0.2, 1.5, 20.0],
            WardType::Rehabilitation => [4.0, 2.0, 1.0, 0.8, 80.0],
        }
    }

    fn age_range(self) -> (i32, i32) {
        match self {
            WardType::Camhs => (13, 17),
            WardType::OlderAdult => (66, 92),
            WardType::EatingDisorders => (18, 40),
            _ => (18, 64),
        }
    }
}

const TYPES: [WardType; 9] = [
    WardType::AdultAcute,
    WardType::Picu,
    WardType::OlderAdult,
    WardType::LearningDisability,
    WardType::Camhs,
    WardType::EatingDisorders,
    WardType::LowSecure,
    WardType::MediumSecure,
    WardType::Rehabilitation,
];

struct Trust {
    code: &'static str,
    name: &'static str,
    icb: &'static str,
}

/// A trust of the region: the six named ones first, then made-up ones.
struct TrustSpec {
    code: String,
    name: String,
    icb: String,
}

/// Place names for trusts beyond the first six: `FIRST[i] + SECOND[j]`, e.g. "Ashbrook".
const PLACE_FIRST: [&str; 16] = [
    "Ash", "Black", "Bright", "Brook", "Clay", "Cold", "Fair", "Green", "High", "Kings", "Long",
    "Mill", "Oak", "Red", "Stone", "Thorn",
];
const PLACE_SECOND: [&str; 16] = [
    "bridge", "brook", "bury", "dale", "field", "ford", "gate", "ham", "hurst", "lea", "mere",
    "moor", "stead", "ton", "well", "wick",
];
const TRUST_KINDS: [&str; 4] = [
    "Mental Health NHS Foundation Trust",
    "Partnership NHS Trust",
    "Health and Care NHS Trust",
    "Mental Health NHS Trust",
];

/// Trust `t` (0-based) of a region: R9A-R9F as the demo has always had them; then R9G...R9Z,
/// R8A...R8Z, ... (three characters starting with R, as ODS trust codes are). ICBs take three
/// trusts each: Q9A, Q9B, ... then Q8A, ...
fn trust_spec(t: usize) -> TrustSpec {
    if let Some(n) = TRUSTS.get(t) {
        return TrustSpec {
            code: n.code.into(),
            name: n.name.into(),
            icb: n.icb.into(),
        };
    }
    let code = |first: char, i: usize| {
        format!("{first}{}{}", 9 - i / 26, char::from(b'A' + (i % 26) as u8))
    };
    let k = t - TRUSTS.len();
    let place = format!(
        "{}{}",
        PLACE_FIRST[k % PLACE_FIRST.len()],
        PLACE_SECOND[(k / PLACE_FIRST.len() + k * 7) % PLACE_SECOND.len()]
    );
    TrustSpec {
        code: code('R', t),
        name: format!("{place} {} (demo)", TRUST_KINDS[k % TRUST_KINDS.len()]),
        icb: code('Q', t / 3),
    }
}

/// The name of ICB number `i` (three trusts each).
fn icb_name(i: usize) -> String {
    match i {
        0 => "Demo North Integrated Care Board".into(),
        1 => "Demo South Integrated Care Board".into(),
        _ => format!("Demo Integrated Care Board {}", i + 1),
    }
}

const TRUSTS: [Trust; 6] = [
    Trust {
        code: "R9A",
        name: "Northmoor Mental Health NHS Foundation Trust (demo)",
        icb: "Q9A",
    },
    Trust {
        code: "R9B",
        name: "Riverside Partnership NHS Trust (demo)",
        icb: "Q9A",
    },
    Trust {
        code: "R9C",
        name: "Eastfield Care NHS Foundation Trust (demo)",
        icb: "Q9A",
    },
    Trust {
        code: "R9D",
        name: "Hillcrest Health and Care NHS Trust (demo)",
        icb: "Q9B",
    },
    Trust {
        code: "R9E",
        name: "Westshore Mental Health NHS Trust (demo)",
        icb: "Q9B",
    },
    Trust {
        code: "R9F",
        name: "Southvale Secure Services NHS Trust (demo)",
        icb: "Q9B",
    },
];

const WARD_NAMES: [&str; 24] = [
    "Ash", "Beech", "Cedar", "Elm", "Hazel", "Holly", "Juniper", "Larch", "Maple", "Oak", "Pine",
    "Rowan", "Willow", "Yew", "Alder", "Birch", "Cherry", "Hawthorn", "Lime", "Poplar", "Sycamore",
    "Aspen", "Hornbeam", "Linden",
];

/// A patient of a ward who may be readmitted to it: what their events depend on, and their
/// stays (first day, discharge day), which a readmission must not overlap.
struct Former {
    nhs_text: String,
    eth_mult: f64,
    ld_mult: f64,
    frailty: f64,
    stays: Vec<(i32, i32)>,
}

struct WardSpec {
    code: String,
    trust: usize,
    kind: WardType,
    sex: &'static str,
    beds: u32,
    /// Ward-level multiplier on restrictive practice (some wards are much higher than others).
    culture: f64,
}

/// The five years the default demo covers: November 2021 to October 2026 (60 whole months).
pub fn demo_start() -> Date {
    time::macros::date!(2021 - 11 - 01)
}

pub fn demo_end() -> Date {
    time::macros::date!(2026 - 10 - 31)
}

/// Dates of the planted changes.
pub const HUDDLES_START: Date = time::macros::date!(2024 - 03 - 01);
pub const DETERIORATION_START: Date = time::macros::date!(2025 - 06 - 01);
pub const UNDER_REPORTING: (Date, Date) = (
    time::macros::date!(2025 - 01 - 01),
    time::macros::date!(2025 - 07 - 31),
);

/// The default demo region (6 trusts of 10 wards, five years) from a seed.
pub fn generate(seed: u64) -> DemoFiles {
    generate_region(Size::default(), seed).expect("the default size fits")
}

/// A region of any size from a seed; the same seed and size give the same files.
pub fn generate_region(size: Size, seed: u64) -> Result<DemoFiles, SizeError> {
    size.check()?;
    let mut rng = SplitMix(seed);
    let start = size.start();
    let end = demo_end();
    let (d0, d1) = (day_number(start), day_number(end));
    let trusts: Vec<TrustSpec> = (0..size.trusts).map(trust_spec).collect();

    // Organisations.
    let mut orgs =
        String::from("OrgCode,OrgName,OrgLevel,ParentOrgCode\nY99,Demo Region,region,\n");
    for i in 0..size.trusts.div_ceil(3) {
        let _ = writeln!(orgs, "{},{},icb,Y99", trust_spec(i * 3).icb, icb_name(i));
    }
    let mut wards: Vec<WardSpec> = Vec::new();
    let mut ward_csv =
        String::from("WardCode,WardName,SiteCode,WardType,WardSexMix,Beds,BedsFromDate\n");
    // Where each trust's wards start in `wards`.
    let first_ward = |t: usize| t * size.wards_per_trust;
    for (t, trust) in trusts.iter().enumerate() {
        let _ = writeln!(orgs, "{},{},trust,{}", trust.code, trust.name, trust.icb);
        let sites = 2 + (t % 2);
        for s in 1..=sites {
            let _ = writeln!(
                orgs,
                "{}{:02},{} site {s} (demo),site,{}",
                trust.code,
                s,
                trust.name.split(' ').next().unwrap_or("Demo"),
                trust.code
            );
        }
        for w in 0..size.wards_per_trust {
            // The secure trust (every sixth) is mostly secure wards; the others mostly acute.
            let kind = if t % 6 == 5 {
                [
                    WardType::LowSecure,
                    WardType::MediumSecure,
                    WardType::LowSecure,
                    WardType::MediumSecure,
                    WardType::LearningDisability,
                    WardType::Rehabilitation,
                    WardType::LowSecure,
                    WardType::MediumSecure,
                    WardType::Picu,
                    WardType::Rehabilitation,
                ][w % 10]
            } else {
                [
                    WardType::AdultAcute,
                    WardType::AdultAcute,
                    WardType::AdultAcute,
                    WardType::Picu,
                    WardType::OlderAdult,
                    WardType::AdultAcute,
                    TYPES[3 + (t + w) % 3],
                    WardType::OlderAdult,
                    WardType::Rehabilitation,
                    TYPES[(t * 3 + w) % 9],
                ][w % 10]
            };
            let sex = match (w + t) % 3 {
                0 => "male",
                1 => "female",
                _ => "mixed",
            };
            let sex = if kind == WardType::Camhs || kind == WardType::OlderAdult {
                "mixed"
            } else {
                sex
            };
            let beds = 12 + (rng.next_u64() % 11) as u32;
            // Names as the default region has them (ten wards a trust, the 24 names in turn), so
            // that a trust's first ten wards are the same wards at any size.
            let base = WARD_NAMES[(t * 10 + w) % WARD_NAMES.len()];
            // Past 24 wards in a trust the names come round again, numbered.
            let name = match w / WARD_NAMES.len() {
                0 => base.to_string(),
                n => format!("{base} {}", n + 1),
            };
            let code = format!(
                "{}-{}",
                trust.code,
                name.replace(' ', "").to_ascii_uppercase()
            );
            let site = format!("{}{:02}", trust.code, 1 + w % sites);
            let _ = writeln!(
                ward_csv,
                "{code},{name} Ward,{site},{},{sex},{beds},{}",
                kind.code(),
                iso(start)
            );
            let culture = (0.45 * rng.normal()).exp();
            wards.push(WardSpec {
                code,
                trust: t,
                kind,
                sex,
                beds,
                culture,
            });
        }
    }

    // Planted changes, at (trust, ward of that trust): in the default region wards 0, 3, 11,
    // 13 and 22 (R9A-ASH, R9A-ELM, R9B-ROWAN, R9B-YEW, R9C-HORNBEAM), ward 31 (R9D-LARCH) and
    // trust 4 (R9E). A smaller region plants what it has room for.
    let at = |t: usize, w: usize| {
        (t < size.trusts && w < size.wards_per_trust).then(|| first_ward(t) + w)
    };
    let huddle_wards: Vec<usize> = [(0, 0), (0, 3), (1, 1), (1, 3), (2, 2)]
        .into_iter()
        .filter_map(|(t, w)| at(t, w))
        .collect();
    let deteriorating = at(3, 1).unwrap_or(usize::MAX);
    let under_reporting_trust = 4usize;
    let planted = {
        let mut p: Vec<Planted> = huddle_wards
            .iter()
            .filter(|_| HUDDLES_START > start)
            .map(|w| Planted { description: "Safety huddles and a prone-restraint reduction plan started: prone restraint falls by about 75% and all restraint by about 30%", ward_or_trust: wards[*w].code.clone(), from: HUDDLES_START })
            .collect();
        if let Some(w) = wards
            .get(deteriorating)
            .filter(|_| DETERIORATION_START > start)
        {
            p.push(Planted {
                description: "Ward deteriorates: self-harm roughly doubles and restraint rises by half",
                ward_or_trust: w.code.clone(),
                from: DETERIORATION_START,
            });
        }
        if let Some(t) = trusts
            .get(under_reporting_trust)
            .filter(|_| UNDER_REPORTING.0 > start)
        {
            p.push(Planted { description: "Trust under-reports: only about a quarter of restrictive interventions and incidents are uploaded", ward_or_trust: t.code.clone(), from: UNDER_REPORTING.0 });
        }
        p
    };

    let mut patients =
        String::from("NHSNumber,PersonBirthDate,Gender,EthnicCategory,LDAutismFlag\n");
    let mut stays_csv =
        String::from("WardStayId,NHSNumber,WardCode,StartDateWardStay,EndDateWardStay\n");
    let mut census = String::from("WardCode,CensusDate,OccupiedBeds,PatientsOnLeave\n");
    let mut ri = String::from(
        "RestrictiveIntIncID,RestrictiveIntTypeID,NHSNumber,WardCode,StartDateRestrictiveIntInc,StartTimeRestrictiveIntInc,EndDateRestrictiveIntInc,EndTimeRestrictiveIntInc,RestrictiveIntReason,PostIncidentReviewPatient,PostIncidentReviewStaff,RestrictiveIntType,StartDateRestrictiveIntType,StartTimeRestrictiveIntType,EndDateRestrictiveIntType,EndTimeRestrictiveIntType,PatientInjury,StaffInjury,OtherPersonInjury\n",
    );
    let mut incidents = String::from(
        "IncidentID,IncidentKind,NHSNumber,WardCode,IncidentDate,IncidentTime,PhysicalHarm,PsychologicalHarm,OnLeave,SexualSafetyCategory,PerpetratorType,VictimType,PoliceInformed,SafeguardingReferral\n",
    );
    let mut leave = String::from(
        "LeaveID,NHSNumber,WardCode,StartDateMHLeaveAbs,StartTimeMHLeaveAbs,AgreedReturnDate,AgreedReturnTime,EndDateMHLeaveAbs,EndTimeMHLeaveAbs\n",
    );
    let mut awol = String::from(
        "AWOLID,NHSNumber,WardCode,StartDateMHAbsWOLeave,StartTimeMHAbsWOLeave,EndDateMHAbsWOLeave,EndTimeMHAbsWOLeave,MHAbsWOLeaveEndReason\n",
    );
    let mut survey = String::from("ResponseID,WardCode,SurveyDate,FeelSexuallySafe\n");

    let mut next_nhs = 999_000_000u32;
    let mut counters = [0u64; 6];
    let days = (d1 - d0 + 1) as usize;
    // The NHS test-number range holds about 909,000 numbers and a ward takes about 126 new
    // patients a year; a region that would need more than 700,000 readmits former patients of
    // the same ward instead, often enough to stay within the range (none in the default region,
    // which draws nothing for it).
    let expected_patients = wards.len() as f64 * f64::from(size.years) * 130.0;
    let readmit_p = (1.0 - 700_000.0 / expected_patients).clamp(0.0, 0.9);
    for (wi, w) in wards.iter().enumerate() {
        let mut former: Vec<Former> = Vec::new();
        let mut occupied = vec![0u32; days];
        let mut on_leave = vec![0u32; days];
        let los = w.kind.los();
        // Fill each bed with a sequence of stays, starting before the window so that the first
        // day is already full.
        for _bed in 0..w.beds {
            let mut t = d0 - (rng.unit() * los * 2.0) as i32;
            loop {
                let gap = (rng.unit() * los * 0.15).round() as i32 + 1;
                t += gap;
                if t > d1 {
                    break;
                }
                let length = ((-rng.unit().max(1e-9).ln()) * los).round().max(1.0) as i32;
                let stay_start = t;
                let stay_end = t + length; // discharge day: not an occupied night
                t = stay_end;
                if stay_end <= d0 {
                    continue;
                }
                // A patient: a former patient of this ward readmitted (only in a region too big
                // for the test numbers otherwise), or a new one with demographics and their own
                // propensity to be restricted.
                let readmitted = if readmit_p > 0.0 && !former.is_empty() && rng.unit() < readmit_p
                {
                    let k = (rng.next_u64() % former.len() as u64) as usize;
                    let free = !former[k]
                        .stays
                        .iter()
                        .any(|&(s, e)| s < stay_end && stay_start < e);
                    free.then_some(k)
                } else {
                    None
                };
                let (nhs_text, eth_mult, ld_mult, frailty) = match readmitted {
                    Some(k) => {
                        let p = &mut former[k];
                        p.stays.push((stay_start, stay_end));
                        (p.nhs_text.clone(), p.eth_mult, p.ld_mult, p.frailty)
                    }
                    None => {
                        let nhs = loop {
                            if next_nhs >= 999_999_999 {
                                return Err(SizeError::TooManyPatients);
                            }
                            next_nhs += 1;
                            if let Some(n) = NhsNumber::from_nine(next_nhs) {
                                break n;
                            }
                        };
                        let nhs_text: String = nhs.digits().iter().map(|d| *d as char).collect();
                        let (age_lo, age_hi) = w.kind.age_range();
                        let age = age_lo + (rng.unit() * f64::from(age_hi - age_lo + 1)) as i32;
                        let birth = date_from_day(
                            stay_start.max(d0) - age * 365 - (rng.unit() * 300.0) as i32,
                        );
                        let sex = match w.sex {
                            "male" => "1",
                            "female" => "2",
                            _ => {
                                if rng.unit() < 0.5 {
                                    "1"
                                } else {
                                    "2"
                                }
                            }
                        };
                        let u = rng.unit();
                        let (eth, eth_mult): (&str, f64) = match u {
                            u if u < 0.70 => ("A", 1.0),
                            u if u < 0.74 => ("C", 1.0),
                            u if u < 0.76 => ("B", 1.0),
                            u if u < 0.79 => ("N", 3.2),
                            u if u < 0.82 => ("M", 3.4),
                            u if u < 0.83 => ("P", 3.0),
                            u if u < 0.855 => ("D", 1.8),
                            u if u < 0.87 => ("G", 1.5),
                            u if u < 0.90 => ("J", 1.1),
                            u if u < 0.93 => ("H", 0.9),
                            u if u < 0.95 => ("L", 1.0),
                            u if u < 0.96 => ("R", 0.8),
                            u if u < 0.975 => ("S", 1.2),
                            u if u < 0.99 => ("Z", 1.0),
                            _ => ("99", 1.0),
                        };
                        let ld = if w.kind == WardType::LearningDisability || rng.unit() < 0.04 {
                            "Y"
                        } else if rng.unit() < 0.1 {
                            "U"
                        } else {
                            "N"
                        };
                        let ld_mult = if ld == "Y" { 1.6 } else { 1.0 };
                        let frailty = gamma(&mut rng, 0.6) / 0.6;
                        let _ = writeln!(patients, "{nhs_text},{},{sex},{eth},{ld}", iso(birth));
                        if readmit_p > 0.0 {
                            former.push(Former {
                                nhs_text: nhs_text.clone(),
                                eth_mult,
                                ld_mult,
                                frailty,
                                stays: vec![(stay_start, stay_end)],
                            });
                        }
                        (nhs_text, eth_mult, ld_mult, frailty)
                    }
                };
                counters[0] += 1;
                let stay_id = format!("WS{}", counters[0]);
                let end_text = if stay_end > d1 {
                    String::new()
                } else {
                    iso(date_from_day(stay_end))
                };
                let _ = writeln!(
                    stays_csv,
                    "{stay_id},{nhs_text},{},{},{end_text}",
                    w.code,
                    iso(date_from_day(stay_start))
                );

                for day in stay_start.max(d0)..stay_end.min(d1 + 1) {
                    let i = (day - d0) as usize;
                    occupied[i] += 1;
                    let date = date_from_day(day);
                    let season = 1.0
                        + 0.12
                            * ((f64::from(u8::from(date.month())) - 1.0) / 12.0
                                * std::f64::consts::TAU)
                                .cos();
                    let rates = w.kind.rates();
                    let mut ri_rate = rates[0] / 1000.0
                        * w.culture
                        * eth_mult.powf(0.9)
                        * ld_mult
                        * frailty
                        * season;
                    let mut prone_share = 0.09;
                    let mut sh_rate = rates[1] / 1000.0 * season * (0.5 + frailty * 0.5);
                    if huddle_wards.contains(&wi) && date >= HUDDLES_START {
                        ri_rate *= 0.7;
                        prone_share *= 0.33;
                    }
                    if wi == deteriorating && date >= DETERIORATION_START {
                        sh_rate *= 2.2;
                        ri_rate *= 1.5;
                    }
                    let reporting = if w.trust == under_reporting_trust
                        && date >= UNDER_REPORTING.0
                        && date <= UNDER_REPORTING.1
                    {
                        0.25
                    } else {
                        1.0
                    };
                    // Improvement everywhere in post-incident reviews over the five years.
                    let review_p = 0.35 + 0.4 * f64::from(day - d0) / f64::from(d1 - d0);

                    for _ in 0..poisson(&mut rng, ri_rate * reporting) {
                        counters[1] += 1;
                        let inc = format!("RI{}", counters[1]);
                        let hour = (rng.unit() * 24.0) as u32;
                        let minute = (rng.unit() * 60.0) as u32;
                        let mut t_min = hour * 60 + minute;
                        let reason = ["10", "10", "10", "17", "11", "13", "17", "16", "12", "98"]
                            [(rng.next_u64() % 10) as usize];
                        let review = if rng.unit() < review_p { "Y" } else { "N" };
                        let n_int =
                            1 + usize::from(rng.unit() < 0.35) + usize::from(rng.unit() < 0.1);
                        let mut rows = Vec::new();
                        for k in 0..n_int {
                            let u = rng.unit();
                            let ty = if k == 0 {
                                if u < prone_share {
                                    "01"
                                } else if u < 0.30 {
                                    "09"
                                } else if u < 0.45 {
                                    "07"
                                } else if u < 0.55 {
                                    "08"
                                } else if u < 0.62 {
                                    "11"
                                } else if u < 0.68 {
                                    "10"
                                } else if u < 0.72 {
                                    "12"
                                } else if u < 0.78 {
                                    "13"
                                } else if u < 0.86 {
                                    "14"
                                } else if u < 0.92 {
                                    "16"
                                } else if u < 0.985 {
                                    "05"
                                } else if u < 0.995 {
                                    "04"
                                } else {
                                    "06"
                                }
                            } else if u < 0.55 {
                                "14"
                            } else if u < 0.7 {
                                "15"
                            } else if u < 0.9 {
                                "05"
                            } else {
                                "16"
                            };
                            let dur = match ty {
                                "05" => {
                                    (60.0 * 4.0 * (-rng.unit().max(1e-9).ln()) * 6.0) as u32 + 30
                                }
                                "06" => 60 * 24 * (3 + (rng.unit() * 20.0) as u32),
                                "14" | "15" | "16" => 1 + (rng.unit() * 5.0) as u32,
                                _ => ((1.0 + 1.1 * rng.normal()).exp() * 4.0).clamp(1.0, 240.0)
                                    as u32,
                            };
                            let s = t_min;
                            // Never past the day the patient left the ward.
                            if day + (s / 1440) as i32 > stay_end {
                                break;
                            }
                            let e = s + dur;
                            t_min = e + (rng.unit() * 10.0) as u32;
                            rows.push((k + 1, ty, s, e));
                        }
                        let inc_end = rows.last().map_or(t_min, |r| r.3);
                        for (k, ty, s, e) in rows {
                            let injury = if rng.unit() < 0.04 { "Y" } else { "N" };
                            let staff_injury = if rng.unit() < 0.05 { "Y" } else { "N" };
                            let (sd, st) = clock(day, s);
                            let (ed, et) = clock(day, e);
                            let (isd, ist) = clock(day, hour * 60 + minute);
                            let (ied, iet) = clock(day, inc_end);
                            let _ = writeln!(
                                ri,
                                "{inc},{k},{nhs_text},{},{isd},{ist},{ied},{iet},{reason},{review},Y,{ty},{sd},{st},{ed},{et},{injury},{staff_injury},N",
                                w.code
                            );
                        }
                    }
                    for _ in 0..poisson(&mut rng, sh_rate * reporting) {
                        counters[2] += 1;
                        let u = rng.unit();
                        let harm = if u < 0.55 {
                            "none"
                        } else if u < 0.93 {
                            "low"
                        } else if u < 0.985 {
                            "moderate"
                        } else if u < 0.999 {
                            "severe"
                        } else {
                            "fatal"
                        };
                        let on_leave = if rng.unit() < 0.1 { "Y" } else { "N" };
                        let (d, t) = clock(day, (rng.unit() * 1440.0) as u32);
                        let _ = writeln!(
                            incidents,
                            "SH{},self_harm,{nhs_text},{},{d},{t},{harm},low,{on_leave},,,,N,Y",
                            counters[2], w.code
                        );
                    }
                    if rng.unit() < rates[3] / 1000.0 * reporting {
                        counters[2] += 1;
                        let u = rng.unit();
                        let cat = if u < 0.45 {
                            "verbal"
                        } else if u < 0.7 {
                            "non_verbal"
                        } else if u < 0.95 {
                            "assault"
                        } else {
                            "online"
                        };
                        let harm = if rng.unit() < 0.9 { "none" } else { "low" };
                        let perp = if rng.unit() < 0.85 {
                            "patient"
                        } else if rng.unit() < 0.5 {
                            "staff"
                        } else {
                            "visitor"
                        };
                        let police = if cat == "assault" && rng.unit() < 0.5 {
                            "Y"
                        } else {
                            "N"
                        };
                        let (d, t) = clock(day, (rng.unit() * 1440.0) as u32);
                        let _ = writeln!(
                            incidents,
                            "SS{},sexual_safety,{nhs_text},{},{d},{t},{harm},low,N,{cat},{perp},patient,{police},Y",
                            counters[2], w.code
                        );
                    }
                    if rng.unit() < rates[4] / 1000.0 {
                        counters[3] += 1;
                        let out_min = 9 * 60 + (rng.unit() * 480.0) as u32;
                        let hours = 1 + (rng.unit() * 6.0) as u32;
                        let agreed = out_min + hours * 60;
                        let on_time_p = 0.78 + 0.12 * f64::from(day - d0) / f64::from(d1 - d0);
                        let late = if rng.unit() < on_time_p {
                            (rng.unit() * 12.0) as i64 - 10
                        } else {
                            11 + (rng.unit() * 180.0) as i64
                        };
                        let actual = (i64::from(agreed) + late).max(i64::from(out_min)) as u32;
                        if i64::from(actual) < 1440 {
                            on_leave[i] += u32::from(hours >= 4 && rng.unit() < 0.3);
                            let (sd, st) = clock(day, out_min);
                            let (ad, at) = clock(day, agreed);
                            let (ed, et) = clock(day, actual);
                            let _ = writeln!(
                                leave,
                                "L{},{nhs_text},{},{sd},{st},{ad},{at},{ed},{et}",
                                counters[3], w.code
                            );
                        }
                    }
                    if rng.unit() < rates[2] / 1000.0 * reporting {
                        counters[4] += 1;
                        let s = (rng.unit() * 1440.0) as u32;
                        let e = s + 60 + (rng.unit() * 1440.0) as u32;
                        let (sd, st) = clock(day, s);
                        let (ed, et) = clock(day, e);
                        let reason = [
                            "Returned voluntarily",
                            "Returned by police",
                            "Returned by family",
                            "Returned by staff",
                        ][(rng.next_u64() % 4) as usize];
                        let _ = writeln!(
                            awol,
                            "A{},{nhs_text},{},{sd},{st},{ed},{et},{reason}",
                            counters[4], w.code
                        );
                    }
                }
            }
        }
        for (i, (occ, lv)) in occupied.iter().zip(&on_leave).enumerate() {
            let day = d0 + i as i32;
            let _ = writeln!(
                census,
                "{},{},{occ},{}",
                w.code,
                iso(date_from_day(day)),
                (*lv).min(*occ)
            );
        }
        // A monthly sexual safety question, asked of a few patients each month.
        let mut m = start;
        while m <= end {
            let answers = 4 + (rng.next_u64() % 6) as u32;
            let p_safe = if w.sex == "mixed" { 0.72 } else { 0.84 }
                + if m >= HUDDLES_START { 0.05 } else { 0.0 };
            for _ in 0..answers {
                counters[5] += 1;
                let d = m.replace_day(1 + (rng.next_u64() % 27) as u8).unwrap_or(m);
                let _ = writeln!(
                    survey,
                    "S{},{},{},{}",
                    counters[5],
                    w.code,
                    iso(d),
                    if rng.unit() < p_safe { "Y" } else { "N" }
                );
            }
            m = domain::dates::PeriodKind::Month.next_start(m);
        }
    }

    Ok(DemoFiles {
        files: vec![
            ("organisations", "organisations.csv", orgs),
            ("wards", "wards.csv", ward_csv),
            ("patients", "patients.csv", patients),
            ("ward_stays", "ward_stays.csv", stays_csv),
            ("bed_days", "bed_days.csv", census),
            (
                "restrictive_interventions",
                "restrictive_interventions.csv",
                ri,
            ),
            ("incidents", "incidents.csv", incidents),
            ("leave", "leave.csv", leave),
            ("awol", "awol.csv", awol),
            ("survey", "survey.csv", survey),
        ],
        planted,
        programme: crate::freed::generate(
            &trusts
                .iter()
                .map(|t| (t.code.clone(), t.name.clone()))
                .collect::<Vec<_>>(),
            end,
            seed,
        ),
        network: crate::qi_projects::network::beyond_files(
            &trusts
                .iter()
                .map(|t| (t.code.clone(), t.icb.clone()))
                .collect::<Vec<_>>(),
            end,
            seed,
        ),
        wards: wards.len(),
        trusts: trusts.len(),
    })
}

/// A day number and minutes from its midnight (possibly past it) as date and time text.
fn clock(day: i32, minutes: u32) -> (String, String) {
    let d = date_from_day(day + (minutes / 1440) as i32);
    let m = minutes % 1440;
    (iso(d), format!("{:02}:{:02}", m / 60, m % 60))
}

/// Poisson draws by inversion (rates here are small).
fn poisson(rng: &mut SplitMix, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    let l = (-lambda).exp();
    let mut k = 0;
    let mut p = rng.unit();
    while p > l && k < 50 {
        p *= rng.unit();
        k += 1;
    }
    k
}

/// Gamma(shape, 1) by Marsaglia and Tsang (with the boost for shape < 1).
fn gamma(rng: &mut SplitMix, shape: f64) -> f64 {
    if shape < 1.0 {
        let u = rng.unit().max(1e-12);
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = rng.normal();
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = rng.unit();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_region() {
        let a = generate(7);
        let b = generate(7);
        assert_eq!(a.files[5].2.len(), b.files[5].2.len());
        assert_eq!(a.files[5].2[..2000], b.files[5].2[..2000]);
        assert_eq!(a.wards, 60);
    }

    #[test]
    fn poisson_and_gamma_have_the_right_means() {
        let mut r = SplitMix(1);
        let n = 200_000;
        let mean = (0..n).map(|_| f64::from(poisson(&mut r, 0.3))).sum::<f64>() / f64::from(n);
        assert!((mean - 0.3).abs() < 0.01, "{mean}");
        let g = (0..n).map(|_| gamma(&mut r, 0.6)).sum::<f64>() / f64::from(n);
        assert!((g - 0.6).abs() < 0.02, "{g}");
    }
}
