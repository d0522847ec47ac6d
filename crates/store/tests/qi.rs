//! QI projects round trip through the store on SQLite, and on PostgreSQL when
//! MHSIP_TEST_POSTGRES_URL names a server (scripts/postgres-for-tests.sh): the whole record,
//! the status history, own measures and their values, scores set by hand, and an audit entry
//! for every change.

use qi::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use store::Store;
use store::qi::OwnMeasure;
use time::macros::date;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

async fn databases() -> Vec<(&'static str, Store)> {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("mhsip-store-qi-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = vec![(
        "sqlite",
        Store::open(&format!("sqlite://{}", dir.join("t.db").display()))
            .await
            .unwrap(),
    )];
    if let Ok(url) = std::env::var("MHSIP_TEST_POSTGRES_URL") {
        use sqlx::Connection;
        let db = format!("qi_{}_{n}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {db}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
        out.push((
            "postgres",
            Store::open(&format!("{base}/{db}")).await.unwrap(),
        ));
    }
    out
}

fn full_project() -> Project {
    let mut p = Project::new(
        "Safety huddles on Ash Ward",
        Organisation {
            level: OrgLevel::Ward,
            code: "R8A-ASH".into(),
        },
    );
    p.charter = "Restraint is high on nights; huddles may help.".into();
    p.team = vec![
        TeamMember {
            user: "ward".into(),
            role: TeamRole::Lead,
        },
        TeamMember {
            user: "lead".into(),
            role: TeamRole::Sponsor,
        },
    ];
    p.aim = Some(Aim {
        measure: MeasureRef::Catalogue("ri_rate".into()),
        baseline: 12.5,
        target: 8.75,
        target_date: date!(2027 - 03 - 31),
    });
    p.measures = vec![
        FamilyMeasure {
            role: MeasureRole::Outcome,
            measure: MeasureRef::Catalogue("ri_rate".into()),
            name: "Restraint rate".into(),
        },
        FamilyMeasure {
            role: MeasureRole::Balancing,
            measure: MeasureRef::Catalogue("rt_rate".into()),
            name: "Rapid tranquillisation".into(),
        },
    ];
    p.diagram = DriverDiagram {
        aim: "Reduce restraint by 30%".into(),
        primaries: vec![Primary {
            id: "p1".into(),
            text: "Shared awareness of risk".into(),
        }],
        secondaries: vec![Secondary {
            id: "s1".into(),
            text: "Start-of-shift briefing".into(),
            primaries: vec!["p1".into()],
        }],
        change_ideas: vec![ChangeIdea {
            id: "ci1".into(),
            text: "Ten-minute huddle".into(),
            secondaries: vec!["s1".into()],
        }],
    };
    p.cycles = vec![
        Cycle {
            id: "c1".into(),
            change_idea: "ci1".into(),
            question: "Can nights hold a huddle?".into(),
            prediction: Prediction {
                measure: MeasureRef::Catalogue("ri_rate".into()),
                direction: Expected::Decrease,
                text: "fewer restraints".into(),
            },
            plan: Plan {
                who: "Nurse in charge".into(),
                what: "Huddle".into(),
                where_: "Ash Ward".into(),
                when: "Nights, two weeks".into(),
            },
            do_: Do {
                start: Some(date!(2024 - 01 - 08)),
                end: Some(date!(2024 - 01 - 21)),
                notes: "Held 12 of 14".into(),
            },
            study: "Fewer incidents".into(),
            act: Some(Act {
                decision: Decision::Adapt,
                date: date!(2024 - 01 - 25),
                notes: "Try days too".into(),
                rebase: false,
            }),
            next: Some("c2".into()),
        },
        Cycle {
            id: "c2".into(),
            change_idea: "ci1".into(),
            question: "Days too?".into(),
            prediction: Prediction {
                measure: MeasureRef::Catalogue("rt_rate".into()),
                direction: Expected::NoChange,
                text: String::new(),
            },
            plan: Plan::default(),
            do_: Do::default(),
            study: String::new(),
            act: None,
            next: None,
        },
    ];
    p.spread = vec![Spread {
        ward: "R8A-BIRCH".into(),
        change_idea: "ci1".into(),
        adopted: date!(2024 - 06 - 01),
        evidence: MeasureRef::Catalogue("ri_rate".into()),
        notes: "Birch took it up".into(),
    }];
    p
}

