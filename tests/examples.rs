//! Runs every example's logic (each example's source is included as a module here) and
//! checks what it returns, so the examples in `examples/` stay correct.

#[allow(dead_code)]
#[path = "../examples/quickstart.rs"]
mod quickstart;

#[allow(dead_code)]
#[path = "../examples/transactions.rs"]
mod transactions;

#[allow(dead_code)]
#[path = "../examples/user_functions.rs"]
mod user_functions;

#[allow(dead_code)]
#[path = "../examples/blob_io.rs"]
mod blob_io;

#[allow(dead_code)]
#[path = "../examples/shared_memory_db.rs"]
mod shared_memory_db;

#[allow(dead_code)]
#[path = "../examples/pool_service.rs"]
mod pool_service;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn quickstart_reads_back_what_it_wrote() {
    use quickstart::Person;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quickstart.db");
    let summary = quickstart::run(&path).unwrap();

    let babbage = Person {
        id: 2,
        name: "Charles Babbage".into(),
        born: 1791,
        email: None,
    };
    let ada = Person {
        id: 1,
        name: "Ada Lovelace".into(),
        born: 1815,
        email: Some("ada@example.org".into()),
    };
    assert_eq!(summary.pioneers, vec![babbage, ada]);
    assert_eq!(
        summary.grace,
        Some(Person {
            id: 3,
            name: "Grace Hopper".into(),
            born: 1906,
            email: Some("grace@example.org".into()),
        })
    );
    assert_eq!(summary.nobody, None);
    assert_eq!(summary.last_id, 4);
    assert_eq!(summary.rows_in_file, 4);

    // It wrote a real SQLite file, and running it again starts from a fresh table.
    let header = std::fs::read(&path).unwrap();
    assert!(header.starts_with(b"SQLite format 3\0"));
    let again = quickstart::run(&path).unwrap();
    assert_eq!((again.last_id, again.rows_in_file), (4, 4));
}

#[test]
fn transactions_commit_roll_back_and_report_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let report = transactions::run(dir.path()).unwrap();
    assert_eq!(report.after_commit, (70, 80));
    assert_eq!(
        report.after_drop,
        (70, 80),
        "a dropped transaction rolls back"
    );
    assert_eq!(
        report.notes,
        vec!["kept: opening balances", "kept: after the savepoint"]
    );
    assert!(report.other_writer_was_busy);
    assert!(report.other_writer_after_commit);
    assert!(report.new_account_opened);
    assert!(report.duplicate_rejected);
    // The IMMEDIATE transaction's transfer of 5 committed; the duplicate changed nothing.
    assert_eq!(
        report.accounts,
        vec![
            ("alice".to_string(), 65),
            ("bob".to_string(), 85),
            ("carol".to_string(), 10)
        ]
    );
}

#[test]
fn user_functions_compute_from_sql() {
    let report = user_functions::run().unwrap();
    assert_eq!(
        report.slugs,
        vec![
            "hello-world",
            "rust-webassembly",
            "sqlite-the-vfs",
            "pools-and-services",
            "die-straße"
        ]
    );
    assert_eq!(report.median_words, Some(1200.0));
    assert_eq!(report.median_of_nothing, None);
    // The window function with an inverse agrees with SQLite's own sum over the frame.
    assert_eq!(
        report.moving,
        vec![
            (1, 1200, 1200),
            (2, 4600, 4600),
            (3, 5400, 5400),
            (4, 6200, 6200),
            (5, 3400, 3400)
        ]
    );
    assert_eq!(
        report.natural_order,
        vec![
            "appendix.txt",
            "chapter1.txt",
            "chapter2.txt",
            "Chapter3.txt",
            "Chapter10.txt"
        ]
    );
    assert!(
        report
            .bad_input_error
            .contains("Invalid function parameter type Text at index 0"),
        "{}",
        report.bad_input_error
    );
}

