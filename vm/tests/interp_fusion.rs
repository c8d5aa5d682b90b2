//! The interpreter's fused ops (compare-and-branch on `i32.and` and on loads, a counter
//! stepped and tested, `base + (index << k)`, loads whose address is an `i32.add`), the
//! `br_table` shortcut and the zeroing of a few locals on entry: each shape runs on the
//! interpreter and on the compiler (where there is one) and must give the answers the
//! specification does, wrapping addresses and traps included.

use sandlite_vm::{
    Config, Engine, Error, Instance, Linker, Module, Store, Strategy, TrapCode, Val,
};

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("lex");
    let mut module = wast::parser::parse::<wast::Wat<'_>>(&buf).expect("parse");
    module.encode().expect("encode")
}

const MODULE: &str = r#"
(module
  (memory 1)
  ;; bytes 0..16: 0x81 0x82 ... 0x90
  (data (i32.const 0) "\81\82\83\84\85\86\87\88\89\8a\8b\8c\8d\8e\8f\90")
  (data (i32.const 100) "\00\00\00\00\07\00\00\00")

  (func (export "load_add_imm") (param i32) (result i32)
    (i32.load offset=8 (i32.add (local.get 0) (i32.const -4))))
  (func (export "load_add_imm_wrap") (param i32) (result i32)
    (i32.load8_u (i32.add (local.get 0) (i32.const 16))))
  (func (export "load_add_imm_kinds") (param i32) (result i64)
    (local $sum i64)
    (local.set $sum (i64.load offset=1 (i32.add (local.get 0) (i32.const 2))))
    (local.set $sum (i64.add (local.get $sum)
      (i64.extend_i32_u (i32.load16_s (i32.add (local.get 0) (i32.const 1))))))
    (local.set $sum (i64.add (local.get $sum)
      (i64.extend_i32_u (i32.load16_u offset=2 (i32.add (local.get 0) (i32.const 1))))))
    (i64.add (local.get $sum)
      (i64.extend_i32_u (i32.load8_s (i32.add (local.get 0) (i32.const 3))))))
  (func (export "load_add") (param i32 i32) (result i32)
    (i32.load8_s offset=1 (i32.add (local.get 0) (local.get 1))))
  (func (export "load_add_kinds") (param i32 i32) (result i64)
    (i64.add
      (i64.load (i32.add (local.get 0) (local.get 1)))
      (i64.extend_i32_u (i32.add
        (i32.load (i32.add (local.get 0) (local.get 1)))
        (i32.add (i32.load8_u offset=3 (i32.add (local.get 1) (local.get 0)))
                 (i32.add (i32.load16_u (i32.add (local.get 0) (local.get 1)))
                          (i32.load16_s (i32.add (local.get 0) (local.get 1)))))))))
  (func (export "add_shl") (param i32 i32) (result i32)
    (i32.xor
      (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 34)))
      (i32.add (i32.shl (local.get 1) (i32.const 3)) (local.get 0))))
  (func (export "and_branch") (param i32) (result i32)
    (local $r i32)
    (if (i32.and (local.get 0) (i32.const 4))
      (then (local.set $r (i32.const 10))))
    (block
      (br_if 0 (i32.and (local.get 0) (i32.const 1)))
      (local.set $r (i32.add (local.get $r) (i32.const 100))))
    (local.get $r))
  ;; `select` as one op: from locals, temporaries and constants, into the local one of
  ;; them came from, of each one-slot type; a v128 select keeps the two-op form
  (func (export "selects") (param i32 i32 i32) (result i64)
    (local $wide i64) (local $f f64) (local $v v128)
    (local.set 0 (select (local.get 0) (local.get 1) (local.get 2)))
    (local.set $wide (select (i64.extend_i32_u (local.get 1)) (i64.const -5)
      (i32.and (local.get 2) (i32.const 2))))
    (local.set $f (select (f64.const 0.5) (f64.convert_i32_s (local.get 0))
      (i32.eqz (local.get 2))))
    (local.set $v (select (i32x4.splat (local.get 0)) (i32x4.splat (local.get 1))
      (local.get 2)))
    (i64.add
      (i64.add (i64.mul (i64.extend_i32_s (local.get 0)) (i64.const 1000))
               (local.get $wide))
      (i64.add (i64.trunc_f64_s (f64.mul (local.get $f) (f64.const 4)))
               (i64.mul (i64.extend_i32_s (i32x4.extract_lane 3 (local.get $v)))
                        (i64.const 1000000)))))
  ;; a counter stepped by `step` until it equals `end` (`i != n` loops), summing it;
  ;; the step and the test are one joined op
  (func (export "step_until") (param $i i32) (param $end i32) (result i32)
    (local $sum i32)
    (loop
      (local.set $sum (i32.add (local.get $sum) (local.get $i)))
      (br_if 0 (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const -3)))
                       (local.get $end))))
    (local.get $sum))
  ;; `i64.and` of a zero-extended i32 and a constant (sign-extended to 64 bits)
  (func (export "masked_extend") (param i32) (result i64)
    (i64.add
      (i64.mul (i64.and (i64.extend_i32_u (local.get 0)) (i64.const -16)) (i64.const 3))
      (i64.and (i64.const 0x7fff_ff0f) (i64.extend_i32_u (local.get 0)))))
  ;; the same tests on bytes at `x + C` (the add wraps before the offset)
  (func (export "load_add_branch") (param i32) (result i32)
    (local $r i32)
    (if (i32.load8_u offset=2 (i32.add (local.get 0) (i32.const 3)))
      (then (local.set $r (i32.const 1))))
    (block
      (br_if 0 (i32.load8_u offset=1 (i32.add (local.get 0) (i32.const -1))))
      (local.set $r (i32.add (local.get $r) (i32.const 2))))
    (block
      (br_if 0 (i32.eqz (i32.load8_u (i32.add (local.get 0) (i32.const 100)))))
      (local.set $r (i32.add (local.get $r) (i32.const 4))))
    (local.get $r))
  (func (export "load_branch") (param i32) (result i32)
    (local $r i32)
    (if (i32.load8_u (local.get 0)) (then (local.set $r (i32.const 1))))
    (block
      (br_if 0 (i32.load offset=100 (local.get 0)))
      (local.set $r (i32.add (local.get $r) (i32.const 2))))
    (block
      (br_if 0 (i32.eqz (i32.load8_u offset=1 (local.get 0))))
      (local.set $r (i32.add (local.get $r) (i32.const 4))))
    (local.get $r))
  ;; 3 per step of a counter stepped down in place and tested by `br_if`, then 1000 per
  ;; nonzero value of a second counter stepped up and tested by `if`
  (func (export "count") (param i32 i32) (result i32)
    (local $sum i32)
    (loop
      (local.set $sum (i32.add (local.get $sum) (i32.const 3)))
      (br_if 0 (local.tee 0 (i32.add (local.get 0) (i32.const -1)))))
    (loop
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (local.get 1)
      (if (then
        (local.set $sum (i32.add (local.get $sum) (i32.const 1000)))
        (br 1))))
    (local.get $sum))
  ;; an `if` on a stepped counter while an older copy of it waits on the stack
  (func (export "step_alias") (param i32) (result i32)
    (local.set 0 (i32.add (local.get 0) (i32.const -1)))
    (local.get 0)
    (local.get 0)
    (if (result i32) (then (i32.const 100)) (else (i32.const 200)))
    (i32.add))
  (func (export "table") (param i32) (result i32)
    (local $n i32)
    (block $out
      (loop $again
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (block $two
          (block $one
            (block $zero
              (br_table $zero $one $two $again $out (local.get 0)))
            (return (i32.add (local.get $n) (i32.const 10))))
          (return (i32.add (local.get $n) (i32.const 20))))
        (local.set 0 (i32.const 1))
        (br $again)))
    (i32.const -1))
  (func $locals (param i32) (result i32)
    (local i32 i32 i32 i64 i32)
    (local.set 1 (i32.add (local.get 1) (local.get 0)))
    (local.set 2 (i32.add (local.get 2) (local.get 1)))
    (local.set 3 (i32.add (local.get 3) (local.get 2)))
    (local.set 4 (i64.add (local.get 4) (i64.extend_i32_u (local.get 3))))
    (local.set 5 (i32.add (local.get 5) (i32.wrap_i64 (local.get 4))))
    (local.get 5))
  (func $one_local (param i32) (result i32)
    (local i32)
    (local.set 1 (i32.add (local.get 1) (local.get 0)))
    (local.get 1))
