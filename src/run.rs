//! `sandlite run`: runs a WASI command module on Sandlite's VM, or calls one of its
//! exports.
//!
//! ```text
//! sandlite run [OPTIONS] MODULE.wasm [ARGS...]
//!
//!   --dir HOST[::GUEST]      grant directory HOST read-write, seen by the guest as GUEST
//!                            (default: HOST as written)
//!   --dir-ro HOST[::GUEST]   grant directory HOST read-only
//!   --env NAME=VALUE         set an environment variable for the guest (repeatable)
//!   --invoke NAME            call export NAME with ARGS parsed by its parameter types
//!                            and print its results, one per line, instead of running
//!                            `_start` (a reactor's `_initialize` runs first)
//!   --timeout DURATION       stop the guest after DURATION of running (`500ms`, `10s`,
//!                            `1.5m`, `2h`; a bare number is seconds; 0: no timeout)
//!   --max-memory SIZE        most bytes each linear memory may grow to (default 4GiB;
//!                            `64MiB`, `512K`, `1G`: K, M, G are 1024-based)
//!   --max-call-depth N       deepest Wasm call nesting (default 20000)
//!   --max-stack SIZE         size of the value stack holding every active call's
//!                            locals and operands (default 8MiB)
//!   --allow-hard-links       let the guest open files with more than one hard link
//!                            (refused by default: such a file may live outside the
//!                            granted directories too)
//!   --no-cache               compile the module even if the code cache holds it, and
//!                            do not store it there (the cache: $XDG_CACHE_HOME/sandlite,
//!                            else ~/.cache/sandlite)
//! ```
//!
//! The guest gets exactly what the options grant: the host's stdin, stdout and stderr,
//! `MODULE.wasm` and `ARGS` as its arguments, the `--env` variables (not the host's
//! environment), and the `--dir`/`--dir-ro` directories (nothing else of the file
//! system: `..`, absolute paths and symbolic links cannot lead out of a granted
//! directory).
//!
//! Exit status: the guest's `proc_exit` code (as POSIX `exit` does, only its low 8 bits
//! reach the shell); 0 when `_start` or the invoked function returns; 134 when the guest
//! traps (like a native program's `abort`), with the trap and the function it happened
//! in on stderr; 124 when `--timeout` stopped it (as GNU `timeout` reports); 130 when
//! Ctrl-C (SIGINT) stopped it; 1 when the module cannot be read, compiled, linked or
//! instantiated (an initial memory larger than `--max-memory` included); 2 for a usage
//! error. The limits themselves are the guest's to meet: past `--max-memory`,
//! `memory.grow` fails as at a memory's own maximum (C's `malloc` returns NULL; Rust
//! aborts, which is a trap: 134); past `--max-call-depth` or `--max-stack` the guest
//! traps with `call stack exhausted` (134).
//!
//! Ctrl-C and the timeout stop the guest through the store's interrupt: at its next loop
//! iteration or call, or at once when it waits in `poll_oneoff` (a sleep); a blocking
//! read of standard input is woken by the signal. What the guest wrote to stdout and
//! stderr has already reached them (they are not buffered on the host).

use crate::signals;
use sandlite_vm::wasi::{self, DirPerms, I32Exit, OutputBuffer, WasiCtx, WasiCtxBuilder};
use sandlite_vm::{
    Config, Engine, Error, Func, InterruptHandle, Linker, Module, Store, StoreLimits, TrapCode,
    Val, ValType, default_cache_dir,
};
use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Exit status when the guest traps (128 + SIGABRT, as for a native `abort`).
pub const TRAP_STATUS: u8 = 134;
/// Exit status when the module cannot be loaded, linked or called.
pub const FAILURE_STATUS: u8 = 1;
/// Exit status for a command line that does not parse.
pub const USAGE_STATUS: u8 = 2;
/// Exit status when `--timeout` stopped the guest (GNU `timeout`'s).
pub const TIMEOUT_STATUS: u8 = 124;
/// Exit status when Ctrl-C (SIGINT) stopped the guest (128 + SIGINT).
pub const INTERRUPTED_STATUS: u8 = 130;

