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

async fn page_has_link_form(app: &App, idea: i64, cookie: &str) -> bool {
    app.get(&format!("/network/ideas/{idea}"), Some(cookie))
        .await
        .body
        .contains(&format!("action=\"/network/ideas/{idea}/links\""))
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
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
        let params = v["paths"]["/api/network/funnel"]["get"]["parameters"]
            .as_array()
            .unwrap();
        assert!(params.iter().any(|p| p["name"] == "peer_group"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_shares_a_story_the_admin_moderates_it_and_others_ask_a_question() {
    for db in databases().await {
        let app = App::new(db).await;
        let (idea, _) = plant(&app).await;
        let ward = app.login("ward").await;
        let other = app.login("lead_b").await;
        let admin = app.login("admin").await;
        let form = format!(
            "org=R8A-ASH&title=Huddles+on+Ash&body=Restraint+fell.&idea={idea}&chart_measure=ri_rate"
        );
        // Not for another trust's ward; nothing written.
        let r = app
            .post_form(
                "/network/stories",
                Some(&ward),
                &form.replace("R8A-ASH", "R8B-CEDAR"),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", app.db_name);
        let r = app
            .post_form(
                "/network/stories",
                Some(&ward),
                &form.replace("Restraint+fell.", "+"),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("body: expected some text"), "{}", r.body);
        assert!(app.store.net_stories(false).await.unwrap().is_empty());

        let r = app.post_form("/network/stories", Some(&ward), &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let path = r.location.clone();
        assert!(path.starts_with("/network/stories/"));
        // Pending: the author and the admin see it; nobody else.
        assert_eq!(app.get(&path, Some(&ward)).await.status, StatusCode::OK);
        assert_eq!(
            app.get(&path, Some(&other)).await.status,
            StatusCode::NOT_FOUND
        );
        let r = app
            .post_form(&format!("{path}/moderate"), Some(&ward), "decision=publish")
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = app
            .post_form(&format!("{path}/moderate"), Some(&admin), "decision=maybe")
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = app
            .post_form(
                &format!("{path}/moderate"),
                Some(&admin),
                "decision=publish",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let page = app.get(&path, Some(&other)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("Huddles on Ash") && page.body.contains("/chart/R8A-ASH/ri_rate")
        );

        // A question, moderated before anyone sees it.
        let r = app
            .post_form(
                &format!("{path}/comments"),
                Some(&other),
                "body=How+long+was+each+huddle%3F&question=1",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(
            !app.get(&path, Some(&ward))
                .await
                .body
                .contains("How long was each huddle?")
        );
        let comments = app
            .store
            .net_comments(
                store::network::Target::Story(path.rsplit('/').next().unwrap().parse().unwrap()),
                false,
            )
            .await
            .unwrap();
        let r = app
            .post_form(
                &format!("/network/comments/{}/moderate", comments[0].id),
                Some(&admin),
                "decision=publish&story=1",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let page = app.get(&path, Some(&ward)).await.body;
        assert!(page.contains("Question:") && page.contains("How long was each huddle?"));

        // The feed shows the idea and the story.
        let home = app.get("/network", Some(&other)).await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(
            home.body.contains("Huddles on Ash")
                && home.body.contains(&format!("/network/ideas/{idea}"))
        );
        // Every change audited.
        let log = app.store.audit_log(50).await.unwrap();
        for action in [
            "network_story_shared",
            "network_story_published",
            "network_comment_added",
            "network_comment_published",
        ] {
            assert!(log.iter().any(|e| e.action == action), "{action}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_programme_admin_edits_the_catalogue_ideas_events_and_peer_groups() {
    for db in databases().await {
        let app = App::new(db).await;
        let admin = app.login("admin").await;
        let ward = app.login("ward").await;
        assert_eq!(
            app.get("/network/admin", Some(&ward)).await.status,
            StatusCode::FORBIDDEN
        );
        let r = app
            .post_form(
                "/network/admin/categories",
                Some(&ward),
                "family=Local&name=Nights",
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = app
            .post_form(
                "/network/admin/categories",
                Some(&admin),
                "family=Local&name=Night-time+routines",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", app.db_name);
        let page = app.get("/network/admin", Some(&admin)).await;
        assert!(
            page.body.contains("Night-time routines")
                && page.body.contains("Clear mutual expectations")
        );
        let cat = app.store.net_categories().await.unwrap().last().unwrap().id;
        // A measure that is not in the catalogue is refused, and nothing is written.
        let r = app.post_form("/network/admin/ideas", Some(&admin), &format!("title=Quiet+nights&description=Lights+down+at+ten.&category={cat}&measures=ri_rate,nope")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("&#39;nope&#39; is not one"), "{}", r.body);
        assert!(app.store.net_ideas().await.unwrap().is_empty());
        let r = app.post_form("/network/admin/ideas", Some(&admin), &format!("title=Quiet+nights&description=Lights+down+at+ten.&category={cat}&measures=ri_rate")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.location.starts_with("/network/ideas/"));
        let r = app
            .post_form(
                "/network/admin/events",
                Some(&admin),
                "title=Learning+day&date=2024-13-01&place=Online",
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = app
            .post_form(
                "/network/admin/events",
                Some(&admin),
                "title=Learning+day&date=2024-11-14&place=Online&material=slides",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = app
            .post_form(
                "/network/admin/peer-groups",
                Some(&admin),
                "name=Acute+wards&members=R8A-ASH,+r8b-cedar",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(
            app.store.net_peer_groups().await.unwrap()[0].members,
            vec!["R8A-ASH".to_string(), "R8B-CEDAR".to_string()]
        );
        let r = app
            .post_form(
                "/network/admin/peer-groups",
                Some(&admin),
                "name=Bad&members=XX",
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);

        // A team's contact, for its own ward only.
        let r = app
            .post_form(
                "/network/contact",
                Some(&ward),
                "org=R8B-CEDAR&team=Us&agree=yes",
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = app
            .post_form(
                "/network/contact",
                Some(&ward),
                "org=R8A-ASH&team=Ash+QI+team&note=huddles&agree=yes",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let home = app.get("/network", Some(&ward)).await.body;
        assert!(
            home.contains("Ash QI team")
                && home.contains("Learning day")
                && home.contains("2024-11-14")
        );
        let log = app.store.audit_log(50).await.unwrap();
        for action in [
            "network_category_added",
            "network_idea_created",
            "network_event_added",
            "network_peer_group_set",
            "network_contact_agreed",
        ] {
            assert!(log.iter().any(|e| e.action == action), "{action}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storys_chart_is_drawn_inline_and_ideas_take_moderated_comments() {
    for db in databases().await {
        let app = App::new(db).await;
        let (idea, _) = plant(&app).await;
        let ward = app.login("ward").await;
        let other = app.login("lead_b").await;
        let admin = app.login("admin").await;
        let r = app
            .post_form(
                "/network/stories",
                Some(&ward),
                &format!("org=R8A-ASH&title=Huddles+on+Ash&body=Restraint+fell.&idea={idea}&chart_measure=ri_rate"),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let path = r.location.clone();
        // The author sees the team's live chart drawn on the story's page, in full.
        let page = app.get(&path, Some(&ward)).await;
        assert!(
            page.body.contains("<figure class=\"app-chart\"><svg"),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains("Ash Ward: Restrictive interventions per 1,000 occupied bed days")
        );
        assert!(!page.body.contains("(under disclosure control)"));
        app.post_form(
            &format!("{path}/moderate"),
            Some(&admin),
            "decision=publish",
        )
        .await;
        // Another trust's lead sees the same chart under disclosure control.
        let page = app.get(&path, Some(&other)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("<figure class=\"app-chart\"><svg"),
            "{}",
            page.body
        );
        assert!(page.body.contains("(under disclosure control)"));

        // A question on the idea: held for the programme admin, then shown; audited.
        let idea_path = format!("/network/ideas/{idea}");
        let r = app
            .post_form(
                &format!("{idea_path}/comments"),
                Some(&other),
                "body=Did+nights+keep+it+up%3F&question=1",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location, idea_path);
        assert!(
            !app.get(&idea_path, Some(&ward))
                .await
                .body
                .contains("Did nights keep it up?")
        );
        let admin_page = app.get(&idea_path, Some(&admin)).await;
        assert!(admin_page.body.contains("Did nights keep it up?"));
        assert!(
            admin_page
                .body
                .contains("<input type=\"hidden\" name=\"idea\"")
        );
        let comments = app
            .store
            .net_comments(store::network::Target::Idea(idea), false)
            .await
            .unwrap();
        assert_eq!(comments.len(), 1);
        assert!(comments[0].is_question);
        let r = app
            .post_form(
                &format!("/network/comments/{}/moderate", comments[0].id),
                Some(&admin),
                &format!("decision=publish&idea={idea}"),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location, idea_path);
        let page = app.get(&idea_path, Some(&ward)).await;
        assert!(
            page.body
                .contains("<strong>Question:</strong> Did nights keep it up?")
        );
        // Refused whole: an empty comment, an idea that is not there.
        let r = app
            .post_form(&format!("{idea_path}/comments"), Some(&other), "body=+")
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = app
            .post_form("/network/ideas/999999/comments", Some(&other), "body=Hello")
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(
            app.store
                .net_comments(store::network::Target::Idea(idea), false)
                .await
                .unwrap()
                .len(),
            1
        );
        let audit = app
            .get("/admin/audit?action=network_comment_added", Some(&admin))
            .await;
        assert!(
            audit.body.contains(&format!("network/idea/{idea}")),
            "{}",
            audit.body
        );
    }
}