#[test]
fn user_function_helpers_handle_edge_cases() {
    use std::cmp::Ordering::{Equal, Greater, Less};
    use user_functions::{natural_cmp, slugify};
    assert_eq!(slugify(""), "");
    assert_eq!(slugify("--!!--"), "");
    assert_eq!(slugify("Ünïcode  Wörds"), "ünïcode-wörds");
    assert_eq!(natural_cmp("file9", "file010"), Less);
    assert_eq!(natural_cmp("file010", "file10"), Equal);
    assert_eq!(natural_cmp("ABC", "abc"), Equal);
    assert_eq!(natural_cmp("abc", "abc1"), Less);
    assert_eq!(natural_cmp("", ""), Equal);
    assert_eq!(natural_cmp("b", "A2"), Greater);
    assert_eq!(
        natural_cmp("99999999999999999999999", "100000000000000000000000"),
        Less
    );

    // The collation is usable from SQL with an index and DISTINCT.
    let conn = sandlite::Connection::open_in_memory().unwrap();
    user_functions::register(&conn).unwrap();
    conn.execute_batch(
        "CREATE TABLE f(name TEXT COLLATE natural_nocase);
         CREATE INDEX f_name ON f(name);
         INSERT INTO f VALUES ('v10'), ('V2'), ('v2'), ('v1');",
    )
    .unwrap();
    let mut stmt = conn
        .prepare("SELECT DISTINCT name FROM f ORDER BY name")
        .unwrap();
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names.len(), 3, "V2 and v2 are equal: {names:?}");
    assert_eq!(names[0], "v1");
    assert!(names[1].eq_ignore_ascii_case("v2"));
    assert_eq!(names[2], "v10");
}

#[test]
fn crc32_matches_the_standard_check_value() {
    let mut crc = blob_io::Crc32::new();
    crc.update(b"1234");
    crc.update(b"56789");
    assert_eq!(crc.finish(), 0xCBF4_3926);
}

/// A reader handing out at most `max` bytes per call, like a slow pipe.
struct Trickle<'a> {
    data: &'a [u8],
    max: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.max).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn blob_io_round_trips_a_file_in_chunks() {
    let data = blob_io::sample_file((1 << 20) + 12_345);
    let mut expected_crc = blob_io::Crc32::new();
    expected_crc.update(&data);
    let expected_crc = expected_crc.finish();

    let report = blob_io::run("sample.bin", data.len(), data.as_slice()).unwrap();
    assert_eq!(report.size, data.len());
    assert_eq!(report.crc_stored, expected_crc);
    assert_eq!(report.crc_read, expected_crc);
    assert_eq!(report.chunks_written, data.len().div_ceil(64 * 1024));
    let mid = data.len() / 2;
    assert_eq!(report.middle, &data[mid..mid + 16]);
    assert_eq!(report.tail, &data[data.len() - 4..]);
    assert_eq!(report.grow_error, std::io::ErrorKind::WriteZero);

    // Short reads from the source put every byte in the right place all the same.
    let trickle = Trickle {
        data: &data,
        max: 777,
    };
    let report = blob_io::run("trickled.bin", data.len(), trickle).unwrap();
    assert_eq!(report.crc_read, expected_crc);
    assert_eq!(report.chunks_written, data.len().div_ceil(777));

    // A source longer than the reserved blob is an error, not a silent truncation.
    let err = blob_io::run("too-long.bin", 100, &data[..101]).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::WriteZero);

    // An empty file is a zero-length blob.
    let report = blob_io::run("empty.bin", 0, std::io::empty()).unwrap();
    assert_eq!((report.size, report.chunks_written), (0, 0));
    assert_eq!(report.crc_read, 0);
    assert!(report.middle.is_empty() && report.tail.is_empty());
}

#[test]
fn shared_memory_pool_is_one_database() {
    let name = format!("examples-test-{}", std::process::id());
    let report = shared_memory_db::run(&name, 4, 50).unwrap();
    assert_eq!(report.seen_by_each_thread, vec![200; 4]);
    assert_eq!(
        report.rows_per_worker,
        vec![(0, 50), (1, 50), (2, 50), (3, 50)]
    );
    assert_eq!(report.seen_outside_pool, 200);
    assert!(
        report.other_name_error.contains("no such table"),
        "{}",
        report.other_name_error
    );
}

// ---------------------------------------------------------------------------------------
// pool_service, driven over real TCP by this test's own HTTP client.

/// An HTTP/1.1 client written independently of the example's: keep-alive or one
/// connection per request.
struct Client {
    addr: SocketAddr,
    keep_alive: bool,
    conn: Option<BufReader<TcpStream>>,
    connections_opened: usize,
}

impl Client {
    fn new(addr: SocketAddr, keep_alive: bool) -> Client {
        Client {
            addr,
            keep_alive,
            conn: None,
            connections_opened: 0,
        }
    }

