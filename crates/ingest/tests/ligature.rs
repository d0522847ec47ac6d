//! Ligature audits from a trust's spreadsheet (issue 13), on SQLite and (when configured)
//! PostgreSQL: carry-over (an imported audit, then a second that removes some points and adds
//! others, and each point's history and age read back exactly), bad input named at its line and
//! column with nothing written, a mapping of the trust's own column names, an Excel workbook.

mod common;

use common::*;
use ingest::formats::Kind;
use ingest::mapping::Mapping;
use ligature::{Banding, Change};
use time::macros::date;

const HEADER: &str = "WardCode,AuditDate,Assessor,AreaCode,AreaName,Tier,PointRef,Finding,Location,Description,PointType,HeightBand,Likelihood,Consequence,Controls,ResidualLikelihood,ResidualConsequence,ReviewDate";

fn file(rows: &[&str]) -> Vec<u8> {
    let mut s = format!("{HEADER}\n");
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s.into_bytes()
}

const FIRST: &[&str] = &[
    "R8A-ASH,2024-01-10,J. Smith,BED-01,Bedroom 1,3,ASH-001,,Above the en-suite door,Door closer arm,door,high,4,5,staff vigilance,3,5,2024-07-10",
    "R8A-ASH,2024-01-10,J. Smith,BED-01,Bedroom 1,3,ASH-002,,By the window,Curtain rail,rail,high,3,4,observation,2,3,2024-07-10",
    "R8A-ASH,2024-01-10,J. Smith,LOUNGE,Lounge,1,ASH-003,,Corner,Radiator pipe,pipe,low,2,5,observation,2,4,2024-07-10",
];

const SECOND: &[&str] = &[
    "R8A-ASH,2024-07-10,A. Jones,BED-01,Bedroom 1,3,ASH-001,present,Above the en-suite door,Door closer arm,door,high,4,5,staff vigilance,3,5,2025-01-10",
    "R8A-ASH,2024-07-10,A. Jones,BED-01,Bedroom 1,3,ASH-002,removed,By the window,Curtain rail,rail,high,3,4,observation,2,3,2025-01-10",
    "R8A-ASH,2024-07-10,A. Jones,LOUNGE,Lounge,1,ASH-003,changed,Corner,Radiator pipe,pipe,low,2,5,anti_ligature,1,3,2025-01-10",
    "R8A-ASH,2024-07-10,A. Jones,EN-01,En-suite 1,3,ASH-004,new,Shower,Shower head,sanitary,middle,4,5,restricted access,3,4,2025-01-10",
];

async fn region(db: &TestDb) {
    let mut keys = key();
    for kind in [Kind::Organisations, Kind::Wards] {
        import_example(db, &mut keys, kind).await;
    }
}

