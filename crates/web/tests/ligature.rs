//! The ligature register through the router (docs/web.md, "Ligature point registers"), on the
//! example region, on SQLite and (when MHSIP_TEST_POSTGRES_URL is set) PostgreSQL: a ward's
//! spreadsheet imported, then an audit walked area by area with a photo and a changed control
//! and signed off by its assessor; each point's history read back; bad input refused naming the
//! field with nothing changed; who may see, change and see photos; the trust lead's
//! escalations; the JSON API and its OpenAPI paths; every change audited.
#![allow(dead_code)]

#[path = "../../ingest/tests/common/mod.rs"]
mod common;

use axum::http::StatusCode;
use common::databases;

#[path = "support/app.rs"]
mod app;

use app::App;

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

const SHEET: &str = "WardCode,AuditDate,Assessor,AreaCode,AreaName,Tier,PointRef,Finding,Location,Description,PointType,HeightBand,Likelihood,Consequence,Controls,ResidualLikelihood,ResidualConsequence,ReviewDate
R8A-ASH,2024-01-10,J. Smith,BED-01,Bedroom 1,3,ASH-001,,Above the en-suite door,Door closer arm,door,high,4,5,staff vigilance,3,5,2024-07-10
R8A-ASH,2024-01-10,J. Smith,BED-01,Bedroom 1,3,ASH-002,,By the window,Curtain rail,rail,high,3,4,observation,2,3,2024-07-10
R8A-ASH,2024-01-10,J. Smith,LOUNGE,Lounge,1,ASH-003,,Corner,Radiator pipe,pipe,low,2,5,observation,2,4,2024-07-10
";

/// The ward manager raises the action every test needs: fit an anti-ligature door closer on
/// ASH-001, due in 30 days, with the board's reference `reference` (may be empty).
async fn raise_door_closer_action(app: &App, ward: &str, reference: &str) -> app::Resp {
    let due = (time::OffsetDateTime::now_utc().date() + time::Duration::days(30)).to_string();
    app.post_form(
        "/ligature/ward/R8A-ASH/actions",
        Some(ward),
        &form(&[
            ("point", "ASH-001"),
            ("description", "Fit an anti-ligature door closer"),
            ("owner", "Estates"),
            ("due", &due),
            ("reference", reference),
        ]),
    )
    .await
}

