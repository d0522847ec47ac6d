//! FREED uploads (issue 14): services, referrals, contacts, pauses and discharges, checked by
//! `pathway` as whole referrals, all or nothing, on SQLite and (when configured) PostgreSQL.

mod common;

use common::*;
use ingest::formats::Kind;
use ingest::mapping::Mapping;
use sqlx::Row;

const REFERRAL_HEADER: &str = "ServiceCode,ServiceRequestId,NHSNumber,ReferralRequestReceivedDate,ReferralRequestReceivedTime,SourceOfReferral,AgeServReferRecDate,FirstEpisode,OnsetDate,EDDiagnosisGroup,ClinRespPriorityType";
const CONTACT_HEADER: &str = "ServiceCode,ServiceRequestId,CareContactId,FREEDContactType,CareContDate,CareContTime,AttendOrDNACode";

fn file(header: &str, rows: &[&str]) -> Vec<u8> {
    let mut s = format!("{header}\n");
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s.into_bytes()
}

/// The example region with its FREED services (organisations and wards first).
async fn with_services(db: &TestDb, keys: &mut ingest::pseudonym::Pseudonymiser) {
    for kind in [Kind::Organisations, Kind::Wards, Kind::FreedServices] {
        import_example(db, keys, kind).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_import_and_a_second_upload_updates() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let counts = [
            ("freed_services", 2),
            ("freed_referrals", 6),
            ("freed_contacts", 8),
            ("freed_pauses", 1),
            ("freed_discharges", 2),
        ];
        for (t, n) in counts {
            assert_eq!(db.store.count(t).await.unwrap(), n, "{}: {t}", db.name);
        }
        for kind in [
            Kind::FreedServices,
            Kind::FreedReferrals,
            Kind::FreedContacts,
            Kind::FreedPauses,
            Kind::FreedDischarges,
        ] {
            let r = import_example(&db, &mut keys, kind).await;
            let s = r.summary.unwrap();
            assert_eq!(
                s.inserted, 0,
                "{}: {kind:?} inserted nothing again",
                db.name
            );
            assert_eq!(s.updated, s.rows, "{}: {kind:?}", db.name);
        }
        for (t, n) in counts {
            assert_eq!(db.store.count(t).await.unwrap(), n, "{}: {t}", db.name);
        }
        // Held against the same pseudonym as the safety data, never the NHS number.
        let row = sqlx::query(
            "SELECT patient FROM freed_referrals WHERE service_code = 'R8A-FREED' AND referral_id = 'FR-2024-0001'",
        )
        .fetch_one(db.store.pool())
        .await
        .unwrap();
        let want = keys
            .pseudonym(&domain::NhsNumber::parse("9990000077").unwrap())
            .0
            .to_string();
        assert_eq!(row.get::<String, _>(0), want, "{}", db.name);
        for table in ["freed_referrals", "freed_contacts"] {
            let n: i64 = sqlx::query(&format!(
                "SELECT COUNT(*) FROM {table} WHERE {} LIKE '%9990000077%' OR {} LIKE '%999 000 0077%'",
                if table == "freed_referrals" { "patient" } else { "referral_id" },
                if table == "freed_referrals" { "patient" } else { "contact_id" },
            ))
            .fetch_one(db.store.pool())
            .await
            .unwrap()
            .get(0);
            assert_eq!(n, 0, "{}: no NHS number in {table}", db.name);
        }
        // What is held reads back as pathway referrals, events and all.
        let held =
            ingest::freed::held_referrals(db.store.freed_rows("R8A-FREED", None).await.unwrap())
                .unwrap();
        assert_eq!(held.len(), 4, "{}", db.name);
        let r1 = &held[0].referral;
        assert_eq!(r1.id, "FR-2024-0001");
        assert_eq!(r1.contacts.len(), 3, "{}", db.name);
        assert_eq!(held[0].contact_ids, ["C-1", "C-2", "C-3"], "{}", db.name);
        assert_eq!(
            r1.onset,
            pathway::Onset::Month {
                year: 2023,
                month: time::Month::November
            }
        );
        let r2 = &held[1].referral;
        assert_eq!(r2.pauses.len(), 1);
        assert_eq!(r2.onset, pathway::Onset::Year(2023));
        assert_eq!(
            r2.contacts[1].attendance,
            pathway::Attendance::DidNotAttend,
            "code 7 did not attend"
        );
        let r4 = &held[3].referral;
        assert_eq!(r4.discharges.len(), 1);
        assert!(r4.discharges[0].reopened.is_some());
        assert_eq!(r4.age_at_referral, None);
        assert_eq!(r4.onset, pathway::Onset::Unknown);
        assert!(r4.validate().is_ok());
    }
}

