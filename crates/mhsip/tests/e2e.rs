//! End-to-end: journeys 1 to 4 of DESIGN.md in headless Chromium (Debian's `chromium`, driven by
//! playwright-core from npm) against `mhsip serve` on a freshly built demo region, with an
//! axe-core accessibility check of every main page (no serious or critical violations).
//!
//! Needs Node.js, the packages of e2e/ (`npm ci` there; done here if missing) and Chromium.
//! `.ci/run` installs them and sets MHSIP_E2E=1, which makes this test required; without it the
//! test says what it needs and passes only if Chromium is missing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn journeys_in_a_real_browser() {
    let required = std::env::var("MHSIP_E2E").is_ok_and(|v| v == "1");
    let Some(browser) = chromium() else {
        assert!(
            !required,
            "MHSIP_E2E=1 but Chromium is not installed (apt-get install chromium)"
        );
        eprintln!("skipped: Chromium is not installed; .ci/run installs it and runs this test");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let e2e = root.join("e2e");
    if !e2e.join("node_modules/playwright-core").exists() {
        let ok = Command::new("npm")
            .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
            .current_dir(&e2e)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "npm ci in e2e/ failed");
    }
    let bin = env!("CARGO_BIN_EXE_mhsip");
    let data = std::env::temp_dir().join(format!("mhsip-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let built = Command::new(bin)
        .args(["demo", "--no-serve", "--no-summary", "--data"])
        .arg(&data)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(built.success(), "the demo region builds");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = Server(
        Command::new(bin)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--data"])
            .arg(&data)
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the server did not start"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let shots = std::env::var("MHSIP_E2E_SCREENSHOTS").ok();
    let mut cmd = Command::new("node");
    cmd.arg("journeys.mjs")
        .arg(&base)
        .arg(&data)
        .env("CHROMIUM", &browser)
        .current_dir(&e2e);
    if let Some(s) = &shots {
        cmd.arg(s);
    }
    let out = cmd.output().expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    assert!(out.status.success(), "journeys failed:\n{stdout}");
    assert!(stdout.contains("All journeys passed."));
}