;; wasi-libc's byte-wise memcmp: two byte loads compared by a branch
  (func (export "memcmp") (param i32 i32 i32) (result i32)
    (local i32 i32)
    (block $done
      (br_if $done (i32.eqz (local.get 2)))
      (loop $next
        (br_if $done (i32.ne (local.tee 3 (i32.load8_u (local.get 0)))
                             (local.tee 4 (i32.load8_u (local.get 1)))))
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (local.set 0 (i32.add (local.get 0) (i32.const 1)))
        (br_if $next (local.tee 2 (i32.add (local.get 2) (i32.const -1)))))
      (return (i32.const 0)))
    (i32.sub (local.get 3) (local.get 4)))
  ;; the same with temporaries only: counts equal leading bytes
  (func (export "common") (param i32 i32 i32) (result i32)
    (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get 2)))
        (br_if $done (i32.ne (i32.load8_u (local.get 0)) (i32.load8_u (local.get 1))))
        (local.set 0 (i32.add (local.get 0) (i32.const 1)))
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (local.set 2 (i32.sub (local.get 2) (i32.const 1)))
        (br $next)))
    (local.get $n))
  ;; `if` on equal bytes (the negated branch), and the second address loaded first
  (func (export "same_byte") (param i32 i32) (result i32)
    (if (result i32) (i32.eq (i32.load8_u (local.get 0)) (i32.load8_u (local.get 1)))
      (then (i32.const 1)) (else (i32.const 2))))
;; the second load's address is the byte the first one loaded into a local
  (func (export "chase") (param i32) (result i32)
    (local i32)
    (if (result i32) (i32.ne (local.tee 1 (i32.load8_u (local.get 0)))
                             (i32.load8_u (local.get 1)))
      (then (i32.add (local.get 1) (i32.const 1000)))
      (else (local.get 1))))
;; `i32.eqz` of a condition, branched on; each returns which way it went
  (func (export "eqz_and") (param i32) (result i32)
    (block (br_if 0 (i32.eqz (i32.and (local.get 0) (i32.const 0x10))))
      (return (i32.const 1)))
    (i32.const 2))
  (func (export "eqz_load") (param i32) (result i32)
    (if (result i32) (i32.eqz (i32.load offset=1 (local.get 0)))
      (then (i32.const 1)) (else (i32.const 2))))
  (func (export "eqz_byte") (param i32) (result i32)
    (block (br_if 0 (i32.eqz (i32.load8_u (local.get 0))))
      (return (i32.const 1)))
    (i32.const 2))
  (func (export "eqz_lt") (param i32 i32) (result i32)
    (block (br_if 0 (i32.eqz (i32.lt_u (local.get 0) (local.get 1))))
      (return (i32.const 1)))
    (i32.const 2))
  (func (export "eqz_kept") (param i32) (result i32) (local i32)
    (block (br_if 0 (i32.eqz (local.tee 1 (i32.and (local.get 0) (i32.const 6)))))
      (return (local.get 1)))
    (i32.const 100))
;; the stack-pointer prologue and epilogue of clang's code, around a store to the
  ;; frame; returns the frame address plus what the frame held
  (global $sp (export "sp") (mut i32) (i32.const 4096))
  (global $other (mut i32) (i32.const 7))
  (func $framed (export "framed") (param i32) (result i32)
    (local $fp i32)
    (global.set $sp (local.tee $fp (i32.sub (global.get $sp) (i32.const 32))))
    (i32.store offset=8 (local.get $fp) (local.get 0))
    (if (i32.gt_s (local.get 0) (i32.const 0))
      (then (drop (call $framed (i32.sub (local.get 0) (i32.const 1))))))
    (global.set $sp (i32.add (local.get $fp) (i32.const 32)))
    (i32.add (local.get $fp) (i32.load offset=8 (local.get $fp))))
