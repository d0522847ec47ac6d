//! SPC charts as SVG in the Making Data Count look (SPC.md section 3): coloured points, the
//! mean, dashed process limits, a red target line, breaks between segments, the variation
//! and assurance icons, dated annotations, and a title and description for screen readers.
//! Produces a string; writing it anywhere is the caller's business.

use crate::result::{Analysis, Assurance, Point, PointType, Variation};
use crate::settings::Settings;
use std::fmt::Write;

/// Standard MDC colours.
pub mod colours {
    pub const COMMON: &str = "#A6A6A6";
    pub const IMPROVEMENT: &str = "#00B0F0";
    pub const CONCERN: &str = "#E46C0A";
    pub const NEUTRAL: &str = "#490092";
    pub const MEAN: &str = "#000000";
    pub const LIMIT: &str = "#A6A6A6";
    pub const TARGET: &str = "#DE1B1B";
    pub const ICON_IMPROVEMENT: &str = "#0072C6";
    pub const ICON_CONCERN: &str = "#FF6600";
    pub const ICON_COMMON: &str = "#BFBFBF";
    pub const ICON_NEUTRAL: &str = "#8000C0";
}

/// A dated note on the chart, e.g. "Safety huddles started".
#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    /// The point the note belongs to.
    pub index: usize,
    pub text: String,
}

/// The words around a chart.
#[derive(Clone, Debug, Default)]
pub struct Labels<'a> {
    pub title: &'a str,
    /// One label per point, e.g. "Apr 2016".
    pub x_labels: &'a [String],
    /// What the values are, e.g. "Restraints per 1,000 occupied bed days".
    pub y_label: &'a str,
    pub annotations: &'a [Annotation],
}

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 460.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 92.0;
const BOTTOM: f64 = 72.0;

