//! Every way out of the sandbox root is refused with SQLITE_CANTOPEN, and nothing is
//! created outside.

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{main_db_flags, open_db};
use sandlite_vfs::codes::{SQLITE_CANTOPEN, SQLITE_OK};
use sandlite_vfs::{AccessCheck, OpenFlags, Vfs, VfsError};

/// A temporary directory holding `root/` (the sandbox) and `outside/` beside it.
struct Layout {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    outside: std::path::PathBuf,
}

fn layout() -> Layout {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let outside = dir.path().join("outside");
    std::fs::create_dir(&root).unwrap();
    std::fs::create_dir(&outside).unwrap();
    Layout {
        _dir: dir,
        root,
        outside,
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn assert_cantopen(result: Result<impl std::fmt::Debug, VfsError>, reason: &str) {
    let err = result.expect_err("must be refused");
    assert_eq!(err.code(), SQLITE_CANTOPEN, "{err}");
    assert!(
        err.message().contains(reason),
        "message {:?} should contain {reason:?}",
        err.message()
    );
}

#[test]
fn dot_dot_is_refused_and_nothing_is_created() {
    let l = layout();
    let vfs = Vfs::new(&l.root).unwrap();
    for path in [
        "../escape.db",
        "sub/../../escape.db",
        "./../outside/escape.db",
    ] {
        assert_cantopen(vfs.full_pathname(path), "path escapes the sandbox root");
        assert_cantopen(
            vfs.open(Some(path), main_db_flags()),
            "escapes the sandbox root",
        );
        assert_cantopen(
            vfs.access(path, AccessCheck::Exists),
            "escapes the sandbox root",
        );
        assert_cantopen(vfs.delete(path, false), "escapes the sandbox root");
    }
    let err = vfs.open(Some("../x"), main_db_flags()).unwrap_err();
    assert_eq!(err.message(), "path escapes the sandbox root: ../x");
    assert!(entries(&l.outside).is_empty());
    assert_eq!(entries(l.root.parent().unwrap()), ["outside", "root"]);
}

#[test]
fn absolute_paths_outside_are_refused_inside_are_mapped() {
    let l = layout();
    let vfs = Vfs::new(&l.root).unwrap();
    let outside_db = l.outside.join("abs.db");
    let outside_str = outside_db.to_str().unwrap();
    assert_cantopen(
        vfs.full_pathname(outside_str),
        "absolute path outside the sandbox root",
    );
    assert_cantopen(
        vfs.open(Some(outside_str), main_db_flags()),
        "outside the sandbox root",
    );
    assert_cantopen(
        vfs.open(Some("/etc/passwd"), OpenFlags::READONLY),
        "outside the sandbox",
    );
    // An absolute path that climbs out lexically is outside too.
    let sneaky = format!("{}/../outside/abs.db", l.root.display());
    assert_cantopen(
        vfs.open(Some(&sneaky), main_db_flags()),
        "outside the sandbox root",
    );
    assert!(entries(&l.outside).is_empty());

    // Inside the root, absolute paths work and name the same file as relative ones.
    let inside = l.root.join("in.db");
    let full = vfs.full_pathname(inside.to_str().unwrap()).unwrap();
    assert_eq!(full.path, vfs.full_pathname("in.db").unwrap().path);
    let mut f = vfs.open(Some(&full.path), main_db_flags()).unwrap();
    f.write(b"x", 0).unwrap();
    assert!(inside.exists());
}

#[test]
fn the_root_itself_and_malformed_names_are_refused() {
    let l = layout();
    let vfs = Vfs::new(&l.root).unwrap();
    assert_cantopen(
        vfs.open(Some("."), main_db_flags()),
        "sandbox root directory itself",
    );
    assert_cantopen(
        vfs.open(Some("a/.."), main_db_flags()),
        "sandbox root directory itself",
    );
    assert_cantopen(vfs.open(Some(""), main_db_flags()), "empty path");
    assert_cantopen(vfs.open(Some("a\0b"), main_db_flags()), "NUL byte");
}

#[test]
fn symlinks_leading_out_are_refused() {
    let l = layout();
    let vfs = Vfs::new(&l.root).unwrap();
    std::fs::write(l.outside.join("victim.db"), b"precious").unwrap();
    symlink(l.outside.join("victim.db"), l.root.join("abs-link.db")).unwrap();
    symlink("../outside/victim.db", l.root.join("rel-link.db")).unwrap();
    // Dangling links: following them with O_CREAT would create the target outside.
    symlink(l.outside.join("new.db"), l.root.join("dangling-abs.db")).unwrap();
    symlink("../outside/new.db", l.root.join("dangling-rel.db")).unwrap();
    symlink(&l.outside, l.root.join("dir-link")).unwrap();

    for name in [
        "abs-link.db",
        "rel-link.db",
        "dangling-abs.db",
        "dangling-rel.db",
        "dir-link/x.db",
    ] {
        assert_cantopen(vfs.full_pathname(name), "through a symbolic link");
        assert_cantopen(
            vfs.open(Some(name), main_db_flags()),
            "through a symbolic link",
        );
        assert_cantopen(
            vfs.open(Some(name), OpenFlags::READONLY),
            "through a symbolic link",
        );
        assert_cantopen(
            vfs.access(name, AccessCheck::ReadWrite),
            "through a symbolic link",
        );
    }
    assert_cantopen(
        vfs.delete("dir-link/victim.db", false),
        "through a symbolic link",
    );
    assert_eq!(entries(&l.outside), ["victim.db"]);
    assert_eq!(
        std::fs::read(l.outside.join("victim.db")).unwrap(),
        b"precious"
    );
}

#[test]
fn symlinks_inside_the_root_are_followed_and_resolved() {
    let l = layout();
    let vfs = Vfs::new(&l.root).unwrap();
    std::fs::create_dir(l.root.join("real")).unwrap();
    std::fs::write(l.root.join("real/data.db"), b"db").unwrap();
    symlink("real/data.db", l.root.join("alias.db")).unwrap();
    let full = vfs.full_pathname("alias.db").unwrap();
    assert!(full.followed_symlink);
    assert_eq!(full.path, format!("{}/real/data.db", vfs.root().unwrap()));
    let plain = vfs.full_pathname("real/data.db").unwrap();
    assert!(!plain.followed_symlink);
    // SQLite appends suffixes to the full name: the journal lands beside the real file.
    let journal = format!("{}-journal", full.path);
    let flags = OpenFlags::READWRITE | OpenFlags::CREATE | OpenFlags::MAIN_JOURNAL;
    vfs.open(Some(&journal), flags).unwrap();
    assert!(l.root.join("real/data.db-journal").exists());
}

#[test]
fn a_directory_swapped_for_a_symlink_after_full_pathname_is_refused() {
    let l = layout();
    let vfs = Vfs::new(&l.root).unwrap();
    std::fs::create_dir(l.root.join("sub")).unwrap();
    let full = vfs.full_pathname("sub/db.sqlite").unwrap().path;
    std::fs::remove_dir(l.root.join("sub")).unwrap();
    symlink(&l.outside, l.root.join("sub")).unwrap();
    assert_cantopen(
        vfs.open(Some(&full), main_db_flags()),
        "through a symbolic link",
    );
    let journal = format!("{full}-journal");
    let flags = OpenFlags::READWRITE | OpenFlags::CREATE | OpenFlags::MAIN_JOURNAL;
    assert_cantopen(vfs.open(Some(&journal), flags), "through a symbolic link");
    assert!(entries(&l.outside).is_empty());
}

#[test]
fn racing_symlink_swaps_never_create_anything_outside() {
    let l = layout();
    let vfs = Vfs::new(&l.root).unwrap();
    let sub = l.root.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, sub, outside, parking) = (
            Arc::clone(&stop),
            sub.clone(),
            l.outside.clone(),
            l.root.join("parking"),
        );
        std::thread::spawn(move || {
            // Flip "sub" between a real directory and a symlink to the outside.
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::rename(&sub, &parking);
                let _ = symlink(&outside, &sub);
                let _ = std::fs::remove_file(&sub);
                let _ = std::fs::rename(&parking, &sub);
            }
        })
    };
    let full = format!("{}/sub/raced.db", vfs.root().unwrap());
    let (mut opened, mut refused) = (0, 0);
    for _ in 0..3000 {
        match vfs.open(Some(&full), main_db_flags()) {
            Ok(_) => opened += 1,
            Err(_) => refused += 1,
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    assert!(
        entries(&l.outside).is_empty(),
        "created outside: {:?}",
        entries(&l.outside)
    );
    println!("opened {opened}, refused {refused}");
    assert_eq!(opened + refused, 3000);
}

#[test]
fn an_attached_database_outside_the_root_is_refused() {
    let l = layout();
    let vfs = Vfs::new(&l.root).unwrap();
    let _main = open_db(&vfs, "main.db");
    let attach_target = l.outside.join("attached.db");
    for name in [attach_target.to_str().unwrap(), "../outside/attached.db"] {
        assert_cantopen(vfs.full_pathname(name), "sandbox root");
        assert_cantopen(vfs.open(Some(name), main_db_flags()), "sandbox root");
    }
    // Super-journals are named after the main database, so they stay inside.
    let sj = format!("{}-mj0123ABCD", vfs.full_pathname("main.db").unwrap().path);
    let flags = OpenFlags::READWRITE | OpenFlags::CREATE | OpenFlags::SUPER_JOURNAL;
    vfs.open(Some(&sj), flags).unwrap();
    assert!(entries(&l.outside).is_empty());
    assert_eq!(entries(&l.root), ["main.db", "main.db-mj0123ABCD"]);
}

#[test]
fn temporary_files_live_inside_the_root_and_vanish() {
    let l = layout();
    let vfs = Vfs::new(&l.root).unwrap();
    let flags = OpenFlags::READWRITE | OpenFlags::CREATE | OpenFlags::DELETEONCLOSE;
    let mut temp = vfs.open(None, flags | OpenFlags::TEMP_DB).unwrap();
    temp.write(&[7u8; 10_000], 0).unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(temp.read(&mut buf, 9_996).unwrap().code(), SQLITE_OK);
    assert_eq!(buf, [7; 4]);
    assert!(!temp.supports_shm());
    assert!(entries(&l.root).is_empty(), "{:?}", entries(&l.root));
    assert!(entries(&l.outside).is_empty());
}

#[test]
fn a_root_given_through_a_symlink_accepts_both_spellings() {
    let l = layout();
    let link = l.outside.join("root-link");
    symlink(&l.root, &link).unwrap();
    let vfs = Vfs::new(&link).unwrap();
    assert_eq!(
        vfs.root().unwrap(),
        std::fs::canonicalize(&l.root).unwrap().to_str().unwrap()
    );
    let via_link = vfs
        .full_pathname(link.join("a.db").to_str().unwrap())
        .unwrap();
    let via_real = vfs
        .full_pathname(l.root.join("a.db").to_str().unwrap())
        .unwrap();
    assert_eq!(via_link.path, via_real.path);
}

#[test]
fn a_missing_root_is_an_error() {
    let l = layout();
    let err = Vfs::new(l.root.join("missing")).unwrap_err();
    assert_eq!(err.code(), SQLITE_CANTOPEN);
    assert!(err.message().contains("cannot open sandbox root"), "{err}");
}

#[test]
fn hard_links_are_refused_unless_allowed() {
    use sandlite_vfs::SandboxOptions;
    let l = layout();
    let victim = l.outside.join("victim.db");
    std::fs::write(&victim, b"outside data").unwrap();
    // Names inside the root for an outside file: no path resolution can see this.
    for name in ["hard.db", "db-journal", "db-wal", "db-shm"] {
        std::fs::hard_link(&victim, l.root.join(name)).unwrap();
    }
    let vfs = Vfs::new(&l.root).unwrap();
    let kinds = [
        ("hard.db", main_db_flags()),
        (
            "db-journal",
            OpenFlags::READWRITE | OpenFlags::CREATE | OpenFlags::MAIN_JOURNAL,
        ),
        (
            "db-wal",
            OpenFlags::READWRITE | OpenFlags::CREATE | OpenFlags::WAL,
        ),
    ];
    for (name, flags) in kinds {
        let full = vfs.full_pathname(name).unwrap().path;
        assert_cantopen(vfs.open(Some(&full), flags), "it has 5 hard links");
        let read_only = OpenFlags::READONLY | OpenFlags::MAIN_DB;
        assert_cantopen(vfs.open(Some(&full), read_only), "may be a file outside");
    }
    // The -shm file of a database "db" (itself an ordinary file) is refused too.
    let mut db = open_db(&vfs, "db");
    let shm = db.shm_map(0, 32768, true);
    assert_cantopen(shm, "refusing to open");
    drop(db);
    assert_eq!(std::fs::read(&victim).unwrap(), b"outside data");

    // Allowed explicitly, the same file opens (and writes reach the outside file).
    let vfs = Vfs::with_options(&l.root, &SandboxOptions::new().allow_hard_links(true)).unwrap();
    let full = vfs.full_pathname("hard.db").unwrap().path;
    let mut file = vfs.open(Some(&full), main_db_flags()).unwrap();
    file.write(b"through the link", 0).unwrap();
    drop(file);
    assert!(
        std::fs::read(&victim)
            .unwrap()
            .starts_with(b"through the link")
    );

    // A file with one name opens as before.
    let vfs = Vfs::new(&l.root).unwrap();
    std::fs::remove_file(l.root.join("db-shm")).unwrap();
    let mut db = open_db(&vfs, "fresh.db");
    db.write(b"x", 0).unwrap();
}
