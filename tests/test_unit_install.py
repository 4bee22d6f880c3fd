"""Unit tests (no kernel process) of ``pyo3_kernel.install``: writing and installing
the kernelspec.

``pyo3-kernel install`` and applications embedding the kernel both install through
``install_kernelspec``; what Jupyter launches is exactly its kernel.json, so its
fields are checked one by one, and read back through jupyter_client. Everything is
installed under temporary prefixes: the real ~/.local and .venv kernelspecs are never
touched.
"""

from __future__ import annotations

import json
import os
import pkgutil
from pathlib import Path

import pytest
import zmq
from jupyter_client.kernelspec import KernelSpecManager
from pyo3_kernel import DISPLAY_NAME, KERNEL_NAME, info, install

COMMAND = ["/opt/my app/bin/app", "--kernel"]


def installed(prefix: Path, name: str) -> Path:
    return prefix / "share" / "jupyter" / "kernels" / name


def read_spec(directory: Path | str) -> dict:
    return json.loads((Path(directory) / "kernel.json").read_text())


def expected_metadata() -> dict:
    metadata: dict = {"debugger": info.debugger_available()}
    if zmq.has("curve"):
        metadata["supported_encryption"] = ["curve"]
    return metadata


def test_install_writes_kernel_json_under_the_prefix(tmp_path):
    dest = install.install_kernelspec(
        "unit-test-kernel",
        "Unit Test Kernel",
        command=COMMAND,
        prefix=str(tmp_path),
        env={"A": "1", "PATH_EXTRA": "/x:/y"},
        interrupt_mode="message",
    )
    assert Path(dest) == installed(tmp_path, "unit-test-kernel")
    spec = read_spec(dest)
    assert spec == {
        "argv": [*COMMAND, "-f", "{connection_file}"],
        "display_name": "Unit Test Kernel",
        "language": "python",
        "interrupt_mode": "message",
        "env": {"A": "1", "PATH_EXTRA": "/x:/y"},
        "metadata": expected_metadata(),
    }


def test_install_defaults(tmp_path):
    dest = install.install_kernelspec("k", "K", command=["/bin/host"], prefix=str(tmp_path))
    spec = read_spec(dest)
    assert spec["interrupt_mode"] == "signal"
    assert spec["env"] == {}
    assert spec["argv"] == ["/bin/host", "-f", "{connection_file}"]


