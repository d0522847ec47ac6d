//! Laying a document out on A4 pages: a cursor runs down each page; a block that does not fit
//! in what is left starts a new page; a table breaks between rows and repeats its header. Then
//! the pages are written as one PDF with "page N of M" and the footer on each.

use crate::text::{self, Font};
use crate::{Block, Document, Table};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

pub(crate) const PAGE_W: f32 = 595.28;
pub(crate) const PAGE_H: f32 = 841.89;
pub(crate) const MARGIN_X: f32 = 50.0;
const TOP: f32 = PAGE_H - 52.0;
const BOTTOM: f32 = 60.0;
pub(crate) const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN_X;

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// NHS identity colours used for text and rules (NHS.UK frontend's palette).
pub(crate) const INK: (f32, f32, f32) = (0.129, 0.169, 0.196); // #212B32
pub(crate) const SECONDARY: (f32, f32, f32) = (0.298, 0.384, 0.447); // #4C6272
const NHS_BLUE: (f32, f32, f32) = (0.0, 0.369, 0.722); // #005EB8
const RULE: (f32, f32, f32) = (0.847, 0.867, 0.878); // #D8DDE0

/// The pages being drawn and where the cursor is on the last one.
pub(crate) struct Pages {
    pages: Vec<Content>,
    /// The baseline-free top of the free space on the current page, in PDF points from the foot.
    y: f32,
}

impl Pages {
    fn new() -> Pages {
        Pages {
            pages: vec![Content::new()],
            y: TOP,
        }
    }

    pub(crate) fn page(&mut self) -> &mut Content {
        self.pages.last_mut().expect("there is always a page")
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = TOP;
    }

    /// Make room for `height` points, on a new page if this one has too little left (unless
    /// the page is still empty: a block taller than a page is drawn and clipped by the reader
    /// rather than looping forever).
    fn room(&mut self, height: f32) {
        if self.y - height < BOTTOM && self.y < TOP {
            self.new_page();
        }
    }

    pub(crate) fn text(
        &mut self,
        x: f32,
        y: f32,
        s: &str,
        font: Font,
        size: f32,
        colour: (f32, f32, f32),
    ) {
        let bytes = text::encode(s);
        let c = self.page();
        c.set_fill_rgb(colour.0, colour.1, colour.2);
        c.begin_text();
        c.set_font(font_name(font), size);
        c.next_line(x, y);
        c.show(Str(&bytes));
        c.end_text();
    }

    /// Text rotated anticlockwise by `degrees` about its start.
    pub(crate) fn text_rotated(&mut self, x: f32, y: f32, s: &str, size: f32, degrees: f32) {
        let (sin, cos) = degrees.to_radians().sin_cos();
        let bytes = text::encode(s);
        let c = self.page();
        c.set_fill_rgb(SECONDARY.0, SECONDARY.1, SECONDARY.2);
        c.begin_text();
        c.set_font(REGULAR, size);
        c.set_text_matrix([cos, sin, -sin, cos, x, y]);
        c.show(Str(&bytes));
        c.end_text();
    }

    fn lines(&mut self, lines: &[String], font: Font, size: f32, colour: (f32, f32, f32)) {
        let leading = size * 1.35;
        for line in lines {
            self.room(leading);
            self.y -= size;
            let y = self.y;
            self.text(MARGIN_X, y, line, font, size, colour);
            self.y -= leading - size;
        }
    }

    pub(crate) fn take(&mut self, height: f32) -> f32 {
        self.room(height);
        let top = self.y;
        self.y -= height;
        top
    }

    fn gap(&mut self, points: f32) {
        self.y -= points;
    }
}

fn font_name(font: Font) -> Name<'static> {
    match font {
        Font::Regular => REGULAR,
        Font::Bold => BOLD,
    }
}

