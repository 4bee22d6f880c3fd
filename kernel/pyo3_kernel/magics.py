"""Kernel magics that need to know this kernel (ipykernel's ask its application)."""

from __future__ import annotations

import json
from pathlib import Path

from IPython.core.magic import Magics, line_magic, magics_class


@magics_class
class KernelInfoMagics(Magics):
    @line_magic
    def connect_info(self, arg_s: str) -> None:
        """Print how to connect another client (e.g. ``jupyter console``) to this kernel."""
        kernel = getattr(self.shell, "kernel", None)
        path = getattr(kernel, "connection_file", None)
        if not path or not Path(path).is_file():
            print("This kernel's connection file is not known.")
            return
        info = json.loads(Path(path).read_text())
        print(json.dumps(info, indent=2) + "\n")
        print(
            "Paste the above JSON into a file, and connect with:\n"
            "    $> jupyter <app> --existing <file>\n"
            "or, if you are local, you can connect with just:\n"
            f"    $> jupyter <app> --existing {path}"
        )
