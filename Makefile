# ISMIT — the two commands a new user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ISMIT  := $(BIN)/ismit
PORT   ?= 8000
NSW_PORT ?= 8100
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: demo test lint bench install serve clean messages

$(STAMP): pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## make demo: install, migrate, load reference data, seed demo users, then run the platform on
## http://127.0.0.1:$(PORT) with a worker and the reference single window (ismit nsw-sim) on $(NSW_PORT)
demo: install
	$(ISMIT) migrate --noinput
	$(ISMIT) collectstatic --noinput -v0
	$(ISMIT) refdata load
	$(ISMIT) compliance load-starter
	$(ISMIT) seed_demo
	$(ISMIT) seed_marketplace_demo
	$(ISMIT) seed_tracking_demo
	@mkdir -p var && (test -s var/nsw-secret || $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(32))" > var/nsw-secret)
	@for procedure in export:wco-xml fx:json vat:json; do \
	  SITE_URL=http://127.0.0.1:$(PORT) $(ISMIT) customs add-window --country CI --procedure $${procedure%%:*} \
	    --connector $${procedure##*:} --name "Guichet unique (simulateur)" --base-url http://127.0.0.1:$(NSW_PORT) \
	    --client-id ismit --secret "$$(cat var/nsw-secret)" | grep "callback URL" | head -1 | cut -d' ' -f3 > var/nsw-callback.$${procedure%%:*}; \
	done
	@echo "ISMIT is starting on http://127.0.0.1:$(PORT), with a worker and the single window simulator on :$(NSW_PORT) (Ctrl-C stops all)"
	@trap 'kill $$(jobs -p) 2>/dev/null' EXIT INT TERM; \
	$(ISMIT) nsw-sim --port $(NSW_PORT) --db var/nsw-sim.sqlite3 --secret "$$(cat var/nsw-secret)" \
	  --callback-url "$$(cat var/nsw-callback.export)" --delay 2 --no-access-log & \
	$(ISMIT) worker --beat --concurrency 2 --loglevel WARNING & \
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

## make bench: every benchmark on PostgreSQL (BENCH lines); see docs/benchmarks.md
bench: install
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python bench/run.py

## make messages: refresh the gettext catalogues and compile them
messages: install
	cd src/ismit && ../../$(ISMIT) makemessages -l fr --no-obsolete --no-location && ../../$(ISMIT) compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
