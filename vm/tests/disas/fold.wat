;; Loads used once by an ALU operation or compare of the same block become its memory
;; operand (`cmp dword [r15+...], imm`, `add reg, [r15+...]`), unless a store, call or
;; possible trap lies between the load and its user (`store_between` keeps its load).
;; Narrow zero-extending loads tested against a mask become `test byte/word [...], imm`.
(module
  (memory 1)
  (func (export "sum_if") (param $p i32) (param $q i32) (result i32)
    (if (result i32) (i32.lt_s (i32.load offset=4 (local.get $p)) (i32.const 10))
      (then (i32.add (local.get $q) (i32.load offset=8 (local.get $p))))
      (else (i32.sub (local.get $q) (i32.load offset=8 (local.get $p))))))
  (func (export "cmp_reg") (param $p i32) (param $x i64) (result i32)
    (i64.gt_u (i64.load (local.get $p)) (local.get $x)))
  (func (export "store_between") (param $p i32) (result i32)
    (local $old i32)
    (local.set $old (i32.load (local.get $p)))
    (i32.store (local.get $p) (i32.const 1000))
    (i32.add (local.get $old) (i32.const 1)))
  (func (export "flags") (param $p i32) (result i32)
    (if (result i32) (i32.and (i32.load16_u offset=10 (local.get $p)) (i32.const 0x0201))
      (then (i32.const 1))
      (else (i32.eqz (i32.and (i32.load8_u offset=3 (local.get $p)) (i32.const 4)))))))
