"""Other projects' internals the kernel relies on, fenced here.

Each name below is not (or not clearly) public API of the project it comes from; it is
used because the public route costs what a cell's round trip cannot pay, or has no
public route at all. ``tests/test_unit_compat.py`` has one test per internal (and per
internal used from Rust: the engine's and the host's are listed at the end) that fails
loudly when a release changes it; ``pyproject.toml`` bounds the majors tested.
"""

from __future__ import annotations

from zmq.backend import Socket as _BackendSocket

# pyzmq: the Cython methods under ``zmq.Socket``, called unbound on a ``zmq.Socket``.
# ``Socket.send_multipart``/``recv_multipart`` type-check every frame and wrap every
# call (and every RCVMORE query) in Python; these do not (wire.py).
send_frame = _BackendSocket.send
recv_frame = _BackendSocket.recv
get_option = _BackendSocket.get

# IPython: ``InteractiveShell.showtraceback`` hands every traceback it shows to
# ``_showtraceback(etype, evalue, stb)`` (ipykernel overrides it to publish the error;
# the kernel's shell overrides it to remember what was shown for the cell's reply).
SHOW_TRACEBACK_HOOK = "_showtraceback"

# Used from Rust (listed so that they are found here, tested alongside):
# - rust_bridge/executor.rs: ``asyncio._get_running_loop`` / ``asyncio._set_running_loop``
#   (an interrupt landing in the loop's bookkeeping can leave a loop marked running:
#   the engine clears it; there is no public way to).
# - host/launch.rs: ``atexit._run_exitfuncs`` (the host ends the process without
#   finalizing the interpreter, so that threads a cell left running cannot hang the
#   exit; atexit handlers, such as IPython's history writer, still run first).
RUST_USES = (
    ("asyncio", "_get_running_loop"),
    ("asyncio", "_set_running_loop"),
    ("atexit", "_run_exitfuncs"),
)