const USAGE: &str = "usage: sandlite run [--dir HOST[::GUEST]] [--dir-ro HOST[::GUEST]] \
[--env NAME=VALUE] [--invoke NAME] [--timeout DURATION] [--max-memory SIZE] \
[--max-call-depth N] [--max-stack SIZE] [--allow-hard-links] [--no-cache] MODULE.wasm [ARGS...]";

/// A directory granted to the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirGrant {
    pub host: PathBuf,
    pub guest: String,
    pub perms: DirPerms,
}

/// A parsed `sandlite run` command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    pub dirs: Vec<DirGrant>,
    pub env: Vec<(String, String)>,
    pub invoke: Option<String>,
    /// `--timeout`: how long the guest may run.
    pub timeout: Option<Duration>,
    /// `--max-memory`: the store's `max_memory_bytes`.
    pub max_memory: Option<u64>,
    /// `--max-call-depth`: the store's `max_call_depth`.
    pub max_call_depth: Option<usize>,
    /// `--max-stack`: the value stack's size in bytes.
    pub max_stack: Option<usize>,
    /// `--allow-hard-links`: see `WasiCtxBuilder::allow_hard_links`.
    pub allow_hard_links: bool,
    /// `--no-cache`: no code cache (see `Config::cache_dir`).
    pub no_cache: bool,
    pub module: String,
    pub args: Vec<String>,
}

/// `500ms`, `10s`, `1.5m`, `2h`, or a number of seconds.
fn parse_duration(text: &str) -> Option<Duration> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds_per_unit = match unit {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    if number.is_empty() || !number.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    Duration::try_from_secs_f64(value * seconds_per_unit).ok()
}

/// `65536`, `512K`/`512KiB`, `64M`/`64MiB`, `4G`/`4GiB` (1024-based), in bytes.
fn parse_size(text: &str) -> Option<u64> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" | "kb" => 10,
        "m" | "mib" | "mb" => 20,
        "g" | "gib" | "gb" => 30,
        _ => return None,
    };
    let value: u64 = number.parse().ok()?;
    value.checked_mul(1 << shift)
}

/// A command line that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(String);

impl RunOptions {
    /// Parses the arguments that follow `run`. Options come before the module; the
    /// first argument that is not an option (or everything after `--`) is the module and
    /// its arguments.
    ///
    /// # Errors
    /// [`UsageError`] naming the option that is wrong or missing its value.
    pub fn parse(args: &[String]) -> Result<RunOptions, UsageError> {
        let mut dirs = Vec::new();
        let mut env = Vec::new();
        let mut invoke = None;
        let (mut timeout, mut max_memory, mut max_call_depth, mut max_stack) =
            (None, None, None, None);
        let mut allow_hard_links = false;
        let mut no_cache = false;
        let mut i = 0;
        let usage = |m: String| UsageError(format!("{m}\n{USAGE}"));
        while i < args.len() {
            let arg = args[i].as_str();
            if arg == "--" {
                i += 1;
                break;
            }
            if !arg.starts_with("--") {
                break;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (arg, None),
            };
            let mut value = || -> Result<String, UsageError> {
                if let Some(v) = inline.clone() {
                    return Ok(v);
                }
                i += 1;
                args.get(i)
                    .cloned()
                    .ok_or_else(|| usage(format!("option {name} needs a value")))
            };
            match name {
                "--allow-hard-links" if inline.is_none() => allow_hard_links = true,
                "--no-cache" if inline.is_none() => no_cache = true,
                "--dir" | "--dir-ro" => {
                    let spec = value()?;
                    let (host, guest) = match spec.split_once("::") {
                        Some((h, g)) => (h.to_owned(), g.to_owned()),
                        None => (spec.clone(), spec.clone()),
                    };
                    if host.is_empty() || guest.is_empty() {
                        return Err(usage(format!("{name} {spec}: empty directory name")));
                    }
                    let perms = if name == "--dir" {
                        DirPerms::ReadWrite
                    } else {
                        DirPerms::ReadOnly
                    };
                    dirs.push(DirGrant {
                        host: PathBuf::from(host),
                        guest,
                        perms,
                    });
                }
                "--env" => {
                    let spec = value()?;
                    let (k, v) = spec
                        .split_once('=')
                        .ok_or_else(|| usage(format!("--env {spec}: expected NAME=VALUE")))?;
                    env.push((k.to_owned(), v.to_owned()));
                }
                "--invoke" => invoke = Some(value()?),
                "--timeout" => {
                    let text = value()?;
                    let d = parse_duration(&text).ok_or_else(|| {
                        usage(format!(
                            "--timeout {text}: expected a duration such as 500ms, 10s, 2m or 1h"
                        ))
                    })?;
                    timeout = (!d.is_zero()).then_some(d);
                }
                "--max-memory" | "--max-stack" => {
                    let text = value()?;
                    let bytes = parse_size(&text).ok_or_else(|| {
                        usage(format!(
                            "{name} {text}: expected a size such as 65536, 512K, 64MiB or 1G"
                        ))
                    })?;
                    if name == "--max-memory" {
                        max_memory = Some(bytes);
                    } else {
                        let bytes = usize::try_from(bytes).map_err(|_| {
                            usage(format!("{name} {text}: too large for this machine"))
                        })?;
                        max_stack = Some(bytes);
                    }
                }
                "--max-call-depth" => {
                    let text = value()?;
                    let n = text
                        .parse::<usize>()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| {
                            usage(format!(
                                "--max-call-depth {text}: expected a positive integer"
                            ))
                        })?;
                    max_call_depth = Some(n);
                }
                _ => return Err(usage(format!("unknown option {arg}"))),
            }
            i += 1;
        }
        let module = args
            .get(i)
            .cloned()
            .ok_or_else(|| usage("missing MODULE.wasm".to_owned()))?;
        Ok(RunOptions {
            dirs,
            env,
            invoke,
            timeout,
            max_memory,
            max_call_depth,
            max_stack,
            allow_hard_links,
            no_cache,
            module,
            args: args[i + 1..].to_vec(),
        })
    }
}

