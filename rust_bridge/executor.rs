//! The executor: every cell runs here, on one namespace dict shared by all cells.
//!
//! A cell is parsed once into its top-level statements. Each statement is compiled
//! from its syntax tree under the cell's own filename (so line and column numbers are
//! the cell's, and a cell of n lines costs O(n)) and run with PyO3's run machinery
//! (`PyCode::run`, i.e. `PyEval_EvalCode`), with `Python::check_signals` between
//! statements; a trailing expression is compiled in eval mode and its value handed
//! back, for the caller to display. The cell's source is registered in `linecache`, so tracebacks
//! show its lines, also from functions defined in it and called from later cells.

use crate::cell_coroutine::CellCoroutine;
use crate::panics::guard;
use pyo3::exceptions::PyRuntimeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{
    PyCode, PyCodeMethods, PyDict, PyList, PyModule, PyString, PyTraceback, PyTuple,
};
use std::collections::HashMap;
use std::ffi::{c_int, CString};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

const PYCF_ONLY_AST: c_int = 0x0400;
const PYCF_ALLOW_TOP_LEVEL_AWAIT: c_int = 0x2000;
/// `CO_FUTURE_*` bits: a `from __future__ import …` in one cell applies to later cells.
const FUTURE_FLAGS: c_int = 0x01FE_0000;
const CO_COROUTINE: i64 = 0x0080;

/// What running a cell produced: the trailing expression's value, or the error.
#[pyclass(module = "rust_bridge", frozen, get_all)]
pub struct CellOutcome {
    /// The value of the cell's trailing expression (`None` if there was none).
    pub value: Py<PyAny>,
    /// True when the cell ended with an expression that was evaluated.
    pub has_value: bool,
    /// The exception the cell raised (its `__traceback__` starts in the cell), or `None`.
    pub error: Option<Py<PyAny>>,
}

#[pymethods]
impl CellOutcome {
    fn __repr__(&self, py: Python<'_>) -> String {
        match &self.error {
            Some(err) => format!("CellOutcome(error={})", err.bind(py)),
            None if self.has_value => format!("CellOutcome(value={})", self.value.bind(py)),
            None => "CellOutcome()".to_string(),
        }
    }
}

/// How a piece of a cell is compiled and run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A statement, run for its effects (`exec`).
    Exec,
    /// The trailing expression, evaluated for its value, handed back (`eval`).
    Eval,
    /// A statement whose value is shown through `sys.displayhook` (`single`, as
    /// Python's and IPython's interactive prompts run the last statement).
    Single,
}

/// One piece of a cell (a syntax tree node), compiled and run on its own.
pub(crate) struct Chunk<'py> {
    pub(crate) node: Bound<'py, PyAny>,
    pub(crate) mode: Mode,
}

/// Runs cells on one namespace: the `__main__` module's dict, used as globals and locals.
#[pyclass(module = "rust_bridge", frozen)]
pub struct Executor {
    namespace: Py<PyDict>,
    /// `__future__` features turned on by earlier cells (shared with awaiting cells,
    /// which compile their statements as they reach them).
    future_flags: Arc<AtomicI32>,
    /// The event loop of each thread that runs cells (a host may run cells on more
    /// than one): its current event loop, so `asyncio.get_event_loop()` in any cell
    /// returns it, and the loop awaiting cells run on. Only those cells run it here
    /// (so `asyncio.run()` works in every other cell); whoever owns the thread may run
    /// it in between, to let tasks that cells created go on. Replaced only when it is
    /// closed or broken.
    event_loops: Mutex<HashMap<ThreadId, Py<PyAny>>>,
}

#[pymethods]
impl Executor {
    /// Creates an executor on `module`'s dict (default: the `__main__` module).
    #[new]
    #[pyo3(signature = (module=None))]
    fn py_new(py: Python<'_>, module: Option<Bound<'_, PyModule>>) -> PyResult<Self> {
        let module = match module {
            Some(module) => module,
            None => py.import("__main__")?,
        };
        Self::for_module(&module)
    }

    /// The namespace every cell runs in (globals and locals at once).
    #[getter]
    fn namespace(&self, py: Python<'_>) -> Py<PyDict> {
        self.namespace.clone_ref(py)
    }

