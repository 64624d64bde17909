# Two commands a new user needs: `make run` (set up, create the SQLite database with demo data, serve)
# and `make test` (the whole suite). Python packages install into .venv from PyPI; the web console's
# into frontend/node_modules from npm (exact versions of frontend/package-lock.json), built into frontend/dist.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
NPM    ?= npm
WEB    := frontend
# Rebuild the console when any of its sources change (the stamps live in node_modules, never served).
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public $(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json \
                 -type f 2>/dev/null)

.PHONY: setup run test lint bench clean node-check

setup: $(VENV)/.installed $(WEB)/node_modules/.built

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("error: python: BaoDan needs Python 3.11 or newer (found %s)" % sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node-check:
	@command -v node >/dev/null && command -v $(NPM) >/dev/null || { echo "error: node: the web console needs Node.js 20.19+ and npm (not found; Debian: apt-get install nodejs npm)" >&2; exit 1; }
	@node -e 'const [a, b] = process.versions.node.split(".").map(Number); if (a < 20 || (a === 20 && b < 19)) { console.error("error: node: the web console needs Node.js 20.19 or newer (found " + process.versions.node + ")"); process.exit(1) }'

$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json | node-check
	cd $(WEB) && $(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB)/node_modules/.built: $(WEB)/node_modules/.installed $(WEB_SOURCES) | node-check
	cd $(WEB) && $(NPM) run build --silent
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
	rm -rf $(VENV) data .pytest_cache $(WEB)/node_modules $(WEB)/dist
