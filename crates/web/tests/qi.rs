//! Quality improvement projects through the router (docs/web.md, "Quality improvement";
//! docs/qi.md), on the example region, on SQLite and (when MHSIP_TEST_POSTGRES_URL is set)
//! PostgreSQL: a ward user's journey from a new project to a suggested score; every bad input
//! refused with a clear message and nothing changed; who may see and change a project; the
//! JSON API.
#![allow(dead_code)]

#[path = "../../ingest/tests/common/mod.rs"]
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::databases;

#[path = "support/app.rs"]
mod app;

use app::{App, Resp};

/// A form body from pairs, percent-encoded.
fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    out.push(b as char)
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Text as askama writes it into a page.
fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

impl App {
    async fn post(&self, path: &str, cookie: &str, pairs: &[(&str, &str)]) -> Resp {
        self.post_form(path, Some(cookie), &form(pairs)).await
    }

    /// A change that must be accepted: 303 back to the project.
    async fn change(&self, path: &str, cookie: &str, pairs: &[(&str, &str)]) -> Resp {
        let r = self.post(path, cookie, pairs).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "{}: {path} {pairs:?}: {}",
            self.db_name,
            r.body.chars().take(3000).collect::<String>()
        );
        r
    }

    async fn audits(&self) -> usize {
        self.store.audit_log(100_000).await.unwrap().len()
    }
}

/// Registers a project at `org` as `who` and returns its id.
async fn new_project(app: &App, cookie: &str, org: &str, title: &str) -> i64 {
    let r = app
        .change(
            "/qi/new",
            cookie,
            &[
                ("org", org),
                ("title", title),
                ("charter", "Restraint is high at night."),
            ],
        )
        .await;
    r.location
        .strip_prefix("/qi/")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{}", r.location))
}

/// Twelve months before the first cycle and nine after: restraints fall, huddles rise.
const RESTRAINTS: [f64; 21] = [
    20.0, 22.0, 19.0, 21.0, 23.0, 20.0, 18.0, 22.0, 21.0, 19.0, 20.0, 22.0, 10.0, 11.0, 9.0, 10.0,
    12.0, 10.0, 11.0, 9.0, 10.0,
];
const HUDDLES: [f64; 21] = [
    10.0, 12.0, 11.0, 9.0, 10.0, 13.0, 11.0, 10.0, 12.0, 11.0, 9.0, 10.0, 80.0, 85.0, 82.0, 88.0,
    90.0, 86.0, 89.0, 91.0, 87.0,
];

fn month(i: usize) -> String {
    format!("{}-{:02}", 2022 + i / 12, i % 12 + 1)
}

