# Gatehouse: the two commands that matter are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/gatehouse
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test lint fmt check worker beat bench

$(BIN)/.installed: pyproject.toml client/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ./client -e ".[dev]"
	touch $@

install: $(BIN)/.installed

# Set up, migrate, seed the demo and serve on http://127.0.0.1:8000 (embedded
# SQLite and eager tasks unless DATABASE_URL / REDIS_URL are set).
demo: install
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The whole test suite on PostgreSQL and Redis.
test: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
	REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	DEBUG=0 SECRET_KEY=test-only-secret-key-$$$$-not-used-anywhere-else-0123456789abcdef \
	SECURE_SSL_REDIRECT=0 STATIC_MANIFEST=0 \
	$(BIN)/pytest -n $${PYTEST_WORKERS:-2} $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: install
	$(BIN)/celery -A portal worker --loglevel=INFO

beat: install
	$(BIN)/celery -A portal beat --loglevel=INFO

bench: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} DEBUG=1 \
	$(BIN)/python tests/bench/bench_audit.py
