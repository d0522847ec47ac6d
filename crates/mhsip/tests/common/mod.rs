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

/// `mhsip serve` on a data folder, signed in as one user; stopped when dropped.
pub struct Served {
    child: std::process::Child,
    port: u16,
    cookie: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One plain HTTP/1.0 exchange (the server then closes the connection): the whole response.
fn http(port: u16, request: &str) -> std::io::Result<String> {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
    s.write_all(request.as_bytes())?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

impl Served {
    /// Start the server on a free loopback port and sign in (waiting for it to answer).
    pub fn sign_in(data: &Path, user: &str, password: &str) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_mhsip"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut served = Served {
            child,
            port,
            cookie: String::new(),
        };
        let body = format!("username={user}&password={password}&next=/");
        let login = format!(
            "POST /login HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let started = std::time::Instant::now();
        let response = loop {
            match http(port, &login) {
                Ok(r) => break r,
                Err(_) if started.elapsed() < std::time::Duration::from_secs(120) => {
                    std::thread::sleep(std::time::Duration::from_millis(250))
                }
                Err(e) => panic!("mhsip serve did not answer: {e}"),
            }
        };
        served.cookie = response
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("set-cookie")
                    .then(|| value.trim().split(';').next().unwrap_or("").to_string())
            })
            .unwrap_or_else(|| panic!("no session cookie: {response}"));
        served
    }

    /// The whole response (status line, headers and body) to a GET of `path`.
    pub fn get(&self, path: &str) -> String {
        http(
            self.port,
            &format!(
                "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nCookie: {}\r\n\r\n",
                self.port, self.cookie
            ),
        )
        .unwrap()
    }

    /// The body of a GET of `path`.
    pub fn body(&self, path: &str) -> String {
        let r = self.get(path);
        r.split_once("\r\n\r\n")
            .map_or(r.clone(), |(_, b)| b.to_string())
    }
}
