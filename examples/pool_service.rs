//! A small HTTP JSON service on `std::net`, backed by a [`ServicePool`]: one writer and
//! several readers on one database in WAL mode. Every statement is routed by what it
//! does, so reads run in parallel on readers while writes take turns on the writer.
//!
//! ```text
//! cargo run --release --example pool_service -- --port 8080 [--db items.db] [--readers 4]
//! curl -d 'name=widget&qty=3' localhost:8080/items      # 201 {"id":1,"name":"widget","qty":3}
//! curl localhost:8080/items                             # [{"id":1,...}]
//! curl localhost:8080/items/1
//! curl localhost:8080/stats                             # where statements were routed
//! curl -X POST localhost:8080/shutdown
//!
//! cargo run --release --example pool_service -- --self-test   # serve, call itself, exit
//! ```
//!
//! The first line on stdout is the bound address (`--port 0`, the default, picks a free
//! port; `SANDLITE_PORT` works too). The service stops after `POST /shutdown`, or after
//! `--max-requests N` requests.
//!
//! HTTP is hand-written and minimal: HTTP/1.1 with keep-alive, `Content-Length` bodies
//! (no chunked uploads), form-encoded `POST` bodies, JSON responses.

use sandlite::service::ServicePool;
use sandlite::{Connection, OptionalExtension, Row, params};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Largest request line plus headers accepted.
const MAX_HEAD_BYTES: usize = 8 * 1024;
/// Largest request body accepted.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest item name accepted, in characters.
const MAX_NAME_CHARS: usize = 100;
/// How long a keep-alive connection may sit idle before the server closes it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS item(
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    qty  INTEGER NOT NULL
)";

/// A bound, not yet running, service.
pub struct Service {
    listener: TcpListener,
    state: Arc<State>,
}

struct State {
    pool: ServicePool,
    addr: SocketAddr,
    requests: AtomicU64,
    max_requests: Option<u64>,
    stopping: AtomicBool,
}

/// Totals when the service stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Requests answered (including errors).
    pub requests: u64,
    /// Statements the pool ran on a reader.
    pub reader: u64,
    /// Statements and transactions the pool ran on the writer.
    pub writer: u64,
    /// Statements classified as reads that SQLite said would write (re-run on the writer).
    pub misrouted: u64,
}

impl Service {
    /// Creates the schema in the database at `db` (if needed), opens a service pool with
    /// `readers` readers on it, and binds `127.0.0.1:port` (0: any free port).
    ///
    /// # Errors
    /// If the database cannot be opened or the port cannot be bound.
    pub fn open(db: &Path, port: u16, readers: u32) -> Result<Service, BoxError> {
        // The schema is set up before the pool, so the pool's counts are all requests.
        Connection::open(db)?.execute_batch(SCHEMA)?;
        let pool = ServicePool::open(db, readers)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        let addr = listener.local_addr()?;
        Ok(Service {
            listener,
            state: Arc::new(State {
                pool,
                addr,
                requests: AtomicU64::new(0),
                max_requests: None,
                stopping: AtomicBool::new(false),
            }),
        })
    }

    /// Stops after `n` requests (counted over all connections).
    pub fn stop_after(mut self, n: u64) -> Service {
        if let Some(state) = Arc::get_mut(&mut self.state) {
            state.max_requests = Some(n);
        }
        self
    }