;; a sieve's marking loop: bytes at 300 + j set to 1 and the i32 step stored at 2000 +
  ;; j + 2, for j = start, start + step, ... while j <= limit (unsigned); returns the sum of
  ;; the bytes at 300 .. 300 + limit and the last i32 stored.
  (func (export "stride_marks") (param $j i32) (param $step i32) (param $limit i32)
    (result i32)
    (local $k i32) (local $sum i32)
    (loop $mark
      (i32.store8 (i32.add (local.get $j) (i32.const 300)) (i32.const 1))
      (i32.store offset=2 (i32.add (local.get $j) (i32.const 2000)) (local.get $step))
      (br_if $mark (i32.le_u (local.tee $j (i32.add (local.get $j) (local.get $step)))
                             (local.get $limit))))
    (loop $add
      (local.set $sum (i32.add (local.get $sum)
        (i32.load8_u offset=300 (local.get $k))))
      (br_if $add (i32.le_u (local.tee $k (i32.add (local.get $k) (i32.const 1)))
                            (local.get $limit))))
    (i32.add (i32.mul (local.get $sum) (i32.const 1000))
             (i32.load offset=2 (i32.sub (i32.add (local.get $j) (i32.const 2000))
                                         (local.get $step)))))
;; a framed function returning a local after its epilogue (one op on the interpreter):
  ;; n + (n - 1) + ... + 0, each term kept in the callee's frame
  (func $framed_sum (export "framed_sum") (param i32) (result i32)
    (local $fp i32) (local $r i32)
    (global.set $sp (local.tee $fp (i32.sub (global.get $sp) (i32.const 48))))
    (i32.store offset=4 (local.get $fp) (local.get 0))
    (if (i32.gt_s (local.get 0) (i32.const 0))
      (then (local.set $r (call $framed_sum (i32.sub (local.get 0) (i32.const 1))))))
    (local.set $r (i32.add (local.get $r) (i32.load offset=4 (local.get $fp))))
    (global.set $sp (i32.add (local.get $fp) (i32.const 48)))
    (local.get $r))
  ;; the same shapes across two globals (not a prologue) and with a label in between
  (func (export "not_prologue") (param i32) (result i32)
    (local $x i32)
    (global.set $other (local.tee $x (i32.add (global.get $sp) (i32.const 5))))
    (global.get $sp)
    (block (param i32) (result i32) (i32.add (i32.const -3)))
    (local.tee $x)
    (global.set $sp)
    (i32.add (local.get $x) (global.get $other)))
  (func (export "other") (result i32) (global.get $other))
  ;; Joined pairs (two ops in one dispatch): the second half reads the first's result.
  ;; `*(*(p + 4) + 8)`: the second load's address is the first's result.
  (func (export "load_chain") (param i32) (result i32)
    (local i32)
    (local.set 1 (i32.load offset=4 (local.get 0)))
    (local.set 1 (i32.load offset=8 (local.get 1)))
    (local.get 1))
  ;; Three copies rotate a, b, c: each reads what the one before it wrote.
  (func (export "rotate") (param i32 i32 i32) (result i32)
    (local i32)
    (local.set 3 (local.get 0))
    (local.set 0 (local.get 1))
    (local.set 1 (local.get 2))
    (local.set 2 (local.get 3))
    (i32.add (i32.mul (local.get 0) (i32.const 100))
      (i32.add (i32.mul (local.get 1) (i32.const 10)) (local.get 2))))
  ;; x += 1; y = x + 2, as two adds into locals, wrapping.
  (func (export "add_chain") (param i32) (result i32)
    (local i32)
    (local.set 0 (i32.add (local.get 0) (i32.const 1)))
    (local.set 1 (i32.add (local.get 0) (i32.const 2)))
    (i32.add (i32.mul (local.get 0) (i32.const 1000)) (local.get 1)))
  ;; A loop with its test at the top: the step and the back edge are one op.
  (func (export "sum_below") (param i32) (result i32)
    (local i32 i32)
    (block
      (loop
        (br_if 1 (i32.ge_u (local.get 1) (local.get 0)))
        (local.set 2 (i32.add (local.get 2) (local.get 1)))
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (br 0)))
    (local.get 2))
  ;; memcmp's shape: two pointers stepped, then a count stepped and tested.
  (func (export "byte_sum") (param i32 i32 i32) (result i32)
    (local i32)
    (loop
      (local.set 3 (i32.add (local.get 3)
        (i32.sub (i32.load8_u (local.get 0)) (i32.load8_u (local.get 1)))))
      (local.set 0 (i32.add (local.get 0) (i32.const 1)))
      (local.set 1 (i32.add (local.get 1) (i32.const 2)))
      (br_if 0 (local.tee 2 (i32.add (local.get 2) (i32.const -1)))))
    (local.get 3))
  ;; One pointer stepped, then the count stepped and tested: one op.
  (func (export "byte_total") (param i32 i32) (result i32)
    (local i32)
    (loop
      (local.set 2 (i32.add (local.get 2) (i32.load8_u (local.get 0))))
      (local.set 0 (i32.add (local.get 0) (i32.const 1)))
      (br_if 0 (local.tee 1 (i32.add (local.get 1) (i32.const -1)))))
    (local.get 2))
  ;; A loaded value kept in a local and tested (joined into one op): `-1` when zero.
  (func (export "load_test") (param i32) (result i32)
    (local i32)
    (block (br_if 0 (i32.eqz (local.tee 1 (i32.load offset=100 (local.get 0)))))
      (return (local.get 1)))
    (i32.const -1))
  ;; `br_table` on a loaded byte (one op on the interpreter).
  (data (i32.const 200) "\00\01\02\05")
  (func (export "byte_switch") (param i32) (result i32)
    (block $d (block $c2 (block $c1 (block $c0
      (br_table $c0 $c1 $c2 $d (i32.load8_u offset=200 (local.get 0))))
      (return (i32.const 10)))
      (return (i32.const 11)))
      (return (i32.const 12)))
    (i32.const -1))
  ;; the same with the byte kept in a local (`local.tee`), as SQLite's VDBE keeps its
  ;; opcode: every case reads the local back.
  (func (export "byte_switch_kept") (param i32) (result i32)
    (local $op i32)
    (block $d (block $c2 (block $c1 (block $c0
      (br_table $c0 $c1 $c2 $d (local.tee $op (i32.load8_u offset=200 (local.get 0)))))
      (return (i32.add (local.get $op) (i32.const 10))))
      (return (i32.add (local.get $op) (i32.const 20))))
      (return (i32.add (local.get $op) (i32.const 30))))
    (i32.sub (i32.const 100) (local.get $op)))
  ;; a sum of products (matmul's inner loop): two f64 loads side by side, and an add of
  ;; the add before it; at $p: a0, a1, b0, b1 = x, 0.25, 3, -2
  (func (export "dot2") (param $p i32) (param $x i32) (result i64)
    (local $sum f64)
    (f64.store (local.get $p) (f64.convert_i32_s (local.get $x)))
    (f64.store offset=8 (local.get $p) (f64.const 0.25))
    (f64.store offset=16 (local.get $p) (f64.const 3))
    (f64.store offset=24 (local.get $p) (f64.const -2))
    (local.set $sum (f64.const 0.75))
    (i64.reinterpret_f64
      (f64.add (f64.mul (f64.load (local.get $p)) (f64.load offset=16 (local.get $p)))
        (f64.add (f64.mul (f64.load offset=8 (local.get $p)) (f64.load offset=24 (local.get $p)))
                 (local.get $sum)))))
  ;; y = a0 + a1, then y + y: the second add reads the first's result on both sides
  (func (export "double_sum") (param $p i32) (result i64)
    (local $y f64)
    (local.set $y (f64.add (f64.load (local.get $p)) (f64.load offset=8 (local.get $p))))
    (i64.reinterpret_f64 (f64.add (local.get $y) (local.get $y))))
  ;; zeros stored into locals: the first is no op on the interpreter (locals start at
  ;; zero), the others must run (after a write, in a loop, into a parameter)
  (func (export "zero_sets") (param $n i32) (result i32)
    (local $x i32) (local $acc i32) (local $i i32)
    (local.set $x (i32.const 0))
    (local.set $x (i32.add (local.get $x) (local.get $n)))
    (local.set $acc (i32.mul (local.get $x) (i32.const 100)))
    (local.set $x (i32.const 0))
    (loop $again
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 3)))
      (local.set $i (i32.const 0)))
    (local.set $n (i32.const 0))
    (i32.add (i32.add (local.get $acc) (local.get $x))
             (i32.add (local.get $i) (local.get $n))))
  (func (export "fresh_locals") (param i32) (result i32)
    (i32.add
      (i32.add (call $locals (local.get 0)) (call $locals (local.get 0)))
      (i32.add (call $one_local (local.get 0)) (call $one_local (local.get 0)))))
)
"#;

