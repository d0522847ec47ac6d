//! Charts drawn as vectors on the page: the SPC chart in Making Data Count's colours (the same
//! palette `spc::svg` uses on screen, so a printed chart reads like the page it came from), and
//! a plain bar chart.

use crate::layout::{self, INK, MARGIN_X, PAGE_W, Pages, SECONDARY, fit};
use crate::text::{self, Font};
use crate::{Bars, SpcChart};
use spc::svg::colours;
use spc::{Point, PointType};

const CHART_H: f32 = 215.0;
const BARS_H: f32 = 210.0;
const AXIS_LABEL_W: f32 = 46.0;

/// Linear map from values to the page.
struct Scale {
    lo: f64,
    hi: f64,
    bottom: f32,
    top: f32,
    left: f32,
    right: f32,
    n: usize,
}

impl Scale {
    fn y(&self, v: f64) -> f32 {
        let t = ((v - self.lo) / (self.hi - self.lo)) as f32;
        self.bottom + t.clamp(-0.02, 1.02) * (self.top - self.bottom)
    }

    fn x(&self, i: usize) -> f32 {
        if self.n <= 1 {
            return (self.left + self.right) / 2.0;
        }
        self.left + (self.right - self.left) * i as f32 / (self.n - 1) as f32
    }
}

fn rgb(hex: &str) -> (f32, f32, f32) {
    let h = hex.trim_start_matches('#');
    if h.len() != 6 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (0.0, 0.0, 0.0);
    }
    let c = |i: usize| {
        u8::from_str_radix(h.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0) as f32 / 255.0
    };
    (c(0), c(2), c(4))
}

/// A range with room around it and tick marks at round numbers.
fn nice_range(values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0, 0.2);
    }
    if hi - lo < 1e-9 {
        lo -= 1.0;
        hi += 1.0;
    }
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let lo = (lo / step).floor() * step;
    let hi = (hi / step).ceil() * step;
    (lo, hi, step)
}

fn y_axis(pages: &mut Pages, s: &Scale, step: f64) {
    let mut v = s.lo;
    let mut guard = 0;
    while v <= s.hi + step * 1e-6 && guard < 50 {
        let y = s.y(v);
        let c = pages.page();
        c.set_stroke_rgb(0.91, 0.93, 0.93);
        c.set_line_width(0.5);
        c.move_to(s.left, y);
        c.line_to(s.right, y);
        c.stroke();
        let label = spc::svg::fmt_num(v);
        let w = text::width(&label, Font::Regular, 7.5);
        pages.text(
            s.left - 6.0 - w,
            y - 2.5,
            &label,
            Font::Regular,
            7.5,
            SECONDARY,
        );
        v += step;
        guard += 1;
    }
    let c = pages.page();
    c.set_stroke_rgb(SECONDARY.0, SECONDARY.1, SECONDARY.2);
    c.set_line_width(0.8);
    c.move_to(s.left, s.top);
    c.line_to(s.left, s.bottom);
    c.line_to(s.right, s.bottom);
    c.stroke();
}

fn x_labels(pages: &mut Pages, s: &Scale, labels: &[String]) {
    let n = labels.len().min(s.n);
    if n == 0 {
        return;
    }
    let every = n.div_ceil(14).max(1);
    for (i, label) in labels.iter().enumerate().take(n) {
        if i % every != 0 && i != n - 1 {
            continue;
        }
        let label = fit(label, Font::Regular, 7.0, 48.0);
        let w = text::width(&label, Font::Regular, 7.0);
        // Rotated 40° so that monthly labels never collide; anchored at their end.
        let (sin, cos) = 40f32.to_radians().sin_cos();
        let x = s.x(i) - w * cos;
        let y = s.bottom - 8.0 - w * sin;
        pages.text_rotated(x, y, &label, 7.0, 40.0);
    }
}

/// A polyline through the points that have `line`, broken where it is missing or where a new
/// segment starts (a rebased chart shows its steps).
fn series_line(pages: &mut Pages, s: &Scale, points: &[Point], line: fn(&Point) -> Option<f64>) {
    let c = pages.page();
    let mut pen = false;
    let mut segment = usize::MAX;
    for (i, p) in points.iter().enumerate() {
        match line(p) {
            Some(v) if v.is_finite() => {
                let (x, y) = (s.x(i), s.y(v));
                if pen && p.segment == segment {
                    c.line_to(x, y);
                } else {
                    c.move_to(x, y);
                }
                pen = true;
                segment = p.segment;
            }
            _ => pen = false,
        }
    }
    c.stroke();
}

