/*
** sandlite_shim.c - SQLite's OS layer and host callbacks for sqlite3.wasm.
**
** SQLite is built with SQLITE_OS_OTHER=1, so it has no OS layer of its own:
** this file supplies sqlite3_os_init/sqlite3_os_end, registers the
** "sandlite" VFS whose methods forward to host imports, and wraps the C API
** entry points that take C function pointers (user functions, collations,
** hooks) so the host sees plain i32 handles instead. The ABI is documented
** in sandlite_shim.h and ../README.md.
**
** The amalgamation is compiled in this translation unit so the shim can
** reach the one internal field it exposes (the interrupt flag) and so the
** compiler can inline the thin wrappers.
*/

#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunused-parameter"
#pragma clang diagnostic ignored "-Wsign-compare"
#pragma clang diagnostic ignored "-Wimplicit-fallthrough"
#pragma clang diagnostic ignored "-Wmissing-field-initializers"
#include "sqlite3.c"
#pragma clang diagnostic pop

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sandlite_shim.h"

#if SQLITE_THREADSAFE != 0 || SQLITE_OS_OTHER != 1
#error "sandlite_shim.c expects SQLITE_THREADSAFE=0 and SQLITE_OS_OTHER=1"
#endif

/* Handles travel through SQLite's void* user-data slots. */
static void *handle_to_pointer(int32_t handle) {
  return (void *)(intptr_t)handle;
}

static int32_t pointer_to_handle(void *pointer) {
  return (int32_t)(intptr_t)pointer;
}

/* =====================================================================
** Files
*/

/* The shim's sqlite3_file subclass; SQLite allocates szOsFile bytes. */
typedef struct SandliteFile {
  sqlite3_file base; /* must come first */
  int32_t host_id;   /* id returned by sl_open */
  /* WAL-index regions mapped by the host, indexed by region number; NULL
  ** where not mapped. Each lies in a block of shm_blocks. */
  void **shm_regions;
  int32_t shm_region_count;
  int32_t shm_readonly; /* sl_shm_map reported a read-only mapping */
  /* The guest memory the regions are mapped over, one block per group of
  ** regions that share a host page (one region per block unless host pages
  ** are larger than regions), indexed by group number; NULL where none.
  ** Allocated with aligned_alloc, freed after sl_shm_unmap restored them to
  ** private memory. */
  void **shm_blocks;
  int32_t shm_block_count;
} SandliteFile;

static SandliteFile *as_file(sqlite3_file *file) {
  return (SandliteFile *)file;
}

/* Drop the shim's bookkeeping of the WAL-index regions. The host already
** restored ordinary memory at every mapped region, so they can be freed. */
static void free_shm_regions(SandliteFile *file) {
  for (int32_t i = 0; i < file->shm_block_count; i++) {
    free(file->shm_blocks[i]);
  }
  sqlite3_free(file->shm_blocks);
  file->shm_blocks = NULL;
  file->shm_block_count = 0;
  sqlite3_free(file->shm_regions);
  file->shm_regions = NULL;
  file->shm_region_count = 0;
  file->shm_readonly = 0;
}

/* Forget the regions without freeing them: used when the host could not
** confirm they are private memory again, so they must never be reused. */
static void leak_shm_regions(SandliteFile *file) {
  sqlite3_free(file->shm_blocks);
  file->shm_blocks = NULL;
  file->shm_block_count = 0;
  sqlite3_free(file->shm_regions);
  file->shm_regions = NULL;
  file->shm_region_count = 0;
  file->shm_readonly = 0;
}

static int sandlite_shm_unmap(sqlite3_file *base, int delete_flag) {
  SandliteFile *file = as_file(base);
  int rc = sl_shm_unmap(file->host_id, delete_flag);
  if (rc == SQLITE_OK) {
    free_shm_regions(file);
  } else {
    leak_shm_regions(file);
  }
  return rc;
}

static int sandlite_close(sqlite3_file *base) {
  SandliteFile *file = as_file(base);
  /* SQLite unmaps shared memory before closing; this only matters if a
  ** caller skipped that, and keeps the host's mappings from outliving the
  ** file. */
  if (file->shm_region_count > 0) {
    sandlite_shm_unmap(base, 0);
  }
  return sl_close(file->host_id);
}

static int sandlite_read(sqlite3_file *base, void *buf, int amount,
                         sqlite3_int64 offset) {
  return sl_read(as_file(base)->host_id, buf, amount, offset);
}

static int sandlite_write(sqlite3_file *base, const void *buf, int amount,
                          sqlite3_int64 offset) {
  return sl_write(as_file(base)->host_id, buf, amount, offset);
}

static int sandlite_truncate(sqlite3_file *base, sqlite3_int64 size) {
  return sl_truncate(as_file(base)->host_id, size);
}

static int sandlite_sync(sqlite3_file *base, int flags) {
  return sl_sync(as_file(base)->host_id, flags);
}

static int sandlite_file_size(sqlite3_file *base, sqlite3_int64 *out_size) {
  int64_t size = 0;
  int rc = sl_file_size(as_file(base)->host_id, &size);
  *out_size = size;
  return rc;
}

