//! Scoring the raw log of a test: what was shown when, and when the space bar went down.
//!
//! ## Which stimulus a key press belongs to
//!
//! Trial `i`'s **response window** opens at its logged onset and closes at the next logged
//! onset or `max_rt_ms` after its own onset, whichever comes first: `[onset_i,
//! min(onset_{i+1}, onset_i + max_rt_ms))`. A press belongs to the trial whose window holds it,
//! so a press always belongs to the latest stimulus shown before it (or to none). Its
//! reaction time (RT) is `press - onset`.
//!
//! Presses are taken in time order. Per press, the first rule that applies decides:
//! 1. flagged `repeat` (the browser's auto-repeat of a held key): a **repeat**, ignored;
//! 2. inside an interruption (the page was hidden, say): **ignored**;
//! 3. in no trial's window (before the first stimulus, or after a window closed): **stray**;
//! 4. in the window of an excluded trial (see below): **ignored**;
//! 5. RT below `anticipatory_ms` (150 ms by default): **anticipatory**, too fast to be a
//!    response to this stimulus; counted apart, never a hit or a commission, never in the RT
//!    statistics;
//! 6. the trial's first press with RT of at least `anticipatory_ms`: **the response**: a
//!    **hit** on a target, a **commission** on a non-target;
//! 7. any later press in the same window: a **multiple response**.
//!
//! So every press is exactly one of repeat, ignored, stray, anticipatory, hit, commission or
//! multiple. A trial is **excluded** when an interruption overlaps its window; excluded trials
//! are counted apart and are neither targets nor non-targets of the score. A target trial with
//! no response is an **omission** (even if it had an anticipatory press); a non-target without
//! one is a **correct rejection**. Hence hits + omissions = targets and commissions +
//! correct rejections = non-targets, for the whole test and each quarter.
//!
//! ## Quarters
//!
//! A trial's quarter comes from its index in the planned schedule: `floor(4 * index /
//! planned_trials)`, so trials that were never shown do not shift the quarters. Anticipatory
//! and multiple presses go to the quarter of their trial; stray, ignored and repeat presses
//! are counted for the whole test only. The quarters' counts add up to the whole test's.
//!
//! ## Signal detection
//!
//! With the log-linear correction (Hautus 1995): hit rate `H = (hits + 0.5) / (targets + 1)`,
//! false-alarm rate `F = (commissions + 0.5) / (non-targets + 1)`, `d′ = z(H) - z(F)`,
//! criterion `c = -(z(H) + z(F)) / 2`, z the standard normal quantile. Both rates are strictly
//! between 0 and 1 for any counts, so d′ and c are always finite (both 0 for an empty block).

use serde::{Deserialize, Serialize};

use crate::error::{CptError, finite};
use crate::stats::{Summary, normal_quantile};

/// A stimulus as the browser showed it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Onset {
    /// Index of the trial in the schedule.
    pub trial: u32,
    /// When it appeared (the animation frame's time), ms.
    pub onset_ms: f64,
    pub target: bool,
}

/// A key-down event of the space bar.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KeyPress {
    /// The event's high-resolution time stamp, ms, on the same clock as the onsets.
    pub time_ms: f64,
    /// The browser's auto-repeat flag (`KeyboardEvent.repeat`): the key was held down.
    #[serde(default)]
    pub repeat: bool,
}

/// A stretch when the test could not be seen (the tab hidden, the window left full screen).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interruption {
    pub start_ms: f64,
    pub end_ms: f64,
}

/// The raw log of one block (the test or a practice).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RawLog {
    /// In the order shown: trial indices and onsets strictly increasing.
    pub stimuli: Vec<Onset>,
    /// In time order (equal times allowed).
    pub keys: Vec<KeyPress>,
    #[serde(default)]
    pub interruptions: Vec<Interruption>,
    /// Trials in the schedule; `None` takes the last logged index + 1.
    #[serde(default)]
    pub planned_trials: Option<u32>,
}

