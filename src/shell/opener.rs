//! `.once -x`/`-e`, `.output -x`/`-e` and `.excel`: output goes to a temporary file
//! that the system's opener (`xdg-open`, `open` on macOS) shows once the output is
//! done, as sqlite3 does.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The command sqlite3 runs on the file.
const OPENER: &str = if cfg!(target_os = "macos") {
    "open"
} else {
    "xdg-open"
};

/// A temporary file of the shell's, removed when dropped (at the next `-x`/`-e` or
/// when the shell ends, as sqlite3 removes its own).
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
}

impl TempFile {
    /// A new empty file `temp<random hex>.<suffix>` in the directory sqlite3 uses for
    /// them (`$TEMP`, else `$TMP`, else the system's temporary directory), created
    /// afresh (never an existing file or a symlink planted there).
    ///
    /// # Errors
    /// The error of creating it.
    pub fn create(suffix: &str) -> io::Result<(TempFile, std::fs::File)> {
        let dir = ["TEMP", "TMP"]
            .iter()
            .find_map(|v| std::env::var_os(v).filter(|d| !d.is_empty()))
            .map_or_else(std::env::temp_dir, PathBuf::from);
        let mut last = None;
        for attempt in 0..16u64 {
            let path = dir.join(format!("temp{:x}.{suffix}", random(attempt)));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => return Ok((TempFile { path }, file)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// 64 bits that differ between processes, calls and attempts (std's per-process
/// random hash keys, the time and a counter), for a file name no one guesses.
fn random(attempt: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    h.write_u64(attempt);
    h.write_u32(std::process::id());
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish()
}

/// Shows `path` with the system's opener, as sqlite3 does: `sh -c "xdg-open PATH"`
/// (so `PATH` decides which program that is), `Failed: [COMMAND]` on standard error
/// if it fails (not an error of the shell's), else two seconds for the program to
/// start reading before the shell goes on and may remove the file.
pub fn show(path: &Path) {
    let command = format!("{OPENER} {}", shell_word(&path.to_string_lossy()));
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .status();
    if status.is_ok_and(|s| s.success()) {
        std::thread::sleep(Duration::from_secs(2));
    } else {
        eprintln!("Failed: [{command}]");
    }
}

/// `word` as one word of `sh`: as it is when that is safe (sqlite3's temporary
/// names always are), else in single quotes.
fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_for_sh() {
        assert_eq!(shell_word("/tmp/temp1f.csv"), "/tmp/temp1f.csv");
        assert_eq!(shell_word("/my dir/a.csv"), "'/my dir/a.csv'");
        assert_eq!(shell_word("/x/it's"), "'/x/it'\\''s'");
        assert_eq!(shell_word("$(rm -rf x)"), "'$(rm -rf x)'");
    }

    #[test]
    fn temp_files_are_new_and_removed() {
        let (a, _) = TempFile::create("csv").unwrap();
        let (b, _) = TempFile::create("csv").unwrap();
        assert_ne!(a.path(), b.path());
        assert!(a.path().extension().is_some_and(|e| e == "csv"));
        let path = a.path().to_owned();
        assert!(path.exists());
        drop(a);
        assert!(!path.exists());
    }
}
