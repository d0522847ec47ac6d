//! The driver diagram drawn: an SVG (aim on the left, then primary drivers, secondary drivers
//! and change ideas in columns, joined by lines) and the same content as a nested list, in
//! plain text and as an HTML fragment, for screen readers and for print. All user text is
//! escaped; the output depends only on the input.

use crate::model::{Cycle, DriverDiagram};
use std::collections::BTreeMap;
use std::fmt::Write;

const MARGIN: usize = 20;
const COL_W: usize = 210;
const GAP: usize = 60;
const HEAD_H: usize = 34;
const NODE_GAP: usize = 14;
const LINE_H: usize = 17;
const PAD: usize = 9;
const FONT: usize = 13;
/// Characters per line inside a box (13px Arial averages under 7.5px a character).
const WRAP: usize = 26;
const FONT_FAMILY: &str = "Arial, Helvetica, sans-serif";
const HEADINGS: [&str; 4] = [
    "Aim",
    "Primary drivers",
    "Secondary drivers",
    "Change ideas",
];

pub use spc::svg::esc as xml_escape;

/// Text on one line: whitespace runs become one space, control characters go.
fn clean(text: &str) -> String {
    let t: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .filter(|c| *c != '\u{FFFE}' && *c != '\u{FFFF}')
        .collect();
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Wraps text at `width` characters on spaces; a longer word is cut.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in clean(text).split(' ').filter(|w| !w.is_empty()) {
        let chars: Vec<char> = word.chars().collect();
        for chunk in chars.chunks(width) {
            let n = chunk.len();
            if len > 0 && len + 1 + n > width {
                lines.push(std::mem::take(&mut line));
                len = 0;
            }
            if len > 0 {
                line.push(' ');
                len += 1;
            }
            line.extend(chunk);
            len += n;
        }
    }
    if len > 0 {
        lines.push(line);
    }
    lines
}

fn or_placeholder(text: &str, placeholder: &str) -> String {
    let t = clean(text);
    if t.is_empty() {
        placeholder.to_owned()
    } else {
        t
    }
}

fn cycle_counts(cycles: &[Cycle]) -> BTreeMap<&str, usize> {
    let mut m = BTreeMap::new();
    for c in cycles {
        *m.entry(c.change_idea.as_str()).or_insert(0) += 1;
    }
    m
}

fn cycles_note(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => "1 PDSA cycle".into(),
        n => format!("{n} PDSA cycles"),
    }
}

/// The nodes in drawing order: primaries as given, secondaries grouped under their first
/// primary, change ideas under their first secondary (ties keep the order given).
struct Layout<'a> {
    aim: String,
    primaries: Vec<(&'a str, String)>,
    secondaries: Vec<(&'a str, String, &'a [String])>,
    ideas: Vec<(&'a str, String, &'a [String], usize)>,
}

fn layout<'a>(d: &'a DriverDiagram, cycles: &[Cycle]) -> Layout<'a> {
    let counts = cycle_counts(cycles);
    let p_index: BTreeMap<&str, usize> = d
        .primaries
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let mut secondaries: Vec<(usize, usize, &crate::model::Secondary)> = d
        .secondaries
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let first = s
                .primaries
                .iter()
                .filter_map(|p| p_index.get(p.as_str()).copied())
                .min()
                .unwrap_or(usize::MAX);
            (first, i, s)
        })
        .collect();
    secondaries.sort_by_key(|(first, i, _)| (*first, *i));
    let s_index: BTreeMap<&str, usize> = secondaries
        .iter()
        .enumerate()
        .map(|(pos, (_, _, s))| (s.id.as_str(), pos))
        .collect();
    let mut ideas: Vec<(usize, usize, &crate::model::ChangeIdea)> = d
        .change_ideas
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let first = c
                .secondaries
                .iter()
                .filter_map(|s| s_index.get(s.as_str()).copied())
                .min()
                .unwrap_or(usize::MAX);
            (first, i, c)
        })
        .collect();
    ideas.sort_by_key(|(first, i, _)| (*first, *i));
    Layout {
        aim: or_placeholder(&d.aim, "(the aim is not written yet)"),
        primaries: d
            .primaries
            .iter()
            .map(|p| (p.id.as_str(), or_placeholder(&p.text, "(no text)")))
            .collect(),
        secondaries: secondaries
            .into_iter()
            .map(|(_, _, s)| {
                (
                    s.id.as_str(),
                    or_placeholder(&s.text, "(no text)"),
                    s.primaries.as_slice(),
                )
            })
            .collect(),
        ideas: ideas
            .into_iter()
            .map(|(_, _, c)| {
                (
                    c.id.as_str(),
                    or_placeholder(&c.text, "(no text)"),
                    c.secondaries.as_slice(),
                    counts.get(c.id.as_str()).copied().unwrap_or(0),
                )
            })
            .collect(),
    }
}

