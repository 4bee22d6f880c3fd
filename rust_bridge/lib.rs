//! `rust_bridge`: the execution engine of pyo3-kernel.
//!
//! It knows Python, not Jupyter: an [`executor::Executor`] owns one namespace dict
//! (the `__main__` module's), runs a cell's statements with PyO3's run machinery,
//! evaluates its trailing expression with the eval machinery, and checks for
//! signals between statements. [`host`] starts an interpreter configured for the
//! Python environment the binary is installed in and hands over to the kernel.

mod cell_coroutine;
pub mod embed;
pub mod executor;
pub mod host;
pub mod native;
mod panics;
pub mod signals;

pub use pyo3::append_to_inittab;

use pyo3::prelude::*;

/// The `rust_bridge` Python module, registered in the interpreter's inittab by the host.
#[pymodule]
pub mod rust_bridge {
    #[pymodule_export]
    use crate::executor::{CellOutcome, Executor};
    #[pymodule_export]
    use crate::native::{check_signals, count_primes, sleep};
    #[pymodule_export]
    use crate::signals::SigintHandler;

    use pyo3::prelude::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add_function(wrap_pyfunction!(crate::panics::_panic, m)?)?;
        m.add_function(wrap_pyfunction!(crate::host::host_executable, m)?)?;
        Ok(())
    }
}
