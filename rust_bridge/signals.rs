//! A SIGINT handler object for Python's `signal.signal`, written in Rust so the
//! `KeyboardInterrupt` it raises carries no extra Python frame in tracebacks.
//!
//! It also acknowledges the interrupt: CPython writes every signal to the wakeup fd
//! (`signal.set_wakeup_fd`), and this handler drains the other end of that pipe. An
//! observer that sees unread bytes for a while knows a signal arrived but no handler
//! ran yet (CPython can miss a signal that lands just before a blocking call), and
//! can deliver it again.

use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicU64, Ordering};

/// Raises `KeyboardInterrupt` when called as a signal handler, after draining the
/// non-blocking wakeup pipe whose read end is `wakeup_fd` (-1: none).
#[pyclass(module = "rust_bridge", frozen)]
pub struct SigintHandler {
    wakeup_fd: i32,
    calls: AtomicU64,
}

#[pymethods]
impl SigintHandler {
    #[new]
    #[pyo3(signature = (wakeup_fd=-1))]
    fn new(wakeup_fd: i32) -> Self {
        Self {
            wakeup_fd,
            calls: AtomicU64::new(0),
        }
    }

    fn __call__(&self, _signum: Bound<'_, PyAny>, _frame: Bound<'_, PyAny>) -> PyResult<()> {
        drain(self.wakeup_fd);
        self.calls.fetch_add(1, Ordering::Relaxed);
        Err(PyKeyboardInterrupt::new_err(()))
    }

    /// Drains the wakeup pipe without raising: the signal is acknowledged (a holder
    /// that takes note of it, instead of raising, calls this). The one reader that
    /// empties the pipe is this object.
    fn acknowledge(&self) {
        drain(self.wakeup_fd);
    }

    /// How many times the handler ran.
    #[getter]
    fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

/// Reads everything currently in the (non-blocking) pipe `fd`.
pub fn drain(fd: i32) {
    if fd < 0 {
        return;
    }
    // SAFETY: `fd` is an open descriptor owned by the Python side for the life of the
    // handler; ManuallyDrop keeps us from closing it.
    let mut file = ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
    let mut buf = [0u8; 256];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => continue,
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return, // WouldBlock: empty
        }
    }
}
