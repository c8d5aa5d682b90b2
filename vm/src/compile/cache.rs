//! The code cache on disk: a compiled module's image and [`Layout`] in one file per
//! module and configuration, so a later process loads instead of compiling.
//!
//! - **Key.** SHA-256 over the module's SHA-256, this compiler's build (a hash of the
//!   VM's sources, see `build.rs`), the CPU features the code may use and every setting
//!   that changes code. The key names the file and is stored in it.
//! - **File.** A fixed header (magic, format version, key, checksum, sizes), the layout
//!   tables, then the image. The checksum is XXH3-128 over everything else in the file
//!   (it finds damage, at 9 GB/s; SHA-256 runs at 1.5 GB/s here, and loading must stay
//!   within a few milliseconds).
//! - **Load.** The file is read into fresh anonymous memory, and the checksum is
//!   verified on that private copy before the copy is made executable: a file mapped
//!   `MAP_PRIVATE` would still show another process's later writes to pages not yet
//!   copied, so the bytes checked would not be the bytes run. The layout is then checked
//!   against the module (every offset inside the image), the type-id fields are filled
//!   for this process, and the file's modification time is set to now (for eviction).
//!   Anything wrong (short, corrupt, foreign, other key or version) means a miss.
//! - **Store.** Written to a temporary file in the directory, then renamed over the
//!   final name: concurrent writers of one module each rename a whole file, and a reader
//!   sees one of them whole. No fsync: a file torn by a crash fails its checksum.
//! - **Size.** After a store, the least recently used files go until the directory
//!   holds at most the configured size; temporary files a crashed writer left are
//!   removed after ten minutes.
//!
//! Every failure (read-only or missing directory, full disk) degrades to compiling;
//! nothing here returns an error. The directory must be as trusted as the program: code
//! in it runs (the checksum finds accidents, not attackers).

use super::Layout;
use super::x64::inst::TrapKind;
use crate::error::TrapCode;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use xxhash_rust::xxh3::Xxh3;

const MAGIC: &[u8; 8] = b"SNDLCODE";
/// Bumped when the file format changes (the key covers code changes).
const FORMAT_VERSION: u32 = 1;
/// Header bytes: magic 8, version 4, reserved 4, key 32, checksum 16, then seven u32:
/// image bytes, stubs end, trap return, functions, entries, trap sites, type-id fields.
const HEADER: usize = 8 + 4 + 4 + 32 + CHECKSUM_LEN + 7 * 4;
/// Where the checksum lies in the header, and its length.
const CHECKSUM_AT: usize = 48;
const CHECKSUM_LEN: usize = 16;
/// Where the seven sizes start.
const SIZES_AT: usize = CHECKSUM_AT + CHECKSUM_LEN;
/// A file larger than this is not ours.
const MAX_FILE: u64 = 1 << 30;
/// Temporary files older than this were left by a writer that died.
const STALE_TEMP: Duration = Duration::from_secs(600);
/// File name suffix of entries.
const SUFFIX: &str = ".code";
/// File name prefix of temporary files.
const TEMP_PREFIX: &str = ".tmp-";

/// This build of the compiler (see `build.rs`).
const COMPILER_BUILD: &str = env!("SANDLITE_COMPILER_BUILD");

/// Everything that decides a module's code, hashed into the cache key.
pub(crate) struct KeyInputs<'a> {
    pub module: &'a [u8],
    pub cpu: super::CpuFeatures,
    pub memory0_guarded: bool,
    pub loop_interrupt_checks: bool,
    pub multi_memory: bool,
}

/// One module's entry in a cache directory.
pub(crate) struct CodeCache {
    dir: PathBuf,
    size_limit: u64,
    key: [u8; 32],
    path: PathBuf,
}

/// An entry read back: the image (not yet executable) and where things lie in it.
pub(crate) struct Loaded {
    pub image: memmap2::MmapMut,
    pub layout: Layout,
}

impl CodeCache {
    pub(crate) fn new(dir: &Path, size_limit: u64, inputs: &KeyInputs<'_>) -> CodeCache {
        let flags = super::debug_flags();
        let mut h = Sha256::new();
        h.update(b"sandlite code cache key\0");
        h.update(COMPILER_BUILD.as_bytes());
        h.update(b"\0");
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(b"\0");
        h.update(Sha256::digest(inputs.module));
        let c = inputs.cpu;
        let bits = [
            c.sse41,
            c.lzcnt,
            c.bmi1,
            c.popcnt,
            c.avx,
            c.avx2,
            inputs.memory0_guarded,
            inputs.loop_interrupt_checks,
            inputs.multi_memory,
            // The debugging switches that change code.
            flags.no_phi,
            flags.no_merge,
            flags.no_gvn,
            flags.regalloc_few,
        ];
        h.update(bits.map(u8::from));
        let key: [u8; 32] = h.finalize().into();
        let name: String = key.iter().map(|b| format!("{b:02x}")).collect();
        CodeCache {
            dir: dir.to_path_buf(),
            size_limit,
            key,
            path: dir.join(name + SUFFIX),
        }
    }

