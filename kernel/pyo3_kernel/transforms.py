"""IPython's input transformations, without tokenizing cells that cannot need them.

Turning ``%magic``, ``!cmd``, ``obj?`` and ``x = %magic`` into Python is IPython's
token pass: it tokenizes the whole cell, on every cell, to look for those. Each of
its default transformers starts from a ``%``, ``!`` or ``?`` somewhere, or from
``,``, ``;`` or ``/`` opening a line (autocall escapes); a cell with none of these is
left exactly as it is, so the tokenizing is skipped. Every other transformation
(prompts, indentation, ``%%`` cell magics, single-line automagic, transformers a
user registers) runs as in IPython.
"""

from __future__ import annotations

import re

from IPython.core.inputtransformer2 import TransformerManager

# Where one of the default token transformers could start (a superset: these
# characters inside strings or comments also send the cell through the full pass).
_MAY_NEED_TOKEN_PASS = re.compile(r"[%!?]|^[ \t\f]*[,;/]", re.MULTILINE)
_DEFAULT_TOKEN_TRANSFORMERS = tuple(TransformerManager().token_transformers)


class KernelTransformerManager(TransformerManager):
    """``TransformerManager`` that skips the token pass when it has nothing to find."""

    def do_token_transforms(self, lines: list[str]) -> list[str]:
        if tuple(self.token_transformers) == _DEFAULT_TOKEN_TRANSFORMERS and not (
            _MAY_NEED_TOKEN_PASS.search("".join(lines))
        ):
            return lines
        # (IPython's method is unannotated; a super() call cannot be excluded by name.)
        transformed: list[str] = super().do_token_transforms(lines)  # type: ignore[no-untyped-call]
        return transformed
