//! The forest plot of an idea's site effects with the pooled diamond, and the funnel plot, as
//! SVG drawn on the server in the style of `spc::svg` and the inequality page's forest plots:
//! presentation attributes only (no script, no inline style), a `<title>` and `<desc>` named
//! by `aria-labelledby`, and a text alternative (`*_text`) for the page to print beside it.
//! Labels arrive already decided by the caller (an unnamed "a PICU in another trust" for a
//! viewer who may not see that ward); this module only escapes and draws them.

use crate::funnel::{Band, Funnel};
use crate::meta::Pooled;
use spc::svg::esc;
use std::fmt::Write;

const TEXT: &str = "#212B32";
const SECONDARY: &str = "#4C6272";
const GRID: &str = "#D8DDE0";
const BLUE: &str = "#005EB8";
const GREY: &str = "#768692";
const ORANGE: &str = "#ED8B00";
const DARK_BLUE: &str = "#003087";
const PURPLE: &str = "#330072";

/// One row of a forest plot: a site's ratio and 95% interval, or a reason there is none.
#[derive(Clone, Debug, PartialEq)]
pub struct ForestRow {
    pub label: String,
    /// (ratio, lower, upper); `None` draws the `note` instead.
    pub ratio: Option<(f64, f64, f64)>,
    pub note: String,
}

const F_WIDTH: f64 = 900.0;
const F_ROW: f64 = 28.0;
const F_TOP: f64 = 40.0;
const F_BOTTOM: f64 = 70.0;
const F_LEFT: f64 = 260.0;
const F_RIGHT: f64 = 680.0;
const AXIS_MIN: f64 = 0.05;
const AXIS_MAX: f64 = 20.0;
const TICKS: [f64; 9] = [0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0];

fn usable(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

fn f_x(v: f64, lo: f64, hi: f64) -> f64 {
    let v = v.clamp(lo, hi);
    F_LEFT + (v.ln() - lo.ln()) / (hi.ln() - lo.ln()) * (F_RIGHT - F_LEFT)
}

fn ratio_text(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The forest plot. `id` prefixes the title's and description's ids (unique on the page);
/// `ratio_name` is "rate ratio" or "risk ratio".
pub fn forest(
    id: &str,
    title: &str,
    ratio_name: &str,
    rows: &[ForestRow],
    pooled: Option<&Pooled>,
) -> String {
    let drawn: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.ratio)
        .flat_map(|(v, l, u)| [v, l, u])
        .chain(pooled.into_iter().flat_map(|p| [p.ratio, p.lower, p.upper]))
        .filter(|v| usable(*v))
        .collect();
    let lo = TICKS
        .iter()
        .copied()
        .filter(|t| drawn.iter().all(|v| *v >= *t))
        .fold(AXIS_MIN, f64::max)
        .min(0.5);
    let hi = TICKS
        .iter()
        .rev()
        .copied()
        .filter(|t| drawn.iter().all(|v| *v <= *t))
        .fold(AXIS_MAX, f64::min)
        .max(2.0);
    let n = rows.len() + usize::from(pooled.is_some());
    let height = F_TOP + F_ROW * n as f64 + F_BOTTOM;
    let id = esc(id);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="mhsip-forest" viewBox="0 0 {F_WIDTH} {height}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="Arial, sans-serif" font-size="14">"#
    );
    let _ = write!(
        s,
        r#"<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        esc(title),
        esc(&forest_text(ratio_name, rows, pooled))
    );
    let _ = write!(
        s,
        r#"<text x="8" y="22" fill="{TEXT}" font-weight="bold">Site</text><text x="{}" y="22" fill="{TEXT}" font-weight="bold" text-anchor="middle">{} (log scale), 95% CI</text>"#,
        (F_LEFT + F_RIGHT) / 2.0,
        esc(ratio_name)
    );
    let bottom = F_TOP + F_ROW * n as f64;
    for t in TICKS.iter().filter(|t| **t >= lo && **t <= hi) {
        let x = f_x(*t, lo, hi);
        let (colour, width) = if *t == 1.0 {
            (SECONDARY, 1.5)
        } else {
            (GRID, 1.0)
        };
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" y1="{F_TOP}" x2="{x:.1}" y2="{bottom:.1}" stroke="{colour}" stroke-width="{width}"/><text x="{x:.1}" y="{:.1}" fill="{SECONDARY}" text-anchor="middle">{}</text>"#,
            bottom + 18.0,
            ratio_text(*t)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" fill="{SECONDARY}" text-anchor="middle">Below 1: lower after the change · above 1: higher</text>"#,
        (F_LEFT + F_RIGHT) / 2.0,
        bottom + 44.0
    );
    for (i, r) in rows.iter().enumerate() {
        let y = F_TOP + F_ROW * (i as f64 + 0.5);
        let _ = write!(
            s,
            r#"<text x="8" y="{:.1}" fill="{TEXT}">{}</text>"#,
            y + 5.0,
            esc(&r.label)
        );
        match r
            .ratio
            .filter(|(v, l, u)| usable(*v) && usable(*l) && usable(*u))
        {
            Some((v, l, u)) => {
                let colour = if u < 1.0 || l > 1.0 { BLUE } else { GREY };
                let (xl, xu, xv) = (f_x(l, lo, hi), f_x(u, lo, hi), f_x(v, lo, hi));
                let _ = write!(
                    s,
                    r#"<line x1="{xl:.1}" y1="{y:.1}" x2="{xu:.1}" y2="{y:.1}" stroke="{colour}" stroke-width="2"/><rect x="{:.1}" y="{:.1}" width="10" height="10" fill="{colour}"/><text x="700" y="{:.1}" fill="{TEXT}">{} ({}–{})</text>"#,
                    xv - 5.0,
                    y - 5.0,
                    y + 5.0,
                    ratio_text(v),
                    ratio_text(l),
                    ratio_text(u)
                );
            }
            None => {
                let _ = write!(
                    s,
                    r#"<text x="{F_LEFT}" y="{:.1}" fill="{SECONDARY}">{}</text>"#,
                    y + 5.0,
                    esc(&r.note)
                );
            }
        }
    }
    if let Some(p) = pooled {
        let y = F_TOP + F_ROW * (rows.len() as f64 + 0.5);
        let (xl, xu, xv) = (
            f_x(p.lower, lo, hi),
            f_x(p.upper, lo, hi),
            f_x(p.ratio, lo, hi),
        );
        let _ = write!(
            s,
            r#"<text x="8" y="{:.1}" fill="{TEXT}" font-weight="bold">Pooled (random effects)</text><polygon points="{xl:.1},{y:.1} {xv:.1},{:.1} {xu:.1},{y:.1} {xv:.1},{:.1}" fill="{DARK_BLUE}"/><text x="700" y="{:.1}" fill="{TEXT}" font-weight="bold">{} ({}–{})</text>"#,
            y + 5.0,
            y - 9.0,
            y + 9.0,
            y + 5.0,
            ratio_text(p.ratio),
            ratio_text(p.lower),
            ratio_text(p.upper)
        );
    }
    s.push_str("</svg>");
    s
}

