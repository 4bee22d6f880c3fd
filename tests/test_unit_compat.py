"""One test per internal of another project the kernel relies on (listed in
``pyo3_kernel/compat.py``): each fails loudly, naming the internal, when a release of
pyzmq, IPython, ipykernel or CPython changes it."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys

import pytest
import zmq
import zmq.backend
from IPython.core.compilerop import CachingCompiler
from IPython.core.interactiveshell import InteractiveShell
from pyo3_kernel import compat


@pytest.fixture
def socket_pair():
    context = zmq.Context()
    a, b = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
    a.bind("inproc://compat")
    b.connect("inproc://compat")
    yield a, b
    a.close(linger=0)
    b.close(linger=0)
    context.term()


def test_pyzmq_backend_socket_methods_work_unbound_on_a_socket(socket_pair):
    a, b = socket_pair
    assert isinstance(a, zmq.backend.Socket), "zmq.Socket no longer subclasses the backend's"
    compat.send_frame(a, b"one", zmq.SNDMORE)
    compat.send_frame(a, memoryview(b"two"), 0, False)
    assert b.poll(5000)
    assert compat.get_option(b, zmq.EVENTS) & zmq.POLLIN
    assert compat.recv_frame(b) == b"one"
    assert compat.get_option(b, zmq.RCVMORE) == 1
    frame = compat.recv_frame(b, 0, False)
    assert frame.bytes == b"two"
    assert compat.get_option(b, zmq.RCVMORE) == 0


def test_ipython_shows_every_traceback_through_the_hook():
    source = inspect.getsource(InteractiveShell.showtraceback)
    assert f"self.{compat.SHOW_TRACEBACK_HOOK}(" in source
    parameters = list(
        inspect.signature(getattr(InteractiveShell, compat.SHOW_TRACEBACK_HOOK)).parameters
    )
    assert parameters == ["self", "etype", "evalue", "stb"]


# The cell pipeline overrides these public IPython hooks; their shapes are checked here
# so that a change shows up as a named failure, not as broken cells.
def test_ipython_cell_pipeline_hooks_have_the_shapes_the_shell_overrides():
    run_ast_nodes = inspect.signature(InteractiveShell.run_ast_nodes).parameters
    assert list(run_ast_nodes)[:6] == [
        "self",
        "nodelist",
        "cell_name",
        "interactivity",
        "compiler",
        "result",
    ]
    run_cell_async = inspect.signature(InteractiveShell.run_cell_async).parameters
    for keyword in ("transformed_cell", "preprocessing_exc_tuple", "cell_id"):
        assert run_cell_async[keyword].kind is inspect.Parameter.KEYWORD_ONLY
    assert inspect.iscoroutinefunction(InteractiveShell.run_ast_nodes)
    assert list(inspect.signature(CachingCompiler.get_code_name).parameters) == [
        "self",
        "raw_code",
        "transformed_code",
        "number",
    ]


def test_asyncio_running_loop_functions():
    assert ("asyncio", "_get_running_loop") in compat.RUST_USES
    loop = asyncio.new_event_loop()

    async def clear_and_look() -> bool:
        assert asyncio._get_running_loop() is loop
        asyncio._set_running_loop(None)
        try:
            return asyncio._get_running_loop() is None
        finally:
            asyncio._set_running_loop(loop)

    try:
        assert loop.run_until_complete(clear_and_look())
    finally:
        loop.close()
    assert asyncio._get_running_loop() is None


def test_atexit_runs_registered_handlers_on_request():
    # In a child process: running this process's handlers would stop pyzmq's
    # garbage-collector thread and remove the test session's IPYTHONDIR.
    assert ("atexit", "_run_exitfuncs") in compat.RUST_USES
    code = (
        "import atexit\n"
        "ran = []\n"
        "atexit.register(ran.append, 'handler')\n"
        "atexit._run_exitfuncs()\n"
        "assert ran == ['handler'], ran\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr
