//! Native functions that run long and stay interruptible: they call
//! `Python::check_signals` at least every 10 ms, also while the GIL is released.

use crate::panics::guard;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::time::{Duration, Instant};

/// How often long native work looks for a pending Ctrl-C / interrupt.
pub const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(5);

/// Raises `KeyboardInterrupt` (or whatever a signal handler raises) if a signal is pending.
#[pyfunction]
pub fn check_signals(py: Python<'_>) -> PyResult<()> {
    py.check_signals()
}

/// Sleeps for `seconds` with the GIL released, waking every few milliseconds to
/// re-attach briefly and check for signals, so an interrupt stops it at once.
#[pyfunction]
pub fn sleep(py: Python<'_>, seconds: f64) -> PyResult<()> {
    guard(|| {
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(PyValueError::new_err(format!(
                "sleep length must be a finite number >= 0, got {seconds}"
            )));
        }
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        loop {
            py.check_signals()?;
            let now = Instant::now();
            if now >= deadline {
                return Ok(());
            }
            let nap = (deadline - now).min(SIGNAL_CHECK_INTERVAL);
            py.detach(|| std::thread::sleep(nap));
        }
    })
}
