"""``python -m pyo3_kernel install ...``: the same installer as ``pyo3-kernel install``."""

import sys

from .install import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["install"]:
        args = args[1:]
    sys.exit(main(args))
