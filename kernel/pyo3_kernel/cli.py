"""The ``pyo3-kernel`` command line: run a kernel, or install its kernelspec."""

from __future__ import annotations

import sys

from . import __version__


def main(argv: list[str]) -> int:
    """Entry point called by the Rust host with its arguments (without the program name)."""
    if argv[:1] == ["install"]:
        from .install import main as install_main

        return install_main(argv[1:])
    if argv[:1] == ["launch"]:
        from .gateway_launch import main as launch_main

        return launch_main(argv[1:])
    fast = _kernelspec_arguments(argv)
    if fast is not None:
        return _serve(*fast)
    import argparse

    parser = argparse.ArgumentParser(
        prog="pyo3-kernel",
        description="A Jupyter kernel for Python whose interpreter is embedded in Rust (PyO3).",
        epilog=(
            "Subcommands: 'pyo3-kernel install --help' registers the kernelspec; "
            "'pyo3-kernel launch --help' is the launcher Jupyter's gateways start."
        ),
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
    return _serve(args.connection_file, shell_args)


# What argparse would read as one of our options (its abbreviations included).
_OUR_OPTIONS = ("-f", "-h", "--c", "--h", "--v")


def _kernelspec_arguments(argv: list[str]) -> tuple[str, list[str]] | None:
    """``-f FILE [IPython options]``, as every kernelspec launches the kernel: read
    without argparse (a few ms of every start); None when anything else is there."""
    if len(argv) < 2 or argv[0] != "-f" or argv[1].startswith("-"):
        return None
    rest = argv[2:]
    if any(arg.startswith(_OUR_OPTIONS) for arg in rest):
        return None
    return argv[1], rest


def _serve(connection_file: str | None, shell_args: list[str]) -> int:
    from .app import serve
    from .connection import ConnectionFileError

    try:
        return serve(connection_file, shell_args)
    except ConnectionFileError as err:
        print(f"pyo3-kernel: {err}", file=sys.__stderr__)
        return 2