/// Where the guest's standard streams (and this command's own messages) go.
#[derive(Clone, Debug, Default)]
pub struct RunIo {
    /// `None`: the host's stdin; `Some(bytes)`: these bytes.
    pub stdin: Option<Vec<u8>>,
    /// `None`: the host's stdout; `Some(buffer)`: captured.
    pub stdout: Option<OutputBuffer>,
    /// `None`: the host's stderr; `Some(buffer)`: captured.
    pub stderr: Option<OutputBuffer>,
}

impl RunIo {
    fn print(target: &Option<OutputBuffer>, host: &mut dyn Write, text: fmt::Arguments<'_>) {
        let line = format!("{text}\n");
        match target {
            Some(b) => drop(b.clone().write_all(line.as_bytes())),
            None => drop(host.write_all(line.as_bytes())),
        }
    }

    fn out(&self, text: fmt::Arguments<'_>) {
        RunIo::print(&self.stdout, &mut std::io::stdout(), text);
    }

    fn err(&self, text: fmt::Arguments<'_>) {
        RunIo::print(&self.stderr, &mut std::io::stderr(), text);
    }
}

/// `sandlite run` with the host's stdio: `args` are the arguments after `run`. Ctrl-C
/// stops the guest (status 130) instead of killing the process.
pub fn main(args: Vec<String>) -> ExitCode {
    if matches!(args.first().map(String::as_str), Some("-h" | "--help")) {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    // The action (the running store's interrupt) is set once the store exists.
    if let Err(e) = signals::install() {
        eprintln!("sandlite run: cannot handle Ctrl-C: {e}");
    }
    ExitCode::from(run(&args, &RunIo::default()))
}

/// Runs the command line `args` (those after `run`) and returns the exit status.
pub fn run(args: &[String], io: &RunIo) -> u8 {
    let opts = match RunOptions::parse(args) {
        Ok(o) => o,
        Err(e) => {
            io.err(format_args!("sandlite run: {e}"));
            return USAGE_STATUS;
        }
    };
    match execute(&opts, io) {
        Ok(status) => status,
        Err(Failure::Trap(message) | Failure::Stopped(message)) => {
            io.err(format_args!("sandlite run: {}: {message}", opts.module));
            TRAP_STATUS
        }
        Err(Failure::Usage(message)) => {
            io.err(format_args!("sandlite run: {message}"));
            USAGE_STATUS
        }
        Err(Failure::TimedOut(after)) => {
            io.err(format_args!(
                "sandlite run: {}: timed out after {after:?} (--timeout)",
                opts.module
            ));
            TIMEOUT_STATUS
        }
        Err(Failure::Interrupted) => {
            io.err(format_args!("sandlite run: {}: interrupted", opts.module));
            INTERRUPTED_STATUS
        }
        Err(Failure::Other(message)) => {
            io.err(format_args!("sandlite run: {message}"));
            FAILURE_STATUS
        }
    }
}

enum Failure {
    Trap(String),
    Usage(String),
    Other(String),
    /// `--timeout` stopped the guest after this long.
    TimedOut(Duration),
    /// Ctrl-C stopped the guest.
    Interrupted,
    /// An `Interrupted` trap: Ctrl-C or the timeout (decided by `execute`).
    Stopped(String),
}

/// Stops the guest when `--timeout` expires: a thread that waits that long unless the
/// run ends first, then requests the store's interrupt and wakes the running thread
/// from a blocking system call.
struct Watchdog {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
    fired: Arc<AtomicBool>,
    after: Duration,
}

impl Watchdog {
    fn start(after: Duration, interrupt: InterruptHandle) -> Watchdog {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let fired = Arc::new(AtomicBool::new(false));
        let flag = fired.clone();
        let runner = signals::current_thread();
        let thread = std::thread::spawn(move || {
            use std::sync::mpsc::RecvTimeoutError::Timeout;
            if stopped.recv_timeout(after) != Err(Timeout) {
                return;
            }
            flag.store(true, Ordering::SeqCst);
            // Until the run ends: the interrupt again (a WASI call may have consumed it
            // before the guest reached a check) and a wake-up from a blocking read (the
            // signal may have come just before the read started).
            loop {
                interrupt.interrupt();
                // The runner joins this thread before it returns, so it is alive.
                signals::interrupt_thread(runner);
                if stopped.recv_timeout(Duration::from_millis(50)) != Err(Timeout) {
                    return;
                }
            }
        });
        Watchdog {
            stop,
            thread,
            fired,
            after,
        }
    }

    /// Ends the watch; true if the timeout had expired.
    fn finish(self) -> bool {
        drop(self.stop);
        let _ = self.thread.join();
        self.fired.load(Ordering::SeqCst)
    }
}

fn other(e: impl fmt::Display) -> Failure {
    Failure::Other(e.to_string())
}

fn builder(opts: &RunOptions, io: &RunIo) -> Result<WasiCtxBuilder, wasi::WasiError> {
    let mut b = WasiCtx::builder();
    b.arg(&opts.module)?.args(&opts.args)?;
    for (k, v) in &opts.env {
        b.env(k, v)?;
    }
    match &io.stdin {
        Some(bytes) => b.stdin_bytes(bytes.clone()),
        None => b.inherit_stdin()?,
    };
    match &io.stdout {
        Some(buf) => b.stdout_buffer(buf.clone()),
        None => b.inherit_stdout()?,
    };
    match &io.stderr {
        Some(buf) => b.stderr_buffer(buf.clone()),
        None => b.inherit_stderr()?,
    };
    for d in &opts.dirs {
        b.preopened_dir(&d.host, &d.guest, d.perms)?;
    }
    b.allow_hard_links(opts.allow_hard_links);
    Ok(b)
}

/// The exit status of a finished call: its result, or the trap's meaning.
fn status_of(result: Result<(), Error>) -> Result<u8, Failure> {
    match result {
        Ok(()) => Ok(0),
        Err(e) => match e.as_trap() {
            // Like POSIX exit(): the status is the code's low 8 bits.
            Some(t) => match t.downcast_ref::<I32Exit>() {
                Some(exit) => Ok(exit.0 as u8),
                None if t.code() == TrapCode::Interrupted => {
                    Err(Failure::Stopped(describe_trap(t)))
                }
                None => Err(Failure::Trap(describe_trap(t))),
            },
            None => Err(other(e)),
        },
    }
}

/// `trap: KIND[: host error] (in FUNCTION)`, with a Rust function name demangled.
fn describe_trap(trap: &sandlite_vm::Trap) -> String {
    let mut text = format!("trap: {}", trap.code());
    if let Some(e) = trap.host_error() {
        text.push_str(&format!(": {e}"));
    }
    if let Some(f) = trap.function() {
        text.push_str(&format!(" (in {})", demangle(f)));
    }
    text
}

/// Rust's legacy symbol mangling (`_ZN5guest9trap_here17h0123456789abcdefE`) as a path
/// (`guest::trap_here`); other names unchanged.
fn demangle(name: &str) -> String {
    let Some(mut rest) = name.strip_prefix("_ZN").and_then(|r| r.strip_suffix('E')) else {
        return name.to_owned();
    };
    let mut parts = Vec::new();
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let Ok(len) = rest[..digits].parse::<usize>() else {
            return name.to_owned();
        };
        let Some(part) = rest.get(digits..digits + len) else {
            return name.to_owned();
        };
        parts.push(part);
        rest = &rest[digits + len..];
    }
    // The last component is a hash: `h` and 16 hex digits.
    if parts.last().is_some_and(|h| {
        h.len() == 17 && h.starts_with('h') && h[1..].bytes().all(|b| b.is_ascii_hexdigit())
    }) {
        parts.pop();
    }
    if parts.is_empty() {
        return name.to_owned();
    }
    parts.join("::").replace("..", "::")
}