struct Box_ {
    id: String,
    lines: Vec<String>,
    x: usize,
    y: usize,
    h: usize,
    column: usize,
}

fn safe_id(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        s
    } else {
        format!("dd-{s}")
    }
}

/// The driver diagram as a standalone SVG document. `id` prefixes the ids of its `<title>` and
/// `<desc>` (so two diagrams can share a page); anything but letters, digits, `-` and `_` is
/// replaced. `cycles` are the project's cycles: each change idea shows how many test it.
pub fn driver_diagram_svg(d: &DriverDiagram, cycles: &[Cycle], id: &str) -> String {
    let l = layout(d, cycles);
    let prefix = safe_id(id);
    let x_of = |col: usize| MARGIN + col * (COL_W + GAP);
    let mut columns: [Vec<Box_>; 4] = Default::default();
    let make = |id: &str, text: &str, note: String, column: usize| {
        // Bold text (the aim) is wider: two characters fewer a line.
        let mut lines = wrap(text, if column == 0 { WRAP - 2 } else { WRAP });
        if !note.is_empty() {
            lines.push(format!("({note})"));
        }
        Box_ {
            id: id.to_owned(),
            h: lines.len().max(1) * LINE_H + 2 * PAD,
            lines,
            x: x_of(column),
            y: 0,
            column,
        }
    };
    columns[0].push(make("", &l.aim, String::new(), 0));
    for (id, text) in &l.primaries {
        columns[1].push(make(id, text, String::new(), 1));
    }
    for (id, text, _) in &l.secondaries {
        columns[2].push(make(id, text, String::new(), 2));
    }
    for (id, text, _, n) in &l.ideas {
        columns[3].push(make(id, text, cycles_note(*n), 3));
    }
    let col_height =
        |c: &[Box_]| c.iter().map(|b| b.h).sum::<usize>() + NODE_GAP * c.len().saturating_sub(1);
    let content = columns.iter().map(|c| col_height(c)).max().unwrap_or(0);
    let top = MARGIN + HEAD_H;
    for c in &mut columns {
        let mut y = top + (content - col_height(c)) / 2;
        for b in c.iter_mut() {
            b.y = y;
            y += b.h + NODE_GAP;
        }
    }
    let width = x_of(3) + COL_W + MARGIN;
    let height = top + content + MARGIN;

    let mut s = String::new();
    let aim_text = xml_escape(&l.aim);
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"{prefix}-title {prefix}-desc\" font-family=\"{FONT_FAMILY}\" font-size=\"{FONT}\">"
    );
    let _ = writeln!(
        s,
        "<title id=\"{prefix}-title\">Driver diagram: {aim_text}</title>"
    );
    let _ = writeln!(
        s,
        "<desc id=\"{prefix}-desc\">The aim on the left; to its right {} primary driver(s), {} secondary driver(s) and {} change idea(s) in columns, each joined by a line to what it drives. The same diagram is given as a nested list beside it.</desc>",
        l.primaries.len(),
        l.secondaries.len(),
        l.ideas.len()
    );
    let _ = writeln!(
        s,
        "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    for (col, heading) in HEADINGS.iter().enumerate() {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-weight=\"bold\" font-size=\"15\" fill=\"#000000\">{heading}</text>",
            x_of(col),
            MARGIN + 16
        );
    }
    // Lines first, so boxes sit on top of them.
    let find = |col: usize, id: &str| columns[col].iter().find(|b| b.id == id);
    let mut line = |from: &Box_, to: &Box_| {
        let (x1, y1) = (from.x + COL_W, from.y + from.h / 2);
        let (x2, y2) = (to.x, to.y + to.h / 2);
        let xm = (x1 + x2) / 2;
        let _ = writeln!(
            s,
            "<path d=\"M {x1} {y1} C {xm} {y1} {xm} {y2} {x2} {y2}\" fill=\"none\" stroke=\"#000000\" stroke-width=\"1.25\"/>"
        );
    };
    for p in &columns[1] {
        line(&columns[0][0], p);
    }
    for (b, (_, _, parents)) in columns[2].iter().zip(&l.secondaries) {
        for parent in parents.iter() {
            if let Some(p) = find(1, parent) {
                line(p, b);
            }
        }
    }
    for (b, (_, _, parents, _)) in columns[3].iter().zip(&l.ideas) {
        for parent in parents.iter() {
            if let Some(p) = find(2, parent) {
                line(p, b);
            }
        }
    }
    for b in columns.iter().flatten() {
        let (stroke, dash) = match b.column {
            0 => ("3", ""),
            1 => ("2", ""),
            2 => ("1.25", ""),
            _ => ("1.25", " stroke-dasharray=\"5 3\""),
        };
        let _ = writeln!(s, "<g>");
        let _ = writeln!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"{COL_W}\" height=\"{}\" rx=\"4\" fill=\"#ffffff\" stroke=\"#000000\" stroke-width=\"{stroke}\"{dash}/>",
            b.x, b.y, b.h
        );
        for (i, text) in b.lines.iter().enumerate() {
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{}\" fill=\"#000000\"{}>{}</text>",
                b.x + PAD,
                b.y + PAD + 13 + i * LINE_H,
                if b.column == 0 {
                    " font-weight=\"bold\""
                } else {
                    ""
                },
                xml_escape(text)
            );
        }
        let _ = writeln!(s, "</g>");
    }
    s.push_str("</svg>\n");
    s
}

