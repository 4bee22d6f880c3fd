"""Start a kernel process: read the connection file, bind, build the kernel, serve."""

from __future__ import annotations

import logging
import os
import sys
import uuid

import zmq

from . import bootstrap, children, connection, ipykernel_marks, wire
from .interrupts import gate
from .pubsocket import LockedSocket, Welcomer


def import_kernel_modules() -> None:
    """The heavy imports (IPython, ipykernel, jupyter_client), run during bootstrap."""
    from . import kernel, session, shellapp  # noqa: F401


def log_to_original_stderr() -> None:
    """The kernel's own log goes to the stderr it was started with (the terminal or
    the Jupyter server's log), even after fd 2 is captured for the notebook. User
    code's logging is left alone (it shows in the notebook, as in ipykernel)."""
    log = logging.getLogger("pyo3_kernel")
    if log.handlers:
        return
    stream = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("[pyo3-kernel] %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.WARNING)
    log.propagate = False


def serve(
    connection_file: str | None,
    shell_args: list[str] | None = None,
    *,
    write_connection_file: bool = False,
) -> int:
    """Run the kernel described by ``connection_file`` until it is shut down.

    Without a connection file, or with ``write_connection_file`` (kernels embedded in
    an application), a new connection is made and written to ``connection_file`` (or
    into Jupyter's runtime directory)."""
    write_file = connection_file is None or write_connection_file
    if write_file:
        if connection_file is None:
            from jupyter_core.paths import jupyter_runtime_dir

            connection_file = connection.new_file_name(jupyter_runtime_dir())
        conn = connection.new_connection()
    else:
        assert connection_file is not None  # (write_file is False only when one was given)
        conn = connection.load(connection_file)
    log_to_original_stderr()
    # Figures made in cells arrive as images at the end of the cell, as in ipykernel.
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    gate.install()  # from now on SIGINT never kills the kernel
    if not write_connection_file:
        children.exit_with_parent()

    context = zmq.Context()
    sockets = connection.bind(context, conn)
    if write_file:
        connection.write(connection_file, conn)
        print(
            f"To connect a client: jupyter console --existing {connection_file}",
            file=sys.__stderr__,
            flush=True,
        )
    connection.start_heartbeat(sockets["hb"])
    session_id = uuid.uuid4().hex
    signer = wire.Signer(conn.key, conn.signature_scheme)
    verifier = wire.Verifier(signer)
    iopub = LockedSocket(sockets["iopub"], Welcomer(signer, session_id))
    imported = bootstrap.import_in_background(import_kernel_modules)
    early = bootstrap.EarlyReplies(verifier, signer, session_id, sockets, iopub)
    held = early.serve_until(imported)
    imported.wait()
    if not write_connection_file:  # a kernel process of its own, not an embedding app
        ipykernel_marks.mark_argv()

    from .kernel import Kernel
    from .session import KernelSession
    from .shellapp import KernelShellApp

    session = KernelSession(
        key=conn.key,
        signature_scheme=conn.signature_scheme,
        username="kernel",
        session=session_id,
        verifier=verifier,
    )
    shell_app = KernelShellApp.from_arguments(shell_args or [])
    kernel = Kernel(session, sockets, context, iopub, shell_app, conn.ports)
    kernel.connection_file = os.path.abspath(connection_file)
    shell_app.start_shell(kernel.shell)
    try:
        kernel.run(held)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        children.terminate_children()
        kernel.close()
        gate.release()
        iopub.close()
        connection.close(context, sockets)
    return 0