static int sandlite_lock(sqlite3_file *base, int level) {
  return sl_lock(as_file(base)->host_id, level);
}

static int sandlite_unlock(sqlite3_file *base, int level) {
  return sl_unlock(as_file(base)->host_id, level);
}

static int sandlite_check_reserved_lock(sqlite3_file *base, int *out_result) {
  int32_t reserved = 0;
  int rc = sl_check_reserved_lock(as_file(base)->host_id, &reserved);
  *out_result = reserved != 0;
  return rc;
}

/*
** Opcodes whose argument is plain data (integers or strings) go to the
** host; the rest either carry pointers to SQLite internals (BUSYHANDLER,
** PDB, FILE_POINTER, ...) or concern features this build lacks (mmap,
** atomic writes, Windows), and get SQLITE_NOTFOUND as from any VFS that
** ignores them.
*/
static int sandlite_file_control(sqlite3_file *base, int op, void *arg) {
  switch (op) {
  case SQLITE_FCNTL_VFSNAME:
    *(char **)arg = sqlite3_mprintf("%s", SANDLITE_VFS_NAME);
    return SQLITE_OK;
  case SQLITE_FCNTL_LOCKSTATE:           /* int* out: current lock level */
  case SQLITE_FCNTL_SIZE_HINT:           /* i64* in: expected file size */
  case SQLITE_FCNTL_CHUNK_SIZE:          /* int* in: growth increment */
  case SQLITE_FCNTL_PERSIST_WAL:         /* int* in/out: -1 queries */
  case SQLITE_FCNTL_OVERWRITE:           /* i64* in: bytes to overwrite */
  case SQLITE_FCNTL_POWERSAFE_OVERWRITE: /* int* in/out: -1 queries */
  case SQLITE_FCNTL_PRAGMA:              /* char*[3]: result, name, arg */
  case SQLITE_FCNTL_HAS_MOVED:           /* int* out */
  case SQLITE_FCNTL_SYNC:                /* char* super-journal or NULL */
  case SQLITE_FCNTL_COMMIT_PHASETWO:     /* NULL */
  case SQLITE_FCNTL_SIZE_LIMIT:          /* i64* in/out */
  case SQLITE_FCNTL_CKPT_DONE:           /* NULL */
  case SQLITE_FCNTL_CKPT_START:          /* NULL */
    return sl_file_control(as_file(base)->host_id, op, arg);
  default:
    return SQLITE_NOTFOUND;
  }
}

static int sandlite_sector_size(sqlite3_file *base) {
  return sl_sector_size(as_file(base)->host_id);
}

static int sandlite_device_characteristics(sqlite3_file *base) {
  return sl_device_characteristics(as_file(base)->host_id);
}

/*
** WAL-index memory. Each region is guest memory the shim allocates aligned
** to SANDLITE_SHM_ALIGNMENT; the host maps the matching range of the -shm
** file over it, so every connection sharing the file sees the same bytes
** without copies. A mapping covers whole host pages: where a page is larger
** than a region (64 KiB pages, 32 KiB regions), the regions that share a
** page share one page-sized block, and the host maps the page once. See
** sl_shm_map and sl_shm_page_size in sandlite_shim.h.
*/

/* The host's page size for WAL-index mappings, asked once; 0 if the host
** cannot map WAL-index memory. */
static int32_t shm_page_size(void) {
  static int32_t page = -1;
  if (page < 0) {
    page = sl_shm_page_size();
    if (page <= 0 || page > SANDLITE_SHM_ALIGNMENT || (page & (page - 1)) != 0) {
      page = 0;
    }
  }
  return page;
}

/* Grow a NULL-filled pointer array to at least `count` entries. */
static int grow_pointers(void ***array, int32_t *length, int32_t count) {
  if (count <= *length) {
    return SQLITE_OK;
  }
  void **grown =
      sqlite3_realloc64(*array, sizeof(void *) * (sqlite3_uint64)count);
  if (grown == NULL) {
    return SQLITE_NOMEM;
  }
  memset(grown + *length, 0, sizeof(void *) * (size_t)(count - *length));
  *array = grown;
  *length = count;
  return SQLITE_OK;
}

