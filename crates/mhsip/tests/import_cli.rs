//! `mhsip import` as a trust analyst runs it: the summary, the dry run, errors as
//! FILE:LINE:COLUMN, and an import killed half-way that leaves the database as it was.

mod common;
use common::{mhsip, read_csv};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples")
}

fn data_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mhsip-import-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn import(data: &Path, kind: &str, file: &Path, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "import",
        "--data",
        data.to_str().unwrap(),
        "--kind",
        kind,
        file.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    mhsip(&args, None)
}

fn count(data: &Path, table: &str) -> i64 {
    let out = Command::new("python3")
        .args(["-c", &format!("import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from {table}').fetchone()[0])"), data.join("mhsip.db").to_str().unwrap()])
        .output()
        .expect("python3 reads the database");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(-1)
}

/// Import these example files (docs/examples), expecting each to succeed.
fn import_examples(data: &Path, kinds: &[&str]) {
    for kind in kinds {
        let r = import(data, kind, &examples().join(format!("{kind}.csv")), &[]);
        assert_eq!(r.code, 0, "{kind}: {}", r.stderr);
    }
}

fn setup(data: &Path) {
    import_examples(data, &["organisations", "wards", "patients", "ward_stays"]);
}

#[test]
fn summary_dry_run_and_errors() {
    let data = data_dir("summary");
    let r = import(
        &data,
        "organisations",
        &examples().join("organisations.csv"),
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("A new pseudonymisation key was created"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("organisations (CSV (UTF-8, comma-separated)), 6 rows: 6 new, 0 updated [all: 6]. Upload 1 saved."), "{}", r.stdout);
    setup(&data);
    let ri = examples().join("restrictive_interventions.csv");
    let r = import(&data, "restrictive_interventions", &ri, &["--dry-run"]);
    assert!(
        r.stdout
            .contains("8 rows: 8 new, 0 updated [R8A: 6, R8B: 2]. Dry run: nothing was changed."),
        "{}",
        r.stdout
    );
    assert_eq!(count(&data, "ri_interventions"), 0);

    let bad = data.join("bad.csv");
    let text = std::fs::read_to_string(&ri)
        .unwrap()
        .replace("RI-003,1,9990000034", "RI-003,1,9990000035");
    std::fs::write(&bad, text).unwrap();
    let r = import(&data, "restrictive_interventions", &bad, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    let first = r.stderr.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "{}:5:10: NHSNumber: NHS number fails its modulus 11 check digit; expected a valid NHS number such as 943 476 5919",
            bad.display()
        )
    );
    assert!(r.stderr.contains("nothing was imported"));
    assert_eq!(count(&data, "ri_interventions"), 0);
}