/// One refused file: its single error, and nothing changed.
async fn refused(
    db: &TestDb,
    keys: &mut ingest::pseudonym::Pseudonymiser,
    kind: Kind,
    bytes: &[u8],
) -> Vec<String> {
    let before = db.store.fingerprint().await.unwrap();
    let r = import_bytes(db, keys, kind, "bad.csv", bytes, false).await;
    assert!(!r.ok(), "{}: refused", db.name);
    assert!(r.summary.is_none());
    assert_eq!(
        db.store.fingerprint().await.unwrap(),
        before,
        "{}: nothing imported",
        db.name
    );
    r.error_lines()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_whole_with_file_line_and_column() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;

        // A treatment before the referral: pathway's rule, on the contact's date.
        let e = refused(
            &db,
            &mut keys,
            Kind::FreedContacts,
            &file(
                CONTACT_HEADER,
                &[
                    "R8A-FREED,FR-2024-0002,C-90,assessment,2024-03-20,10:00,5",
                    "R8A-FREED,FR-2024-0002,C-91,first_treatment,2024-03-02,10:00,5",
                ],
            ),
        )
        .await;
        assert_eq!(
            e,
            [
                "bad.csv:3:45: CareContDate: expected on or after the referral received at 2024-03-04 09:15, found 2024-03-02 10:00"
            ],
            "{}",
            db.name
        );

        // An onset after the referral.
        let e = refused(
            &db,
            &mut keys,
            Kind::FreedReferrals,
            &file(
                REFERRAL_HEADER,
                &["R8A-FREED,FR-9,9990000018,2024-03-01,10:00,gp,20,Y,2024-04,AN,routine"],
            ),
        )
        .await;
        assert_eq!(
            e,
            [
                "bad.csv:2:52: OnsetDate: expected on or before the referral date 2024-03-01, found 2024-04 (a month)"
            ],
            "{}",
            db.name
        );

        // An unknown diagnosis code.
        let e = refused(
            &db,
            &mut keys,
            Kind::FreedReferrals,
            &file(
                REFERRAL_HEADER,
                &["R8A-FREED,FR-9,9990000018,2024-03-01,10:00,gp,20,Y,2023-04,F50.0,routine"],
            ),
        )
        .await;
        assert_eq!(
            e,
            [
                "bad.csv:2:60: EDDiagnosisGroup: expected one of AN, BN, BED, OSFED, ARFID, OTHER, NYK, found 'F50.0'"
            ],
            "{}",
            db.name
        );

        // A referral for a service that does not exist.
        let e = refused(
            &db,
            &mut keys,
            Kind::FreedReferrals,
            &file(
                REFERRAL_HEADER,
                &[
                    "R8A-FREED,FR-8,9990000018,2024-03-01,10:00,gp,20,Y,2023-04,AN,routine",
                    "R9Z-FREED,FR-9,9990000018,2024-03-01,10:00,gp,20,Y,2023-04,AN,routine",
                ],
            ),
        )
        .await;
        assert_eq!(
            e,
            [
                "bad.csv:3:1: ServiceCode: service 'R9Z-FREED' is not known; expected a service already uploaded (upload the freed_services file first)"
            ],
            "{}",
            db.name
        );

        // A contact for a referral that is not held.
        let e = refused(
            &db,
            &mut keys,
            Kind::FreedContacts,
            &file(
                CONTACT_HEADER,
                &["R8A-FREED,FR-404,C-92,assessment,2024-03-20,10:00,5"],
            ),
        )
        .await;
        assert_eq!(
            e,
            [
                "bad.csv:2:11: ServiceRequestId: referral 'FR-404' of service R8A-FREED is not known; expected a referral already uploaded (upload the freed_referrals file first)"
            ],
            "{}",
            db.name
        );

        // An attendance code MHSDS does not have.
        let e = refused(
            &db,
            &mut keys,
            Kind::FreedContacts,
            &file(
                CONTACT_HEADER,
                &["R8A-FREED,FR-2024-0002,C-93,assessment,2024-03-20,10:00,9"],
            ),
        )
        .await;
        assert_eq!(
            e,
            [
                "bad.csv:2:57: AttendOrDNACode: expected an MHSDS attendance code 2, 3, 4, 5, 6 or 7, found '9'"
            ],
            "{}",
            db.name
        );

        // Moving a held referral's receipt after its held contacts: reported on the referral
        // row, naming the contact already held.
        let e = refused(
            &db,
            &mut keys,
            Kind::FreedReferrals,
            &file(
                REFERRAL_HEADER,
                &["R8A-FREED,FR-2024-0001,,2024-03-10,10:00,gp,19,Y,2023-11,AN,routine"],
            ),
        )
        .await;
        assert_eq!(e.len(), 1, "{}: {e:?}", db.name);
        assert!(
            e[0] == "bad.csv:2:25: ReferralRequestReceivedDate: expected on or after the referral received at 2024-03-10 10:00, found 2024-03-04 09:00 (contact C-1 at 2024-03-04 09:00 already held for referral FR-2024-0001 of service R8A-FREED would no longer fit)",
            "{}: {e:?}",
            db.name
        );

        // A new referral needs its NHS number.
        let e = refused(
            &db,
            &mut keys,
            Kind::FreedReferrals,
            &file(
                REFERRAL_HEADER,
                &["R8A-FREED,FR-10,,2024-03-01,10:00,gp,20,Y,2023-04,AN,routine"],
            ),
        )
        .await;
        assert_eq!(
            e,
            [
                "bad.csv:2:17: NHSNumber: is empty; a new referral needs the patient's NHS number (it may be blank only to correct a referral already held)"
            ],
            "{}",
            db.name
        );

        // A second discharge after one never reopened.
        let e = refused(
            &db,
            &mut keys,
            Kind::FreedDischarges,
            &file(
                "ServiceCode,ServiceRequestId,ServDischDate,ServDischTime,ReferClosReason",
                &["R8B-FREED,FB-78,2024-03-09,12:00,other"],
            ),
        )
        .await;
        assert_eq!(e.len(), 1, "{}: {e:?}", db.name);
        assert!(
            e[0].starts_with("bad.csv:2:17: ServDischDate: expected no discharge after one that was never reopened"),
            "{}: {e:?}",
            db.name
        );

        // A service of a trust that is not held, and one on another trust's ward.
        let e = refused(
            &db,
            &mut keys,
            Kind::FreedServices,
            &file(
                "ServiceCode,ServiceName,OrgCode,WardCode",
                &["R8C-FREED,X,R8C,", "R8A-ED,Y,R8A,R8B-CEDAR"],
            ),
        )
        .await;
        assert_eq!(
            e,
            [
                "bad.csv:2:13: OrgCode: trust 'R8C' is not known; expected a trust already uploaded (upload the organisations file first)",
                "bad.csv:3:14: WardCode: ward 'R8B-CEDAR' belongs to trust R8B, not R8A; expected a ward of the service's own trust",
            ],
            "{}",
            db.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_keeps_the_patient_and_the_events() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let before: String = sqlx::query(
            "SELECT patient FROM freed_referrals WHERE service_code = 'R8A-FREED' AND referral_id = 'FR-2024-0003'",
        )
        .fetch_one(db.store.pool())
        .await
        .unwrap()
        .get(0);
        let r = import_bytes(
            &db,
            &mut keys,
            Kind::FreedReferrals,
            "fix.csv",
            &file(
                REFERRAL_HEADER,
                &["R8A-FREED,FR-2024-0003,,2024-03-05,14:00,gp,17,Y,2023-12,ARFID,routine"],
            ),
            false,
        )
        .await;
        assert!(r.ok(), "{}: {:?}", db.name, r.error_lines());
        let row = sqlx::query(
            "SELECT patient, priority, onset_precision FROM freed_referrals WHERE service_code = 'R8A-FREED' AND referral_id = 'FR-2024-0003'",
        )
        .fetch_one(db.store.pool())
        .await
        .unwrap();
        assert_eq!(row.get::<String, _>(0), before, "{}", db.name);
        assert_eq!(row.get::<String, _>(1), "routine");
        assert_eq!(row.get::<String, _>(2), "month");
        assert_eq!(db.store.count("freed_contacts").await.unwrap(), 8);
    }
}

