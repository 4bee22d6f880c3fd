"""The completion corpus: what tests/test_fidelity_completion.py compares with ipykernel
and bench/ times (complete group). Run SETUP in the kernel first; the path cases expect a
working directory holding data/report.csv, data/report_old.csv, data/notes.txt and
data_extra.txt (`make_files`)."""

from __future__ import annotations

from pathlib import Path

SETUP = """
import os, sys, json, collections
from collections import OrderedDict
comp_dict = {'alpha': 1, 'beta': 2, 'gamma ray': 3, 42: 'answer'}
nested = {'outer': {'inner': 1}}
class Point:
    '''A point.'''
    dimensions = 2
    def __init__(self, x=0, y=0):
        self.x, self.y = x, y
    def norm(self, order=2):
        return (abs(self.x) ** order + abs(self.y) ** order) ** (1 / order)
    @property
    def as_tuple(self):
        return (self.x, self.y)
pt = Point(3, 4)
text = 'hello'
numbers = [3, 1, 2]
def compute(alpha_value=1, beta_value=2, *, gamma_value=3):
    return alpha_value + beta_value + gamma_value
café = 'crème'
δx = 0.5
"""

TYPE_TIMEOUT = "--IPCompleter.jedi_compute_type_timeout=60000"

# (case id, code, cursor position or None for the end)
CASES: list[tuple[str, str, int | None]] = [
    ("module-attr", "import os; os.pa", None),
    ("module-attr-nested", "os.path.jo", None),
    ("module-attr-all", "json.", None),
    ("module-attr-sys", "sys.ver", None),
    ("module-attr-class", "collections.Ord", None),
    ("object-attr", "pt.", None),
    ("object-attr-prefix", "pt.no", None),
    ("object-attr-property", "pt.as_", None),
    ("object-class-attr", "Point.dim", None),
    ("str-method", "text.up", None),
    ("list-method", "numbers.app", None),
    ("call-result-attr", "str(1).isd", None),
    ("dict-key-open", "comp_dict['", None),
    ("dict-key-prefix", "comp_dict['al", None),
    ("dict-key-double-quote", 'comp_dict["be', None),
    ("dict-key-with-space", "comp_dict['gam", None),
    ("dict-key-int", "comp_dict[4", None),
    ("dict-key-nested", "nested['outer']['in", None),
    ("path-dir", "open('data/", None),
    ("path-prefix", "open('data/rep", None),
    ("path-cwd", "open('dat", None),
    ("path-double-quote", 'open("data/not', None),
    ("import-module", "import colle", None),
    ("import-submodule", "import os.pa", None),
    ("from-import-module", "from collections import Ord", None),
    ("from-import-package", "from json import lo", None),
    ("import-as", "import json as j", None),
    ("kwarg", "compute(alpha", None),
    ("kwarg-second", "compute(1, beta", None),
    ("kwarg-keyword-only", "compute(gam", None),
    ("kwarg-builtin", "sorted(numbers, rev", None),
    ("global-name", "comp", None),
    ("builtin-name", "isinst", None),
    ("keyword", "whil", None),
    ("magic-line", "%ti", None),
    ("magic-cell", "%%tim", None),
    ("magic-bare", "ti", None),
    ("latex", "\\alpha", None),
    ("unicode-name", "caf", None),
    ("unicode-greek", "δ", None),
    ("unicode-attr", "café.up", None),
    ("multiline-last-line", "x = 1\nfor i in range(3):\n    os.pa", None),
    ("multiline-middle", "y = 2\nos.pa\nz = 3", len("y = 2\nos.pa")),
    ("cursor-mid-word", "os.path.joinxyz", len("os.path.jo")),
    ("syntax-error-cell", "def broken(:\n    pass\nos.pa", None),
    ("unclosed-string", "s = 'abc\nos.pa", None),
    ("empty", "", None),
    ("whitespace", "    ", None),
    ("number-attr", "(1).bit_l", None),
    ("after-call-paren", "compute(", None),
    ("shell-escape", "!ech", None),
]


def make_files(cwd: Path) -> None:
    """The files the path cases complete, in the kernel's working directory."""
    data = cwd / "data"
    data.mkdir(exist_ok=True)
    for file in ("report.csv", "report_old.csv", "notes.txt"):
        (data / file).write_text("x\n")
    (cwd / "data_extra.txt").write_text("x\n")
