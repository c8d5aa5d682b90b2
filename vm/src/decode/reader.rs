//! A cursor over module bytes: LEB128 integers, floats, names, value types (§5.2 "Values").

use crate::error::{Error, Result};
use crate::types::{Limits, RefType, ValType};

/// Reads the binary format. Offsets in errors are absolute within the module.
#[derive(Clone)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes[start..end]` of the whole module.
    pub(crate) fn new(bytes: &'a [u8], start: usize, end: usize) -> Reader<'a> {
        debug_assert!(start <= end && end <= bytes.len());
        Reader {
            bytes,
            pos: start,
            end,
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn end(&self) -> usize {
        self.end
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.end
    }

    pub(crate) fn remaining(&self) -> usize {
        self.end - self.pos
    }

    pub(crate) fn malformed(&self, message: impl Into<String>) -> Error {
        Error::malformed(self.pos, message)
    }

    fn unexpected_end(&self) -> Error {
        if self.end < self.bytes.len() {
            Error::malformed(self.pos, "unexpected end of section or function")
        } else {
            Error::malformed(self.pos, "unexpected end")
        }
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        if self.pos >= self.end {
            return Err(self.unexpected_end());
        }
        let b = self.bytes[self.pos];
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn peek_u8(&self) -> Result<u8> {
        if self.pos >= self.end {
            return Err(self.unexpected_end());
        }
        Ok(self.bytes[self.pos])
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.unexpected_end());
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Stops reading at `end` (if that is before the current end).
    pub(crate) fn truncate(&mut self, end: usize) {
        self.end = end.min(self.end);
    }

    pub(crate) fn skip_to(&mut self, pos: usize) {
        self.pos = pos.min(self.end);
    }

    /// Unsigned LEB128 of at most `bits` bits.
    fn unsigned(&mut self, bits: u32) -> Result<u64> {
        let max_bytes = bits.div_ceil(7);
        let mut result: u64 = 0;
        let mut shift = 0;
        for i in 0..max_bytes {
            let b = self.u8()?;
            let payload = u64::from(b & 0x7f);
            if i == max_bytes - 1 {
                if b & 0x80 != 0 {
                    return Err(Error::malformed(
                        self.pos - 1,
                        "integer representation too long",
                    ));
                }
                let unused = bits - shift;
                if unused < 7 && payload >> unused != 0 {
                    return Err(Error::malformed(self.pos - 1, "integer too large"));
                }
            }
            result |= payload << shift;
            if b & 0x80 == 0 {
                return Ok(result);
            }
            shift += 7;
        }
        unreachable!("the last byte always returns")
    }

    /// Signed LEB128 of at most `bits` bits.
    fn signed(&mut self, bits: u32) -> Result<i64> {
        let max_bytes = bits.div_ceil(7);
        let mut result: i64 = 0;
        let mut shift = 0;
        for i in 0..max_bytes {
            let b = self.u8()?;
            let payload = i64::from(b & 0x7f);
            if i == max_bytes - 1 {
                if b & 0x80 != 0 {
                    return Err(Error::malformed(
                        self.pos - 1,
                        "integer representation too long",
                    ));
                }
                // The bits beyond `bits` must all equal the sign bit.
                let used = bits - shift; // meaningful bits in this byte, 1..=7
                if used < 7 {
                    let sign_bits = (b & 0x7f) >> (used - 1);
                    if sign_bits != 0 && sign_bits != 0x7f >> (used - 1) {
                        return Err(Error::malformed(self.pos - 1, "integer too large"));
                    }
                }
                result |= payload << shift;
                let total = shift + 7;
                if total < 64 {
                    result = (result << (64 - total)) >> (64 - total);
                }
                return Ok(result);
            }
            result |= payload << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 {
                    result = (result << (64 - shift)) >> (64 - shift);
                }
                return Ok(result);
            }
        }
        unreachable!("the last byte always returns")
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(self.unsigned(32)? as u32)
    }

    pub(crate) fn i32(&mut self) -> Result<i32> {
        Ok(self.signed(32)? as i32)
    }

    pub(crate) fn i64(&mut self) -> Result<i64> {
        self.signed(64)
    }

    /// A signed 33-bit integer (block types).
    pub(crate) fn s33(&mut self) -> Result<i64> {
        self.signed(33)
    }

    pub(crate) fn f32_bits(&mut self) -> Result<u32> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn f64_bits(&mut self) -> Result<u64> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// A vector length; rejects lengths that cannot possibly fit in what is left, so callers
    /// may reserve capacity without being tricked into huge allocations.
    pub(crate) fn len(&mut self) -> Result<u32> {
        let at = self.pos;
        let n = self.u32()?;
        if n as usize > self.remaining() {
            // Each element takes at least one byte.
            return Err(Error::malformed(at, "length out of bounds"));
        }
        Ok(n)
    }

    /// A name: a length-prefixed UTF-8 string.
    pub(crate) fn name(&mut self) -> Result<&'a str> {
        let at = self.pos;
        let n = self.u32()? as usize;
        if n > self.remaining() {
            return Err(Error::malformed(at, "length out of bounds"));
        }
        let b = self.bytes(n)?;
        std::str::from_utf8(b).map_err(|_| Error::malformed(at, "malformed UTF-8 encoding"))
    }

    pub(crate) fn val_type(&mut self) -> Result<ValType> {
        let at = self.pos;
        match self.u8()? {
            0x7f => Ok(ValType::I32),
            0x7e => Ok(ValType::I64),
            0x7d => Ok(ValType::F32),
            0x7c => Ok(ValType::F64),
            0x7b => Ok(ValType::V128),
            0x70 => Ok(ValType::FuncRef),
            0x6f => Ok(ValType::ExternRef),
            _ => Err(Error::malformed(at, "malformed value type")),
        }
    }

    pub(crate) fn ref_type(&mut self) -> Result<RefType> {
        let at = self.pos;
        match self.u8()? {
            0x70 => Ok(RefType::FuncRef),
            0x6f => Ok(RefType::ExternRef),
            _ => Err(Error::malformed(at, "malformed reference type")),
        }
    }

    pub(crate) fn limits(&mut self) -> Result<Limits> {
        let at = self.pos;
        match self.u8()? {
            0x00 => Ok(Limits {
                min: self.u32()?,
                max: None,
            }),
            0x01 => {
                let min = self.u32()?;
                let max = self.u32()?;
                Ok(Limits {
                    min,
                    max: Some(max),
                })
            }
            _ => Err(Error::malformed(at, "integer too large")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read<T>(bytes: &[u8], f: impl FnOnce(&mut Reader<'_>) -> Result<T>) -> Result<T> {
        let mut r = Reader::new(bytes, 0, bytes.len());
        f(&mut r)
    }

    #[test]
    fn unsigned_leb() {
        assert_eq!(read(&[0x00], |r| r.u32()).unwrap(), 0);
        assert_eq!(read(&[0xe5, 0x8e, 0x26], |r| r.u32()).unwrap(), 624485);
        assert_eq!(
            read(&[0xff, 0xff, 0xff, 0xff, 0x0f], |r| r.u32()).unwrap(),
            u32::MAX
        );
        assert_eq!(
            read(&[0x80, 0x80, 0x80, 0x80, 0x00], |r| r.u32()).unwrap(),
            0
        );
        assert!(read(&[0xff, 0xff, 0xff, 0xff, 0x1f], |r| r.u32()).is_err());
        assert!(read(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00], |r| r.u32()).is_err());
        assert!(read(&[0x80], |r| r.u32()).is_err());
    }

    #[test]
    fn signed_leb() {
        assert_eq!(read(&[0x7f], |r| r.i32()).unwrap(), -1);
        assert_eq!(read(&[0xc0, 0xbb, 0x78], |r| r.i32()).unwrap(), -123456);
        assert_eq!(
            read(&[0x80, 0x80, 0x80, 0x80, 0x78], |r| r.i32()).unwrap(),
            i32::MIN
        );
        assert_eq!(
            read(&[0xff, 0xff, 0xff, 0xff, 0x07], |r| r.i32()).unwrap(),
            i32::MAX
        );
        // Unused bits that do not match the sign are too large.
        assert!(read(&[0xff, 0xff, 0xff, 0xff, 0x0f], |r| r.i32()).is_err());
        assert!(read(&[0x80, 0x80, 0x80, 0x80, 0x70], |r| r.i32()).is_err());
        assert_eq!(
            read(
                &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f],
                |r| r.i64()
            )
            .unwrap(),
            i64::MIN
        );
        assert!(
            read(
                &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
                |r| r.i64()
            )
            .is_err()
        );
        assert_eq!(read(&[0x40], |r| r.s33()).unwrap(), -64);
    }
}
