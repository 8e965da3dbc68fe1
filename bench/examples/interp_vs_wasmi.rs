//! Quick interpreter-vs-wasmi comparison (the issue #2 target: tier 0 no slower than 2x
//! wasmi), much faster than the full report.
//!
//! ```sh
//! cargo run --release -p bench --example interp_vs_wasmi                # every workload, table
//! cargo run --release -p bench --example interp_vs_wasmi -- fib,sieve   # some workloads
//! IW_REPS=3 IW_SCALE=4 ...   # timed calls per cell (median), divide the bench arguments by 4
//! # one engine, one workload, once (for cachegrind/callgrind):
//! cargo run --release -p bench --example interp_vs_wasmi -- --once interp fibonacci 25
//! ```
//!
//! Counting instructions: valgrind 3.19's cachegrind (and lackey) count the instructions a
//! short forward branch skips as executed (VEX chases the branch and counts both sides), which
//! hides most of a loop op's profiling cost; pass `--vex-guest-chase=no` (callgrind does
//! not chase), e.g. `IW_CALLS=2` minus `IW_CALLS=1` of
//! `valgrind --tool=cachegrind --cache-sim=no --vex-guest-chase=no <example> --once interp+prof fibonacci 20`.
//!
//! Engines: `interp`, `interp+prof`, `wasmi`, `tiered`. Checksums are compared between
//! engines. `--once` prints each call's time on stderr.

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use bareflow::{Config, Mode};
use bench::{BareflowRunner, WORKLOADS, Workload, median};

trait Run {
    fn call(&mut self) -> Result<i64>;
}

impl Run for BareflowRunner {
    fn call(&mut self) -> Result<i64> {
        BareflowRunner::call(self)
    }
}

#[path = "../shared/wasmi_runner.rs"]
mod wasmi_runner;
use wasmi_runner::WasmiRunner;

impl Run for WasmiRunner {
    fn call(&mut self) -> Result<i64> {
        WasmiRunner::call(self)
    }
}

fn prepare(engine: &str, w: &Workload, args: &[i32]) -> Result<Box<dyn Run>> {
    let wasm = w.wasm_bytes()?;
    if engine == "wasmi" {
        return Ok(Box::new(WasmiRunner::new(w, &wasm, args)?));
    }
    let (mode, profiling) = match engine {
        "interp" => (Mode::Interp, false),
        "interp+prof" => (Mode::Interp, true),
        // Tier-up from the interpreter (first calls show when hot code gets compiled).
        "tiered" => (Mode::Tiered, false),
        other => bail!("unknown engine {other}"),
    };
    let config = Config {
        profiling,
        ..Config::new(mode)
    };
    match BareflowRunner::new(w, &wasm, args, config)? {
        Ok(r) => Ok(Box::new(r)),
        Err(why) => bail!("unsupported: {why}"),
    }
}

fn main() -> Result<()> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some("--dump") {
        // The interpreter's lowered code of one workload, one op per line.
        let name = argv.get(1).ok_or_else(|| anyhow!("workload?"))?;
        let w = bench::workload(name).ok_or_else(|| anyhow!("no workload {name}"))?;
        let m = bareflow::Module::from_bytes(&w.wasm_bytes()?)?;
        for f in &m.interp_code().funcs {
            println!("func {} ({} ops)", f.func_index, f.ops.len());
            for (i, op) in f.ops.iter().enumerate() {
                println!("  {i:4} {op:?}");
            }
        }
        return Ok(());
    }
    if argv.first().map(String::as_str) == Some("--once") {
        let engine = argv.get(1).ok_or_else(|| anyhow!("engine?"))?;
        let name = argv.get(2).ok_or_else(|| anyhow!("workload?"))?;
        let w = bench::workload(name).ok_or_else(|| anyhow!("no workload {name}"))?;
        let args: Vec<i32> = if argv.len() > 3 {
            argv[3..]
                .iter()
                .map(|a| a.parse())
                .collect::<Result<_, _>>()?
        } else {
            w.test_args.to_vec()
        };
        let mut r = prepare(engine, w, &args)?;
        // IW_CALLS=2 minus IW_CALLS=1 under cachegrind isolates one warm call.
        let calls: usize = std::env::var("IW_CALLS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        for _ in 0..calls {
            let t = Instant::now();
            let sum = r.call()?;
            eprintln!("{:.2} ms", t.elapsed().as_secs_f64() * 1e3);
            println!("{sum}");
        }
        return Ok(());
    }
    let filter: Option<Vec<String>> = argv
        .first()
        .map(|f| f.split(',').map(str::to_string).collect());
    let reps: usize = std::env::var("IW_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let scale: i32 = std::env::var("IW_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    // IW_ENGINES=wasmi,interp,interp+prof,interp: extra columns (same engine twice shows
    // how much of a difference is layout noise).
    let engines: Vec<String> = std::env::var("IW_ENGINES")
        .unwrap_or_else(|_| "wasmi,interp,interp+prof".into())
        .split(',')
        .map(str::to_string)
        .collect();
    if engines.len() < 3 {
        bail!("IW_ENGINES needs at least three engines");
    }
    print!(
        "| workload | {} ms | {} ms | ratio | {} ms | overhead |",
        engines[0], engines[1], engines[2]
    );
    for e in &engines[3..] {
        print!(" {e} ms |");
    }
    println!();
    println!(
        "|---|---:|---:|---:|---:|---:|{}",
        "---:|".repeat(engines.len() - 3)
    );
    for w in WORKLOADS {
        if let Some(f) = &filter
            && !f.iter().any(|f| w.name.contains(f.as_str()))
        {
            continue;
        }
        let args: Vec<i32> = w
            .bench_args
            .iter()
            .enumerate()
            .map(|(i, &a)| {
                // fib's argument is an exponent: scale it down by log.
                if w.name == "fibonacci" {
                    a - (scale as f64).log(1.618).round() as i32
                } else if i + 1 == w.bench_args.len() {
                    (a / scale).max(1)
                } else {
                    a
                }
            })
            .collect();
        let mut runners = engines
            .iter()
            .map(|e| prepare(e, w, &args))
            .collect::<Result<Vec<_>>>()?;
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); engines.len()];
        let mut sums = vec![0i64; engines.len()];
        for (i, r) in runners.iter_mut().enumerate() {
            sums[i] = r.call()?; // warm-up
        }
        if sums.iter().any(|&s| s != sums[0]) {
            bail!("{}: checksums differ: {sums:?}", w.name);
        }
        for _ in 0..reps {
            for (i, r) in runners.iter_mut().enumerate() {
                let t = Instant::now();
                let s = r.call()?;
                times[i].push(t.elapsed());
                if s != sums[0] {
                    bail!("{}: {} checksum {s} != {}", w.name, engines[i], sums[0]);
                }
            }
        }
        let ms: Vec<f64> = times
            .iter()
            .map(|t| median(t).as_secs_f64() * 1e3)
            .collect();
        print!(
            "| {} | {:.1} | {:.1} | {:.2}x | {:.1} | {:+.1}% |",
            w.name,
            ms[0],
            ms[1],
            ms[1] / ms[0],
            ms[2],
            (ms[2] / ms[1] - 1.0) * 100.0
        );
        for t in &ms[3..] {
            print!(" {t:.1} |");
        }
        println!();
    }
    Ok(())
}