/// A point's fields as the area form posts them.
/// `what`: location, description, type.
fn point_fields<'a>(
    r: &'a str,
    status: &'a str,
    what: [&'a str; 3],
    ratings: [&'a str; 4],
    controls: &[&'a str],
    review: &'a str,
) -> Vec<(String, String)> {
    let [loc, desc, kind] = what;
    let mut v = vec![
        ("point".to_string(), r.to_string()),
        (format!("{r}.status"), status.into()),
        (format!("{r}.location"), loc.into()),
        (format!("{r}.description"), desc.into()),
        (format!("{r}.kind"), kind.into()),
        (format!("{r}.height"), "high".into()),
        (format!("{r}.il"), ratings[0].into()),
        (format!("{r}.ic"), ratings[1].into()),
        (format!("{r}.rl"), ratings[2].into()),
        (format!("{r}.rc"), ratings[3].into()),
        (format!("{r}.review"), review.into()),
    ];
    for c in controls {
        v.push((format!("{r}.controls"), c.to_string()));
    }
    v
}

fn body(pairs: &[(String, String)]) -> String {
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    form(&refs)
}

/// A small JPEG with an EXIF block that names a place.
fn jpeg() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8];
    let exif = b"Exif\0\0GPSLatitude 51.5074 N";
    v.extend_from_slice(&[0xFF, 0xE1]);
    v.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    v.extend_from_slice(exif);
    v.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01]);
    v.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34, 0xFF, 0xD9]);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_walked_area_by_area_and_signed_off() {
    for db in databases().await {
        let app = App::new(db).await;
        let n = app.db_name;
        let ward = app.login("ward").await;
        // The trust's spreadsheet, through the register page's import form.
        let r = app
            .post_multipart(
                "/ligature/ward/R8A-ASH/import",
                &ward,
                &[("mapping", "")],
                "ash.csv",
                SHEET.as_bytes(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);
        let r = app.get("/ligature/ward/R8A-ASH", Some(&ward)).await;
        assert_eq!(r.status, StatusCode::OK, "{n}: {}", r.body);
        assert!(
            r.body.contains("ASH-001") && r.body.contains("Escalated"),
            "{n}"
        );
        // A second spreadsheet that misses a point: refused, naming line and column.
        let before = app.store.ligature_fingerprint().await.unwrap();
        let bad = "WardCode,AuditDate,Assessor,AreaCode,AreaName,Tier,PointRef,Finding,Location,Description,PointType,HeightBand,Likelihood,Consequence,Controls,ResidualLikelihood,ResidualConsequence,ReviewDate\nR8A-ASH,2024-07-10,J. Smith,BED-01,Bedroom 1,4,ASH-001,present,Above the en-suite door,Door closer arm,door,high,4,5,staff vigilance,3,5,2025-01-10\n";
        let r = app
            .post_multipart(
                "/ligature/ward/R8A-ASH/import",
                &ward,
                &[],
                "bad.csv",
                bad.as_bytes(),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{n}");
        assert!(
            r.body
                .contains("bad.csv:2:46: Tier: expected a CQC tier: 1, 2 or 3, found &#39;4&#39;")
                || r.body.contains(
                    "bad.csv:2:46: Tier: expected a CQC tier: 1, 2 or 3, found &#x27;4&#x27;"
                ),
            "{n}: {}",
            r.body
        );
        assert_eq!(app.store.ligature_fingerprint().await.unwrap(), before);

        // Start an audit.
        let r = app
            .post_form("/ligature/ward/R8A-ASH/audits", Some(&ward), "date=")
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);
        let audit = r.location.clone();
        assert!(audit.starts_with("/ligature/audits/"), "{n}: {audit}");
        let id = audit.trim_start_matches("/ligature/audits/").to_string();
        // One audit in progress at a time.
        let r = app
            .post_form("/ligature/ward/R8A-ASH/audits", Some(&ward), "date=")
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{n}");
        assert!(r.body.contains("expected no audit in progress"), "{n}");
        // A point is recorded on its own area's form only.
        let mut wrong = vec![("area".to_string(), "BED-01".to_string())];
        wrong.extend(point_fields(
            "ASH-003",
            "there",
            ["Corner", "Radiator pipe", "pipe"],
            ["2", "5", "2", "4"],
            &["observation"],
            "2030-01-01",
        ));
        let r = app
            .post_form(&format!("{audit}/area"), Some(&ward), &body(&wrong))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{n}");
        assert!(
            r.body.contains(
                "point ASH-003: expected a point of area BED-01, found one of area LOUNGE"
            ),
            "{n}: {}",
            r.body
        );
        let r = app.get(&format!("{audit}?area=BED-01"), Some(&ward)).await;
        assert_eq!(r.status, StatusCode::OK, "{n}: {}", r.body);
        assert!(
            r.body.contains("Bedroom 1") && r.body.contains("capture=\"environment\""),
            "{n}"
        );

        // Bedroom 1: ASH-001 still there as it was; ASH-002 removed.
        let mut f = vec![("area".to_string(), "BED-01".to_string())];
        f.extend(point_fields(
            "ASH-001",
            "there",
            ["Above the en-suite door", "Door closer arm", "door"],
            ["4", "5", "3", "5"],
            &["staff_vigilance"],
            "2024-07-10",
        ));
        f.extend(point_fields(
            "ASH-002",
            "removed",
            ["By the window", "Curtain rail", "rail"],
            ["3", "4", "2", "3"],
            &["observation"],
            "2024-07-10",
        ));
        // First with a likelihood of 6: refused, nothing saved.
        let mut six = f.clone();
        for (k, v) in six.iter_mut() {
            if k == "ASH-001.rl" {
                *v = "6".into();
            }
        }
        let before = app.store.ligature_fingerprint().await.unwrap();
        let r = app
            .post_form(&format!("{audit}/area"), Some(&ward), &body(&six))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{n}");
        assert!(
            r.body.contains(
                "point ASH-001: residual likelihood: expected a rating from 1 to 5, found 6"
            ),
            "{n}: {}",
            r.body
        );
        assert_eq!(app.store.ligature_fingerprint().await.unwrap(), before);
        // The review date must not be before the audit (today): set it ahead.
        let review =
            (time::OffsetDateTime::now_utc().date() + time::Duration::days(90)).to_string();
        for (k, v) in f.iter_mut() {
            // ASH-001 is recorded as it stands (its review date too: still present, its
            // review overdue); the others get a new review date.
            if k.ends_with(".review") && !k.starts_with("ASH-001") {
                *v = review.clone();
            }
        }
        let r = app
            .post_form(&format!("{audit}/area"), Some(&ward), &body(&f))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);

        // Sign-off now is refused: the lounge's point is not walked.
        let r = app
            .post_form(&format!("{audit}/signoff"), Some(&ward), "")
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{n}");
        assert!(r.body.contains("findings[ASH-003]"), "{n}: {}", r.body);

        // The lounge: ASH-003's control changed to an anti-ligature fitting, its risk down.
        let mut f = vec![("area".to_string(), "LOUNGE".to_string())];
        f.extend(point_fields(
            "ASH-003",
            "there",
            ["Corner", "Radiator pipe", "pipe"],
            ["2", "5", "1", "3"],
            &["anti_ligature"],
            &review,
        ));
        let r = app
            .post_form(&format!("{audit}/area"), Some(&ward), &body(&f))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);
        // A new area and a new point in it; an unknown tier is refused.
        let r = app
            .post_form(
                &format!("{audit}/areas"),
                Some(&ward),
                "code=EN-01&name=En-suite+1&tier=4",
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{n}");
        assert!(r.body.contains("tier: expected a CQC tier"), "{n}");
        let r = app
            .post_form(
                &format!("{audit}/areas"),
                Some(&ward),
                "code=EN-01&name=En-suite+1&tier=3",
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);
        let np = |area: &str| {
            form(&[
                ("area", area),
                ("reference", "ASH-004"),
                ("new.description", "Shower head"),
                ("new.location", "Shower"),
                ("new.kind", "sanitary"),
                ("new.height", "middle"),
                ("new.il", "4"),
                ("new.ic", "5"),
                ("new.controls", "restricted_access"),
                ("new.rl", "3"),
                ("new.rc", "4"),
                ("new.review", review.as_str()),
            ])
        };
        // A point in an area of another ward: refused.
        let r = app
            .post_form(&format!("{audit}/points"), Some(&ward), &np("BIRCH-BED-01"))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{n}");
        assert!(
            r.body
                .contains("findings[ASH-004].area: expected an area of ward R8A-ASH"),
            "{n}: {}",
            r.body
        );
        let r = app
            .post_form(&format!("{audit}/points"), Some(&ward), &np("EN-01"))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);

        // A photo: a file that is not an image is refused; a JPEG is kept without its EXIF.
        let back = format!("/ligature/audits/{id}?area=EN-01");
        let r = app
            .post_multipart(
                "/ligature/ward/R8A-ASH/points/ASH-004/photos",
                &ward,
                &[("audit", &id), ("back", &back)],
                "x.jpg",
                b"not a picture",
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{n}");
        assert!(
            r.body.contains("photo: expected a JPEG or PNG image"),
            "{n}: {}",
            r.body
        );
        let r = app
            .post_multipart(
                "/ligature/ward/R8A-ASH/points/ASH-004/photos",
                &ward,
                &[("audit", &id), ("back", &back)],
                "shower.jpg",
                &jpeg(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);
        assert_eq!(r.location, back);
        let photos = app
            .store
            .ligature_photos("R8A-ASH", Some("ASH-004"))
            .await
            .unwrap();
        assert_eq!(photos.len(), 1, "{n}");
        let url = format!("/ligature/photos/{}", photos[0].id);

        // Only the assessor signs off.
        let lead = app.login("lead").await;
        let r = app
            .post_form(&format!("{audit}/signoff"), Some(&lead), "")
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{n}");
        let r = app
            .post_form(&format!("{audit}/signoff"), Some(&ward), "")
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);
        // Signed: its form is gone, and nothing more can be written to it.
        let r = app
            .post_form(&format!("{audit}/area"), Some(&ward), &body(&f))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{n}");

        // Each point's history.
        let held = ingest::ligature::held(&app.store, "R8A-ASH").await.unwrap();
        let reg = &held.register;
        assert_eq!(reg.audits.len(), 2, "{n}");
        let changes = |r: &str| {
            reg.points[r]
                .history()
                .iter()
                .map(|h| h.finding.code())
                .collect::<Vec<_>>()
        };
        assert_eq!(changes("ASH-001"), ["new", "present"], "{n}");
        assert_eq!(changes("ASH-002"), ["new", "removed"]);
        assert_eq!(changes("ASH-003"), ["new", "changed"]);
        assert_eq!(changes("ASH-004"), ["new"]);
        assert_eq!(
            reg.points["ASH-003"].state().controls,
            vec![ligature::ControlKind::AntiLigature]
        );
        let r = app
            .get("/ligature/ward/R8A-ASH/points/ASH-002", Some(&ward))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{n}");
        assert!(
            r.body.contains("Removed") && r.body.contains("2024-01-10"),
            "{n}"
        );

        // Photos: the ward's trust only (not even a programme admin), without the location.
        let r = app.get(&url, Some(&ward)).await;
        assert_eq!(r.status, StatusCode::OK, "{n}");
        assert!(!r.body.contains("GPS"), "{n}");
        for who in ["admin", "lead_b", "viewer", "uploader"] {
            let c = app.login(who).await;
            assert_eq!(
                app.get(&url, Some(&c)).await.status,
                StatusCode::FORBIDDEN,
                "{n}: {who}"
            );
        }
        assert_eq!(
            app.get(&url, Some(&lead)).await.status,
            StatusCode::OK,
            "{n}"
        );

        // Actions: due before it was raised is refused; then one is added.
        let r = app
            .post_form(
                "/ligature/ward/R8A-ASH/actions",
                Some(&ward),
                &form(&[
                    ("point", "ASH-001"),
                    ("description", "Fit an anti-ligature door closer"),
                    ("owner", "Estates"),
                    ("due", "2020-01-01"),
                    ("reference", "CB-2024-17"),
                ]),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{n}");
        assert!(
            r.body
                .contains("due: expected a due date on or after the day it was raised"),
            "{n}: {}",
            r.body
        );
        let r = raise_door_closer_action(&app, &ward, "CB-2024-17").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);
        assert_eq!(
            app.store.ligature_actions("R8A-ASH").await.unwrap().len(),
            1
        );

        // The trust lead's list: ASH-001 (tier 3, extreme 15, vigilance only since 2024-01-10).
        let r = app.get("/ligature/trust/R8A", Some(&lead)).await;
        assert_eq!(r.status, StatusCode::OK, "{n}");
        assert!(
            r.body.contains("ASH-001") && r.body.contains("2024-01-10"),
            "{n}"
        );
        assert!(!r.body.contains(">ASH-003<"), "{n}");
        assert_eq!(
            app.get("/ligature/trust/R8A", Some(&ward)).await.status,
            StatusCode::FORBIDDEN
        );
        let lead_b = app.login("lead_b").await;
        assert_eq!(
            app.get("/ligature/trust/R8A", Some(&lead_b)).await.status,
            StatusCode::FORBIDDEN
        );
        let r = app
            .post_form(
                "/ligature/trust/R8A/settings",
                Some(&lead),
                "escalation_days=-3&audit_interval_days=180",
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{n}");
        assert!(
            r.body
                .contains("escalation_days: expected a number of days from 0 to 3650"),
            "{n}"
        );

        // The API.
        let token = app.make_token(&lead, "lig").await;
        let r = app.get_bearer("/api/ligature/wards/R8A-ASH", &token).await;
        assert_eq!(r.status, StatusCode::OK, "{n}: {}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["points"].as_array().unwrap().len(), 4, "{n}");
        let r = app
            .get_bearer("/api/ligature/wards/R8A-ASH/points/ASH-003", &token)
            .await;
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["history"][1]["finding"], "changed", "{n}");
        let r = app
            .get_bearer("/api/ligature/trusts/R8A/escalations", &token)
            .await;
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["escalations"][0]["point"], "ASH-001", "{n}: {v}");
        let r = app.get_bearer("/api/openapi.json", &token).await;
        assert!(
            r.body.contains("/api/ligature/wards/{ward}/points/{point}"),
            "{n}"
        );

        // Every change audited.
        let actions: Vec<(String,)> =
            sqlx::query_as("SELECT action FROM audit_log WHERE action LIKE 'ligature%'")
                .fetch_all(app.store.pool())
                .await
                .unwrap();
        let actions: Vec<&str> = actions.iter().map(|a| a.0.as_str()).collect();
        for a in [
            "ligature_audit_imported",
            "ligature_audit_started",
            "ligature_audit_area_saved",
            "ligature_area_set",
            "ligature_point_added",
            "ligature_photo_added",
            "ligature_audit_signed",
            "ligature_action_added",
            "ligature_photo_viewed",
            "ligature_register_viewed",
            "ligature_escalations_viewed",
        ] {
            assert!(actions.contains(&a), "{n}: {a} not audited");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_sees_and_changes_a_register() {
    for db in databases().await {
        let app = App::new(db).await;
        let n = app.db_name;
        let ward = app.login("ward").await;
        let r = app
            .post_multipart(
                "/ligature/ward/R8A-ASH/import",
                &ward,
                &[],
                "ash.csv",
                SHEET.as_bytes(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);
        for (who, page, change) in [
            ("admin", StatusCode::OK, StatusCode::SEE_OTHER),
            ("lead", StatusCode::OK, StatusCode::SEE_OTHER),
            ("ward", StatusCode::OK, StatusCode::SEE_OTHER),
            ("birch", StatusCode::FORBIDDEN, StatusCode::FORBIDDEN),
            ("lead_b", StatusCode::FORBIDDEN, StatusCode::FORBIDDEN),
            ("viewer", StatusCode::FORBIDDEN, StatusCode::FORBIDDEN),
            ("uploader", StatusCode::FORBIDDEN, StatusCode::FORBIDDEN),
        ] {
            let c = app.login(who).await;
            assert_eq!(
                app.get("/ligature/ward/R8A-ASH", Some(&c)).await.status,
                page,
                "{n}: {who} reads"
            );
            assert_eq!(
                app.get("/api/ligature/wards/R8A-ASH", Some(&c))
                    .await
                    .status,
                page,
                "{n}: {who} API"
            );
            let r = app
                .post_form("/ligature/ward/R8A-ASH/audits", Some(&c), "date=")
                .await;
            assert_eq!(r.status, change, "{n}: {who} starts an audit: {}", r.body);
            if r.status == StatusCode::SEE_OTHER {
                let d = app
                    .post_form(&format!("{}/discard", r.location), Some(&c), "")
                    .await;
                assert_eq!(d.status, StatusCode::SEE_OTHER, "{n}: {who} discards");
            }
        }
        // A saved mapping of the trust's own column names, then an import through it.
        let bad = app
            .post_form(
                "/ligature/ward/R8A-ASH/mappings",
                Some(&ward),
                &form(&[(
                    "definition",
                    r#"{"name":"ash-sheet","kind":"ligature_audits","columns":{"Ref":"Nonsense"}}"#,
                )]),
            )
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{n}");
        assert!(bad.body.contains("not a column of a ligature audit"), "{n}");
        let r = app
            .post_form("/ligature/ward/R8A-ASH/mappings", Some(&ward), &form(&[("definition", r#"{"name":"ash-sheet","kind":"ligature_audits","columns":{"Ref":"PointRef"},"values":{"Finding":{"Still there":"present"}}}"#)]))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);
        let second = SHEET.lines().collect::<Vec<_>>();
        let mut sheet = second[0].replace("PointRef", "Ref");
        sheet.push('\n');
        for l in &second[1..] {
            sheet.push_str(
                &l.replace("2024-01-10", "2024-07-10")
                    .replace(",,", ",Still there,"),
            );
            sheet.push('\n');
        }
        let r = app
            .post_multipart(
                "/ligature/ward/R8A-ASH/import",
                &ward,
                &[("mapping", "ash-sheet")],
                "ash-jul.csv",
                sheet.as_bytes(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);
        let reg = ingest::ligature::held(&app.store, "R8A-ASH")
            .await
            .unwrap()
            .register;
        assert_eq!(reg.audits.len(), 2, "{n}");
        assert_eq!(reg.audits[1].present, 3, "{n}");

        // Other trusts and the programme see counts only, through disclosure control: the
        // register's 3 open points (1 to 4) are shown as *.
        for who in ["viewer", "lead_b"] {
            let c = app.login(who).await;
            let r = app.get("/ligature", Some(&c)).await;
            assert_eq!(r.status, StatusCode::OK, "{n}");
            assert!(
                r.body.contains("Ash Ward") && r.body.contains("<td>*</td>"),
                "{n}: {who}: {}",
                r.body
            );
            assert!(!r.body.contains("<td>3</td>"), "{n}: {who}");
            let r = app.get("/api/ligature/wards", Some(&c)).await;
            let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            assert_eq!(v["wards"][0]["open"], "*", "{n}: {who}");
        }
        let c = app.login("lead").await;
        let r = app.get("/ligature", Some(&c)).await;
        assert!(
            r.body.contains("<td>3</td>"),
            "{n}: the trust's own lead sees the count"
        );
    }
}

/// Speed of the register page and the trust's escalation list on a large ward (120 points,
/// 10 audits, each walking every point; a tenth of the points changed at each; 300 self-harm
/// incidents at its points). Prints the
/// medians and 95th centiles; run with `cargo test -p web --test ligature speed -- --ignored
/// --nocapture` (a debug build here: a release build is faster).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn speed_of_the_register_and_the_escalations() {
    let db = databases().await.into_iter().next().unwrap();
    let app = App::new(db).await;
    let ward = app.login("ward").await;
    let header = SHEET.lines().next().unwrap();
    let start = time::macros::date!(2022 - 01 - 10);
    for a in 0..10i64 {
        let day = start + time::Duration::days(a * 90);
        let mut csv = format!("{header}\n");
        for p in 0..120i64 {
            let changed = a > 0 && p % 10 == a % 10;
            let finding = if a == 0 {
                "new"
            } else if changed {
                "changed"
            } else {
                "present"
            };
            let (rl, controls) = if changed {
                (2, "observation")
            } else {
                (3, "staff vigilance")
            };
            let tier = if (p / 6) % 3 == 0 { 1 } else { 3 };
            csv.push_str(&format!(
                "R8A-ASH,{day},J. Smith,AREA-{:02},Room {},{tier},P-{p:03},{finding},Spot {p},Fitting {p},door,high,4,5,{controls},{rl},5,{}\n",
                p / 6,
                p / 6,
                day + time::Duration::days(200)
            ));
        }
        let r = app
            .post_multipart(
                "/ligature/ward/R8A-ASH/import",
                &ward,
                &[],
                "big.csv",
                csv.as_bytes(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    // 300 self-harm incidents at the ward's places (issue 13, item 4), read by both pages: the
    // area counts and the flags at controlled points.
    let mut file = String::from(
        "IncidentID,IncidentKind,WardCode,IncidentDate,PhysicalHarm,SelfHarmMethod,LigaturePointRef\n",
    );
    for i in 0..300i64 {
        file.push_str(&format!(
            "SP-{i},self_harm,R8A-ASH,{},low,ligature_anchor,P-{:03}\n",
            start + time::Duration::days(i * 3),
            (i * 7) % 120
        ));
    }
    let req = ingest::Request {
        kind: ingest::formats::Kind::Incidents,
        file_name: "speed.csv",
        bytes: file.as_bytes(),
        mapping: None,
        uploaded_by: "test",
        only_trust: None,
        dry_run: false,
    };
    let r = ingest::import(&app.store, &mut common::key(), &req, &mut |_, _, _| {})
        .await
        .unwrap();
    assert!(r.ok(), "{:?}", r.error_lines());
    let lead = app.login("lead").await;
    for (path, cookie) in [
        ("/ligature/ward/R8A-ASH", &ward),
        ("/ligature/trust/R8A", &lead),
    ] {
        let mut ms = Vec::new();
        for _ in 0..100 {
            let t = std::time::Instant::now();
            let r = app.get(path, Some(cookie)).await;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(r.status, StatusCode::OK);
        }
        ms.sort_by(f64::total_cmp);
        eprintln!(
            "SPEED {path}: median {:.1} ms, p95 {:.1} ms (100 requests, {} build)",
            ms[49],
            ms[94],
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
        );
    }
}

/// The register's measures on the chart API (issue 13, item 3): open high and extreme points
/// and their median age from the register as it stood at each month's end, actions overdue of
/// those open; an action added moves the figures at once (no upload needed); another trust's
/// lead sees the counts under disclosure control.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_register_is_charted_as_measures() {
    fn values(body: &str) -> Vec<(String, Option<f64>)> {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        v["points"]
            .as_array()
            .unwrap_or_else(|| panic!("no points: {body}"))
            .iter()
            .map(|p| {
                (
                    p["period"].as_str().unwrap().to_string(),
                    p["value"].as_f64(),
                )
            })
            .collect()
    }
    for db in databases().await {
        let app = App::new(db).await;
        let n = app.db_name;
        let ward = app.login("ward").await;
        let r = app
            .post_multipart(
                "/ligature/ward/R8A-ASH/import",
                &ward,
                &[("mapping", "")],
                "ash.csv",
                SHEET.as_bytes(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);
        // ASH-001 (3x5, extreme) and ASH-003 (2x4, high) are high-risk; ASH-002 (2x3) is not.
        let open = app
            .get("/api/series/R8A-ASH/ligature_open_high", Some(&ward))
            .await;
        assert_eq!(open.status, StatusCode::OK, "{n}: {}", open.body);
        let open = values(&open.body);
        assert_eq!(open[0], ("Jan 2024".to_string(), Some(2.0)), "{n}");
        assert!(open.iter().all(|(_, v)| *v == Some(2.0)), "{n}: {open:?}");
        let age = values(
            &app.get("/api/series/R8A-ASH/ligature_median_high_age", Some(&ward))
                .await
                .body,
        );
        assert_eq!(age[0].1, Some(21.0), "{n}: 10 to 31 January");
        let lead = app.login("lead").await;
        let trust = values(
            &app.get("/api/series/R8A/ligature_open_high", Some(&lead))
                .await
                .body,
        );
        assert_eq!(trust[0].1, Some(2.0), "{n}: the trust pools its wards");
        let overdue = |body: &str| values(body).last().unwrap().1;
        let before = app
            .get("/api/series/R8A-ASH/ligature_actions_overdue", Some(&ward))
            .await;
        assert_eq!(overdue(&before.body), None, "{n}: no action yet");
        let r = raise_door_closer_action(&app, &ward, "CB-2024-17").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);
        app.state.settled().await.unwrap();
        let after = app
            .get("/api/series/R8A-ASH/ligature_actions_overdue", Some(&ward))
            .await;
        assert_eq!(
            overdue(&after.body),
            Some(0.0),
            "{n}: one open action, not overdue: {:?}",
            values(&after.body).last()
        );
        // Another trust's lead: counts under 5 are not shown.
        let lead_b = app.login("lead_b").await;
        let r = app
            .get("/api/series/R8A-ASH/ligature_open_high", Some(&lead_b))
            .await;
        if r.status == StatusCode::OK {
            assert!(r.body.contains("\"disclosure_controlled\":true"), "{n}");
            assert!(
                values(&r.body).iter().all(|(_, v)| v.is_none()),
                "{n}: {}",
                r.body
            );
        } else {
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{n}");
        }
    }
}

/// Estates staff (issue 13, item 6): their trust's actions on the estates page, updated there
/// (status, due date, work order), audited; nothing else of the register, no other trust's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn estates_staff_see_and_update_their_trusts_actions_only() {
    for db in databases().await {
        let app = App::new(db).await;
        let n = app.db_name;
        let g = domain::access::Grant::new(domain::access::Role::Estates, Some("R8A".into()), None)
            .unwrap();
        app.store
            .create_user("estates", app::PASSWORD, &g)
            .await
            .unwrap();
        let g = domain::access::Grant::new(domain::access::Role::Estates, Some("R8B".into()), None)
            .unwrap();
        app.store
            .create_user("estates_b", app::PASSWORD, &g)
            .await
            .unwrap();
        let ward = app.login("ward").await;
        let r = app
            .post_multipart(
                "/ligature/ward/R8A-ASH/import",
                &ward,
                &[],
                "ash.csv",
                SHEET.as_bytes(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);
        let r = raise_door_closer_action(&app, &ward, "").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);
        let id = app.store.ligature_actions("R8A-ASH").await.unwrap()[0].id;
        let due = (time::OffsetDateTime::now_utc().date() + time::Duration::days(30)).to_string();

        let est = app.login("estates").await;
        let r = app.get("/", Some(&est)).await;
        assert_eq!(r.location, "/ligature/estates", "{n}");
        let r = app.get("/ligature/estates", Some(&est)).await;
        assert_eq!(r.location, "/ligature/estates/R8A", "{n}");
        let r = app.get("/ligature/estates/R8A", Some(&est)).await;
        assert_eq!(r.status, StatusCode::OK, "{n}");
        assert!(
            r.body.contains("Fit an anti-ligature door closer")
                && r.body.contains("Door closer arm")
                && r.body
                    .contains(&format!("action=\"/ligature/actions/{id}\"")),
            "{n}: {}",
            r.body
        );
        // None of the register's risk, history or figures.
        assert!(!r.body.contains("Residual"), "{n}");
        for path in [
            "/ligature/ward/R8A-ASH",
            "/ligature/ward/R8A-ASH/points/ASH-001",
            "/ligature/trust/R8A",
            "/ligature/estates/R8B",
            "/org/R8A-ASH",
            "/chart/R8A-ASH/ligature_open_high",
            "/api/ligature/wards/R8A-ASH",
        ] {
            assert_eq!(
                app.get(path, Some(&est)).await.status,
                StatusCode::FORBIDDEN,
                "{n}: estates {path}"
            );
        }
        let fingerprint = app.store.ligature_fingerprint().await.unwrap();
        for (path, body) in [
            ("/ligature/ward/R8A-ASH/audits", "date=".to_string()),
            (
                "/ligature/ward/R8A-ASH/actions",
                form(&[
                    ("point", "ASH-002"),
                    ("description", "x"),
                    ("owner", "x"),
                    ("due", &due),
                    ("reference", ""),
                ]),
            ),
        ] {
            let r = app.post_form(path, Some(&est), &body).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{n}: estates {path}");
        }
        // Another trust's estates staff may not touch it; bad input changes nothing.
        let est_b = app.login("estates_b").await;
        let upd = |status: &str, reference: &str| {
            form(&[
                ("status", status),
                ("closed", ""),
                ("due", &due),
                ("reference", reference),
                ("from", "estates"),
            ])
        };
        let r = app
            .post_form(
                &format!("/ligature/actions/{id}"),
                Some(&est_b),
                &upd("in_progress", "WO-9"),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{n}");
        let r = app
            .post_form(
                &format!("/ligature/actions/{id}"),
                Some(&est),
                &form(&[
                    ("status", "open"),
                    ("closed", ""),
                    ("due", "2020-01-01"),
                    ("reference", "WO-7"),
                    ("from", "estates"),
                ]),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{n}: {}", r.body);
        assert!(r.body.contains("Nothing was saved"), "{n}");
        assert_eq!(
            app.store.ligature_fingerprint().await.unwrap(),
            fingerprint,
            "{n}"
        );
        // The work order and a new status, saved and audited.
        let r = app
            .post_form(
                &format!("/ligature/actions/{id}"),
                Some(&est),
                &upd("in_progress", "WO-4471"),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {}", r.body);
        assert_eq!(
            r.location,
            format!("/ligature/estates/R8A?saved={id}"),
            "{n}"
        );
        let a = app.store.ligature_action(id).await.unwrap().unwrap();
        assert_eq!(
            (
                a.status.as_str(),
                a.reference.as_deref(),
                a.updated_by.as_str()
            ),
            ("in_progress", Some("WO-4471"), "estates"),
            "{n}"
        );
        let audit = app.store.audit_log(500).await.unwrap();
        for action in ["ligature_action_updated", "ligature_actions_viewed"] {
            assert!(
                audit
                    .iter()
                    .any(|a| a.user_name == "estates" && a.action == action),
                "{n}: {action} audited"
            );
        }
        let r = app
            .get("/api/ligature/trusts/R8A/actions", Some(&est))
            .await;
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["actions"][0]["line"]["reference"], "WO-4471", "{n}");
        let doc = app.get("/api/openapi.json", None).await.body;
        assert!(doc.contains("/api/ligature/trusts/{trust}/actions"), "{n}");
    }
}

/// Incidents at the place (issue 13, item 4): an incidents upload naming the register's points
/// and areas; the point's and the area's pages show them (count, dates, method) to the ward's
/// own trust only; one at a point the register called controlled on its day (replaced with an
/// anti-ligature fitting) is flagged for review and listed on the trust's escalation page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_at_places_are_shown_to_the_trust_and_flagged_at_controlled_points() {
    for db in databases().await {
        let app = App::new(db).await;
        let n = app.db_name;
        let ward = app.login("ward").await;
        // ASH-002 (bedroom 1) is replaced with an anti-ligature fitting on 2024-07-10.
        let second = SHEET
            .replace("2024-01-10", "2024-07-10")
            .replace(",ASH-001,,", ",ASH-001,present,")
            .replace(
                ",ASH-002,,By the window,Curtain rail,rail,high,3,4,observation,2,3,",
                ",ASH-002,changed,By the window,Curtain rail,rail,high,3,4,anti_ligature,1,3,",
            )
            .replace(",ASH-003,,", ",ASH-003,present,")
            .replace("2024-07-10\n", "2025-01-10\n");
        for (name, sheet) in [("jan.csv", SHEET.to_string()), ("jul.csv", second)] {
            let r = app
                .post_multipart(
                    "/ligature/ward/R8A-ASH/import",
                    &ward,
                    &[],
                    name,
                    sheet.as_bytes(),
                )
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{n}: {name}: {}", r.body);
        }
        let file = "IncidentID,IncidentKind,WardCode,IncidentDate,PhysicalHarm,SelfHarmMethod,LigatureAreaCode,LigaturePointRef\n\
            LIG-1,self_harm,R8A-ASH,2024-08-03,low,ligature_anchor,,ASH-002\n\
            LIG-2,self_harm,R8A-ASH,2024-05-20,low,ligature_anchor,,ASH-002\n\
            LIG-3,self_harm,R8A-ASH,2024-09-01,moderate,ligature_no_anchor,BED-01,ASH-001\n\
            LIG-4,self_harm,R8A-ASH,2024-09-02,none,cutting,LOUNGE,\n";
        let mut keys = common::key();
        let req = ingest::Request {
            kind: ingest::formats::Kind::Incidents,
            file_name: "places.csv",
            bytes: file.as_bytes(),
            mapping: None,
            uploaded_by: "test",
            only_trust: Some("R8A"),
            dry_run: false,
        };
        let r = ingest::import(&app.store, &mut keys, &req, &mut |_, _, _| {})
            .await
            .unwrap();
        assert!(r.ok(), "{n}: {:?}", r.error_lines());

        // The point: LIG-1 after the replacement is flagged; LIG-2 before it is not.
        let r = app
            .get("/ligature/ward/R8A-ASH/points/ASH-002", Some(&ward))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{n}");
        let rows: Vec<&str> = r
            .body
            .split("<tr>")
            .filter(|t| t.contains("LIG-"))
            .collect();
        assert_eq!(rows.len(), 2, "{n}: {}", r.body);
        assert!(
            rows[0].contains("2024-08-03")
                && rows[0].contains("Flagged for review")
                && rows[0].contains("replaced with an anti-ligature fitting"),
            "{n}: {}",
            rows[0]
        );
        assert!(
            rows[1].contains("2024-05-20") && !rows[1].contains("Flagged"),
            "{n}: {}",
            rows[1]
        );
        assert!(
            r.body.contains(
                "2 self-harm incidents recorded here, <strong>1 flagged for review</strong>"
            ),
            "{n}"
        );
        // ASH-001 (vigilance only, extreme): an incident, no flag.
        let r = app
            .get("/ligature/ward/R8A-ASH/points/ASH-001", Some(&ward))
            .await;
        assert!(
            r.body.contains("LIG-3") && !r.body.contains("Flagged for review</strong>"),
            "{n}"
        );
        // The areas: bedroom 1 has three, the lounge one; the ward page counts them.
        let r = app
            .get("/ligature/ward/R8A-ASH/areas/BED-01", Some(&ward))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{n}");
        assert!(
            r.body.contains("3 self-harm incidents recorded here"),
            "{n}: {}",
            r.body
        );
        assert!(!r.body.contains("LIG-4"), "{n}");
        let r = app
            .get("/ligature/ward/R8A-ASH/areas/LOUNGE", Some(&ward))
            .await;
        assert!(
            r.body.contains("LIG-4") && r.body.contains("Cutting or stabbing"),
            "{n}"
        );
        assert_eq!(
            app.get("/ligature/ward/R8A-ASH/areas/NOPE", Some(&ward))
                .await
                .status,
            StatusCode::NOT_FOUND,
            "{n}"
        );
        let r = app.get("/ligature/ward/R8A-ASH", Some(&ward)).await;
        assert!(
            r.body
                .contains("<th scope=\"col\">Self-harm incidents</th>"),
            "{n}"
        );
        // The trust's lead: the flagged incident on the escalation page and in the API.
        let lead = app.login("lead").await;
        let r = app.get("/ligature/trust/R8A", Some(&lead)).await;
        assert!(
            r.body
                .contains("Incidents at controlled points, for review (1)"),
            "{n}: {}",
            r.body
        );
        assert!(
            r.body.contains("LIG-1") && !r.body.contains("LIG-2") && !r.body.contains("LIG-3"),
            "{n}"
        );
        let r = app
            .get("/api/ligature/trusts/R8A/escalations", Some(&lead))
            .await;
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["flagged_incidents"][0]["id"], "LIG-1", "{n}");
        let r = app
            .get("/api/ligature/wards/R8A-ASH/points/ASH-002", Some(&ward))
            .await;
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            v["incidents"][0]["flag"], "replaced with an anti-ligature fitting",
            "{n}"
        );
        // Outside the trust: a programme admin sees the register but not the incidents.
        let admin = app.login("admin").await;
        for path in [
            "/ligature/ward/R8A-ASH/points/ASH-002",
            "/ligature/ward/R8A-ASH/areas/BED-01",
            "/ligature/trust/R8A",
            "/ligature/ward/R8A-ASH",
        ] {
            let r = app.get(path, Some(&admin)).await;
            assert_eq!(r.status, StatusCode::OK, "{n}: {path}");
            assert!(!r.body.contains("LIG-"), "{n}: admin {path}");
            assert!(
                !r.body.contains("Self-harm incidents</th>"),
                "{n}: admin {path}"
            );
        }
        let r = app
            .get("/api/ligature/wards/R8A-ASH/points/ASH-002", Some(&admin))
            .await;
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert!(v["incidents"].is_null(), "{n}");
        let r = app
            .get("/api/ligature/trusts/R8A/escalations", Some(&admin))
            .await;
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert!(v["flagged_incidents"].is_null(), "{n}");
        let lead_b = app.login("lead_b").await;
        assert_eq!(
            app.get("/ligature/ward/R8A-ASH/areas/BED-01", Some(&lead_b))
                .await
                .status,
            StatusCode::FORBIDDEN,
            "{n}"
        );
        // Every view of them audited.
        let audit = app.store.audit_log(200).await.unwrap();
        assert!(
            audit.iter().any(|a| a.user_name == "ward"
                && a.action == "ligature_area_viewed"
                && a.detail.as_deref() == Some("3 incidents shown")),
            "{n}"
        );
    }
}
