//! Activity from the head-position track that the browser's face detector makes on the
//! device: time (ms, the test's clock), the face's centre `x` (a fraction of the frame's
//! width) and `y` (a fraction of its height) and its `size` (width, a fraction of the frame's
//! width). No image is ever involved.
//!
//! ## Units
//!
//! Positions are converted to **head widths** (hw): `x / u` and `y * frame_aspect / u`, where
//! `frame_aspect` is the frame's height over its width (so both axes are in the same units)
//! and `u` is the median face size over the test. A child's head is about 14 cm wide, so
//! 1 hw is about 14 cm whatever the camera's resolution or the child's distance from it.
//!
//! ## Method
//!
//! 1. Only samples with `start_ms <= t < end_ms` (the test's span) count.
//! 2. **Bins**: time is cut into bins of `bin_ms` (100 ms) from `start_ms`; a bin's position
//!    is the mean of its samples (which also damps the detector's frame-to-frame jitter).
//!    Bins without samples are gaps.
//! 3. **Steps** join consecutive non-empty bins no more than `max_gap_ms` (500 ms) apart; the
//!    step lasts the time between the bins and covers the straight distance between their
//!    positions. A longer gap (the face lost) ends a segment: nothing is counted across it,
//!    neither time nor distance. A step belongs to the quarter of its first bin.
//! 4. **Tracked time**: the sum of the steps' durations; `tracked_pct` is its share of the
//!    span, so a report can say how much of the test the track covers.
//! 5. **Time active**: the share of tracked time in steps faster than `active_speed`
//!    (0.1 hw/s, about 1.4 cm/s).
//! 6. **Distance**: the sum of the steps' lengths, in hw.
//! 7. **Area**: the plane is cut into square cells of side `cell` (0.1 hw); area is the number
//!    of cells visited times the cell's area, in hw². A cell is visited by a bin's position or
//!    by a point on a step, sampled every half cell or closer. Cells rather than a convex hull
//!    so that one stray detection adds one cell, not a triangle reaching across the frame. A
//!    quarter's area counts the cells visited in that quarter, so the quarters' areas do not
//!    add up to the whole test's.
//! 8. **Micro-movements**: within a segment, an anchor starts at the first position; whenever a
//!    bin's position is `micro_threshold` (0.05 hw, about 7 mm) or more from the anchor, one
//!    micro-movement is counted and the anchor moves there. Jitter below the threshold never
//!    counts; a slow drift counts once per threshold travelled.
//! 9. **Motion simplicity**: the steps are grouped in windows of `window_ms` (2,000 ms, by the
//!    time of a step's first bin, and never across a gap); a window with a path of at least
//!    `min_window_path` (0.1 hw) contributes its net displacement (first step's start to last
//!    step's end) and its path length. Simplicity is the sum of net displacements over the sum
//!    of path lengths: 1 for movement in straight lines, near 0 for fidgeting back and forth.
//!    `None` when no window moved enough.
//!
//! The thresholds are defaults to be checked against recordings of still heads on the devices
//! used; norms are only valid for the options they were made with.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{CptError, finite};
use crate::score::{RawLog, ScoringOptions};

/// One detection of the face. Read strictly: a sample with any other field (an image, say)
/// is refused, so nothing but these four numbers can be stored as a track.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadSample {
    pub t_ms: f64,
    /// Centre, a fraction of the frame's width (-1 to 2 accepted).
    pub x: f64,
    /// Centre, a fraction of the frame's height (-1 to 2 accepted).
    pub y: f64,
    /// Face width, a fraction of the frame's width (0.01 to 2 accepted).
    pub size: f64,
}

fn default_aspect() -> f64 {
    0.75
}

/// A head-position track (strictly read, as [`HeadSample`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadTrack {
    /// Frame height / width (0.75 for 640 x 480, 0.5625 for 1280 x 720).
    #[serde(default = "default_aspect")]
    pub frame_aspect: f64,
    /// In time order (equal times allowed).
    pub samples: Vec<HeadSample>,
}

/// The test's time span, ms on the log's clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub start_ms: f64,
    pub end_ms: f64,
}

