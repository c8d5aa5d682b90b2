;; With AVX, a copy and the two-operand instruction after it are one three-operand
;; (VEX) instruction; with AVX2, 8- and 16-bit splats are one vpbroadcast. Each function
;; keeps an operand alive past the operation that would otherwise overwrite its copy.
(module
  (func (export "add_keep") (param $a v128) (param $b v128) (result v128)
    (i32x4.mul (i32x4.add (local.get $a) (local.get $b)) (local.get $a)))
  (func (export "sub_keep") (param $a v128) (param $b v128) (result v128)
    (v128.and (i8x16.sub (local.get $a) (local.get $b)) (local.get $a)))
  (func (export "shift_keep") (param $a v128) (result v128)
    (i16x8.add (i16x8.shl (local.get $a) (i32.const 3)) (local.get $a)))
  (func (export "compare_keep") (param $a v128) (param $b v128) (result v128)
    (v128.or (f32x4.lt (local.get $a) (local.get $b)) (local.get $a)))
  (func (export "scalar_keep") (param $x f64) (param $y f64) (result f64)
    (f64.add (f64.mul (local.get $x) (local.get $y)) (local.get $x)))
  (func (export "scalar32_keep") (param $x f32) (param $y f32) (result f32)
    (f32.sub (f32.div (local.get $x) (local.get $y)) (local.get $y)))
  (func (export "splat8") (param $x i32) (result v128)
    (i8x16.splat (local.get $x)))
  (func (export "splat16") (param $x i32) (result v128)
    (i16x8.splat (local.get $x))))
