//! The attention test's records on SQLite and (when MHSIP_TEST_POSTGRES_URL names a server)
//! PostgreSQL: a code kept only as a hash, found as typed, in force until expiry, withdrawal or
//! use; a test stored only with the latest attempt's token after a passed practice, once; the
//! failed-code counts behind the rate limit.

use domain::access::{Grant, Role};
use std::sync::atomic::{AtomicUsize, Ordering};
use store::Store;
use store::cpt::{CodeRefusal, NewCode, NewTest};

static N: AtomicUsize = AtomicUsize::new(0);

async fn databases() -> Vec<(&'static str, Store)> {
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("mhsip-store-cpt-{}-{n}", std::process::id()));
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
        let db = format!("cpt_{}_{n}", std::process::id());
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
        let g = Grant::new(Role::Clinician, Some("R9A".into()), None).unwrap();
        s.create_user("clin", "correct horse battery", &g)
            .await
            .unwrap();
    }
    out
}

const CODE: &str = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-23";

fn new_code(issued_at: i64) -> NewCode {
    NewCode {
        trust_code: "r9a".into(),
        service: "r9a".into(),
        patient_ref: "CAMHS-0042".into(),
        age_years: 8,
        sex: Some("male".into()),
        ethnic_group: Some("White".into()),
        task: "go_no_go".into(),
        duration_ms: 900_000,
        issued_by: "clin".into(),
        issued_at,
        expires_at: issued_at + 3600,
        repeat_of: None,
    }
}

fn test_row() -> NewTest {
    NewTest {
        started_at: 1_000,
        finished_at: 1_900,
        timing_json: r#"{"frames":120}"#.into(),
        raw_log: r#"{"stimuli":[],"keys":[]}"#.into(),
        head_track: None,
        score_json: "{}".into(),
        user_agent: "test".into(),
    }
}

async fn tests_stored(s: &Store) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cpt_tests")
        .fetch_one(s.pool())
        .await
        .unwrap();
    n
}

