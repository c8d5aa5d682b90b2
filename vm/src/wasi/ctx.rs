//! The per-instance WASI state: arguments, environment and the descriptor table, and the
//! builder through which the embedder grants each of them.

use super::abi::{Errno, filetype, rights};
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Why a [`WasiCtxBuilder`] refused a setting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WasiError {
    /// A preopened directory could not be opened.
    #[error("cannot open directory {path} for the guest: {source}")]
    Preopen {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A guest name for a preopened directory is empty or contains NUL.
    #[error("invalid guest name for a preopened directory: {0:?}")]
    GuestName(String),
    /// An argument contains a NUL byte (C strings cannot carry it).
    #[error("argument contains a NUL byte: {0:?}")]
    Argument(String),
    /// An environment variable's name is empty or contains `=` or NUL, or its value
    /// contains NUL.
    #[error("invalid environment variable {0:?}")]
    Environment(String),
    /// The host's standard stream could not be duplicated for the guest.
    #[error("cannot share the host's {stream} with the guest: {source}")]
    Stdio {
        stream: &'static str,
        #[source]
        source: io::Error,
    },
}

/// What a preopened directory allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirPerms {
    /// Look up, open and read files and list directories; change nothing.
    ReadOnly,
    /// Also create, write, truncate, rename, link and remove.
    ReadWrite,
}

/// An in-memory sink for the guest's stdout or stderr. Cloning gives another handle to
/// the same buffer, so the host keeps one and reads what the guest wrote.
#[derive(Clone, Debug, Default)]
pub struct OutputBuffer {
    inner: Arc<Mutex<Vec<u8>>>,
    limit: Option<usize>,
}

impl OutputBuffer {
    /// An empty, unbounded buffer.
    pub fn new() -> OutputBuffer {
        OutputBuffer::default()
    }

    /// An empty buffer that holds at most `limit` bytes: a write that would exceed it
    /// fails with `nospc` after storing what fits.
    pub fn with_limit(limit: usize) -> OutputBuffer {
        OutputBuffer {
            inner: Arc::default(),
            limit: Some(limit),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        // A panic while holding the lock cannot leave the Vec inconsistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.lock().clone()
    }

    /// Everything written so far, as text (invalid UTF-8 replaced).
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(&self.lock()).into_owned()
    }

    /// Takes the contents out, leaving the buffer empty.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.lock())
    }

    /// Appends what fits; `Err(nospc)` when nothing fits.
    pub(crate) fn append(&self, bytes: &[u8]) -> Result<usize, Errno> {
        let mut buf = self.lock();
        let room = self
            .limit
            .map_or(usize::MAX, |l| l.saturating_sub(buf.len()));
        if room == 0 && !bytes.is_empty() {
            return Err(Errno::Nospc);
        }
        let n = bytes.len().min(room);
        buf.extend_from_slice(&bytes[..n]);
        Ok(n)
    }
}

/// The host may write into the buffer too (its own messages beside the guest's output).
impl io::Write for OutputBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.append(buf)
            .map_err(|_| io::Error::new(io::ErrorKind::StorageFull, "output buffer is full"))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The guest's standard input.
pub(crate) enum Input {
    /// Always at end of file.
    Empty,
    /// These bytes, then end of file.
    Bytes { data: Vec<u8>, pos: usize },
    /// A duplicate of the host's standard input.
    Host(File),
}

/// The guest's stdout or stderr.
pub(crate) enum Output {
    /// Writes succeed and go nowhere.
    Discard,
    Buffer(OutputBuffer),
    /// A duplicate of the host's stdout or stderr.
    Host(File),
}

/// A directory the guest holds.
pub(crate) struct Dir {
    /// Opened `O_RDONLY | O_DIRECTORY`: the authority for lookups below it, and readable
    /// for `fd_readdir`.
    pub file: File,
    /// The listing `fd_readdir` serves; refreshed whenever a listing starts at cookie 0.
    pub listing: Option<Vec<DirEntry>>,
    /// Device and inode of the preopen this directory lies beneath (its own for a
    /// preopen): how deep a new symbolic link sits is counted up to it.
    pub root: (u64, u64),
}