    /// The file this module's code is cached in.
    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The cached code of a module with `n_funcs` defined functions and `n_types`
    /// types, if a sound entry exists.
    pub(crate) fn load(&self, n_funcs: usize, n_types: usize) -> Option<Loaded> {
        let mut file = std::fs::File::open(&self.path).ok()?;
        let len = file.metadata().ok()?.len();
        if !(HEADER as u64..=MAX_FILE).contains(&len) {
            return None;
        }
        let mut header = [0u8; HEADER];
        file.read_exact(&mut header).ok()?;
        if &header[..8] != MAGIC
            || u32_at(&header, 8) != FORMAT_VERSION
            || header[16..48] != self.key
        {
            return None;
        }
        let field = |i: usize| u32_at(&header, SIZES_AT + 4 * i) as u64;
        let (image_len, stubs_end, trap_return) = (field(0), field(1), field(2));
        let (n_func_starts, n_entries, n_traps, n_fields) =
            (field(3), field(4), field(5), field(6));
        if n_func_starts != n_funcs as u64 || n_entries != n_types as u64 {
            return None;
        }
        let tables = 4 * n_func_starts + 4 * n_entries + 5 * n_traps + 8 * n_fields;
        if HEADER as u64 + tables + image_len != len {
            return None;
        }
        // Both sizes are bounded by `len <= MAX_FILE`.
        let mut meta = vec![0u8; tables as usize];
        file.read_exact(&mut meta).ok()?;
        // Populated: one call faults in every page instead of one fault per page.
        let mut image = memmap2::MmapOptions::new()
            .len((image_len as usize).max(1))
            .populate()
            .map_anon()
            .ok()?;
        file.read_exact(&mut image[..image_len as usize]).ok()?;
        let sum = checksum(&header, &meta, &image[..image_len as usize]);
        if sum != header[CHECKSUM_AT..SIZES_AT] {
            return None;
        }
        let layout = parse_layout(
            &meta,
            [n_func_starts, n_entries, n_traps, n_fields].map(|n| n as usize),
            stubs_end as u32,
            trap_return as u32,
            image_len,
            n_types,
        )?;
        // Most recently used: evicted last. (Best effort; the entry is good either way.)
        let _ = file.set_modified(SystemTime::now());
        Some(Loaded { image, layout })
    }

    /// Writes `image` and `layout` as this module's entry, then trims the directory.
    /// Failures leave the cache as it was.
    pub(crate) fn store(&self, image: &[u8], layout: &Layout) {
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        let (header, meta) = serialize(&self.key, image, layout);
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let temp = self.dir.join(format!(
            "{TEMP_PREFIX}{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let written = std::fs::File::create_new(&temp).and_then(|mut f| {
            f.write_all(&header)?;
            f.write_all(&meta)?;
            f.write_all(image)
        });
        if written.is_err() || std::fs::rename(&temp, &self.path).is_err() {
            let _ = std::fs::remove_file(&temp);
            return;
        }
        self.trim();
    }