    /// The address the service listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.state.addr
    }

    /// Serves until `POST /shutdown` (or the request limit), one thread per connection,
    /// then waits for the open connections to finish.
    ///
    /// # Errors
    /// Never in practice: failed accepts are logged and skipped.
    pub fn serve(self) -> io::Result<Summary> {
        let mut connections: Vec<JoinHandle<()>> = Vec::new();
        for stream in self.listener.incoming() {
            if self.state.stopping.load(Ordering::SeqCst) {
                break;
            }
            let stream = match stream {
                Ok(stream) => stream,
                Err(e) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    eprintln!("accept failed: {e}");
                    thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            connections.retain(|c| !c.is_finished());
            let state = self.state.clone();
            connections.push(thread::spawn(move || serve_connection(stream, &state)));
        }
        for connection in connections {
            let _ = connection.join();
        }
        let stats = self.state.pool.stats();
        Ok(Summary {
            requests: self.state.requests.load(Ordering::SeqCst),
            reader: stats.reader.load(Ordering::SeqCst),
            writer: stats.writer.load(Ordering::SeqCst),
            misrouted: stats.misrouted.load(Ordering::SeqCst),
        })
    }
}

impl State {
    /// Makes the accept loop stop: it checks the flag after each accept, so connect once
    /// to wake it.
    fn stop(&self) {
        if !self.stopping.swap(true, Ordering::SeqCst) {
            let _ = TcpStream::connect(self.addr);
        }
    }
}

// ---------------------------------------------------------------------------------------
// HTTP

struct Request {
    method: String,
    path: String,
    content_type: Option<String>,
    body: Vec<u8>,
    keep_alive: bool,
}

struct Response {
    status: u16,
    body: String,
    location: Option<String>,
}

impl Response {
    fn json(status: u16, body: String) -> Response {
        Response {
            status,
            body,
            location: None,
        }
    }

    fn error(status: u16, message: &str) -> Response {
        Response::json(status, format!("{{\"error\":{}}}", json_string(message)))
    }
}

/// Why no request could be read.
enum ReadError {
    /// The client closed the connection or went quiet: close without answering.
    Gone,
    /// A malformed or unsupported request: answer with this status and close.
    Bad(u16, String),
}

fn bad(status: u16, message: impl Into<String>) -> ReadError {
    ReadError::Bad(status, message.into())
}

fn serve_connection(stream: TcpStream, state: &State) {
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut input = BufReader::new(stream);
    loop {
        let (response, keep_alive, shutdown, malformed) = match read_request(&mut input) {
            Ok(request) => {
                let shutdown = request.method == "POST" && request.path == "/shutdown";
                (handle(&request, state), request.keep_alive, shutdown, false)
            }
            Err(ReadError::Gone) => return,
            Err(ReadError::Bad(status, message)) => {
                (Response::error(status, &message), false, false, true)
            }
        };
        let answered = state.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let limit_reached = state.max_requests.is_some_and(|max| answered >= max);
        let keep_alive = keep_alive && !shutdown && !limit_reached;
        let written = write_response(&mut out, &response, keep_alive);
        if shutdown || limit_reached {
            state.stop();
        }
        if malformed && written.is_ok() {
            linger(&mut out, &mut input);
            return;
        }
        if written.is_err() || !keep_alive || state.stopping.load(Ordering::SeqCst) {
            return;
        }
    }
}