/// The whole journey of issue 11 up to a suggested score, as the ward's user.
async fn journey(app: &App, ward: &str) -> i64 {
    let id = new_project(app, ward, "R8A-ASH", "Safety huddles on Ash Ward").await;
    let base = format!("/qi/{id}");
    let page = app.get(&base, Some(ward)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Safety huddles on Ash Ward"));
    assert!(
        page.body
            .contains("<span id=\"suggested-score\">1.0</span> Charter and team"),
        "{}",
        page.body
    );
    assert!(page.body.contains("ward: Lead"));

    app.change(
        &format!("{base}/aim"),
        ward,
        &[
            ("measure", "catalogue:ri_rate"),
            ("baseline", "20"),
            ("target", "10"),
            ("target_date", "2099-12-31"),
        ],
    )
    .await;
    for (mid, name, unit, direction, role) in [
        (
            "restraints",
            "Restraints a week",
            "restraints a week",
            "decrease",
            "outcome",
        ),
        (
            "huddles",
            "% of shifts with a huddle",
            "% of shifts",
            "increase",
            "process",
        ),
    ] {
        app.change(
            &format!("{base}/measures"),
            ward,
            &[
                ("kind", "project"),
                ("id", mid),
                ("name", name),
                ("unit", unit),
                ("direction", direction),
                ("role", role),
            ],
        )
        .await;
    }
    app.change(
        &format!("{base}/measures"),
        ward,
        &[
            ("kind", "catalogue"),
            ("measure", "ri_prone_rate"),
            ("role", "balancing"),
        ],
    )
    .await;
    for i in 0..RESTRAINTS.len() {
        for (mid, v) in [("restraints", RESTRAINTS[i]), ("huddles", HUDDLES[i])] {
            app.change(
                &format!("{base}/values"),
                ward,
                &[
                    ("measure", mid),
                    ("month", &month(i)),
                    ("value", &v.to_string()),
                ],
            )
            .await;
        }
    }
    let page = app.get(&base, Some(ward)).await.body;
    assert!(
        page.contains("<span id=\"suggested-score\">1.5</span> Planning begun"),
        "{page}"
    );
    assert!(page.contains("Restraints per 1,000") || page.contains("ri_rate"));

    for (edit, text, parents) in [
        ("add_primary", "Shared awareness of risk", ""),
        ("add_secondary", "Start-of-shift briefing", "p1"),
        ("add_change_idea", "Ten-minute safety huddle", "s1"),
    ] {
        app.change(
            &format!("{base}/diagram"),
            ward,
            &[("edit", edit), ("text", text), ("parents", parents)],
        )
        .await;
    }
    let page = app.get(&base, Some(ward)).await.body;
    assert!(page.contains("role=\"img\""), "the diagram as SVG");
    assert!(page.contains("qi-driver-diagram-text"), "and as text");
    assert!(page.contains("Ten-minute safety huddle"));

    let r = app
        .change(
            &format!("{base}/cycles"),
            ward,
            &[
                ("change_idea", "ci1"),
                ("question", "Can nights hold a huddle at 21:00?"),
                ("prediction_measure", "project:restraints"),
                ("prediction_direction", "decrease"),
                (
                    "prediction_text",
                    "fewer restraints on nights with a huddle",
                ),
                ("who", "Nurse in charge"),
                ("what", "Ten-minute huddle"),
                ("where", "Ash Ward"),
                ("when", "Nights, three weeks"),
                ("start", "2023-01-02"),
                ("end", "2023-01-20"),
                ("do_notes", "Held on 17 of 19 nights"),
            ],
        )
        .await;
    assert_eq!(r.location, format!("{base}#cycle-c1"));
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ward_sets_up_a_project_and_sees_the_suggested_score_move() {
    for db in databases().await {
        let app = App::new(db).await;
        let ward = app.login("ward").await;
        let list = app.get("/qi", Some(&ward)).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.contains("href=\"/qi/new\""));
        assert!(
            app.get("/qi/new", Some(&ward))
                .await
                .body
                .contains("R8A-ASH")
        );
        let before = app.audits().await;
        let id = journey(&app, &ward).await;
        let base = format!("/qi/{id}");
        let page = app.get(&base, Some(&ward)).await.body;
        // 12 baseline points, a cycle done, and a shift down in the outcome measure after the
        // first cycle's start: 3.5, with the rule, the evidence and what 4.0 needs.
        assert!(
            page.contains("<span id=\"suggested-score\">3.5</span> Improvement"),
            "{page}"
        );
        assert!(page.contains(&html(qi::RULES[6].text)));
        assert!(page.contains("What 4.0 still needs"));
        assert!(page.contains("Restraints a week"));
        // Every rule of the scale is printed on the page, word for word.
        for r in qi::RULES {
            assert!(page.contains(&html(r.text)), "{}", r.name);
        }
        // The cycle is on the project's charts as dated notes, and in the data table.
        assert!(
            page.contains("2023-01-02 PDSA c1 starts (ends 2023-01-20)"),
            "{page}"
        );
        // The catalogue measure links to its chart page; a cycle on a catalogue measure links
        // to the chart with limits frozen before it started.
        assert!(page.contains("/chart/R8A-ASH/ri_prone_rate?period=month"));

        // Act: adopt. Then the team sets its own score with a reason; both are shown.
        let c1 = [
            ("change_idea", "ci1"),
            ("question", "Can nights hold a huddle at 21:00?"),
            ("prediction_measure", "project:restraints"),
            ("prediction_direction", "decrease"),
            ("start", "2023-01-02"),
            ("end", "2023-01-20"),
            ("study", "Fewer restraints on huddle nights"),
            ("act", "adopt"),
            ("act_date", "2023-01-25"),
            ("act_notes", "Every night from February"),
        ];
        app.change(&format!("{base}/cycles/c1"), &ward, &c1).await;
        app.change(
            &format!("{base}/score"),
            &ward,
            &[
                ("score", "3.0"),
                ("reason", "The ward wants a quarter more data"),
            ],
        )
        .await;
        let page = app.get(&base, Some(&ward)).await.body;
        assert!(page.contains("adopt on 2023-01-25"), "{page}");
        // The adoption is in the same month as the start: one note says both.
        assert!(page.contains("2023-01-02 PDSA c1 starts (ends 2023-01-20); PDSA c1 adopted"));
        assert!(
            page.contains(
                "<strong id=\"set-score\">3.0</strong>: The ward wants a quarter more data"
            )
        );
        assert!(page.contains("<span id=\"suggested-score\">3.5</span>"));
        let list = app.get("/qi", Some(&ward)).await.body;
        assert!(list.contains("data-suggested=\"3.5\""), "{list}");
        assert!(list.contains("data-set=\"3.0\""));

        // A second cycle follows the first: the ramp reads as a sequence.
        app.change(
            &format!("{base}/cycles"),
            &ward,
            &[
                ("change_idea", "ci1"),
                ("follows", "c1"),
                ("question", "Days too?"),
                ("prediction_measure", "project:huddles"),
                ("prediction_direction", "increase"),
            ],
        )
        .await;
        assert!(app.get(&base, Some(&ward)).await.body.contains("c1 → c2"));
        let stored = app.store.qi_project(id).await.unwrap().unwrap().project;
        assert_eq!(stored.cycles[0].next.as_deref(), Some("c2"));
        assert_eq!(
            stored.cycles[0].act.as_ref().unwrap().decision,
            qi::Decision::Adopt
        );

        // Status, with its history.
        app.change(&format!("{base}/status"), &ward, &[("status", "paused")])
            .await;
        let page = app.get(&base, Some(&ward)).await.body;
        assert!(page.contains("<strong class=\"nhsuk-tag\" id=\"status\">paused</strong>"));
        let h = app.store.qi_status_history(id).await.unwrap();
        assert_eq!(h.len(), 2);

        // Every change was audited, filed under the project's ward.
        let log = app.store.audit_log(100_000).await.unwrap();
        let mine: Vec<_> = log
            .iter()
            .filter(|r| r.target == format!("qi/{id}"))
            .collect();
        assert_eq!(mine.len(), app.audits().await - before);
        for action in [
            "qi_project_created",
            "qi_aim_set",
            "qi_measure_added",
            "qi_value_set",
            "qi_diagram_edited",
            "qi_cycle_logged",
            "qi_cycle_updated",
            "qi_score_set",
            "qi_status_changed",
        ] {
            assert!(mine.iter().any(|r| r.action == action), "{action}");
        }
        assert!(
            mine.iter()
                .all(|r| r.org_code.as_deref() == Some("R8A-ASH") && r.user_name == "ward")
        );

        // The JSON API: the list and the project with its cycles and scores.
        let r = app.get("/api/qi/projects", Some(&ward)).await;
        assert_eq!(r.status, StatusCode::OK);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let p = &v["projects"][0];
        assert_eq!(p["id"], id);
        assert_eq!(p["suggested"]["score"], 3.5);
        assert_eq!(p["set_score"]["score"], 3.0);
        let r = app
            .get(&format!("/api/qi/projects/{id}"), Some(&ward))
            .await;
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["project"]["cycles"][0]["id"], "c1");
        assert_eq!(v["project"]["cycles"][0]["act"]["decision"], "adopt");
        assert_eq!(v["project"]["cycles"][0]["next"], "c2");
        assert_eq!(
            v["scores"][0]["reason"],
            "The ward wants a quarter more data"
        );
        assert_eq!(v["suggested"]["rule"]["name"], "Improvement");
        assert_eq!(v["own_measures"][0]["id"], "restraints");
        assert_eq!(v["own_measures"][0]["values"].as_array().unwrap().len(), 21);
        assert_eq!(v["status_history"][1]["status"], "paused");
        let doc = app.get("/api/openapi.json", None).await.body;
        assert!(doc.contains("/api/qi/projects/{id}") && doc.contains("QiSuggestion"));
    }
}

