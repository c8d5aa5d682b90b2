//! A WASI test program in Rust (std on wasm32-wasip1), driven by `tests/wasi.rs`.
//! The first argument selects a scenario; each prints what it observed, one fact per
//! line, so the host test can compare the whole output.
//!
//! Built by `tests/wasi/build.sh` into `tests/wasi/guest.wasm`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    /// `random_get(buf, buf_len) -> errno`, imported directly: std has no public API.
    #[link_name = "random_get"]
    fn wasi_random_get(buf: *mut u8, len: usize) -> u16;
}

fn describe(e: &io::Error) -> String {
    format!("{:?} (errno {})", e.kind(), e.raw_os_error().unwrap_or(-1))
}

/// Prints `label: ok` or `label: <error>` and returns the value.
fn step<T>(label: &str, r: io::Result<T>) -> Option<T> {
    match r {
        Ok(v) => {
            println!("{label}: ok");
            Some(v)
        }
        Err(e) => {
            println!("{label}: {}", describe(&e));
            None
        }
    }
}

fn args_and_env() {
    for (i, a) in std::env::args().enumerate() {
        println!("arg {i}: {a}");
    }
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    for (k, v) in vars {
        println!("env {k}={v}");
    }
}

fn stdio() {
    let mut input = String::new();
    io::stdin().read_to_string(&mut input).expect("read stdin");
    println!("stdin had {} bytes", input.len());
    println!("upper: {}", input.trim_end().to_uppercase());
    eprintln!("this goes to stderr");
    io::stdout().flush().expect("flush");
}

fn names(dir: &str) -> io::Result<Vec<String>> {
    let mut v: Vec<String> = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<io::Result<_>>()?;
    v.sort();
    Ok(v)
}

fn files(root: &str) -> io::Result<()> {
    let sub = format!("{root}/sub");
    let a = format!("{sub}/a.txt");
    fs::create_dir(&sub)?;
    println!("mkdir sub: ok");
    fs::write(&a, b"hello world")?;
    println!("write a.txt: ok");

    let mut f = File::open(&a)?;
    f.seek(SeekFrom::Start(6))?;
    let mut s = String::new();
    f.read_to_string(&mut s)?;
    println!("read from 6: {s}");
    println!("position: {}", f.stream_position()?);
    drop(f);

    let mut f = OpenOptions::new().append(true).open(&a)?;
    f.write_all(b"!!")?;
    drop(f);
    println!("after append: {}", fs::read_to_string(&a)?);
    let meta = fs::metadata(&a)?;
    println!("len: {} is_file: {} is_dir: {}", meta.len(), meta.is_file(), meta.is_dir());

    let f = OpenOptions::new().write(true).open(&a)?;
    f.set_len(5)?;
    let stamp = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    f.set_times(fs::FileTimes::new().set_modified(stamp).set_accessed(stamp))?;
    drop(f);
    println!("after set_len(5): {}", fs::read_to_string(&a)?);
    let mtime = fs::metadata(&a)?.modified()?;
    println!("mtime: {}", mtime.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0));

    let mut f = OpenOptions::new().read(true).write(true).open(&a)?;
    f.seek(SeekFrom::End(0))?;
    f.write_all(b" there")?;
    f.seek(SeekFrom::Start(0))?;
    let mut s = String::new();
    f.read_to_string(&mut s)?;
    println!("read back: {s}");
    drop(f);

    let b = format!("{sub}/b.txt");
    fs::rename(&a, &b)?;
    println!("rename: ok, a exists: {}", fs::metadata(&a).is_ok());
    fs::create_dir(format!("{sub}/c"))?;
    fs::hard_link(&b, format!("{sub}/hard.txt"))?;
    println!("via hard link: {}", fs::read_to_string(format!("{sub}/hard.txt"))?);
    #[allow(deprecated)]
    fs::soft_link("b.txt", format!("{sub}/soft.txt"))?;
    println!("readlink: {}", fs::read_link(format!("{sub}/soft.txt"))?.display());
    println!("via link: {}", fs::read_to_string(format!("{sub}/soft.txt"))?);
    let lmeta = fs::symlink_metadata(format!("{sub}/soft.txt"))?;
    println!("symlink is_symlink: {}", lmeta.file_type().is_symlink());
    println!("listing: {}", names(&sub)?.join(","));

    match fs::remove_dir(&sub) {
        Ok(()) => println!("rmdir non-empty: unexpectedly ok"),
        Err(e) => println!("rmdir non-empty: {}", describe(&e)),
    }
    fs::remove_file(&b)?;
    fs::remove_file(format!("{sub}/hard.txt"))?;
    fs::remove_file(format!("{sub}/soft.txt"))?;
    fs::remove_dir(format!("{sub}/c"))?;
    fs::remove_dir(&sub)?;
    println!("cleanup: ok, listing: {}", names(root)?.join(","));

    // A tree, removed recursively (readdir + unlink + rmdir in std).
    fs::create_dir_all(format!("{root}/t/u/v"))?;
    for i in 0..50 {
        fs::write(format!("{root}/t/u/f{i:02}"), i.to_string())?;
    }
    println!("tree entries: {}", names(&format!("{root}/t/u"))?.len());
    fs::remove_dir_all(format!("{root}/t"))?;
    println!("remove_dir_all: ok, t exists: {}", fs::metadata(format!("{root}/t")).is_ok());
    Ok(())
}