fn execute(opts: &RunOptions, io: &RunIo) -> Result<u8, Failure> {
    let bytes = std::fs::read(&opts.module)
        .map_err(|e| Failure::Other(format!("cannot read {}: {e}", opts.module)))?;
    // A WASI program is one long call (`_start`), whose frames would stay on the
    // interpreter if it started there while compiling in the background: compile first.
    let mut config = Config::default().background_compile(false);
    if let Some(dir) = default_cache_dir().filter(|_| !opts.no_cache) {
        config = config.cache_dir(dir);
    }
    let engine = Engine::new(config);
    let module = Module::new(&engine, &bytes)
        .map_err(|e| Failure::Other(format!("{}: {e}", opts.module)))?;
    let ctx = builder(opts, io).map_err(other)?.build();
    let mut store = Store::new(&engine, ctx);
    let defaults = StoreLimits::default();
    store.set_limits(StoreLimits {
        max_memory_bytes: opts.max_memory.unwrap_or(defaults.max_memory_bytes),
        max_call_depth: opts.max_call_depth.unwrap_or(defaults.max_call_depth),
        value_stack_slots: opts
            .max_stack
            .map_or(defaults.value_stack_slots, |bytes| bytes / 8),
        ..defaults
    });
    let interrupt = store.interrupt_handle();
    let on_sigint = interrupt.clone();
    signals::set_action(move || on_sigint.interrupt());
    // Ctrl-C and the timeout both stop the guest with an `Interrupted` trap; which one
    // it was decides the status.
    let watchdog = opts.timeout.map(|t| Watchdog::start(t, interrupt));
    let busy = signals::busy();
    let result = run_guest(opts, io, &module, &mut store);
    drop(busy);
    let timed_out = watchdog.map(|w| (w.after, w.finish()));
    match result {
        Err(Failure::Stopped(message)) => Err(match timed_out {
            Some((after, true)) => Failure::TimedOut(after),
            _ if signals::pending() > 0 => Failure::Interrupted,
            // Interrupted by someone else holding the store's handle: a trap like any.
            _ => Failure::Trap(message),
        }),
        other => other,
    }
}