    /// Removes least recently used entries until the directory is within its limit.
    fn trim(&self) {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        let mut entries: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
        let mut total = 0u64;
        for entry in dir.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            if name.starts_with(TEMP_PREFIX) {
                let age = now.duration_since(modified).unwrap_or_default();
                if age > STALE_TEMP {
                    let _ = std::fs::remove_file(entry.path());
                }
            } else if name.ends_with(SUFFIX) {
                total += meta.len();
                entries.push((modified, meta.len(), entry.path()));
            }
        }
        entries.sort();
        for (_, size, path) in entries {
            if total <= self.size_limit {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= size;
            }
        }
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// Trap codes by their number in a cache file (0 is `Pending`, `n` is `CODES[n - 1]`).
const CODES: [TrapCode; 13] = [
    TrapCode::Unreachable,
    TrapCode::MemoryOutOfBounds,
    TrapCode::TableOutOfBounds,
    TrapCode::UndefinedElement,
    TrapCode::UninitializedElement,
    TrapCode::IndirectCallTypeMismatch,
    TrapCode::IntegerOverflow,
    TrapCode::IntegerDivisionByZero,
    TrapCode::InvalidConversionToInteger,
    TrapCode::StackOverflow,
    TrapCode::NullReference,
    TrapCode::Interrupted,
    TrapCode::Host,
];

fn trap_byte(kind: TrapKind) -> u8 {
    match kind {
        TrapKind::Pending => 0,
        TrapKind::Wasm(code) => {
            let i = CODES.iter().position(|&c| c == code).expect("every code");
            i as u8 + 1
        }
    }
}

fn trap_kind(byte: u8) -> Option<TrapKind> {
    match byte {
        0 => Some(TrapKind::Pending),
        n => CODES.get(n as usize - 1).map(|&c| TrapKind::Wasm(c)),
    }
}

/// The header and layout tables of an entry for `image`.
fn serialize(key: &[u8; 32], image: &[u8], layout: &Layout) -> (Vec<u8>, Vec<u8>) {
    let mut meta = Vec::new();
    for &f in &layout.funcs {
        meta.extend_from_slice(&f.to_le_bytes());
    }
    for &e in &layout.entries {
        meta.extend_from_slice(&e.to_le_bytes());
    }
    for &(at, kind) in &layout.traps {
        meta.extend_from_slice(&at.to_le_bytes());
        meta.push(trap_byte(kind));
    }
    for &(at, index) in &layout.type_id_fields {
        meta.extend_from_slice(&at.to_le_bytes());
        meta.extend_from_slice(&index.to_le_bytes());
    }
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&[0; 4]);
    header.extend_from_slice(key);
    header.extend_from_slice(&[0; CHECKSUM_LEN]);
    for n in [
        image.len(),
        layout.stubs_end as usize,
        layout.trap_return as usize,
        layout.funcs.len(),
        layout.entries.len(),
        layout.traps.len(),
        layout.type_id_fields.len(),
    ] {
        header.extend_from_slice(&(n as u32).to_le_bytes());
    }
    let sum = checksum(&header, &meta, image);
    header[CHECKSUM_AT..SIZES_AT].copy_from_slice(&sum);
    (header, meta)
}

/// The checksum of an entry: every byte of the file but the checksum's own.
fn checksum(header: &[u8], meta: &[u8], image: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut h = Xxh3::new();
    h.update(&header[..CHECKSUM_AT]);
    h.update(&header[SIZES_AT..]);
    h.update(meta);
    h.update(image);
    h.digest128().to_le_bytes()
}

