//! The ADHD pathway's referrals (migration 0014) on SQLite and, when MHSIP_TEST_POSTGRES_URL is
//! set, PostgreSQL: written as an upload (one transaction, its row in the history), read back
//! whole, replaced (never duplicated) when uploaded again, nothing kept from an upload rolled
//! back; PostgreSQL's schema refuses what ingest refuses (dates out of order, a decision
//! without its appointments).

use std::sync::atomic::{AtomicUsize, Ordering};
use store::adhd::AdhdReferralRow;
use store::{Batch, Store, UploadMeta};

static N: AtomicUsize = AtomicUsize::new(0);

async fn databases() -> Vec<(&'static str, Store)> {
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("mhsip-store-adhd-{}-{n}", std::process::id()));
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
        let db = format!("adhd_{}_{n}", std::process::id());
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
        for (code, parent) in [("Y99", None), ("Q99", Some("Y99")), ("R9A", Some("Q99"))] {
            sqlx::query(
                "INSERT INTO organisations (code, name, level, parent_code) VALUES ($1, $2, $3, $4)",
            )
            .bind(code)
            .bind(format!("Org {code}"))
            .bind(match code.as_bytes()[0] {
                b'Y' => "region",
                b'Q' => "icb",
                _ => "trust",
            })
            .bind(parent)
            .execute(s.pool())
            .await
            .unwrap();
        }
    }
    out
}

fn row(
    id: &str,
    referral: i64,
    test: Option<i64>,
    appts: Option<i64>,
    decision: Option<i64>,
) -> AdhdReferralRow {
    AdhdReferralRow {
        service_code: "R9A-ADHD".into(),
        referral_id: id.into(),
        trust_code: "R9A".into(),
        referral_day: referral,
        age: Some(8),
        sex: Some("1".into()),
        ethnic_category: Some("A".into()),
        imd_decile: Some(3),
        test_day: test,
        appointments: appts,
        decision_day: decision,
    }
}

fn meta() -> UploadMeta {
    UploadMeta {
        kind: "adhd_referrals".into(),
        file_name: "referrals.csv".into(),
        sha256: "0".repeat(64),
        uploaded_by: "demo".into(),
        trust_code: Some("R9A".into()),
        mapping: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referrals_are_written_as_an_upload_and_replaced_when_uploaded_again() {
    for (db, s) in databases().await {
        let rows = vec![
            row("A-1", 20_000, Some(20_090), Some(4), Some(20_120)),
            row("A-2", 20_010, None, None, None),
        ];
        let mut import = s.begin_import(&meta()).await.unwrap();
        import
            .write(Batch::adhd_referrals(rows.clone()))
            .await
            .unwrap();
        let summary = import.commit(Some("R9A".into())).await.unwrap();
        assert_eq!((summary.rows, summary.inserted), (2, 2), "{db}");
        assert_eq!(s.adhd_referrals("r9a-adhd").await.unwrap(), rows, "{db}");
        let services = s.adhd_services(Some("R9A")).await.unwrap();
        assert_eq!(services.len(), 1);
        assert_eq!(services[0].referrals, 2);
        assert!(s.adhd_services(Some("R8A")).await.unwrap().is_empty());
        // The second referral decided: uploaded again, replaced.
        let mut again = rows.clone();
        again[1] = row("A-2", 20_010, Some(20_100), Some(3), Some(20_110));
        let mut import = s.begin_import(&meta()).await.unwrap();
        import
            .write(Batch::adhd_referrals(again.clone()))
            .await
            .unwrap();
        let summary = import.commit(Some("R9A".into())).await.unwrap();
        assert_eq!((summary.inserted, summary.updated), (0, 2), "{db}");
        assert_eq!(s.adhd_referrals("R9A-ADHD").await.unwrap(), again);
        assert_eq!(s.adhd_referral_count("R9A-ADHD").await.unwrap(), 2);
        // An upload rolled back keeps nothing.
        let mut import = s.begin_import(&meta()).await.unwrap();
        import
            .write(Batch::adhd_referrals(vec![row(
                "A-3", 20_020, None, None, None,
            )]))
            .await
            .unwrap();
        import.rollback().await.unwrap();
        assert_eq!(s.adhd_referral_count("R9A-ADHD").await.unwrap(), 2, "{db}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_refuses_what_the_upload_refuses() {
    for (db, s) in databases().await {
        if db != "postgres" {
            continue;
        }
        for (what, bad) in [
            (
                "a decision before the referral",
                row("B-1", 20_000, None, Some(2), Some(19_990)),
            ),
            (
                "a test after the decision",
                row("B-2", 20_000, Some(20_050), Some(2), Some(20_040)),
            ),
            (
                "a decision without appointments",
                row("B-3", 20_000, None, None, Some(20_040)),
            ),
            (
                "a test before the referral",
                row("B-4", 20_000, Some(19_000), None, None),
            ),
        ] {
            let mut import = s.begin_import(&meta()).await.unwrap();
            let written = match import.write(Batch::adhd_referrals(vec![bad])).await {
                Ok(()) => import.commit(None).await.map(|_| ()),
                Err(e) => Err(e),
            };
            assert!(written.is_err(), "{what} was accepted");
            assert_eq!(
                s.adhd_referral_count("R9A-ADHD").await.unwrap(),
                0,
                "{what}"
            );
        }
    }
}
