//! Standalone JIT tests against a hand-built instance (no runtime, no interpreter).

use super::*;
use core::ptr::{null, null_mut};
use runtime_loader::TrapCode;
use runtime_loader::abi::{FuncRef, MemoryDef, TableDef, VMContext, func_kind, libcall};
use runtime_loader::trap::{self, TrapContext};

/// A minimal instance: one memory, tables, globals, FuncRefs and a few real libcalls.
// Boxes inside vectors are deliberate: compiled code holds their addresses.
#[allow(clippy::vec_box)]
struct TestInstance {
    _tier: JitTier,
    info: ModuleInfo,
    trap_ctx: Box<TrapContext>,
    vmctx: Box<VMContext>,
    memory: Box<MemoryDef>,
    mem_buf: Vec<u8>,
    _globals: Vec<Box<u64>>,
    _global_ptrs: Vec<*mut u64>,
    _tables: Vec<Box<TableDef>>,
    _table_bufs: Vec<Vec<u64>>,
    _table_ptrs: Vec<*mut TableDef>,
    funcrefs: Vec<Box<FuncRef>>,
    _func_ptrs: Vec<*const FuncRef>,
    _type_ids: Vec<u32>,
    _libcalls: Vec<usize>,
}

unsafe extern "C" fn test_memory_grow(vmctx: *mut VMContext, _mem: u32, delta: u32) -> u32 {
    // SAFETY: tests only; `instance` points at the TestInstance.
    let inst = unsafe { &mut *((*vmctx).instance as *mut TestInstance) };
    let old = inst.mem_buf.len() as u64 / abi::WASM_PAGE_SIZE;
    let new = old + u64::from(delta);
    if new > 100 {
        return u32::MAX;
    }
    inst.mem_buf.resize((new * abi::WASM_PAGE_SIZE) as usize, 0);
    inst.memory.base = inst.mem_buf.as_mut_ptr();
    inst.memory.len = inst.mem_buf.len() as u64;
    old as u32
}

unsafe extern "C" fn test_memory_fill(
    vmctx: *mut VMContext,
    _m: u32,
    dst: u32,
    val: u32,
    len: u32,
) -> u32 {
    // SAFETY: tests only; `instance` points at the TestInstance.
    let inst = unsafe { &mut *((*vmctx).instance as *mut TestInstance) };
    let end = u64::from(dst) + u64::from(len);
    if end > inst.mem_buf.len() as u64 {
        return TrapCode::MemoryOutOfBounds as u32;
    }
    inst.mem_buf[dst as usize..end as usize].fill(val as u8);
    0
}

unsafe extern "C" fn host_add(_vmctx: *mut VMContext, _c: *const FuncRef, v: *mut u64) -> u32 {
    // SAFETY: signature (i32, i32) -> i32: two slots.
    unsafe {
        let a = *v as u32;
        let b = *v.add(1) as u32;
        if a == 13 {
            return TrapCode::HostError as u32;
        }
        *v = u64::from(a.wrapping_add(b));
    }
    0
}

