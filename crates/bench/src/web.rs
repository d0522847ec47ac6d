//! `bench web`: the web application's speed on the demo region, measured the way a user
//! meets it. The demo database is copied to a temporary folder (nothing is written to yours), a
//! benchmark account is created there, the server is started in this process on a free
//! loopback port, and a small keep-alive HTTP/1.1 client measures:
//! - the region overview (every trust and measure, SPC computed), one request at a time;
//! - ward chart pages (60 wards x 6 measures, in turn), one request at a time;
//! - ward chart pages under load: N connections for S seconds (requests/s, errors, p95);
//! - the same load while the demo's Datix-style export is imported and the figures recomputed.

use crate::{Context, Error, Result, fail};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const MEASURES: [&str; 6] = [
    "ri_rate",
    "ri_prone_rate",
    "self_harm_rate",
    "awol_rate",
    "pct_leave_on_time",
    "sexual_safety_rate",
];
const PASSWORD: &str = "bench-password-not-secret";

/// One keep-alive connection.
pub(crate) struct Client {
    stream: BufReader<TcpStream>,
    cookie: String,
}

impl Client {
    pub(crate) async fn connect(addr: std::net::SocketAddr, cookie: &str) -> Result<Client> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Client {
            stream: BufReader::new(s),
            cookie: cookie.to_string(),
        })
    }

    /// Status, body length and headers of one request.
    pub(crate) async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: &str,
    ) -> Result<(u16, usize, Vec<String>)> {
        let mut req =
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n");
        if !self.cookie.is_empty() {
            req.push_str(&format!("Cookie: {}\r\n", self.cookie));
        }
        if !body.is_empty() {
            req.push_str(&format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(body);
        self.stream.get_mut().write_all(req.as_bytes()).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context(&format!("bad status line {line:?}"))?;
        let (mut length, mut chunked, mut headers) = (0usize, false, Vec::new());
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let lower = l.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().context("bad content-length")?;
            } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
            headers.push(l.to_string());
        }
        let mut total = 0;
        if chunked {
            loop {
                line.clear();
                self.stream.read_line(&mut line).await?;
                let size = usize::from_str_radix(line.trim(), 16).context("bad chunk size")?;
                let mut buf = vec![0; size + 2];
                self.stream.read_exact(&mut buf).await?;
                total += size;
                if size == 0 {
                    break;
                }
            }
        } else {
            let mut buf = vec![0; length];
            self.stream.read_exact(&mut buf).await?;
            total = length;
        }
        Ok((status, total, headers))
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Time `n` requests one after another on one connection; fail on any non-200.
pub(crate) async fn sequential(
    addr: std::net::SocketAddr,
    cookie: &str,
    paths: &[String],
    n: usize,
) -> Result<Vec<Duration>> {
    let mut c = Client::connect(addr, cookie).await?;
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let path = &paths[i % paths.len()];
        let t = Instant::now();
        let (status, _, _) = c.request("GET", path, "").await?;
        times.push(t.elapsed());
        if status != 200 {
            return fail(format!("{path}: HTTP {status}"));
        }
    }
    times.sort();
    Ok(times)
}

/// Latencies of requests made one at a time.
pub struct Latency {
    pub requests: usize,
    pub p50: Duration,
    pub p95: Duration,
    pub max: Duration,
}

impl Latency {
    pub(crate) fn of(sorted: &[Duration]) -> Latency {
        Latency {
            requests: sorted.len(),
            p50: percentile(sorted, 0.5),
            p95: percentile(sorted, 0.95),
            max: *sorted.last().unwrap_or(&Duration::ZERO),
        }
    }
}

/// What a load run measured, summed up.
pub struct LoadFigures {
    pub connections: usize,
    pub seconds: u64,
    pub requests: usize,
    pub per_second: f64,
    pub errors: u64,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub megabytes_per_second: f64,
}

impl LoadFigures {
    fn of(load: &Load, connections: usize, seconds: u64) -> LoadFigures {
        LoadFigures {
            connections,
            seconds,
            requests: load.times.len(),
            per_second: load.per_second(),
            errors: load.errors,
            p50: percentile(&load.times, 0.5),
            p95: percentile(&load.times, 0.95),
            p99: percentile(&load.times, 0.99),
            max: *load.times.last().unwrap_or(&Duration::ZERO),
            megabytes_per_second: load.bytes as f64 / load.elapsed / 1e6,
        }
    }
}

