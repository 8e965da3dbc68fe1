//! `bareflow run` for WASI commands: modules that import `wasi_snapshot_preview1` run their
//! `_start` with arguments, granted environment and directories, and the process exits
//! with the status the program passed to `proc_exit` (0 if `_start` returns). With
//! `--invoke NAME` the same WASI context is linked and export NAME is called instead, its
//! arguments parsed per its signature and its results printed as for any module.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use bareflow::wasi::{Wasi, WasiCtx};
use bareflow::{CallError, Config, Extern, Module, Store, TrapCode};

/// What a WASI run needs from the command line.
pub(super) struct WasiRun<'a> {
    /// The module file (its name is `argv[0]`).
    pub file: &'a Path,
    /// `--dir HOST[::GUEST]` values.
    pub dirs: &'a [String],
    /// `--env KEY=VALUE` values.
    pub envs: &'a [String],
    /// Arguments after the module: `argv[1..]`, or the function's with `invoke`.
    pub args: &'a [String],
    /// `--invoke NAME`: call this export instead of `_start`.
    pub invoke: Option<&'a str>,
    /// Where to accumulate the profile (`--profile-out`).
    pub profile_out: Option<&'a PathBuf>,
    /// `--fuel`, `--timeout` (the config has the checks on already).
    pub bounds: super::bounds::RunBounds,
}

impl WasiRun<'_> {
    /// Instantiates `module` with WASI bound and runs `_start`.
    pub(super) fn execute(
        &self,
        module: &Module,
        bytes: &[u8],
        config: Config,
    ) -> Result<ExitCode> {
        let path = self.file.display().to_string();
        let mut ctx = WasiCtx::new();
        let argv0 = self
            .file
            .file_name()
            .map_or(path.clone(), |n| n.to_string_lossy().into_owned());
        ctx.push_arg(&argv0)?;
        if self.invoke.is_none() {
            for a in self.args {
                ctx.push_arg(a)?;
            }
        }
        for e in self.envs {
            ctx.push_env(e)?;
        }
        for d in self.dirs {
            ctx.grant_dir_spec(d)?;
        }
        let mut store = Store::new(config);
        let _watchdog = self.bounds.start(&mut store)?;
        let wasi =
            Wasi::link(&mut store, module, ctx).with_context(|| format!("linking {path}"))?;
        let inst = store
            .instantiate(module, &|m, n| wasi.resolve(m, n))
            .with_context(|| format!("instantiating {path}"))?;
        wasi.bind_memory(&store, inst);
        let (name, func, vals) = match self.invoke {
            Some(name) => {
                let (f, vals) = super::run::prepare_call(&store, module, inst, name, self.args)?;
                (name, f, vals)
            }
            None => {
                let Some(Extern::Func(start)) = store.export(inst, "_start") else {
                    bail!(
                        "{path} imports WASI but exports no `_start` function (call an \
                         export with --invoke NAME)"
                    );
                };
                ("_start", start, Vec::new())
            }
        };
        let outcome = store.call(func, &vals);
        if let Some(p) = self.profile_out {
            super::run::write_profile(&store, module, inst, bytes, &path, p)?;
        }
        match outcome {
            Ok(results) => {
                super::run::print_results(&results);
                Ok(ExitCode::SUCCESS)
            }
            Err(CallError::Trap(t)) if t.code == TrapCode::Exit => {
                let status = wasi.exit_status().unwrap_or(1);
                Ok(ExitCode::from(status as u8))
            }
            Err(e) => Err(super::run::call_error(name, &e)),
        }
    }
}