impl TestInstance {
    /// Compiles `wat`; imported functions (all of type (i32 i32) -> i32) are `host_add`.
    fn new(wat: &str, opt: OptLevel, direct: bool) -> Box<TestInstance> {
        let wasm = wat::parse_str(wat).expect("test wat parses");
        wasmparser::Validator::new()
            .validate_all(&wasm)
            .expect("test module validates");
        let (info, bodies) = ModuleInfo::from_wasm(&wasm).expect("module info");
        let mut trap_ctx = Box::new(TrapContext::new(256 << 10));
        let mut tier = JitTier::new(opt, &mut *trap_ctx).expect("jit");
        let funcs: Vec<(u32, FunctionBody)> = bodies
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let reader = wasmparser::BinaryReader::new(&wasm[r.clone()], r.start as u64);
                (
                    info.num_imported_funcs + i as u32,
                    FunctionBody::new(reader),
                )
            })
            .collect();
        let compiled = tier
            .compile_functions(&info, &funcs, direct)
            .expect("compiles");

        let mut libcalls = vec![0usize; libcall::COUNT];
        libcalls[libcall::MEMORY_GROW] = test_memory_grow as *const () as usize;
        libcalls[libcall::MEMORY_FILL] = test_memory_fill as *const () as usize;
        libcalls[libcall::RAISE_TRAP] = trap::raise_trap_address();
        let n_globals = info.globals.len();
        let mut inst = Box::new(TestInstance {
            _tier: tier,
            info: info.clone(),
            trap_ctx,
            vmctx: Box::new(VMContext {
                memory: null_mut(),
                globals: null(),
                tables: null(),
                funcs: null(),
                type_ids: null(),
                stack_limit: 0,
                libcalls: null(),
                trap_ctx: null_mut(),
                instance: null_mut(),
                memories: null(),
            }),
            memory: Box::new(MemoryDef {
                base: null_mut(),
                len: 0,
            }),
            mem_buf: vec![0; abi::WASM_PAGE_SIZE as usize],
            _globals: (0..n_globals).map(|_| Box::new(0u64)).collect(),
            _global_ptrs: Vec::new(),
            _tables: Vec::new(),
            _table_bufs: Vec::new(),
            _table_ptrs: Vec::new(),
            funcrefs: Vec::new(),
            _func_ptrs: Vec::new(),
            _type_ids: (0..info.types.len() as u32).collect(),
            _libcalls: libcalls,
        });
        let inst_ptr: *mut TestInstance = &mut *inst;
        let vmctx_ptr: *mut VMContext = &mut *inst.vmctx;
        inst.memory.base = inst.mem_buf.as_mut_ptr();
        inst.memory.len = inst.mem_buf.len() as u64;
        inst._global_ptrs = inst
            ._globals
            .iter_mut()
            .map(|g| &mut **g as *mut u64)
            .collect();
        for i in 0..info.func_types.len() as u32 {
            let ty = info.func_type(i).expect("type");
            let (native, array, kind) = if i < info.num_imported_funcs {
                let stub = inst._tier.native_stub(ty).expect("stub");
                (stub, host_add as *const u8, func_kind::HOST)
            } else {
                let c = &compiled[(i - info.num_imported_funcs) as usize];
                (c.native, c.array, func_kind::WASM)
            };
            inst.funcrefs.push(Box::new(FuncRef {
                native,
                array,
                vmctx: vmctx_ptr,
                type_id: info.func_types[i as usize],
                func_index: i,
                kind,
                reserved: 0,
                host_data: null_mut(),
            }));
        }
        inst._func_ptrs = inst
            .funcrefs
            .iter()
            .map(|f| &**f as *const FuncRef)
            .collect();
        // Tables: 10 elements, element i = function i (if any).
        for _ in 0..info.num_tables {
            let mut buf: Vec<u64> = (0..10)
                .map(|i| inst._func_ptrs.get(i).map_or(0, |p| *p as u64))
                .collect();
            buf[9] = 0;
            let def = Box::new(TableDef {
                base: buf.as_mut_ptr(),
                len: buf.len() as u64,
            });
            inst._table_bufs.push(buf);
            inst._tables.push(def);
        }
        inst._table_ptrs = inst
            ._tables
            .iter_mut()
            .map(|t| &mut **t as *mut TableDef)
            .collect();
        let trap_ctx: *mut TrapContext = &mut *inst.trap_ctx;
        let memory: *mut MemoryDef = &mut *inst.memory;
        *inst.vmctx = VMContext {
            memory,
            globals: inst._global_ptrs.as_ptr(),
            tables: inst._table_ptrs.as_ptr(),
            funcs: inst._func_ptrs.as_ptr(),
            type_ids: inst._type_ids.as_ptr(),
            stack_limit: 0,
            libcalls: inst._libcalls.as_ptr(),
            trap_ctx: trap_ctx.cast(),
            instance: inst_ptr.cast(),
            memories: null(),
        };
        inst
    }

    fn call(&mut self, func: u32, args: &[u64]) -> Result<Vec<u64>, TrapCode> {
        let ty = self.info.func_type(func).expect("type").clone();
        let mut values = vec![0u64; ty.params().len().max(ty.results().len()).max(1)];
        values[..args.len()].copy_from_slice(args);
        let f = &*self.funcrefs[func as usize];
        // SAFETY: the funcref, vmctx and trap context are live; the buffer fits the signature.
        let status = unsafe {
            trap::enter(
                &mut *self.trap_ctx,
                f.array,
                f.vmctx,
                f,
                values.as_mut_ptr(),
            )
        };
        match TrapCode::from_u32(status) {
            Some(code) => Err(code),
            None => {
                values.truncate(ty.results().len());
                Ok(values)
            }
        }
    }
}