    /// The calling thread's event loop for cells (a new one if the last was closed);
    /// it is made the current event loop of the thread.
    #[getter(event_loop)]
    fn py_event_loop<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.event_loop(py)
    }

    /// Closes and forgets the calling thread's event loop (a thread that ran cells is
    /// ending); its unfinished tasks are dropped.
    fn release_event_loop(&self, py: Python<'_>) -> PyResult<()> {
        let released = self
            .event_loops
            .lock()
            .map_err(|_| PyRuntimeError::new_err("event loop lock poisoned"))?
            .remove(&std::thread::current().id());
        if let Some(event_loop) = released {
            let event_loop = event_loop.bind(py);
            if !event_loop.call_method0("is_running")?.is_truthy()? {
                event_loop.call_method0("close")?;
            }
            py.import("asyncio")?
                .call_method1("set_event_loop", (py.None(),))?;
        }
        Ok(())
    }

    /// Runs `source` as one cell compiled under `filename`. Never raises for errors in
    /// the cell: they are returned in `CellOutcome.error`.
    fn run_cell(&self, py: Python<'_>, source: &Bound<'_, PyAny>, filename: &str) -> CellOutcome {
        let result = guard(|| self.run(py, source, filename));
        // A cell may have replaced the thread's event loop (`asyncio.run()` unsets it
        // when done): the namespace's loop is the current one again for the next cell.
        let _ = self.event_loop(py);
        outcome(py, result)
    }

    /// Runs the statements of a cell already parsed (syntax tree nodes, e.g. after a
    /// shell's transformations) under `filename`; node `i` shows its value through
    /// `sys.displayhook` when `interactive[i]`. `may_await` false promises the cell has
    /// no top-level `await` (skips finding out). Never raises for errors in the cell:
    /// they are returned in `CellOutcome.error`.
    #[pyo3(signature = (nodes, filename, interactive, may_await=true))]
    fn run_nodes(
        &self,
        py: Python<'_>,
        nodes: &Bound<'_, PyList>,
        filename: &str,
        interactive: Vec<bool>,
        may_await: bool,
    ) -> CellOutcome {
        let result = guard(|| {
            let mut chunks = Vec::with_capacity(nodes.len());
            for (index, node) in nodes.iter().enumerate() {
                if node.get_type().name()?.to_str()? == "ImportFrom" {
                    self.note_future_import(py, &node)?;
                }
                let shown = interactive.get(index).copied().unwrap_or(false);
                let mode = if shown { Mode::Single } else { Mode::Exec };
                chunks.push(Chunk { node, mode });
            }
            let is_coroutine = may_await && {
                let ast = py.import("ast")?;
                let tree = ast.call_method1("Module", (nodes, PyList::empty(py)))?;
                self.is_coroutine(py, &tree, filename)?
            };
            self.run_chunks(py, chunks, filename, is_coroutine)
        });
        let _ = self.event_loop(py);
        outcome(py, result)
    }

    /// Evaluates one expression in the namespace and returns its value (raises on error).
    #[pyo3(signature = (expression, filename="<expression>"))]
    fn eval(&self, py: Python<'_>, expression: &str, filename: &str) -> PyResult<Py<PyAny>> {
        guard(|| {
            let code = self.compile(py, expression, filename, ffi::Py_eval_input)?;
            let value = run_code(py, &code, self.namespace.bind(py))?;
            let co_flags: i64 = code.getattr("co_flags")?.extract()?;
            if co_flags & CO_COROUTINE != 0 {
                Ok(self.await_on_loop(py, value, filename)?.unbind())
            } else {
                Ok(value.unbind())
            }
        })
    }
}

impl Executor {
    /// An executor whose namespace is `module.__dict__`.
    pub fn for_module(module: &Bound<'_, PyModule>) -> PyResult<Self> {
        let py = module.py();
        let namespace = module.dict();
        let builtins = py.import("builtins")?;
        namespace.set_default("__builtins__", builtins)?;
        let executor = Self {
            namespace: namespace.unbind(),
            future_flags: Arc::new(AtomicI32::new(0)),
            event_loops: Mutex::new(HashMap::new()),
        };
        executor.event_loop(py)?;
        Ok(executor)
    }

