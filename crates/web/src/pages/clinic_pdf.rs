//! The attention test's report as a printable document: every figure of the clinician's page
//! (`clinic::build_report`), in the same order and words, for `report::render`. Nothing is
//! computed here but the histogram's bins of the reaction times the page already holds.

use super::clinic::{Fact, ReportPage};
use report::{Bars, Block, Document, Table};

fn facts(facts: &[Fact]) -> Table {
    Table {
        headers: vec!["".into(), "".into()],
        rows: facts
            .iter()
            .map(|f| vec![f.label.to_string(), f.value.clone()])
            .collect(),
    }
}

/// Reaction times in 50 ms bins from the fastest bin to the slowest.
fn histogram(rts: &[f64]) -> Bars {
    const BIN: f64 = 50.0;
    let finite: Vec<f64> = rts.iter().copied().filter(|v| v.is_finite()).collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut bars = Bars {
        title: "Reaction times of the hits".into(),
        y_label: "hits".into(),
        ..Bars::default()
    };
    if finite.is_empty() {
        return bars;
    }
    let first = (lo / BIN).floor() as i64;
    let last = (hi / BIN).floor() as i64;
    for b in first..=last.min(first + 60) {
        let from = b as f64 * BIN;
        bars.labels.push(format!("{from:.0}"));
        bars.values.push(
            finite
                .iter()
                .filter(|v| (**v / BIN).floor() as i64 == b)
                .count() as f64,
        );
    }
    bars
}

pub fn document(p: &ReportPage) -> Document {
    let mut blocks = vec![Block::Notice(
        "This result supports, and does not replace, a clinical assessment. It is not a \
         diagnosis."
            .into(),
    )];
    if p.illustrative {
        blocks.push(Block::Notice(
            "Demonstration norms: for demonstration, not for clinical use.".into(),
        ));
    }
    if p.shortened {
        blocks.push(Block::Notice(
            "A shortened test, for trying the system: its figures are not compared with norms."
                .into(),
        ));
    }
    blocks.push(Block::Table(facts(&p.head)));
    blocks.push(Block::Heading("Norms".into()));
    if !p.norms_label.is_empty() {
        blocks.push(Block::Paragraph(format!("Norms: {}.", p.norms_label)));
    }
    for line in [&p.norms_error, &p.norm_group, &p.fit]
        .into_iter()
        .flatten()
    {
        blocks.push(Block::Paragraph(line.clone()));
    }
    if let Some(w) = &p.fit_warning {
        blocks.push(Block::Notice(w.clone()));
    }
    blocks.push(Block::Heading("Parameters".into()));
    blocks.push(Block::Paragraph(format!(
        "A Q-score is the number of standard deviations from the norm group's mean, signed so \
         that higher is more atypical; {} or more is marked atypical.",
        p.threshold
    )));
    blocks.push(Block::Table(Table {
        headers: vec![
            "Parameter".into(),
            "Value".into(),
            "Norm mean ± SD".into(),
            "Q-score".into(),
            "Percentile".into(),
            "".into(),
        ],
        rows: p
            .params
            .iter()
            .map(|l| {
                vec![
                    l.label.clone(),
                    l.value.clone(),
                    l.norm.clone(),
                    l.q.clone(),
                    l.percentile.clone(),
                    if l.atypical { "atypical" } else { "" }.into(),
                ]
            })
            .collect(),
    }));
    if !p.not_normed.is_empty() {
        blocks.push(Block::Paragraph(format!(
            "Without norms: {}.",
            p.not_normed.join("; ")
        )));
    }
    blocks.push(Block::Heading("Summaries".into()));
    blocks.push(Block::Table(Table {
        headers: vec!["Summary".into(), "Value".into(), "".into(), "From".into()],
        rows: p
            .summaries
            .iter()
            .map(|s| {
                vec![
                    s.label.to_string(),
                    s.value.clone(),
                    if s.atypical { "atypical" } else { "" }.into(),
                    s.from.clone(),
                ]
            })
            .collect(),
    }));
    blocks.push(Block::Heading("By quarter of the test".into()));
    let quarters = p.quarters.first().map_or(0, |q| q.quarters.len());
    let mut headers = vec!["".to_string(), "Whole test".into()];
    headers.extend((1..=quarters).map(|i| format!("Quarter {i}")));
    blocks.push(Block::Table(Table {
        headers,
        rows: p
            .quarters
            .iter()
            .map(|q| {
                let mut row = vec![q.label.to_string(), q.whole.clone()];
                row.extend(q.quarters.iter().cloned());
                row
            })
            .collect(),
    }));
    blocks.push(Block::Bars(histogram(&p.rts)));
    blocks.push(Block::Paragraph(p.hist_text.clone()));
    blocks.push(Block::Heading("The test as it ran".into()));
    blocks.push(Block::Table(facts(&p.counts)));
    blocks.push(Block::Subheading("Timing check".into()));
    if let Some(n) = &p.timing_note {
        blocks.push(Block::Paragraph(n.clone()));
    }
    blocks.push(Block::Table(facts(&p.timing)));
    if !p.practice.is_empty() {
        blocks.push(Block::Subheading("Practice".into()));
        blocks.extend(p.practice.iter().map(|l| Block::Paragraph(l.clone())));
    }
    if let Some(c) = &p.comparison {
        blocks.push(Block::Heading(format!(
            "Compared with test {} ({})",
            c.other_id, c.other_date
        )));
        if let Some(n) = &c.note {
            blocks.push(Block::Paragraph(n.clone()));
        }
        if !c.lines.is_empty() {
            let (first, second) = if c.earlier_first {
                (format!("Test {}", c.other_id), format!("Test {}", p.id))
            } else {
                (format!("Test {}", p.id), format!("Test {}", c.other_id))
            };
            blocks.push(Block::Table(Table {
                headers: vec![
                    "Parameter".into(),
                    first,
                    second,
                    "Change".into(),
                    "RCI".into(),
                    "Reading".into(),
                ],
                rows: c
                    .lines
                    .iter()
                    .map(|l| {
                        vec![
                            l.label.clone(),
                            l.before.clone(),
                            l.after.clone(),
                            l.change.clone(),
                            l.rci.clone(),
                            l.verdict.clone(),
                        ]
                    })
                    .collect(),
            }));
        }
    }
    blocks.push(Block::Heading("Observation by the test leader".into()));
    blocks.push(Block::Paragraph(if p.notes.trim().is_empty() {
        "No notes recorded.".into()
    } else {
        match &p.notes_by {
            Some(by) => format!("{} ({by})", p.notes),
            None => p.notes.clone(),
        }
    }));
    Document {
        title: format!("Attention test {}", p.id),
        subtitle: "Open attention test: report for the clinician".into(),
        footer: "Supports and does not replace clinical assessment. Made by MHSIP.".into(),
        blocks,
    }
}

#[cfg(test)]
mod tests {
    use super::histogram;

    #[test]
    fn reaction_times_fall_in_50_ms_bins() {
        let b = histogram(&[312.0, 349.9, 350.0, 401.0, f64::NAN]);
        assert_eq!(b.labels, ["300", "350", "400"]);
        assert_eq!(b.values, [2.0, 1.0, 1.0]);
        assert!(histogram(&[]).values.is_empty());
    }
}
