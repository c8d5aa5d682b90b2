#!/usr/bin/env python3
"""The workloads of benches/sql.rs on the system's native SQLite.

Same schema, same generated rows (splitmix64, reimplemented bit for bit), same queries,
same pragmas (WAL, synchronous = NORMAL, and everything else SQLite's default), so the
figures can be set against criterion's for Sandlite. Three native references:

* Python's `sqlite3` module (links the system libsqlite3): the main mirror of every bench.
  Python adds its own interpreter overhead to each call, which dominates the cheapest
  statements (`SELECT 1`, point selects), and its GIL serializes the Python side of the
  8-thread pool bench; the pool bench is therefore also run with 8 processes.
* The `sqlite3` command-line shell on scripts of literal statements, timed as the wall
  time of the script minus that of the same script without the workload. Every
  statement is parsed and prepared anew (no prepared-statement reuse), so this is an
  upper bound for the bulk workloads rather than a twin.
* A small C program (written out, compiled with `cc -O2 -lsqlite3` and run if a C
  compiler and `sqlite3.h` are present) for `SELECT 1`, point selects (one prepared
  statement rebound and reset per call) and `insert_100k` (rows generated before the
  timer): native SQLite without any host-language overhead. Median of 15 rounds (10 for
  the insert) after a warm-up round.

Each Python measurement: one warm-up second, then rounds of a calibrated number of
iterations for about `--measurement-time` seconds; the reported figure is the mean time
per iteration over all rounds (what criterion's `mean` estimates), with the median round.

    python3 benches/native_sql.py [--measurement-time 5] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# Sizes and SQL: keep in step with benches/sql.rs.
ROWS = 100_000
RANGE_ROWS = 10_000
CUSTOMERS = 1_000
ORDERS = 20_000
REGIONS = 10
KEYS = 4_096
POOL_READERS = 7
POOL_OPS_PER_THREAD = 250

SCHEMA_T = "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, x REAL)"
INSERT_T = "INSERT INTO t(id, name, x) VALUES (?1, ?2, ?3)"
POINT_SELECT = "SELECT name, x FROM t WHERE id = ?1"
RANGE_AGGREGATE = (
    "SELECT count(*), sum(x), avg(length(name)) FROM t WHERE id BETWEEN ?1 AND ?2"
)
JOIN_GROUP_BY = (
    "SELECT c.region, count(*), sum(o.amount) "
    "FROM orders AS o JOIN customers AS c ON c.id = o.customer_id "
    "GROUP BY c.region ORDER BY c.region"
)
POOL_INSERT = "INSERT INTO t(name, x) VALUES (?1, ?2)"
INSERT_SELECT = "INSERT INTO t(id, name, x) SELECT id, name, x FROM src.t"

MASK = (1 << 64) - 1


def mix(seed: int) -> int:
    """splitmix64's output function (the same as `mix` in benches/sql.rs)."""
    z = (seed + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def t_row(i: int) -> tuple[int, str, float]:
    h = mix(i)
    return (i, f"row {i:06d} {h & 0xFFFFFFFF:08x}", (h % 10_000) / 100.0)


def point_keys() -> list[int]:
    return [mix(1_000_000 + k) % ROWS + 1 for k in range(KEYS)]


def range_starts() -> list[int]:
    return [mix(2_000_000 + k) % (ROWS - RANGE_ROWS + 1) + 1 for k in range(KEYS)]


def orders() -> list[tuple[int, int, float]]:
    return [
        (i, mix(3_000_000 + i) % CUSTOMERS + 1, (mix(4_000_000 + i) % 100_000) / 100.0)
        for i in range(1, ORDERS + 1)
    ]


# Compile-time defaults of this SQLite build that differ from Sandlite's build, set to
# Sandlite's values (Sandlite: SQLITE_TEMP_STORE=3, no SQLITE_SECURE_DELETE).
EQUALIZE = "PRAGMA temp_store = MEMORY; PRAGMA secure_delete = OFF;"


def open_file(path: Path) -> sqlite3.Connection:
    # Autocommit mode: transactions are explicit BEGIN/COMMIT, as with the driver.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    assert mode == "wal", mode
    conn.executescript("PRAGMA synchronous = NORMAL;" + EQUALIZE)
    return conn


def insert_rows(conn: sqlite3.Connection, rows) -> None:
    conn.execute("BEGIN")
    conn.executemany(INSERT_T, rows)  # one prepared statement, reset and rebound per row
    conn.execute("COMMIT")


def fill(conn: sqlite3.Connection, rows) -> None:
    conn.execute(SCHEMA_T)
    insert_rows(conn, rows)
    conn.executescript(
        "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT, region TEXT);"
        "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER, amount REAL);"
    )
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO customers(id, name, region) VALUES (?1, ?2, ?3)",
        [(i, f"customer {i}", f"region {i % REGIONS}") for i in range(1, CUSTOMERS + 1)],
    )
    conn.executemany(
        "INSERT INTO orders(id, customer_id, amount) VALUES (?1, ?2, ?3)", orders()
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def point_select(conn, key):
    return conn.execute(POINT_SELECT, (key,)).fetchone()


def range_aggregate(conn, lo):
    return conn.execute(RANGE_AGGREGATE, (lo, lo + RANGE_ROWS - 1)).fetchone()


def join_group_by(conn):
    return conn.execute(JOIN_GROUP_BY).fetchall()


def check_answers(conn, rows) -> None:
    """The same checks as benches/sql.rs, so both sides provably run on the same data."""
    i, name, x = rows[41_999]
    assert point_select(conn, i) == (name, x)
    count, total, _ = range_aggregate(conn, 1)
    expected = sum(r[2] for r in rows[:RANGE_ROWS])
    assert count == RANGE_ROWS and abs(total - expected) < 1e-6 * expected
    groups = join_group_by(conn)
    assert len(groups) == REGIONS and sum(g[1] for g in groups) == ORDERS
    amounts = sum(o[2] for o in orders())
    assert abs(sum(g[2] for g in groups) - amounts) < 1e-6 * amounts


class Timing:
    def __init__(self, name: str, per_iter: list[float], ops: int = 1):
        self.name = name
        self.mean = statistics.fmean(per_iter)
        self.median = statistics.median(per_iter)
        self.rounds = len(per_iter)
        self.ops = ops  # operations per iteration (for throughput)

    def line(self) -> str:
        extra = f"  ({self.ops / self.mean:,.0f} ops/s)" if self.ops > 1 else ""
        return (
            f"{self.name:<34} mean {fmt(self.mean):>10}  median {fmt(self.median):>10}"
            f"  rounds {self.rounds:>3}{extra}"
        )


def fmt(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3f} {unit}"
    return f"{seconds / 1e-9:.1f} ns"


def measure(name: str, step, measurement_time: float) -> Timing:
    """Times a cheap `step()`: a warm-up second, then rounds of a calibrated size."""
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 1.0:
        step()
        n += 1
    per_round = max(1, int(n / 1.0 * measurement_time / 30))  # ~30 rounds
    per_iter = []
    end = time.perf_counter() + measurement_time
    while time.perf_counter() < end or len(per_iter) < 10:
        start = time.perf_counter()
        for _ in range(per_round):
            step()
        per_iter.append((time.perf_counter() - start) / per_round)
    return Timing(name, per_iter)


def measure_each(name: str, setup, routine, iterations: int, ops: int = 1) -> Timing:
    """Times `routine(setup())` once per iteration, excluding `setup` (for slow bodies)."""
    routine(setup())  # warm-up
    per_iter = []
    for _ in range(iterations):
        state = setup()
        start = time.perf_counter()
        routine(state)
        per_iter.append(time.perf_counter() - start)
    return Timing(name, per_iter, ops)


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


# ---------------------------------------------------------------------------- pool bench


def pool_threads(path: Path, keys, iterations: int) -> Timing:
    """8 threads, each with its own connection (as the pool gives each thread one)."""
    readers = []
    for _ in range(POOL_READERS):
        c = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        c.executescript("PRAGMA query_only = ON;" + EQUALIZE)
        readers.append(c)
    writer = open_file(path)

    def read(conn, reader):
        for op in range(POOL_OPS_PER_THREAD):
            point_select(conn, keys[(reader * POOL_OPS_PER_THREAD + op) % KEYS])

    def write():
        for op in range(POOL_OPS_PER_THREAD):
            writer.execute(POOL_INSERT, ("pool writer", op / 4.0))

    def round_(_):
        threads = [
            threading.Thread(target=read, args=(c, r)) for r, c in enumerate(readers)
        ]
        threads.append(threading.Thread(target=write))
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    ops = (POOL_READERS + 1) * POOL_OPS_PER_THREAD
    result = measure_each("pool 8 threads (Python threads)", lambda: None, round_,
                          iterations, ops)
    for c in [*readers, writer]:
        c.close()
    return result


def _pool_worker(path, keys, index, start, done, rounds):
    if index < POOL_READERS:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.executescript("PRAGMA query_only = ON;" + EQUALIZE)
    else:
        conn = open_file(path)
    for _ in range(rounds):
        start.wait()
        for op in range(POOL_OPS_PER_THREAD):
            if index < POOL_READERS:
                point_select(conn, keys[(index * POOL_OPS_PER_THREAD + op) % KEYS])
            else:
                conn.execute(POOL_INSERT, ("pool writer", op / 4.0))
        done.wait()


def pool_processes(path: Path, keys, iterations: int) -> Timing:
    """The same with 8 processes: no GIL, so native SQLite runs truly in parallel."""
    # Spawned, not forked: a forked child would inherit this process's open SQLite
    # connections and SQLite's per-file lock bookkeeping, which SQLite forbids.
    ctx = mp.get_context("spawn")
    parties = POOL_READERS + 2
    start, done = ctx.Barrier(parties), ctx.Barrier(parties)
    rounds = iterations + 1
    workers = [
        ctx.Process(target=_pool_worker, args=(str(path), keys, i, start, done, rounds))
        for i in range(POOL_READERS + 1)
    ]
    for w in workers:
        w.start()
    per_iter = []
    for r in range(rounds):
        start.wait()
        t0 = time.perf_counter()
        done.wait()
        if r > 0:  # the first round is the warm-up
            per_iter.append(time.perf_counter() - t0)
    for w in workers:
        w.join()
    ops = (POOL_READERS + 1) * POOL_OPS_PER_THREAD
    return Timing("pool 8 processes", per_iter, ops)


# ---------------------------------------------------------------------- sqlite3 CLI


def cli_time(db: Path, script: str, baseline: str, runs: int = 5) -> float:
    """Median wall time of `sqlite3 db < script` minus that of `baseline`."""

    def run(text: str) -> float:
        start = time.perf_counter()
        subprocess.run(["sqlite3", str(db)], input=text.encode(), check=True,
                       stdout=subprocess.DEVNULL)
        return time.perf_counter() - start

    diffs = []
    for _ in range(runs):
        b = run(baseline)
        w = run(script)
        diffs.append(w - b)
    return statistics.median(diffs)


def sql_literal(v) -> str:
    return "'" + v.replace("'", "''") + "'" if isinstance(v, str) else repr(v)


def cli_benches(workdir: Path, read_db: Path, rows, keys, starts) -> list[tuple[str, float]]:
    if shutil.which("sqlite3") is None:
        return []
    out = []
    prologue = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;\n" + EQUALIZE + "\n"
    ins = workdir / "cli_insert.db"

    inserts = "".join(
        f"INSERT INTO t(id, name, x) VALUES ({i}, {sql_literal(n)}, {x!r});\n"
        for i, n, x in rows
    )
    base = prologue + SCHEMA_T + ";\nBEGIN;\nCOMMIT;\n"
    work = prologue + SCHEMA_T + ";\nBEGIN;\n" + inserts + "COMMIT;\n"
    diffs = []
    for _ in range(5):
        remove_db(ins)
        b = cli_time_once(ins, base)
        remove_db(ins)
        diffs.append(cli_time_once(ins, work) - b)
    out.append(("insert_100k (100k literal INSERTs)", statistics.median(diffs)))

    attach = f"ATTACH {sql_literal(str(read_db))} AS src;\n"
    base = prologue + SCHEMA_T + ";\n" + attach + "BEGIN;\nCOMMIT;\n"
    work = prologue + SCHEMA_T + ";\n" + attach + "BEGIN;\n" + INSERT_SELECT + ";\nCOMMIT;\n"
    diffs = []
    for _ in range(5):
        remove_db(ins)
        b = cli_time_once(ins, base)
        remove_db(ins)
        diffs.append(cli_time_once(ins, work) - b)
    out.append(("insert_select_100k", statistics.median(diffs)))
    remove_db(ins)

    n = 20_000
    script = prologue + "".join(
        POINT_SELECT.replace("?1", str(keys[k % KEYS])) + ";\n" for k in range(n)
    )
    out.append((f"point_select (each of {n} prepared anew)",
                cli_time(read_db, script, prologue) / n))
    n = 1_000
    script = prologue + "".join(
        RANGE_AGGREGATE.replace("?1", str(lo)).replace("?2", str(lo + RANGE_ROWS - 1))
        + ";\n" for lo in starts[:n]
    )
    out.append((f"range_aggregate (x{n})", cli_time(read_db, script, prologue) / n))
    n = 200
    script = prologue + (JOIN_GROUP_BY + ";\n") * n
    out.append((f"join_group_by (x{n})", cli_time(read_db, script, prologue) / n))
    return out


def cli_time_once(db: Path, text: str) -> float:
    start = time.perf_counter()
    subprocess.run(["sqlite3", str(db)], input=text.encode(), check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


# ------------------------------------------------------------------------ C reference

C_SOURCE = r"""
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROWS 100000

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t mix(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void check(int rc, int want, const char *what) {
    if (rc != want) { fprintf(stderr, "%s: %d\n", what, rc); exit(1); }
}

/* argv: read.db insert.db key... Prints "name<TAB>seconds" (median round). */
int main(int argc, char **argv) {
    sqlite3 *db;
    check(sqlite3_open(argv[1], &db), SQLITE_OK, "open");
    sqlite3_exec(db, "PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;", 0, 0, 0);
    int nkeys = argc - 3;
    long long *keys = malloc(sizeof *keys * nkeys);
    for (int i = 0; i < nkeys; i++) keys[i] = atoll(argv[i + 3]);

    /* select_1 and point_select: one prepared statement, rebound and reset per call. */
    const char *sql[2] = {"SELECT 1", "SELECT name, x FROM t WHERE id = ?1"};
    for (int which = 0; which < 2; which++) {
        sqlite3_stmt *st;
        check(sqlite3_prepare_v2(db, sql[which], -1, &st, 0), SQLITE_OK, "prepare");
        int n = which == 0 ? 1000000 : 200000;
        double rounds[16];
        long long sink = 0;
        for (int r = 0; r < 16; r++) {
            double t0 = now();
            for (int i = 0; i < n; i++) {
                if (which == 1) sqlite3_bind_int64(st, 1, keys[i % nkeys]);
                check(sqlite3_step(st), SQLITE_ROW, "step");
                if (which == 0) sink += sqlite3_column_int64(st, 0);
                else sink += sqlite3_column_bytes(st, 0) + (long long)sqlite3_column_double(st, 1);
                sqlite3_reset(st);
            }
            rounds[r] = (now() - t0) / n;
        }
        qsort(rounds + 1, 15, sizeof(double), cmp); /* round 0 is the warm-up */
        printf("%s\t%.9f\t%lld\n", which == 0 ? "select_1" : "point_select", rounds[8], sink);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);

    /* insert_100k: rows generated first; each round a fresh file, one transaction. */
    static char names[ROWS][24];
    static double xs[ROWS];
    for (int i = 1; i <= ROWS; i++) {
        uint64_t h = mix((uint64_t)i);
        snprintf(names[i - 1], sizeof names[0], "row %06d %08llx", i,
                 (unsigned long long)(h & 0xffffffffu));
        xs[i - 1] = (double)(h % 10000) / 100.0;
    }
    double rounds[11];
    char path[4096];
    for (int r = 0; r < 11; r++) {
        const char *suffix[3] = {"", "-wal", "-shm"};
        for (int s = 0; s < 3; s++) {
            snprintf(path, sizeof path, "%s%s", argv[2], suffix[s]);
            unlink(path);
        }
        check(sqlite3_open(argv[2], &db), SQLITE_OK, "open insert db");
        check(sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                           "PRAGMA temp_store = MEMORY; PRAGMA secure_delete = OFF;"
                           "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, x REAL)",
                           0, 0, 0), SQLITE_OK, "schema");
        double t0 = now();
        sqlite3_stmt *st;
        check(sqlite3_exec(db, "BEGIN", 0, 0, 0), SQLITE_OK, "BEGIN");
        check(sqlite3_prepare_v2(db, "INSERT INTO t(id, name, x) VALUES (?1, ?2, ?3)", -1,
                                 &st, 0), SQLITE_OK, "prepare insert");
        for (int i = 0; i < ROWS; i++) {
            sqlite3_bind_int64(st, 1, i + 1);
            sqlite3_bind_text(st, 2, names[i], -1, SQLITE_STATIC);
            sqlite3_bind_double(st, 3, xs[i]);
            check(sqlite3_step(st), SQLITE_DONE, "insert");
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        check(sqlite3_exec(db, "COMMIT", 0, 0, 0), SQLITE_OK, "COMMIT");
        rounds[r] = now() - t0;
        sqlite3_close(db);
    }
    qsort(rounds + 1, 10, sizeof(double), cmp);
    printf("insert_100k\t%.9f\t0\n", (rounds[5] + rounds[6]) / 2);
    return 0;
}
"""


def c_benches(workdir: Path, read_db: Path, keys) -> list[tuple[str, float]]:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or not Path("/usr/include/sqlite3.h").exists():
        return []
    src, exe = workdir / "native_ref.c", workdir / "native_ref"
    src.write_text(C_SOURCE)
    subprocess.run([cc, "-O2", "-Wall", str(src), "-o", str(exe), "-lsqlite3"], check=True)
    out = subprocess.run([str(exe), str(read_db), str(workdir / "c_insert.db"),
                          *map(str, keys)], check=True,
                         capture_output=True, text=True).stdout
    return [(line.split("\t")[0] + " (C)", float(line.split("\t")[1]))
            for line in out.splitlines()]


# ------------------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--measurement-time", type=float, default=5.0)
    ap.add_argument("--no-cli", action="store_true", help="skip the sqlite3 shell")
    ap.add_argument("--no-c", action="store_true", help="skip the C reference")
    args = ap.parse_args()

    print(f"Python {platform.python_version()}, sqlite3 module on SQLite "
          f"{sqlite3.sqlite_version}, {os.cpu_count()} CPUs, {platform.machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = [t_row(i) for i in range(1, ROWS + 1)]
        read_db = work / "read.db"
        conn = open_file(read_db)
        fill(conn, rows)
        check_answers(conn, rows)
        keys, starts = point_keys(), range_starts()
        mt = args.measurement_time
        results = []

        results.append(measure("select_1", lambda: conn.execute("SELECT 1").fetchone(), mt))
        it = iter(range(1 << 62))
        results.append(measure(
            "point_select", lambda: point_select(conn, keys[next(it) % KEYS]), mt))
        it = iter(range(1 << 62))
        results.append(measure(
            "range_aggregate", lambda: range_aggregate(conn, starts[next(it) % KEYS]), mt))
        results.append(measure("join_group_by", lambda: join_group_by(conn), mt))

        ins = work / "insert.db"
        # The timed body leaves its connection here; the next setup closes it (untimed,
        # as criterion drops the Rust connection after the timer stops).
        closers = []

        def fresh_insert_db():
            while closers:
                closers.pop().close()
            remove_db(ins)
            c = open_file(ins)
            c.execute(SCHEMA_T)
            return c

        def insert_timed(c):
            insert_rows(c, rows)
            closers.append(c)

        results.append(measure_each("insert_100k", fresh_insert_db, insert_timed, 10))

        def fresh_attached():
            c = fresh_insert_db()
            c.execute("ATTACH ?1 AS src", (str(read_db),))
            return c

        def insert_select(c):
            c.execute("BEGIN")
            c.execute(INSERT_SELECT)
            c.execute("COMMIT")
            closers.append(c)

        results.append(measure_each("insert_select_100k", fresh_attached, insert_select, 10))
        while closers:
            closers.pop().close()
        remove_db(ins)

        pool_db = work / "pool.db"
        pool_conn = open_file(pool_db)
        fill(pool_conn, rows)
        pool_conn.close()
        results.append(pool_threads(pool_db, keys, 50))
        results.append(pool_processes(pool_db, keys, 50))

        for r in results:
            print(r.line())
        sys.stdout.flush()

        if not args.no_c:
            for name, secs in c_benches(work, read_db, keys):
                print(f"{name:<34} median round {fmt(secs):>10}")
        if not args.no_cli:
            version = subprocess.run(["sqlite3", "--version"], capture_output=True,
                                     text=True).stdout.split()[0]
            print(f"sqlite3 shell {version}:")
            for name, secs in cli_benches(work, read_db, rows, keys, starts):
                print(f"  {name:<40} {fmt(secs):>10}")
        conn.close()


if __name__ == "__main__":
    main()
