"""kernel_info_reply describes this kernel and the Python it embeds."""

import ast

import pytest
from kernel_helpers import eval_text, wait_for_shell_reply


@pytest.fixture(scope="module")
def info(kernel):
    reply = wait_for_shell_reply(kernel, kernel.kernel_info(), timeout=30)
    assert reply["msg_type"] == "kernel_info_reply", reply["msg_type"]
    return reply["content"]


def test_kernel_info_status_ok(info):
    assert info["status"] == "ok", info


def test_kernel_info_protocol_version_is_5_3_or_later(info):
    version = info["protocol_version"]
    assert version.startswith("5."), version
    assert tuple(int(p) for p in version.split(".")[:2]) >= (5, 3), version


def test_kernel_info_implementation_is_ipython_and_banner_names_the_kernel(kernel, info):
    # As ipykernel: the implementation of the language spoken (IPython) at its version
    # (ipykernel's own message checks want >= 2.1); the banner says which kernel it is.
    running = eval_text(kernel, "import IPython; IPython.__version__")
    assert info["implementation"] == "ipython", info
    assert info["implementation_version"] == ast.literal_eval(running), info
    assert "pyo3-kernel" in info["banner"], info


def test_kernel_info_language_version_is_running_python_version(kernel, info):
    running = ast.literal_eval(eval_text(kernel, "import platform; platform.python_version()"))
    assert info["language_info"]["name"] == "python", info
    assert info["language_info"]["version"] == running, (info, running)


def test_kernel_info_language_metadata_for_notebook_frontends(info):
    lang = info["language_info"]
    assert lang["mimetype"] == "text/x-python", lang
    assert lang["file_extension"] == ".py", lang
    assert lang["pygments_lexer"] == "ipython3", lang
    assert lang["codemirror_mode"] == {"name": "ipython", "version": 3}, lang


def test_kernel_info_banner_nonempty(info):
    assert isinstance(info["banner"], str) and info["banner"].strip(), info