    /// The shared namespace.
    pub fn namespace_bound<'py>(&self, py: Python<'py>) -> Bound<'py, PyDict> {
        self.namespace.bind(py).clone()
    }

    /// Runs a cell; returns (value of the trailing expression, whether there was one).
    /// A cell with top-level `await` runs as one task on the event loop, all its
    /// statements inside it, so `asyncio.get_running_loop()` and `create_task` work
    /// in it; any other cell runs with no loop running.
    pub fn run(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        filename: &str,
    ) -> PyResult<(Py<PyAny>, bool)> {
        let source = source.cast::<PyString>()?;
        register_in_linecache(py, source, filename)?;
        let (tree, chunks) = self.split(py, source, filename)?;
        let is_coroutine = may_await(source)? && self.is_coroutine(py, &tree, filename)?;
        self.run_chunks(py, chunks, filename, is_coroutine)
    }

    /// Runs the pieces of a cell in order; returns (value of a trailing `eval` piece,
    /// whether there was one). A cell with top-level `await` (`is_coroutine`) runs as
    /// one task on the event loop, all its statements inside it, so
    /// `asyncio.get_running_loop()` and `create_task` work in it; any other cell runs
    /// with no loop running.
    fn run_chunks(
        &self,
        py: Python<'_>,
        chunks: Vec<Chunk<'_>>,
        filename: &str,
        is_coroutine: bool,
    ) -> PyResult<(Py<PyAny>, bool)> {
        let has_value = chunks.last().is_some_and(|chunk| chunk.mode == Mode::Eval);
        if is_coroutine {
            let cell = Bound::new(
                py,
                CellCoroutine::new(
                    py,
                    self.namespace.clone_ref(py),
                    Arc::clone(&self.future_flags),
                    filename,
                    chunks,
                ),
            )?;
            let result = self.await_on_loop(py, cell.clone().into_any(), filename);
            // Context variables the cell set are kept, as for any other cell.
            CellCoroutine::adopt_context(&cell)?;
            return Ok((result?.unbind(), has_value));
        }
        let mut value = py.None();
        let flags = self.future_flags.load(Ordering::Relaxed);
        for chunk in chunks {
            py.check_signals()?;
            let code = compile_chunk(py, &chunk, filename, flags)?;
            let result = run_code(py, &code, self.namespace.bind(py))?;
            if chunk.mode == Mode::Eval {
                value = result.unbind();
            }
        }
        Ok((value, has_value))
    }

    /// Parses a cell into its syntax tree and its pieces (statements and trailing
    /// expression), and notes the `__future__` features it turns on for later cells.
    fn split<'py>(
        &self,
        py: Python<'py>,
        source: &Bound<'py, PyString>,
        filename: &str,
    ) -> PyResult<(Bound<'py, PyAny>, Vec<Chunk<'py>>)> {
        let flags =
            PYCF_ONLY_AST | PYCF_ALLOW_TOP_LEVEL_AWAIT | self.future_flags.load(Ordering::Relaxed);
        let tree = py
            .import("builtins")?
            .getattr("compile")?
            .call1((source, filename, "exec", flags, true))?;
        let body = tree.getattr("body")?.cast_into::<PyList>()?;
        let mut chunks = Vec::with_capacity(body.len());
        let last = body.len().saturating_sub(1);
        for (index, stmt) in body.iter().enumerate() {
            let kind = stmt.get_type().name()?;
            let kind = kind.to_str()?;
            if kind == "ImportFrom" {
                self.note_future_import(py, &stmt)?;
            }
            if index == last && kind == "Expr" {
                chunks.push(Chunk {
                    node: stmt.getattr("value")?,
                    mode: Mode::Eval,
                });
            } else {
                chunks.push(Chunk {
                    node: stmt,
                    mode: Mode::Exec,
                });
            }
        }
        Ok((tree, chunks))
    }

    /// Whether the cell uses `await` (or `async for`/`async with`) at top level: its
    /// whole tree compiles to a coroutine.
    fn is_coroutine(
        &self,
        py: Python<'_>,
        tree: &Bound<'_, PyAny>,
        filename: &str,
    ) -> PyResult<bool> {
        let flags = self.future_flags.load(Ordering::Relaxed);
        let code = compile_tree(py, tree, filename, "exec", flags)?;
        let co_flags: i64 = code.getattr("co_flags")?.extract()?;
        Ok(co_flags & CO_COROUTINE != 0)
    }

    /// `from __future__ import x` in a cell applies to later cells too, as in IPython.
    fn note_future_import(&self, py: Python<'_>, stmt: &Bound<'_, PyAny>) -> PyResult<()> {
        let module = stmt.getattr("module")?;
        if module.is_none() || module.extract::<String>()? != "__future__" {
            return Ok(());
        }
        let future = py.import("__future__")?;
        for alias in stmt.getattr("names")?.try_iter()? {
            let name: String = alias?.getattr("name")?.extract()?;
            if let Ok(feature) = future.getattr(name.as_str()) {
                let flag: c_int = feature.getattr("compiler_flag")?.extract()?;
                self.future_flags
                    .fetch_or(flag & FUTURE_FLAGS, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// Compiles source text (an expression for `eval`) with the `__future__` features
    /// earlier cells turned on. `Py_CompileStringExFlags` is the function under
    /// `PyCode::compile` / `Python::run`, here with compiler flags.
    fn compile<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        filename: &str,
        start: c_int,
    ) -> PyResult<Bound<'py, PyCode>> {
        let text = CString::new(text)?;
        let filename = CString::new(filename)?;
        let mut flags = ffi::PyCompilerFlags {
            cf_flags: PYCF_ALLOW_TOP_LEVEL_AWAIT | self.future_flags.load(Ordering::Relaxed),
            cf_feature_version: py.version_info().minor as c_int,
        };
        // SAFETY: both strings are valid NUL-terminated C strings that outlive the call,
        // `flags` is a valid PyCompilerFlags, and we are attached to the interpreter.
        let code = unsafe {
            let ptr = ffi::Py_CompileStringExFlags(
                text.as_ptr(),
                filename.as_ptr(),
                start,
                &mut flags,
                -1,
            );
            Bound::from_owned_ptr_or_err(py, ptr)?
        };
        self.future_flags
            .fetch_or(flags.cf_flags & FUTURE_FLAGS, Ordering::Relaxed);
        Ok(code.cast_into::<PyCode>()?)
    }

    /// Drives an awaitable (an awaiting cell, or a coroutine from `eval`) to completion
    /// on the event loop, as a task.
    fn await_on_loop<'py>(
        &self,
        py: Python<'py>,
        coroutine: Bound<'py, PyAny>,
        filename: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let started = self.event_loop(py).and_then(|event_loop| {
            let task = event_loop.call_method1("create_task", (&coroutine,))?;
            Ok((event_loop, task))
        });
        let (event_loop, task) = match started {
            Ok(started) => started,
            Err(err) => {
                // Interrupted before the cell's task existed: nothing of the cell ran,
                // so no asyncio frames to show, and no "never awaited" warning.
                let _ = coroutine.call_method0("close");
                if err.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) {
                    err.set_traceback(py, None);
                }
                return Err(err);
            }
        };
        let outcome = match event_loop.call_method1("run_until_complete", (&task,)) {
            Ok(value) => Ok(value),
            Err(err) if task.call_method0("done")?.is_truthy()? => {
                if err.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) {
                    // Interrupted inside the event loop's own code while the cell's task
                    // was running (scheduling a timer, say): show the cell's frames on.
                    err.set_traceback(py, starting_in_cell(err.traceback(py), filename));
                }
                Err(err)
            }
            Err(err) => {
                // Interrupted while the cell was suspended in an `await`: cancel the task,
                // so its `finally` blocks run now, and report the interruption with the
                // cancellation's traceback, which points at the cell's awaiting line.
                match task
                    .call_method0("cancel")
                    .and_then(|_| event_loop.call_method1("run_until_complete", (&task,)))
                {
                    Err(cancelled)
                        if cancelled
                            .is_instance_of::<pyo3::exceptions::asyncio::CancelledError>(py) =>
                    {
                        err.set_traceback(py, cancelled_in_cell(py, &cancelled, filename));
                        Err(err)
                    }
                    Err(other) => Err(other),
                    Ok(_) => Err(err),
                }
            }
        };
        if outcome.is_err() {
            self.repair_event_loop(py, &event_loop);
        }
        outcome
    }

    /// The event loop (a new one if there was none or it was closed), made the
    /// current event loop of this thread.
    pub fn event_loop<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let thread = std::thread::current().id();
        let asyncio = py.import("asyncio")?;
        let existing = self
            .event_loops
            .lock()
            .map_err(|_| PyRuntimeError::new_err("event loop lock poisoned"))?
            .get(&thread)
            .map(|event_loop| event_loop.clone_ref(py));
        if let Some(event_loop) = existing {
            let event_loop = event_loop.into_bound(py);
            if !event_loop.call_method0("is_closed")?.is_truthy()? {
                asyncio.call_method1("set_event_loop", (&event_loop,))?;
                return Ok(event_loop);
            }
        }
        let created = asyncio.call_method0("new_event_loop")?;
        asyncio.call_method1("set_event_loop", (&created,))?;
        self.event_loops
            .lock()
            .map_err(|_| PyRuntimeError::new_err("event loop lock poisoned"))?
            .insert(thread, created.clone().unbind());
        Ok(created)
    }

    /// After an interrupted `await`: an interrupt that landed in the loop's own
    /// bookkeeping can leave it marked as running; then it is replaced (its tasks are
    /// lost with it), so the next cell does not find a loop "already running".
    fn repair_event_loop(&self, py: Python<'_>, event_loop: &Bound<'_, PyAny>) {
        let running = event_loop
            .call_method0("is_running")
            .and_then(|r| r.is_truthy())
            .unwrap_or(true);
        // `_get_running_loop`/`_set_running_loop`: asyncio's functions for event loop
        // implementations (private names; a test in the Python suite watches them).
        if let Ok(asyncio) = py.import("asyncio") {
            let stale = asyncio
                .call_method0("_get_running_loop")
                .is_ok_and(|current| !current.is_none());
            if stale {
                let _ = asyncio.call_method1("_set_running_loop", (py.None(),));
            }
        }
        if running {
            if let Ok(mut loops) = self.event_loops.lock() {
                loops.remove(&std::thread::current().id());
            }
            let _ = self.event_loop(py);
        }
    }
}