/// The load while an upload is imported and the figures recomputed.
pub struct UploadLoadFigures {
    pub rows: u64,
    pub import: Duration,
    /// From the commit until the next generation of figures is served.
    pub recomputed: Duration,
    pub load: LoadFigures,
}

/// What `bench web` measured.
pub struct WebFigures {
    pub wards: usize,
    /// Server start until the overview is computed.
    pub first_overview: Duration,
    pub chart_pages: usize,
    /// Every ward chart page once, after the start.
    pub first_pass: Duration,
    pub overview: Latency,
    pub charts: Latency,
    /// Quality improvement (issue 11): the programme view (every project with its suggested
    /// score and its history by month), the demo's first project's page, the API's list.
    pub qi_view: Latency,
    pub qi_project: Latency,
    pub qi_api: Latency,
    /// The trust board report as a PDF, each trust in turn.
    pub board_pdf: Latency,
    pub trusts: usize,
    pub load: LoadFigures,
    /// `Err(path)` when the data folder has no Datix-style export to upload.
    pub during_upload: std::result::Result<UploadLoadFigures, std::path::PathBuf>,
}

impl WebFigures {
    /// Requests that failed under load (with or without the upload).
    pub fn errors(&self) -> u64 {
        self.load.errors + self.during_upload.as_ref().map_or(0, |u| u.load.errors)
    }
}

