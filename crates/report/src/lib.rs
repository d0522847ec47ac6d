//! Printable reports as PDF files: the ward safety report, the trust board report and the
//! clinician's attention-test report are each built as a [`Document`] (headings, paragraphs,
//! notices, key figures, tables, SPC charts and bar charts, in reading order) and laid out here on
//! A4 pages with page numbers.
//!
//! Pure: [`render`] returns the bytes; nothing here opens a file, reads a clock or knows where
//! the figures came from. The caller decides what a reader may see (disclosure control is
//! applied before a figure reaches a `Document`).
//!
//! The PDF is written with `pdf-writer` (the low-level writer behind Typst: four small
//! dependencies, about 3 s of a clean build on 2 cores) in the base fonts, so no font file is
//! embedded and a report is a few kilobytes per page.

mod chart;
mod html;
mod layout;
pub mod programme;
pub mod text;

pub use html::to_html;
pub use layout::render;

/// A report: what it is about, and its content in reading order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document {
    /// The first heading and the PDF's title, e.g. "Ash Ward: monthly safety report".
    pub title: String,
    /// The line under the title, e.g. "November 2026 · Northfield Mental Health Trust".
    pub subtitle: String,
    /// The line at the foot of every page (beside "page N of M"), e.g. when it was made and
    /// from which data.
    pub footer: String,
    pub blocks: Vec<Block>,
}

/// One piece of a report. Each block is kept whole on a page where it fits (a table breaks
/// between rows and repeats its header).
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    Heading(String),
    Subheading(String),
    Paragraph(String),
    /// A boxed statement the reader must not miss (e.g. "supports and does not replace
    /// clinical assessment", or "demonstration norms, not for clinical use").
    Notice(String),
    /// Labelled figures set side by side, e.g. ("Hits", "212").
    Figures(Vec<(String, String)>),
    Table(Table),
    Chart(Box<SpcChart>),
    Bars(Bars),
    PageBreak,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// An analysed SPC series, drawn as the web pages draw it: the values with their points coloured
/// by type (Making Data Count colours), the centre line, the process limits, the target, and
/// numbered annotations listed under the chart.
#[derive(Clone, Debug, PartialEq)]
pub struct SpcChart {
    pub title: String,
    /// What the values are, e.g. "Restraints per 1,000 occupied bed days".
    pub y_label: String,
    /// One label per point, e.g. "Apr 2026".
    pub x_labels: Vec<String>,
    pub analysis: spc::Analysis,
    /// The settings it was analysed with (the target is drawn; the HTML version redraws the
    /// chart with `spc::svg`).
    pub settings: spc::Settings,
    /// Dated notes: the index of the point they mark and their text.
    pub annotations: Vec<(usize, String)>,
}

/// A simple bar chart (a distribution, or one figure per quarter of a test).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bars {
    pub title: String,
    pub y_label: String,
    pub labels: Vec<String>,
    pub values: Vec<f64>,
}

#[cfg(test)]
mod tests;