/// The PDF file of a document.
pub fn render(doc: &Document) -> Vec<u8> {
    let mut pages = Pages::new();
    let title_lines = text::wrap(&doc.title, Font::Bold, 20.0, TEXT_W);
    pages.lines(&title_lines, Font::Bold, 20.0, NHS_BLUE);
    if !doc.subtitle.is_empty() {
        pages.gap(2.0);
        let sub = text::wrap(&doc.subtitle, Font::Regular, 11.0, TEXT_W);
        pages.lines(&sub, Font::Regular, 11.0, SECONDARY);
    }
    pages.gap(10.0);
    for block in &doc.blocks {
        draw_block(&mut pages, block);
    }
    write_pdf(doc, pages.pages)
}

fn draw_block(pages: &mut Pages, block: &Block) {
    match block {
        Block::Heading(h) => {
            let lines = text::wrap(h, Font::Bold, 15.0, TEXT_W);
            // Keep a heading with at least a few lines of what follows it.
            pages.room(15.0 * 1.35 * lines.len() as f32 + 60.0);
            pages.gap(8.0);
            pages.lines(&lines, Font::Bold, 15.0, INK);
            pages.gap(4.0);
        }
        Block::Subheading(h) => {
            let lines = text::wrap(h, Font::Bold, 12.0, TEXT_W);
            pages.room(12.0 * 1.35 * lines.len() as f32 + 40.0);
            pages.gap(4.0);
            pages.lines(&lines, Font::Bold, 12.0, INK);
            pages.gap(2.0);
        }
        Block::Paragraph(p) => {
            let lines = text::wrap(p, Font::Regular, 10.0, TEXT_W);
            pages.lines(&lines, Font::Regular, 10.0, INK);
            pages.gap(6.0);
        }
        Block::Notice(n) => notice(pages, n),
        Block::Figures(figures) => figures_row(pages, figures),
        Block::Table(t) => table(pages, t),
        Block::Chart(c) => crate::chart::spc_chart(pages, c),
        Block::Bars(b) => crate::chart::bars(pages, b),
        Block::PageBreak => {
            if pages.y < TOP {
                pages.new_page();
            }
        }
    }
}

fn notice(pages: &mut Pages, n: &str) {
    let lines = text::wrap(n, Font::Bold, 10.0, TEXT_W - 24.0);
    let height = lines.len() as f32 * 13.5 + 14.0;
    let top = pages.take(height);
    let c = pages.page();
    c.set_fill_rgb(NHS_BLUE.0, NHS_BLUE.1, NHS_BLUE.2);
    c.rect(MARGIN_X, top - height, 5.0, height);
    c.fill_nonzero();
    let mut y = top - 7.0 - 10.0;
    for line in &lines {
        pages.text(MARGIN_X + 14.0, y, line, Font::Bold, 10.0, INK);
        y -= 13.5;
    }
    pages.gap(8.0);
}

fn figures_row(pages: &mut Pages, figures: &[(String, String)]) {
    const PER_ROW: usize = 4;
    let cell_w = TEXT_W / PER_ROW as f32;
    for row in figures.chunks(PER_ROW) {
        let top = pages.take(44.0);
        for (i, (label, value)) in row.iter().enumerate() {
            let x = MARGIN_X + i as f32 * cell_w;
            let value = fit(value, Font::Bold, 16.0, cell_w - 8.0);
            let label = fit(label, Font::Regular, 9.0, cell_w - 8.0);
            pages.text(x, top - 16.0, &value, Font::Bold, 16.0, INK);
            pages.text(x, top - 30.0, &label, Font::Regular, 9.0, SECONDARY);
        }
    }
    pages.gap(6.0);
}

/// `s` cut with an ellipsis to fit `max` points.
pub(crate) fn fit(s: &str, font: Font, size: f32, max: f32) -> String {
    if text::width(s, font, size) <= max {
        return s.to_string();
    }
    let mut out: String = s.to_string();
    while !out.is_empty() && text::width(&format!("{out}…"), font, size) > max {
        out.pop();
    }
    format!("{out}…")
}

