//! A file as a table of cells with positions, whether it came as CSV (any encoding, comma,
//! semicolon or tab) or as an Excel workbook (its first sheet).

use crate::csvscan::{Field, Reader};
use crate::decode::{Encoding, control_name, decode, first_control, is_control};
use std::borrow::Cow;

/// A problem with the file itself (not with one row's values).
pub type FileProblem = textfile::FileError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv { delimiter: u8, encoding: Encoding },
    Xlsx,
}

impl Format {
    pub fn describe(&self) -> String {
        match self {
            Format::Csv {
                delimiter,
                encoding,
            } => {
                let d = match delimiter {
                    b',' => "comma",
                    b';' => "semicolon",
                    b'\t' => "tab",
                    _ => "other",
                };
                format!("CSV ({}, {d}-separated)", encoding.label())
            }
            Format::Xlsx => "Excel workbook (first sheet)".into(),
        }
    }
}

/// The decoded text of a CSV file, or the cells of a sheet; rows are read from it.
pub enum Content<'a> {
    Text(Cow<'a, str>, Format),
    Sheet(Vec<Vec<String>>),
}

impl<'a> Content<'a> {
    /// Open the bytes of an upload. Excel is recognised by its signature (a zip or OLE file).
    pub fn open(bytes: &'a [u8]) -> Result<Content<'a>, FileProblem> {
        if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0") {
            let rows = read_workbook(bytes)?;
            check_cells(&rows)?;
            return Ok(Content::Sheet(rows));
        }
        let (text, encoding) = decode(bytes).map_err(|e| FileProblem {
            file: String::new(),
            line: e.line,
            column: e.column,
            message: e.message,
        })?;
        if let Some((line, column, what)) = first_control(&text) {
            return Err(FileProblem {
                file: String::new(),
                line,
                column,
                message: format!(
                    "line {line} column {column} holds {what}, which text never holds; expected plain text (is the file damaged, or not a CSV file?)"
                ),
            });
        }
        if text.trim().is_empty() {
            return Err(FileProblem {
                file: String::new(),
                line: 1,
                column: 1,
                message: "the file is empty; expected a header line and data rows".into(),
            });
        }
        let delimiter = sniff_delimiter(&text);
        Ok(Content::Text(
            text,
            Format::Csv {
                delimiter,
                encoding,
            },
        ))
    }

    pub fn format(&self) -> Format {
        match self {
            Content::Text(_, f) => *f,
            Content::Sheet(_) => Format::Xlsx,
        }
    }

    /// The text cells' columns are computed against.
    pub fn text(&self) -> &str {
        match self {
            Content::Text(t, _) => t,
            Content::Sheet(_) => "",
        }
    }

    pub fn rows(&'a self) -> Rows<'a> {
        match self {
            Content::Text(t, Format::Csv { delimiter, .. }) => {
                Rows::Csv(Reader::new(t, *delimiter))
            }
            Content::Text(t, Format::Xlsx) => Rows::Csv(Reader::new(t, b',')),
            Content::Sheet(rows) => Rows::Sheet { rows, next: 0 },
        }
    }

    /// Total size, for progress: bytes of text, or rows of a sheet.
    pub fn size(&self) -> usize {
        match self {
            Content::Text(t, _) => t.len(),
            Content::Sheet(rows) => rows.len(),
        }
    }
}

pub enum Rows<'a> {
    Csv(Reader<'a>),
    Sheet {
        rows: &'a [Vec<String>],
        next: usize,
    },
}

impl<'a> Rows<'a> {
    /// The next non-blank row, or `None` at the end.
    pub fn next_row(&mut self, out: &mut Vec<Field<'a>>) -> Result<bool, FileProblem> {
        match self {
            Rows::Csv(r) => r.next_record(out).map_err(|e| FileProblem {
                file: String::new(),
                line: e.line,
                column: e.column,
                message: e.message,
            }),
            Rows::Sheet { rows, next } => {
                out.clear();
                while *next < rows.len() {
                    let i = *next;
                    *next += 1;
                    let row = &rows[i];
                    if row.iter().all(|c| c.trim().is_empty()) {
                        continue;
                    }
                    for (c, text) in row.iter().enumerate() {
                        out.push(Field::at(Cow::Borrowed(text.as_str()), i + 1, c + 1));
                    }
                    return Ok(true);
                }
                Ok(false)
            }
        }
    }

