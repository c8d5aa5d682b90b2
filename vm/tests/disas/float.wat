;; Floats: arithmetic, min with Wasm's NaN and zero rules, compares, trapping and
;; saturating truncation, unsigned conversion.
(module
  (func (export "fma_ish") (param f64 f64 f64) (result f64)
    (f64.add (f64.mul (local.get 0) (local.get 1)) (local.get 2)))
  (func (export "min") (param f32 f32) (result f32)
    (f32.min (local.get 0) (local.get 1)))
  (func (export "lt") (param f64 f64) (result i32)
    (f64.lt (local.get 0) (local.get 1)))
  (func (export "trunc") (param f64) (result i32)
    (i32.trunc_f64_s (local.get 0)))
  (func (export "trunc_sat_u") (param f32) (result i64)
    (i64.trunc_sat_f32_u (local.get 0)))
  (func (export "convert_u64") (param i64) (result f64)
    (f64.convert_i64_u (local.get 0))))
