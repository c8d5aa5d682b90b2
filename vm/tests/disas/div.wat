;; Division: the zero and overflow checks, rem_s by -1, unsigned division by a power of 2.
(module
  (func (export "div_s") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func (export "rem_s") (param i64 i64) (result i64)
    (i64.rem_s (local.get 0) (local.get 1)))
  (func (export "div_u_8") (param i32) (result i32)
    (i32.div_u (local.get 0) (i32.const 8)))
  (func (export "rem_u_const") (param i32) (result i32)
    (i32.rem_u (local.get 0) (i32.const 10))))