const MODULE: &str = r#"
(module
  (import "host" "add" (func $add (param i32 i32) (result i32)))
  (type $ii (func (param i32) (result i32)))
  (memory 1)
  (table 10 funcref)
  (global $g (mut i32) (i32.const 0))
  (func $fac (param i64) (result i64)                                   ;; 1
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
  (func $sum (param i32) (result i32) (local i32)                       ;; 2
    (block (loop
      (br_if 1 (i32.eqz (local.get 0)))
      (local.set 1 (i32.add (local.get 1) (local.get 0)))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br 0)))
    (local.get 1))
  (func $div_s (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))  ;; 3
  (func $rem_s (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))  ;; 4
  (func $load (param i32) (result i32) (i32.load offset=4 (local.get 0)))            ;; 5
  (func $unreachable (unreachable))                                                   ;; 6
  (func $trunc (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))             ;; 7
  (func $recurse (param i32) (result i32) (call $recurse (i32.add (local.get 0) (i32.const 1))))  ;; 8
  (func $indirect (param i32 i32) (result i32)                                        ;; 9
    (call_indirect (type $ii) (local.get 0) (local.get 1)))
  (func $id (param i32) (result i32) (local.get 0))                                   ;; 10
  (func $br_table (param i32) (result i32)                                            ;; 11
    (block (result i32) (block (result i32) (block (result i32)
      (br_table 0 1 2 (i32.const 10) (local.get 0)))
      (i32.add (i32.const 1))) (i32.add (i32.const 2))))
  (func $multi (param i32 i32) (result i32 i32) (local.get 1) (local.get 0))          ;; 12
  (func $use_multi (param i32 i32) (result i32)                                       ;; 13
    (call $multi (local.get 0) (local.get 1)) (i32.sub))
  (func $host (param i32 i32) (result i32) (call $add (local.get 0) (local.get 1)))  ;; 14
  (func $grow (param i32) (result i32) (memory.grow (local.get 0)))                   ;; 15
  (func $size (result i32) (memory.size))                                             ;; 16
  (func $global (param i32) (result i32)                                              ;; 17
    (global.set $g (i32.add (global.get $g) (local.get 0))) (global.get $g))
  (func $fill (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))  ;; 18
  (func $table_get (param i32) (result i32) (ref.is_null (table.get 0 (local.get 0))))      ;; 19
  (func $trunc_sat (param f32) (result i64) (i64.trunc_sat_f32_u (local.get 0)))           ;; 20
  (func $float (param f64 f64) (result f64) (f64.min (local.get 0) (local.get 1)))         ;; 21
  (func $loop_multi (param i32) (result i32)                                               ;; 22
    (local.get 0)
    (loop (param i32) (result i32)
      (i32.const 1) (i32.sub) (local.tee 0) (local.get 0) (br_if 0)))
)
"#;

fn all_modes() -> [(OptLevel, bool); 3] {
    [
        (OptLevel::None, false),
        (OptLevel::Speed, false),
        (OptLevel::Speed, true),
    ]
}

