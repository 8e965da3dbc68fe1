;; Exercises the C API instance's segments, tables, globals and bulk-memory/table libcalls
;; (built into bulk.snap by build.sh). Every export but `grow`/`tgrow` gives the same result
;; for the same arguments however often it runs, so the test can replay it in a fresh
;; interpreter instance.
(module
  (type $ii (func (param i32) (result i32)))
  (memory 1 4)
  (table $t 4 16 funcref)
  (global $g (mut i32) (i32.const 7))
  (global $r funcref (ref.func $f10))
  (data $d0 "\01\02\03\04\05\06\07\08")
  (data $d1 "abcdefgh")
  (data (i32.const 100) "\10\20")
  (elem $e0 func $f10 $f20 $f30)
  (elem $e1 func $f1)
  (elem (i32.const 0) func $f1)
  (elem declare func $f20)
  (func $f1 (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (func $f10 (type $ii) (i32.mul (local.get 0) (i32.const 10)))
  (func $f20 (type $ii) (i32.mul (local.get 0) (i32.const 20)))
  (func $f30 (type $ii) (i32.mul (local.get 0) (i32.const 30)))
  (func $sum (param $p i32) (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 3))
                                 (i32.load8_u (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $acc))
  ;; memory.fill / memory.init (n bytes of a passive segment: n > 8 traps) / memory.copy.
  (func (export "mem_ops") (param $n i32) (result i32)
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 64))
    (memory.init $d0 (i32.const 0) (i32.const 0) (local.get $n))
    (memory.copy (i32.const 16) (i32.const 0) (i32.const 8))
    (memory.copy (i32.const 2) (i32.const 0) (i32.const 6))
    (memory.fill (i32.const 24) (i32.const 9) (i32.const 4))
    (call $sum (i32.const 0) (i32.const 32)))
  ;; A dropped segment reads as empty: traps unless n == 0.
  (func (export "init_dropped") (param $n i32) (result i32)
    (data.drop $d1)
    (memory.init $d1 (i32.const 0) (i32.const 0) (local.get $n))
    (i32.const 1))
  ;; Active data is applied at instantiation (and then dropped: data index 2).
  (func (export "peek") (param $a i32) (result i32) (i32.load8_u (local.get $a)))
  (func (export "init_active") (param $n i32) (result i32)
    (memory.init 2 (i32.const 0) (i32.const 0) (local.get $n))
    (i32.const 1))
  ;; table.init from a passive segment, table.copy, then call_indirect slot i.
  (func (export "table_ops") (param $i i32) (param $x i32) (result i32)
    (table.init $t $e0 (i32.const 1) (i32.const 0) (i32.const 3))
    (table.copy (i32.const 0) (i32.const 2) (i32.const 1))
    (call_indirect (type $ii) (local.get $x) (local.get $i)))
  ;; table.fill with null, then call_indirect slot i (slot 3: uninitialized element).
  (func (export "table_null") (param $i i32) (param $x i32) (result i32)
    (table.init $t $e0 (i32.const 1) (i32.const 0) (i32.const 3))
    (table.copy (i32.const 0) (i32.const 2) (i32.const 1))
    (table.fill $t (i32.const 3) (ref.null func) (i32.const 1))
    (call_indirect (type $ii) (local.get $x) (local.get $i)))
  ;; The active element segment, restored, and a funcref global stored into the table.
  (func (export "table_global") (param $x i32) (result i32)
    (table.set $t (i32.const 0) (global.get $r))
    (call_indirect (type $ii) (local.get $x) (i32.const 0)))
  ;; elem.drop then table.init of that segment: traps unless n == 0.
  (func (export "elem_dropped") (param $n i32) (result i32)
    (elem.drop $e1)
    (table.init $t $e1 (i32.const 0) (i32.const 0) (local.get $n))
    (i32.const 1))
  ;; table.init past the segment's end traps.
  (func (export "table_oob") (param $src i32) (result i32)
    (table.init $t $e0 (i32.const 0) (local.get $src) (i32.const 2))
    (i32.const 1))
  (func (export "glob") (param $x i32) (result i32)
    (global.set $g (i32.add (local.get $x) (i32.const 1)))
    (i32.mul (global.get $g) (i32.const 2)))
  ;; Stateful: grow memory / the table by n (old size, or -1).
  (func (export "grow") (param $n i32) (result i32) (memory.grow (local.get $n)))
  (func (export "tgrow") (param $n i32) (result i32)
    (table.grow $t (ref.func $f1) (local.get $n))))