/// One entry of a directory listing.
#[derive(Clone, Debug)]
pub(crate) struct DirEntry {
    pub ino: u64,
    pub filetype: u8,
    pub name: Vec<u8>,
}

/// What a descriptor refers to.
pub(crate) enum Handle {
    Stdin(Input),
    Output(Output),
    File(File),
    Dir(Dir),
}

/// One slot of the descriptor table.
pub(crate) struct Entry {
    pub handle: Handle,
    pub base: u64,
    pub inheriting: u64,
    /// For a preopened directory, the name the guest knows it by.
    pub preopen: Option<Vec<u8>>,
}

impl Entry {
    /// `perm` unless the descriptor has every right in `needed`.
    pub(crate) fn require(&self, needed: u64) -> Result<(), Errno> {
        if self.base & needed == needed {
            Ok(())
        } else {
            Err(Errno::Perm)
        }
    }
}

/// The descriptor table: the guest's only way to reach anything outside its memory.
pub(crate) struct FdTable {
    slots: Vec<Option<Entry>>,
    open: usize,
    max_open: usize,
}

impl FdTable {
    fn new(max_open: usize) -> FdTable {
        FdTable {
            slots: Vec::new(),
            open: 0,
            max_open,
        }
    }

    pub(crate) fn get(&self, fd: u32) -> Result<&Entry, Errno> {
        self.slots
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::Badf)
    }

    pub(crate) fn get_mut(&mut self, fd: u32) -> Result<&mut Entry, Errno> {
        self.slots
            .get_mut(fd as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::Badf)
    }

    /// Puts `entry` at the lowest free descriptor (`mfile` when the table is full).
    pub(crate) fn insert(&mut self, entry: Entry) -> Result<u32, Errno> {
        if self.open >= self.max_open {
            return Err(Errno::Mfile);
        }
        let index = match self.slots.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        let fd = u32::try_from(index).map_err(|_| Errno::Mfile)?;
        self.slots[index] = Some(entry);
        self.open += 1;
        Ok(fd)
    }

    pub(crate) fn remove(&mut self, fd: u32) -> Result<Entry, Errno> {
        let entry = self
            .slots
            .get_mut(fd as usize)
            .and_then(Option::take)
            .ok_or(Errno::Badf)?;
        self.open -= 1;
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        Ok(entry)
    }

    /// `fd_renumber`: moves `from` over `to`, closing what `to` held. Both must be open.
    pub(crate) fn renumber(&mut self, from: u32, to: u32) -> Result<(), Errno> {
        self.get(from)?;
        self.get(to)?;
        if from == to {
            return Ok(());
        }
        let entry = self.remove(from)?;
        // `to` stays open, so the slot exists and the count stays balanced.
        self.slots[to as usize] = Some(entry);
        Ok(())
    }
}

/// Everything one guest instance may reach through WASI. Put it in the store's data and
/// register the functions with [`add_to_linker`](super::add_to_linker).
pub struct WasiCtx {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) table: FdTable,
    /// See [`WasiCtxBuilder::allow_hard_links`].
    pub(crate) allow_hard_links: bool,
}

impl std::fmt::Debug for WasiCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiCtx")
            .field("args", &self.args.len())
            .field("env", &self.env.len())
            .field("open_fds", &self.table.open)
            .finish()
    }
}

impl WasiCtx {
    /// A builder with nothing granted.
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::new()
    }
}

struct Preopen {
    guest: Vec<u8>,
    dir: File,
    perms: DirPerms,
    /// Device and inode of `dir`.
    id: (u64, u64),
}

/// Grants a guest its arguments, environment, standard streams and directories. By
/// default it gets nothing: no arguments, no environment, an empty stdin, stdout and
/// stderr that discard what is written, and no directories.
pub struct WasiCtxBuilder {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    stdin: Input,
    stdout: Output,
    stderr: Output,
    preopens: Vec<Preopen>,
    max_open_fds: usize,
    allow_hard_links: bool,
}

