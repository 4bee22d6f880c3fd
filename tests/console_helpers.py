"""Drive a real `jupyter console` in a pseudo-terminal with pexpect."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
from kernel_helpers import kernel_name

# prompt_toolkit colours every token: allow escape sequences between characters.
ESC = r"(?:\x1b\[[0-9;?]*[A-Za-z])*"


def prompt(kind: str, number: int) -> str:
    """Regex for `In [n]:` / `Out[n]:` as the console draws them."""
    return kind + r" ?\[" + ESC + str(number) + ESC + r"\]" + ESC + ":"


def spawn_console(log_path: Path) -> pexpect.spawn:
    """Start `jupyter console` on the kernel under test; its screen output goes to log_path.

    The console and its kernel get an IPython directory of their own (next to log_path):
    the console loads the last 1000 history entries at startup and gives up after 1 s, and
    a big shared history (~/.ipython) would make that reply late and garble the screen.
    """
    bin_dir = Path(sys.executable).parent
    ipython_dir = log_path.parent / "ipython"
    env = dict(os.environ, TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", IPYTHONDIR=str(ipython_dir))
    child = pexpect.spawn(
        str(bin_dir / "jupyter"),
        ["console", "--kernel", kernel_name()],
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 120),
        env=env,
    )
    child.logfile_read = _Tee(log_path.open("w"), _artifact(log_path).open("w"))
    return child


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "console"


def _artifact(log_path: Path) -> Path:
    """A copy of the screen under test-artifacts/console/, named after the test."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{log_path.parent.name}.log"


class _Tee:
    """Writes what the console shows to several files."""

    def __init__(self, *files) -> None:
        self.files = files

    def write(self, text: str) -> None:
        for f in self.files:
            f.write(text)

    def flush(self) -> None:
        for f in self.files:
            f.flush()
