//! Writes a sample report to stdout, to look at the layout:
//! `cargo run -p report --example sample > sample.pdf && pdftoppm -png -r 60 sample.pdf page`.

use report::{Bars, Block, Document, SpcChart, Table};
use std::io::Write;

fn main() -> std::io::Result<()> {
    let values: Vec<Option<f64>> = (0..30)
        .map(|i| {
            Some(if i < 16 {
                11.0 + (i * 7 % 5) as f64
            } else {
                6.0 + (i % 3) as f64
            })
        })
        .collect();
    let settings = spc::Settings {
        direction: spc::Direction::Decrease,
        target: Some(8.0),
        ..spc::Settings::default()
    };
    let analysis = spc::analyse(&spc::Series::values(&values), &settings).expect("valid");
    let doc = Document {
        title: "Ash Ward: monthly safety report".into(),
        subtitle: "November 2026 · Northfield Mental Health NHS Foundation Trust".into(),
        footer: "Sample layout made by `cargo run -p report --example sample`".into(),
        blocks: vec![
            Block::Heading("Restrictive practice".into()),
            Block::Figures(vec![
                ("Restraints this month".into(), "14".into()),
                ("Per 1,000 occupied bed days".into(), "6.21".into()),
                ("Days since last seclusion".into(), "41".into()),
                ("Post-incident reviews".into(), "86%".into()),
            ]),
            Block::Chart(Box::new(SpcChart {
                title: "Physical restraint per 1,000 occupied bed days".into(),
                y_label: "per 1,000 bed days".into(),
                x_labels: (0..30)
                    .map(|i| {
                        format!(
                            "{} 20{}",
                            [
                                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
                                "Oct", "Nov", "Dec"
                            ][i % 12],
                            24 + i / 12
                        )
                    })
                    .collect(),
                analysis,
                settings: settings.clone(),
                annotations: vec![(16, "Safety huddles began (PDSA cycle 1)".into())],
            })),
            Block::Notice("Compared with the ward's own past, not a league table.".into()),
            Block::Table(Table {
                headers: vec![
                    "Project".into(),
                    "Suggested score".into(),
                    "Set score".into(),
                    "Open cycles".into(),
                ],
                rows: vec![
                    vec![
                        "Safety huddles on every shift".into(),
                        "4.0".into(),
                        "4.0".into(),
                        "1".into(),
                    ],
                    vec![
                        "Sensory room use before restraint, with a longer description that wraps"
                            .into(),
                        "2.5".into(),
                        "3.0 (team: spread started)".into(),
                        "2".into(),
                    ],
                ],
            }),
            Block::Bars(Bars {
                title: "Hit reaction times (ms)".into(),
                y_label: "trials".into(),
                labels: (0..12).map(|i| format!("{}", 200 + 50 * i)).collect(),
                values: vec![
                    1.0, 4.0, 12.0, 25.0, 31.0, 22.0, 14.0, 8.0, 4.0, 2.0, 1.0, 0.0,
                ],
            }),
        ],
    };
    std::io::stdout().write_all(&report::render(&doc))
}
