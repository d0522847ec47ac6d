//! The demo's Patient Safety Network (issue 12): the change idea library's first ideas, the
//! demo's QI projects' change ideas linked to them, and more teams that adopted safety huddles
//! (two wards where the generator planted the huddles' fall in restraint, one ward where it
//! planted nothing, so the idea page shows different effects and an idea that did not work
//! there), a published story with a question on it, a learning event and a contact. Written
//! through `store::network` and `store::qi` after the QI projects, audited as the demo's.

use crate::generate::HUDDLES_START;
use qi::*;
use store::network::{NewIdea, NewStory, Target};
use store::{Store, StoreError};

const AUTHOR: &str = crate::qi_projects::AUTHOR;

fn ward(code: &str) -> Organisation {
    Organisation {
        level: OrgLevel::Ward,
        code: code.into(),
    }
}

/// A ward's project that adopted safety huddles at the huddles' start.
fn huddles_project(code: &str, name: &str) -> Project {
    let mut p = Project::new(format!("Safety huddles on {name}"), ward(code));
    p.charter = "Adopting the safety huddles tested on Ash Ward, through the network.".into();
    p.diagram = DriverDiagram {
        aim: format!("Reduce restraint on {name}"),
        primaries: vec![Primary {
            id: "p1".into(),
            text: "Every shift knows who is at risk".into(),
        }],
        secondaries: vec![Secondary {
            id: "s1".into(),
            text: "A short huddle at the start of each shift".into(),
            primaries: vec!["p1".into()],
        }],
        change_ideas: vec![ChangeIdea {
            id: "ci1".into(),
            text: "Ten-minute safety huddle at each handover".into(),
            secondaries: vec!["s1".into()],
        }],
    };
    let ri = MeasureRef::Catalogue("ri_rate".into());
    p.measures = vec![FamilyMeasure {
        role: MeasureRole::Outcome,
        measure: ri.clone(),
        name: "Restrictive interventions per 1,000 occupied bed days".into(),
    }];
    p.cycles = vec![Cycle {
        id: "c1".into(),
        change_idea: "ci1".into(),
        question: "Will Ash Ward's huddle work here?".into(),
        prediction: Prediction {
            measure: ri,
            direction: Expected::Decrease,
            text: "Fewer restraints within three months".into(),
        },
        plan: Plan {
            who: "Nurse in charge".into(),
            what: "Ten-minute huddle at each handover".into(),
            where_: name.into(),
            when: "Every shift".into(),
        },
        do_: Do {
            start: Some(time::macros::date!(2024 - 02 - 12)),
            end: Some(time::macros::date!(2024 - 02 - 25)),
            notes: "Held on most shifts of the fortnight".into(),
        },
        study: String::new(),
        act: Some(Act {
            decision: Decision::Adopt,
            date: HUDDLES_START,
            notes: "Adopted as Ash Ward's".into(),
            rebase: false,
        }),
        next: None,
    }];
    p
}

