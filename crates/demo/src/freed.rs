//! The demo's FREED eating-disorder services: one per demo trust, two years of referrals (from
//! November 2024 to October 2026) at a few a week, with their engagement calls, assessments,
//! first treatments, pauses and discharges, in the canonical FREED upload files
//! (docs/formats.md). Pure and deterministic like the rest of the generator.
//!
//! What is planted, so that the pages have something true to show:
//! - the second trust's service (R9B) cuts its wait for assessment from about 16 days to about
//!   9 from September 2025 (a triage clinic), so its 2-week clock improves;
//! - people of Asian ethnic categories (H, J, K, L) are under-represented: about 3% of
//!   referrals against about 10% of the population aged 16 to 25 the services serve;
//! - referrals received in the last weeks are still waiting, some past their clocks.

use crate::Planted;
use crate::rng::SplitMix;
use domain::NhsNumber;
use domain::dates::{date_from_day, day_number, iso};
use std::fmt::Write;
use time::{Date, Weekday};

/// When the demo's FREED data start, and when R9B's triage clinic began.
pub const FREED_START: Date = time::macros::date!(2024 - 11 - 01);
pub const TRIAGE_CLINIC_START: Date = time::macros::date!(2025 - 09 - 01);

/// The FREED files in upload order: (kind, file name, contents), and what was planted.
pub struct FreedFiles {
    pub files: Vec<(&'static str, &'static str, String)>,
    pub planted: Vec<Planted>,
}

struct Files {
    services: String,
    referrals: String,
    contacts: String,
    pauses: String,
    discharges: String,
}

/// A choice by weight.
fn pick<'a>(rng: &mut SplitMix, options: &[(&'a str, f64)]) -> &'a str {
    let total: f64 = options.iter().map(|o| o.1).sum();
    let mut u = rng.unit() * total;
    for (value, weight) in options {
        if u < *weight {
            return value;
        }
        u -= weight;
    }
    options.last().map_or("", |o| o.0)
}

/// A wait in days with the given median: gamma with shape 4, so most waits are near the median
/// and a few are long.
fn wait_days(rng: &mut SplitMix, median: f64) -> f64 {
    // The median of Gamma(4, 1) is about 3.67.
    let g: f64 = (0..4).map(|_| -rng.unit().max(1e-12).ln()).sum();
    g / 3.67 * median
}

fn time_text(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60 % 24, minutes % 60)
}

/// The next weekday at or after `day` (services call and see people on weekdays).
fn weekday_on_or_after(day: i32) -> i32 {
    let mut d = day;
    while matches!(
        date_from_day(d).weekday(),
        Weekday::Saturday | Weekday::Sunday
    ) {
        d += 1;
    }
    d
}

/// A moment as (day number, minutes since midnight).
type Moment = (i32, i64);

/// `days` after `at`, moved into working hours on a weekday, and never before `at` (a call
/// due after 17:00 is made the next working morning).
fn later(at: Moment, days: f64) -> Moment {
    let minutes = at.1 + (days * 24.0 * 60.0) as i64;
    let day = at.0 + (minutes / (24 * 60)) as i32;
    let moved = weekday_on_or_after(day);
    let time = if moved == day {
        working_time_of(minutes)
    } else {
        9 * 60
    };
    if (moved, time) <= at {
        (weekday_on_or_after(at.0 + 1), 9 * 60)
    } else {
        (moved, time)
    }
}

fn working_time_of(minutes: i64) -> i64 {
    let m = minutes.rem_euclid(24 * 60);
    // Contacts happen in working hours: clamp into 09:00-17:00 on the quarter hour.
    (m.clamp(9 * 60, 17 * 60) / 15) * 15
}

