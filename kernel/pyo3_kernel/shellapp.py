"""IPython's application settings, applied as ipykernel's ``IPKernelApp`` applies them.

``KernelShellApp`` is IPython's own ``BaseIPythonApplication`` + ``InteractiveShellApp``,
so the kernel reads the same command line and files ipykernel does: ``--profile-dir``,
``--profile``, ``--ipython-dir``, ``--matplotlib``, ``--ext``, ``-c``, any
``--Class.trait=value``; the profile's ``ipython_config`` and ``ipython_kernel_config``
files; then, once the shell exists, the current directory on ``sys.path``, extensions,
the profile's startup files, ``exec_lines`` and ``exec_files``. Only ipykernel's own
connection options are not here (the kernel takes ``-f`` itself).
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from IPython.core.application import BaseIPythonApplication, base_aliases, base_flags
from IPython.core.profiledir import ProfileDir
from IPython.core.shellapp import InteractiveShellApp, shell_aliases, shell_flags
from traitlets import Dict

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell


class KernelShellApp(BaseIPythonApplication, InteractiveShellApp):
    """The profile, configuration and startup code of one kernel."""

    name = "ipython-kernel"  # reads ipython_kernel_config.py, as ipykernel does
    description = "Configuration of pyo3-kernel's IPython shell."
    aliases = Dict({**base_aliases, **shell_aliases})
    flags = Dict({**base_flags, **shell_flags})

    @classmethod
    def from_arguments(cls, arguments: list[str]) -> KernelShellApp:
        """Parse ``arguments`` and read the profile's configuration files."""
        from .shell import PyO3Shell

        app = cls(log=logging.getLogger("pyo3_kernel"))
        # (traitlets infers ``classes`` as a list of ProfileDir from IPython's default.)
        app.classes = [PyO3Shell, ProfileDir]  # type: ignore[list-item]
        app.initialize(arguments)
        return app

    def init_crash_handler(self) -> None:
        """Keep Python's ``sys.excepthook``: IPython's crash handler is for terminals."""

    def init_shell(self) -> None:
        """The kernel makes the shell (with this application as its parent)."""

    def start_shell(self, shell: InteractiveShell) -> None:
        """What ``IPKernelApp`` does once its shell exists, in its order."""
        self.shell = shell
        self.init_path()
        self.init_gui_pylab()
        self.init_extensions()
        self.init_code()
        sys.stdout.flush()
        sys.stderr.flush()
