"""Fixtures that start real kernels through jupyter_client.

The kernelspec under test is ``pyo3`` (installed into the venv by
``make test``); set ``PYO3_TEST_KERNEL=python3`` to run the suite against
ipykernel instead.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Kernels started by the tests keep their IPython history in a private directory, not
# in the developer's ~/.ipython (fuzzed cells with huge literals would bloat it).
os.environ["IPYTHONDIR"] = tempfile.mkdtemp(prefix="pyo3-kernel-tests-ipython-")
atexit.register(shutil.rmtree, os.environ["IPYTHONDIR"], ignore_errors=True)

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # make `import kernel_helpers` work in any import mode
    sys.path.insert(0, _HERE)

from fidelity_helpers import KERNELS, RunningKernel, running_kernel  # noqa: E402
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel  # noqa: E402
from kernel_helpers import kernel_name, start_kernel, stop_kernel  # noqa: E402


@pytest.fixture(autouse=True)
def _kernel_tests_need_the_kernelspec(request: pytest.FixtureRequest) -> None:
    """Every test but the unit tests (test_unit_*.py: no kernel process) needs it."""
    if not request.module.__name__.rpartition(".")[2].startswith("test_unit_"):
        request.getfixturevalue("kernelspec_installed")


@pytest.fixture(scope="session")
def kernelspec_installed() -> str:
    """Fail every test (not skip) when the kernelspec under test is missing."""
    name = kernel_name()
    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        pytest.fail(f"run make test (kernelspec {name} not installed)", pytrace=False)
    return name


@pytest.fixture(scope="module")
def kernel(kernelspec_installed):
    """Client of a kernel shared by the tests of one module."""
    km, kc = start_kernel(kernelspec_installed)
    yield kc
    stop_kernel(km, kc)


@pytest.fixture
def fresh_kernel(kernelspec_installed):
    """Client of a kernel started for this test only."""
    km, kc = start_kernel(kernelspec_installed)
    yield kc
    stop_kernel(km, kc)


# Fixtures of the tests that run on both pyo3 and ipykernel (test_fidelity_*.py and
# others): ipykernel is the reference, so a test failing there is a wrong test.
@pytest.fixture(scope="module", params=KERNELS)
def shared(request: pytest.FixtureRequest) -> Iterator[RunningKernel]:
    """A kernel of each kind, shared by the tests of a module."""
    with running_kernel(request.param) as k:
        yield k


@pytest.fixture(scope="module", params=KERNELS)
def nb(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningKernel]:
    """A kernel of each kind shared by a module, started in its own empty directory (a
    notebook's)."""
    with running_kernel(request.param, cwd=tmp_path_factory.mktemp(request.param)) as k:
        yield k


@pytest.fixture(params=KERNELS)
def fresh(request: pytest.FixtureRequest) -> Iterator[RunningKernel]:
    """A kernel of each kind, started for one test."""
    with running_kernel(request.param) as k:
        yield k
