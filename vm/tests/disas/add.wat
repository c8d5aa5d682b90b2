;; Integer arithmetic: lea for add, immediates, two-address forms.
(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "add_imm") (param i64) (result i64)
    (i64.add (local.get 0) (i64.const 42)))
  (func (export "mul_sub") (param i32 i32) (result i32)
    (i32.sub (i32.mul (local.get 0) (i32.const 40)) (local.get 1)))
  (func (export "shifts") (param i32 i32) (result i32)
    (i32.or (i32.shl (local.get 0) (i32.const 3)) (i32.shr_u (local.get 0) (local.get 1)))))
