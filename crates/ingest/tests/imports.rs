//! Uploads as trusts make them, on SQLite and PostgreSQL: the canonical files, re-uploads,
//! a trust's own Excel export through a saved mapping, encodings, and a corpus of bad files,
//! each of which must be refused with its line and column and change nothing.

mod common;
use common::*;
use ingest::formats::Kind;
use ingest::mapping::Mapping;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canonical_files_import_and_a_reupload_updates_without_duplicating() {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let s = &db.store;
        assert_eq!(s.count("organisations").await.unwrap(), 6, "{}", db.name);
        assert_eq!(s.count("wards").await.unwrap(), 3);
        assert_eq!(s.count("patients").await.unwrap(), 6);
        assert_eq!(s.count("ward_stays").await.unwrap(), 6);
        assert_eq!(s.count("bed_days").await.unwrap(), 9);
        assert_eq!(s.count("ri_interventions").await.unwrap(), 8);
        assert_eq!(s.count("incidents").await.unwrap(), 6);
        assert_eq!(s.count("leave_periods").await.unwrap(), 4);
        assert_eq!(s.count("awol_episodes").await.unwrap(), 2);
        assert_eq!(s.count("survey_answers").await.unwrap(), 4);

        let again = import_example(&db, &mut keys, Kind::RestrictiveInterventions).await;
        let summary = again.summary.unwrap();
        assert_eq!(
            (summary.rows, summary.inserted, summary.updated),
            (8, 0, 8),
            "{}",
            db.name
        );
        assert_eq!(s.count("ri_interventions").await.unwrap(), 8);
        let uploads = s.uploads(None, 100).await.unwrap();
        assert_eq!(
            uploads.len(),
            Kind::ALL.len() + 1,
            "every example and the re-upload"
        );
        assert_eq!(uploads[0].kind, "restrictive_interventions");
        assert_eq!(uploads[0].trust_code, None, "two trusts in one file");
        assert_eq!((uploads[0].rows_total, uploads[0].rows_updated), (8, 8));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_reports_everything_and_changes_nothing() {
    for db in databases().await {
        let mut keys = key();
        for kind in [
            Kind::Organisations,
            Kind::Wards,
            Kind::Patients,
            Kind::WardStays,
        ] {
            import_example(&db, &mut keys, kind).await;
        }
        let before = db.store.fingerprint().await.unwrap();
        let bytes = std::fs::read(example("restrictive_interventions.csv")).unwrap();
        let r = import_bytes(
            &db,
            &mut keys,
            Kind::RestrictiveInterventions,
            "ri.csv",
            &bytes,
            true,
        )
        .await;
        assert!(r.ok() && r.dry_run);
        let s = r.summary.unwrap();
        assert_eq!((s.rows, s.inserted, s.committed), (8, 8, false));
        assert_eq!(
            r.by_trust,
            vec![("R8A".to_string(), 6), ("R8B".to_string(), 2)]
        );
        assert_eq!(db.store.fingerprint().await.unwrap(), before, "{}", db.name);
    }
}

/// The corpus of bad files: each gives a clear error naming line and column, and the
/// database is exactly as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_are_refused_whole_with_line_and_column() {
    let ri_header = std::fs::read_to_string(example("restrictive_interventions.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let good_row = "RI-9,1,9990000018,R8A-ASH,2024-01-12,14:05,2024-01-12,14:40,10,Y,Y,01,2024-01-12,14:06,2024-01-12,14:18,N,N,N";
    let with =
        |rows: &[&str]| format!("{ri_header}\n{good_row}\n{}\n", rows.join("\n")).into_bytes();
    let huge = format!("{ri_header}\n{}\n", "x".repeat(5_000_000)).into_bytes();
    let mut truncated = with(&[]);
    truncated
        .extend_from_slice(b"RI-10,1,9990000018,R8A-ASH,2024-01-13,10:00,2024-01-13,10:30,10,Y");
    let cases: Vec<(&str, Kind, Vec<u8>, &str)> = vec![
        (
            "invalid NHS number",
            Kind::RestrictiveInterventions,
            with(&["RI-9,2,9990000019,R8A-ASH,2024-01-12,14:05,2024-01-12,14:40,10,Y,Y,01,2024-01-12,14:20,2024-01-12,14:30,N,N,N"]),
            ":3:8: NHSNumber: NHS number fails its modulus 11 check digit",
        ),
        (
            "end before start",
            Kind::RestrictiveInterventions,
            with(&["RI-9,2,9990000018,R8A-ASH,2024-01-12,14:05,2024-01-12,14:40,10,Y,Y,01,2024-01-12,14:20,2024-01-12,14:10,N,N,N"]),
            ":3:88: EndDateRestrictiveIntType: the intervention ends (2024-01-12 14:10) before it starts (2024-01-12 14:20)",
        ),
        (
            "unknown code",
            Kind::RestrictiveInterventions,
            with(&["RI-9,2,9990000018,R8A-ASH,2024-01-12,14:05,2024-01-12,14:40,10,Y,Y,Prone restraint,2024-01-12,14:20,2024-01-12,14:30,N,N,N"]),
            ":3:68: RestrictiveIntType: 'Prone restraint' is not a known restrictive intervention type; expected one of 01, 02",
        ),
        (
            "intervention outside the patient's stay",
            Kind::RestrictiveInterventions,
            with(&["RI-9,2,9990000018,R8A-ASH,2024-03-12,14:05,2024-03-12,14:40,10,Y,Y,01,2024-03-12,14:20,2024-03-12,14:30,N,N,N"]),
            ":3:71: StartDateRestrictiveIntType: 2024-03-12 is outside every stay of this patient on ward R8A-ASH",
        ),
        ("duplicate id within the file", Kind::RestrictiveInterventions, with(&[good_row]), ":3:1: duplicate record: intervention 1 of incident RI-9 is also on line 2"),
        (
            "unknown ward",
            Kind::RestrictiveInterventions,
            with(&["RI-9,2,9990000018,R8Z-OAK,2024-01-12,14:05,2024-01-12,14:40,10,Y,Y,01,2024-01-12,14:20,2024-01-12,14:30,N,N,N"]),
            ":3:19: WardCode: ward 'R8Z-OAK' is not known",
        ),
        ("empty file", Kind::RestrictiveInterventions, Vec::new(), ":1:1: the file is empty"),
        ("header only", Kind::RestrictiveInterventions, format!("{ri_header}\n").into_bytes(), ":1:1: the file has a header but no data rows"),
        ("wrong delimiter", Kind::RestrictiveInterventions, ri_header.replace(',', "|").into_bytes(), ":1:1: missing columns RestrictiveIntIncID"),
        ("a huge single line", Kind::RestrictiveInterventions, huge, ":2:1: the row has 1 fields but the header has 19; is the line cut short?"),
        ("a truncated last line", Kind::RestrictiveInterventions, truncated, ":4:65: the row has 10 fields but the header has 19; is the line cut short?"),
        (
            "missing column",
            Kind::Wards,
            b"WardCode,WardName,SiteCode\nR8A-OAK,Oak,R8A01\n".to_vec(),
            ":1:1: missing columns WardType, WardSexMix, Beds, BedsFromDate",
        ),
        ("unclosed quote", Kind::Survey, b"ResponseID,WardCode,SurveyDate,FeelSexuallySafe\n\"S-9,R8A-ASH,2024-01-14,Y\n".to_vec(), ":2:1: quoted field is never closed"),
        ("bad date", Kind::Survey, b"ResponseID,WardCode,SurveyDate,FeelSexuallySafe\nS-9,R8A-ASH,31/02/2024,Y\n".to_vec(), ":2:13: SurveyDate: '31/02/2024' is not a date"),
        (
            "sexual safety incident without its category",
            Kind::Incidents,
            b"IncidentID,IncidentKind,WardCode,IncidentDate,IncidentTime,PhysicalHarm\nX-1,sexual_safety,R8A-ASH,2024-01-01,10:00,none\n".to_vec(),
            ":2:1: SexualSafetyCategory: is empty; a sexual safety incident needs its category",
        ),
        ("a site of an unknown trust", Kind::Organisations, b"OrgCode,OrgName,OrgLevel,ParentOrgCode\nR8C01,Lost,site,R8A\n".to_vec(), ":2:17: ParentOrgCode: site R8C01 starts with R8C but its parent is R8A"),
    ];
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let before = db.store.fingerprint().await.unwrap();
        for (what, kind, bytes, expected) in &cases {
            let r = import_bytes(&db, &mut keys, *kind, "bad.csv", bytes, false).await;
            assert!(!r.ok(), "{}: {what}: should be refused", db.name);
            assert!(r.summary.is_none());
            let first = r.error_lines().into_iter().next().unwrap_or_default();
            assert!(
                first.starts_with(&format!("bad.csv{expected}")),
                "{}: {what}:\n  got      {first}\n  expected bad.csv{expected}",
                db.name
            );
            assert_eq!(
                db.store.fingerprint().await.unwrap(),
                before,
                "{}: {what} changed the database",
                db.name
            );
        }
    }
}

/// One bad row among many good ones: nothing at all is imported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_row_in_a_large_file_means_nothing_is_imported() {
    for db in databases().await {
        let mut keys = key();
        for kind in [Kind::Organisations, Kind::Wards] {
            import_example(&db, &mut keys, kind).await;
        }
        let mut text = String::from("ResponseID,WardCode,SurveyDate,FeelSexuallySafe\n");
        for i in 0..60_000 {
            text.push_str(&format!(
                "S-{i},R8A-ASH,2024-01-14,{}\n",
                if i == 59_000 { "maybe" } else { "Y" }
            ));
        }
        let before = db.store.fingerprint().await.unwrap();
        let r = import_bytes(
            &db,
            &mut keys,
            Kind::Survey,
            "survey.csv",
            text.as_bytes(),
            false,
        )
        .await;
        assert_eq!(
            r.error_lines(),
            vec![
                "survey.csv:59002:28: FeelSexuallySafe: 'maybe' is not yes or no; expected Y or N"
                    .to_string()
            ]
        );
        assert_eq!(db.store.fingerprint().await.unwrap(), before, "{}", db.name);
    }
}

