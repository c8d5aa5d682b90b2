;; Calls: direct, with stack arguments (callee pops), to an import through its funcref,
;; call_indirect's three checks, multiple results.
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (type $t (func (param i32) (result i32)))
  (table 4 funcref)
  (func $many (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 7)))
  (func (export "direct") (param i32) (result i32)
    (call $many (local.get 0) (i32.const 1) (i32.const 2) (i32.const 3)
                (i32.const 4) (i32.const 5) (i32.const 6) (i32.const 7)))
  (func (export "import") (param i32) (result i32)
    (call $host (local.get 0)))
  (func (export "indirect") (param i32 i32) (result i32)
    (call_indirect (type $t) (local.get 0) (local.get 1)))
  (func $pair (param i64) (result i64 i64 i64)
    (local.get 0) (i64.const 1) (i64.const 2))
  (func (export "results") (param i64) (result i64)
    (call $pair (local.get 0)) (i64.add) (i64.add)))