impl Span {
    /// From the first logged onset to the close of the last trial's longest window.
    pub fn of_log(log: &RawLog, options: &ScoringOptions) -> Option<Span> {
        let first = log.stimuli.first()?;
        let last = log.stimuli.last()?;
        Some(Span {
            start_ms: first.onset_ms,
            end_ms: last.onset_ms + options.max_rt_ms,
        })
    }
}

/// The activity options (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ActivityOptions {
    pub bin_ms: f64,
    pub max_gap_ms: f64,
    /// hw per second.
    pub active_speed: f64,
    /// hw.
    pub micro_threshold: f64,
    /// hw.
    pub cell: f64,
    pub window_ms: f64,
    /// hw.
    pub min_window_path: f64,
}

impl Default for ActivityOptions {
    fn default() -> Self {
        ActivityOptions {
            bin_ms: 100.0,
            max_gap_ms: 500.0,
            active_speed: 0.1,
            micro_threshold: 0.05,
            cell: 0.1,
            window_ms: 2000.0,
            min_window_path: 0.1,
        }
    }
}

/// Activity over the whole test or one quarter.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ActivityBlock {
    pub span_ms: f64,
    pub tracked_ms: f64,
    /// Tracked time as a percentage of the span.
    pub tracked_pct: f64,
    pub active_ms: f64,
    /// Active time as a percentage of tracked time; `None` when nothing was tracked.
    pub time_active_pct: Option<f64>,
    /// hw.
    pub distance: f64,
    /// Cells visited.
    pub cells: u32,
    /// hw².
    pub area: f64,
    pub micro_movements: u32,
    pub motion_simplicity: Option<f64>,
    /// Sums behind `motion_simplicity`.
    pub net_displacement: f64,
    pub window_path: f64,
}

/// Activity of a test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub options: ActivityOptions,
    pub span: Span,
    /// The median face size (the unit, as a fraction of frame width); `None` with no samples.
    pub unit: Option<f64>,
    pub samples_used: u32,
    pub whole: ActivityBlock,
    pub quarters: [ActivityBlock; 4],
}

impl ActivityOptions {
    fn validate(&self) -> Result<(), CptError> {
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(CptError::new(name, "a finite number above 0", v))
            }
        };
        positive("bin_ms", self.bin_ms)?;
        positive("max_gap_ms", self.max_gap_ms)?;
        positive("active_speed", self.active_speed)?;
        positive("micro_threshold", self.micro_threshold)?;
        positive("cell", self.cell)?;
        positive("window_ms", self.window_ms)?;
        positive("min_window_path", self.min_window_path)?;
        if self.max_gap_ms < self.bin_ms {
            return Err(CptError::new(
                "max_gap_ms",
                format!("at least bin_ms ({})", self.bin_ms),
                self.max_gap_ms,
            ));
        }
        Ok(())
    }
}

fn validate(track: &HeadTrack, span: &Span) -> Result<(), CptError> {
    finite(|| "span.start_ms".into(), span.start_ms)?;
    finite(|| "span.end_ms".into(), span.end_ms)?;
    if span.end_ms <= span.start_ms {
        return Err(CptError::new(
            "span.end_ms",
            format!("a time after start_ms ({})", span.start_ms),
            span.end_ms,
        ));
    }
    let a = track.frame_aspect;
    if !(a.is_finite() && a > 0.0 && a <= 10.0) {
        return Err(CptError::new(
            "frame_aspect",
            "the frame's height over its width, above 0 and at most 10",
            a,
        ));
    }
    for (i, s) in track.samples.iter().enumerate() {
        finite(|| format!("samples[{i}].t_ms"), s.t_ms)?;
        if i > 0 && s.t_ms < track.samples[i - 1].t_ms {
            return Err(CptError::new(
                format!("samples[{i}].t_ms"),
                format!(
                    "a time no earlier than the previous sample ({} ms)",
                    track.samples[i - 1].t_ms
                ),
                s.t_ms,
            ));
        }
        for (name, v) in [("x", s.x), ("y", s.y)] {
            if !(-1.0..=2.0).contains(&v) {
                return Err(CptError::new(
                    format!("samples[{i}].{name}"),
                    "a fraction of the frame from -1 to 2",
                    v,
                ));
            }
        }
        if !(0.01..=2.0).contains(&s.size) {
            return Err(CptError::new(
                format!("samples[{i}].size"),
                "a face width from 0.01 to 2 (a fraction of the frame's width)",
                s.size,
            ));
        }
    }
    Ok(())
}

