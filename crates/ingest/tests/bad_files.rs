//! The corpus of bad files of issue 9: each case is the file (or its bytes) that showed the
//! gap. A refused file names file, line and column and changes nothing; an accepted one is
//! stored as docs/formats.md says.

mod common;
use common::*;
use ingest::formats::Kind;

const RI_HEADER: &str = "RestrictiveIntIncID,RestrictiveIntTypeID,NHSNumber,WardCode,StartDateRestrictiveIntInc,StartTimeRestrictiveIntInc,EndDateRestrictiveIntInc,EndTimeRestrictiveIntInc,RestrictiveIntReason,PostIncidentReviewPatient,PostIncidentReviewStaff,RestrictiveIntType,StartDateRestrictiveIntType,StartTimeRestrictiveIntType,EndDateRestrictiveIntType,EndTimeRestrictiveIntType,PatientInjury,StaffInjury,OtherPersonInjury";
/// Patient 9990000018 stays on R8A-ASH from 2023-12-20 to 2024-02-10 (docs/examples).
const RI_GOOD: &str = "RI-9,1,9990000018,R8A-ASH,2024-01-12,14:05,2024-01-12,14:40,10,Y,Y,01,2024-01-12,14:06,2024-01-12,14:18,N,N,N";
const INC_HEADER: &str =
    "IncidentID,IncidentKind,NHSNumber,WardCode,IncidentDate,IncidentTime,PhysicalHarm";
const ORG_HEADER: &str = "OrgCode,OrgName,OrgLevel,ParentOrgCode";
const WARD_HEADER: &str = "WardCode,WardName,SiteCode,WardType,WardSexMix,Beds,BedsFromDate";
const AWOL_HEADER: &str = "AWOLID,NHSNumber,WardCode,StartDateMHAbsWOLeave,StartTimeMHAbsWOLeave,EndDateMHAbsWOLeave,EndTimeMHAbsWOLeave,MHAbsWOLeaveEndReason";
const LEAVE_HEADER: &str = "LeaveID,NHSNumber,WardCode,StartDateMHLeaveAbs,StartTimeMHLeaveAbs,AgreedReturnDate,AgreedReturnTime,EndDateMHLeaveAbs,EndTimeMHLeaveAbs";

fn file(header: &str, rows: &[&str]) -> Vec<u8> {
    format!("{header}\n{}\n", rows.join("\n")).into_bytes()
}

/// Import into the example region; expect refusal with `expected` (`:LINE:COLUMN: text`) as
/// the first error, and the database unchanged.
async fn refused(kind: Kind, bytes: &[u8], expected: &str) {
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let before = db.store.fingerprint().await.unwrap();
        let r = import_bytes(&db, &mut keys, kind, "bad.csv", bytes, false).await;
        let first = r.error_lines().into_iter().next().unwrap_or_default();
        assert!(
            !r.ok() && r.summary.is_none(),
            "{}: should be refused: {expected}",
            db.name
        );
        assert!(
            first.starts_with(&format!("bad.csv{expected}")),
            "{}:\n  got      {first}\n  expected bad.csv{expected}",
            db.name
        );
        assert_eq!(
            db.store.fingerprint().await.unwrap(),
            before,
            "{}: a refused file changed the database",
            db.name
        );
    }
}

/// Import into the example region; expect success. Returns the report and the database.
async fn accepted(kind: Kind, bytes: &[u8]) -> Vec<(TestDb, ingest::Report)> {
    let mut out = Vec::new();
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let r = import_bytes(&db, &mut keys, kind, "good.csv", bytes, false).await;
        assert!(r.ok(), "{}: {:?}", db.name, r.error_lines());
        out.push((db, r));
    }
    out
}

async fn one_text(db: &TestDb, sql: &str) -> String {
    let (v,): (String,) = sqlx::query_as(sql)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    v
}

async fn one_int(db: &TestDb, sql: &str) -> i64 {
    let (v,): (i64,) = sqlx::query_as(sql)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    v
}

