"""Check rust_bridge/rust_bridge.pyi against the engine with mypy's stubtest.

``rust_bridge`` exists only inside a host binary (a built-in module registered before
Python starts), so ``python -m mypy.stubtest rust_bridge`` cannot import it. This
starts the installed kernel (kernelspec ``pyo3``), runs stubtest in a cell there, on
the module as the kernel has it, and prints what stubtest says. The stub is found
through pyproject.toml's ``[tool.mypy]`` (its ``mypy_path``); what is legitimately
different at run time is in tools/stubtest_allowlist*.txt, with why.

Usage: python tools/stubtest_engine.py [--kernel NAME]
Exit status: 0 if the stub matches, 1 if stubtest reports errors, 2 if the kernel
could not run it. The kernel's environment needs mypy (make's TEST_DEPS).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "pyproject.toml"
ALLOWLIST = ROOT / "tools" / "stubtest_allowlist.txt"
# Only for a host built with the engine's test-hooks feature (never a release build).
TEST_HOOKS_ALLOWLIST = ROOT / "tools" / "stubtest_allowlist_test_hooks.txt"

# The cell: stubtest on the built-in module, its exit status left in a variable that
# the execute request's user_expressions read back.
CELL = """\
import sys

# The engine, not a directory named rust_bridge on sys.path (this repository's, say).
assert "rust_bridge" in sys.builtin_module_names, "this kernel has no built-in rust_bridge"
import rust_bridge
from mypy import stubtest

args = {args!r}
if hasattr(rust_bridge, "_panic"):  # built with the test-hooks feature
    args += ["--allowlist", {test_hooks_allowlist!r}]
try:
    stubtest_status = stubtest.test_stubs(stubtest.parse_options(args))
except SystemExit as stop:  # stubtest exits on a configuration error
    stubtest_status = stop.code
"""
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def cell() -> str:
    args = ["rust_bridge", "--mypy-config-file", str(CONFIG), "--allowlist", str(ALLOWLIST)]
    return CELL.format(args=args, test_hooks_allowlist=str(TEST_HOOKS_ALLOWLIST))


def show(msg: dict[str, Any]) -> None:
    """Print the cell's output as it arrives (stubtest's colours only on a terminal)."""
    if msg["msg_type"] == "stream":
        text = msg["content"]["text"]
        out = sys.stdout if msg["content"]["name"] == "stdout" else sys.stderr
    elif msg["msg_type"] == "error":
        text = "\n".join(msg["content"]["traceback"]) + "\n"
        out = sys.stderr
    else:
        return
    out.write(text if out.isatty() else ANSI.sub("", text))
    out.flush()


def run(kernel: str, timeout: float) -> int:
    try:
        km, kc = start_new_kernel(kernel_name=kernel, startup_timeout=60)
    except Exception as err:
        print(f"stubtest_engine: cannot start kernel {kernel!r}: {err}", file=sys.stderr)
        return 2
    try:
        reply = kc.execute_interactive(
            cell(),
            user_expressions={"status": "stubtest_status"},
            output_hook=show,
            timeout=timeout,
        )
    except TimeoutError:
        print(f"stubtest_engine: no reply from the kernel in {timeout}s", file=sys.stderr)
        return 2
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    content = reply["content"]
    status = content.get("user_expressions", {}).get("status", {})
    if content["status"] != "ok" or status.get("status") != "ok":
        print("stubtest_engine: the cell failed in the kernel (above)", file=sys.stderr)
        return 2
    return 0 if status["data"]["text/plain"] == "0" else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", default="pyo3", help="kernelspec to run in (default pyo3)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds for stubtest")
    args = parser.parse_args()
    return run(args.kernel, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