    fn send(&mut self, method: &str, path: &str, form: Option<&str>) -> (u16, String) {
        if self.conn.is_none() {
            let stream = TcpStream::connect(self.addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(60)))
                .unwrap();
            self.conn = Some(BufReader::new(stream));
            self.connections_opened += 1;
        }
        let conn = self.conn.as_mut().unwrap();
        let body = form.unwrap_or("");
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        if form.is_some() {
            head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        }
        if !self.keep_alive {
            head.push_str("Connection: close\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        conn.get_mut().write_all(head.as_bytes()).unwrap();

        let mut line = String::new();
        conn.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 "), "status line {line:?}");
        let status: u16 = line[9..12].parse().unwrap();
        let mut length = None;
        let mut server_closes = false;
        loop {
            line.clear();
            conn.read_line(&mut line).unwrap();
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = Some(value.trim().parse::<usize>().unwrap()),
                "connection" => server_closes = value.trim() == "close",
                _ => {}
            }
        }
        let mut body = vec![0; length.expect("every response has a Content-Length")];
        conn.read_exact(&mut body).unwrap();
        if !self.keep_alive {
            assert!(server_closes, "the server honours `Connection: close`");
        }
        if server_closes {
            // The server closes after answering: nothing more arrives.
            let mut rest = Vec::new();
            conn.read_to_end(&mut rest).unwrap();
            assert!(rest.is_empty());
            self.conn = None;
        }
        (status, String::from_utf8(body).unwrap())
    }
}

/// The numbers after `"key":` in a JSON text, in order.
fn json_numbers(json: &str, key: &str) -> Vec<i64> {
    let needle = format!("\"{key}\":");
    json.match_indices(&needle)
        .map(|(at, _)| {
            let digits: String = json[at + needle.len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '-')
                .collect();
            digits.parse().unwrap()
        })
        .collect()
}

/// Runs `service` on its own thread; the receiver gets its result when it stops.
fn spawn_service(
    service: pool_service::Service,
) -> mpsc::Receiver<std::io::Result<pool_service::Summary>> {
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(service.serve());
    });
    result
}

/// Sends raw bytes on a new connection and returns everything the server answers.
fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(bytes).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

const THREADS: usize = 8;
const REQUESTS_PER_THREAD: usize = 50;

