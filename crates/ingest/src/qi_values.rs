//! Values of a QI project's own measures from a file (issue 11, item 1): the team's monthly
//! values, or the daily tallies they keep on the ward ("did this shift hold a huddle?"), which
//! become monthly values here. CSV or Excel, read by the same table reader as every upload, so
//! encodings, delimiters and workbooks behave alike and every problem is a
//! `FILE:LINE:COLUMN: reason`. All or nothing: the values are returned only when every row is
//! right, and the caller writes them in one transaction.
//!
//! Two shapes, told apart by the header (names in any case and order; docs/formats.md,
//! "QI project measure values"):
//! - monthly: `measure,month,value`: one value per measure and month;
//! - daily tallies: `measure,date,count[,out_of]`: one row per measure and day; a month's value
//!   is the sum of its counts, or with `out_of` the percentage `100 × Σcount / Σout_of`.

use crate::table::{Content, FileProblem};
use std::collections::{BTreeMap, HashMap};
use textfile::csvscan::Field;
use time::Date;

/// A month's value of one of the project's own measures.
#[derive(Clone, Debug, PartialEq)]
pub struct MonthValue {
    pub measure: String,
    /// The first day of the month.
    pub month: Date,
    pub value: f64,
}

/// What the file held, for the page that reports the upload.
#[derive(Clone, Debug, PartialEq)]
pub struct Read {
    pub values: Vec<MonthValue>,
    /// `monthly` or `daily tallies`.
    pub shape: &'static str,
    pub rows: usize,
}

/// The most problems reported for one file (the rest are counted).
const MAX_PROBLEMS: usize = 50;

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Monthly,
    Daily { out_of: bool },
}