/// A service's own Excel export, with its own column names and codes, through a saved mapping.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_excel_export_imports_through_a_saved_mapping() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    let header = [
        "Team",
        "Ref",
        "NHS No",
        "Received",
        "Time",
        "Referred by",
        "Age",
        "First episode?",
        "Onset",
        "Diagnosis",
        "Priority",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let rows = [
        [
            "R8A-FREED",
            "X-1",
            "999 000 0018",
            "01/04/2024",
            "08:30",
            "Self",
            "18",
            "Yes",
            "2024",
            "Anorexia",
            "Routine",
        ],
        [
            "R8A-FREED",
            "X-2",
            "999 000 0026",
            "02/04/2024",
            "13:05",
            "GP",
            "24",
            "Yes",
            "10/2023",
            "Bulimia",
            "Urgent",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    let xlsx = wb.save_to_buffer().unwrap();
    let mapping = Mapping::from_json(
        r#"{"name": "r8a-freed", "kind": "freed_referrals",
            "columns": {"Team": "ServiceCode", "Ref": "ServiceRequestId", "NHS No": "NHSNumber",
              "Received": "ReferralRequestReceivedDate", "Time": "ReferralRequestReceivedTime",
              "Referred by": "SourceOfReferral", "Age": "AgeServReferRecDate",
              "First episode?": "FirstEpisode", "Onset": "OnsetDate", "Diagnosis": "EDDiagnosisGroup",
              "Priority": "ClinRespPriorityType"},
            "values": {"EDDiagnosisGroup": {"Anorexia": "AN", "Bulimia": "BN"}}}"#,
    )
    .unwrap();
    for db in databases().await {
        let mut keys = key();
        with_services(&db, &mut keys).await;
        let req = ingest::Request {
            kind: Kind::FreedReferrals,
            file_name: "export.xlsx",
            bytes: &xlsx,
            mapping: Some(&mapping),
            uploaded_by: "test",
            only_trust: Some("R8A"),
            dry_run: false,
        };
        let r = ingest::import(&db.store, &mut keys, &req, &mut |_, _, _| {})
            .await
            .unwrap();
        assert!(r.ok(), "{}: {:?}", db.name, r.error_lines());
        assert_eq!(r.by_trust, [("R8A".to_string(), 2)]);
        let held =
            ingest::freed::held_referrals(db.store.freed_rows("R8A-FREED", None).await.unwrap())
                .unwrap();
        assert_eq!(
            held[1].referral.diagnosis,
            pathway::DiagnosisGroup::BulimiaNervosa
        );
        assert_eq!(held[1].referral.priority, pathway::Priority::Urgent);
        assert_eq!(
            held[1].referral.received,
            time::macros::datetime!(2024-04-02 13:05)
        );

        // Another trust's uploader cannot name this service.
        let req = ingest::Request {
            only_trust: Some("R8B"),
            ..req
        };
        let r = ingest::import(&db.store, &mut keys, &req, &mut |_, _, _| {})
            .await
            .unwrap();
        assert!(!r.ok());
        assert!(
            r.error_lines()[0].contains("Team (ServiceCode): service 'R8A-FREED' belongs to trust R8A; you can upload only for R8B"),
            "{:?}",
            r.error_lines()
        );
    }
}

