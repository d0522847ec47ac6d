//! # cpt: an open continuous performance test for children's ADHD assessment
//!
//! Pure (no I/O, no async, no clock, no randomness but its seeded SplitMix64): the two task
//! versions and their seeded trial schedules ([`task`]), scoring of the raw log of stimulus
//! onsets and key presses ([`score`]), activity from the on-device head-position track
//! ([`activity`]), norms tables read from CSV or JSON text, Q-scores, the three summaries and
//! the reliable change index ([`norms`]). See `docs/cpt.md` for every rule with worked
//! examples.
//!
//! The test supports a clinician's decision; it never diagnoses.
//!
//! ```
//! use cpt::{TaskVersion, schedule, score, RawLog, Onset, KeyPress, ScoringOptions};
//!
//! let plan = schedule(&TaskVersion::GoNoGo.params(), 42).unwrap();
//! assert_eq!(plan.trials.len(), 450);
//!
//! // The browser shows two trials and logs one press 420 ms after the first.
//! let log = RawLog {
//!     stimuli: vec![
//!         Onset { trial: 0, onset_ms: 1000.0, target: true },
//!         Onset { trial: 1, onset_ms: 3000.0, target: false },
//!     ],
//!     keys: vec![KeyPress { time_ms: 1420.0, repeat: false }],
//!     ..RawLog::default()
//! };
//! let s = score(&log, &ScoringOptions::default()).unwrap();
//! assert_eq!((s.whole.hits, s.whole.commissions), (1, 0));
//! assert_eq!(s.whole.hit_rt.mean, Some(420.0));
//! ```

pub mod activity;
mod csv;
mod error;
pub mod norms;
pub mod rng;
pub mod score;
pub mod stats;
pub mod task;

pub use activity::{
    Activity, ActivityBlock, ActivityOptions, HeadSample, HeadTrack, Span, activity,
};
pub use error::CptError;
pub use norms::{Direction, NormsTable, QScore, ReliableChange, Sex, parameters, reliable_change};
pub use score::{Block, KeyPress, Onset, Outcome, RawLog, Score, ScoringOptions, score};
pub use task::{Rule, Schedule, Stimulus, TaskParams, TaskVersion, Trial, schedule};
