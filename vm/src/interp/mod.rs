//! The interpreter engine: translation to register ops and their execution.

pub(crate) mod exec;
pub(crate) mod float;
pub(crate) mod ir;
pub(crate) mod simd;
pub(crate) mod translate;