    /// Progress so far, in the unit of `Content::size`.
    pub fn position(&self) -> usize {
        match self {
            Rows::Csv(r) => r.position(),
            Rows::Sheet { next, .. } => *next,
        }
    }
}

/// Cells of a sheet hold no control characters (a NUL would cut a name short).
fn check_cells(rows: &[Vec<String>]) -> Result<(), FileProblem> {
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if let Some(ch) = cell.chars().find(|ch| is_control(*ch)) {
                return Err(FileProblem {
                    file: String::new(),
                    line: r + 1,
                    column: c + 1,
                    message: format!(
                        "row {} column {} holds {}, which text never holds; expected plain text",
                        r + 1,
                        c + 1,
                        control_name(ch)
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Comma unless the header line has more semicolons or tabs (quoted text ignored).
pub fn sniff_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in header.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3)
        .max_by_key(|i| (counts[*i], usize::from(*i == 0)))
        .unwrap_or(0);
    [b',', b';', b'\t'][best]
}

/// The first sheet of a workbook as text cells. Dates become ISO text (`2024-03-01` or
/// `2024-03-01 14:05`), times `14:05`, whole numbers lose their `.0`.
fn read_workbook(bytes: &[u8]) -> Result<Vec<Vec<String>>, FileProblem> {
    use calamine::{Data, Reader as _, open_workbook_auto_from_rs};
    let problem = |m: String| FileProblem {
        file: String::new(),
        line: 1,
        column: 1,
        message: m,
    };
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec())).map_err(|e| {
        problem(match other_office_file(bytes) {
            Some(what) => format!(
                "the file is not a text file or an Excel workbook (it looks like {what}); expected a CSV file or an .xlsx or .xls workbook"
            ),
            None => format!(
                "the workbook cannot be read ({e}); expected an .xlsx or .xls file, or a CSV"
            ),
        })
    })?;
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| problem("the workbook has no sheets".into()))?;
    let range = wb
        .worksheet_range(&sheet)
        .map_err(|e| problem(format!("sheet '{sheet}' cannot be read: {e}")))?;
    let (first_row, first_col) = range
        .start()
        .map_or((0, 0), |(r, c)| (r as usize, c as usize));
    let mut rows = vec![Vec::new(); first_row];
    for row in range.rows() {
        let mut cells = vec![String::new(); first_col];
        for cell in row {
            cells.push(match cell {
                Data::Empty => String::new(),
                Data::String(s) => s.clone(),
                Data::Int(i) => i.to_string(),
                Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
                Data::Float(f) => f.to_string(),
                Data::Bool(b) => {
                    if *b {
                        "Y".into()
                    } else {
                        "N".into()
                    }
                }
                Data::DateTime(dt) => excel_serial_to_text(dt.as_f64()),
                Data::DateTimeIso(s) | Data::DurationIso(s) => s.replace('T', " "),
                Data::Error(e) => format!("#ERROR {e:?}"),
            });
        }
        rows.push(cells);
    }
    Ok(rows)
}

/// What a zip or OLE file that is not a readable workbook most likely is.
fn other_office_file(bytes: &[u8]) -> Option<&'static str> {
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    if bytes.starts_with(b"PK\x03\x04") {
        Some(if has(b"word/") {
            "a Word document"
        } else if has(b"ppt/") {
            "a PowerPoint presentation"
        } else if has(b"xl/") || has(b"content.xml") {
            return None;
        } else {
            "a ZIP archive that is not an Excel workbook"
        })
    } else if has(b"W\0o\0r\0d\0D\0o\0c\0u\0m\0e\0n\0t") {
        Some("a Word document")
    } else {
        None
    }
}

/// Excel's serial date (days since 1899-12-30, fraction of a day for the time).
fn excel_serial_to_text(serial: f64) -> String {
    let days = serial.floor() as i64;
    let minutes = ((serial - serial.floor()) * 1440.0).round() as i64;
    let (days, minutes) = if minutes == 1440 {
        (days + 1, 0)
    } else {
        (days, minutes)
    };
    if days == 0 {
        return format!("{:02}:{:02}", minutes / 60, minutes % 60);
    }
    let epoch = time::macros::date!(1899 - 12 - 30);
    let date = epoch + time::Duration::days(days);
    let d = domain::dates::iso(date);
    if minutes == 0 {
        d
    } else {
        format!("{d} {:02}:{:02}", minutes / 60, minutes % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_sniffed_from_the_header() {
        assert_eq!(sniff_delimiter("a,b,c\n1;2"), b',');
        assert_eq!(sniff_delimiter("a;b;c\n"), b';');
        assert_eq!(sniff_delimiter("a\tb\n"), b'\t');
        assert_eq!(sniff_delimiter("\"a;b\",c\n"), b',');
    }

    #[test]
    fn excel_serials() {
        assert_eq!(excel_serial_to_text(45352.0), "2024-03-01");
        assert_eq!(excel_serial_to_text(45352.5), "2024-03-01 12:00");
        assert_eq!(excel_serial_to_text(0.25), "06:00");
    }
}