const CELL_SIZE: f32 = 9.0;
const CELL_LEADING: f32 = 11.5;
const CELL_PAD: f32 = 4.0;

fn table(pages: &mut Pages, t: &Table) {
    let cols = t
        .headers
        .len()
        .max(t.rows.iter().map(Vec::len).max().unwrap_or(0));
    if cols == 0 {
        return;
    }
    let widths = column_widths(t, cols);
    let header = wrap_row(&t.headers, &widths, Font::Bold);
    let header_h = row_height(&header);
    pages.room(header_h + 2.0 * (CELL_LEADING + 2.0 * CELL_PAD));
    draw_row(pages, &header, &widths, Font::Bold);
    for row in &t.rows {
        let wrapped = wrap_row(row, &widths, Font::Regular);
        let h = row_height(&wrapped);
        if pages.y - h < BOTTOM {
            pages.new_page();
            draw_row(pages, &header, &widths, Font::Bold);
        }
        draw_row(pages, &wrapped, &widths, Font::Regular);
    }
    pages.gap(8.0);
}

/// Column widths: each column's whole text on one line if the table fits; otherwise every
/// column keeps room for its longest word (so no word is cut letter by letter) and the rest of
/// the width goes to the columns in proportion to how much more they would like.
fn column_widths(t: &Table, cols: usize) -> Vec<f32> {
    let pad = 2.0 * CELL_PAD;
    let mut longest = vec![0f32; cols];
    let mut widest_word = vec![0f32; cols];
    let mut measure = |i: usize, s: &str, font: Font| {
        longest[i] = longest[i].max(text::width(s, font, CELL_SIZE));
        for word in s.split_whitespace() {
            widest_word[i] = widest_word[i].max(text::width(word, font, CELL_SIZE));
        }
    };
    for (i, h) in t.headers.iter().enumerate() {
        measure(i, h, Font::Bold);
    }
    for row in &t.rows {
        for (i, cell) in row.iter().enumerate().take(cols) {
            measure(i, cell, Font::Regular);
        }
    }
    // A single very long word (a URL) may still be cut: no column claims more than a half.
    let min: Vec<f32> = widest_word
        .iter()
        .map(|w| (w + pad).min(TEXT_W / 2.0))
        .collect();
    let wanted: Vec<f32> = longest
        .iter()
        .zip(&min)
        .map(|(w, m)| (w + pad).max(*m))
        .collect();
    let (sum_min, sum_wanted): (f32, f32) = (min.iter().sum(), wanted.iter().sum());
    if sum_wanted <= TEXT_W {
        return wanted;
    }
    if sum_min >= TEXT_W {
        return min.iter().map(|w| w / sum_min * TEXT_W).collect();
    }
    let spare = TEXT_W - sum_min;
    let extra = sum_wanted - sum_min;
    min.iter()
        .zip(&wanted)
        .map(|(m, w)| m + (w - m) / extra * spare)
        .collect()
}

fn wrap_row(cells: &[String], widths: &[f32], font: Font) -> Vec<Vec<String>> {
    widths
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let cell = cells.get(i).map(String::as_str).unwrap_or("");
            text::wrap(cell, font, CELL_SIZE, (w - 2.0 * CELL_PAD).max(1.0))
        })
        .collect()
}

fn row_height(wrapped: &[Vec<String>]) -> f32 {
    let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
    lines as f32 * CELL_LEADING + 2.0 * CELL_PAD
}

fn draw_row(pages: &mut Pages, wrapped: &[Vec<String>], widths: &[f32], font: Font) {
    let h = row_height(wrapped);
    let top = pages.take(h);
    let mut x = MARGIN_X;
    for (lines, w) in wrapped.iter().zip(widths) {
        let mut y = top - CELL_PAD - CELL_SIZE;
        for line in lines {
            pages.text(x + CELL_PAD, y, line, font, CELL_SIZE, INK);
            y -= CELL_LEADING;
        }
        x += w;
    }
    let c = pages.page();
    c.set_stroke_rgb(RULE.0, RULE.1, RULE.2);
    c.set_line_width(if font == Font::Bold { 1.2 } else { 0.6 });
    c.move_to(MARGIN_X, top - h);
    c.line_to(MARGIN_X + widths.iter().sum::<f32>(), top - h);
    c.stroke();
}

