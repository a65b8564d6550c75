# opsverify: `make demo` shows it working, `make test` is what CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# The project's tests run on every core (pytest-xdist): `make test TEST_WORKERS=0` runs them in one process.
# --dist loadgroup keeps the tests of one `xdist_group` on one worker; --durations lists the 20 slowest.
TEST_WORKERS ?= auto
XDIST_ARGS ?= -n $(TEST_WORKERS) --dist loadgroup

.PHONY: help venv system-deps demo test lint typecheck unit report bench clean

help:
	@echo "make demo    run the embedded demo (daily tier against targets/demo.yaml)"
	@echo "make test    lint (ruff), types (mypy) and the project's own tests"
	@echo "make system-deps  install the Debian packages the tests run (prometheus, chromium, nodejs, npm, postgresql, openssh-server, docker.io, busybox-static, debootstrap)"
	@echo "make report  build the HTML Allure report from reports/allure-results"
	@echo "make bench   run the benchmarks in bench/ (slow; not part of make test)"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
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
  sshd:openssh-server ssh-keygen:openssh-client dockerd:docker.io busybox:busybox-static debootstrap:debootstrap

system-deps:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); echo "installing Debian packages:$$missing"; \
	  $$sudo apt-get -o DPkg::Lock::Timeout=300 update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
	    --no-install-recommends $$missing; fi

unit: venv system-deps
	$(BIN)/python -m pytest tests $(XDIST_ARGS) --durations=20 $(PYTEST_ARGS)

test: lint typecheck unit

demo: venv
	$(BIN)/python -m opsverify.cli demo

report: venv
	$(BIN)/opsverify report

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) reports/allure-results reports/allure-report reports/allure-report-single reports/junit.xml reports/summary.json
