//! The x86-64 backend: encoder, machine instructions, calling convention, instruction
//! selection, emission and trampolines.

pub(crate) mod abi;
pub(crate) mod asm;
pub(crate) mod emit;
pub(crate) mod inst;
pub(crate) mod lower;
pub(crate) mod trampolines;
