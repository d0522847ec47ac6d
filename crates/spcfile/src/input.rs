//! Reading `series,period,value[,denominator]` files into series, with every problem named
//! by file, line and column.

use crate::period::{self, Cadence, Period};
use std::collections::HashMap;
use textfile::csvscan::{self, Field, Reader};

pub use textfile::FileError;

/// Collects errors, keeping the first few hundred and counting the rest.
#[derive(Debug, Default)]
pub struct Errors {
    pub list: Vec<FileError>,
    pub more: usize,
}

impl Errors {
    const KEEP: usize = 200;

    pub fn push(&mut self, e: FileError) {
        if self.list.len() < Self::KEEP {
            self.list.push(e);
        } else {
            self.more += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// One data row as read.
#[derive(Clone, Debug)]
pub struct Row {
    pub period: Period,
    pub value: Option<f64>,
    pub denominator: Option<f64>,
    pub line: usize,
    pub period_col: u32,
    pub value_col: u32,
    pub den_col: u32,
}

/// A series ready for the engine: periods in order, missing periods filled in as gaps.
#[derive(Debug)]
pub struct PreparedSeries {
    pub name: String,
    pub periods: Vec<Period>,
    pub values: Vec<Option<f64>>,
    pub denominators: Option<Vec<Option<f64>>>,
    /// For each period, the row it came from (`None` for an inserted missing period).
    pub origin: Vec<Option<Row>>,
    pub cadence: Cadence,
}

pub struct DataFile {
    /// Sorted by name, so that the order of the input never changes the output.
    pub series: Vec<PreparedSeries>,
    /// A denominator column with at least one value. A column that is blank on every row of
    /// the file (as spreadsheet exports leave it) counts as absent.
    pub has_denominator: bool,
    /// Where the denominator column is, when it is there but blank on every row: the line and
    /// column of its first data cell, for a chart that needs it to point at.
    pub blank_denominator: Option<(usize, usize)>,
}

/// Pick the delimiter from the header line: commas unless the header only has semicolons
/// or tabs (as Excel writes in some locales).
pub fn sniff_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    if header.contains(',') {
        b','
    } else if header.contains(';') {
        b';'
    } else if header.contains('\t') {
        b'\t'
    } else {
        b','
    }
}

const EXPECTED_HEADER: &str = "series,period,value and optionally denominator";

/// Parse a data file. `file` is the name used in error messages.
pub fn parse(file: &str, bytes: &[u8]) -> Result<DataFile, Errors> {
    let mut errors = Errors::default();
    let err = |line: usize, column: usize, message: String| FileError {
        file: file.to_string(),
        line,
        column,
        message,
    };
    let mut record: Vec<Field> = Vec::new();
    let empty = format!("the file is empty; expected a header line with {EXPECTED_HEADER}");
    let (text, mut reader) = open_with_header(file, bytes, &empty, &mut record)?;
    let columns = match header_columns(&record, text) {
        Ok(c) => c,
        Err((line, col, msg)) => {
            errors.push(err(line, col, msg));
            return Err(errors);
        }
    };

    let mut index: HashMap<String, usize> = HashMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut rows: Vec<Vec<Row>> = Vec::new();
    let mut data_rows = 0usize;
    let mut any_denominator = false;
    let mut first_denominator_cell: Option<(usize, usize)> = None;
    loop {
        match reader.next_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                errors.push(err(e.line, e.column, e.message));
                break;
            }
        }
        data_rows += 1;
        let line = record[0].line;
        if record.len() != columns.count {
            let last = record.last().map_or(1, |f| f.column(text));
            errors.push(err(
                line,
                last,
                format!(
                    "found {} fields but the header has {}; expected {}",
                    record.len(),
                    columns.count,
                    columns.names
                ),
            ));
            continue;
        }
        let name = record[columns.series].text.trim();
        if name.is_empty() {
            errors.push(err(
                line,
                record[columns.series].column(text),
                "the series name is empty; expected a name such as RRK_restraint".into(),
            ));
            continue;
        }
        let pf = &record[columns.period];
        let period = match Period::parse(&pf.text) {
            Ok(p) => p,
            Err(m) => {
                errors.push(err(line, pf.column(text), m));
                continue;
            }
        };
        let vf = &record[columns.value];
        let value = match parse_number(&vf.text) {
            Ok(v) => v,
            Err(m) => {
                errors.push(err(
                    line,
                    vf.column(text),
                    format!(
                        "value {m}; expected a number such as 12.5, or blank for a missing period"
                    ),
                ));
                continue;
            }
        };
        let (denominator, den_col) = match columns.denominator {
            Some(k) => {
                let df = &record[k];
                first_denominator_cell.get_or_insert((line, df.column(text)));
                match parse_number(&df.text) {
                    Ok(d) => {
                        any_denominator |= d.is_some();
                        (d, df.column(text) as u32)
                    }
                    Err(m) => {
                        errors.push(err(line, df.column(text), format!("denominator {m}; expected a number greater than 0, such as the occupied bed days")));
                        continue;
                    }
                }
            }
            None => (None, 0),
        };
        let slot = match index.get(name) {
            Some(i) => *i,
            None => {
                index.insert(name.to_string(), names.len());
                names.push(name.to_string());
                rows.push(Vec::new());
                names.len() - 1
            }
        };
        rows[slot].push(Row {
            period,
            value,
            denominator,
            line,
            period_col: pf.column(text) as u32,
            value_col: vf.column(text) as u32,
            den_col,
        });
    }
    if data_rows == 0 && errors.is_empty() {
        errors.push(err(1, 1, format!("the file has a header but no data rows; expected one row per series and period ({EXPECTED_HEADER})")));
    }

    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|a, b| names[*a].cmp(&names[*b]));
    let mut series = Vec::with_capacity(names.len());
    let mut taken: Vec<Option<Vec<Row>>> = rows.into_iter().map(Some).collect();
    for i in order {
        let mut r = taken[i].take().unwrap_or_default();
        r.sort_by_key(|row| (row.period, row.line));
        if let Some(e) = check_periods(file, &names[i], &r) {
            errors.push(e);
            continue;
        }
        series.push(prepare(std::mem::take(&mut names[i]), r, any_denominator));
    }
    if !errors.is_empty() {
        errors.list.sort_by_key(|e| (e.line, e.column));
        return Err(errors);
    }
    Ok(DataFile {
        series,
        has_denominator: any_denominator,
        blank_denominator: if any_denominator {
            None
        } else {
            first_denominator_cell
        },
    })
}

