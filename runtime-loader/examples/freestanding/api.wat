;; Exercises the C API's module and instance view (issue #20 item 5; built into api.snap by
;; build.sh): listing with types, globals, tables, memory in place, checked host bindings
;; and trap locations.
(module
  (import "env" "log" (func $log (param i32 i64)))
  (memory (export "mem") 1 2)
  (table (export "tab") 3 funcref)
  (table (export "refs") 1 externref)
  (global (export "counter") (mut i32) (i32.const 7))
  (global (export "limit") i64 (i64.const 1000))
  (global (export "scale") (mut f64) (f64.const 1.5))
  (global (export "fref") (mut funcref) (ref.func $double))
  (elem (i32.const 0) func $double $inner)
  (func $double (export "double") (param i32) (result i32)
    (i32.mul (local.get 0) (i32.const 2)))
  (func (export "read_counter") (result i32) (global.get 0))
  (func (export "read_scale") (result f64) (global.get 2))
  ;; call_indirect through table "tab" slot $slot (slot 2 is null: traps).
  (func (export "call_slot") (param $slot i32) (param $x i32) (result i32)
    (call_indirect (param i32) (result i32) (local.get $x) (local.get $slot)))
  ;; Three calls deep: outer -> middle -> inner, which divides by its argument.
  (func $inner (param i32) (result i32) (i32.div_u (i32.const 100) (local.get 0)))
  (func $middle (param i32) (result i32) (call $inner (local.get 0)))
  (func (export "outer") (param i32) (result i32) (call $middle (local.get 0)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "log") (param i32) (call $log (local.get 0) (i64.const 3)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))
