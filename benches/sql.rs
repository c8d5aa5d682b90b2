//! SQL workloads through `sandlite-driver`, with SQLite on the compiler and on the
//! interpreter (groups `sql-compiler` and `sql-interpreter`).
//!
//! Six workloads, each mirrored statement for statement by `benches/native_sql.py` on the
//! system's native SQLite, so the two can be compared side by side:
//!
//! | bench | what one iteration does |
//! |---|---|
//! | `sql/select_1` | `prepare_cached("SELECT 1")` + `query_row` |
//! | `sql/insert_100k` | 100,000 `INSERT`s with one prepared statement, in one transaction, into a fresh file |
//! | `sql/point_select` | one `SELECT name, x FROM t WHERE id = ?1` with a pseudo-random key |
//! | `sql/range_aggregate` | `count`/`sum`/`avg` over 10,000 consecutive keys (10% of `t`) |
//! | `sql/insert_select_100k` | the same 100,000 rows copied by one `INSERT INTO t SELECT ... FROM src.t` (an attached copy) |
//! | `sql/join_group_by` | 20,000 orders joined with 1,000 customers, grouped into 10 regions |
//! | `sql_pool/8_threads` | `ServicePool` with 7 reader threads (point selects) and 1 writer thread (autocommit inserts), 250 ops each |
//!
//! Every database is a file in a temporary directory in WAL mode with
//! `synchronous = NORMAL`; everything else is SQLite's default (2,000 KiB page cache, 4 KiB
//! pages). Tables are filled before timing starts. The row contents come from `mix`
//! (splitmix64), which the Python script reimplements bit for bit.
//!
//! `cargo bench --bench sql -- --warm-up-time 1 --measurement-time 5`; results and the
//! native figures are recorded in BENCHMARKS.md.

use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use sandlite_driver::service::ServicePool;
use sandlite_driver::{Connection, OpenOptions, Strategy};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

/// Rows of the main table `t`.
const ROWS: i64 = 100_000;
/// Rows covered by one range query (10% of `t`).
const RANGE_ROWS: i64 = 10_000;
/// Rows of `customers` in the join.
const CUSTOMERS: i64 = 1_000;
/// Rows of `orders` in the join.
const ORDERS: i64 = 20_000;
/// Distinct `customers.region` values (the join's groups).
const REGIONS: i64 = 10;
/// Pre-computed pseudo-random keys the point and range benches cycle through.
const KEYS: usize = 4_096;
/// Reader threads of the pool bench (plus one writer thread).
const POOL_READERS: u32 = 7;
/// Operations each pool thread performs per iteration.
const POOL_OPS_PER_THREAD: usize = 250;

const SCHEMA_T: &str = "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, x REAL)";
const INSERT_T: &str = "INSERT INTO t(id, name, x) VALUES (?1, ?2, ?3)";
const POINT_SELECT: &str = "SELECT name, x FROM t WHERE id = ?1";
const RANGE_AGGREGATE: &str =
    "SELECT count(*), sum(x), avg(length(name)) FROM t WHERE id BETWEEN ?1 AND ?2";
const JOIN_GROUP_BY: &str = "SELECT c.region, count(*), sum(o.amount) \
     FROM orders AS o JOIN customers AS c ON c.id = o.customer_id \
     GROUP BY c.region ORDER BY c.region";
const POOL_INSERT: &str = "INSERT INTO t(name, x) VALUES (?1, ?2)";
const INSERT_SELECT: &str = "INSERT INTO t(id, name, x) SELECT id, name, x FROM src.t";

/// splitmix64's output function: the deterministic source of every generated value.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `mix(seed) % modulus` as an `i64` (`modulus` is small and positive).
fn mix_mod(seed: i64, modulus: i64) -> i64 {
    (mix(seed as u64) % modulus as u64) as i64
}

/// Row `id` of `t`: `(id, name, x)`.
fn t_row(id: i64) -> (i64, String, f64) {
    let h = mix(id as u64);
    let name = format!("row {id:06} {:08x}", h & 0xffff_ffff);
    let x = (h % 10_000) as f64 / 100.0;
    (id, name, x)
}

/// Keys for point selects: uniform over `1..=ROWS`.
fn point_keys() -> Vec<i64> {
    (0..KEYS as i64)
        .map(|k| mix_mod(1_000_000 + k, ROWS) + 1)
        .collect()
}

/// First keys of the range queries: each range `[lo, lo + RANGE_ROWS - 1]` lies inside `t`.
fn range_starts() -> Vec<i64> {
    (0..KEYS as i64)
        .map(|k| mix_mod(2_000_000 + k, ROWS - RANGE_ROWS + 1) + 1)
        .collect()
}

/// The engines every workload runs on, with their group names.
const ENGINES: [(&str, Strategy); 2] = [
    ("sql-compiler", Strategy::Compiler),
    ("sql-interpreter", Strategy::Interpreter),
];

