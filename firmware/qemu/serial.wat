;; Wasm writing to the serial port through a host import (compiled --xip by build.sh): the
;; image binds env.write to a C function that copies the bytes out of linear memory to COM1.
(module
  (import "env" "write" (func $write (param i32 i32)))
  (memory 1)
  (data (i32.const 64) "hello from wasm, on bare metal")
  ;; Writes the greeting `n` times; returns the number of bytes written.
  (func (export "hello") (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $write (i32.const 64) (i32.const 30))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.mul (local.get $n) (i32.const 30))))
