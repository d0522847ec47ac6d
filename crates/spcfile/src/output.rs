//! Writing analyses as CSV (per point or one summary row per series) or JSON.

use crate::input::PreparedSeries;
use spc::{Analysis, Anhoj, Settings, Side};

pub const POINT_HEADER: &str = "series,period,value,centre,lower_limit,upper_limit,lower_2sigma,upper_2sigma,astronomical,shift,trend,two_in_three,point_type,segment,trial\n";
pub const SUMMARY_HEADER: &str = "series,points,segments,centre,lower_limit,upper_limit,variation,assurance,longest_run,crossings,runs_signal\n";

/// Shortest text that reads back as the same f64; whole numbers without ".0".
pub fn push_num(out: &mut Vec<u8>, v: Option<f64>) {
    if let Some(v) = v {
        let mut b = ryu::Buffer::new();
        let s = b.format_finite(v);
        let s = s.strip_suffix(".0").unwrap_or(s);
        out.extend_from_slice(s.as_bytes());
    }
}

fn push_side(out: &mut Vec<u8>, s: Option<Side>) {
    if let Some(s) = s {
        out.extend_from_slice(s.as_str().as_bytes());
    }
}

/// A CSV field, quoted only when it must be.
pub fn push_csv_text(out: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        || s.starts_with(' ')
        || s.ends_with(' ')
    {
        out.push(b'"');
        out.extend_from_slice(s.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

fn push_usize(out: &mut Vec<u8>, n: usize) {
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(n).as_bytes());
}

/// Formats numbers, remembering the last text of each column: centre lines and limits repeat
/// from point to point, and formatting floats is most of the cost of writing a large file.
struct LineCache {
    last: [(u64, Vec<u8>); 5],
}

impl LineCache {
    fn new() -> Self {
        LineCache {
            last: std::array::from_fn(|_| (u64::MAX, Vec::new())),
        }
    }

    fn push(&mut self, out: &mut Vec<u8>, column: usize, v: Option<f64>) {
        let Some(x) = v else { return };
        let (bits, text) = &mut self.last[column];
        if *bits != x.to_bits() || text.is_empty() {
            text.clear();
            push_num(text, Some(x));
            *bits = x.to_bits();
        }
        out.extend_from_slice(text);
    }
}

pub fn points_csv(out: &mut Vec<u8>, s: &PreparedSeries, a: &Analysis) {
    let mut name = Vec::with_capacity(s.name.len() + 2);
    push_csv_text(&mut name, &s.name);
    let mut cache = LineCache::new();
    for (period, p) in s.periods.iter().zip(&a.points) {
        out.extend_from_slice(&name);
        out.push(b',');
        period.write_to(out);
        out.push(b',');
        push_num(out, p.value);
        for (k, v) in [
            p.centre,
            p.lower_limit,
            p.upper_limit,
            p.lower_2sigma,
            p.upper_2sigma,
        ]
        .into_iter()
        .enumerate()
        {
            out.push(b',');
            cache.push(out, k, v);
        }
        for f in [p.astronomical, p.shift, p.trend, p.two_in_three] {
            out.push(b',');
            push_side(out, f);
        }
        out.push(b',');
        if let Some(t) = p.point_type {
            out.extend_from_slice(t.as_str().as_bytes());
        }
        out.push(b',');
        push_usize(out, p.segment);
        out.extend_from_slice(if p.trial { b",true\n" } else { b",false\n" });
    }
}

pub fn summary_csv(out: &mut Vec<u8>, s: &PreparedSeries, a: &Analysis) {
    let m = &a.summary;
    push_csv_text(out, &s.name);
    out.push(b',');
    push_usize(out, m.points);
    out.push(b',');
    push_usize(out, m.segments);
    for v in [m.centre, m.lower_limit, m.upper_limit] {
        out.push(b',');
        push_num(out, v);
    }
    out.push(b',');
    if let Some(v) = m.variation {
        out.extend_from_slice(v.as_str().as_bytes());
    }
    out.push(b',');
    out.extend_from_slice(m.assurance.as_str().as_bytes());
    out.push(b',');
    push_usize(out, m.anhoj.longest_run);
    out.push(b',');
    push_usize(out, m.anhoj.crossings);
    out.extend_from_slice(if m.anhoj.runs_signal {
        b",true\n"
    } else {
        b",false\n"
    });
}

fn json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    out.push(b'"');
}

fn json_num(out: &mut Vec<u8>, v: Option<f64>) {
    match v {
        Some(v) => push_num(out, Some(v)),
        None => out.extend_from_slice(b"null"),
    }
}

fn json_opt_str(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        Some(s) => json_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn json_anhoj(out: &mut Vec<u8>, a: &Anhoj) {
    out.extend_from_slice(
        format!(
            "{{\"useful_points\":{},\"longest_run\":{},\"longest_run_max\":{},\"crossings\":{},\"crossings_min\":{},\"runs_signal\":{}}}",
            a.useful_points, a.longest_run, a.longest_run_max, a.crossings, a.crossings_min, a.runs_signal
        )
        .as_bytes(),
    );
}

/// One series as a JSON object: its settings, summary, segments and (unless `summary_only`)
/// its points.
pub fn series_json(
    out: &mut Vec<u8>,
    s: &PreparedSeries,
    a: &Analysis,
    settings: &Settings,
    summary_only: bool,
) {
    let m = &a.summary;
    out.extend_from_slice(b"{\"series\":");
    json_str(out, &s.name);
    out.extend_from_slice(b",\"chart\":");
    json_str(out, settings.chart.as_str());
    out.extend_from_slice(b",\"direction\":");
    json_str(out, settings.direction.as_str());
    out.extend_from_slice(b",\"convention\":");
    json_str(out, settings.convention.as_str());
    out.extend_from_slice(b",\"target\":");
    json_num(out, settings.target);
    out.extend_from_slice(b",\"summary\":{\"points\":");
    push_usize(out, m.points);
    out.extend_from_slice(b",\"segments\":");
    push_usize(out, m.segments);
    out.extend_from_slice(b",\"centre\":");
    json_num(out, m.centre);
    out.extend_from_slice(b",\"lower_limit\":");
    json_num(out, m.lower_limit);
    out.extend_from_slice(b",\"upper_limit\":");
    json_num(out, m.upper_limit);
    out.extend_from_slice(b",\"variation\":");
    json_opt_str(out, m.variation.map(|v| v.as_str()));
    out.extend_from_slice(b",\"assurance\":");
    json_str(out, m.assurance.as_str());
    out.extend_from_slice(b",\"anhoj\":");
    json_anhoj(out, &m.anhoj);
    out.extend_from_slice(b"},\"segments\":[");
    for (i, seg) in a.segments.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"first_period\":");
        json_str(
            out,
            &s.periods
                .get(seg.start)
                .map(|p| p.to_string())
                .unwrap_or_default(),
        );
        out.extend_from_slice(
            format!(
                ",\"points\":{},\"trial\":{},\"centre\":",
                seg.points, seg.trial
            )
            .as_bytes(),
        );
        json_num(out, seg.centre);
        out.extend_from_slice(b",\"anhoj\":");
        json_anhoj(out, &seg.anhoj);
        out.push(b'}');
    }
    out.push(b']');
    if !summary_only {
        out.extend_from_slice(b",\"points\":[");
        for (i, (period, p)) in s.periods.iter().zip(&a.points).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"period\":");
            json_str(out, &period.to_string());
            for (k, v) in [
                ("value", p.value),
                ("centre", p.centre),
                ("lower_limit", p.lower_limit),
                ("upper_limit", p.upper_limit),
                ("lower_2sigma", p.lower_2sigma),
                ("upper_2sigma", p.upper_2sigma),
            ] {
                out.extend_from_slice(format!(",\"{k}\":").as_bytes());
                json_num(out, v);
            }
            for (k, v) in [
                ("astronomical", p.astronomical),
                ("shift", p.shift),
                ("trend", p.trend),
                ("two_in_three", p.two_in_three),
            ] {
                out.extend_from_slice(format!(",\"{k}\":").as_bytes());
                json_opt_str(out, v.map(Side::as_str));
            }
            out.extend_from_slice(b",\"point_type\":");
            json_opt_str(out, p.point_type.map(|t| t.as_str()));
            out.extend_from_slice(
                format!(",\"segment\":{},\"trial\":{}}}", p.segment, p.trial).as_bytes(),
            );
        }
        out.push(b']');
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_drop_point_zero() {
        let mut o = Vec::new();
        push_num(&mut o, Some(1195.0));
        o.push(b' ');
        push_num(&mut o, Some(1751.9166666666667));
        assert_eq!(String::from_utf8(o).unwrap(), "1195 1751.9166666666667");
    }

    #[test]
    fn text_is_quoted_only_when_needed() {
        let mut o = Vec::new();
        push_csv_text(&mut o, "a,b \"c\"");
        assert_eq!(String::from_utf8(o).unwrap(), "\"a,b \"\"c\"\"\"");
    }
}
