//! Property tests: no input makes the crate panic, and the counts always add up.

use std::collections::BTreeMap;

use cpt::norms::{NormsTable, Sex};
use cpt::score::Interruption;
use cpt::{
    ActivityOptions, HeadSample, HeadTrack, KeyPress, Onset, RawLog, ScoringOptions, Span,
    TaskVersion, activity, parameters, schedule, score,
};
use proptest::prelude::*;

const GO_NO_GO: &str = include_str!("../norms/illustrative-go-no-go.csv");

/// Anything at all, including NaN, infinities and times out of order.
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e4f64..1e5,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(-0.0),
        1 => any::<f64>(),
    ]
}

fn arbitrary_log() -> impl Strategy<Value = RawLog> {
    (
        prop::collection::vec((0u32..50, any_f64(), any::<bool>()), 0..30),
        prop::collection::vec((any_f64(), any::<bool>()), 0..40),
        prop::collection::vec((any_f64(), any_f64()), 0..3),
        prop::option::of(0u32..60),
    )
        .prop_map(|(s, k, i, planned_trials)| RawLog {
            stimuli: s
                .into_iter()
                .map(|(trial, onset_ms, target)| Onset {
                    trial,
                    onset_ms,
                    target,
                })
                .collect(),
            keys: k
                .into_iter()
                .map(|(time_ms, repeat)| KeyPress { time_ms, repeat })
                .collect(),
            interruptions: i
                .into_iter()
                .map(|(start_ms, end_ms)| Interruption { start_ms, end_ms })
                .collect(),
            planned_trials,
        })
}

/// Logs that pass validation: onsets and indices increasing, keys sorted, sometimes
/// interruptions, sometimes trials missing.
fn valid_log() -> impl Strategy<Value = RawLog> {
    (
        prop::collection::vec((1u32..3, 300.0f64..3000.0, any::<bool>()), 0..80),
        prop::collection::vec((0.0f64..200_000.0, prop::bool::weighted(0.1)), 0..150),
        prop::collection::vec((0.0f64..200_000.0, 0.0f64..5000.0), 0..3),
        0u32..20,
    )
        .prop_map(|(s, mut k, i, extra)| {
            let (mut trial, mut t) = (0u32, 0.0);
            let stimuli: Vec<Onset> = s
                .into_iter()
                .map(|(di, dt, target)| {
                    trial += di;
                    t += dt;
                    Onset {
                        trial,
                        onset_ms: t,
                        target,
                    }
                })
                .collect();
            k.sort_by(|a, b| a.0.total_cmp(&b.0));
            RawLog {
                planned_trials: stimuli.last().map(|s| s.trial + 1 + extra),
                stimuli,
                keys: k
                    .into_iter()
                    .map(|(time_ms, repeat)| KeyPress { time_ms, repeat })
                    .collect(),
                interruptions: i
                    .into_iter()
                    .map(|(a, d)| Interruption {
                        start_ms: a,
                        end_ms: a + d,
                    })
                    .collect(),
            }
        })
}

