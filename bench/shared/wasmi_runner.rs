//! wasmi as a benchmark engine, shared by `benches/report.rs` and
//! `examples/interp_vs_wasmi.rs` (both include this file with `#[path]`: wasmi is a
//! dev-dependency of `bench`, so the library cannot hold it).

use anyhow::{Context, Result, anyhow, bail};
use bench::{ResultType, Workload};

/// One instantiated workload export in wasmi, ready to be called repeatedly.
pub struct WasmiRunner {
    store: wasmi::Store<()>,
    func: wasmi::Func,
    args: Vec<wasmi::Val>,
    results: [wasmi::Val; 1],
}

impl WasmiRunner {
    /// Compiles and instantiates `wasm` (the bytes of `w`) and looks up its export.
    pub fn new(w: &Workload, wasm: &[u8], args: &[i32]) -> Result<WasmiRunner> {
        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, wasm).map_err(|e| anyhow!("wasmi: {e}"))?;
        let mut store = wasmi::Store::new(&engine, ());
        let linker = wasmi::Linker::<()>::new(&engine);
        let instance = linker
            .instantiate_and_start(&mut store, &module)
            .map_err(|e| anyhow!("wasmi: {e}"))?;
        let func = instance
            .get_func(&store, w.export)
            .with_context(|| format!("wasmi: no export `{}`", w.export))?;
        let result = match w.result {
            ResultType::I32 => wasmi::Val::I32(0),
            ResultType::I64 => wasmi::Val::I64(0),
        };
        Ok(WasmiRunner {
            store,
            func,
            args: args.iter().map(|&a| wasmi::Val::I32(a)).collect(),
            results: [result],
        })
    }

    /// One call; returns the checksum.
    pub fn call(&mut self) -> Result<i64> {
        self.func
            .call(&mut self.store, &self.args, &mut self.results)
            .map_err(|e| anyhow!("wasmi: {e}"))?;
        match self.results[0] {
            wasmi::Val::I32(v) => Ok(i64::from(v)),
            wasmi::Val::I64(v) => Ok(v),
            ref other => bail!("wasmi: unexpected result {other:?}"),
        }
    }
}