/// A cell's result as Python sees it.
fn outcome(py: Python<'_>, result: PyResult<(Py<PyAny>, bool)>) -> CellOutcome {
    match result {
        Ok((value, has_value)) => CellOutcome {
            value,
            has_value,
            error: None,
        },
        Err(err) => CellOutcome {
            value: py.None(),
            has_value: false,
            error: Some(err.into_value(py).into_any()),
        },
    }
}

/// Whether the text could hold a top-level `await` (most cells cannot: then the
/// second compile that finds out is skipped).
fn may_await(source: &Bound<'_, PyString>) -> PyResult<bool> {
    let text = source.to_cow()?;
    Ok(text.contains("await") || text.contains("async"))
}

/// Compiles one piece of a cell from its syntax tree.
pub(crate) fn compile_chunk<'py>(
    py: Python<'py>,
    chunk: &Chunk<'py>,
    filename: &str,
    future_flags: c_int,
) -> PyResult<Bound<'py, PyCode>> {
    let ast = py.import("ast")?;
    match chunk.mode {
        Mode::Eval => {
            let tree = ast.call_method1("Expression", (&chunk.node,))?;
            compile_tree(py, &tree, filename, "eval", future_flags)
        }
        Mode::Exec => {
            let tree = ast.call_method1("Module", ([&chunk.node], PyList::empty(py)))?;
            compile_tree(py, &tree, filename, "exec", future_flags)
        }
        Mode::Single => {
            let tree = ast.call_method1("Interactive", ([&chunk.node],))?;
            compile_tree(py, &tree, filename, "single", future_flags)
        }
    }
}