/// Decode a small CSV file (UTF-8, with or without a byte-order mark) and read its header into
/// `header`. Returns the text and a reader positioned after the header, or the one problem that
/// stops everything (not UTF-8, empty, unreadable header).
pub fn open_with_header<'a>(
    file: &str,
    bytes: &'a [u8],
    empty_message: &str,
    header: &mut Vec<Field<'a>>,
) -> Result<(&'a str, Reader<'a>), Errors> {
    let mut errors = Errors::default();
    let mut fail = |line: usize, column: usize, message: String| {
        errors.push(FileError {
            file: file.to_string(),
            line,
            column,
            message,
        });
    };
    let text = match csvscan::decode_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            fail(e.line, e.column, e.message);
            return Err(errors);
        }
    };
    let mut reader = Reader::new(text, sniff_delimiter(text));
    match reader.next_record(header) {
        Ok(true) if !text.trim().is_empty() => Ok((text, reader)),
        Ok(_) => {
            fail(1, 1, empty_message.to_string());
            Err(errors)
        }
        Err(e) => {
            fail(e.line, e.column, e.message);
            Err(errors)
        }
    }
}

/// Blank (or `NA`) is a missing value; anything else must be a finite number.
pub fn parse_number(s: &str) -> Result<Option<f64>, String> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("na") {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(format!("'{}' is not a number", shorten(t))),
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

struct Columns {
    series: usize,
    period: usize,
    value: usize,
    denominator: Option<usize>,
    count: usize,
    names: String,
}

fn header_columns(record: &[Field], text: &str) -> Result<Columns, (usize, usize, String)> {
    let mut found: [Option<usize>; 4] = [None; 4];
    const NAMES: [&str; 4] = ["series", "period", "value", "denominator"];
    for (i, f) in record.iter().enumerate() {
        let name = f.text.trim().to_ascii_lowercase();
        let Some(k) = NAMES.iter().position(|n| *n == name) else {
            return Err((
                f.line,
                f.column(text),
                format!(
                    "unknown column '{}'; expected {EXPECTED_HEADER}",
                    shorten(f.text.trim())
                ),
            ));
        };
        if found[k].is_some() {
            return Err((
                f.line,
                f.column(text),
                format!("column '{name}' appears twice; expected each column once"),
            ));
        }
        found[k] = Some(i);
    }
    let line = record.first().map_or(1, |f| f.line);
    let missing: Vec<&str> = NAMES[..3]
        .iter()
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|(n, _)| *n)
        .collect();
    if !missing.is_empty() {
        return Err((
            line,
            1,
            format!(
                "the header lacks {}; expected {EXPECTED_HEADER}",
                missing.join(", ")
            ),
        ));
    }
    let names = record
        .iter()
        .map(|f| f.text.trim().to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(",");
    Ok(Columns {
        series: found[0].unwrap_or(0),
        period: found[1].unwrap_or(0),
        value: found[2].unwrap_or(0),
        denominator: found[3],
        count: record.len(),
        names,
    })
}

/// Periods of one series must be of one kind and distinct.
fn check_periods(file: &str, name: &str, rows: &[Row]) -> Option<FileError> {
    let first = rows.first()?;
    if let Some(r) = rows.iter().find(|r| !r.period.same_kind(first.period)) {
        let other = rows
            .iter()
            .find(|o| o.period.same_kind(first.period))
            .map_or(0, |o| o.line);
        return Some(FileError {
            file: file.to_string(),
            line: r.line,
            column: r.period_col as usize,
            message: format!(
                "period {} is {} but series '{name}' has {} on line {other}; expected one kind of period per series",
                r.period,
                r.period.kind_name(),
                first.period.kind_name()
            ),
        });
    }
    rows.windows(2).find(|w| w[0].period == w[1].period).map(|w| {
        let (a, b) = if w[0].line < w[1].line { (&w[0], &w[1]) } else { (&w[1], &w[0]) };
        FileError {
            file: file.to_string(),
            line: b.line,
            column: b.period_col as usize,
            message: format!(
                "duplicate period {} for series '{name}' (first on line {}); expected one row per series and period",
                b.period, a.line
            ),
        }
    })
}

/// Order the rows and insert missing periods (as gaps) where the cadence is regular.
fn prepare(name: String, rows: Vec<Row>, with_denominator: bool) -> PreparedSeries {
    let periods: Vec<Period> = rows.iter().map(|r| r.period).collect();
    let cadence = period::cadence(&periods);
    let mut filled: Vec<Period> = Vec::with_capacity(periods.len());
    let mut origin: Vec<Option<Row>> = Vec::with_capacity(periods.len());
    // Never let a stray far-away period explode the series: fill only when the result stays
    // within four times the rows given.
    let limit = periods.len() * 4 + 16;
    let mut fill = cadence != Cadence::Irregular;
    for row in rows {
        if fill && let Some(prev) = filled.last().copied() {
            let mut p = period::next(prev, cadence);
            while let Some(q) = p.filter(|q| *q < row.period) {
                if filled.len() >= limit {
                    fill = false;
                    break;
                }
                filled.push(q);
                origin.push(None);
                p = period::next(q, cadence);
            }
        }
        filled.push(row.period);
        origin.push(Some(row));
    }
    let values = origin
        .iter()
        .map(|r| r.as_ref().and_then(|r| r.value))
        .collect();
    let denominators = with_denominator.then(|| {
        origin
            .iter()
            .map(|r| r.as_ref().and_then(|r| r.denominator))
            .collect()
    });
    PreparedSeries {
        name,
        periods: filled,
        values,
        denominators,
        origin,
        cadence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(input: &str) -> Vec<String> {
        match parse("in.csv", input.as_bytes()) {
            Ok(_) => vec![],
            Err(e) => e.list.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn reads_series_in_any_row_order_and_sorts_names() {
        let f = parse(
            "x",
            b"series,period,value\nB,2024-02-01,2\nA,2024-01-01,1\nB,2024-01-01,1\n",
        )
        .unwrap();
        let names: Vec<&str> = f.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["A", "B"]);
        assert_eq!(f.series[1].values, [Some(1.0), Some(2.0)]);
    }

    #[test]
    fn missing_months_become_gaps() {
        let f = parse(
            "x",
            b"series,period,value\nA,2024-01-01,1\nA,2024-04-01,4\nA,2024-02-01,\n",
        )
        .unwrap();
        let s = &f.series[0];
        assert_eq!(s.values, [Some(1.0), None, None, Some(4.0)]);
        assert!(s.origin[2].is_none());
    }

    #[test]
    fn errors_name_line_and_column() {
        assert_eq!(
            messages("series,period,value\nA,2024-01-01,abc\n"),
            [
                "in.csv:2:14: value 'abc' is not a number; expected a number such as 12.5, or blank for a missing period"
            ]
        );
        let dup = messages("series,period,value\nA,2024-01-01,1\nA,2024-01-01,2\n");
        assert!(
            dup[0].starts_with(
                "in.csv:3:3: duplicate period 2024-01-01 for series 'A' (first on line 2)"
            ),
            "{dup:?}"
        );
        assert!(messages("")[0].starts_with("in.csv:1:1: the file is empty"));
        assert!(messages("series,period,value\n")[0].contains("no data rows"));
        assert!(
            messages("series,when,value\n")[0].starts_with("in.csv:1:8: unknown column 'when'")
        );
    }

    #[test]
    fn semicolons_and_bom_are_accepted() {
        let f = parse(
            "x",
            "\u{feff}series;period;value\nA;2024-01-01;1\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(f.series[0].values, [Some(1.0)]);
    }
}
