"""JupyterLab's visual debugger: ``debug_request`` on control, ``debug_event`` on IOPub.

As in ipykernel, debugpy runs inside the kernel process: the first ``initialize``
starts it (``debugpy.listen``, on the main thread, where cells run and where pydevd
must trace), and from then on the control thread talks to debugpy's adapter over TCP
(dap.py). Most requests are passed to debugpy as they are; the Jupyter additions
(``dumpCell``, ``debugInfo``, ``inspectVariables``, ``richInspectVariables``,
``copyToGlobals``, ``modules``) and the requests that must work while no cell is
stopped are answered here. Cells are compiled under the file names ``dumpCell``
writes (cells.py), so a breakpoint set in a cell's gutter is hit there and in the
functions the cell defines.

The control thread keeps serving while the main thread is stopped at a breakpoint:
that is how ``variables`` and ``continue`` arrive. An interrupt is never raised inside
debugpy's code (a trace function that raises makes Python stop tracing the thread, and
every later breakpoint is missed: ipykernel's jupyterlab#15012): one that lands there,
a cell stopped at a breakpoint, has debugpy resume the thread and is delivered again,
so ``KeyboardInterrupt`` ends the cell in the cell's own code (interrupts.py) and the
breakpoints keep working. (What is left of a cell that finishes within a millisecond of
resuming just finishes.)
"""

from __future__ import annotations

import ast
import atexit
import logging
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from typing import Any

import zmq

from . import dap
from .cells import CELL_DIR, HASH_SEED, cell_filename
from .variables import VariableTable, shown

log = logging.getLogger("pyo3_kernel")

Message = dict[str, Any]
# How long debugpy may take to answer one request (it answers at once unless broken).
REQUEST_TIMEOUT = 30.0
# Starting debugpy launches its adapter process, which must connect back.
LISTEN_TIMEOUT = 60.0


def _listen(host: str, port: int, traced: Callable[[str], None]) -> None:
    """Start debugpy in this process, its adapter listening on ``host:port`` (runs on
    the main thread); then ``traced(debugpy's directory)``."""
    # pydevd warns, on the cell's stderr, that frozen standard-library modules can
    # miss breakpoints: true and harmless (a notebook's breakpoints are in cells).
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    # On Python 3.12+ pydevd traces through sys.monitoring by default, and in this
    # kernel that mode misses breakpoints in cells (ipykernel's do hit: a difference
    # not yet understood); its sys.settrace mode hits them, as on 3.10 and 3.11.
    os.environ.setdefault("PYDEVD_USE_SYS_MONITORING", "0")
    import debugpy

    debugpy.listen((host, port))
    traced(os.path.dirname(debugpy.__file__))


