//! The PDF as a reader meets it: a valid file, every figure in it, pages that break where they
//! should, and no input that makes the writer panic.

use super::*;
use proptest::prelude::*;

/// The text a PDF shows, read back from its (uncompressed) content streams: every literal
/// `(...)` or hex `<...>` string followed by `Tj`, decoded from WinAnsi (Latin-1 in the range
/// these tests use).
pub(super) fn shown_text(pdf: &[u8]) -> String {
    let pdf = &content_streams(pdf);
    let mut out = String::new();
    let mut i = 0;
    while i < pdf.len() {
        let (bytes, end) = match pdf[i] {
            b'(' => literal(pdf, i + 1),
            b'<' if pdf.get(i + 1) != Some(&b'<') => hex(pdf, i + 1),
            _ => {
                i += 1;
                continue;
            }
        };
        if pdf[end..].starts_with(b" Tj") {
            out.extend(bytes.iter().map(|&b| b as char));
            out.push('\n');
        }
        i = end.max(i + 1);
    }
    out
}

/// Every stream of the file, inflated (the page contents are Flate-compressed), one after
/// another.
fn content_streams(pdf: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = pdf;
    while let Some(start) = find(rest, b"stream\n") {
        let body = &rest[start + 7..];
        let Some(end) = find(body, b"\nendstream") else {
            break;
        };
        match miniz_oxide::inflate::decompress_to_vec_zlib(&body[..end]) {
            Ok(plain) => out.extend_from_slice(&plain),
            Err(_) => out.extend_from_slice(&body[..end]),
        }
        out.push(b'\n');
        rest = &body[end + b"\nendstream".len()..];
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn literal(pdf: &[u8], mut i: usize) -> (Vec<u8>, usize) {
    let (mut bytes, mut depth) = (Vec::new(), 0);
    while i < pdf.len() {
        match pdf[i] {
            b'\\' if i + 1 < pdf.len() => {
                i += 1;
                bytes.push(pdf[i]);
            }
            b'(' => {
                depth += 1;
                bytes.push(b'(');
            }
            b')' if depth == 0 => return (bytes, i + 1),
            b')' => {
                depth -= 1;
                bytes.push(b')');
            }
            b => bytes.push(b),
        }
        i += 1;
    }
    (bytes, i)
}

fn hex(pdf: &[u8], i: usize) -> (Vec<u8>, usize) {
    let Some(len) = pdf[i..].iter().position(|&b| b == b'>') else {
        return (Vec::new(), pdf.len());
    };
    let digits = &pdf[i..i + len];
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return (Vec::new(), i);
    }
    let bytes = digits
        .chunks(2)
        .map(|d| u8::from_str_radix(std::str::from_utf8(d).unwrap_or("0"), 16).unwrap_or(0))
        .collect();
    (bytes, i + len + 1)
}

fn page_count(pdf: &[u8]) -> usize {
    String::from_utf8_lossy(pdf)
        .matches("/Type /Page\n")
        .count()
        + String::from_utf8_lossy(pdf).matches("/Type /Page ").count()
        + String::from_utf8_lossy(pdf).matches("/Type /Page/").count()
}

fn analysed(values: &[f64]) -> spc::Analysis {
    let settings = spc::Settings {
        direction: spc::Direction::Decrease,
        ..spc::Settings::default()
    };
    let data: Vec<Option<f64>> = values.iter().map(|v| Some(*v)).collect();
    spc::analyse(&spc::Series::values(&data), &settings).expect("a valid series")
}

fn ward_report() -> Document {
    let values: Vec<f64> = (0..24)
        .map(|i| if i < 14 { 12.0 + (i % 3) as f64 } else { 6.0 })
        .collect();
    Document {
        title: "Ash Ward: monthly safety report".into(),
        subtitle: "November 2026 · Northfield".into(),
        footer: "Made by MHSIP on 2026-12-02 from data uploaded to 2026-11-30".into(),
        blocks: vec![
            Block::Heading("Restrictive practice".into()),
            Block::Figures(vec![
                ("Restraints".into(), "14".into()),
                ("Per 1,000 bed days".into(), "6.21".into()),
            ]),
            Block::Chart(Box::new(SpcChart {
                title: "Physical restraint per 1,000 occupied bed days".into(),
                y_label: "per 1,000 bed days".into(),
                x_labels: (0..24).map(|i| format!("M{i}")).collect(),
                analysis: analysed(&values),
                settings: spc::Settings {
                    target: Some(8.0),
                    ..spc::Settings::default()
                },
                annotations: vec![(14, "Safety huddles began".into())],
            })),
            Block::Notice("Compared with the ward's own past, not a league table.".into()),
            Block::Table(Table {
                headers: vec!["Project".into(), "Score".into()],
                rows: vec![vec!["Safety huddles".into(), "3.5".into()]],
            }),
            Block::Bars(Bars {
                title: "Reaction times".into(),
                y_label: "trials".into(),
                labels: vec!["200".into(), "300".into()],
                values: vec![4.0, 9.0],
            }),
        ],
    }
}

#[test]
fn a_report_is_a_pdf_with_every_figure_in_it() {
    let pdf = render(&ward_report());
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.ends_with(b"%%EOF\n") || pdf.ends_with(b"%%EOF"));
    let text = shown_text(&pdf);
    for expected in [
        "Ash Ward: monthly safety report",
        "Restraints",
        "6.21",
        "Physical restraint per 1,000 occupied bed days",
        "Target 8",
        "1. Safety huddles began",
        "Safety huddles",
        "3.5",
        "Page 1 of 1",
        "Made by MHSIP",
    ] {
        assert!(text.contains(expected), "{expected} missing from\n{text}");
    }
    // The middle dot is written in WinAnsi (0xB7), not as UTF-8.
    assert!(text.contains("November 2026 \u{B7} Northfield"), "{text}");
    assert_eq!(page_count(&pdf), 1);
}