fn minute(s: &str) -> i64 {
    let dt = domain::dates::parse_datetime(s).unwrap();
    domain::dates::minute_number(dt)
}

// ---- the file itself ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_parent_is_reported_on_its_own_line_and_column() {
    let bytes = file(
        ORG_HEADER,
        &[
            "R8C,Other Trust,trust,Q98",
            "R8D,Lost Trust,trust,Q77",
            "R8D01,Lost Hospital,site,R8D",
        ],
    );
    refused(
        Kind::Organisations,
        &bytes,
        ":3:22: ParentOrgCode: R8D names parent Q77, which is neither in this file nor already uploaded",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_byte_inside_a_field_is_refused_at_its_line_and_column() {
    let bytes = file(ORG_HEADER, &["R8C,Other\0 Trust,trust,Q98"]);
    refused(
        Kind::Organisations,
        &bytes,
        ":2:10: line 2 column 10 holds a NUL character (byte 0x00), which text never holds",
    )
    .await;
    // A control character in a cell of a workbook, too.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (c, h) in ORG_HEADER.split(',').enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
    }
    for (c, v) in ["R8C", "Other\u{1} Trust", "trust", "Q98"]
        .iter()
        .enumerate()
    {
        sheet.write_string(1, c as u16, *v).unwrap();
    }
    let xlsx = wb.save_to_buffer().unwrap();
    refused(
        Kind::Organisations,
        &xlsx,
        ":2:2: row 2 column 2 holds the control character U+0001",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_byte_order_mark_and_one_invalid_byte_is_refused_at_that_byte() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(file(
        ORG_HEADER,
        &[
            "R8C,Other Trust,trust,Q98",
            "R8C01,Main Site,site,R8C",
            "R8C02,Café Site,site,R8C",
        ],
    ));
    // Put one byte 0xE9 (Windows-1252 é), not UTF-8, on line 4.
    let at = bytes.windows(2).position(|w| w == "é".as_bytes()).unwrap();
    bytes.splice(at..at + 2, [0xE9]);
    refused(
        Kind::Organisations,
        &bytes,
        ":4:10: not valid UTF-8 at line 4 column 10 (byte 0xE9): the file starts with a UTF-8 byte-order mark, so all of it must be UTF-8",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_is_one_encoding_named_in_the_summary() {
    // Valid UTF-8 "Café" and, further down, one byte that is not UTF-8: refused, not re-read
    // as Windows-1252 (which stored "CafÃ© NHS Trust").
    let mut bytes = file(
        ORG_HEADER,
        &[
            "R8C,Café NHS Trust,trust,Q98",
            "R8C01,Main Site,site,R8C",
            "R8C02,Site X,site,R8C",
        ],
    );
    let at = bytes.iter().position(|b| *b == b'X').unwrap();
    bytes[at] = 0x96; // a Windows-1252 dash
    refused(
        Kind::Organisations,
        &bytes,
        ":4:12: not valid UTF-8 at line 4 column 12 (byte 0x96): the file holds UTF-8 characters (such as 'é' on line 2) and bytes that are not UTF-8",
    )
    .await;

    // The same file in UTF-8 throughout, and in Windows-1252 throughout: both stored as "Café".
    let utf8 = file(ORG_HEADER, &["R8C,Café NHS Trust,trust,Q98"]);
    let mut cp1252 = utf8.clone();
    let at = cp1252.windows(2).position(|w| w == "é".as_bytes()).unwrap();
    cp1252.splice(at..at + 2, [0xE9]);
    for (bytes, format) in [
        (utf8, "CSV (UTF-8, comma-separated)"),
        (cp1252, "CSV (Windows-1252, comma-separated)"),
    ] {
        for (db, r) in accepted(Kind::Organisations, &bytes).await {
            assert_eq!(r.format, format);
            assert_eq!(
                one_text(&db, "SELECT name FROM organisations WHERE code = 'R8C'").await,
                "Café NHS Trust"
            );
        }
    }

    // Bytes that Windows-1252 does not define, in a file with no UTF-8 character.
    let bytes = b"OrgCode,OrgName,OrgLevel,ParentOrgCode\nR8C,Caf\xE9 \x81,trust,Q98\n";
    refused(
        Kind::Organisations,
        bytes,
        ":2:10: byte 0x81 at line 2 column 10 is neither UTF-8 nor Windows-1252 text",
    )
    .await;

    // UTF-16 without its byte-order mark.
    let utf16: Vec<u8> = "OrgCode,OrgName,OrgLevel,ParentOrgCode\nR8C,X,trust,Q98\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    refused(
        Kind::Organisations,
        &utf16,
        ":1:1: the file looks like UTF-16 text without its byte-order mark",
    )
    .await;
    // With its mark it is read, and said to be UTF-16.
    let mut marked = vec![0xFF, 0xFE];
    marked.extend(&utf16);
    for (_, r) in accepted(Kind::Organisations, &marked).await {
        assert_eq!(r.format, "CSV (UTF-16, comma-separated)");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_files_renamed_csv_are_refused_as_not_text() {
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa";
    refused(
        Kind::Organisations,
        png,
        ":1:1: the file is not a text file (it looks like a PNG image); expected a CSV file or an Excel workbook",
    )
    .await;
    refused(
        Kind::Organisations,
        b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n",
        ":1:1: the file is not a text file (it looks like a PDF document)",
    )
    .await;
    // A ZIP archive that is not a workbook (a zipped CSV).
    let mut zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00".to_vec();
    zip.extend(
        b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0c\x00\x00\x00data.csv",
    );
    refused(
        Kind::Organisations,
        &zip,
        ":1:1: the file is not a text file or an Excel workbook (it looks like a ZIP archive that is not an Excel workbook)",
    )
    .await;
    // Binary data without a known signature.
    let noise: Vec<u8> = (0u8..=255).cycle().take(2000).collect();
    refused(
        Kind::Organisations,
        &noise,
        ":1:1: the file is not a text file (it looks like binary data)",
    )
    .await;
}

// ---- clearer messages ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nhs_numbers_name_the_bad_character_and_any_grouping_of_spaces_is_accepted() {
    let header = "NHSNumber,PersonBirthDate,Gender,EthnicCategory";
    refused(
        Kind::Patients,
        &file(header, &["999000001A,1990-05-01,1,A"]),
        ":2:1: NHSNumber: NHS number holds 'A' at character 10; expected 10 digits (spaces or hyphens between digits are ignored)",
    )
    .await;
    refused(
        Kind::Patients,
        &file(header, &["99900001,1990-05-01,1,A"]),
        ":2:1: NHSNumber: NHS number must have 10 digits (spaces or hyphens between digits are ignored); found 8 digits",
    )
    .await;
    // The message says spacing is free, and it is: these are all 999 000 0018.
    for spelling in ["99 900 000 18", "999-000-0018", "9990 000018"] {
        let row = format!("{spelling},1990-05-01,1,A");
        for (db, _) in accepted(Kind::Patients, &file(header, &[&row])).await {
            assert_eq!(db.store.count("patients").await.unwrap(), 6);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_patient_is_named_by_both_lines_not_by_its_pseudonym() {
    let header = "NHSNumber,PersonBirthDate,Gender,EthnicCategory";
    let bytes = file(
        header,
        &[
            "999 000 0018,1990-05-01,1,A",
            "999 000 0026,1985-11-20,2,N",
            "9990000018,1990-05-01,1,A",
        ],
    );
    refused(
        Kind::Patients,
        &bytes,
        ":4:1: duplicate patient: the NHS number on this line is also on line 2; expected each patient once per file (keep one of lines 2 and 4)",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_thousand_unknown_columns_give_a_short_warning() {
    let mut header = String::from("ResponseID,WardCode,SurveyDate,FeelSexuallySafe");
    let mut row = String::from("S-9,R8A-ASH,2024-01-14,Y");
    for i in 0..50_000 {
        header.push_str(&format!(",Extra{i}"));
        row.push(',');
    }
    for (_, r) in accepted(Kind::Survey, &file(&header, &[&row])).await {
        assert_eq!(r.warnings.len(), 1);
        let w = &r.warnings[0];
        assert!(w.len() < 200, "{} bytes: {w}", w.len());
        assert_eq!(
            w,
            "not used: columns Extra0, Extra1, Extra2, Extra3, Extra4, Extra5, Extra6, Extra7, Extra8, Extra9 and 49990 more"
        );
    }
}

// ---- rows that formats.md forbids ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intervention_on_a_ward_where_the_patient_has_no_stay_is_refused() {
    // 9990000018 stays on R8A-ASH, never on R8A-BIRCH.
    let row = RI_GOOD.replace("R8A-ASH", "R8A-BIRCH");
    refused(
        Kind::RestrictiveInterventions,
        &file(RI_HEADER, &[&row]),
        ":2:19: WardCode: the patient has no stay on ward R8A-BIRCH (their stays at trust R8A are on R8A-ASH); expected an intervention on a ward where the patient stayed",
    )
    .await;
    // A patient with stays only at another trust is not checked here (their stays at R8A are
    // not known): 9990000042 stays on R8B-CEDAR only.
    let row = RI_GOOD.replace("9990000018", "9990000042");
    accepted(Kind::RestrictiveInterventions, &file(RI_HEADER, &[&row])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_outside_1900_2100_are_refused_in_date_and_time_columns_too() {
    refused(
        Kind::Incidents,
        &file(INC_HEADER, &["X-1,other,,R8A-ASH,2101-03-01,10:00,none"]),
        ":2:20: IncidentDate: 2101-03-01 is outside 1900-2100; expected a real date",
    )
    .await;
    refused(
        Kind::Incidents,
        &file(INC_HEADER, &["X-1,other,,R8A-ASH,1899-12-31 10:00,,none"]),
        ":2:20: IncidentDate: 1899-12-31 is outside 1900-2100",
    )
    .await;
    let row = RI_GOOD.replace("2024-01-12,14:06", "1899-01-12,14:06");
    refused(
        Kind::RestrictiveInterventions,
        &file(RI_HEADER, &[&row]),
        ":2:71: StartDateRestrictiveIntType: 1899-01-12 is outside 1900-2100",
    )
    .await;
    refused(
        Kind::Awol,
        &file(
            AWOL_HEADER,
            &["A-9,9990000026,R8A-ASH,2024-01-15,17:45,2101-01-16,09:10,"],
        ),
        ":2:41: EndDateMHAbsWOLeave: 2101-01-16 is outside 1900-2100",
    )
    .await;
    // The same range as a date column.
    refused(
        Kind::Survey,
        &file(
            "ResponseID,WardCode,SurveyDate,FeelSexuallySafe",
            &["S-9,R8A-ASH,2101-01-14,Y"],
        ),
        ":2:13: SurveyDate: 2101-01-14 is outside 1900-2100",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blank_optional_time_is_taken_as_midnight_and_a_measured_one_is_required() {
    // IncidentTime blank, and left out altogether.
    for bytes in [
        file(INC_HEADER, &["X-1,other,,R8A-ASH,2024-03-01,,none"]),
        file(
            "IncidentID,IncidentKind,WardCode,IncidentDate,PhysicalHarm",
            &["X-1,other,R8A-ASH,2024-03-01,none"],
        ),
    ] {
        for (db, _) in accepted(Kind::Incidents, &bytes).await {
            assert_eq!(
                one_int(
                    &db,
                    "SELECT occurred_min FROM incidents WHERE local_id = 'X-1'"
                )
                .await,
                minute("2024-03-01 00:00")
            );
        }
    }
    // The incident's times blank: accepted, the intervention's own times are what is measured.
    let row = RI_GOOD.replace(
        "2024-01-12,14:05,2024-01-12,14:40",
        "2024-01-12,,2024-01-12,",
    );
    accepted(Kind::RestrictiveInterventions, &file(RI_HEADER, &[&row])).await;
    // The intervention's own start time blank: refused (minutes of restraint are measured).
    let row = RI_GOOD.replace("01,2024-01-12,14:06", "01,2024-01-12,");
    refused(
        Kind::RestrictiveInterventions,
        &file(RI_HEADER, &[&row]),
        ":2:71: StartDateRestrictiveIntType: '2024-01-12' has no time and StartTimeRestrictiveIntType is empty; expected a time such as 14:05 (the minutes are measured from it)",
    )
    .await;
    // Leave: the start time may be blank, the agreed return time may not.
    let ok = "L-9,9990000018,R8A-ASH,2024-01-11,,2024-01-11,16:00,2024-01-11,16:05";
    for (db, _) in accepted(Kind::Leave, &file(LEAVE_HEADER, &[ok])).await {
        assert_eq!(
            one_int(
                &db,
                "SELECT start_min FROM leave_periods WHERE local_id = 'L-9'"
            )
            .await,
            minute("2024-01-11 00:00")
        );
    }
    refused(
        Kind::Leave,
        &file(
            LEAVE_HEADER,
            &["L-9,9990000018,R8A-ASH,2024-01-11,10:00,2024-01-11,,2024-01-11,16:05"],
        ),
        ":2:41: AgreedReturnDate: '2024-01-11' has no time and AgreedReturnTime is empty",
    )
    .await;
    // AWOL: both times blank on the same day; the end is kept at the start, never before it.
    let awol = "A-9,9990000026,R8A-ASH,2024-01-15,17:45,2024-01-15,,";
    for (db, _) in accepted(Kind::Awol, &file(AWOL_HEADER, &[awol])).await {
        let (start, end): (i64, i64) =
            sqlx::query_as("SELECT start_min, end_min FROM awol_episodes WHERE local_id = 'A-9'")
                .fetch_one(db.store.pool())
                .await
                .unwrap();
        assert_eq!((start, end), (minute("2024-01-15 17:45"), start));
    }
    // An untimed end on a day before the start is still refused.
    refused(
        Kind::Awol,
        &file(
            AWOL_HEADER,
            &["A-9,9990000026,R8A-ASH,2024-01-15,17:45,2024-01-14,,"],
        ),
        ":2:41: EndDateMHAbsWOLeave: the absence ends (2024-01-14) before it starts (2024-01-15 17:45)",
    )
    .await;
}

// ---- where the documentation was silent ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intervention_outside_its_incident_is_refused() {
    // Starts before the incident (14:05).
    let row = RI_GOOD.replace("01,2024-01-12,14:06", "01,2024-01-12,13:50");
    refused(
        Kind::RestrictiveInterventions,
        &file(RI_HEADER, &[&row]),
        ":2:71: StartDateRestrictiveIntType: the intervention starts (2024-01-12 13:50) before its incident starts (2024-01-12 14:05); expected each intervention within its incident",
    )
    .await;
    // Ends after the incident ends (14:40).
    let row = RI_GOOD.replace("2024-01-12,14:18", "2024-01-12,15:18");
    refused(
        Kind::RestrictiveInterventions,
        &file(RI_HEADER, &[&row]),
        ":2:88: EndDateRestrictiveIntType: the intervention ends (2024-01-12 15:18) after its incident ends (2024-01-12 14:40)",
    )
    .await;
    // Starts after the incident ended, a day later.
    let row = RI_GOOD.replace(
        "01,2024-01-12,14:06,2024-01-12,14:18",
        "01,2024-01-13,14:06,2024-01-13,14:18",
    );
    refused(
        Kind::RestrictiveInterventions,
        &file(RI_HEADER, &[&row]),
        ":2:71: StartDateRestrictiveIntType: the intervention starts (2024-01-13 14:06) after its incident ends (2024-01-12 14:40)",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_one_incident_must_agree_on_patient_and_reason() {
    // 9990000026 also stays on R8A-ASH at the time; the second row names them instead.
    let second = RI_GOOD
        .replace("RI-9,1,", "RI-9,2,")
        .replace("9990000018", "9990000026");
    refused(
        Kind::RestrictiveInterventions,
        &file(RI_HEADER, &[RI_GOOD, &second]),
        ":3:8: NHSNumber: rows of incident RI-9 disagree: line 2 has a different NHS number; expected the incident's columns the same on each of its rows",
    )
    .await;
    let second = RI_GOOD
        .replace("RI-9,1,", "RI-9,2,")
        .replace("14:40,10,", "14:40,11,");
    refused(
        Kind::RestrictiveInterventions,
        &file(RI_HEADER, &[RI_GOOD, &second]),
        ":3:61: RestrictiveIntReason: rows of incident RI-9 disagree: line 2 gives 10, this row 11",
    )
    .await;
    // Its interventions' own times differ, as they should: accepted.
    let second = RI_GOOD.replace("RI-9,1,", "RI-9,2,").replace(
        "01,2024-01-12,14:06,2024-01-12,14:18",
        "14,2024-01-12,14:20,2024-01-12,14:22",
    );
    accepted(
        Kind::RestrictiveInterventions,
        &file(RI_HEADER, &[RI_GOOD, &second]),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_before_the_patients_year_of_birth_are_refused() {
    // 9990000018 was born in 1990 (docs/examples/patients.csv).
    refused(
        Kind::Incidents,
        &file(
            INC_HEADER,
            &["X-1,other,9990000018,R8A-ASH,1985-06-01,10:00,none"],
        ),
        ":2:30: IncidentDate: 1985-06-01 is before the patient's year of birth (1990)",
    )
    .await;
    refused(
        Kind::WardStays,
        &file(
            "WardStayId,NHSNumber,WardCode,StartDateWardStay,EndDateWardStay",
            &["WS9,9990000018,R8A-ASH,1989-12-20,1990-02-10"],
        ),
        ":2:24: StartDateWardStay: 1989-12-20 is before the patient's year of birth (1990)",
    )
    .await;
    refused(
        Kind::Awol,
        &file(
            AWOL_HEADER,
            &["A-9,9990000018,R8A-ASH,1980-01-15,17:45,1980-01-16,09:10,"],
        ),
        ":2:24: StartDateMHAbsWOLeave: 1980-01-15 is before the patient's year of birth (1990)",
    )
    .await;
    // The year of birth itself is allowed (only the year is kept).
    accepted(
        Kind::Incidents,
        &file(
            INC_HEADER,
            &["X-1,other,9990000018,R8A-ASH,1990-01-01,10:00,none"],
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ward_stays_with_one_trust() {
    // A code of trust R8A on a site of trust R8B.
    refused(
        Kind::Wards,
        &file(
            WARD_HEADER,
            &["R8A-OAK,Oak Ward,R8B01,adult_acute,mixed,12,2024-01-01"],
        ),
        ":2:18: SiteCode: ward R8A-OAK begins with the code of trust R8A, but site R8B01 belongs to trust R8B",
    )
    .await;
    // A ward already held for R8A, moved to a site of R8B; and one file putting a ward on
    // sites of two trusts.
    for db in databases().await {
        let mut keys = key();
        import_all_examples(&db, &mut keys).await;
        let oak = file(
            WARD_HEADER,
            &["OAK-1,Oak Ward,R8A01,adult_acute,mixed,12,2024-01-01"],
        );
        let r = import_bytes(&db, &mut keys, Kind::Wards, "oak.csv", &oak, false).await;
        assert!(r.ok(), "{:?}", r.error_lines());
        let before = db.store.fingerprint().await.unwrap();
        let moved = file(
            WARD_HEADER,
            &["OAK-1,Oak Ward,R8B01,adult_acute,mixed,12,2024-06-01"],
        );
        let r = import_bytes(&db, &mut keys, Kind::Wards, "bad.csv", &moved, false).await;
        assert_eq!(
            r.error_lines(),
            [
                "bad.csv:2:16: SiteCode: ward OAK-1 is already held for trust R8A, and site R8B01 belongs to trust R8B; expected a site of R8A (a ward belongs to one trust: give a ward that moved a new code)"
            ]
        );
        let two = file(
            WARD_HEADER,
            &[
                "ELM-1,Elm Ward,R8A01,adult_acute,mixed,12,2024-01-01",
                "ELM-1,Elm Ward,R8B01,adult_acute,mixed,14,2024-06-01",
            ],
        );
        let r = import_bytes(&db, &mut keys, Kind::Wards, "bad.csv", &two, false).await;
        assert_eq!(
            r.error_lines(),
            [
                "bad.csv:3:16: SiteCode: ward ELM-1 is on a site of trust R8A on line 2 but of trust R8B here; expected a ward to belong to one trust"
            ]
        );
        assert_eq!(db.store.fingerprint().await.unwrap(), before, "{}", db.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restraint_lasting_years_is_refused_but_long_term_segregation_is_not() {
    // Physical restraint (01) "ending" two years later: a mistyped end year.
    let row = RI_GOOD
        .replace("2024-01-12,14:40", "2026-01-12,14:40")
        .replace("2024-01-12,14:18", "2026-01-12,14:18");
    refused(
        Kind::RestrictiveInterventions,
        &file(RI_HEADER, &[&row]),
        ":2:88: EndDateRestrictiveIntType: the intervention lasts 2 years 1 day (from 2024-01-12 14:06 to 2026-01-12 14:18); expected physical restraint to last at most 24 hours",
    )
    .await;
    // 25 hours of physical restraint is refused too; 24 hours is not.
    let row = RI_GOOD
        .replace("2024-01-12,14:40", "2024-01-13,16:00")
        .replace("2024-01-12,14:18", "2024-01-13,15:06");
    refused(
        Kind::RestrictiveInterventions,
        &file(RI_HEADER, &[&row]),
        ":2:88: EndDateRestrictiveIntType: the intervention lasts 1 day 1 hour",
    )
    .await;
    let row = RI_GOOD
        .replace("2024-01-12,14:40", "2024-01-13,16:00")
        .replace("2024-01-12,14:18", "2024-01-13,14:06");
    accepted(Kind::RestrictiveInterventions, &file(RI_HEADER, &[&row])).await;
    // Segregation (06) of 9990000034, whose stay on R8A-BIRCH is open: a year and more.
    let row = "RI-9,1,9990000034,R8A-BIRCH,2024-01-02,10:00,2025-03-01,12:00,10,Y,Y,06,2024-01-02,10:05,2025-03-01,12:00,N,N,N";
    accepted(Kind::RestrictiveInterventions, &file(RI_HEADER, &[row])).await;
}

/// No input panics: every example file, damaged at random (bytes changed, inserted, cut), is
/// imported or refused with a line and column, and a refused one changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_files_never_panic_and_a_refused_one_changes_nothing() {
    let db = databases().await.remove(0);
    let mut keys = key();
    import_all_examples(&db, &mut keys).await;
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..150 {
        let kind = Kind::ALL[round % Kind::ALL.len()];
        let mut bytes = std::fs::read(example(&format!("{}.csv", kind.as_str()))).unwrap();
        for _ in 0..(1 + next() % 4) {
            let at = (next() as usize) % bytes.len().max(1);
            match next() % 4 {
                0 => bytes[at] = next() as u8,
                1 => bytes.insert(at, next() as u8),
                2 => bytes.truncate(at),
                _ => {
                    let n = (next() % 4) as usize;
                    let piece = [0xC3, b',', b'"', b'\n'];
                    bytes.splice(at..at, piece[..n].iter().copied());
                }
            }
            if bytes.is_empty() {
                break;
            }
        }
        let before = db.store.fingerprint().await.unwrap();
        let r = import_bytes(&db, &mut keys, kind, "damaged.csv", &bytes, false).await;
        if !r.ok() {
            assert!(r.errors.iter().all(|e| e.line >= 1 && e.column >= 1));
            assert_eq!(
                db.store.fingerprint().await.unwrap(),
                before,
                "round {round}"
            );
        }
    }
}
