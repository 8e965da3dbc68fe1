;; Bounded execution through the C API (built into bounds.snap with --fuel --interruptible).
(module
  (import "env" "stop" (func $stop))
  (func (export "spin") (loop br 0))
  ;; The host function calls bf_interrupt: the loop's first back-edge traps.
  (func (export "stop_then_spin") (call $stop) (loop br 0))
  (func (export "seven") (result i32) (i32.const 7)))
