//! Reading input lines with a bound on what is buffered, so that endless input (a
//! line that never ends, `/dev/zero`) is an error instead of unbounded memory.

use std::io::{self, BufRead};

/// The most bytes the shell keeps for one statement, one dot-command line or one CSV
/// record of `.import`: 256 MiB. SQLite's own limit on SQL text is 1,000,000,000 bytes,
/// but a statement must fit in SQLite's guest memory (256 MiB by default) together with
/// everything SQLite builds from it, so nothing longer could ever run.
pub const MAX_STATEMENT_BYTES: usize = 256 << 20;

/// How a [`read_line`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line (with its `\n`, unless it is the last line of the input).
    Read,
    /// The input ended before any byte of a new line.
    Eof,
    /// The line is longer than the room given; the bytes read so far are in the buffer
    /// and the rest of the line is still unread (see [`skip_line`]).
    TooLong,
    /// Ctrl-C was pressed while the read waited.
    Interrupted,
}

/// The error for a buffer that cannot grow (the allocator refused).
pub fn out_of_memory() -> io::Error {
    io::Error::new(io::ErrorKind::OutOfMemory, "out of memory")
}

/// Appends one line of `input` to `line`, but never more than `room` bytes.
///
/// # Errors
/// A read error, or [`io::ErrorKind::OutOfMemory`] when `line` cannot grow.
pub fn read_line(input: &mut dyn BufRead, line: &mut Vec<u8>, room: usize) -> io::Result<Line> {
    let mut added = 0;
    loop {
        let available = match input.fill_buf() {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                if sandlite::signals::pending() > 0 {
                    return Ok(Line::Interrupted);
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(if added == 0 { Line::Eof } else { Line::Read });
        }
        let (take, ends) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if added + take > room {
            return Ok(Line::TooLong);
        }
        line.try_reserve(take).map_err(|_| out_of_memory())?;
        line.extend_from_slice(&available[..take]);
        input.consume(take);
        added += take;
        if ends {
            return Ok(Line::Read);
        }
    }
}

/// Reads and drops the rest of the current line (after [`Line::TooLong`]).
///
/// # Errors
/// A read error.
pub fn skip_line(input: &mut dyn BufRead) -> io::Result<()> {
    loop {
        let available = match input.fill_buf() {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                if sandlite::signals::pending() > 0 {
                    return Ok(());
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(());
        }
        match available.iter().position(|&b| b == b'\n') {
            Some(i) => {
                input.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = available.len();
                input.consume(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_up_to_the_room_given() {
        let mut input: &[u8] = b"one\ntwo three\nlast";
        let mut line = Vec::new();
        assert_eq!(read_line(&mut input, &mut line, 100).unwrap(), Line::Read);
        assert_eq!(line, b"one\n");
        line.clear();
        assert_eq!(read_line(&mut input, &mut line, 5).unwrap(), Line::TooLong);
        skip_line(&mut input).unwrap();
        line.clear();
        assert_eq!(read_line(&mut input, &mut line, 4).unwrap(), Line::Read);
        assert_eq!(line, b"last");
        line.clear();
        assert_eq!(read_line(&mut input, &mut line, 4).unwrap(), Line::Eof);
    }

    #[test]
    fn an_endless_line_stops_at_the_bound() {
        let mut zeros = io::BufReader::new(io::repeat(0));
        let mut line = Vec::new();
        assert_eq!(
            read_line(&mut zeros, &mut line, 1 << 20).unwrap(),
            Line::TooLong
        );
        assert!(line.len() <= 1 << 20);
    }
}