/// A trust's own Datix-style Excel export, its own column names and labels, through a saved
/// mapping.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusts_excel_export_imports_through_a_saved_mapping() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    let header = [
        "Incident Ref",
        "Intervention No",
        "NHS No",
        "Ward",
        "Incident date",
        "Incident time",
        "Reason",
        "Debrief with patient",
        "Type of restraint",
        "Start date",
        "Start time",
        "End date",
        "End time",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let date_format = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    let rows = [
        (
            "W-1",
            1,
            "943 476 5919",
            "R8A-ASH",
            "Prone restraint",
            "14:06",
            "14:18",
        ),
        (
            "W-1",
            2,
            "943 476 5919",
            "R8A-ASH",
            "Rapid tranquillisation",
            "14:20",
            "14:21",
        ),
        (
            "W-2",
            1,
            "999 000 0018",
            "R8A-ASH",
            "Supine restraint",
            "09:00",
            "09:07",
        ),
    ];
    for (r, (inc, n, nhs, ward, kind, start, end)) in rows.iter().enumerate() {
        let row = (r + 1) as u32;
        let day = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 1, 12).unwrap();
        sheet.write_string(row, 0, *inc).unwrap();
        sheet.write_number(row, 1, *n as f64).unwrap();
        sheet.write_string(row, 2, *nhs).unwrap();
        sheet.write_string(row, 3, *ward).unwrap();
        sheet
            .write_datetime_with_format(row, 4, &day, &date_format)
            .unwrap();
        sheet.write_string(row, 5, *start).unwrap();
        sheet
            .write_string(row, 6, "Prevent violence to others")
            .unwrap();
        sheet.write_string(row, 7, "Yes").unwrap();
        sheet.write_string(row, 8, *kind).unwrap();
        sheet
            .write_datetime_with_format(row, 9, &day, &date_format)
            .unwrap();
        sheet.write_string(row, 10, *start).unwrap();
        sheet
            .write_datetime_with_format(row, 11, &day, &date_format)
            .unwrap();
        sheet.write_string(row, 12, *end).unwrap();
    }
    let xlsx = wb.save_to_buffer().unwrap();
    let mapping = Mapping::from_json(
        r#"{"name": "r8a-datix", "kind": "restrictive_interventions",
            "columns": {"Incident Ref": "RestrictiveIntIncID", "Intervention No": "RestrictiveIntTypeID", "NHS No": "NHSNumber", "Ward": "WardCode",
                        "Incident date": "StartDateRestrictiveIntInc", "Incident time": "StartTimeRestrictiveIntInc", "Reason": "RestrictiveIntReason",
                        "Debrief with patient": "PostIncidentReviewPatient", "Type of restraint": "RestrictiveIntType",
                        "Start date": "StartDateRestrictiveIntType", "Start time": "StartTimeRestrictiveIntType",
                        "End date": "EndDateRestrictiveIntType", "End time": "EndTimeRestrictiveIntType"},
            "values": {"RestrictiveIntType": {"Prone restraint": "01", "Supine restraint": "09", "Rapid tranquillisation": "14"}}}"#,
    )
    .unwrap();
    for db in databases().await {
        let mut keys = key();
        for kind in [Kind::Organisations, Kind::Wards] {
            import_example(&db, &mut keys, kind).await;
        }
        let req = ingest::Request {
            kind: Kind::RestrictiveInterventions,
            file_name: "datix.xlsx",
            bytes: &xlsx,
            mapping: Some(&mapping),
            uploaded_by: "analyst",
            only_trust: Some("R8A"),
            dry_run: false,
        };
        let r = ingest::import(&db.store, &mut keys, &req, &mut |_, _, _| {})
            .await
            .unwrap();
        assert!(r.ok(), "{}: {:?}", db.name, r.error_lines());
        assert_eq!(r.format, "Excel workbook (first sheet)");
        assert_eq!(r.summary.unwrap().inserted, 3);
        let types: Vec<(String,)> = sqlx::query_as(
            "SELECT type_code FROM ri_interventions ORDER BY incident_id, intervention_id",
        )
        .fetch_all(db.store.pool())
        .await
        .unwrap();
        assert_eq!(
            types.into_iter().map(|t| t.0).collect::<Vec<_>>(),
            ["01", "14", "09"]
        );
        let up = &db.store.uploads(Some("R8A"), 5).await.unwrap()[0];
        assert_eq!(
            (up.mapping.as_deref(), up.uploaded_by.as_str()),
            (Some("r8a-datix"), "analyst")
        );

        // The same export for another trust's uploader is refused, cell by cell.
        let other = ingest::Request {
            only_trust: Some("R8B"),
            ..req
        };
        let r = ingest::import(&db.store, &mut keys, &other, &mut |_, _, _| {})
            .await
            .unwrap();
        assert_eq!(
            r.error_lines()[0],
            "datix.xlsx:2:4: Ward (WardCode): ward 'R8A-ASH' belongs to trust R8A; you can upload only for R8B"
        );
    }
}

