// SQLite's own unix VFS over WASI: create, fill and query a database file in a
// preopened directory. Linked with the SQLite amalgamation by tests/wasi/build.sh into
// tests/wasi/sqlite_demo.wasm; driven by tests/wasi.rs, which then opens the same file
// with the native sqlite3 CLI.
//
//   sqlite_demo.wasm DB_PATH ROWS
//
// SQLite compiled for WASI (SQLITE_WASI, set by its own __wasi__ detection) has no
// mmap and no POSIX advisory locks; it defaults to the "unix-dotfile" VFS, which locks
// by creating and removing a DB_PATH.lock directory.

#include <stdio.h>
#include <stdlib.h>

#include "sqlite3.h"

static int print_row(void *label, int ncols, char **values, char **names) {
  printf("%s:", (const char *)label);
  for (int i = 0; i < ncols; i++) printf(" %s=%s", names[i], values[i] ? values[i] : "NULL");
  printf("\n");
  return 0;
}

static int exec(sqlite3 *db, const char *sql, const char *label) {
  char *err = NULL;
  if (sqlite3_exec(db, sql, print_row, (void *)label, &err) != SQLITE_OK) {
    printf("error in %s: %s\n", label, err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s DB_PATH ROWS\n", argv[0]);
    return 2;
  }
  int rows = atoi(argv[2]);
  sqlite3 *db;
  if (sqlite3_open(argv[1], &db) != SQLITE_OK) {
    printf("cannot open %s: %s\n", argv[1], sqlite3_errmsg(db));
    return 1;
  }
  printf("sqlite %s, vfs %s\n", sqlite3_libversion(), sqlite3_vfs_find(NULL)->zName);
  if (exec(db, "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, name TEXT, score REAL);",
           "create"))
    return 1;
  exec(db, "BEGIN", "begin");
  sqlite3_stmt *ins;
  sqlite3_prepare_v2(db, "INSERT INTO t(name, score) VALUES (?1, ?2)", -1, &ins, NULL);
  for (int i = 1; i <= rows; i++) {
    char name[32];
    snprintf(name, sizeof name, "row-%d", i);
    sqlite3_bind_text(ins, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(ins, 2, i * 0.5);
    if (sqlite3_step(ins) != SQLITE_DONE) {
      printf("insert failed: %s\n", sqlite3_errmsg(db));
      return 1;
    }
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  if (exec(db, "COMMIT", "commit")) return 1;
  exec(db, "CREATE INDEX IF NOT EXISTS t_score ON t(score);", "index");
  exec(db, "SELECT count(*) AS n, sum(score) AS total, max(name) AS last FROM t;", "summary");
  exec(db, "SELECT id, name FROM t WHERE score BETWEEN 2 AND 3 ORDER BY id;", "range");
  exec(db, "UPDATE t SET score = -1 WHERE id % 10 = 0;", "update");
  exec(db, "DELETE FROM t WHERE id > 90;", "delete");
  exec(db, "SELECT count(*) AS n, sum(score < 0) AS negative FROM t;", "after");
  exec(db, "PRAGMA integrity_check;", "check");
  if (sqlite3_close(db) != SQLITE_OK) {
    printf("close failed\n");
    return 1;
  }
  printf("done\n");
  return 0;
}
