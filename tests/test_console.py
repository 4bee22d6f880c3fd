"""`jupyter console` on the kernel under test, typed into a pseudo-terminal with pexpect.

Every check reads what the console drew on the screen (Ctrl-C during a sleep is in
test_console_interrupt.py). Each wait is bounded by the expect timeout.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pexpect
import pytest
from console_helpers import ESC, prompt, spawn_console
from kernel_helpers import strip_ansi

TIMEOUT = 30  # seconds for any one thing to appear on the screen
CONTINUATION = r"\.\.\." + ESC + ":"


@contextmanager
def console(tmp_path: Path) -> Iterator[pexpect.spawn]:
    """A console that has drawn its first prompt."""
    child = spawn_console(tmp_path / "console.log")
    child.timeout = TIMEOUT
    try:
        child.expect(prompt("In", 1))
        yield child
    finally:
        child.close(force=True)


def screen(tmp_path: Path) -> str:
    """All the console drew so far, escape sequences removed."""
    return strip_ansi((tmp_path / "console.log").read_text()).replace("\r", "")


def test_banner_shows_then_the_first_prompt(tmp_path):
    with console(tmp_path) as child:
        before_prompt = strip_ansi(child.before)
    assert re.search(r"Jupyter console \d+\.\d+", before_prompt), before_prompt
    assert "Python 3." in before_prompt
    assert "IPython" in before_prompt
    # The kernel complained about none of the console's first requests.
    for noise in ("invalid message", "Traceback"):
        assert noise not in before_prompt, before_prompt


def test_result_is_shown_with_an_out_prompt(tmp_path):
    with console(tmp_path) as child:
        child.sendline("6 * 7")
        child.expect(prompt("Out", 1) + " " + ESC + "42")
        child.expect(prompt("In", 2))
        child.sendline("'ab' * 3")
        child.expect(prompt("Out", 2) + " " + ESC + "'ababab'")
        child.expect(prompt("In", 3))
    assert "Out[2]: 'ababab'" in screen(tmp_path)


def test_for_loop_typed_line_by_line(tmp_path):
    """The console asks the kernel whether the input is complete: after the `for` line it
    is not, so a continuation prompt appears (indented); an empty line runs the loop."""
    with console(tmp_path) as child:
        child.sendline("for i in range(3):")
        child.expect(CONTINUATION)
        child.sendline("print('line', i * 10)")  # the console indents it
        child.expect(CONTINUATION)
        child.sendline("")
        for value in (0, 10, 20):
            child.expect(f"line {value}")
        child.expect(prompt("In", 2))
    text = screen(tmp_path)
    assert "...:     print('line', i * 10)" in text
    assert "line 0\nline 10\nline 20" in text


def test_tab_completes_a_module_name_and_an_attribute(tmp_path):
    with console(tmp_path) as child:
        # Only what was typed is on the screen until Tab: the completion draws the rest.
        child.send("import collec")
        child.send("\t")
        child.expect("tions")
        child.sendline("")
        child.expect(prompt("In", 2))
        child.send("collections.OrderedD")
        child.send("\t")
        child.expect("ict")
        child.sendline("")
        child.expect(prompt("Out", 2) + " " + ESC + "collections" + ESC + r"\.OrderedDict")
        child.expect(prompt("In", 3))
    text = screen(tmp_path)
    assert "In [1]: import collections\n" in text
    assert "In [2]: collections.OrderedDict\n" in text


def test_input_prompt_is_answered_from_the_console(tmp_path):
    with console(tmp_path) as child:
        child.sendline("name = input('Your name? ')")
        child.expect(r"Your name\? ")
        child.sendline("Ferris")
        child.expect(prompt("In", 2))
        child.sendline("print('Hello, ' + name.upper())")
        child.expect("Hello, FERRIS")
        child.expect(prompt("In", 3))
    assert "Your name? Ferris" in screen(tmp_path)


@pytest.mark.parametrize("command", ["exit", "quit"])
def test_exit_ends_the_console(tmp_path, command):
    child = spawn_console(tmp_path / "console.log")
    try:
        child.expect(prompt("In", 1), timeout=TIMEOUT)
        child.sendline(command)
        child.expect(pexpect.EOF, timeout=TIMEOUT)
        child.close()
        assert child.exitstatus == 0, (child.exitstatus, child.signalstatus)
    finally:
        child.close(force=True)
    assert "Shutting down kernel" in screen(tmp_path)
