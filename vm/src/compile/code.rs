//! Executable memory for a module's machine code: mapped read-write, filled, then made
//! read-execute before anything runs it. Never writable and executable at once.

use memmap2::{Mmap, MmapMut};
use std::io;

/// A module's machine code, mapped read+execute.
pub(crate) struct CodeMemory {
    map: Mmap,
}

impl CodeMemory {
    /// Makes `map`, filled with code, read+execute (and no longer writable).
    pub(crate) fn new(map: MmapMut) -> io::Result<CodeMemory> {
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