#[test]
fn the_chart_says_what_the_spc_found() {
    let pdf = render(&ward_report());
    let text = shown_text(&pdf);
    let analysis = analysed(
        &(0..24)
            .map(|i| if i < 14 { 12.0 + (i % 3) as f64 } else { 6.0 })
            .collect::<Vec<_>>(),
    );
    let variation = analysis.summary.variation.unwrap().describe();
    assert!(text.contains(variation), "{variation} not in\n{text}");
}

#[test]
fn a_long_table_runs_over_pages_and_repeats_its_header() {
    let doc = Document {
        title: "Every open referral".into(),
        blocks: vec![Block::Table(Table {
            headers: vec!["Reference".into(), "Clock".into()],
            rows: (0..200)
                .map(|i| vec![format!("REF{i:04}"), "2 weeks".into()])
                .collect(),
        })],
        ..Document::default()
    };
    let pdf = render(&doc);
    let pages = page_count(&pdf);
    assert!(pages >= 3, "{pages} pages");
    let text = shown_text(&pdf);
    assert_eq!(text.matches("Reference\n").count(), pages);
    assert!(text.contains("REF0000") && text.contains("REF0199"));
    assert!(text.contains(&format!("Page {pages} of {pages}")));
}

#[test]
fn page_breaks_start_a_new_page_only_when_something_is_on_this_one() {
    let doc = Document {
        title: "T".into(),
        blocks: vec![
            Block::PageBreak,
            Block::Paragraph("second".into()),
            Block::PageBreak,
            Block::PageBreak,
        ],
        ..Document::default()
    };
    assert_eq!(page_count(&render(&doc)), 3);
}

#[test]
fn brackets_and_backslashes_in_text_are_escaped() {
    let doc = Document {
        title: r"A (bracketed) title \ with a backslash".into(),
        ..Document::default()
    };
    let text = shown_text(&render(&doc));
    assert!(
        text.contains(r"A (bracketed) title \ with a backslash"),
        "{text}"
    );
}

fn arb_text() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..80).prop_map(|c| c.into_iter().collect())
}

