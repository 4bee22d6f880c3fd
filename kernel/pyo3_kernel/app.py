"""Start a kernel process: read the connection file, bind, build the kernel, serve."""

from __future__ import annotations

import logging
import os
import sys

import zmq
from jupyter_client.session import Session
from jupyter_core.paths import jupyter_runtime_dir

from . import connection


def serve(connection_file: str | None, config_args: list[str] | None = None) -> int:
    """Run the kernel described by ``connection_file`` until it is shut down."""
    if connection_file is None:
        connection_file, conn = connection.new_connection_file(jupyter_runtime_dir())
        write_file = True
    else:
        conn = connection.load(connection_file)
        write_file = False
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.__stderr__,
        format="[pyo3-kernel] %(levelname)s %(message)s",
    )
    # Figures made in cells arrive as images at the end of the cell, as in ipykernel.
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")

    context = zmq.Context()
    sockets = connection.bind(context, conn)
    if write_file:
        connection.write(connection_file, conn)
        print(
            f"To connect a client: --existing {os.path.basename(connection_file)}",
            file=sys.__stderr__,
        )
    connection.start_heartbeat(sockets["hb"])
    session = Session(key=conn.key, signature_scheme=conn.signature_scheme, username="kernel")

    from . import config
    from .kernel import Kernel  # imports IPython: after the sockets are bound

    kernel = Kernel(session, sockets, context, config.load(config_args or []))
    try:
        kernel.run()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        connection.close(context, sockets)
    return 0
