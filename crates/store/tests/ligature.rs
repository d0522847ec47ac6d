//! Ligature register rows (migration 0012) on SQLite and, when MHSIP_TEST_POSTGRES_URL names a
//! server, PostgreSQL: a draft takes findings area by area and is signed off once, after which
//! nothing can be written to it; a whole audit is one transaction; every audit's state of each
//! point is read back as written; actions and photos (bytes exact) round-trip; the schema
//! refuses a likelihood of 6, an unknown tier and an action due before it was raised.

use std::sync::atomic::{AtomicUsize, Ordering};
use store::Store;
use store::ligature::{ActionRow, AreaRow, FindingRow, NewAudit, SettingsRow};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

async fn databases() -> Vec<(&'static str, Store)> {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("mhsip-store-lig-{}-{n}", std::process::id()));
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
        let db = format!("lig_{}_{n}", std::process::id());
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
    for (_, s) in &out {
        for q in [
            "INSERT INTO organisations (code, name, level) VALUES ('R8A', 'Trust', 'trust')",
            "INSERT INTO organisations (code, name, level, parent_code) VALUES ('R8A01', 'Site', 'site', 'R8A')",
            "INSERT INTO wards (code, name, site_code, trust_code, ward_type, sex_mix) VALUES ('R8A-ASH', 'Ash', 'R8A01', 'R8A', 'adult_acute', 'mixed')",
        ] {
            sqlx::query(q).execute(s.pool()).await.unwrap();
        }
    }
    out
}

fn audit(day: i64) -> NewAudit {
    NewAudit {
        ward_code: "R8A-ASH".into(),
        trust_code: "R8A".into(),
        audit_day: day,
        assessor: "J. Smith".into(),
        source: "form".into(),
        upload_id: None,
        created_by: "ward.ash".into(),
        created_at: 1_700_000_000,
    }
}

fn finding(audit_id: i64, point: &str, change: &str, rl: i64) -> FindingRow {
    FindingRow {
        audit_id,
        point_ref: point.into(),
        finding: change.into(),
        area_code: "BED-01".into(),
        location: "Above the door".into(),
        description: "Door closer".into(),
        kind: "door".into(),
        height: "high".into(),
        inherent_likelihood: 4,
        inherent_consequence: 5,
        residual_likelihood: rl,
        residual_consequence: 5,
        controls: "staff_vigilance".into(),
        review_day: 20_000,
        note: String::new(),
    }
}

