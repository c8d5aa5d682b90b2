//! WASI preview 1 (`wasi_snapshot_preview1`): the system interface that C programs built
//! with wasi-libc and Rust programs built for `wasm32-wasip1` import.
//!
//! Capability model: a guest reaches nothing the embedder did not grant through a
//! [`WasiCtxBuilder`] — its arguments and environment are exactly those given, its
//! standard streams are empty/discarded unless inherited from the host or connected to
//! in-memory buffers, and its only files are those below the directories preopened for
//! it, read-only or read-write. Paths are resolved by the kernel with `openat2`
//! `RESOLVE_BENEATH`, so `..`, absolute paths and symbolic links cannot lead out of a
//! preopen, even racing against concurrent renames.
//!
//! ```no_run
//! use sandlite_vm::wasi::{self, DirPerms, I32Exit, OutputBuffer, WasiCtx};
//! use sandlite_vm::{Engine, Linker, Module, Store};
//!
//! let engine = Engine::default();
//! let module = Module::new(&engine, std::fs::read("app.wasm")?)?;
//! let stdout = OutputBuffer::new();
//! let ctx = WasiCtx::builder()
//!     .args(["app", "--verbose"])?
//!     .env("LANG", "C")?
//!     .stdout_buffer(stdout.clone())
//!     .preopened_dir("/srv/data", "/data", DirPerms::ReadOnly)?
//!     .build();
//! let mut store = Store::new(&engine, ctx);
//! let mut linker = Linker::new(&engine);
//! wasi::add_to_linker(&mut linker, |ctx| ctx)?;
//! let instance = linker.instantiate(&mut store, &module)?;
//! let start = instance.get_typed_func::<(), ()>(&store, "_start")?;
//! let code = match start.call(&mut store, ()) {
//!     Ok(()) => 0,
//!     Err(e) => match e.as_trap().and_then(|t| t.downcast_ref::<I32Exit>()) {
//!         Some(exit) => exit.0,
//!         None => return Err(e.into()),
//!     },
//! };
//! println!("exit {code}: {}", stdout.to_string_lossy());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Errors: failures are WASI error numbers ([`Errno`]) returned to the guest; a pointer
//! outside the guest's memory is `fault`; a path leaving its directory, and an operation
//! its descriptor lacks the rights for (writing below a read-only preopen), is `perm`;
//! reading or writing a descriptor not open for it is `badf`. Only `proc_exit` ends the
//! run, as a trap carrying [`I32Exit`].

pub mod abi;
mod ctx;
mod linker;
mod mem;
mod ops;
mod path;
mod poll;
mod sys;

pub use abi::Errno;
pub use ctx::{DirPerms, OutputBuffer, WasiCtx, WasiCtxBuilder, WasiError};
pub use linker::{I32Exit, add_to_linker};
