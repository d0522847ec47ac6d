//! The Patient Safety Network's pages and API through the router (docs/web.md, "Patient
//! Safety Network"; docs/network.md), on the example region, on SQLite and (when
//! MHSIP_TEST_POSTGRES_URL is set) PostgreSQL: the library, an idea's evidence with its sites
//! named to those who may see them and unnamed to others, and the JSON.
#![allow(dead_code)]

#[path = "../../ingest/tests/common/mod.rs"]
mod common;

use axum::http::StatusCode;
use common::databases;
use qi::*;
use time::macros::date;

#[path = "support/app.rs"]
mod app;

use app::App;

/// A project on Ash Ward whose change idea "ci1" was adopted in February 2024, linked to a
/// library idea that aims to move restraint: returns (idea, project).
async fn plant(app: &App) -> (i64, i64) {
    let cats = app.store.net_categories().await.unwrap();
    let huddles = cats.iter().find(|c| c.name == "Safety huddles").unwrap().id;
    let idea = app
        .store
        .net_create_idea(
            &store::network::NewIdea {
                title: "Safety huddles at every shift change".into(),
                description: "Ten minutes at each handover.".into(),
                category_id: huddles,
                measures: vec!["ri_rate".into()],
            },
            "admin",
        )
        .await
        .unwrap();
    let mut p = Project::new(
        "Huddles on Ash",
        Organisation {
            level: OrgLevel::Ward,
            code: "R8A-ASH".into(),
        },
    );
    p.diagram.change_ideas = vec![ChangeIdea {
        id: "ci1".into(),
        text: "Ten-minute huddle".into(),
        secondaries: vec![],
    }];
    p.cycles = vec![Cycle {
        id: "c1".into(),
        change_idea: "ci1".into(),
        question: "Can nights hold a huddle?".into(),
        prediction: Prediction {
            measure: MeasureRef::Catalogue("ri_rate".into()),
            direction: Expected::Decrease,
            text: String::new(),
        },
        plan: Plan::default(),
        do_: Do::default(),
        study: String::new(),
        act: Some(Act {
            decision: Decision::Adopt,
            date: date!(2024 - 02 - 10),
            notes: String::new(),
            rebase: false,
        }),
        next: None,
    }];
    let project = app.store.qi_create(&p, "ward").await.unwrap();
    app.store
        .net_link(project, "ci1", idea, "ward")
        .await
        .unwrap();
    (idea, project)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idea_shows_where_it_was_tested_named_only_to_those_who_may_see() {
    for db in databases().await {
        let app = App::new(db).await;
        let (idea, project) = plant(&app).await;
        let ward = app.login("ward").await;
        let list = app.get("/network/ideas", Some(&ward)).await;
        assert_eq!(list.status, StatusCode::OK, "{}", app.db_name);
        assert!(list.body.contains(&format!("/network/ideas/{idea}")));
        assert!(list.body.contains("Safety huddles at every shift change"));

        // The ward's own team: named, with the project and its cycle. The example region has
        // three months of data, too few to measure an effect; the page says so.
        let page = app
            .get(&format!("/network/ideas/{idea}"), Some(&ward))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Ash Ward"), "{}", page.body);
        assert!(page.body.contains(&format!("/qi/{project}")));
        assert!(page.body.contains("(cycles c1)"));
        assert!(page.body.contains("2024-02-10"));
        assert!(
            page.body
                .contains("too few months before or after the adoption")
        );
        assert!(page.body.contains("<svg"));

        // Another trust's lead: unnamed, without the project.
        let other = app.login("lead_b").await;
        let page = app
            .get(&format!("/network/ideas/{idea}"), Some(&other))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("Ash Ward"), "{}", page.body);
        assert!(page.body.contains("an adult acute ward in another trust"));
        assert!(!page.body.contains(&format!("/qi/{project}")));
        let api = app
            .get(&format!("/api/network/ideas/{idea}"), Some(&other))
            .await;
        assert_eq!(api.status, StatusCode::OK);
        let v: serde_json::Value = serde_json::from_str(&api.body).unwrap();
        let site = &v["measures"][0]["sites"][0];
        assert_eq!(site["label"], "an adult acute ward in another trust");
        assert!(site["project_id"].is_null() && site["cycles"].as_array().unwrap().is_empty());
        assert!(!api.body.contains("Ash"));

        let list = app.get("/api/network/ideas", Some(&other)).await;
        let v: serde_json::Value = serde_json::from_str(&list.body).unwrap();
        assert_eq!(v["ideas"][0]["links"], 1);

        assert_eq!(
            app.get("/network/ideas/999", Some(&ward)).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get("/network/ideas/x", Some(&ward)).await.status,
            StatusCode::NOT_FOUND
        );
        assert_ne!(app.get("/network/ideas", None).await.status, StatusCode::OK);
        let uploader = app.login("uploader").await;
        assert_eq!(
            app.get("/network/ideas", Some(&uploader)).await.status,
            StatusCode::FORBIDDEN
        );
        // The OpenAPI document describes the routes.
        let doc = app.get("/api/openapi.json", Some(&ward)).await.body;
        assert!(doc.contains("/api/network/ideas/{id}"));
    }
}
