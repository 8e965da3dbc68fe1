;; Exercises the C API's host bindings and traps (built into host.snap by build.sh).
(module
  (import "env" "log" (func $log (param i32 i64)))
  (import "env" "fail" (func $fail (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from wasm")
  ;; Calls the host with (x, x * 1000) and returns x + 1.
  (func (export "log_twice") (param $x i32) (result i32)
    (call $log (local.get $x) (i64.mul (i64.extend_i32_s (local.get $x)) (i64.const 1000)))
    (call $log (i32.const 16) (i64.const 15))
    (i32.add (local.get $x) (i32.const 1)))
  ;; Integer division: traps on a zero divisor.
  (func (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  ;; Calls a host function that reports an error.
  (func (export "host_fails") (result i32)
    (call $fail))
  ;; Sums `len` bytes of memory starting at `ptr` (out of bounds traps).
  (func (export "sum_bytes") (param $ptr i32) (param $len i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $len)))
        (local.set $acc (i32.add (local.get $acc) (i32.load8_u (local.get $ptr))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
        (local.set $len (i32.sub (local.get $len) (i32.const 1)))
        (br $next)))
    (local.get $acc)))
