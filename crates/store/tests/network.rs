//! The Patient Safety Network's records round trip through the store on SQLite, and on
//! PostgreSQL when MHSIP_TEST_POSTGRES_URL names a server (scripts/postgres-for-tests.sh): the
//! seeded catalogue, ideas with their measures, links from QI change ideas, peer groups,
//! moderated stories and comments, contacts, events, the feed, an audit entry for every change
//! and nothing written by a refused one.

use qi::{OrgLevel, Organisation, Project};
use std::sync::atomic::{AtomicUsize, Ordering};
use store::Store;
use store::network::{NewIdea, NewStory, PENDING, PUBLISHED, Target};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

async fn databases() -> Vec<(&'static str, Store)> {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("mhsip-store-net-{}-{n}", std::process::id()));
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
        let db = format!("net_{}_{n}", std::process::id());
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

fn huddles(category_id: i64) -> NewIdea {
    NewIdea {
        title: "Safety huddles at every shift change".into(),
        description:
            "Ten minutes at each handover: who is at risk, what helps them, who does what.".into(),
        category_id,
        measures: vec!["ri_rate".into(), "restraint_rate".into(), "ri_rate".into()],
    }
}

#[tokio::test]
async fn the_library_round_trips_with_links_and_audit() {
    for (engine, store) in databases().await {
        let cats = store.net_categories().await.unwrap();
        assert_eq!(cats.len(), 18, "{engine}");
        assert_eq!(cats[0].name, "Clear mutual expectations");
        assert_eq!(cats.iter().filter(|c| c.family == "Safewards").count(), 10);
        let sh = cats.iter().find(|c| c.name == "Safety huddles").unwrap().id;

        let id = store.net_create_idea(&huddles(sh), "lead").await.unwrap();
        let idea = store.net_idea(id).await.unwrap().unwrap();
        assert_eq!(idea.category, "Safety huddles");
        assert_eq!(
            idea.measures,
            vec!["restraint_rate".to_string(), "ri_rate".to_string()],
            "{engine}"
        );
        assert_eq!(store.net_ideas().await.unwrap().len(), 1);

        // Refused: the same title, an unknown category, an empty description. Nothing written.
        let e = store
            .net_create_idea(&huddles(sh), "lead")
            .await
            .unwrap_err();
        assert!(e.to_string().starts_with("title: expected"), "{e}");
        let e = store
            .net_create_idea(
                &NewIdea {
                    title: "Other".into(),
                    ..huddles(9999)
                },
                "lead",
            )
            .await
            .unwrap_err();
        assert!(e.to_string().starts_with("category: expected"), "{e}");
        let e = store
            .net_create_idea(
                &NewIdea {
                    title: "Other".into(),
                    description: "  ".into(),
                    ..huddles(sh)
                },
                "lead",
            )
            .await
            .unwrap_err();
        assert!(
            e.to_string().starts_with("description: expected some text"),
            "{e}"
        );
        assert_eq!(store.net_ideas().await.unwrap().len(), 1);

        // The admin extends the catalogue.
        let c = store
            .net_add_category("Local", "Night-time routines", "", "admin")
            .await
            .unwrap();
        assert_eq!(store.net_categories().await.unwrap().last().unwrap().id, c);
        assert!(
            store
                .net_add_category("Local", "Night-time routines", "", "admin")
                .await
                .is_err()
        );

        // A QI project's change idea is linked, relinked and unlinked.
        let project = store
            .qi_create(
                &Project::new(
                    "Huddles on Ash",
                    Organisation {
                        level: OrgLevel::Ward,
                        code: "R8A-ASH".into(),
                    },
                ),
                "ward",
            )
            .await
            .unwrap();
        store.net_link(project, "c1", id, "ward").await.unwrap();
        store.net_link(project, "c1", id, "ward").await.unwrap();
        store.net_link(project, "c2", id, "ward").await.unwrap();
        let links = store.net_links(Some(id)).await.unwrap();
        assert_eq!(
            links
                .iter()
                .map(|l| l.change_idea.as_str())
                .collect::<Vec<_>>(),
            vec!["c1", "c2"]
        );
        assert!(
            store
                .net_link(project + 100, "c1", id, "ward")
                .await
                .unwrap_err()
                .to_string()
                .starts_with("project: expected")
        );
        assert!(
            store
                .net_link(project, "c3", id + 100, "ward")
                .await
                .unwrap_err()
                .to_string()
                .starts_with("idea: expected")
        );
        assert!(store.net_unlink(project, "c2", "ward").await.unwrap());
        assert!(!store.net_unlink(project, "c2", "ward").await.unwrap());
        assert_eq!(store.net_links(None).await.unwrap().len(), 1);

        let log = store.audit_log(100).await.unwrap();
        let actions: Vec<&str> = log.iter().rev().map(|r| r.action.as_str()).collect();
        assert_eq!(
            actions,
            vec![
                "network_idea_created",
                "network_category_added",
                "qi_project_created",
                "network_idea_linked",
                "network_idea_linked",
                "network_idea_linked",
                "network_idea_unlinked",
            ],
            "{engine}"
        );
    }
}

#[tokio::test]
async fn stories_and_comments_are_moderated_and_the_feed_shows_what_is_published() {
    for (engine, store) in databases().await {
        let sh = store.net_categories().await.unwrap()[10].id;
        let idea = store.net_create_idea(&huddles(sh), "lead").await.unwrap();
        let story = NewStory {
            org_code: "R8A-ASH".into(),
            idea_id: Some(idea),
            title: "What huddles did for Ash Ward".into(),
            body: "Restraint fell by a third in four months.".into(),
            chart_measure: Some("ri_rate".into()),
        };
        let s = store.net_add_story(&story, "ward").await.unwrap();
        assert!(
            store
                .net_add_story(
                    &NewStory {
                        idea_id: Some(idea + 50),
                        ..story.clone()
                    },
                    "ward"
                )
                .await
                .is_err()
        );
        assert_eq!(store.net_story(s).await.unwrap().unwrap().status, PENDING);
        assert!(
            store.net_stories(true).await.unwrap().is_empty(),
            "{engine}: unmoderated stories are not shown"
        );
        assert_eq!(store.net_stories(false).await.unwrap().len(), 1);

        let q = store
            .net_add_comment(
                Target::Story(s),
                "How long did each huddle take?",
                true,
                "other",
            )
            .await
            .unwrap();
        let c = store
            .net_add_comment(Target::Idea(idea), "We tried this too.", false, "other")
            .await
            .unwrap();
        assert!(
            store
                .net_add_comment(Target::Story(s + 9), "x", false, "other")
                .await
                .is_err()
        );
        assert!(
            store
                .net_add_comment(Target::Idea(idea), "", false, "other")
                .await
                .is_err()
        );
        assert!(
            store
                .net_comments(Target::Story(s), true)
                .await
                .unwrap()
                .is_empty()
        );

        assert!(store.net_moderate_story(s, true, "admin").await.unwrap());
        assert!(store.net_moderate_comment(q, true, "admin").await.unwrap());
        assert!(store.net_moderate_comment(c, false, "admin").await.unwrap());
        assert!(
            !store
                .net_moderate_story(s + 9, true, "admin")
                .await
                .unwrap()
        );
        assert_eq!(store.net_stories(true).await.unwrap()[0].status, PUBLISHED);
        let comments = store.net_comments(Target::Story(s), true).await.unwrap();
        assert_eq!(comments.len(), 1);
        assert!(comments[0].is_question);
        assert!(
            store
                .net_comments(Target::Idea(idea), true)
                .await
                .unwrap()
                .is_empty(),
            "rejected"
        );

        let ev = store
            .net_add_event(
                "Network day: huddles",
                20_700,
                "Manchester",
                "slides.pdf",
                "admin",
            )
            .await
            .unwrap();
        assert_eq!(store.net_events().await.unwrap()[0].id, ev);
        store
            .net_set_contact(
                "R8A-ASH",
                Some(("Ash Ward QI team", "ask about huddles")),
                "ward",
            )
            .await
            .unwrap();
        assert_eq!(
            store.net_contacts().await.unwrap()[0].team,
            "Ash Ward QI team"
        );
        store
            .net_set_contact("R8A-ASH", None, "ward")
            .await
            .unwrap();
        assert!(store.net_contacts().await.unwrap().is_empty());

        let e = store
            .net_set_peer_group("Northern PICUs", "", &["NOPE".to_string()], "admin")
            .await
            .unwrap_err();
        assert!(e.to_string().starts_with("members: 'NOPE'"), "{e}");
        assert!(store.net_peer_groups().await.unwrap().is_empty());
        let g = store
            .net_set_peer_group("Northern PICUs", "PICUs of the north", &[], "admin")
            .await
            .unwrap();
        assert_eq!(
            store
                .net_set_peer_group("Northern PICUs", "again", &[], "admin")
                .await
                .unwrap(),
            g
        );
        assert_eq!(
            store.net_peer_groups().await.unwrap()[0].description,
            "again"
        );

        // The feed: the idea, the published story, the event and the published question; not
        // the rejected comment.
        let feed = store.net_feed(20).await.unwrap();
        let mut kinds: Vec<(&str, i64)> = feed.iter().map(|f| (f.kind.as_str(), f.id)).collect();
        kinds.sort();
        assert_eq!(
            kinds,
            vec![("comment", q), ("event", ev), ("idea", idea), ("story", s)],
            "{engine}"
        );
        assert_eq!(store.net_feed(2).await.unwrap().len(), 2);
    }
}
