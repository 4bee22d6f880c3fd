"""The notebook's variables as the debugger's Variables panel lists them (DAP
``variables``), while no cell is stopped at a breakpoint.

When a cell is stopped, debugpy lists the frame's variables itself; between cells the
kernel answers ``inspectVariables`` (the namespace) and ``variables`` (a value's
children, when the user expands it) from here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Names a notebook's namespace holds for IPython, not for the user (ipykernel hides the
# same ones).
HIDDEN = frozenset(
    {
        "__name__",
        "__doc__",
        "__package__",
        "__loader__",
        "__spec__",
        "__annotations__",
        "__builtins__",
        "__builtin__",
        "__display__",
        "get_ipython",
        "debugpy",
        "exit",
        "quit",
        "In",
        "Out",
        "_oh",
        "_dh",
        "_",
        "__",
        "___",
    }
)
_OUTPUT_HISTORY = re.compile(r"^_\d")
# A value's text is cut here (a 10 MB string would make a 10 MB reply).
MAX_VALUE = 1000
# How many children of a container are listed.
MAX_CHILDREN = 300


def shown(name: str) -> bool:
    """Whether a namespace entry is the user's (not IPython's input/output history)."""
    return name not in HIDDEN and not _OUTPUT_HISTORY.match(name) and not name.startswith("_i")


def _text(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as err:  # a broken __repr__ must not break the panel
        text = f"<repr failed: {type(err).__name__}: {err}>"
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 3] + "..."


def _children(value: Any) -> list[tuple[str, str, Any]]:
    """(name, evaluate-name suffix, child) for what a value holds."""
    if isinstance(value, Mapping):
        items = list(value.items())[:MAX_CHILDREN]
        return [(_text(key), f"[{key!r}]", child) for key, child in items]
    if isinstance(value, (list, tuple)):
        return [(str(i), f"[{i}]", child) for i, child in enumerate(value[:MAX_CHILDREN])]
    if isinstance(value, (set, frozenset)):
        return [(str(i), "", child) for i, child in enumerate(list(value)[:MAX_CHILDREN])]
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict):
        items = list(attributes.items())[:MAX_CHILDREN]
        return [(name, f".{name}", child) for name, child in items]
    return []


def _has_children(value: Any) -> bool:
    if isinstance(value, (str, bytes, bytearray, int, float, complex, bool, type(None))):
        return False
    if isinstance(value, (Mapping, list, tuple, set, frozenset)):
        return len(value) > 0
    attributes = getattr(value, "__dict__", None)
    return isinstance(attributes, dict) and bool(attributes)


class VariableTable:
    """DAP variables for a namespace; a value with children gets a reference the
    frontend sends back to expand it (valid until the next ``inspect``)."""

    def __init__(self) -> None:
        self._by_reference: dict[int, tuple[Any, str]] = {}

    def inspect(self, namespace: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The user's variables in ``namespace`` (references start afresh)."""
        self._by_reference.clear()
        return [
            self._variable(name, name, value)
            for name, value in list(namespace.items())
            if shown(name)
        ]

    def children(self, reference: int) -> list[dict[str, Any]]:
        """The children of the value ``reference`` names (none if it is unknown)."""
        entry = self._by_reference.get(reference)
        if entry is None:
            return []
        value, path = entry
        return [
            self._variable(name, path + suffix if suffix else "", child)
            for name, suffix, child in _children(value)
        ]

    def _variable(self, name: str, evaluate_name: str, value: Any) -> dict[str, Any]:
        reference = 0
        if _has_children(value):
            reference = len(self._by_reference) + 1
            self._by_reference[reference] = (value, evaluate_name)
        return {
            "name": name,
            "value": _text(value),
            "type": type(value).__name__,
            "evaluateName": evaluate_name,
            "variablesReference": reference,
        }
