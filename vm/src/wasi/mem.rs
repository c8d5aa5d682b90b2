//! Bounds-checked access to the guest's linear memory.
//!
//! Every pointer a guest passes is checked against the memory's size; a range outside
//! it is the WASI error `fault`, never a host crash or a trap.

use super::abi::{Errno, iovec};

/// The calling instance's memory, borrowed for the duration of one WASI call.
pub(crate) struct GuestMemory<'a> {
    bytes: &'a mut [u8],
}

impl<'a> GuestMemory<'a> {
    pub(crate) fn new(bytes: &'a mut [u8]) -> GuestMemory<'a> {
        GuestMemory { bytes }
    }

    fn range(&self, ptr: u32, len: u32) -> Result<std::ops::Range<usize>, Errno> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(Errno::Fault)?;
        if end > self.bytes.len() {
            return Err(Errno::Fault);
        }
        Ok(start..end)
    }

    pub(crate) fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let r = self.range(ptr, len)?;
        Ok(&self.bytes[r])
    }

    pub(crate) fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let r = self.range(ptr, len)?;
        Ok(&mut self.bytes[r])
    }

    fn array<const N: usize>(&self, ptr: u32) -> Result<[u8; N], Errno> {
        let s = self.slice(ptr, N as u32)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    pub(crate) fn read_u8(&self, ptr: u32) -> Result<u8, Errno> {
        Ok(self.array::<1>(ptr)?[0])
    }

    pub(crate) fn read_u16(&self, ptr: u32) -> Result<u16, Errno> {
        Ok(u16::from_le_bytes(self.array(ptr)?))
    }

    pub(crate) fn read_u32(&self, ptr: u32) -> Result<u32, Errno> {
        Ok(u32::from_le_bytes(self.array(ptr)?))
    }

    pub(crate) fn read_u64(&self, ptr: u32) -> Result<u64, Errno> {
        Ok(u64::from_le_bytes(self.array(ptr)?))
    }

    pub(crate) fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), Errno> {
        let len = u32::try_from(bytes.len()).map_err(|_| Errno::Fault)?;
        self.slice_mut(ptr, len)?.copy_from_slice(bytes);
        Ok(())
    }

    pub(crate) fn write_u8(&mut self, ptr: u32, v: u8) -> Result<(), Errno> {
        self.write(ptr, &[v])
    }

    pub(crate) fn write_u32(&mut self, ptr: u32, v: u32) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    pub(crate) fn write_u64(&mut self, ptr: u32, v: u64) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    /// The `index`th (c)iovec of the array at `iovs`: `(buf, buf_len)`.
    pub(crate) fn iovec(&self, iovs: u32, index: u32) -> Result<(u32, u32), Errno> {
        let at = index
            .checked_mul(iovec::SIZE)
            .and_then(|o| iovs.checked_add(o))
            .ok_or(Errno::Fault)?;
        Ok((
            self.read_u32(at + iovec::BUF)?,
            self.read_u32(at.checked_add(iovec::BUF_LEN).ok_or(Errno::Fault)?)?,
        ))
    }

    /// Checks an iovec array and returns the total length of its buffers, refusing a
    /// total that does not fit the 32-bit result (`inval`, as POSIX `readv` does for
    /// `SSIZE_MAX`) and any buffer outside the memory (`fault`).
    pub(crate) fn iovecs_total(&self, iovs: u32, count: u32) -> Result<u32, Errno> {
        let mut total: u32 = 0;
        for i in 0..count {
            let (buf, len) = self.iovec(iovs, i)?;
            self.range(buf, len)?;
            total = total.checked_add(len).ok_or(Errno::Inval)?;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accesses_are_bounds_checked() {
        let mut bytes = vec![0u8; 16];
        let mut mem = GuestMemory::new(&mut bytes);
        mem.write_u32(12, 0xdead_beef).unwrap();
        assert_eq!(mem.read_u32(12), Ok(0xdead_beef));
        assert_eq!(mem.read_u16(12), Ok(0xbeef));
        assert_eq!(mem.read_u32(13), Err(Errno::Fault));
        assert_eq!(mem.write_u64(9, 1), Err(Errno::Fault));
        assert_eq!(mem.slice(u32::MAX, 2).map(<[u8]>::len), Err(Errno::Fault));
        assert_eq!(mem.slice(16, 0).map(<[u8]>::len), Ok(0));
    }

    #[test]
    fn iovec_totals_refuse_overflow_and_faults() {
        let mut bytes = vec![0u8; 64];
        let mut mem = GuestMemory::new(&mut bytes);
        // Two iovecs at 0: (32, 8) and (40, 8).
        for (i, (buf, len)) in [(32u32, 8u32), (40, 8)].into_iter().enumerate() {
            mem.write_u32(i as u32 * 8, buf).unwrap();
            mem.write_u32(i as u32 * 8 + 4, len).unwrap();
        }
        assert_eq!(mem.iovecs_total(0, 2), Ok(16));
        mem.write_u32(12, 100).unwrap();
        assert_eq!(mem.iovecs_total(0, 2), Err(Errno::Fault));
        assert_eq!(mem.iovecs_total(60, 1), Err(Errno::Fault));
    }
}