/// Closes after an error answer without losing it: closing a socket with unread input
/// makes the kernel reset the connection, which can discard the answer before the client
/// reads it. So: end our side, then read and drop what the client still sends.
fn linger(out: &mut TcpStream, input: &mut impl Read) {
    let _ = out.shutdown(std::net::Shutdown::Write);
    let _ = out.set_read_timeout(Some(Duration::from_secs(1)));
    let mut sink = [0u8; 4096];
    let mut drained = 0;
    while drained < 1 << 20 {
        match input.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

/// Reads one line of the request head, charging it to `budget`.
fn read_head_line(input: &mut impl BufRead, budget: &mut usize) -> Result<String, ReadError> {
    if *budget == 0 {
        return Err(bad(431, "request head too large"));
    }
    let mut line = String::new();
    let n = match (&mut *input).take(*budget as u64).read_line(&mut line) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
            return Err(bad(400, "request head is not UTF-8"));
        }
        Err(_) => return Err(ReadError::Gone),
    };
    *budget -= n;
    if !line.ends_with('\n') {
        return Err(if n > 0 && *budget == 0 {
            bad(431, "request head too large")
        } else {
            ReadError::Gone
        });
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn read_request(input: &mut impl BufRead) -> Result<Request, ReadError> {
    let mut budget = MAX_HEAD_BYTES;
    let mut request_line = read_head_line(input, &mut budget)?;
    // A stray empty line before a request is allowed (RFC 9112, section 2.2).
    if request_line.is_empty() {
        request_line = read_head_line(input, &mut budget)?;
    }
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad(400, "malformed request line"));
    };
    let keep_alive_default = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Err(bad(505, "only HTTP/1.0 and HTTP/1.1 are supported")),
    };
    let path = target.split('?').next().unwrap_or(target).to_owned();

    let mut content_length = 0usize;
    let mut content_type = None;
    let mut connection = None;
    loop {
        let line = read_head_line(input, &mut budget)?;
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad(400, "malformed header line"));
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => {
                content_length = value
                    .parse()
                    .map_err(|_| bad(400, "invalid Content-Length"))?;
            }
            "transfer-encoding" => {
                return Err(bad(501, "Transfer-Encoding is not supported"));
            }
            "content-type" => content_type = Some(value.to_ascii_lowercase()),
            "connection" => connection = Some(value.to_ascii_lowercase()),
            _ => {}
        }
    }
    if content_length > MAX_BODY_BYTES {
        return Err(bad(413, "request body too large"));
    }
    let mut body = vec![0; content_length];
    input.read_exact(&mut body).map_err(|_| ReadError::Gone)?;
    let keep_alive = match connection.as_deref() {
        Some("close") => false,
        Some("keep-alive") => true,
        _ => keep_alive_default,
    };
    Ok(Request {
        method: method.to_owned(),
        path,
        content_type,
        body,
        keep_alive,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        _ => "Internal Server Error",
    }
}

fn write_response(out: &mut TcpStream, response: &Response, keep_alive: bool) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: {}\r\n",
        response.status,
        reason(response.status),
        response.body.len(),
        if keep_alive { "keep-alive" } else { "close" },
    );
    if let Some(location) = &response.location {
        head.push_str(&format!("Location: {location}\r\n"));
    }
    head.push_str("\r\n");
    // One write per response: small responses leave in one packet.
    head.push_str(&response.body);
    out.write_all(head.as_bytes())?;
    out.flush()
}

// ---------------------------------------------------------------------------------------
// The application

struct Item {
    id: i64,
    name: String,
    qty: i64,
}

impl Item {
    fn from_row(row: &Row<'_>) -> sandlite::Result<Item> {
        Ok(Item {
            id: row.get("id")?,
            name: row.get("name")?,
            qty: row.get("qty")?,
        })
    }

    fn to_json(&self) -> String {
        format!(
            "{{\"id\":{},\"name\":{},\"qty\":{}}}",
            self.id,
            json_string(&self.name),
            self.qty
        )
    }
}

fn handle(request: &Request, state: &State) -> Response {
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    let result = match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["items"]) => list_items(state),
        ("POST", ["items"]) => create_item(request, state),
        ("GET", ["items", id]) => match id.parse::<i64>() {
            Ok(id) => get_item(state, id),
            Err(_) => Ok(Response::error(404, "no such item")),
        },
        ("GET", ["stats"]) => Ok(stats(state)),
        ("POST", ["shutdown"]) => Ok(Response::json(200, "{\"stopping\":true}".into())),
        (_, ["items"] | ["items", _] | ["stats"] | ["shutdown"]) => {
            Ok(Response::error(405, "method not allowed"))
        }
        _ => Ok(Response::error(404, "not found")),
    };
    result.unwrap_or_else(|e| Response::error(500, &e.to_string()))
}