/// A post, its form, and the message it must be refused with.
type Case<'a> = (String, Vec<(&'a str, &'a str)>, &'a str);

/// Each bad input: 400, the page again with a message naming the field, what was typed kept,
/// and nothing changed (the record, the values, the audit log).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_a_clear_message_and_changes_nothing() {
    for db in databases().await {
        let app = App::new(db).await;
        let ward = app.login("ward").await;
        let id = journey(&app, &ward).await;
        let base = format!("/qi/{id}");
        let record = app.store.qi_project(id).await.unwrap().unwrap();
        let values = app.store.qi_values(id).await.unwrap();
        let audits = app.audits().await;
        let cases: Vec<Case> = vec![
            (
                format!("{base}/values"),
                vec![
                    ("measure", "huddles"),
                    ("month", "2023-10"),
                    ("value", "12%"),
                ],
                "Value (value): expected a number such as 12 or 3.5 (no units, % signs or thousands separators); found &#34;12%&#34;",
            ),
            (
                format!("{base}/values"),
                vec![
                    ("measure", "huddles"),
                    ("month", "2023-10"),
                    ("value", "eighty"),
                ],
                "Value (value): expected a number",
            ),
            (
                format!("{base}/values"),
                vec![("measure", "huddles"), ("month", "2023-10"), ("value", "")],
                "Value (value): expected a number",
            ),
            (
                format!("{base}/values"),
                vec![
                    ("measure", "huddles"),
                    ("month", "October"),
                    ("value", "80"),
                ],
                "Month (month): expected a month as YYYY-MM",
            ),
            (
                format!("{base}/values"),
                vec![
                    ("measure", "nothing"),
                    ("month", "2023-10"),
                    ("value", "80"),
                ],
                "(measure): expected one of the project&#39;s own measures",
            ),
            (
                format!("{base}/cycles"),
                vec![
                    ("change_idea", "ci1"),
                    ("question", "Backwards?"),
                    ("prediction_measure", "project:restraints"),
                    ("prediction_direction", "decrease"),
                    ("start", "2023-03-10"),
                    ("end", "2023-03-09"),
                ],
                "End date (cycles[c2].do.end): expected a date on or after the start (2023-03-10); found 2023-03-09",
            ),
            (
                format!("{base}/cycles/c1"),
                vec![
                    ("change_idea", "ci1"),
                    ("question", "Can nights hold a huddle at 21:00?"),
                    ("prediction_measure", "project:restraints"),
                    ("prediction_direction", "decrease"),
                    ("start", "2023-01-02"),
                    ("end", "2022-12-31"),
                ],
                "End date (cycles[c1].do.end): expected a date on or after the start (2023-01-02); found 2022-12-31",
            ),
            (
                format!("{base}/cycles"),
                vec![
                    ("change_idea", "ci9"),
                    ("question", "Which idea?"),
                    ("prediction_measure", "project:restraints"),
                    ("prediction_direction", "decrease"),
                ],
                "ci9",
            ),
            (
                format!("{base}/aim"),
                vec![
                    ("measure", "catalogue:ri_rate"),
                    ("baseline", "20"),
                    ("target", "10"),
                    ("target_date", "2020-01-01"),
                ],
                "Target date (aim.target_date): expected a date on or after today",
            ),
            (
                format!("{base}/aim"),
                vec![
                    ("measure", "catalogue:ri_rate"),
                    ("baseline", "20"),
                    ("target", "ten"),
                    ("target_date", "2099-01-01"),
                ],
                "Target value (aim.target): expected a number",
            ),
            (
                format!("{base}/diagram"),
                vec![("edit", "remove"), ("id", "ci1")],
                "Change idea (change_ideas[ci1]): expected a change idea no PDSA cycle tests (cycles c1 test it",
            ),
            (
                format!("{base}/diagram"),
                vec![("edit", "remove"), ("id", "p1")],
                "p1",
            ),
            (
                format!("{base}/score"),
                vec![("score", "6"), ("reason", "we feel good")],
                "Score (score): expected a score from 0.5 to 5.0 in steps of 0.5",
            ),
            (
                format!("{base}/score"),
                vec![("score", "3.5"), ("reason", " ")],
                "Reason (reason): expected why the team",
            ),
            (
                format!("{base}/measures"),
                vec![
                    ("kind", "catalogue"),
                    ("measure", "ri_prone_rate"),
                    ("role", "process"),
                ],
                "ri_prone_rate",
            ),
            (
                format!("{base}/team"),
                vec![("user", "nobody.here"), ("role", "member")],
                "User (user): expected the login of an existing user",
            ),
            (
                format!("{base}/details"),
                vec![("title", " "), ("charter", "x")],
                "Title (title)",
            ),
        ];
        for (path, pairs, message) in cases {
            let r = app.post(&path, &ward, &pairs).await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{path} {pairs:?}: {}",
                r.body
            );
            assert!(
                r.body.contains("There is a problem") && r.body.contains("Nothing was changed."),
                "{path}"
            );
            assert!(
                r.body.contains(message),
                "{path} {pairs:?}: wanted {message}\n{}",
                r.body
            );
            assert_eq!(
                app.store.qi_project(id).await.unwrap().unwrap(),
                record,
                "{path}"
            );
            assert_eq!(app.store.qi_values(id).await.unwrap(), values, "{path}");
            assert_eq!(app.audits().await, audits, "{path}");
        }
        // What was typed is kept in the refused form.
        let r = app
            .post(
                &format!("{base}/values"),
                &ward,
                &[
                    ("measure", "huddles"),
                    ("month", "2023-10"),
                    ("value", "12%"),
                ],
            )
            .await;
        assert!(r.body.contains("value=\"12%\""), "{}", r.body);
        // A new project needs a title; none is made.
        let n = app.store.qi_projects().await.unwrap().len();
        let r = app
            .post(
                "/qi/new",
                &ward,
                &[("org", "R8A-ASH"), ("title", ""), ("charter", "")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("Title (title)"), "{}", r.body);
        assert_eq!(app.store.qi_projects().await.unwrap().len(), n);
        assert_eq!(app.audits().await, audits);
    }
}