/// The scoring options.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoringOptions {
    /// Presses faster than this after the onset are anticipatory. Default 150 ms.
    pub anticipatory_ms: f64,
    /// The longest a response window stays open. Default 2,000 ms (the standard versions'
    /// onset-to-onset time, so the window normally closes at the next onset).
    pub max_rt_ms: f64,
}

impl Default for ScoringOptions {
    fn default() -> Self {
        ScoringOptions {
            anticipatory_ms: 150.0,
            max_rt_ms: 2000.0,
        }
    }
}

/// What a trial came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Hit,
    Omission,
    Commission,
    CorrectRejection,
    Excluded,
}

/// One trial, scored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrialOutcome {
    pub trial: u32,
    pub onset_ms: f64,
    pub target: bool,
    /// 0 to 3.
    pub quarter: u8,
    pub outcome: Outcome,
    /// The response's RT (hits and commissions).
    pub rt_ms: Option<f64>,
    pub anticipatory: u32,
    pub multiple: u32,
}

/// The scores of the whole test or one quarter.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Block {
    /// Scored (not excluded) target trials.
    pub targets: u32,
    /// Scored non-target trials.
    pub non_targets: u32,
    pub hits: u32,
    pub omissions: u32,
    pub commissions: u32,
    pub correct_rejections: u32,
    pub anticipatory: u32,
    pub multiple: u32,
    pub excluded_trials: u32,
    /// Commission RTs are not summarised; hit RTs are, here.
    pub hit_rt: Summary,
    /// Log-linear corrected hit rate.
    pub hit_rate: f64,
    /// Log-linear corrected false-alarm rate.
    pub false_alarm_rate: f64,
    pub d_prime: f64,
    pub criterion: f64,
}

/// A scored log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub options: ScoringOptions,
    pub whole: Block,
    pub quarters: [Block; 4],
    /// Presses in no trial's window.
    pub stray: u32,
    /// Presses during interruptions or in excluded trials' windows.
    pub ignored: u32,
    /// Auto-repeat presses of a held key.
    pub repeats: u32,
    pub trials: Vec<TrialOutcome>,
}

/// d′ and criterion c with the log-linear correction: `(H, F, d′, c)`.
pub fn signal_detection(
    hits: u32,
    targets: u32,
    false_alarms: u32,
    non_targets: u32,
) -> (f64, f64, f64, f64) {
    let h = (f64::from(hits) + 0.5) / (f64::from(targets) + 1.0);
    let f = (f64::from(false_alarms) + 0.5) / (f64::from(non_targets) + 1.0);
    let (zh, zf) = (normal_quantile(h), normal_quantile(f));
    (h, f, zh - zf, -(zh + zf) / 2.0)
}

impl ScoringOptions {
    fn validate(&self) -> Result<(), CptError> {
        let a = self.anticipatory_ms;
        if !(a.is_finite() && a >= 0.0) {
            return Err(CptError::new(
                "anticipatory_ms",
                "a finite number of ms, 0 or more",
                a,
            ));
        }
        let m = self.max_rt_ms;
        if !(m.is_finite() && m > a) {
            return Err(CptError::new(
                "max_rt_ms",
                format!("a finite number of ms above anticipatory_ms ({a})"),
                m,
            ));
        }
        Ok(())
    }
}