static int sandlite_shm_map(sqlite3_file *base, int region, int region_size,
                            int extend, void volatile **out_region) {
  SandliteFile *file = as_file(base);
  *out_region = NULL;
  int32_t page = shm_page_size();
  if (region < 0 || region_size <= 0 || page == 0 ||
      (region_size % page != 0 && page % region_size != 0)) {
    return SQLITE_IOERR_SHMMAP;
  }
  if (region < file->shm_region_count && file->shm_regions[region] != NULL) {
    *out_region = file->shm_regions[region];
    return file->shm_readonly ? SQLITE_READONLY : SQLITE_OK;
  }
  /* Regions per block: those that share a host page. */
  int32_t per_block = region_size < page ? page / region_size : 1;
  int32_t group = region / per_block;
  int rc = grow_pointers(&file->shm_regions, &file->shm_region_count,
                         region + 1);
  if (rc == SQLITE_OK) {
    rc = grow_pointers(&file->shm_blocks, &file->shm_block_count, group + 1);
  }
  if (rc != SQLITE_OK) {
    return rc;
  }

  void *block = file->shm_blocks[group];
  int fresh = block == NULL;
  if (fresh) {
    block = aligned_alloc(SANDLITE_SHM_ALIGNMENT,
                          (size_t)region_size * (size_t)per_block);
    if (block == NULL) {
      return SQLITE_NOMEM;
    }
  }
  char *at = (char *)block + (size_t)(region % per_block) * (size_t)region_size;
  int32_t mapped = 0;
  rc = sl_shm_map(file->host_id, region, region_size, extend, at, &mapped);
  if ((rc == SQLITE_OK || rc == SQLITE_READONLY) && mapped) {
    file->shm_blocks[group] = block;
    file->shm_regions[region] = at;
    if (rc == SQLITE_READONLY) {
      file->shm_readonly = 1;
    }
    *out_region = at;
    return rc;
  }
  /* A block another region of the group lives in stays; the host left its
  ** mapping alone. */
  if (fresh) {
    free(block);
  }
  return rc == SQLITE_READONLY ? SQLITE_IOERR_SHMMAP : rc;
}

static int sandlite_shm_lock(sqlite3_file *base, int offset, int n,
                             int flags) {
  return sl_shm_lock(as_file(base)->host_id, offset, n, flags);
}

static void sandlite_shm_barrier(sqlite3_file *base) {
  sl_shm_barrier(as_file(base)->host_id);
}

static const sqlite3_io_methods sandlite_io_methods = {
    .iVersion = 2, /* shared memory; no xFetch (SQLITE_MAX_MMAP_SIZE=0) */
    .xClose = sandlite_close,
    .xRead = sandlite_read,
    .xWrite = sandlite_write,
    .xTruncate = sandlite_truncate,
    .xSync = sandlite_sync,
    .xFileSize = sandlite_file_size,
    .xLock = sandlite_lock,
    .xUnlock = sandlite_unlock,
    .xCheckReservedLock = sandlite_check_reserved_lock,
    .xFileControl = sandlite_file_control,
    .xSectorSize = sandlite_sector_size,
    .xDeviceCharacteristics = sandlite_device_characteristics,
    .xShmMap = sandlite_shm_map,
    .xShmLock = sandlite_shm_lock,
    .xShmBarrier = sandlite_shm_barrier,
    .xShmUnmap = sandlite_shm_unmap,
};

/* =====================================================================
** The VFS
*/

static int sandlite_open(sqlite3_vfs *vfs, sqlite3_filename name,
                         sqlite3_file *base, int flags, int *out_flags) {
  (void)vfs;
  SandliteFile *file = as_file(base);
  memset(file, 0, sizeof(*file));
  int32_t host_id = 0;
  int32_t used_flags = flags;
  int rc = sl_open(name, flags, &host_id, &used_flags);
  if (rc != SQLITE_OK) {
    /* A NULL pMethods tells SQLite not to call xClose. */
    file->base.pMethods = NULL;
    return rc;
  }
  file->host_id = host_id;
  file->base.pMethods = &sandlite_io_methods;
  if (out_flags != NULL) {
    *out_flags = used_flags;
  }
  return SQLITE_OK;
}

static int sandlite_delete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
  (void)vfs;
  return sl_delete(name, sync_dir);
}

static int sandlite_access(sqlite3_vfs *vfs, const char *name, int flags,
                           int *out_result) {
  (void)vfs;
  int32_t result = 0;
  int rc = sl_access(name, flags, &result);
  *out_result = result != 0;
  return rc;
}

static int sandlite_full_pathname(sqlite3_vfs *vfs, const char *name,
                                  int out_len, char *out) {
  (void)vfs;
  return sl_full_pathname(name, out_len, out);
}

static int sandlite_randomness(sqlite3_vfs *vfs, int len, char *out) {
  (void)vfs;
  return sl_randomness(len, out);
}

static int sandlite_sleep(sqlite3_vfs *vfs, int microseconds) {
  (void)vfs;
  return sl_sleep(microseconds);
}

static int sandlite_current_time_int64(sqlite3_vfs *vfs,
                                       sqlite3_int64 *out_julian_ms) {
  (void)vfs;
  int64_t julian_ms = 0;
  int rc = sl_current_time_int64(&julian_ms);
  *out_julian_ms = julian_ms;
  return rc;
}

static int sandlite_current_time(sqlite3_vfs *vfs, double *out_julian_day) {
  sqlite3_int64 julian_ms = 0;
  int rc = sandlite_current_time_int64(vfs, &julian_ms);
  *out_julian_day = (double)julian_ms / 86400000.0;
  return rc;
}

static int sandlite_get_last_error(sqlite3_vfs *vfs, int buf_len, char *buf) {
  (void)vfs;
  return sl_get_last_error(buf_len, buf);
}

