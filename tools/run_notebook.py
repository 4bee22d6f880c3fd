"""Execute a notebook headless with the pyo3 kernel and print what each cell produced.

Usage: python tools/run_notebook.py NOTEBOOK [--kernel NAME]
The notebook file is not modified: notebooks stay in git with clean outputs.
"""

from __future__ import annotations

import argparse
import sys

import nbformat
from nbclient import NotebookClient


def describe(output: dict) -> str:
    kind = output["output_type"]
    if kind == "stream":
        return output["text"].rstrip("\n")
    if kind == "error":
        return f"{output['ename']}: {output['evalue']}"
    data = output.get("data", {})
    shown = []
    for mime, value in data.items():
        if mime == "text/plain":
            shown.append(str(value))
        else:
            shown.append(f"[{mime}, {len(str(value))} characters]")
    return "\n".join(shown)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook")
    parser.add_argument("--kernel", default="pyo3")
    args = parser.parse_args()
    nb = nbformat.read(args.notebook, as_version=4)
    NotebookClient(nb, kernel_name=args.kernel, timeout=120).execute()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        print(f"In [{cell.execution_count}]: {cell.source}")
        for output in cell.outputs:
            print("   " + describe(output).replace("\n", "\n   "))
        print()
    print(f"{args.notebook}: all cells ran with the {args.kernel} kernel")
    return 0


if __name__ == "__main__":
    sys.exit(main())
