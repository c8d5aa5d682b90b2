//! Names this build of the VM for the code cache: a hash of every source file, so code
//! cached by one build of the compiler is never loaded by another.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=src");
    let mut files = Vec::new();
    collect(Path::new("src"), &mut files);
    files.sort();
    // FNV-1a, twice with different offsets: an identity for builds, not a defence.
    let mut hashes = [0xcbf2_9ce4_8422_2325u64, 0x6c62_272e_07bb_0142];
    for path in &files {
        let text = std::fs::read(path).expect("a source file is readable");
        let name = path.to_string_lossy();
        for h in &mut hashes {
            for &b in name.as_bytes().iter().chain([0u8].iter()).chain(&text) {
                *h = (*h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    println!(
        "cargo:rustc-env=SANDLITE_COMPILER_BUILD={:016x}{:016x}",
        hashes[0], hashes[1]
    );
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("the source directory is readable");
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
