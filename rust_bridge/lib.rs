//! `rust_bridge`: an execution engine for Python cells, embedded in Rust.
//!
//! It knows Python, nothing of the frontends that send it code: an
//! [`executor::Executor`] owns one namespace dict (the `__main__` module's), runs a
//! cell's statements with PyO3's run machinery, evaluates its trailing expression
//! with the eval machinery, and checks for signals between statements. A program that
//! embeds Python registers the [`rust_bridge`] module in the interpreter's inittab
//! (`pyo3::append_to_inittab!`) before starting it.

mod cell_coroutine;
pub mod executor;
pub mod hashing;
pub mod json;
pub mod native;
mod panics;
pub mod signals;

use pyo3::prelude::*;

/// The `rust_bridge` Python module, for the interpreter's inittab.
#[pymodule]
pub mod rust_bridge {
    #[pymodule_export]
    use crate::executor::{CellOutcome, Executor};
    #[pymodule_export]
    use crate::hashing::murmur2_text;
    #[pymodule_export]
    use crate::json::json_pack;
    #[pymodule_export]
    use crate::native::{check_signals, count_primes, sleep};
    #[pymodule_export]
    use crate::signals::SigintHandler;

    use pyo3::prelude::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        #[cfg(feature = "test-hooks")]
        m.add_function(wrap_pyfunction!(crate::panics::_panic, m)?)?;
        Ok(())
    }
}
