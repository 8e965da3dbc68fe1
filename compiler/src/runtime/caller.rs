//! The context a host function gets: [`Caller`].
//!
//! A host function defined with [`Store::func_with_caller`](super::Store::func_with_caller)
//! is called with a `&mut Caller` besides its parameters and results. Through it the host
//! reads and writes the calling instance's memory (bounds-checked), looks up the
//! instance's exports, and reaches the store's user data ([`Store::set_data`](super::Store::set_data)).
//!
//! See [`Caller`] for which instance is the caller and why the user data is a `dyn Any`.

use std::any::Any;
use std::cell::RefMut;
use std::fmt;

use runtime_loader::instance::{Instance, LinearMemory};

use super::store::{Extern, Memory, Module, export_of};

/// A bounds-checked memory access failed (or the handle belongs to another store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryAccessError {
    /// Guest address of the access.
    pub offset: u64,
    /// Bytes accessed.
    pub len: usize,
    /// Size of the memory in bytes (0 for a handle of another store).
    pub size: usize,
}

impl fmt::Display for MemoryAccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "out of bounds memory access: {} bytes at {:#x} (memory size {:#x})",
            self.len, self.offset, self.size
        )
    }
}

impl std::error::Error for MemoryAccessError {}

/// The range `offset..offset + len` of a `size`-byte memory, if in bounds.
pub(crate) fn checked_range(
    offset: u64,
    len: usize,
    size: usize,
) -> Result<std::ops::Range<usize>, MemoryAccessError> {
    let err = MemoryAccessError { offset, len, size };
    let start = usize::try_from(offset).map_err(|_| err.clone())?;
    let end = start.checked_add(len).ok_or_else(|| err.clone())?;
    if end > size {
        return Err(err);
    }
    Ok(start..end)
}

/// What a host function can reach besides its parameters: the calling instance (its
/// memory and exports) and the store's user data.
///
/// **Which instance is "the caller".** Every time an instance imports a host function the
/// store gives that import its own `FuncRef` (a copy of the host function's, with the same
/// signature, entries and host data) that remembers the importing instance. The compiled
/// tiers and the interpreter call imports through `vmctx.funcs[i]`, so the caller context is
/// known in every mode without passing an extra argument through the native ABI. The
/// consequence: the caller is the instance that *imported* the host function. When that
/// instance hands the function to another one (exported, or through a table) and the other
/// instance calls it, the caller is still the importing instance — unless the other
/// instance imported it itself (re-exports are imports too and get their own copy). A host
/// function called directly with [`Store::call`](super::Store::call) has no calling
/// instance ([`Caller::memory`] and [`Caller::get_export`] give `None`).
///
/// **User data.** The store holds one `Box<dyn Any>` slot rather than being generic
/// (`Store<T>` as in Wasmtime): `Store` is used non-generically by every tier, the CLI, the
/// spec runner, WASI and the bench, and a type parameter would spread through all of them
/// for no gain in what a host function can do. The price is a downcast
/// ([`Caller::data`] returns `None` for the wrong type).
///
/// A host function cannot call back into wasm through its `Caller` (so guest memory cannot
/// grow or move while the host holds a slice of it).
///
/// ```
/// use bareflow::{Caller, Config, Extern, FuncType, Mode, Module, Store, Trap, Val, ValType};
///
/// let module = Module::from_bytes(br#"(module
///     (import "env" "log" (func $log (param i32 i32)))
///     (memory (export "memory") 1)
///     (data (i32.const 16) "hello")
///     (func (export "run") (call $log (i32.const 16) (i32.const 5))))"#)?;
/// let mut store = Store::new(Config::new(Mode::Interp));
/// store.set_data(Vec::<String>::new());
/// let ty = FuncType { params: vec![ValType::I32, ValType::I32], results: vec![] };
/// let log = store.func_with_caller(ty, Box::new(|caller: &mut Caller<'_>, p: &[Val], _: &mut [Val]| {
///     let (Val::I32(ptr), Val::I32(len)) = (p[0], p[1]) else { unreachable!() };
///     let mem = caller.memory().ok_or_else(|| Trap::host("no memory"))?;
///     let mut buf = vec![0; len as usize];
///     caller.read(mem, ptr as u32 as u64, &mut buf).map_err(|e| Trap::host(e.to_string()))?;
///     let text = String::from_utf8(buf).map_err(|_| Trap::host("not UTF-8"))?;
///     caller.data_mut::<Vec<String>>().expect("user data").push(text);
///     Ok(())
/// }));
/// let inst = store.instantiate(&module, &|_, name| (name == "log").then_some(Extern::Func(log)))?;
/// let Some(Extern::Func(run)) = store.export(inst, "run") else { unreachable!() };
/// store.call(run, &[])?;
/// assert_eq!(store.data::<Vec<String>>().unwrap(), &["hello".to_string()]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Caller<'a> {
    pub(crate) store: u64,
    pub(crate) instance: Option<&'a Instance>,
    pub(crate) module: Option<&'a Module>,
    pub(crate) data: Option<RefMut<'a, Option<Box<dyn Any>>>>,
}