fn options() -> impl Strategy<Value = ScoringOptions> {
    (0.0f64..400.0, 100.0f64..3000.0).prop_map(|(a, m)| ScoringOptions {
        anticipatory_ms: a,
        max_rt_ms: a + m,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_logs_never_panic(log in arbitrary_log(), a in any_f64(), m in any_f64()) {
        let _ = score(&log, &ScoringOptions { anticipatory_ms: a, max_rt_ms: m });
        let _ = score(&log, &ScoringOptions::default());
    }

    #[test]
    fn counts_add_up(log in valid_log(), opts in options()) {
        let s = score(&log, &opts).unwrap();
        let w = s.whole;
        prop_assert_eq!(w.hits + w.omissions, w.targets);
        prop_assert_eq!(w.commissions + w.correct_rejections, w.non_targets);
        prop_assert!(w.commissions <= w.non_targets);
        prop_assert_eq!(
            (w.targets + w.non_targets + w.excluded_trials) as usize,
            log.stimuli.len()
        );
        // Every press is counted exactly once.
        prop_assert_eq!(
            (s.repeats + s.ignored + s.stray + w.anticipatory + w.hits + w.commissions + w.multiple)
                as usize,
            log.keys.len()
        );
        // The quarters add up to the whole test.
        let sum = |f: fn(&cpt::Block) -> u32| s.quarters.iter().map(f).sum::<u32>();
        prop_assert_eq!(sum(|b| b.targets), w.targets);
        prop_assert_eq!(sum(|b| b.non_targets), w.non_targets);
        prop_assert_eq!(sum(|b| b.hits), w.hits);
        prop_assert_eq!(sum(|b| b.omissions), w.omissions);
        prop_assert_eq!(sum(|b| b.commissions), w.commissions);
        prop_assert_eq!(sum(|b| b.correct_rejections), w.correct_rejections);
        prop_assert_eq!(sum(|b| b.anticipatory), w.anticipatory);
        prop_assert_eq!(sum(|b| b.multiple), w.multiple);
        prop_assert_eq!(sum(|b| b.excluded_trials), w.excluded_trials);
        prop_assert_eq!(sum(|b| b.hit_rt.n), w.hit_rt.n);
        for b in s.quarters.iter().chain([&w]) {
            prop_assert!(b.d_prime.is_finite() && b.criterion.is_finite());
            prop_assert!(b.hit_rate > 0.0 && b.hit_rate < 1.0);
            prop_assert!(b.false_alarm_rate > 0.0 && b.false_alarm_rate < 1.0);
            prop_assert_eq!(b.hit_rt.n, b.hits);
            if let Some(m) = b.hit_rt.mean {
                // Hit RTs are at least the cut-off and inside the window.
                prop_assert!(m >= opts.anticipatory_ms && m < opts.max_rt_ms);
            }
        }
        // Parameters from any score are finite and the norms never panic on them.
        let p = parameters(&s, None);
        prop_assert!(p.values().all(|v| v.is_finite()));
        let t = NormsTable::from_csv(GO_NO_GO).unwrap();
        let a = t.assess(TaskVersion::GoNoGo, &p, 9, Some(Sex::Female), 1.5).unwrap();
        prop_assert!(a.scores.iter().all(|q| q.q.is_finite() && (0.0..=100.0).contains(&q.percentile)));
    }

    /// Order of input does not matter beyond time: the same log always scores the same.
    #[test]
    fn scoring_is_deterministic(log in valid_log()) {
        let o = ScoringOptions::default();
        prop_assert_eq!(score(&log, &o).unwrap(), score(&log, &o).unwrap());
    }

    #[test]
    fn schedules_are_deterministic_and_follow_their_parameters(
        seed in any::<u64>(),
        one_back in any::<bool>(),
        stim in 50u32..400,
        isi in 300u32..2500,
        minutes in 1u32..21,
        p in 0.05f64..0.95,
    ) {
        let version = if one_back { TaskVersion::OneBack } else { TaskVersion::GoNoGo };
        let mut params = version.params();
        params.stimulus_ms = stim;
        params.isi_ms = isi;
        params.duration_ms = minutes * 60_000;
        params.target_probability = p;
        params.practice.min_hits = 0;
        let a = schedule(&params, seed).unwrap();
        let b = schedule(&params, seed).unwrap();
        prop_assert_eq!(&a, &b);
        let n = params.test_trials() as usize;
        prop_assert_eq!(a.trials.len(), n);
        for q in 0..4 {
            let (lo, hi) = (q * n / 4, (q + 1) * n / 4);
            let k = a.trials[lo..hi].iter().filter(|t| t.target).count();
            let want = (p * (hi - lo) as f64).round() as usize;
            let eligible = hi - lo - usize::from(one_back && lo == 0);
            prop_assert_eq!(k, want.min(eligible));
        }
        if one_back {
            prop_assert!(!a.trials[0].target);
            for w in a.trials.windows(2) {
                prop_assert_eq!(w[1].target, w[1].stimulus == w[0].stimulus);
            }
        }
        // A different seed gives a different schedule (a 450-trial collision is not a thing).
        if n >= 64 {
            let c = schedule(&params, seed ^ 1).unwrap();
            prop_assert_ne!(a.trials, c.trials);
        }
    }

    /// A child who presses 400 ms after every target and never otherwise scores every target
    /// as a hit, no commission, mean RT 400.
    #[test]
    fn a_perfect_run_of_any_schedule(seed in any::<u64>(), one_back in any::<bool>()) {
        let version = if one_back { TaskVersion::OneBack } else { TaskVersion::GoNoGo };
        let plan = schedule(&version.params(), seed).unwrap();
        let log = RawLog {
            stimuli: plan.trials.iter().map(|t| Onset {
                trial: t.index,
                onset_ms: t.onset_ms as f64,
                target: t.target,
            }).collect(),
            keys: plan.trials.iter().filter(|t| t.target).map(|t| KeyPress {
                time_ms: t.onset_ms as f64 + 400.0,
                repeat: false,
            }).collect(),
            interruptions: vec![],
            planned_trials: Some(plan.trials.len() as u32),
        };
        let s = score(&log, &ScoringOptions::default()).unwrap();
        prop_assert_eq!(s.whole.hits, s.whole.targets);
        prop_assert_eq!(s.whole.commissions, 0);
        prop_assert_eq!(s.whole.hit_rt.mean, Some(400.0));
        prop_assert!(s.whole.d_prime > 4.0);
    }

    #[test]
    fn arbitrary_tracks_never_panic(
        samples in prop::collection::vec((any_f64(), any_f64(), any_f64(), any_f64()), 0..60),
        aspect in any_f64(),
        start in any_f64(),
        len in any_f64(),
    ) {
        let track = HeadTrack {
            frame_aspect: aspect,
            samples: samples.into_iter().map(|(t_ms, x, y, size)| HeadSample { t_ms, x, y, size }).collect(),
        };
        let _ = activity(&track, Span { start_ms: start, end_ms: start + len }, &ActivityOptions::default());
    }

    #[test]
    fn activity_quarters_add_up(
        steps in prop::collection::vec((1.0f64..400.0, -0.02f64..0.02, -0.02f64..0.02, 0.15f64..0.35), 0..400),
        aspect in 0.5f64..1.0,
    ) {
        let (mut t, mut x, mut y) = (0.0, 0.5, 0.5);
        let samples: Vec<HeadSample> = steps.into_iter().map(|(dt, dx, dy, size)| {
            t += dt;
            x = (x + dx).clamp(0.0, 1.0);
            y = (y + dy).clamp(0.0, 1.0);
            HeadSample { t_ms: t, x, y, size }
        }).collect();
        let track = HeadTrack { frame_aspect: aspect, samples };
        let span = Span { start_ms: 0.0, end_ms: t + 1.0 };
        let a = activity(&track, span, &ActivityOptions::default()).unwrap();
        let w = a.whole;
        let q = a.quarters;
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * (1.0 + b.abs());
        prop_assert!(close(q.iter().map(|b| b.tracked_ms).sum(), w.tracked_ms));
        prop_assert!(close(q.iter().map(|b| b.active_ms).sum(), w.active_ms));
        prop_assert!(close(q.iter().map(|b| b.distance).sum(), w.distance));
        prop_assert_eq!(q.iter().map(|b| b.micro_movements).sum::<u32>(), w.micro_movements);
        prop_assert!(w.tracked_ms <= span.end_ms - span.start_ms + 1e-9);
        for b in q.iter().chain([&w]) {
            prop_assert!(b.cells <= w.cells);
            if let Some(p) = b.time_active_pct { prop_assert!((0.0..=100.0).contains(&p)); }
            if let Some(s) = b.motion_simplicity { prop_assert!((0.0..=1.0 + 1e-12).contains(&s)); }
        }
        let p = parameters(&score(&RawLog::default(), &ScoringOptions::default()).unwrap(), Some(&a));
        prop_assert!(p.values().all(|v| v.is_finite()));
    }

    /// Any text, and any mangling of a good file, gives a table or an error, never a panic.
    #[test]
    fn arbitrary_norms_text_never_panics(
        text in "[a-z0-9,\"#. \\-\n]{0,300}",
        cut in 0usize..GO_NO_GO.len(),
        line in "[a-z0-9_,\". \\-]{0,60}",
    ) {
        let _ = NormsTable::from_csv(&text);
        let _ = NormsTable::from_json(&text);
        let mut mangled = GO_NO_GO.as_bytes()[..cut].to_vec();
        mangled.extend_from_slice(format!("\n{line}\n").as_bytes());
        let _ = NormsTable::from_csv(&String::from_utf8_lossy(&mangled));
    }

    #[test]
    fn assessing_any_values_never_panics(
        values in prop::collection::btree_map("[a-z_]{1,25}", any_f64(), 0..20),
        age in any::<u8>(),
        female in any::<bool>(),
        threshold in any_f64(),
    ) {
        let t = NormsTable::from_csv(GO_NO_GO).unwrap();
        let mut params: BTreeMap<String, f64> = values;
        params.insert("rt_mean_ms".into(), 500.0);
        let sex = Some(if female { Sex::Female } else { Sex::Male });
        if let Ok(a) = t.assess(TaskVersion::GoNoGo, &params, age, sex, threshold) {
            prop_assert!(a.summaries.iter().all(|s| s.value.is_none_or(f64::is_finite)));
        }
        let _ = t.reliable_change("rt_mean_ms", age, sex, threshold, 500.0);
    }
}
