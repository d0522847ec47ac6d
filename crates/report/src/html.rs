//! The same document as HTML, for the report's page (which prints on A4 from the browser): the
//! blocks in NHS.UK frontend markup, the SPC charts drawn by `spc::svg` exactly as on the chart
//! pages, bar charts as a small SVG with their values in a table beside it.

use crate::{Bars, Block, Document, SpcChart, Table};
use spc::svg::esc;
use std::fmt::Write;

/// The document's body as an HTML fragment (no `<html>`, no title: the page's layout adds
/// those). Every piece of text is escaped.
pub fn to_html(doc: &Document) -> String {
    let mut out = String::with_capacity(16_384);
    out.push_str(r#"<div class="app-report">"#);
    if !doc.subtitle.is_empty() {
        let _ = write!(
            out,
            r#"<p class="nhsuk-body-l app-report__subtitle">{}</p>"#,
            esc(&doc.subtitle)
        );
    }
    for block in &doc.blocks {
        block_html(&mut out, block);
    }
    if !doc.footer.is_empty() {
        let _ = write!(
            out,
            r#"<p class="nhsuk-body-s app-report__footer">{}</p>"#,
            esc(&doc.footer)
        );
    }
    out.push_str("</div>");
    out
}

fn block_html(out: &mut String, block: &Block) {
    match block {
        Block::Heading(h) => {
            let _ = write!(out, r#"<h2 class="nhsuk-heading-m">{}</h2>"#, esc(h));
        }
        Block::Subheading(h) => {
            let _ = write!(out, r#"<h3 class="nhsuk-heading-s">{}</h3>"#, esc(h));
        }
        Block::Paragraph(p) => {
            let _ = write!(out, r#"<p class="nhsuk-body">{}</p>"#, esc(p));
        }
        Block::Notice(n) => {
            let _ = write!(
                out,
                r#"<div class="nhsuk-inset-text"><p>{}</p></div>"#,
                esc(n)
            );
        }
        Block::Figures(figures) => {
            out.push_str(r#"<dl class="app-report__figures">"#);
            for (label, value) in figures {
                let _ = write!(
                    out,
                    r#"<div><dt>{}</dt><dd>{}</dd></div>"#,
                    esc(label),
                    esc(value)
                );
            }
            out.push_str("</dl>");
        }
        Block::Table(t) => table_html(out, t, None),
        Block::Chart(c) => chart_html(out, c),
        Block::Bars(b) => bars_html(out, b),
        Block::PageBreak => out.push_str(r#"<div class="app-report__break"></div>"#),
    }
}

fn table_html(out: &mut String, t: &Table, caption: Option<&str>) {
    out.push_str(r#"<div class="app-table-scroll"><table class="nhsuk-table">"#);
    if let Some(c) = caption {
        let _ = write!(
            out,
            r#"<caption class="nhsuk-table__caption">{}</caption>"#,
            esc(c)
        );
    }
    if !t.headers.is_empty() {
        out.push_str(r#"<thead class="nhsuk-table__head"><tr class="nhsuk-table__row">"#);
        for h in &t.headers {
            let _ = write!(
                out,
                r#"<th scope="col" class="nhsuk-table__header">{}</th>"#,
                esc(h)
            );
        }
        out.push_str("</tr></thead>");
    }
    out.push_str(r#"<tbody class="nhsuk-table__body">"#);
    for row in &t.rows {
        out.push_str(r#"<tr class="nhsuk-table__row">"#);
        for cell in row {
            let _ = write!(out, r#"<td class="nhsuk-table__cell">{}</td>"#, esc(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
}

fn chart_html(out: &mut String, c: &SpcChart) {
    let notes: Vec<spc::svg::Annotation> = c
        .annotations
        .iter()
        .map(|(index, text)| spc::svg::Annotation {
            index: *index,
            text: text.clone(),
        })
        .collect();
    let svg = spc::svg::render(
        &c.analysis,
        &c.settings,
        &spc::svg::Labels {
            title: &c.title,
            x_labels: &c.x_labels,
            y_label: &c.y_label,
            annotations: &notes,
        },
    );
    let _ = write!(
        out,
        r#"<figure class="app-report__chart">{svg}<figcaption class="nhsuk-body-s">{}</figcaption></figure>"#,
        esc(&caption(c))
    );
    if !c.annotations.is_empty() {
        out.push_str(r#"<ol class="nhsuk-list nhsuk-list--number nhsuk-body-s">"#);
        for (_, text) in &c.annotations {
            let _ = write!(out, "<li>{}</li>", esc(text));
        }
        out.push_str("</ol>");
    }
}

/// What the chart's icons say, in words (the SVG's own description says it too).
fn caption(c: &SpcChart) -> String {
    let s = &c.analysis.summary;
    format!(
        "{}. {}.",
        s.variation
            .map(|v| v.describe())
            .unwrap_or("Variation: too few points to judge"),
        s.assurance.describe()
    )
}

fn bars_html(out: &mut String, b: &Bars) {
    const W: f64 = 640.0;
    const H: f64 = 180.0;
    let n = b.values.len();
    let max = b
        .values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let _ = write!(
        out,
        r#"<figure class="app-report__chart"><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{}">"#,
        esc(&b.title)
    );
    if n > 0 && max > 0.0 {
        let slot = W / n as f64;
        for (i, v) in b.values.iter().enumerate() {
            if !v.is_finite() || *v <= 0.0 {
                continue;
            }
            let h = v / max * (H - 20.0);
            let _ = write!(
                out,
                r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#005EB8"/>"##,
                i as f64 * slot + slot * 0.15,
                H - h,
                slot * 0.7
            );
        }
    }
    out.push_str("</svg></figure>");
    let table = Table {
        headers: vec![
            "Group".into(),
            if b.y_label.is_empty() {
                "Value".into()
            } else {
                b.y_label.clone()
            },
        ],
        rows: b
            .labels
            .iter()
            .zip(&b.values)
            .map(|(l, v)| vec![l.clone(), spc::svg::fmt_num(*v)])
            .collect(),
    };
    table_html(out, &table, Some(&b.title));
}
