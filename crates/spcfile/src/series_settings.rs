//! `--series-settings FILE`: per-series direction, target, rebase dates and baseline, so that
//! one call charts many measures. CSV `series,direction,target,rebase,baseline`; `rebase`
//! holds one or more periods separated by commas (quote the field). Blank cells fall back to
//! the command-line options.

use crate::input::{Errors, FileError, open_with_header, parse_number};
use crate::period::Period;
use spc::Direction;
use std::collections::HashMap;
use textfile::csvscan::Field;

/// A rebase period and where it was written, for error messages.
#[derive(Clone, Debug, PartialEq)]
pub struct RebaseAt {
    pub period: Period,
    /// Where it was given: the file (or the option's name), line and column.
    pub at: (String, usize, usize),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeriesOverride {
    pub direction: Option<Direction>,
    pub target: Option<f64>,
    pub rebase: Option<Vec<RebaseAt>>,
    pub baseline: Option<usize>,
    pub line: usize,
}

const COLUMNS: [&str; 5] = ["series", "direction", "target", "rebase", "baseline"];

pub fn parse(file: &str, bytes: &[u8]) -> Result<HashMap<String, SeriesOverride>, Errors> {
    let mut errors = Errors::default();
    let err = |line: usize, column: usize, message: String| FileError {
        file: file.into(),
        line,
        column,
        message,
    };
    let mut rec: Vec<Field> = Vec::new();
    let (text, mut reader) = open_with_header(
        file,
        bytes,
        "the settings file is empty; expected a header series,direction,target,rebase,baseline",
        &mut rec,
    )?;
    let mut col: [Option<usize>; 5] = [None; 5];
    for (i, f) in rec.iter().enumerate() {
        let name = f.text.trim().to_ascii_lowercase();
        match COLUMNS.iter().position(|c| *c == name) {
            Some(k) if col[k].is_none() => col[k] = Some(i),
            Some(_) => errors.push(err(
                f.line,
                f.column(text),
                format!("column '{name}' appears twice; expected each column once"),
            )),
            None => errors.push(err(
                f.line,
                f.column(text),
                format!(
                    "unknown column '{}'; expected series,direction,target,rebase,baseline",
                    f.text.trim()
                ),
            )),
        }
    }
    if col[0].is_none() {
        errors.push(err(1, 1, "the settings file has no 'series' column; expected series,direction,target,rebase,baseline".into()));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let width = rec.len();
    let mut out: HashMap<String, SeriesOverride> = HashMap::new();
    loop {
        match reader.next_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                errors.push(err(e.line, e.column, e.message));
                break;
            }
        }
        let line = rec[0].line;
        if rec.len() != width {
            let c = rec.last().map_or(1, |f| f.column(text));
            errors.push(err(
                line,
                c,
                format!("found {} fields but the header has {width}", rec.len()),
            ));
            continue;
        }
        let cell = |k: usize| col[k].map(|i| &rec[i]);
        let Some(series) = cell(0)
            .map(|f| f.text.trim().to_string())
            .filter(|s| !s.is_empty())
        else {
            errors.push(err(
                line,
                1,
                "the series name is empty; expected the name used in the data file".into(),
            ));
            continue;
        };
        let mut o = SeriesOverride {
            line,
            ..SeriesOverride::default()
        };
        if let Some(f) = cell(1).filter(|f| !f.text.trim().is_empty()) {
            match f.text.parse::<Direction>() {
                Ok(d) => o.direction = Some(d),
                Err(m) => errors.push(err(line, f.column(text), m)),
            }
        }
        if let Some(f) = cell(2) {
            match parse_number(&f.text) {
                Ok(t) => o.target = t,
                Err(m) => errors.push(err(
                    line,
                    f.column(text),
                    format!("target {m}; expected a number, or blank for no target"),
                )),
            }
        }
        if let Some(f) = cell(3).filter(|f| !f.text.trim().is_empty()) {
            let mut dates = Vec::new();
            for part in f.text.split(',') {
                match Period::parse(part) {
                    Ok(p) => dates.push(RebaseAt {
                        period: p,
                        at: (file.to_string(), line, f.column(text)),
                    }),
                    Err(m) => errors.push(err(line, f.column(text), format!("rebase: {m}"))),
                }
            }
            o.rebase = Some(dates);
        }
        if let Some(f) = cell(4).filter(|f| !f.text.trim().is_empty()) {
            match f.text.trim().parse::<usize>() {
                Ok(n) if n >= 2 => o.baseline = Some(n),
                _ => errors.push(err(line, f.column(text), format!("baseline '{}' is not a whole number of points of 2 or more; expected e.g. 12 to 20", f.text.trim()))),
            }
        }
        if let Some(prev) = out.get(&series) {
            errors.push(err(line, 1, format!("series '{series}' already has settings on line {}; expected one row per series", prev.line)));
            continue;
        }
        out.insert(series, o);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quoted_rebase_lists() {
        let s = parse("s.csv", b"series,direction,target,rebase,baseline\nA,decrease,5,\"2020-01-01,2021-06-01\",12\nB,,,,\n").unwrap();
        let a = &s["A"];
        assert_eq!(a.direction, Some(Direction::Decrease));
        assert_eq!(a.target, Some(5.0));
        assert_eq!(a.rebase.as_ref().unwrap().len(), 2);
        assert_eq!(a.baseline, Some(12));
        assert_eq!(
            s["B"],
            SeriesOverride {
                line: 3,
                ..Default::default()
            }
        );
    }

    #[test]
    fn bad_cells_are_located() {
        let e = parse("s.csv", b"series,direction\nA,sideways\n").unwrap_err();
        assert!(
            e.list[0]
                .to_string()
                .starts_with("s.csv:2:3: unknown direction 'sideways'")
        );
    }
}