/// Draw one analysed series.
pub fn render(analysis: &Analysis, settings: &Settings, labels: &Labels<'_>) -> String {
    let pts = &analysis.points;
    let mut out = String::with_capacity(8_192 + pts.len() * 200);
    let desc = describe(analysis, settings, labels);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="spc-title spc-desc" font-family="Arial, Helvetica, sans-serif">"#
    );
    let _ = write!(
        out,
        r#"<title id="spc-title">{}</title><desc id="spc-desc">{}</desc>"#,
        esc(labels.title),
        esc(&desc)
    );
    out.push_str(r##"<rect width="100%" height="100%" fill="#FFFFFF"/>"##);
    let _ = write!(
        out,
        r##"<text x="{LEFT}" y="28" font-size="17" font-weight="bold" fill="#212B32">{}</text>"##,
        esc(&truncate(labels.title, 70))
    );
    let _ = write!(
        out,
        r##"<text x="{LEFT}" y="48" font-size="12" fill="#4C6272">{}</text>"##,
        esc(&truncate(&subtitle(settings, analysis), 90))
    );
    icons(&mut out, analysis);

    if pts.is_empty() {
        out.push_str(r##"<text x="450" y="240" text-anchor="middle" font-size="14" fill="#4C6272">No data for this chart</text></svg>"##);
        return out;
    }

    let scale = Scale::new(analysis, settings);
    axes(&mut out, &scale, labels, pts.len());
    segment_breaks(&mut out, &scale, analysis);
    annotations(&mut out, &scale, labels.annotations, pts.len());

    // Lines: limits (dashed), centre, target.
    for line in [
        (|p: &Point| p.upper_limit) as fn(&Point) -> Option<f64>,
        |p: &Point| p.lower_limit,
    ] {
        let d = step_path(&scale, analysis, line);
        let _ = write!(
            out,
            r#"<path d="{d}" fill="none" stroke="{}" stroke-width="1.5" stroke-dasharray="6 4"/>"#,
            colours::LIMIT
        );
    }
    let d = step_path(&scale, analysis, |p| p.centre);
    let _ = write!(
        out,
        r#"<path d="{d}" fill="none" stroke="{}" stroke-width="1.5"/>"#,
        colours::MEAN
    );
    if let Some(t) = settings.target {
        let y = scale.y(t);
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{}" stroke-width="1.5" stroke-dasharray="2 3"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="{}">Target {}</text>"#,
            WIDTH - RIGHT,
            colours::TARGET,
            WIDTH - RIGHT,
            y - 4.0,
            colours::TARGET,
            fmt_num(t)
        );
    }

    // The data line, broken at missing periods.
    let mut d = String::new();
    let mut pen_down = false;
    for (i, p) in pts.iter().enumerate() {
        match p.value {
            Some(v) => {
                let _ = write!(
                    d,
                    "{}{:.1},{:.1}",
                    if pen_down { "L" } else { "M" },
                    scale.x(i),
                    scale.y(v)
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let _ = write!(
        out,
        r##"<path d="{d}" fill="none" stroke="#7F7F7F" stroke-width="1.2"/>"##
    );

    for (i, p) in pts.iter().enumerate() {
        let (Some(v), Some(pt)) = (p.value, p.point_type) else {
            continue;
        };
        let label = labels
            .x_labels
            .get(i)
            .map_or_else(|| format!("Point {}", i + 1), |s| s.clone());
        let _ = write!(
            out,
            r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{}"><title>{}: {} ({})</title></circle>"#,
            scale.x(i),
            scale.y(v),
            point_colour(pt),
            esc(&label),
            fmt_num(v),
            describe_point(pt)
        );
    }
    legend(&mut out, analysis);
    out.push_str("</svg>");
    out
}

fn point_colour(pt: PointType) -> &'static str {
    match pt {
        PointType::CommonCause => colours::COMMON,
        PointType::Improvement(_) => colours::IMPROVEMENT,
        PointType::Concern(_) => colours::CONCERN,
        PointType::Neutral(_) => colours::NEUTRAL,
    }
}

fn describe_point(pt: PointType) -> &'static str {
    match pt {
        PointType::CommonCause => "common cause",
        PointType::Improvement(_) => "special cause: improvement",
        PointType::Concern(_) => "special cause: concern",
        PointType::Neutral(_) => "special cause: neither better nor worse",
    }
}

fn subtitle(settings: &Settings, analysis: &Analysis) -> String {
    let mut s = format!(
        "{} chart, {} convention, {} is better",
        settings.chart.as_str().to_uppercase(),
        settings.convention.as_str().to_uppercase(),
        match settings.direction {
            crate::Direction::Increase => "higher",
            crate::Direction::Decrease => "lower",
            crate::Direction::Neutral => "neither direction",
        }
    );
    if analysis.segments.last().is_some_and(|s| s.trial) {
        s.push_str("; trial limits (fewer than 13 points)");
    }
    s
}

/// The sentence behind the chart, for people who cannot see it.
fn describe(analysis: &Analysis, settings: &Settings, labels: &Labels<'_>) -> String {
    let s = &analysis.summary;
    let latest = analysis
        .points
        .iter()
        .enumerate()
        .rev()
        .find(|(_, p)| p.value.is_some());
    let mut d = String::new();
    match latest {
        Some((i, p)) => {
            let when = labels
                .x_labels
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("point {}", i + 1));
            let _ = write!(
                d,
                "Latest value {} ({when}). ",
                fmt_num(p.value.unwrap_or_default())
            );
        }
        None => d.push_str("No values. "),
    }
    if let Some(c) = s.centre {
        let _ = write!(d, "Centre line {}", fmt_num(c));
        if let (Some(l), Some(u)) = (s.lower_limit, s.upper_limit) {
            let _ = write!(d, ", process limits {} to {}", fmt_num(l), fmt_num(u));
        }
        d.push_str(". ");
    }
    if let Some(v) = s.variation {
        let _ = write!(d, "{}. ", v.describe());
    }
    if s.assurance != Assurance::None {
        let _ = write!(
            d,
            "{} ({}). ",
            s.assurance.describe(),
            fmt_num(settings.target.unwrap_or_default())
        );
    }
    let specials = analysis
        .points
        .iter()
        .filter(|p| p.point_type.is_some_and(PointType::is_special_cause))
        .count();
    let _ = write!(
        d,
        "{} of {} points show special cause variation; {} segment{}.",
        specials,
        s.points,
        s.segments,
        if s.segments == 1 { "" } else { "s" }
    );
    d
}

struct Scale {
    lo: f64,
    hi: f64,
    n: usize,
    ticks: Vec<f64>,
}

impl Scale {
    fn new(analysis: &Analysis, settings: &Settings) -> Scale {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        let mut see = |v: Option<f64>| {
            if let Some(v) = v.filter(|v| v.is_finite()) {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        };
        for p in &analysis.points {
            see(p.value);
            see(p.centre);
            see(p.lower_limit);
            see(p.upper_limit);
        }
        see(settings.target);
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if hi - lo < 1e-12 {
            let pad = if lo.abs() > 0.0 { lo.abs() * 0.1 } else { 1.0 };
            lo -= pad;
            hi += pad;
        }
        let ticks = nice_ticks(lo, hi, 6);
        let lo = lo.min(*ticks.first().unwrap_or(&lo));
        let hi = hi.max(*ticks.last().unwrap_or(&hi));
        Scale {
            lo,
            hi,
            n: analysis.points.len(),
            ticks,
        }
    }

    fn x(&self, i: usize) -> f64 {
        let w = WIDTH - LEFT - RIGHT;
        LEFT + w * (i as f64 + 0.5) / self.n.max(1) as f64
    }

    fn half_step(&self) -> f64 {
        (WIDTH - LEFT - RIGHT) / self.n.max(1) as f64 / 2.0
    }

    fn y(&self, v: f64) -> f64 {
        let h = HEIGHT - TOP - BOTTOM;
        TOP + h * (1.0 - (v - self.lo) / (self.hi - self.lo))
    }
}

/// Round tick values (1, 2 or 5 times a power of ten) covering lo..hi.
fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| (hi - lo) / s <= target as f64)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).floor() * step;
    let mut ticks = Vec::new();
    let mut t = start;
    while t <= hi + step * 0.5 && ticks.len() < 50 {
        ticks.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    ticks
}

