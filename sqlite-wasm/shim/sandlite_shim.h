/*
** sandlite_shim.h - the ABI between sqlite3.wasm and its host (Sandlite).
**
** The module is SQLite built with SQLITE_OS_OTHER=1 plus this shim. It
** imports only the functions declared below, all from module "env", and
** exports the SQLite C API functions listed in exports.txt plus the
** `sandlite_*` helpers declared at the end of this file.
**
** Conventions shared by every import and export:
**   - Pointers are i32 offsets into the exported memory "memory".
**   - Strings passed to the host are NUL-terminated UTF-8 unless a length
**     is given.
**   - `int` results are SQLite result codes (SQLITE_OK = 0, extended codes
**     allowed) unless documented otherwise.
**   - Out-parameters always point to valid, suitably aligned guest memory
**     owned by the shim; the host writes them little-endian.
**   - A host function may call back into the module's exports (for example
**     sqlite3_value_text() inside sl_func_call); the shim is reentrant in
**     that sense. It is not thread-safe: one thread at a time per instance.
**
** README.md (next to build.sh) holds the same contract as tables.
*/
#ifndef SANDLITE_SHIM_H
#define SANDLITE_SHIM_H

#include <stdint.h>

#include "sqlite3.h"

/* Bumped whenever an import or a sandlite_* export changes. */
#define SANDLITE_ABI_VERSION 5

/* Name of the VFS the shim registers as the default. */
#define SANDLITE_VFS_NAME "sandlite"

/* Longest path the VFS accepts, excluding the NUL (sqlite3_vfs.mxPathname). */
#define SANDLITE_MAX_PATHNAME 1024

/*
** Alignment of every block of WAL shared memory the shim allocates. It is
** the Wasm page size, so it is a multiple of the host page size on every
** host with pages of at most 64 KiB (sl_shm_page_size).
*/
#define SANDLITE_SHM_ALIGNMENT 65536

/* Kinds accepted by sandlite_create_function. */
#define SANDLITE_FUNC_SCALAR 0
#define SANDLITE_FUNC_AGGREGATE 1
#define SANDLITE_FUNC_WINDOW 2

/* Kinds accepted by sandlite_create_module. */
#define SANDLITE_MODULE_DEFAULT 0        /* CREATE VIRTUAL TABLE only */
#define SANDLITE_MODULE_EPONYMOUS 1      /* also usable by its own name */
#define SANDLITE_MODULE_EPONYMOUS_ONLY 2 /* only by its own name */
/* Flags or'ed into the kind: the module's tables are writable (xUpdate calls
** sl_vtab_update), and also take part in transactions (xBegin, xSync,
** xCommit and xRollback call sl_vtab_transaction; needs the UPDATE flag).
** Without them xUpdate is NULL and SQLite refuses writes. */
#define SANDLITE_MODULE_UPDATE 0x100
#define SANDLITE_MODULE_TRANSACTIONS 0x200

/* Operations passed to sl_vtab_transaction. */
#define SANDLITE_VTAB_BEGIN 0
#define SANDLITE_VTAB_SYNC 1
#define SANDLITE_VTAB_COMMIT 2
#define SANDLITE_VTAB_ROLLBACK 3

/* The pointer type (sqlite3_bind_pointer) of host values bound with
** sandlite_bind_pointer: SQL cannot make a value of this type, so a bound
** handle cannot be forged from SQL. */
#define SANDLITE_POINTER_TYPE "sandlite-host-value"

