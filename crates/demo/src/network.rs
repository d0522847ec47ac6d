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
