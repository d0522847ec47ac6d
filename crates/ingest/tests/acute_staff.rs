//! The network's uploads beyond inpatient mental health (issue 12, item 4): self-harm among
//! acute trusts' patients (`acute_self_harm`), staff self-harm and suicide as monthly counts
//! (`staff_harm`), and a trust's kind (`OrgType`), on SQLite and (when configured) PostgreSQL:
//! good files import (and a second upload updates), bad files are refused with exact
//! FILE:LINE:COLUMN messages and change nothing.

mod common;

use common::*;
use ingest::formats::Kind;
use sqlx::Row;

fn file(header: &str, rows: &[&str]) -> Vec<u8> {
    let mut s = format!("{header}\n");
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s.into_bytes()
}

const ACUTE: &str = "IncidentID,OrgCode,NHSNumber,IncidentDate,IncidentTime,Setting,PhysicalHarm";
const STAFF: &str = "OrgCode,Month,StaffSelfHarm,StaffSuicides,StaffHeadcount";

async fn region(db: &TestDb, keys: &mut ingest::pseudonym::Pseudonymiser) {
    for kind in [Kind::Organisations, Kind::Patients] {
        import_example(db, keys, kind).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_import_held_against_the_pseudonym_and_a_second_upload_updates() {
    for db in databases().await {
        let mut keys = key();
        region(&db, &mut keys).await;
        for kind in [Kind::AcuteSelfHarm, Kind::StaffHarm] {
            let r = import_example(&db, &mut keys, kind).await;
            assert_eq!(
                r.summary.unwrap().inserted,
                if kind == Kind::StaffHarm { 5 } else { 4 }
            );
        }
        assert_eq!(db.store.count("acute_self_harm").await.unwrap(), 4);
        assert_eq!(db.store.count("staff_harm_months").await.unwrap(), 5);
        for kind in [Kind::AcuteSelfHarm, Kind::StaffHarm] {
            let s = import_example(&db, &mut keys, kind).await.summary.unwrap();
            assert_eq!(
                (s.inserted, s.updated),
                (0, s.rows),
                "{}: {kind:?}",
                db.name
            );
        }
        assert_eq!(db.store.count("acute_self_harm").await.unwrap(), 4);
        let row = sqlx::query(
            "SELECT patient, setting, physical_harm, month_start FROM acute_self_harm WHERE incident_id = 'AC-503'",
        )
        .fetch_one(db.store.pool())
        .await
        .unwrap();
        let want = keys
            .pseudonym(&domain::NhsNumber::parse("9990000042").unwrap())
            .0
            .to_string();
        assert_eq!(row.get::<String, _>(0), want, "{}", db.name);
        assert_eq!(row.get::<String, _>(1), "acute_ward");
        assert_eq!(row.get::<String, _>(2), "moderate");
        let feb = domain::dates::day_number(time::macros::date!(2024 - 02 - 01));
        assert_eq!(row.get::<i64, _>(3), i64::from(feb));
        // Grouped by trust, month and setting, counted by hand from the example file.
        let counts = db
            .store
            .acute_self_harm_counts(Some("R8B"), false)
            .await
            .unwrap();
        let got: Vec<(String, i64)> = counts
            .iter()
            .map(|c| (c.setting.clone(), c.incidents))
            .collect();
        assert_eq!(
            got,
            vec![
                ("emergency_department".to_string(), 2),
                ("acute_ward".to_string(), 1),
                ("other".to_string(), 1)
            ],
            "{}",
            db.name
        );
        // By ISO week: 6 January 2024 is a Saturday (week of 1 January), 19 January a Friday
        // (week of 15 January), 3 February a Saturday (week of 29 January), 11 March a Monday.
        let weeks = db.store.acute_self_harm_counts(None, true).await.unwrap();
        let day = |d: time::Date| i64::from(domain::dates::day_number(d));
        use time::macros::date;
        assert_eq!(
            weeks
                .iter()
                .map(|c| (c.period_start, c.incidents))
                .collect::<Vec<_>>(),
            vec![
                (day(date!(2024 - 01 - 01)), 1),
                (day(date!(2024 - 01 - 15)), 1),
                (day(date!(2024 - 01 - 29)), 1),
                (day(date!(2024 - 03 - 11)), 1)
            ],
            "{}",
            db.name
        );
        assert_eq!(
            db.store.acute_self_harm_last_day().await.unwrap(),
            Some(day(date!(2024 - 03 - 11)))
        );
        assert_eq!(
            db.store
                .acute_self_harm_people(Some("R8B"), day(date!(2024 - 02 - 01)))
                .await
                .unwrap()
                .len(),
            2
        );
        // The patients upload gives the breakdown's characteristics.
        let people = db.store.acute_self_harm_people(None, 0).await.unwrap();
        assert_eq!(people.len(), 4);
        assert_eq!(people[0].birth_year, Some(1970));
        let staff = db.store.staff_harm_months(Some("R8A")).await.unwrap();
        assert_eq!(
            staff
                .iter()
                .map(|m| (m.self_harm, m.suicides, m.headcount))
                .collect::<Vec<_>>(),
            vec![(2, 0, Some(4200)), (0, 0, Some(4210)), (1, 1, Some(4195))]
        );
        assert_eq!(
            db.store.staff_harm_months(Some("R8B")).await.unwrap()[0].headcount,
            None
        );
    }
}

/// Each bad file is refused with exactly these problems, and the database is as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_are_refused_with_their_line_and_column_and_change_nothing() {
    let cases: Vec<(Kind, Vec<u8>, Vec<&str>)> = vec![
        (
            Kind::AcuteSelfHarm,
            file(
                ACUTE,
                &[
                    "AC-1,R8B,9990000042,2024-01-06,02:40,corridor,low",
                    "AC-2,R9Z,9990000042,2024-01-06,,ed,",
                    "AC-3,R8B01,9990000042,2024-01-06,,ed,",
                    "AC-4,R8B,9990000043,2024-01-06,,ed,",
                    "AC-5,R8B,9990000042,1969-01-06,,ed,",
                    "AC-6,R8B,,2024-01-06,,A&E,",
                    "AC-7,R8B,9990000042,2024-13-06,,ward,",
                    "AC-8,R8B,9990000042,2024-01-07,,ward,",
                    "AC-8,R8B,9990000042,2024-01-08,,ward,",
                ],
            ),
            vec![
                "bad.csv:2:38: Setting: 'corridor' is not a known acute setting; expected one of emergency_department, acute_ward, other",
                "bad.csv:3:6: OrgCode: trust 'R9Z' is not known; expected a trust already uploaded (upload the organisations file first)",
                "bad.csv:4:6: OrgCode: ODS code 'R8B01' is not a valid trust code; expected 3 characters starting with R, e.g. RW4",
                "bad.csv:5:10: NHSNumber: NHS number fails its modulus 11 check digit; expected a valid NHS number such as 943 476 5919",
                "bad.csv:6:21: IncidentDate: 1969-01-06 is before the patient's year of birth (1970); expected a date on or after the patient's birth (is the year mistyped, or the NHS number?)",
                "bad.csv:7:10: NHSNumber: is empty; a value is required",
                "bad.csv:8:21: IncidentDate: '2024-13-06' is not a date; expected YYYY-MM-DD or DD/MM/YYYY",
                "bad.csv:10:1: duplicate record: incident AC-8 of trust R8B is also on line 9; expected each record once per file (keep one of lines 9 and 10)",
            ],
        ),
        (
            Kind::StaffHarm,
            file(
                STAFF,
                &[
                    "R8A,2024-01,2,0,4200",
                    "R8A,2024-01,1,0,4200",
                    "R8A,2024-02,-1,0,",
                    "R8A,Feb 2024,1,0,",
                    "R8A,2024-03,12,0,10",
                    "R8A,2024-04,1,0,0",
                    "Q98,2024-05,1,0,",
                ],
            ),
            vec![
                "bad.csv:3:5: duplicate record: staff counts of trust R8A for 2024-01 is also on line 2; expected each record once per file (keep one of lines 2 and 3)",
                "bad.csv:4:13: StaffSelfHarm: '-1' is not a whole number; expected a count of 0 or more",
                "bad.csv:5:5: Month: 'Feb 2024' is not a month; expected YYYY-MM or its first day",
                "bad.csv:6:13: StaffSelfHarm: 12 is more than the staff headcount (10); expected no more staff than the trust has",
                "bad.csv:7:17: StaffHeadcount: '0' is not a headcount; expected a whole number of staff above 0 (or blank)",
                "bad.csv:8:1: OrgCode: ODS code 'Q98' is not a valid trust code; expected 3 characters starting with R, e.g. RW4",
            ],
        ),
        (
            Kind::StaffHarm,
            file(
                "OrgCode,Month,StaffSelfHarm,StaffSuicides,NHS Number,Staff_ID",
                &["R8A,2024-01,2,0,9990000018,E1"],
            ),
            vec![
                "bad.csv:1:43: column NHS Number would identify a person; staff files hold monthly counts only, never a person: remove the column",
                "bad.csv:1:54: column Staff_ID would identify a person; staff files hold monthly counts only, never a person: remove the column",
            ],
        ),
    ];
    for db in databases().await {
        let mut keys = key();
        region(&db, &mut keys).await;
        for (kind, bytes, want) in &cases {
            let before = db.store.fingerprint().await.unwrap();
            let r = import_bytes(&db, &mut keys, *kind, "bad.csv", bytes, false).await;
            assert_eq!(r.error_lines(), *want, "{}: {kind:?}", db.name);
            assert!(r.summary.is_none());
            assert_eq!(db.store.fingerprint().await.unwrap(), before, "{}", db.name);
        }
    }
}

/// An upload bound to a trust refuses another trust's rows; a trust may say it is acute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_trust_only_and_a_trusts_kind() {
    for db in databases().await {
        let mut keys = key();
        region(&db, &mut keys).await;
        let bytes = file(STAFF, &["R8B,2024-01,1,0,"]);
        let req = ingest::Request {
            kind: Kind::StaffHarm,
            file_name: "s.csv",
            bytes: &bytes,
            mapping: None,
            uploaded_by: "lead",
            only_trust: Some("R8A"),
            dry_run: false,
        };
        let r = ingest::import(&db.store, &mut keys, &req, &mut |_, _, _| {})
            .await
            .unwrap();
        assert_eq!(
            r.error_lines(),
            vec!["s.csv:2:1: OrgCode: 'R8B' is another trust; you can upload only for R8A"]
        );
        let orgs = file(
            "OrgCode,OrgName,OrgLevel,ParentOrgCode,OrgType",
            &[
                "R8C,Example Acute Hospitals NHS Trust,trust,Q98,acute",
                "R8C01,Example General Hospital,site,R8C,",
            ],
        );
        let r = import_bytes(&db, &mut keys, Kind::Organisations, "o.csv", &orgs, false).await;
        assert!(r.ok(), "{:?}", r.error_lines());
        assert_eq!(
            db.store.organisation_types().await.unwrap(),
            vec![
                ("R8A".to_string(), "mental_health".to_string()),
                ("R8B".to_string(), "mental_health".to_string()),
                ("R8C".to_string(), "acute".to_string())
            ]
        );
        let bad = file(
            "OrgCode,OrgName,OrgLevel,ParentOrgCode,OrgType",
            &["R8C02,Clinic,site,R8C,acute", "R8D,X,trust,Q98,hospice"],
        );
        let r = import_bytes(&db, &mut keys, Kind::Organisations, "o.csv", &bad, false).await;
        assert_eq!(
            r.error_lines(),
            vec![
                "o.csv:2:23: OrgType: is given for a site; expected it only for a trust (or blank)",
                "o.csv:3:17: OrgType: 'hospice' is not a known kind of trust; expected one of mental_health, acute",
            ]
        );
        // The acute trust's incidents import.
        let acute = file(ACUTE, &["X-1,R8C,9990000018,2024-05-02,,ED,"]);
        let r = import_bytes(&db, &mut keys, Kind::AcuteSelfHarm, "a.csv", &acute, false).await;
        assert!(r.ok(), "{:?}", r.error_lines());
        assert_eq!(r.by_trust, vec![("R8C".to_string(), 1)]);
    }
}