/// The engines to check: the interpreter, and the compiler where there is one.
fn engines() -> Vec<Engine> {
    let mut engines = vec![Engine::new(
        Config::default().strategy(Strategy::Interpreter),
    )];
    let compiler = Engine::new(Config::default().strategy(Strategy::Compiler));
    if Module::new(&compiler, wat("(module)")).is_ok() {
        engines.push(compiler);
    }
    engines
}

fn run(f: impl Fn(&mut Store<()>, Instance)) {
    let bytes = wat(MODULE);
    for engine in engines() {
        let module = Module::new(&engine, &bytes).expect("valid module");
        let mut store = Store::new(&engine, ());
        let inst = Linker::new(&engine)
            .instantiate(&mut store, &module)
            .expect("instantiate");
        f(&mut store, inst);
    }
}

fn call(store: &mut Store<()>, inst: Instance, name: &str, args: &[i32]) -> Result<Val, Error> {
    let f = inst.get_func(&*store, name).expect("exported function");
    let args: Vec<Val> = args.iter().map(|&a| Val::I32(a)).collect();
    let mut out = [Val::I32(0)];
    f.call(&mut *store, &args, &mut out)?;
    Ok(out[0])
}

fn i32_of(store: &mut Store<()>, inst: Instance, name: &str, args: &[i32]) -> i32 {
    call(store, inst, name, args)
        .expect("no trap")
        .i32()
        .expect("an i32")
}

fn i64_of(store: &mut Store<()>, inst: Instance, name: &str, args: &[i32]) -> i64 {
    call(store, inst, name, args)
        .expect("no trap")
        .i64()
        .expect("an i64")
}

fn trap_of(store: &mut Store<()>, inst: Instance, name: &str, args: &[i32]) -> TrapCode {
    let err = call(store, inst, name, args).expect_err("a trap");
    err.as_trap().expect("a trap, not another error").code()
}

/// The first 16 bytes of memory, as the data segment wrote them.
fn byte(at: u32) -> u8 {
    if at < 16 { 0x81 + at as u8 } else { 0 }
}

fn le(at: u32, n: u32) -> u64 {
    (0..n).fold(0, |v, i| v | u64::from(byte(at + i)) << (8 * i))
}

#[test]
fn loads_with_an_added_constant_wrap_the_address_before_the_offset() {
    run(|store, inst| {
        // (4 - 4) + 8
        assert_eq!(
            i32_of(store, inst, "load_add_imm", &[4]),
            le(8, 4) as u32 as i32
        );
        // 0 - 4 wraps to 0xffff_fffc; plus offset 8 is beyond memory, not address 4.
        assert_eq!(
            trap_of(store, inst, "load_add_imm", &[0]),
            TrapCode::MemoryOutOfBounds
        );
        // -16 + 16 wraps to address 0.
        assert_eq!(i32_of(store, inst, "load_add_imm_wrap", &[-16]), 0x81);
        assert_eq!(
            trap_of(store, inst, "load_add_imm_wrap", &[65536 - 16]),
            TrapCode::MemoryOutOfBounds
        );
        let p = 2;
        let want = le(p + 3, 8)
            .wrapping_add(u64::from(le(p + 1, 2) as u16 as i16 as i32 as u32))
            .wrapping_add(le(p + 3, 2))
            .wrapping_add(u64::from(byte(p + 3) as i8 as i32 as u32));
        assert_eq!(
            i64_of(store, inst, "load_add_imm_kinds", &[p as i32]),
            want as i64
        );
    });
}

