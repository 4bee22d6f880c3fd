"""What the kernel says about itself in ``kernel_info_reply`` (no heavy imports)."""

from __future__ import annotations

import importlib.util
import os
import sys
from functools import cache
from typing import Any

from . import __version__

# 5.4: iopub_welcome (pubsocket.py); 5.5: kernel subshells (subshells.py).
PROTOCOL_VERSION = "5.5"
# Like ipykernel, the kernel reports the implementation of the language it speaks:
# IPython (its shell, magics and display system), at IPython's version, which is what
# frontends and ipykernel's own message checks expect of an IPython kernel. The
# banner names pyo3-kernel and its version.
IMPLEMENTATION = "ipython"


@cache
def ipython_version() -> str:
    """IPython's installed version. Read from its ``ipython-X.Y.Z.dist-info`` folder on
    sys.path when there is one: the kernel_info reply is sent before the heavy imports,
    and importlib.metadata alone is ~10 ms of a kernel's start."""
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.startswith("ipython-") and name.endswith(".dist-info"):
                return name[len("ipython-") : -len(".dist-info")]
    from importlib import metadata

    try:
        return metadata.version("ipython")
    except metadata.PackageNotFoundError:
        return "0"


@cache
def banner() -> str:
    return (
        f"Python {sys.version.split()[0]} embedded in Rust (pyo3-kernel {__version__})\n"
        f"IPython {ipython_version()} -- An enhanced Interactive Python. Type '?' for help.\n"
    )


@cache
def debugger_available() -> bool:
    """Whether debugpy can be imported here: then the kernel has a debugger (and says
    so in kernel_info and in its kernelspec), as ipykernel does."""
    try:
        return importlib.util.find_spec("debugpy") is not None
    except (ImportError, ValueError):
        return False


def kernel_info(debugger: bool | None = None) -> dict[str, Any]:
    """The kernel_info_reply content; ``debugger``: whether debug requests work here
    (default: whether debugpy is importable)."""
    if debugger is None:
        debugger = debugger_available()
    features = ["kernel subshells", "debugger"] if debugger else ["kernel subshells"]
    return {
        "status": "ok",
        "protocol_version": PROTOCOL_VERSION,
        "implementation": IMPLEMENTATION,
        "implementation_version": ipython_version(),
        "language_info": {
            "name": "python",
            "version": sys.version.split()[0],  # platform.python_version(), unimported
            "mimetype": "text/x-python",
            "codemirror_mode": {"name": "ipython", "version": 3},
            "pygments_lexer": "ipython3",
            "nbconvert_exporter": "python",
            "file_extension": ".py",
        },
        "banner": banner(),
        "help_links": [
            {"text": "Python Reference", "url": "https://docs.python.org/3/"},
            {"text": "IPython Reference", "url": "https://ipython.readthedocs.io/"},
        ],
        "debugger": debugger,
        "supported_features": features,
    }