fn axes(out: &mut String, scale: &Scale, labels: &Labels<'_>, n: usize) {
    let (x0, x1) = (LEFT, WIDTH - RIGHT);
    let (y0, y1) = (TOP, HEIGHT - BOTTOM);
    for t in &scale.ticks {
        let y = scale.y(*t);
        let _ = write!(
            out,
            r##"<line x1="{x0}" x2="{x1}" y1="{y:.1}" y2="{y:.1}" stroke="#E8EDEE"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#4C6272">{}</text>"##,
            x0 - 6.0,
            y + 4.0,
            fmt_num(*t)
        );
    }
    let _ = write!(
        out,
        r##"<line x1="{x0}" x2="{x1}" y1="{y1}" y2="{y1}" stroke="#425563"/><line x1="{x0}" x2="{x0}" y1="{y0}" y2="{y1}" stroke="#425563"/>"##
    );
    // At most about 12 date labels, evenly spaced, always including the latest.
    let every = n.div_ceil(12).max(1);
    for i in (0..n).filter(|i| (n - 1 - i).is_multiple_of(every)) {
        let Some(label) = labels.x_labels.get(i) else {
            continue;
        };
        let x = scale.x(i);
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{y1}" y2="{:.1}" stroke="#425563"/><text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="end" transform="rotate(-35 {x:.1} {:.1})" fill="#4C6272">{}</text>"##,
            y1 + 4.0,
            y1 + 16.0,
            y1 + 16.0,
            esc(label)
        );
    }
    if !labels.y_label.is_empty() {
        let _ = write!(
            out,
            r##"<text x="16" y="{:.1}" font-size="12" text-anchor="middle" transform="rotate(-90 16 {:.1})" fill="#4C6272">{}</text>"##,
            (y0 + y1) / 2.0,
            (y0 + y1) / 2.0,
            esc(&truncate(labels.y_label, 60))
        );
    }
}

/// A line that may change from point to point (U and P limits), drawn as steps, broken
/// where it is undefined and between segments.
fn step_path(scale: &Scale, analysis: &Analysis, line: impl Fn(&Point) -> Option<f64>) -> String {
    let mut d = String::new();
    let h = scale.half_step();
    for seg in &analysis.segments {
        let mut pen_down = false;
        for i in seg.start..seg.end {
            match line(&analysis.points[i]) {
                Some(v) if v.is_finite() => {
                    let (x, y) = (scale.x(i), scale.y(v));
                    if pen_down {
                        let _ = write!(d, "V{y:.1}H{:.1}", x + h);
                    } else {
                        let _ = write!(d, "M{:.1},{y:.1}H{:.1}", x - h, x + h);
                    }
                    pen_down = true;
                }
                _ => pen_down = false,
            }
        }
    }
    d
}

fn segment_breaks(out: &mut String, scale: &Scale, analysis: &Analysis) {
    for seg in analysis.segments.iter().skip(1) {
        let x = scale.x(seg.start) - scale.half_step();
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{:.1}" stroke="#425563" stroke-dasharray="1 3"/><text x="{:.1}" y="{:.1}" font-size="10" fill="#425563">Rebased</text>"##,
            HEIGHT - BOTTOM,
            x + 3.0,
            HEIGHT - BOTTOM - 4.0
        );
    }
}

