//! Rust panics inside the bridge become ordinary Python exceptions in the cell.
//!
//! PyO3 already turns a panic in a `#[pyfunction]` into `PanicException`, but that
//! derives from `BaseException`, which user code (and IPython) treat like an exit
//! request. A panic is a bug in the bridge, so we report it as a `RuntimeError`.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, turning a panic into `RuntimeError("rust_bridge panicked: …")`.
pub fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(PyRuntimeError::new_err(format!(
                "rust_bridge panicked: {message} (a bug in the engine; the interpreter is still alive)"
            )))
        }
    }
}

/// Panics inside Rust on purpose, so tests can prove panics surface as exceptions.
#[cfg(any(test, feature = "test-hooks"))]
#[pyfunction]
pub fn _panic(message: &str) -> PyResult<()> {
    guard(|| panic!("{message}"))
}