fn escapes(root: &str) {
    for path in [
        format!("{root}/../outside.txt"),
        format!("{root}/sub/../../outside.txt"),
        format!("{root}/link_out"),
        format!("{root}/link_out_dir/secret.txt"),
        format!("{root}/abs_link"),
    ] {
        let shown = path.trim_start_matches(root);
        step(&format!("read {shown}"), fs::read(&path));
    }
    step("write ../created.txt", fs::write(format!("{root}/../created.txt"), b"x"));
    step("write link_out_dir/created.txt", fs::write(format!("{root}/link_out_dir/created.txt"), b"x"));
    step("mkdir ../newdir", fs::create_dir(format!("{root}/../newdir")));
    step("read /etc/passwd", fs::read("/etc/passwd"));
    step("read inside.txt", fs::read(format!("{root}/inside.txt")));
}

fn read_only(root: &str) {
    step("read inside.txt", fs::read_to_string(format!("{root}/inside.txt")).map(|s| println!("content: {s}")));
    step("create new.txt", fs::write(format!("{root}/new.txt"), b"x"));
    step("open inside.txt for writing", OpenOptions::new().write(true).open(format!("{root}/inside.txt")));
    step("append inside.txt", OpenOptions::new().append(true).open(format!("{root}/inside.txt")));
    step("truncate inside.txt", OpenOptions::new().write(true).truncate(true).open(format!("{root}/inside.txt")));
    step("mkdir d", fs::create_dir(format!("{root}/d")));
    step("remove inside.txt", fs::remove_file(format!("{root}/inside.txt")));
    step("rename inside.txt", fs::rename(format!("{root}/inside.txt"), format!("{root}/moved.txt")));
    step("rmdir sub", fs::remove_dir(format!("{root}/sub")));
    step("list", names(root).map(|n| println!("names: {}", n.join(","))));
}

fn clock() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970");
    println!("realtime after 2020: {}", now.as_secs() > 1_577_836_800);
    let t0 = Instant::now();
    let mut x = 0u64;
    for i in 0..100_000u64 {
        x = x.wrapping_mul(31).wrapping_add(i);
    }
    let t1 = Instant::now();
    println!("monotonic: {} (x={})", t1 >= t0, x % 7);
}

fn random() {
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    // SAFETY: both buffers are valid for 32 bytes.
    let (ea, eb) = unsafe { (wasi_random_get(a.as_mut_ptr(), 32), wasi_random_get(b.as_mut_ptr(), 32)) };
    let hex = |v: &[u8]| v.iter().map(|x| format!("{x:02x}")).collect::<String>();
    println!("errno {ea} {eb}");
    println!("a {}", hex(&a));
    println!("b {}", hex(&b));
}

fn sleep(ms: u64) {
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_millis(ms));
    println!("slept at least {ms} ms: {}", t0.elapsed() >= Duration::from_millis(ms));
}

#[inline(never)]
fn trap_here(depth: u32) -> u32 {
    if depth == 0 {
        core::arch::wasm32::unreachable()
    }
    depth
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    match arg(1) {
        "args" => args_and_env(),
        "stdio" => stdio(),
        "files" => {
            if let Err(e) = files(arg(2)) {
                println!("failed: {}", describe(&e));
                std::process::exit(1);
            }
        }
        "escapes" => escapes(arg(2)),
        "readonly" => read_only(arg(2)),
        "clock" => clock(),
        "random" => random(),
        "sleep" => sleep(arg(2).parse().unwrap_or(50)),
        "exit" => {
            println!("exiting with {}", arg(2));
            std::process::exit(arg(2).parse().unwrap_or(0));
        }
        "trap" => {
            println!("about to trap");
            let _ = io::stdout().flush();
            let depth = std::hint::black_box(0);
            println!("{}", trap_here(depth));
        }
        other => {
            eprintln!("unknown scenario {other:?}");
            std::process::exit(2);
        }
    }
}
