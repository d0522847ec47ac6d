//! `mhsip spc` against the real peer outputs in fixtures/spc (copied from ../shared): with
//! `--convention ptd` every point of NHSRplotthedots 0.2.2 must match (centre and limits to
//! 1e-9 relative, labels equal).

mod common;
use common::*;
use std::collections::HashMap;

/// Compare a `peerout_edge_*` file (the peers' per-point output on edge_cases.csv) with ours.
fn check_peerout(fixture_name: &str, args: &[&str], skip_series: &[&str]) {
    let mut full = vec![
        "spc",
        fixture("edge_cases.csv")
            .to_str()
            .unwrap()
            .to_string()
            .leak() as &str,
    ];
    full.extend_from_slice(args);
    let run = mhsip(&full, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ours = by_point(read_csv(&run.stdout));
    let summary = {
        let mut s = full.clone();
        s.push("--summary");
        let r = mhsip(&s, None);
        read_csv(&r.stdout)
            .into_iter()
            .map(|r| (r["series"].clone(), r))
            .collect::<HashMap<_, _>>()
    };
    let theirs = read_fixture(fixture_name);
    let mut compared = 0;
    for t in &theirs {
        if skip_series.contains(&t["series"].as_str()) {
            continue;
        }
        let key = (t["series"].clone(), t["period"].clone());
        let o = ours
            .get(&key)
            .unwrap_or_else(|| panic!("{fixture_name}: no output for {key:?}"));
        let at = format!("{fixture_name} {} {}", key.0, key.1);
        for (our_col, their_col) in [
            ("centre", "cl"),
            ("lower_limit", "lcl"),
            ("upper_limit", "ucl"),
            ("lower_2sigma", "lcl2"),
            ("upper_2sigma", "ucl2"),
        ] {
            assert!(
                close(&o[our_col], &t[their_col]),
                "{at}: {our_col} {} vs {their_col} {}",
                o[our_col],
                t[their_col]
            );
        }
        for (our_col, their_col) in [
            ("astronomical", "astro"),
            ("trend", "trend"),
            ("two_in_three", "two_in_three"),
            ("shift", "shift"),
        ] {
            assert_eq!(o[our_col], flag(&t[their_col]), "{at}: {our_col}");
        }
        let their_type = match t["point_type"].as_str() {
            "improvement+concern" => "improvement", // MDC: improvement wins a conflict
            other => other,
        };
        assert_eq!(o["point_type"], their_type, "{at}: point_type");
        assert_eq!(
            summary[&key.0]["variation"], t["variation_icon"],
            "{at}: variation icon"
        );
        let assurance = if t["assurance_icon"].is_empty() {
            "none"
        } else {
            t["assurance_icon"].as_str()
        };
        assert_eq!(
            summary[&key.0]["assurance"], assurance,
            "{at}: assurance icon"
        );
        compared += 1;
    }
    assert!(
        compared > 200,
        "{fixture_name}: only {compared} points compared"
    );
}

#[test]
fn ptd_matches_nhsrplotthedots_on_every_edge_case_increase() {
    check_peerout(
        "peerout_edge_ptd_increase.csv",
        &["--convention", "ptd", "--direction", "increase"],
        &[],
    );
}

#[test]
fn ptd_matches_nhsrplotthedots_on_every_edge_case_decrease() {
    check_peerout(
        "peerout_edge_ptd_decrease.csv",
        &["--convention", "ptd", "--direction", "decrease"],
        &[],
    );
}

#[test]
fn ptd_without_screening_matches_nhsrplotthedots() {
    check_peerout(
        "peerout_edge_ptd_noscreen_increase.csv",
        &[
            "--convention",
            "ptd",
            "--direction",
            "increase",
            "--no-screen-mr",
        ],
        &[],
    );
}

/// controlchartspy uses 3/1.128 with screened moving ranges (our I chart with --screen-mr) and
/// the MDC rules; it differs from MDC on E03 (a point on the mean does not break its runs) and
/// E06 (ties do not break its trends), where SPC.md is explicit and we follow MDC.
#[test]
fn mdc_rules_agree_with_controlchartspy_apart_from_its_documented_differences() {
    check_peerout(
        "peerout_edge_cc_increase.csv",
        &["--chart", "i", "--screen-mr", "--direction", "increase"],
        &["E03_shift_point_on_mean", "E06_trend_with_tie"],
    );
}

/// One `ptd_*` file: NHSRplotthedots' own column names.
fn check_ptd(fixture_name: &str, input: &str, args: &[&str], keep: impl Fn(&str) -> bool) {
    let text = std::fs::read_to_string(fixture(input)).unwrap();
    // The stable case uses the data before April 2018 only.
    let filtered: String = text
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || keep(&split_line(l)[1]))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let mut full = vec!["spc", "-", "--convention", "ptd", "--direction", "decrease"];
    full.extend_from_slice(args);
    let run = mhsip(&full, Some(filtered.as_bytes()));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ours: Vec<HashMap<String, String>> = read_csv(&run.stdout);
    let theirs = read_fixture(fixture_name);
    assert_eq!(ours.len(), theirs.len(), "{fixture_name}: number of points");
    let ours_by = by_point(ours);
    for t in &theirs {
        // Single-series fixtures call their series "no facet"; ours keeps the input's name.
        let series = if t["series"] == "no facet" {
            "RRK_type1_breaches".to_string()
        } else {
            t["series"].clone()
        };
        let o = &ours_by[&(series.clone(), t["period"].clone())];
        let at = format!("{fixture_name} {series} {}", t["period"]);
        assert!(
            close(&o["centre"], &t["mean"]),
            "{at}: centre {} vs {}",
            o["centre"],
            t["mean"]
        );
        assert!(
            close(&o["lower_limit"], &t["lpl"]),
            "{at}: lower {} vs {}",
            o["lower_limit"],
            t["lpl"]
        );
        assert!(
            close(&o["upper_limit"], &t["upl"]),
            "{at}: upper {} vs {}",
            o["upper_limit"],
            t["upl"]
        );
        assert_eq!(o["segment"], t["rebase_group"], "{at}: segment");
        let expected_rule = match t["special_cause_type"].as_str() {
            "Above UCL" => ("astronomical", "high"),
            "Below LCL" => ("astronomical", "low"),
            "7 Point Trend (Increasing)" => ("trend", "high"),
            "7 Point Trend (Decreasing)" => ("trend", "low"),
            "2 in 3 Above CL" => ("two_in_three", "high"),
            "2 in 3 Below CL" => ("two_in_three", "low"),
            "7 Points Above CL" => ("shift", "high"),
            "7 Points Below CL" => ("shift", "low"),
            "Common Cause" => ("", ""),
            other => panic!("unknown label {other}"),
        };
        for rule in ["astronomical", "trend", "two_in_three", "shift"] {
            let want = if rule == expected_rule.0 {
                expected_rule.1
            } else {
                ""
            };
            assert_eq!(
                o[rule], want,
                "{at}: {rule} (peer label {})",
                t["special_cause_type"]
            );
        }
        let want_type = t["point_type"].trim_start_matches("special_cause_");
        assert_eq!(o["point_type"], want_type, "{at}: point_type");
    }
}

