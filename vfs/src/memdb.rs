//! memdb: named in-memory file namespaces shared by every [`Vfs`](crate::Vfs) of the
//! process that uses the same name.
//!
//! A namespace maps normalised names (`/demo.db`, `/demo.db-journal`) to files, each a
//! shared byte buffer with an in-process lock table. Locks follow exactly the protocol of
//! disk files (the same code in [`crate::lock`] drives both): the table holds, per
//! handle, read and write locks on three slots standing for `PENDING_BYTE`,
//! `RESERVED_BYTE` and the shared range.
//!
//! Lifetime: a namespace lives while any `Vfs` value or any open file refers to it; when
//! the last one is dropped its files are freed, and the next `Vfs::memory` with that name
//! starts empty. Inside a live namespace, files persist after being closed until deleted,
//! like files on disk.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, Weak};

use crate::codes::{SQLITE_CANTOPEN, SQLITE_FULL, SQLITE_IOERR_DELETE_NOENT, SQLITE_IOERR_WRITE};
use crate::error::VfsError;
use crate::file::ReadOutcome;
use crate::flags::{AccessCheck, OpenFlags};
use crate::lock::{self, LockLevel, LockRegion, RangeLocks};
use crate::sandbox::normalize;
use crate::sys::LockType;

/// Every live namespace of the process, by name. Entries whose namespace has died are
/// swept when a namespace is created.
static NAMESPACES: Mutex<BTreeMap<String, Weak<Namespace>>> = Mutex::new(BTreeMap::new());

/// Gives each memdb file handle its own lock-owner identity.
static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

fn guard<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave the data half-updated in a way that
    // matters more than refusing all further service; keep going.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A named set of in-memory files.
#[derive(Debug)]
pub(crate) struct Namespace {
    name: String,
    files: Mutex<BTreeMap<String, Arc<MemNode>>>,
}

/// The namespace called `name`, created empty if no live one exists.
pub(crate) fn namespace(name: &str) -> Arc<Namespace> {
    let mut all = guard(&NAMESPACES);
    if let Some(live) = all.get(name).and_then(Weak::upgrade) {
        return live;
    }
    all.retain(|_, ns| ns.strong_count() > 0);
    let created = Arc::new(Namespace {
        name: name.to_owned(),
        files: Mutex::new(BTreeMap::new()),
    });
    all.insert(name.to_owned(), Arc::downgrade(&created));
    created
}

/// One in-memory file.
#[derive(Debug, Default)]
struct MemNode {
    data: RwLock<Vec<u8>>,
    locks: Mutex<LockTable>,
}

/// Read and write locks on the three lock slots, by owner.
#[derive(Debug, Default)]
struct LockTable {
    slots: [Slot; 3],
}

#[derive(Debug, Default)]
struct Slot {
    readers: Vec<u64>,
    writer: Option<u64>,
}

impl Slot {
    fn conflicts(&self, owner: u64, kind: LockType) -> bool {
        let other_writer = self.writer.is_some_and(|w| w != owner);
        let other_reader = self.readers.iter().any(|&r| r != owner);
        match kind {
            LockType::Read => other_writer,
            LockType::Write => other_writer || other_reader,
            LockType::Unlock => false,
        }
    }

    fn set(&mut self, owner: u64, kind: LockType) {
        self.readers.retain(|&r| r != owner);
        if self.writer == Some(owner) {
            self.writer = None;
        }
        match kind {
            LockType::Read => self.readers.push(owner),
            LockType::Write => self.writer = Some(owner),
            LockType::Unlock => {}
        }
    }
}

const PENDING_SLOT: usize = 0;
const RESERVED_SLOT: usize = 1;
const SHARED_SLOT: usize = 2;

fn slots(region: LockRegion) -> &'static [usize] {
    match region {
        LockRegion::Pending => &[PENDING_SLOT],
        LockRegion::Reserved => &[RESERVED_SLOT],
        LockRegion::SharedRange => &[SHARED_SLOT],
        LockRegion::PendingAndReserved => &[PENDING_SLOT, RESERVED_SLOT],
        LockRegion::Whole => &[PENDING_SLOT, RESERVED_SLOT, SHARED_SLOT],
    }
}

/// The lock table of one node seen by one owner.
struct MemLocks<'a> {
    node: &'a MemNode,
    owner: u64,
}

