"""Kernels under test: which kernelspecs, how to start, talk to, measure and stop them.

Every kernel is driven by the same client code: a jupyter_client ``KernelManager``
launches it and a ``BlockingKernelClient`` talks to it, read through ``Channels``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

import psutil
import zmq
from exchange import Channels, Exchange, KernelDied, NoReply, until_done, until_replied
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from settings import Settings

# Human names for the kernelspecs we compare; ipykernel is the baseline of every ratio.
LABELS = {"pyo3": "pyo3-kernel", "python3": "ipykernel", "xpython": "xeus-python"}
BASELINE = "python3"
XEUS_PACKAGE = "xeus-python"
# A client retries a refused connection every RECONNECT_IVL ms (zmq's default is 100 ms,
# which would round every startup time up to the next 100 ms).
RECONNECT_IVL_MS = 5


def label(name: str) -> str:
    return LABELS.get(name, name)


def installed_kernelspecs() -> set[str]:
    return set(KernelSpecManager().find_kernel_specs())


def xeus_kernelspec() -> str | None:
    """The kernelspec name xeus-python registered (``xpython``), if it is installed."""
    specs = KernelSpecManager().find_kernel_specs()
    if "xpython" in specs:
        return "xpython"
    for name in sorted(specs):
        argv = KernelSpecManager().get_kernel_spec(name).argv
        if any("xpython" in part for part in argv) and not name.endswith("-raw"):
            return name
    return None


def ensure_xeus_python() -> str:
    """Install xeus-python into this environment if needed; return its kernelspec name."""
    name = xeus_kernelspec()
    if name is None:
        print(f"installing {XEUS_PACKAGE} (bench-only dependency) ...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", XEUS_PACKAGE],
            check=True,
            timeout=600,
        )
        name = xeus_kernelspec()
    if name is None:
        raise RuntimeError(f"{XEUS_PACKAGE} is installed but registered no kernelspec")
    return name


class Kernel:
    """One running kernel process and a client on its channels.

    ``Kernel.start`` returns once the kernel answered kernel_info and its iopub is
    connected; ``startup_s`` is the time from launch to the first kernel_info_reply.
    ``Kernel.start_with_cell`` sends a cell the moment the process is launched instead.
    """

    def __init__(
        self,
        name: str,
        env: dict[str, str],
        log: IO[str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.name = name
        self.km = KernelManager(kernel_name=name)
        self.env = env
        self.log = log  # where the kernel's own stdout/stderr go (None: inherited)
        self.cwd = cwd  # the kernel's working directory (None: ours)
        self.kc: Any = None  # a BlockingKernelClient once launched
        self.channels: Channels | None = None
        self.launched_at = float("nan")  # perf_counter just before the process launch
        self.startup_s = float("nan")
        self.info: dict[str, Any] = {}

    @classmethod
    def start(
        cls,
        name: str,
        env: dict[str, str],
        timeout: float = 60,
        log: IO[str] | None = None,
        cwd: str | None = None,
    ) -> Kernel:
        kernel = cls(name, env, log, cwd)
        try:
            kernel._launch(timeout)
        except BaseException:
            kernel.stop()
            raise
        return kernel

    @classmethod
    def start_with_cell(
        cls,
        name: str,
        env: dict[str, str],
        code: str,
        timeout: float = 60,
        log: IO[str] | None = None,
    ) -> tuple[Kernel, Exchange]:
        """Launch, start the channels and send ``code`` at once, without waiting for
        kernel_info (zmq queues the request until the kernel listens); return once its
        execute_reply arrived. The exchange's iopub messages may be incomplete: the
        subscription can connect after the kernel has published them."""
        kernel = cls(name, env, log)
        try:
            kernel._launch_process()
            first = kernel.send_execute(code)
            kernel.pump(first, until_replied, timeout, f"execute_reply to {code!r} sent at launch")
        except BaseException:
            kernel.stop()
            raise
        return kernel, first

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _launch_process(self) -> None:
        """Launch the kernel process and connect a client to it (no waiting)."""
        self.launched_at = time.perf_counter()
        where = {"cwd": self.cwd} if self.cwd else {}
        self.km.start_kernel(env=self.env, stdout=self.log, stderr=self.log, **where)
        self.kc = self.km.client()
        self.kc.context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_IVL_MS)
        self.kc.start_channels()
        self.channels = Channels(self.km, self.kc)

    def _launch(self, timeout: float) -> None:
        self._launch_process()
        first = self._request(self.kc.kernel_info())
        self.pump(first, until_replied, timeout, "first kernel_info_reply")
        assert first.reply_at is not None
        self.startup_s = first.reply_at - self.launched_at
        self.info = first.reply_content
        self._wait_for_iopub(timeout)

    def _wait_for_iopub(self, timeout: float) -> None:
        """Repeat kernel_info until its iopub ``idle`` arrives: the subscription is live."""
        deadline = time.monotonic() + timeout
        while True:
            exchange = self._request(self.kc.kernel_info())
            try:
                self.pump(exchange, until_done, 1.0, "kernel_info idle on iopub")
                return
            except NoReply:
                if time.monotonic() > deadline:
                    raise

    # --- requests --------------------------------------------------------------------
    def _request(self, msg_id: str) -> Exchange:
        return Exchange(msg_id=msg_id, sent_at=time.perf_counter())

    def pump(
        self, exchange: Exchange, until: Callable[[Exchange], bool], timeout: float, what: str
    ) -> None:
        assert self.channels is not None
        self.channels.pump(exchange, until, timeout, what)

    def send_execute(self, code: str, allow_stdin: bool = False) -> Exchange:
        sent_at = time.perf_counter()
        msg_id = self.kc.execute(code, allow_stdin=allow_stdin, stop_on_error=False)
        return Exchange(msg_id=msg_id, sent_at=sent_at)

    def execute(self, code: str, timeout: float = 30) -> Exchange:
        """Run ``code`` and wait for both its execute_reply and its iopub ``idle``."""
        exchange = self.send_execute(code)
        self.pump(exchange, until_done, timeout, f"reply and idle for {code[:40]!r}")
        return exchange

    def complete(self, code: str, timeout: float = 30, cursor: int | None = None) -> Exchange:
        """complete_request with the cursor at ``cursor`` (None: the end of ``code``)."""
        sent_at = time.perf_counter()
        msg_id = self.kc.complete(code, len(code) if cursor is None else cursor)
        exchange = Exchange(msg_id=msg_id, sent_at=sent_at)
        self.pump(exchange, until_replied, timeout, "complete_reply")
        return exchange

    def inspect(self, code: str, timeout: float = 30, detail_level: int = 0) -> Exchange:
        """inspect_request (Shift-Tab) with the cursor at the end of ``code``."""
        sent_at = time.perf_counter()
        msg_id = self.kc.inspect(code, len(code), detail_level)
        exchange = Exchange(msg_id=msg_id, sent_at=sent_at)
        self.pump(exchange, until_replied, timeout, "inspect_reply")
        return exchange

    def responsive(self, timeout: float = 10) -> bool:
        """Does the kernel still run a trivial cell correctly?"""
        try:
            exchange = self.execute("1+1", timeout)
        except (NoReply, KernelDied):
            return False
        results = exchange.of_type("execute_result")
        return bool(results) and results[0]["content"]["data"].get("text/plain") == "2"

    # --- process -----------------------------------------------------------------------
    def is_alive(self) -> bool:
        return bool(self.km.has_kernel and self.km.is_alive())

    def rss_bytes(self) -> int:
        """Resident memory of the kernel process and all its children."""
        pid = self.km.provisioner.pid if self.km.provisioner else None
        if pid is None:
            raise KernelDied("no kernel process")
        root = psutil.Process(pid)
        total = 0
        for proc in [root, *root.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        """Stop the channels and kill the process (no graceful shutdown: nothing to wait on)."""
        if self.kc is not None:
            self.kc.stop_channels()
            self.kc = None
        if self.km.has_kernel:
            self.km.shutdown_kernel(now=True)


def bench_env(ipython_dir: str) -> dict[str, str]:
    """The environment every kernel gets: ours, with a private, empty IPython profile."""
    env = dict(os.environ)
    env["IPYTHONDIR"] = ipython_dir
    env.pop("MPLBACKEND", None)
    return env


@dataclass
class Target:
    """A kernelspec name with the settings and environment every start of it uses."""

    name: str
    settings: Settings
    env: dict[str, str]
    log: IO[str] | None = None  # the kernels' own stdout/stderr
    info: dict[str, Any] = field(default_factory=dict)  # the last kernel_info_reply seen

    def start(self, cwd: str | None = None) -> Kernel:
        kernel = Kernel.start(self.name, self.env, self.settings.start_timeout, self.log, cwd)
        self.info = kernel.info
        return kernel

    def start_with_cell(self, code: str) -> tuple[Kernel, Exchange]:
        """A fresh kernel with ``code`` sent the moment it was launched (see Kernel)."""
        s = self.settings
        return Kernel.start_with_cell(self.name, self.env, code, s.start_timeout, self.log)
