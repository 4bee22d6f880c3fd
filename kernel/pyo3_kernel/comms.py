"""Comms (the channel ipywidgets rides on), on the ``comm`` package like ipykernel.

``comm.create_comm`` and ``comm.get_comm_manager`` are pointed at a comm class that
publishes on this kernel's IOPub and at one manager for the process; the kernel
routes ``comm_open`` / ``comm_msg`` / ``comm_close`` requests to that manager.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import comm
from comm.base_comm import BaseComm, CommManager
from ipykernel.jsonutil import json_clean

if TYPE_CHECKING:
    from .kernel import Kernel


def _request_id(data: Any) -> str | None:
    """The id a widget protocol puts in a request's content (to match its reply)."""
    if isinstance(data, dict):
        content = data.get("content")
        if isinstance(content, dict):
            request = content.get("id")
            if isinstance(request, str):
                return request
    return None


class KernelComm(BaseComm):
    """A comm whose messages go out on the kernel's IOPub, attributed to the request
    being handled (the cell that created it, or the comm message it answers).

    With subshells, the frontend's answer to a request (a message whose content has
    an ``id``) goes to the shell that sent the request (the main shell or a
    subshell), whatever subshell the frontend addresses, as in ipykernel: a cell
    waiting for a widget's reply gets it on its own thread. Any other message goes to
    the subshell the frontend names, so widgets answer while the main shell is busy."""

    kernel: Kernel | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._route_lock = threading.Lock()
        self._reply_to_request: dict[str, str | None] = {}  # request id -> subshell id
        super().__init__(*args, **kwargs)

    def reply_route(self, data: Any, default: str | None) -> str | None:
        """The subshell (None: main) a message carrying ``data`` should go to."""
        request = _request_id(data)
        with self._route_lock:
            if request is not None and request in self._reply_to_request:
                return self._reply_to_request.pop(request)
        return default

    def publish_msg(
        self,
        msg_type: str,
        data: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        buffers: list[Any] | None = None,
        **keys: Any,
    ) -> None:
        kernel = KernelComm.kernel
        if kernel is None:
            return  # no kernel in this process: comms are inert, as in plain IPython
        content = json_clean(dict(data=data or {}, comm_id=self.comm_id, **keys))
        parent = kernel.shell.get_parent()
        header = parent.get("header") if isinstance(parent, dict) else None
        request = _request_id(data)
        if request is not None and isinstance(header, dict):
            with self._route_lock:
                self._reply_to_request[request] = header.get("subshell_id")
        kernel.iopub.send(
            msg_type,
            content,
            parent,
            metadata=json_clean(metadata or {}),
            buffers=buffers,
            topic=self.topic,
        )


_manager = CommManager()


def install(kernel: Kernel) -> CommManager:
    """Make ``comm.create_comm`` / ``comm.get_comm_manager`` use this kernel."""
    KernelComm.kernel = kernel
    comm.create_comm = lambda *args, **kwargs: KernelComm(*args, **kwargs)
    comm.get_comm_manager = lambda: _manager
    return _manager


def reply_route(manager: CommManager, content: dict[str, Any], default: str | None) -> str | None:
    """Which shell (subshell id, None: main) a comm message from the frontend goes to."""
    comm = manager.comms.get(content.get("comm_id"))  # type: ignore[arg-type]
    if isinstance(comm, KernelComm):
        return comm.reply_route(content.get("data"), default)
    return default


def comm_info(manager: CommManager, target_name: str | None) -> dict[str, Any]:
    """The open comms, optionally only those of ``target_name``."""
    return {
        "status": "ok",
        "comms": {
            comm_id: {"target_name": c.target_name}
            for comm_id, c in manager.comms.items()
            if target_name is None or c.target_name == target_name
        },
    }