/// Compiles a syntax tree with the cell's filename, allowing top-level `await` and
/// the `__future__` features earlier cells turned on.
fn compile_tree<'py>(
    py: Python<'py>,
    tree: &Bound<'py, PyAny>,
    filename: &str,
    mode: &str,
    future_flags: c_int,
) -> PyResult<Bound<'py, PyCode>> {
    let flags = PYCF_ALLOW_TOP_LEVEL_AWAIT | future_flags;
    let code = py
        .import("builtins")?
        .getattr("compile")?
        .call1((tree, filename, mode, flags, true))?;
    Ok(code.cast_into::<PyCode>()?)
}

/// Runs a code object in the namespace (globals and locals) with PyO3's run machinery.
pub(crate) fn run_code<'py>(
    _py: Python<'py>,
    code: &Bound<'py, PyCode>,
    namespace: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyAny>> {
    code.run(Some(namespace), Some(namespace))
}

/// Whether running a code object gives a coroutine to await (top-level `await`).
pub(crate) fn is_coroutine_code(code: &Bound<'_, PyCode>) -> PyResult<bool> {
    let co_flags: i64 = code.getattr("co_flags")?.extract()?;
    Ok(co_flags & CO_COROUTINE != 0)
}

/// The traceback from the cell's own frame on (hiding the engine's and the event
/// loop's); the whole traceback if the cell is not in it.
fn starting_in_cell<'py>(
    traceback: Option<Bound<'py, PyTraceback>>,
    filename: &str,
) -> Option<Bound<'py, PyTraceback>> {
    cell_entry(traceback.clone(), filename).or(traceback)
}

