"""Register the kernelspec: ``pyo3-kernel install`` / ``python -m pyo3_kernel install``."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import sysconfig
import tempfile
from importlib import resources
from pathlib import Path

import zmq

from . import DISPLAY_NAME, KERNEL_NAME

LOGOS = ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg")


def host_path() -> str:
    """The absolute path of the ``pyo3-kernel`` host binary of this environment."""
    try:
        import rust_bridge  # present when we run inside the host itself

        return rust_bridge.host_executable()
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


def write_spec(
    directory: Path, display_name: str, env: dict[str, str], interrupt_mode: str = "signal"
) -> None:
    """Write kernel.json (host path filled in) and the logos into ``directory``."""
    template = resources.files("pyo3_kernel") / "kernelspec"
    spec = json.loads((template / "kernel.json").read_text())
    spec["argv"] = [host_path() if arg == "{host}" else arg for arg in spec["argv"]]
    spec["display_name"] = display_name
    spec["interrupt_mode"] = interrupt_mode
    spec["env"] = env
    if zmq.has("curve"):
        # Kernel managers provision CurveZMQ keys only for kernels that say they can.
        spec.setdefault("metadata", {})["supported_encryption"] = ["curve"]
    (directory / "kernel.json").write_text(json.dumps(spec, indent=2) + "\n")
    for logo in LOGOS:
        (directory / logo).write_bytes((template / logo).read_bytes())


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

    from jupyter_client.kernelspec import KernelSpecManager

    prefix = sys.prefix if args.sys_prefix else args.prefix
    with tempfile.TemporaryDirectory() as tmp:
        write_spec(Path(tmp), args.display_name, parse_env(args.env), args.interrupt_mode)
        dest = KernelSpecManager().install_kernel_spec(
            tmp, args.name, user=args.user, prefix=prefix
        )
    print(f"Installed kernelspec {args.name} in {dest}")
    return 0
