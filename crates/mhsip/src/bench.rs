//! `mhsip bench`: reproducible speed figures. `bench spc` generates a file of N series x M
//! monthly points (deterministic, seeded), then times the engine alone on one core and
//! `mhsip spc` as a whole process (spawned, output to /dev/null).

use crate::spc_cmd::period::{Period, days_from_civil};
use crate::spc_cmd::{self, SpcArgs};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(Subcommand, Debug)]
pub enum BenchWhat {
    /// Time the SPC engine and `mhsip spc` on generated data.
    Spc {
        #[arg(long, default_value_t = 10_000)]
        series: usize,
        #[arg(long, default_value_t = 36)]
        points: usize,
        /// Timed runs of each measurement (the best and the median are reported).
        #[arg(long, default_value_t = 10)]
        runs: usize,
        /// Keep the generated file here (default: a temporary file, removed afterwards).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Write the generated SPC input (series,period,value) to stdout, e.g. for hyperfine.
    SpcData {
        #[arg(long, default_value_t = 10_000)]
        series: usize,
        #[arg(long, default_value_t = 36)]
        points: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

/// SplitMix64: small, fast, and the same numbers on every machine.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly standard normal (Irwin–Hall with 12 uniforms).
    pub fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }
}

/// Monthly series like ward rates: a level, noise, and for a third of them a step change.
pub fn generate_spc_input(series: usize, points: usize, seed: u64) -> Vec<u8> {
    let mut rng = SplitMix(seed);
    let mut out = Vec::with_capacity(series * points * 32);
    out.extend_from_slice(b"series,period,value\n");
    let start = days_from_civil(2021, 1, 1);
    let periods: Vec<String> = (0..points)
        .map(|i| {
            let (y, m) = (2021 + (i / 12) as i32, (i % 12) as u32 + 1);
            let _ = start;
            Period::Date(days_from_civil(y, m, 1)).to_string()
        })
        .collect();
    for s in 0..series {
        let level = 5.0 + rng.unit() * 40.0;
        let sd = level * (0.05 + rng.unit() * 0.2);
        let step_at = if rng.unit() < 0.33 {
            Some((rng.unit() * points as f64) as usize)
        } else {
            None
        };
        let step = (rng.unit() - 0.5) * 4.0 * sd;
        for (i, p) in periods.iter().enumerate() {
            let shift = if step_at.is_some_and(|k| i >= k) {
                step
            } else {
                0.0
            };
            let v = (level + shift + sd * rng.normal()).max(0.0);
            let _ = writeln!(out, "S{s:05},{p},{v:.2}");
        }
    }
    out
}

pub fn run(args: &BenchArgs) -> Result<()> {
    match &args.what {
        BenchWhat::SpcData {
            series,
            points,
            seed,
        } => {
            std::io::stdout()
                .lock()
                .write_all(&generate_spc_input(*series, *points, *seed))?;
            Ok(())
        }
        BenchWhat::Spc {
            series,
            points,
            runs,
            data,
        } => bench_spc(*series, *points, (*runs).max(1), data.clone()),
    }
}

fn bench_spc(series: usize, points: usize, runs: usize, data: Option<PathBuf>) -> Result<()> {
    let bytes = generate_spc_input(series, points, 42);
    let (path, temporary) = match data {
        Some(p) => (p, false),
        None => (
            std::env::temp_dir().join(format!(
                "mhsip-bench-spc-{}x{}-{}.csv",
                series,
                points,
                std::process::id()
            )),
            true,
        ),
    };
    std::fs::write(&path, &bytes)
        .with_context(|| format!("{}: cannot write the benchmark data", path.display()))?;
    let total_points = series * points;
    println!(
        "mhsip bench spc: {series} series x {points} points = {total_points} points ({:.1} MB CSV at {})",
        bytes.len() as f64 / 1e6,
        path.display()
    );
    println!(
        "machine: {} logical cores available",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    // 1. The engine alone, one thread: parsed input in memory, analyse every series.
    let args = default_args(path.clone());
    let parsed = spc_cmd::input::parse("bench", &bytes)
        .map_err(|e| anyhow::anyhow!("generated data did not parse: {:?}", e.list.first()))?;
    let settings = spc::Settings::default();
    let mut engine_times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let mut specials = 0usize;
        for s in &parsed.series {
            let a = spc::analyse(&spc::Series::values(&s.values), &settings)?;
            specials += a
                .points
                .iter()
                .filter(|p| p.point_type.is_some_and(|t| t.is_special_cause()))
                .count();
        }
        engine_times.push(t.elapsed());
        std::hint::black_box(specials);
    }
    let (best, median) = best_median(&mut engine_times);
    println!(
        "engine (1 core, XmR, MDC):   best {:>8.2} ms  median {:>8.2} ms  = {:.2} M points/s (best), {:.2} M points/s (median)",
        ms(best),
        ms(median),
        total_points as f64 / best.as_secs_f64() / 1e6,
        total_points as f64 / median.as_secs_f64() / 1e6
    );

    // 2. In-process end to end (parse, check, compute, format) without process start-up.
    let mut inproc = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let mut sink = std::io::sink();
        let mut err = Vec::new();
        let r = spc_cmd::analyse_input(&args, "bench", &bytes, &mut err)?;
        let out = r.map_err(|_| anyhow::anyhow!("generated data failed the checks"))?;
        let mut buf = Vec::new();
        for (s, a) in out.series.iter().zip(&out.analyses) {
            spc_cmd::output::points_csv(&mut buf, s, a);
        }
        sink.write_all(&buf)?;
        inproc.push(t.elapsed());
    }
    let (best, median) = best_median(&mut inproc);
    println!(
        "in-process parse+compute+CSV: best {:>8.2} ms  median {:>8.2} ms (one thread)",
        ms(best),
        ms(median)
    );

    // 3. The whole process, as an analyst runs it.
    let exe = std::env::current_exe().context("cannot find the mhsip executable")?;
    let mut whole = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let status = Command::new(&exe)
            .arg("spc")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .status()
            .context("cannot start mhsip spc")?;
        whole.push(t.elapsed());
        if !status.success() {
            bail!("mhsip spc failed on the benchmark data");
        }
    }
    let (best, median) = best_median(&mut whole);
    println!(
        "whole process `mhsip spc FILE > /dev/null`: best {:>8.2} ms  median {:>8.2} ms  max {:>8.2} ms",
        ms(best),
        ms(median),
        ms(*whole.iter().max().unwrap_or(&Duration::ZERO))
    );
    if temporary {
        let _ = std::fs::remove_file(&path);
    }
    Ok(())
}

fn default_args(file: PathBuf) -> SpcArgs {
    use clap::Parser;
    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        a: SpcArgs,
    }
    let mut a = Wrap::parse_from(["spc"]).a;
    a.file = Some(file);
    a.threads = 1;
    a
}

fn best_median(times: &mut [Duration]) -> (Duration, Duration) {
    times.sort();
    (times[0], times[times.len() / 2])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
