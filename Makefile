# PortGuard: `make run` serves the demo, `make test` checks everything.
# Needs only Python 3.11 and make; everything else is installed from the Pipfile.

SHELL := /bin/bash
PYTHON ?= python3
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_NOSPIN := 1
export PIPENV_YES := 1
export PIPENV_VERBOSITY := -1
PIPENV := $(PYTHON) -m pipenv
RUN := $(PIPENV) run

# The production shape used by the second test pass (the services on this machine).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.PHONY: install run test lint check test-embedded test-production test-failover system-packages bench

.venv/.synced: Pipfile.lock
	@$(PYTHON) -m pipenv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --user --quiet pipenv \
		|| $(PYTHON) -m pip install --user --quiet --break-system-packages pipenv
	$(PIPENV) sync --dev
	@touch $@

install: .venv/.synced

DAPHNE := $(RUN) daphne -b 127.0.0.1 -p 8000 --websocket_timeout 43200 --websocket_connect_timeout 30 portguard.asgi:application

# The clock (states that change with time, vessels/clock.py): with Redis (REDIS_URL or
# REDIS_SENTINELS) it is its own process beside daphne, stopped when daphne exits; without,
# daphne runs it itself (the in-memory channel layer reaches only the sockets of its own
# process).
run: install
	$(RUN) python manage.py migrate --noinput
	$(RUN) python manage.py seed_demo
	$(RUN) python manage.py collectstatic --noinput --verbosity 0
	if [ -n "$$REDIS_URL$$REDIS_SENTINELS" ]; then \
		$(RUN) python manage.py clock & clock=$$!; \
		trap 'kill $$clock 2>/dev/null; wait $$clock' EXIT INT TERM; \
		$(DAPHNE); \
	else \
		$(DAPHNE); \
	fi

# Debian packages the tests drive for real: Chromium (through Playwright; never a browser
# download), redis-server (private instances for the multi-process and fault tests) and
# nginx (the tests run deploy/nginx/portguard.conf in front of a real daphne, on their own
# ports; where systemd runs, the package also starts its default site on port 80).
# make test-failover also runs sentinels (redis-server --sentinel) and PostgreSQL's server
# programs (initdb, pg_ctl, pg_basebackup: a private primary and standby).
system-packages:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	[ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		echo "Installing Debian packages:$$missing"; \
		($$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null) \
			|| echo "Could not install$$missing: the tests that need them will fail"; \
	fi

lint: install
	$(RUN) ruff format --check .
	$(RUN) ruff check .
	$(RUN) lint-imports

check: install
	$(RUN) python manage.py check --fail-level WARNING
	$(RUN) python manage.py makemigrations --check --dry-run

test-embedded: install system-packages
	$(RUN) pytest $(PYTEST_ARGS)

# Under CI=true PostgreSQL and Redis are required: unreachable services fail the run.
test-production: install system-packages
	@if $(RUN) python -m portguard.services_check "$(TEST_DATABASE_URL)" "$(TEST_REDIS_URL)"; then \
		echo "== Test pass on PostgreSQL + Redis"; \
		DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" SECRET_KEY=test-only \
			$(RUN) pytest $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL + Redis are required under CI and did not answer"; exit 1; \
	else \
		echo "== PostgreSQL + Redis not reachable: production-shape pass skipped (it is required under CI)"; \
	fi

test: lint check install system-packages
	@echo "== Two test passes at once: the embedded default (SQLite + in-memory layer) and PostgreSQL + Redis"
	@mkdir -p test-artifacts
	@($(MAKE) --no-print-directory test-embedded > test-artifacts/embedded.log 2>&1; echo $$? > test-artifacts/embedded.rc) & \
	($(MAKE) --no-print-directory test-production > test-artifacts/production.log 2>&1; echo $$? > test-artifacts/production.rc); \
	wait
	@echo "== Embedded default (SQLite + in-memory channel layer)"; cat test-artifacts/embedded.log
	@echo "== Production shape (PostgreSQL + Redis)"; cat test-artifacts/production.log
	@test "$$(cat test-artifacts/embedded.rc)" = 0 && test "$$(cat test-artifacts/production.rc)" = 0

# The failover tests (tests/failover, marked `failover`, left out of `make test`; CI runs
# them after it): a Redis master killed under Sentinel, a PostgreSQL hot standby promoted
# under writes. Each starts its own servers on free ports; on the production shape.
test-failover: install system-packages
	@if $(RUN) python -m portguard.services_check "$(TEST_DATABASE_URL)" "$(TEST_REDIS_URL)"; then \
		echo "== Failover tests on PostgreSQL + Redis"; \
		DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" SECRET_KEY=test-only \
			$(RUN) pytest -m failover $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL + Redis are required under CI and did not answer"; exit 1; \
	else \
		echo "== PostgreSQL + Redis not reachable: failover tests skipped (they are required under CI)"; \
	fi

# Benchmarks (not part of `make test`): each figure beside a floor measured in the same
# run, on the production shape (the machine's PostgreSQL + a private Redis).
bench: install system-packages
	$(RUN) python -m tests.bench.run "$(TEST_DATABASE_URL)"
