"""Register the kernelspec: ``pyo3-kernel install`` / ``python -m pyo3_kernel install``."""

from __future__ import annotations

import argparse
import json
import os
import pkgutil
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

import zmq

from . import DISPLAY_NAME, KERNEL_NAME, info

LOGOS = ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg")


def host_path() -> str:
    """The absolute path of the ``pyo3-kernel`` host binary of this environment."""
    try:
        # Built into the host binary: present when we run in it (it has no stub).
        import pyo3_kernel_host  # type: ignore[import-not-found]

        executable: str = pyo3_kernel_host.executable()
        return executable
    except ImportError:
        pass
    candidate = Path(sysconfig.get_path("scripts")) / "pyo3-kernel"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("pyo3-kernel")
    if found:
        return os.path.abspath(found)
    raise SystemExit(
        "pyo3-kernel: cannot find the pyo3-kernel host binary in this environment; "
        "install the package first (pip install .)"
    )


def _template(name: str) -> bytes:
    """A file of the kernelspec template (in the package, installed or compiled into
    an application that embeds the kernel)."""
    data = pkgutil.get_data("pyo3_kernel", f"kernelspec/{name}")
    if data is None:
        raise FileNotFoundError(f"kernelspec template file {name!r} is missing")
    return data


def write_spec(
    directory: Path,
    display_name: str,
    env: dict[str, str],
    interrupt_mode: str = "signal",
    command: list[str] | None = None,
) -> None:
    """Write kernel.json and the logos into ``directory``. The kernel is launched as
    ``[*command, "-f", "{connection_file}"]`` (default: this environment's host)."""
    spec = json.loads(_template("kernel.json"))
    if command is None:
        command = [host_path()]
    argv: list[str] = []
    for arg in spec["argv"]:
        argv.extend(command if arg == "{host}" else [arg])
    spec["argv"] = argv
    spec["display_name"] = display_name
    spec["interrupt_mode"] = interrupt_mode
    spec["env"] = env
    # The bug icon in JupyterLab: only where debug requests work (debugpy importable).
    spec.setdefault("metadata", {})["debugger"] = info.debugger_available()
    if zmq.has("curve"):
        # Kernel managers provision CurveZMQ keys only for kernels that say they can.
        spec.setdefault("metadata", {})["supported_encryption"] = ["curve"]
    (directory / "kernel.json").write_text(json.dumps(spec, indent=2) + "\n")
    for logo in LOGOS:
        (directory / logo).write_bytes(_template(logo))


def install_kernelspec(
    name: str,
    display_name: str,
    *,
    command: list[str] | None = None,
    user: bool = False,
    prefix: str | None = None,
    env: dict[str, str] | None = None,
    interrupt_mode: str = "signal",
) -> str:
    """Write the kernelspec and install it with jupyter_client; returns where it went.
    The one writer of kernelspecs: ``pyo3-kernel install`` and applications that embed
    the kernel (their own ``command``) both come here."""
    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory() as tmp:
        write_spec(Path(tmp), display_name, env or {}, interrupt_mode, command)
        return str(KernelSpecManager().install_kernel_spec(tmp, name, user=user, prefix=prefix))


def parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"pyo3-kernel install: --env expects KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="pyo3-kernel install", description="Register the pyo3 kernelspec with Jupyter."
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install for the current user")
    where.add_argument(
        "--sys-prefix", action="store_true", help=f"install into this environment ({sys.prefix})"
    )
    where.add_argument("--prefix", help="install under PREFIX/share/jupyter/kernels")
    parser.add_argument("--name", default=KERNEL_NAME, help=f"kernel name (default {KERNEL_NAME})")
    parser.add_argument(
        "--display-name",
        default=DISPLAY_NAME,
        help=f"name shown in frontends (default {DISPLAY_NAME!r})",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment variable for the kernel (repeatable)",
    )
    parser.add_argument(
        "--interrupt-mode",
        choices=("signal", "message"),
        default="signal",
        help="how frontends interrupt the kernel (default signal)",
    )
    args = parser.parse_args(argv)

    dest = install_kernelspec(
        args.name,
        args.display_name,
        user=args.user,
        prefix=sys.prefix if args.sys_prefix else args.prefix,
        env=parse_env(args.env),
        interrupt_mode=args.interrupt_mode,
    )
    print(f"Installed kernelspec {args.name} in {dest}")
    return 0
