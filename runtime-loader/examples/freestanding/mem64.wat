;; memory64 and table64 through the C API (issue #16 item 4): i64 addresses, an address of
;; 2^32 + 16 that would alias address 16 after truncation (must trap), i64 memory.grow, a
;; table64 call_indirect whose index 2^32 + 1 would alias entry 1.
(module
  (memory (export "memory") i64 1 2)
  (table $t i64 2 funcref)
  (type $r (func (result i32)))
  (elem (table $t) (i64.const 1) func $seven)
  (data (i64.const 16) "\2a\00\00\00")
  (func $seven (result i32) (i32.const 7))
  (func (export "load") (param i64) (result i32) (i32.load (local.get 0)))
  (func (export "store_load") (param i64 i32) (result i32)
    (i32.store (local.get 0) (local.get 1))
    (i32.load (local.get 0)))
  (func (export "call") (param i64) (result i32) (call_indirect $t (type $r) (local.get 0)))
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0))))
