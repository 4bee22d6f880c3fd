//! A cell with top-level `await`, run as one coroutine on the event loop.
//!
//! Every statement of such a cell runs inside the cell's task, so code between the
//! awaits sees a running loop (`asyncio.get_running_loop()`, `asyncio.create_task`).
//! The coroutine runs the cell's statements one at a time, as the executor does for
//! any cell (compiled from the syntax tree, `check_signals` between them), and when a
//! statement is itself a coroutine (it awaits) hands the loop whatever that coroutine
//! yields until it is done. Its result is the value of the trailing expression.

use crate::executor::{compile_chunk, is_coroutine_code, run_code, Chunk, Mode};
use pyo3::exceptions::{PyStopIteration, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

/// How the loop resumes the coroutine.
enum Resume {
    Send(Py<PyAny>),
    Throw(PyErr),
}

/// The coroutine of one awaiting cell (see the module documentation).
#[pyclass(module = "rust_bridge")]
pub struct CellCoroutine {
    namespace: Py<PyDict>,
    future_flags: Arc<AtomicI32>,
    filename: String,
    /// Syntax tree nodes still to run, and how.
    pending: VecDeque<(Py<PyAny>, Mode)>,
    /// The statement being awaited (a coroutine), and how it was compiled.
    awaiting: Option<(Py<PyAny>, Mode)>,
    value: Py<PyAny>,
    /// The context the cell's task ran in, taken when the cell ended.
    context: Option<Py<PyAny>>,
}

impl CellCoroutine {
    pub(crate) fn new(
        py: Python<'_>,
        namespace: Py<PyDict>,
        future_flags: Arc<AtomicI32>,
        filename: &str,
        chunks: Vec<Chunk<'_>>,
    ) -> Self {
        Self {
            pending: chunks
                .into_iter()
                .map(|chunk| (chunk.node.unbind(), chunk.mode))
                .collect(),
            namespace,
            future_flags,
            filename: filename.to_owned(),
            awaiting: None,
            value: py.None(),
            context: None,
        }
    }

    /// Sets, in the caller's context, the context variables the cell's task ended
    /// with: a task runs in a copy of its creator's context, but a cell's
    /// `var.set(...)` must outlast the cell, whether or not it awaits.
    pub(crate) fn adopt_context(cell: &Bound<'_, Self>) -> PyResult<()> {
        let context = cell.borrow_mut().context.take();
        let Some(context) = context else {
            return Ok(());
        };
        let py = cell.py();
        for item in context.bind(py).call_method0("items")?.try_iter()? {
            let (var, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
            var.call_method1("set", (value,))?;
        }
        Ok(())
    }

    /// Runs the cell on from where it stopped, until it awaits something (returned,
    /// for the task to wait on), raises, or ends (`StopIteration` with its value).
    fn step(&mut self, py: Python<'_>, mut resume: Resume) -> PyResult<Py<PyAny>> {
        let result = self.advance(py, &mut resume);
        if !matches!(result, Ok(Step::Yielded(_))) {
            self.finish(py);
        }
        match result? {
            Step::Yielded(yielded) => Ok(yielded),
            Step::Done => Err(PyStopIteration::new_err((self.value.clone_ref(py),))),
        }
    }

    fn advance(&mut self, py: Python<'_>, resume: &mut Resume) -> PyResult<Step> {
        loop {
            if let Some((coroutine, mode)) = self.awaiting.take() {
                let now = std::mem::replace(resume, Resume::Send(py.None()));
                let result = match now {
                    Resume::Send(value) => coroutine.bind(py).call_method1("send", (value,)),
                    Resume::Throw(err) => coroutine
                        .bind(py)
                        .call_method1("throw", (err.into_value(py),)),
                };
                match result {
                    Ok(yielded) => {
                        self.awaiting = Some((coroutine, mode));
                        return Ok(Step::Yielded(yielded.unbind()));
                    }
                    Err(err) if err.is_instance_of::<PyStopIteration>(py) => {
                        if mode == Mode::Eval {
                            self.value = err.value(py).getattr("value")?.unbind();
                        }
                    }
                    Err(err) => return Err(err),
                }
                continue;
            }
            if let Resume::Throw(_) = resume {
                // Thrown in between statements: raised where the cell is.
                let Resume::Throw(err) = std::mem::replace(resume, Resume::Send(py.None())) else {
                    unreachable!("checked above");
                };
                return Err(err);
            }
            let Some((node, mode)) = self.pending.pop_front() else {
                return Ok(Step::Done);
            };
            py.check_signals()?;
            let chunk = Chunk {
                node: node.into_bound(py),
                mode,
            };
            let flags = self.future_flags.load(Ordering::Relaxed);
            let code = compile_chunk(py, &chunk, &self.filename, flags)?;
            let result = run_code(py, &code, self.namespace.bind(py))?;
            if is_coroutine_code(&code)? {
                self.awaiting = Some((result.unbind(), mode));
            } else if mode == Mode::Eval {
                self.value = result.unbind();
            }
        }
    }

    /// The cell is over: nothing more runs; its task's context is kept for
    /// `adopt_context`.
    fn finish(&mut self, py: Python<'_>) {
        self.pending.clear();
        self.awaiting = None;
        if self.context.is_none() {
            self.context = py
                .import("contextvars")
                .and_then(|m| m.call_method0("copy_context"))
                .ok()
                .map(Bound::unbind);
        }
    }
}

enum Step {
    Yielded(Py<PyAny>),
    Done,
}

#[pymethods]
impl CellCoroutine {
    fn __await__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.step(py, Resume::Send(py.None()))
    }

    fn send(&mut self, py: Python<'_>, value: Py<PyAny>) -> PyResult<Py<PyAny>> {
        self.step(py, Resume::Send(value))
    }

    /// `throw(exception)`, or the older `throw(type, value=None, traceback=None)`.
    #[pyo3(signature = (kind, value=None, traceback=None))]
    fn throw(
        &mut self,
        py: Python<'_>,
        kind: Bound<'_, PyAny>,
        value: Option<Bound<'_, PyAny>>,
        traceback: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let _ = traceback;
        let exception = if kind.is_instance_of::<pyo3::exceptions::PyBaseException>() {
            kind
        } else if kind.is_instance_of::<pyo3::types::PyType>() {
            match value {
                Some(value) if value.is_instance(&kind)? => value,
                Some(value) => kind.call1((value,))?,
                None => kind.call0()?,
            }
        } else {
            return Err(PyTypeError::new_err(
                "throw() expects an exception type or instance",
            ));
        };
        self.step(py, Resume::Throw(PyErr::from_value(exception)))
    }

    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        if let Some((coroutine, _)) = self.awaiting.take() {
            coroutine.bind(py).call_method0("close")?;
        }
        self.finish(py);
        Ok(())
    }
}
