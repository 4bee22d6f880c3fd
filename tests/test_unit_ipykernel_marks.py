"""pyo3_kernel.ipykernel_marks without a kernel process: where ipykernel's launcher is
looked for, and the stream class registration."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from types import ModuleType

import ipykernel
import pytest
from ipykernel.iostream import OutStream
from pyo3_kernel import ipykernel_marks


def _package_in(site: Path) -> ModuleType:
    (site / "ipykernel").mkdir()
    package = ModuleType("ipykernel")
    package.__file__ = str(site / "ipykernel" / "__init__.py")
    return package


def test_launcher_is_found_beside_the_package(tmp_path: Path) -> None:
    package = _package_in(tmp_path)
    (tmp_path / "ipykernel_launcher.py").write_text("")
    assert ipykernel_marks.launcher_path(package) == str(tmp_path / "ipykernel_launcher.py")


def test_no_launcher_file_no_path(tmp_path: Path) -> None:
    assert ipykernel_marks.launcher_path(_package_in(tmp_path)) is None
    assert ipykernel_marks.launcher_path(ModuleType("ipykernel")) is None


def test_the_installed_ipykernel_has_its_launcher() -> None:
    path = ipykernel_marks.launcher_path(ipykernel)
    assert path is not None and path.endswith("ipykernel_launcher.py")


def test_mark_argv_changes_only_argv0(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/bin/pyo3-kernel", "-f", "kernel.json"])
    ipykernel_marks.mark_argv()
    assert sys.argv[0] == ipykernel_marks.launcher_path(ipykernel)
    assert sys.argv[1:] == ["-f", "kernel.json"]


def test_a_registered_stream_class_is_an_outstream_in_name_only() -> None:
    class Stream(io.TextIOBase):
        pass

    ipykernel_marks.mark_stream_class(Stream)
    assert isinstance(Stream(), OutStream)
    assert OutStream not in Stream.__mro__  # nothing of ipykernel's runs in it
