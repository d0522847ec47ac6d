//! One summary everywhere: for every trust and measure of the demo region, `mhsip measures
//! --summary`, the demo's own closing summary, the region overview and the API give the same
//! latest value, variation and assurance, and still do after an annotation that rebases one
//! trust's charts (the copies that once lived in the binary ignored saved rebases).

mod common;

use common::{Served, mhsip, read_csv};
use std::collections::HashMap;

/// (org, measure) -> (latest value to 3 places, variation, assurance).
type Summaries = HashMap<(String, String), (String, String, String)>;

fn cli_summary(d: &str) -> Summaries {
    let r = mhsip(
        &["measures", "--level", "trust", "--summary", "--data", d],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    read_csv(&r.stdout)
        .into_iter()
        .map(|row| {
            (
                (row["org"].clone(), row["measure"].clone()),
                (
                    row["latest_value"].clone(),
                    row["variation"].clone(),
                    row["assurance"].clone(),
                ),
            )
        })
        .collect()
}

fn api_summary(served: &Served) -> Summaries {
    let body = served.body("/api/summary?objective=all&period=month");
    let v: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["org"]
                .as_str()
                .is_some_and(|o| o.len() == 3 && o.starts_with('R'))
        })
        .map(|r| {
            (
                (
                    r["org"].as_str().unwrap().to_string(),
                    r["measure"].as_str().unwrap().to_string(),
                ),
                (
                    r["latest_value"]
                        .as_f64()
                        .map(|x| format!("{x:.3}"))
                        .unwrap_or_default(),
                    r["variation"].as_str().unwrap_or("").to_string(),
                    r["assurance"].as_str().unwrap_or("none").to_string(),
                ),
            )
        })
        .collect()
}

/// The demo's closing summary: `trust measure month latest variation assurance` rows after its
/// header ("-" where there is none).
fn demo_summary(stdout: &str) -> Summaries {
    let dash = |s: &str| {
        if s == "-" {
            String::new()
        } else {
            s.to_string()
        }
    };
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("trust "))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            (
                (c[0].to_string(), c[1].to_string()),
                (dash(c[3]), dash(c[4]), c[5].to_string()),
            )
        })
        .collect()
}

fn compare(what: &str, a: &Summaries, b: &Summaries) -> Vec<String> {
    let mut wrong = Vec::new();
    for (key, x) in a {
        match b.get(key) {
            Some(y) if y == x => {}
            other => wrong.push(format!("{what} {key:?}: {x:?} vs {other:?}")),
        }
    }
    wrong
}

#[test]
fn every_summary_gives_the_same_latest_value_variation_and_assurance() {
    let data = std::env::temp_dir().join(format!("mhsip-summaries-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let d = data.to_str().unwrap();
    let built = mhsip(&["demo", "--no-serve", "--data", d], None);
    assert_eq!(built.code, 0, "{}", built.stderr);
    let demo = demo_summary(&built.stdout);
    assert!(demo.len() >= 6 * 7, "{}", built.stdout);
    let before = cli_summary(d);
    let mut wrong = compare("demo vs measures --summary", &demo, &before);

    // Ash Ward's trust marks the change it made in March 2024, rebasing its charts there.
    let r = mhsip(
        &[
            "annotate",
            "--org",
            "R9A",
            "--date",
            "2024-03-01",
            "--text",
            "Safety huddles started",
            "--rebase",
            "--data",
            d,
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let after = cli_summary(d);
    let changed: Vec<_> = after
        .iter()
        .filter(|(k, v)| k.0 == "R9A" && before.get(*k) != Some(*v))
        .collect();
    assert!(
        !changed.is_empty(),
        "the rebase changes some of R9A's summaries"
    );
    assert!(
        after
            .iter()
            .all(|(k, v)| k.0 == "R9A" || before.get(k) == Some(v)),
        "other trusts are untouched"
    );
    let served = Served::sign_in(&data, "admin", "demo-password");
    let api = api_summary(&served);
    assert_eq!(api.len(), after.len(), "every trust and measure");
    wrong.extend(compare("measures --summary vs API", &after, &api));
    // The overview shows the same rows: each of R9A's changed cells with its value as text.
    let overview = served.body("/?objective=restrictive_practice");
    assert!(
        overview.contains("/chart/R9A/ri_rate"),
        "the overview links R9A's cells"
    );
    drop(served);
    let _ = std::fs::remove_dir_all(&data);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