/// Reserve a box of `height` points for a figure; returns its top.
pub(crate) fn figure_box(pages: &mut Pages, height: f32) -> f32 {
    let top = pages.take(height);
    pages.gap(8.0);
    top
}

fn write_pdf(doc: &Document, pages: Vec<Content>) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first_page = 6;
    let count = pages.len();
    let page_ids: Vec<Ref> = (0..count)
        .map(|i| Ref::new(first_page + 2 * i as i32))
        .collect();

    pdf.catalog(catalog).pages(tree).lang(TextStr("en-GB"));
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(count as i32);
    for (id, base) in [(regular, "Helvetica"), (bold, "Helvetica-Bold")] {
        pdf.type1_font(id)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.document_info(info)
        .title(TextStr(&doc.title))
        .creator(TextStr("MHSIP"));

    for (i, mut content) in pages.into_iter().enumerate() {
        footer(&mut content, &doc.footer, i + 1, count);
        let page_id = page_ids[i];
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_id);
        let mut resources = page.resources();
        resources.fonts().pair(REGULAR, regular).pair(BOLD, bold);
        resources.finish();
        page.finish();
        let data = miniz_oxide::deflate::compress_to_vec_zlib(&content.finish(), 6);
        pdf.stream(content_id, &data).filter(Filter::FlateDecode);
    }
    pdf.finish()
}

fn footer(content: &mut Content, footer: &str, page: usize, pages: usize) {
    let numbers = format!("Page {page} of {pages}");
    let numbers_w = text::width(&numbers, Font::Regular, 8.0);
    let footer = fit(footer, Font::Regular, 8.0, TEXT_W - numbers_w - 16.0);
    for (x, s) in [
        (MARGIN_X, footer.as_str()),
        (PAGE_W - MARGIN_X - numbers_w, numbers.as_str()),
    ] {
        let bytes = text::encode(s);
        content.set_fill_rgb(SECONDARY.0, SECONDARY.1, SECONDARY.2);
        content.begin_text();
        content.set_font(REGULAR, 8.0);
        content.next_line(x, 30.0);
        content.show(Str(&bytes));
        content.end_text();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_word_is_cut_when_the_table_can_hold_every_word() {
        let t = Table {
            headers: vec!["Measure".into(), "Latest".into(), "Assurance".into()],
            rows: vec![vec![
                "Restrictive interventions per 1,000 occupied bed days, a title long enough \
                 to fill the width of the page twice over when written on one line"
                    .into(),
                "26.27 (Oct 2026)".into(),
                "Consistently misses the target".into(),
            ]],
        };
        let widths = column_widths(&t, 3);
        assert!((widths.iter().sum::<f32>() - TEXT_W).abs() < 0.01);
        for (i, w) in widths.iter().enumerate() {
            for cell in std::iter::once(&t.headers[i]).chain(t.rows.iter().map(|r| &r[i])) {
                for word in cell.split_whitespace() {
                    assert!(
                        text::width(word, Font::Bold, CELL_SIZE) + 2.0 * CELL_PAD <= *w + 0.01,
                        "{word} cut in a column {w} wide"
                    );
                }
            }
        }
    }

    #[test]
    fn a_narrow_table_keeps_its_natural_widths() {
        let t = Table {
            headers: vec!["A".into(), "B".into()],
            rows: vec![vec!["1".into(), "2".into()]],
        };
        assert!(column_widths(&t, 2).iter().sum::<f32>() < TEXT_W / 2.0);
    }
}