#[test]
fn pool_service_serves_concurrent_clients() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("items.db");
    let service = pool_service::Service::open(&db, 0, 4).unwrap();
    let addr = service.local_addr();
    let stopped = spawn_service(service);

    // Each thread mixes writes and reads; half keep their connection alive.
    let clients: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                let mut client = Client::new(addr, t % 2 == 0);
                let mut created = Vec::new(); // (id, name, qty)
                for i in 0..REQUESTS_PER_THREAD {
                    if i % 2 == 0 {
                        let name = format!("thread {t} item {i}");
                        let form = format!("name={}&qty={i}", name.replace(' ', "+"));
                        let (status, body) = client.send("POST", "/items", Some(&form));
                        assert_eq!(status, 201, "{body}");
                        let id = json_numbers(&body, "id")[0];
                        assert_eq!(body, format!(r#"{{"id":{id},"name":"{name}","qty":{i}}}"#));
                        created.push((id, name, i as i64));
                    } else if i % 10 == 9 {
                        // The list, read on a reader, already holds every committed write.
                        let (status, body) = client.send("GET", "/items", None);
                        assert_eq!(status, 200);
                        for (id, name, _) in &created {
                            assert!(body.contains(&format!(r#"{{"id":{id},"name":"{name}""#)));
                        }
                    } else {
                        let (id, name, qty) = created.last().unwrap();
                        let (status, body) = client.send("GET", &format!("/items/{id}"), None);
                        assert_eq!(status, 200);
                        assert_eq!(
                            body,
                            format!(r#"{{"id":{id},"name":"{name}","qty":{qty}}}"#)
                        );
                    }
                }
                (created, client.connections_opened)
            })
        })
        .collect();
    let mut created = Vec::new();
    for (t, client) in clients.into_iter().enumerate() {
        let (items, connections) = client.join().unwrap();
        let expected_connections = if t % 2 == 0 { 1 } else { REQUESTS_PER_THREAD };
        assert_eq!(connections, expected_connections);
        created.extend(items);
    }
    let posts = THREADS * REQUESTS_PER_THREAD / 2;
    let gets = THREADS * REQUESTS_PER_THREAD - posts;
    assert_eq!(created.len(), posts);

    // Every write landed, once: through the service...
    let mut client = Client::new(addr, true);
    let (status, body) = client.send("GET", "/items", None);
    assert_eq!(status, 200);
    let listed = json_numbers(&body, "id");
    let expected_ids: BTreeSet<i64> = created.iter().map(|(id, ..)| *id).collect();
    assert_eq!(expected_ids.len(), posts, "ids are unique");
    assert_eq!(listed.len(), posts);
    assert_eq!(
        listed.iter().copied().collect::<BTreeSet<_>>(),
        expected_ids
    );
    // ...and straight from the database file.
    let direct = sandlite::Connection::open(&db).unwrap();
    let mut stmt = direct
        .prepare("SELECT id, name, qty FROM item ORDER BY id")
        .unwrap();
    let mut in_db: Vec<(i64, String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    created.sort();
    in_db.sort();
    assert_eq!(in_db, created);

    // Reads went to readers, writes to the writer, nothing misrouted.
    let (status, body) = client.send("GET", "/stats", None);
    assert_eq!(status, 200);
    let total = (THREADS * REQUESTS_PER_THREAD) as i64 + 1;
    assert_eq!(
        body,
        format!(
            r#"{{"requests":{total},"reader":{},"writer":{posts},"misrouted":0}}"#,
            gets + 1
        )
    );

    // Bad requests get clear errors and touch nothing.
    let (status, body) = client.send("POST", "/items", Some("name=thread+0+item+0"));
    assert_eq!(
        (status, body.contains("exists already")),
        (409, true),
        "{body}"
    );
    let (status, body) = client.send("POST", "/items", Some("name=x&qty=many"));
    assert_eq!(status, 400, "{body}");
    let (status, _) = client.send("POST", "/items", Some("name=%ZZ"));
    assert_eq!(status, 400);
    let (status, _) = client.send("POST", "/items", Some("qty=1"));
    assert_eq!(status, 400);
    let (status, _) = client.send("GET", "/items/not-a-number", None);
    assert_eq!(status, 404);
    let (status, _) = client.send("GET", "/items/999999", None);
    assert_eq!(status, 404);
    let (status, _) = client.send("DELETE", "/items/1", None);
    assert_eq!(status, 405);
    let (status, _) = client.send("GET", "/nowhere", None);
    assert_eq!(status, 404);
    let answer = raw_exchange(addr, b"NONSENSE\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    let answer = raw_exchange(
        addr,
        b"POST /items HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    let mut huge = b"GET /items HTTP/1.1\r\nX-Padding: ".to_vec();
    huge.resize(huge.len() + 10_000, b'a');
    huge.extend_from_slice(b"\r\n\r\n");
    let answer = raw_exchange(addr, &huge);
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    assert_eq!(
        direct
            .query_row("SELECT count(*) FROM item", [], |r| r.get::<_, i64>(0))
            .unwrap(),
        posts as i64
    );

    // Shut down: the server answers, stops, and reports its totals.
    let (status, _) = client.send("POST", "/shutdown", None);
    assert_eq!(status, 200);
    drop(client);
    let summary = stopped
        .recv_timeout(Duration::from_secs(60))
        .expect("the service stops after POST /shutdown")
        .unwrap();
    // The 400 requests and the list, then stats, 8 bad requests, 3 raw ones, shutdown.
    assert_eq!(summary.requests, total as u64 + 1 + 8 + 3 + 1);
    // The 409 reached the writer (and was rolled back); /items/999999 read on a reader.
    assert_eq!(summary.writer, posts as u64 + 1);
    assert_eq!(summary.reader, gets as u64 + 2);
    assert_eq!(summary.misrouted, 0);
    assert!(TcpStream::connect(addr).is_err(), "the port is closed");
}

#[test]
fn pool_service_stops_after_max_requests() {
    let dir = tempfile::tempdir().unwrap();
    let service = pool_service::Service::open(&dir.path().join("items.db"), 0, 1)
        .unwrap()
        .stop_after(3);
    let addr = service.local_addr();
    let stopped = spawn_service(service);
    let mut client = Client::new(addr, false);
    assert_eq!(client.send("POST", "/items", Some("name=a")).0, 201);
    assert_eq!(client.send("GET", "/items/1", None).0, 200);
    // The third request is the last: answered, with the connection closed after it.
    let mut last = TcpStream::connect(addr).unwrap();
    last.write_all(b"GET /items HTTP/1.1\r\n\r\n").unwrap();
    let mut answer = String::new();
    last.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(answer.contains("Connection: close"), "{answer}");
    assert!(
        answer.ends_with(r#"[{"id":1,"name":"a","qty":1}]"#),
        "{answer}"
    );
    let summary = stopped
        .recv_timeout(Duration::from_secs(60))
        .expect("the service stops after 3 requests")
        .unwrap();
    assert_eq!(
        (summary.requests, summary.reader, summary.writer),
        (3, 2, 1)
    );
}

#[test]
fn pool_service_self_test_passes() {
    let dir = tempfile::tempdir().unwrap();
    let summary = pool_service::self_test(&dir.path().join("items.db")).unwrap();
    assert_eq!(summary.requests, 9);
    assert_eq!((summary.reader, summary.writer), (3, 3));
}
