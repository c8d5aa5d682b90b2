//! Copies whose size comes from the guest (or the user): a host allocation that fails is
//! an error, never an abort of the process.
#![forbid(unsafe_code)]

/// The host could not allocate `bytes` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("host out of memory: cannot allocate {bytes} bytes")]
pub struct OutOfMemory {
    pub bytes: usize,
}

/// An empty vector with room for `len` elements of `T`.
///
/// # Errors
/// [`OutOfMemory`] if the allocator refuses.
pub fn vec_with_capacity<T>(len: usize) -> Result<Vec<T>, OutOfMemory> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| OutOfMemory {
        bytes: len.saturating_mul(size_of::<T>()),
    })?;
    Ok(v)
}

/// A copy of `bytes`.
///
/// # Errors
/// [`OutOfMemory`] if the allocator refuses.
pub fn copy(bytes: &[u8]) -> Result<Vec<u8>, OutOfMemory> {
    let mut v = vec_with_capacity(bytes.len())?;
    v.extend_from_slice(bytes);
    Ok(v)
}

/// A copy of `text`.
///
/// # Errors
/// [`OutOfMemory`] if the allocator refuses.
pub fn string(text: &str) -> Result<String, OutOfMemory> {
    let mut s = String::new();
    s.try_reserve_exact(text.len())
        .map_err(|_| OutOfMemory { bytes: text.len() })?;
    s.push_str(text);
    Ok(s)
}

/// `bytes` as text, each invalid UTF-8 sequence replaced by U+FFFD (as
/// `String::from_utf8_lossy`).
///
/// # Errors
/// [`OutOfMemory`] if the allocator refuses.
pub fn string_lossy(bytes: &[u8]) -> Result<String, OutOfMemory> {
    let mut s = String::new();
    for chunk in bytes.utf8_chunks() {
        let (valid, invalid) = (chunk.valid(), !chunk.invalid().is_empty());
        let needed = valid.len() + if invalid { 3 } else { 0 };
        s.try_reserve(needed).map_err(|_| OutOfMemory {
            bytes: s.len().saturating_add(needed),
        })?;
        s.push_str(valid);
        if invalid {
            s.push(char::REPLACEMENT_CHARACTER);
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_match_std() {
        for bytes in [&b""[..], b"plain", b"a\xffb\xc3", "é☃".as_bytes()] {
            assert_eq!(string_lossy(bytes).unwrap(), String::from_utf8_lossy(bytes));
            assert_eq!(copy(bytes).unwrap(), bytes);
        }
        assert_eq!(string("x").unwrap(), "x");
    }

    #[test]
    fn impossible_sizes_are_errors() {
        let e = vec_with_capacity::<u64>(usize::MAX / 4).unwrap_err();
        assert_eq!(e.bytes, usize::MAX);
        assert!(vec_with_capacity::<u8>(isize::MAX as usize).is_err());
    }
}