impl RangeLocks for MemLocks<'_> {
    fn apply(&self, region: LockRegion, kind: LockType) -> io::Result<bool> {
        let mut table = guard(&self.node.locks);
        let slots = slots(region);
        if slots
            .iter()
            .any(|&s| table.slots[s].conflicts(self.owner, kind))
        {
            return Ok(false);
        }
        for &s in slots {
            table.slots[s].set(self.owner, kind);
        }
        Ok(true)
    }

    fn reserved_elsewhere(&self) -> io::Result<bool> {
        let table = guard(&self.node.locks);
        Ok(table.slots[RESERVED_SLOT].conflicts(self.owner, LockType::Write))
    }
}

/// Map a name into its key in the namespace: `/` + normalised components.
fn key(path: &str) -> Result<String, VfsError> {
    let cantopen = |why: &str| VfsError::new(SQLITE_CANTOPEN, format!("{why}: {path:?}"));
    if path.contains('\0') {
        return Err(cantopen("path contains a NUL byte"));
    }
    let parts = normalize(path.trim_start_matches('/'))
        .ok_or_else(|| cantopen("path escapes the memdb namespace root"))?;
    if parts.is_empty() {
        return Err(cantopen("empty path"));
    }
    Ok(format!("/{}", parts.join("/")))
}

impl Namespace {
    /// The name given to [`Vfs::memory`](crate::Vfs::memory).
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// `xFullPathname`: `/` followed by the normalised name.
    pub(crate) fn full_pathname(&self, path: &str) -> Result<String, VfsError> {
        key(path)
    }

    /// `xOpen` in this namespace; `None` opens an anonymous file.
    pub(crate) fn open(
        self: &Arc<Self>,
        path: Option<&str>,
        flags: OpenFlags,
    ) -> Result<MemFile, VfsError> {
        let (node, name) = match path {
            None => (
                Arc::new(MemNode::default()),
                String::from("(temporary memdb file)"),
            ),
            Some(path) => {
                let key = key(path)?;
                let mut files = guard(&self.files);
                let node = match files.get(&key) {
                    Some(_) if flags.contains(OpenFlags::EXCLUSIVE) => {
                        return Err(VfsError::new(
                            SQLITE_CANTOPEN,
                            format!("cannot open {key} in memdb {:?}: file exists", self.name),
                        ));
                    }
                    Some(node) => Arc::clone(node),
                    None if flags.contains(OpenFlags::CREATE) => {
                        let node = Arc::new(MemNode::default());
                        files.insert(key.clone(), Arc::clone(&node));
                        node
                    }
                    None => {
                        return Err(VfsError::new(
                            SQLITE_CANTOPEN,
                            format!("cannot open {key} in memdb {:?}: no such file", self.name),
                        ));
                    }
                };
                if flags.contains(OpenFlags::DELETEONCLOSE) {
                    // Unlinked at once, like the unix VFS: the handle keeps the data.
                    files.remove(&key);
                }
                (node, key)
            }
        };
        Ok(MemFile {
            _namespace: Arc::clone(self),
            node,
            owner: NEXT_OWNER.fetch_add(1, Ordering::Relaxed),
            level: LockLevel::None,
            read_only: !flags.contains(OpenFlags::READWRITE),
            name,
        })
    }

    /// `xDelete`.
    pub(crate) fn delete(&self, path: &str) -> Result<(), VfsError> {
        let key = key(path)?;
        match guard(&self.files).remove(&key) {
            Some(_) => Ok(()),
            None => Err(VfsError::new(
                SQLITE_IOERR_DELETE_NOENT,
                format!("cannot delete {key} in memdb {:?}: no such file", self.name),
            )),
        }
    }

    /// `xAccess`.
    pub(crate) fn access(&self, path: &str, check: AccessCheck) -> Result<bool, VfsError> {
        let key = key(path)?;
        let files = guard(&self.files);
        Ok(match (files.get(&key), check) {
            (None, _) => false,
            (Some(node), AccessCheck::Exists) => !node
                .data
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty(),
            (Some(_), AccessCheck::ReadWrite | AccessCheck::Read) => true,
        })
    }
}

/// An open memdb file.
#[derive(Debug)]
pub(crate) struct MemFile {
    /// Keeps the namespace alive while the file is open.
    _namespace: Arc<Namespace>,
    node: Arc<MemNode>,
    owner: u64,
    level: LockLevel,
    read_only: bool,
    name: String,
}