/// The tree a reader follows: each primary, its secondaries, their change ideas; then any node
/// not reachable that way (so every node appears).
/// A secondary driver's label and its change ideas' labels.
type Branch = (String, Vec<String>);

struct Outline {
    aim: String,
    tree: Vec<(String, Vec<Branch>)>,
    unlinked_secondaries: Vec<Branch>,
    unlinked_ideas: Vec<String>,
}

fn outline(d: &DriverDiagram, cycles: &[Cycle]) -> Outline {
    let l = layout(d, cycles);
    let idea_label = |text: &str, n: usize| {
        let note = cycles_note(n);
        if note.is_empty() {
            format!("Change idea: {text}")
        } else {
            format!("Change idea: {text} ({note})")
        }
    };
    let ideas_of = |sid: &str| -> Vec<String> {
        l.ideas
            .iter()
            .filter(|(_, _, parents, _)| parents.iter().any(|p| p == sid))
            .map(|(_, text, _, n)| idea_label(text, *n))
            .collect()
    };
    let known_primary = |id: &str| l.primaries.iter().any(|(p, _)| *p == id);
    let known_secondary = |id: &str| l.secondaries.iter().any(|(s, _, _)| *s == id);
    let tree = l
        .primaries
        .iter()
        .map(|(pid, ptext)| {
            let children = l
                .secondaries
                .iter()
                .filter(|(_, _, parents)| parents.iter().any(|p| p == pid))
                .map(|(sid, stext, _)| (format!("Secondary driver: {stext}"), ideas_of(sid)))
                .collect();
            (format!("Primary driver: {ptext}"), children)
        })
        .collect();
    let unlinked_secondaries = l
        .secondaries
        .iter()
        .filter(|(_, _, parents)| !parents.iter().any(|p| known_primary(p)))
        .map(|(sid, stext, _)| (format!("Secondary driver: {stext}"), ideas_of(sid)))
        .collect();
    let unlinked_ideas = l
        .ideas
        .iter()
        .filter(|(_, _, parents, _)| !parents.iter().any(|p| known_secondary(p)))
        .map(|(_, text, _, n)| idea_label(text, *n))
        .collect();
    Outline {
        aim: l.aim.clone(),
        tree,
        unlinked_secondaries,
        unlinked_ideas,
    }
}

