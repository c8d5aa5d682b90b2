//! Line editing at a terminal: rustyline (pure Rust) reads each line with cursor
//! movement, history (saved between sessions in `~/.sandlite_history`, or the file
//! named by `SANDLITE_HISTORY`) and Ctrl-R search. Arrow keys and other escape
//! sequences are editing commands, never text, so they never reach the SQL.
//!
//! The editor is a [`BufRead`] handing the shell one line at a time, so the shell's
//! reading (bounded lines, Ctrl-C, end of input) stays the same as for any input.

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;
use std::cell::RefCell;
use std::io::{self, BufRead, Read};
use std::path::PathBuf;
use std::rc::Rc;

/// History entries kept (the oldest go first).
const HISTORY_ENTRIES: usize = 2000;

pub struct EditorInput {
    editor: DefaultEditor,
    /// The prompt for the next line, set by the shell.
    prompt: Rc<RefCell<String>>,
    /// The line read (with its `\n`) and how much of it the shell has taken.
    line: Vec<u8>,
    taken: usize,
    history: Option<PathBuf>,
    ended: bool,
}

/// Where history is saved: `$SANDLITE_HISTORY`, else `~/.sandlite_history` (like
/// sqlite3's `SQLITE_HISTORY` and `~/.sqlite_history`); none if `SANDLITE_HISTORY` is
/// empty or there is no home.
fn history_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SANDLITE_HISTORY") {
        return (!path.is_empty()).then(|| PathBuf::from(path));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".sandlite_history"))
}

impl EditorInput {
    /// An editor on the terminal, its history loaded; `prompt` is read before each line.
    ///
    /// # Errors
    /// If the terminal cannot be set up.
    pub fn new(prompt: Rc<RefCell<String>>) -> io::Result<EditorInput> {
        let config = rustyline::Config::builder()
            .max_history_size(HISTORY_ENTRIES)
            .map_err(io::Error::other)?
            .history_ignore_space(false)
            .auto_add_history(false)
            .build();
        let mut editor = DefaultEditor::with_config(config).map_err(io::Error::other)?;
        let history = history_path();
        if let Some(path) = &history {
            // A missing or unreadable file just means no history yet.
            let _ = editor.load_history(path);
        }
        Ok(EditorInput {
            editor,
            prompt,
            line: Vec::new(),
            taken: 0,
            history,
            ended: false,
        })
    }

    /// Keeps a line in the history, saved at once (a session that is killed keeps it).
    fn remember(&mut self, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        if matches!(self.editor.add_history_entry(line), Ok(true))
            && let Some(path) = &self.history
        {
            // Appending creates the file the first time; failure only loses history.
            let _ = self.editor.append_history(path);
        }
    }
}

impl Read for EditorInput {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for EditorInput {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.taken >= self.line.len() && !self.ended {
            self.line.clear();
            self.taken = 0;
            let prompt = self.prompt.borrow().clone();
            match self.editor.readline(&prompt) {
                Ok(line) => {
                    self.remember(&line);
                    self.line.extend_from_slice(line.as_bytes());
                    self.line.push(b'\n');
                }
                // Ctrl-C at the prompt: counted as a SIGINT would be, so that the shell
                // clears the line (and a second one in a row exits).
                Err(ReadlineError::Interrupted) => {
                    sandlite::signals::count_key_interrupt();
                    return Err(io::Error::from(io::ErrorKind::Interrupted));
                }
                Err(ReadlineError::Eof) => self.ended = true,
                Err(ReadlineError::Io(e)) => return Err(e),
                Err(e) => return Err(io::Error::other(e)),
            }
        }
        Ok(&self.line[self.taken..])
    }

    fn consume(&mut self, amount: usize) {
        self.taken = (self.taken + amount).min(self.line.len());
    }
}