/// Generate the FREED files for trusts `(code, name)`, up to `end` (the demo's last day).
pub fn generate(trusts: &[(String, String)], end: Date, seed: u64) -> FreedFiles {
    let mut rng = SplitMix(seed ^ 0xF4EE_D000_0000_0001);
    let mut f = Files {
        services: String::from("ServiceCode,ServiceName,OrgCode,WardCode\n"),
        referrals: String::from(
            "ServiceCode,ServiceRequestId,NHSNumber,ReferralRequestReceivedDate,ReferralRequestReceivedTime,SourceOfReferral,AgeServReferRecDate,FirstEpisode,OnsetDate,EDDiagnosisGroup,ClinRespPriorityType,EthnicCategory,Gender,IMDDecile\n",
        ),
        contacts: String::from(
            "ServiceCode,ServiceRequestId,CareContactId,FREEDContactType,CareContDate,CareContTime,AttendOrDNACode\n",
        ),
        pauses: String::from(
            "ServiceCode,ServiceRequestId,PauseStartDate,PauseStartTime,PauseEndDate,PauseEndTime,PauseReason\n",
        ),
        discharges: String::from(
            "ServiceCode,ServiceRequestId,ServDischDate,ServDischTime,ReferClosReason,ReopenedDate,ReopenedTime\n",
        ),
    };
    // NHS numbers from the top of the test range down, apart from the safety data's patients
    // (which count up from the bottom).
    let mut next_nhs = 999_999_999u32;
    let (d0, d1) = (day_number(FREED_START), day_number(end));
    for (t, (code, name)) in trusts.iter().enumerate() {
        let service = format!("{code}-FREED");
        let place = name.split(' ').next().unwrap_or("Demo");
        let _ = writeln!(
            f.services,
            "{service},{place} FREED Early Intervention Service (demo),{code},"
        );
        // Three to five referrals a week, most on weekdays.
        let per_week = 3.0 + (t % 3) as f64;
        let mut serial = 0u32;
        let mut contact = 0u32;
        for day in d0..=d1 {
            let weekend = matches!(
                date_from_day(day).weekday(),
                Weekday::Saturday | Weekday::Sunday
            );
            let mean = if weekend {
                per_week * 0.04
            } else {
                per_week * 0.184
            };
            // Poisson by inversion: a few a day at most.
            let mut k = 0;
            let (mut p, limit) = (1.0, (-mean).exp());
            loop {
                p *= rng.unit();
                if p <= limit {
                    break;
                }
                k += 1;
            }
            for _ in 0..k {
                serial += 1;
                let nhs = loop {
                    next_nhs -= 1;
                    if let Some(n) = NhsNumber::from_nine(next_nhs) {
                        break n;
                    }
                };
                let nhs: String = nhs.digits().iter().map(|d| *d as char).collect();
                let received: Moment = (
                    day,
                    if weekend {
                        (rng.unit() * 24.0 * 60.0) as i64
                    } else {
                        8 * 60 + (rng.unit() * 10.0 * 60.0) as i64
                    },
                );
                let reference = format!(
                    "{}-{}-{serial:04}",
                    &service[..service.find('-').unwrap_or(service.len())],
                    date_from_day(day).year()
                );
                referral(
                    &mut f,
                    &mut rng,
                    &service,
                    &reference,
                    &nhs,
                    received,
                    d1,
                    &mut contact,
                );
            }
        }
    }
    let planted = vec![
        Planted {
            description: "FREED: a triage clinic starts: the wait for assessment falls from about 16 days to about 9, so the 2-week clock improves",
            ward_or_trust: trusts
                .get(1)
                .map_or_else(String::new, |(c, _)| format!("{c}-FREED")),
            from: TRIAGE_CLINIC_START,
        },
        Planted {
            description: "FREED: people of Asian ethnic categories (H, J, K, L) are under-represented: about 3% of referrals",
            ward_or_trust: "every FREED service".into(),
            from: FREED_START,
        },
    ];
    FreedFiles {
        files: vec![
            ("freed_services", "freed_services.csv", f.services),
            ("freed_referrals", "freed_referrals.csv", f.referrals),
            ("freed_contacts", "freed_contacts.csv", f.contacts),
            ("freed_pauses", "freed_pauses.csv", f.pauses),
            ("freed_discharges", "freed_discharges.csv", f.discharges),
        ],
        planted,
    }
}

