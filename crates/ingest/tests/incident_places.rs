//! Self-harm incidents at the place (issue 13, item 4), on SQLite and (when configured)
//! PostgreSQL: an incidents file may name the ward's ligature register's area and point and the
//! method; every earlier file imports unchanged; a place of another ward (or one the register
//! does not hold), an area that disagrees with its point, or a place on an incident that is not
//! self-harm is refused at its FILE:LINE:COLUMN with nothing written.

mod common;

use common::*;
use ingest::formats::Kind;

const LIG_HEADER: &str = "WardCode,AuditDate,Assessor,AreaCode,AreaName,Tier,PointRef,Finding,Location,Description,PointType,HeightBand,Likelihood,Consequence,Controls,ResidualLikelihood,ResidualConsequence,ReviewDate";

const ASH: &[&str] = &[
    "R8A-ASH,2024-01-10,J. Smith,BED-01,Bedroom 1,3,ASH-001,,Above the en-suite door,Door closer arm,door,high,4,5,staff vigilance,3,5,2024-07-10",
    "R8A-ASH,2024-01-10,J. Smith,LOUNGE,Lounge,1,ASH-003,,Corner,Radiator pipe,pipe,low,2,5,observation,2,4,2024-07-10",
];
const CEDAR: &[&str] = &[
    "R8B-CEDAR,2024-02-01,K. Jones,BED-02,Bedroom 2,3,CED-01,,Window,Curtain rail,rail,high,4,5,observation,3,4,2024-08-01",
];

const INC_HEADER: &str = "IncidentID,IncidentKind,WardCode,IncidentDate,PhysicalHarm,SexualSafetyCategory,SelfHarmMethod,LigatureAreaCode,LigaturePointRef";

/// An incident's identifier, area, point and method as read back.
type Place = (String, Option<String>, Option<String>, Option<String>);

fn incidents(rows: &[&str]) -> Vec<u8> {
    let mut s = format!("{INC_HEADER}\n");
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s.into_bytes()
}