async fn import(
    db: &TestDb,
    name: &str,
    bytes: &[u8],
    mapping: &ingest::mapping::Compiled,
) -> Result<ingest::ligature::Imported, Vec<textfile::FileError>> {
    ingest::ligature::import_audit(
        &db.store,
        &ingest::ligature::AuditUpload {
            file: name,
            bytes,
            mapping,
            uploaded_by: "test",
            only_trust: None,
            now: 0,
            dry_run: false,
        },
    )
    .await
    .expect("no database failure")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carry_over_from_a_spreadsheet_to_a_second_audit() {
    for db in databases().await {
        region(&db).await;
        let none = Default::default();
        let a = import(&db, "ash-jan.csv", &file(FIRST), &none)
            .await
            .unwrap();
        assert_eq!((a.ward.as_str(), a.points), ("R8A-ASH", 3), "{}", db.name);
        let b = import(&db, "ash-jul.csv", &file(SECOND), &none)
            .await
            .unwrap();
        assert_eq!(b.points, 4);
        let held = ingest::ligature::held(&db.store, "R8A-ASH").await.unwrap();
        let reg = held.register;
        assert_eq!(reg.audits.len(), 2, "{}", db.name);
        assert_eq!(reg.open_points().count(), 3, "{}", db.name);
        let as_of = date!(2024 - 10 - 10);
        let bd = Banding::default();
        let p1 = &reg.points["ASH-001"];
        let changes: Vec<Change> = p1.history().iter().map(|h| h.finding).collect();
        assert_eq!(changes, vec![Change::New, Change::Present], "{}", db.name);
        assert_eq!(p1.age_days(as_of), 274);
        assert_eq!(p1.band_days(bd, as_of), [0, 0, 0, 274]);
        let p2 = &reg.points["ASH-002"];
        assert_eq!(p2.removed_on(), Some(date!(2024 - 07 - 10)), "{}", db.name);
        assert_eq!(p2.age_days(as_of), 182);
        let p3 = &reg.points["ASH-003"];
        assert_eq!(p3.history()[1].finding, Change::Changed);
        assert_eq!(p3.band_days(bd, as_of), [92, 0, 182, 0], "{}", db.name);
        assert_eq!(
            p3.state().controls,
            vec![ligature::ControlKind::AntiLigature]
        );
        let p4 = &reg.points["ASH-004"];
        assert_eq!(p4.first_seen(), date!(2024 - 07 - 10));
        assert_eq!(reg.areas["EN-01"].tier, ligature::Tier::Three);
        // Escalated: tier 3, extreme, vigilance only since January.
        let esc = ligature::rules::escalations(&reg, ligature::Settings::default(), as_of);
        assert_eq!(esc.len(), 1);
        assert_eq!((esc[0].point.as_str(), esc[0].days), ("ASH-001", 274));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_named_and_nothing_is_written() {
    for db in databases().await {
        region(&db).await;
        let none = Default::default();
        import(&db, "ash-jan.csv", &file(FIRST), &none)
            .await
            .unwrap();
        let before = db.store.ligature_fingerprint().await.unwrap();
        // An unknown tier, a likelihood of 6, a point in an area... of another ward's code is
        // fine as a code, so: a point missed, and a new point reusing a reference.
        let bad = file(&[
            "R8A-ASH,2024-07-10,A. Jones,BED-01,Bedroom 1,4,ASH-001,present,Above the en-suite door,Door closer arm,door,high,4,5,staff vigilance,3,5,2025-01-10",
            "R8A-ASH,2024-07-10,A. Jones,LOUNGE,Lounge,1,ASH-003,changed,Corner,Radiator pipe,pipe,low,6,5,anti_ligature,1,3,2025-01-10",
            "R8A-ASH,2024-07-10,A. Jones,LOUNGE,Lounge,1,ASH-002,new,Corner,Radiator pipe,pipe,low,2,5,anti_ligature,1,3,2025-01-10",
        ]);
        let e = import(&db, "bad.csv", &bad, &none).await.unwrap_err();
        let lines: Vec<String> = e.iter().map(|e| e.to_string()).collect();
        assert!(
            lines.contains(
                &"bad.csv:2:46: Tier: expected a CQC tier: 1, 2 or 3, found '4'".to_string()
            ),
            "{lines:?}"
        );
        assert!(
            lines.contains(
                &"bad.csv:3:91: Likelihood: expected a rating from 1 to 5, found 6".to_string()
            ),
            "{lines:?}"
        );
        assert_eq!(db.store.ligature_fingerprint().await.unwrap(), before);
        // Rows fixed, but ASH-002 is added again as new, and ASH-001 is not walked.
        let bad = file(&[
            "R8A-ASH,2024-07-10,A. Jones,LOUNGE,Lounge,1,ASH-003,changed,Corner,Radiator pipe,pipe,low,2,5,anti_ligature,1,3,2025-01-10",
            "R8A-ASH,2024-07-10,A. Jones,LOUNGE,Lounge,1,ASH-002,new,Corner,Radiator pipe,pipe,low,2,5,anti_ligature,1,3,2025-01-10",
        ]);
        let e = import(&db, "bad.csv", &bad, &none).await.unwrap_err();
        let lines: Vec<String> = e.iter().map(|e| e.to_string()).collect();
        assert!(
            lines.iter().any(|l| l.starts_with(
                "bad.csv:3:53: findings[ASH-002]: expected a new point's reference not used before"
            )),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("bad.csv:4:1: the file has no row for ASH-001")),
            "{lines:?}"
        );
        // A ward not held, and a residual above the risk before controls.
        let other = file(&[
            "R9Z-NOPE,2024-07-10,A. Jones,BED-01,Bedroom 1,3,X-1,new,Door,Hinge,door,middle,2,2,,3,3,2025-01-10",
        ]);
        let e = import(&db, "other.csv", &other, &none).await.unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "other.csv:2:1: ward 'R9Z-NOPE' is not held; expected a ward uploaded before (wards file)"
        );
        // Not a text file at all.
        let e = import(&db, "photo.csv", b"\x89PNG\r\n\x1a\n\0\0\0", &none)
            .await
            .unwrap_err();
        assert!(
            e[0].to_string()
                .starts_with("photo.csv:1:1: the file is not a text file"),
            "{e:?}"
        );
        assert_eq!(
            db.store.ligature_fingerprint().await.unwrap(),
            before,
            "{}",
            db.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusts_own_column_names_through_a_mapping() {
    for db in databases().await {
        region(&db).await;
        let theirs = FIRST
            .iter()
            .map(|r| {
                r.replace(",3,ASH", ",Tier 3,ASH")
                    .replace(",1,ASH", ",T1,ASH")
            })
            .collect::<Vec<_>>();
        let header = HEADER
            .replace("PointRef", "Ligature ID")
            .replace("Likelihood,Consequence", "L (before),C (before)");
        let mut bytes = format!("{header}\n").into_bytes();
        for r in &theirs {
            bytes.extend_from_slice(r.as_bytes());
            bytes.push(b'\n');
        }
        let m = Mapping::from_json(
            r#"{"name":"ash-audits","kind":"ligature_audits","columns":{"Ligature ID":"PointRef","L (before)":"Likelihood","C (before)":"Consequence"}}"#,
        )
        .unwrap();
        let a = import(
            &db,
            "theirs.csv",
            &bytes,
            &ingest::ligature::check_mapping(&m).unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(a.points, 3, "{}", db.name);
        let reg = ingest::ligature::held(&db.store, "R8A-ASH")
            .await
            .unwrap()
            .register;
        assert_eq!(reg.areas["BED-01"].tier, ligature::Tier::Three);
        assert_eq!(reg.points["ASH-001"].state().inherent.score(), 20);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_problems_are_listed_to_fifty_and_counted() {
    for db in databases().await {
        region(&db).await;
        let rows: Vec<String> = (0..60)
            .map(|i| format!("R8A-ASH,2024-01-10,J. Smith,BED-01,Bedroom 1,3,P-{i},new,Door,Hinge,door,high,6,5,,3,5,2024-07-10"))
            .collect();
        let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
        let e = import(&db, "many.csv", &file(&refs), &Default::default())
            .await
            .unwrap_err();
        assert_eq!(e.len(), 51, "{}", db.name);
        assert!(
            e[0].to_string()
                .contains("Likelihood: expected a rating from 1 to 5, found 6")
        );
        assert_eq!(e[50].message, "and 10 more problems after this one");
        assert!(
            db.store
                .ligature_ward_audits("R8A-ASH")
                .await
                .unwrap()
                .audits
                .is_empty()
        );
    }
}
