//! The children's ADHD assessment pathway as an upload (issue 15 item 8; docs/formats.md,
//! "ADHD pathway referrals"): one row per referral to a trust's ADHD service, with the date of
//! the referral, of the objective attention test, of the diagnostic decision and the number of
//! appointments it took. CSV or Excel through the table reader every upload uses, a saved
//! column mapping (kind `adhd_referrals`) if the trust's export names things its own way, every
//! problem a `FILE:LINE:COLUMN: reason`, and all or nothing: the rows are written only when
//! every row is right, in one transaction with its row in the upload history
//! (`store::Store::begin_import`, `store::Batch::adhd_referrals`).
//!
//! No patient identifier is read or kept: a referral is known by its service and the service's
//! own reference for it.

use crate::formats::ColumnSpec;
use crate::formats::col;
use crate::mapping::{Compiled, Mapping};
use crate::table::{Content, FileProblem};
use domain::codes::{EthnicCategory, Sex};
use domain::dates::{day_number, parse_date};
use std::collections::{HashMap, HashSet};
use store::adhd::AdhdReferralRow;
use store::{Batch, Store, UploadMeta, UploadSummary};
use textfile::csvscan::Field;
use time::Date;

/// The upload's kind, as the upload history and saved mappings name it.
pub const KIND: &str = "adhd_referrals";

/// The columns, in the order of the example file.
pub const COLUMNS: &[ColumnSpec] = &[
    col!(
        "TrustCode",
        true,
        "ODS code of the trust whose service received the referral (R + 2)",
        "R9A",
    ),
    col!(
        "ServiceCode",
        true,
        "The ADHD service: the trust's code, a dash and up to 16 letters or digits",
        "R9A-ADHD",
    ),
    col!(
        "ReferralId",
        true,
        "The service's own reference for the referral (1 to 40 characters; never an NHS number)",
        "ADHD-2025-0142",
    ),
    col!(
        "ReferralDate",
        true,
        "Date the service received the referral",
        "2025-03-04",
    ),
    col!(
        "AgeAtReferral",
        false,
        "Age in years at referral, 0 to 25",
        "8",
    ),
    col!(
        "Gender",
        false,
        "Person stated gender: 1 male, 2 female, 9 indeterminate, X not known (M/F accepted)",
        "1",
    ),
    col!(
        "EthnicCategory",
        false,
        "NHS ethnic category A-S, Z not stated, 99 not known",
        "A",
    ),
    col!(
        "IMDDecile",
        false,
        "Index of Multiple Deprivation decile of the child's area, 1 (most deprived) to 10",
        "4",
    ),
    col!(
        "ObjectiveTestDate",
        false,
        "Date of the objective attention test (the open test, QbTest or another), if one was taken",
        "2025-06-10",
    ),
    col!(
        "AppointmentsToDecision",
        false,
        "Appointments attended from the referral up to and including the one at which the diagnostic decision was made, 0 to 200 (required with a decision)",
        "4",
    ),
    col!(
        "DecisionDate",
        false,
        "Date of the diagnostic decision (ADHD diagnosed or not), once made",
        "2025-07-01",
    ),
];

/// What docs/formats.md says under the kind's table.
pub const NOTE: &str = "One row per referral; re-uploading a referral (same `ServiceCode` and `ReferralId`) replaces it, so a referral is uploaded first when it arrives and again when its test and decision are known. The dates must be in order: the objective test and the decision on or after the referral, the test no later than the decision, none after today; a decision needs its appointments. A row for another trust than the uploader's is refused. The file is imported whole or not at all, in one transaction with one row in the upload history (kind `adhd_referrals`).";

/// The most problems reported for one file (the rest are counted in a last line).
const MAX_PROBLEMS: usize = 50;

