//! How long a full 20-minute test takes to score (the issue asks for under 5 ms in an
//! optimised build). This debug-build test only guards against something going quadratic:
//! it allows 20 times that, and prints the times.

use std::time::Instant;

use cpt::{
    ActivityOptions, HeadSample, HeadTrack, KeyPress, Onset, RawLog, ScoringOptions, Span,
    TaskVersion, activity, parameters, schedule, score,
};

#[test]
fn a_twenty_minute_test_scores_quickly() {
    let plan = schedule(&TaskVersion::OneBack.params(), 7).unwrap();
    let mut keys = Vec::new();
    for t in &plan.trials {
        let at = t.onset_ms as f64 + 1000.0;
        if t.target || t.index % 7 == 0 {
            keys.push(KeyPress {
                time_ms: at + 380.0 + f64::from(t.index % 13) * 20.0,
                repeat: false,
            });
        }
    }
    let log = RawLog {
        stimuli: plan
            .trials
            .iter()
            .map(|t| Onset {
                trial: t.index,
                onset_ms: t.onset_ms as f64 + 1000.0,
                target: t.target,
            })
            .collect(),
        keys,
        interruptions: vec![],
        planned_trials: Some(600),
    };
    // 20 minutes of head track at 30 frames a second, drifting a little.
    let track = HeadTrack {
        frame_aspect: 0.75,
        samples: (0..36_000)
            .map(|i| {
                let t = f64::from(i) * 1000.0 / 30.0;
                HeadSample {
                    t_ms: 1000.0 + t,
                    x: 0.5 + 0.05 * (t / 3000.0).sin(),
                    y: 0.45 + 0.03 * (t / 5000.0).cos(),
                    size: 0.22,
                }
            })
            .collect(),
    };
    let opts = ScoringOptions::default();
    let started = Instant::now();
    let s = score(&log, &opts).unwrap();
    let scoring = started.elapsed();
    let span = Span::of_log(&log, &opts).unwrap();
    assert_eq!(span.start_ms, 1000.0);
    assert_eq!(span.end_ms, 1000.0 + 599.0 * 2000.0 + 2000.0);
    let started = Instant::now();
    let a = activity(&track, span, &ActivityOptions::default()).unwrap();
    let moving = started.elapsed();
    let p = parameters(&s, Some(&a));
    eprintln!("scoring 600 trials: {scoring:?}; activity from 36,000 samples: {moving:?}");
    assert_eq!(s.whole.targets, 152);
    assert_eq!(p.len(), 14);
    assert!(scoring.as_millis() < 100, "{scoring:?}");
    assert!(moving.as_millis() < 2000, "{moving:?}");
}