/// Instantiates `module` in `store` and runs it as the options say.
fn run_guest(
    opts: &RunOptions,
    io: &RunIo,
    module: &Module,
    store: &mut Store<WasiCtx>,
) -> Result<u8, Failure> {
    let engine = store.engine().clone();
    let mut linker = Linker::new(&engine);
    wasi::add_to_linker(&mut linker, |ctx| ctx).map_err(other)?;
    let instance = linker
        .instantiate(&mut *store, module)
        .map_err(|e| match e.as_trap() {
            Some(t) if t.code() == TrapCode::Interrupted => {
                Failure::Stopped(format!("trap during instantiation: {t}"))
            }
            Some(t) => Failure::Trap(format!("trap during instantiation: {t}")),
            None => Failure::Other(format!("{}: {e}", opts.module)),
        })?;

    let Some(name) = &opts.invoke else {
        let start = instance.get_func(&*store, "_start").ok_or_else(|| {
            Failure::Usage(format!(
                "{} has no `_start` export: call one of its functions with --invoke NAME",
                opts.module
            ))
        })?;
        return status_of(start.call(&mut *store, &[], &mut []));
    };

    if let Some(init) = instance.get_func(&*store, "_initialize") {
        let status = status_of(init.call(&mut *store, &[], &mut []))?;
        if status != 0 {
            return Ok(status);
        }
    }
    let func: Func = instance
        .get_func(&*store, name)
        .ok_or_else(|| Failure::Usage(format!("{} exports no function `{name}`", opts.module)))?;
    let ty = func.ty(&*store);
    if opts.args.len() != ty.params().len() {
        return Err(Failure::Usage(format!(
            "`{name}` has type {ty}: give {} arguments, not {}",
            ty.params().len(),
            opts.args.len()
        )));
    }
    let params = opts
        .args
        .iter()
        .zip(ty.params())
        .map(|(text, t)| parse_val(text, *t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::Usage)?;
    let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
    let status = status_of(func.call(&mut *store, &params, &mut results))?;
    if status == 0 {
        for r in &results {
            io.out(format_args!("{}", show_val(r)));
        }
    }
    Ok(status)
}

/// A command-line argument as a value of type `ty` (integers may be written signed or
/// unsigned, in decimal or with a `0x` prefix).
fn parse_val(text: &str, ty: ValType) -> Result<Val, String> {
    let bad = || format!("`{text}` is not a valid {ty}");
    let int = |bits: u32| -> Result<u64, String> {
        let (neg, digits) = match text.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, text),
        };
        let magnitude = match digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
        {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => digits.parse::<u64>(),
        }
        .map_err(|_| bad())?;
        let max_unsigned = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let min_signed = 1u64 << (bits - 1);
        if (neg && magnitude > min_signed) || (!neg && magnitude > max_unsigned) {
            return Err(bad());
        }
        Ok(if neg {
            magnitude.wrapping_neg()
        } else {
            magnitude
        })
    };
    Ok(match ty {
        ValType::I32 => Val::I32(int(32)? as u32 as i32),
        ValType::I64 => Val::I64(int(64)? as i64),
        ValType::F32 => Val::from(text.parse::<f32>().map_err(|_| bad())?),
        ValType::F64 => Val::from(text.parse::<f64>().map_err(|_| bad())?),
        other => return Err(format!("cannot pass a {other} from the command line")),
    })
}