fn annotations(out: &mut String, scale: &Scale, notes: &[Annotation], n: usize) {
    let mut row_end = [f64::NEG_INFINITY; 3];
    for (k, a) in notes.iter().filter(|a| a.index < n).enumerate() {
        let x = scale.x(a.index);
        let text = truncate(&a.text, 32);
        let width = text.chars().count() as f64 * 6.0;
        // Stagger labels over three rows so that neighbours do not overwrite each other.
        let row = (0..3).find(|r| row_end[*r] < x).unwrap_or(k % 3);
        row_end[row] = x + width + 8.0;
        let y = TOP - 30.0 + row as f64 * 11.0;
        let anchor = if x + width > WIDTH - RIGHT {
            "end"
        } else {
            "start"
        };
        let _ = write!(
            out,
            r##"<g class="annotation"><title>{}</title><line x1="{x:.1}" x2="{x:.1}" y1="{:.1}" y2="{:.1}" stroke="#005EB8" stroke-dasharray="3 2"/><text x="{:.1}" y="{y:.1}" font-size="10" text-anchor="{anchor}" fill="#005EB8">{}</text></g>"##,
            esc(&a.text),
            y + 2.0,
            HEIGHT - BOTTOM,
            x + if anchor == "start" { 2.0 } else { -2.0 },
            esc(&text)
        );
    }
}

