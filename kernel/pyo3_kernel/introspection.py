"""Answers to the requests that look at code without running it: completion,
inspection, is_complete and history. Each takes the shell and the request content
and returns the reply content."""

from __future__ import annotations

from typing import Any

from IPython.core.completer import provisionalcompleter, rectify_completions
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.tokenutil import token_at_cursor

Content = dict[str, Any]


def complete(shell: InteractiveShell, content: Content) -> Content:
    """IPython's (jedi) completions, with their types in the metadata as ipykernel does."""
    code = content["code"]
    cursor_pos = content.get("cursor_pos")
    if cursor_pos is None:
        cursor_pos = len(code)
    with provisionalcompleter():
        completions = list(rectify_completions(code, shell.Completer.completions(code, cursor_pos)))
    details = [
        {"start": c.start, "end": c.end, "text": c.text, "type": c.type, "signature": c.signature}
        for c in completions
    ]
    return {
        "status": "ok",
        "matches": [c.text for c in completions],
        "cursor_start": completions[0].start if completions else cursor_pos,
        "cursor_end": completions[0].end if completions else cursor_pos,
        "metadata": {"_jupyter_types_experimental": details},
    }


def inspect(shell: InteractiveShell, content: Content) -> Content:
    """``object_inspect_mime`` for the name at the cursor (detail level 0 or 1)."""
    code = content["code"]
    name = token_at_cursor(code, content.get("cursor_pos", len(code)))
    reply: Content = {"status": "ok", "data": {}, "metadata": {}, "found": False}
    try:
        bundle = shell.object_inspect_mime(
            name,
            detail_level=content.get("detail_level", 0),
            omit_sections=content.get("omit_sections", ()),
        )
    except KeyError:
        return reply
    if not shell.enable_html_pager:
        bundle.pop("text/html", None)
    reply.update(data=bundle, found=True)
    return reply


def is_complete(shell: InteractiveShell, content: Content) -> Content:
    status, indent = shell.input_transformer_manager.check_complete(content["code"])
    reply: Content = {"status": status}
    if status == "incomplete":
        reply["indent"] = " " * (indent or 0)
    return reply


def history(shell: InteractiveShell, content: Content) -> Content:
    manager = shell.history_manager
    assert manager is not None  # made with the shell; only IPython's exit clears it
    kind = content.get("hist_access_type")
    raw = content.get("raw", True)
    output = content.get("output", False)
    if kind == "tail":
        hist = manager.get_tail(content.get("n", 10), raw=raw, output=output, include_latest=True)
    elif kind == "range":
        hist = manager.get_range(
            content.get("session", 0),
            content.get("start", 0),
            content.get("stop"),
            raw=raw,
            output=output,
        )
    elif kind == "search":
        hist = manager.search(
            content.get("pattern", "*"),
            raw=raw,
            output=output,
            n=content.get("n"),
            unique=content.get("unique", False),
        )
    else:
        hist = []
    return {"status": "ok", "history": list(hist)}
