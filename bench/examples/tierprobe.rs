//! Short-run tiering probe: fib(n) from a fresh module and store, many times, in the
//! interpreter (profiling off and on) and in tiered mode; prints the median and mean of each.
//!
//! `cargo run --release -p bench --example tierprobe -- [N] [RUNS]` (defaults 10, 2000).

use std::time::Duration;

use bareflow::{Config, Mode};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: i32 = args.next().map_or(Ok(10), |a| a.parse())?;
    let runs: usize = args.next().map_or(Ok(2000), |a| a.parse())?;
    let wasm = bench::workload("fibonacci")
        .ok_or_else(|| anyhow::anyhow!("no fibonacci workload"))?
        .wasm_bytes()?;
    let configs = [
        ("interp", Config::new(Mode::Interp), false),
        ("interp+prof", Config::new(Mode::Interp), true),
        ("tiered", Config::new(Mode::Tiered), false),
    ];
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); configs.len()];
    for _ in 0..runs {
        // Interleaved, so that load bursts hit every configuration alike.
        for (i, (_, config, profiling)) in configs.iter().enumerate() {
            let config = Config {
                profiling: *profiling,
                ..config.clone()
            };
            times[i].push(bench::measure::fib_fresh(&wasm, &config, n)?);
        }
    }
    for ((name, _, _), t) in configs.iter().zip(&mut times) {
        let mean = t.iter().sum::<Duration>() / t.len() as u32;
        let median = bench::median(t);
        println!(
            "fib({n}) {name:12} median {:8.2} us  mean {:8.2} us",
            median.as_secs_f64() * 1e6,
            mean.as_secs_f64() * 1e6
        );
    }
    Ok(())
}