fn circle(pages: &mut Pages, x: f32, y: f32, r: f32, colour: (f32, f32, f32)) {
    // Four Bézier arcs; 0.5523 is the control distance that makes them round.
    let k = 0.5523 * r;
    let c = pages.page();
    c.set_fill_rgb(colour.0, colour.1, colour.2);
    c.move_to(x + r, y);
    c.cubic_to(x + r, y + k, x + k, y + r, x, y + r);
    c.cubic_to(x - k, y + r, x - r, y + k, x - r, y);
    c.cubic_to(x - r, y - k, x - k, y - r, x, y - r);
    c.cubic_to(x + k, y - r, x + r, y - k, x + r, y);
    c.fill_nonzero();
}

fn point_colour(pt: PointType) -> (f32, f32, f32) {
    rgb(match pt {
        PointType::CommonCause => colours::COMMON,
        PointType::Improvement(_) => colours::IMPROVEMENT,
        PointType::Concern(_) => colours::CONCERN,
        PointType::Neutral(_) => colours::NEUTRAL,
    })
}

fn heading(pages: &mut Pages, top: f32, title: &str, line2: &str) {
    let title = fit(title, Font::Bold, 11.0, layout::TEXT_W);
    pages.text(MARGIN_X, top - 11.0, &title, Font::Bold, 11.0, INK);
    if !line2.is_empty() {
        let line2 = fit(line2, Font::Regular, 8.5, layout::TEXT_W);
        pages.text(MARGIN_X, top - 24.0, &line2, Font::Regular, 8.5, SECONDARY);
    }
}

fn y_title(pages: &mut Pages, s: &Scale, label: &str) {
    let label = fit(label, Font::Regular, 7.5, s.top - s.bottom);
    let w = text::width(&label, Font::Regular, 7.5);
    let mid = (s.top + s.bottom) / 2.0;
    pages.text_rotated(MARGIN_X + 6.0, mid - w / 2.0, &label, 7.5, 90.0);
}

pub(crate) fn spc_chart(pages: &mut Pages, chart: &SpcChart) {
    let notes_h = chart.annotations.len() as f32 * 11.0;
    let top = layout::figure_box(pages, CHART_H + notes_h);
    let summary = &chart.analysis.summary;
    let variation = summary
        .variation
        .map(|v| v.describe())
        .unwrap_or("Variation: too few points to judge");
    let line2 = format!("{variation}. {}.", summary.assurance.describe());
    heading(pages, top, &chart.title, &line2);

    let points = &chart.analysis.points;
    if points.is_empty() {
        pages.text(
            MARGIN_X,
            top - 60.0,
            "No data for this chart",
            Font::Regular,
            10.0,
            SECONDARY,
        );
        return;
    }
    let values = points.iter().flat_map(|p| {
        [p.value, p.centre, p.lower_limit, p.upper_limit]
            .into_iter()
            .flatten()
    });
    let (lo, hi, step) = nice_range(values.chain(chart.settings.target));
    let s = Scale {
        lo,
        hi,
        top: top - 36.0,
        bottom: top - CHART_H + 48.0,
        left: MARGIN_X + AXIS_LABEL_W,
        right: PAGE_W - MARGIN_X - 8.0,
        n: points.len(),
    };
    y_axis(pages, &s, step);
    y_title(pages, &s, &chart.y_label);
    x_labels(pages, &s, &chart.x_labels);

    let (r, g, b) = rgb(colours::LIMIT);
    let c = pages.page();
    c.set_stroke_rgb(r, g, b);
    c.set_line_width(1.0);
    c.set_dash_pattern([4.0, 3.0], 0.0);
    series_line(pages, &s, points, |p| p.upper_limit);
    series_line(pages, &s, points, |p| p.lower_limit);
    let c = pages.page();
    c.set_dash_pattern([], 0.0);
    c.set_stroke_rgb(0.0, 0.0, 0.0);
    c.set_line_width(1.1);
    series_line(pages, &s, points, |p| p.centre);
    if let Some(t) = chart.settings.target.filter(|t| t.is_finite()) {
        let (r, g, b) = rgb(colours::TARGET);
        let y = s.y(t);
        let c = pages.page();
        c.set_stroke_rgb(r, g, b);
        c.set_dash_pattern([1.5, 2.0], 0.0);
        c.move_to(s.left, y);
        c.line_to(s.right, y);
        c.stroke();
        c.set_dash_pattern([], 0.0);
        let label = format!("Target {}", spc::svg::fmt_num(t));
        let w = text::width(&label, Font::Regular, 7.5);
        pages.text(s.right - w, y + 3.0, &label, Font::Regular, 7.5, (r, g, b));
    }
    let c = pages.page();
    c.set_stroke_rgb(0.5, 0.5, 0.5);
    c.set_line_width(0.9);
    let mut pen = false;
    for (i, p) in points.iter().enumerate() {
        match p.value.filter(|v| v.is_finite()) {
            Some(v) if pen => {
                c.line_to(s.x(i), s.y(v));
            }
            Some(v) => {
                c.move_to(s.x(i), s.y(v));
                pen = true;
            }
            None => pen = false,
        }
    }
    c.stroke();
    let radius = if points.len() > 60 { 1.8 } else { 2.6 };
    for (i, p) in points.iter().enumerate() {
        if let (Some(v), Some(pt)) = (p.value.filter(|v| v.is_finite()), p.point_type) {
            circle(pages, s.x(i), s.y(v), radius, point_colour(pt));
        }
    }
    annotations(pages, &s, &chart.annotations, top - CHART_H);
}