async fn registers(db: &TestDb) {
    let mut keys = key();
    for kind in [Kind::Organisations, Kind::Wards] {
        import_example(db, &mut keys, kind).await;
    }
    let mapping = ingest::mapping::Compiled::default();
    for (name, rows) in [("ash.csv", ASH), ("cedar.csv", CEDAR)] {
        let mut s = format!("{LIG_HEADER}\n");
        for r in rows {
            s.push_str(r);
            s.push('\n');
        }
        let r = ingest::ligature::import_audit(
            &db.store,
            &ingest::ligature::AuditUpload {
                file: name,
                bytes: s.as_bytes(),
                mapping: &mapping,
                uploaded_by: "test",
                only_trust: None,
                now: 0,
                dry_run: false,
            },
        )
        .await
        .expect("no database failure");
        assert!(r.is_ok(), "{}: {name}: {:?}", db.name, r.err());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_name_their_place_on_the_wards_own_register() {
    for db in databases().await {
        let n = db.name;
        registers(&db).await;
        let mut keys = key();
        // The example file (no place columns) imports unchanged.
        import_example(&db, &mut keys, Kind::Incidents).await;
        let before = db.store.count("incidents").await.unwrap();
        let r = import_bytes(
            &db,
            &mut keys,
            Kind::Incidents,
            "places.csv",
            &incidents(&[
                // A point: its area follows from the register.
                "P-1,self_harm,R8A-ASH,2024-03-02,low,,ligature_anchor,,ash-001",
                // An area alone, with the method by its label.
                "P-2,self_harm,R8A-ASH,2024-04-01,none,,Ligature without an anchor point,LOUNGE,",
                // Both, agreeing.
                "P-3,self_harm,R8A-ASH,2024-05-01,moderate,,cutting,BED-01,ASH-001",
                // Neither: as before.
                "P-4,self_harm,R8A-ASH,2024-05-02,low,,,,",
                "P-5,self_harm,R8B-CEDAR,2024-05-03,low,,ligature_anchor,BED-02,CED-01",
            ]),
            false,
        )
        .await;
        assert!(r.ok(), "{n}: {:?}", r.error_lines());
        assert_eq!(db.store.count("incidents").await.unwrap(), before + 5);
        let at: Vec<Place> = db
            .store
            .ligature_incidents("R8A-ASH")
            .await
            .unwrap()
            .into_iter()
            .map(|i| (i.local_id, i.ligature_area, i.ligature_point, i.method))
            .collect();
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            at,
            vec![
                (
                    "P-1".into(),
                    s("BED-01"),
                    s("ASH-001"),
                    s("ligature_anchor")
                ),
                ("P-2".into(), s("LOUNGE"), None, s("ligature_no_anchor")),
                ("P-3".into(), s("BED-01"), s("ASH-001"), s("cutting")),
            ],
            "{n}"
        );
        let trust: Vec<String> = db
            .store
            .ligature_incidents_of_trust("R8B")
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.local_id)
            .collect();
        assert_eq!(trust, ["P-5"], "{n}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_place_of_another_ward_is_refused_and_nothing_changes() {
    for db in databases().await {
        let n = db.name;
        registers(&db).await;
        let mut keys = key();
        let before = db.store.count("incidents").await.unwrap();
        let cases: &[(&str, &str)] = &[
            // Cedar's area and point, named on an incident at Ash.
            (
                "X-1,self_harm,R8A-ASH,2024-03-02,low,,ligature_anchor,BED-02,",
                "LigatureAreaCode: 'BED-02' is not an area of ward R8A-ASH's ligature register (an area of another ward?); expected one of BED-01, LOUNGE",
            ),
            (
                "X-2,self_harm,R8A-ASH,2024-03-02,low,,ligature_anchor,,CED-01",
                "LigaturePointRef: 'CED-01' is not a point of ward R8A-ASH's ligature register (a point of another ward?); expected one of its points: ASH-001, ASH-003",
            ),
            // A point and an area that disagree.
            (
                "X-3,self_harm,R8A-ASH,2024-03-02,low,,ligature_anchor,LOUNGE,ASH-001",
                "LigatureAreaCode: is LOUNGE, but point ASH-001 is in area BED-01 of ward R8A-ASH's ligature register; expected BED-01 (or blank)",
            ),
            // A place or a method on an incident that is not self-harm.
            (
                "X-4,other,R8A-ASH,2024-03-02,low,,,BED-01,",
                "LigatureAreaCode: is given for an incident of kind other; expected it only for self_harm (or blank)",
            ),
            (
                "X-5,sexual_safety,R8A-ASH,2024-03-02,low,verbal,cutting,,",
                "SelfHarmMethod: is given for an incident of kind sexual_safety; expected it only for self_harm (or blank)",
            ),
            // An unknown method.
            (
                "X-6,self_harm,R8A-ASH,2024-03-02,low,,rope,,",
                "SelfHarmMethod: 'rope' is not a known self-harm method; expected one of ligature_anchor, ligature_no_anchor, self_poisoning, cutting, swallowing, hitting, burning, jumping, suffocation, other, unknown",
            ),
            // A ward without a register.
            (
                "X-7,self_harm,R8A-BIRCH,2024-03-02,low,,ligature_anchor,BED-01,",
                "LigatureAreaCode: 'BED-01' is not an area of ward R8A-BIRCH's ligature register, which has no areas yet; expected an area of the incident's own ward (or blank)",
            ),
        ];
        for (row, expected) in cases {
            // A good row first: the file is refused whole.
            let r = import_bytes(
                &db,
                &mut keys,
                Kind::Incidents,
                "bad.csv",
                &incidents(&["OK-1,self_harm,R8A-ASH,2024-03-01,low,,,BED-01,", row]),
                false,
            )
            .await;
            // FILE:LINE:COLUMN, the column being where the named field starts on line 3.
            let col = expected.split_once(':').unwrap().0;
            let k = INC_HEADER.split(',').position(|h| h == col).unwrap();
            let column = 1 + row.split(',').take(k).map(|f| f.len() + 1).sum::<usize>();
            let lines = r.error_lines();
            assert_eq!(
                lines,
                [format!("bad.csv:3:{column}: {expected}")],
                "{n}: {row}"
            );
            assert_eq!(
                db.store.count("incidents").await.unwrap(),
                before,
                "{n}: {row}: nothing written"
            );
        }
        // An uploader of R8A cannot name R8B's places (its ward is refused first).
        let req = ingest::Request {
            kind: Kind::Incidents,
            file_name: "other-trust.csv",
            bytes: &incidents(&["Y-1,self_harm,R8B-CEDAR,2024-03-02,low,,,BED-02,CED-01"]),
            mapping: None,
            uploaded_by: "test",
            only_trust: Some("R8A"),
            dry_run: false,
        };
        let r = ingest::import(&db.store, &mut keys, &req, &mut |_, _, _| {})
            .await
            .unwrap();
        assert!(!r.ok(), "{n}");
        assert_eq!(db.store.count("incidents").await.unwrap(), before, "{n}");
    }
}
