"""Showing a cell's value: IPython's display hook and formatters, with a fast path.

A cell ending in ``1 + 1`` or ``len(rows)`` shows a builtin value, and for those
IPython asks ten formatters in turn whether they have anything besides text
(~0.2 ms, more than running the cell). ``KernelDisplayFormatter`` answers for exact
builtin types directly when it can prove the full walk would produce only the plain
text: no formatter has a printer registered for the value's type (or for ``object``,
or for that very object) and builtin types have none of the ``_repr_*_`` methods.
Anything registered (sympy's LaTeX printers, a user's ``for_type``) takes the full
walk, as does every other type.
"""

from __future__ import annotations

import threading
from typing import Any

from ipykernel.displayhook import ZMQShellDisplayHook
from IPython.core.formatters import BaseFormatter, DisplayFormatter

# Builtin types whose instances carry no ``_repr_*_`` methods and no attributes of
# their own (so a method lookup on the type settles it).
PLAIN_TYPES = frozenset(
    {int, float, complex, bool, str, bytes, list, tuple, dict, set, frozenset, range}
)
PLAIN = "text/plain"


def _claims(formatter: BaseFormatter, obj: Any, mro: tuple[type, ...]) -> bool:
    """Whether ``formatter`` would produce something for ``obj`` (a PLAIN_TYPES
    instance): the same checks as ``BaseFormatter.__call__`` and ``lookup``."""
    if not formatter.enabled:
        return False
    # (traitlets types these Dict traits as keyed by str; IPython keys them by id, by
    # type and by (module, name).)
    if id(obj) in formatter.singleton_printers:  # type: ignore[comparison-overlap]
        return True
    printers, deferred = formatter.type_printers, formatter.deferred_printers
    for cls in mro:
        if cls in printers or (cls.__module__, cls.__name__) in deferred:  # type: ignore[comparison-overlap]
            return True
    return hasattr(mro[0], formatter.print_method)


class KernelDisplayFormatter(DisplayFormatter):
    """IPython's DisplayFormatter with the builtin-value fast path."""

    def format(
        self, obj: Any, include: Any = None, exclude: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if include is None and exclude is None and type(obj) in PLAIN_TYPES:
            formatted = self._plain_text_only(obj)
            if formatted is not None:
                return formatted
        # (IPython's methods are unannotated; a super() call cannot be excluded by name.)
        full: tuple[dict[str, Any], dict[str, Any]]
        full = super().format(obj, include, exclude)  # type: ignore[no-untyped-call]
        return full

    def _plain_text_only(self, obj: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """What ``format`` returns for ``obj`` when only the plain-text formatter has
        something to say; None when another one might."""
        formatters = self.formatters
        plain = formatters.get(PLAIN)
        if plain is None:
            return None
        mro = type(obj).__mro__
        if _claims(self.ipython_display_formatter, obj, mro):
            return None
        if _claims(self.mimebundle_formatter, obj, mro):
            return None
        for format_type, formatter in formatters.items():
            if format_type != PLAIN and _claims(formatter, obj, mro):
                return None
        data, metadata = plain(obj), None
        if isinstance(data, tuple) and len(data) == 2:
            data, metadata = data
        return (
            {} if data is None else {PLAIN: data},
            {} if metadata is None else {PLAIN: metadata},
        )


class KernelDisplayHook(ZMQShellDisplayHook):
    """ipykernel's display hook; the shell tells it whether the cell is quiet, and it
    tells whether it is showing a value now (a traceback shown meanwhile, from a
    failing formatter, fails the cell).

    IPython decides ``;``-silencing by tokenizing the cell again on every value; the
    shell has done that already for the values of its cell (and outside that cell
    IPython's own check applies)."""

    _decided = threading.local()  # per thread: subshells show values concurrently

    def __call__(self, result: Any = None) -> None:
        self._decided.displaying = True
        try:
            super().__call__(result)  # type: ignore[no-untyped-call]
        finally:
            self._decided.displaying = False

    @property
    def displaying(self) -> bool:
        return getattr(self._decided, "displaying", False)

    @property
    def quiet_decided(self) -> bool | None:
        return getattr(self._decided, "quiet", None)

    @quiet_decided.setter
    def quiet_decided(self, quiet: bool | None) -> None:
        self._decided.quiet = quiet

    def quiet(self) -> bool:
        decided = self.quiet_decided
        if decided is not None:
            return decided
        return bool(super().quiet())  # type: ignore[no-untyped-call]
