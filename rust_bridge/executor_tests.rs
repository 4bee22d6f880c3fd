//! The executor's run/eval/namespace logic, on a real interpreter.

use super::*;
use pyo3::types::PyModule;

/// Tests share one interpreter; they take turns. CPython 3.11 keeps the recursion
/// depth of its syntax-tree conversion in interpreter-wide state, so two threads
/// compiling syntax trees at once can fail with "AST constructor recursion depth
/// mismatch" (CPython gh-106905), which made these tests fail about 1 run in 50.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f` with a fresh executor on a fresh module namespace.
fn with_executor<F: for<'py> FnOnce(Python<'py>, &Executor)>(f: F) {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Python::initialize();
    Python::attach(|py| {
        let module = PyModule::new(py, "__main__").expect("module");
        let executor = Executor::for_module(&module).expect("executor");
        f(py, &executor);
    });
}

fn run(py: Python<'_>, executor: &Executor, source: &str, n: usize) -> CellOutcome {
    let source = PyString::new(py, source);
    executor.run_cell(py, source.as_any(), &format!("<cell-{n}>"))
}

fn value(py: Python<'_>, outcome: &CellOutcome) -> String {
    assert!(
        outcome.error.is_none(),
        "cell failed: {:?}",
        outcome.error.as_ref().map(|e| e.bind(py).to_string())
    );
    assert!(outcome.has_value, "cell had no trailing expression");
    outcome.value.bind(py).repr().expect("repr").to_string()
}

fn error_name(py: Python<'_>, outcome: &CellOutcome) -> String {
    let err = outcome.error.as_ref().expect("cell should fail");
    err.bind(py).get_type().name().expect("name").to_string()
}

#[test]
fn functions_see_names_defined_in_later_cells() {
    with_executor(|py, ex| {
        run(py, ex, "def f():\n    return x", 1);
        run(py, ex, "x = 41", 2);
        assert_eq!(value(py, &run(py, ex, "f() + 1", 3)), "42");
    });
}

#[test]
fn only_the_trailing_expression_is_returned() {
    with_executor(|py, ex| {
        let outcome = run(py, ex, "1\ny = 2\ny * 10", 1);
        assert_eq!(value(py, &outcome), "20");
        let outcome = run(py, ex, "y = 3", 2);
        assert!(!outcome.has_value);
        assert!(outcome.error.is_none());
    });
}

#[test]
fn statements_sharing_a_line_with_the_expression_run_first() {
    with_executor(|py, ex| {
        assert_eq!(value(py, &run(py, ex, "a = 5; b = 6; a * b", 1)), "30");
    });
}

#[test]
fn decorated_functions_and_comments_between_statements() {
    with_executor(|py, ex| {
        let src = "import functools\n# a comment\n@functools.lru_cache\ndef g(n):\n    return n * 2\n\n# another\ng(21)";
        assert_eq!(value(py, &run(py, ex, src, 1)), "42");
    });
}

#[test]
fn errors_are_returned_with_the_cell_line_in_the_traceback() {
    with_executor(|py, ex| {
        let outcome = run(py, ex, "a = 1\n\nb = 1/0", 7);
        assert_eq!(error_name(py, &outcome), "ZeroDivisionError");
        let err = outcome.error.as_ref().expect("error");
        let tb = err.bind(py).getattr("__traceback__").expect("tb");
        let lineno: usize = tb
            .getattr("tb_lineno")
            .expect("lineno")
            .extract()
            .expect("int");
        assert_eq!(lineno, 3);
        let filename: String = tb
            .getattr("tb_frame")
            .and_then(|f| f.getattr("f_code"))
            .and_then(|c| c.getattr("co_filename"))
            .expect("filename")
            .extract()
            .expect("str");
        assert_eq!(filename, "<cell-7>");
        let line: String = py
            .import("linecache")
            .and_then(|m| m.call_method1("getline", ("<cell-7>", 3)))
            .expect("getline")
            .extract()
            .expect("str");
        assert_eq!(line, "b = 1/0\n");
    });
}

#[test]
fn syntax_errors_name_the_cell() {
    with_executor(|py, ex| {
        let outcome = run(py, ex, "x = 1\ndef (", 2);
        assert_eq!(error_name(py, &outcome), "SyntaxError");
        let err = outcome.error.as_ref().expect("error").bind(py).clone();
        let filename: String = err.getattr("filename").expect("f").extract().expect("s");
        assert_eq!(filename, "<cell-2>");
    });
}

#[test]
fn the_namespace_survives_errors() {
    with_executor(|py, ex| {
        run(py, ex, "kept = 'yes'", 1);
        run(py, ex, "kept2 = 1\nraise RuntimeError('boom')", 2);
        assert_eq!(value(py, &run(py, ex, "kept, kept2", 3)), "('yes', 1)");
    });
}

#[test]
fn future_imports_carry_over_to_later_cells() {
    with_executor(|py, ex| {
        run(py, ex, "from __future__ import annotations", 1);
        run(py, ex, "def h(x: UndefinedName) -> None: pass", 2);
        assert_eq!(
            value(py, &run(py, ex, "h.__annotations__['x']", 3)),
            "'UndefinedName'"
        );
    });
}

#[test]
fn top_level_await_runs_and_asyncio_run_works_elsewhere() {
    with_executor(|py, ex| {
        run(py, ex, "import asyncio\nasync def main():\n    return 7", 1);
        assert_eq!(
            value(py, &run(py, ex, "await asyncio.sleep(0); await main()", 2)),
            "7"
        );
        assert_eq!(value(py, &run(py, ex, "asyncio.run(main())", 3)), "7");
    });
}