/// What the store reads for a waiting list (`off_list_min`, kept by every upload) never
/// leaves out a referral `pathway` puts on it, at any time, on every engine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waiting_list_read_narrowly_is_the_whole_waiting_list() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        // A treatment that was not attended, and one attended, for FR-2024-0002.
        let r = import_bytes(
            &db,
            &mut keys,
            Kind::FreedContacts,
            "more.csv",
            &file(
                CONTACT_HEADER,
                &[
                    "R8A-FREED,FR-2024-0002,C-20,first_treatment,2024-03-28,10:00,3",
                    "R8A-FREED,FR-2024-0002,C-21,first_treatment,2024-04-02,10:00,5",
                ],
            ),
            false,
        )
        .await;
        assert!(r.ok(), "{:?}", r.error_lines());
        let off: Option<i64> = sqlx::query(
            "SELECT off_list_min FROM freed_referrals WHERE service_code = 'R8A-FREED' AND referral_id = 'FR-2024-0002'",
        )
        .fetch_one(db.store.pool())
        .await
        .unwrap()
        .get(0);
        assert_eq!(
            off,
            Some(domain::dates::minute_number(
                time::macros::datetime!(2024-04-02 10:00)
            )),
            "{}: the attended treatment takes it off the list",
            db.name
        );
        for service in ["R8A-FREED", "R8B-FREED"] {
            let all: Vec<pathway::Referral> =
                ingest::freed::held_referrals(db.store.freed_rows(service, None).await.unwrap())
                    .unwrap()
                    .into_iter()
                    .map(|h| h.referral)
                    .collect();
            let mut t = time::macros::datetime!(2024-02-28 00:00);
            while t < time::macros::datetime!(2024-04-15 00:00) {
                let some: Vec<pathway::Referral> = ingest::freed::held_referrals(
                    db.store
                        .freed_rows(service, Some(domain::dates::minute_number(t)))
                        .await
                        .unwrap(),
                )
                .unwrap()
                .into_iter()
                .map(|h| h.referral)
                .collect();
                let ids = |rs: &[pathway::Referral]| -> Vec<(String, i64)> {
                    pathway::service_waiting_list(rs, service, t)
                        .iter()
                        .map(|w| (w.referral.id.clone(), w.most_urgent.minutes_left()))
                        .collect()
                };
                assert_eq!(ids(&some), ids(&all), "{}: {service} at {t}", db.name);
                t += time::Duration::hours(5);
            }
        }
    }
}