type P = (f64, f64);

fn dist(a: P, b: P) -> f64 {
    (b.0 - a.0).hypot(b.1 - a.1)
}

/// Per-block running sums.
#[derive(Default)]
struct Acc {
    tracked: f64,
    active: f64,
    distance: f64,
    micro: u32,
    net: f64,
    path: f64,
    cells: BTreeSet<(i64, i64)>,
}

/// Measures activity over `span` (see the module documentation). An empty track, or one
/// with no sample in the span, gives zero tracked time and `None` rates.
pub fn activity(
    track: &HeadTrack,
    span: Span,
    options: &ActivityOptions,
) -> Result<Activity, CptError> {
    options.validate()?;
    validate(track, &span)?;
    let o = options;
    let len = span.end_ms - span.start_ms;
    let samples: Vec<&HeadSample> = track
        .samples
        .iter()
        .filter(|s| s.t_ms >= span.start_ms && s.t_ms < span.end_ms)
        .collect();
    let unit = (!samples.is_empty()).then(|| {
        let mut sizes: Vec<f64> = samples.iter().map(|s| s.size).collect();
        sizes.sort_by(f64::total_cmp);
        let n = sizes.len();
        if n % 2 == 1 {
            sizes[n / 2]
        } else {
            (sizes[n / 2 - 1] + sizes[n / 2]) / 2.0
        }
    });
    // Bins: (index, mean position in hw).
    let mut bins: Vec<(u64, P)> = Vec::new();
    if let Some(u) = unit {
        let mut cur: Option<(u64, f64, f64, f64)> = None;
        for s in &samples {
            let k = ((s.t_ms - span.start_ms) / o.bin_ms).floor() as u64;
            let (x, y) = (s.x / u, s.y * track.frame_aspect / u);
            match &mut cur {
                Some((ck, sx, sy, n)) if *ck == k => {
                    *sx += x;
                    *sy += y;
                    *n += 1.0;
                }
                _ => {
                    if let Some((ck, sx, sy, n)) = cur {
                        bins.push((ck, (sx / n, sy / n)));
                    }
                    cur = Some((k, x, y, 1.0));
                }
            }
        }
        if let Some((ck, sx, sy, n)) = cur {
            bins.push((ck, (sx / n, sy / n)));
        }
    }
    let quarter = |k: u64| ((4.0 * (k as f64 * o.bin_ms) / len).floor() as usize).min(3);
    let cell_of = |p: P| ((p.0 / o.cell).floor() as i64, (p.1 / o.cell).floor() as i64);
    let mut acc: [Acc; 4] = Default::default();
    let mut whole_cells: BTreeSet<(i64, i64)> = BTreeSet::new();
    for &(k, p) in &bins {
        acc[quarter(k)].cells.insert(cell_of(p));
        whole_cells.insert(cell_of(p));
    }
    // The window being summed: (segment, window index, quarter, start, end, path).
    let mut window: Option<(usize, u64, usize, P, P, f64)> = None;
    let close_window = |w: Option<(usize, u64, usize, P, P, f64)>, acc: &mut [Acc; 4]| {
        if let Some((_, _, q, a, b, path)) = w
            && path >= o.min_window_path
        {
            acc[q].net += dist(a, b);
            acc[q].path += path;
        }
    };
    let mut segment = 0usize;
    let mut anchor: P = bins.first().map(|b| b.1).unwrap_or((0.0, 0.0));
    for pair in bins.windows(2) {
        let ((k1, p1), (k2, p2)) = (pair[0], pair[1]);
        let dur = (k2 - k1) as f64 * o.bin_ms;
        if dur > o.max_gap_ms {
            segment += 1;
            anchor = p2;
            continue;
        }
        let q = quarter(k1);
        let a = &mut acc[q];
        let d = dist(p1, p2);
        a.tracked += dur;
        a.distance += d;
        if d / dur * 1000.0 > o.active_speed {
            a.active += dur;
        }
        if dist(anchor, p2) >= o.micro_threshold {
            a.micro += 1;
            anchor = p2;
        }
        let m = (d / (o.cell / 2.0)).ceil().clamp(1.0, 1000.0) as u32;
        for i in 1..m {
            let f = f64::from(i) / f64::from(m);
            let c = cell_of((p1.0 + (p2.0 - p1.0) * f, p1.1 + (p2.1 - p1.1) * f));
            a.cells.insert(c);
            whole_cells.insert(c);
        }
        let w = ((k1 as f64 * o.bin_ms) / o.window_ms).floor() as u64;
        match &mut window {
            Some((s, wi, _, _, end, path)) if *s == segment && *wi == w => {
                *end = p2;
                *path += d;
            }
            _ => {
                close_window(window.take(), &mut acc);
                window = Some((segment, w, q, p1, p2, d));
            }
        }
    }
    close_window(window.take(), &mut acc);

    let finish = |span_ms: f64, a: &Acc, cells: usize| ActivityBlock {
        span_ms,
        tracked_ms: a.tracked,
        tracked_pct: 100.0 * a.tracked / span_ms,
        active_ms: a.active,
        time_active_pct: (a.tracked > 0.0).then(|| 100.0 * a.active / a.tracked),
        distance: a.distance,
        cells: cells as u32,
        area: cells as f64 * o.cell * o.cell,
        micro_movements: a.micro,
        // The triangle inequality keeps net <= path; min() only absorbs rounding.
        motion_simplicity: (a.path > 0.0).then(|| (a.net / a.path).min(1.0)),
        net_displacement: a.net,
        window_path: a.path,
    };
    let mut total = Acc::default();
    for a in &acc {
        total.tracked += a.tracked;
        total.active += a.active;
        total.distance += a.distance;
        total.micro += a.micro;
        total.net += a.net;
        total.path += a.path;
    }
    Ok(Activity {
        options: *o,
        span,
        unit,
        samples_used: samples.len() as u32,
        whole: finish(len, &total, whole_cells.len()),
        quarters: [0, 1, 2, 3].map(|q| finish(len / 4.0, &acc[q], acc[q].cells.len())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }

    const SPAN: Span = Span {
        start_ms: 0.0,
        end_ms: 40_000.0,
    };

    fn track(x: impl Fn(f64) -> Option<f64>) -> HeadTrack {
        // A sample every 50 ms for 40 s, face a quarter of the frame wide, y at mid-frame.
        HeadTrack {
            frame_aspect: 0.75,
            samples: (0..800)
                .filter_map(|i| {
                    let t = f64::from(i) * 50.0;
                    x(t).map(|x| HeadSample {
                        t_ms: t,
                        x,
                        y: 0.5,
                        size: 0.25,
                    })
                })
                .collect(),
        }
    }

    /// Still at x = 0.25 for 10 s, then 0.25 to 0.75 of the frame at a steady speed over the
    /// second 10 s, still again for 10 s, then the face is lost for the last quarter.
    ///
    /// The unit is the face size 0.25, so x runs from 1 to 3 hw and y = 0.5 * 0.75 / 0.25 =
    /// 1.5 hw. Bins of 100 ms hold two samples each (t and t + 50).
    /// - Steps: bins 0..299, consecutive, so 299 steps of 100 ms: tracked 29,900 ms
    ///   (74.75% of 40 s). Quarter 1 holds the steps from bins 100..199: 10,000 ms.
    /// - Distance: the head goes from 1 to 3 hw without turning back: 2 hw. The steps from
    ///   bins 100 to 198 are 0.5 / 100 frame = 0.02 hw long (0.2 hw/s, active); 99 to 100 is
    ///   0.005 hw (0.05 hw/s, not active); 199 to 200 is 0.015 hw (0.15 hw/s, active).
    ///   Active: 100 steps, 10,000 ms: 100% of quarter 1, 10,000 / 29,900 of the test.
    /// - Micro-movements (0.05 hw): the anchor is passed at bins 103, 106, ..., 199 (0.065
    ///   then 0.06 hw each three steps): 33.
    /// - Area, cells of 0.125 hw: x from 1 to 3 hw crosses cells 8 to 24 in one row: 17
    ///   cells, 17 / 64 = 0.265625 hw².
    /// - Simplicity: only the moving windows (2 s) have a path of 0.1 hw or more, and they
    ///   are straight: 1.
    #[test]
    fn a_track_whose_distance_and_area_are_known() {
        let t = track(|t| {
            (t < 30_000.0).then(|| 0.25 + 0.5 * ((t - 10_000.0) / 10_000.0).clamp(0.0, 1.0))
        });
        let o = ActivityOptions {
            cell: 0.125,
            ..ActivityOptions::default()
        };
        let a = activity(&t, SPAN, &o).unwrap();
        assert_eq!(a.unit, Some(0.25));
        assert_eq!(a.samples_used, 600);
        let w = a.whole;
        close(w.tracked_ms, 29_900.0);
        close(w.tracked_pct, 74.75);
        close(w.distance, 2.0);
        close(w.active_ms, 10_000.0);
        close(w.time_active_pct.unwrap(), 100.0 * 10_000.0 / 29_900.0);
        assert_eq!(w.micro_movements, 33);
        assert_eq!(w.cells, 17);
        close(w.area, 0.265_625);
        close(w.motion_simplicity.unwrap(), 1.0);
        let q = a.quarters;
        close(q[0].tracked_ms, 10_000.0);
        close(q[1].tracked_ms, 10_000.0);
        close(q[2].tracked_ms, 9_900.0);
        assert_eq!(q[3].tracked_ms, 0.0);
        assert_eq!(q[3].time_active_pct, None);
        close(q[0].distance, 0.005);
        close(q[1].distance, 1.995);
        close(q[1].time_active_pct.unwrap(), 100.0);
        assert_eq!(q[0].time_active_pct, Some(0.0));
        assert_eq!(q.iter().map(|b| b.micro_movements).sum::<u32>(), 33);
        // Quarter 1's cells: 8 to 23 (bin 200, at 3 hw, is in quarter 2).
        assert_eq!(
            [q[0].cells, q[1].cells, q[2].cells, q[3].cells],
            [1, 16, 1, 0]
        );
        assert_eq!(q[0].motion_simplicity, None);
    }

    /// Back and forth by 0.1 of the frame (0.4 hw) each second, a triangle wave of period
    /// 2 s, so each 2 s window starts and ends at the same place.
    ///
    /// In "phase" units (0 to 1 is the 0.1 of the frame), bin j of a period holds the
    /// samples at 100j and 100j + 50 ms: rising bins 0-9 have means 0.025, 0.125, ..., 0.925,
    /// falling bins 10-19 have 0.975, 0.875, ..., 0.075. The path per period is 0.9 + 0.05
    /// (the turn at the top) + 0.9 + 0.05 (into the next period's 0.025) = 1.9, that is
    /// 0.19 of the frame = 0.76 hw. Twenty periods, less the last step (there is no bin 400
    /// to step to, 0.05 phase = 0.02 hw): 20 * 0.76 - 0.02 = 15.18 hw.
    /// Windows 0-18 end where they start: net 0. The last ends at bin 399 (phase 0.075),
    /// 0.05 phase = 0.02 hw from its start: simplicity 0.02 / 15.18 = 0.0013.
    #[test]
    fn fidgeting_is_not_simple() {
        let t = track(|t| {
            let phase = (t % 2000.0) / 1000.0;
            Some(0.5 + 0.1 * if phase <= 1.0 { phase } else { 2.0 - phase })
        });
        let a = activity(&t, SPAN, &ActivityOptions::default()).unwrap();
        close(a.whole.distance, 15.18);
        close(a.whole.window_path, 15.18);
        close(a.whole.motion_simplicity.unwrap(), 0.02 / 15.18);
        assert!(
            a.quarters[..3]
                .iter()
                .all(|q| q.motion_simplicity.unwrap() < 1e-12)
        );
    }

    /// A gap longer than max_gap_ms: the head jumps while the face is lost; nothing is
    /// counted across the gap.
    #[test]
    fn gaps_are_not_counted() {
        let t = track(|t| {
            if (10_000.0..11_000.0).contains(&t) {
                None
            } else if t < 10_000.0 {
                Some(0.25)
            } else {
                Some(0.75)
            }
        });
        let a = activity(&t, SPAN, &ActivityOptions::default()).unwrap();
        assert_eq!(a.whole.distance, 0.0);
        assert_eq!(a.whole.micro_movements, 0);
        // 400 bins minus 10 missing: two segments of 100 and 290 bins, 99 + 289 steps.
        close(a.whole.tracked_ms, 38_800.0);
    }

    #[test]
    fn empty_track_and_samples_outside_the_span() {
        let empty = HeadTrack {
            frame_aspect: 0.75,
            samples: vec![],
        };
        let a = activity(&empty, SPAN, &ActivityOptions::default()).unwrap();
        assert_eq!(a.unit, None);
        assert_eq!(a.whole.tracked_ms, 0.0);
        assert_eq!(a.whole.time_active_pct, None);
        assert_eq!(a.whole.motion_simplicity, None);
        let outside = track(|t| (t < 1000.0).then_some(0.5));
        let span = Span {
            start_ms: 5000.0,
            end_ms: 6000.0,
        };
        let a = activity(&outside, span, &ActivityOptions::default()).unwrap();
        assert_eq!(a.samples_used, 0);
        assert_eq!(a.whole.cells, 0);
    }

    #[test]
    fn a_track_holds_times_positions_and_sizes_only() {
        let ok: HeadTrack = serde_json::from_str(
            r#"{"frame_aspect":0.75,"samples":[{"t_ms":1.5,"x":0.5,"y":0.5,"size":0.2}]}"#,
        )
        .unwrap();
        assert_eq!(ok.samples.len(), 1);
        let image = r#"{"frame_aspect":0.75,"samples":[{"t_ms":1.5,"x":0.5,"y":0.5,"size":0.2,"image":"data:image/png;base64,AAAA"}]}"#;
        let e = serde_json::from_str::<HeadTrack>(image)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `image`"), "{e}");
        let frame = r#"{"frame_aspect":0.75,"samples":[],"frame":[1,2,3]}"#;
        assert!(serde_json::from_str::<HeadTrack>(frame).is_err());
    }

    #[test]
    fn bad_tracks_name_the_field() {
        let mut t = track(|_| Some(0.5));
        t.samples[5].t_ms = 10.0;
        let e = activity(&t, SPAN, &ActivityOptions::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "samples[5].t_ms: expected a time no earlier than the previous sample (200 ms), found 10"
        );
        let mut t = track(|_| Some(0.5));
        t.samples[3].y = f64::NAN;
        assert_eq!(
            activity(&t, SPAN, &ActivityOptions::default())
                .unwrap_err()
                .field,
            "samples[3].y"
        );
        let mut t = track(|_| Some(0.5));
        t.samples[0].size = 0.0;
        assert_eq!(
            activity(&t, SPAN, &ActivityOptions::default())
                .unwrap_err()
                .field,
            "samples[0].size"
        );
        t.frame_aspect = -1.0;
        assert_eq!(
            activity(&t, SPAN, &ActivityOptions::default())
                .unwrap_err()
                .field,
            "frame_aspect"
        );
        let span = Span {
            start_ms: 10.0,
            end_ms: 10.0,
        };
        assert_eq!(
            activity(&track(|_| None), span, &ActivityOptions::default())
                .unwrap_err()
                .field,
            "span.end_ms"
        );
        let o = ActivityOptions {
            cell: 0.0,
            ..ActivityOptions::default()
        };
        assert_eq!(
            activity(&track(|_| None), SPAN, &o).unwrap_err().field,
            "cell"
        );
    }
}