fn arb_block() -> impl Strategy<Value = Block> {
    prop_oneof![
        arb_text().prop_map(Block::Heading),
        arb_text().prop_map(Block::Paragraph),
        arb_text().prop_map(Block::Notice),
        prop::collection::vec((arb_text(), arb_text()), 0..9).prop_map(Block::Figures),
        (
            prop::collection::vec(arb_text(), 0..5),
            prop::collection::vec(prop::collection::vec(arb_text(), 0..6), 0..40)
        )
            .prop_map(|(headers, rows)| Block::Table(Table { headers, rows })),
        (
            prop::collection::vec(-1e6f64..1e6, 0..60),
            prop::collection::vec(arb_text(), 0..60),
            prop::option::of(-1e6f64..1e6),
            prop::collection::vec((0usize..80, arb_text()), 0..4),
        )
            .prop_map(|(values, x_labels, target, annotations)| {
                Block::Chart(Box::new(SpcChart {
                    title: "chart".into(),
                    y_label: "y".into(),
                    x_labels,
                    analysis: spc::analyse(
                        &spc::Series::values(&values.iter().map(|v| Some(*v)).collect::<Vec<_>>()),
                        &spc::Settings::default(),
                    )
                    .unwrap_or_else(|_| analysed(&[])),
                    settings: spc::Settings {
                        target,
                        ..spc::Settings::default()
                    },
                    annotations,
                }))
            }),
        (
            prop::collection::vec(arb_text(), 0..40),
            prop::collection::vec(prop::num::f64::ANY, 0..40)
        )
            .prop_map(|(labels, values)| Block::Bars(Bars {
                title: "bars".into(),
                y_label: String::new(),
                labels,
                values
            })),
        Just(Block::PageBreak),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any text, any table shape, any numbers (NaN and infinities in bars): a PDF comes out,
    /// and its page numbering agrees with its page count.
    #[test]
    fn any_document_renders(title in arb_text(), blocks in prop::collection::vec(arb_block(), 0..12)) {
        let doc = Document { title, subtitle: String::new(), footer: "f".into(), blocks };
        let pdf = render(&doc);
        prop_assert!(pdf.starts_with(b"%PDF-"));
        let pages = page_count(&pdf);
        prop_assert!(pages >= 1);
        let numbering = format!("Page {pages} of {pages}");
        prop_assert!(shown_text(&pdf).contains(&numbering));
    }
}

mod programme_reports {
    use super::shown_text;
    use crate::programme::{
        About, CycleLine, MeasureInput, ProjectLine, board_report, ward_report,
    };
    use crate::{Block, render, to_html};
    use domain::disclosure::Policy;
    use measures::notes::Annotation;
    use measures::series::{MeasurePoint, MeasureSeries};
    use time::{Date, Month};

    fn month(y: i32, m: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), 1).unwrap()
    }

    /// Restraints per 1,000 bed days on a ward: about 12 a month for 18 months, then 4 after a
    /// change in July 2025 (rebased there by a saved note), to November 2026.
    fn restraint_series() -> MeasureSeries {
        let mut points = Vec::new();
        let mut d = month(2024, 1);
        let mut i = 0;
        while d <= month(2026, 11) {
            let count = if d < month(2025, 7) {
                12 + i % 3
            } else {
                4 + i % 2
            } as f64;
            points.push(MeasurePoint {
                period: d,
                numerator: count,
                denominator: Some(1000.0),
                value: Some(count),
            });
            d = domain::dates::PeriodKind::Month.next_start(d);
            i += 1;
        }
        MeasureSeries {
            measure: "ri_physical_rate",
            org: "R8A-ASH".into(),
            points,
        }
    }

    fn note() -> Annotation {
        Annotation {
            id: 1,
            org: "R8A-ASH".into(),
            measure: Some("ri_physical_rate".into()),
            date: month(2025, 7),
            text: "Safety huddles on every shift".into(),
            rebase: true,
            author: "lead".into(),
        }
    }

    fn about(m: Date, policy: Option<&Policy>) -> About<'_> {
        About {
            name: "Ash Ward",
            context: "Northfield",
            month: m,
            footer: "test".into(),
            policy,
        }
    }

    #[test]
    fn the_ward_report_holds_the_chart_as_the_page_draws_it_cut_at_its_month() {
        let measure = domain::measures::find("ri_physical_rate").unwrap();
        let series = restraint_series();
        let notes = vec![note()];
        let inputs = [MeasureInput {
            measure: &measure,
            series: &series,
            notes: &notes,
        }];
        let projects = [ProjectLine {
            title: "Safety huddles".into(),
            status: "active".into(),
            suggested: Some(4.0),
            set: None,
            open_cycles: 1,
        }];
        let doc = ward_report(&about(month(2026, 3), None), &inputs, &projects);
        let Some(Block::Chart(chart)) = doc.blocks.iter().find(|b| matches!(b, Block::Chart(_)))
        else {
            panic!("no chart in {:?}", doc.blocks);
        };
        // Cut at March 2026: January 2024 to March 2026 is 27 months.
        assert_eq!(chart.analysis.points.len(), 27);
        assert_eq!(chart.x_labels.last().unwrap(), "Mar 2026");
        // The saved note rebased the chart, as on the chart page.
        assert_eq!(chart.analysis.segments.len(), 2);
        assert!(
            chart.annotations[0]
                .1
                .contains("Safety huddles on every shift")
        );
        let page = measures::chart::analyse(&measures::chart::Request::standard(
            &measure,
            &MeasureSeries {
                points: series.points[..27].to_vec(),
                ..series.clone()
            },
            domain::dates::PeriodKind::Month,
            String::new(),
            &notes,
            None,
        ))
        .unwrap();
        assert_eq!(chart.analysis, page.analysis);
        let text = shown_text(&render(&doc));
        for expected in [
            "Ash Ward: monthly safety report",
            "Mar 2026",
            "Safety huddles",
            "4.0",
            "Physical restraint per 1,000 occupied bed days",
        ] {
            assert!(text.contains(expected), "{expected} missing");
        }
        let html = to_html(&doc);
        assert!(html.contains("<svg") && html.contains("Safety huddles"));
    }

    #[test]
    fn what_changed_since_the_last_report_is_said_in_words() {
        let measure = domain::measures::find("ri_physical_rate").unwrap();
        let series = restraint_series();
        let inputs = [MeasureInput {
            measure: &measure,
            series: &series,
            notes: &[],
        }];
        // Without the rebase, the first month after the fall (July 2025) is far below the
        // lower limit: that month's report says the variation turned to improvement.
        let jan = ward_report(&about(month(2025, 7), None), &inputs, &[]);
        let said: Vec<String> = jan
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Paragraph(p) => Some(p.clone()),
                _ => None,
            })
            .collect();
        assert!(
            said.iter()
                .any(|p| p.contains("variation is now \"Special cause: improvement\"")),
            "{said:?}"
        );
        let later = ward_report(&about(month(2026, 11), None), &inputs, &[]);
        assert!(later.blocks.iter().any(|b| matches!(b,
            Block::Paragraph(p) if p.starts_with("No measure changed"))));
    }

    #[test]
    fn the_board_report_charts_only_what_needs_attention_with_its_cycles() {
        let restraint = domain::measures::find("ri_physical_rate").unwrap();
        let prone = domain::measures::find("ri_prone_rate").unwrap();
        let series = restraint_series();
        // A flat series: common cause, no target: not for the board's attention.
        let flat = MeasureSeries {
            measure: "ri_prone_rate",
            org: "R8A".into(),
            points: series
                .points
                .iter()
                .enumerate()
                .map(|(i, p)| MeasurePoint {
                    value: Some(2.0 + (i % 2) as f64),
                    ..p.clone()
                })
                .collect(),
        };
        let inputs = [
            MeasureInput {
                measure: &restraint,
                series: &series,
                notes: &[],
            },
            MeasureInput {
                measure: &prone,
                series: &flat,
                notes: &[],
            },
        ];
        let cycles = [CycleLine {
            place: "Ash Ward".into(),
            change_idea: "Safety huddles".into(),
            start: Some(month(2025, 6)),
            end: Some(month(2025, 7)),
            act: "adopt".into(),
            measures: vec!["ri_physical_rate".into()],
        }];
        let doc = board_report(&about(month(2026, 1), None), &inputs, &cycles);
        let charts: Vec<&str> = doc
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Chart(c) => Some(c.title.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(charts, vec![restraint.title]);
        let text = shown_text(&render(&doc));
        assert!(text.contains("Summary matrix"));
        assert!(text.contains("PDSA cycles on"));
        assert!(text.contains("adopt"));
        assert!(text.contains(prone.title), "every measure is in the table");
    }

    #[test]
    fn a_controlled_reader_never_sees_a_small_count() {
        let measure = domain::measures::find("people_restricted").unwrap();
        let series = MeasureSeries {
            measure: "people_restricted",
            org: "R8A-ASH".into(),
            points: (0..24)
                .map(|i| {
                    let d = month(2024 + i / 12, (i % 12 + 1) as u8);
                    let n = [3.0, 7.0, 2.0, 9.0][i as usize % 4];
                    MeasurePoint {
                        period: d,
                        numerator: n,
                        denominator: None,
                        value: Some(n),
                    }
                })
                .collect(),
        };
        let inputs = [MeasureInput {
            measure: &measure,
            series: &series,
            notes: &[],
        }];
        let policy = Policy::default();
        let doc = ward_report(&about(month(2025, 12), Some(&policy)), &inputs, &[]);
        let Some(Block::Chart(chart)) = doc.blocks.iter().find(|b| matches!(b, Block::Chart(_)))
        else {
            panic!("no chart");
        };
        for p in &chart.analysis.points {
            assert!(
                p.value.is_none_or(|v| v == 0.0 || v >= 5.0),
                "a count of {:?} reached the report",
                p.value
            );
        }
        let text = shown_text(&render(&doc));
        assert!(text.contains("disclosure-controlled"));
    }
}