#define SL_IMPORT(name) \
  __attribute__((import_module("env"), import_name(#name)))

/* ---------------------------------------------------------------------
** VFS-level imports (sqlite3_vfs methods).
*/

/*
** Open a file. `name` is NULL for a temporary file (the host invents a
** name and deletes the file on close); otherwise it is a path previously
** returned by sl_full_pathname, and for main databases it may be followed
** by URI parameters after its NUL (ignore them or read them as SQLite's
** sqlite3_uri_parameter() would). `flags` are SQLITE_OPEN_* bits, including
** the file type (MAIN_DB, MAIN_JOURNAL, WAL, ...) and DELETEONCLOSE.
** On success store a host-chosen file id in *out_file_id (any i32; passed to
** every file import below) and the flags actually used in *out_flags (the
** slot is pre-filled with `flags`; e.g. clear READWRITE and set READONLY
** when falling back to read-only). Errors: SQLITE_CANTOPEN (also for paths
** outside the sandbox), SQLITE_PERM, SQLITE_NOMEM, SQLITE_IOERR_*.
*/
SL_IMPORT(sl_open)
int32_t sl_open(const char *name, int32_t flags, int32_t *out_file_id,
                int32_t *out_flags);

/* Delete a file; `sync_dir` nonzero asks to sync the directory afterwards.
** A missing file returns SQLITE_IOERR_DELETE_NOENT. */
SL_IMPORT(sl_delete)
int32_t sl_delete(const char *name, int32_t sync_dir);

/* SQLITE_ACCESS_EXISTS (0), _READWRITE (1) or _READ (2): write 1 or 0 to
** *out_result (pre-filled with 0) and return SQLITE_OK, or an I/O error. */
SL_IMPORT(sl_access)
int32_t sl_access(const char *name, int32_t flags, int32_t *out_result);

/* Canonical absolute form of `name`, written NUL-terminated into `out`,
** which holds `out_len` bytes (SANDLITE_MAX_PATHNAME + 1). SQLITE_CANTOPEN
** when the path escapes the sandbox or does not fit; SQLITE_OK_SYMLINK is
** allowed as for any SQLite VFS. */
SL_IMPORT(sl_full_pathname)
int32_t sl_full_pathname(const char *name, int32_t out_len, char *out);

/* Fill `out` with `len` random bytes; return how many were written. */
SL_IMPORT(sl_randomness)
int32_t sl_randomness(int32_t len, char *out);

/* Sleep for at least `microseconds`; return the microseconds slept. */
SL_IMPORT(sl_sleep)
int32_t sl_sleep(int32_t microseconds);

/* Current UTC time as a Julian day number times 86400000 (milliseconds),
** written as i64 to *out_julian_ms. Unix milliseconds + 210866760000000.
** Returns SQLITE_OK or SQLITE_ERROR. */
SL_IMPORT(sl_current_time_int64)
int32_t sl_current_time_int64(int64_t *out_julian_ms);

/* Last OS error (errno-like) of this connection's VFS, or 0. When
** `buf_len` > 0 the host may write a NUL-terminated description into `buf`.
** SQLite calls it with buf_len == 0 and buf == NULL after failed I/O. */
SL_IMPORT(sl_get_last_error)
int32_t sl_get_last_error(int32_t buf_len, char *buf);

/* Offset of local time from UTC, in seconds east of Greenwich, at the
** instant `unix_seconds`, written to *out_offset (pre-filled with 0).
** Returns 0 on success, nonzero if local time is unavailable (SQLite then
** reports "local time unavailable"). A host that wants UTC returns 0. */
SL_IMPORT(sl_localtime_offset)
int32_t sl_localtime_offset(int64_t unix_seconds, int32_t *out_offset);

/* ---------------------------------------------------------------------
** File imports (sqlite3_io_methods), keyed by the id from sl_open.
*/

/* Close the file (and delete it if opened with DELETEONCLOSE). */
SL_IMPORT(sl_close)
int32_t sl_close(int32_t file_id);

/* Read `len` bytes at `offset` into `buf`. If the file ends first, the host
** zero-fills the rest of `buf` and returns SQLITE_IOERR_SHORT_READ (SQLite
** relies on the zero fill). Other errors: SQLITE_IOERR_READ. */
SL_IMPORT(sl_read)
int32_t sl_read(int32_t file_id, void *buf, int32_t len, int64_t offset);

/* Write `len` bytes from `buf` at `offset`, extending the file as needed.
** Errors: SQLITE_FULL, SQLITE_IOERR_WRITE, SQLITE_READONLY. */
SL_IMPORT(sl_write)
int32_t sl_write(int32_t file_id, const void *buf, int32_t len,
                 int64_t offset);

/* Truncate (or extend) the file to `size` bytes. */
SL_IMPORT(sl_truncate)
int32_t sl_truncate(int32_t file_id, int64_t size);

/* Flush to stable storage. `flags` is SQLITE_SYNC_NORMAL (2) or _FULL (3),
** optionally | SQLITE_SYNC_DATAONLY (0x10). Error: SQLITE_IOERR_FSYNC. */
SL_IMPORT(sl_sync)
int32_t sl_sync(int32_t file_id, int32_t flags);

/* Write the file size in bytes as i64 to *out_size. */
SL_IMPORT(sl_file_size)
int32_t sl_file_size(int32_t file_id, int64_t *out_size);

/* Raise the lock to `level` (SQLITE_LOCK_SHARED 1, RESERVED 2, PENDING 3,
** EXCLUSIVE 4) following SQLite's lock protocol. SQLITE_BUSY when another
** connection holds a conflicting lock. */
SL_IMPORT(sl_lock)
int32_t sl_lock(int32_t file_id, int32_t level);

/* Lower the lock to `level` (SQLITE_LOCK_NONE 0 or SHARED 1). */
SL_IMPORT(sl_unlock)
int32_t sl_unlock(int32_t file_id, int32_t level);

/* Write 1 to *out_result (pre-filled with 0) if any connection holds a
** RESERVED, PENDING or EXCLUSIVE lock on the file. */
SL_IMPORT(sl_check_reserved_lock)
int32_t sl_check_reserved_lock(int32_t file_id, int32_t *out_result);

/*
** sqlite3_io_methods.xFileControl for the opcodes the shim forwards (see
** sandlite_shim.c, sandlite_file_control); `arg` is the raw pointer SQLite
** passes, laid out as documented for that SQLITE_FCNTL_* opcode. Return
** SQLITE_NOTFOUND for anything the host does not implement.
*/
SL_IMPORT(sl_file_control)
int32_t sl_file_control(int32_t file_id, int32_t op, void *arg);

/* Sector size in bytes (usually 4096). */
SL_IMPORT(sl_sector_size)
int32_t sl_sector_size(int32_t file_id);

/* SQLITE_IOCAP_* bits. */
SL_IMPORT(sl_device_characteristics)
int32_t sl_device_characteristics(int32_t file_id);

/*
** The page size the host maps WAL-index memory in: a power of two of at most
** SANDLITE_SHM_ALIGNMENT (the host's page size, 4096 on x86-64, 16384 or
** 65536 on some arm64 kernels), or 0 if the host cannot map WAL-index memory
** (every xShmMap then fails with SQLITE_IOERR_SHMMAP). The same for the life
** of the instance; the shim asks once.
*/
SL_IMPORT(sl_shm_page_size)
int32_t sl_shm_page_size(void);

/*
** Map WAL-index region `region` (bytes [region*region_size,
** (region+1)*region_size) of the "-shm" file belonging to this database
** file) over guest memory [guest_addr, guest_addr + region_size).
** `region_size` (SQLite always uses 32768) is a multiple or a fraction of
** the page size P = sl_shm_page_size(). If it is a multiple, `guest_addr` is
** aligned to SANDLITE_SHM_ALIGNMENT (65536) and the host maps the region
** alone. If P is larger, the P/region_size regions of a P-aligned page of
** the file share one P-byte block aligned to SANDLITE_SHM_ALIGNMENT,
** `guest_addr` is the block plus (region mod P/region_size)*region_size, and
** the host maps the whole page over the whole block (once: for the page's
** other regions it only checks that they exist). The shim allocated the
** block and owns it. On success the host maps the file range MAP_SHARED at
** exactly that guest address and writes 1 to *out_mapped (pre-filled with
** 0). If `extend` is 0 and the -shm file is too short to hold the region,
** the host maps nothing new, leaves *out_mapped at 0 and returns SQLITE_OK.
** SQLITE_READONLY with *out_mapped = 1 means a read-only mapping. On any
** error nothing new may stay mapped: a fresh block must still be ordinary
** guest memory, because the shim frees it.
*/
SL_IMPORT(sl_shm_map)
int32_t sl_shm_map(int32_t file_id, int32_t region, int32_t region_size,
                   int32_t extend, void *guest_addr, int32_t *out_mapped);

/* xShmLock: lock or unlock `n` slots starting at `offset` (0..7) with
** `flags` = SQLITE_SHM_LOCK (2) or UNLOCK (1) | SHARED (4) or EXCLUSIVE
** (8). SQLITE_BUSY when the lock is held elsewhere. */
SL_IMPORT(sl_shm_lock)
int32_t sl_shm_lock(int32_t file_id, int32_t offset, int32_t n,
                    int32_t flags);

/* Full memory barrier between this guest's and other processes' accesses
** to the mapped regions. */
SL_IMPORT(sl_shm_barrier)
void sl_shm_barrier(int32_t file_id);

/*
** Unmap every region this file mapped with sl_shm_map and put ordinary
** zero-filled, private, read-write memory back at each of those guest
** addresses; delete the -shm file if `delete_file` is nonzero. After
** SQLITE_OK the shim frees the blocks. On an error the shim leaks them
** instead (it cannot know whether they are still shared).
*/
SL_IMPORT(sl_shm_unmap)
int32_t sl_shm_unmap(int32_t file_id, int32_t delete_file);

/* ---------------------------------------------------------------------
** Callback imports. `handle` is the i32 the host passed when registering.
*/

/* Scalar function body: read arguments with sqlite3_value_*(argv[i]) and
** set the result with sqlite3_result_*(ctx, ...). `argv` is an array of
** `argc` i32 pointers to sqlite3_value. */
SL_IMPORT(sl_func_call)
void sl_func_call(int32_t handle, sqlite3_context *ctx, int32_t argc,
                  sqlite3_value **argv);

/* Aggregate/window xStep. Per-group state: sqlite3_aggregate_context(ctx, n)
** returns n zeroed bytes that live until xFinal. */
SL_IMPORT(sl_func_step)
void sl_func_step(int32_t handle, sqlite3_context *ctx, int32_t argc,
                  sqlite3_value **argv);

/* Aggregate/window xFinal: set the result, release per-group state. */
SL_IMPORT(sl_func_final)
void sl_func_final(int32_t handle, sqlite3_context *ctx);

/* Window xValue: set the current result without releasing state. */
SL_IMPORT(sl_func_value)
void sl_func_value(int32_t handle, sqlite3_context *ctx);

/* Window xInverse: remove the oldest row from the window. */
SL_IMPORT(sl_func_inverse)
void sl_func_inverse(int32_t handle, sqlite3_context *ctx, int32_t argc,
                     sqlite3_value **argv);

/* The function registered with `handle` is gone: called exactly once per
** sandlite_create_function call, when replaced, removed, on close, or at
** once if registration failed. */
SL_IMPORT(sl_func_destroy)
void sl_func_destroy(int32_t handle);

/* Compare two strings of the collation's text encoding; negative, zero or
** positive like memcmp. The strings are NOT NUL-terminated. */
SL_IMPORT(sl_collation_compare)
int32_t sl_collation_compare(int32_t handle, int32_t len1, const void *p1,
                             int32_t len2, const void *p2);

/* Collation `handle` is gone; exactly once per sandlite_create_collation
** call (the shim also calls it when registration fails, unlike bare
** sqlite3_create_collation_v2). */
SL_IMPORT(sl_collation_destroy)
void sl_collation_destroy(int32_t handle);

/* Busy handler: `count` is the number of prior calls for this lock wait.
** Return nonzero to retry, 0 to give up with SQLITE_BUSY. */
SL_IMPORT(sl_busy_handler)
int32_t sl_busy_handler(int32_t handle, int32_t count);

/* Progress handler: return nonzero to interrupt the running statement. */
SL_IMPORT(sl_progress_handler)
int32_t sl_progress_handler(int32_t handle);

/* Commit hook: return nonzero to turn the commit into a rollback. */
SL_IMPORT(sl_commit_hook)
int32_t sl_commit_hook(int32_t handle);

/* Rollback hook. */
SL_IMPORT(sl_rollback_hook)
void sl_rollback_hook(int32_t handle);

/* Update hook: `op` is SQLITE_INSERT (18), SQLITE_DELETE (9) or
** SQLITE_UPDATE (23); `db_name` and `table` are NUL-terminated. */
SL_IMPORT(sl_update_hook)
void sl_update_hook(int32_t handle, int32_t op, const char *db_name,
                    const char *table, int64_t rowid);

/* Authorizer: return SQLITE_OK (0), SQLITE_DENY (1) or SQLITE_IGNORE (2).
** `action` is an SQLITE_* action code; the strings may be NULL. */
SL_IMPORT(sl_authorizer)
int32_t sl_authorizer(int32_t handle, int32_t action, const char *arg1,
                      const char *arg2, const char *db_name,
                      const char *trigger_or_view);

/* sqlite3_trace_v2 callback: `event` is one SQLITE_TRACE_* bit; `p` and
** `x` are as documented for that event (STMT: stmt, SQL text; PROFILE:
** stmt, pointer to i64 nanoseconds; ROW: stmt, unused; CLOSE: db, unused).
** The return value is ignored by SQLite; return 0. */
SL_IMPORT(sl_trace)
int32_t sl_trace(int32_t handle, int32_t event, void *p, void *x);

/* Host value `handle` (a bound pointer, auxiliary data of a user function
** or a virtual-table module) is no longer referenced by SQLite: called
** exactly once per sandlite_bind_pointer, sandlite_set_auxdata and
** sandlite_create_module call, possibly at once if that call failed. */
SL_IMPORT(sl_release)
void sl_release(int32_t handle);

/* ---------------------------------------------------------------------
** Virtual-table imports. `module` is the handle given to
** sandlite_create_module; `table` and `cursor` are ids the host chose in
** sl_vtab_connect and sl_vtab_open. Methods returning an error code may
** store an error message obtained from sqlite3_malloc in *out_message
** (pre-filled with NULL); the shim hands it to SQLite (which frees it).
*/

/* xCreate (`create` = 1) or xConnect (0): `argv` holds `argc` pointers to
** NUL-terminated strings (module name, database name, table name, then the
** arguments of CREATE VIRTUAL TABLE). The host calls sqlite3_declare_vtab
** (db, ...) before returning SQLITE_OK and stores its table id in *out_table.
** On an error the host keeps no table. */
SL_IMPORT(sl_vtab_connect)
int32_t sl_vtab_connect(int32_t module, sqlite3 *db, int32_t create,
                        int32_t argc, const char *const *argv,
                        int32_t *out_table, char **out_message);

/* xBestIndex: read the inputs of `info` and write its outputs (layout of
** sqlite3_index_info on wasm32, checked by static assertions in the shim).
** An idxStr the host sets must come from sqlite3_malloc with
** needToFreeIdxStr = 1. */
SL_IMPORT(sl_vtab_best_index)
int32_t sl_vtab_best_index(int32_t table, sqlite3_index_info *info,
                           char **out_message);

/* xDisconnect (`destroy` = 0) or xDestroy (1). After SQLITE_OK the table id
** is gone; on an error (only for xDestroy) it stays. */
SL_IMPORT(sl_vtab_disconnect)
int32_t sl_vtab_disconnect(int32_t table, int32_t destroy, char **out_message);

/* xOpen: store a new cursor id in *out_cursor. */
SL_IMPORT(sl_vtab_open)
int32_t sl_vtab_open(int32_t table, int32_t *out_cursor, char **out_message);

/* xClose: the cursor id is gone afterwards, whatever the result. */
SL_IMPORT(sl_vtab_close)
int32_t sl_vtab_close(int32_t cursor);

/* xFilter: `idx_str` may be NULL; `argv` holds `argc` sqlite3_value
** pointers (read them with sqlite3_value_* and sandlite_value_pointer). */
SL_IMPORT(sl_vtab_filter)
int32_t sl_vtab_filter(int32_t cursor, int32_t idx_num, const char *idx_str,
                       int32_t argc, sqlite3_value **argv,
                       char **out_message);

/* xNext. */
SL_IMPORT(sl_vtab_next)
int32_t sl_vtab_next(int32_t cursor, char **out_message);

/* xEof: nonzero past the last row. */
SL_IMPORT(sl_vtab_eof)
int32_t sl_vtab_eof(int32_t cursor);

/* xColumn: set column `column` of the current row with sqlite3_result_*
** (ctx); errors go through sqlite3_result_error as in a user function. */
SL_IMPORT(sl_vtab_column)
int32_t sl_vtab_column(int32_t cursor, sqlite3_context *ctx, int32_t column);

/* xRowid: write the current row's rowid to *out_rowid. */
SL_IMPORT(sl_vtab_rowid)
int32_t sl_vtab_rowid(int32_t cursor, int64_t *out_rowid, char **out_message);

/* xUpdate, only for modules registered with SANDLITE_MODULE_UPDATE: `argv`
** holds `argc` sqlite3_value pointers laid out as SQLite's xUpdate gets them
** (argc 1: delete the row argv[0]; else argv[0] the old rowid, NULL for an
** insert, argv[1] the new rowid, NULL to let the table choose, then the
** columns). For an insert, write the new row's rowid to *out_rowid. Any
** result code may be returned (SQLITE_CONSTRAINT matters for ON CONFLICT
** when the table declared SQLITE_VTAB_CONSTRAINT_SUPPORT). */
SL_IMPORT(sl_vtab_update)
int32_t sl_vtab_update(int32_t table, int32_t argc, sqlite3_value **argv,
                       int64_t *out_rowid, char **out_message);

/* xBegin, xSync, xCommit or xRollback (`op` is SANDLITE_VTAB_BEGIN, _SYNC,
** _COMMIT or _ROLLBACK), only for modules registered with
** SANDLITE_MODULE_TRANSACTIONS. SQLite ignores the result of xCommit and
** xRollback. */
SL_IMPORT(sl_vtab_transaction)
int32_t sl_vtab_transaction(int32_t table, int32_t op, char **out_message);

/* ---------------------------------------------------------------------
** Shim exports beyond the SQLite C API.
*/

/* SANDLITE_ABI_VERSION, so a host can refuse a module it does not know. */
int32_t sandlite_abi_version(void);

/* One column of the current row, as sandlite_step_row leaves it: `type` is
** SQLITE_INTEGER (1), SQLITE_FLOAT (2), SQLITE_TEXT (3), SQLITE_BLOB (4) or
** SQLITE_NULL (5); `value` holds the integer, the double's bits, or for text
** and blobs the address of the bytes (valid until the statement is stepped,
** reset or finalized), with their count in `len`. */
typedef struct SandliteColumn {
  int32_t type;
  int32_t len;
  int64_t value;
} SandliteColumn;

/* sqlite3_step, and on SQLITE_ROW the row's first min(data_count, capacity)
** columns written to `out` (so a host reads a row with one call instead of
** two or three per column). Returns sqlite3_step's result. */
int32_t sandlite_step_row(sqlite3_stmt *stmt, SandliteColumn *out,
                          int32_t capacity);

/* Register a scalar (kind 0), aggregate (1) or window (2) function.
** `flags` is the eTextRep argument of sqlite3_create_function_v2 (SQLITE_UTF8
** | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY | SQLITE_INNOCUOUS | ...).
** sqlite3_user_data(ctx) yields `handle` as a pointer-sized integer.
** Returns SQLITE_MISUSE for an unknown kind (after sl_func_destroy). */
int32_t sandlite_create_function(sqlite3 *db, const char *name, int32_t n_arg,
                                 int32_t flags, int32_t handle, int32_t kind);

/* Remove the function `name`/`n_arg`/text encoding in `flags`. */
int32_t sandlite_remove_function(sqlite3 *db, const char *name, int32_t n_arg,
                                 int32_t flags);

/* Register a collation; `text_rep` is SQLITE_UTF8 etc. */
int32_t sandlite_create_collation(sqlite3 *db, const char *name,
                                  int32_t text_rep, int32_t handle);

/* Remove the collation `name` for `text_rep`. */
int32_t sandlite_remove_collation(sqlite3 *db, const char *name,
                                  int32_t text_rep);

/* Install (enable != 0) or remove the busy handler; replaces any
** sqlite3_busy_timeout. */
int32_t sandlite_busy_handler(sqlite3 *db, int32_t enable, int32_t handle);

/* Install (enable != 0 and n_ops > 0) or remove the progress handler,
** called about every `n_ops` virtual machine instructions. */
void sandlite_progress_handler(sqlite3 *db, int32_t n_ops, int32_t enable,
                               int32_t handle);

/* Install (enable != 0) or remove the commit, rollback and update hooks. */
void sandlite_commit_hook(sqlite3 *db, int32_t enable, int32_t handle);
void sandlite_rollback_hook(sqlite3 *db, int32_t enable, int32_t handle);
void sandlite_update_hook(sqlite3 *db, int32_t enable, int32_t handle);

/* Install (enable != 0) or remove the authorizer. */
int32_t sandlite_set_authorizer(sqlite3 *db, int32_t enable, int32_t handle);

/* sqlite3_trace_v2 with the SQLITE_TRACE_* `mask`; 0 removes the callback. */
int32_t sandlite_trace(sqlite3 *db, int32_t mask, int32_t handle);

/* sqlite3_db_config for the options taking (int, int*): every op from
** SQLITE_DBCONFIG_ENABLE_FKEY (1002) to SQLITE_DBCONFIG_MAX. `value` < 0
** queries; `out_value` may be NULL. Other ops return SQLITE_MISUSE. */
int32_t sandlite_db_config_int(sqlite3 *db, int32_t op, int32_t value,
                               int32_t *out_value);

/* sqlite3_config(SQLITE_CONFIG_MEMSTATUS, enable). Must run before the
** first sqlite3_initialize/sqlite3_open_v2 (else SQLITE_MISUSE). Memory
** statistics are off by default (SQLITE_DEFAULT_MEMSTATUS=0), and the soft
** and hard heap limits only take effect while they are on. */
int32_t sandlite_config_memstatus(int32_t enable);

/* Address of the i32 flag sqlite3_interrupt() sets for `db` (0 if `db` is
** not an open connection). Another host thread may atomically store 1 there
** while a statement runs, with exactly sqlite3_interrupt's effect. */
volatile int *sandlite_interrupt_flag(sqlite3 *db);

/* Table index of sqlite3_free, to pass as the destructor of
** sqlite3_bind_text/blob and sqlite3_result_text/blob so SQLite takes
** ownership of a buffer from sqlite3_malloc64 instead of copying it.
** (SQLITE_STATIC is 0 and SQLITE_TRANSIENT is -1.) */
int32_t sandlite_free_destructor(void);

/* Register a virtual-table module of `kind` (SANDLITE_MODULE_DEFAULT,
** _EPONYMOUS or _EPONYMOUS_ONLY, or'ed with SANDLITE_MODULE_UPDATE and
** SANDLITE_MODULE_TRANSACTIONS as wanted) whose methods call the sl_vtab_*
** imports with `handle`; sl_release(handle) runs when the module is
** replaced, on close, or at once on failure (SQLITE_MISUSE for a bad kind). */
int32_t sandlite_create_module(sqlite3 *db, const char *name, int32_t handle,
                               int32_t kind);

/* sqlite3_vtab_config from inside sl_vtab_connect: SQLITE_VTAB_CONSTRAINT_
** SUPPORT takes `arg`, the other options none. */
int32_t sandlite_vtab_config(sqlite3 *db, int32_t op, int32_t arg);

/* Bind host value `handle` to parameter `i` as a pointer of type
** SANDLITE_POINTER_TYPE; sl_release(handle) when SQLite drops it (also at
** once if the bind fails). */
int32_t sandlite_bind_pointer(sqlite3_stmt *stmt, int32_t i, int32_t handle);

/* The handle of a value bound with sandlite_bind_pointer, else 0. */
int32_t sandlite_value_pointer(sqlite3_value *value);

/* sqlite3_set_auxdata with host value `handle` (released by sl_release)
** and sqlite3_get_auxdata returning that handle (0 when none). */
void sandlite_set_auxdata(sqlite3_context *ctx, int32_t arg, int32_t handle);
int32_t sandlite_get_auxdata(sqlite3_context *ctx, int32_t arg);

#endif /* SANDLITE_SHIM_H */
