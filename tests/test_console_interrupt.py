"""`jupyter console`: Ctrl-C during time.sleep(30) prints KeyboardInterrupt and gives
the prompt back; the next input runs."""

from __future__ import annotations

import pexpect
from console_helpers import ESC, prompt, spawn_console


def test_ctrl_c_in_console_interrupts_sleep_and_prompt_returns(tmp_path):
    child = spawn_console(tmp_path / "console.log")
    try:
        child.expect(prompt("In", 1))
        child.sendline("import time; print('sle' + 'eping'); time.sleep(30)")
        child.expect("sleeping")
        child.sendcontrol("c")
        child.expect("KeyboardInterrupt", timeout=10)
        child.expect(prompt("In", 2), timeout=10)
        child.sendline("40 + 2")
        child.expect(prompt("Out", 2) + " " + ESC + "42")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