impl Default for WasiCtxBuilder {
    fn default() -> Self {
        WasiCtxBuilder::new()
    }
}

/// Rights of the standard streams: no seek or tell, so that C libraries treat them as
/// streams.
const STDIN_RIGHTS: u64 = rights::FD_READ
    | rights::FD_FDSTAT_SET_FLAGS
    | rights::FD_FILESTAT_GET
    | rights::POLL_FD_READWRITE;
const OUTPUT_RIGHTS: u64 = rights::FD_WRITE
    | rights::FD_FDSTAT_SET_FLAGS
    | rights::FD_FILESTAT_GET
    | rights::FD_DATASYNC
    | rights::FD_SYNC
    | rights::POLL_FD_READWRITE;

fn dup_stream(fd: std::os::fd::BorrowedFd<'_>, stream: &'static str) -> Result<File, WasiError> {
    fd.try_clone_to_owned()
        .map(File::from)
        .map_err(|source| WasiError::Stdio { stream, source })
}

impl WasiCtxBuilder {
    pub fn new() -> WasiCtxBuilder {
        WasiCtxBuilder {
            args: Vec::new(),
            env: Vec::new(),
            stdin: Input::Empty,
            stdout: Output::Discard,
            stderr: Output::Discard,
            preopens: Vec::new(),
            max_open_fds: 1024,
            allow_hard_links: false,
        }
    }

    /// Appends an argument (the first one is the program name, by convention).
    ///
    /// # Errors
    /// [`WasiError::Argument`] if it contains a NUL byte.
    pub fn arg(&mut self, arg: impl AsRef<str>) -> Result<&mut Self, WasiError> {
        let arg = arg.as_ref();
        if arg.contains('\0') {
            return Err(WasiError::Argument(arg.to_owned()));
        }
        self.args.push(arg.as_bytes().to_vec());
        Ok(self)
    }

    /// Appends several arguments.
    ///
    /// # Errors
    /// [`WasiError::Argument`] if one contains a NUL byte.
    pub fn args<S: AsRef<str>>(
        &mut self,
        args: impl IntoIterator<Item = S>,
    ) -> Result<&mut Self, WasiError> {
        for a in args {
            self.arg(a)?;
        }
        Ok(self)
    }

    /// Sets an environment variable (a later value for the same name replaces it).
    ///
    /// # Errors
    /// [`WasiError::Environment`] if the name is empty or contains `=` or NUL, or the
    /// value contains NUL.
    pub fn env(
        &mut self,
        name: impl AsRef<str>,
        value: impl AsRef<str>,
    ) -> Result<&mut Self, WasiError> {
        let (name, value) = (name.as_ref(), value.as_ref());
        if name.is_empty() || name.contains(['=', '\0']) || value.contains('\0') {
            return Err(WasiError::Environment(format!("{name}={value}")));
        }
        let prefix = format!("{name}=");
        self.env.retain(|e| !e.starts_with(prefix.as_bytes()));
        self.env.push(format!("{name}={value}").into_bytes());
        Ok(self)
    }

    /// The guest reads these bytes from stdin, then end of file.
    pub fn stdin_bytes(&mut self, bytes: impl Into<Vec<u8>>) -> &mut Self {
        self.stdin = Input::Bytes {
            data: bytes.into(),
            pos: 0,
        };
        self
    }

    /// The guest reads the host process's standard input.
    ///
    /// # Errors
    /// If the descriptor cannot be duplicated.
    pub fn inherit_stdin(&mut self) -> Result<&mut Self, WasiError> {
        self.stdin = Input::Host(dup_stream(io::stdin().as_fd(), "stdin")?);
        Ok(self)
    }

    /// The guest's stdout goes into `buffer`.
    pub fn stdout_buffer(&mut self, buffer: OutputBuffer) -> &mut Self {
        self.stdout = Output::Buffer(buffer);
        self
    }

    /// The guest's stderr goes into `buffer`.
    pub fn stderr_buffer(&mut self, buffer: OutputBuffer) -> &mut Self {
        self.stderr = Output::Buffer(buffer);
        self
    }

