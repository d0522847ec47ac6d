//! The attention test through the router, on SQLite and (when MHSIP_TEST_POSTGRES_URL is set)
//! PostgreSQL: a clinician issues a code; the family's test page takes it, the schedule comes
//! from `cpt`, the practice is scored by `cpt`, a bad log or a slow device stores nothing, a
//! good log is stored with the score `cpt::score` gives the same log, once; expired, used,
//! withdrawn and made-up codes get clear messages and store nothing; wrong codes are rate
//! limited; the report shows what the issue asks; another trust's clinician, and every other
//! role, gets 403; a repeat test is compared with reliable change; everything is audited
//! without the patient's reference.

#[path = "../../ingest/tests/common/mod.rs"]
mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{TestDb, databases, import_example, key};
use cpt::{KeyPress, Onset, RawLog, Schedule, ScoringOptions};
use domain::access::{Grant, Role};
use http_body_util::BodyExt;
use ingest::formats::Kind;
use serde_json::{Value, json};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

struct App {
    router: Router,
    store: store::Store,
    db: &'static str,
}

struct Resp {
    status: StatusCode,
    location: String,
    content_type: String,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

impl App {
    async fn new(db: TestDb, with_region: bool) -> App {
        let mut keys = key();
        if with_region {
            for kind in [
                Kind::Organisations,
                Kind::Wards,
                Kind::BedDays,
                Kind::Patients,
                Kind::WardStays,
                Kind::RestrictiveInterventions,
            ] {
                import_example(&db, &mut keys, kind).await;
            }
        }
        let users = [
            ("clin", Role::Clinician, Some("R8A"), None),
            ("clin.b", Role::Clinician, Some("R8B"), None),
            ("admin", Role::ProgrammeAdmin, None, None),
            ("lead", Role::TrustLead, Some("R8A"), None),
            ("ward", Role::WardUser, Some("R8A"), Some("R8A-ASH")),
        ];
        for (name, role, trust, ward) in users {
            let g = Grant::new(role, trust.map(Into::into), ward.map(Into::into)).unwrap();
            db.store.create_user(name, PASSWORD, &g).await.unwrap();
        }
        let config = web::Config {
            data_dir: db.dir.clone(),
            ..web::Config::default()
        };
        let state = web::AppState::new(db.store.clone(), keys, config)
            .await
            .unwrap();
        App {
            router: web::router(state),
            store: db.store.clone(),
            db: db.name,
        }
    }

    async fn send(&self, req: Request<Body>) -> Resp {
        let r = self.router.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let get = |h| {
            r.headers()
                .get(h)
                .map(|v: &header::HeaderValue| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        let location = get(header::LOCATION);
        let content_type = get(header::CONTENT_TYPE);
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            location,
            content_type,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Resp {
        let mut b = Request::get(path);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    async fn post_form(&self, path: &str, cookie: Option<&str>, form: &str) -> Resp {
        let mut b = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::from(form.to_string())).unwrap())
            .await
    }

    /// A same-origin `fetch` of JSON, as the test page makes it (no cookie).
    async fn post_json(&self, path: &str, body: &Value) -> Resp {
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req).await
    }

    async fn login(&self, name: &str) -> String {
        let req = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(format!(
                "username={name}&password=correct+horse+battery&next=/"
            )))
            .unwrap();
        let r = self.router.clone().oneshot(req).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login {name}");
        r.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string()
    }

    /// Issue a code on the clinic page, as the page shows it (once).
    async fn issue(&self, cookie: &str, form: &str) -> String {
        let r = self.post_form("/clinic/codes", Some(cookie), form).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body
            .split("id=\"new-code\" type=\"text\" readonly value=\"")
            .nth(1)
            .and_then(|t| t.split('"').next())
            .expect("the new code on the page")
            .to_string()
    }

    async fn count(&self, table: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(self.store.pool())
            .await
            .unwrap();
        n
    }

