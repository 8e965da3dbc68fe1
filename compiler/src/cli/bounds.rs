//! `--fuel N` and `--timeout DUR` for `bareflow run` (docs/ABI.md, "Bounded execution").

use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Result, anyhow};
use bareflow::{Config, Store};

/// Clap value parser for a duration: a number with a unit, `500ms`, `2s`, `1.5s`, `100us`,
/// `1m` (a bare number is seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("`{s}`: expected a duration such as 500ms or 2s"))?;
    let scale = match unit {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "us" => 1e-6,
        "ns" => 1e-9,
        "m" => 60.0,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (ns, us, ms, s, m)")),
    };
    Duration::try_from_secs_f64(v * scale).map_err(|e| format!("`{s}`: {e}"))
}

/// The bounds asked for on the command line.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunBounds {
    /// `--fuel N`.
    pub fuel: Option<u64>,
    /// `--timeout DUR`.
    pub timeout: Option<Duration>,
}

/// Stops the store's calls when dropped late: a thread that interrupts the store at the
/// deadline unless the watchdog is dropped first.
pub struct Watchdog {
    _cancel: mpsc::Sender<()>,
}

impl RunBounds {
    /// Turns on the checks the bounds need.
    pub fn configure(&self, config: &mut Config) {
        config.consume_fuel(self.fuel.is_some());
        config.interruptible(self.timeout.is_some());
    }

    /// Sets the fuel and starts the deadline; keep the watchdog while the guest runs.
    pub fn start(&self, store: &mut Store) -> Result<Option<Watchdog>> {
        if let Some(f) = self.fuel {
            store.set_fuel(f).map_err(|e| anyhow!("--fuel: {e}"))?;
        }
        let Some(t) = self.timeout else {
            return Ok(None);
        };
        let h = store
            .interrupt_handle()
            .map_err(|e| anyhow!("--timeout: {e}"))?;
        let (tx, rx) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("bareflow-watchdog".into())
            .spawn(move || {
                if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(t) {
                    h.interrupt();
                }
            })?;
        Ok(Some(Watchdog { _cancel: tx }))
    }
}