fn annotations(pages: &mut Pages, s: &Scale, notes: &[(usize, String)], list_top: f32) {
    for (n, (i, _)) in notes.iter().enumerate() {
        if *i >= s.n {
            continue;
        }
        let x = s.x(*i);
        let c = pages.page();
        c.set_stroke_rgb(SECONDARY.0, SECONDARY.1, SECONDARY.2);
        c.set_line_width(0.6);
        c.set_dash_pattern([1.0, 2.0], 0.0);
        c.move_to(x, s.bottom);
        c.line_to(x, s.top);
        c.stroke();
        c.set_dash_pattern([], 0.0);
        pages.text(
            x + 2.0,
            s.top - 8.0,
            &(n + 1).to_string(),
            Font::Bold,
            7.5,
            INK,
        );
    }
    for (n, (_, note)) in notes.iter().enumerate() {
        let line = fit(
            &format!("{}. {note}", n + 1),
            Font::Regular,
            8.0,
            layout::TEXT_W,
        );
        let y = list_top - 2.0 - n as f32 * 11.0;
        pages.text(MARGIN_X, y, &line, Font::Regular, 8.0, INK);
    }
}

pub(crate) fn bars(pages: &mut Pages, b: &Bars) {
    let top = layout::figure_box(pages, BARS_H);
    heading(pages, top, &b.title, "");
    let n = b.values.len().min(b.labels.len().max(b.values.len()));
    if n == 0 {
        pages.text(
            MARGIN_X,
            top - 40.0,
            "No data",
            Font::Regular,
            10.0,
            SECONDARY,
        );
        return;
    }
    let (lo, hi, step) = nice_range(b.values.iter().copied().chain([0.0]));
    let left = MARGIN_X + AXIS_LABEL_W;
    let right = PAGE_W - MARGIN_X - 8.0;
    let slot = (right - left) / n as f32;
    let s = Scale {
        lo,
        hi,
        top: top - 24.0,
        bottom: top - BARS_H + 44.0,
        // Bars sit in slots; the x map puts a point in each slot's middle.
        left: left + slot / 2.0,
        right: right - slot / 2.0,
        n,
    };
    let axis = Scale { left, right, ..s };
    y_axis(pages, &axis, step);
    y_title(pages, &s, &b.y_label);
    let (r, g, bl) = (0.0, 0.369, 0.722);
    let width = (slot * 0.7).max(1.0);
    for (i, v) in b.values.iter().enumerate().take(n) {
        if !v.is_finite() {
            continue;
        }
        let x = s.x(i) - width / 2.0;
        let (y0, y1) = (s.y(0f64.max(lo)), s.y(*v));
        let c = pages.page();
        c.set_fill_rgb(r, g, bl);
        c.rect(x, y0.min(y1), width, (y1 - y0).abs());
        c.fill_nonzero();
        if n <= 24 {
            let label = spc::svg::fmt_num(*v);
            let w = text::width(&label, Font::Regular, 7.0);
            pages.text(
                s.x(i) - w / 2.0,
                y0.max(y1) + 2.0,
                &label,
                Font::Regular,
                7.0,
                INK,
            );
        }
    }
    x_labels(pages, &s, &b.labels);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_round_and_hold_every_value() {
        let (lo, hi, step) = nice_range([3.2, 17.9, 11.0].into_iter());
        assert!(lo <= 3.2 && hi >= 17.9);
        assert!(step > 0.0);
        assert!(((hi - lo) / step - ((hi - lo) / step).round()).abs() < 1e-9);
        assert_eq!(nice_range(std::iter::empty()), (0.0, 1.0, 0.2));
        let (lo, hi, _) = nice_range([5.0, 5.0].into_iter());
        assert!(lo < 5.0 && hi > 5.0);
        let (lo, hi, _) = nice_range([f64::NAN, 2.0, f64::INFINITY].into_iter());
        assert!(lo <= 2.0 && hi >= 2.0 && hi.is_finite());
    }

    #[test]
    fn colours_are_read_from_hex() {
        assert_eq!(rgb("#FFFFFF"), (1.0, 1.0, 1.0));
        assert_eq!(rgb("#000000"), (0.0, 0.0, 0.0));
        assert_eq!(rgb("bad"), (0.0, 0.0, 0.0));
    }
}