#[test]
fn computes() {
    for (opt, direct) in all_modes() {
        let mut i = TestInstance::new(MODULE, opt, direct);
        assert_eq!(i.call(1, &[20]), Ok(vec![2432902008176640000]));
        assert_eq!(i.call(2, &[100]), Ok(vec![5050]));
        assert_eq!(
            i.call(3, &[(-7i32) as u32 as u64, 2]),
            Ok(vec![(-3i32) as u32 as u64])
        );
        assert_eq!(
            i.call(4, &[i32::MIN as u32 as u64, u32::MAX as u64]),
            Ok(vec![0])
        );
        assert_eq!(i.call(9, &[5, 2]), Ok(vec![15]));
        for (arg, want) in [(0, 13), (1, 12), (2, 10), (7, 10)] {
            assert_eq!(i.call(11, &[arg]), Ok(vec![want]), "br_table {arg}");
        }
        assert_eq!(i.call(12, &[1, 2]), Ok(vec![2, 1]));
        assert_eq!(i.call(13, &[10, 3]), Ok(vec![(-7i32) as u32 as u64]));
        assert_eq!(i.call(14, &[40, 2]), Ok(vec![42]));
        assert_eq!(i.call(16, &[]), Ok(vec![1]));
        assert_eq!(i.call(15, &[2]), Ok(vec![1]));
        assert_eq!(i.call(16, &[]), Ok(vec![3]));
        assert_eq!(i.call(15, &[1000]), Ok(vec![u32::MAX as u64]));
        // Memory moved on growth: loads see the new base.
        assert_eq!(i.call(5, &[3 * 65536 - 8]), Ok(vec![0]));
        assert_eq!(i.call(17, &[5]), Ok(vec![5]));
        assert_eq!(i.call(17, &[6]), Ok(vec![11]));
        assert_eq!(i.call(18, &[100, 0xab, 8]), Ok(vec![]));
        assert_eq!(i.call(5, &[100]), Ok(vec![0xabab_abab]));
        assert_eq!(i.call(19, &[9]), Ok(vec![1]));
        assert_eq!(i.call(19, &[1]), Ok(vec![0]));
        assert_eq!(i.call(20, &[f32::to_bits(-5.0) as u64]), Ok(vec![0]));
        assert_eq!(i.call(20, &[f32::to_bits(1e30) as u64]), Ok(vec![u64::MAX]));
        let min = i
            .call(21, &[(-0.0f64).to_bits(), 0.0f64.to_bits()])
            .unwrap();
        assert_eq!(min, vec![(-0.0f64).to_bits()]);
        assert_eq!(i.call(22, &[5]), Ok(vec![0]));
    }
}

#[test]
fn every_trap_kind_leaves_the_store_usable() {
    let m1 = i32::MIN as u32 as u64;
    let cases: &[(u32, &[u64], TrapCode)] = &[
        (3, &[1, 0], TrapCode::IntegerDivideByZero),
        (3, &[m1, u32::MAX as u64], TrapCode::IntegerOverflow),
        (4, &[1, 0], TrapCode::IntegerDivideByZero),
        (5, &[65533], TrapCode::MemoryOutOfBounds),
        (5, &[u32::MAX as u64], TrapCode::MemoryOutOfBounds),
        (6, &[], TrapCode::Unreachable),
        (
            7,
            &[f64::NAN.to_bits()],
            TrapCode::InvalidConversionToInteger,
        ),
        (7, &[2147483648.0f64.to_bits()], TrapCode::IntegerOverflow),
        (
            7,
            &[(-2147483649.0f64).to_bits()],
            TrapCode::IntegerOverflow,
        ),
        (8, &[0], TrapCode::StackOverflow),
        (9, &[1, 10], TrapCode::UndefinedElement),
        (9, &[1, 9], TrapCode::UninitializedElement),
        (9, &[1, 1], TrapCode::IndirectCallTypeMismatch),
        (14, &[13, 0], TrapCode::HostError),
        (18, &[65530, 0, 7], TrapCode::MemoryOutOfBounds),
        (19, &[10], TrapCode::TableOutOfBounds),
    ];
    for (opt, direct) in all_modes() {
        let mut i = TestInstance::new(MODULE, opt, direct);
        for (func, args, code) in cases {
            assert_eq!(
                i.call(*func, args),
                Err(*code),
                "func {func} {args:?} {opt:?}"
            );
            assert!(i.trap_ctx.jmp.is_null());
            assert_eq!(i.trap_ctx.depth, 0);
            assert_eq!(i.call(2, &[10]), Ok(vec![55]), "after {code:?}");
        }
        // Valid edge cases of the checked conversions.
        assert_eq!(
            i.call(7, &[(-2147483648.9f64).to_bits()]),
            Ok(vec![i32::MIN as u32 as u64])
        );
        assert_eq!(
            i.call(7, &[2147483647.9f64.to_bits()]),
            Ok(vec![i32::MAX as u64])
        );
    }
}
