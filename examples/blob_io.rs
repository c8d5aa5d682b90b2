//! Incremental blob I/O: reserve a blob of the file's size with `ZeroBlob`, stream the
//! file into it in chunks with `io::Write`, then read it back with `io::Read` and
//! `io::Seek` and check a CRC-32 stored next to it. The whole file is never one SQL
//! value in memory.
//!
//! ```text
//! cargo run --release --example blob_io                 # a generated 1 MiB "file"
//! cargo run --release --example blob_io -- some/file    # a real file
//! ```

use sandlite::{Connection, DatabaseName, ZeroBlob, params};
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Bytes moved per `write`/`read` call.
const CHUNK: usize = 64 * 1024;

/// CRC-32 (IEEE 802.3, the one zip and PNG use), updated incrementally.
#[derive(Clone, Copy)]
pub struct Crc32(u32);

impl Default for Crc32 {
    fn default() -> Crc32 {
        Crc32::new()
    }
}

impl Crc32 {
    pub fn new() -> Crc32 {
        Crc32(!0)
    }

    pub fn update(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u32::from(byte);
            for _ in 0..8 {
                let mask = (self.0 & 1).wrapping_neg();
                self.0 = (self.0 >> 1) ^ (0xEDB8_8320 & mask);
            }
        }
    }

    pub fn finish(self) -> u32 {
        !self.0
    }
}

/// `len` bytes of deterministic pseudo-random data standing in for a file.
pub fn sample_file(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    (0..len)
        .map(|_| {
            // xorshift64: cheap, and varied enough that a misplaced chunk changes the CRC.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// What was stored and read back, so that `main` can print it and a test can check it.
#[derive(Debug)]
pub struct Report {
    pub size: usize,
    /// CRC of the source, stored in the row next to the blob.
    pub crc_stored: u32,
    /// CRC of the bytes read back through `io::Read`.
    pub crc_read: u32,
    /// Number of `write` calls it took.
    pub chunks_written: usize,
    /// 16 bytes read after seeking to the middle of the blob.
    pub middle: Vec<u8>,
    /// The last 4 bytes, read after `SeekFrom::End(-4)`.
    pub tail: Vec<u8>,
    /// The error a write past the end of the blob gets (a blob cannot grow).
    pub grow_error: io::ErrorKind,
}

/// Stores `source` (of `size` bytes) as a blob in a new in-memory database and reads it
/// back.
///
/// # Errors
/// SQLite's error, or the source's I/O error.
pub fn run(name: &str, size: usize, mut source: impl Read) -> io::Result<Report> {
    let conn = Connection::open_in_memory().map_err(io::Error::other)?;
    store_and_verify(&conn, name, size, &mut source).map_err(|e| match e {
        Failure::Io(e) => e,
        Failure::Sql(e) => io::Error::other(e),
    })
}

enum Failure {
    Io(io::Error),
    Sql(sandlite::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Io(e)
    }
}

impl From<sandlite::Error> for Failure {
    fn from(e: sandlite::Error) -> Failure {
        Failure::Sql(e)
    }
}

fn store_and_verify(
    conn: &Connection,
    name: &str,
    size: usize,
    source: &mut dyn Read,
) -> std::result::Result<Report, Failure> {
    conn.execute_batch(
        "CREATE TABLE file(id INTEGER PRIMARY KEY, name TEXT, crc32 INTEGER, data BLOB)",
    )?;
    // Reserve the space: a blob's size is fixed once written.
    conn.execute(
        "INSERT INTO file(name, data) VALUES (?1, ?2)",
        params![name, ZeroBlob(size as u64)],
    )?;
    let id = conn.last_insert_rowid();

    // Stream the source in, chunk by chunk, computing its CRC on the way.
    let mut crc = Crc32::new();
    let mut chunks_written = 0;
    {
        let mut blob = conn.blob_open(DatabaseName::Main, "file", "data", id, false)?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = source.read(&mut buf)?;
            if n == 0 {
                break;
            }
            crc.update(&buf[..n]);
            blob.write_all(&buf[..n])?;
            chunks_written += 1;
        }
        blob.flush()?;
    }
    let crc_stored = crc.finish();
    conn.execute(
        "UPDATE file SET crc32 = ?1 WHERE id = ?2",
        params![crc_stored, id],
    )?;

    // Read it back through a read-only handle.
    let mut blob = conn.blob_open(DatabaseName::Main, "file", "data", id, true)?;
    let mut middle = vec![0u8; 16.min(size)];
    blob.seek(SeekFrom::Start((size / 2) as u64))?;
    blob.read_exact(&mut middle)?;
    let mut tail = vec![0u8; 4.min(size)];
    blob.seek(SeekFrom::End(-(tail.len() as i64)))?;
    blob.read_exact(&mut tail)?;

    blob.rewind()?;
    let mut crc = Crc32::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = blob.read(&mut buf)?;
        if n == 0 {
            break;
        }
        crc.update(&buf[..n]);
    }
    let crc_read = crc.finish();
    drop(blob);

    let saved: u32 = conn.query_row("SELECT crc32 FROM file WHERE id = ?1", [id], |r| r.get(0))?;
    if saved != crc_read {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("checksum mismatch: stored {saved:08x}, read {crc_read:08x}"),
        )
        .into());
    }

    // A blob never grows: writing at its end fails instead of truncating data.
    let mut blob = conn.blob_open(DatabaseName::Main, "file", "data", id, false)?;
    blob.seek(SeekFrom::End(0))?;
    let grow_error = match blob.write_all(b"more") {
        Ok(()) => io::ErrorKind::Other,
        Err(e) => e.kind(),
    };

    Ok(Report {
        size,
        crc_stored,
        crc_read,
        chunks_written,
        middle,
        tail,
        grow_error,
    })
}

#[allow(dead_code)] // the tests include this file as a module and call `run`
fn main() -> io::Result<()> {
    let report = match std::env::args_os().nth(1) {
        Some(path) => {
            let file = std::fs::File::open(&path)?;
            let size = usize::try_from(file.metadata()?.len()).map_err(io::Error::other)?;
            run(&path.to_string_lossy(), size, file)?
        }
        None => {
            let data = sample_file(1 << 20);
            run("sample.bin", data.len(), data.as_slice())?
        }
    };
    println!(
        "stored {} bytes in {} chunks of up to {} KiB",
        report.size,
        report.chunks_written,
        CHUNK / 1024
    );
    println!(
        "crc32 stored {:08x}, read back {:08x}",
        report.crc_stored, report.crc_read
    );
    println!("16 bytes from the middle: {:02x?}", report.middle);
    println!("last 4 bytes: {:02x?}", report.tail);
    println!("writing past the end: {:?}", report.grow_error);
    Ok(())
}
