;; sum_to_n(n) = 1 + 2 + ... + n as i64 (0 for n <= 0), computed by a counting loop
;; (one back-edge per term; no closed form).
(module
  (func (export "sum_to_n") (param $n i32) (result i64)
    (local $i i32) (local $acc i64)
    (local.set $i (i32.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.gt_s (local.get $i) (local.get $n)))
        (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_s (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc)))