/// The forest plot in words.
pub fn forest_text(ratio_name: &str, rows: &[ForestRow], pooled: Option<&Pooled>) -> String {
    let mut t = format!("Forest plot of the {ratio_name} after the change to before, by site. ");
    for r in rows {
        match r.ratio {
            Some((v, l, u)) => {
                let _ = write!(
                    t,
                    "{}: {} (95% CI {} to {}). ",
                    r.label,
                    ratio_text(v),
                    ratio_text(l),
                    ratio_text(u)
                );
            }
            None => {
                let _ = write!(t, "{}: {}. ", r.label, r.note);
            }
        }
    }
    if let Some(p) = pooled {
        let _ = write!(
            t,
            "Pooled over {} site{}: {} (95% CI {} to {})",
            p.k,
            if p.k == 1 { "" } else { "s" },
            ratio_text(p.ratio),
            ratio_text(p.lower),
            ratio_text(p.upper)
        );
        match p.heterogeneity {
            Some(h) => {
                let _ = write!(t, "; tau squared {:.3}, I squared {:.0}%.", p.tau2, h.i2);
            }
            None => t.push_str("; one site, so no heterogeneity can be estimated."),
        }
    }
    t
}

const W: f64 = 900.0;
const H: f64 = 480.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 860.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 410.0;

