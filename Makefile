# ISMIT — the two commands a new user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ISMIT  := $(BIN)/ismit
PORT   ?= 8000
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: demo test lint bench install serve clean messages

$(STAMP): pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## make demo: install, migrate, load reference data, seed demo users, serve on http://127.0.0.1:$(PORT)
demo: install
	$(ISMIT) migrate --noinput
	$(ISMIT) collectstatic --noinput -v0
	$(ISMIT) refdata load
	$(ISMIT) seed_demo
	@echo "ISMIT is starting on http://127.0.0.1:$(PORT) (Ctrl-C to stop)"
	PORT=$(PORT) $(ISMIT) serve

## make lint: ruff, import layers, Django checks, migrations up to date
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(ISMIT) check
	$(ISMIT) makemigrations --check --dry-run

## make test: lint, then the whole suite (SQLite by default; PostgreSQL when DATABASE_URL is set)
test: lint
	$(BIN)/pytest

## make bench: API throughput on PostgreSQL (BENCH lines); see docs/benchmarks.md
bench: install
	$(BIN)/python bench/run.py

## make messages: refresh the gettext catalogues and compile them
messages: install
	cd src/ismit && ../../$(ISMIT) makemessages -l fr --no-obsolete --no-location && ../../$(ISMIT) compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