    /// The guest writes to the host process's stdout.
    ///
    /// # Errors
    /// If the descriptor cannot be duplicated.
    pub fn inherit_stdout(&mut self) -> Result<&mut Self, WasiError> {
        self.stdout = Output::Host(dup_stream(io::stdout().as_fd(), "stdout")?);
        Ok(self)
    }

    /// The guest writes to the host process's stderr.
    ///
    /// # Errors
    /// If the descriptor cannot be duplicated.
    pub fn inherit_stderr(&mut self) -> Result<&mut Self, WasiError> {
        self.stderr = Output::Host(dup_stream(io::stderr().as_fd(), "stderr")?);
        Ok(self)
    }

    /// Inherits all three standard streams.
    ///
    /// # Errors
    /// If a descriptor cannot be duplicated.
    pub fn inherit_stdio(&mut self) -> Result<&mut Self, WasiError> {
        self.inherit_stdin()?.inherit_stdout()?.inherit_stderr()
    }

    /// Grants the host directory `host` to the guest, which finds it under `guest` (the
    /// name C and Rust programs resolve paths against, e.g. `/data` or `.`). Everything
    /// below it is reachable; nothing outside it is, whatever the path or symbolic link.
    /// Preopens get descriptors 3, 4, ... in the order they are added.
    ///
    /// # Errors
    /// [`WasiError::Preopen`] if `host` is not a directory that can be opened, and
    /// [`WasiError::GuestName`] if `guest` is empty or contains NUL.
    pub fn preopened_dir(
        &mut self,
        host: impl AsRef<Path>,
        guest: impl AsRef<str>,
        perms: DirPerms,
    ) -> Result<&mut Self, WasiError> {
        let (host, guest) = (host.as_ref(), guest.as_ref());
        if guest.is_empty() || guest.contains('\0') {
            return Err(WasiError::GuestName(guest.to_owned()));
        }
        let dir = File::options()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(host)
            .map_err(|source| WasiError::Preopen {
                path: host.to_owned(),
                source,
            })?;
        let meta = dir.metadata().map_err(|source| WasiError::Preopen {
            path: host.to_owned(),
            source,
        })?;
        self.preopens.push(Preopen {
            guest: guest.as_bytes().to_vec(),
            id: (
                std::os::unix::fs::MetadataExt::dev(&meta),
                std::os::unix::fs::MetadataExt::ino(&meta),
            ),
            dir,
            perms,
        });
        Ok(self)
    }

    /// The most descriptors the guest may hold open at once (default 1024), counting
    /// stdio and preopens; opening more fails with `mfile`.
    pub fn max_open_fds(&mut self, max: usize) -> &mut Self {
        self.max_open_fds = max;
        self
    }

    /// Lets the guest open (and set the times of) regular files below a preopen that
    /// have more than one hard link (default `false`: `path_open` and
    /// `path_filestat_set_times` fail with `perm`). A hard link placed in a granted
    /// directory may be another name of a file outside it, and no path resolution can
    /// tell; refusing files with several names keeps the guest to the directory's own.
    /// Allow it for programs that use hard links themselves, when nobody untrusted can
    /// create links in the granted directories.
    pub fn allow_hard_links(&mut self, allow: bool) -> &mut Self {
        self.allow_hard_links = allow;
        self
    }