fn icons(out: &mut String, analysis: &Analysis) {
    let s = &analysis.summary;
    let (cx1, cx2, cy, r) = (WIDTH - 120.0, WIDTH - 56.0, 40.0, 22.0);
    if let Some(v) = s.variation {
        out.push_str(r#"<g class="icon variation">"#);
        variation_shape(out, v, cx1, cy, r);
        let _ = write!(
            out,
            r##"<text x="{cx1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#4C6272">Variation</text></g>"##,
            cy + r + 13.0
        );
    }
    if s.assurance != Assurance::None {
        out.push_str(r#"<g class="icon assurance">"#);
        assurance_shape(out, s.assurance, cx2, cy, r);
        let _ = write!(
            out,
            r##"<text x="{cx2}" y="{:.1}" font-size="10" text-anchor="middle" fill="#4C6272">Assurance</text></g>"##,
            cy + r + 13.0
        );
    }
}

/// The Making Data Count variation icon (a ring with H or L, or a grey wiggle for common
/// cause), centred at (cx, cy), with its meaning as a tooltip.
fn variation_shape(out: &mut String, v: Variation, cx: f64, cy: f64, r: f64) {
    let (colour, letter) = match v {
        Variation::CommonCause => (colours::ICON_COMMON, ""),
        Variation::ImprovementHigh => (colours::ICON_IMPROVEMENT, "H"),
        Variation::ImprovementLow => (colours::ICON_IMPROVEMENT, "L"),
        Variation::ConcernHigh => (colours::ICON_CONCERN, "H"),
        Variation::ConcernLow => (colours::ICON_CONCERN, "L"),
        Variation::NeutralHigh => (colours::ICON_NEUTRAL, "H"),
        Variation::NeutralLow => (colours::ICON_NEUTRAL, "L"),
    };
    let k = ring(out, v.describe(), colour, cx, cy, r);
    if letter.is_empty() {
        // Common cause: a small grey wiggle of points.
        let _ = write!(
            out,
            r#"<path d="M{:.1},{cy}l{a:.1},{b:.1}l{a:.1},{c:.1}l{a:.1},{d:.1}l{a:.1},{a:.1}l{a:.1},{e:.1}" fill="none" stroke="{colour}" stroke-width="{:.1}"/>"#,
            cx - 13.0 * k,
            2.5 * k,
            a = 5.0 * k,
            b = -5.0 * k,
            c = 8.0 * k,
            d = -6.0 * k,
            e = -4.0 * k,
        );
    } else {
        icon_letter(out, letter, colour, cx, cy, k);
    }
}

/// The assurance icon: P (the target will be met), F (it will be missed), ? (hit or miss).
fn assurance_shape(out: &mut String, a: Assurance, cx: f64, cy: f64, r: f64) {
    let (colour, letter) = match a {
        Assurance::Pass => (colours::ICON_IMPROVEMENT, "P"),
        Assurance::Fail => (colours::ICON_CONCERN, "F"),
        _ => (colours::ICON_COMMON, "?"),
    };
    let k = ring(out, a.describe(), colour, cx, cy, r);
    icon_letter(out, letter, colour, cx, cy, k);
}

/// An icon's white disc with its coloured ring and tooltip; returns the scale (1 at r = 22).
fn ring(out: &mut String, title: &str, colour: &str, cx: f64, cy: f64, r: f64) -> f64 {
    let k = r / 22.0;
    let _ = write!(
        out,
        r##"<title>{title}</title><circle cx="{cx}" cy="{cy}" r="{r}" fill="#FFFFFF" stroke="{colour}" stroke-width="{:.1}"/>"##,
        3.0 * k
    );
    k
}

fn icon_letter(out: &mut String, letter: &str, colour: &str, cx: f64, cy: f64, k: f64) {
    let _ = write!(
        out,
        r#"<text x="{cx}" y="{:.1}" font-size="{:.1}" font-weight="bold" text-anchor="middle" fill="{colour}">{letter}</text>"#,
        cy + 7.0 * k,
        20.0 * k
    );
}

/// A variation icon on its own (`size` pixels square), for tables such as a summary matrix.
/// It carries its meaning as an accessible name.
pub fn variation_icon(v: Variation, size: u32) -> String {
    standalone_icon(size, v.describe(), |out, c, r| {
        variation_shape(out, v, c, c, r)
    })
}

/// An assurance icon on its own; `None` when there is no target to assure against.
pub fn assurance_icon(a: Assurance, size: u32) -> Option<String> {
    (a != Assurance::None).then(|| {
        standalone_icon(size, a.describe(), |out, c, r| {
            assurance_shape(out, a, c, c, r)
        })
    })
}

fn standalone_icon(size: u32, label: &str, draw: impl FnOnce(&mut String, f64, f64)) -> String {
    let mut out = String::with_capacity(600);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 50 50" role="img" aria-label="{}" focusable="false">"#,
        esc(label)
    );
    draw(&mut out, 25.0, 22.0);
    out.push_str("</svg>");
    out
}

fn legend(out: &mut String, analysis: &Analysis) {
    let mut kinds: Vec<(&str, &str)> = vec![("Common cause", colours::COMMON)];
    let has = |f: fn(PointType) -> bool| analysis.points.iter().filter_map(|p| p.point_type).any(f);
    if has(|p| matches!(p, PointType::Improvement(_))) {
        kinds.push(("Improvement", colours::IMPROVEMENT));
    }
    if has(|p| matches!(p, PointType::Concern(_))) {
        kinds.push(("Concern", colours::CONCERN));
    }
    if has(|p| matches!(p, PointType::Neutral(_))) {
        kinds.push(("Neither better nor worse", colours::NEUTRAL));
    }
    let y = HEIGHT - 14.0;
    let mut x = LEFT;
    for (name, colour) in kinds {
        let _ = write!(
            out,
            r##"<circle cx="{x:.1}" cy="{:.1}" r="4" fill="{colour}"/><text x="{:.1}" y="{y:.1}" font-size="11" fill="#4C6272">{name}</text>"##,
            y - 4.0,
            x + 8.0
        );
        x += 30.0 + name.len() as f64 * 6.0;
    }
    let _ = write!(
        out,
        r##"<line x1="{x:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#000000" stroke-width="1.5"/><text x="{:.1}" y="{y:.1}" font-size="11" fill="#4C6272">Centre</text>"##,
        x + 18.0,
        y - 4.0,
        y - 4.0,
        x + 22.0
    );
    x += 70.0;
    let _ = write!(
        out,
        r##"<line x1="{x:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{}" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{:.1}" y="{y:.1}" font-size="11" fill="#4C6272">Process limits</text>"##,
        x + 18.0,
        y - 4.0,
        y - 4.0,
        colours::LIMIT,
        x + 22.0
    );
}

/// A number for people: up to four significant decimals, no trailing zeros.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let decimals = if v.abs() >= 1000.0 {
        0
    } else if v.abs() >= 100.0 {
        1
    } else if v.abs() >= 1.0 {
        2
    } else {
        4
    };
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Escape text for XML content and attributes (SVG and HTML alike): the five markup
/// characters as entities; tab, line feed and carriage return kept; every other control
/// character (C0, DEL, C1) and the non-characters U+FFFE and U+FFFF dropped, since XML may not
/// hold them and they mean nothing on a page. The one escaper of the workspace: charts, the
/// forest plots, driver diagrams and reports all use it.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            '\t' | '\n' | '\r' => o.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let t = nice_ticks(3.2, 47.9, 6);
        assert!(t.first().unwrap() <= &3.2 && t.last().unwrap() >= &47.9);
        assert!(t.windows(2).all(|w| ((w[1] - w[0]) - 10.0).abs() < 1e-9));
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(fmt_num(1751.9166), "1752");
        assert_eq!(fmt_num(2.5), "2.5");
        assert_eq!(fmt_num(0.12345), "0.1235");
        assert_eq!(fmt_num(-0.0), "0");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("A&E <4h> \"x\""), "A&amp;E &lt;4h&gt; &quot;x&quot;");
    }
}
