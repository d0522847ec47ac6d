//! Time the generation of a demo region of any size, without loading it:
//! `cargo run --release -p demo --example generate -- TRUSTS WARDS_PER_TRUST YEARS [DIR]`
//! (default 6 10 5). With DIR, the files are also written there.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = |i: usize, d: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let size = demo::Size {
        trusts: n(0, 6),
        wards_per_trust: n(1, 10),
        years: n(2, 5) as u32,
    };
    let t = Instant::now();
    let region = match demo::generate_region(size, 20_231_101) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let took = t.elapsed();
    let bytes: usize = region.files.iter().map(|f| f.2.len()).sum();
    let rows: usize = region.files.iter().map(|f| f.2.lines().count() - 1).sum();
    println!(
        "{} trusts, {} wards, {} years: {rows} rows, {:.0} MB generated in {:.2} s",
        region.trusts,
        region.wards,
        size.years,
        bytes as f64 / 1e6,
        took.as_secs_f64()
    );
    for (_, name, content) in &region.files {
        println!("  {name:<30} {:>10} rows", content.lines().count() - 1);
    }
    if let Some(dir) = args.get(3) {
        std::fs::create_dir_all(dir).expect("create the folder");
        for (_, name, content) in &region.files {
            std::fs::write(std::path::Path::new(dir).join(name), content).expect("write");
        }
    }
}