#[tokio::test]
async fn a_code_is_kept_hashed_and_found_as_typed() {
    for (db, s) in databases().await {
        let id = s.issue_cpt_code(&new_code(1_000), CODE).await.unwrap();
        // Only the hash is kept: the text appears in no column.
        let (hash,): (String,) = sqlx::query_as("SELECT code_hash FROM cpt_codes WHERE id = $1")
            .bind(id)
            .fetch_one(s.pool())
            .await
            .unwrap();
        assert_eq!(hash.len(), 64, "{db}");
        assert!(!hash.to_uppercase().contains("ABCDEFGH"), "{db}");
        // Typed in lower case, with spaces, O for 0 and I for 1: the same code.
        let typed = "abcd efgh jkmn pqrs tvwx yzoi 23";
        let c = s.usable_cpt_code(typed, 1_500).await.unwrap().unwrap();
        assert_eq!((c.id, c.trust_code.as_str(), c.age_years), (id, "R9A", 8));
        assert_eq!(
            s.usable_cpt_code("ABCD", 1_500).await.unwrap(),
            Err(CodeRefusal::Unknown),
            "{db}"
        );
        // Expired at its expiry.
        assert_eq!(
            s.usable_cpt_code(CODE, 4_600).await.unwrap(),
            Err(CodeRefusal::Expired {
                id,
                trust: "R9A".into()
            }),
            "{db}"
        );
        // Too short a code, or an empty patient reference, is refused with the field named.
        let e = s
            .issue_cpt_code(&new_code(1_000), "ABC123")
            .await
            .unwrap_err();
        assert!(e.to_string().starts_with("code:"), "{e}");
        let mut bad = new_code(1_000);
        bad.patient_ref = "  ".into();
        let e = s
            .issue_cpt_code(&bad, "ZZZZ-EFGH-JKMN-PQRS-TVWX-YZ01-23")
            .await
            .unwrap_err();
        assert!(e.to_string().starts_with("patient reference:"), "{e}");
        // Withdrawn: refused as such; a second withdrawal finds nothing.
        assert!(s.revoke_cpt_code("R9A", id, 1_600).await.unwrap());
        assert!(!s.revoke_cpt_code("R9A", id, 1_600).await.unwrap());
        assert!(matches!(
            s.usable_cpt_code(CODE, 1_700).await.unwrap(),
            Err(CodeRefusal::Revoked { .. })
        ));
        assert_eq!(s.cpt_codes("R9A", false).await.unwrap().len(), 1);
        assert_eq!(s.cpt_codes("R9A", true).await.unwrap().len(), 1);
        assert!(s.cpt_codes("R9B", false).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_test_is_stored_once_with_the_latest_attempt_after_the_practice() {
    for (db, s) in databases().await {
        let id = s.issue_cpt_code(&new_code(1_000), CODE).await.unwrap();
        // Not started: no attempt matches.
        assert!(matches!(
            s.save_cpt_test(CODE, "attempt-1", &test_row(), 1_100)
                .await
                .unwrap(),
            Err(CodeRefusal::WrongAttempt { .. })
        ));
        assert!(
            s.start_cpt_attempt(id, 42, "attempt-1", 1_100)
                .await
                .unwrap()
        );
        // Started, practice not passed.
        assert!(matches!(
            s.save_cpt_test(CODE, "attempt-1", &test_row(), 1_200)
                .await
                .unwrap(),
            Err(CodeRefusal::PracticeNotPassed { .. })
        ));
        s.record_cpt_practice(id, r#"[{"passed":true}]"#, true)
            .await
            .unwrap();
        // Started again elsewhere: the first attempt's token no longer stores anything, and the
        // practice must be passed again.
        assert!(
            s.start_cpt_attempt(id, 43, "attempt-2", 1_300)
                .await
                .unwrap()
        );
        assert!(matches!(
            s.save_cpt_test(CODE, "attempt-1", &test_row(), 1_400)
                .await
                .unwrap(),
            Err(CodeRefusal::WrongAttempt { .. })
        ));
        assert!(matches!(
            s.save_cpt_test(CODE, "attempt-2", &test_row(), 1_400)
                .await
                .unwrap(),
            Err(CodeRefusal::PracticeNotPassed { .. })
        ));
        assert_eq!(tests_stored(&s).await, 0, "{db}");
        s.record_cpt_practice(id, r#"[{"passed":true}]"#, true)
            .await
            .unwrap();
        let test = s
            .save_cpt_test(CODE, "attempt-2", &test_row(), 1_500)
            .await
            .unwrap()
            .unwrap();
        let row = s.cpt_test(test).await.unwrap().unwrap();
        assert_eq!(row.seed, "43", "{db}");
        assert_eq!(row.patient_ref, "CAMHS-0042");
        assert_eq!(row.practice_json, r#"[{"passed":true}]"#);
        assert_eq!(row.head_track, None);
        // Once only: the code is used now, for saving and for starting.
        assert!(matches!(
            s.save_cpt_test(CODE, "attempt-2", &test_row(), 1_600)
                .await
                .unwrap(),
            Err(CodeRefusal::Used { .. })
        ));
        assert!(
            !s.start_cpt_attempt(id, 44, "attempt-3", 1_600)
                .await
                .unwrap()
        );
        assert!(!s.revoke_cpt_code("R9A", id, 1_600).await.unwrap());
        assert_eq!(tests_stored(&s).await, 1, "{db}");
        assert!(s.cpt_codes("R9A", true).await.unwrap().is_empty());
        assert_eq!(s.cpt_codes("R9A", false).await.unwrap().len(), 1);
        // Lists: by trust, by patient; notes only within the trust.
        assert_eq!(s.cpt_tests("R9A", None).await.unwrap().len(), 1);
        assert!(s.cpt_tests("R9A", Some(0)).await.unwrap().is_empty());
        assert!(s.cpt_tests("R9B", None).await.unwrap().is_empty());
        assert_eq!(
            s.cpt_patient_tests("R9A", "CAMHS-0042")
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            !s.set_cpt_notes("R9B", test, "x", "clin", 1_700)
                .await
                .unwrap()
        );
        assert!(
            s.set_cpt_notes("R9A", test, " Restless after 10 minutes. ", "clin", 1_700)
                .await
                .unwrap()
        );
        let row = s.cpt_test(test).await.unwrap().unwrap();
        assert_eq!(row.notes, "Restless after 10 minutes.");
        assert_eq!(row.notes_by.as_deref(), Some("clin"));
        // An expired code cannot be started.
        let mut late = new_code(1_000);
        late.expires_at = 1_050;
        let late_id = s
            .issue_cpt_code(&late, "QQQQ-EFGH-JKMN-PQRS-TVWX-YZ01-23")
            .await
            .unwrap();
        assert!(!s.start_cpt_attempt(late_id, 1, "a", 1_100).await.unwrap());
    }
}

#[tokio::test]
async fn failed_codes_are_counted_per_client_and_in_all() {
    for (db, s) in databases().await {
        for t in [100, 200, 300] {
            s.cpt_code_failed("10.0.0.1", t).await.unwrap();
        }
        s.cpt_code_failed("10.0.0.2", 300).await.unwrap();
        assert_eq!(
            s.cpt_code_failures("10.0.0.1", 150).await.unwrap(),
            (2, 3),
            "{db}"
        );
        // A day later the old entries are dropped.
        s.cpt_code_failed("10.0.0.3", 100_000).await.unwrap();
        assert_eq!(
            s.cpt_code_failures("10.0.0.1", 0).await.unwrap(),
            (0, 1),
            "{db}"
        );
    }
}