fn validate(log: &RawLog) -> Result<u32, CptError> {
    for (i, s) in log.stimuli.iter().enumerate() {
        finite(|| format!("stimuli[{i}].onset_ms"), s.onset_ms)?;
        if i > 0 {
            let prev = log.stimuli[i - 1];
            if s.onset_ms <= prev.onset_ms {
                return Err(CptError::new(
                    format!("stimuli[{i}].onset_ms"),
                    format!("a time after the previous onset ({} ms)", prev.onset_ms),
                    s.onset_ms,
                ));
            }
            if s.trial <= prev.trial {
                return Err(CptError::new(
                    format!("stimuli[{i}].trial"),
                    format!("an index above the previous one ({})", prev.trial),
                    s.trial,
                ));
            }
        }
    }
    for (i, k) in log.keys.iter().enumerate() {
        finite(|| format!("keys[{i}].time_ms"), k.time_ms)?;
        if i > 0 && k.time_ms < log.keys[i - 1].time_ms {
            return Err(CptError::new(
                format!("keys[{i}].time_ms"),
                format!(
                    "a time no earlier than the previous key ({} ms)",
                    log.keys[i - 1].time_ms
                ),
                k.time_ms,
            ));
        }
    }
    for (i, r) in log.interruptions.iter().enumerate() {
        finite(|| format!("interruptions[{i}].start_ms"), r.start_ms)?;
        finite(|| format!("interruptions[{i}].end_ms"), r.end_ms)?;
        if r.end_ms < r.start_ms {
            return Err(CptError::new(
                format!("interruptions[{i}].end_ms"),
                format!("a time no earlier than start_ms ({})", r.start_ms),
                r.end_ms,
            ));
        }
    }
    let last = log.stimuli.last().map(|s| s.trial);
    match (log.planned_trials, last) {
        (Some(p), Some(l)) if l >= p => Err(CptError::new(
            "planned_trials",
            format!("more than the last trial index ({l})"),
            p,
        )),
        (Some(p), _) => Ok(p),
        (None, Some(l)) => Ok(l.saturating_add(1)),
        (None, None) => Ok(1),
    }
}

/// Interruptions merged into disjoint intervals sorted by start.
struct Gaps(Vec<(f64, f64)>);

impl Gaps {
    fn new(list: &[Interruption]) -> Gaps {
        let mut v: Vec<(f64, f64)> = list.iter().map(|r| (r.start_ms, r.end_ms)).collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f64, f64)> = Vec::with_capacity(v.len());
        for (a, b) in v {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        Gaps(merged)
    }

    /// Whether `t` falls in an interruption (ends included).
    fn holds(&self, t: f64) -> bool {
        let i = self.0.partition_point(|g| g.1 < t);
        self.0.get(i).is_some_and(|g| g.0 <= t)
    }

    /// Whether an interruption overlaps the open interval (`from`, `to`) or contains `from`
    /// strictly inside it.
    fn overlaps(&self, from: f64, to: f64) -> bool {
        let i = self.0.partition_point(|g| g.1 <= from);
        self.0.get(i).is_some_and(|g| g.0 < to)
    }
}

