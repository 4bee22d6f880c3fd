"""pyo3-kernel: a Jupyter kernel for Python whose interpreter is embedded in Rust (PyO3).

The Jupyter side lives here; every cell is executed by the ``rust_bridge`` module that
the host binary builds into its interpreter.
"""

__version__ = "0.1.0"
KERNEL_NAME = "pyo3"
DISPLAY_NAME = "Python 3 (PyO3)"