impl MemFile {
    fn locks(&self) -> MemLocks<'_> {
        MemLocks {
            node: &self.node,
            owner: self.owner,
        }
    }

    pub(crate) fn read(&self, buf: &mut [u8], offset: u64) -> ReadOutcome {
        let data = self
            .node
            .data
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let available = (data.len() - start).min(buf.len());
        buf[..available].copy_from_slice(&data[start..start + available]);
        buf[available..].fill(0);
        if available == buf.len() {
            ReadOutcome::Complete
        } else {
            ReadOutcome::Short {
                bytes_read: available,
            }
        }
    }

    fn check_writable(&self) -> Result<(), VfsError> {
        if self.read_only {
            return Err(VfsError::new(
                SQLITE_IOERR_WRITE,
                format!("{} was opened read-only", self.name),
            ));
        }
        Ok(())
    }

    fn too_big(&self, size: u64) -> VfsError {
        VfsError::new(
            SQLITE_FULL,
            format!(
                "memdb file {} cannot grow to {size} bytes: out of memory",
                self.name
            ),
        )
    }

    /// Resize `data` to `len`, reporting allocation failure instead of aborting.
    fn resize(&self, data: &mut Vec<u8>, len: u64) -> Result<(), VfsError> {
        let new_len = usize::try_from(len).map_err(|_| self.too_big(len))?;
        if new_len > data.len() {
            data.try_reserve(new_len - data.len())
                .map_err(|_| self.too_big(len))?;
        }
        data.resize(new_len, 0);
        Ok(())
    }

    pub(crate) fn write(&mut self, bytes: &[u8], offset: u64) -> Result<(), VfsError> {
        self.check_writable()?;
        let end = offset
            .checked_add(bytes.len() as u64)
            .ok_or_else(|| self.too_big(u64::MAX))?;
        let mut data = self
            .node
            .data
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if end > data.len() as u64 {
            self.resize(&mut data, end)?;
        }
        let start = usize::try_from(offset).map_err(|_| self.too_big(end))?;
        data[start..start + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    pub(crate) fn truncate(&mut self, size: u64) -> Result<(), VfsError> {
        self.check_writable()?;
        let mut data = self
            .node
            .data
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if size < data.len() as u64 {
            self.resize(&mut data, size)?;
        }
        Ok(())
    }

    pub(crate) fn size(&self) -> u64 {
        self.node
            .data
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len() as u64
    }

    /// Reserve room for a file of `size` bytes (`SQLITE_FCNTL_SIZE_HINT`).
    pub(crate) fn size_hint(&mut self, size: u64) -> Result<(), VfsError> {
        let mut data = self
            .node
            .data
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let wanted = usize::try_from(size).map_err(|_| self.too_big(size))?;
        let extra = wanted.saturating_sub(data.len());
        data.try_reserve(extra).map_err(|_| self.too_big(size))
    }

    pub(crate) fn lock_level(&self) -> LockLevel {
        self.level
    }

    pub(crate) fn lock(&mut self, wanted: LockLevel) -> Result<(), VfsError> {
        let mut level = self.level;
        let result = lock::lock(&self.locks(), &mut level, wanted, &self.name);
        self.level = level;
        result
    }

    pub(crate) fn unlock(&mut self, wanted: LockLevel) -> Result<(), VfsError> {
        let mut level = self.level;
        let result = lock::unlock(&self.locks(), &mut level, wanted, &self.name);
        self.level = level;
        result
    }

    pub(crate) fn check_reserved(&self) -> Result<bool, VfsError> {
        lock::check_reserved(&self.locks(), self.level, &self.name)
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for MemFile {
    fn drop(&mut self) {
        // Closing releases every lock of the handle, as closing a descriptor does.
        let _ = self.locks().apply(LockRegion::Whole, LockType::Unlock);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_normalised_and_cannot_escape() {
        assert_eq!(key("a/./b/../c.db").unwrap(), "/a/c.db");
        assert_eq!(key("/x.db").unwrap(), "/x.db");
        assert_eq!(key("x.db").unwrap(), "/x.db");
        assert_eq!(key("../x").unwrap_err().code(), SQLITE_CANTOPEN);
        assert_eq!(key("").unwrap_err().code(), SQLITE_CANTOPEN);
    }

    #[test]
    fn slot_conflicts_follow_read_write_rules() {
        let mut slot = Slot::default();
        slot.set(1, LockType::Read);
        assert!(!slot.conflicts(2, LockType::Read));
        assert!(slot.conflicts(2, LockType::Write));
        assert!(
            !slot.conflicts(1, LockType::Write),
            "own read lock converts"
        );
        slot.set(1, LockType::Write);
        assert!(slot.conflicts(2, LockType::Read));
        slot.set(1, LockType::Unlock);
        assert!(!slot.conflicts(2, LockType::Write));
    }
}