/// A small upload into a large service reads only the referrals it names (by key), yet checks
/// each as a whole and refuses one that is not held exactly as before; a file that names most
/// of a service reads it whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_upload_reads_only_the_referrals_it_names() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let rows: Vec<String> = (0..40)
            .map(|i| {
                format!(
                    "R8A-FREED,BIG-{i:03},9990000018,2024-03-{:02},09:00,gp,19,Y,2023-11,AN,routine",
                    1 + i % 28
                )
            })
            .collect();
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        let r = import_bytes(
            &db,
            &mut keys,
            Kind::FreedReferrals,
            "big.csv",
            &file(REFERRAL_HEADER, &rows),
            false,
        )
        .await;
        assert!(r.ok(), "{}: {:?}", db.name, r.error_lines());
        // 40 new referrals for a service holding 4: the service is read whole (all 4).
        let held_before = r.reference_read.freed_referrals;
        assert_eq!(held_before, 4, "{}: {:?}", db.name, r.reference_read);
        // Two contacts of one referral, and an engagement call of another.
        let r = import_bytes(
            &db,
            &mut keys,
            Kind::FreedContacts,
            "few.csv",
            &file(
                CONTACT_HEADER,
                &[
                    "R8A-FREED,BIG-007,C-700,engagement_call,2024-03-08,10:00,5",
                    " r8a-freed , BIG-007 ,C-701,first_treatment,2024-03-20,10:00,5",
                    "R8A-FREED,BIG-011,C-710,engagement_call,2024-03-12,11:00,5",
                ],
            ),
            false,
        )
        .await;
        assert!(r.ok(), "{}: {:?}", db.name, r.error_lines());
        assert_eq!(
            r.reference_read.freed_referrals, 2,
            "{}: only the two referrals named are read",
            db.name
        );
        let held = ingest::freed::held_referrals(
            db.store
                .freed_referral("R8A-FREED", "BIG-007")
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(held[0].referral.contacts.len(), 2, "{}", db.name);
        assert_eq!(
            ingest::freed::off_list(&held[0].referral),
            Some(time::macros::datetime!(2024-03-20 10:00)),
            "{}: the treatment takes it off the list",
            db.name
        );
        // Still checked whole against what is held: a treatment before the referral of a
        // referral read by key is refused on its row.
        let e = refused(
            &db,
            &mut keys,
            Kind::FreedContacts,
            &file(
                CONTACT_HEADER,
                &["R8A-FREED,BIG-020,C-720,first_treatment,2024-01-02,10:00,5"],
            ),
        )
        .await;
        assert_eq!(e.len(), 1, "{}: {e:?}", db.name);
        assert!(
            e[0].starts_with("bad.csv:2:") && e[0].contains("CareContDate"),
            "{}: {e:?}",
            db.name
        );
        // A referral that is not held is refused exactly as before, and nothing changes.
        let e = refused(
            &db,
            &mut keys,
            Kind::FreedContacts,
            &file(
                CONTACT_HEADER,
                &[
                    "R8A-FREED,BIG-012,C-730,engagement_call,2024-03-13,11:00,5",
                    "R8A-FREED,FR-404,C-92,assessment,2024-03-20,10:00,5",
                ],
            ),
        )
        .await;
        assert_eq!(
            e,
            [
                "bad.csv:3:11: ServiceRequestId: referral 'FR-404' of service R8A-FREED is not known; expected a referral already uploaded (upload the freed_referrals file first)"
            ],
            "{}",
            db.name
        );
    }
}

