"""Outputs an ipywidgets ``Output`` widget captures, so their echoes can be awaited.

In ``with out: ...`` the widget tells the frontend (a comm ``update`` setting its
``msg_id`` state to the request's id) to show that request's outputs inside the
widget; the frontend then sends the widget's new ``outputs`` back on the shell
channel, one comm message per captured output (nbclient does exactly that). A client
that sends those while it waits for the execute_reply on the same socket can miss
the reply: jupyter_client sends through a blocking copy of its asyncio socket, which
swallows the socket's wake-up (jupyter_client#1059, nbclient#312), and nbclient then
waits out its whole cell timeout for a reply that has arrived. ipykernel meets this
too, more rarely, because its reply comes later. So the kernel sends the reply of a
request whose outputs were captured once their echoes have come in (or have stopped
coming): the client then has nothing more to send for it while it waits.
"""

from __future__ import annotations

import threading
from typing import Any

# What a frontend's Output widget takes in (and echoes): clear_output only without wait.
CAPTURED = frozenset({"stream", "display_data", "execute_result", "error"})


class OutputCaptures:
    """Counts, per request, the outputs published while an Output widget captured them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._capturing: dict[str, str] = {}  # widget comm id -> captured request id
        self._counts: dict[str, int] = {}  # request id -> outputs captured

    def published(self, msg: dict[str, Any]) -> None:
        """Note a message as it goes out on IOPub."""
        msg_type, content = msg["msg_type"], msg["content"]
        if msg_type == "comm_msg":
            self._widget_update(content)
            return
        if not self._capturing:
            return
        if msg_type not in CAPTURED and not (
            msg_type == "clear_output" and not content.get("wait")
        ):
            return
        request = msg["parent_header"].get("msg_id")
        with self._lock:
            if request in self._capturing.values():
                self._counts[request] = self._counts.get(request, 0) + 1

    def _widget_update(self, content: dict[str, Any]) -> None:
        data = content.get("data")
        if not isinstance(data, dict) or data.get("method") != "update":
            return
        state = data.get("state")
        if not isinstance(state, dict) or "msg_id" not in state:
            return
        comm_id = str(content.get("comm_id"))
        with self._lock:
            if state["msg_id"]:
                self._capturing[comm_id] = str(state["msg_id"])
            else:
                self._capturing.pop(comm_id, None)

    def take(self, request: str) -> int:
        """How many outputs of ``request`` were captured (and forget them)."""
        with self._lock:
            return self._counts.pop(request, 0)
