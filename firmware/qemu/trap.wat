;; Traps on purpose, for the QEMU image (compiled --xip by build.sh): each trap must come back
;; to the C code as a status with its kind, and the instance must stay usable afterwards.
(module
  (memory 1)
  ;; `unreachable` executed.
  (func (export "boom") (result i32)
    unreachable)
  ;; Unsigned division: traps on a zero divisor.
  (func (export "div") (param i32 i32) (result i32)
    (i32.div_u (local.get 0) (local.get 1)))
  ;; Reads the i32 at `addr`: traps past the 64 KiB memory.
  (func (export "load") (param $addr i32) (result i32)
    (i32.load (local.get $addr)))
  ;; Unbounded recursion: exhausts the stack budget given to bf_init.
  (func $deep (export "deep") (param $n i32) (result i32)
    (i32.add (call $deep (i32.add (local.get $n) (i32.const 1))) (i32.const 1))))
