;; The guest of `run_snapshot.rs`: `main(n)` logs a string through the host and returns
;; 2n; `div` traps on a zero divisor; `load` reads memory (out of bounds: a trap, in guard
;; mode from a fault).
(module
  (import "env" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 8) "hello from the snapshot")
  (func (export "main") (param i32) (result i32)
    (call $log (i32.const 8) (i32.const 23))
    (i32.mul (local.get 0) (i32.const 2)))
  (func $div (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))
