//! Forest plots: each group's ratio to a reference group with its 95% confidence interval, on
//! a log scale with a line at 1, drawn as SVG on the server like the SPC charts (no script, no
//! inline style: presentation attributes only). A group without a ratio to draw (suppressed,
//! no events, the reference itself) is a line of text, never a point.

use spc::svg::esc;
use std::fmt::Write;

/// What one group's row shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mark<'a> {
    /// A ratio and its 95% interval.
    Ratio { value: f64, lower: f64, upper: f64 },
    /// The group every other is compared with (drawn at 1).
    Reference,
    /// Nothing to draw, and why: "suppressed", "no events"...
    Text(&'a str),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Group<'a> {
    pub label: &'a str,
    pub mark: Mark<'a>,
}

/// The words around a plot.
#[derive(Clone, Copy, Debug)]
pub struct Labels<'a> {
    /// Unique on the page: the prefix of the title's and description's ids.
    pub id: &'a str,
    /// E.g. "Ethnic group: rate ratios with 95% confidence intervals".
    pub title: &'a str,
    /// "rate ratio" or "risk ratio".
    pub ratio: &'a str,
}

const WIDTH: f64 = 900.0;
const ROW: f64 = 28.0;
const TOP: f64 = 36.0;
const BOTTOM: f64 = 78.0;
const LABEL_X: f64 = 8.0;
const PLOT_LEFT: f64 = 250.0;
const PLOT_RIGHT: f64 = 680.0;
const VALUE_X: f64 = 700.0;
const TEXT: &str = "#212B32";
const SECONDARY: &str = "#4C6272";
const GRID: &str = "#D8DDE0";
/// A ratio whose interval excludes 1.
const DIFFERENT: &str = "#005EB8";
/// A ratio whose interval includes 1.
const SIMILAR: &str = "#768692";
/// The axis never goes beyond these: anything further is drawn clipped, with an arrow.
const AXIS_MIN: f64 = 0.01;
const AXIS_MAX: f64 = 100.0;
/// Nice tick values (a 1-2-5 sequence) from AXIS_MIN to AXIS_MAX.
const TICKS: [f64; 13] = [
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0,
];