fn list_items(state: &State) -> sandlite::Result<Response> {
    // A plain SELECT: the pool runs it on a reader.
    let items = state.pool.query(
        "SELECT id, name, qty FROM item ORDER BY id",
        [],
        Item::from_row,
    )?;
    let json: Vec<String> = items.iter().map(Item::to_json).collect();
    Ok(Response::json(200, format!("[{}]", json.join(","))))
}

fn get_item(state: &State, id: i64) -> sandlite::Result<Response> {
    let item = state
        .pool
        .query_row(
            "SELECT id, name, qty FROM item WHERE id = ?1",
            [id],
            Item::from_row,
        )
        .optional()?;
    Ok(match item {
        Some(item) => Response::json(200, item.to_json()),
        None => Response::error(404, "no such item"),
    })
}

fn create_item(request: &Request, state: &State) -> sandlite::Result<Response> {
    let form_type = "application/x-www-form-urlencoded";
    if request
        .content_type
        .as_deref()
        .is_some_and(|t| !t.starts_with(form_type))
    {
        return Ok(Response::error(415, "send a form: name=...&qty=..."));
    }
    let (name, qty) = match parse_item_form(&request.body) {
        Ok(fields) => fields,
        Err(message) => return Ok(Response::error(400, &message)),
    };
    // A write transaction on the writer (BEGIN IMMEDIATE: it waits for the lock up front).
    let inserted = state.pool.write(|tx| {
        tx.execute(
            "INSERT INTO item(name, qty) VALUES (?1, ?2)",
            params![name, qty],
        )?;
        Ok(tx.last_insert_rowid())
    });
    match inserted {
        Ok(id) => Ok(Response {
            status: 201,
            body: Item { id, name, qty }.to_json(),
            location: Some(format!("/items/{id}")),
        }),
        Err(e) if e.is_unique_violation() => Ok(Response::error(
            409,
            &format!("an item named {name:?} exists already"),
        )),
        Err(e) => Err(e),
    }
}

/// `name=...&qty=...` (qty optional, default 1).
fn parse_item_form(body: &[u8]) -> Result<(String, i64), String> {
    let body = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    let mut name = None;
    let mut qty = 1;
    for pair in body.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value =
            percent_decode(value).ok_or_else(|| format!("field {key:?} is badly encoded"))?;
        match key {
            "name" => name = Some(value),
            "qty" => {
                qty = value
                    .parse()
                    .map_err(|_| format!("qty must be an integer, not {value:?}"))?;
            }
            other => return Err(format!("unknown field {other:?}")),
        }
    }
    let name = name.ok_or("the name field is missing")?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("name must be 1 to {MAX_NAME_CHARS} characters"));
    }
    Ok((name.to_owned(), qty))
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space, `%XX` a byte).
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let digit = |b: u8| char::from(b).to_digit(16);
                out.push((digit(hex[0])? * 16 + digit(hex[1])?) as u8);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn stats(state: &State) -> Response {
    let stats = state.pool.stats();
    Response::json(
        200,
        format!(
            "{{\"requests\":{},\"reader\":{},\"writer\":{},\"misrouted\":{}}}",
            state.requests.load(Ordering::SeqCst),
            stats.reader.load(Ordering::SeqCst),
            stats.writer.load(Ordering::SeqCst),
            stats.misrouted.load(Ordering::SeqCst),
        ),
    )
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------
// A tiny client, for --self-test

/// Sends one request (`Connection: close`) and returns the status and body.
///
/// # Errors
/// Connection errors, or a response that is not HTTP.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    form: Option<&str>,
) -> io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    let body = form.unwrap_or("");
    let content_type = if form.is_some() {
        "Content-Type: application/x-www-form-urlencoded\r\n"
    } else {
        ""
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{content_type}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let not_http = || io::Error::new(io::ErrorKind::InvalidData, "not an HTTP response");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(not_http)?;
    let (_, body) = response.split_once("\r\n\r\n").ok_or_else(not_http)?;
    Ok((status, body.to_owned()))
}

