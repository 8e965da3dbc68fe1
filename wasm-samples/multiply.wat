;; multiply(a, b) = a * b (wrapping i32) by repeated addition: adds a to an accumulator
;; b times. Defined for b >= 0 (returns 0 when b <= 0).
(module
  (func (export "multiply") (param $a i32) (param $b i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.le_s (local.get $b) (i32.const 0)))
        (local.set $acc (i32.add (local.get $acc) (local.get $a)))
        (local.set $b (i32.sub (local.get $b) (i32.const 1)))
        (br $next)))
    (local.get $acc)))