/// The speed of a large upload: 100,000 referrals, then their 250,000 contacts. Run with
/// `cargo test -p ingest --test freed -- --ignored --nocapture` (debug timings are slower).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn speed_100k_referrals_with_contacts() {
    let n = 100_000usize;
    let mut refs = format!("{REFERRAL_HEADER}\n");
    let mut contacts = format!("{CONTACT_HEADER}\n");
    let nhs: Vec<String> = (0..2000u32)
        .filter_map(|i| {
            (0..10).find_map(|c| {
                let s = format!("9990{i:05}{c}");
                domain::NhsNumber::parse(&s).ok().map(|_| s)
            })
        })
        .collect();
    for i in 0..n {
        let day = 1 + (i % 28);
        let month = 1 + (i / 28) % 12;
        refs.push_str(&format!(
            "R8A-FREED,S-{i},{},2024-{month:02}-{day:02},{:02}:{:02},gp,{},Y,2023-{month:02},AN,routine\n",
            nhs[i % nhs.len()],
            i % 24,
            i % 60,
            16 + i % 10
        ));
        contacts.push_str(&format!(
            "R8A-FREED,S-{i},E-{i},engagement_call,2024-{month:02}-{day:02},23:59,5\n"
        ));
        if i % 2 == 0 {
            contacts.push_str(&format!(
                "R8A-FREED,S-{i},A-{i},assessment,2024-{:02}-{:02},12:00,5\n",
                month.min(12),
                (day + 1).min(28)
            ));
        }
    }
    for db in databases().await {
        let mut keys = key();
        with_services(&db, &mut keys).await;
        let t = std::time::Instant::now();
        let r = import_bytes(
            &db,
            &mut keys,
            Kind::FreedReferrals,
            "r.csv",
            refs.as_bytes(),
            false,
        )
        .await;
        assert!(r.ok(), "{:?}", &r.error_lines()[..r.errors.len().min(3)]);
        let referrals = t.elapsed();
        let t = std::time::Instant::now();
        let c = import_bytes(
            &db,
            &mut keys,
            Kind::FreedContacts,
            "c.csv",
            contacts.as_bytes(),
            false,
        )
        .await;
        assert!(c.ok(), "{:?}", &c.error_lines()[..c.errors.len().min(3)]);
        println!(
            "{}: {n} referrals in {:.2} s, {} contacts in {:.2} s",
            db.name,
            referrals.as_secs_f64(),
            c.rows_read,
            t.elapsed().as_secs_f64()
        );
    }
}
