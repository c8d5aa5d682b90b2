;; The scalar half of the SIMD benchmark kernels (benches/simd_kernels.rs): the functions
;; of simd.wat written without vector instructions, one byte or one f32 per iteration,
;; as a compiler targeting Wasm without SIMD would emit them.
;;
;; count_byte(ptr, len, byte) -> i32: how many of the `len` bytes at `ptr` equal `byte`.
;; dot_f32(a, b, n) -> f32: the dot product of the `n` f32s at `a` and at `b`, summed in
;;   index order.
(module
  (memory (export "memory") 2)

  (func (export "count_byte") (param $p i32) (param $len i32) (param $byte i32) (result i32)
    (local $end i32) (local $n i32)
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (local.set $byte (i32.and (local.get $byte) (i32.const 255)))
    (block $done
      (loop $bytes
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $n
          (i32.add (local.get $n) (i32.eq (i32.load8_u (local.get $p)) (local.get $byte))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $bytes)))
    (local.get $n))

  (func (export "dot_f32") (param $a i32) (param $b i32) (param $n i32) (result f32)
    (local $i i32) (local $sum f32) (local $at i32)
    (block $done
      (loop $elements
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (local.set $sum
          (f32.add (local.get $sum)
            (f32.mul (f32.load (i32.add (local.get $a) (local.get $at)))
                     (f32.load (i32.add (local.get $b) (local.get $at))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $elements)))
    (local.get $sum)))