/// Who sees and who changes a project of Ash Ward (trust R8A).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_trust_and_the_ward_change_a_project_and_others_see_what_their_grant_allows() {
    for db in databases().await {
        let app = App::new(db).await;
        let ward = app.login("ward").await;
        let id = journey(&app, &ward).await;
        let base = format!("/qi/{id}");
        let score = [("score", "2.0"), ("reason", "checking access")];
        // Another trust's lead: sees it with disclosure control, changes nothing.
        let lead_b = app.login("lead_b").await;
        let r = app.get(&base, Some(&lead_b)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Disclosure control applies"));
        assert!(!r.body.contains("form-score") && !r.body.contains("action=\"/qi/"));
        let audits = app.audits().await;
        for (path, pairs) in [
            (format!("{base}/score"), score.to_vec()),
            (
                format!("{base}/values"),
                vec![
                    ("measure", "huddles"),
                    ("month", "2023-10"),
                    ("value", "80"),
                ],
            ),
            (
                format!("{base}/diagram"),
                vec![("edit", "add_primary"), ("text", "Intruder")],
            ),
            (
                format!("{base}/cycles"),
                vec![
                    ("change_idea", "ci1"),
                    ("question", "x"),
                    ("prediction_measure", "project:huddles"),
                    ("prediction_direction", "increase"),
                ],
            ),
            (
                format!("{base}/aim"),
                vec![
                    ("measure", "catalogue:ri_rate"),
                    ("baseline", "1"),
                    ("target", "2"),
                    ("target_date", "2099-01-01"),
                ],
            ),
            (
                "/qi/new".to_string(),
                vec![("org", "R8A-ASH"), ("title", "Not theirs")],
            ),
        ] {
            let r = app.post(&path, &lead_b, &pairs).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
        }
        assert_eq!(app.audits().await, audits);
        assert!(
            app.get("/qi", Some(&lead_b))
                .await
                .body
                .contains("Safety huddles on Ash Ward")
        );
        let r = app
            .get(&format!("/api/qi/projects/{id}"), Some(&lead_b))
            .await;
        assert!(
            r.body.contains("\"disclosure_controlled\":true")
                && r.body.contains("\"can_edit\":false")
        );
        // A user of another ward of the same trust, and an uploader: not even seen.
        for who in ["birch", "uploader"] {
            let c = app.login(who).await;
            assert_eq!(
                app.get(&base, Some(&c)).await.status,
                StatusCode::FORBIDDEN,
                "{who}"
            );
            assert_eq!(
                app.post(&format!("{base}/score"), &c, &score).await.status,
                StatusCode::FORBIDDEN
            );
            assert!(
                !app.get("/qi", Some(&c))
                    .await
                    .body
                    .contains("Safety huddles")
            );
            assert_eq!(
                app.get(&format!("/api/qi/projects/{id}"), Some(&c))
                    .await
                    .status,
                StatusCode::FORBIDDEN
            );
            assert!(
                app.get("/api/qi/projects", Some(&c))
                    .await
                    .body
                    .contains("\"projects\":[]")
            );
        }
        // The programme viewer sees it, changes nothing.
        let viewer = app.login("viewer").await;
        assert_eq!(app.get(&base, Some(&viewer)).await.status, StatusCode::OK);
        assert_eq!(
            app.post(&format!("{base}/score"), &viewer, &score)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get("/qi/new", Some(&viewer)).await.status,
            StatusCode::FORBIDDEN
        );
        // The trust's lead and the programme admin change it.
        for who in ["lead", "admin"] {
            let c = app.login(who).await;
            let r = app.get(&base, Some(&c)).await;
            assert!(r.body.contains("form-score"), "{who}");
            app.change(&format!("{base}/score"), &c, &score).await;
        }
        // Made-up ids, and nobody signed in.
        assert_eq!(
            app.get("/qi/999999", Some(&ward)).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get("/qi/abc", Some(&ward)).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.post("/qi/999999/score", &ward, &score).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.post(&format!("{base}/cycles/c9"), &ward, &score)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let r = app.get(&base, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.location.starts_with("/login"));
        // A cross-site post is refused like every other form's.
        let req = Request::post(format!("{base}/score"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &ward)
            .header("sec-fetch-site", "cross-site")
            .body(Body::from(form(&score)))
            .unwrap();
        assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN);
    }
}

/// Adopting a change with "rebase" ticked starts a new segment of the project's chart of the
/// predicted measure at the adoption's month, so a held improvement reads as a new, better
/// centre line and the suggested score moves past 3.5 (rule 4.0 (a), then 4.5); a rebase with
/// anything but an adoption is refused and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopting_a_change_can_rebase_the_project_chart_and_the_score_follows() {
    for db in databases().await {
        let app = App::new(db).await;
        let ward = app.login("ward").await;
        let id = journey(&app, &ward).await;
        let base = format!("/qi/{id}");
        let c1 = |act: &'static str, rebase: bool| {
            let mut f = vec![
                ("change_idea", "ci1"),
                ("question", "Can nights hold a huddle at 21:00?"),
                ("prediction_measure", "project:restraints"),
                ("prediction_direction", "decrease"),
                ("start", "2023-01-02"),
                ("end", "2023-01-20"),
                ("act", act),
                ("act_date", "2023-01-25"),
            ];
            if rebase {
                f.push(("act_rebase", "on"));
            }
            f
        };
        // Without the rebase: the shift shows improvement (3.5), one centre line for all.
        app.change(&format!("{base}/cycles/c1"), &ward, &c1("adopt", false))
            .await;
        let page = app.get(&base, Some(&ward)).await.body;
        assert!(
            page.contains("<span id=\"suggested-score\">3.5</span>"),
            "{page}"
        );

        // A rebase with an adaptation: refused, naming the field, nothing changed.
        let before = app.store.qi_project(id).await.unwrap().unwrap();
        let audits = app.audits().await;
        let r = app
            .post(&format!("{base}/cycles/c1"), &ward, &c1("adapt", true))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("cycles[c1].act.rebase"), "{}", r.body);
        assert!(r.body.contains("a rebase only with an adoption"));
        assert_eq!(app.store.qi_project(id).await.unwrap().unwrap(), before);
        assert_eq!(app.audits().await, audits);

        // With it: the new segment from January 2023 has a lower centre, held for 9 months.
        app.change(&format!("{base}/cycles/c1"), &ward, &c1("adopt", true))
            .await;
        let stored = app.store.qi_project(id).await.unwrap().unwrap().project;
        assert!(stored.cycles[0].act.as_ref().unwrap().rebase);
        let page = app.get(&base, Some(&ward)).await.body;
        assert!(page.contains("PDSA c1 adopted, chart rebased"), "{page}");
        assert!(
            page.contains("The project's chart of the predicted measure is rebased at this date.")
        );
        // A new, better centre line since the adoption, held nine months, with the balancing
        // measure quiet: 4.5 (the shift against the old centre is the improvement).
        assert!(
            page.contains("<span id=\"suggested-score\">4.5</span> Sustainable improvement"),
            "{page}"
        );
        assert!(
            page.contains("Restraints a week: a new centre line of"),
            "{page}"
        );
        let v: serde_json::Value = serde_json::from_str(
            &app.get(&format!("/api/qi/projects/{id}"), Some(&ward))
                .await
                .body,
        )
        .unwrap();
        assert_eq!(v["project"]["cycles"][0]["act"]["rebase"], true);
        assert_eq!(v["suggested"]["score"], 4.5);
    }
}

