//! Reading and writing guest memory on behalf of host functions.
//!
//! The guest is SQLite plus our shim, so its pointers should always be valid; a pointer
//! that is not is treated as a fault of the guest and traps (which marks the connection
//! broken) rather than being trusted.

use sandlite_vm::Trap;

fn out_of_bounds(what: &str, ptr: u32, len: usize) -> Trap {
    Trap::host_message(format!(
        "guest passed an out-of-bounds {what}: {len} bytes at {ptr:#x}"
    ))
}

/// `len` bytes at `ptr`.
pub(crate) fn bytes(mem: &[u8], ptr: u32, len: usize) -> Result<&[u8], Trap> {
    let start = ptr as usize;
    mem.get(start..start.saturating_add(len))
        .ok_or_else(|| out_of_bounds("buffer", ptr, len))
}

/// `len` writable bytes at `ptr`.
pub(crate) fn bytes_mut(mem: &mut [u8], ptr: u32, len: usize) -> Result<&mut [u8], Trap> {
    let start = ptr as usize;
    mem.get_mut(start..start.saturating_add(len))
        .ok_or_else(|| out_of_bounds("buffer", ptr, len))
}

/// The NUL-terminated string at `ptr`, without the NUL.
pub(crate) fn c_str(mem: &[u8], ptr: u32) -> Result<&[u8], Trap> {
    let tail = mem
        .get(ptr as usize..)
        .ok_or_else(|| out_of_bounds("string", ptr, 0))?;
    let n = tail
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| out_of_bounds("unterminated string", ptr, tail.len()))?;
    Ok(&tail[..n])
}

/// The NUL-terminated UTF-8 string at `ptr` (lossy for invalid UTF-8), or `None` for NULL.
pub(crate) fn opt_str(mem: &[u8], ptr: u32) -> Result<Option<String>, Trap> {
    if ptr == 0 {
        return Ok(None);
    }
    lossy(c_str(mem, ptr)?).map(Some)
}

/// Guest bytes as host text (lossy for invalid UTF-8); a trap, not an abort, if the host
/// cannot allocate the copy (its size is the guest's choice).
pub(crate) fn lossy(bytes: &[u8]) -> Result<String, Trap> {
    crate::alloc::string_lossy(bytes).map_err(|e| Trap::host_message(e.to_string()))
}

pub(crate) fn write_i32(mem: &mut [u8], ptr: u32, v: i32) -> Result<(), Trap> {
    bytes_mut(mem, ptr, 4)?.copy_from_slice(&v.to_le_bytes());
    Ok(())
}

pub(crate) fn write_i64(mem: &mut [u8], ptr: u32, v: i64) -> Result<(), Trap> {
    bytes_mut(mem, ptr, 8)?.copy_from_slice(&v.to_le_bytes());
    Ok(())
}

pub(crate) fn read_i32(mem: &[u8], ptr: u32) -> Result<i32, Trap> {
    let b = bytes(mem, ptr, 4)?;
    Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

pub(crate) fn read_i64(mem: &[u8], ptr: u32) -> Result<i64, Trap> {
    let b = bytes(mem, ptr, 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Ok(i64::from_le_bytes(a))
}