def test_installed_logos_are_the_package_templates(tmp_path):
    dest = Path(install.install_kernelspec("k", "K", command=["h"], prefix=str(tmp_path)))
    for logo in install.LOGOS:
        data = (dest / logo).read_bytes()
        assert data == pkgutil.get_data("pyo3_kernel", f"kernelspec/{logo}")
        assert data
    assert (dest / "logo-32x32.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert (dest / "logo-64x64.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert b"<svg" in (dest / "logo-svg.svg").read_bytes()
    assert sorted(p.name for p in dest.iterdir()) == sorted(["kernel.json", *install.LOGOS])


def test_jupyter_client_finds_the_installed_spec(tmp_path):
    install.install_kernelspec(
        "found-kernel", "Found", command=COMMAND, prefix=str(tmp_path), env={"X": "y"}
    )
    manager = KernelSpecManager(kernel_dirs=[str(tmp_path / "share" / "jupyter" / "kernels")])
    assert "found-kernel" in manager.find_kernel_specs()
    spec = manager.get_kernel_spec("found-kernel")
    assert spec.argv == [*COMMAND, "-f", "{connection_file}"]
    assert spec.display_name == "Found"
    assert spec.language == "python"
    assert spec.interrupt_mode == "signal"
    assert spec.env == {"X": "y"}
    assert spec.metadata == expected_metadata()


def test_reinstall_replaces_the_previous_spec(tmp_path):
    dest = Path(install.install_kernelspec("k", "Old", command=["old"], prefix=str(tmp_path)))
    (dest / "stale-file.txt").write_text("left over")
    again = install.install_kernelspec(
        "k", "New", command=["new"], prefix=str(tmp_path), interrupt_mode="message"
    )
    assert Path(again) == dest
    spec = read_spec(dest)
    assert spec["display_name"] == "New"
    assert spec["argv"][0] == "new"
    assert spec["interrupt_mode"] == "message"
    assert not (dest / "stale-file.txt").exists()


def test_write_spec_defaults_to_this_environments_host(tmp_path):
    install.write_spec(tmp_path, "D", {})
    spec = read_spec(tmp_path)
    host = install.host_path()
    assert spec["argv"] == [host, "-f", "{connection_file}"]
    assert os.path.isabs(host)
    assert os.path.isfile(host) and os.access(host, os.X_OK)


def test_write_spec_without_curve_support_claims_no_encryption(tmp_path, monkeypatch):
    monkeypatch.setattr(zmq, "has", lambda capability: False)
    install.write_spec(tmp_path, "D", {}, command=["h"])
    assert read_spec(tmp_path)["metadata"] == {"debugger": info.debugger_available()}


def test_template_says_how_the_host_is_placed():
    template = json.loads(pkgutil.get_data("pyo3_kernel", "kernelspec/kernel.json"))
    assert template["argv"] == ["{host}", "-f", "{connection_file}"]
    assert template["display_name"] == DISPLAY_NAME


# --- command line ---------------------------------------------------------------------


def test_parse_env_pairs():
    assert install.parse_env(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    assert install.parse_env([]) == {}


@pytest.mark.parametrize("pair", ["NOEQUALS", "=value", ""])
def test_parse_env_rejects_malformed_pairs(pair):
    with pytest.raises(SystemExit, match="--env expects KEY=VALUE"):
        install.parse_env([pair])


def test_main_installs_with_every_option(tmp_path, capsys):
    code = install.main(
        [
            "--prefix",
            str(tmp_path),
            "--name",
            "cli-kernel",
            "--display-name",
            "CLI Kernel",
            "--env",
            "A=1",
            "--env",
            "B=2",
            "--interrupt-mode",
            "message",
        ]
    )
    assert code == 0
    dest = installed(tmp_path, "cli-kernel")
    assert f"Installed kernelspec cli-kernel in {dest}" in capsys.readouterr().out
    spec = read_spec(dest)
    assert spec["display_name"] == "CLI Kernel"
    assert spec["env"] == {"A": "1", "B": "2"}
    assert spec["interrupt_mode"] == "message"
    assert spec["argv"] == [install.host_path(), "-f", "{connection_file}"]


def test_main_defaults_to_the_pyo3_name(tmp_path, capsys):
    assert install.main(["--prefix", str(tmp_path)]) == 0
    spec = read_spec(installed(tmp_path, KERNEL_NAME))
    assert spec["display_name"] == DISPLAY_NAME
    assert spec["interrupt_mode"] == "signal"


@pytest.mark.parametrize(
    "argv",
    [
        ["--user", "--prefix", "/tmp/x"],
        ["--sys-prefix", "--user"],
        ["--interrupt-mode", "never"],
        ["--env", "A=1", "--bogus"],
    ],
)
def test_main_rejects_bad_arguments_before_installing(argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        install.main([*argv, "--name", "never-installed"])
    assert exit_info.value.code == 2
    assert "usage: pyo3-kernel install" in capsys.readouterr().err


def test_main_with_a_bad_env_pair_installs_nothing(tmp_path):
    with pytest.raises(SystemExit, match="--env expects KEY=VALUE"):
        install.main(["--prefix", str(tmp_path), "--env", "oops"])
    assert not (tmp_path / "share").exists()


def test_a_kernelspec_for_gateway_provisioners_ssh_hosts(tmp_path: Path) -> None:
    remote = install.remote_launch(["h1", "h2"], "10.0.0.5")
    dest = install.install_kernelspec(
        "k", "K", command=["/opt/pyo3-kernel"], prefix=str(tmp_path), remote=remote
    )
    spec = read_spec(dest)
    assert spec["argv"] == [
        "/opt/pyo3-kernel",
        *install.LAUNCH_ARGUMENTS,
        "--ip",
        "10.0.0.5",
    ]
    assert spec["metadata"]["kernel_provisioner"] == {
        "provisioner_name": "distributed-provisioner",
        "config": {"remote_hosts": ["h1", "h2"]},
    }
    assert "{transport_encryption}" in spec["argv"]


def test_a_kernelspec_for_enterprise_gateway_ssh_hosts(tmp_path: Path) -> None:
    remote = install.remote_launch(["h1", "h2"], process_proxy=True)
    dest = install.install_kernelspec(
        "k", "K", command=["/opt/pyo3-kernel"], prefix=str(tmp_path), remote=remote
    )
    spec = read_spec(dest)
    assert spec["metadata"]["process_proxy"]["config"] == {"remote_hosts": "h1,h2"}
    assert "kernel_provisioner" not in spec["metadata"]
    # Enterprise Gateway 3 substitutes no {transport_encryption} and passes no keys.
    assert "{transport_encryption}" not in spec["argv"]
    assert "supported_encryption" not in spec["metadata"]
