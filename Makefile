# Two commands a new user needs: `make run` (set up, create the SQLite database with demo data, serve)
# and `make test` (the whole suite). Everything installs into .venv from PyPI.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: setup run test lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("error: python: BaoDan needs Python 3.11 or newer (found %s)" % sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: setup
	$(BIN)/baodan init --demo
	$(BIN)/baodan serve

test: setup
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check src tests

bench: setup
	$(BIN)/baodan bench surge

clean:
	rm -rf $(VENV) data .pytest_cache