/// Plants the network. Does nothing when the library already has ideas (a second load) or
/// the region has no QI projects.
pub async fn plant(store: &Store) -> Result<(), StoreError> {
    if !store.net_ideas().await?.is_empty() {
        return Ok(());
    }
    let projects = store.qi_projects().await?;
    if projects.is_empty() {
        return Ok(());
    }
    let cats = store.net_categories().await?;
    let cat = |name: &str| cats.iter().find(|c| c.name == name).map(|c| c.id);
    let (Some(huddles_cat), Some(sensory_cat), Some(staff_cat)) = (
        cat("Safety huddles"),
        cat("Sensory approaches and environment"),
        cat("Staff skills and leadership"),
    ) else {
        return Ok(());
    };
    let huddles = store
        .net_create_idea(
            &NewIdea {
                title: "Safety huddles at every shift change".into(),
                description: "A ten-minute meeting at each handover: who is at risk on this shift, what triggers and what helps each of them, and who will do what. First tested in a ramp of cycles on one ward, then spread.".into(),
                category_id: huddles_cat,
                measures: vec!["ri_rate".into(), "ri_prone_rate".into()],
            },
            AUTHOR,
        )
        .await?;
    let room = store
        .net_create_idea(
            &NewIdea {
                title: "Offer a low-stimulus room at the first sign of escalation".into(),
                description: "A quiet room offered early, before seclusion is considered.".into(),
                category_id: sensory_cat,
                measures: vec!["ri_rate".into()],
            },
            AUTHOR,
        )
        .await?;
    let prone = store
        .net_create_idea(
            &NewIdea {
                title: "A prone-restraint reduction plan in every care plan".into(),
                description: "Each care plan says what to do instead of prone restraint for this patient, agreed with them.".into(),
                category_id: staff_cat,
                measures: vec!["ri_prone_rate".into(), "ri_rate".into()],
            },
            AUTHOR,
        )
        .await?;
    for p in &projects {
        if p.project.title.starts_with("Safety huddles") {
            // Ash Ward: the huddles (adapted in two cycles, spread to Elm Ward) and the prone
            // plan (adopted).
            store.net_link(p.id, "ci1", huddles, AUTHOR).await?;
            if p.project.diagram.change_ideas.iter().any(|c| c.id == "ci2") {
                store.net_link(p.id, "ci2", prone, AUTHOR).await?;
            }
        } else if p.project.title.contains("Beech")
            || p.project
                .diagram
                .change_ideas
                .iter()
                .any(|c| c.text.contains("low-stimulus"))
        {
            store.net_link(p.id, "ci1", room, AUTHOR).await?;
        }
    }
    // More teams that adopted the huddles: two where the generator planted the fall, and one
    // where it planted nothing (the idea did not work there).
    let wards = store.wards().await?;
    let control = wards
        .iter()
        .find(|w| w.trust_code == "R9D" && w.code != "R9D-LARCH")
        .map(|w| (w.code.clone(), w.name.clone()));
    let mut adopters: Vec<(String, String)> = ["R9B-ROWAN", "R9C-HORNBEAM"]
        .iter()
        .filter_map(|c| wards.iter().find(|w| w.code == *c))
        .map(|w| (w.code.clone(), w.name.clone()))
        .collect();
    adopters.extend(control);
    for (code, name) in &adopters {
        let p = huddles_project(code, name);
        if validate_project(&p).is_ok() && HUDDLES_START > time::macros::date!(2024 - 02 - 25) {
            let id = store.qi_create(&p, AUTHOR).await?;
            store.net_link(id, "ci1", huddles, AUTHOR).await?;
        }
    }
    if wards.iter().any(|w| w.code == "R9A-ASH") {
        let story = store
            .net_add_story(
                &NewStory {
                    org_code: "R9A-ASH".into(),
                    idea_id: Some(huddles),
                    title: "What ten minutes at handover did for Ash Ward".into(),
                    body: "We started with nights, where most restraint happened, and held a ten-minute huddle at each handover: who is at risk, what sets them off, what helps. After three cycles we adopted it on every shift in March 2024. Prone restraint fell first; the chart shows the rest.".into(),
                    chart_measure: Some("ri_rate".into()),
                },
                "ward.ash",
            )
            .await?;
        store.net_moderate_story(story, true, AUTHOR).await?;
        let q = store
            .net_add_comment(
                Target::Story(story),
                "How did you keep the huddle to ten minutes on a busy night?",
                true,
                "lead.r9b",
            )
            .await?;
        store.net_moderate_comment(q, true, AUTHOR).await?;
        store
            .net_set_contact(
                "R9A-ASH",
                Some(("Ash Ward QI team", "Happy to talk about huddles")),
                "ward.ash",
            )
            .await?;
    }
    store
        .net_add_event(
            "Network learning day: safety huddles",
            domain::dates::day_number(time::macros::date!(2024 - 11 - 14)) as i64,
            "Online",
            "Slides and the huddle prompt card",
            AUTHOR,
        )
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Beyond inpatient care (issue 12, item 4): one acute trust joins the region, with its
// patients' self-harm incidents by setting, and every trust uploads its staff's monthly
// counts. Pure: the files' contents from the region's trusts, its last day and the seed; they
// are imported through `ingest::import` after the other files (`load`).

/// The acute trust that joins the demo region (under the first ICB).
pub const ACUTE_TRUST: &str = "RK9";
pub const ACUTE_TRUST_NAME: &str = "Kingsmead Acute Hospitals NHS Trust (demo)";
/// The month the acute trust's round-the-clock liaison psychiatry team starts in its
/// emergency department: planted as a fall of a third in self-harm there.
pub const LIAISON_START: time::Date = time::macros::date!(2025 - 04 - 01);

fn poisson(rng: &mut crate::rng::SplitMix, lambda: f64) -> u32 {
    let l = (-lambda).exp();
    let (mut k, mut p) = (0, rng.unit());
    while p > l && k < 200 {
        p *= rng.unit();
        k += 1;
    }
    k
}

/// The files that bring the network beyond inpatient care into the demo, in upload order:
/// the acute trust and its site (`OrgType` acute), its patients, their self-harm incidents
/// in the last two years, and every trust's staff counts for those months (the second trust
/// without its headcount). `trusts` are the region's trusts (code, ICB code), in order.
pub fn beyond_files(
    trusts: &[(String, String)],
    end: time::Date,
    seed: u64,
) -> Vec<(&'static str, &'static str, String)> {
    use domain::dates::{PeriodKind, iso};
    use std::fmt::Write;
    let Some((_, icb)) = trusts.first() else {
        return Vec::new();
    };
    let mut rng = crate::rng::SplitMix(seed ^ 0xAC07_E000_0000_0012);
    let orgs = format!(
        "OrgCode,OrgName,OrgLevel,ParentOrgCode,OrgType\n{ACUTE_TRUST},{ACUTE_TRUST_NAME},trust,{icb},acute\n{ACUTE_TRUST}01,Kingsmead General Hospital (demo),site,{ACUTE_TRUST},\n"
    );
    let from = PeriodKind::Month
        .start_of(time::Date::from_calendar_date(end.year() - 2, end.month(), 1).unwrap_or(end));
    let from = PeriodKind::Month.next_start(from);
    // Patients of the acute trust: NHS numbers from 999 700 000 up (the safety data's count
    // up from 999 000 000, FREED's down from 999 999 999).
    let mut patients =
        String::from("NHSNumber,PersonBirthDate,Gender,EthnicCategory,LDAutismFlag\n");
    let mut people: Vec<String> = Vec::new();
    let mut next = 999_700_000u32;
    const ETHNIC: [&str; 8] = ["A", "A", "A", "B", "H", "M", "N", "Z"];
    while people.len() < 400 {
        next += 1;
        let Some(n) = domain::NhsNumber::from_nine(next) else {
            continue;
        };
        let nhs: String = n.digits().iter().map(|d| *d as char).collect();
        let year = 1950 + (rng.unit() * 58.0) as i32;
        let _ = writeln!(
            patients,
            "{nhs},{year}-{:02}-15,{},{},N",
            1 + (rng.unit() * 12.0) as u32,
            if rng.unit() < 0.62 { "2" } else { "1" },
            ETHNIC[(rng.unit() * ETHNIC.len() as f64) as usize]
        );
        people.push(nhs);
    }
    let mut acute = String::from(
        "IncidentID,OrgCode,NHSNumber,IncidentDate,IncidentTime,Setting,PhysicalHarm\n",
    );
    let mut serial = 0;
    let mut m = from;
    while m <= end {
        let days = i64::from(time::util::days_in_month(m.month(), m.year()));
        let ed = if m >= LIAISON_START { 14.0 } else { 21.0 };
        for (setting, lambda) in [
            ("emergency_department", ed),
            ("acute_ward", 6.0),
            ("other", 1.5),
        ] {
            for _ in 0..poisson(&mut rng, lambda) {
                serial += 1;
                let d = m + time::Duration::days((rng.unit() * days as f64) as i64);
                let d = d.min(end);
                let who = &people[(rng.unit() * people.len() as f64) as usize];
                let harm = ["none", "low", "low", "moderate"][(rng.unit() * 4.0) as usize];
                let _ = writeln!(
                    acute,
                    "KM-{serial:05},{ACUTE_TRUST},{who},{},{:02}:{:02},{setting},{harm}",
                    iso(d),
                    (rng.unit() * 24.0) as u32,
                    (rng.unit() * 60.0) as u32
                );
            }
        }
        m = PeriodKind::Month.next_start(m);
    }
    let mut staff = String::from("OrgCode,Month,StaffSelfHarm,StaffSuicides,StaffHeadcount\n");
    let all: Vec<&str> = trusts
        .iter()
        .map(|(c, _)| c.as_str())
        .chain([ACUTE_TRUST])
        .collect();
    for (t, code) in all.iter().enumerate() {
        let base =
            2500.0 + ((t * 1237) % 4000) as f64 + if *code == ACUTE_TRUST { 4000.0 } else { 0.0 };
        let mut m = from;
        let mut k = 0.0;
        while m <= end {
            let headcount = (base * (1.0 + 0.002 * k)).round() as u32;
            let self_harm = poisson(&mut rng, headcount as f64 * 0.0006);
            let suicides = poisson(&mut rng, 0.03);
            let shown = if t == 1 {
                String::new()
            } else {
                headcount.to_string()
            };
            let _ = writeln!(
                staff,
                "{code},{},{self_harm},{suicides},{shown}",
                &iso(m)[..7]
            );
            m = PeriodKind::Month.next_start(m);
            k += 1.0;
        }
    }
    vec![
        ("organisations", "acute-organisations.csv", orgs),
        ("patients", "acute-patients.csv", patients),
        ("acute_self_harm", "acute_self_harm.csv", acute),
        ("staff_harm", "staff_harm.csv", staff),
    ]
}
