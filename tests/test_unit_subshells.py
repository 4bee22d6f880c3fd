"""Unit tests (no kernel process) of the parts of ``pyo3_kernel.subshells`` that need
no kernel: the error for unknown subshell ids and the request queue of a subshell.

A subshell deleted while requests wait must keep its stop marker behind them
(``queued`` takes the waiting requests without losing the stop). Creating subshells
runs requests on the kernel and is exercised by the kernel tests.
"""

from __future__ import annotations

import pytest
from pyo3_kernel.subshells import Subshell, Subshells, UnknownSubshellError


def test_unknown_subshell_error_names_the_id():
    err = UnknownSubshellError("abc-123")
    assert isinstance(err, KeyError)
    assert err.subshell_id == "abc-123"
    assert str(err) == "Unknown subshell_id 'abc-123'"


def test_unknown_ids_are_refused():
    subshells = Subshells(kernel=None)  # type: ignore[arg-type]
    assert subshells.ids() == []
    with pytest.raises(UnknownSubshellError, match="nope"):
        subshells.get("nope")
    with pytest.raises(UnknownSubshellError, match="nope"):
        subshells.delete("nope")
    subshells.stop_all()  # nothing to stop


def test_queued_takes_the_waiting_requests_in_order():
    subshell = Subshell(kernel=None, subshell_id="s")  # type: ignore[arg-type]
    requests = [([b"id"], {"n": n}) for n in range(3)]
    for request in requests:
        subshell.requests.put(request)
    assert subshell.queued() == requests
    assert subshell.queued() == []
    assert subshell.name == "subshell-s" and subshell.daemon


def test_queued_keeps_the_stop_after_the_requests():
    subshell = Subshell(kernel=None, subshell_id="s")  # type: ignore[arg-type]
    subshell.requests.put(([b"id"], {"n": 1}))
    subshell.requests.put(([b"id"], {"n": 2}))
    subshell.stop()  # deleted while two requests wait
    assert subshell.queued() == [([b"id"], {"n": 1}), ([b"id"], {"n": 2})]
    assert subshell.requests.get_nowait() is None  # the stop is still there
    assert subshell.queued() == []