/// The traceback entry of the cell's frame, if the cell is in `traceback`.
fn cell_entry<'py>(
    traceback: Option<Bound<'py, PyTraceback>>,
    filename: &str,
) -> Option<Bound<'py, PyTraceback>> {
    let mut current = traceback;
    while let Some(tb) = current {
        let in_cell = tb
            .getattr("tb_frame")
            .and_then(|frame| frame.getattr("f_code"))
            .and_then(|code| code.getattr("co_filename"))
            .and_then(|name| name.extract::<String>())
            .is_ok_and(|name| name == filename);
        if in_cell {
            return Some(tb);
        }
        current = tb
            .getattr("tb_next")
            .ok()
            .and_then(|next| next.cast_into::<PyTraceback>().ok());
    }
    None
}

/// The traceback of a cancelled cell task, from the cell's awaiting line on. Python
/// 3.11+ raises the cancellation with the coroutine's frames; 3.10 raises a new
/// `CancelledError` whose `__context__` is the one raised inside the coroutine.
fn cancelled_in_cell<'py>(
    py: Python<'py>,
    cancelled: &PyErr,
    filename: &str,
) -> Option<Bound<'py, PyTraceback>> {
    let mut exception = Some(cancelled.value(py).clone().into_any());
    for _ in 0..8 {
        let Some(current) = exception else { break };
        let traceback = current
            .getattr("__traceback__")
            .ok()
            .and_then(|tb| tb.cast_into::<PyTraceback>().ok());
        if let Some(entry) = cell_entry(traceback, filename) {
            return Some(entry);
        }
        exception = current
            .getattr("__context__")
            .ok()
            .filter(|context| !context.is_none());
    }
    cancelled.traceback(py)
}

/// Makes `linecache` (and so tracebacks and `inspect.getsource`) know the cell's text.
fn register_in_linecache(
    py: Python<'_>,
    source: &Bound<'_, PyString>,
    filename: &str,
) -> PyResult<()> {
    let lines = source
        .call_method1("splitlines", (true,))?
        .cast_into::<PyList>()?;
    if let Some(last) = lines.iter().last() {
        let last = last.cast_into::<PyString>()?;
        if !last.to_str()?.ends_with('\n') {
            let fixed = format!("{}\n", last.to_str()?);
            lines.set_item(lines.len() - 1, fixed)?;
        }
    }
    let entry = PyTuple::new(
        py,
        [
            source.len()?.into_pyobject(py)?.into_any(),
            py.None().into_bound(py),
            lines.into_any(),
            PyString::new(py, filename).into_any(),
        ],
    )?;
    py.import("linecache")?
        .getattr("cache")?
        .set_item(filename, entry)?;
    Ok(())
}

#[cfg(test)]
#[path = "executor_tests.rs"]
mod tests;