class Debugger:
    """Answers debug requests (on the control thread)."""

    def __init__(
        self,
        context: zmq.SyncContext,
        publish: Callable[[Message], None],
        run_on_main: Callable[[Callable[[], Any]], Any],
        namespace: Callable[[], Mapping[str, Any]],
        rich_value: Callable[[str], dict[str, Any]],
        set_keep_leading_lines: Callable[[bool], None],
        kernel_paths: list[str],
        traced: Callable[[str], None] = lambda directory: None,
    ) -> None:
        self._context = context
        self._publish = publish
        self._run_on_main = run_on_main
        self._namespace = namespace
        self._rich_value = rich_value
        self._set_keep_leading_lines = set_keep_leading_lines
        self._kernel_paths = kernel_paths
        self._traced = traced  # (main thread) told debugpy's directory once it runs
        self.link: dap.AdapterLink | None = None
        self._listening = False
        self.started = False
        self._attached = False
        self.breakpoints: dict[str, list[dict[str, Any]]] = {}
        self.stopped_threads: set[int] = set()
        self._variables = VariableTable()
        self._handlers: dict[str, Callable[[Message], Message]] = {
            "debugInfo": self.debug_info,
            "inspectVariables": self.inspect_variables,
            "richInspectVariables": self.rich_inspect_variables,
            "copyToGlobals": self.copy_to_globals,
            "modules": self.modules,
        }
        self._started_handlers: dict[str, Callable[[Message], Message]] = {
            "dumpCell": self.dump_cell,
            "setBreakpoints": self.set_breakpoints,
            "source": self.source,
            "variables": self.variables,
            "attach": self.attach,
            "configurationDone": self.configuration_done,
        }

    # --- the control thread's entry points -------------------------------------------
    @property
    def socket(self) -> zmq.SyncSocket | None:
        """The socket to poll for debugpy's events (None until started)."""
        return self.link.socket if self.link is not None and self.link.connected else None

    def handle(self, request: Message) -> Message:
        """The ``debug_reply`` content for a ``debug_request``'s content."""
        if not isinstance(request, dict) or not isinstance(request.get("command"), str):
            return {}
        command = request["command"]
        try:
            if command == "initialize" and not self.started:
                if not self._start():
                    return dap.failure(request, "debugpy could not be started")
            handler = self._handlers.get(command)
            if handler is not None:
                reply = handler(request)
            elif not self.started:
                reply = dap.failure(request, "the debugger is not started (send initialize)")
            else:
                handler = self._started_handlers.get(command, self._forward)
                reply = handler(request)
            if command == "disconnect":
                self._stop()
            return reply
        except Exception as err:  # a malformed request, debugpy gone: said, not fatal
            log.warning("debugger: %s failed: %r", command, err)
            return dap.failure(request, f"{command} failed: {type(err).__name__}: {err}")
        finally:
            self.publish_events()

    def on_readable(self) -> None:
        """debugpy sent something while no request was waiting (a stopped thread)."""
        if self.link is not None:
            self.link.read()
            self.publish_events()

    def resume_stopped_threads(self) -> None:
        """Resume the threads debugpy holds stopped (an interrupt ended the cell one of
        them was stopped in: debugpy must hear it, or it skips that thread's
        breakpoints from then on). Frontends get the ``continued`` event."""
        if not self.stopped_threads or self.link is None or not self.link.connected:
            return
        thread_id = min(self.stopped_threads)
        self._forward(
            {
                "type": "request",
                "seq": 0,
                "command": "continue",
                "arguments": {"threadId": thread_id},
            }
        )
        self.stopped_threads.clear()
        self.publish_events()

    def close(self) -> None:
        if self.link is not None:
            self.link.close()

    # --- events --------------------------------------------------------------------
    def publish_events(self) -> None:
        link = self.link
        if link is None:
            return
        for event in link.take_events():
            self._on_event(event)

    def _on_event(self, event: Message) -> None:
        name, body = event.get("event"), event.get("body") or {}
        if name == "stopped":
            if body.get("allThreadsStopped"):
                self._note_stopped_threads(event)
            elif "threadId" in body:
                self.stopped_threads.add(body["threadId"])
        elif name == "continued":
            if body.get("allThreadsContinued"):
                self.stopped_threads.clear()
            else:
                self.stopped_threads.discard(body.get("threadId"))
        self._publish(event)

    def _note_stopped_threads(self, event: Message) -> None:
        assert self.link is not None
        threads = self.link.request(
            {"type": "request", "seq": event.get("seq", 0) + 1, "command": "threads"},
            REQUEST_TIMEOUT,
        )
        for thread in (threads.get("body") or {}).get("threads", []):
            if thread.get("name") != "IPythonHistorySavingThread":
                self.stopped_threads.add(thread["id"])

    # --- starting and stopping -----------------------------------------------------
    def _start(self) -> bool:
        if self.link is None:
            self.link = dap.AdapterLink(self._context)
        if not self._listening:
            os.makedirs(CELL_DIR, mode=0o700, exist_ok=True)
            # The cells dumped there are the kernel's to remove when it exits.
            atexit.register(shutil.rmtree, CELL_DIR, ignore_errors=True)
            link = self.link
            try:
                self._run_on_main(lambda: _listen(link.host, link.port, self._traced))
            except Exception as err:
                log.error("debugger: debugpy did not start: %s", err)
                return False
            self._listening = True
        # Breakpoints are set by line: the leading blank lines of a cell must stay.
        self._set_keep_leading_lines(True)
        self.link.connect()
        self.started = True
        return True

    def _stop(self) -> None:
        if self.link is not None:
            self.link.disconnect()
        self._set_keep_leading_lines(False)
        self.started = False
        self._attached = False
        self.breakpoints = {}
        self.stopped_threads = set()

    # --- requests answered here ----------------------------------------------------
    def _forward(self, request: Message) -> Message:
        assert self.link is not None
        return self.link.request(request, REQUEST_TIMEOUT)

    def attach(self, request: Message) -> Message:
        assert self.link is not None
        arguments = request.setdefault("arguments", {})
        arguments["connect"] = {"host": self.link.host, "port": self.link.port}
        arguments["logToFile"] = True
        # The kernel's own modules are not stepped into.
        arguments["rules"] = [{"path": path, "include": False} for path in self._kernel_paths]
        if self._attached:
            return self._forward(request)
        # debugpy answers the first attach after its configuration is done: it sends
        # "initialized", waits for configurationDone, then responds to the attach.
        link = self.link
        link.send(request)
        initialized = link.wait_for(lambda: link.event_named("initialized"), REQUEST_TIMEOUT)
        if initialized is None:
            return dap.failure(request, "debugpy did not initialize")
        self._publish(initialized)
        done = {
            "type": "request",
            "seq": initialized.get("seq", 0) + 1,
            "command": "configurationDone",
        }
        link.request(done, REQUEST_TIMEOUT)
        reply = link.wait_for(lambda: link.response_to(request), REQUEST_TIMEOUT)
        if reply is None:
            return dap.failure(request, "debugpy did not answer attach")
        self._attached = True
        return reply

    def configuration_done(self, request: Message) -> Message:
        # Sent to debugpy during attach already; a second one would be an error there.
        return dap.response(request)

    def dump_cell(self, request: Message) -> Message:
        code = (request.get("arguments") or {}).get("code")
        if not isinstance(code, str):
            return dap.failure(request, "dumpCell needs 'code' (a string)")
        path = cell_filename(code)
        with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(code)
        return dap.response(request, {"sourcePath": path})

    def set_breakpoints(self, request: Message) -> Message:
        arguments = request.get("arguments") or {}
        source = (arguments.get("source") or {}).get("path")
        reply = self._forward(request)
        if isinstance(source, str):
            # debugpy may move a breakpoint to another line: keep the lines it chose.
            if reply.get("success"):
                lines = (reply.get("body") or {}).get("breakpoints", [])
                self.breakpoints[source] = [{"line": b["line"]} for b in lines if "line" in b]
            else:
                self.breakpoints[source] = list(arguments.get("breakpoints") or [])
        return reply

    def source(self, request: Message) -> Message:
        path = ((request.get("arguments") or {}).get("source") or {}).get("path")
        if isinstance(path, str) and os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                return dap.response(request, {"content": f.read()})
        reply = dap.failure(request, "source unavailable")
        return reply

    def variables(self, request: Message) -> Message:
        if not self.stopped_threads:
            reference = (request.get("arguments") or {}).get("variablesReference", 0)
            return dap.response(request, {"variables": self._variables.children(reference)})
        reply = self._forward(request)
        body = reply.get("body")
        if isinstance(body, dict) and isinstance(body.get("variables"), list):
            body["variables"] = [v for v in body["variables"] if shown(v.get("name", ""))]
        return reply

    def debug_info(self, request: Message) -> Message:
        return dap.response(
            request,
            {
                "isStarted": self.started,
                "hashMethod": "Murmur2",
                "hashSeed": HASH_SEED,
                "tmpFilePrefix": CELL_DIR + os.sep,
                "tmpFileSuffix": ".py",
                "breakpoints": [
                    {"source": source, "breakpoints": lines}
                    for source, lines in self.breakpoints.items()
                ],
                "stoppedThreads": sorted(self.stopped_threads),
                "richRendering": True,
                "exceptionPaths": ["Python Exceptions"],
                "copyToGlobals": True,
            },
        )

    def inspect_variables(self, request: Message) -> Message:
        return dap.response(request, {"variables": self._variables.inspect(self._namespace())})

    def rich_inspect_variables(self, request: Message) -> Message:
        arguments = request.get("arguments") or {}
        name = arguments.get("variableName")
        if not isinstance(name, str) or not name.isidentifier():
            ok = name in ("special variables", "function variables")
            return dap.response(request, {"data": {}, "metadata": {}}, success=ok)
        data: dict[str, Any] = {}
        metadata: dict[str, Any] = {}
        if not self.stopped_threads:
            result = self._rich_value(name)
            if result.get("status") == "ok":
                data, metadata = result.get("data", {}), result.get("metadata", {})
        elif self.link is not None:
            # Stopped: the value lives in a frame, only debugpy can reach it.
            evaluated = self._forward(
                {
                    "type": "request",
                    "command": "evaluate",
                    "seq": request.get("seq", 0) + 1,
                    "arguments": {
                        "expression": f"get_ipython().display_formatter.format({name})",
                        "frameId": arguments.get("frameId"),
                        "context": "clipboard",
                    },
                }
            )
            if evaluated.get("success"):
                try:
                    data, metadata = ast.literal_eval(evaluated["body"]["result"])
                except (ValueError, SyntaxError, KeyError, TypeError):
                    log.warning("debugger: could not read a rich value of %r", name)
        body = {"data": data, "metadata": {k: v for k, v in metadata.items() if k in data}}
        return dap.response(request, body)

    def copy_to_globals(self, request: Message) -> Message:
        arguments = request.get("arguments") or {}
        source, target = arguments.get("srcVariableName"), arguments.get("dstVariableName")
        if not (isinstance(source, str) and source.isidentifier()) or not (
            isinstance(target, str) and target.isidentifier()
        ):
            return dap.failure(
                request, "dstVariableName and srcVariableName must be valid identifiers"
            )
        if not self.started:
            return dap.failure(request, "the debugger is not started (send initialize)")
        return self._forward(
            {
                "type": "request",
                "command": "setExpression",
                "seq": request.get("seq", 0) + 1,
                "arguments": {
                    "expression": f"globals()['{target}']",
                    "value": source,
                    "frameId": arguments.get("srcFrameId"),
                },
            }
        )

    def modules(self, request: Message) -> Message:
        arguments = request.get("arguments") or {}
        loaded = list(sys.modules.copy().values())
        start = int(arguments.get("startModule", 0) or 0)
        count = int(arguments.get("moduleCount", 0) or 0) or len(loaded)
        found = []
        for index, module in enumerate(loaded[start : start + count], start):
            origin = getattr(getattr(module, "__spec__", None), "origin", None)
            if isinstance(origin, str) and origin.endswith(".py"):
                found.append({"id": index, "name": module.__name__, "path": origin})
        return dap.response(request, {"modules": found, "totalModules": len(loaded)})
