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
from typing import Any

import zmq

from . import DISPLAY_NAME, KERNEL_NAME, info

LOGOS = ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg")
# What a gateway's remote provisioner substitutes in a launcher's argv (gateway_launch.py).
LAUNCH_ARGUMENTS = [
    "launch",
    "--kernel-id",
    "{kernel_id}",
    "--port-range",
    "{port_range}",
    "--response-address",
    "{response_address}",
    "--public-key",
    "{public_key}",
    "--transport-encryption",
    "{transport_encryption}",
]
SSH_PROVISIONER = "distributed-provisioner"  # gateway_provisioners' SSH hosts
# Enterprise Gateway 3's own form of the same (its process proxies predate provisioners).
SSH_PROCESS_PROXY = "enterprise_gateway.services.processproxies.distributed.DistributedProcessProxy"


def remote_launch(
    remote_hosts: list[str], kernel_ip: str | None = None, process_proxy: bool = False
) -> dict[str, Any]:
    """The argv tail and metadata of a kernelspec whose kernel a gateway starts over SSH
    on one of ``remote_hosts``, with ``pyo3-kernel launch`` at the same path there as
    here: for gateway_provisioners' DistributedProvisioner (any Jupyter server), or with
    ``process_proxy`` for Enterprise Gateway 3's DistributedProcessProxy."""
    arguments = list(LAUNCH_ARGUMENTS)
    if process_proxy:
        # Enterprise Gateway 3 substitutes no {transport_encryption}: leave it out.
        arguments = arguments[:-2]
    if kernel_ip:
        arguments += ["--ip", kernel_ip]
    if process_proxy:
        metadata = {
            "process_proxy": {
                "class_name": SSH_PROCESS_PROXY,
                "config": {"remote_hosts": ",".join(remote_hosts)},
            }
        }
    else:
        metadata = {
            "kernel_provisioner": {
                "provisioner_name": SSH_PROVISIONER,
                "config": {"remote_hosts": remote_hosts},
            }
        }
    return {"arguments": arguments, "metadata": metadata}


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
    remote: dict[str, Any] | None = None,
) -> None:
    """Write kernel.json and the logos into ``directory``. The kernel is launched as
    ``[*command, "-f", "{connection_file}"]`` (default: this environment's host), or
    by a gateway's provisioner as ``[*command, "launch", ...]`` (``remote_launch()``)."""
    spec = json.loads(_template("kernel.json"))
    if command is None:
        command = [host_path()]
    argv: list[str] = []
    for arg in spec["argv"]:
        argv.extend(command if arg == "{host}" else [arg])
    if remote is not None:
        argv = [*command, *remote["arguments"]]
        spec.setdefault("metadata", {}).update(remote["metadata"])
    spec["argv"] = argv
    spec["display_name"] = display_name
    spec["interrupt_mode"] = interrupt_mode
    spec["env"] = env
    # The bug icon in JupyterLab: only where debug requests work (debugpy importable).
    spec.setdefault("metadata", {})["debugger"] = info.debugger_available()
    # (Enterprise Gateway 3's process proxies pass no CurveZMQ keys.)
    if zmq.has("curve") and "process_proxy" not in spec.get("metadata", {}):
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
    remote: dict[str, Any] | None = None,
) -> str:
    """Write the kernelspec and install it with jupyter_client; returns where it went.
    The one writer of kernelspecs: ``pyo3-kernel install`` and applications that embed
    the kernel (their own ``command``) both come here."""
    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory() as tmp:
        write_spec(Path(tmp), display_name, env or {}, interrupt_mode, command, remote)
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
    parser.add_argument(
        "--remote-hosts",
        nargs="+",
        metavar="HOST",
        help=(
            "a kernelspec for Jupyter's gateways: the kernel is started over SSH on one of "
            "these hosts by gateway_provisioners' distributed-provisioner (needs "
            "pyo3-kernel[remote] there, at this path); default name pyo3_ssh"
        ),
    )
    parser.add_argument(
        "--kernel-ip",
        help="with --remote-hosts: the address the remote kernel binds (default 0.0.0.0)",
    )
    parser.add_argument(
        "--enterprise-gateway",
        action="store_true",
        help="with --remote-hosts: for Enterprise Gateway 3 (its process_proxy stanza)",
    )
    args = parser.parse_args(argv)
    remote = None
    if args.remote_hosts:
        remote = remote_launch(args.remote_hosts, args.kernel_ip, args.enterprise_gateway)
        if args.name == KERNEL_NAME:
            args.name = f"{KERNEL_NAME}_ssh"
        if args.display_name == DISPLAY_NAME:
            args.display_name = f"{DISPLAY_NAME[:-1]}, SSH)"
    elif args.kernel_ip or args.enterprise_gateway:
        parser.error("--kernel-ip and --enterprise-gateway go with --remote-hosts")

    dest = install_kernelspec(
        args.name,
        args.display_name,
        user=args.user,
        prefix=sys.prefix if args.sys_prefix else args.prefix,
        env=parse_env(args.env),
        interrupt_mode=args.interrupt_mode,
        remote=remote,
    )
    print(f"Installed kernelspec {args.name} in {dest}")
    return 0