static sqlite3_vfs sandlite_vfs = {
    .iVersion = 2, /* xCurrentTimeInt64; no xSetSystemCall */
    .szOsFile = sizeof(SandliteFile),
    .mxPathname = SANDLITE_MAX_PATHNAME,
    .zName = SANDLITE_VFS_NAME,
    .xOpen = sandlite_open,
    .xDelete = sandlite_delete,
    .xAccess = sandlite_access,
    .xFullPathname = sandlite_full_pathname,
    /* xDl* stay NULL: SQLITE_OMIT_LOAD_EXTENSION never calls them. */
    .xRandomness = sandlite_randomness,
    .xSleep = sandlite_sleep,
    .xCurrentTime = sandlite_current_time,
    .xGetLastError = sandlite_get_last_error,
    .xCurrentTimeInt64 = sandlite_current_time_int64,
};

int sqlite3_os_init(void) {
  return sqlite3_vfs_register(&sandlite_vfs, 1);
}

int sqlite3_os_end(void) {
  return SQLITE_OK;
}

/* =====================================================================
** Local time. The build maps SQLite's localtime_r() here
** (-DHAVE_LOCALTIME_R=1 -Dlocaltime_r=sandlite_localtime_r): wasi-libc has
** no time zones, so the host supplies the UTC offset and the shim does the
** calendar arithmetic. SQLite only asks about instants in 1970..2038.
*/

