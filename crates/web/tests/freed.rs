//! FREED pages and API (issue 14) as users meet them, on the example region, on SQLite and
//! (when MHSIP_TEST_POSTGRES_URL is set) PostgreSQL: the waiting list in pathway's order with
//! breaches first, audited, never an NHS number; counts only (disclosure-controlled) for the
//! programme and other trusts; a referral added and corrected by hand through the upload
//! checks; the queue figures with what-if inputs; the JSON API with the same access.

#[path = "../../ingest/tests/common/mod.rs"]
mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{TestDb, databases, import_all_examples, key};
use domain::access::{Grant, Role};
use http_body_util::BodyExt;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";
const AS_OF: &str = "as_of=2024-03-10+10:00";

struct App {
    router: Router,
    db_name: &'static str,
    store: store::Store,
}

struct Resp {
    status: StatusCode,
    location: String,
    cookie: Option<String>,
    body: String,
}

impl App {
    async fn new(db: TestDb) -> App {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        App::with_data(db, keys).await
    }

    async fn with_data(db: TestDb, keys: ingest::pseudonym::Pseudonymiser) -> App {
        let users = [
            ("admin", Role::ProgrammeAdmin, None, None),
            ("viewer", Role::ProgrammeViewer, None, None),
            ("lead", Role::TrustLead, Some("R8A"), None),
            ("leadb", Role::TrustLead, Some("R8B"), None),
            ("ward", Role::WardUser, Some("R8A"), Some("R8A-ASH")),
            ("cedar", Role::WardUser, Some("R8B"), Some("R8B-CEDAR")),
            ("uploader", Role::Uploader, Some("R8A"), None),
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
            db_name: db.name,
            store: db.store.clone(),
        }
    }

    async fn send(&self, req: Request<Body>) -> Resp {
        let r = self.router.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let location = r
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let cookie = r
            .headers()
            .get(header::SET_COOKIE)
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            location,
            cookie,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path: &str, cookie: &str) -> Resp {
        let req = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    async fn post_form(&self, path: &str, cookie: &str, form: &str) -> Resp {
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, cookie)
            .body(Body::from(form.to_string()))
            .unwrap();
        self.send(req).await
    }

    async fn post_file(&self, cookie: &str, kind: &str, name: &str, bytes: &[u8]) -> Resp {
        let boundary = "XyZmhsipBoundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"mapping\"\r\n\r\n\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::post("/uploads")
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, cookie)
            .body(Body::from(body))
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
        let r = self.send(req).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "{}: login {name}",
            self.db_name
        );
        r.cookie.expect("a session cookie")
    }

    async fn audit_actions(&self, action: &str) -> Vec<store::accounts::AuditRow> {
        self.store
            .audit_log(1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.action == action)
            .collect()
    }
}

