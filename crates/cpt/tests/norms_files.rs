//! The shipped illustrative norms files: they load, they say they are illustrative, they follow
//! the model their header states, and a child's Q-scores, summaries and reliable change can be
//! worked out by hand from them. Then the ways a norms file can be wrong.

use std::collections::BTreeMap;

use cpt::norms::{NormSex, NormsTable, Sex, SummaryKind, metric};
use cpt::{TaskVersion, reliable_change};

const GO_NO_GO: &str = include_str!("../norms/illustrative-go-no-go.csv");
const ONE_BACK: &str = include_str!("../norms/illustrative-one-back.csv");

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} vs {b}");
}

#[test]
fn shipped_files_load_and_are_labelled_illustrative() {
    for (text, task) in [
        (GO_NO_GO, TaskVersion::GoNoGo),
        (ONE_BACK, TaskVersion::OneBack),
    ] {
        let t = NormsTable::from_csv(text).unwrap();
        assert_eq!(t.task, task);
        assert!(t.illustrative);
        assert!(t.label.starts_with("ILLUSTRATIVE, NOT CLINICAL"));
        assert!(t.label.contains("not for clinical use"));
        assert_eq!(t.sample.size, 240);
        assert_eq!(t.metrics.len(), 13);
        assert_eq!(t.rows.len(), 3 * 2 * 13);
        // The weights are data: every summary has some.
        for kind in SummaryKind::ALL {
            assert!(t.weights.iter().any(|w| w.summary == kind));
        }
        // JSON is the same table.
        let json = serde_json::to_string_pretty(&t).unwrap();
        assert_eq!(NormsTable::from_json(&json).unwrap(), t);
    }
}

/// Each file's header states the model (`name: m0 .., ma .., ms .., s0 .., sa ..`); every
/// norm row must be that model's value, rounded to 4 decimals.
#[test]
fn shipped_files_follow_their_stated_model() {
    for (text, a0) in [(GO_NO_GO, 6.0), (ONE_BACK, 12.0)] {
        let mut model: BTreeMap<String, [f64; 5]> = BTreeMap::new();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("#   ") else {
                continue;
            };
            let Some((name, params)) = rest.split_once(": m0 ") else {
                continue;
            };
            let v: Vec<f64> = format!("m0 {params}")
                .split(", ")
                .map(|kv| kv.split_once(' ').unwrap().1.parse().unwrap())
                .collect();
            model.insert(name.to_string(), [v[0], v[1], v[2], v[3], v[4]]);
        }
        let t = NormsTable::from_csv(text).unwrap();
        assert_eq!(model.len(), t.metrics.len());
        for r in &t.rows {
            let [m0, ma, ms, s0, sa] = model[&r.metric];
            let a = (f64::from(r.age_min) + f64::from(r.age_max)) / 2.0 - a0;
            let male = if r.sex == NormSex::Male { 1.0 } else { 0.0 };
            let round = |v: f64| (v * 1e4).round() / 1e4;
            close(r.mean, round(m0 + ma * a + ms * male));
            close(r.sd, round(s0 + sa * a));
        }
    }
}

