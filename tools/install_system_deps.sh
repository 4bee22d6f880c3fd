#!/usr/bin/env bash
# System (Debian) packages the tests need, installed with apt only when missing:
#   chromium        headless browser for tests/test_jupyterlab.py (driven by pip's
#                   playwright, which uses this binary: no browser download)
#   python3-venv    venvs of Debian's python3 (the wheel installed into one, make matrix)
#   libpython3-dev  Debian's static libpython3.X-pic.a (the static host, make matrix),
#                   which brings libpython3.X (the shared one a wheel finds at run time)
#   openssh-server  an sshd the remote-kernel tests start on loopback with their own
#                   config and keys (tests/test_remote_ssh.py); the system's is untouched
#   shellcheck      lints the kernel image's entry script (tests/test_remote_kubernetes.py)
# Idempotent: when every binary is already on PATH it changes nothing. Installing needs
# root (as in CI) or sudo.
set -euo pipefail

# binary on PATH -> Debian package that provides it
declare -A PACKAGES=(
	[chromium]=chromium
	[shellcheck]=shellcheck
)

# Debian packages checked by name (they provide files, not a command)
DEB_PACKAGES=(python3-venv libpython3-dev openssh-server)

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for binary in "${!PACKAGES[@]}"; do
	command -v "$binary" >/dev/null 2>&1 || missing+=("${PACKAGES[$binary]}")
done
if command -v dpkg-query >/dev/null 2>&1; then
	for package in "${DEB_PACKAGES[@]}"; do
		installed "$package" || missing+=("$package")
	done
fi
if [ ${#missing[@]} -eq 0 ]; then
	echo "system deps: all present (${!PACKAGES[*]} ${DEB_PACKAGES[*]})"
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "system deps: missing ${missing[*]} and no apt-get here; install them by hand" >&2
	exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "system deps: installing ${missing[*]} needs root or sudo" >&2
		exit 1
	fi
	sudo=(sudo)
fi

echo "system deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
for binary in "${!PACKAGES[@]}"; do
	command -v "$binary" >/dev/null 2>&1 || {
		echo "system deps: $binary still missing after apt-get install" >&2
		exit 1
	}
done
