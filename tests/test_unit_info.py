"""Unit tests (no kernel process) of ``pyo3_kernel.info``: the ``kernel_info_reply``
content.

Frontends pick the language mode, the lexer, the protocol features and the help
menu from this reply; the kernel reports itself as an IPython kernel, like
ipykernel, so its fields are checked against ipykernel's own and against the
versions actually installed.
"""

from __future__ import annotations

import json
import platform

import IPython
from ipykernel.ipkernel import IPythonKernel
from pyo3_kernel import __version__, info


def test_kernel_info_has_the_reply_fields():
    reply = info.kernel_info()
    assert reply["status"] == "ok"
    assert reply["protocol_version"] == info.PROTOCOL_VERSION == "5.5"
    assert reply["implementation"] == IPythonKernel.implementation == "ipython"
    assert reply["implementation_version"] == IPython.__version__
    assert reply["debugger"] is info.debugger_available()
    assert "kernel subshells" in reply["supported_features"]
    assert ("debugger" in reply["supported_features"]) is info.debugger_available()
    assert json.loads(json.dumps(reply)) == reply  # plain JSON


def test_language_info_is_ipykernels():
    language_info = info.kernel_info()["language_info"]
    assert language_info == IPythonKernel.language_info
    assert language_info["version"] == platform.python_version()


def test_banner_names_python_ipython_and_this_kernel():
    banner = info.kernel_info()["banner"]
    assert f"Python {platform.python_version()}" in banner
    assert f"pyo3-kernel {__version__}" in banner
    assert f"IPython {IPython.__version__}" in banner
    assert banner.endswith("\n")


def test_help_links_are_valid_links():
    links = info.kernel_info()["help_links"]
    assert links
    for link in links:
        assert set(link) == {"text", "url"}
        assert link["url"].startswith("https://")


def test_each_call_returns_a_fresh_dict():
    first = info.kernel_info()
    first["language_info"]["name"] = "changed"
    assert info.kernel_info()["language_info"]["name"] == "python"


def test_debugger_is_advertised_exactly_when_asked():
    with_debugger, without = info.kernel_info(debugger=True), info.kernel_info(debugger=False)
    assert with_debugger["debugger"] is True and "debugger" in with_debugger["supported_features"]
    assert without["debugger"] is False and "debugger" not in without["supported_features"]