/// A boy of 8 on the go/no-go task: band 8-9, a = 8.5 - 6 = 2.5 in the model.
///
/// | metric | mean | SD | value | z | Q |
/// |---|---|---|---|---|---|
/// | rt_mean_ms | 620 - 25 * 2.5 = 557.5 | 90 - 4 * 2.5 = 80 | 677.5 | 120 / 80 = 1.5 | 1.5 (atypical at 1.5) |
/// | rt_sd_ms | 190 - 25 + 5 = 170 | 50 - 5 = 45 | 260 | 2 | 2 |
/// | omissions_pct | 12 - 3 + 1 = 10 | 8 - 1.25 = 6.75 | 16.75 | 1 | 1 |
/// | d_prime (lower) | 2 + 0.375 - 0.1 = 2.275 | 0.6 | 1.675 | -1 | 1 |
/// | commissions_pct | 20 - 3.75 + 3 = 19.25 | 12 - 1.5 = 10.5 | 19.25 | 0 | 0 |
/// | anticipatory_pct | 3 - 0.5 + 0.5 = 3 | 3 | 6 | 1 | 1 |
/// | multiple_pct | 2 - 0.25 = 1.75 | 2 | 1.75 | 0 | 0 |
///
/// Inattention, weights rt_mean 0.5, rt_sd 1, omissions 1, d′ 0.5:
/// (0.5 * 1.5 + 2 + 1 + 0.5 * 1) / 3 = 4.25 / 3 = 1.4167 (not atypical).
/// Impulsivity, weights commissions 1, anticipatory 1, multiple 0.5: (0 + 1 + 0) / 2.5 = 0.4.
/// Activity: not measured (no camera), so no value and its five metrics missing.
#[test]
fn worked_example_q_scores_and_summaries() {
    let t = NormsTable::from_csv(GO_NO_GO).unwrap();
    let params: BTreeMap<String, f64> = [
        (metric::RT_MEAN_MS, 677.5),
        (metric::RT_SD_MS, 260.0),
        (metric::OMISSIONS_PCT, 16.75),
        (metric::D_PRIME, 1.675),
        (metric::COMMISSIONS_PCT, 19.25),
        (metric::ANTICIPATORY_PCT, 6.0),
        (metric::MULTIPLE_PCT, 1.75),
        // Not normed in this file: ignored.
        (metric::CRITERION, 0.3),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let a = t
        .assess(TaskVersion::GoNoGo, &params, 8, Some(Sex::Male), 1.5)
        .unwrap();
    assert!(a.illustrative);
    assert_eq!((a.age_min, a.age_max, a.sex), (8, 9, NormSex::Male));
    let q = |m: &str| a.scores.iter().find(|s| s.metric == m).unwrap().clone();
    let rt = q(metric::RT_MEAN_MS);
    close(rt.mean, 557.5);
    close(rt.sd, 80.0);
    close(rt.q, 1.5);
    assert!(rt.atypical);
    // 100 Φ(1.5) = 93.3193.
    close(rt.percentile, 93.319_279_873_114_19);
    close(q(metric::D_PRIME).z, -1.0);
    close(q(metric::D_PRIME).q, 1.0);
    assert!(!q(metric::OMISSIONS_PCT).atypical);
    // The five activity metrics and the median RT were not given.
    assert_eq!(a.not_measured.len(), 6);
    assert!(a.not_measured.contains(&metric::RT_MEDIAN_MS.to_string()));
    let s = |k: SummaryKind| a.summaries.iter().find(|s| s.kind == k).unwrap().clone();
    close(s(SummaryKind::Inattention).value.unwrap(), 4.25 / 3.0);
    assert_eq!(s(SummaryKind::Inattention).atypical, Some(false));
    close(s(SummaryKind::Impulsivity).value.unwrap(), 0.4);
    let act = s(SummaryKind::Activity);
    assert_eq!((act.value, act.used.len(), act.missing.len()), (None, 0, 5));
    // The threshold is configurable: at 1.4 inattention is atypical.
    let a = t
        .assess(TaskVersion::GoNoGo, &params, 8, Some(Sex::Male), 1.4)
        .unwrap();
    assert_eq!(a.summaries[1].atypical, Some(true));
}

/// The same boy retested (on medication, say): mean RT 677.5 then 557.5 ms. SD 80 (his
/// band), r = 0.8: SE of the difference 80 * sqrt(2 * 0.2) = 50.596; RCI = -120 / 50.596 =
/// -2.372, beyond 1.96: a reliable change, away from atypical.
#[test]
fn worked_example_reliable_change() {
    let t = NormsTable::from_csv(GO_NO_GO).unwrap();
    let c = t
        .reliable_change(metric::RT_MEAN_MS, 8, Some(Sex::Male), 677.5, 557.5)
        .unwrap();
    close(c.change.se_diff, 80.0 * 0.4f64.sqrt());
    close(c.change.rci, -120.0 / (80.0 * 0.4f64.sqrt()));
    assert!(c.change.reliable);
    assert!(!c.toward_atypical);
    // SD 10, r 0.75: SE 10 * sqrt(0.5) = 7.071; a change of 12 is 1.697: within error.
    let r = reliable_change(50.0, 62.0, 10.0, 0.75).unwrap();
    close(r.rci, 12.0 / (10.0 * 0.5f64.sqrt()));
    assert!(!r.reliable);
    assert_eq!(
        reliable_change(1.0, 2.0, 10.0, 1.0).unwrap_err().field,
        "retest_r"
    );
    assert_eq!(
        reliable_change(1.0, 2.0, -1.0, 0.5).unwrap_err().field,
        "sd"
    );
}

#[test]
fn fit_of_the_norms_to_the_child() {
    let t = NormsTable::from_csv(GO_NO_GO).unwrap();
    assert_eq!(t.group_count(7, Some(Sex::Female), "white"), Some(30));
    assert_eq!(t.group_count(7, Some(Sex::Female), "Mixed"), Some(1));
    assert_eq!(t.group_count(7, Some(Sex::Female), "Roma"), Some(0));
    let e = t.matched(12, Some(Sex::Female)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "age: expected an age and sex the norms \"MHSIP synthetic go_no_go sample (illustrative)\" \
         cover (female 6-11, male 6-11), found 12, female"
    );
    // Without a recorded sex and no "all" rows there is no match.
    assert!(t.matched(8, None).is_err());
    let params = BTreeMap::new();
    assert_eq!(
        t.assess(TaskVersion::OneBack, &params, 8, Some(Sex::Male), 1.5)
            .unwrap_err()
            .field,
        "task"
    );
}

fn without(text: &str, drop: impl Fn(&str) -> bool) -> String {
    text.lines()
        .filter(|l| !drop(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_missing_band_is_refused() {
    let text = without(GO_NO_GO, |l| l.starts_with("norm,8,9,male,"));
    let e = NormsTable::from_csv(&text).unwrap_err();
    assert_eq!(
        e.to_string(),
        "norm.age_min: expected age bands for male with no gap between them, found 6-7 then \
         10-11 (8-9 missing)"
    );
    let text = without(GO_NO_GO, |l| l.starts_with("norm,10,11,male,"));
    let e = NormsTable::from_csv(&text).unwrap_err();
    assert_eq!(
        e.to_string(),
        "norm: expected the same age bands for male as for female (6-7, 8-9, 10-11), found 6-7, 8-9"
    );
    let text = without(GO_NO_GO, |l| l.starts_with("norm,8,9,male,rt_sd_ms,"));
    let e = NormsTable::from_csv(&text).unwrap_err();
    assert_eq!(
        e.to_string(),
        "norm: expected a record for every metric in 8-9 male, found none for rt_sd_ms"
    );
}

#[test]
fn a_negative_sd_is_refused_with_its_line() {
    let line = GO_NO_GO
        .lines()
        .position(|l| l.starts_with("norm,6,7,female,rt_mean_ms,"))
        .unwrap();
    let text: String = GO_NO_GO
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == line {
                "norm,6,7,female,rt_mean_ms,40,607.5,-88".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let e = NormsTable::from_csv(&text).unwrap_err();
    assert_eq!(e.line, Some(line + 1));
    assert_eq!(e.field, "norm.sd");
    assert!(
        e.to_string()
            .ends_with("norm.sd: expected a finite number above 0, found \"-88\"")
    );
    // The same in JSON names the row.
    let mut t = NormsTable::from_csv(GO_NO_GO).unwrap();
    t.rows[4].sd = -88.0;
    let e = NormsTable::from_json(&serde_json::to_string(&t).unwrap()).unwrap_err();
    assert_eq!(e.field, "rows[4].sd");
}

#[test]
fn other_bad_files() {
    let cases: [(&str, &str); 8] = [
        ("norm,6,7,female,rt_mean_ms,40,abc,88", "norm.mean"),
        ("norm,6,7,female,rt_mean_ms,40", "norm"),
        ("norm,6,7,girl,rt_mean_ms,40,1,1", "norm.sex"),
        ("weight,attention,rt_mean_ms,1", "weight.summary"),
        ("weight,activity,nonsense,1", "weight.metric"),
        ("metric,extra,sideways,0.5", "metric.direction"),
        ("metric,extra2,higher,1.2", "metric.retest_r"),
        ("bogus,1,2", "record"),
    ];
    for (line, field) in cases {
        let text = format!("{GO_NO_GO}\n{line}\n");
        let e = NormsTable::from_csv(&text).unwrap_err();
        assert_eq!(e.field, field, "{line}: {e}");
    }
    let e = NormsTable::from_csv(&without(GO_NO_GO, |l| l.starts_with("sample,size"))).unwrap_err();
    assert_eq!(
        e.to_string(),
        "sample.size: expected a sample.size record, found none"
    );
    let e = NormsTable::from_csv(&without(GO_NO_GO, |l| {
        l.starts_with("group,6,7,male,Other")
    }))
    .unwrap_err();
    assert_eq!(e.field, "group.count");
    let e = NormsTable::from_json("{\"label\": 3}").unwrap_err();
    assert_eq!((e.field.as_str(), e.line), ("json", Some(1)));
    assert!(NormsTable::from_csv("").is_err());
    // A metric declared twice.
    let e = NormsTable::from_csv(&format!("{GO_NO_GO}\nmetric,rt_mean_ms,higher,\n")).unwrap_err();
    assert_eq!(e.field, "metric.name");
}