    /// The context. The builder is left empty (as from [`WasiCtxBuilder::new`]).
    pub fn build(&mut self) -> WasiCtx {
        let b = std::mem::take(self);
        let extra = 3 + b.preopens.len();
        let mut table = FdTable::new(b.max_open_fds.max(extra));
        let stdio = [
            (Handle::Stdin(b.stdin), STDIN_RIGHTS),
            (Handle::Output(b.stdout), OUTPUT_RIGHTS),
            (Handle::Output(b.stderr), OUTPUT_RIGHTS),
        ];
        for (handle, base) in stdio {
            let entry = Entry {
                handle,
                base,
                inheriting: 0,
                preopen: None,
            };
            table.insert(entry).expect("the table has room for stdio");
        }
        for p in b.preopens {
            let (base, inheriting) = match p.perms {
                DirPerms::ReadOnly => (
                    rights::DIR_READ_ONLY,
                    rights::DIR_READ_ONLY | rights::FILE_READ_ONLY,
                ),
                DirPerms::ReadWrite => (
                    rights::DIR_READ_WRITE,
                    rights::DIR_READ_WRITE | rights::FILE_READ_WRITE,
                ),
            };
            let entry = Entry {
                handle: Handle::Dir(Dir {
                    file: p.dir,
                    listing: None,
                    root: p.id,
                }),
                base,
                inheriting,
                preopen: Some(p.guest),
            };
            table
                .insert(entry)
                .expect("the table has room for preopens");
        }
        WasiCtx {
            args: b.args,
            env: b.env,
            table,
            allow_hard_links: b.allow_hard_links,
        }
    }
}

/// The WASI file type of a host file's `st_mode`.
pub(crate) fn filetype_of_mode(mode: libc::mode_t) -> u8 {
    match mode & libc::S_IFMT {
        libc::S_IFBLK => filetype::BLOCK_DEVICE,
        libc::S_IFCHR => filetype::CHARACTER_DEVICE,
        libc::S_IFDIR => filetype::DIRECTORY,
        libc::S_IFREG => filetype::REGULAR_FILE,
        libc::S_IFSOCK => filetype::SOCKET_STREAM,
        libc::S_IFLNK => filetype::SYMBOLIC_LINK,
        _ => filetype::UNKNOWN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            handle: Handle::Stdin(Input::Empty),
            base: 0,
            inheriting: 0,
            preopen: None,
        }
    }

    #[test]
    fn table_reuses_the_lowest_free_descriptor_and_enforces_its_limit() {
        let mut t = FdTable::new(4);
        for expected in 0..4 {
            assert_eq!(t.insert(entry()), Ok(expected));
        }
        assert_eq!(t.insert(entry()).err(), Some(Errno::Mfile));
        t.remove(1).unwrap();
        assert_eq!(t.remove(1).err(), Some(Errno::Badf));
        assert_eq!(t.insert(entry()), Ok(1));
        assert_eq!(t.renumber(3, 0), Ok(()));
        assert_eq!(t.get(3).err(), Some(Errno::Badf));
        assert_eq!(t.renumber(3, 0), Err(Errno::Badf));
        assert_eq!(t.renumber(0, 9), Err(Errno::Badf));
        assert_eq!(t.insert(entry()), Ok(3));
        assert_eq!(t.insert(entry()).err(), Some(Errno::Mfile));
    }

    #[test]
    fn builder_refuses_bad_strings() {
        let mut b = WasiCtx::builder();
        assert!(matches!(b.arg("a\0b"), Err(WasiError::Argument(_))));
        assert!(matches!(b.env("A=B", "c"), Err(WasiError::Environment(_))));
        assert!(matches!(b.env("", "c"), Err(WasiError::Environment(_))));
        assert!(matches!(
            b.preopened_dir("/", "", DirPerms::ReadOnly),
            Err(WasiError::GuestName(_))
        ));
        assert!(matches!(
            b.preopened_dir("/nonexistent/dir", "x", DirPerms::ReadOnly),
            Err(WasiError::Preopen { .. })
        ));
        b.env("A", "1").unwrap().env("A", "2").unwrap();
        let ctx = b.build();
        assert_eq!(ctx.env, vec![b"A=2".to_vec()]);
    }

    #[test]
    fn contexts_move_between_threads() {
        fn check<T: Send + 'static>() {}
        check::<WasiCtx>();
        check::<OutputBuffer>();
    }

    #[test]
    fn output_buffer_limit() {
        let buf = OutputBuffer::with_limit(4);
        assert_eq!(buf.append(b"abc"), Ok(3));
        assert_eq!(buf.append(b"de"), Ok(1));
        assert_eq!(buf.append(b"f"), Err(Errno::Nospc));
        assert_eq!(buf.contents(), b"abcd");
        assert_eq!(buf.take(), b"abcd");
        assert!(buf.contents().is_empty());
    }
}