fn position(body: &str, needle: &str) -> usize {
    body.find(needle)
        .unwrap_or_else(|| panic!("{needle} is on the page"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waiting_list_breaches_first_audited_and_never_an_nhs_number() {
    for db in databases().await {
        let app = App::new(db).await;
        let lead = app.login("lead").await;
        let r = app.get(&format!("/freed/R8A-FREED?{AS_OF}"), &lead).await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", app.db_name, r.body);
        let b = &r.body;
        assert!(
            b.contains("<strong>4</strong> referrals waiting, <strong>1</strong> breaching"),
            "{b}"
        );
        // FR-2024-0004 has had no contact: its 48-hour call was due 8 March 11:30 (breach
        // first); then FR-2024-0003's children's urgent clock (due 12 March 14:00), then
        // FR-2024-0001's assessment (15 March 23:59), then FR-2024-0002's (18 March 09:15).
        let order = [
            position(b, ">FR-2024-0004<"),
            position(b, ">FR-2024-0003<"),
            position(b, ">FR-2024-0001<"),
            position(b, ">FR-2024-0002<"),
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        assert!(
            b.contains("breached by 1 day 22 hours (still waiting)"),
            "{b}"
        );
        assert!(b.contains("2 days 4 hours left"), "{b}");
        // FR-2024-0004 breaches the 48-hour call; nobody else breaches yet.
        assert!(
            b.contains("FREED engagement call within 48 hours</th><td>1</td>"),
            "{b}"
        );
        assert!(b.contains("FREED assessment within 2 weeks</th><td>0</td>"));
        assert!(
            b.contains("Not known"),
            "eligibility not known for FR-2024-0004"
        );
        assert!(b.contains("age at referral not known"));
        assert!(
            b.contains(
                "Waiting longest: FR-2024-0001, received 2024-03-01 23:59, waited 8 days 10 hours."
            ),
            "{b}"
        );
        for nhs in ["9990000077", "999 000 0077", "9990000107"] {
            assert!(
                !b.contains(nhs),
                "{}: no NHS number on the page",
                app.db_name
            );
        }
        let seen = app.audit_actions("freed_waiting_list_viewed").await;
        assert_eq!(seen.len(), 1, "{}", app.db_name);
        assert_eq!(seen[0].user_name, "lead");
        assert_eq!(seen[0].target, "R8A-FREED");
        // Another look is another entry.
        app.get(&format!("/freed/R8A-FREED?{AS_OF}"), &lead).await;
        assert_eq!(
            app.audit_actions("freed_waiting_list_viewed").await.len(),
            2
        );

        // The programme sees the counts only, disclosure-controlled (4 and 1 are under 5).
        let viewer = app.login("viewer").await;
        let r = app.get(&format!("/freed/R8A-FREED?{AS_OF}"), &viewer).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body
                .contains("<strong>*</strong> referrals waiting, <strong>*</strong> breaching"),
            "{}",
            r.body
        );
        assert!(
            !r.body.contains("FR-2024-0004"),
            "no patient rows for the programme"
        );
        assert!(
            r.body
                .contains("FREED engagement call within 48 hours</th><td>*</td>")
        );
        let r = app.get(&format!("/freed?{AS_OF}"), &viewer).await;
        assert!(r.body.contains("<td>*</td><td>*</td>"), "{}", r.body);
        assert_eq!(
            app.audit_actions("freed_waiting_list_viewed").await.len(),
            2,
            "aggregates are not a view of patients' clocks"
        );

        // A ward user of the service's ward sees its patients; a ward user elsewhere nothing.
        let cedar = app.login("cedar").await;
        let r = app.get(&format!("/freed/R8B-FREED?{AS_OF}"), &cedar).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains(">FB-77<"), "{}", r.body);
        let ward = app.login("ward").await;
        assert_eq!(
            app.get("/freed/R8B-FREED", &ward).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get("/freed/R8A-FREED", &ward).await.status,
            StatusCode::FORBIDDEN,
            "R8A-FREED names no ward: its trust's leads only"
        );
        // Another trust's lead: counts only.
        let leadb = app.login("leadb").await;
        let r = app.get(&format!("/freed/R8A-FREED?{AS_OF}"), &leadb).await;
        assert!(!r.body.contains("FR-2024-0004"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_champion_adds_and_corrects_a_referral_by_hand() {
    for db in databases().await {
        let app = App::new(db).await;
        let lead = app.login("lead").await;
        let form = "reference=FR-HAND-1&nhs_number=999+000+0018&received_date=2024-03-08&received_time=08:05&source=self_referral&age=18&first_episode=Y&onset=2023-10&diagnosis=AN&priority=urgent&ethnic_category=A&gender=2&imd_decile=2";

        // Refused: an onset after the referral, named at its field; nothing changed.
        let before = app.store.fingerprint().await.unwrap();
        let bad = form.replace("onset=2023-10", "onset=2024-04");
        let r = app
            .post_form("/freed/R8A-FREED/referral", &lead, &bad)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(
            r.body.contains("Illness onset: expected on or before the referral date 2024-03-08, found 2024-04 (a month)"),
            "{}",
            r.body
        );
        assert!(r.body.contains("href=\"#onset\""));
        assert!(!r.body.contains("0018"), "the NHS number is not shown back");
        let bad = form.replace("diagnosis=AN", "diagnosis=F50.0");
        let r = app
            .post_form("/freed/R8A-FREED/referral", &lead, &bad)
            .await;
        assert!(
            r.body.contains("Diagnosis group: expected one of AN, BN, BED, OSFED, ARFID, OTHER, NYK, found &#x27;F50.0&#x27;")
                || r.body.contains("Diagnosis group: expected one of AN, BN, BED, OSFED, ARFID, OTHER, NYK, found &#39;F50.0&#39;"),
            "{}",
            r.body
        );
        assert_eq!(
            app.get("/freed/R8A-FREED/referral?ref=FR%00X", &lead)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // Awkward input: a control character, an overlong reference, a quote; refused, no panic.
        for (field, value) in [
            ("reference", "FR%00X"),
            ("reference", &"R".repeat(100)),
            ("onset", "2023%2211"),
            ("received_time", "25:00"),
        ] {
            let bad = form.replace(
                &format!(
                    "{field}={}",
                    if field == "reference" {
                        "FR-HAND-1"
                    } else if field == "onset" {
                        "2023-10"
                    } else {
                        "08:05"
                    }
                ),
                &format!("{field}={value}"),
            );
            let r = app
                .post_form("/freed/R8A-FREED/referral", &lead, &bad)
                .await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{field}={value}: {}",
                r.body
            );
            assert!(r.body.contains("There is a problem"), "{}", r.body);
        }
        assert_eq!(
            app.store.fingerprint().await.unwrap(),
            before,
            "{}",
            app.db_name
        );

        // Added: then on the waiting list, audited.
        let r = app
            .post_form("/freed/R8A-FREED/referral", &lead, form)
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location, "/freed/R8A-FREED?saved=FR-HAND-1");
        let page = app
            .get(&format!("/freed/R8A-FREED?{AS_OF}"), &lead)
            .await
            .body;
        assert!(page.contains(">FR-HAND-1<"), "{page}");
        let added = app.audit_actions("freed_referral_added").await;
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].detail.as_deref(), Some("referral FR-HAND-1"));

        // Corrected: the form comes back filled (never the NHS number), a blank NHS number
        // keeps the patient.
        let r = app
            .get("/freed/R8A-FREED/referral?ref=FR-HAND-1", &lead)
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("value=\"2023-10\""), "{}", r.body);
        assert!(!r.body.contains("0018"));
        let fix = form
            .replace("nhs_number=999+000+0018", "nhs_number=")
            .replace("priority=urgent", "priority=routine");
        let r = app
            .post_form("/freed/R8A-FREED/referral", &lead, &fix)
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(app.audit_actions("freed_referral_corrected").await.len(), 1);
        let held = ingest::freed::held_referrals(
            app.store
                .freed_referral("R8A-FREED", "FR-HAND-1")
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(held[0].referral.priority, pathway::Priority::Routine);
        assert_eq!(held.len(), 1);

        // Only the service's own trust may.
        let viewer = app.login("viewer").await;
        assert_eq!(
            app.post_form("/freed/R8A-FREED/referral", &viewer, form)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let leadb = app.login("leadb").await;
        assert_eq!(
            app.get("/freed/R8A-FREED/referral", &leadb).await.status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_view_and_its_what_if_inputs() {
    for db in databases().await {
        let app = App::new(db).await;
        let lead = app.login("lead").await;
        let r = app
            .get(
                "/freed/R8A-FREED/queue?as_of=2024-03-31+12:00&from=2024-03-01&to=2024-03-31&target_wait=4&factor=4&weeks_to_target=26",
                &lead,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // Four referrals joined in March; FR-2024-0001 was treated on 26 March.
        assert!(
            r.body
                .contains("Waiting at the end of the period</th><td>3</td>"),
            "{}",
            r.body
        );
        assert!(
            r.body
                .contains("Target mean wait (weeks)</th><td>1.00</td>")
        );
        let r = app
            .get("/freed/R8A-FREED/queue?target_wait=abc&factor=0", &lead)
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body
                .contains("target_wait: expected a number above 0, found &#x27;abc&#x27;")
                || r.body
                    .contains("target_wait: expected a number above 0, found &#39;abc&#39;"),
            "{}",
            r.body
        );
        assert!(
            r.body
                .contains("factor: expected a number above 0, found &#x27;0&#x27;")
                || r.body
                    .contains("factor: expected a number above 0, found &#39;0&#39;")
        );
        let r = app
            .get(
                "/freed/R8A-FREED/queue?from=2024-04-01&to=2024-03-01",
                &lead,
            )
            .await;
        assert!(
            r.body
                .contains("to: expected on or after from (2024-04-01)"),
            "{}",
            r.body
        );
        let viewer = app.login("viewer").await;
        assert_eq!(
            app.get("/freed/R8A-FREED/queue", &viewer).await.status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_follows_the_same_rules() {
    for db in databases().await {
        let app = App::new(db).await;
        let lead = app.login("lead").await;
        let r = app
            .get(&format!("/api/freed/R8A-FREED/clocks?{AS_OF}"), &lead)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let refs: Vec<&str> = v["referrals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["reference"].as_str().unwrap())
            .collect();
        assert_eq!(
            refs,
            [
                "FR-2024-0004",
                "FR-2024-0003",
                "FR-2024-0001",
                "FR-2024-0002"
            ]
        );
        assert_eq!(v["referrals"][0]["breaching"], true);
        assert_eq!(v["referrals"][0]["clock"], "freed_engagement_48h");
        assert_eq!(v["referrals"][1]["clock"], "children_treatment");
        assert_eq!(v["waiting"], "4");
        assert_eq!(v["breaching_by_clock"]["freed_engagement_48h"], "1");
        assert_eq!(v["breaching_by_clock"]["children_treatment"], "0");
        assert!(!r.body.contains("9990000"), "no NHS number");
        assert_eq!(
            app.audit_actions("freed_waiting_list_viewed").await.len(),
            1
        );

        let viewer = app.login("viewer").await;
        let v: serde_json::Value = serde_json::from_str(
            &app.get(&format!("/api/freed/R8A-FREED/clocks?{AS_OF}"), &viewer)
                .await
                .body,
        )
        .unwrap();
        assert_eq!(v["disclosure_controlled"], true);
        assert_eq!(v["waiting"], "*");
        assert_eq!(v["breaching_by_clock"]["freed_engagement_48h"], "*");
        assert_eq!(v["referrals"], serde_json::json!([]));
        let v: serde_json::Value = serde_json::from_str(
            &app.get(&format!("/api/freed/services?{AS_OF}"), &viewer)
                .await
                .body,
        )
        .unwrap();
        assert_eq!(v["services"].as_array().unwrap().len(), 2);
        for s in v["services"].as_array().unwrap() {
            for k in ["waiting", "breaching"] {
                let shown = s[k].as_str().unwrap();
                assert!(
                    shown == "*" || shown.parse::<u64>().is_ok_and(|n| n % 5 == 0),
                    "{k}: {shown}"
                );
            }
        }
        let ward = app.login("ward").await;
        let r = app.get("/api/freed/R8A-FREED/clocks", &ward).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let doc = app.get("/api/openapi.json", &lead).await.body;
        assert!(doc.contains("/api/freed/services") && doc.contains("/api/freed/{service}/clocks"));
        // Who is reached, per service and per trust, ICB or region, in the same document.
        let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
        for path in [
            "/api/freed/{service}/inequalities",
            "/api/freed/org/{org}/inequalities",
        ] {
            assert!(
                doc["paths"][path]["get"]["responses"]["200"].is_object(),
                "{path} in the OpenAPI document"
            );
        }
    }
}

/// The uploads page takes FREED files like any other: a bad one refused with FILE:LINE:COLUMN
/// and nothing imported, a good one previewed and imported on confirmation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freed_files_go_through_the_uploads_page() {
    for db in databases().await {
        let app = App::new(db).await;
        let uploader = app.login("uploader").await;
        let header = "ServiceCode,ServiceRequestId,CareContactId,FREEDContactType,CareContDate,CareContTime,AttendOrDNACode";
        let before = app.store.count("freed_contacts").await.unwrap();
        let bad =
            format!("{header}\nR8A-FREED,FR-2024-0002,C-91,first_treatment,2024-03-02,10:00,5\n");
        let r = app
            .post_file(&uploader, "freed_contacts", "contacts.csv", bad.as_bytes())
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Nothing was imported"), "{}", r.body);
        assert!(
            r.body.contains("contacts.csv:2:45: CareContDate: expected on or after the referral received at 2024-03-04 09:15, found 2024-03-02 10:00"),
            "{}",
            r.body
        );
        let other = format!("{header}\nR8B-FREED,FB-77,B-9,first_treatment,2024-03-22,10:00,5\n");
        let r = app
            .post_file(&uploader, "freed_contacts", "other.csv", other.as_bytes())
            .await;
        assert!(r.body.contains("you can upload only for R8A"), "{}", r.body);
        let good =
            format!("{header}\nR8A-FREED,FR-2024-0002,C-92,first_treatment,2024-03-22,10:00,5\n");
        let r = app
            .post_file(&uploader, "freed_contacts", "good.csv", good.as_bytes())
            .await;
        assert!(r.body.contains("Check before importing"), "{}", r.body);
        assert_eq!(app.store.count("freed_contacts").await.unwrap(), before);
        let token = r
            .body
            .split("name=\"token\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let r = app
            .post_form("/uploads/confirm", &uploader, &format!("token={token}"))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Imported"), "{}", r.body);
        assert_eq!(app.store.count("freed_contacts").await.unwrap(), before + 1);
        // Treated: FR-2024-0002 is off the waiting list from then on.
        let lead = app.login("lead").await;
        let page = app
            .get("/freed/R8A-FREED?as_of=2024-03-23+10:00", &lead)
            .await
            .body;
        assert!(!page.contains(">FR-2024-0002<"), "{page}");
        let page = app
            .get("/freed/R8A-FREED?as_of=2024-03-21+10:00", &lead)
            .await
            .body;
        assert!(page.contains(">FR-2024-0002<"), "{page}");
    }
}

/// The service page's time with 100,000 referrals (and their contacts) held for the service,
/// a few hundred of them waiting. Run with
/// `cargo test -p web --test freed -- --ignored --nocapture` (debug timings are slower).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn speed_of_the_service_page_with_100k_referrals() {
    use ingest::formats::Kind;
    let n = 100_000usize;
    let mut refs = String::from(
        "ServiceCode,ServiceRequestId,NHSNumber,ReferralRequestReceivedDate,ReferralRequestReceivedTime,SourceOfReferral,AgeServReferRecDate,FirstEpisode,OnsetDate,EDDiagnosisGroup,ClinRespPriorityType\n",
    );
    let mut contacts = String::from(
        "ServiceCode,ServiceRequestId,CareContactId,FREEDContactType,CareContDate,CareContTime,AttendOrDNACode\n",
    );
    let nhs: Vec<String> = (0..3000u32)
        .filter_map(|i| {
            (0..10).find_map(|c| {
                let s = format!("9990{i:05}{c}");
                domain::NhsNumber::parse(&s).ok().map(|_| s)
            })
        })
        .collect();
    let start = time::macros::date!(2022 - 01 - 01);
    for i in 0..n {
        // Spread over 800 days; the last 400 are still waiting (no treatment).
        let d = start + time::Duration::days((i * 800 / n) as i64);
        let day = domain::dates::iso(d);
        refs.push_str(&format!(
            "R8A-FREED,S-{i},{},{day},{:02}:{:02},gp,{},Y,,AN,routine\n",
            nhs[i % nhs.len()],
            i % 24,
            i % 60,
            16 + i % 10
        ));
        contacts.push_str(&format!(
            "R8A-FREED,S-{i},E-{i},engagement_call,{day},23:59,5\n"
        ));
        if i < n - 400 {
            let t = domain::dates::iso(d + time::Duration::days(20));
            contacts.push_str(&format!(
                "R8A-FREED,S-{i},T-{i},first_treatment,{t},10:00,5\n"
            ));
        }
    }
    for db in databases().await {
        let mut keys = key();
        for kind in [Kind::Organisations, Kind::Wards, Kind::FreedServices] {
            common::import_example(&db, &mut keys, kind).await;
        }
        for (kind, text) in [
            (Kind::FreedReferrals, &refs),
            (Kind::FreedContacts, &contacts),
        ] {
            let t = std::time::Instant::now();
            let r =
                common::import_bytes(&db, &mut keys, kind, "big.csv", text.as_bytes(), false).await;
            assert!(r.ok(), "{:?}", &r.error_lines()[..r.errors.len().min(3)]);
            println!(
                "{}: {} rows of {} imported in {:.2} s",
                db.name,
                r.rows_read,
                kind.as_str(),
                t.elapsed().as_secs_f64()
            );
        }
        let name = db.name;
        let app = App::with_data(db, keys).await;
        let lead = app.login("lead").await;
        let mut times = Vec::new();
        for _ in 0..40 {
            let t = std::time::Instant::now();
            let r = app
                .get("/freed/R8A-FREED?as_of=2024-03-11+12:00", &lead)
                .await;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(r.status, StatusCode::OK);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name}: service page with {n} referrals held: median {:.1} ms, p95 {:.1} ms",
            times[times.len() / 2],
            times[times.len() * 95 / 100]
        );
    }
}