/// Windows-1252 text, semicolons, UK dates and a byte-order mark are all read as they come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excel_csv_quirks_are_read_as_they_come() {
    for db in databases().await {
        let mut keys = key();
        for kind in [Kind::Organisations, Kind::Wards] {
            import_example(&db, &mut keys, kind).await;
        }
        let cp1252 = b"IncidentID;IncidentKind;WardCode;IncidentDate;IncidentTime;PhysicalHarm;PsychologicalHarm\nCaf\xe9-1;other;R8A-ASH;01/02/2024;10:00;low;none\n";
        let r = import_bytes(
            &db,
            &mut keys,
            Kind::Incidents,
            "incidents.csv",
            cp1252,
            false,
        )
        .await;
        assert!(r.ok(), "{:?}", r.error_lines());
        assert_eq!(r.format, "CSV (Windows-1252, semicolon-separated)");
        let id: (String, i64) = sqlx::query_as("SELECT local_id, day FROM incidents")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
        assert_eq!(id.0, "Café-1");
        assert_eq!(
            domain::dates::iso(domain::dates::date_from_day(id.1 as i32)),
            "2024-02-01"
        );

        let bom = b"\xEF\xBB\xBFResponseID,WardCode,SurveyDate,FeelSexuallySafe\r\nS-1,r8a-ash,2024-01-14,yes\r\n";
        let r = import_bytes(&db, &mut keys, Kind::Survey, "survey.csv", bom, false).await;
        assert!(r.ok(), "{:?}", r.error_lines());
        assert_eq!(
            r.format,
            "CSV (UTF-8 with byte-order mark, comma-separated)"
        );

        let daily = b"WardCode,CensusDate,OccupiedBeds,PatientsOnLeave\nR8A-ASH,01/04/2024,18,2\nR8A-ASH,02/04/2024,19,1\n";
        let r = import_bytes(&db, &mut keys, Kind::BedDays, "census.csv", daily, false).await;
        assert!(r.ok(), "{:?}", r.error_lines());
        assert_eq!(db.store.count("bed_days").await.unwrap(), 2);
    }
}

