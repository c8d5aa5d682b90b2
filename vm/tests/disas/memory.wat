;; Loads and stores on memory 0 with guard pages: one instruction each, offsets folded,
;; a large offset added first; extending loads; a store of a constant.
(module
  (memory 1)
  (func (export "load") (param i32) (result i32)
    (i32.load offset=8 (local.get 0)))
  (func (export "load8_s") (param i32) (result i64)
    (i64.load8_s (local.get 0)))
  (func (export "big_offset") (param i32) (result i32)
    (i32.load offset=0x80000000 (local.get 0)))
  (func (export "store") (param i32 i64)
    (i64.store offset=16 (local.get 0) (local.get 1))
    (i32.store8 (local.get 0) (i32.const 7)))
  (func (export "flag_test") (param i32) (result i32)
    (if (result i32) (i32.and (i32.load8_u offset=17 (local.get 0)) (i32.const 0x20))
      (then (i32.const 1)) (else (i32.const 2)))))
