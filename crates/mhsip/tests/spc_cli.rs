//! `mhsip spc` as an analyst uses it: options, formats, many series, and every kind of bad
//! input giving `FILE:LINE:COLUMN: message` on stderr and nothing on stdout.

mod common;
use common::*;
use proptest::prelude::*;
use std::path::PathBuf;

fn tmp(name: &str, content: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mhsip-spc-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// Run on a file with this content and expect a clean failure with this one error line.
fn expect_error(name: &str, content: &[u8], extra: &[&str], expected: &str) {
    let path = tmp(name, content);
    let mut args = vec!["spc", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let r = mhsip(&args, None);
    assert_ne!(r.code, 0, "{name}: should fail");
    assert_eq!(r.stdout, "", "{name}: nothing on stdout");
    let first = r.stderr.lines().next().unwrap_or_default();
    let want = format!("{}:{expected}", path.display());
    assert!(
        first.starts_with(&want),
        "{name}: got\n  {first}\nwanted it to start with\n  {want}"
    );
}

#[test]
fn a_value_that_is_not_a_number() {
    expect_error(
        "nan.csv",
        b"series,period,value\nA,2024-01-01,12\nA,2024-02-01,twelve\n",
        &[],
        "3:14: value 'twelve' is not a number",
    );
}

#[test]
fn a_duplicate_period_in_a_series() {
    expect_error(
        "dup.csv",
        b"series,period,value\nA,2024-01-01,1\nB,2024-01-01,1\nA,2024-01-01,2\n",
        &[],
        "4:3: duplicate period 2024-01-01 for series 'A' (first on line 2)",
    );
}

#[test]
fn a_missing_or_zero_denominator_for_rate_charts() {
    let data =
        b"series,period,value,denominator\nA,2024-01-01,3,900\nA,2024-02-01,4,\nA,2024-03-01,5,0\n";
    expect_error(
        "den.csv",
        data,
        &["--chart", "u"],
        "3:16: series 'A': missing denominator",
    );
    let zero = b"series,period,value,denominator\nA,2024-01-01,3,900\nA,2024-03-01,5,0\n";
    expect_error(
        "den0.csv",
        zero,
        &["--chart", "p"],
        "3:16: series 'A': denominator 0 is not above zero",
    );
    expect_error(
        "noden.csv",
        b"series,period,value\nA,2024-01-01,3\n",
        &["--chart", "uprime"],
        "1:1: a uprime chart needs a denominator column",
    );
}

#[test]
fn an_empty_file_a_header_only_file_and_a_bad_header() {
    expect_error("empty.csv", b"", &[], "1:1: the file is empty");
    expect_error(
        "header.csv",
        b"series,period,value\n",
        &[],
        "1:1: the file has a header but no data rows",
    );
    expect_error(
        "badhead.csv",
        b"series,month,value\nA,1,2\n",
        &[],
        "1:8: unknown column 'month'",
    );
    expect_error(
        "short.csv",
        b"series,period,value\nA,2024-01-01\n",
        &[],
        "2:3: found 2 fields but the header has 3",
    );
    expect_error(
        "latin1.csv",
        b"series,period,value\nCaf\xe9,2024-01-01,1\n",
        &[],
        "2:4: the file is not UTF-8 text",
    );
    expect_error(
        "quote.csv",
        b"series,period,value\n\"A,2024-01-01,1\n",
        &[],
        "2:1: quoted field is never closed",
    );
    expect_error(
        "mixed.csv",
        b"series,period,value\nA,2024-01-01,1\nA,3,2\n",
        &[],
        "3:3: period 3 is an integer but series 'A' has a date",
    );
}

#[test]
fn an_unknown_option_is_refused_before_anything_is_written() {
    let path = tmp("ok.csv", b"series,period,value\nA,2024-01-01,1\n");
    let r = mhsip(&["spc", path.to_str().unwrap(), "--colour", "red"], None);
    assert_ne!(r.code, 0);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("--colour"), "{}", r.stderr);
    let r = mhsip(&["spc", path.to_str().unwrap(), "--chart", "pie"], None);
    assert!(r.stderr.contains("unknown chart 'pie'"), "{}", r.stderr);
}

#[test]
fn reads_standard_input_and_writes_every_documented_column() {
    let r = mhsip(
        &["spc", "-"],
        Some(b"series,period,value\nA,1,5\nA,2,6\nA,3,7\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout.lines().next().unwrap(),
        "series,period,value,centre,lower_limit,upper_limit,lower_2sigma,upper_2sigma,astronomical,shift,trend,two_in_three,point_type,segment,trial"
    );
    assert_eq!(
        r.stdout.lines().nth(1).unwrap(),
        "A,1,5,6,3.34,8.66,4.226666666666667,7.773333333333333,,,,,common_cause,0,true"
    );
}

#[test]
fn summary_has_one_row_per_series_with_icons() {
    let mut data = String::from("series,period,value\n");
    for i in 1..=24 {
        data.push_str(&format!(
            "Ward B,{i},{}\n",
            if i > 16 { 2 } else { 10 + i % 2 }
        ));
        data.push_str(&format!("Ward A,{i},{}\n", 10 + i % 3));
    }
    let r = mhsip(
        &[
            "spc",
            "-",
            "--summary",
            "--direction",
            "decrease",
            "--target",
            "12",
        ],
        Some(data.as_bytes()),
    );
    let rows = read_csv(&r.stdout);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["series"], "Ward A");
    assert_eq!(rows[0]["variation"], "common_cause");
    assert_eq!(rows[1]["variation"], "improvement_low");
    assert_eq!(rows[0]["points"], "24");
    assert!(["pass", "fail", "hit_or_miss"].contains(&rows[0]["assurance"].as_str()));
    assert_eq!(rows[1]["runs_signal"], "true");
}

#[test]
fn series_settings_give_each_measure_its_own_direction_target_rebase_and_baseline() {
    let mut data = String::from("series,period,value\n");
    for m in 1..=12 {
        for y in [2022, 2023] {
            let v = if y == 2023 { 5 + m % 2 } else { 10 + m % 2 };
            data.push_str(&format!(
                "restraint,{y}-{m:02}-01,{v}\nleave_on_time,{y}-{m:02}-01,{}\n",
                90 + m % 3
            ));
        }
    }
    let data_path = tmp("multi.csv", data.as_bytes());
    let settings = tmp(
        "settings.csv",
        b"series,direction,target,rebase,baseline\nrestraint,decrease,9,\"2023-01-01\",\nleave_on_time,increase,85,,12\n",
    );
    let r = mhsip(
        &[
            "spc",
            data_path.to_str().unwrap(),
            "--series-settings",
            settings.to_str().unwrap(),
            "--summary",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = read_csv(&r.stdout);
    let leave = &rows[0];
    let restraint = &rows[1];
    assert_eq!(restraint["segments"], "2");
    assert_eq!(restraint["centre"], "5.5");
    assert_eq!(restraint["assurance"], "pass");
    assert_eq!(leave["assurance"], "pass");

    let bad = tmp(
        "bad-settings.csv",
        b"series,direction,target,rebase,baseline\nrestraint,down-ish,8,,\n",
    );
    let r = mhsip(
        &[
            "spc",
            data_path.to_str().unwrap(),
            "--series-settings",
            bad.to_str().unwrap(),
        ],
        None,
    );
    assert_ne!(r.code, 0);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.starts_with(&format!(
            "{}:2:11: unknown direction 'down-ish'",
            bad.display()
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn json_output_holds_summary_segments_and_points() {
    let r = mhsip(
        &["spc", "-", "--format", "json", "--rebase", "4"],
        Some(b"series,period,value\nA,1,5\nA,2,6\nA,3,7\nA,4,1\nA,5,\nA,6,2\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = &r.stdout;
    assert!(
        j.starts_with("[\n{\"series\":\"A\",\"chart\":\"xmr\""),
        "{j}"
    );
    assert!(j.contains("\"segments\":[{\"first_period\":\"1\""));
    assert!(j.contains("{\"first_period\":\"4\",\"points\":2"));
    assert!(j.contains("{\"period\":\"5\",\"value\":null"));
    assert!(j.trim_end().ends_with(']'));
}

#[test]
fn svg_charts_are_written_one_per_series() {
    let dir = std::env::temp_dir().join(format!("mhsip-svg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let r = mhsip(
        &[
            "spc",
            fixture("input_6trusts_breaches.csv").to_str().unwrap(),
            "--direction",
            "decrease",
            "--svg",
            dir.to_str().unwrap(),
            "--summary",
            "--target",
            "3000",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files.len(), 6);
    let svg = std::fs::read_to_string(dir.join(&files[0])).unwrap();
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    assert!(
        svg.contains("<title id=\"spc-title\">")
            && svg.contains("<desc id=\"spc-desc\">Latest value")
    );
    assert!(svg.contains("Apr 2016") && svg.contains("Target 3000"));
}

#[test]
fn missing_months_are_written_as_gaps() {
    let r = mhsip(
        &["spc", "-"],
        Some(b"series,period,value\nA,2024-01-01,1\nA,2024-03-01,3\n"),
    );
    let rows = read_csv(&r.stdout);
    assert_eq!(rows.len(), 3);
    assert_eq!(
        (rows[1]["period"].as_str(), rows[1]["value"].as_str()),
        ("2024-02-01", "")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The order of rows (and so of series) in the input changes no output.
    #[test]
    fn row_order_changes_no_output(seed in any::<u64>()) {
        let text = std::fs::read_to_string(fixture("input_6trusts_breaches.csv")).unwrap();
        let mut lines: Vec<&str> = text.lines().skip(1).collect();
        // Fisher-Yates with a tiny LCG from the seed.
        let mut s = seed | 1;
        for i in (1..lines.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            lines.swap(i, (s >> 33) as usize % (i + 1));
        }
        let shuffled = format!("series,period,value\n{}\n", lines.join("\n"));
        let a = mhsip(&["spc", fixture("input_6trusts_breaches.csv").to_str().unwrap(), "--direction", "decrease"], None);
        let b = mhsip(&["spc", "-", "--direction", "decrease"], Some(shuffled.as_bytes()));
        prop_assert_eq!(a.stdout, b.stdout);
    }

    /// Any bytes at all: a clean result or a clean error, never a crash.
    #[test]
    fn arbitrary_input_never_crashes(body in prop::collection::vec(any::<u8>(), 0..300), header in any::<bool>()) {
        let mut input = if header { b"series,period,value\n".to_vec() } else { Vec::new() };
        input.extend(body);
        let r = mhsip(&["spc", "-"], Some(&input));
        prop_assert!(r.code == 0 || r.code == 1, "exit {} stderr {}", r.code, r.stderr);
        if r.code == 1 {
            prop_assert!(r.stdout.is_empty());
            prop_assert!(r.stderr.starts_with("<stdin>:"), "{}", r.stderr);
        }
    }
}

// ---- Issue 9, item 7: the `mhsip spc` contract ----

/// Run `mhsip` with one extra environment variable (the worker-panic hook of debug builds).
fn mhsip_with_env(args: &[&str], key: &str, value: &str) -> Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mhsip"))
        .args(args)
        .env(key, value)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("mhsip runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn upper_limit(r: &Run) -> String {
    assert_eq!(r.code, 0, "{}", r.stderr);
    read_csv(&r.stdout)[0]["upper_limit"].clone()
}

/// SPC.md's vignette outlier series: upper limit 6.9515 unscreened, 4.6044 screened.
const OUTLIER_SERIES: [u32; 18] = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1];

#[test]
fn screen_mr_is_a_plain_switch_that_never_swallows_the_file_name() {
    // The command of the issue: a U' chart with --screen-mr right before the file.
    let mut rates = String::from("series,period,value,denominator\n");
    for (i, v) in [30, 32, 29, 31, 30, 90, 31, 30, 32, 29, 31, 30, 31, 29, 30]
        .iter()
        .enumerate()
    {
        rates.push_str(&format!("W1,{},{v},{}\n", i + 1, 10_000 + 37 * i));
    }
    let rates = tmp("screen-uprime.csv", rates.as_bytes());
    let f = rates.to_str().unwrap();
    let before = mhsip(&["spc", "--chart", "uprime", "--screen-mr", f], None);
    assert_eq!(before.code, 0, "{}", before.stderr);
    let after = mhsip(&["spc", f, "--chart", "uprime", "--screen-mr"], None);
    assert_eq!(before.stdout, after.stdout);
    let unscreened = mhsip(&["spc", f, "--chart", "uprime"], None);
    assert_ne!(
        upper_limit(&before),
        upper_limit(&unscreened),
        "screening the z moving ranges must narrow the limits"
    );

    // Defaults per convention, and --no-screen-mr to turn the ptd default off.
    let mut data = String::from("series,period,value\n");
    for (i, v) in OUTLIER_SERIES.iter().enumerate() {
        data.push_str(&format!("A,{},{v}\n", i + 1));
    }
    let data = tmp("screen-outlier.csv", data.as_bytes());
    let f = data.to_str().unwrap();
    let upper = |args: &[&str]| -> f64 {
        let mut all = vec!["spc"];
        all.extend_from_slice(args);
        upper_limit(&mhsip(&all, None)).parse().unwrap()
    };
    let near = |a: f64, b: f64| (a - b).abs() < 1e-3;
    assert!(near(upper(&[f]), 6.9515), "mdc: off by default");
    assert!(near(upper(&["--screen-mr", f]), 4.6044), "mdc --screen-mr");
    assert!(
        near(upper(&["--convention", "ptd", f]), 4.6044),
        "ptd: on by default"
    );
    assert!(near(
        upper(&["--convention", "ptd", "--no-screen-mr", f]),
        6.9515
    ));
    assert!(
        near(upper(&["--no-screen-mr", "--screen-mr", f]), 4.6044),
        "last wins"
    );
    assert!(
        near(upper(&["--screen-mr", "--no-screen-mr", f]), 6.9515),
        "last wins"
    );

    // The old `=on|off` spelling is refused as a usage error, with nothing on stdout.
    for old in ["--screen-mr=off", "--screen-mr=on"] {
        let r = mhsip(&["spc", f, old], None);
        assert_eq!(r.code, 2, "{old}: {}", r.stderr);
        assert_eq!(r.stdout, "");
        assert!(r.stderr.contains("--screen-mr"), "{}", r.stderr);
    }
}

#[test]
fn a_denominator_column_blank_on_every_row_counts_as_absent() {
    // As a spreadsheet exports it: the column is there, every cell is empty.
    let blank = b"series,period,value,denominator\nA,2024-01-01,5,\nA,2024-02-01,7,\nB,2024-01-01,3,\nB,2024-02-01,,\nB,2024-03-01,4,\n";
    let plain = b"series,period,value\nA,2024-01-01,5\nA,2024-02-01,7\nB,2024-01-01,3\nB,2024-02-01,\nB,2024-03-01,4\n";
    let blank = tmp("den-blank.csv", blank);
    let plain = tmp("den-none.csv", plain);
    for chart in ["xmr", "i", "run", "c"] {
        let a = mhsip(&["spc", blank.to_str().unwrap(), "--chart", chart], None);
        let b = mhsip(&["spc", plain.to_str().unwrap(), "--chart", chart], None);
        assert_eq!(a.code, 0, "{chart}: {}", a.stderr);
        assert_eq!(a.stdout, b.stdout, "{chart}");
    }
    let r = mhsip(&["spc", blank.to_str().unwrap(), "--per", "1000"], None);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("blank on every row"), "{}", r.stderr);

    // A chart that needs the exposure points at the column's first cell.
    expect_error(
        "den-blank-u.csv",
        b"series,period,value,denominator\nA,2024-01-01,5,\nA,2024-02-01,7,\n",
        &["--chart", "u"],
        "2:16: the denominator column is blank on every row; a u chart needs the exposure",
    );
    // Mixed blanks stay an error, in one series or across the file.
    expect_error(
        "den-mixed.csv",
        b"series,period,value,denominator\nA,2024-01-01,5,100\nA,2024-02-01,7,\nA,2024-03-01,6,120\n",
        &[],
        "3:16: series 'A': missing denominator; a xmr chart needs the exposure (e.g. occupied bed days) for every point with a value; or leave the denominator column blank on every row of the file",
    );
    expect_error(
        "den-mixed-series.csv",
        b"series,period,value,denominator\nA,2024-01-01,5,100\nA,2024-02-01,7,110\nB,2024-01-01,3,\nB,2024-02-01,4,\n",
        &[],
        "4:16: series 'B': missing denominator",
    );
}

#[test]
fn a_worker_that_panics_fails_the_command_and_writes_nothing() {
    // The hook exists in debug builds only (as the tests build the binary).
    if !cfg!(debug_assertions) {
        return;
    }
    // Threads start at 2,000 series.
    let mut many = String::from("series,period,value\n");
    for i in 0..2_100 {
        many.push_str(&format!("S{i:04},1,{}\nS{i:04},2,{}\n", i % 7, i % 5));
    }
    let many = tmp("many-series.csv", many.as_bytes());
    let small = tmp(
        "few-series.csv",
        b"series,period,value\nA,1,1\nA,2,2\nS1500,1,3\n",
    );
    let ok = mhsip(&["spc", many.to_str().unwrap(), "--threads", "2"], None);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_eq!(read_csv(&ok.stdout).len(), 4_200);
    for (file, threads, stage, doing) in [
        (&many, "2", "analyse", "analysing series 'S1050' to 'S2099'"),
        (&many, "2", "write", "writing series 'S1050' to 'S2099'"),
        (&small, "1", "analyse", "analysing series 'A' to 'S1500'"),
        (&small, "1", "write", "writing series 'A' to 'S1500'"),
    ] {
        for format in ["csv", "json"] {
            let r = mhsip_with_env(
                &[
                    "spc",
                    file.to_str().unwrap(),
                    "--threads",
                    threads,
                    "--format",
                    format,
                ],
                "MHSIP_SPC_TEST_PANIC",
                &format!("{stage}:S1500"),
            );
            assert_eq!(r.code, 2, "{stage}: {}", r.stderr);
            assert_eq!(r.stdout, "", "{stage}: nothing on stdout");
            assert!(
                r.stderr.contains(&format!(
                    "error: internal error: a worker thread panicked while {doing}"
                )) && r.stderr.contains("nothing was written"),
                "{stage}: {}",
                r.stderr
            );
        }
    }
}

#[test]
fn integer_periods_near_the_limits_are_refused_with_line_and_column() {
    // Before: the difference of these two overflowed (a panic in debug builds, a wrap in release).
    expect_error(
        "int-limits.csv",
        b"series,period,value\nA,-9223372036854775808,1\nA,9223372036854775807,2\n",
        &[],
        "2:3: period '-9223372036854775808' is out of range; expected an integer of at most 18 digits, from -999999999999999999 to 999999999999999999",
    );
    expect_error(
        "int-too-long.csv",
        b"series,period,value\nA,1,1\nA,99999999999999999999,2\n",
        &[],
        "3:3: period '99999999999999999999' is out of range",
    );
    // The limits themselves are periods like any other.
    let r = mhsip(
        &["spc", "-"],
        Some(b"series,period,value\nA,999999999999999999,3\nA,-999999999999999999,1\nA,0,2\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let periods: Vec<String> = read_csv(&r.stdout)
        .iter()
        .map(|row| row["period"].clone())
        .collect();
    assert_eq!(periods, ["-999999999999999999", "0", "999999999999999999"]);
    // And a rebase period is read the same way.
    let path = tmp("int-rebase.csv", b"series,period,value\nA,1,1\nA,2,2\n");
    let r = mhsip(
        &[
            "spc",
            path.to_str().unwrap(),
            "--rebase",
            "9223372036854775807",
        ],
        None,
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr
            .starts_with("--rebase:1:1: rebase: period '9223372036854775807' is out of range"),
        "{}",
        r.stderr
    );
}

/// Integers near 0, near the 18-digit limit and near the limits of i64.
fn edge_period() -> impl Strategy<Value = i64> {
    const MAX: i64 = 999_999_999_999_999_999;
    prop_oneof![
        any::<i64>(),
        -5i64..=5,
        (-2i64..=2).prop_map(|d| MAX + d),
        (-2i64..=2).prop_map(|d| -MAX + d),
        (0i64..=2).prop_map(|d| i64::MAX - d),
        (0i64..=2).prop_map(|d| i64::MIN + d),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// No integer period input makes the binary panic or wrap: periods within 18 digits are
    /// charted, any other refuses the file with FILE:LINE:COLUMN and nothing on stdout.
    #[test]
    fn no_integer_period_input_panics(
        ints in prop::collection::btree_set(edge_period(), 1..7),
        chart in prop::sample::select(vec!["xmr", "run", "c", "g"]),
    ) {
        let mut input = String::from("series,period,value\n");
        for (k, i) in ints.iter().rev().enumerate() {
            input.push_str(&format!("A,{i},{}\n", k % 4));
        }
        let r = mhsip(&["spc", "-", "--chart", chart], Some(input.as_bytes()));
        let out_of_range = ints.iter().any(|i| i.unsigned_abs() > 999_999_999_999_999_999);
        if out_of_range {
            prop_assert_eq!(r.code, 1, "{}", r.stderr);
            prop_assert!(r.stdout.is_empty());
            for line in r.stderr.lines() {
                prop_assert!(line.starts_with("<stdin>:") && line.contains("is out of range"), "{}", line);
            }
        } else {
            prop_assert_eq!(r.code, 0, "{}", r.stderr);
            prop_assert!(read_csv(&r.stdout).len() >= ints.len());
        }
    }
}