/// One referral and everything that happened to it by `end`.
#[allow(clippy::too_many_arguments)]
fn referral(
    f: &mut Files,
    rng: &mut SplitMix,
    service: &str,
    reference: &str,
    nhs: &str,
    received: Moment,
    end: i32,
    contact: &mut u32,
) {
    let source = pick(
        rng,
        &[
            ("gp", 0.55),
            ("self_referral", 0.2),
            ("family_or_carer", 0.08),
            ("education", 0.06),
            ("other_health_service", 0.1),
            ("not_known", 0.01),
        ],
    );
    let u = rng.unit();
    let age: Option<i32> = if u < 0.02 {
        None
    } else if u < 0.10 {
        Some(14 + (rng.unit() * 2.0) as i32)
    } else if u < 0.93 {
        Some(16 + (rng.unit() * 10.0) as i32)
    } else {
        Some(26 + (rng.unit() * 4.0) as i32)
    };
    let first = pick(rng, &[("Y", 0.82), ("N", 0.14), ("U", 0.04)]);
    // Onset: months before the referral, mostly within the three years FREED asks.
    let months_before = (-rng.unit().max(1e-9).ln() * 14.0).min(70.0) as i32 + 1;
    let referral_date = date_from_day(received.0);
    let onset_month = {
        let total = referral_date.year() * 12 + referral_date.month() as i32 - 1 - months_before;
        (total.div_euclid(12), total.rem_euclid(12) + 1)
    };
    let onset = match pick(
        rng,
        &[
            ("day", 0.1),
            ("month", 0.6),
            ("year", 0.22),
            ("unknown", 0.08),
        ],
    ) {
        "day" => format!(
            "{:04}-{:02}-{:02}",
            onset_month.0,
            onset_month.1,
            1 + (rng.unit() * 28.0) as u32
        ),
        "month" => format!("{:04}-{:02}", onset_month.0, onset_month.1),
        // A year alone: the onset month's year, which starts before the referral.
        "year" => format!("{:04}", onset_month.0),
        _ => String::new(),
    };
    let diagnosis = pick(
        rng,
        &[
            ("AN", 0.34),
            ("BN", 0.2),
            ("BED", 0.14),
            ("OSFED", 0.2),
            ("ARFID", 0.05),
            ("OTHER", 0.02),
            ("NYK", 0.05),
        ],
    );
    let urgent = rng.unit() < 0.12;
    let ethnic = pick(
        rng,
        &[
            ("A", 0.72),
            ("B", 0.02),
            ("C", 0.05),
            ("D", 0.01),
            ("E", 0.01),
            ("F", 0.01),
            ("G", 0.01),
            ("H", 0.012),
            ("J", 0.01),
            ("K", 0.005),
            ("L", 0.003),
            ("M", 0.01),
            ("N", 0.03),
            ("P", 0.01),
            ("R", 0.005),
            ("S", 0.02),
            ("Z", 0.04),
            ("99", 0.02),
        ],
    );
    let gender = if rng.unit() < 0.88 { "2" } else { "1" };
    // Fewer referrals from the most deprived areas: who is reached is part of the question.
    let decile = {
        let u = rng.unit();
        ((u.sqrt() * 10.0) as i32 + 1).min(10)
    };
    let _ = writeln!(
        f.referrals,
        "{service},{reference},{nhs},{},{},{source},{},{first},{onset},{diagnosis},{},{ethnic},{gender},{decile}",
        iso(date_from_day(received.0)),
        time_text(received.1),
        age.map_or_else(String::new, |a| a.to_string()),
        if urgent { "urgent" } else { "routine" },
    );

    let eligible =
        age.is_some_and(|a| (16..=25).contains(&a)) && first == "Y" && months_before <= 36;
    let mut push_contact = |f: &mut Files, kind: &str, at: Moment, code: &str| {
        *contact += 1;
        let _ = writeln!(
            f.contacts,
            "{service},{reference},C-{contact},{kind},{},{},{code}",
            iso(date_from_day(at.0)),
            time_text(at.1),
        );
    };
    // Engagement call: most within 48 hours of the referral; a few missed and called again.
    let call = later(received, wait_days(rng, if eligible { 1.1 } else { 2.5 }));
    if call.0 > end {
        return;
    }
    let call = if rng.unit() < 0.07 {
        push_contact(f, "engagement_call", call, "3");
        later(call, 1.0)
    } else {
        call
    };
    if call.0 > end {
        return;
    }
    push_contact(f, "engagement_call", call, "5");
    if rng.unit() < 0.07 {
        discharge(
            f,
            service,
            reference,
            later(call, 3.0),
            "patient_declined",
            end,
        );
        return;
    }
    // A few ask to wait (a pause of one to two weeks), which delays the assessment.
    let mut extra = 0.0;
    if rng.unit() < 0.04 {
        let start = later(call, 2.0);
        let length = 7.0 + (rng.unit() * 8.0).floor();
        let stop = (start.0 + length as i32, start.1);
        if stop.0 <= end {
            let _ = writeln!(
                f.pauses,
                "{service},{reference},{},{},{},{},patient_choice",
                iso(date_from_day(start.0)),
                time_text(start.1),
                iso(date_from_day(stop.0)),
                time_text(stop.1)
            );
            extra = length + 2.0;
        }
    }
    let triage = service.starts_with("R9B") && received.0 >= day_number(TRIAGE_CLINIC_START);
    let median = match (eligible, triage) {
        (_, true) => 9.0,
        (true, false) => 15.0 + if service.starts_with("R9B") { 1.5 } else { 0.0 },
        (false, false) => 24.0,
    };
    let assessment = later(received, wait_days(rng, median) + extra);
    if assessment.0 > end {
        return;
    }
    let assessment = if rng.unit() < 0.06 {
        push_contact(f, "assessment", assessment, "3");
        later(assessment, 7.0)
    } else {
        assessment
    };
    if assessment.0 > end {
        return;
    }
    push_contact(f, "assessment", assessment, "5");
    if rng.unit() < 0.09 {
        // Two days after the later of the two contacts: a discharge never lands on or before
        // one (a quick assessment can come before a late engagement call).
        discharge(
            f,
            service,
            reference,
            later(assessment.max(call), 2.0),
            "not_suitable",
            end,
        );
        return;
    }
    let treatment = later(
        assessment,
        wait_days(rng, if eligible { 11.0 } else { 22.0 }),
    );
    if treatment.0 > end {
        return;
    }
    push_contact(f, "first_treatment", treatment, "5");
    let done = later(treatment, 120.0 + rng.unit() * 180.0);
    let reason = if rng.unit() < 0.85 {
        "treatment_completed"
    } else {
        "did_not_engage"
    };
    discharge(f, service, reference, done, reason, end);
}