fn service_ok(trust: &str, s: &str) -> bool {
    let rest = s.strip_prefix(trust).and_then(|r| r.strip_prefix('-'));
    rest.is_some_and(|r| {
        !r.is_empty() && r.len() <= 16 && r.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

/// The references of the trusts a file may name: every trust held, or only the uploader's.
pub struct Trusts<'a> {
    pub held: &'a HashSet<String>,
    pub only: Option<&'a str>,
}

/// Checks the mapping is for this kind and maps only to its columns.
pub fn check_mapping(m: &Mapping) -> Result<Compiled, String> {
    if m.kind.trim() != KIND {
        return Err(format!(
            "the mapping '{}' is for {}; expected a mapping for {KIND}",
            m.name, m.kind
        ));
    }
    let known = |c: &str| {
        COLUMNS
            .iter()
            .any(|k| k.name.eq_ignore_ascii_case(c.trim()))
    };
    for (theirs, ours) in &m.columns {
        if !known(ours) {
            return Err(format!(
                "column '{theirs}' maps to '{ours}', which is not an {KIND} column; expected one of {}",
                COLUMNS
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    for col in m.values.keys() {
        if !known(col) {
            return Err(format!(
                "value mapping for '{col}', which is not an {KIND} column"
            ));
        }
    }
    Ok(m.compile())
}

/// Reads `bytes` (the file `file`) into referrals, or every problem (up to 50, then a line
/// saying how many more). `today` bounds the dates.
pub fn read(
    file: &str,
    bytes: &[u8],
    mapping: Option<&Compiled>,
    trusts: &Trusts<'_>,
    today: Date,
) -> Result<Vec<AdhdReferralRow>, Vec<FileProblem>> {
    let content = Content::open(bytes).map_err(|e| vec![e.in_file(file)])?;
    let text = content.text();
    let mut rows = content.rows();
    let mut fields: Vec<Field> = Vec::new();
    let problem =
        |line: usize, column: usize, message: String| FileProblem::new(file, line, column, message);
    if !rows
        .next_row(&mut fields)
        .map_err(|e| vec![e.in_file(file)])?
    {
        return Err(vec![problem(
            1,
            1,
            "the file is empty; expected a header line and one referral a row".into(),
        )]);
    }
    let empty = Compiled::default();
    let m = mapping.unwrap_or(&empty);
    let header_line = fields.first().map_or(1, |f| f.line);
    // Canonical column -> position.
    let mut at: HashMap<&'static str, usize> = HashMap::new();
    for (i, f) in fields.iter().enumerate() {
        let name = m.column(f.text.trim());
        if let Some(c) = COLUMNS.iter().find(|c| c.name.eq_ignore_ascii_case(name))
            && at.insert(c.name, i).is_some()
        {
            return Err(vec![problem(
                f.line,
                f.column(text),
                format!(
                    "{}: the column is named twice; expected each column once",
                    c.name
                ),
            )]);
        }
    }
    let missing: Vec<&str> = COLUMNS
        .iter()
        .filter(|c| c.required && !at.contains_key(c.name))
        .map(|c| c.name)
        .collect();
    if !missing.is_empty() {
        return Err(vec![problem(
            header_line,
            1,
            format!(
                "the header lacks {}; expected the columns {} (and optionally the others of docs/formats.md)",
                missing.join(", "),
                COLUMNS
                    .iter()
                    .filter(|c| c.required)
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )]);
    }
    let width = fields.len();
    let mut problems = Vec::new();
    let mut more = 0usize;
    let mut out = Vec::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let today_day = i64::from(day_number(today));
    loop {
        match rows.next_row(&mut fields) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                problems.push(e.in_file(file));
                break;
            }
        }
        let line = fields.first().map_or(0, |f| f.line);
        let mut bad: Vec<(usize, String)> = Vec::new();
        if fields.len() != width {
            bad.push((
                fields.last().map_or(1, |f| f.column(text)),
                format!(
                    "the row has {} fields but the header has {width}; is a value with a comma missing its quotes?",
                    fields.len()
                ),
            ));
        }
        let place = |c: &str| -> usize {
            at.get(c)
                .and_then(|i| fields.get(*i))
                .map_or(1, |f| f.column(text))
        };
        let cell = |c: &str| -> Option<String> {
            let f = fields.get(*at.get(c)?)?;
            let t = f.text.trim();
            (!t.is_empty()).then(|| m.value(c, t).trim().to_string())
        };
        let name = |c: &str| m.display_name(c);
        let fail = |c: &str, msg: String, bad: &mut Vec<(usize, String)>| {
            bad.push((place(c), format!("{}: {msg}", name(c))));
        };
        let required = |c: &str, bad: &mut Vec<(usize, String)>| -> Option<String> {
            let v = cell(c);
            if v.is_none() {
                bad.push((
                    place(c),
                    format!("{}: is empty; a value is required", name(c)),
                ));
            }
            v
        };
        let trust = required("TrustCode", &mut bad).map(|t| t.to_ascii_uppercase());
        let service = required("ServiceCode", &mut bad).map(|t| t.to_ascii_uppercase());
        let referral = required("ReferralId", &mut bad);
        let referral_date = required("ReferralDate", &mut bad);
        if let Some(t) = &trust {
            if !trusts.held.contains(t) {
                fail(
                    "TrustCode",
                    format!(
                        "'{t}' is not a trust held; expected the ODS code of an uploaded trust"
                    ),
                    &mut bad,
                );
            } else if trusts.only.is_some_and(|o| !o.eq_ignore_ascii_case(t)) {
                fail(
                    "TrustCode",
                    format!(
                        "'{t}' is another trust; expected {} (your account uploads for its own trust only)",
                        trusts.only.unwrap_or_default()
                    ),
                    &mut bad,
                );
            }
            if let Some(s) = &service
                && !service_ok(t, s)
            {
                fail(
                    "ServiceCode",
                    format!(
                        "'{s}' is not a service code of {t}; expected {t}-, then 1 to 16 letters or digits (for example {t}-ADHD)"
                    ),
                    &mut bad,
                );
            }
        }
        if let Some(r) = &referral
            && (r.chars().count() > 40 || r.chars().any(char::is_control))
        {
            fail(
                "ReferralId",
                "expected 1 to 40 characters without control characters".into(),
                &mut bad,
            );
        } else if let Some(r) = &referral
            && r.len() == 10
            && r.chars().all(|c| c.is_ascii_digit())
        {
            fail(
                "ReferralId",
                "this looks like an NHS number; expected the service's own reference for the referral".into(),
                &mut bad,
            );
        }
        let day = |c: &str, v: Option<String>, bad: &mut Vec<(usize, String)>| -> Option<i64> {
            let v = v?;
            match parse_date(&v) {
                Ok(d) => {
                    let n = i64::from(day_number(d));
                    if n > today_day {
                        bad.push((
                            place(c),
                            format!(
                                "{}: '{v}' is after today; expected a date that has come",
                                name(c)
                            ),
                        ));
                        None
                    } else {
                        Some(n)
                    }
                }
                Err(_) => {
                    bad.push((
                        place(c),
                        format!(
                            "{}: '{v}' is not a date; expected YYYY-MM-DD or DD/MM/YYYY",
                            name(c)
                        ),
                    ));
                    None
                }
            }
        };
        let referral_day = day("ReferralDate", referral_date, &mut bad);
        let test_day = day("ObjectiveTestDate", cell("ObjectiveTestDate"), &mut bad);
        let decision_day = day("DecisionDate", cell("DecisionDate"), &mut bad);
        let whole = |c: &str, lo: i64, hi: i64, what: &str, bad: &mut Vec<(usize, String)>| {
            let v = cell(c)?;
            match v.parse::<i64>() {
                Ok(n) if (lo..=hi).contains(&n) => Some(n),
                _ => {
                    bad.push((
                        place(c),
                        format!(
                            "{}: '{v}' is not {what}; expected a whole number from {lo} to {hi}",
                            name(c)
                        ),
                    ));
                    None
                }
            }
        };
        let age = whole("AgeAtReferral", 0, 25, "an age", &mut bad);
        let imd = whole("IMDDecile", 1, 10, "a decile", &mut bad);
        let appointments = whole(
            "AppointmentsToDecision",
            0,
            200,
            "a number of appointments",
            &mut bad,
        );
        let sex = cell("Gender").and_then(|v| match Sex::parse_lenient(&v) {
            Ok(s) => Some(s.code().to_string()),
            Err(e) => {
                bad.push((place("Gender"), format!("{}: {e}", name("Gender"))));
                None
            }
        });
        let ethnic = cell("EthnicCategory").and_then(|v| match EthnicCategory::parse(&v) {
            Ok(e) => Some(e.code().to_string()),
            Err(e) => {
                bad.push((
                    place("EthnicCategory"),
                    format!("{}: {e}", name("EthnicCategory")),
                ));
                None
            }
        });
        if let Some(r) = referral_day {
            if test_day.is_some_and(|t| t < r) {
                fail(
                    "ObjectiveTestDate",
                    "is before the referral; expected the test on or after the referral date"
                        .into(),
                    &mut bad,
                );
            }
            if decision_day.is_some_and(|d| d < r) {
                fail(
                    "DecisionDate",
                    "is before the referral; expected the decision on or after the referral date"
                        .into(),
                    &mut bad,
                );
            }
        }
        if let (Some(t), Some(d)) = (test_day, decision_day)
            && t > d
        {
            fail("ObjectiveTestDate", "is after the decision; expected the objective test no later than the diagnostic decision".into(), &mut bad);
        }
        if decision_day.is_some()
            && appointments.is_none()
            && cell("AppointmentsToDecision").is_none()
        {
            fail(
                "AppointmentsToDecision",
                "is empty; a referral with a decision needs the number of appointments it took"
                    .into(),
                &mut bad,
            );
        }
        if let (Some(s), Some(r)) = (&service, &referral) {
            let key = (s.clone(), r.clone());
            if let Some(first) = seen.get(&key) {
                fail(
                    "ReferralId",
                    format!(
                        "duplicate referral {r} of {s} is also on line {first}; expected each referral once per file"
                    ),
                    &mut bad,
                );
            } else {
                seen.insert(key, line);
            }
        }
        if bad.is_empty() {
            if let (Some(trust), Some(service), Some(referral), Some(referral_day)) =
                (trust, service, referral, referral_day)
            {
                out.push(AdhdReferralRow {
                    service_code: service,
                    referral_id: referral,
                    trust_code: trust,
                    referral_day,
                    age,
                    sex,
                    ethnic_category: ethnic,
                    imd_decile: imd,
                    test_day,
                    appointments,
                    decision_day,
                });
            }
        } else {
            bad.sort_by_key(|b| b.0);
            for (column, message) in bad {
                if problems.len() < MAX_PROBLEMS {
                    problems.push(problem(line, column, message));
                } else {
                    more += 1;
                }
            }
        }
    }
    if problems.is_empty() && out.is_empty() {
        problems.push(problem(
            header_line + 1,
            1,
            "the file has a header but no referrals; expected one referral a row".into(),
        ));
    }
    if more > 0 {
        problems.push(problem(
            0,
            0,
            format!("and {more} more problems of the same kinds; nothing was imported"),
        ));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// What an upload came to: its summary, or every problem (and nothing written).
pub type Outcome = Result<UploadSummary, Vec<FileProblem>>;

/// Checks and imports a file of referrals (all or nothing: one transaction with its upload
/// row). `only_trust` is the uploader's trust for a trust-bound account.
pub async fn import(
    store: &Store,
    file: &str,
    bytes: &[u8],
    mapping: Option<&Mapping>,
    uploaded_by: &str,
    only_trust: Option<&str>,
    today: Date,
) -> Result<Outcome, crate::IngestError> {
    let compiled = match mapping.map(check_mapping).transpose() {
        Ok(c) => c,
        Err(e) => return Ok(Err(vec![FileProblem::new(file, 1, 1, e)])),
    };
    let held: HashSet<String> = store
        .organisations()
        .await?
        .into_iter()
        .filter(|o| o.level == "trust")
        .map(|o| o.code)
        .collect();
    let trusts = Trusts {
        held: &held,
        only: only_trust,
    };
    let rows = match read(file, bytes, compiled.as_ref(), &trusts, today) {
        Ok(r) => r,
        Err(p) => return Ok(Err(p)),
    };
    let mut by_trust: Vec<&str> = rows.iter().map(|r| r.trust_code.as_str()).collect();
    by_trust.sort_unstable();
    by_trust.dedup();
    let trust_code = match (only_trust, by_trust.as_slice()) {
        (Some(t), _) => Some(t.to_ascii_uppercase()),
        (None, [t]) => Some((*t).to_string()),
        _ => None,
    };
    let meta = UploadMeta {
        kind: KIND.into(),
        file_name: store::read::base_name(file).into(),
        sha256: crate::hex_digest(bytes),
        uploaded_by: uploaded_by.into(),
        trust_code: trust_code.clone(),
        mapping: mapping.map(|m| m.name.clone()),
    };
    let mut import = store.begin_import(&meta).await?;
    if let Err(e) = import.write(Batch::adhd_referrals(rows)).await {
        // The import's own connection is dropped with it: nothing was committed.
        drop(import);
        return Err(e.into());
    }
    Ok(Ok(import.commit(trust_code).await?))
}

/// docs/formats.md's section for this upload.
pub fn markdown() -> String {
    let mut out = format!(
        "\n## ADHD pathway referrals (`{KIND}`: the ADHD pages, \"Upload referrals\")\n\nExample: [examples/{KIND}.csv](examples/{KIND}.csv)\n\n"
    );
    out.push_str("| column | required | meaning | example |\n|---|---|---|---|\n");
    for c in COLUMNS {
        out.push_str(&format!(
            "| `{}` | {} | {} | `{}` |\n",
            c.name,
            if c.required { "yes" } else { "no" },
            c.description.replace('|', "\\|"),
            c.example
        ));
    }
    out.push('\n');
    out.push_str(NOTE);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TODAY: Date = time::macros::date!(2026 - 10 - 31);

    fn held() -> HashSet<String> {
        ["R9A", "R9B"].iter().map(|s| s.to_string()).collect()
    }

    fn read_text(text: &str, only: Option<&str>) -> Result<Vec<AdhdReferralRow>, Vec<String>> {
        let h = held();
        read(
            "f.csv",
            text.as_bytes(),
            None,
            &Trusts { held: &h, only },
            TODAY,
        )
        .map_err(|p| p.iter().map(ToString::to_string).collect())
    }

    const HEADER: &str = "TrustCode,ServiceCode,ReferralId,ReferralDate,AgeAtReferral,Gender,EthnicCategory,IMDDecile,ObjectiveTestDate,AppointmentsToDecision,DecisionDate";

    #[test]
    fn a_good_file_reads_whole() {
        let text = format!(
            "{HEADER}\nR9A,R9A-ADHD,A-1,2025-03-04,8,M,A,4,2025-06-10,4,2025-07-01\nr9a,r9a-adhd,A-2,04/03/2025,,,,,,,\n"
        );
        let rows = read_text(&text, None).unwrap();
        assert_eq!(rows.len(), 2);
        let a = &rows[0];
        assert_eq!(a.service_code, "R9A-ADHD");
        assert_eq!(a.sex.as_deref(), Some("1"));
        assert_eq!(a.decision_day.unwrap() - a.referral_day, 119);
        assert_eq!(a.test_day.unwrap() - a.referral_day, 98);
        assert_eq!(a.appointments, Some(4));
        assert_eq!(rows[1].trust_code, "R9A");
        assert_eq!(rows[1].referral_day, a.referral_day);
        assert_eq!(rows[1].decision_day, None);
    }

    #[test]
    fn every_problem_names_its_line_and_column() {
        let text = format!(
            "{HEADER}\n\
             R9A,R9A-ADHD,A-1,2025-03-04,8,M,A,4,2025-02-10,4,2025-07-01\n\
             R9A,R9B-ADHD,A-2,2025-03-04,30,Q,W,11,,,2025-01-01\n\
             R7X,R7X-ADHD,A-3,2025-13-01,,,,,,,\n\
             R9A,R9A-ADHD,A-1,2025-03-04,,,,,,,\n\
             R9A,R9A-ADHD,9434765919,2027-01-01,,,,,,,\n"
        );
        let e = read_text(&text, None).unwrap_err();
        let has = |s: &str| assert!(e.iter().any(|x| x.contains(s)), "{s} not in {e:#?}");
        has("f.csv:2:37: ObjectiveTestDate: is before the referral");
        has("f.csv:3:5: ServiceCode: 'R9B-ADHD' is not a service code of R9A");
        has("f.csv:3:29: AgeAtReferral: '30' is not an age");
        has("f.csv:3:32: Gender: 'Q' is not a known gender code");
        has("f.csv:3:34: EthnicCategory: 'W' is not a known ethnic category");
        has("f.csv:3:36: IMDDecile: '11' is not a decile");
        has("f.csv:3:40: AppointmentsToDecision: is empty; a referral with a decision needs");
        has("f.csv:3:41: DecisionDate: is before the referral");
        has("f.csv:4:1: TrustCode: 'R7X' is not a trust held");
        has("f.csv:4:18: ReferralDate: '2025-13-01' is not a date");
        has("f.csv:5:14: ReferralId: duplicate referral A-1 of R9A-ADHD is also on line 2");
        has("f.csv:6:14: ReferralId: this looks like an NHS number");
        has("f.csv:6:25: ReferralDate: '2027-01-01' is after today");
    }

    #[test]
    fn the_header_another_trust_and_an_empty_file() {
        let e = read_text(
            "TrustCode,ServiceCode,ReferralDate\nR9A,R9A-ADHD,2025-01-01\n",
            None,
        )
        .unwrap_err();
        assert!(
            e[0].starts_with("f.csv:1:1: the header lacks ReferralId"),
            "{e:?}"
        );
        let e = read_text(&format!("{HEADER}\n"), None).unwrap_err();
        assert!(e[0].contains("no referrals"), "{e:?}");
        let e = read_text("", None).unwrap_err();
        assert!(e[0].contains("the file is empty"), "{e:?}");
        let e = read_text(
            &format!("{HEADER}\nR9B,R9B-ADHD,B-1,2025-03-04,,,,,,,\n"),
            Some("R9A"),
        )
        .unwrap_err();
        assert!(
            e[0].contains("'R9B' is another trust; expected R9A"),
            "{e:?}"
        );
    }

    #[test]
    fn a_mapping_renames_columns_and_values() {
        let m = Mapping::from_json(
            r#"{"name":"r9a-adhd","kind":"adhd_referrals","columns":{"Trust":"TrustCode","Team":"ServiceCode","Ref":"ReferralId","Received":"ReferralDate","Sex":"Gender"},"values":{"Gender":{"Boy":"1","Girl":"2"}}}"#,
        )
        .unwrap();
        let c = check_mapping(&m).unwrap();
        let h = held();
        let rows = read(
            "f.csv",
            b"Trust,Team,Ref,Received,Sex\nR9A,R9A-ADHD,X,2025-01-02,Girl\n",
            Some(&c),
            &Trusts {
                held: &h,
                only: None,
            },
            TODAY,
        )
        .unwrap();
        assert_eq!(rows[0].sex.as_deref(), Some("2"));
        let e = read(
            "f.csv",
            b"Trust,Team,Ref,Received,Sex\nR9A,R9A-ADHD,X,yesterday,Girl\n",
            Some(&c),
            &Trusts {
                held: &h,
                only: None,
            },
            TODAY,
        )
        .unwrap_err();
        assert!(
            e[0].to_string()
                .contains("Received (ReferralDate): 'yesterday' is not a date"),
            "{e:?}"
        );
        let wrong = Mapping {
            kind: "freed_referrals".into(),
            ..m.clone()
        };
        assert!(
            check_mapping(&wrong)
                .unwrap_err()
                .contains("expected a mapping for adhd_referrals")
        );
        let mut bad = m;
        bad.columns.insert("X".into(), "Nonsense".into());
        assert!(
            check_mapping(&bad)
                .unwrap_err()
                .contains("not an adhd_referrals column")
        );
    }

    proptest! {
        /// No input makes the reader panic, and whatever it accepts holds dates in order.
        #[test]
        fn any_bytes_are_read_or_refused(body in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut bytes = HEADER.as_bytes().to_vec();
            bytes.push(b'\n');
            bytes.extend(body);
            let h = held();
            if let Ok(rows) = read("f.csv", &bytes, None, &Trusts { held: &h, only: None }, TODAY) {
                for r in rows {
                    prop_assert!(r.test_day.is_none_or(|t| t >= r.referral_day));
                    prop_assert!(r.decision_day.is_none_or(|d| d >= r.referral_day));
                }
            }
        }

        /// Dates in any order: accepted exactly when they are in order.
        #[test]
        fn dates_are_accepted_only_in_order(r in 0i64..600, t in 0i64..600, d in 0i64..600) {
            let base = time::macros::date!(2024 - 01 - 01);
            let iso = |n: i64| domain::dates::iso(base + time::Duration::days(n));
            let text = format!("{HEADER}\nR9A,R9A-ADHD,P,{},,,,,{},3,{}\n", iso(r), iso(t), iso(d));
            let ok = read_text(&text, None).is_ok();
            prop_assert_eq!(ok, r <= t && t <= d);
        }
    }
}
