//! Executable memory for a module's machine code: mapped read-write, filled, then made
//! read-execute before anything runs it. Never writable and executable at once.

use memmap2::{Mmap, MmapMut};
use std::io;

/// A module's machine code, mapped read+execute.
pub(crate) struct CodeMemory {
    map: Mmap,
}

impl CodeMemory {
    /// Maps `code` executable.
    pub(crate) fn new(code: &[u8]) -> io::Result<CodeMemory> {
        let mut map = MmapMut::map_anon(code.len().max(1))?;
        map[..code.len()].copy_from_slice(code);
        let map = map.make_exec()?;
        Ok(CodeMemory { map })
    }

    pub(crate) fn base(&self) -> *const u8 {
        self.map.as_ptr()
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether `pc` is inside this code.
    pub(crate) fn contains(&self, pc: usize) -> bool {
        let start = self.base() as usize;
        pc >= start && pc < start + self.len()
    }
}
