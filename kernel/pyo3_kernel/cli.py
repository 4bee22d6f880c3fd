"""The ``pyo3-kernel`` command line: run a kernel, or install its kernelspec."""

from __future__ import annotations

import argparse
import sys

from . import __version__


def main(argv: list[str]) -> int:
    """Entry point called by the Rust host with its arguments (without the program name)."""
    if argv[:1] == ["install"]:
        from .install import main as install_main

        return install_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="pyo3-kernel",
        description="A Jupyter kernel for Python whose interpreter is embedded in Rust (PyO3).",
        epilog="Subcommands: 'pyo3-kernel install --help' registers the kernelspec.",
    )
    parser.add_argument(
        "-f",
        "--connection-file",
        dest="connection_file",
        help="connection file written by Jupyter (default: make a new one)",
    )
    parser.add_argument("--version", action="version", version=f"pyo3-kernel {__version__}")
    # Everything else is IPython's (--profile-dir, --matplotlib, --Class.trait=value):
    # read by shellapp.KernelShellApp, as ipykernel reads it.
    args, shell_args = parser.parse_known_args(argv)

    from .app import serve
    from .connection import ConnectionFileError

    try:
        return serve(args.connection_file, shell_args)
    except ConnectionFileError as err:
        print(f"pyo3-kernel: {err}", file=sys.__stderr__)
        return 2