/// Scores a log. Errors name the first field that is not usable (times out of order, a
/// non-finite time, a trial index beyond `planned_trials`, bad options).
pub fn score(log: &RawLog, options: &ScoringOptions) -> Result<Score, CptError> {
    options.validate()?;
    let planned = validate(log)?;
    let gaps = Gaps::new(&log.interruptions);
    let n = log.stimuli.len();
    let window_end: Vec<f64> = (0..n)
        .map(|i| {
            let cap = log.stimuli[i].onset_ms + options.max_rt_ms;
            match log.stimuli.get(i + 1) {
                Some(next) => next.onset_ms.min(cap),
                None => cap,
            }
        })
        .collect();
    let mut trials: Vec<TrialOutcome> = log
        .stimuli
        .iter()
        .zip(&window_end)
        .map(|(s, &end)| {
            let quarter = (4 * u64::from(s.trial) / u64::from(planned)).min(3) as u8;
            let excluded = gaps.overlaps(s.onset_ms, end);
            TrialOutcome {
                trial: s.trial,
                onset_ms: s.onset_ms,
                target: s.target,
                quarter,
                outcome: match (excluded, s.target) {
                    (true, _) => Outcome::Excluded,
                    (false, true) => Outcome::Omission,
                    (false, false) => Outcome::CorrectRejection,
                },
                rt_ms: None,
                anticipatory: 0,
                multiple: 0,
            }
        })
        .collect();

    let (mut stray, mut ignored, mut repeats) = (0u32, 0u32, 0u32);
    let mut j = 0usize;
    for key in &log.keys {
        let t = key.time_ms;
        if key.repeat {
            repeats += 1;
            continue;
        }
        if gaps.holds(t) {
            ignored += 1;
            continue;
        }
        while j + 1 < n && log.stimuli[j + 1].onset_ms <= t {
            j += 1;
        }
        if n == 0 || t < log.stimuli[j].onset_ms || t >= window_end[j] {
            stray += 1;
            continue;
        }
        let trial = &mut trials[j];
        let rt = t - trial.onset_ms;
        match trial.outcome {
            Outcome::Excluded => ignored += 1,
            _ if rt < options.anticipatory_ms => trial.anticipatory += 1,
            Outcome::Omission => {
                trial.outcome = Outcome::Hit;
                trial.rt_ms = Some(rt);
            }
            Outcome::CorrectRejection => {
                trial.outcome = Outcome::Commission;
                trial.rt_ms = Some(rt);
            }
            Outcome::Hit | Outcome::Commission => trial.multiple += 1,
        }
    }

    let block = |quarter: Option<u8>| -> Block {
        let mut b = Block::default();
        let mut rts = Vec::new();
        for t in trials
            .iter()
            .filter(|t| quarter.is_none_or(|q| t.quarter == q))
        {
            b.anticipatory += t.anticipatory;
            b.multiple += t.multiple;
            match t.outcome {
                Outcome::Hit => {
                    b.hits += 1;
                    rts.extend(t.rt_ms);
                }
                Outcome::Omission => b.omissions += 1,
                Outcome::Commission => b.commissions += 1,
                Outcome::CorrectRejection => b.correct_rejections += 1,
                Outcome::Excluded => b.excluded_trials += 1,
            }
        }
        b.targets = b.hits + b.omissions;
        b.non_targets = b.commissions + b.correct_rejections;
        b.hit_rt = Summary::of(&rts);
        (b.hit_rate, b.false_alarm_rate, b.d_prime, b.criterion) =
            signal_detection(b.hits, b.targets, b.commissions, b.non_targets);
        b
    };
    Ok(Score {
        options: *options,
        whole: block(None),
        quarters: [
            block(Some(0)),
            block(Some(1)),
            block(Some(2)),
            block(Some(3)),
        ],
        stray,
        ignored,
        repeats,
        trials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }

    fn onsets(targets: &[bool]) -> Vec<Onset> {
        // Trial i at (i + 1) * 1000 ms.
        targets
            .iter()
            .enumerate()
            .map(|(i, &target)| Onset {
                trial: i as u32,
                onset_ms: (i as f64 + 1.0) * 1000.0,
                target,
            })
            .collect()
    }

    fn keys(times: &[f64]) -> Vec<KeyPress> {
        times
            .iter()
            .map(|&time_ms| KeyPress {
                time_ms,
                repeat: false,
            })
            .collect()
    }

    fn tn(n: usize) -> Vec<bool> {
        (0..n).map(|i| i % 2 == 0).collect()
    }

    /// Eight trials, targets at 0, 2, 4, 6, onsets 1000, 2000, ..., 8000 ms.
    ///
    /// | press (ms) | belongs to | RT | counted as |
    /// |---|---|---|---|
    /// | 500 | none (before the first onset) | | stray |
    /// | 1350 | 0, target | 350 | hit |
    /// | 2100 | 1, non-target | 100 < 150 | anticipatory (trial 1 stays a correct rejection) |
    /// | none | 2, target | | omission |
    /// | 4420 | 3, non-target | 420 | commission |
    /// | 4700 | 3 | 700 | multiple |
    /// | 5080 | 4, target | 80 | anticipatory |
    /// | 5500 | 4 | 500 | hit (first press of 150 ms or more) |
    /// | 7250 | 6, target | 250 | hit |
    /// | 7250, repeat | | | repeat |
    /// | 10500 | none: 8000 + max_rt 2000 = 10000 closed trial 7's window | | stray |
    ///
    /// Whole test: targets 4, hits 3, omissions 1; non-targets 4, commissions 1, correct
    /// rejections 3; anticipatory 2, multiple 1, stray 2, repeats 1: 10 presses in all.
    /// Hit RTs 350, 500, 250: mean 1100 / 3 = 366.67, median 350, sum of squares
    /// 122500 + 250000 + 62500 - 3 * (1100/3)^2 = 95000 / 3, variance (95000 / 3) / 2 =
    /// 15833.33, SD 125.83.
    /// H = (3 + 0.5) / (4 + 1) = 0.7, F = (1 + 0.5) / (4 + 1) = 0.3; z(0.7) = 0.52440 =
    /// -z(0.3): d′ = 1.04880, c = -(0.52440 - 0.52440) / 2 = 0.
    /// Quarters (8 planned trials: quarter = floor(4i / 8)) are trials {0,1}, {2,3}, {4,5},
    /// {6,7}. Quarter 2 (trials 2 and 3): an omission and a commission, H = 0.5 / 2 = 0.25,
    /// F = 1.5 / 2 = 0.75, d′ = z(0.25) - z(0.75) = -1.34898.
    #[test]
    fn worked_example() {
        let mut k = keys(&[
            500.0, 1350.0, 2100.0, 4420.0, 4700.0, 5080.0, 5500.0, 7250.0,
        ]);
        k.push(KeyPress {
            time_ms: 7250.0,
            repeat: true,
        });
        k.extend(keys(&[10500.0]));
        let log = RawLog {
            stimuli: onsets(&tn(8)),
            keys: k,
            ..RawLog::default()
        };
        let s = score(&log, &ScoringOptions::default()).unwrap();
        let w = s.whole;
        assert_eq!((w.targets, w.hits, w.omissions), (4, 3, 1));
        assert_eq!(
            (w.non_targets, w.commissions, w.correct_rejections),
            (4, 1, 3)
        );
        assert_eq!((w.anticipatory, w.multiple, w.excluded_trials), (2, 1, 0));
        assert_eq!((s.stray, s.repeats, s.ignored), (2, 1, 0));
        assert_eq!(w.hit_rt.n, 3);
        close(w.hit_rt.mean.unwrap(), 1100.0 / 3.0);
        assert_eq!(w.hit_rt.median, Some(350.0));
        close(w.hit_rt.sd.unwrap(), (15_833.333_333_333_334f64).sqrt());
        close(w.hit_rate, 0.7);
        close(w.false_alarm_rate, 0.3);
        close(w.d_prime, 2.0 * 0.524_400_512_708_041);
        close(w.criterion, 0.0);
        let q = s.quarters[1];
        assert_eq!(
            (q.targets, q.omissions, q.commissions, q.multiple),
            (1, 1, 1, 1)
        );
        close(q.d_prime, -1.348_979_500_392_163_4);
        assert_eq!(s.quarters[0].anticipatory, 1);
        assert_eq!(s.quarters[2].anticipatory, 1);
        assert_eq!(s.quarters[3].hits, 1);
        assert_eq!(s.trials[4].rt_ms, Some(500.0));
        assert_eq!(s.trials[1].outcome, Outcome::CorrectRejection);
    }

    /// No presses: 4 targets, 4 non-targets, all omissions and correct rejections.
    /// H = 0.5 / 5 = 0.1 = F: d′ = 0; c = -(2 z(0.1)) / 2 = 1.28155 (as conservative as the
    /// correction allows). No hit, so no RT statistics.
    #[test]
    fn no_responses_at_all() {
        let log = RawLog {
            stimuli: onsets(&tn(8)),
            ..RawLog::default()
        };
        let s = score(&log, &ScoringOptions::default()).unwrap();
        assert_eq!(
            (s.whole.hits, s.whole.omissions, s.whole.commissions),
            (0, 4, 0)
        );
        close(s.whole.d_prime, 0.0);
        close(s.whole.criterion, 1.281_551_565_544_600_8);
        assert_eq!(s.whole.hit_rt, Summary::default());
        for q in &s.quarters {
            assert!(q.d_prime.is_finite());
        }
    }

    /// Four non-targets only, each pressed at RT 400: every response a commission.
    /// H = (0 + 0.5) / (0 + 1) = 0.5, F = (4 + 0.5) / (4 + 1) = 0.9; z(0.5) = 0,
    /// z(0.9) = 1.28155: d′ = -1.28155, c = -(0 + 1.28155) / 2 = -0.64078.
    #[test]
    fn every_response_a_commission() {
        let log = RawLog {
            stimuli: onsets(&[false; 4]),
            keys: keys(&[1400.0, 2400.0, 3400.0, 4400.0]),
            ..RawLog::default()
        };
        let s = score(&log, &ScoringOptions::default()).unwrap();
        assert_eq!((s.whole.targets, s.whole.commissions), (0, 4));
        close(s.whole.d_prime, -1.281_551_565_544_600_8);
        close(s.whole.criterion, -0.640_775_782_772_300_4);
        // One trial per quarter (planned 4 = last index 3 + 1).
        assert!(s.quarters.iter().all(|q| q.commissions == 1));
    }

    /// A key held down from 1300 ms: the first key-down is trial 0's hit (RT 300); the
    /// browser's auto-repeats every 33 ms from 1800 ms, flagged `repeat`, are counted apart
    /// and do not make trial 1 (a non-target at 2000) a commission.
    #[test]
    fn key_held_down() {
        let mut k = keys(&[1300.0]);
        k.extend((0..10).map(|i| KeyPress {
            time_ms: 1800.0 + 33.0 * f64::from(i),
            repeat: true,
        }));
        let log = RawLog {
            stimuli: onsets(&tn(2)),
            keys: k,
            ..RawLog::default()
        };
        let s = score(&log, &ScoringOptions::default()).unwrap();
        assert_eq!((s.whole.hits, s.whole.commissions, s.repeats), (1, 0, 10));
        assert_eq!(s.whole.multiple, 0);
    }

    /// The tab hidden from 3500 to 5200 ms. Trials 2 (window 3000-4000), 3 (4000-5000) and 4
    /// (5000-6000) overlap it and are excluded; the press at 3300 (trial 2's window, before
    /// the interruption) and the one at 4500 (inside it) are ignored. Left: trials 0, 1, 5,
    /// 6, 7: targets 0 and 6, non-targets 1, 5, 7.
    #[test]
    fn tab_hidden_in_the_middle() {
        let log = RawLog {
            stimuli: onsets(&tn(8)),
            keys: keys(&[1400.0, 3300.0, 4500.0, 7400.0]),
            interruptions: vec![Interruption {
                start_ms: 3500.0,
                end_ms: 5200.0,
            }],
            planned_trials: Some(8),
        };
        let s = score(&log, &ScoringOptions::default()).unwrap();
        assert_eq!(s.whole.excluded_trials, 3);
        assert_eq!((s.whole.targets, s.whole.hits), (2, 2));
        assert_eq!((s.whole.non_targets, s.whole.commissions), (3, 0));
        assert_eq!(s.ignored, 2);
        // Quarter 2 (trials 4, 5): trial 4 excluded, trial 5 a correct rejection.
        assert_eq!(s.quarters[2].excluded_trials, 1);
        assert_eq!(s.quarters[2].correct_rejections, 1);
    }

    /// Trials the browser never showed (a hidden tab stops animation frames) are simply
    /// absent; with `planned_trials` the quarters stay where the schedule put them.
    #[test]
    fn missing_trials_keep_their_quarters() {
        let mut stimuli = onsets(&tn(8));
        stimuli.retain(|s| !(2..=4).contains(&s.trial));
        let log = RawLog {
            stimuli,
            planned_trials: Some(8),
            ..RawLog::default()
        };
        let s = score(&log, &ScoringOptions::default()).unwrap();
        let per_q: Vec<u32> = s
            .quarters
            .iter()
            .map(|q| q.targets + q.non_targets)
            .collect();
        assert_eq!(per_q, [2, 0, 1, 2]);
    }

    /// The anticipatory cut-off is an option: at 50 ms, trial 1's press at RT 100 becomes a
    /// commission.
    #[test]
    fn configurable_cut_off() {
        let log = RawLog {
            stimuli: onsets(&tn(2)),
            keys: keys(&[2100.0]),
            ..RawLog::default()
        };
        let opts = ScoringOptions {
            anticipatory_ms: 50.0,
            ..ScoringOptions::default()
        };
        let s = score(&log, &opts).unwrap();
        assert_eq!((s.whole.commissions, s.whole.anticipatory), (1, 0));
        // A shorter window: a press at RT 1500 with max_rt 1000 is stray.
        let log = RawLog {
            stimuli: onsets(&tn(1)),
            keys: keys(&[2500.0]),
            ..RawLog::default()
        };
        let opts = ScoringOptions {
            max_rt_ms: 1000.0,
            ..ScoringOptions::default()
        };
        let s = score(&log, &opts).unwrap();
        assert_eq!((s.whole.hits, s.stray), (0, 1));
    }

    #[test]
    fn empty_log() {
        let s = score(&RawLog::default(), &ScoringOptions::default()).unwrap();
        assert_eq!(s.whole, {
            let mut b = Block::default();
            (b.hit_rate, b.false_alarm_rate) = (0.5, 0.5);
            b
        });
        let log = RawLog {
            keys: keys(&[10.0]),
            ..RawLog::default()
        };
        assert_eq!(score(&log, &ScoringOptions::default()).unwrap().stray, 1);
    }

    #[test]
    fn bad_logs_name_the_field() {
        let log = RawLog {
            stimuli: onsets(&tn(3)),
            keys: keys(&[1500.0, 1400.0]),
            ..RawLog::default()
        };
        let e = score(&log, &ScoringOptions::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "keys[1].time_ms: expected a time no earlier than the previous key (1500 ms), found 1400"
        );
        let mut log = RawLog {
            stimuli: onsets(&tn(3)),
            ..RawLog::default()
        };
        log.stimuli[2].onset_ms = 2000.0;
        assert_eq!(
            score(&log, &ScoringOptions::default()).unwrap_err().field,
            "stimuli[2].onset_ms"
        );
        log.stimuli[2].onset_ms = f64::NAN;
        assert_eq!(
            score(&log, &ScoringOptions::default())
                .unwrap_err()
                .to_string(),
            "stimuli[2].onset_ms: expected a finite number, found NaN"
        );
        let log = RawLog {
            stimuli: onsets(&tn(3)),
            planned_trials: Some(2),
            ..RawLog::default()
        };
        assert_eq!(
            score(&log, &ScoringOptions::default()).unwrap_err().field,
            "planned_trials"
        );
        let opts = ScoringOptions {
            anticipatory_ms: 300.0,
            max_rt_ms: 200.0,
        };
        assert_eq!(
            score(&RawLog::default(), &opts).unwrap_err().field,
            "max_rt_ms"
        );
    }

    #[test]
    fn practice_pass_rule() {
        // Go/no-go practice: at least 4 hits, at most 2 commissions.
        let rule = crate::TaskVersion::GoNoGo.params().practice;
        let log = RawLog {
            stimuli: onsets(&tn(12)),
            // Hits on targets 0, 2, 4, 6 (RT 400), commissions on 1 and 3.
            keys: keys(&[1400.0, 2400.0, 3400.0, 4400.0, 5400.0, 7400.0]),
            ..RawLog::default()
        };
        let s = score(&log, &ScoringOptions::default()).unwrap();
        assert_eq!((s.whole.hits, s.whole.commissions), (4, 2));
        assert!(rule.passed(&s));
        let mut log2 = log.clone();
        log2.keys.push(KeyPress {
            time_ms: 8400.0,
            repeat: false,
        });
        assert!(!rule.passed(&score(&log2, &ScoringOptions::default()).unwrap()));
    }
}