/// Opens `path` on `strategy` with the pragmas every file workload uses.
fn open_file(path: &Path, strategy: Strategy) -> Connection {
    let conn = OpenOptions::new()
        .strategy(strategy)
        .open(path)
        .expect("open the bench database");
    assert_eq!(conn.strategy(), strategy, "engine");
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", (), |r| r.get(0))
        .expect("set WAL mode");
    assert_eq!(mode, "wal", "journal_mode");
    conn.execute_batch("PRAGMA synchronous = NORMAL")
        .expect("set synchronous");
    conn
}

/// Inserts rows `1..=ROWS` of `t` in one transaction with one prepared statement: the
/// body of `insert_100k`, also used to fill the read benches' tables.
fn insert_rows(conn: &Connection, rows: &[(i64, String, f64)]) {
    let tx = conn.unchecked_transaction().expect("BEGIN");
    {
        let mut stmt = tx.prepare(INSERT_T).expect("prepare INSERT");
        for (id, name, x) in rows {
            stmt.execute((id, name.as_str(), x)).expect("INSERT");
        }
    }
    tx.commit().expect("COMMIT");
}

/// Creates and fills `t`, `customers` and `orders`.
fn fill(conn: &Connection, rows: &[(i64, String, f64)]) {
    conn.execute_batch(SCHEMA_T).expect("create t");
    insert_rows(conn, rows);
    conn.execute_batch(
        "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT, region TEXT);
         CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER, amount REAL);",
    )
    .expect("create join tables");
    let tx = conn.unchecked_transaction().expect("BEGIN");
    {
        let mut customer = tx
            .prepare("INSERT INTO customers(id, name, region) VALUES (?1, ?2, ?3)")
            .expect("prepare customers");
        for id in 1..=CUSTOMERS {
            let name = format!("customer {id}");
            let region = format!("region {}", id % REGIONS);
            customer
                .execute((id, name.as_str(), region.as_str()))
                .expect("insert customer");
        }
        let mut order = tx
            .prepare("INSERT INTO orders(id, customer_id, amount) VALUES (?1, ?2, ?3)")
            .expect("prepare orders");
        for (id, customer_id, amount) in orders() {
            order
                .execute((id, customer_id, amount))
                .expect("insert order");
        }
    }
    tx.commit().expect("COMMIT");
    // Start the read benches from a checkpointed database with an empty WAL.
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
}

/// Rows of `orders`: `(id, customer_id, amount)`.
fn orders() -> impl Iterator<Item = (i64, i64, f64)> {
    (1..=ORDERS).map(|id| {
        let customer_id = mix_mod(3_000_000 + id, CUSTOMERS) + 1;
        let amount = mix_mod(4_000_000 + id, 100_000) as f64 / 100.0;
        (id, customer_id, amount)
    })
}

fn point_select(conn: &Connection, key: i64) -> (String, f64) {
    conn.prepare_cached(POINT_SELECT)
        .expect("prepare point select")
        .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("point select")
}