/// Serves on a free port, exercises every route through real HTTP, shuts down.
///
/// # Errors
/// A failed check, with what was expected and what came back.
pub fn self_test(db: &Path) -> Result<Summary, BoxError> {
    let service = Service::open(db, 0, 2)?;
    let addr = service.local_addr();
    println!("{addr}");
    let server = thread::spawn(move || service.serve());

    let check = |what: &str, got: (u16, String), status: u16, contains: &str| {
        println!("{what} -> {} {}", got.0, got.1);
        if got.0 == status && got.1.contains(contains) {
            Ok(())
        } else {
            Err(format!(
                "{what}: expected {status} with {contains:?}, got {got:?}"
            ))
        }
    };
    check(
        "POST /items name=widget",
        request(addr, "POST", "/items", Some("name=widget&qty=3"))?,
        201,
        r#"{"id":1,"name":"widget","qty":3}"#,
    )?;
    check(
        "POST /items name=a+bolt",
        request(addr, "POST", "/items", Some("name=a+b%C3%B6lt"))?,
        201,
        r#""name":"a bölt","qty":1"#,
    )?;
    check(
        "POST /items duplicate",
        request(addr, "POST", "/items", Some("name=widget"))?,
        409,
        "exists already",
    )?;
    check(
        "POST /items qty=lots",
        request(addr, "POST", "/items", Some("name=x&qty=lots"))?,
        400,
        "qty must be an integer",
    )?;
    check(
        "GET /items",
        request(addr, "GET", "/items", None)?,
        200,
        r#"[{"id":1,"name":"widget","qty":3},{"id":2,"name":"a bölt","qty":1}]"#,
    )?;
    check(
        "GET /items/2",
        request(addr, "GET", "/items/2", None)?,
        200,
        r#""name":"a bölt""#,
    )?;
    check(
        "GET /items/99",
        request(addr, "GET", "/items/99", None)?,
        404,
        "no such item",
    )?;
    check(
        "GET /stats",
        request(addr, "GET", "/stats", None)?,
        200,
        r#""reader":3,"writer":3,"misrouted":0"#,
    )?;
    check(
        "POST /shutdown",
        request(addr, "POST", "/shutdown", None)?,
        200,
        "stopping",
    )?;
    let summary = server.join().map_err(|_| "the server thread panicked")??;
    println!("self-test passed: {summary:?}");
    Ok(summary)
}

#[allow(dead_code)] // the tests include this file as a module and call its functions
fn main() -> Result<(), BoxError> {
    let mut port: u16 = match std::env::var("SANDLITE_PORT") {
        Ok(p) => p.parse().map_err(|_| format!("bad SANDLITE_PORT {p:?}"))?,
        Err(_) => 0,
    };
    let mut db = None;
    let mut readers = 4;
    let mut max_requests = None;
    let mut self_test_mode = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => port = value("--port")?.parse()?,
            "--db" => db = Some(std::path::PathBuf::from(value("--db")?)),
            "--readers" => readers = value("--readers")?.parse()?,
            "--max-requests" => max_requests = Some(value("--max-requests")?.parse()?),
            "--self-test" => self_test_mode = true,
            other => {
                return Err(format!(
                    "unknown argument {other:?}; usage: pool_service [--port N] [--db PATH] \
                     [--readers N] [--max-requests N] [--self-test]"
                )
                .into());
            }
        }
    }
    let temp = tempfile::tempdir()?;
    let db = db.unwrap_or_else(|| temp.path().join("items.db"));
    if self_test_mode {
        self_test(&db)?;
        return Ok(());
    }
    let mut service = Service::open(&db, port, readers)?;
    if let Some(n) = max_requests {
        service = service.stop_after(n);
    }
    println!("{}", service.local_addr());
    eprintln!("serving {} until POST /shutdown", db.display());
    let summary = service.serve()?;
    println!("stopped: {summary:?}");
    Ok(())
}
