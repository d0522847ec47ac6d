//! Helpers shared by the command-line tests: run the real binary, read simple CSV.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/spc")
        .join(name)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `mhsip` with these arguments, feeding `stdin` if given.
pub fn mhsip(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mhsip"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mhsip starts");
    if let Some(input) = stdin {
        let mut s = child.stdin.take().expect("stdin");
        s.write_all(input).expect("write stdin");
    }
    let out = child.wait_with_output().expect("mhsip finishes");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Split one CSV line (fixtures have no embedded newlines); strips quotes.
pub fn split_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

/// Rows of a CSV text as maps from column name to value.
pub fn read_csv(text: &str) -> Vec<HashMap<String, String>> {
    let mut lines = text.lines().filter(|l| !l.is_empty());
    let header = split_line(lines.next().unwrap_or(""));
    lines
        .map(|l| header.iter().cloned().zip(split_line(l)).collect())
        .collect()
}

pub fn read_fixture(name: &str) -> Vec<HashMap<String, String>> {
    read_csv(&std::fs::read_to_string(fixture(name)).expect("fixture exists"))
}

/// Equal to 1e-9 relative (both missing counts as equal).
pub fn close(ours: &str, theirs: &str) -> bool {
    let parse = |s: &str| -> Option<f64> {
        let t = s.trim();
        if t.is_empty() || t == "NA" || t == "nan" {
            None
        } else {
            t.parse().ok()
        }
    };
    match (parse(ours), parse(theirs)) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) + 1e-12,
        _ => false,
    }
}

/// +1 / -1 / 0 as the peers write rule flags, to our high / low / blank.
pub fn flag(peer: &str) -> &'static str {
    match peer.trim() {
        "1" => "high",
        "-1" => "low",
        _ => "",
    }
}

/// Key a per-point output by (series, period).
pub fn by_point(
    rows: Vec<HashMap<String, String>>,
) -> HashMap<(String, String), HashMap<String, String>> {
    rows.into_iter()
        .map(|r| ((r["series"].clone(), r["period"].clone()), r))
        .collect()
}
