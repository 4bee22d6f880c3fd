"""Our conftest for other projects' test suites (ipykernel's, nbclient's).

tools/peer_suites.py copies this file into the root of each unpacked sdist as
``conftest.py``, next to the project's own ``tests/conftest.py``, which keeps working.
Here it is named so that our own pytest run never imports it.

It does two things in the peer run:

- refuses to start when the ``python3`` kernelspec the suite will launch is not the
  kernel the runner asked for (PEER_KERNEL), so a wrong JUPYTER_PATH can never turn
  into a green run of ipykernel against itself;
- skips the tests listed in EXCLUDED when the kernel under test is pyo3, with the
  reason shown in pytest's ``-rs`` summary.
"""

from __future__ import annotations

import os

import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

# Peer tests skipped when the suites run against pyo3-kernel, by pytest node id (an id
# without "[...]" covers all its parameters) -> why. A peer test may be listed only when
#   - it reads one of ipykernel's private objects (a module, attribute or log line of
#     ipykernel itself rather than a message a frontend sees); the reason then names
#     our test that covers the same behaviour over the protocol, or
#   - it needs a feature that another open issue schedules; the reason names the issue.
# Anything else that fails is a bug of the kernel: fix it, do not list it.
EXCLUDED: dict[str, str] = {}

# Kernelspec names the suites start: ipykernel's tests use "python3"; nbclient's use
# "python", which jupyter_client maps to "python3" (the runner redirects both).
SPEC_NAMES = ("python3", "python")
PYO3_BINARY = "pyo3-kernel"
_STALE = pytest.StashKey[list[str]]()


def _kernel_under_test() -> str:
    kernel = os.environ.get("PEER_KERNEL", "")
    if kernel not in ("pyo3", "python3"):
        pytest.exit(
            f"PEER_KERNEL is {kernel!r}: run the peer suites with tools/peer_suites.py "
            "(make peer), which sets it to pyo3 or python3",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )
    return kernel


def _resolved_argv0(name: str) -> str | None:
    try:
        return KernelSpecManager().get_kernel_spec(name).argv[0]
    except NoSuchKernel:
        return None


def _wrong_spec(kernel: str, name: str, argv0: str | None) -> str | None:
    """Why kernelspec ``name`` does not launch ``kernel``, or None when it does."""
    is_pyo3 = argv0 is not None and os.path.basename(argv0) == PYO3_BINARY
    if kernel == "pyo3" and not is_pyo3:
        return f"kernelspec {name!r} runs {argv0!r}, not {PYO3_BINARY}"
    if kernel == "python3" and name == "python3" and is_pyo3:
        return f"kernelspec {name!r} runs {argv0!r}, not ipykernel"
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    kernel = _kernel_under_test()
    names = SPEC_NAMES if kernel == "pyo3" else SPEC_NAMES[:1]
    problems = [
        problem
        for name in names
        if (problem := _wrong_spec(kernel, name, _resolved_argv0(name))) is not None
    ]
    if problems:
        pytest.exit(
            f"peer suite would test the wrong kernel (PEER_KERNEL={kernel}): "
            + "; ".join(problems)
            + f". JUPYTER_PATH={os.environ.get('JUPYTER_PATH', '')!r}",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


def _exclusion(nodeid: str) -> str | None:
    return EXCLUDED.get(nodeid) or EXCLUDED.get(nodeid.split("[", 1)[0])


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("PEER_KERNEL") != "pyo3":
        return
    for item in items:
        reason = _exclusion(item.nodeid)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"excluded for pyo3-kernel: {reason}"))
    config.stash[_STALE] = _stale_entries(items)


def _stale_entries(items: list[pytest.Item]) -> list[str]:
    """EXCLUDED entries of a collected file that match none of its tests (renamed?)."""
    files = {item.nodeid.split("::", 1)[0] for item in items}
    ids = {item.nodeid for item in items} | {item.nodeid.split("[", 1)[0] for item in items}
    return [key for key in EXCLUDED if key.split("::", 1)[0] in files and key not in ids]


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    kernel = os.environ.get("PEER_KERNEL", "")
    terminalreporter.write_line(
        f"peer kernel: {kernel} (kernelspec python3 runs {_resolved_argv0('python3')})"
    )
    for key in config.stash.get(_STALE, []):
        terminalreporter.write_line(f"EXCLUDED entry matches no collected test: {key}")
