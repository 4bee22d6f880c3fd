//! `pyo3_kernel`: the host of pyo3-kernel, and the SDK to embed the kernel in a Rust
//! application.
//!
//! [`launch`] starts CPython configured for the Python environment the binary is
//! installed in, with the `rust_bridge` engine built in, and hands over to the
//! kernel's Python side (`pyo3_kernel`, a Python package). [`embed::KernelHost`] does
//! the same from inside an application, with the application's own `#[pymodule]`s
//! and objects in the notebook's namespace.

pub mod embed;
pub mod launch;
mod signal_stack;

pub use pyo3::append_to_inittab;

use pyo3::prelude::*;

/// `pyo3_kernel_host`: what the Python side asks of the host it runs in.
#[pymodule]
pub mod pyo3_kernel_host {
    #[pymodule_export]
    use crate::launch::executable;
}
