//! The x86-64 compiler (work in progress: refuses every module for now).

use crate::decode::ModuleInfo;
use crate::error::Error;
use crate::runtime::vmctx::VMOffsets;

pub(crate) mod entry;

/// Why a module was not compiled.
pub(crate) enum CompileError {
    /// The module is malformed or invalid.
    Wasm(Error),
    /// The module is valid but uses something the compiler does not handle yet.
    Unsupported(String),
}

/// A module's machine code.
pub(crate) struct NativeModule {}

impl NativeModule {
    pub(crate) fn code_size(&self) -> usize {
        0
    }

    pub(crate) fn func_entry(&self, _def: u32) -> *const u8 {
        std::ptr::null()
    }
}

pub(crate) fn compile_module(
    _info: &ModuleInfo,
    _bytes: &[u8],
    _type_ids: &[u32],
    _offsets: &VMOffsets,
) -> Result<NativeModule, CompileError> {
    Err(CompileError::Unsupported(
        "the x86-64 compiler is not built yet".into(),
    ))
}

pub(crate) fn libcalls() -> *const usize {
    std::ptr::null()
}
