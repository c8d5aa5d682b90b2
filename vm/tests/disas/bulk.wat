;; Bulk memory on memory 0: the range checks inline, then memmove/memset on host
;; addresses. Those are System V calls, which clobber r8 and r9; the Wasm convention
;; preserves both, so the function saves them.
(module
  (memory 1)
  (func (export "fill") (param i32 i32 i32)
    (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32)
    (memory.copy (local.get 0) (local.get 1) (local.get 2))))
