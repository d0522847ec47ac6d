//! The rows behind FREED's measures (`store::freed_measures`) and what the waiting list keeps
//! (`freed_rows_not_off_by`), on SQLite and, when MHSIP_TEST_POSTGRES_URL names a server,
//! PostgreSQL: every referral of the programme or of one trust with its events, in order; the
//! span of everything held; the referrals not off the list by a time, whenever received.

use domain::OrgLevel;
use domain::ids::OdsCode;
use domain::records::Organisation;
use std::sync::atomic::{AtomicUsize, Ordering};
use store::freed::{ContactRow, DischargeRow, PauseRow, ReferralRow, ServiceRow};
use store::{Batch, Store, UploadMeta};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

async fn databases() -> Vec<(&'static str, Store)> {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!(
        "mhsip-store-freed-measures-{}-{n}",
        std::process::id()
    ));
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
        let db = format!("freed_measures_{}_{n}", std::process::id());
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

fn meta() -> UploadMeta {
    UploadMeta {
        kind: "freed_referrals".into(),
        file_name: "t.csv".into(),
        sha256: "0".repeat(64),
        uploaded_by: "test".into(),
        trust_code: None,
        mapping: None,
    }
}

fn org(code: &str, level: OrgLevel, parent: Option<&str>) -> Organisation {
    Organisation {
        code: OdsCode::parse(code, level).unwrap(),
        name: code.into(),
        level,
        parent: parent.map(|p| {
            let l = match level {
                OrgLevel::Icb => OrgLevel::Region,
                _ => OrgLevel::Icb,
            };
            OdsCode::parse(p, l).unwrap()
        }),
    }
}

fn referral(service: &str, id: &str, received_min: i64, off_list_min: Option<i64>) -> ReferralRow {
    ReferralRow {
        service_code: service.into(),
        referral_id: id.into(),
        patient: format!("p-{id}"),
        received_min,
        source: "gp".into(),
        age: Some(20),
        first_episode: "yes".into(),
        onset_precision: "month".into(),
        onset_day: Some(19_600),
        diagnosis: "AN".into(),
        priority: "routine".into(),
        ethnic_category: None,
        sex: Some("2".into()),
        imd_decile: Some(4),
        off_list_min,
    }
}

async fn write(store: &Store, batches: Vec<Batch>, commit: bool) {
    let mut import = store.begin_import(&meta()).await.unwrap();
    for b in batches {
        import.write(b).await.unwrap();
    }
    if commit {
        import.commit(None).await.unwrap();
    } else {
        import.rollback().await.unwrap();
    }
}

fn service(code: &str, trust: &str) -> ServiceRow {
    ServiceRow {
        code: code.into(),
        name: code.into(),
        trust_code: trust.into(),
        ward_code: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measures_read_every_referral_of_the_programme_or_of_one_trust() {
    for (name, store) in databases().await {
        assert_eq!(
            store.freed_span().await.unwrap(),
            None,
            "{name}: nothing held"
        );
        write(
            &store,
            vec![Batch::organisations(vec![
                org("Y98", OrgLevel::Region, None),
                org("Q98", OrgLevel::Icb, Some("Y98")),
                org("R8A", OrgLevel::Trust, Some("Q98")),
                org("R8B", OrgLevel::Trust, Some("Q98")),
            ])],
            true,
        )
        .await;
        let a = vec![
            referral("R8A-FREED", "A1", 1_000, Some(2_000)),
            referral("R8A-FREED", "A2", 1_500, None),
            referral("R8A-TWO", "T1", 1_200, None),
        ];
        let b = vec![referral("R8B-FREED", "B1", 800, Some(5_000))];
        let contact = |s: &str, id: &str, r: &str, at: i64| ContactRow {
            service_code: s.into(),
            contact_id: id.into(),
            referral_id: r.into(),
            kind: "first_treatment".into(),
            at_min: at,
            attendance_code: "5".into(),
            attended: 1,
        };
        write(
            &store,
            vec![
                Batch::freed_services(vec![
                    service("R8A-FREED", "R8A"),
                    service("R8A-TWO", "R8A"),
                    service("R8B-FREED", "R8B"),
                ]),
                Batch::freed_referrals(a.iter().chain(&b).cloned().collect()),
                Batch::freed_contacts(vec![
                    contact("R8A-FREED", "C1", "A1", 2_000),
                    contact("R8B-FREED", "C2", "B1", 6_000),
                ]),
                Batch::freed_pauses(vec![PauseRow {
                    service_code: "R8A-FREED".into(),
                    referral_id: "A2".into(),
                    start_min: 1_600,
                    end_min: Some(7_000),
                    reason: "patient_choice".into(),
                }]),
                Batch::freed_discharges(vec![DischargeRow {
                    service_code: "R8B-FREED".into(),
                    referral_id: "B1".into(),
                    at_min: 5_000,
                    reason: "did_not_engage".into(),
                    reopened_min: None,
                }]),
            ],
            true,
        )
        .await;
        let all = store.freed_measure_rows(None).await.unwrap();
        let ids: Vec<(&str, &str)> = all
            .referrals
            .iter()
            .map(|r| (r.service_code.as_str(), r.referral_id.as_str()))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("R8A-FREED", "A1"),
                ("R8A-FREED", "A2"),
                ("R8A-TWO", "T1"),
                ("R8B-FREED", "B1")
            ],
            "{name}: every referral, by service and reference"
        );
        assert_eq!(all.contacts.len(), 2, "{name}");
        assert_eq!((all.pauses.len(), all.discharges.len()), (1, 1), "{name}");
        let r8a = store.freed_measure_rows(Some("R8A")).await.unwrap();
        assert_eq!(
            r8a.referrals, a,
            "{name}: both of R8A's services, nothing of R8B"
        );
        assert_eq!(r8a.contacts.len(), 1, "{name}");
        assert!(r8a.discharges.is_empty(), "{name}");
        let none = store.freed_measure_rows(Some("R8C")).await.unwrap();
        assert!(
            none.referrals.is_empty() && none.contacts.is_empty(),
            "{name}"
        );
        // From the first receipt (B1 at 800) to the latest record (A2's pause ending at 7,000).
        assert_eq!(
            store.freed_span().await.unwrap(),
            Some((800, 7_000)),
            "{name}"
        );
        // Not off the list by minute 1,900: A1 (off at 2,000) and A2; by 2,000 only A2, and a
        // referral received after the time is kept too (it can be on the list later).
        for (t, want) in [
            (1_900, vec!["A1", "A2"]),
            (2_000, vec!["A2"]),
            (0, vec!["A1", "A2"]),
        ] {
            let rows = store.freed_rows_not_off_by("R8A-FREED", t).await.unwrap();
            let got: Vec<&str> = rows
                .referrals
                .iter()
                .map(|r| r.referral_id.as_str())
                .collect();
            assert_eq!(got, want, "{name}: not off the list by {t}");
            assert!(
                rows.contacts
                    .iter()
                    .all(|c| want.contains(&c.referral_id.as_str())),
                "{name}: only their contacts"
            );
        }
    }
}
