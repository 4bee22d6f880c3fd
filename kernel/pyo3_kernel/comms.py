"""Comms (the channel ipywidgets rides on), on the ``comm`` package like ipykernel.

``comm.create_comm`` and ``comm.get_comm_manager`` are pointed at a comm class that
publishes on this kernel's IOPub and at one manager for the process; the kernel
routes ``comm_open`` / ``comm_msg`` / ``comm_close`` requests to that manager.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import comm
from comm.base_comm import BaseComm, CommManager
from ipykernel.jsonutil import json_clean

if TYPE_CHECKING:
    from .kernel import Kernel


class KernelComm(BaseComm):
    """A comm whose messages go out on the kernel's IOPub, attributed to the request
    being handled (the cell that created it, or the comm message it answers)."""

    kernel: Kernel | None = None

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
        kernel.iopub.send(
            msg_type,
            content,
            kernel.shell.get_parent(),
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