fn usable(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// The axis range: the nice ticks around every drawn value and interval end, always with 1.
fn range(groups: &[Group<'_>]) -> (f64, f64) {
    let (mut lo, mut hi) = (1.0_f64, 1.0_f64);
    for g in groups {
        if let Mark::Ratio {
            value,
            lower,
            upper,
        } = g.mark
        {
            for x in [value, lower, upper].into_iter().filter(|x| usable(*x)) {
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
    }
    let lo = TICKS
        .iter()
        .rev()
        .find(|t| **t <= lo * 0.999)
        .copied()
        .unwrap_or(AXIS_MIN);
    let hi = TICKS
        .iter()
        .find(|t| **t >= hi * 1.001)
        .copied()
        .unwrap_or(AXIS_MAX);
    // At least one tick each side of 1, so the reference line is never on the edge.
    (lo.min(0.5), hi.max(2.0))
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

fn num(x: f64) -> String {
    if x.is_nan() {
        "–".into()
    } else if x.is_infinite() {
        "∞".into()
    } else {
        format!("{x:.2}")
    }
}

/// A ratio as the plot and its description say it: "1.75 (1.51 to 2.03)".
fn said(value: f64, lower: f64, upper: f64) -> String {
    format!("{} ({} to {})", num(value), num(lower), num(upper))
}

/// The description for screen readers: every group, what is drawn for it, in order.
fn describe(groups: &[Group<'_>], labels: &Labels<'_>) -> String {
    let reference = groups
        .iter()
        .find(|g| g.mark == Mark::Reference)
        .map(|g| g.label);
    let mut s = match reference {
        Some(r) => format!(
            "Each group's {} against {r} (the reference), with its 95% confidence interval, on a log scale with a line at 1.",
            labels.ratio
        ),
        None => format!(
            "Each group's {} with its 95% confidence interval, on a log scale with a line at 1.",
            labels.ratio
        ),
    };
    for g in groups {
        let _ = match g.mark {
            Mark::Ratio {
                value,
                lower,
                upper,
            } => {
                let side = if usable(lower) && lower > 1.0 {
                    ", higher than the reference"
                } else if upper < 1.0 {
                    ", lower than the reference"
                } else {
                    ""
                };
                write!(s, " {}: {}{side}.", g.label, said(value, lower, upper))
            }
            Mark::Reference => write!(s, " {}: reference.", g.label),
            Mark::Text(t) => write!(s, " {}: {t}.", g.label),
        };
    }
    s
}

/// A ratio that is not a number (0/0) is nothing to draw.
fn normalise<'a>(g: &Group<'a>) -> Group<'a> {
    match g.mark {
        Mark::Ratio {
            value,
            lower,
            upper,
        } if value.is_nan() || lower.is_nan() || upper.is_nan() || value.is_infinite() => Group {
            label: g.label,
            mark: Mark::Text("no ratio"),
        },
        _ => *g,
    }
}

/// Draw the plot; an empty string when no group has a ratio (nothing to compare).
pub fn render(groups: &[Group<'_>], labels: &Labels<'_>) -> String {
    let groups: Vec<Group<'_>> = groups.iter().map(normalise).collect();
    let groups = groups.as_slice();
    if !groups.iter().any(|g| matches!(g.mark, Mark::Ratio { .. })) {
        return String::new();
    }
    let (lo, hi) = range(groups);
    let (llo, lhi) = (lo.log10(), hi.log10());
    let x = |v: f64| PLOT_LEFT + (v.log10() - llo) / (lhi - llo) * (PLOT_RIGHT - PLOT_LEFT);
    let height = TOP + ROW * groups.len() as f64 + BOTTOM;
    let plot_bottom = TOP + ROW * groups.len() as f64;
    let id = esc(labels.id);
    let mut out = String::with_capacity(2_048 + groups.len() * 400);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="Arial, Helvetica, sans-serif" font-size="14">"#
    );
    let _ = write!(
        out,
        r#"<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        esc(labels.title),
        esc(&describe(groups, labels))
    );
    out.push_str(r##"<rect width="100%" height="100%" fill="#FFFFFF"/>"##);
    // Column headers.
    let ratio_header = {
        let mut c = labels.ratio.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    };
    let _ = write!(
        out,
        r##"<text x="{LABEL_X}" y="22" font-weight="bold" fill="{TEXT}">Group</text><text x="{:.1}" y="22" text-anchor="middle" font-weight="bold" fill="{TEXT}">{} (log scale)</text><text x="{VALUE_X}" y="22" font-weight="bold" fill="{TEXT}">{} (95% CI)</text>"##,
        (PLOT_LEFT + PLOT_RIGHT) / 2.0,
        esc(&ratio_header),
        esc(&ratio_header)
    );
    // Grid and ticks.
    for t in TICKS.iter().filter(|t| **t >= lo && **t <= hi) {
        let tx = x(*t);
        let _ = write!(
            out,
            r##"<line x1="{tx:.1}" x2="{tx:.1}" y1="{TOP}" y2="{plot_bottom}" stroke="{GRID}" stroke-dasharray="3 3"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle" font-size="12" fill="{SECONDARY}">{}</text>"##,
            plot_bottom + 18.0,
            t
        );
    }
    let one = x(1.0);
    let _ = write!(
        out,
        r##"<line x1="{PLOT_LEFT}" x2="{PLOT_RIGHT}" y1="{plot_bottom}" y2="{plot_bottom}" stroke="{SECONDARY}"/><line x1="{one:.1}" x2="{one:.1}" y1="{:.1}" y2="{plot_bottom}" stroke="{TEXT}" stroke-width="1.5"/>"##,
        TOP - 6.0
    );
    let _ = write!(
        out,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="12" fill="{SECONDARY}">← lower than reference</text><text x="{:.1}" y="{:.1}" font-size="12" fill="{SECONDARY}">higher than reference →</text>"##,
        one - 8.0,
        plot_bottom + 40.0,
        one + 8.0,
        plot_bottom + 40.0
    );
    let clip = |v: f64| {
        if !v.is_finite() && v > 0.0 {
            hi
        } else if !usable(v) {
            lo
        } else {
            v.clamp(lo, hi)
        }
    };
    for (i, g) in groups.iter().enumerate() {
        let cy = TOP + ROW * i as f64 + ROW / 2.0;
        if i % 2 == 1 {
            let _ = write!(
                out,
                r##"<rect x="0" y="{:.1}" width="{WIDTH}" height="{ROW}" fill="#F0F4F5"/>"##,
                cy - ROW / 2.0
            );
            // Redraw the reference line over the band.
            let _ = write!(
                out,
                r##"<line x1="{one:.1}" x2="{one:.1}" y1="{:.1}" y2="{:.1}" stroke="{TEXT}" stroke-width="1.5"/>"##,
                cy - ROW / 2.0,
                cy + ROW / 2.0
            );
        }
        let _ = write!(
            out,
            r##"<text x="{LABEL_X}" y="{:.1}" fill="{TEXT}">{}</text>"##,
            cy + 5.0,
            esc(&truncate(g.label, 30))
        );
        match g.mark {
            Mark::Ratio {
                value,
                lower,
                upper,
            } => {
                let different = (usable(lower) && lower > 1.0) || upper < 1.0;
                let colour = if different { DIFFERENT } else { SIMILAR };
                let (x1, x2) = (x(clip(lower)), x(clip(upper)));
                let _ = write!(
                    out,
                    r##"<line x1="{x1:.1}" x2="{x2:.1}" y1="{cy:.1}" y2="{cy:.1}" stroke="{colour}" stroke-width="2"/>"##
                );
                // An interval beyond the axis ends in an arrow at the edge.
                if !usable(lower) || lower < lo {
                    let _ = write!(
                        out,
                        r##"<path d="M{x1:.1} {cy:.1} l7 -5 v10 z" fill="{colour}"/>"##
                    );
                }
                if !upper.is_finite() || upper > hi {
                    let _ = write!(
                        out,
                        r##"<path d="M{x2:.1} {cy:.1} l-7 -5 v10 z" fill="{colour}"/>"##
                    );
                }
                if usable(value) && value >= lo && value <= hi {
                    let px = x(value);
                    let _ = write!(
                        out,
                        r##"<rect class="point" x="{:.1}" y="{:.1}" width="10" height="10" fill="{colour}"/>"##,
                        px - 5.0,
                        cy - 5.0
                    );
                }
                let _ = write!(
                    out,
                    r##"<text x="{VALUE_X}" y="{:.1}" fill="{TEXT}"{}>{}</text>"##,
                    cy + 5.0,
                    if different {
                        r#" font-weight="bold""#
                    } else {
                        ""
                    },
                    esc(&said(value, lower, upper))
                );
            }
            Mark::Reference => {
                let _ = write!(
                    out,
                    r##"<path d="M{one:.1} {:.1} l6 6 l-6 6 l-6 -6 z" fill="#FFFFFF" stroke="{TEXT}" stroke-width="1.5"/><text x="{VALUE_X}" y="{:.1}" fill="{SECONDARY}">reference (1)</text>"##,
                    cy - 6.0,
                    cy + 5.0
                );
            }
            Mark::Text(t) => {
                let _ = write!(
                    out,
                    r##"<text x="{:.1}" y="{:.1}" font-style="italic" fill="{SECONDARY}">{}</text><text x="{VALUE_X}" y="{:.1}" fill="{SECONDARY}">{}</text>"##,
                    one + 10.0,
                    cy + 5.0,
                    esc(t),
                    cy + 5.0,
                    esc(t)
                );
            }
        }
    }
    // The key: what the colours say.
    let ky = height - 10.0;
    let _ = write!(
        out,
        r##"<rect x="{LABEL_X}" y="{:.1}" width="10" height="10" fill="{DIFFERENT}"/><text x="{:.1}" y="{ky:.1}" font-size="12" fill="{SECONDARY}">interval excludes 1</text><rect x="{:.1}" y="{:.1}" width="10" height="10" fill="{SIMILAR}"/><text x="{:.1}" y="{ky:.1}" font-size="12" fill="{SECONDARY}">interval includes 1</text>"##,
        ky - 9.0,
        LABEL_X + 16.0,
        LABEL_X + 140.0,
        ky - 9.0,
        LABEL_X + 156.0
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: Labels<'static> = Labels {
        id: "forest-sex",
        title: "Sex: rate ratios with 95% confidence intervals",
        ratio: "rate ratio",
    };

    fn ratio(value: f64, lower: f64, upper: f64) -> Mark<'static> {
        Mark::Ratio {
            value,
            lower,
            upper,
        }
    }

    /// The x of every drawn point (the squares), in order.
    fn points(svg: &str) -> Vec<f64> {
        svg.match_indices(r#"<rect class="point" x=""#)
            .map(|(i, m)| {
                let rest = &svg[i + m.len()..];
                rest[..rest.find('"').unwrap()].parse::<f64>().unwrap() + 5.0
            })
            .collect()
    }

    fn reference_x(svg: &str) -> f64 {
        let i = svg.find(r#"stroke-width="1.5"/>"#).unwrap();
        let line = &svg[svg[..i].rfind("<line").unwrap()..i];
        let x1 = line.find("x1=\"").unwrap() + 4;
        line[x1..x1 + line[x1..].find('"').unwrap()]
            .parse()
            .unwrap()
    }

    #[test]
    fn ratios_are_on_a_log_scale_around_the_line_at_one() {
        let groups = [
            Group {
                label: "Male",
                mark: Mark::Reference,
            },
            Group {
                label: "Female",
                mark: ratio(2.0, 1.5, 2.5),
            },
            Group {
                label: "Other",
                mark: ratio(0.5, 0.4, 0.6),
            },
        ];
        let svg = render(&groups, &LABELS);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"aria-labelledby="forest-sex-title forest-sex-desc""#));
        assert!(svg.contains(r#"<title id="forest-sex-title">Sex: rate ratios"#));
        assert!(svg.contains("Female: 2.00 (1.50 to 2.50), higher than the reference."));
        assert!(svg.contains("Other: 0.50 (0.40 to 0.60), lower than the reference."));
        assert!(svg.contains("Male: reference."));
        let p = points(&svg);
        assert_eq!(p.len(), 2, "{svg}");
        let one = reference_x(&svg);
        // 2 and 1/2 are the same distance from 1 on a log scale.
        assert!(((p[0] - one) - (one - p[1])).abs() < 0.2, "{p:?} {one}");
        assert!(p[0] > one && p[1] < one);
    }

    #[test]
    fn suppressed_groups_are_text_not_points() {
        let groups = [
            Group {
                label: "White",
                mark: Mark::Reference,
            },
            Group {
                label: "Mixed",
                mark: Mark::Text("suppressed"),
            },
            Group {
                label: "Asian",
                mark: ratio(1.2, 0.9, 1.6),
            },
        ];
        let svg = render(&groups, &LABELS);
        assert_eq!(points(&svg).len(), 1);
        assert!(svg.contains(">suppressed</text>"));
        assert!(svg.contains("Mixed: suppressed."));
        // Neither the reference group's nor a suppressed group's numbers appear.
        assert!(!svg.contains("Mixed: 1"));
    }

    #[test]
    fn nothing_to_compare_draws_nothing() {
        let groups = [
            Group {
                label: "Male",
                mark: Mark::Reference,
            },
            Group {
                label: "Female",
                mark: Mark::Text("suppressed"),
            },
        ];
        assert_eq!(render(&groups, &LABELS), "");
        assert_eq!(render(&[], &LABELS), "");
    }

    #[test]
    fn extreme_and_undefined_intervals_are_clipped_not_broken() {
        let groups = [
            Group {
                label: "A",
                mark: ratio(0.0, 0.0, 0.3),
            },
            Group {
                label: "B",
                mark: ratio(500.0, 20.0, f64::INFINITY),
            },
            Group {
                label: "C",
                mark: ratio(f64::NAN, f64::NAN, f64::NAN),
            },
        ];
        let svg = render(&groups, &LABELS);
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        // Two arrows for A's and B's open ends, and the axis stops at 100.
        assert!(svg.matches("<path d=").count() >= 2, "{svg}");
        assert!(svg.contains(">100</text>"));
        assert!(!svg.contains(">200</text>"));
    }

    #[test]
    fn labels_are_escaped() {
        let groups = [
            Group {
                label: "<script>",
                mark: ratio(1.1, 0.9, 1.3),
            },
            Group {
                label: "A & B",
                mark: Mark::Reference,
            },
        ];
        let svg = render(&groups, &LABELS);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("A &amp; B"));
    }
}