#[test]
fn loads_with_an_added_register_wrap_and_trap() {
    run(|store, inst| {
        assert_eq!(
            i32_of(store, inst, "load_add", &[3, 4]),
            i32::from(byte(8) as i8)
        );
        // 0xffff_fff0 + 0x13 wraps to 3; offset 1.
        assert_eq!(
            i32_of(store, inst, "load_add", &[-16, 0x13]),
            i32::from(byte(4) as i8)
        );
        assert_eq!(
            trap_of(store, inst, "load_add", &[65535, 0]),
            TrapCode::MemoryOutOfBounds
        );
        let (a, b) = (1u32, 2u32);
        let p = a + b;
        let small = (le(p, 4) as u32)
            .wrapping_add(u32::from(byte(p + 3)))
            .wrapping_add(le(p, 2) as u32)
            .wrapping_add(le(p, 2) as u16 as i16 as i32 as u32);
        let want = le(p, 8).wrapping_add(u64::from(small));
        assert_eq!(
            i64_of(store, inst, "load_add_kinds", &[a as i32, b as i32]),
            want as i64
        );
    });
}

#[test]
fn shifted_index_added_to_a_base_on_either_side() {
    run(|store, inst| {
        for (a, b) in [(5i32, 7i32), (-1, 0x4000_0001), (0x7fff_ffff, -3), (0, 0)] {
            let want = a.wrapping_add(b << 2) ^ (b << 3).wrapping_add(a);
            assert_eq!(i32_of(store, inst, "add_shl", &[a, b]), want, "{a} {b}");
        }
    });
}

#[test]
fn branches_on_masked_bits_and_loaded_values() {
    run(|store, inst| {
        for x in 0..8 {
            let want = if x & 4 != 0 { 10 } else { 0 } + if x & 1 != 0 { 0 } else { 100 };
            assert_eq!(i32_of(store, inst, "and_branch", &[x]), want, "{x}");
        }
        // byte 0 is nonzero; the i32 at 100 is 0 (so +2); byte 1 is nonzero (so +4).
        assert_eq!(i32_of(store, inst, "load_branch", &[0]), 1 + 2 + 4);
        // at 4: byte 0x85; the i32 at 104 is 7; byte 5 nonzero.
        assert_eq!(i32_of(store, inst, "load_branch", &[4]), 1 + 4);
        // at 20: zero bytes; the i32 at 120 is 0.
        assert_eq!(i32_of(store, inst, "load_branch", &[20]), 2);
        assert_eq!(
            trap_of(store, inst, "load_branch", &[65536]),
            TrapCode::MemoryOutOfBounds
        );
        // The bytes the data segments wrote: 0..16, the 7 at 104 and 200..204.
        let mem = |at: u32| match at {
            104 => 7,
            200..204 => [0, 1, 2, 5][at as usize - 200],
            _ => byte(at),
        };
        for x in (1..24).chain(96..110) {
            let want = i32::from(mem(x + 5) != 0)
                + if mem(x) == 0 { 2 } else { 0 }
                + if mem(x + 100) != 0 { 4 } else { 0 };
            assert_eq!(
                i32_of(store, inst, "load_add_branch", &[x as i32]),
                want,
                "{x}"
            );
        }
        // `0 + -1` wraps to 0xffff_ffff before the offset 1 is added: out of bounds.
        assert_eq!(
            trap_of(store, inst, "load_add_branch", &[0]),
            TrapCode::MemoryOutOfBounds
        );
        assert_eq!(
            trap_of(store, inst, "load_add_branch", &[65536 - 5]),
            TrapCode::MemoryOutOfBounds
        );
    });
}

#[test]
fn selects_take_either_value() {
    run(|store, inst| {
        for (a, b, c) in [(3, 7, 1), (3, 7, 0), (-2, 9, 2), (-2, 9, 4), (5, 5, -1)] {
            let x = if c != 0 { a } else { b };
            let wide = if c & 2 != 0 { i64::from(b as u32) } else { -5 };
            let f = if c == 0 { 0.5 } else { f64::from(x) };
            let lane = if c != 0 { x } else { b };
            let want = i64::from(x) * 1000 + wide + (f * 4.0) as i64 + i64::from(lane) * 1_000_000;
            assert_eq!(
                i64_of(store, inst, "selects", &[a, b, c]),
                want,
                "{a} {b} {c}"
            );
        }
    });
}

#[test]
fn counters_stepped_to_a_bound_stop_there() {
    run(|store, inst| {
        // Down by 3 from `i` until `end`, wrapping through zero.
        for (i, end) in [(30, 0), (3, 0), (4, -5), (1, -2), (-7, -16)] {
            let mut want = 0i32;
            let mut x = i;
            loop {
                want = want.wrapping_add(x);
                x = x.wrapping_sub(3);
                if x == end {
                    break;
                }
            }
            assert_eq!(
                i32_of(store, inst, "step_until", &[i, end]),
                want,
                "{i} {end}"
            );
        }
    });
}

#[test]
fn masks_of_zero_extended_values_keep_the_high_half_zero() {
    run(|store, inst| {
        for x in [0u32, 1, 0x1f, 0x8000_0000, 0xffff_ffff, 0x1234_5678] {
            let want = ((u64::from(x) & !15) * 3 + (u64::from(x) & 0x7fff_ff0f)) as i64;
            assert_eq!(
                i64_of(store, inst, "masked_extend", &[x as i32]),
                want,
                "{x:#x}"
            );
        }
    });
}

#[test]
fn counters_stepped_in_place_and_tested() {
    run(|store, inst| {
        for (n, m) in [(1, -1), (5, -4), (300, -1000)] {
            // The second counter starts at `m` and counts up to 0: `-m - 1` nonzero steps.
            let want = 3 * n + 1000 * (-m - 1);
            assert_eq!(i32_of(store, inst, "count", &[n, m]), want, "{n} {m}");
        }
    });
}