/// The team's own measure from a file: daily tallies become monthly percentages on the chart,
/// a monthly file replaces months, and a file with any bad row is refused whole with its
/// problems named by file, line and column, changing nothing (values and audit log).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_measure_values_come_from_a_file_of_monthly_values_or_daily_tallies() {
    for db in databases().await {
        let app = App::new(db).await;
        let ward = app.login("ward").await;
        let id = journey(&app, &ward).await;
        let base = format!("/qi/{id}");
        let page = app.get(&base, Some(&ward)).await.body;
        assert!(
            page.contains(
                "action=\"/qi/{id}/values/file\""
                    .replace("{id}", &id.to_string())
                    .as_str()
            )
        );

        // Daily tallies of October 2023: three shifts a day, a huddle on 2 of them, for 30 days,
        // and on all 3 on the 31st: 63 of 93 shifts = 67.7%.
        let mut tallies = String::from("Measure,Date,Count,Out_of\r\n");
        for d in 1..=31 {
            let held = if d == 31 { 3 } else { 2 };
            tallies.push_str(&format!("huddles,{d:02}/10/2023,{held},3\r\n"));
        }
        let audits = app.audits().await;
        let r = app
            .post_multipart(
                &format!("{base}/values/file"),
                &ward,
                &[],
                "huddles-october.csv",
                tallies.as_bytes(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let values = app.store.qi_values(id).await.unwrap();
        let oct = values
            .iter()
            .find(|v| v.measure == "huddles" && v.month == time::macros::date!(2023 - 10 - 01))
            .expect("October's value");
        assert!(
            (oct.value - 100.0 * 63.0 / 93.0).abs() < 1e-9,
            "{}",
            oct.value
        );
        assert_eq!(app.audits().await, audits + 1);
        let log = app.store.audit_log(5).await.unwrap();
        assert_eq!(log[0].action, "qi_values_uploaded");
        assert!(
            log[0]
                .detail
                .as_deref()
                .unwrap_or("")
                .contains("1 monthly values of huddles from the file huddles-october.csv")
        );
        let page = app.get(&base, Some(&ward)).await.body;
        assert!(
            page.contains("<td>Oct 2023</td><td class=\"app-num\">67.7"),
            "the chart's table holds the month"
        );

        // Monthly values replace what is held.
        let r = app
            .post_multipart(
                &format!("{base}/values/file"),
                &ward,
                &[],
                "m.csv",
                b"measure,month,value\nhuddles,2023-10,70\nrestraints,2023-10,9\n",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let values = app.store.qi_values(id).await.unwrap();
        let n = values.len();
        assert!(
            values
                .iter()
                .any(|v| v.measure == "huddles" && v.value == 70.0)
        );

        // A file with one bad row among good ones: refused whole, nothing changed.
        let audits = app.audits().await;
        let r = app
            .post_multipart(
                &format!("{base}/values/file"),
                &ward,
                &[],
                "bad.csv",
                b"measure,month,value\nhuddles,2023-11,75\nhuddles,2023-12,lots\n",
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body
                .contains("The file bad.csv was not read: nothing was changed.")
        );
        assert!(
            r.body
                .contains(&html("bad.csv:3:17: value: \"lots\" is not a number")),
            "{}",
            r.body
        );
        assert_eq!(app.store.qi_values(id).await.unwrap().len(), n);
        assert_eq!(app.audits().await, audits);
        let r = app
            .post_multipart(&format!("{base}/values/file"), &ward, &[], "empty.csv", b"")
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body
                .contains("expected a CSV or Excel file of values; found no file")
        );

        // Someone who may not change the project cannot upload to it.
        let other = app.login("lead_b").await;
        let r = app
            .post_multipart(
                &format!("{base}/values/file"),
                &other,
                &[],
                "m.csv",
                b"measure,month,value\nhuddles,2023-11,1\n",
            )
            .await;
        assert!(
            r.status == StatusCode::FORBIDDEN || r.status == StatusCode::NOT_FOUND,
            "{}",
            r.status
        );
        assert_eq!(app.store.qi_values(id).await.unwrap().len(), n);
    }
}

/// The programme view's chart: one column a month for the last three years, each project
/// counted from its first dated event at the score suggested from its record and charts as
/// they stood at the month's end; the current month is the list's suggestion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_programme_view_charts_the_projects_at_each_level_by_month() {
    /// The rows of the chart's table: the month, then the count at each score from 5.0 to 0.5,
    /// then the total.
    fn history(list: &str) -> Vec<(String, Vec<String>)> {
        let table = &list[list.find("id=\"history-table\"").expect("the table")..];
        let table = &table[..table.find("</table>").unwrap()];
        table
            .split("<tr><th scope=\"row\">")
            .skip(1)
            .map(|r| {
                let month = r.split('<').next().unwrap().to_string();
                let cells = r
                    .split("<td class=\"app-num\">")
                    .skip(1)
                    .map(|c| c.split('<').next().unwrap().to_string())
                    .collect();
                (month, cells)
            })
            .collect()
    }
    for db in databases().await {
        let app = App::new(db).await;
        let ward = app.login("ward").await;
        journey(&app, &ward).await;
        let list = app.get("/qi", Some(&ward)).await.body;
        assert!(list.contains("class=\"qi-levels\""), "the chart is drawn");
        let rows = history(&list);
        // The project's first cycle (January 2023) is before the chart's 36 months: every
        // month counts it once.
        assert_eq!(rows.len(), 36);
        assert!(rows.iter().all(|(_, c)| c[10] == "1"), "{rows:?}");
        // The last month is today's suggestion: 3.5, the fourth column from 5.0.
        let now = time::OffsetDateTime::now_utc().date();
        let (month, cells) = rows.last().unwrap();
        assert_eq!(month, &qi::programme::month_label(now));
        assert_eq!(
            cells,
            &["0", "0", "0", "1", "0", "0", "0", "0", "0", "0", "1"]
        );
        // A project registered today with a charter and no cycle counts from this month only
        // (1.0: charter and team, its creator the lead).
        new_project(&app, &ward, "R8A-ASH", "Calmer evenings").await;
        let rows = history(&app.get("/qi", Some(&ward)).await.body);
        assert_eq!(rows.len(), 36);
        assert!(rows[..35].iter().all(|(_, c)| c[10] == "1"));
        assert_eq!(
            rows[35].1,
            ["0", "0", "0", "1", "0", "0", "0", "0", "1", "0", "2"]
        );
    }
}