/// Measure the web application on a copy of the demo database in `data_dir` (its
/// `mhsip.db`, and its pseudonymisation key and demo files if there).
pub async fn run(
    data_dir: &Path,
    requests: usize,
    connections: usize,
    seconds: u64,
) -> Result<WebFigures> {
    let source = data_dir.join("mhsip.db");
    if !source.exists() {
        return fail(format!(
            "no database at {}: run `mhsip demo --no-serve` first (or pass --data)",
            source.display()
        ));
    }
    // Fold the WAL into the file before copying it.
    {
        let s = store::Store::open(&format!("sqlite://{}", source.display())).await?;
        s.checkpoint().await?;
        s.close().await;
    }
    let dir = std::env::temp_dir().join(format!("mhsip-bench-web-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run_on_copy(&source, &dir, data_dir, requests, connections, seconds).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run_on_copy(
    source: &Path,
    dir: &Path,
    data_dir: &Path,
    requests: usize,
    connections: usize,
    seconds: u64,
) -> Result<WebFigures> {
    std::fs::copy(source, dir.join("mhsip.db")).context("copy the database")?;
    if let Ok(key) = std::fs::read(data_dir.join("pseudonymisation.key")) {
        std::fs::write(dir.join("pseudonymisation.key"), key)?;
    }
    let store = store::Store::open(&format!("sqlite://{}", dir.join("mhsip.db").display())).await?;
    let wards: Vec<String> = store.wards().await?.into_iter().map(|w| w.code).collect();
    if wards.is_empty() {
        return fail("the database holds no wards: run `mhsip demo --no-serve` first");
    }
    let Running {
        state,
        addr,
        cookie,
        server,
        started: _,
        warmed: first_overview,
    } = start(store, dir).await?;
    let chart_paths: Vec<String> = MEASURES
        .iter()
        .flat_map(|m| wards.iter().map(move |w| format!("/chart/{w}/{m}")))
        .collect();
    // Every ward chart once, so that what follows measures the steady state (the server warms
    // the same series in the background after it starts).
    let t = Instant::now();
    sequential(addr, &cookie, &chart_paths, chart_paths.len()).await?;
    let first_pass = t.elapsed();
    let overview = sequential(addr, &cookie, &["/".to_string()], requests.min(500)).await?;
    let charts = sequential(addr, &cookie, &chart_paths, requests).await?;
    let few = requests.clamp(1, 200);
    let qi_view = sequential(addr, &cookie, &["/qi".to_string()], few).await?;
    let qi_project = sequential(addr, &cookie, &["/qi/1".to_string()], few).await?;
    let qi_api = sequential(addr, &cookie, &["/api/qi/projects".to_string()], few).await?;
    let trusts: Vec<String> = state_trusts(&state).await?;
    // An acute trust has no board report of ward measures (its page says where its figures are).
    let acute: Vec<String> = state
        .store()
        .organisation_types()
        .await?
        .into_iter()
        .filter(|(_, kind)| kind == "acute")
        .map(|(code, _)| code)
        .collect();
    let board_paths: Vec<String> = trusts
        .iter()
        .filter(|t| !acute.contains(t))
        .map(|t| format!("/reports/board/{t}/pdf"))
        .collect();
    let board_pdf = sequential(addr, &cookie, &board_paths, (trusts.len() * 5).max(1)).await?;
    let load = under_load(
        addr,
        &cookie,
        &chart_paths,
        connections,
        Duration::from_secs(seconds),
    )
    .await?;
    // The same load while an upload is imported into the same database (as `mhsip import` on the
    // data folder would) and the server recomputes its figures: pages must not stall.
    let export = data_dir.join("demo-files").join("datix-export-R9A.csv");
    let during = if export.exists() {
        Ok(during_upload(
            addr,
            &cookie,
            &chart_paths,
            connections,
            dir,
            &export,
            &state,
        )
        .await?)
    } else {
        Err(export)
    };
    server.abort();
    Ok(WebFigures {
        wards: wards.len(),
        first_overview,
        chart_pages: chart_paths.len(),
        first_pass,
        overview: Latency::of(&overview),
        charts: Latency::of(&charts),
        qi_view: Latency::of(&qi_view),
        qi_project: Latency::of(&qi_project),
        qi_api: Latency::of(&qi_api),
        board_pdf: Latency::of(&board_pdf),
        trusts: trusts.len(),
        load: LoadFigures::of(&load, connections, seconds),
        during_upload: during,
    })
}

/// The trusts of the database behind `state` (for their board reports).
async fn state_trusts(state: &web::AppState) -> Result<Vec<String>> {
    Ok(state
        .store()
        .organisations()
        .await?
        .into_iter()
        .filter(|o| o.level == "trust")
        .map(|o| o.code)
        .collect())
}

/// A server started in process on a loopback port, signed in as a programme admin.
pub(crate) struct Running {
    pub state: web::AppState,
    pub addr: std::net::SocketAddr,
    pub cookie: String,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// From opening the application until it listens (answers).
    pub started: Duration,
    /// From opening the application until the region overview is computed.
    pub warmed: Duration,
}

/// Starts the application on `store` (data folder `dir`, for the pseudonymisation key) with a
/// programme admin `bench.admin`, and waits until the region overview is computed.
pub(crate) async fn start(store: store::Store, dir: &Path) -> Result<Running> {
    let grant = domain::access::Grant::new(domain::access::Role::ProgrammeAdmin, None, None)
        .map_err(Error::Msg)?;
    // A database measured before (`bench scale --reuse`) has the benchmark's user already.
    if store.user_grant("bench.admin").await?.is_none() {
        store.create_user("bench.admin", PASSWORD, &grant).await?;
    }
    let (keys, _) = ingest::pseudonym::Pseudonymiser::open(dir, &store).await?;
    let config = web::Config {
        data_dir: dir.to_path_buf(),
        ..web::Config::default()
    };
    let t = Instant::now();
    let state = web::AppState::new(store, keys, config).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server_state = state.clone();
    let server = tokio::spawn(async move { web::serve(listener, server_state).await });
    let started = t.elapsed();
    state.warm().await.map_err(|e| Error::Msg(e.to_string()))?;
    let warmed = t.elapsed();
    // Sign in once; every connection uses the session.
    let mut c = Client::connect(addr, "").await?;
    let (status, _, headers) = c
        .request(
            "POST",
            "/login",
            &format!(
                "username=bench.admin&password={}",
                PASSWORD.replace('-', "%2D")
            ),
        )
        .await?;
    let cookie = headers
        .iter()
        .find_map(|h| {
            h.strip_prefix("set-cookie: ")
                .or_else(|| h.strip_prefix("Set-Cookie: "))
        })
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    let Some(cookie) = cookie.filter(|_| status == 303) else {
        return fail(format!("could not sign in (HTTP {status})"));
    };
    Ok(Running {
        state,
        addr,
        cookie,
        server,
        started,
        warmed,
    })
}

/// What a load run measured.
struct Load {
    times: Vec<Duration>,
    errors: u64,
    bytes: usize,
    elapsed: f64,
}

impl Load {
    fn per_second(&self) -> f64 {
        self.times.len() as f64 / self.elapsed
    }
}

/// `connections` clients for `length`, each walking the chart pages from its own start.
async fn under_load(
    addr: std::net::SocketAddr,
    cookie: &str,
    chart_paths: &[String],
    connections: usize,
    length: Duration,
) -> Result<Load> {
    let deadline = Instant::now() + length;
    let mut tasks = Vec::new();
    for k in 0..connections {
        let (cookie, paths) = (cookie.to_string(), chart_paths.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(addr, &cookie).await?;
            let (mut times, mut errors, mut bytes) = (Vec::new(), 0u64, 0usize);
            let mut i = k * 7;
            while Instant::now() < deadline {
                let t = Instant::now();
                match c.request("GET", &paths[i % paths.len()], "").await {
                    Ok((200, n, _)) => bytes += n,
                    _ => errors += 1,
                }
                times.push(t.elapsed());
                i += 1;
            }
            Ok::<_, Error>((times, errors, bytes))
        }));
    }
    let t = Instant::now();
    let (mut times, mut errors, mut bytes) = (Vec::new(), 0, 0);
    for task in tasks {
        let (ts, e, b) = task.await??;
        times.extend(ts);
        errors += e;
        bytes += b;
    }
    times.sort();
    Ok(Load {
        times,
        errors,
        bytes,
        elapsed: t.elapsed().as_secs_f64(),
    })
}