/// NHS numbers never reach the database: not in any table, not in the SQLite file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nhs_numbers_are_never_stored() {
    let numbers: Vec<String> = std::fs::read_to_string(example("patients.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().replace(' ', ""))
        .collect();
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let patients: Vec<(String,)> = sqlx::query_as("SELECT pseudonym FROM patients")
            .fetch_all(db.store.pool())
            .await
            .unwrap();
        assert_eq!(patients.len(), 6);
        for (p,) in &patients {
            assert_eq!(p.len(), 32);
            assert!(!numbers.iter().any(|n| p.contains(n.as_str())));
        }
        if db.name == "sqlite" {
            db.store.close().await;
            let mut bytes = std::fs::read(db.dir.join("test.db")).unwrap();
            if let Ok(wal) = std::fs::read(db.dir.join("test.db-wal")) {
                bytes.extend(wal);
            }
            let text = String::from_utf8_lossy(&bytes);
            for n in &numbers {
                assert!(
                    !text.contains(n.as_str()),
                    "NHS number found in the database file"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_or_swapped_key_stops_imports() {
    for db in databases().await {
        let (mut keys, status) = ingest::pseudonym::Pseudonymiser::open(&db.dir, &db.store)
            .await
            .unwrap();
        assert!(matches!(status, ingest::pseudonym::KeyStatus::Created(_)));
        import_example(&db, &mut keys, Kind::Organisations).await;
        let (_, status) = ingest::pseudonym::Pseudonymiser::open(&db.dir, &db.store)
            .await
            .unwrap();
        assert_eq!(status, ingest::pseudonym::KeyStatus::Existing);
        let path = db.dir.join(ingest::pseudonym::KEY_FILE);
        let original = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let e = ingest::pseudonym::Pseudonymiser::open(&db.dir, &db.store)
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("the pseudonymisation key is missing, but this database holds patients pseudonymised with a key"), "{e}");
        std::fs::write(&path, "ab".repeat(32)).unwrap();
        let e = ingest::pseudonym::Pseudonymiser::open(&db.dir, &db.store)
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("is not the one this database was pseudonymised with"),
            "{e}"
        );
        std::fs::write(&path, original).unwrap();
        assert!(
            ingest::pseudonym::Pseudonymiser::open(&db.dir, &db.store)
                .await
                .is_ok()
        );
    }
}