#[test]
fn an_if_on_a_stepped_local_sees_the_new_value_in_older_copies() {
    run(|store, inst| {
        assert_eq!(i32_of(store, inst, "step_alias", &[1]), 200);
        assert_eq!(i32_of(store, inst, "step_alias", &[5]), 4 + 100);
        assert_eq!(i32_of(store, inst, "step_alias", &[0]), -1 + 100);
    });
}

#[test]
fn br_table_takes_each_entry_and_the_default() {
    run(|store, inst| {
        assert_eq!(i32_of(store, inst, "table", &[0]), 1 + 10);
        assert_eq!(i32_of(store, inst, "table", &[1]), 1 + 20);
        // `$two` falls out to a branch back to the loop with index 1.
        assert_eq!(i32_of(store, inst, "table", &[2]), 2 + 20);
        assert_eq!(i32_of(store, inst, "table", &[4]), -1);
        assert_eq!(i32_of(store, inst, "table", &[-7]), -1);
        for (at, want) in [(0, 10), (1, 11), (2, 12), (3, -1), (4, 10)] {
            assert_eq!(i32_of(store, inst, "byte_switch", &[at]), want, "{at}");
        }
        for (at, want) in [(0, 10), (1, 21), (2, 32), (3, 95), (4, 10)] {
            assert_eq!(i32_of(store, inst, "byte_switch_kept", &[at]), want, "{at}");
        }
        assert_eq!(
            trap_of(store, inst, "byte_switch_kept", &[65_536 - 200]),
            TrapCode::MemoryOutOfBounds
        );
        assert_eq!(
            trap_of(store, inst, "byte_switch", &[65_536 - 200]),
            TrapCode::MemoryOutOfBounds
        );
    });
}

#[test]
fn declared_locals_start_at_zero_on_every_call() {
    run(|store, inst| {
        // Twice each: the second call must not see the first's locals.
        for n in [5, 5, -2, -2] {
            assert_eq!(i32_of(store, inst, "zero_sets", &[n]), n * 100 + 3, "{n}");
        }
        // Each local adds the previous one to itself: from zero, every callee returns x;
        // locals left over from the first call would make the second return more.
        for x in [7i32, -3, 0x1234_5678] {
            let want = x.wrapping_mul(4);
            assert_eq!(i32_of(store, inst, "fresh_locals", &[x]), want, "{x}");
        }
    });
}

/// Loops whose branch targets the branch op itself (a `loop` with nothing before its
/// branch): the interpreter's dispatch must still see them as backward branches and
/// check for an interrupt, or an infinite loop could not be stopped.
#[test]
fn branches_to_themselves_are_interruptible() {
    const SPIN: &str = r#"
    (module
      (func (export "br") (loop $l (br $l)))
      (func (export "br_if") (param i32) (loop $l (br_if $l (local.get 0))))
      (func (export "br_table") (param i32) (loop $l (br_table $l $l (local.get 0))))
      (memory 1)
      (data (i32.const 0) "\00\07")
      (func (export "br_table_byte") (param i32)
        (loop $l (br_table $l $l (i32.load8_u (local.get 0)))))
      ;; A step and a back edge (joined into one op), and a step before a stepped
      ;; counter's test (joined too; 1 + 2k is never zero).
      (func (export "step") (param i32)
        (loop $l (local.set 0 (i32.add (local.get 0) (i32.const 1))) (br $l)))
      (func (export "step_test") (param i32) (local i32)
        (loop $l
          (local.set 1 (i32.add (local.get 1) (i32.const 1)))
          (br_if $l (local.tee 0 (i32.add (local.get 0) (i32.const 2)))))))
    "#;
    let engine = Engine::new(Config::default().strategy(Strategy::Interpreter));
    let module = Module::new(&engine, wat(SPIN)).expect("valid module");
    for name in [
        "br",
        "br_if",
        "br_table",
        "br_table_byte",
        "step",
        "step_test",
    ] {
        let (done, result) = std::sync::mpsc::channel();
        let mut store = Store::new(&engine, ());
        let inst = Linker::new(&engine)
            .instantiate(&mut store, &module)
            .expect("instantiate");
        let handle = store.interrupt_handle();
        std::thread::spawn(move || {
            let f = inst.get_func(&store, name).expect("exported function");
            let args: &[Val] = if name == "br" { &[] } else { &[Val::I32(1)] };
            let err = f.call(&mut store, args, &mut []).expect_err("interrupted");
            let code = err.as_trap().map(|t| t.code());
            done.send(code).expect("the test waits");
        });
        std::thread::sleep(std::time::Duration::from_millis(20));
        handle.interrupt();
        let code = result
            .recv_timeout(std::time::Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("`{name}` spin loop not interrupted"));
        assert_eq!(code, Some(TrapCode::Interrupted), "{name}");
    }
}

#[test]
fn eqz_of_conditions_branches_the_other_way_and_traps_like_the_load() {
    run(|store, inst| {
        assert_eq!(i32_of(store, inst, "eqz_and", &[0x10]), 1);
        assert_eq!(i32_of(store, inst, "eqz_and", &[0xef]), 2);
        // Memory: 0x81 + i at i for i < 16, zeros after.
        assert_eq!(i32_of(store, inst, "eqz_load", &[0]), 2); // 0x85848382
        assert_eq!(i32_of(store, inst, "eqz_load", &[20]), 1);
        assert_eq!(
            trap_of(store, inst, "eqz_load", &[65532]),
            TrapCode::MemoryOutOfBounds
        );
        assert_eq!(i32_of(store, inst, "eqz_load", &[65531]), 1);
        assert_eq!(i32_of(store, inst, "eqz_byte", &[15]), 1);
        assert_eq!(i32_of(store, inst, "eqz_byte", &[16]), 2);
        assert_eq!(
            trap_of(store, inst, "eqz_byte", &[65536]),
            TrapCode::MemoryOutOfBounds
        );
        assert_eq!(i32_of(store, inst, "eqz_lt", &[1, 2]), 1);
        assert_eq!(i32_of(store, inst, "eqz_lt", &[2, 2]), 2);
        assert_eq!(i32_of(store, inst, "eqz_lt", &[-1, 2]), 2);
        assert_eq!(i32_of(store, inst, "eqz_kept", &[5]), 4);
        assert_eq!(i32_of(store, inst, "eqz_kept", &[9]), 100);
    });
}