fn area(audit_id: i64, tier: i64) -> AreaRow {
    AreaRow {
        audit_id,
        area_code: "BED-01".into(),
        name: "Bedroom 1".into(),
        tier,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_is_walked_signed_once_and_never_changed_after() {
    for (name, store) in databases().await {
        let id = store.start_ligature_audit(&audit(19_700)).await.unwrap();
        store
            .save_ligature_findings(id, &[area(id, 3)], &[finding(id, "P-1", "new", 3)])
            .await
            .unwrap();
        // The same point again replaces its finding (an assessor's correction).
        store
            .save_ligature_findings(
                id,
                &[],
                &[finding(id, "P-1", "new", 2), finding(id, "P-2", "new", 1)],
            )
            .await
            .unwrap();
        assert_eq!(store.delete_ligature_finding(id, "P-2").await.unwrap(), 1);
        assert!(
            store
                .sign_ligature_audit(id, "J. Smith", 19_701)
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            !store
                .sign_ligature_audit(id, "Someone else", 19_702)
                .await
                .unwrap(),
            "{name}"
        );
        let e = store
            .save_ligature_findings(id, &[], &[finding(id, "P-9", "new", 1)])
            .await
            .unwrap_err();
        assert!(e.to_string().contains("signed off"), "{name}: {e}");
        assert_eq!(store.delete_ligature_finding(id, "P-1").await.unwrap(), 0);
        assert!(!store.discard_ligature_draft(id).await.unwrap());
        // A second audit, whole.
        let id2 = store
            .record_ligature_audit(
                &audit(19_800),
                "J. Smith",
                19_800,
                &[],
                &[finding(0, "P-1", "present", 2)],
            )
            .await
            .unwrap();
        let held = store.ligature_ward_audits("R8A-ASH").await.unwrap();
        assert_eq!(held.audits.len(), 2, "{name}");
        assert_eq!(held.audits[0].status, "signed");
        assert_eq!(held.audits[0].signed_by.as_deref(), Some("J. Smith"));
        assert_eq!(held.areas, vec![area(id, 3)], "{name}");
        let want = vec![
            finding(id, "P-1", "new", 2),
            finding(id2, "P-1", "present", 2),
        ];
        assert_eq!(held.findings, want, "{name}");
        assert_eq!(
            store.ligature_wards(Some("R8A")).await.unwrap(),
            vec![("R8A-ASH".to_string(), "R8A".to_string())]
        );
        // A draft thrown away leaves nothing.
        let d = store.start_ligature_audit(&audit(19_900)).await.unwrap();
        store
            .save_ligature_findings(d, &[], &[finding(d, "P-1", "present", 2)])
            .await
            .unwrap();
        assert!(store.discard_ligature_draft(d).await.unwrap());
        assert_eq!(
            store.ligature_ward_audits("R8A-ASH").await.unwrap(),
            held,
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_refuses_bad_values_and_a_failed_audit_writes_nothing() {
    for (name, store) in databases().await {
        let before = store.ligature_fingerprint().await.unwrap();
        let six = store
            .record_ligature_audit(
                &audit(19_700),
                "J",
                19_700,
                &[area(0, 3)],
                &[finding(0, "P-1", "new", 6)],
            )
            .await;
        assert!(six.is_err(), "{name}: a likelihood of 6");
        let tier = store
            .record_ligature_audit(&audit(19_700), "J", 19_700, &[area(0, 4)], &[])
            .await;
        assert!(tier.is_err(), "{name}: tier 4");
        let mut other = audit(19_700);
        other.ward_code = "RXX-NOPE".into();
        assert!(
            store.start_ligature_audit(&other).await.is_err(),
            "{name}: a ward not held"
        );
        assert_eq!(
            store.ligature_fingerprint().await.unwrap(),
            before,
            "{name}"
        );
        let action = ActionRow {
            id: 0,
            ward_code: "R8A-ASH".into(),
            trust_code: "R8A".into(),
            point_ref: "P-1".into(),
            description: "Fit an anti-ligature closer".into(),
            owner: "Estates".into(),
            raised_day: 19_700,
            due_day: 19_690,
            status: "open".into(),
            closed_day: None,
            reference: Some("WO-1".into()),
            updated_by: "ward.ash".into(),
            updated_at: 0,
        };
        assert!(
            store.add_ligature_action(&action).await.is_err(),
            "{name}: due before raised"
        );
        let ok = ActionRow {
            due_day: 19_760,
            ..action
        };
        let aid = store.add_ligature_action(&ok).await.unwrap();
        let mut done = store.ligature_action(aid).await.unwrap().unwrap();
        assert_eq!(
            done,
            ActionRow {
                id: aid,
                ..ok.clone()
            },
            "{name}"
        );
        done.status = "done".into();
        done.closed_day = Some(19_750);
        assert!(store.update_ligature_action(&done).await.unwrap());
        assert_eq!(
            store.ligature_actions("R8A-ASH").await.unwrap(),
            vec![done],
            "{name}"
        );
        store
            .set_ligature_settings(&SettingsRow {
                trust_code: "R8A".into(),
                escalation_days: 14,
                audit_interval_days: 180,
                updated_by: "lead".into(),
                updated_at: 1,
            })
            .await
            .unwrap();
        assert_eq!(
            store
                .ligature_settings("R8A")
                .await
                .unwrap()
                .unwrap()
                .escalation_days,
            14
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_come_back_byte_for_byte() {
    for (name, store) in databases().await {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let id = store
            .add_ligature_photo(
                "R8A-ASH",
                "R8A",
                "P-1",
                None,
                "image/jpeg",
                &bytes,
                "ward.ash",
                5,
            )
            .await
            .unwrap();
        let (meta, back) = store.ligature_photo(id).await.unwrap().unwrap();
        assert_eq!(back, bytes, "{name}");
        assert_eq!(meta.size_bytes, 70_000);
        assert_eq!(
            store.ligature_photos("R8A-ASH", Some("P-1")).await.unwrap(),
            vec![meta]
        );
        assert!(
            store
                .ligature_photos("R8A-ASH", Some("P-2"))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .add_ligature_photo(
                    "R8A-ASH",
                    "R8A",
                    "P-1",
                    None,
                    "application/pdf",
                    &bytes,
                    "x",
                    5
                )
                .await
                .is_err(),
            "{name}"
        );
        assert!(store.ligature_photo(id + 100).await.unwrap().is_none());
    }
}

/// An incident's identifier, day, area, point and method as read back.
type Place = (String, i64, Option<String>, Option<String>, Option<String>);

/// Incidents at a place (migration 0017): a ward's self-harm incidents that name an area are
/// read back oldest first with their point and method; other kinds, other wards and incidents
/// without a place are not; the trust's list holds all its wards'.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_at_places_are_read_back_by_ward_and_trust() {
    for (name, s) in databases().await {
        sqlx::query("INSERT INTO wards (code, name, site_code, trust_code, ward_type, sex_mix) VALUES ('R8A-ELM', 'Elm', 'R8A01', 'R8A', 'adult_acute', 'mixed')")
            .execute(s.pool())
            .await
            .unwrap();
        for (id, kind, ward, day, area, point, method) in [
            (
                "I-3",
                "self_harm",
                "R8A-ASH",
                300,
                Some("BED-01"),
                Some("ASH-001"),
                Some("ligature_anchor"),
            ),
            (
                "I-1",
                "self_harm",
                "R8A-ASH",
                100,
                Some("LOUNGE"),
                None,
                None,
            ),
            (
                "I-2",
                "self_harm",
                "R8A-ASH",
                200,
                None,
                None,
                Some("cutting"),
            ),
            ("I-4", "other", "R8A-ASH", 250, Some("BED-01"), None, None),
            (
                "I-5",
                "self_harm",
                "R8A-ELM",
                150,
                Some("BED-09"),
                Some("ELM-1"),
                Some("ligature_no_anchor"),
            ),
        ] {
            sqlx::query(
                "INSERT INTO incidents (trust_code, local_id, kind, ward_code, occurred_min, day, month_start, week_start, harm, on_leave, ligature_area, ligature_point, method) \
                 VALUES ('R8A', $1, $2, $3, $4, $5, $5, $5, 'low', 0, $6, $7, $8)",
            )
            .bind(id)
            .bind(kind)
            .bind(ward)
            .bind(day * 1440)
            .bind(day)
            .bind(area)
            .bind(point)
            .bind(method)
            .execute(s.pool())
            .await
            .unwrap();
        }
        let ash: Vec<Place> = s
            .ligature_incidents("R8A-ASH")
            .await
            .unwrap()
            .into_iter()
            .map(|i| {
                (
                    i.local_id,
                    i.day,
                    i.ligature_area,
                    i.ligature_point,
                    i.method,
                )
            })
            .collect();
        let o = |x: &str| Some(x.to_string());
        assert_eq!(
            ash,
            vec![
                ("I-1".into(), 100, o("LOUNGE"), None, None),
                (
                    "I-3".into(),
                    300,
                    o("BED-01"),
                    o("ASH-001"),
                    o("ligature_anchor")
                ),
            ],
            "{name}"
        );
        let trust: Vec<String> = s
            .ligature_incidents_of_trust("R8A")
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.local_id)
            .collect();
        assert_eq!(trust, ["I-1", "I-5", "I-3"], "{name}");
        assert!(
            s.ligature_incidents_of_trust("R8B")
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
    }
}