/// Disclosure control on the team's own measures: to a viewer under control (a programme
/// viewer, another trust's lead), a measure whose values are all whole numbers may be a count
/// of patients' events, so its values pass the count rule (under 5 left out, others rounded to
/// 5) on the page, in the API and in what the suggestion reads; a measure with a fractional
/// value is shown as entered. The team sees its own figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controlled_viewer_sees_the_teams_counts_under_the_count_rule() {
    for db in databases().await {
        let app = App::new(db).await;
        let ward = app.login("ward").await;
        let id = journey(&app, &ward).await;
        let base = format!("/qi/{id}");
        for (mid, month, v) in [
            ("restraints", "2023-10", "3"),
            ("huddles", "2023-10", "85.5"),
        ] {
            app.change(
                &format!("{base}/values"),
                &ward,
                &[("measure", mid), ("month", month), ("value", v)],
            )
            .await;
        }
        let values_of = |body: &str, mid: &str| -> Vec<(String, f64)> {
            let v: serde_json::Value = serde_json::from_str(body).unwrap();
            v["own_measures"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["id"] == mid)
                .unwrap()["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| {
                    (
                        x["month"].as_str().unwrap().to_string(),
                        x["value"].as_f64().unwrap(),
                    )
                })
                .collect()
        };
        let api = format!("/api/qi/projects/{id}");
        let own = app.get(&api, Some(&ward)).await.body;
        assert!(values_of(&own, "restraints").contains(&("2023-10-01".into(), 3.0)));
        assert!(values_of(&own, "restraints").contains(&("2022-02-01".into(), 22.0)));
        for who in ["viewer", "lead_b"] {
            let cookie = app.login(who).await;
            let body = app.get(&api, Some(&cookie)).await.body;
            let restraints = values_of(&body, "restraints");
            assert!(
                !restraints.iter().any(|(m, _)| m == "2023-10-01"),
                "{who}: a count of 3 is left out"
            );
            assert!(
                restraints.iter().all(|(_, v)| v % 5.0 == 0.0 && *v >= 5.0),
                "{who}: {restraints:?}"
            );
            assert!(
                restraints.contains(&("2022-02-01".into(), 20.0)),
                "{who}: 22 rounded to 20"
            );
            let huddles = values_of(&body, "huddles");
            assert!(
                huddles.contains(&("2023-10-01".into(), 85.5)),
                "{who}: a share is shown as entered"
            );
            let page = app.get(&base, Some(&cookie)).await.body;
            assert!(
                !page.contains("<td>Oct 2023</td><td class=\"app-num\">3</td>"),
                "{who}"
            );
        }
    }
}
