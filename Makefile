# opsverify: `make demo` shows it working, `make test` is what CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# The project's tests run on every core (pytest-xdist; one more worker than the cores cost more CPU than it
# saved, docs/testing.md): `make test TEST_WORKERS=0` runs them in one process. --dist loadgroup keeps the tests
# of one `xdist_group` on one worker; --durations lists the 20 slowest.
TEST_WORKERS ?= auto
XDIST_ARGS ?= -n $(TEST_WORKERS) --dist loadgroup
TEST_PATHS ?= tests

.PHONY: help venv system-deps demo test lint typecheck unit report bench mutation stress clean

help:
	@echo "make demo    run the embedded demo (daily tier against targets/demo.yaml)"
	@echo "make test    lint (ruff), types (mypy) and the project's own tests"
	@echo "make system-deps  install the Debian packages the tests run: $(SYSTEM_PACKAGES)"
	@echo "make report  build the HTML Allure report from reports/allure-results"
	@echo "make bench   run the benchmarks in bench/ (slow; not part of make test)"
	@echo "make stress  the timing-sensitive tests 5 times in a row with every core busy (slow)"
	@echo "make mutation  mutmut over the verdicts, the comparator, the backup readers, the notification policy (slow)"

# The venv keeps pip for developers; the project and its dev tools are installed by uv (from PyPI, into the
# venv: pip brings uv itself, nothing global is assumed), which resolves the same versions in a fraction of
# pip's time. uv reads UV_* variables and uv.toml, not pip's configuration (UV_DEFAULT_INDEX for a mirror).
# --compile-bytecode writes the installed packages' .pyc as pip does by default: an environment that sets
# PYTHONDONTWRITEBYTECODE (as CI machines often do) would otherwise leave every Python process the tests start
# (several hundred `pytest`/`opsverify` runs) compiling pytest, pydantic, ... from source (~0.5-1 s of CPU each).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv>=0.5"
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode --upgrade-package pip pip -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

# Debian packages the tests run, as binary:package pairs; installed only when the binary is missing (a fresh
# CI machine has only what the project installs). Tests never skip for lack of them: they fail.
SYSTEM_TOOLS ?= prometheus:prometheus chromium:chromium node:nodejs npm:npm pg_restore:postgresql-client pg_ctlcluster:postgresql sqlite3:sqlite3 \
  mariadb-dump:mariadb-client mariadb-install-db:mariadb-server \
  sshd:openssh-server ssh-keygen:openssh-client dockerd:docker.io busybox:busybox-static debootstrap:debootstrap \
  restic:restic borg:borgbackup pgbackrest:pgbackrest

SYSTEM_PACKAGES = $(foreach pair,$(SYSTEM_TOOLS),$(lastword $(subst :, ,$(pair))))

system-deps:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); echo "installing Debian packages:$$missing"; \
	  $$sudo apt-get -o DPkg::Lock::Timeout=300 update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
	    --no-install-recommends $$missing; fi

# opsverify's own modules (an editable install: imported from this tree) are compiled first, for the same reason.
unit: venv system-deps
	$(BIN)/python -m compileall -q -j0 -x 'scaffold/files' opsverify >/dev/null
	$(BIN)/python -m pytest $(TEST_PATHS) $(XDIST_ARGS) --durations=20 $(PYTEST_ARGS)

# ruff and mypy run beside the tests (niced, so they take CPU the tests leave while waiting on servers), their
# output kept in a file and printed after the tests'; `make test` fails when any of the three fails.
test: venv system-deps
	@static=$$(mktemp); trap 'rm -f "$$static"' EXIT; \
	nice -n 10 $(MAKE) -k --no-print-directory lint typecheck >"$$static" 2>&1 & checks=$$!; \
	$(MAKE) --no-print-directory unit; tests=$$?; \
	wait $$checks; lint=$$?; \
	echo "--- lint (ruff) and types (mypy), run beside the tests: $$([ $$lint = 0 ] && echo passed || echo FAILED) ---"; \
	cat "$$static"; \
	[ $$tests = 0 ] && [ $$lint = 0 ]

demo: venv
	$(BIN)/python -m opsverify.cli demo

report: venv
	$(BIN)/opsverify report

bench: venv
	$(BIN)/python -m bench

# The timing-sensitive tests, 5 runs in a row with every core kept busy (docs/testing.md): they hold no time
# budget, only timeouts with a generous margin, so a loaded machine must not fail them.
STRESS_TESTS ?= tests/report/test_durations.py tests/pytest_plugin/test_concurrency.py tests/pytest_plugin/test_pool.py \
  tests/kinds/http/test_pacing.py tests/kinds/http/test_probe_requests.py tests/kinds/prometheus/test_probe.py \
  tests/backups/test_files.py tests/notify/test_python_hooks.py tests/connect/test_ssh.py tests/connect/test_docker.py \
  tests/scheduler/test_daemon.py tests/ci/test_deploy_gate.py tests/notify/test_delivery.py
STRESS_ARGS ?=

stress: venv
	$(BIN)/python -m tests.tools.stress --runs 5 -- $(BIN)/python -m pytest $(STRESS_TESTS) -q -p no:cacheprovider $(STRESS_ARGS)

# Mutation testing (docs/testing.md): one module at a time, one child process; about an hour on two cores.
mutation: venv
	$(BIN)/python -m tests.tools.mutation

clean:
	rm -rf mutants $(VENV) reports/allure-results reports/allure-report reports/allure-report-single reports/junit.xml reports/summary.json