static int is_leap_year(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int64_t days_in_year(int64_t year) {
  return is_leap_year(year) ? 366 : 365;
}

struct tm *sandlite_localtime_r(const time_t *unix_seconds, struct tm *out) {
  /* +-2^40 s is +-34,000 years: far beyond anything SQLite asks, small
  ** enough that the year loop below stays short and nothing overflows. */
  const int64_t limit = (int64_t)1 << 40;
  int64_t utc = (int64_t)*unix_seconds;
  if (utc > limit || utc < -limit) {
    return NULL;
  }
  int32_t offset = 0;
  if (sl_localtime_offset(utc, &offset) != 0) {
    return NULL;
  }
  int64_t local = utc + offset;
  int64_t days = local / 86400;
  int64_t seconds_of_day = local % 86400;
  if (seconds_of_day < 0) {
    seconds_of_day += 86400;
    days -= 1;
  }
  /* 1970-01-01 was a Thursday (tm_wday 4). */
  int64_t weekday = (days + 4) % 7;
  if (weekday < 0) {
    weekday += 7;
  }

  int64_t year = 1970;
  int64_t day_of_year = days;
  while (day_of_year < 0) {
    year -= 1;
    day_of_year += days_in_year(year);
  }
  while (day_of_year >= days_in_year(year)) {
    day_of_year -= days_in_year(year);
    year += 1;
  }
  static const int month_days[12] = {31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
  int month = 0;
  int64_t day_of_month = day_of_year;
  for (;;) {
    int64_t length = month_days[month] + (month == 1 && is_leap_year(year));
    if (day_of_month < length) {
      break;
    }
    day_of_month -= length;
    month += 1;
  }

  memset(out, 0, sizeof(*out));
  out->tm_sec = (int)(seconds_of_day % 60);
  out->tm_min = (int)(seconds_of_day / 60 % 60);
  out->tm_hour = (int)(seconds_of_day / 3600);
  out->tm_mday = (int)day_of_month + 1;
  out->tm_mon = month;
  out->tm_year = (int)(year - 1900);
  out->tm_wday = (int)weekday;
  out->tm_yday = (int)day_of_year;
  out->tm_isdst = -1; /* the host folds DST into the offset */
  return out;
}

/* =====================================================================
** User functions
*/

static void function_call(sqlite3_context *ctx, int argc,
                          sqlite3_value **argv) {
  sl_func_call(pointer_to_handle(sqlite3_user_data(ctx)), ctx, argc, argv);
}

static void function_step(sqlite3_context *ctx, int argc,
                          sqlite3_value **argv) {
  sl_func_step(pointer_to_handle(sqlite3_user_data(ctx)), ctx, argc, argv);
}

static void function_final(sqlite3_context *ctx) {
  sl_func_final(pointer_to_handle(sqlite3_user_data(ctx)), ctx);
}

static void function_value(sqlite3_context *ctx) {
  sl_func_value(pointer_to_handle(sqlite3_user_data(ctx)), ctx);
}

static void function_inverse(sqlite3_context *ctx, int argc,
                             sqlite3_value **argv) {
  sl_func_inverse(pointer_to_handle(sqlite3_user_data(ctx)), ctx, argc, argv);
}

static void function_destroy(void *user_data) {
  sl_func_destroy(pointer_to_handle(user_data));
}

int32_t sandlite_create_function(sqlite3 *db, const char *name, int32_t n_arg,
                                 int32_t flags, int32_t handle, int32_t kind) {
  void *user_data = handle_to_pointer(handle);
  /* SQLite calls function_destroy itself when registration fails. */
  switch (kind) {
  case SANDLITE_FUNC_SCALAR:
    return sqlite3_create_function_v2(db, name, n_arg, flags, user_data,
                                      function_call, NULL, NULL,
                                      function_destroy);
  case SANDLITE_FUNC_AGGREGATE:
    return sqlite3_create_function_v2(db, name, n_arg, flags, user_data, NULL,
                                      function_step, function_final,
                                      function_destroy);
  case SANDLITE_FUNC_WINDOW:
    return sqlite3_create_window_function(
        db, name, n_arg, flags, user_data, function_step, function_final,
        function_value, function_inverse, function_destroy);
  default:
    sl_func_destroy(handle);
    return SQLITE_MISUSE;
  }
}

int32_t sandlite_remove_function(sqlite3 *db, const char *name, int32_t n_arg,
                                 int32_t flags) {
  return sqlite3_create_function_v2(db, name, n_arg, flags, NULL, NULL, NULL,
                                    NULL, NULL);
}

/* =====================================================================
** Collations
*/

static int collation_compare(void *user_data, int len1, const void *p1,
                             int len2, const void *p2) {
  return sl_collation_compare(pointer_to_handle(user_data), len1, p1, len2,
                              p2);
}

static void collation_destroy(void *user_data) {
  sl_collation_destroy(pointer_to_handle(user_data));
}

int32_t sandlite_create_collation(sqlite3 *db, const char *name,
                                  int32_t text_rep, int32_t handle) {
  int rc = sqlite3_create_collation_v2(db, name, text_rep,
                                       handle_to_pointer(handle),
                                       collation_compare, collation_destroy);
  /* Unlike the function API, SQLite does not run the destructor when
  ** registration fails; do it here so the host's rule is "exactly once". */
  if (rc != SQLITE_OK) {
    sl_collation_destroy(handle);
  }
  return rc;
}

int32_t sandlite_remove_collation(sqlite3 *db, const char *name,
                                  int32_t text_rep) {
  return sqlite3_create_collation_v2(db, name, text_rep, NULL, NULL, NULL);
}

/* =====================================================================
** Handlers and hooks
*/

static int busy_handler(void *user_data, int count) {
  return sl_busy_handler(pointer_to_handle(user_data), count);
}

int32_t sandlite_busy_handler(sqlite3 *db, int32_t enable, int32_t handle) {
  return sqlite3_busy_handler(db, enable ? busy_handler : NULL,
                              handle_to_pointer(handle));
}

static int progress_handler(void *user_data) {
  return sl_progress_handler(pointer_to_handle(user_data));
}

void sandlite_progress_handler(sqlite3 *db, int32_t n_ops, int32_t enable,
                               int32_t handle) {
  sqlite3_progress_handler(db, n_ops, enable ? progress_handler : NULL,
                           handle_to_pointer(handle));
}

static int commit_hook(void *user_data) {
  return sl_commit_hook(pointer_to_handle(user_data));
}

void sandlite_commit_hook(sqlite3 *db, int32_t enable, int32_t handle) {
  sqlite3_commit_hook(db, enable ? commit_hook : NULL,
                      handle_to_pointer(handle));
}

static void rollback_hook(void *user_data) {
  sl_rollback_hook(pointer_to_handle(user_data));
}

void sandlite_rollback_hook(sqlite3 *db, int32_t enable, int32_t handle) {
  sqlite3_rollback_hook(db, enable ? rollback_hook : NULL,
                        handle_to_pointer(handle));
}

static void update_hook(void *user_data, int op, const char *db_name,
                        const char *table, sqlite3_int64 rowid) {
  sl_update_hook(pointer_to_handle(user_data), op, db_name, table, rowid);
}

void sandlite_update_hook(sqlite3 *db, int32_t enable, int32_t handle) {
  sqlite3_update_hook(db, enable ? update_hook : NULL,
                      handle_to_pointer(handle));
}

static int authorizer(void *user_data, int action, const char *arg1,
                      const char *arg2, const char *db_name,
                      const char *trigger_or_view) {
  return sl_authorizer(pointer_to_handle(user_data), action, arg1, arg2,
                       db_name, trigger_or_view);
}

int32_t sandlite_set_authorizer(sqlite3 *db, int32_t enable, int32_t handle) {
  return sqlite3_set_authorizer(db, enable ? authorizer : NULL,
                                handle_to_pointer(handle));
}

static int trace_callback(unsigned event, void *user_data, void *p, void *x) {
  return sl_trace(pointer_to_handle(user_data), (int32_t)event, p, x);
}

int32_t sandlite_trace(sqlite3 *db, int32_t mask, int32_t handle) {
  return sqlite3_trace_v2(db, (unsigned)mask, mask ? trace_callback : NULL,
                          handle_to_pointer(handle));
}

/* =====================================================================
** Host values: bound pointers and auxiliary data
*/

static void release_host_value(void *pointer) {
  sl_release(pointer_to_handle(pointer));
}

int32_t sandlite_bind_pointer(sqlite3_stmt *stmt, int32_t i, int32_t handle) {
  if (stmt == NULL) {
    sl_release(handle);
    return SQLITE_MISUSE;
  }
  /* sqlite3_bind_pointer runs the destructor itself when the bind fails. */
  return sqlite3_bind_pointer(stmt, i, handle_to_pointer(handle),
                              SANDLITE_POINTER_TYPE, release_host_value);
}

int32_t sandlite_value_pointer(sqlite3_value *value) {
  return pointer_to_handle(sqlite3_value_pointer(value, SANDLITE_POINTER_TYPE));
}

void sandlite_set_auxdata(sqlite3_context *ctx, int32_t arg, int32_t handle) {
  /* sqlite3_set_auxdata runs the destructor itself when it fails. */
  sqlite3_set_auxdata(ctx, arg, handle_to_pointer(handle), release_host_value);
}

int32_t sandlite_get_auxdata(sqlite3_context *ctx, int32_t arg) {
  return pointer_to_handle(sqlite3_get_auxdata(ctx, arg));
}

/* =====================================================================
** Virtual tables: every method forwards to an sl_vtab_* import.
*/

/* The host reads and writes sqlite3_index_info in place: pin its layout. */
_Static_assert(sizeof(void *) == 4, "wasm32 pointers");
_Static_assert(offsetof(sqlite3_index_info, nConstraint) == 0, "index info");
_Static_assert(offsetof(sqlite3_index_info, aConstraint) == 4, "index info");
_Static_assert(offsetof(sqlite3_index_info, nOrderBy) == 8, "index info");
_Static_assert(offsetof(sqlite3_index_info, aOrderBy) == 12, "index info");
_Static_assert(offsetof(sqlite3_index_info, aConstraintUsage) == 16,
               "index info");
_Static_assert(offsetof(sqlite3_index_info, idxNum) == 20, "index info");
_Static_assert(offsetof(sqlite3_index_info, idxStr) == 24, "index info");
_Static_assert(offsetof(sqlite3_index_info, needToFreeIdxStr) == 28,
               "index info");
_Static_assert(offsetof(sqlite3_index_info, orderByConsumed) == 32,
               "index info");
_Static_assert(offsetof(sqlite3_index_info, estimatedCost) == 40,
               "index info");
_Static_assert(offsetof(sqlite3_index_info, estimatedRows) == 48,
               "index info");
_Static_assert(offsetof(sqlite3_index_info, idxFlags) == 56, "index info");
_Static_assert(offsetof(sqlite3_index_info, colUsed) == 64, "index info");
_Static_assert(sizeof(struct sqlite3_index_constraint) == 12, "constraint");
_Static_assert(offsetof(struct sqlite3_index_constraint, op) == 4,
               "constraint");
_Static_assert(offsetof(struct sqlite3_index_constraint, usable) == 5,
               "constraint");
_Static_assert(sizeof(struct sqlite3_index_orderby) == 8, "order by");
_Static_assert(offsetof(struct sqlite3_index_orderby, desc) == 4, "order by");
_Static_assert(sizeof(struct sqlite3_index_constraint_usage) == 8, "usage");
_Static_assert(offsetof(struct sqlite3_index_constraint_usage, omit) == 4,
               "usage");

typedef struct SandliteVtab {
  sqlite3_vtab base; /* must come first */
  int32_t host_id;   /* id from sl_vtab_connect */
} SandliteVtab;

typedef struct SandliteCursor {
  sqlite3_vtab_cursor base; /* must come first */
  int32_t host_id;          /* id from sl_vtab_open */
} SandliteCursor;

/* Hand a message from the host to SQLite as the table's error. */
static void vtab_error(sqlite3_vtab *vtab, char *message) {
  if (message != NULL) {
    sqlite3_free(vtab->zErrMsg);
    vtab->zErrMsg = message;
  }
}

static int vtab_connect_or_create(sqlite3 *db, void *aux, int argc,
                                  const char *const *argv,
                                  sqlite3_vtab **out, char **err,
                                  int32_t create) {
  SandliteVtab *vtab = sqlite3_malloc(sizeof *vtab);
  if (vtab == NULL) {
    return SQLITE_NOMEM;
  }
  memset(vtab, 0, sizeof *vtab);
  int32_t id = 0;
  char *message = NULL;
  int rc = sl_vtab_connect(pointer_to_handle(aux), db, create, argc, argv, &id,
                           &message);
  if (rc != SQLITE_OK) {
    sqlite3_free(vtab);
    *err = message;
    return rc;
  }
  sqlite3_free(message);
  vtab->host_id = id;
  *out = &vtab->base;
  return SQLITE_OK;
}

static int vtab_create(sqlite3 *db, void *aux, int argc,
                       const char *const *argv, sqlite3_vtab **out,
                       char **err) {
  return vtab_connect_or_create(db, aux, argc, argv, out, err, 1);
}

static int vtab_connect(sqlite3 *db, void *aux, int argc,
                        const char *const *argv, sqlite3_vtab **out,
                        char **err) {
  return vtab_connect_or_create(db, aux, argc, argv, out, err, 0);
}

static int vtab_best_index(sqlite3_vtab *vtab, sqlite3_index_info *info) {
  char *message = NULL;
  int rc = sl_vtab_best_index(((SandliteVtab *)vtab)->host_id, info, &message);
  vtab_error(vtab, message);
  return rc;
}

static int vtab_disconnect_or_destroy(sqlite3_vtab *vtab, int32_t destroy) {
  char *message = NULL;
  int rc = sl_vtab_disconnect(((SandliteVtab *)vtab)->host_id, destroy,
                              &message);
  if (rc != SQLITE_OK) {
    vtab_error(vtab, message);
    return rc;
  }
  sqlite3_free(message);
  sqlite3_free(vtab->zErrMsg);
  sqlite3_free(vtab);
  return SQLITE_OK;
}

static int vtab_disconnect(sqlite3_vtab *vtab) {
  return vtab_disconnect_or_destroy(vtab, 0);
}

static int vtab_destroy(sqlite3_vtab *vtab) {
  return vtab_disconnect_or_destroy(vtab, 1);
}

static int vtab_open(sqlite3_vtab *vtab, sqlite3_vtab_cursor **out) {
  SandliteCursor *cursor = sqlite3_malloc(sizeof *cursor);
  if (cursor == NULL) {
    return SQLITE_NOMEM;
  }
  memset(cursor, 0, sizeof *cursor);
  char *message = NULL;
  int32_t id = 0;
  int rc = sl_vtab_open(((SandliteVtab *)vtab)->host_id, &id, &message);
  if (rc != SQLITE_OK) {
    sqlite3_free(cursor);
    vtab_error(vtab, message);
    return rc;
  }
  sqlite3_free(message);
  cursor->host_id = id;
  *out = &cursor->base;
  return SQLITE_OK;
}

static int32_t cursor_id(sqlite3_vtab_cursor *cursor) {
  return ((SandliteCursor *)cursor)->host_id;
}

static int vtab_close(sqlite3_vtab_cursor *cursor) {
  int rc = sl_vtab_close(cursor_id(cursor));
  sqlite3_free(cursor);
  return rc;
}

static int vtab_filter(sqlite3_vtab_cursor *cursor, int idx_num,
                       const char *idx_str, int argc, sqlite3_value **argv) {
  char *message = NULL;
  int rc = sl_vtab_filter(cursor_id(cursor), idx_num, idx_str, argc, argv,
                          &message);
  vtab_error(cursor->pVtab, message);
  return rc;
}

static int vtab_next(sqlite3_vtab_cursor *cursor) {
  char *message = NULL;
  int rc = sl_vtab_next(cursor_id(cursor), &message);
  vtab_error(cursor->pVtab, message);
  return rc;
}

static int vtab_eof(sqlite3_vtab_cursor *cursor) {
  return sl_vtab_eof(cursor_id(cursor)) != 0;
}

static int vtab_column(sqlite3_vtab_cursor *cursor, sqlite3_context *ctx,
                       int column) {
  return sl_vtab_column(cursor_id(cursor), ctx, column);
}

static int vtab_rowid(sqlite3_vtab_cursor *cursor, sqlite3_int64 *out) {
  char *message = NULL;
  int64_t rowid = 0;
  int rc = sl_vtab_rowid(cursor_id(cursor), &rowid, &message);
  vtab_error(cursor->pVtab, message);
  *out = rowid;
  return rc;
}

static int vtab_update(sqlite3_vtab *vtab, int argc, sqlite3_value **argv,
                       sqlite3_int64 *out_rowid) {
  char *message = NULL;
  int rc = sl_vtab_update(((SandliteVtab *)vtab)->host_id, argc, argv,
                          out_rowid, &message);
  vtab_error(vtab, message);
  return rc;
}

static int vtab_transaction(sqlite3_vtab *vtab, int32_t op) {
  char *message = NULL;
  int rc = sl_vtab_transaction(((SandliteVtab *)vtab)->host_id, op, &message);
  vtab_error(vtab, message);
  return rc;
}

static int vtab_begin(sqlite3_vtab *vtab) {
  return vtab_transaction(vtab, SANDLITE_VTAB_BEGIN);
}

static int vtab_sync(sqlite3_vtab *vtab) {
  return vtab_transaction(vtab, SANDLITE_VTAB_SYNC);
}

static int vtab_commit(sqlite3_vtab *vtab) {
  return vtab_transaction(vtab, SANDLITE_VTAB_COMMIT);
}

static int vtab_rollback(sqlite3_vtab *vtab) {
  return vtab_transaction(vtab, SANDLITE_VTAB_ROLLBACK);
}

/* Nine static modules: three ways to make tables (a distinct xCreate, for
** CREATE VIRTUAL TABLE only; xCreate == xConnect, eponymous too; no xCreate,
** eponymous only) times three sets of write methods (none, so SQLite
** refuses writes; xUpdate; xUpdate and the transaction methods). */
#define SANDLITE_MODULE(create, destroy, update, begin, sync, commit,        \
                        rollback)                                            \
  {                                                                          \
    .iVersion = 1, .xCreate = (create), .xConnect = vtab_connect,            \
    .xBestIndex = vtab_best_index, .xDisconnect = vtab_disconnect,           \
    .xDestroy = (destroy), .xOpen = vtab_open, .xClose = vtab_close,         \
    .xFilter = vtab_filter, .xNext = vtab_next, .xEof = vtab_eof,            \
    .xColumn = vtab_column, .xRowid = vtab_rowid, .xUpdate = (update),       \
    .xBegin = (begin), .xSync = (sync), .xCommit = (commit),                 \
    .xRollback = (rollback),                                                 \
  }

#define SANDLITE_MODULES(create, destroy)                                    \
  {                                                                          \
    SANDLITE_MODULE(create, destroy, NULL, NULL, NULL, NULL, NULL),          \
    SANDLITE_MODULE(create, destroy, vtab_update, NULL, NULL, NULL, NULL),   \
    SANDLITE_MODULE(create, destroy, vtab_update, vtab_begin, vtab_sync,     \
                    vtab_commit, vtab_rollback),                             \
  }

/* Indexed by kind, then by write methods (0 read-only, 1 UPDATE, 2 UPDATE |
** TRANSACTIONS). */
static const sqlite3_module modules[3][3] = {
    [SANDLITE_MODULE_DEFAULT] = SANDLITE_MODULES(vtab_create, vtab_destroy),
    [SANDLITE_MODULE_EPONYMOUS] = SANDLITE_MODULES(vtab_connect, vtab_destroy),
    [SANDLITE_MODULE_EPONYMOUS_ONLY] = SANDLITE_MODULES(NULL, vtab_disconnect),
};

int32_t sandlite_create_module(sqlite3 *db, const char *name, int32_t handle,
                               int32_t kind) {
  const sqlite3_module *module = NULL;
  int32_t base = kind & 0xff;
  int32_t writes;
  switch (kind & ~0xff) {
  case 0:
    writes = 0;
    break;
  case SANDLITE_MODULE_UPDATE:
    writes = 1;
    break;
  case SANDLITE_MODULE_UPDATE | SANDLITE_MODULE_TRANSACTIONS:
    writes = 2;
    break;
  default:
    writes = -1;
    break;
  }
  if (base >= SANDLITE_MODULE_DEFAULT && base <= SANDLITE_MODULE_EPONYMOUS_ONLY
      && writes >= 0) {
    module = &modules[base][writes];
  }
  /* API armor refuses these before the destructor would run. */
  if (module == NULL || name == NULL || !sqlite3SafetyCheckOk(db)) {
    sl_release(handle);
    return SQLITE_MISUSE;
  }
  return sqlite3_create_module_v2(db, name, module, handle_to_pointer(handle),
                                  release_host_value);
}

int32_t sandlite_vtab_config(sqlite3 *db, int32_t op, int32_t arg) {
  switch (op) {
  case SQLITE_VTAB_CONSTRAINT_SUPPORT:
    return sqlite3_vtab_config(db, op, (int)arg);
  case SQLITE_VTAB_INNOCUOUS:
  case SQLITE_VTAB_DIRECTONLY:
  case SQLITE_VTAB_USES_ALL_SCHEMAS:
    return sqlite3_vtab_config(db, op);
  default:
    return SQLITE_MISUSE;
  }
}

/* =====================================================================
** Non-variadic wrappers and small helpers
*/

int32_t sandlite_abi_version(void) {
  return SANDLITE_ABI_VERSION;
}

int32_t sandlite_step_row(sqlite3_stmt *stmt, SandliteColumn *out,
                          int32_t capacity) {
  int rc = sqlite3_step(stmt);
  if (rc != SQLITE_ROW) {
    return rc;
  }
  int n = sqlite3_data_count(stmt);
  if (n > capacity) {
    n = capacity;
  }
  for (int i = 0; i < n; i++) {
    SandliteColumn *col = &out[i];
    int type = sqlite3_column_type(stmt, i);
    col->type = type;
    col->len = 0;
    switch (type) {
    case SQLITE_INTEGER:
      col->value = sqlite3_column_int64(stmt, i);
      break;
    case SQLITE_FLOAT: {
      double d = sqlite3_column_double(stmt, i);
      memcpy(&col->value, &d, sizeof d);
      break;
    }
    case SQLITE_TEXT:
      /* Text first, then its length, as the C API advises. */
      col->value = (int64_t)(intptr_t)sqlite3_column_text(stmt, i);
      col->len = sqlite3_column_bytes(stmt, i);
      break;
    case SQLITE_BLOB:
      col->value = (int64_t)(intptr_t)sqlite3_column_blob(stmt, i);
      col->len = sqlite3_column_bytes(stmt, i);
      break;
    default:
      col->value = 0;
      break;
    }
  }
  return rc;
}

int32_t sandlite_db_config_int(sqlite3 *db, int32_t op, int32_t value,
                               int32_t *out_value) {
  if (op < SQLITE_DBCONFIG_ENABLE_FKEY || op > SQLITE_DBCONFIG_MAX) {
    return SQLITE_MISUSE;
  }
  return sqlite3_db_config(db, op, (int)value, (int *)out_value);
}

int32_t sandlite_config_memstatus(int32_t enable) {
  return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, (int)(enable != 0));
}

volatile int *sandlite_interrupt_flag(sqlite3 *db) {
  if (!sqlite3SafetyCheckOk(db)) {
    return NULL;
  }
  return &db->u1.isInterrupted;
}

int32_t sandlite_free_destructor(void) {
  return (int32_t)(intptr_t)&sqlite3_free;
}