#[test]
fn ptd_rrk_stable_decrease() {
    check_ptd(
        "ptd_rrk_stable_decrease.csv",
        "input_rrk_breaches.csv",
        &[],
        |p| p < "2018-04-01",
    );
}

#[test]
fn ptd_rrk_rebase_with_screening() {
    check_ptd(
        "ptd_rrk_rebase.csv",
        "input_rrk_breaches.csv",
        &["--rebase", "2018-07-01"],
        |_| true,
    );
}

#[test]
fn ptd_rrk_rebase_without_screening() {
    check_ptd(
        "ptd_rrk_rebase_noscreen.csv",
        "input_rrk_breaches.csv",
        &["--rebase", "2018-07-01", "--no-screen-mr"],
        |_| true,
    );
}

#[test]
fn ptd_rrk_fixed_baseline_and_target() {
    let args = ["--baseline", "12", "--target", "2000"];
    check_ptd(
        "ptd_rrk_fix12_target.csv",
        "input_rrk_breaches.csv",
        &args,
        |_| true,
    );
    let run = mhsip(
        &[
            "spc",
            fixture("input_rrk_breaches.csv").to_str().unwrap(),
            "--convention",
            "ptd",
            "--direction",
            "decrease",
            "--baseline",
            "12",
            "--target",
            "2000",
            "--summary",
        ],
        None,
    );
    let ours = &read_csv(&run.stdout)[0];
    let theirs = &read_fixture("ptd_rrk_fix12_target_summary.csv")[0];
    assert!(close(&ours["centre"], &theirs["mean_col"]));
    assert!(close(&ours["lower_limit"], &theirs["lpl"]));
    assert!(close(&ours["upper_limit"], &theirs["upl"]));
    assert_eq!(ours["points"], theirs["n"]);
    assert_eq!(ours["variation"], "concern_high"); // special_cause_concern, above the mean
    assert_eq!(theirs["assurance_type"], "inconsistent");
    assert_eq!(ours["assurance"], "hit_or_miss");
    // The per-point counts of the summary agree with ours too.
    let points = read_csv(
        &mhsip(
            &[
                "spc",
                fixture("input_rrk_breaches.csv").to_str().unwrap(),
                "--convention",
                "ptd",
                "--direction",
                "decrease",
                "--baseline",
                "12",
            ],
            None,
        )
        .stdout,
    );
    let count = |t: &str| {
        points
            .iter()
            .filter(|p| p["point_type"] == t)
            .count()
            .to_string()
    };
    assert_eq!(count("common_cause"), theirs["common_cause"]);
    assert_eq!(count("improvement"), theirs["special_cause_improvement"]);
    assert_eq!(count("concern"), theirs["special_cause_concern"]);
}