#[test]
fn eval_reads_the_namespace() {
    with_executor(|py, ex| {
        run(py, ex, "z = 9", 1);
        let v = ex.eval(py, "z * 2", "<expr>").expect("eval");
        assert_eq!(v.bind(py).extract::<i64>().expect("int"), 18);
        assert!(ex.eval(py, "nope", "<expr>").is_err());
    });
}

#[test]
fn nul_bytes_and_empty_cells_do_not_crash() {
    with_executor(|py, ex| {
        let outcome = run(py, ex, "x = '\0'", 1);
        assert!(outcome.error.is_some());
        let outcome = run(py, ex, "", 2);
        assert!(outcome.error.is_none() && !outcome.has_value);
        let outcome = run(py, ex, "# only a comment\n", 3);
        assert!(outcome.error.is_none() && !outcome.has_value);
    });
}

#[test]
fn panics_become_runtime_errors() {
    Python::initialize();
    Python::attach(|py| {
        let err = crate::panics::_panic("on purpose").expect_err("must fail");
        assert!(err.is_instance_of::<pyo3::exceptions::PyRuntimeError>(py));
        assert!(err.to_string().contains("on purpose"));
    });
}

#[test]
fn trailing_comments_are_kept_in_the_compiled_text() {
    with_executor(|py, ex| {
        assert_eq!(
            value(
                py,
                &run(py, ex, "a = 1  # note\nb = 2  # more\na + b  # sum", 1)
            ),
            "3"
        );
        let outcome = run(py, ex, "1 + 1;  # quiet", 2);
        assert_eq!(value(py, &outcome), "2");
    });
}

#[test]
fn one_statement_and_one_expression_cells() {
    with_executor(|py, ex| {
        let assigned = run(py, ex, "# set up\nsingle = 41  # one statement\n", 1);
        assert!(assigned.error.is_none() && !assigned.has_value);
        assert_eq!(
            value(py, &run(py, ex, "\n# comment\nsingle + 1  # x\n", 2)),
            "42"
        );
        assert_eq!(value(py, &run(py, ex, "'a;b'", 3)), "'a;b'");
        assert_eq!(value(py, &run(py, ex, "(single +\n 1)", 4)), "42");
        let failed = run(py, ex, "1 / 0", 5);
        let error = failed.error.as_ref().expect("ZeroDivisionError");
        assert!(error.bind(py).to_string().contains("division by zero"));
    });
}

#[test]
fn awaiting_cells_run_every_statement_inside_the_loop() {
    with_executor(|py, ex| {
        run(py, ex, "import asyncio\nasync def f():\n    return 7", 1);
        let src = "loop = asyncio.get_running_loop()\nt = asyncio.create_task(f())\nawait t";
        assert_eq!(value(py, &run(py, ex, src, 2)), "7");
        assert_eq!(
            value(py, &run(py, ex, "loop is asyncio.get_event_loop()", 3)),
            "True"
        );
        let sync = run(py, ex, "asyncio.get_running_loop()", 4);
        assert_eq!(error_name(py, &sync), "RuntimeError");
    });
}

#[test]
fn tasks_made_in_plain_cells_run_on_the_loop_awaiting_cells_use() {
    with_executor(|py, ex| {
        let setup =
            "import asyncio\nasync def g():\n    await asyncio.sleep(0)\n    return 'done'\n\
                     t = asyncio.get_event_loop().create_task(g())";
        run(py, ex, setup, 1);
        assert_eq!(value(py, &run(py, ex, "await t", 2)), "'done'");
        // asyncio.run() unsets the current loop when it ends; the namespace's loop is
        // the current one again for the next cell.
        run(
            py,
            ex,
            "async def h():\n    return 3\nr = asyncio.run(h())",
            3,
        );
        let src = "asyncio.get_event_loop() is t.get_loop(), r";
        assert_eq!(value(py, &run(py, ex, src, 4)), "(True, 3)");
    });
}

#[test]
fn context_variables_set_in_awaiting_cells_outlast_the_cell() {
    with_executor(|py, ex| {
        run(
            py,
            ex,
            "import asyncio, contextvars\nv = contextvars.ContextVar('v')",
            1,
        );
        run(py, ex, "v.set('inside')\nawait asyncio.sleep(0)", 2);
        assert_eq!(value(py, &run(py, ex, "v.get()", 3)), "'inside'");
    });
}

#[test]
fn errors_in_awaiting_cells_keep_the_cell_line_and_the_statements_before() {
    with_executor(|py, ex| {
        let outcome = run(
            py,
            ex,
            "import asyncio\nbefore = 1\nawait asyncio.sleep(0)\n1/0",
            5,
        );
        assert_eq!(error_name(py, &outcome), "ZeroDivisionError");
        assert_eq!(value(py, &run(py, ex, "before", 6)), "1");
    });
}

#[test]
fn each_thread_awaits_on_its_own_event_loop() {
    with_executor(|py, ex| {
        let main_loop = ex.event_loop(py).expect("loop").unbind();
        let other = py.detach(|| {
            std::thread::scope(|scope| {
                scope
                    .spawn(|| {
                        Python::attach(|py| {
                            run(py, ex, "import asyncio\nawait asyncio.sleep(0)", 1);
                            let looped = ex.event_loop(py).expect("loop").unbind();
                            ex.release_event_loop(py).expect("release");
                            looped
                        })
                    })
                    .join()
                    .expect("thread")
            })
        });
        assert!(!main_loop.bind(py).is(other.bind(py)));
        let closed = other.bind(py).call_method0("is_closed").expect("closed");
        assert!(
            closed.is_truthy().expect("bool"),
            "a released loop is closed"
        );
        assert!(ex.event_loop(py).expect("loop").is(main_loop.bind(py)));
    });
}