#[tokio::test]
async fn a_project_round_trips_with_its_history_values_scores_and_audit() {
    for (name, store) in databases().await {
        let p = full_project();
        validate_project(&p).unwrap();
        let id = store.qi_create(&p, "ward").await.unwrap();
        let got = store.qi_project(id).await.unwrap().expect("stored");
        assert_eq!(got.project, p, "{name}");
        assert_eq!(got.created_by, "ward");
        assert_eq!(
            store.qi_projects().await.unwrap(),
            vec![got.clone()],
            "{name}"
        );
        assert!(store.qi_project(id + 100).await.unwrap().is_none());

        // A second, bare project does not pick up the first one's children.
        let bare = Project::new(
            "Leave on time",
            Organisation {
                level: OrgLevel::Trust,
                code: "R8A".into(),
            },
        );
        let id2 = store.qi_create(&bare, "lead").await.unwrap();
        let all = store.qi_projects().await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].project, bare, "{name}");
        assert_eq!(all[0].project, p, "{name}");

        // Save: a changed diagram, a cycle removed, a new status (history grows once).
        let mut q = p.clone();
        q.status = Status::Paused;
        q.cycles.truncate(1);
        q.cycles[0].next = None;
        q.diagram.primaries[0].text = "Shared awareness".into();
        q.aim = None;
        assert!(
            store
                .qi_save(id, &q, "lead", "qi_status", "paused")
                .await
                .unwrap()
        );
        assert_eq!(
            store.qi_project(id).await.unwrap().unwrap().project,
            q,
            "{name}"
        );
        assert!(!store.qi_save(9999, &q, "lead", "x", "y").await.unwrap());
        store
            .qi_save(id, &q, "lead", "qi_edit", "again")
            .await
            .unwrap();
        let h = store.qi_status_history(id).await.unwrap();
        assert_eq!(
            h.iter()
                .map(|c| (c.status, c.user.as_str()))
                .collect::<Vec<_>>(),
            vec![(Status::Active, "ward"), (Status::Paused, "lead")],
            "{name}"
        );
        assert_eq!(store.qi_status_history(id2).await.unwrap().len(), 1);
        // An aim set, cleared and set again, over and over (the same statements with and
        // without a value, on whichever pooled connection).
        for round in 0..6 {
            let mut b = bare.clone();
            if round % 2 == 0 {
                b.aim = p.aim.clone();
            }
            store
                .qi_save(id2, &b, "lead", "qi_aim_set", "aim")
                .await
                .unwrap();
            let again = store.qi_project(id2).await.unwrap().unwrap().project;
            assert_eq!(again, b, "{name} round {round}");
        }
        let fresh = store.qi_create(&bare, "lead").await.unwrap();
        let mut b = bare.clone();
        b.aim = p.aim.clone();
        store
            .qi_save(fresh, &b, "lead", "qi_aim_set", "aim")
            .await
            .unwrap();

        // Own measures and their values (a month's value is replaced, not doubled).
        let own = OwnMeasure {
            id: "huddles".into(),
            name: "% of shifts with a huddle".into(),
            unit: "% of shifts".into(),
            direction: "increase".into(),
        };
        store
            .qi_add_own_measure(id, &own, MeasureRole::Process, "ward")
            .await
            .unwrap();
        let bad = OwnMeasure {
            direction: "sideways".into(),
            id: "x".into(),
            ..own.clone()
        };
        assert!(
            store
                .qi_add_own_measure(id, &bad, MeasureRole::Process, "ward")
                .await
                .is_err()
        );
        assert_eq!(store.qi_own_measures(id).await.unwrap(), vec![own.clone()]);
        let fam = store
            .qi_project(id)
            .await
            .unwrap()
            .unwrap()
            .project
            .measures;
        assert_eq!(
            fam.last().unwrap().measure,
            MeasureRef::Project("huddles".into())
        );
        assert_eq!(fam.last().unwrap().role, MeasureRole::Process);
        store
            .qi_set_value(id, "huddles", date!(2024 - 01 - 15), 40.0, "ward")
            .await
            .unwrap();
        store
            .qi_set_value(id, "huddles", date!(2024 - 02 - 01), 55.5, "ward")
            .await
            .unwrap();
        store
            .qi_set_value(id, "huddles", date!(2024 - 01 - 01), 45.0, "ward")
            .await
            .unwrap();
        assert!(
            store
                .qi_set_value(id, "nope", date!(2024 - 01 - 01), 1.0, "ward")
                .await
                .is_err()
        );
        assert!(
            store
                .qi_set_value(id2, "huddles", date!(2024 - 01 - 01), 1.0, "ward")
                .await
                .is_err()
        );
        assert!(
            store
                .qi_set_value(id, "huddles", date!(2024 - 01 - 01), f64::NAN, "ward")
                .await
                .is_err()
        );
        let v = store.qi_values(id).await.unwrap();
        assert_eq!(
            v.iter().map(|v| (v.month, v.value)).collect::<Vec<_>>(),
            vec![(date!(2024 - 01 - 01), 45.0), (date!(2024 - 02 - 01), 55.5)],
            "{name}"
        );
        let all_own = store.qi_all_own().await.unwrap();
        assert_eq!(all_own[&id].0, vec![own]);
        assert_eq!(all_own[&id].1, v);
        assert!(!all_own.contains_key(&id2));

        // Scores set by hand: newest first, the latest per project.
        let s1 = set_score("2.5", "cycles done").unwrap();
        let s2 = set_score("3.0", "huddles held on every shift").unwrap();
        assert!(store.qi_set_score(id, &s1, "ward").await.unwrap());
        assert!(store.qi_set_score(id, &s2, "lead").await.unwrap());
        assert!(!store.qi_set_score(9999, &s2, "lead").await.unwrap());
        let scores = store.qi_scores(id).await.unwrap();
        assert_eq!(scores.len(), 2);
        assert_eq!(
            (scores[0].score.to_string(), scores[0].reason.as_str()),
            ("3.0".into(), "huddles held on every shift")
        );
        let latest = store.qi_latest_scores().await.unwrap();
        assert_eq!(latest.len(), 1);
        assert_eq!(latest[&id].score, s2.score);

        // Every change is in the audit log, filed under the project.
        let log = store.audit_log(100).await.unwrap();
        let actions: Vec<&str> = log.iter().rev().map(|r| r.action.as_str()).collect();
        assert_eq!(
            actions,
            vec![
                "qi_project_created",
                "qi_project_created",
                "qi_status",
                "qi_edit",
                "qi_aim_set",
                "qi_aim_set",
                "qi_aim_set",
                "qi_aim_set",
                "qi_aim_set",
                "qi_aim_set",
                "qi_project_created",
                "qi_aim_set",
                "qi_measure_added",
                "qi_value_set",
                "qi_value_set",
                "qi_value_set",
                "qi_score_set",
                "qi_score_set"
            ],
            "{name}"
        );
        assert!(log.iter().all(|r| r.target.starts_with("qi/")));
        assert!(
            log[0]
                .detail
                .as_deref()
                .unwrap()
                .contains("3.0 because huddles")
        );
        store.close().await;
    }
}
