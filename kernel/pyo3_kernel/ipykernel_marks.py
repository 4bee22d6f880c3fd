"""The marks that code in the wild reads to tell it runs in a Jupyter kernel, as
ipykernel leaves them.

Notebooks and libraries do not ask the kernel what it is; they look at what ipykernel
happens to leave behind, and take another branch when it is missing:

- ``"ipykernel_launcher" in sys.argv[0]``: scripts pasted into notebooks use it to skip
  their ``argparse`` (ipykernel's argv is ``[.../ipykernel_launcher.py, -f, FILE]``);
- ``isinstance(sys.stdout, ipykernel.iostream.OutStream)``: libraries use it to decide
  that output goes to a notebook (links, colours, progress bars);
- a cell's code file in a folder named ``ipykernel_<pid>`` (``pyo3_kernel.cells``):
  JupyterLab's debugger names a stopped frame by its cell ("Cell [1]:2") only for such
  paths, Hugging Face ``datasets`` leaves them out of its cache fingerprints, numba's
  ``cache=True`` caches such cells, linters and test tools skip them.

Each mark is what the code reading it expects to find: the kernel is one for Jupyter,
its output streams publish to the notebook, its cells are not files of the user's.
``sys.orig_argv`` keeps the command line the process really got.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

LAUNCHER = "ipykernel_launcher.py"


def launcher_path(ipykernel: ModuleType) -> str | None:
    """ipykernel's launcher module beside the ``ipykernel`` package (where pip puts it),
    or None when it is not there."""
    package_file = getattr(ipykernel, "__file__", None)
    if not package_file:
        return None
    path = os.path.join(os.path.dirname(os.path.dirname(package_file)), LAUNCHER)
    return path if os.path.isfile(path) else None


def mark_argv() -> None:
    """``sys.argv[0]`` names ipykernel's launcher, as in a kernel ipykernel started; the
    rest of argv (``-f FILE`` and IPython's options) stays as the kernelspec gave it."""
    import ipykernel

    path = launcher_path(ipykernel)
    if path is not None and sys.argv:
        sys.argv[0] = path


def mark_stream_class(stream_class: type) -> None:
    """Makes ``isinstance(stream, ipykernel.iostream.OutStream)`` true for the kernel's
    streams: a virtual subclass (``io.TextIOBase`` is an ABC), so none of ipykernel's
    implementation is inherited or run."""
    from ipykernel.iostream import OutStream

    OutStream.register(stream_class)
