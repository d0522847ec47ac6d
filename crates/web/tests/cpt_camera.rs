//! The attention test's head track (issue 15 item 3) through the router, on SQLite and (when
//! MHSIP_TEST_POSTGRES_URL is set) PostgreSQL: a result posted with a head track stores it and
//! the report shows activity measured on the device (its quarters, its trace, the tracking rate
//! and jitter); a track carrying anything but times, positions and sizes (an image, say), or
//! with its times out of order, is refused with the field named and nothing is stored; without
//! consent or a camera the report says why activity was not measured; the test page alone is
//! served with 'wasm-unsafe-eval' in its Content-Security-Policy.

#[path = "../../ingest/tests/common/mod.rs"]
mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{TestDb, databases, key};
use cpt::{KeyPress, Onset, RawLog, Schedule};
use domain::access::{Grant, Role};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";
const FORM: &str =
    "patient_ref=CAMHS-0101&age=9&sex=female&ethnic_group=Asian&service=&days=14&length=full";
const STRICT_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

struct App {
    router: Router,
    store: store::Store,
    db: &'static str,
}

struct Resp {
    status: StatusCode,
    csp: String,
    body: String,
}

impl App {
    async fn new(db: TestDb) -> App {
        for (name, role) in [("clin", Role::Clinician), ("lead", Role::TrustLead)] {
            let g = Grant::new(role, Some("R8A".into()), None).unwrap();
            db.store.create_user(name, PASSWORD, &g).await.unwrap();
        }
        let config = web::Config {
            data_dir: db.dir.clone(),
            ..web::Config::default()
        };
        let state = web::AppState::new(db.store.clone(), key(), config)
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
        let csp = r
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            csp,
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

    async fn issue(&self, cookie: &str) -> String {
        let r = self.post_form("/clinic/codes", Some(cookie), FORM).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body
            .split("id=\"new-code\" type=\"text\" readonly value=\"")
            .nth(1)
            .and_then(|t| t.split('"').next())
            .expect("the new code on the page")
            .to_string()
    }

    async fn tests_stored(&self) -> i64 {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cpt_tests")
            .fetch_one(self.store.pool())
            .await
            .unwrap();
        n
    }

    /// Start and pass the practice: the attempt and the schedule.
    async fn ready(&self, code: &str) -> (String, Schedule) {
        let r = self
            .post_json("/test/schedule", &json!({ "code": code }))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", self.db, r.body);
        let j: Value = serde_json::from_str(&r.body).unwrap();
        let plan: Schedule = serde_json::from_value(j["schedule"].clone()).unwrap();
        let attempt = j["attempt"].as_str().unwrap().to_string();
        let r = self
            .post_json(
                "/test/practice",
                &json!({ "code": code, "attempt": attempt, "log": log_of(&plan.practice, 10_000.0) }),
            )
            .await;
        assert!(r.body.contains("\"passed\":true"), "{}", r.body);
        (attempt, plan)
    }
}

/// Every trial shown 2 ms late, every target answered after 400 ms.
fn log_of(trials: &[cpt::Trial], t0: f64) -> RawLog {
    let mut log = RawLog {
        planned_trials: Some(trials.len() as u32),
        ..RawLog::default()
    };
    for t in trials {
        let onset = t0 + t.onset_ms as f64 + 2.0;
        log.stimuli.push(Onset {
            trial: t.index,
            onset_ms: onset,
            target: t.target,
        });
        if t.target {
            log.keys.push(KeyPress {
                time_ms: onset + 400.0,
                repeat: false,
            });
        }
    }
    log
}

/// A head track at 30 a second over the log's span: the face (a fifth of the frame wide)
/// swaying across by 0.1 of the frame every 4 seconds.
fn track_of(log: &RawLog) -> Value {
    let start = log.stimuli[0].onset_ms - 500.0;
    let end = log.stimuli.last().unwrap().onset_ms + 2_500.0;
    let mut samples = Vec::new();
    let mut t = start;
    while t < end {
        let x = 0.5 + 0.05 * (2.0 * std::f64::consts::PI * t / 4000.0).sin();
        // Rounded as the page rounds them (0.1 ms, 4 decimals).
        let (t1, x4) = ((t * 10.0).round() / 10.0, (x * 1e4).round() / 1e4);
        samples.push(json!({ "t_ms": t1, "x": x4, "y": 0.45, "size": 0.2 }));
        t += 1000.0 / 30.0;
    }
    json!({ "frame_aspect": 0.75, "samples": samples })
}

fn timing() -> Value {
    json!({ "intervals_ms": vec![16.67; 130], "fullscreen": true, "hidden_count": 0 })
}

fn camera_used() -> Value {
    json!({ "status": "used", "frames_processed": 27000, "detect_ms_median": 9.8 })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_track_is_stored_and_the_report_shows_activity() {
    for db in databases().await {
        let app = App::new(db).await;
        let db = app.db;
        let clin = app.login("clin").await;
        let code = app.issue(&clin).await;
        // The test page, and only it, may compile WebAssembly; every other page is strict.
        let page = app.post_form("/test", None, &format!("code={code}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert_eq!(
            page.csp,
            STRICT_CSP.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")
        );
        assert!(page.csp.contains("script-src 'self' 'wasm-unsafe-eval'"));
        assert!(!page.csp.contains(" 'unsafe-eval'"), "{}", page.csp);
        assert!(page.body.contains("id=\"cpt-camera\""));
        assert!(page.body.contains("No picture or video is saved or sent"));
        for path in ["/test", "/login", "/clinic"] {
            let r = app.get(path, Some(&clin)).await;
            assert_eq!(r.csp, STRICT_CSP, "{db}: {path}");
        }
        let wrong = app.post_form("/test", None, "code=NOPE").await;
        assert_eq!(
            wrong.csp, STRICT_CSP,
            "a refused code gets the site's policy"
        );
        // The detector's files are served from /assets.
        for asset in [
            "/assets/cpt-camera.js",
            "/assets/face-api/face-api.esm.js",
            "/assets/face-api/model/tiny_face_detector_model-weights_manifest.json",
            "/assets/face-api/model/tiny_face_detector_model.bin",
            "/assets/face-api/wasm/tfjs-backend-wasm-simd.wasm",
            "/assets/face-api/wasm/tfjs-backend-wasm.wasm",
        ] {
            assert_eq!(app.get(asset, None).await.status, StatusCode::OK, "{asset}");
        }

        let (attempt, plan) = app.ready(&code).await;
        let log = log_of(&plan.trials, 40_000.0);
        let track = track_of(&log);
        // A track with anything else in it (here an image) is refused; nothing is stored.
        let mut with_image = track.clone();
        with_image["samples"][5]["image"] = json!("data:image/jpeg;base64,/9j/4AAQ");
        let r = app
            .post_json(
                "/test/result",
                &json!({ "code": code, "attempt": attempt, "log": log, "timing": timing(),
                    "head_track": with_image, "camera": camera_used() }),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{db}: {}", r.body);
        assert!(r.body.contains("unknown field `image`"), "{}", r.body);
        let mut with_frame = track.clone();
        with_frame["frame"] = json!([0, 1, 2]);
        let r = app
            .post_json(
                "/test/result",
                &json!({ "code": code, "attempt": attempt, "log": log, "timing": timing(),
                    "head_track": with_frame, "camera": camera_used() }),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        // Times out of order: the sample named.
        let mut disordered = track.clone();
        let t9 = disordered["samples"][9]["t_ms"].as_f64().unwrap();
        disordered["samples"][10]["t_ms"] = json!(t9 - 5.0);
        let r = app
            .post_json(
                "/test/result",
                &json!({ "code": code, "attempt": attempt, "log": log, "timing": timing(),
                    "head_track": disordered, "camera": camera_used() }),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("head_track.samples[10].t_ms"), "{}", r.body);
        assert_eq!(app.tests_stored().await, 0, "{db}: nothing stored");

        // The good track: stored as posted.
        let r = app
            .post_json(
                "/test/result",
                &json!({ "code": code, "attempt": attempt, "log": log, "timing": timing(),
                    "head_track": track, "camera": camera_used() }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{db}: {}", r.body);
        let (id,): (i64,) = sqlx::query_as("SELECT MAX(id) FROM cpt_tests")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        let stored = app.store.cpt_test(id).await.unwrap().unwrap();
        let stored_track: cpt::HeadTrack =
            serde_json::from_str(stored.head_track.as_deref().unwrap()).unwrap();
        let posted: cpt::HeadTrack = serde_json::from_value(track.clone()).unwrap();
        assert_eq!(stored_track, posted);
        let report = app.get(&format!("/clinic/tests/{id}"), Some(&clin)).await;
        assert_eq!(report.status, StatusCode::OK);
        let b = &report.body;
        assert!(
            b.contains("Measured on the family&#39;s device from 27000 head positions"),
            "{b}"
        );
        assert!(!b.contains("Activity was not measured"));
        assert!(b.contains("aria-labelledby=\"activity-title\""));
        assert!(b.contains("Time active (%)") || b.contains("Time active"));
        assert!(b.contains("Head tracking rate"));
        // 30 positions a second over the span (first onset to last onset + 2 s).
        let span = cpt::Span::of_log(&log, &cpt::ScoringOptions::default()).unwrap();
        let n = posted
            .samples
            .iter()
            .filter(|s| s.t_ms >= span.start_ms && s.t_ms < span.end_ms)
            .count();
        let rate = 1000.0 * n as f64 / (span.end_ms - span.start_ms);
        assert!(b.contains(&format!("{rate:.1} a second")), "{rate}");
        assert!(b.contains("33.3 ± 0.0 ms"), "the interval and its jitter");
        // The activity figures are cpt's for the stored track.
        let a = cpt::activity(&posted, span, &cpt::ActivityOptions::default()).unwrap();
        assert!(a.whole.tracked_pct > 99.0);
        assert!(
            b.contains(&format!("{:.2}", a.whole.area)),
            "area {}",
            a.whole.area
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_consent_or_a_camera_the_report_says_why_activity_was_not_measured() {
    for db in databases().await {
        let app = App::new(db).await;
        let clin = app.login("clin").await;
        for (camera, says) in [
            (
                json!({ "status": "declined" }),
                "the family did not agree to the camera being used",
            ),
            (
                json!({ "status": "unavailable", "reason": "no camera could be started" }),
                "the camera could not be used (no camera could be started)",
            ),
            (Value::Null, "the camera could not be used"),
        ] {
            let code = app.issue(&clin).await;
            let (attempt, plan) = app.ready(&code).await;
            let log = log_of(&plan.trials, 40_000.0);
            let mut body =
                json!({ "code": code, "attempt": attempt, "log": log, "timing": timing() });
            if !camera.is_null() {
                body["camera"] = camera;
            }
            let r = app.post_json("/test/result", &body).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            let (id,): (i64,) = sqlx::query_as("SELECT MAX(id) FROM cpt_tests")
                .fetch_one(app.store.pool())
                .await
                .unwrap();
            assert!(
                app.store
                    .cpt_test(id)
                    .await
                    .unwrap()
                    .unwrap()
                    .head_track
                    .is_none()
            );
            let report = app
                .get(&format!("/clinic/tests/{id}"), Some(&clin))
                .await
                .body;
            assert!(
                report.contains(&format!("Activity was not measured: {says}")),
                "{says}: {report}"
            );
            assert!(!report.contains("activity-title"));
        }
    }
}