    /// Start the test with a code: the attempt token and the schedule.
    async fn start(&self, code: &str) -> (String, Schedule) {
        let r = self
            .post_json("/test/schedule", &json!({ "code": code }))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", self.db, r.body);
        let j = r.json();
        let plan: Schedule = serde_json::from_value(j["schedule"].clone()).unwrap();
        (j["attempt"].as_str().unwrap().to_string(), plan)
    }
}

/// A log of a block as a browser would record it, starting at `t0` ms: every trial shown 3 ms
/// after its planned time; a press on every target after 350 to 470 ms (one of them held down,
/// so an auto-repeat follows), and on every seventh non-target after 450 ms.
fn log_of(trials: &[cpt::Trial], t0: f64) -> RawLog {
    let mut log = RawLog {
        planned_trials: Some(trials.len() as u32),
        ..RawLog::default()
    };
    let mut held = false;
    for (i, t) in trials.iter().enumerate() {
        let onset = t0 + t.onset_ms as f64 + 3.0;
        log.stimuli.push(Onset {
            trial: t.index,
            onset_ms: onset,
            target: t.target,
        });
        if t.target {
            let at = onset + 350.0 + (i % 7) as f64 * 20.0;
            log.keys.push(KeyPress {
                time_ms: at,
                repeat: false,
            });
            if !held {
                held = true;
                log.keys.push(KeyPress {
                    time_ms: at + 500.0,
                    repeat: true,
                });
            }
        } else if i % 7 == 0 {
            log.keys.push(KeyPress {
                time_ms: onset + 450.0,
                repeat: false,
            });
        }
    }
    log
}

fn steady_timing() -> Value {
    json!({ "intervals_ms": vec![16.67; 130], "fullscreen": true, "hidden_count": 0 })
}

const FORM: &str =
    "patient_ref=CAMHS-0042&age=8&sex=male&ethnic_group=White&service=&days=14&length=full";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_runs_one_test_scored_by_cpt_and_the_report_shows_it() {
    for db in databases().await {
        let app = App::new(db, false).await;
        let db = app.db;
        let clin = app.login("clin").await;
        // The instructions work without JavaScript: a plain page with the code form.
        let r = app.get("/test", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("space bar") && r.body.contains("name=\"code\""));
        assert!(!r.body.contains("cpt-test.js"));
        let code = app.issue(&clin, FORM).await;
        assert_eq!(code.len(), 39, "{code}");
        // A made-up code: a clear message, nothing started.
        let r = app.post_form("/test", None, "code=AAAA-BBBB").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("not one we know"), "{}", r.body);
        // The code as the family types it (lower case, spaces): the test page and its script.
        let typed = code.to_lowercase().replace('-', " ");
        let r = app
            .post_form("/test", None, &format!("code={}", typed.replace(' ', "+")))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("/assets/cpt-test.js"));
        assert!(r.body.contains("yellow star"));
        assert!(r.body.contains("This test needs JavaScript"));
        // The schedule is cpt's for the seed the server chose.
        let (attempt, plan) = app.start(&code).await;
        assert_eq!(plan.trials.len(), 450);
        assert_eq!(
            plan,
            cpt::schedule(&cpt::TaskVersion::GoNoGo.params(), plan.seed).unwrap()
        );
        // The result cannot be stored before the practice is passed.
        let log = log_of(&plan.trials, 60_000.0);
        let body =
            json!({ "code": code, "attempt": attempt, "log": log, "timing": steady_timing() });
        let r = app.post_json("/test/result", &body).await;
        assert_eq!(r.status, StatusCode::GONE, "{}", r.body);
        assert!(r.json()["error"].as_str().unwrap().starts_with("practice:"));
        // A practice without presses fails (no hits); one with them passes.
        let empty = RawLog {
            keys: Vec::new(),
            ..log_of(&plan.practice, 20_000.0)
        };
        let r = app
            .post_json(
                "/test/practice",
                &json!({ "code": code, "attempt": attempt, "log": empty }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["passed"], json!(false));
        assert_eq!(r.json()["attempts_left"], json!(2));
        let practice = log_of(&plan.practice, 40_000.0);
        let r = app
            .post_json(
                "/test/practice",
                &json!({ "code": code, "attempt": attempt, "log": practice }),
            )
            .await;
        assert_eq!(r.json()["passed"], json!(true), "{}", r.body);
        // Times out of order: the field named, nothing stored.
        let mut bad = log.clone();
        bad.stimuli[3].onset_ms = bad.stimuli[2].onset_ms - 10.0;
        let r = app
            .post_json(
                "/test/result",
                &json!({ "code": code, "attempt": attempt, "log": bad, "timing": steady_timing() }),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        let e = r.json()["error"].as_str().unwrap().to_string();
        assert!(e.starts_with("log.stimuli[3].onset_ms: expected"), "{e}");
        let mut bad = log.clone();
        bad.keys.swap(0, 1);
        let r = app
            .post_json(
                "/test/result",
                &json!({ "code": code, "attempt": attempt, "log": bad, "timing": steady_timing() }),
            )
            .await;
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .starts_with("log.keys[1].time_ms"),
            "{}",
            r.body
        );
        // A stimulus that is not the schedule's: refused.
        let mut bad = log.clone();
        bad.stimuli[0].target = !bad.stimuli[0].target;
        let r = app
            .post_json(
                "/test/result",
                &json!({ "code": code, "attempt": attempt, "log": bad, "timing": steady_timing() }),
            )
            .await;
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .starts_with("log.stimuli[0].target"),
            "{}",
            r.body
        );
        // A device that cannot hold its frame rate: refused.
        let slow = json!({ "intervals_ms": vec![40.0; 100] });
        let r = app
            .post_json(
                "/test/result",
                &json!({ "code": code, "attempt": attempt, "log": log, "timing": slow }),
            )
            .await;
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .starts_with("timing: this device shows 25"),
            "{}",
            r.body
        );
        // Not JSON at all: refused with what was expected.
        let req = Request::post("/test/result")
            .header(header::CONTENT_TYPE, "application/json")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from("{not json"))
            .unwrap();
        let r = app.send(req).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .starts_with("result: expected JSON")
        );
        // A body beyond 6 MB is refused before it is read whole.
        let req = Request::post("/test/result")
            .header(header::CONTENT_TYPE, "application/json")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(vec![b' '; 7 * 1024 * 1024]))
            .unwrap();
        assert_eq!(app.send(req).await.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(app.count("cpt_tests").await, 0, "{db}: nothing stored");
        // The good log: stored, with exactly the score cpt gives the same log.
        let r = app.post_json("/test/result", &body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["stored"], json!(true));
        assert_eq!(app.count("cpt_tests").await, 1);
        let (raw, score_json): (String, String) =
            sqlx::query_as("SELECT raw_log, score_json FROM cpt_tests")
                .fetch_one(app.store.pool())
                .await
                .unwrap();
        let stored_log: RawLog = serde_json::from_str(&raw).unwrap();
        assert_eq!(stored_log, log);
        // The stored score is cpt's score of the same log, to the last digit of its JSON.
        let expected = cpt::score(&log, &ScoringOptions::default()).unwrap();
        assert!(
            score_json == serde_json::to_string(&expected).unwrap(),
            "{db}: the stored score differs from cpt::score of the stored log"
        );
        assert_eq!(expected.repeats, 1);
        // Once only: the same post, the code page and a new start are refused as used.
        let r = app.post_json("/test/result", &body).await;
        assert_eq!(r.status, StatusCode::GONE);
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap()
                .contains("already been used")
        );
        let r = app.post_form("/test", None, &format!("code={code}")).await;
        assert_eq!(r.status, StatusCode::GONE);
        assert!(r.body.contains("already been used"), "{}", r.body);
        let r = app
            .post_json("/test/schedule", &json!({ "code": code }))
            .await;
        assert_eq!(r.status, StatusCode::GONE);
        assert_eq!(app.count("cpt_tests").await, 1);

        // The clinician's list and report.
        let list = app.get("/clinic", Some(&clin)).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.contains("/clinic/tests/1\"") && list.body.contains("CAMHS-0042"));
        assert!(!list.body.contains(&code), "a code is shown once only");
        let rep = app.get("/clinic/tests/1", Some(&clin)).await;
        assert_eq!(rep.status, StatusCode::OK, "{}", rep.body);
        for must in [
            "supports a clinical assessment and does not replace it",
            "For demonstration, not for clinical use",
            "Activity was not measured",
            "boys aged 8 to 9 (40 children in the norm sample)",
            "The norm sample holds 30 children",
            "Reaction time, mean (ms)",
            "Q-score",
            "Inattention",
            "Impulsivity",
            "Quarter 4",
            "<svg viewBox",
            "Frame jitter",
            "Stimulus onset error",
            "Download the raw trial log",
        ] {
            assert!(rep.body.contains(must), "{db}: the report lacks {must:?}");
        }
        // The values shown are cpt's.
        let mean = expected.whole.hit_rt.mean.unwrap();
        assert!(rep.body.contains(&format!("{mean:.0}")), "mean RT {mean}");
        // Print styles exist in the stylesheet the report links.
        let css = app.get("/assets/cpt.css", None).await;
        assert!(css.body.contains("@media print"));
        // The raw log as CSV: one line per stimulus and press, in time order.
        let csv = app.get("/clinic/tests/1/log.csv", Some(&clin)).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.content_type.starts_with("text/csv"));
        let lines: Vec<&str> = csv.body.lines().collect();
        assert_eq!(
            lines[0],
            "event,trial,target,time_ms,end_ms,repeat,outcome,rt_ms,anticipatory,multiple,quarter"
        );
        assert_eq!(lines.len(), 1 + log.stimuli.len() + log.keys.len());
        assert!(lines[1].starts_with("stimulus,0,"));
        // The same report as a PDF file, downloaded and audited.
        let pdf = app.get("/clinic/tests/1/report.pdf", Some(&clin)).await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert_eq!(pdf.content_type, "application/pdf");
        assert!(pdf.body.starts_with("%PDF-"));
        assert!(
            app.store
                .audit_log(50)
                .await
                .unwrap()
                .iter()
                .any(|a| a.action == "cpt_report_downloaded")
        );
        // Observation notes.
        let r = app
            .post_form(
                "/clinic/tests/1/notes",
                Some(&clin),
                "notes=Fidgety+in+the+last+quarter.",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(
            app.get("/clinic/tests/1", Some(&clin))
                .await
                .body
                .contains("Fidgety in the last quarter.")
        );

        // Another trust's clinician, and every other role, gets 403; nobody signed in, login.
        let other = app.login("clin.b").await;
        for path in [
            "/clinic/tests/1",
            "/clinic/tests/1/log.csv",
            "/clinic/tests/1/report.pdf",
        ] {
            assert_eq!(
                app.get(path, Some(&other)).await.status,
                StatusCode::FORBIDDEN,
                "{path}"
            );
        }
        assert_eq!(
            app.post_form("/clinic/tests/1/notes", Some(&other), "notes=x")
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.post_form("/clinic/codes/1/reissue", Some(&other), "")
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let theirs = app.get("/clinic", Some(&other)).await;
        assert_eq!(theirs.status, StatusCode::OK);
        assert!(!theirs.body.contains("CAMHS-0042"));
        for who in ["admin", "lead", "ward"] {
            let c = app.login(who).await;
            for path in ["/clinic", "/clinic/tests/1", "/clinic/tests/1/log.csv"] {
                assert_eq!(
                    app.get(path, Some(&c)).await.status,
                    StatusCode::FORBIDDEN,
                    "{who} {path}"
                );
            }
            assert_eq!(
                app.post_form("/clinic/codes", Some(&c), FORM).await.status,
                StatusCode::FORBIDDEN
            );
        }
        let r = app.get("/clinic/tests/1", None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.location.starts_with("/login"));
        assert_eq!(
            app.get("/clinic/tests/999", Some(&clin)).await.status,
            StatusCode::NOT_FOUND
        );

        // A repeat test: a new code for the same patient; its report compares the two.
        let r = app
            .post_form("/clinic/codes/1/reissue", Some(&clin), "")
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let code2 = r
            .body
            .split("readonly value=\"")
            .nth(1)
            .and_then(|t| t.split('"').next())
            .unwrap()
            .to_string();
        let (attempt2, plan2) = app.start(&code2).await;
        let p = log_of(&plan2.practice, 10_000.0);
        app.post_json(
            "/test/practice",
            &json!({ "code": code2, "attempt": attempt2, "log": p }),
        )
        .await;
        // Slower: every press 150 ms later.
        let mut log2 = log_of(&plan2.trials, 50_000.0);
        for k in &mut log2.keys {
            k.time_ms += 150.0;
        }
        let r = app
            .post_json(
                "/test/result",
                &json!({ "code": code2, "attempt": attempt2, "log": log2, "timing": steady_timing() }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let rep2 = app.get("/clinic/tests/2", Some(&clin)).await;
        assert!(rep2.body.contains("Compared with test 1"), "{}", rep2.body);
        assert!(rep2.body.contains("RCI"));
        assert!(rep2.body.contains("reliable change, towards atypical"));
        let code_rows = app.store.cpt_codes("R8A", false).await.unwrap();
        assert_eq!(code_rows[0].repeat_of, Some(1));

        // Audited, and never with the patient's reference or a code.
        let audit: Vec<(String, Option<String>, Option<String>)> =
            sqlx::query_as("SELECT action, detail, target FROM audit_log")
                .fetch_all(app.store.pool())
                .await
                .unwrap();
        for action in [
            "cpt_code_issued",
            "cpt_code_unknown",
            "cpt_test_started",
            "cpt_practice",
            "cpt_result_refused",
            "cpt_test_stored",
            "cpt_code_used",
            "cpt_report_viewed",
            "cpt_log_downloaded",
            "cpt_notes_saved",
        ] {
            assert!(
                audit.iter().any(|a| a.0 == action),
                "{db}: no {action} in the audit log"
            );
        }
        let plain = store::cpt::normalise_code(&code);
        for (_, detail, target) in &audit {
            for text in [detail, target].into_iter().flatten() {
                assert!(
                    !text.contains("CAMHS-0042") && !text.contains(&plain),
                    "{text}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_withdrawn_and_guessed_codes_store_nothing() {
    for db in databases().await {
        let app = App::new(db, false).await;
        let clin = app.login("clin").await;
        // A bad form names its field and issues nothing.
        let r = app
            .post_form("/clinic/codes", Some(&clin), "patient_ref=X&age=4&days=7")
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body.contains("Age: the test is for children"),
            "{}",
            r.body
        );
        assert_eq!(app.count("cpt_codes").await, 0);
        // Expired.
        let code = app.issue(&clin, FORM).await;
        sqlx::query("UPDATE cpt_codes SET expires_at = 0")
            .execute(app.store.pool())
            .await
            .unwrap();
        let r = app.post_form("/test", None, &format!("code={code}")).await;
        assert_eq!(r.status, StatusCode::GONE);
        assert!(r.body.contains("has expired"), "{}", r.body);
        let r = app
            .post_json("/test/schedule", &json!({ "code": code }))
            .await;
        assert_eq!(r.status, StatusCode::GONE);
        assert!(r.json()["error"].as_str().unwrap().contains("expired"));
        // Withdrawn (after a start): the attempt can no longer store anything.
        let code = app.issue(&clin, FORM).await;
        let (attempt, plan) = app.start(&code).await;
        let r = app
            .post_form("/clinic/codes/2/withdraw", Some(&clin), "")
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = app
            .post_json(
                "/test/result",
                &json!({ "code": code, "attempt": attempt, "log": log_of(&plan.trials, 0.0), "timing": steady_timing() }),
            )
            .await;
        assert_eq!(r.status, StatusCode::GONE);
        assert!(r.json()["error"].as_str().unwrap().contains("withdrawn"));
        // Started again: the first attempt's token is worth nothing.
        let code = app.issue(&clin, FORM).await;
        let (first, _) = app.start(&code).await;
        let (_second, plan) = app.start(&code).await;
        let r = app
            .post_json(
                "/test/practice",
                &json!({ "code": code, "attempt": first, "log": log_of(&plan.practice, 0.0) }),
            )
            .await;
        assert_eq!(r.status, StatusCode::GONE);
        assert!(r.json()["error"].as_str().unwrap().starts_with("attempt:"));
        assert_eq!(app.count("cpt_tests").await, 0);
        // Guessing: after 10 codes that do not work, even a good code waits.
        for i in 0..7 {
            let r = app
                .post_form("/test", None, &format!("code=WRONG{i:027}"))
                .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST);
        }
        let r = app.post_form("/test", None, &format!("code={code}")).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
        assert!(r.body.contains("Too many codes"));
    }
}

/// A clinician sees none of the safety programme's figures, and lands on the clinic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinician_sees_no_safety_figures() {
    let db = databases().await.remove(0);
    let app = App::new(db, true).await;
    let clin = app.login("clin").await;
    let r = app.get("/", Some(&clin)).await;
    assert_eq!(
        (r.status, r.location.as_str()),
        (StatusCode::SEE_OTHER, "/clinic")
    );
    for path in [
        "/org/R8A",
        "/org/R8A-ASH",
        "/org/Y98",
        "/chart/R8A-ASH/ri_rate",
        "/chart/R8A-ASH/ri_rate/download/csv",
        "/inequalities",
        "/completeness",
        "/uploads",
        "/admin",
        "/api/summary/R8A",
        "/api/series/R8A-ASH/ri_rate",
    ] {
        assert_eq!(
            app.get(path, Some(&clin)).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let page = app.get("/clinic", Some(&clin)).await.body;
    assert!(page.contains("href=\"/clinic\""));
    assert!(!page.contains("href=\"/inequalities\""));
}

/// Start, practise and post a full test with a code; the stored test's id.
async fn run_test(app: &App, code: &str) -> i64 {
    let (attempt, plan) = app.start(code).await;
    let p = log_of(&plan.practice, 10_000.0);
    let r = app
        .post_json(
            "/test/practice",
            &json!({ "code": code, "attempt": attempt, "log": p }),
        )
        .await;
    assert_eq!(r.json()["passed"], json!(true), "{}", r.body);
    let log = log_of(&plan.trials, 40_000.0);
    let r = app
        .post_json(
            "/test/result",
            &json!({ "code": code, "attempt": attempt, "log": log, "timing": steady_timing() }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (id,): (i64,) = sqlx::query_as("SELECT MAX(id) FROM cpt_tests")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    id
}

/// How well the norms fit: a thin group, an absent one, an unrecorded one and an age the norms
/// do not cover are each said; a service's norms file that cannot be used is named with its
/// line and field, and no Q-score is shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_says_how_well_the_norms_fit_and_refuses_bad_norms() {
    let db = databases().await.remove(0);
    let dir = db.dir.clone();
    let app = App::new(db, false).await;
    let clin = app.login("clin").await;
    let cases = [
        // (ethnic group, sex, what the report says)
        ("Mixed", "female", "holds only 1 child of this child"),
        ("", "male", "ethnic group is not recorded, so how well"),
    ];
    for (group, sex, says) in cases {
        let form = format!(
            "patient_ref=FIT-{group}&age=7&sex={sex}&ethnic_group={group}&days=7&length=full"
        );
        let code = app.issue(&clin, &form).await;
        let id = run_test(&app, &code).await;
        let rep = app
            .get(&format!("/clinic/tests/{id}"), Some(&clin))
            .await
            .body;
        assert!(rep.contains("The norms may not fit this child"), "{group}");
        assert!(rep.contains(says), "{group}: {says}");
        assert!(rep.contains("Q-score"));
    }
    let demo = include_str!("../../cpt/norms/illustrative-go-no-go.csv");
    let norms = dir.join("norms");
    std::fs::create_dir_all(&norms).unwrap();
    // A service's norms file whose sample holds no girl of 6 or 7 of a Mixed ethnic group (the
    // one there was is moved to White, so the counts still add up): absent, said so.
    let absent = demo
        .replace("group,6,7,female,Mixed,1", "")
        .replace("group,6,7,female,White,30", "group,6,7,female,White,31");
    std::fs::write(norms.join("go_no_go.csv"), absent).unwrap();
    let rep = app.get("/clinic/tests/1", Some(&clin)).await.body;
    assert!(rep.contains("holds no children of this child"), "{rep}");
    assert!(
        rep.contains("ethnic group (Mixed): the norms may not fit"),
        "{rep}"
    );
    // A norms file of the service's with a negative SD: named with its line, no Q-scores.
    let mut lines: Vec<String> = demo.lines().map(str::to_string).collect();
    let i = lines
        .iter()
        .position(|l| l.starts_with("norm,") && l.contains(",rt_mean_ms,"))
        .unwrap();
    let (head, sd) = lines[i].rsplit_once(',').unwrap();
    lines[i] = format!("{head},-{sd}");
    std::fs::write(norms.join("go_no_go.csv"), lines.join("\n")).unwrap();
    let rep = app.get("/clinic/tests/1", Some(&clin)).await.body;
    assert!(rep.contains("No Q-scores: the norms file"), "{rep}");
    assert!(
        rep.contains(&format!(
            "line {}, norm.sd: expected a finite number above 0",
            i + 1
        )),
        "{rep}"
    );
    assert!(!rep.contains("(at or above 1.5)"));
    // Norms without the 6-7 band: a child of 7 is not covered, said so, no Q-scores.
    let older: String = demo
        .lines()
        .filter(|l| !l.starts_with("norm,6,7,") && !l.starts_with("group,6,7,"))
        .map(|l| {
            if l == "sample,size,240" {
                "sample,size,160"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(norms.join("go_no_go.csv"), older).unwrap();
    let rep = app.get("/clinic/tests/1", Some(&clin)).await.body;
    assert!(
        rep.contains("No Q-scores: the norms do not cover this child"),
        "{rep}"
    );
    assert!(rep.contains("7, female"), "{rep}");
}

/// Speed: the clinician's list of a service's tests (the newest 100 of 400, and all 400) and a
/// report, timed through the router on SQLite; the figures are printed (docs/web.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_of_a_services_tests_is_quick() {
    let db = databases().await.remove(0);
    let app = App::new(db, false).await;
    let clin = app.login("clin").await;
    let log = serde_json::to_string(&log_of(
        &cpt::schedule(&cpt::TaskVersion::GoNoGo.params(), 7)
            .unwrap()
            .trials,
        0.0,
    ))
    .unwrap();
    let test = store::cpt::NewTest {
        started_at: 1_000,
        finished_at: 2_000,
        timing_json: "{}".into(),
        raw_log: log,
        head_track: None,
        score_json: "{}".into(),
        user_agent: "speed".into(),
    };
    for i in 0..400 {
        let text = format!("SPEED{i:027}");
        let code = store::cpt::NewCode {
            trust_code: "R8A".into(),
            service: "R8A".into(),
            patient_ref: format!("P-{i}"),
            age_years: 8,
            sex: Some("female".into()),
            ethnic_group: Some("White".into()),
            task: "go_no_go".into(),
            duration_ms: 900_000,
            issued_by: "clin".into(),
            issued_at: 1_000,
            expires_at: 10_000,
            repeat_of: None,
        };
        let id = app.store.issue_cpt_code(&code, &text).await.unwrap();
        assert!(
            app.store
                .start_cpt_attempt(id, 7, "a", 1_000)
                .await
                .unwrap()
        );
        app.store.record_cpt_practice(id, "[]", true).await.unwrap();
        app.store
            .save_cpt_test(&text, "a", &test, 2_000)
            .await
            .unwrap()
            .unwrap();
    }
    let time = |n: usize, path: &'static str| {
        let (app, clin) = (&app, &clin);
        async move {
            let mut ms = Vec::new();
            for _ in 0..n {
                let t = std::time::Instant::now();
                let r = app.get(path, Some(clin)).await;
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
                assert_eq!(r.status, StatusCode::OK);
            }
            ms.sort_by(f64::total_cmp);
            (ms[n / 2], ms[(n * 95).div_ceil(100) - 1])
        }
    };
    let (list_median, list_p95) = time(40, "/clinic").await;
    let page = app.get("/clinic", Some(&clin)).await.body;
    assert_eq!(page.matches("href=\"/clinic/tests/").count(), 100);
    assert!(page.contains("/clinic?all=yes"));
    let all = app.get("/clinic?all=yes", Some(&clin)).await.body;
    assert_eq!(all.matches("href=\"/clinic/tests/").count(), 400);
    let (all_median, all_p95) = time(10, "/clinic?all=yes").await;
    let (report_median, report_p95) = time(20, "/clinic/tests/400").await;
    println!(
        "/clinic (the newest 100 of 400 tests): median {list_median:.1} ms, p95 {list_p95:.1} ms; \
         all 400: median {all_median:.1} ms, p95 {all_p95:.1} ms; \
         a report: median {report_median:.1} ms, p95 {report_p95:.1} ms (debug build)"
    );
    // The issue's bound, met here by a debug build (about 6 ms on the shared 2-core machine).
    assert!(list_p95 < 30.0, "p95 {list_p95} ms");
}