impl fmt::Debug for Caller<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller")
            .field("has_instance", &self.instance.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a> Caller<'a> {
    /// The module of the calling instance (`None` for a direct [`Store::call`](super::Store::call)).
    pub fn module(&self) -> Option<&Module> {
        self.module
    }

    /// An export of the calling instance, by name (`caller.get_export("memory")`).
    pub fn get_export(&self, name: &str) -> Option<Extern> {
        export_of(self.instance?, self.module?, self.store, name)
    }

    /// The calling instance's memory: its export named `memory` if there is one, else its
    /// memory 0 (defined or imported). `None` without a calling instance or memory.
    pub fn memory(&self) -> Option<Memory> {
        if let Some(Extern::Memory(m)) = self.get_export("memory") {
            return Some(m);
        }
        let ptr = self.instance?.memory(0)?;
        Some(Memory {
            store: self.store,
            ptr: ptr as usize,
        })
    }

    fn linear_memory(&self, m: Memory) -> Option<*mut LinearMemory> {
        (m.store == self.store).then_some(m.ptr as *mut LinearMemory)
    }

    /// The bytes of memory `m` (empty for a handle of another store).
    pub fn memory_data(&self, m: Memory) -> &[u8] {
        match self.linear_memory(m) {
            // SAFETY: handles of this store point at live memories; wasm is suspended
            // while the host function runs and cannot be re-entered through `self`, so
            // the memory neither grows nor is written meanwhile.
            Some(p) => unsafe { (*p).data() },
            None => &[],
        }
    }

    /// The bytes of memory `m`, writable (empty for a handle of another store).
    pub fn memory_data_mut(&mut self, m: Memory) -> &mut [u8] {
        match self.linear_memory(m) {
            // SAFETY: as in `memory_data`; `&mut self` makes the borrow exclusive.
            Some(p) => unsafe { (*p).data_mut() },
            None => &mut [],
        }
    }

    /// Copies `buf.len()` bytes at guest address `offset` of `m` into `buf`.
    ///
    /// # Errors
    /// [`MemoryAccessError`] if the range is not inside the memory (nothing is read).
    pub fn read(&self, m: Memory, offset: u64, buf: &mut [u8]) -> Result<(), MemoryAccessError> {
        let data = self.memory_data(m);
        let r = checked_range(offset, buf.len(), data.len())?;
        buf.copy_from_slice(&data[r]);
        Ok(())
    }

    /// Copies `bytes` to guest address `offset` of `m`.
    ///
    /// # Errors
    /// [`MemoryAccessError`] if the range is not inside the memory (nothing is written).
    pub fn write(&mut self, m: Memory, offset: u64, bytes: &[u8]) -> Result<(), MemoryAccessError> {
        let data = self.memory_data_mut(m);
        let r = checked_range(offset, bytes.len(), data.len())?;
        data[r].copy_from_slice(bytes);
        Ok(())
    }

    /// The store's user data, if it is a `T` ([`Store::set_data`](super::Store::set_data)).
    pub fn data<T: Any>(&self) -> Option<&T> {
        self.data.as_ref()?.as_ref()?.downcast_ref()
    }

    /// The store's user data, writable, if it is a `T`.
    pub fn data_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.data.as_mut()?.as_mut()?.downcast_mut()
    }
}

#[cfg(test)]
mod tests;