fn range_aggregate(conn: &Connection, lo: i64) -> (i64, f64, f64) {
    conn.prepare_cached(RANGE_AGGREGATE)
        .expect("prepare range")
        .query_row([lo, lo + RANGE_ROWS - 1], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("range aggregate")
}

fn join_group_by(conn: &Connection) -> Vec<(String, i64, f64)> {
    let mut stmt = conn.prepare_cached(JOIN_GROUP_BY).expect("prepare join");
    stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("join")
        .collect::<Result<_, _>>()
        .expect("join rows")
}

/// Checks the read queries' answers against the generator before timing them.
fn check_answers(conn: &Connection, rows: &[(i64, String, f64)]) {
    let (id, name, x) = &rows[41_999];
    assert_eq!(point_select(conn, *id), (name.clone(), *x));
    let (count, sum, _) = range_aggregate(conn, 1);
    let expected: f64 = rows[..RANGE_ROWS as usize].iter().map(|r| r.2).sum();
    assert_eq!(count, RANGE_ROWS);
    assert!(
        (sum - expected).abs() < 1e-6 * expected,
        "{sum} vs {expected}"
    );
    let groups = join_group_by(conn);
    assert_eq!(groups.len(), REGIONS as usize);
    assert_eq!(groups.iter().map(|g| g.1).sum::<i64>(), ORDERS);
    let total: f64 = orders().map(|o| o.2).sum();
    let joined: f64 = groups.iter().map(|g| g.2).sum();
    assert!((joined - total).abs() < 1e-6 * total, "{joined} vs {total}");
}

fn sql(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let rows: Vec<_> = (1..=ROWS).map(t_row).collect();
    // The filling connection stays open while the benches run, as in
    // benches/native_sql.py: it keeps the WAL index it wrote (with the database's size),
    // so a reader's transaction need not ask the file for its size.
    let filler = open_file(&dir.path().join("read.db"), Strategy::Compiler);
    fill(&filler, &rows);
    for (name, strategy) in ENGINES {
        sql_on(c, name, strategy, dir.path(), &rows);
    }
    drop(filler);
}

/// Every single-connection workload on one engine.
fn sql_on(
    c: &mut Criterion,
    name: &str,
    strategy: Strategy,
    dir: &Path,
    rows: &[(i64, String, f64)],
) {
    let conn = open_file(&dir.join("read.db"), strategy);
    check_answers(&conn, rows);

    let mut group = c.benchmark_group(name);

    group.bench_function("select_1", |b| {
        b.iter(|| {
            let one: i64 = conn
                .prepare_cached("SELECT 1")
                .expect("prepare SELECT 1")
                .query_row((), |r| r.get(0))
                .expect("SELECT 1");
            black_box(one)
        })
    });

    // A new connection to an existing file (module already compiled): what a pool pays
    // to grow. Includes the close.
    let path = dir.join("read.db");
    let options = OpenOptions::new().strategy(strategy);
    group.bench_function("open_connection", |b| {
        b.iter(|| black_box(options.open(&path).expect("open")))
    });

    let keys = point_keys();
    group.bench_function("point_select", |b| {
        let mut next = keys.iter().cycle();
        b.iter(|| black_box(point_select(&conn, *next.next().expect("cycle"))))
    });

    let starts = range_starts();
    group.bench_function("range_aggregate", |b| {
        let mut next = starts.iter().cycle();
        b.iter(|| black_box(range_aggregate(&conn, *next.next().expect("cycle"))))
    });

    group.bench_function("join_group_by", |b| {
        b.iter(|| black_box(join_group_by(&conn)))
    });

    // Each iteration takes about a second on the interpreter: ten flat samples.
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    let insert_path = dir.join("insert.db");
    group.bench_function("insert_100k", |b| {
        b.iter_batched(
            || fresh_insert_db(&insert_path, strategy),
            |fresh| {
                insert_rows(&fresh, rows);
                fresh
            },
            // Dropping (closing) the connection happens after the timer stops.
            BatchSize::PerIteration,
        )
    });
    // The same rows copied by one statement: SQLite's insert path without a call into
    // the guest per row.
    group.bench_function("insert_select_100k", |b| {
        b.iter_batched(
            || {
                let fresh = fresh_insert_db(&insert_path, strategy);
                // Paths are relative to the sandbox root: the temporary directory.
                fresh
                    .execute_batch("ATTACH 'read.db' AS src")
                    .expect("attach the read database");
                fresh
            },
            |fresh| {
                let tx = fresh.unchecked_transaction().expect("BEGIN");
                let copied = tx.execute(INSERT_SELECT, ()).expect("INSERT ... SELECT");
                assert_eq!(copied, ROWS as usize);
                tx.commit().expect("COMMIT");
                fresh
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// A new, empty `t` in a new database file at `path` (any old one deleted).
fn fresh_insert_db(path: &Path, strategy: Strategy) -> Connection {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.to_owned().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
    let fresh = open_file(path, strategy);
    fresh.execute_batch(SCHEMA_T).expect("create t");
    fresh
}

/// 7 reader threads doing point selects and 1 writer thread doing autocommit inserts
/// through one `ServicePool`; one iteration is `8 * POOL_OPS_PER_THREAD` operations.
fn pool(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pool.db");
    {
        let rows: Vec<_> = (1..=ROWS).map(t_row).collect();
        fill(&open_file(&path, Strategy::Compiler), &rows);
    }
    let pool = ServicePool::open(&path, POOL_READERS).expect("open the pool");
    let keys = point_keys();
    let threads = POOL_READERS as usize + 1;

    let mut group = c.benchmark_group("sql_pool");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .throughput(Throughput::Elements((threads * POOL_OPS_PER_THREAD) as u64));
    group.bench_function("8_threads", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                std::thread::scope(|s| {
                    for reader in 0..POOL_READERS as usize {
                        let (pool, keys) = (&pool, &keys);
                        s.spawn(move || {
                            for op in 0..POOL_OPS_PER_THREAD {
                                let key = keys[(reader * POOL_OPS_PER_THREAD + op) % KEYS];
                                let row: (String, f64) = pool
                                    .query_row(POINT_SELECT, [key], |r| Ok((r.get(0)?, r.get(1)?)))
                                    .expect("pooled point select");
                                black_box(row);
                            }
                        });
                    }
                    let pool = &pool;
                    s.spawn(move || {
                        for op in 0..POOL_OPS_PER_THREAD {
                            let x = op as f64 / 4.0;
                            pool.execute(POOL_INSERT, ("pool writer", x))
                                .expect("pooled insert");
                        }
                    });
                });
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, sql, pool);
criterion_main!(benches);