/// Reads `bytes` (the file `file`) as values of the measures `own` (the project's own measure
/// ids), with no month after `today`'s. Every problem is returned, up to `MAX_PROBLEMS`, with
/// a last line saying how many more there were.
pub fn read(file: &str, bytes: &[u8], own: &[&str], today: Date) -> Result<Read, Vec<FileProblem>> {
    let content = Content::open(bytes).map_err(|e| vec![e.in_file(file)])?;
    let mut rows = content.rows();
    let mut fields: Vec<Field> = Vec::new();
    let text = content.text();
    let problem =
        |line: usize, column: usize, message: String| FileProblem::new(file, line, column, message);
    if !rows
        .next_row(&mut fields)
        .map_err(|e| vec![e.in_file(file)])?
    {
        return Err(vec![problem(
            1,
            1,
            "the file is empty; expected a header line and data rows".into(),
        )]);
    }
    let header: Vec<String> = fields
        .iter()
        .map(|f| f.text.trim().to_ascii_lowercase())
        .collect();
    let header_line = fields.first().map_or(1, |f| f.line);
    let col = |name: &str| header.iter().position(|h| h == name);
    let (shape, date_col, value_col) = match (col("month"), col("date")) {
        (Some(m), None) => (Shape::Monthly, m, col("value")),
        (None, Some(d)) => (
            Shape::Daily {
                out_of: col("out_of").is_some(),
            },
            d,
            col("count"),
        ),
        _ => {
            return Err(vec![problem(
                header_line,
                1,
                format!(
                    "the header is \"{}\"; expected measure,month,value (monthly values) or measure,date,count[,out_of] (daily tallies)",
                    header.join(",")
                ),
            )]);
        }
    };
    let (Some(measure_col), Some(value_col)) = (col("measure"), value_col) else {
        let wanted = match shape {
            Shape::Monthly => "measure,month,value",
            Shape::Daily { .. } => "measure,date,count[,out_of]",
        };
        return Err(vec![problem(
            header_line,
            1,
            format!(
                "the header is \"{}\"; expected the columns {wanted}",
                header.join(",")
            ),
        )]);
    };
    let out_of_col = col("out_of");
    let month_end = first_of_month(today);

    let mut problems = Vec::new();
    let mut more = 0usize;
    let mut push = |p: FileProblem, problems: &mut Vec<FileProblem>| {
        if problems.len() < MAX_PROBLEMS {
            problems.push(p);
        } else {
            more += 1;
        }
    };
    // (measure, month) -> (sum of counts or the value, sum of out_of)
    let mut months: BTreeMap<(String, Date), (f64, f64)> = BTreeMap::new();
    let mut seen: HashMap<(String, Date), usize> = HashMap::new();
    let mut n = 0usize;
    loop {
        match rows.next_row(&mut fields) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                push(e.in_file(file), &mut problems);
                break;
            }
        }
        n += 1;
        let line = fields.first().map_or(0, |f| f.line);
        let cell = |i: usize| fields.get(i).map_or("", |f| f.text.trim());
        let at = |i: usize| {
            fields
                .get(i)
                .map_or((line, i + 1), |f| (f.line, f.column(text)))
        };
        let mut bad = |i: usize, message: String, problems: &mut Vec<FileProblem>| {
            let (l, c) = at(i);
            push(problem(l, c, message), problems);
        };
        let measure = cell(measure_col).to_string();
        let measure_ok = own.contains(&measure.as_str());
        if !measure_ok {
            bad(
                measure_col,
                format!(
                    "measure: \"{measure}\" is not one of this project's own measures; expected one of {}",
                    if own.is_empty() {
                        "(none yet: add a measure of the team's own first)".to_string()
                    } else {
                        own.join(", ")
                    }
                ),
                &mut problems,
            );
        }
        let date_text = cell(date_col);
        let date = match shape {
            Shape::Monthly => parse_month(date_text),
            Shape::Daily { .. } => domain::dates::parse_date(date_text).map_err(|_| {
                format!("date: \"{date_text}\" is not a date; expected YYYY-MM-DD or DD/MM/YYYY")
            }),
        };
        let date = match date {
            Ok(d) if first_of_month(d) > month_end => {
                bad(
                    date_col,
                    format!(
                        "{}: \"{date_text}\" is after this month; expected a month that has begun",
                        header[date_col]
                    ),
                    &mut problems,
                );
                None
            }
            Ok(d) => Some(d),
            Err(m) => {
                bad(date_col, m, &mut problems);
                None
            }
        };
        let value_text = cell(value_col);
        let value = match number(value_text) {
            Some(v) if shape != Shape::Monthly && v < 0.0 => {
                bad(
                    value_col,
                    format!("count: \"{value_text}\" is negative; expected a count of 0 or more"),
                    &mut problems,
                );
                None
            }
            Some(v) => Some(v),
            None => {
                bad(
                    value_col,
                    format!(
                        "{}: \"{value_text}\" is not a number; expected a number such as 12 or 3.5 (no units, % signs or thousands separators)",
                        header[value_col]
                    ),
                    &mut problems,
                );
                None
            }
        };
        let out_of = match (shape, out_of_col) {
            (Shape::Daily { out_of: true }, Some(i)) => {
                let t = cell(i);
                match number(t) {
                    Some(d) if d > 0.0 && value.is_none_or(|v| v <= d) => Some(d),
                    Some(d) if d > 0.0 => {
                        bad(
                            i,
                            format!(
                                "out_of: {t} is less than the count ({}); expected the number the count is out of",
                                value.unwrap_or_default()
                            ),
                            &mut problems,
                        );
                        None
                    }
                    _ => {
                        bad(
                            i,
                            format!(
                                "out_of: \"{t}\" is not a number above 0; expected how many the count is out of (e.g. shifts)"
                            ),
                            &mut problems,
                        );
                        None
                    }
                }
            }
            _ => Some(0.0),
        };
        let (Some(date), Some(value), Some(out_of), true) = (date, value, out_of, measure_ok)
        else {
            continue;
        };
        let key = (measure.clone(), date);
        if let Some(first) = seen.insert(key, line) {
            let what = match shape {
                Shape::Monthly => "month",
                Shape::Daily { .. } => "day",
            };
            bad(
                date_col,
                format!(
                    "{measure} has a second row for the {what} {date_text} (the first is on line {first}); expected one row per measure and {what}"
                ),
                &mut problems,
            );
            continue;
        }
        let e = months
            .entry((measure, first_of_month(date)))
            .or_insert((0.0, 0.0));
        e.0 += value;
        e.1 += out_of;
    }
    if n == 0 && problems.is_empty() {
        problems.push(problem(
            header_line + 1,
            1,
            "the file has a header but no rows; expected one row per measure and month (or day)"
                .into(),
        ));
    }
    if more > 0 {
        problems.push(problem(
            0,
            0,
            format!("and {more} more problems like these"),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let values = months
        .into_iter()
        .map(|((measure, month), (sum, out_of))| MonthValue {
            measure,
            month,
            value: match shape {
                Shape::Daily { out_of: true } => 100.0 * sum / out_of,
                _ => sum,
            },
        })
        .collect();
    Ok(Read {
        values,
        shape: match shape {
            Shape::Monthly => "monthly values",
            Shape::Daily { .. } => "daily tallies",
        },
        rows: n,
    })
}

fn first_of_month(d: Date) -> Date {
    d.replace_day(1).unwrap_or(d)
}

/// `2024-03`, or any date in the month (`2024-03-01`, `01/03/2024`).
fn parse_month(t: &str) -> Result<Date, String> {
    let bad = || {
        format!(
            "month: \"{t}\" is not a month; expected YYYY-MM (e.g. 2024-03) or a date in the month"
        )
    };
    if t.len() == 7 && t.as_bytes()[4] == b'-' {
        return domain::dates::parse_date(&format!("{t}-01")).map_err(|_| bad());
    }
    domain::dates::parse_date(t)
        .map(first_of_month)
        .map_err(|_| bad())
}

/// A plain finite decimal, as the page's value field accepts (`qi::parse_value`).
fn number(t: &str) -> Option<f64> {
    qi::parse_value("value", t).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2024 - 06 - 15);
    const OWN: [&str; 2] = ["huddles", "restraints"];

    fn ok(text: &str) -> Read {
        read("v.csv", text.as_bytes(), &OWN, TODAY).unwrap_or_else(|e| {
            panic!(
                "{}",
                e.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })
    }

    fn errors(text: &str) -> Vec<String> {
        read("v.csv", text.as_bytes(), &OWN, TODAY)
            .unwrap_err()
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn monthly_values_in_any_column_order_and_month_form() {
        let r = ok(
            "Value,Month,Measure\n80,2024-01,huddles\n85.5,01/02/2024,huddles\n12,2024-03-09,restraints\n",
        );
        assert_eq!(r.shape, "monthly values");
        assert_eq!(r.rows, 3);
        assert_eq!(
            r.values,
            vec![
                MonthValue {
                    measure: "huddles".into(),
                    month: date!(2024 - 01 - 01),
                    value: 80.0
                },
                MonthValue {
                    measure: "huddles".into(),
                    month: date!(2024 - 02 - 01),
                    value: 85.5
                },
                MonthValue {
                    measure: "restraints".into(),
                    month: date!(2024 - 03 - 01),
                    value: 12.0
                },
            ]
        );
    }

    #[test]
    fn daily_tallies_become_a_percentage_of_the_month_or_its_sum() {
        // Three shifts a day: 2 of 3, 3 of 3, 1 of 3 in January (6 of 9 = 66.7%); 3 of 3 in Feb.
        let r = ok(
            "measure;date;count;out_of\nhuddles;2024-01-01;2;3\nhuddles;2024-01-02;3;3\nhuddles;31/01/2024;1;3\nhuddles;2024-02-01;3;3\n",
        );
        assert_eq!(r.shape, "daily tallies");
        assert_eq!(r.values.len(), 2);
        assert!((r.values[0].value - 100.0 * 6.0 / 9.0).abs() < 1e-9);
        assert_eq!(r.values[1].value, 100.0);
        let r = ok(
            "measure,date,count\nrestraints,2024-01-01,2\nrestraints,2024-01-05,0\nrestraints,2024-01-30,1\n",
        );
        assert_eq!(r.values[0].value, 3.0);
    }

    #[test]
    fn every_bad_row_is_named_by_line_and_column_and_nothing_is_returned() {
        let e = errors(
            "measure,month,value\nhuddles,2024-01,12%\nfoo,2024-02,3\nhuddles,March,4\nhuddles,2024-07,5\nhuddles,2024-01,6\n",
        );
        assert_eq!(e.len(), 4, "{e:?}");
        assert!(
            e[0].starts_with("v.csv:2:17: value: \"12%\" is not a number"),
            "{}",
            e[0]
        );
        assert!(e[1].starts_with("v.csv:3:1: measure: \"foo\" is not one of this project's own measures; expected one of huddles, restraints"), "{}", e[1]);
        assert!(
            e[2].starts_with("v.csv:4:9: month: \"March\" is not a month"),
            "{}",
            e[2]
        );
        assert!(
            e[3].starts_with("v.csv:5:9: month: \"2024-07\" is after this month"),
            "{}",
            e[3]
        );
        let e = errors("measure,month,value\nhuddles,2024-01,1\nhuddles,2024-01,2\n");
        assert_eq!(
            e,
            vec![
                "v.csv:3:9: huddles has a second row for the month 2024-01 (the first is on line 2); expected one row per measure and month"
            ]
        );
        let e = errors(
            "measure,date,count,out_of\nhuddles,2024-01-01,4,3\nhuddles,2024-01-02,1,0\nhuddles,2024-01-03,-1,3\n",
        );
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(
            e[0].contains("2:22: out_of: 3 is less than the count (4)"),
            "{}",
            e[0]
        );
        assert!(
            e[1].contains("3:22: out_of: \"0\" is not a number above 0"),
            "{}",
            e[1]
        );
        assert!(e[2].contains("4:20: count: \"-1\" is negative"), "{}", e[2]);
    }

    #[test]
    fn a_file_that_is_not_a_values_file_says_what_was_expected() {
        assert_eq!(
            errors("ward,day,n\nA,1,2\n"),
            vec![
                "v.csv:1:1: the header is \"ward,day,n\"; expected measure,month,value (monthly values) or measure,date,count[,out_of] (daily tallies)"
            ]
        );
        assert_eq!(
            errors("measure,month\nhuddles,2024-01\n"),
            vec![
                "v.csv:1:1: the header is \"measure,month\"; expected the columns measure,month,value"
            ]
        );
        assert_eq!(
            errors("measure,month,value\n"),
            vec![
                "v.csv:2:1: the file has a header but no rows; expected one row per measure and month (or day)"
            ]
        );
        assert!(errors("")[0].starts_with("v.csv:1:1: the file is empty"));
        assert!(read("v.csv", b"\x89PNG\r\n\x1a\n\0\0", &OWN, TODAY).is_err());
    }

    #[test]
    fn many_problems_are_capped_and_counted() {
        let mut text = String::from("measure,month,value\n");
        for i in 0..80 {
            text.push_str(&format!("huddles,2024-01,x{i}\n"));
        }
        let e = errors(&text);
        assert_eq!(e.len(), MAX_PROBLEMS + 1);
        assert!(
            e.last()
                .unwrap()
                .ends_with("and 30 more problems like these")
        );
    }

    mod property {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any bytes: an answer, never a panic; and when values come back, every month is a
            /// first of a month no later than this month, of one of the own measures.
            #[test]
            fn any_bytes_give_values_or_problems(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
                if let Ok(r) = read("x.csv", &bytes, &OWN, TODAY) {
                    for v in r.values {
                        prop_assert!(OWN.contains(&v.measure.as_str()));
                        prop_assert_eq!(v.month.day(), 1);
                        prop_assert!(v.month <= date!(2024 - 06 - 01));
                        prop_assert!(v.value.is_finite());
                    }
                }
            }

            /// Daily tallies with out_of: the month's value is a percentage between 0 and 100.
            #[test]
            fn tallies_out_of_give_percentages(rows in proptest::collection::vec((1u8..=28, 0u32..5, 0u32..5), 1..40)) {
                let mut text = String::from("measure,date,count,out_of\n");
                let mut days = std::collections::BTreeSet::new();
                for (d, c, extra) in rows {
                    if days.insert(d) {
                        text.push_str(&format!("huddles,2024-03-{d:02},{c},{}\n", c + extra + 1));
                    }
                }
                let r = read("t.csv", text.as_bytes(), &OWN, TODAY).unwrap();
                prop_assert_eq!(r.values.len(), 1);
                prop_assert!((0.0..=100.0).contains(&r.values[0].value));
            }
        }
    }
}