fn discharge(f: &mut Files, service: &str, reference: &str, at: Moment, reason: &str, end: i32) {
    if at.0 > end {
        return;
    }
    let _ = writeln!(
        f.discharges,
        "{service},{reference},{},{},{reason},,",
        iso(date_from_day(at.0)),
        time_text(at.1)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusts() -> Vec<(String, String)> {
        vec![
            (
                "R9A".into(),
                "Northmoor Mental Health NHS Foundation Trust (demo)".into(),
            ),
            (
                "R9B".into(),
                "Southvale Partnership NHS Trust (demo)".into(),
            ),
        ]
    }

    #[test]
    fn the_same_seed_gives_the_same_files() {
        let end = time::macros::date!(2026 - 10 - 31);
        let a = generate(&trusts(), end, 7);
        let b = generate(&trusts(), end, 7);
        assert!(a.files.iter().zip(&b.files).all(|(x, y)| x.2 == y.2));
        let c = generate(&trusts(), end, 8);
        assert_ne!(a.files[1].2, c.files[1].2);
    }

    #[test]
    fn referrals_come_at_a_few_a_week_and_the_asian_groups_are_few() {
        let end = time::macros::date!(2026 - 10 - 31);
        let files = generate(&trusts(), end, 20_231_101);
        let referrals: Vec<&str> = files.files[1].2.lines().skip(1).collect();
        // Two services at 3 and 4 a week for two years: about 730.
        assert!((600..900).contains(&referrals.len()), "{}", referrals.len());
        let asian = referrals
            .iter()
            .filter(|r| matches!(r.split(',').nth(11), Some("H" | "J" | "K" | "L")))
            .count();
        let share = asian as f64 / referrals.len() as f64;
        assert!(share < 0.06, "{share}");
        // Every contact and discharge belongs to a referral in the file.
        let ids: std::collections::HashSet<&str> = referrals
            .iter()
            .filter_map(|r| r.split(',').nth(1))
            .collect();
        for file in &files.files[2..] {
            for row in file.2.lines().skip(1) {
                assert!(ids.contains(row.split(',').nth(1).unwrap()), "{row}");
            }
        }
    }
}