/// The funnel plot. `labels[i]` names unit i (as the caller decided the viewer may see it);
/// `highlight` marks the viewer's own units. `unit_name` is "ward" or "trust"; `x_label` the
/// denominator ("occupied bed days"), `y_label` the measure.
#[allow(clippy::too_many_arguments)]
pub fn funnel(
    id: &str,
    title: &str,
    x_label: &str,
    y_label: &str,
    f: &Funnel,
    labels: &[String],
    highlight: &[bool],
) -> String {
    let max_x = f
        .curve
        .iter()
        .map(|c| c.denominator)
        .chain(f.units.iter().map(|u| u.denominator))
        .fold(1.0, f64::max);
    let mut ys: Vec<f64> = f.units.iter().map(|u| u.value).collect();
    ys.push(f.target);
    // The limits are drawn only over the part of the range the units occupy (the smallest
    // denominators give very wide limits).
    let min_den = f
        .units
        .iter()
        .map(|u| u.denominator)
        .fold(f64::INFINITY, f64::min);
    for c in f.curve.iter().filter(|c| c.denominator >= min_den * 0.8) {
        ys.extend([c.exact.lower998, c.exact.upper998]);
        if f.overdispersed {
            ys.extend([c.additive.lower998, c.additive.upper998]);
        }
    }
    let y_max = ys
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
        * 1.05;
    let y_max = if y_max > 0.0 { y_max } else { 1.0 };
    let px = |d: f64| LEFT + d / max_x * (RIGHT - LEFT);
    let py = |v: f64| BOTTOM - (v.clamp(0.0, y_max) / y_max) * (BOTTOM - TOP);
    let id = esc(id);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="mhsip-funnel" viewBox="0 0 {W} {H}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="Arial, sans-serif" font-size="14">"#
    );
    let _ = write!(
        s,
        r#"<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        esc(title),
        esc(&funnel_text(y_label, f, labels))
    );
    // Axes and gridlines.
    for i in 0..=5 {
        let v = y_max * i as f64 / 5.0;
        let y = py(v);
        let _ = write!(
            s,
            r#"<line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="{GRID}"/><text x="{:.1}" y="{:.1}" fill="{SECONDARY}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            y + 5.0,
            tick(v)
        );
        let d = max_x * i as f64 / 5.0;
        let x = px(d);
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="{:.1}" fill="{SECONDARY}" text-anchor="middle">{}</text>"#,
            BOTTOM + 18.0,
            tick(d)
        );
    }
    let _ = write!(
        s,
        r#"<line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}" stroke="{SECONDARY}"/><text x="{:.1}" y="{:.1}" fill="{TEXT}" text-anchor="middle">{}</text><text x="16" y="{:.1}" fill="{TEXT}" text-anchor="middle" transform="rotate(-90 16 {:.1})">{}</text>"#,
        (LEFT + RIGHT) / 2.0,
        BOTTOM + 44.0,
        esc(x_label),
        (TOP + BOTTOM) / 2.0,
        (TOP + BOTTOM) / 2.0,
        esc(y_label)
    );
    // Limits.
    let curve: Vec<_> = f
        .curve
        .iter()
        .filter(|c| c.denominator >= min_den * 0.8)
        .collect();
    let line = |s: &mut String,
                get: &dyn Fn(&crate::funnel::CurvePoint) -> f64,
                colour: &str,
                dash: &str| {
        let pts: Vec<String> = curve
            .iter()
            .filter(|c| get(c).is_finite())
            .map(|c| format!("{:.1},{:.1}", px(c.denominator), py(get(c))))
            .collect();
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.5"{dash}/>"#,
            pts.join(" ")
        );
    };
    let dashed = r#" stroke-dasharray="6 4""#;
    line(&mut s, &|c| c.exact.lower95, GREY, dashed);
    line(&mut s, &|c| c.exact.upper95, GREY, dashed);
    line(&mut s, &|c| c.exact.lower998, GREY, "");
    line(&mut s, &|c| c.exact.upper998, GREY, "");
    if f.overdispersed {
        line(&mut s, &|c| c.additive.lower95, PURPLE, dashed);
        line(&mut s, &|c| c.additive.upper95, PURPLE, dashed);
        line(&mut s, &|c| c.additive.lower998, PURPLE, "");
        line(&mut s, &|c| c.additive.upper998, PURPLE, "");
    }
    let ty = py(f.target);
    let _ = write!(
        s,
        r#"<line x1="{LEFT}" y1="{ty:.1}" x2="{RIGHT}" y2="{ty:.1}" stroke="{TEXT}" stroke-width="1.5"/>"#
    );
    // Units.
    for (i, u) in f.units.iter().enumerate() {
        let (x, y) = (px(u.denominator), py(u.value));
        let mine = highlight.get(i).copied().unwrap_or(false);
        let colour = if u.band.is_outlier() { ORANGE } else { BLUE };
        let label = labels.get(i).map(String::as_str).unwrap_or("");
        let _ = write!(
            s,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="{}" fill="{colour}" stroke="{}" stroke-width="{}"><title>{}: {} ({})</title></circle>"#,
            if mine { 7 } else { 5 },
            if mine { TEXT } else { "#FFFFFF" },
            if mine { 2 } else { 1 },
            esc(label),
            tick(u.value),
            u.band.describe()
        );
    }
    // Legend.
    let _ = write!(
        s,
        r#"<text x="{LEFT}" y="{:.1}" fill="{SECONDARY}">Grey: exact limits (dashed 95%, solid 99.8%){}. Orange: outside the limits.</text>"#,
        H - 10.0,
        if f.overdispersed {
            "; purple: adjusted for overdispersion (random effects)"
        } else {
            ""
        }
    );
    s.push_str("</svg>");
    s
}

fn tick(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The funnel plot in words: the overall value, the adjustment and each outlier.
pub fn funnel_text(y_label: &str, f: &Funnel, labels: &[String]) -> String {
    let mut t = format!(
        "Funnel plot of {y_label} for {} units against their denominators; overall value {}. ",
        f.units.len(),
        tick(f.target)
    );
    if f.overdispersed {
        let _ = write!(
            t,
            "The units vary more than chance allows (phi {:.2}, tau squared {:.4}), so outliers are judged against limits adjusted for overdispersion. ",
            f.phi, f.tau2
        );
    } else {
        t.push_str("No overdispersion: outliers are judged against the exact limits. ");
    }
    let outliers = f.outliers();
    if outliers.is_empty() {
        t.push_str("No unit is outside the limits.");
    } else {
        for i in outliers {
            let u = &f.units[i];
            let _ = write!(
                t,
                "{}: {}, {}. ",
                labels.get(i).map(String::as_str).unwrap_or("unit"),
                tick(u.value),
                u.band.describe()
            );
        }
    }
    let _ = Band::Within;
    t
}