#[test]
fn ptd_six_trusts_in_one_file() {
    check_ptd("ptd_6trusts.csv", "input_6trusts_breaches.csv", &[], |_| {
        true
    });
}

/// The 2023 two-of-three change on a real-shaped series: MDC flags both the 5.6 (beyond the
/// 2-sigma line) and the 9.0 (beyond the limit); NHSRplotthedots only the 9.0, as astronomical.
#[test]
fn two_of_three_mdc_versus_ptd() {
    let file = fixture("edge_2of3.csv");
    let mdc = by_point(read_csv(
        &mhsip(
            &["spc", file.to_str().unwrap(), "--direction", "increase"],
            None,
        )
        .stdout,
    ));
    let a = &mdc[&("E1".to_string(), "2020-01-17".to_string())];
    let b = &mdc[&("E1".to_string(), "2020-01-18".to_string())];
    assert_eq!(
        (a["two_in_three"].as_str(), a["point_type"].as_str()),
        ("high", "improvement")
    );
    assert_eq!(
        (b["two_in_three"].as_str(), b["astronomical"].as_str()),
        ("high", "high")
    );
    let ptd = by_point(read_csv(
        &mhsip(
            &[
                "spc",
                file.to_str().unwrap(),
                "--direction",
                "increase",
                "--convention",
                "ptd",
            ],
            None,
        )
        .stdout,
    ));
    let a = &ptd[&("E1".to_string(), "2020-01-17".to_string())];
    let b = &ptd[&("E1".to_string(), "2020-01-18".to_string())];
    assert_eq!(
        (a["two_in_three"].as_str(), a["point_type"].as_str()),
        ("", "common_cause")
    );
    assert_eq!(
        (b["astronomical"].as_str(), b["two_in_three"].as_str()),
        ("high", "")
    );
}

/// A missing month stays a gap: it is excluded from the mean, no moving range crosses it,
/// and it is written back with a blank value.
#[test]
fn a_missing_value_is_a_gap() {
    let file = fixture("edge_na.csv");
    let run = mhsip(&["spc", file.to_str().unwrap()], None);
    let rows = read_csv(&run.stdout);
    assert_eq!(rows.len(), 24);
    let gap = rows.iter().find(|r| r["period"] == "2023-01-01").unwrap();
    assert_eq!(
        (gap["value"].as_str(), gap["point_type"].as_str()),
        ("", "")
    );
    let values: Vec<f64> = rows
        .iter()
        .filter_map(|r| r["value"].parse().ok())
        .collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let raw: Vec<Option<f64>> = rows.iter().map(|r| r["value"].parse().ok()).collect();
    let mrs: Vec<f64> = raw
        .windows(2)
        .filter_map(|w| Some((w[1]? - w[0]?).abs()))
        .collect();
    assert_eq!(mrs.len(), 21, "two moving ranges dropped around the gap");
    let amr = mrs.iter().sum::<f64>() / mrs.len() as f64;
    assert!(close(&rows[0]["centre"], &mean.to_string()));
    assert!(close(
        &rows[0]["upper_limit"],
        &(mean + 2.66 * amr).to_string()
    ));
}