#[test]
fn byte_compare_branches_compare_and_trap_like_the_loads() {
    run(|store, inst| {
        // Memory: 0x81.. at 0..16, zeros after.
        assert_eq!(i32_of(store, inst, "memcmp", &[0, 0, 16]), 0);
        assert_eq!(i32_of(store, inst, "memcmp", &[0, 0, 0]), 0);
        // 0x81 vs 0x82 at once: the difference of the first bytes.
        assert_eq!(i32_of(store, inst, "memcmp", &[0, 1, 4]), -1);
        // byte 15 (0x90) vs byte 16 (0): equal zeros from 16 on.
        assert_eq!(i32_of(store, inst, "memcmp", &[15, 16, 3]), 0x90);
        assert_eq!(i32_of(store, inst, "memcmp", &[20, 30, 50]), 0);
        // b reaches the 7 at address 104 first.
        assert_eq!(i32_of(store, inst, "memcmp", &[20, 30, 100]), -7);
        // The loaded bytes are stored to locals too: the result needs them.
        assert_eq!(i32_of(store, inst, "memcmp", &[16, 0, 2]), -0x81);
        // A trap at either address, the first checked first.
        for (a, b) in [(65536, 0), (0, 65536), (65535, 65536), (-1, -1)] {
            assert_eq!(
                trap_of(store, inst, "memcmp", &[a, b, 5]),
                TrapCode::MemoryOutOfBounds,
                "{a} {b}"
            );
        }
        // 65530 .. 65535 equal (zeros), then one past the end.
        assert_eq!(
            trap_of(store, inst, "memcmp", &[65530, 65530, 10]),
            TrapCode::MemoryOutOfBounds
        );
        assert_eq!(i32_of(store, inst, "common", &[2, 2, 10]), 10);
        assert_eq!(i32_of(store, inst, "common", &[0, 1, 10]), 0);
        assert_eq!(i32_of(store, inst, "common", &[31, 30, 7]), 7);
        // Bytes 16.. (zeros) against 90..: equal up to the 7 at 104.
        assert_eq!(i32_of(store, inst, "common", &[16, 90, 20]), 14);
        assert_eq!(
            trap_of(store, inst, "common", &[65536, 0, 3]),
            TrapCode::MemoryOutOfBounds
        );
        assert_eq!(
            trap_of(store, inst, "common", &[1, 65536, 3]),
            TrapCode::MemoryOutOfBounds
        );
        // mem[0] = 0x81 and mem[0x81] = 0: the second address is the new local.
        assert_eq!(i32_of(store, inst, "chase", &[0]), 1000 + 0x81);
        assert_eq!(i32_of(store, inst, "chase", &[200]), 1000);
        assert_eq!(
            trap_of(store, inst, "chase", &[65536]),
            TrapCode::MemoryOutOfBounds
        );
        assert_eq!(i32_of(store, inst, "same_byte", &[3, 3]), 1);
        assert_eq!(i32_of(store, inst, "same_byte", &[3, 4]), 2);
        assert_eq!(i32_of(store, inst, "same_byte", &[20, 40]), 1);
        assert_eq!(
            trap_of(store, inst, "same_byte", &[0, 65536]),
            TrapCode::MemoryOutOfBounds
        );
    });
}

#[test]
fn stack_pointer_prologues_and_epilogues_move_the_global() {
    run(|store, inst| {
        let sp = |store: &Store<()>| {
            inst.get_global(store, "sp")
                .expect("exported global")
                .get(store)
                .i32()
                .expect("an i32")
        };
        assert_eq!(sp(store), 4096);
        // Depth 0: one frame at 4096 - 32, restored on return.
        assert_eq!(i32_of(store, inst, "framed", &[0]), 4064);
        assert_eq!(sp(store), 4096);
        assert_eq!(i32_of(store, inst, "framed", &[5]), 4064 + 5);
        assert_eq!(sp(store), 4096);
        for n in [0, 1, 7, 50] {
            assert_eq!(i32_of(store, inst, "framed_sum", &[n]), n * (n + 1) / 2);
            assert_eq!(sp(store), 4096, "{n}");
        }
        // Wrapping below zero: 4096 - 32 * 200 wraps; the store then traps.
        assert_eq!(
            trap_of(store, inst, "framed", &[200]),
            TrapCode::MemoryOutOfBounds
        );
    });
    run(|store, inst| {
        // x = 4096 + 5 goes to $other; then $sp = 4096 - 3 through a block.
        assert_eq!(i32_of(store, inst, "not_prologue", &[0]), 4093 + 4101);
        assert_eq!(i32_of(store, inst, "other", &[]), 4101);
        let sp = inst.get_global(&*store, "sp").expect("exported global");
        assert_eq!(sp.get(&*store).i32(), Some(4093));
    });
}

