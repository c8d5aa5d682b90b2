;; The SIMD half of the SIMD benchmark kernels (benches/simd_kernels.rs). scalar.wat has
;; the same two functions without vector instructions, and simd_kernels.rs a native Rust
;; twin of each, so the three can be timed on the same data and checked against each other.
;;
;; count_byte(ptr, len, byte) -> i32: how many of the `len` bytes at `ptr` equal `byte`
;;   (the loop of memchr, strlen or a delimiter count). Here 16 bytes per iteration:
;;   i8x16.eq against a splat of the byte, i8x16.bitmask, i32.popcnt; the tail bytewise.
;;
;; dot_f32(a, b, n) -> f32: the dot product of the `n` f32s at `a` and at `b`. Here four
;;   products per iteration in the lanes of one accumulator (f32x4.mul, f32x4.add), the
;;   lanes added at the end, the tail elementwise. The additions happen in another order
;;   than in the scalar twin, so the benchmark uses inputs whose sums are exact.
(module
  (memory (export "memory") 2)

  (func (export "count_byte") (param $p i32) (param $len i32) (param $byte i32) (result i32)
    (local $end i32) (local $vend i32) (local $needle v128) (local $n i32)
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (local.set $vend (i32.add (local.get $p) (i32.and (local.get $len) (i32.const -16))))
    (local.set $needle (i8x16.splat (local.get $byte)))
    (block $vectors_done
      (loop $vectors
        (br_if $vectors_done (i32.ge_u (local.get $p) (local.get $vend)))
        (local.set $n
          (i32.add (local.get $n)
            (i32.popcnt
              (i8x16.bitmask (i8x16.eq (v128.load (local.get $p)) (local.get $needle))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vectors)))
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
    (local $i i32) (local $vn i32) (local $acc v128) (local $sum f32) (local $at i32)
    (local.set $vn (i32.and (local.get $n) (i32.const -4)))
    (block $vectors_done
      (loop $vectors
        (br_if $vectors_done (i32.ge_u (local.get $i) (local.get $vn)))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (local.set $acc
          (f32x4.add (local.get $acc)
            (f32x4.mul (v128.load (i32.add (local.get $a) (local.get $at)))
                       (v128.load (i32.add (local.get $b) (local.get $at))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vectors)))
    (local.set $sum
      (f32.add
        (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
        (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
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