/// Kill the process while it imports: SQLite's transaction means the database is exactly as
/// before, and the next import succeeds.
#[test]
fn killing_an_import_changes_nothing() {
    let data = data_dir("kill");
    setup(&data);
    let header = std::fs::read_to_string(examples().join("restrictive_interventions.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let mut text = header + "\n";
    for i in 0..200_000 {
        let day = 5 + i % 26;
        text.push_str(&format!("K-{i},1,9990000018,R8A-ASH,2024-01-{day:02},10:00,2024-01-{day:02},10:30,10,Y,Y,09,2024-01-{day:02},10:01,2024-01-{day:02},10:11,N,N,N\n"));
    }
    let big = data.join("big.csv");
    std::fs::write(&big, &text).unwrap();
    let before = count(&data, "uploads");
    for delay_ms in [300, 900] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mhsip"))
            .args([
                "import",
                "--data",
                data.to_str().unwrap(),
                "--kind",
                "restrictive_interventions",
                big.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok();
        child.wait().unwrap();
        if !finished {
            assert_eq!(
                count(&data, "ri_interventions"),
                0,
                "killed after {delay_ms} ms: nothing may remain"
            );
            assert_eq!(count(&data, "uploads"), before);
        }
    }
    let r = import(&data, "restrictive_interventions", &big, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(count(&data, "ri_interventions"), 200_000);
}

/// The region's breakdowns and completeness, from the command line, on the example region.
#[test]
fn inequalities_and_completeness_commands() {
    let data = data_dir("ineq");
    setup(&data);
    import_examples(
        &data,
        &["bed_days", "restrictive_interventions", "incidents"],
    );
    let d = data.to_str().unwrap();
    let r = mhsip(
        &[
            "inequalities",
            "--data",
            d,
            "--by",
            "ethnic_group",
            "--scope",
            "trust:R8A",
            "--from",
            "2024-01-01",
            "--to",
            "2024-03-31",
            "--csv",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let white = r
        .stdout
        .lines()
        .find(|l| l.starts_with("ethnic_group,White,"))
        .unwrap();
    assert!(
        white.starts_with("ethnic_group,White,2,40,50.0000,"),
        "{white}"
    );
    assert!(
        white.ends_with(",true,false"),
        "White is the reference: {white}"
    );
    let black = r
        .stdout
        .lines()
        .find(|l| l.starts_with("ethnic_group,Black or Black British,"))
        .unwrap();
    assert!(black.contains(",3,177,16.9492,"), "{black}");
    let r = mhsip(
        &[
            "inequalities",
            "--data",
            d,
            "--measure",
            "ri_rate",
            "--by",
            "sex",
            "--disclose",
        ],
        None,
    );
    assert!(
        r.stdout.contains("* suppressed"),
        "small numbers are suppressed: {}",
        r.stdout
    );
    let r = mhsip(
        &[
            "inequalities",
            "--data",
            d,
            "--measure",
            "median_restraint_minutes",
        ],
        None,
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("cannot be broken down"), "{}", r.stderr);

    let r = mhsip(
        &[
            "completeness",
            "--data",
            d,
            "--from",
            "2024-01-01",
            "--to",
            "2024-04-30",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("R8A-ASH: no bed days for Apr 2024"),
        "{}",
        r.stdout
    );
}

/// Journey 3 from the command line: a ward's chart with a dated change, rebased there.
#[test]
fn chart_command_draws_annotations_and_rebases() {
    let data = data_dir("chart");
    setup(&data);
    import_examples(&data, &["bed_days", "restrictive_interventions"]);
    let out = data.join("ash.svg");
    let r = mhsip(
        &[
            "chart",
            "--data",
            data.to_str().unwrap(),
            "--measure",
            "ri_rate",
            "--org",
            "r8a-ash",
            "--annotate",
            "2024-02-01=Safety huddles",
            "--rebase",
            "2024-02-01",
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(
            "R8A-ASH: Restrictive interventions per 1,000 occupied bed days: 3 points, 2 segments"
        ),
        "{}",
        r.stdout
    );
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(
        svg.contains("2024-02-01 Safety huddles")
            && svg.contains("Rebased")
            && svg.contains("Jan 2024")
    );
    let r = mhsip(
        &[
            "chart",
            "--data",
            data.to_str().unwrap(),
            "--measure",
            "ri_rate",
            "--org",
            "NOWHERE",
        ],
        None,
    );
    assert!(
        r.stderr.contains("no ward or organisation called NOWHERE"),
        "{}",
        r.stderr
    );
}

/// Accounts from the command line (password on standard input), and the audit log of uploads.
#[test]
fn users_and_audit_from_the_command_line() {
    let data = data_dir("users");
    setup(&data);
    let d = data.to_str().unwrap();
    let r = mhsip(
        &[
            "users",
            "add",
            "ward.ash",
            "--data",
            d,
            "--role",
            "ward_user",
            "--trust",
            "R8A",
            "--ward",
            "R8A-ASH",
        ],
        Some(b"a long enough secret\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("Created ward.ash: Ward user for R8A-ASH"),
        "{}",
        r.stdout
    );
    let r = mhsip(
        &["users", "add", "lead", "--data", d, "--role", "trust_lead"],
        Some(b"a long enough secret\n"),
    );
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("a trust lead needs a trust"),
        "{}",
        r.stderr
    );
    let r = mhsip(&["users", "list", "--data", d], None);
    assert!(
        r.stdout.contains("ward.ash,ward_user,R8A,R8A-ASH,"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("secret"));
    let r = mhsip(&["users", "audit", "--data", d], None);
    assert!(
        r.stdout.contains(",create_user,ward.ash,,ward_user"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(",upload,ward_stays "),
        "uploads are audited: {}",
        r.stdout
    );
}

/// Journey 3 with a saved annotation: it appears on the ward's charts and rebases them.
#[test]
fn saved_annotations_appear_on_charts_and_rebase_them() {
    let data = data_dir("annotate");
    setup(&data);
    import_examples(&data, &["bed_days", "restrictive_interventions"]);
    let d = data.to_str().unwrap();
    let r = mhsip(
        &[
            "annotate",
            "--data",
            d,
            "--org",
            "R8A-ASH",
            "--date",
            "2024-02-01",
            "--text",
            "Started safety huddles",
            "--rebase",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("Annotation 1 added to R8A-ASH on 2024-02-01, rebasing its charts there."),
        "{}",
        r.stdout
    );
    let r = mhsip(
        &[
            "annotate", "--data", d, "--org", "R8A-ASH", "--list", "--date", "x", "--text", "x",
        ],
        None,
    );
    assert!(
        r.stdout
            .contains("2024-02-01\tall measures\tStarted safety huddles (rebase)"),
        "{}",
        r.stdout
    );
    let out = data.join("c.svg");
    let r = mhsip(
        &[
            "chart",
            "--data",
            d,
            "--measure",
            "ri_prone_rate",
            "--org",
            "R8A-ASH",
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert!(r.stdout.contains("3 points, 2 segments"), "{}", r.stdout);
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("2024-02-01 Started safety huddles")
    );
    let csv = data.join("c.csv");
    let xlsx = data.join("c.xlsx");
    for t in [&csv, &xlsx] {
        let r = mhsip(
            &[
                "chart",
                "--data",
                d,
                "--measure",
                "ri_rate",
                "--org",
                "R8A-ASH",
                "--out",
                out.to_str().unwrap(),
                "--table",
                t.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let table = std::fs::read_to_string(&csv).unwrap();
    assert!(table.starts_with("period,numerator,denominator,value,centre,lower_limit,upper_limit,point_type,segment,annotation\nJan 2024,3,600,5,"), "{table}");
    assert!(
        table.contains(",1,2024-02-01 Started safety huddles (rebased)\n"),
        "{table}"
    );
    assert!(
        std::fs::read(&xlsx).unwrap().starts_with(b"PK"),
        "a real workbook"
    );
    let r = mhsip(
        &[
            "annotate",
            "--data",
            d,
            "--org",
            "R8Z-NONE",
            "--date",
            "2024-02-01",
            "--text",
            "x",
        ],
        None,
    );
    assert!(
        r.stderr.contains("no ward or organisation called R8Z-NONE"),
        "{}",
        r.stderr
    );
    let r = mhsip(&["users", "audit", "--data", d], None);
    assert!(
        r.stdout
            .contains(",annotate,R8A-ASH,R8A-ASH,annotation 1: 2024-02-01 Started safety huddles"),
        "{}",
        r.stdout
    );
}

/// `mhsip measures --disclose` shows what the web shows another organisation: every small
/// count, and the median over fewer than 5 restraints with the number of restraints, starred;
/// no event-level series (days between incidents) at all.
#[test]
fn measures_with_disclosure_control_follow_the_chart_tables() {
    let data = data_dir("disclose");
    setup(&data);
    import_examples(
        &data,
        &["bed_days", "restrictive_interventions", "incidents"],
    );
    let d = data.to_str().unwrap();
    let args = |measure: &'static str| {
        [
            "measures",
            "--data",
            d,
            "--level",
            "ward",
            "--measure",
            measure,
            "--disclose",
        ]
    };
    let r = mhsip(&args("median_restraint_minutes"), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = read_csv(&r.stdout);
    assert!(!rows.is_empty(), "{}", r.stdout);
    // The example region holds a handful of restraints a month: never 5.
    for row in &rows {
        assert_eq!(row["numerator"], "*", "{row:?}");
        assert!(["*", ""].contains(&row["denominator"].as_str()), "{row:?}");
        assert_eq!(row["value"], "", "{row:?}");
    }
    let r = mhsip(&args("days_between_self_harm"), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1, "header only: {}", r.stdout);
    // Without --disclose the same command shows the exact figures.
    let r = mhsip(
        &[
            "measures",
            "--data",
            d,
            "--level",
            "ward",
            "--measure",
            "days_between_self_harm",
        ],
        None,
    );
    assert!(r.stdout.lines().count() > 1, "{}", r.stdout);
    let _ = std::fs::remove_dir_all(&data);
}