/// The driver diagram as an indented plain-text list (a secondary driver or change idea that
/// serves several parents is listed under each).
pub fn driver_diagram_text(d: &DriverDiagram, cycles: &[Cycle]) -> String {
    let o = outline(d, cycles);
    let mut s = format!("Aim: {}\n", o.aim);
    let secondary = |s: &mut String, indent: &str, label: &str, ideas: &[String]| {
        let _ = writeln!(s, "{indent}- {label}");
        for i in ideas {
            let _ = writeln!(s, "{indent}  - {i}");
        }
    };
    for (p, children) in &o.tree {
        let _ = writeln!(s, "- {p}");
        for (label, ideas) in children {
            secondary(&mut s, "  ", label, ideas);
        }
    }
    if !o.unlinked_secondaries.is_empty() {
        s.push_str("Not linked to a primary driver:\n");
        for (label, ideas) in &o.unlinked_secondaries {
            secondary(&mut s, "", label, ideas);
        }
    }
    if !o.unlinked_ideas.is_empty() {
        s.push_str("Not linked to a secondary driver:\n");
        for i in &o.unlinked_ideas {
            let _ = writeln!(s, "- {i}");
        }
    }
    s
}

/// The driver diagram as an HTML fragment of nested lists, escaped, for the page beside the
/// SVG (screen readers) and for print.
pub fn driver_diagram_html(d: &DriverDiagram, cycles: &[Cycle]) -> String {
    let o = outline(d, cycles);
    let mut s = String::from("<div class=\"qi-driver-diagram-text\">\n");
    let _ = writeln!(s, "<p><strong>Aim:</strong> {}</p>", xml_escape(&o.aim));
    let list = |s: &mut String, items: &[String]| {
        if items.is_empty() {
            return;
        }
        s.push_str("<ul>");
        for i in items {
            let _ = write!(s, "<li>{}</li>", xml_escape(i));
        }
        s.push_str("</ul>");
    };
    let secondaries = |s: &mut String, items: &[Branch]| {
        if items.is_empty() {
            return;
        }
        s.push_str("<ul>");
        for (label, ideas) in items {
            let _ = write!(s, "<li>{}", xml_escape(label));
            list(s, ideas);
            s.push_str("</li>");
        }
        s.push_str("</ul>");
    };
    if !o.tree.is_empty() {
        s.push_str("<ul>\n");
        for (p, children) in &o.tree {
            let _ = write!(s, "<li>{}", xml_escape(p));
            secondaries(&mut s, children);
            s.push_str("</li>\n");
        }
        s.push_str("</ul>\n");
    }
    if !o.unlinked_secondaries.is_empty() {
        s.push_str("<p>Not linked to a primary driver:</p>\n");
        secondaries(&mut s, &o.unlinked_secondaries);
        s.push('\n');
    }
    if !o.unlinked_ideas.is_empty() {
        s.push_str("<p>Not linked to a secondary driver:</p>\n");
        list(&mut s, &o.unlinked_ideas);
        s.push('\n');
    }
    s.push_str("</div>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_on_spaces_and_cuts_long_words() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert!(wrap("  \n\t ", 4).is_empty());
        assert_eq!(wrap("ééééé", 2), vec!["éé", "éé", "é"]);
    }

    #[test]
    fn escape_drops_what_xml_cannot_hold() {
        assert_eq!(
            xml_escape("a<b>&\"'\u{0}\u{1b}z"),
            "a&lt;b&gt;&amp;&quot;&#39;z"
        );
    }

    #[test]
    fn ids_are_made_safe() {
        assert_eq!(safe_id("dd1"), "dd1");
        assert_eq!(safe_id("1\"><x"), "dd-1---x");
        assert_eq!(safe_id(""), "dd-");
    }
}