/// The layout tables of an entry, if every offset in them lies where it must.
fn parse_layout(
    meta: &[u8],
    [n_funcs, n_entries, n_traps, n_fields]: [usize; 4],
    stubs_end: u32,
    trap_return: u32,
    image_len: u64,
    n_types: usize,
) -> Option<Layout> {
    let inside = |at: u32, width: u64| at as u64 + width <= image_len;
    let mut at = 0;
    let mut word = || {
        let w = u32_at(meta, at);
        at += 4;
        w
    };
    let funcs: Box<[u32]> = (0..n_funcs).map(|_| word()).collect();
    let entries: Box<[u32]> = (0..n_entries).map(|_| word()).collect();
    let mut traps = Vec::with_capacity(n_traps);
    for _ in 0..n_traps {
        let off = u32_at(meta, at);
        traps.push((off, trap_kind(meta[at + 4])?));
        at += 5;
    }
    let mut fields = Vec::with_capacity(n_fields);
    for _ in 0..n_fields {
        fields.push((u32_at(meta, at), u32_at(meta, at + 4)));
        at += 8;
    }
    let sound = inside(stubs_end, 0)
        && inside(trap_return, 1)
        && trap_return < stubs_end
        && funcs.iter().all(|&f| f >= stubs_end && inside(f, 0))
        && funcs.is_sorted()
        && entries
            .iter()
            .all(|&e| e == u32::MAX || (e < stubs_end && inside(e, 1)))
        && traps.iter().all(|&(off, _)| inside(off, 1))
        && traps.is_sorted_by_key(|t| t.0)
        && fields
            .iter()
            .all(|&(off, index)| inside(off, 4) && (index as usize) < n_types);
    sound.then(|| Layout {
        funcs,
        entries,
        traps: traps.into_boxed_slice(),
        stubs_end,
        trap_return,
        type_id_fields: fields.into_boxed_slice(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout {
            funcs: vec![32, 48].into_boxed_slice(),
            entries: vec![0, u32::MAX].into_boxed_slice(),
            traps: vec![
                (16, TrapKind::Pending),
                (40, TrapKind::Wasm(TrapCode::Host)),
            ]
            .into_boxed_slice(),
            stubs_end: 32,
            trap_return: 20,
            type_id_fields: vec![(50, 1)].into_boxed_slice(),
        }
    }

    fn cache(dir: &Path, module: &[u8]) -> CodeCache {
        let inputs = KeyInputs {
            module,
            cpu: super::super::CpuFeatures::BASELINE,
            memory0_guarded: true,
            loop_interrupt_checks: true,
            multi_memory: false,
        };
        CodeCache::new(dir, 1 << 20, &inputs)
    }

    #[test]
    fn every_trap_code_round_trips() {
        for code in CODES {
            assert_eq!(
                trap_kind(trap_byte(TrapKind::Wasm(code))),
                Some(TrapKind::Wasm(code))
            );
        }
        assert_eq!(trap_kind(0), Some(TrapKind::Pending));
        assert_eq!(trap_kind(CODES.len() as u8 + 1), None);
    }

    #[test]
    fn an_entry_round_trips_and_every_damaged_byte_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path(), b"module");
        let image: Vec<u8> = (0..64u8).collect();
        c.store(&image, &layout());
        let loaded = c.load(2, 2).expect("a hit");
        assert_eq!(&loaded.image[..64], &image[..]);
        assert_eq!(loaded.layout, layout());
        // Another module's shape is a miss.
        assert!(c.load(3, 2).is_none());
        assert!(c.load(2, 1).is_none());
        // Flipping any single byte of the file makes it a miss.
        let good = std::fs::read(c.path()).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x40;
            std::fs::write(c.path(), &bad).unwrap();
            assert!(c.load(2, 2).is_none(), "byte {i} flipped still loads");
        }
        // So does every truncation, and a byte appended.
        for n in 0..good.len() {
            std::fs::write(c.path(), &good[..n]).unwrap();
            assert!(c.load(2, 2).is_none(), "truncated to {n} still loads");
        }
        let mut long = good.clone();
        long.push(0);
        std::fs::write(c.path(), &long).unwrap();
        assert!(c.load(2, 2).is_none());
        // Another module's entry under this module's name is a miss (the key differs).
        let other = cache(dir.path(), b"other module");
        other.store(&image, &layout());
        std::fs::copy(other.path(), c.path()).unwrap();
        assert!(c.load(2, 2).is_none());
        assert!(other.load(2, 2).is_some());
    }

    #[test]
    fn offsets_outside_the_image_are_refused_even_with_a_good_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path(), b"module");
        let image = vec![0u8; 64];
        let mut bad = layout();
        bad.type_id_fields = vec![(62, 1)].into_boxed_slice(); // 4 bytes from 62 > 64
        c.store(&image, &bad);
        assert!(c.load(2, 2).is_none());
        let mut bad = layout();
        bad.type_id_fields = vec![(50, 2)].into_boxed_slice(); // no type 2
        c.store(&image, &bad);
        assert!(c.load(2, 2).is_none());
        let mut bad = layout();
        bad.funcs = vec![48, 32].into_boxed_slice();
        c.store(&image, &bad);
        assert!(c.load(2, 2).is_none());
    }

    #[test]
    fn the_directory_is_trimmed_least_recently_used_first() {
        let dir = tempfile::tempdir().unwrap();
        let image = vec![0u8; 100 << 10];
        let caches: Vec<CodeCache> = (0..4u8)
            .map(|i| {
                let mut c = cache(dir.path(), &[i]);
                c.size_limit = 350 << 10; // room for three entries
                c
            })
            .collect();
        let old = SystemTime::now() - Duration::from_secs(3600);
        for (i, c) in caches.iter().take(3).enumerate() {
            c.store(&image, &layout());
            let f = std::fs::File::options().write(true).open(c.path()).unwrap();
            f.set_modified(old + Duration::from_secs(i as u64)).unwrap();
        }
        // Using the oldest makes the second oldest the least recently used.
        assert!(caches[0].load(2, 2).is_some());
        // A stale temporary file from a dead writer goes too.
        let temp = dir.path().join(format!("{TEMP_PREFIX}1-2-3"));
        std::fs::write(&temp, b"partial").unwrap();
        let f = std::fs::File::options().write(true).open(&temp).unwrap();
        f.set_modified(old).unwrap();
        caches[3].store(&image, &layout());
        let present: Vec<bool> = caches.iter().map(|c| c.path().exists()).collect();
        assert_eq!(present, [true, false, true, true]);
        assert!(!temp.exists());
    }

    #[test]
    fn an_unwritable_directory_degrades_to_no_cache() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-directory");
        std::fs::write(&file, b"x").unwrap();
        let c = cache(&file.join("sub"), b"module");
        c.store(&[0u8; 64], &layout());
        assert!(c.load(2, 2).is_none());
    }
}
