//! FREED rows (migration 0009) through the store's own writer and readers, on SQLite and, when
//! MHSIP_TEST_POSTGRES_URL names a server, PostgreSQL: rows come back as written, in order;
//! what a waiting list reads (`freed_rows` with a time) is exactly the referrals received by
//! then and not yet off the list; one transaction, rolled back, leaves nothing.

use domain::OrgLevel;
use domain::ids::OdsCode;
use domain::records::Organisation;
use std::sync::atomic::{AtomicUsize, Ordering};
use store::freed::{ContactRow, DischargeRow, FreedRows, PauseRow, ReferralRow, ServiceRow};
use store::{Batch, Store, UploadMeta};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

async fn databases() -> Vec<(&'static str, Store)> {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("mhsip-store-freed-{}-{n}", std::process::id()));
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
        let db = format!("freed_{}_{n}", std::process::id());
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

fn referral(id: &str, received_min: i64, off_list_min: Option<i64>) -> ReferralRow {
    ReferralRow {
        service_code: "R8A-FREED".into(),
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

fn ids(rows: &FreedRows) -> Vec<&str> {
    rows.referrals
        .iter()
        .map(|r| r.referral_id.as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_round_trip_and_a_waiting_list_reads_only_what_can_be_on_it() {
    for (name, store) in databases().await {
        write(
            &store,
            vec![Batch::organisations(vec![
                org("Y98", OrgLevel::Region, None),
                org("Q98", OrgLevel::Icb, Some("Y98")),
                org("R8A", OrgLevel::Trust, Some("Q98")),
            ])],
            true,
        )
        .await;
        let service = ServiceRow {
            code: "R8A-FREED".into(),
            name: "Example FREED".into(),
            trust_code: "R8A".into(),
            ward_code: None,
        };
        // A waits (never off the list); B leaves at minute 500; C at 100; D is received at 900.
        let referrals = vec![
            referral("A", 0, None),
            referral("B", 10, Some(500)),
            referral("C", 20, Some(100)),
            referral("D", 900, None),
        ];
        let contacts = vec![ContactRow {
            service_code: "R8A-FREED".into(),
            contact_id: "C-1".into(),
            referral_id: "B".into(),
            kind: "first_treatment".into(),
            at_min: 500,
            attendance_code: "5".into(),
            attended: 1,
        }];
        let pauses = vec![PauseRow {
            service_code: "R8A-FREED".into(),
            referral_id: "A".into(),
            start_min: 50,
            end_min: None,
            reason: "patient_choice".into(),
        }];
        let discharges = vec![DischargeRow {
            service_code: "R8A-FREED".into(),
            referral_id: "C".into(),
            at_min: 100,
            reason: "did_not_engage".into(),
            reopened_min: None,
        }];
        // Rolled back: nothing.
        write(
            &store,
            vec![Batch::freed_services(vec![service.clone()])],
            false,
        )
        .await;
        assert!(store.freed_services().await.unwrap().is_empty(), "{name}");
        write(
            &store,
            vec![
                Batch::freed_services(vec![service.clone()]),
                Batch::freed_referrals(referrals.clone()),
                Batch::freed_contacts(contacts.clone()),
                Batch::freed_pauses(pauses.clone()),
                Batch::freed_discharges(discharges.clone()),
            ],
            true,
        )
        .await;
        assert_eq!(
            store.freed_services().await.unwrap(),
            vec![service],
            "{name}"
        );
        let all = store.freed_rows("R8A-FREED", None).await.unwrap();
        assert_eq!(
            all.referrals, referrals,
            "{name}: back as written, by reference"
        );
        assert_eq!(all.contacts, contacts);
        assert_eq!(all.pauses, pauses);
        assert_eq!(all.discharges, discharges);
        // What a waiting list reads at each time.
        for (t, want) in [
            (5, vec!["A"]),
            (50, vec!["A", "B", "C"]),
            (100, vec!["A", "B"]),
            (499, vec!["A", "B"]),
            (500, vec!["A"]),
            (900, vec!["A", "D"]),
        ] {
            let some = store.freed_rows("R8A-FREED", Some(t)).await.unwrap();
            assert_eq!(ids(&some), want, "{name}: at minute {t}");
            // Each with its own events only.
            assert!(
                some.contacts
                    .iter()
                    .all(|c| want.contains(&c.referral_id.as_str())),
                "{name}: {t}"
            );
        }
        let one = store.freed_referral("R8A-FREED", "B").await.unwrap();
        assert_eq!(ids(&one), ["B"]);
        assert_eq!(one.contacts.len(), 1);
        assert!(
            store
                .freed_referral("R8A-FREED", "Z")
                .await
                .unwrap()
                .referrals
                .is_empty()
        );
        assert!(
            store
                .freed_rows("NOPE", None)
                .await
                .unwrap()
                .referrals
                .is_empty()
        );
        // A re-upload of the same keys updates, never duplicates.
        let mut changed = referrals[0].clone();
        changed.priority = "urgent".into();
        write(
            &store,
            vec![Batch::freed_referrals(vec![changed.clone()])],
            true,
        )
        .await;
        assert_eq!(store.count("freed_referrals").await.unwrap(), 4, "{name}");
        let all = store.freed_rows("R8A-FREED", None).await.unwrap();
        assert_eq!(all.referrals[0], changed);
        // Read by key: the named referrals held, each with its own events; unknown ones absent.
        let named = store
            .freed_rows_for(
                "R8A-FREED",
                &["C".into(), "Z".into(), "B".into(), "B".into()],
            )
            .await
            .unwrap();
        assert_eq!(ids(&named), ["B", "C"], "{name}");
        assert_eq!(named.contacts, contacts, "{name}");
        assert_eq!(named.discharges, discharges, "{name}");
        assert!(named.pauses.is_empty(), "{name}");
    }
}

/// A contacts upload sets when its referrals leave the waiting list on their rows alone: the
/// rest of each row, and the upload that brought it, stay; a referral that is not held makes
/// the whole upload fail and leaves every row as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_the_list_is_set_on_held_referrals_only() {
    for (name, store) in databases().await {
        write(
            &store,
            vec![
                Batch::organisations(vec![
                    org("Y98", OrgLevel::Region, None),
                    org("Q98", OrgLevel::Icb, Some("Y98")),
                    org("R8A", OrgLevel::Trust, Some("Q98")),
                ]),
                Batch::freed_services(vec![ServiceRow {
                    code: "R8A-FREED".into(),
                    name: "Example FREED".into(),
                    trust_code: "R8A".into(),
                    ward_code: None,
                }]),
                Batch::freed_referrals(vec![referral("A", 0, None), referral("B", 10, Some(500))]),
            ],
            true,
        )
        .await;
        let uploads = store.uploads(None, 10).await.unwrap().len();
        write(
            &store,
            vec![Batch::freed_off_list(vec![
                ("R8A-FREED".into(), "A".into(), Some(700)),
                ("R8A-FREED".into(), "B".into(), None),
            ])],
            true,
        )
        .await;
        let all = store.freed_rows("R8A-FREED", None).await.unwrap();
        assert_eq!(
            all.referrals,
            vec![referral("A", 0, Some(700)), referral("B", 10, None)],
            "{name}"
        );
        assert_eq!(
            ids(&store.freed_rows("R8A-FREED", Some(800)).await.unwrap()),
            ["B"],
            "{name}"
        );
        assert_eq!(
            store.uploads(None, 10).await.unwrap().len(),
            uploads + 1,
            "{name}"
        );

        let mut import = store.begin_import(&meta()).await.unwrap();
        let failed = import
            .write(Batch::freed_off_list(vec![
                ("R8A-FREED".into(), "B".into(), Some(900)),
                ("R8A-FREED".into(), "NOT-HELD".into(), Some(900)),
            ]))
            .await;
        assert!(
            failed.is_err(),
            "{name}: an update of a referral not held is refused"
        );
        drop(import);
        let after = store.freed_rows("R8A-FREED", None).await.unwrap();
        assert_eq!(after.referrals, all.referrals, "{name}: nothing changed");
    }
}