/// Load the chart pages while the demo's Datix-style export is imported with its saved mapping
/// on a connection of its own (as a command-line import would), then while the server computes
/// the next generation; report the latency over that whole window. Returns the errors.
async fn during_upload(
    addr: std::net::SocketAddr,
    cookie: &str,
    chart_paths: &[String],
    connections: usize,
    dir: &Path,
    export: &Path,
    state: &web::AppState,
) -> Result<UploadLoadFigures> {
    let bytes = std::fs::read(export)?;
    let url = format!("sqlite://{}", dir.join("mhsip.db").display());
    let importer = tokio::task::spawn_blocking(move || -> Result<(Duration, u64)> {
        // Its own runtime and connection: the server's workers are not borrowed.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            // Let the load settle first.
            tokio::time::sleep(Duration::from_millis(500)).await;
            let store = store::Store::open(&url).await?;
            let row = store
                .mapping(demo::datix::MAPPING_NAME)
                .await?
                .context("the demo's saved Datix mapping")?;
            let mapping =
                ingest::mapping::Mapping::from_json(&row.definition).map_err(Error::Msg)?;
            let dir = std::path::PathBuf::from(url.trim_start_matches("sqlite://"));
            let (mut keys, _) = ingest::pseudonym::Pseudonymiser::open(
                dir.parent().context("data folder")?,
                &store,
            )
            .await?;
            let t = Instant::now();
            let report = ingest::import(
                &store,
                &mut keys,
                &ingest::Request {
                    kind: ingest::formats::Kind::RestrictiveInterventions,
                    file_name: "datix-export-R9A.csv",
                    bytes: &bytes,
                    mapping: Some(&mapping),
                    uploaded_by: "bench",
                    only_trust: Some("R9A"),
                    dry_run: false,
                },
                &mut |_, _, _| {},
            )
            .await?;
            if !report.ok() {
                return fail(format!(
                    "the benchmark upload failed: {:?}",
                    report.error_lines()
                ));
            }
            store.close().await;
            Ok((t.elapsed(), report.rows_read))
        })
    });
    let (cookie_owned, paths) = (cookie.to_string(), chart_paths.to_vec());
    // Long enough for the import, the server noticing it (within a second) and the recompute.
    let load = tokio::spawn(async move {
        under_load(
            addr,
            &cookie_owned,
            &paths,
            connections,
            Duration::from_secs(12),
        )
        .await
    });
    let (import_time, rows) = importer.await??;
    let t = Instant::now();
    // The server notices within a second; then wait for the next generation to be served.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    state
        .settled()
        .await
        .map_err(|e| Error::Msg(e.to_string()))?;
    let recomputed = t.elapsed();
    let load = load.await??;
    Ok(UploadLoadFigures {
        rows,
        import: import_time,
        recomputed,
        load: LoadFigures::of(&load, connections, 12),
    })
}
