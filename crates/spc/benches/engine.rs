//! `cargo bench -p spc`: engine throughput on one core, per chart kind, on 10,000 generated
//! series of 36 monthly points (deterministic). Prints points per second; no framework, so
//! the figure is the plain wall-clock rate anyone can reproduce.

use spc::{ChartKind, Direction, Series, Settings, analyse};
use std::hint::black_box;
use std::time::{Duration, Instant};

const SERIES: usize = 10_000;
const POINTS: usize = 36;
const RUNS: usize = 15;

/// SplitMix64, so every machine charts the same numbers.
fn rng(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

fn main() {
    let mut state = 42u64;
    let mut values = Vec::with_capacity(SERIES);
    let mut dens = Vec::with_capacity(SERIES);
    for _ in 0..SERIES {
        let level = 5.0 + rng(&mut state) * 40.0;
        let v: Vec<Option<f64>> = (0..POINTS)
            .map(|_| {
                Some(
                    (level + (rng(&mut state) - 0.5) * level * 0.6)
                        .round()
                        .max(0.0),
                )
            })
            .collect();
        let d: Vec<Option<f64>> = (0..POINTS)
            .map(|_| Some(500.0 + rng(&mut state) * 1000.0))
            .collect();
        values.push(v);
        dens.push(d);
    }
    let total = (SERIES * POINTS) as f64;
    println!(
        "spc engine, one core: {SERIES} series x {POINTS} points = {total} points per run, best and median of {RUNS} runs"
    );
    for chart in ChartKind::ALL {
        let settings = Settings {
            chart,
            direction: Direction::Decrease,
            target: Some(10.0),
            ..Settings::default()
        };
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                for (v, d) in values.iter().zip(&dens) {
                    let series = if chart.needs_denominator() {
                        Series::with_denominators(v, d)
                    } else {
                        Series::values(v)
                    };
                    black_box(analyse(black_box(&series), &settings).ok());
                }
                t.elapsed()
            })
            .collect();
        times.sort();
        let (best, median) = (times[0], times[RUNS / 2]);
        println!(
            "  {:<7} best {:>7.2} ms  median {:>7.2} ms  {:>6.2} M points/s (median)",
            chart.as_str(),
            best.as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e3,
            total / median.as_secs_f64() / 1e6
        );
    }
}