#[test]
fn joined_pairs_run_both_halves_in_order() {
    run(|store, inst| {
        for x in [0, 7, -1_000_000] {
            let want = (f64::from(x) * 3.0) + ((0.25 * -2.0) + 0.75);
            assert_eq!(
                i64_of(store, inst, "dot2", &[3000, x]),
                want.to_bits() as i64
            );
            let twice = (f64::from(x) + 0.25) + (f64::from(x) + 0.25);
            assert_eq!(
                i64_of(store, inst, "double_sum", &[3000]),
                twice.to_bits() as i64
            );
        }
        // The second load of the pair traps (offset 8 past the end).
        assert_eq!(
            trap_of(store, inst, "double_sum", &[65_536 - 12]),
            TrapCode::MemoryOutOfBounds
        );
        // A sieve's marking loop (each case on a fresh instance: the marks stay). Marks
        // at 0, 3, .. 30 (11 bytes); the last i32 stored is the step.
        assert_eq!(i32_of(store, inst, "stride_marks", &[0, 3, 30]), 11_003);
    });
    run(|store, inst| {
        // A start above the bound still marks once (the test is at the bottom).
        assert_eq!(i32_of(store, inst, "stride_marks", &[5, 7, 5]), 1_007);
    });
    run(|store, inst| {
        // 300 + j wraps to a small in-bounds address: that byte is written (and not
        // counted), then j + step wraps to 1 <= 2 (unsigned) and 1 is marked.
        assert_eq!(i32_of(store, inst, "stride_marks", &[-300, 301, 2]), 1_301);
        // The byte store traps past the end of memory.
        assert_eq!(
            trap_of(store, inst, "stride_marks", &[65_536 - 300, 1, -1]),
            TrapCode::MemoryOutOfBounds
        );
    });
    run(|store, inst| {
        // `*(*(p + 4) + 8)`; memory 100.. holds 0 and 7 as i32s.
        assert_eq!(i32_of(store, inst, "load_chain", &[96]), le(8, 4) as i32);
        assert_eq!(i32_of(store, inst, "load_chain", &[100]), le(15, 4) as i32);
        // The second load traps (its address is the first's result, 0x8c8b8a89 + 8),
        // and so does the first.
        assert_eq!(
            trap_of(store, inst, "load_chain", &[4]),
            TrapCode::MemoryOutOfBounds
        );
        assert_eq!(
            trap_of(store, inst, "load_chain", &[65_533]),
            TrapCode::MemoryOutOfBounds
        );
        // Memory 100.. holds the i32s 0 and 7.
        assert_eq!(i32_of(store, inst, "load_test", &[0]), -1);
        assert_eq!(i32_of(store, inst, "load_test", &[4]), 7);
        assert_eq!(
            trap_of(store, inst, "load_test", &[65_533 - 100]),
            TrapCode::MemoryOutOfBounds
        );
        assert_eq!(i32_of(store, inst, "rotate", &[1, 2, 3]), 231);
        for x in [5, -1, i32::MAX, i32::MIN] {
            let stepped = x.wrapping_add(1);
            let want = stepped
                .wrapping_mul(1000)
                .wrapping_add(stepped.wrapping_add(2));
            assert_eq!(i32_of(store, inst, "add_chain", &[x]), want, "{x}");
        }
        for n in [0, 1, 10, 1000] {
            assert_eq!(
                i32_of(store, inst, "sum_below", &[n]),
                n * (n - 1).max(0) / 2
            );
        }
        for (a, b, n) in [(0, 0, 4), (3, 1, 1), (2, 0, 7)] {
            let want: i32 = (0..n)
                .map(|k| i32::from(byte(a + k)) - i32::from(byte(b + 2 * k)))
                .sum();
            assert_eq!(
                i32_of(store, inst, "byte_sum", &[a as i32, b as i32, n as i32]),
                want
            );
            let total: i32 = (0..n).map(|k| i32::from(byte(a + k))).sum();
            assert_eq!(
                i32_of(store, inst, "byte_total", &[a as i32, n as i32]),
                total
            );
        }
    });
}

/// wasi-libc's `memcmp` loop (`for (; n && *l == *r; n--, l++, r++);`), which the
/// interpreter runs as one op (`ByteCompareLoop`); `$before` is called first.
const MEMCMP: &str = r#"
(module
  (import "host" "before" (func $before))
  (memory 1)
  (data (i32.const 0) "abcdefgh")
  (data (i32.const 100) "abcdefgX")
  (func (export "memcmp") (param $l i32) (param $r i32) (param $n i32) (result i32)
    (local $x i32) (local $y i32)
    (call $before)
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $next
        (br_if $done (i32.ne (local.tee $x (i32.load8_u (local.get $l)))
                             (local.tee $y (i32.load8_u (local.get $r)))))
        (local.set $l (i32.add (local.get $l) (i32.const 1)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $next (local.tee $n (i32.add (local.get $n) (i32.const -1)))))
      (return (i32.const 0)))
    (i32.sub (local.get $x) (local.get $y))))
"#;

#[test]
fn byte_compare_loops_compare_trap_and_stop_for_interrupts() {
    for engine in engines() {
        let module = Module::new(&engine, wat(MEMCMP)).expect("valid module");
        let mut store = Store::new(&engine, false);
        let handle = store.interrupt_handle();
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap(
                "host",
                "before",
                move |caller: sandlite_vm::Caller<'_, bool>| {
                    if *caller.data() {
                        handle.interrupt();
                    }
                },
            )
            .expect("define");
        let inst = linker
            .instantiate(&mut store, &module)
            .expect("instantiate");
        let f = inst.get_func(&store, "memcmp").expect("exported");
        let memcmp = |store: &mut Store<bool>, l: u32, r: u32, n: u32| {
            let args = [Val::I32(l as i32), Val::I32(r as i32), Val::I32(n as i32)];
            let mut out = [Val::I32(0)];
            f.call(&mut *store, &args, &mut out)
                .map(|()| out[0].i32().expect("an i32"))
        };
        let ok = |r: Result<i32, Error>| r.expect("no trap");
        assert_eq!(ok(memcmp(&mut store, 0, 100, 7)), 0);
        assert_eq!(
            ok(memcmp(&mut store, 0, 100, 8)),
            i32::from(b'h') - i32::from(b'X')
        );
        assert_eq!(
            ok(memcmp(&mut store, 100, 0, 8)),
            i32::from(b'X') - i32::from(b'h')
        );
        assert_eq!(ok(memcmp(&mut store, 0, 100, 0)), 0);
        assert_eq!(
            ok(memcmp(&mut store, 1, 0, 3)),
            i32::from(b'b') - i32::from(b'a')
        );
        // Zeros compare equal up to the end of memory, then a load traps: the first
        // pointer's, or the second's while the first is still inside.
        let trap = |r: Result<i32, Error>| r.expect_err("a trap").as_trap().map(|t| t.code());
        let oob = Some(TrapCode::MemoryOutOfBounds);
        assert_eq!(trap(memcmp(&mut store, 65_530, 65_000, 100)), oob);
        assert_eq!(trap(memcmp(&mut store, 65_000, 65_530, 100)), oob);
        assert_eq!(ok(memcmp(&mut store, 65_530, 65_000, 6)), 0);
        // An interrupt raised before the loop stops it at its first back edge.
        *store.data_mut() = true;
        assert_eq!(
            trap(memcmp(&mut store, 1_000, 2_000, 50_000)),
            Some(TrapCode::Interrupted)
        );
    }
}
