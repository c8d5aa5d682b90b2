;; A branch on a value an ALU operation just computed uses that operation's flags: no
;; `test` after the `sub` of a countdown (computed with `sub`, not `lea`, for this) or
;; after an `and` whose result is also used.
(module
  (func (export "count_down") (param $n i32) (result i32)
    (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (local.get $n)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $acc))
  (func (export "and_or_seven") (param i32 i32) (result i32)
    (local $x i32)
    (if (result i32) (i32.ne (local.tee $x (i32.and (local.get 0) (local.get 1))) (i32.const 0))
      (then (local.get $x))
      (else (i32.const 7)))))
