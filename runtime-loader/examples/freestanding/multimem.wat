;; Multi-memory through the C API (issue #16 item 3): three memories (the third memory64),
;; a data segment into memory 1, stores per memory, memory.grow of memory 1, a copy from
;; memory 2 into memory 1, and an access out of bounds on memory 1 that is in bounds on
;; memory 0; the host reads and writes memory 1 with bf_memory_read_mem/bf_memory_write_mem.
(module
  (memory $m0 (export "memory") 2)
  (memory $m1 (export "second") 1 2)
  (memory $m2 i64 1)
  (data (memory $m1) (i32.const 16) "\2a\00\00\00")
  (func (export "load0") (param i32) (result i32) (i32.load $m0 (local.get 0)))
  (func (export "load1") (param i32) (result i32) (i32.load $m1 (local.get 0)))
  (func (export "store1") (param i32 i32) (result i32)
    (i32.store $m1 (local.get 0) (local.get 1))
    (i32.load $m1 (local.get 0)))
  (func (export "store2_copy") (param i64 i32 i32) (result i32)
    (i32.store $m2 (local.get 0) (local.get 1))
    (memory.copy $m1 $m2 (local.get 2) (local.get 0) (i32.const 4))
    (i32.load $m1 (local.get 2)))
  (func (export "grow1") (param i32) (result i32) (memory.grow $m1 (local.get 0)))
  (func (export "size1") (result i32) (memory.size $m1)))
