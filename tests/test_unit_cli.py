"""Unit tests (no kernel process) of ``pyo3_kernel.cli``: the kernelspec's
``-f FILE`` arguments are read without argparse, with argparse's result."""

from __future__ import annotations

import pytest
from pyo3_kernel import cli


@pytest.mark.parametrize(
    "argv",
    [
        ["-f", "/run/kernel-1.json"],
        ["-f", "k.json", "--matplotlib=inline"],
        ["-f", "k.json", "--IPKernelApp.x=1", "--profile-dir", "/p"],
    ],
)
def test_kernelspec_arguments_are_read_as_argparse_reads_them(argv: list[str]) -> None:
    fast = cli._kernelspec_arguments(argv)
    assert fast == (argv[1], argv[2:])


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--version"],
        ["-fk.json"],
        ["k.json"],
        ["-f", "--version"],
        ["-f", "k.json", "--conn", "other.json"],  # argparse's abbreviation of ours
        ["-f", "k.json", "-h"],
        ["-f", "k.json", "-f", "other.json"],
    ],
)
def test_anything_else_goes_to_argparse(argv: list[str]) -> None:
    assert cli._kernelspec_arguments(argv) is None
