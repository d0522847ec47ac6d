//! Data completeness finds what it exists to find: the demo region (built by `mhsip demo`, the
//! real generator and import) plants trust R9E uploading about a quarter of its restrictive
//! interventions and incidents from January to July 2025. `mhsip completeness` must flag at
//! least 90% of those ward-months and name the trust for the period, and flag no more than 2%
//! of all the other ward-months.
//!
//! Run: `cargo test -p mhsip --test completeness_demo -- --nocapture` (prints both figures).

mod common;

use common::{mhsip, read_csv};

const TRUST: &str = "R9E";
const FIRST: &str = "2025-01-01";
const LAST: &str = "2025-07-01";

#[test]
fn completeness_finds_the_planted_under_reporting_of_the_demo() {
    let data = std::env::temp_dir().join(format!("mhsip-completeness-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let d = data.to_str().unwrap();
    let built = mhsip(&["demo", "--no-serve", "--no-summary", "--data", d], None);
    assert_eq!(built.code, 0, "{}", built.stderr);
    // What the generator says it planted is what this test looks for.
    assert!(
        built
            .stderr
            .contains("R9E from 2025-01-01: Trust under-reports: only about a quarter"),
        "{}",
        built.stderr
    );

    let all = mhsip(&["completeness", "--all", "--data", d], None);
    assert_eq!(all.code, 0, "{}", all.stderr);
    let rows = read_csv(&all.stdout);
    assert_eq!(rows.len(), 60 * 60, "60 wards, 60 months");
    let planted = |r: &std::collections::HashMap<String, String>| {
        r["trust"] == TRUST && r["month"].as_str() >= FIRST && r["month"].as_str() <= LAST
    };
    let (mut planted_n, mut planted_flagged, mut other_n, mut other_flagged) = (0, 0, 0, 0);
    let mut others = Vec::new();
    for r in &rows {
        if planted(r) {
            planted_n += 1;
            planted_flagged += usize::from(r["status"] == "likely_under_reported");
            // The trust as a whole is found short in every planted month.
            assert!(!r["trust_events"].is_empty(), "{r:?}");
        } else {
            other_n += 1;
            if r["status"] != "complete" {
                other_flagged += 1;
                others.push(format!("{} {} {}", r["ward"], r["month"], r["status"]));
            }
            // ...and in no other month of any trust.
            assert!(r["trust_events"].is_empty(), "{r:?}");
        }
    }
    let planted_pct = 100.0 * planted_flagged as f64 / planted_n as f64;
    let other_pct = 100.0 * other_flagged as f64 / other_n as f64;
    println!(
        "planted ward-months flagged: {planted_flagged} of {planted_n} ({planted_pct:.1}%); \
         other ward-months flagged: {other_flagged} of {other_n} ({other_pct:.2}%)"
    );
    println!("other ward-months flagged: {}", others.join(", "));
    assert_eq!(planted_n, 70, "10 wards of R9E, 7 months");
    assert!(
        planted_pct >= 90.0,
        "{planted_pct:.1}% of planted ward-months flagged"
    );
    assert!(
        other_pct <= 2.0,
        "{other_pct:.2}% of other ward-months flagged"
    );

    // The summary names the trust for the period, and no other trust.
    let summary = mhsip(&["completeness", "--data", d], None);
    assert_eq!(summary.code, 0, "{}", summary.stderr);
    let trust_lines: Vec<&str> = summary
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("Trust "))
        .collect();
    println!("{}", trust_lines.join("\n"));
    assert_eq!(trust_lines.len(), 1, "{}", summary.stdout);
    assert!(
        trust_lines[0]
            .contains("Trust R9E: far fewer events than its own past in Jan 2025 to Jul 2025"),
        "{}",
        trust_lines[0]
    );
    // Judged against the months before, a window that starts inside the period still finds it.
    let window = mhsip(
        &[
            "completeness",
            "--data",
            d,
            "--from",
            "2025-03-01",
            "--to",
            "2025-05-31",
        ],
        None,
    );
    assert!(
        window
            .stdout
            .contains("Trust R9E: far fewer events than its own past in Mar 2025 to May 2025"),
        "{}",
        window.stdout
    );
    // A ward on its own reads as it does in the whole region (its trust is judged whole).
    let one = mhsip(
        &[
            "completeness",
            "--all",
            "--data",
            d,
            "--scope",
            "ward:R9E-ASH",
        ],
        None,
    );
    let whole: Vec<&str> = all
        .stdout
        .lines()
        .filter(|l| l.starts_with("R9E-ASH,"))
        .collect();
    assert_eq!(one.stdout.lines().skip(1).collect::<Vec<_>>(), whole);

    // The overview, as the demo's programme admin sees it, names the trust for the period.
    let overview = common::Served::sign_in(&data, "admin", "demo-password").get("/");
    let warning = overview
        .split("Data to check")
        .nth(1)
        .expect("the overview has its data-to-check list");
    assert!(
        warning.contains(
            r#"<a href="/completeness?org=R9E">Westshore Mental Health</a>: far fewer events than its own past in Jan 2025 to Jul 2025"#
        ),
        "{warning}"
    );
    let _ = std::fs::remove_dir_all(&data);
}