fn show_val(v: &Val) -> String {
    match v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(_) => v.f32().unwrap_or_default().to_string(),
        Val::F64(_) => v.f64().unwrap_or_default().to_string(),
        Val::V128(x) => format!("{:#034x}", x.0),
        Val::FuncRef(f) => format!("funcref({})", if f.is_some() { "func" } else { "null" }),
        Val::ExternRef(r) => format!("externref({r:?})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_options_module_and_guest_arguments() {
        let o = RunOptions::parse(&strings(&[
            "--dir",
            "/tmp/a::/data",
            "--dir-ro=/etc",
            "--env",
            "K=V=W",
            "--invoke",
            "add",
            "m.wasm",
            "--dir",
            "1",
        ]))
        .unwrap();
        assert_eq!(
            o.dirs,
            [
                DirGrant {
                    host: "/tmp/a".into(),
                    guest: "/data".into(),
                    perms: DirPerms::ReadWrite
                },
                DirGrant {
                    host: "/etc".into(),
                    guest: "/etc".into(),
                    perms: DirPerms::ReadOnly
                },
            ]
        );
        assert_eq!(o.env, [("K".to_owned(), "V=W".to_owned())]);
        assert_eq!(o.invoke.as_deref(), Some("add"));
        assert_eq!(o.module, "m.wasm");
        assert_eq!(o.args, strings(&["--dir", "1"]));
        assert!(!o.no_cache);
        let o = RunOptions::parse(&strings(&["--", "--odd.wasm", "x"])).unwrap();
        assert_eq!((o.module.as_str(), o.args.len()), ("--odd.wasm", 1));
        let o = RunOptions::parse(&strings(&["--no-cache", "m.wasm", "--no-cache"])).unwrap();
        assert!(o.no_cache);
        assert_eq!(
            o.args,
            strings(&["--no-cache"]),
            "after MODULE it is the guest's"
        );
    }

    #[test]
    fn usage_errors_say_what_is_wrong() {
        for (args, says) in [
            (&["--dir"][..], "needs a value"),
            (&["--env", "NOEQUALS", "m.wasm"], "NAME=VALUE"),
            (&["--frob", "m.wasm"], "unknown option --frob"),
            (&["--dir", "::x", "m.wasm"], "empty directory"),
            (&[], "missing MODULE.wasm"),
        ] {
            let e = RunOptions::parse(&strings(args)).unwrap_err();
            assert!(e.to_string().contains(says), "{args:?}: {e}");
        }
    }

    #[test]
    fn limits_parse_with_units() {
        let o = RunOptions::parse(&strings(&[
            "--timeout",
            "1.5s",
            "--max-memory=64MiB",
            "--max-call-depth",
            "500",
            "--max-stack",
            "1M",
            "m.wasm",
        ]))
        .unwrap();
        assert_eq!(o.timeout, Some(Duration::from_millis(1500)));
        assert_eq!(o.max_memory, Some(64 << 20));
        assert_eq!(o.max_call_depth, Some(500));
        assert_eq!(o.max_stack, Some(1 << 20));
        for (text, d) in [
            ("250ms", 250),
            ("2", 2000),
            ("1m", 60_000),
            ("0.5h", 1_800_000),
        ] {
            assert_eq!(
                parse_duration(text),
                Some(Duration::from_millis(d)),
                "{text}"
            );
        }
        for bad in ["", "s", "-1s", "1x", "1.2.3", ".5s", "1e9", "inf"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
        for (text, n) in [
            ("65536", 65536),
            ("512K", 512 << 10),
            ("4GiB", 4 << 30),
            ("1g", 1 << 30),
        ] {
            assert_eq!(parse_size(text), Some(n), "{text}");
        }
        for bad in ["", "M", "1.5M", "-1", "1T", "99999999999999999999G"] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
        // 0 means no timeout, as for GNU timeout.
        let o = RunOptions::parse(&strings(&["--timeout", "0", "m.wasm"])).unwrap();
        assert_eq!(o.timeout, None);
        for (args, says) in [
            (
                &["--timeout", "soon", "m.wasm"][..],
                "--timeout soon: expected a duration",
            ),
            (
                &["--max-memory", "lots", "m.wasm"],
                "--max-memory lots: expected a size",
            ),
            (
                &["--max-stack", "1T", "m.wasm"],
                "--max-stack 1T: expected a size",
            ),
            (
                &["--max-call-depth", "0", "m.wasm"],
                "expected a positive integer",
            ),
        ] {
            let e = RunOptions::parse(&strings(args)).unwrap_err();
            assert!(e.to_string().contains(says), "{args:?}: {e}");
        }
    }

    #[test]
    fn rust_names_are_demangled() {
        assert_eq!(
            demangle("_ZN5guest9trap_here17h6e5a94a3e4af76efE"),
            "guest::trap_here"
        );
        assert_eq!(
            demangle("_ZN4core9panicking5panic17h0123456789abcdefE"),
            "core::panicking::panic"
        );
        for plain in ["main", "func[7]", "_ZN3fooE9", "_ZN99xE", "_ZNE"] {
            assert_eq!(demangle(plain), plain);
        }
    }

    #[test]
    fn arguments_parse_by_type() {
        assert_eq!(parse_val("-1", ValType::I32), Ok(Val::I32(-1)));
        assert_eq!(parse_val("4294967295", ValType::I32), Ok(Val::I32(-1)));
        assert_eq!(parse_val("0x10", ValType::I64), Ok(Val::I64(16)));
        assert_eq!(
            parse_val("-9223372036854775808", ValType::I64),
            Ok(Val::I64(i64::MIN))
        );
        assert!(parse_val("4294967296", ValType::I32).is_err());
        assert!(parse_val("-2147483649", ValType::I32).is_err());
        assert!(parse_val("x", ValType::F64).is_err());
        assert_eq!(show_val(&parse_val("2.5", ValType::F64).unwrap()), "2.5");
    }
}
