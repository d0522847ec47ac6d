//! Checking an upload reads only what its rows need: the stays of the trusts whose wards the
//! file names (never another trust's), and, in a small file, the years of birth of its own
//! patients, with the same results as when everything was loaded.

mod common;
use common::*;
use ingest::formats::Kind;

const RI_HEADER: &str = "RestrictiveIntIncID,RestrictiveIntTypeID,NHSNumber,WardCode,StartDateRestrictiveIntInc,StartTimeRestrictiveIntInc,EndDateRestrictiveIntInc,EndTimeRestrictiveIntInc,RestrictiveIntReason,PostIncidentReviewPatient,PostIncidentReviewStaff,RestrictiveIntType,StartDateRestrictiveIntType,StartTimeRestrictiveIntType,EndDateRestrictiveIntType,EndTimeRestrictiveIntType,PatientInjury,StaffInjury,OtherPersonInjury";

/// One intervention for `nhs` on `ward` on `date`.
fn ri(id: &str, nhs: &str, ward: &str, date: &str) -> String {
    format!(
        "{id},1,{nhs},{ward},{date},14:05,{date},14:40,10,Y,Y,01,{date},14:06,{date},14:18,N,N,N"
    )
}

async fn stays_at(db: &TestDb, trust: &str) -> u64 {
    db.store.stays_for_trust(trust).await.unwrap().len() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_for_one_trust_reads_only_that_trusts_stays() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let (r8a, r8b) = (stays_at(&db, "R8A").await, stays_at(&db, "R8B").await);
        assert!(
            r8a > 0 && r8b > 0,
            "{}: the examples hold stays at both trusts",
            db.name
        );

        // One trust's wards only: its stays are read, the other trust's never.
        let file = format!(
            "{RI_HEADER}\n{}\n{}\n",
            ri("NEW-1", "9990000018", "R8A-ASH", "2024-01-13"),
            ri("NEW-2", "9990000026", "R8A-ASH", "2024-01-21"),
        );
        let r = import_bytes(
            &db,
            &mut keys,
            Kind::RestrictiveInterventions,
            "ri.csv",
            file.as_bytes(),
            true,
        )
        .await;
        assert!(r.ok(), "{}: {:?}", db.name, r.error_lines());
        let read = &r.reference_read;
        assert_eq!(read.stay_trusts, vec!["R8A".to_string()], "{}", db.name);
        assert_eq!(read.stays, r8a, "{}: R8A's stays and no other", db.name);
        assert_eq!(
            read.patients_looked_up, 2,
            "{}: its own two patients",
            db.name
        );
        assert!(!read.all_birth_years, "{}", db.name);

        // Both trusts named: both read, each once.
        let file = format!(
            "{RI_HEADER}\n{}\n{}\n{}\n",
            ri("NEW-1", "9990000018", "R8A-ASH", "2024-01-13"),
            ri("NEW-3", "9990000042", "R8B-CEDAR", "2024-01-11"),
            ri("NEW-4", "9990000026", "R8A-ASH", "2024-01-21"),
        );
        let r = import_bytes(
            &db,
            &mut keys,
            Kind::RestrictiveInterventions,
            "ri.csv",
            file.as_bytes(),
            true,
        )
        .await;
        assert!(r.ok(), "{}: {:?}", db.name, r.error_lines());
        assert_eq!(
            r.reference_read.stay_trusts,
            vec!["R8A".to_string(), "R8B".to_string()],
            "{}",
            db.name
        );
        assert_eq!(r.reference_read.stays, r8a + r8b, "{}", db.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stays_and_years_of_birth_read_on_first_sight_still_refuse_what_they_refused() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        // The first row is fine; the second is on a ward where the patient never stayed, and
        // the third falls before the patient's year of birth (which must have been looked up
        // for that patient alone).
        let file = format!(
            "{RI_HEADER}\n{}\n{}\n{}\n",
            ri("NEW-1", "9990000018", "R8A-ASH", "2024-01-13"),
            ri("NEW-2", "9990000018", "R8A-BIRCH", "2024-01-13"),
            ri("NEW-3", "9990000026", "R8A-ASH", "1901-01-21"),
        );
        let r = import_bytes(
            &db,
            &mut keys,
            Kind::RestrictiveInterventions,
            "ri.csv",
            file.as_bytes(),
            true,
        )
        .await;
        let lines = r.error_lines();
        assert!(
            lines
                .iter()
                .any(|l| l.contains(":3:") && l.contains("no stay on ward R8A-BIRCH")),
            "{}: {lines:?}",
            db.name
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains(":4:") && l.contains("year of birth (1985)")),
            "{}: {lines:?}",
            db.name
        );
        assert_eq!(r.reference_read.patients_looked_up, 2, "{}", db.name);
        assert!(
            !lines.iter().any(|l| l.contains(":2:")),
            "{}: {lines:?}",
            db.name
        );
    }
}
