//! Sandlite: SQLite from Rust without a C toolchain.
//!
//! SQLite is compiled once to WebAssembly and runs on Sandlite's own pure-Rust
//! WebAssembly VM, re-exported here as [`vm`].

pub use sandlite_driver::*;
pub use sandlite_vm as vm;

pub mod run;
#[doc(hidden)]
pub mod signals;
